"""``floorplan.svg``: the room seen from above, to print (A4 portrait, vector, a standard architect's scale).

Drawn in the room's frame (its walls along the page's axes): the back wall at the top, the camera's side at the
bottom. The floor, the walls (solid where measured, dashed where inferred: just beyond the objects in view), every
object's footprint with its label and size, doors and windows in the wall colour, the camera and its view, the
room's width and depth in metres and feet-inches ("≥" where a wall was not seen), a scale bar and the scale. All
model text is escaped.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np

from .. import frames
from ..records import Scene

#: The page (millimetres): A4 portrait, its margins, and the space kept for the title above and the legend below.
PAGE_MM = (210.0, 297.0)
MARGIN_MM = 15.0
TITLE_MM = 16.0
LEGEND_MM = 24.0
#: Architect's scales tried in turn (1:n): the largest that fits the room on the page.
SCALES = (20, 25, 50, 75, 100, 150, 200, 250, 500)
#: Categories drawn as openings in the wall colour.
OPENINGS = ("door", "window")
#: Text sizes (millimetres on paper); a label's width is about this many times its size per character; a label
#: that would overlap another moves down a line at a time, at most this many times.
LABEL_MM = 2.8
DIMENSION_MM = 3.2
LABEL_WIDTH_PER_CHAR = 0.55
LABEL_TRIES = 6


def feet_inches(metres: float) -> str:
    """``11 ft 3 in`` (to the nearest inch)."""
    inches = round(abs(metres) / 0.0254)
    return f"{inches // 12} ft {inches % 12} in"


def floorplan_svg(scene: Scene, title: str = "room3d floor plan", dimensions: dict | None = None) -> str:
    """The SVG text of the plan of ``scene`` (module docstring). ``dimensions``: ``scene.json``'s
    ``room.dimensions`` (value, ``at_least``), for the width and depth written on the plan."""
    yaw = scene.camera.room_yaw_rad
    to_room = frames.rot_y(-yaw)

    def plan(points_world: np.ndarray) -> np.ndarray:
        """(N, 2) room-frame (x, z) of world points (x right, z towards the camera: down the page)."""
        return (np.asarray(points_world, dtype=float).reshape(-1, 3) @ to_room.T)[:, [0, 2]]

    floor = plan(np.array([[x, 0.0, z] for x, z in scene.room.floor_polygon_m]))
    footprints = [(obj, plan(obj.corners_m[[0, 1, 5, 4]])) for obj in scene.objects]  # the bottom face
    camera = plan(scene.camera.world_from_camera[:3, 3])[0]
    every = np.concatenate([floor.reshape(-1, 2), camera[None], *[f for _, f in footprints]])
    low, high = every.min(axis=0) - 0.3, every.max(axis=0) + 0.3
    area_w = PAGE_MM[0] - 2 * MARGIN_MM
    area_h = PAGE_MM[1] - 2 * MARGIN_MM - TITLE_MM - LEGEND_MM
    span = np.maximum(high - low, 1e-3)
    scale = next((n for n in SCALES if span[0] * 1000 / n <= area_w and span[1] * 1000 / n <= area_h), None)
    mm_per_m = 1000.0 / scale if scale else min(area_w / span[0], area_h / span[1])
    origin = np.array([MARGIN_MM + 0.5 * (area_w - span[0] * mm_per_m),
                       MARGIN_MM + TITLE_MM + 0.5 * (area_h - span[1] * mm_per_m)])

    def page(points: np.ndarray) -> np.ndarray:
        return origin + (np.asarray(points, dtype=float).reshape(-1, 2) - low) * mm_per_m

    def path(points: np.ndarray, closed: bool = True) -> str:
        p = page(points)
        return "M " + " L ".join(f"{x:.2f} {y:.2f}" for x, y in p) + (" Z" if closed else "")

    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{PAGE_MM[0]:g}mm" height="{PAGE_MM[1]:g}mm" '
            f'viewBox="0 0 {PAGE_MM[0]:g} {PAGE_MM[1]:g}" font-family="Helvetica, Arial, sans-serif">'),
           f"<title>{escape(title)}</title>",
           f'<rect width="{PAGE_MM[0]:g}" height="{PAGE_MM[1]:g}" fill="#ffffff"/>',
           f'<text x="{MARGIN_MM:g}" y="{MARGIN_MM + 6:g}" font-size="5" font-weight="bold">{escape(title)}</text>',
           f'<text x="{MARGIN_MM:g}" y="{MARGIN_MM + 11:g}" font-size="3">'
           + escape(f"Scale 1:{scale} on A4" if scale else "Not to a standard scale (the room is too large)")
           + " · seen from above, the camera's side at the bottom</text>"]
    if len(floor) >= 3:
        out.append(f'<path class="floor" d="{path(floor)}" fill="#f4efe6" stroke="none"/>')
    for wall in scene.room.walls:
        ends = plan(np.array(wall.corners_m[:2]))
        dashed = "" if wall.source in ("depth", "layout") else ' stroke-dasharray="2 1.5"'
        out.append(f'<path class="wall wall-{escape(wall.source)}" d="{path(ends, closed=False)}" fill="none" '
                   f'stroke="#333333" stroke-width="1.2"{dashed}><title>{escape(wall.name)}: '
                   f'{escape(wall.source)}</title></path>')
    for obj, footprint in footprints:
        opening = any(word in obj.category for word in OPENINGS)
        fill, stroke = ("#9db4c8", "#333333") if opening else ("#d9e3ec", "#44607a")
        out.append(f'<path class="object{" opening" if opening else ""}" d="{path(footprint)}" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="0.35"/>')
    out.extend(_labels([(obj, page(footprint.mean(axis=0))[0], _area(footprint)) for obj, footprint in footprints]))
    forward = plan(scene.camera.world_from_camera[:3, :3] @ np.array([0.0, 0.0, 1.0]))[0]
    out.extend(_camera_marker(page(camera)[0], forward, scene.camera.intrinsics.horizontal_fov_rad))
    if len(floor) == 4:
        out.extend(_dimension_lines(page(floor), floor, dimensions or {}))
    out.extend(_legend(scale, mm_per_m))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _area(polygon: np.ndarray) -> float:
    """Area of a (N, 2) polygon (shoelace), either orientation."""
    x, y = polygon[:, 0], polygon[:, 1]
    return 0.5 * abs(float(x @ np.roll(y, -1) - y @ np.roll(x, -1)))


def _labels(placed: list) -> list[str]:
    """Each object's label and size at its footprint's centre (``placed``: ``(object, centre on the page, footprint
    area)``), the larger objects first; a label that would overlap one already set moves down a line at a time
    (up to :data:`LABEL_TRIES` lines), joined to its object by a thin leader."""
    out, taken = [], []
    for obj, centre, _ in sorted(placed, key=lambda item: -item[2]):
        width_m, _, depth_m = obj.size_m
        size = f"{width_m:.2f} × {depth_m:.2f} m"
        half = 0.5 * LABEL_WIDTH_PER_CHAR * LABEL_MM * max(len(obj.label), len(size))
        at = centre.copy()
        for _ in range(LABEL_TRIES):
            box = (at[0] - half, at[1] - LABEL_MM, at[0] + half, at[1] + 0.9 * LABEL_MM)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
                break
            at = at + np.array([0.0, 2.0 * LABEL_MM])
        taken.append((at[0] - half, at[1] - LABEL_MM, at[0] + half, at[1] + 0.9 * LABEL_MM))
        if np.linalg.norm(at - centre) > 1e-6:
            out.append(f'<path class="leader" d="M {centre[0]:.2f} {centre[1]:.2f} L {at[0]:.2f} '
                       f'{at[1] - LABEL_MM:.2f}" stroke="#777777" stroke-width="0.15"/>')
        out.append(f'<text class="label" x="{at[0]:.2f}" y="{at[1]:.2f}" font-size="{LABEL_MM:g}" '
                   f'text-anchor="middle">{escape(obj.label)}</text>')
        out.append(f'<text class="size" x="{at[0]:.2f}" y="{at[1] + 0.9 * LABEL_MM:.2f}" '
                   f'font-size="{0.8 * LABEL_MM:.2f}" text-anchor="middle" fill="#555555">{size}</text>')
    return out


def _camera_marker(at: np.ndarray, forward: np.ndarray, fov_rad: float) -> list[str]:
    """The camera as a dot and its view as a wedge: ``forward``, its viewing direction on the plan (x, z; z runs
    down the page), opened by the photo's horizontal field of view."""
    heading = math.atan2(forward[1], forward[0])
    reach = 12.0
    points = [at] + [at + reach * np.array([math.cos(heading + s * 0.5 * fov_rad),
                                            math.sin(heading + s * 0.5 * fov_rad)]) for s in (-1.0, 1.0)]
    wedge = " L ".join(f"{x:.2f} {y:.2f}" for x, y in points)
    return [(f'<path class="camera-view" d="M {wedge} Z" fill="#f2c14e" fill-opacity="0.35" stroke="#c99a1a" '
             'stroke-width="0.3"/>'),
            f'<circle class="camera" cx="{at[0]:.2f}" cy="{at[1]:.2f}" r="1.2" fill="#c99a1a"/>',
            f'<text x="{at[0] + 2:.2f}" y="{at[1] + 4:.2f}" font-size="2.5" fill="#8a6a12">camera</text>']


