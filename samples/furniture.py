"""Furniture and room-decor builders for ``samples/generate.py``: numpy only, no Blender.

Every builder returns a list of *parts* in the object's own frame (CONVENTIONS.md box frame): ``x`` to the
object's right as seen from its front, ``y`` up, ``+z`` the object's **front** (foot of a bed, seat side of a sofa,
doors of a wardrobe), origin on the floor. Parts are upright boxes, vertical (possibly tapered) cylinders or
ellipsoids, all axis-aligned in the object frame::

    {"shape": "box" | "cyl" | "sphere", "c": [x, y, z] centre, "s": [sx, sy, sz] full extents,
     "m": material key, ("rb", "rt"): cylinder bottom / top radius as a fraction of sx / 2}

Sizes are real-world metres. ``normalize`` re-centres a part list so that its bounding box is centred on x = z = 0
and starts at y = 0; the object's truth box is then that bounding box.
"""

from __future__ import annotations

import math

import numpy as np

# ---------------------------------------------------------------------------------------------- primitives


def box(x, y0, z, sx, sy, sz, m):
    """Box with its *bottom* at ``y0`` (centre x, z)."""
    return {"shape": "box", "c": [x, y0 + sy / 2.0, z], "s": [sx, sy, sz], "m": m}


def cyl(x, y0, z, d, h, m, rb=1.0, rt=1.0):
    """Vertical cylinder / truncated cone, diameter ``d`` (the larger of its two ends), bottom at ``y0``."""
    assert max(rb, rt) == 1.0, "d is the larger end's diameter, so that the part box is tight"
    return {"shape": "cyl", "c": [x, y0 + h / 2.0, z], "s": [d, h, d], "m": m, "rb": rb, "rt": rt}


def ellipsoid(x, yc, z, sx, sy, sz, m):
    return {"shape": "sphere", "c": [x, yc, z], "s": [sx, sy, sz], "m": m}


def part_bounds(parts):
    """(lo, hi): the axis-aligned bounding box of all parts in the object frame."""
    c = np.array([p["c"] for p in parts], dtype=float)
    h = 0.5 * np.array([p["s"] for p in parts], dtype=float)
    return (c - h).min(axis=0), (c + h).max(axis=0)


def normalize(parts):
    """Shift parts so that their bounding box is centred on x = z = 0 with its bottom at y = 0."""
    lo, hi = part_bounds(parts)
    shift = np.array([-(lo[0] + hi[0]) / 2.0, -lo[1], -(lo[2] + hi[2]) / 2.0])
    out = []
    for p in parts:
        q = dict(p)
        q["c"] = (np.asarray(p["c"], dtype=float) + shift).tolist()
        out.append(q)
    return out


def u(rng, lo, hi):
    return float(rng.uniform(lo, hi))


# ---------------------------------------------------------------------------------------------- bedroom


BED_MATTRESS = {"queen": (1.52, 2.03), "double": (1.37, 1.91), "single": (0.97, 1.91)}


def bed(rng, m, kind="queen"):
    mw, ml = BED_MATTRESS[kind]
    fw, fl = mw + 0.08, ml + 0.06
    hb_t = 0.07
    hb_h = u(rng, 0.95, 1.2) if kind != "single" else u(rng, 0.8, 1.0)
    hb_mat = m["wood1"] if rng.random() < 0.5 else m["fabric2"]
    foot = hb_t + fl
    parts = [
        box(0, 0, hb_t / 2, fw + 0.04, hb_h, hb_t, hb_mat),
        box(0, 0.1, hb_t + fl / 2, fw, 0.22, fl, m["wood1"]),
        box(-(fw / 2 - 0.04), 0, foot - 0.04, 0.06, 0.1, 0.06, m["wood1"]),
        box(+(fw / 2 - 0.04), 0, foot - 0.04, 0.06, 0.1, 0.06, m["wood1"]),
        box(0, 0.32, hb_t + 0.03 + ml / 2, mw, 0.22, ml, m["bedding"]),
    ]
    duvet_l = 0.7 * ml
    parts.append(box(0, 0.40, foot - 0.01 - duvet_l / 2, mw + 0.06, 0.17, duvet_l, m["duvet"]))
    if rng.random() < 0.6:
        parts.append(box(0, 0.57, foot - 0.01 - 0.25, mw + 0.08, 0.025, 0.42, m["fabric1"]))
    n_pillows = 1 if kind == "single" else 2
    pw = 0.62 if kind != "single" else 0.7
    for i in range(n_pillows):
        x = 0.0 if n_pillows == 1 else (i - 0.5) * (pw + 0.06)
        parts.append(box(x, 0.54, hb_t + 0.05 + 0.2, pw, 0.13, 0.4, m["pillow"]))
    return normalize(parts)


