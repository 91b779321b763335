"""A catalogue of hostile but realistic inputs to room3d build (photos, groundings, options, depth files, output
paths) and to the other commands, each with the outcome a user should get:

* ``error``: exit 2, one line ``room3d: error: ...`` on stderr (with the given words), no traceback, nothing
  written (no output folder, no staging folder beside it);
* ``ok``: exit 0, every output written, and the given words among the warnings (terminal and scene.json);

never a traceback, a hang, a half-written folder or a silent change. The parsers are also fuzzed
(``test_fuzz.py``).
"""

from __future__ import annotations

import io
import json
import math
import shutil
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image

from pipeline.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BEDROOM = SAMPLES / "bedroom_01"
OUTPUTS = {"scene.glb", "scene.json", "index.html", "overlay.jpg", "floorplan.svg"}
#: A solved object may stand no farther than this (metres) from the camera, whatever the input.
FARTHEST_M = 100.0


@dataclass
class Case:
    """``setup(folder) -> list of arguments`` (``{out}`` is the output folder), the outcome and the words."""

    name: str
    setup: Callable[[Path], list[str]]
    outcome: str  # "error" or "ok"
    words: str = ""


def photo(folder: Path, name: str = "photo.png", array: np.ndarray | None = None, mode: str | None = None,
          **save) -> Path:
    path = folder / name
    image = Image.open(BEDROOM / "photo.png").convert("RGB") if array is None else Image.fromarray(array, mode)
    image.save(path, **save)
    return path


