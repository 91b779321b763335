"""Depth-first boxes: an object's own 3D points in a metric depth map, and the upright box they show.

With a metric map the object is seen, not guessed: :func:`own_points` takes every pixel of each object's 2D box (up
to :data:`MAX_SAMPLES`, evenly strided), unprojects it, and keeps the object's own points:

- the floor goes (points within :data:`FLOOR_CLEARANCE_M` of it);
- pixels that also lie in another detection's 2D box are left out when enough of the box is the object's alone
  (a chair in front of a desk is not the desk);
- what remains is split into depth clusters (a gap of :data:`CLUSTER_GAP_M` or :data:`CLUSTER_GAP_REL` of the
  distance), and the nearest cluster holding :data:`MIN_CLUSTER_FRACTION` of the points is the object: the wall
  behind it, and whatever shows through it, lie farther;
- then it clears from an object the points of another whose surface it took (an occluder filling most of its
  box) and takes the nearest cluster again.

:func:`box_from_points` fits the box in the room's axes (the room's yaw, or that turned by 90 degrees) by robust
percentiles, after cutting a cluster that reaches farther than the object's kind ever does back to its near part
(it ran on into what touches it). Along each horizontal axis the side facing the camera is seen; the far side is
hidden when the camera is outside the box's slab, and a side may run on out of view where the photo's border cuts
the 2D box. There the box reaches as far as best matches the 2D box's sides under the size prior, and stops short
of what is seen behind it (the wall a cabinet stands against). A floor-standing object reaches the floor even
where its bottom is hidden, unless it is of a kind that may hang and is seen floating (:func:`stands_on_floor`); a
hung one spans what is seen. Of the two ways to lay the prior's width and depth on the room's axes, the one closer
to what is seen wins.

The caller (:func:`pipeline.solve.boxes._depth_boxes`) refits the box to the 2D box with it as the prior, and
keeps its fit to the 2D box where the result disagrees with the 2D box (:func:`agrees_with_2d_box`) or where the
map contradicts it more than that fit (:func:`depth_conflicts`: space it claims that the map sees through, or the
object hidden or missing where the photo shows it).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .. import frames
from ..priors import SizePrior
from ..records import CameraEstimate, DepthMap, Detection

#: At most this many pixels of a 2D box take part (a regular stride over the box).
MAX_SAMPLES = 4000
#: Points this close to the floor (metres, world y) are floor, not object.
FLOOR_CLEARANCE_M = 0.04
#: Pixels that lie in this detection's box alone are used (for its points, and for where it is seen) when they are
#: at least this fraction of its pixels.
MIN_OWN_FRACTION = 0.25
#: Depth clusters: consecutive points (by distance from the camera) farther apart than this many metres, or this
#: fraction of their distance, start a new cluster; a cluster must hold this fraction of the points to count.
CLUSTER_GAP_M = 0.15
CLUSTER_GAP_REL = 0.03
MIN_CLUSTER_FRACTION = 0.2
#: An object whose nearest cluster lies this much inside another's bounds (widened by this many metres) took that
#: one's surface: the other's points are cleared from its box.
TAKEN_SHARE = 0.5
OCCLUDER_MARGIN_M = 0.03
#: Fewer own points than this: no depth box.
MIN_POINTS = 40
#: Robust bounds: percentiles of the points along each axis.
LOW_PERCENTILE = 1.0
HIGH_PERCENTILE = 99.0
#: Without the 2D box, a hidden far side is completed to the geometric mean of the seen extent and the prior's: the
#: object reaches at least as far as it is seen, and a prior is a typical size, not this object's. A seen extent
#: below this fraction of the prior's is a face seen edge-on, not a measure of the extent: it counts as this.
MIN_SEEN_FRACTION = 0.5
#: What is seen around and behind an object (its 2D box widened by this fraction on every side; within this many
#: metres of its height range) bounds its hidden side: at this percentile of those points, less this margin.
AROUND_FRACTION = 0.15
AROUND_M = 0.25
FREE_PERCENTILE = 5.0
FREE_MARGIN_M = 0.02
#: A cluster reaching farther than the prior's longest extent times exp(this many of its spreads) ran on into
#: something else.
OVERSIZE_SPREADS = 2.5
#: The map sees through a box where it measures this much (metres, or this fraction of the distance) beyond its
#: near surface.
SEE_THROUGH_M = 0.1
SEE_THROUGH_REL = 0.05
#: Candidate extents per hidden side when the 2D box places it.
HIDDEN_GRID = 24
#: The box's projection must overlap its 2D box by at least this IoU.
MIN_BOX_AGREEMENT = 0.3
#: An object whose own points all lie this far above the floor (metres; its :data:`LOW_PERCENTILE`), with the
#: bottom of its 2D box in view and nothing nearer just below it, does not stand on the floor: a wall cabinet, a
#: shelf on the wall, a basin in a counter.
ELEVATED_M = 0.3
#: The strip just below a 2D box that tells whether its bottom is hidden: this fraction of the box's height (at
#: least :data:`BELOW_STRIP_MIN_PX` pixels) over the middle :data:`BELOW_STRIP_WIDTH` of its width.
BELOW_STRIP_FRACTION = 0.05
BELOW_STRIP_MIN_PX = 4
BELOW_STRIP_WIDTH = 0.6


@dataclass(frozen=True)
class DepthBox:
    """An upright box fitted to an object's own depth points (world frame).

    center_m, size_m : (3,) box centre and full extents along its own x, y, z (metres)
    yaw_rad          : rotation about +Y
    points           : own points it was fitted to
    completed        : horizontal axes (0 = own x, 2 = own z) whose hidden far side the size prior completed
    slack_m          : how far its centre would move if the hidden extents were the prior's (half the difference)
    """

    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: float
    points: int
    completed: tuple[int, ...]
    slack_m: float = 0.0


def own_points(detections: list[Detection], depth: DepthMap, camera: CameraEstimate,
               room_yaw_rad: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(own points, points seen around and behind them)`` of every detection (module docstring): the nearest
    cluster of its box's points, then once more for an object whose nearest cluster is mostly (:data:`TAKEN_SHARE`)
    inside the bounds (in the room's axes, :data:`OCCLUDER_MARGIN_M` wider) of another object's points, while that
    one's are not inside its own: that cluster is the other object's surface (a bed in front covering most of a
    nightstand's 2D box), so the other's points are cleared from this one's box and the nearest cluster taken
    again. Empty arrays where the map shows too little."""
    origin = camera.world_from_camera[:3, 3]
    to_local = frames.rot_y(-room_yaw_rad)
    candidates = [_box_points(d, [o for o in detections if o is not d], depth, camera) for d in detections]
    none = (np.zeros((0, 3)), np.zeros((0, 3)))
    split = [_split_nearest(c, origin) if len(c) >= MIN_POINTS else none for c in candidates]
    first = [points for points, _ in split]
    first_local = [points @ to_local.T for points in first]
    bounds = [None if len(local) < MIN_POINTS else
              (np.percentile(local, LOW_PERCENTILE, axis=0) - OCCLUDER_MARGIN_M,
               np.percentile(local, HIGH_PERCENTILE, axis=0) + OCCLUDER_MARGIN_M) for local in first_local]

    def inside(local: np.ndarray, bound) -> np.ndarray:
        return np.all((local >= bound[0]) & (local <= bound[1]), axis=1)

    def share_inside(local: np.ndarray, bound) -> float:
        return 0.0 if bound is None or len(local) == 0 else float(inside(local, bound).mean())

    out = []
    for i, points in enumerate(candidates):
        around = _surroundings(detections[i], depth, camera, first[i])
        keep = np.ones(len(points), dtype=bool)
        local = points @ to_local.T
        for j, bound in enumerate(bounds):
            if j != i and share_inside(first_local[i], bound) >= TAKEN_SHARE \
                    and share_inside(first_local[j], bounds[i]) < TAKEN_SHARE:
                keep &= ~inside(local, bound)
        own = first[i] if keep.all() else (_split_nearest(points[keep], origin)[0] if keep.sum() >= MIN_POINTS
                                           else none[0])
        out.append((own, around))
    return out


