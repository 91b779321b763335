"""Local vision-language models (``--vlm hf:``, pipeline/vlm_local.py) and recorded answers (``--vlm file:``).

The models are tiny random-weight Qwen2.5-VL and Qwen3-VL checkpoints built offline (tests/tiny_vlm.py) and loaded
by the code that loads a real one: a folder, or a Hub id found in a Hugging Face cache. Their answers are garbage,
so a build must end cleanly with the garbage kept and a warning. Every error (a model that is not there while
offline, a folder that is not a model, an unsupported model type, out of memory) is one line and exit code 2,
within seconds.
"""

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline import frames, vlm
from pipeline.build import BuildOptions, build
from pipeline.cli import main
from pipeline.errors import UserError
from tests.conftest import ROOT, SAMPLES, require

BEDROOM = SAMPLES / "bedroom_01"
PHOTO = BEDROOM / "photo.png"
#: Generated tokens per answer in these tests: enough for garbage, short enough to be quick.
MAX_TOKENS = 24
#: Seconds a failing `room3d build --vlm hf:...` may take (Python and its imports included): a missing model must
#: fail at once, not after the ~95 s of retries an online lookup spends without a network.
FAIL_FAST_S = 20.0
# Recorded in the style of the Qwen cookbooks' outputs: a fence, prose after it.
QWEN25_ANSWER = ("```json\n" + (BEDROOM / "grounding.qwen2_5.json").read_text().strip()
                 + "\n```\n\nThere are 8 pieces of furniture in the image.")
QWEN3_ANSWER = "Here are the objects:\n```json\n" + (BEDROOM / "grounding.qwen3.json").read_text().strip() + "\n```"


def has_ml() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("torch", "transformers", "safetensors"))


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, Path]:
    """``{"qwen2_5_vl": folder, "qwen3_vl": folder}``, built once per test session."""
    require(has_ml(), "torch and transformers (pip install -e '.[ml]')")
    from tests import tiny_vlm

    root = tmp_path_factory.mktemp("tiny_vlm")
    return {family: tiny_vlm.build(family, root / family) for family in tiny_vlm.FAMILIES}


