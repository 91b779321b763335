"""Corrections made by a person to a solved scene (``room3d build --edits edits.json``), read and checked.

The page saves ``edits.json`` (its *Edits* button); a script may write one too. Its form (version 1)::

    {"room3d": "edits", "version": 1,
     "photo_sha256": "...",                       # the photo the edits were made on (optional, checked)
     "camera": {...},                             # scene.json's "camera" block of the scene edited
     "objects": [
       {"detection_index": 3, "label": "bed", "center": [x, y, z], "size": [w, h, d], "yaw": 0.1},  # fixed
       {"detection_index": 5, "remove": true},                                                      # removed
       {"detection_index": 7, "label": "armchair"},                                # relabelled, solved again
       {"label": "plant", "center": [x, y, z], "size": [w, h, d], "yaw": 0.0}]}    # added (no detection)

Boxes are in the world frame of ``CONVENTIONS.md`` (the frame of the scene that was edited), so a file with
boxes must carry that scene's camera: the new solve uses it as it is (no camera estimate, no scale search), and the
user's boxes stay exactly where they were put. The other objects are solved again around them (see
:func:`pipeline.solve.solve`).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import frames, priors
from .errors import UserError
from .records import CameraEstimate, Detection, Grounding, Intrinsics, ObjectBox

#: Largest edits file read (bytes) and most entries in it.
MAX_EDITS_BYTES = 4_000_000
MAX_EDIT_ENTRIES = 2000
#: A user's box: each extent within these bounds (metres), its centre within this distance of the origin.
MIN_SIZE_M = 0.005
MAX_SIZE_M = 50.0
MAX_CENTER_M = 100.0
#: Note on an object the user fixed, and on one the user added.
FIXED_NOTE = "fixed where the user put it (edits)"
ADDED_NOTE = "added by the user (edits)"
#: Detection indices given to added objects while they are solved with the others (never written out: an added
#: object's ``detection_index`` is -1, as in the page's scene.json).
ADDED_INDEX_BASE = 1_000_000


@dataclass(frozen=True)
class UserBox:
    """An object's box as the user set it: world frame, metres; ``detection_index`` None for an added object."""

    label: str
    center_m: tuple[float, float, float]
    size_m: tuple[float, float, float]
    yaw_rad: float
    detection_index: int | None = None


@dataclass(frozen=True)
class Edits:
    """What ``edits.json`` asks: boxes to keep as given, detections to drop or to relabel, and the camera of the
    scene that was edited (scene.json's ``camera`` block, None when the file carries none)."""

    source: str
    boxes: tuple[UserBox, ...] = ()
    removed: frozenset[int] = frozenset()
    relabeled: tuple[tuple[int, str], ...] = ()
    camera: dict | None = None
    photo_sha256: str | None = None

    def summary(self) -> dict:
        """For scene.json's ``inputs.edits``: counts, and the removed and relabelled detections (the scene itself no
        longer shows them as edits, so that its page can carry them into the next edits file)."""
        return {"source": self.source,
                "fixed": sum(b.detection_index is not None for b in self.boxes),
                "added": sum(b.detection_index is None for b in self.boxes),
                "removed": len(self.removed), "relabeled": len(self.relabeled),
                "removed_detections": sorted(self.removed),
                "relabeled_detections": [[index, label] for index, label in self.relabeled],
                "camera": "from the edits" if self.camera is not None else "estimated"}


