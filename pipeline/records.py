"""The records that pass between the stages: frozen dataclasses with units in their names.

Frames and units are those of ``CONVENTIONS.md``: pixels of the EXIF-rotated photo, the OpenCV camera frame, and
the glTF world (+Y up, metres, floor at y = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import frames


@dataclass(frozen=True)
class Photo:
    """The input photo after EXIF rotation.

    rgb : (H, W, 3) uint8   pixels, rows top to bottom
    focal_35mm_mm           EXIF ``FocalLengthIn35mmFilm`` (mm, 35 mm-equivalent), None when absent or nonsense
    focal_mm                EXIF ``FocalLength`` (mm, of the real lens), None when absent
    focal_px_from_sensor    ``FocalLength`` in pixels of this photo through the EXIF sensor resolution, or None
    sha256                  hex digest of the file's bytes (read once, with the pixels), None for a photo made in memory
    notes                   what reading it changed or guessed (a file cut short, 16-bit greyscale scaled to 8 bits)
    """

    path: Path
    rgb: np.ndarray = field(repr=False)
    focal_35mm_mm: float | None = None
    focal_mm: float | None = None
    focal_px_from_sensor: float | None = None
    camera_model: str | None = None
    exif_orientation: int = 1
    sha256: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def width_px(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.rgb.shape[0])


@dataclass(frozen=True)
class Detection:
    """One object the grounding named, in photo pixels.

    box_xyxy_px : (4,) float   x1, y1, x2, y2 in photo pixels (x1 < x2, y1 < y2), clipped to the photo
    detection_index            position of the entry in the grounding list as given (kept through filtering)
    confidence                 the model's score if it gave one, else None
    box_3d_cam                 the model's 3D box (Qwen3-VL ``bbox_3d``) when it gave one, else None:
                               ``(center (3), size (3), rotation (9, row-major))`` in the OpenCV camera frame,
                               metres, **of the model's virtual camera** (``frames.camera_box_from_qwen3_bbox3d``;
                               rotation columns = the box's own axes; sizes clipped to 20 m). Re-seat it for the
                               photo's camera with ``frames.camera_box_for_intrinsics``.
    box_xyxy_source            ``bbox_2d``: the model's 2D box; ``bbox_3d_virtual_camera``: the rectangle around
                               ``box_3d_cam`` projected with ``frames.qwen3_virtual_intrinsics`` (the cookbook's
                               60-degree camera), to be re-projected with the real camera by the solver
    """

    label: str
    box_xyxy_px: tuple[float, float, float, float]
    detection_index: int
    confidence: float | None = None
    box_3d_cam: tuple | None = None
    box_xyxy_source: str = "bbox_2d"

    @property
    def box_3d_cam_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """``(center (3,), size (3,), rotation (3, 3))`` float arrays of :attr:`box_3d_cam`, or None."""
        if self.box_3d_cam is None:
            return None
        center, size, rotation = self.box_3d_cam
        return (np.array(center, dtype=float), np.array(size, dtype=float),
                np.array(rotation, dtype=float).reshape(3, 3))


@dataclass(frozen=True)
class Grounding:
    """Parsed grounding: usable detections, the coordinate format used and why, and what was dropped.

    layout : a free-form room-layout answer (the JSON object with ``layout`` / ``room_type``, as the model gave
             it, without its list of boxes) when the answer holds one, else None (``pipeline/layout.py``)
    """

    detections: tuple[Detection, ...]
    format: str
    format_reason: str
    source: str | None = None
    warnings: tuple[str, ...] = ()
    entries_total: int = 0
    layout: dict | None = None


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of the photo, in pixels (CONVENTIONS.md: principal point at the centre by default)."""

    fx_px: float
    fy_px: float
    cx_px: float
    cy_px: float
    width_px: int
    height_px: int

    @property
    def k_matrix(self) -> np.ndarray:
        """(3, 3) float K."""
        return frames.intrinsics_matrix(self.fx_px, self.fy_px, self.cx_px, self.cy_px)

    @property
    def vertical_fov_rad(self) -> float:
        return 2.0 * math.atan(0.5 * self.height_px / self.fy_px)

    @property
    def horizontal_fov_rad(self) -> float:
        return 2.0 * math.atan(0.5 * self.width_px / self.fx_px)

    @classmethod
    def from_focal(cls, focal_px: float, width_px: int, height_px: int) -> "Intrinsics":
        """Square pixels, principal point at the image centre."""
        return cls(focal_px, focal_px, 0.5 * width_px, 0.5 * height_px, int(width_px), int(height_px))