def _surroundings(detection: Detection, depth: DepthMap, camera: CameraEstimate, own: np.ndarray) -> np.ndarray:
    """Points seen behind an object, in its 2D box widened by :data:`AROUND_FRACTION` of its size on every side:
    those beyond a depth gap past its own (the wall it stands against, further furniture)."""
    if len(own) == 0:
        return np.zeros((0, 3))
    x1, y1, x2, y2 = detection.box_xyxy_px
    grow_x, grow_y = AROUND_FRACTION * (x2 - x1), AROUND_FRACTION * (y2 - y1)
    wider = dataclasses.replace(detection, box_xyxy_px=(x1 - grow_x, y1 - grow_y, x2 + grow_x, y2 + grow_y))
    points = _box_points(wider, [], depth, camera)
    origin = camera.world_from_camera[:3, 3]
    far = float(np.percentile(np.linalg.norm(own - origin, axis=1), HIGH_PERCENTILE))
    distance = np.linalg.norm(points - origin, axis=1)
    order = np.argsort(distance)
    ranked = np.r_[far, distance[order]]
    gaps = np.nonzero((np.diff(ranked) > np.maximum(CLUSTER_GAP_M, CLUSTER_GAP_REL * ranked[1:]))
                      & (ranked[1:] > far))[0]
    # behind the first gap past its own points: what continues them without a gap (its own hidden part) is not
    return points[order[gaps[0]:]] if len(gaps) else np.zeros((0, 3))


