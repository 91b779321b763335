"""What the objects' 2D boxes say about the camera (pipeline/camera/objects.py): synthetic rooms with a known
camera and the boxes a perfect detector gives."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline import frames
from pipeline.camera import estimate_camera
from pipeline.camera.objects import object_cue
from pipeline.records import Detection, Photo
from tests.synthetic import make_scene, on_floor

#: The boxes alone give the pitch within this (degrees) when the furniture is of typical size; the roll, which
#: only the difference between left and right objects shows, within the wider bound.
OBJECTS_PITCH_DEG = 3.0
OBJECTS_ROLL_DEG = 5.0


def _living_room(pitch_deg, roll_deg):
    return make_scene([
        on_floor("sofa", 0.0, -3.8),
        on_floor("armchair", -1.8, -2.6, yaw_deg=60.0),
        on_floor("coffee table", 0.1, -2.7),
        on_floor("bookshelf", 1.9, -4.2),
        on_floor("tv stand", -1.2, -4.6),
    ], pitch_deg=pitch_deg, roll_deg=roll_deg, focal_px=900.0, width=1296, height=968)


@pytest.mark.parametrize("pitch_deg,roll_deg", [(-30.0, 2.0), (-12.0, -3.0), (-20.0, 0.0)])
def test_boxes_give_the_attitude(pitch_deg, roll_deg):
    scene = _living_room(pitch_deg, roll_deg)
    cue = object_cue(scene.detections(), 1296, 968)
    assert cue.count >= 3  # those whose top and bottom are in view
    up, _ = cue.best_up(900.0)
    pitch, roll = frames.attitude_from_up_in_camera(up)
    assert math.degrees(pitch) == pytest.approx(pitch_deg, abs=OBJECTS_PITCH_DEG)
    assert math.degrees(roll) == pytest.approx(roll_deg, abs=OBJECTS_ROLL_DEG)
    # the true attitude explains the boxes far better than a level camera
    true_up = frames.up_in_camera_from_attitude(math.radians(pitch_deg), math.radians(roll_deg))
    truth = cue.log_likelihood(true_up[None], 900.0)
    level = cue.log_likelihood(frames.up_in_camera_from_attitude(0.0, 0.0)[None], 900.0)
    assert truth[0] - level[0] > 3.0


def test_only_boxes_that_can_vote():
    """Wall-hung objects, unknown labels and boxes cut by the photo's top or bottom do not vote."""
    detections = (
        Detection("sofa", (300.0, 400.0, 900.0, 700.0), 0),
        Detection("picture", (500.0, 100.0, 700.0, 250.0), 1),
        Detection("thing", (100.0, 300.0, 200.0, 500.0), 2),
        Detection("cabinet", (1000.0, 500.0, 1200.0, 967.0), 3),  # bottom cut by the photo
        Detection("door", (50.0, 0.0, 250.0, 800.0), 4),  # top cut
    )
    cue = object_cue(detections, 1296, 968)
    assert cue.labels == ("sofa",)


def test_no_lines_but_furniture_is_not_taken_as_level():
    """A photo without usable lines but with furniture boxes: the attitude comes from the boxes, with a low
    confidence and a warning, not from assuming a level camera."""
    scene = _living_room(-30.0, 1.0)
    flat = Photo(path=None, rgb=np.full((968, 1296, 3), 128, np.uint8))
    camera = estimate_camera(flat, focal_px=900.0, detections=scene.detections())
    assert camera.attitude_source == "objects"
    assert math.degrees(camera.pitch_rad) == pytest.approx(-30.0, abs=OBJECTS_PITCH_DEG)
    assert camera.attitude_confidence < 0.3
    assert any("tilt uncertain" in w for w in camera.warnings)
    assert estimate_camera(flat, focal_px=900.0).attitude_source == "assumed_level"


def test_thousands_of_boxes_stay_bounded():
    """A hostile answer of thousands of boxes: the largest few vote, and the search's memory stays small."""
    import tracemalloc

    from pipeline.camera.objects import MAX_OBJECTS

    scene = _living_room(-30.0, 1.0)
    boxes = list(scene.detections()) * 600
    tracemalloc.start()
    cue = object_cue(boxes, 1296, 968)
    found = cue.best_up(900.0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert cue.count == MAX_OBJECTS and found is not None
    assert peak < 100e6  # a full grid of 3,000 boxes would take gigabytes
