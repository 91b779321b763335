"""Every coordinate conversion of room3d, as named pairs of inverse functions.

The frames themselves are defined in ``CONVENTIONS.md``; in short:

* image: ``(u, v)`` pixels, u right, v down, origin at the top-left corner of the photo after EXIF rotation;
* camera: OpenCV, x right, y down, z forward, metres;
* world: glTF, +Y up, metres, floor at y = 0, camera above the origin looking along -Z when its yaw is zero;
* Blender: +Z up, ``(x, y, z)_blender = (x, -z, y)_world``.

Each pair here has a round-trip test in ``tests/test_frames.py``.
"""

from __future__ import annotations

import math

import numpy as np

from . import limits

#: (4, 4) float: OpenCV camera frame <-> GL camera frame (x right, y up, z backwards). Its own inverse.
CV_FROM_GL = np.diag([1.0, -1.0, -1.0, 1.0])

#: (8, 3) float: box corners in units of the half-size, in the order pinned by CONVENTIONS.md.
UNIT_BOX_CORNERS = np.array(
    [
        [-1, -1, -1],
        [+1, -1, -1],
        [+1, +1, -1],
        [-1, +1, -1],
        [-1, -1, +1],
        [+1, -1, +1],
        [+1, +1, +1],
        [-1, +1, +1],
    ],
    dtype=float,
)

#: (12, 2) int: corner index pairs joined by a box edge.
BOX_EDGES = np.array(
    [[0, 1], [1, 2], [2, 3], [3, 0], [4, 5], [5, 6], [6, 7], [7, 4], [0, 4], [1, 5], [2, 6], [3, 7]],
    dtype=int,
)

#: Qwen2.5-VL image processor defaults (preprocessor_config.json of the released checkpoints).
QWEN25_FACTOR = 28
QWEN25_MIN_PIXELS = limits.QWEN25_MIN_PIXELS
QWEN25_MAX_PIXELS = limits.QWEN25_MAX_PIXELS

#: Qwen3-VL grounding coordinates are relative, on a 0..1000 grid.
QWEN3_SCALE = 1000.0


# ---------------------------------------------------------------------------------------------- rotations


def rot_x(angle_rad: float) -> np.ndarray:
    """(3, 3) rotation about +X by ``angle_rad`` (right-handed)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rot_y(angle_rad: float) -> np.ndarray:
    """(3, 3) rotation about +Y by ``angle_rad`` (right-handed)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rot_z(angle_rad: float) -> np.ndarray:
    """(3, 3) rotation about +Z by ``angle_rad`` (right-handed)."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def rigid(rotation: np.ndarray, translation) -> np.ndarray:
    """(4, 4) matrix from a (3, 3) rotation and a (3,) translation."""
    out = np.eye(4)
    out[:3, :3] = rotation
    out[:3, 3] = np.asarray(translation, dtype=float)
    return out


def invert_rigid(matrix: np.ndarray) -> np.ndarray:
    """Inverse of a (4, 4) rigid transform (rotation + translation), exact and cheap."""
    rotation, translation = matrix[:3, :3], matrix[:3, 3]
    return rigid(rotation.T, -rotation.T @ translation)


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a (4, 4) rigid transform to (..., 3) points."""
    points = np.asarray(points, dtype=float)
    return points @ matrix[:3, :3].T + matrix[:3, 3]


def quaternion_xyzw_from_matrix(rotation: np.ndarray) -> np.ndarray:
    """(4,) unit quaternion (x, y, z, w), glTF's order, from a (3, 3) rotation matrix, with w >= 0 (Shepperd's
    method: from the largest of the trace and the diagonal, so that no division is by a small number)."""
    m = np.asarray(rotation, dtype=float)
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    k = int(np.argmax([m[0, 0], m[1, 1], m[2, 2], trace]))
    if k == 3:
        q = np.array([m[2, 1] - m[1, 2], m[0, 2] - m[2, 0], m[1, 0] - m[0, 1], 1.0 + trace])
    else:
        i, j, l = k, (k + 1) % 3, (k + 2) % 3
        q = np.empty(4)
        q[i] = 1.0 - trace + 2.0 * m[i, i]
        q[j] = m[j, i] + m[i, j]
        q[l] = m[l, i] + m[i, l]
        q[3] = m[l, j] - m[j, l]
    q /= np.linalg.norm(q)
    return -q if q[3] < 0 else q


def matrix_from_quaternion_xyzw(quaternion) -> np.ndarray:
    """(3, 3) rotation matrix from a (4,) quaternion (x, y, z, w), normalised first."""
    x, y, z, w = np.asarray(quaternion, dtype=float) / np.linalg.norm(quaternion)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


# ---------------------------------------------------------------------------------------------- camera <-> world


