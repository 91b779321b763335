"""The solver against synthetic scenes with known camera and boxes."""

import dataclasses
import math

import numpy as np
import pytest

from pipeline import frames, priors
from pipeline.camera import estimate_camera
from pipeline.records import Detection, Grounding, Photo
from pipeline.solve import solve, solve_boxes
from tests.synthetic import TruthBox, bedroom, make_scene, on_floor, rendered_depth
from tests.tolerances import (CENTER_EXACT_M, CENTER_WITH_DEPTH_M, HEIGHT_FROM_DEPTH_REL, HEIGHT_FROM_SIZES_REL,
                              HIDDEN_CENTER_M, JOINT_CENTER_M, JOINT_OVERLAP_M, REPROJECTION_PX,
                              SCALE_EQUIVARIANCE_ATOL_M, SIZE_EXACT_M, YAW_EXACT_RAD)


def camera_for(scene, scale=1.0):
    photo = Photo(path=None, rgb=np.zeros((scene.intrinsics.height_px, scene.intrinsics.width_px, 3), np.uint8))
    return estimate_camera(photo, focal_px=scene.intrinsics.fx_px, camera_height_m=scene.height_m * scale,
                           pitch_deg=scene.pitch_deg, roll_deg=scene.roll_deg)


def yaw_error(a, b):
    return abs(frames.wrap_angle(2 * (a - b))) / 2  # modulo pi


def test_prior_sized_boxes_are_recovered():
    truth = make_scene([on_floor("bed", 0.2, -3.6), on_floor("nightstand", -1.0, -4.3),
                        on_floor("wardrobe", -1.6, -4.0, yaw_deg=90.0), on_floor("sofa", 1.5, -2.6, yaw_deg=-90)])
    scene = solve(truth.grounding(), camera_for(truth))
    assert len(scene.objects) == 4
    for obj, box in zip(scene.objects, truth.boxes):
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < CENTER_EXACT_M, obj.label
        extents = np.abs(frames.rot_y(obj.yaw_rad)) @ np.array(obj.size_m)
        truth_extents = np.abs(frames.rot_y(box.yaw_rad)) @ box.size_m
        np.testing.assert_allclose(extents, truth_extents, atol=SIZE_EXACT_M)
        assert yaw_error(obj.yaw_rad, box.yaw_rad) < YAW_EXACT_RAD or \
            yaw_error(obj.yaw_rad + math.pi / 2, box.yaw_rad) < YAW_EXACT_RAD and abs(
                obj.size_m[0] - obj.size_m[2]) < SIZE_EXACT_M


def test_objects_stand_on_the_floor_and_face_the_camera():
    truth = bedroom()
    scene = solve(truth.grounding(), camera_for(truth))
    for obj in scene.objects:
        assert obj.corners_m[:, 1].min() == pytest.approx(0.0, abs=1e-9)
        front = frames.rot_y(obj.yaw_rad) @ [0, 0, 1]
        assert front @ (np.array([0, 1.45, 0]) - np.array(obj.center_m)) > 0


def test_solved_boxes_reproject_onto_their_2d_boxes():
    truth = bedroom()
    camera = camera_for(truth)
    scene = solve(truth.grounding(), camera)
    for obj, detection in zip(scene.objects, truth.detections()):
        uv, _ = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, obj.corners_m)
        projected = np.concatenate([uv.min(axis=0), uv.max(axis=0)])
        projected = np.clip(projected, 0, [1024, 768, 1024, 768])
        np.testing.assert_allclose(projected, detection.box_xyxy_px, atol=REPROJECTION_PX * 3)


def test_lamp_stands_on_nightstand():
    nightstand = on_floor("nightstand", 1.0, -3.5)
    top = nightstand.center_m[1] + nightstand.size_m[1] / 2
    lamp = on_floor("table lamp", 1.0, -3.5)
    lamp = type(lamp)("table lamp", lamp.center_m + [0, top, 0], lamp.size_m, 0.0)
    truth = make_scene([nightstand, lamp])
    scene = solve(truth.grounding(), camera_for(truth))
    solved_lamp = scene.objects[1]
    assert solved_lamp.corners_m[:, 1].min() == pytest.approx(top, abs=0.02)
    assert np.linalg.norm(np.array(solved_lamp.center_m) - lamp.center_m) < CENTER_EXACT_M


