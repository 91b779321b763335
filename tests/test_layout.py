"""Room-layout answers (pipeline/layout.py): text -> a metric scene, alone or with 2D boxes; parsing and plumbing."""

import dataclasses
import json
import math
import time

import numpy as np
import pytest

from pipeline import frames
from pipeline.camera import estimate_camera
from pipeline.cli import main
from pipeline.grounding import parse_grounding
from pipeline.layout import layout_scene
from pipeline.layout_text import parse_dimensions, parse_length
from pipeline.records import Grounding, Photo
from pipeline.solve import solve
from tests.conftest import SAMPLES
from tests.synthetic import bedroom
from tests.test_solve import camera_for

#: The answer quoted in ../shared/REFERENCE.md ("What the vision-language models emit").
REFERENCE_ANSWER = {
    "room_type": "bedroom",
    "layout": {
        "bed": {"position": "against north wall", "size": "queen"},
        "wardrobe": {"position": "southwest corner", "distance_from_bed": "1.8m"},
        "window": {"position": "east wall"},
    },
    "spatial_inference": "The camera is near the southeast corner, facing northwest.",
}
#: Solved boxes may touch their walls and each other within this much (metres).
CONTACT_M = 0.01


# ---------------------------------------------------------------------------------------------- helpers


def by_label(result, label):
    return [o for o in result.objects if o.label == label]


def wall(result, compass):
    """The world Wall of a compass wall of a layout result."""
    name = result.wall_names[compass]
    return next(w for w in result.room.walls if w.name == name)


def signed_distance(wall_, points):
    """Distance of points from a wall's plane, positive inside the room."""
    plane = wall_.plane
    return np.asarray(points) @ plane[:3] + plane[3]


def front(obj):
    return frames.rot_y(obj.yaw_rad) @ np.array([0.0, 0.0, 1.0])


def footprint(obj):
    """(4, 2) (x, z) corners of an object's footprint."""
    return obj.corners_m[[0, 1, 5, 4]][:, [0, 2]]


def footprints_overlap(a, b) -> float:
    """Penetration depth of two oriented footprints (separating axis test), 0 when apart or touching."""
    pa, pb = footprint(a), footprint(b)
    depth = math.inf
    for poly in (pa, pb):
        for k in range(4):
            edge = poly[(k + 1) % 4] - poly[k]
            axis = np.array([-edge[1], edge[0]]) / np.linalg.norm(edge)
            ra, rb = pa @ axis, pb @ axis
            overlap = min(ra.max(), rb.max()) - max(ra.min(), rb.min())
            if overlap <= 0:
                return 0.0
            depth = min(depth, overlap)
    return depth


def interpenetrate(a, b, tolerance=CONTACT_M) -> bool:
    vertical = min(a.center_m[1] + a.size_m[1] / 2, b.center_m[1] + b.size_m[1] / 2) - max(
        a.center_m[1] - a.size_m[1] / 2, b.center_m[1] - b.size_m[1] / 2)
    return vertical > tolerance and footprints_overlap(a, b) > tolerance


def is_opening(obj):
    return obj.category in ("window", "door")


def assert_sane(result, tolerance=CONTACT_M):
    """Every furniture footprint inside the room, every opening in a wall, no two pieces interpenetrating, the
    room shell as CONVENTIONS.md says."""
    polygon = np.array(result.room.floor_polygon_m)
    # counter-clockwise seen from above: the plain shoelace sum over (x, z) is negative
    assert np.sum(polygon[:, 0] * np.roll(polygon[:, 1], -1) - np.roll(polygon[:, 0], -1) * polygon[:, 1]) < 0
    centre = np.array([polygon[:, 0].mean(), 1.0, polygon[:, 1].mean()])
    for w in result.room.walls:
        assert signed_distance(w, centre) > 0, w.name  # wall normals point into the room
    furniture = [o for o in result.objects if not is_opening(o)]
    for obj in result.objects:
        assert np.all(np.isfinite(obj.center_m)) and np.all(np.array(obj.size_m) > 0)
        assert obj.corners_m[:, 1].min() >= -1e-9
        assert obj.corners_m[:, 1].max() <= result.room.ceiling_height_m + 1e-6
        if is_opening(obj):
            assert min(abs(signed_distance(w, obj.center_m)) for w in result.room.walls) < 1e-6, obj.label
        else:
            for w in result.room.walls:
                assert signed_distance(w, obj.corners_m).min() > -tolerance, (obj.label, w.name)
    for i, a in enumerate(furniture):
        for b in furniture[i + 1:]:
            assert not interpenetrate(a, b, tolerance), (a.label, b.label, footprints_overlap(a, b))


