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


def test_quaternions_agree_with_scipy_for_every_kind_of_rotation():
    from scipy.spatial.transform import Rotation

    rotations = [*Rotation.random(200, random_state=7).as_matrix(), np.eye(3), frames.rot_y(math.pi),
                 frames.rot_x(math.pi), frames.rot_z(math.pi), frames.rot_y(math.pi - 1e-9), np.diag([1.0, -1, -1])]
    for rotation in rotations:
        ours = frames.quaternion_xyzw_from_matrix(rotation)
        theirs = Rotation.from_matrix(rotation).as_quat()
        assert ours[3] >= 0 and np.linalg.norm(ours) == pytest.approx(1.0)
        assert min(np.abs(ours - theirs).max(), np.abs(ours + theirs).max()) < ROUND_TRIP_ATOL  # q and -q agree
        np.testing.assert_allclose(frames.matrix_from_quaternion_xyzw(ours), rotation, atol=ROUND_TRIP_ATOL)
        np.testing.assert_allclose(frames.matrix_from_quaternion_xyzw(theirs), Rotation.from_quat(theirs).as_matrix(),
                                   atol=ROUND_TRIP_ATOL)


def test_vectorised_up_matches_one_at_a_time():
    pitches, rolls = RNG.uniform(-1.4, 1.4, 50), RNG.uniform(-1.0, 1.0, 50)
    np.testing.assert_allclose(frames.up_in_camera_from_attitudes(pitches, rolls),
                               [frames.up_in_camera_from_attitude(p, r) for p, r in zip(pitches, rolls)],
                               atol=ROUND_TRIP_ATOL)


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


# ---------------------------------------------------------------------------------------------- Qwen3-VL 3D boxes


def _cookbook_corners(bbox_3d):
    """Independent transcription of the Qwen3-VL cookbook's drawing code (cookbooks/3d_grounding.ipynb:
    ``draw_3dbboxes`` multiplies the last three values by 180, ``convert_3dbbox`` unpacks
    ``x, y, z, x_size, y_size, z_size, pitch, yaw, roll`` and rotates each corner about x, then y, then z)."""
    values = list(bbox_3d)
    values[-3:] = [a * 180 for a in values[-3:]]
    x, y, z, x_size, y_size, z_size, pitch, yaw, roll = values
    pitch, yaw, roll = np.deg2rad(pitch), np.deg2rad(yaw), np.deg2rad(roll)
    out = []
    for ux, uy, uz in frames.UNIT_BOX_CORNERS:
        x0, y0, z0 = ux * x_size / 2, uy * y_size / 2, uz * z_size / 2
        x1, y1, z1 = x0, y0 * math.cos(pitch) - z0 * math.sin(pitch), y0 * math.sin(pitch) + z0 * math.cos(pitch)
        x2, y2, z2 = x1 * math.cos(yaw) + z1 * math.sin(yaw), y1, -x1 * math.sin(yaw) + z1 * math.cos(yaw)
        x3, y3, z3 = x2 * math.cos(roll) - y2 * math.sin(roll), x2 * math.sin(roll) + y2 * math.cos(roll), z2
        out.append([x3 + x, y3 + y, z3 + z])
    return np.array(out)


QWEN3_SAMPLES = [
    [2.88, 0.56, 6.28, 4.45, 1.7, 1.84, 0.75, 0.49, 0.75],  # the cookbook's own car answer
    [-0.6, 0.35, 3.1, 1.6, 0.55, 2.1, 0.0, 0.08, 0.0],
    [0.4, -0.2, 2.0, 0.5, 1.9, 0.6, -0.3, -0.45, 0.9],
    [0.0, 0.0, 1.0, 1.0, 2.0, 3.0, 0.999, 0.2, -0.999],
]


@pytest.mark.parametrize("values", QWEN3_SAMPLES)
def test_qwen3_bbox3d_follows_cookbook_drawing_code(values):
    center, size, rotation = frames.camera_box_from_qwen3_bbox3d(values)
    np.testing.assert_allclose(frames.camera_box_corners(center, size, rotation), _cookbook_corners(values),
                               atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=ROUND_TRIP_ATOL)
    assert np.linalg.det(rotation) == pytest.approx(1.0)


