"""Free-form room-layout answers -> a metric scene: objects, room shell and the camera the text implies.

A vision-language model asked to describe a room answers JSON such as ::

    {"room_type": "bedroom",
     "layout": {"bed": {"position": "against north wall", "size": "queen"},
                "wardrobe": {"position": "southwest corner", "distance_from_bed": "1.8m"},
                "window": {"position": "east wall"}},
     "spatial_inference": "The camera is near the southeast corner, facing northwest."}

:func:`layout_scene` turns such an answer (alone) into upright boxes (:class:`ObjectBox`), a rectangular
:class:`RoomShell` and the camera pose the text implies; :func:`solve_with_layout` combines it with the 2D boxes of
a grounding (:mod:`solve`), which stay the geometry.

Conventions
-----------
*Room frame* (where the text is read): metres, ``x`` = east, ``z`` = south, ``y`` up (right-handed, like the world
frame), origin at the middle of the room's floor. North is ``-z``. The room is a rectangle along the compass
axes, ``width`` east-west and ``depth`` north-south.

*Compass*: the text's compass words name directions of that frame. When the text does not say where the camera
faces, it faces **north** (so north is the wall the camera faces, as in ``CONVENTIONS.md``'s sample truth). When it
does ("facing northwest", "looking towards the bed", "facing the far wall"), that is the camera's heading.

*Heading* ``heading_rad``: the camera's yaw in the room frame, the glTF yaw convention of ``CONVENTIONS.md``: its
optical axis, projected on the floor, points along ``Ry(heading) @ (0, 0, -1) = (-sin h, 0, -cos h)``: 0 faces
north, +pi/2 west, -pi/2 east, pi/4 northwest.

*Room frame -> world frame* (``CONVENTIONS.md``: camera above the world origin, looking along ``-Z``):
``p_world = Ry(-heading) @ (p_room - camera_room)``, with ``camera_room = (cx, 0, cz)`` the camera's spot on the
floor; yaws: ``yaw_world = yaw_room - heading``. The whole layout is thus turned so that the camera's heading is
``-Z``; the room's walls have the world yaw ``-heading``. ``camera_pose`` is ``world_from_camera`` at the camera
height (the camera estimate's, else 1.4 m), with the estimate's pitch and roll (level without one). When the camera
estimate knows the room's heading (from the photo's vanishing points, or given), the text's heading is moved to the
nearest heading that agrees with it (the walls then line up with the photo; a note says so when it moves more than
22.5 degrees).

*Walls*: ``RoomShell.walls`` are named as the solver names them, from the camera: ``wall_back`` (the compass wall
nearest the heading), ``wall_right``, ``wall_left`` and ``wall_front`` (behind the camera; the GLB leaves it out,
like solved scenes). ``LayoutResult.wall_names`` maps ``north``/``east``/``south``/``west`` to those names.

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

Resolution: a constructive first placement (each wall's furniture packed in an order that keeps corners, ends and
left/right relations; free-standing objects around their targets), then a small
:func:`scipy.optimize.least_squares` over the free coordinates (each wall object's position along its wall, free
objects' floor position, and the room size when the text gives none), with a sparse finite-difference Jacobian:
stated distances (robust: one the room cannot give does not spoil the others), relations and anchors as residuals,
every object inside the room, no two objects (nor the camera's standing spot, nor a door's swing) interpenetrating
(smooth hinge residuals). A corner object tries both of its walls (up to :data:`_MAX_COMBINATIONS` combinations);
"next to" prefers touching but may move :data:`NEAR_SLACK_M` away when crowded. Contradictions (two opposite walls,
a wall and a corner of other walls, a wall and the centre): the first anchor in the text wins and a warning says
what was dropped; a second object in a taken corner stands against one of its walls towards it; a window or door
"in the middle of the room" goes in a wall. Unknown words or names get a warning and a default (against the wall
with the most free length for objects that usually stand against one, else near the centre). What the solution
cannot keep (a stated distance, objects that overlap or leave the room) is reported in the warnings. Never an
exception for any JSON value; the placement stops at :data:`TIME_BUDGET_S` with the best arrangement found.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import frames, priors
from .records import CameraEstimate, Grounding, ObjectBox, RoomShell, Scene, Wall

_DATA = Path(__file__).parent / "data"

#: Camera height when no camera estimate is given (hand-held).
DEFAULT_CAMERA_HEIGHT_M = 1.4
#: The camera stands this far inside the walls it is said to be near.
CAMERA_INSET_M = 0.5
#: Half-size of the floor square kept free around the camera's standing spot.
CAMERA_KEEP_OUT_M = 0.25
#: Gap between neighbours placed "next to" each other, and how much farther "next to" may be when crowded.
NEIGHBOUR_GAP_M = 0.05
NEAR_SLACK_M = 0.6
#: Gap between an object and the one it is "in front of" (a coffee table before a sofa) / "at the foot of".
FRONT_GAP_M = 0.4
FOOT_GAP_M = 0.05
#: Distance between an object and the one it is "opposite" / "facing" when neither stands against a wall.
OPPOSITE_GAP_M = 1.5
#: Thickness of the boxes that stand for windows and doors (centred in the wall plane).
OPENING_DEPTH_M = 0.1
#: Height of a window's sill above the floor.
WINDOW_SILL_M = 0.9
#: Depth of the floor area kept free in front of a door (its swing).
DOOR_SWING_M = 0.7
#: Centre heights of things hung on a wall.
WALL_ITEM_CENTRE_M = {"picture": 1.5, "mirror": 1.4, "tv": 1.3, "monitor": 1.3}
#: Relative spread (log-normal) of a room's size around its type's typical size, when the text gives none.
ROOM_SIZE_SPREAD = 0.2
#: With 2D boxes: how far (metres, a prior's spread) a solved wall may move out to make room for the objects the
#: layout adds: the walls in view, and the one behind the camera (which the photo does not show).
SEEN_WALL_SPREAD_M = 0.5
BEHIND_WALL_SPREAD_M = 3.0
#: Smallest and largest room side the solver accepts (metres).
ROOM_SIDE_LIMITS_M = (1.5, 30.0)
#: Clearance the solver keeps between objects (metres), so that solved boxes do not touch.
CLEARANCE_M = 0.01
#: At most this many objects are read from one answer; at most this many of one name.
MAX_OBJECTS = 60
MAX_PER_NAME = 20
#: A stated distance missed by more than this is reported.
DISTANCE_TOLERANCE_M = 0.1
#: Residual scales (metres): hard constraints (inside, no overlap, corners), stated distances, relations.
_HARD_M, _DISTANCE_M, _RELATION_M, _SOFT_M, _WEAK_M = 0.005, 0.02, 0.05, 0.3, 1.0
#: Rounding of the hinge residuals (metres).
_HINGE_M = 0.002
#: Function evaluations of one least-squares solve, the most corner combinations tried, and the time budget of one
#: placement (seconds; the best point found so far is used when it runs out).
_MAX_NFEV = 400
_FTOL = 1e-4
_MAX_COMBINATIONS = 8
TIME_BUDGET_S = 3.0

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


@dataclass(frozen=True)
class LayoutResult:
    """A scene from a room-layout answer, in the world frame of ``CONVENTIONS.md`` (see the module docstring).

    objects       : the placed objects (windows and doors as thin boxes in their wall), ``detection_index`` -1
    room          : the rectangular room, walls named from the camera (``wall_names`` maps the compass to them)
    camera_pose   : (4, 4) ``world_from_camera`` (OpenCV camera -> world): above the origin, looking along -Z
    warnings      : what was not understood, dropped, defaulted or could not be kept
    room_type     : the room type used for the default size, or None
    room_size_m   : (east-west width, north-south depth)
    heading_rad   : the camera's yaw in the room frame (0 = facing north, pi/2 = facing west)
    camera_room_m : the camera's spot on the floor in the room frame (east, south), from the room's centre
    """

    objects: tuple[ObjectBox, ...]
    room: RoomShell
    camera_pose: np.ndarray = field(repr=False)
    warnings: tuple[str, ...] = ()
    room_type: str | None = None
    room_size_m: tuple[float, float] = (0.0, 0.0)
    heading_rad: float = 0.0
    camera_room_m: tuple[float, float] = (0.0, 0.0)
    wall_names: dict = field(default_factory=dict)
    room_yaw_rad: float = 0.0


# ============================================================================================== data tables


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


# ============================================================================================== text helpers

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


def parse_length(value, kind: str = "distance") -> tuple[float | None, str | None]:
    """One length in metres from a number or text ("1.8m", "180 cm", "6 feet", "about two metres", "1.5-2 m").

    Returns ``(metres, note)``: the note says which unit a bare number was read in; ``(None, None)`` when there is
    no number. ``kind`` (``distance``, ``object``, ``room``) decides how a bare number is read.
    """
    if isinstance(value, bool):
        return None, None
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value <= 0:
            return None, None
        metres, unit = _bare_metres(float(value), kind)
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


# ============================================================================================== parsed answer


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


# ---------------------------------------------------------------------------------------------- objects


def _instances(value, warnings, name) -> list[dict]:
    """The instances one entry describes: a dict (times its count), a list of dicts or texts, a text, a count."""
    if isinstance(value, bool):
        return [{}] if value else []
    if isinstance(value, (int, float)):
        if math.isfinite(value) and value >= 1:
            n = int(round(value))
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


# ============================================================================================== clues


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


# ============================================================================================== resolution


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


# ============================================================================================== geometry model


@dataclass
class _Room:
    bounds0: np.ndarray  # (x0, x1, z0, z1)
    free_size: bool
    prior_size: tuple[float, float]
    grow: tuple = ()  # ((side index into bounds, sigma_m), ...): sides that may move outwards, with their prior
    ceiling: float = 2.6


def _wall_side(wall: str) -> int:
    """The column of a footprint's (x low, z low, x high, z high) sides that lies against this wall."""
    info = _WALL[wall]
    normal = 1 - info.tangent
    return normal if info.inward > 0 else 2 + normal


