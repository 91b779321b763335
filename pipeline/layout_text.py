"""Room-layout answers, words -> facts: the objects, their sizes and anchors, relations and the camera's spot.

The conventions (room frame, compass, heading) are those of :mod:`layout`.

What is read
------------
* Room size: ``"4 x 5 m"``, ``"12 by 14 feet"``, ``{"width": .., "length": ..}``, an area (``"20 m2"``) in the
  room-size keys or a sentence about the room; the first number is the east-west width, the second the north-south
  depth. Without one: the room type's typical size (``data/room_types.json``, with sources), which the solver may
  change (log-normal prior, :data:`ROOM_SIZE_SPREAD`) to keep stated distances and fit the objects. Ceiling 2.6 m
  unless given.
* Object sizes: the category's prior (:func:`priors.lookup`), replaced by a size word (``data/size_words.json``:
  "queen" 1.52 x 2.03 m, "3-seater", "large" ...), a TV's inches, or explicit dimensions ("160 x 200 cm": width x
  depth, three numbers width x depth x height, or ``width``/``depth``/``length``/``height`` keys).
* Placement words (in ``position``/``location``/... values, relation keys such as ``next_to``, ``facing``, and
  ``distance_from_X`` keys):

  - "against the north wall", "north wall", "on the north side": back to that wall, centred along it unless
    other constraints move it; "... near the west end" slides it towards that end;
  - "northeast corner": in that corner, back to one of its two walls with its width along it (the wall that fits the
    other constraints best);
  - "centre", "middle of the room": the room's centre;
  - "next to A", "beside A", "near A", "by A": beside A, along A's wall when A stands against one; "left/right of
    A": on that side **as seen facing A's front** (A's own -x / +x); "on either side of A" (for two objects);
  - "in front of A", "at the foot of A", "behind A", "opposite A" / "across from A", "between A and B", "around A";
  - "on A" / "on top of A": stands on A; "above A": over A (on A's wall when A is against one);
  - "under the window": against the window's wall, centred under it;
  - "facing A" / "facing north": turns the object (free-standing objects only; an object against a wall faces into
    the room);
  - "distance_from_A": "1.8 m": the centre-to-centre distance, kept by sliding the object (and A) along their walls
    or moving free-standing ones;
  - far/back/left/right wall: the walls so seen from the camera.

  Windows and doors are wall openings: thin boxes (:data:`OPENING_DEPTH_M`) centred in the wall plane, label
  ``window`` / ``door``, a window's sill at 0.9 m. Lengths: m, cm, mm, ft, in, yd, feet-and-inches, number words
  ("about two metres"), ranges ("1.5-2 m": the middle); a bare number is read by its size (with a warning).
* Camera: keys such as ``camera``/``viewpoint`` or the sentences of ``spatial_inference`` (and similar free text)
  that mention the camera, photo or view: "near the southeast corner", "by the door", "at the south wall", "facing
  northwest", "looking at the bed". A position without a heading faces the room's centre; a heading without a
  position stands 0.5 m inside the walls on the opposite side.
"""

from __future__ import annotations

import functools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import priors

_DATA = Path(__file__).parent / "data"


#: Smallest and largest room side the solver accepts (metres).
ROOM_SIDE_LIMITS_M = (1.5, 30.0)


#: At most this many objects are read from one answer; at most this many of one name.
MAX_OBJECTS = 60


MAX_PER_NAME = 20


WALLS = ("north", "east", "south", "west")


#: Heading (camera yaw in the room frame, degrees) of each compass direction.
HEADING_DEG = {"north": 0.0, "northwest": 45.0, "west": 90.0, "southwest": 135.0, "south": 180.0,
               "southeast": -135.0, "east": -90.0, "northeast": -45.0}


@dataclass(frozen=True)
class _WallInfo:
    bound: int  # index into (x0, x1, z0, z1)
    inward: float  # sign of the inward normal along the wall's normal axis
    tangent: int  # 0: the wall runs along x; 1: along z
    yaw: float  # room-frame yaw of an object whose back is to this wall (front into the room)


_WALL = {
    "north": _WallInfo(2, +1.0, 0, 0.0),
    "south": _WallInfo(3, -1.0, 0, math.pi),
    "east": _WallInfo(1, -1.0, 1, -0.5 * math.pi),
    "west": _WallInfo(0, +1.0, 1, 0.5 * math.pi),
}


_OPPOSITE = {"north": "south", "south": "north", "east": "west", "west": "east"}


