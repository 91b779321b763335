"""The room shell: a rectangle of walls along the room's Manhattan axes, a floor and a ceiling.

Each wall and the ceiling is measured where a metric depth map shows it (:func:`measured_sides`: the farthest dense
layer of the map's points on that side, outside the objects' 2D boxes, that stands up like a wall), and otherwise
inferred: just beyond the objects and the floor in view, the ceiling at a typical height. Each wall says which
(``Wall.source``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import frames
from ..records import CameraEstimate, ObjectBox, RoomShell, Wall

#: Gap between a wall and the farthest object on its side.
WALL_GAP_M = 0.02
#: The floor seen at the photo's bottom edge is this far inside the walls, at least.
VIEW_MARGIN_M = 0.3
#: Prior ceiling height when nothing measures it (2.4-2.8 m in homes).
DEFAULT_CEILING_M = 2.6


def room_shell(objects: tuple[ObjectBox, ...], camera: CameraEstimate, room_yaw_rad: float = 0.0,
               measured: dict | None = None) -> RoomShell:
    """A rectangular room aligned with ``room_yaw_rad`` (walls along the Manhattan directions) holding the camera,
    every object and the floor seen at the bottom of the photo: each wall just beyond the farthest object on its
    side, or beyond the floor in view when no object reaches further; the wall behind the camera left open.
    Ceiling at the prior height, raised above the tallest object when needed. ``measured``
    (:func:`measured_sides`) places the walls and the ceiling a depth map shows where it shows them."""
    measured = measured or {}
    to_room = frames.rot_y(-room_yaw_rad)
    camera_xz = (to_room @ camera.world_from_camera[:3, 3])[[0, 2]]
    points = np.array([to_room @ c for obj in objects for c in obj.corners_m]).reshape(-1, 3)[:, [0, 2]]
    if "seen_xz" in measured:  # the room holds what the map sees
        points = np.concatenate([points, np.asarray(measured["seen_xz"], dtype=float).reshape(-1, 2)])
    seen = np.array([to_room @ p for p in floor_in_view(camera)]).reshape(-1, 3)[:, [0, 2]] - camera_xz
    seen = seen * (1.0 + VIEW_MARGIN_M / np.maximum(np.linalg.norm(seen, axis=1, keepdims=True), 1e-9)) + camera_xz
    candidates = [np.array([camera_xz]), seen, points + 0.0]
    every = np.concatenate([c for c in candidates if len(c)])
    far = min(every[:, 1].min() - WALL_GAP_M, camera_xz[1] - 1.5)
    if not len(points):
        far = min(far, camera_xz[1] - 4.0)
    left, right = every[:, 0].min() - WALL_GAP_M, every[:, 0].max() + WALL_GAP_M
    near = max(camera_xz[1] + 0.5, every[:, 1].max() + WALL_GAP_M)
    tallest = max((o.center_m[1] + 0.5 * o.size_m[1] for o in objects), default=0.0) + 0.2
    top, ceiling_source = (DEFAULT_CEILING_M, "prior") if tallest <= DEFAULT_CEILING_M else (tallest, "objects")
    # a measured side holds (the objects' boxes are guesses; what stands beyond it is seen through an opening)
    used = {"left": measured.get("left", math.inf) < camera_xz[0],
            "right": measured.get("right", -math.inf) > camera_xz[0],
            "far": measured.get("far", math.inf) < camera_xz[1],
            "ceiling": measured.get("ceiling", -math.inf) > camera.world_from_camera[1, 3]}
    left = measured["left"] if used["left"] else left
    right = measured["right"] if used["right"] else right
    far = measured["far"] if used["far"] else far
    if used["ceiling"]:
        top, ceiling_source = measured["ceiling"], "depth"
    source = {side: "depth" if used[side] else "inferred" for side in ("far", "left", "right")}
    from_room = frames.rot_y(room_yaw_rad)

    def world(x, y, z):
        return tuple(float(v) for v in from_room @ np.array([x, y, z]))

    floor = [(left, near), (right, near), (right, far), (left, far)]
    floor_polygon = tuple((p[0], p[2]) for p in (world(x, 0.0, z) for x, z in floor))
    walls = (
        Wall("wall_back", (world(left, 0, far), world(right, 0, far), world(right, top, far), world(left, top, far)),
             source["far"]),
        Wall("wall_left", (world(left, 0, near), world(left, 0, far), world(left, top, far), world(left, top, near)),
             source["left"]),
        Wall("wall_right", (world(right, 0, far), world(right, 0, near), world(right, top, near),
                            world(right, top, far)), source["right"]),
    )
    named = [name for name, side in (("back", "far"), ("left", "left"), ("right", "right"), ("ceiling", "ceiling"))
             if used[side]]
    how = "walls along the room's axes"
    if named:
        how += f", the {', '.join(named)} measured from the depth map"
    if not all(used[side] for side in ("far", "left", "right")):
        how += (", the rest" if named else ",") + " just beyond the objects and the floor in view"
    return RoomShell(floor_polygon_m=floor_polygon, ceiling_height_m=float(top), walls=walls, source=how,
                     ceiling_source=ceiling_source)


def guessed_room_warning(room: RoomShell, objects: tuple[ObjectBox, ...], camera: CameraEstimate) -> str | None:
    """A warning when the room is a pure guess: no wall measured, no object standing in it and no floor at the
    photo's bottom edge (a close-up, a photo of a ceiling or of the sky); None otherwise."""
    if any(wall.source != "inferred" for wall in room.walls) or floor_in_view(camera):
        return None
    if any(obj.corners_m[:, 1].min() < 1e-6 for obj in objects):  # something stands on the floor
        return None
    return ("the photo shows no floor and nothing standing on it: the room's walls and size are guesses "
            "(marked inferred); a photo that shows the floor, or a depth map, measures them")


