"""Free-form room-layout answers -> a metric scene: objects, room shell and the camera the text implies.

A vision-language model asked to describe a room answers JSON such as ::

    {"room_type": "bedroom",
     "layout": {"bed": {"position": "against north wall", "size": "queen"},
                "wardrobe": {"position": "southwest corner", "distance_from_bed": "1.8m"},
                "window": {"position": "east wall"}},
     "spatial_inference": "The camera is near the southeast corner, facing northwest."}

:func:`layout_scene` turns such an answer (alone) into upright boxes (:class:`ObjectBox`), a rectangular
:class:`RoomShell` and the camera pose the text implies; :func:`solve_with_layout` combines it with the 2D boxes of
a grounding (:mod:`solve`), which stay the geometry.

Conventions
-----------
*Room frame* (where the text is read): metres, ``x`` = east, ``z`` = south, ``y`` up (right-handed, like the world
frame), origin at the middle of the room's floor. North is ``-z``. The room is a rectangle along the compass
axes, ``width`` east-west and ``depth`` north-south.

*Compass*: the text's compass words name directions of that frame. When the text does not say where the camera
faces, it faces **north** (so north is the wall the camera faces, as in ``CONVENTIONS.md``'s sample truth). When it
does ("facing northwest", "looking towards the bed", "facing the far wall"), that is the camera's heading.

*Heading* ``heading_rad``: the camera's yaw in the room frame, the glTF yaw convention of ``CONVENTIONS.md``: its
optical axis, projected on the floor, points along ``Ry(heading) @ (0, 0, -1) = (-sin h, 0, -cos h)``: 0 faces
north, +pi/2 west, -pi/2 east, pi/4 northwest.

*Room frame -> world frame* (``CONVENTIONS.md``: camera above the world origin, looking along ``-Z``):
``p_world = Ry(-heading) @ (p_room - camera_room)``, with ``camera_room = (cx, 0, cz)`` the camera's spot on the
floor; yaws: ``yaw_world = yaw_room - heading``. The whole layout is thus turned so that the camera's heading is
``-Z``; the room's walls have the world yaw ``-heading``. ``camera_pose`` is ``world_from_camera`` at the camera
height (the camera estimate's, else 1.4 m), with the estimate's pitch and roll (level without one). When the camera
estimate knows the room's heading (from the photo's vanishing points, or given), the text's heading is moved to the
nearest heading that agrees with it (the walls then line up with the photo; a note says so when it moves more than
22.5 degrees).

*Walls*: ``RoomShell.walls`` are named as the solver names them, from the camera: ``wall_back`` (the compass wall
nearest the heading), ``wall_right``, ``wall_left`` and ``wall_front`` (behind the camera; the GLB leaves it out,
like solved scenes). ``LayoutResult.wall_names`` maps ``north``/``east``/``south``/``west`` to those names.

The answer is read by :mod:`layout_text` (words -> facts: sizes, anchors, relations, the camera's spot) and placed
by :mod:`layout_place` (facts -> positions, a small least-squares problem); this module turns the result into the
world frame and combines it with 2D boxes.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from . import frames, priors
from .camera.intrinsics import DEFAULT_CAMERA_HEIGHT_M  # when no camera estimate is given (hand-held)
from .layout_place import OPENING_DEPTH_M, _place, _report, _Room
from .layout_text import (
    _WALL,
    WALLS,
    _camera_plan,
    _front,
    _heading_from_vector,
    _heading_vector,
    _parse,
    _Parsed,
    _resolve,
    _Spec,
    _wall_towards,
    _words,
    size_words,
)
from .records import CameraEstimate, Grounding, ObjectBox, RoomShell, Scene, Wall


#: With 2D boxes: how far (metres, a prior's spread) a solved wall may move out to make room for the objects the
#: layout adds: the walls in view, and the one behind the camera (which the photo does not show).
SEEN_WALL_SPREAD_M = 0.5


BEHIND_WALL_SPREAD_M = 3.0
#: With 2D boxes: a stated room size contradicts the photo when what the photo shows (its room's width or depth,
#: the walls just beyond the objects and the floor in view) exceeds it by more than this log ratio (28 %: the
#: photo's objects are placed to a few tens of centimetres).
ROOM_SIZE_CONFLICT_LOG = 0.25


@dataclass(frozen=True)
class LayoutResult:
    """A scene from a room-layout answer, in the world frame of ``CONVENTIONS.md`` (see the module docstring).

    objects       : the placed objects (windows and doors as thin boxes in their wall), ``detection_index`` -1
    room          : the rectangular room, walls named from the camera (``wall_names`` maps the compass to them)
    camera_pose   : (4, 4) ``world_from_camera`` (OpenCV camera -> world): above the origin, looking along -Z
    warnings      : what was not understood, dropped, defaulted or could not be kept
    room_type     : the room type used for the default size, or None
    room_size_m   : (east-west width, north-south depth)
    heading_rad   : the camera's yaw in the room frame (0 = facing north, pi/2 = facing west)
    camera_room_m : the camera's spot on the floor in the room frame (east, south), from the room's centre
    """

    objects: tuple[ObjectBox, ...]
    room: RoomShell
    camera_pose: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()
    room_type: str | None = None
    room_size_m: tuple[float, float] = (0.0, 0.0)
    heading_rad: float = 0.0
    camera_room_m: tuple[float, float] = (0.0, 0.0)
    wall_names: dict = field(default_factory=dict)
    room_yaw_rad: float = 0.0


def layout_scene(layout: dict, camera: CameraEstimate | None = None) -> LayoutResult:
    """A metric scene from a room-layout answer (see the module docstring for the conventions).

    ``layout`` is the model's JSON answer (``{"room_type": .., "layout": {..}, "spatial_inference": ..}``) or
    just its inner ``layout`` object. ``camera`` (optional) gives the camera height, pitch and roll, and, when it
    knows the room's heading (``room_yaw_source`` not ``assumed_facing_camera``: the photo's vanishing points, or
    given), the text's heading is aligned to ``camera.room_yaw_rad`` modulo 90 degrees. Never raises for a JSON
    value; everything not understood is in ``warnings``.
    """
    parsed = _parse(layout)
    warnings = parsed.warnings
    height = float(camera.height_m) if camera is not None else DEFAULT_CAMERA_HEIGHT_M
    pitch = float(camera.pitch_rad) if camera is not None else 0.0
    roll = float(camera.roll_rad) if camera is not None else 0.0

    camera_plan = _camera_plan(parsed.camera_text, parsed.specs, warnings)
    text_heading = camera_plan.heading[1] if camera_plan.heading and camera_plan.heading[0] == "compass" else 0.0
    _resolve(parsed, text_heading, warnings)
    if not parsed.specs:
        warnings.append("layout: the answer names no objects; only the room is built")

    size = parsed.room_size or parsed.default_size
    room = _Room(np.array([-0.5 * size[0], 0.5 * size[0], -0.5 * size[1], 0.5 * size[1]]),
                 free_size=parsed.room_size is None, prior_size=size, ceiling=parsed.ceiling)
    model, x, camera_fn = _place(parsed, room, camera_plan, text_heading, warnings)
    tallest = max((s.top for s in parsed.specs), default=0.0)
    _report(model, x, warnings)
    b = model.bounds(x)
    C = model.centres(x, b)
    width, depth = float(b[1] - b[0]), float(b[3] - b[2])
    if room.free_size and (abs(math.log(width / size[0])) > 0.1 or abs(math.log(depth / size[1])) > 0.1):
        warnings.append(f"layout: the room's size is not stated; {width:.2f} x {depth:.2f} m (east-west x "
                        f"north-south) keeps the objects and distances the layout gives (typical "
                        f"{parsed.room_type or 'room'}: {size[0]:.1f} x {size[1]:.1f} m)")
    camera_xz = camera_fn(x, b, C)
    index = {id(s): i for i, s in enumerate(parsed.specs)}
    if camera_plan.heading is not None and camera_plan.heading[0] == "spec":
        heading = _heading_from_vector(C[index[id(camera_plan.heading[1])]] - camera_xz)
    elif camera_plan.heading is not None and camera_plan.heading[0] == "compass":
        heading = camera_plan.heading[1]
    elif camera_plan.position is not None or camera_plan.heading is not None:
        centre = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
        heading = _heading_from_vector(centre - camera_xz) if np.linalg.norm(centre - camera_xz) > 1e-6 else 0.0
    else:
        heading = 0.0
    if camera is not None and camera.room_yaw_source != "assumed_facing_camera":
        snapped = _snap_heading(heading, camera.room_yaw_rad)
        if abs(frames.wrap_angle(snapped - heading)) > math.radians(22.5):
            warnings.append(f"layout: the photo's walls turn the camera's heading by "
                            f"{math.degrees(frames.wrap_angle(snapped - heading)):+.0f} degrees from the text's")
        heading = snapped
    ceiling = max(parsed.ceiling, tallest + 0.02)
    objects = _objects_in_world(parsed.specs, C, camera_xz, heading)
    room_shell_ = _room_in_world(b, ceiling, camera_xz, heading)
    pose = frames.world_from_camera_from_attitude(pitch, roll, height)
    return LayoutResult(
        objects=tuple(objects), room=room_shell_, camera_pose=pose, warnings=tuple(dict.fromkeys(warnings)),
        room_type=parsed.room_type, room_size_m=(width, depth), heading_rad=float(frames.wrap_angle(heading)),
        camera_room_m=(float(camera_xz[0] - 0.5 * (b[0] + b[1])), float(camera_xz[1] - 0.5 * (b[2] + b[3]))),
        wall_names=_wall_names(heading), room_yaw_rad=_room_yaw(heading))


def _snap_heading(heading: float, room_yaw_rad: float) -> float:
    """The heading nearest ``heading`` that makes the room's world yaw (-heading) agree with the photo's
    ``room_yaw_rad`` modulo 90 degrees."""
    base = -room_yaw_rad
    k = round((heading - base) / (0.5 * math.pi))
    return base + k * 0.5 * math.pi


def _room_yaw(heading: float) -> float:
    """The room's yaw in the world (-heading), wrapped to [-pi/4, pi/4) like ``CameraEstimate.room_yaw_rad``."""
    return (-heading + 0.25 * math.pi) % (0.5 * math.pi) - 0.25 * math.pi


