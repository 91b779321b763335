"""Fit upright 3D boxes to 2D boxes, many at once: the numerical core of the solver.

Each object has five unknowns, ``(x, z, log width, log height, log depth)``: it stands on a given support height
(its bottom at ``support_y``) with a given yaw. The residuals are, per object, the four sides of the projected
box against the detected 2D box (in units of the side's pixel noise) and the three log-size deviations from the
category prior (in units of its spread). A side of a 2D box that touches the photo's border only says the object
reaches at least that far: it is one-sided.

The objects do not interact, so instead of one ``scipy.optimize.least_squares`` call per object (a few ms each,
mostly call overhead) they are solved together by :func:`batched_levenberg_marquardt`: Levenberg-Marquardt with
the same robust loss as scipy's ``soft_l1`` (by iteratively reweighted least squares), each object with its own
damping and its own acceptance test, every step vectorised over the objects (numpy's batched ``solve``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .. import frames
from ..priors import SizePrior
from ..records import CameraEstimate, Detection

#: Sides of a 2D box closer than this to the photo border are treated as cut by the border: a few pixels, or a
#: fraction of the photo's side. A grounding model's sides are off by a few per cent of the photo, a photo may
#: have a dark frame (registered RGB-D frames: 5-7 px), and boxes drawn from a sensor's depth stop where its
#: view ends, 2-3 % inside the colour photo's: a side that close is as likely cut as seen, and taken for seen it
#: pins the object's extent to the photo's edge (on realdev, where the true boxes go on past it, 3 % instead of
#: 1 % raised the mean IoU from 0.15 to 0.17 photo alone and from 0.24 to 0.28 with depth).
BORDER_MARGIN_PX = 3.0
BORDER_MARGIN_FRACTION = 0.03
#: Pixel noise of a 2D box side: a floor plus a fraction of the box diagonal.
SIDE_SIGMA_PX = 2.0
SIDE_SIGMA_FRACTION = 0.02
#: Nearest distance in front of the camera a box corner may have.
NEAR_M = 0.15
#: Objects are not placed farther than this from the camera.
MAX_DISTANCE_M = 25.0
#: Smallest relative spread of a size prior (keeps the prior residuals finite).
MIN_SPREAD = 0.05


@dataclass(frozen=True)
class BoxFit:
    """One fitted box: centre (3,) and full size (3,) in world metres, its yaw, and its robust cost."""

    center_m: np.ndarray
    size_m: np.ndarray
    yaw_rad: float
    cost: float


def cut_sides(box_xyxy_px, width_px: int, height_px: int) -> np.ndarray:
    """(4,) bool: which sides (x1, y1, x2, y2) of a 2D box touch the photo's border."""
    x1, y1, x2, y2 = box_xyxy_px
    margin_x = max(BORDER_MARGIN_PX, BORDER_MARGIN_FRACTION * width_px)
    margin_y = max(BORDER_MARGIN_PX, BORDER_MARGIN_FRACTION * height_px)
    return np.array([x1 <= margin_x, y1 <= margin_y, x2 >= width_px - margin_x, y2 >= height_px - margin_y])


#: Depth agreement: pixel samples per object (a grid of this many by this many inside its 2D box) ...
DEPTH_GRID = 6
#: ... in the middle part of the box (this fraction of its width and height), where the object itself is seen.
DEPTH_INNER = 0.6
#: Noise of an object's depth from a depth map: a fraction of the distance plus a floor (metres).
DEPTH_SIGMA_REL = 0.05
DEPTH_SIGMA_M = 0.03


@dataclass(frozen=True)
class DepthSamples:
    """Observed depth at a few pixels inside each object's 2D box.

    rays_cam : (N, M, 3) float   camera-frame directions of the sampled pixels, scaled so that z = 1
    depth_m  : (N, M) float      observed planar depth (OpenCV z, metres), NaN where the map has no value
    """

    rays_cam: np.ndarray
    depth_m: np.ndarray

    def rows(self, index) -> DepthSamples:
        """The samples of these objects (an index array or list of rows), in that order."""
        return DepthSamples(self.rays_cam[index], self.depth_m[index])


