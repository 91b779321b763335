"""Focal length, gravity (pitch, roll) and the room's heading from the straight lines of one photo, without weights.

The heart is :func:`estimate_manhattan`. It assumes a *Manhattan world* (Coughlan & Yuille, "Manhattan World:
Compass Direction from a Single Image by Bayesian Inference", ICCV 1999): most long straight edges in a room run
along one of three mutually orthogonal directions, the vertical and the two horizontal axes of the walls.

Steps:

1. **Segments.** OpenCV's LSD (von Gioi et al., "LSD: a Line Segment Detector", IPOL 2012) on a grayscale copy
   downscaled with ``cv2.INTER_AREA`` so that its longest side is ``max_side_px`` (this is what keeps a 12 MP photo
   fast); segments shorter than :data:`MIN_SEGMENT_FRACTION` of the diagonal are dropped; the rest are scaled back
   to photo pixels (CONVENTIONS.md: pixel centres at ``i + 0.5``).
2. **Hypotheses.** RANSAC over minimal samples in the spirit of the 2-line MSAC of Zhang et al. ("Vanishing point
   estimation and line classification in a Manhattan world with a unifying camera model", IJCV 2016) and Lu et al.
   ("2-line exhaustive searching for real-time vanishing point estimation in Manhattan world", WACV 2017): two
   segments give a first vanishing point; with a known focal a third segment fixes the second, orthogonal direction
   (its interpretation plane meets the plane orthogonal to the first); with an unknown focal two more segments give
   a second vanishing point and the focal follows from the orthogonality of the two (below); the third direction is
   the cross product. A segment supports a vanishing point when the line from its midpoint to the vanishing point
   has nearly its direction (the consistency measure of Tardif, "Non-iterative approach for fast and accurate
   vanishing point detection", ICCV 2009); the hypothesis with the most inlier length (truncated quadratic, MSAC)
   wins.
3. **Refinement.** Robust least squares (:func:`cauchy_least_squares`, Cauchy loss) over the rotation (and the
   focal when it is free) of the endpoint distances to the lines joining each inlier's midpoint to its vanishing
   point, with reassignment of the segments between rounds.
4. **Focal.** For two finite vanishing points of orthogonal directions ``v1, v2`` and the principal point ``c``,
   ``f^2 = -(v1 - c) . (v2 - c)`` (Caprile & Torre, "Using vanishing points for camera calibration", IJCV 1990;
   Hartley & Zisserman, *Multiple View Geometry*, 2nd ed., section 8.8); ``f^2 <= 0`` means the two are not
   orthogonal. Reported when the fit pins the focal down (:data:`MAX_FOCAL_REL_STD`) with both horizontal
   vanishing points finite, or with the vertical one and a horizontal one for a camera pitched at least
   :data:`VERTICAL_FINITE_MIN_DEG` (nearer level the vertical vanishing point lies far away, where the lens
   distortion of long verticals dominates). Fits that explain the lines about equally well but disagree on the
   focal are averaged by their posterior mass. In one-point perspective held level (one wall seen square on) the
   focal is not observable: the fits' average is reported as ``weak`` where it leans away from the default, and
   the attitude uses it, or the default (26 mm equivalent).
5. **Attitude.** Every axis of every refined fit, with either sign, is a hypothesis for gravity, scored by the fit's
   line evidence, the focal prior, other cues (``evidence``: the objects' boxes) and a prior on how rooms are
   photographed (:mod:`.attitude`): the family nearest the image's vertical axis is not always gravity (a camera
   pitched down beyond 45 degrees sees the floor's receding lines more upright). Pitch and roll are those of
   :func:`frames.world_from_camera_from_attitude` that map it to world +Y; the room's yaw is the heading of the
   horizontal directions in that world frame, modulo 90 degrees.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import cv2
import numpy as np

from .. import frames
from . import attitude
from .intrinsics import DEFAULT_FOCAL_35MM_MM, focal_px_from_35mm, plausible_focal

#: Segments shorter than this fraction of the working image's diagonal are dropped (noise, texture).
MIN_SEGMENT_FRACTION = 0.025
#: ... and shorter than this many working pixels (a tiny photo's "lines" are a few pixels of noise).
MIN_SEGMENT_PX = 10.0
#: At most this many segments (the longest) enter the search; more cost time and add little.
MAX_SEGMENTS = 400
#: Two anti-parallel LSD segments closer than this (working pixels) are the two edges of one thin line.
THIN_LINE_MAX_GAP_PX = 3.5
#: ... and within this angle (degrees).
THIN_LINE_MAX_ANGLE_DEG = 2.0
#: Fewer segments than this and the photo has "too few lines": :func:`estimate_manhattan` returns None.
MIN_SEGMENTS = 6
#: A segment supports a vanishing point when the line from its midpoint to the vanishing point passes within
#: this distance of its endpoints (working pixels: LSD localizes an edge to a fraction of a pixel) ...
INLIER_DISTANCE_PX = 1.0
#: ... and makes an angle below this with it (degrees; binds for short segments).
INLIER_ANGLE_DEG = 2.0
#: Noise level assumed at least when judging how well the focal is pinned down (working pixels).
NOISE_FLOOR_PX = 0.3
#: Scale of the robust (Cauchy) loss of the refinement, working pixels.
LOSS_SCALE_PX = 0.5
#: RANSAC hypotheses: with a known focal, and with a free one.
HYPOTHESES_FIXED_FOCAL = 600
HYPOTHESES_FREE_FOCAL = 1500
#: Focal search range, as the horizontal field of view across the photo's long side (degrees).
FOCAL_HFOV_RANGE_DEG = (25.0, 120.0)
#: The focal is reported only when both horizontal directions are at least this far out of the image plane
#: (degrees): closer to it their vanishing point is nearly at infinity and the focal is barely observable.
FINITE_VP_MIN_ANGLE_DEG = 6.0
#: The focal averaged over the near-best fits replaces the best fit's when they differ by more than this (relative)
#: and more than the best fit's own standard error.
FOCAL_AVERAGE_MIN_SHIFT = 0.02
#: The vertical vanishing point counts towards the focal (with one finite horizontal one) when gravity is at
#: least this far out of the image plane (degrees): a camera pitched this much; nearer level, the vanishing point
#: is far away, where the lens distortion of long verticals dominates.
VERTICAL_FINITE_MIN_DEG = 10.0
#: ... and when the fit's standard error of the focal is below this fraction of it.
MAX_FOCAL_REL_STD = 0.03
#: A vertical family further than this from the image's vertical axis gets a note (degrees).
VERTICAL_FAR_OFF_DEG = 40.0
#: A family's direction fitted alone has this many degrees of freedom more than in the orthogonal frame: a gain in
#: squared residuals (noise units) up to that is chance; beyond it the confidence falls as exp(-excess / scale).
ORTHOGONALITY_FREE_DOF = 2.0
ORTHOGONALITY_GAIN_SCALE = 20.0
#: Photos (or ``max_side_px``) smaller than this on their long side get proportionally less confidence.
FULL_CONFIDENCE_SIDE_PX = 320.0
#: A camera looking up by more than this (degrees) gets a note: the photo may be upside down.
UPWARD_PITCH_NOTE_DEG = 10.0
#: A photo's frame (the black border of a registered RGB-D frame, a scanner's margin) is at most this fraction of
#: each side; its rows or columns vary by less than ``BORDER_MAX_STD`` grey levels around a dark or bright level.
BORDER_MAX_FRACTION = 0.05
BORDER_MAX_STD = 6.0
#: Segments within this many working pixels (plus :data:`BORDER_WIGGLE_FRACTION` of the side) of the content's
#: edge along their whole length are the frame's edge, not a line of the room (LSD finds them as the longest lines
#: of the photo, exactly along the image axes).
BORDER_EDGE_PX = 3.0
#: A registered frame's margin is ragged (its inner edge wanders by a few pixels); this fraction of the side
#: covers it.
BORDER_WIGGLE_FRACTION = 0.01
#: Log odds below which a second attitude that the lines fit gets a note (3 nats: 20 to 1).
AMBIGUOUS_LOG_ODDS = 3.0
#: Seed of the RANSAC sampler: the result is a deterministic function of the photo.
SEED = 20240611


@dataclass(frozen=True)
class ManhattanEstimate:
    """What the lines of one photo say about its camera (see :func:`estimate_manhattan`).

    focal_px           : from two finite orthogonal vanishing points; the given focal when one was passed in; None
                         when the geometry does not fix it
    focal_source       : ``"vanishing_points"``, ``"weak"`` (no fit pins it down: their focals averaged by
                         posterior, the focal prior included), ``"given"`` (focal passed in) or ``"none"``
    pitch_rad, roll_rad: attitude per :func:`frames.world_from_camera_from_attitude` (yaw 0)
    room_yaw_rad       : yaw (about world +Y) of the room's horizontal Manhattan axes in the world frame of
                         ``frames.world_from_camera_from_attitude(pitch, roll, h)``, wrapped to [-pi/4, pi/4):
                         the room's axes are ``Ry(room_yaw) @ (1, 0, 0)`` and ``Ry(room_yaw) @ (0, 0, 1)``
    confidence         : 0..1 from the inlier share of the line length, their number, the photo's resolution, the
                         families' coverage, the fit's residual, and how orthogonal the families' independent fits
                         are
    vp_directions_cam  : (3, 3) rows, unit directions in the OpenCV camera frame: vertical (world +Y), horizontal A
                         (the room's +X), horizontal B (the room's +Z); A x vertical = B
    segments_px        : (N, 4) x1 y1 x2 y2 segments in photo pixels
    segment_family     : (N,) int: 0 vertical, 1 A, 2 B, -1 clutter
    notes              : what a person should know (unobservable focal, rotated photo, ...)
    attitude_agreement : posterior share (0..1) of the attitude hypotheses that agree with the chosen gravity
                         (:mod:`.attitude`): low when the lines fit another attitude nearly as well
    alternative_up_cam : (3,) the best disagreeing hypothesis's up direction (camera frame), or None
    alternative_log_odds: log posterior odds of the chosen attitude over that alternative
    focal_confidence   : the confidence without the attitude's agreement share: how far the fit itself (its
                         support, coverage, residual, orthogonality) is to be believed, for its focal
    """

    focal_px: float | None
    focal_source: str
    pitch_rad: float
    roll_rad: float
    room_yaw_rad: float
    confidence: float
    vp_directions_cam: np.ndarray
    segments_px: np.ndarray
    segment_family: np.ndarray
    notes: tuple[str, ...]
    attitude_agreement: float = 1.0
    alternative_up_cam: np.ndarray | None = None
    alternative_log_odds: float = math.inf
    focal_confidence: float = 0.0

    def vanishing_points_px(self, width_px: int, height_px: int) -> np.ndarray:
        """(3, 3) homogeneous vanishing points ``K @ d`` (rows: vertical, A, B) in photo pixels; third coordinate
        zero for a point at infinity. Needs the focal (``focal_px`` not None)."""
        if self.focal_px is None:
            raise ValueError("the focal is unknown: vanishing points in pixels are undefined")
        k = frames.intrinsics_matrix(self.focal_px, self.focal_px, 0.5 * width_px, 0.5 * height_px)
        return self.vp_directions_cam @ k.T


# ---------------------------------------------------------------------------------------------- segments


def _gray_uint8(rgb) -> np.ndarray | None:
    """2D uint8 grayscale copy of an (H, W), (H, W, 1), (H, W, 3) RGB or (H, W, 4) RGBA image; None if not one."""
    image = np.asarray(rgb)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)) or image.size == 0:
        return None
    if image.dtype != np.uint8:
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        elif np.issubdtype(image.dtype, np.floating):
            finite = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
            scale = 255.0 if float(finite.max(initial=0.0)) <= 1.0 else 1.0
            image = np.clip(finite * scale, 0, 255).astype(np.uint8)
        elif np.issubdtype(image.dtype, np.integer):
            top = 65535.0 if image.dtype.itemsize >= 2 and int(image.max(initial=0)) > 255 else 255.0
            image = np.clip(image.astype(np.float32) * (255.0 / top), 0, 255).astype(np.uint8)
        else:
            return None
    if image.ndim == 3:
        code = cv2.COLOR_RGB2GRAY if image.shape[2] == 3 else cv2.COLOR_RGBA2GRAY
        image = cv2.cvtColor(np.ascontiguousarray(image), code)
    return np.ascontiguousarray(image)


def _raw_segments(gray: np.ndarray) -> np.ndarray:
    """(N, 4) float segments of a uint8 image, in its pixel-centre-at-integer coordinates (OpenCV's)."""
    if hasattr(cv2, "createLineSegmentDetector"):
        found = cv2.createLineSegmentDetector(cv2.LSD_REFINE_STD).detect(gray)[0]
    elif hasattr(cv2, "ximgproc"):  # pragma: no cover - builds without LSD
        found = cv2.ximgproc.createFastLineDetector().detect(gray)
    else:  # pragma: no cover
        edges = cv2.Canny(gray, 50, 150)
        diagonal = math.hypot(*gray.shape)
        found = cv2.HoughLinesP(edges, 1, np.pi / 360, 30, minLineLength=MIN_SEGMENT_FRACTION * diagonal,
                                maxLineGap=3)
    if found is None or len(found) == 0:
        return np.zeros((0, 4))
    return np.asarray(found, dtype=float).reshape(-1, 4)


def merge_thin_line_edges(segments: np.ndarray, max_gap_px: float = THIN_LINE_MAX_GAP_PX) -> np.ndarray:
    """Replace each pair of LSD segments that are the two edges of one thin line by the line's centre.

    LSD follows intensity edges, so a thin dark (or bright) line yields two anti-parallel segments a pixel or two
    to either side of it. Neither passes through the line's vanishing point: each is off by the half-width, and
    the fit, which scores segments by their angle to the vanishing point, then favours vanishing points pushed
    away (the bias is about ``half_width / distance`` radians per segment, enough to move a focal by several %).
    Pairs: anti-parallel within :data:`THIN_LINE_MAX_ANGLE_DEG`, each midpoint within ``max_gap_px`` of the other's
    line, overlapping over at least half of the shorter. The merged segment spans the union of the two.
    """
    n = len(segments)
    if n < 2:
        return segments
    p1, p2 = segments[:, :2], segments[:, 2:]
    mid = 0.5 * (p1 + p2)
    delta = p2 - p1
    length = np.hypot(delta[:, 0], delta[:, 1])
    unit = delta / np.maximum(length, 1e-12)[:, None]
    # Candidate pairs by spatial hashing on the line parameters (orientation modulo pi, signed distance from the
    # origin): the two edges of a thin line fall in the same or neighbouring cells. Not all n^2 pairs.
    max_angle = math.radians(THIN_LINE_MAX_ANGLE_DEG)
    theta = np.mod(np.arctan2(delta[:, 1], delta[:, 0]), math.pi)
    centred = mid - mid.mean(axis=0)
    rho = -np.sin(theta) * centred[:, 0] + np.cos(theta) * centred[:, 1]
    # Two lines within max_angle and max_gap_px of each other differ in rho by at most this much.
    rho_cell = max_gap_px + float(np.hypot(centred[:, 0], centred[:, 1]).max()) * max_angle
    index = np.arange(n)
    wrap = theta < max_angle  # near 0 they meet lines near pi, whose normal is reversed
    theta = np.concatenate([theta, theta[wrap] + math.pi])
    rho = np.concatenate([rho, -rho[wrap]])
    index = np.concatenate([index, index[wrap]])
    theta_bin = np.floor(theta / max_angle).astype(np.int64)
    rho_bin = np.floor(rho / rho_cell).astype(np.int64)
    rho_bin -= rho_bin.min() - 1
    span = int(rho_bin.max()) + 2
    key = theta_bin * span + rho_bin
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    firsts, seconds = [], []
    for d_theta, d_rho in ((0, 0), (0, 1), (1, -1), (1, 0), (1, 1)):
        target = key + d_theta * span + d_rho
        lo = np.searchsorted(sorted_key, target, side="left")
        hi = np.searchsorted(sorted_key, target, side="right")
        counts = hi - lo
        if counts.sum() == 0:
            continue
        owner = np.repeat(np.arange(len(key)), counts)
        position = np.repeat(lo, counts) + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
        firsts.append(index[owner])
        seconds.append(index[order[position]])
    if not firsts:
        return segments
    i, j = np.concatenate(firsts), np.concatenate(seconds)
    keep = i != j
    pairs = np.unique(np.stack([np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])], axis=1), axis=0)
    if len(pairs) == 0:
        return segments
    i, j = pairs[:, 0], pairs[:, 1]
    anti = np.sum(unit[i] * unit[j], axis=1) < -math.cos(max_angle)
    i, j = i[anti], j[anti]
    normal_i = np.stack([-unit[i, 1], unit[i, 0]], axis=1)
    normal_j = np.stack([-unit[j, 1], unit[j, 0]], axis=1)
    gap = mid[j] - mid[i]
    offset_ij = np.abs(np.sum(normal_i * gap, axis=1))  # j's midpoint off line i
    offset_ji = np.abs(np.sum(normal_j * gap, axis=1))
    along = np.sum(unit[i] * gap, axis=1)
    half_i, half_j = 0.5 * length[i], 0.5 * length[j]
    overlap = np.minimum(half_i, along + half_j) - np.maximum(-half_i, along - half_j)
    ok = (offset_ij < max_gap_px) & (offset_ji < max_gap_px) & (overlap > np.minimum(half_i, half_j))
    i, j, cost = i[ok], j[ok], (offset_ij + offset_ji)[ok]
    used = np.zeros(n, dtype=bool)
    merged = []
    for k in np.argsort(cost):  # greedy: closest pairs first, each segment in one pair at most
        a, b = int(i[k]), int(j[k])
        if used[a] or used[b]:
            continue
        used[a] = used[b] = True
        direction = unit[a] - unit[b]
        direction /= np.linalg.norm(direction)
        centre = 0.5 * (mid[a] + mid[b])
        t = (np.array([p1[a], p2[a], p1[b], p2[b]]) - centre) @ direction
        merged.append(np.concatenate([centre + t.min() * direction, centre + t.max() * direction]))
    rest = segments[~used]
    return np.concatenate([rest, np.array(merged)]) if merged else rest


