"""Furniture shapes: a procedural mesh per common category that fills its object's solved box exactly, front on the
box's front (+z, CONVENTIONS.md), for the GLB.

A shape is a list of parts, each an axis-aligned block or an upright prism (legs, lamp stems and shades) in the
box's own metric frame (origin at the box's centre, x across, y up, z towards the front), made for the box's size:
a table's legs stay 5 cm thick whatever its size. :func:`shape_mesh` turns the parts into vertex arrays of the
unit box (-0.5..0.5 on each axis), so that the GLB node keeps its transform (scale = the box's size). Each part has
a material (:data:`MATERIALS`): a calm palette, wood, fabric in the category's colour, metal, ceramic, glass.
Unknown categories get no shape (None): they stay boxes. The union of a shape's parts spans its whole box on every
axis (tested), so the shape and the box agree on where the object is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: PBR materials of the shapes: base colour (linear RGB), metallic, roughness, opacity. ``fabric`` and ``body`` take
#: the category's colour instead (``None`` here).
MATERIALS: dict[str, tuple[tuple[float, float, float] | None, float, float, float]] = {
    "wood": ((0.42, 0.29, 0.18), 0.0, 0.7, 1.0),
    "light_wood": ((0.66, 0.52, 0.36), 0.0, 0.7, 1.0),
    "fabric": (None, 0.0, 0.95, 1.0),
    "body": (None, 0.0, 0.6, 1.0),
    "cushion": ((0.85, 0.83, 0.78), 0.0, 0.95, 1.0),
    "metal": ((0.55, 0.56, 0.58), 0.8, 0.35, 1.0),
    "ceramic": ((0.92, 0.92, 0.90), 0.0, 0.2, 1.0),
    "glass": ((0.70, 0.82, 0.90), 0.0, 0.05, 0.35),
    "screen": ((0.03, 0.03, 0.04), 0.2, 0.15, 1.0),
    "shade": ((0.95, 0.91, 0.80), 0.0, 0.9, 1.0),
}
#: Thicknesses (metres) the shapes use, clipped to what the box allows.
LEG_M = 0.05
BOARD_M = 0.025
PRISM_SIDES = 12


@dataclass(frozen=True)
class Part:
    """A block (``sides`` 4: an axis-aligned box) or an upright prism (``sides`` > 4, round; ``top_scale`` shrinks
    its top, for a lamp shade) from ``low`` to ``high`` (x, y, z metres in the box's frame), of ``material``."""

    low: tuple[float, float, float]
    high: tuple[float, float, float]
    material: str
    sides: int = 4
    top_scale: float = 1.0


def _block(x0, y0, z0, x1, y1, z1, material: str) -> Part:
    return Part((min(x0, x1), min(y0, y1), min(z0, z1)), (max(x0, x1), max(y0, y1), max(z0, z1)), material)


def _legs(hx: float, hz: float, y0: float, y1: float, material: str = "wood", inset: float = 0.0) -> list[Part]:
    leg = min(LEG_M, hx / 3, hz / 3)
    out = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * (hx - inset), sz * (hz - inset)
            out.append(_block(x, y0, z, x - sx * leg, y1, z - sz * leg, material))
    return out


def _fronts(x0: float, x1: float, y0: float, y1: float, hz: float, rows: int, columns: int,
            material: str) -> list[Part]:
    """Drawer or door fronts on the box's front face (z = hz) over x0..x1, y0..y1, in a grid with 1 cm gaps; the
    outer ones reach the box's sides."""
    gap = 0.01
    depth = min(0.02, hz / 4)
    out = []
    width, height = (x1 - x0) / columns, (y1 - y0) / rows
    for r in range(rows):
        for c in range(columns):
            left = x0 + c * width + (gap / 2 if c else 0.0)
            right = x0 + (c + 1) * width - (gap / 2 if c < columns - 1 else 0.0)
            bottom = y0 + r * height + (gap / 2 if r else 0.0)
            top = y0 + (r + 1) * height - (gap / 2 if r < rows - 1 else 0.0)
            out.append(_block(left, bottom, hz - depth, right, top, hz, material))
    return out


def _bed(hx, hy, hz):
    board = min(0.08, hz / 10)
    frame_top = -hy + min(0.35, 0.45 * 2 * hy)
    mattress_top = min(hy, frame_top + min(0.25, 0.5 * 2 * hy))
    return [_block(-hx, -hy, -hz + board, hx, frame_top, hz, "wood"),
            _block(-hx + 0.02, frame_top, -hz + board, hx - 0.02, mattress_top, hz - 0.02, "cushion"),
            _block(-hx + 0.05, mattress_top, -hz + board + 0.02, hx - 0.05,
                   min(hy, mattress_top + 0.12), -hz + board + min(0.5, hz / 2), "fabric"),  # pillows
            _block(-hx, -hy, -hz, hx, hy, -hz + board, "wood")]  # headboard


def _sofa(hx, hy, hz):
    arm = min(0.18, hx / 4)
    back = min(0.22, hz / 3)
    seat = -hy + min(0.42, 0.5 * 2 * hy)
    base = -hy + min(0.12, 0.15 * 2 * hy)
    arm_top = min(hy, seat + 0.2)
    parts = [_block(-hx, -hy, -hz, hx, base, hz, "wood"),
             _block(-hx + arm, base, -hz + back, hx - arm, seat, hz, "fabric"),
             _block(-hx, base, -hz, hx, hy, -hz + back, "fabric"),
             _block(-hx, base, -hz, -hx + arm, arm_top, hz, "fabric"),
             _block(hx - arm, base, -hz, hx, arm_top, hz, "fabric")]
    cushions = max(1, min(3, round((2 * hx - 2 * arm) / 0.6)))
    width = (2 * hx - 2 * arm) / cushions
    for k in range(cushions):
        x0 = -hx + arm + k * width
        parts.append(_block(x0 + 0.01, seat, -hz + back, x0 + width - 0.01, min(hy, seat + 0.08), hz, "cushion"))
    return parts


def _chair(hx, hy, hz):
    seat = -hy + min(0.45, 0.55 * 2 * hy)
    thick = min(0.05, 0.1 * 2 * hy)
    return _legs(hx, hz, -hy, seat - thick) + [_block(-hx, seat - thick, -hz, hx, seat, hz, "fabric"),
                                               _block(-hx, seat, -hz, hx, hy, -hz + min(0.06, hz / 3), "wood")]


def _stool(hx, hy, hz):
    thick = min(0.05, 0.2 * 2 * hy)
    return _legs(hx, hz, -hy, hy - thick) + [_block(-hx, hy - thick, -hz, hx, hy, hz, "fabric")]


def _table(hx, hy, hz, material: str = "wood"):
    top = min(0.04, 0.1 * 2 * hy)
    return _legs(hx, hz, -hy, hy - top, material, inset=0.0) + [_block(-hx, hy - top, -hz, hx, hy, hz, material)]


def _desk(hx, hy, hz):
    top = min(0.04, 0.1 * 2 * hy)
    pedestal = min(0.4, hx * 0.6)
    parts = [_block(-hx, hy - top, -hz, hx, hy, hz, "light_wood"),
             _block(hx - pedestal, -hy, -hz, hx, hy - top, hz - min(0.02, hz / 4), "body")]
    parts += _fronts(hx - pedestal, hx, -hy, hy - top, hz, 3, 1, "light_wood")
    leg = min(LEG_M, hx / 4, hz / 3)
    parts += [_block(-hx, -hy, -hz, -hx + leg, hy - top, -hz + leg, "metal"),
              _block(-hx, -hy, hz - leg, -hx + leg, hy - top, hz, "metal")]
    return parts


def _storage(rows: int, columns: int):
    def build(hx, hy, hz):
        depth = min(0.02, hz / 4)
        plinth = min(0.06, 0.1 * 2 * hy)
        return ([_block(-hx, -hy, -hz, hx, hy, hz - depth, "body"),
                 _block(-hx + 0.02, -hy, hz - depth, hx - 0.02, -hy + plinth, hz - depth / 2, "wood")]
                + _fronts(-hx, hx, -hy + plinth, hy, hz, rows, columns, "light_wood"))
    return build


def _wardrobe(hx, hy, hz):
    doors = 2 if hx * 2 < 1.4 else 3
    return _storage(1, doors)(hx, hy, hz)


def _bookshelf(hx, hy, hz):
    board = min(BOARD_M, hx / 6, hy / 6)
    parts = [_block(-hx, -hy, -hz, -hx + board, hy, hz, "wood"), _block(hx - board, -hy, -hz, hx, hy, hz, "wood"),
             _block(-hx, -hy, -hz, hx, hy, -hz + board, "wood")]
    shelves = max(2, min(7, round(2 * hy / 0.35)))
    for k in range(shelves + 1):
        y = -hy + k * (2 * hy - board) / shelves
        parts.append(_block(-hx + board, y, -hz, hx - board, y + board, hz, "wood"))
    return parts


def _lamp(hx, hy, hz, shade_share: float):
    shade_h = shade_share * 2 * hy
    base_h = min(0.04, 0.1 * 2 * hy)
    stem = min(0.03, hx / 3, hz / 3)
    r = min(hx, hz)
    return [Part((-0.6 * r, -hy, -0.6 * r), (0.6 * r, -hy + base_h, 0.6 * r), "metal", PRISM_SIDES),
            Part((-stem / 2, -hy + base_h, -stem / 2), (stem / 2, hy - shade_h, stem / 2), "metal", PRISM_SIDES),
            Part((-hx, hy - shade_h, -hz), (hx, hy, hz), "shade", PRISM_SIDES, top_scale=0.65)]


def _door(hx, hy, hz):
    frame = min(0.06, hx / 5)
    return [_block(-hx, -hy, -hz, -hx + frame, hy, hz, "wood"), _block(hx - frame, -hy, -hz, hx, hy, hz, "wood"),
            _block(-hx, hy - frame, -hz, hx, hy, hz, "wood"),
            _block(-hx + frame, -hy, -hz / 3, hx - frame, hy - frame, hz / 3, "light_wood")]


def _window(hx, hy, hz):
    frame = min(0.05, hx / 5, hy / 5)
    return [_block(-hx, -hy, -hz, -hx + frame, hy, hz, "ceramic"), _block(hx - frame, -hy, -hz, hx, hy, hz, "ceramic"),
            _block(-hx, -hy, -hz, hx, -hy + frame, hz, "ceramic"), _block(-hx, hy - frame, -hz, hx, hy, hz, "ceramic"),
            _block(-hx + frame, -hy + frame, -hz / 4, hx - frame, hy - frame, hz / 4, "glass")]


def _screen(hx, hy, hz):
    return [_block(-hx, -hy, -hz, hx, hy, hz - min(0.005, hz / 4), "metal"),
            _block(-hx + 0.01, -hy + 0.01, hz - min(0.005, hz / 4), hx - 0.01, hy - 0.01, hz, "screen")]


def _toilet(hx, hy, hz):
    seat = -hy + min(0.42, 0.55 * 2 * hy)
    return [_block(-0.6 * hx, -hy, -hz / 3, 0.6 * hx, seat - 0.1, hz * 0.6, "ceramic"),
            Part((-hx, seat - 0.1, -hz * 0.4), (hx, seat, hz), "ceramic", PRISM_SIDES),
            _block(-hx, seat - 0.1, -hz, hx, hy, -hz * 0.4, "ceramic")]


def _basin(wall_m: float, bottom_m: float):
    """A sink or a bathtub: a bottom and four walls around the hollow."""
    def build(hx, hy, hz):
        wall = min(wall_m, hx / 5, hz / 5)
        bottom = min(bottom_m, 2 * hy / 4)
        return [_block(-hx, -hy, -hz, hx, -hy + bottom, hz, "ceramic"),
                _block(-hx, -hy, -hz, -hx + wall, hy, hz, "ceramic"),
                _block(hx - wall, -hy, -hz, hx, hy, hz, "ceramic"),
                _block(-hx, -hy, -hz, hx, hy, -hz + wall, "ceramic"),
                _block(-hx, -hy, hz - wall, hx, hy, hz, "ceramic")]
    return build


def _refrigerator(hx, hy, hz):
    depth = min(0.03, hz / 5)
    split = hy - 0.35 * 2 * hy
    handle = min(0.03, hx / 8)
    return [_block(-hx, -hy, -hz, hx, hy, hz - depth, "ceramic"),
            _block(-hx, -hy, hz - depth, hx, split - 0.005, hz - handle, "ceramic"),
            _block(-hx, split + 0.005, hz - depth, hx, hy, hz - handle, "ceramic"),
            _block(hx - 0.08, split + 0.05, hz - handle, hx - 0.05, split + 0.35 * (hy - split), hz, "metal"),
            _block(hx - 0.08, split - 0.35 * (split + hy), hz - handle, hx - 0.05, split - 0.05, hz, "metal")]


def _counter(hx, hy, hz):
    top = min(0.04, 0.1 * 2 * hy)
    depth = min(0.02, hz / 4)
    return ([_block(-hx, hy - top, -hz, hx, hy, hz, "ceramic"), _block(-hx, -hy, -hz, hx, hy - top, hz - depth, "body")]
            + _fronts(-hx, hx, -hy, hy - top, hz, 1, max(1, round(2 * hx / 0.6)), "light_wood"))


def _plant(hx, hy, hz):
    pot = min(0.35 * 2 * hy, 0.4)
    return [Part((-0.6 * hx, -hy, -0.6 * hz), (0.6 * hx, -hy + pot, 0.6 * hz), "ceramic", PRISM_SIDES, 0.8),
            Part((-hx, -hy + pot, -hz), (hx, hy, hz), "fabric", PRISM_SIDES, top_scale=0.5)]


BUILDERS: dict[str, Callable[[float, float, float], list[Part]]] = {
    "bed": _bed, "crib": _bed,
    "sofa": _sofa, "armchair": _sofa,
    "chair": _chair, "office chair": _chair, "stool": _stool, "bench": _stool, "ottoman": _stool,
    "dining table": _table, "coffee table": _table, "side table": _table,
    "desk": _desk,
    "nightstand": _storage(2, 1), "dresser": _storage(3, 2), "cabinet": _storage(1, 2), "tv stand": _storage(1, 3),
    "wall cabinet": _storage(1, 2), "bathroom vanity": _storage(1, 2), "dishwasher": _storage(1, 1),
    "washing machine": _storage(1, 1), "wardrobe": _wardrobe,
    "bookshelf": _bookshelf, "wall shelf": _bookshelf,
    "table lamp": lambda hx, hy, hz: _lamp(hx, hy, hz, 0.4), "floor lamp": lambda hx, hy, hz: _lamp(hx, hy, hz, 0.25),
    "door": _door, "window": _window,
    "tv": _screen, "monitor": _screen, "picture": _screen, "whiteboard": _screen, "mirror": _screen,
    "toilet": _toilet, "sink": _basin(0.03, 0.03), "bathtub": _basin(0.08, 0.1), "refrigerator": _refrigerator,
    "kitchen counter": _counter, "plant": _plant,
}


def shape_parts(category: str, size_m) -> list[Part] | None:
    """The parts of ``category``'s shape for a box of ``size_m`` (x, y, z metres), clipped to the box; None for a
    category without a shape or a box too small to hold one (under 2 cm on a side)."""
    builder = BUILDERS.get(category)
    size = np.asarray(size_m, dtype=float)
    if builder is None or not np.all(np.isfinite(size)) or size.min() < 0.02:
        return None
    half = 0.5 * size
    parts = []
    for part in builder(*half):
        low = np.clip(part.low, -half, half)
        high = np.clip(part.high, -half, half)
        if np.all(high - low > 1e-6):
            parts.append(Part(tuple(low), tuple(high), part.material, part.sides, part.top_scale))
    return parts or None


def shape_mesh(category: str, size_m) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """``{material: (positions (N, 3), normals (N, 3), triangles (M, 3))}`` of ``category``'s shape in the unit
    box (-0.5..0.5: the node's scale makes it the solved box), counter-clockwise outward triangles, normals already
    corrected for that scale; None where the object stays a box (:func:`shape_parts`)."""
    parts = shape_parts(category, size_m)
    if parts is None:
        return None
    size = np.asarray(size_m, dtype=float)
    grouped: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for part in parts:
        grouped.setdefault(part.material, []).append(_part_geometry(part))
    out = {}
    for material, pieces in grouped.items():
        positions, normals, triangles, offset = [], [], [], 0
        for p, n, t in pieces:
            positions.append(p / size)
            scaled = n * size  # normals under the node's scale by diag(1 / size): inverse transpose
            normals.append(scaled / np.linalg.norm(scaled, axis=1, keepdims=True))
            triangles.append(t + offset)
            offset += len(p)
        out[material] = (np.concatenate(positions), np.concatenate(normals), np.concatenate(triangles))
    return out


def _part_geometry(part: Part) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric positions, normals and triangles of one part: flat-shaded faces."""
    low, high = np.asarray(part.low), np.asarray(part.high)
    if part.sides <= 4:
        return cuboid(low, high)
    return _prism(low, high, part.sides, part.top_scale)


def cuboid(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An axis-aligned box from ``low`` to ``high``: 24 vertices with flat normals, 12 counter-clockwise (outward)
    triangles."""
    positions, normals, triangles = [], [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            normal = np.zeros(3)
            normal[axis] = sign
            u, v = (axis + 1) % 3, (axis + 2) % 3
            base = len(positions)
            for du, dv in ((0, 0), (1, 0), (1, 1), (0, 1)):
                p = np.empty(3)
                p[axis] = high[axis] if sign > 0 else low[axis]
                p[u] = high[u] if du else low[u]
                p[v] = high[v] if dv else low[v]
                positions.append(p)
                normals.append(normal)
            quad = [base, base + 1, base + 2, base, base + 2, base + 3]
            triangles.extend(quad if sign > 0 else [quad[0], quad[2], quad[1], quad[3], quad[5], quad[4]])
    return np.array(positions), np.array(normals), np.array(triangles).reshape(-1, 3)


def _prism(low: np.ndarray, high: np.ndarray, sides: int, top_scale: float):
    """An upright prism (a frustum when ``top_scale`` < 1) whose bottom ellipse touches the block's sides."""
    centre = 0.5 * (low + high)
    rx, rz = 0.5 * (high[0] - low[0]), 0.5 * (high[2] - low[2])
    angles = 2 * math.pi * (np.arange(sides) + 0.5) / sides
    # the polygon's widest extent reaches the block's faces exactly
    ring = np.column_stack([np.cos(angles), np.sin(angles)])
    ring /= np.abs(ring).max(axis=0)
    bottom = np.column_stack([centre[0] + rx * ring[:, 0], np.full(sides, low[1]), centre[2] + rz * ring[:, 1]])
    top = np.column_stack([centre[0] + top_scale * rx * ring[:, 0], np.full(sides, high[1]),
                           centre[2] + top_scale * rz * ring[:, 1]])
    positions, normals, triangles = [], [], []
    for k in range(sides):  # sides: one flat quad each
        j = (k + 1) % sides
        quad = [bottom[k], bottom[j], top[j], top[k]]
        normal = np.cross(quad[1] - quad[0], quad[3] - quad[0])
        normal /= max(np.linalg.norm(normal), 1e-12)
        outward = (0.5 * (quad[0] + quad[1]) - centre) * np.array([1.0, 0.0, 1.0])
        if normal @ outward < 0:  # wound the other way round: turn it
            quad = quad[::-1]
            normal = -normal
        base = len(positions)
        positions.extend(quad)
        normals.extend([normal] * 4)
        triangles.extend([[base, base + 1, base + 2], [base, base + 2, base + 3]])
    for ring_points, y_sign in ((bottom, -1.0), (top, 1.0)):  # caps: triangle fans, wound to face out
        base = len(positions)
        positions.extend(ring_points)
        normals.extend([np.array([0.0, y_sign, 0.0])] * sides)
        first = np.cross(ring_points[1] - ring_points[0], ring_points[2] - ring_points[0])
        flip = first[1] * y_sign < 0
        for k in range(1, sides - 1):
            triangles.append([base, base + k + 1, base + k] if flip else [base, base + k, base + k + 1])
    return np.array(positions), np.array(normals), np.array(triangles)
