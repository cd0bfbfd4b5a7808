"""Microphone controls in the main window over a real Session of fakes."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.config.settings import Settings, load_file_settings
from app.core.fakes import (
    FakeAudioSink,
    FakeAudioSource,
    FakeChat,
    FakeSynthesizer,
    FakeTranscriber,
    FakeVoiceActivity,
)
from app.core.microphone import MicMode
from app.core.registry import Roles
from app.core.session import Session
from app.gui.launch import attach_microphone
from app.gui.main_window import MainWindow
from dialog.persona import load_persona

pytestmark = [pytest.mark.gui, pytest.mark.timeout(30)]
RATE = 16000


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DHUMAN_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.fixture
def window_with_mic(qtbot: QtBot, config_dir: Path) -> Iterator[tuple[MainWindow, Roles]]:
    roles = Roles(
        chat=FakeChat(reply="Radiology is on the second floor."),
        transcriber=FakeTranscriber("where is radiology"),
        vad=FakeVoiceActivity(start_ms=64, stop_ms=300),
        synthesizer=FakeSynthesizer(seconds_per_word=0.02),
        sink=FakeAudioSink(),
        # a quiet, endless microphone: only push-to-talk can make a turn out of it
        source=FakeAudioSource(np.full(RATE * 60, 0.01, np.float32)),
    )
    persona = load_persona("default")
    session = Session(roles, persona)
    window = MainWindow(session, persona, "en")
    qtbot.addWidget(window)
    window.show()
    session.start()
    yield window, roles
    source = roles.source
    assert source is not None
    source.stop()
    session.close()


def test_push_to_talk_turns_a_held_button_into_a_turn_and_remembers_the_choice(
    qtbot: QtBot, window_with_mic: tuple[MainWindow, Roles], config_dir: Path
) -> None:
    window, roles = window_with_mic
    settings = Settings()
    mic = attach_microphone(window, roles, settings)
    assert mic is not None and mic.mode is MicMode.HANDS_FREE
    controls = window.mic_controls
    assert controls.isEnabled() and not controls.hold.isEnabled()

    qtbot.mouseClick(controls.push_to_talk, Qt.MouseButton.LeftButton)
    assert mic.mode is MicMode.PUSH_TO_TALK and controls.hold.isEnabled()
    assert load_file_settings().audio.mic_mode == "push-to-talk"

    qtbot.mousePress(controls.hold, Qt.MouseButton.LeftButton)
    qtbot.wait(300)
    assert mic.holding
    qtbot.mouseRelease(controls.hold, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ("user", "where is radiology") in captions(window))
    qtbot.waitUntil(lambda: "Radiology is on the second floor." in window.captions.texts("avatar"))


def test_mute_stops_listening_and_disables_the_mode_buttons(
    qtbot: QtBot, window_with_mic: tuple[MainWindow, Roles], config_dir: Path
) -> None:
    window, roles = window_with_mic
    mic = attach_microphone(window, roles, Settings())
    assert mic is not None
    controls = window.mic_controls
    qtbot.mouseClick(controls.mute, Qt.MouseButton.LeftButton)
    assert mic.mode is MicMode.MUTED
    assert not controls.hands_free.isEnabled() and not controls.hold.isEnabled()
    assert load_file_settings().audio.mic_mode == "muted"
    qtbot.mouseClick(controls.mute, Qt.MouseButton.LeftButton)
    assert mic.mode is MicMode.HANDS_FREE


def test_a_saved_mode_is_restored_and_no_microphone_says_why(
    qtbot: QtBot, window_with_mic: tuple[MainWindow, Roles], config_dir: Path
) -> None:
    window, roles = window_with_mic
    settings = Settings()
    settings.audio.mic_mode = "push-to-talk"
    mic = attach_microphone(window, roles, settings)
    assert mic is not None and mic.mode is MicMode.PUSH_TO_TALK
    assert window.mic_controls.push_to_talk.isChecked()

    assert attach_microphone(window, Roles(), settings) is None
    assert not window.mic_controls.isEnabled()
    assert "type" in window.mic_controls.toolTip()


def captions(window: MainWindow) -> list[tuple[str, str]]:
    return [(c.speaker, c.shown) for c in window.captions.entries()]
