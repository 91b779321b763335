"""Spatial relations between the objects of a solved scene, for answers such as "how far is the bed from the
wardrobe?", "what is left of the sofa?" or "how much room is there between the desk and the wall?".

:func:`relations` works on the ``scene.json`` dict (``objects[]`` with ``name``, ``center``, ``size``, ``yaw``;
``camera.world_from_camera``; ``room.walls[]`` with ``name`` and ``plane``, or ``corners`` as in sample truth
files) and returns JSON-ready data:

- ``pairs``: one entry per pair of objects ``a``, ``b`` (``a`` before ``b`` in ``objects[]``), describing **b
  relative to a**:

  - ``distance_m``: centre to centre.
  - ``gap_m``: the smallest distance between the two boxes (0 when they touch or overlap), exact for upright
    boxes: ``sqrt(horizontal_gap_m² + vertical_gap_m²)``, where ``horizontal_gap_m`` is the distance between the
    two footprint rectangles (convex polygons) and ``vertical_gap_m`` the gap between the two height intervals
    (an upright box is its footprint times its height interval, and the distance between two such products is
    the root of the sum of the squared distances of the factors).
  - ``right_m``, ``forward_m``, ``up_m``: the centre offset ``b - a`` along the camera's horizontal right axis,
    its horizontal viewing direction (``forward_m > 0``: ``b`` is deeper in the photo, farther from the camera)
    and world +Y.
  - ``relations``: words for b relative to a **as seen from the photo's viewpoint**: ``left_of`` / ``right_of``,
    ``in_front_of`` (nearer the camera) / ``behind``, ``above`` / ``below``, ``on_top_of`` (b rests on a) /
    ``under`` (a rests on b). Left/right and front/behind use the centre offset in the floor plane with a dead
    zone: the offset along the axis must exceed :data:`DEAD_ZONE_M` and ``tan(22.5°)`` times the offset across
    it, so the floor plane splits into eight 45° sectors like a compass (straight right: ``right_of`` only;
    diagonally right and back: both). ``above``: b's bottom is at or above a's top, within
    :data:`VERTICAL_TOLERANCE_M`; ``on_top_of``: also touching (within the same tolerance) with footprints that
    overlap by more than :data:`FOOTPRINT_OVERLAP_M`; a pair with ``on_top_of`` or ``under`` has no left/right or
    front/behind word (the offsets still say where the one stands on the other).

  Every relation has an exact inverse (``left_of`` <-> ``right_of``, ``on_top_of`` <-> ``under`` ...), so the pair
  ``(b, a)`` is the pair ``(a, b)`` turned round: :func:`pair` gives either orientation.
- ``walls``: per object name, ``gaps_m`` (the gap from the box's nearest corner to each wall's plane, 0 when the
  box reaches or crosses it), ``nearest_wall`` and ``nearest_gap_m``.
- ``camera_axes``: the horizontal ``right`` and ``forward`` unit vectors (world) that the words refer to.
- ``note``: ``None``, or why some pairs are not listed (scenes with more than :data:`MAX_OBJECTS_ALL_PAIRS`
  objects list only pairs within :data:`MAX_PAIR_GAP_M` of each other).

All of it is vectorised over the pairs with numpy; 50 objects take a few milliseconds.
"""

from __future__ import annotations

import math

import numpy as np

from . import frames
from .errors import UserError
from .records import Wall

#: Offsets (metres) smaller than this along an axis are no left/right or front/behind relation.
DEAD_ZONE_M = 0.10
#: The offset along an axis must also be at least this times the offset across it (eight 45° sectors).
SECTOR_RATIO = math.tan(math.radians(22.5))
#: ``above`` / ``below`` / ``on_top_of``: vertical slack (metres) between one box's bottom and the other's top.
VERTICAL_TOLERANCE_M = 0.02
#: ``on_top_of`` needs the footprints to overlap by more than this (metres, along every separating axis).
FOOTPRINT_OVERLAP_M = 0.01
#: Scenes with more objects than this list, for each object, only its :data:`NEAREST_PAIRS` nearest neighbours (by
#: centre distance) within :data:`MAX_PAIR_GAP_M`: the pairs grow linearly with the objects, not quadratically.
MAX_OBJECTS_ALL_PAIRS = 60
#: The pair gap limit (metres) for large scenes ...
MAX_PAIR_GAP_M = 3.0
#: ... and the neighbours each object keeps there.
NEAREST_PAIRS = 8
#: Numbers are rounded to this many decimals (micrometres) in the output.
DECIMALS = 6

