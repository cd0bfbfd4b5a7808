"""A stdlib HTTP server on 127.0.0.1 (a free port), served from a daemon thread while a
``with`` block runs: the shared lifecycle of the tests' scripted servers."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self


class BackgroundHttpServer:
    """Subclasses build their handler class and pass it to ``__init__`` last."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:PORT``"""
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"
