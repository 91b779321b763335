"""``room3d batch``: many photos, each built exactly as ``room3d build`` builds it, by worker processes that start
once (or as Ray tasks), resumable.

Inputs (:func:`find_items`): a folder (each photo ``NAME.jpg`` / ``.png`` / ... with its grounding ``NAME.json``
beside it when there is one), a glob, a photo, or a manifest (``.csv`` or ``.jsonl``, one photo per row: ``photo``
and optionally ``name``, ``grounding``, ``focal_px``, ``camera_height_m``, ``depth`` and any other
:class:`~pipeline.build.BuildOptions` field; paths relative to the manifest).

Outputs (:func:`run_batch`), in ``OUT``:

* ``NAME/``: what ``room3d build`` writes for the photo;
* ``batch.jsonl``: one line per photo built or failed (``name``, ``photo``, ``status``, ``objects``, ``seconds``,
  ``warnings``, ``error``, ``key``, ``outputs``), appended as each finishes, so a killed batch loses nothing it
  finished; the last line of a name is its state;
* ``thumbs/NAME.jpg`` and ``index.html``: a gallery of every result.

A re-run skips a photo whose last line says done with the same key (a hash of the photo, its grounding and depth
files and its options) and whose outputs are all there, and a photo that failed with the same key (unless
``retry_failed``); ``force`` rebuilds everything.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import glob
import hashlib
import html
import json
import math
import os
import sys
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .build import BuildOptions
from .errors import UserError

#: Photo files a folder or a glob contributes (case-insensitive).
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
#: What the batch itself writes at the top of ``OUT`` (no photo's folder may take these names).
LOG_NAME = "batch.jsonl"
GALLERY_NAME = "index.html"
THUMBS_NAME = "thumbs"
#: Longest side of a gallery thumbnail, in pixels.
THUMB_SIDE_PX = 320
#: Manifest columns that name a build option in the command line's words.
COLUMN_ALIASES = {"focal": "focal_px", "fov": "fov_deg", "camera_height": "camera_height_m", "pitch": "pitch_deg",
                  "roll": "roll_deg", "vlm_timeout": "vlm_timeout_s"}
#: Build options a manifest row may not set (the batch decides them).
NOT_PER_PHOTO = ("force",)
#: The error of a photo whose worker process died (out of memory, a crash in native code) even when built alone.
WORKER_DIED = "the worker process died building it (out of memory, or a crash in a native library)"


@dataclass(frozen=True)
class BatchItem:
    """One photo of a batch: its output folder's name, the photo and its build options."""

    name: str
    photo: Path
    options: BuildOptions


@dataclass(frozen=True)
class BatchResult:
    """What :func:`run_batch` did: how many photos it built, how many failed (now or before, unchanged), how many it
    skipped (unchanged since a run that finished them), in how many seconds; ``records``: each photo's last
    ``batch.jsonl`` line, in input order."""

    out_dir: Path
    built: int
    failed: int
    skipped: int
    seconds: float
    records: tuple[dict, ...]

    @property
    def photos_per_second(self) -> float:
        worked = self.built + sum(1 for r in self.records if r["status"] == "failed" and not r.get("skipped"))
        return worked / self.seconds if self.seconds > 0 else 0.0


# ------------------------------------------------------------------------------------------------------ inputs


