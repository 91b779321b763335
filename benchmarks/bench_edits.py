"""What one correction does on real photos: ``room3d build --edits`` with the worst object put right.

    .venv/bin/python benchmarks/bench_edits.py [REALDEV_DIR] [--depth]

For each case of the real-photo dev set beside the repository (``../shared/realdev``; only read, never copied), as
a user would: build the scene from the photo alone (with ``--depth``: with its sensor depth too), pick the object
placed worst (the largest centre error of those the scene has), set its box to the truth as the page would (the
true box seen in the scene's own frame, made upright: the page's boxes are upright), and solve again with that
edit (``pipeline.edits``, the scene's camera). Prints, per case and in total, the corrected object's 3D IoU before
and after, and the other objects' mean IoU before and after: the solve around a correction must not make the
others worse. One run, side by side.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def upright_box(corners: np.ndarray) -> tuple[list, list, float]:
    """``(center, size, yaw)`` of the smallest upright box (world +Y up) around (8, 3) corners: its footprint is the
    smallest rectangle around the corners seen from above (one side along an edge of their hull)."""
    from pipeline.evaluate import convex_hull_2d

    xz = corners[:, [0, 2]]
    hull = convex_hull_2d(xz)
    best = None
    for k in range(len(hull)):
        edge = hull[(k + 1) % len(hull)] - hull[k]
        angle = math.atan2(edge[1], edge[0])
        c, s = math.cos(angle), math.sin(angle)
        local = xz @ np.array([[c, -s], [s, c]])  # along the edge, across it
        low, high = local.min(axis=0), local.max(axis=0)
        area = float(np.prod(high - low))
        if best is None or area < best[0]:
            middle = 0.5 * (low + high)
            best = (area, angle, high - low, np.array([[c, -s], [s, c]]) @ middle)
    _, angle, extent, middle = best
    y_low, y_high = corners[:, 1].min(), corners[:, 1].max()
    # the box's own x along the edge: world x = cos(yaw) x_local (frames.box_corners), so yaw = -angle
    center = [float(middle[0]), float(0.5 * (y_low + y_high)), float(middle[1])]
    return center, [float(extent[0]), float(y_high - y_low), float(extent[1])], -angle


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("realdev", nargs="?", type=Path, default=ROOT.parent / "shared" / "realdev")
    parser.add_argument("--depth", action="store_true", help="give each case its sensor depth (depth.png)")
    args = parser.parse_args(argv)
    from pipeline import frames
    from pipeline.edits import parse_edits
    from pipeline.evaluate import _read_truth, case_inputs, find_cases, score_realdev_case, solve_inputs

    if not args.realdev.is_dir():
        raise SystemExit(f"no realdev at {args.realdev}")
    _, cases = find_cases([args.realdev])
    started = time.perf_counter()
    rows = []
    print(f"realdev, {'photo + sensor depth' if args.depth else 'photo alone'}: the worst-placed object set to its "
          "true box, the scene solved again")
    print(f"{'case':<22}{'fixed':<14}{'IoU before':>11}{'after':>7}{'others before':>15}{'after':>7}{'n':>4}")
    for case in cases:
        truth = _read_truth(case)
        inputs = case_inputs(case / "photo.jpg", case / "grounding.qwen3.json", {},
                             case / "depth.png" if args.depth else None)
        first = solve_inputs(inputs)
        _, before = score_realdev_case(case.name, truth, first)
        placed = [s for s in before if s.predicted]
        if len(placed) < 2:
            continue
        worst = max(placed, key=lambda s: s.center_error_m)
        # the true box in the scene's world (through the scene's camera), made upright as the page's boxes are
        world_from_camera = np.array(first["camera"]["world_from_camera"])
        true_up = np.array(truth["objects"]["label"][worst.index]["upright"]["corners"], dtype=float)
        true_world = frames.transform_points(world_from_camera, frames.camera_from_upright(true_up, truth["Rtilt"]))
        center, size, yaw = upright_box(true_world)
        edits = parse_edits({"camera": first["camera"], "objects": [
            {"detection_index": worst.index, "center": center, "size": size, "yaw": yaw}]}, "bench")
        again = solve_inputs(inputs, edits)
        _, after = score_realdev_case(case.name, truth, again)
        others = [i for i, s in enumerate(before) if i != worst.index]
        row = (before[worst.index].iou, after[worst.index].iou, statistics.mean(before[i].iou for i in others),
               statistics.mean(after[i].iou for i in others), len(others))
        rows.append(row)
        print(f"{case.name:<22}{worst.label[:13]:<14}{row[0]:>11.3f}{row[1]:>7.3f}{row[2]:>15.3f}{row[3]:>7.3f}"
              f"{row[4]:>4}")
    weights = [r[4] for r in rows]
    others_before = sum(r[2] * w for r, w in zip(rows, weights)) / sum(weights)
    others_after = sum(r[3] * w for r, w in zip(rows, weights)) / sum(weights)
    print(f"{'all (' + str(len(rows)) + ' cases)':<36}{statistics.mean(r[0] for r in rows):>11.3f}"
          f"{statistics.mean(r[1] for r in rows):>7.3f}{others_before:>15.3f}{others_after:>7.3f}{sum(weights):>4}")
    better = sum(r[3] > r[2] + 1e-3 for r in rows)
    worse = sum(r[3] < r[2] - 1e-3 for r in rows)
    print(f"the others' mean IoU: better in {better} cases, worse in {worse}, the same in {len(rows) - better - worse}"
          f" (wall {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
