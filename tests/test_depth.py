"""Depth in, point cloud out: depth files, tiny real depth models, alignment to the floor, the floor plane, PLY,
and ``room3d build --depth``. Truth comes from the samples (``depth.png`` is ray-cast z-depth in millimetres,
``truth.json`` the true camera and boxes)."""

import importlib.util
import io
import json
import math
import os
import shutil
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from PIL import Image

from pipeline import depth as depth_module
from pipeline import frames
from pipeline.camera import estimate_camera
from pipeline.cli import main
from pipeline.depth import DepthUnusable, align_to_floor, floor_from_depth, load_depth
from pipeline.errors import UserError
from pipeline.photo import load_photo
from pipeline.records import CameraEstimate, DepthMap, Intrinsics, PointCloud
from tests.conftest import ROOT, require, sample_dirs
from tests.tolerances import (DEPTH_ALIGN_MEDIAN_REL, DEPTH_ALIGN_SCALE_REL, FLOOR_FALLBACK_M, FLOOR_HEIGHT_M,
                              FLOOR_NORMAL_RAD, OFFLINE_FAIL_S, POINT_ON_SURFACE_FRACTION, POINT_ON_SURFACE_M)

BEDROOM = ROOT / "samples" / "bedroom_01"
SAMPLES = sample_dirs()
SAMPLE_IDS = [p.name for p in SAMPLES]


def truth_camera(sample) -> CameraEstimate:
    t = json.loads((sample / "truth.json").read_text())["camera"]
    world_from_camera = np.array(t["world_from_camera"])
    attitude = frames.attitude_from_world_from_camera(world_from_camera)
    return CameraEstimate(Intrinsics(t["fx"], t["fy"], t["cx"], t["cy"], t["width"], t["height"]), "user",
                          world_from_camera, attitude["pitch_rad"], attitude["roll_rad"], t["height_m"], "user", "user")


def true_depth(sample):
    photo = load_photo(sample / "photo.png")
    return photo, load_depth(f"file:{sample / 'depth.png'}", photo)


@pytest.fixture(scope="module")
def bedroom_photo():
    return load_photo(BEDROOM / "photo.png")


def _one_line(error) -> str:
    text = str(error.value)
    assert text and "\n" not in text
    return text