INVERSE = {"left_of": "right_of", "right_of": "left_of", "in_front_of": "behind", "behind": "in_front_of",
           "above": "below", "below": "above", "on_top_of": "under", "under": "on_top_of"}
PHRASES = {"left_of": "to its left", "right_of": "to its right", "in_front_of": "in front of it",
           "behind": "behind it", "above": "above it", "below": "below it", "on_top_of": "on top of it",
           "under": "under it"}
_FOOTPRINT = [0, 1, 5, 4]  # bottom-face corners of frames.box_corners, in order around the rectangle


def relations(scene_json: dict, *, all_pairs: bool = False) -> dict:
    """Pairwise distances, gaps and camera-relative directions, and gaps to the walls, of a ``scene.json`` dict.

    ``all_pairs=True`` lists every pair even in scenes with more than :data:`MAX_OBJECTS_ALL_PAIRS` objects.
    Raises :class:`UserError` when the dict is not a scene (objects without ``center``/``size``/``yaw`` ...).
    """
    if not isinstance(scene_json, dict) or "objects" not in scene_json:
        raise UserError("not a scene: expected a JSON object with 'objects'")
    names, centers, sizes, yaws = _objects(scene_json["objects"])
    right, forward, camera_note = _camera_axes(scene_json.get("camera"))
    n = len(names)

    corners = np.stack([frames.box_corners(c, s, y) for c, s, y in zip(centers, sizes, yaws)]) if n else \
        np.zeros((0, 8, 3))
    bottom, top = corners[:, :, 1].min(axis=1), corners[:, :, 1].max(axis=1)
    footprint = corners[:, _FOOTPRINT][:, :, [0, 2]]  # (n, 4, 2) floor (x, z)

    large = n > MAX_OBJECTS_ALL_PAIRS and not all_pairs
    i, j = _nearest_pairs(centers, NEAREST_PAIRS) if large else np.triu_indices(n, k=1)
    offset = centers[j] - centers[i]
    distance = np.linalg.norm(offset, axis=1)
    # each footprint's edge directions on the floor (x, z): its local x and z axes, from the yaw
    axes = np.stack([np.stack([np.cos(yaws), -np.sin(yaws)], 1), np.stack([np.sin(yaws), np.cos(yaws)], 1)], 1)
    horizontal_gap, overlap_depth = _footprint_distance(footprint[i], footprint[j],
                                                        np.concatenate([axes[i], axes[j]], axis=1))
    vertical_gap = np.maximum(0.0, np.maximum(bottom[j] - top[i], bottom[i] - top[j]))
    gap = np.hypot(horizontal_gap, vertical_gap)

    right_m = offset @ np.array([right[0], 0.0, right[1]])
    forward_m = offset @ np.array([forward[0], 0.0, forward[1]])
    up_m = offset[:, 1]
    sideways = (np.abs(right_m) > DEAD_ZONE_M) & (np.abs(right_m) >= SECTOR_RATIO * np.abs(forward_m))
    depthwise = (np.abs(forward_m) > DEAD_ZONE_M) & (np.abs(forward_m) >= SECTOR_RATIO * np.abs(right_m))
    above = bottom[j] >= top[i] - VERTICAL_TOLERANCE_M
    below = top[j] <= bottom[i] + VERTICAL_TOLERANCE_M
    overlapping = overlap_depth > FOOTPRINT_OVERLAP_M
    on_top = above & (np.abs(bottom[j] - top[i]) <= VERTICAL_TOLERANCE_M) & overlapping
    under = below & (np.abs(bottom[i] - top[j]) <= VERTICAL_TOLERANCE_M) & overlapping
    resting = on_top | under  # a lamp on a nightstand is on top of it, not also a little behind it
    sideways &= ~resting
    depthwise &= ~resting
    words = {
        "left_of": sideways & (right_m < 0), "right_of": sideways & (right_m > 0),
        "in_front_of": depthwise & (forward_m < 0), "behind": depthwise & (forward_m > 0),
        "above": above, "below": below, "on_top_of": on_top, "under": under,
    }

    keep = np.ones(len(i), dtype=bool)
    note = None
    if large:
        keep = gap <= MAX_PAIR_GAP_M
        note = (f"{n} objects: only each object's {NEAREST_PAIRS} nearest neighbours within {MAX_PAIR_GAP_M:g} m "
                f"gap are listed ({int(keep.sum())} of {n * (n - 1) // 2} pairs)")
    numbers = {key: _rounded(value) for key, value in (
        ("distance_m", distance), ("gap_m", gap), ("horizontal_gap_m", horizontal_gap),
        ("vertical_gap_m", vertical_gap), ("right_m", right_m), ("forward_m", forward_m), ("up_m", up_m))}
    flags = np.stack([words[w] for w in INVERSE], axis=1).tolist() if len(i) else []  # (pairs, words) of bools
    word_list, keys, columns = list(INVERSE), list(numbers), list(numbers.values())
    first, second = i.tolist(), j.tolist()
    pairs = []
    for k in np.flatnonzero(keep).tolist():
        entry = {"a": names[first[k]], "b": names[second[k]]}
        for key, column in zip(keys, columns):
            entry[key] = column[k]
        entry["relations"] = [word for word, flag in zip(word_list, flags[k]) if flag]
        pairs.append(entry)

    return {
        "objects": n,
        "pairs": pairs,
        "walls": _walls(names, corners, (scene_json.get("room") or {}).get("walls") or []),
        "camera_axes": {"right": [float(right[0]), 0.0, float(right[1])],
                        "forward": [float(forward[0]), 0.0, float(forward[1])],
                        "source": camera_note},
        "thresholds": {"dead_zone_m": DEAD_ZONE_M, "sector_deg": 45.0,
                       "vertical_tolerance_m": VERTICAL_TOLERANCE_M,
                       "footprint_overlap_m": FOOTPRINT_OVERLAP_M},
        "note": note,
    }


