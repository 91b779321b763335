"""Stage 3: the camera estimate: intrinsics and ``world_from_camera``.

Intrinsics, first that applies: the user's ``focal_px`` or ``fov_deg`` > EXIF ``FocalLengthIn35mmFilm`` > a stated
default (a phone's main camera). Attitude: this version assumes a level camera (pitch = roll = 0) unless the user
gives them; the camera height comes from the user or a hand-held prior.
"""

from __future__ import annotations

import math

from . import frames
from .errors import UserError
from .records import CameraEstimate, Intrinsics, Photo

#: Diagonal of a 35 mm film frame (36 x 24 mm), in mm. 35 mm-equivalent focal lengths are defined on it.
FILM_35MM_DIAGONAL_MM = math.hypot(36.0, 24.0)
#: The default when nothing else is known: a phone's main camera is about 24-28 mm equivalent (~65-75 deg
#: horizontal field of view for a 4:3 photo); 26 mm is the middle of that range.
DEFAULT_FOCAL_35MM_MM = 26.0
#: Hand-held photos are taken from about 1.3-1.6 m; real-estate tripods stand at 1.2-1.5 m.
DEFAULT_CAMERA_HEIGHT_M = 1.4


def focal_px_from_35mm(focal_35mm_mm: float, width_px: int, height_px: int) -> float:
    """Focal length in pixels from a 35 mm-equivalent focal length, on the diagonal (robust to aspect ratio):
    ``f_px = f35 / 43.27 mm * diagonal_px``."""
    return focal_35mm_mm / FILM_35MM_DIAGONAL_MM * math.hypot(width_px, height_px)


def focal_px_from_fov(horizontal_fov_deg: float, width_px: int) -> float:
    """Focal length in pixels from the photo's horizontal field of view."""
    return 0.5 * width_px / math.tan(0.5 * math.radians(horizontal_fov_deg))


def estimate_camera(
    photo: Photo,
    focal_px: float | None = None,
    fov_deg: float | None = None,
    camera_height_m: float | None = None,
    pitch_deg: float | None = None,
    roll_deg: float | None = None,
) -> CameraEstimate:
    """The camera of ``photo``: intrinsics with their source, and a gravity-aligned ``world_from_camera``."""
    width, height = photo.width_px, photo.height_px
    notes = []
    if focal_px is not None and fov_deg is not None:
        raise UserError("give either --focal-px or --fov-deg, not both")
    if focal_px is not None:
        if not (math.isfinite(focal_px) and 0.05 * width <= focal_px <= 50.0 * width):
            raise UserError(f"--focal-px {focal_px} is not plausible for a photo {width} pixels wide")
        focal, source = float(focal_px), "user"
    elif fov_deg is not None:
        if not (math.isfinite(fov_deg) and 1.0 <= fov_deg <= 170.0):
            raise UserError(f"--fov-deg {fov_deg} must be a horizontal field of view between 1 and 170 degrees")
        focal, source = focal_px_from_fov(fov_deg, width), "user"
    elif photo.focal_35mm_mm is not None:
        focal, source = focal_px_from_35mm(photo.focal_35mm_mm, width, height), "exif"
        notes.append(f"EXIF FocalLengthIn35mmFilm = {photo.focal_35mm_mm:g} mm")
    else:
        focal, source = focal_px_from_35mm(DEFAULT_FOCAL_35MM_MM, width, height), "default"
        notes.append(f"no focal length known: assumed a {DEFAULT_FOCAL_35MM_MM:g} mm-equivalent phone camera")
    intrinsics = Intrinsics.from_focal(focal, width, height)

    if camera_height_m is not None and not (math.isfinite(camera_height_m) and 0.1 <= camera_height_m <= 10.0):
        raise UserError(f"--camera-height {camera_height_m} m is not plausible (0.1 to 10 m)")
    height_m = DEFAULT_CAMERA_HEIGHT_M if camera_height_m is None else float(camera_height_m)
    height_source = "prior" if camera_height_m is None else "user"
    pitch = math.radians(pitch_deg) if pitch_deg is not None else 0.0
    roll = math.radians(roll_deg) if roll_deg is not None else 0.0
    for name, value in (("pitch", pitch), ("roll", roll)):
        if not (math.isfinite(value) and abs(value) < math.radians(80.0)):
            raise UserError(f"--{name}-deg must be within +-80 degrees")
    attitude_source = "user" if (pitch_deg is not None or roll_deg is not None) else "assumed_level"
    return CameraEstimate(
        intrinsics=intrinsics,
        intrinsics_source=source,
        world_from_camera=frames.world_from_camera_from_attitude(pitch, roll, height_m),
        pitch_rad=pitch,
        roll_rad=roll,
        height_m=height_m,
        attitude_source=attitude_source,
        height_source=height_source,
        notes=tuple(notes),
    )