def test_unknown_label_gets_generic_box_and_warning():
    truth = make_scene([on_floor("chair", 0.0, -3.0)])
    detection = truth.detections()[0]
    grounding = Grounding((Detection("flux capacitor", detection.box_xyxy_px, 0),), "pixels", "test")
    scene = solve(grounding, camera_for(truth))
    assert scene.objects[0].category == "unknown"
    assert any("flux capacitor" in w for w in scene.warnings)


def test_box_covering_whole_image_and_no_detections():
    truth = make_scene([])
    camera = camera_for(truth)
    whole = Grounding((Detection("bed", (0.0, 0.0, 1024.0, 768.0), 0),), "pixels", "test")
    scene = solve(whole, camera)
    assert len(scene.objects) == 1 and np.all(np.isfinite(scene.objects[0].corners_m))
    assert any("covers the whole photo" in w for w in scene.warnings)
    prior_camera = estimate_camera(Photo(path=None, rgb=np.zeros((768, 1024, 3), np.uint8)), focal_px=800.0)
    with_prior = solve(whole, prior_camera)  # a box that shows nothing does not move the scale
    assert with_prior.camera.height_m == prior_camera.height_m
    empty = solve(Grounding((), "none", "test"), camera)
    assert empty.objects == () and len(empty.room.walls) == 3


def test_five_hundred_random_detections_end_cleanly():
    rng = np.random.default_rng(3)
    truth = make_scene([])
    labels = ["chair", "bed", "lamp", "床", "<b>sofa</b>", "thing", "table", "plant"]
    detections = []
    for index in range(500):
        x1, y1 = rng.uniform(0, 1000), rng.uniform(0, 760)
        x2, y2 = min(1024.0, x1 + rng.uniform(2, 400)), min(768.0, y1 + rng.uniform(2, 400))
        detections.append(Detection(labels[index % len(labels)], (x1, y1, x2, y2), index))
    scene = solve(Grounding(tuple(detections), "pixels", "test"), camera_for(truth))
    assert len(scene.objects) == 500
    assert all(np.all(np.isfinite(obj.corners_m)) for obj in scene.objects)
    assert [obj.detection_index for obj in scene.objects] == list(range(500))


def test_objects_cut_by_the_border_and_touching():
    """A wardrobe cut by the left border and two nightstands touching each other."""
    truth = make_scene([on_floor("wardrobe", -2.1, -3.2), on_floor("nightstand", 0.25, -3.5),
                        on_floor("nightstand", 0.75, -3.5)])
    detections = truth.detections()
    assert detections[0].box_xyxy_px[0] == 0.0  # really cut
    scene = solve(truth.grounding(), camera_for(truth))
    for obj, box in zip(scene.objects[1:], truth.boxes[1:]):
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < CENTER_EXACT_M
    # the cut wardrobe still stands where its visible part says: its right side and depth match
    wardrobe = scene.objects[0]
    assert wardrobe.corners_m[:, 0].max() == pytest.approx(truth.boxes[0].corners_m[:, 0].max(), abs=0.1)
    gap = scene.objects[2].corners_m[:, 0].min() - scene.objects[1].corners_m[:, 0].max()
    assert gap == pytest.approx(0.0, abs=0.05)


def test_qwen3_bbox_3d_only_input_is_solved():
    """Qwen3-VL 3D boxes alone (for its virtual camera) land where the truth is, with the real camera."""
    import json

    from pipeline.grounding import parse_grounding

    truth = bedroom()
    k_real = truth.intrinsics.k_matrix
    virtual = frames.qwen3_virtual_intrinsics(truth.intrinsics.width_px, truth.intrinsics.height_px)
    entries = []
    for box in truth.boxes:
        cam_box = frames.camera_box_from_upright_box(box.center_m, box.size_m, box.yaw_rad, truth.world_from_camera)
        seen_by_model = frames.camera_box_for_intrinsics(*cam_box, k_real, virtual)
        entries.append({"bbox_3d": [round(v, 4) for v in frames.qwen3_bbox3d_from_camera_box(*seen_by_model)],
                        "label": box.label})
    grounding = parse_grounding("```json\n" + json.dumps(entries) + "\n```", 1024, 768, format="qwen3")
    assert len(grounding.detections) == len(truth.boxes)
    scene = solve(grounding, camera_for(truth))
    for obj, box in zip(scene.objects, truth.boxes):
        if obj.label == "wardrobe":  # cut by two borders: its 2D box says little, its 3D box is the prior
            assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < 0.3
            continue
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < CENTER_EXACT_M, obj.label