def _drawer_unit(w, h, d, y0, rows, cols, m_body, m_front, m_handle, handle="knob"):
    """A closed carcass whose front (drawer fronts, flush, 8 mm gaps) is at z = d/2; handles protrude 2 mm."""
    parts = [box(0, y0, -0.009, w, h, d - 0.018, m_body)]
    gap = 0.008
    fh = (h - gap * (rows + 1)) / rows
    fw = (w - gap * (cols + 1)) / cols
    for r in range(rows):
        for c in range(cols):
            x = -w / 2 + gap + fw / 2 + c * (fw + gap)
            y = y0 + gap + r * (fh + gap)
            parts.append(box(x, y, d / 2 - 0.009, fw, fh, 0.018, m_front))
            if handle == "knob":
                parts.append(box(x, y + fh * 0.55, d / 2 + 0.001, 0.03, 0.03, 0.002, m_handle))
            else:
                parts.append(box(x, y + fh * 0.7, d / 2 + 0.001, min(0.25, fw * 0.5), 0.015, 0.002, m_handle))
    return parts


def nightstand(rng, m):
    w, d, h = u(rng, 0.42, 0.55), u(rng, 0.36, 0.42), u(rng, 0.5, 0.62)
    plinth = 0.06
    parts = [box(0, 0, -0.03, w - 0.04, plinth, d - 0.06, m["wood2"])]
    parts += _drawer_unit(w, h - plinth - 0.03, d, plinth, 2, 1, m["wood1"], m["wood1"], m["metal"])
    parts.append(box(0, h - 0.03, 0, w, 0.03, d, m["wood1"]))
    return normalize(parts)


def dresser(rng, m):
    w, d, h = u(rng, 0.9, 1.4), u(rng, 0.42, 0.5), u(rng, 0.75, 0.95)
    plinth = 0.08
    cols = 2 if w > 1.05 else 1
    parts = [box(0, 0, -0.03, w - 0.06, plinth, d - 0.06, m["wood2"])]
    parts += _drawer_unit(w, h - plinth - 0.03, d, plinth, 3, cols, m["wood1"], m["front"], m["metal"], "bar")
    parts.append(box(0, h - 0.03, 0, w, 0.03, d, m["wood1"]))
    return normalize(parts)


def wardrobe(rng, m):
    w, h, d = u(rng, 1.0, 2.0), u(rng, 1.95, 2.2), u(rng, 0.55, 0.62)
    n_doors = 2 if w < 1.4 else 3
    plinth = 0.08
    parts = [
        box(0, 0, -0.04, w - 0.04, plinth, d - 0.08, m["wood2"]),
        box(0, plinth, -0.009, w, h - plinth, d - 0.018, m["wood1"]),
    ]
    gap = 0.004
    dw = (w - 0.02 - gap * (n_doors - 1)) / n_doors
    for i in range(n_doors):
        x = -w / 2 + 0.01 + dw / 2 + i * (dw + gap)
        parts.append(box(x, plinth + 0.01, d / 2 - 0.009, dw, h - plinth - 0.02, 0.018, m["front"]))
        hx = x + (dw / 2 - 0.05) * (1 if i % 2 == 0 else -1)
        parts.append(box(hx, 0.95, d / 2 + 0.001, 0.02, 0.3, 0.002, m["metal"]))
    return normalize(parts)


# ---------------------------------------------------------------------------------------------- storage


