"""``FaceView``: the avatar's face as a widget, repainted at display rate.

Every tick (~60 a second) it asks ``state_provider()`` for the rig state (the animation
engine reads the audio clock there) and hands it to a renderer, which paints it in a
process of its own (``ProcessFrameRenderer``; on a thread, ``FrameRenderer``, when that
process cannot run). So the UI thread only computes states and blits, and stays free for
input while speech work loads the CPU.

Frames are painted ahead of the screen: the state taken at tick n is shown at tick
n + ``AHEAD_TICKS``. A frame usually paints in 5-10 ms, but on a busy two-core machine
one now and then waits for a core and takes 30-40 ms; shown as soon as it was done, it
arrived late and the face stuttered (a 35-50 ms gap). Three ticks ahead, it is ready in
time (two ticks ahead: worst frame interval 24.5-31.8 ms in 8 runs of 10, 41 and 44 ms
in two; three: 23.1-25.3 ms in 9 of 10, 36.9 ms in one). The cost is 48 ms between a
state and the screen, which the lip-sync lead (``avatar.lipsync_lead_ms``) covers for the
mouth. Before the first frame at a new size the view paints directly. The timer and the
worker run only while the widget is shown.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.core.events import AvatarMode
from app.gui.face.frame_renderer import Frame, FrameRenderer, Renderer
from app.gui.face.frame_stats import FrameStats
from app.gui.face.painter import FacePainter
from app.gui.face.render_process import ProcessFrameRenderer
from avatar.looks import Look
from avatar.rig import RigState

log = logging.getLogger(__name__)

StateProvider = Callable[[], RigState]
FRAME_MS = 16  # ~60 frames a second
AHEAD_TICKS = 3  # a frame is painted this many ticks before it is shown


class FaceView(QWidget):
    _frame_done = Signal()  # emitted on the render worker, delivered on the UI thread

    def __init__(
        self,
        state_provider: StateProvider,
        look: Look,
        parent: QWidget | None = None,
        *,
        name: str = "",
        interval_ms: int = FRAME_MS,
        history: int = 240,
        painter_process: bool = True,
    ) -> None:
        """``painter_process``: paint in a child process (the default; see
        ``render_process``), else on a thread of this one."""
        super().__init__(parent)
        self._provider = state_provider
        self._painter = FacePainter(look)
        self._state = RigState()
        self._failed = False
        self._name = name
        self.stats = FrameStats(history)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._dirty: tuple[QSize, QRect] | None = None
        # the renderer lives in a slot that is closed when the view is collected too: a
        # view deleted while shown never gets its hide event, and its painter process
        # then lived on with the app (seen in the tests: one left from a resized view)
        self._slot = _RendererSlot()
        weakref.finalize(self, self._slot.close)
        self._painter_process = painter_process
        self._front: Frame | None = None  # the newest finished frame, being shown
        self._fresh = False  # _front not yet on screen
        self._ticks = 0  # display ticks since shown
        self._wanted: int | None = None  # a tick whose frame waits for the worker
        self._frame_done.connect(self._show_finished, Qt.ConnectionType.QueuedConnection)
        # the painter covers every pixel: Qt need not clear the background first
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(240, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.set_mode(AvatarMode.IDLE)

    @property
    def look(self) -> Look:
        return self._painter.look

    @property
    def state(self) -> RigState:
        """The state shown in the last frame."""
        return self._state

    def set_look(self, look: Look) -> None:
        self._painter.set_look(look)
        if self._renderer is not None:
            self._renderer.set_look(look)
        self._front = None  # the old look's frame is not shown again
        self._dirty = None
        self.update()

    def set_state_provider(self, provider: StateProvider) -> None:
        self._provider = provider
        self._failed = False

    def set_mode(self, mode: AvatarMode) -> None:
        """The shell tells the view the avatar's mode; the face itself shows it through the
        animation engine, so here it only names the widget for assistive technology."""
        label = f"{self._name}, {mode.value}" if self._name else f"Avatar, {mode.value}"
        self.setAccessibleName(label)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.stats.reset()
        self._ticks, self._wanted = 0, None
        if self._renderer is None:
            self._renderer = self._new_renderer()
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()
        # no thread paints for a face nobody sees; a new one starts when it is shown
        self._slot.close()
        self._front = None

    @property
    def _renderer(self) -> Renderer | None:
        return self._slot.renderer

    @_renderer.setter
    def _renderer(self, renderer: Renderer | None) -> None:
        self._slot.renderer = renderer

    def _new_renderer(self) -> Renderer:
        look, done = self._painter.look, self._frame_done.emit
        if self._painter_process:
            try:
                return ProcessFrameRenderer(look, done)
            except OSError as exc:
                log.warning("no face painter process (%s); painting on a thread", exc)
                self._painter_process = False
        return FrameRenderer(look, done)

    def _tick(self) -> None:
        renderer = self._renderer
        if renderer is None:
            return
        tick, self._ticks = self._ticks, self._ticks + 1
        # the frame painted for this tick comes to the screen (its image then stays
        # untouched, the one shown before is free again) ...
        self._present(renderer.take(tick - AHEAD_TICKS))
        # ... and this tick's state goes to the painter, or waits for it (a newer tick
        # replaces an older one still waiting)
        self._wanted = tick
        self._submit_wanted(renderer)

    def _submit_wanted(self, renderer: Renderer) -> None:
        if self._wanted is None or not renderer.idle:
            return
        # only the head moves: painting (and sending to the screen) just its rectangle
        # saves a third to a half of every frame's pixels
        size = self.size()
        if self._dirty is None or self._dirty[0] != size:
            self._dirty = (size, self._painter.moving_rect(size.width(), size.height()))
        ratio = self.devicePixelRatioF()
        state = self._next_state()
        if renderer.submit(state, size.width(), size.height(), ratio, self._dirty[1], self._wanted):
            self._wanted = None

    def _present(self, frame: Frame | None) -> None:
        renderer = self._renderer
        if (
            renderer is not None
            and frame is not None
            and frame.width == self.width()
            and frame.height == self.height()
            and frame.look is self._painter.look  # not one painted before a change of look
        ):
            renderer.show(frame)
            self._front, self._fresh = frame, True
            # on screen now, in this tick: ``update()`` queued the blit behind the work
            # that follows (this tick's state for the painter), which made it 1-5 ms
            # late by turns (frame interval p95 19-20 ms; now 17 ms)
            self.repaint(frame.rect)

    def _show_finished(self) -> None:
        """A frame is done (or failed): paint the state still waiting, if any."""
        renderer = self._renderer
        if renderer is None:
            return
        if renderer.broken:  # the painter process died: go on with a thread
            renderer.close()
            self._painter_process = False
            self._renderer = renderer = self._new_renderer()
            if self._wanted is None:
                self._wanted = self._ticks
        self._submit_wanted(renderer)

    def paintEvent(self, event: QPaintEvent) -> None:
        frame = self._front
        if frame is None:
            # nothing painted yet (first show, a new look): paint here and now
            started = self.stats.begin()
            self._state = self._next_state()
            p = QPainter(self)
            self._painter.paint(p, self.width(), self.height(), self._state)
            p.end()
            self.stats.end(started)
            return
        p = QPainter(self)
        if (frame.width, frame.height, frame.ratio) == (
            self.width(),
            self.height(),
            self.devicePixelRatioF(),
        ):
            # the image is whole: outside the moving rectangle it holds the unchanging
            # wall and body, so any region asked for can be blitted from it
            p.drawImage(QPoint(0, 0), frame.image)
        else:
            # resized (a caption growing can take a few pixels): stretch the last frame
            # for the one tick until the painter delivers one at the new size, rather
            # than paint a whole frame on the UI thread
            p.drawImage(self.rect(), frame.image)
        p.end()
        if self._fresh:
            self._fresh = False
            self._state = frame.state
            self.stats.shown(frame.paint_ms)

    def _next_state(self) -> RigState:
        try:
            state = self._provider()
        except Exception:
            # a failing engine must not take the window down: keep the last face, say it once
            if not self._failed:
                log.exception("the avatar state provider failed; showing the last state")
                self._failed = True
            return self._state
        self._failed = False
        return state


class _RendererSlot:
    """The view's current renderer (if any); :meth:`close` stops it."""

    __slots__ = ("renderer",)

    def __init__(self) -> None:
        self.renderer: Renderer | None = None

    def close(self) -> None:
        renderer, self.renderer = self.renderer, None
        if renderer is not None:
            renderer.close()
