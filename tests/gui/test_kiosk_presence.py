"""The kiosk with a camera: a visitor walks up (greeting, indicator), then leaves
(forgotten). Real MediaPipe on a real photo made into a video file used as the camera."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pytestqt.qtbot import QtBot

from app.config.settings import Settings
from app.core import events as ev
from app.core.events import AvatarMode
from app.core.fakes import FakeAudioSink, FakeChat, FakeSynthesizer
from app.core.registry import Roles
from app.core.session import Session
from app.gui.avatar_setup import install_avatar
from app.gui.launch import link_perception
from app.gui.main_window import MainWindow
from dialog.persona import load_persona
from tests.support.events import EventLog

pytestmark = [pytest.mark.gui, pytest.mark.slow, pytest.mark.timeout(120)]


def visit_video(tmp_path: Path) -> Path:
    face_videos = pytest.importorskip("tests.support.face_videos")
    photo = face_videos.astronaut()
    marks = face_videos.landmarks(photo)
    person = face_videos.Placement(photo, face_videos.face_box(marks), (0.5, 0.45), 0.45)
    empty = face_videos.background()
    here = face_videos.compose([person])
    frames = face_videos.segments([(empty, 1.0), (here, 4.0), (empty, 6.0)])
    return face_videos.write_video(tmp_path / "visit.avi", frames)


def test_a_visitor_is_greeted_on_arrival_and_forgotten_on_leaving(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from vision.perception import build as build_perception

    settings = Settings()
    settings.camera.enabled = True
    settings.camera.source = str(visit_video(tmp_path))
    persona = load_persona("default")
    roles = Roles(
        chat=FakeChat(reply="Radiology is on the second floor."),
        synthesizer=FakeSynthesizer(seconds_per_word=0.02),
        sink=FakeAudioSink(),
        perception=build_perception(settings),
    )
    session = Session(roles, persona)
    log = EventLog()
    session.subscribe(log)
    window = MainWindow(session, persona, "en")
    qtbot.addWidget(window)
    avatar = install_avatar(window, session, roles, settings)
    seeing = link_perception(window, session, roles, avatar)
    assert seeing is not None
    window.show()
    session.start(greet=False)
    seeing.start()
    try:
        qtbot.waitUntil(lambda: window.privacy.isVisible(), timeout=10_000)
        assert window.privacy.camera_on and not window.privacy.affect_on
        qtbot.waitUntil(lambda: bool(log.of(ev.VisitorPresence)), timeout=20_000)
        arrived = log.of(ev.VisitorPresence)[0]
        assert arrived.present
        qtbot.waitUntil(
            lambda: any(persona.greeting.get("en") in t for t in window.captions.texts("avatar")),
            timeout=10_000,
        )
        session.submit_text("Where is radiology?")
        qtbot.waitUntil(lambda: len(session.history()) >= 2, timeout=10_000)

        qtbot.waitUntil(lambda: len(log.of(ev.VisitorPresence)) >= 2, timeout=20_000)
        left = log.of(ev.VisitorPresence)[1]
        assert not left.present and left.ts > arrived.ts
        qtbot.waitUntil(lambda: window.mode is AvatarMode.IDLE, timeout=10_000)
        assert session.history() == [], "a visitor who left is forgotten"
    finally:
        seeing.stop()
        if avatar is not None:
            avatar.close()
        session.close()
