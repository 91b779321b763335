"""``room3d serve``: the real app (uvicorn, started by the CLI in a subprocess on 127.0.0.1) driven over HTTP with
httpx and through its upload form with Playwright and Debian's headless Chromium."""

import base64
import contextlib
import http.client
import importlib.util
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT, SAMPLES, require

SAMPLE = SAMPLES / "bedroom_01"
MAX_UPLOAD_MB = 2
BUILD_STAGES = ["photo", "grounding", "camera", "solve", "export_glb", "export_overlay", "export_floorplan",
                "export_page"]
XSS_LABELS = ["<img src=x onerror=alert(1)>", "</script><script>alert(2)</script>"]
#: The API keys in the server's environment: only the endpoint named with --vlm-endpoint may see them.
OWNER_KEY, OWNER_FALLBACK_KEY = "sk-owner-secret-1234", "sk-owner-fallback-5678"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def trusted_model():
    """A chat-completions server on 127.0.0.1 that the server below names with ``--vlm-endpoint``."""
    from tests.chat_server import ChatServer, reply

    with ChatServer([reply((SAMPLE / "grounding.qwen3.json").read_text())]) as model:
        yield model


@pytest.fixture(scope="module")
def server(tmp_path_factory, trusted_model):
    """``(base_url, data_dir)`` of a server with one build at a time (one more waiting) and a 2 MB upload limit,
    API keys in its environment and ``trusted_model`` as the one endpoint allowed to get them; its process id is in
    ``server.pid`` beside the data folder."""
    import importlib.util

    require(all(importlib.util.find_spec(m) for m in ("fastapi", "uvicorn", "multipart", "httpx")),
            "the web extra (pip install 'room3d[web]')")
    data = tmp_path_factory.mktemp("serve") / "data"
    port = _free_port()
    log = (data.parent / "server.log").open("w")
    env = {**os.environ, "ROOM3D_API_KEY": OWNER_KEY, "OPENAI_API_KEY": OWNER_FALLBACK_KEY}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", str(port), "--data", str(data),
                             "--max-jobs", "1", "--max-queue", "1", "--max-upload-mb", str(MAX_UPLOAD_MB),
                             "--vlm-endpoint", trusted_model.url], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env=env)
    (data.parent / "server.pid").write_text(str(proc.pid))
    base = f"http://127.0.0.1:{port}"
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/", timeout=1).raise_for_status()
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the server did not start: " + (data.parent / "server.log").read_text())
            time.sleep(0.2)
    yield base, data
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    folder = Path(os.environ["ROOM3D_ARTIFACTS"]) if os.environ.get("ROOM3D_ARTIFACTS") else \
        tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload(base: str, photo: bytes | Path = SAMPLE / "photo.png", grounding: bytes | Path | None = None,
            grounding_name: str = "grounding.qwen3.json", headers: dict | None = None, **fields):
    import httpx

    photo_bytes = photo.read_bytes() if isinstance(photo, Path) else photo
    files = {"photo": ("room.png", photo_bytes, "image/png")}
    if grounding is not None:
        files["grounding"] = (grounding_name, grounding.read_bytes() if isinstance(grounding, Path) else grounding,
                              "application/json")
    return httpx.post(base + "/jobs", files=files, data=fields, headers=headers, timeout=30)