def world_from_camera_from_attitude(
    pitch_rad: float, roll_rad: float, height_m: float, yaw_rad: float = 0.0
) -> np.ndarray:
    """(4, 4) ``world_from_camera`` (OpenCV camera -> glTF world) from the camera's attitude.

    ``world_from_camera_gl = T(0, height_m, 0) · Ry(yaw) · Rx(pitch) · Rz(roll)`` and the OpenCV frame is the GL
    camera frame with y and z flipped. ``pitch_rad < 0`` looks down; ``roll_rad > 0`` turns the camera
    counter-clockwise as seen from behind. Inverse: :func:`attitude_from_world_from_camera`.
    """
    world_from_gl = rigid(rot_y(yaw_rad) @ rot_x(pitch_rad) @ rot_z(roll_rad), [0.0, height_m, 0.0])
    return world_from_gl @ CV_FROM_GL


def attitude_from_world_from_camera(world_from_camera: np.ndarray) -> dict:
    """Inverse of :func:`world_from_camera_from_attitude`.

    Returns a dict with ``pitch_rad``, ``roll_rad``, ``yaw_rad`` and ``height_m`` (the camera centre's y), plus
    ``position_m`` (3,), the camera centre in the world. Valid for |pitch| < 90 degrees.
    """
    world_from_gl = world_from_camera @ CV_FROM_GL
    r = world_from_gl[:3, :3]
    # r = Ry(yaw) Rx(pitch) Rz(roll): its middle row is (cos p sin r, cos p cos r, -sin p) and its last column
    # is (sin y cos p, -sin p, cos y cos p).
    pitch = math.asin(float(np.clip(-r[1, 2], -1.0, 1.0)))
    roll = math.atan2(r[1, 0], r[1, 1])
    yaw = math.atan2(r[0, 2], r[2, 2])
    position = world_from_gl[:3, 3].copy()
    return {
        "pitch_rad": pitch,
        "roll_rad": roll,
        "yaw_rad": yaw,
        "height_m": float(position[1]),
        "position_m": position,
    }



def up_in_camera_from_attitude(pitch_rad: float, roll_rad: float) -> np.ndarray:
    """(3,) world up (+Y) in the OpenCV camera frame of a camera with this pitch and roll
    (:func:`world_from_camera_from_attitude`; yaw does not change it). Inverse: :func:`attitude_from_up_in_camera`."""
    return world_from_camera_from_attitude(pitch_rad, roll_rad, 0.0)[:3, :3].T @ np.array([0.0, 1.0, 0.0])


def up_in_camera_from_attitudes(pitch_rad, roll_rad) -> np.ndarray:
    """(..., 3) :func:`up_in_camera_from_attitude` for arrays of pitches and rolls (broadcast together):
    ``(sin roll cos pitch, -cos roll cos pitch, sin pitch)``."""
    pitch, roll = np.broadcast_arrays(np.asarray(pitch_rad, dtype=float), np.asarray(roll_rad, dtype=float))
    return np.stack([np.sin(roll) * np.cos(pitch), -np.cos(roll) * np.cos(pitch), np.sin(pitch)], axis=-1)


def attitude_from_up_in_camera(up_cam: np.ndarray) -> tuple[float, float]:
    """``(pitch_rad, roll_rad)`` of the camera whose world +Y is the camera-frame direction ``up_cam`` (any length).
    Inverse of :func:`up_in_camera_from_attitude` for |pitch| < 90 degrees.

    Builds a ``world_from_camera`` whose world Y axis is ``up_cam`` and whose world -Z axis is the optical axis
    projected on the horizontal plane (yaw 0), and reads its attitude with :func:`attitude_from_world_from_camera`.
    """
    up = np.asarray(up_cam, dtype=float)
    up = up / np.linalg.norm(up)
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up  # optical axis, made horizontal
    if np.linalg.norm(forward) < 1e-9:  # looking straight up or down: any heading
        forward = np.array([0.0, 1.0, 0.0]) - up[1] * up
    forward = forward / np.linalg.norm(forward)
    z_world = -forward  # the camera looks along world -Z
    x_world = np.cross(up, z_world)
    attitude = attitude_from_world_from_camera(rigid(np.stack([x_world, up, z_world]), np.zeros(3)))
    return attitude["pitch_rad"], attitude["roll_rad"]

def world_from_camera_gl(world_from_camera: np.ndarray) -> np.ndarray:
    """(4, 4) pose of the GL camera (glTF camera node: x right, y up, looks down -Z) from ``world_from_camera``.

    Inverse: :func:`world_from_camera_cv`.
    """
    return world_from_camera @ CV_FROM_GL


