"""A test provincial e-license library: an HTTP endpoint on loopback that records what it receives.

It files one license per Idempotency-Key (a repeat of a key is counted, not filed again), can refuse
the first requests (503) to exercise retries, and can hold each answer back to let a test kill the
deliverer between the library's filing and the deliverer's bookkeeping.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LibraryServer:
    def __init__(self, *, fail_first: int = 0, hold: float = 0.0) -> None:
        self.fail_first = fail_first
        self.hold = hold
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, Any]]] = []  # every request: (key, body)
        self.licenses: dict[str, dict[str, Any]] = {}  # filed: key → first body
        self.received = threading.Condition(self.lock)
        library = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                key = self.headers.get("Idempotency-Key", "")
                with library.lock:
                    library.requests.append((key, body))
                    refuse = len(library.requests) <= library.fail_first
                    if not refuse:
                        library.licenses.setdefault(key, body)
                    library.received.notify_all()
                if library.hold:
                    threading.Event().wait(library.hold)
                self.send_response(503 if refuse else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/licenses"

    def __enter__(self) -> LibraryServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, n_requests: int, timeout: float = 60.0) -> bool:
        with self.lock:
            return self.received.wait_for(lambda: len(self.requests) >= n_requests, timeout)
