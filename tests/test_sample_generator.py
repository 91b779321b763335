"""The sample scenes regenerate from their seeds, and their truth agrees with their renders."""

import shutil
import subprocess
import sys

from PIL import Image

from tests.conftest import ROOT, SAMPLES, require, sample_dirs

SCENES = sample_dirs()


def run(*args, timeout=600):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_truth_agrees_with_depth_and_grounding():
    """samples/check_truth.py: depth vs truth planes, grounding vs projected truth, photo edges vs depth edges."""
    result = run(SAMPLES / "check_truth.py")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_generator_is_deterministic(tmp_path):
    result = run(SAMPLES / "generate.py", "--no-render", "--no-check", "--out", tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for scene in SCENES:
        for name in ("truth.json", "grounding.qwen3.json", "grounding.qwen2_5.json"):
            assert (tmp_path / scene.name / name).read_bytes() == (scene / name).read_bytes(), (scene.name, name)


def test_blender_render_reproduces_depth(tmp_path):
    """Renders one scene with Debian's Blender (few samples) and gets the committed depth map bit for bit."""
    require(shutil.which("blender") is not None, "blender (apt-get install blender)")
    result = run(SAMPLES / "generate.py", "--only", "office_01", "--samples", "2", "--denoise", "0", "--no-check",
                 "--out", tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "office_01" / "depth.png").read_bytes() == (SAMPLES / "office_01" / "depth.png").read_bytes()
    with Image.open(tmp_path / "office_01" / "photo.png") as photo, \
            Image.open(SAMPLES / "office_01" / "photo.png") as committed:
        assert photo.size == committed.size
