"""``room3d``: a thin command line over the library. Each command calls one library function.

Bad input ends with one line on stderr and exit code 2; warnings are printed and the run goes on.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .errors import UserError


def _also(args: argparse.Namespace) -> tuple[str, ...]:
    """``--also`` given several times or as a comma list, each name once."""
    return tuple(dict.fromkeys(name.strip() for value in args.also or () for name in value.split(",") if name.strip()))


def _build(args: argparse.Namespace) -> int:
    from .build import BuildOptions, build

    options = BuildOptions(
        grounding=args.grounding,
        grounding_format=args.grounding_format,
        focal_px=args.focal_px,
        fov_deg=args.fov_deg,
        camera_height_m=args.camera_height,
        pitch_deg=args.pitch_deg,
        roll_deg=args.roll_deg,
        depth=args.depth,
        depth_kind=args.depth_kind,
        max_pixels=args.max_pixels,
        qwen25_max_pixels=args.qwen25_max_pixels,
        force=args.force,
        vlm=args.vlm,
        vlm_model=args.vlm_model,
        task=args.task,
        vlm_timeout_s=args.vlm_timeout,
        vlm_device=args.vlm_device,
        vlm_dtype=args.vlm_dtype,
        vlm_max_tokens=args.vlm_max_tokens,
        also=_also(args),
        edits=args.edits,
    )
    result = build(args.photo, args.out, options)
    for warning in result.warnings:
        print(f"room3d: warning: {warning}", file=sys.stderr)
    camera = result.manifest["camera"]
    print(f"{result.object_count} objects; focal {camera['fx']:.0f} px ({camera['intrinsics_source']}); "
          f"grounding format {result.manifest['grounding']['format']}")
    room = room_line(result.manifest["room"].get("dimensions") or {})
    if room:
        print(room)
    edits = result.manifest["inputs"].get("edits")
    if edits:
        print(f"edits: {edits['fixed']} kept as given, {edits['added']} added, {edits['removed']} removed, "
              f"{edits['relabeled']} relabelled; camera {edits['camera']}; the others solved again around them")
    print(f"page: {(result.out_dir / 'index.html').resolve()}")
    return 0


def _batch(args: argparse.Namespace) -> int:
    from .batch import find_items, run_batch
    from .build import BuildOptions

    if args.jobs is not None and args.jobs < 1:
        raise UserError(f"--jobs must be at least 1, not {args.jobs}")
    if args.force and args.retry_failed:
        raise UserError("give either --force (rebuild every photo) or --retry-failed (only the failed), not both")
    options = BuildOptions(
        grounding_format=args.grounding_format, focal_px=args.focal_px, fov_deg=args.fov_deg,
        camera_height_m=args.camera_height, depth_kind=args.depth_kind, max_pixels=args.max_pixels,
        qwen25_max_pixels=args.qwen25_max_pixels, vlm=args.vlm, vlm_model=args.vlm_model, task=args.task,
        vlm_timeout_s=args.vlm_timeout,
        also=_also(args))
    items = find_items(args.inputs, options)

    def failed(record: dict) -> None:
        print(f"room3d: warning: {record['name']}: {record['error']}", file=sys.stderr)

    result = run_batch(items, args.out, jobs=args.jobs, ray=args.ray, force=args.force,
                       retry_failed=args.retry_failed, progress=sys.stderr.isatty(), on_failure=failed)
    earlier = sum(1 for r in result.records if r["status"] == "failed" and r.get("skipped"))
    print(f"batch: {result.built} built, {result.failed} failed"
          + (f" ({earlier} earlier, unchanged: --retry-failed tries them again)" if earlier else "")
          + f", {result.skipped} skipped (unchanged) of {len(items)} photos in {result.seconds:.1f} s "
          f"({result.photos_per_second:.2f} photos/s)")
    print(f"gallery: {(result.out_dir / 'index.html').resolve()}")
    return 1 if result.failed else 0


#: How each source of a room dimension reads on the terminal.
ROOM_SOURCES = {"depth": "measured", "depth+inferred": "one wall measured, the other not seen",
                "layout": "from the layout answer", "prior": "a typical height, not measured",
                "objects": "above the tallest object, not measured",
                "inferred": "walls inferred from the objects in view"}


def room_line(dimensions: dict) -> str:
    """One line of the room's size for the terminal, e.g. ``room: 3.42 x >=4.10 m, 2.60 m high, floor >=14.0 m2
    (width: walls inferred from the objects in view; ...)``; empty without dimensions. ``>=``: at least that
    (a wall not seen)."""
    def value(name: str, digits: int) -> str:
        d = dimensions[name]
        return (">=" if d["at_least"] else "") + f"{d['value']:.{digits}f}"

    if not {"width", "depth", "floor_area"} <= set(dimensions):
        return ""
    text = f"room: {value('width', 2)} x {value('depth', 2)} m"
    if "height" in dimensions:
        text += f", {value('height', 2)} m high"
    text += f", floor {value('floor_area', 1)} m2 ("
    return text + "; ".join(f"{name}: {ROOM_SOURCES.get(dimensions[name]['source'], dimensions[name]['source'])}"
                            for name in ("width", "depth", "height") if name in dimensions) + ")"


def _camera(args: argparse.Namespace) -> int:
    import json
    import math

    from .camera import estimate_camera
    from .photo import load_photo

    photo = load_photo(args.photo, max_pixels=args.max_pixels)
    depth = detections = None
    if args.depth:
        from .depth import load_depth

        notes: list[str] = []
        depth = load_depth(args.depth, photo, kind=args.depth_kind, notes=notes)
        for note in notes:
            print(f"room3d: warning: {note}", file=sys.stderr)
    if args.grounding:
        from .grounding import read_grounding

        detections = read_grounding(args.grounding, photo.width_px, photo.height_px).detections
    camera = estimate_camera(photo, focal_px=args.focal_px, fov_deg=args.fov_deg, depth=depth, detections=detections)
    for warning in camera.warnings:
        print(f"room3d: warning: {warning}", file=sys.stderr)
    intrinsics = camera.intrinsics
    summary = {
        "focal_px": intrinsics.fx_px,
        "horizontal_fov_deg": math.degrees(intrinsics.horizontal_fov_rad),
        "vertical_fov_deg": math.degrees(intrinsics.vertical_fov_rad),
        "intrinsics_source": camera.intrinsics_source,
        "intrinsics_confidence": camera.intrinsics_confidence,
        "pitch_deg": math.degrees(camera.pitch_rad),
        "roll_deg": math.degrees(camera.roll_rad),
        "attitude_source": camera.attitude_source,
        "attitude_confidence": camera.attitude_confidence,
        "attitude_sigma_deg": camera.attitude_sigma_deg,
        "room_yaw_deg": math.degrees(camera.room_yaw_rad),
        "room_yaw_source": camera.room_yaw_source,
        "notes": list(camera.notes),
        "warnings": list(camera.warnings),
    }
    if args.overlay:
        from .export.overlay import draw_camera_overlay

        args.overlay.parent.mkdir(parents=True, exist_ok=True)
        partial = args.overlay.with_name(f".{args.overlay.name}.partial.png")
        draw_camera_overlay(camera, photo.rgb, partial)
        partial.replace(args.overlay)
        summary["overlay"] = str(args.overlay)
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"focal     {summary['focal_px']:.1f} px  (FOV {summary['horizontal_fov_deg']:.1f} x "
          f"{summary['vertical_fov_deg']:.1f} deg)  source {camera.intrinsics_source}, "
          f"confidence {camera.intrinsics_confidence:.2f}")
    print(f"pitch     {summary['pitch_deg']:+.2f} deg   roll {summary['roll_deg']:+.2f} deg  "
          f"source {camera.attitude_source}, confidence {camera.attitude_confidence:.2f}")
    print(f"room yaw  {summary['room_yaw_deg']:+.2f} deg  source {camera.room_yaw_source}")
    for note in camera.notes:
        print(f"note      {note}")
    if args.overlay:
        print(f"overlay   {args.overlay}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    import json

    from . import evaluate

    kind, cases = evaluate.find_cases(args.samples)
    if args.crop is not None and (kind != "realdev" or not (0.2 <= args.crop <= 1.0)):
        raise UserError("--crop takes a fraction between 0.2 and 1, for real-photo cases (realdev) only")
    depth = f" + depth ({args.depth})" if args.depth else ""
    depth += f", centred crop {args.crop:g}" if args.crop is not None else ""
    runs = []
    for given in args.given:
        if kind == "realdev":
            cameras, objects = evaluate.evaluate_realdev(cases, given, depth_name=args.depth, crop=args.crop)
            summary = evaluate.realdev_summary(cameras, objects)
            text = evaluate.realdev_report(cameras, objects, given + depth, per_object=args.objects)
            if args.objects:
                summary["classes"] = evaluate.realdev_class_summary(objects)
        else:
            cameras, objects = evaluate.evaluate(cases, given, depth_name=args.depth)
            summary = evaluate.sample_summary(cameras, objects)
            text = evaluate.report(cameras, objects, given + depth, per_object=args.objects)
        if args.json:
            runs.append({"given": given, "depth": args.depth, "crop": args.crop, "summary": summary,
                         "cases": [vars(c) for c in cameras],
                         **({"objects": [vars(o) for o in objects]} if args.objects else {})})
        else:
            print(text)
    if args.json:
        print(json.dumps(_finite({"kind": kind, "runs": runs}), indent=1, allow_nan=False))
    return 0


def _finite(value):
    """``value`` (JSON types) with every NaN or infinite float as None: strict JSON has no NaN (a figure that
    could not be measured, such as the layout error of a crop)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _relations(args: argparse.Namespace) -> int:
    import json

    from .relations import describe, pair, relations

    path = args.scene / "scene.json" if args.scene.is_dir() else args.scene
    try:
        scene = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"scene file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"cannot read {path} as scene.json: {error}") from None
    focused = args.between is not None or args.object is not None
    result = relations(scene, all_pairs=focused)
    if args.between:
        entry = pair(result, *args.between)
        sentence = describe(result, *args.between)
        if args.json:
            print(json.dumps({"pair": entry, "sentence": sentence}, indent=1))
            return 0
        print(sentence)
        _print_pairs([entry])
        return 0
    if args.object:
        others = sorted(result["walls"].keys() - {args.object}, key=list(result["walls"]).index)
        entries = [pair(result, args.object, other) for other in others] if args.object in result["walls"] \
            else [pair(result, args.object, args.object)]  # unknown name: pair() explains
        entries.sort(key=lambda entry: entry["gap_m"])
        if args.json:
            print(json.dumps({"object": args.object, "pairs": entries, "walls": result["walls"][args.object]},
                             indent=1))
            return 0
        _print_pairs(entries)
        print()
        _print_walls({args.object: result["walls"][args.object]})
        return 0
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    if result["objects"] == 0:
        print("no objects in the scene")
        return 0
    _print_pairs(result["pairs"])
    print()
    _print_walls(result["walls"])
    if result["note"]:
        print(f"note: {result['note']}")
    return 0


