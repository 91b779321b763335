"""The evaluation measures: oriented-box IoU on known cases and the scene scoring."""

import math

import numpy as np
import pytest

from pipeline import frames
from pipeline.evaluate import score_scene, upright_box_iou


def test_iou_known_cases():
    a = frames.box_corners([0, 0.5, 0], [1, 1, 1], 0.0)
    assert upright_box_iou(a, a) == pytest.approx(1.0)
    shifted = frames.box_corners([0.5, 0.5, 0], [1, 1, 1], 0.0)
    assert upright_box_iou(a, shifted) == pytest.approx(0.5 / 1.5)
    assert upright_box_iou(a, frames.box_corners([5, 0.5, 0], [1, 1, 1], 0.0)) == 0.0
    # a unit square turned by 45 degrees over itself: overlap is the regular octagon, area 2 (sqrt 2 - 1)
    turned = frames.box_corners([0, 0.5, 0], [1, 1, 1], math.pi / 4)
    octagon = 2 * (math.sqrt(2) - 1)
    assert upright_box_iou(a, turned) == pytest.approx(octagon / (2 - octagon))
    # a box turned by pi is the same box
    assert upright_box_iou(a, frames.box_corners([0, 0.5, 0], [1, 1, 1], math.pi)) == pytest.approx(1.0)
    half_height = frames.box_corners([0, 0.25, 0], [1, 0.5, 1], 0.0)
    assert upright_box_iou(a, half_height) == pytest.approx(0.5)


def test_score_scene_perfect_and_swapped():
    camera = {"fx": 500.0, "height_m": 1.5, "intrinsics_source": "user",
              "world_from_camera": frames.world_from_camera_from_attitude(-0.2, 0.01, 1.5).tolist()}
    corners = frames.box_corners([1, 0.4, -3], [2.0, 0.8, 1.0], 0.0)
    floor = [[-2, 1], [2, 1], [2, -4], [-2, -4]]
    truth = {"camera": camera, "objects": [{"corners": corners.tolist()}],
             "room": {"yaw": 0.1, "floor_polygon": floor}}
    quarter = frames.box_corners([1, 0.4, -3], [1.0, 0.8, 2.0], math.pi / 2)
    solved = {"camera": {**camera, "room_yaw_rad": 0.1 + math.pi / 2}, "room": {"floor_polygon": floor},
              "objects": [
        {"detection_index": 0, "label": "x", "center": [1, 0.4, -3], "size": [1.0, 0.8, 2.0], "yaw": math.pi / 2,
         "corners": quarter.tolist()}]}
    cam, (obj,) = score_scene("s", truth, solved)
    assert cam.focal_error == 0 and cam.gravity_error_deg == pytest.approx(0, abs=1e-6)
    assert cam.floor_iou == pytest.approx(1.0) and cam.room_yaw_error_deg == pytest.approx(0, abs=1e-6)
    assert obj.iou == pytest.approx(1.0) and obj.size_error_m == pytest.approx(0, abs=1e-9)
    assert obj.yaw_error_deg == pytest.approx(0, abs=1e-6)
    np.testing.assert_allclose(obj.center_error_m, 0, atol=1e-9)