def test_qwen3_bbox3d_units_and_axes():
    # Zero angles: the box's axes are the camera's; sizes are full extents along camera x, y, z.
    center, size, rotation = frames.camera_box_from_qwen3_bbox3d([0, 0, 4, 1, 2, 3, 0, 0, 0])
    np.testing.assert_allclose(rotation, np.eye(3))
    corners = frames.camera_box_corners(center, size, rotation)
    np.testing.assert_allclose(np.ptp(corners, axis=0), [1.0, 2.0, 3.0])
    # Angles are in units of pi: 0.5 is a quarter turn. Pitch is about camera x, yaw about y, roll about z.
    _, _, r = frames.camera_box_from_qwen3_bbox3d([0, 0, 4, 1, 1, 1, 0.5, 0, 0])
    np.testing.assert_allclose(r, frames.rot_x(math.pi / 2), atol=ROUND_TRIP_ATOL)
    _, _, r = frames.camera_box_from_qwen3_bbox3d([0, 0, 4, 1, 1, 1, 0, 0.5, 0])
    np.testing.assert_allclose(r, frames.rot_y(math.pi / 2), atol=ROUND_TRIP_ATOL)
    _, _, r = frames.camera_box_from_qwen3_bbox3d([0, 0, 4, 1, 1, 1, 0, 0, 0.5])
    np.testing.assert_allclose(r, frames.rot_z(math.pi / 2), atol=ROUND_TRIP_ATOL)
    # The cookbook's car: its 4.45 m (x_size) lies along the optical axis, its 1.7 m (y_size) is vertical.
    _, _, r = frames.camera_box_from_qwen3_bbox3d(QWEN3_SAMPLES[0])
    assert abs(r[2, 0]) > 0.99 and abs(r[1, 1]) > 0.99


def test_qwen3_bbox3d_round_trip_values():
    rng = np.random.default_rng(11)
    for _ in range(200):
        values = np.concatenate([rng.uniform(-2, 2, 2), rng.uniform(0.5, 8, 1), rng.uniform(0.1, 3, 3),
                                 rng.uniform(-0.99, 0.99, 1), rng.uniform(-0.49, 0.49, 1), rng.uniform(-0.99, 0.99, 1)])
        back = frames.qwen3_bbox3d_from_camera_box(*frames.camera_box_from_qwen3_bbox3d(values))
        np.testing.assert_allclose(back, values, atol=ROUND_TRIP_ATOL)


@pytest.mark.parametrize("yaw", [0.5, -0.5, 0.5 - 1e-9, 1.0, 1.3, -1.7])
def test_qwen3_bbox3d_round_trip_boxes_any_angle(yaw):
    """Any rotation (gimbal lock at yaw = +-0.5 included) comes back exactly, whatever angles represent it."""
    for pitch, roll in [(0.0, 0.0), (0.3, -0.7), (-0.9, 0.25), (1.0, 1.0)]:
        box = frames.camera_box_from_qwen3_bbox3d([0.1, 0.2, 3.0, 1.0, 2.0, 0.5, pitch, yaw, roll])
        values = frames.qwen3_bbox3d_from_camera_box(*box)
        assert -1.0 <= values[6] <= 1.0 and -0.5 <= values[7] <= 0.5 and -1.0 <= values[8] <= 1.0
        again = frames.camera_box_from_qwen3_bbox3d(values)
        for a, b in zip(again, box):
            np.testing.assert_allclose(a, b, atol=ROUND_TRIP_ATOL)


def test_qwen3_virtual_intrinsics_is_the_cookbook_fallback():
    k = frames.qwen3_virtual_intrinsics(1280, 960)
    # generate_camera_params(fov=60): fx from the width, fy from the height, both with 60 degrees.
    assert k[0, 0] == pytest.approx(1280 / (2 * math.tan(math.radians(30))))
    assert k[1, 1] == pytest.approx(960 / (2 * math.tan(math.radians(30))))
    assert (k[0, 2], k[1, 2]) == (640.0, 480.0)


