"""Blender side of ``samples/generate.py``: build one scene from a JSON spec, render it, ray-cast its depth.

Run by ``generate.py`` as::

    blender -b --factory-startup --python-exit-code 1 --python samples/blender_render.py -- spec.json

Everything geometric in the spec is already in **Blender's frame** (+Z up; ``generate.py`` converts with
``pipeline.frames.blender_from_world``): mesh vertices, light positions and the camera's ``matrix_world`` (the GL
camera frame: x right, y up, looks down its local -Z). This script does no frame conversion of its own.

Outputs (paths from the spec):

* ``photo``: the Cycles render (CPU), 8-bit RGB PNG;
* ``depth``: 16-bit grey PNG, planar depth (z in the OpenCV camera frame = distance along the camera's viewing
  axis) in millimetres, 0 = no hit. Every pixel's ray goes through the pixel *centre*; the rays are built from the
  Blender camera itself (``Camera.view_frame`` and the camera's ``matrix_world``), so a mismatch between the Blender
  camera and the intended intrinsics / pose shows up as a mismatch between this depth map and the truth.
"""

import json
import struct
import sys
import time
import zlib

import bpy
import numpy as np
from mathutils import Matrix, Vector


# ---------------------------------------------------------------------------------------------- materials


def _rgba(c):
    c = list(c)
    return (c[0], c[1], c[2], 1.0) if len(c) == 3 else tuple(c)


def _ramp(nodes, fac_socket, c0, c1, links, p0=0.0, p1=1.0, constant=False):
    ramp = nodes.new("ShaderNodeValToRGB")
    if constant:
        ramp.color_ramp.interpolation = "CONSTANT"
    el = ramp.color_ramp.elements
    el[0].position, el[0].color = p0, _rgba(c0)
    el[1].position, el[1].color = p1, _rgba(c1)
    links.new(fac_socket, ramp.inputs["Fac"])
    return ramp


def _mapping(nodes, links, scale=(1.0, 1.0, 1.0), location=(0.0, 0.0, 0.0)):
    coord = nodes.new("ShaderNodeTexCoord")
    mapping = nodes.new("ShaderNodeMapping")
    mapping.inputs["Scale"].default_value = scale
    mapping.inputs["Location"].default_value = location
    links.new(coord.outputs["UV"], mapping.inputs["Vector"])
    return mapping.outputs["Vector"]


def _bump(nodes, links, height_socket, strength, distance, bsdf):
    bump = nodes.new("ShaderNodeBump")
    bump.inputs["Strength"].default_value = strength
    bump.inputs["Distance"].default_value = distance
    links.new(height_socket, bump.inputs["Height"])
    links.new(bump.outputs["Normal"], bsdf.inputs["Normal"])


def _multiply(nodes, links, a, b):
    mix = nodes.new("ShaderNodeMixRGB")
    mix.blend_type = "MULTIPLY"
    mix.inputs["Fac"].default_value = 1.0
    links.new(a, mix.inputs["Color1"])
    links.new(b, mix.inputs["Color2"])
    return mix.outputs["Color"]


