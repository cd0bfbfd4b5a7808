"""The avatar stage: a QPainter placeholder that shows who is there and in which mode,
until the real renderer plugs in through ``MainWindow.set_avatar_view``."""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QHideEvent,
    QLinearGradient,
    QPainter,
    QPaintEvent,
    QPen,
    QRadialGradient,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QSizePolicy,
    QWidget,
)

from app.core.events import AvatarMode
from app.gui.style import MODE_COLORS
from app.gui.texts import Texts


@runtime_checkable
class ModeView(Protocol):
    """What an avatar view offers the shell: it is told the avatar's mode."""

    def set_mode(self, mode: AvatarMode) -> None: ...


class AvatarStage(QWidget):
    """The avatar's place: a calm animated presence, the persona's name and its mode.

    A placeholder until the renderer arrives; it animates only while listening,
    thinking or speaking, and only while shown, at 15 to 30 frames a second
    (a frame costs a few milliseconds of QPainter work on the UI thread).
    """

    def __init__(self, name: str, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._texts = texts
        self._mode = AvatarMode.IDLE
        self._clock = QElapsedTimer()
        self._clock.start()
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self.update)
        self.setMinimumSize(320, 280)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._describe()

    @property
    def mode(self) -> AvatarMode:
        return self._mode

    def set_mode(self, mode: AvatarMode) -> None:
        if mode is self._mode:
            return
        self._mode = mode
        self._describe()
        self._run_timer()
        self.update()

    def _describe(self) -> None:
        mode_text = self._texts(f"mode.{self._mode.value}")
        self.setAccessibleName(self._texts("stage.accessible", name=self._name, mode=mode_text))

    def _run_timer(self) -> None:
        # a slow breath needs 15 frames a second; arcs and ripples look smooth at 30
        self._timer.setInterval(66 if self._mode is AvatarMode.LISTENING else 33)
        animate = self.isVisible() and self._mode is not AvatarMode.IDLE
        if animate and not self._timer.isActive():
            self._timer.start()
        elif not animate:
            self._timer.stop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._run_timer()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._timer.stop()

    def paintEvent(self, event: QPaintEvent) -> None:
        t = self._clock.elapsed() / 1000.0
        color = QColor(MODE_COLORS[self._mode])
        w, h = float(self.width()), float(self.height())
        r = max(28.0, min(w * 0.15, h * 0.15))
        center = QPointF(w / 2, h * 0.42)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        self._paint_backdrop(p, w, h, center, r, color)
        self._paint_motion(p, center, r, color, t)
        self._paint_orb(p, center, r, color)
        self._paint_labels(p, w, center, r, color)
        p.end()

    def _paint_backdrop(
        self, p: QPainter, w: float, h: float, center: QPointF, r: float, color: QColor
    ) -> None:
        base = QLinearGradient(0, 0, 0, h)
        base.setColorAt(0.0, QColor("#1D2B44"))
        base.setColorAt(1.0, QColor("#0C1422"))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(base)
        p.drawRoundedRect(QRectF(0, 0, w, h), 12, 12)
        glow = QRadialGradient(center, r * 3.4)
        inner = QColor(color)
        inner.setAlpha(46)
        outer = QColor(color)
        outer.setAlpha(0)
        glow.setColorAt(0.0, inner)
        glow.setColorAt(1.0, outer)
        p.setBrush(glow)
        p.drawRoundedRect(QRectF(0, 0, w, h), 12, 12)

    def _paint_motion(
        self, p: QPainter, center: QPointF, r: float, color: QColor, t: float
    ) -> None:
        p.setBrush(Qt.BrushStyle.NoBrush)
        ring = QColor(color)
        if self._mode is AvatarMode.LISTENING:
            # a slow breath: the ring swells and fades like someone attentive
            breath = 0.5 + 0.5 * math.sin(2 * math.pi * t / 3.2)
            ring.setAlpha(int(70 + 90 * breath))
            p.setPen(QPen(ring, max(1.5, r * 0.035)))
            radius = r * (1.2 + 0.06 * breath)
            p.drawEllipse(center, radius, radius)
        elif self._mode is AvatarMode.THINKING:
            # three arcs circling: patient, not spinning like a loading wheel
            ring.setAlpha(200)
            pen = QPen(ring, max(2.0, r * 0.06))
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            radius = r * 1.24
            box = QRectF(center.x() - radius, center.y() - radius, 2 * radius, 2 * radius)
            start = -(t * 110.0) % 360.0
            for index in range(3):
                p.drawArc(box, int((start + index * 120.0) * 16), 46 * 16)
        elif self._mode is AvatarMode.SPEAKING:
            # ripples leaving the orb, as sound leaves a speaker
            for index in range(3):
                phase = (t / 1.8 + index / 3.0) % 1.0
                ring.setAlpha(int(170 * (1.0 - phase) ** 1.5))
                p.setPen(QPen(ring, max(1.5, r * 0.035)))
                radius = r * (1.08 + 0.8 * phase)
                p.drawEllipse(center, radius, radius)
        else:
            ring.setAlpha(60)
            p.setPen(QPen(ring, max(1.0, r * 0.02)))
            p.drawEllipse(center, r * 1.2, r * 1.2)

    def _paint_orb(self, p: QPainter, center: QPointF, r: float, color: QColor) -> None:
        fill = QRadialGradient(QPointF(center.x() - r * 0.35, center.y() - r * 0.4), r * 1.5)
        fill.setColorAt(0.0, QColor(color).lighter(135))
        fill.setColorAt(0.55, color)
        fill.setColorAt(1.0, QColor(color).darker(190))
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawEllipse(center, r, r)
        monogram = self._name[:1].upper()
        if monogram:
            font = QFont(self.font())
            font.setPixelSize(max(12, int(r * 0.92)))
            font.setWeight(QFont.Weight.DemiBold)
            p.setFont(font)
            p.setPen(QColor(255, 255, 255, 235))
            box = QRectF(center.x() - r, center.y() - r, 2 * r, 2 * r)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, monogram)

    def _paint_labels(
        self, p: QPainter, w: float, center: QPointF, r: float, color: QColor
    ) -> None:
        name_font = QFont(self.font())
        name_font.setPixelSize(max(18, int(r * 0.42)))
        name_font.setWeight(QFont.Weight.DemiBold)
        top = center.y() + r * 2.0
        name_height = name_font.pixelSize() * 1.5
        p.setFont(name_font)
        p.setPen(QColor("#F1F5F9"))
        p.drawText(QRectF(0, top, w, name_height), Qt.AlignmentFlag.AlignCenter, self._name)

        state_font = QFont(self.font())
        state_font.setPixelSize(max(13, int(r * 0.2)))
        state_font.setWeight(QFont.Weight.Medium)
        state_font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 104)
        p.setFont(state_font)
        label = self._texts(f"mode.{self._mode.value}")
        metrics = p.fontMetrics()
        dot = state_font.pixelSize() * 0.55
        gap = dot * 1.2
        text_width = metrics.horizontalAdvance(label)
        left = (w - (dot + gap + text_width)) / 2
        row_top = top + name_height + state_font.pixelSize() * 0.2
        row_height = metrics.height()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        p.drawEllipse(QPointF(left + dot / 2, row_top + row_height / 2), dot / 2, dot / 2)
        p.setPen(color.lighter(115))
        text_box = QRectF(left + dot + gap, row_top, text_width + 4, row_height)
        p.drawText(text_box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)


# ------------------------------------------------------------- small indicators
