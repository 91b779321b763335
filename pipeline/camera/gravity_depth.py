"""The camera from a metric depth map's planes: gravity, the focal and the room's heading.

:func:`map_planes` segments the map's largest planes once; a new focal only shears them
(:meth:`MapPlanes.with_focal_scale`). Gravity: floors and other upward-facing surfaces are perpendicular to it,
walls parallel. The focal: floor and walls meet at right angles only when the map is unprojected with the right
one (:func:`focal_scale_from_planes`). The heading: the walls' normals, modulo 90 degrees (:func:`walls_yaw`).

:func:`gravity_from_depth` unprojects a regular subsample of the map with the camera's intrinsics and segments its
largest planes one after another (RANSAC: Open3D's ``segment_plane`` when installed, else
:func:`pipeline.depth.segment_plane`). A plane's normal, fitted over thousands of points, is accurate where a
pixel's normal is noise. Every plane's normal, and the cross product of every pair of planes, is a candidate for
up; a candidate's support is the points of the planes that face up along it and lie below the camera (floor,
table tops, seats) plus half those of the planes it lies in (walls, cabinet fronts), and the attitude prior of
:mod:`.attitude` rules out the implausible, so a wall seen square on cannot pass for the floor. The floor is the
lowest plausible upward plane a metre or more below the camera with nothing below it (:func:`_floor_plane`): when
there is one, it alone (with the upward planes level with it) gives up, refined by least squares over their
normals; beds sag, seats slope back, and the walls of real sensor maps lean by a few degrees. Without a floor the
winner is refined by weighted least squares over all its consistent planes' normals (:data:`UP_WEIGHT`), with
shrinking consistency limits, and its spread is wider (:data:`SENSOR_SIGMA_DEG`): furniture tops or walls alone
still give a direction, less surely.

The floor's normal is gravity to a fraction of a degree with a sensor's map; a depth model's map is smoother and
its planes bend, so its answer gets a wider spread (:data:`MODEL_SIGMA_DEG`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import frames
from ..records import DepthMap
from . import attitude

#: At most this many points of the map take part.
MAX_POINTS = 30_000
#: RANSAC draws per plane.
PLANE_ITERATIONS = 300
#: Plane distance threshold, metres: ``max(PLANE_DISTANCE_M, PLANE_DISTANCE_REL * median depth)``.
PLANE_DISTANCE_M = 0.02
PLANE_DISTANCE_REL = 0.01
#: A plane is the largest connected part of its inliers, across gaps of up to this many cells of the sampling grid.
CONNECT_GAP_CELLS = 2
#: A plane's normal is refitted to its inliers within this fraction of that distance (:func:`_tighter`).
TIGHT_FRACTION = 0.5
#: Planes are segmented this many times, or until the next has fewer points than :data:`MIN_PLANE_FRACTION`
#: of all (or :data:`MIN_PLANE_POINTS`). Small enough for a floor seen only between furniture: on real sensor maps
#: such a floor held 2 to 4 % of the points, after 7 larger planes.
MAX_PLANES = 12
MIN_PLANE_FRACTION = 0.015
MIN_PLANE_POINTS = 300
#: A plane is consistent with an up candidate when its normal is within this angle (degrees) of it (upward) or of
#: perpendicular to it (a wall).
CONSISTENT_DEG = 4.0
#: In the refinement the upward planes together weigh this many times all the walls together: a floor is one
#: plane, walls are several, and a wall's normal says nothing about the tilt within it.
UP_WEIGHT = 2.0
#: Candidates whose attitude prior is above this (log) are equally plausible: the planes' support decides.
PLAUSIBLE_LOG_PRIOR = -3.0
#: An answer less likely than this under the attitude prior (a pitch beyond 75 degrees, a roll beyond about 40)
#: is no answer: the map showed one big plane, a wall or a table top seen from above, and no floor.
MIN_LOG_PRIOR = -9.0
#: The refinement's rounds: planes within these angles (degrees) of parallel or perpendicular to the current up
#: take part, loosest first.
REFINE_ROUNDS_DEG = (CONSISTENT_DEG, CONSISTENT_DEG, 2.0, 1.0)
#: Spread of the answer (degrees) from a sensor's map (a file) and a depth model's by what gave it: the floor, upward
#: furniture tops alone, or walls alone. A sensor's floor still has calibration and fusion error behind it (on real
#: sensor maps unprojected with the true focal, the floor's normal was 0.6 to 1.9 degrees off gravity, 1.15 RMS);
#: mattresses sag and seats slope; on real sensor maps, walls alone (and the cabinet fronts and sofa backs among
#: them) were 3 to 5 degrees off where the floor was within 1 or 2. A model's map is smoother and its planes bend.
SENSOR_SIGMA_DEG = {"floor": 1.2, "tops": 6.0, "walls": 16.0}
MODEL_SIGMA_DEG = {"floor": 4.0, "tops": 12.0, "walls": 32.0}
#: Upward planes within this many metres of the floor (the lowest plausible upward plane) are floor too; those
#: higher up (a bed, a seat, a table top) and the walls take no part when a floor is seen: mattresses sag, seats
#: slope back by 5 to 10 degrees, and walls of real sensor maps were 3 to 5 degrees off where the floor was within 1.
FLOOR_BAND_M = 0.12
#: An upward plane less than this far below the camera is taken for a furniture top, not the floor (a camera held
#: at 1.2 to 1.8 m sees a floor over a metre below it) ...
MIN_FLOOR_DEPTH_M = 1.0
#: ... and nothing may lie below it: at most this share of the map's points lies further below its plane than
#: :data:`BELOW_TOLERANCE_M` plus :data:`BELOW_TOLERANCE_REL` of their depth. The floor is the lowest surface in a
#: room; extended, a sagging mattress, a sloping seat or a sofa back cuts through the floor beyond it (on real
#: sensor maps such planes had 16 to 80 % of the points below them, every floor none).
FLOOR_MAX_BELOW = 0.03
BELOW_TOLERANCE_M = 0.05
BELOW_TOLERANCE_REL = 0.02


#: Focal from the planes (:func:`focal_scale_from_planes`): factors on the focal searched (a log-spaced grid, then
#: a bounded search around its best) ...
PLANES_FOCAL_RANGE = (0.6, 1.6)
PLANES_FOCAL_STEPS = 99
#: ... pairs of planes further than this (degrees) from perpendicular count no more (a sloping seat and a wall) ...
PERPENDICULAR_CAP_DEG = 6.0
#: ... and the answer's relative 1-sigma spread: on real sensor maps the planes met at right angles with focals
#: 6 % longer than the true one in the median (walls lean, the sensor's depth bends a little), 12 % at worst.
PLANES_FOCAL_SIGMA = 0.12
#: ... from the planes holding at least this share of the map's points: a small one's normal is too uncertain to
#: tell 90 degrees from 88.
FOCAL_PLANE_FRACTION = 0.03
#: A plane within this angle (degrees) of vertical is a wall (or a furniture face square to the walls) for the
#: room's heading (:func:`walls_yaw`).
WALL_VERTICAL_DEG = 10.0
#: Walls whose headings (modulo 90 degrees) lie within this (degrees) of each other are one group.
WALL_YAW_GROUP_DEG = 5.0


@dataclass(frozen=True)
class DepthGravity:
    """What a metric depth map says about gravity.

    up_cam        : (3,) unit vector, world up in the OpenCV camera frame
    sigma_deg     : its 1-sigma angular uncertainty
    up_points     : points on planes facing up along it (floor, tops) below the camera
    wall_points   : points on planes parallel to it (walls)
    floor_seen    : whether the floor backs it (the lowest plausible upward plane, a metre or more below the camera,
                    with nothing below it), not furniture tops or walls alone
    planes        : planes found
    """

    up_cam: np.ndarray
    sigma_deg: float
    up_points: int
    wall_points: int
    floor_seen: bool
    planes: int


@dataclass(frozen=True)
class MapPlanes:
    """A metric map's points and largest planes, unprojected with one focal.

    points   : (N, 3) OpenCV camera points (a regular subsample of the map)
    normals  : (P, 3) unit normals facing the camera; offsets (P,) > 0 with ``normal . p + offset = 0``
    counts   : (P,) inlier counts
    """

    points: np.ndarray
    normals: np.ndarray
    offsets: np.ndarray
    counts: np.ndarray

    def with_focal_scale(self, scale: float) -> MapPlanes:
        """The same map unprojected with a focal ``scale`` times longer (the principal point kept): x and y shrink
        by ``scale`` and a normal ``(nx, ny, nz)`` turns to ``(scale nx, scale ny, nz)``; a plane stays a plane,
        so the segmentation need not run again."""
        points = self.points * np.array([1.0 / scale, 1.0 / scale, 1.0])
        normals = self.normals * np.array([scale, scale, 1.0])
        lengths = np.linalg.norm(normals, axis=1)
        return MapPlanes(points, normals / lengths[:, None], self.offsets / lengths, self.counts)


def map_planes(depth: DepthMap, k_matrix: np.ndarray) -> MapPlanes | None:
    """The map's points and planes (:func:`_planes`) with these intrinsics; None when it has too few valid
    pixels or shows no plane."""
    if depth.kind != "metric_depth":
        raise ValueError(f"planes need a metric depth map, not {depth.kind}")
    from ..depth import sample_pixels

    rows, columns, step = sample_pixels(depth, MAX_POINTS)
    points = frames.unproject_pixels(k_matrix, frames.pixel_centers(columns, rows), depth.values[rows, columns])
    if len(points) < MIN_PLANE_POINTS:
        return None
    planes = _planes(points, np.column_stack([rows, columns]) // step)
    if not planes:
        return None
    return MapPlanes(points, np.array([n for n, _, _ in planes]), np.array([o for _, o, _ in planes]),
                     np.array([c for _, _, c in planes], dtype=float))


def _planes(points: np.ndarray, cells: np.ndarray) -> list[tuple[np.ndarray, float, int]]:
    """The largest planes, one after another: ``(unit normal facing the camera, offset > 0, inlier count)`` with
    ``normal . p + offset = 0``. ``cells``: each point's (row, column) on the map's sampling grid; a plane is the
    largest connected part of its RANSAC inliers (:func:`_connected`)."""
    from ..depth import is_surface, largest_plane

    threshold = _plane_distance(points)
    least = max(MIN_PLANE_POINTS, int(MIN_PLANE_FRACTION * len(points)))
    remaining, planes = points, []
    for _ in range(MAX_PLANES):
        if len(remaining) < least:
            break
        inliers, normal, offset = largest_plane(remaining, threshold, PLANE_ITERATIONS)
        if len(inliers) < least:
            break
        part = inliers[_connected(cells[inliers])]
        if len(part) >= least:
            normal, offset = _tighter(remaining[part], normal, offset, threshold)
            if is_surface(remaining, normal, offset, threshold, len(part)):  # not a slab through noise
                planes.append((normal, offset, len(part)))
        else:
            part = inliers  # scattered: no surface, and gone
        remaining, cells = np.delete(remaining, part, axis=0), np.delete(cells, part, axis=0)
    return planes


def _connected(cells: np.ndarray) -> np.ndarray:
    """Indices of the largest group of these (N, 2) grid cells that touch, across gaps of up to
    :data:`CONNECT_GAP_CELLS` cells (a chair leg in front of the floor). A RANSAC plane can take in, besides a
    patch of floor, a line of points metres away that happens to lie on a plane through it (the lowest row of a
    wall seen above a sofa): a surface is one piece."""
    from scipy import ndimage

    if len(cells) == 0:
        return np.arange(0)
    cells = cells - cells.min(axis=0)
    image = np.zeros(cells.max(axis=0) + 1, dtype=bool)
    image[cells[:, 0], cells[:, 1]] = True
    grown = ndimage.binary_dilation(image, iterations=CONNECT_GAP_CELLS // 2 + CONNECT_GAP_CELLS % 2)
    labels, count = ndimage.label(grown, structure=np.ones((3, 3), dtype=bool))
    if count <= 1:
        return np.arange(len(cells))
    of = labels[cells[:, 0], cells[:, 1]]
    return np.nonzero(of == np.argmax(np.bincount(of)[1:]) + 1)[0]


def _plane_distance(points: np.ndarray) -> float:
    """A point's greatest distance (metres) from a plane it lies on: :data:`PLANE_DISTANCE_M` or
    :data:`PLANE_DISTANCE_REL` of the map's median depth."""
    return max(PLANE_DISTANCE_M, PLANE_DISTANCE_REL * float(np.median(points[:, 2])))


