"""``ProcessFrameRenderer``: the ``FrameRenderer`` contract, painted in a child process.

PySide keeps the GIL for the whole of every QPainter call, so a face painted on a worker
thread still held the GIL for ~12 ms of every 16 ms frame, and the UI thread's Python
(every slot, every virtual call Qt makes into a Python widget) queued behind it: the
window stalled 70-80 ms at a time while speech work loaded the CPU. A child process has
a GIL of its own. The images the frames rotate through are files in shared memory
(``/dev/shm`` where there is one), mapped by both processes: the child paints into a
free one while the view shows another and finished ones wait for their tick, and only
a few hundred bytes (the rig state, the rectangle) cross the pipe each frame.

If the child cannot start or dies, :attr:`broken` turns true and ``on_done`` is called:
the view then paints on a thread instead (see ``FaceView``).
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import IO

from PySide6.QtCore import QRect

from app.gui.face.frame_renderer import SLOTS, FrameHandoff, Job
from app.gui.face.render_pipe import SharedImage, receive, send
from avatar.looks import Look
from avatar.rig import RigState

log = logging.getLogger(__name__)

_ROOT = Path(__file__).resolve().parents[3]  # the folder that holds the ``app`` package


class ProcessFrameRenderer(FrameHandoff):
    """Call from the UI thread only; ``on_done`` runs on a reader thread."""

    def __init__(self, look: Look, on_done: Callable[[], None] = lambda: None) -> None:
        super().__init__(on_done)
        self._look = look
        self._pending: tuple[int, Job, Look] | None = None  # slot, job, look of the frame
        self._buffers: list[SharedImage | None] = [None] * SLOTS
        self._names = itertools.count()
        self._folder = Path(tempfile.mkdtemp(prefix="dhuman-face-", dir=_shared_memory_dir()))
        # frame images live in memory (/dev/shm) until removed: by close(), or at exit when
        # the view was never hidden (the app quit with the window open)
        self._remove_folder = weakref.finalize(self, shutil.rmtree, self._folder, True)
        self.broken = False
        self._failure_told = False
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        # Qt's raster engine hands every large fill to a thread pool of its own and waits
        # for it. On two cores shared with the speech models the hand-offs cost more than
        # they save: a frame at 800x800 took 10.4 ms of CPU with the pool, 4.4 ms without
        # (same pixels). ``QT_NO_GUI_THREADPOOL`` is Qt's switch for it. The app's own
        # process keeps the pool: without it the window's other widgets painted later
        # (tick -> paint p95 1.7 -> 5.3 ms).
        env.setdefault("QT_NO_GUI_THREADPOOL", "1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "app.gui.face.render_worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
        except OSError:
            self._remove_folder()
            raise
        assert self._child.stdin is not None and self._child.stdout is not None
        self._to_child: IO[bytes] = self._child.stdin
        self._send(("look", look))
        self._reader = threading.Thread(
            target=self._read, args=(self._child.stdout,), name="dhuman-face-render", daemon=True
        )
        self._reader.start()

    @property
    def idle(self) -> bool:
        """Ready for a frame: nothing painting and an image free."""
        with self._lock:
            return not self.broken and self._can_start()

    def submit(
        self, state: RigState, width: int, height: int, ratio: float, rect: QRect, tick: int = 0
    ) -> bool:
        with self._lock:
            slot = None if self.broken else self._claim_slot()
            if slot is None:
                return False
        width_px, height_px = round(width * ratio), round(height * ratio)
        buffer = self._buffers[slot]
        if buffer is None or not buffer.fits(width_px, height_px, ratio):
            if buffer is not None:
                buffer.close(remove=True)
            # a new name for every new image: the child maps files by name
            path = self._folder / f"frame-{slot}-{next(self._names)}"
            buffer = self._buffers[slot] = SharedImage(
                path, width_px, height_px, ratio, create=True
            )
        clip = buffer.whole
        buffer.whole = True
        self._pending = (slot, Job(state, width, height, ratio, QRect(rect), tick), self._look)
        r = (rect.x(), rect.y(), rect.width(), rect.height())
        message = ("paint", slot, str(buffer.path), width_px, height_px, ratio, width, height)
        return self._send((*message, r, clip, state))

    def set_look(self, look: Look) -> None:
        self._look = look
        for buffer in self._buffers:
            if buffer is not None:
                buffer.whole = False  # the wall and body change with the look
        self._send(("look", look))

    def close(self, timeout: float = 2.0) -> None:
        with self._lock:
            self.broken = True  # nothing more is submitted
            self._closed = True
        self._send(("quit",))
        try:
            self._child.wait(timeout)
        except subprocess.TimeoutExpired:
            self._child.kill()
            self._child.wait()
        self._reader.join(timeout)
        for buffer in self._buffers:
            if buffer is not None:
                buffer.close(remove=True)
        self._remove_folder()

    def _send(self, message: tuple[object, ...]) -> bool:
        try:
            send(self._to_child, message)
            return True
        except (OSError, ValueError):  # the child is gone (a closed pipe)
            self._fail("the face painter process stopped")
            return False

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            try:
                reply = receive(stream)
            except Exception:
                reply = None
            if reply is None:
                self._fail(f"the face painter process ended (exit {self._child.wait()})")
                return
            kind, slot, detail = reply
            with self._lock:
                pending, self._pending, self._painting = self._pending, None, None
                if kind == "done" and pending is not None and pending[0] == slot:
                    _, job, look = pending
                    buffer = self._buffers[slot]
                    assert buffer is not None
                    # the frame holds the mapping: it stays readable while shown
                    self._ready.append(job.painted(buffer.image, look, detail, slot, keep=buffer))
            if kind == "failed" and not self._failure_told:
                # the view keeps its last frame; say it once, not sixty times a second
                log.warning("painting a face frame failed: %s", detail)
            self._failure_told = kind == "failed"
            self._tell_view()

    def _fail(self, reason: str) -> None:
        with self._lock:
            if self.broken:
                return
            self.broken, self._painting = True, None
        log.warning("%s; painting on a thread instead", reason)
        self._tell_view()


def _shared_memory_dir() -> str | None:
    """``/dev/shm`` (memory, never the disk) where the system has it."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
