"""A tiny scripted HTTP server on loopback, for the client's retry logic only.

Each request pops the next scripted reply: ``(status, body)`` or ``("sleep", seconds)``
(answer late, past the client's timeout) ; when the script is empty it answers ``default``.
The real server's behaviour is tested against llama.cpp (test_server.py).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeServer:
    def __init__(self, script: list[tuple[Any, Any]], default: tuple[int, Any] = (200, {"ok": True})) -> None:
        self.script = list(script)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status, payload = owner.script.pop(0) if owner.script else owner.default
                if status == "sleep":
                    time.sleep(payload)
                    status, payload = owner.default
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _reply

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