def camera_frame(result, point):
    """A world point in the OpenCV camera frame of the layout's camera."""
    return frames.transform_points(frames.invert_rigid(result.camera_pose), np.asarray(point, dtype=float)[None])[0]


# ---------------------------------------------------------------------------------------------- the reference


@pytest.fixture(scope="module")
def reference():
    return layout_scene(REFERENCE_ANSWER)


def test_reference_bed_queen_with_its_headboard_on_the_north_wall(reference):
    assert reference.room_type == "bedroom"
    (bed,) = by_label(reference, "bed")
    assert bed.size_m[0] == pytest.approx(1.52) and bed.size_m[2] == pytest.approx(2.03)
    north = wall(reference, "north")
    back_face = np.array(bed.center_m) - front(bed) * bed.size_m[2] / 2
    assert signed_distance(north, back_face) == pytest.approx(0.0, abs=CONTACT_M)
    assert front(bed) @ north.plane[:3] == pytest.approx(1.0)  # it faces into the room, its back to the wall


def test_reference_wardrobe_in_the_southwest_corner_1_8_m_from_the_bed(reference):
    (bed,) = by_label(reference, "bed")
    (wardrobe,) = by_label(reference, "wardrobe")
    for compass in ("south", "west"):
        assert signed_distance(wall(reference, compass), wardrobe.corners_m).min() == pytest.approx(0.0, abs=CONTACT_M)
    backs = [front(wardrobe) @ wall(reference, c).plane[:3] for c in ("south", "west")]
    assert max(backs) == pytest.approx(1.0)  # its back to one of the corner's walls
    distance = np.linalg.norm(np.array(wardrobe.center_m)[[0, 2]] - np.array(bed.center_m)[[0, 2]])
    assert distance == pytest.approx(1.8, abs=0.1)


def test_reference_window_in_the_east_wall(reference):
    (window,) = by_label(reference, "window")
    east = wall(reference, "east")
    assert signed_distance(east, window.center_m) == pytest.approx(0.0, abs=1e-6)
    assert window.size_m[2] <= 0.1 and front(window) @ east.plane[:3] == pytest.approx(1.0)
    assert window.center_m[1] - window.size_m[1] / 2 == pytest.approx(0.9)  # sill height
    corners = np.array(east.corners_m)
    along = (corners[1] - corners[0]) / np.linalg.norm(corners[1] - corners[0])
    t = (np.array(window.center_m) - corners[0]) @ along
    assert window.size_m[0] / 2 <= t <= np.linalg.norm(corners[1] - corners[0]) - window.size_m[0] / 2


def test_reference_camera_near_the_southeast_corner_looking_northwest(reference):
    assert math.degrees(reference.heading_rad) == pytest.approx(45.0)
    np.testing.assert_allclose(reference.camera_pose, frames.world_from_camera_from_attitude(0.0, 0.0, 1.4),
                               atol=1e-12)
    # the room's northwest is straight ahead (-Z), its southeast corner just behind the camera
    northwest_room = np.array([-1.0, 0.0, -1.0]) / math.sqrt(2)
    np.testing.assert_allclose(frames.rot_y(-reference.heading_rad) @ northwest_room, [0, 0, -1], atol=1e-9)
    south, east = wall(reference, "south"), wall(reference, "east")
    corner = np.array(south.corners_m[0])  # floor-left of the south wall seen from inside: the southeast corner
    assert signed_distance(east, corner) == pytest.approx(0.0, abs=1e-9)
    assert np.hypot(corner[0], corner[2]) < 1.0
    assert corner[2] > 0  # behind the camera
    # so the bed is in view, in front of the camera
    (bed,) = by_label(reference, "bed")
    x, _, z = camera_frame(reference, bed.center_m)
    assert z > 1.0 and abs(math.degrees(math.atan2(x, z))) < 30.0


def test_reference_scene_is_sane(reference):
    assert_sane(reference)
    assert len(reference.objects) == 3
    assert reference.room.ceiling_height_m == pytest.approx(2.6)
    assert {w.name for w in reference.room.walls} == {"wall_back", "wall_left", "wall_right", "wall_front"}
    assert all(o.detection_index == -1 and "placed from the room-layout text" in o.notes for o in reference.objects)


def test_reference_room_size_is_reported_when_the_text_gives_none(reference):
    width, depth = reference.room_size_m
    polygon = np.array(reference.room.floor_polygon_m)
    sides = sorted(np.linalg.norm(np.roll(polygon, -1, axis=0) - polygon, axis=1))
    assert sides[0] == pytest.approx(min(width, depth)) and sides[-1] == pytest.approx(max(width, depth))
    assert 2.5 < width < 5.0 and 2.5 < depth < 5.0


