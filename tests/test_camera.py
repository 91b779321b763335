"""The camera stage: which source wins, confidences, fallbacks, and the `room3d camera` command."""

import json
import math

import numpy as np
import pytest
from PIL import Image

from pipeline.camera import DEFAULT_FOCAL_35MM_MM, estimate_camera, focal_px_from_35mm
from pipeline.cli import main
from pipeline.photo import load_photo
from pipeline.records import Photo
from tests.conftest import SAMPLES

SAMPLE = SAMPLES / "bedroom_01"


def flat_photo(**exif) -> Photo:
    return Photo(path=None, rgb=np.full((480, 640, 3), 128, np.uint8), **exif)


def sample_photo(**exif) -> Photo:
    photo = load_photo(SAMPLE / "photo.png")
    return Photo(path=photo.path, rgb=photo.rgb, **exif)


def test_source_priority_user_exif_lines_default():
    truth = json.loads((SAMPLE / "truth.json").read_text())["camera"]
    assert estimate_camera(sample_photo(focal_35mm_mm=30.0), focal_px=600.0).intrinsics_source == "user"
    exif = estimate_camera(sample_photo(focal_35mm_mm=30.0))
    assert exif.intrinsics_source == "exif"
    assert exif.intrinsics.fx_px == pytest.approx(focal_px_from_35mm(30.0, 640, 480))
    sensor = estimate_camera(sample_photo(focal_px_from_sensor=520.0, focal_mm=4.0))
    assert sensor.intrinsics_source == "exif_sensor" and sensor.intrinsics.fx_px == 520.0
    lines = estimate_camera(sample_photo())
    assert lines.intrinsics_source == "vanishing_points"
    assert lines.intrinsics.fx_px == pytest.approx(truth["fx"], rel=0.05)
    assert lines.attitude_source == "vanishing_points" and lines.attitude_confidence > 0.3
    assert math.degrees(lines.pitch_rad) == pytest.approx(truth["pitch_deg"], abs=1.5)
    assert math.degrees(lines.roll_rad) == pytest.approx(truth["roll_deg"], abs=1.5)


def test_no_lines_falls_back_to_default_and_level_with_notes():
    camera = estimate_camera(flat_photo())
    assert camera.intrinsics_source == "default" and camera.intrinsics_confidence < 0.5
    assert camera.intrinsics.fx_px == pytest.approx(focal_px_from_35mm(DEFAULT_FOCAL_35MM_MM, 640, 480))
    assert camera.attitude_source == "assumed_level" and camera.pitch_rad == 0.0
    assert any("lines" in note for note in camera.notes)


def test_nonsense_exif_focal_is_ignored_with_a_note():
    camera = estimate_camera(flat_photo(focal_35mm_mm=1500.0))
    assert camera.intrinsics_source == "default"
    assert any("implausible" in note for note in camera.notes)


def test_user_attitude_overrides_lines():
    camera = estimate_camera(sample_photo(), pitch_deg=-5.0, roll_deg=1.0)
    assert camera.attitude_source == "user"
    assert math.degrees(camera.pitch_rad) == pytest.approx(-5.0)


def test_camera_command_text_json_and_overlay(tmp_path, capsys):
    overlay = tmp_path / "lines.png"
    assert main(["camera", str(SAMPLE / "photo.png"), "--overlay", str(overlay)]) == 0
    out = capsys.readouterr().out
    assert "focal" in out and "pitch" in out and "vanishing_points" in out
    with Image.open(overlay) as image:
        assert image.size == (640, 480)
    assert main(["camera", str(SAMPLE / "photo.png"), "--json", "--fov-deg", "70"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["intrinsics_source"] == "user" and summary["horizontal_fov_deg"] == pytest.approx(70.0)


def test_camera_command_bad_photo(tmp_path, capsys):
    (tmp_path / "x.jpg").write_text("nope")
    assert main(["camera", str(tmp_path / "x.jpg")]) == 2
    assert capsys.readouterr().err.startswith("room3d: error:")


@pytest.mark.parametrize("angle", [90, 180])
def test_rotated_photos_do_not_crash(angle):
    photo = load_photo(SAMPLE / "photo.png")
    rotated = Photo(path=None, rgb=np.ascontiguousarray(np.rot90(photo.rgb, k=angle // 90)))
    camera = estimate_camera(rotated)
    assert np.all(np.isfinite(camera.world_from_camera))
