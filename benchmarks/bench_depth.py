"""Depth stages: load, align a relative map to the floor, find the floor plane, build and write the point cloud.

    .venv/bin/python benchmarks/bench_depth.py [--repeats 5] [--model hf:MODEL] [samples/...]

Per sample, each stage runs ``--repeats`` times on the sample's true depth (``depth.png``) with its true camera;
the relative map for the alignment is that depth turned into an affine disparity. ``--model`` also times a depth
model on the photo (the first call, which loads the model, is left out). Prints one table: the median over the
samples of each sample's median time, and the slowest sample's median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def truth_camera(sample: Path):
    from pipeline import frames
    from pipeline.records import CameraEstimate, Intrinsics

    t = json.loads((sample / "truth.json").read_text())["camera"]
    matrix = np.array(t["world_from_camera"])
    attitude = frames.attitude_from_world_from_camera(matrix)
    return CameraEstimate(Intrinsics(t["fx"], t["fy"], t["cx"], t["cy"], t["width"], t["height"]), "user", matrix,
                          attitude["pitch_rad"], attitude["roll_rad"], t["height_m"], "user", "user")


def stages(sample: Path, workdir: Path, model: str | None):
    from pipeline.depth import align_to_floor, floor_from_depth, load_depth
    from pipeline.export.pointcloud import point_cloud_from_depth, write_ply
    from pipeline.photo import load_photo
    from pipeline.records import DepthMap

    photo, camera = load_photo(sample / "photo.png"), truth_camera(sample)
    state = {}
    yield "load_png", lambda: state.update(depth=load_depth(f"file:{sample / 'depth.png'}", photo))
    yield "align_disparity", lambda: align_to_floor(DepthMap(
        np.where(state["depth"].valid, 2.0 / np.maximum(state["depth"].values, 0.1) + 0.3, 0).astype(np.float32),
        state["depth"].valid, "relative_disparity", "bench"), camera)
    yield "floor_from_depth", lambda: floor_from_depth(state["depth"], camera)
    yield "point_cloud", lambda: state.update(cloud=point_cloud_from_depth(state["depth"], camera, photo.rgb))
    yield "write_ply", lambda: write_ply(state["cloud"], workdir / "points.ply")
    if model:
        yield "model", lambda: load_depth(model, photo)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", help="also time this depth model (hf:MODEL_ID_OR_FOLDER)")
    args = parser.parse_args(argv)
    samples = args.samples or sorted(p for p in (ROOT / "samples").iterdir() if (p / "truth.json").is_file())
    if not samples:
        print("no samples found", file=sys.stderr)
        return 2
    if args.model:  # load it once, outside the timings
        from pipeline.depth import load_depth
        from pipeline.photo import load_photo

        load_depth(args.model, load_photo(samples[0] / "photo.png"))
    medians: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as workdir:
        for sample in samples:
            per_stage: dict[str, list[float]] = {}
            for _ in range(args.repeats):
                for name, run in stages(sample, Path(workdir), args.model):
                    start = time.perf_counter()
                    run()
                    per_stage.setdefault(name, []).append(time.perf_counter() - start)
            for name, times in per_stage.items():
                medians.setdefault(name, []).append(statistics.median(times))
    print(f"{len(samples)} samples x {args.repeats} repeats, {samples[0].name} ...")
    print(f"{'stage':<18} {'median ms':>10} {'slowest ms':>11}")
    for name, values in medians.items():
        print(f"{name:<18} {1000 * statistics.median(values):10.1f} {1000 * max(values):11.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