def _hinge(v):
    """A smooth max(0, v) (within :data:`_HINGE_M` of the kink), so that the solver converges quickly."""
    v = np.asarray(v, dtype=float)
    return 0.5 * (v + np.sqrt(v * v + _HINGE_M * _HINGE_M))


def _robust(e: float, c: float = 2.5) -> float:
    """A residual made pseudo-Huber: itself while small, growing like the square root of its size beyond ``c``, so
    that one distance the room cannot give does not spoil the others."""
    return math.copysign(c * math.sqrt(2.0 * (math.sqrt(1.0 + (e / c) ** 2) - 1.0)), e)


def _penetration(overlap):
    """How far two footprints interpenetrate, from their overlaps along x and z ((n, 2), negative: apart): the
    geometric mean of the two (smoothly) clipped overlaps. Unlike the smaller overlap alone it falls when either
    overlap shrinks, so an object held to a wall is pushed along the wall too."""
    h = _hinge(overlap)
    return np.sqrt(h[:, 0] * h[:, 1])


class _Model:
    """Parameters, centres and residuals of one placement problem (room frame)."""

    def __init__(self, specs: list[_Spec], room: _Room, camera_fn, obstacles: list):
        self.specs = specs
        self.room = room
        self.camera_fn = camera_fn
        self.x0: list[float] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        if room.free_size:
            self._add(room.prior_size[0], *ROOM_SIDE_LIMITS_M)
            self._add(room.prior_size[1], *ROOM_SIDE_LIMITS_M)
        else:
            for side, _ in room.grow:
                value = float(room.bounds0[side])
                if side in (1, 3):
                    self._add(value, value, value + 30.0)
                else:
                    self._add(value, value - 30.0, value)
        for spec in specs:
            if spec.mode == "wall":
                spec.var = self._add(0.0)
            elif spec.mode == "free":
                spec.var = self._add(0.0)
                self._add(0.0)
            else:
                spec.var = -1
        self.order = self._order()
        self.half = np.array([_half_extents(s.size, s.yaw) for s in specs]).reshape(-1, 2)
        self.obstacles = obstacles  # (centre fn(p, b, C), half (2,), y0, y1, applies_to_opening)
        self._pairs()

    def _add(self, value, lo=-60.0, hi=60.0) -> int:
        self.x0.append(float(value))
        self.lo.append(float(lo))
        self.hi.append(float(hi))
        return len(self.x0) - 1

    def _order(self) -> list[int]:
        """Specs in an order where every supporter comes before what stands on it."""
        index = {id(s): i for i, s in enumerate(self.specs)}
        done, order = set(), []
        for _ in range(len(self.specs) + 1):
            for i, spec in enumerate(self.specs):
                if i in done:
                    continue
                if spec.mode != "on" or index.get(id(spec.support)) in done:
                    done.add(i)
                    order.append(i)
        order.extend(i for i in range(len(self.specs)) if i not in done)  # cycles are broken in _plan
        return order

    def bounds(self, p) -> np.ndarray:
        if self.room.free_size:
            w, d = p[0], p[1]
            return np.array([-0.5 * w, 0.5 * w, -0.5 * d, 0.5 * d])
        b = self.room.bounds0.copy()
        for k, (side, _) in enumerate(self.room.grow):
            b[side] = p[k]
        return b

    def centres(self, p, b) -> np.ndarray:
        C = np.zeros((len(self.specs), 2))
        index = {id(s): i for i, s in enumerate(self.specs)}
        for i in self.order:
            spec = self.specs[i]
            if spec.mode == "wall":
                info = _WALL[spec.wall]
                depth = 0.0 if spec.is_opening else 0.5 * spec.size[2]
                C[i, info.tangent] = p[spec.var]
                C[i, 1 - info.tangent] = b[info.bound] + info.inward * depth
            elif spec.mode == "free":
                C[i] = p[spec.var:spec.var + 2]
            elif spec.mode == "on":
                j = index[id(spec.support)]
                offset = spec.on_offset if spec.on_offset is not None else np.zeros(2)
                C[i] = C[j] + offset[0] * _right(self.specs[j].yaw) + offset[1] * _front(self.specs[j].yaw)
            else:
                C[i] = spec.fixed_xz
        return C

    def _pairs(self) -> None:
        specs = self.specs
        n = len(specs)
        pairs = []
        for i in range(n):
            for j in range(i + 1, n):
                a, c = specs[i], specs[j]
                if a.mode == "fixed" and c.mode == "fixed":
                    continue
                if a.is_opening != c.is_opening:
                    continue
                if a.is_opening and c.is_opening and a.wall != c.wall:
                    continue
                if min(a.top, c.top) - max(a.y0, c.y0) <= 1e-3:
                    continue
                pairs.append((i, j))
        self.pair_i = np.array([p[0] for p in pairs], dtype=int)
        self.pair_j = np.array([p[1] for p in pairs], dtype=int)
        obstacle_pairs = []
        for k, (_, half, y0, y1, for_openings, _deps) in enumerate(self.obstacles):
            for i, spec in enumerate(specs):
                if spec.mode == "fixed" or (spec.is_opening and not for_openings) or \
                        (not spec.is_opening and for_openings):
                    continue
                if min(spec.top, y1) - max(spec.y0, y0) <= 1e-3:
                    continue
                obstacle_pairs.append((i, k))
        self.obstacle_i = np.array([p[0] for p in obstacle_pairs], dtype=int)
        self.obstacle_k = np.array([p[1] for p in obstacle_pairs], dtype=int)
        self.movable = np.array([s.mode in ("wall", "free") for s in specs], dtype=bool)
        # which sides of each footprint ((x low, z low, x high, z high)) must stay inside the room: every side of a
        # movable object but the one against its wall (flush by construction); an opening straddles its wall
        mask = np.repeat(self.movable[:, None], 4, axis=1).reshape(-1, 4)
        for i, spec in enumerate(specs):
            if spec.mode == "wall":
                mask[i, _wall_side(spec.wall)] = False
                if spec.is_opening:
                    normal = 1 - _WALL[spec.wall].tangent
                    mask[i, normal] = mask[i, 2 + normal] = False
        self.inside_mask = mask

    def residuals(self, p) -> np.ndarray:
        p = np.asarray(p, dtype=float)
        b = self.bounds(p)
        C = self.centres(p, b)
        out = []
        # room size prior
        if self.room.free_size:
            out.append(math.log(p[0] / self.room.prior_size[0]) / ROOM_SIZE_SPREAD)
            out.append(math.log(p[1] / self.room.prior_size[1]) / ROOM_SIZE_SPREAD)
        else:
            for k, (side, sigma) in enumerate(self.room.grow):
                out.append((p[k] - self.room.bounds0[side]) / sigma)
        # anchors and relations
        for spec in self.specs:
            if spec.target is not None:
                fn, sigma = spec.target
                value = fn(p, b, C)
                if spec.mode == "wall":
                    out.append((p[spec.var] - value) / sigma)
                elif spec.mode == "free":
                    out.extend((p[spec.var:spec.var + 2] - value) / sigma)
            for fn in spec.extra_residuals:
                out.extend(np.atleast_1d(fn(p, b, C)))
        # inside the room
        if self.movable.any():
            lo = C - self.half
            hi = C + self.half
            inside = np.concatenate([_hinge(b[[0, 2]] - lo), _hinge(hi - b[[1, 3]])], axis=1)
            out.extend(inside[self.inside_mask] / _HARD_M)
        # no overlaps
        if len(self.pair_i):
            d = np.abs(C[self.pair_i] - C[self.pair_j])
            overlap = self.half[self.pair_i] + self.half[self.pair_j] + CLEARANCE_M - d
            out.extend(_penetration(overlap) / _HARD_M)
        if len(self.obstacle_i):
            centres = np.array([fn(p, b, C) for fn, *_ in self.obstacles])
            halves = np.array([half for _, half, *_ in self.obstacles])
            d = np.abs(C[self.obstacle_i] - centres[self.obstacle_k])
            overlap = self.half[self.obstacle_i] + halves[self.obstacle_k] + CLEARANCE_M - d
            out.extend(_penetration(overlap) / _HARD_M)
        return np.asarray(out, dtype=float)

    def sparsity(self, x0):
        """Which parameters each residual can depend on (a superset), for a Jacobian by grouped differences."""
        from scipy.sparse import lil_matrix

        room_cols = set(range(len(self.x0) - sum(2 if s.mode == "free" else 1 if s.mode == "wall" else 0
                                                 for s in self.specs)))
        index = {id(s): i for i, s in enumerate(self.specs)}
        deps: list[set] = [set() for _ in self.specs]
        for i in self.order:
            spec = self.specs[i]
            deps[i] = set(room_cols)
            if spec.mode == "wall":
                deps[i].add(spec.var)
            elif spec.mode == "free":
                deps[i].update((spec.var, spec.var + 1))
            elif spec.mode == "on" and spec.support is not None:
                deps[i] |= deps[index[id(spec.support)]]
        rows: list[set] = []
        if self.room.free_size:
            rows += [set(room_cols), set(room_cols)]
        else:
            rows += [set(room_cols) for _ in self.room.grow]
        b0 = self.bounds(x0)
        C0 = self.centres(x0, b0)
        for i, spec in enumerate(self.specs):
            related = set(deps[i])
            for other in _dependencies(spec) + [o for o, _ in spec.distances]:
                related |= deps[index[id(other)]]
            if spec.target is not None:
                rows += [related] * (1 if spec.mode == "wall" else 2)
            for fn in spec.extra_residuals:
                rows += [related] * len(np.atleast_1d(fn(x0, b0, C0)))
        for i, k in zip(*np.nonzero(self.inside_mask)):
            rows.append(deps[i])
        for i, j in zip(self.pair_i, self.pair_j):
            rows.append(deps[i] | deps[j])
        for i, k in zip(self.obstacle_i, self.obstacle_k):
            extra = set(room_cols)
            for other in self.obstacles[k][5]:
                extra |= deps[index[id(other)]]
            rows.append(deps[i] | extra)
        pattern = lil_matrix((len(rows), len(self.x0)), dtype=int)
        for r, cols in enumerate(rows):
            for c in cols:
                pattern[r, c] = 1
        return pattern

    def solve(self, x0, deadline: float) -> tuple[np.ndarray, float]:
        """Least squares from ``x0`` until converged, :data:`_MAX_NFEV` evaluations or the ``deadline``
        (``time.monotonic()``); returns the best point evaluated and its cost."""
        from scipy.optimize import least_squares

        x0 = np.clip(np.asarray(x0, dtype=float), np.array(self.lo) + 1e-6, np.array(self.hi) - 1e-6)
        r0 = self.residuals(x0)
        best = [float(0.5 * r0 @ r0), x0.copy()]
        if not len(x0):
            return x0, best[0]

        def fun(p):
            if time.monotonic() > deadline:
                raise _OutOfTime
            r = self.residuals(p)
            cost = float(0.5 * r @ r)
            if math.isfinite(cost) and cost < best[0]:
                best[0], best[1] = cost, np.array(p, dtype=float)
            return r

        try:
            pattern = self.sparsity(x0)
            if pattern.shape[0] != len(r0):  # never expected: fall back to a dense Jacobian
                pattern = None
            least_squares(fun, x0, bounds=(self.lo, self.hi), method="trf", x_scale=1.0, max_nfev=_MAX_NFEV,
                          diff_step=1e-4, ftol=_FTOL, jac_sparsity=pattern)
        except (_OutOfTime, ValueError, np.linalg.LinAlgError, FloatingPointError):
            pass
        return best[1], best[0]


