"""Ask a vision-language model for the grounding of a photo, and keep its answer. Three sources
(:func:`ask`, ``room3d build --vlm SOURCE``):

* ``http(s)://HOST:PORT/v1``: a model behind an OpenAI-compatible chat-completions API (vLLM, SGLang, Ollama,
  hosted compatible modes), :func:`ask_server`, below;
* ``hf:MODEL``: a Qwen2.5-VL / Qwen3-VL model run here with transformers (``pipeline/vlm_local.py``);
* ``file:PATH``: a recorded answer (a saved ``vlm_answer.txt``, or any model answer), :func:`answer_from_file`.

All three give a :class:`VlmAnswer`, read by the same parser (:func:`grounding_from_answer`) and saved the same
way (:func:`save_answer`).

One request: ``POST {endpoint}/chat/completions`` with the photo as a JPEG data URL and a prompt rendered from
``templates/prompts/{task}.j2`` (wording after the Qwen cookbooks), ``temperature`` 0. Bounded retries with
exponential backoff on connection errors, timeouts, dropped connections, HTTP 429 and 5xx, all inside one total
time budget; any other answer ends with one :class:`UserError` line saying what to do.

What the coordinates in the answer are (``VlmAnswer.grounding_format``), from the model's family, guessed from its
name (``model_family``) unless the caller gives it:

* ``qwen2.5`` (a name with ``qwen2.5`` / ``qwen2_5`` / ``qwen25``): absolute pixels of the image the model saw,
  which is Qwen2.5-VL's ``smart_resize`` of the image sent. This module sends an image whose sides are multiples
  of 28 and whose area is within ``qwen25_max_pixels`` (default ``QWEN25_SEND_MAX_PIXELS``, Ollama's limit, under
  vLLM's and transformers' 12,845,056), so that ``smart_resize`` leaves it as it is: the coordinates are pixels
  of the image sent, ``sent_width_px`` x ``sent_height_px``, and the prompt states that size. (A server started
  with a ``max_pixels`` below ``qwen25_max_pixels`` resizes again: pass its ``max_pixels`` as
  ``qwen25_max_pixels``.)
* ``qwen3`` (a name with ``qwen3``; also any other name, with a note): relative, 0..1000 of the image's width
  and height, the same for the image sent and the photo.
* ``pixels`` (only when the caller asks for it): pixels of the image sent; the prompt states its size.

To photo pixels (the photo after EXIF rotation, ``photo_width_px`` x ``photo_height_px``): parse the text as
grounding of an image of the *sent* size in ``grounding_format``, then scale x by
``photo_width_px / sent_width_px`` and y by ``photo_height_px / sent_height_px``. :func:`grounding_from_answer`
does exactly that. Parsing the text against the photo's own size is right for ``qwen3`` only: for ``qwen2.5``
the sizes differ whenever the photo was downscaled or snapped to multiples of 28.

A ``bbox_3d`` (task ``grounding_3d``) is in metres in the model's camera frame and does not depend on the image
size.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import os
import re
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from . import frames
from .errors import UserError, missing_extra

TASKS = ("grounding_2d", "grounding_3d", "layout")
GROUNDING_FORMATS = ("qwen2.5", "qwen3", "pixels")
#: Tasks whose answer is a list of boxes that ``pipeline.grounding`` reads.
GROUNDING_TASKS = ("grounding_2d", "grounding_3d")
DEFAULT_API_KEY_ENV = "ROOM3D_API_KEY"
FALLBACK_API_KEY_ENV = "OPENAI_API_KEY"
JPEG_QUALITY = 90
DEFAULT_MAX_TOKENS = 4096
#: Largest image (pixels) sent to a Qwen2.5-VL model: Ollama's default ``max_pixels`` for qwen2.5vl
#: (``2 << 20``, ollama ``model/models/qwen25vl/process_image.go``); vLLM and transformers allow 12,845,056.
QWEN25_SEND_MAX_PIXELS = 2 << 20
#: Largest response body read from a server (bytes); a chat completion with boxes is a few kB.
MAX_RESPONSE_BYTES = 16_000_000
#: First pause between tries (seconds); doubled after each failed try, never past the total budget.
BACKOFF_FIRST_S = 0.5
#: No new try is started with less than this left of the budget (seconds).
MIN_TRY_S = 0.05
#: File names written by :func:`save_answer`.
ANSWER_FILE = "vlm_answer.txt"
REQUEST_FILE = "vlm_request.json"
PIXELS_FILE = "vlm_grounding.pixels.json"

# The keys pipeline.grounding reads boxes and lists from (kept in step with its _BOX_KEYS / _LIST_KEYS).
_BOX_KEYS = ("bbox_2d", "bbox", "box", "box_2d")
_LIST_KEYS = ("objects", "detections", "boxes", "results", "items", "annotations")
_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)


@dataclass(frozen=True)
class VlmAnswer:
    """What the model said, and everything needed to read its coordinates (see the module docstring).

    text               the answer's message content (a leading ``<think>...</think>`` block removed)
    grounding_format   what the 2D coordinates are: ``qwen2.5`` | ``qwen3`` | ``pixels`` (of the image sent)
    sent_width_px/sent_height_px    size of the JPEG sent (for ``qwen2.5`` also the size the model saw)
    photo_width_px/photo_height_px  size of the photo after EXIF rotation, the frame of every room3d pixel
    elapsed_s          wall time of the whole call, encoding included; attempts: HTTP requests made
    finish_reason      the server's ``finish_reason`` (``length``: the answer was cut at ``max_tokens``)
    notes              what the caller should know (a guessed model family, a cut answer, ...)
    """

    text: str
    model: str
    endpoint: str
    task: str
    prompt: str
    grounding_format: str
    elapsed_s: float
    attempts: int
    sent_width_px: int = 0
    sent_height_px: int = 0
    photo_width_px: int = 0
    photo_height_px: int = 0
    max_tokens: int = DEFAULT_MAX_TOKENS
    finish_reason: str | None = None
    notes: tuple[str, ...] = ()
    backend: str = "server"
    """``server`` (an OpenAI-compatible API), ``transformers`` (a local model) or ``file`` (a recorded answer)"""
    device: str | None = None
    """where a local model ran (``cuda``, ``cpu``); dtype: its precision (``bfloat16``, ``float32``)"""
    dtype: str | None = None
    format_reason: str = ""
    """why ``grounding_format`` is what it is (default: from the model's name)"""

    @property
    def scale_to_photo(self) -> tuple[float, float]:
        """``(sx, sy)``: photo pixels per pixel of the image sent."""
        return self.photo_width_px / self.sent_width_px, self.photo_height_px / self.sent_height_px


# ---------------------------------------------------------------------------------------------------- the sources

SOURCE_KINDS = ("server", "hf", "file")


def parse_source(source: str) -> tuple[str, str]:
    """``(kind, target)`` of a ``--vlm`` value: ``("server", "http://host:8000/v1")``, ``("hf", "Qwen/...")`` or
    ``("file", "out/vlm_answer.txt")``. Raises :class:`UserError` for anything else."""
    text = (source or "").strip()
    scheme = text.split(":", 1)[0].lower() if ":" in text else ""
    if scheme in ("http", "https"):
        return "server", normalise_endpoint(text)
    if scheme in ("hf", "file"):
        target = text.split(":", 1)[1].strip()
        if not target:
            raise UserError(f"--vlm {text}: give what follows {scheme}:, e.g. " +
                            ("hf:Qwen/Qwen2.5-VL-3B-Instruct" if scheme == "hf" else "file:out/vlm_answer.txt"))
        return scheme, target
    hint = "file:" + text if Path(text).expanduser().is_file() else "hf:" + text if "/" in text else None
    raise UserError(f"--vlm {text!r} is not a model source: give http(s)://HOST:PORT/v1 (a server), "
                    "hf:MODEL_ID_OR_FOLDER (a local model) or file:PATH (a recorded answer)"
                    + (f"; did you mean {hint}?" if hint else ""))


def ask(
    photo,
    source: str,
    model: str | None = None,
    task: str = "grounding_2d",
    *,
    timeout_s: float = 30.0,
    grounding_format: str | None = None,
    qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS,
    max_tokens: int | None = None,
    device: str = "auto",
    dtype: str = "auto",
    api_key_env: str | None = DEFAULT_API_KEY_ENV,
) -> VlmAnswer:
    """The model's answer about the photo from ``source`` (see :func:`parse_source`).

    model             the model name on a server (required there; unused for ``hf:`` and ``file:``)
    timeout_s         total budget of a server call (a local model runs to the end, bounded by max_tokens)
    grounding_format  what the coordinates are (default: from the model's name, config or recorded request)
    qwen25_max_pixels max_pixels of the Qwen2.5-VL processor: a server or a local model is given an image of at
                      most this many pixels (and at most ``QWEN25_SEND_MAX_PIXELS``); a recorded answer without
                      its request record is read as made with it
    max_tokens        most tokens in the answer (default: ``DEFAULT_MAX_TOKENS`` for a server,
                      ``vlm_local.DEFAULT_MAX_NEW_TOKENS`` for a local model)
    device, dtype     where and in what precision a local model runs (``auto``: cuda bf16, else cpu float32)
    api_key_env       environment variable with a server's API key (see :func:`ask_server`); None: no key is
                      sent (the web app's setting for an endpoint an uploader typed)
    """
    kind, target = parse_source(source)
    sent_max_pixels = min(qwen25_max_pixels, QWEN25_SEND_MAX_PIXELS)
    if kind == "server":
        if not model:
            raise UserError(f"--vlm {target} needs --vlm-model (the served models are listed at {target}/models)")
        return ask_server(photo, source.strip(), model, task=task, timeout_s=timeout_s, api_key_env=api_key_env,
                          grounding_format=grounding_format, qwen25_max_pixels=sent_max_pixels,
                          max_tokens=max_tokens or DEFAULT_MAX_TOKENS)
    if kind == "hf":
        from . import vlm_local

        return vlm_local.ask_local(photo, target, task, device=device, dtype=dtype,
                                   max_new_tokens=max_tokens or vlm_local.DEFAULT_MAX_NEW_TOKENS,
                                   max_pixels=sent_max_pixels, grounding_format=grounding_format)
    return answer_from_file(target, photo, task=task, grounding_format=grounding_format,
                            qwen25_max_pixels=qwen25_max_pixels)


def answer_from_file(path, photo, task: str = "grounding_2d", grounding_format: str | None = None,
                     qwen25_max_pixels: int = frames.QWEN25_MAX_PIXELS) -> VlmAnswer:
    """A recorded answer read back as a :class:`VlmAnswer` for this photo.

    A ``vlm_answer.txt`` with its ``vlm_request.json`` beside it (as :func:`save_answer` writes them, the record's
    ``answer_sha256`` matching the text) is read as recorded: the grounding format and the size of the image the
    model saw come from the record, so it replays exactly. Any other file is read as ``--grounding`` reads it:
    ``grounding_format`` if given, else chosen by the rules of ``pipeline/grounding.py`` (with
    ``qwen25_max_pixels`` for the size Qwen2.5-VL saw).
    """
    from .grounding import parse_grounding, read_answer_text

    path = Path(path).expanduser()
    if not path.is_file():
        raise UserError(f"recorded answer not found: {path}" + (" (a folder: give the vlm_answer.txt in it)"
                                                                if path.is_dir() else ""))
    text = read_answer_text(path, "recorded answer")
    rgb = _photo_rgb(photo)
    photo_h, photo_w = rgb.shape[:2]
    if grounding_format is not None and grounding_format not in GROUNDING_FORMATS:
        raise UserError(f"unknown grounding format {grounding_format!r}: choose one of {', '.join(GROUNDING_FORMATS)}")
    notes: list[str] = []
    record = _record_beside(path, text)
    if record is not None:
        chosen = grounding_format or record["grounding_format"]
        sent_w, sent_h = int(record["sent_width_px"]), int(record["sent_height_px"])
        reason = ("given by the caller" if grounding_format else f"recorded in {REQUEST_FILE} beside the answer "
                  f"({record.get('format_reason') or 'the model family'})")
        if (record.get("photo_width_px"), record.get("photo_height_px")) != (photo_w, photo_h):
            notes.append(f"recorded for a {record.get('photo_width_px')}x{record.get('photo_height_px')} photo, "
                         f"read against this {photo_w}x{photo_h} one")
        task, model = record.get("task") or task, record.get("model") or "recorded answer"
        notes.extend(str(note) for note in record.get("notes") or ())
    else:
        chosen, reason = grounding_format, "given by the caller"
        if chosen is None:
            try:
                parsed = parse_grounding(text, photo_w, photo_h, format="auto", name=path.name,
                                         qwen25_max_pixels=qwen25_max_pixels)
                chosen, reason = parsed.format, f"{parsed.format_reason} (as --grounding reads a file)"
            except UserError:
                chosen = None
            if chosen not in GROUNDING_FORMATS:  # no boxes in it: a layout, or no JSON at all
                chosen, reason = "pixels", "no boxes to read"
        sent_w, sent_h = (frames.qwen25_resized_size(photo_w, photo_h, max_pixels=qwen25_max_pixels)
                          if chosen == "qwen2.5" else (photo_w, photo_h))
        model = "recorded answer"
    return VlmAnswer(
        text=text, model=model, endpoint=f"file:{path}", task=task, prompt="", grounding_format=chosen,
        elapsed_s=0.0, attempts=0, sent_width_px=sent_w, sent_height_px=sent_h, photo_width_px=int(photo_w),
        photo_height_px=int(photo_h), max_tokens=0, finish_reason=None, notes=tuple(notes), backend="file",
        format_reason=reason,
    )


def _record_beside(path: Path, text: str) -> dict | None:
    """The ``vlm_request.json`` recorded with the answer ``path``, when it is that answer's record."""
    record_path = path.with_name(REQUEST_FILE)
    if path.name != ANSWER_FILE or not record_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text(encoding="utf-8"))
        int(record["sent_width_px"]), int(record["sent_height_px"])
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        return None
    if record.get("grounding_format") not in GROUNDING_FORMATS:
        return None
    digest = record.get("answer_sha256")
    if digest is not None and digest != hashlib.sha256(text.encode("utf-8")).hexdigest():
        return None  # the answer was edited after it was recorded: read it as any other file
    return record


