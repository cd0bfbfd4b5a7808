"""``FrameRenderer``: paints face frames on a thread of its own; also what both renderers
share (``Frame``, ``Job``, ``FrameHandoff``, the ``Renderer`` protocol).

A frame of the face costs 10-14 ms of QPainter work at 800x800 on a laptop-class CPU. On
the UI thread that is most of every 16 ms, and while speech recognition and synthesis
load the CPU a single paint stretched to 50-110 ms. Here the painting happens on a
worker, into an image; the UI thread only computes the rig state and blits the result.

QPainter on a QImage is safe outside the GUI thread, but PySide holds the GIL for the
whole of every QPainter call, so this worker still blocks the UI thread's Python while it
paints. The view uses it only when the painter process (``render_process``) cannot run.

One frame is painted at a time: the view hands over a state tagged with the display tick
it is for, is told (``on_done``, on the worker's thread) when the frame is finished, and
takes it when that tick comes (``take(upto)``: the newest finished frame due). Frames
are painted ahead of the screen (see ``FaceView``), so four images rotate: the one shown,
up to two finished and waiting for their tick, and the one being painted; the shown and
the waiting ones are never painted into.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QRect
from PySide6.QtGui import QImage, QPainter

from app.gui.face.painter import FacePainter
from avatar.looks import Look
from avatar.rig import RigState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """A painted frame: ``image`` holds at least ``rect`` (logical pixels) of the face."""

    image: QImage
    width: int
    height: int
    ratio: float
    rect: QRect
    state: RigState
    look: Look
    paint_ms: float
    slot: int  # which of the renderer's images
    # what must outlive ``image``: the shared memory it is a view of (painter process)
    keep: object = None
    tick: int = 0  # the display tick it was painted for


class Renderer(Protocol):
    """What ``FaceView`` needs of a renderer (this thread one, or the process one)."""

    broken: bool

    @property
    def idle(self) -> bool: ...

    def submit(
        self, state: RigState, width: int, height: int, ratio: float, rect: QRect, tick: int = 0
    ) -> bool: ...

    def take(self, upto: int | None = None) -> Frame | None: ...

    def show(self, frame: Frame) -> None: ...

    def set_look(self, look: Look) -> None: ...

    def close(self, timeout: float = 2.0) -> None: ...


@dataclass(frozen=True)
class Job:
    """A frame to paint: the state, the widget's size and ratio, the moving rectangle, and
    the display tick it is for."""

    state: RigState
    width: int
    height: int
    ratio: float
    rect: QRect
    tick: int = 0

    def painted(
        self, image: QImage, look: Look, paint_ms: float, slot: int, keep: object = None
    ) -> Frame:
        """This job as a finished frame in ``image`` (the renderer's image ``slot``)."""
        return Frame(
            image,
            self.width,
            self.height,
            self.ratio,
            self.rect,
            self.state,
            look,
            paint_ms,
            slot,
            keep,
            self.tick,
        )


SLOTS = 4  # images: shown, two finished ahead of the screen, one being painted


class FrameHandoff:
    """What both renderers share: the finished frames waiting for the view, which image
    the view shows and which one is being painted (the worker paints only into a free one).
    """

    def __init__(self, on_done: Callable[[], None] = lambda: None) -> None:
        self._on_done = on_done
        self._lock = threading.Condition()
        self._ready: list[Frame] = []  # finished, not yet taken, oldest first
        self._shown = -1
        self._painting: int | None = None  # the image being painted into
        self._closed = False  # close() was called: nothing more is painted or told

    def take(self, upto: int | None = None) -> Frame | None:
        """The newest finished frame for a tick up to ``upto`` (any tick when None), once.
        Older finished frames are dropped: a newer one supersedes them."""
        with self._lock:
            due = [f for f in self._ready if upto is None or f.tick <= upto]
            if not due:
                return None
            self._ready = [f for f in self._ready if upto is not None and f.tick > upto]
            return due[-1]

    def show(self, frame: Frame) -> None:
        """The view shows ``frame`` from now on: its image is not painted into (nor, after
        a resize, replaced) until another frame is shown. A frame taken but not shown (it
        came at the size before a resize) leaves the one on screen protected."""
        with self._lock:
            self._shown = frame.slot

    def _free_slot(self) -> int | None:
        """The image the next frame can go into, if any (call holding ``_lock``)."""
        busy = {self._shown, self._painting, *(f.slot for f in self._ready)}
        return next((slot for slot in range(SLOTS) if slot not in busy), None)

    def _can_start(self) -> bool:
        """Nothing painting and an image free (call holding ``_lock``)."""
        return self._painting is None and self._free_slot() is not None

    def _claim_slot(self) -> int | None:
        """A free image, now marked as being painted; None while a frame is painting or
        when none is free (call holding ``_lock``)."""
        if self._painting is not None:
            return None
        self._painting = self._free_slot()
        return self._painting

    def _tell_view(self) -> None:
        """``on_done`` (a worker's thread), unless the renderer is closed: the view that
        closed it may already be gone, its signal with it, and waits for nothing."""
        with self._lock:
            if self._closed:
                return
        try:
            self._on_done()
        except (RuntimeError, TypeError) as exc:  # PySide: the view was deleted, not closed
            log.debug("no view to tell of a frame: %s", exc)


class _Buffer:
    """An image the worker paints into, and what of it is up to date."""

    def __init__(self) -> None:
        self.image: QImage | None = None
        self.whole = False  # painted at least once at its size, outside ``rect`` too

    def ready_for(self, job: Job) -> QImage:
        width, height = round(job.width * job.ratio), round(job.height * job.ratio)
        image = self.image
        if image is None or image.width() != width or image.height() != height:
            image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
            image.setDevicePixelRatio(job.ratio)
            self.image, self.whole = image, False
        return image


class FrameRenderer(FrameHandoff):
    """A worker thread with its own ``FacePainter``; call from the UI thread only."""

    def __init__(self, look: Look, on_done: Callable[[], None] = lambda: None) -> None:
        """``on_done`` runs on the worker after each frame (or failed frame): keep it short,
        e.g. emit a queued signal."""
        super().__init__(on_done)
        self._painter = FacePainter(look)
        self.broken = False  # a thread of this process: nothing to lose
        self._job: Job | None = None
        self._look: Look | None = None  # a look change waiting for the worker
        self._failed = False
        self._buffers = tuple(_Buffer() for _ in range(SLOTS))
        self._thread = threading.Thread(target=self._run, name="dhuman-face-render", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        """Ready for a frame: nothing painting and an image free."""
        with self._lock:
            return not self._closed and self._can_start()

    def submit(
        self, state: RigState, width: int, height: int, ratio: float, rect: QRect, tick: int = 0
    ) -> bool:
        """Paint ``state`` at this size for ``tick``; False (nothing queued) unless
        :attr:`idle`."""
        with self._lock:
            if self._closed or self._claim_slot() is None:
                return False
            self._job = Job(state, width, height, ratio, QRect(rect), tick)
            self._lock.notify()
            return True

    def set_look(self, look: Look) -> None:
        """Frames painted after this use ``look``."""
        with self._lock:
            self._look = look

    def close(self, timeout: float = 2.0) -> None:
        """Stop the worker after the frame it is painting (if any)."""
        with self._lock:
            self._closed = True
            self._lock.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                while self._job is None and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job, self._job = self._job, None
                look, self._look = self._look, None
                slot = self._painting
            assert job is not None and slot is not None
            frame: Frame | None = None
            try:
                if look is not None:
                    self._painter.set_look(look)
                    for each in self._buffers:
                        each.whole = False
                frame = self._paint(job, slot)
                self._failed = False
            except Exception:
                # the view keeps its last frame; say it once, not sixty times a second
                if not self._failed:
                    log.exception("painting a face frame failed; keeping the last frame")
                    self._failed = True
            with self._lock:
                self._painting = None
                if frame is not None:
                    self._ready.append(frame)
            self._tell_view()

    def _paint(self, job: Job, slot: int) -> Frame:
        started = time.perf_counter()
        buffer = self._buffers[slot]
        image = buffer.ready_for(job)
        p = QPainter(image)
        try:
            # what lies outside the moving rectangle (wall, body) never changes: once an
            # image has it, later frames repaint only the rectangle
            if buffer.whole:
                p.setClipRect(job.rect)
            self._painter.paint(p, job.width, job.height, job.state)
        finally:
            p.end()
        buffer.whole = True
        paint_ms = (time.perf_counter() - started) * 1000.0
        return job.painted(image, self._painter.look, paint_ms, slot)
