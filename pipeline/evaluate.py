"""Measure solved scenes against ground truth (the ``truth.json`` of the samples): ``room3d eval``.

Objects are matched by detection index (the samples' grounding lists objects in truth order). Per object: 3D IoU of
the upright oriented boxes, centre error, size error, yaw error (modulo pi: a box turned by pi is the same box).
Per scene: focal relative error, gravity angle error, camera height error.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frames

GIVEN_CHOICES = ("none", "k", "camera")


def polygon_area(points: np.ndarray) -> float:
    """Area of a simple polygon (N, 2) (shoelace formula)."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection of two convex polygons (N, 2), (M, 2) by Sutherland-Hodgman clipping."""
    def side(p, a, b):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])

    orientation = 1.0 if side(clip[2], clip[0], clip[1]) > 0 else -1.0
    output = list(subject)
    for i in range(len(clip)):
        a, b = clip[i], clip[(i + 1) % len(clip)]
        points, output = output, []
        for j, p in enumerate(points):
            q = points[(j + 1) % len(points)]
            p_in, q_in = orientation * side(p, a, b) >= 0, orientation * side(q, a, b) >= 0
            if p_in:
                output.append(p)
            if p_in != q_in:
                sp, sq = side(p, a, b), side(q, a, b)
                output.append(p + (q - p) * (sp / (sp - sq)))
        if not output:
            return np.zeros((0, 2))
    return np.array(output)