def _tighter(points: np.ndarray, normal: np.ndarray, offset: float, threshold: float) -> tuple[np.ndarray, float]:
    """A plane refitted by least squares to the inliers within :data:`TIGHT_FRACTION` of the RANSAC threshold, twice:
    the band of a floor's inliers also holds the lowest centimetres of whatever stands on it, which tilt the fit."""
    from ..depth import fit_plane

    for _ in range(2):
        near = np.abs(points @ normal + offset) < TIGHT_FRACTION * threshold
        if near.sum() < 3:
            break
        normal, offset = fit_plane(points[near])
        if offset < 0:
            normal, offset = -normal, -offset
    return normal, float(offset)


def _floor_plane(normals: np.ndarray, offsets: np.ndarray, points: np.ndarray) -> int | None:
    """Index of the floor: the lowest plane (largest offset) at least :data:`MIN_FLOOR_DEPTH_M` below the camera
    whose normal, taken for up, is a plausible attitude, with nothing below it (:data:`FLOOR_MAX_BELOW`); None when
    there is none."""
    tolerance = BELOW_TOLERANCE_M + BELOW_TOLERANCE_REL * points[:, 2]
    best = None
    for i, (normal, offset) in enumerate(zip(normals, offsets)):
        pitch, roll = frames.attitude_from_up_in_camera(normal)
        if offset < MIN_FLOOR_DEPTH_M or attitude.attitude_log_prior(pitch, roll) < PLAUSIBLE_LOG_PRIOR:
            continue
        if best is not None and offset <= offsets[best]:
            continue
        if np.mean(points @ normal + offset < -tolerance) <= FLOOR_MAX_BELOW:
            best = i
    return best


