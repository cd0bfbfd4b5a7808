"""A fake network webcam on 127.0.0.1: serves frames as a live MJPEG stream
(``multipart/x-mixed-replace``) at a camera's pace, looping forever.

``stop()`` cuts every open stream (the client sees the camera vanish, like a pulled
cable); ``start()`` again serves on the same port (the camera comes back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import numpy as np
import numpy.typing as npt


class MjpegServer:
    def __init__(self, frames: Sequence[npt.NDArray[np.uint8]], fps: float = 30.0, port: int = 0):
        """``frames`` are RGB; they are JPEG-encoded once, up front."""
        import cv2

        self.fps = fps
        self._jpegs = [
            cv2.imencode(
                ".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85]
            )[1].tobytes()
            for f in frames
        ]
        self.port = port
        self.frames_sent = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"

    def start(self) -> MjpegServer:
        self._stopping.clear()
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class())
        httpd.daemon_threads = True
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # every streaming handler ends its loop and closes
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None

    def __enter__(self) -> MjpegServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                started, count = time.perf_counter(), 0
                try:
                    while not server._stopping.is_set():
                        jpg = server._jpegs[count % len(server._jpegs)]
                        self.wfile.write(
                            b"--frame\r\nContent-Type: image/jpeg\r\n"
                            b"Content-Length: %d\r\n\r\n" % len(jpg) + jpg + b"\r\n"
                        )
                        self.wfile.flush()
                        count += 1
                        server.frames_sent += 1
                        delay = started + count / server.fps - time.perf_counter()
                        if delay > 0:
                            server._stopping.wait(delay)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

        return Handler
