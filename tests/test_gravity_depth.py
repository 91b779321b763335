"""Gravity from a metric depth map's planes (pipeline/camera/gravity_depth.py) and its combination with the lines
(pipeline/camera/estimate.py), on ray-cast rooms with a known camera."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from pipeline import frames
from pipeline.camera import estimate_camera
from pipeline.camera.gravity_depth import focal_scale_from_planes, gravity_from_depth, map_planes
from pipeline.records import DepthMap, Photo
from tests.test_vanishing import render_room

#: Gravity within this (degrees) from an exact map, and from a map with a sensor's noise.
EXACT_DEG = 0.2
NOISY_DEG = 1.0
#: ... from lines and an exact map combined (the lines' own error enters with their weight).
CLEAN_DEG = 0.5
#: A focal from an exact map's planes meeting at right angles: within this (relative).
PLANES_FOCAL_REL = 0.01
#: The room's heading from an exact map's walls: within this (degrees).
YAW_FROM_WALLS_DEG = 0.5


def room_depth(width, height, fx, pitch_deg, roll_deg, walls=True, noise_rel=0.0, seed=0):
    """Planar depth (H, W) of a box room (floor y = 0, walls at x = -2, x = 2.5, z = -4) seen from 1.5 m."""
    k = frames.intrinsics_matrix(fx, fx, width / 2, height / 2)
    world_from_camera = frames.world_from_camera_from_attitude(math.radians(pitch_deg), math.radians(roll_deg), 1.5)
    uv = frames.pixel_centers(*np.indices((height, width))[::-1])
    rays_cam = frames.pixel_rays(k, uv)  # z = 1
    rays = frames.camera_directions_to_world(world_from_camera, rays_cam)
    origin = world_from_camera[:3, 3]
    best = np.full((height, width), np.inf)
    planes = [(1, 0.0)] + ([(0, -2.0), (0, 2.5), (2, -4.0)] if walls else [])
    for axis, value in planes:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (value - origin[axis]) / rays[..., axis]
        best = np.where((t > 0) & (t < best), t, best)
    depth = best.astype(np.float32)  # rays have z = 1 in the camera: t is planar depth
    if noise_rel:
        depth *= 1 + np.random.default_rng(seed).normal(0, noise_rel, depth.shape).astype(np.float32)
    valid = np.isfinite(depth) & (depth < 20)
    return DepthMap(np.where(valid, depth, 0).astype(np.float32), valid, "metric_depth", "file:synthetic.npy"), \
        world_from_camera


def _error_deg(up_cam, world_from_camera):
    true_up = world_from_camera[:3, :3].T @ np.array([0.0, 1.0, 0.0])
    return math.degrees(math.acos(float(np.clip(up_cam @ true_up, -1, 1))))


@pytest.mark.parametrize("pitch_deg,roll_deg,noise", [(-35.0, 4.0, 0.0), (-10.0, -2.0, 0.0), (-50.0, 1.0, 0.005)])
def test_floor_and_walls_give_gravity(pitch_deg, roll_deg, noise):
    depth, world_from_camera = room_depth(640, 480, 520.0, pitch_deg, roll_deg, noise_rel=noise)
    found = gravity_from_depth(depth, frames.intrinsics_matrix(520.0, 520.0, 320, 240))
    assert found is not None and found.floor_seen
    assert _error_deg(found.up_cam, world_from_camera) < (NOISY_DEG if noise else EXACT_DEG)


def test_noise_and_a_single_wall_give_nothing():
    rng = np.random.default_rng(0)
    values = rng.uniform(0.5, 8.0, (480, 640)).astype(np.float32)
    k = frames.intrinsics_matrix(520.0, 520.0, 320, 240)
    assert gravity_from_depth(DepthMap(values, np.ones_like(values, bool), "metric_depth", "hf:x"), k) is None
    wall = np.full((480, 640), 3.0, np.float32)  # a wall seen square on: it cannot be the floor
    assert gravity_from_depth(DepthMap(wall, np.ones_like(wall, bool), "metric_depth", "file:w"), k) is None


def test_camera_combines_lines_and_depth():
    """A photo whose lines give gravity and a sensor map whose floor gives it: the camera combines them, says
    so, and is more sure than with the lines alone."""
    image, world_from_camera = render_room(640, 480, 520.0, -30.0, 2.0, 30.0)
    depth, _ = room_depth(640, 480, 520.0, -30.0, 2.0)
    photo = Photo(path=None, rgb=image)
    alone = estimate_camera(photo, focal_px=520.0)
    both = estimate_camera(photo, focal_px=520.0, depth=depth)
    assert both.attitude_source == "vanishing_points+depth"
    assert both.attitude_sigma_deg < alone.attitude_sigma_deg
    up = both.world_from_camera[:3, :3].T @ np.array([0.0, 1.0, 0.0])
    assert _error_deg(up, world_from_camera) < CLEAN_DEG


def test_a_sensor_floor_overrules_mistaken_lines():
    """Lines drawn for one attitude, a sensor's map of another: the map's floor wins, and a warning names the
    conflict."""
    image, _ = render_room(640, 480, 520.0, -5.0, 0.0, 30.0)
    depth, world_from_camera = room_depth(640, 480, 520.0, -40.0, 3.0)
    camera = estimate_camera(Photo(path=None, rgb=image), focal_px=520.0, depth=depth)
    assert camera.attitude_source == "depth"
    up = camera.world_from_camera[:3, :3].T @ np.array([0.0, 1.0, 0.0])
    assert _error_deg(up, world_from_camera) < EXACT_DEG
    assert any("conflicting cues" in w for w in camera.warnings)


def test_an_uncertain_focal_does_not_loosen_the_floors_roll():
    """Weak lines off in roll by 6 degrees, a sensor's floor with a focal known only to 30 %: a wrong focal
    shears the map's floor in pitch, never in roll, so the roll is the floor's and the pitch lies between."""
    from pipeline.camera.estimate import _with_depth_gravity
    from pipeline.records import Intrinsics

    depth, _ = room_depth(640, 480, 520.0, -30.0, 0.0)
    lines_up = frames.up_in_camera_from_attitude(math.radians(-28.0), math.radians(6.0))
    up, _, source = _with_depth_gravity(depth, Intrinsics.from_focal(520.0, 640, 480), 0.3,
                                        (lines_up, 5.0, "vanishing_points", 3.0), [], [])
    pitch, roll = frames.attitude_from_up_in_camera(up)
    assert source == "vanishing_points+depth"
    assert abs(math.degrees(roll)) < 1.0
    assert -30.0 < math.degrees(pitch) < -28.0


def test_no_lines_and_no_depth_warns_with_the_fix():
    flat = Photo(path=None, rgb=np.full((480, 640, 3), 128, np.uint8))
    camera = estimate_camera(flat)
    assert camera.attitude_source == "assumed_level"
    assert any("assumed level" in w and "--pitch-deg" in w for w in camera.warnings)
    assert any("focal length unknown" in w and "--fov-deg" in w for w in camera.warnings)



@pytest.mark.parametrize("tilt_deg", [6.0, 14.0])
def test_the_floor_wins_over_a_larger_sloping_top(tilt_deg):
    """A bed top or a seat (0.7 m high, sagging or sloping by 6 or 14 degrees) that fills more of the map than the
    floor around it: gravity comes from the floor, the lowest plausible upward plane with nothing below it, not
    from the bigger top (at 14 degrees the top is what most planes support, and the floor far from it)."""
    width, height, fx = 640, 480, 520.0
    depth, world_from_camera = room_depth(width, height, fx, -35.0, 2.0, walls=False)
    k = frames.intrinsics_matrix(fx, fx, width / 2, height / 2)
    rays = frames.camera_directions_to_world(world_from_camera, frames.pixel_rays(
        k, frames.pixel_centers(*np.indices((height, width))[::-1])))
    origin = world_from_camera[:3, 3]
    tilt = math.radians(tilt_deg)
    normal = np.array([0.0, math.cos(tilt), math.sin(tilt)])  # sagging towards the camera's side
    point = np.array([0.0, 0.7, -2.5])
    t = ((point - origin) @ normal) / (rays @ normal)
    hit = origin + t[..., None] * rays
    on_top = (t > 0) & (np.abs(hit[..., 0]) < 6.0) & (hit[..., 2] > -9.0) & (hit[..., 2] < -1.0) \
        & (t < depth.values)
    values = np.where(on_top, t, depth.values).astype(np.float32)
    assert on_top.sum() > (depth.valid & ~on_top).sum()  # more of the view than the floor
    found = gravity_from_depth(DepthMap(values, depth.valid, "metric_depth", "file:synthetic.npy"), k)
    assert found is not None and found.floor_seen
    assert _error_deg(found.up_cam, world_from_camera) < EXACT_DEG


def test_a_floor_seen_on_a_small_patch_of_the_map_gives_gravity():
    """Furniture hides the floor and the walls' feet, but for a patch of floor between two pieces (2 % of the
    map's pixels): the floor is still found, and gravity comes from it rather than from the walls alone."""
    width, height, fx = 640, 480, 520.0
    depth, world_from_camera = room_depth(width, height, fx, -20.0, 3.0)
    k = frames.intrinsics_matrix(fx, fx, width / 2, height / 2)
    rays = frames.camera_directions_to_world(world_from_camera, frames.pixel_rays(
        k, frames.pixel_centers(*np.indices((height, width))[::-1])))
    heights = world_from_camera[1, 3] + depth.values * rays[..., 1]
    floor = depth.valid & (np.abs(heights) < 1e-3)
    middle = int(np.median(np.nonzero(floor.any(axis=1))[0]))
    patch = floor & (np.abs(np.arange(height)[:, None] - middle) < 20)
    patch &= np.cumsum(patch, axis=1) <= int(0.02 * (depth.valid & (heights > 0.3)).sum() / 40)
    valid = depth.valid & ((heights > 0.3) | patch)  # no return from what the furniture hides
    assert 0.015 < patch.sum() / valid.sum() < 0.025
    found = gravity_from_depth(DepthMap(np.where(valid, depth.values, 0), valid, "metric_depth",
                                        "file:synthetic.npy"), k)
    assert found is not None and found.floor_seen
    assert _error_deg(found.up_cam, world_from_camera) < EXACT_DEG


