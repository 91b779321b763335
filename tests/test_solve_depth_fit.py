"""Depth-first boxes (pipeline/solve/depth_fit.py) and occlusion-aware contacts (pipeline/solve/contacts.py),
on synthetic scenes with a known camera, boxes and a ray-cast metric depth map."""

import dataclasses

import numpy as np
import pytest

from pipeline import frames
from pipeline.records import Detection, Grounding
from pipeline.solve import solve
from pipeline.solve.contacts import hidden_bottoms
from tests.synthetic import TruthBox, make_scene, on_floor, rendered_depth
from tests.test_solve import camera_for
from tests.tolerances import CENTER_WITH_DEPTH_M, HIDDEN_CENTER_M, SIZE_EXACT_M

#: The room's back wall behind every scene here (a thin box, not a detection).
BACK_WALL = TruthBox("wall", np.array([0.0, 1.5, -6.05]), np.array([12.0, 3.0, 0.1]), 0.0)


def render_depth(truth, extra=(BACK_WALL,)):
    """Metric depth of a synthetic scene with the back wall behind it."""
    return rendered_depth(truth, extra)


def test_an_object_unlike_its_prior_is_measured_by_its_points():
    """A cabinet 40 % wider and 25 % taller than the prior's: its own depth points give its place and size."""
    truth = make_scene([on_floor("cabinet", 0.3, -3.2, size_scale=(1.4, 1.25, 1.0))])
    scene = solve(truth.grounding(), camera_for(truth), depth=render_depth(truth))
    obj, box = scene.objects[0], truth.boxes[0]
    assert obj.size_source.startswith("depth")
    assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < CENTER_WITH_DEPTH_M
    extents = np.abs(frames.rot_y(obj.yaw_rad)) @ np.array(obj.size_m)
    truth_extents = np.abs(frames.rot_y(box.yaw_rad)) @ box.size_m
    np.testing.assert_allclose(extents[:2], truth_extents[:2], atol=SIZE_EXACT_M)


def test_a_wall_cabinet_is_not_stretched_to_the_floor():
    """A "cabinet" (a floor category) hung on the back wall, its bottom 1.3 m up and the wall seen below it: the
    depth shows it does not stand on the floor, and it keeps its own height."""
    size = np.array([1.0, 0.7, 0.35])
    cabinet = TruthBox("cabinet", np.array([0.0, 1.3 + 0.35, -6.0 + 0.175]), size, 0.0)
    truth = make_scene([cabinet], pitch_deg=-5.0)
    scene = solve(truth.grounding(), camera_for(truth), depth=render_depth(truth))
    obj = scene.objects[0]
    assert any("above the floor" in note for note in obj.notes)
    assert obj.corners_m[:, 1].min() == pytest.approx(1.3, abs=CENTER_WITH_DEPTH_M)
    assert obj.size_m[1] == pytest.approx(0.7, abs=CENTER_WITH_DEPTH_M)
    assert np.linalg.norm(np.array(obj.center_m) - cabinet.center_m) < CENTER_WITH_DEPTH_M


def _occluded(truth, hidden_index, front_index):
    """The scene's grounding with object ``hidden_index``'s 2D box cut where object ``front_index`` hides it
    (a detector boxes what it sees)."""
    detections = list(truth.detections())
    x1, y1, x2, _ = detections[hidden_index].box_xyxy_px
    top_of_front = detections[front_index].box_xyxy_px[1]
    detections[hidden_index] = dataclasses.replace(detections[hidden_index], box_xyxy_px=(x1, y1, x2,
                                                                                          top_of_front + 2.0))
    return Grounding(tuple(detections), "pixels", "synthetic")


