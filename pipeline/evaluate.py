"""Measure solved scenes against ground truth: ``room3d eval``.

Two kinds of case folders (:func:`find_cases` tells them apart):

* **samples** (``samples/*``: ``photo.png`` and a ``truth.json`` of CONVENTIONS.md's sample format). Objects are
  matched by detection index (the samples' grounding lists objects in truth order). Per object: 3D IoU of the
  upright oriented boxes, centre error, size error, yaw error (modulo pi: a box turned by pi is the same box). Per
  scene: focal relative error, gravity angle error, camera height error.
* **realdev** (``../shared/realdev/*``: real ScanNet frames, ``photo.jpg`` and a ``truth.json`` with ``K``,
  ``Rtilt`` and ``up_cam_opencv``; its README gives the formats). Scored as its ``score.py`` scores a
  ``scene.json`` (:func:`score_realdev_case`): the predicted corners go into the true upright frame (z up) through
  the *predicted* camera pose; IoU = footprint hulls intersected x overlap of the height ranges; centre and range
  errors. Per case: gravity error (degrees between the predicted and the true up in the camera), focal error
  (relative), camera height error, and where the intrinsics and the attitude came from; and the room's layout
  against the sensor's depth where no object's 2D box is (:mod:`.room_depth`).
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import frames
from .errors import UserError
from .records import CameraEstimate, DepthMap, DepthScale, Grounding, Photo

GIVEN_CHOICES = ("none", "k", "camera")
#: Kinds of case folders :func:`find_cases` recognises.
CASE_KINDS = ("samples", "realdev")
#: IoU levels of the recall figures (those of realdev's score.py).
RECALL_IOUS = (0.15, 0.25, 0.5)
#: Gravity errors (degrees) and relative focal errors the realdev summary counts the cases within.
GRAVITY_WITHIN_DEG = (2.0, 5.0, 15.0)
FOCAL_WITHIN = (0.10, 0.25)


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


@dataclass(frozen=True)
class CaseInputs:
    """What the solve of one case starts from, as ``room3d build`` makes it: the grounding, the estimated camera
    and the depth map as the scene uses it (None without one) with the scale its floor measures."""

    photo: Photo
    grounding: Grounding
    camera: CameraEstimate
    depth: DepthMap | None
    depth_scale: DepthScale | None


def case_inputs(photo_path: Path, grounding_path: Path, flags: dict, depth_path: Path | None = None,
                crop: float | None = None) -> CaseInputs:
    """Read one photo, its grounding and depth and estimate its camera as ``room3d build`` does (nothing is
    written). ``flags`` are :func:`~pipeline.camera.estimate_camera`'s (``focal_px``, ``pitch_deg``, ...);
    ``depth_path`` is a metric depth file (as ``--depth file:``), given to the camera and to the solver. ``crop``:
    the centred crop of this fraction of each side instead (photo, boxes and depth cropped alike), as a user's crop
    of the photo would be: the same camera, its principal point still near the centre, a narrower view."""
    from .camera import estimate_camera
    from .grounding import read_grounding
    from .photo import load_photo

    photo = load_photo(photo_path)
    grounding = read_grounding(grounding_path, photo.width_px, photo.height_px)
    depth = scale = None
    if depth_path is not None:
        from .depth import load_depth

        depth = load_depth(f"file:{depth_path}", photo)
    if crop is not None:
        photo, grounding, depth = crop_centre(photo, grounding, depth, crop)
    camera = estimate_camera(photo, depth=depth, detections=grounding.detections, **flags)
    if depth is not None:
        from .depth import depth_for_scene, depth_scale

        depth, record = depth_for_scene(depth, camera)
        scale = depth_scale(record)
    return CaseInputs(photo, grounding, camera, depth, scale)


def solve_case(photo_path: Path, grounding_path: Path, flags: dict, depth_path: Path | None = None,
               crop: float | None = None) -> dict:
    """Run the pipeline in memory on one photo as ``room3d build`` does; returns the ``scene.json`` dict (nothing
    is written). The arguments are :func:`case_inputs`'s."""
    return solve_inputs(case_inputs(photo_path, grounding_path, flags, depth_path, crop),
                        inputs={"photo": str(photo_path)})


