"""Time of the spatial relations (pipeline/relations.py) for scenes of 10, 50 and 200 objects: median over repeats.

    .venv/bin/python -m benchmarks.bench_relations [--repeats 5] [--counts 10 50 200]   (from the repo root)

Objects are boxes of random sizes at random yaws on a 6 x 5 m floor, with a back wall.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np


def scene_with(count: int, seed: int = 1) -> dict:
    from pipeline import frames
    from pipeline.records import Wall

    rng = np.random.default_rng(seed)
    objects = []
    for k in range(count):
        size = rng.uniform(0.3, 2.0, 3)
        center = [rng.uniform(-3, 3), 0.5 * size[1], rng.uniform(-6, -1)]
        yaw = rng.uniform(-math.pi, math.pi)
        objects.append({"name": f"o{k}", "label": f"o{k}", "center": center, "size": size.tolist(), "yaw": yaw,
                        "corners": frames.box_corners(center, size, yaw).tolist()})
    corners = [[-3, 0, -6.5], [3, 0, -6.5], [3, 2.6, -6.5], [-3, 2.6, -6.5]]
    wall = {"name": "wall_back", "corners": corners, "plane": Wall("wall_back", corners).plane.tolist()}
    camera = frames.world_from_camera_from_attitude(-0.2, 0.0, 1.4, 0.0)
    return {"objects": objects, "camera": {"world_from_camera": camera.tolist()}, "room": {"walls": [wall]}}


def main(argv=None) -> int:
    from pipeline.relations import relations

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--counts", type=int, nargs="+", default=[10, 50, 200])
    args = parser.parse_args(argv)
    print(f"{'objects':>8}{'median ms':>12}{'pairs':>8}")
    for count in args.counts:
        scene = scene_with(count)
        pairs = len(relations(scene)["pairs"])
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            relations(scene)
            times.append(time.perf_counter() - start)
        print(f"{count:>8}{1000 * statistics.median(times):>12.1f}{pairs:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