def _png_claiming(width: int, height: int) -> bytes:
    """A 16-bit grey PNG whose header claims ``width`` x ``height`` pixels, with almost no data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def _npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------- files


def test_png_is_millimetres_and_zero_is_invalid(tmp_path, bedroom_photo):
    raw = np.array(Image.open(BEDROOM / "depth.png"))
    depth = load_depth(f"file:{BEDROOM / 'depth.png'}", bedroom_photo)
    assert depth.kind == "metric_depth" and depth.values.dtype == np.float32
    np.testing.assert_allclose(depth.values, raw / 1000.0, rtol=1e-6)
    holed = raw.copy()
    holed[:10, :20] = 0
    Image.fromarray(holed).save(tmp_path / "holed.png")
    depth = load_depth(str(tmp_path / "holed.png"), bedroom_photo)  # a bare path is a file
    assert not depth.valid[:10, :20].any() and depth.valid[10:, 20:].all()


def test_npy_metres_with_invalid_values(tmp_path, bedroom_photo):
    values = np.full((480, 640), 2.5, dtype=np.float64)
    values[0, :4] = [np.nan, np.inf, 0.0, -1.0]
    np.save(tmp_path / "d.npy", values)
    depth = load_depth(f"file:{tmp_path / 'd.npy'}", bedroom_photo)
    assert depth.source == f"file:{tmp_path / 'd.npy'}"
    assert not depth.valid[0, :4].any() and depth.valid.sum() == 480 * 640 - 4
    assert np.all(depth.values[depth.valid] == 2.5) and np.isfinite(depth.values).all()


def test_npy_kind_is_the_users(tmp_path, bedroom_photo):
    np.save(tmp_path / "d.npy", np.linspace(-1, 1, 480 * 640).reshape(480, 640).astype(np.float32))
    relative = load_depth(f"file:{tmp_path / 'd.npy'}", bedroom_photo, kind="relative_depth")
    disparity = load_depth(f"file:{tmp_path / 'd.npy'}", bedroom_photo, kind="relative_disparity")
    assert relative.kind == "relative_depth" and relative.valid.all()  # a relative depth may be negative
    assert disparity.kind == "relative_disparity" and disparity.valid.mean() == pytest.approx(0.5, abs=0.01)


def test_smaller_map_is_resized_without_bleeding_holes(tmp_path, bedroom_photo):
    rows, columns = np.indices((240, 320))
    values = (1.0 + 0.01 * columns + 0.02 * rows).astype(np.float32)  # a plane: bilinear keeps it a plane
    values[100:110, 100:110] = np.nan
    np.save(tmp_path / "half.npy", values)
    notes = []
    depth = load_depth(f"file:{tmp_path / 'half.npy'}", bedroom_photo, notes=notes)
    assert depth.values.shape == (480, 640) and notes == []
    assert not depth.valid[200:220, 200:220].any()  # the hole, twice as large
    r, c = np.indices((480, 640))
    expected = 1.0 + 0.01 * ((c + 0.5) / 2 - 0.5) + 0.02 * ((r + 0.5) / 2 - 0.5)
    inner = depth.valid.copy()
    inner[[0, -1], :] = inner[:, [0, -1]] = False
    np.testing.assert_allclose(depth.values[inner], expected[inner], rtol=1e-5)


def test_other_aspect_ratio_warns_and_very_different_refuses(tmp_path, bedroom_photo):
    np.save(tmp_path / "wide.npy", np.full((240, 340), 2.0))
    notes = []
    depth = load_depth(f"file:{tmp_path / 'wide.npy'}", bedroom_photo, notes=notes)
    assert depth.values.shape == (480, 640) and len(notes) == 1 and "aspect ratio" in notes[0]
    np.save(tmp_path / "portrait.npy", np.full((640, 480), 2.0))
    with pytest.raises(UserError) as error:
        load_depth(f"file:{tmp_path / 'portrait.npy'}", bedroom_photo)
    assert "480x640" in _one_line(error)


def test_bad_files_are_one_line_errors(tmp_path, bedroom_photo):
    (tmp_path / "d.txt").write_text("1 2 3")
    (tmp_path / "broken.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(tmp_path / "cube.npy", np.zeros((4, 5, 6)))
    np.save(tmp_path / "empty.npy", np.full((480, 640), np.nan))
    Image.fromarray(np.zeros((480, 640), np.uint8)).save(tmp_path / "eight.png")
    (tmp_path / "fake.png").write_bytes(b"not a png")
    (tmp_path / "bomb.png").write_bytes(_png_claiming(30000, 30000))  # beyond Pillow's decompression-bomb bound
    (tmp_path / "large.png").write_bytes(_png_claiming(10000, 10000))  # beyond ours only
    (tmp_path / "cut.png").write_bytes((BEDROOM / "depth.png").read_bytes()[:5000])
    whole = _npy_bytes(np.ones((480, 640)))
    (tmp_path / "cut.npy").write_bytes(whole[:len(whole) // 2])
    for spec, words in [(f"file:{tmp_path / 'missing.npy'}", "not found"), (str(tmp_path / "d.txt"), ".npy"),
                        (str(tmp_path / "broken.npy"), "cannot read"), (str(tmp_path / "objects.npy"), "cannot read"),
                        (str(tmp_path / "cube.npy"), "(H, W)"), (str(tmp_path / "empty.npy"), "no valid pixel"),
                        (str(tmp_path / "eight.png"), "16-bit"), (str(tmp_path / "fake.png"), "PNG"),
                        (str(tmp_path / "bomb.png"), "too large"), (str(tmp_path / "large.png"), "too large"),
                        (str(tmp_path / "cut.png"), "cannot read"), (str(tmp_path / "cut.npy"), "cannot read"),
                        ("file:", "names nothing"), ("", "empty")]:
        with pytest.raises(UserError) as error:
            load_depth(spec, bedroom_photo)
        assert words in _one_line(error), spec
    with pytest.raises(UserError):
        load_depth(str(BEDROOM / "depth.png"), bedroom_photo, kind="metres")


def test_bad_files_fail_in_one_line_from_the_command_line(tmp_path, capsys):
    (tmp_path / "bomb.png").write_bytes(_png_claiming(30000, 30000))
    code, out = _build(tmp_path, "--depth", f"file:{tmp_path / 'bomb.png'}")
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("room3d: error:") and "too large" in lines[0]
    assert not out.exists()


def test_millimetres_in_npy_are_flagged(tmp_path, bedroom_photo):
    np.save(tmp_path / "mm.npy", np.full((480, 640), 3000.0))  # beyond MAX_DEPTH_M: nothing valid
    with pytest.raises(UserError):
        load_depth(str(tmp_path / "mm.npy"), bedroom_photo)
    np.save(tmp_path / "far.npy", np.full((480, 640), 70.0))
    notes = []
    load_depth(str(tmp_path / "far.npy"), bedroom_photo, notes=notes)
    assert any("millimetres" in note for note in notes)


# ---------------------------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
@pytest.mark.parametrize("kind", ["relative_disparity", "relative_depth"])
def test_alignment_recovers_scale_and_shift(sample, kind):
    """A relative map made from the true depth with a known scale and shift comes back metric: the floor pixels
    fix the scale through the true camera's height (and a bed or a table, also horizontal, is not the floor)."""
    _, truth = true_depth(sample)
    scale, shift = 3.7, 0.2
    z = np.where(truth.valid, truth.values, 1.0).astype(np.float64)
    values = scale / z + shift if kind == "relative_disparity" else (z - shift) / scale
    relative = DepthMap(values.astype(np.float32), truth.valid, kind, "test")
    aligned, alignment = align_to_floor(relative, truth_camera(sample))
    assert aligned.kind == "metric_depth"
    assert alignment.scale == pytest.approx(1 / scale if kind == "relative_disparity" else scale,
                                            rel=DEPTH_ALIGN_SCALE_REL)
    # scale and shift together: the fitted mapping gives back the depths of most of the room
    z_room = np.linspace(*np.percentile(truth.values[truth.valid], [5, 95]), 50)
    v_room = scale / z_room + shift if kind == "relative_disparity" else (z_room - shift) / scale
    linear = alignment.scale * v_room + alignment.shift
    z_back = 1.0 / linear if kind == "relative_disparity" else linear
    np.testing.assert_allclose(z_back, z_room, rtol=DEPTH_ALIGN_SCALE_REL)
    both = aligned.valid & truth.valid
    assert both.mean() > 0.95 * truth.valid.mean()
    assert np.median(np.abs(aligned.values[both] / truth.values[both] - 1)) < DEPTH_ALIGN_MEDIAN_REL


