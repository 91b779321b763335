"""room3d batch (pipeline/batch.py): many photos built as room3d build builds them, by worker processes or Ray;
resumable; a line per photo and a gallery; bad photos recorded, never stopping the batch."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from pipeline.batch import LOG_NAME, find_items, read_log, run_batch
from pipeline.build import BuildOptions, build
from pipeline.cli import main
from tests.conftest import require

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
NAMES = ("bedroom_01", "kids_01", "living_01")
#: A batch build and a single build of the same photo give the same objects to this (metres).
SAME_CENTRE_M = 1e-3


def photo_folder(root: Path, names=NAMES, broken: bool = True) -> Path:
    """A folder of sample photos NAME.png with their groundings NAME.json beside them (and a file that is no
    photo, broken.jpg)."""
    folder = root / "photos"
    folder.mkdir()
    for name in names:
        shutil.copy(SAMPLES / name / "photo.png", folder / f"{name}.png")
        shutil.copy(SAMPLES / name / "grounding.qwen3.json", folder / f"{name}.json")
    if broken:
        (folder / "broken.jpg").write_bytes(b"not a photo")
    (folder / "notes.txt").write_text("not a photo either, and not taken as one")
    return folder


def centres(scene_json: Path) -> np.ndarray:
    return np.array([o["center"] for o in json.loads(scene_json.read_text())["objects"]])


def lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / LOG_NAME).read_text().splitlines()]


def test_batch_builds_every_photo_as_build_does_and_records_the_failure(tmp_path, capsys):
    folder = photo_folder(tmp_path)
    out = tmp_path / "out"
    assert main(["batch", str(folder), "-o", str(out), "--jobs", "2"]) == 1  # a photo failed
    captured = capsys.readouterr()
    assert "room3d: warning: broken: not an image Pillow can read" in captured.err
    assert "Traceback" not in captured.err
    assert "batch: 3 built, 1 failed, 0 skipped (unchanged) of 4 photos" in captured.out
    records = {r["name"]: r for r in lines(out)}
    assert sorted(records) == ["bedroom_01", "broken", "kids_01", "living_01"]
    assert records["broken"]["status"] == "failed" and records["broken"]["objects"] is None
    single = tmp_path / "single"
    build(folder / "bedroom_01.png", single, BuildOptions(grounding=folder / "bedroom_01.json"))
    assert sorted(p.name for p in (out / "bedroom_01").iterdir()) == sorted(p.name for p in single.iterdir())
    np.testing.assert_allclose(centres(out / "bedroom_01" / "scene.json"), centres(single / "scene.json"),
                               atol=SAME_CENTRE_M)
    for name in NAMES:
        record = records[name]
        assert record["status"] == "done" and record["error"] is None and record["seconds"] > 0
        assert record["objects"] == len(json.loads((out / name / "scene.json").read_text())["objects"]) > 0
        assert all((out / name / f).is_file() for f in record["outputs"]) and "scene.glb" in record["outputs"]
        assert (out / "thumbs" / f"{name}.jpg").stat().st_size > 1000
    gallery = (out / "index.html").read_text()
    for name in NAMES:
        assert f'href="{name}/index.html"' in gallery and f'src="thumbs/{name}.jpg"' in gallery
    assert "3 built, 1 failed, 4 photos" in gallery and "failed: not an image Pillow can read" in gallery
    assert not list(out.glob(".*")), "nothing half-written is left"


def test_rerun_skips_what_is_unchanged_and_rebuilds_what_changed(tmp_path, capsys):
    folder = photo_folder(tmp_path)
    out = tmp_path / "out"
    items = find_items([folder])
    first = run_batch(items, out, jobs=2)
    assert (first.built, first.failed, first.skipped) == (3, 1, 0)
    stamps = {name: (out / name / "scene.json").stat().st_mtime_ns for name in NAMES}
    again = run_batch(find_items([folder]), out, jobs=2)
    assert (again.built, again.failed, again.skipped) == (0, 1, 4)  # the failure is still one, unchanged
    assert all((out / name / "scene.json").stat().st_mtime_ns == stamps[name] for name in NAMES)
    assert len(lines(out)) == 4, "a skipped photo writes no line"
    # a changed grounding rebuilds that photo alone
    text = (folder / "kids_01.json").read_text()
    grounding = json.loads(text[text.index("["):text.rindex("]") + 1])  # the answer is fenced, with prose
    (folder / "kids_01.json").write_text(json.dumps(grounding[:-1]))
    changed = run_batch(find_items([folder]), out, jobs=2)
    assert (changed.built, changed.skipped) == (1, 3)
    assert read_log(out)["kids_01"]["objects"] == len(grounding) - 1
    assert (out / "bedroom_01" / "scene.json").stat().st_mtime_ns == stamps["bedroom_01"]
    # a deleted output is rebuilt
    (out / "living_01" / "scene.glb").unlink()
    assert run_batch(find_items([folder]), out, jobs=1).built == 1
    # --retry-failed tries the failure again; --force rebuilds everything
    assert main(["batch", str(folder), "-o", str(out), "--retry-failed"]) == 1
    assert "0 built, 1 failed, 3 skipped" in capsys.readouterr().out
    (folder / "broken.jpg").unlink()
    assert main(["batch", str(folder), "-o", str(out), "--force", "-j", "2"]) == 0
    assert "3 built, 0 failed, 0 skipped" in capsys.readouterr().out
    assert all((out / name / "scene.json").stat().st_mtime_ns != stamps[name] for name in NAMES)


def test_manifests_set_options_per_photo(tmp_path, capsys):
    folder = photo_folder(tmp_path, broken=False)
    csv_manifest = tmp_path / "photos.csv"
    csv_manifest.write_text("photo,name,grounding,focal_px,camera_height_m\n"
                            "photos/bedroom_01.png,first,photos/bedroom_01.json,700,1.6\n"
                            "photos/kids_01.png,,,,\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["batch", str(csv_manifest), "-o", str(out), "-j", "1"]) == 0
    first = json.loads((out / "first" / "scene.json").read_text())
    assert first["camera"]["fx"] == pytest.approx(700.0)
    assert first["camera"]["height_m"] == pytest.approx(1.6)
    kids = json.loads((out / "kids_01" / "scene.json").read_text())
    assert kids["inputs"]["grounding"].endswith("kids_01.json")  # beside the photo, as in a folder
    jsonl = tmp_path / "photos.jsonl"
    jsonl.write_text(json.dumps({"photo": "photos/living_01.png", "fov_deg": 70, "also": ["gltf"]}) + "\n\n",
                     encoding="utf-8")
    assert main(["batch", str(jsonl), "-o", str(out)]) == 0
    assert (out / "living_01" / "scene.gltf").is_file()
    capsys.readouterr()
    for text, message in (("photo,colour\nphotos/kids_01.png,red\n", "unknown column 'colour'"),
                          ("name\nx\n", "no photo"),
                          ("photo,focal_px\nphotos/kids_01.png,wide\n", "focal_px = 'wide' is not a valid value"),
                          ("photo,name\nphotos/kids_01.png,../escape\n", "cannot be a folder name")):
        bad = tmp_path / "bad.csv"
        bad.write_text(text, encoding="utf-8")
        assert main(["batch", str(bad), "-o", str(tmp_path / "bad_out")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("room3d: error: ") and message in err and err.count("\n") == 1, err
    assert main(["batch", str(tmp_path / "nothing_here"), "-o", str(out)]) == 2
    assert "batch input not found" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["batch", str(empty), "-o", str(out)]) == 2
    assert "no photos found" in capsys.readouterr().err
    assert main(["batch", str(folder), "-o", str(out), "--jobs", "0"]) == 2


def test_globs_names_and_a_hostile_name_in_the_gallery(tmp_path):
    folder = photo_folder(tmp_path, names=("kids_01",), broken=False)
    other = tmp_path / "other"
    other.mkdir()
    hostile = '<img src=x onerror="alert(1)">'
    shutil.copy(folder / "kids_01.png", other / "kids_01.png")  # the same name from another folder
    shutil.copy(folder / "kids_01.png", other / f"{hostile}.png")
    shutil.copy(folder / "kids_01.png", other / "thumbs.png")  # a name the batch uses itself
    shutil.copy(folder / "kids_01.png", other / "..png")  # its stem is "."
    items = find_items([str(folder / "*.png"), str(other / "*.png"), other / "..png"])  # globs skip dot files
    names = [item.name for item in items]
    assert names == ["kids_01", hostile, "kids_01-2", "thumbs-2", "photo"]
    out = tmp_path / "out"
    result = run_batch(items, out, jobs=1)
    assert result.failed == 0 and result.built == len(items)
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted([*names, "thumbs"])
    gallery = (out / "index.html").read_text()
    assert hostile not in gallery and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in gallery
    assert "script-src 'none'" in gallery


def start_batch(folder: Path, out: Path, jobs: int) -> subprocess.Popen:
    """``room3d batch FOLDER -o OUT -j JOBS`` started in a session of its own (so that a test can kill it)."""
    command = [sys.executable, "-m", "pipeline", "batch", str(folder), "-o", str(out), "-j", str(jobs)]
    return subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_killed_batch_loses_nothing_it_finished(tmp_path):
    folder = photo_folder(tmp_path, broken=False)
    out = tmp_path / "out"
    process = start_batch(folder, out, jobs=1)
    deadline = time.monotonic() + 120

    def one_finished() -> bool:
        return (out / LOG_NAME).is_file() and bool((out / LOG_NAME).read_text())

    while not one_finished():
        assert process.poll() is None, "the batch ended before it could be killed"
        assert time.monotonic() < deadline, "no photo finished in 120 s"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {name for name, r in read_log(out).items() if r["status"] == "done"}
    assert 1 <= len(finished) < len(NAMES)
    stamps = {name: (out / name / "scene.json").stat().st_mtime_ns for name in finished}
    result = run_batch(find_items([folder]), out, jobs=1)
    assert result.skipped == len(finished) and result.built == len(NAMES) - len(finished)
    assert all((out / name / "scene.json").stat().st_mtime_ns == stamps[name] for name in finished)
    assert not list(out.glob(".*")), "the killed build's staging folder is gone"


def crash_on_kids(item, out_dir: str, key: str) -> dict:
    """A worker's work that kills its process on the photo named kids_01 (run in the worker processes)."""
    from pipeline.batch import build_item

    if item.name == "kids_01":
        os._exit(3)
    return build_item(item, out_dir, key)