def bookshelf(rng, m):
    w, h, d = u(rng, 0.7, 1.0), u(rng, 1.6, 2.0), u(rng, 0.28, 0.35)
    t = 0.02
    parts = [
        box(-(w / 2 - t / 2), 0, 0, t, h, d, m["wood1"]),
        box(+(w / 2 - t / 2), 0, 0, t, h, d, m["wood1"]),
        box(0, h - t, 0, w - 2 * t, t, d, m["wood1"]),
        box(0, 0, 0, w - 2 * t, 0.06, d, m["wood1"]),
        box(0, 0.06, -d / 2 + 0.005, w - 2 * t, h - t - 0.06, 0.01, m["wood2"]),
    ]
    n_shelves = max(3, int(round((h - 0.08) / 0.36)))
    pitch = (h - t - 0.06) / n_shelves
    inner = w - 2 * t
    for k in range(n_shelves):
        y_floor = 0.06 + k * pitch + (t if k > 0 else 0.0)
        if k > 0:
            parts.append(box(0, 0.06 + k * pitch, 0.005, inner, t, d - 0.01, m["wood1"]))
        gap_h = pitch - (t if k > 0 else 0.0)
        if rng.random() < 0.12:
            continue
        x = -inner / 2 + u(rng, 0.0, 0.08)
        limit = inner / 2 - 0.01 - u(rng, 0.0, 0.25) * inner
        while True:
            bw = u(rng, 0.02, 0.05)
            if x + bw > limit:
                break
            bh = min(gap_h - 0.03, u(rng, 0.17, 0.3))
            bd = u(rng, 0.15, min(0.24, d - 0.04))
            book = box(x + bw / 2, y_floor, -d / 2 + 0.012 + bd / 2, bw, bh, bd, m[f"book{int(rng.integers(6))}"])
            parts.append(book)
            x += bw + (u(rng, 0.05, 0.12) if rng.random() < 0.08 else 0.002)
    return normalize(parts)


def tv_stand(rng, m):
    w, d, h = u(rng, 1.3, 1.8), u(rng, 0.38, 0.45), u(rng, 0.45, 0.55)
    leg = 0.1
    parts = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(box(sx * (w / 2 - 0.05), 0, sz * (d / 2 - 0.05), 0.04, leg, 0.04, m["metal"]))
    parts += _drawer_unit(w, h - leg - 0.03, d, leg, 1, 3 if w > 1.5 else 2, m["wood1"], m["front"], m["metal"],
                          "bar")
    parts.append(box(0, h - 0.03, 0, w, 0.03, d, m["wood1"]))
    return normalize(parts)


def tv(rng, m, max_width=None):
    diag_in = u(rng, 43, 65)
    w = diag_in * 0.0254 * 16 / math.hypot(16, 9) + 0.02
    if max_width is not None:
        w = min(w, max_width)
    ph = w * 9 / 16 + 0.02
    lift = 0.08
    parts = [
        box(0, 0, 0, min(0.5, 0.45 * w), 0.02, 0.22, m["black"]),
        box(0, 0.02, -0.01, 0.08, lift - 0.02 + 0.05, 0.03, m["black"]),
        box(0, lift, 0.0, w, ph, 0.045, m["black"]),
        box(0, lift + 0.012, 0.0235, w - 0.024, ph - 0.03, 0.002, m["screen"]),
    ]
    return normalize(parts)


# ---------------------------------------------------------------------------------------------- seating