def test_alignment_refuses_maps_without_a_floor(bedroom_photo):
    camera = truth_camera(BEDROOM)
    rng = np.random.default_rng(1)
    for values in (rng.uniform(0.1, 1.0, (480, 640)), np.full((480, 640), 0.5)):
        with pytest.raises(DepthUnusable):
            align_to_floor(DepthMap(values.astype(np.float32), np.ones((480, 640), bool), "relative_disparity",
                                    "noise"), camera)
    level_up = CameraEstimate(camera.intrinsics, "user", frames.world_from_camera_from_attitude(0.7, 0.0, 1.4),
                              0.7, 0.0, 1.4, "user", "user")  # looking at the ceiling: no floor pixel
    _, truth = true_depth(BEDROOM)
    with pytest.raises(DepthUnusable):
        align_to_floor(DepthMap(truth.values, truth.valid, "relative_depth", "t"), level_up)


@pytest.mark.parametrize("sample", SAMPLES, ids=SAMPLE_IDS)
def test_floor_from_true_depth_gives_true_camera_height(sample):
    _, truth = true_depth(sample)
    camera = truth_camera(sample)
    # the camera's own height is not used: give it a wrong one
    wrong = CameraEstimate(camera.intrinsics, "user", frames.world_from_camera_from_attitude(
        camera.pitch_rad, camera.roll_rad, 2.5), camera.pitch_rad, camera.roll_rad, 2.5, "user", "user")
    floor = floor_from_depth(truth, wrong)
    assert floor.camera_height_m == pytest.approx(camera.height_m, abs=FLOOR_HEIGHT_M)
    assert math.acos(min(1.0, floor.normal_world[1])) < FLOOR_NORMAL_RAD
    assert 0.3 < floor.inlier_fraction <= 1.0


def test_floor_from_depth_refuses_a_wall(bedroom_photo):
    wall = DepthMap(np.full((480, 640), 3.0, np.float32), np.ones((480, 640), bool), "metric_depth", "wall")
    level = CameraEstimate(Intrinsics.from_focal(500.0, 640, 480), "user",
                           frames.world_from_camera_from_attitude(0.0, 0.0, 1.4), 0.0, 0.0, 1.4, "user", "user")
    with pytest.raises(DepthUnusable):
        floor_from_depth(wall, level)


