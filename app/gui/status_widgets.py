"""Small status widgets: the mode indicator, the AI-disclosure banner, the notice bar."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from app.core.events import AvatarMode
from app.gui.style import MODE_COLORS, MODE_INK, repolish
from app.gui.texts import Texts


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
        repolish(self)
        for child in self.findChildren(QWidget):
            repolish(child)


# ------------------------------------------------------------------- captions


class PrivacyIndicator(QLabel):
    """Says on screen, whenever they are on, that the camera sees and emotions are sensed.

    Hidden while the camera is off; a visitor must never be watched without a sign.
    """

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts = texts
        self.setObjectName("privacyPill")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.camera_on = False
        self.affect_on = False
        self.hide()

    def set_state(self, camera_on: bool, affect_on: bool) -> None:
        self.camera_on, self.affect_on = camera_on, affect_on and camera_on
        if not camera_on:
            self.hide()
            return
        words = [self._texts("privacy.camera")]
        if self.affect_on:
            words.append(self._texts("privacy.affect"))
        text = " · ".join(html.escape(w) for w in words)
        self.setText(f'<span style="color:#DC2626">●</span>&nbsp;{text}')
        self.setToolTip(self._texts("privacy.tooltip"))
        self.setAccessibleName(" ".join(words))
        self.show()


class InfoCard(QFrame):
    """A persona's info card the avatar chose to show (hours, a map note): stays until
    the visitor closes it or another card replaces it."""

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("infoCard")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 8, 10)
        self.label = QLabel()
        self.label.setObjectName("infoCardText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        close = QToolButton()
        close.setObjectName("noticeDismiss")
        close.setText("✕")
        close.setToolTip(texts("notice.dismiss"))
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.card = ""
        self.hide()

    def show_card(self, card: str, title: str, body: str) -> None:
        self.card = card
        self.label.setText(
            f"<b>{html.escape(title)}</b><br>{html.escape(body).replace(chr(10), '<br>')}"
        )
        self.setAccessibleName(f"{title}. {body}")
        self.show()