def depth_samples(detections: list[Detection], depth, k_matrix: np.ndarray) -> DepthSamples:
    """Sample a metric :class:`~pipeline.records.DepthMap` (``values`` in metres, ``valid``) on a small grid in
    the middle of every detection's 2D box."""
    steps = (np.arange(DEPTH_GRID) + 0.5) / DEPTH_GRID
    rays, observed = [], []
    height, width = depth.values.shape
    for detection in detections:
        x1, y1, x2, y2 = detection.box_xyxy_px
        cx, cy, hw, hh = 0.5 * (x1 + x2), 0.5 * (y1 + y2), 0.5 * DEPTH_INNER * (x2 - x1), 0.5 * DEPTH_INNER * (y2 - y1)
        u, v = np.meshgrid(cx - hw + 2 * hw * steps, cy - hh + 2 * hh * steps)
        uv = np.column_stack([u.ravel(), v.ravel()])
        col = np.clip(uv[:, 0].astype(int), 0, width - 1)
        row = np.clip(uv[:, 1].astype(int), 0, height - 1)
        values = depth.values[row, col].astype(float)
        observed.append(np.where(depth.valid[row, col] & np.isfinite(values) & (values > 0), values, np.nan))
        rays.append(frames.pixel_rays(k_matrix, uv))
    if not detections:
        return DepthSamples(np.zeros((0, DEPTH_GRID ** 2, 3)), np.zeros((0, DEPTH_GRID ** 2)))
    return DepthSamples(np.array(rays), np.array(observed))


def ray_box_depth(rays_cam: np.ndarray, center_cam: np.ndarray, axes_cam: np.ndarray,
                  half_size: np.ndarray) -> np.ndarray:
    """(N, M) planar depth where camera rays (N, M, 3; z = 1) from the camera centre first meet boxes (centres
    (N, 3), axes as the columns of (N, 3, 3), half extents (N, 3)); NaN where a ray misses its box (slab test)."""
    origin_local = -np.einsum("nji,nj->ni", axes_cam, center_cam)  # (N, 3)
    direction_local = np.einsum("nji,nmj->nmi", axes_cam, rays_cam)  # (N, M, 3)
    safe = np.where(np.abs(direction_local) < 1e-12, 1e-12, direction_local)
    t1 = (-half_size[:, None, :] - origin_local[:, None, :]) / safe
    t2 = (half_size[:, None, :] - origin_local[:, None, :]) / safe
    t_near = np.minimum(t1, t2).max(axis=2)
    t_far = np.maximum(t1, t2).min(axis=2)
    hit = (t_far >= np.maximum(t_near, 0.0)) & (t_near > 0)
    return np.where(hit, t_near, np.nan)


#: Columns of :meth:`BoxTerms.residuals` that hold the size-prior terms.
PRIOR_COLUMNS = slice(4, 7)