@functools.lru_cache(maxsize=1)
def room_types() -> dict:
    """``data/room_types.json``."""
    return json.loads((_DATA / "room_types.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def size_words() -> dict:
    """``data/size_words.json``."""
    return json.loads((_DATA / "size_words.json").read_text(encoding="utf-8"))


def room_type_of(name) -> str | None:
    """The room type (a key of ``data/room_types.json``) a name means, or None."""
    if not isinstance(name, str):
        return None
    key = _words(name)
    if not key:
        return None
    types = room_types()["types"]
    table = {}
    for canonical, entry in types.items():
        for word in [canonical, *entry.get("synonyms", [])]:
            table[_words(word)] = canonical
    if key in table:
        return table[key]
    matches = [word for word in table if re.search(rf"\b{re.escape(word)}\b", key)]
    return table[max(matches, key=len)] if matches else None


_TAG = re.compile(r"<[^>]*>")


_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}


_TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


_UNIT_RE = (r"(millimet(?:er|re)s?|mm|centimet(?:er|re)s?|cms?|met(?:er|re)s?|mtrs?|m|feet|foot|ft|'|’|′|"
            r"inch(?:es)?|\"|”|″|yards?|yds?)(?![a-z0-9²])")


_NUM = r"(\d+(?:\.\d+)?)"


_LENGTH = re.compile(rf"{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?\s*(?:{_UNIT_RE})?")


_DIMS = re.compile(rf"{_NUM}\s*(?:{_UNIT_RE})?\s*(?:x|×|by|\*)\s*{_NUM}\s*(?:{_UNIT_RE})?"
                   rf"(?:\s*(?:x|×|by|\*)\s*{_NUM}\s*(?:{_UNIT_RE})?)?")


_AREA = re.compile(rf"{_NUM}\s*(?:(m2|m²|sq\.?\s*m(?:et(?:er|re)s?)?\b|square\s+met(?:er|re)s?|sqm)|"
                   rf"(sq\.?\s*f(?:ee|oo)?t|square\s+f(?:ee|oo)t|ft2|ft²))")


_DIR = r"(?:(north|south)[\s-]?(east|west)|(north|south|east|west))(?:ern|erly|wards?)?"


_DIR_RE = re.compile(rf"\b{_DIR}\b")


def _clean(text) -> str:
    """Lower case, markup dropped, underscores as spaces, control characters dropped, whitespace collapsed."""
    if not isinstance(text, str):
        text = str(text)
    text = _TAG.sub(" ", text.lower()).replace("_", " ")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def _words(text) -> str:
    """A name as plain words (``priors.normalise``)."""
    return priors.normalise(text if isinstance(text, str) else str(text))


def _unit_factor(token: str | None) -> float | None:
    if not token:
        return None
    t = token.lower()
    if t.startswith("milli") or t == "mm":
        return 0.001
    if t.startswith("centi") or t.startswith("cm"):
        return 0.01
    if t.startswith("met") or t.startswith("mtr") or t == "m":
        return 1.0
    if t in ("feet", "foot", "ft", "'", "’", "′"):
        return 0.3048
    if t.startswith("inch") or t in ('"', "”", "″"):
        return 0.0254
    if t.startswith("y"):
        return 0.9144
    return None


def _numeric(text: str) -> str:
    """Number words as digits, decimal commas as points, feet-and-inches as metres: "about two and a half metres"
    -> "about 2.5 metres", "6'2\"" -> "1.8796 m"."""
    text = _clean(text)
    text = re.sub(r"\b(" + "|".join(_TENS) + r")[\s-](one|two|three|four|five|six|seven|eight|nine)\b",
                  lambda m: str(_NUMBER_WORDS[m.group(1)] + _NUMBER_WORDS[m.group(2)]), text)
    text = re.sub(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", lambda m: str(_NUMBER_WORDS[m.group(1)]), text)
    text = re.sub(r"\b(\d+)\s+hundred(?:\s+and)?(?:\s+(\d+))?\b",
                  lambda m: str(int(m.group(1)) * 100 + int(m.group(2) or 0)), text)
    text = re.sub(r"\b(\d+(?:\.\d+)?)\s+and\s+a\s+half\b", lambda m: f"{float(m.group(1)) + 0.5:g}", text)
    text = re.sub(r"\b(?:a\s+)?half\s+(?:a|an)\s+(?=[a-z])", "0.5 ", text)
    text = re.sub(r"\b(?:a|an|one)\s+(?=(?:met(?:er|re)|foot|yard|centimet(?:er|re))\b)", "1 ", text)
    text = re.sub(r"\ba\s+couple\s+of\b", "2", text)
    text = re.sub(r"(\d),(\d{1,2})(?!\d)", r"\1.\2", text)
    text = re.sub(r"\b(\d+)\s*(?:'|’|′|ft|feet|foot)\s*(\d+(?:\.\d+)?)\s*(?:\"|”|″|inch(?:es)?|in\b)",
                  lambda m: f"{int(m.group(1)) * 0.3048 + float(m.group(2)) * 0.0254:.4f} m", text)
    return text


def _bare_metres(value: float, kind: str) -> tuple[float, str]:
    """A number without a unit, read by its size; returns (metres, the unit assumed)."""
    if kind == "room":
        if value <= 10:
            return value, "m"
        if value <= 40:
            return value * 0.3048, "ft"
        return value * 0.01, "cm"
    limit = 20.0 if kind == "distance" else 5.0
    return (value, "m") if value <= limit else (value * 0.01, "cm")


def _as_float(value: int | float) -> float:
    """A JSON number as a float: an integer beyond any float (hundreds of digits) is infinite, not an error."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def parse_length(value, kind: str = "distance") -> tuple[float | None, str | None]:
    """One length in metres from a number or text ("1.8m", "180 cm", "6 feet", "about two metres", "1.5-2 m").

    Returns ``(metres, note)``: the note says which unit a bare number was read in; ``(None, None)`` when there is
    no number. ``kind`` (``distance``, ``object``, ``room``) decides how a bare number is read.
    """
    if isinstance(value, bool):
        return None, None
    if isinstance(value, (int, float)):
        value = _as_float(value)
        if not math.isfinite(value) or value <= 0:
            return None, None
        metres, unit = _bare_metres(value, kind)
        return metres, f"{value:g} has no unit: read as {unit}"
    if not isinstance(value, str):
        return None, None
    text = _numeric(value)
    found = []
    for m in _LENGTH.finditer(text):
        number = float(m.group(1)) if m.group(2) is None else 0.5 * (float(m.group(1)) + float(m.group(2)))
        found.append((number, _unit_factor(m.group(3))))
    if not found:
        return None, None
    with_unit = [(n, f) for n, f in found if f is not None]
    if with_unit:
        number, factor = with_unit[0]
        metres = number * factor
        return (metres, None) if metres > 0 else (None, None)
    number = found[0][0]
    if number <= 0:
        return None, None
    metres, unit = _bare_metres(number, kind)
    return metres, f"{number:g} has no unit: read as {unit}"


def parse_dimensions(value, kind: str = "object") -> tuple[list[float] | None, str | None]:
    """Two or three lengths "a x b (x c) unit" ("4 x 5 m", "12 by 14 feet", "160x200 cm") in metres, or None."""
    if not isinstance(value, str):
        return None, None
    text = _numeric(value)
    m = _DIMS.search(text)
    if m is None:
        return None, None
    numbers = [float(m.group(i)) for i in (1, 3, 5) if m.group(i) is not None]
    units = [_unit_factor(m.group(i)) for i in (2, 4, 6)][: len(numbers)]
    last = next((u for u in reversed(units) if u is not None), None)
    if last is None:
        metres = [_bare_metres(n, kind)[0] for n in numbers]
        unit = _bare_metres(max(numbers), kind)[1]
        if kind == "room" and max(numbers) <= 40 and max(numbers) > 10:
            metres = [n * 0.3048 for n in numbers]
        elif unit == "cm":
            metres = [n * 0.01 for n in numbers]
        else:
            metres = numbers
        note = f"'{m.group(0).strip()}' has no unit: read as {unit}"
    else:
        metres = [n * (u if u is not None else last) for n, u in zip(numbers, units)]
        note = None
    if any(v <= 0 for v in metres):
        return None, None
    return metres, note


def _direction(m: re.Match) -> str:
    if m.group(3):
        return m.group(3)
    return m.group(1) + m.group(2)


def _heading_of(direction: str) -> float:
    return math.radians(HEADING_DEG[direction])


def _wall_towards(heading_rad: float) -> str:
    """The compass wall nearest a heading."""
    k = int(math.floor(math.degrees(heading_rad) / 90.0 + 0.5)) % 4
    return ("north", "west", "south", "east")[k]


def _heading_vector(heading_rad: float) -> np.ndarray:
    """(2,) (x, z) room-frame direction of a heading."""
    return np.array([-math.sin(heading_rad), -math.cos(heading_rad)])


def _heading_from_vector(v) -> float:
    return math.atan2(-float(v[0]), -float(v[1]))


def _front(yaw: float) -> np.ndarray:
    """(2,) (x, z) front direction of a box with this yaw (its own +z)."""
    return np.array([math.sin(yaw), math.cos(yaw)])


def _right(yaw: float) -> np.ndarray:
    """(2,) (x, z) right direction of a box seen facing its front (its own +x)."""
    return np.array([math.cos(yaw), -math.sin(yaw)])


def _yaw_towards(v) -> float:
    """Yaw whose front points along the (x, z) vector v."""
    return math.atan2(float(v[0]), float(v[1]))


def _half_extents(size, yaw: float) -> np.ndarray:
    """(2,) half extents along room x and z of an upright box's footprint (its axis-aligned bounding box)."""
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    return 0.5 * np.array([c * size[0] + s * size[2], s * size[0] + c * size[2]])


def _expand(text: str, heading_rad: float) -> str:
    """Abbreviated compass words in full, walls named from the camera as compass walls."""
    abbreviations = {"n": "north", "s": "south", "e": "east", "w": "west", "ne": "northeast", "nw": "northwest",
                     "se": "southeast", "sw": "southwest"}
    text = re.sub(r"\b(ne|nw|se|sw|n|s|e|w)\b(?=\s*(?:wall|corner|side|end)\b)",
                  lambda m: abbreviations[m.group(1)], text)
    text = re.sub(r"\b(facing|looking|towards?|pointing|faces|looks|to the)\s+(ne|nw|se|sw|n|s|e|w)\b",
                  lambda m: f"{m.group(1)} {abbreviations[m.group(2)]}", text)
    far = _wall_towards(heading_rad)
    left = _wall_towards(heading_rad + 0.5 * math.pi)
    right = _wall_towards(heading_rad - 0.5 * math.pi)
    behind = _OPPOSITE[far]
    text = re.sub(r"\b(?:far|back|rear|opposite|front|facing)\s+wall\b", f"{far} wall", text)
    text = re.sub(r"\bleft(?:[\s-]hand)?\s+wall\b|\bwall\s+(?:on|to)\s+the\s+left\b|\bleft\s+side\s+of\s+the\s+room\b",
                  f"{left} wall", text)
    text = re.sub(r"\bright(?:[\s-]hand)?\s+wall\b|\bwall\s+(?:on|to)\s+the\s+right\b|"
                  r"\bright\s+side\s+of\s+the\s+room\b", f"{right} wall", text)
    text = re.sub(r"\bnear\s+wall\b|\bwall\s+behind\s+(?:the\s+)?(?:camera|viewer|photographer)\b",
                  f"{behind} wall", text)
    return text


@dataclass(eq=False)
class _Spec:
    """One object of the answer (one instance of a name)."""

    index: int
    key: str
    label: str
    prior: priors.SizePrior
    size: np.ndarray
    size_source: str
    kind: str  # furniture | opening | wall_item
    texts: list = field(default_factory=list)  # position texts, strongest first
    weak_texts: list = field(default_factory=list)  # descriptions: read only when the others say nothing
    facing_texts: list = field(default_factory=list)
    distance_items: list = field(default_factory=list)  # (target text, metres)
    instance: int = 0
    count: int = 1
    notes: list = field(default_factory=list)
    # resolution
    anchor: tuple | None = None
    end: str | None = None
    relations: list = field(default_factory=list)  # (kind, target, extra)
    facing: tuple | None = None  # ("compass", heading) | ("spec", spec) | ("camera",)
    distances: list = field(default_factory=list)  # (spec, metres)
    mode: str = "free"  # wall | free | on | fixed
    wall: str | None = None
    corner_other: str | None = None
    corner_choices: tuple = ()
    support: object = None
    y0: float = 0.0
    yaw: float = 0.0
    target: object = None  # (fn(p, b, C) -> value, sigma) of the position
    extra_residuals: list = field(default_factory=list)
    var: int = -1
    fixed_xz: np.ndarray | None = None  # mode fixed: the centre (x, z)
    fixed_wall: str | None = None  # mode fixed: the wall its back is against, if any
    on_offset: np.ndarray | None = None  # mode on: (right, front) offset on the support
    side_sign: float = 0.0  # "next to": +1 on the target's right, -1 on its left (as seen facing its front)
    has_side: bool = False
    side_given: bool = False
    side_of: object = None  # the object a "next to" relation is measured from
    target_default: bool = False
    detection_index: int = -1
    mounted: bool = False

    @property
    def is_opening(self) -> bool:
        return self.kind == "opening"

    @property
    def top(self) -> float:
        return self.y0 + float(self.size[1])


@dataclass
class _Parsed:
    room_type: str | None
    room_size: tuple[float, float] | None
    default_size: tuple[float, float]
    ceiling: float
    camera_text: str
    specs: list
    warnings: list


_META_KEYS = re.compile(
    r"^(room|room type|type|room size|size|dimensions?|dims|room dimensions?|area|floor area|footprint|"
    r"ceiling|ceiling height|spatial inference|inference|description|summary|notes?|style|lighting|lights|"
    r"flooring|floor|walls?|wall colou?r|colou?rs?|colou?r scheme|palette|theme|mood|atmosphere|materials?|"
    r"confidence|reasoning|analysis|format|features|other|misc|decor|decoration|ambience|condition|"
    r"observations?|comments?|explanation|caption|overview|layout|objects|furniture|items)$")


_CAMERA_KEY = re.compile(r"\b(camera|viewpoint|view ?point|vantage|photographer|observer|viewer|perspective|pov|"
                         r"shot|photo|picture taken|point of view|view)\b")


_ROOM_SIZE_KEY = re.compile(r"^(room\s*)?(size|dimensions?|dims|area|floor area|footprint|measurements?)$")


_CEILING_KEY = re.compile(r"ceiling")


_NOT_OBJECTS = re.compile(r"^(lighting|lights|flooring|floor|floors|walls?|wall colou?r|colou?rs?|colou?r scheme|"
                          r"palette|style|theme|mood|atmosphere|materials?|decor|decoration|ambience|features|"
                          r"other|misc|notes?|description|summary|condition|comments?|observations?|"
                          r"explanation|caption|overview|reasoning|analysis|confidence|format)$")


_NAME_KEYS = ("name", "object", "label", "item", "type", "category", "kind")


_COUNT_KEYS = ("count", "quantity", "number", "qty", "amount", "num", "instances count")


_POSITION_KEYS = ("position", "location", "placement", "place", "where", "wall", "corner", "side", "area", "zone",
                  "spot", "relative position", "relation", "relations", "arrangement", "positioning", "placed",
                  "pos", "located", "location in room", "position in room")


_RELATION_KEYS = {
    "next to": "next to", "beside": "beside", "near": "near", "adjacent to": "next to", "adjacent": "next to",
    "nearby": "near", "close to": "near", "left of": "left of", "to the left of": "left of",
    "right of": "right of", "to the right of": "right of", "under": "under", "below": "under", "beneath": "under",
    "above": "above", "over": "above", "on": "on", "on top of": "on", "in front of": "in front of",
    "behind": "behind", "opposite": "opposite", "across from": "opposite", "between": "between",
    "around": "around", "at the foot of": "at the foot of", "next": "next to", "neighbor": "next to",
    "neighbour": "next to", "relative to": "near", "flanking": "on either side of", "sides of": "on either side of",
}


_FACING_KEYS = ("facing", "faces", "orientation", "direction", "front", "facing direction", "oriented",
                "facing towards", "face", "front facing", "looking")


_SIZE_KEYS = ("size", "dimensions", "dimension", "dims", "measurements", "measurement", "bed size", "type",
              "model", "style", "variant", "kind", "seats", "seating", "capacity")


_DESCRIPTION_KEYS = ("description", "notes", "note", "details", "detail", "comment", "comments", "info")


_DISTANCE_KEY = re.compile(r"^(?:distance|dist|gap|spacing|clearance)\s*(?:from|to|between|with|of)?\s*"
                           r"(?:the\s+)?(?P<t>.+)$|^(?P<t2>.+?)\s+(?:distance|dist)$")


def _parse(layout) -> _Parsed:
    """Read the answer into object specs, the room and the camera's description, collecting warnings."""
    warnings: list[str] = []
    top: dict = {}
    entries: list[tuple[str, object]] = []
    camera_texts: list[str] = []
    size_texts: list = []
    ceiling_texts: list = []
    free_texts: list[str] = []

    if isinstance(layout, dict):
        top = layout
    elif isinstance(layout, list):
        top = {"layout": layout}
    elif layout is not None:
        warnings.append(f"layout: the answer is a {type(layout).__name__}, not a JSON object; nothing placed")

    objects_part = None
    for key, value in top.items():
        ck = _clean(key)
        if ck in ("layout", "objects", "furniture", "items", "room layout", "furniture layout", "elements",
                  "contents", "furnishings"):
            if objects_part is None or isinstance(value, (dict, list)):
                objects_part = value if objects_part is None else objects_part
            continue
        _read_meta(ck, value, camera_texts, size_texts, ceiling_texts, free_texts, warnings, top_level=True)
    if objects_part is None and not any(_clean(k) in ("room type", "type") for k in top):
        # the inner layout object given alone: its keys are the objects
        objects_part = {k: v for k, v in top.items() if not _META_KEYS.match(_clean(k))
                        and not _CAMERA_KEY.search(_clean(k))}
    elif objects_part is None:
        objects_part = {k: v for k, v in top.items() if not _META_KEYS.match(_clean(k))
                        and not _CAMERA_KEY.search(_clean(k))}

    if isinstance(objects_part, dict):
        # an object list nested one level deeper ({"layout": {"objects": [...]}})
        for key in ("objects", "furniture", "items"):
            inner = objects_part.get(key)
            if isinstance(inner, (list, dict)) and len(objects_part) <= 3:
                for k, v in objects_part.items():
                    if k != key:
                        _read_meta(_clean(k), v, camera_texts, size_texts, ceiling_texts, free_texts, warnings)
                objects_part = inner
                break
    if isinstance(objects_part, dict):
        for key, value in objects_part.items():
            ck = _clean(key)
            if _CAMERA_KEY.search(ck) or _ROOM_SIZE_KEY.match(ck) or _CEILING_KEY.search(ck) \
                    or ck in ("room", "room type"):
                _read_meta(ck, value, camera_texts, size_texts, ceiling_texts, free_texts, warnings)
            elif _NOT_OBJECTS.match(ck):
                if isinstance(value, str):
                    free_texts.append(value)
                warnings.append(f"layout: '{_words(key) or key}' is not a piece of furniture; not placed")
            else:
                entries.append((key, value))
    elif isinstance(objects_part, list):
        for position, item in enumerate(objects_part):
            if isinstance(item, dict):
                name = next((item[k] for k in _NAME_KEYS if isinstance(item.get(k), str) and item[k].strip()), None)
                if name is None:
                    warnings.append(f"layout: entry {position} names no object; not placed")
                    continue
                entries.append((name, {k: v for k, v in item.items() if not (k in _NAME_KEYS and v == name)}))
            elif isinstance(item, str) and item.strip():
                entries.append((item, {}))
            else:
                warnings.append(f"layout: entry {position} is not an object description; skipped")
    elif isinstance(objects_part, str):
        found = _entries_from_text(objects_part)
        entries.extend(found)
        if not found:
            warnings.append("layout: the 'layout' text names no furniture room3d knows; nothing placed")
    elif objects_part is not None:
        warnings.append("layout: the 'layout' value is neither an object nor a list; nothing placed")

    # room type and size
    room_type_text = next((top.get(k) for k in top if _clean(k) in ("room type", "type", "room")
                           and isinstance(top.get(k), str)), None)
    if room_type_text is None and isinstance(top.get("room"), dict):
        room_type_text = next((v for k, v in top["room"].items() if _clean(k) in ("type", "room type")
                               and isinstance(v, str)), None)
    specs = _read_objects(entries, warnings)
    room_type = room_type_of(room_type_text) if room_type_text else None
    if room_type_text and room_type is None:
        warnings.append(f"layout: room type '{_words(room_type_text)[:40]}' is not known; "
                        "its size is taken from the objects or a default room")
    if room_type is None:
        room_type = _infer_room_type(specs)
    table = room_types()
    entry = table["types"].get(room_type) if room_type else None
    default_size = (float(entry["width_m"]), float(entry["depth_m"])) if entry else (
        float(table["default"]["width_m"]), float(table["default"]["depth_m"]))
    room_size = _room_size(size_texts, free_texts + camera_texts, default_size, warnings)
    ceiling = _ceiling(ceiling_texts, free_texts, warnings, float(table.get("ceiling_m", 2.6)))
    camera_text = " ".join(camera_texts + [s for t in free_texts for s in _camera_sentences(t)])
    if len(specs) > MAX_OBJECTS:
        warnings.append(f"layout: {len(specs)} objects named; only the first {MAX_OBJECTS} are placed")
        specs = specs[:MAX_OBJECTS]
    return _Parsed(room_type, room_size, default_size, ceiling, camera_text, specs, warnings)


def _entries_from_text(text: str) -> list[tuple[str, dict]]:
    """Objects named in a free-text layout ("the bed is against the north wall; a desk under the window"): each
    clause that names a known object (the first name in it) becomes an entry with the clause as its position."""
    names = sorted(priors._table()[1], key=len, reverse=True)
    entries = []
    for clause in re.split(r"[.;\n]+|,\s+(?=(?:a|an|the|and|with|two|three)\b)", text):
        words = _words(clause)
        hits = [(m.start(), -len(name), name) for name in names
                for m in [re.search(rf"\b{re.escape(name)}\b", words)] if m]
        if hits:
            _, _, name = min(hits)
            entries.append((name, {"position": clause}))
    return entries


def _text_of(value) -> str:
    """Any JSON value as text (dict values joined as "key: value")."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return ", ".join(f"{_clean(k)} {_text_of(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text_of(v) for v in value)
    if value is None or isinstance(value, bool):
        return ""
    return str(value)


def _read_meta(ck, value, camera_texts, size_texts, ceiling_texts, free_texts, warnings, top_level=False):
    if _CAMERA_KEY.search(ck):
        if isinstance(value, dict):
            parts = []
            for k, v in value.items():
                k2 = _clean(k)
                text = _text_of(v)
                if re.search(r"facing|heading|direction|looking|orientation|towards?", k2) and \
                        not re.search(r"\b(facing|looking|towards?|pointing)\b", _clean(text)):
                    text = f"facing {text}"
                elif re.search(r"position|location|place|where|corner|wall", k2) and \
                        not re.search(r"\b(near|in|at|by|from)\b", _clean(text)):
                    text = f"at {text}"
                parts.append(text)
            camera_texts.append(". ".join(parts))
        else:
            camera_texts.append(_text_of(value))
    elif _ROOM_SIZE_KEY.match(ck):
        size_texts.append(value)
    elif _CEILING_KEY.search(ck):
        ceiling_texts.append(value)
    elif ck == "room" and isinstance(value, dict):
        for k, v in value.items():
            k2 = _clean(k)
            if _ROOM_SIZE_KEY.match(k2) or k2 in ("width", "length", "depth"):
                size_texts.append({k2: v} if k2 in ("width", "length", "depth") else v)
            elif _CEILING_KEY.search(k2) or k2 == "height":
                ceiling_texts.append(v)
            elif isinstance(v, str):
                free_texts.append(v)
    elif isinstance(value, str):
        free_texts.append(value)


def _camera_sentences(text: str) -> list[str]:
    """The sentences of free text that speak of the camera or the viewpoint."""
    out = []
    for sentence in re.split(r"(?<=[.!?;])\s+|\n+", text):
        if re.search(r"\b(camera|photo|photograph|picture|image|view|viewer|viewpoint|vantage|shot|taken|"
                     r"photographer|perspective|we are|looking)\b", sentence, re.I):
            out.append(sentence)
    return out


def _infer_room_type(specs) -> str | None:
    counts = {}
    for name, entry in room_types()["types"].items():
        typical = set(entry.get("typical_objects", []))
        counts[name] = sum(1 for s in specs if s.prior.category in typical)
    best = max(counts, key=lambda k: counts[k]) if counts else None
    return best if best is not None and counts[best] > 0 else None


def _room_size(size_texts, free_texts, default_size, warnings) -> tuple[float, float] | None:
    for value in size_texts:
        size = _room_size_of(value, default_size, warnings)
        if size is not None:
            return size
    for text in free_texts:
        for sentence in re.split(r"(?<=[.!?;])\s+", text if isinstance(text, str) else ""):
            if re.search(r"\b(room|space|bedroom|kitchen|office|dimensions?|measures|area)\b", sentence, re.I):
                size = _room_size_of(sentence, default_size, warnings)
                if size is not None:
                    return size
    if size_texts:
        warnings.append(f"layout: room size '{_text_of(size_texts[0])[:40]}' not understood; a typical size is used")
    return None


def _room_size_of(value, default_size, warnings) -> tuple[float, float] | None:
    if isinstance(value, dict):
        named = {_clean(k): v for k, v in value.items()}
        width = parse_length(named.get("width"), "room")[0] if "width" in named else None
        depth = next((parse_length(named[k], "room")[0] for k in ("length", "depth") if k in named), None)
        if width and depth:
            return _plausible_room((width, depth), warnings)
        for v in named.values():
            size = _room_size_of(v, default_size, warnings)
            if size is not None:
                return size
        return None
    if isinstance(value, list) and len(value) in (2, 3) and all(isinstance(v, (int, float)) for v in value):
        return _plausible_room(tuple(_bare_metres(float(v), "room")[0] for v in value[:2]), warnings)
    if not isinstance(value, str):
        return None
    text = _numeric(value)
    area = _AREA.search(text)
    dims, note = parse_dimensions(value, "room")
    if dims is not None:
        if note:
            warnings.append(f"layout: room size {note}")
        return _plausible_room((dims[0], dims[1]), warnings)
    if area is not None:
        square_m = float(area.group(1)) * (1.0 if area.group(2) else 0.0929)
        aspect = default_size[1] / default_size[0]
        width = math.sqrt(square_m / aspect)
        return _plausible_room((width, width * aspect), warnings)
    return None


def _plausible_room(size, warnings) -> tuple[float, float] | None:
    lo, hi = ROOM_SIDE_LIMITS_M
    if not all(math.isfinite(v) for v in size):
        return None
    clipped = tuple(float(min(max(v, lo), hi)) for v in size)
    if clipped != tuple(size):
        warnings.append(f"layout: room size {size[0]:.2f} x {size[1]:.2f} m is implausible; "
                        f"clipped to {clipped[0]:.2f} x {clipped[1]:.2f} m")
    return clipped


def _ceiling(ceiling_texts, free_texts, warnings, default: float) -> float:
    for value in ceiling_texts:
        text = _clean(_text_of(value))
        metres, _ = parse_length(value if not isinstance(value, (dict, list)) else text, "object")
        if metres is not None and 1.8 <= metres <= 10.0:
            return float(metres)
        if re.search(r"\b(high|tall|vaulted|cathedral|double)\b", text):
            return 3.2
        if re.search(r"\b(low|sloped|slanted|attic)\b", text):
            return 2.3
        if text:
            warnings.append(f"layout: ceiling '{text[:40]}' not understood; {default:g} m used")
    for text in free_texts:
        m = re.search(rf"ceiling[^.]*?{_NUM}\s*{_UNIT_RE}|{_NUM}\s*{_UNIT_RE}\s*(?:high\s+)?ceiling",
                      _numeric(text) if isinstance(text, str) else "")
        if m:
            number = float(m.group(1) or m.group(3))
            factor = _unit_factor(m.group(2) or m.group(4)) or 1.0
            if 1.8 <= number * factor <= 10.0:
                return number * factor
    return default


def _instances(value, warnings, name) -> list[dict]:
    """The instances one entry describes: a dict (times its count), a list of dicts or texts, a text, a count."""
    if isinstance(value, bool):
        return [{}] if value else []
    if isinstance(value, (int, float)):
        value = _as_float(value)
        if math.isfinite(value) and value >= 1:
            n = int(min(round(value), MAX_PER_NAME + 1))
            if n > MAX_PER_NAME:
                warnings.append(f"layout: {n} '{name}' named; {MAX_PER_NAME} placed")
            return [{} for _ in range(min(n, MAX_PER_NAME))]
        return []
    if isinstance(value, str):
        return [{"position": value}]
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict):
                out.extend(_instances(item, warnings, name))
            elif isinstance(item, str):
                out.append({"position": item})
        if not value:
            return [{}]
        if not out:
            warnings.append(f"layout: '{name}' is described by a list room3d cannot read; not placed")
        return out[:MAX_PER_NAME]
    if isinstance(value, dict):
        lowered = {_clean(k): v for k, v in value.items()}
        count = next((lowered[k] for k in _COUNT_KEYS if k in lowered), None)
        number = None
        if isinstance(count, (int, float)) and not isinstance(count, bool) and math.isfinite(count):
            number = int(round(count))
        elif isinstance(count, str):
            m = re.search(r"\d+", _numeric(count))
            number = int(m.group(0)) if m else None
        # positions given as a list: one instance each
        positions = next((v for k, v in lowered.items() if k in ("positions", "locations", "position", "location")
                          and isinstance(v, list) and all(isinstance(x, (str, dict)) for x in v) and v), None)
        listed = next((v for k, v in lowered.items() if k in ("items", "instances", "units")
                       and isinstance(v, list)), None)
        known = set(_POSITION_KEYS) | set(_FACING_KEYS) | set(_SIZE_KEYS) | set(_COUNT_KEYS) | \
            set(_DESCRIPTION_KEYS) | set(_RELATION_KEYS) | {"width", "depth", "height", "length"}
        if listed is not None:
            base = {k: v for k, v in value.items() if _clean(k) not in ("items", "instances", "units")}
            out = [{**base, **item} if isinstance(item, dict) else {**base, "position": item} for item in listed
                   if isinstance(item, (dict, str))]
            return out[:MAX_PER_NAME] or [base]
        if positions is not None:
            base = {k: v for k, v in value.items() if _clean(k) not in ("positions", "locations", "position",
                                                                         "location")}
            out = [{**base, **p} if isinstance(p, dict) else {**base, "position": p} for p in positions]
            return out[:MAX_PER_NAME]
        if value and all(isinstance(v, dict) for v in value.values()) and not (set(lowered) & known):
            out = []
            for v in value.values():
                out.extend(_instances(v, warnings, name))
            return out[:MAX_PER_NAME]
        if number is None:
            return [value]
        if number < 1:
            warnings.append(f"layout: '{name}' has a count of {number}; not placed")
            return []
        if number > MAX_PER_NAME:
            warnings.append(f"layout: {number} '{name}' named; {MAX_PER_NAME} placed")
        return [value for _ in range(min(number, MAX_PER_NAME))]
    return []


def _label(name: str) -> tuple[str, int | None]:
    """A clean label from a name (markup, punctuation and trailing numbers dropped; plural made singular when the
    prior agrees) and a count the name gives ("2 nightstands")."""
    text = _words(name)
    count = None
    m = re.match(r"^(\d+)\s+(.+)$", _numeric(text))
    if m:
        count, text = int(m.group(1)), _words(m.group(2))
    text = re.sub(r"(\s+(\d+|no|number|#))+$", "", text).strip()
    text = re.sub(r"^(the|a|an)\s+", "", text)
    if not text:
        return "object", count
    singular = priors._singular(text)
    if singular != text and (priors.lookup(singular).category == priors.lookup(text).category):
        text = singular
    return text, count


def _read_objects(entries, warnings) -> list[_Spec]:
    specs: list[_Spec] = []
    for key, value in entries:
        label, count_hint = _label(key if isinstance(key, str) else str(key))
        if label == "object":
            warnings.append(f"layout: an entry with no readable name ({str(key)[:30]!r}) is called 'object'")
        instances = _instances(value, warnings, label)
        if count_hint and len(instances) == 1:
            instances = instances * min(count_hint, MAX_PER_NAME)
        if not instances:
            continue
        for k, fields in enumerate(instances):
            spec = _spec(len(specs), key, label, fields, warnings)
            spec.instance, spec.count = k, len(instances)
            specs.append(spec)
    return specs


def _spec(index: int, key, label: str, fields: dict, warnings: list) -> _Spec:
    fields = fields if isinstance(fields, dict) else {}
    lowered = {}
    for k, v in fields.items():
        lowered.setdefault(_clean(k), v)
    prior = priors.lookup(label)
    if prior.category == priors.UNKNOWN:
        warnings.append(f"layout: no size prior for '{label}': a generic box")
    kind = "opening" if prior.category in ("window", "door") else (
        "wall_item" if prior.support == "wall" else "furniture")
    size, source, note = _size(label, prior, lowered)
    if note:
        warnings.append(f"layout: {label}: {note}")
    spec = _Spec(index, _words(key) or label, label, prior, size, source, kind)
    for k in _POSITION_KEYS:
        if k in lowered:
            text = _text_of(lowered[k])
            if k == "wall" and not re.search(r"\bwall", _clean(text)):
                text = f"{text} wall"
            elif k == "corner" and not re.search(r"\bcorner", _clean(text)):
                text = f"{text} corner"
            if text.strip():
                spec.texts.append(text)
    for k, v in lowered.items():
        relation = _RELATION_KEYS.get(k.replace(" ", " "))
        if relation is None and k.endswith(" of") is False:
            relation = _RELATION_KEYS.get(k)
        if relation is not None and not isinstance(v, bool):
            targets = v if isinstance(v, list) else [v]
            if relation == "between" and len(targets) >= 2:
                spec.texts.append(f"between {_text_of(targets[0])} and {_text_of(targets[1])}")
            else:
                for target in targets:
                    spec.texts.append(f"{relation} {_text_of(target)}")
    for k in _FACING_KEYS:
        if k in lowered:
            text = _clean(_text_of(lowered[k]))
            if text:
                spec.facing_texts.append(text if re.match(r"^(facing|towards?|away)\b", text) else f"facing {text}")
    for k, v in lowered.items():
        m = _DISTANCE_KEY.match(k)
        if m is None:
            continue
        target = m.group("t") or m.group("t2") or ""
        if isinstance(v, dict):
            for t2, v2 in v.items():
                metres, note = parse_length(v2, "distance")
                if metres is not None:
                    spec.distance_items.append((_clean(t2), metres))
                    if note:
                        warnings.append(f"layout: {label}: distance {note}")
            continue
        if not target.strip() or target.strip() in ("s", "es"):
            spec.texts.append(_text_of(v))  # "distance": "1.8 m from the bed"
            continue
        metres, note = parse_length(v, "distance")
        if metres is None:
            warnings.append(f"layout: {label}: distance '{_text_of(v)[:30]}' to '{target}' not understood; ignored")
            continue
        if note:
            warnings.append(f"layout: {label}: distance {note}")
        spec.distance_items.append((target, metres))
    for k in _DESCRIPTION_KEYS:
        if k in lowered and isinstance(lowered[k], str):
            spec.weak_texts.append(lowered[k])
    if kind == "furniture" and spec.size[1] < 1.3 and any(
            re.search(r"\b(mounted|hung|hanging|hangs|on (?:the|a) wall|wall[\s-]mounted)\b", _clean(t))
            for t in spec.texts + [key if isinstance(key, str) else ""]):
        spec.mounted = True  # a TV or a shelf on the wall
    return spec


def _size(label: str, prior: priors.SizePrior, lowered: dict) -> tuple[np.ndarray, str, str | None]:
    """(size (w, h, d), source, note): the prior, replaced by named sizes, scaled by size words, set by explicit
    dimensions (in that order of precedence: dimensions > named > scaled > prior)."""
    size = np.array(prior.size_m, dtype=float)
    source = "prior" if prior.category != priors.UNKNOWN else "generic_prior"
    note = None
    words_text = " ".join([label] + [_text_of(lowered[k]) for k in _SIZE_KEYS if k in lowered])
    plain = " " + re.sub(r"[^a-z0-9 ]+", " ", _numeric(words_text).replace("-", " ")) + " "
    plain = re.sub(r"\b(?:seats|for|sits|seating)\s+(\d+)\b", r"\1 seater", plain)
    plain = re.sub(r"\b(\d+)\s+(?:seat|seats|person|people|places?)\b", r"\1 seater", plain)
    plain = " ".join(plain.split())
    plain = f" {plain} "
    table = size_words()
    named = table["named"].get(prior.category, {})
    hit = max((w for w in named if f" {w} " in plain), key=len, default=None)
    if hit is not None:
        for axis, value in enumerate(named[hit]):
            if value is not None:
                size[axis] = float(value)
        source = "layout_size_word"
    else:
        scale_hit = max((w for w in table["scale"] if f" {w} " in plain), key=len, default=None)
        if scale_hit is not None:
            size = size * np.array(table["scale"][scale_hit], dtype=float)
            source = "layout_scaled_prior"
    if prior.category in ("tv", "monitor"):
        m = re.search(r"(\d+(?:\.\d+)?)\s*(?:\"|”|″|inch(?:es)?|in\b)", _numeric(words_text))
        if m and 10 <= float(m.group(1)) <= 120:
            diagonal = float(m.group(1)) * 0.0254
            size[0], size[1] = 0.872 * diagonal, 0.490 * diagonal + (0.0 if prior.category == "tv" else 0.1)
            source = "layout_dimensions"
            return size, source, note
    # explicit dimensions
    dims_text = next((lowered[k] for k in ("dimensions", "dimension", "dims", "size", "measurements")
                      if isinstance(lowered.get(k), str)), None)
    dims, dims_note = parse_dimensions(dims_text, "object") if dims_text else (None, None)
    if dims is not None:
        big, small = max(dims[0], dims[1]), min(dims[0], dims[1])
        if prior.size_m[0] >= prior.size_m[2]:
            size[0], size[2] = big, small
        else:
            size[0], size[2] = small, big
        if len(dims) == 3:
            size[1] = dims[2]
        source, note = "layout_dimensions", dims_note
    elif dims_text is not None and hit is None:
        metres, length_note = parse_length(dims_text, "object")
        if metres is not None and re.search(r"\d", _numeric(dims_text)):
            text = _clean(dims_text)
            axis = 2 if re.search(r"\b(deep|depth)\b", text) else 1 if re.search(r"\b(tall|high|height)\b", text) \
                else (0 if prior.size_m[0] >= prior.size_m[2] else 2) if re.search(r"\b(long|length)\b", text) else 0
            size[axis] = metres
            source, note = "layout_dimensions", length_note
    for name, axis in (("width", 0), ("height", 1), ("depth", 2), ("length", None)):
        for key in (name, f"{name} m", f"{name} cm", f"{name} in", f"{name} ft"):
            if key not in lowered:
                continue
            value = lowered[key]
            unit = key.split()[-1] if " " in key else None
            if isinstance(value, (int, float)) and not isinstance(value, bool) and unit:
                metres = float(value) * (_unit_factor(unit) or 1.0)
            else:
                metres, length_note = parse_length(value, "object")
                note = note or length_note
            if metres is None or not (0.01 <= metres <= 20.0):
                continue
            a = axis if axis is not None else (0 if prior.size_m[0] >= prior.size_m[2] else 2)
            size[a] = metres
            source = "layout_dimensions"
    size = np.clip(size, 0.02, 20.0)
    return size, source, note


@dataclass
class _Clue:
    kind: str  # wall | corner | centre | end | relation | facing | distance
    start: int
    wall: str | None = None
    corner: tuple | None = None
    relation: str | None = None
    target: str | None = None
    target2: str | None = None
    metres: float | None = None
    text: str = ""


_RELATION_PATTERNS = [
    ("between", r"between"),
    ("either_side", r"on\s+(?:either|both|each|opposite)\s+sides?\s+of|(?:either|both|each)\s+sides?\s+of|"
                    r"flanking|flanked\s+by|either\s+side\s+of"),
    ("left", r"(?:to|on|at)\s+the\s+left(?:[\s-]hand)?(?:\s+side)?\s+of|left\s+(?:side\s+)?of"),
    ("right", r"(?:to|on|at)\s+the\s+right(?:[\s-]hand)?(?:\s+side)?\s+of|right\s+(?:side\s+)?of"),
    ("foot", r"at\s+the\s+(?:foot|end|bottom)\s+of|at\s+(?:the\s+)?foot\s+of"),
    ("front", r"in\s+front\s+of|before"),
    ("behind", r"behind|in\s+back\s+of|at\s+the\s+back\s+of"),
    ("opposite", r"opposite(?:\s+to|\s+from)?|across\s+(?:the\s+room\s+)?from|across\s+from"),
    ("facing", r"facing(?:\s+towards?)?|faces|looking\s+(?:at|towards?)|oriented\s+towards?|turned\s+towards?|"
               r"pointing\s+(?:at|towards?)|towards?"),
    ("under", r"under(?:neath)?|below|beneath"),
    ("above", r"above|over(?!all)|hanging\s+over"),
    ("on", r"on\s+top\s+of|atop|upon|(?:sits|sitting|placed|resting|standing)\s+on|on"),
    ("around", r"around|surrounding|round"),
    ("compass", rf"(?:to\s+the\s+)?{_DIR}\s+of"),
    ("next_to", r"next\s+to|beside|besides|alongside|adjacent\s+to|near(?:by)?|close\s+to|by|"
                r"at\s+the\s+side\s+of|neighbou?ring|along\s+with|with"),
]


_RELATION_RE = re.compile(r"\b(?:" + "|".join(f"(?P<{name}>{pattern})" for name, pattern in _RELATION_PATTERNS)
                          + r")\b")


_STOP = re.compile(r"\s*(?:[,.;:()!?]|\b(?:and|but|with|while|which|that|so|against|facing|next|near|in|on|at|"
                   r"under|beside|between|opposite|behind|above|below|along|about|approximately|roughly|from|"
                   r"where|leaving|leaves|to the|towards?)\b)")


_ARTICLES = re.compile(r"^(?:(?:the|a|an|its|their|his|her|my|your|our|this|that|these|those|main|same|other|"
                       r"one|both|each|either)\s+)+")


def _target_text(text: str, start: int) -> tuple[str, int]:
    """The noun phrase that starts at ``start`` (articles dropped), and where it ends."""
    rest = text[start:]
    lead = re.match(r"\s*", rest).end()
    stop = _STOP.search(rest, lead + 1)
    end = stop.start() if stop else len(rest)
    phrase = _ARTICLES.sub("", rest[lead:end].strip())
    return phrase.strip(), start + end


def _clues(text: str, heading_rad: float) -> list[_Clue]:
    """Every placement clue of one text, in the order they appear."""
    text = _expand(_numeric(text), heading_rad)
    used = np.zeros(len(text) + 1, dtype=bool)
    clues: list[_Clue] = []

    def take(m, clue):
        if used[m.start():m.end()].any():
            return False
        used[m.start():m.end()] = True
        clues.append(clue)
        return True

    # distances: "1.8 m from the bed"
    for m in re.finditer(rf"{_NUM}(?:\s*(?:-|–|to)\s*{_NUM})?\s*(?:{_UNIT_RE})?\s*(?:away\s+)?(?:from|to|off)\s+",
                         text):
        metres, _ = parse_length(m.group(0), "distance")
        target, end = _target_text(text, m.end())
        if metres is not None and target:
            used[m.start():end] = True
            clues.append(_Clue("distance", m.start(), target=target, metres=metres, text=m.group(0) + target))
    # corners
    for m in re.finditer(rf"\b{_DIR}\s+corner\b", text):
        direction = _direction(m)
        if direction in ("northeast", "northwest", "southeast", "southwest"):
            take(m, _Clue("corner", m.start(), corner=_corner_walls(direction), text=m.group(0)))
    for m in re.finditer(rf"\bcorner\s+(?:of|between|where|formed\s+by|by)?\s*(?:the\s+)?{_DIR}(?:\s+wall)?\s+"
                         rf"and\s+(?:the\s+)?(north|south|east|west)(?:ern)?(?:\s+walls?)?", text):
        first, second = _direction(m), m.group(4)
        if first in WALLS and second in WALLS and _OPPOSITE[first] != second and first != second:
            take(m, _Clue("corner", m.start(), corner=(first, second), text=m.group(0)))
    for m in re.finditer(r"\b(north|south|east|west)(?:ern)?\s+and\s+(?:the\s+)?(north|south|east|west)(?:ern)?"
                         r"\s+walls\b", text):
        first, second = m.group(1), m.group(2)
        if _OPPOSITE[first] != second and first != second:
            take(m, _Clue("corner", m.start(), corner=(first, second), text=m.group(0)))
    # a wall with an end: "north end of the east wall", "east wall near the north end"
    for m in re.finditer(rf"\b{_DIR}\s+(?:end|side|part|half|corner)\s+of\s+(?:the\s+)?"
                         rf"(north|south|east|west)(?:ern)?\s+wall\b", text):
        end, wall = _direction(m), m.group(4)
        if take(m, _Clue("wall", m.start(), wall=wall, text=m.group(0))):
            clues.append(_Clue("end", m.start() + 1, wall=end, text=m.group(0)))
    for m in re.finditer(rf"\b(north|south|east|west)(?:ern)?\s+wall\b[^.;]{{0,40}}?\b(?:near|towards?|at|by|"
                         rf"close\s+to|closer\s+to|nearer)\s+(?:the\s+)?{_DIR}(?:\s+(?:end|corner|side))?", text):
        wall, end = m.group(1), _direction_from(m)
        if take(m, _Clue("wall", m.start(), wall=wall, text=m.group(0))):
            clues.append(_Clue("end", m.start() + 1, wall=end, text=m.group(0)))
    # walls
    for m in re.finditer(rf"\b{_DIR}(?:\s+facing)?\s+(?:wall|side|end|part|half|area|section)\b(?:\s+of\s+the\s+room)?",
                         text):
        direction = _direction(m)
        if direction in WALLS:
            take(m, _Clue("wall", m.start(), wall=direction, text=m.group(0)))
        else:
            take(m, _Clue("corner", m.start(), corner=_corner_walls(direction), text=m.group(0)))
    for m in re.finditer(rf"\bwall\s+(?:on|to|at)\s+the\s+{_DIR}\b", text):
        direction = _direction(m)
        if direction in WALLS:
            take(m, _Clue("wall", m.start(), wall=direction, text=m.group(0)))
    for m in re.finditer(rf"\b(?:in|on|at|towards?|to)\s+the\s+{_DIR}\b(?!\s+(?:of|wall|corner|side|end))", text):
        direction = _direction(m)
        if direction in WALLS:
            take(m, _Clue("wall", m.start(), wall=direction, text=m.group(0)))
        else:
            take(m, _Clue("corner", m.start(), corner=_corner_walls(direction), text=m.group(0)))
    # centre
    for m in re.finditer(r"\b(?:centre|center|middle|central(?:ly)?|centred|centered)\b"
                         r"(?!(?:\s+[a-z]+){0,3}\s+wall\b)", text):
        take(m, _Clue("centre", m.start(), text=m.group(0)))
    # relations
    for m in _RELATION_RE.finditer(text):
        if used[m.start():m.end()].any():
            continue
        kind = m.lastgroup
        if kind == "between":
            b = re.match(r"\s*(?:the\s+)?(.+?)\s+and\s+(?:the\s+)?(.+?)(?=$|[,.;]|\s+(?:with|against|facing)\b)",
                         text[m.end():])
            if b:
                used[m.start():m.end() + b.end()] = True
                clues.append(_Clue("relation", m.start(), relation="between", target=_ARTICLES.sub("", b.group(1)),
                                   target2=_ARTICLES.sub("", b.group(2)), text=m.group(0) + b.group(0)))
            continue
        target, end = _target_text(text, m.end())
        if not target:
            continue
        used[m.start():end] = True
        clue = _Clue("relation", m.start(), relation=kind, target=target, text=text[m.start():end])
        if kind == "compass":
            clue.wall = _direction_from(m)
        if kind == "facing":
            clue.kind = "facing"
        clues.append(clue)
    # bare walls: "against the wall", "wall-mounted"
    for m in re.finditer(r"\b(?:against|on|along|mounted\s+on|hung\s+on|hanging\s+on)\s+(?:a|the|one)\s+wall\b|"
                         r"\bwall[\s-]mounted\b", text):
        take(m, _Clue("wall", m.start(), wall=None, text=m.group(0)))
    for m in re.finditer(r"\b(?:a|the|one)\s+corner\b|\bcornered\b", text):
        take(m, _Clue("corner", m.start(), corner=None, text=m.group(0)))
    clues.sort(key=lambda c: c.start)
    return clues


def _direction_from(m: re.Match) -> str:
    """The compass direction inside a match (its last direction word or pair)."""
    found = list(_DIR_RE.finditer(m.group(0)))
    return _direction(found[-1]) if found else "north"


def _corner_walls(direction: str) -> tuple[str, str]:
    return ("north" if direction.startswith("north") else "south", "east" if direction.endswith("east") else "west")


_OPENING_WORDS = {"window": "window", "windows": "window", "door": "door", "doors": "door", "doorway": "door",
                  "entrance": "door", "entry": "door", "entryway": "door", "exit": "door"}


_CAMERA_WORDS = re.compile(r"^(camera|viewer|photographer|observer|you|me|us|lens|viewpoint)$")


_SEATS = ("chair", "office chair", "armchair", "sofa", "bench", "ottoman")


def _resolve_name(text: str, specs: list[_Spec], me: _Spec | None, instance: int = 0):
    """What a name in a clue refers to: ``("spec", spec)``, ``("wall", w)``, ``("corner", c)``, ``("camera",)``,
    ``("centre",)``, ``("missing", name)`` (an opening or object the answer does not list) or None."""
    phrase = _words(text)
    phrase = re.sub(r"\b(area|region|itself|side|space|zone)$", "", phrase).strip()
    if not phrase:
        return None
    m = _DIR_RE.search(phrase)
    if m and re.search(r"\b(wall|side)\b", phrase):
        d = _direction(m)
        return ("wall", d) if d in WALLS else ("corner", _corner_walls(d))
    if m and re.search(r"\bcorner\b", phrase):
        d = _direction(m)
        return ("corner", _corner_walls(d)) if d not in WALLS else ("wall", d)
    if re.fullmatch(r"(a |the )?wall|walls", phrase):
        return ("wall", None)
    if re.fullmatch(r"(room|room s )?(centre|center|middle)( of the room)?|room", phrase):
        return ("centre",)
    if _CAMERA_WORDS.match(phrase):
        return ("camera",)
    others = [s for s in specs if s is not me]
    singular = priors._singular(phrase)
    category = priors.lookup(phrase).category
    last = phrase.split()[-1]
    if category == priors.UNKNOWN and last in _OPENING_WORDS:
        category = _OPENING_WORDS[last]  # "the entrance": the door
    tiers = [
        [s for s in others if s.label == phrase or s.label == singular or s.key == phrase],
        [s for s in others if category != priors.UNKNOWN and s.prior.category == category],
        [s for s in others if re.search(rf"\b{re.escape(s.label)}\b", phrase)
         or re.search(rf"\b{re.escape(singular)}\b", s.label)],
    ]
    for tier in tiers:
        if tier:
            # "on the nightstands" (or as many lamps as nightstands): the k-th instance goes with the k-th one
            shared = _plural(phrase) or (me is not None and len(tier) > 1 and me.count == len(tier))
            return ("spec", tier[instance % len(tier)] if shared else tier[0])
    if last in _OPENING_WORDS:
        return ("missing", _OPENING_WORDS[last])
    return ("missing", phrase)


def _plural(phrase: str) -> bool:
    return priors._singular(phrase) != phrase


def _resolve(parsed: _Parsed, heading_rad: float, warnings: list[str]) -> None:
    """Turn each spec's texts into an anchor, relations, a facing and distances (first clue wins)."""
    specs = parsed.specs
    for spec in specs:
        clues = []
        for text in spec.texts:
            clues.extend(_clues(text, heading_rad))
        if not any(c.kind in ("wall", "corner", "centre", "relation") for c in clues):
            for text in spec.weak_texts:
                clues.extend(c for c in _clues(text, heading_rad) if c.kind != "distance")
        for text in spec.facing_texts:
            facing_clues = _clues(text, heading_rad)
            clues.extend(c for c in facing_clues if c.kind == "facing")
            if not any(c.kind == "facing" for c in facing_clues):
                m = _DIR_RE.search(_expand(_clean(text), heading_rad))
                if m:
                    clues.append(_Clue("facing", 10 ** 6, target=_direction(m), text=text))
        understood = False
        for clue in clues:
            understood |= _apply_clue(spec, clue, specs, warnings)
        for target_text, metres in spec.distance_items:
            target = _resolve_name(target_text, specs, spec, spec.instance)
            if target is not None and target[0] == "spec":
                spec.distances.append((target[1], metres))
            else:
                warnings.append(f"layout: {spec.label}: distance to '{target_text}' ignored: "
                                "no such object in the layout")
        if (spec.texts or spec.weak_texts) and not understood and not spec.distances:
            shown = "; ".join(spec.texts or spec.weak_texts)[:60]
            default = "against the wall with the most free length" if _wants_wall(spec) else "near the room's centre"
            warnings.append(f"layout: {spec.label}: position '{shown}' not understood; placed {default}")
    _drop_contradictions(specs, warnings)


#: Relations that cannot hold together for the same pair of objects (A's relation to B).
_OPPOSITE_RELATIONS = {("front", "behind"), ("behind", "front"), ("under", "above"), ("above", "under"),
                       ("under", "on"), ("on", "under"), ("left", "right"), ("right", "left")}
#: A's relation to B that B's same relation to A contradicts ("A left of B" and "B left of A").
_ASYMMETRIC = {"left", "right", "front", "behind", "on", "above", "under"}


_RELATION_WORDS = {"left": "left of", "right": "right of", "front": "in front of", "on": "on", "under": "under",
                   "above": "above", "behind": "behind"}


def _relation_side(relation: tuple) -> str:
    """A relation's kind, with next_to's side spelled out (left/right of the target)."""
    kind, _, extra = relation
    return extra if kind == "next_to" and extra in ("left", "right") else kind


def _drop_contradictions(specs: list, warnings: list) -> None:
    """Relations that contradict one kept earlier (in the text's order) are dropped with a warning: the same
    object in front of and behind another, left and right of it, on and under it; or two objects each left of (in
    front of, on) the other. The first one said wins, as for anchors."""
    kept: list[tuple] = []  # (spec, kind, target)
    for spec in specs:
        keep = []
        for relation in spec.relations:
            kind, target = _relation_side(relation), relation[1]
            clash = None
            for other_spec, other_kind, other_target in kept:
                if other_spec is spec and other_target is target and (other_kind, kind) in _OPPOSITE_RELATIONS:
                    clash = f"{spec.label} {_RELATION_WORDS.get(other_kind, other_kind)} {target.label}"
                elif other_spec is target and other_target is spec and kind == other_kind and kind in _ASYMMETRIC:
                    clash = f"{target.label} {_RELATION_WORDS.get(other_kind, other_kind)} {spec.label}"
                if clash:
                    break
            if clash is None and isinstance(target, _Spec) and target is spec:
                clash = "an object placed relative to itself"
            if clash is not None:
                warnings.append(f"layout: '{spec.label} {_RELATION_WORDS.get(kind, kind)} "
                                f"{getattr(target, 'label', target)}' contradicts '{clash}', said first; dropped")
                continue
            keep.append(relation)
            if isinstance(target, _Spec):
                kept.append((spec, kind, target))
        spec.relations = keep


def _wants_wall(spec: _Spec) -> bool:
    return spec.kind in ("opening", "wall_item") or spec.prior.against_wall


def _apply_clue(spec: _Spec, clue: _Clue, specs: list, warnings: list) -> bool:
    """Record one clue on a spec; returns whether it was understood."""
    if clue.kind in ("wall", "corner", "centre"):
        new = ("wall", clue.wall) if clue.kind == "wall" else ("corner", clue.corner) if clue.kind == "corner" \
            else ("centre",)
        _set_anchor(spec, new, clue.text, warnings)
        return True
    if clue.kind == "end":
        if spec.anchor is not None and spec.anchor[0] == "wall" and spec.anchor[1] is not None \
                and clue.wall in WALLS and _WALL[clue.wall].tangent != _WALL[spec.anchor[1]].tangent:
            spec.end = clue.wall
        return True
    if clue.kind == "distance":
        target = _resolve_name(clue.target, specs, spec, spec.instance)
        if target is not None and target[0] == "spec":
            spec.distances.append((target[1], clue.metres))
            return True
        if target is not None and target[0] == "wall" and target[1] is not None:
            spec.relations.append(("wall_distance", target[1], clue.metres))
            return True
        warnings.append(f"layout: {spec.label}: '{clue.text}' refers to nothing in the layout; ignored")
        return False
    if clue.kind == "facing":
        if clue.target in HEADING_DEG:
            spec.facing = spec.facing or ("compass", _heading_of(clue.target))
            return True
        target = _resolve_name(clue.target or "", specs, spec, spec.instance)
        if target is None or target[0] == "missing":
            if target is not None and target[1] in ("window", "door"):
                warnings.append(f"layout: {spec.label}: faces the {target[1]}, which the layout does not place; "
                                "ignored")
            else:
                m = _DIR_RE.search(clue.target or "")
                if m:
                    spec.facing = spec.facing or ("compass", _heading_of(_direction(m)))
                    return True
                warnings.append(f"layout: {spec.label}: '{clue.text}' not understood; ignored")
            return False
        if target[0] == "wall":
            if target[1] is not None:
                spec.facing = spec.facing or ("compass", _heading_of(target[1]))
            return True
        if target[0] == "spec":
            spec.facing = spec.facing or ("spec", target[1])
            if spec.anchor is None and not spec.relations:
                spec.relations.append(("opposite", target[1], None))
            return True
        if target[0] == "camera":
            spec.facing = spec.facing or ("camera",)
            return True
        return False
    # relations
    kind = clue.relation
    target = _resolve_name(clue.target or "", specs, spec, spec.instance)
    if kind == "between":
        second = _resolve_name(clue.target2 or "", specs, spec, spec.instance)
        if target and second and target[0] == "spec" and second[0] == "spec":
            spec.relations.append(("between", target[1], second[1]))
            return True
        warnings.append(f"layout: {spec.label}: '{clue.text}' names objects not in the layout; ignored")
        return False
    if target is None:
        return False
    if target[0] in ("wall", "corner"):
        if kind in ("on", "next_to", "front", "facing", "under", "above", "compass"):
            if kind == "compass":
                return False
            if target[0] == "wall" or target[1] is not None:
                _set_anchor(spec, target, clue.text, warnings)
                return True
            _set_anchor(spec, ("corner", None), clue.text, warnings)
            return True
        return False
    if target[0] == "centre":
        _set_anchor(spec, ("centre",), clue.text, warnings)
        return True
    if target[0] == "camera":
        return False
    if target[0] == "missing":
        name = target[1]
        if kind == "on" and name in ("floor", "ground", "rug", "carpet"):
            return True
        if kind == "on" and spec.kind == "wall_item":
            return True
        what = f"the {name}" if name in ("window", "door") else f"'{name}'"
        warnings.append(f"layout: {spec.label}: '{clue.text}' refers to {what}, which the layout does not list; "
                        "ignored")
        return False
    other = target[1]
    if kind == "compass":
        spec.relations.append(("compass", other, clue.wall))
    elif kind == "either_side":
        spec.relations.append(("next_to", other, "left" if spec.instance % 2 == 0 else "right"))
    elif kind in ("left", "right"):
        spec.relations.append(("next_to", other, kind))
    else:
        spec.relations.append((kind, other, None))
    return True


def _set_anchor(spec: _Spec, new: tuple, text: str, warnings: list) -> None:
    old = spec.anchor
    if old is None:
        spec.anchor = new
        return
    if old == new:
        return
    merged = _merge_anchors(old, new)
    if merged is not None:
        spec.anchor = merged
        return
    warnings.append(f"layout: {spec.label}: '{text}' contradicts '{_anchor_text(old)}' (given first); dropped")


def _merge_anchors(old: tuple, new: tuple) -> tuple | None:
    if old[0] == "wall" and old[1] is None and new[0] in ("wall", "corner"):
        return new
    if new[0] == "wall" and new[1] is None and old[0] in ("wall", "corner"):
        return old
    if old[0] == "corner" and old[1] is None and new[0] == "corner":
        return new
    if old[0] == "corner" and new[0] == "corner" and new[1] is None:
        return old
    if old[0] == "wall" and new[0] == "corner" and new[1] is not None and old[1] in new[1]:
        other = new[1][1] if new[1][0] == old[1] else new[1][0]
        return ("corner", (old[1], other), old[1])
    if old[0] == "corner" and old[1] is not None and new[0] == "wall" and new[1] in old[1]:
        other = old[1][1] if old[1][0] == new[1] else old[1][0]
        return ("corner", (new[1], other), new[1])
    if old[0] == "corner" and old[1] is None and new[0] == "wall" and new[1] is not None:
        return ("corner", None, new[1])
    if old[0] == "wall" and new[0] == "wall" and old[1] and new[1] and _OPPOSITE[old[1]] != new[1]:
        return ("corner", (old[1], new[1]), old[1])
    if len(old) == 3 and new[0] == "wall" and old[1] is not None and new[1] in old[1]:
        return old
    return None


def _anchor_text(anchor: tuple) -> str:
    if anchor[0] == "wall":
        return f"{anchor[1]} wall" if anchor[1] else "against a wall"
    if anchor[0] == "corner":
        return f"{anchor[1][0]}{anchor[1][1]} corner" if anchor[1] else "a corner"
    return "the centre"


@dataclass
class _CameraPlan:
    heading: tuple | None  # ("compass", rad) | ("spec", spec) | ("centre",)
    position: tuple | None  # ("corner", (a, b)) | ("wall", w) | ("centre",) | ("spec", spec)


def _camera_plan(text: str, specs: list[_Spec], warnings: list) -> _CameraPlan:
    text = _numeric(text or "")
    plan = _CameraPlan(None, None)
    if not text.strip():
        return plan
    heading_re = re.compile(r"\b(?:facing|looking|pointing|pointed|aimed|oriented|directed|faces|looks|points|"
                            r"view(?:ing)?|shot|shooting)\s+(?:out\s+)?(?:to(?:wards?)?\s+|at\s+|into\s+|in\s+)?"
                            r"(?:the\s+)?(?:direction\s+of\s+)?(?:the\s+)?")
    for m in heading_re.finditer(text):
        rest = _expand(text[m.end():], 0.0)
        d = re.match(rf"{_DIR}\b", rest)
        if d:
            direction = _direction(d)
            after = rest[d.end():d.end() + 8]
            if re.match(r"\s+corner", after):
                walls = _corner_walls(direction) if direction not in WALLS else (direction, direction)
                plan.heading = ("compass", _heading_of(walls[0] + walls[1] if walls[0] != walls[1] else walls[0]))
            else:
                plan.heading = ("compass", _heading_of(direction))
            text = text[:m.start()] + " " * (m.end() + d.end() - m.start()) + text[m.end() + d.end():]
            break
        target, end = _target_text(text, m.end())
        if not target:
            continue
        resolved = _resolve_name(target, specs, None)
        if resolved is not None and resolved[0] == "spec":
            plan.heading = ("spec", resolved[1])
        elif resolved is not None and resolved[0] == "centre" or re.search(r"\b(room|inside|in)\b", target):
            plan.heading = ("centre",)
        else:
            continue
        text = text[:m.start()] + " " * (end - m.start()) + text[end:]
        break
    clues = _clues(text, plan.heading[1] if plan.heading and plan.heading[0] == "compass" else 0.0)
    for clue in clues:
        if clue.kind == "corner" and clue.corner is not None:
            plan.position = ("corner", clue.corner)
            break
        if clue.kind == "wall" and clue.wall is not None:
            plan.position = ("wall", clue.wall)
            break
        if clue.kind == "centre":
            plan.position = ("centre",)
            break
        if clue.kind == "relation" and clue.relation in ("next_to", "front", "on", "under", "behind", "opposite"):
            resolved = _resolve_name(clue.target or "", specs, None)
            if resolved is not None and resolved[0] == "spec":
                plan.position = ("spec", resolved[1])
                break
            if resolved is not None and resolved[0] == "wall" and resolved[1]:
                plan.position = ("wall", resolved[1])
                break
            if resolved is not None and resolved[0] == "corner" and resolved[1]:
                plan.position = ("corner", resolved[1])
                break
    if plan.position is None:
        m = re.search(r"\bfrom\s+(?:the\s+)?" + _DIR, text)
        if m:
            direction = _direction_from(m)
            plan.position = ("wall", direction) if direction in WALLS else ("corner", _corner_walls(direction))
        elif re.search(r"\b(door|doorway|entrance|entry)\b", text):
            door = next((s for s in specs if s.prior.category == "door"), None)
            if door is not None:
                plan.position = ("spec", door)
    if plan.heading is None and plan.position is None and re.search(
            r"\b(camera|photo|photograph|picture|taken|viewpoint|vantage|photographer)\b", text):
        warnings.append(f"layout: the camera's description '{' '.join(text.split())[:60]}' gives no position or "
                        "heading that room3d reads; the camera faces north from the south wall")
    return plan
