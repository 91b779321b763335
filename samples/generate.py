#!/usr/bin/env python3
"""Regenerate the regression sample scenes of room3d: ``samples/<name>/`` with a photo, its metric depth, the truth
and what Qwen3-VL / Qwen2.5-VL grounding would answer for it.

Run from the repository root (``pipeline`` must be importable; before the package is installed use ``PYTHONPATH=.``)::

    .venv/bin/python samples/generate.py                 # all scenes, then the checks
    .venv/bin/python samples/generate.py --only living_01 --samples 32
    .venv/bin/python samples/generate.py --no-render --out /tmp/x   # truth + grounding only

Each scene is built in numpy from its own fixed seed (``SCENES``): room, camera, furniture, materials, lights. All
geometry is made here in the glTF world frame of CONVENTIONS.md and converted to Blender's frame with
``pipeline.frames.blender_from_world``; ``samples/blender_render.py`` (run by Blender in a subprocess) only builds
what it is given, renders ``photo.png`` with Cycles on the CPU and ray-casts ``depth.png`` from the Blender camera.
The furniture and decor geometry (boxes, cylinders, ellipsoids at real-world sizes) lives in ``samples/furniture.py``;
``samples/check_truth.py`` runs at the end and checks truth vs grounding vs depth vs photo.
Same seed -> same ``truth.json`` and grounding files (the photo is deterministic too for a given Blender build).

Frames of a scene: the room is a rectangle with its own frame (origin at its centre on the floor, walls "north" at
local -Z, "south" +Z, "east" +X, "west" -X); ``world = Ry(room_yaw) @ local + t``, with ``t`` chosen so that the
camera stands above the world origin (CONVENTIONS.md). The camera stands near the south wall looking north.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline import frames

try:  # run as a plain script (samples/ on sys.path) or imported as samples.generate
    import furniture as F
except ImportError:  # pragma: no cover
    from samples import furniture as F

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# ---------------------------------------------------------------------------------------------- the scenes

#: One entry per sample scene. Ranges are sampled with the scene's seed; a single number fixes the value.
#: ``fenced``: (qwen3, qwen2.5) written as a chat answer (prose + ```json fence) instead of bare JSON.
SCENES = [
    dict(name="bedroom_01", seed=101, room_type="bedroom", size=(640, 480), room_yaw_deg=(18, 32),
         pitch_deg=(-18, -10), f35_mm=(24, 28), fenced=(True, False)),
    dict(name="bedroom_02", seed=102, room_type="bedroom", size=(640, 480), room_yaw_deg=(-34, -20),
         pitch_deg=(-14, -6), f35_mm=(30, 35), fenced=(False, True)),
    dict(name="living_01", seed=103, room_type="living", size=(640, 480), room_yaw_deg=(-28, -12),
         pitch_deg=(-16, -8), f35_mm=(22, 26), fenced=(True, True)),
    dict(name="living_02", seed=104, room_type="living", size=(640, 480), room_yaw_deg=(28, 40),
         pitch_deg=(-12, -6), f35_mm=(24, 30), fenced=(False, False)),
    dict(name="office_01", seed=105, room_type="office", size=(640, 480), room_yaw_deg=0.0,
         pitch_deg=(-14, -8), roll_deg=(-1.0, 1.0), f35_mm=(24, 27), fenced=(True, False)),
    dict(name="dining_01", seed=106, room_type="dining", size=(640, 480), room_yaw_deg=(10, 24),
         pitch_deg=(-22, -15), f35_mm=(24, 28), fenced=(False, True), floor="beige tiles"),
    dict(name="kids_01", seed=107, room_type="kids", size=(640, 480), room_yaw_deg=(-40, -30),
         pitch_deg=(-25, -19), height_m=(1.0, 1.2), f35_mm=(20, 23), fenced=(True, False)),
    dict(name="studio_01", seed=108, room_type="studio", size=(640, 480), room_yaw_deg=(-10, 10),
         pitch_deg=(-12, -6), f35_mm=(20, 22), fenced=(False, False)),
    dict(name="bedroom_03_portrait", seed=109, room_type="bedroom", size=(480, 640), room_yaw_deg=(-24, -8),
         pitch_deg=(-20, -12), f35_mm=(24, 27), fenced=(True, True)),
    dict(name="living_03_wide", seed=110, room_type="living", size=(800, 600), room_yaw_deg=(8, 22),
         pitch_deg=(-4, -1), roll_deg=(3.0, 5.0), f35_mm=(21, 24), fenced=(False, True)),
    dict(name="office_02", seed=111, room_type="office", size=(640, 480), room_yaw_deg=(22, 38),
         pitch_deg=(-20, -12), roll_deg=(-5.0, -3.0), f35_mm=(26, 30), fenced=(True, False), floor="grey tiles"),
]

ROOM_SIZES = {  # (width along room x, depth along room z) ranges, metres
    "bedroom": ((3.6, 4.6), (4.0, 5.0)),
    "living": ((4.2, 5.8), (4.6, 6.0)),
    "office": ((3.2, 4.0), (3.6, 4.6)),
    "dining": ((3.8, 5.0), (4.2, 5.4)),
    "kids": ((3.2, 3.8), (3.6, 4.2)),
    "studio": ((5.0, 6.0), (5.2, 6.0)),
}

WALLS = ("north", "east", "south", "west")
#: room-local yaw of an object standing against each wall, front into the room (local +z = object front).
WALL_YAW = {"north": 0.0, "east": -math.pi / 2, "south": math.pi, "west": math.pi / 2}

BASEBOARD_H, BASEBOARD_T, WALL_GAP = 0.08, 0.012, 0.02
#: labels a person would call these objects (and the models would emit).
LABELS = ("bed", "nightstand", "wardrobe", "table lamp", "sofa", "coffee table", "armchair", "tv stand", "tv",
          "bookshelf", "desk", "office chair", "dining table", "chair", "dresser", "floor lamp", "plant")


def _draw(rng, spec):
    """A number from a scene spec entry: a fixed number or a (lo, hi) uniform range."""
    if isinstance(spec, (int, float)):
        return float(spec)
    return float(rng.uniform(spec[0], spec[1]))


# ---------------------------------------------------------------------------------------------- materials


def _jitter(rng, color, amount=0.08):
    return [float(np.clip(c * (1.0 + rng.uniform(-amount, amount)), 0.0, 1.0)) for c in color]


PAINTS = {
    "warm white": (0.80, 0.76, 0.68), "light grey": (0.60, 0.60, 0.58), "beige": (0.68, 0.58, 0.44),
    "pale blue": (0.48, 0.58, 0.68), "sage": (0.44, 0.52, 0.40), "greige": (0.58, 0.54, 0.47),
}
KIDS_PAINTS = {"pale pink": (0.80, 0.55, 0.52), "mint": (0.50, 0.72, 0.58), "sky": (0.45, 0.62, 0.80)}
FLOORS = {
    "oak planks": ("planks", (0.42, 0.27, 0.14), (0.34, 0.21, 0.10)),
    "walnut planks": ("planks", (0.16, 0.09, 0.05), (0.11, 0.06, 0.035)),
    "grey planks": ("planks", (0.30, 0.27, 0.23), (0.23, 0.21, 0.18)),
    "honey planks": ("planks", (0.50, 0.30, 0.12), (0.40, 0.24, 0.09)),
    "grey tiles": ("tiles", (0.26, 0.26, 0.25), (0.22, 0.22, 0.21)),
    "beige tiles": ("tiles", (0.36, 0.30, 0.22), (0.31, 0.26, 0.19)),
}
WOODS = {
    "oak": ((0.45, 0.30, 0.16), (0.34, 0.21, 0.10)),
    "walnut": ((0.13, 0.075, 0.045), (0.085, 0.05, 0.03)),
    "birch": ((0.62, 0.50, 0.34), (0.52, 0.40, 0.26)),
    "white": ((0.78, 0.78, 0.76), (0.74, 0.74, 0.72)),
    "black": ((0.035, 0.035, 0.035), (0.025, 0.025, 0.025)),
}
FABRICS = {
    "grey": (0.22, 0.22, 0.23), "navy": (0.05, 0.08, 0.18), "beige": (0.50, 0.42, 0.30),
    "green": (0.10, 0.22, 0.10), "mustard": (0.60, 0.38, 0.05), "terracotta": (0.48, 0.16, 0.07),
    "teal": (0.04, 0.22, 0.22), "blush": (0.60, 0.34, 0.32), "charcoal": (0.06, 0.06, 0.07),
}
BOOK_COLORS = [(0.5, 0.05, 0.04), (0.05, 0.12, 0.35), (0.7, 0.6, 0.4), (0.08, 0.25, 0.1), (0.75, 0.72, 0.65),
               (0.6, 0.35, 0.05), (0.02, 0.02, 0.02), (0.35, 0.1, 0.3)]


def floor_material(rng, floor_name):
    kind, c1, c2 = FLOORS[floor_name]
    if kind == "planks":
        return {"type": "planks", "color1": list(c1), "color2": list(c2), "length": float(rng.uniform(1.0, 1.6)),
                "width": float(rng.uniform(0.12, 0.2)), "gap": 0.0025, "gap_color": [c * 0.35 for c in c2],
                "roughness": 0.45}
    t = float(rng.choice([0.3, 0.45, 0.6]))
    return {"type": "tiles", "color1": list(c1), "color2": list(c2), "length": t, "width": t,
            "gap": 0.006, "gap_color": [0.09, 0.09, 0.085], "roughness": 0.3}


def make_materials(rng, room_type):
    """(palette: role -> material key, materials: key -> Blender recipe, description) for one scene."""
    mats = {}
    paints = dict(PAINTS, **KIDS_PAINTS) if room_type == "kids" else PAINTS
    wall_name = list(paints)[int(rng.integers(len(paints)))]
    mats["wall"] = {"type": "paint", "color": _jitter(rng, paints[wall_name], 0.04), "variation": 0.05,
                    "bump": 0.08, "roughness": 0.85, "blotch_scale": 1.2}
    floor_names = list(FLOORS) if room_type in ("dining", "office", "studio") else [
        n for n in FLOORS if "planks" in n]
    floor_name = floor_names[int(rng.integers(len(floor_names)))]
    mats["floor"] = floor_material(rng, floor_name)
    mats["ceiling"] = {"type": "paint", "color": [0.8, 0.8, 0.79], "variation": 0.02, "roughness": 0.9}
    mats["trim"] = {"type": "paint", "color": [0.78, 0.78, 0.76], "variation": 0.01, "roughness": 0.4}
    wood_names = [n for n in WOODS if n != "white"] if room_type != "kids" else ["white", "birch", "oak"]
    w1 = wood_names[int(rng.integers(len(wood_names)))]
    w2 = wood_names[int(rng.integers(len(wood_names)))]
    for key, name in (("wood1", w1), ("wood2", w2)):
        a, b = WOODS[name]
        if name in ("white", "black"):
            mats[key] = {"type": "paint", "color": list(a), "variation": 0.02, "roughness": 0.35}
        else:
            mats[key] = {"type": "wood", "color1": list(a), "color2": list(b), "roughness": 0.45,
                         "grain_scale": float(rng.uniform(0.8, 1.6))}
    front = rng.random()
    mats["front"] = dict(mats["wood1"]) if front < 0.6 else {
        "type": "paint", "color": _jitter(rng, (0.7, 0.7, 0.68) if front < 0.85 else (0.15, 0.2, 0.25), 0.05),
        "variation": 0.02, "roughness": 0.3}
    fabric_names = list(FABRICS)
    chosen = rng.choice(len(fabric_names), size=3, replace=False)
    for k, i in zip(("fabric1", "fabric2", "fabric3"), chosen):
        mats[k] = {"type": "fabric", "color": _jitter(rng, FABRICS[fabric_names[i]], 0.08)}
    mats["bedding"] = {"type": "fabric", "color": [0.78, 0.78, 0.77]}
    mats["duvet"] = {"type": "fabric", "color": _jitter(rng, [(0.75, 0.74, 0.7), (0.45, 0.52, 0.6),
                                                               (0.6, 0.55, 0.45)][int(rng.integers(3))], 0.05)}
    mats["pillow"] = {"type": "fabric", "color": [0.82, 0.82, 0.8]}
    mats["pillow2"] = {"type": "fabric", "color": _jitter(rng, FABRICS[fabric_names[int(rng.integers(9))]], 0.1)}
    mats["metal"] = {"type": "metal", "color": [0.6, 0.6, 0.6] if rng.random() < 0.6 else [0.6, 0.45, 0.25],
                     "roughness": 0.3}
    mats["black"] = {"type": "plain", "color": [0.02, 0.02, 0.02], "roughness": 0.35}
    mats["screen"] = {"type": "plain", "color": [0.005, 0.005, 0.006], "roughness": 0.08, "specular": 0.6}
    mats["sky"] = {"type": "emission", "color": [0.75, 0.85, 1.0], "strength": float(rng.uniform(1.2, 1.8))}
    mats["fixture"] = {"type": "emission", "color": [1.0, 0.95, 0.85], "strength": 6.0}
    mats["shade"] = {"type": "shade", "color": [0.8, 0.75, 0.65], "glow": [1.0, 0.8, 0.55], "strength": 1.5}
    mats["ceramic"] = {"type": "plain", "color": _jitter(rng, [(0.7, 0.7, 0.68), (0.1, 0.2, 0.35),
                                                               (0.5, 0.3, 0.2)][int(rng.integers(3))]),
                       "roughness": 0.2}
    mats["pot"] = {"type": "plain", "color": [(0.45, 0.18, 0.08), (0.7, 0.7, 0.68), (0.08, 0.08, 0.08)][
        int(rng.integers(3))], "roughness": 0.6}
    mats["soil"] = {"type": "plain", "color": [0.05, 0.03, 0.02], "roughness": 1.0}
    mats["stem"] = {"type": "plain", "color": [0.12, 0.08, 0.04], "roughness": 0.8}
    mats["leaf"] = {"type": "leaf", "color1": [0.02, 0.09, 0.02], "color2": [0.08, 0.25, 0.05], "roughness": 0.6}
    for i in range(6):
        mats[f"book{i}"] = {"type": "plain", "color": _jitter(rng, BOOK_COLORS[int(rng.integers(len(BOOK_COLORS)))]),
                            "roughness": 0.6}
    mats["door"] = dict(mats["trim"]) if rng.random() < 0.6 else dict(mats["wood2"])
    mats["frame"] = {"type": "plain", "color": [0.03, 0.03, 0.03] if rng.random() < 0.5 else [0.6, 0.45, 0.2],
                     "roughness": 0.4}
    mats["art"] = {"type": "art", "color1": _jitter(rng, FABRICS[fabric_names[int(rng.integers(9))]], 0.1),
                   "color2": [0.8, 0.78, 0.7], "scale": float(rng.uniform(1.5, 4.0))}
    mats["rug"] = {"type": "rug", "color1": _jitter(rng, FABRICS[fabric_names[int(rng.integers(9))]], 0.1),
                   "color2": [0.7, 0.66, 0.58], "stripes": float(rng.uniform(2.0, 5.0))}
    palette = {k: k for k in mats}
    desc = {"wall": wall_name, "floor": floor_name, "wood1": w1, "wood2": w2}
    return palette, mats, desc


# ---------------------------------------------------------------------------------------------- items


@dataclass
class Item:
    """One piece of geometry in the room-local frame: furniture (labelled), decor (unlabelled) or a keep-out."""

    label: str | None
    parts: list
    name: str = ""  # for unlabelled items: "room", "window", "door", "picture", "rug", "fixture", "keepout"
    yaw: float = 0.0  # room-local yaw (a multiple of 90 degrees)
    pos: np.ndarray = field(default_factory=lambda: np.zeros(3))  # room-local position of the object origin
    support: int | None = None  # index (in Layout.items) of the item it stands on
    collide: bool = True
    required: bool = False
    render: bool = True
    lo: np.ndarray = None
    hi: np.ndarray = None

    def __post_init__(self):
        if self.parts:
            self.lo, self.hi = F.part_bounds(self.parts)

    @property
    def size(self):
        return self.hi - self.lo

    def room_from_object(self):
        return frames.rigid(frames.rot_y(self.yaw), self.pos)

    def room_aabb(self):
        corners = frames.box_corners((self.lo + self.hi) / 2, self.hi - self.lo, 0.0)
        pts = frames.transform_points(self.room_from_object(), corners)
        return pts.min(axis=0), pts.max(axis=0)


def keepout(lo, hi):
    """An invisible box (room-local) that furniture must not enter: the camera, the swing of a door."""
    it = Item(None, [], name="keepout", render=False)
    it.lo, it.hi = np.asarray(lo, float), np.asarray(hi, float)
    return it


# ---------------------------------------------------------------------------------------------- camera


@dataclass
class Camera:
    width: int
    height: int
    f35_mm: float
    pitch_deg: float
    roll_deg: float
    height_m: float

    @property
    def fx(self):
        return self.f35_mm / 36.0 * max(self.width, self.height)

    @property
    def k(self):
        return frames.intrinsics_matrix(self.fx, self.fx, self.width / 2.0, self.height / 2.0)

    @property
    def world_from_camera(self):
        return frames.world_from_camera_from_attitude(math.radians(self.pitch_deg), math.radians(self.roll_deg),
                                                      self.height_m)

    def rays(self, step=1):
        """World-frame ray directions through pixel centres (every ``step`` pixels), scaled to camera z = 1."""
        us = np.arange(step / 2.0, self.width, step)
        vs = np.arange(step / 2.0, self.height, step)
        uu, vv = np.meshgrid(us, vs)
        rays_cam = frames.pixel_rays(self.k, np.stack([uu, vv], axis=-1))
        return rays_cam @ self.world_from_camera[:3, :3].T


# ---------------------------------------------------------------------------------------------- layout


class Layout:
    """Places furniture in a rectangular room (room-local frame: origin at the room centre on the floor, walls at
    x = +-W/2 (east/west) and z = +-D/2 (south/north), +y up) seen by a camera standing at ``cam_local``."""

    def __init__(self, rng, room_w, room_d, room_h, room_yaw, cam_local, camera: Camera):
        self.rng = rng
        self.w, self.d, self.h = room_w, room_d, room_h
        self.room_yaw = room_yaw
        self.cam_local = np.asarray(cam_local, float)
        rot = frames.rot_y(room_yaw)
        # world = rot @ local + t, with the camera's floor point at the world origin
        self.world_from_room = frames.rigid(rot, -rot @ self.cam_local)
        self.camera = camera
        self.items: list[Item] = []
        c = self.cam_local
        self.items.append(keepout([c[0] - 0.6, 0, c[2] - 0.6], [c[0] + 0.6, room_h, room_d / 2 + 0.1]))

    # -- geometry helpers
    def world_from_object(self, item):
        return self.world_from_room @ item.room_from_object()

    def world_corners(self, item):
        """(8, 3) world corners of the item's truth box."""
        lo, hi = item.lo, item.hi
        center = frames.transform_points(self.world_from_object(item), (lo + hi) / 2)
        return frames.box_corners(center, hi - lo, frames.wrap_angle(self.room_yaw + item.yaw))

    def part_world_corners(self, item):
        """(n_parts, 8, 3) world corners of each part's bounding box."""
        m = self.world_from_object(item)
        out = [frames.transform_points(m, frames.box_corners(p["c"], p["s"], 0.0)) for p in item.parts]
        return np.array(out)

    def wall_pose(self, wall, s, size, gap=WALL_GAP):
        """Room-local position (object origin) and yaw of an object with its back against ``wall`` at ``s``."""
        d = size[2]
        if wall == "north":
            return np.array([s, 0.0, -self.d / 2 + gap + d / 2]), WALL_YAW[wall]
        if wall == "south":
            return np.array([s, 0.0, self.d / 2 - gap - d / 2]), WALL_YAW[wall]
        if wall == "east":
            return np.array([self.w / 2 - gap - d / 2, 0.0, s]), WALL_YAW[wall]
        return np.array([-self.w / 2 + gap + d / 2, 0.0, s]), WALL_YAW[wall]

    def wall_length(self, wall):
        return self.w if wall in ("north", "south") else self.d

    def s_of(self, item):
        """Position of an item along the wall it stands against."""
        wall = self.wall_of(item)
        return item.pos[0] if wall in ("north", "south") else item.pos[2]

    @staticmethod
    def wall_of(item):
        for wall, yaw in WALL_YAW.items():
            if abs(frames.wrap_angle(item.yaw - yaw)) < 1e-6:
                return wall
        return None

    # -- checks
    def inside(self, item):
        lo, hi = item.room_aabb()
        e = 1e-6  # furniture keeps WALL_GAP from the walls by construction; wall decor touches them
        return (lo[0] >= -self.w / 2 - e and hi[0] <= self.w / 2 + e and lo[2] >= -self.d / 2 - e
                and hi[2] <= self.d / 2 + e and hi[1] <= self.h - 0.02)

    def collides(self, item, ignore=()):
        lo, hi = item.room_aabb()
        for j, other in enumerate(self.items):
            if not other.collide or j in ignore:
                continue
            if other.parts:
                olo, ohi = other.room_aabb()
            else:
                olo, ohi = other.lo, other.hi
            if np.all(lo < ohi - 0.003) and np.all(olo < hi - 0.003):
                return True
        return False

    def in_view(self, item, margin=0.04):
        """Truth box in front of the camera (all corners), its centre inside the image (with a margin)."""
        corners = self.world_corners(item)
        cam = self.camera
        _, z = frames.project_world_points(cam.k, cam.world_from_camera, corners)
        if np.any(z < 0.35):
            return False
        center = corners.mean(axis=0)
        (uc, vc), zc = frames.project_world_points(cam.k, cam.world_from_camera, center)
        mx, my = margin * cam.width, margin * cam.height
        return zc > 0 and mx <= uc <= cam.width - mx and my <= vc <= cam.height - my

    def try_add(self, item, need_view=True, ignore=()):
        if not self.inside(item) or (item.collide and self.collides(item, ignore)):
            return None
        if need_view and not self.in_view(item):
            return None
        self.items.append(item)
        return len(self.items) - 1

    # -- placement
    def add_wall(self, label, parts, walls, s=None, s_jitter=None, tries=30, gap=WALL_GAP, need_view=None, **kw):
        """Put an object against one of ``walls`` (tried in order), at ``s`` (+- jitter) or anywhere along it.

        ``need_view`` (default: labelled objects only): the object's box must be in front of the camera with its
        centre inside the image."""
        if need_view is None:
            need_view = label is not None
        probe = Item(label, parts, **kw)
        size = probe.size
        for wall in walls:
            half = self.wall_length(wall) / 2 - size[0] / 2 - 0.03
            if half < 0:
                continue
            for _ in range(tries if (s is None or s_jitter) else 1):
                if s is None:
                    sv = float(self.rng.uniform(-half, half))
                else:
                    sv = float(s + (self.rng.uniform(-s_jitter, s_jitter) if s_jitter else 0.0))
                if abs(sv) > half:
                    continue
                pos, yaw = self.wall_pose(wall, sv, size, gap)
                item = Item(label, parts, yaw=yaw, pos=pos, **kw)
                idx = self.try_add(item, need_view=need_view)
                if idx is not None:
                    return idx
        return None

    def add_rel(self, label, parts, parent, offset, yaw_rel, **kw):
        """Place relative to another item: ``offset`` (x, z) in the parent's frame, yaw = parent yaw + yaw_rel."""
        p = self.items[parent]
        pos = p.pos + frames.rot_y(p.yaw) @ np.array([offset[0], 0.0, offset[1]])
        pos[1] = 0.0
        item = Item(label, parts, yaw=p.yaw + yaw_rel, pos=pos, **kw)
        return self.try_add(item, need_view=label is not None)

    def add_on_top(self, label, parts, support, frac=(0.0, 0.0), **kw):
        """Stand an object on the top of ``support`` at ``frac`` (-1..1) of the free space along its x and z."""
        sup = self.items[support]
        probe = Item(label, parts)
        free = (sup.size - probe.size) / 2 - 0.02
        if free[0] < 0 or free[2] < 0:
            return None
        local = np.array([(sup.lo[0] + sup.hi[0]) / 2 + frac[0] * free[0], sup.hi[1],
                          (sup.lo[2] + sup.hi[2]) / 2 + frac[1] * free[2]])
        pos = sup.pos + frames.rot_y(sup.yaw) @ local
        item = Item(label, parts, yaw=sup.yaw, pos=pos, support=support, **kw)
        return self.try_add(item, ignore=(support,))

    def add_free(self, label, parts, yaw, region, tries=40, **kw):
        """Free-standing object somewhere in ``region`` = (x0, x1, z0, z1) (room-local)."""
        for _ in range(tries):
            pos = np.array([self.rng.uniform(region[0], region[1]), 0.0, self.rng.uniform(region[2], region[3])])
            idx = self.try_add(Item(label, parts, yaw=yaw, pos=pos, **kw))
            if idx is not None:
                return idx
        return None

    def walls_in_view(self):
        """Walls ordered by how much of them the camera sees (the wall behind the camera is dropped)."""
        cam = self.camera
        scores = {}
        for wall in WALLS:
            n = 0
            for t in np.linspace(-0.45, 0.45, 10):
                pos, yaw = self.wall_pose(wall, t * self.wall_length(wall), np.array([0.0, 0.0, 0.0]), 0.0)
                pw = frames.transform_points(self.world_from_room, pos + np.array([0.0, 1.0, 0.0]))
                (uu, vv), z = frames.project_world_points(cam.k, cam.world_from_camera, pw)
                n += int(z > 0.3 and 0 <= uu <= cam.width)
            scores[wall] = n
        return [w for w in sorted(WALLS, key=lambda w: -scores[w]) if scores[w] > 0]

    def shuffled(self, walls):
        walls = list(walls)
        return [walls[i] for i in self.rng.permutation(len(walls))]

    # -- decor
    def add_window(self, m, walls, width=None):
        width = width or float(self.rng.uniform(1.0, 1.6))
        sill = float(self.rng.uniform(0.8, 0.95))
        top = min(self.h - 0.25, float(self.rng.uniform(2.05, 2.2)))
        parts = F.window(self.rng, m, width, sill, top)
        idx = self.add_wall(None, parts, walls, gap=0.0, tries=40, need_view=True, name="window")
        if idx is None:  # somewhere the camera may not see
            idx = self.add_wall(None, parts, walls, gap=0.0, tries=40, name="window")
        return idx

    def add_door(self, m, walls):
        width, height = float(self.rng.uniform(0.8, 0.9)), float(self.rng.uniform(2.0, 2.08))
        parts = F.door(self.rng, m, width, height)
        idx = self.add_wall(None, parts, walls, gap=0.0, tries=40, name="door")
        if idx is not None:  # keep the floor in front of the door free
            d = self.items[idx]
            lo, hi = d.room_aabb()
            wall = self.wall_of(d)
            pad = {"north": ([0, 0, 0], [0, 0, 0.8]), "south": ([0, 0, -0.8], [0, 0, 0]),
                   "east": ([-0.8, 0, 0], [0, 0, 0]), "west": ([0, 0, 0], [0.8, 0, 0])}[wall]
            self.items.append(keepout(lo + np.array(pad[0]) - [0.05, 0, 0.05], hi + np.array(pad[1]) + [0.05, 0, 0.05]))
        return idx

    def add_picture_over(self, m, over, y_min):
        """A framed picture on the wall above item ``over`` (bottom at least at ``y_min``)."""
        o = self.items[over]
        wall = self.wall_of(o)
        if wall is None:
            return None
        width = float(min(o.size[0] * 0.7, self.rng.uniform(0.5, 1.1)))
        height = float(self.rng.uniform(0.4, 0.7))
        y0 = max(y_min + 0.15, float(self.rng.uniform(1.3, 1.5)))
        if y0 + height > self.h - 0.2:
            return None
        parts = F.picture(self.rng, m, width, height, y0)
        return self.add_wall(None, parts, [wall], s=self.s_of(o), gap=0.0, name="picture")

    def add_room_shell(self, m, door_intervals=()):
        """Floor, ceiling, four walls, baseboards (the baseboards are interrupted by doors)."""
        w, d, h = self.w, self.d, self.h
        parts = [
            F.box(0, -0.1, 0, w + 0.3, 0.1, d + 0.3, m["floor"]),
            F.box(0, h, 0, w + 0.3, 0.1, d + 0.3, m["ceiling"]),
            F.box(0, -0.1, -d / 2 - 0.05, w + 0.3, h + 0.2, 0.1, m["wall"]),
            F.box(0, -0.1, d / 2 + 0.05, w + 0.3, h + 0.2, 0.1, m["wall"]),
            F.box(w / 2 + 0.05, -0.1, 0, 0.1, h + 0.2, d + 0.3, m["wall"]),
            F.box(-w / 2 - 0.05, -0.1, 0, 0.1, h + 0.2, d + 0.3, m["wall"]),
        ]
        t = BASEBOARD_T
        for wall in WALLS:
            length = self.wall_length(wall)
            spans = [(-length / 2, length / 2)]
            for (dw, s0, s1) in door_intervals:
                if dw != wall:
                    continue
                new = []
                for a, b in spans:
                    if s1 <= a or s0 >= b:
                        new.append((a, b))
                        continue
                    if s0 > a:
                        new.append((a, s0))
                    if s1 < b:
                        new.append((s1, b))
                spans = new
            for a, b in spans:
                if b - a < 0.02:
                    continue
                c, L = (a + b) / 2, b - a
                if wall == "north":
                    parts.append(F.box(c, 0, -d / 2 + t / 2, L, BASEBOARD_H, t, m["trim"]))
                elif wall == "south":
                    parts.append(F.box(c, 0, d / 2 - t / 2, L, BASEBOARD_H, t, m["trim"]))
                elif wall == "east":
                    parts.append(F.box(w / 2 - t / 2, 0, c, t, BASEBOARD_H, L, m["trim"]))
                else:
                    parts.append(F.box(-w / 2 + t / 2, 0, c, t, BASEBOARD_H, L, m["trim"]))
        shell = Item(None, parts, name="room", collide=False)
        shell.lo, shell.hi = np.array([-w / 2, 0, -d / 2]), np.array([w / 2, h, d / 2])
        self.items.append(shell)
        return len(self.items) - 1

    def door_intervals(self):
        out = []
        for it in self.items:
            if it.name == "door":
                wall = self.wall_of(it)
                s = self.s_of(it)
                out.append((wall, s - it.size[0] / 2, s + it.size[0] / 2))
        return out

    # -- visibility (coarse numpy ray tracing against the part boxes)
    def visibility(self, step=4):
        """Per item: (visible rays, rays hitting it when alone). Rays every ``step`` pixels."""
        cam = self.camera
        dirs = cam.rays(step).reshape(-1, 3)
        origin = cam.world_from_camera[:3, 3]
        n = dirs.shape[0]
        best_t = np.full(n, np.inf)
        owner = np.full(n, -1)
        alone = {}
        for idx, item in enumerate(self.items):
            if not item.parts or not item.render or item.collide is False and item.label is None:
                continue
            m = self.world_from_object(item)
            rot = m[:3, :3]
            hit_any = np.zeros(n, bool)
            for p in item.parts:
                c = frames.transform_points(m, p["c"])
                half = 0.5 * np.asarray(p["s"], float)
                o = rot.T @ (origin - c)
                dl = dirs @ rot  # rows: rot.T @ d
                dl = np.where(np.abs(dl) < 1e-12, 1e-12, dl)
                t1 = (-half - o) / dl
                t2 = (half - o) / dl
                tn = np.minimum(t1, t2).max(axis=1)
                tf = np.maximum(t1, t2).min(axis=1)
                hit = (tn <= tf) & (tf > 0)
                t = np.where(tn > 0, tn, 0.0)
                hit_any |= hit
                closer = hit & (t < best_t)
                best_t[closer] = t[closer]
                owner[closer] = idx
            alone[idx] = int(hit_any.sum())
        return {idx: (int((owner == idx).sum()), a) for idx, a in alone.items()}, n


