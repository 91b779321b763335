"""The written files: the GLB's structure and the Khronos validator, and the page in headless Chromium."""

import dataclasses
import json
import math

import numpy as np
import pytest
from PIL import Image

from pipeline import frames
from pipeline.build import BuildOptions, build
from pipeline.export.gltf import unique_names
from pipeline.export.page import script_safe_json
from pipeline.solve import solve
from tests.synthetic import bedroom
from tests.test_solve import camera_for

XSS = "</script><script>alert(1)</script>"
LABELS = ["bed", "nightstand", XSS, "wardrobe", "床"]


def build_bedroom(folder, labels, also=()):
    """Build the synthetic bedroom (a flat grey photo, the true camera) with these labels for its five objects;
    returns the output folder and its scene.json."""
    truth = bedroom()
    photo = folder / "room.png"
    Image.fromarray(np.full((768, 1024, 3), 200, np.uint8)).save(photo)
    grounding = folder / "answer.json"
    grounding.write_text(json.dumps([{"bbox_2d": list(d.box_xyxy_px), "label": label}
                                     for d, label in zip(truth.detections(), labels)]))
    options = BuildOptions(grounding=grounding, focal_px=truth.intrinsics.fx_px, camera_height_m=truth.height_m,
                           pitch_deg=truth.pitch_deg, roll_deg=truth.roll_deg, also=tuple(also))
    out = build(photo, folder / "out", options).out_dir
    return out, json.loads((out / "scene.json").read_text())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_bedroom(tmp_path_factory.mktemp("export"), LABELS, also=("gltf",))


def test_unique_names():
    assert unique_names(["chair", "chair", "floor", "chair"]) == ["chair", "chair.001", "floor.001", "chair.002"]


def test_unique_names_fit_blenders_63_bytes():
    long = "sofa " * 20  # Blender would cut a longer name on import, and two cut names could collide
    names = unique_names([long, long, "床" * 30])
    assert names[0] == long[:63] and names[1] == long[:59] + ".001"
    assert names[2] == "床" * 21  # 3 bytes a character: cut at a character boundary
    assert all(len(name.encode("utf-8")) <= 63 for name in names)


def test_gltf_and_bin_are_the_glb_in_two_files(built):
    import pygltflib

    out, scene = built
    assert scene["outputs"]["gltf"] == "scene.gltf" and scene["outputs"]["gltf_buffer"] == "scene.bin"
    glb = pygltflib.GLTF2.load_binary(str(out / "scene.glb"))
    document = json.loads((out / "scene.gltf").read_text(encoding="utf-8"))
    assert document["buffers"] == [{"uri": "scene.bin", "byteLength": len(glb.binary_blob())}]
    assert (out / "scene.bin").read_bytes() == glb.binary_blob()
    assert [node["name"] for node in document["nodes"]] == [node.name for node in glb.nodes]


def test_unknown_also_output_is_a_user_error(tmp_path):
    from pipeline.errors import UserError

    with pytest.raises(UserError, match="unknown --also output obj"):
        build(tmp_path / "missing.png", tmp_path / "out", BuildOptions(also=("gltf", "obj")))
    assert not (tmp_path / "out").exists()


def test_glb_structure_matches_scene_json(built):
    import pygltflib

    out, scene = built
    gltf = pygltflib.GLTF2.load_binary(str(out / "scene.glb"))
    nodes = {node.name: node for node in gltf.nodes}
    for obj in scene["objects"]:
        node = nodes[obj["name"]]
        assert node.extras["kind"] == "object" and node.extras["label"] == obj["label"]
        assert node.extras["detection_index"] == obj["detection_index"]
        np.testing.assert_allclose(node.translation, obj["center"], atol=1e-6)
        np.testing.assert_allclose(node.scale, obj["size"], atol=1e-6)
        rotation = frames.matrix_from_quaternion_xyzw(node.rotation)
        np.testing.assert_allclose(rotation, frames.rot_y(obj["yaw"]), atol=1e-6)
    assert {"floor", "wall_back", "wall_left", "wall_right", "ceiling"} <= set(nodes)
    camera_node = nodes["photo_camera"]
    camera = gltf.cameras[camera_node.camera]
    assert camera.perspective.yfov == pytest.approx(2 * math.atan(384 / scene["camera"]["fy"]))
    pose = frames.rigid(frames.matrix_from_quaternion_xyzw(camera_node.rotation), camera_node.translation)
    np.testing.assert_allclose(frames.world_from_camera_cv(pose), scene["camera"]["world_from_camera"], atol=1e-6)
    # the floor is at y = 0 and the ceiling above every object
    floor_accessor = gltf.accessors[gltf.meshes[nodes["floor"].mesh].primitives[0].attributes.POSITION]
    assert floor_accessor.min[1] == 0.0 and floor_accessor.max[1] == 0.0


