"""``overlay.png``: the photo with every solved box projected back onto it, so a user sees whether 3D matches 2D."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import frames
from ..records import Scene
from .gltf import category_colour

_FONT_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")


def projected_edges(scene: Scene, corners_m: np.ndarray, near_m: float = 0.05) -> list[np.ndarray]:
    """The 12 box edges as (2, 2) pixel segments, each clipped to the part in front of the camera (z >= near_m);
    edges wholly behind the camera are left out."""
    k = scene.camera.intrinsics.k_matrix
    corners_cam = frames.transform_points(frames.invert_rigid(scene.camera.world_from_camera), corners_m)
    segments = []
    for a, b in frames.BOX_EDGES:
        p, q = corners_cam[a], corners_cam[b]
        if p[2] < near_m and q[2] < near_m:
            continue
        if p[2] < near_m or q[2] < near_m:
            t = (near_m - p[2]) / (q[2] - p[2])
            cut = p + t * (q - p)
            p, q = (cut, q) if p[2] < near_m else (p, cut)
        uv, _ = frames.project_points(k, np.stack([p, q]))
        segments.append(uv)
    return segments


def draw_overlay(scene: Scene, rgb: np.ndarray, path: Path, detections=()) -> None:
    """Write the overlay PNG: each object's 3D box (wireframe, its colour), its label, and its 2D box (thin)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(rgb).convert("RGB")
    scale = max(image.size) / 1000.0
    width = max(1, round(2 * scale))
    font = _font(max(11, round(16 * scale)), ImageFont)
    draw = ImageDraw.Draw(image, "RGBA")
    boxes_2d = {d.detection_index: d.box_xyxy_px for d in detections}
    for obj in scene.objects:
        colour = tuple(int(255 * c) for c in category_colour(obj.category))
        if obj.detection_index in boxes_2d:
            draw.rectangle(boxes_2d[obj.detection_index], outline=colour + (110,), width=1)
        segments = projected_edges(scene, obj.corners_m)
        for segment in segments:
            draw.line([tuple(segment[0]), tuple(segment[1])], fill=colour + (255,), width=width)
        if segments:
            points = np.concatenate(segments)
            anchor = (float(points[:, 0].min()), float(points[:, 1].min()))
            text = obj.label
            left, top, right, bottom = draw.textbbox(anchor, text, font=font)
            draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=(0, 0, 0, 150))
            draw.text(anchor, text, fill=(255, 255, 255, 255), font=font)
    image.save(path)


def _font(size: int, image_font):
    for candidate in _FONT_CANDIDATES:
        try:
            return image_font.truetype(candidate, size)
        except OSError:
            continue
    return image_font.load_default(size=size)
