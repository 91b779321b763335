"""A person's corrections inside the solve (``room3d build --edits``, :mod:`pipeline.edits`): what stands on a
box the user moved goes along, and the objects the user added stand for no detection."""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import frames
from ..records import CameraEstimate, Detection, ObjectBox
from .fit import BoxFit

#: Note of an object standing on one a person moved: it went along, and stays there.
CARRIED_NOTE = "moved with what it stands on (edits)"


def carried_along(fit: BoxFit, was: ObjectBox, now: ObjectBox) -> BoxFit:
    """An object standing on ``was`` (a supporter as the photo shows it) carried to stand on ``now`` (where the
    user put the supporter): the same place on its top, in proportion to its size and within its footprint,
    turned with it."""
    local = frames.rot_y(-was.yaw_rad) @ (fit.center_m - np.array(was.center_m))
    half_now, half_was = 0.5 * np.array(now.size_m), 0.5 * np.array(was.size_m)
    local[[0, 2]] = np.clip(local[[0, 2]] * half_now[[0, 2]] / half_was[[0, 2]], -half_now[[0, 2]],
                            half_now[[0, 2]])
    center = np.array(now.center_m) + frames.rot_y(now.yaw_rad) @ local
    center[1] = now.center_m[1] + half_now[1] + 0.5 * fit.size_m[1]
    return BoxFit(center, fit.size_m.copy(), frames.wrap_angle(fit.yaw_rad + now.yaw_rad - was.yaw_rad), fit.cost)


def covers_bottom(box: ObjectBox, detection: Detection, camera: CameraEstimate) -> bool:
    """Whether a box (where the user put it) covers, in the photo, the middle of a detection's bottom edge: what it
    must do to hide that detection's floor contact. A box partly behind the camera covers it (it fills the view)."""
    uv, z = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, box.corners_m)
    if (z <= 0.05).any():
        return True
    x1, _, x2, y2 = detection.box_xyxy_px
    u, v = 0.5 * (x1 + x2), y2
    return bool(uv[:, 0].min() <= u <= uv[:, 0].max() and uv[:, 1].min() <= v <= uv[:, 1].max())


def added_unindexed(objects) -> tuple[ObjectBox, ...]:
    """Objects added by the user (indexed from ``edits.ADDED_INDEX_BASE`` while solved) with detection index -1,
    as the page writes them: they stand for no detection."""
    from ..edits import ADDED_INDEX_BASE

    return tuple(dataclasses.replace(o, detection_index=-1) if o.detection_index >= ADDED_INDEX_BASE else o
                 for o in objects)
