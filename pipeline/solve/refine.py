"""Joint refinement: the solved boxes together, so that no two of them interpenetrate.

The per-object fits (:mod:`fit`) ignore one another; two boxes whose 2D boxes overlap in the photo (a nightstand
beside a bed, two armchairs side by side) can then end up inside each other. Here the objects that interpenetrate,
with their supports, are refitted at once by Levenberg-Marquardt with the ``soft_l1`` loss (block-sparse: one forward
difference per parameter serves all objects):
each keeps its own residuals (2D box sides, size prior, position and depth terms: :class:`fit.BoxTerms`) and every
interpenetrating pair adds its penetration depth. Yaws (one of the room's axes, already chosen) and supports stay
fixed; an object standing on another stands on that object's refitted top.

Boxes are upright and turned to the room's axes, so in the room's frame they are axis-aligned: the penetration of
two boxes is the smaller horizontal overlap when they overlap along all three axes, else zero. A table or desk
(``open_below``) may hold the chairs (``tucks_under``) pushed under it; flat or wall-hung things (rugs, pictures)
and pairs where one stands on the other are never pushed apart.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import frames, priors
from ..records import CameraEstimate, Detection, ObjectBox
from .contacts import bottom_is_free, open_sides
from .fit import PRIOR_COLUMNS, BoxTerms, DepthSamples

#: Penetration depth (metres) that costs as much as one unit of a box's fit residuals.
PENETRATION_SIGMA_M = 0.01
#: Pairs of boxes closer than this (metres, horizontally) take part in the joint refinement.
PAIR_MARGIN_M = 0.05
#: Bound on the joint refinement's Levenberg-Marquardt steps.
MAX_ITERATIONS = 30
#: Forward-difference step of the Jacobian (metres or log-size units).
STEP = 1e-6
#: Rounds of the refinement: pairs that a round pushes into each other join the next.
ROUNDS = 2
#: Largest group of mutually overlapping objects refitted together (beyond it they are left as fitted).
MAX_GROUP = 40
#: Categories never pushed apart from anything (flat on the floor or laid on furniture).
NEVER_APART = {"rug", "pillow", "curtain"}


def penetration_m(lo_a: np.ndarray, hi_a: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray) -> np.ndarray:
    """(...) penetration depth of axis-aligned boxes (corners ``lo``/``hi``, (..., 3), x y z of the room's
    frame): the smaller of the x and z overlaps when they overlap along all three axes, else 0."""
    overlap = np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b)
    inside = np.all(overlap > 0, axis=-1)
    return np.where(inside, np.minimum(overlap[..., 0], overlap[..., 2]), 0.0)


def room_frame_extents(objects: list[ObjectBox], room_yaw_rad: float) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) lower and upper corners of the boxes in the room's frame (boxes turned to the room's axes)."""
    to_room = frames.rot_y(-room_yaw_rad)
    corners = np.array([obj.corners_m @ to_room.T for obj in objects]).reshape(-1, 8, 3)
    return corners.min(axis=1), corners.max(axis=1)


def may_interpenetrate(a: ObjectBox, b: ObjectBox) -> bool:
    """Whether two solved boxes may legitimately share space (a chair under a desk, a rug under a bed)."""
    pa, pb = priors.lookup(a.label), priors.lookup(b.label)
    if pa.category in NEVER_APART or pb.category in NEVER_APART or "wall" in (pa.support, pb.support):
        return True
    if (pa.open_below and pb.tucks_under) or (pb.open_below and pa.tucks_under):
        return True
    return any(note == f"stands on {other.label}" for x, other in ((a, b), (b, a)) for note in x.notes)


def interpenetrating_pairs(objects: list[ObjectBox], room_yaw_rad: float, margin_m: float = 0.0) -> list:
    """Index pairs (i < j) of boxes that interpenetrate (by more than ``-margin_m``) and may not."""
    lo, hi = room_frame_extents(objects, room_yaw_rad)
    grow = np.array([margin_m, 0.0, margin_m])
    pairs = []
    for i in range(len(objects)):
        depth = penetration_m(lo[i] - grow, hi[i] + grow, lo[i + 1:], hi[i + 1:])
        for j in np.nonzero(depth > 0)[0] + i + 1:
            if not may_interpenetrate(objects[i], objects[j]):
                pairs.append((i, int(j)))
    return pairs