# ---------------------------------------------------------------------------------------------- conventions


def test_no_camera_text_faces_north_from_the_south_wall():
    result = layout_scene({"layout": {"bed": {"position": "against the north wall"}}})
    assert result.heading_rad == 0.0
    assert result.wall_names == {"north": "wall_back", "west": "wall_left", "south": "wall_front",
                                 "east": "wall_right"}
    (bed,) = by_label(result, "bed")
    assert bed.yaw_rad == pytest.approx(0.0) and bed.center_m[2] < 0  # ahead, its foot towards the camera
    assert signed_distance(wall(result, "south"), [0.0, 0.0, 0.0]) == pytest.approx(0.5)


def test_heading_words_turn_the_layout_so_the_camera_looks_along_minus_z():
    for words, degrees in (("facing east", -90.0), ("looking west", 90.0), ("facing south", 180.0),
                           ("pointing towards the north-east", -45.0)):
        result = layout_scene({"layout": {"desk": "north wall"}, "camera": words})
        assert math.degrees(frames.wrap_angle(result.heading_rad)) == pytest.approx(frames.wrap_angle(
            math.radians(degrees)) * 180 / math.pi), words
        # the wall the camera faces is wall_back, and its normal points back at the camera (+Z)
        back = next(w for w in result.room.walls if w.name == "wall_back")
        assert back.plane[2] > 0.7


def test_camera_estimate_gives_height_pitch_and_roll_and_the_photo_aligns_the_heading():
    photo = Photo(path=None, rgb=np.zeros((600, 800, 3), np.uint8))
    camera = estimate_camera(photo, focal_px=700.0, camera_height_m=1.55, pitch_deg=-10.0, roll_deg=2.0)
    result = layout_scene(REFERENCE_ANSWER, camera)
    np.testing.assert_allclose(result.camera_pose, camera.world_from_camera, atol=1e-12)
    assert math.degrees(result.heading_rad) == pytest.approx(45.0)  # no vanishing points: the text's heading
    lined = dataclasses.replace(camera, room_yaw_rad=math.radians(20.0), room_yaw_source="vanishing_points")
    result = layout_scene(REFERENCE_ANSWER, lined)
    assert math.degrees(result.heading_rad) == pytest.approx(70.0)  # -heading = 20 degrees modulo 90
    assert math.degrees(result.room_yaw_rad) == pytest.approx(20.0)
    assert_sane(result)


# ---------------------------------------------------------------------------------------------- placement words


def test_left_right_next_to_under_facing_opposite_centre():
    result = layout_scene({
        "room_type": "office",
        "layout": {
            "desk": {"position": "against the north wall"},
            "bookshelf": {"position": "left of the desk"},
            "plant": {"position": "to the right of the desk"},
            "window": {"position": "west wall"},
            "cabinet": {"position": "under the window"},
            "door": {"position": "south wall"},
            "sofa": {"position": "opposite the door"},
            "armchair": {"position": "centre of the room", "facing": "the sofa"},
        }})
    assert_sane(result)
    (desk,), (shelf,), (plant,) = by_label(result, "desk"), by_label(result, "bookshelf"), by_label(result, "plant")
    (window,), (cabinet,) = by_label(result, "window"), by_label(result, "cabinet")
    (door,), (sofa,), (armchair,) = by_label(result, "door"), by_label(result, "sofa"), by_label(result, "armchair")
    # left / right as seen facing the desk's front: the desk faces south, so its left is west (world -X here)
    right = frames.rot_y(desk.yaw_rad) @ np.array([1.0, 0.0, 0.0])
    assert (np.array(shelf.center_m) - desk.center_m) @ right < -0.5
    assert (np.array(plant.center_m) - desk.center_m) @ right > 0.5
    assert shelf.yaw_rad == pytest.approx(desk.yaw_rad) and plant.yaw_rad == pytest.approx(desk.yaw_rad)
    # under the window: on its wall, centred under it
    west = wall(result, "west")
    assert signed_distance(west, cabinet.corners_m).min() == pytest.approx(0.0, abs=CONTACT_M)
    assert cabinet.center_m[2] == pytest.approx(window.center_m[2], abs=0.05)
    # opposite the door: on the facing (north) wall, across from it
    assert signed_distance(wall(result, "north"), sofa.corners_m).min() == pytest.approx(0.0, abs=CONTACT_M)
    assert abs(sofa.center_m[0] - door.center_m[0]) < 0.6
    # facing the sofa: the armchair's front points at it
    to_sofa = np.array(sofa.center_m) - armchair.center_m
    assert front(armchair) @ (to_sofa / np.linalg.norm(to_sofa)) > 0.99