def _box_points(detection: Detection, others: list[Detection], depth: DepthMap,
                camera: CameraEstimate) -> np.ndarray:
    """(M, 3) world points of the pixels of a 2D box, strided, off the floor, and the box's own pixels alone when
    enough of them are (module docstring)."""
    height, width = depth.values.shape
    x1, y1, x2, y2 = (float(v) for v in detection.box_xyxy_px)
    c1, c2 = int(max(0, math.floor(x1))), int(min(width, math.ceil(x2)))
    r1, r2 = int(max(0, math.floor(y1))), int(min(height, math.ceil(y2)))
    if c2 <= c1 or r2 <= r1:
        return np.zeros((0, 3))
    stride = max(1, math.ceil(math.sqrt((c2 - c1) * (r2 - r1) / MAX_SAMPLES)))
    rows, cols = np.mgrid[r1:r2:stride, c1:c2:stride]
    rows, cols = rows.ravel(), cols.ravel()
    values = depth.values[rows, cols].astype(float)
    good = depth.valid[rows, cols] & np.isfinite(values) & (values > 0)
    if good.sum() < MIN_POINTS:
        return np.zeros((0, 3))
    uv = frames.pixel_centers(cols, rows)[good]
    points = frames.transform_points(camera.world_from_camera,
                                     frames.pixel_rays(camera.intrinsics.k_matrix, uv) * values[good, None])
    above = points[:, 1] > FLOOR_CLEARANCE_M
    points, uv = points[above], uv[above]
    shared = frames.in_boxes(uv, [other.box_xyxy_px for other in others])
    if (~shared).sum() >= max(MIN_POINTS, MIN_OWN_FRACTION * len(points)):
        points = points[~shared]
    return points


