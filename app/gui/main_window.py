"""The main window: the Qt shell around a headless :class:`~app.core.session.Session`.

Layout, top to bottom: the persistent AI-disclosure banner, then the avatar stage
beside the conversation column (its header, the notice bar, hidden until a part of the
app has something to say, and the captions), then the text input with Send and Stop.
The notice bar sits in the column, not across the window: a notice appearing there
takes its height from the captions, never from the face (the face jumped in size, and
a resized face is painted afresh, the slowest frame of a session).

The window owns no conversation logic. It subscribes to the session through an
:class:`~app.gui.event_bridge.EventBridge`, so every handler here runs on the UI
thread, and it calls only the session's thread-safe inputs (``submit_text``,
``interrupt``). The avatar stage is a placeholder painted with QPainter until a real
renderer plugs in through :meth:`MainWindow.set_avatar_view`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QCloseEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core import events as ev
from app.core.events import AvatarMode
from app.core.session import Session
from app.gui.avatar_stage import AvatarStage, ModeView
from app.gui.captions import CaptionsView
from app.gui.event_bridge import EventBridge
from app.gui.mic_controls import MicControls
from app.gui.status_widgets import (
    DisclosureBanner,
    InfoCard,
    NoticeBar,
    PrivacyIndicator,
    StateIndicator,
)
from app.gui.style import DEFAULT_HEIGHT, DEFAULT_WIDTH, MIN_HEIGHT, MIN_WIDTH, STYLE
from app.gui.texts import Texts
from dialog.persona import Persona
from vision import events as vev

log = logging.getLogger(__name__)

# "Language model (openai): ..." -> "openai: ...": the bar already names the part
_ROLE_PREFIX = re.compile(r"^[A-Za-z][A-Za-z ]{1,40} \((?P<engine>[^()\n]{1,40})\): ")


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
        self._end_after_turn = False  # the avatar said goodbye (end_session): end the visit
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
        self.privacy = PrivacyIndicator(t)
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.privacy)
        header.addWidget(self.state_indicator)
        self.captions = CaptionsView(self.persona_name, t)
        self.info_card = InfoCard(t)
        notices = QHBoxLayout()
        notices.setContentsMargins(10, 4, 10, 0)
        notices.addWidget(self.notice_bar)
        column.addLayout(header)
        column.addLayout(notices)
        column.addWidget(self.info_card)
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
        self.send_button = self._button("sendButton", "input.send", self.send)
        self.stop_button = self._button("stopButton", "input.stop", self.stop)
        inputs.addWidget(self.input, 1)
        inputs.addWidget(self.send_button)
        inputs.addWidget(self.stop_button)
        # disabled until the app attaches a working microphone (see app.gui.launch)
        self.mic_controls = MicControls(t)

        outer.addWidget(self.disclosure)
        outer.addWidget(self.splitter, 1)
        outer.addWidget(self.mic_controls)
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

    def _button(self, name: str, text_key: str, slot: Callable[[], None]) -> QPushButton:
        """A push button labelled and explained in the window's language."""
        button = QPushButton(self.texts(text_key))
        button.setObjectName(name)
        button.setToolTip(self.texts(f"{text_key}.tooltip"))
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.setAutoDefault(False)
        button.clicked.connect(slot)
        return button

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
        elif isinstance(event, ev.AudioOut):
            captions.audio_out(event)
        elif isinstance(event, ev.PartialTranscript):
            captions.user_partial(event.text)
        elif isinstance(event, ev.FinalTranscript):
            captions.user_final(event.turn_id, event.text)
        elif isinstance(event, ev.Interrupted):
            captions.interrupted(event.turn_id, event.heard_text)
        elif isinstance(event, ev.TurnEnded):
            captions.turn_ended(event.turn_id, event.reply_text, event.interrupted)
            if self._end_after_turn:
                self._end_after_turn = False
                self.info_card.hide()
                self.session.end_visit()
        elif isinstance(event, ev.StaffAlert):
            serious = event.severity in ("urgent", "high")
            key = f"alert.{event.severity}" if serious else "alert.info"
            log.warning("staff alert (%s, %s): %s", event.kind, event.severity, event.reason)
            self.show_notice("staff", self.texts(key), "error" if serious else "info")
        elif isinstance(event, ev.ShowInfo):
            self.info_card.show_card(event.card, event.title, event.body)
        elif isinstance(event, ev.SessionEndRequested):
            self._end_after_turn = True
        elif isinstance(event, ev.Notice):
            self.show_notice(event.role, event.message, event.severity)
        elif isinstance(event, ev.SessionEnded):
            self._set_mode(AvatarMode.IDLE)
        elif isinstance(event, vev.IndicatorChanged):
            self.privacy.set_state(event.camera_on, event.affect_on)
        elif isinstance(event, vev.CameraStatusChanged) and event.status in ("lost", "unavailable"):
            self.show_notice("camera", event.detail or event.status)
        elif isinstance(event, vev.CameraStatusChanged) and event.status == "recovered":
            self.show_notice("camera", event.detail or event.status, "info")

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
