"""``dhuman avatar --demo``: the face on its own, cycling expressions and speaking a line.

It runs the real parts: the configured voice and speaker through a Session (no language
model: the line is scripted), the animation engine on the speaker's audio clock, and the
painter. Useful to judge a look, a voice's lip-sync, or a kiosk screen at a glance.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from app.config.settings import Settings
from app.core import events as ev
from app.core.registry import Roles, apply_speaking_rate, build_roles
from app.core.session import Session
from app.gui.face.face_view import FaceView
from app.gui.style import STYLE
from avatar.animation import AnimationEngine
from avatar.driver import AvatarDriver
from avatar.looks import load_look
from dialog.persona import load_persona

log = logging.getLogger(__name__)

DEMO_EXPRESSIONS = ("neutral", "happy", "concerned", "thinking", "surprised", "sad")
EXPRESSION_SECONDS = 2.5
LINES = {
    "en": "Hello! I'm Hana. I can smile, listen, think, and talk with you.",
    "ko": "안녕하세요! 저는 하나예요. 웃고, 듣고, 생각하고, 함께 이야기할 수 있어요.",
}


@dataclass
class DemoRun:
    """What the demo did, for the command's summary and for tests."""

    expressions: list[str] = field(default_factory=list)
    spoken: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    fps: float = 0.0
    worst_frame_ms: float = 0.0


def run_demo(
    settings: Settings,
    *,
    look_name: str | None = None,
    seconds: float = 0.0,
    screenshot: Path | None = None,
    roles: Roles | None = None,
) -> DemoRun:
    """Show the demo window until it is closed, or for ``seconds`` when > 0."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    language = settings.general.language
    persona = load_persona(settings.general.persona)
    if roles is None:
        roles = build_roles(settings, only=("tts", "sink"))
    run = DemoRun(notices=[str(problem) for problem in roles.problems])
    apply_speaking_rate(roles, settings, persona.style.rate)
    session = Session(roles, persona, language=language, safety=settings.safety)
    driver = AvatarDriver(AnimationEngine(), roles.sink)
    look = load_look(look_name or persona.look or settings.avatar.look)

    loop = QEventLoop()
    window = _DemoWindow(loop.quit)
    window.setWindowTitle(f"dhuman avatar demo — {look.name}")
    window.setStyleSheet(STYLE)
    layout = QVBoxLayout(window)
    view = FaceView(driver.state_now, look, name=persona.name.get(language))
    caption = QLabel("")
    caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
    caption.setObjectName("cardTitle")
    layout.addWidget(view, 1)
    layout.addWidget(caption)
    window.resize(720, 800)

    def on_event(event: ev.Event) -> None:
        driver.handle(event)
        if isinstance(event, ev.ReplySentence):
            run.spoken.append(event.text)
        elif isinstance(event, ev.Notice):
            run.notices.append(event.message)

    unsubscribe = session.subscribe(on_event)
    step = [0]

    def next_expression() -> None:
        name = DEMO_EXPRESSIONS[step[0] % len(DEMO_EXPRESSIONS)]
        step[0] += 1
        driver.engine.set_expression(name, 1.0, hold=EXPRESSION_SECONDS)
        run.expressions.append(name)
        caption.setText(name)
        if name == "neutral":  # once per cycle, the face also speaks
            session.say(LINES.get(language, LINES["en"]))

    cycle = QTimer(interval=int(EXPRESSION_SECONDS * 1000))
    cycle.timeout.connect(next_expression)
    session.start()
    window.show()
    next_expression()
    cycle.start()
    # A local loop that ends when the window closes, never app.quit(): a quit reaching the
    # application outside its exec() (a late timer, the last window closing) makes every
    # later event loop in the process return at once, which breaks an embedding app.
    quit_on_close = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    ending = QTimer(singleShot=True, interval=max(1, int(seconds * 1000)))
    ending.timeout.connect(window.close)
    if seconds > 0:
        ending.start()
    grab = QTimer(singleShot=True, interval=min(1500, max(int(seconds * 500), 1)))
    if screenshot is not None:
        # mid-sentence, with the first expression settled
        grab.timeout.connect(lambda: _grab(window, screenshot))
        grab.start()
    try:
        loop.exec()
    finally:
        ending.stop()
        grab.stop()
        app.setQuitOnLastWindowClosed(quit_on_close)
        cycle.stop()
        summary = view.stats.summary()
        run.fps, run.worst_frame_ms = summary.fps, summary.paint_worst_ms
        unsubscribe()
        session.close()
        window.deleteLater()
    return run


class _DemoWindow(QWidget):
    def __init__(self, on_close: Callable[[], None]) -> None:
        super().__init__()
        self._on_close = on_close

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self._on_close()


def _grab(window: QWidget, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        log.warning("could not write the screenshot to %s", path)