class BoxTerms:
    """The residuals of N upright boxes against their 2D boxes, size priors, optional position priors and
    optional depth samples; shared by the per-object fits and the joint refinement (:mod:`refine`).

    Parameters per box (rows of ``params``): ``(x, z, log width, log height, log depth)``; the bottom of box n is
    at ``support_y[n]`` and its yaw is ``yaw_rad[n]``.
    """

    def __init__(self, detections, prior_list, camera: CameraEstimate, yaw_rad, center_prior_xz=None,
                 center_sigma_m=None, depth: DepthSamples | None = None, free_sides=None, open_sides=None):
        count = len(detections)
        self.k = camera.intrinsics.k_matrix
        width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
        self.camera_from_world = frames.invert_rigid(camera.world_from_camera)
        self.boxes = np.array([d.box_xyxy_px for d in detections], dtype=float).reshape(-1, 4)
        self.cut = np.array([cut_sides(b, width, height) for b in self.boxes]).reshape(-1, 4)
        # sides that say nothing (a bottom edge that shows no floor contact): no residual
        self.free = np.zeros((count, 4), bool) if free_sides is None else np.asarray(free_sides, bool).reshape(-1, 4)
        # sides hidden behind something nearer: the box may reach on behind it, as out of view at a cut side
        self.open = np.zeros((count, 4), bool) if open_sides is None else np.asarray(open_sides, bool).reshape(-1, 4)
        self.sigma = SIDE_SIGMA_PX + SIDE_SIGMA_FRACTION * np.hypot(self.boxes[:, 2] - self.boxes[:, 0],
                                                                    self.boxes[:, 3] - self.boxes[:, 1])
        self.log_prior = np.log(np.array([p.size_m for p in prior_list], dtype=float)).reshape(-1, 3)
        self.spread = np.maximum(np.array([p.spreads for p in prior_list], dtype=float), MIN_SPREAD).reshape(-1, 3)
        self.yaw_rad = np.asarray(yaw_rad, dtype=float)
        rotations = np.stack([frames.rot_y(a) for a in self.yaw_rad]) if count else np.zeros((0, 3, 3))
        # the box's own axes in the camera frame, once per object
        self.axes_cam = np.einsum("ij,njk->nik", self.camera_from_world[:3, :3], rotations)  # (N, 3, 3)
        position = np.full((count, 2), np.nan) if center_prior_xz is None else np.asarray(center_prior_xz, float)
        self.has_position = np.all(np.isfinite(position), axis=1)
        self.position = np.where(self.has_position[:, None], position, 0.0)
        self.position_sigma = np.ones(count) if center_sigma_m is None else np.asarray(center_sigma_m, float)
        self.limits = np.array([0.0, 0.0, width, height])
        self.depth = depth
        if depth is not None:
            observed = depth.depth_m
            level = _row_median(observed) if observed.size else []
            self.depth_sigma = DEPTH_SIGMA_REL * np.nan_to_num(np.asarray(level, float), nan=1.0) + DEPTH_SIGMA_M

    def tiled(self, times: int) -> "BoxTerms":
        """The same N boxes repeated ``times`` times (rows ``k * N + n`` are box n): many parameter sets of the
        same boxes in one vectorised call (the columns of a Jacobian)."""
        out = object.__new__(BoxTerms)
        out.__dict__.update(self.__dict__)
        for name in ("boxes", "cut", "free", "open", "sigma", "log_prior", "spread", "yaw_rad", "axes_cam",
                     "has_position", "position", "position_sigma"):
            value = getattr(self, name)
            setattr(out, name, np.tile(value, (times,) + (1,) * (value.ndim - 1)))
        if self.depth is not None:
            out.depth = DepthSamples(np.tile(self.depth.rays_cam, (times, 1, 1)),
                                     np.tile(self.depth.depth_m, (times, 1)))
            out.depth_sigma = np.tile(self.depth_sigma, times)
        return out

    @property
    def width(self) -> int:
        return 4 + 3 + 2 + (1 if self.depth is not None else 0)

    def residuals(self, params: np.ndarray, support_y: np.ndarray) -> np.ndarray:
        """(N, R) residuals: 4 box sides (pixels / noise; one-sided where cut by the border or hidden behind
        something nearer), 3 log-size
        deviations (/ spread), 2 position deviations (/ noise, 0 without a position prior) and, with depth
        samples, the median depth difference over the samples that see the box (/ noise)."""
        size = np.exp(params[:, 2:5])
        center = np.column_stack([params[:, 0], support_y + 0.5 * size[:, 1], params[:, 1]])
        center_cam = center @ self.camera_from_world[:3, :3].T + self.camera_from_world[:3, 3]
        local = frames.UNIT_BOX_CORNERS[None, :, :] * (0.5 * size[:, None, :])  # (N, 8, 3)
        corners_cam = center_cam[:, None, :] + np.einsum("nij,nkj->nki", self.axes_cam, local)
        uv, z = frames.project_points(self.k, corners_cam)
        projected = np.column_stack([uv[..., 0].min(1), uv[..., 1].min(1), uv[..., 0].max(1), uv[..., 1].max(1)])
        outward = np.array([-1.0, -1.0, 1.0, 1.0])
        edge = np.where(self.cut, self.limits, self.boxes)
        side = np.where(self.cut | self.open, np.maximum(outward * (edge - projected), 0.0),
                        projected - self.boxes) / self.sigma[:, None]
        side = np.where(self.free, 0.0, side)
        behind = np.maximum(NEAR_M - z, 0.0).sum(axis=1)
        side = np.where(behind[:, None] > 0, 10.0 + 100.0 * behind[:, None], side)
        prior_term = (params[:, 2:5] - self.log_prior) / self.spread
        position_term = np.where(self.has_position[:, None],
                                 (params[:, :2] - self.position) / self.position_sigma[:, None], 0.0)
        terms = [side, prior_term, position_term]
        if self.depth is not None:
            predicted = ray_box_depth(self.depth.rays_cam, center_cam, self.axes_cam, 0.5 * size)
            difference = predicted - self.depth.depth_m
            terms.append((np.nan_to_num(_row_median(difference), nan=0.0) / self.depth_sigma)[:, None])
        return np.concatenate(terms, axis=1)


