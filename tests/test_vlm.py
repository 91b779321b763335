"""pipeline/vlm.py against a real HTTP server on 127.0.0.1 (tests/chat_server.py) that speaks the chat-completions
API: the request it gets, recorded model answers read back into photo pixels, and every way a server can fail
(slow, 5xx, malformed, dropped, refused, not there), each within the time budget."""

import base64
import importlib.util
import io
import json
import socket
import time

import numpy as np
import pytest
from PIL import Image

from pipeline import frames, vlm
from pipeline.errors import UserError
from pipeline.grounding import MAX_ANSWER_BYTES, parse_grounding, read_grounding
from tests.chat_server import ChatServer, drop, raw, reply, slow, status
from tests.conftest import SAMPLES, require

from tests.tolerances import BUDGET_SLACK_S, ROUND_TRIP_PX

QWEN25 = "Qwen/Qwen2.5-VL-7B-Instruct"
QWEN3 = "Qwen/Qwen3-VL-8B-Instruct"
BEDROOM = SAMPLES / "bedroom_01"

# Recorded in the style of the Qwen cookbooks' outputs: a fence, prose after it.
QWEN25_ANSWER = ("```json\n" + (BEDROOM / "grounding.qwen2_5.json").read_text().strip()
                 + "\n```\n\nThere are 8 pieces of furniture in the image.")
