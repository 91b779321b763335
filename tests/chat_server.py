"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API, for the tests of pipeline/vlm.py.

It answers each ``POST .../chat/completions`` from a script: request i gets ``script[min(i, len(script) - 1)]``,
so the last step repeats. A step is built by :func:`reply`, :func:`status`, :func:`raw`, :func:`slow` or
:func:`drop`, or is a function of the :class:`Request` returning such a step (a "model" that looks at the image).
Every request is recorded (path, headers, parsed JSON body) in ``server.requests``.
"""

from __future__ import annotations

import base64
import io
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict
    body: object

    @property
    def image_size(self) -> tuple[int, int]:
        """``(width, height)`` of the data-URL image in the request."""
        from PIL import Image

        url = self.body["messages"][0]["content"][0]["image_url"]["url"]
        data = base64.b64decode(url.split(",", 1)[1])
        with Image.open(io.BytesIO(data)) as image:
            return image.size

    @property
    def prompt(self) -> str:
        return self.body["messages"][0]["content"][1]["text"]


def completion(text, model="served-model", finish_reason="stop", **message) -> dict:
    """A chat-completion body as vLLM returns it."""
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": 1_700_000_000, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, **message},
                     "logprobs": None, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 2500, "completion_tokens": 120, "total_tokens": 2620},
    }


def reply(text, **kwargs):
    return ("bytes", 200, json.dumps(completion(text, **kwargs)).encode(), "application/json", {})


def status(code: int, body=None, headers=None):
    payload = json.dumps(body if body is not None else {"error": {"message": f"error {code}", "code": code}})
    return ("bytes", code, payload.encode(), "application/json", headers or {})


def raw(code: int, data: bytes, content_type="text/plain"):
    return ("bytes", code, data, content_type, {})


def slow(seconds: float, then):
    return ("slow", seconds, then)


def drop():
    return ("drop",)


class ChatServer:
    """``with ChatServer(script) as server: server.url`` -> ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, script):
        self.script = list(script)
        self.requests: list[Request] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                data = self.rfile.read(length)
                try:
                    body = json.loads(data)
                except ValueError:
                    body = data
                request = Request(self.path, dict(self.headers), body)
                with owner._lock:
                    step = owner.script[min(len(owner.requests), len(owner.script) - 1)]
                    owner.requests.append(request)
                self._play(step, request)

            def _play(self, step, request):
                if callable(step):
                    step = step(request)
                if step[0] == "slow":
                    if owner.stop.wait(step[1]):
                        return
                    step = step[2]
                if step[0] == "drop":
                    self.close_connection = True
                    return
                _, code, payload, content_type, headers = step
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):  # a client that gave up: not our concern
                pass

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