def _dimension_lines(corners_page: np.ndarray, corners_m: np.ndarray, dimensions: dict) -> list[str]:
    """The width along the top edge and the depth along the right edge, outside the room, in metres and
    feet-inches (``≥``: at least, a wall not seen)."""
    top = corners_page[np.argsort(corners_page[:, 1])[:2]]
    right = corners_page[np.argsort(-corners_page[:, 0])[:2]]
    width_m = float(np.ptp(corners_m[:, 0]))
    depth_m = float(np.ptp(corners_m[:, 1]))
    out = []
    for name, (a, b), value, offset in (("width", sorted(top.tolist()), width_m, np.array([0.0, -5.0])),
                                        ("depth", sorted(right.tolist(), key=lambda p: p[1]), depth_m,
                                         np.array([5.0, 0.0]))):
        a, b = np.array(a) + offset, np.array(b) + offset
        bound = "≥ " if dimensions.get(name, {}).get("at_least") else ""
        text = f"{bound}{value:.2f} m ({feet_inches(value)})"
        middle = 0.5 * (a + b)
        rotate = f' transform="rotate(90 {middle[0]:.2f} {middle[1]:.2f})"' if name == "depth" else ""
        out.append(f'<path class="dimension" d="M {a[0]:.2f} {a[1]:.2f} L {b[0]:.2f} {b[1]:.2f}" stroke="#222222" '
                   'stroke-width="0.25"/>')
        for end in (a, b):
            out.append(f'<path d="M {end[0] - 1:.2f} {end[1] + 1:.2f} L {end[0] + 1:.2f} {end[1] - 1:.2f}" '
                       'stroke="#222222" stroke-width="0.3"/>')
        out.append(f'<text class="dimension-text" x="{middle[0]:.2f}" y="{middle[1] - 1.2:.2f}" '
                   f'font-size="{DIMENSION_MM:g}" text-anchor="middle"{rotate}>{escape(text)}</text>')
    return out


