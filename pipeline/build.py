"""The whole pipeline for one photo: photo -> grounding -> camera -> solve -> export, into an output folder.

Outputs are written into a temporary folder beside the destination and renamed into place at the end, so a
failed run never leaves a half-written folder.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from . import frames
from .camera import estimate_camera
from .errors import UserError
from .export.floorplan import floorplan_svg
from .export.gltf import glb_to_gltf, scene_to_glb
from .export.manifest import scene_manifest
from .export.overlay import draw_overlay
from .export.page import render_page
from .grounding import read_grounding
from .photo import DEFAULT_MAX_PIXELS, downscaled, load_photo
from .solve import solve
from .vlm import redact_source


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
    depth: str | None = None
    """Depth map of the photo: ``file:PATH`` (.npy in metres or 16-bit .png in millimetres) or ``hf:MODEL`` (Depth
    Anything V2 or Depth Pro, a Hugging Face id or a local folder). Written as ``points.ply``."""
    depth_kind: str | None = None
    """What a depth file holds: metric_depth (default), relative_depth or relative_disparity."""
    max_pixels: int = DEFAULT_MAX_PIXELS
    """Refuse photos with more pixels than this."""
    qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS
    """max_pixels of the Qwen2.5-VL processor that produced the grounding."""
    force: bool = False
    """Replace the output folder if it exists."""
    vlm: str | None = None
    """Where to get the model's answer (instead of a grounding file): ``http(s)://HOST:PORT/v1`` (an
    OpenAI-compatible server), ``hf:MODEL_ID_OR_FOLDER`` (a local Qwen2.5-VL / Qwen3-VL with transformers) or
    ``file:PATH`` (a recorded answer, e.g. a saved vlm_answer.txt)."""
    vlm_model: str | None = None
    """Model name on that server (servers only)."""
    vlm_device: str = "auto"
    """Device of a local model: auto (cuda if available, else cpu), cpu, cuda, cuda:N or mps."""
    vlm_dtype: str = "auto"
    """Precision of a local model: auto (bfloat16 on cuda, float32 on cpu), bfloat16, float16 or float32."""
    vlm_max_tokens: int | None = None
    """Most tokens in the model's answer (default: 4096 for a server, 1024 for a local model)."""
    task: str = "grounding_2d"
    """What to ask the model: grounding_2d, grounding_3d or layout."""
    vlm_timeout_s: float = 30.0
    """Total time budget for the model call, retries included."""
    vlm_api_key_env: str | None = "ROOM3D_API_KEY"
    """Environment variable with the server's API key (OPENAI_API_KEY when unset); None: send no key (the web app,
    for an endpoint typed into its form)."""
    also: tuple[str, ...] = ()
    """Extra outputs: ``gltf`` writes ``scene.gltf`` + ``scene.bin`` (the GLB as JSON and a separate buffer)."""
    edits: Path | None = None
    """A person's corrections of an earlier build of this photo (``edits.json``, saved by its page; see
    ``pipeline/edits.py``): those objects keep the boxes given, removed ones are dropped, relabelled ones solved
    with their new label, and the others solved again around them, with that scene's camera."""


@dataclass(frozen=True)
class BuildResult:
    out_dir: Path
    object_count: int
    warnings: tuple[str, ...]
    manifest: dict


#: The longest output folder name (bytes): a filesystem's 255 less what the staging folder adds
#: (``.NAME.xxxxxxxx.tmp``).
MAX_OUTPUT_NAME_BYTES = 255 - len("..12345678.tmp")
#: Steps timed in ``timings_s`` but not announced to ``progress`` (bookkeeping within a stage the user knows).
QUIET_STAGES = frozenset({"preview", "export_manifest", "write_page", "export_json"})
#: What ``BuildOptions.also`` accepts (``ply``: ``points.ply``, written whenever depth is given; it needs depth).
ALSO_OUTPUTS = ("gltf", "ply")