def pair(relations_: dict, a_name: str, b_name: str) -> dict:
    """The pair entry describing ``b`` relative to ``a``, whichever order :func:`relations` listed it in.

    Raises :class:`UserError` for an unknown name, ``a == b``, or a pair left out of a large scene.
    """
    known = _names(relations_)
    for name in (a_name, b_name):
        if name not in known:
            raise UserError(f"no object named {name!r} (objects: {', '.join(sorted(known)) or 'none'})")
    if a_name == b_name:
        raise UserError(f"an object has no relation to itself: {a_name!r}")
    for entry in relations_["pairs"]:
        if entry["a"] == a_name and entry["b"] == b_name:
            return entry
        if entry["a"] == b_name and entry["b"] == a_name:
            return invert(entry)
    raise UserError(f"the pair {a_name!r}, {b_name!r} is not listed ({relations_.get('note') or 'no note'})")


def invert(entry: dict) -> dict:
    """A pair entry turned round: ``a`` relative to ``b`` instead of ``b`` relative to ``a``."""
    out = dict(entry, a=entry["b"], b=entry["a"])
    for key in ("right_m", "forward_m", "up_m"):
        out[key] = -entry[key] + 0.0
    inverted = {INVERSE[word] for word in entry["relations"]}
    out["relations"] = [word for word in INVERSE if word in inverted]
    return out


