"""Stage 4: the geometry solver: detections + camera -> metric, gravity-aligned oriented boxes and a room shell.

This version places every object on a support (the floor, or the top of the object it stands on, for categories
such as table lamps and TVs) and fits, per object, the box whose projection best matches its 2D box under the
category's size prior (``scipy.optimize.least_squares``, robust loss). Sides of a 2D box that touch the photo's
border only say the object reaches at least that far. Yaw is aligned with the room's axes (this version assumes
the room is aligned with the camera's heading) and the orientation that fits best is kept; the front then faces
the camera. The metric scale comes from the camera height.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from . import frames, priors
from .records import CameraEstimate, Detection, Grounding, ObjectBox, RoomShell, Scene, Wall

#: Sides of a 2D box closer than this to the photo border are treated as cut by the border.
BORDER_MARGIN_PX = 3.0
#: Pixel noise of a 2D box side: a floor plus a fraction of the box diagonal.
SIDE_SIGMA_PX = 2.0
SIDE_SIGMA_FRACTION = 0.02
#: Nearest distance in front of the camera a box corner may have.
NEAR_M = 0.15
#: Objects are not placed farther than this from the camera.
MAX_DISTANCE_M = 25.0
#: How far outside a supporter's footprint an object's contact may be and still stand on it.
SUPPORT_MARGIN_M = 0.25
#: Relative spread of hand-held camera heights around the prior (1.4 m +- 12 % covers 1.2-1.6 m).
CAMERA_HEIGHT_SPREAD = 0.12
#: Rounds of "solve, measure the scale from the objects' sizes, solve again".
SCALE_ITERATIONS = 4
#: Gap between a wall and the farthest object on its side.
WALL_GAP_M = 0.02
#: The floor seen at the photo's bottom edge is this far inside the walls, at least.
VIEW_MARGIN_M = 0.3
#: Cost head start of a category's usual support (floor or furniture) when choosing where an object stands.
SUPPORT_BIAS = 2.0
#: A floor contact this much farther than every other object is taken to be outside the room.
BEYOND_ROOM_M = 1.5
#: Weight of the squared gap (m) between an against-the-wall object's back and the wall, against the fit cost.
WALL_WEIGHT = 4.0
#: Prior ceiling height when nothing measures it (2.4-2.8 m in homes).
DEFAULT_CEILING_M = 2.6


@dataclass(frozen=True)
class _Fit:
    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: float
    cost: float
    candidates: tuple["_Fit", ...] = ()


def solve(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float | None = None,
          refine_scale: bool = True) -> Scene:
    """Solve every usable detection into an :class:`ObjectBox` and bound the scene with a :class:`RoomShell`.

    ``room_yaw_rad`` defaults to the camera estimate's. When the camera height is only a prior and
    ``refine_scale`` is on, the height (hence the scene's scale) is refined from the objects' sizes: see
    :func:`refine_camera_height`.
    """
    room_yaw = camera.room_yaw_rad if room_yaw_rad is None else room_yaw_rad
    objects, fits, warnings = _solve_objects(grounding, camera, room_yaw)
    if refine_scale and camera.height_source == "prior":
        for _ in range(SCALE_ITERATIONS):
            height = refine_camera_height(objects, grounding, camera)
            if height is None or abs(math.log(height / camera.height_m)) < 0.005:
                break
            camera = with_camera_height(camera, height, "prior+object_sizes")
            objects, fits, warnings = _solve_objects(grounding, camera, room_yaw)
    objects = _back_to_walls(objects, fits, room_shell(objects, camera, room_yaw))
    room = room_shell(objects, camera, room_yaw)
    return Scene(camera=camera, room=room, objects=objects, warnings=tuple(warnings))


def refine_camera_height(objects, grounding: Grounding, camera: CameraEstimate) -> float | None:
    """The camera height that makes the floor-standing objects as tall as their category says, combined in log
    space with the hand-held prior (weights 1 / spread^2). Every length of a floor-contact solution scales with
    the camera height, so one ratio per object measures the scale. None when no object can vote (unknown
    categories, boxes cut at the top or bottom, objects standing on others)."""
    from .camera import DEFAULT_CAMERA_HEIGHT_M

    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    boxes = {d.detection_index: d.box_xyxy_px for d in grounding.detections}
    log_sum = math.log(DEFAULT_CAMERA_HEIGHT_M) / CAMERA_HEIGHT_SPREAD ** 2
    weight_sum = 1.0 / CAMERA_HEIGHT_SPREAD ** 2
    votes = 0
    for obj in objects:
        prior = priors.lookup(obj.label)
        x1, y1, x2, y2 = boxes[obj.detection_index]
        cut = y1 <= BORDER_MARGIN_PX or y2 >= height - BORDER_MARGIN_PX or x1 <= BORDER_MARGIN_PX \
            or x2 >= width - BORDER_MARGIN_PX
        if prior.category == priors.UNKNOWN or cut or obj.corners_m[:, 1].min() > 1e-6:
            continue
        weight = 1.0 / max(prior.spread, 0.05) ** 2
        log_sum += weight * (math.log(camera.height_m) + math.log(prior.size_m[1] / obj.size_m[1]))
        weight_sum += weight
        votes += 1
    return math.exp(log_sum / weight_sum) if votes else None


def with_camera_height(camera: CameraEstimate, height_m: float, source: str) -> CameraEstimate:
    """The same camera at another height above the floor."""
    world_from_camera = camera.world_from_camera.copy()
    world_from_camera[1, 3] = height_m
    return dataclasses.replace(camera, world_from_camera=world_from_camera, height_m=float(height_m),
                               height_source=source)


def _solve_objects(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float):
    warnings: list[str] = []
    # Larger objects first, so that what stands on them finds them solved.
    order = sorted(grounding.detections, key=lambda d: (priors.lookup(d.label).support == "furniture",
                                                        -np.prod(priors.lookup(d.label).size_m)))
    solved: dict[int, tuple[Detection, ObjectBox]] = {}
    fits: dict[int, _Fit] = {}
    for detection in order:
        prior = priors.lookup(detection.label)
        notes = []
        if prior.category == priors.UNKNOWN:
            warnings.append(f"no size prior for label {detection.label!r} (entry {detection.detection_index}): "
                            "used a generic box")
            notes.append("generic size prior")
        fit = _fit_object(detection, prior, camera, 0.0, room_yaw_rad)
        supporter = _find_supporter(detection, list(solved.values()), camera) if prior.support != "wall" else None
        if supporter is not None:
            # Model selection: on the floor or on the supporter, whichever explains the 2D box with the more
            # typical size; the category's usual support gets a head start.
            on_top = _fit_object(detection, prior, camera, supporter.center_m[1] + 0.5 * supporter.size_m[1],
                                 room_yaw_rad)
            # A floor contact far beyond every other object would lie outside the room: the bottom edge seen is
            # then no floor contact, and the object stands on the supporter.
            origin = camera.world_from_camera[:3, 3]
            farthest = max(np.linalg.norm(box.corners_m - origin, axis=1).max() for _, box in solved.values())
            beyond = np.linalg.norm(fit.center_m - origin) > farthest + BEYOND_ROOM_M
            bias = SUPPORT_BIAS if prior.support == "furniture" else -SUPPORT_BIAS
            if beyond or on_top.cost - bias < fit.cost:
                fit = on_top
                notes.append(f"stands on {supporter.label}")
        if np.linalg.norm(fit.center_m - camera.world_from_camera[:3, 3]) > 0.95 * MAX_DISTANCE_M:
            warnings.append(f"{detection.label!r} (entry {detection.detection_index}) could not be placed "
                            "reliably: its 2D box gives no floor contact")
        box = ObjectBox(
            label=detection.label,
            category=prior.category,
            detection_index=detection.detection_index,
            center_m=tuple(float(v) for v in fit.center_m),
            size_m=tuple(float(v) for v in fit.size_m),
            yaw_rad=float(fit.yaw_rad),
            confidence=detection.confidence,
            size_source="2d_box+prior" if prior.category != priors.UNKNOWN else "2d_box+generic_prior",
            notes=tuple(notes),
        )
        solved[detection.detection_index] = (detection, box)
        fits[detection.detection_index] = fit
    return tuple(solved[d.detection_index][1] for d in grounding.detections), fits, warnings


def _find_supporter(detection: Detection, candidates: list[tuple[Detection, ObjectBox]],
                    camera: CameraEstimate) -> ObjectBox | None:
    """The solved object this one may stand on (a lamp on a nightstand): among the objects with a flat top
    (``holds_objects`` in the priors) whose 2D box holds this one's bottom edge, the first top surface that the ray through the bottom edge's centre meets inside the
    object's footprint (the highest such surface, as the ray comes down from the camera)."""
    x1, _, x2, y2 = detection.box_xyxy_px
    ray = camera.world_from_camera[:3, :3] @ frames.pixel_rays(camera.intrinsics.k_matrix,
                                                               np.array([0.5 * (x1 + x2), y2]))
    origin = camera.world_from_camera[:3, 3]
    best, best_top = None, -np.inf
    for other, box in candidates:
        ox1, oy1, ox2, oy2 = other.box_xyxy_px
        if not priors.lookup(box.label).holds_objects:
            continue
        if not (ox1 <= 0.5 * (x1 + x2) <= ox2 and oy1 - 0.1 * (oy2 - oy1) <= y2 <= oy2):
            continue
        top = box.center_m[1] + 0.5 * box.size_m[1]
        if ray[1] > -1e-6 or top >= origin[1]:
            continue
        hit = origin + (top - origin[1]) / ray[1] * ray
        local = frames.rot_y(-box.yaw_rad) @ (hit - np.array(box.center_m))
        margin = SUPPORT_MARGIN_M
        if abs(local[0]) <= 0.5 * box.size_m[0] + margin and abs(local[2]) <= 0.5 * box.size_m[2] + margin \
                and top > best_top:
            best, best_top = box, top
    return best


def _fit_object(detection: Detection, prior: priors.SizePrior, camera: CameraEstimate, support_y: float,
                room_yaw_rad: float) -> _Fit:
    fits = [_fit_with_yaw(detection, prior, camera, support_y, room_yaw_rad + turn)
            for turn in (0.0, 0.5 * math.pi)]
    best = min(fits, key=lambda fit: fit.cost)
    # A box turned by pi is the same box: keep the orientation whose front faces the camera.
    to_camera = camera.world_from_camera[:3, 3] - best.center_m
    front = frames.rot_y(best.yaw_rad) @ np.array([0.0, 0.0, 1.0])
    yaw = best.yaw_rad if front @ to_camera >= 0 else best.yaw_rad + math.pi
    return _Fit(best.center_m, best.size_m, frames.wrap_angle(yaw), best.cost, tuple(fits))


def _back_to_walls(objects: tuple[ObjectBox, ...], fits: dict[int, "_Fit"], room: RoomShell) -> tuple:
    """Objects that stand against a wall (wardrobes, beds, sofas: ``against_wall`` in the priors) turn their back
    to the nearest wall: among the fits of both horizontal axes, each either way round, the one that minimises
    the fit cost plus ``WALL_WEIGHT`` times the squared gap between its back face and a wall it faces."""
    planes = [wall.plane for wall in room.walls]
    out = []
    for obj in objects:
        fit = fits.get(obj.detection_index)
        if fit is None or not planes or not priors.lookup(obj.label).against_wall or any(
                note.startswith("stands on") for note in obj.notes):
            out.append(obj)
            continue
        best, best_score = None, math.inf
        for candidate in fit.candidates:
            for turn in (0.0, math.pi):
                yaw = candidate.yaw_rad + turn
                back = -(frames.rot_y(yaw) @ np.array([0.0, 0.0, 1.0]))
                back_face = candidate.center_m + back * 0.5 * candidate.size_m[2]
                gaps = [plane[:3] @ back_face + plane[3] for plane in planes if -(plane[:3] @ back) > 0.7]
                if not gaps:
                    continue
                score = candidate.cost + WALL_WEIGHT * min(max(g, 0.0) for g in gaps) ** 2
                if score < best_score:
                    best, best_score = (candidate, yaw), score
        if best is None:
            out.append(obj)
            continue
        candidate, yaw = best
        out.append(dataclasses.replace(obj, center_m=tuple(map(float, candidate.center_m)),
                                       size_m=tuple(map(float, candidate.size_m)),
                                       yaw_rad=frames.wrap_angle(yaw), notes=(*obj.notes, "back to a wall")))
    return tuple(out)


def _fit_with_yaw(detection: Detection, prior: priors.SizePrior, camera: CameraEstimate, support_y: float,
                  yaw_rad: float) -> _Fit:
    from scipy.optimize import least_squares

    k = camera.intrinsics.k_matrix
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    camera_from_world = frames.invert_rigid(camera.world_from_camera)
    box = np.array(detection.box_xyxy_px)
    cut = np.array([box[0] <= BORDER_MARGIN_PX, box[1] <= BORDER_MARGIN_PX,
                    box[2] >= width - BORDER_MARGIN_PX, box[3] >= height - BORDER_MARGIN_PX])
    sigma = SIDE_SIGMA_PX + SIDE_SIGMA_FRACTION * math.hypot(box[2] - box[0], box[3] - box[1])
    log_prior = np.log(np.array(prior.size_m))
    spread = max(prior.spread, 0.05)
    limits = np.array([0.0, 0.0, width, height])
    sign = np.array([-1.0, -1.0, 1.0, 1.0])  # a cut side may only reach past the border, outwards

    def unpack(params):
        size = np.exp(params[2:5])
        center = np.array([params[0], support_y + 0.5 * size[1], params[1]])
        return center, size

    def residuals(params):
        center, size = unpack(params)
        corners_cam = frames.transform_points(camera_from_world, frames.box_corners(center, size, yaw_rad))
        uv, z = frames.project_points(k, corners_cam)
        behind = np.maximum(NEAR_M - z, 0.0)
        if np.any(behind > 0):
            return np.concatenate([np.full(4, 10.0 + 100.0 * behind.sum()), (params[2:5] - log_prior) / spread])
        projected = np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()])
        side = np.where(cut, np.maximum(sign * (limits - projected), 0.0), projected - box) / sigma
        return np.concatenate([side, (params[2:5] - log_prior) / spread])

    x0 = _initial_guess(box, cut, prior, camera, support_y)
    result = least_squares(residuals, np.concatenate([x0, log_prior]), loss="soft_l1", f_scale=1.0,
                           x_scale=np.array([1.0, 1.0, 0.2, 0.2, 0.2]), max_nfev=200)
    center, size = unpack(result.x)
    return _Fit(center, size, yaw_rad, float(result.cost))


