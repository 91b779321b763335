"""Spatial relations from a solved scene: exact gaps between upright boxes, directions as seen from the camera,
gaps to the walls, the sentence, the ``room3d relations`` command and the relations inside ``scene.json``."""

import json
import math

import numpy as np
import pytest

from pipeline import frames
from pipeline.build import BuildOptions, build
from pipeline.cli import main
from pipeline.errors import UserError
from pipeline.records import Wall
from pipeline.relations import (DEAD_ZONE_M, MAX_OBJECTS_ALL_PAIRS, MAX_PAIR_GAP_M, describe, pair, relations)
from tests.conftest import SAMPLES

#: Gaps and offsets computed in closed form vs the expected value (metres; the output is rounded to 1e-6 m).
GAP_ATOL = 1e-6


def box(name, center, size, yaw=0.0, label=None):
    """A scene.json object; ``center`` given as (x, z) stands on the floor."""
    size = [float(v) for v in size]
    if len(center) == 2:
        center = [center[0], size[1] / 2, center[1]]
    center = [float(v) for v in center]
    return {"name": name, "label": label or name.split(".")[0], "center": center, "size": size, "yaw": yaw,
            "corners": frames.box_corners(center, size, yaw).tolist()}


def wall(name, floor_left, floor_right, height=2.6):
    (x0, z0), (x1, z1) = floor_left, floor_right
    corners = [[x0, 0.0, z0], [x1, 0.0, z1], [x1, height, z1], [x0, height, z0]]
    return {"name": name, "corners": corners, "plane": Wall(name, corners).plane.tolist()}


def scene(objects, yaw_rad=0.0, pitch_rad=-0.2, roll_rad=0.0, walls=()):
    world_from_camera = frames.world_from_camera_from_attitude(pitch_rad, roll_rad, 1.4, yaw_rad)
    return {"objects": list(objects), "camera": {"world_from_camera": world_from_camera.tolist()},
            "room": {"walls": list(walls)}}


def only_pair(rel):
    assert len(rel["pairs"]) == 1
    return rel["pairs"][0]


def test_side_by_side_gap_and_left_right():
    rel = relations(scene([box("bed", (-0.75, -3.0), (1, 1, 1)), box("wardrobe", (0.75, -3.0), (1, 1, 1))]))
    entry = only_pair(rel)
    assert (entry["a"], entry["b"]) == ("bed", "wardrobe")
    assert entry["gap_m"] == pytest.approx(0.5, abs=GAP_ATOL)
    assert entry["horizontal_gap_m"] == pytest.approx(0.5, abs=GAP_ATOL) and entry["vertical_gap_m"] == 0.0
    assert entry["distance_m"] == pytest.approx(1.5, abs=GAP_ATOL)
    assert entry["right_m"] == pytest.approx(1.5, abs=GAP_ATOL)
    assert entry["forward_m"] == pytest.approx(0.0, abs=GAP_ATOL) and entry["up_m"] == 0.0
    assert entry["relations"] == ["right_of"]
    # the other way round: the bed is left of the wardrobe
    back = pair(rel, "wardrobe", "bed")
    assert back["relations"] == ["left_of"] and back["right_m"] == pytest.approx(-1.5)
    assert back["gap_m"] == entry["gap_m"]


@pytest.mark.parametrize("yaw_deg", [90.0, -90.0, 30.0, 180.0])
def test_directions_follow_the_camera_not_the_world_axes(yaw_deg):
    """Side by side along the camera's right axis: left/right; along its viewing direction: front/behind."""
    yaw = math.radians(yaw_deg)
    right = np.array([math.cos(yaw), -math.sin(yaw)])  # camera right on the floor (x, z): Ry(yaw) @ +X
    forward = np.array([-math.sin(yaw), -math.cos(yaw)])  # Ry(yaw) @ -Z
    origin = 3.0 * forward
    objects = [box("sofa", origin, (1, 0.8, 1)),
               box("lamp", origin + 1.5 * right, (0.3, 1.5, 0.3)),
               box("table", origin - 2.0 * forward, (0.6, 0.5, 0.6)),
               box("shelf", origin + 2.0 * forward - 1.5 * right, (0.8, 2.0, 0.4))]
    rel = relations(scene(objects, yaw_rad=yaw, pitch_rad=-0.3, roll_rad=0.1))
    np.testing.assert_allclose(rel["camera_axes"]["right"], [right[0], 0, right[1]], atol=1e-12)
    np.testing.assert_allclose(rel["camera_axes"]["forward"], [forward[0], 0, forward[1]], atol=1e-12)
    lamp, table, shelf = (pair(rel, "sofa", name) for name in ("lamp", "table", "shelf"))
    assert lamp["relations"] == ["right_of"] and lamp["right_m"] == pytest.approx(1.5, abs=GAP_ATOL)
    assert table["relations"] == ["in_front_of"] and table["forward_m"] == pytest.approx(-2.0, abs=GAP_ATOL)
    assert shelf["relations"] == ["left_of", "behind"]
    assert pair(rel, "lamp", "sofa")["relations"] == ["left_of"]
    assert pair(rel, "table", "sofa")["relations"] == ["behind"]