def test_a_photo_that_kills_its_worker_fails_alone(tmp_path):
    from pipeline.batch import WORKER_DIED, _run_processes, item_key

    folder = photo_folder(tmp_path, broken=False)
    items = find_items([folder])
    records: list[dict] = []
    _run_processes(items, tmp_path / "out", {i.name: item_key(i) for i in items}, 2, None, records.append, False,
                   work=crash_on_kids)
    by_name = {r["name"]: r for r in records}
    assert sorted(by_name) == sorted(NAMES)  # every photo has its one record
    assert by_name["kids_01"]["status"] == "failed" and by_name["kids_01"]["error"] == WORKER_DIED
    assert all(by_name[n]["status"] == "done" for n in NAMES if n != "kids_01")  # the others were built


def session_processes(session_id: int) -> list[int]:
    """The process ids of a session (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # fields after the name: state, ppid, pgrp, session
            out.append(int(stat.parent.name))
    return out


def test_workers_do_not_outlive_a_killed_batch(tmp_path):
    require(Path("/proc/self/stat").is_file(), "Linux /proc")
    folder = photo_folder(tmp_path, broken=False)
    out = tmp_path / "out"
    process = start_batch(folder, out, jobs=2)
    deadline = time.monotonic() + 120
    while len(session_processes(process.pid)) < 3:  # the batch, its forkserver and a worker
        assert process.poll() is None and time.monotonic() < deadline, "no worker started"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # the batch alone, as an out-of-memory killer would
    process.wait()
    deadline = time.monotonic() + 15
    while session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = session_processes(process.pid)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived their batch"


def test_ray_gives_the_same_scenes_as_local_workers(tmp_path):
    try:
        import ray
    except ImportError:
        ray = None
    require(ray is not None, "ray (pip install 'room3d[ray]')")
    folder = photo_folder(tmp_path)
    local, remote = tmp_path / "local", tmp_path / "ray"
    run_batch(find_items([folder]), local, jobs=2)
    result = run_batch(find_items([folder]), remote, jobs=2, ray="local")
    assert (result.built, result.failed) == (3, 1)
    assert read_log(remote)["broken"]["error"].startswith("not an image Pillow can read")
    for name in NAMES:
        np.testing.assert_allclose(centres(remote / name / "scene.json"), centres(local / name / "scene.json"),
                                   atol=SAME_CENTRE_M)
        assert read_log(remote)[name]["photo"] == read_log(local)[name]["photo"]
    assert "bedroom_01/index.html" in (remote / "index.html").read_text()