def _split_nearest(points: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cluster, beyond)``: the nearest depth cluster holding at least :data:`MIN_CLUSTER_FRACTION` of the
    points, and the points farther than it (what is seen behind the object: the wall, further furniture)."""
    distance = np.linalg.norm(points - origin, axis=1)
    order = np.argsort(distance)
    ranked = distance[order]
    breaks = np.nonzero(np.diff(ranked) > np.maximum(CLUSTER_GAP_M, CLUSTER_GAP_REL * ranked[1:]))[0] + 1
    least = max(MIN_POINTS, MIN_CLUSTER_FRACTION * len(points))
    for start, stop in zip(np.r_[0, breaks], np.r_[breaks, len(points)]):
        if stop - start >= least:
            return points[order[start:stop]], points[order[stop:]]
    return np.zeros((0, 3)), np.zeros((0, 3))


def bottom_in_view(box_xyxy_px, bottom_cut: bool, points: np.ndarray, depth: DepthMap,
                   camera: CameraEstimate) -> bool:
    """Whether the bottom edge of an object's 2D box is where the object ends, not where something nearer hides
    it: the edge is inside the photo (not ``bottom_cut`` by its border), and the depth just below it is not nearer
    than the object's own points (a bed in front of a nightstand is; the floor or the wall behind a wall cabinet is
    not). False where the map cannot tell."""
    height, width = depth.values.shape
    x1, y1, x2, y2 = (float(v) for v in box_xyxy_px)
    if len(points) == 0 or bottom_cut:
        return False
    strip = max(BELOW_STRIP_MIN_PX, BELOW_STRIP_FRACTION * (y2 - y1))
    r1, r2 = math.ceil(y2), min(height, math.ceil(y2 + strip))
    middle, half = 0.5 * (x1 + x2), 0.5 * BELOW_STRIP_WIDTH * (x2 - x1)
    c1, c2 = int(max(0, math.floor(middle - half))), int(min(width, math.ceil(middle + half)))
    if r2 <= r1 or c2 <= c1:
        return False
    rows, cols = np.mgrid[r1:r2, c1:c2]
    values = depth.values[rows, cols].astype(float)
    good = depth.valid[rows, cols] & np.isfinite(values) & (values > 0)
    if good.sum() < 0.3 * good.size:
        return False  # no measurement there: cannot tell
    uv = frames.pixel_centers(cols[good], rows[good])
    below = np.linalg.norm(frames.pixel_rays(camera.intrinsics.k_matrix, uv) * values[good, None], axis=1)
    own = np.linalg.norm(points - camera.world_from_camera[:3, 3], axis=1)
    nearest = float(np.percentile(own, LOW_PERCENTILE))
    return float(np.median(below)) > nearest - max(CLUSTER_GAP_M, CLUSTER_GAP_REL * nearest)


def lowest_point_m(points: np.ndarray) -> float:
    """Height above the floor (metres) of an object's lowest own points (:data:`LOW_PERCENTILE`)."""
    return float(np.percentile(points[:, 1], LOW_PERCENTILE))


def stands_on_floor(prior: SizePrior, points: np.ndarray, bottom_seen: bool) -> bool:
    """Whether a floor-standing category's object reaches the floor: unless it is of a kind that may hang
    (``may_hang`` in the priors: cabinets, shelves, other furniture) and its own points all lie :data:`ELEVATED_M`
    above the floor with its bottom in view (``bottom_seen``, :func:`bottom_in_view`). A sofa or a chair seen
    floating is hidden at the bottom, or its points are something else's."""
    if prior.open_below or not prior.may_hang or len(points) < MIN_POINTS:
        return True
    return lowest_point_m(points) < ELEVATED_M or not bottom_seen