def _job_id(response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"].rsplit("/", 1)[1]


def _wait(base: str, job_id: str, timeout_s: float = 120) -> dict:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        status = httpx.get(f"{base}/jobs/{job_id}/status.json", timeout=5).json()
        if status["state"] in ("done", "failed"):
            return status
        time.sleep(0.1)
    pytest.fail(f"job {job_id} did not finish in {timeout_s} s")


@pytest.fixture(scope="module")
def browser(chromium_ready):
    from playwright.sync_api import sync_playwright

    from tests.viewer_tools import CHROMIUM_ARGS, chromium_path

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


def test_upload_by_drag_and_drop_shows_the_scene(server, browser, artifacts):
    base, data = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base + "/")
    photo_b64 = base64.b64encode((SAMPLE / "photo.png").read_bytes()).decode()
    transfer = page.evaluate_handle("""(b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "bedroom.png", {type: "image/png"}));
        return transfer;
    }""", photo_b64)
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    assert page.text_content("#drop-name") == "bedroom.png"
    page.set_input_files("#grounding", str(SAMPLE / "grounding.qwen3.json"))
    page.screenshot(path=str(artifacts / "serve_form.png"))
    page.click("#submit")
    page.wait_for_url(f"{base}/jobs/*")
    job_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#scene-frame", timeout=120_000)  # through the progress page's reloads
    page.wait_for_function("() => window.sceneReady === true || window.room3dError != null", timeout=60_000)
    summary = page.evaluate("() => ({error: window.room3dError ?? null, objects: window.room3d.objectCount})")
    page.screenshot(path=str(artifacts / "serve_result.png"))
    truth = json.loads((SAMPLE / "truth.json").read_text())
    assert summary == {"error": None, "objects": len(truth["objects"])}
    assert errors == []
    status = json.loads((data / "jobs" / job_id / "status.json").read_text())
    assert status["stages"] == BUILD_STAGES and status["object_count"] == len(truth["objects"])
    assert status["photo_name"] == "bedroom.png"
    # the gallery lists it first, with the overlay as its picture
    page.goto(base + "/")
    first = page.locator("#gallery li").first
    assert first.get_attribute("data-job") == job_id
    assert first.locator("img").get_attribute("src") == f"/jobs/{job_id}/files/overlay.jpg"
    page.wait_for_function("() => { const img = document.querySelector('#gallery img');"
                           " return img.complete && img.naturalWidth > 0; }", timeout=10_000)
    page.screenshot(path=str(artifacts / "serve_gallery.png"))
    page.close()


def test_form_works_without_javascript(server, browser):
    base, _ = server
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(base + "/")
    page.set_input_files("#photo", str(SAMPLE / "photo.png"))
    page.set_input_files("#grounding", str(SAMPLE / "grounding.qwen3.json"))
    page.click("#submit")
    page.wait_for_selector("#scene-frame", timeout=120_000)  # the progress page reloads itself (meta refresh)
    assert page.get_attribute("#result", "data-objects") == "8"
    context.close()


def test_oversize_upload_is_refused_with_413(server):
    import httpx

    base, data = server
    before = set((data / "jobs").iterdir())
    big = os.urandom(MAX_UPLOAD_MB * 1_000_000 + 200_000)
    response = _upload(base, photo=big)
    assert response.status_code == 413 and "upload too large" in response.text

    def chunks():  # no Content-Length: the limit is counted on the stream
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="photo"; filename="a.png"\r\n\r\n'
        for start in range(0, len(big), 65536):
            yield big[start:start + 65536]
        yield b"\r\n" + boundary + b"--\r\n"

    response = httpx.post(base + "/jobs", content=chunks(), timeout=30,
                          headers={"Content-Type": "multipart/form-data; boundary=b0undary"})
    assert response.status_code == 413
    assert set((data / "jobs").iterdir()) == before  # nothing stored
    assert httpx.get(base + "/", timeout=5).status_code == 200  # and the server is fine


def test_text_renamed_png_is_refused_with_a_clear_message(server):
    base, data = server
    before = set((data / "jobs").iterdir())
    response = _upload(base, photo=b"just some text, not a photo\n" * 10)
    assert response.status_code == 400
    assert "not an image" in response.text and "Traceback" not in response.text
    response = _upload(base, grounding=b"\xff\xfe\x00 binary \x00\x81")
    assert response.status_code == 400 and "not UTF-8 text" in response.text
    for size in ((10_000, 9_000), (30_000, 30_000)):  # decompression bombs: refused before decoding
        response = _upload(base, photo=_png_header(*size))
        assert response.status_code == 400 and "megapixels" in response.text, size
    assert set((data / "jobs").iterdir()) == before