def _wall_names(heading: float) -> dict:
    far = _wall_towards(heading)
    order = ["north", "west", "south", "east"]  # counter-clockwise seen from above: each is left of the previous
    k = order.index(far)
    return {far: "wall_back", order[(k + 1) % 4]: "wall_left", order[(k + 2) % 4]: "wall_front",
            order[(k + 3) % 4]: "wall_right"}


def _to_world(heading: float, camera_xz) -> tuple[np.ndarray, np.ndarray]:
    rotation = frames.rot_y(-heading)
    origin = np.array([camera_xz[0], 0.0, camera_xz[1]])
    return rotation, origin


def _objects_in_world(specs: list[_Spec], C: np.ndarray, camera_xz, heading: float) -> list[ObjectBox]:
    rotation, origin = _to_world(heading, camera_xz)
    out = []
    for i, spec in enumerate(specs):
        if spec.mode == "fixed":
            continue
        size = np.array(spec.size, dtype=float)
        if spec.is_opening:
            size[2] = OPENING_DEPTH_M
        centre_room = np.array([C[i, 0], spec.y0 + 0.5 * size[1], C[i, 1]])
        centre = rotation @ (centre_room - origin)
        notes = ["placed from the room-layout text", *spec.notes]
        if spec.mode == "wall":
            notes.append(f"back to the {spec.wall} wall" + (f", in the {spec.wall}/{spec.corner_other} corner"
                                                            if spec.corner_other in WALLS else ""))
        if spec.mode == "on" and spec.support is not None:
            notes.append(f"stands on {spec.support.label}")
        out.append(ObjectBox(
            label=spec.label, category=spec.prior.category, detection_index=spec.detection_index,
            center_m=tuple(float(v) for v in centre), size_m=tuple(float(v) for v in size),
            yaw_rad=float(frames.wrap_angle(spec.yaw - heading)), confidence=None,
            size_source=spec.size_source, notes=tuple(notes)))
    return out