def box_from_points(points: np.ndarray, prior: SizePrior, room_yaw_rad: float, camera: CameraEstimate,
                    on_floor: bool, cut_sides: np.ndarray | None = None,
                    box_xyxy_px: tuple | None = None, beyond: np.ndarray | None = None) -> DepthBox | None:
    """The upright box of an object's own points (module docstring), or None for too few points. ``on_floor``:
    its bottom is the floor (y = 0); ``cut_sides`` (x1, y1, x2, y2) of its 2D box cut by the photo's border: a
    top cut by the border reaches at least the prior's height. With ``box_xyxy_px`` (the 2D box), a hidden far
    side is placed where the box's projection best matches the 2D box's sides under the size prior
    (:func:`_hidden_extents`); without it, at the geometric mean of the seen and the prior's extents. ``beyond``:
    points seen behind the object in its 2D box; a hidden side stops short of those straight behind it (a cabinet
    against a wall does not reach into the wall)."""
    if len(points) < MIN_POINTS:
        return None
    to_local = frames.rot_y(-room_yaw_rad)
    local = points @ to_local.T
    eye = to_local @ camera.world_from_camera[:3, 3]
    local = _trim_oversize(local, prior, eye)
    if len(local) < MIN_POINTS:
        return None
    low = np.percentile(local, LOW_PERCENTILE, axis=0)
    high = np.percentile(local, HIGH_PERCENTILE, axis=0)
    bottom = 0.0 if on_floor else float(low[1])
    top = float(high[1])
    if cut_sides is not None and cut_sides[1]:
        top = max(top, bottom + prior.size_m[1])
    top = max(top, bottom + 0.05)
    low[1], high[1] = bottom, top
    width, _, depth = prior.size_m
    spread_w, _, spread_d = prior.spreads
    best = None
    for turned, (typical, spread) in enumerate(((np.array([width, depth]), np.array([spread_w, spread_d])),
                                                (np.array([depth, width]), np.array([spread_d, spread_w])))):
        lo, hi = low.copy(), high.copy()
        hidden = []  # (axis, sign: +1 the high side is hidden, -1 the low side)
        for k, axis in enumerate((0, 2)):
            if hi[axis] - lo[axis] >= typical[k]:
                continue
            sign = 0.0
            if box_xyxy_px is not None and cut_sides is not None and (cut_sides[0] or cut_sides[2]):
                sign = _towards_cut(lo, hi, axis, to_local, camera, cut_sides)  # it may reach on out of view
            if not sign and not lo[axis] <= eye[axis] <= hi[axis]:
                sign = 1.0 if eye[axis] < lo[axis] else -1.0  # its far side is hidden behind what is seen
            if sign:
                hidden.append((k, sign))
        limit = {k: _free_extent(lo, hi, 2 * k, sign, beyond, to_local) for k, sign in hidden}
        if hidden and box_xyxy_px is not None:
            extents = _hidden_extents(lo, hi, hidden, typical, spread, to_local, camera, box_xyxy_px, cut_sides,
                                      limit)
        else:
            extents = {k: math.sqrt(max(hi[2 * k] - lo[2 * k], MIN_SEEN_FRACTION * typical[k]) * typical[k])
                       for k, _ in hidden}
        slack = 0.0
        for k, sign in hidden:
            axis = 2 * k
            seen = hi[axis] - lo[axis]
            extent = max(min(extents[k], limit[k]), seen)
            if sign > 0:
                hi[axis] = lo[axis] + extent
            else:
                lo[axis] = hi[axis] - extent
            slack = max(slack, 0.5 * abs(typical[k] - extent))
        extent = np.maximum([hi[0] - lo[0], hi[2] - lo[2]], 1e-3)  # a face seen edge-on has no extent
        misfit = float(np.sum((np.log(extent / typical) / spread) ** 2))
        if best is None or misfit < best[0]:
            best = (misfit, turned, lo, hi, tuple(2 * k for k, _ in hidden), slack)
    _, turned, lo, hi, completed, slack = best
    center = to_local.T @ (0.5 * (lo + hi))
    size = hi - lo
    yaw = room_yaw_rad
    if turned:  # the prior's width lies along the room's z: the box's own x is the room's z
        yaw, size = room_yaw_rad + 0.5 * math.pi, size[[2, 1, 0]]
        completed = tuple(2 - axis for axis in completed)
    return DepthBox(center, size, frames.wrap_angle(yaw), len(points), completed, slack)


def _trim_oversize(local: np.ndarray, prior: SizePrior, eye: np.ndarray) -> np.ndarray:
    """Points (room-local) cut back to the object's near part where they reach farther than its kind ever does
    (the prior's longer extent times exp(:data:`OVERSIZE_SPREADS` spreads)): the cluster ran on into what touches
    it (the wall behind, the table a chair stands at). Kept along the longer seen extent: the points within that
    reach of the side facing the camera (of the middle where the camera faces it square on). Real boxes are loose
    (a desk's holds what stands on it): a shorter extent larger than the prior's is not cut."""
    longest = max(prior.size_m[0], prior.size_m[2]) * math.exp(OVERSIZE_SPREADS * max(prior.spreads))

    def extent(axis: int, points: np.ndarray) -> tuple[float, float]:
        return (float(np.percentile(points[:, axis], LOW_PERCENTILE)),
                float(np.percentile(points[:, axis], HIGH_PERCENTILE)))

    def cut(points: np.ndarray, axis: int, reach: float) -> np.ndarray:
        low, high = extent(axis, points)
        if high - low <= reach:
            return points
        if eye[axis] <= low:
            return points[points[:, axis] <= low + reach]
        if eye[axis] >= high:
            return points[points[:, axis] >= high - reach]
        middle = float(np.median(points[:, axis]))
        return points[np.abs(points[:, axis] - middle) <= 0.5 * reach]

    spans = {axis: extent(axis, local) for axis in (0, 2)}
    long_axis = max(spans, key=lambda a: spans[a][1] - spans[a][0])
    return cut(local, long_axis, longest)