def test_lists_counts_either_side_and_on_top():
    result = layout_scene({
        "room_type": "bedroom",
        "layout": {
            "bed": {"position": "against the north wall", "size": "king"},
            "nightstands": {"count": 2, "position": "on either side of the bed"},
            "lamps": [{"position": "on the nightstand"}, {"position": "on the nightstand"}],
            "chairs": 2,
        }})
    assert_sane(result)
    (bed,) = by_label(result, "bed")
    stands, lamps = by_label(result, "nightstand"), by_label(result, "lamp")
    assert len(stands) == 2 and len(lamps) == 2 and len(by_label(result, "chair")) == 2
    assert bed.size_m[0] == pytest.approx(1.93)
    right = frames.rot_y(bed.yaw_rad) @ np.array([1.0, 0.0, 0.0])
    sides = sorted((np.array(s.center_m) - bed.center_m) @ right for s in stands)
    assert sides[0] == pytest.approx(-(1.93 + 0.5) / 2, abs=0.15) and sides[1] == pytest.approx((1.93 + 0.5) / 2,
                                                                                               abs=0.15)
    for lamp in lamps:
        below = min(stands, key=lambda s: np.hypot(s.center_m[0] - lamp.center_m[0], s.center_m[2] - lamp.center_m[2]))
        assert lamp.corners_m[:, 1].min() == pytest.approx(below.corners_m[:, 1].max())
        assert np.linalg.norm(np.array(below.center_m)[[0, 2]] - np.array(lamp.center_m)[[0, 2]]) < 0.05
    assert {tuple(np.round(lamp.center_m, 3)) for lamp in lamps}.__len__() == 2  # one lamp on each


def test_units_and_stated_distances():
    result = layout_scene({
        "room_type": "bedroom",
        "room_size": "12 by 14 feet",
        "layout": {
            "bed": {"position": "against the north wall"},
            "desk": {"position": "against the west wall", "distance_from_bed": "180 cm"},
            "dresser": {"position": "against the south wall", "distance to bed": "10 ft"},
            "wardrobe": {"position": "against the south wall", "distance_from_bed": "2 feet"},
            "chair": {"position": "about one and a half metres from the desk"},
            "couch": {"size": "2-seater", "dimensions": "150 x 85 cm"},
        }})
    assert result.room_size_m == pytest.approx((12 * 0.3048, 14 * 0.3048))
    # "a x b" is east-west x north-south
    east, west = wall(result, "east"), wall(result, "west")
    assert signed_distance(east, west.corners_m[0]) == pytest.approx(12 * 0.3048)
    assert signed_distance(wall(result, "north"), wall(result, "south").corners_m[0]) == pytest.approx(14 * 0.3048)
    assert_sane(result)
    (bed,), (desk,), (dresser,) = by_label(result, "bed"), by_label(result, "desk"), by_label(result, "dresser")
    (chair,), (couch,) = by_label(result, "chair"), by_label(result, "couch")
    assert result.room_size_m == pytest.approx((12 * 0.3048, 14 * 0.3048))  # stated: kept

    def distance(a, b):
        return np.linalg.norm(np.array(a.center_m)[[0, 2]] - np.array(b.center_m)[[0, 2]])

    assert distance(desk, bed) == pytest.approx(1.8, abs=0.1)
    assert distance(dresser, bed) == pytest.approx(10 * 0.3048, abs=0.1)
    # across the room from the bed, 2 feet cannot be kept: said so
    assert any(w.startswith("layout: wardrobe is ") and "not the 0.61 m stated" in w for w in result.warnings)
    assert distance(chair, desk) == pytest.approx(1.5, abs=0.1)
    assert couch.category == "sofa" and couch.size_m[0] == pytest.approx(1.5) and couch.size_m[2] == pytest.approx(
        0.85)


@pytest.mark.parametrize("value, metres", [
    ("1.8m", 1.8), ("180 cm", 1.8), ("6 feet", 1.8288), ("6 ft", 1.8288), ("about two metres", 2.0),
    ("1,8 m", 1.8), ("6'2\"", 1.8796), ("1.5-2 m", 1.75), ("two and a half meters", 2.5), ("half a metre", 0.5),
    ("1800mm", 1.8), ("3 yards", 2.7432), (1.8, 1.8), (180, 1.8),
])
def test_lengths_in_words_and_units(value, metres):
    assert parse_length(value)[0] == pytest.approx(metres)