def _shown(name: str, limit: int = 32) -> str:
    """A model-given name fit for a terminal table: control and bidirectional-override characters dropped,
    at most ``limit`` characters."""
    import unicodedata

    text = "".join(c for c in str(name) if unicodedata.category(c) not in ("Cc", "Cf"))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _print_pairs(entries: list[dict]) -> None:
    """One row per pair: b relative to a, as seen from the camera."""
    width = max([len(_shown(name)) for entry in entries for name in (entry["a"], entry["b"])] + [6])
    print(f"{'a':<{width}}  {'b':<{width}}  {'dist m':>6}  {'gap m':>6}  {'right m':>7}  {'deeper m':>8}  "
          f"{'up m':>6}  b relative to a")
    for entry in entries:
        print(f"{_shown(entry['a']):<{width}}  {_shown(entry['b']):<{width}}  {entry['distance_m']:6.2f}  "
              f"{entry['gap_m']:6.2f}  "
              f"{entry['right_m']:+7.2f}  {entry['forward_m']:+8.2f}  {entry['up_m']:+6.2f}  "
              f"{' '.join(entry['relations']) or '-'}")


def _print_walls(walls: dict) -> None:
    """One row per object: its nearest wall and the gap to every wall."""
    wall_names = list(dict.fromkeys(name for row in walls.values() for name in row["gaps_m"]))
    width = max([len(_shown(name)) for name in walls] + [6])
    nearest_width = max([len(name) for name in wall_names] + [12])
    print(f"{'object':<{width}}  {'nearest wall':<{nearest_width}}  {'gap m':>6}"
          + "".join(f"  {name:>{max(len(name), 6)}}" for name in wall_names))
    for name, row in walls.items():
        nearest = row["nearest_wall"] or "-"
        gap = f"{row['nearest_gap_m']:6.2f}" if row["nearest_gap_m"] is not None else f"{'-':>6}"
        print(f"{_shown(name):<{width}}  {nearest:<{nearest_width}}  {gap}"
              + "".join(f"  {row['gaps_m'].get(wall, float('nan')):>{max(len(wall), 6)}.2f}"
                        for wall in wall_names))


