"""Time of the whole camera stage (``estimate_camera``) by the cues it is given, on real photos, one core.

    .venv/bin/python benchmarks/bench_camera_cues.py [--repeats 5] [--cases 6] [REALDEV_DIR]

For each case of the real-photo dev set beside the repository (``../shared/realdev``; only read, never copied):
the photo alone (lines), with the grounding's boxes (lines + objects), and with the sensor depth as well (lines +
objects + the depth map's planes). One row per case with the median over repeats, then the medians over cases
and the ratio of each to the photo alone, measured side by side in one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("realdev", nargs="?", type=Path, default=ROOT.parent / "shared" / "realdev")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cases", type=int, default=6, help="how many cases, spread over the set")
    args = parser.parse_args(argv)

    import cv2

    from pipeline.camera import estimate_camera
    from pipeline.depth import load_depth
    from pipeline.grounding import read_grounding
    from pipeline.photo import load_photo

    cv2.setNumThreads(1)
    try:
        import open3d

        open3d.utility.set_verbosity_level(open3d.utility.VerbosityLevel.Error)
    except ModuleNotFoundError:
        pass
    cases = sorted(p for p in args.realdev.glob("*") if (p / "truth.json").is_file())
    if not cases:
        print(f"no realdev cases in {args.realdev}", file=sys.stderr)
        return 2
    step = max(1, len(cases) // max(1, args.cases))
    cases = cases[::step][:args.cases]
    print(f"estimate_camera on {len(cases)} real photos (1296 x 968), one core, median of {args.repeats} runs, ms")
    header = f"{'case':22s} {'lines':>8s} {'+objects':>9s} {'+depth':>8s}"
    print(header)
    print("-" * len(header))
    columns: dict[str, list[float]] = {"lines": [], "+objects": [], "+depth": []}
    for case in cases:
        photo = load_photo(case / "photo.jpg")
        detections = read_grounding(case / "grounding.qwen3.json", photo.width_px, photo.height_px).detections
        depth = load_depth(f"file:{case / 'depth.png'}", photo)
        runs = {"lines": lambda: estimate_camera(photo),
                "+objects": lambda: estimate_camera(photo, detections=detections),
                "+depth": lambda: estimate_camera(photo, detections=detections, depth=depth)}
        row = []
        for name in ("lines", "+objects", "+depth"):  # interleaved per case: the same machine state for each
            runs[name]()
            times = []
            for _ in range(args.repeats):
                start = time.perf_counter()
                runs[name]()
                times.append(time.perf_counter() - start)
            columns[name].append(1e3 * statistics.median(times))
            row.append(columns[name][-1])
        print(f"{case.name:22s} {row[0]:8.0f} {row[1]:9.0f} {row[2]:8.0f}")
    print("-" * len(header))
    base = statistics.median(columns["lines"])
    for name, values in columns.items():
        print(f"median {name:9s}: {statistics.median(values):6.0f} ms  ({statistics.median(values) / base:.2f}x lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