def sofa(rng, m, seats=None, armchair=False):
    if armchair:
        w, d = u(rng, 0.75, 0.9), u(rng, 0.78, 0.9)
        n = 1
    else:
        n = seats or int(rng.choice([2, 3]))
        w, d = (u(rng, 1.7, 1.95) if n == 2 else u(rng, 2.05, 2.35)), u(rng, 0.85, 0.95)
    hb, ah, aw = u(rng, 0.78, 0.88), u(rng, 0.58, 0.66), u(rng, 0.12, 0.2)
    fabric = m["fabric1"] if not armchair else m["fabric3"]
    leg = 0.07
    parts = []
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(cyl(sx * (w / 2 - 0.06), 0, sz * (d / 2 - 0.06), 0.045, leg, m["wood2"], rb=1.0, rt=1.0))
    parts += [
        box(0, leg, 0.0, w - 2 * aw, 0.23, d, fabric),
        box(0, leg, -d / 2 + 0.1, w, hb - leg, 0.2, fabric),
        box(-(w / 2 - aw / 2), leg, 0.0, aw, ah - leg, d, fabric),
        box(+(w / 2 - aw / 2), leg, 0.0, aw, ah - leg, d, fabric),
    ]
    cw = (w - 2 * aw) / n
    for i in range(n):
        x = -w / 2 + aw + cw * (i + 0.5)
        parts.append(box(x, leg + 0.23, 0.1 - 0.01, cw - 0.012, 0.13, d - 0.22, fabric))
        parts.append(box(x, leg + 0.36, -d / 2 + 0.2 + 0.08, cw - 0.02, hb - leg - 0.38, 0.16, fabric))
    if not armchair and rng.random() < 0.7:  # a throw pillow
        parts.append(box(-w / 2 + aw + 0.25, leg + 0.36, -d / 2 + 0.42, 0.42, 0.4, 0.13, m["pillow2"]))
    return normalize(parts)


def chair(rng, m):
    w, d = u(rng, 0.42, 0.48), u(rng, 0.45, 0.52)
    seat, top = 0.45, u(rng, 0.85, 0.95)
    leg = 0.035
    parts = [
        box(-(w / 2 - leg / 2), 0, d / 2 - leg / 2, leg, seat - 0.04, leg, m["wood1"]),
        box(+(w / 2 - leg / 2), 0, d / 2 - leg / 2, leg, seat - 0.04, leg, m["wood1"]),
        box(-(w / 2 - leg / 2), 0, -d / 2 + leg / 2, leg, top, leg, m["wood1"]),
        box(+(w / 2 - leg / 2), 0, -d / 2 + leg / 2, leg, top, leg, m["wood1"]),
        box(0, seat - 0.04, 0, w, 0.04, d, m["wood1"]),
        box(0, seat, 0.01, w - 0.04, 0.03, d - 0.06, m["fabric2"]),
        box(0, top - 0.08, -d / 2 + leg / 2, w - 2 * leg, 0.08, 0.025, m["wood1"]),
        box(0, seat + 0.12, -d / 2 + leg / 2, w - 2 * leg, 0.05, 0.02, m["wood1"]),
    ]
    return normalize(parts)


def office_chair(rng, m):
    sw, sd = u(rng, 0.48, 0.52), u(rng, 0.46, 0.5)
    seat_y = u(rng, 0.44, 0.5)
    back_h = u(rng, 0.45, 0.6)
    parts = [
        box(0, 0.05, 0, 0.62, 0.04, 0.05, m["black"]),
        box(0, 0.05, 0, 0.05, 0.04, 0.62, m["black"]),
    ]
    for x, z in ((-0.29, 0), (0.29, 0), (0, -0.29), (0, 0.29)):
        parts.append(box(x, 0, z, 0.05, 0.05, 0.05, m["black"]))
    parts += [
        cyl(0, 0.09, 0, 0.05, seat_y - 0.08 - 0.09, m["metal"]),
        box(0, seat_y - 0.08, 0.02, sw, 0.08, sd, m["fabric3"]),
        box(0, seat_y - 0.05, -sd / 2 - 0.02, 0.05, 0.22, 0.03, m["metal"]),
        box(0, seat_y + 0.1, -sd / 2 - 0.02, sw - 0.04, back_h, 0.06, m["fabric3"]),
    ]
    for sx in (-1, 1):
        parts.append(box(sx * (sw / 2 + 0.02), seat_y - 0.05, 0.0, 0.025, 0.2, 0.03, m["black"]))
        parts.append(box(sx * (sw / 2 + 0.02), seat_y + 0.15, 0.02, 0.06, 0.03, 0.28, m["black"]))
    return normalize(parts)


# ---------------------------------------------------------------------------------------------- tables


