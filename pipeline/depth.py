"""Stage 1b: a depth map aligned with the photo, and what it says about the floor.

``load_depth(spec, photo)`` reads one of

* ``file:PATH`` (or a bare path): a ``.npy`` float array in metres (or of the kind ``--depth-kind`` names), or a
  16-bit PNG in millimetres (0 = no depth), as the samples' ``depth.png``;
* ``hf:MODEL`` (a Hugging Face id or a local folder): a transformers depth model run on the photo. Depth Anything
  V2 relative models give ``relative_disparity``, its metric heads ``metric_depth``; Depth Pro gives
  ``metric_depth`` and its field of view (``DepthMap.focal_px``).

Depth everywhere is planar: z in the OpenCV camera frame, metres, never the distance along the ray
(CONVENTIONS.md). Relative maps become metric with :func:`align_to_floor` (scale and shift fitted so that the
floor pixels agree with the floor plane the camera estimate implies); :func:`floor_from_depth` goes the other way
(the camera height and the floor's normal a metric map implies). A map that yields no usable geometry (say, from
random weights) raises :class:`DepthUnusable`: the build warns and goes on without it.
"""

from __future__ import annotations

import functools
import math
import os
import threading
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import numpy as np

from . import frames
from .errors import UserError, is_out_of_memory, missing_extra
from .records import DEPTH_KINDS, CameraEstimate, DepthMap, DepthScale, Photo

#: A depth file whose aspect ratio differs from the photo's by more than this (relative) is stretched with a
#: warning; by more than ``ASPECT_MAX_REL`` it is refused (likely another photo, or a rotated one).
ASPECT_WARN_REL = 0.01
ASPECT_MAX_REL = 0.10
#: Depth files with more values than this are refused before they are read (a memory guard for uploads).
MAX_DEPTH_VALUES = 64_000_000
#: A metric map whose median is beyond this many metres is probably in the wrong unit (a warning says so).
SUSPICIOUS_MEDIAN_M = 50.0
#: Metric depths beyond this (metres) are dropped as invalid (a disparity close to zero after alignment).
MAX_DEPTH_M = 100.0
#: Floor pixels must look down at least this far below the horizon (rays near it hit the floor at grazing angles).
FLOOR_BELOW_HORIZON_RAD = math.radians(2.0)
#: Relative residual under which a floor pixel agrees with the aligned map (5 %: depth models' typical error).
ALIGN_INLIER_REL = 0.05
#: At most this many floor pixels take part in the fit (a regular subsample).
ALIGN_MAX_PIXELS = 20_000
#: Fewer floor pixels than this, or fewer agreeing than this fraction, and the map is not used.
ALIGN_MIN_PIXELS = 200
ALIGN_MIN_INLIER_FRACTION = 0.15
#: Floor pixels the fit puts beneath the floor (by more than ``ALIGN_INLIER_REL``) count this much against it in
#: RANSAC; more than ``ALIGN_MAX_BEYOND_FRACTION`` of them and the map is not used.
BEYOND_PENALTY = 2
ALIGN_MAX_BEYOND_FRACTION = 0.1
#: The agreeing floor pixels must span at least this ratio of depths (else a constant would fit just as well).
ALIGN_MIN_DEPTH_SPAN = 1.25
RANSAC_ITERATIONS = 256
#: Floor plane search: candidates are points at least this fraction of the way down to the lowest surfaces.
FLOOR_BAND = 0.75
#: A plane is the floor when its normal is within this angle of the vertical the camera estimate implies.
FLOOR_MAX_TILT_RAD = math.radians(20.0)
#: Plane distance threshold, metres: ``max(FLOOR_DISTANCE_M, FLOOR_DISTANCE_REL * median depth)``.
FLOOR_DISTANCE_M = 0.02
FLOOR_DISTANCE_REL = 0.01
FLOOR_MAX_POINTS = 50_000
#: RANSAC draws of three points per plane search.
PLANE_ITERATIONS = 500
#: A depth model gives a value at every pixel but the sky's: output valid on less than this share is garbage.
MODEL_MIN_VALID_FRACTION = 0.5
#: Seconds to wait for the Hugging Face hub before calling it unreachable (offline machines fail at once or hang).
HUB_PROBE_S = 3.0

#: Defaults when a model folder has no ``preprocessor_config.json``: those of the released checkpoints
#: (Depth Anything V2: DPT processor, 518 px, multiple of 14, ImageNet statistics; Depth Pro: 1536 px square,
#: ``(x - 0.5) / 0.5``).
_IMAGENET_MEAN, _IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class DepthUnusable(Exception):
    """A depth map that gives no usable geometry (no floor, garbage from a random model). Not a user error: the
    build warns with this message and goes on without the depth."""


@dataclass(frozen=True)
class FloorAlignment:
    """How a relative map was made metric: ``metric = 1 / (scale * v + shift)`` (disparity) or
    ``scale * v + shift`` (depth). Valid for the camera it was fitted with (its height sets the scale).

    inlier_fraction : share of the floor pixels that agree with the fit within ``ALIGN_INLIER_REL``
    """

    kind: str
    scale: float
    shift: float
    inlier_fraction: float
    floor_pixels: int
    camera_height_m: float


class FloorPlane(NamedTuple):
    """The floor a metric depth map shows: camera height above it (metres), its upward unit normal in the world
    frame of the camera estimate (``(3,)``; ``(0, 1, 0)`` when the estimate's attitude is right), and the share
    of the candidate floor points (those low enough, below the camera) on the plane."""

    camera_height_m: float
    normal_world: np.ndarray
    inlier_fraction: float