def test_glb_passes_khronos_validator(built, node_ready):
    from tests.viewer_tools import validate_glb

    report = validate_glb(built[0] / "scene.glb")
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"]
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"]


def test_gltf_passes_khronos_validator_with_its_bin(built, node_ready):
    from tests.viewer_tools import validate_gltf

    report = validate_gltf(built[0] / "scene.gltf")
    assert report["issues"]["numErrors"] == 0, report["issues"]["messages"]
    assert report["issues"]["numWarnings"] == 0, report["issues"]["messages"]
    assert [r["uri"] for r in report["info"]["resources"] if r["storage"] == "external"] == ["scene.bin"]


def test_script_safe_json_cannot_close_a_script():
    text = script_safe_json({"label": XSS + "&\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"label": XSS + "&\u2028"}


def test_page_is_one_offline_file(built):
    html = (built[0] / "index.html").read_text()
    import re

    # nothing the browser would fetch: no external scripts, stylesheets, images or frames (the Chromium test below
    # checks that no request is made at all)
    assert not re.search(r"<(script|link|img|iframe)[^>]*\b(src|href)\s*=(?!\s*[\"']?data:)", html, re.IGNORECASE)
    assert XSS not in html  # the label appears only escaped
    assert re.search(r'<img id="room3d-photo-img" [^>]*src="data:image/jpeg;base64,', html)  # for the photo view


def test_page_renders_in_chromium(built, chromium_ready, tmp_path_factory):
    from tests.viewer_tools import open_page

    out, scene = built
    shot = tmp_path_factory.getbasetemp() / "page.png"
    result = open_page((out / "index.html").as_uri(), screenshot=shot)
    assert result["ready"], result["error"]
    assert result["error"] is None
    assert result["console"] == [], result["console"]
    assert result["requests"] == [], result["requests"]
    assert result["dialogs"] == [], "a label ran as script"
    assert result["objectCount"] == len(scene["objects"])
    from pipeline.export.gltf import read_glb

    gltf, _ = read_glb((out / "scene.glb").read_bytes())  # three.js makes a mesh of each primitive
    primitives = [len(gltf["meshes"][n["mesh"]]["primitives"]) for n in gltf["nodes"] if "mesh" in n]
    assert result["meshCount"] == sum(primitives)
    assert XSS in result["labels"] and "床" in result["labels"]
    with Image.open(shot) as image:
        assert np.asarray(image.convert("L")).std() > 5.0  # something was drawn


def test_wall_planes_face_into_the_room(built):
    _, scene = built
    camera_position = np.array(scene["camera"]["world_from_camera"])[:3, 3]
    for wall in scene["room"]["walls"]:
        nx, ny, nz, d = wall["plane"]
        normal = np.array([nx, ny, nz])
        assert abs(ny) < 1e-9 and np.linalg.norm(normal) == pytest.approx(1.0)
        np.testing.assert_allclose(np.array(wall["corners"]) @ normal + d, 0.0, atol=1e-9)
        assert camera_position @ normal + d > 0, wall["name"]  # the camera is inside
        for obj in scene["objects"]:
            assert np.all(np.array(obj["corners"]) @ normal + d > -1e-6), (wall["name"], obj["label"])


def test_cli_also_takes_a_comma_list_and_repeats(tmp_path, capsys):
    from pipeline.cli import main

    photo = tmp_path / "room.png"
    Image.fromarray(np.full((480, 640, 3), 180, np.uint8)).save(photo)
    assert main(["build", str(photo), "-o", str(tmp_path / "a"), "--also", "gltf,gltf", "--also", "gltf"]) == 0
    assert json.loads((tmp_path / "a" / "scene.json").read_text())["inputs"]["options"]["also"] == ["gltf"]
    assert (tmp_path / "a" / "scene.gltf").is_file() and (tmp_path / "a" / "scene.bin").is_file()
    assert main(["build", str(photo), "-o", str(tmp_path / "b"), "--also", "gltf,obj"]) == 2
    assert "unknown --also output obj" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()
    assert main(["build", str(photo), "-o", str(tmp_path / "c"), "--also", "ply"]) == 2
    assert "--also ply needs --depth" in capsys.readouterr().err


def test_camera_guesses_reach_terminal_json_and_page(tmp_path, capsys):
    """A photo with no lines and no EXIF: the camera is assumed level with a default focal. The build says so on
    the terminal, in scene.json (camera.warnings and warnings) and on the page, each with what would fix it."""
    from pipeline.cli import main

    photo = tmp_path / "plain.png"
    Image.new("RGB", (640, 480), (128, 120, 110)).save(photo)
    assert main(["build", str(photo), "-o", str(tmp_path / "out")]) == 0
    stderr = capsys.readouterr().err
    assert "room3d: warning: camera assumed level" in stderr and "--pitch-deg" in stderr
    assert "room3d: warning: focal length unknown" in stderr and "--fov-deg" in stderr
    scene = json.loads((tmp_path / "out" / "scene.json").read_text())
    assert scene["camera"]["attitude_source"] == "assumed_level"
    assert any("assumed level" in w for w in scene["camera"]["warnings"])
    assert set(scene["camera"]["warnings"]) <= set(scene["warnings"])
    html = (tmp_path / "out" / "index.html").read_text()
    assert 'id="room3d-camera-warnings"' in html and "Camera uncertain" in html
    assert "camera assumed level" in html and "focal length unknown" in html


def test_overlay_of_a_large_photo_is_capped_and_draws_where_the_full_size_one_does(tmp_path):
    from pipeline.export.overlay import draw_overlay
    from pipeline.photo import PREVIEW_MAX_SIDE_PX, downscaled
    from pipeline.records import Intrinsics

    truth = bedroom()
    camera = camera_for(truth)
    scene = solve(truth.grounding(), camera)
    factor = 5  # the bedroom's camera, five times the pixels a side: a 5120 x 3840 photo
    k = camera.intrinsics
    big_camera = dataclasses.replace(camera, intrinsics=Intrinsics(k.fx_px * factor, k.fy_px * factor,
                                                                   k.cx_px * factor, k.cy_px * factor,
                                                                   k.width_px * factor, k.height_px * factor))
    big_scene = dataclasses.replace(scene, camera=big_camera)
    photo = np.full((k.height_px * factor, k.width_px * factor, 3), 200, np.uint8)
    preview = downscaled(photo)
    assert max(preview.shape[:2]) == PREVIEW_MAX_SIDE_PX
    draw_overlay(big_scene, preview, tmp_path / "big.jpg")
    draw_overlay(scene, np.full((k.height_px, k.width_px, 3), 200, np.uint8), tmp_path / "small.jpg")
    with Image.open(tmp_path / "big.jpg") as big, Image.open(tmp_path / "small.jpg") as small:
        assert big.format == "JPEG" and big.size == (preview.shape[1], preview.shape[0])
        drawn_big = np.asarray(big.convert("L").resize(small.size, Image.Resampling.BOX)) < 150
        drawn_small = np.asarray(small.convert("L")) < 150
    assert drawn_small.sum() > 1000 and drawn_big.sum() > 0.5 * drawn_small.sum()  # the wireframes are there
    from scipy.ndimage import binary_dilation

    near = binary_dilation(drawn_small, iterations=3)
    assert drawn_big[~near].sum() < 0.02 * drawn_big.sum()  # the big one's lines lie where the small one's do
