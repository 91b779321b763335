"""Room-layout answers, facts -> placement: where every object of :mod:`layout_text`'s reading stands.

Resolution: a constructive first placement (each wall's furniture packed in an order that keeps corners, ends and
left/right relations; free-standing objects around their targets), then a small
:func:`scipy.optimize.least_squares` over the free coordinates (each wall object's position along its wall, free
objects' floor position, and the room size when the text gives none), with a sparse finite-difference Jacobian:
stated distances (robust: one the room cannot give does not spoil the others), relations and anchors as residuals,
every object inside the room, no two objects (nor the camera's standing spot, nor a door's swing) interpenetrating
(smooth hinge residuals). A corner object tries both of its walls (up to :data:`_MAX_COMBINATIONS` combinations);
"next to" prefers touching but may move :data:`NEAR_SLACK_M` away when crowded. Contradictions (two opposite walls,
a wall and a corner of other walls, a wall and the centre): the first anchor in the text wins and a warning says
what was dropped; a second object in a taken corner stands against one of its walls towards it; a window or door
"in the middle of the room" goes in a wall. Unknown words or names get a warning and a default (against the wall
with the most free length for objects that usually stand against one, else near the centre). What the solution
cannot keep (a stated distance, objects that overlap or leave the room) is reported in the warnings. Never an
exception for any JSON value; the placement stops at :data:`TIME_BUDGET_S` with the best arrangement found.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from .layout_text import (
    _OPPOSITE,
    _SEATS,
    _WALL,
    ROOM_SIDE_LIMITS_M,
    WALLS,
    _CameraPlan,
    _front,
    _half_extents,
    _heading_vector,
    _Parsed,
    _right,
    _Spec,
    _wants_wall,
    _yaw_towards,
)

#: Residual scales (metres): hard constraints (inside, no overlap, corners), stated distances, relations.
_HARD_M, _DISTANCE_M, _RELATION_M, _SOFT_M, _WEAK_M = 0.005, 0.02, 0.05, 0.3, 1.0
#: The camera stands this far inside the walls it is said to be near.
CAMERA_INSET_M = 0.5


#: Half-size of the floor square kept free around the camera's standing spot.
CAMERA_KEEP_OUT_M = 0.25


#: Gap between neighbours placed "next to" each other, and how much farther "next to" may be when crowded.
NEIGHBOUR_GAP_M = 0.05


NEAR_SLACK_M = 0.6


#: Gap between an object and the one it is "in front of" (a coffee table before a sofa) / "at the foot of".
FRONT_GAP_M = 0.4


FOOT_GAP_M = 0.05


#: Distance between an object and the one it is "opposite" / "facing" when neither stands against a wall.
OPPOSITE_GAP_M = 1.5


#: Thickness of the boxes that stand for windows and doors (centred in the wall plane).
OPENING_DEPTH_M = 0.1


#: Height of a window's sill above the floor.
WINDOW_SILL_M = 0.9


#: Depth of the floor area kept free in front of a door (its swing).
DOOR_SWING_M = 0.7


#: Centre heights of things hung on a wall.
WALL_ITEM_CENTRE_M = {"picture": 1.5, "mirror": 1.4, "tv": 1.3, "monitor": 1.3}


#: Relative spread (log-normal) of a room's size around its type's typical size, when the text gives none.
ROOM_SIZE_SPREAD = 0.2


#: Clearance the solver keeps between objects (metres), so that solved boxes do not touch.
CLEARANCE_M = 0.01


#: A stated distance missed by more than this is reported.
DISTANCE_TOLERANCE_M = 0.1


#: Rounding of the hinge residuals (metres).
_HINGE_M = 0.002


#: Function evaluations of one least-squares solve, the most corner combinations tried, and the time budget of one
#: placement (seconds; the best point found so far is used when it runs out).
_MAX_NFEV = 400


_FTOL = 1e-4


_MAX_COMBINATIONS = 8


TIME_BUDGET_S = 3.0


@dataclass
class _Room:
    bounds0: np.ndarray  # (x0, x1, z0, z1)
    free_size: bool
    prior_size: tuple[float, float]
    grow: tuple = ()  # ((side index into bounds, sigma_m), ...): sides that may move outwards, with their prior
    ceiling: float = 2.6


def _wall_side(wall: str) -> int:
    """The column of a footprint's (x low, z low, x high, z high) sides that lies against this wall."""
    info = _WALL[wall]
    normal = 1 - info.tangent
    return normal if info.inward > 0 else 2 + normal


def _hinge(v):
    """A smooth max(0, v) (within :data:`_HINGE_M` of the kink), so that the solver converges quickly."""
    v = np.asarray(v, dtype=float)
    return 0.5 * (v + np.sqrt(v * v + _HINGE_M * _HINGE_M))


def _robust(e: float, c: float = 2.5) -> float:
    """A residual made pseudo-Huber: itself while small, growing like the square root of its size beyond ``c``, so
    that one distance the room cannot give does not spoil the others."""
    return math.copysign(c * math.sqrt(2.0 * (math.sqrt(1.0 + (e / c) ** 2) - 1.0)), e)


def _penetration(overlap):
    """How far two footprints interpenetrate, from their overlaps along x and z ((n, 2), negative: apart): the
    geometric mean of the two (smoothly) clipped overlaps. Unlike the smaller overlap alone it falls when either
    overlap shrinks, so an object held to a wall is pushed along the wall too."""
    h = _hinge(overlap)
    return np.sqrt(h[:, 0] * h[:, 1])


