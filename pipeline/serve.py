"""``room3d serve``: a local web app over :func:`pipeline.build.build`.

Upload a photo (optionally a grounding file, or a model endpoint to ask), follow the build stage by stage, open the
built ``index.html``; every result stays in the data folder and is listed, newest first, on the front page.

Data folder layout (one folder per job, its id generated here: ``20260125T101500-1a2b3c4d``)::

    DATA/jobs/ID/status.json     state (queued, running, done, failed), stages seen, error line, labels
    DATA/jobs/ID/thumb.jpg       a thumbnail of the photo, re-encoded by Pillow
    DATA/jobs/ID/input/          photo.<format> (named after what Pillow found, never after the upload's name),
                                 grounding.<name>.txt
    DATA/jobs/ID/out/            what ``room3d build`` writes

Uploads are untrusted: the body is read as a stream and refused past ``max_upload_bytes`` (413); the photo must be
an image Pillow identifies (its name and declared type are ignored); a grounding file is bounded and read as UTF-8
text; only generated job ids (checked by :data:`JOB_ID_RE`) and the known output names (:data:`RESULT_FILES`) are
served, from resolved paths that must stay inside the data folder; at most ``max_jobs`` builds run at once, in
worker processes, and ``max_queue`` more wait in line, each shown its place (more are refused with a 503 "busy"
page). Labels (model text) reach the pages only through jinja2's
autoescape. A failed build shows its one-line error; tracebacks go to the server's log, never to a page.

The server's API key (``ROOM3D_API_KEY`` / ``OPENAI_API_KEY`` in its environment) is never sent to a model endpoint
an uploader typed into the form: such builds run with ``BuildOptions.vlm_api_key_env=None``. Only the endpoints
the owner named when starting the server (``trusted_endpoints``, ``room3d serve --vlm-endpoint URL``) get it.
Endpoints are shown and recorded without ``user:password@`` (``vlm.normalise_endpoint``).
"""

import dataclasses
import errno
import io
import ipaddress
import json
import logging
import math
import os
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UserError, missing_extra

log = logging.getLogger("room3d.serve")

#: The largest ``--max-upload-mb`` (a photo within the pixel limit, and its grounding, fit far below it).
MAX_UPLOAD_LIMIT_MB = 1000.0
#: A job id: UTC time of the upload and 8 random hex digits. Nothing else names a folder.
JOB_ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}-[0-9a-f]{8}$")
#: The only files served from a job's output folder, with their content types.
RESULT_FILES = {
    "index.html": "text/html; charset=utf-8",
    "scene.glb": "model/gltf-binary",
    "scene.json": "application/json",
    "overlay.jpg": "image/jpeg",
    "overlay.png": "image/png",  # results of builds before overlay.jpg
    "floorplan.svg": "image/svg+xml",
    "scene.gltf": "model/gltf+json",
    "scene.bin": "application/octet-stream",
    "points.ply": "application/octet-stream",
}
#: Formats Pillow may identify an uploaded photo as, and the extension it is stored under.
PHOTO_FORMATS = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "BMP": ".bmp", "TIFF": ".tif"}
#: Largest grounding file accepted (bytes); it is also part of the whole upload's limit.
MAX_GROUNDING_BYTES = 2 * 1024 * 1024
#: Largest text field of the form (bytes).
MAX_FIELD_BYTES = 4096
#: Longest side of the gallery thumbnails (pixels).
THUMB_SIDE_PX = 320
#: After refusing an upload, at most this much of the rest of its body is read and thrown away (bytes, seconds),
#: so that the browser sees the error page rather than a reset connection.
DRAIN_MAX_BYTES, DRAIN_MAX_S = 64 * 1024 * 1024, 10.0
#: The stages :func:`pipeline.build.build` reports, with what the progress page says.
STAGE_TITLES = {
    "photo": "reading the photo",
    "vlm": "asking the model",
    "depth": "reading the depth map",
    "grounding": "reading the grounding",
    "camera": "estimating the camera",
    "depth_align": "aligning the depth map",
    "solve": "solving the boxes",
    "point_cloud": "making the point cloud",
    "export_glb": "writing the glTF",
    "export_overlay": "drawing the overlay",
    "export_floorplan": "drawing the floor plan",
    "export_page": "writing the page",
}
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "web"
_STATIC = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
_OWN_PAGES_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; frame-src 'self'; "
                  "form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
