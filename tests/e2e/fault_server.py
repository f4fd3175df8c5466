"""A misbehaving OpenAI-compatible endpoint on 127.0.0.1, for fault tests.

Each request to /v1/chat/completions takes the next behaviour from a list: "500", "429", "422" (a
request the server rejects), "401" (a wrong key), "404" (no such model), "malformed" (a 200 whose body
is not JSON), "hang" (answers after `hang_seconds`), or any other text, sent as the content of a normal
completion (as server-sent events when the request asks to `stream`).
"""

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviours: list[str], hang_seconds: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviours = list(behaviours)
        self.hang_seconds = hang_seconds
        self.requests: list[str] = []
        self.bodies: list[dict] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_behaviour(self) -> str:
        with self.lock:
            behaviour = self.behaviours.pop(0) if self.behaviours else "500"
            self.requests.append(behaviour)
            return behaviour


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
            self._write(status, body, headers or {})

    def _write(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", **headers, "Content-Length": str(len(body))}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.bodies.append(json.loads(body))
        behaviour = self.server.next_behaviour()
        if behaviour == "500":
            self._send(500, b'{"error": {"message": "internal error"}}')
        elif behaviour == "429":
            self._send(429, b'{"error": {"message": "rate limited"}}', {"retry-after": "0"})
        elif behaviour == "401":
            self._send(401, b'{"error": {"message": "invalid api key"}}')
        elif behaviour == "404":
            self._send(404, b'{"error": {"message": "no such model"}}')
        elif behaviour == "422":
            self._send(422, b'{"detail": "unsupported response_format"}')
        elif behaviour == "malformed":
            self._send(200, b'{"id": "x", "choices": [ {"message": ')
        elif behaviour == "hang":
            time.sleep(self.server.hang_seconds)
            self._send(500, b'{"error": {"message": "too late"}}')
        elif self.server.bodies[-1].get("stream"):
            self._send_stream(behaviour)
        else:
            completion = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": "fault",
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": behaviour}}
                ],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
            }
            self._send(200, json.dumps(completion).encode())

    def _send_stream(self, content: str) -> None:
        """The completion as server-sent events, as a client that asked for `stream` reads it."""
        base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "fault"}
        chunks = [
            {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}}]},
            {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        ]
        body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks) + "data: [DONE]\n\n"
        self._send(200, body.encode(), {"Content-Type": "text/event-stream"})


@contextmanager
def fault_server(behaviours: list[str], hang_seconds: float = 3.0) -> Iterator[FaultServer]:
    server = FaultServer(behaviours, hang_seconds)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