@dataclass(frozen=True)
class CameraEstimate:
    """Where the photo was taken from: intrinsics and ``world_from_camera`` (OpenCV camera -> glTF world).

    intrinsics_source : ``user`` | ``exif`` | ``exif_sensor`` | ``vanishing_points`` | ``vanishing_points+default``
                        (a weak line focal pulled towards the default) | ``vanishing_points_weak`` (no fit pins
                        the focal down; their posterior average) | ``depth_model`` (Depth Pro's field of view) |
                        ``default``; any of the last five with ``+depth_planes`` where a measured depth map's planes
                        meet at right angles with another focal, combined with it by their spreads
    height_source     : ``user`` | ``prior`` (hand-held 1.4 m) | ``prior+object_sizes`` | ``depth_floor+object_sizes``
                        (the solver's scale estimate, :func:`solve.boxes.refine_camera_height`)
    world_from_camera : (4, 4) float, rigid
    room_yaw_rad      : heading of the room's walls about +Y in the world frame, wrapped to [-pi/4, pi/4)
    lines             : the vanishing-point estimate (``vanishing.ManhattanEstimate``) when one was used
    attitude_source   : ``user`` | ``vanishing_points`` | ``objects`` (the boxes' floor contacts and heights) |
                        ``depth`` (a metric map's floor or walls) | ``vanishing_points+depth``, ``objects+depth``
                        (combined by their spreads) | ``assumed_level``
    attitude_sigma_deg: 1-sigma gravity uncertainty in degrees (0 for the user's, None when assumed level)
    warnings          : what the camera guessed, one line each with what would fix it (terminal, scene.json, page)
    """

    intrinsics: Intrinsics
    intrinsics_source: str
    world_from_camera: np.ndarray = field(repr=False)
    pitch_rad: float
    roll_rad: float
    height_m: float
    attitude_source: str
    height_source: str
    notes: tuple[str, ...] = ()
    intrinsics_confidence: float = 1.0
    attitude_confidence: float = 1.0
    room_yaw_rad: float = 0.0
    room_yaw_source: str = "assumed_facing_camera"
    lines: object | None = field(default=None, repr=False)
    attitude_sigma_deg: float | None = None
    warnings: tuple[str, ...] = ()


#: Kinds of :class:`DepthMap` values.
DEPTH_KINDS = ("metric_depth", "relative_depth", "relative_disparity")


@dataclass(frozen=True)
class DepthMap:
    """A per-pixel depth estimate aligned with the photo (same size, EXIF-rotated).

    values : (H, W) float32   per ``kind``:
                              ``metric_depth``: metres along the camera's optical axis (OpenCV z), not along the ray;
                              ``relative_depth``: proportional to depth up to an unknown scale and shift
                              (``z = a * v + b``);
                              ``relative_disparity``: affine-invariant inverse depth (``1 / z = a * v + b``), what
                              Depth Anything V2's relative models give.
    valid  : (H, W) bool      pixels with a usable value (sky, holes, zeros and non-finite values are False)
    kind                      one of :data:`DEPTH_KINDS`: the solver never guesses it
    source                    where it came from: ``file:PATH`` or ``hf:MODEL``
    focal_px                  the depth model's own focal estimate in pixels of the photo (Depth Pro's field of
                              view), a focal candidate for the camera stage; None when it gave none
    """

    values: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)
    kind: str
    source: str
    focal_px: float | None = None

    def __post_init__(self):
        if self.kind not in DEPTH_KINDS:
            raise ValueError(f"depth kind {self.kind!r} is not one of {DEPTH_KINDS}")
        if self.values.shape != self.valid.shape or self.values.ndim != 2:
            raise ValueError(f"depth values {self.values.shape} and mask {self.valid.shape} must be one (H, W)")

    @property
    def width_px(self) -> int:
        return int(self.values.shape[1])

    @property
    def height_px(self) -> int:
        return int(self.values.shape[0])