def test_metric_map_without_a_floor_is_dropped_from_a_model_and_kept_from_a_file_without_scale():
    """A metric map that shows no floor: a model's is dropped; a file's is kept for the box fits, but the solver
    takes no scale from it (``depth_scale`` is None)."""
    from pipeline.depth import depth_for_scene, depth_scale

    camera = truth_camera(BEDROOM)
    wall = np.full((480, 640), 3.0, np.float32)  # a wall facing the camera: no floor plane
    for source, used in (("hf:some/model", False), ("file:wall.npy", True)):
        notes = []
        kept, record = depth_for_scene(DepthMap(wall, np.ones(wall.shape, bool), "metric_depth", source), camera,
                                       notes)
        assert record["used"] is used and record["floor"] is None and (kept is not None) is used
        assert depth_scale(record) is None
        assert len(notes) == 1 and "no floor plane" in notes[0]
        assert ("not used" in notes[0]) is not used and ("not for the scale" in notes[0]) is used
    _, truth = true_depth(BEDROOM)
    _, record = depth_for_scene(truth, camera)  # with a floor: used, and the floor gives the scale
    assert record["used"] and depth_scale(record).camera_height_m == pytest.approx(camera.height_m, abs=FLOOR_HEIGHT_M)


@pytest.mark.parametrize("sample", SAMPLES[:4], ids=SAMPLE_IDS[:4])
def test_floor_without_open3d_matches_open3d(sample, monkeypatch):
    """The core install's floor search (RANSAC in numpy) finds Open3D's floor."""
    _, truth = true_depth(sample)
    camera = truth_camera(sample)
    with_open3d = floor_from_depth(truth, camera)
    monkeypatch.setattr(depth_module, "USE_OPEN3D", False)
    monkeypatch.setitem(sys.modules, "open3d", None)  # and an import of open3d would fail
    without = floor_from_depth(truth, camera)
    assert without.camera_height_m == pytest.approx(with_open3d.camera_height_m, abs=FLOOR_FALLBACK_M)
    assert without.camera_height_m == pytest.approx(camera.height_m, abs=FLOOR_HEIGHT_M)
    assert math.acos(min(1.0, without.normal_world[1])) < FLOOR_NORMAL_RAD
    assert without.inlier_fraction == pytest.approx(with_open3d.inlier_fraction, abs=0.05)


def test_segment_plane_finds_the_plane_among_outliers():
    rng = np.random.default_rng(5)
    plane = np.column_stack([rng.uniform(-2, 2, 3000), np.full(3000, -1.5), rng.uniform(1, 6, 3000)])
    plane[:, 1] += rng.normal(0, 0.003, 3000)
    clutter = rng.uniform([-2, -1.5, 1], [2, 1, 6], (2000, 3))
    inliers = depth_module.segment_plane(np.vstack([plane, clutter]), 0.02)
    assert np.isin(np.arange(3000), inliers).mean() > 0.99
    assert np.abs(np.vstack([plane, clutter])[inliers][:, 1] + 1.5).max() < 0.04  # the plane of 3 noisy points
    assert len(depth_module.segment_plane(np.zeros((10, 3)), 0.02)) == 0  # no plane through repeated points


def test_the_largest_plane_is_the_same_every_time():
    """Two walls of nearly equal size and clutter: the plane found (and so the camera and every box after it) is
    the same on every call, whichever way Open3D's threads fall."""
    rng = np.random.default_rng(7)
    left = np.column_stack([np.full(15000, -1.8), rng.uniform(-1.5, 1.0, 15000), rng.uniform(1, 6, 15000)])
    back = np.column_stack([rng.uniform(-1.8, 2.0, 14500), rng.uniform(-1.5, 1.0, 14500), np.full(14500, 6.0)])
    clutter = rng.uniform([-1.8, -1.5, 1], [2, 1, 6], (8000, 3))
    points = np.vstack([left, back, clutter]) + rng.normal(0, 0.01, (37500, 3))
    found = set()
    for _ in range(12):
        inliers, normal, offset = depth_module.largest_plane(points, 0.03, 300)
        found.add((len(inliers), *np.round(normal, 9), round(offset, 9)))
    assert len(found) == 1


def test_point_cloud_without_open3d_removes_the_same_outliers(monkeypatch, bedroom_photo):
    from pipeline.export.pointcloud import point_cloud_from_depth

    _, depth = true_depth(BEDROOM)
    camera = truth_camera(BEDROOM)
    with_open3d = point_cloud_from_depth(depth, camera, bedroom_photo.rgb, max_points=20_000)
    monkeypatch.setattr(depth_module, "USE_OPEN3D", False)
    monkeypatch.setitem(sys.modules, "open3d", None)
    without = point_cloud_from_depth(depth, camera, bedroom_photo.rgb, max_points=20_000)
    assert without.count < 20_000  # some flying pixels went
    np.testing.assert_array_equal(without.positions_m, with_open3d.positions_m)
    np.testing.assert_array_equal(without.colors_rgb, with_open3d.colors_rgb)