def solve_inputs(case: CaseInputs, edits=None, notes: list[str] | None = None, inputs: dict | None = None) -> dict:
    """The ``scene.json`` dict of a case solved as ``room3d build`` solves it; with ``edits`` (an
    :class:`~pipeline.edits.Edits`) as ``room3d build --edits`` does, ``notes`` getting what the edits could not do
    as asked. ``inputs``: the manifest's ``inputs`` block."""
    from .export.manifest import scene_manifest
    from .solve import solve

    grounding, fixed, extra, pinned = case.grounding, None, (), None
    if edits is not None:
        from .edits import edited_camera, edited_grounding

        pinned = None if edits.camera is None else edited_camera(case.camera, edits)
        grounding, fixed, extra = edited_grounding(grounding, edits, pinned or case.camera,
                                                   [] if notes is None else notes)
    scene = solve(grounding, case.camera, depth=case.depth, depth_scale=case.depth_scale, fixed=fixed,
                  extra=tuple(extra), pinned_camera=pinned)
    return scene_manifest(scene, grounding, inputs or {}, {})


def crop_centre(photo: Photo, grounding: Grounding, depth: DepthMap | None,
                fraction: float) -> tuple[Photo, Grounding, DepthMap | None]:
    """The centred crop keeping ``fraction`` of each side: the photo (its 35 mm-equivalent EXIF focal no longer
    holds and is dropped; a focal in pixels still does), the grounding's boxes (shifted, clipped, those left
    outside dropped) and the depth map."""
    import dataclasses

    height, width = photo.height_px, photo.width_px
    w, h = max(16, round(width * fraction)), max(16, round(height * fraction))
    x0, y0 = (width - w) // 2, (height - h) // 2
    photo = dataclasses.replace(photo, rgb=np.ascontiguousarray(photo.rgb[y0:y0 + h, x0:x0 + w]), focal_35mm_mm=None)
    detections = []
    for detection in grounding.detections:
        x1, y1, x2, y2 = detection.box_xyxy_px
        box = (max(x1 - x0, 0.0), max(y1 - y0, 0.0), min(x2 - x0, float(w)), min(y2 - y0, float(h)))
        if box[2] > box[0] + 1 and box[3] > box[1] + 1:
            detections.append(dataclasses.replace(detection, box_xyxy_px=box))
    grounding = dataclasses.replace(grounding, detections=tuple(detections))
    if depth is not None:
        depth = dataclasses.replace(depth, values=np.ascontiguousarray(depth.values[y0:y0 + h, x0:x0 + w]),
                                    valid=np.ascontiguousarray(depth.valid[y0:y0 + h, x0:x0 + w]))
    return photo, grounding, depth


def solve_sample(sample: Path, given: str = "none", grounding_name: str = "grounding.qwen3.json",
                 depth_name: str | None = None) -> dict:
    """Run the pipeline in memory on a sample folder; returns the ``scene.json`` dict (nothing is written).
    ``depth_name`` (e.g. ``depth.png``, the sample's metric depth) adds that depth map, as ``--depth file:``."""
    truth = json.loads((sample / "truth.json").read_text())
    flags = {}
    if given in ("k", "camera"):
        flags["focal_px"] = truth["camera"]["fx"]
    if given == "camera":
        flags.update(camera_height_m=truth["camera"]["height_m"], pitch_deg=truth["camera"]["pitch_deg"],
                     roll_deg=truth["camera"]["roll_deg"])
    return solve_case(sample / "photo.png", sample / grounding_name, flags,
                      None if depth_name is None else sample / depth_name)


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
             (f"{'scene':<22}{'K from':<17}{'focal err':>10}{'grav deg':>9}{'height err':>11}{'floor IoU':>10}"
              f"{'yaw deg':>8}{'objs':>5}"
              f"{'mean IoU':>9}{'med ctr m':>10}{'med size m':>11}{'med yaw':>8}")]
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