def test_a_bottom_hidden_behind_a_bed_is_no_floor_contact(monkeypatch):
    """A bookshelf behind a bed, its 2D box cut by the bed's top: cast onto the floor, that edge would put it
    metres beyond the bed; it stands just behind the bed instead, with a note; with a depth map, exactly."""
    import pipeline.solve.boxes

    truth = make_scene([on_floor("bed", 0.0, -3.4), on_floor("bookshelf", 0.0, -5.0)])
    grounding = _occluded(truth, 1, 0)
    assert hidden_bottoms([d.box_xyxy_px for d in grounding.detections], [True, True], 768) == {1: 0}
    with monkeypatch.context() as patch:  # without the rule: the edge is taken for a floor contact
        patch.setattr(pipeline.solve.boxes, "hidden_bottoms", lambda *args: {})
        thrown = solve(grounding, camera_for(truth), refine_scale=False).objects[1]
    scene = solve(grounding, camera_for(truth), refine_scale=False)
    shelf = scene.objects[1]
    assert np.linalg.norm(np.array(thrown.center_m) - truth.boxes[1].center_m) > 2.0
    assert any(note.startswith("its bottom is hidden behind bed") for note in shelf.notes)
    assert np.linalg.norm(np.array(shelf.center_m) - truth.boxes[1].center_m) < HIDDEN_CENTER_M
    assert shelf.corners_m[:, 1].min() == pytest.approx(0.0, abs=1e-6)
    measured = solve(grounding, camera_for(truth), refine_scale=False, depth=render_depth(truth)).objects[1]
    assert measured.size_source.startswith("depth")
    assert np.linalg.norm(np.array(measured.center_m) - truth.boxes[1].center_m) < CENTER_WITH_DEPTH_M


def test_side_by_side_objects_do_not_hide_each_other():
    boxes = [(100.0, 300.0, 400.0, 600.0), (380.0, 200.0, 700.0, 640.0), (500.0, 100.0, 600.0, 300.0)]
    # the second reaches lower and spans only a sliver of the first; the third is hung (not standing)
    assert hidden_bottoms(boxes, [True, True, False], 768) == {}


def test_no_object_is_placed_beyond_any_room():
    """A 2D box whose bottom edge lies a pixel below the horizon would cast onto the floor hundreds of metres
    away: the object is brought back within a room's reach of the camera, and the terminal is told."""
    from pipeline.solve.boxes import ROOM_REACH

    truth = make_scene([], pitch_deg=0.0, roll_deg=0.0, height_m=1.4)
    camera = camera_for(truth)
    horizon = truth.intrinsics.k_matrix[1, 2]
    far = Grounding((Detection("cabinet", (500.0, horizon - 60.0, 540.0, horizon + 1.0), 0, 0.9),), "pixels", "t")
    scene = solve(far, camera, refine_scale=False)
    obj = scene.objects[0]
    reach = np.hypot(obj.center_m[0], obj.center_m[2])
    assert reach <= ROOM_REACH * 1.4 + 1e-6
    assert any("clamped" in note for note in obj.notes)
    assert any("clamped" in warning and "'cabinet' (entry 0)" in warning for warning in scene.warnings)


def test_an_object_the_map_does_not_show_keeps_its_2d_fit_and_says_so():
    """A sensor's map with no return on the object (glass, black, too far): its fit to the 2D box stays, and its
    notes say why the depth did not place it."""
    from pipeline.solve.boxes import DEPTH_UNSEEN_NOTE

    truth = make_scene([on_floor("cabinet", 0.3, -3.2)])
    depth = render_depth(truth)
    x1, y1, x2, y2 = (int(v) for v in truth.detections()[0].box_xyxy_px)
    valid = depth.valid.copy()
    valid[y1:y2 + 1, x1:x2 + 1] = False
    scene = solve(truth.grounding(), camera_for(truth), depth=dataclasses.replace(depth, valid=valid))
    obj = scene.objects[0]
    assert DEPTH_UNSEEN_NOTE in obj.notes and not obj.size_source.startswith("depth")
    assert np.linalg.norm(np.array(obj.center_m) - truth.boxes[0].center_m) < CENTER_WITH_DEPTH_M