def _towards_cut(lo: np.ndarray, hi: np.ndarray, axis: int, to_local: np.ndarray, camera: CameraEstimate,
                 cut_sides) -> float:
    """+1 or -1: the side of the box along ``axis`` (room-local) whose growth carries its projection out through
    the cut left or right border of the photo; 0 when neither does."""
    center = 0.5 * (lo + hi)
    step = np.zeros(3)
    step[axis] = 0.5 * (hi[axis] - lo[axis]) + 0.05
    for sign in (1.0, -1.0):
        u, _ = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera,
                                           np.array([center, center + sign * step]) @ to_local)
        if (cut_sides[0] and u[1, 0] < u[0, 0] - 1.0) or (cut_sides[2] and u[1, 0] > u[0, 0] + 1.0):
            return sign
    return 0.0


def _free_extent(lo: np.ndarray, hi: np.ndarray, axis: int, sign: float, beyond: np.ndarray | None,
                 to_local: np.ndarray) -> float:
    """How far (metres) the box may reach along ``axis`` (room-local) on its ``sign`` side before it meets points
    seen behind it: those within its span on the other horizontal axis and its height range (and :data:`AROUND_M`)
    (:data:`FREE_PERCENTILE` of them, less :data:`FREE_MARGIN_M`); infinite when too few are seen there."""
    if beyond is None or len(beyond) < MIN_POINTS:
        return math.inf
    local = beyond @ to_local.T
    other = 2 - axis
    behind = (local[:, other] >= lo[other]) & (local[:, other] <= hi[other]) \
        & (local[:, 1] >= lo[1] - AROUND_M) & (local[:, 1] <= hi[1] + AROUND_M)
    behind &= (local[:, axis] > hi[axis]) if sign > 0 else (local[:, axis] < lo[axis])
    if behind.sum() < MIN_POINTS // 4:
        return math.inf
    if sign > 0:
        return float(np.percentile(local[behind, axis], FREE_PERCENTILE)) - FREE_MARGIN_M - lo[axis]
    return hi[axis] - float(np.percentile(local[behind, axis], 100.0 - FREE_PERCENTILE)) - FREE_MARGIN_M


def _hidden_extents(lo: np.ndarray, hi: np.ndarray, hidden: list, typical: np.ndarray, spread: np.ndarray,
                    to_local: np.ndarray, camera: CameraEstimate, box_xyxy_px, cut_sides,
                    limit: dict | None = None) -> dict:
    """``{k: extent}`` of the hidden horizontal extents (k = 0: the room's x, 1: its z) whose box projects best
    onto the 2D box: a grid of :data:`HIDDEN_GRID` extents each, from the seen one to twice the prior's, scored by
    the 2D box's sides not cut by the border (soft-L1, in units of their pixel noise) plus the size prior."""
    from .fit import SIDE_SIGMA_FRACTION, SIDE_SIGMA_PX, soft_l1_cost

    axes = [k for k, _ in hidden]
    seen = {k: max(hi[2 * k] - lo[2 * k], 0.02) for k in axes}
    most = {k: max(min(2.0 * typical[k], (limit or {}).get(k, math.inf)), seen[k] + 0.01) for k in axes}
    grids = [np.geomspace(seen[k], most[k], HIDDEN_GRID) for k in axes]
    combos = np.array(np.meshgrid(*grids, indexing="ij")).reshape(len(axes), -1).T  # (C, len(axes))
    low = np.tile(lo, (len(combos), 1))
    high = np.tile(hi, (len(combos), 1))
    for column, (k, sign) in enumerate(hidden):
        axis = 2 * k
        if sign > 0:
            high[:, axis] = lo[axis] + combos[:, column]
        else:
            low[:, axis] = hi[axis] - combos[:, column]
    corners_local = np.where(frames.UNIT_BOX_CORNERS[None] > 0, high[:, None, :], low[:, None, :])  # (C, 8, 3)
    corners = corners_local @ to_local  # local -> world: to_local.T applied to row vectors
    uv, z = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, corners)
    box = np.asarray(box_xyxy_px, dtype=float)
    sigma = SIDE_SIGMA_PX + SIDE_SIGMA_FRACTION * math.hypot(box[2] - box[0], box[3] - box[1])
    projected = np.column_stack([uv[..., 0].min(1), uv[..., 1].min(1), uv[..., 0].max(1), uv[..., 1].max(1)])
    sides = (projected - box[None]) / sigma
    if cut_sides is not None:
        sides = np.where(np.asarray(cut_sides, bool)[None], 0.0, sides)
    sides = np.where((z <= 0).any(axis=1)[:, None], 1e3, sides)
    size_term = (np.log(combos / typical[axes][None]) / spread[axes][None])
    cost = soft_l1_cost(sides) + 0.5 * (size_term ** 2).sum(axis=1)
    best = combos[int(np.argmin(cost))]
    return {k: float(value) for k, value in zip(axes, best)}