@pytest.fixture(autouse=True)
def no_hub(monkeypatch):
    """Nothing in these tests may reach the Hub."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def run_cli(*args, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m pipeline ARGS`` in a subprocess, offline unless ``env`` says otherwise."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    environment = {key: value for key, value in environment.items() if value is not None}
    return subprocess.run([sys.executable, "-m", "pipeline", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=environment)


def one_error_line(result: subprocess.CompletedProcess, *phrases: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("room3d: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------- tiny models, CLI


def in_hub_cache(folder: Path, home: Path, repo_id: str) -> None:
    """Lay ``folder`` out in a Hugging Face cache under ``home`` as the snapshot of ``repo_id``, as a download
    leaves it."""
    repo = home / "hub" / ("models--" + repo_id.replace("/", "--"))
    commit = "0" * 40
    shutil.copytree(folder, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)


@pytest.mark.parametrize("family, fmt, seen", [
    ("qwen2_5_vl", "qwen2.5", frames.qwen25_resized_size(640, 480)),           # 644 x 476, factor 28
    ("qwen3_vl", "qwen3", frames.qwen25_resized_size(640, 480, factor=32)),    # 640 x 480, factor 32
])
def test_cli_builds_with_a_tiny_local_model_and_replays_it(tiny_models, tmp_path, capsys, family, fmt, seen):
    """Qwen2.5-VL from a folder; Qwen3-VL from a Hub id found in a Hugging Face cache, the environment not saying
    offline but the probe of the Hub's address failing (nothing listens there), so the cache alone is used."""
    out = tmp_path / "out"
    if family == "qwen2_5_vl":
        model, env = str(tiny_models[family]), {}
    else:
        model = "room3d-tests/tiny-qwen3-vl"
        in_hub_cache(tiny_models[family], tmp_path / "hf", model)
        env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": None, "TRANSFORMERS_OFFLINE": None,
               "HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}", "HTTPS_PROXY": None, "https_proxy": None}
    result = run_cli("build", PHOTO, "-o", out, "--vlm", f"hf:{model}", "--vlm-max-tokens", MAX_TOKENS, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in ("scene.glb", "scene.json", "index.html", "overlay.jpg", vlm.ANSWER_FILE, vlm.REQUEST_FILE):
        assert (out / name).is_file(), name
    scene = json.loads((out / "scene.json").read_text())
    record = scene["inputs"]["vlm"]
    assert record["model"] == model
    assert record["backend"] == "transformers" and record["device"] == "cpu" and record["dtype"] == "float32"
    assert record["grounding_format"] == fmt and scene["grounding"]["format"] == fmt
    assert (record["sent_width_px"], record["sent_height_px"]) == seen
    assert record["max_tokens"] == MAX_TOKENS and record["finish_reason"] in ("stop", "length")
    if fmt == "qwen2.5":
        assert f"{seen[0]}x{seen[1]} image" in record["prompt"]
    else:
        assert "0 to 1000" in record["prompt"]
        assert record["endpoint"].startswith(f"hf:{tmp_path / 'hf' / 'hub'}")
    assert json.loads((out / vlm.REQUEST_FILE).read_text())["answer_sha256"] == record["answer_sha256"]
    # the garbage answer is kept as it is, and said to be unusable
    assert scene["objects"] == []
    assert any("held no usable boxes" in w for w in scene["warnings"]), scene["warnings"]
    assert "warning: the model's answer held no usable boxes" in result.stderr

    assert main(["build", str(PHOTO), "-o", str(tmp_path / "replay"), "--vlm", f"file:{out / vlm.ANSWER_FILE}"]) == 0
    replayed = json.loads((tmp_path / "replay" / "scene.json").read_text())
    assert replayed["inputs"]["vlm"]["backend"] == "file"
    assert replayed["inputs"]["vlm"]["grounding_format"] == fmt
    assert (replayed["inputs"]["vlm"]["sent_width_px"], replayed["inputs"]["vlm"]["sent_height_px"]) == seen
    assert (tmp_path / "replay" / vlm.ANSWER_FILE).read_text() == (out / vlm.ANSWER_FILE).read_text()
    assert replayed["objects"] == [] and any("held no usable boxes" in w for w in replayed["warnings"])
    assert "held no usable boxes" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------ tiny models, library


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_library_answer_is_loaded_once_and_greedy(tiny_models, family):
    from pipeline import vlm_local

    started = time.monotonic()
    first = vlm_local.ask_local(PHOTO, str(tiny_models[family]), max_new_tokens=8)
    loaded = vlm_local.load_model(str(tiny_models[family]))
    second = vlm_local.ask_local(PHOTO, str(tiny_models[family]), max_new_tokens=8)
    assert vlm_local.load_model(str(tiny_models[family])) is loaded  # cached for the process
    assert first.text == second.text  # greedy decoding
    assert first.backend == "transformers" and first.model == str(tiny_models[family])
    assert first.grounding_format == vlm_local.FAMILIES[family]
    assert first.elapsed_s <= time.monotonic() - started
    assert first.finish_reason in ("stop", "length") and first.max_tokens == 8


def test_big_photo_is_resized_to_a_fixed_point_of_smart_resize(tiny_models):
    """A 2400x1800 photo: the image given to Qwen2.5-VL is at most 1600 px long, its sides multiples of 28, and
    what the answer says the model saw is what its processor made of it."""
    from pipeline import vlm_local

    y, x = np.mgrid[0:1800, 0:2400]
    rgb = np.stack([x * 255 // 2400, y * 255 // 1800, (x + y) % 256], axis=-1).astype(np.uint8)
    answer = vlm_local.ask_local(rgb, str(tiny_models["qwen2_5_vl"]), max_new_tokens=1, max_pixels=400_000)
    w, h = answer.sent_width_px, answer.sent_height_px
    assert w % 28 == 0 and h % 28 == 0 and w * h <= 400_000
    assert (w, h) == frames.qwen25_resized_size(w, h, max_pixels=400_000)  # a fixed point
    assert abs(w / h - 4 / 3) < 28 / h
    assert f"{w}x{h} image" in answer.prompt
    assert answer.scale_to_photo == (2400 / w, 1800 / h)
    assert not any("resized the" in note for note in answer.notes)


def test_build_library_keeps_garbage_with_a_warning(tiny_models, tmp_path):
    result = build(PHOTO, tmp_path / "out", BuildOptions(vlm=f"hf:{tiny_models['qwen2_5_vl']}",
                                                         vlm_max_tokens=MAX_TOKENS, task="layout"))
    assert result.object_count == 0
    assert (tmp_path / "out" / vlm.ANSWER_FILE).is_file()
    assert result.manifest["inputs"]["vlm"]["task"] == "layout"
    assert "room layout" in result.manifest["inputs"]["vlm"]["prompt"].lower() or \
        "layout of the room" in result.manifest["inputs"]["vlm"]["prompt"]
    assert any("held no usable boxes" in w for w in result.warnings)


# ----------------------------------------------------------------------------------------------- file: replay


@pytest.mark.parametrize("answer, fmt", [(QWEN25_ANSWER, "qwen2.5"), (QWEN3_ANSWER, "qwen3"), (QWEN3_ANSWER, None)])
def test_file_replay_gives_the_same_objects_as_grounding(tmp_path, answer, fmt):
    recorded = tmp_path / "answer.txt"
    recorded.write_text(answer)
    flags = ["--grounding-format", fmt] if fmt else []
    assert main(["build", str(PHOTO), "-o", str(tmp_path / "a"), "--vlm", f"file:{recorded}", *flags]) == 0
    assert main(["build", str(PHOTO), "-o", str(tmp_path / "b"), "--grounding", str(recorded), *flags]) == 0
    a, b = (json.loads((tmp_path / name / "scene.json").read_text()) for name in "ab")
    assert len(a["objects"]) == len(json.loads((BEDROOM / "truth.json").read_text())["objects"])
    assert [o["label"] for o in a["objects"]] == [o["label"] for o in b["objects"]]
    np.testing.assert_allclose([o["center"] for o in a["objects"]], [o["center"] for o in b["objects"]], atol=1e-9)
    np.testing.assert_allclose([o["size"] for o in a["objects"]], [o["size"] for o in b["objects"]], atol=1e-9)
    assert a["grounding"]["format"] == b["grounding"]["format"]
    assert (tmp_path / "a" / vlm.ANSWER_FILE).read_text() == answer


def test_file_replay_reads_the_record_beside_the_answer(tmp_path):
    """A Qwen2.5-VL answer about a big photo is in pixels of the smaller image the model saw: replayed with its
    record it lands where the original did; the same text without the record would not."""
    photo = np.zeros((1800, 2400, 3), np.uint8)
    sent_w, sent_h = vlm.sent_size(2400, 1800, "qwen2.5")
    answer = vlm.VlmAnswer(text=QWEN25_ANSWER, model="Qwen/Qwen2.5-VL-7B-Instruct", endpoint="http://h:1/v1",
                           task="grounding_2d", prompt="p", grounding_format="qwen2.5", elapsed_s=1.0, attempts=1,
                           sent_width_px=sent_w, sent_height_px=sent_h, photo_width_px=2400, photo_height_px=1800)
    vlm.save_answer(answer, tmp_path / "run")
    replayed = vlm.answer_from_file(tmp_path / "run" / vlm.ANSWER_FILE, photo)
    assert (replayed.grounding_format, replayed.sent_width_px, replayed.sent_height_px) == ("qwen2.5", sent_w, sent_h)
    boxes = [d.box_xyxy_px for d in vlm.grounding_from_answer(answer).detections]
    np.testing.assert_allclose([d.box_xyxy_px for d in vlm.grounding_from_answer(replayed).detections], boxes)
    # edited after it was recorded: the record no longer vouches for it, and it is read as any other file
    edited = tmp_path / "run" / vlm.ANSWER_FILE
    edited.write_text(QWEN25_ANSWER + "\n")
    loose = vlm.answer_from_file(edited, photo)
    assert "recorded in" not in loose.format_reason
    assert not np.allclose([d.box_xyxy_px for d in vlm.grounding_from_answer(loose).detections], boxes)


def test_file_replay_of_a_3d_answer_keeps_its_boxes(tmp_path):
    recorded = tmp_path / "answer.txt"
    recorded.write_text('```json\n[{"bbox_3d":[-0.62,0.41,3.05,1.62,0.58,2.08,0.0,0.06,0.0],"label":"bed"}]\n```')
    grounding = vlm.grounding_or_warning(vlm.answer_from_file(recorded, PHOTO))
    (bed,) = grounding.detections
    assert bed.label == "bed" and bed.box_3d_cam is not None


def test_file_and_source_errors(tmp_path, capsys):
    def error(args) -> str:
        assert main(["build", str(PHOTO), "-o", str(tmp_path / "o"), *args]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1
        return lines[0]

    assert "recorded answer not found" in error(["--vlm", f"file:{tmp_path / 'missing.txt'}"])
    assert "did you mean hf:Qwen/Qwen2.5-VL-3B-Instruct" in error(["--vlm", "Qwen/Qwen2.5-VL-3B-Instruct"])
    assert "needs --vlm-model" in error(["--vlm", "http://127.0.0.1:9/v1"])
    assert "what follows hf:" in error(["--vlm", "hf:"])
    assert not (tmp_path / "o").exists()
    with pytest.raises(UserError, match="not a model source"):
        vlm.parse_source("ftp://x")
    assert vlm.parse_source("HTTP://127.0.0.1:8000/v1/chat/completions") == ("server", "http://127.0.0.1:8000/v1")
    assert vlm.parse_source("file:out/vlm_answer.txt") == ("file", "out/vlm_answer.txt")


# ------------------------------------------------------------------------------------------------------ errors


def test_missing_hub_id_offline_fails_at_once(tmp_path):
    started = time.monotonic()
    result = run_cli("build", PHOTO, "-o", tmp_path / "o", "--vlm", "hf:Qwen/Qwen2.5-VL-3B-Instruct",
                     env={"HF_HOME": str(tmp_path / "hf")})
    assert time.monotonic() - started < FAIL_FAST_S
    one_error_line(result, "not in the Hugging Face cache", "hf download Qwen/Qwen2.5-VL-3B-Instruct")
    assert not (tmp_path / "o").exists()


def test_missing_hub_id_with_an_unreachable_hub_fails_at_once(tmp_path):
    """The environment does not say offline: the probe of the Hub's address fails and offline mode is set."""
    started = time.monotonic()
    result = run_cli("build", PHOTO, "-o", tmp_path / "o", "--vlm", "hf:Qwen/Qwen3-VL-2B-Instruct",
                     env={"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": None, "TRANSFORMERS_OFFLINE": None,
                          "HF_ENDPOINT": f"http://127.0.0.1:{closed_port()}", "HTTPS_PROXY": None,
                          "https_proxy": None})
    assert time.monotonic() - started < FAIL_FAST_S
    one_error_line(result, "the Hub cannot be reached")


def test_hub_probe(monkeypatch):
    from pipeline import vlm_local

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        monkeypatch.delenv("HTTPS_PROXY", raising=False)
        monkeypatch.delenv("https_proxy", raising=False)
        assert vlm_local.hub_reachable()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    assert not vlm_local.hub_reachable()


def broken_copy(tiny_models, tmp_path, edit, family="qwen2_5_vl") -> Path:
    folder = tmp_path / "model"
    shutil.copytree(tiny_models[family], folder)
    edit(folder)
    return folder


def test_folders_that_are_not_usable_models(tiny_models, tmp_path, capsys):
    def error(folder) -> str:
        assert main(["build", str(PHOTO), "-o", str(tmp_path / "o"), "--vlm", f"hf:{folder}"]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and not (tmp_path / "o").exists()
        return lines[0]

    assert "not a model folder (no config.json)" in error(SAMPLES)
    assert "model folder not found" in error(tmp_path / "nowhere")
    assert "a file, not a model folder" in error(PHOTO)

    def llama(folder):
        (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    assert "model type 'llama'" in error(broken_copy(tiny_models, tmp_path / "a", llama))

    def no_processor(folder):
        (folder / "preprocessor_config.json").unlink()
    assert "missing preprocessor_config.json" in error(broken_copy(tiny_models, tmp_path / "b", no_processor))

    def no_template(folder):
        (folder / "chat_template.json").unlink()
    assert "no chat template" in error(broken_copy(tiny_models, tmp_path / "c", no_template, "qwen3_vl"))


def test_out_of_memory_while_loading_is_one_line(tiny_models, tmp_path):
    """A config whose vocabulary needs 256 TiB of embeddings, with those weights absent from the checkpoint: the
    allocation fails (more than any address space), and so does the load, in one line that says what to do."""
    from safetensors.torch import load_file, save_file

    def huge(folder):
        config = json.loads((folder / "config.json").read_text())
        config["text_config"]["vocab_size"] = 2 ** 41
        (folder / "config.json").write_text(json.dumps(config))
        weights = load_file(folder / "model.safetensors")
        save_file({k: v for k, v in weights.items() if "embed_tokens" not in k and "lm_head" not in k},
                  folder / "model.safetensors", metadata={"format": "pt"})
    result = run_cli("build", PHOTO, "-o", tmp_path / "o", "--vlm", f"hf:{broken_copy(tiny_models, tmp_path, huge)}")
    one_error_line(result, "out of memory", "pick a smaller model or --vlm-dtype")


def test_device_that_is_not_there(tiny_models, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is here")
    assert main(["build", str(PHOTO), "-o", str(tmp_path / "o"), "--vlm", f"hf:{tiny_models['qwen3_vl']}",
                 "--vlm-device", "cuda"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_missing_ml_extra_is_named(monkeypatch):
    from pipeline import vlm_local

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *args: None if name == "transformers" else real(name, *args))
    with pytest.raises(UserError, match=r"transformers is not installed: pip install 'room3d\[ml\]'"):
        vlm_local.load_model("Qwen/Qwen2.5-VL-3B-Instruct")