def test_a_box_the_map_hides_or_misses_conflicts_with_it():
    """A cabinet's true box shows on its 2D box's pixels; the same box pushed back along its rays (as a fit to a
    hidden bottom edge would) hides behind what the map sees, and one moved aside misses its 2D box: both are
    unseen on most of the pixels where the photo shows the object (the pushed one behind the cabinet's own front, and
    seen through nowhere)."""
    from pipeline.solve.depth_fit import depth_conflicts

    truth = make_scene([on_floor("cabinet", 0.3, -3.2)])
    camera, depth, box = camera_for(truth), render_depth(truth), truth.boxes[0]
    x1, y1, x2, y2 = (round(v) for v in truth.detections()[0].box_xyxy_px)
    seen_in = np.zeros(depth.values.shape, dtype=bool)
    seen_in[y1:y2, x1:x2] = True
    origin = camera.world_from_camera[:3, 3]
    pushed = dataclasses.replace(box, center_m=origin + 1.6 * (box.center_m - origin), size_m=1.6 * box.size_m)
    aside = dataclasses.replace(box, center_m=box.center_m + np.array([1.5, 0.0, 0.0]))
    through, unseen = depth_conflicts(box, depth, camera, seen_in)
    assert through < 0.05 and unseen < 0.3  # the corners of the 2D box outside the box's outline
    through, unseen = depth_conflicts(pushed, depth, camera, seen_in)
    assert through < 0.05 and unseen > 0.9
    assert depth_conflicts(aside, depth, camera, seen_in)[1] > 0.9


def test_an_object_is_seen_where_no_other_box_covers_it():
    """Where an object is seen: its 2D box less the boxes of others (a chair before a desk hides part of it), or the
    whole box when others cover nearly all of it (it must be seen somewhere)."""
    from pipeline.solve.depth_fit import seen_pixels

    desk = Detection("desk", (100.0, 100.0, 300.0, 200.0), 0, 0.9)
    chair = Detection("chair", (250.0, 120.0, 320.0, 240.0), 1, 0.9)
    seen = seen_pixels(desk, [desk, chair], (300, 400))
    assert seen.sum() == 200 * 100 - 50 * 80 and seen[150, 200] and seen[110, 260] and not seen[150, 260]
    assert not seen[50, 50]
    covering = Detection("bed", (90.0, 90.0, 310.0, 210.0), 2, 0.9)
    assert seen_pixels(desk, [desk, covering], (300, 400)).sum() == 200 * 100


def test_a_side_hidden_behind_a_nearer_object_is_no_edge(monkeypatch):
    """A cabinet whose right part is hidden behind a refrigerator standing nearer, its 2D box ending where
    the refrigerator starts: the map shows that side as an occluding edge, so the cabinet may reach on behind the
    refrigerator, and it keeps its width; taken for the cabinet's own edge, the side squeezes it."""
    import pipeline.solve.boxes
    from pipeline.solve.depth_fit import occluded_sides

    truth = make_scene([on_floor("cabinet", -0.3, -4.0), on_floor("refrigerator", 0.3, -2.8)], pitch_deg=-8.0,
                       roll_deg=0.0)
    detections = list(truth.detections())
    x1, y1, _, y2 = detections[0].box_xyxy_px
    detections[0] = dataclasses.replace(detections[0], box_xyxy_px=(x1, y1, detections[1].box_xyxy_px[0], y2))
    grounding, depth, camera = Grounding(tuple(detections), "pixels", "synthetic"), render_depth(truth), \
        camera_for(truth)
    assert occluded_sides(detections[0].box_xyxy_px, depth).tolist() == [False, False, True, False]
    assert not occluded_sides(detections[1].box_xyxy_px, depth).any()
    cabinet = solve(grounding, camera, refine_scale=False, depth=depth).objects[0]
    assert "its right side is hidden behind refrigerator" in cabinet.notes
    with monkeypatch.context() as patch:  # the side taken for the cabinet's own edge
        patch.setattr(pipeline.solve.boxes, "open_sides", lambda notes: np.zeros(4, dtype=bool))
        patch.setattr(pipeline.solve.depth_fit, "occluded_sides", lambda box, depth: np.zeros(4, dtype=bool))
        squeezed = solve(grounding, camera, refine_scale=False, depth=depth).objects[0]
    width = truth.boxes[0].size_m[0]
    assert abs(max(cabinet.size_m[0], cabinet.size_m[2]) - width) < SIZE_EXACT_M
    assert np.linalg.norm(np.array(cabinet.center_m) - truth.boxes[0].center_m) < CENTER_WITH_DEPTH_M
    assert max(squeezed.size_m[0], squeezed.size_m[2]) < 0.8 * width
    assert np.linalg.norm(np.array(squeezed.center_m) - truth.boxes[0].center_m) > CENTER_WITH_DEPTH_M
