"""Round trips of every named pair in pipeline/frames.py, and the attitude conventions."""

import math

import numpy as np
import pytest

from pipeline import frames
from tests.tolerances import ROUND_TRIP_ATOL

RNG = np.random.default_rng(7)
K = frames.intrinsics_matrix(500.0, 500.0, 320.0, 240.0)


def test_project_unproject_round_trip():
    points = np.column_stack([RNG.uniform(-2, 2, 50), RNG.uniform(-1, 1, 50), RNG.uniform(0.5, 8, 50)])
    uv, z = frames.project_points(K, points)
    np.testing.assert_allclose(frames.unproject_pixels(K, uv, z), points, atol=ROUND_TRIP_ATOL)


def test_principal_point_projects_optical_axis():
    uv, z = frames.project_points(K, np.array([0.0, 0.0, 3.0]))
    np.testing.assert_allclose(uv, [320.0, 240.0])
    assert z == 3.0


@pytest.mark.parametrize("pitch,roll,height,yaw", [(0, 0, 1.4, 0), (-0.4, 0.08, 1.1, 0), (0.2, -0.05, 1.7, 0.6)])
def test_attitude_round_trip(pitch, roll, height, yaw):
    matrix = frames.world_from_camera_from_attitude(pitch, roll, height, yaw)
    back = frames.attitude_from_world_from_camera(matrix)
    assert back["pitch_rad"] == pytest.approx(pitch, abs=ROUND_TRIP_ATOL)
    assert back["roll_rad"] == pytest.approx(roll, abs=ROUND_TRIP_ATOL)
    assert back["yaw_rad"] == pytest.approx(yaw, abs=ROUND_TRIP_ATOL)
    assert back["height_m"] == pytest.approx(height)
    np.testing.assert_allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3), atol=ROUND_TRIP_ATOL)


def test_camera_world_round_trip():
    matrix = frames.world_from_camera_from_attitude(-0.3, 0.05, 1.5, 0.2)
    points = RNG.normal(size=(20, 3))
    there = frames.transform_points(matrix, points)
    np.testing.assert_allclose(frames.transform_points(frames.invert_rigid(matrix), there), points,
                               atol=ROUND_TRIP_ATOL)


def test_gl_cv_camera_round_trip():
    matrix = frames.world_from_camera_from_attitude(-0.2, 0.03, 1.3)
    np.testing.assert_allclose(frames.world_from_camera_cv(frames.world_from_camera_gl(matrix)), matrix)


def test_level_camera_convention():
    """Level camera: OpenCV x -> world +X, y (down) -> world -Y, z (forward) -> world -Z."""
    matrix = frames.world_from_camera_from_attitude(0.0, 0.0, 1.4)
    np.testing.assert_allclose(matrix[:3, :3], np.diag([1.0, -1.0, -1.0]), atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(matrix[:3, 3], [0.0, 1.4, 0.0])


def test_negative_pitch_looks_down_positive_roll_lifts_right_side():
    down = frames.world_from_camera_from_attitude(math.radians(-20), 0.0, 1.4)
    forward = down[:3, :3] @ [0.0, 0.0, 1.0]
    assert forward[1] < 0 and forward[2] < 0
    rolled = frames.world_from_camera_from_attitude(0.0, math.radians(10), 1.4)
    right = rolled[:3, :3] @ [1.0, 0.0, 0.0]
    assert right[1] > 0


def test_floor_point_projects_below_horizon():
    matrix = frames.world_from_camera_from_attitude(0.0, 0.0, 1.4)
    uv, z = frames.project_world_points(K, matrix, np.array([0.0, 0.0, -3.0]))
    assert z == pytest.approx(3.0)
    assert uv[1] > 240.0
    assert uv[0] == pytest.approx(320.0)


def test_box_corners_round_trip_and_order():
    center, size, yaw = np.array([1.0, 0.4, -3.0]), np.array([1.6, 0.8, 2.1]), 0.7
    corners = frames.box_corners(center, size, yaw)
    c2, s2, y2 = frames.box_from_corners(corners)
    np.testing.assert_allclose(c2, center, atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(s2, size, atol=ROUND_TRIP_ATOL)
    assert y2 == pytest.approx(yaw)
    assert np.all(corners[[0, 1, 4, 5], 1] < corners[[2, 3, 6, 7], 1])  # 0, 1, 4, 5 bottom
    front = corners[4:].mean(axis=0) - corners[:4].mean(axis=0)
    np.testing.assert_allclose(front / np.linalg.norm(front), [math.sin(yaw), 0.0, math.cos(yaw)])
    lengths = np.linalg.norm(corners[frames.BOX_EDGES[:, 0]] - corners[frames.BOX_EDGES[:, 1]], axis=1)
    assert sorted(np.round(lengths, 9)) == sorted(np.round(np.repeat(size, 4), 9))


def test_yaw_zero_faces_camera():
    corners = frames.box_corners([0.0, 0.5, -3.0], [1.0, 1.0, 1.0], 0.0)
    assert corners[4:, 2].mean() > corners[:4, 2].mean()  # front face is nearer the camera at z = 0


def test_blender_round_trip():
    points = RNG.normal(size=(10, 3))
    np.testing.assert_allclose(frames.world_from_blender(frames.blender_from_world(points)), points)
    np.testing.assert_allclose(frames.blender_from_world([0.0, 1.0, 0.0]), [0.0, 0.0, 1.0])  # up is up


def test_quaternion_round_trip():
    rotation = frames.rot_y(0.4) @ frames.rot_x(-0.2)
    np.testing.assert_allclose(frames.matrix_from_quaternion_xyzw(frames.quaternion_xyzw_from_matrix(rotation)),
                               rotation, atol=ROUND_TRIP_ATOL)


@pytest.mark.parametrize("width,height", [(640, 480), (4032, 3024), (1080, 1920), (8000, 6000), (30, 20)])
def test_qwen_coordinate_round_trips(width, height):
    xy = np.array([10.0, 20.0, width * 0.7, height * 0.9])
    np.testing.assert_allclose(frames.pixels_from_qwen3(frames.qwen3_from_pixels(xy, width, height), width, height),
                               xy)
    np.testing.assert_allclose(
        frames.pixels_from_qwen25(frames.qwen25_from_pixels(xy, width, height), width, height), xy)


def test_smart_resize_matches_reference_values():
    # Values of qwen_vl_utils.smart_resize (factor 28, min 3136, max 12845056), and with a smaller max_pixels.
    assert frames.qwen25_resized_size(640, 480) == (644, 476)
    assert frames.qwen25_resized_size(1920, 1080) == (1932, 1092)
    w, h = frames.qwen25_resized_size(8000, 6000)
    assert w % 28 == 0 and h % 28 == 0 and w * h <= frames.QWEN25_MAX_PIXELS
    w, h = frames.qwen25_resized_size(4032, 3024, max_pixels=1280 * 28 * 28)
    assert (w, h) == (1148, 840)
    np.testing.assert_allclose(frames.qwen3_from_pixels(np.array([640.0, 480.0]), 640, 480), [1000.0, 1000.0])