def _room_in_world(b, ceiling: float, camera_xz, heading: float) -> RoomShell:
    rotation, origin = _to_world(heading, camera_xz)
    x0, x1, z0, z1 = (float(v) for v in b)

    def world(x, y, z):
        return tuple(float(v) for v in rotation @ (np.array([x, y, z]) - origin))

    corners = {"sw": (x0, z1), "se": (x1, z1), "ne": (x1, z0), "nw": (x0, z0)}
    # counter-clockwise seen from above (CONVENTIONS.md): SW, SE, NE, NW in the room frame
    floor = tuple((p[0], p[2]) for p in (world(x, 0.0, z) for x, z in corners.values()))
    # each wall's floor-left and floor-right corners as seen from inside, facing it
    ends = {"north": ("nw", "ne"), "east": ("ne", "se"), "south": ("se", "sw"), "west": ("sw", "nw")}
    names = _wall_names(heading)
    walls = []
    for compass in ("north", "east", "south", "west"):
        left, right = (corners[k] for k in ends[compass])
        walls.append(Wall(names[compass], (world(left[0], 0.0, left[1]), world(right[0], 0.0, right[1]),
                                           world(right[0], ceiling, right[1]), world(left[0], ceiling, left[1])),
                          "layout"))
    order = {"wall_back": 0, "wall_left": 1, "wall_right": 2, "wall_front": 3}
    walls.sort(key=lambda w: order[w.name])
    return RoomShell(floor_polygon_m=floor, ceiling_height_m=float(ceiling), walls=tuple(walls),
                     source="room-layout text: a rectangle along the compass walls", ceiling_source="layout")


