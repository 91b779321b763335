"""The room shell: a rectangle of walls along the room's Manhattan axes, a floor and a ceiling."""

from __future__ import annotations

import numpy as np

from .. import frames
from ..records import CameraEstimate, ObjectBox, RoomShell, Wall

#: Gap between a wall and the farthest object on its side.
WALL_GAP_M = 0.02
#: The floor seen at the photo's bottom edge is this far inside the walls, at least.
VIEW_MARGIN_M = 0.3
#: Prior ceiling height when nothing measures it (2.4-2.8 m in homes).
DEFAULT_CEILING_M = 2.6


def room_shell(objects: tuple[ObjectBox, ...], camera: CameraEstimate, room_yaw_rad: float = 0.0) -> RoomShell:
    """A rectangular room aligned with ``room_yaw_rad`` (walls along the Manhattan directions) holding the camera,
    every object and the floor seen at the bottom of the photo: each wall just beyond the farthest object on its
    side, or beyond the floor in view when no object reaches further; the wall behind the camera left open.
    Ceiling at the prior height, raised above the tallest object when needed."""
    to_room = frames.rot_y(-room_yaw_rad)
    camera_xz = (to_room @ camera.world_from_camera[:3, 3])[[0, 2]]
    points = np.array([to_room @ c for obj in objects for c in obj.corners_m]).reshape(-1, 3)[:, [0, 2]]
    seen = np.array([to_room @ p for p in _floor_in_view(camera)]).reshape(-1, 3)[:, [0, 2]] - camera_xz
    seen = seen * (1.0 + VIEW_MARGIN_M / np.maximum(np.linalg.norm(seen, axis=1, keepdims=True), 1e-9)) + camera_xz
    candidates = [np.array([camera_xz]), seen, points + 0.0]
    every = np.concatenate([c for c in candidates if len(c)])
    far = min(every[:, 1].min() - WALL_GAP_M, camera_xz[1] - 1.5)
    if not len(points):
        far = min(far, camera_xz[1] - 4.0)
    left, right = every[:, 0].min() - WALL_GAP_M, every[:, 0].max() + WALL_GAP_M
    near = max(camera_xz[1] + 0.5, every[:, 1].max() + WALL_GAP_M)
    top = max(DEFAULT_CEILING_M, max((o.center_m[1] + 0.5 * o.size_m[1] for o in objects), default=0.0) + 0.2)
    from_room = frames.rot_y(room_yaw_rad)

    def world(x, y, z):
        return tuple(float(v) for v in from_room @ np.array([x, y, z]))

    floor = [(left, near), (right, near), (right, far), (left, far)]
    floor_polygon = tuple((p[0], p[2]) for p in (world(x, 0.0, z) for x, z in floor))
    walls = (
        Wall("wall_back", (world(left, 0, far), world(right, 0, far), world(right, top, far), world(left, top, far))),
        Wall("wall_left", (world(left, 0, near), world(left, 0, far), world(left, top, far), world(left, top, near))),
        Wall("wall_right", (world(right, 0, far), world(right, 0, near), world(right, top, near),
                            world(right, top, far))),
    )
    return RoomShell(floor_polygon_m=floor_polygon, ceiling_height_m=float(top), walls=walls,
                     source="bounds of the objects and of the floor in view, walls along the room's axes")


def _floor_in_view(camera: CameraEstimate, max_distance_m: float = 8.0) -> list[np.ndarray]:
    """World points where the rays through the bottom corners and the bottom centre of the photo meet the
    floor (those within ``max_distance_m`` of the camera)."""
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    rotation, origin = camera.world_from_camera[:3, :3], camera.world_from_camera[:3, 3]
    out = []
    for u in (0.0, 0.5 * width, float(width)):
        ray = rotation @ frames.pixel_rays(camera.intrinsics.k_matrix, np.array([u, float(height)]))
        if ray[1] < -1e-6:
            point = origin - origin[1] / ray[1] * ray
            if np.linalg.norm(point - origin) <= max_distance_m:
                out.append(point)
    return out
