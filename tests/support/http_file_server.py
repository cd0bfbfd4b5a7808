"""A local HTTP file server for download tests: 127.0.0.1, a free port, one thread.

It serves byte strings, honours ``Range: bytes=N-`` (206 + Content-Range) and can be told
to ignore Range, to break the connection after some bytes, to throttle, or to answer an
error status. Every request is logged with its Range header and how many body bytes went
out, so a test can prove that a resume fetched only the rest.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from tests.support.background_http import BackgroundHttpServer

_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass
class LoggedRequest:
    path: str
    range: str | None
    status: int
    bytes_sent: int = 0


class FileServer(BackgroundHttpServer):
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ignore_range = False
        # break the connection after this many body bytes, for the next `fail_times` requests
        self.fail_after: int | None = None
        self.fail_times = 1
        self.throttle_bytes_per_s: float | None = None
        self.status_override: dict[str, int] = {}
        self.requests: list[LoggedRequest] = []
        self._lock = threading.Lock()
        super().__init__(self._handler_class())

    # ---------------------------------------------------------------- control

    @property
    def base_url(self) -> str:
        return self.origin

    def add(self, path: str, data: bytes) -> str:
        """Serve ``data`` at ``/path``; returns its URL."""
        path = "/" + path.lstrip("/")
        self.files[path] = data
        return self.base_url + path

    def requests_for(self, path: str) -> list[LoggedRequest]:
        path = "/" + path.lstrip("/")
        return [r for r in self.requests if r.path == path]

    def _take_failure(self) -> int | None:
        with self._lock:
            if self.fail_after is None or self.fail_times <= 0:
                return None
            self.fail_times -= 1
            return self.fail_after

    # ---------------------------------------------------------------- handler

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so a broken-off body is a closed socket
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                range_header = self.headers.get("Range")
                entry = LoggedRequest(self.path, range_header, 0)
                server.requests.append(entry)
                data = server.files.get(self.path)
                override = server.status_override.get(self.path)
                if override is not None:
                    entry.status = override
                    self.send_error(override)
                    return
                if data is None:
                    entry.status = 404
                    self.send_error(404)
                    return
                start, end = 0, len(data)
                match = _RANGE.match(range_header or "")
                if match and not server.ignore_range:
                    start = int(match.group(1))
                    if match.group(2):
                        end = min(end, int(match.group(2)) + 1)
                    if start >= len(data):
                        entry.status = 416
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    entry.status = 206
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
                else:
                    entry.status = 200
                    self.send_response(200)
                self.send_header("Content-Length", str(end - start))
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self._send_body(data[start:end], entry)

            def _send_body(self, body: bytes, entry: LoggedRequest) -> None:
                limit = server._take_failure()
                if limit is not None:
                    body = body[:limit]
                step = 16 * 1024
                try:
                    for offset in range(0, len(body), step):
                        chunk = body[offset : offset + step]
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        entry.bytes_sent += len(chunk)
                        if server.throttle_bytes_per_s:
                            time.sleep(len(chunk) / server.throttle_bytes_per_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client cancelled or gave up: nothing to clean up here
                if limit is not None:
                    self.close_connection = True

        return Handler