def solve_with_layout(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float | None = None,
                      refine_scale: bool = True) -> Scene:
    """:func:`solve.solve` for a grounding with a room-layout answer.

    Layout only (no detections): the layout scene (:func:`layout_scene`) with the photo's camera (its intrinsics,
    pitch, roll and height kept; its room heading set to the layout's).

    Layout and 2D boxes: the 2D solution stays the geometry; the layout adds (1) its size words and dimensions as
    the size prior of the detections it names (matched by category, in order), (2) "against X wall" / "X corner" as
    the wall those detections turn their back to, and (3) the objects it names that no detection covers, placed
    by the layout's words in the solved room (its compass aligned to the solved walls through the camera's heading
    in the text, moved to the nearest heading that agrees with the room's yaw).
    """
    from .solve import solve_boxes

    layout = grounding.layout
    if not grounding.detections:
        if room_yaw_rad is not None:
            camera = dataclasses.replace(camera, room_yaw_rad=float(room_yaw_rad), room_yaw_source="given")
        result = layout_scene(layout, camera)
        scene_camera = dataclasses.replace(
            camera, world_from_camera=result.camera_pose, room_yaw_rad=result.room_yaw_rad,
            room_yaw_source="layout" if camera.room_yaw_source == "assumed_facing_camera"
            else f"layout+{camera.room_yaw_source}")
        summary = {"room_type": result.room_type, "room_size_m": list(result.room_size_m),
                   "camera_heading_deg": math.degrees(result.heading_rad),
                   "camera_room_m": list(result.camera_room_m), "wall_names": dict(result.wall_names),
                   "objects_from_text": len(result.objects)}
        return Scene(camera=scene_camera, room=result.room, objects=result.objects, warnings=result.warnings,
                     layout=summary)

    parsed = _parse(layout)
    warnings = parsed.warnings
    room_yaw = camera.room_yaw_rad if room_yaw_rad is None else room_yaw_rad
    camera_plan = _camera_plan(parsed.camera_text, parsed.specs, warnings)
    text_heading = camera_plan.heading[1] if camera_plan.heading and camera_plan.heading[0] == "compass" else 0.0
    heading = _snap_heading(text_heading, room_yaw)
    _resolve(parsed, heading, warnings)

    # match layout objects to detections by category, in order
    matched: dict[int, _Spec] = {}
    free_detections = list(grounding.detections)
    for spec in parsed.specs:
        if spec.is_opening:
            continue
        category = spec.prior.category
        for detection in free_detections:
            d_category = priors.lookup(detection.label).category
            if (category != priors.UNKNOWN and d_category == category) or _words(detection.label) == spec.label:
                matched[detection.detection_index] = spec
                free_detections.remove(detection)
                break
    size_priors, wall_normals = {}, {}
    to_world = frames.rot_y(-heading)
    for index, spec in matched.items():
        if spec.size_source.startswith("layout"):
            spread = size_words()["named_spread"] if spec.size_source != "layout_scaled_prior" else spec.prior.spread
            size_priors[index] = dataclasses.replace(spec.prior, size_m=tuple(float(v) for v in spec.size),
                                                     spread=float(spread), spread_whd=None)
        walls = []
        if spec.anchor is not None and spec.anchor[0] == "wall" and spec.anchor[1] is not None:
            walls = [spec.anchor[1]]
        elif spec.anchor is not None and spec.anchor[0] == "corner" and spec.anchor[1] is not None:
            walls = [spec.anchor[2]] if len(spec.anchor) == 3 else list(spec.anchor[1])
        if walls:
            normals = []
            for wall in walls:
                info = _WALL[wall]
                out_room = np.zeros(3)
                out_room[0 if info.tangent == 1 else 2] = -info.inward
                normals.append(to_world @ out_room)
            wall_normals[index] = (tuple(normals), walls)
    scene = solve_boxes(grounding, camera, room_yaw_rad, refine_scale, size_priors=size_priors,
                        wall_normals={k: v[0] for k, v in wall_normals.items()})
    objects = []
    for obj in scene.objects:
        notes = list(obj.notes)
        spec = matched.get(obj.detection_index)
        if spec is not None:
            if obj.detection_index in size_priors:
                obj = dataclasses.replace(obj, size_source="2d_box+layout_size")
                notes.append(f"size prior from the layout ({spec.size_source.replace('layout_', '')})")
            if obj.detection_index in wall_normals:
                notes = [n for n in notes if n != "back to a wall"]
                notes.append(f"back to the {'/'.join(wall_normals[obj.detection_index][1])} wall (layout)")
        objects.append(dataclasses.replace(obj, notes=tuple(notes)))

    # objects the layout names that no detection covers
    room = scene.room
    if any(all(s is not m for m in matched.values()) for s in parsed.specs):
        added, room = _add_missing(parsed, matched, scene, heading, warnings)
        objects.extend(added)
    size_check = None
    if parsed.room_size:
        size_check = room_size_check(parsed.room_size, room, heading)
        if size_check["kept"] == "photo":
            warnings.append(size_check["why"])
    summary = {"room_type": parsed.room_type,
               "room_size_m": list(parsed.room_size) if parsed.room_size else None, "room_size_check": size_check,
               "camera_heading_deg": math.degrees(frames.wrap_angle(heading)), "wall_names": _wall_names(heading),
               "matched": {str(index): spec.label for index, spec in sorted(matched.items())},
               "objects_from_text": len(objects) - len(scene.objects)}
    return Scene(camera=scene.camera, room=room, objects=tuple(objects),
                 warnings=tuple(dict.fromkeys([*scene.warnings, *warnings])), layout=summary)


