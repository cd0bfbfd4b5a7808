"""The face painter's own process: ``python -m app.gui.face.render_worker``.

Started by ``ProcessFrameRenderer``. It reads length-prefixed pickled messages on stdin
and answers on stdout (nothing else may be written there):

- ``("look", Look)``: paint later frames with this look;
- ``("paint", slot, path, width_px, height_px, ratio, width, height, rect, clip, state)``:
  paint ``state`` into the image file at ``path`` (shared memory, mapped by both
  processes), the whole image or, when ``clip`` is true, only ``rect``; then answer
  ``("done", slot, paint_ms)`` or ``("failed", slot, reason)``;
- end of input or ``("quit",)``: exit.

Why a process: PySide holds the GIL inside every QPainter call, so a painting thread
still blocked the UI thread's Python for most of each frame.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from pathlib import Path

from app.gui.face.render_pipe import SharedImage, receive, send


def main() -> int:
    # Ctrl+C in the terminal reaches the whole process group: the app closes this process
    # itself (end of input), without a traceback from here
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QGuiApplication, QPainter

    from app.gui.face.painter import FacePainter

    app = QGuiApplication(["dhuman-face-render"])  # noqa: F841 - fonts and images need one
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    painter: FacePainter | None = None
    mapped: dict[int, SharedImage] = {}  # slot -> its image file
    while True:
        message = receive(source)
        if message is None or message[0] == "quit":
            return 0
        if message[0] == "look":
            if painter is None:
                painter = FacePainter(message[1])
                # everything loaded so far (Qt's modules, the look) lives to the end: out
                # of the collector's sight, so a full collection mid-frame stays short
                gc.freeze()
            else:
                painter.set_look(message[1])
            continue
        _, slot, path, width_px, height_px, ratio, width, height, rect, clip, state = message
        started = time.perf_counter()
        try:
            if painter is None:
                raise RuntimeError("no look was given before the first frame")
            held = mapped.get(slot)
            if held is None or str(held.path) != path:
                if held is not None:
                    held.close()  # the parent removes the file
                held = mapped[slot] = SharedImage(Path(path), width_px, height_px, ratio)
            p = QPainter(held.image)
            try:
                if clip:
                    p.setClipRect(QRect(*rect))
                painter.paint(p, width, height, state)
            finally:
                p.end()
        except Exception as exc:  # the parent keeps its last frame and reports it
            send(sink, ("failed", slot, f"{type(exc).__name__}: {exc}"))
            continue
        send(sink, ("done", slot, (time.perf_counter() - started) * 1000.0))


if __name__ == "__main__":
    raise SystemExit(main())
