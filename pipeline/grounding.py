"""Stage 2: read what the vision-language model said (2D boxes with labels) into photo-pixel detections.

Formats (CONVENTIONS.md, "Model coordinates"): ``pixels`` (photo pixels), ``qwen2.5`` (absolute pixels of the
image after Qwen2.5-VL's ``smart_resize``), ``qwen3`` (relative 0..1000). ``auto`` picks one by these rules, in
order, and records which rule decided:

1. the file name names a format (``qwen3``, ``qwen2.5`` / ``qwen2_5`` / ``qwen25``, ``pixels``);
2. a top-level ``"format"`` key in a JSON object around the list;
3. if every coordinate is within 0..1000 but some do not fit the photo as pixels (beyond its width or height by
   more than 2 %): ``qwen3``;
4. if every coordinate is within 0..1000 and the photo is wider or taller than 1000 pixels: ``qwen3``;
5. if the Qwen2.5-VL resized size differs from the photo by more than 2 % and every coordinate fits the resized
   size while some would not be plausible as photo pixels of such a large photo (all within the resized size
   and the photo is over the resize limit): ``qwen2.5``;
6. otherwise ``pixels`` (for photos whose ``smart_resize`` size is within 2 % of their own, ``qwen2.5`` and
   ``pixels`` agree to that much anyway).

Only 2D boxes take part in those rules.

3D boxes: an entry with a Qwen3-VL ``bbox_3d`` (9 numbers, OpenCV camera frame, metres, angles in units of pi:
see ``frames.camera_box_from_qwen3_bbox3d`` for the convention and the evidence) keeps it as
``Detection.box_3d_cam``. An entry with both ``bbox_2d`` and ``bbox_3d`` keeps both, the 2D box giving
``box_xyxy_px``. An entry with only ``bbox_3d`` gets ``box_xyxy_px`` from the box itself: this stage does not know
the photo's camera, so the 8 corners are projected with the camera the Qwen3-VL cookbook falls back to
(``frames.qwen3_virtual_intrinsics``: 60 degrees across the width and the height, centred) and the rectangle
around them, clipped to the photo, is used (``box_xyxy_source == "bbox_3d_virtual_camera"``). The solver, which
knows the camera, re-projects the box with it. A bbox_3d is refused, with a warning naming the entry, when it is not
9 finite numbers, its centre is not in front of the camera (z <= 0) or a size is not positive; sizes over
``MAX_BOX_3D_SIZE_M`` are clipped, with a warning.

Points (``point_2d``) are not boxes: such entries are skipped with a warning.

Room-layout answers (``pipeline/layout.py``): a JSON object with a ``layout`` or ``room_type`` key is kept as
``Grounding.layout`` (without its list of boxes, if it has one). Without boxes the format is ``layout``; an answer
may hold both (``{"objects": [{bbox_2d, label}, ...], "layout": {...}}``, a list of boxes with such an object in
it, or a second fenced JSON block), and then both are kept.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frames
from .errors import UserError
from .records import Detection, Grounding

FORMATS = ("auto", "qwen2.5", "qwen3", "pixels")
_FORMAT_ALIASES = {"qwen2.5": "qwen2.5", "qwen2_5": "qwen2.5", "qwen25": "qwen2.5", "qwen3": "qwen3", "pixels": "pixels"}
_LIST_KEYS = ("objects", "detections", "boxes", "results", "items", "annotations")
_LABEL_KEYS = ("label", "name", "category", "class", "object")
_BOX_KEYS = ("bbox_2d", "bbox", "box", "box_2d")
_BOX_3D_KEY = "bbox_3d"
MAX_LABEL_CHARS = 120
#: A box is dropped when less than this fraction of its area remains inside the photo.
MIN_INSIDE_FRACTION = 0.05
#: Largest believable extent of one object's 3D box (metres); larger sizes in a bbox_3d are clipped to it.
MAX_BOX_3D_SIZE_M = 20.0
#: ``Detection.box_xyxy_source`` values.
SOURCE_BBOX_2D = "bbox_2d"
SOURCE_BBOX_3D_VIRTUAL = "bbox_3d_virtual_camera"


@dataclass(frozen=True)
class _Entry:
    index: int
    label: str
    box_2d: np.ndarray | None
    box_3d: tuple | None
    confidence: float | None


def read_grounding(
    path: str | Path | None,
    width_px: int,
    height_px: int,
    format: str = "auto",
    qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS,
) -> Grounding:
    """Read a grounding file (or nothing: no detections) into a :class:`Grounding` in photo pixels."""
    if path is None:
        return Grounding(detections=(), format="none", format_reason="no grounding given", source=None)
    path = Path(path)
    if not path.is_file():
        raise UserError(f"grounding file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"grounding file is not UTF-8 text: {path}") from None
    return parse_grounding(text, width_px, height_px, format=format, name=path.name, source=str(path),
                           qwen25_max_pixels=qwen25_max_pixels)


def parse_grounding(
    text: str,
    width_px: int,
    height_px: int,
    format: str = "auto",
    name: str = "",
    source: str | None = None,
    qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS,
) -> Grounding:
    """Parse a model's answer (JSON, maybe fenced, maybe with prose around it) into detections in photo pixels."""
    if format not in FORMATS:
        raise UserError(f"unknown grounding format {format!r}: choose one of {', '.join(FORMATS)}")
    payload = extract_json(text)
    payload, layout = split_layout(payload)
    if layout is None:
        layout = _layout_elsewhere(text)
    if layout is not None and not _has_boxes(payload):
        return Grounding(detections=(), format="layout", format_reason="a room-layout answer (no boxes)",
                         source=source, layout=layout, entries_total=0)
    entries, declared = _entries(payload)
    warnings: list[str] = []
    raw: list[_Entry] = []
    for index, entry in enumerate(entries):
        item = _read_entry(index, entry, warnings)
        if item is not None:
            raw.append(item)
    if format == "auto":
        chosen, reason = choose_format(
            name, declared, [e.box_2d for e in raw if e.box_2d is not None], width_px, height_px, qwen25_max_pixels
        )
    else:
        chosen, reason = format, "given by the user"
    detections = []
    for e in raw:
        if e.box_2d is not None:
            pixels = to_pixels(e.box_2d, chosen, width_px, height_px, qwen25_max_pixels)
            clipped = _clip(e.index, e.label, pixels, width_px, height_px, warnings)
            source = SOURCE_BBOX_2D
        else:
            pixels = virtual_camera_rect(e.box_3d, width_px, height_px)
            if pixels is None:
                warnings.append(f"grounding entry {e.index} ({e.label}) has a bbox_3d with no part in front of the "
                                "camera; skipped")
                continue
            # A box reaching towards the camera projects far beyond the photo: no inside-fraction test here.
            clipped = _clip(e.index, e.label, pixels, width_px, height_px, warnings, min_inside_fraction=0.0)
            source = SOURCE_BBOX_3D_VIRTUAL
        if clipped is not None:
            detections.append(Detection(e.label, clipped, e.index, e.confidence, box_3d_cam=e.box_3d,
                                        box_xyxy_source=source))
    return Grounding(
        detections=tuple(detections),
        format=chosen,
        format_reason=reason if layout is None else f"{reason}; with a room-layout answer",
        source=source,
        warnings=tuple(warnings),
        entries_total=len(entries),
        layout=layout,
    )