def _scaled_priors(boxes, scale):
    return {index: dataclasses.replace(priors.lookup(box.label),
                                       size_m=tuple(scale * v for v in priors.lookup(box.label).size_m))
            for index, box in enumerate(boxes)}


@pytest.mark.parametrize("scale", [0.5, 0.8, 1.25, 2.0])
def test_scaling_the_scene_and_the_camera_height_scales_the_answer(scale):
    """Metric scale is the camera height's: the same photo of a room ``scale`` times larger, taken from ``scale``
    times higher (with size priors of the same room), gives every box ``scale`` times larger and farther."""
    truth = bedroom()
    larger = make_scene([TruthBox(b.label, b.center_m * scale, b.size_m * scale, b.yaw_rad) for b in truth.boxes],
                        height_m=truth.height_m * scale)
    np.testing.assert_allclose([d.box_xyxy_px for d in larger.detections()],
                               [d.box_xyxy_px for d in truth.detections()], atol=1e-6)  # the same photo
    base = solve_boxes(truth.grounding(), camera_for(truth), size_priors=_scaled_priors(truth.boxes, 1.0))
    scaled = solve_boxes(larger.grounding(), camera_for(larger), size_priors=_scaled_priors(truth.boxes, scale))
    assert scaled.camera.height_m == pytest.approx(scale * base.camera.height_m)
    for a, b in zip(base.objects, scaled.objects):
        np.testing.assert_allclose(b.corners_m, scale * a.corners_m, atol=SCALE_EQUIVARIANCE_ATOL_M * scale)
        assert a.notes == b.notes and a.yaw_rad == pytest.approx(b.yaw_rad)


@pytest.mark.parametrize("true_height_m", [1.2, 1.6])
def test_object_sizes_set_the_scale_when_the_camera_height_is_unknown(true_height_m):
    """Prior-sized objects seen from an unknown height: the scene's scale (the camera height) comes from them."""
    truth = bedroom()
    truth = make_scene(list(truth.boxes), height_m=true_height_m)
    photo = Photo(path=None, rgb=np.zeros((768, 1024, 3), np.uint8))
    camera = estimate_camera(photo, focal_px=truth.intrinsics.fx_px, pitch_deg=truth.pitch_deg,
                             roll_deg=truth.roll_deg)
    assert camera.height_source == "prior"
    scene = solve(truth.grounding(), camera)
    assert scene.camera.height_m == pytest.approx(true_height_m, rel=HEIGHT_FROM_SIZES_REL)
    for obj, box in zip(scene.objects, truth.boxes):
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < HEIGHT_FROM_SIZES_REL * 6, obj.label


def _overlap_m(a, b):
    lo_a, hi_a = a.corners_m.min(axis=0), a.corners_m.max(axis=0)
    lo_b, hi_b = b.corners_m.min(axis=0), b.corners_m.max(axis=0)
    overlap = np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b)
    return min(overlap[0], overlap[2]) if np.all(overlap > 0) else 0.0


def test_boxes_that_would_interpenetrate_are_kept_apart(monkeypatch):
    """A nightstand against the bed's side, its 2D box a little too wide towards the bed (as a model's box often
    is): fitted alone it would stand inside the bed; solved together they touch and neither moves far."""
    import pipeline.solve.boxes

    truth = make_scene([on_floor("bed", 0.0, -3.6), on_floor("nightstand", 1.06, -4.4)])
    bed, nightstand = truth.detections()
    x1, y1, x2, y2 = nightstand.box_xyxy_px
    grounding = Grounding((bed, dataclasses.replace(nightstand, box_xyxy_px=(x1 - 25.0, y1, x2, y2))), "pixels", "t")
    with monkeypatch.context() as patch:
        patch.setattr(pipeline.solve.boxes, "refine_jointly", lambda objects, *args, **kwargs: (objects, []))
        alone = solve(grounding, camera_for(truth))
    assert _overlap_m(*alone.objects) > 3 * JOINT_OVERLAP_M, "the test needs fits that interpenetrate alone"
    scene = solve(grounding, camera_for(truth))
    assert _overlap_m(*scene.objects) < JOINT_OVERLAP_M
    assert "kept out of bed" in scene.objects[1].notes
    for obj, box in zip(scene.objects, truth.boxes):
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < JOINT_CENTER_M, obj.label