# ---------------------------------------------------------------------------------------------------- the request


def model_family(model: str) -> tuple[str, str | None]:
    """``(grounding_format, note or None)`` guessed from a model name (``Qwen/Qwen2.5-VL-7B-Instruct``,
    ``qwen2.5vl:7b``, ``Qwen/Qwen3-VL-8B-Instruct``, ``qwen3-vl:8b`` ...)."""
    name = model.lower()
    if any(key in name for key in ("qwen2.5", "qwen2_5", "qwen25", "qwen2-5")):
        return "qwen2.5", None
    if "qwen3" in name:
        return "qwen3", None
    return "qwen3", (f"model {model!r} is not recognised as Qwen2.5-VL or Qwen3-VL from its name: its coordinates "
                     "are read as Qwen3-VL's relative 0..1000 (give the grounding format if they are not)")


def sent_size(width_px: int, height_px: int, grounding_format: str, max_side_px: int = 1600,
              qwen25_max_pixels: int = QWEN25_SEND_MAX_PIXELS) -> tuple[int, int]:
    """``(width, height)`` of the image sent for a photo of this size.

    Downscaled (never enlarged) so that its longer side is at most ``max_side_px``. For ``qwen2.5`` the size is
    then snapped to Qwen2.5-VL's own ``smart_resize`` (multiples of 28, area within ``qwen25_max_pixels``), a
    fixed point of it, so the model sees exactly the image sent.
    """
    scale = min(1.0, max_side_px / max(width_px, height_px))
    w, h = max(1, round(width_px * scale)), max(1, round(height_px * scale))
    if grounding_format != "qwen2.5":
        return w, h
    f = frames.QWEN25_FACTOR
    w_snap = max(f, round(w / f) * f)
    h_snap = max(f, round(h / f) * f)
    w_snap -= f if w_snap > max_side_px and w_snap > f else 0
    h_snap -= f if h_snap > max_side_px and h_snap > f else 0
    return frames.qwen25_resized_size(w_snap, h_snap, max_pixels=qwen25_max_pixels)