def make_material(name, p):
    """One procedural material; ``p['type']`` picks the recipe, the other keys are its parameters (UV in metres)."""
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    bsdf = nodes["Principled BSDF"]
    out = nodes["Material Output"]
    kind = p["type"]
    bsdf.inputs["Roughness"].default_value = p.get("roughness", 0.6)
    bsdf.inputs["Specular"].default_value = p.get("specular", 0.4)

    if kind == "paint":  # wall paint / lacquer: low-frequency blotches and a fine bump
        uv = _mapping(nodes, links)
        noise = nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = p.get("blotch_scale", 1.5)
        noise.inputs["Detail"].default_value = 4.0
        links.new(uv, noise.inputs["Vector"])
        c = p["color"]
        a = p.get("variation", 0.05)
        _ramp(nodes, noise.outputs["Fac"], [x * (1 - a) for x in c], [min(1.0, x * (1 + a)) for x in c], links,
              0.3, 0.7)
        links.new(nodes["ColorRamp"].outputs["Color"], bsdf.inputs["Base Color"])
        if p.get("bump", 0.0) > 0:
            fine = nodes.new("ShaderNodeTexNoise")
            fine.inputs["Scale"].default_value = 300.0
            fine.inputs["Detail"].default_value = 2.0
            links.new(uv, fine.inputs["Vector"])
            _bump(nodes, links, fine.outputs["Fac"], p["bump"], 0.002, bsdf)

    elif kind == "wood":  # furniture wood: grain bands along u
        uv = _mapping(nodes, links, scale=(1.0, p.get("grain_stretch", 6.0), 1.0))
        wave = nodes.new("ShaderNodeTexWave")
        wave.wave_type = "BANDS"
        wave.bands_direction = "Y"
        wave.inputs["Scale"].default_value = p.get("grain_scale", 1.2)
        wave.inputs["Distortion"].default_value = 6.0
        wave.inputs["Detail"].default_value = 3.0
        wave.inputs["Detail Scale"].default_value = 1.5
        links.new(uv, wave.inputs["Vector"])
        ramp = _ramp(nodes, wave.outputs["Fac"], p["color1"], p["color2"], links, 0.2, 0.9)
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])

    elif kind in ("planks", "tiles"):  # floor: Brick texture (staggered planks or a square grid)
        uv = _mapping(nodes, links)
        brick = nodes.new("ShaderNodeTexBrick")
        brick.offset = 0.5 if kind == "planks" else 0.0
        brick.offset_frequency = 2 if kind == "planks" else 1
        brick.inputs["Scale"].default_value = 1.0
        brick.inputs["Brick Width"].default_value = p["length"]
        brick.inputs["Row Height"].default_value = p["width"]
        brick.inputs["Mortar Size"].default_value = p.get("gap", 0.003)
        brick.inputs["Mortar Smooth"].default_value = 0.2
        brick.inputs["Bias"].default_value = 0.0
        brick.inputs["Color1"].default_value = _rgba(p["color1"])
        brick.inputs["Color2"].default_value = _rgba(p["color2"])
        brick.inputs["Mortar"].default_value = _rgba(p["gap_color"])
        links.new(uv, brick.inputs["Vector"])
        if kind == "planks":
            grain_uv = _mapping(nodes, links, scale=(1.0, 8.0, 1.0))
            wave = nodes.new("ShaderNodeTexWave")
            wave.wave_type = "BANDS"
            wave.bands_direction = "Y"
            wave.inputs["Scale"].default_value = 2.0
            wave.inputs["Distortion"].default_value = 8.0
            wave.inputs["Detail"].default_value = 3.0
            links.new(grain_uv, wave.inputs["Vector"])
            ramp = _ramp(nodes, wave.outputs["Fac"], (0.72, 0.72, 0.72), (1.0, 1.0, 1.0), links, 0.1, 0.9)
            color = _multiply(nodes, links, brick.outputs["Color"], ramp.outputs["Color"])
        else:
            noise = nodes.new("ShaderNodeTexNoise")
            noise.inputs["Scale"].default_value = 6.0
            links.new(uv, noise.inputs["Vector"])
            ramp = _ramp(nodes, noise.outputs["Fac"], (0.9, 0.9, 0.9), (1.0, 1.0, 1.0), links, 0.3, 0.7)
            color = _multiply(nodes, links, brick.outputs["Color"], ramp.outputs["Color"])
        links.new(color, bsdf.inputs["Base Color"])
        _bump(nodes, links, brick.outputs["Fac"], 0.4, 0.002, bsdf)

    elif kind == "fabric":
        uv = _mapping(nodes, links)
        noise = nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 40.0
        noise.inputs["Detail"].default_value = 6.0
        links.new(uv, noise.inputs["Vector"])
        c = p["color"]
        ramp = _ramp(nodes, noise.outputs["Fac"], [x * 0.85 for x in c], [min(1.0, x * 1.1) for x in c], links)
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        bsdf.inputs["Sheen"].default_value = 0.5
        bsdf.inputs["Roughness"].default_value = p.get("roughness", 0.9)
        _bump(nodes, links, noise.outputs["Fac"], 0.15, 0.003, bsdf)

    elif kind == "leaf":
        uv = _mapping(nodes, links)
        noise = nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 12.0
        noise.inputs["Detail"].default_value = 8.0
        links.new(uv, noise.inputs["Vector"])
        ramp = _ramp(nodes, noise.outputs["Fac"], p["color1"], p["color2"], links, 0.35, 0.65)
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        _bump(nodes, links, noise.outputs["Fac"], 0.6, 0.01, bsdf)

    elif kind == "rug":  # stripes along u
        uv = _mapping(nodes, links)
        wave = nodes.new("ShaderNodeTexWave")
        wave.wave_type = "BANDS"
        wave.bands_direction = "X"
        wave.inputs["Scale"].default_value = p.get("stripes", 3.0)
        wave.inputs["Distortion"].default_value = 0.5
        links.new(uv, wave.inputs["Vector"])
        ramp = _ramp(nodes, wave.outputs["Fac"], p["color1"], p["color2"], links, 0.45, 0.55, constant=True)
        noise = nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = 60.0
        links.new(uv, noise.inputs["Vector"])
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        bsdf.inputs["Roughness"].default_value = 0.95
        _bump(nodes, links, noise.outputs["Fac"], 0.3, 0.003, bsdf)

    elif kind == "art":  # a picture: a colourful smooth pattern
        uv = _mapping(nodes, links)
        noise = nodes.new("ShaderNodeTexNoise")
        noise.inputs["Scale"].default_value = p.get("scale", 2.0)
        noise.inputs["Detail"].default_value = 2.0
        noise.inputs["Distortion"].default_value = 1.5
        links.new(uv, noise.inputs["Vector"])
        ramp = _ramp(nodes, noise.outputs["Fac"], p["color1"], p["color2"], links, 0.35, 0.65)
        links.new(ramp.outputs["Color"], bsdf.inputs["Base Color"])
        bsdf.inputs["Roughness"].default_value = 0.5

    elif kind == "metal":
        bsdf.inputs["Base Color"].default_value = _rgba(p["color"])
        bsdf.inputs["Metallic"].default_value = 1.0
        bsdf.inputs["Roughness"].default_value = p.get("roughness", 0.3)

    elif kind == "plain":
        bsdf.inputs["Base Color"].default_value = _rgba(p["color"])

    elif kind == "emission":  # window glass (sky), ceiling fixture
        emit = nodes.new("ShaderNodeEmission")
        emit.inputs["Color"].default_value = _rgba(p["color"])
        emit.inputs["Strength"].default_value = p["strength"]
        links.new(emit.outputs["Emission"], out.inputs["Surface"])

    elif kind == "shade":  # lamp shade: diffuse fabric that glows a little
        bsdf.inputs["Base Color"].default_value = _rgba(p["color"])
        bsdf.inputs["Emission"].default_value = _rgba(p["glow"])
        bsdf.inputs["Emission Strength"].default_value = p.get("strength", 1.0)
        bsdf.inputs["Roughness"].default_value = 0.9

    else:
        raise ValueError(f"unknown material type {kind!r}")
    return mat