def describe(relations_: dict, a_name: str, b_name: str) -> str:
    """One English sentence about ``b`` relative to ``a``, e.g. ``"the wardrobe is 1.8 m from the bed (0.6 m gap),
    to its right and behind it"``."""
    entry = pair(relations_, a_name, b_name)
    gap = "touching" if entry["gap_m"] <= 0.0 else f"{format_m(entry['gap_m'])} gap"
    sentence = f"the {b_name} is {format_m(entry['distance_m'])} from the {a_name} ({gap})"
    words = list(entry["relations"])
    if "on_top_of" in words:
        words.remove("above")
    if "under" in words:
        words.remove("below")
    phrases = [PHRASES[word] for word in words]
    if phrases:
        sentence += ", " + (phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " and " + phrases[-1])
    return sentence


def format_m(value: float) -> str:
    """Metres for people: two decimals below 10 cm, one above."""
    return f"{value:.2f} m" if abs(value) < 0.095 else f"{value:.1f} m"


# ---------------------------------------------------------------------------------------------- internals


def _nearest_pairs(centers: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(i < j)`` in which one object is among the other's ``k`` nearest (by centre distance), each
    once: at most ``k n`` of them, found with a k-d tree in ``O(n log n)``."""
    from scipy.spatial import cKDTree

    n = len(centers)
    _, neighbours = cKDTree(centers).query(centers, k=min(k + 1, n))  # the first is the object itself
    rows = np.repeat(np.arange(n), neighbours.shape[1])
    cols = neighbours.ravel()
    valid = (cols < n) & (cols != rows)
    low, high = np.minimum(rows[valid], cols[valid]), np.maximum(rows[valid], cols[valid])
    unique = np.unique(low * n + high)
    return unique // n, unique % n


def _objects(objects) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    if not isinstance(objects, list):
        raise UserError("not a scene: 'objects' is not a list")
    names, centers, sizes, yaws, taken = [], [], [], [], set()
    for index, obj in enumerate(objects):
        try:
            center = np.asarray(obj["center"], dtype=float).reshape(3)
            size = np.asarray(obj["size"], dtype=float).reshape(3)
            yaw = float(obj.get("yaw", 0.0))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise UserError(f"object {index} has no valid center, size and yaw ({error})") from None
        if not (np.all(np.isfinite(center)) and np.all(np.isfinite(size)) and math.isfinite(yaw)):
            raise UserError(f"object {index} has a center, size or yaw that is not finite")
        base = str(obj.get("name") or obj.get("label") or f"object{index}")
        name, counter = base, 0
        while name in taken:  # truth files have labels only: make them unique like scene.json names
            counter += 1
            name = f"{base}.{counter:03d}"
        taken.add(name)
        names.append(name)
        centers.append(center)
        sizes.append(np.abs(size))
        yaws.append(yaw)
    shape = (len(names), 3)
    return (names, np.reshape(centers, shape), np.reshape(sizes, shape), np.asarray(yaws, dtype=float))


def _camera_axes(camera) -> tuple[np.ndarray, np.ndarray, str]:
    """Horizontal (x, z) right and forward unit vectors of the camera; a yaw-zero camera without one."""
    matrix = (camera or {}).get("world_from_camera") if isinstance(camera, dict) else None
    if matrix is None:
        return np.array([1.0, 0.0]), np.array([0.0, -1.0]), "none in the scene: world axes of a yaw-zero camera"
    try:
        rotation = np.asarray(matrix, dtype=float)[:3, :3]
    except (TypeError, ValueError):
        raise UserError("camera.world_from_camera is not a 4x4 matrix") from None
    if rotation.shape != (3, 3) or not np.all(np.isfinite(rotation)):
        raise UserError("camera.world_from_camera is not a 4x4 matrix")
    # The optical axis (OpenCV +z) on the floor is the viewing direction whatever the roll; a camera looking
    # straight down has none, then the photo's up (OpenCV -y) is the direction "deeper" in the picture.
    for direction in (rotation[:, 2], -rotation[:, 1]):
        forward = direction[[0, 2]]
        length = np.linalg.norm(forward)
        if length > 1e-6:
            forward = forward / length
            # right = forward x up in the right-handed world: (fx, fz) -> (-fz, fx)
            return np.array([-forward[1], forward[0]]), forward, "camera.world_from_camera"
    raise UserError("camera.world_from_camera has no horizontal viewing direction")


def _footprint_distance(a: np.ndarray, b: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance between pairs of rectangles ``a``, ``b`` (P, 4, 2), and how deep they overlap.

    ``axes`` (P, 4, 2) are the unit edge directions of both rectangles (two each), which are also their edge
    normals: the candidate separating axes. The distance is exact: 0 when the rectangles intersect (no axis
    separates them), else the smallest vertex-to-edge distance in either direction. The overlap depth is the
    smallest projected overlap over the axes (negative when separated).
    """
    if len(a) == 0:
        return np.zeros(0), np.zeros(0)
    edges_a, edges_b = np.roll(a, -1, axis=1) - a, np.roll(b, -1, axis=1) - b
    proj_a = np.einsum("pkd,pcd->pkc", axes, a)
    proj_b = np.einsum("pkd,pcd->pkc", axes, b)
    overlap = np.minimum(proj_a.max(2), proj_b.max(2)) - np.maximum(proj_a.min(2), proj_b.min(2))
    depth = overlap.min(axis=1)
    separated = depth < 0.0
    distance = np.minimum(_point_to_edges(a, b, edges_b), _point_to_edges(b, a, edges_a))
    return np.where(separated, distance, 0.0), depth


def _point_to_edges(points: np.ndarray, starts: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Smallest distance from each of the 4 points to each of the 4 segments ``starts + t * edges``: (P,)."""
    rel = points[:, :, None, :] - starts[:, None, :, :]  # (P, point, edge, 2)
    length2 = np.einsum("ped,ped->pe", edges, edges)[:, None, :]
    t = np.clip(np.einsum("pqed,ped->pqe", rel, edges) / np.maximum(length2, 1e-24), 0.0, 1.0)
    nearest = rel - t[..., None] * edges[:, None, :, :]
    return np.sqrt(np.einsum("pqed,pqed->pqe", nearest, nearest)).min(axis=(1, 2))


def _walls(names: list[str], corners: np.ndarray, walls: list) -> dict:
    planes, wall_names = [], []
    for index, wall in enumerate(walls):
        try:
            if "plane" in wall:
                plane = np.asarray(wall["plane"], dtype=float).reshape(4)
            else:  # sample truth files give the corners only
                plane = Wall(str(wall.get("name")), np.asarray(wall["corners"], dtype=float).reshape(4, 3)).plane
        except (KeyError, TypeError, ValueError, AttributeError):
            raise UserError(f"room wall {index} has no valid plane [nx, ny, nz, d] or corners") from None
        normal = np.linalg.norm(plane[:3])
        if not np.isfinite(plane).all() or normal < 1e-9:
            raise UserError(f"room wall {index} has no valid plane [nx, ny, nz, d] or corners")
        planes.append(plane / normal)
        wall_names.append(str(wall.get("name") or f"wall{index}"))
    if not planes or not names:
        return {name: {"gaps_m": {}, "nearest_wall": None, "nearest_gap_m": None} for name in names}
    planes = np.asarray(planes)
    signed = np.einsum("nci,wi->nwc", corners, planes[:, :3]) + planes[None, :, 3, None]  # (n, walls, 8)
    gaps = _rounded(np.maximum(signed.min(axis=2), 0.0).ravel())
    nearest = signed.min(axis=2).argmin(axis=1).tolist()
    w = len(wall_names)
    out = {}
    for k, name in enumerate(names):
        row = gaps[k * w:(k + 1) * w]
        out[name] = {"gaps_m": dict(zip(wall_names, row)), "nearest_wall": wall_names[nearest[k]],
                     "nearest_gap_m": row[nearest[k]]}
    return out


def _names(relations_: dict) -> set[str]:
    names = set(relations_.get("walls", {}))
    for entry in relations_.get("pairs", []):
        names.update((entry["a"], entry["b"]))
    return names


def _rounded(values: np.ndarray) -> list[float]:
    """Plain floats rounded to :data:`DECIMALS`, without negative zeros."""
    return (np.round(np.asarray(values, dtype=float), DECIMALS) + 0.0).tolist()