def sample_summary(cameras: list[CameraScore], objects: list[ObjectScore]) -> dict:
    """The figures of :func:`report`'s total line, as a dict (``room3d eval --json``): medians over scenes, mean
    IoU, recalls and centres within 0.5 m over the objects in the truth."""
    total = sum(c.objects_in_truth for c in cameras) or len(objects)
    summary = {
        "cases": len(cameras),
        "objects_in_truth": total,
        "objects_solved": len(objects),
        "focal_error_median": _median([c.focal_error for c in cameras]),
        "gravity_error_deg_median": _median([c.gravity_error_deg for c in cameras]),
        "height_error_median": _median([c.height_error for c in cameras]),
        "floor_iou_median": _median([c.floor_iou for c in cameras]),
        "room_yaw_error_deg_median": _median([c.room_yaw_error_deg for c in cameras]),
        "mean_iou_solved": _mean([o.iou for o in objects]),
        "center_error_m_median": _median([o.center_error_m for o in objects]),
        "size_error_m_median": _median([o.size_error_m for o in objects]),
        "yaw_error_deg_median": _median([o.yaw_error_deg for o in objects]),
        "centers_within_0.5m": sum(o.center_error_m <= 0.5 for o in objects) / total if total else None,
    }
    summary.update({f"recall@{t:.2f}": sum(o.iou >= t for o in objects) / total if total else None
                    for t in RECALL_IOUS})
    return summary


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _mean(values: list[float]) -> float | None:
    return float(statistics.fmean(values)) if values else None


# ---------------------------------------------------------------------------------------------- case folders


def is_realdev_case(folder: Path) -> bool:
    """A realdev case folder: ``photo.jpg`` and a ``truth.json`` that has ``K`` and ``up_cam_opencv``."""
    if not ((folder / "photo.jpg").is_file() and (folder / "truth.json").is_file()):
        return False
    truth = _read_truth(folder)
    return isinstance(truth, dict) and "K" in truth and "up_cam_opencv" in truth


def find_cases(paths: list[Path]) -> tuple[str, list[Path]]:
    """The kind (``samples`` or ``realdev``) and the case folders of ``paths``: each a case folder or a folder
    holding case folders. Raises :class:`UserError` when there are none or the kinds are mixed."""
    found: dict[str, list[Path]] = {kind: [] for kind in CASE_KINDS}

    def classify(folder: Path) -> str | None:
        if is_realdev_case(folder):
            return "realdev"
        return "samples" if (folder / "truth.json").is_file() else None

    for path in paths:
        kind = classify(path)
        if kind is not None:
            found[kind].append(path)
        elif path.is_dir():
            for child in sorted(p for p in path.iterdir() if p.is_dir()):
                kind = classify(child)
                if kind is not None:
                    found[kind].append(child)
    kinds = [kind for kind in CASE_KINDS if found[kind]]
    if not kinds:
        raise UserError("no case folders (with a truth.json) found in " + ", ".join(map(str, paths)))
    if len(kinds) > 1:
        raise UserError(f"cannot evaluate samples ({len(found['samples'])}) and realdev cases "
                        f"({len(found['realdev'])}) in one call: give one kind at a time")
    return kinds[0], found[kinds[0]]


def _read_truth(folder: Path) -> dict:
    try:
        return json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read {folder / 'truth.json'}: {error}") from None


# ---------------------------------------------------------------------------------------------- realdev


def convex_hull_2d(points: np.ndarray) -> np.ndarray:
    """(M, 2) counter-clockwise convex hull of (N, 2) points (monotone chain; collinear points dropped; coordinates
    rounded to 1e-9 first, as realdev's score.py does). Fewer than 3 distinct points come back as they are."""
    unique = sorted(set(map(tuple, np.round(np.asarray(points, dtype=float), 9))))
    if len(unique) < 3:
        return np.array(unique, dtype=float).reshape(-1, 2)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    upper: list = []
    for chain, ordered in ((lower, unique), (upper, unique[::-1])):
        for p in ordered:
            while len(chain) >= 2 and cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
    return np.array(lower[:-1] + upper[:-1], dtype=float)


def gravity_aligned_iou(corners_a: np.ndarray, corners_b: np.ndarray) -> float:
    """IoU of two boxes given as (8, 3) corners (any order) in a **z-up** frame: the footprints (convex hulls of
    the corners seen from above) intersected, times the overlap of the z ranges, over the union of the volumes
    (each a footprint times its z range). A tilted box is measured by its hull and z range, so tilt costs IoU.
    0 for non-finite corners or a flat footprint."""
    a, b = np.asarray(corners_a, dtype=float), np.asarray(corners_b, dtype=float)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return 0.0
    hull_a, hull_b = convex_hull_2d(a[:, :2]), convex_hull_2d(b[:, :2])
    if len(hull_a) < 3 or len(hull_b) < 3:
        return 0.0
    overlap = clip_convex(hull_b, hull_a)
    area = polygon_area(overlap) if len(overlap) >= 3 else 0.0
    height = max(0.0, min(a[:, 2].max(), b[:, 2].max()) - max(a[:, 2].min(), b[:, 2].min()))
    inter = area * height
    union = polygon_area(hull_a) * float(np.ptp(a[:, 2])) + polygon_area(hull_b) * float(np.ptp(b[:, 2])) - inter
    return float(inter / max(union, 1e-12))


