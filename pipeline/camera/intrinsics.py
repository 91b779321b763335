"""Focal lengths from what a photo says of its lens: 35 mm equivalents, fields of view, plausibility.

Pure arithmetic (no numpy): every camera module and the depth stage import it without cycles.
"""

from __future__ import annotations

import math

#: Diagonal of a 35 mm film frame (36 x 24 mm), in mm. 35 mm-equivalent focal lengths are defined on it.
FILM_35MM_DIAGONAL_MM = math.hypot(36.0, 24.0)
#: The default when nothing else is known: a phone's main camera is about 24-28 mm equivalent (~65-75 deg
#: horizontal field of view for a 4:3 photo); 26 mm is the middle of that range.
DEFAULT_FOCAL_35MM_MM = 26.0
#: Hand-held photos are taken from about 1.3-1.6 m; real-estate tripods stand at 1.2-1.5 m.
DEFAULT_CAMERA_HEIGHT_M = 1.4
#: EXIF focal lengths giving a horizontal field of view outside this range are not believed.
PLAUSIBLE_HFOV_DEG = (8.0, 130.0)

def focal_px_from_35mm(focal_35mm_mm: float, width_px: int, height_px: int) -> float:
    """Focal length in pixels from a 35 mm-equivalent focal length, on the diagonal (robust to aspect ratio):
    ``f_px = f35 / 43.27 mm * diagonal_px``."""
    return focal_35mm_mm / FILM_35MM_DIAGONAL_MM * math.hypot(width_px, height_px)


def focal_px_from_fov(horizontal_fov_deg: float, width_px: int) -> float:
    """Focal length in pixels from the photo's horizontal field of view."""
    return 0.5 * width_px / math.tan(0.5 * math.radians(horizontal_fov_deg))


def plausible_focal(focal_px: float | None, width_px: int) -> bool:
    """A finite positive focal whose horizontal field of view lies in :data:`PLAUSIBLE_HFOV_DEG`."""
    if focal_px is None or not math.isfinite(focal_px) or focal_px <= 0:
        return False
    hfov = math.degrees(2.0 * math.atan(0.5 * width_px / focal_px))
    return PLAUSIBLE_HFOV_DEG[0] <= hfov <= PLAUSIBLE_HFOV_DEG[1]