# ---------------------------------------------------------------------------------------------- scene


def build_mesh(scene, mesh_spec, materials):
    verts = mesh_spec["vertices"]
    faces = mesh_spec["faces"]
    mesh = bpy.data.meshes.new(mesh_spec["name"])
    mesh.from_pydata(verts, [], faces)
    uv_layer = mesh.uv_layers.new(name="UVMap")
    uv_flat = np.asarray(mesh_spec["uvs"], dtype=np.float32).reshape(-1)
    assert uv_flat.size == 2 * len(mesh.loops), (mesh_spec["name"], uv_flat.size, len(mesh.loops))
    uv_layer.data.foreach_set("uv", uv_flat)
    slots = mesh_spec["materials"]
    for m in slots:
        mesh.materials.append(materials[m])
    mesh.polygons.foreach_set("material_index", np.asarray(mesh_spec["material_index"], dtype=np.int32))
    mesh.polygons.foreach_set("use_smooth", np.asarray(mesh_spec["smooth"], dtype=bool))
    mesh.validate()
    mesh.update()
    obj = bpy.data.objects.new(mesh_spec["name"], mesh)
    scene.collection.objects.link(obj)
    return obj


def build_scene(spec):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    width, height = spec["width"], spec["height"]

    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y = width, height
    render.resolution_percentage = 100
    render.pixel_aspect_x = render.pixel_aspect_y = 1.0
    render.film_transparent = False
    render.image_settings.file_format = "PNG"
    render.image_settings.color_mode = "RGB"
    render.image_settings.color_depth = "8"
    render.image_settings.compression = 90

    cycles = scene.cycles
    cycles.device = "CPU"
    cycles.samples = spec["samples"]
    cycles.use_adaptive_sampling = True
    cycles.adaptive_threshold = spec.get("adaptive_threshold", 0.01)
    cycles.use_denoising = False  # this Blender build has no OpenImageDenoise; generate.py denoises afterwards
    cycles.max_bounces = 4
    cycles.diffuse_bounces = spec.get("diffuse_bounces", 3)
    cycles.glossy_bounces = 2
    cycles.transmission_bounces = 0
    cycles.volume_bounces = 0
    cycles.transparent_max_bounces = 2
    cycles.caustics_reflective = False
    cycles.caustics_refractive = False
    cycles.sample_clamp_direct = spec.get("clamp_direct", 0.0)
    cycles.sample_clamp_indirect = spec.get("clamp_indirect", 1.0)
    cycles.blur_glossy = 1.0
    cycles.seed = spec.get("seed", 0)

    scene.view_settings.view_transform = "Filmic"
    scene.view_settings.look = spec.get("look", "Medium High Contrast")
    scene.view_settings.exposure = spec.get("exposure", 0.0)

    world = bpy.data.worlds.new("world")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = _rgba(spec["world"]["color"])
    world.node_tree.nodes["Background"].inputs["Strength"].default_value = spec["world"]["strength"]
    scene.world = world

    materials = {name: make_material(name, p) for name, p in spec["materials"].items()}
    for mesh_spec in spec["meshes"]:
        build_mesh(scene, mesh_spec, materials)

    for i, light in enumerate(spec["lights"]):
        data = bpy.data.lights.new(f"light_{i}", type=light["type"])
        data.energy = light["energy"]
        data.color = light["color"]
        if light["type"] == "AREA":  # emits along its local -Z: identity rotation = straight down in Blender
            data.shape = "RECTANGLE"
            data.size, data.size_y = light["size"]
        else:
            data.shadow_soft_size = light.get("radius", 0.25)
        obj = bpy.data.objects.new(f"light_{i}", data)
        obj.location = light["location"]
        obj.visible_camera = False
        scene.collection.objects.link(obj)

    cam_spec = spec["camera"]
    cam_data = bpy.data.cameras.new("camera")
    cam_data.type = "PERSP"
    cam_data.sensor_fit = "HORIZONTAL"
    cam_data.sensor_width = cam_spec["sensor_width_mm"]
    cam_data.lens = cam_spec["lens_mm"]
    cam_data.shift_x = cam_data.shift_y = 0.0
    cam_data.clip_start = 0.01
    cam_data.clip_end = 200.0
    cam = bpy.data.objects.new("camera", cam_data)
    cam.matrix_world = Matrix(cam_spec["matrix_world"])
    scene.collection.objects.link(cam)
    scene.camera = cam
    bpy.context.view_layer.update()
    return scene, cam


