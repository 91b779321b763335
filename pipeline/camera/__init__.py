"""Stage 3, the camera: intrinsics, gravity (pitch, roll), the room's heading and ``world_from_camera``.

One job per module:

* :mod:`.intrinsics`: focal lengths from EXIF-style numbers and fields of view, and what is plausible;
* :mod:`.vanishing`: the photo's straight lines -> Manhattan directions (vanishing points), a focal;
* :mod:`.estimate`: :func:`estimate_camera`, which chains the sources and says where each number came from.
"""

from .estimate import estimate_camera
from .intrinsics import (
                         DEFAULT_CAMERA_HEIGHT_M,
                         DEFAULT_FOCAL_35MM_MM,
                         PLAUSIBLE_HFOV_DEG,
                         focal_px_from_35mm,
                         focal_px_from_fov,
                         plausible_focal,
)

__all__ = [
                         "DEFAULT_CAMERA_HEIGHT_M",
                         "DEFAULT_FOCAL_35MM_MM",
                         "PLAUSIBLE_HFOV_DEG",
                         "estimate_camera",
                         "focal_px_from_35mm",
                         "focal_px_from_fov",
                         "plausible_focal",
]