def gravity_from_depth(depth: DepthMap, k_matrix: np.ndarray, planes: MapPlanes | None = None) -> DepthGravity | None:
    """World up in the camera frame from a metric depth map (module docstring), or None when the map shows too
    few planes to tell. ``planes``: the map's :func:`map_planes` with these intrinsics, when already found."""
    planes = map_planes(depth, k_matrix) if planes is None else planes
    if planes is None:
        return None
    points, normals, offsets, counts = planes.points, planes.normals, planes.offsets, planes.counts
    # candidates: each plane facing up (its normal faces the camera, which stands above it), and the common
    # direction of each pair of planes (two walls)
    candidates = [n for n in normals]
    for i in range(len(normals)):
        for j in range(i + 1, len(normals)):
            cross = np.cross(normals[i], normals[j])
            if np.linalg.norm(cross) > math.sin(math.radians(30.0)):
                cross /= np.linalg.norm(cross)
                candidates.extend([cross, -cross])
    cos_up, sin_wall = math.cos(math.radians(CONSISTENT_DEG)), math.sin(math.radians(CONSISTENT_DEG))
    best, best_score = None, -math.inf
    for u in candidates:
        cosine = normals @ u
        up, wall = cosine > cos_up, np.abs(cosine) < sin_wall
        support = counts[up].sum() + 0.5 * counts[wall].sum()
        if support <= 0:
            continue
        pitch, roll = frames.attitude_from_up_in_camera(u)
        # the prior only rules out the implausible (a wall taken for the floor); among plausible attitudes the
        # planes' support decides (a seat cushion a few degrees off the floor must not win on a slightly better
        # prior)
        score = math.log(support) + min(0.0, attitude.attitude_log_prior(pitch, roll) - PLAUSIBLE_LOG_PRIOR)
        if score > best_score:
            best, best_score = u, score
    if best is None:
        return None
    u = best
    # the floor is the lowest plausible upward plane with nothing below it: when one lies far enough below the
    # camera it alone gives up, even where most planes support another direction (a big sloping seat);
    # higher ones (seats, beds, table tops) lean and sag, and on real sensor maps walls (and the cabinet fronts
    # among them) were 3 to 5 degrees off where the floor was within 1
    floor = _floor_plane(normals, offsets, points)
    if floor is not None:
        u = normals[floor]
        floor_like = (normals @ u > cos_up) & (offsets >= offsets[floor] - FLOOR_BAND_M)
        wall_weight = 0.0
    else:  # no floor: every upward plane and the walls, and a wider spread below
        floor_like = np.ones(len(normals), dtype=bool)
        wall_weight = 1.0
    for limit_deg in REFINE_ROUNDS_DEG:  # weighted least squares: parallel to the upward planes, perpendicular
        cosine = normals @ u  # to the walls; planes further off than the round's limit (a slanted cushion, a
        up = (cosine > math.cos(math.radians(limit_deg))) & floor_like  # leaning board) drop out as the limit
        wall = np.abs(cosine) < math.sin(math.radians(limit_deg))  # shrinks
        if not up.any() and np.linalg.matrix_rank(normals[wall], tol=0.2) < 2:
            break  # one wall alone leaves a direction free: keep what the last round found
        weight_up = counts * up / max(counts[up].sum(), 1.0)
        weight_wall = wall_weight * counts * wall / max(counts[wall].sum(), 1.0)
        m = np.einsum("k,ki,kj->ij", weight_wall - UP_WEIGHT * weight_up, normals, normals)
        _, vectors = np.linalg.eigh(m)
        u = vectors[:, 0] if vectors[:, 0] @ u > 0 else -vectors[:, 0]
    cosine = normals @ u
    up, wall = (cosine > cos_up) & floor_like, np.abs(cosine) < sin_wall
    pitch, roll = frames.attitude_from_up_in_camera(u)
    if attitude.attitude_log_prior(pitch, roll) < MIN_LOG_PRIOR:
        return None  # a wall seen square on, with nothing else: not a floor
    floor_seen = floor is not None
    spreads = SENSOR_SIGMA_DEG if depth.source.startswith("file:") else MODEL_SIGMA_DEG
    sigma = spreads["floor" if floor_seen else ("tops" if up.any() else "walls")]
    return DepthGravity(u, sigma, int(counts[up].sum()), int(counts[wall].sum()), floor_seen, len(normals))


