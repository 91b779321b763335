"""Occlusion from the 2D layout: which objects' bottom edges are hidden behind a nearer object, so that they are
no floor contacts.

Of two floor-standing objects, the one whose 2D box reaches lower in the photo stands nearer (its floor contact is
closer to the camera). When the bottom edge of object A lies on the top edge of such a nearer object B's 2D box, or
just below it (:data:`TOP_BAND`: where B's top silhouette is, and where a detector's box of what it sees of A ends),
and B spans nearly all of A's width (:data:`MIN_COVER`), A's bottom edge is where B starts hiding it: a nightstand
seen over a bed, a chest behind a bed, a chair behind a table. Cast onto the floor, such an edge would throw A
metres away; it is treated like a side cut by the photo's border, and A is placed by what is seen (its top, its
sides, its size prior; with a metric depth map, its own points: :mod:`.depth_fit`), just behind B.

Likewise a left or right side of A's 2D box where something nearer starts hiding A: A may reach on behind it, as it
may out of the photo where the border cuts its box. Only a metric depth map says so (where the side is an occluding
edge, :func:`.depth_fit.occluded_sides`): from the 2D layout alone (a nearer box whose edge meets A's side, nearer
by a first fit), the rule made realdev's photo-alone boxes worse (mean IoU 0.166 -> 0.149): a side that only looks
hidden lets the size prior widen the box.
"""

from __future__ import annotations

import numpy as np

#: The note of an object whose bottom edge is hidden behind a nearer one, followed by that one's label; and of an
#: object whose 2D box shows no floor contact at all. Neither side is a contact in any fit, and neither object
#: sets the scene's scale.
HIDDEN_NOTE = "its bottom is hidden behind"
UNPLACED_NOTE = "no floor contact seen: placed by its typical size"


#: The sides of a 2D box (by index in x1, y1, x2, y2) that may be hidden behind a nearer object, as its notes name
#: them (:func:`side_note`: ``its left side is hidden behind`` and the occluder).
SIDE_NAMES = {0: "left", 2: "right"}


def side_note(side: int, occluder: str) -> str:
    """The note of an object whose ``side`` (0: left, 2: right) is hidden behind ``occluder``."""
    return f"its {SIDE_NAMES[side]} side is hidden behind {occluder}"


def open_sides(notes) -> np.ndarray:
    """(4,) bool: which sides (x1, y1, x2, y2) of an object's 2D box its notes say are hidden behind something
    nearer (the object may reach on behind it)."""
    return np.array([any(note.startswith(f"its {SIDE_NAMES[side]} side is hidden behind") for note in notes)
                     if side in SIDE_NAMES else False for side in range(4)])


def bottom_is_free(notes) -> bool:
    """Whether an object's notes say its 2D box's bottom edge is no floor contact."""
    return any(note == UNPLACED_NOTE or note.startswith(HIDDEN_NOTE) for note in notes)


#: B's bottom must be lower than A's, and A's bottom inside B's box, by this fraction of the photo's height.
MARGIN_FRACTION = 0.02
#: B must span at least this fraction of A's width.
MIN_COVER = 0.9
#: ... and A's bottom edge must lie in the top part of B's box (this fraction of its height): where B's top
#: silhouette is. An object whose bottom lies lower in B's box stands beside B, seen in front of its far part (a
#: nightstand at a bed's head seen past the bed's front corner), and its bottom edge is its floor contact.
TOP_BAND = 0.3


def hidden_bottoms(boxes_xyxy_px: list, standing: list[bool], height_px: int) -> dict[int, int]:
    """``{i: j}``: object i's bottom edge is hidden by object j (module docstring). ``standing[k]``: object k
    stands on the floor (hung objects and those on furniture neither hide nor are hidden by this rule)."""
    margin = MARGIN_FRACTION * height_px
    hidden: dict[int, int] = {}
    for i, (ax1, _, ax2, ay2) in enumerate(boxes_xyxy_px):
        if not standing[i] or ax2 <= ax1:
            continue
        best = None
        for j, (bx1, by1, bx2, by2) in enumerate(boxes_xyxy_px):
            if j == i or not standing[j]:
                continue
            cover = (min(ax2, bx2) - max(ax1, bx1)) / (ax2 - ax1)
            top_band = by1 + TOP_BAND * (by2 - by1)
            if by2 > ay2 + margin and by1 - margin < ay2 < top_band and cover >= MIN_COVER \
                    and (best is None or by2 > boxes_xyxy_px[best][3]):
                best = j
        if best is not None:
            hidden[i] = best
    return hidden