def test_a_chair_may_stand_under_a_desk():
    truth = make_scene([on_floor("desk", 0.0, -3.5), on_floor("chair", 0.1, -3.25)])
    scene = solve(truth.grounding(), camera_for(truth))
    assert _overlap_m(*scene.objects) > 0.1
    assert not any("kept out of" in n for o in scene.objects for n in o.notes)


@pytest.mark.parametrize("true_height_m", [1.1, 1.9])
def test_metric_depth_sets_the_scale(true_height_m):
    """A camera held unusually low or high: the hand-held prior pulls the scale from the objects' sizes towards
    1.4 m; a metric depth map (a sensor's: its floor measures the camera height) sets it, and the boxes follow."""
    from pipeline.depth import depth_for_scene, depth_scale  # Open3D when installed, else its numpy fallback

    truth = make_scene(list(bedroom().boxes), height_m=true_height_m)
    photo = Photo(path=None, rgb=np.zeros((768, 1024, 3), np.uint8))
    camera = estimate_camera(photo, focal_px=truth.intrinsics.fx_px, pitch_deg=truth.pitch_deg,
                             roll_deg=truth.roll_deg)
    without = solve(truth.grounding(), camera)
    assert abs(without.camera.height_m / true_height_m - 1) > 2 * HEIGHT_FROM_DEPTH_REL  # the prior's pull
    depth, record = depth_for_scene(rendered_depth(truth), camera)
    scene = solve(truth.grounding(), camera, depth=depth, depth_scale=depth_scale(record))
    assert scene.camera.height_m == pytest.approx(true_height_m, rel=HEIGHT_FROM_DEPTH_REL)
    assert scene.camera.height_source.startswith("depth_floor")
    for obj, box in zip(scene.objects, truth.boxes):
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < CENTER_WITH_DEPTH_M, obj.label


def test_a_desk_in_the_middle_of_the_room_keeps_its_fit(monkeypatch):
    """Objects that usually stand against a wall (a desk) turn their back to one only when a wall is near: a desk
    in the middle of the room, seen exactly, comes back as it is."""
    import pipeline.solve.boxes

    truth = make_scene([on_floor("wardrobe", -2.6, -4.5, yaw_deg=90.0), on_floor("bookshelf", 2.6, -4.8,
                                                                                  yaw_deg=-90.0),
                        on_floor("bed", 0.0, -6.2), on_floor("desk", 0.3, -3.4)])
    for reach in (math.inf, None):  # without the reach the desk turns to a far wall: the test can fail
        with monkeypatch.context() as patch:
            if reach is not None:
                patch.setattr(pipeline.solve.boxes, "WALL_REACH", reach)
            desk = solve(truth.grounding(), camera_for(truth)).objects[3]
        error = np.linalg.norm(np.array(desk.center_m) - truth.boxes[3].center_m)
        if reach is not None:
            assert error > CENTER_EXACT_M or "back to a wall" in desk.notes
            continue
        assert error < CENTER_EXACT_M and "back to a wall" not in desk.notes
        np.testing.assert_allclose(desk.size_m, truth.boxes[3].size_m, atol=SIZE_EXACT_M)


def test_boxes_that_show_no_floor_contact_are_placed_by_size_and_leave_the_scale_alone():
    """Boxes whose bottom edge is at or above the horizon (a model's box around something high up, or a wrong
    one): a warning, a placement by the object's typical size (not metres away on a floor it cannot reach), and
    the scale is left to the boxes that do show the floor."""
    truth = bedroom()
    photo = Photo(path=None, rgb=np.zeros((768, 1024, 3), np.uint8))
    camera = estimate_camera(photo, focal_px=truth.intrinsics.fx_px, pitch_deg=truth.pitch_deg,
                             roll_deg=truth.roll_deg)
    base = solve(truth.grounding(), camera)
    high = (Detection("sofa", (600.0, 20.0, 900.0, 110.0), 10), Detection("wardrobe", (100.0, 5.0, 300.0, 120.0), 11))
    grounding = Grounding((*truth.detections(), *high), "pixels", "test")
    scene = solve(grounding, camera)
    assert sum("at or above the horizon" in w for w in scene.warnings) == 2
    assert scene.camera.height_m == pytest.approx(base.camera.height_m, rel=1e-3)
    for obj in scene.objects[-2:]:
        assert np.linalg.norm(np.array(obj.center_m)[[0, 2]]) < 10.0, obj.label
        assert max(obj.size_m) < 3.0, obj.label



