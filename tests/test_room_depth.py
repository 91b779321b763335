"""The room shell's depth from the camera and its error against a sensor's (pipeline/room_depth.py), on a box
room ray-cast exactly."""

import math

import numpy as np
import pytest

from pipeline import frames
from pipeline.room_depth import layout_depth_error, shell_depth
from tests.test_gravity_depth import room_depth

#: The ray-cast room (tests.test_gravity_depth.room_depth): floor y = 0, walls at x = -2, x = 2.5, z = -4, no
#: ceiling; seen by a camera of this size and focal.
WIDTH, HEIGHT, FOCAL = 320, 240, 260.0


def box_room(left=-2.0, right=2.5, back=-4.0, near=1.0, top=3.0) -> dict:
    """The ``scene.json`` room of a box: floor polygon, ceiling and three walls (none behind the camera)."""
    def quad(a, b):  # a wall from floor point a to floor point b, up to the ceiling
        return {"corners": [[a[0], 0.0, a[1]], [b[0], 0.0, b[1]], [b[0], top, b[1]], [a[0], top, a[1]]]}

    return {"floor_polygon": [[left, near], [right, near], [right, back], [left, back]], "ceiling_height_m": top,
            "walls": [quad((left, back), (right, back)), quad((left, near), (left, back)),
                      quad((right, back), (right, near))]}


def _truth(pitch_deg=-25.0, roll_deg=3.0):
    depth, world_from_camera = room_depth(WIDTH, HEIGHT, FOCAL, pitch_deg, roll_deg)
    sensor = np.where(depth.valid, depth.values, 0.0)  # its walls run up without a ceiling: so do box_room's
    return sensor, world_from_camera, frames.intrinsics_matrix(FOCAL, FOCAL, WIDTH / 2, HEIGHT / 2)


def test_the_true_room_has_no_layout_error():
    sensor, world_from_camera, k = _truth()
    error, within, pixels = layout_depth_error(box_room(top=20.0), world_from_camera, k, (WIDTH, HEIGHT), sensor)
    assert pixels > 0.5 * WIDTH * HEIGHT
    assert error < 1e-4 and within == 1.0


