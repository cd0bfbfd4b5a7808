"""Microphone controls: hands-free or push-to-talk, the hold button, and mute.

The widget only turns clicks into calls on a headless
:class:`~app.core.microphone.Microphone`; it never touches audio itself. Without a
microphone the controls stay visible but disabled, with the reason as their tooltip, so
a visitor sees why speaking does nothing and types instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QButtonGroup, QHBoxLayout, QPushButton, QWidget

from app.core.microphone import MicMode, Microphone
from app.gui.texts import Texts


class MicControls(QWidget):
    """``MicControls(texts)``; ``attach(mic)`` enables it; ``on_mode`` hears every change."""

    def __init__(self, texts: Texts, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.texts = texts
        self.mic: Microphone | None = None
        self.on_mode: Callable[[MicMode], None] | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.hands_free = self._button("micHandsFree", "mic.hands_free", checkable=True)
        self.push_to_talk = self._button("micPushToTalk", "mic.push_to_talk", checkable=True)
        self.hold = self._button("micHold", "mic.hold")
        self.mute = self._button("micMute", "mic.mute", checkable=True)
        self._modes = QButtonGroup(self)
        self._modes.setExclusive(True)
        self._modes.addButton(self.hands_free)
        self._modes.addButton(self.push_to_talk)
        self.hands_free.setChecked(True)
        self.hands_free.clicked.connect(lambda: self._choose())
        self.push_to_talk.clicked.connect(lambda: self._choose())
        self.mute.toggled.connect(lambda _checked: self._choose())
        self.hold.pressed.connect(self._pressed)
        self.hold.released.connect(self._released)
        segmented = QHBoxLayout()  # the two modes read as one switch
        segmented.setSpacing(0)
        segmented.addWidget(self.hands_free)
        segmented.addWidget(self.push_to_talk)
        layout.addLayout(segmented)
        layout.addSpacing(6)
        layout.addWidget(self.hold)
        layout.addStretch(1)
        layout.addWidget(self.mute)
        self.set_unavailable(None)

    def _button(self, name: str, key: str, *, checkable: bool = False) -> QPushButton:
        button = QPushButton(self.texts(key))
        button.setObjectName(name)
        button.setToolTip(self.texts(f"{key}.tooltip"))
        button.setCheckable(checkable)
        button.setAutoDefault(False)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        return button

    # ------------------------------------------------------------ public API
    def attach(self, mic: Microphone) -> None:
        """Control ``mic``; the buttons show its current mode."""
        self.mic = mic
        self.set_mode(mic.mode)
        self.setEnabled(True)
        self.setToolTip("")

    def set_unavailable(self, reason: str | None) -> None:
        """No microphone: disable everything and say why (None: the generic reason)."""
        self.mic = None
        self.setEnabled(False)
        self.setToolTip(reason or self.texts("mic.unavailable"))

    def set_mode(self, mode: MicMode) -> None:
        """Show ``mode`` without telling anyone (used when restoring a saved choice)."""
        self.mute.blockSignals(True)
        self.mute.setChecked(mode is MicMode.MUTED)
        self.mute.blockSignals(False)
        if mode is MicMode.PUSH_TO_TALK:
            self.push_to_talk.setChecked(True)
        elif mode is MicMode.HANDS_FREE:
            self.hands_free.setChecked(True)
        self._refresh()

    @property
    def mode(self) -> MicMode:
        if self.mute.isChecked():
            return MicMode.MUTED
        return MicMode.PUSH_TO_TALK if self.push_to_talk.isChecked() else MicMode.HANDS_FREE

    # --------------------------------------------------------------- helpers
    def _choose(self) -> None:
        mode = self.mode
        if self.mic is not None:
            self.mic.set_mode(mode)
        self._refresh()
        if self.on_mode is not None:
            self.on_mode(mode)

    def _refresh(self) -> None:
        muted = self.mute.isChecked()
        self.hold.setEnabled(self.push_to_talk.isChecked() and not muted)
        self.hands_free.setEnabled(not muted)
        self.push_to_talk.setEnabled(not muted)

    def _pressed(self) -> None:
        if self.mic is not None:
            self.mic.press()

    def _released(self) -> None:
        if self.mic is not None:
            self.mic.release()