class _OutOfTime(Exception):
    """The placement's time budget is spent: the best point so far is used."""


# ============================================================================================== placement

#: (x, z) room-frame direction of each compass word.
_COMPASS_VEC = {"north": np.array([0.0, -1.0]), "south": np.array([0.0, 1.0]), "east": np.array([1.0, 0.0]),
                "west": np.array([-1.0, 0.0])}


def _wall_of(spec: _Spec) -> str | None:
    """The wall a spec's back is against (planned or, for a fixed object, observed), or None."""
    if spec.mode == "wall":
        return spec.wall
    if spec.mode == "fixed":
        return spec.fixed_wall
    return None


def _wall_s_target(spec: _Spec, end: str, sigma: float):
    """Target of a wall object's position along its wall: flush with the wall ``end`` (a perpendicular wall)."""
    info = _WALL[end]
    half = 0.5 * float(spec.size[0])
    return (lambda p, b, C: b[info.bound] + info.inward * half), sigma


def _plan(specs: list[_Spec], room: _Room, warnings: list) -> None:
    """Decide each spec's mode (wall / free / on / fixed), wall, yaw and elevation."""
    # pass 1: absolute anchors and supports
    for spec in specs:
        if spec.mode == "fixed":
            continue
        anchor = spec.anchor
        primary = spec.relations[0] if spec.relations else None
        spec.mode, spec.wall, spec.corner_other, spec.corner_choices, spec.support = "free", None, None, (), None
        if anchor is not None and anchor[0] == "wall":
            spec.mode, spec.wall = "wall", anchor[1]  # None: "against the wall", chosen below
        elif anchor is not None and anchor[0] == "corner":
            spec.mode = "wall"
            preferred = anchor[2] if len(anchor) == 3 else None
            if anchor[1] is not None and preferred is not None:
                spec.corner_choices = ((preferred, _other(anchor[1], preferred)),)
            elif anchor[1] is not None:
                spec.corner_choices = ((anchor[1][0], anchor[1][1]), (anchor[1][1], anchor[1][0]))
            else:
                spec.wall, spec.corner_other = preferred, "any"  # "in a corner": its walls chosen below
            if spec.corner_choices:
                spec.wall, spec.corner_other = spec.corner_choices[0]
        elif primary is not None and primary[0] in ("on", "above") and isinstance(primary[1], _Spec) \
                and primary[1].kind not in ("opening", "wall_item") and spec.kind != "wall_item":
            spec.mode, spec.support = "on", primary[1]
    # pass 2: the first relation decides the rest (a target's wall is known once it is planned)
    for _ in range(3):
        for spec in specs:
            if spec.mode != "free" or spec.anchor is not None or not spec.relations:
                continue
            kind, other, extra = spec.relations[0]
            target_wall = _wall_of(other) if isinstance(other, _Spec) else None
            if target_wall is None:
                continue
            if kind in ("next_to", "under", "above") or (kind == "on" and other.kind in ("opening", "wall_item")):
                spec.mode, spec.wall = "wall", target_wall
            elif kind == "between" and isinstance(extra, _Spec) and _wall_of(extra) == target_wall:
                spec.mode, spec.wall = "wall", target_wall
            elif kind == "opposite":
                spec.mode, spec.wall = "wall", _OPPOSITE[target_wall]
            elif kind == "compass" and extra in WALLS and _axis(extra) == _WALL[target_wall].tangent:
                spec.mode, spec.wall = "wall", target_wall
            elif spec.kind in ("opening", "wall_item") and kind in ("behind", "front", "foot"):
                spec.mode, spec.wall = "wall", target_wall
    # on-cycles ("A on B", "B on A") are broken
    for spec in specs:
        seen, current = set(), spec
        while current is not None and current.mode == "on":
            if id(current) in seen:
                warnings.append(f"layout: {spec.label}: stands on something that stands on it; placed on the floor")
                spec.mode, spec.support = "free", None
                break
            seen.add(id(current))
            current = current.support
    # one corner, one object: later ones stand against one of its walls, as close to the corner as they can
    taken: dict[frozenset, _Spec] = {}
    for spec in specs:
        if spec.mode != "wall" or spec.is_opening or not spec.corner_choices:
            continue
        walls = frozenset(spec.corner_choices[0])
        first = taken.setdefault(walls, spec)
        if first is spec:
            continue
        wall, end = spec.corner_choices[-1]
        spec.wall, spec.end, spec.corner_other, spec.corner_choices = wall, end, None, ()
        warnings.append(f"layout: {spec.label}: the {_corner_name(walls)} corner is taken by {first.label}; "
                        f"placed against the {wall} wall, towards that corner")
    # a window or door is always in a wall
    for spec in specs:
        if spec.is_opening and spec.mode != "wall":
            if spec.anchor is not None and spec.anchor[0] == "centre":
                warnings.append(f"layout: {spec.label}: a {spec.prior.category} is in a wall, not in the middle of "
                                "the room; put in the wall with the fewest openings")
            spec.mode, spec.wall, spec.support = "wall", None, None
    # walls not chosen: openings on the wall with the fewest, others on the wall with the most free length
    length = {w: _wall_length(room, w) for w in WALLS}
    used = {w: 0.0 for w in WALLS}
    openings_on = {w: 0 for w in WALLS}
    for spec in specs:
        wall = _wall_of(spec)
        if wall is not None and spec.is_opening:
            openings_on[wall] += 1
        elif wall is not None:
            used[wall] += float(spec.size[0])
    for spec in specs:
        if spec.mode == "free" and spec.anchor is None and _wants_wall(spec) and (
                not spec.relations or spec.kind in ("opening", "wall_item")):
            spec.mode = "wall"
        if spec.mode == "wall" and spec.wall is None:
            if spec.is_opening:
                spec.wall = min(WALLS, key=lambda w: (openings_on[w], WALLS.index(w)))
                openings_on[spec.wall] += 1
            else:
                spec.wall = max(WALLS, key=lambda w: (length[w] - used[w], -WALLS.index(w)))
                used[spec.wall] += float(spec.size[0])
        if spec.mode == "wall" and spec.corner_other == "any":
            spec.corner_choices = tuple((spec.wall, o) for o in WALLS if o not in (spec.wall, _OPPOSITE[spec.wall]))
            spec.corner_other = spec.corner_choices[0][1]
    # yaws and elevations (supports first)
    for spec in specs:
        if spec.mode == "wall":
            spec.yaw = _WALL[spec.wall].yaw
        elif spec.mode == "free":
            spec.yaw = _free_yaw(spec)
    for spec in specs:
        if spec.mode != "fixed":
            _elevation(spec, room)
    for _ in range(len(specs) + 1):
        for spec in specs:
            if spec.mode == "on" and spec.support is not None:
                spec.y0, spec.yaw = spec.support.top, spec.support.yaw
    # several things on one support: spread along its width
    groups: dict[int, list[_Spec]] = {}
    for spec in specs:
        if spec.mode == "on":
            groups.setdefault(id(spec.support), []).append(spec)
    for group in groups.values():
        width = float(group[0].support.size[0])
        for k, spec in enumerate(group):
            spec.on_offset = np.array([(k - 0.5 * (len(group) - 1)) * width / len(group), 0.0])