class _Model:
    """Parameters, centres and residuals of one placement problem (room frame)."""

    def __init__(self, specs: list[_Spec], room: _Room, camera_fn, obstacles: list):
        self.specs = specs
        self.room = room
        self.camera_fn = camera_fn
        self.x0: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        if room.free_size:
            self._add(room.prior_size[0], *ROOM_SIDE_LIMITS_M)
            self._add(room.prior_size[1], *ROOM_SIDE_LIMITS_M)
        else:
            for side, _ in room.grow:
                value = float(room.bounds0[side])
                if side in (1, 3):
                    self._add(value, value, value + 30.0)
                else:
                    self._add(value, value - 30.0, value)
        for spec in specs:
            if spec.mode == "wall":
                spec.var = self._add(0.0)
            elif spec.mode == "free":
                spec.var = self._add(0.0)
                self._add(0.0)
            else:
                spec.var = -1
        self.order = self._order()
        self.half = np.array([_half_extents(s.size, s.yaw) for s in specs]).reshape(-1, 2)
        self.obstacles = obstacles  # (centre fn(p, b, C), half (2,), y0, y1, applies_to_opening)
        self._pairs()

    def _add(self, value, lo=-60.0, hi=60.0) -> int:
        self.x0.append(float(value))
        self.lo.append(float(lo))
        self.hi.append(float(hi))
        return len(self.x0) - 1

    def _order(self) -> list[int]:
        """Specs in an order where every supporter comes before what stands on it."""
        index = {id(s): i for i, s in enumerate(self.specs)}
        done, order = set(), []
        for _ in range(len(self.specs) + 1):
            for i, spec in enumerate(self.specs):
                if i in done:
                    continue
                if spec.mode != "on" or index.get(id(spec.support)) in done:
                    done.add(i)
                    order.append(i)
        order.extend(i for i in range(len(self.specs)) if i not in done)  # cycles are broken in _plan
        return order

    def bounds(self, p) -> np.ndarray:
        if self.room.free_size:
            w, d = p[0], p[1]
            return np.array([-0.5 * w, 0.5 * w, -0.5 * d, 0.5 * d])
        b = self.room.bounds0.copy()
        for k, (side, _) in enumerate(self.room.grow):
            b[side] = p[k]
        return b

    def centres(self, p, b) -> np.ndarray:
        C = np.zeros((len(self.specs), 2))
        index = {id(s): i for i, s in enumerate(self.specs)}
        for i in self.order:
            spec = self.specs[i]
            if spec.mode == "wall":
                info = _WALL[spec.wall]
                depth = 0.0 if spec.is_opening else 0.5 * spec.size[2]
                C[i, info.tangent] = p[spec.var]
                C[i, 1 - info.tangent] = b[info.bound] + info.inward * depth
            elif spec.mode == "free":
                C[i] = p[spec.var:spec.var + 2]
            elif spec.mode == "on":
                j = index[id(spec.support)]
                offset = spec.on_offset if spec.on_offset is not None else np.zeros(2)
                C[i] = C[j] + offset[0] * _right(self.specs[j].yaw) + offset[1] * _front(self.specs[j].yaw)
            else:
                C[i] = spec.fixed_xz
        return C

    def _pairs(self) -> None:
        specs = self.specs
        n = len(specs)
        pairs = []
        for i in range(n):
            for j in range(i + 1, n):
                a, c = specs[i], specs[j]
                if a.mode == "fixed" and c.mode == "fixed":
                    continue
                if a.is_opening != c.is_opening:
                    continue
                if a.is_opening and c.is_opening and a.wall != c.wall:
                    continue
                if min(a.top, c.top) - max(a.y0, c.y0) <= 1e-3:
                    continue
                pairs.append((i, j))
        self.pair_i = np.array([p[0] for p in pairs], dtype=int)
        self.pair_j = np.array([p[1] for p in pairs], dtype=int)
        obstacle_pairs = []
        for k, (_, half, y0, y1, for_openings, _deps) in enumerate(self.obstacles):
            for i, spec in enumerate(specs):
                if spec.mode == "fixed" or (spec.is_opening and not for_openings) or \
                        (not spec.is_opening and for_openings):
                    continue
                if min(spec.top, y1) - max(spec.y0, y0) <= 1e-3:
                    continue
                obstacle_pairs.append((i, k))
        self.obstacle_i = np.array([p[0] for p in obstacle_pairs], dtype=int)
        self.obstacle_k = np.array([p[1] for p in obstacle_pairs], dtype=int)
        self.movable = np.array([s.mode in ("wall", "free") for s in specs], dtype=bool)
        # which sides of each footprint ((x low, z low, x high, z high)) must stay inside the room: every side of a
        # movable object but the one against its wall (flush by construction); an opening straddles its wall
        mask = np.repeat(self.movable[:, None], 4, axis=1).reshape(-1, 4)
        for i, spec in enumerate(specs):
            if spec.mode == "wall":
                mask[i, _wall_side(spec.wall)] = False
                if spec.is_opening:
                    normal = 1 - _WALL[spec.wall].tangent
                    mask[i, normal] = mask[i, 2 + normal] = False
        self.inside_mask = mask

    def residuals(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        b = self.bounds(p)
        C = self.centres(p, b)
        out = []
        # room size prior
        if self.room.free_size:
            out.append(math.log(p[0] / self.room.prior_size[0]) / ROOM_SIZE_SPREAD)
            out.append(math.log(p[1] / self.room.prior_size[1]) / ROOM_SIZE_SPREAD)
        else:
            for k, (side, sigma) in enumerate(self.room.grow):
                out.append((p[k] - self.room.bounds0[side]) / sigma)
        # anchors and relations
        for spec in self.specs:
            if spec.target is not None:
                fn, sigma = spec.target
                value = fn(p, b, C)
                if spec.mode == "wall":
                    out.append((p[spec.var] - value) / sigma)
                elif spec.mode == "free":
                    out.extend((p[spec.var:spec.var + 2] - value) / sigma)
            for fn in spec.extra_residuals:
                out.extend(np.atleast_1d(fn(p, b, C)))
        # inside the room
        if self.movable.any():
            lo = C - self.half
            hi = C + self.half
            inside = np.concatenate([_hinge(b[[0, 2]] - lo), _hinge(hi - b[[1, 3]])], axis=1)
            out.extend(inside[self.inside_mask] / _HARD_M)
        # no overlaps
        if len(self.pair_i):
            d = np.abs(C[self.pair_i] - C[self.pair_j])
            overlap = self.half[self.pair_i] + self.half[self.pair_j] + CLEARANCE_M - d
            out.extend(_penetration(overlap) / _HARD_M)
        if len(self.obstacle_i):
            centres = np.array([fn(p, b, C) for fn, *_ in self.obstacles])
            halves = np.array([half for _, half, *_ in self.obstacles])
            d = np.abs(C[self.obstacle_i] - centres[self.obstacle_k])
            overlap = self.half[self.obstacle_i] + halves[self.obstacle_k] + CLEARANCE_M - d
            out.extend(_penetration(overlap) / _HARD_M)
        return np.asarray(out, dtype=float)

    def sparsity(self, x0):
        """Which parameters each residual can depend on (a superset), for a Jacobian by grouped differences."""
        from scipy.sparse import lil_matrix

        room_cols = set(range(len(self.x0) - sum(2 if s.mode == "free" else 1 if s.mode == "wall" else 0
                                                 for s in self.specs)))
        index = {id(s): i for i, s in enumerate(self.specs)}
        deps: list[set] = [set() for _ in self.specs]
        for i in self.order:
            spec = self.specs[i]
            deps[i] = set(room_cols)
            if spec.mode == "wall":
                deps[i].add(spec.var)
            elif spec.mode == "free":
                deps[i].update((spec.var, spec.var + 1))
            elif spec.mode == "on" and spec.support is not None:
                deps[i] |= deps[index[id(spec.support)]]
        rows: list[set] = []
        if self.room.free_size:
            rows += [set(room_cols), set(room_cols)]
        else:
            rows += [set(room_cols) for _ in self.room.grow]
        b0 = self.bounds(x0)
        C0 = self.centres(x0, b0)
        for i, spec in enumerate(self.specs):
            related = set(deps[i])
            for other in _dependencies(spec) + [o for o, _ in spec.distances]:
                related |= deps[index[id(other)]]
            if spec.target is not None:
                rows += [related] * (1 if spec.mode == "wall" else 2)
            for fn in spec.extra_residuals:
                rows += [related] * len(np.atleast_1d(fn(x0, b0, C0)))
        for i, k in zip(*np.nonzero(self.inside_mask)):
            rows.append(deps[i])
        for i, j in zip(self.pair_i, self.pair_j):
            rows.append(deps[i] | deps[j])
        for i, k in zip(self.obstacle_i, self.obstacle_k):
            extra = set(room_cols)
            for other in self.obstacles[k][5]:
                extra |= deps[index[id(other)]]
            rows.append(deps[i] | extra)
        pattern = lil_matrix((len(rows), len(self.x0)), dtype=int)
        for r, cols in enumerate(rows):
            for c in cols:
                pattern[r, c] = 1
        return pattern

    def solve(self, x0, deadline: float) -> tuple[np.ndarray, float]:
        """Least squares from ``x0`` until converged, :data:`_MAX_NFEV` evaluations or the ``deadline``
        (``time.monotonic()``); returns the best point evaluated and its cost."""
        from scipy.optimize import least_squares

        x0 = np.clip(np.asarray(x0, dtype=float), np.array(self.lo) + 1e-6, np.array(self.hi) - 1e-6)
        r0 = self.residuals(x0)
        best = [float(0.5 * r0 @ r0), x0.copy()]
        if not len(x0):
            return x0, best[0]

        def fun(p):
            if time.monotonic() > deadline:
                raise _OutOfTime
            r = self.residuals(p)
            cost = float(0.5 * r @ r)
            if math.isfinite(cost) and cost < best[0]:
                best[0], best[1] = cost, np.array(p, dtype=float)
            return r

        try:
            pattern = self.sparsity(x0)
            if pattern.shape[0] != len(r0):  # never expected: fall back to a dense Jacobian
                pattern = None
            least_squares(fun, x0, bounds=(self.lo, self.hi), method="trf", x_scale=1.0, max_nfev=_MAX_NFEV,
                          diff_step=1e-4, ftol=_FTOL, jac_sparsity=pattern)
        except (_OutOfTime, ValueError, np.linalg.LinAlgError, FloatingPointError):
            pass
        return best[1], best[0]


class _OutOfTime(Exception):
    """The placement's time budget is spent: the best point so far is used."""


#: (x, z) room-frame direction of each compass word.
_COMPASS_VEC = {"north": np.array([0.0, -1.0]), "south": np.array([0.0, 1.0]), "east": np.array([1.0, 0.0]),
                "west": np.array([-1.0, 0.0])}


def _wall_of(spec: _Spec) -> str | None:
    """The wall a spec's back is against (planned or, for a fixed object, observed), or None."""
    if spec.mode == "wall":
        return spec.wall
    if spec.mode == "fixed":
        return spec.fixed_wall
    return None


def _wall_s_target(spec: _Spec, end: str, sigma: float):
    """Target of a wall object's position along its wall: flush with the wall ``end`` (a perpendicular wall)."""
    info = _WALL[end]
    half = 0.5 * float(spec.size[0])
    return (lambda p, b, C: b[info.bound] + info.inward * half), sigma


def _plan(specs: list[_Spec], room: _Room, warnings: list) -> None:
    """Decide each spec's mode (wall / free / on / fixed), wall, yaw and elevation."""
    # pass 1: absolute anchors and supports
    for spec in specs:
        if spec.mode == "fixed":
            continue
        anchor = spec.anchor
        primary = spec.relations[0] if spec.relations else None
        spec.mode, spec.wall, spec.corner_other, spec.corner_choices, spec.support = "free", None, None, (), None
        if anchor is not None and anchor[0] == "wall":
            spec.mode, spec.wall = "wall", anchor[1]  # None: "against the wall", chosen below
        elif anchor is not None and anchor[0] == "corner":
            spec.mode = "wall"
            preferred = anchor[2] if len(anchor) == 3 else None
            if anchor[1] is not None and preferred is not None:
                spec.corner_choices = ((preferred, _other(anchor[1], preferred)),)
            elif anchor[1] is not None:
                spec.corner_choices = ((anchor[1][0], anchor[1][1]), (anchor[1][1], anchor[1][0]))
            else:
                spec.wall, spec.corner_other = preferred, "any"  # "in a corner": its walls chosen below
            if spec.corner_choices:
                spec.wall, spec.corner_other = spec.corner_choices[0]
        elif primary is not None and primary[0] in ("on", "above") and isinstance(primary[1], _Spec) \
                and primary[1].kind not in ("opening", "wall_item") and spec.kind != "wall_item":
            spec.mode, spec.support = "on", primary[1]
    # pass 2: the first relation decides the rest (a target's wall is known once it is planned)
    for _ in range(3):
        for spec in specs:
            if spec.mode != "free" or spec.anchor is not None or not spec.relations:
                continue
            kind, other, extra = spec.relations[0]
            target_wall = _wall_of(other) if isinstance(other, _Spec) else None
            if target_wall is None:
                continue
            if kind in ("next_to", "under", "above") or (kind == "on" and other.kind in ("opening", "wall_item")):
                spec.mode, spec.wall = "wall", target_wall
            elif kind == "between" and isinstance(extra, _Spec) and _wall_of(extra) == target_wall:
                spec.mode, spec.wall = "wall", target_wall
            elif kind == "opposite":
                spec.mode, spec.wall = "wall", _OPPOSITE[target_wall]
            elif kind == "compass" and extra in WALLS and _axis(extra) == _WALL[target_wall].tangent:
                spec.mode, spec.wall = "wall", target_wall
            elif spec.kind in ("opening", "wall_item") and kind in ("behind", "front", "foot"):
                spec.mode, spec.wall = "wall", target_wall
    # on-cycles ("A on B", "B on A") are broken
    for spec in specs:
        seen, current = set(), spec
        while current is not None and current.mode == "on":
            if id(current) in seen:
                warnings.append(f"layout: {spec.label}: stands on something that stands on it; placed on the floor")
                spec.mode, spec.support = "free", None
                break
            seen.add(id(current))
            current = current.support
    # one corner, one object: later ones stand against one of its walls, as close to the corner as they can
    taken: dict[frozenset, _Spec] = {}
    for spec in specs:
        if spec.mode != "wall" or spec.is_opening or not spec.corner_choices:
            continue
        walls = frozenset(spec.corner_choices[0])
        first = taken.setdefault(walls, spec)
        if first is spec:
            continue
        wall, end = spec.corner_choices[-1]
        spec.wall, spec.end, spec.corner_other, spec.corner_choices = wall, end, None, ()
        warnings.append(f"layout: {spec.label}: the {_corner_name(walls)} corner is taken by {first.label}; "
                        f"placed against the {wall} wall, towards that corner")
    # a window or door is always in a wall
    for spec in specs:
        if spec.is_opening and spec.mode != "wall":
            if spec.anchor is not None and spec.anchor[0] == "centre":
                warnings.append(f"layout: {spec.label}: a {spec.prior.category} is in a wall, not in the middle of "
                                "the room; put in the wall with the fewest openings")
            spec.mode, spec.wall, spec.support = "wall", None, None
    # walls not chosen: openings on the wall with the fewest, others on the wall with the most free length
    length = {w: _wall_length(room, w) for w in WALLS}
    used = {w: 0.0 for w in WALLS}
    openings_on = {w: 0 for w in WALLS}
    for spec in specs:
        wall = _wall_of(spec)
        if wall is not None and spec.is_opening:
            openings_on[wall] += 1
        elif wall is not None:
            used[wall] += float(spec.size[0])
    for spec in specs:
        if spec.mode == "free" and spec.anchor is None and _wants_wall(spec) and (
                not spec.relations or spec.kind in ("opening", "wall_item")):
            spec.mode = "wall"
        if spec.mode == "wall" and spec.wall is None:
            if spec.is_opening:
                spec.wall = min(WALLS, key=lambda w: (openings_on[w], WALLS.index(w)))
                openings_on[spec.wall] += 1
            else:
                spec.wall = max(WALLS, key=lambda w: (length[w] - used[w], -WALLS.index(w)))
                used[spec.wall] += float(spec.size[0])
        if spec.mode == "wall" and spec.corner_other == "any":
            spec.corner_choices = tuple((spec.wall, o) for o in WALLS if o not in (spec.wall, _OPPOSITE[spec.wall]))
            spec.corner_other = spec.corner_choices[0][1]
    # yaws and elevations (supports first)
    for spec in specs:
        if spec.mode == "wall":
            spec.yaw = _WALL[spec.wall].yaw
        elif spec.mode == "free":
            spec.yaw = _free_yaw(spec)
    for spec in specs:
        if spec.mode != "fixed":
            _elevation(spec, room)
    for _ in range(len(specs) + 1):
        for spec in specs:
            if spec.mode == "on" and spec.support is not None:
                spec.y0, spec.yaw = spec.support.top, spec.support.yaw
    # several things on one support: spread along its width
    groups: dict[int, list[_Spec]] = {}
    for spec in specs:
        if spec.mode == "on":
            groups.setdefault(id(spec.support), []).append(spec)
    for group in groups.values():
        width = float(group[0].support.size[0])
        for k, spec in enumerate(group):
            spec.on_offset = np.array([(k - 0.5 * (len(group) - 1)) * width / len(group), 0.0])


def _corner_name(walls) -> str:
    ns = "north" if "north" in walls else "south"
    return ns + ("east" if "east" in walls else "west")


def _axis(direction: str) -> int:
    """0 when a compass direction runs along x (east, west), 1 along z (north, south)."""
    return 0 if direction in ("east", "west") else 1


def _other(corner: tuple, wall: str) -> str:
    return corner[1] if corner[0] == wall else corner[0]


def _wall_length(room: _Room, wall: str) -> float:
    b = room.bounds0
    return float(b[1] - b[0]) if _WALL[wall].tangent == 0 else float(b[3] - b[2])


def _elevation(spec: _Spec, room: _Room) -> None:
    h = float(spec.size[1])
    spec.y0 = 0.0
    if spec.prior.category == "window":
        spec.y0 = WINDOW_SILL_M
    elif spec.kind == "wall_item" or spec.mounted:
        centre = WALL_ITEM_CENTRE_M.get(spec.prior.category, 1.5)
        spec.y0 = 0.05 if spec.prior.category == "curtain" else centre - 0.5 * h
    for kind, other, _ in spec.relations[:1]:
        if not isinstance(other, _Spec):
            continue
        if kind == "above" and spec.mode == "wall":
            spec.y0 = max(spec.y0, other.top + 0.15)
        elif kind == "on" and other.kind in ("opening", "wall_item") and spec.mode == "wall":
            spec.y0 = other.y0  # on a window sill
    ceiling = room.ceiling
    if spec.y0 + h > ceiling - 0.02:
        if h > ceiling - 0.02:
            spec.size = spec.size.copy()
            spec.size[1] = h = ceiling - 0.02
        spec.y0 = max(0.0, ceiling - 0.02 - h)


def _free_yaw(spec: _Spec) -> float:
    if spec.facing is not None and spec.facing[0] == "compass":
        return _yaw_towards(_heading_vector(spec.facing[1]))
    if spec.relations:
        kind, other, _ = spec.relations[0]
        if isinstance(other, _Spec):
            if kind == "opposite":
                return other.yaw + math.pi
            if kind == "front" and spec.prior.category in _SEATS and other.prior.category not in _SEATS:
                return other.yaw + math.pi
            if kind in ("front", "foot", "behind", "next_to", "compass"):
                return other.yaw
    return spec.yaw


def _targets(specs: list[_Spec], camera_fn, centre_xz, room_bounds) -> None:
    """Position targets and relation residuals of each spec (closures over the model's parameters)."""
    index = {id(s): i for i, s in enumerate(specs)}
    for i, spec in enumerate(specs):
        spec.target, spec.extra_residuals, spec.target_default = None, [], False
        spec.has_side = False
        relations = [r for r in spec.relations if r[0] != "wall_distance"]
        soft = relations
        if spec.mode == "wall":
            t = _WALL[spec.wall].tangent
            if spec.corner_other in WALLS:
                spec.target = _wall_s_target(spec, spec.corner_other, _HARD_M)
            elif spec.end is not None:
                spec.target = _wall_s_target(spec, spec.end, _SOFT_M)
            elif relations:
                spec.target = _wall_relation_target(spec, relations[0], index, t, i)
                soft = relations[1:] if spec.target is not None else relations
            if spec.target is None:
                spec.target = ((lambda p, b, C, t=t: 0.5 * (b[2 * t] + b[2 * t + 1])), _WEAK_M)
                spec.target_default = True
        elif spec.mode == "free":
            if relations:
                spec.target = _free_relation_target(spec, relations[0], index, i)
                soft = relations[1:] if spec.target is not None else relations
            if spec.target is None:
                centred = spec.anchor is not None and spec.anchor[0] == "centre"
                spec.target = (centre_xz, _SOFT_M if centred else _WEAK_M)
                spec.target_default = not centred
            elif spec.anchor is not None and spec.anchor[0] == "centre":
                spec.extra_residuals.append(lambda p, b, C, i=i: (C[i] - centre_xz(p, b, C)) / _WEAK_M)
        else:
            soft = []
            if spec.mode == "fixed" and spec.fixed_wall is not None:
                # a solved object against a wall keeps it there: that wall does not move away from it
                info = _WALL[spec.fixed_wall]
                axis = 1 - info.tangent
                gap = float(info.inward * (spec.fixed_xz[axis] - room_bounds[info.bound]))
                spec.extra_residuals.append(
                    lambda p, b, C, i=i, info=info, axis=axis, gap=gap:
                    (info.inward * (C[i, axis] - b[info.bound]) - gap) / _HARD_M)
        for relation in soft:
            _soft_near(spec, relation, index, i)
        for other, metres in spec.distances:
            j = index[id(other)]
            spec.extra_residuals.append(
                lambda p, b, C, i=i, j=j, metres=metres: _robust((np.linalg.norm(C[i] - C[j]) - metres) / _DISTANCE_M))
        for kind, wall, metres in spec.relations:
            if kind == "wall_distance" and spec.mode in ("wall", "free"):
                info = _WALL[wall]
                axis = 1 - info.tangent
                spec.extra_residuals.append(
                    lambda p, b, C, i=i, info=info, axis=axis, metres=metres:
                    (info.inward * (C[i, axis] - b[info.bound]) - metres) / _DISTANCE_M)


def _wall_relation_target(spec: _Spec, relation, index, t: int, i: int):
    """Target of a wall object's position along its wall from its first relation: beside, under, above, between
    or opposite an object on the same (or, for "opposite", the facing) wall. None when it does not apply."""
    kind, other, extra = relation
    if not isinstance(other, _Spec):
        return None
    j = index[id(other)]
    if kind == "between" and isinstance(extra, _Spec):
        k = index[id(extra)]
        return (lambda p, b, C: 0.5 * (C[j, t] + C[k, t])), _RELATION_M
    other_wall = _wall_of(other)
    if kind == "opposite" and other_wall == _OPPOSITE.get(spec.wall):
        return (lambda p, b, C: C[j, t]), _RELATION_M
    if other_wall != spec.wall:
        return None
    if kind in ("under", "above", "on", "front", "behind", "foot"):
        # centred on it if there is room, at least within its width
        reach = 0.5 * float(other.size[0])
        spec.extra_residuals.append(
            lambda p, b, C, reach=reach: _hinge(abs(C[i, t] - C[j, t]) - reach) / _RELATION_M)
        return (lambda p, b, C: C[j, t]), _SOFT_M
    offset = 0.5 * (float(spec.size[0]) + float(other.size[0])) + NEIGHBOUR_GAP_M
    if kind == "compass" and extra in WALLS and _axis(extra) == t:
        sign = float(_COMPASS_VEC[extra][t])
        return (lambda p, b, C: C[j, t] + sign * offset), _RELATION_M
    if kind == "next_to":
        tangent = np.zeros(2)
        tangent[t] = 1.0
        right = 1.0 if float(_right(other.yaw) @ tangent) >= 0 else -1.0
        spec.has_side, spec.side_of = True, other
        spec.side_given = extra in ("left", "right")
        if spec.side_given:
            spec.side_sign = right if extra == "right" else -right
        _beside(spec, i, lambda p, b, C: spec.side_sign * (C[i, t] - C[j, t]), offset)
        return (lambda p, b, C: C[j, t] + spec.side_sign * offset), _SOFT_M
    return None


def _beside(spec: _Spec, i: int, along, offset: float) -> None:
    """Residuals of "next to": on the chosen side (``along`` = signed distance that way, positive) and no farther
    than :data:`NEAR_SLACK_M` beyond touching; snug is only preferred (the position target), so that two things
    next to the same object line up instead of interpenetrating."""
    spec.extra_residuals.append(lambda p, b, C: _hinge(along(p, b, C) - offset - NEAR_SLACK_M) / _RELATION_M)
    spec.extra_residuals.append(lambda p, b, C: _hinge(-along(p, b, C)) / _RELATION_M)


def _free_relation_target(spec: _Spec, relation, index, i: int):
    """Target (x, z) of a free-standing object from its first relation, or None."""
    kind, other, extra = relation
    if not isinstance(other, _Spec):
        return None
    j = index[id(other)]
    w, d = float(spec.size[0]), float(spec.size[2])
    ow, od = float(other.size[0]), float(other.size[2])
    if kind == "between" and isinstance(extra, _Spec):
        k = index[id(extra)]
        return (lambda p, b, C: 0.5 * (C[j] + C[k])), _RELATION_M
    if kind in ("front", "foot", "behind", "opposite"):
        gap = {"front": FRONT_GAP_M, "foot": FOOT_GAP_M, "behind": NEIGHBOUR_GAP_M, "opposite": OPPOSITE_GAP_M}[kind]
        depth = d if abs(math.cos(spec.yaw - other.yaw)) > 0.7 else w
        distance = 0.5 * od + gap + 0.5 * depth
        front = (-1.0 if kind == "behind" else 1.0) * _front(other.yaw)
        return (lambda p, b, C: C[j] + distance * front), _RELATION_M
    if kind == "next_to":
        offset = 0.5 * (w + ow) + NEIGHBOUR_GAP_M
        right = _right(other.yaw)
        spec.has_side, spec.side_of = True, other
        spec.side_given = extra in ("left", "right")
        if spec.side_given:
            spec.side_sign = 1.0 if extra == "right" else -1.0
        _beside(spec, i, lambda p, b, C: spec.side_sign * float((C[i] - C[j]) @ right), offset)
        spec.extra_residuals.append(lambda p, b, C: float((C[i] - C[j]) @ _front(other.yaw)) / _SOFT_M)
        return (lambda p, b, C: C[j] + spec.side_sign * offset * right), _SOFT_M
    if kind == "compass" and extra in WALLS:
        direction = _COMPASS_VEC[extra]
        half = _half_extents(spec.size, spec.yaw) + _half_extents(other.size, other.yaw)
        distance = float(half[_axis(extra)]) + NEIGHBOUR_GAP_M
        return (lambda p, b, C: C[j] + distance * direction), _RELATION_M
    if kind == "around":
        n = max(spec.count, 1)
        angle = 2.0 * math.pi * spec.instance / n
        local = np.array([math.sin(angle) * (0.5 * ow + 0.2 + 0.5 * d), math.cos(angle) * (0.5 * od + 0.2 + 0.5 * d)])
        spec.yaw = other.yaw + angle + math.pi
        return (lambda p, b, C: C[j] + local[0] * _right(other.yaw) + local[1] * _front(other.yaw)), _RELATION_M
    if kind in ("under", "near"):
        return (lambda p, b, C: C[j]), _SOFT_M
    return None


def _soft_near(spec: _Spec, relation, index, i: int) -> None:
    """A secondary relation as a soft pull: the centres no farther apart than their sizes and a little room."""
    kind, other, _ = relation
    if not isinstance(other, _Spec) or kind in ("opposite", "facing"):
        return
    j = index[id(other)]
    reach = 0.5 * (max(spec.size[0], spec.size[2]) + max(other.size[0], other.size[2])) + 0.3
    spec.extra_residuals.append(
        lambda p, b, C, i=i, j=j, reach=reach: max(0.0, float(np.linalg.norm(C[i] - C[j])) - reach) / _SOFT_M)


def _initial(model: "_Model", specs: list[_Spec]) -> np.ndarray:
    """A first placement: the furniture on each wall packed side by side in an order that keeps corners, ends and
    left/right relations (:func:`_wall_order`); objects meant for the middle on a spiral around the centre; then
    every other target evaluated once its objects are placed ("next to" a free-standing object on the side where it
    fits best)."""
    x = np.array(model.x0, dtype=float)
    b = model.bounds(x)
    per_wall: dict[str, list[_Spec]] = {}
    for spec in specs:
        if spec.mode == "wall":
            per_wall.setdefault(spec.wall, []).append(spec)
    packed: set[int] = set()
    for wall, members in per_wall.items():
        t = _WALL[wall].tangent
        lo, hi = b[2 * t], b[2 * t + 1]
        # openings and things hung high: spread evenly; furniture standing on the floor: packed in order
        loose = [m for m in members if m.is_opening or m.y0 > 0.5]
        for k, spec in enumerate(loose):
            x[spec.var] = lo + (k + 0.5) * (hi - lo) / len(loose)
        row = _wall_order([m for m in members if m not in loose and _packs(m)], t, b)
        widths = [float(m.size[0]) for m in row]
        total = sum(widths) + NEIGHBOUR_GAP_M * max(len(row) - 1, 0)
        if row and _end_rank(row[0], t, b) < 0:
            start = lo
        elif row and _end_rank(row[-1], t, b) > 0:
            start = hi - total
        else:
            start = 0.5 * (lo + hi - total)
        for spec, width in zip(row, widths):
            x[spec.var] = start + 0.5 * width
            start += width + NEIGHBOUR_GAP_M
            packed.add(id(spec))
        rest = [m for m in members if m not in loose and id(m) not in packed]
        for k, spec in enumerate(rest):
            x[spec.var] = lo + (k + 0.5) * (hi - lo) / len(rest)
    centre = 0.5 * np.array([b[0] + b[1], b[2] + b[3]])
    jitter = {id(s): 0.1 * np.array([math.cos(k * 2.4), math.sin(k * 2.4)]) for k, s in enumerate(specs)}
    free = [s for s in specs if s.mode == "free"]
    spacing = 0.5 * max((max(s.size[0], s.size[2]) for s in free), default=0.5)
    for k, spec in enumerate(free):
        # a sunflower spiral around the centre: objects meant for the middle start apart
        x[spec.var:spec.var + 2] = centre + spacing * math.sqrt(k + 0.5) * np.array(
            [math.cos(k * 2.39996), math.sin(k * 2.39996)])
        if spec.has_side and not spec.side_given:
            spec.side_sign = 1.0
    placed: set[int] = set(packed)
    pending = [s for s in specs if s.mode in ("wall", "free") and not s.target_default and id(s) not in packed]
    for _ in range(len(pending) + 1):
        progress = False
        for spec in pending:
            if id(spec) in placed:
                continue
            if any(d.mode in ("wall", "free") and not d.target_default and id(d) not in placed
                   for d in _dependencies(spec)):
                continue
            if spec.has_side and not spec.side_given and spec.mode == "free":
                spec.side_sign = _choose_side(model, spec, x, b)
            value = spec.target[0](x, b, model.centres(x, b))
            # a little jitter: two objects starting at the same spot would not be pushed apart
            if spec.mode == "wall":
                x[spec.var] = value + 0.2 * jitter[id(spec)][0]
            else:
                x[spec.var:spec.var + 2] = value + 0.2 * jitter[id(spec)]
            placed.add(id(spec))
            progress = True
        if not progress:
            break
    return x


def _packs(spec: _Spec) -> bool:
    """Whether a wall object's position comes from the order along its wall (no target of its own elsewhere)."""
    if spec.target_default or spec.corner_other in WALLS or spec.end is not None:
        return True
    return spec.has_side and spec.side_of is not None and _wall_of(spec.side_of) == spec.wall


def _end_rank(spec: _Spec, t: int, b) -> int:
    """-1 for an object held to the low end of its wall (a corner or an end), +1 to the high end, else 0."""
    end = spec.corner_other if spec.corner_other in WALLS else spec.end
    if end is None:
        return 0
    return -1 if _WALL[end].bound == 2 * t else 1


def _wall_order(row: list[_Spec], t: int, b) -> list[_Spec]:
    """The objects of one wall in the order they stand along it (increasing tangent coordinate): corners and ends
    at their ends, each "left/right of A" on its side of A, each "next to A" (side not given) beside A towards the
    middle of the row (its side is then fixed to that)."""
    seq = sorted(row, key=lambda m: (_end_rank(m, t, b), row.index(m)))
    for _ in range(len(row) + 1):
        changed = False
        for spec in row:
            other = spec.side_of
            if not spec.has_side or other not in seq or other is spec:
                continue
            i, j = seq.index(spec), seq.index(other)
            if not spec.side_given:
                after = j < len(seq) / 2.0 if abs(i - j) != 1 else i > j
                spec.side_sign = 1.0 if after else -1.0
                spec.side_given = True  # chosen: kept by the solver
            after = spec.side_sign > 0
            if after != (i > j):
                seq.remove(spec)
                seq.insert(seq.index(other) + (1 if after else 0), spec)
                changed = True
        if not changed:
            break
    return seq


def _dependencies(spec: _Spec) -> list:
    out = []
    for _, other, extra in spec.relations:
        out.extend(v for v in (other, extra) if isinstance(v, _Spec))
    return out


def _choose_side(model: "_Model", spec: _Spec, x, b) -> float:
    """For "next to A" without a side: the side where the object stays inside the room and overlaps least."""
    i = model.specs.index(spec)
    best, best_cost = 1.0, math.inf
    for sign in (1.0, -1.0):
        spec.side_sign = sign
        trial = x.copy()
        value = spec.target[0](trial, b, model.centres(trial, b))
        if spec.mode == "wall":
            trial[spec.var] = value
        else:
            trial[spec.var:spec.var + 2] = value
        C = model.centres(trial, b)
        lo, hi = C[i] - model.half[i], C[i] + model.half[i]
        cost = float(np.sum(np.maximum(0, b[[0, 2]] - lo)) + np.sum(np.maximum(0, hi - b[[1, 3]])))
        for j, other in enumerate(model.specs):
            if j != i and not other.is_opening and (other.mode != "wall" or other.target_default is False):
                overlap = model.half[i] + model.half[j] - np.abs(C[i] - C[j])
                cost += max(0.0, float(overlap.min()))
        if cost < best_cost - 1e-9:
            best, best_cost = sign, cost
    return best


def _camera_function(plan: _CameraPlan, heading0: float, index: dict):
    """The camera's floor spot as a function of the room bounds and the objects' centres."""
    inset = CAMERA_INSET_M

    def inside(b, point):
        return np.array([min(max(point[0], b[0] + inset), b[1] - inset) if b[1] - b[0] > 2 * inset
                         else 0.5 * (b[0] + b[1]),
                         min(max(point[1], b[2] + inset), b[3] - inset) if b[3] - b[2] > 2 * inset
                         else 0.5 * (b[2] + b[3])])

    position = plan.position
    if position is not None and position[0] == "corner":
        a, c = position[1]
        infos = [_WALL[a], _WALL[c]]

        def fn(p, b, C):
            point = np.zeros(2)
            for info in infos:
                point[1 - info.tangent] = b[info.bound] + info.inward * inset
            return inside(b, point)
        return fn
    if position is not None and position[0] == "wall":
        info = _WALL[position[1]]

        def fn(p, b, C):
            point = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
            point[1 - info.tangent] = b[info.bound] + info.inward * inset
            return inside(b, point)
        return fn
    if position is not None and position[0] == "centre":
        return lambda p, b, C: np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
    if position is not None and position[0] == "spec":
        spec = position[1]
        j = index[id(spec)]

        def fn(p, b, C):
            centre = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
            if spec.mode == "wall":
                info = _WALL[spec.wall]
                step = np.zeros(2)
                step[1 - info.tangent] = info.inward
                return inside(b, C[j] + step * (inset + 0.5 * (0.0 if spec.is_opening else float(spec.size[2]))))
            direction = centre - C[j]
            norm = np.linalg.norm(direction)
            return inside(b, C[j] + (direction / norm if norm > 1e-6 else np.zeros(2)) * 0.8)
        return fn
    back = -_heading_vector(heading0)

    def fn(p, b, C):
        centre = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
        half = np.maximum(np.array([0.5 * (b[1] - b[0]) - inset, 0.5 * (b[3] - b[2]) - inset]), 0.05)
        scale = min(half[0] / abs(back[0]) if abs(back[0]) > 1e-9 else math.inf,
                    half[1] / abs(back[1]) if abs(back[1]) > 1e-9 else math.inf)
        return centre + back * scale
    return fn


def _place(parsed: _Parsed, room: _Room, camera_plan: _CameraPlan | None, heading0: float, warnings: list,
           camera_xz=None):
    """Plan, build and solve the placement problem (trying each corner object's two walls when there are few);
    returns (model, x, camera spot fn)."""
    specs = parsed.specs
    _plan(specs, room, warnings)
    index = {id(s): i for i, s in enumerate(specs)}
    if camera_xz is not None:
        camera_fn = (lambda p, b, C: np.asarray(camera_xz, dtype=float))
    else:
        camera_fn = _camera_function(camera_plan, heading0, index)
    centre_xz = (lambda p, b, C: np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])]))
    camera_deps = [camera_plan.position[1]] if camera_plan is not None and camera_plan.position is not None \
        and camera_plan.position[0] == "spec" else []
    obstacles = [(camera_fn, np.array([CAMERA_KEEP_OUT_M, CAMERA_KEEP_OUT_M]), 0.0, 1.8, False, camera_deps)]
    for spec in specs:
        if spec.prior.category == "door" and spec.mode in ("wall", "fixed"):
            j = index[id(spec)]
            wall = _wall_of(spec)
            if wall is None:
                continue
            info = _WALL[wall]
            step = np.zeros(2)
            step[1 - info.tangent] = info.inward * (0.5 * DOOR_SWING_M + 0.5 * OPENING_DEPTH_M)
            half = np.zeros(2)
            half[info.tangent] = 0.5 * float(spec.size[0])
            half[1 - info.tangent] = 0.5 * DOOR_SWING_M
            obstacles.append((lambda p, b, C, j=j, step=step: C[j] + step, half, 0.0, 2.0, False, [spec]))
    corner_specs = [s for s in specs if s.mode == "wall" and len(s.corner_choices) > 1]
    options = list(itertools.product(*[s.corner_choices for s in corner_specs]))
    if len(options) > _MAX_COMBINATIONS:
        # too many: each corner object takes the wall along which it is longer than the other is deep
        options = [tuple(max(s.corner_choices, key=lambda c: _wall_length(room, c[0])) for s in corner_specs)]
    best = None
    deadline = time.monotonic() + TIME_BUDGET_S
    for option in options:
        if best is not None and time.monotonic() > deadline:
            warnings.append("layout: the placement's time budget ran out; the best arrangement found is used")
            break
        for spec, (wall, other) in zip(corner_specs, option):
            spec.wall, spec.corner_other = wall, other
            spec.yaw = _WALL[wall].yaw
        for spec in specs:
            if spec.mode == "on" and spec.support is not None:
                spec.yaw = spec.support.yaw
        _targets(specs, camera_fn, centre_xz, room.bounds0)
        model = _Model(specs, room, camera_fn, obstacles)
        x0 = _initial(model, specs)
        x, cost = model.solve(x0, deadline)
        # objects that face another: turn them towards it and solve again
        if any(s.mode == "free" and s.facing is not None and s.facing[0] in ("spec", "camera") for s in specs):
            b = model.bounds(x)
            C = model.centres(x, b)
            for i, spec in enumerate(specs):
                if spec.mode == "free" and spec.facing is not None and spec.facing[0] in ("spec", "camera"):
                    goal = C[index[id(spec.facing[1])]] if spec.facing[0] == "spec" else camera_fn(x, b, C)
                    if np.linalg.norm(goal - C[i]) > 1e-6:
                        spec.yaw = _yaw_towards(goal - C[i])
            for spec in specs:
                if spec.mode == "on" and spec.support is not None:
                    spec.yaw = spec.support.yaw
            model = _Model(specs, room, camera_fn, obstacles)
            x, cost = model.solve(x, deadline)
        if best is None or cost < best[2] - 1e-9:
            best = (option, model, cost, x, [(s.yaw, s.side_sign) for s in specs])
    option, model, cost, x, state = best
    for spec, (wall, other) in zip(corner_specs, option):
        spec.wall, spec.corner_other = wall, other
    for spec, (yaw, side) in zip(specs, state):
        spec.yaw, spec.side_sign = yaw, side
    _targets(specs, camera_fn, centre_xz, room.bounds0)  # the residuals of the option kept (for the report)
    for spec, (yaw, side) in zip(specs, state):
        spec.yaw, spec.side_sign = yaw, side
    return model, x, camera_fn


