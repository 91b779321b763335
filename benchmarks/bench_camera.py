"""Time of ``vanishing.estimate_manhattan`` (lines -> focal, pitch, roll, room yaw) on one core.

    .venv/bin/python benchmarks/bench_camera.py [--repeats 7] [samples/<scene> ...]

For each sample photo: at its own size and upscaled to 12 MP (4000 x 3000, or 3000 x 4000 for a portrait photo),
with the focal free and with it given. Prints one table row per case with the median over repeats (and the
fastest), plus the time of reading the lines alone (grayscale, INTER_AREA downscale, LSD, thin-line merge).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# One core: numpy's BLAS too (set before numpy is imported), as well as OpenCV (below).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLES = ("living_01", "dining_01", "office_01", "bedroom_03_portrait")


def _timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up (imports, OpenCV allocations)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("samples", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)

    import cv2
    import numpy as np
    from PIL import Image

    from pipeline.camera.vanishing import detect_segments, estimate_manhattan

    cv2.setNumThreads(1)  # one core, as the pipeline's budget assumes
    samples = args.samples or [ROOT / "samples" / name for name in DEFAULT_SAMPLES]
    samples = [s for s in samples if (s / "photo.png").is_file()]
    if not samples:
        print("no samples found", file=sys.stderr)
        return 2

    print(f"estimate_manhattan, cv2.setNumThreads(1), median (min) of {args.repeats} runs, milliseconds")
    header = (f"{'scene':22s} {'size':>11s} {'focal':>6s} {'total':>15s} {'lines only':>15s} "
              f"{'segments':>8s} {'conf':>5s}")
    print(header)
    print("-" * len(header))
    totals: dict[str, list[float]] = {}
    for sample in samples:
        rgb = np.asarray(Image.open(sample / "photo.png").convert("RGB"))
        height, width = rgb.shape[:2]
        big_size = (4000, 3000) if width >= height else (3000, 4000)
        big = cv2.resize(rgb, big_size, interpolation=cv2.INTER_CUBIC)
        for label, image in (("own", rgb), ("12MP", big)):
            h, w = image.shape[:2]
            free = estimate_manhattan(image)
            focal = free.focal_px if free is not None and free.focal_px is not None else 0.8 * max(w, h)
            for focal_label, given in (("free", None), ("given", focal)):
                times = _timed(lambda: estimate_manhattan(image, focal_px=given), args.repeats)
                lines = _timed(lambda: detect_segments(image), args.repeats)
                result = estimate_manhattan(image, focal_px=given)
                median = 1e3 * statistics.median(times)
                totals.setdefault(f"{label} {focal_label}", []).append(median)
                print(f"{sample.name:22s} {f'{w}x{h}':>11s} {focal_label:>6s} "
                      f"{median:8.1f} ({1e3 * min(times):4.1f}) "
                      f"{1e3 * statistics.median(lines):8.1f} ({1e3 * min(lines):4.1f}) "
                      f"{0 if result is None else len(result.segments_px):8d} "
                      f"{0.0 if result is None else result.confidence:5.2f}")
    print("-" * len(header))
    for key, values in totals.items():
        print(f"median over scenes, {key:12s}: {statistics.median(values):6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