# ---------------------------------------------------------------------------------------------- room types


def layout_bedroom(L: Layout, m, kids=False):
    rng = L.rng
    walls = L.walls_in_view()
    bed_walls = walls[:3]
    if rng.random() < 0.5:
        bed_walls = list(reversed(bed_walls))
    kind = "single" if kids else ("queen" if rng.random() < 0.65 else "double")
    bed = L.add_wall("bed", F.bed(rng, m, kind), bed_walls, required=True)
    if bed is None:
        return False
    b = L.items[bed]
    bed_wall, bed_s = L.wall_of(b), L.s_of(b)
    sides = [-1, 1] if not kids else [int(rng.choice([-1, 1]))]
    for side in sides:
        ns_parts = F.nightstand(rng, m)
        ns_w = F.part_bounds(ns_parts)[1][0] * 2
        ns = L.add_wall("nightstand", ns_parts, [bed_wall], s=bed_s + side * (b.size[0] / 2 + 0.05 + ns_w / 2))
        if ns is not None and rng.random() < 0.85:
            L.add_on_top("table lamp", F.table_lamp(rng, m), ns, frac=(0.0, -0.5))
    others = [w for w in walls if w != bed_wall] + [bed_wall]
    L.add_wall("wardrobe", F.wardrobe(rng, m), L.shuffled(others[:2]) + others[2:])
    L.add_window(m, L.shuffled(walls[:3]))
    L.add_door(m, L.shuffled(walls[:3]))
    if kids:
        dk = L.add_wall("desk", F.desk(rng, m), L.shuffled(others))
        if dk is not None:
            d = L.items[dk]
            L.add_rel("chair", F.chair(rng, m), dk, (-0.15, d.size[2] / 2 + 0.05 + 0.26), math.pi)
            if rng.random() < 0.7:
                L.add_on_top("table lamp", F.table_lamp(rng, m, 0.26), dk, frac=(-0.9, -0.8))
        L.add_wall("bookshelf", F.bookshelf(rng, m), L.shuffled(others))
    else:
        dr = L.add_wall("dresser", F.dresser(rng, m), L.shuffled(others))
        if dr is not None and rng.random() < 0.5:
            L.add_on_top("plant", F.plant(rng, m, small=True), dr, frac=(float(rng.choice([-0.8, 0.8])), 0.0))
        if rng.random() < 0.5:
            L.add_wall("armchair", F.sofa(rng, m, armchair=True), L.shuffled(others))
    L.add_wall("plant", F.plant(rng, m), L.shuffled(walls))
    L.add_picture_over(m, bed, b.hi[1])
    fill_room(L, m, ["floor lamp", "bookshelf", "wardrobe", "chair", "armchair", "plant"], 8)
    return True