def test_image_rect_of_camera_box():
    k = frames.qwen3_virtual_intrinsics(1280, 960)
    box = frames.camera_box_from_qwen3_bbox3d(QWEN3_SAMPLES[2])
    uv, _ = frames.project_points(k, frames.camera_box_corners(*box))
    np.testing.assert_allclose(frames.image_rect_of_camera_box(k, *box), [*uv.min(axis=0), *uv.max(axis=0)])
    # Reaching behind the camera: the visible part still gives a (large) rectangle; wholly behind: None.
    near = frames.camera_box_from_qwen3_bbox3d([0.0, 0.5, 0.6, 1.6, 0.5, 2.0, 0, 0, 0])
    rect = frames.image_rect_of_camera_box(k, *near)
    assert rect is not None and np.all(np.isfinite(rect)) and rect[0] < 0 and rect[2] > 1280
    assert frames.image_rect_of_camera_box(k, [0, 0, -3.0], [1, 1, 1], np.eye(3)) is None


@pytest.mark.parametrize("keep", ["size", "depth"])
def test_camera_box_for_intrinsics_keeps_projection_and_round_trips(keep):
    k_virtual = frames.qwen3_virtual_intrinsics(1280, 960)
    k_real = frames.intrinsics_matrix(1000.0, 1000.0, 650.0, 470.0)
    center, size, rotation = frames.camera_box_from_qwen3_bbox3d(QWEN3_SAMPLES[2])
    c2, s2, r2 = frames.camera_box_for_intrinsics(center, size, rotation, k_virtual, k_real, keep=keep)
    np.testing.assert_allclose(frames.project_points(k_real, c2)[0], frames.project_points(k_virtual, center)[0])
    # Angular size kept: size / depth times the (geometric-mean) focal is the same for both cameras.
    f_virtual, f_real = math.sqrt(k_virtual[0, 0] * k_virtual[1, 1]), 1000.0
    np.testing.assert_allclose(s2 / c2[2] * f_real, size / center[2] * f_virtual)
    np.testing.assert_allclose(r2, rotation)
    if keep == "size":
        np.testing.assert_allclose(s2, size)
    else:
        assert c2[2] == pytest.approx(center[2])
    c3, s3, r3 = frames.camera_box_for_intrinsics(c2, s2, r2, k_real, k_virtual, keep=keep)
    np.testing.assert_allclose(c3, center, atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(s3, size, atol=ROUND_TRIP_ATOL)


def test_rescale_camera_box_to_focal():
    center, size, rotation = np.array([0.4, -0.2, 2.0]), np.array([1.0, 2.0, 0.5]), frames.rot_y(0.3)
    c2, s2, _ = frames.rescale_camera_box_to_focal(center, size, rotation, 800.0, 1200.0)
    np.testing.assert_allclose(c2, [0.4, -0.2, 3.0])  # keep the size: only the depth moves, by f_real / f_virtual
    np.testing.assert_allclose(s2, size)
    c3, s3, _ = frames.rescale_camera_box_to_focal(center, size, rotation, 800.0, 1200.0, keep="depth")
    np.testing.assert_allclose(c3, [0.4 / 1.5, -0.2 / 1.5, 2.0])
    np.testing.assert_allclose(s3, size / 1.5)
    c4, s4, _ = frames.rescale_camera_box_to_focal(c3, s3, rotation, 1200.0, 800.0, keep="depth")
    np.testing.assert_allclose(c4, center, atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(s4, size, atol=ROUND_TRIP_ATOL)


WORLD_YAWS = [0.0, 0.4, -0.9, 1.2, math.pi / 2 - 1e-3, -math.pi / 2, 2.5, -3.0, math.pi - 1e-4]
ATTITUDES = [(0.0, 0.0), (-0.35, 0.0), (-0.2, 0.06), (0.15, -0.1), (-0.6, 0.2)]


def _yaw_mod_pi_error(a, b):
    return abs(frames.canonical_upright_yaw(a - b))


@pytest.mark.parametrize("pitch,roll", ATTITUDES)
@pytest.mark.parametrize("yaw", WORLD_YAWS)
def test_world_box_through_qwen3_values_back_to_upright(yaw, pitch, roll):
    """World box -> camera box -> Qwen3-VL numbers -> parsed -> upright box: same centre, size and yaw (mod pi)."""
    world_from_camera = frames.world_from_camera_from_attitude(pitch, roll, 1.45)
    center_m, size_m = np.array([0.7, 0.45, -3.2]), np.array([1.6, 0.9, 2.05])
    box_cam = frames.camera_box_from_upright_box(center_m, size_m, yaw, world_from_camera)
    # The model gives furniture with its y along the camera's y (down): turn the box by pi about its own x.
    flipped = (box_cam[0], box_cam[1], box_cam[2] @ np.diag([1.0, -1.0, -1.0]))
    for box in (box_cam, flipped):
        values = frames.qwen3_bbox3d_from_camera_box(*box)
        c, s, y = frames.upright_box_from_camera_box(*frames.camera_box_from_qwen3_bbox3d(values), world_from_camera)
        np.testing.assert_allclose(c, center_m, atol=ROUND_TRIP_ATOL)
        np.testing.assert_allclose(s, size_m, atol=ROUND_TRIP_ATOL)
        assert _yaw_mod_pi_error(y, yaw) < ROUND_TRIP_ATOL
        assert -math.pi / 2 <= y < math.pi / 2


def test_upright_camera_box_round_trip():
    world_from_camera = frames.world_from_camera_from_attitude(-0.3, 0.05, 1.5)
    for yaw in np.linspace(-math.pi / 2, math.pi / 2, 13, endpoint=False):
        center, size = np.array([-0.5, 1.0, -2.5]), np.array([0.5, 2.0, 0.6])
        back = frames.upright_box_from_camera_box(*frames.camera_box_from_upright_box(center, size, yaw,
                                                                                     world_from_camera),
                                                  world_from_camera)
        np.testing.assert_allclose(back[0], center, atol=ROUND_TRIP_ATOL)
        np.testing.assert_allclose(back[1], size, atol=ROUND_TRIP_ATOL)
        assert back[2] == pytest.approx(yaw, abs=ROUND_TRIP_ATOL)


def test_symmetric_flips_come_out_the_same():
    world_from_camera = frames.world_from_camera_from_attitude(-0.25, 0.04, 1.4)
    center, size = np.array([0.3, 0.4, -3.0]), np.array([1.5, 0.8, 2.0])
    for yaw in [0.0, 0.3, -1.4, 3.1]:
        a = frames.upright_box_from_camera_box(*frames.camera_box_from_upright_box(center, size, yaw,
                                                                                  world_from_camera),
                                               world_from_camera)
        b = frames.upright_box_from_camera_box(*frames.camera_box_from_upright_box(center, size, yaw + math.pi,
                                                                                  world_from_camera),
                                               world_from_camera)
        np.testing.assert_allclose(a[0], b[0], atol=ROUND_TRIP_ATOL)
        np.testing.assert_allclose(a[1], b[1], atol=ROUND_TRIP_ATOL)
        assert a[2] == pytest.approx(b[2], abs=ROUND_TRIP_ATOL)
    # Qwen3-VL boxes "near +-180 degrees": yaw values 0.999 and -0.999 (units of pi) are nearly the same box,
    # and nearly the box with yaw 0: they come out with nearly the same yaw, not pi apart.
    level = frames.world_from_camera_from_attitude(0.0, 0.0, 1.4)
    yaws = [frames.upright_box_from_camera_box(*frames.camera_box_from_qwen3_bbox3d(
        [0.3, 0.9, 3.0, 1.5, 0.8, 2.0, 0.0, a, 0.0]), level)[2] for a in (0.999, -0.999, 0.0, 1.0, -1.0)]
    assert max(yaws) - min(yaws) < 0.01
    assert yaws[3] == pytest.approx(0.0, abs=ROUND_TRIP_ATOL) and yaws[4] == pytest.approx(0.0, abs=ROUND_TRIP_ATOL)
    # The same box described with roll = pitch = 1 (both half turns) instead of a yaw of pi is the same box too.
    via_roll_pitch = frames.upright_box_from_camera_box(*frames.camera_box_from_qwen3_bbox3d(
        [0.3, 0.9, 3.0, 1.5, 0.8, 2.0, 1.0, 0.2, 1.0]), level)
    via_yaw = frames.upright_box_from_camera_box(*frames.camera_box_from_qwen3_bbox3d(
        [0.3, 0.9, 3.0, 1.5, 0.8, 2.0, 0.0, -0.2, 0.0]), level)
    np.testing.assert_allclose(via_roll_pitch[1], via_yaw[1])
    assert via_roll_pitch[2] == pytest.approx(via_yaw[2], abs=ROUND_TRIP_ATOL)


def test_upright_box_permutes_sizes_when_another_axis_is_vertical():
    """A box whose own z is vertical (pitch of a quarter turn): its z_size is the height, its x_size the depth."""
    level = frames.world_from_camera_from_attitude(0.0, 0.0, 1.4)
    center, size, yaw = frames.upright_box_from_camera_box(
        *frames.camera_box_from_qwen3_bbox3d([0.0, 0.5, 3.0, 1.0, 2.0, 0.7, 0.5, 0.0, 0.0]), level)
    # Rx(90 deg): own y -> camera z (forward, world -Z), own z -> camera -y (world +Y): up is own z.
    np.testing.assert_allclose(size, [2.0, 0.7, 1.0])  # (x, up, z) = (own y, own z, own x)
    assert _yaw_mod_pi_error(yaw, math.pi / 2) < ROUND_TRIP_ATOL  # own x (now local z) along world X
    np.testing.assert_allclose(center, [0.0, 0.9, -3.0])
    # A box tilted a little off upright still finds its up axis and keeps its heading.
    tilted = frames.camera_box_from_qwen3_bbox3d([0.0, 0.5, 3.0, 1.0, 2.0, 0.7, 0.03, 0.1, -0.02])
    _, size_t, yaw_t = frames.upright_box_from_camera_box(*tilted, level)
    np.testing.assert_allclose(size_t, [1.0, 2.0, 0.7])
    assert _yaw_mod_pi_error(yaw_t, -0.1 * math.pi) < 0.05


def test_world_points_from_pixels_round_trip():
    matrix = frames.world_from_camera_from_attitude(-0.25, 0.04, 1.45, 0.1)
    points = frames.world_points_from_pixels(K, matrix, RNG.uniform([0, 0], [640, 480], (30, 2)),
                                             RNG.uniform(0.5, 8.0, 30))
    uv, z = frames.project_world_points(K, matrix, points)
    np.testing.assert_allclose(frames.world_points_from_pixels(K, matrix, uv, z), points, atol=ROUND_TRIP_ATOL)


def test_floor_points_from_pixels_round_trip_and_horizon():
    matrix = frames.world_from_camera_from_attitude(-0.3, 0.05, 1.5)
    floor = np.column_stack([RNG.uniform(-2, 2, 40), np.zeros(40), RNG.uniform(-6, -1, 40)])
    uv, z = frames.project_world_points(K, matrix, floor)
    points, depth_z = frames.floor_points_from_pixels(K, matrix, uv)
    np.testing.assert_allclose(points, floor, atol=ROUND_TRIP_ATOL)
    np.testing.assert_allclose(depth_z, z, atol=ROUND_TRIP_ATOL)
    # a level camera: the top half of the photo looks at or above the horizon and never meets the floor
    level = frames.world_from_camera_from_attitude(0.0, 0.0, 1.4)
    _, above = frames.floor_points_from_pixels(K, level, np.array([[320.0, 100.0], [320.0, 240.0]]))
    assert np.isnan(above).all()


def test_direction_round_trip_and_level_camera():
    matrix = frames.world_from_camera_from_attitude(-0.2, 0.1, 1.3, 0.4)
    vectors = RNG.normal(size=(10, 3))
    np.testing.assert_allclose(frames.world_directions_to_camera(
        matrix, frames.camera_directions_to_world(matrix, vectors)), vectors, atol=ROUND_TRIP_ATOL)
    level = frames.world_from_camera_from_attitude(0.0, 0.0, 1.4)
    np.testing.assert_allclose(frames.camera_directions_to_world(level, [0.0, -1.0, 0.0]), [0.0, 1.0, 0.0])


def test_upright_camera_round_trip_and_level_camera():
    rtilt = frames.rot_x(0.3) @ frames.rot_y(-0.1)  # any rotation
    points = RNG.normal(size=(10, 3))
    np.testing.assert_allclose(frames.upright_from_camera(frames.camera_from_upright(points, rtilt), rtilt), points,
                               atol=ROUND_TRIP_ATOL)
    level = np.eye(3)  # a level camera: up is -y in the camera, the upright y axis is the optical axis
    np.testing.assert_allclose(frames.camera_from_upright([0.0, 0.0, 1.0], level), [0.0, -1.0, 0.0])
    np.testing.assert_allclose(frames.camera_from_upright([0.0, 1.0, 0.0], level), [0.0, 0.0, 1.0])
    np.testing.assert_allclose(frames.camera_from_upright([1.0, 0.0, 0.0], level), [1.0, 0.0, 0.0])


@pytest.mark.parametrize("pitch, roll", [(-0.5, 0.08), (0.15, -0.1), (0.0, 0.0)])
def test_upright_pitch_and_roll_are_the_attitude(pitch, roll):
    """ScanNet / realdev truth gives ``pitch = asin(up_z)`` and ``roll = atan2(up_x, -up_y)`` of gravity's up in the
    OpenCV camera: the same angles as :func:`frames.world_from_camera_from_attitude`."""
    up = frames.world_directions_to_camera(frames.world_from_camera_from_attitude(pitch, roll, 1.5), [0.0, 1.0, 0.0])
    assert math.asin(up[2]) == pytest.approx(pitch, abs=ROUND_TRIP_ATOL)
    assert math.atan2(up[0], -up[1]) == pytest.approx(roll, abs=ROUND_TRIP_ATOL)


def test_pixel_centers_round_trip():
    rows, columns = np.indices((3, 5))
    centers = frames.pixel_centers(columns, rows)
    assert centers.shape == (3, 5, 2)
    np.testing.assert_allclose(centers[2, 4], [4.5, 2.5])
    back_columns, back_rows = frames.pixel_indices(centers)
    np.testing.assert_array_equal(back_columns, columns)
    np.testing.assert_array_equal(back_rows, rows)
    # any point inside a pixel belongs to it
    assert [int(a) for a in frames.pixel_indices(np.array([3.999, 0.0]))] == [3, 0]


@pytest.mark.parametrize("pitch_deg,roll_deg", [(0.0, 0.0), (-17.0, 4.0), (-30.0, -8.0), (10.0, 2.5), (-62.0, 1.0)])
def test_up_in_camera_round_trip(pitch_deg, roll_deg):
    """``up_in_camera_from_attitude`` / ``attitude_from_up_in_camera``: world up seen from the camera, and back;
    the up direction is the camera's world +Y, whatever the yaw and height."""
    pitch, roll = math.radians(pitch_deg), math.radians(roll_deg)
    up = frames.up_in_camera_from_attitude(pitch, roll)
    world_from_camera = frames.world_from_camera_from_attitude(pitch, roll, 1.5, yaw_rad=0.7)
    np.testing.assert_allclose(up, world_from_camera[:3, :3].T @ [0.0, 1.0, 0.0], atol=ROUND_TRIP_ATOL)
    back = frames.attitude_from_up_in_camera(3.0 * up)  # any length
    assert back == pytest.approx((pitch, roll), abs=ROUND_TRIP_ATOL)