QWEN3_3D_ANSWER = """```json
[
\t{"bbox_3d":[-0.62,0.41,3.05,1.62,0.58,2.08,0.0,0.06,0.0],"label":"bed"},
\t{"bbox_3d":[1.35,-0.05,3.6,1.1,2.05,0.6,0.0,-0.48,0.0],"label":"wardrobe"},
\t{"bbox_3d":[0.55,0.65,2.4,0.45,0.5,0.4,0.02,0.97,-0.01],"label":"nightstand"}
]
```"""


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """httpx is there (CI fails without it); no API key and no proxy from the machine running the tests."""
    require(importlib.util.find_spec("httpx") is not None, "httpx (pip install 'room3d[server]')")
    for name in ("ROOM3D_API_KEY", "OPENAI_API_KEY", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                 "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def big_photo(width=2400, height=1800) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], axis=-1).astype(np.uint8)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def boxes(grounding):
    return np.array([d.box_xyxy_px for d in grounding.detections])


# ------------------------------------------------------------------------------------------------ normal answers


def test_qwen25_answer_request_and_detections(tmp_path):
    with ChatServer([reply(QWEN25_ANSWER)]) as server:
        answer = vlm.ask_server(BEDROOM / "photo.png", server.url, QWEN25)
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    body = request.body
    assert body["model"] == QWEN25 and body["temperature"] == 0 and body["max_tokens"] == vlm.DEFAULT_MAX_TOKENS
    image_part, text_part = body["messages"][0]["content"]
    assert image_part["type"] == "image_url" and image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert text_part == {"type": "text", "text": answer.prompt}
    assert "Authorization" not in request.headers
    # 640x480 is sent as Qwen2.5-VL's smart_resize of it, 644x476, and the prompt says so.
    assert request.image_size == (644, 476) == frames.qwen25_resized_size(640, 480)
    assert (answer.sent_width_px, answer.sent_height_px, answer.photo_width_px, answer.photo_height_px) == \
        (644, 476, 640, 480)
    assert "644x476" in answer.prompt and answer.grounding_format == "qwen2.5" and answer.attempts == 1
    assert answer.text == QWEN25_ANSWER and answer.finish_reason == "stop" and answer.notes == ()

    grounding = vlm.grounding_from_answer(answer)
    expected = read_grounding(BEDROOM / "grounding.qwen2_5.json", 640, 480, format="qwen2.5")
    assert [d.label for d in grounding.detections] == [d.label for d in expected.detections]
    assert len(grounding.detections) == 8 and grounding.format == "qwen2.5"
    np.testing.assert_allclose(boxes(grounding), boxes(expected), atol=1e-6)
    # The text parses with the grounding parser as it is, too.
    assert len(parse_grounding(answer.text, 644, 476, format="qwen2.5").detections) == 8


def test_qwen3_answer_is_relative():
    text = (BEDROOM / "grounding.qwen3.json").read_text()
    with ChatServer([reply(text)]) as server:
        answer = vlm.ask_server(BEDROOM / "photo.png", server.url, "qwen3-vl:8b")
    assert server.requests[0].image_size == (640, 480)
    assert answer.grounding_format == "qwen3" and "0 to 1000" in answer.prompt and "640x480" not in answer.prompt
    grounding = vlm.grounding_from_answer(answer)
    expected = read_grounding(BEDROOM / "grounding.qwen3.json", 640, 480, format="qwen3")
    np.testing.assert_allclose(boxes(grounding), boxes(expected), atol=1e-6)


def test_downscaled_photo_maps_back_to_photo_pixels(tmp_path):
    """A 2400x1800 photo goes out as 1596x1204; a 'model' answering in the pixels it saw lands on the photo."""
    truth = np.array([[600.0, 900.0, 1800.0, 1500.0], [100.0, 200.0, 500.0, 1700.0]])

    def model(request):
        w, h = request.image_size
        seen = np.round(truth * [w / 2400, h / 1800, w / 2400, h / 1800]).astype(int).tolist()
        return reply("Here you go:\n```json\n" + json.dumps(
            [{"bbox_2d": seen[0], "label": "bed"}, {"bbox_2d": seen[1], "label": "wardrobe"}]) + "\n```")

    with ChatServer([model]) as server:
        answer = vlm.ask_server(big_photo(), server.url, QWEN25)
    assert (answer.sent_width_px, answer.sent_height_px) == server.requests[0].image_size == (1596, 1204)
    assert "1596x1204" in answer.prompt
    grounding = vlm.grounding_from_answer(answer)
    np.testing.assert_allclose(boxes(grounding), truth, atol=ROUND_TRIP_PX)
    # The trap the helper avoids: reading the text against the photo's own size puts the bed 1.5x off.
    naive = parse_grounding(answer.text, 2400, 1800, format="qwen2.5")
    assert abs(naive.detections[0].box_xyxy_px[2] - truth[0, 2]) > 300

    written = vlm.save_answer(answer, tmp_path)
    assert [p.name for p in written] == [vlm.ANSWER_FILE, vlm.REQUEST_FILE, vlm.PIXELS_FILE]
    assert (tmp_path / vlm.ANSWER_FILE).read_text() == answer.text
    replay = read_grounding(tmp_path / vlm.PIXELS_FILE, 2400, 1800)
    assert replay.format == "pixels"
    np.testing.assert_allclose(boxes(replay), truth, atol=ROUND_TRIP_PX)


def test_pixels_file_keeps_the_answer_s_other_keys(tmp_path):
    text = json.dumps({"room_type": "bedroom", "objects": [{"bbox_2d": [100, 200, 500, 600], "label": "bed"}]})
    with ChatServer([reply(text)]) as server:
        answer = vlm.ask_server(big_photo(2000, 1000), server.url, QWEN3)
    assert (answer.sent_width_px, answer.sent_height_px) == (1600, 800)
    vlm.save_answer(answer, tmp_path)
    saved = json.loads((tmp_path / vlm.PIXELS_FILE).read_text())
    assert saved["format"] == "pixels" and saved["room_type"] == "bedroom"
    assert saved["objects"] == [{"bbox_2d": [200.0, 200.0, 1000.0, 600.0], "label": "bed"}]
    replay = read_grounding(tmp_path / vlm.PIXELS_FILE, 2000, 1000)
    np.testing.assert_allclose(boxes(replay), boxes(vlm.grounding_from_answer(answer)))


def test_bbox_3d_answer():
    photo = big_photo(1280, 960)
    with ChatServer([reply(QWEN3_3D_ANSWER)]) as server:
        answer = vlm.ask_server(photo, server.url, QWEN3, task="grounding_3d")
    assert "bbox_3d" in answer.prompt and answer.task == "grounding_3d"
    grounding = vlm.grounding_from_answer(answer)
    assert [d.label for d in grounding.detections] == ["bed", "wardrobe", "nightstand"]
    assert all(d.box_3d_cam is not None and d.box_xyxy_source == "bbox_3d_virtual_camera"
               for d in grounding.detections)
    # The virtual camera scales with the image: the same rectangles as parsing against the photo itself.
    direct = parse_grounding(answer.text, 1280, 960, format="qwen3")
    np.testing.assert_allclose(boxes(grounding), boxes(direct), atol=1e-6)


def test_layout_prompt_and_answer(tmp_path):
    text = ('{"room_type": "bedroom", "layout": {"bed": {"position": "against the back wall", "size": "queen"}}, '
            '"spatial_inference": "The camera is near the front-right corner, facing the back wall."}')
    with ChatServer([reply(text)]) as server:
        answer = vlm.ask_server(big_photo(800, 600), server.url, QWEN3, task="layout")
    assert all(key in answer.prompt for key in ("room_type", "spatial_inference", "windows", "doors"))
    assert json.loads(answer.text)["room_type"] == "bedroom"
    assert [p.name for p in vlm.save_answer(answer, tmp_path)] == [vlm.ANSWER_FILE, vlm.REQUEST_FILE]


def test_api_key_sent_but_never_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback-secret")
    with ChatServer([reply("[]")]) as server:
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3)
        monkeypatch.setenv("ROOM3D_API_KEY", "sk-room3d-secret")
        answer = vlm.ask_server(big_photo(64, 48), server.url + "/chat/completions/", QWEN3)
    assert server.requests[0].headers["Authorization"] == "Bearer sk-fallback-secret"
    assert server.requests[1].headers["Authorization"] == "Bearer sk-room3d-secret"
    assert answer.endpoint == server.url
    vlm.save_answer(answer, tmp_path)
    record = (tmp_path / vlm.REQUEST_FILE).read_text()
    assert "secret" not in record and "base64" not in record
    saved = json.loads(record)
    assert saved["model"] == QWEN3 and saved["prompt"] == answer.prompt and saved["grounding_format"] == "qwen3"
    assert saved["sent_width_px"] == 64 and saved["attempts"] == 1 and "elapsed_s" in saved