def layout_living(L: Layout, m):
    rng = L.rng
    walls = L.walls_in_view()
    sofa_walls = [w for w in walls if w != "south"][:3]
    sofa_walls = L.shuffled(sofa_walls)
    sf = L.add_wall("sofa", F.sofa(rng, m), sofa_walls, required=True)
    if sf is None:
        return False
    s_item = L.items[sf]
    ct_parts = F.coffee_table(rng, m)
    ct_size = F.part_bounds(ct_parts)[1] - F.part_bounds(ct_parts)[0]
    gap = float(rng.uniform(0.35, 0.5))
    ct = L.add_rel("coffee table", ct_parts, sf, (0.0, s_item.size[2] / 2 + gap + ct_size[2] / 2), 0.0)
    if ct is not None:
        c = L.items[ct]
        rug_parts = F.rug(rng, m, c.size[0] + float(rng.uniform(0.8, 1.2)), c.size[2] + float(rng.uniform(0.9, 1.3)))
        L.add_rel(None, rug_parts, ct, (0.0, -0.1), 0.0, collide=False, name="rug")
        side = float(rng.choice([-1.0, 1.0]))
        ac_parts = F.sofa(rng, m, armchair=True)
        ac_d = F.part_bounds(ac_parts)[1][2] * 2
        for sgn in (side, -side):
            if L.add_rel("armchair", ac_parts, ct, (sgn * (c.size[0] / 2 + 0.3 + ac_d / 2), 0.0),
                         -sgn * math.pi / 2) is not None:
                break
    opposite = {"west": "east", "east": "west", "north": "south", "south": "north"}[L.wall_of(s_item)]
    tv_walls = [opposite] if opposite in walls[:3] else []
    tv_walls += L.shuffled([w for w in walls if w not in tv_walls and w != L.wall_of(s_item)])
    ts = None
    for wall in tv_walls:
        s = L.s_of(s_item) if wall == opposite else None
        ts = L.add_wall("tv stand", F.tv_stand(rng, m), [wall], s=s, s_jitter=0.3 if s is not None else None)
        if ts is not None:
            break
    if ts is not None:
        L.add_on_top("tv", F.tv(rng, m, max_width=L.items[ts].size[0] - 0.05), ts, frac=(0.0, 0.0))
    L.add_window(m, L.shuffled(walls[:3]))
    L.add_door(m, L.shuffled(walls[:3]))
    fl_side = float(rng.choice([-1.0, 1.0]))
    for sgn in (fl_side, -fl_side):
        if L.add_wall("floor lamp", F.floor_lamp(rng, m), [L.wall_of(s_item)],
                      s=L.s_of(s_item) + sgn * (s_item.size[0] / 2 + 0.28)) is not None:
            break
    L.add_wall("bookshelf", F.bookshelf(rng, m), L.shuffled(walls))
    L.add_wall("plant", F.plant(rng, m), L.shuffled(walls))
    if rng.random() < 0.5:
        L.add_wall("plant", F.plant(rng, m), L.shuffled(walls))
    L.add_picture_over(m, sf, s_item.hi[1])
    fill_room(L, m, ["dresser", "plant", "armchair", "chair", "bookshelf"], 9)
    return True