# ---------------------------------------------------------------------------------------------- depth


def ray_cast_depth(scene, cam, width, height):
    """(H, W) float planar depth in metres through every pixel centre, from the Blender camera; 0 = no hit."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    frame = cam.data.view_frame(scene=scene)  # the sensor rectangle, camera-local, at some z < 0
    xs = [v.x for v in frame]
    ys = [v.y for v in frame]
    z_plane = frame[0].z
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    u = (np.arange(width) + 0.5) / width  # pixel centres, left to right
    v = (np.arange(height) + 0.5) / height  # top to bottom
    local_x = x0 + u * (x1 - x0)
    local_y = y1 - v * (y1 - y0)
    mw = np.array(cam.matrix_world)
    rot, origin = mw[:3, :3], mw[:3, 3]
    grid_x, grid_y = np.meshgrid(local_x, local_y)
    dirs_local = np.stack([grid_x, grid_y, np.full_like(grid_x, z_plane)], axis=-1).reshape(-1, 3)
    dirs = dirs_local @ rot.T
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    hits = np.full((dirs.shape[0], 3), np.nan)
    origin_v = Vector(origin.tolist())
    ray_cast = scene.ray_cast
    for i, d in enumerate(dirs.tolist()):
        ok, loc, _normal, _index, _obj, _m = ray_cast(depsgraph, origin_v, Vector(d), distance=1.0e3)
        if ok:
            hits[i] = loc
    local = (hits - origin) @ rot  # rows: rot.T @ (hit - origin), camera-local (x right, y up, looks down -z)
    depth = -local[:, 2]
    depth = np.where(np.isfinite(depth), depth, 0.0)
    return depth.reshape(height, width)


def write_png16(path, array_u16):
    """Minimal 16-bit greyscale PNG writer (Blender's Python has no PIL); rows use the 'Up' filter."""
    a = np.ascontiguousarray(array_u16.astype(">u2"))
    h, w = a.shape
    raw = a.view(np.uint8).reshape(h, 2 * w)
    up = raw.copy()
    up[1:] = (raw[1:].astype(np.int16) - raw[:-1].astype(np.int16)) % 256
    rows = np.concatenate([np.full((h, 1), 2, np.uint8), up], axis=1)  # filter type 2 = Up
    rows[0, 0] = 0  # first row: no filter (Up of the first row equals None anyway)

    def chunk(tag, data):
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


# ---------------------------------------------------------------------------------------------- main


def main():
    argv = sys.argv[sys.argv.index("--") + 1:]
    with open(argv[0]) as f:
        spec = json.load(f)
    t0 = time.time()
    scene, cam = build_scene(spec)
    t1 = time.time()
    depth_m = ray_cast_depth(scene, cam, spec["width"], spec["height"])
    depth_mm = np.clip(np.round(depth_m * 1000.0), 0, 65535).astype(np.uint16)
    write_png16(spec["depth"], depth_mm)
    t2 = time.time()
    if spec.get("photo"):
        scene.render.filepath = spec["photo"]
        bpy.ops.render.render(write_still=True)
    t3 = time.time()
    print(f"[blender_render] build {t1 - t0:.1f}s  depth {t2 - t1:.1f}s  render {t3 - t2:.1f}s", flush=True)


if __name__ == "__main__":
    main()