def _row_median(values: np.ndarray) -> np.ndarray:
    """Median of each row's finite values; NaN for a row with none (quietly)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(values, axis=1)


def fit_boxes(detections: list[Detection], prior_list: list[SizePrior], camera: CameraEstimate,
              support_y: np.ndarray, yaw_rad: np.ndarray, center_prior_xz: np.ndarray | None = None,
              center_sigma_m: np.ndarray | None = None, depth: DepthSamples | None = None,
              max_iterations: int = 60, x0: np.ndarray | None = None,
              free_sides: np.ndarray | None = None, open_sides: np.ndarray | None = None) -> list[BoxFit]:
    """Fit one box per detection (jointly, but the objects do not interact).

    ``center_prior_xz`` (N, 2) optionally pulls a box's centre towards a position (a model's 3D box), with noise
    ``center_sigma_m`` (N,); rows of NaN mean no such prior. ``depth`` (:func:`depth_samples` of a metric depth
    map) adds the agreement of each box's visible surface with the observed depth. ``free_sides`` (N, 4) bool:
    sides of the 2D boxes that say nothing (no residual); ``open_sides``: sides hidden behind something nearer,
    which the box must reach but may pass (as a side cut by the photo's border).
    """
    if len(detections) == 0:
        return []
    terms = BoxTerms(detections, prior_list, camera, yaw_rad, center_prior_xz, center_sigma_m, depth, free_sides,
                     open_sides)
    support_y = np.asarray(support_y, dtype=float)
    start = np.full((len(detections), 5), np.nan) if x0 is None else np.array(x0, dtype=float)
    missing = ~np.all(np.isfinite(start), axis=1)  # rows without a start: the bottom edge cast onto the support
    if missing.any():
        start[missing] = np.column_stack([
            np.array([_initial_xz(b, c, p, camera, s) for b, c, p, s in
                      zip(terms.boxes[missing], (terms.cut | terms.free)[missing],
                          [prior_list[i] for i in np.nonzero(missing)[0]],
                          support_y[missing])]).reshape(-1, 2),
            terms.log_prior[missing]])
    x0 = start
    many = terms.tiled(5)
    many_support_y = np.tile(support_y, 5)
    params, costs = batched_levenberg_marquardt(lambda x: terms.residuals(x, support_y), x0,
                                                max_iterations=max_iterations,
                                                residuals_tiled=lambda x: many.residuals(x, many_support_y))
    size = np.exp(params[:, 2:5])
    return [BoxFit(np.array([p[0], s_y + 0.5 * s[1], p[1]]), s, float(a), float(c))
            for p, s, s_y, a, c in zip(params, size, support_y, terms.yaw_rad, costs)]


def soft_l1_cost(residuals: np.ndarray) -> np.ndarray:
    """(N,) robust cost per row of (N, R) residuals: ``0.5 * sum(2 (sqrt(1 + r^2) - 1))``, scipy's ``soft_l1``."""
    return (np.sqrt(1.0 + residuals ** 2) - 1.0).sum(axis=1)


def batched_levenberg_marquardt(residuals, x0: np.ndarray, max_iterations: int = 60, step: float = 1e-6,
                                tolerance: float = 1e-7, residuals_tiled=None) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``soft_l1_cost(residuals(x))`` row by row for N independent problems at once.

    ``residuals`` maps (N, P) parameters to (N, R) residuals, row n depending on row n only. Jacobians by forward
    differences (P + 1 evaluations a step, each vectorised over the rows; with ``residuals_tiled``, which maps
    (P * N, P) parameters, row ``j * N + n`` for problem n, all P shifted points go in one call, so a step costs
    two calls); the robust loss by reweighting
    (weights ``1 / sqrt(1 + r^2)``, the derivative of ``soft_l1``); damping ``lambda * diag(J^T W J)``
    (Marquardt 1963), per row, lowered after an accepted step and raised after a rejected one. Returns the
    (N, P) solution and its (N,) costs.
    """
    x = np.array(x0, dtype=float)
    count, size = x.shape
    r = residuals(x)
    cost = soft_l1_cost(r)
    damping = np.full(count, 1e-2)
    active = np.ones(count, dtype=bool)
    eye = np.eye(size)
    for _ in range(max_iterations):
        jacobian = np.empty((count, r.shape[1], size))
        if residuals_tiled is not None:  # every column's shifted point in one call
            shifted = np.tile(x, (size, 1))
            shifted[np.arange(size * count), np.repeat(np.arange(size), count)] += step
            jacobian[:] = np.moveaxis((residuals_tiled(shifted).reshape(size, count, -1) - r) / step, 0, 2)
        else:
            for j in range(size):
                shifted = x.copy()
                shifted[:, j] += step
                jacobian[:, :, j] = (residuals(shifted) - r) / step
        weights = 1.0 / np.sqrt(1.0 + r ** 2)
        jtw = np.transpose(jacobian, (0, 2, 1)) * weights[:, None, :]
        normal = jtw @ jacobian
        gradient = np.einsum("npr,nr->np", jtw, r)
        diagonal = np.maximum(np.einsum("npp->np", normal), 1e-12)
        system = normal + damping[:, None, None] * diagonal[:, :, None] * eye
        delta = -np.linalg.solve(system, gradient[:, :, None])[:, :, 0]
        delta[~active] = 0.0
        trial = x + delta
        r_trial = residuals(trial)
        cost_trial = soft_l1_cost(r_trial)
        better = (cost_trial < cost) & active
        x[better], r[better] = trial[better], r_trial[better]
        gain = cost - np.where(better, cost_trial, cost)
        cost = np.where(better, cost_trial, cost)
        damping = np.where(better, np.maximum(damping / 3.0, 1e-9), np.minimum(damping * 4.0, 1e9))
        active &= ~((better & (gain <= tolerance * (1.0 + cost))) | (damping >= 1e9))
        if not active.any():
            break
    return x, cost


def _initial_xz(box: np.ndarray, cut: np.ndarray, prior: SizePrior, camera: CameraEstimate,
                support_y: float) -> np.ndarray:
    """(x, z) of the box centre: the bottom edge's centre pixel cast onto the support plane, pushed back by half
    the prior depth; when that ray does not reach the plane, the distance at which the prior height fits."""
    k = camera.intrinsics.k_matrix
    rotation, origin = camera.world_from_camera[:3, :3], camera.world_from_camera[:3, 3]
    ray = rotation @ frames.pixel_rays(k, np.array([0.5 * (box[0] + box[2]), box[3]]))
    horizontal = np.array([ray[0], 0.0, ray[2]])
    horizontal /= max(np.linalg.norm(horizontal), 1e-9)
    if not cut[3] and ray[1] < -1e-3 and support_y < origin[1]:
        point = origin + (support_y - origin[1]) / ray[1] * ray
    else:
        distance = camera.intrinsics.fy_px * prior.size_m[1] / max(box[3] - box[1], 1.0)
        point = origin + ray / np.linalg.norm(ray) * distance
    reach = np.linalg.norm(point - origin)
    point = origin + (point - origin) * min(1.0, MAX_DISTANCE_M / max(reach, 1e-9))
    centre = point + horizontal * 0.5 * prior.size_m[2]
    return np.array([centre[0], centre[2]])


def faces_camera(fit: BoxFit, camera: CameraEstimate) -> BoxFit:
    """The same box turned by pi if needed so that its front (local +z) faces the camera."""
    front = frames.rot_y(fit.yaw_rad) @ np.array([0.0, 0.0, 1.0])
    if front @ (camera.world_from_camera[:3, 3] - fit.center_m) >= 0:
        return BoxFit(fit.center_m, fit.size_m, frames.wrap_angle(fit.yaw_rad), fit.cost)
    return BoxFit(fit.center_m, fit.size_m, frames.wrap_angle(fit.yaw_rad + math.pi), fit.cost)