def test_point_cloud_lands_on_the_true_scene():
    from pipeline.export.pointcloud import point_cloud_from_depth

    for sample in (BEDROOM, ROOT / "samples" / "living_01", ROOT / "samples" / "office_02"):
        truth = json.loads((sample / "truth.json").read_text())
        photo, depth = true_depth(sample)
        cloud = point_cloud_from_depth(depth, truth_camera(sample), photo.rgb, max_points=20_000)
        assert 19_000 <= cloud.count <= 20_000 and cloud.positions_m.dtype == np.float32
        points = cloud.positions_m.astype(float)
        distances = [np.abs(points[:, 1]), np.abs(points[:, 1] - truth["room"]["ceiling_height_m"])]
        for wall in truth["room"]["walls"]:
            corners = np.array(wall["corners"])
            normal = np.cross(corners[1] - corners[0], corners[3] - corners[0])
            distances.append(np.abs((points - corners[0]) @ normal / np.linalg.norm(normal)))
        on_box = []
        for obj in truth["objects"]:
            local = (points - obj["center"]) @ frames.rot_y(obj["yaw"])
            outside = np.linalg.norm(np.maximum(np.abs(local) - 0.5 * np.array(obj["size"]), 0.0), axis=1)
            distances.append(outside)
            on_box.append(outside < POINT_ON_SURFACE_M)
        assert np.mean(np.min(distances, axis=0) < POINT_ON_SURFACE_M) >= POINT_ON_SURFACE_FRACTION, sample.name
        assert np.mean(on_box[0]) > 0.05, sample.name  # the first object (bed, sofa, desk) is well covered
        # colours are the photo's at those pixels: the cloud is not a uniform colour
        assert cloud.colors_rgb.dtype == np.uint8 and cloud.colors_rgb.std() > 10


def test_point_cloud_bound_and_reproducible(bedroom_photo):
    from pipeline.export.pointcloud import point_cloud_from_depth

    _, depth = true_depth(BEDROOM)
    camera = truth_camera(BEDROOM)
    one = point_cloud_from_depth(depth, camera, bedroom_photo.rgb, max_points=3000)
    two = point_cloud_from_depth(depth, camera, bedroom_photo.rgb, max_points=3000)
    assert one.count <= 3000 and np.array_equal(one.positions_m, two.positions_m)
    with pytest.raises(ValueError):
        point_cloud_from_depth(DepthMap(depth.values, depth.valid, "relative_depth", "x"), camera, bedroom_photo.rgb)


def test_ply_round_trip_through_trimesh_and_open3d(tmp_path):
    import open3d as o3d
    import trimesh

    from pipeline.export.pointcloud import write_ply

    rng = np.random.default_rng(3)
    cloud = PointCloud(rng.normal(size=(500, 3)).astype(np.float32),
                       rng.integers(0, 256, (500, 3)).astype(np.uint8), "depth:file:dé/pth.png")
    path = write_ply(cloud, tmp_path / "points.ply")
    header = path.read_bytes().split(b"end_header\n")[0].decode("ascii")
    assert "format binary_little_endian 1.0" in header and "element vertex 500" in header
    assert "property float x" in header and "property uchar red" in header
    loaded = trimesh.load(path)
    np.testing.assert_array_equal(np.asarray(loaded.vertices, np.float32), cloud.positions_m)
    np.testing.assert_array_equal(np.asarray(loaded.colors)[:, :3], cloud.colors_rgb)
    o3d_cloud = o3d.io.read_point_cloud(str(path))
    np.testing.assert_allclose(np.asarray(o3d_cloud.points), cloud.positions_m, atol=1e-6)
    np.testing.assert_allclose(np.asarray(o3d_cloud.colors) * 255.0, cloud.colors_rgb, atol=1e-3)


def test_depth_model_focal_is_a_camera_candidate(tmp_path):
    flat = tmp_path / "flat.png"
    Image.fromarray(np.full((480, 640, 3), 128, np.uint8)).save(flat)  # no EXIF, no lines
    photo = load_photo(flat)
    camera = estimate_camera(photo, depth_focal_px=600.0)
    assert camera.intrinsics_source == "depth_model" and camera.intrinsics.fx_px == 600.0
    assert any("depth model" in note for note in camera.notes)
    assert estimate_camera(photo, focal_px=450.0, depth_focal_px=600.0).intrinsics_source == "user"
    ignored = estimate_camera(photo, depth_focal_px=5.0)
    assert ignored.intrinsics_source == "default" and any("implausible" in note for note in ignored.notes)


