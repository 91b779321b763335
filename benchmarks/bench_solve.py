"""Solver time for scenes of 1, 10, 20, 50 (and more) objects: median over repeats, one core.

    .venv/bin/python -m benchmarks.bench_solve [--repeats 5] [--counts 1 10 20 50 200]   (from the repo root)

Scenes are synthetic (tests/synthetic.py): objects of known categories on the floor of a hall (14 m deep, deeper for more than 50 objects), seen by a
camera at 1.45 m pitched down 12 degrees; their exact 2D boxes are the input. The camera height is a prior, so the
scale refinement runs as it does on a user's photo. Objects are placed so that they do not interpenetrate (as in a
room); the joint refinement still runs wherever the independent fits overlap. The last columns solve the same
scene with its ray-cast metric depth map (1024 x 768, a sensor's: every object is then measured from its own
points, solve/depth_fit.py), in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

# one core: BLAS threads would only spin on these small systems (and are slower on a busy machine)
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402


LABELS = ["chair", "nightstand", "armchair", "plant", "side table", "dresser", "bookshelf", "sofa", "bed", "desk"]


def scene_with(count: int, seed: int = 0):
    from tests.synthetic import make_scene, on_floor

    rng = np.random.default_rng(seed)
    far = max(16.0, 2.5 + 3.0 * count ** 0.5)  # a hall that grows with the count (500 objects: 70 m deep)
    boxes = []
    for i in range(count):
        for _ in range(1000):  # in view, and not inside another box (a room's furniture does not interpenetrate)
            x, z = rng.uniform(-0.35 * far, 0.35 * far), rng.uniform(-far, -2.5)
            box = on_floor(LABELS[i % len(LABELS)], x, z, yaw_deg=float(rng.choice([0.0, 90.0])))
            lo, hi = box.corners_m.min(axis=0), box.corners_m.max(axis=0)
            if abs(x) < 0.35 * abs(z) and not any(
                    np.all(np.minimum(hi, other.corners_m.max(axis=0)) > np.maximum(lo, other.corners_m.min(axis=0)))
                    for other in boxes):
                boxes.append(box)
                break
        else:
            raise RuntimeError(f"no free spot for object {i} of {count}")
    return make_scene(boxes)


def main(argv=None) -> int:
    import cv2

    from pipeline.camera import estimate_camera
    from pipeline.records import Photo
    from pipeline.solve import solve

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 10, 20, 50])
    args = parser.parse_args(argv)
    cv2.setNumThreads(1)
    from tests.synthetic import rendered_depth

    print(f"{'objects':>8}{'median ms':>12}{'ms/object':>11}{'min ms':>9}{'+depth ms':>12}{'ratio':>8}")
    for count in args.counts:
        truth = scene_with(count)
        photo = Photo(path=None, rgb=np.zeros((768, 1024, 3), np.uint8))
        camera = estimate_camera(photo, focal_px=800.0, pitch_deg=truth.pitch_deg, roll_deg=truth.roll_deg,
                                 use_lines=False)
        grounding = truth.grounding()
        depth = rendered_depth(truth)
        solve(grounding, camera)  # warm up (imports)
        solve(grounding, camera, depth=depth)
        times, with_depth = [], []
        for _ in range(args.repeats):  # alternating, so that a busy machine slows both alike
            start = time.perf_counter()
            solve(grounding, camera)
            times.append(time.perf_counter() - start)
            start = time.perf_counter()
            solve(grounding, camera, depth=depth)
            with_depth.append(time.perf_counter() - start)
        median, median_depth = statistics.median(times), statistics.median(with_depth)
        print(f"{count:>8}{1000 * median:>12.1f}{1000 * median / count:>11.2f}{1000 * min(times):>9.1f}"
              f"{1000 * median_depth:>12.1f}{median_depth / median:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