def _corner_name(walls) -> str:
    ns = "north" if "north" in walls else "south"
    return ns + ("east" if "east" in walls else "west")


def _axis(direction: str) -> int:
    """0 when a compass direction runs along x (east, west), 1 along z (north, south)."""
    return 0 if direction in ("east", "west") else 1


def _other(corner: tuple, wall: str) -> str:
    return corner[1] if corner[0] == wall else corner[0]


def _wall_length(room: _Room, wall: str) -> float:
    b = room.bounds0
    return float(b[1] - b[0]) if _WALL[wall].tangent == 0 else float(b[3] - b[2])


def _elevation(spec: _Spec, room: _Room) -> None:
    h = float(spec.size[1])
    spec.y0 = 0.0
    if spec.prior.category == "window":
        spec.y0 = WINDOW_SILL_M
    elif spec.kind == "wall_item" or spec.mounted:
        centre = WALL_ITEM_CENTRE_M.get(spec.prior.category, 1.5)
        spec.y0 = 0.05 if spec.prior.category == "curtain" else centre - 0.5 * h
    for kind, other, _ in spec.relations[:1]:
        if not isinstance(other, _Spec):
            continue
        if kind == "above" and spec.mode == "wall":
            spec.y0 = max(spec.y0, other.top + 0.15)
        elif kind == "on" and other.kind in ("opening", "wall_item") and spec.mode == "wall":
            spec.y0 = other.y0  # on a window sill
    ceiling = room.ceiling
    if spec.y0 + h > ceiling - 0.02:
        if h > ceiling - 0.02:
            spec.size = spec.size.copy()
            spec.size[1] = h = ceiling - 0.02
        spec.y0 = max(0.0, ceiling - 0.02 - h)


def _free_yaw(spec: _Spec) -> float:
    if spec.facing is not None and spec.facing[0] == "compass":
        return _yaw_towards(_heading_vector(spec.facing[1]))
    if spec.relations:
        kind, other, _ = spec.relations[0]
        if isinstance(other, _Spec):
            if kind == "opposite":
                return other.yaw + math.pi
            if kind == "front" and spec.prior.category in _SEATS and other.prior.category not in _SEATS:
                return other.yaw + math.pi
            if kind in ("front", "foot", "behind", "next_to", "compass"):
                return other.yaw
    return spec.yaw


def _targets(specs: list[_Spec], camera_fn, centre_xz, room_bounds) -> None:
    """Position targets and relation residuals of each spec (closures over the model's parameters)."""
    index = {id(s): i for i, s in enumerate(specs)}
    for i, spec in enumerate(specs):
        spec.target, spec.extra_residuals, spec.target_default = None, [], False
        spec.has_side = False
        relations = [r for r in spec.relations if r[0] != "wall_distance"]
        soft = relations
        if spec.mode == "wall":
            t = _WALL[spec.wall].tangent
            if spec.corner_other in WALLS:
                spec.target = _wall_s_target(spec, spec.corner_other, _HARD_M)
            elif spec.end is not None:
                spec.target = _wall_s_target(spec, spec.end, _SOFT_M)
            elif relations:
                spec.target = _wall_relation_target(spec, relations[0], index, t, i)
                soft = relations[1:] if spec.target is not None else relations
            if spec.target is None:
                spec.target = ((lambda p, b, C, t=t: 0.5 * (b[2 * t] + b[2 * t + 1])), _WEAK_M)
                spec.target_default = True
        elif spec.mode == "free":
            if relations:
                spec.target = _free_relation_target(spec, relations[0], index, i)
                soft = relations[1:] if spec.target is not None else relations
            if spec.target is None:
                centred = spec.anchor is not None and spec.anchor[0] == "centre"
                spec.target = (centre_xz, _SOFT_M if centred else _WEAK_M)
                spec.target_default = not centred
            elif spec.anchor is not None and spec.anchor[0] == "centre":
                spec.extra_residuals.append(lambda p, b, C, i=i: (C[i] - centre_xz(p, b, C)) / _WEAK_M)
        else:
            soft = []
            if spec.mode == "fixed" and spec.fixed_wall is not None:
                # a solved object against a wall keeps it there: that wall does not move away from it
                info = _WALL[spec.fixed_wall]
                axis = 1 - info.tangent
                gap = float(info.inward * (spec.fixed_xz[axis] - room_bounds[info.bound]))
                spec.extra_residuals.append(
                    lambda p, b, C, i=i, info=info, axis=axis, gap=gap:
                    (info.inward * (C[i, axis] - b[info.bound]) - gap) / _HARD_M)
        for relation in soft:
            _soft_near(spec, relation, index, i)
        for other, metres in spec.distances:
            j = index[id(other)]
            spec.extra_residuals.append(
                lambda p, b, C, i=i, j=j, metres=metres: _robust((np.linalg.norm(C[i] - C[j]) - metres) / _DISTANCE_M))
        for kind, wall, metres in spec.relations:
            if kind == "wall_distance" and spec.mode in ("wall", "free"):
                info = _WALL[wall]
                axis = 1 - info.tangent
                spec.extra_residuals.append(
                    lambda p, b, C, i=i, info=info, axis=axis, metres=metres:
                    (info.inward * (C[i, axis] - b[info.bound]) - metres) / _DISTANCE_M)


def _wall_relation_target(spec: _Spec, relation, index, t: int, i: int):
    """Target of a wall object's position along its wall from its first relation: beside, under, above, between
    or opposite an object on the same (or, for "opposite", the facing) wall. None when it does not apply."""
    kind, other, extra = relation
    if not isinstance(other, _Spec):
        return None
    j = index[id(other)]
    if kind == "between" and isinstance(extra, _Spec):
        k = index[id(extra)]
        return (lambda p, b, C: 0.5 * (C[j, t] + C[k, t])), _RELATION_M
    other_wall = _wall_of(other)
    if kind == "opposite" and other_wall == _OPPOSITE.get(spec.wall):
        return (lambda p, b, C: C[j, t]), _RELATION_M
    if other_wall != spec.wall:
        return None
    if kind in ("under", "above", "on", "front", "behind", "foot"):
        # centred on it if there is room, at least within its width
        reach = 0.5 * float(other.size[0])
        spec.extra_residuals.append(
            lambda p, b, C, reach=reach: _hinge(abs(C[i, t] - C[j, t]) - reach) / _RELATION_M)
        return (lambda p, b, C: C[j, t]), _SOFT_M
    offset = 0.5 * (float(spec.size[0]) + float(other.size[0])) + NEIGHBOUR_GAP_M
    if kind == "compass" and extra in WALLS and _axis(extra) == t:
        sign = float(_COMPASS_VEC[extra][t])
        return (lambda p, b, C: C[j, t] + sign * offset), _RELATION_M
    if kind == "next_to":
        tangent = np.zeros(2)
        tangent[t] = 1.0
        right = 1.0 if float(_right(other.yaw) @ tangent) >= 0 else -1.0
        spec.has_side, spec.side_of = True, other
        spec.side_given = extra in ("left", "right")
        if spec.side_given:
            spec.side_sign = right if extra == "right" else -right
        _beside(spec, i, lambda p, b, C: spec.side_sign * (C[i, t] - C[j, t]), offset)
        return (lambda p, b, C: C[j, t] + spec.side_sign * offset), _SOFT_M
    return None