def _report(model: _Model, x, warnings: list) -> None:
    """Warnings for what the solution could not keep: stated distances, overlaps, objects outside the room."""
    b = model.bounds(x)
    C = model.centres(x, b)
    specs = model.specs
    index = {id(s): i for i, s in enumerate(specs)}
    for i, spec in enumerate(specs):
        for other, metres in spec.distances:
            got = float(np.linalg.norm(C[i] - C[index[id(other)]]))
            if abs(got - metres) > DISTANCE_TOLERANCE_M:
                warnings.append(f"layout: {spec.label} is {got:.2f} m from {other.label}, not the {metres:.2f} m "
                                "stated: the room or the other constraints do not allow it")
    for i, j in zip(model.pair_i, model.pair_j):
        d = np.abs(C[i] - C[j])
        overlap = model.half[i] + model.half[j] - d
        if overlap.min() > 0.02:
            warnings.append(f"layout: {specs[i].label} and {specs[j].label} overlap by {overlap.min():.2f} m: "
                            "they do not fit the room as described")
    for i, spec in enumerate(specs):
        if not model.movable[i]:
            continue
        lo, hi = C[i] - model.half[i], C[i] + model.half[i]
        beyond = np.concatenate([b[[0, 2]] - lo, hi - b[[1, 3]]])
        out = float(np.max(beyond[model.inside_mask[i]])) if model.inside_mask[i].any() else 0.0
        if out > 0.02:
            warnings.append(f"layout: {spec.label} reaches {out:.2f} m beyond the room's walls: the room is too "
                            "small for what the layout lists")
