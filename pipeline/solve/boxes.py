"""The solver's steps: detections + camera (+ depth) -> metric, gravity-aligned oriented boxes and a room shell.

Every object stands on a support: the floor, or the flat top of another object (a lamp on a nightstand), whichever
explains its 2D box better; wall- and ceiling-hung objects hang at their category's typical height, and a box that
shows no floor contact is placed by its size alone (with a warning). A bottom edge hidden behind a nearer object is
no floor contact either (:mod:`.contacts`): such an object is placed by its top, sides and size, just behind the
other. Its box is turned to one of the room's two horizontal axes (from the camera stage's vanishing points),
fitted to the 2D box under its category's size prior (:mod:`.fit`); the axis that fits better is kept; its front
faces the camera, or, for objects that stand against a wall within reach, its back turns to that wall. Boxes that
interpenetrate are refitted together (:mod:`.refine`). The metric scale comes from the camera height: given, or
the best fit of the objects' sizes with a hand-held prior or with the floor a metric depth map shows. With a metric
map every object it shows well is then measured from its own points (:mod:`.depth_fit`). No object stands beyond
a room's reach of the camera (:data:`ROOM_REACH`, with a warning). The room shell (:mod:`.room`) bounds it all.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import frames, priors
from ..camera.intrinsics import DEFAULT_CAMERA_HEIGHT_M
from ..records import CameraEstimate, DepthMap, DepthScale, Detection, Grounding, ObjectBox, RoomShell, Scene
from .contacts import HIDDEN_NOTE, UNPLACED_NOTE, bottom_is_free, hidden_bottoms, open_sides, side_note
from .corrections import CARRIED_NOTE, added_unindexed, carried_along, covers_bottom
from .fit import MAX_DISTANCE_M, BoxFit, DepthSamples, cut_sides, depth_samples, faces_camera, fit_boxes
from .refine import refine_jointly
from .room import ROOM_REACH, guessed_room_warning, measured_sides, room_shell

#: How far outside a supporter's footprint an object's contact may be and still stand on it.
SUPPORT_MARGIN_M = 0.25
#: Relative spread of hand-held camera heights around the prior (1.4 m +- 12 % covers 1.2-1.6 m).
CAMERA_HEIGHT_SPREAD = 0.12
#: Levenberg-Marquardt steps per candidate scale (the costs need not be converged to compare scales).
SCALE_ITERATIONS = 8
#: Half-range of the search over the scene's scale (log of the camera height ratio) from its prior.
SCALE_SEARCH_LOG = 0.6
#: Cost head start of a category's usual support (floor or furniture) when choosing where an object stands.
SUPPORT_BIAS = 2.0
#: A floor contact this much farther than every other object is taken to be outside the room.
BEYOND_ROOM_M = 1.5
#: Relative depth noise of a model's 3D box position (the model guesses a virtual camera).
BOX_3D_DEPTH_SPREAD = 0.15
#: Weight of the squared gap (m) between an against-the-wall object's back and the wall, against the fit cost.
WALL_WEIGHT = 4.0
#: A sensor's map (a depth file) whose floor disagrees with the scene's camera height by more than this (log ratio)
#: gets a note; it is never rescaled.
SENSOR_HEIGHT_CONFLICT_LOG = 0.1
#: A depth box (:mod:`.depth_fit`) is the prior of its object's refit: its centre within this many metres plus this
#: fraction of its distance, its seen extents within this relative spread.
DEPTH_CENTER_SIGMA_M = 0.05
DEPTH_CENTER_SIGMA_REL = 0.03
DEPTH_SIZE_SPREAD = 0.3
#: A depth box is kept over the fit to the 2D box unless it conflicts with the map on more of its pixels than that
#: fit does, by this share (:func:`.depth_fit.depth_conflicts`: pixels where the map sees through the box, and
#: those where it sees something nearer, which hides the box; seeing through is not counted for tables, desks
#: and chairs, which are seen through between their legs).
SEE_THROUGH_MARGIN = 0.2
#: Notes of an object the depth map shows too little of, and of one whose depth box was not kept.
DEPTH_UNSEEN_NOTE = "the depth map shows too little of it apart from what surrounds it: placed by the 2D box"
DEPTH_DISAGREES_NOTE = "its depth points do not fit its 2D box: placed by the 2D box"
DEPTH_SEES_THROUGH_NOTE = "its depth points run on into what lies beside it: placed by the 2D box"
#: A side hidden behind something nearer is named after the detection whose 2D box holds the point this fraction of
#: the photo's width beyond it (at the box's mid-height).
SIDE_PROBE_FRACTION = 0.02
#: Supports of objects hung above the floor, placed with their bottom at their category's typical height.
HUNG = ("wall", "ceiling")
#: A bottom edge whose ray points down by less than this (sine of the angle below the horizon) shows no floor.
HORIZON_MARGIN = 0.01
#: How far (1 sigma, in camera heights: 0.42 m for a camera at 1.4 m; relative, so that the solver stays
#: scale-equivariant) an object whose bottom is hidden may stand from just behind the object that hides it.
BEHIND_SIGMA = 0.3
#: Bottom heights tried for an object that may hang (a wall cabinet, a shelf on the wall) off the floor, in camera
#: heights (0.3 to 2.0 m for a camera at 1.4 m; relative, so that the solver stays scale-equivariant) ...
RAISED_ELEVATIONS = np.linspace(0.2, 1.45, 11)
#: ... and the cost head start (nats) of standing on the floor, where such objects usually are: a raised fit must
#: explain the 2D box much better (a bottom edge whose floor contact asks for a cabinet 5 m tall and 12 m away).
RAISED_PENALTY = 3.0
#: Per-object cost scale of the scale search: an object whose fit would change by more than about this much
#: counts less and less (a robust, Cauchy-like combination), so one odd object cannot set the scene's scale.
SCALE_OBJECT_COST = 1.0
#: Kinds whose sizes vary this much (relative spread; "other furniture" is a crate, a stool or a shelf) do not vote
#: on the scale.
SCALE_MAX_SPREAD = 0.5
#: Camera heights this many prior spreads from the hand-held 1.4 m get a warning.
SCALE_WARN_SIGMAS = 3.0
#: An object turns its back to a wall only when a fit puts its back this close to one, in camera heights (0.5 m
#: for a camera at 1.4 m; relative, so that the solver stays scale-equivariant).
WALL_REACH = 0.35


def solve(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float | None = None,
          refine_scale: bool = True, depth: DepthMap | None = None, depth_scale: DepthScale | None = None,
          fixed: dict[int, ObjectBox] | None = None, extra: tuple[ObjectBox, ...] = (),
          pinned_camera: CameraEstimate | None = None) -> Scene:
    """Solve every usable detection into an :class:`ObjectBox` and bound the scene with a :class:`RoomShell`.

    ``room_yaw_rad`` defaults to the camera estimate's. When the camera height is only a prior and
    ``refine_scale`` is on, the height (hence the scene's scale) is refined from the objects' sizes: see
    :func:`refine_camera_height`. A grounding with a room-layout answer (``grounding.layout``) is solved by
    :func:`layout.solve_with_layout` (the layout alone, or the 2D boxes helped by the layout). A metric ``depth``
    map adds depth agreement to the box fits, and with ``depth_scale`` its floor measures the scale (see
    :func:`solve_boxes`).

    ``fixed`` (detection index -> box) are a person's corrections (``pipeline/edits.py``): those objects keep the
    boxes given, and the others are solved around them (they may stand on them, hide behind them, and are kept
    out of them); ``extra`` boxes (objects added out of the photo's view) are only added to the scene.
    ``pinned_camera`` is the camera of the scene those boxes were made in: the scene ends with it (no scale
    search), after a first pass at ``camera`` as a build without corrections makes it, so that what the user left
    alone is solved as it was.
    """
    if grounding.layout is not None:
        from ..layout import solve_with_layout

        if pinned_camera is not None:
            camera, refine_scale = pinned_camera, False
        scene = solve_with_layout(grounding, camera, room_yaw_rad, refine_scale)
        if depth is not None:
            scene = dataclasses.replace(scene, warnings=(*scene.warnings, "the depth map is not used with a "
                                                         "room-layout answer (only with 2D boxes alone)"))
        if fixed or extra:  # the layout's own placement, with the user's boxes put in as given
            fixed = fixed or {}
            objects = tuple(fixed.get(o.detection_index, o) for o in scene.objects)
            placed = {o.detection_index for o in objects}
            objects += tuple(o for i, o in fixed.items() if i not in placed) + tuple(extra)
            scene = dataclasses.replace(scene, objects=added_unindexed(objects))
        return scene
    return solve_boxes(grounding, camera, room_yaw_rad, refine_scale, depth=depth, depth_scale=depth_scale,
                       fixed=fixed, extra=extra, pinned_camera=pinned_camera)


def solve_boxes(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float | None = None,
                refine_scale: bool = True, size_priors: dict | None = None,
                wall_normals: dict | None = None, depth: DepthMap | None = None,
                depth_scale: DepthScale | None = None, fixed: dict[int, ObjectBox] | None = None,
                extra: tuple[ObjectBox, ...] = (), pinned_camera: CameraEstimate | None = None) -> Scene:
    """:func:`solve` for the 2D (and 3D) boxes alone. ``size_priors`` (detection index -> :class:`SizePrior`)
    replaces the category's prior of those detections; ``wall_normals`` (detection index -> world outward normals
    of the walls it may stand against) makes those objects turn their back to one of those walls. ``depth``
    (metric) adds each box's agreement with the observed depth to its fit, then measures each object it shows
    from its own points (:mod:`.depth_fit`); with ``depth_scale`` the map's floor also measures the camera height
    (the scale), and a depth model's map is rescaled to the height finally chosen (a sensor's, a depth file, is
    used as measured). ``fixed``, ``extra`` and ``pinned_camera``: see :func:`solve`."""
    fixed = fixed or {}
    same_frame = pinned_camera is None or _same_camera(pinned_camera, camera)
    room_yaw = camera.room_yaw_rad if room_yaw_rad is None else room_yaw_rad
    notes: list[str] = []
    depth = _metric_depth(depth, notes)
    first_depth = None if depth_scale is not None else depth  # a map whose scale may change waits for it
    first_height = camera.height_m
    objects, fits, warnings, inputs = _solve_objects(grounding, camera, room_yaw, size_priors, first_depth,
                                                     fixed=fixed if same_frame else {})
    moved = False
    if pinned_camera is not None:  # the edited scene's camera, reached as the first build reached it
        camera, moved = pinned_camera, not same_frame
    elif refine_scale and camera.height_source == "prior":
        measured = depth is not None and depth_scale is not None and depth_scale.spread is not None
        height = refine_camera_height(
            objects, grounding, camera, size_priors,
            prior_m=depth_scale.camera_height_m if measured else None,
            prior_spread=depth_scale.spread if measured else None)
        if height is not None and abs(math.log(height / camera.height_m)) > 1e-4:
            source = f"{depth_scale.source}+object_sizes" if measured else "prior+object_sizes"
            camera, moved = with_camera_height(camera, height, source), True
            if not measured and abs(math.log(height / DEFAULT_CAMERA_HEIGHT_M)) > \
                    SCALE_WARN_SIGMAS * CAMERA_HEIGHT_SPREAD:
                notes.append(f"the objects' sizes put the camera {height:.2f} m above the floor, far from a "
                             "hand-held height: check the focal length and the labels, or give --camera-height")
    if depth is not None and depth_scale is not None:
        ratio = camera.height_m / depth_scale.camera_height_m
        if depth.source.startswith("file:"):
            # a sensor's map is measured: it is not rescaled, even to a given camera height (its floor may be a
            # seat or a bed when the floor is out of view)
            if abs(math.log(ratio)) > SENSOR_HEIGHT_CONFLICT_LOG:
                notes.append(f"the depth map's lowest plane lies {depth_scale.camera_height_m:.2f} m below the "
                             f"camera, the scene's camera height is {camera.height_m:.2f} m: the map is used as "
                             "measured (if its floor is out of view, that plane is a seat or a bed)")
        else:
            depth = dataclasses.replace(depth, values=(depth.values * np.float32(ratio)).astype(np.float32))
            if abs(math.log(ratio)) > 0.01:
                notes.append(f"depth rescaled by {ratio:.3f} to the scene's camera height ({camera.height_m:.2f} "
                             f"m; the depth map's floor says {depth_scale.camera_height_m:.2f} m)")
    if moved or (depth is not None and depth_scale is not None):
        warm = (fits, camera.height_m / first_height)
        objects, fits, warnings, inputs = _solve_objects(grounding, camera, room_yaw, size_priors, depth, warm,
                                                         fixed=fixed)
    warnings = notes + warnings
    sides = {} if depth is None else measured_sides(depth, camera, room_yaw,
                                                    [d.box_xyxy_px for d in inputs.detections.values()])
    fits = {k: v for k, v in fits.items() if k not in fixed}
    still = set(fixed) | {o.detection_index for o in objects if CARRIED_NOTE in o.notes}
    objects = _back_to_walls(objects, fits, room_shell(objects + tuple(extra), camera, room_yaw, sides),
                             wall_normals, WALL_REACH * camera.height_m)
    objects, overlaps = refine_jointly(objects, inputs.detections, inputs.priors, camera, room_yaw,
                                       inputs.depth_samples, inputs.depth_rows, frozen=still)
    if depth is not None:  # measured boxes last: what the map shows is not pushed about by the priors
        objects = _depth_boxes(objects, inputs, camera, depth, room_yaw, frozen=still)
    warnings += overlaps
    objects = _within_room(objects, camera, warnings, frozen=still)
    solved = {o.detection_index for o in objects}
    extra = (*(o for i, o in fixed.items() if i not in solved), *extra)  # a fixed detection the solve dropped
    objects = added_unindexed(objects + tuple(extra))
    room = room_shell(objects, camera, room_yaw, sides)
    guessed = guessed_room_warning(room, objects, camera)
    if guessed is not None:
        warnings.append(guessed)
    return Scene(camera=camera, room=room, objects=objects, warnings=tuple(warnings))


def refine_camera_height(objects, grounding: Grounding, camera: CameraEstimate,
                         size_priors: dict | None = None, prior_m: float | None = None,
                         prior_spread: float | None = None) -> float | None:
    """The camera height (the scene's metric scale) that best explains the floor-standing objects' 2D boxes
    under their size priors, with a prior on the height: the minimum over ``log h`` of the summed robust fit
    costs plus ``0.5 * (log(h / prior_m) / prior_spread)^2`` (default: hand-held, 1.4 m, ``CAMERA_HEIGHT_SPREAD``;
    a depth map's floor gives a measured one). A MAP estimate of the scale
    jointly with the boxes, not a vote of already-regularised sizes (which shrinks towards the prior).

    Fitting at height ``s * h`` with priors ``P`` is fitting at ``h`` with priors ``P / s``, scaled by ``s`` (the
    solver is scale-equivariant, tested), so every candidate scale is fitted in one batched call: a coarse grid
    over ``log s``, a finer one around its best point, then a parabola through the best three. None when no
    object can vote (unknown categories, objects standing on others)."""
    prior_m = DEFAULT_CAMERA_HEIGHT_M if prior_m is None else prior_m
    prior_spread = CAMERA_HEIGHT_SPREAD if prior_spread is None else prior_spread
    by_index = {d.detection_index: d for d in grounding.detections}
    detections, prior_list, start = [], [], []
    for obj in objects:
        prior = (size_priors or {}).get(obj.detection_index) or priors.lookup(obj.label)
        if prior.category == priors.UNKNOWN or max(prior.spreads) >= SCALE_MAX_SPREAD or \
                obj.corners_m[:, 1].min() > 1e-6 or \
                obj.detection_index not in by_index or bottom_is_free(obj.notes):
            continue
        detections.append(by_index[obj.detection_index])
        prior_list.append(prior)
        start.append([obj.center_m[0], obj.center_m[2], *np.log(obj.size_m)])
    if not detections:
        return None
    log_h0 = math.log(camera.height_m)
    yaws = np.array([o.yaw_rad for o in objects if o.detection_index in {d.detection_index for d in detections}])

    def costs(log_scales: np.ndarray) -> np.ndarray:
        # each object keeps its axis and starts from its solution at the current height: the 2D box fixes where
        # it stands, so a new scale mostly changes how far its size is from the prior
        scales = np.exp(log_scales)
        count = len(detections)
        batch = [d for _ in scales for d in detections]
        scaled = [dataclasses.replace(p, size_m=tuple(v / s for v in p.size_m)) for s in scales for p in prior_list]
        fits = fit_boxes(batch, scaled, camera, np.zeros(len(batch)), np.tile(yaws, len(scales)),
                         max_iterations=SCALE_ITERATIONS, x0=np.tile(np.array(start), (len(scales), 1)))
        per_object = np.array([fit.cost for fit in fits]).reshape(len(scales), count)
        per_object = per_object - per_object.min(axis=0)  # what each object says about the scale
        fit_cost = (SCALE_OBJECT_COST * np.log1p(per_object / SCALE_OBJECT_COST)).sum(axis=1)
        height = (log_h0 + log_scales - math.log(prior_m)) / prior_spread
        return fit_cost + 0.5 * height ** 2

    grid = np.linspace(-SCALE_SEARCH_LOG, SCALE_SEARCH_LOG, 7)
    best = grid[int(np.argmin(costs(grid)))]
    step = grid[1] - grid[0]
    fine = best + np.linspace(-step, step, 5)
    values = costs(fine)
    i = int(np.clip(np.argmin(values), 1, len(fine) - 2))
    (x0, x1, x2), (y0, y1, y2) = fine[i - 1:i + 2], values[i - 1:i + 2]
    denominator = (y0 - 2 * y1 + y2)
    offset = 0.5 * (y0 - y2) / denominator * (x1 - x0) if denominator > 1e-12 else 0.0
    return math.exp(log_h0 + x1 + float(np.clip(offset, x0 - x1, x2 - x1)))


def _same_camera(a: CameraEstimate, b: CameraEstimate) -> bool:
    """Whether two cameras put the scene in one frame: the same pose, intrinsics and room heading (a height within
    the scale search's own threshold)."""
    return abs(math.log(a.height_m / b.height_m)) <= 1e-4 and a.intrinsics == b.intrinsics and \
        np.allclose(a.world_from_camera[:3, :3], b.world_from_camera[:3, :3], atol=1e-9) and \
        abs(a.room_yaw_rad - b.room_yaw_rad) <= 1e-9


def with_camera_height(camera: CameraEstimate, height_m: float, source: str) -> CameraEstimate:
    """The same camera at another height above the floor."""
    world_from_camera = camera.world_from_camera.copy()
    world_from_camera[1, 3] = height_m
    return dataclasses.replace(camera, world_from_camera=world_from_camera, height_m=float(height_m),
                               height_source=source)


@dataclasses.dataclass(frozen=True)
class _FitInputs:
    """What each object was fitted with, by detection index (for the joint refinement)."""

    detections: dict
    priors: dict
    depth_samples: DepthSamples | None
    depth_rows: dict


def _metric_depth(depth: DepthMap | None, warnings: list[str]) -> DepthMap | None:
    """The depth map the fits may use: metric depth as it is; other kinds are not used (with a warning)."""
    if depth is None or depth.kind == "metric_depth":
        return depth
    warnings.append(f"depth of kind {depth.kind} ({depth.source}) was not used by the solver: only metric depth is")
    return None


def _warm_start(detections, warm) -> tuple | None:
    """Starting parameters for the floor fits along both axes from an earlier solve at another camera height:
    ``warm = (floor fits by detection index, height ratio)``; the scene scaled by the ratio explains the same 2D
    boxes (scale equivariance), so only the pull of the size priors is left to settle. Rows of NaN where there is
    none (objects that stood on others)."""
    if warm is None:
        return None
    fits, ratio = warm
    starts = np.full((2, len(detections), 5), np.nan)
    for row, detection in enumerate(detections):
        for axis, fit in enumerate(fits.get(detection.detection_index, ())):
            if abs(fit.center_m[1] - 0.5 * fit.size_m[1]) < 1e-9:  # stood on the floor
                starts[axis, row] = [fit.center_m[0] * ratio, fit.center_m[2] * ratio, *np.log(fit.size_m * ratio)]
    return starts[0], starts[1]


def _solve_objects(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float, size_priors: dict | None = None,
                   depth: DepthMap | None = None, warm: tuple | None = None, fixed: dict | None = None):
    """Every detection as an :class:`ObjectBox`: first all on the floor, then, for objects whose bottom edge lies
    on a flat-topped object, also on that object's top; each keeps the better explanation. Those in ``fixed``
    (detection index -> box) keep the box given, which the others see: what hides them, what they stand on."""
    fixed = fixed or {}
    warnings: list[str] = []
    detections, box_priors = _from_3d_boxes(grounding.detections, camera, warnings)
    prior_list = [(size_priors or {}).get(d.detection_index) or priors.lookup(d.label) for d in detections]
    prior_list = [_blend_size(prior, box_priors.get(d.detection_index)) for d, prior in zip(detections, prior_list)]
    origin = camera.world_from_camera[:3, 3]
    position = np.array([box_priors[d.detection_index][0][[0, 2]] if d.detection_index in box_priors
                         else (np.nan, np.nan) for d in detections]).reshape(-1, 2)
    sigma = np.array([BOX_3D_DEPTH_SPREAD * np.linalg.norm(box_priors[d.detection_index][0] - origin)
                      if d.detection_index in box_priors else 1.0 for d in detections])
    samples = None if depth is None else depth_samples(detections, depth, camera.intrinsics.k_matrix)
    pulls = {"center_prior_xz": position, "center_sigma_m": sigma, "depth": samples}
    for detection, prior in zip(detections, prior_list):
        if prior.category == priors.UNKNOWN:
            warnings.append(f"no size prior for label {detection.label!r} (entry {detection.detection_index}): "
                            "used a generic box")
    # wall- and ceiling-hung objects (windows, pictures, lamps hung from the ceiling) at their typical height
    hung = np.array([p.support in HUNG for p in prior_list], dtype=bool)
    base_y = np.array([p.elevation_m if p.support in HUNG else 0.0 for p in prior_list])
    no_contact = [None if h else _no_contact(d, camera) for d, h in zip(detections, hung)]
    hidden = hidden_bottoms([d.box_xyxy_px for d in detections],
                            [not h and p.support == "floor" for h, p in zip(hung, prior_list)],
                            camera.intrinsics.height_px)
    pinned = {i for i, d in enumerate(detections) if d.detection_index in fixed}
    hidden = {i: j for i, j in hidden.items()  # a box the user placed hides only what its outline covers
              if j not in pinned or covers_bottom(fixed[detections[j].detection_index], detections[i], camera)}
    free = np.array([[False, False, False, problem is not None or i in hidden]
                     for i, problem in enumerate(no_contact)]).reshape(-1, 4)
    chosen = _fit_both_axes(detections, prior_list, camera, base_y, room_yaw_rad, **pulls,
                            x0_axes=_warm_start(detections, warm), free_sides=free)
    seen_fits = {i: chosen[i][0] for i in pinned}  # where the photo alone puts them (what stands on them)
    for i in pinned:  # the user's box, as if it were the fit
        box = fixed[detections[i].detection_index]
        fit = BoxFit(np.array(box.center_m, dtype=float), np.array(box.size_m, dtype=float), box.yaw_rad, 0.0)
        chosen[i] = (fit, (fit, fit))
    notes: list[list[str]] = [[] for _ in detections]
    opened = _hidden_sides(detections, camera, depth, notes)
    opened[sorted(pinned)] = False
    if opened.any():  # may reach on behind what hides a side, as out of view: fitted again
        rows = [i for i in range(len(detections)) if opened[i].any()]
        refit = _fit_both_axes([detections[i] for i in rows], [prior_list[i] for i in rows], camera, base_y[rows],
                               room_yaw_rad, position[rows], sigma[rows],
                               None if samples is None else samples.rows(rows), free_sides=free[rows],
                               open_sides=opened[rows])
        for i, fit in zip(rows, refit):
            chosen[i] = fit
    behind = {i: j for i, j in hidden.items() if no_contact[i] is None and i not in pinned}
    if behind:  # placed by what is seen, and just behind the object that hides its bottom, never metres beyond
        rows = sorted(behind)
        target = np.array([_just_behind(detections[i], prior_list[i], chosen[behind[i]][0], camera) for i in rows])
        refit = _fit_both_axes([detections[i] for i in rows], [prior_list[i] for i in rows], camera, base_y[rows],
                               room_yaw_rad, target, np.full(len(rows), BEHIND_SIGMA * camera.height_m),
                               None if samples is None else samples.rows(rows), free_sides=free[rows],
                               open_sides=opened[rows])
        for i, fit in zip(rows, refit):
            chosen[i] = fit
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    # a raised fit (cost >= 0) can only win where the floor fit costs more than the head start
    may_rise = [i for i, p in enumerate(prior_list) if p.may_hang and p.support == "floor" and no_contact[i] is None
                and i not in hidden and i not in pinned and not cut_sides(detections[i].box_xyxy_px, width, height)[3]
                and chosen[i][0].cost > RAISED_PENALTY]
    for i, (fit, elevation) in _raised(detections, prior_list, camera, room_yaw_rad, chosen, may_rise,
                                       samples, opened).items():
        chosen[i] = fit
        notes[i].append(f"its 2D box fits a {detections[i].label} raised {elevation:.1f} m off the floor (on a "
                        "wall?) far better than one standing on it: placed raised")
    floor_boxes = [_object_box(d, p, seen_fits.get(i, fit))
                   for i, (d, p, (fit, _)) in enumerate(zip(detections, prior_list, chosen))]

    holders = [i for i, p in enumerate(prior_list) if p.holds_objects]
    supported, supporters = [], []
    for i, (detection, prior) in enumerate(zip(detections, prior_list)):
        if hung[i] or no_contact[i] is not None or i in pinned:
            continue
        candidates = [(detections[j], floor_boxes[j]) for j in holders if j != i]
        supporter = _find_supporter(detection, candidates, camera)
        if supporter is not None:
            supported.append(i)
            supporters.append(next(j for j in holders if floor_boxes[j] is supporter))
    if supported:
        heights = np.array([floor_boxes[j].center_m[1] + 0.5 * floor_boxes[j].size_m[1] for j in supporters])
        on_top = _fit_both_axes([detections[i] for i in supported], [prior_list[i] for i in supported], camera,
                                heights, room_yaw_rad, position[supported], sigma[supported],
                                None if samples is None else samples.rows(supported), open_sides=opened[supported])
        origin = camera.world_from_camera[:3, 3]
        reach = [np.linalg.norm(box.corners_m - origin, axis=1).max() for box in floor_boxes]
        for i, supporter, top in zip(supported, supporters, on_top):
            # A floor contact far beyond every other object would lie outside the room: the bottom edge seen
            # is then no floor contact, and the object stands on the supporter. Otherwise the better fit wins,
            # the category's usual support with a head start.
            farthest = max((r for j, r in enumerate(reach) if j != i), default=math.inf)
            beyond = np.linalg.norm(chosen[i][0].center_m - origin) > farthest + BEYOND_ROOM_M
            bias = SUPPORT_BIAS if prior_list[i].support == "furniture" else -SUPPORT_BIAS
            if beyond or top[0].cost - bias < chosen[i][0].cost:
                chosen[i] = top
                notes[i].append(f"stands on {floor_boxes[supporter].label}")
                if supporter in pinned:  # the user moved what it stands on: it goes along
                    moved_to = fixed[detections[supporter].detection_index]
                    carried = carried_along(top[0], floor_boxes[supporter], moved_to)
                    chosen[i] = (carried, (carried, carried))
                    notes[i].append(CARRIED_NOTE)

    objects = []
    for row, (detection, prior, (fit, _), note, problem) in enumerate(zip(detections, prior_list, chosen, notes,
                                                                          no_contact)):
        if row in pinned:
            objects.append(fixed[detection.detection_index])
            continue
        named = f"{detection.label!r} (entry {detection.detection_index})"
        if prior.support in HUNG:
            note.append(f"hung on the {prior.support}, its bottom at a typical {prior.elevation_m:.2f} m")
        if problem is not None:
            warnings.append(f"{named}: {problem}; placed by its typical size alone, and left out of the scale")
            note.append(UNPLACED_NOTE)
        elif np.linalg.norm(fit.center_m - camera.world_from_camera[:3, 3]) > 0.95 * MAX_DISTANCE_M:
            warnings.append(f"{named} could not be placed reliably: its 2D box gives no floor contact")
            note.append(UNPLACED_NOTE)
        if row in hidden and problem is None:
            note.append(f"{HIDDEN_NOTE} {detections[hidden[row]].label}")
        if prior.category == priors.UNKNOWN:
            note.append("generic size prior")
        objects.append(_object_box(detection, prior, fit, tuple(note)))
    candidates = {d.detection_index: both for d, (_, both) in zip(detections, chosen)}
    inputs = _FitInputs({d.detection_index: d for d in detections},
                        {d.detection_index: p for d, p in zip(detections, prior_list)},
                        samples, {d.detection_index: row for row, d in enumerate(detections)})
    return tuple(objects), candidates, warnings, inputs


def _hidden_sides(detections: list[Detection], camera: CameraEstimate, depth: DepthMap | None,
                  notes: list[list[str]]) -> np.ndarray:
    """(N, 4) bool: the left and right sides of the 2D boxes that a metric map shows hidden behind something
    nearer (:func:`.depth_fit.occluded_sides`), each with a note naming the occluder: the other detection whose
    box holds the point just beyond the side, or something unnamed. All False without a map: from the 2D layout
    alone the rule made boxes worse (:mod:`.contacts`)."""
    opened = np.zeros((len(detections), 4), dtype=bool)
    if depth is None:
        return opened
    from .depth_fit import occluded_sides

    boxes = [d.box_xyxy_px for d in detections]
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    for i, detection in enumerate(detections):
        sides = occluded_sides(detection.box_xyxy_px, depth) & ~cut_sides(detection.box_xyxy_px, width, height)
        for side in np.nonzero(sides)[0]:
            x = boxes[i][side] + (-1.0 if side == 0 else 1.0) * SIDE_PROBE_FRACTION * width
            y = 0.5 * (boxes[i][1] + boxes[i][3])
            holders = [j for j, b in enumerate(boxes) if j != i and b[0] <= x <= b[2] and b[1] <= y <= b[3]]
            opened[i, side] = True
            notes[i].append(side_note(int(side), detections[holders[0]].label if len(holders) == 1
                                      else "something nearer"))
    return opened


def _raised(detections, prior_list, camera: CameraEstimate, room_yaw_rad: float, chosen: list, rows: list[int],
            samples: DepthSamples | None, opened: np.ndarray) -> dict[int, tuple]:
    """``{row: ((best fit, both fits), bottom height m)}`` for the objects among ``rows`` that fit their 2D box
    better raised off the floor than standing on it (by :data:`RAISED_PENALTY`; their bottom edges must be seen,
    neither hidden nor cut by the photo's border): each is fitted with its bottom at
    every height of :data:`RAISED_ELEVATIONS` (its bottom edge seen, its distance then set by its size prior) and
    the best is compared with its floor fit in ``chosen``."""
    if not rows:
        return {}
    heights = RAISED_ELEVATIONS * camera.height_m
    stacked = [(i, h) for i in rows for h in heights]
    fits = _fit_both_axes([detections[i] for i, _ in stacked], [prior_list[i] for i, _ in stacked], camera,
                          np.array([h for _, h in stacked]), room_yaw_rad,
                          depth=None if samples is None else samples.rows([i for i, _ in stacked]),
                          open_sides=opened[[i for i, _ in stacked]])
    out = {}
    for k, i in enumerate(rows):
        options = fits[k * len(heights):(k + 1) * len(heights)]
        best = int(np.argmin([fit.cost for fit, _ in options]))
        if options[best][0].cost + RAISED_PENALTY < chosen[i][0].cost:
            out[i] = (options[best], float(heights[best]))
    return out


def _just_behind(detection: Detection, prior: priors.SizePrior, occluder: BoxFit,
                 camera: CameraEstimate) -> np.ndarray:
    """(x, z) where an object whose bottom is hidden by ``occluder`` most likely stands: along the ray through its
    2D box's centre, at the occluder's distance plus half of each one's depth (both back to back)."""
    x1, y1, x2, y2 = detection.box_xyxy_px
    ray = camera.world_from_camera[:3, :3] @ frames.pixel_rays(camera.intrinsics.k_matrix,
                                                               np.array([0.5 * (x1 + x2), 0.5 * (y1 + y2)]))
    origin = camera.world_from_camera[:3, 3]
    flat = np.array([ray[0], ray[2]]) / max(float(np.hypot(ray[0], ray[2])), 1e-9)
    reach = float(np.hypot(*(occluder.center_m[[0, 2]] - origin[[0, 2]])))
    reach += 0.5 * (min(occluder.size_m[0], occluder.size_m[2]) + min(prior.size_m[0], prior.size_m[2]))
    return origin[[0, 2]] + reach * flat


def _no_contact(detection: Detection, camera: CameraEstimate) -> str | None:
    """Why a detection's 2D box cannot show where an object meets the floor, or None: a box that covers the whole
    photo, or whose bottom edge (not cut by the border) lies at or above the horizon (a floor contact is below
    it, unless the camera looks up at something standing higher)."""
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    cut = cut_sides(detection.box_xyxy_px, width, height)
    if cut.all():
        return "its 2D box covers the whole photo and says nothing of where the object is"
    x1, _, x2, y2 = detection.box_xyxy_px
    ray = camera.world_from_camera[:3, :3] @ frames.pixel_rays(camera.intrinsics.k_matrix,
                                                               np.array([0.5 * (x1 + x2), y2]))
    if not cut[3] and ray[1] / np.linalg.norm(ray) > -HORIZON_MARGIN:
        return "the bottom of its 2D box is at or above the horizon, so it cannot show the object on the floor"
    return None


def _fit_both_axes(detections, prior_list, camera, support_y, room_yaw_rad, center_prior_xz=None,
                   center_sigma_m=None, depth: DepthSamples | None = None, max_iterations: int = 60,
                   x0_axes: tuple | None = None, free_sides: np.ndarray | None = None,
                   open_sides: np.ndarray | None = None):
    """Per detection, ``(best fit, (fit along the room's x axis, fit along its z axis))``; the best faces the
    camera (a box turned by pi is the same box)."""
    count = len(detections)
    pulls = {"center_prior_xz": center_prior_xz, "center_sigma_m": center_sigma_m, "depth": depth,
             "max_iterations": max_iterations, "free_sides": free_sides, "open_sides": open_sides}
    x0_x, x0_z = x0_axes if x0_axes is not None else (None, None)
    along_x = fit_boxes(detections, prior_list, camera, support_y, np.full(count, room_yaw_rad), x0=x0_x, **pulls)
    along_z = fit_boxes(detections, prior_list, camera, support_y, np.full(count, room_yaw_rad + 0.5 * math.pi),
                        x0=x0_z, **pulls)
    return [(faces_camera(min(a, b, key=lambda fit: fit.cost), camera), (a, b)) for a, b in zip(along_x, along_z)]


def _from_3d_boxes(detections, camera: CameraEstimate, warnings: list[str]):
    """Detections with a model's 3D box (Qwen3-VL ``bbox_3d``, given for the model's virtual camera) moved to the
    photo's real camera (:func:`frames.camera_box_for_intrinsics`, trusting the model's metric size). A detection
    whose 2D box was derived from the 3D box gets it again with the real camera. Returns the detections and, per
    detection index, the model box as a world upright box ``(center_m, size_m, yaw_rad)``: a prior, not truth."""
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    virtual = frames.qwen3_virtual_intrinsics(width, height)
    out, box_priors = [], {}
    for detection in detections:
        arrays = detection.box_3d_cam_arrays
        if arrays is None:
            out.append(detection)
            continue
        center, size, rotation = frames.camera_box_for_intrinsics(*arrays, virtual, camera.intrinsics.k_matrix)
        if detection.box_xyxy_source == "bbox_3d_virtual_camera":
            rect = frames.image_rect_of_camera_box(camera.intrinsics.k_matrix, center, size, rotation)
            clipped = None if rect is None else np.clip(rect, 0.0, [width, height, width, height])
            if clipped is None or min(clipped[2] - clipped[0], clipped[3] - clipped[1]) < 1.0:
                warnings.append(f"the 3D box of entry {detection.detection_index} ({detection.label!r}) is not in "
                                "view with this camera; skipped")
                continue
            detection = dataclasses.replace(detection, box_xyxy_px=tuple(map(float, clipped)))
        box_priors[detection.detection_index] = frames.upright_box_from_camera_box(
            center, size, rotation, camera.world_from_camera)
        out.append(detection)
    return out, box_priors


def _blend_size(prior: priors.SizePrior, box_prior) -> priors.SizePrior:
    """The size prior of an object the model also gave a 3D box for: the geometric mean of the category's
    typical size and the model's (the model's alone for unknown categories)."""
    if box_prior is None:
        return prior
    size = np.asarray(box_prior[1], dtype=float)
    if prior.category != priors.UNKNOWN:
        size = np.sqrt(size * np.asarray(prior.size_m))
    return dataclasses.replace(prior, size_m=tuple(float(v) for v in size))


def _object_box(detection: Detection, prior: priors.SizePrior, fit: BoxFit, notes: tuple = ()) -> ObjectBox:
    return ObjectBox(
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


def _within_room(objects: tuple[ObjectBox, ...], camera: CameraEstimate, warnings: list[str],
                 frozen: set = frozenset()) -> tuple:
    """Objects placed farther than :data:`ROOM_REACH` camera heights from the camera (15 m for a camera at 1.4
    m; indoor rooms are rarely larger) moved back along their line of sight to that distance, with a warning:
    such a placement comes from a 2D box that shows no usable floor contact, not from the room. Those ``frozen``
    (detection indices: the user's boxes) stay."""
    origin = camera.world_from_camera[:3, 3]
    limit = ROOM_REACH * camera.height_m
    out = []
    for obj in objects:
        if obj.detection_index in frozen:
            out.append(obj)
            continue
        center = np.array(obj.center_m, dtype=float)
        flat = np.array([center[0] - origin[0], 0.0, center[2] - origin[2]])
        reach = float(np.linalg.norm(flat))
        if reach <= limit:
            out.append(obj)
            continue
        moved = center - flat * (1.0 - limit / reach)
        note = f"placed {reach:.3g} m away, beyond any room: clamped to {limit:.1f} m"
        warnings.append(f"{obj.label!r} (entry {obj.detection_index}) {note}; its 2D box shows no usable floor "
                        "contact (give a depth map, or check the box)")
        out.append(dataclasses.replace(obj, center_m=tuple(map(float, moved)), notes=(*obj.notes, note)))
    return tuple(out)


def _depth_boxes(objects: tuple[ObjectBox, ...], inputs: _FitInputs, camera: CameraEstimate, depth: DepthMap,
                 room_yaw_rad: float, frozen: set = frozenset()) -> tuple[ObjectBox, ...]:
    """Each object the metric map shows well enough, refitted to its own depth points (:mod:`.depth_fit`): the
    points' box is the prior of a fit to the 2D box (its position within :data:`DEPTH_CENTER_SIGMA_M` plus
    :data:`DEPTH_CENTER_SIGMA_REL` of its distance plus what a hidden side leaves open, its seen extents within
    :data:`DEPTH_SIZE_SPREAD`), so the result agrees with both; a bottom edge hidden by something nearer is no
    contact. The others keep their fit to the 2D box, and those ``frozen`` (the user's boxes) theirs."""
    from .depth_fit import (agrees_with_2d_box, bottom_in_view, box_from_points, lowest_point_m, own_points,
                            seen_pixels, stands_on_floor)

    detections = list(inputs.detections.values())
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    origin = camera.world_from_camera[:3, 3]
    found = []  # (position in objects, detection, prior for the refit, support y, box, bottom hidden, notes,
    #              sides hidden behind something nearer)
    unseen = []  # positions of objects the map shows too little of
    measured = dict(zip((d.detection_index for d in detections), own_points(detections, depth, camera,
                                                                             room_yaw_rad)))
    for k, obj in enumerate(objects):
        detection = inputs.detections.get(obj.detection_index)
        prior = inputs.priors.get(obj.detection_index)
        if detection is None or prior is None or obj.detection_index in frozen:
            continue
        points, beyond = measured[obj.detection_index]
        notes = list(obj.notes)
        cut = cut_sides(detection.box_xyxy_px, width, height) | open_sides(notes)  # it may reach on out of sight
        on_floor = prior.support not in HUNG and not any(note.startswith("stands on") for note in notes)
        bottom_seen = on_floor and bottom_in_view(detection.box_xyxy_px, cut[3], points, depth, camera)
        if on_floor and not stands_on_floor(prior, points, bottom_seen):
            on_floor = False
            notes.append(f"its bottom is seen {lowest_point_m(points):.2f} m above the floor")
        box = box_from_points(points, prior, room_yaw_rad, camera, on_floor, cut, detection.box_xyxy_px, beyond)
        if box is None:
            unseen.append(k)
            continue
        spreads = np.full(3, DEPTH_SIZE_SPREAD)
        for axis in box.completed:
            spreads[axis] = max(DEPTH_SIZE_SPREAD, prior.spreads[axis])
        refit_prior = dataclasses.replace(prior, size_m=tuple(map(float, box.size_m)), spread_whd=tuple(spreads))
        support_y = 0.0 if on_floor else float(box.center_m[1] - 0.5 * box.size_m[1])
        hidden = on_floor and not cut[3] and not bottom_seen
        found.append((k, detection, refit_prior, support_y, box, hidden, notes, open_sides(notes)))
    out = list(objects)
    for k in unseen:
        out[k] = dataclasses.replace(objects[k], notes=(*objects[k].notes, DEPTH_UNSEEN_NOTE))
    if not found:
        return tuple(out)
    boxes = [f[4] for f in found]
    distance = np.array([np.linalg.norm(b.center_m - origin) for b in boxes])
    fits = fit_boxes([f[1] for f in found], [f[2] for f in found], camera, np.array([f[3] for f in found]),
                     np.array([b.yaw_rad for b in boxes]),
                     center_prior_xz=np.array([b.center_m[[0, 2]] for b in boxes]),
                     center_sigma_m=DEPTH_CENTER_SIGMA_M + DEPTH_CENTER_SIGMA_REL * distance
                     + np.array([b.slack_m for b in boxes]),
                     x0=np.array([[b.center_m[0], b.center_m[2], *np.log(b.size_m)] for b in boxes]),
                     free_sides=np.array([[False, False, False, f[5]] for f in found]),
                     open_sides=np.array([f[7] for f in found]))
    for (k, detection, _, _, box, hidden, notes, _), fit in zip(found, fits):
        fit = faces_camera(fit, camera)
        if not agrees_with_2d_box(fit, detection, camera):
            out[k] = dataclasses.replace(objects[k], notes=(*objects[k].notes, DEPTH_DISAGREES_NOTE))
            continue
        prior = inputs.priors[objects[k].detection_index]
        solid = not (prior.open_below or prior.tucks_under)
        seen_in = seen_pixels(detection, detections, depth.values.shape)
        conflict = _depth_conflict(fit, depth, camera, solid, seen_in)
        if conflict > _depth_conflict(objects[k], depth, camera, solid, seen_in) + SEE_THROUGH_MARGIN:
            # the map contradicts the depth box more than the fit to the 2D box: its points ran on into something
            # beside it (a solid object claiming space the map sees through, or hiding where the object is seen)
            out[k] = dataclasses.replace(objects[k], notes=(*objects[k].notes, DEPTH_SEES_THROUGH_NOTE))
            continue
        if hidden:
            notes.append("its bottom is hidden by something nearer: not taken for a floor contact")
        completed = " (its hidden far side from the size prior)" if box.completed else ""
        out[k] = dataclasses.replace(
            objects[k], center_m=tuple(map(float, fit.center_m)), size_m=tuple(map(float, fit.size_m)),
            yaw_rad=float(fit.yaw_rad), size_source="depth+prior" if box.completed else "depth",
            notes=(*notes, f"fitted to {box.points} depth points{completed}"))
    return tuple(out)


def _depth_conflict(box, depth: DepthMap, camera: CameraEstimate, solid: bool, seen_in: np.ndarray) -> float:
    """Share of a box's pixels where the map contradicts it: where the object is seen (``seen_in``,
    :func:`.depth_fit.seen_pixels`) but the box does not show, and, for a solid object, where the map sees through
    it (:func:`.depth_fit.depth_conflicts`)."""
    from .depth_fit import depth_conflicts

    through, unseen = depth_conflicts(box, depth, camera, seen_in)
    return unseen + (through if solid else 0.0)


def _find_supporter(detection: Detection, candidates: list[tuple[Detection, ObjectBox]],
                    camera: CameraEstimate) -> ObjectBox | None:
    """The solved object this one may stand on (a lamp on a nightstand): among the objects with a flat top
    (``holds_objects`` in the priors) whose 2D box holds this one's bottom edge, the first top surface that the
    ray through the bottom edge's centre meets inside the object's footprint (the highest such surface, as the ray
    comes down from the camera)."""
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


def _back_to_walls(objects: tuple[ObjectBox, ...], fits: dict[int, tuple[BoxFit, BoxFit]], room: RoomShell,
                   wall_normals: dict | None = None, reach_m: float = math.inf) -> tuple:
    """Objects that stand against a wall (wardrobes, beds, sofas: ``against_wall`` in the priors) turn their back
    to the nearest wall: among the fits of both horizontal axes, each either way round, whose back face comes
    within ``reach_m`` of a wall, the one that minimises the fit cost plus ``WALL_WEIGHT`` times the squared gap;
    an object no fit brings near a wall keeps its fit. ``wall_normals`` (detection index -> world outward
    normals, from a room-layout answer) limits an object (of any category) to the turns whose back faces one of
    those walls (a wall behind the camera counts as no gap)."""
    planes = [wall.plane for wall in room.walls]
    wall_normals = wall_normals or {}
    out = []
    for obj in objects:
        both = fits.get(obj.detection_index)
        wanted = wall_normals.get(obj.detection_index)
        if both is None or not planes or (wanted is None and not priors.lookup(obj.label).against_wall) or any(
                note.startswith("stands on") for note in obj.notes):
            out.append(obj)
            continue
        best, best_score = None, math.inf
        for candidate in both:
            for turn in (0.0, math.pi):
                yaw = candidate.yaw_rad + turn
                back = -(frames.rot_y(yaw) @ np.array([0.0, 0.0, 1.0]))
                if wanted is not None and not any(float(np.asarray(n) @ back) > 0.7 for n in wanted):
                    continue
                back_face = candidate.center_m + back * 0.5 * candidate.size_m[2]
                gaps = [plane[:3] @ back_face + plane[3] for plane in planes if -(plane[:3] @ back) > 0.7]
                if not gaps and wanted is not None:
                    gaps = [0.0]
                if not gaps or (wanted is None and min(max(g, 0.0) for g in gaps) > reach_m):
                    continue  # no wall behind it within reach: it does not stand against one
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