def test_wall_and_ceiling_hung_objects_at_their_typical_height():
    """A picture and a window on the far wall and a lamp hung from the ceiling, at their categories' typical
    heights: each lands where it is (none forced onto the floor), and none sets the scale."""
    hung = []
    for label, x, z in (("picture", -0.8, -5.0), ("window", 1.2, -5.0), ("ceiling light", 0.0, -3.0)):
        prior = priors.lookup(label)
        size = np.array(prior.size_m)
        hung.append(TruthBox(label, np.array([x, prior.elevation_m + 0.5 * size[1], z]), size, 0.0))
    truth = make_scene([on_floor("bed", 0.0, -3.8), *hung])
    scene = solve(truth.grounding(), camera_for(truth))
    assert not any("horizon" in w for w in scene.warnings)
    for obj, box in zip(scene.objects[1:], truth.boxes[1:]):
        assert np.linalg.norm(np.array(obj.center_m) - box.center_m) < CENTER_EXACT_M, obj.label
        assert any(n.startswith("hung on the") for n in obj.notes)


@pytest.mark.parametrize("label, yaw_deg", [("sofa", 0.0), ("bed", 90.0), ("desk", 0.0), ("wardrobe", 90.0)])
def test_orientation_is_stable_under_small_camera_errors(label, yaw_deg):
    """The same 2D box solved with the focal 10 % off either way or the pitch 1 degree off: the object keeps its
    orientation (a sofa against a wall must not turn by 90 degrees and stick out into the room)."""
    truth = make_scene([on_floor(label, 0.3, -3.4, yaw_deg=yaw_deg)])
    grounding = truth.grounding()
    photo = Photo(path=None, rgb=np.zeros((768, 1024, 3), np.uint8))
    for focal_scale, pitch_offset in ((1.0, 0.0), (0.9, 0.0), (1.1, 0.0), (1.0, -1.0), (1.0, 1.0)):
        camera = estimate_camera(photo, focal_px=truth.intrinsics.fx_px * focal_scale,
                                 camera_height_m=truth.height_m, pitch_deg=truth.pitch_deg + pitch_offset,
                                 roll_deg=truth.roll_deg)
        obj = solve(grounding, camera).objects[0]
        assert yaw_error(obj.yaw_rad, truth.boxes[0].yaw_rad) < math.radians(10.0), (focal_scale, pitch_offset)


@pytest.mark.parametrize("pitch_deg", [-5.0, -15.0])
def test_a_wall_cabinet_is_raised_not_thrown_beyond_the_room(pitch_deg):
    """A kitchen wall cabinet (a floor category that may hang) 1.4 m up, its bottom edge just below the horizon:
    taken for a floor contact it would stand tens of metres away and metres tall. The photo alone places it raised,
    near its true place, and says so; a cabinet on the floor beside it stays on the floor."""
    size = np.array(priors.lookup("cabinet").size_m)
    wall = TruthBox("cabinet", np.array([0.4, 1.4 + 0.5 * size[1], -3.5]), size, 0.0)
    truth = make_scene([wall, on_floor("cabinet", -0.8, -3.3)], pitch_deg=pitch_deg, roll_deg=0.0, height_m=1.5)
    scene = solve(truth.grounding(), camera_for(truth), refine_scale=False)
    raised, standing = scene.objects
    assert np.linalg.norm(np.array(raised.center_m) - wall.center_m) < HIDDEN_CENTER_M
    assert any("raised" in note for note in raised.notes)
    assert standing.corners_m[:, 1].min() == pytest.approx(0.0, abs=1e-6)
    assert not any("raised" in note for note in standing.notes)
    assert np.linalg.norm(np.array(standing.center_m) - truth.boxes[1].center_m) < CENTER_EXACT_M