def test_bare_numbers_are_read_by_size_and_said_so():
    assert parse_length("abc") == (None, None) and parse_length(None) == (None, None)
    assert parse_length(True) == (None, None) and parse_length(-3) == (None, None)
    assert "cm" in parse_length(180)[1]
    assert parse_dimensions("4 x 5 m", "room")[0] == pytest.approx([4.0, 5.0])
    assert parse_dimensions("12 by 14 feet", "room")[0] == pytest.approx([3.6576, 4.2672])
    assert parse_dimensions("200 x 60 x 220 cm")[0] == pytest.approx([2.0, 0.6, 2.2])
    dims, note = parse_dimensions("12 x 14", "room")
    assert dims == pytest.approx([3.6576, 4.2672]) and "ft" in note


# ---------------------------------------------------------------------------------------------- messy answers


def test_contradiction_keeps_the_first_and_says_what_was_dropped():
    result = layout_scene({"room_type": "bedroom", "layout": {
        "bed": {"position": "against the north wall, in the southwest corner"},
        "wardrobe": {"position": "against the east wall", "location": "west wall"}}})
    assert_sane(result)
    (bed,), (wardrobe,) = by_label(result, "bed"), by_label(result, "wardrobe")
    assert front(bed) @ wall(result, "north").plane[:3] == pytest.approx(1.0)
    assert front(wardrobe) @ wall(result, "east").plane[:3] == pytest.approx(1.0)
    joined = " | ".join(result.warnings)
    assert "bed: 'southwest corner' contradicts 'north wall'" in joined and "dropped" in joined
    assert "wardrobe: 'west wall' contradicts 'east wall'" in joined


def test_compatible_anchors_merge():
    result = layout_scene({"layout": {"desk": "against the north wall, in the northwest corner",
                                      "door": "east wall, near the south end"}})
    assert_sane(result)
    (desk,), (door,) = by_label(result, "desk"), by_label(result, "door")
    assert front(desk) @ wall(result, "north").plane[:3] == pytest.approx(1.0)
    assert signed_distance(wall(result, "west"), desk.corners_m).min() == pytest.approx(0.0, abs=CONTACT_M)
    # the door sits at the east wall's south end
    assert signed_distance(wall(result, "south"), door.corners_m).min() < 0.2
    assert not result.warnings or not any("contradicts" in w for w in result.warnings)


def test_unknown_words_and_names_get_warnings_and_defaults():
    result = layout_scene({"room_type": "spaceship", "layout": {
        "flux capacitor": {"position": "floating in hyperspace"},
        "wardrobe": {"position": "somewhere cozy"},
        "chair": {"position": "next to the unicorn"},
        "window": {}}})
    assert_sane(result)
    joined = " | ".join(result.warnings)
    assert "room type 'spaceship' is not known" in joined
    assert "no size prior for 'flux capacitor'" in joined
    assert "flux capacitor: position 'floating in hyperspace' not understood; placed near the room's centre" in joined
    assert "wardrobe: position 'somewhere cozy' not understood; placed against the wall" in joined
    assert "'unicorn'" in joined
    (wardrobe,) = by_label(result, "wardrobe")
    assert max(front(wardrobe) @ w.plane[:3] for w in result.room.walls) == pytest.approx(1.0)  # against a wall
    assert len(by_label(result, "window")) == 1


def test_synonyms_markup_and_missing_keys():
    result = layout_scene({"room_type": "<b>Living Room</b>", "layout": {
        "<b>Couch</b>": {},
        "**TV**": {"position": "mounted on the wall opposite the couch"},
        "bedside_tables": [{"position": "west wall"}],
        "</script><script>alert(1)</script>": "centre",
        "lighting": "warm",
    }})
    assert_sane(result)
    (couch,) = by_label(result, "couch")
    assert couch.category == "sofa" and result.room_type == "living room"
    (tv,) = by_label(result, "tv")
    assert tv.center_m[1] > 1.0  # mounted on the wall
    assert front(tv) @ front(couch) == pytest.approx(-1.0)  # they face each other across the room
    assert by_label(result, "bedside table")[0].category == "nightstand"
    assert all("<" not in o.label and "*" not in o.label for o in result.objects)
    assert any("'lighting' is not a piece of furniture" in w for w in result.warnings)