#: 1-sigma of a wall's or a ceiling's place measured from a sensor's depth map (metres): its layer's thickness and
#: the sensor's noise and registration at a few metres.
MEASURED_SIDE_SIGMA_M = 0.05


@dataclass(frozen=True)
class RoomMeasure:
    """One dimension of the room.

    value     : metres (square metres for the floor area)
    source    : ``depth`` (both ends measured from a depth map), ``depth+inferred`` (one end measured),
                ``layout`` (a room-layout answer), ``prior`` (a typical ceiling), ``objects`` (a ceiling raised
                above the tallest object) or ``inferred`` (walls just beyond the objects and the floor in view)
    at_least  : the room is at least this big (an end not seen: the wall behind the camera, an inferred wall)
    sigma     : 1-sigma in the value's unit, None where the value is a guess
    """

    value: float
    source: str
    at_least: bool
    sigma: float | None


def room_dimensions(room: RoomShell) -> dict[str, RoomMeasure]:
    """``width`` (left to right wall), ``depth`` (back wall to the near side), ``height`` and ``floor_area`` of a
    rectangular room shell, each with how it was found (:class:`RoomMeasure`); empty for another floor shape."""
    floor = np.asarray(room.floor_polygon_m, dtype=float).reshape(-1, 2)
    if len(floor) != 4:
        return {}
    walls = {wall.name: wall.source for wall in room.walls}

    def across(*names: str) -> RoomMeasure:
        sources = [walls.get(name) for name in names]
        value = float(np.linalg.norm(floor[1] - floor[0]) if names == ("wall_left", "wall_right")
                      else np.linalg.norm(floor[2] - floor[1]))
        if all(source == "depth" for source in sources):
            return RoomMeasure(value, "depth", False, math.sqrt(len(names)) * MEASURED_SIDE_SIGMA_M)
        if all(source == "layout" for source in sources):
            return RoomMeasure(value, "layout", False, None)
        if "depth" in sources:  # one end measured, the other inferred or not seen (behind the camera)
            return RoomMeasure(value, "depth+inferred", True, None)
        return RoomMeasure(value, "inferred", True, None)

    width = across("wall_left", "wall_right")
    depth = across("wall_back", "wall_front")
    out = {"width": width, "depth": depth}
    if room.ceiling_height_m is not None:
        out["height"] = RoomMeasure(float(room.ceiling_height_m), room.ceiling_source,
                                    room.ceiling_source == "objects",
                                    MEASURED_SIDE_SIGMA_M if room.ceiling_source == "depth" else None)
    area_source = width.source if width.source == depth.source else "inferred"
    area_sigma = None if width.sigma is None or depth.sigma is None else \
        math.hypot(width.sigma * depth.value, depth.sigma * width.value)
    out["floor_area"] = RoomMeasure(width.value * depth.value, area_source, width.at_least or depth.at_least,
                                    area_sigma)
    return out


