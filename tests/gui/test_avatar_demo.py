"""``dhuman avatar --demo`` and the face on the main window's stage.

``DHUMAN_WRITE_DOCS=1`` also rewrites ``docs/img/main_window.png``: the window as
``dhuman`` wires it (the painted face on the stage), grabbed while the reply is spoken.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from app.config.settings import Settings
from app.core.events import AvatarMode
from app.core.fakes import FakeAudioSink, FakeChat, FakeSynthesizer
from app.core.registry import Roles
from app.core.session import Session
from app.gui.avatar_demo import LINES, run_demo
from app.gui.avatar_setup import install_avatar
from app.gui.face.face_view import FaceView
from app.gui.main_window import MainWindow
from dialog.persona import load_persona

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

DOCS_SHOT = Path(__file__).parents[2] / "docs" / "img" / "main_window.png"


def test_the_demo_cycles_expressions_speaks_and_paints(qtbot: QtBot, tmp_path: Path) -> None:
    roles = Roles(synthesizer=FakeSynthesizer(seconds_per_word=0.15), sink=FakeAudioSink())
    shot = tmp_path / "demo.png"
    run = run_demo(Settings(), look_name="professional", seconds=5.5, screenshot=shot, roles=roles)
    assert run.expressions[:3] == ["neutral", "happy", "concerned"]
    assert " ".join(run.spoken) == LINES["en"]
    assert run.fps > 5, "the face was painted continuously"
    image = QImage(str(shot))
    assert not image.isNull() and image.width() > 300


def test_the_window_stage_shows_the_painted_face_and_the_mouth_moves_with_speech(
    qtbot: QtBot, tmp_path: Path
) -> None:
    persona = load_persona("default")
    roles = Roles(
        chat=FakeChat(reply="Radiology is on the second floor, past the main lifts."),
        synthesizer=FakeSynthesizer(seconds_per_word=0.2),
        sink=FakeAudioSink(),
    )
    session = Session(roles, persona)
    window = MainWindow(session, persona, "en")
    qtbot.addWidget(window)
    window.resize(1120, 740)
    link = install_avatar(window, session, roles, Settings())
    assert link is not None and isinstance(window.avatar_view, FaceView)
    window.show()
    session.start()
    try:
        qtbot.waitUntil(lambda: window.mode is AvatarMode.LISTENING, timeout=15000)
        quiet = link.view.state["jawOpen"]
        session.submit_text("Where is radiology?")
        opened: list[float] = []
        shot: QImage | None = None
        qtbot.waitUntil(lambda: window.mode is AvatarMode.SPEAKING, timeout=15000)
        while window.mode is AvatarMode.SPEAKING and len(opened) < 200:
            qtbot.wait(16)
            opened.append(link.view.state["jawOpen"])
            if shot is None and opened[-1] > 0.3 and len(opened) > 40:
                shot = window.grab().toImage()  # mid-reply: mouth open, captions shown
        assert quiet < 0.1
        assert max(opened) > 0.25, "the painted mouth opens while the reply plays"
        assert min(opened) < max(opened) - 0.15, "and closes between sounds"
        assert shot is not None
        target = DOCS_SHOT if os.environ.get("DHUMAN_WRITE_DOCS") == "1" else tmp_path / "w.png"
        assert shot.save(str(target))
    finally:
        link.close()
        session.close()