def render_prompt(task: str, grounding_format: str, width_px: int, height_px: int) -> str:
    """The prompt of ``templates/prompts/{task}.j2`` for a model of this family and an image of this size."""
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    import jinja2

    from .priors import categories
    from .resources import templates_dir

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "prompts")),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, autoescape=False,
    )
    text = environment.get_template(f"{task}.j2").render(
        family=grounding_format, width_px=int(width_px), height_px=int(height_px), categories=categories())
    return "\n".join(line.strip() for line in text.strip().splitlines() if line.strip())


def encode_jpeg(rgb: np.ndarray, width_px: int, height_px: int, quality: int = JPEG_QUALITY) -> bytes:
    """The (H, W, 3) uint8 image resized to ``width_px`` x ``height_px`` (Lanczos) as JPEG bytes."""
    from PIL import Image

    image = Image.fromarray(rgb, "RGB")
    if image.size != (width_px, height_px):
        image = image.resize((width_px, height_px), Image.Resampling.LANCZOS, reducing_gap=3.0)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def ask_server(
    photo,
    endpoint: str,
    model: str,
    task: str = "grounding_2d",
    api_key_env: str | None = DEFAULT_API_KEY_ENV,
    timeout_s: float = 30.0,
    connect_timeout_s: float = 5.0,
    retries: int = 3,
    max_image_side_px: int = 1600,
    *,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    grounding_format: str | None = None,
    qwen25_max_pixels: int = QWEN25_SEND_MAX_PIXELS,
    backoff_s: float = BACKOFF_FIRST_S,
) -> VlmAnswer:
    """Send the photo and the task's prompt to ``{endpoint}/chat/completions``; return the model's answer.

    photo        a path (loaded upright by its EXIF orientation, as room3d reads photos), a ``records.Photo`` or
                 an (H, W, 3) uint8 RGB array already upright
    endpoint     the API base, e.g. ``http://127.0.0.1:8000/v1`` (a trailing ``/chat/completions`` is accepted;
                 a query string and ``user:password@`` are sent but never recorded, see :func:`normalise_endpoint`)
    api_key_env  environment variable holding the API key (``OPENAI_API_KEY`` is used when it is unset); sent
                 as ``Authorization: Bearer``; no header without a key. None: no key at all, whatever the
                 environment holds (``room3d serve`` for endpoints typed into its form)
    timeout_s    total budget for all tries and pauses (seconds); connect_timeout_s bounds each connection
    retries      most HTTP requests made (tries), at least 1
    grounding_format  what the coordinates will be (default: from ``model_family``)

    Raises :class:`UserError` (one line) when no usable answer comes within the budget.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    if task not in TASKS:
        raise UserError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    if retries < 1 or not timeout_s > 0 or not connect_timeout_s > 0 or max_image_side_px < frames.QWEN25_FACTOR:
        raise UserError(f"asking {endpoint} needs at least 1 try, timeouts above 0 s and a largest image side of at "
                        f"least {frames.QWEN25_FACTOR} px (got {retries}, {timeout_s:g} s, {connect_timeout_s:g} s, "
                        f"{max_image_side_px} px)")
    try:
        import httpx
    except ImportError:
        raise missing_extra("httpx", "server") from None
    base = normalise_endpoint(endpoint)
    url = request_url(endpoint)
    notes: list[str] = []
    if grounding_format is None:
        grounding_format, note = model_family(model)
        if note:
            notes.append(note)
    elif grounding_format not in GROUNDING_FORMATS:
        raise UserError(f"unknown grounding format {grounding_format!r}: choose one of {', '.join(GROUNDING_FORMATS)}")
    if task == "grounding_3d" and grounding_format == "qwen2.5":
        notes.append("3D grounding (bbox_3d) is a Qwen3-VL skill; a Qwen2.5-VL model may answer without it")

    rgb = _photo_rgb(photo)
    photo_h, photo_w = rgb.shape[:2]
    sent_w, sent_h = sent_size(photo_w, photo_h, grounding_format, max_image_side_px, qwen25_max_pixels)
    prompt = render_prompt(task, grounding_format, sent_w, sent_h)
    image_url = "data:image/jpeg;base64," + base64.b64encode(encode_jpeg(rgb, sent_w, sent_h)).decode("ascii")
    body = {
        "model": model,
        "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": image_url}},
            {"type": "text", "text": prompt},
        ]}],
        "temperature": 0,
        "max_tokens": int(max_tokens),
    }
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    key_env = None if api_key_env is None else next(
        (name for name in (api_key_env, FALLBACK_API_KEY_ENV) if os.environ.get(name, "").strip()), None)
    if key_env is not None:
        headers["Authorization"] = "Bearer " + os.environ[key_env].strip()

    content, attempts = _post(httpx, url, base, body, headers, model, deadline, started, connect_timeout_s,
                              retries, backoff_s, key_env, api_key_env)
    text, finish_reason = _message_text(content, base, max_tokens)
    stripped = _THINK.sub("", text)
    if stripped != text:
        notes.append(f"the model's <think> block ({len(text) - len(stripped)} characters) was left out")
        text = stripped
    if not text.strip():
        raise UserError(f"the model {model!r} at {base} gave an empty answer (finish_reason={finish_reason}): "
                        f"try again, raise max_tokens ({max_tokens}) or try another model")
    if finish_reason == "length":
        notes.append(f"the answer was cut at max_tokens={max_tokens} (the grounding parser keeps the complete "
                     "entries; raise max_tokens for all of them)")
    return VlmAnswer(
        text=text, model=model, endpoint=base, task=task, prompt=prompt, grounding_format=grounding_format,
        elapsed_s=round(time.monotonic() - started, 3), attempts=attempts,
        sent_width_px=int(sent_w), sent_height_px=int(sent_h), photo_width_px=int(photo_w),
        photo_height_px=int(photo_h), max_tokens=int(max_tokens), finish_reason=finish_reason, notes=tuple(notes),
    )


def normalise_endpoint(endpoint: str) -> str:
    """The API base as it is recorded and shown: without a trailing slash or ``/chat/completions``, and without
    what may hold a credential (``user:password@``, a query string such as ``?api_key=...``, a fragment).
    Refuses one without http(s)://."""
    parts = _endpoint_parts(endpoint)
    host = parts.hostname or ""
    netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def request_url(endpoint: str) -> str:
    """The URL a chat completion is posted to: ``{base}/chat/completions`` with the endpoint's query string (and
    ``user:password@``, which httpx sends as basic auth) kept."""
    parts = _endpoint_parts(endpoint)
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path + "/chat/completions", parts.query, ""))