def parser() -> argparse.ArgumentParser:
    from . import limits

    root = _Parser(prog="room3d", description="One photo of a room -> a metric 3D scene "
                                   "(glTF, a one-file Three.js page, scene.json).")
    commands = root.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="build the 3D scene of one photo into an output folder",
                                description="Build scene.glb, scene.json, index.html, overlay.jpg and floorplan.svg "
                                "for PHOTO.")
    build.add_argument("photo", type=Path, help="the room photo (JPEG, PNG, ...)")
    build.add_argument("-o", "--out", type=_path, required=True, help="output folder (must not exist, see --force)")
    build.add_argument("--grounding", type=_path, help="the model's answer saved in a file: a JSON list of "
                       "{bbox_2d | bbox_3d, label}, or a room-layout description, fenced or with prose around it")
    build.add_argument("--grounding-format", choices=limits.GROUNDING_FORMATS, default="auto",
                       help="coordinates of the grounding boxes; auto decides by the rules in pipeline/grounding.py")
    focal = build.add_mutually_exclusive_group()
    focal.add_argument("--focal-px", type=float, help="focal length in pixels (overrides EXIF)")
    focal.add_argument("--fov-deg", type=float, help="horizontal field of view in degrees (overrides EXIF)")
    build.add_argument("--camera-height", type=float, metavar="M",
                       help="camera height above the floor in metres (sets the scale; default: a 1.4 m prior)")
    build.add_argument("--pitch-deg", type=float, help="camera pitch in degrees, negative looking down "
                       "(default: level)")
    build.add_argument("--roll-deg", type=float, help="camera roll in degrees (default: 0)")
    build.add_argument("--depth", metavar="SPEC", help="a depth map of the photo, written as points.ply: "
                       "file:PATH (.npy in metres, or a 16-bit .png in millimetres, 0 = none) or hf:MODEL (Depth "
                       "Anything V2 or Depth Pro: a Hugging Face id or a local folder; pip install 'room3d[ml]')")
    build.add_argument("--depth-kind", choices=("metric_depth", "relative_depth", "relative_disparity"),
                       help="what a depth file holds (default metric_depth); relative maps are scaled to the floor")
    build.add_argument("--max-pixels", type=int, default=limits.DEFAULT_MAX_PIXELS,
                       help="refuse photos with more pixels than this")
    build.add_argument("--qwen25-max-pixels", type=int, default=limits.QWEN25_MAX_PIXELS,
                       help="max_pixels of the Qwen2.5-VL processor that made the grounding")
    build.add_argument("--force", action="store_true", help="replace the output folder if it exists")
    build.add_argument("--edits", type=_path, metavar="EDITS_JSON", help="corrections of an earlier build of this "
                       "photo (edits.json, saved by its page's Edits button): those objects keep the boxes given and "
                       "the others are solved again around them, with that scene's camera")
    build.add_argument("--vlm", metavar="SOURCE", help="ask a vision-language model: http(s)://HOST:PORT/v1 (served "
                       "behind an OpenAI-compatible API: vLLM, SGLang, Ollama; the API key is read from "
                       "ROOM3D_API_KEY or OPENAI_API_KEY), hf:MODEL_ID_OR_FOLDER (Qwen2.5-VL / Qwen3-VL run here "
                       "with transformers, pip install 'room3d[ml]') or file:PATH (a recorded answer, e.g. a saved "
                       "vlm_answer.txt)")
    build.add_argument("--vlm-model", metavar="NAME", help="model name on the server, e.g. "
                       "Qwen/Qwen2.5-VL-7B-Instruct")
    build.add_argument("--vlm-device", default="auto", metavar="DEVICE",
                       help="device of an hf: model: auto (cuda if available, else cpu), cpu, cuda, cuda:N, mps")
    build.add_argument("--vlm-dtype", choices=("auto", "bfloat16", "float16", "float32"), default="auto",
                       help="precision of an hf: model (auto: bfloat16 on cuda, float32 on cpu)")
    build.add_argument("--vlm-max-tokens", type=int, metavar="N",
                       help="most tokens in the model's answer (default: 4096 for a server, 1024 for hf:)")
    build.add_argument("--task", choices=("grounding_2d", "grounding_3d", "layout"), default="grounding_2d",
                       help="what to ask the model: 2D boxes, Qwen3-VL 3D boxes, or a room-layout description")
    build.add_argument("--vlm-timeout", type=float, default=30.0, metavar="S",
                       help="total seconds for the model call, retries included")
    build.add_argument("--also", action="append", metavar="FORMAT",
                       help="also write another format (repeatable or a comma list): gltf = scene.gltf + "
                       "scene.bin, the GLB as JSON with a separate buffer; ply = points.ply (needs --depth, which "
                       "writes it anyway)")
    build.set_defaults(handler=_build)

    _add_batch(commands)

    camera = commands.add_parser("camera", help="estimate the camera of a photo (focal, FOV, pitch, roll)",
                                 description="Print the camera estimate of PHOTO: focal length and field of view, "
                                 "pitch and roll (gravity), the room's heading, each with its source and confidence.")
    camera.add_argument("photo", type=Path, help="the room photo")
    camera_focal = camera.add_mutually_exclusive_group()
    camera_focal.add_argument("--focal-px", type=float, help="focal length in pixels, if known")
    camera_focal.add_argument("--fov-deg", type=float, help="horizontal field of view in degrees, if known")
    camera.add_argument("--overlay", type=Path, help="write a PNG of the line families and the horizon here")
    camera.add_argument("--depth", metavar="SPEC", help="a depth map of the photo (file:PATH or hf:MODEL): a metric "
                        "map's floor and walls give gravity too")
    camera.add_argument("--depth-kind", choices=("metric_depth", "relative_depth", "relative_disparity"),
                        help="what a depth file holds (default metric_depth)")
    camera.add_argument("--grounding", type=Path, help="the model's answer: floor-standing objects' boxes weigh in "
                        "on the tilt")
    camera.add_argument("--json", action="store_true", help="print JSON instead of text")
    camera.add_argument("--max-pixels", type=int, default=limits.DEFAULT_MAX_PIXELS,
                        help="refuse photos with more pixels than this")
    camera.set_defaults(handler=_camera)

    evaluate = commands.add_parser("eval", help="measure the pipeline against the truth of sample scenes or "
                                   "real photos", description="Solve each case and print camera and object "
                                   "errors. A case is a sample (photo.png, grounding.qwen3.json, truth.json) or a "
                                   "realdev frame (photo.jpg, grounding.qwen3.json, truth.json with K and "
                                   "up_cam_opencv, scored as its score.py does); one kind per call.")
    evaluate.add_argument("samples", nargs="+", type=Path, metavar="CASES",
                          help="case folders, or folders holding them (samples/, ../shared/realdev)")
    evaluate.add_argument("--given", nargs="+", choices=("none", "k", "camera"), default=["none", "k", "camera"],
                          help="what is taken from the truth: none, k (focal length) or camera (focal, pitch, "
                          "roll, height)")
    evaluate.add_argument("--depth", metavar="NAME", help="also give each case's depth map of this file name "
                          "(e.g. depth.png: the samples' metric depth, realdev's sensor depth), as --depth file: "
                          "does")
    evaluate.add_argument("--objects", action="store_true", help="also print a row per object (samples: IoU, "
                          "centre, size and yaw errors; realdev: IoU, centre and range errors, and a row per class)")
    evaluate.add_argument("--crop", type=float, metavar="F", help="real-photo cases: solve the centred crop "
                          "keeping this fraction of each side (0.2 to 1; a user's crop: a narrower view, the same "
                          "camera)")
    evaluate.add_argument("--json", action="store_true", help="print the figures as JSON (a summary and a row per "
                          "case for each --given) instead of tables")
    evaluate.set_defaults(handler=_eval)

    relate = commands.add_parser("relations", help="distances, gaps and directions between the objects of a scene",
                                 description="Print, for a built scene, every pair of objects (centre distance, "
                                 "gap between the boxes, where b is relative to a as seen from the photo's "
                                 "viewpoint) and each object's gap to the walls.")
    relate.add_argument("scene", type=Path, help="scene.json of a build (or the build's output folder)")
    relate.add_argument("--json", action="store_true", help="print JSON instead of tables")
    focus = relate.add_mutually_exclusive_group()
    focus.add_argument("--object", metavar="NAME", help="only the pairs with this object (as named in scene.json, "
                       "e.g. chair.001), nearest first, and its gaps to the walls")
    focus.add_argument("--between", nargs=2, metavar=("A", "B"),
                       help="one pair, as a sentence about B relative to A and its numbers")
    relate.set_defaults(handler=_relations)
    _add_serve(commands)
    return root