def layout_office(L: Layout, m):
    rng = L.rng
    walls = L.walls_in_view()
    desk_walls = L.shuffled([w for w in walls if w != "south"][:3])
    dk = L.add_wall("desk", F.desk(rng, m), desk_walls, required=True)
    if dk is None:
        return False
    d = L.items[dk]
    oc = F.office_chair(rng, m)
    oc_d = F.part_bounds(oc)[1][2] * 2
    if L.add_rel("office chair", oc, dk, (float(rng.uniform(-0.2, 0.2)), d.size[2] / 2 + 0.06 + oc_d / 2), math.pi,
                 required=True) is None:
        return False
    L.add_on_top("table lamp", F.table_lamp(rng, m, 0.28), dk, frac=(float(rng.choice([-0.9, 0.9])), -0.8))
    if rng.random() < 0.6:
        L.add_window(m, [L.wall_of(d)])
    L.add_window(m, L.shuffled(walls[:3]))
    L.add_door(m, L.shuffled(walls[:3]))
    for _ in range(int(rng.integers(1, 3))):
        L.add_wall("bookshelf", F.bookshelf(rng, m), L.shuffled(walls))
    if rng.random() < 0.6:
        L.add_wall("dresser", F.dresser(rng, m), L.shuffled(walls))
    if rng.random() < 0.5:
        L.add_wall("armchair", F.sofa(rng, m, armchair=True), L.shuffled(walls))
    L.add_wall("plant", F.plant(rng, m), L.shuffled(walls))
    if rng.random() < 0.5:
        L.add_wall("floor lamp", F.floor_lamp(rng, m), L.shuffled(walls))
    fill_room(L, m, ["chair", "plant", "bookshelf", "armchair"], 8)
    return True


