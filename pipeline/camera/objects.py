"""What the objects' 2D boxes say about the camera: floor-standing furniture must stand on the floor, below the
horizon, and be as tall as its kind.

For an attitude (and focal) hypothesis, each box of a floor-standing category with both its top and bottom in view
is read as an object whose bottom edge touches the floor: the ray through the middle of the bottom edge meets the
floor (the camera at height 1), and the ray through the middle of the top edge, followed to the same horizontal
distance, gives the object's height in units of the camera height. Its log ratio to the category's typical height
(:mod:`pipeline.priors`) is a residual; the camera height is profiled out over a hand-held prior, and a Cauchy loss
keeps a hidden bottom (a nightstand behind a bed) or a wrong prior (a wall cabinet) from carrying the vote. A
bottom above the horizon costs as much as a four-sigma outlier.

A wrong pitch makes a sofa three metres tall or ten centimetres flat, so a few boxes discriminate between
attitudes that the lines fit equally well (a one-point view of a sofa: its long horizontal edges fix the roll but
not the pitch) and give an attitude where there are no lines at all (:meth:`ObjectCue.best_up`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import frames
from ..records import Detection
from . import attitude

#: A box side within this fraction of the photo's border is cut by it: its top or bottom is not seen.
CUT_FRACTION = 0.015
#: Spread (log units) added to the category's height spread: the top edge in the photo is the object's far top
#: edge, seen from above, and a model's box is a few pixels off.
MEASUREMENT_LOG_SPREAD = 0.15
#: Camera height prior (relative units profiled out): log-normal around 1.4 m with this spread.
CAMERA_HEIGHT_LOG_SPREAD = 0.15
#: Cost (nats) of an object that cannot stand on the floor under a hypothesis (bottom above the horizon, top
#: below the floor): a four-sigma outlier under the Cauchy loss.
IMPOSSIBLE_COST = math.log1p(4.0 ** 2)
#: Bottom rays must look at least this far below the horizon (degrees).
BELOW_HORIZON_DEG = 1.0
#: Grid of the attitude search from the objects alone (degrees).
PITCH_GRID_DEG = (-75.0, 40.0, 1.0)
ROLL_GRID_DEG = (-20.0, 20.0, 1.0)
#: The search needs at least this many usable boxes.
MIN_OBJECTS = 2
#: At most this many boxes vote (the largest): plenty for an attitude, and the work stays bounded whatever the
#: grounding holds (a hostile answer of thousands of boxes).
MAX_OBJECTS = 40
#: Attitudes of the grid evaluated at a time (memory: hypotheses x boxes x camera heights).
GRID_CHUNK = 512
#: The grid's best point is refined on finer grids around it, of these steps (degrees) and 2 x this + 1 points a
#: side (each covers the cell of the grid before it).
REFINE_STEPS_DEG = (0.25, 0.05, 0.01)
REFINE_HALF_WIDTH = 4


@dataclass(frozen=True)
class ObjectCue:
    """The usable boxes of a photo: ``bottom_uv``, ``top_uv`` (N, 2) pixels of the middles of their bottom and top
    edges, ``log_height_m`` (N,) the log of their category's typical height, ``log_spread`` (N,) its spread with
    the measurement's, ``labels`` (N,) and their prior ``categories`` (N,)."""

    bottom_uv: np.ndarray
    top_uv: np.ndarray
    log_height_m: np.ndarray
    log_spread: np.ndarray
    labels: tuple[str, ...]
    width_px: int
    height_px: int
    categories: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.labels)

    def log_likelihood(self, up_cams: np.ndarray, focal_px: float) -> np.ndarray:
        """(M,) log likelihood (nats, up to a constant) of the boxes for (M, 3) up directions in the OpenCV
        camera frame, with the principal point at the centre and this focal."""
        up = np.asarray(up_cams, dtype=float).reshape(-1, 3)
        if self.count == 0:
            return np.zeros(len(up))
        k = frames.intrinsics_matrix(focal_px, focal_px, 0.5 * self.width_px, 0.5 * self.height_px)
        bottom = frames.pixel_rays(k, self.bottom_uv)  # (N, 3), z = 1
        top = frames.pixel_rays(k, self.top_uv)
        # heights along up: the floor is at -1 (camera height 1)
        b_up, t_up = bottom @ up.T, top @ up.T  # (N, M)
        b_h = np.sqrt(np.maximum(np.sum(bottom ** 2, axis=1)[:, None] - b_up ** 2, 1e-12))  # horizontal length
        t_h = np.sqrt(np.maximum(np.sum(top ** 2, axis=1)[:, None] - t_up ** 2, 1e-12))
        below = -b_up / np.sqrt(b_up ** 2 + b_h ** 2) > math.sin(math.radians(BELOW_HORIZON_DEG))
        with np.errstate(divide="ignore", invalid="ignore"):
            distance = np.where(below, 1.0 / -b_up, np.nan) * b_h  # horizontal distance of the floor contact
            height = 1.0 + distance / t_h * t_up  # the top ray at that distance, above the floor
        possible = below & (height > 0.02)
        residual = np.where(possible, np.log(np.where(possible, height, 1.0)), 0.0) - self.log_height_m[:, None]
        # profile the camera height: log h on a grid around the hand-held prior
        log_h = math.log(1.4) + CAMERA_HEIGHT_LOG_SPREAD * np.linspace(-3.0, 3.0, 25)
        z = (residual[None, :, :] + log_h[:, None, None]) / self.log_spread[None, :, None]  # (H, N, M)
        cost = np.where(possible[None], np.log1p(z ** 2), IMPOSSIBLE_COST).sum(axis=1)
        cost += 0.5 * ((log_h - math.log(1.4)) / CAMERA_HEIGHT_LOG_SPREAD)[:, None] ** 2
        return -cost.min(axis=0)

    def best_up(self, focal_px: float) -> tuple[np.ndarray, float] | None:
        """``(up_cam (3,), log posterior)``: the attitude the boxes and the attitude prior favour, from a grid
        then a local refinement; None with fewer than :data:`MIN_OBJECTS` boxes."""
        if self.count < MIN_OBJECTS:
            return None
        pitches, rolls = np.meshgrid(np.radians(np.arange(*PITCH_GRID_DEG)), np.radians(np.arange(*ROLL_GRID_DEG)),
                                     indexing="ij")
        best, score = self._best_of(pitches.ravel(), rolls.ravel(), focal_px)
        for step_deg in REFINE_STEPS_DEG:  # ever finer grids around the best point
            offsets = np.radians(step_deg * np.arange(-REFINE_HALF_WIDTH, REFINE_HALF_WIDTH + 1))
            d_pitch, d_roll = np.meshgrid(offsets, offsets, indexing="ij")
            candidate, candidate_score = self._best_of(best[0] + d_pitch.ravel(), best[1] + d_roll.ravel(), focal_px)
            if candidate_score >= score:
                best, score = candidate, candidate_score
        return frames.up_in_camera_from_attitude(best[0], best[1]), float(score)

    def _best_of(self, pitches: np.ndarray, rolls: np.ndarray, focal_px: float) -> tuple[np.ndarray, float]:
        """The (pitch, roll) of these with the highest log posterior, and that posterior."""
        ups = frames.up_in_camera_from_attitudes(pitches, rolls)
        likelihood = np.concatenate([self.log_likelihood(ups[start:start + GRID_CHUNK], focal_px)
                                     for start in range(0, len(ups), GRID_CHUNK)])  # bounded memory
        scores = likelihood + attitude.attitude_log_prior(pitches, rolls)
        best = int(np.argmax(scores))
        return np.array([pitches[best], rolls[best]]), float(scores[best])