@pytest.mark.parametrize("answer", [
    {}, {"room_type": "bedroom"}, {"room_type": "bedroom", "layout": {}}, {"layout": None}, {"layout": []},
    {"layout": 42}, {"layout": "nothing useful here"}, [], None, "a bedroom", 3.5,
    {"room_type": None, "layout": {"bed": None, "chair": False, "desk": [1, 2], "lamp": {"count": -1}}},
    {"layout": {"sofa": {"count": "two", "position": ["north wall", "south wall"]}, "table": {"count": 1000}}},
    {"layout": {"bed": {"position": 12, "size": ["huge"], "distance_from_wardrobe": {"x": 1}}}},
    {"layout": {"lamp": "on the nightstand", "nightstand": "on the lamp"}},
    {"layout": {"chair": {"position": "next to the desk"}, "desk": {"position": "next to the chair"}}},
    {"room_size": "0 x 0 m", "layout": {"bed": "north wall"}},
    {"room_size": "100 by 200 metres", "ceiling": "vaulted", "layout": {"bed": "north wall"}},
])
def test_any_json_value_ends_cleanly(answer):
    start = time.monotonic()
    result = layout_scene(answer)
    assert time.monotonic() - start < 10.0
    assert result.room.walls and np.all(np.isfinite(result.camera_pose))
    assert all(np.all(np.isfinite(o.center_m)) for o in result.objects)
    if not result.objects:
        assert any("names no objects" in w or "nothing placed" in w for w in result.warnings)


def test_empty_answer_builds_a_default_room():
    result = layout_scene({"room_type": "bathroom", "layout": {}})
    assert result.objects == ()
    assert result.room_size_m == pytest.approx((1.8, 2.5))
    assert "layout: the answer names no objects; only the room is built" in result.warnings


def test_text_layouts_and_list_layouts():
    result = layout_scene({"room_type": "kitchen", "layout": "The fridge stands in the northeast corner; a stove "
                                                             "against the north wall. The sink is under the window."})
    assert [o.category for o in result.objects] == ["refrigerator", "stove", "sink"]
    assert any("the window" in w for w in result.warnings)  # the text names no window to put the sink under
    result = layout_scene({"layout": [{"name": "fridge", "position": "northeast corner"},
                                      {"object": "stove", "location": "north wall"}, "sink", 5]})
    assert [o.category for o in result.objects] == ["refrigerator", "stove", "sink"]
    assert_sane(result)


def test_many_objects_stay_within_the_time_budget():
    answer = {"layout": {f"chair {k}": {"position": "centre"} for k in range(80)}}
    start = time.monotonic()
    result = layout_scene(answer)
    assert time.monotonic() - start < 10.0
    assert len(result.objects) == 60
    assert any("only the first 60" in w for w in result.warnings)


# ---------------------------------------------------------------------------------------------- grounding


FENCED = "Here is the room:\n```json\n" + json.dumps(REFERENCE_ANSWER, indent=1) + "\n```\nHope this helps!"


def test_grounding_recognises_a_layout_answer():
    grounding = parse_grounding(FENCED, 800, 600)
    assert grounding.format == "layout" and grounding.detections == ()
    assert grounding.layout == REFERENCE_ANSWER
    grounding = parse_grounding(json.dumps({"room_type": "office", "objects": [{"name": "desk",
                                                                                 "position": "north wall"}]}), 800, 600)
    assert grounding.format == "layout" and grounding.layout["objects"][0]["name"] == "desk"
    assert grounding.warnings == ()


def test_grounding_keeps_boxes_and_layout_together():
    boxes = [{"bbox_2d": [10, 20, 200, 300], "label": "bed"}, {"bbox_2d": [300, 20, 400, 300], "label": "wardrobe"}]
    for text in (json.dumps({"objects": boxes, **REFERENCE_ANSWER}),
                 json.dumps(boxes + [REFERENCE_ANSWER]),
                 "```json\n" + json.dumps(boxes) + "\n```\nand the layout:\n```json\n" + json.dumps(REFERENCE_ANSWER)
                 + "\n```"):
        grounding = parse_grounding(text, 800, 600)
        assert [d.label for d in grounding.detections] == ["bed", "wardrobe"]
        assert grounding.layout["layout"] == REFERENCE_ANSWER["layout"] and "objects" not in grounding.layout
        assert grounding.format == "pixels" and "room-layout" in grounding.format_reason
        assert grounding.warnings == ()
    plain = parse_grounding(json.dumps(boxes), 800, 600)
    assert plain.layout is None and Grounding((), "none", "").layout is None


# ---------------------------------------------------------------------------------------------- solve