def redact_source(source: str | None) -> str | None:
    """A ``--vlm`` value as it may be recorded: an http(s) endpoint through :func:`normalise_endpoint`, anything
    else (``hf:``, ``file:``) as it is."""
    if source is None or source.strip().split(":", 1)[0].lower() not in ("http", "https"):
        return source
    try:
        return normalise_endpoint(source)
    except UserError:
        return "(an endpoint that is not a valid address)"


def _endpoint_parts(endpoint: str):
    text = endpoint.strip()
    if not re.match(r"^https?://[^/\s]+", text, re.IGNORECASE):
        raise UserError(f"the endpoint {_shown(text)!r} is not an http(s) address: give the API base, "
                        "e.g. http://127.0.0.1:8000/v1")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 (raises for a port that is not a number)
    except ValueError:
        raise UserError(f"the endpoint {_shown(text)!r} is not a valid address: give the API base, "
                        "e.g. http://127.0.0.1:8000/v1") from None
    if not parts.hostname or re.search(r"\s", parts.netloc):
        raise UserError(f"the endpoint {_shown(text)!r} names no host: give the API base, "
                        "e.g. http://127.0.0.1:8000/v1")
    path = parts.path.rstrip("/").removesuffix("/chat/completions").rstrip("/")
    return parts._replace(path=path)


