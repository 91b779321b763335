"""Stage 1: load the photo (Pillow): EXIF orientation, EXIF focal length, a pixel limit, clear errors."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

import numpy as np

from . import limits
from .errors import UserError
from .records import Photo

#: Photos with more pixels than this are refused (a decompression bomb guard); ``--max-pixels`` overrides it.
DEFAULT_MAX_PIXELS = limits.DEFAULT_MAX_PIXELS

_EXIF_IFD = 0x8769
_TAG_FOCAL_LENGTH = 0x920A
_TAG_FOCAL_35MM = 0xA405
_TAG_FOCAL_PLANE_X_RES = 0xA20E
_TAG_FOCAL_PLANE_UNIT = 0xA210
_TAG_PIXEL_X_DIMENSION = 0xA002
#: FocalPlaneResolutionUnit codes -> millimetres per unit (EXIF 2.32: 2 inch, 3 cm, 4 mm, 5 micrometre).
_UNIT_MM = {2: 25.4, 3: 10.0, 4: 1.0, 5: 0.001}
_TAG_MODEL = 0x0110
_TAG_ORIENTATION = 0x0112


def load_photo(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Photo:
    """Read an image file into a :class:`Photo`, rotated upright by its EXIF orientation.

    Raises :class:`UserError` for a missing file, a file that is not an image, a truncated image, or one with
    more than ``max_pixels`` pixels (checked from the header, before decoding).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"photo not found: {path}")
    try:  # read once: the bytes are decoded and hashed (scene.json's photo_sha256) from memory
        data = path.read_bytes()
    except OSError as error:
        raise UserError(f"cannot read photo {path}: {error}") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise UserError(f"not an image Pillow can read: {path}") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UserError(f"image too large to be safe: {path} (limit {max_pixels} pixels)") from None
    except OSError as error:
        raise UserError(f"cannot read photo {path}: {error}") from None
    with image:
        width, height = image.size
        if width * height > max_pixels:
            raise UserError(
                f"photo has {width}x{height} = {width * height} pixels, over the limit of {max_pixels} "
                "(raise it with --max-pixels)"
            )
        if min(width, height) < 16:
            raise UserError(f"photo is too small to use: {width}x{height} pixels")
        raw_width = width
        notes: list[str] = []
        try:  # reading the EXIF block may already hit the end of a truncated file
            exif = image.getexif()
            _load(image, path, notes)
            upright = ImageOps.exif_transpose(image)
            rgb = _rgb8(upright, notes)
        except (OSError, ValueError, SyntaxError) as error:
            raise UserError(f"photo is damaged or truncated: {path} ({error})") from None
    sub = exif.get_ifd(_EXIF_IFD) if exif else {}
    focal_mm = _positive(sub.get(_TAG_FOCAL_LENGTH), low=0.5, high=2000.0)
    return Photo(
        path=path,
        rgb=rgb,
        focal_35mm_mm=_positive(sub.get(_TAG_FOCAL_35MM), low=4.0, high=2000.0),
        focal_mm=focal_mm,
        focal_px_from_sensor=_focal_px_from_sensor(focal_mm, sub, raw_width),
        camera_model=_text(exif.get(_TAG_MODEL)) if exif else None,
        exif_orientation=int(exif.get(_TAG_ORIENTATION, 1)) if exif else 1,
        sha256=hashlib.sha256(data).hexdigest(),
        notes=tuple(notes),
    )


#: A file cut short is read when at most this share of its rows is missing (a JPEG without its end marker, or
#: its last few bytes); more is refused.
MAX_MISSING_ROWS = 0.01