def refine_jointly(objects: tuple[ObjectBox, ...], detections: dict[int, Detection], prior_list: dict[int, object],
                   camera: CameraEstimate, room_yaw_rad: float, depth: DepthSamples | None = None,
                   depth_rows: dict[int, int] | None = None,
                   frozen: set = frozenset()) -> tuple[tuple[ObjectBox, ...], list[str]]:
    """Push interpenetrating boxes apart, refitting them together (see the module's docstring).

    ``detections`` and ``prior_list`` map detection index -> the detection and size prior each box was fitted
    with; ``depth`` (with ``depth_rows``: detection index -> its row) adds the depth term. Boxes of ``frozen``
    detection indices (a person's corrections) do not move: the others are pushed out of them. Returns the boxes
    (untouched when none interpenetrate) and notes for the warnings.
    """
    objects = list(objects)
    if len(objects) < 2:
        return tuple(objects), []
    is_frozen = [obj.detection_index in frozen for obj in objects]
    pairs = [(i, j) for i, j in interpenetrating_pairs(objects, room_yaw_rad) if not (is_frozen[i] and is_frozen[j])]
    if not pairs:
        return tuple(objects), []
    by_label = {}
    for i, obj in enumerate(objects):
        by_label.setdefault(obj.label, []).append(i)
    support = np.full(len(objects), -1)
    for i, obj in enumerate(objects):
        for note in obj.notes:
            if note.startswith("stands on "):
                candidates = [j for j in by_label.get(note[len("stands on "):], []) if j != i]
                if candidates:  # the supporter: the one whose top is where this box's bottom is
                    bottom = obj.corners_m[:, 1].min()
                    support[i] = min(candidates, key=lambda j: abs(objects[j].corners_m[:, 1].max() - bottom))
    warnings, left_alone, done = [], set(), set()
    for _ in range(ROUNDS):  # a box pushed into a third one: the new pair joins in the next round
        new = [pair for pair in pairs if pair not in done]
        if not new:
            break
        done |= set(pairs)
        _refine_groups(objects, pairs, support, detections, prior_list, camera, room_yaw_rad, depth, depth_rows,
                       warnings, left_alone, is_frozen)
        pairs = sorted(done | {p for p in interpenetrating_pairs(objects, room_yaw_rad, -PENETRATION_SIGMA_M)
                               if not left_alone & set(p) and not (is_frozen[p[0]] and is_frozen[p[1]])})
    pairs = sorted(done)
    moved = {}
    for i, j in pairs:
        moved.setdefault(i, []).append(objects[j].label)
        moved.setdefault(j, []).append(objects[i].label)
    for k, others in moved.items():
        if is_frozen[k]:
            continue
        objects[k] = dataclasses.replace(objects[k], notes=(*objects[k].notes,
                                                            "kept out of " + ", ".join(sorted(set(others)))))
    for i, j in interpenetrating_pairs(objects, room_yaw_rad, margin_m=-PENETRATION_SIGMA_M):
        if i in left_alone or (is_frozen[i] and is_frozen[j]):  # two boxes the user put there
            continue
        depth_cm = 100 * float(penetration_m(*_pair_extents(objects, i, j, room_yaw_rad)))
        warnings.append(f"{objects[i].label!r} and {objects[j].label!r} (entries {objects[i].detection_index} and "
                        f"{objects[j].detection_index}) still overlap by {depth_cm:.0f} cm: their 2D boxes and "
                        "sizes leave no room for both")
    return tuple(objects), warnings


