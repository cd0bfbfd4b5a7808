"""Safety and tools as the operator and the visitor see them in the window."""

from __future__ import annotations

import os
import sys

import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.settings import SafetySettings
from app.core.events import AvatarMode
from app.core.fakes import FakeAudioSink, FakeChat, FakeSynthesizer, FakeToolChat
from app.core.registry import Roles
from app.core.session import Session
from app.gui.main_window import MainWindow
from dialog.persona import load_persona
from dialog.tools import ToolCall

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]


def open_window(qtbot: QtBot, chat: FakeChat, language: str) -> tuple[MainWindow, Session]:
    persona = load_persona("default")
    roles = Roles(
        chat=chat, synthesizer=FakeSynthesizer(seconds_per_word=0.01), sink=FakeAudioSink()
    )
    session = Session(
        roles, persona, language=language, safety=SafetySettings(crisis_line_ko="109")
    )
    window = MainWindow(session, persona, language)
    qtbot.addWidget(window)
    window.show()
    session.start()
    qtbot.waitUntil(lambda: window.mode is AvatarMode.LISTENING, timeout=15_000)
    return window, session


def send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    window.input.setText(text)
    qtbot.keyClick(window.input, Qt.Key.Key_Return)


def test_a_crisis_message_gets_the_protocol_and_alerts_staff_on_screen(qtbot: QtBot) -> None:
    chat = FakeChat("This reply must never be shown.")
    window, session = open_window(qtbot, chat, "ko")
    try:
        send(qtbot, window, "요즘 너무 힘들어서 죽고 싶어요")
        qtbot.waitUntil(
            lambda: any("109" in t for t in window.captions.texts("avatar")), timeout=15_000
        )
        assert not any("never be shown" in t for t in window.captions.texts("avatar"))
        qtbot.waitUntil(lambda: bool(window.notice_bar.notices()), timeout=5_000)
        titles = [title for title, _ in window.notice_bar.notices()]
        assert "직원" in titles
        assert window.notice_bar.property("severity") == "error"
    finally:
        session.close()


def test_a_card_shown_by_the_avatar_and_a_goodbye_that_ends_the_visit(qtbot: QtBot) -> None:
    chat = FakeToolChat(
        rounds=[
            [ToolCall("c1", "show_info", '{"card": "floor-map"}')],
            ["Here is the floor guide."],
            [ToolCall("c2", "end_session", "{}")],
            ["Goodbye, take care."],
        ]
    )
    window, session = open_window(qtbot, chat, "en")
    try:
        send(qtbot, window, "Can you show me the floors?")
        qtbot.waitUntil(lambda: window.info_card.isVisible(), timeout=15_000)
        assert window.info_card.card == "floor-map"
        assert "Floor guide" in window.info_card.label.text()
        qtbot.waitUntil(lambda: len(session.history()) >= 2, timeout=10_000)

        send(qtbot, window, "That's all, thank you. Bye!")
        qtbot.waitUntil(lambda: window.mode is AvatarMode.IDLE, timeout=15_000)
        assert session.history() == [], "the visit ended after the goodbye: forgotten"
        assert not window.info_card.isVisible()
    finally:
        session.close()
