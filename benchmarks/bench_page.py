"""Time from opening the one-file page to ``window.sceneReady`` (first frame drawn), median over runs.

    .venv/bin/python benchmarks/bench_page.py [--runs 5] [--objects 50]

Builds two pages with ``room3d build`` from samples/living_01: the sample as it is, and the same photo with a
synthetic grounding of ``--objects`` boxes; opens each ``--runs`` times in headless Chromium (software WebGL,
SwiftShader: slower than a laptop's GPU, so an upper bound) and prints one table. Time = the page's own
``performance.now()`` when sceneReady is set (from navigation start: parsing, GLB decode, scene set-up, first
frame).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

#: Labels of the synthetic objects: every one a category with a furniture shape (pipeline/export/shapes.py).
LABELS = ["chair", "table", "lamp", "plant", "stool", "cabinet", "shelf", "armchair", "nightstand", "side table"]


def synthetic_grounding(count: int, width: int, height: int) -> list[dict]:
    """``count`` small boxes on a grid over the lower half of the photo (pixel coordinates)."""
    cols = 10
    rows = -(-count // cols)
    cell_w, cell_h = width / cols, (height * 0.45) / rows
    out = []
    for i in range(count):
        r, c = divmod(i, cols)
        x1, y1 = c * cell_w + 3, height * 0.5 + r * cell_h + 2
        out.append({"bbox_2d": [round(x1), round(y1), round(x1 + cell_w - 6), round(y1 + cell_h - 4)],
                    "label": LABELS[i % len(LABELS)]})
    return out


def build_pages(workdir: Path, objects: int) -> dict[str, Path]:
    from PIL import Image

    from pipeline.cli import main

    sample = ROOT / "samples" / "living_01"
    pages = {}
    assert main(["build", str(sample / "photo.png"), "-o", str(workdir / "sample"),
                 "--grounding", str(sample / "grounding.qwen2_5.json")]) == 0
    pages["living_01"] = workdir / "sample" / "index.html"
    with Image.open(sample / "photo.png") as image:
        width, height = image.size
    grounding = workdir / "many.json"
    grounding.write_text(json.dumps(synthetic_grounding(objects, width, height)))
    assert main(["build", str(sample / "photo.png"), "-o", str(workdir / "many"), "--grounding", str(grounding),
                 "--grounding-format", "pixels"]) == 0
    pages[f"{objects} objects"] = workdir / "many" / "index.html"
    return pages


def time_page(browser, path: Path, runs: int) -> tuple[list[float], int, int]:
    from tests.viewer_tools import viewer_page

    times, count, shaped = [], 0, 0
    for _ in range(runs):
        with viewer_page(browser, path) as (page, log):
            times.append(page.evaluate("window.room3dReadyMs"))
            count = page.evaluate("room3d.objectCount")
            shaped = page.evaluate("room3d.shapeCount")
            if not log.clean:
                raise SystemExit(f"{path}: console errors {log.console}")
    return times, count, shaped


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--objects", type=int, default=50)
    args = parser.parse_args(argv)
    from tests.viewer_tools import chromium

    with tempfile.TemporaryDirectory() as tmp:
        pages = build_pages(Path(tmp), args.objects)
        print(f"headless Chromium, SwiftShader (CPU) WebGL, 1280x800; {args.runs} runs per page")
        print(f"{'page':<14}{'objects':>8}{'shaped':>8}{'size KiB':>10}{'median ms':>11}{'min ms':>8}{'max ms':>8}")
        started = time.perf_counter()
        with chromium() as browser:
            time_page(browser, pages["living_01"], 1)  # warm-up (browser start, disk cache)
            for name, path in pages.items():
                times, count, shaped = time_page(browser, path, args.runs)
                print(f"{name:<14}{count:>8}{shaped:>8}{path.stat().st_size / 1024:>10.0f}"
                      f"{statistics.median(times):>11.0f}"
                      f"{min(times):>8.0f}{max(times):>8.0f}")
        print(f"(wall {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
