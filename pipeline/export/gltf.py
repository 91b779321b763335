"""Write a :class:`Scene` as glTF 2.0 (GLB): the JSON by hand (a plain dict; the Khronos validator checks it in
the tests) and the binary container per the specification, section 4.4.

The world frame is glTF's own (+Y up, metres), so nothing is converted here. Layout of the file:

* one node per object, named after its label (unique: ``chair``, ``chair.001``), holding a unit cube mesh
  (-0.5..0.5) with ``scale`` = size, ``rotation`` = the yaw about +Y, ``translation`` = the centre; its ``extras``
  carry ``kind: "object"``, the raw ``label``, ``detection_index``, ``confidence`` and ``category``;
* the room shell as nodes ``floor``, ``wall_back``, ``wall_left``, ``wall_right`` and ``ceiling`` (``kind: "room"``);
* ``photo_camera``: a perspective camera at the photo's viewpoint with its vertical field of view ``yfov`` and
  ``aspectRatio`` = width / height. glTF has no principal point: a photo whose ``(cx, cy)`` is off its centre gets
  the field of view of its height (``2 atan(H / 2 fy)``) and the offset is lost (the node's ``extras`` keep
  ``fx fy cx cy width height``). Blender's importer (3.4) reads ``yfov`` as a vertical sensor fit and leaves the
  render resolution alone: set it to the photo's size to see the photo's view.
"""

from __future__ import annotations

import colorsys
import hashlib
import json
import struct

import numpy as np

from .. import frames
from ..records import Scene
from .shapes import MATERIALS, cuboid, shape_mesh

ROOM_NODE_NAMES = ("floor", "wall_back", "wall_left", "wall_right", "ceiling")
CAMERA_NODE_NAME = "photo_camera"
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963
_FLOAT, _UNSIGNED_SHORT = 5126, 5123


#: Blender keeps at most this many bytes (UTF-8) of a name; longer node names would be cut on import.
BLENDER_NAME_MAX_BYTES = 63


def unique_names(labels: list[str], reserved: tuple[str, ...] = ROOM_NODE_NAMES + (CAMERA_NODE_NAME,)) -> list[str]:
    """Node names from labels, made unique the way Blender does: ``chair``, ``chair.001``, ``chair.002``.

    Names are cut to Blender's 63 bytes (at a character boundary, the base cut further to leave room for the
    ``.001`` suffix), so that Blender's objects carry exactly these names.
    """
    taken, names = set(reserved), []
    for label in labels:
        name, counter = _cut_utf8(label, BLENDER_NAME_MAX_BYTES), 0
        while name in taken:
            counter += 1
            suffix = f".{counter:03d}"
            name = _cut_utf8(label, BLENDER_NAME_MAX_BYTES - len(suffix)) + suffix
        taken.add(name)
        names.append(name)
    return names