def _add_batch(commands) -> None:
    from . import limits

    batch = commands.add_parser(
        "batch", help="build many photos: worker processes (or Ray), resumable, a gallery of the results",
        description="Build every photo of INPUT (folders: each NAME.jpg/.png/... with its grounding NAME.json "
        "beside it; globs; photos; or .csv / .jsonl manifests, one photo per row with optional name, grounding, "
        "focal_px, camera_height_m, depth and any build option) into OUT/NAME/, as room3d build does. "
        "OUT/batch.jsonl gets a line per photo, OUT/index.html a gallery. A re-run skips the photos whose inputs, "
        "options and outputs are unchanged. Exit code 1 when a photo failed.")
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="a folder, a glob (quoted), a photo, or a "
                       "manifest (.csv or .jsonl)")
    batch.add_argument("-o", "--out", type=_path, required=True, help="output folder (created; reused by re-runs)")
    batch.add_argument("--jobs", "-j", type=int, metavar="N", help="worker processes (default: the cores)")
    batch.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                       help="run the builds as Ray tasks: on a Ray started here (no ADDRESS), or on a running "
                       "cluster (auto, or ray://HOST:PORT; OUT and the inputs must be on a filesystem every node "
                       "reaches); pip install 'room3d[ray]'")
    batch.add_argument("--force", action="store_true", help="rebuild every photo, even unchanged ones")
    batch.add_argument("--retry-failed", action="store_true", help="build again the photos that failed before "
                       "(unchanged ones are otherwise skipped)")
    batch.add_argument("--grounding-format", choices=limits.GROUNDING_FORMATS, default="auto",
                       help="coordinates of the grounding boxes (every photo)")
    focal = batch.add_mutually_exclusive_group()
    focal.add_argument("--focal-px", type=float, help="focal length in pixels of every photo (a manifest's "
                       "focal_px column sets it per photo)")
    focal.add_argument("--fov-deg", type=float, help="horizontal field of view in degrees of every photo")
    batch.add_argument("--camera-height", type=float, metavar="M", help="camera height above the floor in metres "
                       "(every photo; a manifest's camera_height_m column sets it per photo)")
    batch.add_argument("--depth-kind", choices=("metric_depth", "relative_depth", "relative_disparity"),
                       help="what the manifest's depth files hold (default metric_depth)")
    batch.add_argument("--max-pixels", type=int, default=limits.DEFAULT_MAX_PIXELS,
                       help="refuse photos with more pixels than this")
    batch.add_argument("--qwen25-max-pixels", type=int, default=limits.QWEN25_MAX_PIXELS,
                       help="max_pixels of the Qwen2.5-VL processor that made the groundings")
    batch.add_argument("--vlm", metavar="SOURCE", help="ask a vision-language model for the photos with no "
                       "grounding file (as room3d build --vlm)")
    batch.add_argument("--vlm-model", metavar="NAME", help="model name on the server")
    batch.add_argument("--task", choices=("grounding_2d", "grounding_3d", "layout"), default="grounding_2d",
                       help="what to ask the model")
    batch.add_argument("--vlm-timeout", type=float, default=30.0, metavar="S",
                       help="total seconds for each model call, retries included")
    batch.add_argument("--also", action="append", metavar="FORMAT", help="also write another format (gltf, ply)")
    batch.set_defaults(handler=_batch)


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    serve(host=args.host, port=args.port, data_dir=args.data, max_jobs=args.max_jobs, max_queue=args.max_queue,
          max_upload_mb=args.max_upload_mb, trusted_endpoints=tuple(args.vlm_endpoint or ()))
    return 0