def content_box(gray: np.ndarray) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: the part of a uint8 grey image inside a uniform frame (x1, y1 exclusive).

    A frame is a band of rows (columns) along a side, each nearly uniform (std below :data:`BORDER_MAX_STD`) and
    near black or white, at most :data:`BORDER_MAX_FRACTION` of the side: the black margin of a registered RGB-D
    frame (ScanNet, NYU), a scan's white margin. Its inner edge is the longest straight "line" in the photo and
    runs exactly along an image axis, which would make every camera look level.
    """
    height, width = gray.shape

    def band(lines: np.ndarray) -> int:
        count = 0
        limit = int(BORDER_MAX_FRACTION * lines.shape[0])
        for line in lines[:limit]:
            mean, std = float(line.mean()), float(line.std())
            if std > BORDER_MAX_STD or 40.0 < mean < 215.0:
                break
            count += 1
        return count

    g = gray.astype(np.float32)
    top, bottom = band(g), band(g[::-1])
    left, right = band(g.T), band(g.T[::-1])
    return left, top, width - right, height - bottom


def detect_segments(rgb, max_side_px: int = 640, min_length_fraction: float = MIN_SEGMENT_FRACTION) -> np.ndarray:
    """(N, 4) line segments ``x1 y1 x2 y2`` in photo pixels (CONVENTIONS.md coordinates), longest first.

    LSD runs on a grayscale copy downscaled with ``cv2.INTER_AREA`` so that its longest side is ``max_side_px``;
    the two edges of a thin line are merged into its centre line (:func:`merge_thin_line_edges`); segments
    shorter than ``min_length_fraction`` of that copy's diagonal (and than :data:`MIN_SEGMENT_PX`) are dropped;
    so are segments along the edge of the photo's content (its uniform frame, :func:`content_box`, or the
    image border); at most :data:`MAX_SEGMENTS` are kept.
    """
    gray = _gray_uint8(rgb)
    if gray is None or min(gray.shape) < 2:
        return np.zeros((0, 4))
    height, width = gray.shape
    scale = min(1.0, float(max_side_px) / max(height, width))
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    h_w, w_w = gray.shape
    raw = _raw_segments(gray)
    if len(raw) == 0:
        return raw
    raw = _drop_frame_edges(raw, content_box(gray))
    if len(raw) == 0:
        return raw
    # Pairs are only looked for among segments that could survive the length cut (after merging).
    lengths = np.hypot(raw[:, 2] - raw[:, 0], raw[:, 3] - raw[:, 1])
    min_length = max(MIN_SEGMENT_PX, min_length_fraction * math.hypot(w_w, h_w))
    keep = lengths >= 0.5 * min_length
    raw = raw[keep][np.argsort(-lengths[keep])][:3 * MAX_SEGMENTS]
    raw = merge_thin_line_edges(raw)
    lengths = np.hypot(raw[:, 2] - raw[:, 0], raw[:, 3] - raw[:, 1])
    keep = lengths >= min_length
    raw, lengths = raw[keep], lengths[keep]
    raw = raw[np.argsort(-lengths)][:MAX_SEGMENTS]
    # OpenCV: pixel centres at integers; CONVENTIONS.md: at i + 0.5. INTER_AREA scales the continuous coordinates.
    sx, sy = width / w_w, height / h_w
    return (raw + 0.5) * np.array([sx, sy, sx, sy])


def _drop_frame_edges(raw: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """Segments (OpenCV coordinates) minus those within :data:`BORDER_EDGE_PX` of an edge of the content ``box``
    along their whole length (both endpoints) and nearly parallel to it, and those outside it."""
    x0, y0, x1, y1 = box
    xa, ya, xb, yb = raw.T
    near_x = BORDER_EDGE_PX + 0.5 + BORDER_WIGGLE_FRACTION * (x1 - x0)
    near_y = BORDER_EDGE_PX + 0.5 + BORDER_WIGGLE_FRACTION * (y1 - y0)
    on_vertical = ((np.abs(xa - (x0 - 0.5)) < near_x) & (np.abs(xb - (x0 - 0.5)) < near_x)) | \
        ((np.abs(xa - (x1 - 0.5)) < near_x) & (np.abs(xb - (x1 - 0.5)) < near_x))
    on_horizontal = ((np.abs(ya - (y0 - 0.5)) < near_y) & (np.abs(yb - (y0 - 0.5)) < near_y)) | \
        ((np.abs(ya - (y1 - 0.5)) < near_y) & (np.abs(yb - (y1 - 0.5)) < near_y))
    outside = (np.minimum(xa, xb) < x0 - near_x) | (np.maximum(xa, xb) > x1 - 1 + near_x) | \
        (np.minimum(ya, yb) < y0 - near_y) | (np.maximum(ya, yb) > y1 - 1 + near_y)
    return raw[~(on_vertical | on_horizontal | outside)]


# ---------------------------------------------------------------------------------------------- geometry helpers


class _Lines:
    """Segments in normalized image coordinates ``(u - cx) / s``, ``(v - cy) / s``, ``s`` = half the long side."""

    def __init__(self, segments_px: np.ndarray, width_px: int, height_px: int, working_scale: float):
        self.center = np.array([0.5 * width_px, 0.5 * height_px])
        self.s = 0.5 * max(width_px, height_px)
        #: working pixels per normalized unit (residuals are in working pixels, where LSD measured).
        self.pixel = self.s * working_scale
        p1 = (segments_px[:, :2] - self.center) / self.s
        p2 = (segments_px[:, 2:] - self.center) / self.s
        self.mid = 0.5 * (p1 + p2)
        delta = p2 - p1
        self.length = np.hypot(delta[:, 0], delta[:, 1])
        unit = delta / self.length[:, None]
        # Unit-normal form n . p + c = 0 of each segment's line.
        self.lines = np.stack([-unit[:, 1], unit[:, 0], unit[:, 1] * self.mid[:, 0] - unit[:, 0] * self.mid[:, 1]],
                              axis=1)
        mx, my = self.mid[:, 0], self.mid[:, 1]
        self._den_coeffs = np.stack([np.ones_like(mx), -2.0 * mx, -2.0 * my, mx * mx + my * my], axis=1)
        self.n = len(self.length)

    def sines(self, vps: np.ndarray) -> np.ndarray:
        """(N, K) sine of the angle between each segment and the line from its midpoint to each of the (K, 3)
        homogeneous vanishing points (normalized coordinates; third coordinate 0 at infinity)."""
        vps = np.asarray(vps, dtype=float)
        numerator = np.abs(self.lines @ vps.T)
        q = np.stack([vps[:, 0] ** 2 + vps[:, 1] ** 2, vps[:, 2] * vps[:, 0], vps[:, 2] * vps[:, 1],
                      vps[:, 2] ** 2], axis=0)
        den = np.sqrt(np.maximum(self._den_coeffs @ q, 1e-24))
        return np.minimum(numerator / den, 1.0)

    def errors(self, vps: np.ndarray) -> np.ndarray:
        """(N, K) normalized error of each segment against each of the (K, 3) vanishing points: the larger of
        endpoint distance / :data:`INLIER_DISTANCE_PX` and angle sine / sin(:data:`INLIER_ANGLE_DEG`); an inlier
        has an error below 1."""
        sines = self.sines(vps)
        distance = (0.5 * self.pixel / INLIER_DISTANCE_PX) * self.length[:, None] * sines
        return np.maximum(distance, sines / math.sin(math.radians(INLIER_ANGLE_DEG)))

    def signed_residuals(self, index: np.ndarray, vp: np.ndarray) -> np.ndarray:
        """Distance (working pixels) of the endpoints of segments ``index`` from the line joining their midpoint to
        the homogeneous vanishing point ``vp`` (3,): half the length times the sine, signed."""
        numerator = self.lines[index] @ vp
        den = np.sqrt(np.maximum(self._den_coeffs[index] @ np.array(
            [vp[0] ** 2 + vp[1] ** 2, vp[2] * vp[0], vp[2] * vp[1], vp[2] ** 2]), 1e-24))
        return 0.5 * self.length[index] * self.pixel * numerator / den

    def stacked(self, groups: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        """The segments of ``groups`` (index arrays, one per direction, in order) gathered once for
        :func:`_stacked_residuals`."""
        order = np.concatenate(groups).astype(int)
        which = np.concatenate([np.full(len(g), k) for k, g in enumerate(groups)]).astype(int)
        return self.lines[order], self._den_coeffs[order], 0.5 * self.length[order] * self.pixel, which


def _stacked_residuals(stacked: tuple[np.ndarray, ...], rotation: np.ndarray, focal_n: float) -> np.ndarray:
    """:meth:`_Lines.signed_residuals` of every group of :meth:`_Lines.stacked` against the vanishing point of its
    direction (column ``k`` of ``rotation``), concatenated in the groups' order: one vectorised pass."""
    lines, den_coeffs, scale, which = stacked
    v = (rotation.T * np.array([focal_n, focal_n, 1.0]))[which]  # each segment's homogeneous vanishing point
    numerator = np.einsum("ij,ij->i", lines, v)
    q = np.stack([v[:, 0] ** 2 + v[:, 1] ** 2, v[:, 2] * v[:, 0], v[:, 2] * v[:, 1], v[:, 2] ** 2], axis=1)
    return scale * numerator / np.sqrt(np.maximum(np.einsum("ij,ij->i", den_coeffs, q), 1e-24))