def test_no_key_at_all_when_api_key_env_is_none(monkeypatch):
    """``api_key_env=None`` (the web app, for an endpoint an uploader typed): neither key in the environment is
    sent, through ``ask_server`` or ``ask``; a server that wants one gets a message saying how to allow it."""
    monkeypatch.setenv("ROOM3D_API_KEY", "sk-room3d-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fallback-secret")
    with ChatServer([reply("[]")]) as server:
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3, api_key_env=None)
        vlm.ask(big_photo(64, 48), server.url, QWEN3, api_key_env=None)
        vlm.ask(big_photo(64, 48), server.url, QWEN3)
    assert ["Authorization" in request.headers for request in server.requests] == [False, False, True]
    assert "secret" not in json.dumps([dict(request.headers) for request in server.requests[:2]])
    with ChatServer([status(401)]) as server, pytest.raises(UserError, match="--vlm-endpoint"):
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3, api_key_env=None)


def test_credentials_in_the_endpoint_are_sent_but_never_recorded(tmp_path):
    """``http://user:pw@host/v1?api_key=...``: the request goes to ``/v1/chat/completions?api_key=...`` with the
    login as basic auth; the answer, its record and the errors name ``http://host/v1`` only."""
    with ChatServer([reply("[]")]) as server:
        endpoint = server.url.replace("http://", "http://me:pw-secret@") + "/?api_key=sk-query-secret"
        answer = vlm.ask(big_photo(64, 48), endpoint, QWEN3)
    (request,) = server.requests
    assert request.path == "/v1/chat/completions?api_key=sk-query-secret"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"me:pw-secret").decode()
    assert answer.endpoint == server.url
    vlm.save_answer(answer, tmp_path)
    record = (tmp_path / vlm.REQUEST_FILE).read_text()
    assert "secret" not in record and json.loads(record)["url"] == server.url + "/chat/completions"
    assert vlm.parse_source(endpoint) == ("server", server.url)
    assert vlm.redact_source(endpoint) == server.url and vlm.redact_source("hf:Qwen/X") == "hf:Qwen/X"
    with pytest.raises(UserError) as caught:
        vlm.ask_server(big_photo(64, 48), f"http://me:pw-secret@127.0.0.1:{free_port()}/v1?k=sk-x", QWEN3,
                       retries=1)
    assert "secret" not in str(caught.value) and "sk-x" not in str(caught.value)


def test_oversized_response_body_is_refused():
    """A body over MAX_RESPONSE_BYTES (a misconfigured endpoint streaming a file, say) ends in one line."""
    with ChatServer([raw(200, b" " * (vlm.MAX_RESPONSE_BYTES + 1), "application/json")]) as server:
        with pytest.raises(UserError, match=r"body of over 16 MB") as caught:
            vlm.ask_server(big_photo(64, 48), server.url, QWEN3)
    assert len(server.requests) == 1 and "\n" not in str(caught.value)


def test_oversized_recorded_answer_is_refused(tmp_path):
    path = tmp_path / "answer.txt"
    with path.open("wb") as file:
        file.truncate(MAX_ANSWER_BYTES + 1)
    with pytest.raises(UserError, match="over the 8 MB a model's answer can be"):
        vlm.ask(big_photo(64, 48), f"file:{path}")
    with pytest.raises(UserError, match="over the 8 MB"):
        read_grounding(path, 64, 48)


