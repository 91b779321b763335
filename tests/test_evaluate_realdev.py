"""``room3d eval`` on the real-photo dev set ``../shared/realdev`` (ScanNet frames; never copied into the repo).

Tests that need the set skip when it is absent (and fail under ``REQUIRE_ALL=1``). The level guards below hold the
figures measured when they were written, with a little slack: the camera author tightens them as the camera
improves.
"""

import functools
import json
import math
import subprocess
import sys

import numpy as np
import pytest

from pipeline import frames
from pipeline.cli import main
from pipeline.errors import UserError
from pipeline.evaluate import (
    evaluate_realdev,
    find_cases,
    gravity_aligned_iou,
    realdev_summary,
    score_realdev_case,
    solve_realdev_case,
    upright_box_iou,
)
from tests.conftest import ROOT, SAMPLES, require, sample_dirs
from tests.tolerances import GIVEN_CAMERA_GRAVITY_DEG, ROUND_TRIP_ATOL, SCORE_PY_ATOL

#: The dev set, beside the repository (``../shared/realdev`` from the repo root).
REALDEV = ROOT.parent / "shared" / "realdev"
REALDEV_CASES = 24

# Levels measured on the 24 cases (``room3d eval ../shared/realdev --given none [--depth depth.png]``), with about
# one case of slack on the shares; measured values in brackets.
#: Photo alone: median gravity error (degrees; [1.70]) ...
REALDEV_GRAVITY_MEDIAN_MAX_DEG = 2.1
#: ... the least share of the cases within 5 degrees ([0.92]) and within 15 ([1.0]) ...
REALDEV_GRAVITY_WITHIN_5DEG_MIN = 0.87
REALDEV_GRAVITY_WITHIN_15DEG_MIN = 0.95
#: ... median relative focal error ([0.052]) and the least share within 10 % ([0.75]) ...
REALDEV_FOCAL_MEDIAN_MAX = 0.07
REALDEV_FOCAL_WITHIN_10PCT_MIN = 0.70
#: ... median absolute camera height error (metres, vs the truth's floor estimate; [0.14]) ...
REALDEV_HEIGHT_MEDIAN_MAX_M = 0.18
#: ... and mean object IoU over the true objects ([0.166]).
REALDEV_MEAN_IOU_MIN = 0.145
#: The confidence means something: the cases the camera is sure of (attitude confidence 0.5 or more; [11 of 24])
#: are all within this (degrees; [3.1]), and the unsure ones (below 0.3) are worse in the median.
REALDEV_CONFIDENT_MAX_DEG = 5.0
#: With the sensor depth (``--depth depth.png``): median gravity error (degrees; [1.41]) ...
REALDEV_DEPTH_GRAVITY_MEDIAN_MAX_DEG = 1.7
#: ... the least share of the cases within 2 degrees ([0.71]) ...
REALDEV_DEPTH_GRAVITY_WITHIN_2DEG_MIN = 0.66
#: ... the least share of the cases within 5 degrees ([0.96]) and within 15 ([1.0]) ...
REALDEV_DEPTH_GRAVITY_WITHIN_5DEG_MIN = 0.91
REALDEV_DEPTH_GRAVITY_WITHIN_15DEG_MIN = 1.0
#: ... median absolute camera height error (metres; [0.06]) ...
REALDEV_DEPTH_HEIGHT_MEDIAN_MAX_M = 0.10
#: ... the least share of the cases with the focal within 10 % (the map's planes meet at right angles; [0.92]) ...
REALDEV_DEPTH_FOCAL_WITHIN_10PCT_MIN = 0.87
#: ... and mean object IoU ([0.301]) and recall at IoU 0.25 ([0.51]).
REALDEV_DEPTH_MEAN_IOU_MIN = 0.27
REALDEV_DEPTH_RECALL_25_MIN = 0.46
#: With the true camera and the sensor depth (the solver's own share of the error): mean IoU ([0.333]) and recall
#: at IoU 0.25 ([0.57]).
REALDEV_TRUE_CAMERA_DEPTH_MEAN_IOU_MIN = 0.30
REALDEV_TRUE_CAMERA_DEPTH_RECALL_25_MIN = 0.51
#: The room's layout against the sensor's depth, outside the objects' 2D boxes (:mod:`pipeline.room_depth`): median
#: over photos of the median |log error| and of the share of pixels within 10 %, photo alone ([0.17], [0.18]) and
#: with the sensor depth, its walls measured ([0.02], [0.87]).
REALDEV_LAYOUT_LOG_MAX = 0.20
REALDEV_LAYOUT_WITHIN_MIN = 0.14
REALDEV_DEPTH_LAYOUT_LOG_MAX = 0.04
REALDEV_DEPTH_LAYOUT_WITHIN_MIN = 0.80
#: No object centre farther than this from the camera (metres; the true ones lie within 5.1 m).
REALDEV_MAX_RANGE_M = 20.0