#: Occluded sides (:func:`occluded_sides`): strips this fraction of the photo's width wide, just outside and just
#: inside the side (past a gap of a quarter of that: depth and colour are registered to a few pixels) ...
EDGE_STRIP_FRACTION = 0.02
#: ... the outside nearer than the inside by this many metres or this fraction of the inside's depth ...
EDGE_NEARER_M = 0.15
EDGE_NEARER_REL = 0.05
#: ... on at least this share of the rows where both are seen (which must be this share of the box's rows).
EDGE_ROWS = 0.5


def occluded_sides(box_xyxy_px, depth: DepthMap) -> np.ndarray:
    """(4,) bool: which sides (x1, y1, x2, y2; left and right only) of a 2D box a metric map shows as occluding
    edges: row by row, what lies just outside the side is nearer than what lies just inside (something in front
    ends there, and the object may reach on behind it)."""
    out = np.zeros(4, dtype=bool)
    height, width = depth.values.shape
    x1, y1, x2, y2 = box_xyxy_px
    strip = max(2, round(EDGE_STRIP_FRACTION * width))
    gap = max(1, strip // 4)
    rows = np.arange(max(0, int(y1)), min(height, math.ceil(y2)))
    if len(rows) == 0:
        return out
    import warnings

    values = np.where(depth.valid, depth.values, np.nan).astype(float)

    def medians(start: int, stop: int) -> np.ndarray | None:
        start, stop = max(0, start), min(width, stop)
        if stop - start < 1:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a row with nothing seen: NaN
            return np.nanmedian(values[rows, start:stop], axis=1)

    for side, edge, sign in ((0, round(x1), -1), (2, round(x2), 1)):
        outside = medians(edge + gap, edge + gap + strip) if sign > 0 else medians(edge - gap - strip, edge - gap)
        inside = medians(edge - gap - strip, edge - gap) if sign > 0 else medians(edge + gap, edge + gap + strip)
        if outside is None or inside is None:
            continue
        both = np.isfinite(outside) & np.isfinite(inside)
        if both.sum() < EDGE_ROWS * len(rows):
            continue
        nearer = outside[both] < inside[both] - np.maximum(EDGE_NEARER_M, EDGE_NEARER_REL * inside[both])
        out[side] = nearer.mean() >= EDGE_ROWS
    return out


def depth_conflicts(box, depth: DepthMap, camera: CameraEstimate, seen_in: np.ndarray) -> tuple[float, float]:
    """``(seen through, unseen)``. Seen through: the share of the pixels a box (anything with ``center_m``,
    ``size_m``, ``yaw_rad``) covers in the photo where the map sees farther than its near surface (space the box
    claims that is seen to be empty). Unseen: the share of the pixels where the object is seen in the photo,
    ``seen_in`` ((H, W) bool, :func:`seen_pixels`), where the box does not show: the pixel's ray misses it, or the
    map sees something nearer. Both by :data:`SEE_THROUGH_M` or :data:`SEE_THROUGH_REL` of the distance. A box the
    grounding found in the photo but hidden behind the map on every pixel, or off its 2D box, contradicts the map
    as much as one seen through. A box behind the camera or outside the photo is ``(1, 1)``. Up to
    :data:`MAX_SAMPLES` pixels each, strided."""
    corners = frames.box_corners(box.center_m, box.size_m, box.yaw_rad)
    uv, z = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, corners)
    if np.any(z <= 0):
        return 1.0, 1.0
    height, width = depth.values.shape
    (x1, y1), (x2, y2) = np.clip(uv.min(axis=0), 0, [width, height]), np.clip(uv.max(axis=0), 0, [width, height])
    c1, c2, r1, r2 = int(x1), math.ceil(x2), int(y1), math.ceil(y2)
    if c2 <= c1 or r2 <= r1:
        return 1.0, 1.0
    stride = max(1, math.ceil(math.sqrt((c2 - c1) * (r2 - r1) / MAX_SAMPLES)))
    rows, cols = np.mgrid[r1:min(r2, height):stride, c1:min(c2, width):stride]
    entry, measured, seen = _box_entries(box, depth, camera, rows.ravel(), cols.ravel())
    margin = np.maximum(SEE_THROUGH_M, SEE_THROUGH_REL * entry[seen])
    through = float(np.mean(measured[seen] > entry[seen] + margin)) if seen.any() else 0.0
    rows, cols = np.nonzero(seen_in)
    stride = max(1, math.ceil(len(rows) / MAX_SAMPLES))
    rows, cols = rows[::stride], cols[::stride]
    entry, measured, _ = _box_entries(box, depth, camera, rows, cols)
    valid = depth.valid[rows, cols] & (measured > 0)
    if not valid.any():
        return through, 0.0
    entry, measured = entry[valid], measured[valid]
    shows = np.isfinite(entry) & (measured >= entry - np.maximum(SEE_THROUGH_M, SEE_THROUGH_REL * measured))
    return through, 1.0 - float(shows.mean())