def coffee_table(rng, m):
    w, d, h = u(rng, 1.0, 1.25), u(rng, 0.55, 0.7), u(rng, 0.4, 0.46)
    parts = [box(0, h - 0.04, 0, w, 0.04, d, m["wood1"])]
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(box(sx * (w / 2 - 0.05), 0, sz * (d / 2 - 0.05), 0.05, h - 0.04, 0.05, m["wood1"]))
    parts.append(box(0, 0.12, 0, w - 0.12, 0.02, d - 0.12, m["wood2"]))
    return normalize(parts)


def dining_table(rng, m):
    w, d, h = u(rng, 1.4, 1.8), u(rng, 0.8, 0.95), u(rng, 0.74, 0.76)
    parts = [box(0, h - 0.04, 0, w, 0.04, d, m["wood1"])]
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(box(sx * (w / 2 - 0.07), 0, sz * (d / 2 - 0.07), 0.07, h - 0.04, 0.07, m["wood1"]))
    parts.append(box(0, h - 0.12, d / 2 - 0.09, w - 0.2, 0.08, 0.02, m["wood1"]))
    parts.append(box(0, h - 0.12, -d / 2 + 0.09, w - 0.2, 0.08, 0.02, m["wood1"]))
    return normalize(parts)


def desk(rng, m):
    w, d, h = u(rng, 1.2, 1.6), u(rng, 0.6, 0.75), u(rng, 0.74, 0.76)
    parts = [box(0, h - 0.03, 0, w, 0.03, d, m["wood1"])]
    drawers = rng.random() < 0.6
    legs_x = [-(w / 2 - 0.03)] + ([] if drawers else [w / 2 - 0.03])
    for x in legs_x:
        for sz in (-1, 1):
            parts.append(box(x, 0, sz * (d / 2 - 0.03), 0.04, h - 0.03, 0.04, m["metal"]))
    if drawers:
        parts += _drawer_unit(0.42, h - 0.03, d - 0.04, 0.0, 3, 1, m["wood2"], m["front"], m["metal"], "bar")
        # move the drawer unit to the right end: the last 1 + 3 * 2 parts
        for p in parts[-7:]:
            p["c"][0] += w / 2 - 0.21
            p["c"][2] -= 0.0
    return normalize(parts)


# ---------------------------------------------------------------------------------------------- lamps, plants


def table_lamp(rng, m, max_d=0.34):
    shade_d = min(max_d, u(rng, 0.24, 0.34))
    body_h = u(rng, 0.16, 0.26)
    shade_h = u(rng, 0.17, 0.23)
    parts = [
        cyl(0, 0, 0, min(0.15, shade_d * 0.55), 0.025, m["metal"]),
        cyl(0, 0.025, 0, u(rng, 0.08, 0.11), body_h, m["ceramic"], rb=1.0, rt=0.7),
        cyl(0, 0.025 + body_h - 0.04, 0, shade_d, shade_h, m["shade"], rb=1.0, rt=0.72),
    ]
    return normalize(parts)


def floor_lamp(rng, m):
    h = u(rng, 1.45, 1.7)
    parts = [
        cyl(0, 0, 0, 0.28, 0.03, m["metal"]),
        cyl(0, 0.03, 0, 0.025, h - 0.3, m["metal"]),
        cyl(0, h - 0.32, 0, 0.42, 0.32, m["shade"], rb=1.0, rt=0.72),
    ]
    return normalize(parts)