def test_depth_pro_focal_follows_the_camera():
    depth = DepthMap(np.full((4, 4), 2.0, np.float32), np.ones((4, 4), bool), "metric_depth", "hf:x", focal_px=500.0)
    camera = CameraEstimate(Intrinsics.from_focal(550.0, 4, 4), "user", np.eye(4), 0.0, 0.0, 1.4, "user", "user")
    notes = []
    assert np.allclose(depth_module.rescale_to_camera_focal(depth, camera, notes).values, 2.2) and notes
    assert depth_module._focal_from_fov(0.0, 640) is None and depth_module._focal_from_fov(float("nan"), 640) is None
    assert depth_module._focal_from_fov(60.0, 640) == pytest.approx(320.0 / math.tan(math.radians(30.0)))


# ---------------------------------------------------------------------------------------------- models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    require(importlib.util.find_spec("torch") is not None and importlib.util.find_spec("transformers") is not None,
            "torch and transformers (pip install 'room3d[ml]')")
    from tests.tiny_depth import build_all

    return build_all(tmp_path_factory.mktemp("depth-models"))


def test_depth_anything_input_matches_its_image_processor(bedroom_photo):
    """The hand-made preprocessing (no torchvision) against transformers' own PIL DPT processor, configured as the
    released Depth Anything V2 checkpoints: same size, same normalisation (resampling differs by a little)."""
    require(importlib.util.find_spec("transformers") is not None, "transformers")
    from transformers.models.dpt.image_processing_pil_dpt import DPTImageProcessorPil

    from tests.tiny_depth import DPT_PREPROCESSOR

    config = {**DPT_PREPROCESSOR, "size": {"height": 518, "width": 518}}
    processor = DPTImageProcessorPil(**{k: v for k, v in config.items() if k != "image_processor_type"})
    model = depth_module._DepthModel("x", "depth_anything", "relative_disparity", None, "cpu", None, (518, 518),
                                     True, 14, tuple(config["image_mean"]), tuple(config["image_std"]))
    for rgb in (bedroom_photo.rgb, bedroom_photo.rgb[:, :300], bedroom_photo.rgb.transpose(1, 0, 2)):
        expected = processor(images=Image.fromarray(np.ascontiguousarray(rgb)), return_tensors="np").pixel_values
        ours = model.pixel_values(rgb)
        assert ours.shape == expected.shape
        assert np.median(np.abs(ours - expected)) < 0.02 and np.abs(ours.mean() - expected.mean()) < 0.01


def test_models_give_their_kind_at_the_photo_size(tiny_models, bedroom_photo):
    for name, kind in [("relative", "relative_disparity"), ("metric", "metric_depth"), ("depth_pro", "metric_depth")]:
        notes = []
        depth = load_depth(f"hf:{tiny_models[name]}", bedroom_photo, notes=notes)
        assert depth.kind == kind and depth.values.shape == (480, 640) and depth.source.startswith("hf:")
        assert np.isfinite(depth.values).all()
        if name == "depth_pro":  # random weights: a field of view that is refused, with a note
            assert depth.focal_px is None and any("field of view" in note for note in notes)
    before = depth_module._load_model.cache_info().hits
    load_depth(f"hf:{tiny_models['depth_pro']}", bedroom_photo)
    assert depth_module._load_model.cache_info().hits == before + 1  # loaded once per process
    with pytest.raises(UserError):
        load_depth(f"hf:{tiny_models['relative']}", bedroom_photo, kind="metric_depth")


def test_not_a_depth_model_is_one_line(tmp_path, bedroom_photo):
    require(importlib.util.find_spec("transformers") is not None, "transformers")
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(UserError) as error:
        load_depth(f"hf:{tmp_path}", bedroom_photo)
    assert "not" in _one_line(error) or "bert" in _one_line(error)
    with pytest.raises(UserError) as error:
        load_depth(f"hf:{tmp_path / 'nowhere' / 'model'}", bedroom_photo)
    assert "not found" in _one_line(error)


def _broken_copy(tiny_models, folder, family, edit):
    shutil.copytree(tiny_models[family], folder)
    edit(folder)
    return folder


def _edit_config(folder, **changes):
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))