def _vps(directions: np.ndarray, focal_n) -> np.ndarray:
    """Homogeneous vanishing points ``K d`` (normalized coordinates) of (..., 3) camera directions."""
    focal_n = np.asarray(focal_n, dtype=float)[..., None] if np.ndim(focal_n) else focal_n
    return np.concatenate([directions[..., :2] * focal_n, directions[..., 2:]], axis=-1)


def _normalize(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, 1e-300), norm[..., 0]


def _rodrigues(rotvec: np.ndarray) -> np.ndarray:
    theta = float(np.linalg.norm(rotvec))
    if theta < 1e-12:
        return np.eye(3)
    k = rotvec / theta
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    return np.eye(3) + math.sin(theta) * kx + (1.0 - math.cos(theta)) * (kx @ kx)


# ---------------------------------------------------------------------------------------------- RANSAC


def _hypotheses(lines: _Lines, focal_n: float | None, count: int, rng: np.random.Generator,
                focal_range_n: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """``(rotations (M, 3, 3), focals (M,))``: columns of each rotation are three orthogonal camera directions."""
    p = lines.length / lines.length.sum()
    idx = rng.choice(lines.n, size=(count, 4), p=p)
    ok = (idx[:, 0] != idx[:, 1]) & (idx[:, 2] != idx[:, 3]) & (idx[:, 2] != idx[:, 0]) & (idx[:, 2] != idx[:, 1])
    idx = idx[ok]
    l4 = lines.lines[idx]  # (M, 4, 3)
    v1 = np.cross(l4[:, 0], l4[:, 1])
    m = len(idx)
    lo, hi = focal_range_n
    if focal_n is None:
        # Two vanishing points (lines 0-1 and 2-3) and f^2 = -(v1 - c).(v2 - c) (Caprile & Torre 1990).
        v2 = np.cross(l4[:, 2], l4[:, 3])
        with np.errstate(divide="ignore", invalid="ignore"):
            f2 = -(v1[:, 0] * v2[:, 0] + v1[:, 1] * v2[:, 1]) / (v1[:, 2] * v2[:, 2])
        from_pair = np.isfinite(f2) & (f2 > lo * lo) & (f2 < hi * hi)
        focal = np.where(from_pair, np.sqrt(np.where(from_pair, f2, 1.0)),
                         np.exp(rng.uniform(math.log(lo), math.log(hi), size=m)))
    else:
        from_pair = np.zeros(m, dtype=bool)
        focal = np.full(m, focal_n)
    d1, n1 = _normalize(np.stack([v1[:, 0] / focal, v1[:, 1] / focal, v1[:, 2]], axis=1))
    # 2 lines + 1 line: the second direction lies in line 2's interpretation plane (normal K^T l) and is
    # orthogonal to the first.
    plane = np.stack([l4[:, 2, 0] * focal, l4[:, 2, 1] * focal, l4[:, 2, 2]], axis=1)
    d2, n2 = _normalize(np.cross(d1, plane))
    if focal_n is None:
        v2d, _ = _normalize(np.stack([v2[:, 0] / focal, v2[:, 1] / focal, v2[:, 2]], axis=1))
        v2d, _ = _normalize(v2d - np.sum(v2d * d1, axis=1, keepdims=True) * d1)
        d2 = np.where(from_pair[:, None], v2d, d2)
    d3 = np.cross(d1, d2)
    valid = (n1 > 1e-12) & (n2 > 1e-12) & np.all(np.isfinite(d3), axis=1)
    rotations = np.stack([d1, d2, d3], axis=2)[valid]
    return rotations, focal[valid]


def _score(lines: _Lines, rotations: np.ndarray, focals: np.ndarray, chunk: int = 256) -> np.ndarray:
    """(M,) MSAC score: inlier length times (1 - error^2) (:meth:`_Lines.errors`), best of the three directions."""
    scores = np.empty(len(rotations))
    for start in range(0, len(rotations), chunk):
        rot = rotations[start:start + chunk]
        directions = np.swapaxes(rot, 1, 2)  # (m, 3 directions, 3)
        vps = _vps(directions, focals[start:start + chunk, None]).reshape(-1, 3)
        best = lines.errors(vps).reshape(lines.n, -1, 3).min(axis=2)
        weight = np.maximum(0.0, 1.0 - best ** 2)
        scores[start:start + chunk] = lines.length @ weight
    return scores


def _assign(lines: _Lines, rotation: np.ndarray, focal_n: float, gate: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """``(family (N,) in 0..2 or -1, normalized error to it (N,))`` for the columns of ``rotation``; segments with
    an error above ``gate`` are clutter (-1)."""
    errors = lines.errors(_vps(rotation.T, focal_n))
    family = np.argmin(errors, axis=1)
    best = errors[np.arange(lines.n), family]
    return np.where(best < gate, family, -1), best


# ---------------------------------------------------------------------------------------------- refinement


@dataclass
class _Fit:
    rotation: np.ndarray  # columns: directions
    focal_n: float
    family: np.ndarray
    focal_rel_std: float
    rms_px: float


def _refine(lines: _Lines, rotation: np.ndarray, focal_n: float, free_focal: bool, focal_range_n,
            rounds: int = 3) -> _Fit:
    """Robust least squares over the rotation (and log focal) of the endpoint distances of each family's inliers."""
    for _ in range(rounds):
        family, _ = _assign(lines, rotation, focal_n, gate=1.0)
        groups = [np.flatnonzero(family == k) for k in range(3)]
        if sum(len(g) for g in groups) < 4:
            break
        base_rotation, base_focal = rotation, focal_n

        stacked = lines.stacked(groups)

        def residuals(x, base_rotation=base_rotation, base_focal=base_focal, stacked=stacked):
            f = base_focal * math.exp(x[3]) if free_focal else base_focal
            return _stacked_residuals(stacked, _rodrigues(x[:3]) @ base_rotation, f)

        x0 = np.zeros(4 if free_focal else 3)
        lower = upper = None
        if free_focal:
            lower = np.array([-np.inf] * 3 + [math.log(focal_range_n[0] / base_focal)])
            upper = np.array([np.inf] * 3 + [math.log(focal_range_n[1] / base_focal)])
            x0[3] = float(np.clip(0.0, lower[3] + 1e-9, upper[3] - 1e-9))
        x = cauchy_least_squares(residuals, x0, LOSS_SCALE_PX, lower, upper, max_nfev=60)
        rotation = _rodrigues(x[:3]) @ base_rotation
        u, _, vt = np.linalg.svd(rotation)  # keep it exactly orthonormal
        rotation = u @ vt
        if free_focal:
            focal_n = base_focal * math.exp(x[3])
    family, _ = _assign(lines, rotation, focal_n)
    groups = [np.flatnonzero(family == k) for k in range(3)]

    stacked = lines.stacked(groups)

    def inlier_residuals(x):
        return _stacked_residuals(stacked, _rodrigues(x[:3]) @ rotation, focal_n * math.exp(x[3]))

    residuals = inlier_residuals(np.zeros(4))
    rms = float(np.sqrt(np.mean(residuals ** 2))) if len(residuals) else math.inf
    rel_std = _focal_rel_std(inlier_residuals, rms) if len(residuals) > 4 else math.inf
    return _Fit(rotation, float(focal_n), family, rel_std, rms)


def cauchy_least_squares(residuals, x0: np.ndarray, f_scale: float, lower=None, upper=None, max_nfev: int = 60,
                         step: float = 1.5e-8) -> np.ndarray:
    """The ``x`` near ``x0`` (within ``lower`` / ``upper``, if given) minimising the Cauchy loss
    ``sum(log1p((residuals(x) / f_scale) ** 2))``: Levenberg-Marquardt on iteratively reweighted least squares
    (weights ``1 / (1 + (r / f_scale) ** 2)``), forward-difference Jacobian (as scipy's default), at most
    ``max_nfev`` evaluations outside the Jacobians. The objective of scipy's ``least_squares(loss="cauchy")``, for
    a handful of parameters, without importing ``scipy.optimize`` (a third of a second) into every build."""
    x = np.asarray(x0, dtype=float).copy()
    lower = np.full(len(x), -np.inf) if lower is None else np.asarray(lower, dtype=float)
    upper = np.full(len(x), np.inf) if upper is None else np.asarray(upper, dtype=float)
    x = np.clip(x, lower, upper)

    def cost_of(r: np.ndarray) -> float:
        return float(np.sum(np.log1p((r / f_scale) ** 2)))

    r = residuals(x)
    cost, evaluations, damping = cost_of(r), 1, 1e-3
    identity = np.eye(len(x))
    while evaluations < max_nfev:
        columns = []
        for i, e in enumerate(identity):  # a step that would leave the bounds is taken the other way
            h = step * max(1.0, abs(float(x[i])))
            h = -h if x[i] + h > upper[i] else h
            columns.append((residuals(x + h * e) - r) / h)
        jac = np.stack(columns, axis=1)
        weight = 1.0 / (1.0 + (r / f_scale) ** 2)
        gradient = jac.T @ (weight * r)
        hessian = jac.T @ (weight[:, None] * jac)
        improved = False
        while evaluations < max_nfev:
            try:
                delta = np.linalg.solve(hessian + damping * (np.diag(np.diag(hessian)) + 1e-12 * identity),
                                        -gradient)
            except np.linalg.LinAlgError:
                break
            trial = np.clip(x + delta, lower, upper)
            r_trial = residuals(trial)
            evaluations += 1
            trial_cost = cost_of(r_trial)
            if trial_cost < cost:
                converged = cost - trial_cost <= 1e-12 * max(cost, 1.0) or np.max(np.abs(trial - x)) <= 1e-10
                x, r, cost, damping = trial, r_trial, trial_cost, max(damping * 0.1, 1e-12)
                improved = True
                break
            damping *= 10.0
            if damping > 1e12:
                break
        if not improved or converged:
            break
    return x


def _focal_rel_std(inlier_residuals, rms_px: float) -> float:
    """Standard error of log(focal) from the Gauss-Newton covariance of the inlier fit (rotation and focal free),
    with a noise level of at least :data:`NOISE_FLOOR_PX` (LSD's own localization error)."""
    step = 1e-6
    jac = np.stack([(inlier_residuals(step * e) - inlier_residuals(-step * e)) / (2 * step) for e in np.eye(4)],
                   axis=1)
    try:
        cov = np.linalg.inv(jac.T @ jac) * max(rms_px, NOISE_FLOOR_PX) ** 2
    except np.linalg.LinAlgError:
        return math.inf
    return math.sqrt(cov[3, 3]) if cov[3, 3] > 0 else math.inf


def _search(lines: _Lines, focal_n: float | None, focal_range_n, rng: np.random.Generator,
            keep: int = 4) -> list[tuple[_Fit, float]]:
    """RANSAC, then refinement of the best distinct hypotheses: up to ``keep`` refined fits with their MSAC
    scores, best first (the best fit need not say which of its directions is gravity: :mod:`.attitude`)."""
    count = HYPOTHESES_FREE_FOCAL if focal_n is None else HYPOTHESES_FIXED_FOCAL
    rotations, focals = _hypotheses(lines, focal_n, count, rng, focal_range_n)
    if len(rotations) == 0:
        return []
    scores = _score(lines, rotations, focals)
    order = np.argsort(-scores)
    refined: list[tuple[_Fit, float]] = []
    tried: list[np.ndarray] = []
    for i in order[:40]:
        rotation = rotations[i]
        # Skip hypotheses equivalent (same three axes up to order and sign) to one already refined.
        if any(_same_axes(rotation, other) for other in tried):
            continue
        tried.append(rotation)
        fit = _refine(lines, rotation, float(focals[i]), focal_n is None, focal_range_n)
        if not any(_same_axes(fit.rotation, other.rotation) for other, _ in refined):
            refined.append((fit, float(_score(lines, fit.rotation[None], np.array([fit.focal_n]))[0])))
        if len(tried) >= keep + 2 or len(refined) >= keep:
            break
    return sorted(refined, key=lambda pair: -pair[1])


def _same_axes(a: np.ndarray, b: np.ndarray, tolerance_deg: float = 2.0) -> bool:
    """Whether two rotations have the same three axes up to order and sign."""
    return bool(np.all(np.abs(a.T @ b).max(axis=0) > math.cos(math.radians(tolerance_deg))))


# ---------------------------------------------------------------------------------------------- attitude


def _free_direction(lines: _Lines, index: np.ndarray, focal_n: float) -> np.ndarray | None:
    """The direction that best fits the interpretation planes of segments ``index`` alone (length-weighted)."""
    if len(index) < 2:
        return None
    normals = np.stack([lines.lines[index, 0] * focal_n, lines.lines[index, 1] * focal_n, lines.lines[index, 2]],
                       axis=1)
    normals, _ = _normalize(normals)
    _, _, vt = np.linalg.svd(normals * lines.length[index, None])
    return vt[-1]


# ---------------------------------------------------------------------------------------------- main


def estimate_manhattan(rgb: np.ndarray, focal_px: float | None = None, max_side_px: int = 640,
                       evidence=None) -> ManhattanEstimate | None:
    """Focal, pitch, roll and the room's yaw of a photo of a Manhattan room, from its straight lines.

    ``rgb``: the photo (H, W, 3) uint8 after EXIF rotation (grayscale, RGBA and float images are accepted).
    ``focal_px``: a known focal length in pixels (EXIF, user), or None to estimate it. ``max_side_px``: the longest
    side of the copy the line detector sees. ``evidence``: other cues on gravity, a callable ``(ups (M, 3) in
    the camera frame, focal_px) -> (M,) log likelihoods`` added to each attitude hypothesis's score (the objects'
    boxes, :meth:`.objects.ObjectCue.log_likelihood`). Returns None (never an exception) when the photo has too
    few lines;
    raises ValueError only for a ``focal_px`` that is not a positive finite number.
    """
    if focal_px is not None and not (math.isfinite(focal_px) and focal_px > 0):
        raise ValueError(f"focal_px must be a positive finite number, not {focal_px!r}")
    image = np.asarray(rgb)
    if image.ndim < 2 or min(image.shape[:2]) < 16:
        return None
    try:
        segments = detect_segments(image, max_side_px)
        if len(segments) < MIN_SEGMENTS:
            return None
        with np.errstate(all="ignore"):
            return _estimate(segments, image.shape[1], image.shape[0], focal_px, max_side_px, evidence)
    except (cv2.error, np.linalg.LinAlgError, FloatingPointError):
        # Degenerate geometry (all segments through one point, ...): no estimate rather than an exception.
        return None


def _families(fit: _Fit, vertical: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``(counts (3,), directions (3, 3) rows, horizontal indices)`` of a fit whose direction ``vertical`` is
    gravity."""
    counts = np.array([(fit.family == k).sum() for k in range(3)])
    return counts, fit.rotation.T, [k for k in range(3) if k != vertical]


@dataclass
class _Choice:
    fit: _Fit
    vertical: int
    up: np.ndarray
    agreement: float
    runner_up: attitude.AttitudeHypothesis | None
    log_odds: float
    focal_n_averaged: float  # the fits' focals averaged (in log) by their posterior weights
    focal_log_spread: float  # the weighted spread of the fits' log focals


def _choose_vertical(fits: list[tuple[_Fit, float]], prior_focal_n: float | None = None, evidence=None,
                     pixels_per_unit: float = 1.0) -> _Choice | None:
    """The fit, its gravity direction and sign of highest posterior (:mod:`.attitude`): every axis of every fit
    with either sign is a hypothesis; fits with a free focal also pay its prior (:func:`attitude.focal_log_prior`
    around ``prior_focal_n``) and ``evidence`` (see :func:`estimate_manhattan`; focals are ``focal_n *
    pixels_per_unit`` pixels). None when no fit has two families of lines."""
    hypotheses = []
    best_score = max((score for _, score in fits), default=0.0)
    for index, (fit, score) in enumerate(fits):
        counts = np.array([(fit.family == k).sum() for k in range(3)])
        if np.count_nonzero(counts >= 2) < 2 or best_score <= 0:
            continue
        line_evidence = attitude.LINE_SCORE_WEIGHT * (score / best_score - 1.0)
        if prior_focal_n is not None:
            line_evidence += attitude.focal_log_prior(fit.focal_n / prior_focal_n)
        ups = np.concatenate([fit.rotation.T, -fit.rotation.T])  # axis k, then axis k reversed
        other = np.zeros(6) if evidence is None else np.asarray(evidence(ups, fit.focal_n * pixels_per_unit))
        for row, up in enumerate(ups):
            pitch, roll = frames.attitude_from_up_in_camera(up)
            hypotheses.append(attitude.AttitudeHypothesis(
                up, pitch, roll, line_evidence + float(other[row]) + attitude.attitude_log_prior(pitch, roll),
                index, row % 3))
    if not hypotheses:
        return None
    best, agreement, runner_up = attitude.choose(hypotheses)
    log_odds = best.log_posterior - runner_up.log_posterior if runner_up is not None else math.inf
    # Model averaging of the focal: fits that explain the lines about equally well but disagree on the focal
    # (common on real photos) each count by their posterior mass, not winner takes all.
    logs = np.array([h.log_posterior for h in hypotheses])
    weights = np.exp(logs - logs.max())
    log_focals = np.log([fits[h.fit_index][0].focal_n for h in hypotheses])
    mean = float(np.sum(weights * log_focals) / weights.sum())
    spread = float(math.sqrt(np.sum(weights * (log_focals - mean) ** 2) / weights.sum()))
    return _Choice(fits[best.fit_index][0], best.axis, best.up_cam, agreement, runner_up, log_odds,
                   math.exp(mean), spread)


def _estimate(segments: np.ndarray, width: int, height: int, focal_px: float | None,
              max_side_px: int, evidence=None) -> ManhattanEstimate | None:
    """:func:`estimate_manhattan` once the segments are found."""
    working_scale = min(1.0, float(max_side_px) / max(height, width))
    lines = _Lines(segments, width, height, working_scale)

    notes: list[str] = []
    hfov_lo, hfov_hi = FOCAL_HFOV_RANGE_DEG
    focal_range_n = (1.0 / math.tan(math.radians(0.5 * hfov_hi)), 1.0 / math.tan(math.radians(0.5 * hfov_lo)))
    rng = np.random.default_rng(SEED)
    # when the focal is neither given nor observable: camera.py's default (a phone's main camera)
    default_focal_px = focal_px_from_35mm(DEFAULT_FOCAL_35MM_MM, width, height)

    if focal_px is not None:
        choice = _choose_vertical(_search(lines, focal_px / lines.s, focal_range_n, rng), None, evidence, lines.s)
        focal_source, focal_out = "given", float(focal_px)
    else:
        choice = _choose_vertical(_search(lines, None, focal_range_n, rng), default_focal_px / lines.s, evidence,
                                  lines.s)
        focal_source, focal_out = "none", None
    if choice is None:
        return None  # one direction (or none) is not a room
    fit, vertical = choice.fit, choice.vertical
    counts, directions, horizontal = _families(fit, vertical)
    finite_sin = math.sin(math.radians(FINITE_VP_MIN_ANGLE_DEG))

    if focal_px is None:
        finite_h = [k for k in horizontal if counts[k] >= 2 and abs(directions[k, 2]) >= finite_sin]
        vertical_finite = counts[vertical] >= 2 and abs(directions[vertical, 2]) >= math.sin(
            math.radians(VERTICAL_FINITE_MIN_DEG))
        pinned = fit.focal_rel_std <= MAX_FOCAL_REL_STD
        if pinned and (len(finite_h) == 2 or (vertical_finite and finite_h)):
            focal_source, focal_out = "vanishing_points", fit.focal_n * lines.s
            which = "two finite horizontal" if len(finite_h) == 2 else "the vertical and a horizontal"
            spread = math.hypot(fit.focal_rel_std, choice.focal_log_spread)
            if abs(math.log(choice.focal_n_averaged / fit.focal_n)) > max(fit.focal_rel_std, FOCAL_AVERAGE_MIN_SHIFT):
                # other fits nearly as good disagree: the averaged focal, and the attitude found again with it
                focal_out = choice.focal_n_averaged * lines.s
                notes.append(f"fits of the lines nearly as good as the best ({fit.focal_n * lines.s:.0f} px) "
                             f"disagree on the focal: their average {focal_out:.0f} px (+-{100 * spread:.0f}%)")
                # the same fit, its rotation refined at that focal (a new search could read the lines otherwise)
                fit = _refine(lines, fit.rotation, choice.focal_n_averaged, False, focal_range_n)
                refit = _choose_vertical([(fit, 1.0)], None, evidence, lines.s)
                if refit is not None:
                    choice = dataclasses.replace(refit, agreement=choice.agreement, runner_up=choice.runner_up,
                                                 log_odds=choice.log_odds)
                    fit, vertical = choice.fit, choice.vertical
                    counts, directions, horizontal = _families(fit, vertical)
            else:
                notes.append(f"focal {focal_out:.0f} px from {which} vanishing points (+-{100 * spread:.1f}%)")
        else:
            why = ("one-point perspective: a horizontal direction is parallel to the image plane"
                   if any(abs(directions[k, 2]) < finite_sin for k in horizontal)
                   else "the horizontal vanishing points do not pin the focal down")
            weak = choice.focal_n_averaged * lines.s
            if plausible_focal(weak, width) and abs(math.log(weak / default_focal_px)) > FOCAL_AVERAGE_MIN_SHIFT:
                # a step before the default: the fits' focals averaged by their posterior (the focal prior
                # included) still say something, such as "longer than a phone's", which a crop is
                focal_source, focal_out, target_px = "weak", weak, weak
                notes.append(f"{why}: the lines give the focal only weakly, {weak:.0f} px (their fits averaged, "
                             f"+-{100 * choice.focal_log_spread:.0f}%, pulled towards the {DEFAULT_FOCAL_35MM_MM:g} "
                             f"mm-equivalent default of {default_focal_px:.0f} px)")
            else:
                target_px = default_focal_px
                notes.append(f"{why}; focal not observable, attitude computed with the default "
                             f"{DEFAULT_FOCAL_35MM_MM:g} mm-equivalent focal ({default_focal_px:.0f} px)")
            if pinned:
                notes.append(f"the vertical vanishing point, too close to infinity to trust, suggests f = "
                             f"{fit.focal_n * lines.s:.0f} px (+-{100 * fit.focal_rel_std:.1f}%): not used")
            choice = _choose_vertical(_search(lines, target_px / lines.s, focal_range_n,
                                              np.random.default_rng(SEED)), None, evidence, lines.s)
            if choice is None:
                return None
            fit, vertical = choice.fit, choice.vertical
            counts, directions, horizontal = _families(fit, vertical)
    elif all(abs(directions[k, 2]) >= finite_sin for k in horizontal) and all(counts[k] >= 2 for k in horizontal):
        free = _refine(lines, fit.rotation, fit.focal_n, True, focal_range_n, rounds=1)
        if free.focal_rel_std <= MAX_FOCAL_REL_STD:
            notes.append(f"given focal {focal_px:.0f} px; the lines alone suggest {free.focal_n * lines.s:.0f} px")

    if counts[vertical] < 2:
        notes.append("no vertical lines: gravity comes from the two horizontal directions (and the focal)")
    up = choice.up
    off_deg = math.degrees(math.acos(min(1.0, abs(up[1]))))
    if off_deg > VERTICAL_FAR_OFF_DEG:
        notes.append(f"gravity is {off_deg:.0f} deg from the image's vertical axis: the photo may be turned (EXIF "
                     "orientation) or the camera strongly tilted")
    pitch, roll = frames.attitude_from_up_in_camera(up)
    if pitch > math.radians(UPWARD_PITCH_NOTE_DEG):
        notes.append(f"the camera looks up by {math.degrees(pitch):.0f} deg: unusual for a room photo; if the photo "
                     "is upside down, lines alone cannot tell")
    if choice.runner_up is not None and choice.log_odds < AMBIGUOUS_LOG_ODDS:
        other = choice.runner_up
        notes.append(f"the lines also fit another attitude (pitch {math.degrees(other.pitch_rad):.0f}, roll "
                     f"{math.degrees(other.roll_rad):.0f} deg; odds {math.exp(choice.log_odds):.1f} : 1 against it)")
    world_from_camera = frames.world_from_camera_from_attitude(pitch, roll, 0.0)
    rotation_wc = world_from_camera[:3, :3]

    yaws = []
    for k in horizontal:
        w = rotation_wc @ directions[k]
        yaws.append(attitude.wrap_quarter(math.atan2(w[0], w[2])))
    # Average the two (they agree: the fit is an exact rotation) on the circle of period pi/2.
    room_yaw = attitude.wrap_quarter(
        0.25 * math.atan2(sum(math.sin(4 * a) for a in yaws), sum(math.cos(4 * a) for a in yaws)))
    axis_a = rotation_wc.T @ (frames.rot_y(room_yaw) @ np.array([1.0, 0.0, 0.0]))
    axis_b = rotation_wc.T @ (frames.rot_y(room_yaw) @ np.array([0.0, 0.0, 1.0]))
    vp_directions = np.stack([rotation_wc.T @ np.array([0.0, 1.0, 0.0]), axis_a, axis_b])

    # Relabel the families: 0 vertical, 1 A, 2 B.
    label = np.full(3, -1)
    label[vertical] = 0
    for k in horizontal:
        label[k] = 1 if abs(directions[k] @ axis_a) >= abs(directions[k] @ axis_b) else 2
    family = np.where(fit.family >= 0, label[np.maximum(fit.family, 0)], -1)

    confidence = _confidence(lines, fit, vertical, horizontal, off_deg)
    if focal_source == "none":
        confidence *= 0.8
    focal_confidence = confidence
    # an attitude the lines fit no better than another is a coin toss: say so in the confidence
    confidence *= choice.agreement
    return ManhattanEstimate(
        focal_px=focal_out,
        focal_source=focal_source,
        pitch_rad=float(pitch),
        roll_rad=float(roll),
        room_yaw_rad=float(room_yaw),
        confidence=float(confidence),
        vp_directions_cam=vp_directions,
        segments_px=segments,
        segment_family=family.astype(int),
        notes=tuple(notes),
        attitude_agreement=float(choice.agreement),
        alternative_up_cam=None if choice.runner_up is None else choice.runner_up.up_cam,
        alternative_log_odds=float(choice.log_odds),
        focal_confidence=float(focal_confidence),
    )


def _confidence(lines: _Lines, fit: _Fit, vertical: int, horizontal: list[int], off_deg: float) -> float:
    """0..1: inlier support x evidence x resolution x coverage of the families x residual x orthogonality of the
    families' independent fits x a penalty when the vertical is far from the image's vertical axis."""
    inlier = fit.family >= 0
    # Half of the line length explained by the three directions is full support (rooms have clutter).
    support = min(1.0, float(lines.length[inlier].sum() / lines.length.sum()) / 0.5)
    # A picture frame on a wall (8 segments) is not much evidence; a room gives 50 to 250 inliers.
    evidence = min(1.0, int(inlier.sum()) / 20.0)
    # Below ~320 pixels the segments are short and a pixel is a large angle: the estimates degrade fast.
    resolution = min(1.0, 2.0 * lines.pixel / FULL_CONFIDENCE_SIDE_PX)
    counts = np.array([(fit.family == k).sum() for k in range(3)])
    n_h = sorted(int(counts[k]) for k in horizontal)
    coverage = ((0.6 + 0.4 * min(1.0, counts[vertical] / 4.0)) * min(1.0, n_h[1] / 4.0)
                * (0.75 + 0.25 * min(1.0, n_h[0] / 3.0)))
    # Inlier endpoint distances: a few tenths of a pixel for clean straight edges; lens distortion or bent
    # "lines" raise them toward the gate (INLIER_DISTANCE_PX).
    residual = math.exp(-((fit.rms_px / (0.6 * INLIER_DISTANCE_PX)) ** 2)) if math.isfinite(fit.rms_px) else 0.3
    residual = max(residual, 0.3)
    # Orthogonality: fit each well-supported family's direction alone; how much better does it explain its
    # segments than the orthogonal frame's direction, in units of the noise? (Not the angle it moved: a family of
    # nearly parallel segments, as in a narrow view, pins its direction down only weakly, and a free fit wanders
    # far at no gain; a family that is really not orthogonal to the others gains a lot.)
    noise = max(fit.rms_px, NOISE_FLOOR_PX)
    worst = 0.0
    for k in range(3):
        index = np.flatnonzero(fit.family == k)
        if len(index) >= 4:
            alone = _free_direction(lines, index, fit.focal_n)
            if alone is not None:
                tied = lines.signed_residuals(index, _vps(fit.rotation[:, k], fit.focal_n))
                free = lines.signed_residuals(index, _vps(alone, fit.focal_n))
                gain = (float(tied @ tied) - float(free @ free)) / noise ** 2
                worst = max(worst, gain - ORTHOGONALITY_FREE_DOF)
    orthogonality = math.exp(-max(0.0, worst) / ORTHOGONALITY_GAIN_SCALE)
    tilt = 1.0 if off_deg <= VERTICAL_FAR_OFF_DEG else 0.5
    return float(np.clip(support * evidence * resolution * coverage * residual * orthogonality * tilt, 0.0, 1.0))
