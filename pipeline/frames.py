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
QWEN25_MIN_PIXELS = 56 * 56
QWEN25_MAX_PIXELS = 28 * 28 * 16384

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
    """(4,) unit quaternion (x, y, z, w), glTF's order, from a (3, 3) rotation matrix."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(rotation).as_quat()


def matrix_from_quaternion_xyzw(quaternion) -> np.ndarray:
    """(3, 3) rotation matrix from a (4,) quaternion (x, y, z, w)."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_quat(np.asarray(quaternion, dtype=float)).as_matrix()


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