def layout_dining(L: Layout, m):
    rng = L.rng
    walls = L.walls_in_view()
    yaw = 0.0 if rng.random() < 0.5 else math.pi / 2
    # table in the middle of the room, on the far side of the camera
    region = (-L.w / 2 + 1.3, L.w / 2 - 1.3, -L.d / 2 + 1.3, L.cam_local[2] - 1.8)
    tb = L.add_free("dining table", F.dining_table(rng, m), yaw, region, required=True)
    if tb is None:
        return False
    t = L.items[tb]
    tw, td = t.size[0], t.size[2]
    ch = F.chair(rng, m)
    cd = F.part_bounds(ch)[1][2] * 2
    n_side = 2 if tw >= 1.5 else 1
    for side in (1, -1):  # long sides: chairs face the table
        for k in range(n_side):
            x = 0.0 if n_side == 1 else (k - 0.5) * tw * 0.5
            L.add_rel("chair", ch, tb, (x, side * (td / 2 + 0.04 + cd / 2)), 0.0 if side < 0 else math.pi)
    for side in (1, -1):
        if rng.random() < 0.6:
            L.add_rel("chair", ch, tb, (side * (tw / 2 + 0.04 + cd / 2), 0.0), -side * math.pi / 2)
    sb = L.add_wall("dresser", F.dresser(rng, m), L.shuffled(walls[:3]))
    if sb is not None:
        if rng.random() < 0.5:
            L.add_on_top("table lamp", F.table_lamp(rng, m), sb, frac=(float(rng.choice([-0.8, 0.8])), -0.5))
        else:
            L.add_on_top("plant", F.plant(rng, m, small=True), sb, frac=(float(rng.choice([-0.8, 0.8])), 0.0))
    L.add_window(m, L.shuffled(walls[:3]))
    L.add_door(m, L.shuffled(walls[:3]))
    L.add_wall("bookshelf", F.bookshelf(rng, m), L.shuffled(walls))
    L.add_wall("plant", F.plant(rng, m), L.shuffled(walls))
    if rng.random() < 0.6:
        L.add_wall("floor lamp", F.floor_lamp(rng, m), L.shuffled(walls))
    if sb is not None:
        L.add_picture_over(m, sb, L.items[sb].hi[1] + 0.4)
    fill_room(L, m, ["bookshelf", "plant", "armchair", "floor lamp"], 10)
    return True