def _refine_groups(objects, pairs, support, detections, prior_list, camera, room_yaw_rad, depth, depth_rows,
                   warnings, left_alone, is_frozen) -> None:
    """Refit each group of objects that interact (through ``pairs`` and support links) on its own; groups larger
    than ``MAX_GROUP`` are left as fitted (their members added to ``left_alone``, with a warning)."""
    group_of = list(range(len(objects)))

    def root(k: int) -> int:
        while group_of[k] != k:
            group_of[k] = group_of[group_of[k]]
            k = group_of[k]
        return k

    for i, j in [*pairs, *((k, int(support[k])) for k in range(len(objects)) if support[k] >= 0)]:
        group_of[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for k in range(len(objects)):
        groups.setdefault(root(k), []).append(k)
    for members in groups.values():
        inside = [(i, j) for i, j in pairs if root(i) == root(members[0])]
        if not inside or left_alone & set(members) or all(is_frozen[k] for k in members):
            continue
        if len(members) > MAX_GROUP:
            warnings.append(f"{len(members)} objects overlap one another: too many to separate, left as fitted")
            left_alone.update(members)
            continue
        _refine_group(objects, members, inside, support, detections, prior_list, camera, room_yaw_rad, depth,
                      depth_rows, np.array([is_frozen[k] for k in sorted(members)]))


def _refine_group(objects: list[ObjectBox], active: list[int], pairs: list, support: np.ndarray, detections: dict,
                  prior_list: dict, camera: CameraEstimate, room_yaw_rad: float, depth: DepthSamples | None,
                  depth_rows: dict | None, frozen: np.ndarray | None = None) -> None:
    """Refit the objects ``active`` (indices into ``objects``, replaced in place) with their ``pairs``; those
    ``frozen`` (bool per sorted active object) keep their boxes, as they are (turned any way: their room-frame
    extents), and only push the others."""
    active = sorted(active)
    position = {k: n for n, k in enumerate(active)}
    detections_in = [detections[objects[k].detection_index] for k in active]
    priors_in = [prior_list[objects[k].detection_index] for k in active]
    samples = None
    if depth is not None and depth_rows is not None:
        rows = [depth_rows[objects[k].detection_index] for k in active]
        samples = depth.rows(rows)
    free = np.array([[False, False, False, bottom_is_free(objects[k].notes)] for k in active])
    terms = BoxTerms(detections_in, priors_in, camera, [objects[k].yaw_rad for k in active], depth=samples,
                     free_sides=free, open_sides=np.array([open_sides(objects[k].notes) for k in active]))
    base_y = np.array([objects[k].corners_m[:, 1].min() for k in active])
    supporter = np.array([position.get(int(support[k]), -1) for k in active])
    on_floor_supporter = np.array([s >= 0 and base_y[s] < 1e-6 for s in supporter])
    x0 = np.array([[objects[k].center_m[0], objects[k].center_m[2], *np.log(objects[k].size_m)] for k in active])
    to_room = frames.rot_y(-room_yaw_rad)
    yaw_rel = np.array([objects[k].yaw_rad - room_yaw_rad for k in active])
    swap = np.abs(np.sin(yaw_rel)) > np.abs(np.cos(yaw_rel))  # width along the room's z
    pair_index = np.array([(position[i], position[j]) for i, j in pairs])
    count = len(active)

    def support_y(params: np.ndarray) -> np.ndarray:
        tops = np.exp(params[:, 3])
        return np.where(on_floor_supporter, tops[np.maximum(supporter, 0)], base_y)

    def boxes_room(rows: np.ndarray, y0: np.ndarray, turned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners in the room's frame of boxes with parameter ``rows``, bottoms ``y0``."""
        size = np.exp(rows[:, 2:5])
        extent = np.column_stack([np.where(turned, size[:, 2], size[:, 0]), size[:, 1],
                                  np.where(turned, size[:, 0], size[:, 2])])
        center = np.column_stack([rows[:, 0], y0 + 0.5 * size[:, 1], rows[:, 1]]) @ to_room.T
        return center - 0.5 * extent, center + 0.5 * extent

    a, b = pair_index[:, 0], pair_index[:, 1]
    frozen = np.zeros(count, dtype=bool) if frozen is None else np.asarray(frozen, dtype=bool)
    still_lo, still_hi = room_frame_extents([objects[k] for k in active], room_yaw_rad)

    def apart(rows_a: np.ndarray, rows_b: np.ndarray, y0: np.ndarray) -> np.ndarray:
        """Penetration of each pair (/ its noise), from the two boxes' parameter rows."""
        lo_a, hi_a = boxes_room(rows_a, y0[a], swap[a])
        lo_b, hi_b = boxes_room(rows_b, y0[b], swap[b])
        if frozen.any():
            lo_a, hi_a = np.where(frozen[a, None], still_lo[a], lo_a), np.where(frozen[a, None], still_hi[a], hi_a)
            lo_b, hi_b = np.where(frozen[b, None], still_lo[b], lo_b), np.where(frozen[b, None], still_hi[b], hi_b)
        return penetration_m(lo_a, hi_a, lo_b, hi_b) / PENETRATION_SIGMA_M

    def evaluate(params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y0 = support_y(params)
        return terms.residuals(params, y0), apart(params[a], params[b], y0)

    def jacobian(params: np.ndarray, own: np.ndarray, pair: np.ndarray):
        """Per-object blocks (count, R, 5) and pair blocks (pairs, 2, 5). An object's own residuals depend on its
        own parameters only (a supporter's height enters the residuals, not this Jacobian), so one shifted
        evaluation per parameter serves every object at once; each pair's term is differentiated from its own
        two rows (an object in several pairs moves in each of them alone)."""
        y0 = support_y(params)
        own_jacobian = np.empty((count, own.shape[1], 5))
        pair_jacobian = np.zeros((len(pair_index), 2, 5))
        for j in range(5):
            shifted = params.copy()
            shifted[:, j] += STEP
            own_jacobian[:, :, j] = (terms.residuals(shifted, y0) - own) / STEP
            pair_jacobian[:, 0, j] = (apart(shifted[a], params[b], y0) - pair) / STEP
            pair_jacobian[:, 1, j] = (apart(params[a], shifted[b], y0) - pair) / STEP
        return own_jacobian, pair_jacobian

    params = x0.copy()
    own, pair = evaluate(params)
    cost = _cost(own, pair)
    damping = 1e-2
    for _ in range(MAX_ITERATIONS):
        own_jacobian, pair_jacobian = jacobian(params, own, pair)
        w_own, w_pair = 1.0 / np.sqrt(1.0 + own ** 2), 1.0 / np.sqrt(1.0 + pair ** 2)  # soft_l1 by reweighting
        w_own[:, PRIOR_COLUMNS] = 1.0  # ... but the size prior squared: moving, not shrinking, resolves overlaps
        blocks = np.zeros((count, count, 5, 5))
        own_blocks = np.einsum("nrp,nr,nrq->npq", own_jacobian, w_own, own_jacobian)
        blocks[np.arange(count), np.arange(count)] += own_blocks
        gradient = np.einsum("nrp,nr->np", own_jacobian, w_own * own)
        pair_blocks = np.einsum("r,rip,rkq->rikpq", w_pair, pair_jacobian, pair_jacobian)
        for side_i in (0, 1):
            np.add.at(gradient, pair_index[:, side_i], pair_jacobian[:, side_i] * (w_pair * pair)[:, None])
            for side_k in (0, 1):
                np.add.at(blocks, (pair_index[:, side_i], pair_index[:, side_k]), pair_blocks[:, side_i, side_k])
        normal = blocks.transpose(0, 2, 1, 3).reshape(count * 5, count * 5)
        gradient = gradient.ravel()
        if frozen.any():  # no step for the boxes that stay
            still = np.flatnonzero(np.repeat(frozen, 5))
            normal[still, :] = 0.0
            normal[:, still] = 0.0
            normal[still, still] = 1.0
            gradient[still] = 0.0
        diagonal = np.maximum(np.diag(normal), 1e-12)
        trial = params - np.linalg.solve(normal + damping * np.diag(diagonal), gradient).reshape(count, 5)
        own_trial, pair_trial = evaluate(trial)
        cost_trial = _cost(own_trial, pair_trial)
        if cost_trial < cost:
            gain = cost - cost_trial
            params, own, pair, cost = trial, own_trial, pair_trial, cost_trial
            damping = max(damping / 3.0, 1e-9)
            if gain <= 1e-6 * (1.0 + cost):
                break
        else:
            damping *= 4.0
            if damping > 1e9:
                break
    y0 = support_y(params)
    for n, k in enumerate(active):
        if frozen[n]:
            continue
        size = np.exp(params[n, 2:5])
        objects[k] = dataclasses.replace(
            objects[k], center_m=(float(params[n, 0]), float(y0[n] + 0.5 * size[1]), float(params[n, 1])),
            size_m=tuple(float(v) for v in size))


def _cost(own: np.ndarray, pair: np.ndarray) -> float:
    """soft_l1 cost of the residuals (as :func:`fit.soft_l1_cost`), but plain squares for the size priors: under a
    robust loss a box shrinks to nothing more cheaply than it moves aside."""
    robust = np.sqrt(1.0 + own ** 2) - 1.0
    robust[:, PRIOR_COLUMNS] = 0.5 * own[:, PRIOR_COLUMNS] ** 2
    return float(robust.sum() + (np.sqrt(1.0 + pair ** 2) - 1.0).sum())


def _pair_extents(objects, i, j, room_yaw_rad):
    lo, hi = room_frame_extents([objects[i], objects[j]], room_yaw_rad)
    return lo[0], hi[0], lo[1], hi[1]
