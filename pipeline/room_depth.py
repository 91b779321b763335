"""The room shell seen from the camera: the planar depth at which each pixel's ray leaves the solved room, and that
depth against a sensor's (``room3d eval``'s layout error on real photos).

The shell is read as ``scene.json`` writes it (``room``: ``floor_polygon`` (x, z) on y = 0, ``ceiling_height_m``
and wall quads with their ``corners``), so any solved scene can be scored. A ray from the camera, inside the room,
leaves it through the first surface it meets: the floor, the ceiling (the floor's polygon lifted to the ceiling's
height) or a wall; where none is met (a side left open) the depth is unknown. The camera's pixels follow
OpenCV's convention (``frames``): a pixel's centre is at ``(column + 0.5, row + 0.5)``.
"""

from __future__ import annotations

import math

import numpy as np

from . import frames

#: A pixel's room depth is within tolerance when ``|predicted / sensor - 1|`` is at most this.
WITHIN_REL = 0.10
#: A hit lies on a surface when it is within this many metres of its outline (rounding at the seams).
EDGE_TOLERANCE_M = 1e-6


def shell_depth(room: dict, world_from_camera: np.ndarray, rays_cam: np.ndarray) -> np.ndarray:
    """(N,) planar depth (OpenCV z, metres) where camera rays (N, 3; z = 1) leave the room shell ``room`` (the
    ``scene.json`` form); NaN where a ray meets no surface of it."""
    rotation, origin = world_from_camera[:3, :3], world_from_camera[:3, 3]
    directions = rays_cam @ rotation.T  # world directions; the parameter along them is the planar depth
    best = np.full(len(rays_cam), np.inf)
    floor = np.array(room.get("floor_polygon") or [], dtype=float).reshape(-1, 2)
    ceiling = room.get("ceiling_height_m")
    horizontal = [(0.0, -1.0)] + ([] if ceiling is None else [(float(ceiling), 1.0)])
    if len(floor) >= 3:
        for height, facing in horizontal:
            with np.errstate(divide="ignore", invalid="ignore"):
                t = (height - origin[1]) / directions[:, 1]
            hit = origin[[0, 2]] + t[:, None] * directions[:, [0, 2]]
            ok = (t > 0) & (facing * directions[:, 1] > 0) & _inside_polygon(hit, floor)
            best = np.where(ok & (t < best), t, best)
    for wall in room.get("walls") or []:
        corners = np.array(wall.get("corners") or [], dtype=float).reshape(-1, 3)
        if len(corners) < 3:
            continue
        normal = np.cross(corners[1] - corners[0], corners[2] - corners[0])
        if np.linalg.norm(normal) < 1e-12:
            continue
        normal /= np.linalg.norm(normal)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = ((corners[0] - origin) @ normal) / (directions @ normal)
        hit = origin + t[:, None] * directions
        basis_u = (corners[1] - corners[0]) / max(float(np.linalg.norm(corners[1] - corners[0])), 1e-12)
        basis_v = np.cross(normal, basis_u)
        flat = np.column_stack([(hit - corners[0]) @ basis_u, (hit - corners[0]) @ basis_v])
        outline = np.column_stack([(corners - corners[0]) @ basis_u, (corners - corners[0]) @ basis_v])
        ok = (t > 0) & np.isfinite(t) & _inside_polygon(flat, outline)
        best = np.where(ok & (t < best), t, best)
    return np.where(np.isfinite(best), best, np.nan)


def _inside_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """(N,) bool: which 2D points lie inside (or on) a convex polygon of either orientation."""
    sides = []
    for a, b in zip(polygon, np.roll(polygon, -1, axis=0)):
        edge = b - a
        length = max(float(np.linalg.norm(edge)), 1e-12)
        sides.append((edge[0] * (points[:, 1] - a[1]) - edge[1] * (points[:, 0] - a[0])) / length)
    sides = np.array(sides)
    with np.errstate(invalid="ignore"):
        return np.all(sides >= -EDGE_TOLERANCE_M, axis=0) | np.all(sides <= EDGE_TOLERANCE_M, axis=0)


def layout_depth_error(room: dict, world_from_camera: np.ndarray, k_matrix: np.ndarray, photo_size: tuple[int, int],
                       sensor_m: np.ndarray, boxes_xyxy_px=()) -> tuple[float, float, int]:
    """``(median |log(shell / sensor)|, share of pixels within WITHIN_REL, pixels)`` over the sensor's valid pixels
    (``sensor_m`` (h, w) metres, 0 or NaN where none; registered to the photo, any resolution) that no object's 2D
    box covers (``boxes_xyxy_px``, photo pixels). The shell is seen through the solved camera (``k_matrix`` for a
    photo of ``photo_size`` = (width, height) pixels); a pixel whose ray leaves through no surface counts as
    wrong. NaN figures when no pixel is left."""
    height, width = sensor_m.shape
    scale_x, scale_y = photo_size[0] / width, photo_size[1] / height
    rows, columns = np.nonzero(np.isfinite(sensor_m) & (sensor_m > 0))
    uv = np.column_stack([(columns + 0.5) * scale_x, (rows + 0.5) * scale_y])
    free = ~frames.in_boxes(uv, boxes_xyxy_px)
    if not free.any():
        return math.nan, math.nan, 0
    uv, observed = uv[free], sensor_m[rows[free], columns[free]].astype(float)
    predicted = shell_depth(room, np.asarray(world_from_camera, dtype=float),
                            frames.pixel_rays(np.asarray(k_matrix, dtype=float), uv))
    seen = np.isfinite(predicted) & (predicted > 0)
    ratio = np.where(seen, predicted, 1.0) / observed
    error = np.where(seen, np.abs(np.log(ratio)), np.inf)
    within = seen & (np.abs(ratio - 1.0) <= WITHIN_REL)
    return float(np.median(error)), float(np.mean(within)), len(error)