def test_broken_model_folders_fail_in_one_line(tiny_models, tmp_path, capsys, monkeypatch):
    """Folders that look like checkpoints but cannot be run: one line that says what to do, exit code 2, no
    output folder, no traceback. Out of memory comes from configs whose tensors no machine can allocate (hundreds
    of TiB, beyond any address space: the allocation fails at once)."""
    from safetensors.torch import load_file, save_file

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    def error(folder) -> str:
        code, out = _build(tmp_path, "--depth", f"hf:{folder}")
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("room3d: error:"), lines
        assert not out.exists()
        return lines[0]

    unknown = _broken_copy(tiny_models, tmp_path / "unknown", "depth_pro",
                           lambda f: _edit_config(f, model_type="foo_bar_baz"))
    assert "'foo_bar_baz' model; room3d runs Depth Anything V2" in error(unknown)

    def corrupt(folder):
        weights = folder / "model.safetensors"
        weights.write_bytes(weights.read_bytes()[:2000])
    line = error(_broken_copy(tiny_models, tmp_path / "corrupt", "depth_pro", corrupt))
    assert "weights are broken or incomplete" in line and "copy the checkpoint" in line

    def huge_head(folder):  # the head's 3x3 convolutions with 2**40 channels, absent from the checkpoint
        _edit_config(folder, head_hidden_size=2 ** 40)
        weights = load_file(folder / "model.safetensors")
        save_file({k: v for k, v in weights.items() if not k.startswith("head.")}, folder / "model.safetensors",
                  metadata={"format": "pt"})
    line = error(_broken_copy(tiny_models, tmp_path / "huge", "relative", huge_head))
    assert line.startswith("room3d: error: out of memory loading depth model") and "pick a smaller" in line

    def huge_scale(folder):  # loads, then asks Depth Pro to upsample its input 65536 times (768 TiB)
        _edit_config(folder, scaled_images_ratios=[0.25, 0.5, 65536.0])
    line = error(_broken_copy(tiny_models, tmp_path / "upsampled", "depth_pro", huge_scale))
    assert "out of memory while depth model" in line and "pick a smaller depth model" in line


# ---------------------------------------------------------------------------------------------- command line


def _build(tmp_path, *flags):
    out = tmp_path / "out"
    code = main(["build", str(BEDROOM / "photo.png"), "-o", str(out), "--grounding",
                 str(BEDROOM / "grounding.qwen3.json"), *flags])
    return code, out


def test_build_with_depth_file_writes_points(tmp_path, capsys):
    import trimesh

    code, out = _build(tmp_path, "--depth", f"file:{BEDROOM / 'depth.png'}")
    assert code == 0
    scene = json.loads((out / "scene.json").read_text())
    assert scene["outputs"]["points"] == "points.ply"
    record = scene["inputs"]["depth"]
    assert record["kind"] == "metric_depth" and record["used"] and record["source"].startswith("file:")
    true_height = json.loads((BEDROOM / "truth.json").read_text())["camera"]["height_m"]
    assert record["floor"]["camera_height_m"] == pytest.approx(true_height, abs=FLOOR_HEIGHT_M)
    assert {"depth", "depth_align", "point_cloud"} <= set(scene["timings_s"])
    cloud = trimesh.load(out / "points.ply")
    assert 30_000 < len(cloud.vertices) <= 60_000 and np.isfinite(cloud.vertices).all()
    # the cloud follows the scene's camera: its floor is the scene's floor (y = 0)
    assert np.mean(np.abs(cloud.vertices[:, 1]) < FLOOR_HEIGHT_M) > 0.2
    assert "room3d-points-xyz" in (out / "index.html").read_text()


def test_build_with_relative_depth_file(tmp_path):
    import trimesh

    _, truth = true_depth(BEDROOM)
    np.save(tmp_path / "disparity.npy", np.where(truth.valid, 2.0 / np.maximum(truth.values, 0.1) + 0.3, 0.0))
    code, out = _build(tmp_path, "--depth", str(tmp_path / "disparity.npy"), "--depth-kind", "relative_disparity")
    assert code == 0
    record = json.loads((out / "scene.json").read_text())["inputs"]["depth"]
    assert record["kind"] == "relative_disparity" and record["used"] and record["alignment"]["scale"] > 0
    points = np.asarray(trimesh.load(out / "points.ply").vertices)
    assert np.mean(np.abs(points[:, 1]) < FLOOR_HEIGHT_M) > 0.2


@pytest.fixture(scope="module")
def bedroom_without_depth(tmp_path_factory):
    """The objects of the bedroom built from its grounding alone."""
    code, out = _build(tmp_path_factory.mktemp("no-depth"))
    assert code == 0
    return json.loads((out / "scene.json").read_text())["objects"]


def _placements(objects) -> list:
    return [(o["label"], o["center"], o["size"], o["yaw"]) for o in objects]