@dataclass(frozen=True)
class RealdevCameraScore:
    """One realdev case's camera: ``focal_error`` relative (mean of fx, fy vs the truth's), ``gravity_error_deg``
    the angle between the predicted and the true up in the camera frame, ``height_error_m`` the predicted camera
    height minus the truth's estimate (metres, signed); and its room: ``layout_log_error``, the median
    ``|log(room depth / sensor depth)|`` over the pixels no object's 2D box covers, and ``layout_within_10pct``,
    the share of them within 10 % (:func:`.room_depth.layout_depth_error`; NaN without the sensor's map)."""

    case: str
    scan: str
    intrinsics_source: str
    attitude_source: str
    focal_error: float
    gravity_error_deg: float
    height_error_m: float
    true_height_m: float
    objects_in_truth: int
    attitude_confidence: float = math.nan
    layout_log_error: float = math.nan
    layout_within_10pct: float = math.nan


@dataclass(frozen=True)
class RealdevObjectScore:
    """One true object of a realdev case. ``iou`` is 0 and the errors None when nothing was predicted for it;
    ``range_error_m`` = predicted minus true distance from the camera to the box centre (negative: too close)."""

    case: str
    index: int
    label: str
    predicted: bool
    iou: float
    center_error_m: float | None
    range_error_m: float | None
    true_range_m: float


def score_realdev_case(name: str, truth: dict, solved: dict, sensor_m: np.ndarray | None = None
                       ) -> tuple[RealdevCameraScore, list[RealdevObjectScore]]:
    """Score a ``scene.json``-shaped dict against a realdev ``truth.json`` dict, as realdev's ``score.py`` does:
    objects matched by ``detection_index`` (out of range: ignored; shared: the first counts), predicted corners
    mapped into the true upright frame through the predicted ``world_from_camera``. ``sensor_m``: the case's
    sensor depth (metres, 0 where none), for the room's layout error."""
    k_true, rtilt = np.array(truth["K"], dtype=float), np.array(truth["Rtilt"], dtype=float)
    up_true = np.array(truth["up_cam_opencv"], dtype=float)
    up_true /= np.linalg.norm(up_true)
    cam = solved["camera"]
    world_from_camera = np.array(cam["world_from_camera"], dtype=float).reshape(4, 4)
    up_est = frames.world_directions_to_camera(world_from_camera, [0.0, 1.0, 0.0])
    up_est /= max(float(np.linalg.norm(up_est)), 1e-12)
    focal_true = 0.5 * (k_true[0, 0] + k_true[1, 1])
    true_height = truth.get("camera_height_above_floor_m_est")
    est_height = cam.get("height_m", world_from_camera[1, 3])
    truths = truth["objects"]["label"]
    camera = RealdevCameraScore(
        case=name,
        scan=str(truth.get("scene", "")),
        intrinsics_source=str(cam.get("intrinsics_source", "?")),
        attitude_source=str(cam.get("attitude_source", "?")),
        focal_error=float(abs(0.5 * (float(cam["fx"]) + float(cam["fy"])) - focal_true) / focal_true),
        gravity_error_deg=math.degrees(math.acos(float(np.clip(up_est @ up_true, -1.0, 1.0)))),
        height_error_m=float(est_height) - true_height if true_height is not None else math.nan,
        true_height_m=float(true_height) if true_height is not None else math.nan,
        objects_in_truth=len(truths),
        attitude_confidence=float(cam.get("attitude_confidence", math.nan)),
    )
    if sensor_m is not None and solved.get("room"):
        from .room_depth import layout_depth_error

        k_solved = frames.intrinsics_matrix(float(cam["fx"]), float(cam["fy"]), float(cam["cx"]), float(cam["cy"]))
        error, within, _ = layout_depth_error(solved["room"], world_from_camera, k_solved,
                                              (int(cam["width"]), int(cam["height"])), sensor_m,
                                              [o["box2d_xyxy"] for o in truths])
        camera = replace(camera, layout_log_error=error, layout_within_10pct=within)

    predicted: dict[int, dict] = {}
    for obj in solved.get("objects") or []:
        index = obj.get("detection_index")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(truths):
            continue
        predicted.setdefault(index, obj)
    camera_from_world = frames.invert_rigid(world_from_camera)
    objects = []
    for index, true in enumerate(truths):
        true_corners = np.array(true["upright"]["corners"], dtype=float)
        true_center = true_corners.mean(axis=0)
        true_range = float(np.linalg.norm(true_center))
        score = RealdevObjectScore(name, index, true["label"], False, 0.0, None, None, true_range)
        corners = _corners_or_none(predicted.get(index))
        if corners is not None:
            upright = frames.upright_from_camera(frames.transform_points(camera_from_world, corners), rtilt)
            center = upright.mean(axis=0)
            score = RealdevObjectScore(
                name, index, true["label"], True, gravity_aligned_iou(true_corners, upright),
                float(np.linalg.norm(center - true_center)), float(np.linalg.norm(center)) - true_range, true_range)
        objects.append(score)
    return camera, objects