def test_camera_roll_does_not_turn_the_axes():
    """The viewing direction on the floor is the camera's yaw whatever its pitch and roll."""
    objects = [box("a", (0, -3), (1, 1, 1)), box("b", (1.5, -3), (1, 1, 1))]
    for pitch, roll in ((0.0, 0.0), (-0.4, 0.3), (-1.2, -0.5), (-math.pi / 2, 0.0)):
        rel = relations(scene(objects, pitch_rad=pitch, roll_rad=roll))
        np.testing.assert_allclose(rel["camera_axes"]["right"], [1, 0, 0], atol=1e-9)
        np.testing.assert_allclose(rel["camera_axes"]["forward"], [0, 0, -1], atol=1e-9)
        assert only_pair(rel)["relations"] == ["right_of"]


def test_dead_zone_near_aligned_is_neither():
    objects = [box("bed", (0, -3), (1, 1, 1)),
               box("plant", (DEAD_ZONE_M / 2, -5), (0.3, 1, 0.3)),  # straight behind, a little to the right
               box("chair", (0.4, -5), (0.5, 1, 0.5)),  # mostly behind: inside the 45-degree sector of "behind"
               box("desk", (2.0, -5), (1, 1, 0.5))]  # diagonal: both
    rel = relations(scene(objects))
    assert pair(rel, "bed", "plant")["relations"] == ["behind"]
    assert pair(rel, "bed", "chair")["relations"] == ["behind"]
    assert pair(rel, "bed", "desk")["relations"] == ["right_of", "behind"]
    assert pair(rel, "plant", "chair")["relations"] == ["right_of"]


def test_lamp_on_nightstand_is_on_top_of():
    nightstand = box("nightstand", (1.2, -3.5), (0.5, 0.55, 0.4), yaw=0.3)
    lamp = box("table lamp", [1.22, 0.55 + 0.2, -3.52], (0.25, 0.4, 0.25), yaw=-0.5)
    rel = relations(scene([nightstand, lamp, box("bed", (0, -3.5), (1.4, 0.6, 2.0))]))
    entry = pair(rel, "nightstand", "table lamp")
    assert entry["relations"] == ["above", "on_top_of"]  # no left/right/behind for a small offset on top
    assert entry["gap_m"] == 0.0 and entry["up_m"] == pytest.approx(0.475)
    assert pair(rel, "table lamp", "nightstand")["relations"] == ["below", "under"]
    assert describe(rel, "nightstand", "table lamp").endswith("(touching), on top of it")
    # beside the bed, higher than its top but not resting on it
    beside = pair(rel, "bed", "table lamp")
    assert "on_top_of" not in beside["relations"] and "right_of" in beside["relations"]
    assert beside["vertical_gap_m"] == 0.0  # the lamp's bottom (0.55 m) is below the bed's top (0.6 m)


def test_above_without_touching_and_floating_shelf():
    desk = box("desk", (0, -3), (1.2, 0.75, 0.6))
    shelf = box("shelf", [0, 1.5, -3], (1.0, 0.3, 0.3))  # on the wall, above the desk, 0.6 m clear
    rel = relations(scene([desk, shelf]))
    entry = only_pair(rel)
    assert entry["relations"] == ["above"]
    assert entry["vertical_gap_m"] == pytest.approx(1.35 - 0.75, abs=GAP_ATOL)
    assert entry["gap_m"] == pytest.approx(0.6, abs=GAP_ATOL)


@pytest.mark.parametrize("dx", [1.0, 0.9])
def test_touching_and_overlapping_boxes_have_zero_gap(dx):
    rel = relations(scene([box("a", (0, -3), (1, 1, 1)), box("b", (dx, -3), (1, 1, 1))]))
    assert only_pair(rel)["gap_m"] == 0.0