def layout_studio(L: Layout, m):
    rng = L.rng
    walls = L.walls_in_view()
    main = [w for w in walls if w != "south"][:3]
    bed = L.add_wall("bed", F.bed(rng, m, "double"), L.shuffled(main), required=True)
    if bed is None:
        return False
    b = L.items[bed]
    side = float(rng.choice([-1.0, 1.0]))
    ns_parts = F.nightstand(rng, m)
    ns_w = F.part_bounds(ns_parts)[1][0] * 2
    for sgn in (side, -side):
        ns = L.add_wall("nightstand", ns_parts, [L.wall_of(b)], s=L.s_of(b) + sgn * (b.size[0] / 2 + 0.05 + ns_w / 2))
        if ns is not None:
            L.add_on_top("table lamp", F.table_lamp(rng, m), ns, frac=(0.0, -0.5))
            break
    rest = [w for w in main if w != L.wall_of(b)]
    sf = L.add_wall("sofa", F.sofa(rng, m, seats=2), L.shuffled(rest) + [L.wall_of(b)])
    if sf is not None:
        s_item = L.items[sf]
        ct_parts = F.coffee_table(rng, m)
        ct_d = F.part_bounds(ct_parts)[1][2] * 2
        L.add_rel("coffee table", ct_parts, sf, (0.0, s_item.size[2] / 2 + 0.4 + ct_d / 2), 0.0)
    ts = L.add_wall("tv stand", F.tv_stand(rng, m), L.shuffled(main))
    if ts is not None:
        L.add_on_top("tv", F.tv(rng, m, max_width=L.items[ts].size[0] - 0.05), ts)
    dk = L.add_wall("desk", F.desk(rng, m), L.shuffled(walls))
    if dk is not None:
        oc = F.office_chair(rng, m)
        L.add_rel("office chair", oc, dk, (0.0, L.items[dk].size[2] / 2 + 0.06 + F.part_bounds(oc)[1][2]), math.pi)
    L.add_window(m, L.shuffled(walls[:3]))
    L.add_door(m, L.shuffled(walls[:3]))
    L.add_wall("plant", F.plant(rng, m), L.shuffled(walls))
    L.add_wall("bookshelf", F.bookshelf(rng, m), L.shuffled(walls))
    fill_room(L, m, ["armchair", "floor lamp", "plant", "dresser"], 10)
    return True


def fill_room(L: Layout, m, extras, target):
    """Add optional extra pieces against the visible walls until ``target`` labelled objects stand in the room."""
    rng = L.rng
    for label in list(extras) + list(extras):
        labels = [it.label for it in L.items if it.label is not None]
        if len(labels) >= target:
            break
        if labels.count(label) >= (2 if label in ("plant", "armchair", "chair", "bookshelf") else 1):
            continue
        make = {"bookshelf": F.bookshelf, "floor lamp": F.floor_lamp, "plant": F.plant, "dresser": F.dresser,
                "armchair": lambda r, mm: F.sofa(r, mm, armchair=True), "wardrobe": F.wardrobe,
                "chair": F.chair, "nightstand": F.nightstand}[label]
        idx = L.add_wall(label, make(rng, m), L.shuffled(L.walls_in_view()))
        if idx is not None and label in ("dresser", "nightstand") and rng.random() < 0.6:
            L.add_on_top("table lamp", F.table_lamp(rng, m), idx, frac=(float(rng.choice([-0.7, 0.7])), -0.5))


LAYOUTS = {
    "bedroom": layout_bedroom,
    "kids": lambda L, m: layout_bedroom(L, m, kids=True),
    "living": layout_living,
    "office": layout_office,
    "dining": layout_dining,
    "studio": layout_studio,
}


# ---------------------------------------------------------------------------------------------- scene

#: a labelled object must show at least this fraction of itself, and this fraction of the image
MIN_VISIBLE_FRACTION, MIN_IMAGE_FRACTION = 0.3, 0.003


def prune_hidden(L: Layout):
    """Drop labelled objects that are mostly hidden (and what stands on them). False if a required one is."""
    for _ in range(6):
        vis, n_rays = L.visibility()
        bad = {i for i, it in enumerate(L.items) if it.label is not None and (
            vis[i][1] == 0 or vis[i][0] / vis[i][1] < MIN_VISIBLE_FRACTION or vis[i][0] < MIN_IMAGE_FRACTION * n_rays)}
        if not bad:
            return True
        changed = True
        while changed:
            changed = False
            for i, it in enumerate(L.items):
                if i not in bad and it.support is not None and it.support in bad:
                    bad.add(i)
                    changed = True
        if any(L.items[i].required for i in bad):
            return False
        keep = [i for i in range(len(L.items)) if i not in bad]
        remap = {old: new for new, old in enumerate(keep)}
        L.items = [L.items[i] for i in keep]
        for it in L.items:
            if it.support is not None:
                it.support = remap[it.support]
    return False


def build_scene(cfg):
    """Everything about one scene that follows from its seed: camera, room, items, materials, lights."""
    rng = np.random.default_rng(cfg["seed"])
    width, height = cfg["size"]
    camera = Camera(
        width=width, height=height,
        f35_mm=round(_draw(rng, cfg.get("f35_mm", (22, 32))), 2),
        pitch_deg=round(_draw(rng, cfg.get("pitch_deg", (-20, -5))), 2),
        roll_deg=round(_draw(rng, cfg.get("roll_deg", (-4, 4))), 2),
        height_m=round(_draw(rng, cfg.get("height_m", (1.2, 1.65))), 3),
    )
    room_type = cfg["room_type"]
    (w0, w1), (d0, d1) = ROOM_SIZES[room_type]
    room_w, room_d = round(float(rng.uniform(w0, w1)), 2), round(float(rng.uniform(d0, d1)), 2)
    room_h = round(float(rng.uniform(2.4, 2.8)), 2)
    room_yaw = math.radians(round(_draw(rng, cfg["room_yaw_deg"]), 2))
    # camera: near the south wall, towards the side the view turns away from, looking into the room
    yaw_sign = math.copysign(1.0, room_yaw) if abs(room_yaw) > math.radians(5) else 0.0
    cam_x = -yaw_sign * float(rng.uniform(0.3, 0.6)) * room_w / 2 + (
        float(rng.uniform(-0.3, 0.3)) if yaw_sign == 0 else 0.0)
    cam_z = room_d / 2 - float(rng.uniform(0.35, 0.7))
    palette, materials, mat_desc = make_materials(rng, room_type)
    if "floor" in cfg:  # a fixed floor, drawn from its own stream so that the rest of the scene stays as it was
        materials["floor"] = floor_material(np.random.default_rng(cfg["seed"] + 7), cfg["floor"])
        mat_desc["floor"] = cfg["floor"]

    best = None  # the first layout with enough objects, else the fullest one
    for attempt in range(30):
        L = Layout(rng, room_w, room_d, room_h, room_yaw, [cam_x, 0.0, cam_z], camera)
        if LAYOUTS[room_type](L, palette) and prune_hidden(L):
            n = sum(it.label is not None for it in L.items)
            if best is None or n > best[0]:
                best = (n, L)
            if n >= cfg.get("min_objects", 7):
                break
    if best is None or best[0] < 5:
        raise RuntimeError(f"{cfg['name']}: no valid layout")
    L = best[1]
    L.add_room_shell(palette, L.door_intervals())
    # the ceiling fixture and its light, over the middle of the visible part of the room
    fx_local = np.array([float(rng.uniform(-0.2, 0.2)) * room_w, room_h, float(rng.uniform(-0.25, 0.0)) * room_d])
    fixture = Item(None, [F.cyl(0, -0.05, 0, 0.4, 0.05, "fixture")], name="fixture", pos=fx_local, collide=False)
    L.items.append(fixture)
    lights = [
        {"type": "AREA", "world": frames.transform_points(L.world_from_room, fx_local - [0, 0.07, 0]),
         "size": [1.2, 1.2], "energy": float(14.0 * room_w * room_d), "color": [1.0, 0.93, 0.82]},
        {"type": "POINT", "world": np.array([0.0, room_h - 0.35, 0.25]), "radius": 0.4,
         "energy": float(rng.uniform(150, 220)), "color": [1.0, 0.97, 0.92]},
    ]
    return dict(cfg=cfg, camera=camera, layout=L, materials=materials, mat_desc=mat_desc, lights=lights,
                room=dict(w=room_w, d=room_d, h=room_h, yaw=room_yaw, cam_local=[cam_x, cam_z]))


# ---------------------------------------------------------------------------------------------- truth