def _corners_or_none(obj: dict | None) -> np.ndarray | None:
    """(8, 3) finite world corners of a predicted object, or None (no object, or no usable corners)."""
    if obj is None:
        return None
    try:
        corners = np.array(obj["corners"], dtype=float).reshape(8, 3)
    except (KeyError, TypeError, ValueError):
        return None
    return corners if np.isfinite(corners).all() else None


def realdev_flags(truth: dict, given: str) -> dict:
    """:func:`~pipeline.camera.estimate_camera` flags for ``--given``: ``k`` the true fx, ``camera`` also the
    true pitch and roll (``camera_pose``: the same angles as ``frames.world_from_camera_from_attitude``'s) and the
    camera height (the truth's estimate)."""
    flags: dict = {}
    if given in ("k", "camera"):
        flags["focal_px"] = float(truth["K"][0][0])
    if given == "camera":
        flags.update(pitch_deg=float(truth["camera_pose"]["pitch_deg"]),
                     roll_deg=float(truth["camera_pose"]["roll_deg"]),
                     camera_height_m=float(truth["camera_height_above_floor_m_est"]))
    return flags


def solve_realdev_case(case: Path, given: str = "none", depth_name: str | None = None,
                       crop: float | None = None, truth: dict | None = None) -> dict:
    """Run the pipeline in memory on a realdev case (``photo.jpg``, ``grounding.qwen3.json``; ``depth_name``,
    e.g. ``depth.png``, the sensor's depth; ``crop``, see :func:`case_inputs`; ``truth``: its ``truth.json``
    when already read); returns the ``scene.json`` dict."""
    flags = realdev_flags(_read_truth(case) if truth is None else truth, given)
    return solve_case(case / "photo.jpg", case / "grounding.qwen3.json", flags,
                      None if depth_name is None else case / depth_name, crop)


def evaluate_realdev(cases: list[Path], given: str = "none", depth_name: str | None = None,
                     crop: float | None = None) -> tuple[list[RealdevCameraScore], list[RealdevObjectScore]]:
    """Solve and score every realdev case once (``crop``: its centred crop, :func:`case_inputs`). A crop keeps the
    camera's rotation and focal in pixels, so the scores compare as they are."""
    cameras, objects = [], []
    for case in cases:
        truth = _read_truth(case)
        solved = solve_realdev_case(case, given, depth_name, crop, truth)
        camera, scores = score_realdev_case(case.name, truth, solved, None if crop else _sensor_depth(case, truth))
        cameras.append(camera)
        objects.extend(scores)
    return cameras, objects


def _sensor_depth(case: Path, truth: dict) -> np.ndarray | None:
    """A realdev case's sensor depth in metres (its ``depth.png``: uint16 millimetres, 0 = none), or None."""
    path = case / str((truth.get("depth") or {}).get("depth_png", "depth.png"))
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image, dtype=np.float64) / 1000.0


