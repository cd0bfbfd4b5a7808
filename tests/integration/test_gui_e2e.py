"""The whole product on its embedded defaults, as a visitor meets it.

A real English recording is played into the virtual microphone; the real window (Xvfb)
with real Silero, faster-whisper, the offline FAQ chat (no model server here), Piper and
the sounddevice speaker must show the visitor's caption, then a reply caption, the reply
must be heard on ``spk.monitor`` (transcribed back), and the mouth region of the screen
must move while the reply plays and rest when it does not.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.support.pulse import pulse_problem
from tests.support.speech_clips import load_clips, normalize, wer

pytestmark = [pytest.mark.slow, pytest.mark.gui, pytest.mark.audio, pytest.mark.timeout(240)]

if pulse_problem() is not None or not os.environ.get("DISPLAY"):
    pytest.skip(
        f"needs Xvfb and the virtual sound devices ({pulse_problem() or 'no DISPLAY'})",
        allow_module_level=True,
    )

from PySide6.QtCore import QTimer  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from app.config.settings import Settings  # noqa: E402
from app.core import events as ev  # noqa: E402
from app.core.events import AvatarMode  # noqa: E402
from app.core.registry import build_roles  # noqa: E402
from app.core.session import Session  # noqa: E402
from app.gui.avatar_setup import install_avatar  # noqa: E402
from app.gui.launch import attach_microphone, pace_captions  # noqa: E402
from app.gui.main_window import MainWindow  # noqa: E402
from dialog.persona import load_persona  # noqa: E402
from tests.support.events import EventLog  # noqa: E402
from tests.support.monitor import MonitorRecorder  # noqa: E402
from tests.support.screen import MouthWatch  # noqa: E402

CLIP = "clone-test.wav"


@pytest.fixture
def app_on_defaults(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MainWindow, Session, EventLog]]:
    monkeypatch.setenv("DHUMAN_CONFIG_DIR", str(tmp_path / "config"))
    settings = Settings()
    settings.llm.base_url = "http://127.0.0.1:9/v1"  # no model server: the FAQ answers
    roles = build_roles(settings)
    assert not [p for p in roles.problems if p.role != "chat"], roles.problems
    persona = load_persona("default")
    session = Session(roles, persona)
    log = EventLog()
    session.subscribe(log)
    window = MainWindow(session, persona, "en")
    qtbot.addWidget(window)
    window.resize(1100, 720)
    link = install_avatar(window, session, roles, settings)
    assert link is not None
    pace_captions(window, roles, link)
    window.show()
    qtbot.waitExposed(window)
    session.start()
    mic = attach_microphone(window, roles, settings)
    assert mic is not None, "the virtual microphone must open"
    yield window, session, log
    mic.stop()
    link.close()
    session.close()
    if roles.sink is not None and hasattr(roles.sink, "close"):
        roles.sink.close()


def test_spoken_question_gets_captions_a_heard_reply_and_a_moving_mouth(
    qtbot: QtBot, tmp_path: Path, app_on_defaults: tuple[MainWindow, Session, EventLog]
) -> None:
    window, session, log = app_on_defaults
    clip = next((c for c in load_clips() if c.name == CLIP), None)
    if clip is None:
        pytest.skip("the moonshine-voice speech carrier is not installed")
    watch = MouthWatch(window.avatar_view)
    grabber = QTimer(interval=20)
    grabber.timeout.connect(watch.grab)
    subtitles: list[str] = []  # the avatar's caption as shown, frame by frame
    grabber.timeout.connect(lambda: subtitles.extend(window.captions.texts("avatar")[-1:]))
    grabber.start()
    qtbot.wait(500)
    with MonitorRecorder(tmp_path) as recorder:
        subprocess.run(["paplay", "--device=micfeed", str(clip.path)], check=True, timeout=30)
        qtbot.waitUntil(lambda: bool(window.captions.texts("user")), timeout=60_000)
        qtbot.waitUntil(lambda: bool(log.of(ev.AudioOut)), timeout=60_000)
        qtbot.waitUntil(
            lambda: bool(log.of(ev.TurnEnded)) and window.mode is AvatarMode.LISTENING,
            timeout=90_000,
        )
        qtbot.wait(1200)  # the mouth at rest after the reply
    grabber.stop()

    heard_user = " ".join(window.captions.texts("user"))
    assert wer(clip.text, heard_user) <= 0.25, heard_user
    replies = [e for e in log.of(ev.TurnEnded) if not e.interrupted and e.reply_text]
    assert replies, "a reply caption was shown and finished"
    reply = replies[-1]
    assert reply.reply_text in " ".join(window.captions.texts("avatar"))
    # the subtitle followed the voice: it grew word by word rather than appearing whole
    growing = {text for text in subtitles if text and reply.reply_text.startswith(text)}
    assert len(growing - {reply.reply_text}) >= 3, sorted(growing)

    # the reply was heard: transcribe what the speaker played
    recording = recorder.recording
    assert recording is not None
    audio_out = [e for e in log.of(ev.AudioOut) if e.turn_id == reply.turn_id]
    start, end = audio_out[0].ts, reply.ts
    heard = recording.between(start - 0.2, end + 0.5)
    assert np.sqrt(np.mean(heard**2)) > 1e-3, "the speaker played the reply"
    transcriber = session.roles.transcriber
    assert transcriber is not None
    rate16 = heard[:: recording.rate // 16000].astype(np.float32)
    back = transcriber.transcribe(rate16, 16000, "en").text
    assert wer(reply.reply_text, back) <= 0.35, (reply.reply_text, back)

    # the mouth on screen moved while the reply played, and rested afterwards
    speaking = watch.level_change_between(start + 0.2, end - 0.2)
    resting = watch.level_change_between(end + 0.3, end + 1.1)
    # (mean change per frame: it falls when a loaded machine draws fewer frames)
    assert speaking > 0.04 and speaking > 5 * resting, (speaking, resting)
    watch.shots[len(watch.shots) // 2].save(
        os.environ.get("DHUMAN_E2E_SHOT", str(tmp_path / "mouth.png"))
    )
    assert normalize(heard_user)
