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
"""

from __future__ import annotations

import json
import math
import re
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
MAX_LABEL_CHARS = 120
#: A box is dropped when less than this fraction of its area remains inside the photo.
MIN_INSIDE_FRACTION = 0.05


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
    entries, declared = _entries(payload)
    warnings: list[str] = []
    raw: list[tuple[int, str, np.ndarray, float | None]] = []
    for index, entry in enumerate(entries):
        item = _read_entry(index, entry, warnings)
        if item is not None:
            raw.append(item)
    if format == "auto":
        chosen, reason = choose_format(
            name, declared, [box for _, _, box, _ in raw], width_px, height_px, qwen25_max_pixels
        )
    else:
        chosen, reason = format, "given by the user"
    detections = []
    for index, label, box, confidence in raw:
        pixels = to_pixels(box, chosen, width_px, height_px, qwen25_max_pixels)
        clipped = _clip(index, label, pixels, width_px, height_px, warnings)
        if clipped is not None:
            detections.append(Detection(label, clipped, index, confidence))
    return Grounding(
        detections=tuple(detections),
        format=chosen,
        format_reason=reason,
        source=source,
        warnings=tuple(warnings),
        entries_total=len(entries),
    )


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
        if any(key in payload for key in _BOX_KEYS):
            return [payload], declared
        raise UserError("grounding JSON is an object without a list of boxes (expected a list of {bbox_2d, label})")
    return payload, declared


def _read_entry(index: int, entry, warnings: list[str]):
    if not isinstance(entry, dict):
        warnings.append(f"grounding entry {index} is not an object; skipped")
        return None
    label = next((entry[k] for k in _LABEL_KEYS if isinstance(entry.get(k), str) and entry[k].strip()), None)
    box = next((entry[k] for k in _BOX_KEYS if k in entry), None)
    if box is None:
        kind = "point_2d" if "point_2d" in entry else "bbox_3d" if "bbox_3d" in entry else "no bbox_2d"
        warnings.append(f"grounding entry {index} has {kind}, which this version does not use; skipped")
        return None
    try:
        values = np.array([float(v) for v in box], dtype=float)
    except (TypeError, ValueError):
        warnings.append(f"grounding entry {index} has a box that is not 4 numbers; skipped")
        return None
    if values.shape != (4,) or not np.all(np.isfinite(values)):
        warnings.append(f"grounding entry {index} has a box that is not 4 finite numbers; skipped")
        return None
    if label is None:
        label = "object"
        warnings.append(f"grounding entry {index} has no label; called 'object'")
    label = clean_label(label)
    if values[0] > values[2] or values[1] > values[3]:
        warnings.append(f"grounding entry {index} ({label}) has inverted corners; swapped")
        values = np.array([min(values[0], values[2]), min(values[1], values[3]),
                           max(values[0], values[2]), max(values[1], values[3])])
    confidence = entry.get("confidence", entry.get("score"))
    try:
        confidence = float(confidence) if confidence is not None else None
        if confidence is not None and not math.isfinite(confidence):
            confidence = None
    except (TypeError, ValueError):
        confidence = None
    return index, label, values, confidence


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


def _clip(index: int, label: str, box: np.ndarray, width_px: int, height_px: int, warnings: list[str]):
    x1, y1, x2, y2 = box
    area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0)
    cx1, cy1 = min(max(x1, 0.0), width_px), min(max(y1, 0.0), height_px)
    cx2, cy2 = min(max(x2, 0.0), width_px), min(max(y2, 0.0), height_px)
    inside = max(cx2 - cx1, 0.0) * max(cy2 - cy1, 0.0)
    if inside <= 0.0 or (area > 0 and inside < MIN_INSIDE_FRACTION * area) or min(cx2 - cx1, cy2 - cy1) < 1.0:
        warnings.append(f"grounding entry {index} ({label}) lies outside the photo or is empty; skipped")
        return None
    if inside < area * 0.98:
        warnings.append(f"grounding entry {index} ({label}) extends outside the photo; clipped")
    return (float(cx1), float(cy1), float(cx2), float(cy2))