def realdev_summary(cameras: list[RealdevCameraScore], objects: list[RealdevObjectScore]) -> dict:
    """The totals of a realdev evaluation (``room3d eval --json``): camera figures over the cases, object figures
    over the true objects (a missed one scores IoU 0), errors over the predicted ones."""
    gravity = [c.gravity_error_deg for c in cameras]
    focal = [c.focal_error for c in cameras]
    heights = [c for c in cameras if math.isfinite(c.height_error_m)]
    hit = [o for o in objects if o.predicted]
    layouts = [c for c in cameras if math.isfinite(c.layout_log_error)]
    summary = {
        "cases": len(cameras),
        "gravity_error_deg_median": _median(gravity),
        "gravity_error_deg_mean": _mean(gravity),
        **{f"gravity_within_{t:g}deg": _share_within(gravity, t) for t in GRAVITY_WITHIN_DEG},
        "focal_error_median": _median(focal),
        "focal_error_mean": _mean(focal),
        **{f"focal_within_{round(100 * t)}pct": _share_within(focal, t) for t in FOCAL_WITHIN},
        "height_error_m_median_abs": _median([abs(c.height_error_m) for c in heights]),
        "height_error_median_rel": _median([abs(c.height_error_m) / c.true_height_m for c in heights]),
        "height_error_m_median": _median([c.height_error_m for c in heights]),
        "objects": len(objects),
        "objects_predicted": len(hit),
        "mean_iou": _mean([o.iou for o in objects]),
        **{f"recall@{t:.2f}": _share_reaching([o.iou for o in objects], t) for t in RECALL_IOUS},
        "center_error_m_median": _median([o.center_error_m for o in hit]),
        "range_error_m_median": _median([o.range_error_m for o in hit]),
        "intrinsics_sources": _counts(c.intrinsics_source for c in cameras),
        "attitude_sources": _counts(c.attitude_source for c in cameras),
        "gravity_by_confidence": _gravity_by_confidence(cameras),
        "layout_log_error_median": _median([c.layout_log_error for c in layouts]),
        "layout_within_10pct_median": _median([c.layout_within_10pct for c in layouts]),
        "layout_cases": len(layouts),
    }
    return summary


#: Attitude confidence bands for the calibration line: does the confidence predict the gravity error?
CONFIDENCE_BANDS = ((0.0, 0.3), (0.3, 0.5), (0.5, 1.01))


def _gravity_by_confidence(cameras: list[RealdevCameraScore]) -> list[dict]:
    """Per attitude-confidence band: the cases in it and their median and largest gravity error."""
    out = []
    for low, high in CONFIDENCE_BANDS:
        errors = [c.gravity_error_deg for c in cameras if low <= c.attitude_confidence < high]
        out.append({"confidence_from": low, "confidence_to": min(high, 1.0), "cases": len(errors),
                    "gravity_error_deg_median": _median(errors),
                    "gravity_error_deg_max": max(errors) if errors else None})
    return out


def realdev_class_summary(objects: list[RealdevObjectScore]) -> dict[str, dict]:
    """Per class: count, mean IoU, recalls and the median centre error (over the predicted ones)."""
    table = {}
    for label in sorted({o.label for o in objects}):
        mine = [o for o in objects if o.label == label]
        table[label] = {"objects": len(mine), "mean_iou": _mean([o.iou for o in mine]),
                        **{f"recall@{t:.2f}": _share_reaching([o.iou for o in mine], t) for t in RECALL_IOUS},
                        "center_error_m_median": _median([o.center_error_m for o in mine if o.predicted])}
    return table


def _share_within(values: list[float], limit: float) -> float | None:
    """Share of ``values`` that are ``<= limit`` (errors within a tolerance)."""
    return sum(v <= limit for v in values) / len(values) if values else None


def _share_reaching(values: list[float], level: float) -> float | None:
    """Share of ``values`` that are ``>= level`` (IoUs reaching a recall level)."""
    return sum(v >= level for v in values) / len(values) if values else None