def _shown(endpoint: str) -> str:
    """An endpoint for an error message: userinfo and query string left out (they may hold a key)."""
    endpoint = re.sub(r"^([a-zA-Z]+://)[^/@]*@", r"\1", endpoint)
    return re.split(r"[?#]", endpoint, maxsplit=1)[0]


def _photo_rgb(photo) -> np.ndarray:
    if isinstance(photo, (str, Path)):
        from .photo import load_photo

        return load_photo(photo).rgb
    rgb = getattr(photo, "rgb", photo)
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim not in (2, 3):
        raise ValueError("photo must be a path, a Photo or an (H, W, 3) uint8 array")
    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    return np.ascontiguousarray(rgb[..., :3])


def _printable(text: str) -> str:
    """``text`` with control and unprintable characters (a garbage answer's) shown as ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text)


def _plural(n: int) -> str:
    return f"{n} try" if n == 1 else f"{n} tries"


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _server_message(content: bytes) -> str:
    """The error message in a server's body (OpenAI/vLLM ``error.message``, FastAPI ``detail``, Ollama ``error``)."""
    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return _one_line(content.decode("utf-8", "replace"))
    if isinstance(value, dict):
        error = value.get("error")
        if isinstance(error, dict) and error.get("message"):
            return _one_line(error["message"])
        for key in ("error", "detail", "message"):
            if isinstance(value.get(key), str) and value[key]:
                return _one_line(value[key])
    return _one_line(json.dumps(value))