#: Cases for the check against score.py: many objects, two scans.
SCORE_PY_CASES = ("scene0025_00_00020", "scene0207_00_00640")


@pytest.fixture(scope="module")
def realdev():
    require((REALDEV / "score.py").is_file() and (REALDEV / SCORE_PY_CASES[0] / "truth.json").is_file(),
            f"the realdev set at {REALDEV}")
    return REALDEV


@functools.cache
def _evaluated(given: str, depth_name: str | None = None):
    """Every realdev case solved and scored once per mode in a test session (read only)."""
    _, cases = find_cases([REALDEV])
    return evaluate_realdev(cases, given, depth_name=depth_name)


def test_gravity_aligned_iou_agrees_with_upright_box_iou():
    """In a z-up frame (Blender's: ``(x, -z, y)`` of the world) an upright box scores as ``upright_box_iou``."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        a = frames.box_corners(rng.uniform(-1, 1, 3), rng.uniform(0.3, 2, 3), rng.uniform(-math.pi, math.pi))
        b = frames.box_corners(rng.uniform(-1, 1, 3), rng.uniform(0.3, 2, 3), rng.uniform(-math.pi, math.pi))
        assert gravity_aligned_iou(frames.blender_from_world(a), frames.blender_from_world(b)) == pytest.approx(
            upright_box_iou(a, b), abs=ROUND_TRIP_ATOL)
    a = frames.blender_from_world(frames.box_corners([0, 0.5, 0], [1, 1, 1], 0.3))
    assert gravity_aligned_iou(a, a) == pytest.approx(1.0)
    assert gravity_aligned_iou(a, a + [5.0, 0.0, 0.0]) == 0.0
    assert gravity_aligned_iou(a, np.full((8, 3), np.nan)) == 0.0


def test_find_cases_recognises_realdev(realdev):
    kind, cases = find_cases([realdev])
    assert kind == "realdev" and len(cases) == REALDEV_CASES
    assert all((case / "photo.jpg").is_file() for case in cases)
    assert find_cases([realdev / SCORE_PY_CASES[0]]) == ("realdev", [realdev / SCORE_PY_CASES[0]])
    if sample_dirs():
        assert find_cases([SAMPLES])[0] == "samples"
        with pytest.raises(UserError, match="one kind at a time"):
            find_cases([SAMPLES, realdev])


def test_find_cases_refuses_an_empty_folder(tmp_path):
    with pytest.raises(UserError, match="no case folders"):
        find_cases([tmp_path])


def test_given_camera_is_exact(realdev):
    """The true camera given: no gravity, focal or height error (truth's pitch and roll follow our attitude)."""
    cameras, objects = _evaluated("camera")
    assert len(cameras) == REALDEV_CASES
    for camera in cameras:
        assert camera.gravity_error_deg < GIVEN_CAMERA_GRAVITY_DEG, camera.case
        assert camera.focal_error == 0.0, camera.case
        assert camera.height_error_m == pytest.approx(0.0, abs=ROUND_TRIP_ATOL)
        assert camera.intrinsics_source == camera.attitude_source == "user"
    assert len(objects) == sum(c.objects_in_truth for c in cameras)


def _score_py(case, scene: dict, tmp_path) -> dict:
    path = tmp_path / f"{case.name}.scene.json"
    path.write_text(json.dumps(scene))
    result = subprocess.run([sys.executable, str(REALDEV / "score.py"), str(case), str(path), "--json"],
                            capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", SCORE_PY_CASES)
def test_scores_agree_with_score_py(realdev, tmp_path, name):
    """Our scoring of a solved scene (photo alone: a wrong camera, tilted boxes) is score.py's, object by object;
    with a missed object, a duplicate index (the first counts) and an index out of range."""
    case = realdev / name
    scene = solve_realdev_case(case, "none")
    objects = scene["objects"]
    assert len(objects) >= 3
    first = objects[0]
    wrong = np.array(first["corners"], dtype=float) + [0.3, 0.0, -0.2]
    scene["objects"] = objects[1:] + [
        {"detection_index": objects[1]["detection_index"], "corners": wrong.tolist()},  # a duplicate: ignored
        {"detection_index": 99, "corners": first["corners"]},                           # out of range: ignored
    ]
    expected = _score_py(case, scene, tmp_path)
    camera, scores = score_realdev_case(name, json.loads((case / "truth.json").read_text()), scene)
    assert camera.gravity_error_deg == pytest.approx(expected["gravity_err_deg"], abs=SCORE_PY_ATOL)
    assert camera.focal_error == pytest.approx(expected["focal_rel_err"], abs=SCORE_PY_ATOL)
    assert camera.gravity_error_deg > 0.01  # the photo's own camera: the mapping through it is exercised
    assert len(scores) == len(expected["objects"])
    for ours, theirs in zip(scores, expected["objects"]):
        assert (ours.index, ours.label, ours.predicted) == (theirs["index"], theirs["label"], theirs["predicted"])
        assert ours.iou == pytest.approx(theirs["iou3d"], abs=SCORE_PY_ATOL)
        if ours.predicted:
            assert ours.center_error_m == pytest.approx(theirs["centre_err_m"], abs=SCORE_PY_ATOL)
            assert ours.range_error_m == pytest.approx(theirs["range_err_m"], abs=SCORE_PY_ATOL)
        else:
            assert ours.center_error_m is None and theirs["centre_err_m"] is None
    assert not scores[first["detection_index"]].predicted
    assert any(s.iou > 0 for s in scores)


def test_oracle_scene_scores_one(realdev):
    """score.py's own oracle scene.json (the truth in our world frame) scores IoU 1.000 and no camera error."""
    case = realdev / SCORE_PY_CASES[0]
    oracle = json.loads(subprocess.run([sys.executable, str(REALDEV / "score.py"), "--oracle", str(case)],
                                       capture_output=True, text=True, timeout=60, check=True).stdout)
    camera, scores = score_realdev_case(case.name, json.loads((case / "truth.json").read_text()), oracle)
    assert camera.gravity_error_deg == pytest.approx(0.0, abs=1e-4) and camera.focal_error == 0.0
    for score in scores:  # the oracle's corners are rounded to 1e-6 m
        assert score.iou == pytest.approx(1.0, abs=1e-3) and score.center_error_m == pytest.approx(0.0, abs=1e-4)


def test_cli_eval_realdev_prints_the_summary(realdev, capsys, monkeypatch):
    """``room3d eval ../shared/realdev --given none`` (its solves shared with the level guard's)."""
    _, all_cases = find_cases([realdev])

    def cached(cases, given, depth_name=None, crop=None):
        assert list(cases) == all_cases and crop is None
        return _evaluated(given, depth_name)

    monkeypatch.setattr("pipeline.evaluate.evaluate_realdev", cached)
    assert main(["eval", str(realdev), "--given", "none"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("given: none")
    assert sum(line.startswith("scene0") for line in out.splitlines()) == REALDEV_CASES
    for start in ("gravity error: median", "focal error: median", "camera height error: median",
                  "sources: intrinsics", "objects: mean IoU", "room layout vs the sensor's depth"):
        assert any(line.startswith(start) for line in out.splitlines()), start
    assert "gravity error by attitude confidence: 0-0.3:" in out
    assert "within 2 deg" in out and "5 deg" in out and "15 deg" in out and "within 10%" in out


def test_cli_eval_realdev_json_and_objects(realdev, capsys):
    case = realdev / SCORE_PY_CASES[0]
    assert main(["eval", str(case), "--given", "k", "--json", "--objects"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "realdev" and [run["given"] for run in result["runs"]] == ["k"]
    run = result["runs"][0]
    assert run["summary"]["cases"] == 1 and run["summary"]["focal_error_median"] == 0.0
    assert {"gravity_error_deg_median", "gravity_within_5deg", "focal_within_10pct", "mean_iou", "recall@0.25",
            "height_error_m_median_abs", "classes"} <= set(run["summary"])
    assert run["cases"][0]["case"] == case.name and run["cases"][0]["intrinsics_source"] == "user"
    assert len(run["objects"]) == run["summary"]["objects"]


def test_cli_eval_refuses_mixed_kinds(realdev, capsys):
    require(bool(sample_dirs()), "samples/")
    assert main(["eval", str(SAMPLES), str(realdev), "--given", "none"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "one kind at a time" in err


def test_realdev_camera_levels(realdev):
    """Guards today's levels on real photos, photo alone and with the sensor depth."""
    photo = realdev_summary(*_evaluated("none"))
    assert photo["gravity_error_deg_median"] <= REALDEV_GRAVITY_MEDIAN_MAX_DEG, photo
    assert photo["gravity_within_5deg"] >= REALDEV_GRAVITY_WITHIN_5DEG_MIN, photo
    assert photo["gravity_within_15deg"] >= REALDEV_GRAVITY_WITHIN_15DEG_MIN, photo
    assert photo["focal_error_median"] <= REALDEV_FOCAL_MEDIAN_MAX, photo
    assert photo["focal_within_10pct"] >= REALDEV_FOCAL_WITHIN_10PCT_MIN, photo
    assert photo["height_error_m_median_abs"] <= REALDEV_HEIGHT_MEDIAN_MAX_M, photo
    assert photo["mean_iou"] >= REALDEV_MEAN_IOU_MIN, photo
    unsure, _, sure = photo["gravity_by_confidence"]
    assert sure["cases"] >= REALDEV_CASES // 3 and sure["gravity_error_deg_max"] <= REALDEV_CONFIDENT_MAX_DEG, photo
    assert unsure["cases"] == 0 or unsure["gravity_error_deg_median"] > sure["gravity_error_deg_median"], photo
    depth = realdev_summary(*_evaluated("none", "depth.png"))
    assert depth["gravity_error_deg_median"] <= REALDEV_DEPTH_GRAVITY_MEDIAN_MAX_DEG, depth
    assert depth["gravity_within_2deg"] >= REALDEV_DEPTH_GRAVITY_WITHIN_2DEG_MIN, depth
    assert depth["gravity_within_5deg"] >= REALDEV_DEPTH_GRAVITY_WITHIN_5DEG_MIN, depth
    assert depth["focal_within_10pct"] >= REALDEV_DEPTH_FOCAL_WITHIN_10PCT_MIN, depth
    assert depth["gravity_within_15deg"] >= REALDEV_DEPTH_GRAVITY_WITHIN_15DEG_MIN, depth
    assert depth["height_error_m_median_abs"] <= REALDEV_DEPTH_HEIGHT_MEDIAN_MAX_M, depth
    assert depth["mean_iou"] >= REALDEV_DEPTH_MEAN_IOU_MIN, depth
    assert depth["recall@0.25"] >= REALDEV_DEPTH_RECALL_25_MIN, depth


def test_realdev_layout_levels(realdev):
    """The room shell against the sensor's depth where no object is, on every case, photo alone and with the
    sensor depth."""
    photo, depth = realdev_summary(*_evaluated("none")), realdev_summary(*_evaluated("none", "depth.png"))
    assert photo["layout_cases"] == depth["layout_cases"] == REALDEV_CASES
    assert photo["layout_log_error_median"] <= REALDEV_LAYOUT_LOG_MAX, photo
    assert photo["layout_within_10pct_median"] >= REALDEV_LAYOUT_WITHIN_MIN, photo
    assert depth["layout_log_error_median"] <= REALDEV_DEPTH_LAYOUT_LOG_MAX, depth
    assert depth["layout_within_10pct_median"] >= REALDEV_DEPTH_LAYOUT_WITHIN_MIN, depth


def test_realdev_object_levels(realdev):
    """The solver's own accuracy on real photos (the true camera and the sensor depth given), and no absurd
    placement in any mode."""
    cameras, objects = _evaluated("camera", "depth.png")
    summary = realdev_summary(cameras, objects)
    assert summary["mean_iou"] >= REALDEV_TRUE_CAMERA_DEPTH_MEAN_IOU_MIN, summary
    assert summary["recall@0.25"] >= REALDEV_TRUE_CAMERA_DEPTH_RECALL_25_MIN, summary
    for given, depth in (("none", None), ("none", "depth.png"), ("camera", "depth.png")):
        ranges = [o.true_range_m + o.range_error_m for o in _evaluated(given, depth)[1] if o.predicted]
        assert ranges and max(ranges) <= REALDEV_MAX_RANGE_M, (given, depth, max(ranges))


def test_crop_is_the_same_camera_with_a_narrower_view(realdev, capsys):
    """``--crop``: the centred crop of a case is solved as a user's crop would be (a smaller photo, boxes cut to
    it); with the true focal given, the camera is scored as it is (a crop keeps the rotation and the focal in
    pixels). Samples take no crop."""
    case = realdev / SCORE_PY_CASES[0]
    scene = solve_realdev_case(case, "k", crop=0.6)
    assert (scene["camera"]["width"], scene["camera"]["height"]) == (round(1296 * 0.6), round(968 * 0.6))
    truth = json.loads((case / "truth.json").read_text())
    camera, objects = score_realdev_case(case.name, truth, scene)
    assert camera.focal_error == pytest.approx(0.0, abs=1e-9)
    assert 0 < sum(o.predicted for o in objects) < len(objects)  # the crop cuts some objects out of view
    assert main(["eval", str(SAMPLES / "bedroom_01"), "--crop", "0.6"]) == 2
    assert "--crop" in capsys.readouterr().err
    # a crop's room is not scored against the full frame's depth: no figure, and strict JSON (null, not NaN)
    assert main(["eval", str(case), "--given", "k", "--crop", "0.6", "--json"]) == 0

    def refuse(constant):
        raise ValueError(f"not JSON: {constant}")

    result = json.loads(capsys.readouterr().out, parse_constant=refuse)
    assert result["runs"][0]["cases"][0]["layout_log_error"] is None
