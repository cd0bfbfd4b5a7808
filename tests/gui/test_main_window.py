"""The Qt main window driven by a real session built from fakes (pytest-qt, needs a display).

Run under Xvfb (``DISPLAY=:99``); without any display the tests fall back to Qt's
``offscreen`` platform, which is enough for widgets and QPainter.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from app.config.settings import Settings
from app.core import events as ev
from app.core.events import AvatarMode
from app.core.fakes import FakeAudioSink, FakeChat, FakeSynthesizer
from app.core.registry import Roles
from app.core.session import Session
from app.core.types import WordTiming
from app.gui.event_bridge import EventBridge
from app.gui.launch import GEOMETRY_KEY, run_gui
from app.gui.main_window import MainWindow
from app.gui.texts import CATALOG, Texts
from dialog.persona import Persona, load_persona
from tests.support.events import EventLog

pytestmark = [pytest.mark.gui, pytest.mark.timeout(30)]

PERSONA: Persona = load_persona("default")
REPLY_EN = "The pharmacy is on the ground floor. Turn left after the main entrance."
REPLY_KO = "약국은 1층에 있습니다. 정문을 지나 왼쪽으로 가세요."
CHAT_DOWN = "Cannot reach the language model at http://127.0.0.1:9/v1 (connection refused)."


@dataclass
class Rig:
    window: MainWindow
    session: Session
    chat: FakeChat
    log: EventLog


OpenWindow = Callable[..., Rig]


@pytest.fixture
def open_window(qtbot: QtBot) -> Iterator[OpenWindow]:
    sessions: list[Session] = []

    def open_(chat: FakeChat, language: str = "en", greet: bool = False) -> Rig:
        roles = Roles(
            chat=chat,
            synthesizer=FakeSynthesizer(seconds_per_word=0.02),
            sink=FakeAudioSink(),
        )
        session = Session(roles, PERSONA, language=language)
        log = EventLog()
        session.subscribe(log)
        window = MainWindow(session, PERSONA, language)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        session.start(greet=greet)
        sessions.append(session)
        qtbot.waitUntil(lambda: window.mode is AvatarMode.LISTENING)
        return Rig(window, session, chat, log)

    yield open_
    for session in sessions:
        session.close()


def type_and_enter(qtbot: QtBot, window: MainWindow, text: str) -> None:
    window.input.setFocus()
    qtbot.keyClicks(window.input, text)
    assert window.input.text() == text
    qtbot.keyClick(window.input, Qt.Key.Key_Return)


def captions(window: MainWindow) -> list[tuple[str, str]]:
    return [(c.speaker, c.shown) for c in window.captions.entries()]


def last_reply(window: MainWindow) -> str:
    replies = window.captions.texts("avatar")
    return replies[-1] if replies else ""


def test_enter_shows_the_user_caption_then_the_streamed_reply(
    qtbot: QtBot, open_window: OpenWindow, tmp_path: Path
) -> None:
    rig = open_window(FakeChat(reply=REPLY_EN, token_delay=0.01))
    window = rig.window
    assert not window.send_button.isEnabled()  # nothing typed yet

    type_and_enter(qtbot, window, "Where is the pharmacy?")

    assert window.input.text() == ""  # sent and cleared
    qtbot.waitUntil(lambda: ("user", "Where is the pharmacy?") in captions(window))
    qtbot.waitUntil(lambda: ("avatar", REPLY_EN) in captions(window))
    assert captions(window) == [("user", "Where is the pharmacy?"), ("avatar", REPLY_EN)]
    qtbot.waitUntil(lambda: window.mode is AvatarMode.LISTENING)
    assert rig.log.of(ev.TurnEnded)[-1].interrupted is False
    assert window.state_indicator.mode_text() == "Listening"

    shot = tmp_path / "main_window.png"
    assert window.grab().save(str(shot))
    assert not QImage(str(shot)).isNull()


def test_the_disclosure_banner_is_always_visible(qtbot: QtBot, open_window: OpenWindow) -> None:
    rig = open_window(FakeChat(reply="Hello."), greet=True)
    window = rig.window
    assert window.windowTitle() == "dhuman — Hana"
    assert window.disclosure.isVisible()
    assert window.disclosure.text() == PERSONA.disclosure.get("en")

    window.show_notice("tts", "Speech synthesis is unavailable; replies are shown as text.")
    type_and_enter(qtbot, window, "Hi")
    qtbot.waitUntil(lambda: ("avatar", "Hello.") in captions(window))
    window.resize(800, 600)
    qtbot.wait(20)
    assert window.disclosure.isVisible()
    label = window.disclosure.label
    assert label.height() >= label.heightForWidth(label.width())  # the whole text, not clipped
    assert not window.disclosure.visibleRegion().isEmpty()


def test_a_korean_window_speaks_korean(qtbot: QtBot, open_window: OpenWindow) -> None:
    rig = open_window(FakeChat(reply=REPLY_KO), language="ko")
    window = rig.window
    assert window.windowTitle() == "dhuman — 하나"
    assert window.send_button.text() == "보내기"
    assert window.stop_button.text() == "멈추기"
    assert window.state_indicator.mode_text() == "듣는 중"
    assert window.input.placeholderText() == CATALOG["ko"]["input.placeholder"]
    assert window.disclosure.text() == PERSONA.disclosure.get("ko")

    window.input.setText("약국이 어디에 있나요?")
    qtbot.keyClick(window.input, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: ("avatar", REPLY_KO) in captions(window))
    assert captions(window)[0] == ("user", "약국이 어디에 있나요?")
    speakers = [label.text() for label in window.captions.findChildren(QLabel, "bubbleSpeaker")]
    assert sorted(speakers) == sorted(["나", "하나"])


def test_a_failing_model_shows_a_notice_and_the_next_message_works(
    qtbot: QtBot, open_window: OpenWindow
) -> None:
    chat = FakeChat(reply="I'm here. How can I help?", error=RuntimeError(CHAT_DOWN))
    rig = open_window(chat)
    window = rig.window
    assert not window.notice_bar.isVisible()
    face_size = window.stage.size()

    type_and_enter(qtbot, window, "Hello?")

    qtbot.waitUntil(window.notice_bar.isVisible)
    # the notice takes its room from the captions: the face keeps its size (no jump, and
    # no fresh paint of a resized face)
    QApplication.processEvents()
    assert window.stage.size() == face_size
    assert window.notice_bar.geometry().height() > 20
    grab = os.environ.get("DHUMAN_SHOT_DIR")
    if grab:  # to look at the notice in place
        window.grab().save(str(Path(grab) / "window-notice.png"))
    assert window.notice_bar.notices() == [("Language model", CHAT_DOWN)]
    assert "Cannot reach the language model" in window.notice_bar.label.text()
    fallback = PERSONA.fallback.get("en")
    qtbot.waitUntil(lambda: ("avatar", fallback) in captions(window))
    qtbot.waitUntil(lambda: window.mode is AvatarMode.LISTENING)

    chat.error = None  # the server is back
    type_and_enter(qtbot, window, "Are you there?")
    qtbot.waitUntil(lambda: ("avatar", "I'm here. How can I help?") in captions(window))
    assert [text for who, text in captions(window) if who == "user"] == ["Hello?", "Are you there?"]

    qtbot.mouseClick(window.notice_bar.dismiss_button, Qt.MouseButton.LeftButton)
    assert not window.notice_bar.isVisible()
    assert window.disclosure.isVisible()


def test_stop_during_a_long_reply_ends_the_turn_as_interrupted(
    qtbot: QtBot, open_window: OpenWindow
) -> None:
    long_reply = " ".join(f"Step {n} of the long way to the garden." for n in range(1, 40))
    chat = FakeChat(reply=long_reply, token_delay=0.03)
    rig = open_window(chat)
    window = rig.window
    assert not window.stop_button.isEnabled()

    type_and_enter(qtbot, window, "How do I get to the garden?")
    qtbot.waitUntil(lambda: len(last_reply(window).split()) >= 3)  # streaming, far from done
    assert window.stop_button.isEnabled()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)

    ended = rig.log.wait_for(ev.TurnEnded, timeout=5.0)
    assert ended.interrupted
    assert rig.log.wait_for(ev.Interrupted).reason == "user"
    assert chat.cancelled.is_set()
    qtbot.waitUntil(lambda: window.captions.entries()[-1].interrupted)
    qtbot.waitUntil(lambda: window.mode is AvatarMode.LISTENING)
    assert not window.stop_button.isEnabled()
    shown = window.captions.entries()[-1].shown
    assert 0 < len(shown) < len(long_reply)


def test_captions_follow_the_turn_events(qtbot: QtBot, open_window: OpenWindow) -> None:
    """Scripted lines, streamed chunks, late data after the end: shown once, in order."""
    window = open_window(FakeChat()).window
    window.session.close()  # drive the window by hand from here on
    handle = window.handle_event
    handle(ev.TurnStarted(turn_id=7, user_text=""))
    handle(ev.ReplySentence(turn_id=7, text="Hello, I'm Hana."))
    handle(ev.TurnEnded(turn_id=7, reply_text="Hello, I'm Hana."))
    handle(ev.PartialTranscript(text="where is"))
    assert captions(window)[-1] == ("user", "where is")
    assert window.captions.entries()[-1].provisional
    handle(ev.FinalTranscript(turn_id=8, text="where is the lift"))
    handle(ev.TurnStarted(turn_id=8, user_text="where is the lift"))
    for chunk in ["The lift", " is on", " your right."]:
        handle(ev.ReplyChunk(turn_id=8, text=chunk))
    handle(ev.ReplySentence(turn_id=8, text="The lift is on your right."))
    handle(ev.TurnEnded(turn_id=8, reply_text="The lift is on your right."))
    handle(ev.ReplyChunk(turn_id=8, text=" late"))  # after the end: ignored
    assert captions(window) == [
        ("avatar", "Hello, I'm Hana."),
        ("user", "where is the lift"),
        ("avatar", "The lift is on your right."),
    ]
    assert not any(c.provisional for c in window.captions.entries())


def spoken(turn: int, start_s: float, text: str, word_s: list[float]) -> ev.AudioOut:
    rate = 16000
    words = tuple(WordTiming(w, round(at * rate), round(at * rate) + 800) for w, at in
                  zip(text.split(), word_s, strict=True))  # fmt: skip
    length = round((word_s[-1] + 0.3) * rate)
    return ev.AudioOut(
        turn_id=turn,
        samples=np.zeros(length, np.float32),
        sample_rate=rate,
        start_sample=round(start_s * rate),
        text=text,
        words=words,
    )


def test_spoken_replies_show_as_they_are_heard(qtbot: QtBot, open_window: OpenWindow) -> None:
    """Subtitles on the audio clock: written text waits until the voice reaches it."""
    window = open_window(FakeChat()).window
    window.session.close()  # drive the window by hand from here on
    heard: list[float | None] = [None]
    window.captions.set_audio_clock(lambda: heard[0])
    handle = window.handle_event
    handle(ev.TurnStarted(turn_id=3, user_text="where is the lift"))
    for chunk in ["The lift is on", " your right.", " Take it to floor two."]:
        handle(ev.ReplyChunk(turn_id=3, text=chunk))
    handle(ev.ReplySentence(turn_id=3, text="The lift is on your right.", index=0))
    assert last_reply(window) == ""  # written, not yet spoken: the bubble waits
    handle(spoken(3, 0.0, "The lift is on your right.", [0.0, 0.2, 0.4, 0.5, 0.7, 0.9]))
    heard[0] = 0.05
    qtbot.waitUntil(lambda: last_reply(window) == "The")
    heard[0] = 0.45
    qtbot.waitUntil(lambda: last_reply(window) == "The lift is")
    handle(spoken(3, 1.2, "Take it to floor two.", [0.0, 0.2, 0.3, 0.5, 0.7]))
    heard[0] = 1.45
    qtbot.waitUntil(lambda: last_reply(window) == "The lift is on your right. Take it")
    heard[0] = 0.0  # the sink's clock restarts at the turn's end: nothing is taken back
    qtbot.wait(100)
    assert last_reply(window) == "The lift is on your right. Take it"
    handle(ev.TurnEnded(turn_id=3, reply_text="The lift is on your right. Take it to floor two."))
    assert last_reply(window) == "The lift is on your right. Take it to floor two."


def test_the_bridge_delivers_on_the_ui_thread(qtbot: QtBot) -> None:
    bridge = EventBridge()
    seen: list[tuple[ev.Event, bool]] = []
    bridge.connect_slot(
        lambda event: seen.append((event, threading.current_thread() is threading.main_thread()))
    )
    sent = ev.Notice(role="chat", message="x")
    worker = threading.Thread(target=bridge.publish, args=(sent,))
    worker.start()
    worker.join()
    assert seen == []  # queued, not called in the emitting thread
    qtbot.waitUntil(lambda: seen == [(sent, True)])


def test_texts_cover_both_languages() -> None:
    assert set(CATALOG["ko"]) == set(CATALOG["en"])
    assert Texts("fr")("input.send") == "Send"
    assert Texts("ko")("window.title", name="하나") == "dhuman — 하나"
    assert Texts("ko").role("chat") == "언어 모델"
    assert Texts("en").role("camera") == "Camera"
    assert Texts("en").role("telepathy") == "Notice"


def test_run_gui_greets_then_closes_the_session_and_keeps_the_geometry(
    qtbot: QtBot, tmp_path: Path
) -> None:
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path))
    fake = {"engine": "fake"}
    settings = Settings.model_validate(
        {
            "general": {"persona": str(tmp_path / "missing.yaml")},
            "llm": fake,
            "asr": fake,
            "vad": fake,
            "tts": fake,
            "audio": fake,
        }
    )
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    state: dict[str, Any] = {}

    def windows() -> list[MainWindow]:
        return [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]

    def check() -> None:
        found = windows()
        shown = (
            [c.shown for c in found[0].captions.entries() if c.speaker == "avatar"] if found else []
        )
        state.setdefault("seen", []).extend(shown[:1])
        greeted = shown and shown[0].endswith(PERSONA.greeting.get("en"))
        if not greeted:
            QTimer.singleShot(20, check)
            return
        window = found[0]
        state["session"] = window.session
        state["notices"] = window.notice_bar.notices()
        state["greeting"] = window.captions.texts("avatar")[0]
        window.close()

    QTimer.singleShot(0, check)
    # a safety net that never hangs the suite; stopped after, since a stray quit() would
    # make every later event loop in this process return at once
    safety_net = QTimer(singleShot=True, interval=10_000)
    safety_net.timeout.connect(app.quit)
    safety_net.start()
    try:
        assert run_gui(settings) == 0
    finally:
        safety_net.stop()

    assert PERSONA.greeting.get("en") in str(state["greeting"])
    # the disclosure and greeting were spoken (by the fake voice): the caption grew with
    # the voice, word by word, rather than appearing whole
    whole = str(state["greeting"])
    growing = [text for text in state["seen"] if text and text != whole]
    assert len(set(growing)) >= 5 and all(whole.startswith(text) for text in growing)
    assert [title for title, _ in state["notices"]] == ["Persona"]
    session = state["session"]
    assert isinstance(session, Session)
    assert session.mode is AvatarMode.IDLE  # closed
    saved = QSettings("dhuman", "dhuman").value(GEOMETRY_KEY)
    assert saved is not None


def test_a_real_avatar_view_takes_the_stage_and_is_told_the_mode(
    qtbot: QtBot, open_window: OpenWindow
) -> None:
    class Renderer(QLabel):
        def __init__(self) -> None:
            super().__init__("renderer")
            self.modes: list[AvatarMode] = []

        def set_mode(self, mode: AvatarMode) -> None:
            self.modes.append(mode)

    rig = open_window(FakeChat(reply="Sure."))
    window = rig.window
    view = Renderer()
    window.set_avatar_view(view)
    assert window.avatar_view is view
    assert view.isVisible()
    assert not window.stage.isVisible()
    assert view.modes == [AvatarMode.LISTENING]
    type_and_enter(qtbot, window, "Hi")
    qtbot.waitUntil(lambda: AvatarMode.SPEAKING in view.modes)
    qtbot.waitUntil(lambda: view.modes[-1] is AvatarMode.LISTENING)