def find_items(inputs: list[str | Path], options: BuildOptions | None = None) -> list[BatchItem]:
    """The photos of ``inputs`` (folders, globs, photos, ``.csv`` / ``.jsonl`` manifests), each with ``options``
    (a manifest row's columns override them), in the order given (a folder's photos and a glob's matches sorted
    by name), with unique output names (a repeated name gets ``-2``, ``-3``, ...). Raises :class:`UserError` for
    an input that is none of these, a bad manifest, or no photo at all."""
    options = BuildOptions() if options is None else options
    items: list[BatchItem] = []
    for entry in inputs:
        text = str(entry)
        path = Path(text)
        if path.is_file() and path.suffix.lower() in (".csv", ".jsonl"):
            items.extend(_manifest_items(path, options))
        elif path.is_dir():
            photos = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES
                            and not p.name.startswith("."))
            items.extend(_photo_item(p, options) for p in photos)
        elif path.is_file():
            items.append(_photo_item(path, options))
        elif glob.has_magic(text):
            matches = sorted(Path(p) for p in glob.glob(text, recursive=True))
            items.extend(_photo_item(p, options) for p in matches
                         if p.is_file() and p.suffix.lower() in PHOTO_SUFFIXES)
        else:
            raise UserError(f"batch input not found: {text} (a folder, a glob, a photo, or a .csv / .jsonl manifest)")
    if not items:
        raise UserError(f"no photos found in {', '.join(str(i) for i in inputs)} (photos end in "
                        f"{', '.join(PHOTO_SUFFIXES)})")
    return _unique_names(items)


def _photo_item(photo: Path, options: BuildOptions) -> BatchItem:
    """A photo found in a folder or by a glob: its grounding is ``NAME.json`` beside it, if there is one (then the
    model is not asked for it)."""
    grounding = photo.with_suffix(".json")
    if options.grounding is None and grounding.is_file():  # a recorded answer rather than asking the model
        options = dataclasses.replace(options, grounding=grounding, vlm=None)
    return BatchItem(photo.stem, photo, options)


def _manifest_items(manifest: Path, options: BuildOptions) -> list[BatchItem]:
    try:
        text = manifest.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"cannot read the manifest {manifest}: {error}") from None
    rows: list[tuple[int, dict]] = []
    if manifest.suffix.lower() == ".csv":
        reader = csv.DictReader(text.splitlines())
        number = 1
        try:
            for number, row in enumerate(reader, start=2):
                if None in row:
                    raise UserError(f"{manifest}:{number}: more values than columns")
                rows.append((number, row))
        except csv.Error as error:  # a field over the csv module's size limit, a stray quote
            raise UserError(f"{manifest}:{number + 1}: not CSV ({error})") from None
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError) as error:  # bad JSON, a number of thousands of digits, deep nesting
                raise UserError(f"{manifest}:{number}: not a JSON object ({getattr(error, 'msg', error)})") from None
            if not isinstance(row, dict):
                raise UserError(f"{manifest}:{number}: not a JSON object")
            rows.append((number, row))
    return [_row_item(manifest, number, row, options) for number, row in rows]


@functools.cache
def _option_types() -> tuple[dict, dict]:
    """The build options a manifest row may set, and their types (read once, not for every row)."""
    fields = {f.name: f for f in dataclasses.fields(BuildOptions) if f.name not in NOT_PER_PHOTO}
    return fields, typing.get_type_hints(BuildOptions)


def _row_item(manifest: Path, number: int, row: dict, options: BuildOptions) -> BatchItem:
    where = f"{manifest}:{number}"
    fields, types = _option_types()
    changes: dict = {}
    photo = name = None
    for raw_key, value in row.items():
        key = COLUMN_ALIASES.get(str(raw_key).strip().replace("-", "_"), str(raw_key).strip().replace("-", "_"))
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # an empty cell: the batch's option
        if key == "photo":
            photo = manifest.parent / str(value).strip()
        elif key == "name":
            name = str(value).strip()
        elif key in fields:
            changes[key] = _option_value(where, key, value, types[key], manifest.parent)
        else:
            raise UserError(f"{where}: unknown column {raw_key!r} (photo, name, or a build option: "
                            f"{', '.join(sorted(fields))})")
    if photo is None:
        raise UserError(f"{where}: no photo (every row needs a 'photo' column)")
    if name is not None and (not name or name in (".", "..") or name.startswith(".") or "/" in name
                             or "\\" in name or len(name) > 200):
        raise UserError(f"{where}: name {name!r} cannot be a folder name (no slashes, no leading dot)")
    if changes.get("vlm") and "grounding" not in changes:
        changes["grounding"] = None  # this row asks the model
    base = _photo_item(photo, options)  # its grounding beside it, unless the row or the batch names one
    return BatchItem(name or photo.stem, photo, dataclasses.replace(base.options, **changes))