def test_exif_rotated_photo_is_sent_upright(tmp_path):
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    Image.fromarray(big_photo(300, 200)).save(path, exif=exif.tobytes())
    with ChatServer([reply("[]")]) as server:
        answer = vlm.ask_server(path, server.url, QWEN3)
    assert server.requests[0].image_size == (200, 300)
    assert (answer.photo_width_px, answer.photo_height_px) == (200, 300)


def test_think_block_and_cut_answer_are_noted():
    text = '<think>The bed is at [1, 2, 3, 4].</think>\n[{"bbox_2d": [10, 20, 300, 400], "label": "bed"}, {"bbox'
    with ChatServer([reply(text, finish_reason="length")]) as server:
        answer = vlm.ask_server(big_photo(640, 480), server.url, QWEN3)
    assert answer.text.startswith("[") and answer.finish_reason == "length"
    assert any("think" in note for note in answer.notes) and any("max_tokens" in note for note in answer.notes)
    assert [d.label for d in vlm.grounding_from_answer(answer).detections] == ["bed"]


def test_unknown_model_family_is_noted():
    with ChatServer([reply("[]")]) as server:
        answer = vlm.ask_server(big_photo(64, 48), server.url, "llava-v1.6")
    assert answer.grounding_format == "qwen3" and "not recognised" in answer.notes[0]


# ------------------------------------------------------------------------------------------------ failing servers


def test_slow_answer_gives_up_within_the_budget():
    with ChatServer([slow(10.0, reply("[]"))]) as server:
        start = time.monotonic()
        with pytest.raises(UserError, match=r"within the 1 s budget .*after 1 try") as caught:
            vlm.ask_server(big_photo(64, 48), server.url, QWEN3, timeout_s=1.0, retries=3)
        elapsed = time.monotonic() - start
    assert elapsed < 1.0 + BUDGET_SLACK_S
    assert "\n" not in str(caught.value)


def test_500_then_success_retries():
    with ChatServer([status(500), reply("[]")]) as server:
        answer = vlm.ask_server(big_photo(64, 48), server.url, QWEN3, backoff_s=0.05)
    assert answer.attempts == 2 and len(server.requests) == 2


def test_500_forever_gives_up_after_the_tries():
    body = {"object": "error", "message": "CUDA out of memory", "type": "InternalServerError", "code": 500}
    match = r"failed after 3 tries .*HTTP 500: CUDA out of memory.*server's log"
    with ChatServer([status(500, body)]) as server, pytest.raises(UserError, match=match):
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3, retries=3, backoff_s=0.05)
    assert len(server.requests) == 3


def test_429_waits_as_told_then_retries():
    with ChatServer([status(429, headers={"Retry-After": "0.3"}), reply("[]")]) as server:
        start = time.monotonic()
        answer = vlm.ask_server(big_photo(64, 48), server.url, QWEN3, backoff_s=0.01)
    assert answer.attempts == 2 and time.monotonic() - start >= 0.3


@pytest.mark.parametrize("step, why", [
    (raw(200, b"<html><body>Bad Gateway</body></html>", "text/html"), "not JSON"),
    (raw(200, b'{"choices": [{"message": {"content": "[]"', "application/json"), "not JSON"),
    (status(200, {"object": "list", "data": [{"id": "m"}]}), "no 'choices'"),
    (status(200, {"choices": [{"index": 0, "finish_reason": "stop"}]}), "no 'message'"),
])
def test_malformed_body_is_not_a_chat_completion(step, why):
    match = "answered, but not with a chat completion"
    with ChatServer([step]) as server, pytest.raises(UserError, match=match) as caught:
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3)
    assert why in str(caught.value) and len(server.requests) == 1


def test_empty_answer():
    with ChatServer([reply("  \n")]) as server, pytest.raises(UserError, match="empty answer"):
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3)


def test_dropped_connection():
    with ChatServer([drop(), reply("[]")]) as server:
        assert vlm.ask_server(big_photo(64, 48), server.url, QWEN3, backoff_s=0.05).attempts == 2
    match = r"closed the connection without answering \(after 2 tries"
    with ChatServer([drop()]) as server, pytest.raises(UserError, match=match):
        vlm.ask_server(big_photo(64, 48), server.url, QWEN3, retries=2, backoff_s=0.05)
    assert len(server.requests) == 2


