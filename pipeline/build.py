"""The whole pipeline for one photo: photo -> grounding -> camera -> solve -> export, into an output folder.

Outputs are written into a temporary folder beside the destination and renamed into place at the end, so a
failed run never leaves a half-written folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import frames
from .camera import estimate_camera
from .errors import UserError
from .export.gltf import scene_to_glb
from .export.manifest import scene_manifest
from .export.overlay import draw_overlay
from .export.page import render_page
from .grounding import read_grounding
from .photo import DEFAULT_MAX_PIXELS, load_photo
from .solve import solve


@dataclass(frozen=True)
class BuildOptions:
    """Options of ``room3d build``; every field is optional."""

    grounding: Path | None = None
    """Grounding file: the model's answer with 2D boxes and labels (JSON, fenced or not), a room-layout answer
    (``{"room_type": .., "layout": {..}}``, see ``pipeline/layout.py``), or both."""
    grounding_format: str = "auto"
    """Coordinates of the grounding boxes: auto, qwen2.5, qwen3 or pixels."""
    focal_px: float | None = None
    """Focal length in pixels of the photo (overrides EXIF)."""
    fov_deg: float | None = None
    """Horizontal field of view of the photo in degrees (overrides EXIF)."""
    camera_height_m: float | None = None
    """Height of the camera above the floor in metres (default: a hand-held prior)."""
    pitch_deg: float | None = None
    """Camera pitch in degrees, negative looking down (default: level)."""
    roll_deg: float | None = None
    """Camera roll in degrees (default: 0)."""
    max_pixels: int = DEFAULT_MAX_PIXELS
    """Refuse photos with more pixels than this."""
    qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS
    """max_pixels of the Qwen2.5-VL processor that produced the grounding."""
    force: bool = False
    """Replace the output folder if it exists."""
    vlm: str | None = None
    """API base of an OpenAI-compatible server to ask for the grounding (instead of a grounding file)."""
    vlm_model: str | None = None
    """Model name on that server."""
    task: str = "grounding_2d"
    """What to ask the model: grounding_2d, grounding_3d or layout."""
    vlm_timeout_s: float = 30.0
    """Total time budget for the model call, retries included."""


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    object_count: int
    warnings: tuple[str, ...]
    manifest: dict


def build(photo_path: str | Path, out_dir: str | Path, options: BuildOptions = BuildOptions()) -> BuildResult:
    """Run every stage on one photo and write ``scene.glb``, ``scene.json``, ``index.html`` and ``overlay.png``."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not options.force:
        raise UserError(f"output folder exists: {out_dir} (use --force to replace it)")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"output path is a file: {out_dir}")
    timings: dict[str, float] = {}

    def timed(stage, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        timings[stage] = round(time.perf_counter() - start, 6)
        return result

    photo = timed("photo", load_photo, photo_path, max_pixels=options.max_pixels)
    answer = None
    if options.vlm:
        from . import vlm

        if options.grounding is not None:
            raise UserError("give either --grounding or --vlm, not both")
        if not options.vlm_model:
            raise UserError(f"--vlm needs --vlm-model (the served models are listed at {options.vlm}/models)")
        answer = timed("vlm", vlm.ask_server, photo, options.vlm, options.vlm_model, task=options.task,
                       timeout_s=options.vlm_timeout_s,
                       grounding_format=None if options.grounding_format == "auto" else options.grounding_format,
                       qwen25_max_pixels=min(options.qwen25_max_pixels, vlm.QWEN25_SEND_MAX_PIXELS))
        grounding = timed("grounding", vlm.grounding_from_answer, answer)
    else:
        grounding = timed("grounding", read_grounding, options.grounding, photo.width_px, photo.height_px,
                          format=options.grounding_format, qwen25_max_pixels=options.qwen25_max_pixels)
    camera = timed("camera", estimate_camera, photo, focal_px=options.focal_px, fov_deg=options.fov_deg,
                   camera_height_m=options.camera_height_m, pitch_deg=options.pitch_deg,
                   roll_deg=options.roll_deg)
    scene = timed("solve", solve, grounding, camera)

    inputs = {
        "photo": str(photo.path),
        "photo_sha256": hashlib.sha256(photo.path.read_bytes()).hexdigest(),
        "exif_orientation": photo.exif_orientation,
        "exif_focal_35mm_mm": photo.focal_35mm_mm,
        "grounding": str(options.grounding) if options.grounding else None,
        "grounding_has_layout": grounding.layout is not None,
        "vlm": None if answer is None else vlm.answer_record(answer),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()},
    }
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the result is a folder to share and serve
    finished = False
    try:
        glb = timed("export_glb", scene_to_glb, scene)
        (staging / "scene.glb").write_bytes(glb)
        if answer is not None:  # the raw answer, replayable offline with --grounding
            vlm.save_answer(answer, staging)
        timed("export_overlay", draw_overlay, scene, photo.rgb, staging / "overlay.png", grounding.detections)
        manifest = scene_manifest(scene, grounding, inputs, timings)
        manifest["outputs"] = {"glb": "scene.glb", "page": "index.html", "overlay": "overlay.png",
                               "manifest": "scene.json"}
        title = f"room3d · {photo.path.name}"
        # the page needs no relations: keep it light
        page_data = {key: value for key, value in manifest.items() if key != "relations"}
        page = timed("export_page", render_page, page_data, glb, title)
        (staging / "index.html").write_text(page, encoding="utf-8")
        (staging / "scene.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _replace(staging, out_dir)
        finished = True
    finally:
        if not finished:
            shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out_dir, len(scene.objects), tuple(manifest["warnings"]), manifest)


def _replace(staging: Path, out_dir: Path) -> None:
    """Move ``staging`` to ``out_dir``; an existing ``out_dir`` (``--force``) is removed only after the move."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{time.time_ns()}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