def test_a_wall_placed_too_far_shows_in_the_error_where_it_is_seen():
    sensor, world_from_camera, k = _truth(pitch_deg=-10.0)
    error, within, _ = layout_depth_error(box_room(back=-5.0, top=20.0), world_from_camera, k, (WIDTH, HEIGHT),
                                          sensor)
    assert within < 0.9 and error > 0.0
    # the wall's own pixels are 25 % too far, the floor's in front of it unchanged
    uv = frames.pixel_centers(np.array([WIDTH // 2]), np.array([HEIGHT // 3]))
    rays = frames.pixel_rays(k, uv)
    near, far = shell_depth(box_room(top=20.0), world_from_camera, rays), \
        shell_depth(box_room(back=-5.0, top=20.0), world_from_camera, rays)
    assert far[0] > near[0] * 1.2


def test_the_objects_pixels_and_open_sides_are_left_out_or_wrong():
    sensor, world_from_camera, k = _truth()
    everything = [(0.0, 0.0, float(WIDTH), float(HEIGHT))]
    error, within, pixels = layout_depth_error(box_room(), world_from_camera, k, (WIDTH, HEIGHT), sensor, everything)
    assert pixels == 0 and math.isnan(error) and math.isnan(within)
    no_walls = dict(box_room(), walls=[])  # rays that leave through no surface count as wrong
    error, within, _ = layout_depth_error(no_walls, world_from_camera, k, (WIDTH, HEIGHT), sensor)
    assert within < 1.0
    # a sensor map at another resolution than the photo's lines up with it
    half = sensor[::2, ::2]
    error, within, _ = layout_depth_error(box_room(top=20.0), world_from_camera, k, (WIDTH, HEIGHT), half)
    assert error < 1e-2 and within == 1.0


def _camera(pitch_deg=-20.0, roll_deg=2.0):
    from pipeline.records import CameraEstimate, Intrinsics

    depth, world_from_camera = room_depth(WIDTH, HEIGHT, FOCAL, pitch_deg, roll_deg)
    camera = CameraEstimate(intrinsics=Intrinsics.from_focal(FOCAL, WIDTH, HEIGHT), intrinsics_source="user",
                            world_from_camera=world_from_camera, pitch_rad=math.radians(pitch_deg),
                            roll_rad=math.radians(roll_deg), height_m=1.5, attitude_source="user",
                            height_source="user")
    return depth, camera


def test_a_depth_map_measures_the_walls_it_shows():
    """The walls of the ray-cast room that the map shows come out where they are, measured (the one out of view
    stays inferred), and the shell built on them matches the map; a box over part of the back wall (an object)
    and a doorway onto a farther room change nothing."""
    import dataclasses

    from pipeline.solve.room import SIDE_LAYER_M, measured_sides, room_shell

    depth, camera = _camera()
    sides = measured_sides(depth, camera, 0.0)
    assert set(sides) - {"seen_xz"} == {"left", "far"}  # no ceiling in this room, its right wall out of view
    assert sides["left"] == pytest.approx(-2.0, abs=SIDE_LAYER_M)
    assert sides["far"] == pytest.approx(-4.0, abs=SIDE_LAYER_M)
    # a doorway in the back wall onto a room 3 m farther, and an object's box over another part of it
    values = depth.values.copy()
    values[40:120, 150:160] *= 1.75
    opened = dataclasses.replace(depth, values=values)
    object_box = [(60.0, 30.0, 140.0, 130.0)]
    again = measured_sides(opened, camera, 0.0, object_box)
    assert again["far"] == pytest.approx(-4.0, abs=SIDE_LAYER_M)
    shell = room_shell((), camera, 0.0, again)
    assert {wall.name: wall.source for wall in shell.walls} == {"wall_back": "depth", "wall_left": "depth",
                                                                "wall_right": "inferred"}
    room = {"floor_polygon": [list(p) for p in shell.floor_polygon_m], "ceiling_height_m": 50.0,
            "walls": [{"corners": [list(c) for c in wall.corners_m]} for wall in shell.walls]}
    error, within, _ = layout_depth_error(room, camera.world_from_camera, camera.intrinsics.k_matrix,
                                          (WIDTH, HEIGHT), np.where(depth.valid, depth.values, 0.0))
    assert within > 0.95 and error < 0.01
    inferred = room_shell((), camera, 0.0)
    assert {wall.source for wall in inferred.walls} == {"inferred"}


def test_the_rooms_dimensions_say_what_was_measured():
    """Width, depth, height and floor area of a shell: measured walls give a value with a spread; an inferred or
    unseen end (the side behind the camera) makes it a lower bound; the ceiling's height says it is typical."""
    from pipeline.solve.room import measured_sides, room_dimensions, room_shell

    depth, camera = _camera()
    shell = room_shell((), camera, 0.0, measured_sides(depth, camera, 0.0))
    size = room_dimensions(shell)
    assert set(size) == {"width", "depth", "height", "floor_area"}
    assert size["depth"].source == "depth+inferred" and size["depth"].at_least  # the back wall measured only
    assert size["width"].source == "depth+inferred" and size["width"].at_least  # the right wall out of view
    assert size["height"].source == "prior" and size["height"].sigma is None
    assert size["floor_area"].value == pytest.approx(size["width"].value * size["depth"].value)
    measured = dict(measured_sides(depth, camera, 0.0), right=2.5)  # as if the right wall were seen too
    width = room_dimensions(room_shell((), camera, 0.0, measured))["width"]
    assert width.source == "depth" and not width.at_least and width.sigma > 0
    assert width.value == pytest.approx(4.5, abs=0.1)
    unseen = room_dimensions(room_shell((), camera, 0.0))
    assert all(unseen[name].source == "inferred" and unseen[name].at_least for name in ("width", "depth"))


def test_a_map_of_something_far_larger_than_a_room_gives_no_wall_beyond_a_rooms_reach():
    """A map of surfaces 10 times a room's size (a hall, outdoors): no measured wall lies beyond a room's reach of
    the camera, and the shell stays within it."""
    import dataclasses

    from pipeline.solve.room import ROOM_REACH, measured_sides, room_dimensions, room_shell

    depth, camera = _camera(pitch_deg=-5.0)
    huge = dataclasses.replace(depth, values=depth.values * 10.0)
    sides = measured_sides(huge, camera, 0.0)
    reach = ROOM_REACH * camera.height_m
    assert all(abs(value) <= reach for name, value in sides.items() if name in ("left", "right", "far"))
    size = room_dimensions(room_shell((), camera, 0.0, sides))
    assert size["width"].value <= 2 * reach + 1.0 and size["depth"].value <= reach + 1.0