def focal_scale_from_planes(planes: MapPlanes) -> float | None:
    """The factor on the focal the map's :func:`map_planes` were unprojected with that makes them (floor, walls,
    furniture faces) meet most nearly at right angles, or None when fewer than two planes hold
    :data:`FOCAL_PLANE_FRACTION` of its points, or none come near perpendicular, or the best factor lies at the
    edge of :data:`PLANES_FOCAL_RANGE` (nothing pins it down).

    Unprojected with a focal ``s`` times too short, a map is sheared: x and y grow by ``s``, and a plane's normal
    ``(nx, ny, nz)`` turns to ``(s nx, s ny, nz)``, so a floor and a wall no longer meet at 90 degrees. The cost
    of a factor is the mean of each pair's squared angle from perpendicular, capped at
    :data:`PERPENDICULAR_CAP_DEG`, weighted by the product of the pair's inlier counts."""
    big = planes.counts >= FOCAL_PLANE_FRACTION * len(planes.points)
    if big.sum() < 2:
        return None
    normals, counts = planes.normals[big], planes.counts[big]
    first, second = np.triu_indices(len(normals), 1)
    weights = counts[first] * counts[second]  # the big planes (floor, walls) lead

    def off_deg(log_factor: float) -> np.ndarray:
        turned = normals * np.array([math.exp(log_factor), math.exp(log_factor), 1.0])
        turned /= np.linalg.norm(turned, axis=1, keepdims=True)
        return np.degrees(np.arcsin(np.clip(np.abs(np.einsum("ij,ij->i", turned[first], turned[second])), 0.0, 1.0)))

    def cost(log_factor: float) -> float:
        return float((weights * np.minimum(off_deg(log_factor), PERPENDICULAR_CAP_DEG) ** 2).sum() / weights.sum())

    grid = np.linspace(math.log(PLANES_FOCAL_RANGE[0]), math.log(PLANES_FOCAL_RANGE[1]), PLANES_FOCAL_STEPS)
    costs = [cost(g) for g in grid]
    best = int(np.argmin(costs))
    if min(float(off_deg(g).min()) for g in grid) >= PERPENDICULAR_CAP_DEG or best in (0, len(grid) - 1):
        return None
    from scipy.optimize import minimize_scalar

    found = minimize_scalar(cost, bounds=(grid[best - 1], grid[best + 1]), method="bounded",
                            options={"xatol": 1e-5})
    return float(math.exp(found.x if found.fun <= costs[best] else grid[best]))