def _beside(spec: _Spec, i: int, along, offset: float) -> None:
    """Residuals of "next to": on the chosen side (``along`` = signed distance that way, positive) and no farther
    than :data:`NEAR_SLACK_M` beyond touching; snug is only preferred (the position target), so that two things
    next to the same object line up instead of interpenetrating."""
    spec.extra_residuals.append(lambda p, b, C: _hinge(along(p, b, C) - offset - NEAR_SLACK_M) / _RELATION_M)
    spec.extra_residuals.append(lambda p, b, C: _hinge(-along(p, b, C)) / _RELATION_M)


def _free_relation_target(spec: _Spec, relation, index, i: int):
    """Target (x, z) of a free-standing object from its first relation, or None."""
    kind, other, extra = relation
    if not isinstance(other, _Spec):
        return None
    j = index[id(other)]
    w, d = float(spec.size[0]), float(spec.size[2])
    ow, od = float(other.size[0]), float(other.size[2])
    if kind == "between" and isinstance(extra, _Spec):
        k = index[id(extra)]
        return (lambda p, b, C: 0.5 * (C[j] + C[k])), _RELATION_M
    if kind in ("front", "foot", "behind", "opposite"):
        gap = {"front": FRONT_GAP_M, "foot": FOOT_GAP_M, "behind": NEIGHBOUR_GAP_M, "opposite": OPPOSITE_GAP_M}[kind]
        depth = d if abs(math.cos(spec.yaw - other.yaw)) > 0.7 else w
        distance = 0.5 * od + gap + 0.5 * depth
        front = (-1.0 if kind == "behind" else 1.0) * _front(other.yaw)
        return (lambda p, b, C: C[j] + distance * front), _RELATION_M
    if kind == "next_to":
        offset = 0.5 * (w + ow) + NEIGHBOUR_GAP_M
        right = _right(other.yaw)
        spec.has_side, spec.side_of = True, other
        spec.side_given = extra in ("left", "right")
        if spec.side_given:
            spec.side_sign = 1.0 if extra == "right" else -1.0
        _beside(spec, i, lambda p, b, C: spec.side_sign * float((C[i] - C[j]) @ right), offset)
        spec.extra_residuals.append(lambda p, b, C: float((C[i] - C[j]) @ _front(other.yaw)) / _SOFT_M)
        return (lambda p, b, C: C[j] + spec.side_sign * offset * right), _SOFT_M
    if kind == "compass" and extra in WALLS:
        direction = _COMPASS_VEC[extra]
        half = _half_extents(spec.size, spec.yaw) + _half_extents(other.size, other.yaw)
        distance = float(half[_axis(extra)]) + NEIGHBOUR_GAP_M
        return (lambda p, b, C: C[j] + distance * direction), _RELATION_M
    if kind == "around":
        n = max(spec.count, 1)
        angle = 2.0 * math.pi * spec.instance / n
        local = np.array([math.sin(angle) * (0.5 * ow + 0.2 + 0.5 * d), math.cos(angle) * (0.5 * od + 0.2 + 0.5 * d)])
        spec.yaw = other.yaw + angle + math.pi
        return (lambda p, b, C: C[j] + local[0] * _right(other.yaw) + local[1] * _front(other.yaw)), _RELATION_M
    if kind in ("under", "near"):
        return (lambda p, b, C: C[j]), _SOFT_M
    return None


def _soft_near(spec: _Spec, relation, index, i: int) -> None:
    """A secondary relation as a soft pull: the centres no farther apart than their sizes and a little room."""
    kind, other, _ = relation
    if not isinstance(other, _Spec) or kind in ("opposite", "facing"):
        return
    j = index[id(other)]
    reach = 0.5 * (max(spec.size[0], spec.size[2]) + max(other.size[0], other.size[2])) + 0.3
    spec.extra_residuals.append(
        lambda p, b, C, i=i, j=j, reach=reach: max(0.0, float(np.linalg.norm(C[i] - C[j])) - reach) / _SOFT_M)


def _initial(model: "_Model", specs: list[_Spec]) -> np.ndarray:
    """A first placement: the furniture on each wall packed side by side in an order that keeps corners, ends and
    left/right relations (:func:`_wall_order`); objects meant for the middle on a spiral around the centre; then
    every other target evaluated once its objects are placed ("next to" a free-standing object on the side where it
    fits best)."""
    x = np.array(model.x0, dtype=float)
    b = model.bounds(x)
    per_wall: dict[str, list[_Spec]] = {}
    for spec in specs:
        if spec.mode == "wall":
            per_wall.setdefault(spec.wall, []).append(spec)
    packed: set[int] = set()
    for wall, members in per_wall.items():
        t = _WALL[wall].tangent
        lo, hi = b[2 * t], b[2 * t + 1]
        # openings and things hung high: spread evenly; furniture standing on the floor: packed in order
        loose = [m for m in members if m.is_opening or m.y0 > 0.5]
        for k, spec in enumerate(loose):
            x[spec.var] = lo + (k + 0.5) * (hi - lo) / len(loose)
        row = _wall_order([m for m in members if m not in loose and _packs(m)], t, b)
        widths = [float(m.size[0]) for m in row]
        total = sum(widths) + NEIGHBOUR_GAP_M * max(len(row) - 1, 0)
        if row and _end_rank(row[0], t, b) < 0:
            start = lo
        elif row and _end_rank(row[-1], t, b) > 0:
            start = hi - total
        else:
            start = 0.5 * (lo + hi - total)
        for spec, width in zip(row, widths):
            x[spec.var] = start + 0.5 * width
            start += width + NEIGHBOUR_GAP_M
            packed.add(id(spec))
        rest = [m for m in members if m not in loose and id(m) not in packed]
        for k, spec in enumerate(rest):
            x[spec.var] = lo + (k + 0.5) * (hi - lo) / len(rest)
    centre = 0.5 * np.array([b[0] + b[1], b[2] + b[3]])
    jitter = {id(s): 0.1 * np.array([math.cos(k * 2.4), math.sin(k * 2.4)]) for k, s in enumerate(specs)}
    free = [s for s in specs if s.mode == "free"]
    spacing = 0.5 * max((max(s.size[0], s.size[2]) for s in free), default=0.5)
    for k, spec in enumerate(free):
        # a sunflower spiral around the centre: objects meant for the middle start apart
        x[spec.var:spec.var + 2] = centre + spacing * math.sqrt(k + 0.5) * np.array(
            [math.cos(k * 2.39996), math.sin(k * 2.39996)])
        if spec.has_side and not spec.side_given:
            spec.side_sign = 1.0
    placed: set[int] = set(packed)
    pending = [s for s in specs if s.mode in ("wall", "free") and not s.target_default and id(s) not in packed]
    for _ in range(len(pending) + 1):
        progress = False
        for spec in pending:
            if id(spec) in placed:
                continue
            if any(d.mode in ("wall", "free") and not d.target_default and id(d) not in placed
                   for d in _dependencies(spec)):
                continue
            if spec.has_side and not spec.side_given and spec.mode == "free":
                spec.side_sign = _choose_side(model, spec, x, b)
            value = spec.target[0](x, b, model.centres(x, b))
            # a little jitter: two objects starting at the same spot would not be pushed apart
            if spec.mode == "wall":
                x[spec.var] = value + 0.2 * jitter[id(spec)][0]
            else:
                x[spec.var:spec.var + 2] = value + 0.2 * jitter[id(spec)]
            placed.add(id(spec))
            progress = True
        if not progress:
            break
    return x


def _packs(spec: _Spec) -> bool:
    """Whether a wall object's position comes from the order along its wall (no target of its own elsewhere)."""
    if spec.target_default or spec.corner_other in WALLS or spec.end is not None:
        return True
    return spec.has_side and spec.side_of is not None and _wall_of(spec.side_of) == spec.wall


def _end_rank(spec: _Spec, t: int, b) -> int:
    """-1 for an object held to the low end of its wall (a corner or an end), +1 to the high end, else 0."""
    end = spec.corner_other if spec.corner_other in WALLS else spec.end
    if end is None:
        return 0
    return -1 if _WALL[end].bound == 2 * t else 1


def _wall_order(row: list[_Spec], t: int, b) -> list[_Spec]:
    """The objects of one wall in the order they stand along it (increasing tangent coordinate): corners and ends
    at their ends, each "left/right of A" on its side of A, each "next to A" (side not given) beside A towards the
    middle of the row (its side is then fixed to that)."""
    seq = sorted(row, key=lambda m: (_end_rank(m, t, b), row.index(m)))
    for _ in range(len(row) + 1):
        changed = False
        for spec in row:
            other = spec.side_of
            if not spec.has_side or other not in seq or other is spec:
                continue
            i, j = seq.index(spec), seq.index(other)
            if not spec.side_given:
                after = j < len(seq) / 2.0 if abs(i - j) != 1 else i > j
                spec.side_sign = 1.0 if after else -1.0
                spec.side_given = True  # chosen: kept by the solver
            after = spec.side_sign > 0
            if after != (i > j):
                seq.remove(spec)
                seq.insert(seq.index(other) + (1 if after else 0), spec)
                changed = True
        if not changed:
            break
    return seq