def is_layout(value) -> bool:
    """Whether a JSON value is a room-layout answer: an object with a ``layout`` or ``room_type`` key."""
    return isinstance(value, dict) and ("layout" in value or "room_type" in value)


def split_layout(payload):
    """``(payload without the layout, layout or None)``: the layout object of an answer, and what is left for the
    boxes (an object's box list stays; a layout object inside a list of boxes is taken out of it)."""
    if is_layout(payload):
        layout = {k: v for k, v in payload.items() if not (k in _LIST_KEYS and _is_box_list(v))}
        return payload, layout
    if isinstance(payload, list):
        layouts = [item for item in payload if is_layout(item)]
        if layouts:
            return [item for item in payload if not is_layout(item)], layouts[0]
    return payload, None


def _is_box_list(value) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) and _has_box_key(item) for item in value)


def _has_box_key(entry: dict) -> bool:
    return any(key in entry for key in _BOX_KEYS + (_BOX_3D_KEY, "point_2d"))


def _has_boxes(payload) -> bool:
    """Whether an answer holds any box (or point) entry."""
    if isinstance(payload, dict):
        return _has_box_key(payload) or any(_is_box_list(payload.get(key)) for key in _LIST_KEYS)
    if isinstance(payload, list):
        return _is_box_list(payload) or any(not isinstance(item, dict) for item in payload)
    return False


