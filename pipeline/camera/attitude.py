"""Which way is up: the prior on a room photo's attitude, and the choice among attitude hypotheses.

A vanishing-point fit gives three orthogonal directions but does not say which is gravity, nor its sign. The old
rule ("the direction closest to the image's vertical axis") fails exactly where it matters: a camera pitched down
by more than 45 degrees sees the floor's receding lines more upright than the walls' verticals. Here every axis of
every fit, with either sign, is a hypothesis, scored by

* the line evidence of its fit (the MSAC inlier length relative to the best fit's, :data:`LINE_SCORE_WEIGHT`),
* the prior on the focal where the lines leave it free (:func:`focal_log_prior`),
* a prior on how people hold cameras in rooms (:func:`attitude_log_prior`): roll near zero (Laplace, scale
  :data:`ROLL_SCALE_DEG`), pitch broad around a slight downward look (Gaussian :data:`PITCH_MEAN_DEG`,
  :data:`PITCH_SIGMA_DEG`), nothing beyond :data:`PITCH_LIMIT_DEG`.

The posterior mass near the winner (within :data:`AGREE_DEG`) is what its confidence reports: a photo whose lines
fit two attitudes equally well gets a low confidence and a warning, not a confident coin toss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import frames

#: Prior on roll: Laplace with this scale (degrees). Hand-held and tripod photos are nearly level side to side.
ROLL_SCALE_DEG = 5.0
#: Prior on pitch: Gaussian (degrees). Room photos look slightly down on average, from level (real-estate tripods)
#: to steeply down (a phone over a desk); looking up is rarer.
PITCH_MEAN_DEG = -10.0
PITCH_SIGMA_DEG = 25.0
#: Pitch beyond this (degrees) is all but ruled out: a photo of the floor or the ceiling alone.
PITCH_LIMIT_DEG = 75.0
#: Log-likelihood per unit of relative line score: a fit explaining 80 % of the best fit's inlier length loses
#: 0.2 x this many nats.
LINE_SCORE_WEIGHT = 20.0
#: Prior on the focal length where the lines leave it free: log-normal around a phone's main camera (26 mm
#: equivalent) with this spread; RGB-D sensors (about 32 mm) and wide phone lenses (about 22 mm) are well inside.
FOCAL_LOG_SIGMA = 0.3
#: Hypotheses within this angle (degrees) of the winner count as agreeing with it.
AGREE_DEG = 4.0


def attitude_log_prior(pitch_rad, roll_rad):
    """Log prior density (up to a constant) of a camera attitude in a room photo (floats, or arrays broadcast
    together)."""
    pitch, roll = np.degrees(pitch_rad), np.degrees(roll_rad)
    value = -np.abs(roll) / ROLL_SCALE_DEG - 0.5 * ((pitch - PITCH_MEAN_DEG) / PITCH_SIGMA_DEG) ** 2
    return value - np.where(np.abs(pitch) > PITCH_LIMIT_DEG, 10.0 + (np.abs(pitch) - PITCH_LIMIT_DEG), 0.0)


def focal_log_prior(ratio_to_default: float) -> float:
    """Log prior density (up to a constant) of a focal length, given as its ratio to the default focal."""
    return -0.5 * (math.log(ratio_to_default) / FOCAL_LOG_SIGMA) ** 2


@dataclass(frozen=True)
class AttitudeHypothesis:
    """One candidate for gravity.

    up_cam          : (3,) unit vector, world up in the OpenCV camera frame
    pitch_rad, roll_rad: the attitude it implies (:func:`frames.attitude_from_up_in_camera`)
    log_posterior   : line evidence + prior (nats, relative)
    fit_index       : which line fit it came from; axis: which of the fit's directions is vertical
    """

    up_cam: np.ndarray
    pitch_rad: float
    roll_rad: float
    log_posterior: float
    fit_index: int
    axis: int


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two unit vectors, degrees."""
    return math.degrees(math.acos(float(np.clip(np.dot(a, b), -1.0, 1.0))))


def choose(hypotheses: list[AttitudeHypothesis]) -> tuple[AttitudeHypothesis, float, AttitudeHypothesis | None]:
    """``(best, agreement, runner_up)``: the hypothesis of highest posterior, the posterior share of those within
    :data:`AGREE_DEG` of it (0..1), and the best one further away (None if none)."""
    if not hypotheses:
        raise ValueError("no attitude hypothesis")
    logs = np.array([h.log_posterior for h in hypotheses])
    weights = np.exp(logs - logs.max())
    best = hypotheses[int(np.argmax(logs))]
    near = np.array([angle_deg(h.up_cam, best.up_cam) <= AGREE_DEG for h in hypotheses])
    agreement = float(weights[near].sum() / weights.sum())
    far = [h for h, n in zip(hypotheses, near) if not n]
    runner_up = max(far, key=lambda h: h.log_posterior) if far else None
    return best, agreement, runner_up


def wrap_quarter(angle_rad: float) -> float:
    """Angle modulo pi/2, in [-pi/4, pi/4)."""
    return (angle_rad + math.pi / 4.0) % (math.pi / 2.0) - math.pi / 4.0


def room_yaw_for_attitude(direction_cam: np.ndarray, pitch_rad: float, roll_rad: float) -> float:
    """Yaw (about world +Y, wrapped to [-pi/4, pi/4)) of a horizontal room direction given in the camera frame,
    in the world frame of :func:`frames.world_from_camera_from_attitude` with this pitch and roll."""
    rotation = frames.world_from_camera_from_attitude(pitch_rad, roll_rad, 0.0)[:3, :3]
    w = rotation @ np.asarray(direction_cam, dtype=float)
    return wrap_quarter(math.atan2(w[0], w[2]))