def _post(httpx, url, base, body, headers, model, deadline, started, connect_timeout_s, retries, backoff_s,
          key_env, api_key_env) -> tuple[bytes, int]:
    """POST to ``url`` with bounded retries inside the budget: ``(body bytes of a 2xx answer, tries made)``;
    ``base`` (the recorded endpoint) names the server in errors. A body over :data:`MAX_RESPONSE_BYTES` ends it."""
    problem = "none"  # what went wrong on the last try: connect | timeout | dropped | status
    detail = ""
    attempts = 0
    with httpx.Client(follow_redirects=False) as client:
        while attempts < retries:
            remaining = deadline - time.monotonic()
            if remaining < MIN_TRY_S:
                break
            attempts += 1
            retry_after = None
            timeout = httpx.Timeout(remaining, connect=min(connect_timeout_s, remaining))
            try:
                with client.stream("POST", url, json=body, headers=headers, timeout=timeout) as response:
                    chunks, size = [], 0
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
                        raise _too_long(base, int(declared))
                    for chunk in response.iter_bytes():  # decoded: a compressed bomb is bounded too
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > MAX_RESPONSE_BYTES:
                            raise _too_long(base, size)
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("the answer did not end within the budget")
                    content = b"".join(chunks)
            except httpx.ConnectTimeout:
                problem, detail = "connect", f"no connection within {min(connect_timeout_s, remaining):.3g} s"
            except httpx.ConnectError as error:
                detail = _one_line(_shown_in(error, url, base), 80).rstrip(".")
                problem, detail = "connect", detail or "connection refused"
            except httpx.TimeoutException:
                problem, detail = "timeout", ""
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
                problem, detail = "dropped", _one_line(_shown_in(error, url, base), 80).rstrip(".")
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
                raise UserError(f"the endpoint {base} is not a usable address "
                                f"({_one_line(_shown_in(error, url, base), 80)})") from None
            except httpx.TransportError as error:
                problem, detail = "connect", _one_line(_shown_in(error, url, base), 80)
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return content, attempts
                if status == 429 or status >= 500:
                    problem, detail = "status", f"HTTP {status}: {_server_message(content)}"
                    retry_after = _retry_after_s(response.headers.get("retry-after"))
                else:
                    raise _status_error(status, content, response.headers, base, model, key_env, api_key_env)
            if attempts >= retries:
                break
            pause = max(backoff_s * 2 ** (attempts - 1), retry_after or 0.0)
            pause = min(pause, deadline - time.monotonic() - MIN_TRY_S)
            if pause < 0:
                break
            time.sleep(pause)
    raise _give_up_error(problem, detail, base, model, attempts, time.monotonic() - started, deadline - started)


def _shown_in(error: Exception, url: str, base: str) -> str:
    """An httpx error's text with the request URL (it may hold a login or a key) replaced by the recorded base."""
    return str(error).replace(url, base).replace(_shown(url), base)


def _too_long(base: str, size: int) -> UserError:
    return UserError(f"the server at {base} sent a body of over {MAX_RESPONSE_BYTES / 1e6:g} MB ({size / 1e6:.1f} "
                     "MB read), far more than a chat completion: check that the endpoint is the model's API")