def test_401_names_the_key_and_is_not_retried(monkeypatch):
    body = {"error": {"message": "Invalid API key", "type": "invalid_request_error", "code": 401}}
    with ChatServer([status(401, body)]) as server:
        with pytest.raises(UserError, match=r"wants an API key \(HTTP 401: Invalid API key\): set ROOM3D_API_KEY"):
            vlm.ask_server(big_photo(64, 48), server.url, QWEN3)
        monkeypatch.setenv("ROOM3D_API_KEY", "wrong")
        with pytest.raises(UserError, match=r"refused the API key from ROOM3D_API_KEY \(HTTP 401: Invalid API key\)"):
            vlm.ask_server(big_photo(64, 48), server.url, QWEN3)
    assert len(server.requests) == 2


def test_404_points_at_the_model_list():
    body = {"object": "error", "message": "The model `nope` does not exist.", "type": "NotFoundError", "code": 404}
    match = r"for model 'nope' \(HTTP 404: The model `nope` does not exist\.\): wrong endpoint path or model name"
    with ChatServer([status(404, body)]) as server, pytest.raises(UserError, match=match) as caught:
        vlm.ask_server(big_photo(64, 48), server.url, "nope")
    assert str(caught.value).endswith(f"list the served models at {server.url}/models)")
    assert len(server.requests) == 1 and "\n" not in str(caught.value)


def test_nothing_listening_fails_fast():
    url = f"http://127.0.0.1:{free_port()}/v1"
    start = time.monotonic()
    with pytest.raises(UserError) as caught:
        vlm.ask_server(big_photo(64, 48), url, QWEN25)  # the defaults: 30 s budget, 3 tries
    elapsed = time.monotonic() - start
    message = str(caught.value)
    assert message.startswith(f"no answer from {url} after 3 tries in ")
    assert message.endswith(f"is the server running? start it with `vllm serve {QWEN25}`")
    assert elapsed < 5.0  # two pauses of 0.5 and 1 s, far under the 30 s budget


def test_bad_endpoint_and_task():
    with pytest.raises(UserError, match="not an http"):
        vlm.ask_server(big_photo(64, 48), "127.0.0.1:8000/v1", QWEN3)
    with pytest.raises(UserError, match="unknown task"):
        vlm.ask_server(big_photo(64, 48), "http://127.0.0.1:1/v1", QWEN3, task="depth")


def test_missing_httpx_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(UserError, match=r"pip install 'room3d\[server\]'"):
        vlm.ask_server(big_photo(64, 48), "http://127.0.0.1:1/v1", QWEN3)


# ------------------------------------------------------------------------------------------------ pure functions


def test_model_family_from_names():
    for name in (QWEN25, "qwen2.5vl:7b", "Qwen2_5-VL-3B", "qwen25-vl-72b-awq"):
        assert vlm.model_family(name) == ("qwen2.5", None)
    for name in (QWEN3, "qwen3-vl:8b", "Qwen/Qwen3-VL-235B-A22B-Thinking"):
        assert vlm.model_family(name) == ("qwen3", None)
    fmt, note = vlm.model_family("gpt-4o")
    assert fmt == "qwen3" and "gpt-4o" in note


def test_qwen25_sent_size_is_a_fixed_point_of_smart_resize():
    for width in range(100, 6001, 173):
        for height in (120, 480, 1080, 1800, 3000, 4000):
            w, h = vlm.sent_size(width, height, "qwen2.5")
            assert frames.qwen25_resized_size(w, h) == (w, h)
            assert frames.qwen25_resized_size(w, h, max_pixels=vlm.QWEN25_SEND_MAX_PIXELS) == (w, h)
            assert w % 28 == 0 and h % 28 == 0 and max(w, h) <= max(1600, 56)
            if min(width, height) >= 400 and max(width, height) / min(width, height) < 4:
                assert abs((w / h) / (width / height) - 1) < 0.05
            assert vlm.sent_size(width, height, "qwen3") == tuple(
                max(1, round(s * min(1.0, 1600 / max(width, height)))) for s in (width, height))


def test_jpeg_is_quality_90_of_the_sent_size():
    data = vlm.encode_jpeg(big_photo(2400, 1800), 1596, 1204)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (1596, 1204)
    assert base64.b64encode(data)  # what goes into the data URL


# ---------------------------------------------------------------------------- sources, replay, unusable answers