def _dependencies(spec: _Spec) -> list:
    out = []
    for _, other, extra in spec.relations:
        out.extend(v for v in (other, extra) if isinstance(v, _Spec))
    return out


def _choose_side(model: "_Model", spec: _Spec, x, b) -> float:
    """For "next to A" without a side: the side where the object stays inside the room and overlaps least."""
    i = model.specs.index(spec)
    best, best_cost = 1.0, math.inf
    for sign in (1.0, -1.0):
        spec.side_sign = sign
        trial = x.copy()
        value = spec.target[0](trial, b, model.centres(trial, b))
        if spec.mode == "wall":
            trial[spec.var] = value
        else:
            trial[spec.var:spec.var + 2] = value
        C = model.centres(trial, b)
        lo, hi = C[i] - model.half[i], C[i] + model.half[i]
        cost = float(np.sum(np.maximum(0, b[[0, 2]] - lo)) + np.sum(np.maximum(0, hi - b[[1, 3]])))
        for j, other in enumerate(model.specs):
            if j != i and not other.is_opening and (other.mode != "wall" or other.target_default is False):
                overlap = model.half[i] + model.half[j] - np.abs(C[i] - C[j])
                cost += max(0.0, float(overlap.min()))
        if cost < best_cost - 1e-9:
            best, best_cost = sign, cost
    return best


# ============================================================================================== camera


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


def _camera_function(plan: _CameraPlan, heading0: float, index: dict):
    """The camera's floor spot as a function of the room bounds and the objects' centres."""
    inset = CAMERA_INSET_M

    def inside(b, point):
        return np.array([min(max(point[0], b[0] + inset), b[1] - inset) if b[1] - b[0] > 2 * inset
                         else 0.5 * (b[0] + b[1]),
                         min(max(point[1], b[2] + inset), b[3] - inset) if b[3] - b[2] > 2 * inset
                         else 0.5 * (b[2] + b[3])])

    position = plan.position
    if position is not None and position[0] == "corner":
        a, c = position[1]
        infos = [_WALL[a], _WALL[c]]

        def fn(p, b, C):
            point = np.zeros(2)
            for info in infos:
                point[1 - info.tangent] = b[info.bound] + info.inward * inset
            return inside(b, point)
        return fn
    if position is not None and position[0] == "wall":
        info = _WALL[position[1]]

        def fn(p, b, C):
            point = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
            point[1 - info.tangent] = b[info.bound] + info.inward * inset
            return inside(b, point)
        return fn
    if position is not None and position[0] == "centre":
        return lambda p, b, C: np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
    if position is not None and position[0] == "spec":
        spec = position[1]
        j = index[id(spec)]

        def fn(p, b, C):
            centre = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
            if spec.mode == "wall":
                info = _WALL[spec.wall]
                step = np.zeros(2)
                step[1 - info.tangent] = info.inward
                return inside(b, C[j] + step * (inset + 0.5 * (0.0 if spec.is_opening else float(spec.size[2]))))
            direction = centre - C[j]
            norm = np.linalg.norm(direction)
            return inside(b, C[j] + (direction / norm if norm > 1e-6 else np.zeros(2)) * 0.8)
        return fn
    back = -_heading_vector(heading0)

    def fn(p, b, C):
        centre = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
        half = np.maximum(np.array([0.5 * (b[1] - b[0]) - inset, 0.5 * (b[3] - b[2]) - inset]), 0.05)
        scale = min(half[0] / abs(back[0]) if abs(back[0]) > 1e-9 else math.inf,
                    half[1] / abs(back[1]) if abs(back[1]) > 1e-9 else math.inf)
        return centre + back * scale
    return fn


# ============================================================================================== the solve


def _place(parsed: _Parsed, room: _Room, camera_plan: _CameraPlan | None, heading0: float, warnings: list,
           camera_xz=None):
    """Plan, build and solve the placement problem (trying each corner object's two walls when there are few);
    returns (model, x, camera spot fn)."""
    specs = parsed.specs
    _plan(specs, room, warnings)
    index = {id(s): i for i, s in enumerate(specs)}
    if camera_xz is not None:
        camera_fn = (lambda p, b, C: np.asarray(camera_xz, dtype=float))
    else:
        camera_fn = _camera_function(camera_plan, heading0, index)
    centre_xz = (lambda p, b, C: np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])]))
    camera_deps = [camera_plan.position[1]] if camera_plan is not None and camera_plan.position is not None \
        and camera_plan.position[0] == "spec" else []
    obstacles = [(camera_fn, np.array([CAMERA_KEEP_OUT_M, CAMERA_KEEP_OUT_M]), 0.0, 1.8, False, camera_deps)]
    for spec in specs:
        if spec.prior.category == "door" and spec.mode in ("wall", "fixed"):
            j = index[id(spec)]
            wall = _wall_of(spec)
            if wall is None:
                continue
            info = _WALL[wall]
            step = np.zeros(2)
            step[1 - info.tangent] = info.inward * (0.5 * DOOR_SWING_M + 0.5 * OPENING_DEPTH_M)
            half = np.zeros(2)
            half[info.tangent] = 0.5 * float(spec.size[0])
            half[1 - info.tangent] = 0.5 * DOOR_SWING_M
            obstacles.append((lambda p, b, C, j=j, step=step: C[j] + step, half, 0.0, 2.0, False, [spec]))
    corner_specs = [s for s in specs if s.mode == "wall" and len(s.corner_choices) > 1]
    options = list(itertools.product(*[s.corner_choices for s in corner_specs]))
    if len(options) > _MAX_COMBINATIONS:
        # too many: each corner object takes the wall along which it is longer than the other is deep
        options = [tuple(max(s.corner_choices, key=lambda c: _wall_length(room, c[0])) for s in corner_specs)]
    best = None
    deadline = time.monotonic() + TIME_BUDGET_S
    for option in options:
        if best is not None and time.monotonic() > deadline:
            warnings.append("layout: the placement's time budget ran out; the best arrangement found is used")
            break
        for spec, (wall, other) in zip(corner_specs, option):
            spec.wall, spec.corner_other = wall, other
            spec.yaw = _WALL[wall].yaw
        for spec in specs:
            if spec.mode == "on" and spec.support is not None:
                spec.yaw = spec.support.yaw
        _targets(specs, camera_fn, centre_xz, room.bounds0)
        model = _Model(specs, room, camera_fn, obstacles)
        x0 = _initial(model, specs)
        x, cost = model.solve(x0, deadline)
        # objects that face another: turn them towards it and solve again
        if any(s.mode == "free" and s.facing is not None and s.facing[0] in ("spec", "camera") for s in specs):
            b = model.bounds(x)
            C = model.centres(x, b)
            for i, spec in enumerate(specs):
                if spec.mode == "free" and spec.facing is not None and spec.facing[0] in ("spec", "camera"):
                    goal = C[index[id(spec.facing[1])]] if spec.facing[0] == "spec" else camera_fn(x, b, C)
                    if np.linalg.norm(goal - C[i]) > 1e-6:
                        spec.yaw = _yaw_towards(goal - C[i])
            for spec in specs:
                if spec.mode == "on" and spec.support is not None:
                    spec.yaw = spec.support.yaw
            model = _Model(specs, room, camera_fn, obstacles)
            x, cost = model.solve(x, deadline)
        if best is None or cost < best[2] - 1e-9:
            best = (option, model, cost, x, [(s.yaw, s.side_sign) for s in specs])
    option, model, cost, x, state = best
    for spec, (wall, other) in zip(corner_specs, option):
        spec.wall, spec.corner_other = wall, other
    for spec, (yaw, side) in zip(specs, state):
        spec.yaw, spec.side_sign = yaw, side
    _targets(specs, camera_fn, centre_xz, room.bounds0)  # the residuals of the option kept (for the report)
    for spec, (yaw, side) in zip(specs, state):
        spec.yaw, spec.side_sign = yaw, side
    return model, x, camera_fn