def polygon_iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two convex polygons (N, 2), (M, 2)."""
    overlap = clip_convex(a, b)
    inter = polygon_area(overlap) if len(overlap) >= 3 else 0.0
    union = polygon_area(a) + polygon_area(b) - inter
    return float(inter / union) if union > 0 else 0.0


def upright_box_iou(corners_a: np.ndarray, corners_b: np.ndarray) -> float:
    """3D IoU of two upright oriented boxes given as (8, 3) corners (CONVENTIONS.md order)."""
    footprint = [0, 1, 5, 4]
    poly_a, poly_b = corners_a[footprint][:, [0, 2]], corners_b[footprint][:, [0, 2]]
    overlap = clip_convex(poly_a, poly_b)
    area = polygon_area(overlap) if len(overlap) >= 3 else 0.0
    height = max(0.0, min(corners_a[:, 1].max(), corners_b[:, 1].max()) - max(corners_a[:, 1].min(),
                                                                               corners_b[:, 1].min()))
    inter = area * height
    vol_a = polygon_area(poly_a) * np.ptp(corners_a[:, 1])
    vol_b = polygon_area(poly_b) * np.ptp(corners_b[:, 1])
    union = vol_a + vol_b - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass(frozen=True)
class ObjectScore:
    scene: str
    label: str
    iou: float
    center_error_m: float
    size_error_m: float
    yaw_error_deg: float


@dataclass(frozen=True)
class CameraScore:
    scene: str
    intrinsics_source: str
    focal_error: float
    gravity_error_deg: float
    height_error: float
    floor_iou: float
    room_yaw_error_deg: float
    objects_in_truth: int = 0


def score_scene(name: str, truth: dict, solved: dict) -> tuple[CameraScore, list[ObjectScore]]:
    """Compare a ``scene.json``-shaped dict with a ``truth.json`` dict."""
    t_cam, s_cam = truth["camera"], solved["camera"]
    r_true = np.array(t_cam["world_from_camera"])[:3, :3]
    r_est = np.array(s_cam["world_from_camera"])[:3, :3]
    up_true, up_est = r_true.T @ [0.0, 1.0, 0.0], r_est.T @ [0.0, 1.0, 0.0]
    gravity = math.degrees(math.acos(float(np.clip(up_true @ up_est, -1.0, 1.0))))
    camera = CameraScore(
        scene=name,
        intrinsics_source=s_cam["intrinsics_source"],
        focal_error=abs(s_cam["fx"] - t_cam["fx"]) / t_cam["fx"],
        gravity_error_deg=gravity,
        height_error=abs(s_cam["height_m"] - t_cam["height_m"]) / t_cam["height_m"],
        floor_iou=polygon_iou(np.array(solved["room"]["floor_polygon"]), np.array(truth["room"]["floor_polygon"])),
        room_yaw_error_deg=math.degrees(abs(frames.wrap_angle(4 * (s_cam.get("room_yaw_rad", 0.0)
                                                                  - truth["room"].get("yaw", 0.0))) / 4)),
        objects_in_truth=len(truth["objects"]),
    )
    objects = []
    for obj in solved["objects"]:
        index = obj["detection_index"]
        if not 0 <= index < len(truth["objects"]):
            continue
        true = truth["objects"][index]
        c_true, s_true, y_true = frames.box_from_corners(np.array(true["corners"]))
        size_est, yaw_delta = np.array(obj["size"]), frames.wrap_angle(obj["yaw"] - y_true)
        if abs(math.cos(yaw_delta)) < abs(math.sin(yaw_delta)):  # quarter turn: width and depth swap roles
            size_est = size_est[[2, 1, 0]]
            yaw_delta = frames.wrap_angle(yaw_delta - math.pi / 2)
        objects.append(ObjectScore(
            scene=name,
            label=obj["label"],
            iou=upright_box_iou(np.array(obj["corners"]), np.array(true["corners"])),
            center_error_m=float(np.linalg.norm(np.array(obj["center"]) - c_true)),
            size_error_m=float(np.abs(size_est - s_true).mean()),
            yaw_error_deg=math.degrees(abs(frames.wrap_angle(2 * yaw_delta) / 2)),
        ))
    return camera, objects


def solve_sample(sample: Path, given: str = "none", grounding_name: str = "grounding.qwen3.json",
                 depth_name: str | None = None) -> dict:
    """Run the pipeline in memory on a sample folder; returns the ``scene.json`` dict (nothing is written).
    ``depth_name`` (e.g. ``depth.png``, the sample's metric depth) adds that depth map, as ``--depth file:``."""
    from .camera import estimate_camera
    from .export.manifest import scene_manifest
    from .grounding import read_grounding
    from .photo import load_photo
    from .solve import solve

    truth = json.loads((sample / "truth.json").read_text())
    photo = load_photo(sample / "photo.png")
    grounding = read_grounding(sample / grounding_name, photo.width_px, photo.height_px)
    flags = {}
    if given in ("k", "camera"):
        flags["focal_px"] = truth["camera"]["fx"]
    if given == "camera":
        flags.update(camera_height_m=truth["camera"]["height_m"], pitch_deg=truth["camera"]["pitch_deg"],
                     roll_deg=truth["camera"]["roll_deg"])
    camera = estimate_camera(photo, **flags)
    depth = scale = None
    if depth_name is not None:
        from .depth import depth_for_scene, depth_scale, load_depth

        depth = load_depth(f"file:{sample / depth_name}", photo)
        depth, record = depth_for_scene(depth, camera)
        scale = depth_scale(record)
    scene = solve(grounding, camera, depth=depth, depth_scale=scale)
    return scene_manifest(scene, grounding, {"photo": str(sample / "photo.png")}, {})


def evaluate(samples: list[Path], given: str = "none", depth_name: str | None = None
             ) -> tuple[list[CameraScore], list[ObjectScore]]:
    cameras, objects = [], []
    for sample in samples:
        truth = json.loads((sample / "truth.json").read_text())
        camera, scores = score_scene(sample.name, truth, solve_sample(sample, given, depth_name=depth_name))
        cameras.append(camera)
        objects.extend(scores)
    return cameras, objects


def report(cameras: list[CameraScore], objects: list[ObjectScore], given: str, per_object: bool = False) -> str:
    """A plain-text table per scene and in total (medians; means and recalls for IoU; recalls over the objects in
    the truth, so an object the pipeline dropped counts as missed); with ``per_object`` a row per object."""
    lines = [f"given: {given}",
             f"{'scene':<22}{'K from':<17}{'focal err':>10}{'grav deg':>9}{'height err':>11}{'floor IoU':>10}"
             f"{'yaw deg':>8}{'objs':>5}"
             f"{'mean IoU':>9}{'med ctr m':>10}{'med size m':>11}{'med yaw':>8}"]
    for camera in cameras:
        mine = [o for o in objects if o.scene == camera.scene]
        lines.append(
            f"{camera.scene:<22}{camera.intrinsics_source:<17}{100 * camera.focal_error:>9.1f}%"
            f"{camera.gravity_error_deg:>9.2f}{100 * camera.height_error:>10.1f}%{camera.floor_iou:>10.2f}"
            f"{camera.room_yaw_error_deg:>8.1f}{len(mine):>5}"
            + (f"{statistics.mean(o.iou for o in mine):>9.2f}{statistics.median(o.center_error_m for o in mine):>10.2f}"
               f"{statistics.median(o.size_error_m for o in mine):>11.2f}"
               f"{statistics.median(o.yaw_error_deg for o in mine):>8.1f}" if mine else ""))
    if cameras:
        lines.append(
            f"{'median (all)':<22}{'':<17}{100 * statistics.median(c.focal_error for c in cameras):>9.1f}%"
            f"{statistics.median(c.gravity_error_deg for c in cameras):>9.2f}"
            f"{100 * statistics.median(c.height_error for c in cameras):>10.1f}%"
            f"{statistics.median(c.floor_iou for c in cameras):>10.2f}"
            f"{statistics.median(c.room_yaw_error_deg for c in cameras):>8.1f}{len(objects):>5}"
            + (f"{statistics.mean(o.iou for o in objects):>9.2f}"
               f"{statistics.median(o.center_error_m for o in objects):>10.2f}"
               f"{statistics.median(o.size_error_m for o in objects):>11.2f}"
               f"{statistics.median(o.yaw_error_deg for o in objects):>8.1f}" if objects else ""))
    if objects:
        total = sum(c.objects_in_truth for c in cameras) or len(objects)  # an object not solved counts as missed
        recall = {t: sum(o.iou >= t for o in objects) / total for t in (0.15, 0.25, 0.5)}
        within = sum(o.center_error_m <= 0.5 for o in objects) / total
        lines.append("recall at IoU " + ", ".join(f"{t}: {100 * r:.0f}%" for t, r in recall.items())
                     + f"; centres within 0.5 m: {100 * within:.0f}% (of {total} objects in the truth)")
    if per_object:
        lines.append(f"{'scene':<22}{'object':<24}{'IoU':>6}{'centre m':>10}{'size m':>8}{'yaw deg':>9}")
        for o in objects:
            label = o.label if len(o.label) <= 22 else o.label[:21] + "…"
            lines.append(f"{o.scene:<22}{label:<24}{o.iou:>6.2f}{o.center_error_m:>10.2f}{o.size_error_m:>8.2f}"
                         f"{o.yaw_error_deg:>9.1f}")
    return "\n".join(lines)
