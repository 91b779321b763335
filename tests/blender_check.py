"""Run inside Blender: import a glTF file the way a user does and dump what Blender made of it as JSON.

    blender -b --factory-startup --python-exit-code 1 --python tests/blender_check.py -- \
        SCENE.glb|SCENE.gltf OUT.json [--points POINTS.json --resolution W H]

Writes ``OUT.json``:

* ``blender_version``: e.g. ``"3.4.1"``;
* ``resolution_after_import``: the scene's render resolution ``[x, y]`` right after the import (does the importer
  set it?);
* ``objects``: one entry per imported object: ``name``, ``type``, ``matrix_world`` (4x4, row-major, Blender
  frame: +Z up, metres), ``dimensions`` (Blender's own, in the object's local axes), ``bound_box_world`` (the
  8 corners of its local bounding box taken to the world), ``custom_properties`` (the glTF ``extras``) and, for
  cameras, ``camera`` (``lens_unit``, ``sensor_fit``, ``angle_x``, ``angle_y``, ``shift_x``, ``shift_y``); for
  meshes, ``vertices`` (their count) and ``materials`` (their names);
* with ``--points``: ``camera_view``: each point of POINTS.json (a list of ``[x, y, z]`` in the Blender frame)
  through the camera named ``photo_camera`` with the render resolution set to ``W x H`` (what a user sets to
  match the photo), as ``bpy_extras.object_utils.world_to_camera_view`` gives it: ``[x, y, depth]`` with
  ``(0, 0)`` the bottom-left and ``(1, 1)`` the top-right of the camera's frame.

Nothing is compared here: the test does that (``tests/test_blender.py``), with ``pipeline.frames``.
"""

import json
import sys

import bpy
import numpy as np
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector

# Blender 3.4's glTF importer still uses np.bool, removed in numpy 1.24
np.bool = bool


def main(argv: list[str]) -> None:
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    path, out = args[0], args[1]
    points_path, resolution = None, None
    if "--points" in args:
        points_path = args[args.index("--points") + 1]
    if "--resolution" in args:
        i = args.index("--resolution")
        resolution = (int(args[i + 1]), int(args[i + 2]))

    for obj in list(bpy.data.objects):  # the factory scene's cube, light and camera
        bpy.data.objects.remove(obj, do_unlink=True)
    result = bpy.ops.import_scene.gltf(filepath=path)
    if "FINISHED" not in result:
        raise SystemExit(f"glTF import of {path} failed: {result}")
    scene = bpy.context.scene
    report = {
        "blender_version": ".".join(map(str, bpy.app.version)),
        "resolution_after_import": [scene.render.resolution_x, scene.render.resolution_y],
        "objects": [_describe(obj) for obj in scene.objects],
    }
    if points_path is not None:
        camera = bpy.data.objects["photo_camera"]
        if resolution is not None:
            scene.render.resolution_x, scene.render.resolution_y = resolution
            scene.render.resolution_percentage = 100
            scene.render.pixel_aspect_x = scene.render.pixel_aspect_y = 1.0
        with open(points_path, encoding="utf-8") as f:
            points = json.load(f)
        report["camera_view"] = [list(world_to_camera_view(scene, camera, Vector(p))) for p in points]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)


def _describe(obj) -> dict:
    entry = {
        "name": obj.name,
        "type": obj.type,
        "matrix_world": [list(row) for row in obj.matrix_world],
        "dimensions": list(obj.dimensions),
        "bound_box_world": [list(obj.matrix_world @ Vector(corner)) for corner in obj.bound_box],
        "custom_properties": {key: _plain(obj[key]) for key in obj.keys() if not key.startswith("_")},
        "parent": obj.parent.name if obj.parent else None,
    }
    if obj.type == "MESH":
        entry["vertices"] = len(obj.data.vertices)
        entry["materials"] = [slot.material.name for slot in obj.material_slots if slot.material is not None]
    if obj.type == "CAMERA":
        cam = obj.data
        entry["camera"] = {"lens_unit": cam.lens_unit, "sensor_fit": cam.sensor_fit, "angle_x": cam.angle_x,
                           "angle_y": cam.angle_y, "shift_x": cam.shift_x, "shift_y": cam.shift_y}
    return entry


def _plain(value):
    """A custom property as a JSON value (ID properties come back as their own types)."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if hasattr(value, "to_list"):
        return value.to_list()
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


main(sys.argv)
