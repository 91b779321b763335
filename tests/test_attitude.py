"""Which way is up (pipeline/camera/attitude.py, the hypothesis choice in pipeline/camera/vanishing.py) on
synthetic photos of the kinds real photos are: steeply pitched, framed by a black margin, distorted, blurred and
cropped."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from pipeline.camera import attitude
from pipeline.camera.vanishing import content_box, estimate_manhattan
from tests.test_vanishing import render_room

#: Attitude within this (degrees) on clean drawings, and on drawings with a real photo's defects.
CLEAN_ATTITUDE_DEG = 0.5
DEFECT_ATTITUDE_DEG = 1.5
#: A crop's focal (pixels) within this of the full photo's.
CROP_FOCAL_REL = 0.05


def _pitch_roll_deg(estimate):
    return math.degrees(estimate.pitch_rad), math.degrees(estimate.roll_rad)


@pytest.mark.parametrize("pitch_deg,roll_deg", [(-45.0, 3.0), (-55.0, -2.0)])
def test_steeply_pitched_camera(pitch_deg, roll_deg):
    """Beyond 45 degrees down the floor's receding lines stand more upright in the photo than the walls'
    verticals: "the family closest to the image's vertical" is then the wrong one. The prior picks the right."""
    image, _ = render_room(1024, 768, 700.0, pitch_deg, roll_deg, 30.0)
    estimate = estimate_manhattan(image)
    pitch, roll = _pitch_roll_deg(estimate)
    assert pitch == pytest.approx(pitch_deg, abs=CLEAN_ATTITUDE_DEG)
    assert roll == pytest.approx(roll_deg, abs=CLEAN_ATTITUDE_DEG)


def test_looking_at_the_floor_is_flagged():
    """At 62 degrees down the prior leans towards the other reading of the lines (looking up at 28): the answer
    says that the lines fit another attitude, and its confidence is low (a warning follows in the build)."""
    image, _ = render_room(1024, 768, 700.0, -62.0, 1.0, 30.0)
    estimate = estimate_manhattan(image)
    assert estimate.alternative_up_cam is not None
    assert any("another attitude" in note for note in estimate.notes)
    assert estimate.confidence < 0.5


def _black_frame(image, rng, width_px=7):
    """A registered RGB-D frame's ragged black margin (as ScanNet's colour frames have)."""
    framed = image.copy()
    h, w = framed.shape[:2]
    for side in range(4):
        for i in range(h if side < 2 else w):
            k = width_px + int(rng.integers(-2, 3))
            if side == 0:
                framed[i, :k] = 0
            elif side == 1:
                framed[i, w - k:] = 0
            elif side == 2:
                framed[:k, i] = 0
            else:
                framed[h - k:, i] = 0
    return framed


def test_black_frame_is_not_a_line():
    """The frame's inner edges are the longest lines of the photo and exactly upright: taken for the room's
    verticals they make any camera look level."""
    rng = np.random.default_rng(3)
    image, _ = render_room(1024, 768, 700.0, -30.0, 2.0, 25.0, n_clutter=10)
    framed = _black_frame(image, rng)
    x0, y0, x1, y1 = content_box(cv2.cvtColor(framed, cv2.COLOR_RGB2GRAY))
    assert 4 <= x0 <= 9 and 4 <= y0 <= 9 and 1015 <= x1 <= 1020 and 759 <= y1 <= 764
    pitch, roll = _pitch_roll_deg(estimate_manhattan(framed))
    assert pitch == pytest.approx(-30.0, abs=CLEAN_ATTITUDE_DEG) and roll == pytest.approx(2.0, abs=CLEAN_ATTITUDE_DEG)


def _barrel(image, k1):
    """The photo as a lens with radial distortion ``k1`` (normalised by the half diagonal) would take it."""
    h, w = image.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy, s = w / 2, h / 2, math.hypot(w, h) / 2
    x, y = (xs - cx) / s, (ys - cy) / s
    factor = 1 + k1 * (x * x + y * y)
    return cv2.remap(image, x * factor * s + cx, y * factor * s + cy, cv2.INTER_LINEAR, borderValue=(235, 235, 235))


@pytest.mark.parametrize("defect", ["barrel", "blur"])
def test_real_photo_defects(defect):
    image, _ = render_room(1200, 900, 800.0, -25.0, 2.0, 30.0)
    image = _barrel(image, -0.04) if defect == "barrel" else cv2.GaussianBlur(image, (0, 0), 2.0)
    estimate = estimate_manhattan(image)
    pitch, roll = _pitch_roll_deg(estimate)
    assert pitch == pytest.approx(-25.0, abs=DEFECT_ATTITUDE_DEG)
    assert roll == pytest.approx(2.0, abs=DEFECT_ATTITUDE_DEG)


def test_crop_keeps_the_focal_in_pixels():
    """A 60 % centred crop has the same focal in pixels, so a proportionally longer 35 mm equivalent."""
    image, _ = render_room(1600, 1200, 1100.0, -20.0, 1.0, 35.0, n_clutter=0)
    full = estimate_manhattan(image)
    h, w = image.shape[:2]
    crop = image[int(0.2 * h):int(0.8 * h), int(0.2 * w):int(0.8 * w)]
    cropped = estimate_manhattan(np.ascontiguousarray(crop))
    assert full.focal_source == cropped.focal_source == "vanishing_points"
    assert cropped.focal_px == pytest.approx(full.focal_px, rel=CROP_FOCAL_REL)
    assert full.focal_px == pytest.approx(1100.0, rel=CROP_FOCAL_REL)


def test_prior_prefers_upright_room_photos():
    assert attitude.attitude_log_prior(math.radians(-20), 0.0) > attitude.attitude_log_prior(math.radians(40), 0.0)
    assert attitude.attitude_log_prior(0.0, math.radians(2)) > attitude.attitude_log_prior(0.0, math.radians(25))
    assert attitude.attitude_log_prior(math.radians(-85), 0.0) < -10


def test_choose_reports_ambiguity():
    up_a, up_b = np.array([0.0, -1.0, 0.0]), np.array([0.0, -0.8, -0.6])
    one = attitude.AttitudeHypothesis(up_a, 0.0, 0.0, 0.0, 0, 0)
    near = attitude.AttitudeHypothesis(np.array([0.0, -0.9995, 0.0316]), 0.0, 0.0, -0.5, 1, 0)
    other = attitude.AttitudeHypothesis(up_b / np.linalg.norm(up_b), 0.0, 0.0, -0.1, 2, 0)
    best, agreement, runner_up = attitude.choose([one, near, other])
    assert best is one and runner_up is other
    # two nearly equal, far apart hypotheses: about a coin toss, and the share says so
    assert 0.5 < agreement < 0.7
    best, agreement, runner_up = attitude.choose([one, near])
    assert agreement == pytest.approx(1.0) and runner_up is None


@pytest.mark.parametrize("turn", ["upside_down", "sideways"])
def test_turned_photo_is_not_a_confident_answer(turn):
    """Lines cannot tell a camera looking up from an upside-down photo, nor gravity from a room's horizontal in a
    photo turned by 90 degrees (EXIF orientation lost): the answer says so and is not confident."""
    from pipeline.camera import estimate_camera
    from pipeline.records import Photo

    image, _ = render_room(1024, 768, 700.0, -12.0, 2.0, 25.0)
    turned = image[::-1, ::-1] if turn == "upside_down" else np.rot90(image)
    camera = estimate_camera(Photo(path=None, rgb=np.ascontiguousarray(turned)))
    assert camera.attitude_confidence <= 0.4
    assert any("upside down or turned by 90 degrees" in w for w in camera.warnings), camera.warnings


def test_no_lines_tiny_and_extreme_photos_fail_cleanly(tmp_path, capsys):
    """A photo without lines: a level camera with a warning; a 1 x 10000 photo: one line, exit code 2."""
    from PIL import Image

    from pipeline.cli import main

    strip = tmp_path / "strip.png"
    Image.new("RGB", (10000, 1), (90, 90, 90)).save(strip)
    assert main(["build", str(strip), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("room3d: error:") and "too small" in err[0]
    assert not (tmp_path / "out").exists()


def test_photo_of_the_ceiling_is_not_a_confident_answer():
    """A camera pointed at the ceiling (60 degrees up): whatever the lines give, the answer is not confident and
    says what would fix it."""
    from pipeline.camera import estimate_camera
    from pipeline.records import Photo

    image, _ = render_room(1024, 768, 700.0, 60.0, 1.0, 25.0)
    camera = estimate_camera(Photo(path=None, rgb=image))
    assert camera.attitude_confidence <= 0.4
    assert any("--pitch-deg" in w for w in camera.warnings), camera.warnings
