"""Typical sizes of indoor objects, read from ``data/size_priors.json`` (data, not code; sources listed there)."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

_DATA = Path(__file__).parent / "data" / "size_priors.json"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class SizePrior:
    """size_m : (3,) typical full extents (width, height, depth) in metres; spread : relative std dev of an extent;
    spread_whd : (3,) relative std dev of width, height and depth each, or None (then ``spread`` for all three);
    the other fields as ``size_priors.json``'s ``_about`` describes them (``may_hang``: a floor-standing kind that
    may also be found off the floor, on a wall: cabinets, shelves)."""

    category: str
    size_m: tuple[float, float, float]
    spread: float
    support: str
    against_wall: bool
    holds_objects: bool = False
    spread_whd: tuple[float, float, float] | None = None
    open_below: bool = False
    tucks_under: bool = False
    elevation_m: float = 0.0
    may_hang: bool = False

    @property
    def spreads(self) -> tuple[float, float, float]:
        """Relative std dev of (width, height, depth)."""
        return self.spread_whd if self.spread_whd is not None else (self.spread,) * 3


@functools.lru_cache(maxsize=1)
def _table() -> tuple[dict[str, SizePrior], dict[str, str], SizePrior]:
    data = json.loads(_DATA.read_text(encoding="utf-8"))
    priors, names = {}, {}
    for category, entry in data["categories"].items():
        whd = entry.get("spread_whd")
        priors[category] = SizePrior(category, tuple(entry["size_m"]), entry["spread"], entry["support"],
                                     entry["against_wall"], entry["holds_objects"],
                                     None if whd is None else tuple(float(v) for v in whd),
                                     entry.get("open_below", False), entry.get("tucks_under", False),
                                     float(entry.get("elevation_m", 0.0)), entry.get("may_hang", False))
        for name in [category, *entry["synonyms"]]:
            names[normalise(name)] = category
    fb = data["fallback"]
    fallback = SizePrior(UNKNOWN, tuple(fb["size_m"]), fb["spread"], fb["support"], fb["against_wall"],
                         fb["holds_objects"], may_hang=True)
    return priors, names, fallback


def normalise(label: str) -> str:
    """Lower case, markup and punctuation dropped, ``_``/``-`` as spaces: ``Night_Stand`` -> ``night stand``."""
    text = re.sub(r"<[^>]*>", " ", label.lower())
    text = re.sub(r"[_\-/]+", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def lookup(label: str) -> SizePrior:
    """The prior for a label: its head before a preposition first ("lamp on the nightstand" -> the lamp), then the
    exact name or synonym, a singular form, the longest known name the label ends with or contains ("wooden queen
    bed" -> bed), else the fallback (category ``unknown``)."""
    priors, names, fallback = _table()
    key = normalise(label)
    head = _HEAD.split(key, maxsplit=1)[0].strip()  # "lamp on the nightstand": the lamp
    if head and head != key:
        found = lookup(head)
        if found.category != UNKNOWN:
            return found
    for candidate in (key, _singular(key)):
        if candidate in names:
            return priors[names[candidate]]
    padded = (f" {key} ", f" {_singular(key)} ")
    matches = [name for name in names if any(f" {name} " in text for text in padded)]
    if matches:
        best = max(matches, key=lambda name: (any(t.endswith(f" {name} ") for t in padded), len(name)))
        return priors[names[best]]
    return fallback


#: Words after which a label names something else ("lamp on the nightstand", "chair next to the desk").
_HEAD = re.compile(r"\b(?:on|in|under|beside|next to|near|by|with|at|above|below|behind|against|inside|"
                   r"in front of|on top of|beneath|over)\b")


def categories() -> list[str]:
    return sorted(_table()[0])


def _singular(text: str) -> str:
    words = text.split()
    if not words:
        return text
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "sses", "xes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss") and len(last) > 3:
        last = last[:-1]
    return " ".join([*words[:-1], last])