def _option_value(where: str, key: str, value, kind, folder: Path):
    """A manifest cell as the build option ``key`` of type ``kind`` wants it."""
    text = str(value).strip()
    kinds = typing.get_args(kind) or (kind,)
    try:
        if float in kinds:
            number = float(value)
            if not math.isfinite(number):
                raise ValueError
            return number
        if int in kinds:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        if bool in kinds:
            if text.lower() in ("1", "true", "yes"):
                return True
            if text.lower() in ("0", "false", "no"):
                return False
            raise ValueError
        if key in ("grounding", "edits"):
            return folder / text
        if key == "depth":
            return f"file:{folder / text[5:]}" if text.startswith("file:") else text
        if key == "also":
            return tuple(part.strip() for part in (value if isinstance(value, list) else text.split(","))
                         if str(part).strip())
        return text
    except (TypeError, ValueError):
        raise UserError(f"{where}: {key} = {text!r} is not a valid value") from None


def _unique_names(items: list[BatchItem]) -> list[BatchItem]:
    taken = {LOG_NAME, GALLERY_NAME, THUMBS_NAME}
    out = []
    for item in items:
        stem = safe_name(item.name)
        name, k = stem, 1
        while name in taken:
            k += 1
            name = f"{stem}-{k}"
        taken.add(name)
        out.append(item if name == item.name else dataclasses.replace(item, name=name))
    return out


def safe_name(name: str) -> str:
    """A photo's name as a folder name inside ``OUT``: no path separators or control characters, no leading dot
    (``..jpg``'s stem is ``.``), at most 150 characters."""
    text = "".join("_" if c in "/\\" or ord(c) < 32 or ord(c) == 127 else c for c in name).lstrip(".").strip()
    return text[:150] or "photo"


# ------------------------------------------------------------------------------------------------------ keys