def walls_yaw(planes: MapPlanes, up_cam: np.ndarray, pitch_rad: float, roll_rad: float,
              k_matrix: np.ndarray | None = None, boxes_xyxy_px=()) -> list[tuple[float, int]]:
    """``[(yaw, wall points), ...]``, most points first: the headings about world up (wrapped to [-pi/4, pi/4), as
    :func:`.attitude.room_yaw_for_attitude`) the map's walls show, the planes within :data:`WALL_VERTICAL_DEG` of
    vertical under ``up_cam`` (and this pitch and roll), their normals taken modulo 90 degrees and grouped within
    :data:`WALL_YAW_GROUP_DEG` (the room's walls and what stands square to them; a door opened at an angle is a
    group of its own), each group's heading the count-weighted circular mean of four times the angle. With the
    intrinsics the planes were unprojected with and the objects' 2D boxes, a plane counts only its points seen
    outside every box: the room's walls, not a wardrobe set at an angle or a door left open."""
    vertical = np.abs(planes.normals @ up_cam) < math.sin(math.radians(WALL_VERTICAL_DEG))
    yaws = np.array([attitude.room_yaw_for_attitude(n, pitch_rad, roll_rad) for n in planes.normals[vertical]])
    weights = planes.counts[vertical]
    if k_matrix is not None and len(boxes_xyxy_px):
        uv = frames.project_points(k_matrix, planes.points)[0]
        boxes = np.asarray(boxes_xyxy_px, dtype=float)
        inside = ((uv[:, None, 0] >= boxes[None, :, 0]) & (uv[:, None, 0] <= boxes[None, :, 2])
                  & (uv[:, None, 1] >= boxes[None, :, 1]) & (uv[:, None, 1] <= boxes[None, :, 3])).any(axis=1)
        on_wall = np.abs(planes.points @ planes.normals[vertical].T + planes.offsets[vertical]) < \
            _plane_distance(planes.points)  # (N, walls)
        weights = (on_wall & ~inside[:, None]).sum(axis=0).astype(float)
    apart = np.degrees(np.abs(attitude.wrap_quarter(yaws[:, None] - yaws[None, :])))
    groups, left = [], np.ones(len(yaws), dtype=bool)
    while left.any():
        near = (apart <= WALL_YAW_GROUP_DEG) & left[None, :]
        seed = int(np.argmax(np.where(left, near @ weights, -1.0)))
        members = near[seed]
        mean = math.atan2(float(weights[members] @ np.sin(4.0 * yaws[members])),
                          float(weights[members] @ np.cos(4.0 * yaws[members]))) / 4.0
        groups.append((attitude.wrap_quarter(mean), int(weights[members].sum())))
        left &= ~members
    return sorted(groups, key=lambda group: -group[1])