@pytest.mark.parametrize("assumed", [1.0, 0.8, 1.25])
def test_the_planes_meet_at_right_angles_with_the_true_focal(assumed):
    """A room's map unprojected with the true focal, one 20 % short or 25 % long: the factor that makes its floor
    and walls perpendicular again brings the focal back to the truth."""
    depth, _ = room_depth(640, 480, 520.0, -30.0, 3.0)
    k = frames.intrinsics_matrix(520.0 * assumed, 520.0 * assumed, 320, 240)
    factor = focal_scale_from_planes(map_planes(depth, k))
    assert factor is not None and factor * assumed == pytest.approx(1.0, rel=PLANES_FOCAL_REL)


def test_one_plane_gives_no_focal():
    wall = np.full((480, 640), 3.0, np.float32)
    k = frames.intrinsics_matrix(520.0, 520.0, 320, 240)
    planes = map_planes(DepthMap(wall, np.ones_like(wall, bool), "metric_depth", "file:w"), k)
    assert planes is not None and len(planes.normals) == 1 and focal_scale_from_planes(planes) is None


def test_a_sensor_map_corrects_a_default_focal():
    """No lines and no EXIF: the focal falls back to the default, 17 % off here; a sensor's map of the room pulls
    it most of the way to the truth, and the camera says so, while a focal the user gave is left alone."""
    flat = Photo(path=None, rgb=np.full((480, 640, 3), 128, np.uint8))
    alone = estimate_camera(flat)
    truth = alone.intrinsics.fx_px * 1.2
    depth, _ = room_depth(640, 480, truth, -30.0, 3.0)
    camera = estimate_camera(flat, depth=depth)
    assert camera.intrinsics_source == "default+depth_planes"
    assert abs(math.log(camera.intrinsics.fx_px / truth)) < 0.3 * abs(math.log(alone.intrinsics.fx_px / truth))
    assert any("meet at right angles" in note for note in camera.notes)
    given = estimate_camera(flat, focal_px=500.0, depth=depth)
    assert given.intrinsics.fx_px == 500.0 and given.intrinsics_source == "user"


