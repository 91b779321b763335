"""Spatial relations from a solved scene: exact gaps between upright boxes, directions as seen from the camera,
gaps to the walls, the sentence, the ``room3d relations`` command and the relations inside ``scene.json``."""

import json
import math

import numpy as np
import pytest

from pipeline import frames
from pipeline.cli import main
from pipeline.errors import UserError
from pipeline.records import Wall
from pipeline.relations import (DEAD_ZONE_M, MAX_OBJECTS_ALL_PAIRS, MAX_PAIR_GAP_M, NEAREST_PAIRS, describe, pair,
                                relations)

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


def test_a_hall_of_500_objects_lists_each_ones_nearest_neighbours_in_linear_space():
    n = 500
    objects = [box(f"box.{k:03d}", (0.9 * (k % 25), -1.0 - 0.9 * (k // 25)), (0.5, 0.5, 0.5)) for k in range(n)]
    rel = relations(scene(objects))
    assert len(rel["pairs"]) <= NEAREST_PAIRS * n  # linear, not n (n - 1) / 2 = 124750
    listed = {frozenset((entry["a"], entry["b"])) for entry in rel["pairs"]}
    centres = np.array([o["center"] for o in objects])
    for k in range(0, n, 37):  # every object keeps its nearest neighbour (0.9 m apart on the grid)
        distance = np.linalg.norm(centres - centres[k], axis=1)
        distance[k] = np.inf
        nearest = int(np.argmin(distance))
        assert frozenset((objects[k]["name"], objects[nearest]["name"])) in listed
    assert "nearest neighbours" in rel["note"]


def test_fifty_turned_objects_give_finite_relations():
    """Fifty objects at random yaws (their time is in benchmarks/bench_relations.py)."""
    rng = np.random.default_rng(1)
    objects = [box(f"o{k}", (rng.uniform(-3, 3), rng.uniform(-6, -1)), rng.uniform(0.3, 2.0, 3),
                   yaw=rng.uniform(-math.pi, math.pi)) for k in range(50)]
    rel = relations(scene(objects, walls=[wall("wall_back", (-3, -6.5), (3, -6.5))]))
    assert rel["pairs"] and all(math.isfinite(entry["gap_m"]) and entry["gap_m"] >= 0 for entry in rel["pairs"])
    assert json.loads(json.dumps(rel)) == rel


def test_the_command_prints_model_labels_safely(tmp_path, capsys):
    """Labels come from a model: the text table drops control and direction-override characters and cuts very
    long names, so a label cannot garble the terminal or the table."""
    evil = "\u202eevil" + "x" * 500 + "\x1b[31m"
    path = tmp_path / "scene.json"
    path.write_text(json.dumps(scene([box(evil, (0.0, -3.0), (1, 1, 1)), box("bed", (1.5, -3.0), (1.6, 0.9, 2))],
                                     walls=[wall("wall_back", (-3, -6.5), (3, -6.5))])), encoding="utf-8")
    assert main(["relations", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out and "\x1b" not in out and "evil" in out
    assert max(len(line) for line in out.splitlines()) < 200