def _retry_after_s(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def _give_up_error(problem, detail, base, model, attempts, elapsed_s, budget_s) -> UserError:
    tries = f"after {_plural(attempts)} in {elapsed_s:.1f} s"
    if problem == "timeout":
        return UserError(f"no answer from {base} within the {budget_s:g} s budget ({tries}): the server is busy, "
                         "still loading the model, or the model is slow: give it more time or check the server")
    if problem == "dropped":
        return UserError(f"the server at {base} closed the connection without answering ({tries}; {detail}): "
                         "check the server's log (it may have crashed or run out of memory)")
    if problem == "status":
        hint = ("it is rate-limiting: wait and try again" if detail.startswith("HTTP 429")
                else "check the server's log")
        return UserError(f"the server at {base} failed {tries} ({detail}): {hint}")
    start = ("`ollama serve` (and `ollama pull " + model + "`)") if ":11434" in base else f"`vllm serve {model}`"
    cause = f" ({detail})" if detail else ""
    return UserError(f"no answer from {base} {tries}{cause}: is the server running? start it with {start}")


def _status_error(status, content, headers, base, model, key_env, api_key_env) -> UserError:
    said = _server_message(content)
    code = f"HTTP {status}: {said}" if said else f"HTTP {status}"
    if status in (401, 403):
        if api_key_env is None:
            return UserError(f"the server at {base} wants an API key ({code}): none is sent to a model endpoint typed "
                             f"into the web form; start `room3d serve --vlm-endpoint {base}` to let builds for it "
                             f"use {DEFAULT_API_KEY_ENV}")
        if key_env is None:
            return UserError(f"the server at {base} wants an API key ({code}): set {api_key_env} to the server's key")
        return UserError(f"the server at {base} refused the API key from {key_env} ({code}): "
                         f"set {api_key_env} to the server's key")
    if status == 404:
        return UserError(f"no chat completions at {base}/chat/completions for model {model!r} ({code}): wrong "
                         f"endpoint path or model name (the endpoint usually ends in /v1; list the served models "
                         f"at {base}/models)")
    if status == 413:
        return UserError(f"the server at {base} refused the request as too large ({code}): "
                         "send a smaller image (max_image_side_px)")
    if 300 <= status < 400:
        return UserError(f"the server at {base} redirected (HTTP {status}) to {headers.get('location', '?')}: "
                         "give that address as the endpoint")
    return UserError(f"the server at {base} rejected the request ({code}): check that {model!r} is a "
                     "vision-language model served there and that the server accepts images")


def _message_text(content: bytes, base: str, max_tokens: int) -> tuple[str, str | None]:
    """``(choices[0].message.content as text, finish_reason)`` of a chat-completion body."""
    def not_chat(why: str) -> UserError:
        return UserError(f"the server at {base} answered, but not with a chat completion: {why}")

    try:
        value = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise not_chat(f"the body is not JSON ({_one_line(content.decode('utf-8', 'replace'), 80)!r})") from None
    if not isinstance(value, dict):
        raise not_chat(f"the body is a JSON {type(value).__name__}, not an object")
    choices = value.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        if value.get("error"):
            raise not_chat(f"it reports an error: {_server_message(content)}")
        raise not_chat(f"no 'choices' in it (keys: {', '.join(sorted(map(str, value))[:8]) or 'none'})")
    choice = choices[0]
    finish_reason = choice.get("finish_reason") if isinstance(choice.get("finish_reason"), str) else None
    message = choice.get("message")
    if not isinstance(message, dict):
        raise not_chat("choices[0] has no 'message'")
    text = message.get("content")
    if isinstance(text, list):  # content parts
        text = "".join(part.get("text", "") for part in text if isinstance(part, dict))
    if text is None:
        if message.get("reasoning_content") or message.get("reasoning"):
            raise UserError(f"the model at {base} only thought and gave no answer (finish_reason={finish_reason}): "
                            f"raise max_tokens ({max_tokens}) or use an Instruct model")
        raise not_chat("choices[0].message has no content")
    if not isinstance(text, str):
        raise not_chat(f"choices[0].message.content is a JSON {type(text).__name__}, not text")
    return text, finish_reason


# ------------------------------------------------------------------------------------------------ using the answer


def grounding_from_answer(answer: VlmAnswer, format: str | None = None, source: str | None = None):
    """The answer's boxes as a ``records.Grounding`` in photo pixels (the photo after EXIF rotation).

    Parses ``answer.text`` as grounding of an image of the *sent* size in ``format`` (default
    ``answer.grounding_format``), then scales every box by ``answer.scale_to_photo``. Raises :class:`UserError`
    when the text holds no JSON.
    """
    from .grounding import parse_grounding

    chosen = format or answer.grounding_format
    parsed = parse_grounding(answer.text, answer.sent_width_px, answer.sent_height_px, format=chosen,
                             source=source or f"{answer.model} at {answer.endpoint}")
    sx, sy = answer.scale_to_photo
    detections = tuple(
        replace(d, box_xyxy_px=(d.box_xyxy_px[0] * sx, d.box_xyxy_px[1] * sy,
                                d.box_xyxy_px[2] * sx, d.box_xyxy_px[3] * sy))
        for d in parsed.detections
    )
    if parsed.format != chosen:  # an answer without boxes the parser names otherwise (a room layout)
        return replace(parsed, detections=detections)
    reason = ("given by the caller" if format else
              answer.format_reason or f"the model family, from the model name {answer.model!r}")
    reason += f"; coordinates of the {answer.sent_width_px}x{answer.sent_height_px} image sent, scaled to the photo"
    return replace(parsed, detections=detections, format=chosen, format_reason=reason)


def grounding_or_warning(answer: VlmAnswer, format: str | None = None):
    """:func:`grounding_from_answer`, but an answer with no usable boxes (garbage, prose, an empty answer) gives
    an empty ``Grounding`` with a warning instead of an error: the model was asked and answered, the scene is
    built without objects and the raw answer is kept (``vlm_answer.txt``)."""
    from .records import Grounding

    source = f"{answer.model} at {answer.endpoint}"
    try:
        grounding = grounding_from_answer(answer, format)
    except UserError as error:
        why = "an empty answer" if not answer.text.strip() else _printable(_one_line(error, 120))
        warning = f"the model's answer held no usable boxes ({why}); its raw answer is in {ANSWER_FILE}"
        return Grounding(detections=(), format=format or answer.grounding_format, format_reason="no boxes to read",
                         source=source, warnings=(warning,))
    if answer.task in GROUNDING_TASKS and not grounding.detections and grounding.layout is None:
        warning = (f"the model's answer held no usable boxes ({grounding.entries_total} entries read); its raw "
                   f"answer is in {ANSWER_FILE}")
        grounding = replace(grounding, warnings=(*grounding.warnings, warning))
    return grounding


def photo_pixel_grounding(answer: VlmAnswer, format: str | None = None) -> dict:
    """The answer's JSON with every 2D box converted to photo pixels, as ``{"format": "pixels", ...}``: a list of
    entries becomes ``"objects"``; an object keeps its keys (a room layout, say) with its box list converted. A
    ``bbox_3d`` is kept as it is (it does not depend on the image size). Raises :class:`UserError` when the text
    holds no JSON."""
    from .grounding import extract_json, read_box_2d, to_pixels

    chosen = format or answer.grounding_format
    sx, sy = answer.scale_to_photo

    def convert(entry):
        if not isinstance(entry, dict):
            return entry
        entry = dict(entry)
        for key in _BOX_KEYS:
            values, _ = read_box_2d(entry[key]) if key in entry else (None, None)
            if values is not None:
                x1, y1, x2, y2 = to_pixels(values, chosen, answer.sent_width_px, answer.sent_height_px)
                entry[key] = [round(float(x1 * sx), 2), round(float(y1 * sy), 2),
                              round(float(x2 * sx), 2), round(float(y2 * sy), 2)]
        return entry

    payload = extract_json(answer.text)
    if isinstance(payload, list):
        return {"format": "pixels", "objects": [convert(entry) for entry in payload]}
    list_keys = [key for key in _LIST_KEYS if isinstance(payload.get(key), list)]
    if not list_keys:
        if any(key in payload for key in _BOX_KEYS + ("bbox_3d",)):
            return {"format": "pixels", "objects": [convert(payload)]}
        return {**payload, "format": "pixels"}
    return {**payload, list_keys[0]: [convert(entry) for entry in payload[list_keys[0]]], "format": "pixels"}


def answer_record(answer: VlmAnswer) -> dict:
    """What ``vlm_request.json`` holds: the request and its outcome, never the API key nor the image."""
    record = asdict(answer)
    record.pop("text")
    record["notes"] = list(answer.notes)
    record["answer_sha256"] = hashlib.sha256(answer.text.encode("utf-8")).hexdigest()
    if answer.backend == "server":
        record["url"] = answer.endpoint + "/chat/completions"
        record["image"] = {"mime": "image/jpeg", "quality": JPEG_QUALITY, "width_px": answer.sent_width_px,
                           "height_px": answer.sent_height_px, "data": "not kept"}
    elif answer.backend == "transformers":
        record["image"] = {"resized": "Lanczos, to the processor's grid", "width_px": answer.sent_width_px,
                           "height_px": answer.sent_height_px, "data": "not kept"}
    record["temperature"] = 0
    record["coordinates"] = _coordinates_note(answer)
    if answer.task in GROUNDING_TASKS:
        record["replay"] = (f"room3d build PHOTO --vlm file:{ANSWER_FILE} (the raw answer, read with this record), "
                            f"or --grounding {PIXELS_FILE} (boxes in photo pixels, when the answer held JSON); "
                            f"{ANSWER_FILE} is the raw answer in {answer.grounding_format} coordinates of the "
                            f"{answer.sent_width_px}x{answer.sent_height_px} image sent")
    else:
        record["replay"] = (f"room3d build PHOTO --vlm file:{ANSWER_FILE} or --grounding {ANSWER_FILE} (a room-layout "
                            "answer, no boxes)")
    return record


def _coordinates_note(answer: VlmAnswer) -> str:
    sent = f"{answer.sent_width_px}x{answer.sent_height_px}"
    photo = f"{answer.photo_width_px}x{answer.photo_height_px}"
    if answer.grounding_format == "qwen3":
        what = "relative 0..1000 of the image's width and height"
    elif answer.grounding_format == "qwen2.5":
        what = f"absolute pixels of the {sent} image sent (a fixed point of Qwen2.5-VL's smart_resize)"
    else:
        what = f"pixels of the {sent} image sent"
    return (f"bbox_2d: {what}; photo pixels = parse at {sent} in format {answer.grounding_format}, then x * "
            f"{answer.photo_width_px}/{answer.sent_width_px}, y * {answer.photo_height_px}/{answer.sent_height_px} "
            f"(photo {photo} after EXIF rotation); bbox_3d: metres in the model's camera frame")


def save_answer(answer: VlmAnswer, folder: str | Path) -> list[Path]:
    """Write ``vlm_answer.txt`` (the answer's text, as is), ``vlm_request.json`` (:func:`answer_record`) and,
    for a grounding task whose answer holds JSON, ``vlm_grounding.pixels.json`` (:func:`photo_pixel_grounding`:
    the same JSON with its 2D boxes in photo pixels, replayable with ``room3d build PHOTO --grounding
    vlm_grounding.pixels.json``). Returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / ANSWER_FILE, folder / REQUEST_FILE]
    written[0].write_text(answer.text, encoding="utf-8")
    written[1].write_text(json.dumps(answer_record(answer), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if answer.task in GROUNDING_TASKS:
        try:
            converted = photo_pixel_grounding(answer)
        except UserError:
            return written
        converted.update(source=f"{answer.model} at {answer.endpoint}", photo_width_px=answer.photo_width_px,
                         photo_height_px=answer.photo_height_px)
        path = folder / PIXELS_FILE
        path.write_text(json.dumps(converted, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