def room_size_check(stated_m: tuple[float, float], room: RoomShell, heading: float) -> dict:
    """A layout answer's room size (east-west width, north-south depth, ``stated_m``) against the room the photo
    shows (``room``, solved from the 2D boxes; ``heading``, the camera's compass heading in the layout's frame):
    ``stated_m`` and ``seen_m`` (across: left to right wall, along: back wall to the near side), ``kept``
    (``photo`` when the photo shows more than the answer allows by :data:`ROOM_SIZE_CONFLICT_LOG`: what it shows
    must fit between the walls; else ``both``: the photo's room is at least what it shows, and the answer's may
    be larger) and ``why``, a sentence."""
    from .solve.room import room_dimensions

    dimensions = room_dimensions(room)
    far = _wall_towards(heading)
    across, along = (stated_m[0], stated_m[1]) if far in ("north", "south") else (stated_m[1], stated_m[0])
    seen = (dimensions["width"].value, dimensions["depth"].value) if dimensions else (0.0, 0.0)
    over = [name for name, s, t in (("across", seen[0], across), ("deep", seen[1], along))
            if s > t * math.exp(ROOM_SIZE_CONFLICT_LOG)]
    stated = f"{stated_m[0]:.1f} x {stated_m[1]:.1f} m"
    if over:
        shows = " and ".join(f"{seen[0 if name == 'across' else 1]:.1f} m {name}" for name in over)
        why = (f"layout: the answer says the room is {stated} (east-west x north-south), but the photo shows at "
               f"least {shows}: the photo's room is kept (the objects and the floor it shows must fit between "
               "its walls)")
        kept = "photo"
    else:
        why = (f"layout: the answer's room ({stated}) holds what the photo shows ({seen[0]:.1f} m across, "
               f"{seen[1]:.1f} m deep at least)")
        kept = "both"
    return {"stated_m": [float(v) for v in stated_m], "seen_m": [float(v) for v in seen], "kept": kept, "why": why}