@dataclass(frozen=True)
class DepthScale:
    """Which metric scale a (metric) depth map's values follow, for the solver's shared scale.

    camera_height_m   the camera height above the floor that the map implies (the floor it shows, or the height a
                      relative map was aligned with): the map's values scale with the scene's camera height
    spread            relative std dev of that height as a measurement (a depth sensor ~0.02, a metric depth
                      model ~0.1), or None when the map says nothing about scale (a relative map aligned to the
                      camera's prior height)
    source            what measured it, for scene.json
    """

    camera_height_m: float
    spread: float | None
    source: str


@dataclass(frozen=True)
class PointCloud:
    """Coloured points in the world frame (CONVENTIONS.md), e.g. a depth map unprojected through the camera.

    positions_m : (N, 3) float32   world metres (+Y up, floor y = 0)
    colors_rgb  : (N, 3) uint8     colour of each point (from the photo)
    source                         what made it (``depth:file:PATH``, ``depth:hf:MODEL``)
    """

    positions_m: np.ndarray = field(repr=False)
    colors_rgb: np.ndarray = field(repr=False)
    source: str

    @property
    def count(self) -> int:
        return int(self.positions_m.shape[0])


@dataclass(frozen=True)
class ObjectBox:
    """One solved object: an upright oriented box in the world frame (CONVENTIONS.md).

    center_m : (3,) float   box centre, world metres
    size_m   : (3,) float   full extents along the box's own x (width), y (height), z (depth)
    yaw_rad                 rotation about +Y; the box's own +z is the object's front
    """

    label: str
    category: str
    detection_index: int
    center_m: tuple[float, float, float]
    size_m: tuple[float, float, float]
    yaw_rad: float
    confidence: float | None = None
    size_source: str = "prior"
    notes: tuple[str, ...] = ()

    @property
    def corners_m(self) -> np.ndarray:
        """(8, 3) float world corners in the order of CONVENTIONS.md."""
        return frames.box_corners(self.center_m, self.size_m, self.yaw_rad)


@dataclass(frozen=True)
class Wall:
    """A wall quad: (4, 3) world corners, bottom-left, bottom-right, top-right, top-left as seen from inside.

    source : how it was placed: ``depth`` (a metric depth map shows it), ``layout`` (a room-layout answer) or
             ``inferred`` (just beyond the objects and the floor in view: a guess)
    """

    name: str
    corners_m: tuple[tuple[float, float, float], ...]
    source: str = "inferred"

    @property
    def plane(self) -> np.ndarray:
        """(4,) ``[nx, ny, nz, d]`` with ``n . p + d = 0`` on the wall and ``n`` the unit normal pointing into
        the room (the right-hand normal of the corners' order, CONVENTIONS.md)."""
        corners = np.asarray(self.corners_m, dtype=float)
        normal = np.cross(corners[1] - corners[0], corners[3] - corners[0])
        normal /= np.linalg.norm(normal)
        return np.array([*normal, -normal @ corners[0]])


@dataclass(frozen=True)
class RoomShell:
    """The room: floor polygon on y = 0, ceiling height and wall quads.

    floor_polygon_m : (N, 2) float   (x, z) floor corners, counter-clockwise seen from above
    ceiling_source  : how the ceiling height was found: ``depth`` (measured), ``layout`` (a room-layout answer),
                      ``prior`` (a typical height) or ``objects`` (raised above the tallest object)
    """

    floor_polygon_m: tuple[tuple[float, float], ...]
    ceiling_height_m: float | None
    walls: tuple[Wall, ...]
    source: str
    ceiling_source: str = "prior"


@dataclass(frozen=True)
class Scene:
    """Everything the solver produced; what the exporters write."""

    camera: CameraEstimate
    room: RoomShell
    objects: tuple[ObjectBox, ...]
    warnings: tuple[str, ...] = ()
    layout: dict | None = None
    """What a room-layout answer said of the room (``pipeline/layout.py``): room type, size, the camera's compass
    heading, which compass wall is which solved wall, which layout entries matched detections; None without one."""