#: No object or wall stands farther from the camera than this many camera heights (horizontally; 15 m for a camera
#: at 1.4 m: indoor rooms are rarely larger; relative, so that the solver stays scale-equivariant).
ROOM_REACH = 11.0
#: Measured sides (:func:`measured_sides`): at most this many of the map's points ...
SIDE_POINTS = 40_000
#: ... those at least this high above the floor (metres) and outside every object's 2D box take part ...
SIDE_ABOVE_FLOOR_M = 0.15
#: ... binned along each room axis into layers this thick (metres) ...
SIDE_LAYER_M = 0.05
#: ... a layer is a surface when it holds this share of those points (and at least SIDE_MIN_POINTS) ...
SIDE_MIN_SHARE = 0.02
SIDE_MIN_POINTS = 60
#: ... and spreads this far (metres) along it: a wall along the floor and up, a ceiling both ways across (the far
#: end of a side wall, or a wall's top row cut by the photo's border, is a thin strip) ...
SIDE_MIN_SPREAD_M = 0.5
SIDE_MIN_RISE_M = 0.3
#: ... with at most this share of the points beyond it (a window, a door left open onto another room).
SIDE_MAX_BEYOND = 0.03
#: The room reaches at least as far as what the map sees (these percentiles of its points' room coordinates).
SEEN_PERCENTILE = 0.5


def measured_sides(depth, camera: CameraEstimate, room_yaw_rad: float, boxes_xyxy_px=()) -> dict:
    """Where a metric depth map shows the room's sides, in the room's frame (x and z along its axes, from
    :func:`room_shell`): ``seen_xz``, two (x, z) corners of what it sees (:data:`SEEN_PERCENTILE`), and
    ``left`` / ``right`` (x), ``far`` (z) and ``ceiling`` (y), each the farthest layer on
    its side that holds a surface (:data:`SIDE_MIN_SHARE` of the points outside the objects' 2D boxes, spread
    along it as a wall or a ceiling is) with next to nothing beyond it; a side the map does not show is left
    out."""
    from ..depth import sample_pixels

    rows, columns, _ = sample_pixels(depth, SIDE_POINTS)
    uv = frames.pixel_centers(columns, rows)
    free = ~frames.in_boxes(uv, boxes_xyxy_px)
    points_cam = frames.unproject_pixels(camera.intrinsics.k_matrix, uv[free],
                                         depth.values[rows[free], columns[free]])
    points = frames.transform_points(camera.world_from_camera, points_cam) @ frames.rot_y(-room_yaw_rad).T
    points = points[points[:, 1] > SIDE_ABOVE_FLOOR_M]
    least = max(SIDE_MIN_POINTS, SIDE_MIN_SHARE * len(points))
    out: dict = {}
    if len(points) < least:
        return out
    eye = frames.rot_y(-room_yaw_rad) @ camera.world_from_camera[:3, 3]
    reach = ROOM_REACH * camera.height_m  # what lies farther is no room's (seen through a window, outdoors)
    low, high = (np.clip(np.percentile(points[:, [0, 2]], q, axis=0), eye[[0, 2]] - reach, eye[[0, 2]] + reach)
                 for q in (SEEN_PERCENTILE, 100.0 - SEEN_PERCENTILE))
    out["seen_xz"] = ((float(low[0]), float(low[1])), (float(high[0]), float(high[1])))
    wall = {1: SIDE_MIN_RISE_M}
    for name, axis, sign, across in (("left", 0, -1.0, {2: SIDE_MIN_SPREAD_M, **wall}),
                                     ("right", 0, 1.0, {2: SIDE_MIN_SPREAD_M, **wall}),
                                     ("far", 2, -1.0, {0: SIDE_MIN_SPREAD_M, **wall}),
                                     ("ceiling", 1, 1.0, {0: SIDE_MIN_SPREAD_M, 2: SIDE_MIN_SPREAD_M})):
        beyond_eye = points[sign * (points[:, axis] - eye[axis]) > 0]  # the side of the camera it lies on
        if len(beyond_eye) < least:
            continue
        coordinate = sign * beyond_eye[:, axis]  # larger: farther out
        layers = np.floor(coordinate / SIDE_LAYER_M).astype(int)
        for layer in np.unique(layers)[::-1]:  # from the farthest inwards
            beyond = (layers > layer).mean()
            if beyond > SIDE_MAX_BEYOND:
                break
            on = np.abs(layers - layer) <= 1  # the layer and its neighbours (a wall straddles bins)
            if on.sum() < least:
                continue
            if all(np.percentile(beyond_eye[on, k], 95) - np.percentile(beyond_eye[on, k], 5) >= spread_m
                   for k, spread_m in across.items()):
                place = sign * float(np.median(coordinate[on]))
                if abs(place - eye[axis]) <= reach:  # else no room's wall
                    out[name] = place
                break
    return out


def floor_in_view(camera: CameraEstimate, max_distance_m: float = 8.0) -> list[np.ndarray]:
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