def _initial_guess(box: np.ndarray, cut: np.ndarray, prior: priors.SizePrior, camera: CameraEstimate,
                   support_y: float) -> np.ndarray:
    """(x, z) of the box centre: the bottom edge's centre pixel cast onto the support plane, pushed back by half
    the prior depth; when that ray does not reach the plane, the distance at which the prior height fits."""
    k = camera.intrinsics.k_matrix
    rotation, origin = camera.world_from_camera[:3, :3], camera.world_from_camera[:3, 3]
    centre_u = 0.5 * (box[0] + box[2])
    ray = rotation @ frames.pixel_rays(k, np.array([centre_u, box[3]]))
    horizontal = np.array([ray[0], 0.0, ray[2]])
    horizontal /= max(np.linalg.norm(horizontal), 1e-9)
    if not cut[3] and ray[1] < -1e-3:
        t = (support_y - origin[1]) / ray[1]
        point = origin + t * ray
    else:
        pixels_high = max(box[3] - box[1], 1.0)
        distance = camera.intrinsics.fy_px * prior.size_m[1] / pixels_high
        point = origin + ray / np.linalg.norm(ray) * distance
    point = origin + (point - origin) * min(1.0, MAX_DISTANCE_M / max(np.linalg.norm(point - origin), 1e-9))
    centre = point + horizontal * 0.5 * prior.size_m[2]
    return np.array([centre[0], centre[2]])


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