def item_key(item: BatchItem) -> str:
    """A hash of everything a build of ``item`` depends on: the photo's bytes, its grounding and depth files'
    bytes, its options (``force`` aside) and the room3d version. The same key, the same outputs."""
    from . import __version__

    digest = hashlib.sha256()
    digest.update(f"room3d {__version__}\n".encode())
    digest.update(_file_hash(item.photo).encode())
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(item.options).items()
               if k != "force"}
    if item.options.grounding is not None:
        options["grounding_sha256"] = _file_hash(Path(item.options.grounding))
    if item.options.depth and item.options.depth.startswith("file:"):
        options["depth_sha256"] = _file_hash(Path(item.options.depth[5:]))
    if item.options.edits is not None:
        options["edits_sha256"] = _file_hash(Path(item.options.edits))
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _file_hash(path: Path) -> str:
    """sha256 of a file's bytes, or a marker when it cannot be read (the build will say why)."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as error:
        return f"unreadable:{path}:{error.errno}"
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------------------ work


def build_item(item: BatchItem, out_dir: str | Path, key: str) -> dict:
    """Build one photo into ``out_dir / item.name`` (replacing what is there) and its gallery thumbnail; returns
    its ``batch.jsonl`` record. Never raises for a bad photo: a failure is a record with its one-line reason."""
    from .build import build

    out_dir = Path(out_dir)
    start = time.perf_counter()
    record = {"name": item.name, "photo": str(item.photo), "status": "failed", "objects": None, "seconds": None,
              "warnings": None, "error": None, "key": key, "outputs": []}
    try:
        result = build(item.photo, out_dir / item.name, dataclasses.replace(item.options, force=True))
        record.update(status="done", objects=result.object_count, warnings=len(result.warnings),
                      outputs=sorted(set(result.manifest.get("outputs", {}).values())))
        try:
            _thumbnail(item.photo, out_dir / THUMBS_NAME / f"{item.name}.jpg")
        except (OSError, ValueError):  # the gallery shows no picture; the build stands
            pass
    except UserError as error:
        record["error"] = _one_line(str(error))
    except Exception as error:  # noqa: BLE001 - one photo's bug must not stop the batch; it is recorded
        record["error"] = _one_line(f"internal error: {type(error).__name__}: {error}")
    record["seconds"] = round(time.perf_counter() - start, 3)
    return record


def _one_line(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _thumbnail(photo: Path, path: Path) -> None:
    """A small JPEG of the photo, upright, for the gallery (best effort: a photo that built can be read)."""
    from PIL import Image, ImageOps

    path.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(photo) as image:
        image.draft("RGB", (THUMB_SIDE_PX, THUMB_SIDE_PX))  # a JPEG decodes at 1/2, 1/4 or 1/8 size: fast
        small = ImageOps.exif_transpose(image).convert("RGB")
        small.thumbnail((THUMB_SIDE_PX, THUMB_SIDE_PX))
        partial = path.with_name(f".{path.name}.partial")
        small.save(partial, format="JPEG", quality=80)
        partial.replace(path)


# ------------------------------------------------------------------------------------------------------ batch


def read_log(out_dir: Path) -> dict[str, dict]:
    """The last ``batch.jsonl`` record of each name (a line cut short by a kill is ignored)."""
    records: dict[str, dict] = {}
    try:
        lines = (out_dir / LOG_NAME).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return records
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            records[record["name"]] = record
    return records


def _finished(record: dict | None, key: str, out_dir: Path, retry_failed: bool) -> bool:
    """Whether a photo's last record (``record``) lets a re-run skip it."""
    if record is None or record.get("key") != key:
        return False
    if record.get("status") == "failed":
        return not retry_failed
    folder = out_dir / record["name"]
    return record.get("status") == "done" and bool(record.get("outputs")) and \
        all((folder / name).is_file() for name in record["outputs"])