def plant(rng, m, small=False):
    if small:
        pd, ph, total = u(rng, 0.12, 0.16), u(rng, 0.1, 0.14), u(rng, 0.3, 0.42)
    else:
        pd, ph, total = u(rng, 0.26, 0.4), u(rng, 0.25, 0.4), u(rng, 0.8, 1.4)
    parts = [
        cyl(0, 0, 0, pd, ph, m["pot"], rb=0.75, rt=1.0),
        cyl(0, ph - 0.03, 0, pd * 0.92, 0.02, m["soil"]),
        cyl(0, ph - 0.02, 0, max(0.015, pd * 0.08), (total - ph) * 0.45, m["stem"]),
    ]
    spread = max(pd * 1.1, (total - ph) * 0.55)  # foliage diameter
    n = int(rng.integers(7, 12))
    for i in range(n):
        f = (i + 0.5) / n  # from the bottom of the foliage to its top
        a = 2 * math.pi * float(rng.random())
        size = spread * u(rng, 0.3, 0.5) * (1.0 - 0.35 * f)
        r = (spread - size) / 2 * u(rng, 0.3, 1.0) * (1.0 - 0.5 * f)
        y = ph + 0.05 + size / 2 + f * max(0.0, total - ph - 0.05 - size)
        parts.append(ellipsoid(r * math.cos(a), y, r * math.sin(a), size, size * u(rng, 0.7, 1.0), size, m["leaf"]))
    return normalize(parts)


# ---------------------------------------------------------------------------------------------- room decor


def window(rng, m, width, sill, top):
    fw, fd = 0.06, 0.05
    parts = [
        box(0, top - fw, fd / 2, width, fw, fd, m["trim"]),
        box(0, sill, fd / 2, width, fw, fd, m["trim"]),
        box(-(width / 2 - fw / 2), sill, fd / 2, fw, top - sill, fd, m["trim"]),
        box(+(width / 2 - fw / 2), sill, fd / 2, fw, top - sill, fd, m["trim"]),
        box(0, sill + fw, 0.004, width - 2 * fw, top - sill - 2 * fw, 0.006, m["sky"]),
        box(0, sill + fw, 0.02, 0.04, top - sill - 2 * fw, 0.03, m["trim"]),
        box(0, sill - 0.03, 0.06, width + 0.12, 0.03, 0.12, m["trim"]),
    ]
    if rng.random() < 0.5:
        parts.append(box(0, sill + 0.62 * (top - sill), 0.02, width - 2 * fw, 0.04, 0.03, m["trim"]))
    return normalize_keep_y(parts)


def door(rng, m, width, height):
    c = 0.07
    parts = [
        box(0, 0, 0.009, width, height, 0.018, m["door"]),
        box(-(width / 2 + c / 2), 0, 0.011, c, height + c, 0.022, m["trim"]),
        box(+(width / 2 + c / 2), 0, 0.011, c, height + c, 0.022, m["trim"]),
        box(0, height, 0.011, width, c, 0.022, m["trim"]),
        box(width / 2 - 0.08, 1.0, 0.03, 0.03, 0.03, 0.04, m["metal"]),
        box(width / 2 - 0.11, 1.0, 0.065, 0.12, 0.02, 0.02, m["metal"]),
    ]
    if rng.random() < 0.6:  # two raised panels
        parts.append(box(0, 0.15, 0.021, width - 0.2, 0.75, 0.006, m["door"]))
        parts.append(box(0, 1.05, 0.021, width - 0.2, height - 1.2, 0.006, m["door"]))
    return normalize_keep_y(parts)


def picture(rng, m, width, height, y0):
    t, dd = 0.03, 0.025
    parts = [
        box(0, y0, dd / 2, width, t, dd, m["frame"]),
        box(0, y0 + height - t, dd / 2, width, t, dd, m["frame"]),
        box(-(width / 2 - t / 2), y0, dd / 2, t, height, dd, m["frame"]),
        box(+(width / 2 - t / 2), y0, dd / 2, t, height, dd, m["frame"]),
        box(0, y0 + t, 0.006, width - 2 * t, height - 2 * t, 0.012, m["art"]),
    ]
    return normalize_keep_y(parts)


def rug(rng, m, width, depth):
    return normalize([box(0, 0, 0, width, 0.004, depth, m["rug"])])


def normalize_keep_y(parts):
    """Like :func:`normalize` but keeps the heights (wall-mounted decor)."""
    lo, hi = part_bounds(parts)
    shift = np.array([-(lo[0] + hi[0]) / 2.0, 0.0, -(lo[2] + hi[2]) / 2.0])
    out = []
    for p in parts:
        q = dict(p)
        q["c"] = (np.asarray(p["c"], dtype=float) + shift).tolist()
        out.append(q)
    return out