def _cut_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8, never inside a character."""
    return text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def category_colour(category: str) -> tuple[float, float, float]:
    """A stable, pleasant colour per category (linear RGB, 0..1)."""
    hue = int(hashlib.sha1(category.encode("utf-8")).hexdigest()[:6], 16) / float(0xFFFFFF)
    return colorsys.hls_to_rgb(hue, 0.55, 0.55)


def scene_to_glb(scene: Scene, shapes: bool = True) -> bytes:
    """The GLB bytes of ``scene``: each object a furniture shape (:mod:`.shapes`) filling its box, or the unit cube
    scaled to the box (an unknown category, or ``shapes=False``); the node transform is the same either way."""
    builder = _Builder()
    gltf: dict = {"asset": {"version": "2.0", "generator": "room3d"}, "scene": 0, "materials": [], "meshes": [],
                  "cameras": []}
    nodes: list[dict] = []
    materials: dict[str, int] = {}

    def material(key: str, colour, alpha: float = 1.0, double_sided: bool = False, metallic: float = 0.0,
                 roughness: float = 0.8) -> int:
        if key not in materials:
            materials[key] = len(gltf["materials"])
            gltf["materials"].append({
                "name": key,
                "pbrMetallicRoughness": {"baseColorFactor": [*map(float, colour), alpha], "metallicFactor": metallic,
                                         "roughnessFactor": roughness},
                **({"alphaMode": "BLEND"} if alpha < 1.0 else {}),
                "doubleSided": double_sided,
            })
        return materials[key]

    def mesh(name: str, accessors: tuple[int, int, int], material_index: int) -> int:
        gltf["meshes"].append({"name": name, "primitives": [{
            "attributes": {"POSITION": accessors[0], "NORMAL": accessors[1]}, "indices": accessors[2],
            "material": material_index}]})
        return len(gltf["meshes"]) - 1

    cube = None
    cube_meshes: dict[str, int] = {}
    names = unique_names([obj.label for obj in scene.objects])
    for name, obj in zip(names, scene.objects):
        shape = shape_mesh(obj.category, obj.size_m) if shapes else None
        if shape is not None:  # the object's own furniture mesh, in the same unit box
            primitives = []
            for part_material, geometry in shape.items():
                colour, metallic, roughness, opacity = MATERIALS[part_material]
                key = f"{obj.category}_{part_material}" if colour is None else part_material
                position, normal, indices = builder.add_geometry(*geometry)
                primitives.append({"attributes": {"POSITION": position, "NORMAL": normal}, "indices": indices,
                                   "material": material(key, colour or category_colour(obj.category), opacity,
                                                        metallic=metallic, roughness=roughness)})
            gltf["meshes"].append({"name": f"shape_{name}", "primitives": primitives})
            mesh_index = len(gltf["meshes"]) - 1
        else:
            if cube is None:
                cube = builder.add_geometry(*_unit_cube())
            if obj.category not in cube_meshes:
                cube_meshes[obj.category] = mesh(f"box_{obj.category}", cube,
                                                 material(obj.category, category_colour(obj.category)))
            mesh_index = cube_meshes[obj.category]
        nodes.append({
            "name": name,
            "mesh": mesh_index,
            "translation": [float(v) for v in obj.center_m],
            "rotation": [float(v) for v in frames.quaternion_xyzw_from_matrix(frames.rot_y(obj.yaw_rad))],
            "scale": [float(v) for v in obj.size_m],
            "extras": {"kind": "object", "label": obj.label, "detection_index": obj.detection_index,
                       "confidence": obj.confidence, "category": obj.category,
                       "shape": "furniture" if shape is not None else "box",
                       "box_center_m": [float(v) for v in obj.center_m], "box_size_m": [float(v) for v in obj.size_m],
                       "box_yaw_rad": float(obj.yaw_rad)},
        })

    room = scene.room
    quads = {"floor": [(x, 0.0, z) for x, z in room.floor_polygon_m]}
    quads.update({wall.name: list(wall.corners_m) for wall in room.walls})
    if room.ceiling_height_m is not None:
        quads["ceiling"] = [(x, room.ceiling_height_m, z) for x, z in reversed(room.floor_polygon_m)]
    shades = {"floor": (0.62, 0.55, 0.47), "ceiling": (0.92, 0.92, 0.90)}
    for name in ROOM_NODE_NAMES:
        if name not in quads:
            continue
        accessors = builder.add_geometry(*_polygon(np.array(quads[name], dtype=float)))
        index = mesh(name, accessors, material(f"room_{name.split('_')[0]}", shades.get(name, (0.85, 0.84, 0.80)),
                                               double_sided=True))
        placed = {wall.name: wall.source for wall in room.walls}.get(name)
        nodes.append({"name": name, "mesh": index,
                      "extras": {"kind": "room", "source": room.source, **({"placed_by": placed} if placed else {})}})

    intrinsics = scene.camera.intrinsics
    gltf["cameras"].append({"name": CAMERA_NODE_NAME, "type": "perspective", "perspective": {
        "yfov": float(intrinsics.vertical_fov_rad), "aspectRatio": intrinsics.width_px / intrinsics.height_px,
        "znear": 0.05, "zfar": 200.0}})
    pose = frames.world_from_camera_gl(scene.camera.world_from_camera)
    nodes.append({"name": CAMERA_NODE_NAME, "camera": 0,
                  "translation": [float(v) for v in pose[:3, 3]],
                  "rotation": [float(v) for v in frames.quaternion_xyzw_from_matrix(pose[:3, :3])],
                  "extras": {"kind": "camera", "fx": intrinsics.fx_px, "fy": intrinsics.fy_px,
                             "cx": intrinsics.cx_px, "cy": intrinsics.cy_px,
                             "width": intrinsics.width_px, "height": intrinsics.height_px}})
    gltf["nodes"] = nodes
    gltf["scenes"] = [{"name": "room3d", "nodes": list(range(len(nodes)))}]
    blob = builder.finish(gltf)
    return glb_bytes(gltf, blob)


#: GLB container (glTF 2.0, section 4.4): the magic, the version, and the two chunk types.
_GLB_MAGIC, _GLB_VERSION, _CHUNK_JSON, _CHUNK_BIN = b"glTF", 2, b"JSON", b"BIN\x00"


def glb_bytes(gltf: dict, blob: bytes) -> bytes:
    """A GLB file of the glTF JSON ``gltf`` (its one buffer without a ``uri``) and the binary buffer ``blob``: the
    JSON chunk padded with spaces and the BIN chunk with zeros to 4 bytes, as the specification asks. Strict JSON:
    a NaN or an infinity raises ValueError rather than writing a file no viewer reads."""
    text = json.dumps(gltf, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    text += b" " * (-len(text) % 4)
    blob = bytes(blob) + b"\x00" * (-len(blob) % 4)
    chunks = struct.pack("<I4s", len(text), _CHUNK_JSON) + text
    if blob:
        chunks += struct.pack("<I4s", len(blob), _CHUNK_BIN) + blob
    return struct.pack("<4sII", _GLB_MAGIC, _GLB_VERSION, 12 + len(chunks)) + chunks


def read_glb(glb: bytes) -> tuple[dict, bytes]:
    """The glTF JSON and the binary buffer (empty without one) of GLB bytes; ValueError for anything else."""
    if len(glb) < 20:
        raise ValueError("not a GLB file: too short")
    magic, version, length = struct.unpack_from("<4sII", glb, 0)
    if magic != _GLB_MAGIC or version != _GLB_VERSION or length != len(glb):
        raise ValueError("not a GLB 2.0 file (its header's magic, version or length is wrong)")
    offset, gltf, blob = 12, None, b""
    while offset + 8 <= length:
        size, kind = struct.unpack_from("<I4s", glb, offset)
        data = glb[offset + 8:offset + 8 + size]
        if len(data) != size:
            raise ValueError("a GLB chunk runs past the end of the file")
        if kind == _CHUNK_JSON and gltf is None:
            gltf = json.loads(data.decode("utf-8"))
        elif kind == _CHUNK_BIN and not blob:
            blob = bytes(data)
        offset += 8 + size
    if not isinstance(gltf, dict):
        raise ValueError("a GLB file without its JSON chunk")
    return gltf, blob


def glb_to_gltf(glb: bytes, bin_name: str = "scene.bin") -> tuple[str, bytes]:
    """The same asset as a ``.gltf`` JSON text whose one buffer is the external file ``bin_name``, and that file's
    bytes. For tools that prefer separate files; nothing but the buffer's ``uri`` changes."""
    gltf, blob = read_glb(glb)
    if len(gltf.get("buffers") or []) != 1 or not blob:
        raise ValueError("expected a GLB with exactly one binary buffer")
    gltf["buffers"][0] = {**gltf["buffers"][0], "uri": bin_name, "byteLength": len(blob)}
    return json.dumps(gltf, indent=1, ensure_ascii=False, allow_nan=False), blob


