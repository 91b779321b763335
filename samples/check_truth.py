#!/usr/bin/env python3
"""Consistency checks of the sample scenes: truth.json vs the grounding files vs depth.png vs photo.png.

    .venv/bin/python samples/check_truth.py            # every samples/<scene>/
    .venv/bin/python samples/check_truth.py samples/living_01

Uses only the five files of each scene and ``pipeline.frames``. Per scene it checks:

* files: exactly photo.png, depth.png, truth.json, grounding.qwen3.json, grounding.qwen2_5.json; image sizes;
* camera: ``world_from_camera`` == ``frames.world_from_camera_from_attitude(pitch, roll, height)``,
  fx = fy = f35 / 36 * max(W, H), principal point at the image centre;
* objects: corners == ``frames.box_corners(center, size, yaw)``; every centre in front of the camera and inside
  the image; objects standing on another rest on its top; no two boxes interpenetrate (by more than 1 cm);
* grounding: both files parse (bare JSON or a chat answer with a ```json fence), one entry per truth object in the
  same order with the same label; converted back to pixels (``frames.pixels_from_qwen3`` /
  ``frames.pixels_from_qwen25``) each box agrees with the projection of the truth corners
  (``frames.project_world_points``), clipped to the image: inside it up to the noise, IoU >= 0.5 each and >= 0.8
  on average (the boxes come from the parts, which need not fill their box's projection);
* depth vs truth (this is what proves that the Blender camera follows CONVENTIONS.md): for every pixel the ray
  through its centre is intersected with the room's floor, walls and ceiling (from truth ``room``); on pixels away
  from every object's projected box the depth map must equal that planar depth within 2 cm (floor >= 97 % of
  pixels; on walls / ceiling, which carry windows, doors and pictures that are not in the truth: >= 50 % within
  2 cm, nothing behind the plane, nothing more than 16 cm in front of it). The flat fronts of
  wardrobes / dressers / nightstands and the flat tops of tables, desks, stands and nightstands must match the
  truth box face within 2 cm on >= 80 % of their unoccluded sample pixels;
* photo vs depth: the photo's intensity edges line up with the depth map's discontinuities at zero shift (a
  flipped or shifted render would peak elsewhere).
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from pipeline import frames

HERE = Path(__file__).resolve().parent
FILES = {"photo.png", "depth.png", "truth.json", "grounding.qwen3.json", "grounding.qwen2_5.json"}
DEPTH_TOL_M = 0.02
FLAT_FRONT = {"wardrobe", "dresser", "nightstand"}
FLAT_TOP = {"dining table", "coffee table", "desk", "tv stand", "nightstand", "dresser"}


def parse_grounding(text):
    """The JSON list of a model answer: bare JSON, or the first ```json fenced block of a chat answer."""
    m = re.search(r"```(?:json)?\s*\n(.*?)```", text, re.S)
    return json.loads(m.group(1) if m else text)


def clipped_projection(k, world_from_camera, corners, width, height):
    uv, z = frames.project_world_points(k, world_from_camera, np.asarray(corners))
    assert np.all(z > 0), "object corner behind the camera"
    x1, y1 = uv.min(axis=0)
    x2, y2 = uv.max(axis=0)
    return np.array([max(0, x1), max(0, y1), min(width, x2), min(height, y2)]), uv, z


def iou(a, b):
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def hull_mask(uv, width, height, dilate=2):
    mask = np.zeros((height, width), np.uint8)
    hull = cv2.convexHull(np.round(uv * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    if dilate:
        mask = cv2.dilate(mask, np.ones((2 * dilate + 1, 2 * dilate + 1), np.uint8))
    return mask.astype(bool)


def _boxes_overlap_depth(c1, c2):
    """Penetration depth (m) of two upright boxes given by their (8, 3) corners; <= 0 when apart."""
    best = np.inf
    y = min(c1[:, 1].max(), c2[:, 1].max()) - max(c1[:, 1].min(), c2[:, 1].min())
    best = min(best, y)
    p1, p2 = c1[[0, 1, 5, 4]][:, [0, 2]], c2[[0, 1, 5, 4]][:, [0, 2]]
    for poly in (p1, p2):
        for i in range(4):
            e = poly[(i + 1) % 4] - poly[i]
            n = np.array([-e[1], e[0]]) / np.linalg.norm(e)
            a, b = p1 @ n, p2 @ n
            best = min(best, min(a.max(), b.max()) - max(a.min(), b.min()))
    return best


def check_scene(scene_dir: Path):
    """List of (ok, message) for one scene folder."""
    out = []

    def check(ok, msg):
        out.append((bool(ok), msg))
        return ok

    scene_dir = Path(scene_dir)
    present = {p.name for p in scene_dir.iterdir()}
    check(present == FILES, f"files: {sorted(present)}")
    truth = json.loads((scene_dir / "truth.json").read_text())
    cam = truth["camera"]
    width, height = cam["width"], cam["height"]
    k = frames.intrinsics_matrix(cam["fx"], cam["fy"], cam["cx"], cam["cy"])
    wfc = np.array(cam["world_from_camera"])

    # ---- camera
    expect = frames.world_from_camera_from_attitude(math.radians(cam["pitch_deg"]), math.radians(cam["roll_deg"]),
                                                    cam["height_m"])
    check(np.allclose(wfc, expect, atol=1e-6), "camera: world_from_camera from attitude")
    att = frames.attitude_from_world_from_camera(wfc)
    check(abs(att["yaw_rad"]) < 1e-6 and np.allclose(att["position_m"], [0, cam["height_m"], 0], atol=1e-6),
          "camera: yaw 0, centre above the world origin")
    fx = cam["focal_35mm_mm"] / 36.0 * max(width, height)
    check(abs(cam["fx"] - fx) < 1e-3 and cam["fx"] == cam["fy"] and cam["cx"] == width / 2 and cam["cy"] == height / 2,
          f"camera: fx = fy = {fx:.2f} px from f35 = {cam['focal_35mm_mm']} mm, principal point at the centre")
    check(-25.0 <= cam["pitch_deg"] <= 0.0 and abs(cam["roll_deg"]) <= 5.0 and 1.0 <= cam["height_m"] <= 1.7
          and 20.0 <= cam["focal_35mm_mm"] <= 35.0, "camera: attitude / height / focal in the agreed ranges")
    photo = Image.open(scene_dir / "photo.png")
    check(photo.size == (width, height) and photo.mode == "RGB", f"photo: {photo.size} {photo.mode}")
    depth_raw = cv2.imread(str(scene_dir / "depth.png"), cv2.IMREAD_UNCHANGED)
    check(depth_raw is not None and depth_raw.dtype == np.uint16 and depth_raw.shape == (height, width),
          "depth: 16-bit, image size")
    depth = depth_raw.astype(float) / 1000.0

    # ---- objects
    objs = truth["objects"]
    corners_all = []
    for i, o in enumerate(objs):
        c = np.array(o["corners"])
        corners_all.append(c)
        check(np.allclose(c, frames.box_corners(o["center"], o["size"], o["yaw"]), atol=2e-6),
              f"object {i} {o['label']}: corners == box_corners(center, size, yaw)")
        (uc, vc), zc = frames.project_world_points(k, wfc, np.array(o["center"]))
        check(zc > 0 and 0 <= uc <= width and 0 <= vc <= height, f"object {i} {o['label']}: centre in the image")
        if o["on_top_of"] is not None:
            s = objs[o["on_top_of"]]
            top = np.array(s["corners"])[:, 1].max()
            check(abs(c[:, 1].min() - top) < 1e-3, f"object {i} {o['label']} rests on object {o['on_top_of']}")
        else:
            check(abs(c[:, 1].min()) < 1e-3, f"object {i} {o['label']} stands on the floor")
    worst = 0.0
    for i in range(len(objs)):
        for j in range(i + 1, len(objs)):
            worst = max(worst, _boxes_overlap_depth(corners_all[i], corners_all[j]))
    check(worst < 0.01, f"objects: no interpenetration (worst overlap {worst * 100:.1f} cm)")

    # ---- grounding
    truth_px = []
    proj = []
    for c in corners_all:
        b, uv, z = clipped_projection(k, wfc, c, width, height)
        truth_px.append(b)
        proj.append((uv, z))
    for fname, to_px in (("grounding.qwen3.json", frames.pixels_from_qwen3),
                         ("grounding.qwen2_5.json", frames.pixels_from_qwen25)):
        dets = parse_grounding((scene_dir / fname).read_text())
        ok = check(len(dets) == len(objs) and all(d["label"] == o["label"] for d, o in zip(dets, objs)),
                   f"{fname}: {len(dets)} entries, labels in truth order")
        if not ok:
            continue
        ious, outside = [], 0.0
        for d, t in zip(dets, truth_px):
            g = to_px(np.array(d["bbox_2d"], float), width, height)
            tol = 0.06 * np.array([t[2] - t[0], t[3] - t[1]] * 2) + 2.0
            outside = max(outside, float(np.max(np.maximum(0, np.array([t[0] - g[0], t[1] - g[1], g[2] - t[2],
                                                                         g[3] - t[3]]) - tol))))
            ious.append(iou(g, t))
        # the truth box's corner projection contains the parts' projection (the boxes' source), so the boxes lie
        # inside it up to the noise; IoU is lower where a piece does not fill its box (office chair, lamp)
        check(min(ious) >= 0.5 and np.mean(ious) >= 0.8 and outside == 0.0,
              f"{fname}: boxes vs projected truth corners: IoU min {min(ious):.2f} mean {np.mean(ious):.2f}, "
              f"all inside (+ noise)")

    # ---- depth vs room planes
    check(np.all(depth_raw > 0), "depth: every pixel hits something (closed room)")
    us, vs = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    rays_cam = frames.pixel_rays(k, np.stack([us, vs], axis=-1))  # camera z = 1: ray parameter = planar depth
    rays = rays_cam @ wfc[:3, :3].T
    origin = wfc[:3, 3]
    room = truth["room"]
    h_ceil = room["ceiling_height_m"]
    planes = [("floor", np.array([0.0, 1.0, 0.0]), 0.0), ("ceiling", np.array([0.0, -1.0, 0.0]), -h_ceil)]
    floor_poly = np.array(room["floor_polygon"])
    centroid = np.array([floor_poly[:, 0].mean(), 0.0, floor_poly[:, 1].mean()])
    for wall in room["walls"]:
        wc = np.array(wall["corners"])
        n = np.cross(wc[1] - wc[0], wc[3] - wc[0])
        n /= np.linalg.norm(n)
        if np.dot(n, centroid - wc[0]) < 0:
            n = -n
        planes.append((wall["name"], n, float(n @ wc[0])))
    ts = []
    for _, n, d in planes:  # points p with n . p = d, n pointing into the room
        denom = rays @ n
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (d - origin @ n) / denom
        ts.append(np.where((denom < -1e-9) & (t > 0), t, np.inf))
    ts = np.array(ts)
    which = ts.argmin(axis=0)
    t_room = ts.min(axis=0)
    hit = origin + rays * t_room[..., None]
    obj_mask = np.zeros((height, width), bool)
    for uv, _ in proj:
        obj_mask |= hull_mask(uv, width, height)
    # distance of each room hit to the nearest wall plane (skip baseboards and wall decor near corners)
    wall_dist = np.min([np.abs(hit @ n - d) for name, n, d in planes[2:]], axis=0)
    err = np.abs(depth - t_room)
    points = origin + rays * depth[..., None]  # what the depth map says is there
    for k_plane, (name, n, d) in enumerate(planes):
        sel = (which == k_plane) & ~obj_mask
        if name == "floor":
            sel &= wall_dist > 0.15
        elif name != "ceiling":
            sel &= (hit[..., 1] > 0.15) & (hit[..., 1] < h_ceil - 0.05)
        if sel.sum() < 200:
            continue
        e = err[sel]
        frac = float((e < DEPTH_TOL_M).mean())
        if name == "floor":  # only a 4 mm rug lies on it
            check(frac >= 0.97, f"depth vs floor plane: {frac * 100:.1f} % of {sel.sum()} px within 2 cm, "
                                f"median error {np.median(e) * 1000:.1f} mm")
            continue
        # walls and ceiling carry unlabelled decor (windows, doors, pictures, the light fixture): everything seen
        # there must lie on the plane or at most 16 cm in front of it, never behind it
        off = points[sel] @ n - d
        behind, far = float((off < -0.01).mean()), float((off > 0.16).mean())
        check(frac >= 0.5 and behind < 0.002 and far < 0.01,
              f"depth vs {name} plane: {frac * 100:.1f} % of {sel.sum()} px within 2 cm (median error "
              f"{np.median(e) * 1000:.1f} mm), {behind * 100:.2f} % behind it, {far * 100:.2f} % > 16 cm in front")

    # ---- depth vs object faces
    cam_center = origin
    for i, (o, c) in enumerate(zip(objs, corners_all)):
        faces = []
        if o["label"] in FLAT_FRONT:
            faces.append(("front", c[4], c[5] - c[4], c[7] - c[4]))
        if o["label"] in FLAT_TOP and cam_center[1] > c[:, 1].max() + 0.05:
            faces.append(("top", c[7], c[6] - c[7], c[3] - c[7]))
        for fname, p0, ea, eb in faces:
            n = np.cross(ea, eb)
            n /= np.linalg.norm(n)
            if np.dot(n, cam_center - p0) < 0:
                n = -n
            if np.dot(n, cam_center - p0) < 0.05:  # face seen edge-on or from behind
                continue
            a, b = np.meshgrid(np.linspace(0.15, 0.85, 15), np.linspace(0.15, 0.85, 15))
            pts = p0 + a.reshape(-1, 1) * ea + b.reshape(-1, 1) * eb
            uv, z = frames.project_world_points(k, wfc, pts)
            cols, rows = np.floor(uv[:, 0]).astype(int), np.floor(uv[:, 1]).astype(int)
            inside = (cols >= 0) & (cols < width) & (rows >= 0) & (rows < height)
            cols, rows, z = cols[inside], rows[inside], z[inside]
            if cols.size < 20:
                continue
            occluded = np.zeros(cols.size, bool)
            for j, (uv_j, z_j) in enumerate(proj):
                if j == i:
                    continue
                m = hull_mask(uv_j, width, height)
                occluded |= m[rows, cols] & (z_j.min() < z.max())
            rows, cols = rows[~occluded], cols[~occluded]
            if rows.size < 20:
                continue
            r = rays[rows, cols]
            t_face = (n @ p0 - origin @ n) / (r @ n)
            e = np.abs(depth[rows, cols] - t_face)
            frac = float((e < DEPTH_TOL_M).mean())
            check(frac >= 0.8, f"depth vs object {i} {o['label']} {fname}: {frac * 100:.0f} % of {rows.size} px "
                               f"within 2 cm, median {np.median(e) * 1000:.1f} mm")

    # ---- photo vs depth alignment
    gray = np.asarray(photo.convert("L"), float)
    logd = np.log(np.maximum(depth, 1e-3))
    shifts = range(-3, 4)
    for axis, name in ((1, "x"), (0, "y")):
        dedge = np.abs(np.diff(logd, axis=axis)) > 0.05
        pgrad = np.abs(np.diff(gray, axis=axis))
        scores = []
        for s in shifts:
            rolled = np.roll(pgrad, -s, axis=axis)
            sl = [slice(3, -3), slice(3, -3)]
            scores.append(float(rolled[tuple(sl)][dedge[tuple(sl)]].mean()))
        best = list(shifts)[int(np.argmax(scores))]
        check(best == 0, f"photo vs depth edges along {name}: best shift {best} px "
                         f"(score at 0: {scores[3]:.1f}, at +-1: {scores[2]:.1f}/{scores[4]:.1f})")
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    dirs = [Path(a) for a in argv] or sorted(p.parent for p in HERE.glob("*/truth.json"))
    n_bad = 0
    for d in dirs:
        results = check_scene(d)
        bad = [m for ok, m in results if not ok]
        n_bad += len(bad)
        print(f"{d.name}: {len(results) - len(bad)}/{len(results)} checks passed")
        for ok, m in results:
            if not ok or m.startswith(("depth vs", "photo vs", "grounding", "objects:")):
                print(f"  {'ok  ' if ok else 'FAIL'} {m}")
    print("ALL CHECKS PASSED" if n_bad == 0 else f"{n_bad} CHECK(S) FAILED")
    return 0 if n_bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
