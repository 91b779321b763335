"""Loading photos: EXIF orientation and focal length, and every kind of bad file."""

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import UserError
from pipeline.photo import load_photo


def write_jpeg(path, width=320, height=240, orientation=None, focal_35mm=None, focal=None):
    image = Image.fromarray(np.tile(np.arange(width, dtype=np.uint8), (height, 1))[..., None].repeat(3, axis=2))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    sub = {}
    if focal_35mm is not None:
        sub[0xA405] = focal_35mm
    if focal is not None:
        sub[0x920A] = focal
    if sub:
        exif.get_ifd(0x8769).update(sub)
    image.save(path, exif=exif.tobytes())
    return path


def test_exif_orientation_rotates_and_focal_is_read(tmp_path):
    photo = load_photo(write_jpeg(tmp_path / "p.jpg", orientation=6, focal_35mm=26, focal=4.2))
    assert (photo.width_px, photo.height_px) == (240, 320)  # rotated 90 degrees to upright
    assert photo.focal_35mm_mm == 26 and photo.focal_mm == pytest.approx(4.2)
    assert photo.exif_orientation == 6


def test_nonsense_exif_focal_is_ignored(tmp_path):
    photo = load_photo(write_jpeg(tmp_path / "p.jpg", focal_35mm=0, focal=0))
    assert photo.focal_35mm_mm is None and photo.focal_mm is None


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_photo(tmp_path / "nope.jpg")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("hello")
    with pytest.raises(UserError, match="not an image"):
        load_photo(path)


def test_truncated_jpeg(tmp_path):
    path = write_jpeg(tmp_path / "p.jpg", 640, 480)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(UserError, match="damaged or truncated|truncated"):
        load_photo(path)


def test_pixel_limit_and_decompression_bomb(tmp_path):
    path = write_jpeg(tmp_path / "p.jpg", 640, 480)
    with pytest.raises(UserError, match="over the limit"):
        load_photo(path, max_pixels=640 * 480 - 1)
    # A PNG whose header claims 100000 x 100000 pixels: refused before decoding.
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 100)) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(bomb)
    with pytest.raises(UserError, match="too large|over the limit"):
        load_photo(tmp_path / "bomb.png")


def test_focal_from_sensor_resolution_scaled_to_a_resized_photo(tmp_path):
    image = Image.fromarray(np.zeros((240, 320, 3), np.uint8))
    exif = Image.Exif()
    exif.get_ifd(0x8769).update({0x920A: 4.2, 0xA20E: 1000.0, 0xA210: 4, 0xA002: 4000})
    image.save(tmp_path / "p.jpg", exif=exif.tobytes())
    photo = load_photo(tmp_path / "p.jpg")
    assert photo.focal_px_from_sensor == pytest.approx(4.2 * 1000 * 320 / 4000)


@pytest.mark.parametrize("keep", [1 / 3, 1 / 10, 100, 60])
def test_truncated_png_is_a_user_error(tmp_path, keep):
    """A PNG cut short (``head -c``) anywhere after its header: one UserError line, never Pillow's OSError."""
    path = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep) if keep < 1 else keep])
    with pytest.raises(UserError, match="damaged or truncated|truncated") as caught:
        load_photo(path)
    assert "\n" not in str(caught.value)


def test_photo_is_read_once_and_hashed(tmp_path, monkeypatch):
    """The file is read once: its pixels and its sha256 (scene.json's ``photo_sha256``) come from the same bytes."""
    import hashlib
    from pathlib import Path

    from PIL import Image

    from pipeline.photo import load_photo

    path = tmp_path / "room.jpg"
    Image.new("RGB", (64, 48), (200, 100, 50)).save(path)
    reads = []
    original = Path.read_bytes

    def counting(self):
        reads.append(self)
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", counting)
    photo = load_photo(path)
    assert photo.sha256 == hashlib.sha256(original(path)).hexdigest()
    assert reads == [path]