def truth_json(scene):
    cfg, cam, L = scene["cfg"], scene["camera"], scene["layout"]
    labelled = [i for i, it in enumerate(L.items) if it.label is not None]
    truth_index = {item_idx: k for k, item_idx in enumerate(labelled)}
    objects = []
    for i in labelled:
        it = L.items[i]
        corners = L.world_corners(it)
        center, size, yaw = frames.box_from_corners(corners)
        objects.append({
            "label": it.label,
            "center": _r(center), "size": _r(size), "yaw": round(float(yaw), 6),
            "corners": _r(corners),
            "on_top_of": truth_index[it.support] if it.support is not None else None,
        })
    w, d, h = L.w, L.d, L.h
    local = {  # room-local corners: floor polygon counter-clockwise seen from above (about +Y): SE, NE, NW, SW
        "SE": [w / 2, 0, d / 2], "NE": [w / 2, 0, -d / 2], "NW": [-w / 2, 0, -d / 2], "SW": [-w / 2, 0, d / 2]}
    world = {k: frames.transform_points(L.world_from_room, v) for k, v in local.items()}
    up = np.array([0.0, h, 0.0])
    walls = []
    # each wall: [floor left, floor right, ceiling right, ceiling left] as seen from inside the room facing it
    for name, (a, b) in (("north", ("NW", "NE")), ("east", ("NE", "SE")), ("south", ("SE", "SW")),
                         ("west", ("SW", "NW"))):
        walls.append({"name": name, "corners": _r([world[a], world[b], world[b] + up, world[a] + up])})
    return {
        "scene": cfg["name"], "seed": cfg["seed"], "room_type": cfg["room_type"], "generator": "samples/generate.py",
        "camera": {
            "fx": round(cam.fx, 6), "fy": round(cam.fx, 6), "cx": cam.width / 2.0, "cy": cam.height / 2.0,
            "width": cam.width, "height": cam.height,
            "world_from_camera": _r(cam.world_from_camera, 9),
            "pitch_deg": cam.pitch_deg, "roll_deg": cam.roll_deg, "height_m": cam.height_m,
            "focal_35mm_mm": cam.f35_mm,
        },
        "objects": objects,
        "room": {
            "yaw": round(float(L.room_yaw), 6),
            "floor_polygon": [_r(world[k][[0, 2]]) for k in ("SE", "NE", "NW", "SW")],
            "ceiling_height_m": h,
            "walls": walls,
        },
        "depth": {"file": "depth.png", "units": "mm", "kind": "metric_z"},
    }


def _r(a, nd=6):
    return np.round(np.asarray(a, dtype=float), nd).tolist()


# ---------------------------------------------------------------------------------------------- grounding


def pixel_boxes(scene):
    """Per labelled object: the image rectangle of its parts' projected bounding-box corners, clipped."""
    cam, L = scene["camera"], scene["layout"]
    out = []
    for it in L.items:
        if it.label is None:
            continue
        pts = L.part_world_corners(it).reshape(-1, 3)
        uv, z = frames.project_world_points(cam.k, cam.world_from_camera, pts)
        assert np.all(z > 0.05), it.label
        x1, y1 = uv.min(axis=0)
        x2, y2 = uv.max(axis=0)
        out.append([max(0.0, x1), max(0.0, y1), min(float(cam.width), x2), min(float(cam.height), y2)])
    return np.array(out)


PROSE_BEFORE = [
    "Here are the objects I can see in the room, with their bounding boxes:",
    "Sure! I located the following pieces of furniture in the image:",
    "The image shows a room; below are the detected objects and their 2D boxes.",
    "I found these objects:",
]
PROSE_AFTER = [
    "Let me know if you need anything else.",
    "Each box is given as [x1, y1, x2, y2].",
    "Some objects are partly cut off by the image border, so their boxes stop at the edge.",
    "These are all the furniture items I could identify.",
]


def grounding_files(scene):
    """(qwen3 text, qwen2.5 text): the model answers, with seeded box noise."""
    cfg, cam, L = scene["cfg"], scene["camera"], scene["layout"]
    rng = np.random.default_rng(cfg["seed"] + 100_000)
    boxes = pixel_boxes(scene)
    labels = [it.label for it in L.items if it.label is not None]
    noisy = []
    for b in boxes:
        bw, bh = b[2] - b[0], b[3] - b[1]
        n = rng.normal(0.0, 0.015, 4) * np.array([bw, bh, bw, bh])
        q = b + n
        q[[0, 2]] = np.clip(q[[0, 2]], 0, cam.width)
        q[[1, 3]] = np.clip(q[[1, 3]], 0, cam.height)
        if q[2] - q[0] < 2:
            q[[0, 2]] = b[[0, 2]]
        if q[3] - q[1] < 2:
            q[[1, 3]] = b[[1, 3]]
        noisy.append(q)
    noisy = np.array(noisy)
    q3 = np.rint(frames.qwen3_from_pixels(noisy, cam.width, cam.height)).astype(int)
    q25 = np.rint(frames.qwen25_from_pixels(noisy, cam.width, cam.height)).astype(int)
    texts = []
    for coords, fenced in ((q3, cfg["fenced"][0]), (q25, cfg["fenced"][1])):
        entries = [{"bbox_2d": [int(v) for v in c], "label": lab} for c, lab in zip(coords, labels)]
        body = "[\n" + ",\n".join("  " + json.dumps(e) for e in entries) + "\n]"
        if fenced:
            before = PROSE_BEFORE[int(rng.integers(len(PROSE_BEFORE)))]
            after = PROSE_AFTER[int(rng.integers(len(PROSE_AFTER)))]
            texts.append(f"{before}\n\n```json\n{body}\n```\n\n{after}\n")
        else:
            texts.append(body + "\n")
    return texts


# ---------------------------------------------------------------------------------------------- Blender spec


BOX_FACES = [[0, 3, 2, 1], [4, 5, 6, 7], [0, 1, 5, 4], [3, 7, 6, 2], [0, 4, 7, 3], [1, 2, 6, 5]]


def part_mesh(part, n_seg=20):
    """(vertices (n, 3), faces, per-face-loop UVs, smooth flags) of one part, in the object frame.

    UVs are metres in the object frame, along the two in-plane axes of each face (u along the longer extent of
    the part, so wood grain and floor planks follow the long side)."""
    c = np.asarray(part["c"], float)
    s = np.asarray(part["s"], float)
    shape = part["shape"]
    if shape == "box":
        verts = c + frames.UNIT_BOX_CORNERS * s / 2
        faces = [list(f) for f in BOX_FACES]
        smooth = [False] * 6
    elif shape == "cyl":
        a = np.linspace(0, 2 * np.pi, n_seg, endpoint=False)
        rb, rt = part.get("rb", 1.0), part.get("rt", 1.0)
        bottom = np.stack([rb * s[0] / 2 * np.cos(a), np.full(n_seg, -s[1] / 2), rb * s[2] / 2 * np.sin(a)], 1)
        top = np.stack([rt * s[0] / 2 * np.cos(a), np.full(n_seg, s[1] / 2), rt * s[2] / 2 * np.sin(a)], 1)
        verts = c + np.concatenate([bottom, top])
        faces = [[i, (i + 1) % n_seg, n_seg + (i + 1) % n_seg, n_seg + i] for i in range(n_seg)]
        faces += [list(range(n_seg)), list(range(n_seg, 2 * n_seg))]
        smooth = [True] * n_seg + [False, False]
    else:  # ellipsoid
        n_lat, n_lon = 8, 12  # rings at the equator and lon. multiples of 90 deg: the mesh touches its box
        verts = [[0, -1, 0]]
        for i in range(1, n_lat):
            th = -np.pi / 2 + np.pi * i / n_lat
            for j in range(n_lon):
                ph = 2 * np.pi * j / n_lon
                verts.append([np.cos(th) * np.cos(ph), np.sin(th), np.cos(th) * np.sin(ph)])
        verts.append([0, 1, 0])
        verts = c + np.array(verts) * s / 2
        top = len(verts) - 1
        faces = []
        for j in range(n_lon):
            faces.append([0, 1 + (j + 1) % n_lon, 1 + j])
        for i in range(n_lat - 2):
            r0, r1 = 1 + i * n_lon, 1 + (i + 1) * n_lon
            for j in range(n_lon):
                faces.append([r0 + j, r0 + (j + 1) % n_lon, r1 + (j + 1) % n_lon, r1 + j])
        last = 1 + (n_lat - 2) * n_lon
        for j in range(n_lon):
            faces.append([last + j, last + (j + 1) % n_lon, top])
        smooth = [True] * len(faces)
    # orient every face outwards (all parts are convex)
    out_faces, uvs = [], []
    long_axis = int(np.argmax(s))
    for f in faces:
        p = verts[f]
        nrm = np.zeros(3)
        for k in range(len(f)):  # Newell's method
            a_, b_ = p[k], p[(k + 1) % len(f)]
            nrm += np.array([(a_[1] - b_[1]) * (a_[2] + b_[2]), (a_[2] - b_[2]) * (a_[0] + b_[0]),
                             (a_[0] - b_[0]) * (a_[1] + b_[1])])
        if np.dot(nrm, p.mean(axis=0) - c) < 0:
            f = f[::-1]
            p = verts[f]
            nrm = -nrm
        out_faces.append(f)
        axis = int(np.argmax(np.abs(nrm)))
        in_plane = [k for k in range(3) if k != axis]
        if shape == "cyl" and axis != 1:
            ang = np.arctan2(p[:, 2] - c[2], p[:, 0] - c[0])
            uv = np.stack([ang * s[0] / 2, p[:, 1]], 1)
        else:
            if in_plane[1] == long_axis:
                in_plane = in_plane[::-1]
            uv = p[:, in_plane]
        uvs.append(uv)
    return verts, out_faces, uvs, smooth