# The built page is one offline file: inline scripts (no eval, no script URLs) and data:/blob: images, no network.
_RESULT_PAGE_CSP = ("default-src 'none'; script-src 'unsafe-inline'; "
                    "style-src 'unsafe-inline'; img-src data: blob:; connect-src data: blob:; worker-src blob:; "
                    "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'")


class _TooLarge(Exception):
    """The request body passed the upload limit."""


class Jobs:
    """The jobs in ``data_dir/jobs``: their folders, their status, and the worker processes that build them.

    At most ``max_jobs`` builds run at once, each in a worker process (started once, with the build's modules
    preloaded: a crash or a leak in one build cannot take the server down); up to ``max_queue`` more wait in
    line, each told its place; :attr:`slots` counts both, and an upload past them gets a 503. A worker writes its
    job's ``status.json`` as the build goes (written whole, then renamed: a reader never sees half of it)."""

    def __init__(self, data_dir: Path, max_jobs: int, max_queue: int = 0):
        self.root = (Path(data_dir) / "jobs").resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.max_jobs, self.max_queue = max_jobs, max_queue
        self.slots = threading.BoundedSemaphore(max_jobs + max_queue)
        self._lock = threading.Lock()
        self._pending: list[str] = []  # submitted and not finished, in submission order
        self._pool = None

    def _executor(self):
        """The worker processes (:mod:`pipeline.workers`; made on first use, and again after a worker died and broke
        the pool)."""
        from .workers import make_pool

        if self._pool is None:
            self._pool = make_pool(self.max_jobs, preload=("pipeline.build", "pipeline.serve"))
        return self._pool

    def shutdown(self) -> None:
        """Stop the worker processes (a running build is abandoned: its job reads as interrupted)."""
        from .workers import stop_pool

        if self._pool is not None:
            stop_pool(self._pool, wait=False)

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (created) folder."""
        while True:
            job_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"
            folder = self.root / job_id
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            (folder / "input").mkdir()
            return job_id, folder

    def folder(self, job_id: str) -> Path | None:
        """The folder of ``job_id``, or None when the id is not one of ours or leads outside the data folder."""
        if not JOB_ID_RE.fullmatch(job_id):
            return None
        folder = (self.root / job_id).resolve()
        return folder if folder.parent == self.root and folder.is_dir() else None

    def file(self, job_id: str, *parts: str) -> Path | None:
        """A file of a job, resolved (links followed) and checked to be inside the data folder; None otherwise."""
        folder = self.folder(job_id)
        if folder is None:
            return None
        path = folder.joinpath(*parts).resolve()
        return path if path.is_relative_to(folder) and path.is_file() else None

    def _read(self, job_id: str) -> dict | None:
        path = self.file(job_id, "status.json")
        if path is None:
            return None
        try:
            status = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return None
        return status if isinstance(status, dict) and status.get("id") == job_id else None

    def status(self, job_id: str) -> dict | None:
        """The job's status; a queued one says its place in line (``position``, 1 = next), and one left
        unfinished by a server that stopped reads as failed."""
        status = self._read(job_id)
        if status is None:
            return None
        with self._lock:
            pending = list(self._pending)
        if status.get("state") in ("queued", "running") and job_id not in pending:
            status.update(state="failed", error="interrupted: the server stopped during the build")
        elif status.get("state") == "queued":
            ahead = pending[:pending.index(job_id)]
            status["position"] = 1 + sum(1 for other in ahead if (self._read(other) or {}).get("state") == "queued")
        return status

    def all(self) -> list[dict]:
        """Every job's status, newest first."""
        statuses = [self.status(path.name) for path in self.root.iterdir() if JOB_ID_RE.fullmatch(path.name)]
        return sorted((s for s in statuses if s), key=lambda s: (s.get("created", 0), s["id"]), reverse=True)

    def start(self, job_id: str, status: dict, photo: Path, options) -> None:
        """Queue the build of ``photo``; the caller holds one of :attr:`slots`, released when the build ends."""
        from concurrent.futures.process import BrokenProcessPool

        write_status(self.root, job_id, status)
        with self._lock:
            self._pending.append(job_id)
        try:
            try:
                future = self._executor().submit(run_job, str(self.root), job_id, str(photo), options)
            except BrokenProcessPool:  # a worker died earlier: a fresh pool
                self._pool = None
                future = self._executor().submit(run_job, str(self.root), job_id, str(photo), options)
        except Exception:
            with self._lock:
                self._pending.remove(job_id)
            raise
        future.add_done_callback(lambda done: self._finished(job_id, done))

    def _finished(self, job_id: str, future) -> None:
        try:
            error = future.exception()
        except BaseException as cancelled:  # noqa: BLE001 - cancelled at shutdown
            error = cancelled
        if error is not None:  # the worker died (out of memory, a crash in native code) or was stopped
            log.error("the worker building job %s ended: %r", job_id, error)
            update_status(self.root, job_id, state="failed", stage=None,
                          error="the build's worker process died (out of memory, or a crash); see the server log")
        with self._lock:
            if job_id in self._pending:
                self._pending.remove(job_id)
        self.slots.release()