def _add_missing(parsed: _Parsed, matched: dict, scene: Scene, heading: float,
                 warnings: list) -> tuple[list[ObjectBox], RoomShell]:
    """Place the layout objects no detection covers in the solved room (room frame: compass axes, origin at the
    camera), with the solved objects fixed; returns them and the room, its walls moved out where they had to."""
    to_room = frames.rot_y(heading)
    polygon = np.array([to_room @ np.array([x, 0.0, z]) for x, z in scene.room.floor_polygon_m])
    bounds = np.array([polygon[:, 0].min(), polygon[:, 0].max(), polygon[:, 2].min(), polygon[:, 2].max()])
    # the solver's walls stand just beyond what it saw: each may move out to make room, the one behind the camera
    # (a guess) most easily
    back = -_heading_vector(heading)
    behind = (1 if back[0] > 0 else 0) if abs(back[0]) > abs(back[1]) else (3 if back[1] > 0 else 2)
    grow = tuple((side, BEHIND_WALL_SPREAD_M if side == behind else SEEN_WALL_SPREAD_M) for side in range(4))
    room = _Room(bounds, free_size=False, prior_size=(float(bounds[1] - bounds[0]), float(bounds[3] - bounds[2])),
                 grow=grow, ceiling=scene.room.ceiling_height_m or 2.6)
    by_index = {obj.detection_index: obj for obj in scene.objects}
    for detection_index, spec in matched.items():
        obj = by_index.get(detection_index)
        if obj is None:
            continue
        centre = to_room @ np.array(obj.center_m)
        spec.mode = "fixed"
        spec.fixed_xz = centre[[0, 2]]
        spec.yaw = float(frames.wrap_angle(obj.yaw_rad + heading))
        spec.size = np.array(obj.size_m, dtype=float)
        spec.y0 = float(obj.center_m[1] - 0.5 * obj.size_m[1])
        spec.relations, spec.distances = [], []
        back_dir = -_front(spec.yaw)
        for wall, info in _WALL.items():
            out = np.zeros(2)
            out[1 - info.tangent] = -info.inward
            if back_dir @ out > 0.7:
                gap = abs(centre[[0, 2]][1 - info.tangent] - bounds[info.bound]) - 0.5 * spec.size[2]
                if gap < 0.3:
                    spec.fixed_wall = wall
    # other solved objects are obstacles: add them as fixed specs
    for obj in scene.objects:
        if obj.detection_index in matched:
            continue
        centre = to_room @ np.array(obj.center_m)
        prior = priors.lookup(obj.label)
        spec = _Spec(-1, obj.label, obj.label, prior, np.array(obj.size_m, dtype=float), obj.size_source, "furniture")
        spec.mode, spec.fixed_xz = "fixed", centre[[0, 2]]
        spec.yaw = float(frames.wrap_angle(obj.yaw_rad + heading))
        spec.y0 = float(obj.center_m[1] - 0.5 * obj.size_m[1])
        parsed.specs.append(spec)
    model, x, _ = _place(parsed, room, None, heading, warnings, camera_xz=np.zeros(2))
    _report(model, x, warnings)
    b = model.bounds(x)
    C = model.centres(x, b)
    added = _objects_in_world(parsed.specs, C, np.zeros(2), heading)
    for obj in added:
        warnings.append(f"layout: {obj.label} is not among the 2D boxes; placed from the layout's words")
    if np.allclose(b, bounds, atol=1e-4):
        return added, scene.room
    shell = _room_in_world(b, scene.room.ceiling_height_m or 2.6, np.zeros(2), heading)
    walls = tuple(w for w in shell.walls if w.name != "wall_front")  # open behind the camera, as solved rooms are
    return added, dataclasses.replace(shell, walls=walls, source=f"{scene.room.source}; walls moved out for the "
                                      "objects of the room-layout text")