# ---------------------------------------------------------------------------------------------- loading


def load_depth(spec: str, photo: Photo, kind: str | None = None, notes: list[str] | None = None) -> DepthMap:
    """The depth map ``spec`` names, at the photo's size (see the module docstring for the specs).

    ``kind`` says what a file holds (default ``metric_depth``); a model says it itself. Warnings are appended to
    ``notes``. Raises :class:`UserError` (one line) for a missing or unreadable file, a map that does not fit the
    photo, a model that cannot be loaded or is not a depth model.
    """
    notes = [] if notes is None else notes
    if kind is not None and kind not in DEPTH_KINDS:
        raise UserError(f"--depth-kind must be one of {', '.join(DEPTH_KINDS)}, not {kind!r}")
    scheme, target = parse_depth_spec(spec)
    if scheme == "hf":
        if kind is not None:
            raise UserError("--depth-kind is for depth files; a depth model's kind comes from its config")
        return estimate_depth(target, photo, notes)
    return read_depth_file(Path(target).expanduser(), photo, kind or "metric_depth", notes)


def parse_depth_spec(spec: str) -> tuple[str, str]:
    """``("file", path)`` or ``("hf", model)`` from ``file:PATH``, ``hf:MODEL`` or a bare path."""
    spec = str(spec).strip()
    scheme, sep, rest = spec.partition(":")
    if sep and scheme in ("file", "hf"):
        if not rest.strip():
            raise UserError(f"--depth {spec!r} names nothing after '{scheme}:'")
        return scheme, rest.strip()
    if not spec:
        raise UserError("--depth is empty: give file:PATH or hf:MODEL")
    return "file", spec


