"""``room3d build --edits``: a person's corrections kept exactly, the other objects solved again around them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pipeline import frames, priors
from pipeline.batch import BatchItem, item_key
from pipeline.build import BuildOptions, build
from pipeline.edits import parse_edits
from pipeline.errors import UserError
from pipeline.records import ObjectBox
from pipeline.solve.refine import may_interpenetrate, penetration_m, room_frame_extents
from tests.tolerances import JOINT_OVERLAP_M

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "samples" / "bedroom_01"
#: The user's boxes come back as given (JSON floats through the solver untouched).
EXACT_M = 1e-9


def _build(out: Path, **options) -> dict:
    options.setdefault("grounding", SAMPLE / "grounding.qwen3.json")
    build(SAMPLE / "photo.png", out, BuildOptions(**options))
    return json.loads((out / "scene.json").read_text())


@pytest.fixture(scope="module")
def first(tmp_path_factory) -> dict:
    """The scene as built from the photo alone: what the user edits."""
    return _build(tmp_path_factory.mktemp("edits") / "first")


def _edits(scene: dict, objects: list) -> dict:
    return {"room3d": "edits", "version": 1, "photo_sha256": scene["inputs"]["photo_sha256"],
            "camera": scene["camera"], "objects": objects}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "edits.json"
    path.write_text(json.dumps(data))
    return path


def _named(scene: dict, label: str) -> list[dict]:
    return [o for o in scene["objects"] if o["label"] == label]


def _box(obj: dict) -> ObjectBox:
    return ObjectBox(obj["label"], obj["category"], obj["detection_index"], tuple(obj["center"]), tuple(obj["size"]),
                     obj["yaw"], notes=tuple(obj["notes"]))


def test_edits_that_change_nothing_give_back_the_same_scene(first, tmp_path):
    again = _build(tmp_path / "again", edits=_write(tmp_path, _edits(first, [])))
    assert [o["name"] for o in again["objects"]] == [o["name"] for o in first["objects"]]
    for a, b in zip(first["objects"], again["objects"]):
        assert b["center"] == a["center"] and b["size"] == a["size"] and b["yaw"] == a["yaw"]  # solved alike
    np.testing.assert_allclose(again["camera"]["world_from_camera"], first["camera"]["world_from_camera"])
    assert again["camera"]["height_source"].endswith("+edits")
    assert again["inputs"]["edits"]["camera"] == "from the edits"


def test_a_moved_bed_stays_where_it_was_put_and_pushes_the_others_out(first, tmp_path):
    bed = _named(first, "bed")[0]
    moved = [bed["center"][0] + 0.5, bed["center"][1], bed["center"][2]]
    edits = _edits(first, [{"detection_index": bed["detection_index"], "label": "bed", "center": moved,
                            "size": bed["size"], "yaw": bed["yaw"]}])
    scene = _build(tmp_path / "moved", edits=_write(tmp_path, edits))
    got = _named(scene, "bed")[0]
    np.testing.assert_allclose(got["center"], moved, atol=EXACT_M)
    np.testing.assert_allclose(got["size"], bed["size"], atol=EXACT_M)
    assert got["yaw"] == pytest.approx(bed["yaw"], abs=EXACT_M) and got["size_source"] == "user"
    assert "fixed where the user put it (edits)" in got["notes"]
    # nothing stands inside the bed where it now is
    boxes = [_box(o) for o in scene["objects"]]
    lo, hi = room_frame_extents(boxes, scene["camera"]["room_yaw_rad"])
    k = [o["label"] for o in scene["objects"]].index("bed")
    for j, other in enumerate(boxes):
        if j != k and not may_interpenetrate(boxes[k], other):
            assert penetration_m(lo[k], hi[k], lo[j], hi[j]) <= JOINT_OVERLAP_M, other.label
    # ... though the first scene had a nightstand in the bed's new place
    first_boxes = [_box(o) for o in first["objects"]]
    moved_bed = _box(got)
    lo1, hi1 = room_frame_extents([moved_bed, *first_boxes], first["camera"]["room_yaw_rad"])
    assert max(penetration_m(lo1[0], hi1[0], lo1[j], hi1[j]) for j in range(1, len(lo1))
               if first_boxes[j - 1].label not in ("bed", "table lamp")) > 0.05


def test_what_stands_on_a_moved_nightstand_goes_along(first, tmp_path):
    lamp = next(o for o in _named(first, "table lamp") if "stands on nightstand" in o["notes"])
    stand = min(_named(first, "nightstand"), key=lambda o: np.linalg.norm(np.subtract(o["center"], lamp["center"])))
    center = [stand["center"][0] - 0.4, 0.35, stand["center"][2] + 0.3]
    size = [stand["size"][0], 0.7, stand["size"][2]]  # taller, moved and turned by the user
    yaw = stand["yaw"] + 0.3
    edits = _edits(first, [{"detection_index": stand["detection_index"], "center": center, "size": size,
                            "yaw": yaw}])
    scene = _build(tmp_path / "stand", edits=_write(tmp_path, edits))
    got = next(o for o in scene["objects"] if o["detection_index"] == stand["detection_index"])
    assert got["label"] == "nightstand"  # the detection's own label when the edit gives none
    np.testing.assert_allclose(got["center"], center, atol=EXACT_M)
    carried = next(o for o in scene["objects"] if o["detection_index"] == lamp["detection_index"])
    assert "moved with what it stands on (edits)" in carried["notes"]
    bottom = carried["center"][1] - 0.5 * carried["size"][1]
    assert bottom == pytest.approx(0.7, abs=1e-6)  # on the new top
    local = frames.rot_y(-yaw) @ np.subtract(carried["center"], center)
    assert abs(local[0]) <= 0.5 * size[0] + 1e-6 and abs(local[2]) <= 0.5 * size[2] + 1e-6  # on its footprint
    assert carried["yaw"] == pytest.approx(frames.wrap_angle(lamp["yaw"] + 0.3), abs=1e-6)


def test_removed_relabeled_and_added_objects(first, tmp_path):
    plant, wardrobe = _named(first, "plant")[0], _named(first, "wardrobe")[0]
    added = {"label": "armchair <b>", "center": [0.2, 0.45, -2.5], "size": [0.8, 0.9, 0.8], "yaw": 0.25}
    edits = _edits(first, [{"detection_index": plant["detection_index"], "remove": True},
                           {"detection_index": wardrobe["detection_index"], "label": "bookshelf"}, added])
    scene = _build(tmp_path / "more", edits=_write(tmp_path, edits))
    assert not _named(scene, "plant")
    assert len(scene["objects"]) == len(first["objects"])  # one gone, one added
    shelf = next(o for o in scene["objects"] if o["detection_index"] == wardrobe["detection_index"])
    assert shelf["label"] == "bookshelf" and shelf["category"] == priors.lookup("bookshelf").category
    assert shelf["size_source"] != "user"  # solved again, with the bookshelf's size prior
    chair = _named(scene, "armchair <b>")[0]
    assert chair["detection_index"] == -1 and "added by the user (edits)" in chair["notes"]
    np.testing.assert_allclose(chair["center"], added["center"], atol=EXACT_M)
    np.testing.assert_allclose(chair["size"], added["size"], atol=EXACT_M)
    assert scene["inputs"]["edits"] | {"source": None} == {
        "source": None, "fixed": 0, "added": 1, "removed": 1, "relabeled": 1, "camera": "from the edits",
        "removed_detections": [plant["detection_index"]],
        "relabeled_detections": [[wardrobe["detection_index"], "bookshelf"]]}


def test_an_added_object_out_of_view_is_added_too(first, tmp_path):
    behind = {"label": "sofa", "center": [0.0, 0.4, 2.0], "size": [2.0, 0.8, 0.9], "yaw": 0.0}  # behind the camera
    scene = _build(tmp_path / "behind", edits=_write(tmp_path, _edits(first, [behind])))
    sofa = _named(scene, "sofa")[0]
    np.testing.assert_allclose(sofa["center"], behind["center"], atol=EXACT_M)
    assert sofa["detection_index"] == -1


def test_the_edited_glb_validates(first, tmp_path, node_ready):
    from tests.viewer_tools import validate_glb

    bed = _named(first, "bed")[0]
    edits = _edits(first, [{"detection_index": bed["detection_index"], "center": bed["center"], "size": bed["size"],
                            "yaw": bed["yaw"] + 0.5}, {"label": "desk", "center": [0.5, 0.37, -2.8],
                                                      "size": [1.2, 0.75, 0.6], "yaw": 0.0}])
    out = tmp_path / "glb"
    _build(out, edits=_write(tmp_path, edits))
    report = validate_glb(out / "scene.glb")
    assert report["issues"]["numErrors"] == 0 and report["issues"]["numWarnings"] == 0, report["issues"]


def test_with_depth_the_users_boxes_still_win(first, tmp_path):
    bed = _named(first, "bed")[0]
    moved = [bed["center"][0] - 0.3, bed["center"][1], bed["center"][2] + 0.2]
    edits = _edits(first, [{"detection_index": bed["detection_index"], "center": moved, "size": bed["size"],
                            "yaw": bed["yaw"]}])
    scene = _build(tmp_path / "depth", edits=_write(tmp_path, edits), depth=f"file:{SAMPLE / 'depth.png'}")
    np.testing.assert_allclose(_named(scene, "bed")[0]["center"], moved, atol=EXACT_M)


def test_edits_of_another_photo_are_refused_or_said(first, tmp_path):
    wrong_size = _edits(first, [])
    wrong_size["camera"] = dict(first["camera"], width=first["camera"]["width"] + 2)
    with pytest.raises(UserError, match="were made on a"):
        _build(tmp_path / "size", edits=_write(tmp_path, wrong_size))
    assert not (tmp_path / "size").exists()
    other = dict(_edits(first, []), photo_sha256="0" * 64)
    scene = _build(tmp_path / "sha", edits=_write(tmp_path, other))
    assert any("made on another photo" in w for w in scene["warnings"])
    unknown = _edits(first, [{"detection_index": 97, "remove": True}])
    scene = _build(tmp_path / "unknown", edits=_write(tmp_path, unknown))
    assert any("detection 97 is not in this grounding" in w for w in scene["warnings"])


BAD_EDITS = [
    ([], "a JSON object"),
    ({"objects": {}}, "a JSON object"),
    ({"version": 2, "objects": []}, "version 2"),
    ({"objects": ["bed"]}, "not a JSON object"),
    ({"objects": [{"detection_index": 1}]}, "says nothing"),
    ({"objects": [{"detection_index": "1", "remove": True}]}, "detection_index"),
    ({"objects": [{"detection_index": True, "remove": True}]}, "detection_index"),
    ({"objects": [{"remove": True}]}, "needs its detection_index"),
    ({"objects": [{"detection_index": 1, "remove": True}, {"detection_index": 1, "label": "x"}]}, "twice"),
    ({"objects": [{"label": 5}]}, "label must be text"),
    ({"objects": [{"label": "x", "center": [0, 0, 0], "size": [1, 1, 1]}]}, "no \"camera\""),
    ({"camera": "x", "objects": []}, "camera block"),
    ({"camera": {"fx": 0, "fy": 1, "cx": 1, "cy": 1}, "objects": []}, "focal length"),
    ({"objects": [{"center": [0, 0, 0], "size": [1, 1, 1]}], "camera": None}, "needs a label"),
    ({"objects": [{"label": "x", "center": [0, 0], "size": [1, 1, 1]}]}, "three numbers"),
    ({"objects": [{"label": "x", "center": [0, 0, 1e300], "size": [1, 1, 1]}]}, "outside"),
    ({"objects": [{"label": "x", "center": [0, 0, 0], "size": [1, 0, 1]}]}, "outside"),
    ({"objects": [{"label": "x", "center": [0, 0, 0], "size": [1, 1, 1], "yaw": "north"}]}, "must be a number"),
    ({"objects": [{"label": "x", "center": [0, 0, 0], "size": [1, 1, 10 ** 400]}]}, "finite"),
    ({"objects": [{}] * 2001}, "at most"),
]


@pytest.mark.parametrize("data,message", BAD_EDITS)
def test_bad_edits_are_one_line_errors(data, message):
    with pytest.raises(UserError, match=message) as error:
        parse_edits(data, "edits.json")
    assert "\n" not in str(error.value)


def test_bad_camera_blocks_are_refused(first):
    for change in ({"world_from_camera": [[1, 0], [0, 1]]}, {"world_from_camera": np.diag([2.0, 1, 1, 1]).tolist()},
                   {"width": 0}, {"width": 1.5}, {"fx": float("nan")}):
        with pytest.raises(UserError, match="camera"):
            parse_edits(_edits(first, []) | {"camera": first["camera"] | change}, "edits.json")


def test_the_command_line_refuses_a_broken_edits_file_in_one_line(tmp_path):
    for name, text in (("nan.json", '{"objects": [{"label": "x", "center": [NaN, 0, 0], "size": [1, 1, 1]}]}'),
                       ("cut.json", '{"objects": [{"label"'), ("bom.json", "\ufeff[]"), ("bin.json", "\xff\xfe\x00")):
        path = tmp_path / name
        path.write_text(text, encoding="latin-1" if name == "bin.json" else "utf-8")
        out = tmp_path / f"out-{name}"
        done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(SAMPLE / "photo.png"), "-o", str(out),
                               "--grounding", str(SAMPLE / "grounding.qwen3.json"), "--edits", str(path)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("room3d: error:") and done.stderr.count("\n") == 1, done.stderr
        assert not out.exists()
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"objects": [{"detection_index": 0, "label": "sofa bed"}]}))
    done = subprocess.run([sys.executable, "-m", "pipeline", "build", str(SAMPLE / "photo.png"), "-o",
                           str(tmp_path / "good"), "--grounding", str(SAMPLE / "grounding.qwen3.json"), "--edits",
                           str(good)], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert "edits: 0 kept as given, 0 added, 0 removed, 1 relabelled; camera estimated" in done.stdout
    missing = subprocess.run([sys.executable, "-m", "pipeline", "build", str(SAMPLE / "photo.png"), "-o",
                              str(tmp_path / "o"), "--edits", str(tmp_path / "none.json")],
                             capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert missing.returncode == 2 and "cannot read the edits file" in missing.stderr


def test_a_batch_rebuilds_when_its_edits_change(tmp_path):
    edits = tmp_path / "edits.json"
    edits.write_text('{"objects": []}')
    item = BatchItem("room", SAMPLE / "photo.png", BuildOptions(edits=edits))
    before = item_key(item)
    edits.write_text('{"objects": [{"detection_index": 1, "remove": true}]}')
    assert item_key(item) != before


REALDEV = ROOT.parent / "shared" / "realdev"


@pytest.mark.parametrize("with_depth", [False, True])
def test_on_real_photos_edits_that_change_nothing_change_nothing(with_depth):
    """On the real photos (``../shared/realdev``, only read) an edits file with the scene's camera and no change
    solves every object exactly as the build did: the second solve reaches the edited scene's camera as the first
    build did (its scale search and warm start), so what the user left alone stays where it was."""
    from pipeline.evaluate import case_inputs, solve_inputs
    from tests.conftest import require

    require(REALDEV.is_dir(), f"the real-photo dev set at {REALDEV}")
    cases = sorted(p for p in REALDEV.iterdir() if (p / "photo.jpg").is_file())
    for case in cases[:: 1 if not with_depth else 3]:
        inputs = case_inputs(case / "photo.jpg", case / "grounding.qwen3.json", {},
                             case / "depth.png" if with_depth else None)
        first = solve_inputs(inputs)
        edits = parse_edits(json.loads(json.dumps({"camera": first["camera"], "objects": []})), "edits.json")
        again = solve_inputs(inputs, edits)
        assert len(again["objects"]) == len(first["objects"]), case.name
        for a, b in zip(first["objects"], again["objects"]):
            same = b["center"] == a["center"] and b["size"] == a["size"] and b["yaw"] == a["yaw"]
            assert same, (case.name, a["name"])


def test_a_placed_box_hides_only_the_bottoms_its_outline_covers():
    from pipeline.records import Detection
    from pipeline.solve.corrections import covers_bottom
    from tests.synthetic import bedroom
    from tests.test_solve import camera_for

    truth = bedroom()
    camera = camera_for(truth)
    ahead = ObjectBox("box", "box", 0, (0.0, 0.4, -2.5), (1.0, 0.8, 0.6), 0.0)
    uv, _ = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, ahead.corners_m)
    (u1, v1), (u2, v2) = uv.min(axis=0), uv.max(axis=0)
    below = Detection("bin", (u1 + 5, v1 - 40, u2 - 5, 0.5 * (v1 + v2)), 1)  # its bottom edge inside the outline
    beside = Detection("bin", (u2 + 10, v1, u2 + 60, 0.5 * (v1 + v2)), 2)
    assert covers_bottom(ahead, below, camera) and not covers_bottom(ahead, beside, camera)
    behind_camera = ObjectBox("box", "box", 0, (0.0, 0.4, 1.0), (1.0, 0.8, 3.0), 0.0)  # reaches past the camera
    assert covers_bottom(behind_camera, beside, camera)