def _legend(scale: int | None, mm_per_m: float) -> list[str]:
    """A scale bar of whole metres and the wall styles' meaning, at the bottom of the page."""
    y = PAGE_MM[1] - MARGIN_MM - LEGEND_MM + 8.0
    metres = max(1, min(5, int(60.0 // mm_per_m)))
    out = []
    for k in range(metres):
        x = MARGIN_MM + k * mm_per_m
        out.append(f'<rect class="scale-bar" x="{x:.2f}" y="{y:.2f}" width="{mm_per_m:.2f}" height="1.5" '
                   f'fill="{"#222222" if k % 2 == 0 else "#ffffff"}" stroke="#222222" stroke-width="0.2"/>')
        out.append(f'<text x="{x:.2f}" y="{y + 5:.2f}" font-size="2.5">{k} m</text>')
    out.append(f'<text x="{MARGIN_MM + metres * mm_per_m:.2f}" y="{y + 5:.2f}" font-size="2.5">{metres} m</text>')
    legend_x = MARGIN_MM + 90.0
    out.append(f'<path d="M {legend_x:.1f} {y:.1f} L {legend_x + 10:.1f} {y:.1f}" stroke="#333333" '
               'stroke-width="1.2"/>')
    out.append(f'<text x="{legend_x + 12:.1f}" y="{y + 1:.1f}" font-size="2.5">wall measured (depth map) or given '
               '(layout)</text>')
    out.append(f'<path d="M {legend_x:.1f} {y + 5:.1f} L {legend_x + 10:.1f} {y + 5:.1f}" stroke="#333333" '
               'stroke-width="1.2" stroke-dasharray="2 1.5"/>')
    out.append(f'<text x="{legend_x + 12:.1f}" y="{y + 6:.1f}" font-size="2.5">wall inferred: just beyond what '
               'is seen, the room may be larger</text>')
    return out
