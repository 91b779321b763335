"""Helpers for the tests that open the generated page in Chromium and validate GLB files.

- ``chromium_path()`` / ``CHROMIUM_ARGS``: the system Chromium (Debian's ``/usr/bin/chromium``), headless,
  software WebGL through SwiftShader. Never downloads a browser.
- ``open_page(path_or_url)``: load a page, wait for ``window.sceneReady`` / ``window.room3dError`` and report
  console messages, network requests, dialogs and the viewer's ``window.room3d`` summary.
- ``validate_glb(path)``: the Khronos glTF-Validator report (via ``node viewer/validate.mjs``).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
VIEWER_DIR = REPO_ROOT / "viewer"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# URL schemes that never touch the network; every other request is recorded.
_LOCAL_SCHEMES = ("file:", "data:", "blob:")

_READY_JS = "() => window.sceneReady === true || (window.room3dError !== undefined && window.room3dError !== null)"

_SUMMARY_JS = """() => {
  const r = window.room3d || {};
  return {
    ready: window.sceneReady === true,
    error: (window.room3dError === undefined || window.room3dError === null) ? null : String(window.room3dError),
    objectCount: r.objectCount === undefined ? null : r.objectCount,
    meshCount: r.meshCount === undefined ? null : r.meshCount,
    labels: Array.isArray(r.labels) ? r.labels.slice() : [],
    labelTexts: Array.from(document.querySelectorAll('.room3d-label')).map((e) => e.textContent),
  };
}"""


def chromium_path() -> str | None:
    """Path of the system Chromium, or None when it is not installed."""
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _to_url(path_or_url: str | os.PathLike) -> str:
    s = os.fspath(path_or_url)
    if "://" in s or s.startswith(("data:", "about:")):
        return s
    return Path(s).resolve().as_uri()


def open_page(
    path_or_url: str | os.PathLike,
    screenshot: str | os.PathLike | None = None,
    timeout_s: float = 30,
    viewport: tuple[int, int] = (1280, 800),
) -> dict:
    """Open a page in headless Chromium and report what happened.

    Returns ``{"ready", "error", "console", "requests", "objectCount", "meshCount", "labels",
    "labelTexts", "dialogs", "page_errors"}``:

    - ``ready``: ``window.sceneReady === true`` (the viewer rendered its first frame with the scene);
    - ``error``: ``window.room3dError`` (or a timeout / navigation message), else None;
    - ``console``: console messages of type error or warning, as ``{"type", "text", "location"}``;
      uncaught page exceptions are also added here with type ``"pageerror"``;
    - ``requests``: URLs of every request whose scheme is not file:, data: or blob: (should be empty);
    - ``dialogs``: ``{"type", "message"}`` for every alert/confirm/prompt (each is dismissed);
    - ``objectCount``, ``meshCount``, ``labels``: from ``window.room3d``; ``labelTexts``: the text of the
      label elements over the objects as the DOM holds it.
    """
    from playwright.sync_api import sync_playwright  # imported lazily: only the browser tests need it

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Chromium not found at /usr/bin/chromium (apt-get install chromium)")

    console: list[dict] = []
    requests: list[str] = []
    dialogs: list[dict] = []
    url = _to_url(path_or_url)
    result: dict = {
        "ready": False,
        "error": None,
        "console": console,
        "requests": requests,
        "objectCount": None,
        "meshCount": None,
        "labels": [],
        "labelTexts": [],
        "dialogs": dialogs,
    }

    def on_console(msg) -> None:
        if msg.type in ("error", "warning", "assert"):
            loc = msg.location or {}
            console.append({"type": msg.type, "text": msg.text,
                            "location": f"{loc.get('url', '')}:{loc.get('lineNumber', '')}"})

    def on_request(req) -> None:
        if not req.url.startswith(_LOCAL_SCHEMES):
            requests.append(req.url)

    def on_dialog(dialog) -> None:
        dialogs.append({"type": dialog.type, "message": dialog.message})
        try:
            dialog.dismiss()
        except Exception:  # the page may already be closing
            pass

    def on_pageerror(err) -> None:
        console.append({"type": "pageerror", "text": str(err), "location": ""})

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
            page = context.new_page()
            page.on("console", on_console)
            page.on("request", on_request)
            page.on("dialog", on_dialog)
            page.on("pageerror", on_pageerror)
            timeout_ms = timeout_s * 1000
            deadline = time.monotonic() + timeout_s
            try:
                page.goto(url, wait_until="load", timeout=timeout_ms)
                remaining_ms = max(1000.0, (deadline - time.monotonic()) * 1000)
                page.wait_for_function(_READY_JS, timeout=remaining_ms)
            except Exception as exc:  # timeout or navigation failure: still report what we saw
                result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            try:
                summary = page.evaluate(_SUMMARY_JS)
                if summary.get("error") is not None or result["error"] is None:
                    result["error"] = summary.get("error") or result["error"]
                for key in ("ready", "objectCount", "meshCount", "labels", "labelTexts"):
                    result[key] = summary[key]
            except Exception as exc:
                result["error"] = result["error"] or f"evaluate failed: {exc}"
            if screenshot is not None:
                page.screenshot(path=os.fspath(screenshot))
            context.close()
        finally:
            browser.close()
    return result


def validate_glb(path: str | os.PathLike) -> dict:
    """Khronos glTF-Validator report for ``path`` (dict; see ``report["issues"]["numErrors"]``)."""
    return _run_validator([os.fspath(VIEWER_DIR / "validate.mjs")], path)


def _run_validator(script_args: list[str], path: str | os.PathLike) -> dict:
    """Run the npm glTF validator through node with ``script_args`` on ``path``; its JSON report."""
    if not (VIEWER_DIR / "node_modules" / "gltf-validator").is_dir():
        raise RuntimeError(f"{VIEWER_DIR / 'node_modules'} is missing gltf-validator: run `npm ci` in {VIEWER_DIR}")
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed (needed for the glTF validator)")
    proc = subprocess.run([node, *script_args, os.fspath(Path(path).resolve())], cwd=VIEWER_DIR,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"glTF validation failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return json.loads(proc.stdout)


# Validates a .gltf whose buffers are files beside it (only there: a uri that leaves the folder is an error).
_VALIDATE_GLTF_JS = r"""
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import validator from "gltf-validator";
const file = resolve(process.argv[1]);
const folder = dirname(file);
const report = await validator.validateBytes(new Uint8Array(await readFile(file)), {
  uri: basename(file),
  maxIssues: 0,
  externalResourceFunction: async (uri) => {
    const path = resolve(folder, decodeURIComponent(uri));
    if (dirname(path) !== folder) throw new Error(`external resource outside ${folder}: ${uri}`);
    return new Uint8Array(await readFile(path));
  },
});
process.stdout.write(JSON.stringify(report));
"""


def validate_gltf(path: str | os.PathLike) -> dict:
    """Khronos glTF-Validator report for a ``.gltf`` file with its external buffers (e.g. ``scene.bin``) beside it.

    ``report["info"]["resources"]`` lists the buffers the validator loaded."""
    return _run_validator(["--input-type=module", "-e", _VALIDATE_GLTF_JS], path)


class PageLog:
    """What a page did: console errors/warnings and page errors, non-local requests, dialogs."""

    def __init__(self) -> None:
        self.console: list[dict] = []
        self.requests: list[str] = []
        self.dialogs: list[dict] = []

    def attach(self, page) -> None:
        def on_console(msg) -> None:
            if msg.type in ("error", "warning", "assert"):
                self.console.append({"type": msg.type, "text": msg.text})

        def on_dialog(dialog) -> None:
            self.dialogs.append({"type": dialog.type, "message": dialog.message})
            try:
                dialog.dismiss()
            except Exception:  # the page may already be closing
                pass

        page.on("console", on_console)
        page.on("pageerror", lambda err: self.console.append({"type": "pageerror", "text": str(err)}))
        page.on("request", lambda req: None if req.url.startswith(_LOCAL_SCHEMES) else self.requests.append(req.url))
        page.on("dialog", on_dialog)

    @property
    def clean(self) -> bool:
        return not (self.console or self.requests or self.dialogs)


@contextlib.contextmanager
def chromium():
    """A headless system Chromium (Playwright ``Browser``), closed on exit."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise RuntimeError("Chromium not found at /usr/bin/chromium (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def viewer_page(browser, path_or_url, viewport: tuple[int, int] = (1280, 800), timeout_s: float = 30,
                **context_options):
    """Open the page in a fresh context and wait for ``window.sceneReady``; yields ``(page, PageLog)``.

    Raises AssertionError with the viewer's error when the scene does not become ready."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, accept_downloads=True,
                                  **context_options)
    try:
        page = context.new_page()
        log = PageLog()
        log.attach(page)
        page.goto(_to_url(path_or_url), wait_until="load", timeout=timeout_s * 1000)
        page.wait_for_function(_READY_JS, timeout=timeout_s * 1000)
        error = page.evaluate("() => window.room3dError ?? null")
        assert error is None, f"viewer failed: {error}; console: {log.console}"
        yield page, log
    finally:
        context.close()
