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

Points (``point_2d``) are not boxes: such entries are skipped with a warning. A 2D box given as two corner points
(``[[x1, y1], [x2, y2]]``) is read as ``[x1, y1, x2, y2]``. An entry repeating an earlier one (same label, boxes
overlapping by more than ``DUPLICATE_IOU``) is dropped with a warning naming both (:func:`drop_duplicates`).
Finding the JSON in an answer, and what is repaired there: :func:`extract_json`.

Room-layout answers (``pipeline/layout.py``): a JSON object with a ``layout`` or ``room_type`` key is kept as
``Grounding.layout`` (without its list of boxes, if it has one). Without boxes the format is ``layout``; an answer
may hold both (``{"objects": [{bbox_2d, label}, ...], "layout": {...}}``, a list of boxes with such an object in
it, or a second fenced JSON block), and then both are kept.
"""

from __future__ import annotations

import ast
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frames, limits
from .errors import UserError
from .records import Detection, Grounding

FORMATS = limits.GROUNDING_FORMATS
_FORMAT_ALIASES = {"qwen2.5": "qwen2.5", "qwen2_5": "qwen2.5", "qwen25": "qwen2.5", "qwen3": "qwen3",
                   "pixels": "pixels"}
_LIST_KEYS = ("objects", "detections", "boxes", "results", "items", "annotations")
_LABEL_KEYS = ("label", "name", "category", "class", "object")
_BOX_KEYS = ("bbox_2d", "bbox", "box", "box_2d")
_BOX_3D_KEY = "bbox_3d"
MAX_LABEL_CHARS = 120
#: At most this many boxes of an answer are used (the largest): the solver and the page stay bounded.
MAX_DETECTIONS = 300
#: A box is dropped when less than this fraction of its area remains inside the photo.
MIN_INSIDE_FRACTION = 0.05
#: Largest believable extent of one object's 3D box (metres); larger sizes in a bbox_3d are clipped to it.
MAX_BOX_3D_SIZE_M = 20.0
#: Two entries with the same label whose boxes overlap more than this (intersection over union) are one object
#: said twice: the later one is dropped, with a warning.
DUPLICATE_IOU = 0.9
#: Largest answer read from a file (bytes): a grounding file, a recorded answer (``--vlm file:``).
MAX_ANSWER_BYTES = 8_000_000
#: Most places in a text where a JSON value is tried (each ``[`` or ``{`` after the last value read), and the
#: characters all tries may read together (a long text gets fewer tries).
MAX_JSON_STARTS = 64
JSON_SCAN_BUDGET_CHARS = 32 * 1024 * 1024
#: Deepest nesting of lists and objects accepted in an answer (a grounding answer nests 3 or 4 levels).
MAX_JSON_DEPTH = 32
#: Characters the Python-literal repair (single quotes) may read, all its tries in a text together.
LITERAL_BUDGET_CHARS = 1024 * 1024
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
    text = read_answer_text(path, "grounding file")
    return parse_grounding(text, width_px, height_px, format=format, name=path.name, source=str(path),
                           qwen25_max_pixels=qwen25_max_pixels)


def read_answer_text(path: Path, what: str) -> str:
    """The text of a model's answer saved in ``path``; :class:`UserError` when it is not UTF-8 text, cannot be
    read or is larger than :data:`MAX_ANSWER_BYTES` (no model answer is)."""
    try:
        size = path.stat().st_size
        if size > MAX_ANSWER_BYTES:
            raise UserError(f"{what} is {size / 1e6:.1f} MB, over the {MAX_ANSWER_BYTES / 1e6:g} MB a model's "
                            f"answer can be: {path}")
        with path.open("rb") as file:
            data = file.read(MAX_ANSWER_BYTES + 1)
    except OSError as error:
        raise UserError(f"cannot read {what} {path}: {error.strerror or error}") from None
    if len(data) > MAX_ANSWER_BYTES:
        raise UserError(f"{what} is over the {MAX_ANSWER_BYTES / 1e6:g} MB a model's answer can be: {path}")
    return decode_answer(data, what, path)


def decode_answer(data: bytes, what: str, path=None) -> str:
    """Answer bytes as text: UTF-8 (with or without a BOM), or UTF-16 / UTF-32 with their BOM (an editor's "Unicode"
    save); :class:`UserError` otherwise."""
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError:
                break
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        where = "" if path is None else f": {path}"
        raise UserError(f"{what} is not UTF-8 text (nor UTF-16 with a byte-order mark){where}") from None


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
    if isinstance(entries, CutList):
        warnings.append(f"the answer's list of boxes is cut off or garbled after its {len(entries)} complete "
                        "entries: what followed was not read (a model that ran out of tokens? ask again with a "
                        "larger --vlm-max-tokens)")
    raw: list[_Entry] = []
    for index, entry in enumerate(entries):
        item = _read_entry(index, entry, warnings)
        if item is not None:
            raw.append(item)
    if format == "auto":
        boxes_2d = [e.box_2d for e in raw if e.box_2d is not None]
        chosen, reason = choose_format(name, declared, boxes_2d, width_px, height_px, qwen25_max_pixels)
        doubt = format_doubt(chosen, reason, boxes_2d, width_px, height_px)
        if doubt is not None:
            warnings.append(doubt)
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
        detections=tuple(drop_duplicates(at_most(detections, MAX_DETECTIONS, warnings), warnings)),
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
    """The JSON value in a model's answer: inside a ```json fence, or a list/object in the prose around it.

    In each fenced block, then in the whole text, every ``[`` / ``{`` is tried in turn (not only the first: the
    prose may hold brackets of its own, "the sofa (see [left])"); the first value holding boxes or a room layout
    wins, else the first list/object found. Tolerates trailing commas, a list cut off mid-way (the complete
    entries are kept) and Python-style answers (single quotes, ``True``/``None``: read as literals with
    :func:`ast.literal_eval`, never run). Raises :class:`UserError` when no JSON can be found, also for one nested
    deeper than :data:`MAX_JSON_DEPTH`.
    """
    candidates = [m.group(1) for m in re.finditer(r"```(?:json|JSON)?\s*\n?(.*?)(?:```|$)", text, re.S)]
    candidates.append(text)
    fallback = None
    for candidate in candidates:
        value = _first_json(candidate)
        if value is not None and _is_answer(value):
            return value
        if fallback is None:
            fallback = value
    if fallback is not None:
        return fallback
    snippet = " ".join(text.split())[:60]
    raise UserError(f"grounding is not valid JSON (no list of boxes found in {snippet!r})")


def _is_answer(value) -> bool:
    """Whether a JSON value holds boxes (or points) or a room layout: what an answer is made of."""
    if is_layout(value):
        return True
    if isinstance(value, dict):
        return _has_box_key(value) or any(_is_box_list(value.get(key)) for key in _LIST_KEYS)
    return isinstance(value, list) and any(isinstance(item, dict) and (_has_box_key(item) or is_layout(item))
                                           for item in value)


def _first_json(text: str):
    """The first list/object in ``text`` holding boxes or a layout, else the first list/object; None if none.
    At most :data:`MAX_JSON_STARTS` places are tried, fewer in a long text (:data:`JSON_SCAN_BUDGET_CHARS`)."""
    fallback = None
    position, literal_chars = 0, 0
    for _ in range(min(MAX_JSON_STARTS, max(1, JSON_SCAN_BUDGET_CHARS // max(len(text), 1)))):
        match = _OPENING.search(text, position)
        if match is None:
            break
        try_literal = literal_chars < LITERAL_BUDGET_CHARS and len(text) - match.start() <= LITERAL_BUDGET_CHARS
        value, end = _value_at(text, match.start(), try_literal)
        if try_literal and "'" in text[match.start():]:
            literal_chars += len(text) - match.start()
        if value is None:
            position = match.start() + 1
            continue
        if _is_answer(value):
            return value
        if fallback is None:
            fallback = value
        position = max(end, match.start() + 1)
    return fallback


_OPENING = re.compile(r"[\[{]")
_SPACE = re.compile(r"\s*")
_TRAILING_COMMA = re.compile(r",\s*([\]}])")


def _value_at(text: str, start: int, try_literal: bool = True) -> tuple[object, int]:
    """``(list or dict, end index)`` of the value starting at ``text[start]``, or ``(None, start)``: the text as
    is, then without trailing commas, then (a list cut off mid-way) its complete entries, then (``try_literal``)
    read as a Python literal."""
    decoder = json.JSONDecoder(parse_int=_parse_int)
    body = text[start:]
    fixed = _TRAILING_COMMA.sub(r"\1", body)
    for attempt in (body, fixed):
        try:
            value, end = decoder.raw_decode(attempt)
        except (ValueError, RecursionError):  # nested too deep for the decoder; a number of thousands of digits
            continue
        if isinstance(value, (list, dict)):
            return (value, start + end) if not _too_deep(value) else (None, start)
    value, end = _complete_entries(fixed, decoder)
    if value is not None and not _too_deep(value):
        return value, start + end
    if try_literal and "'" in body:
        value, end = _literal(body)
        if value is not None and not _too_deep(value):
            return value, start + end
    return None, start


def _parse_int(digits: str):
    """A JSON integer: a number of more digits than any coordinate has becomes infinity (its entry is then skipped
    with a warning) rather than an error that would hide the whole answer."""
    return int(digits) if len(digits) <= 64 else float("inf")


def _complete_entries(text: str, decoder: json.JSONDecoder) -> tuple[list | None, int]:
    """``(entries, end)`` of a list at the start of ``text`` whose end is cut off or garbled: every entry read
    before the first that does not parse; ``(None, 0)`` when none of them is an object or ``text`` is no list."""
    if not text.startswith("["):
        return None, 0
    entries: list = []
    index = _SPACE.match(text, 1).end()
    while index < len(text) and text[index] != "]":
        try:
            entry, index = decoder.raw_decode(text, index)
        except (ValueError, RecursionError):
            break
        entries.append(entry)
        index = _SPACE.match(text, index).end()
        if index < len(text) and text[index] == ",":
            index = _SPACE.match(text, index + 1).end()
        elif index >= len(text) or text[index] != "]":
            break
    return (CutList(entries, index), index) if any(isinstance(entry, dict) for entry in entries) else (None, 0)


class CutList(list):
    """The entries read from a list whose end was cut off or garbled (``cut_at``: where reading stopped)."""

    def __init__(self, entries, cut_at: int):
        super().__init__(entries)
        self.cut_at = cut_at


def _too_deep(value) -> bool:
    """Whether lists and objects nest deeper than :data:`MAX_JSON_DEPTH` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


_WORD = re.compile(r"[A-Za-z_]\w*")
_PYTHON_WORDS = {"true": "True", "false": "False", "null": "None"}


def _literal(text: str) -> tuple[object, int]:
    """``(value, end)`` of a Python-literal list or dict at the start of ``text`` (single-quoted strings,
    ``True``/``None``, tuples; JSON's ``true``/``false``/``null`` too), read with :func:`ast.literal_eval` (literals
    only, nothing is run) and turned into JSON values; a list cut off mid-way is closed after its last complete
    object. ``(None, 0)`` when there is none."""
    out: list[str] = []
    depth, quote, index, cuts = 0, None, 0, []
    while index < len(text):
        char = text[index]
        if quote is not None:
            if char == "\\":
                out.append(text[index:index + 2])
                index += 2
                continue
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
            if depth <= 0:
                out.append(char)
                index += 1
                break
            if char == "}" and depth == 1:
                cuts.append(len(out) + 1)  # chunks of out up to this brace
        elif (word := _WORD.match(text, index)) is not None:
            out.append(_PYTHON_WORDS.get(word.group(), word.group()))
            index = word.end()
            continue
        out.append(char)
        index += 1
    source = "".join(out)
    attempts = [(source, index)] if depth == 0 else []
    if text.startswith("[") and depth != 0:  # cut off: close the list after each complete object, newest first
        attempts += [("".join(out[:cut]) + "]", index) for cut in reversed(cuts[-50:])]
    for attempt, end in attempts:
        try:
            value = ast.literal_eval(attempt)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
        value = _plain(value)
        if isinstance(value, (list, dict)):
            return value, end
    return None, 0


def _plain(value, depth: int = 0):
    """A Python literal as JSON values: tuples become lists, keys text; sets, bytes and complex numbers None."""
    if depth > MAX_JSON_DEPTH:
        return None
    if isinstance(value, (list, tuple)):
        return [_plain(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item, depth + 1) for key, item in value.items()
                if isinstance(key, (str, int, float, bool))}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return None


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
    if given_label is None:  # a number for a label ("42"): kept as text, said
        number = next((entry[k] for k in _LABEL_KEYS if isinstance(entry.get(k), (int, float))
                       and not isinstance(entry.get(k), bool)), None)
        if number is not None:
            given_label = str(number)[:MAX_LABEL_CHARS]
            warnings.append(f"grounding entry {index} has the number {given_label} for a label; read as text")
    label = clean_label(given_label) if given_label is not None else "object"
    named = f"grounding entry {index} ({label})" if given_label is not None else f"grounding entry {index}"
    if given_label is not None:
        plain = " ".join(given_label.split())
        if len(plain) > MAX_LABEL_CHARS:
            warnings.append(f"{named}: its label of {len(plain)} characters is cut to {MAX_LABEL_CHARS}")
        elif label != plain and label != "object":
            warnings.append(f"{named}: control characters removed from its label")
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
        box_2d, problem_2d = read_box_2d(entry[box_key])
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
    except (TypeError, ValueError, OverflowError):
        confidence = None
    return _Entry(index, label, box_2d, box_3d, confidence)


def _numbers(values) -> np.ndarray | None:
    if isinstance(values, (str, bytes, dict)):
        return None
    try:
        return np.array([float(v) for v in values], dtype=float)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer beyond any float
        return None


def read_box_2d(box) -> tuple[np.ndarray | None, str | None]:
    """``(values, None)`` or ``(None, what is wrong)``: a box of 4 numbers ``[x1, y1, x2, y2]``, also given as a
    pair of corner points ``[[x1, y1], [x2, y2]]``."""
    if isinstance(box, (list, tuple)) and len(box) == 2 and all(
            isinstance(point, (list, tuple)) and len(point) == 2 for point in box):
        box = [*box[0], *box[1]]
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


#: Invisible characters a label keeps: the joiners that hold emoji and scripts together (ZWNJ, ZWJ).
KEPT_FORMAT_CHARS = frozenset("\u200c\u200d")


def clean_label(label: str) -> str:
    """A label as text: control and other invisible format characters (bidirectional overrides among them)
    removed, the joiners of :data:`KEPT_FORMAT_CHARS` kept, whitespace collapsed, length bounded. Markup is kept as
    text (it is escaped where it is written)."""
    label = "".join(ch if ch.isprintable() or ch in KEPT_FORMAT_CHARS else " " for ch in label)
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


#: ``auto`` read pixels whose boxes (at least :data:`SMALL_EXTENT_BOXES` of them) all lie within this share of the
#: photo's width and height: a smaller image's coordinates, maybe.
SMALL_EXTENT = 0.6
SMALL_EXTENT_BOXES = 3


def format_doubt(chosen: str, reason: str, boxes: list[np.ndarray], width_px: int, height_px: int) -> str | None:
    """A warning when ``auto``'s choice (:func:`choose_format`) rests on a guess another reading would fit as well,
    saying how to force the other; None when the coordinates leave no doubt."""
    if not boxes or not reason.startswith(("all coordinates", "coordinates fit the photo")):
        return None
    stacked = np.stack(boxes)
    max_x, max_y = float(stacked[:, [0, 2]].max()), float(stacked[:, [1, 3]].max())
    if chosen == "qwen3" and "larger than 1000" in reason and max_x <= 1.02 * width_px and \
            max_y <= 1.02 * height_px:
        return ("grounding format: every coordinate is within 0..1000, read as Qwen3's relative 0..1000; they would "
                "fit this photo as pixels too: if they are pixels, give --grounding-format pixels")
    if chosen == "pixels" and max_x <= SMALL_EXTENT * width_px and max_y <= SMALL_EXTENT * height_px and \
            len(boxes) >= SMALL_EXTENT_BOXES:
        return (f"grounding format: read as pixels, every box lies in the top-left {max_x / width_px:.0%} x "
                f"{max_y / height_px:.0%} of the photo: if the model saw a smaller image (Qwen2.5-VL with a "
                "smaller max_pixels), give --grounding-format qwen2.5 --qwen25-max-pixels N, or qwen3 for 0..1000")
    return None


def to_pixels(box: np.ndarray, format: str, width_px: int, height_px: int,
              qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS) -> np.ndarray:
    """(4,) box in ``format`` coordinates -> photo pixels, through the conversions of :mod:`frames`."""
    if format == "qwen3":
        return frames.pixels_from_qwen3(box, width_px, height_px)
    if format == "qwen2.5":
        return frames.pixels_from_qwen25(box, width_px, height_px, max_pixels=qwen25_max_pixels)
    return np.asarray(box, dtype=float)


def at_most(detections: list[Detection], limit: int, warnings: list[str]) -> list[Detection]:
    """The ``limit`` largest detections (by 2D box area; in their order), with a warning naming how many of which
    labels were dropped, when there are more: every later stage stays bounded whatever an answer holds."""
    if len(detections) <= limit:
        return detections
    areas = [(d.box_xyxy_px[2] - d.box_xyxy_px[0]) * (d.box_xyxy_px[3] - d.box_xyxy_px[1]) for d in detections]
    keep = set(sorted(range(len(detections)), key=lambda k: (-areas[k], k))[:limit])
    dropped: dict[str, int] = {}
    for k, detection in enumerate(detections):
        if k not in keep:
            dropped[detection.label] = dropped.get(detection.label, 0) + 1
    named = ", ".join(f"{count} {label}" for label, count in sorted(dropped.items(), key=lambda kv: -kv[1])[:5])
    more = "" if len(dropped) <= 5 else f" and {len(dropped) - 5} other labels"
    warnings.append(f"the answer has {len(detections)} boxes, more than the {limit} a photo takes: the {limit} "
                    f"largest are used, {len(detections) - limit} smaller ones dropped ({named}{more})")
    return [d for k, d in enumerate(detections) if k in keep]


def drop_duplicates(detections: list[Detection], warnings: list[str]) -> list[Detection]:
    """The detections without repeats: an entry with the same label (ignoring case) as an earlier one and a box
    overlapping it by more than :data:`DUPLICATE_IOU` is dropped, with a warning naming both entries. Boxes read
    from a bbox_3d through the virtual camera repeat only an entry with the same bbox_3d; two different bbox_3d
    are never repeats."""
    kept: list[Detection] = []
    for detection in detections:
        for earlier in kept:
            overlap = _repeat_overlap(earlier, detection)
            if overlap is not None:
                warnings.append(f"grounding entry {detection.detection_index} ({detection.label}) repeats entry "
                                f"{earlier.detection_index} (same label, boxes overlap {overlap:.0%}); dropped")
                break
        else:
            kept.append(detection)
    return kept


def _repeat_overlap(a: Detection, b: Detection) -> float | None:
    """The IoU of two detections when ``b`` repeats ``a``, else None."""
    if a.label.casefold() != b.label.casefold():
        return None
    if a.box_3d_cam is not None and b.box_3d_cam is not None and a.box_3d_cam != b.box_3d_cam:
        return None
    if (a.box_xyxy_source == SOURCE_BBOX_3D_VIRTUAL) != (b.box_xyxy_source == SOURCE_BBOX_3D_VIRTUAL):
        return None
    ax1, ay1, ax2, ay2 = a.box_xyxy_px
    bx1, by1, bx2, by2 = b.box_xyxy_px
    inter = max(min(ax2, bx2) - max(ax1, bx1), 0.0) * max(min(ay2, by2) - max(ay1, by1), 0.0)
    union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter
    iou = inter / union if union > 0 else 0.0
    return iou if iou > DUPLICATE_IOU or a.box_xyxy_px == b.box_xyxy_px else None


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
