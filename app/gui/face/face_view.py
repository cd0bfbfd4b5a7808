"""``FaceView``: the avatar's face as a widget, repainted at display rate.

It asks ``state_provider()`` for the rig state of the instant it paints (the animation
engine reads the audio clock there), paints it with a ``FacePainter`` and records frame
times. All heavy lifting (caching, layout) lives in the painter; the widget only owns the
timer, which runs only while the widget is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QRect, QSize, Qt, QTimer
from PySide6.QtGui import QHideEvent, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.core.events import AvatarMode
from app.gui.face.frame_stats import FrameStats
from app.gui.face.painter import FacePainter
from avatar.looks import Look
from avatar.rig import RigState

log = logging.getLogger(__name__)

StateProvider = Callable[[], RigState]
FRAME_MS = 16  # ~60 frames a second; the painter's work fits well inside one


class FaceView(QWidget):
    def __init__(
        self,
        state_provider: StateProvider,
        look: Look,
        parent: QWidget | None = None,
        *,
        name: str = "",
        interval_ms: int = FRAME_MS,
        history: int = 240,
    ) -> None:
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
        self._timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def _tick(self) -> None:
        # only the head moves: repainting (and sending to the screen) just its rectangle
        # saves a third to a half of every frame's pixels
        size = self.size()
        if self._dirty is None or self._dirty[0] != size:
            self._dirty = (size, self._painter.moving_rect(size.width(), size.height()))
        self.update(self._dirty[1])

    def paintEvent(self, event: QPaintEvent) -> None:
        started = self.stats.begin()
        self._state = self._next_state()
        p = QPainter(self)
        self._painter.paint(p, self.width(), self.height(), self._state)
        p.end()
        self.stats.end(started)

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