def write_status(root: Path, job_id: str, status: dict) -> None:
    """Write a job's ``status.json`` whole, then rename it into place."""
    path = Path(root) / job_id / "status.json"
    partial = path.with_name(f".status.json.{os.getpid()}.partial")
    partial.write_text(json.dumps(status, indent=1, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


def update_status(root: Path, job_id: str, **changes) -> dict:
    """Change fields of a job's ``status.json`` (only one process writes a job's status at a time)."""
    path = Path(root) / job_id / "status.json"
    try:
        status = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        status = {"id": job_id}
    status.update(changes)
    write_status(root, job_id, status)
    return status


def run_job(root: str, job_id: str, photo: str, options) -> None:
    """Build one job in a worker process, writing its status as the build goes; never raises for a bad photo."""
    from .build import build

    stages: list[str] = []
    update_status(root, job_id, state="running", worker_pid=os.getpid())

    def progress(stage: str) -> None:
        stages.append(stage)
        update_status(root, job_id, state="running", stage=stage, stages=list(stages))

    try:
        result = build(photo, Path(root) / job_id / "out", options, progress=progress)
        update_status(root, job_id, state="done", stage=None, object_count=result.object_count,
                      labels=[obj["label"] for obj in result.manifest["objects"]], warnings=list(result.warnings),
                      outputs=result.manifest["outputs"])
    except UserError as error:
        update_status(root, job_id, state="failed", error=str(error).splitlines()[0] if str(error) else "failed")
    except Exception as error:  # a bug: its traceback goes to the log, the page gets one line
        log.exception("build of job %s failed", job_id)
        update_status(root, job_id, state="failed",
                      error=f"internal error ({type(error).__name__}); see the server log")


def create_app(data_dir: str | Path, max_jobs: int = 2, max_upload_bytes: int = 25 * 1024 * 1024,
               allowed_hosts: list[str] | None = None, trusted_endpoints: tuple[str, ...] | list[str] = (),
               max_queue: int = 8):
    """The FastAPI app serving ``data_dir`` (created if missing).

    ``allowed_hosts``: the only ``Host`` headers answered (None: any), against DNS rebinding on a loopback server.
    Uploads from another site's page (an ``Origin`` that is not this server) are refused.
    ``trusted_endpoints``: model endpoints (API bases) whose builds may send the server's API key; a build for
    any other endpoint typed into the form sends none.
    """
    try:
        import jinja2
        from fastapi import FastAPI, Request
        from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
        from starlette.concurrency import run_in_threadpool
        from starlette.datastructures import UploadFile
        from starlette.exceptions import HTTPException
        from starlette.formparsers import MultiPartException
        from starlette.middleware.trustedhost import TrustedHostMiddleware
    except ModuleNotFoundError as error:
        raise missing_extra(error.name or "fastapi", "web") from None

    from .build import BuildOptions
    from .grounding import FORMATS
    from .vlm import DEFAULT_API_KEY_ENV, normalise_endpoint

    trusted = {normalise_endpoint(endpoint) for endpoint in trusted_endpoints}
    jobs = Jobs(Path(data_dir), max_jobs, max_queue)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    app = FastAPI(title="room3d", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.jobs = jobs
    if allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts, www_redirect=False)
    limits = {"max_upload_mb": max_upload_bytes / 1e6, "max_grounding_mb": MAX_GROUNDING_BYTES / 1e6,
              "max_jobs": max_jobs, "max_queue": max_queue}

    def page(template: str, status_code: int = 200, headers: dict | None = None, **context) -> HTMLResponse:
        html = env.get_template(template).render(limits=limits, stage_titles=STAGE_TITLES,
                                                 trusted_endpoints=sorted(trusted), **context)
        return HTMLResponse(html, status_code=status_code,
                            headers={"Content-Security-Policy": _OWN_PAGES_CSP, "X-Content-Type-Options": "nosniff",
                                     "Referrer-Policy": "same-origin", **(headers or {})})

    def error_page(status_code: int, message: str, headers: dict | None = None) -> HTMLResponse:
        return page("error.html.j2", status_code=status_code, headers=headers, status_code_=status_code,
                    message=message)

    @app.exception_handler(HTTPException)
    async def http_error(request, error):
        message = error.detail if isinstance(error.detail, str) and error.status_code != 404 else "not found"
        return error_page(error.status_code, message, headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def internal_error(request, error):
        log.exception("request %s failed", request.url.path)
        return error_page(500, "internal error; see the server log")

    @app.get("/")
    def index():
        return page("index.html.j2", jobs=jobs.all(), formats=FORMATS)

    @app.get("/static/{name}")
    def static(name: str):
        if name not in _STATIC:
            raise HTTPException(404)
        return FileResponse(_TEMPLATES / name, media_type=_STATIC[name], headers={"X-Content-Type-Options": "nosniff"})

    @app.post("/jobs")
    async def upload(request: Request):
        origin = request.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
            await _discard_body(request.receive)
            return error_page(403, "upload refused: it came from another site's page")
        if not jobs.slots.acquire(blocking=False):
            await _discard_body(request.receive)
            return error_page(503, f"busy: {max_jobs} build(s) running and {max_queue} waiting, the most this "
                              "server holds; try again in a moment", headers={"Retry-After": "5"})
        started, form = False, None
        receive = _LimitedReceive(request.receive, max_upload_bytes)
        try:
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_upload_bytes:
                raise _TooLarge
            form = await Request(request.scope, receive).form(max_files=3, max_fields=8,
                                                              max_part_size=MAX_FIELD_BYTES)
            job_id = await run_in_threadpool(_accept, form)
            started = True
        except _TooLarge:
            if not receive.finished:
                await _discard_body(request.receive)
            return error_page(413, f"upload too large: the limit is {max_upload_bytes / 1e6:g} MB "
                              "(photo and grounding file together)")
        except MultiPartException as error:
            return error_page(400, f"not a valid upload form: {error.message}")
        except UserError as error:
            return error_page(400, str(error))
        finally:
            if not started:
                jobs.slots.release()
            if form is not None:
                await form.close()
        return RedirectResponse(f"/jobs/{job_id}", status_code=303)

    def read_upload(field, limit_bytes: int, what: str) -> bytes | None:
        """The bytes of an optional uploaded file (None when the form has none), refused in one line past
        ``limit_bytes``; at most one byte more than that is read."""
        if not isinstance(field, UploadFile) or not field.filename:
            return None
        data = field.file.read(limit_bytes + 1)
        if len(data) > limit_bytes:
            raise UserError(f"{what} file too large: the limit is {limit_bytes / 1e6:g} MB")
        return data

    def _accept(form) -> str:
        """Check the form, store the inputs and start the build; returns the job id. Runs in a worker thread."""
        photo = form.get("photo")
        if not isinstance(photo, UploadFile) or not photo.filename:
            raise UserError("choose a photo to upload")
        photo_format, thumbnail = _check_photo(photo.file)
        grounding_text = None
        grounding = form.get("grounding")
        data = read_upload(grounding, MAX_GROUNDING_BYTES, "grounding")
        if data:
            from .grounding import decode_answer

            grounding_text = decode_answer(data, "the grounding file")
        edits_text = None
        from .edits import MAX_EDITS_BYTES, parse_edits

        data = read_upload(form.get("edits"), MAX_EDITS_BYTES, "edits")
        if data is not None:
            try:
                parsed = json.loads(data.decode("utf-8-sig"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise UserError("the edits file is not JSON: save it with the page's Edits button") from None
            parse_edits(parsed, "the edits file")  # refused here, in one line, before anything is stored
            edits_text = json.dumps(parsed)
        fields = {key: form.get(key) for key in ("format", "vlm", "vlm_model", "task")}
        if any(value is not None and not isinstance(value, str) for value in fields.values()):
            raise UserError("unexpected file in a text field")
        grounding_format = (fields["format"] or "auto").strip()
        if grounding_format not in FORMATS:
            raise UserError(f"unknown grounding format: choose one of {', '.join(FORMATS)}")
        vlm, vlm_model = (fields["vlm"] or "").strip() or None, (fields["vlm_model"] or "").strip() or None
        task = (fields["task"] or "grounding_2d").strip()
        if vlm is not None:
            if grounding_text is not None:
                raise UserError("give either a grounding file or a model endpoint, not both")
            if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", vlm):
                raise UserError("the model endpoint must be an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1")
            normalise_endpoint(vlm)  # UserError for a bad port or no host
            if not vlm_model:
                raise UserError("a model endpoint needs a model name")
            if task not in ("grounding_2d", "grounding_3d", "layout"):
                raise UserError("unknown task: choose grounding_2d, grounding_3d or layout")

        job_id, folder = jobs.new_folder()
        try:
            # the server's API key goes only to an endpoint its owner named (--vlm-endpoint), never to one typed here
            key_env = DEFAULT_API_KEY_ENV if vlm is not None and normalise_endpoint(vlm) in trusted else None
            if edits_text is not None:
                (folder / "input").mkdir(parents=True, exist_ok=True)
                (folder / "input" / "edits.json").write_text(edits_text, encoding="utf-8")
            return _store_and_start(job_id, folder, photo, photo_format, thumbnail, grounding, grounding_text,
                                    BuildOptions(grounding_format=grounding_format, vlm=vlm, vlm_model=vlm_model,
                                                 task=task, also=("gltf",), vlm_api_key_env=key_env,
                                                 edits=folder / "input" / "edits.json" if edits_text else None))
        except Exception:  # nothing half-stored stays behind
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _store_and_start(job_id, folder, photo, photo_format, thumbnail, grounding, grounding_text, options) -> str:
        photo_path = folder / "input" / f"photo{PHOTO_FORMATS[photo_format]}"
        photo.file.seek(0)
        with photo_path.open("wb") as out:
            while chunk := photo.file.read(1 << 20):
                out.write(chunk)
        (folder / "thumb.jpg").write_bytes(thumbnail)
        grounding_path = None
        if grounding_text is not None:
            # the name keeps only what the format rules read (pipeline/grounding.py: "qwen3", "qwen2_5", ...)
            stem = re.sub(r"[^a-z0-9_.]+", "_", Path(grounding.filename).stem.lower())[:40].strip("._") or "answer"
            grounding_path = folder / "input" / f"grounding.{stem}.txt"
            grounding_path.write_text(grounding_text, encoding="utf-8")
        options = dataclasses.replace(options, grounding=grounding_path)
        status = {"id": job_id, "created": time.time(), "state": "queued", "stage": None, "stages": [],
                  "error": None, "photo_name": photo.filename[:200],
                  "grounding_name": grounding.filename[:200] if grounding_path else None,
                  "vlm": normalise_endpoint(options.vlm) if options.vlm else None,  # no user:password@
                  "vlm_model": options.vlm_model, "object_count": None, "labels": [], "warnings": []}
        jobs.start(job_id, status, photo_path, options)
        return job_id

    @app.get("/jobs/{job_id}")
    def job_page(job_id: str):
        status = jobs.status(job_id) if JOB_ID_RE.fullmatch(job_id) else None
        if status is None:
            raise HTTPException(404)
        if status["state"] == "done":
            return page("result.html.j2", job=status)
        return page("progress.html.j2", job=status, headers={"Cache-Control": "no-store"})

    @app.get("/jobs/{job_id}/status.json")
    def job_status(job_id: str):
        status = jobs.status(job_id) if JOB_ID_RE.fullmatch(job_id) else None
        if status is None:
            raise HTTPException(404)
        return JSONResponse(status, headers={"Cache-Control": "no-store"})

    @app.get("/jobs/{job_id}/thumb.jpg")
    def thumbnail(job_id: str):
        path = jobs.file(job_id, "thumb.jpg")
        if path is None:
            raise HTTPException(404)
        return FileResponse(path, media_type="image/jpeg", headers={"X-Content-Type-Options": "nosniff"})

    @app.get("/jobs/{job_id}/files/{name}")
    def result_file(job_id: str, name: str):
        path = jobs.file(job_id, "out", name) if name in RESULT_FILES else None
        if path is None and name == "overlay.jpg":  # a result built before overlay.jpg
            path, name = jobs.file(job_id, "out", "overlay.png"), "overlay.png"
        if path is None:
            raise HTTPException(404)
        headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
        if name == "index.html":
            headers["Content-Security-Policy"] = _RESULT_PAGE_CSP
        else:
            headers["Content-Disposition"] = f'inline; filename="{name}"'
        if name.endswith(".svg"):  # a drawing: nothing in it may run or load
            headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
        return FileResponse(path, media_type=RESULT_FILES[name], headers=headers)

    @app.get("/favicon.ico")
    def favicon():
        return Response(status_code=204)

    return app


class _LimitedReceive:
    """An ASGI ``receive`` that raises :class:`_TooLarge` as soon as the body passes ``max_bytes``."""

    def __init__(self, receive, max_bytes: int):
        self.receive, self.max_bytes = receive, max_bytes
        self.seen, self.finished = 0, False

    async def __call__(self):
        message = await self.receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            self.finished = not message.get("more_body", False)
            if self.seen > self.max_bytes:
                raise _TooLarge
        return message


async def _discard_body(receive) -> None:
    """Read and drop what is left of a refused request's body (bounded by :data:`DRAIN_MAX_BYTES` and
    :data:`DRAIN_MAX_S`), so the client is not cut off while still sending and sees the error page."""
    import asyncio

    async def drain():
        dropped = 0
        while dropped <= DRAIN_MAX_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    try:
        await asyncio.wait_for(drain(), DRAIN_MAX_S)
    except (asyncio.TimeoutError, RuntimeError):  # RuntimeError: the body was already read to its end
        pass


def _check_photo(file) -> tuple[str, bytes]:
    """``(Pillow format, thumbnail JPEG bytes)`` of an uploaded photo; UserError when it is no image we read."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    from .photo import DEFAULT_MAX_PIXELS

    file.seek(0)
    try:
        with Image.open(file) as image:
            if image.format not in PHOTO_FORMATS:
                raise UserError(f"the photo is a {image.format} image; upload a JPEG, PNG, WebP, BMP or TIFF photo")
            width, height = image.size
            if width * height > DEFAULT_MAX_PIXELS:
                raise UserError(f"the photo has {width * height / 1e6:.0f} megapixels; the limit is "
                                f"{DEFAULT_MAX_PIXELS / 1e6:.0f}")
            image.draft("RGB", (THUMB_SIDE_PX, THUMB_SIDE_PX))
            thumb = ImageOps.exif_transpose(image).convert("RGB")
            thumb.thumbnail((THUMB_SIDE_PX, THUMB_SIDE_PX))
            buffer = io.BytesIO()
            thumb.save(buffer, "JPEG", quality=80)
            return image.format, buffer.getvalue()
    except Image.DecompressionBombError:
        raise UserError(f"the photo has too many pixels: the limit is {DEFAULT_MAX_PIXELS / 1e6:.0f} megapixels") \
            from None
    except UnidentifiedImageError:
        raise UserError("the uploaded photo is not an image (its content was checked, not its name): upload a "
                        "JPEG, PNG, WebP, BMP or TIFF photo") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise UserError(f"the uploaded photo is damaged or truncated: {str(error).splitlines()[0]}") from None


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) is reachable only from this machine."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(host: str = "127.0.0.1", port: int = 8080, data_dir: str | Path = "room3d-data", max_jobs: int = 2,
          max_upload_mb: float = 25.0, trusted_endpoints: tuple[str, ...] | list[str] = (), max_queue: int = 8) -> None:
    """Run the web app with uvicorn until interrupted. The port is bound before anything is printed (a port in
    use or a host that does not resolve is a :class:`UserError`); port 0 takes a free port, printed.
    ``trusted_endpoints``: see :func:`create_app`."""
    try:
        import uvicorn
    except ModuleNotFoundError:
        raise missing_extra("uvicorn", "web") from None
    if max_jobs < 1:
        raise UserError("--max-jobs must be at least 1")
    if max_queue < 0:
        raise UserError("--max-queue must be 0 or more")
    if not (math.isfinite(max_upload_mb) and 0 < max_upload_mb <= MAX_UPLOAD_LIMIT_MB):
        raise UserError(f"--max-upload-mb must be more than 0 and at most {MAX_UPLOAD_LIMIT_MB:g}, not {max_upload_mb}")
    if not 0 <= port <= 65535:
        raise UserError(f"--port must be 0..65535, not {port}")
    data_dir = Path(data_dir)
    if data_dir.exists() and not data_dir.is_dir():
        raise UserError(f"--data is a file: {data_dir}")
    _check_writable(data_dir / "jobs")
    if not is_loopback(host):
        print(f"room3d: warning: serving on {host}, not a loopback address: anyone who can reach it can upload "
              "photos, read every result and make this machine call the model endpoints they name (no login)",
              file=sys.stderr)
    allowed_hosts = ["127.0.0.1", "localhost", "::1", host] if is_loopback(host) else None
    app = create_app(data_dir, max_jobs=max_jobs, max_upload_bytes=int(max_upload_mb * 1e6),
                     allowed_hosts=allowed_hosts, trusted_endpoints=trusted_endpoints, max_queue=max_queue)
    listener = _listen(host, port)
    port = listener.getsockname()[1]
    logging.basicConfig(level=logging.INFO, format="room3d: %(levelname)s: %(message)s")
    shown_host = f"[{host}]" if ":" in host else host
    print(f"room3d: serving {data_dir.resolve()} on http://{shown_host}:{port}/ (Ctrl+C to stop)", file=sys.stderr,
          flush=True)
    try:
        uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning")).run(sockets=[listener])
    finally:
        listener.close()
        app.state.jobs.shutdown()


def _check_writable(folder: Path) -> None:
    """Create ``folder`` (the data folder's jobs/) and check a file can be written in it; UserError otherwise."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UserError(f"cannot use --data {folder.parent}: {error.strerror or error}") from None


def _listen(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (uvicorn listens on it); UserError when that is not possible."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (OSError, UnicodeError) as error:
        raise UserError(f"--host {host}: not an address of this machine "
                        f"({getattr(error, 'strerror', None) or error})") from None
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        listener.bind(address)
    except OSError as error:
        listener.close()
        hint = ": another program listens there; choose another --port" if error.errno == errno.EADDRINUSE else ""
        raise UserError(f"cannot listen on {host}:{port} ({error.strerror or error}){hint}") from None
    return listener