@pytest.mark.parametrize("name", ["relative", "metric", "depth_pro"])
def test_build_with_a_random_model_ends_cleanly(tmp_path, tiny_models, capsys, monkeypatch, name,
                                                bedroom_without_depth):
    """A random model's map is garbage (no floor it agrees with): it is dropped with a warning, and the objects
    are exactly those of a build without depth (before, a metric map without a floor still moved them by metres).
    ``--also ply`` then says that no points.ply was written."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    code, out = _build(tmp_path, "--depth", f"hf:{tiny_models[name]}", "--also", "ply")
    assert code == 0
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr
    warnings = [line for line in stderr.splitlines() if line.startswith("room3d: warning:")]
    assert any("depth not used" in line for line in warnings), stderr
    assert any("no points.ply written" in line for line in warnings), stderr
    scene = json.loads((out / "scene.json").read_text())
    record = scene["inputs"]["depth"]
    assert record["source"] == f"hf:{tiny_models[name]}" and record["used"] is False
    assert "points" not in scene["outputs"] and not (out / "points.ply").exists()
    assert (out / "scene.glb").is_file() and (out / "index.html").is_file()
    assert _placements(scene["objects"]) == _placements(bedroom_without_depth)


def test_missing_model_offline_fails_fast_in_one_line(tmp_path):
    require(importlib.util.find_spec("transformers") is not None, "transformers")
    env = {key: value for key, value in os.environ.items() if not key.startswith("HF_")}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # an empty cache
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pipeline", "build", str(BEDROOM / "photo.png"), "-o",
                             str(tmp_path / "out"), "--depth", "hf:room3d-tests/no-such-depth-model"],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    elapsed = time.monotonic() - start
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("room3d: error:") and "no-such-depth-model" in lines[0]
    assert elapsed < OFFLINE_FAIL_S
    assert not (tmp_path / "out").exists()


def test_missing_extras_name_what_to_install(monkeypatch, bedroom_photo):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ModuleNotFoundError
    with pytest.raises(UserError, match=r"^torch and transformers are not installed: pip install 'room3d\[ml\]'$"):
        load_depth("hf:room3d-tests/any-model", bedroom_photo)
    from pipeline.errors import missing_extra

    assert str(missing_extra("open3d", "3d")) == "open3d is not installed: pip install 'room3d[3d]'"


def test_depth_file_on_the_core_install(tmp_path, monkeypatch):
    """No open3d (the core install): a depth file still gives the floor, the scale and points.ply."""
    import trimesh

    monkeypatch.setitem(sys.modules, "open3d", None)
    code, out = _build(tmp_path, "--depth", f"file:{BEDROOM / 'depth.png'}", "--also", "ply")
    assert code == 0
    record = json.loads((out / "scene.json").read_text())["inputs"]["depth"]
    true_height = json.loads((BEDROOM / "truth.json").read_text())["camera"]["height_m"]
    assert record["used"] and record["floor"]["camera_height_m"] == pytest.approx(true_height, abs=FLOOR_HEIGHT_M)
    assert np.mean(np.abs(trimesh.load(out / "points.ply").vertices[:, 1]) < FLOOR_HEIGHT_M) > 0.2


def test_a_dropped_model_map_takes_its_focal_with_it(tmp_path, monkeypatch):
    """A depth model whose map is dropped (it shows no floor) may still have given a plausible field of view:
    that focal is dropped too, and the camera comes from the photo as without depth."""
    from pipeline.build import BuildOptions, build
    from pipeline.records import DepthMap

    photo_path = tmp_path / "plain.png"  # no lines: without depth the focal is the stated default
    Image.new("RGB", (640, 480), (128, 120, 110)).save(photo_path)
    rng = np.random.default_rng(0)

    def fake_model(spec, photo, kind=None, notes=None):
        values = rng.uniform(0.5, 8.0, (photo.height_px, photo.width_px)).astype(np.float32)  # no floor in it
        return DepthMap(values, np.ones_like(values, dtype=bool), "metric_depth", "hf:fake/model",
                        focal_px=0.6 * photo.width_px)

    monkeypatch.setattr(depth_module, "load_depth", fake_model)
    grounding = BEDROOM / "grounding.qwen3.json"
    with_model = build(photo_path, tmp_path / "a", BuildOptions(grounding=grounding, depth="hf:fake/model"))
    without = build(photo_path, tmp_path / "b", BuildOptions(grounding=grounding))
    camera = with_model.manifest["camera"]
    assert camera["intrinsics_source"] == without.manifest["camera"]["intrinsics_source"] == "default"
    assert camera["fx"] == pytest.approx(without.manifest["camera"]["fx"])
    assert any("field of view and planes were not used" in w for w in with_model.warnings)
    assert with_model.manifest["inputs"]["depth"]["used"] is False