def read_edits(path: str | Path) -> Edits:
    """The edits of a file; UserError (one line) for a file that is not one."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_EDITS_BYTES:
            raise UserError(f"the edits file {path} is {size} bytes: at most {MAX_EDITS_BYTES} are read")
        data = json.loads(path.read_bytes().decode("utf-8-sig"), parse_constant=_refuse_constant)
    except OSError as error:
        raise UserError(f"cannot read the edits file {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise UserError(f"the edits file {path} is not JSON ({str(error).splitlines()[0][:120]})") from None
    return parse_edits(data, str(path))


def parse_edits(data, source: str = "edits") -> Edits:
    """:func:`read_edits` of a parsed JSON value."""
    if not isinstance(data, dict) or not isinstance(data.get("objects", []), list):
        raise UserError(f"{source}: edits are a JSON object with a list of \"objects\" (see pipeline/edits.py)")
    version = data.get("version", 1)
    if version != 1:
        raise UserError(f"{source}: edits version {str(version)[:20]} is not known (this room3d reads version 1)")
    entries = data.get("objects", [])
    if len(entries) > MAX_EDIT_ENTRIES:
        raise UserError(f"{source}: {len(entries)} edited objects: at most {MAX_EDIT_ENTRIES}")
    boxes, removed, relabeled, seen = [], set(), [], set()
    for k, entry in enumerate(entries):
        where = f"{source}: objects[{k}]"
        if not isinstance(entry, dict):
            raise UserError(f"{where} is not a JSON object")
        index = _index(entry.get("detection_index"), where)
        if index is not None:
            if index in seen:
                raise UserError(f"{where}: detection {index} is edited twice")
            seen.add(index)
        label = entry.get("label")
        if label is not None:
            from .grounding import clean_label

            if not isinstance(label, str):
                raise UserError(f"{where}: its label must be text")
            label = clean_label(label)
        if entry.get("remove") is True:
            if index is None:
                raise UserError(f"{where}: an object to remove needs its detection_index")
            removed.add(index)
        elif "center" in entry or "size" in entry:
            center = _vector(entry.get("center"), where, "center", -MAX_CENTER_M, MAX_CENTER_M)
            size = _vector(entry.get("size"), where, "size", MIN_SIZE_M, MAX_SIZE_M)
            yaw = _number(entry.get("yaw", 0.0), where, "yaw")
            if label is None:
                if index is None:
                    raise UserError(f"{where}: an added object needs a label")
                label = ""  # the detection's own, filled in when the grounding is read
            boxes.append(UserBox(label, center, size, frames.wrap_angle(yaw), index))
        elif label is not None and index is not None:
            relabeled.append((index, label))
        else:
            raise UserError(f"{where} says nothing to do: give a box (center, size, yaw), a label, or \"remove\"")
    camera = data.get("camera")
    if camera is not None:
        camera = _camera_block(camera, source)
    elif boxes:
        raise UserError(f"{source}: boxes are in the frame of the scene they were edited in, but the file has no "
                        "\"camera\" (copy scene.json's camera block, or save the edits from the page)")
    sha = data.get("photo_sha256")
    return Edits(source, tuple(boxes), frozenset(removed), tuple(relabeled), camera,
                 sha if isinstance(sha, str) else None)


def edited_camera(camera: CameraEstimate, edits: Edits) -> CameraEstimate:
    """The camera of the scene the edits were made on, for a photo of ``camera``'s size; ``camera`` itself when
    the edits carry none. Its sources stay those recorded, with a note."""
    block = edits.camera
    if block is None:
        return camera
    size = (camera.intrinsics.width_px, camera.intrinsics.height_px)
    if (block["width"], block["height"]) != size:
        raise UserError(f"{edits.source}: the edits were made on a {block['width']}x{block['height']} photo, this "
                        f"one is {size[0]}x{size[1]}")
    world_from_camera = np.array(block["world_from_camera"], dtype=float)
    attitude = frames.attitude_from_world_from_camera(world_from_camera)
    intrinsics = Intrinsics(block["fx"], block["fy"], block["cx"], block["cy"], size[0], size[1])
    return dataclasses.replace(
        camera, intrinsics=intrinsics, world_from_camera=world_from_camera, pitch_rad=attitude["pitch_rad"],
        roll_rad=attitude["roll_rad"], height_m=attitude["height_m"],
        intrinsics_source=str(block.get("intrinsics_source") or camera.intrinsics_source),
        attitude_source=str(block.get("attitude_source") or camera.attitude_source),
        height_source=str(block.get("height_source") or camera.height_source) + "+edits",
        room_yaw_rad=block.get("room_yaw_rad", camera.room_yaw_rad),
        notes=(*camera.notes, f"camera of the edited scene ({edits.source}), used as it is"))


def edited_grounding(grounding: Grounding, edits: Edits, camera: CameraEstimate,
                     warnings: list[str]) -> tuple[Grounding, dict[int, ObjectBox], list[ObjectBox]]:
    """The grounding with the removed detections dropped and the relabelled ones renamed, plus the user's boxes
    as :class:`ObjectBox`: ``fixed`` (detection index -> box) for those solved with the others (the detections
    fixed, and added objects the photo shows, each given a detection of its box's outline in the photo, indexed
    from :data:`ADDED_INDEX_BASE`), and ``unseen`` added objects (out of the photo: only added to the scene).
    Edits of a detection this grounding lacks are said in ``warnings``; a box of one is kept as added."""
    by_index = {d.detection_index: d for d in grounding.detections}
    for index in sorted(edits.removed | {i for i, _ in edits.relabeled}):
        if index not in by_index:
            warnings.append(f"edits: detection {index} is not in this grounding: its edit is skipped")
    labels = dict(edits.relabeled)
    detections = [dataclasses.replace(d, label=labels.get(d.detection_index, d.label))
                  for d in grounding.detections if d.detection_index not in edits.removed]
    fixed, unseen = {}, []
    next_index = ADDED_INDEX_BASE
    for box in edits.boxes:
        index = box.detection_index
        detection = by_index.get(index) if index is not None else None
        if index is not None and detection is None:
            warnings.append(f"edits: detection {index} is not in this grounding: its box is kept as an added object")
        label = box.label or (detection.label if detection is not None else "object")
        obj = ObjectBox(label=label, category=priors.lookup(label).category,
                        detection_index=index if detection is not None else -1, center_m=box.center_m,
                        size_m=box.size_m, yaw_rad=box.yaw_rad, size_source="user",
                        notes=(FIXED_NOTE if detection is not None else ADDED_NOTE,))
        if detection is not None:
            detections = [dataclasses.replace(d, label=label) if d.detection_index == index else d
                          for d in detections]
            fixed[index] = obj
            continue
        outline = _outline_px(obj, camera)
        if outline is None:
            unseen.append(obj)
            continue
        detections.append(Detection(label=label, box_xyxy_px=outline, detection_index=next_index))
        fixed[next_index] = dataclasses.replace(obj, detection_index=next_index)
        next_index += 1
    return dataclasses.replace(grounding, detections=tuple(detections)), fixed, unseen


def _outline_px(obj: ObjectBox, camera: CameraEstimate) -> tuple[float, float, float, float] | None:
    """The photo rectangle around a box seen whole in front of the camera, clipped to the photo; None when some of
    it is behind the camera or none of it is in the photo."""
    uv, z = frames.project_world_points(camera.intrinsics.k_matrix, camera.world_from_camera, obj.corners_m)
    if (z <= 0.05).any():
        return None
    width, height = camera.intrinsics.width_px, camera.intrinsics.height_px
    x1, y1 = np.clip(uv.min(axis=0), 0, [width, height])
    x2, y2 = np.clip(uv.max(axis=0), 0, [width, height])
    if x2 - x1 < 1 or y2 - y1 < 1:
        return None
    return float(x1), float(y1), float(x2), float(y2)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _index(value, where: str) -> int | None:
    if value is None or value == -1:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < ADDED_INDEX_BASE:
        raise UserError(f"{where}: detection_index must be a whole number from 0 (or -1 for an added object)")
    return value


def _number(value, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UserError(f"{where}: {name} must be a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise UserError(f"{where}: {name} must be a finite number")
    return number


def _vector(value, where: str, name: str, low: float, high: float) -> tuple[float, float, float]:
    if not isinstance(value, list) or len(value) != 3:
        raise UserError(f"{where}: {name} must be three numbers (metres)")
    numbers = tuple(_number(v, where, name) for v in value)
    if not all(low <= v <= high for v in numbers):
        raise UserError(f"{where}: {name} {[round(v, 3) for v in numbers]} is outside {low:g} to {high:g} m")
    return numbers


def _camera_block(block, source: str) -> dict:
    """scene.json's camera block, checked: intrinsics, photo size, a rigid world_from_camera."""
    if not isinstance(block, dict):
        raise UserError(f"{source}: \"camera\" must be scene.json's camera block (a JSON object)")
    out = dict(block)
    for key in ("fx", "fy", "cx", "cy"):
        value = _number(block.get(key), f"{source}: camera", key)
        if key in ("fx", "fy") and not 1.0 <= value <= 1e6:
            raise UserError(f"{source}: camera {key} {value:g} is not a focal length in pixels")
        out[key] = value
    for key in ("width", "height"):
        value = block.get(key)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
            raise UserError(f"{source}: camera {key} must be the photo's {key} in pixels")
    matrix = block.get("world_from_camera")
    try:
        matrix = np.array(matrix, dtype=float)
    except (TypeError, ValueError, OverflowError):
        matrix = None
    if matrix is None or matrix.shape != (4, 4) or not np.isfinite(matrix).all() or \
            not np.allclose(matrix[:3, :3] @ matrix[:3, :3].T, np.eye(3), atol=1e-4) or \
            np.linalg.det(matrix[:3, :3]) < 0 or not np.allclose(matrix[3], [0, 0, 0, 1]) or \
            not 0.05 <= matrix[1, 3] <= 20.0:
        raise UserError(f"{source}: camera world_from_camera must be scene.json's 4x4 rigid matrix, the camera "
                        "between 0.05 and 20 m above the floor")
    out["world_from_camera"] = matrix.tolist()
    if "room_yaw_rad" in block:
        out["room_yaw_rad"] = _number(block["room_yaw_rad"], f"{source}: camera", "room_yaw_rad")
    return out
