"""A built sample opened in Debian's Blender (3.4, headless) the way a user does: File > Import > glTF 2.0.

``tests/blender_check.py`` runs inside Blender and dumps what the importer made; here it is compared with
``scene.json``: object names, boxes (in Blender's +Z-up frame, through ``pipeline.frames``) and the photo camera,
whose view of the boxes must match their pixels in the photo. Both ``scene.glb`` and ``scene.gltf`` (+ ``.bin``).
"""

import json
import math
import shutil
import subprocess
import sys

import numpy as np
import pytest

from pipeline import frames
from pipeline.export.gltf import unique_names
from tests.conftest import ROOT, SAMPLES, require
from tests.tolerances import BLENDER_M, BLENDER_PX

#: A landscape sample with duplicate labels, and a portrait one (Blender's vertical sensor fit either way).
BLENDER_SAMPLES = ["bedroom_01", "bedroom_03_portrait"]
ROOM_NAMES = {"floor", "wall_back", "wall_left", "wall_right", "ceiling"}


@pytest.fixture(scope="module", params=BLENDER_SAMPLES)
def built(request, tmp_path_factory):
    require(shutil.which("blender") is not None, "blender (apt-get install blender)")
    sample = SAMPLES / request.param
    out = tmp_path_factory.mktemp("blender") / "out"
    proc = subprocess.run([sys.executable, "-m", "pipeline", "build", str(sample / "photo.png"), "-o", str(out),
                           "--grounding", str(sample / "grounding.qwen3.json"), "--also", "gltf"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out, json.loads((out / "scene.json").read_text(encoding="utf-8"))


def _corners_world(scene: dict) -> np.ndarray:
    """(N * 8, 3) every object's corners, glTF world frame."""
    return np.array([corner for obj in scene["objects"] for corner in obj["corners"]], dtype=float)


@pytest.fixture(scope="module", params=["scene.glb", "scene.gltf"])
def imported(request, built):
    """(scene.json, the Blender report) for one of the two files."""
    out, scene = built
    points = out.parent / "points_blender.json"
    points.write_text(json.dumps(frames.blender_from_world(_corners_world(scene)).tolist()))
    report_path = out.parent / f"blender_{request.param}.json"
    camera = scene["camera"]
    proc = subprocess.run(["blender", "-b", "--factory-startup", "--python-exit-code", "1",
                           "--python", str(ROOT / "tests" / "blender_check.py"), "--",
                           str(out / request.param), str(report_path), "--points", str(points),
                           "--resolution", str(camera["width"]), str(camera["height"])],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return scene, json.loads(report_path.read_text(encoding="utf-8"))


def test_object_names_are_the_labels(imported):
    scene, report = imported
    objects = {o["name"]: o for o in report["objects"]}
    names = [obj["name"] for obj in scene["objects"]]
    assert names == unique_names([obj["label"] for obj in scene["objects"]])
    if scene["inputs"]["photo"].endswith("bedroom_01/photo.png"):  # duplicate labels, as Blender names them
        assert {"nightstand", "nightstand.001", "table lamp", "table lamp.001"} <= set(names)
    assert sorted(name for name, o in objects.items() if o["custom_properties"].get("kind") == "object") \
        == sorted(names)
    for obj in scene["objects"]:
        assert objects[obj["name"]]["custom_properties"]["label"] == obj["label"]
    assert ROOM_NAMES <= set(objects) and objects["photo_camera"]["type"] == "CAMERA"
    assert len(report["objects"]) == len(names) + len(ROOM_NAMES) + 1  # nothing else comes in


def test_boxes_match_scene_json_in_blenders_frame(imported):
    scene, report = imported
    objects = {o["name"]: o for o in report["objects"]}
    for obj in scene["objects"]:
        imported_obj = objects[obj["name"]]
        matrix = np.array(imported_obj["matrix_world"])
        np.testing.assert_allclose(matrix[:3, 3], frames.blender_from_world(obj["center"]), atol=BLENDER_M)
        # the importer turns the local axes too: Blender's (x, y, z) dimensions are the box's (width, depth, height)
        np.testing.assert_allclose(imported_obj["dimensions"], np.abs(frames.blender_from_world(obj["size"])),
                                   atol=BLENDER_M)
        corners = frames.world_from_blender(np.array(imported_obj["bound_box_world"]))
        expected = np.array(obj["corners"])
        distances = np.linalg.norm(corners[:, None, :] - expected[None, :, :], axis=-1)
        assert distances.min(axis=1).max() < BLENDER_M and distances.min(axis=0).max() < BLENDER_M, obj["name"]
        up = matrix[:3, 2] / np.linalg.norm(matrix[:3, 2])
        np.testing.assert_allclose(up, [0.0, 0.0, 1.0], atol=1e-6)  # upright: the box's up is Blender's +Z
    floor = frames.world_from_blender(np.array(objects["floor"]["bound_box_world"]))
    assert np.abs(floor[:, 1]).max() < BLENDER_M  # the floor is at height 0 (Blender z = 0)


def test_photo_camera_field_of_view_and_pose(imported):
    scene, report = imported
    camera = scene["camera"]
    imported_camera = next(o for o in report["objects"] if o["name"] == "photo_camera")
    settings = imported_camera["camera"]
    assert settings["sensor_fit"] == "VERTICAL"
    assert settings["angle_y"] == pytest.approx(math.radians(camera["vertical_fov_deg"]), abs=1e-6)
    position = frames.world_from_blender(np.array(imported_camera["matrix_world"])[:3, 3])
    np.testing.assert_allclose(position, np.array(camera["world_from_camera"])[:3, 3], atol=BLENDER_M)
    assert position[1] == pytest.approx(camera["height_m"], abs=BLENDER_M)
    extras = imported_camera["custom_properties"]
    assert (extras["width"], extras["height"]) == (camera["width"], camera["height"])


def test_blenders_camera_view_matches_the_photo(imported):
    """Every box corner seen through Blender's photo_camera (render resolution = the photo's size, as the README
    tells users to set) lands on the pixel where scene.json projects it."""
    scene, report = imported
    camera = scene["camera"]
    width, height = camera["width"], camera["height"]
    k_matrix = frames.intrinsics_matrix(camera["fx"], camera["fy"], camera["cx"], camera["cy"])
    uv, depth = frames.project_world_points(k_matrix, np.array(camera["world_from_camera"]), _corners_world(scene))
    view = np.array(report["camera_view"])
    assert view.shape == (len(uv), 3)
    blender_uv = np.stack([view[:, 0] * width, (1.0 - view[:, 1]) * height], axis=-1)  # bottom-left origin
    in_front = depth > 0.1
    assert in_front.sum() >= 0.9 * len(uv)
    np.testing.assert_allclose(view[in_front, 2], depth[in_front], atol=BLENDER_M)
    error = np.linalg.norm(blender_uv[in_front] - uv[in_front], axis=-1)
    assert error.max() < BLENDER_PX, f"max {error.max():.2f} px"