def test_rotated_boxes_gap_exact():
    half_diagonal = math.sqrt(0.5)
    # a 45-degree cube's corner points at the face of an axis-aligned one
    rel = relations(scene([box("a", (0, -3), (1, 1, 1), yaw=math.pi / 4),
                           box("b", (half_diagonal + 0.5 + 0.3, -3), (1, 1, 1))]))
    assert only_pair(rel)["gap_m"] == pytest.approx(0.3, abs=GAP_ATOL)
    # two 45-degree boxes face to face along their own x axis, the second raised: gap = hypot(0.3, 0.4)
    yaw = math.pi / 4
    axis = np.array([math.cos(yaw), -math.sin(yaw)])  # local +x on the floor (x, z)
    b_xz = np.array([0.0, -3.0]) + (0.5 + 0.3 + 0.7) * axis
    rel = relations(scene([box("a", (0, -3), (1.0, 1.0, 2.0), yaw=yaw),
                           box("b", [b_xz[0], 1.0 + 0.4 + 0.25, b_xz[1]], (1.4, 0.5, 0.6), yaw=yaw)]))
    entry = only_pair(rel)
    assert entry["horizontal_gap_m"] == pytest.approx(0.3, abs=GAP_ATOL)
    assert entry["vertical_gap_m"] == pytest.approx(0.4, abs=GAP_ATOL)
    assert entry["gap_m"] == pytest.approx(0.5, abs=GAP_ATOL)


def test_gap_matches_a_numerical_minimum():
    """Random upright boxes: the closed form equals the minimum distance found by constrained optimisation."""
    from scipy.optimize import minimize

    rng = np.random.default_rng(7)
    for _ in range(25):
        objects = []
        for name in ("a", "b"):
            size = rng.uniform(0.2, 1.5, 3)
            objects.append(box(name, [rng.uniform(-2, 2), size[1] / 2 + rng.uniform(0, 0.8), rng.uniform(-5, -1)],
                               size, yaw=rng.uniform(-math.pi, math.pi)))
        gap = only_pair(relations(scene(objects)))["gap_m"]

        def world(obj, local):
            return np.asarray(obj["center"]) + frames.rot_y(obj["yaw"]) @ local

        bounds = [(-s / 2, s / 2) for obj in objects for s in obj["size"]]
        best = min(
            minimize(lambda q: np.sum((world(objects[0], q[:3]) - world(objects[1], q[3:])) ** 2),
                     rng.uniform(-0.1, 0.1, 6), bounds=bounds, method="L-BFGS-B",
                     options={"ftol": 1e-15, "gtol": 1e-12}).fun
            for _ in range(3))
        assert gap == pytest.approx(math.sqrt(max(best, 0.0)), abs=1e-4)


def test_gap_to_walls():
    walls = [wall("wall_back", (-3, -5), (3, -5)), wall("wall_left", (-3, 1), (-3, -5)),
             wall("wall_right", (3, -5), (3, 1))]
    objects = [box("desk", (2.0, -4.5), (1.0, 0.75, 0.5)),
               box("wardrobe", (-2.5, -3.0), (1.2, 2.0, 0.6), yaw=math.pi / 2),  # turned: 0.6 deep along x
               box("armchair", (0.0, -2.0), (0.8, 0.8, 0.8), yaw=math.pi / 4)]
    rel = relations(scene(objects, walls=walls))
    desk = rel["walls"]["desk"]
    assert desk["gaps_m"]["wall_back"] == pytest.approx(0.25, abs=GAP_ATOL)
    assert desk["gaps_m"]["wall_right"] == pytest.approx(0.5, abs=GAP_ATOL)
    assert desk["gaps_m"]["wall_left"] == pytest.approx(4.5, abs=GAP_ATOL)
    assert (desk["nearest_wall"], desk["nearest_gap_m"]) == ("wall_back", desk["gaps_m"]["wall_back"])
    wardrobe = rel["walls"]["wardrobe"]
    assert wardrobe["gaps_m"]["wall_left"] == pytest.approx(0.2, abs=GAP_ATOL)
    assert wardrobe["gaps_m"]["wall_back"] == pytest.approx(1.4, abs=GAP_ATOL)
    assert wardrobe["nearest_wall"] == "wall_left"
    armchair = rel["walls"]["armchair"]  # its corner is 0.4 * sqrt(2) from its centre along x and z
    assert armchair["gaps_m"]["wall_back"] == pytest.approx(3.0 - 0.4 * math.sqrt(2), abs=GAP_ATOL)
    assert armchair["gaps_m"]["wall_left"] == pytest.approx(3.0 - 0.4 * math.sqrt(2), abs=GAP_ATOL)
    # a box through a wall: gap 0, and that wall is the nearest
    rel = relations(scene([box("bed", (0.0, -4.9), (1.6, 0.5, 2.0))], walls=walls))
    assert rel["walls"]["bed"]["gaps_m"]["wall_back"] == 0.0 and rel["walls"]["bed"]["nearest_wall"] == "wall_back"