def world_from_camera_cv(world_from_camera_gl_: np.ndarray) -> np.ndarray:
    """(4, 4) ``world_from_camera`` (OpenCV camera) from the GL camera pose. Inverse of :func:`world_from_camera_gl`."""
    return world_from_camera_gl_ @ CV_FROM_GL


# ---------------------------------------------------------------------------------------------- camera <-> image


def intrinsics_matrix(fx_px: float, fy_px: float, cx_px: float, cy_px: float) -> np.ndarray:
    """(3, 3) pinhole matrix K."""
    return np.array([[fx_px, 0.0, cx_px], [0.0, fy_px, cy_px], [0.0, 0.0, 1.0]])


def project_points(k_matrix: np.ndarray, points_cam: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project (..., 3) OpenCV-camera points to pixels.

    Returns ``uv`` (..., 2) pixels and ``depth_z`` (...,) metres (planar depth; points with ``depth_z <= 0`` are
    behind the camera and their ``uv`` is meaningless). Inverse: :func:`unproject_pixels`.
    """
    points_cam = np.asarray(points_cam, dtype=float)
    z = points_cam[..., 2]
    safe_z = np.where(np.abs(z) < 1e-12, 1e-12, z)
    u = k_matrix[0, 0] * points_cam[..., 0] / safe_z + k_matrix[0, 1] * points_cam[..., 1] / safe_z + k_matrix[0, 2]
    v = k_matrix[1, 1] * points_cam[..., 1] / safe_z + k_matrix[1, 2]
    return np.stack([u, v], axis=-1), z


def unproject_pixels(k_matrix: np.ndarray, uv: np.ndarray, depth_z: np.ndarray | float) -> np.ndarray:
    """(..., 3) OpenCV-camera points at planar depth ``depth_z`` behind pixels ``uv`` (..., 2).

    Inverse of :func:`project_points`.
    """
    uv = np.asarray(uv, dtype=float)
    depth_z = np.asarray(depth_z, dtype=float)
    rays = pixel_rays(k_matrix, uv)
    return rays * depth_z[..., None]


def pixel_rays(k_matrix: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(..., 3) camera-frame directions through pixels ``uv``, scaled so that their z is 1."""
    uv = np.asarray(uv, dtype=float)
    y = (uv[..., 1] - k_matrix[1, 2]) / k_matrix[1, 1]
    x = (uv[..., 0] - k_matrix[0, 2] - k_matrix[0, 1] * y) / k_matrix[0, 0]
    return np.stack([x, y, np.ones_like(x)], axis=-1)


def project_world_points(
    k_matrix: np.ndarray, world_from_camera: np.ndarray, points_world: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`project_points` for world points: returns ``uv`` (..., 2) and ``depth_z`` (...,)."""
    return project_points(k_matrix, transform_points(invert_rigid(world_from_camera), points_world))


def world_points_from_pixels(k_matrix: np.ndarray, world_from_camera: np.ndarray, uv: np.ndarray,
                             depth_z: np.ndarray | float) -> np.ndarray:
    """(..., 3) world points at planar depth ``depth_z`` (camera z, metres) behind pixels ``uv`` (..., 2).

    Inverse: :func:`project_world_points`.
    """
    return transform_points(world_from_camera, unproject_pixels(k_matrix, uv, depth_z))


def floor_points_from_pixels(k_matrix: np.ndarray, world_from_camera: np.ndarray,
                             uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the rays through pixels ``uv`` (..., 2) meet the floor plane y = 0 of the world.

    Returns ``points_world`` (..., 3) and their planar depth ``depth_z`` (...,) in the camera frame; both are NaN
    for rays that do not go down to the floor (at or above the horizon, or a camera at or below the floor).
    Inverse, on floor points: :func:`project_world_points`.
    """
    rays_world = camera_directions_to_world(world_from_camera, pixel_rays(k_matrix, uv))  # camera z = 1
    camera_y = float(world_from_camera[1, 3])
    with np.errstate(divide="ignore", invalid="ignore"):
        depth_z = -camera_y / rays_world[..., 1]
    depth_z = np.where((rays_world[..., 1] < 0.0) & (camera_y > 0.0), depth_z, np.nan)
    return world_from_camera[:3, 3] + rays_world * depth_z[..., None], depth_z


def camera_directions_to_world(world_from_camera: np.ndarray, vectors_cam: np.ndarray) -> np.ndarray:
    """(..., 3) directions (normals, rays) turned from the OpenCV camera frame into the world; no translation.

    Inverse: :func:`world_directions_to_camera`.
    """
    return np.asarray(vectors_cam, dtype=float) @ np.asarray(world_from_camera, dtype=float)[:3, :3].T


def world_directions_to_camera(world_from_camera: np.ndarray, vectors_world: np.ndarray) -> np.ndarray:
    """(..., 3) world directions turned into the OpenCV camera frame. Inverse of
    :func:`camera_directions_to_world`."""
    return np.asarray(vectors_world, dtype=float) @ np.asarray(world_from_camera, dtype=float)[:3, :3]


def in_boxes(uv: np.ndarray, boxes_xyxy_px) -> np.ndarray:
    """(N,) bool: which of the (N, 2) pixel positions ``uv`` lie in any of the 2D boxes ``(x1, y1, x2, y2)`` (edges
    included)."""
    uv = np.asarray(uv, dtype=float).reshape(-1, 2)
    inside = np.zeros(len(uv), dtype=bool)
    for x1, y1, x2, y2 in boxes_xyxy_px:
        inside |= (uv[:, 0] >= x1) & (uv[:, 0] <= x2) & (uv[:, 1] >= y1) & (uv[:, 1] <= y2)
    return inside


def pixel_centers(columns: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(..., 2) float ``(u, v)`` of the centres of pixels (``columns``, ``rows``), integer arrays of one shape: pixel
    (column i, row j) has its centre at ``(i + 0.5, j + 0.5)`` (CONVENTIONS.md). For every pixel of an (H, W)
    image: ``pixel_centers(*np.indices((H, W))[::-1])``. Inverse: :func:`pixel_indices`."""
    return np.stack([np.asarray(columns) + 0.5, np.asarray(rows) + 0.5], axis=-1).astype(float)


def pixel_indices(uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(columns, rows)`` int arrays (...,) of the pixels that hold the points ``uv`` (..., 2): ``floor(uv)``.

    Inverse of :func:`pixel_centers`.
    """
    indices = np.floor(np.asarray(uv, dtype=float)).astype(int)
    return indices[..., 0], indices[..., 1]


# ---------------------------------------------------------------------------------------------- boxes


def box_corners(center_m, size_m, yaw_rad: float) -> np.ndarray:
    """(8, 3) world corners of an upright box, in the order of CONVENTIONS.md (0-3 back face, 4-7 front face)."""
    half = 0.5 * np.asarray(size_m, dtype=float)
    return np.asarray(center_m, dtype=float) + (UNIT_BOX_CORNERS * half) @ rot_y(yaw_rad).T


def box_from_corners(corners_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(center_m, size_m, yaw_rad)`` of an upright box from its (8, 3) corners. Inverse of :func:`box_corners`."""
    corners_m = np.asarray(corners_m, dtype=float)
    center = corners_m.mean(axis=0)
    x_axis = corners_m[1] - corners_m[0]
    y_axis = corners_m[3] - corners_m[0]
    z_axis = corners_m[4] - corners_m[0]
    size = np.array([np.linalg.norm(x_axis), np.linalg.norm(y_axis), np.linalg.norm(z_axis)])
    yaw = math.atan2(z_axis[0], z_axis[2])
    return center, size, yaw


def wrap_angle(angle_rad: float) -> float:
    """Angle wrapped into [-pi, pi)."""
    return (angle_rad + math.pi) % (2.0 * math.pi) - math.pi


# ---------------------------------------------------------------------------------------------- Blender


def blender_from_world(points_world: np.ndarray) -> np.ndarray:
    """glTF world (+Y up) -> Blender (+Z up): ``(x, y, z) -> (x, -z, y)``. Inverse: :func:`world_from_blender`."""
    p = np.asarray(points_world, dtype=float)
    return np.stack([p[..., 0], -p[..., 2], p[..., 1]], axis=-1)


def world_from_blender(points_blender: np.ndarray) -> np.ndarray:
    """Blender (+Z up) -> glTF world (+Y up): ``(x, y, z) -> (x, z, -y)``. Inverse of :func:`blender_from_world`."""
    p = np.asarray(points_blender, dtype=float)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)


# ---------------------------------------------------------------------------------------------- upright (ScanNet)

#: (3, 3) float: the axes of the *upright depth frame* of SUN RGB-D / votenet / mmdetection3d (x right, y forward,
#: z up; origin at the camera centre) as seen by a level OpenCV camera. ``Rtilt`` adds the camera's tilt.
CV_FROM_UPRIGHT_LEVEL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def camera_from_upright(points_upright: np.ndarray, rtilt: np.ndarray) -> np.ndarray:
    """(..., 3) points of the upright frame (z up, y = the viewing direction made horizontal, metres) -> the
    OpenCV camera frame: ``p_cv = F @ Rtilt.T @ p_up``, ``F`` = :data:`CV_FROM_UPRIGHT_LEVEL`. Turns directions
    too (no translation): ``camera_from_upright([0, 0, 1], Rtilt)`` is gravity's up in the camera.
    Inverse: :func:`upright_from_camera`."""
    rotation = CV_FROM_UPRIGHT_LEVEL @ np.asarray(rtilt, dtype=float).T
    return np.asarray(points_upright, dtype=float) @ rotation.T


def upright_from_camera(points_cam: np.ndarray, rtilt: np.ndarray) -> np.ndarray:
    """(..., 3) OpenCV camera points -> the upright frame: ``p_up = Rtilt @ F.T @ p_cv``. Inverse of
    :func:`camera_from_upright`."""
    rotation = np.asarray(rtilt, dtype=float) @ CV_FROM_UPRIGHT_LEVEL.T
    return np.asarray(points_cam, dtype=float) @ rotation.T


# ---------------------------------------------------------------------------------------------- model coordinates


def qwen25_resized_size(
    width_px: int,
    height_px: int,
    factor: int = QWEN25_FACTOR,
    min_pixels: int = QWEN25_MIN_PIXELS,
    max_pixels: int = QWEN25_MAX_PIXELS,
) -> tuple[int, int]:
    """``(width, height)`` of the image as Qwen2.5-VL sees it: its processor's ``smart_resize``.

    Sides are rounded to multiples of ``factor`` and the area is clamped into ``[min_pixels, max_pixels]``
    keeping the aspect ratio (same arithmetic as ``qwen_vl_utils.smart_resize``).
    """
    h_bar = max(factor, round(height_px / factor) * factor)
    w_bar = max(factor, round(width_px / factor) * factor)
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height_px * width_px) / max_pixels)
        h_bar = max(factor, math.floor(height_px / beta / factor) * factor)
        w_bar = max(factor, math.floor(width_px / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height_px * width_px))
        h_bar = math.ceil(height_px * beta / factor) * factor
        w_bar = math.ceil(width_px * beta / factor) * factor
    return int(w_bar), int(h_bar)


def pixels_from_qwen25(xy: np.ndarray, width_px: int, height_px: int, **resize) -> np.ndarray:
    """Photo pixels from Qwen2.5-VL coordinates (..., 2k) interleaved x, y. Inverse: :func:`qwen25_from_pixels`."""
    w_r, h_r = qwen25_resized_size(width_px, height_px, **resize)
    return _scale_xy(xy, width_px / w_r, height_px / h_r)


def qwen25_from_pixels(xy: np.ndarray, width_px: int, height_px: int, **resize) -> np.ndarray:
    """Qwen2.5-VL coordinates (absolute, resized image) from photo pixels. Inverse of :func:`pixels_from_qwen25`."""
    w_r, h_r = qwen25_resized_size(width_px, height_px, **resize)
    return _scale_xy(xy, w_r / width_px, h_r / height_px)


def pixels_from_qwen3(xy: np.ndarray, width_px: int, height_px: int) -> np.ndarray:
    """Photo pixels from Qwen3-VL relative 0..1000 coordinates. Inverse: :func:`qwen3_from_pixels`."""
    return _scale_xy(xy, width_px / QWEN3_SCALE, height_px / QWEN3_SCALE)


def qwen3_from_pixels(xy: np.ndarray, width_px: int, height_px: int) -> np.ndarray:
    """Qwen3-VL relative 0..1000 coordinates from photo pixels. Inverse of :func:`pixels_from_qwen3`."""
    return _scale_xy(xy, QWEN3_SCALE / width_px, QWEN3_SCALE / height_px)


def _scale_xy(xy, scale_x: float, scale_y: float) -> np.ndarray:
    xy = np.asarray(xy, dtype=float)
    scale = np.where(np.arange(xy.shape[-1]) % 2 == 0, scale_x, scale_y)
    return xy * scale


# ---------------------------------------------------------------------------------------------- 3D boxes, camera frame
#
# A *camera box* is an oriented box in the OpenCV camera frame: ``center_cam`` (3,) metres, ``size`` (3,) full
# extents along the box's own x, y, z axes, and ``rotation_cam`` (3, 3), whose columns are the box's own axes in
# the camera frame: ``p_cam = center_cam + rotation_cam @ p_local``. Its corners follow UNIT_BOX_CORNERS.
#
# Qwen3-VL 3D grounding answers ``{"bbox_3d": [x, y, z, sx, sy, sz, a1, a2, a3], "label": ...}``. What was
# checked, in QwenLM/Qwen3-VL ``cookbooks/3d_grounding.ipynb`` (read from the copy in the fork
# creative-graphic-design/Qwen3-VL at commit 1bee606; the cookbook is the only code the Qwen team published for
# this output):
#
# * the markdown says ``[x_center, y_center, z_center, x_size, y_size, z_size, roll, pitch, yaw]``, centre "in
#   camera coordinates (meters)", angles "(radians)";
# * the drawing code says otherwise and is what this module follows: ``draw_3dbboxes`` first does
#   ``bbox_3d[-3:] = [_x * 180 for _x in bbox_3d[-3:]]`` (comment: "Convert angles multiplied by 180 to degrees"),
#   then ``convert_3dbbox`` unpacks ``x, y, z, x_size, y_size, z_size, pitch, yaw, roll = point`` and rotates each
#   local corner ``(+-x_size/2, +-y_size/2, +-z_size/2)`` with ``np.deg2rad`` of those degrees, first about x by
#   pitch (``y1 = y0 cos - z0 sin; z1 = y0 sin + z0 cos``), then about y by yaw (``x2 = x1 cos + z1 sin;
#   z2 = -x1 sin + z1 cos``), then about z by roll, adds the centre and projects ``u = fx X / Z + cx``,
#   ``v = fy Y / Z + cy`` (so x right, y down, z forward: the OpenCV frame). The box is drawn only when all
#   8 corners have ``Z > 0``. So: the angles are in **units of pi** (0.5 is 90 degrees), in the order
#   (pitch, yaw, roll), and ``rotation_cam = Rz(roll) @ Ry(yaw) @ Rx(pitch)`` with the usual right-handed
#   rotations; ``x_size`` is the extent along the box's own x (camera x when the angles are zero), and so on;
# * issue QwenLM/Qwen3-VL#2044 (open, unanswered) reports the same mismatch between the text and the code;
#   #2015 (open, unanswered) notes that boxes turned by 180 degrees are the same box, so the model's yaw says
#   nothing about an object's front;
# * the cookbook's own example answer for a car, ``[2.88, 0.56, 6.28, 4.45, 1.7, 1.84, 0.75, 0.49, 0.75]``, read
#   this way puts the 4.45 m extent along the optical axis and the 1.7 m extent along camera y (vertical): a car
#   driving ahead of the camera, which supports the reading;
# * intrinsics: the prompt carries none; the cookbook uses real ones when it has them (``cam_infos.json``) and
#   otherwise ``generate_camera_params(image_path, fov=60)``: ``fx = w / (2 tan(30 deg))``,
#   ``fy = h / (2 tan(30 deg))``, ``(cx, cy) = (w / 2, h / 2)``, i.e. 60 degrees across the width **and** 60
#   degrees across the height (non-square pixels unless the photo is square). See :func:`qwen3_virtual_intrinsics`.
#   The Qwen3-VL report says the training data were put into an Omni3D-style virtual camera, whose parameters
#   are not published (issues #1501, #1953 ask, unanswered): treat every bbox_3d as a prior, not a measurement.

#: Field of view (degrees, across the width and, separately, across the height) of the virtual camera the
#: Qwen3-VL cookbook draws bbox_3d answers with when it has no intrinsics (``generate_camera_params(fov=60)``).
QWEN3_VIRTUAL_FOV_DEG = 60.0
#: Numbers in one Qwen3-VL ``bbox_3d``.
QWEN3_BBOX3D_LENGTH = 9


def camera_box_from_qwen3_bbox3d(values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(center_cam (3,), size (3,), rotation_cam (3, 3))`` from a Qwen3-VL ``bbox_3d`` (9 numbers).

    ``values = [x, y, z, sx, sy, sz, pitch, yaw, roll]`` as the cookbook's drawing code reads them (see the notes
    above this function): centre and full sizes in metres in the OpenCV camera frame (x right, y down, z forward),
    angles in **units of pi** (``0.5`` is 90 degrees), ``rotation_cam = Rz(pi roll) @ Ry(pi yaw) @ Rx(pi pitch)``
    with :func:`rot_x` / :func:`rot_y` / :func:`rot_z`. No validation (grounding.py does that).
    Inverse: :func:`qwen3_bbox3d_from_camera_box`.
    """
    v = np.asarray(values, dtype=float).reshape(QWEN3_BBOX3D_LENGTH)
    pitch, yaw, roll = (math.pi * float(a) for a in v[6:9])
    rotation = rot_z(roll) @ rot_y(yaw) @ rot_x(pitch)
    return v[0:3].copy(), v[3:6].copy(), rotation


def qwen3_bbox3d_from_camera_box(center_cam, size, rotation_cam) -> np.ndarray:
    """(9,) Qwen3-VL ``bbox_3d`` ``[x, y, z, sx, sy, sz, pitch, yaw, roll]`` (angles in units of pi) of a camera box.

    Decomposes ``rotation_cam = Rz(roll) Ry(yaw) Rx(pitch)`` with pitch and roll in (-1, 1] and yaw in
    [-0.5, 0.5] (units of pi); at yaw = +-0.5 (gimbal lock) the split between pitch and roll is arbitrary but the
    rotation is exact. Inverse of :func:`camera_box_from_qwen3_bbox3d` (values with angles outside those ranges
    come back as another triple giving the same rotation).
    """
    r = np.asarray(rotation_cam, dtype=float)
    # R = Rz(c) Ry(b) Rx(a); bottom row (-sin b, cos b sin a, cos b cos a).
    a = math.atan2(r[2, 1], r[2, 2])
    b = math.atan2(-r[2, 0], math.hypot(r[0, 0], r[1, 0]))
    # c from R Rx(a)^T = Rz(c) Ry(b), whose middle column is (-sin c, cos c, 0): stays exact when a is ill-defined.
    sa, ca = math.sin(a), math.cos(a)
    c = math.atan2(sa * r[0, 2] - ca * r[0, 1], ca * r[1, 1] - sa * r[1, 2])
    out = np.empty(QWEN3_BBOX3D_LENGTH)
    out[0:3] = np.asarray(center_cam, dtype=float)
    out[3:6] = np.asarray(size, dtype=float)
    out[6:9] = np.array([a, b, c]) / math.pi
    return out


def camera_box_corners(center_cam, size, rotation_cam) -> np.ndarray:
    """(8, 3) camera-frame corners of a camera box, in the order of UNIT_BOX_CORNERS (CONVENTIONS.md)."""
    half = 0.5 * np.asarray(size, dtype=float)
    return np.asarray(center_cam, dtype=float) + (UNIT_BOX_CORNERS * half) @ np.asarray(rotation_cam, dtype=float).T


def qwen3_virtual_intrinsics(width_px: int, height_px: int, fov_deg: float = QWEN3_VIRTUAL_FOV_DEG) -> np.ndarray:
    """(3, 3) K of the Qwen3-VL cookbook's fallback camera for a photo of this size.

    Exactly ``generate_camera_params(fov=60)`` of ``cookbooks/3d_grounding.ipynb`` (without its rounding to
    0.01 px): ``fx = W / (2 tan(fov / 2))``, ``fy = H / (2 tan(fov / 2))``, principal point at the centre. The
    field of view is 60 degrees across the width and also across the height, so ``fx != fy`` unless the photo is
    square. It is what the cookbook draws with, not a measured camera; see :func:`camera_box_for_intrinsics`.
    """
    t = 2.0 * math.tan(0.5 * math.radians(fov_deg))
    return intrinsics_matrix(width_px / t, height_px / t, 0.5 * width_px, 0.5 * height_px)


def image_rect_of_camera_box(k_matrix: np.ndarray, center_cam, size, rotation_cam,
                             near_m: float = 0.01) -> np.ndarray | None:
    """(4,) ``(x1, y1, x2, y2)`` pixels: the bounding rectangle of a camera box's projection, or None.

    The box is first cut by the plane ``z = near_m`` (corners in front of it plus the points where edges cross
    it), so a box that reaches behind the camera still gives the rectangle of its visible part (possibly far
    outside the image: clip it). None when no part of the box is in front of that plane.
    """
    corners = camera_box_corners(center_cam, size, rotation_cam)
    z = corners[:, 2]
    points = [corners[z >= near_m]]
    for a, b in BOX_EDGES:
        if (z[a] - near_m) * (z[b] - near_m) < 0.0:
            t = (near_m - z[a]) / (z[b] - z[a])
            points.append((corners[a] + t * (corners[b] - corners[a]))[None, :])
    points = np.concatenate(points, axis=0)
    if len(points) == 0:
        return None
    uv, _ = project_points(k_matrix, points)
    return np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()])


def camera_box_for_intrinsics(center_cam, size, rotation_cam, k_from: np.ndarray, k_to: np.ndarray,
                              keep: str = "size") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The camera box that a camera ``k_to`` sees where a camera ``k_from`` sees the given box.

    Use: a Qwen3-VL bbox_3d is given for the model's virtual camera (:func:`qwen3_virtual_intrinsics` is the
    cookbook's guess of it); the photo's real camera has other intrinsics. The image stays; the box moves.

    Assumptions, documented because the answer is not unique:

    * the box's **projected centre** is kept exactly: ``project(k_to, new centre) == project(k_from, centre)``;
    * its **angular size** is kept: depth and size change by the same factor. With
      ``s = sqrt(fx_to fy_to / (fx_from fy_from))`` (the focal ratio; a geometric mean when the pixels are not
      square), ``keep="size"`` trusts the model's metric size (depth times ``s``, size unchanged) and
      ``keep="depth"`` trusts its depth (depth unchanged, size divided by ``s``);
    * the rotation in the camera frame is kept. The ray to the centre turns by the angle between the old and the
      new ray, so the box's attitude relative to its viewing ray changes by that much (small near the image
      centre; exact when the principal points agree and the centre is on the optical axis).

    Inverse: the same call with ``k_from`` and ``k_to`` swapped (and the same ``keep``).
    """
    if keep not in ("size", "depth"):
        raise ValueError(f"keep must be 'size' or 'depth', not {keep!r}")
    center_cam = np.asarray(center_cam, dtype=float)
    uv, z = project_points(k_from, center_cam)
    s = math.sqrt((k_to[0, 0] * k_to[1, 1]) / (k_from[0, 0] * k_from[1, 1]))
    size = np.asarray(size, dtype=float)
    if keep == "size":
        new_z, new_size = z * s, size.copy()
    else:
        new_z, new_size = z, size / s
    return unproject_pixels(k_to, uv, new_z), new_size, np.array(rotation_cam, dtype=float)


def rescale_camera_box_to_focal(center_cam, size, rotation_cam, f_virtual_px: float, f_real_px: float,
                                keep: str = "size") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`camera_box_for_intrinsics` for two square-pixel cameras with the same principal point.

    With ``k = f_real_px / f_virtual_px``: ``keep="size"`` gives centre ``(x, y, k z)`` and the same size;
    ``keep="depth"`` gives centre ``(x / k, y / k, z)`` and size ``size / k``. Either way the projected centre
    and angular size are those the virtual camera saw. Inverse: swap the two focals.
    """
    k_from = intrinsics_matrix(f_virtual_px, f_virtual_px, 0.0, 0.0)
    k_to = intrinsics_matrix(f_real_px, f_real_px, 0.0, 0.0)
    return camera_box_for_intrinsics(center_cam, size, rotation_cam, k_from, k_to, keep=keep)


def canonical_upright_yaw(yaw_rad: float) -> float:
    """Yaw of an upright box modulo pi, in [-pi/2, pi/2): a box turned by pi about its up axis is the same box.

    The canonical choice points the box's +z (its front, CONVENTIONS.md) into the world's +Z half, towards a
    yaw-zero camera. For boxes from Qwen3-VL that is a choice, not knowledge: the model gives no front (#2015).
    """
    return (float(yaw_rad) + 0.5 * math.pi) % math.pi - 0.5 * math.pi


def upright_box_from_camera_box(center_cam, size, rotation_cam,
                                world_from_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(center_m (3,), size_m (3,), yaw_rad)``: the world upright box (CONVENTIONS.md) closest to a camera box.

    * centre: the box centre taken to the world;
    * up: of the box's three axes taken to the world, the one most aligned (either sign) with world +Y;
    * the other two keep the box's own cyclic order: if up is the box's axis ``i``, its local z (front) is axis
      ``i + 1`` and its local x is axis ``i + 2`` (mod 3). For a Qwen3-VL box whose y is vertical, as the model
      gives furniture, that keeps its x_size as the width and its z_size as the depth;
    * ``size_m`` = the sizes of those axes, in (x, up, z) order;
    * yaw: the rotation about +Y closest (Frobenius) to the box's rotation with its axes so ordered and up turned
      to +Y (for an upright box, simply the heading of its z axis), then :func:`canonical_upright_yaw`, so
      a box and the same box turned by pi give the same answer (boxes "near +-180 degrees" included).

    Any tilt of the given box away from upright is dropped. Inverse, on upright boxes:
    :func:`camera_box_from_upright_box`.
    """
    center_m = transform_points(world_from_camera, np.asarray(center_cam, dtype=float))
    axes = np.asarray(world_from_camera, dtype=float)[:3, :3] @ np.asarray(rotation_cam, dtype=float)
    up = int(np.argmax(np.abs(axes[1, :])))
    front, side = (up + 1) % 3, (up + 2) % 3
    r = axes[:, [side, up, front]]  # a cyclic permutation of the columns: still a rotation
    if r[1, 1] < 0.0:  # turn by pi about the local x: up becomes +Y, still a rotation
        r = r * np.array([1.0, -1.0, -1.0])
    yaw = math.atan2(r[0, 2] - r[2, 0], r[0, 0] + r[2, 2])
    size = np.asarray(size, dtype=float)
    return center_m, size[[side, up, front]].copy(), canonical_upright_yaw(yaw)


def camera_box_from_upright_box(center_m, size_m, yaw_rad: float,
                                world_from_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(center_cam, size, rotation_cam)`` of a world upright box, as a camera box.

    ``rotation_cam = R_wc^T @ Ry(yaw)`` (the box's own y is world +Y). Inverse of
    :func:`upright_box_from_camera_box` (which returns the yaw modulo pi, see :func:`canonical_upright_yaw`).
    """
    camera_from_world = invert_rigid(np.asarray(world_from_camera, dtype=float))
    center_cam = transform_points(camera_from_world, np.asarray(center_m, dtype=float))
    rotation_cam = camera_from_world[:3, :3] @ rot_y(yaw_rad)
    return center_cam, np.asarray(size_m, dtype=float).copy(), rotation_cam