def _report(model: _Model, x, warnings: list) -> None:
    """Warnings for what the solution could not keep: stated distances, overlaps, objects outside the room."""
    b = model.bounds(x)
    C = model.centres(x, b)
    specs = model.specs
    index = {id(s): i for i, s in enumerate(specs)}
    for i, spec in enumerate(specs):
        for other, metres in spec.distances:
            got = float(np.linalg.norm(C[i] - C[index[id(other)]]))
            if abs(got - metres) > DISTANCE_TOLERANCE_M:
                warnings.append(f"layout: {spec.label} is {got:.2f} m from {other.label}, not the {metres:.2f} m "
                                "stated: the room or the other constraints do not allow it")
    for i, j in zip(model.pair_i, model.pair_j):
        d = np.abs(C[i] - C[j])
        overlap = model.half[i] + model.half[j] - d
        if overlap.min() > 0.02:
            warnings.append(f"layout: {specs[i].label} and {specs[j].label} overlap by {overlap.min():.2f} m: "
                            "they do not fit the room as described")
    for i, spec in enumerate(specs):
        if not model.movable[i]:
            continue
        lo, hi = C[i] - model.half[i], C[i] + model.half[i]
        beyond = np.concatenate([b[[0, 2]] - lo, hi - b[[1, 3]]])
        out = float(np.max(beyond[model.inside_mask[i]])) if model.inside_mask[i].any() else 0.0
        if out > 0.02:
            warnings.append(f"layout: {spec.label} reaches {out:.2f} m beyond the room's walls: the room is too "
                            "small for what the layout lists")


# ============================================================================================== public API


def layout_scene(layout: dict, camera: CameraEstimate | None = None) -> LayoutResult:
    """A metric scene from a room-layout answer (see the module docstring for the conventions).

    ``layout`` is the model's JSON answer (``{"room_type": .., "layout": {..}, "spatial_inference": ..}``) or
    just its inner ``layout`` object. ``camera`` (optional) gives the camera height, pitch and roll, and, when it
    knows the room's heading (``room_yaw_source`` not ``assumed_facing_camera``: the photo's vanishing points, or
    given), the text's heading is aligned to ``camera.room_yaw_rad`` modulo 90 degrees. Never raises for a JSON
    value; everything not understood is in ``warnings``.
    """
    parsed = _parse(layout)
    warnings = parsed.warnings
    height = float(camera.height_m) if camera is not None else DEFAULT_CAMERA_HEIGHT_M
    pitch = float(camera.pitch_rad) if camera is not None else 0.0
    roll = float(camera.roll_rad) if camera is not None else 0.0

    camera_plan = _camera_plan(parsed.camera_text, parsed.specs, warnings)
    text_heading = camera_plan.heading[1] if camera_plan.heading and camera_plan.heading[0] == "compass" else 0.0
    _resolve(parsed, text_heading, warnings)
    if not parsed.specs:
        warnings.append("layout: the answer names no objects; only the room is built")

    size = parsed.room_size or parsed.default_size
    room = _Room(np.array([-0.5 * size[0], 0.5 * size[0], -0.5 * size[1], 0.5 * size[1]]),
                 free_size=parsed.room_size is None, prior_size=size, ceiling=parsed.ceiling)
    model, x, camera_fn = _place(parsed, room, camera_plan, text_heading, warnings)
    tallest = max((s.top for s in parsed.specs), default=0.0)
    _report(model, x, warnings)
    b = model.bounds(x)
    C = model.centres(x, b)
    width, depth = float(b[1] - b[0]), float(b[3] - b[2])
    if room.free_size and (abs(math.log(width / size[0])) > 0.1 or abs(math.log(depth / size[1])) > 0.1):
        warnings.append(f"layout: the room's size is not stated; {width:.2f} x {depth:.2f} m (east-west x "
                        f"north-south) keeps the objects and distances the layout gives (typical "
                        f"{parsed.room_type or 'room'}: {size[0]:.1f} x {size[1]:.1f} m)")
    camera_xz = camera_fn(x, b, C)
    index = {id(s): i for i, s in enumerate(parsed.specs)}
    if camera_plan.heading is not None and camera_plan.heading[0] == "spec":
        heading = _heading_from_vector(C[index[id(camera_plan.heading[1])]] - camera_xz)
    elif camera_plan.heading is not None and camera_plan.heading[0] == "compass":
        heading = camera_plan.heading[1]
    elif camera_plan.position is not None or camera_plan.heading is not None:
        centre = np.array([0.5 * (b[0] + b[1]), 0.5 * (b[2] + b[3])])
        heading = _heading_from_vector(centre - camera_xz) if np.linalg.norm(centre - camera_xz) > 1e-6 else 0.0
    else:
        heading = 0.0
    if camera is not None and camera.room_yaw_source != "assumed_facing_camera":
        snapped = _snap_heading(heading, camera.room_yaw_rad)
        if abs(frames.wrap_angle(snapped - heading)) > math.radians(22.5):
            warnings.append(f"layout: the photo's walls turn the camera's heading by "
                            f"{math.degrees(frames.wrap_angle(snapped - heading)):+.0f} degrees from the text's")
        heading = snapped
    ceiling = max(parsed.ceiling, tallest + 0.02)
    objects = _objects_in_world(parsed.specs, C, camera_xz, heading)
    room_shell_ = _room_in_world(b, ceiling, camera_xz, heading)
    pose = frames.world_from_camera_from_attitude(pitch, roll, height)
    return LayoutResult(
        objects=tuple(objects), room=room_shell_, camera_pose=pose, warnings=tuple(dict.fromkeys(warnings)),
        room_type=parsed.room_type, room_size_m=(width, depth), heading_rad=float(frames.wrap_angle(heading)),
        camera_room_m=(float(camera_xz[0] - 0.5 * (b[0] + b[1])), float(camera_xz[1] - 0.5 * (b[2] + b[3]))),
        wall_names=_wall_names(heading), room_yaw_rad=_room_yaw(heading))


def _snap_heading(heading: float, room_yaw_rad: float) -> float:
    """The heading nearest ``heading`` that makes the room's world yaw (-heading) agree with the photo's
    ``room_yaw_rad`` modulo 90 degrees."""
    base = -room_yaw_rad
    k = round((heading - base) / (0.5 * math.pi))
    return base + k * 0.5 * math.pi


def _room_yaw(heading: float) -> float:
    """The room's yaw in the world (-heading), wrapped to [-pi/4, pi/4) like ``CameraEstimate.room_yaw_rad``."""
    return (-heading + 0.25 * math.pi) % (0.5 * math.pi) - 0.25 * math.pi


def _wall_names(heading: float) -> dict:
    far = _wall_towards(heading)
    order = ["north", "west", "south", "east"]  # counter-clockwise seen from above: each is left of the previous
    k = order.index(far)
    return {far: "wall_back", order[(k + 1) % 4]: "wall_left", order[(k + 2) % 4]: "wall_front",
            order[(k + 3) % 4]: "wall_right"}


def _to_world(heading: float, camera_xz) -> tuple[np.ndarray, np.ndarray]:
    rotation = frames.rot_y(-heading)
    origin = np.array([camera_xz[0], 0.0, camera_xz[1]])
    return rotation, origin


def _objects_in_world(specs: list[_Spec], C: np.ndarray, camera_xz, heading: float) -> list[ObjectBox]:
    rotation, origin = _to_world(heading, camera_xz)
    out = []
    for i, spec in enumerate(specs):
        if spec.mode == "fixed":
            continue
        size = np.array(spec.size, dtype=float)
        if spec.is_opening:
            size[2] = OPENING_DEPTH_M
        centre_room = np.array([C[i, 0], spec.y0 + 0.5 * size[1], C[i, 1]])
        centre = rotation @ (centre_room - origin)
        notes = ["placed from the room-layout text", *spec.notes]
        if spec.mode == "wall":
            notes.append(f"back to the {spec.wall} wall" + (f", in the {spec.wall}/{spec.corner_other} corner"
                                                            if spec.corner_other in WALLS else ""))
        if spec.mode == "on" and spec.support is not None:
            notes.append(f"stands on {spec.support.label}")
        out.append(ObjectBox(
            label=spec.label, category=spec.prior.category, detection_index=spec.detection_index,
            center_m=tuple(float(v) for v in centre), size_m=tuple(float(v) for v in size),
            yaw_rad=float(frames.wrap_angle(spec.yaw - heading)), confidence=None,
            size_source=spec.size_source, notes=tuple(notes)))
    return out


def _room_in_world(b, ceiling: float, camera_xz, heading: float) -> RoomShell:
    rotation, origin = _to_world(heading, camera_xz)
    x0, x1, z0, z1 = (float(v) for v in b)

    def world(x, y, z):
        return tuple(float(v) for v in rotation @ (np.array([x, y, z]) - origin))

    corners = {"sw": (x0, z1), "se": (x1, z1), "ne": (x1, z0), "nw": (x0, z0)}
    # counter-clockwise seen from above (CONVENTIONS.md): SW, SE, NE, NW in the room frame
    floor = tuple((p[0], p[2]) for p in (world(x, 0.0, z) for x, z in corners.values()))
    # each wall's floor-left and floor-right corners as seen from inside, facing it
    ends = {"north": ("nw", "ne"), "east": ("ne", "se"), "south": ("se", "sw"), "west": ("sw", "nw")}
    names = _wall_names(heading)
    walls = []
    for compass in ("north", "east", "south", "west"):
        left, right = (corners[k] for k in ends[compass])
        walls.append(Wall(names[compass], (world(left[0], 0.0, left[1]), world(right[0], 0.0, right[1]),
                                           world(right[0], ceiling, right[1]), world(left[0], ceiling, left[1]))))
    order = {"wall_back": 0, "wall_left": 1, "wall_right": 2, "wall_front": 3}
    walls.sort(key=lambda w: order[w.name])
    return RoomShell(floor_polygon_m=floor, ceiling_height_m=float(ceiling), walls=tuple(walls),
                     source="room-layout text: a rectangle along the compass walls")


