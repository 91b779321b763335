"""Start-up, one build, and many builds: single `room3d build` runs against `room3d batch` (1 and 2 jobs, a re-run,
Ray), side by side in one run.

    .venv/bin/python benchmarks/bench_batch.py [--photos ../shared/realdev] [--repeats 5] [--no-ray] [--big]

Prints two tables. Start-up: the median wall time of a bare interpreter (`python -c pass`), `room3d --help` and a
whole `room3d build` of a 730x530 photo (a sample's, resized; its relative grounding fits it), with each one's
ratio to the bare start; with --big, the CPU seconds (user + system) of a build of a 48 MP photo. Batch: the
photos of --photos (realdev's frames: photo.jpg + grounding.qwen3.json per folder, or a folder of photos) built
by one `room3d build` process each, then by `room3d batch` with 1 and 2 jobs, a re-run of the 2-job batch (nothing
to build), and `room3d batch --ray` (2 CPUs): wall time, photos per second, and the share of the single builds'
time.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOM3D = [sys.executable, "-m", "pipeline"]


def run(command: list[str], cwd: Path = ROOT) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the child, exit code) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    code = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), code


def startup_table(work: Path, repeats: int, big: bool) -> list[str]:
    from PIL import Image

    sample = ROOT / "samples" / "bedroom_01"
    photo = work / "photo730.png"
    with Image.open(sample / "photo.png") as image:
        image.convert("RGB").resize((730, 530), Image.Resampling.LANCZOS).save(photo)
    commands = {
        "bare interpreter (python -c pass)": [sys.executable, "-c", "pass"],
        "room3d --help": [*ROOM3D, "--help"],
        "room3d build, 730x530 photo": [*ROOM3D, "build", str(photo), "--grounding",
                                        str(sample / "grounding.qwen3.json"), "-o", str(work / "one"), "--force"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):  # interleaved, so that the machine's moods fall on every row alike
        for name, command in commands.items():
            wall, _, code = run(command)
            if code != 0:
                raise SystemExit(f"failed: {' '.join(command)}")
            times[name].append(wall)
    bare = statistics.median(times["bare interpreter (python -c pass)"])
    rows = ["| start-up | median wall s | x bare start |", "|---|---|---|"]
    for name, values in times.items():
        rows.append(f"| {name} | {statistics.median(values):.3f} | {statistics.median(values) / bare:.1f} |")
    if big:
        big_photo = work / "photo48mp.jpg"
        with Image.open(sample / "photo.png") as image:
            image.convert("RGB").resize((8000, 6000), Image.Resampling.BICUBIC).save(big_photo, quality=92)
        cpu = []
        for _ in range(max(1, repeats // 2)):
            _, seconds, code = run([*ROOM3D, "build", str(big_photo), "--grounding",
                                    str(sample / "grounding.qwen3.json"), "-o", str(work / "big"), "--force"])
            if code != 0:
                raise SystemExit("the 48 MP build failed")
            cpu.append(seconds)
        rows.append(f"| room3d build, 48 MP photo (8000x6000 JPEG): CPU s (user + system) | "
                    f"{statistics.median(cpu):.2f} | |")
    return rows


def manifest_of(photos: Path, work: Path) -> tuple[Path, list[tuple[str, Path, Path | None]]]:
    """A JSONL manifest of --photos (realdev frames or a folder of photos) and its rows."""
    rows = []
    for case in sorted(p for p in photos.iterdir() if p.is_dir() and (p / "photo.jpg").is_file()):
        grounding = case / "grounding.qwen3.json"
        rows.append((case.name, case / "photo.jpg", grounding if grounding.is_file() else None))
    if not rows:
        for photo in sorted(p for p in photos.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png")):
            grounding = photo.with_suffix(".json")
            rows.append((photo.stem, photo, grounding if grounding.is_file() else None))
    manifest = work / "photos.jsonl"
    manifest.write_text("".join(json.dumps({"name": name, "photo": str(photo),
                                            **({"grounding": str(g)} if g else {})}) + "\n"
                                for name, photo, g in rows), encoding="utf-8")
    return manifest, rows


def batch_table(photos: Path, work: Path, ray: bool) -> list[str]:
    manifest, rows = manifest_of(photos, work)
    count = len(rows)
    results: list[tuple[str, float]] = []
    start = time.perf_counter()
    for name, photo, grounding in rows:
        command = [*ROOM3D, "build", str(photo), "-o", str(work / "single" / name), "--force"]
        run(command + (["--grounding", str(grounding)] if grounding else []))
    results.append((f"{count} x room3d build (one process each)", time.perf_counter() - start))
    for jobs in (1, 2):
        out = work / f"batch{jobs}"
        wall, _, _ = run([*ROOM3D, "batch", str(manifest), "-o", str(out), "--jobs", str(jobs)])
        results.append((f"room3d batch --jobs {jobs}", wall))
    wall, _, _ = run([*ROOM3D, "batch", str(manifest), "-o", str(work / "batch2"), "--jobs", "2"])
    results.append(("room3d batch --jobs 2, re-run (nothing changed)", wall))
    if ray:
        wall, _, code = run([*ROOM3D, "batch", str(manifest), "-o", str(work / "ray"), "--jobs", "2", "--ray"])
        results.append(("room3d batch --ray (local Ray, 2 CPUs)" + ("" if code in (0, 1) else ": FAILED"), wall))
    single = results[0][1]
    lines = [f"| {count} photos of {photos} | wall s | photos/s | share of the single builds' time |",
             "|---|---|---|---|"]
    for name, wall in results:
        lines.append(f"| {name} | {wall:.1f} | {count / wall:.2f} | {100 * wall / single:.0f} % |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=ROOT.parent / "shared" / "realdev")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-ray", action="store_true", help="leave out the Ray row")
    parser.add_argument("--big", action="store_true", help="also the CPU time of a 48 MP photo's build")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="room3d-bench-"))
    try:
        print(f"# {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print("\n".join(startup_table(work, args.repeats, args.big)))
        print()
        if args.photos.is_dir():
            print("\n".join(batch_table(args.photos, work, not args.no_ray)))
        else:
            print(f"(no batch table: {args.photos} is not a folder)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