def _png_header(width: int, height: int) -> bytes:
    """The first bytes of a PNG that claims ``width x height`` pixels (no image data follows)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"")


def test_traversal_attempts_get_404(server):
    base, data = server
    job_id = _job_id(_upload(base, grounding=SAMPLE / "grounding.qwen3.json"))
    assert _wait(base, job_id)["state"] == "done"
    (data / "jobs" / job_id / "out" / "scene.bin").unlink()
    (data / "jobs" / job_id / "out" / "scene.bin").symlink_to("/etc/passwd")  # a planted link is not followed out
    (data / "secret.txt").write_text("secret")
    host, port = base.removeprefix("http://").split(":")
    paths = [
        "/jobs/../../../../etc/passwd",
        "/jobs/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/jobs/%2e%2e/%2e%2e/secret.txt",
        f"/jobs/{job_id}/files/..%2Fstatus.json",
        f"/jobs/{job_id}/files/%2e%2e%2f%2e%2e%2f..%2Fsecret.txt",
        f"/jobs/{job_id}/files/../../../secret.txt",
        f"/jobs/{job_id}/files/scene.bin",
        f"/jobs/{job_id}/files/scene.json%00.png",
        f"/jobs/{job_id}/files/input%2Fphoto.png",
        f"/jobs/{job_id}%2F..%2F..%2Fsecret.txt/files/index.html",
        f"/jobs/{job_id}/../../secret.txt",
        "/static/..%2F..%2Fpipeline%2Fserve.py",
        "/static/../../pipeline/serve.py",
        "/jobs/..%5C..%5Csecret.txt/files/index.html",
    ]
    for path in paths:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        connection.request("GET", path)  # sent as is: http.client does not normalise the path
        response = connection.getresponse()
        body = response.read()
        connection.close()
        assert response.status == 404, path
        assert b"root:" not in body and b"secret" not in body, path
    import httpx

    assert httpx.get(f"{base}/jobs/{job_id}/files/index.html", timeout=10).status_code == 200
    plan = httpx.get(f"{base}/jobs/{job_id}/files/floorplan.svg", timeout=10)  # served, as a drawing that runs nothing
    assert plan.status_code == 200 and plan.headers["content-type"].startswith("image/svg+xml")
    assert plan.headers["content-security-policy"].startswith("default-src 'none'") and b"<svg" in plan.content


def test_result_page_may_run_no_eval_nor_script_urls(server):
    """The built page is served with a policy allowing its own inline scripts only (no eval, no data:/blob:
    scripts); the Playwright tests above check that the scene still renders under it."""
    import httpx

    base, _ = server
    job_id = _job_id(_upload(base, grounding=SAMPLE / "grounding.qwen3.json"))
    assert _wait(base, job_id)["state"] == "done"
    policy = httpx.get(f"{base}/jobs/{job_id}/files/index.html", timeout=10).headers["content-security-policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'unsafe-inline'" and directives["default-src"] == "'none'"
    assert "unsafe-eval" not in policy


def test_a_second_upload_waits_in_line_and_a_third_is_refused(server):
    from tests.chat_server import ChatServer, reply, slow

    base, data = server
    answer = (SAMPLE / "grounding.qwen3.json").read_text()
    with ChatServer([slow(4.0, reply(answer))]) as model:
        first = _job_id(_upload(base, vlm=model.url, vlm_model="served-model"))
        second = _job_id(_upload(base, grounding=SAMPLE / "grounding.qwen3.json"))  # waits for the one worker
        refused = _upload(base, grounding=SAMPLE / "grounding.qwen3.json")
        assert refused.status_code == 503 and "busy" in refused.text and "1 waiting" in refused.text
        import httpx

        progress = httpx.get(f"{base}/jobs/{first}", timeout=10).text
        assert "asking the model" in progress and 'http-equiv="refresh"' in progress
        waiting = httpx.get(f"{base}/jobs/{second}", timeout=10).text
        assert "number 1 in line" in waiting and 'http-equiv="refresh"' in waiting
        assert httpx.get(f"{base}/jobs/{second}/status.json", timeout=10).json()["position"] == 1
        status = _wait(base, first)
    assert status["state"] == "done", status
    assert status["stages"] == ["photo", "vlm"] + BUILD_STAGES[1:] and status["object_count"] == 8
    assert _wait(base, second)["state"] == "done"
    # each build ran in a worker process, not in the server's
    server_pid = int((data.parent / "server.pid").read_text())
    assert status["worker_pid"] != server_pid
    again = _job_id(_upload(base, grounding=SAMPLE / "grounding.qwen3.json"))  # the slots are free again
    assert _wait(base, again)["state"] == "done"


def test_failed_build_shows_its_one_line_error(server):
    import httpx

    base, _ = server
    job_id = _job_id(_upload(base, grounding=b'{"bbox_2d": [1, 2', grounding_name="answer.json",
                             vlm="", vlm_model=""))
    status = _wait(base, job_id)
    assert status["state"] == "failed" and status["error"] and "\n" not in status["error"]
    page = httpx.get(f"{base}/jobs/{job_id}", timeout=10)
    assert page.status_code == 200 and "Build failed" in page.text and "Traceback" not in page.text
    bad_endpoint = _upload(base, vlm="file:///etc/passwd", vlm_model="m")
    assert bad_endpoint.status_code == 400 and "http:// or https://" in bad_endpoint.text


def test_an_upload_with_edits_solves_again_around_them(server, tmp_path):
    import httpx

    base, _ = server
    first = _wait(base, _job_id(_upload(base, grounding=SAMPLE / "grounding.qwen3.json")))
    assert first["state"] == "done"
    first_id = first["id"]
    scene = httpx.get(f"{base}/jobs/{first_id}/files/scene.json", timeout=10).json()
    bed = next(o for o in scene["objects"] if o["label"] == "bed")
    moved = [bed["center"][0] + 0.3, bed["center"][1], bed["center"][2]]
    edits = {"camera": scene["camera"], "objects": [
        {"detection_index": bed["detection_index"], "center": moved, "size": bed["size"], "yaw": bed["yaw"]}]}
    files = {"photo": ("room.png", (SAMPLE / "photo.png").read_bytes(), "image/png"),
             "grounding": ("grounding.qwen3.json", (SAMPLE / "grounding.qwen3.json").read_bytes(), "application/json"),
             "edits": ("edits.json", json.dumps(edits).encode(), "application/json")}
    again = _wait(base, _job_id(httpx.post(base + "/jobs", files=files, timeout=30)))
    assert again["state"] == "done", again
    rebuilt = httpx.get(f"{base}/jobs/{again['id']}/files/scene.json", timeout=10).json()
    np.testing.assert_allclose(next(o for o in rebuilt["objects"] if o["label"] == "bed")["center"], moved, atol=1e-9)
    assert rebuilt["inputs"]["edits"]["fixed"] == 1
    files["edits"] = ("edits.json", b'{"objects": [{"detection_index": "x", "remove": true}]}', "application/json")
    refused = httpx.post(base + "/jobs", files=files, timeout=30)
    assert refused.status_code == 400 and "detection_index" in refused.text and "Traceback" not in refused.text


def test_gallery_escapes_model_labels(server, browser):
    import httpx

    base, _ = server
    answer = json.dumps([{"bbox_2d": [181, 292, 592, 821], "label": XSS_LABELS[0]},
                         {"bbox_2d": [671, 6, 998, 693], "label": XSS_LABELS[1]}])
    job_id = _job_id(_upload(base, grounding=answer.encode(), grounding_name="xss.qwen3.json"))
    status = _wait(base, job_id)
    assert status["state"] == "done" and status["labels"] == XSS_LABELS
    for url in (base + "/", f"{base}/jobs/{job_id}"):
        html = httpx.get(url, timeout=10).text
        assert "<img src=x" not in html and "<script>alert" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(base + "/")
    labels = page.locator(f'#gallery li[data-job="{job_id}"] .labels').text_content()
    assert labels == ", ".join(XSS_LABELS)
    page.goto(f"{base}/jobs/{job_id}")
    page.wait_for_function("() => window.sceneReady === true || window.room3dError != null", timeout=60_000)
    page.close()
    assert dialogs == []


def test_other_sites_cannot_upload_or_rebind(server):
    import httpx

    base, data = server
    before = set((data / "jobs").iterdir())
    response = _upload(base, grounding=SAMPLE / "grounding.qwen3.json", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403 and "another site" in response.text
    assert set((data / "jobs").iterdir()) == before
    # DNS rebinding: a page of evil.example whose name now points to 127.0.0.1 sends Host: evil.example
    assert httpx.get(base + "/", headers={"Host": "evil.example"}, timeout=5).status_code == 400
    assert httpx.get(base + "/", headers={"Host": "localhost"}, timeout=5).status_code == 200


def test_unknown_routes_and_ids_are_404_pages(server):
    import httpx

    base, _ = server
    for path in ("/jobs/20990101T000000-deadbeef", "/jobs/not-an-id/status.json", "/nothing", "/docs",
                 "/openapi.json"):
        response = httpx.get(base + path, timeout=5)
        assert response.status_code == 404, path
    assert "text/html" in httpx.get(base + "/nothing", timeout=5).headers["content-type"]


def test_loopback_check():
    from pipeline.serve import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10") and not is_loopback("example.org")


def _serve_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "serve", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def _one_error_line(proc: subprocess.CompletedProcess, match: str) -> None:
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("room3d: warning:")]
    assert proc.returncode == 2 and len(errors) == 1, proc.stderr
    assert errors[0].startswith("room3d: error:") and match in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr and "serving" not in proc.stderr.replace("warning: serving on", "")


@contextlib.contextmanager
def _taken_port(host: str):
    """A port on ``host`` that something else listens on."""
    with socket.socket() as taken:
        taken.bind((host, 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_non_loopback_host_warns(tmp_path):
    """The CLI warns before it starts listening on a non-loopback address; a port in use is one error line."""
    require(importlib.util.find_spec("uvicorn") is not None, "the web extra (pip install 'room3d[web]')")
    with _taken_port("0.0.0.0") as port:
        proc = _serve_cli("--host", "0.0.0.0", "--port", str(port), "--data", str(tmp_path / "data"))
    assert "warning: serving on 0.0.0.0, not a loopback address" in proc.stderr
    _one_error_line(proc, f"cannot listen on 0.0.0.0:{port} (Address already in use)")


def test_port_in_use_bad_host_and_bad_data_folder_are_one_line(tmp_path):
    require(importlib.util.find_spec("uvicorn") is not None, "the web extra (pip install 'room3d[web]')")
    with _taken_port("127.0.0.1") as port:
        _one_error_line(_serve_cli("--port", str(port), "--data", str(tmp_path / "data")), "choose another --port")
    _one_error_line(_serve_cli("--host", "no-such-host.invalid", "--data", str(tmp_path / "data")),
                    "--host no-such-host.invalid: not an address of this machine")
    _one_error_line(_serve_cli("--data", "/proc/room3d-nope"), "cannot use --data /proc/room3d-nope")
    (tmp_path / "file").write_text("x")
    _one_error_line(_serve_cli("--data", str(tmp_path / "file" / "data")), "cannot use --data")


def test_port_0_prints_the_port_it_got(tmp_path):
    require(importlib.util.find_spec("uvicorn") is not None, "the web extra (pip install 'room3d[web]')")
    import httpx

    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "serve", "--port", "0", "--data",
                             str(tmp_path / "data")], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        match = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        assert match and int(match.group(1)) != 0, line
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{match.group(1)}/", timeout=1).status_code == 200
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "the server did not answer"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        proc.stderr.close()


def test_api_key_goes_only_to_the_endpoint_the_owner_named(server, trusted_model):
    """An uploader types a model endpoint they run: the build asks it, but without the server's API key (nor its
    OPENAI_API_KEY fallback); the endpoint named with --vlm-endpoint gets the key. Credentials typed into the
    endpoint (user:password@) are never shown or recorded."""
    import httpx

    from tests.chat_server import ChatServer, reply

    base, data = server
    answer = (SAMPLE / "grounding.qwen3.json").read_text()
    with ChatServer([reply(answer)]) as typed:
        plain = _job_id(_upload(base, vlm=typed.url, vlm_model="Qwen/Qwen3-VL-8B-Instruct"))
        assert _wait(base, plain)["state"] == "done"
        with_login = typed.url.replace("http://", "http://someone:pw-typed-secret@")
        login = _job_id(_upload(base, vlm=with_login, vlm_model="Qwen/Qwen3-VL-8B-Instruct"))
        status = _wait(base, login)
        headers = [{k.lower(): v for k, v in request.headers.items()} for request in typed.requests]
    assert len(headers) == 2 and "authorization" not in headers[0]
    for sent in headers:
        assert OWNER_KEY not in str(sent) and OWNER_FALLBACK_KEY not in str(sent)
    assert headers[1]["authorization"].startswith("Basic ")  # the uploader's own login, as typed
    assert status["state"] == "done" and status["vlm"] == typed.url
    for name in ("status.json", "out/scene.json", "out/index.html", "out/vlm_request.json"):
        assert "pw-typed-secret" not in (data / "jobs" / login / name).read_text(encoding="utf-8"), name
    for url in (base + "/", f"{base}/jobs/{login}"):
        assert "pw-typed-secret" not in httpx.get(url, timeout=10).text

    assert f"API key is sent only to {trusted_model.url};" in httpx.get(base + "/", timeout=10).text
    before = len(trusted_model.requests)
    trusted = _job_id(_upload(base, vlm=trusted_model.url + "/", vlm_model="Qwen/Qwen3-VL-8B-Instruct"))
    assert _wait(base, trusted)["state"] == "done"
    (request,) = trusted_model.requests[before:]
    assert {k.lower(): v for k, v in request.headers.items()}["authorization"] == f"Bearer {OWNER_KEY}"