def blender_spec(scene, samples, photo_path, depth_path):
    cam, L = scene["camera"], scene["layout"]
    meshes = []
    for idx, it in enumerate(L.items):
        if not it.render or not it.parts:
            continue
        m = L.world_from_object(it)
        verts_all, faces_all, uvs_all, smooth_all, mat_idx = [], [], [], [], []
        slots = []
        for p in it.parts:
            v, f, uv, sm = part_mesh(p)
            off = sum(len(x) for x in verts_all)
            verts_all.append(frames.blender_from_world(frames.transform_points(m, v)))
            faces_all += [[off + k for k in face] for face in f]
            uvs_all += [u for face_uv in uv for u in face_uv.tolist()]
            smooth_all += sm
            if p["m"] not in slots:
                slots.append(p["m"])
            mat_idx += [slots.index(p["m"])] * len(f)
        name = f"{idx:02d}_{it.label or it.name or 'decor'}".replace(" ", "_")
        meshes.append({"name": name, "vertices": np.round(np.concatenate(verts_all), 6).tolist(),
                       "faces": faces_all, "uvs": np.round(uvs_all, 5).tolist(), "materials": slots,
                       "material_index": mat_idx, "smooth": smooth_all})
    # camera: the GL camera pose (x right, y up, looks down -Z), its axes and origin mapped to Blender's frame
    world_from_gl = frames.world_from_camera_gl(cam.world_from_camera)
    blender_from_gl = np.eye(4)
    blender_from_gl[:3, :3] = frames.blender_from_world(world_from_gl[:3, :3].T).T
    blender_from_gl[:3, 3] = frames.blender_from_world(world_from_gl[:3, 3])
    max_side = max(cam.width, cam.height)
    lights = []
    for li in scene["lights"]:
        d = {k: v for k, v in li.items() if k != "world"}
        d["location"] = frames.blender_from_world(li["world"]).tolist()
        lights.append(d)
    return {
        "width": cam.width, "height": cam.height, "samples": samples, "seed": scene["cfg"]["seed"],
        "camera": {"matrix_world": blender_from_gl.tolist(), "lens_mm": cam.f35_mm,
                   "sensor_width_mm": 36.0 * cam.width / max_side},
        "materials": scene["materials"], "meshes": meshes, "lights": lights,
        "world": {"color": [0.05, 0.05, 0.05], "strength": 0.0},
        "exposure": -0.4, "photo": str(photo_path) if photo_path else "", "depth": str(depth_path),
    }


# ---------------------------------------------------------------------------------------------- main


def find_blender(explicit=None):
    for cand in (explicit, os.environ.get("BLENDER"), shutil.which("blender"), "/usr/bin/blender"):
        if cand and Path(cand).exists():
            return cand
    raise FileNotFoundError("Blender not found: pass --blender or set BLENDER")


def postprocess_photo(raw_path, out_path, denoise):
    import cv2  # noqa: PLC0415  (only needed here)
    from PIL import Image  # noqa: PLC0415

    img = cv2.imread(str(raw_path), cv2.IMREAD_COLOR)
    if denoise > 0:
        img = cv2.fastNlMeansDenoisingColored(img, None, denoise, denoise, 5, 15)
    Image.fromarray(img[:, :, ::-1]).save(out_path, optimize=True)


def generate(cfg, out_root, samples, blender, render=True, denoise=3, keep_spec=False):
    t0 = time.time()
    scene = build_scene(cfg)
    out = Path(out_root) / cfg["name"]
    out.mkdir(parents=True, exist_ok=True)
    truth = truth_json(scene)
    with open(out / "truth.json", "w") as f:
        json.dump(truth, f, indent=1)
        f.write("\n")
    q3, q25 = grounding_files(scene)
    (out / "grounding.qwen3.json").write_text(q3)
    (out / "grounding.qwen2_5.json").write_text(q25)
    if render:
        with tempfile.TemporaryDirectory(prefix=f"room3d_{cfg['name']}_") as tmp:
            raw = Path(tmp) / "raw.png"
            spec = blender_spec(scene, samples, raw, out / "depth.png")
            spec_path = Path(tmp) / "spec.json"
            spec_path.write_text(json.dumps(spec))
            if keep_spec:
                shutil.copy(spec_path, Path(out_root) / f"{cfg['name']}.spec.json")
            cmd = [blender, "-b", "--factory-startup", "--python-exit-code", "1", "--python",
                   str(HERE / "blender_render.py"), "--", str(spec_path)]
            res = subprocess.run(cmd, capture_output=True, text=True)
            if res.returncode != 0:
                sys.stderr.write(res.stdout[-4000:] + res.stderr[-4000:])
                raise RuntimeError(f"Blender failed on {cfg['name']}")
            timing = [ln for ln in res.stdout.splitlines() if ln.startswith("[blender_render]")]
            postprocess_photo(raw, out / "photo.png", denoise)
    dt = time.time() - t0
    cam = scene["camera"]
    print(f"{cfg['name']:>22}: {len(truth['objects'])} objects, yaw {math.degrees(scene['room']['yaw']):6.1f} deg, "
          f"pitch {cam.pitch_deg:6.2f}, roll {cam.roll_deg:5.2f}, h {cam.height_m:.3f} m, f35 {cam.f35_mm:.2f} mm, "
          f"{scene['mat_desc']['floor']}, {scene['mat_desc']['wall']} walls -> {dt:5.1f} s "
          f"{timing[0][17:] if render and timing else ''}", flush=True)
    return dt


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", help="scene name (repeatable, or comma-separated)")
    ap.add_argument("--samples", type=int, default=64, help="Cycles samples per pixel (default 64)")
    ap.add_argument("--denoise", type=float, default=2.5, help="OpenCV NL-means strength on the photo, 0 = off")
    ap.add_argument("--out", default=str(HERE), help="output root (default: samples/)")
    ap.add_argument("--no-render", action="store_true", help="write truth + grounding only (no Blender)")
    ap.add_argument("--no-check", action="store_true", help="skip samples/check_truth.py afterwards")
    ap.add_argument("--keep-spec", action="store_true", help="also keep the Blender spec JSON (debugging)")
    ap.add_argument("--blender", default=None)
    ap.add_argument("--list", action="store_true", help="list the scenes and exit")
    args = ap.parse_args(argv)
    if args.list:
        for cfg in SCENES:
            print(cfg["name"], cfg["room_type"], cfg["seed"], cfg["size"])
        return 0
    names = None
    if args.only:
        names = {n for chunk in args.only for n in chunk.split(",") if n}
        unknown = names - {c["name"] for c in SCENES}
        if unknown:
            ap.error(f"unknown scene(s): {sorted(unknown)}")
    todo = [c for c in SCENES if names is None or c["name"] in names]
    blender = None if args.no_render else find_blender(args.blender)
    total = 0.0
    for cfg in todo:
        total += generate(cfg, args.out, args.samples, blender, render=not args.no_render, denoise=args.denoise,
                          keep_spec=args.keep_spec)
    print(f"{len(todo)} scene(s) in {total:.0f} s")
    if not args.no_check and not args.no_render:
        try:
            import check_truth  # noqa: PLC0415
        except ImportError:  # pragma: no cover
            from samples import check_truth  # noqa: PLC0415
        return check_truth.main([str(Path(args.out) / c["name"]) for c in todo])
    return 0


if __name__ == "__main__":
    sys.exit(main())