def _load(image, path: Path, notes: list[str]) -> None:
    """Decode ``image``; a file cut short is decoded as far as it goes (Pillow fills the rest with one colour) and
    kept, with a note, when at most :data:`MAX_MISSING_ROWS` of its rows are missing."""
    from PIL import ImageFile

    try:
        image.load()
        return
    except OSError as error:
        if "truncated" not in str(error):
            raise
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        image.load()
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    pixels = np.asarray(image)
    height = pixels.shape[0]
    limit = int(MAX_MISSING_ROWS * height)
    bottom = pixels[height - min(height, limit + 1):].reshape(min(height, limit + 1), -1)  # past that: refused
    flat = np.all(bottom == bottom[-1, 0], axis=1)[::-1]  # from the last row up: one colour, the fill's
    missing = int(np.argmin(flat)) if not flat.all() else len(flat)
    if missing > limit:
        raise UserError(f"photo is truncated: {path} (at least its last {missing} of {height} rows are missing)")
    notes.append("the photo's file is cut short (its end is missing), but its pixels are all there: read as it is"
                 if missing == 0 else f"the photo's file is cut short: its last {missing} rows are missing and "
                 "filled with one colour")


def _rgb8(image, notes: list[str]) -> np.ndarray:
    """(H, W, 3) uint8 of ``image``: 16-bit and float greyscale (scientific cameras, depth-like PNGs) scaled so
    that its brightest pixel is white, with a note, rather than clipped (which turns most of it white)."""
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        finite = values[np.isfinite(values)]
        low = float(finite.min()) if finite.size else 0.0
        high = float(finite.max()) if finite.size else 0.0
        if high > 255.0 or low < 0.0:
            scale = 255.0 / (high - min(low, 0.0)) if high > min(low, 0.0) else 0.0
            grey = np.clip((np.nan_to_num(values, nan=low) - min(low, 0.0)) * scale, 0, 255).astype(np.uint8)
            notes.append(f"the photo is {image.mode} greyscale (values {low:g} to {high:g}): scaled to 8 bits, its "
                         "brightest pixel white")
            return np.repeat(grey[:, :, None], 3, axis=2)
    return np.asarray(image.convert("RGB"))


def _focal_px_from_sensor(focal_mm: float | None, sub, raw_width: int) -> float | None:
    """``FocalLength`` in pixels through the sensor's resolution (``FocalPlaneXResolution`` and its unit), scaled
    when the photo was resized after it was taken (``PixelXDimension`` differs from its width)."""
    resolution = _positive(sub.get(_TAG_FOCAL_PLANE_X_RES), low=1e-3, high=1e9)
    unit_mm = _UNIT_MM.get(sub.get(_TAG_FOCAL_PLANE_UNIT, 2))
    if focal_mm is None or resolution is None or unit_mm is None:
        return None
    focal_px = focal_mm * resolution / unit_mm
    recorded_width = _positive(sub.get(_TAG_PIXEL_X_DIMENSION), low=1.0, high=1e6)
    if recorded_width:
        focal_px *= raw_width / recorded_width
    return focal_px


def _positive(value, low: float, high: float) -> float | None:
    """An EXIF number if it is a sane positive value, else None (EXIF focal lengths of 0 are common)."""
    try:
        number = float(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if low <= number <= high else None


def _text(value) -> str | None:
    if value is None:
        return None
    return str(value).strip("\x00 ").strip() or None


#: The photo's copy for what is looked at (the overlay, the page): at most this many pixels on its longest side.
PREVIEW_MAX_SIDE_PX = 2048


def downscaled(rgb: np.ndarray, max_side_px: int = PREVIEW_MAX_SIDE_PX) -> np.ndarray:
    """(h, w, 3) uint8: the photo ``rgb`` with its longest side at most ``max_side_px`` (the photo itself when it is
    no larger). A box filter by a whole factor first (cheap, and the anti-aliasing a big reduction needs), then a
    Lanczos resize over what is left: a 48 MP photo costs a tenth of a Lanczos resize of all of it."""
    from PIL import Image

    height, width = rgb.shape[:2]
    if max(height, width) <= max_side_px:
        return rgb
    scale = max_side_px / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    image = Image.fromarray(np.ascontiguousarray(rgb))
    factor = int(1.0 / scale)  # the box filter leaves at least the target size for the Lanczos step
    if factor >= 2:
        image = image.reduce(factor)
    return np.asarray(image.resize(size, Image.Resampling.LANCZOS))
