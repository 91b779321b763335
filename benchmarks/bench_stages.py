"""Per-stage time (median over repeats) and peak Python memory for the sample scenes.

    .venv/bin/python benchmarks/bench_stages.py [--repeats 5] [samples/...]

Prints one table: a row per stage with the median over scenes of each scene's median time, and the largest
peak of traced memory (numpy arrays included) any scene needed in that stage.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stages(sample: Path, workdir: Path):
    from pipeline.camera import estimate_camera
    from pipeline.export.gltf import scene_to_glb
    from pipeline.export.manifest import scene_manifest
    from pipeline.export.overlay import draw_overlay
    from pipeline.export.page import render_page
    from pipeline.grounding import read_grounding
    from pipeline.photo import load_photo
    from pipeline.solve import solve

    state = {}
    yield "photo", lambda: state.update(photo=load_photo(sample / "photo.png"))
    yield "grounding", lambda: state.update(grounding=read_grounding(
        sample / "grounding.qwen3.json", state["photo"].width_px, state["photo"].height_px))
    yield "camera", lambda: state.update(camera=estimate_camera(state["photo"]))
    yield "solve", lambda: state.update(scene=solve(state["grounding"], state["camera"]))
    yield "export_glb", lambda: state.update(glb=scene_to_glb(state["scene"]))
    yield "export_overlay", lambda: draw_overlay(state["scene"], state["photo"].rgb, workdir / "overlay.jpg",
                                                 state["grounding"].detections)
    yield "export_page", lambda: render_page(scene_manifest(state["scene"], state["grounding"], {}, {}),
                                             state["glb"], "bench")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    samples = args.samples or sorted(p for p in (ROOT / "samples").iterdir() if (p / "truth.json").is_file())
    if not samples:
        print("no samples found", file=sys.stderr)
        return 2
    times: dict[str, list[float]] = {}
    peaks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for sample in samples:
            per_stage: dict[str, list[float]] = {}
            for repeat in range(args.repeats):
                for name, run in stages(sample, Path(workdir)):
                    start = time.perf_counter()
                    run()
                    per_stage.setdefault(name, []).append(time.perf_counter() - start)
            for name, run in stages(sample, Path(workdir)):  # one more pass, traced, for memory
                tracemalloc.start()
                run()
                peaks[name] = max(peaks.get(name, 0.0), tracemalloc.get_traced_memory()[1] / 2**20)
                tracemalloc.stop()
            for name, values in per_stage.items():
                times.setdefault(name, []).append(statistics.median(values))
    print(f"{len(samples)} scenes x {args.repeats} repeats; peak = traced Python + numpy memory in one extra pass")
    print(f"{'stage':<16}{'median ms':>12}{'max ms':>10}{'peak MiB':>10}")
    total = 0.0
    for name, values in times.items():
        total += statistics.median(values)
        print(f"{name:<16}{1000 * statistics.median(values):>12.1f}{1000 * max(values):>10.1f}{peaks[name]:>10.1f}")
    print(f"{'total':<16}{1000 * total:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