def test_ask_reaches_a_server_and_its_answer_replays_from_file(tmp_path):
    """`vlm.ask` with an http(s) source is the server call; its saved answer, replayed with `file:`, lands where
    the original did, also for Qwen2.5-VL on a photo downscaled before sending (the record holds the size)."""
    truth = np.array([[600.0, 900.0, 1800.0, 1500.0]])

    def model(request):
        w, h = request.image_size
        seen = np.round(truth * [w / 2400, h / 1800, w / 2400, h / 1800]).astype(int).tolist()
        return reply("```json\n" + json.dumps([{"bbox_2d": seen[0], "label": "bed"}]) + "\n```\nOne bed.")

    photo = big_photo()
    with ChatServer([model]) as server:
        answer = vlm.ask(photo, server.url, QWEN25, max_tokens=300)
    assert server.requests[0].body["max_tokens"] == 300 and answer.backend == "server"
    vlm.save_answer(answer, tmp_path)
    record = json.loads((tmp_path / vlm.REQUEST_FILE).read_text())
    assert record["url"] == server.url + "/chat/completions" and "file:" in record["replay"]
    replayed = vlm.ask(photo, f"file:{tmp_path / vlm.ANSWER_FILE}")
    assert replayed.backend == "file" and replayed.model == QWEN25
    assert (replayed.sent_width_px, replayed.sent_height_px) == (1596, 1204)
    np.testing.assert_allclose(boxes(vlm.grounding_or_warning(replayed)), truth, atol=ROUND_TRIP_PX)


@pytest.mark.parametrize("text, why", [
    ("I see a bed and a wardrobe.", "not valid JSON"),
    ("", "an empty answer"),
    ("[]", "0 entries read"),
    ('[{"point_2d": [10, 20], "label": "bed"}]', "1 entries read"),
])
def test_answer_without_usable_boxes_is_a_warning(text, why):
    answer = vlm.VlmAnswer(text=text, model=QWEN3, endpoint="http://h:1/v1", task="grounding_2d", prompt="p",
                           grounding_format="qwen3", elapsed_s=1.0, attempts=1, sent_width_px=640,
                           sent_height_px=480, photo_width_px=640, photo_height_px=480)
    grounding = vlm.grounding_or_warning(answer)
    assert grounding.detections == ()
    assert any("held no usable boxes" in w and why in w and vlm.ANSWER_FILE in w for w in grounding.warnings)


def test_layout_answer_is_no_warning():
    text = '{"room_type": "bedroom", "layout": {"bed": {"position": "against the back wall"}}}'
    answer = vlm.VlmAnswer(text=text, model=QWEN3, endpoint="http://h:1/v1", task="layout", prompt="p",
                           grounding_format="qwen3", elapsed_s=1.0, attempts=1, sent_width_px=640,
                           sent_height_px=480, photo_width_px=640, photo_height_px=480)
    grounding = vlm.grounding_or_warning(answer)
    assert grounding.layout["room_type"] == "bedroom" and not grounding.warnings


def test_sources():
    assert vlm.parse_source(" https://api.example.com/v1/ ") == ("server", "https://api.example.com/v1")
    assert vlm.parse_source("hf:Qwen/Qwen3-VL-2B-Instruct") == ("hf", "Qwen/Qwen3-VL-2B-Instruct")
    assert vlm.parse_source("file:/tmp/a b.txt") == ("file", "/tmp/a b.txt")
    for bad in ("localhost:8000/v1", "Qwen/Qwen3-VL-2B-Instruct", "file:", "s3://bucket/x"):
        with pytest.raises(UserError):
            vlm.parse_source(bad)


def test_point_pair_boxes_are_converted_in_the_pixels_file(tmp_path):
    text = "[{'bbox_2d': [[100, 200], [500, 600]], 'label': 'bed'}]"
    answer = vlm.VlmAnswer(text=text, model=QWEN3, endpoint="http://h:1/v1", task="grounding_2d", prompt="p",
                           grounding_format="qwen3", elapsed_s=1.0, attempts=1, sent_width_px=1000,
                           sent_height_px=500, photo_width_px=2000, photo_height_px=1000)
    vlm.save_answer(answer, tmp_path)
    saved = json.loads((tmp_path / vlm.PIXELS_FILE).read_text())
    assert saved["objects"] == [{"bbox_2d": [200.0, 200.0, 1000.0, 600.0], "label": "bed"}]
    np.testing.assert_allclose(boxes(read_grounding(tmp_path / vlm.PIXELS_FILE, 2000, 1000)),
                               boxes(vlm.grounding_from_answer(answer)))
