"""``overlay.jpg``: the photo with every solved box projected back onto it, so a user sees whether 3D matches 2D."""

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


#: JPEG quality of ``overlay.jpg`` (sharp lines and text stay legible).
OVERLAY_JPEG_QUALITY = 90


def draw_overlay(scene: Scene, rgb: np.ndarray, path: Path, detections=()) -> None:
    """Write the overlay (JPEG): each object's 3D box (wireframe, its colour), its label, and its 2D box (thin), on
    ``rgb``: the photo, or a downscaled copy of it (:func:`pipeline.photo.downscaled`; the drawing follows its
    size)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(rgb).convert("RGB")
    zoom = image.width / float(scene.camera.intrinsics.width_px)  # photo pixels -> this image's
    scale = max(image.size) / 1000.0
    width = max(1, round(2 * scale))
    font = _font(max(11, round(16 * scale)), ImageFont)
    draw = ImageDraw.Draw(image, "RGBA")
    boxes_2d = {d.detection_index: d.box_xyxy_px for d in detections}
    for obj in scene.objects:
        colour = tuple(int(255 * c) for c in category_colour(obj.category))
        if obj.detection_index in boxes_2d:
            draw.rectangle([zoom * float(v) for v in boxes_2d[obj.detection_index]], outline=colour + (110,),
                           width=1)
        segments = [zoom * segment for segment in projected_edges(scene, obj.corners_m)]
        for segment in segments:
            draw.line([tuple(segment[0]), tuple(segment[1])], fill=colour + (255,), width=width)
        if segments:
            points = np.concatenate(segments)
            anchor = (float(points[:, 0].min()), float(points[:, 1].min()))
            text = obj.label
            left, top, right, bottom = draw.textbbox(anchor, text, font=font)
            draw.rectangle((left - 2, top - 2, right + 2, bottom + 2), fill=(0, 0, 0, 150))
            draw.text(anchor, text, fill=(255, 255, 255, 255), font=font)
    image.save(path, format="JPEG", quality=OVERLAY_JPEG_QUALITY)


def _font(size: int, image_font):
    for candidate in _FONT_CANDIDATES:
        try:
            return image_font.truetype(candidate, size)
        except OSError:
            continue
    return image_font.load_default(size=size)


#: Colours of the line families in the camera overlay: vertical, horizontal A, horizontal B, clutter.
FAMILY_COLOURS = ((230, 60, 60), (60, 180, 75), (60, 110, 230), (150, 150, 150))


def horizon_segment(camera) -> np.ndarray | None:
    """(2, 2) pixel end points of the horizon (the vanishing line of horizontal planes) across the photo, or None
    when it lies outside the photo's columns (a camera looking straight down or up)."""
    k = camera.intrinsics.k_matrix
    up_cam = camera.world_from_camera[:3, :3].T @ np.array([0.0, 1.0, 0.0])
    line = np.linalg.inv(k).T @ up_cam  # points x on the horizon satisfy line . (u, v, 1) = 0
    if abs(line[1]) < 1e-12:
        return None
    width = camera.intrinsics.width_px
    us = np.array([0.0, float(width)])
    vs = -(line[0] * us + line[2]) / line[1]
    return np.stack([us, vs], axis=1)


def draw_camera_overlay(camera, rgb: np.ndarray, path: Path) -> None:
    """The photo with its line segments coloured by vanishing direction and the horizon as a dashed line."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(rgb).convert("RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    scale = max(image.size) / 1000.0
    width = max(1, round(2 * scale))
    lines = camera.lines
    if lines is not None:
        for segment, family in zip(lines.segments_px, lines.segment_family):
            colour = FAMILY_COLOURS[family if family >= 0 else 3]
            draw.line([tuple(segment[:2]), tuple(segment[2:])], fill=colour + (230 if family >= 0 else 120,),
                      width=width)
    horizon = horizon_segment(camera)
    if horizon is not None:
        (u0, v0), (u1, v1) = horizon
        steps = 40
        for i in range(0, steps, 2):
            a, b = i / steps, (i + 1) / steps
            draw.line([(u0 + a * (u1 - u0), v0 + a * (v1 - v0)), (u0 + b * (u1 - u0), v0 + b * (v1 - v0))],
                      fill=(255, 220, 0, 255), width=width + 1)
    font = _font(max(11, round(16 * scale)), ImageFont)
    text = (f"f {camera.intrinsics.fx_px:.0f} px ({camera.intrinsics_source})  "
            f"pitch {np.degrees(camera.pitch_rad):.1f}  roll {np.degrees(camera.roll_rad):.1f} "
            f"({camera.attitude_source})")
    box = draw.textbbox((8, 8), text, font=font)
    draw.rectangle((box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4), fill=(0, 0, 0, 160))
    draw.text((8, 8), text, fill=(255, 255, 255, 255), font=font)
    image.save(path)