# ============================================================================================== with 2D boxes


def solve_with_layout(grounding: Grounding, camera: CameraEstimate, room_yaw_rad: float | None = None,
                      refine_scale: bool = True) -> Scene:
    """:func:`solve.solve` for a grounding with a room-layout answer.

    Layout only (no detections): the layout scene (:func:`layout_scene`) with the photo's camera (its intrinsics,
    pitch, roll and height kept; its room heading set to the layout's).

    Layout and 2D boxes: the 2D solution stays the geometry; the layout adds (1) its size words and dimensions as
    the size prior of the detections it names (matched by category, in order), (2) "against X wall" / "X corner" as
    the wall those detections turn their back to, and (3) the objects it names that no detection covers, placed
    by the layout's words in the solved room (its compass aligned to the solved walls through the camera's heading
    in the text, moved to the nearest heading that agrees with the room's yaw).
    """
    from .solve import solve_boxes

    layout = grounding.layout
    if not grounding.detections:
        if room_yaw_rad is not None:
            camera = dataclasses.replace(camera, room_yaw_rad=float(room_yaw_rad), room_yaw_source="given")
        result = layout_scene(layout, camera)
        scene_camera = dataclasses.replace(
            camera, world_from_camera=result.camera_pose, room_yaw_rad=result.room_yaw_rad,
            room_yaw_source="layout" if camera.room_yaw_source == "assumed_facing_camera"
            else f"layout+{camera.room_yaw_source}")
        return Scene(camera=scene_camera, room=result.room, objects=result.objects, warnings=result.warnings)

    parsed = _parse(layout)
    warnings = parsed.warnings
    room_yaw = camera.room_yaw_rad if room_yaw_rad is None else room_yaw_rad
    camera_plan = _camera_plan(parsed.camera_text, parsed.specs, warnings)
    text_heading = camera_plan.heading[1] if camera_plan.heading and camera_plan.heading[0] == "compass" else 0.0
    heading = _snap_heading(text_heading, room_yaw)
    _resolve(parsed, heading, warnings)

    # match layout objects to detections by category, in order
    matched: dict[int, _Spec] = {}
    free_detections = list(grounding.detections)
    for spec in parsed.specs:
        if spec.is_opening:
            continue
        category = spec.prior.category
        for detection in free_detections:
            d_category = priors.lookup(detection.label).category
            if (category != priors.UNKNOWN and d_category == category) or _words(detection.label) == spec.label:
                matched[detection.detection_index] = spec
                free_detections.remove(detection)
                break
    size_priors, wall_normals = {}, {}
    to_world = frames.rot_y(-heading)
    for index, spec in matched.items():
        if spec.size_source.startswith("layout"):
            spread = size_words()["named_spread"] if spec.size_source != "layout_scaled_prior" else spec.prior.spread
            size_priors[index] = dataclasses.replace(spec.prior, size_m=tuple(float(v) for v in spec.size),
                                                     spread=float(spread), spread_whd=None)
        walls = []
        if spec.anchor is not None and spec.anchor[0] == "wall" and spec.anchor[1] is not None:
            walls = [spec.anchor[1]]
        elif spec.anchor is not None and spec.anchor[0] == "corner" and spec.anchor[1] is not None:
            walls = [spec.anchor[2]] if len(spec.anchor) == 3 else list(spec.anchor[1])
        if walls:
            normals = []
            for wall in walls:
                info = _WALL[wall]
                out_room = np.zeros(3)
                out_room[0 if info.tangent == 1 else 2] = -info.inward
                normals.append(to_world @ out_room)
            wall_normals[index] = (tuple(normals), walls)
    scene = solve_boxes(grounding, camera, room_yaw_rad, refine_scale, size_priors=size_priors,
                        wall_normals={k: v[0] for k, v in wall_normals.items()})
    objects = []
    for obj in scene.objects:
        notes = list(obj.notes)
        spec = matched.get(obj.detection_index)
        if spec is not None:
            if obj.detection_index in size_priors:
                obj = dataclasses.replace(obj, size_source="2d_box+layout_size")
                notes.append(f"size prior from the layout ({spec.size_source.replace('layout_', '')})")
            if obj.detection_index in wall_normals:
                notes = [n for n in notes if n != "back to a wall"]
                notes.append(f"back to the {'/'.join(wall_normals[obj.detection_index][1])} wall (layout)")
        objects.append(dataclasses.replace(obj, notes=tuple(notes)))

    # objects the layout names that no detection covers
    room = scene.room
    if any(all(s is not m for m in matched.values()) for s in parsed.specs):
        added, room = _add_missing(parsed, matched, scene, heading, warnings)
        objects.extend(added)
    return Scene(camera=scene.camera, room=room, objects=tuple(objects),
                 warnings=tuple(dict.fromkeys([*scene.warnings, *warnings])))


def _add_missing(parsed: _Parsed, matched: dict, scene: Scene, heading: float,
                 warnings: list) -> tuple[list[ObjectBox], RoomShell]:
    """Place the layout objects no detection covers in the solved room (room frame: compass axes, origin at the
    camera), with the solved objects fixed; returns them and the room, its walls moved out where they had to."""
    to_room = frames.rot_y(heading)
    polygon = np.array([to_room @ np.array([x, 0.0, z]) for x, z in scene.room.floor_polygon_m])
    bounds = np.array([polygon[:, 0].min(), polygon[:, 0].max(), polygon[:, 2].min(), polygon[:, 2].max()])
    # the solver's walls stand just beyond what it saw: each may move out to make room, the one behind the camera
    # (a guess) most easily
    back = -_heading_vector(heading)
    behind = (1 if back[0] > 0 else 0) if abs(back[0]) > abs(back[1]) else (3 if back[1] > 0 else 2)
    grow = tuple((side, BEHIND_WALL_SPREAD_M if side == behind else SEEN_WALL_SPREAD_M) for side in range(4))
    room = _Room(bounds, free_size=False, prior_size=(float(bounds[1] - bounds[0]), float(bounds[3] - bounds[2])),
                 grow=grow, ceiling=scene.room.ceiling_height_m or 2.6)
    by_index = {obj.detection_index: obj for obj in scene.objects}
    for detection_index, spec in matched.items():
        obj = by_index.get(detection_index)
        if obj is None:
            continue
        centre = to_room @ np.array(obj.center_m)
        spec.mode = "fixed"
        spec.fixed_xz = centre[[0, 2]]
        spec.yaw = float(frames.wrap_angle(obj.yaw_rad + heading))
        spec.size = np.array(obj.size_m, dtype=float)
        spec.y0 = float(obj.center_m[1] - 0.5 * obj.size_m[1])
        spec.relations, spec.distances = [], []
        back_dir = -_front(spec.yaw)
        for wall, info in _WALL.items():
            out = np.zeros(2)
            out[1 - info.tangent] = -info.inward
            if back_dir @ out > 0.7:
                gap = abs(centre[[0, 2]][1 - info.tangent] - bounds[info.bound]) - 0.5 * spec.size[2]
                if gap < 0.3:
                    spec.fixed_wall = wall
    # other solved objects are obstacles: add them as fixed specs
    for obj in scene.objects:
        if obj.detection_index in matched:
            continue
        centre = to_room @ np.array(obj.center_m)
        prior = priors.lookup(obj.label)
        spec = _Spec(-1, obj.label, obj.label, prior, np.array(obj.size_m, dtype=float), obj.size_source, "furniture")
        spec.mode, spec.fixed_xz = "fixed", centre[[0, 2]]
        spec.yaw = float(frames.wrap_angle(obj.yaw_rad + heading))
        spec.y0 = float(obj.center_m[1] - 0.5 * obj.size_m[1])
        parsed.specs.append(spec)
    model, x, _ = _place(parsed, room, None, heading, warnings, camera_xz=np.zeros(2))
    _report(model, x, warnings)
    b = model.bounds(x)
    C = model.centres(x, b)
    added = _objects_in_world(parsed.specs, C, np.zeros(2), heading)
    for obj in added:
        warnings.append(f"layout: {obj.label} is not among the 2D boxes; placed from the layout's words")
    if np.allclose(b, bounds, atol=1e-4):
        return added, scene.room
    shell = _room_in_world(b, scene.room.ceiling_height_m or 2.6, np.zeros(2), heading)
    walls = tuple(w for w in shell.walls if w.name != "wall_front")  # open behind the camera, as solved rooms are
    return added, dataclasses.replace(shell, walls=walls, source=f"{scene.room.source}; walls moved out for the "
                                      "objects of the room-layout text")