def run_batch(items: list[BatchItem], out_dir: str | Path, jobs: int | None = None, ray: str | None = None,
              force: bool = False, retry_failed: bool = False, progress: bool = False,
              on_failure: Callable[[dict], None] | None = None) -> BatchResult:
    """Build every item into ``out_dir`` (see the module's text) with ``jobs`` worker processes (default: the
    cores), or as Ray tasks (``ray``: ``local`` for a Ray started here, ``auto`` or ``ray://HOST:PORT`` for a
    running cluster); ``progress`` shows a bar with the rate and the time left; ``on_failure`` is called with the
    record of each photo that fails. Writes ``batch.jsonl`` as photos finish and the gallery at the end (also when
    interrupted)."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot write the batch folder {out_dir}: {error.strerror or error}") from None
    if not out_dir.is_dir():
        raise UserError(f"batch output is not a folder: {out_dir}")
    jobs = max(1, jobs or _cores())
    start = time.perf_counter()
    previous = read_log(out_dir)
    keys = {item.name: item_key(item) for item in items}
    todo, skipped = [], []
    for item in items:
        if not force and _finished(previous.get(item.name), keys[item.name], out_dir, retry_failed):
            skipped.append(item.name)
        else:
            todo.append(item)
    latest = {name: {**previous[name], "skipped": True} for name in skipped}
    _clear_staging(out_dir, [item.name for item in todo])
    try:
        with open(out_dir / LOG_NAME, "a", encoding="utf-8") as log:
            def finished(record: dict) -> None:
                log.write(json.dumps(record, ensure_ascii=False) + "\n")
                log.flush()
                latest[record["name"]] = record
                if record["status"] == "failed" and on_failure is not None:
                    on_failure(record)

            if todo:
                runner = _run_ray if ray else _run_processes
                runner(todo, out_dir, keys, jobs, ray, finished, progress)
    finally:
        records = tuple(latest[item.name] for item in items if item.name in latest)
        seconds = time.perf_counter() - start
        write_gallery(out_dir, records, seconds)
    built = sum(1 for r in records if r["status"] == "done" and not r.get("skipped"))
    failed = sum(1 for r in records if r["status"] == "failed")
    return BatchResult(out_dir, built, failed, len(skipped), seconds, records)


def _clear_staging(out_dir: Path, names: list[str]) -> None:
    """Remove what a killed batch left half-written: a build's staging folders (``.NAME.*.tmp``) and replaced
    folders (``.NAME.old-*``, see :mod:`pipeline.build`) of the photos about to be built, and partial
    thumbnails."""
    import shutil

    wanted = set(names)
    for path in [*out_dir.glob(".*.tmp"), *out_dir.glob(".*.old-*")]:
        name = path.name[1:].rsplit(".old-", 1)[0] if ".old-" in path.name else path.name[1:].rsplit(".", 2)[0]
        if path.is_dir() and name in wanted:
            shutil.rmtree(path, ignore_errors=True)
    for path in (out_dir / THUMBS_NAME).glob(".*.partial"):
        path.unlink(missing_ok=True)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _bar(total: int, progress: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="photo", disable=not progress, file=sys.stderr, dynamic_ncols=True,
                smoothing=0.1)


def _run_processes(items: list[BatchItem], out_dir: Path, keys: dict, jobs: int, _ray, finished, progress,
                   work=build_item) -> None:
    """Worker processes that start once (:mod:`pipeline.workers`) and take photos one at a time (``work``, a
    module-level function like :func:`build_item`), at most ``jobs`` in flight; a photo whose worker dies is tried
    again alone in a fresh pool, and recorded as failed when it kills that one too."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from .workers import make_pool, stop_pool

    bar = _bar(len(items), progress)
    queue = list(reversed(items))
    suspects: list[BatchItem] = []
    try:
        while queue or suspects:
            alone = bool(suspects)
            batch_queue = [suspects.pop()] if alone else queue
            pool = make_pool(1 if alone else jobs)
            try:
                running: dict = {}
                broken = False
                while (batch_queue or running) and not broken:
                    while batch_queue and len(running) < (1 if alone else jobs):
                        item = batch_queue.pop()
                        running[pool.submit(work, item, str(out_dir), keys[item.name])] = item
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        item = running.pop(future)
                        try:
                            record = future.result()
                        except BrokenProcessPool:
                            broken = True
                            if alone:
                                record = {"name": item.name, "photo": str(item.photo), "status": "failed",
                                          "objects": None, "seconds": None, "warnings": None, "error": WORKER_DIED,
                                          "key": keys[item.name], "outputs": []}
                            else:
                                suspects.append(item)
                                continue
                        finished(record)
                        bar.update(1)
                if broken:  # every photo still in flight is suspect: each is tried again alone
                    suspects.extend(running.values())
                    if not alone:
                        queue = batch_queue
            finally:
                stop_pool(pool, wait=not broken)
    finally:
        bar.close()