def _counts(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


def realdev_report(cameras: list[RealdevCameraScore], objects: list[RealdevObjectScore], given: str,
                   per_object: bool = False) -> str:
    """A plain-text table per case, the camera and object summary lines, and with ``per_object`` a table per class
    and a row per true object."""
    lines = [f"given: {given}",
             (f"{'case':<20}{'K from':<17}{'focal err':>10}{'grav deg':>9}  {'attitude from':<17}{'height err':>11}"
              f"{'room':>6}{'objs':>5}{'mean IoU':>9}{'med ctr m':>10}{'med rng m':>10}")]
    for camera in cameras:
        mine = [o for o in objects if o.case == camera.case]
        hit = [o for o in mine if o.predicted]
        lines.append(
            f"{camera.case:<20}{camera.intrinsics_source:<17}{100 * camera.focal_error:>9.1f}%"
            f"{camera.gravity_error_deg:>9.2f}  {camera.attitude_source:<17}{camera.height_error_m:>+10.2f}m"
            + (f"{camera.layout_log_error:>6.2f}" if math.isfinite(camera.layout_log_error) else f"{'-':>6}")
            + f"{len(mine):>5}" + (f"{statistics.fmean(o.iou for o in mine):>9.2f}" if mine else "")
            + (f"{statistics.median(o.center_error_m for o in hit):>10.2f}"
               f"{statistics.median(o.range_error_m for o in hit):>+10.2f}" if hit else ""))
    s = realdev_summary(cameras, objects)
    if cameras:
        lines.append(f"gravity error: median {s['gravity_error_deg_median']:.2f} deg, mean "
                     f"{s['gravity_error_deg_mean']:.2f} deg; within "
                     + ", ".join(f"{t:g} deg: {100 * s[f'gravity_within_{t:g}deg']:.0f}%" for t in GRAVITY_WITHIN_DEG)
                     + f" (of {len(cameras)} cases)")
        lines.append(f"focal error: median {100 * s['focal_error_median']:.1f}%, mean "
                     f"{100 * s['focal_error_mean']:.1f}%; within "
                     + ", ".join(f"{100 * t:g}%: {100 * s[f'focal_within_{round(100 * t)}pct']:.0f}%"
                                 for t in FOCAL_WITHIN))
        if s["height_error_m_median_abs"] is not None:
            lines.append(f"camera height error: median {s['height_error_m_median_abs']:.2f} m "
                         f"({100 * s['height_error_median_rel']:.1f}%), signed median "
                         f"{s['height_error_m_median']:+.2f} m (vs the truth's floor estimate)")
        lines.append("gravity error by attitude confidence: " + "; ".join(
            f"{band['confidence_from']:g}-{band['confidence_to']:g}: {band['cases']} cases"
            + (f", median {band['gravity_error_deg_median']:.1f}, max {band['gravity_error_deg_max']:.1f} deg"
               if band["cases"] else "") for band in s["gravity_by_confidence"]))
        if s["layout_cases"]:
            lines.append(f"room layout vs the sensor's depth (pixels outside the objects' 2D boxes): median over "
                         f"photos of the median |log error| {s['layout_log_error_median']:.2f}, of the pixels "
                         f"within 10 % {100 * s['layout_within_10pct_median']:.0f}% (of {s['layout_cases']} cases)")
        lines.append("sources: intrinsics " + ", ".join(f"{k} {v}" for k, v in s["intrinsics_sources"].items())
                     + "; attitude " + ", ".join(f"{k} {v}" for k, v in s["attitude_sources"].items()))
    if objects:
        lines.append(f"objects: mean IoU {s['mean_iou']:.3f}; recall at IoU "
                     + ", ".join(f"{t}: {100 * s[f'recall@{t:.2f}']:.0f}%" for t in RECALL_IOUS)
                     + f" (of {len(objects)} objects in the truth, {s['objects_predicted']} predicted)"
                     + (f"; median centre error {s['center_error_m_median']:.2f} m, range error "
                        f"{s['range_error_m_median']:+.2f} m" if s["objects_predicted"] else ""))
    if per_object and objects:
        lines.append(f"{'class':<20}{'objs':>5}{'mean IoU':>9}{'R@0.15':>7}{'R@0.25':>7}{'R@0.50':>7}{'med ctr m':>10}")
        for label, row in realdev_class_summary(objects).items():
            centre = row["center_error_m_median"]
            lines.append(f"{label:<20}{row['objects']:>5}{row['mean_iou']:>9.2f}{row['recall@0.15']:>7.2f}"
                         f"{row['recall@0.25']:>7.2f}{row['recall@0.50']:>7.2f}"
                         + (f"{centre:>10.2f}" if centre is not None else f"{'-':>10}"))
        lines.append(f"{'case':<20}{'i':>3}  {'object':<16}{'IoU':>6}{'centre m':>10}{'range m':>9}{'true rng m':>11}")
        for o in objects:
            centre = "-" if o.center_error_m is None else f"{o.center_error_m:.2f}"
            rng = "-" if o.range_error_m is None else f"{o.range_error_m:+.2f}"
            lines.append(f"{o.case:<20}{o.index:>3}  {o.label:<16}{o.iou:>6.2f}{centre:>10}{rng:>9}"
                         f"{o.true_range_m:>11.2f}")
    return "\n".join(lines)