def seen_pixels(detection: Detection, detections: list[Detection], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) bool: where the object is seen in the photo: the pixels of its 2D box that no other detection's box
    covers (there it may be behind that one), or its whole 2D box when those are less than
    :data:`MIN_OWN_FRACTION` of it."""
    box = np.zeros(shape, dtype=bool)
    x1, y1, x2, y2 = (round(v) for v in detection.box_xyxy_px)
    box[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = True
    own = box.copy()
    for other in detections:
        if other is not detection:
            a1, b1, a2, b2 = (round(v) for v in other.box_xyxy_px)
            own[max(b1, 0):max(b2, 0), max(a1, 0):max(a2, 0)] = False
    return own if own.sum() >= MIN_OWN_FRACTION * box.sum() else box


def _box_entries(box, depth: DepthMap, camera: CameraEstimate, rows: np.ndarray,
                 cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(entry, measured, seen)`` at these pixels: the camera depth where each pixel's ray enters the box (inf
    where it misses), the map's depth, and where both are there."""
    from .fit import ray_box_depth

    rays = frames.pixel_rays(camera.intrinsics.k_matrix, frames.pixel_centers(cols, rows))
    camera_from_world = frames.invert_rigid(camera.world_from_camera)
    center = frames.transform_points(camera_from_world, np.asarray(box.center_m, dtype=float))
    axes = camera_from_world[:3, :3] @ frames.rot_y(box.yaw_rad)
    entry = ray_box_depth(rays[None], center[None], axes[None], 0.5 * np.asarray(box.size_m, dtype=float)[None])[0]
    measured = depth.values[rows, cols].astype(float)
    return entry, measured, np.isfinite(entry) & depth.valid[rows, cols] & (measured > 0)


def agrees_with_2d_box(box, detection: Detection, camera: CameraEstimate) -> bool:
    """Whether a box's (anything with ``center_m``, ``size_m``, ``yaw_rad``) projection overlaps its 2D box by
    :data:`MIN_BOX_AGREEMENT` (IoU; the part of the projection inside the photo)."""
    corners = frames.box_corners(box.center_m, box.size_m, box.yaw_rad)
    uv, z = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, corners)
    if np.any(z <= 0):
        return False
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    px1, py1 = np.clip(uv.min(axis=0), 0, [width, height])
    px2, py2 = np.clip(uv.max(axis=0), 0, [width, height])
    x1, y1, x2, y2 = detection.box_xyxy_px
    inter = max(0.0, min(px2, x2) - max(px1, x1)) * max(0.0, min(py2, y2) - max(py1, y1))
    union = (px2 - px1) * (py2 - py1) + (x2 - x1) * (y2 - y1) - inter
    return union > 0 and inter / union >= MIN_BOX_AGREEMENT