class _Builder:
    """Packs vertex and index arrays into one binary buffer with bufferViews and accessors."""

    def __init__(self):
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def _view(self, data: bytes, target: int) -> int:
        self.blob.extend(b"\x00" * (-len(self.blob) % 4))
        self.views.append({"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data), "target": target})
        self.blob.extend(data)
        return len(self.views) - 1

    def add_geometry(self, positions: np.ndarray, normals: np.ndarray, indices: np.ndarray) -> tuple[int, int, int]:
        out = []
        for array in (positions.astype("<f4"), normals.astype("<f4")):
            view = self._view(array.tobytes(), _ARRAY_BUFFER)
            self.accessors.append({"bufferView": view, "componentType": _FLOAT, "count": len(array), "type": "VEC3",
                                   "min": array.min(axis=0).tolist(), "max": array.max(axis=0).tolist()})
            out.append(len(self.accessors) - 1)
        flat = indices.astype("<u2").ravel()
        view = self._view(flat.tobytes(), _ELEMENT_ARRAY_BUFFER)
        self.accessors.append({"bufferView": view, "componentType": _UNSIGNED_SHORT, "count": len(flat),
                               "type": "SCALAR"})
        out.append(len(self.accessors) - 1)
        return tuple(out)

    def finish(self, gltf: dict) -> bytes:
        """Put the buffer, its views and the accessors into ``gltf``; returns the buffer's bytes."""
        self.blob.extend(b"\x00" * (-len(self.blob) % 4))
        gltf.update(buffers=[{"byteLength": len(self.blob)}], bufferViews=self.views, accessors=self.accessors)
        return bytes(self.blob)


def _unit_cube() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A -0.5..0.5 cube with flat normals: 24 vertices, 12 counter-clockwise (outward) triangles."""
    return cuboid(np.full(3, -0.5), np.full(3, 0.5))


def _polygon(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A planar convex polygon (N, 3) as a triangle fan with its normal (right-hand rule on the given order)."""
    normal = np.cross(points[1] - points[0], points[2] - points[0])
    normal /= max(np.linalg.norm(normal), 1e-12)
    count = len(points)
    indices = np.array([[0, i, i + 1] for i in range(1, count - 1)])
    return points, np.tile(normal, (count, 1)), indices