def test_describe_sentence():
    rel = relations(scene([box("bed", (0.0, -3.0), (1.6, 0.6, 2.0)), box("wardrobe", (1.9, -4.0), (1.0, 2.0, 0.6))]))
    entry = pair(rel, "bed", "wardrobe")
    assert entry["relations"] == ["right_of", "behind"]
    assert describe(rel, "bed", "wardrobe") == (
        f"the wardrobe is {math.hypot(1.9, 1.0, 0.7):.1f} m from the bed (0.6 m gap), to its right and behind it")
    assert describe(rel, "wardrobe", "bed") == (
        f"the bed is {math.hypot(1.9, 1.0, 0.7):.1f} m from the wardrobe (0.6 m gap), to its left and in front of it")
    with pytest.raises(UserError, match="no object named 'sofa'"):
        describe(rel, "bed", "sofa")
    with pytest.raises(UserError, match="itself"):
        pair(rel, "bed", "bed")


def test_large_scene_lists_near_pairs_only_and_output_is_json():
    n = MAX_OBJECTS_ALL_PAIRS + 10
    objects = [box(f"box.{k:03d}", (0.8 * (k % 10), -1.0 - 0.8 * (k // 10)), (0.5, 0.5, 0.5)) for k in range(n)]
    rel = relations(scene(objects))
    assert rel["note"] and str(n) in rel["note"]
    assert rel["pairs"] and all(entry["gap_m"] <= MAX_PAIR_GAP_M for entry in rel["pairs"])
    assert len(rel["pairs"]) < n * (n - 1) // 2
    assert len(relations(scene(objects), all_pairs=True)["pairs"]) == n * (n - 1) // 2
    assert relations(scene(objects[:MAX_OBJECTS_ALL_PAIRS]))["note"] is None
    assert json.loads(json.dumps(rel)) == rel


def test_fifty_objects_are_cheap():
    rng = np.random.default_rng(1)
    objects = [box(f"o{k}", (rng.uniform(-3, 3), rng.uniform(-6, -1)), rng.uniform(0.3, 2.0, 3),
                   yaw=rng.uniform(-math.pi, math.pi)) for k in range(50)]
    sc = scene(objects, walls=[wall("wall_back", (-3, -6.5), (3, -6.5))])
    relations(sc)
    best = min(_timed(relations, sc) for _ in range(5))
    assert best < 0.05, f"{best * 1000:.1f} ms for 50 objects"


def _timed(function, *args):
    import time

    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def test_empty_and_bad_scenes():
    rel = relations({"objects": []})
    assert rel["pairs"] == [] and rel["walls"] == {} and rel["objects"] == 0
    assert relations({"objects": [box("bed", (0, -3), (1, 1, 1))]})["walls"]["bed"]["nearest_wall"] is None
    # sample truth files have labels and no names: names are made unique like scene.json's
    truth_like = {"objects": [{k: v for k, v in box("chair", (0, -3), (1, 1, 1)).items() if k != "name"},
                              {k: v for k, v in box("chair", (2, -3), (1, 1, 1)).items() if k != "name"}]}
    assert [relations(truth_like)["pairs"][0][k] for k in ("a", "b")] == ["chair", "chair.001"]
    for bad in ([], {"camera": {}}, {"objects": [{"center": [0, 0]}]}, {"objects": [{"center": [0, 0, 0]}]}):
        with pytest.raises(UserError):
            relations(bad)


# ---------------------------------------------------------------------------------------------- on a build


@pytest.fixture(scope="module")
def built_sample(tmp_path_factory):
    sample = SAMPLES / "bedroom_01"
    assert (sample / "photo.png").is_file(), "samples/bedroom_01 is part of the repository"
    out = tmp_path_factory.mktemp("relations") / "out"
    build(sample / "photo.png", out, BuildOptions(grounding=sample / "grounding.qwen3.json"))
    return out


def test_scene_json_holds_the_relations(built_sample):
    scene_json = json.loads((built_sample / "scene.json").read_text())
    stored = scene_json["relations"]
    names = [obj["name"] for obj in scene_json["objects"]]
    assert len(stored["pairs"]) == len(names) * (len(names) - 1) // 2
    assert list(stored["walls"]) == names
    assert {w["name"] for w in scene_json["room"]["walls"]} == set(stored["walls"][names[0]]["gaps_m"])
    assert stored == relations(scene_json)  # what the command computes from the file


def test_cli_relations_on_a_build(built_sample, capsys):
    scene_path = built_sample / "scene.json"
    scene_json = json.loads(scene_path.read_text())
    names = [obj["name"] for obj in scene_json["objects"]]

    assert main(["relations", str(scene_path)]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in names) and "nearest wall" in text

    assert main(["relations", str(built_sample), "--json"]) == 0  # the folder works too
    assert json.loads(capsys.readouterr().out) == relations(scene_json)

    a, b = names[0], names[-1]
    assert main(["relations", str(scene_path), "--between", a, b]) == 0
    assert capsys.readouterr().out.splitlines()[0] == describe(relations(scene_json), a, b)

    assert main(["relations", str(scene_path), "--between", a, b, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["pair"]["a"] == a and answer["pair"]["b"] == b and answer["sentence"].startswith(f"the {b} is")

    assert main(["relations", str(scene_path), "--object", a, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {entry["b"] for entry in answer["pairs"]} == set(names) - {a} and answer["walls"]["nearest_wall"]
    assert [entry["gap_m"] for entry in answer["pairs"]] == sorted(entry["gap_m"] for entry in answer["pairs"])


def _one_line_error(capsys, match):
    err = capsys.readouterr().err.strip()
    assert err.startswith("room3d: error:") and "\n" not in err and match in err, err


def test_cli_relations_errors(tmp_path, capsys):
    assert main(["relations", str(tmp_path / "missing" / "scene.json")]) == 2
    _one_line_error(capsys, "not found")
    broken = tmp_path / "broken.json"
    broken.write_text('{"objects": [')
    assert main(["relations", str(broken)]) == 2
    _one_line_error(capsys, "cannot read")
    not_a_scene = tmp_path / "grounding.json"
    not_a_scene.write_text('[{"bbox_2d": [1, 2, 3, 4], "label": "bed"}]')
    assert main(["relations", str(not_a_scene)]) == 2
    _one_line_error(capsys, "not a scene")
    good = tmp_path / "scene.json"
    good.write_text(json.dumps(scene([box("bed", (0, -3), (1, 1, 1)), box("chair", (1.5, -3), (0.5, 1, 0.5))])))
    assert main(["relations", str(good), "--between", "bed", "sofa"]) == 2
    _one_line_error(capsys, "no object named 'sofa'")
    assert main(["relations", str(good), "--object", "sofa"]) == 2
    _one_line_error(capsys, "no object named 'sofa'")
    assert main(["relations", str(good), "--between", "bed", "chair"]) == 0
    assert capsys.readouterr().out.startswith("the chair is 1.5 m from the bed (0.8 m gap), to its right")


def test_sample_truth_on_top_of_agrees():
    """On the samples' true boxes (labels only, walls as corners), ``on_top_of`` is exactly truth's ``on_top_of``
    and every object stands clear of the walls."""
    from tests.conftest import sample_dirs

    samples = sample_dirs()
    assert samples, "the sample scenes are part of the repository"
    for sample in samples:
        truth = json.loads((sample / "truth.json").read_text())
        rel = relations(truth)
        names = list(rel["walls"])
        expected = {(names[obj["on_top_of"]], names[k]) for k, obj in enumerate(truth["objects"])
                    if obj.get("on_top_of") is not None}
        found = {(e["a"], e["b"]) for e in rel["pairs"] if "on_top_of" in e["relations"]}
        found |= {(e["b"], e["a"]) for e in rel["pairs"] if "under" in e["relations"]}
        assert found == expected, sample.name
        assert all(row["nearest_gap_m"] > 0.0 for row in rel["walls"].values()), sample.name