def _layout_elsewhere(text: str):
    """A room-layout object in another fenced JSON block of the answer (boxes in one block, layout in another)."""
    for match in re.finditer(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|$)", text, re.S):
        value = _first_json(match.group(1))
        if is_layout(value):
            return value
    return None


def extract_json(text: str):
    """The JSON value in a model's answer: inside a ```json fence, or the first parsable list/object in the text.

    Tolerates prose around the JSON, trailing commas and a list cut off mid-way (the complete entries are kept).
    Raises :class:`UserError` when no JSON can be found.
    """
    candidates = [m.group(1) for m in re.finditer(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|$)", text, re.S)]
    candidates.append(text)
    for candidate in candidates:
        value = _first_json(candidate)
        if value is not None:
            return value
    snippet = " ".join(text.split())[:60]
    raise UserError(f"grounding is not valid JSON (no list of boxes found in {snippet!r})")


def _first_json(text: str):
    decoder = json.JSONDecoder()
    match = re.search(r"[\[{]", text)
    if match is None:
        return None
    start = match.start()
    for attempt in _repairs(text[start:]):
        try:
            value, _ = decoder.raw_decode(attempt)
        except json.JSONDecodeError:
            continue
        if isinstance(value, (list, dict)):
            return value
    return None


def _repairs(text: str):
    """The text as is, without trailing commas, then (for a list cut off mid-way) closed after each of its last
    complete objects in turn, newest first."""
    yield text
    text = re.sub(r",\s*([\]}])", r"\1", text)
    yield text
    if text.lstrip().startswith("["):
        ends = [m.start() for m in re.finditer(r"}", text)]
        for end in reversed(ends[-50:]):
            yield text[: end + 1] + "]"


def _entries(payload) -> tuple[list, str | None]:
    declared = None
    if isinstance(payload, dict):
        declared = payload.get("format") if isinstance(payload.get("format"), str) else None
        for key in _LIST_KEYS:
            if isinstance(payload.get(key), list):
                return payload[key], declared
        if any(key in payload for key in _BOX_KEYS + (_BOX_3D_KEY,)):
            return [payload], declared
        raise UserError("grounding JSON is an object without a list of boxes (expected a list of {bbox_2d, label})")
    return payload, declared


def _read_entry(index: int, entry, warnings: list[str]) -> _Entry | None:
    if not isinstance(entry, dict):
        warnings.append(f"grounding entry {index} is not an object; skipped")
        return None
    given_label = next((entry[k] for k in _LABEL_KEYS if isinstance(entry.get(k), str) and entry[k].strip()), None)
    label = clean_label(given_label) if given_label is not None else "object"
    named = f"grounding entry {index} ({label})" if given_label is not None else f"grounding entry {index}"
    box_key = next((k for k in _BOX_KEYS if k in entry), None)
    has_3d = _BOX_3D_KEY in entry
    if box_key is None and not has_3d:
        if "point_2d" in entry:
            warnings.append(f"{named} is a point (point_2d), not a box; room3d needs bbox_2d or bbox_3d: skipped")
        else:
            warnings.append(f"{named} has no box (bbox_2d or bbox_3d); skipped")
        return None
    box_2d = problem_2d = None
    if box_key is not None:
        box_2d, problem_2d = _read_box_2d(entry[box_key])
    box_3d = problem_3d = None
    if has_3d:
        box_3d, problem_3d = _read_box_3d(entry[_BOX_3D_KEY], named, warnings)
    if box_2d is None and box_3d is None:
        for problem in (problem_2d, problem_3d):
            if problem is not None:
                warnings.append(f"{named} has {problem}; skipped")
        return None
    if problem_2d is not None:
        warnings.append(f"{named} has {problem_2d}; its bbox_3d is used instead")
    if problem_3d is not None:
        warnings.append(f"{named} has {problem_3d}; bbox_3d ignored, its 2D box kept")
    if given_label is None:
        warnings.append(f"grounding entry {index} has no label; called 'object'")
    if box_2d is not None and (box_2d[0] > box_2d[2] or box_2d[1] > box_2d[3]):
        warnings.append(f"grounding entry {index} ({label}) has inverted corners; swapped")
        box_2d = np.array([min(box_2d[0], box_2d[2]), min(box_2d[1], box_2d[3]),
                           max(box_2d[0], box_2d[2]), max(box_2d[1], box_2d[3])])
    confidence = entry.get("confidence", entry.get("score"))
    try:
        confidence = float(confidence) if confidence is not None else None
        if confidence is not None and not math.isfinite(confidence):
            confidence = None
    except (TypeError, ValueError):
        confidence = None
    return _Entry(index, label, box_2d, box_3d, confidence)


def _numbers(values) -> np.ndarray | None:
    if isinstance(values, (str, bytes, dict)):
        return None
    try:
        return np.array([float(v) for v in values], dtype=float)
    except (TypeError, ValueError):
        return None


def _read_box_2d(box) -> tuple[np.ndarray | None, str | None]:
    """``(values, None)`` or ``(None, what is wrong)``."""
    values = _numbers(box)
    if values is None:
        return None, "a box that is not 4 numbers"
    if values.shape != (4,) or not np.all(np.isfinite(values)):
        return None, "a box that is not 4 finite numbers"
    return values, None


def _read_box_3d(box, named: str, warnings: list[str]) -> tuple[tuple | None, str | None]:
    """A Qwen3-VL bbox_3d as ``Detection.box_3d_cam``: ``(box, None)`` or ``(None, what is wrong)``."""
    values = _numbers(box)
    if values is None:
        return None, f"a bbox_3d that is not {frames.QWEN3_BBOX3D_LENGTH} numbers"
    if values.shape != (frames.QWEN3_BBOX3D_LENGTH,):
        return None, f"a bbox_3d of {values.size} numbers, not {frames.QWEN3_BBOX3D_LENGTH}"
    if not np.all(np.isfinite(values)):
        return None, "a bbox_3d with numbers that are not finite"
    if values[2] <= 0.0:
        return None, f"a bbox_3d behind the camera (centre z = {values[2]:g} m, must be > 0)"
    if np.any(values[3:6] <= 0.0):
        return None, f"a bbox_3d with a size that is not positive ({', '.join(f'{v:g}' for v in values[3:6])} m)"
    if np.any(values[3:6] > MAX_BOX_3D_SIZE_M):
        warnings.append(f"{named} has a bbox_3d size over {MAX_BOX_3D_SIZE_M:g} m "
                        f"({', '.join(f'{v:g}' for v in values[3:6])} m); clipped to {MAX_BOX_3D_SIZE_M:g} m")
        values[3:6] = np.minimum(values[3:6], MAX_BOX_3D_SIZE_M)
    center, size, rotation = frames.camera_box_from_qwen3_bbox3d(values)
    return (tuple(float(v) for v in center), tuple(float(v) for v in size),
            tuple(float(v) for v in rotation.ravel())), None


def virtual_camera_rect(box_3d_cam: tuple, width_px: int, height_px: int) -> np.ndarray | None:
    """(4,) pixels: rectangle around a ``Detection.box_3d_cam`` projected with the Qwen3-VL cookbook's fallback
    camera for this photo (``frames.qwen3_virtual_intrinsics``), not clipped; None if it is all behind the camera."""
    center, size, rotation = box_3d_cam
    k_virtual = frames.qwen3_virtual_intrinsics(width_px, height_px)
    return frames.image_rect_of_camera_box(k_virtual, center, size, np.asarray(rotation, dtype=float).reshape(3, 3))


def clean_label(label: str) -> str:
    """A label as text: control characters removed, whitespace collapsed, length bounded. Markup is kept as
    text (it is escaped where it is written)."""
    label = "".join(ch if ch.isprintable() else " " for ch in label)
    label = " ".join(label.split())
    return label[:MAX_LABEL_CHARS] or "object"


def choose_format(
    name: str,
    declared: str | None,
    boxes: list[np.ndarray],
    width_px: int,
    height_px: int,
    qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS,
) -> tuple[str, str]:
    """The ``auto`` rules of this module's docstring: returns ``(format, reason)``."""
    lowered = name.lower()
    for key in ("qwen2.5", "qwen2_5", "qwen25", "qwen3", "pixels"):
        if key in lowered:
            return _FORMAT_ALIASES[key], f"file name contains {key!r}"
    if declared and declared.lower() in _FORMAT_ALIASES:
        return _FORMAT_ALIASES[declared.lower()], f"the JSON declares format {declared!r}"
    if not boxes:
        return "pixels", "no boxes to judge by"
    stacked = np.stack(boxes)
    max_x, max_y = float(stacked[:, [0, 2]].max()), float(stacked[:, [1, 3]].max())
    if max(max_x, max_y) <= 1000.0 and (max_x > 1.02 * width_px or max_y > 1.02 * height_px):
        return "qwen3", "all coordinates within 0..1000, some beyond the photo's size in pixels"
    if max(max_x, max_y) <= 1000.0 and max(width_px, height_px) > 1000:
        return "qwen3", "all coordinates within 0..1000 on a photo larger than 1000 pixels"
    w_r, h_r = frames.qwen25_resized_size(width_px, height_px, max_pixels=qwen25_max_pixels)
    differs = abs(w_r - width_px) > 0.02 * width_px or abs(h_r - height_px) > 0.02 * height_px
    if differs and max_x <= w_r * 1.01 and max_y <= h_r * 1.01 and width_px * height_px > qwen25_max_pixels:
        return "qwen2.5", "coordinates fit the Qwen2.5-VL resized size of a photo over its pixel limit"
    return "pixels", "coordinates fit the photo (default)"


def to_pixels(box: np.ndarray, format: str, width_px: int, height_px: int,
              qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS) -> np.ndarray:
    """(4,) box in ``format`` coordinates -> photo pixels, through the conversions of :mod:`frames`."""
    if format == "qwen3":
        return frames.pixels_from_qwen3(box, width_px, height_px)
    if format == "qwen2.5":
        return frames.pixels_from_qwen25(box, width_px, height_px, max_pixels=qwen25_max_pixels)
    return np.asarray(box, dtype=float)


def _clip(index: int, label: str, box: np.ndarray, width_px: int, height_px: int, warnings: list[str],
          min_inside_fraction: float = MIN_INSIDE_FRACTION):
    x1, y1, x2, y2 = box
    area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    cx1, cy1 = min(max(x1, 0.0), width_px), min(max(y1, 0.0), height_px)
    cx2, cy2 = min(max(x2, 0.0), width_px), min(max(y2, 0.0), height_px)
    inside = max(cx2 - cx1, 0.0) * max(cy2 - cy1, 0.0)
    if inside <= 0.0 or (area > 0 and inside < min_inside_fraction * area) or min(cx2 - cx1, cy2 - cy1) < 1.0:
        warnings.append(f"grounding entry {index} ({label}) lies outside the photo or is empty; skipped")
        return None
    if inside < area * 0.98:
        warnings.append(f"grounding entry {index} ({label}) extends outside the photo; clipped")
    return (float(cx1), float(cy1), float(cx2), float(cy2))
