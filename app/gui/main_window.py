"""The main window: the Qt shell around a headless :class:`~app.core.session.Session`.

Layout, top to bottom: the persistent AI-disclosure banner, the notice bar (hidden
until a part of the app has something to say), then the avatar stage beside the
conversation captions, then the text input with Send and Stop.

The window owns no conversation logic. It subscribes to the session through an
:class:`~app.gui.event_bridge.EventBridge`, so every handler here runs on the UI
thread, and it calls only the session's thread-safe inputs (``submit_text``,
``interrupt``). The avatar stage is a placeholder painted with QPainter until a real
renderer plugs in through :meth:`MainWindow.set_avatar_view`.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from PySide6.QtCore import QElapsedTimer, QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QFont,
    QHideEvent,
    QKeySequence,
    QLinearGradient,
    QPainter,
    QPaintEvent,
    QPen,
    QRadialGradient,
    QResizeEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core import events as ev
from app.core.events import AvatarMode
from app.core.session import Session
from app.gui.event_bridge import EventBridge
from app.gui.texts import Texts
from dialog.persona import Persona

MIN_WIDTH, MIN_HEIGHT = 800, 600
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1120, 740
MAX_CAPTIONS = 300  # older captions are dropped from the view (the session keeps no more either)

# one colour per avatar mode: bright for the dark stage, and a darker ink for light panels
MODE_COLORS: dict[AvatarMode, str] = {
    AvatarMode.IDLE: "#94A3B8",
    AvatarMode.LISTENING: "#2DD4BF",
    AvatarMode.THINKING: "#FBBF24",
    AvatarMode.SPEAKING: "#38BDF8",
}
MODE_INK: dict[AvatarMode, str] = {
    AvatarMode.IDLE: "#64748B",
    AvatarMode.LISTENING: "#0F766E",
    AvatarMode.THINKING: "#B45309",
    AvatarMode.SPEAKING: "#0369A1",
}

STYLE = """
QMainWindow, #central { background: #F3F5F8; }
QWidget { color: #1F2933; }
#disclosure {
    background: #EEF2FF; border: 1px solid #C7D2FE; border-radius: 10px;
}
#disclosureBadge {
    background: #4F46E5; color: white; border-radius: 6px; padding: 2px 8px;
    font-weight: 700; letter-spacing: 1px;
}
#disclosureText { color: #312E81; font-size: 11.5pt; }
#noticeBar { border-radius: 10px; }
#noticeBar[severity="info"] { background: #EAF4FE; border: 1px solid #9CC8F5; }
#noticeBar[severity="warning"] { background: #FFF8E6; border: 1px solid #F2C25B; }
#noticeBar[severity="error"] { background: #FDECEC; border: 1px solid #F0A3A3; }
#noticeIcon {
    color: white; border-radius: 10px; font-weight: 800;
    min-width: 20px; max-width: 20px; min-height: 20px; max-height: 20px;
}
#noticeBar[severity="info"] #noticeIcon { background: #2B7BD0; }
#noticeBar[severity="warning"] #noticeIcon { background: #D08A0B; }
#noticeBar[severity="error"] #noticeIcon { background: #C53030; }
#noticeText { font-size: 10.5pt; }
#noticeBar[severity="info"] #noticeText { color: #0B4A83; }
#noticeBar[severity="warning"] #noticeText { color: #6B4300; }
#noticeBar[severity="error"] #noticeText { color: #7F1D1D; }
#noticeDismiss {
    border: none; border-radius: 6px; padding: 2px 6px; font-size: 11pt; color: #475569;
    background: transparent;
}
#noticeDismiss:hover { background: rgba(15, 23, 42, 0.08); }
#card { background: white; border: 1px solid #E3E8EF; border-radius: 12px; }
#cardTitle { font-size: 12pt; font-weight: 600; color: #334155; }
#statePill {
    background: #F1F5F9; border: 1px solid #E2E8F0; border-radius: 11px; padding: 2px 10px;
    font-size: 10pt; font-weight: 600;
}
#captions, #captionsBody { background: white; border: none; }
#captionsEmpty { color: #94A3B8; font-size: 11pt; }
#avatarBubble {
    background: #F8FAFC; border: 1px solid #E2E8F0; border-radius: 14px;
    border-top-left-radius: 4px;
}
#userBubble {
    background: #E6F4F1; border: 1px solid #BFE3DB; border-radius: 14px;
    border-top-right-radius: 4px;
}
#bubbleSpeaker { font-size: 9.5pt; font-weight: 700; color: #0F766E; }
#userBubble #bubbleSpeaker { color: #115E59; }
#bubbleText { font-size: 12.5pt; color: #1F2933; }
#bubbleText[provisional="true"] { color: #64748B; font-style: italic; }
#bubbleTag {
    font-size: 8.5pt; font-weight: 600; color: #9F1239; background: #FFE4E6;
    border-radius: 6px; padding: 0px 6px;
}
#messageInput {
    background: white; border: 1px solid #CBD5E1; border-radius: 10px;
    padding: 9px 12px; font-size: 12.5pt;
}
#messageInput:focus { border: 2px solid #0F766E; padding: 8px 11px; }
QPushButton {
    border-radius: 10px; padding: 9px 20px; font-size: 11.5pt; font-weight: 600;
}
#sendButton { background: #0F766E; color: white; border: 1px solid #0F766E; }
#sendButton:hover { background: #115E59; }
#sendButton:pressed { background: #134E4A; }
#sendButton:disabled { background: #B7D4CF; border-color: #B7D4CF; color: #F8FAFC; }
#stopButton { background: white; color: #BE123C; border: 1px solid #FDA4AF; }
#stopButton:hover { background: #FFF1F2; }
#stopButton:pressed { background: #FFE4E6; }
#stopButton:disabled { color: #CBD5E1; border-color: #E2E8F0; }
QSplitter::handle { background: transparent; }
QScrollBar:vertical { background: transparent; width: 10px; margin: 4px 2px 4px 0; }
QScrollBar::handle:vertical { background: #CBD5E1; border-radius: 4px; min-height: 30px; }
QScrollBar::handle:vertical:hover { background: #94A3B8; }
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical { height: 0; }
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical { background: transparent; }
"""


@runtime_checkable
class ModeView(Protocol):
    """What an avatar view offers the shell: it is told the avatar's mode."""

    def set_mode(self, mode: AvatarMode) -> None: ...


def _repolish(widget: QWidget) -> None:
    """Re-apply the style sheet after a dynamic property used by a selector changed."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


_ROLE_PREFIX = re.compile(r"^[A-Za-z][A-Za-z ]{1,40} \((?P<engine>[^()\n]{1,40})\): ")


def _words(text: str) -> str:
    return " ".join(text.split())


# ------------------------------------------------------------------ avatar stage
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
class StateIndicator(QLabel):
    """A pill with a coloured dot and the mode in words (listening / thinking / speaking)."""

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = texts
        self.setObjectName("statePill")
        self.setTextFormat(Qt.TextFormat.RichText)
        self._mode = AvatarMode.IDLE
        self._show()

    @property
    def mode(self) -> AvatarMode:
        return self._mode

    def mode_text(self) -> str:
        return self._texts(f"mode.{self._mode.value}")

    def set_mode(self, mode: AvatarMode) -> None:
        self._mode = mode
        self._show()

    def _show(self) -> None:
        dot, ink = MODE_COLORS[self._mode], MODE_INK[self._mode]
        words = html.escape(self.mode_text())
        self.setText(
            f'<span style="color:{dot}">●</span>&nbsp;<span style="color:{ink}">{words}</span>'
        )
        self.setAccessibleName(self.mode_text())


class DisclosureBanner(QFrame):
    """The persona's AI disclosure; always visible, never dismissible."""

    def __init__(self, text: str, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("disclosure")
        self.setToolTip(texts("disclosure.tooltip"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 14, 8)
        layout.setSpacing(10)
        badge = QLabel(texts("disclosure.badge"))
        badge.setObjectName("disclosureBadge")
        badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = QLabel(text)
        self.label.setObjectName("disclosureText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        layout.addWidget(badge, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.label, 1)
        self.setAccessibleName(text)

    def text(self) -> str:
        return self.label.text()


@dataclass
class _Notice:
    title: str
    message: str
    severity: str


_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


class NoticeBar(QFrame):
    """What a degraded part of the app wants the operator to know, one line per part."""

    MAX_MESSAGE = 320

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("noticeBar")
        self.setProperty("severity", "warning")
        self._notices: dict[str, _Notice] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        icon = QLabel("!")
        icon.setObjectName("noticeIcon")
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = QLabel()
        self.label.setObjectName("noticeText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.dismiss_button = QToolButton()
        self.dismiss_button.setObjectName("noticeDismiss")
        self.dismiss_button.setText("✕")
        self.dismiss_button.setToolTip(texts("notice.dismiss"))
        self.dismiss_button.setAccessibleName(texts("notice.dismiss"))
        self.dismiss_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.dismiss_button.clicked.connect(self.dismiss)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def add(self, key: str, title: str, message: str, severity: str = "warning") -> None:
        """Show a notice; a newer one from the same part (``key``) replaces the older."""
        self._notices.pop(key, None)
        self._notices[key] = _Notice(title, message.strip(), severity)
        self._render()
        self.show()

    def dismiss(self) -> None:
        self._notices.clear()
        self.hide()

    def notices(self) -> list[tuple[str, str]]:
        return [(n.title, n.message) for n in self._notices.values()]

    def text(self) -> str:
        return "\n".join(f"{title}: {message}" for title, message in self.notices())

    def _render(self) -> None:
        lines = []
        for notice in self._notices.values():
            message = notice.message
            if len(message) > self.MAX_MESSAGE:
                message = message[: self.MAX_MESSAGE].rstrip() + "…"
            body = html.escape(message).replace("\n", "<br>")
            lines.append(f"<b>{html.escape(notice.title)}</b> — {body}")
        self.label.setText("<br>".join(lines))
        self.setToolTip(self.text())
        severity = max(
            (n.severity for n in self._notices.values()),
            key=lambda s: _SEVERITY_RANK.get(s, 1),
            default="warning",
        )
        self.setProperty("severity", severity if severity in _SEVERITY_RANK else "warning")
        _repolish(self)
        for child in self.findChildren(QWidget):
            _repolish(child)


# ------------------------------------------------------------------- captions
Speaker = Literal["user", "avatar"]


@dataclass
class Caption:
    """One line of the transcript as shown: who, what, and how it ended."""

    speaker: Speaker
    turn_id: int
    text: str = ""
    heard: str = ""
    interrupted: bool = False
    provisional: bool = False
    extra: str = ""  # spoken lines that were not streamed (a scripted or fallback reply)

    @property
    def shown(self) -> str:
        return " ".join(part for part in (self.text.strip(), self.extra.strip()) if part)


class _WrapLabel(QLabel):
    """A word-wrapped label as wide as its text needs, up to a limit, then wrapping.

    QLabel's own size hint for wrapped text guesses a width from the character count,
    which wraps short lines needlessly; captions read better as wide as they can be.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plain = ""
        self._limit = 400
        self.setWordWrap(True)

    def set_limit(self, width: int) -> None:
        if width != self._limit:
            self._limit = width
            self.updateGeometry()

    def sizeHint(self) -> QSize:
        metrics = self.fontMetrics()
        lines = (self.plain or self.text() or " ").splitlines() or [" "]
        natural = max(metrics.horizontalAdvance(line) for line in lines) + 4
        width = max(20, min(natural, self._limit))
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        hint = self.sizeHint()
        return QSize(min(hint.width(), 120), hint.height())


class CaptionBubble(QFrame):
    def __init__(self, caption: Caption, name: str, texts: Texts) -> None:
        super().__init__()
        self.caption = caption
        self._texts = texts
        self.setObjectName("userBubble" if caption.speaker == "user" else "avatarBubble")
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 10)
        layout.setSpacing(3)
        header = QHBoxLayout()
        header.setSpacing(8)
        speaker = QLabel(name)
        speaker.setObjectName("bubbleSpeaker")
        self._tag = QLabel(texts("captions.stopped"))
        self._tag.setObjectName("bubbleTag")
        self._tag.hide()
        header.addWidget(speaker)
        header.addWidget(self._tag)
        header.addStretch(1)
        self.body = _WrapLabel()
        self.body.setObjectName("bubbleText")
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addLayout(header)
        layout.addWidget(self.body)
        self.refresh()

    def set_max_width(self, width: int) -> None:
        self.setMaximumWidth(width)
        margins = self.contentsMargins().left() + self.contentsMargins().right()
        inner = self.layout()
        if inner is not None:
            spacing = inner.contentsMargins()
            margins += spacing.left() + spacing.right()
        self.body.set_limit(max(60, width - margins))

    def refresh(self) -> None:
        c = self.caption
        shown = c.shown
        provisional = c.provisional or not shown
        placeholder = self._texts("captions.hearing") if c.speaker == "user" else "…"
        self.body.plain = shown or placeholder
        if c.interrupted and shown:
            heard = len(c.heard.split())
            words = shown.split()
            said, unsaid = " ".join(words[:heard]), " ".join(words[heard:])
            self.body.setTextFormat(Qt.TextFormat.RichText)
            rest = f' <span style="color:#94A3B8">{html.escape(unsaid)}</span>' if unsaid else ""
            self.body.setText(html.escape(said) + rest)
        else:
            self.body.setTextFormat(Qt.TextFormat.PlainText)
            self.body.setText(shown or placeholder)
        self._tag.setVisible(c.interrupted)
        if self.body.property("provisional") != provisional:
            self.body.setProperty("provisional", provisional)
            _repolish(self.body)
        self.body.updateGeometry()


class CaptionsView(QScrollArea):
    """The scrollable transcript: the visitor's lines right, the avatar's left, streaming in.

    Follows the newest line unless the reader has scrolled up to read something older.
    """

    def __init__(self, persona_name: str, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captions")
        self._name = persona_name
        self._texts = texts
        self._bubbles: list[CaptionBubble] = []
        self._turns: dict[int, dict[Speaker, CaptionBubble]] = {}
        self._live_user: CaptionBubble | None = None
        self._follow = True
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("captionsBody")
        self._column = QVBoxLayout(body)
        self._column.setContentsMargins(14, 8, 14, 14)
        self._column.setSpacing(10)
        self._empty = QLabel(texts("captions.empty"))
        self._empty.setObjectName("captionsEmpty")
        self._empty.setWordWrap(True)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._column.addWidget(self._empty)
        self._column.addStretch(1)
        self.setWidget(body)
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range)
        bar.valueChanged.connect(self._on_scrolled)

    # ------------------------------------------------------------ what tests read
    def entries(self) -> list[Caption]:
        return [bubble.caption for bubble in self._bubbles]

    def texts(self, speaker: Speaker | None = None) -> list[str]:
        return [c.shown for c in self.entries() if speaker is None or c.speaker == speaker]

    # ------------------------------------------------------------- session events
    def user_partial(self, text: str) -> None:
        bubble = self._live_user
        if bubble is None:
            bubble = self._live_user = self._append(Caption("user", 0, provisional=True))
        bubble.caption.text = text
        bubble.refresh()

    def user_final(self, turn_id: int, text: str) -> None:
        if not text.strip():
            self._drop_live_user()
            return
        bubble = self._user_bubble(turn_id)
        bubble.caption.text, bubble.caption.provisional = text.strip(), False
        bubble.refresh()

    def turn_started(self, turn_id: int, user_text: str) -> None:
        if user_text.strip():
            self.user_final(turn_id, user_text)
        self._bubble(turn_id, "avatar")

    def reply_chunk(self, turn_id: int, text: str) -> None:
        bubble = self._active(turn_id)
        if bubble is not None:
            bubble.caption.text += text
            bubble.refresh()

    def reply_sentence(self, turn_id: int, text: str) -> None:
        bubble = self._active(turn_id)
        if bubble is None:
            return
        # a sentence of the streamed text is already shown; one that was never
        # streamed (a scripted line, the fallback after a failed model) is added
        if _words(text) and _words(text) not in _words(bubble.caption.text):
            bubble.caption.extra = f"{bubble.caption.extra} {text.strip()}".strip()
            bubble.refresh()

    def interrupted(self, turn_id: int, heard_text: str) -> None:
        bubble = self._turns.get(turn_id, {}).get("avatar")
        if bubble is not None:
            bubble.caption.heard = heard_text
            bubble.caption.interrupted = True
            bubble.refresh()

    def turn_ended(self, turn_id: int, reply_text: str, interrupted: bool) -> None:
        parts = self._turns.get(turn_id)
        bubble = parts.get("avatar") if parts else None
        if bubble is None:
            return
        caption = bubble.caption
        if interrupted:
            caption.interrupted = True
            caption.heard = caption.heard or reply_text
        elif reply_text.strip() and not caption.extra:
            caption.text = reply_text.strip()  # the reply as the session recorded it
        caption.provisional = False
        if not caption.shown and not interrupted:
            self._remove(bubble)
        else:
            bubble.refresh()
        if parts is not None:
            parts.pop("avatar", None)  # late data for this turn is ignored

    # ------------------------------------------------------------------ plumbing
    def _active(self, turn_id: int) -> CaptionBubble | None:
        bubble = self._turns.get(turn_id, {}).get("avatar")
        if bubble is None or bubble.caption.interrupted:
            return None
        return bubble

    def _user_bubble(self, turn_id: int) -> CaptionBubble:
        parts = self._turns.setdefault(turn_id, {})
        if "user" not in parts and self._live_user is not None:
            bubble, self._live_user = self._live_user, None
            bubble.caption.turn_id = turn_id
            parts["user"] = bubble
        return self._bubble(turn_id, "user")

    def _bubble(self, turn_id: int, speaker: Speaker) -> CaptionBubble:
        parts = self._turns.setdefault(turn_id, {})
        if speaker not in parts:
            parts[speaker] = self._append(Caption(speaker, turn_id))
        return parts[speaker]

    def _drop_live_user(self) -> None:
        if self._live_user is not None:
            self._remove(self._live_user)
            self._live_user = None

    def _append(self, caption: Caption) -> CaptionBubble:
        name = self._texts("captions.you") if caption.speaker == "user" else self._name
        bubble = CaptionBubble(caption, name, self._texts)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if caption.speaker == "user":
            row.addStretch(1)
            row.addWidget(bubble)
        else:
            row.addWidget(bubble)
            row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        self._column.insertWidget(self._column.count() - 1, holder)
        self._bubbles.append(bubble)
        self._fit(bubble)
        self._empty.hide()
        while len(self._bubbles) > MAX_CAPTIONS:
            self._remove(self._bubbles[0])
        return bubble

    def _remove(self, bubble: CaptionBubble) -> None:
        if bubble in self._bubbles:
            self._bubbles.remove(bubble)
        for parts in self._turns.values():
            for speaker, known in list(parts.items()):
                if known is bubble:
                    del parts[speaker]
        self._turns = {turn: parts for turn, parts in self._turns.items() if parts}
        holder = bubble.parentWidget()
        if holder is not None:
            self._column.removeWidget(holder)
            holder.deleteLater()
        self._empty.setVisible(not self._bubbles)

    def _fit(self, bubble: CaptionBubble) -> None:
        bubble.set_max_width(max(160, int(self.viewport().width() * 0.86) - 24))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        for bubble in self._bubbles:
            self._fit(bubble)

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(maximum)

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 8


# ------------------------------------------------------------------ the window
class MainWindow(QMainWindow):
    """``MainWindow(session, persona, language)``: the conversation's face on screen.

    Subscribes to ``session`` at once; call ``session.start()`` after building the
    window so the first events are seen. Closing the window unsubscribes; closing the
    session is the caller's job (see :func:`app.gui.launch.run_gui`).
    """

    def __init__(
        self,
        session: Session,
        persona: Persona,
        language: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.persona = persona
        self.language = language
        self.texts = Texts(language)
        self.persona_name = persona.name.get(language)
        self.setWindowTitle(self.texts("window.title", name=self.persona_name))
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        room = self.screen().availableGeometry()
        self.resize(
            max(MIN_WIDTH, min(DEFAULT_WIDTH, room.width() * 9 // 10)),
            max(MIN_HEIGHT, min(DEFAULT_HEIGHT, room.height() * 9 // 10)),
        )
        self.setStyleSheet(STYLE)
        self._mode = AvatarMode.IDLE
        self._build()
        self._set_mode(session.mode)
        self.bridge = EventBridge(self)
        self.bridge.connect_slot(self.handle_event)
        self.bridge.attach(session)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        t = self.texts
        central = QWidget()
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(16, 14, 16, 14)
        outer.setSpacing(10)

        self.disclosure = DisclosureBanner(self.persona.disclosure.get(self.language), t)
        self.notice_bar = NoticeBar(t)

        self.stage = AvatarStage(self.persona_name, t)
        self._avatar_view: QWidget = self.stage
        self._stage_holder = QWidget()
        stage_layout = QVBoxLayout(self._stage_holder)
        stage_layout.setContentsMargins(0, 0, 0, 0)
        stage_layout.addWidget(self.stage)

        conversation = QFrame()
        conversation.setObjectName("card")
        column = QVBoxLayout(conversation)
        column.setContentsMargins(1, 10, 1, 1)
        column.setSpacing(4)
        header = QHBoxLayout()
        header.setContentsMargins(16, 0, 12, 0)
        title = QLabel(t("captions.title"))
        title.setObjectName("cardTitle")
        self.state_indicator = StateIndicator(t)
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.state_indicator)
        self.captions = CaptionsView(self.persona_name, t)
        column.addLayout(header)
        column.addWidget(self.captions, 1)
        conversation.setMinimumWidth(320)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setHandleWidth(12)
        self.splitter.addWidget(self._stage_holder)
        self.splitter.addWidget(conversation)
        # the stage takes a little more than half; both grow and shrink in that ratio
        self.splitter.setStretchFactor(0, 11)
        self.splitter.setStretchFactor(1, 9)
        self.splitter.setSizes([DEFAULT_WIDTH * 11 // 20, DEFAULT_WIDTH * 9 // 20])

        inputs = QHBoxLayout()
        inputs.setSpacing(8)
        self.input = QLineEdit()
        self.input.setObjectName("messageInput")
        self.input.setPlaceholderText(t("input.placeholder"))
        self.input.setAccessibleName(t("input.placeholder"))
        self.input.setClearButtonEnabled(False)
        self.input.returnPressed.connect(self.send)
        self.input.textChanged.connect(self._update_buttons)
        self.send_button = QPushButton(t("input.send"))
        self.send_button.setObjectName("sendButton")
        self.send_button.setToolTip(t("input.send.tooltip"))
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send_button.setAutoDefault(False)
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton(t("input.stop"))
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setToolTip(t("input.stop.tooltip"))
        self.stop_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.stop_button.setAutoDefault(False)
        self.stop_button.clicked.connect(self.stop)
        inputs.addWidget(self.input, 1)
        inputs.addWidget(self.send_button)
        inputs.addWidget(self.stop_button)

        outer.addWidget(self.disclosure)
        outer.addWidget(self.notice_bar)
        outer.addWidget(self.splitter, 1)
        outer.addLayout(inputs)
        self.setCentralWidget(central)

        stop_key = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        stop_key.activated.connect(self.stop)
        self.input.setFocus()
        self._update_buttons()

    # ------------------------------------------------------------- public API
    @property
    def mode(self) -> AvatarMode:
        return self._mode

    @property
    def avatar_view(self) -> QWidget:
        return self._avatar_view

    def set_avatar_view(self, view: QWidget) -> None:
        """Put a real avatar renderer where the placeholder stage is.

        If ``view`` has ``set_mode(mode)`` it is told the mode as it changes; for
        everything else (visemes, audio clock) it connects to ``self.bridge``.
        """
        layout = self._stage_holder.layout()
        assert layout is not None
        layout.replaceWidget(self._avatar_view, view)
        if self._avatar_view is not self.stage:
            self._avatar_view.deleteLater()
        self._avatar_view.hide()
        self._avatar_view = view
        view.show()
        if isinstance(view, ModeView):
            view.set_mode(self._mode)

    def send(self) -> None:
        """Send what is typed (Enter or the Send button) as the visitor's turn."""
        text = self.input.text().strip()
        if not text:
            return
        self.input.clear()
        self.session.submit_text(text)

    def stop(self) -> None:
        """Cut the avatar off now (Stop button or Esc)."""
        self.session.interrupt("user")

    def show_notice(self, role: str, message: str, severity: str = "warning") -> None:
        """Show a notice in the notice bar (session notices, startup, persona loading)."""
        # "Speech recognition (faster-whisper): not installed" -> the bar names the part
        # itself, so only "faster-whisper: not installed" is left to say
        message = _ROLE_PREFIX.sub(r"\g<engine>: ", message.strip(), count=1)
        self.notice_bar.add(role, self.texts.role(role), message, severity)

    def handle_event(self, event: ev.Event) -> None:
        """One session event, on the UI thread (the bridge queues it here)."""
        captions = self.captions
        if isinstance(event, ev.ModeChanged):
            self._set_mode(event.mode)
        elif isinstance(event, ev.TurnStarted):
            captions.turn_started(event.turn_id, event.user_text)
        elif isinstance(event, ev.ReplyChunk):
            captions.reply_chunk(event.turn_id, event.text)
        elif isinstance(event, ev.ReplySentence):
            captions.reply_sentence(event.turn_id, event.text)
        elif isinstance(event, ev.PartialTranscript):
            captions.user_partial(event.text)
        elif isinstance(event, ev.FinalTranscript):
            captions.user_final(event.turn_id, event.text)
        elif isinstance(event, ev.Interrupted):
            captions.interrupted(event.turn_id, event.heard_text)
        elif isinstance(event, ev.TurnEnded):
            captions.turn_ended(event.turn_id, event.reply_text, event.interrupted)
        elif isinstance(event, ev.Notice):
            self.show_notice(event.role, event.message, event.severity)
        elif isinstance(event, ev.SessionEnded):
            self._set_mode(AvatarMode.IDLE)

    # ---------------------------------------------------------------- helpers
    def _set_mode(self, mode: AvatarMode) -> None:
        self._mode = mode
        self.state_indicator.set_mode(mode)
        self.stage.set_mode(mode)
        if self._avatar_view is not self.stage and isinstance(self._avatar_view, ModeView):
            self._avatar_view.set_mode(mode)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.send_button.setEnabled(bool(self.input.text().strip()))
        busy = self._mode in (AvatarMode.THINKING, AvatarMode.SPEAKING)
        self.stop_button.setEnabled(busy)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.bridge.detach()
        super().closeEvent(event)