def _run_ray(items: list[BatchItem], out_dir: Path, keys: dict, jobs: int, address: str, finished,
             progress) -> None:
    """Every photo as a Ray task (one CPU each) on a Ray started here (``address`` ``local``, with ``jobs`` CPUs)
    or on a running cluster (``auto``, ``ray://HOST:PORT``); the output folder must be one every node writes."""
    import logging

    try:
        import ray
    except ImportError:
        from .errors import missing_extra

        raise missing_extra("ray", "ray") from None
    started_here = not ray.is_initialized()
    if started_here:
        kwargs = {"num_cpus": jobs} if address == "local" else {"address": address}
        try:
            ray.init(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING, **kwargs)
        except Exception as error:  # noqa: BLE001 - Ray raises many kinds for an address it cannot reach
            raise UserError(f"cannot reach the Ray cluster at {address}: {_one_line(str(error), 200)}") from None
    bar = _bar(len(items), progress)
    try:
        task = ray.remote(num_cpus=1, max_retries=1)(build_item)
        pending = {task.remote(_absolute(item), str(out_dir.resolve()), keys[item.name]): item for item in items}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(done[0])
            try:
                record = ray.get(done[0])
            except ray.exceptions.RayError as error:  # the worker died (twice, with the retry)
                record = {"name": item.name, "photo": str(item.photo), "status": "failed", "objects": None,
                          "seconds": None, "warnings": None, "key": keys[item.name], "outputs": [],
                          "error": _one_line(f"{WORKER_DIED}: {type(error).__name__}", 300)}
            finished({**record, "photo": str(item.photo)})  # as given, like local mode's
            bar.update(1)
    finally:
        bar.close()
        if started_here:
            ray.shutdown()


def _absolute(item: BatchItem) -> BatchItem:
    """``item`` with absolute paths: a Ray worker's working folder is not the caller's."""
    options = item.options
    if options.grounding is not None:
        options = dataclasses.replace(options, grounding=Path(options.grounding).absolute())
    if options.depth and options.depth.startswith("file:"):
        options = dataclasses.replace(options, depth=f"file:{Path(options.depth[5:]).absolute()}")
    return dataclasses.replace(item, photo=item.photo.absolute(), options=options)


# ------------------------------------------------------------------------------------------------------ gallery


def write_gallery(out_dir: Path, records: tuple[dict, ...] | list[dict], seconds: float) -> Path:
    """``OUT/index.html``: every photo of the batch as a card (thumbnail, name, objects, warnings, time; the
    error of one that failed) linking to its page; written whole, then renamed into place."""
    done = sum(1 for r in records if r["status"] == "done")
    failed = len(records) - done
    cards = []
    for record in records:
        name = html.escape(record["name"])
        link = quote(record["name"])
        if record["status"] == "done":
            thumb = f'{THUMBS_NAME}/{quote(record["name"])}.jpg'
            body = (f'<a href="{link}/index.html"><img src="{thumb}" alt="{name}" loading="lazy"></a>'
                    f'<div class="name"><a href="{link}/index.html">{name}</a></div>'
                    f'<div class="meta">{int(record["objects"] or 0)} objects · {int(record["warnings"] or 0)} '
                    f'warnings · {float(record["seconds"] or 0):.1f} s</div>')
        else:
            body = (f'<div class="name">{name}</div><div class="error">failed: '
                    f'{html.escape(str(record.get("error") or "unknown error"))}</div>')
        cards.append(f'<div class="card {html.escape(record["status"])}">{body}</div>')
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="script-src 'none'; object-src 'none'; base-uri 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>room3d batch: {len(records)} photos</title>
<style>
body {{ font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 12px; }}
.card {{ border: 1px solid #ccd; border-radius: 6px; padding: 8px; overflow-wrap: anywhere; }}
.card img {{ width: 100%; height: 170px; object-fit: cover; background: #eee; border-radius: 4px; }}
.card.failed {{ border-color: #c33; background: #fff5f5; }}
.name {{ font-weight: 600; margin-top: 4px; }} .meta {{ color: #555; }} .error {{ color: #a00; }}
</style></head><body>
<h1>room3d batch</h1>
<p id="summary">{done} built, {failed} failed, {len(records)} photos; this run {seconds:.1f} s.
Each photo's line is in <a href="{LOG_NAME}">{LOG_NAME}</a>.</p>
<div class="grid">
{chr(10).join(cards)}
</div></body></html>
"""
    path = out_dir / GALLERY_NAME
    partial = out_dir / f".{GALLERY_NAME}.partial"
    partial.write_text(page, encoding="utf-8")
    partial.replace(path)
    return path