def test_a_sensor_map_walls_overrule_lines_along_a_diagonal():
    """Lines of a room turned by 30 degrees, a sensor's map of walls square to the world axes: the room's heading
    comes from the walls, and the notes say so; a depth model's walls leave the lines' heading alone, and lines
    that agree with the walls keep theirs."""
    from pipeline.camera.attitude import wrap_quarter

    image, _ = render_room(640, 480, 520.0, -30.0, 2.0, 30.0)
    depth, _ = room_depth(640, 480, 520.0, -30.0, 2.0)
    photo = Photo(path=None, rgb=image)
    lines_only = estimate_camera(photo, focal_px=520.0)
    assert abs(math.degrees(wrap_quarter(lines_only.room_yaw_rad))) > 20.0
    camera = estimate_camera(photo, focal_px=520.0, depth=depth)
    assert camera.room_yaw_source == "depth_walls"
    assert abs(math.degrees(wrap_quarter(camera.room_yaw_rad))) < YAW_FROM_WALLS_DEG
    assert any("took the walls'" in note for note in camera.notes)
    model = dataclasses.replace(depth, source="hf:some-model")
    assert estimate_camera(photo, focal_px=520.0, depth=model).room_yaw_source == "vanishing_points"
    square, _ = render_room(640, 480, 520.0, -30.0, 2.0, 1.0)
    agreeing = estimate_camera(Photo(path=None, rgb=square), focal_px=520.0, depth=depth)
    assert agreeing.room_yaw_source == "vanishing_points"