def _add_serve(commands) -> None:
    serve = commands.add_parser("serve", help="a local web app: upload a photo, watch it build, open the 3D page",
                                description="Serve a web app on HOST:PORT: upload a photo (and optionally a "
                                "grounding file or a model endpoint), follow the build stage by stage, open the "
                                "3D page; past results in the data folder are listed newest first.")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (a warning is printed for "
                       "anything but a loopback address: the app has no login)")
    serve.add_argument("--port", type=int, default=8080, help="TCP port (0: any free port, printed at start)")
    serve.add_argument("--data", type=Path, default=Path("room3d-data"), metavar="DIR",
                       help="folder for uploads and results (created if missing)")
    serve.add_argument("--max-jobs", type=int, default=2, metavar="N",
                       help="builds running at once, each in a worker process")
    serve.add_argument("--max-queue", type=int, default=8, metavar="N",
                       help="uploads waiting for a worker, each shown its place in line; more are refused with a "
                       "'busy' page")
    serve.add_argument("--max-upload-mb", type=float, default=25.0, metavar="M",
                       help="largest upload accepted, in megabytes (photo and grounding file together)")
    serve.add_argument("--vlm-endpoint", action="append", metavar="URL",
                       help="a model endpoint (repeatable) that builds may send this machine's API key to "
                       "(ROOM3D_API_KEY or OPENAI_API_KEY); any other endpoint typed into the form gets no key")
    serve.set_defaults(handler=_serve)


def _path(text: str) -> Path:
    """An argument naming a file or a folder: not empty (``Path("")`` would be the working folder)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty: name a file or a folder")
    return Path(text)


class _Parser(argparse.ArgumentParser):
    """argparse with the one error format of every other error: ``room3d: error: ...`` on one line, exit 2 (its
    own prints the usage first); subcommands inherit it."""

    def error(self, message: str):
        command = self.prog.split(" ", 1)[1] + " " if " " in self.prog else ""
        print(f"room3d: error: {' '.join(message.split())} (see room3d {command}--help)", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
        return args.handler(args)
    except UserError as error:
        print(f"room3d: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("room3d: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (room3d relations ... | head): nothing more to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
