"""``scene.json``: the run manifest and the machine-readable scene (field names are a public contract)."""

from __future__ import annotations

import math
import platform
from importlib import metadata

from ..records import Grounding, Scene
from ..relations import relations
from .gltf import unique_names

SCHEMA_VERSION = 1


def scene_manifest(scene: Scene, grounding: Grounding, inputs: dict, timings_s: dict) -> dict:
    """The ``scene.json`` content as a dict (only JSON types)."""
    from ..solve.room import room_dimensions

    camera, intrinsics = scene.camera, scene.camera.intrinsics
    names = unique_names([obj.label for obj in scene.objects])
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "frames": {
            "world": "glTF: +Y up, metres, floor at y = 0, camera above the origin, yaw zero looks along -Z",
            "camera": "OpenCV: x right, y down, z forward",
            "world_from_camera": "4x4 row-major, OpenCV camera -> world",
            "box": "center + Ry(yaw) @ local; size = full extents (x width, y height, z depth); local +z = front",
            "corners": "CONVENTIONS.md corner order: 0-3 back face, 4-7 front face, 0,1,4,5 bottom",
        },
        "camera": {
            "fx": intrinsics.fx_px,
            "fy": intrinsics.fy_px,
            "cx": intrinsics.cx_px,
            "cy": intrinsics.cy_px,
            "width": intrinsics.width_px,
            "height": intrinsics.height_px,
            "intrinsics_source": camera.intrinsics_source,
            "intrinsics_confidence": camera.intrinsics_confidence,
            "vertical_fov_deg": math.degrees(intrinsics.vertical_fov_rad),
            "horizontal_fov_deg": math.degrees(intrinsics.horizontal_fov_rad),
            "world_from_camera": camera.world_from_camera.tolist(),
            "pitch_rad": camera.pitch_rad,
            "roll_rad": camera.roll_rad,
            "height_m": camera.height_m,
            "attitude_source": camera.attitude_source,
            "attitude_confidence": camera.attitude_confidence,
            "attitude_sigma_deg": camera.attitude_sigma_deg,
            "height_source": camera.height_source,
            "room_yaw_rad": camera.room_yaw_rad,
            "room_yaw_source": camera.room_yaw_source,
            "vanishing_directions_camera": (camera.lines.vp_directions_cam.tolist()
                                            if camera.lines is not None else None),
            "notes": list(camera.notes),
            "warnings": list(camera.warnings),
        },
        "room": {
            "floor_polygon": [list(p) for p in scene.room.floor_polygon_m],
            "ceiling_height_m": scene.room.ceiling_height_m,
            "walls": [{"name": w.name, "corners": [list(c) for c in w.corners_m], "plane": w.plane.tolist(),
                       "source": w.source} for w in scene.room.walls],
            "source": scene.room.source,
            "ceiling_source": scene.room.ceiling_source,
            "dimensions": {name: {"value": measure.value, "unit": "m2" if name == "floor_area" else "m",
                                  "source": measure.source, "at_least": measure.at_least, "sigma": measure.sigma}
                           for name, measure in room_dimensions(scene.room).items()},
        },
        "objects": [
            {
                "name": name,
                "label": obj.label,
                "category": obj.category,
                "detection_index": obj.detection_index,
                "confidence": obj.confidence,
                "center": list(obj.center_m),
                "size": list(obj.size_m),
                "yaw": obj.yaw_rad,
                "corners": obj.corners_m.tolist(),
                "size_source": obj.size_source,
                "notes": list(obj.notes),
            }
            for name, obj in zip(names, scene.objects)
        ],
        "grounding": {
            "source": grounding.source,
            "format": grounding.format,
            "format_reason": grounding.format_reason,
            "entries": grounding.entries_total,
            "used": len(grounding.detections),
        },
        "layout": scene.layout,
        "inputs": inputs,
        "warnings": [*camera.warnings, *grounding.warnings, *scene.warnings],
        "timings_s": timings_s,
        "versions": versions(),
    }
    manifest["relations"] = relations(manifest)
    return manifest


def versions() -> dict:
    """Versions of room3d and the libraries that shaped the result."""
    out = {"python": platform.python_version()}
    for package in ("room3d", "numpy", "scipy", "opencv-python-headless", "pillow", "jinja2"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    return out