def test_planes_sheared_by_a_focal_scale_are_the_planes_of_that_focal():
    """The planes of a map found with one focal and turned for another (no second segmentation) are those found
    with the other directly."""
    depth, _ = room_depth(640, 480, 520.0, -30.0, 3.0)
    found = map_planes(depth, frames.intrinsics_matrix(450.0, 450.0, 320, 240)).with_focal_scale(520.0 / 450.0)
    direct = map_planes(depth, frames.intrinsics_matrix(520.0, 520.0, 320, 240))
    for normal, offset in zip(direct.normals, direct.offsets):
        match = int(np.argmax(found.normals @ normal))
        assert found.normals[match] @ normal > math.cos(math.radians(0.05))
        assert found.offsets[match] == pytest.approx(offset, rel=1e-3)
    np.testing.assert_allclose(found.points, direct.points, rtol=1e-5, atol=1e-6)


def test_the_heading_counts_the_walls_seen_outside_the_objects():
    """A wardrobe door left open at 30 degrees fills much of the view in front of the back wall: counted in full,
    its plane outweighs the walls; counted outside its 2D box, the room's walls give the heading."""
    from pipeline.camera.attitude import wrap_quarter
    from pipeline.camera.gravity_depth import walls_yaw

    width, height, fx = 640, 480, 520.0
    depth, world_from_camera = room_depth(width, height, fx, -20.0, 0.0)
    k = frames.intrinsics_matrix(fx, fx, width / 2, height / 2)
    uv = frames.pixel_centers(*np.indices((height, width))[::-1])
    rays = frames.camera_directions_to_world(world_from_camera, frames.pixel_rays(k, uv))
    origin = world_from_camera[:3, 3]
    normal = np.array([math.sin(math.radians(30.0)), 0.0, math.cos(math.radians(30.0))])
    center = np.array([0.2, 1.1, -2.6])
    t = ((center - origin) @ normal) / (rays @ normal)
    hit = origin + t[..., None] * rays
    along = np.cross([0.0, 1.0, 0.0], normal)
    on_door = (t > 0) & (np.abs((hit - center) @ along) < 1.1) & (np.abs(hit[..., 1] - center[1]) < 1.0) \
        & (t < depth.values)
    values = np.where(on_door, t, depth.values).astype(np.float32)
    rows, cols = np.nonzero(on_door)
    box = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    planes = map_planes(DepthMap(values, depth.valid, "metric_depth", "file:synthetic.npy"), k)
    pitch, roll = math.radians(-20.0), 0.0
    up = frames.up_in_camera_from_attitude(pitch, roll)
    counted_in_full = walls_yaw(planes, up, pitch, roll)
    outside = walls_yaw(planes, up, pitch, roll, k, [box])
    assert abs(math.degrees(wrap_quarter(counted_in_full[0][0] - math.radians(30.0)))) < YAW_FROM_WALLS_DEG
    assert abs(math.degrees(wrap_quarter(outside[0][0]))) < YAW_FROM_WALLS_DEG