def test_solve_layout_only_keeps_the_photos_camera():
    photo = Photo(path=None, rgb=np.zeros((600, 800, 3), np.uint8))
    camera = estimate_camera(photo, focal_px=700.0, pitch_deg=-8.0, roll_deg=1.0)
    scene = solve(Grounding((), "layout", "test", layout=REFERENCE_ANSWER), camera)
    np.testing.assert_allclose(scene.camera.world_from_camera, camera.world_from_camera, atol=1e-12)
    assert scene.camera.intrinsics == camera.intrinsics
    assert scene.camera.room_yaw_source == "layout"
    assert scene.camera.room_yaw_rad == pytest.approx(-math.pi / 4)
    assert sorted(o.label for o in scene.objects) == ["bed", "wardrobe", "window"]
    # a room yaw given to the solver aligns the walls to it
    scene = solve(Grounding((), "layout", "test", layout=REFERENCE_ANSWER), camera, room_yaw_rad=0.3)
    assert scene.camera.room_yaw_rad == pytest.approx(0.3) and scene.camera.room_yaw_source == "layout+given"
    back = next(w for w in scene.room.walls if w.name == "wall_back")
    assert math.atan2(back.plane[0], back.plane[2]) == pytest.approx(0.3)  # inward normal Ry(0.3) @ (0, 0, 1)


COMBINED_LAYOUT = {"room_type": "bedroom", "layout": {
    "bed": {"size": "queen"},
    "wardrobe": {"position": "against the west wall"},
    "window": {"position": "east wall"},
    "desk": {"position": "under the window"},
}}


@pytest.fixture(scope="module")
def combined():
    truth = bedroom()
    camera = camera_for(truth)
    base = solve(truth.grounding(), camera)
    scene = solve(dataclasses.replace(truth.grounding(), layout=COMBINED_LAYOUT), camera)
    return truth, base, scene


def test_combined_scene_says_what_the_layout_matched(combined):
    truth, base, scene = combined
    assert base.layout is None
    assert scene.layout["room_type"] == "bedroom" and scene.layout["wall_names"]["north"] == "wall_back"
    labels = {int(k): v for k, v in scene.layout["matched"].items()}
    assert labels[0] == "bed" and "wardrobe" in labels.values()
    assert scene.layout["objects_from_text"] == len(scene.objects) - len(base.objects) > 0


def test_combined_uses_the_size_word_as_the_size_prior(combined):
    truth, base, scene = combined
    bed, base_bed = scene.objects[0], base.objects[0]
    assert bed.label == "bed" and bed.size_source == "2d_box+layout_size"
    assert any("size prior from the layout" in n for n in bed.notes)
    assert bed.size_m[2] == pytest.approx(2.03, abs=0.02)
    assert abs(bed.size_m[0] - 1.52) < abs(base_bed.size_m[0] - 1.52)
    # the other detections keep the 2D solution
    for obj, base_obj in zip(scene.objects[1:5], base.objects[1:5]):
        np.testing.assert_allclose(obj.center_m, base_obj.center_m, atol=1e-9)


def test_combined_uses_the_wall(combined):
    truth, base, scene = combined
    wardrobe = scene.objects[3]
    assert wardrobe.label == "wardrobe" and "back to the west wall (layout)" in wardrobe.notes
    left = next(w for w in scene.room.walls if w.name == "wall_left")  # west: the camera faces north
    assert front(wardrobe) @ left.plane[:3] == pytest.approx(1.0)


def test_combined_wall_choice_overrides_the_nearest_wall():
    truth = bedroom()
    camera = camera_for(truth)
    layout = {"layout": {"wardrobe": {"position": "against the north wall"}}}
    scene = solve(dataclasses.replace(truth.grounding(), layout=layout), camera)
    wardrobe = scene.objects[3]
    assert front(wardrobe) @ np.array([0.0, 0.0, 1.0]) == pytest.approx(1.0)  # back to the far (north) wall
    assert "back to the north wall (layout)" in wardrobe.notes


def test_combined_adds_what_no_box_covers(combined):
    truth, base, scene = combined
    assert len(scene.objects) == len(truth.boxes) + 2
    window, desk = scene.objects[-2:]
    assert (window.label, desk.label) == ("window", "desk")
    assert window.detection_index == desk.detection_index == -1
    right = next(w for w in scene.room.walls if w.name == "wall_right")  # east
    assert signed_distance(right, window.center_m) == pytest.approx(0.0, abs=1e-6)
    assert signed_distance(right, desk.corners_m).min() == pytest.approx(0.0, abs=CONTACT_M)
    assert desk.center_m[2] == pytest.approx(window.center_m[2], abs=0.6)
    furniture = [o for o in scene.objects if not is_opening(o)]
    for other in furniture[:-1]:
        assert not interpenetrate(desk, other), other.label
    for w in scene.room.walls:
        assert signed_distance(w, desk.corners_m).min() > -CONTACT_M
    assert sum("not among the 2D boxes" in w for w in scene.warnings) == 2