def object_cue(detections: tuple[Detection, ...] | list[Detection], width_px: int, height_px: int) -> ObjectCue:
    """The boxes of ``detections`` that can vote: floor-standing categories with a known height, their top and
    bottom in view (not cut by the photo's border); the :data:`MAX_OBJECTS` largest of them."""
    from ..priors import lookup

    bottoms, tops, heights, spreads, labels, categories = [], [], [], [], [], []
    def area(detection: Detection) -> float:
        x1, y1, x2, y2 = detection.box_xyxy_px
        return (x2 - x1) * (y2 - y1)

    by_area = sorted(detections, key=area, reverse=True)
    for detection in by_area:
        if len(labels) >= MAX_OBJECTS:
            break
        prior = lookup(detection.label)
        if prior.category == "unknown" or prior.support != "floor" or prior.elevation_m > 0:
            continue
        if detection.box_xyxy_source != "bbox_2d":
            continue
        x1, y1, x2, y2 = detection.box_xyxy_px
        if y1 <= CUT_FRACTION * height_px or y2 >= (1.0 - CUT_FRACTION) * height_px or y2 - y1 < 4:
            continue
        middle = 0.5 * (x1 + x2)
        bottoms.append((middle, y2))
        tops.append((middle, y1))
        heights.append(math.log(prior.size_m[1]))
        spreads.append(math.hypot(prior.spreads[1], MEASUREMENT_LOG_SPREAD))
        labels.append(detection.label)
        categories.append(prior.category)
    return ObjectCue(np.array(bottoms, dtype=float).reshape(-1, 2), np.array(tops, dtype=float).reshape(-1, 2),
                     np.array(heights), np.array(spreads), tuple(labels), int(width_px), int(height_px),
                     tuple(categories))