def bedroom_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.open(BEDROOM / "photo.png").convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def text(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def answer(folder: Path, entries, name: str = "answer.qwen3.json", raw: str | None = None) -> Path:
    return text(folder, name, raw if raw is not None else json.dumps(entries))


GOOD = [{"bbox_2d": [100, 400, 600, 980], "label": "bed"}, {"bbox_2d": [650, 300, 800, 700], "label": "wardrobe"}]


def build_args(folder: Path, grounding: Path | None = None, *extra: str, photo_path: Path | None = None) -> list[str]:
    args = ["build", str(photo_path or photo(folder)), "-o", "{out}"]
    if grounding is not None:
        args += ["--grounding", str(grounding)]
    return args + list(extra)


def grounding_case(name: str, entries=None, outcome: str = "ok", words: str = "", raw: str | None = None,
                   file_name: str = "answer.qwen3.json") -> Case:
    return Case(name, lambda f: build_args(f, answer(f, entries, file_name, raw)), outcome, words)


def option_case(name: str, options: list[str], outcome: str = "error", words: str = "") -> Case:
    return Case(name, lambda f: build_args(f, answer(f, GOOD), *options), outcome, words)


def depth_case(name: str, make: Callable[[Path], Path], outcome: str = "error", words: str = "",
               extra: tuple[str, ...] = ()) -> Case:
    return Case(name, lambda f: build_args(f, answer(f, GOOD), "--depth", f"file:{make(f)}", *extra), outcome, words)


def npy(folder: Path, array, name: str = "depth.npy") -> Path:
    path = folder / name
    np.save(path, array)
    return path


def png16(folder: Path, array: np.ndarray, name: str = "depth.png") -> Path:
    path = folder / name
    Image.fromarray(array.astype(np.uint16)).save(path)
    return path


def bomb_png(folder: Path) -> Path:
    """A PNG whose header claims 100000 x 100000 pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return text(folder, "bomb.png", b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def many_boxes(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    out = []
    for k in range(count):
        x, y = rng.uniform(0, 900), rng.uniform(300, 900)
        out.append({"bbox_2d": [round(x), round(y), round(x + rng.uniform(20, 100)), round(y + rng.uniform(20, 100))],
                    "label": ["chair", "lamp", "box", "plant"][k % 4]})
    return out


H, W = 480, 640
PHOTOS = [
    Case("photo missing", lambda f: ["build", str(f / "nope.jpg"), "-o", "{out}"], "error", "photo not found"),
    Case("photo empty file", lambda f: build_args(f, photo_path=text(f, "empty.jpg", b"")), "error", "not an image"),
    Case("photo is text", lambda f: build_args(f, photo_path=text(f, "a.jpg", "hello")), "error", "not an image"),
    Case("photo is a folder", lambda f: ["build", str(f), "-o", "{out}"], "error", "photo not found"),
    Case("photo JPEG cut in half", lambda f: build_args(f, photo_path=text(f, "half.jpg", bedroom_jpeg()[:20_000])),
         "error", "truncated"),
    Case("photo JPEG without its end marker", lambda f: build_args(
        f, answer(f, GOOD), photo_path=text(f, "cut.jpg", bedroom_jpeg()[:-2])), "ok", "cut short"),
    Case("photo PNG header only", lambda f: build_args(
        f, photo_path=text(f, "h.png", (BEDROOM / "photo.png").read_bytes()[:60])), "error", "photo"),
    Case("photo 16-bit grey PNG", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "g16.png", (np.linspace(0, 60000, W)[None, :] * np.ones((H, 1))).astype(np.uint16))), "ok",
        "scaled to 8 bits"),
    Case("photo float TIFF", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "f.tif", (np.linspace(0, 4000, W)[None, :] * np.ones((H, 1))).astype(np.float32), "F")), "ok",
        "scaled to 8 bits"),
    Case("photo 8-bit grey", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "l.png", np.full((H, W), 90, np.uint8))), "ok"),
    Case("photo RGBA", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "a.png", np.full((H, W, 4), 90, np.uint8))), "ok"),
    Case("photo palette GIF", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(f, "p.gif")), "ok"),
    Case("photo BMP", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(f, "p.bmp")), "ok"),
    Case("photo WebP", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(f, "p.webp")), "ok"),
    Case("photo TIFF", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(f, "p.tiff")), "ok"),
    Case("photo CMYK JPEG", lambda f: build_args(f, answer(f, GOOD), photo_path=_cmyk(f)), "ok"),
    Case("photo 16 x 16", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "tiny.png", np.full((16, 16, 3), 120, np.uint8))), "ok"),
    Case("photo 8 x 8", lambda f: build_args(f, photo_path=photo(f, "t.png", np.full((8, 8, 3), 1, np.uint8))),
         "error", "too small"),
    Case("photo panorama 8000 x 200", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "pano.png", np.full((200, 8000, 3), 120, np.uint8))), "ok"),
    Case("photo 200 x 8000", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "tall.png", np.full((8000, 200, 3), 120, np.uint8))), "ok"),
    Case("photo noise", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(
        f, "noise.png", np.random.default_rng(0).integers(0, 255, (H, W, 3), dtype=np.uint8))), "ok"),
    Case("photo decompression bomb header", lambda f: build_args(f, photo_path=bomb_png(f)), "error", "too large"),
    Case("photo over --max-pixels", lambda f: build_args(f, None, "--max-pixels", "1000"), "error", "over the limit"),
    Case("photo with a non-ASCII name", lambda f: build_args(f, answer(f, GOOD), photo_path=photo(f, "chambre é.png")),
         "ok"),
    Case("photo JPEG turned by EXIF", lambda f: build_args(f, answer(f, GOOD), photo_path=_exif_rotated(f)), "ok"),
    Case("photo behind a link", lambda f: build_args(f, answer(f, GOOD), photo_path=_link(f, photo(f), "l.png")),
         "ok"),
]


def _exif_rotated(folder: Path) -> Path:
    path = folder / "rotated.jpg"
    image = Image.open(BEDROOM / "photo.png").convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to show
    image.save(path, exif=exif)
    return path


def _cmyk(folder: Path) -> Path:
    path = folder / "cmyk.jpg"
    Image.open(BEDROOM / "photo.png").convert("CMYK").save(path)
    return path


def _link(folder: Path, target: Path, name: str) -> Path:
    path = folder / name
    path.symlink_to(target)
    return path


GROUNDINGS = [
    Case("grounding missing", lambda f: build_args(f, f / "none.json"), "error", "not found"),
    grounding_case("grounding empty file", raw="", outcome="error", words="not valid JSON"),
    grounding_case("grounding prose only", raw="I see a bed and a chair.", outcome="error", words="not valid JSON"),
    grounding_case("grounding object without a list", raw='{"room": "bedroom"}', outcome="error",
                   words="without a list"),
    grounding_case("grounding empty list", []),
    grounding_case("grounding list of numbers", [1, 2, 3], words="not an object"),
    grounding_case("grounding box of strings", [{"bbox_2d": ["a", "b", "c", "d"], "label": "bed"}], words="skipped"),
    grounding_case("grounding box of numeric strings", [{"bbox_2d": ["100", "400", "600", "980"], "label": "bed"}]),
    grounding_case("grounding NaN box", raw='[{"bbox_2d": [NaN, 1, 2, 3], "label": "bed"}]', words="skipped"),
    grounding_case("grounding Infinity box", raw='[{"bbox_2d": [1, 1, Infinity, 3], "label": "bed"}]',
                   words="skipped"),
    grounding_case("grounding 5000-digit number", raw='[{"bbox_2d": [' + "9" * 5000 + ', 1, 2, 3], "label": "bed"}, '
                   + json.dumps(GOOD[1]) + "]", words="skipped"),
    grounding_case("grounding 1e400", raw='[{"bbox_2d": [1e400, 1, 2, 3], "label": "bed"}]', words="skipped"),
    grounding_case("grounding inverted corners", [{"bbox_2d": [600, 980, 100, 400], "label": "bed"}],
                   words="inverted corners"),
    grounding_case("grounding box outside the photo", [{"bbox_2d": [2000, 2000, 3000, 3000], "label": "bed"},
                                                      GOOD[0]], file_name="answer.pixels.json", words="outside"),
    grounding_case("grounding zero-area box", [{"bbox_2d": [100, 100, 100, 100], "label": "bed"}, GOOD[0]],
                   words="grounding entry 0"),
    grounding_case("grounding negative coordinates", [{"bbox_2d": [-50, -50, 300, 300], "label": "bed"}]),
    grounding_case("grounding 1000 boxes", many_boxes(1000), words="more than the 300"),
    grounding_case("grounding 5000 boxes", many_boxes(5000), words="more than the 300"),
    grounding_case("grounding label of 500 characters", [{"bbox_2d": GOOD[0]["bbox_2d"], "label": "bed " * 125}],
                   words="cut to 120"),
    grounding_case("grounding numeric label", [{"bbox_2d": GOOD[0]["bbox_2d"], "label": 42}],
                   words="the number 42 for a label"),
    grounding_case("grounding no label", [{"bbox_2d": GOOD[0]["bbox_2d"]}], words="no label"),
    grounding_case("grounding label with a bidi override",
                   [{"bbox_2d": GOOD[0]["bbox_2d"], "label": "bed\u202egnp.exe"}], words="control characters"),
    grounding_case("grounding label with a zero-width joiner",
                   [{"bbox_2d": GOOD[0]["bbox_2d"], "label": "family \U0001F468\u200d\U0001F469 bed"}]),
    grounding_case("grounding label with markup",
                   [{"bbox_2d": GOOD[0]["bbox_2d"], "label": "<script>alert(1)</script>"}]),
    grounding_case("grounding label with control characters",
                   [{"bbox_2d": GOOD[0]["bbox_2d"], "label": "bed\x00\x07"}], words="control characters"),
    grounding_case("grounding cut off mid-entry", raw=json.dumps(GOOD)[:-25], words="cut off or garbled"),
    grounding_case("grounding trailing commas", raw='[{"bbox_2d": [100, 400, 600, 980], "label": "bed",},]'),
    grounding_case("grounding Python literal", raw="[{'bbox_2d': (100, 400, 600, 980), 'label': 'bed'}]"),
    grounding_case("grounding fenced with prose", raw="Here:\n```json\n" + json.dumps(GOOD) + "\n```\nDone."),
    grounding_case("grounding objects key", raw=json.dumps({"objects": GOOD})),
    grounding_case("grounding point entries", [{"point_2d": [100, 100], "label": "bed"}, GOOD[0]],
                   words="is a point"),
    grounding_case("grounding malformed bbox_3d", [{"bbox_3d": [1, 2], "label": "bed"}, GOOD[0]],
                   words="bbox_3d"),
    grounding_case("grounding repeated box", [GOOD[0], GOOD[0]], words="repeats entry 0"),
    Case("grounding lamp at the top of a level photo", lambda f: build_args(
        f, answer(f, [{"bbox_2d": [400, 0, 520, 60], "label": "lamp"}, {"bbox_2d": [0, 0, 60, 40], "label": "picture"},
                      {"bbox_2d": [940, 0, 1000, 20], "label": "ceiling light"}]), "--pitch-deg", "0"), "ok"),
    grounding_case("grounding corner pairs", [{"bbox_2d": [[100, 400], [600, 980]], "label": "bed"}]),
    grounding_case("grounding confidence NaN", raw='[{"bbox_2d": [100, 400, 600, 980], "label": "bed", '
                   '"confidence": NaN}]'),
    grounding_case("grounding confidence of 400 digits", raw='[{"bbox_2d": [100, 400, 600, 980], "label": "bed", '
                   '"confidence": ' + "9" * 400 + "}]"),
    grounding_case("grounding label list", [{"bbox_2d": GOOD[0]["bbox_2d"], "label": ["bed", "sofa"]}],
                   words="no label"),
    grounding_case("grounding Qwen2.5 file name", GOOD, file_name="answer.qwen2_5.json"),
    grounding_case("grounding nested 100 deep", raw="[" * 100 + "]" * 100, outcome="error"),
    Case("grounding UTF-16 with BOM", lambda f: build_args(f, text(f, "a.qwen3.json", json.dumps(GOOD).encode(
        "utf-16"))), "ok"),
    Case("grounding UTF-8 with BOM", lambda f: build_args(f, text(f, "a.qwen3.json", b"\xef\xbb\xbf" + json.dumps(
        GOOD).encode())), "ok"),
    Case("grounding Latin-1 bytes", lambda f: build_args(f, text(f, "a.json", '[{"label": "lit élevé"}]'.encode(
        "latin-1"))), "error", "not UTF-8"),
    Case("grounding binary garbage", lambda f: build_args(f, text(f, "a.json", bytes(range(256)) * 10)), "error"),
    Case("grounding 9 MB", lambda f: build_args(f, text(f, "a.json", "[" + " " * 9_000_000 + "]")), "error",
         "MB"),
    Case("grounding is a folder", lambda f: build_args(f, f), "error"),
    grounding_case("grounding layout only", raw=json.dumps({"room_type": "bedroom",
                                                            "layout": {"bed": {"position": "north wall"}}})),
    grounding_case("grounding layout with an absurd room", raw=json.dumps(
        {"room_type": "bedroom", "room_size": "900 x 900 m", "layout": {"bed": "north wall"}})),
    grounding_case("grounding pixels under 1000 on a large photo", GOOD, file_name="answer.json"),
    Case("grounding pixels under 1000 on a 2000 px photo", lambda f: build_args(
        f, answer(f, GOOD, "answer.json"), photo_path=photo(f, "big.png", np.full((1500, 2000, 3), 120, np.uint8))),
        "ok", "--grounding-format pixels"),
    Case("grounding small-image pixels on a large photo", lambda f: build_args(
        f, answer(f, [{"bbox_2d": [10, 200, 200, 300], "label": "bed"}, {"bbox_2d": [250, 150, 380, 320],
                                                                         "label": "wardrobe"},
                      {"bbox_2d": [200, 100, 300, 200], "label": "picture"}], "answer.json"),
        photo_path=photo(f, "big.png", np.full((600, 800, 3), 120, np.uint8))), "ok", "--grounding-format qwen2.5"),
]

OPTIONS = [
    option_case("focal 0", ["--focal-px", "0"], words="focal"),
    option_case("focal negative", ["--focal-px", "-5"], words="focal"),
    option_case("focal NaN", ["--focal-px", "nan"], words="focal"),
    option_case("focal infinite", ["--focal-px", "inf"], words="focal"),
    option_case("focal huge", ["--focal-px", "1e9"], words="focal"),
    option_case("focal not a number", ["--focal-px", "abc"], words="invalid float"),
    option_case("fov 0", ["--fov-deg", "0"], words="fov"),
    option_case("fov 180", ["--fov-deg", "180"], words="fov"),
    option_case("fov NaN", ["--fov-deg", "nan"], words="fov"),
    option_case("focal and fov", ["--focal-px", "500", "--fov-deg", "60"], words="not allowed"),
    option_case("camera height 0", ["--camera-height", "0"], words="camera-height"),
    option_case("camera height negative", ["--camera-height", "-1.5"], words="camera-height"),
    option_case("camera height 100 m", ["--camera-height", "100"], words="camera-height"),
    option_case("camera height NaN", ["--camera-height", "nan"], words="camera-height"),
    option_case("pitch 95", ["--pitch-deg", "95"], words="pitch"),
    option_case("pitch NaN", ["--pitch-deg", "nan"], words="pitch"),
    option_case("roll 200", ["--roll-deg", "200"], words="roll"),
    option_case("max pixels 0", ["--max-pixels", "0"], words="--max-pixels"),
    option_case("qwen25 max pixels 0", ["--qwen25-max-pixels", "0"], words="--qwen25-max-pixels"),
    option_case("qwen25 max pixels negative", ["--qwen25-max-pixels", "-5"], words="--qwen25-max-pixels"),
    option_case("qwen25 max pixels huge", ["--qwen25-max-pixels", "999999999999"], words="--qwen25-max-pixels"),
    option_case("vlm timeout 0", ["--vlm-timeout", "0"], words="--vlm-timeout"),
    option_case("vlm timeout NaN", ["--vlm-timeout", "nan"], words="--vlm-timeout"),
    option_case("vlm max tokens 0", ["--vlm-max-tokens", "0"], words="--vlm-max-tokens"),
    option_case("also unknown", ["--also", "fbx"], words="unknown --also"),
    option_case("also ply without depth", ["--also", "ply"], words="needs --depth"),
    option_case("grounding format unknown", ["--grounding-format", "yolo"], words="invalid choice"),
    option_case("task unknown", ["--task", "segment"], words="invalid choice"),
    option_case("unknown option", ["--colour", "red"], words="unrecognized"),
    option_case("grounding and vlm", ["--vlm", "file:x.txt"], words="not both"),
    option_case("depth empty", ["--depth", ""], words="--depth is empty"),
    option_case("depth unknown scheme", ["--depth", "s3:bucket/x"], words="depth"),
    option_case("depth kind unknown", ["--depth-kind", "inverse"], words="invalid choice"),
    option_case("grounding empty path", ["--grounding", ""], words="--grounding: is empty"),
    Case("vlm answer file missing", lambda f: build_args(f, None, "--vlm", "file:/nonexistent/answer.txt"), "error"),
]

DEPTHS = [
    depth_case("depth missing", lambda f: f / "none.npy", words="not found"),
    depth_case("depth npy in millimetres", lambda f: npy(f, np.full((H, W), 3500.0, np.float32)),
               words="millimetres"),
    depth_case("depth npy all zeros", lambda f: npy(f, np.zeros((H, W), np.float32)), words="no valid pixel"),
    depth_case("depth npy all NaN", lambda f: npy(f, np.full((H, W), np.nan, np.float32)), words="no valid pixel"),
    depth_case("depth npy 3 dimensions", lambda f: npy(f, np.ones((H, W, 3), np.float32)), words="(H, W)"),
    depth_case("depth npy 1 x 1", lambda f: npy(f, np.ones((1, 1), np.float32)), words="not usable"),
    depth_case("depth npy of strings", lambda f: npy(f, np.array([["a", "b"], ["c", "d"]])), words="real numbers"),
    depth_case("depth npy wrong aspect", lambda f: npy(f, np.ones((100, 800), np.float32)), words="aspect"),
    depth_case("depth npy of pickled objects", lambda f: _pickled(f), words="depth"),
    depth_case("depth text named .npy", lambda f: text(f, "d.npy", "not numpy"), words="cannot read"),
    depth_case("depth text named .png", lambda f: text(f, "d.png", "not png"), words="not a PNG"),
    depth_case("depth 8-bit PNG", lambda f: photo(f, "d8.png", np.full((H, W), 50, np.uint8)), words="16-bit"),
    depth_case("depth PNG bomb header", lambda f: bomb_png(f), words="too large"),
    depth_case("depth unknown extension", lambda f: text(f, "d.exr", "x"), words="depth"),
    depth_case("depth 16-bit PNG in millimetres", lambda f: png16(f, np.full((H, W), 3000)), "ok"),
    depth_case("depth npy half NaN", lambda f: npy(f, np.where(np.arange(W)[None, :] < W // 2, np.nan, 3.0) *
                                                   np.ones((H, 1), np.float32)), "ok"),
    depth_case("depth npy of another size", lambda f: npy(f, np.full((240, 320), 3.0, np.float32)), "ok"),
    depth_case("depth npy negative", lambda f: npy(f, np.full((H, W), -2.0, np.float32)), words="no valid pixel"),
    depth_case("depth relative kind", lambda f: npy(f, np.random.default_rng(0).uniform(0.2, 1.0, (H, W))), "ok",
               extra=("--depth-kind", "relative_disparity")),
]


def _pickled(folder: Path) -> Path:
    path = folder / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return path


OUTPUTS_CASES = [
    Case("output exists without --force", lambda f: ["build", str(photo(f)), "-o", str(_folder(f / "old"))],
         "error", "exists"),
    Case("output is a file", lambda f: ["build", str(photo(f)), "-o", str(text(f, "file.txt", "x")), "--force"],
         "error", "is a file"),
    Case("output is the working folder", lambda f: ["build", str(photo(f)), "-o", ".", "--force"], "error",
         "working folder"),
    Case("output is above the working folder", lambda f: ["build", str(photo(f)), "-o", "..", "--force"], "error",
         "working folder"),
    Case("output is the root", lambda f: ["build", str(photo(f)), "-o", "/", "--force"], "error"),
    Case("output name of 300 characters", lambda f: ["build", str(photo(f)), "-o", str(f / ("x" * 300))], "error"),
    Case("output name of 250 characters", lambda f: ["build", str(photo(f)), "-o", str(f / ("x" * 250))], "error",
         "too long"),
    Case("output empty", lambda f: ["build", str(photo(f)), "-o", ""], "error", "-o/--out: is empty"),
    Case("output holds the photo, with --force", lambda f: ["build", str(photo(_folder(f / "out2"))), "-o",
                                                            str(f / "out2"), "--force"], "error", "inside the output"),
    Case("output holds the grounding, with --force", lambda f: ["build", str(photo(f)), "-o", str(f / "out3"),
                                                                "--grounding", str(answer(_folder(f / "out3"), GOOD)),
                                                                "--force"], "error", "inside the output"),
    Case("output where nothing can be written", lambda f: ["build", str(photo(f)), "-o", "/proc/room3d-out"],
         "error", "cannot write"),
    Case("output under a file", lambda f: ["build", str(photo(f)), "-o", str(text(f, "plain", "x") / "out")],
         "error"),
    Case("output in a new nested folder", lambda f: build_args(f, answer(f, GOOD)) [:3] + [str(f / "a" / "b" / "c")]
         + ["--grounding", str(f / "answer.qwen3.json")], "ok"),
]


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "keep.txt").write_text("x")
    return path


OTHERS = [
    Case("relations missing file", lambda f: ["relations", str(f / "none.json")], "error", "not found"),
    Case("relations not JSON", lambda f: ["relations", str(text(f, "s.json", "{oops"))], "error", "cannot read"),
    Case("relations a list", lambda f: ["relations", str(text(f, "s.json", "[1, 2]"))], "error", "not a scene"),
    Case("relations objects of nonsense", lambda f: ["relations", str(text(f, "s.json", json.dumps(
        {"objects": [{"center": "x"}]})))], "error"),
    Case("camera missing photo", lambda f: ["camera", str(f / "none.png")], "error", "photo not found"),
    Case("camera photo is text", lambda f: ["camera", str(text(f, "a.png", "x"))], "error", "not an image"),
    Case("eval an empty folder", lambda f: ["eval", str(_folder(f / "empty"))], "error"),
    Case("eval a missing folder", lambda f: ["eval", str(f / "none")], "error"),
    Case("batch no photos", lambda f: ["batch", str(_folder(f / "empty")), "-o", "{out}"], "error", "no photos"),
    Case("batch manifest of bad JSON", lambda f: ["batch", str(text(f, "m.jsonl", '{"photo": 1e99999999}\n[[[')),
                                                  "-o", "{out}"], "error", "m.jsonl"),
    Case("batch manifest with a huge CSV field", lambda f: ["batch", str(text(f, "m.csv", 'photo\n"' + "x" * 200_000
                                                                                 + '"\n')), "-o", "{out}"], "error",
         "not CSV"),
    Case("batch manifest with a 5000-digit number", lambda f: [
        "batch", str(text(f, "m.jsonl", '{"photo": "a.png", "focal_px": ' + "9" * 5000 + "}\n")), "-o", "{out}"],
        "error", "m.jsonl"),
    Case("batch jobs 0", lambda f: ["batch", str(f), "-o", "{out}", "--jobs", "0"], "error", "--jobs"),
    Case("serve upload limit infinite", lambda f: ["serve", "--max-upload-mb", "inf", "--data", str(f)], "error",
         "--max-upload-mb"),
    Case("serve upload limit NaN", lambda f: ["serve", "--max-upload-mb", "nan", "--data", str(f)], "error",
         "--max-upload-mb"),
    Case("serve port 70000", lambda f: ["serve", "--port", "70000", "--data", str(f)], "error", "--port"),
    Case("serve no workers", lambda f: ["serve", "--max-jobs", "0", "--data", str(f)], "error", "--max-jobs"),
    Case("serve negative queue", lambda f: ["serve", "--max-queue", "-1", "--data", str(f)], "error", "--max-queue"),
    Case("serve data is a file", lambda f: ["serve", "--data", str(text(f, "data", "x"))], "error", "--data"),
    Case("eval crop NaN", lambda f: ["eval", str(SAMPLES), "--crop", "nan"], "error", "--crop"),
    Case("no command", lambda f: [], "error", "required"),
    Case("unknown command", lambda f: ["render"], "error", "invalid choice"),
]

CATALOGUE = PHOTOS + GROUNDINGS + OPTIONS + DEPTHS + OUTPUTS_CASES + OTHERS


def test_the_catalogue_is_large_and_named_uniquely():
    names = [case.name for case in CATALOGUE]
    assert len(names) >= 150 and len(set(names)) == len(names)


@pytest.mark.parametrize("case", CATALOGUE, ids=[case.name for case in CATALOGUE])
def test_hostile_input(case: Case, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)  # "-o ." and "-o .." name these, never the repository
    out = tmp_path / "result" / "out"
    args = [a.replace("{out}", str(out)) for a in case.setup(folder)]
    try:
        code = main(args)
    except SystemExit as stop:  # argparse's exits
        code = stop.code
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    if case.outcome == "error":
        lines = captured.err.strip().splitlines()
        assert code == 2, captured.err
        assert len(lines) == 1 and lines[0].startswith("room3d: error: "), captured.err
        assert case.words in lines[0], lines[0]
        assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir())), "something was written"
        assert not any(work.iterdir()), "something was written in the working folder"
        return
    assert code == 0, captured.err
    target = Path(args[args.index("-o") + 1])
    written = {p.name for p in target.iterdir()}
    assert OUTPUTS <= written, written
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")], "a staging folder was left behind"
    scene = json.loads((target / "scene.json").read_text())
    if case.words:
        assert any(case.words in w for w in scene["warnings"]), scene["warnings"]
        assert case.words in captured.err
    for obj in scene["objects"]:
        centre = np.array(obj["center"])
        assert np.all(np.isfinite(centre)) and np.linalg.norm(centre) < FARTHEST_M, (obj["label"], centre)
        assert all(math.isfinite(v) and 0 < v < FARTHEST_M for v in obj["size"]), (obj["label"], obj["size"])
    labels = " ".join(o["label"] for o in scene["objects"])
    assert "\u202e" not in labels and "\x00" not in labels


def test_force_through_a_link_replaces_the_folder_it_points_to_and_leaves_nothing_behind(tmp_path, capsys):
    real = tmp_path / "real"
    assert main(["build", str(BEDROOM / "photo.png"), "-o", str(real)]) == 0
    link = tmp_path / "link"
    link.symlink_to(real)
    assert main(["build", str(BEDROOM / "photo.png"), "-o", str(link), "--force",
                 "--grounding", str(BEDROOM / "grounding.qwen3.json")]) == 0
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert json.loads((real / "scene.json").read_text())["objects"], "the build went where the link points"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"], "nothing hidden left behind"
    capsys.readouterr()


def test_a_broken_pipe_ends_quietly(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "out"
    assert main(["build", str(BEDROOM / "photo.png"), "-o", str(out), "--grounding",
                 str(BEDROOM / "grounding.qwen3.json")]) == 0
    command = f"'{sys.executable}' -m pipeline relations '{out / 'scene.json'}' | head -1"
    result = subprocess.run(["bash", "-c", "set -o pipefail; " + command], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr
    assert result.stdout.startswith("a ")
    shutil.rmtree(out)