# ---------------------------------------------------------------------------------------------- end to end


def test_build_from_a_layout_only_answer(tmp_path, capsys):
    import pygltflib

    answer = tmp_path / "layout.json"
    answer.write_text(FENCED, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["build", str(SAMPLES / "bedroom_01" / "photo.png"), "--grounding", str(answer), "-o", str(out)]) == 0
    assert "grounding format layout" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["floorplan.svg", "index.html", "overlay.jpg", "scene.glb",
                                                     "scene.json"]
    scene = json.loads((out / "scene.json").read_text())
    assert scene["grounding"]["format"] == "layout" and scene["inputs"]["grounding_has_layout"] is True
    assert sorted(o["label"] for o in scene["objects"]) == ["bed", "wardrobe", "window"]
    layout = scene["layout"]  # what the text said of the room, for a user reading scene.json
    assert layout["room_type"] == "bedroom" and layout["objects_from_text"] == 3
    assert sorted(layout["wall_names"]) == ["east", "north", "south", "west"]
    assert sorted(layout["wall_names"].values()) == ["wall_back", "wall_front", "wall_left", "wall_right"]
    assert math.isfinite(layout["camera_heading_deg"]) and len(layout["room_size_m"]) == 2
    camera = scene["camera"]
    attitude = frames.attitude_from_world_from_camera(np.array(camera["world_from_camera"]))
    assert attitude["pitch_rad"] == pytest.approx(camera["pitch_rad"]) and attitude["yaw_rad"] == pytest.approx(0.0)
    assert attitude["height_m"] == pytest.approx(1.4)
    gltf = pygltflib.GLTF2.load_binary(str(out / "scene.glb"))
    nodes = {node.name: node for node in gltf.nodes}
    for obj in scene["objects"]:
        node = nodes[obj["name"]]
        assert node.extras["kind"] == "object" and node.extras["label"] == obj["label"]
        np.testing.assert_allclose(node.translation, obj["center"], atol=1e-6)
        np.testing.assert_allclose(node.scale, obj["size"], atol=1e-6)
    assert {"floor", "wall_back", "wall_left", "wall_right", "ceiling", "photo_camera"} <= set(nodes)
    assert (out / "index.html").stat().st_size > 10_000 and (out / "overlay.jpg").stat().st_size > 1_000


def test_contradictory_relations_keep_the_first_and_say_what_was_dropped():
    answer = {"room_type": "bedroom", "layout": {
        "bed": {"position": "against north wall, left of the desk"},
        "desk": {"position": "against north wall, left of the bed"},
        "chair": {"position": "in front of the desk, behind the desk"}}}
    result = layout_scene(answer)
    joined = " | ".join(result.warnings)
    assert "'desk left of bed' contradicts 'bed left of desk'" in joined
    assert "'chair behind desk' contradicts 'chair in front of desk'" in joined
    assert len(result.objects) == 3 and all(np.all(np.isfinite(o.corners_m)) for o in result.objects)


def test_combined_room_size_that_the_photo_contradicts_is_named_and_the_photo_kept():
    truth = bedroom()
    camera = camera_for(truth)
    base = solve(truth.grounding(), camera)
    seen = (base.room.floor_polygon_m[1][0] - base.room.floor_polygon_m[0][0],
            base.room.floor_polygon_m[1][1] - base.room.floor_polygon_m[2][1])
    small = {"room_size": "2 x 2 m", "layout": {"bed": {"size": "queen"}}}
    scene = solve(dataclasses.replace(truth.grounding(), layout=small), camera)
    check = scene.layout["room_size_check"]
    assert check["kept"] == "photo" and check["stated_m"] == [2.0, 2.0]
    np.testing.assert_allclose(check["seen_m"], seen, atol=0.3)
    warning = next(w for w in scene.warnings if "the answer says the room is 2.0 x 2.0 m" in w)
    assert "the photo's room is kept" in warning
    np.testing.assert_allclose(scene.room.floor_polygon_m, base.room.floor_polygon_m, atol=0.15)  # the bed resized
    # a room larger than what the photo shows agrees with it: no warning
    large = {"room_size": "9 x 9 m", "layout": {"bed": {"size": "queen"}}}
    scene = solve(dataclasses.replace(truth.grounding(), layout=large), camera)
    assert scene.layout["room_size_check"]["kept"] == "both"
    assert not any("the answer says the room is" in w for w in scene.warnings)