def read_depth_file(path: Path, photo: Photo, kind: str = "metric_depth",
                    notes: list[str] | None = None) -> DepthMap:
    """A depth file as a :class:`DepthMap` of the photo's size.

    ``.npy``: one (H, W) array of numbers (metres when ``kind`` is ``metric_depth``); ``.png``: 16-bit, one
    channel, millimetres (raw values for the relative kinds), 0 = no depth. Non-finite values are invalid, and
    so are values <= 0 for ``metric_depth`` and ``relative_disparity``. A map of another size is resized (another
    aspect ratio: a warning, a very different one: :class:`UserError`).
    """
    notes = [] if notes is None else notes
    if not path.is_file():
        raise UserError(f"depth file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        values, valid = _read_npy(path)
    elif suffix == ".png":
        values, valid = _read_png(path)
        if kind == "metric_depth":
            values = values / np.float32(1000.0)
    else:
        raise UserError(f"depth file {path}: use .npy (float, metres) or a 16-bit .png (millimetres)")
    values, valid = _fit_to_photo(values, valid, photo, str(path), notes)
    depth = _finish(values, valid, kind, f"file:{path}", None)
    if kind == "metric_depth":
        median = float(np.median(depth.values[depth.valid]))
        if median > SUSPICIOUS_MEDIAN_M:
            notes.append(f"depth file {path}: median depth {median:.0f} m; .npy depth is read in metres "
                         "(is it in millimetres?)")
    return depth


def _read_npy(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
        if not isinstance(array, np.ndarray):
            raise UserError(f"{path} holds several arrays; a depth .npy holds one (H, W) array")
        shape = tuple(s for s in array.shape if s != 1) if array.ndim > 2 else array.shape
        if len(shape) != 2 or not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
            raise UserError(f"{path}: a depth .npy must hold one (H, W) array of real numbers, not {array.shape} "
                            f"{array.dtype}")
        if array.size > MAX_DEPTH_VALUES or min(shape) < 2:
            raise UserError(f"{path}: depth map of {shape[1]}x{shape[0]} values is not usable")
        with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: infinite, so not valid
            values = np.asarray(array, dtype=np.float32).reshape(shape)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - an untrusted file: any failure to read it is one line
        raise UserError(f"cannot read {path} as a .npy depth map: {_first_line(error)}") from None
    return values, np.isfinite(values)


def _read_png(path: Path) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():  # a header beyond Pillow's warning bound is beyond ours: an error
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
        with image:
            width, height = image.size
            if width * height > MAX_DEPTH_VALUES:
                raise UserError(f"{path}: depth PNG of {width}x{height} pixels is too large")
            if image.mode not in ("I;16", "I;16B", "I;16L", "I"):
                raise UserError(f"{path}: a depth PNG must be 16-bit grey (millimetres, 0 = no depth), not mode "
                                f"{image.mode}")
            raw = np.array(image)
    except UnidentifiedImageError:
        raise UserError(f"not a PNG image: {path}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # a header claiming too many pixels
        raise UserError(f"{path}: depth PNG is too large (its header claims more than "
                        f"{MAX_DEPTH_VALUES:,} pixels)") from None
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - an untrusted file: any failure to decode it is one line
        raise UserError(f"cannot read depth PNG {path}: {_first_line(error)}") from None
    if raw.ndim != 2 or raw.min() < 0 or raw.max() > 65535:
        raise UserError(f"{path}: a depth PNG must be 16-bit grey (millimetres, 0 = no depth)")
    return raw.astype(np.float32), raw > 0


def _fit_to_photo(values: np.ndarray, valid: np.ndarray, photo: Photo, what: str,
                  notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The map resized to the photo: bilinear (area when shrinking) on the valid values only; a pixel stays valid
    only when every value it was made from was."""
    import cv2

    height, width = values.shape
    if (width, height) == (photo.width_px, photo.height_px):
        return values, valid
    change = abs(math.log((width / height) / (photo.width_px / photo.height_px)))
    if change > math.log1p(ASPECT_MAX_REL):
        raise UserError(f"depth map {what} is {width}x{height}, not the shape of the photo "
                        f"({photo.width_px}x{photo.height_px}): aspect ratios {width / height:.3f} vs "
                        f"{photo.width_px / photo.height_px:.3f}")
    if change > math.log1p(ASPECT_WARN_REL):
        notes.append(f"depth map {what} is {width}x{height}, another aspect ratio than the photo "
                     f"({photo.width_px}x{photo.height_px}): stretched to fit")
    size = (photo.width_px, photo.height_px)
    shrink = photo.width_px * photo.height_px < width * height
    interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    weight = cv2.resize(valid.astype(np.float32), size, interpolation=interpolation)
    summed = cv2.resize(np.where(valid, values, 0.0).astype(np.float32), size, interpolation=interpolation)
    out_valid = weight > 0.999
    return np.where(out_valid, summed / np.maximum(weight, 1e-6), 0.0).astype(np.float32), out_valid


def _finish(values: np.ndarray, valid: np.ndarray, kind: str, source: str, focal_px: float | None) -> DepthMap:
    """The :class:`DepthMap`, with the validity rules of its kind; :class:`UserError` when nothing is valid."""
    values = np.asarray(values, dtype=np.float32)
    valid = np.asarray(valid, dtype=bool) & np.isfinite(values)
    if kind in ("metric_depth", "relative_disparity"):
        valid &= values > 0
    if kind == "metric_depth":
        valid &= values < MAX_DEPTH_M
    if not valid.any():
        positive = values[np.isfinite(values) & (values > 0)]
        hint = ""
        if kind == "metric_depth" and positive.size and float(np.median(positive)) >= MAX_DEPTH_M:
            hint = (f": its values run from {float(positive.min()):g} to {float(positive.max()):g}, beyond the "
                    f"{MAX_DEPTH_M:g} m a room's depth can be: millimetres? a .npy holds metres (divide by 1000), "
                    "a 16-bit PNG millimetres")
        elif not positive.size:
            hint = ": every value is zero, negative or not a number"
        raise UserError(f"depth map {source} has no valid pixel{hint}")
    return DepthMap(values=np.where(valid, values, 0.0).astype(np.float32), valid=valid, kind=kind, source=source,
                    focal_px=focal_px)


# ---------------------------------------------------------------------------------------------- models


def estimate_depth(model: str, photo: Photo, notes: list[str] | None = None) -> DepthMap:
    """Run a transformers depth model (Hugging Face id or local folder) on the photo; loaded once per process."""
    notes = [] if notes is None else notes
    return _load_model(model).predict(photo, notes)


@dataclass(frozen=True)
class _DepthModel:
    """A loaded depth model with the preprocessing its checkpoint expects."""

    name: str
    family: str  # depth_anything | depth_pro
    kind: str
    model: object
    device: str
    dtype: object
    size_hw: tuple[int, int]
    keep_aspect_ratio: bool
    multiple: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def predict(self, photo: Photo, notes: list[str]) -> DepthMap:
        import torch

        height, width = photo.height_px, photo.width_px
        tensor = torch.from_numpy(self.pixel_values(photo.rgb))
        try:
            with torch.inference_mode():
                output = self.model(pixel_values=tensor.to(self.device, self.dtype))
                predicted = output.predicted_depth.float().reshape(1, 1, *output.predicted_depth.shape[-2:])
                predicted = torch.nn.functional.interpolate(predicted, size=(height, width), mode="bilinear",
                                                            align_corners=False)[0, 0].cpu().numpy()
        except Exception as error:  # noqa: BLE001 - a model folder is input: its failure is one line
            size = f"{tensor.shape[-1]}x{tensor.shape[-2]} input"
            if is_out_of_memory(error):
                raise UserError(f"out of memory while depth model {self.name} ran on {self.device} ({size}): pick a "
                                f"smaller depth model (hf:{SMALLEST_MODEL})") from None
            raise UserError(f"depth model {self.name} failed on the photo ({size}; {type(error).__name__}: "
                            f"{_first_line(error)}): is its preprocessor_config.json the checkpoint's?") from None
        source = f"hf:{self.name}"
        if self.family == "depth_anything":
            return _finish(predicted, np.ones(predicted.shape, bool), self.kind, source, None)
        # Depth Pro: canonical inverse depth; metric depth = f_px / (W * inverse), f_px from its field of view
        fov = output.field_of_view
        fov_deg = float(fov.float().flatten()[0]) if fov is not None else float("nan")
        focal_px = _focal_from_fov(fov_deg, width)
        scale_focal = focal_px
        if focal_px is None:
            from .camera.intrinsics import DEFAULT_FOCAL_35MM_MM, focal_px_from_35mm

            scale_focal = focal_px_from_35mm(DEFAULT_FOCAL_35MM_MM, width, height)
            notes.append(f"depth model {self.name} gave no usable field of view ({fov_deg:.3g} deg): its depth is "
                         f"scaled with a {DEFAULT_FOCAL_35MM_MM:g} mm-equivalent focal")
        with np.errstate(divide="ignore", invalid="ignore"):
            metric = scale_focal / (width * predicted)
        return _finish(metric, predicted > 0, "metric_depth", source, focal_px)

    def pixel_values(self, rgb: np.ndarray) -> np.ndarray:
        """(1, 3, h, w) float32 model input from an (H, W, 3) uint8 photo: resized (bicubic for Depth Anything as
        its DPT processor, bilinear for Depth Pro), scaled to [0, 1], normalised with the checkpoint's mean/std."""
        in_h, in_w = self._input_size(*rgb.shape[:2])
        image = _resize_rgb(rgb, in_w, in_h, cubic=self.family == "depth_anything")
        pixels = (image - np.array(self.mean, np.float32)) / np.array(self.std, np.float32)
        return np.ascontiguousarray(pixels.transpose(2, 0, 1)[None], dtype=np.float32)

    def _input_size(self, height: int, width: int) -> tuple[int, int]:
        """(height, width) the model sees: DPT's rule for Depth Anything (scale as little as possible to reach
        the size, keeping the aspect ratio, sides rounded to a multiple of 14), a fixed square for Depth Pro."""
        out_h, out_w = self.size_hw
        if not self.keep_aspect_ratio:
            return out_h, out_w
        scale_h, scale_w = out_h / height, out_w / width
        scale = scale_w if abs(1 - scale_w) < abs(1 - scale_h) else scale_h
        multiple = max(1, self.multiple)
        return (max(multiple, round(scale * height / multiple) * multiple),
                max(multiple, round(scale * width / multiple) * multiple))


def _focal_from_fov(fov_deg: float, width_px: int) -> float | None:
    """Focal in pixels from a horizontal field of view, or None when it is not finite or not plausible."""
    from .camera.intrinsics import PLAUSIBLE_HFOV_DEG

    if not (math.isfinite(fov_deg) and PLAUSIBLE_HFOV_DEG[0] <= fov_deg <= PLAUSIBLE_HFOV_DEG[1]):
        return None
    return 0.5 * width_px / math.tan(0.5 * math.radians(fov_deg))


def _resize_rgb(rgb: np.ndarray, width: int, height: int, cubic: bool) -> np.ndarray:
    """(height, width, 3) float32 in [0, 1]."""
    import cv2

    if rgb.shape[:2] != (height, width):
        rgb = cv2.resize(rgb, (width, height), interpolation=cv2.INTER_CUBIC if cubic else cv2.INTER_LINEAR)
    return np.clip(rgb.astype(np.float32) / 255.0, 0.0, 1.0)


#: What ``_load_model`` runs, by ``model_type``: (family, transformers class name).
_FAMILIES = {"depth_anything": ("depth_anything", "DepthAnythingForDepthEstimation"),
             "depth_pro": ("depth_pro", "DepthProForDepthEstimation")}
#: Named in the out-of-memory errors: the smallest released model room3d runs.
SMALLEST_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"


@functools.lru_cache(maxsize=2)
def _load_model(name: str) -> _DepthModel:
    try:
        import torch
        import transformers
    except ModuleNotFoundError:
        raise missing_extra("torch and transformers", "ml") from None
    folder = Path(name).expanduser()
    source = str(folder) if folder.is_dir() else name
    if not folder.is_dir() and (name.startswith((".", "/", "~")) or name.count("/") > 1):
        raise UserError(f"depth model folder not found: {name}")
    if folder.is_dir():
        _check_folder(folder, name)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    try:
        return _load_checkpoint(name, source, folder, transformers, device, dtype)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure while loading becomes one line (many kinds)
        raise _load_error(error, name, device, folder.is_dir()) from None


def _check_folder(folder: Path, name: str) -> None:
    """A clear error for a folder that is not a depth model room3d runs, before transformers looks at it."""
    import json

    try:
        model_type = json.loads((folder / "config.json").read_text(encoding="utf-8")).get("model_type")
    except FileNotFoundError:
        raise UserError(f"{folder} is not a model folder (no config.json)") from None
    except (OSError, ValueError, AttributeError) as error:
        raise UserError(f"cannot read {folder / 'config.json'}: {_first_line(error)}") from None
    if model_type not in _FAMILIES:
        raise UserError(f"{name} is a {model_type!r} model; room3d runs Depth Anything V2 "
                        "(DepthAnythingForDepthEstimation) and Depth Pro (DepthProForDepthEstimation)")


def _load_checkpoint(name: str, source: str, folder: Path, transformers, device: str, dtype) -> _DepthModel:
    config = _from_pretrained(transformers.AutoConfig.from_pretrained, source)
    if config.model_type not in _FAMILIES:
        raise UserError(f"{name} is a {config.model_type!r} model; room3d runs Depth Anything V2 "
                        "(DepthAnythingForDepthEstimation) and Depth Pro (DepthProForDepthEstimation)")
    family, class_name = _FAMILIES[config.model_type]
    model_class = getattr(transformers, class_name)
    if family == "depth_anything":
        kind = "metric_depth" if getattr(config, "depth_estimation_type", "relative") == "metric" \
            else "relative_disparity"
    else:
        kind = "metric_depth"
    bar = transformers.utils.logging.is_progress_bar_enabled()
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on the command line's stderr
    try:
        model = _from_pretrained(model_class.from_pretrained, source, dtype=dtype).to(device).eval()
    finally:
        if bar:
            transformers.utils.logging.enable_progress_bar()
    preprocessor = _preprocessor_config(source, folder.is_dir())
    if family == "depth_anything":
        size = preprocessor.get("size") or {}
        side = int(size.get("height", size.get("shortest_edge", 518)))
        size_hw = (side, int(size.get("width", side)))
        keep, multiple = bool(preprocessor.get("keep_aspect_ratio", True)), int(
            preprocessor.get("ensure_multiple_of") or config.patch_size)
        mean, std = _IMAGENET_MEAN, _IMAGENET_STD
    else:
        side = int(config.patch_size / min(config.scaled_images_ratios))  # 1536 for the released model
        size = preprocessor.get("size") or {}
        size_hw, keep, multiple = (int(size.get("height", side)), int(size.get("width", side))), False, 1
        mean, std = (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)
    mean = tuple(float(v) for v in preprocessor.get("image_mean", mean))
    std = tuple(float(v) for v in preprocessor.get("image_std", std))
    return _DepthModel(name, family, kind, model, device, dtype, size_hw, keep, multiple, mean, std)


def _load_error(error: Exception, name: str, device: str, is_folder: bool) -> UserError:
    """One line for a failure while loading a depth model, saying what to do."""
    again = "copy the checkpoint into the folder again" if is_folder else f"download it again (hf download {name})"
    what = f"{type(error).__name__}: {_first_line(error)}"
    if is_out_of_memory(error):
        return UserError(f"out of memory loading depth model {name} on {device}: pick a smaller depth model "
                         f"(hf:{SMALLEST_MODEL})" + (" or run on the CPU (CUDA_VISIBLE_DEVICES=)"
                                                     if device != "cpu" else ""))
    text = what.lower()
    if isinstance(error, EOFError) or any(word in text for word in ("safetensor", "deserializ", "truncated",
                                                                     "corrupt", "pytorchstreamreader")):
        return UserError(f"could not load depth model {name}: its weights are broken or incomplete ({what}): "
                         f"{again}")
    if "mismatch" in text:
        return UserError(f"could not load depth model {name}: its weights do not match the sizes in its "
                         f"config.json (a broken or mixed-up checkpoint): {again}")
    return UserError(f"could not load depth model {name} ({what}): room3d runs complete Depth Anything V2 and "
                     f"Depth Pro checkpoints; {again}")


def _from_pretrained(loader, source: str, **kwargs):
    """``loader(source)`` from a folder or the local cache first; from the hub only when it can be reached, so that
    an offline machine fails at once instead of retrying for minutes. Failures are one-line :class:`UserError`s."""
    try:
        return loader(source, local_files_only=True, **kwargs)
    except OSError as error:
        if Path(source).is_dir():
            raise UserError(f"cannot load a depth model from {source}: {_first_line(error)}") from None
    if not _hub_reachable():
        raise UserError(f"depth model {source} is not a local folder nor in the Hugging Face cache, and the hub "
                        f"cannot be reached (offline): download it first (hf download {source})")
    try:
        return loader(source, **kwargs)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot load depth model {source}: {_first_line(error)}") from None


def _preprocessor_config(source: str, is_folder: bool) -> dict:
    """The checkpoint's ``preprocessor_config.json`` as a dict, ``{}`` when it has none."""
    import json

    path = Path(source) / "preprocessor_config.json" if is_folder else None
    if not is_folder:
        from huggingface_hub import hf_hub_download

        try:
            path = Path(hf_hub_download(source, "preprocessor_config.json", local_files_only=not _hub_reachable()))
        except Exception:  # any hub failure means "no preprocessor config": the defaults apply
            return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


@functools.lru_cache(maxsize=1)
def _hub_reachable() -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``HUB_PROBE_S`` (False when
    ``HF_HUB_OFFLINE`` is set). DNS can hang on machines without a network, so the probe runs in a thread."""
    import socket

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"
    result = []

    def probe():
        try:
            socket.create_connection((host, 443), timeout=HUB_PROBE_S).close()
            result.append(True)
        except OSError:
            pass

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(HUB_PROBE_S)
    return bool(result)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---------------------------------------------------------------------------------------------- geometry


def rescale_to_camera_focal(depth: DepthMap, camera: CameraEstimate, notes: list[str] | None = None) -> DepthMap:
    """A metric map that carries its model's focal (Depth Pro: depth is proportional to the focal it assumed),
    rescaled to the focal the camera stage settled on. Any other map comes back unchanged."""
    if depth.kind != "metric_depth" or depth.focal_px is None:
        return depth
    ratio = camera.intrinsics.fx_px / depth.focal_px
    if abs(math.log(ratio)) < 1e-6:
        return depth
    if notes is not None:
        notes.append(f"depth rescaled by {ratio:.3f} from the depth model's focal ({depth.focal_px:.0f} px) to the "
                     f"camera's ({camera.intrinsics.fx_px:.0f} px, {camera.intrinsics_source})")
    return replace(depth, values=(depth.values * np.float32(ratio)).astype(np.float32))


def scale_depth(depth: DepthMap, factor: float) -> DepthMap:
    """A metric map with every depth multiplied by ``factor`` (e.g. after the camera height changed)."""
    return replace(depth, values=(depth.values * np.float32(factor)).astype(np.float32))


def align_to_floor(depth: DepthMap, camera: CameraEstimate) -> tuple[DepthMap, FloorAlignment]:
    """A relative map made metric so that its floor lies on the floor plane the camera implies.

    Floor pixels are those whose ray meets the floor y = 0 of ``camera`` (its height and attitude) at least
    ``FLOOR_BELOW_HORIZON_RAD`` below the horizon. Fitted: ``1 / z = scale * v + shift`` (``relative_disparity``)
    or ``z = scale * v + shift`` (``relative_depth``), with residuals relative to the floor's depth, by RANSAC
    (furniture and walls standing on those pixels are the outliers) then a robust least squares (Huber) on the
    inliers, re-selected three times. The result is metric for that camera: it scales with ``camera.height_m``.
    A metric map comes back as it is (scale 1, shift 0). Raises :class:`DepthUnusable` when the map does not fit
    the floor.
    """
    if depth.kind == "metric_depth":
        return depth, FloorAlignment(depth.kind, 1.0, 0.0, 1.0, 0, camera.height_m)
    from scipy.optimize import least_squares

    values, depth_floor = _floor_samples(depth, camera)
    if len(values) < ALIGN_MIN_PIXELS:
        raise DepthUnusable(f"only {len(values)} valid pixels of {depth.source} look at the floor: too few to "
                            "align the relative depth")
    if float(np.std(values)) <= 1e-6 * max(float(np.mean(np.abs(values))), 1e-30):
        raise DepthUnusable(f"relative depth {depth.source} is flat over the floor: it cannot be aligned")
    if depth.kind == "relative_disparity":  # scale * v + shift = 1 / z_floor, residual relative: (.) * z_floor - 1
        raw, beyond_sign = np.column_stack([values * depth_floor, depth_floor]), -1.0
    else:  # scale * v + shift = z_floor, residual relative: (.) / z_floor - 1
        raw, beyond_sign = np.column_stack([values / depth_floor, 1.0 / depth_floor]), 1.0
    column_scale = np.abs(raw).max(axis=0)  # conditioning: the fit is in units of these, undone below
    design = raw / column_scale
    params = _ransac_line(design, beyond_sign)
    if params is None:
        raise DepthUnusable(f"relative depth {depth.source} does not fit the floor the camera implies")
    for _ in range(3):  # refit on the inliers (Huber against the ones near the threshold), then re-select them
        inliers = np.abs(design @ params - 1.0) < ALIGN_INLIER_REL
        if inliers.sum() < 2:
            break
        fit = least_squares(lambda p: design[inliers] @ p - 1.0, params, loss="huber",
                            f_scale=0.5 * ALIGN_INLIER_REL)
        if not fit.x[0] > 0:
            break
        params = fit.x
    residuals = design @ params - 1.0
    inliers = np.abs(residuals) < ALIGN_INLIER_REL
    fraction, beyond = float(inliers.mean()), float((beyond_sign * residuals > ALIGN_INLIER_REL).mean())
    span = float(depth_floor[inliers].max() / depth_floor[inliers].min()) if inliers.any() else 1.0
    if fraction < ALIGN_MIN_INLIER_FRACTION or span < ALIGN_MIN_DEPTH_SPAN or beyond > ALIGN_MAX_BEYOND_FRACTION:
        raise DepthUnusable(f"relative depth {depth.source} does not fit the floor the camera implies "
                            f"({fraction:.0%} of {len(values)} floor pixels agree, {beyond:.0%} would lie "
                            "beneath the floor)")
    scale, shift = (params / column_scale).tolist()
    with np.errstate(divide="ignore", invalid="ignore"):
        linear = scale * depth.values.astype(np.float64) + shift
        metric = 1.0 / linear if depth.kind == "relative_disparity" else linear
    aligned = _finish(metric, depth.valid & np.isfinite(metric), "metric_depth", depth.source, depth.focal_px)
    return aligned, FloorAlignment(depth.kind, scale, shift, fraction, int(len(values)), camera.height_m)


def _floor_samples(depth: DepthMap, camera: CameraEstimate) -> tuple[np.ndarray, np.ndarray]:
    """``(values, floor_depth_z)`` over a regular subsample of the valid pixels whose rays meet the floor."""
    step = max(1, int(math.sqrt(depth.width_px * depth.height_px / ALIGN_MAX_PIXELS)))
    rows, columns = np.indices((depth.height_px, depth.width_px))[:, ::step, ::step]
    uv = frames.pixel_centers(columns, rows)
    k, world_from_camera = camera.intrinsics.k_matrix, camera.world_from_camera
    _, depth_floor = frames.floor_points_from_pixels(k, world_from_camera, uv)
    rays = frames.camera_directions_to_world(world_from_camera, frames.pixel_rays(k, uv))
    below = -rays[..., 1] / np.linalg.norm(rays, axis=-1) > math.sin(FLOOR_BELOW_HORIZON_RAD)
    mask = depth.valid[rows, columns] & np.isfinite(depth_floor) & below & (depth_floor < MAX_DEPTH_M)
    return depth.values[rows, columns][mask].astype(np.float64), depth_floor[mask]


def _ransac_line(design: np.ndarray, beyond_sign: float) -> np.ndarray | None:
    """``p`` (2,), ``p[0] > 0``, with ``design @ p = 1`` for many rows within ``ALIGN_INLIER_REL`` and few rows
    beyond it on the ``beyond_sign`` side (pixels the fit would put beneath the floor), from pairs of rows drawn
    with a fixed seed. Counting those is what tells the floor from another horizontal surface (a bed, a table):
    any of them fits with another scale, but only the floor, the lowest, leaves nothing beneath it.
    None when no pair gives a positive scale."""
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, len(design), size=(RANSAC_ITERATIONS, 2))
    a, b = design[pairs[:, 0]], design[pairs[:, 1]]
    det = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    ok = np.abs(det) > 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        p0 = (b[:, 1] - a[:, 1]) / det
        p1 = (a[:, 0] - b[:, 0]) / det
    candidates = np.column_stack([p0, p1])[ok & (p0 > 0) & np.isfinite(p0) & np.isfinite(p1)]
    if len(candidates) == 0:
        return None
    residuals = design @ candidates.T - 1.0
    scores = (np.abs(residuals) < ALIGN_INLIER_REL).sum(axis=0) \
        - BEYOND_PENALTY * (beyond_sign * residuals > ALIGN_INLIER_REL).sum(axis=0)
    return candidates[int(np.argmax(scores))]


def floor_from_depth(depth: DepthMap, camera: CameraEstimate) -> FloorPlane:
    """The floor plane a metric depth map shows (RANSAC plane search on the unprojected points: Open3D's
    ``segment_plane`` when it is installed, :func:`segment_plane` in numpy otherwise).

    Only the camera's intrinsics and attitude are used (not its height): candidates are points below the camera
    at least ``FLOOR_BAND`` of the way down to the lowest surfaces; the largest plane among them whose normal is
    within ``FLOOR_MAX_TILT_RAD`` of the vertical, and a surface rather than a slab through noise
    (:func:`is_surface`), is the floor, refined by least squares on its inliers. Returns
    the camera's height above it (metres), its upward normal in the world frame, and the inlier fraction.
    Raises :class:`DepthUnusable` when no such plane exists (e.g. a random model's map).
    """
    if depth.kind != "metric_depth":
        raise ValueError(f"floor_from_depth needs metric depth, not {depth.kind}")
    points_cam = camera_points(depth, camera.intrinsics.k_matrix, FLOOR_MAX_POINTS)
    below = -frames.camera_directions_to_world(camera.world_from_camera, points_cam)[:, 1]  # metres below camera
    lowest = float(np.percentile(below, 99.0)) if len(below) else 0.0
    candidates = points_cam[below >= FLOOR_BAND * lowest] if lowest > 0 else points_cam[:0]
    if len(candidates) < ALIGN_MIN_PIXELS:
        raise DepthUnusable(f"depth {depth.source} shows too little below the camera to find the floor")
    threshold = max(FLOOR_DISTANCE_M, FLOOR_DISTANCE_REL * float(np.median(candidates[:, 2])))
    remaining = candidates
    for _ in range(3):
        if len(remaining) < ALIGN_MIN_PIXELS:
            break
        inliers, normal, offset = largest_plane(remaining, threshold)
        normal_world = frames.camera_directions_to_world(camera.world_from_camera, normal)
        if normal_world[1] > math.cos(FLOOR_MAX_TILT_RAD) and 0.1 <= offset <= 10.0 \
                and is_surface(remaining, normal, offset, threshold, len(inliers)):
            on_plane = np.abs(candidates @ normal + offset) < threshold
            return FloorPlane(float(offset), normal_world, float(on_plane.mean()))
        remaining = np.delete(remaining, inliers, axis=0)
    raise DepthUnusable(f"depth {depth.source} shows no floor plane within {math.degrees(FLOOR_MAX_TILT_RAD):.0f} "
                        "deg of the camera's vertical")


#: A plane holds at least this many times the points of the equally thick slabs beside it (at three thresholds'
#: distance): a surface does (2.5 to 50 times on sensor maps of real rooms), a slab cut through a noisy map does
#: not (about once).
MIN_PLANE_CONTRAST = 1.8


def is_surface(points: np.ndarray, normal: np.ndarray, offset: float, threshold_m: float, inliers: int) -> bool:
    """Whether a RANSAC plane with ``inliers`` of the (N, 3) ``points`` within ``threshold_m`` is a surface rather
    than a slab through noise: it holds :data:`MIN_PLANE_CONTRAST` times the points of either slab beside it."""
    distance = points @ normal + offset
    beside = max(int((np.abs(distance - 3.0 * threshold_m) < threshold_m).sum()),
                 int((np.abs(distance + 3.0 * threshold_m) < threshold_m).sum()))
    return inliers >= MIN_PLANE_CONTRAST * beside


def fit_plane(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane ``n . p + d = 0`` (unit ``n``) through (N, 3) points."""
    center = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - center, full_matrices=False)
    normal = vt[-1]
    return normal, float(-normal @ center)


def sample_pixels(depth: DepthMap, max_points: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``(rows, columns, step)``: up to ``max_points`` valid pixels of the map, every ``step``-th row and column."""
    step = max(1, int(math.sqrt(int(depth.valid.sum()) / max_points)))
    rows, columns = np.nonzero(depth.valid[::step, ::step])
    return rows * step, columns * step, step


def camera_points(depth: DepthMap, k_matrix: np.ndarray, max_points: int) -> np.ndarray:
    """(N, 3) OpenCV-camera points of up to ``max_points`` valid pixels (:func:`sample_pixels`), unprojected with
    ``k_matrix``."""
    rows, columns, _ = sample_pixels(depth, max_points)
    uv = frames.pixel_centers(columns, rows)
    return frames.unproject_pixels(k_matrix, uv, depth.values[rows, columns])


def largest_plane(points: np.ndarray, threshold_m: float,
                  iterations: int = PLANE_ITERATIONS) -> tuple[np.ndarray, np.ndarray, float]:
    """``(inlier indices, unit normal, offset)`` of the plane through the most of the (N, 3) camera-frame
    ``points`` within ``threshold_m`` (Open3D's ``segment_plane`` when installed, :func:`segment_plane`
    otherwise), refitted by least squares on its inliers and oriented towards the camera at the origin:
    ``normal . p + offset = 0`` with ``offset >= 0``. The same points give the same plane on every call: the
    generator is seeded, and Open3D makes every draw (``probability=1``); its early stop depends on which of its
    threads finds a good plane first, and gave a different plane from run to run."""
    o3d = open3d_or_none()
    if o3d is not None:
        o3d.utility.random.seed(0)
        cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points))
        _, inliers = cloud.segment_plane(distance_threshold=threshold_m, ransac_n=3, num_iterations=iterations,
                                         probability=1.0)
        inliers = np.asarray(inliers, dtype=int)
    else:
        inliers = segment_plane(points, threshold_m, iterations)
    if len(inliers) < 3:
        return inliers, np.array([0.0, 0.0, 1.0]), 0.0
    normal, offset = fit_plane(points[inliers])
    if offset < 0:
        normal, offset = -normal, -offset
    return inliers, normal, offset


def segment_plane(points: np.ndarray, threshold_m: float, iterations: int = PLANE_ITERATIONS,
                  seed: int = 0) -> np.ndarray:
    """Indices of the inliers of the plane through the most of the (N, 3) ``points`` within ``threshold_m``:
    RANSAC over ``iterations`` random triples (fixed ``seed``), as Open3D's ``segment_plane``, in numpy."""
    rng = np.random.default_rng(seed)
    a, b, c = (points[index] for index in rng.integers(0, len(points), size=(3, iterations)))
    normals = np.cross(b - a, c - a)
    lengths = np.linalg.norm(normals, axis=1)
    keep = lengths > 1e-12  # collinear or repeated points give no plane
    normals = normals[keep] / lengths[keep, None]
    offsets = -np.einsum("ij,ij->i", normals, a[keep])
    best, best_count = None, -1
    for start in range(0, len(normals), 32):  # (N, 32) distances at a time: bounded memory
        counts = (np.abs(points @ normals[start:start + 32].T + offsets[start:start + 32]) < threshold_m).sum(axis=0)
        if len(counts) and counts.max() > best_count:
            best, best_count = start + int(np.argmax(counts)), int(counts.max())
    if best is None:
        return np.zeros(0, dtype=int)
    return np.nonzero(np.abs(points @ normals[best] + offsets[best]) < threshold_m)[0]


#: Open3D does the plane search (and the point cloud's outlier removal) when it is installed; False forces the
#: numpy/SciPy fallback, the core install's path.
USE_OPEN3D = True


def open3d_or_none():
    """The ``open3d`` module, or None when it is not installed (or ``USE_OPEN3D`` is off): callers fall back to
    numpy and SciPy."""
    if not USE_OPEN3D:
        return None
    try:
        import open3d
    except ModuleNotFoundError:
        return None
    return open3d


def depth_for_scene(depth: DepthMap, camera: CameraEstimate,
                    notes: list[str] | None = None) -> tuple[DepthMap | None, dict]:
    """The metric map the solver and the point cloud use, and its ``scene.json`` record.

    A model's map that is mostly invalid is dropped (None, and a warning in ``notes``). A map with its model's
    focal is rescaled to the camera's focal (:func:`rescale_to_camera_focal`); a relative map is aligned to the
    floor (:func:`align_to_floor`; when it cannot be, it is dropped with a warning); the floor a metric map shows
    is measured (:func:`floor_from_depth`). A metric map without a floor plane is dropped when a model made it
    (random weights, or a model that failed on this photo: its depths are not to be trusted) and kept, with a
    warning, when it is a file (a sensor's map of a close-up may show no floor): the box fits use it, the scale
    does not (:func:`depth_scale` is None without a floor). The record holds the source, kind, focal, alignment,
    floor (None where not done) and ``used``.
    """
    notes = [] if notes is None else notes
    record = {"source": depth.source, "kind": depth.kind, "focal_px": depth.focal_px, "used": False,
              "alignment": None, "floor": None}
    valid_fraction = float(depth.valid.mean())
    if depth.source.startswith("hf:") and valid_fraction < MODEL_MIN_VALID_FRACTION:
        notes.append(f"depth model output {depth.source} is valid on only {valid_fraction:.0%} of the photo: "
                     "depth not used")
        return None, record
    depth = rescale_to_camera_focal(depth, camera, notes)
    try:
        depth, alignment = align_to_floor(depth, camera)
    except DepthUnusable as error:
        notes.append(f"{error}: depth not used")
        return None, record
    if record["kind"] != "metric_depth":
        record["alignment"] = {"scale": alignment.scale, "shift": alignment.shift,
                               "inlier_fraction": alignment.inlier_fraction,
                               "floor_pixels": alignment.floor_pixels,
                               "camera_height_m": alignment.camera_height_m}
    else:
        try:
            floor = floor_from_depth(depth, camera)
            record["floor"] = {"camera_height_m": floor.camera_height_m,
                               "normal_world": [float(v) for v in floor.normal_world],
                               "inlier_fraction": floor.inlier_fraction}
        except DepthUnusable as error:
            if depth.source.startswith("hf:"):
                notes.append(f"{error}: depth not used")
                return None, record
            notes.append(f"{error}: the depth map is used for the box fits but not for the scale (is it metric "
                         "depth of this photo?)")
    record["used"] = True
    return depth, record


#: Relative spread of the camera height that a depth map's floor measures: a depth sensor's map (a file) and a
#: metric depth model's (10-20 % off on indoor scenes, Depth Anything V2 issue #152).
SENSOR_HEIGHT_SPREAD = 0.02
MODEL_HEIGHT_SPREAD = 0.1


def depth_scale(record: dict) -> DepthScale | None:
    """What the solver may take from a map's scale (:class:`~pipeline.records.DepthScale`), from the record of
    :func:`depth_for_scene`: a metric map's floor measures the camera height (a sensor's tightly, a model's
    loosely); a relative map aligned to the camera's height follows whatever height the solver chooses."""
    if not record.get("used"):
        return None
    if record.get("floor"):
        spread = SENSOR_HEIGHT_SPREAD if record["source"].startswith("file:") else MODEL_HEIGHT_SPREAD
        return DepthScale(record["floor"]["camera_height_m"], spread, "depth_floor")
    if record.get("alignment"):
        return DepthScale(record["alignment"]["camera_height_m"], None, "depth_aligned")
    return None