def build(photo_path: str | Path, out_dir: str | Path, options: BuildOptions = BuildOptions(),
          progress: Callable[[str], None] | None = None) -> BuildResult:
    """Run every stage on one photo and write ``scene.glb``, ``scene.json``, ``index.html``, ``overlay.jpg`` and
    ``floorplan.svg``.

    ``progress``, if given, is called with the stage's name (``photo``, ``grounding``, ``camera``, ``solve``,
    ``export_glb`` ...) as each stage starts.
    """
    unknown = sorted(set(options.also) - set(ALSO_OUTPUTS))
    if unknown:
        raise UserError(f"unknown --also output {', '.join(unknown)} (choose from {', '.join(ALSO_OUTPUTS)})")
    if "ply" in options.also and not options.depth:
        raise UserError("--also ply needs --depth: points.ply is the point cloud of the depth map")
    if options.vlm and options.grounding is not None:  # before any model is loaded
        raise UserError("give either --grounding or --vlm, not both")
    check_options(options)
    edits = None
    if options.edits is not None:
        from .edits import read_edits

        edits = read_edits(options.edits)
    out_dir = output_folder(out_dir, options, photo_path)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def timed(stage, function, *args, **kwargs):
        if progress is not None and stage not in QUIET_STAGES:
            progress(stage)
        start = time.perf_counter()
        result = function(*args, **kwargs)
        timings[stage] = round(time.perf_counter() - start, 6)
        return result

    photo = timed("photo", load_photo, photo_path, max_pixels=options.max_pixels)
    depth, depth_record, depth_notes = None, None, []
    if options.depth:
        from .depth import load_depth

        depth = timed("depth", load_depth, options.depth, photo, kind=options.depth_kind, notes=depth_notes)
    answer = None
    if options.vlm:
        from . import vlm

        answer = timed("vlm", vlm.ask, photo, options.vlm, options.vlm_model, task=options.task,
                       timeout_s=options.vlm_timeout_s, max_tokens=options.vlm_max_tokens,
                       api_key_env=options.vlm_api_key_env,
                       device=options.vlm_device, dtype=options.vlm_dtype,
                       grounding_format=None if options.grounding_format == "auto" else options.grounding_format,
                       qwen25_max_pixels=options.qwen25_max_pixels)
        grounding = timed("grounding", vlm.grounding_or_warning, answer)
    else:
        grounding = timed("grounding", read_grounding, options.grounding, photo.width_px, photo.height_px,
                          format=options.grounding_format, qwen25_max_pixels=options.qwen25_max_pixels)
    camera = timed("camera", estimate_camera, photo, focal_px=options.focal_px, fov_deg=options.fov_deg,
                   camera_height_m=options.camera_height_m, pitch_deg=options.pitch_deg,
                   roll_deg=options.roll_deg, depth=depth, detections=grounding.detections)
    fixed, extra, edit_notes, pinned = None, (), [], None
    if edits is not None:
        from .edits import edited_camera, edited_grounding

        if edits.photo_sha256 and photo.sha256 and edits.photo_sha256 != photo.sha256:
            edit_notes.append(f"the edits ({edits.source}) were made on another photo (its sha256 differs): "
                              "check that they belong to this one")
        if edits.camera is not None:
            pinned = edited_camera(camera, edits)
        grounding, fixed, extra = edited_grounding(grounding, edits, pinned or camera, edit_notes)
    depth_scale = None
    if depth is not None:
        from .depth import depth_for_scene, depth_scale as scale_of

        depth, depth_record = timed("depth_align", depth_for_scene, depth, camera, depth_notes)
        depth_scale = scale_of(depth_record)
        if depth is None and (camera.intrinsics_source == "depth_model" or "depth" in camera.attitude_source):
            # a dropped map's focal and planes are no better than its depths
            camera = timed("camera_again", estimate_camera, photo, focal_px=options.focal_px,
                           fov_deg=options.fov_deg, camera_height_m=options.camera_height_m,
                           pitch_deg=options.pitch_deg, roll_deg=options.roll_deg,
                           detections=grounding.detections)
            depth_notes.append("the depth map's field of view and planes were not used either, as its map was "
                               "dropped")
        if depth is None and "ply" in options.also:
            depth_notes.append("no points.ply written: --also ply asked for it, but the depth map was not used "
                               "(see the depth warning)")
    scene = timed("solve", solve, grounding, camera, depth=depth, depth_scale=depth_scale, fixed=fixed,
                  extra=tuple(extra), pinned_camera=pinned)
    point_cloud = None
    if depth is not None:
        from .depth import scale_depth
        from .export.pointcloud import point_cloud_from_depth

        if depth_scale is not None:  # the map follows the scene's camera height, as the solver's fits did
            depth = scale_depth(depth, scene.camera.height_m / depth_scale.camera_height_m)
        point_cloud = timed("point_cloud", point_cloud_from_depth, depth, scene.camera, photo.rgb)

    inputs = {
        "photo": str(photo.path),
        "photo_sha256": photo.sha256,
        "exif_orientation": photo.exif_orientation,
        "exif_focal_35mm_mm": photo.focal_35mm_mm,
        "grounding": str(options.grounding) if options.grounding else None,
        "grounding_has_layout": grounding.layout is not None,
        "vlm": None if answer is None else vlm.answer_record(answer),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(options).items()}
        | {"vlm": redact_source(options.vlm)},  # an endpoint without user:password@ or ?api_key=
        "depth": depth_record,
        "edits": None if edits is None else edits.summary(),
    }
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    except OSError as error:
        raise UserError(f"cannot write the output folder {out_dir}: {error.strerror or error}") from None
    staging.chmod(0o755)  # mkdtemp makes it private; the result is a folder to share and serve
    finished = False
    try:
        glb = timed("export_glb", scene_to_glb, scene)
        (staging / "scene.glb").write_bytes(glb)
        if "gltf" in options.also:
            gltf_text, gltf_bin = glb_to_gltf(glb, "scene.bin")
            (staging / "scene.gltf").write_text(gltf_text, encoding="utf-8")
            (staging / "scene.bin").write_bytes(gltf_bin)
        if answer is not None:  # the raw answer, replayable offline with --grounding
            vlm.save_answer(answer, staging)
        preview = timed("preview", downscaled, photo.rgb)  # once, for the overlay and the page
        timed("export_overlay", draw_overlay, scene, preview, staging / "overlay.jpg", grounding.detections)
        if point_cloud is not None:
            from .export.pointcloud import write_ply

            write_ply(point_cloud, staging / "points.ply")
        manifest = timed("export_manifest", scene_manifest, scene, grounding, inputs, timings)
        manifest["warnings"][:0] = list(photo.notes)
        manifest["warnings"].extend(depth_notes + edit_notes)
        plan = timed("export_floorplan", floorplan_svg, scene, f"{photo.path.name}: floor plan",
                     manifest["room"].get("dimensions"))
        (staging / "floorplan.svg").write_text(plan, encoding="utf-8")
        manifest["outputs"] = {"glb": "scene.glb", "page": "index.html", "overlay": "overlay.jpg",
                               "floorplan": "floorplan.svg", "manifest": "scene.json"}
        if "gltf" in options.also:
            manifest["outputs"].update({"gltf": "scene.gltf", "gltf_buffer": "scene.bin"})
        if point_cloud is not None:
            manifest["outputs"]["points"] = "points.ply"
        title = f"room3d · {photo.path.name}"
        # the page needs no relations: keep it light
        page_data = {key: value for key, value in manifest.items() if key != "relations"}
        page = timed("export_page", render_page, page_data, glb, title, photo_rgb=preview, point_cloud=point_cloud,
                     plan_svg=plan)
        timed("write_page", (staging / "index.html").write_text, page, encoding="utf-8")
        timed("export_json", json.dumps, manifest, indent=1, ensure_ascii=False)  # measured, then written with it
        timings["total"] = round(time.perf_counter() - started, 6)
        (staging / "scene.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        _replace(staging, out_dir)
        finished = True
    except OSError as error:  # a full disk, a folder taken away meanwhile: one line, nothing half-written left
        raise UserError(f"cannot write the output folder {out_dir}: {error.strerror or error}") from None
    finally:
        if not finished:
            shutil.rmtree(staging, ignore_errors=True)
    return BuildResult(out_dir, len(scene.objects), tuple(manifest["warnings"]), manifest)


def check_options(options: BuildOptions) -> None:
    """UserError (one line) for an option out of its range, before any work: the checks the command line, a batch
    manifest and the web form share."""
    from . import limits
    from .grounding import FORMATS

    if options.vlm_max_tokens is not None and options.vlm_max_tokens < 1:
        raise UserError(f"--vlm-max-tokens must be at least 1, not {options.vlm_max_tokens}")
    if not isinstance(options.max_pixels, int) or options.max_pixels < limits.MIN_PHOTO_PIXELS:
        raise UserError(f"--max-pixels must be a whole number of at least {limits.MIN_PHOTO_PIXELS}, not "
                        f"{options.max_pixels}")
    if not isinstance(options.qwen25_max_pixels, int) or \
            not limits.QWEN25_MIN_PIXELS <= options.qwen25_max_pixels <= limits.QWEN25_LARGEST_MAX_PIXELS:
        raise UserError(f"--qwen25-max-pixels must be between {limits.QWEN25_MIN_PIXELS} and "
                        f"{limits.QWEN25_LARGEST_MAX_PIXELS} (the processor's max_pixels; its default is "
                        f"{limits.QWEN25_MAX_PIXELS}), not {options.qwen25_max_pixels}")
    if not (isinstance(options.vlm_timeout_s, (int, float)) and math.isfinite(options.vlm_timeout_s)
            and 0 < options.vlm_timeout_s <= limits.MAX_VLM_TIMEOUT_S):
        raise UserError(f"--vlm-timeout must be more than 0 and at most {limits.MAX_VLM_TIMEOUT_S:g} seconds, not "
                        f"{options.vlm_timeout_s}")
    if options.grounding_format not in FORMATS:
        raise UserError(f"--grounding-format must be one of {', '.join(FORMATS)}, not {options.grounding_format!r}")
    if options.depth is not None and not str(options.depth).strip():
        raise UserError("--depth is empty: give file:PATH (a depth file) or hf:MODEL (a depth model)")
    if options.grounding is not None and not str(options.grounding).strip():
        raise UserError("--grounding is empty: give the model's answer saved in a file")
    if options.edits is not None and not str(options.edits).strip():
        raise UserError("--edits is empty: give the edits.json saved from the scene's page")


def output_folder(out_dir: str | Path, options: BuildOptions, photo_path: str | Path) -> Path:
    """The folder to write (a link to a folder: the folder it points to), checked before any work: not the
    working folder or one above it, not a folder holding the inputs when ``--force`` would replace it, a name the
    filesystem takes; UserError (one line) otherwise."""
    out_dir = Path(out_dir)
    if not str(out_dir).strip():
        raise UserError("the output folder (-o) is empty")
    try:
        if out_dir.is_symlink():
            out_dir = out_dir.resolve()
        exists = out_dir.exists()
        is_dir = out_dir.is_dir()
    except OSError as error:  # a name too long, a loop of links
        raise UserError(f"cannot use the output folder {out_dir}: {error.strerror or error}") from None
    if len(out_dir.absolute().name.encode("utf-8")) > MAX_OUTPUT_NAME_BYTES:
        raise UserError(f"the output folder's name is too long ({len(out_dir.name.encode('utf-8'))} bytes; at most "
                        f"{MAX_OUTPUT_NAME_BYTES})")
    if exists and not options.force:
        raise UserError(f"output folder exists: {out_dir} (use --force to replace it)")
    if exists and not is_dir:
        raise UserError(f"output path is a file: {out_dir}")
    absolute = Path(os.path.abspath(out_dir))
    if absolute == Path(absolute.anchor) or absolute in (Path.cwd(), *Path.cwd().parents):
        raise UserError(f"the output folder {out_dir} is the working folder or holds it: name a new folder")
    if exists and options.force:
        for name, path in (("photo", photo_path), ("grounding file", options.grounding), ("edits file", options.edits),
                           ("depth file", str(options.depth)[5:] if str(options.depth or "").startswith("file:")
                            else None)):
            if path is not None and Path(os.path.abspath(path)).is_relative_to(absolute):
                raise UserError(f"the {name} {path} is inside the output folder {out_dir}, which --force would "
                                "replace: write the output elsewhere")
    return absolute


def _replace(staging: Path, out_dir: Path) -> None:
    """Move ``staging`` to ``out_dir``; an existing ``out_dir`` (``--force``) is removed only after the move."""
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{time.time_ns()}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
