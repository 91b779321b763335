"""The command line: a full build, its outputs' consistency, and bad input -> one line, exit code 2."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pipeline import frames
from pipeline.cli import main, parser
from tests.synthetic import bedroom


@pytest.fixture()
def bedroom_inputs(tmp_path):
    truth = bedroom()
    w, h = truth.intrinsics.width_px, truth.intrinsics.height_px
    photo = tmp_path / "room.png"
    Image.fromarray(np.full((h, w, 3), 180, np.uint8)).save(photo)
    grounding = tmp_path / "answer.json"
    boxes = [{"bbox_2d": [round(v, 2) for v in d.box_xyxy_px], "label": d.label} for d in truth.detections()]
    grounding.write_text("Here you go:\n```json\n" + json.dumps(boxes) + "\n```")
    flags = ["--focal-px", str(truth.intrinsics.fx_px), "--camera-height", str(truth.height_m),
             "--pitch-deg", str(truth.pitch_deg), "--roll-deg", str(truth.roll_deg)]
    return truth, photo, grounding, flags


def test_build_writes_consistent_outputs(tmp_path, bedroom_inputs, capsys):
    truth, photo, grounding, flags = bedroom_inputs
    out = tmp_path / "out"
    assert main(["build", str(photo), "-o", str(out), "--grounding", str(grounding), *flags]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["floorplan.svg", "index.html", "overlay.jpg", "scene.glb",
                                                     "scene.json"]
    printed = capsys.readouterr().out
    assert "index.html" in printed
    scene = json.loads((out / "scene.json").read_text())
    # the room's size on the terminal, as scene.json has it: walls not measured (no depth) are lower bounds
    size = scene["room"]["dimensions"]
    assert f"room: >={size['width']['value']:.2f} x >={size['depth']['value']:.2f} m, " \
           f"{size['height']['value']:.2f} m high" in printed
    assert "width: walls inferred from the objects in view" in printed and "height: a typical height" in printed
    camera = scene["camera"]
    assert camera["intrinsics_source"] == "user" and camera["width"] == 1024 and camera["height"] == 768
    np.testing.assert_allclose(camera["world_from_camera"], truth.world_from_camera, atol=1e-9)
    assert scene["grounding"]["format"] == "pixels"
    assert len(scene["objects"]) == len(truth.boxes)
    assert [o["name"] for o in scene["objects"]] == ["bed", "nightstand", "nightstand.001", "wardrobe", "chair"]
    k = frames.intrinsics_matrix(camera["fx"], camera["fy"], camera["cx"], camera["cy"])
    for obj, detection in zip(scene["objects"], truth.detections()):
        corners = np.array(obj["corners"])
        np.testing.assert_allclose(corners, frames.box_corners(obj["center"], obj["size"], obj["yaw"]))
        uv, z = frames.project_world_points(k, np.array(camera["world_from_camera"]), corners)
        assert np.all(z > 0)
        box = np.clip(np.concatenate([uv.min(0), uv.max(0)]), 0, [1024, 768, 1024, 768])
        np.testing.assert_allclose(box, detection.box_xyxy_px, atol=4.0)
    assert set(scene["timings_s"]) >= {"photo", "grounding", "camera", "solve", "export_glb", "export_page"}
    assert scene["versions"]["numpy"]
    with Image.open(out / "overlay.jpg") as overlay:
        assert overlay.size == (1024, 768)
        # the wireframes were drawn: the overlay differs from the flat grey photo
        assert np.asarray(overlay).std() > 1.0


def test_no_grounding_builds_room_shell_only(tmp_path, bedroom_inputs):
    _, photo, _, _ = bedroom_inputs
    assert main(["build", str(photo), "-o", str(tmp_path / "out")]) == 0
    scene = json.loads((tmp_path / "out" / "scene.json").read_text())
    assert scene["objects"] == [] and scene["camera"]["intrinsics_source"] == "default"
    assert len(scene["room"]["walls"]) == 3


def bad(tmp_path, argv, capsys, match):
    before = set(tmp_path.iterdir())
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("room3d: error:") and "\n" not in err and match in err, err
    assert set(tmp_path.iterdir()) == before, "nothing may be written"


def test_bad_inputs_one_line_exit_2(tmp_path, bedroom_inputs, capsys):
    _, photo, grounding, _ = bedroom_inputs
    out = str(tmp_path / "out")
    bad(tmp_path, ["build", str(tmp_path / "missing.jpg"), "-o", out], capsys, "not found")
    (tmp_path / "text.png").write_text("not an image")
    bad(tmp_path, ["build", str(tmp_path / "text.png"), "-o", out], capsys, "not an image")
    (tmp_path / "broken.json").write_text("```json\n[{\"bbox_2d\": [1, 2\n```")
    bad(tmp_path, ["build", str(photo), "-o", out, "--grounding", str(tmp_path / "broken.json")], capsys,
        "not valid JSON")
    bad(tmp_path, ["build", str(photo), "-o", out, "--focal-px", "-5"], capsys, "focal")
    (tmp_path / "exists").mkdir()
    bad(tmp_path, ["build", str(photo), "-o", str(tmp_path / "exists")], capsys, "--force")


def test_force_replaces_existing_output(tmp_path, bedroom_inputs):
    _, photo, grounding, flags = bedroom_inputs
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    assert main(["build", str(photo), "-o", str(out), "--grounding", str(grounding), "--force"]) == 0
    assert not (out / "stale.txt").exists() and (out / "scene.glb").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_subprocess_error_has_no_traceback(tmp_path):
    result = subprocess.run([sys.executable, "-m", "pipeline", "build", str(tmp_path / "x.jpg"), "-o",
                             str(tmp_path / "o")], capture_output=True, text=True)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_every_command_has_help():
    commands = parser()._subparsers._group_actions[0].choices
    for name, sub in commands.items():
        assert sub.description or sub.format_help(), name
        for action in sub._actions:
            assert action.help, f"{name} {action.dest} has no help"


def test_build_asks_a_model_server(tmp_path, capsys):
    """`room3d build --vlm URL --vlm-model NAME` against a real chat-completions server on 127.0.0.1: the
    Qwen3-VL answer becomes the scene, and the raw answer is saved beside it, replayable offline."""
    from tests.chat_server import ChatServer, reply
    from tests.conftest import SAMPLES

    sample = SAMPLES / "bedroom_01"
    answer = (sample / "grounding.qwen3.json").read_text()
    out = tmp_path / "out"
    with ChatServer([reply(answer)]) as server:
        code = main(["build", str(sample / "photo.png"), "-o", str(out), "--vlm", server.url,
                     "--vlm-model", "Qwen/Qwen3-VL-8B-Instruct"])
        assert code == 0, capsys.readouterr().err
        request = server.requests[0]
    assert request.body["model"] == "Qwen/Qwen3-VL-8B-Instruct"
    assert request.body["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    scene = json.loads((out / "scene.json").read_text())
    truth = json.loads((sample / "truth.json").read_text())
    assert len(scene["objects"]) == len(truth["objects"])
    assert scene["inputs"]["vlm"]["model"] == "Qwen/Qwen3-VL-8B-Instruct"
    assert (out / "vlm_answer.txt").read_text() == answer
    replay = tmp_path / "replay"
    assert main(["build", str(sample / "photo.png"), "-o", str(replay), "--grounding", str(out / "vlm_answer.txt"),
                 "--grounding-format", "qwen3"]) == 0
    replayed = json.loads((replay / "scene.json").read_text())
    np.testing.assert_allclose([o["center"] for o in replayed["objects"]], [o["center"] for o in scene["objects"]],
                               atol=1e-6)


def test_build_with_an_unreachable_server_fails_cleanly(tmp_path, capsys):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    from tests.conftest import SAMPLES

    bad(tmp_path, ["build", str(SAMPLES / "bedroom_01" / "photo.png"), "-o", str(tmp_path / "o"), "--vlm",
                   f"http://127.0.0.1:{port}/v1", "--vlm-model", "m", "--vlm-timeout", "2"], capsys, "no answer")


def test_unusable_files_and_folders_are_one_line(tmp_path, bedroom_inputs, capsys):
    """A truncated photo, an answer nested too deep for the JSON decoder, an output folder that cannot be made:
    one line and exit 2, never a traceback."""
    _, photo, _, _ = bedroom_inputs
    out = str(tmp_path / "out")
    data = photo.read_bytes()
    for keep in (len(data) // 3, 100):
        (tmp_path / "cut.png").write_bytes(data[:keep])
        bad(tmp_path, ["build", str(tmp_path / "cut.png"), "-o", out], capsys, "damaged or truncated")
    (tmp_path / "deep.json").write_text("[" * 5000 + "]" * 5000)
    bad(tmp_path, ["build", str(photo), "-o", out, "--grounding", str(tmp_path / "deep.json")], capsys,
        "not valid JSON")
    bad(tmp_path, ["build", str(photo), "-o", "/proc/room3d-nope/out"], capsys,
        "cannot write the output folder /proc/room3d-nope/out")
    # a recorded answer is the model's: no boxes in it is a warning, the build goes on
    assert main(["build", str(photo), "-o", out, "--vlm", f"file:{tmp_path / 'deep.json'}"]) == 0
    err = capsys.readouterr().err
    assert "warning: the model's answer held no usable boxes (grounding is not valid JSON" in err


def test_option_conflicts_are_found_before_any_model_loads(tmp_path, bedroom_inputs, capsys):
    _, photo, grounding, _ = bedroom_inputs
    out = str(tmp_path / "out")
    bad(tmp_path, ["build", str(photo), "-o", out, "--grounding", str(grounding), "--vlm", "hf:no/such-model",
                   "--depth", "hf:no/such-depth-model"], capsys, "give either --grounding or --vlm, not both")
    for tokens in ("0", "-5"):
        bad(tmp_path, ["build", str(photo), "-o", out, "--vlm", "hf:no/such-model", "--vlm-max-tokens", tokens],
            capsys, "--vlm-max-tokens must be at least 1")


def test_credentials_in_the_model_url_are_not_recorded(tmp_path, capsys):
    """`--vlm http://user:pw@host/v1?api_key=...`: asked as given, recorded as http://host/v1 in every output."""
    from tests.chat_server import ChatServer, reply
    from tests.conftest import SAMPLES

    sample = SAMPLES / "bedroom_01"
    out = tmp_path / "out"
    with ChatServer([reply((sample / "grounding.qwen3.json").read_text())]) as server:
        url = server.url.replace("http://", "http://me:pw-secret@") + "?api_key=sk-query-secret"
        assert main(["build", str(sample / "photo.png"), "-o", str(out), "--vlm", url,
                     "--vlm-model", "Qwen/Qwen3-VL-8B-Instruct"]) == 0, capsys.readouterr().err
        assert server.requests[0].path == "/v1/chat/completions?api_key=sk-query-secret"
    scene = json.loads((out / "scene.json").read_text())
    assert scene["inputs"]["options"]["vlm"] == server.url and scene["inputs"]["vlm"]["endpoint"] == server.url
    for path in out.iterdir():
        data = path.read_bytes()
        assert b"pw-secret" not in data and b"sk-query-secret" not in data, path.name


def test_camera_command_takes_depth_and_boxes(capsys):
    """``room3d camera`` with a sample's depth map: gravity from its floor and the lines combined; the JSON carries
    the spread and the warnings."""
    from tests.conftest import SAMPLES

    sample = SAMPLES / "bedroom_01"
    assert main(["camera", str(sample / "photo.png"), "--depth", f"file:{sample / 'depth.png'}",
                 "--grounding", str(sample / "grounding.qwen3.json"), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["attitude_source"] == "vanishing_points+depth"
    truth = json.loads((sample / "truth.json").read_text())["camera"]
    assert summary["pitch_deg"] == pytest.approx(truth["pitch_deg"], abs=0.2)
    assert summary["roll_deg"] == pytest.approx(truth["roll_deg"], abs=0.2)
    assert summary["attitude_sigma_deg"] < 3.0 and summary["warnings"] == []
