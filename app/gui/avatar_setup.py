"""Put the animated face on the main window's stage and connect it to the session.

The driver listens on the session's own thread (its inputs are cheap and locked), so a
viseme or a mode change reaches the engine without a hop through the Qt event queue; the
face view reads one state per display frame on the UI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from app.config.settings import Settings
from app.config.yaml_source import ConfigError
from app.core.registry import Roles
from app.core.session import Session
from app.gui.face.face_view import FaceView
from app.gui.main_window import MainWindow
from avatar.animation import AnimationEngine
from avatar.driver import AvatarDriver
from avatar.looks import Look, load_look

log = logging.getLogger(__name__)


@dataclass
class AvatarLink:
    driver: AvatarDriver
    view: FaceView
    unsubscribe: Callable[[], None]

    def close(self) -> None:
        self.unsubscribe()


def look_for(settings: Settings, persona_look: str | None) -> tuple[Look, str | None]:
    """The persona's look, else the configured one, else the guide; and any problem."""
    problem = None
    for name in (persona_look, settings.avatar.look, "guide"):
        if not name:
            continue
        try:
            return load_look(name), problem
        except ConfigError as exc:
            problem = problem or str(exc)
            log.warning("look %r not loaded: %s", name, exc)
    raise RuntimeError("the bundled guide look is missing; reinstall dhuman")


def install_avatar(
    window: MainWindow, session: Session, roles: Roles, settings: Settings
) -> AvatarLink | None:
    """The painted face on the stage; None (the placeholder stays) when it is turned off."""
    if settings.avatar.renderer != "painter":
        return None
    look, problem = look_for(settings, getattr(window.persona, "look", None))
    if problem:
        window.show_notice("persona", problem)
    driver = AvatarDriver(
        AnimationEngine(), roles.sink, display_lead=settings.avatar.lipsync_lead_ms / 1000
    )
    view = FaceView(driver.state_now, look, name=window.persona_name)
    window.set_avatar_view(view)
    driver.engine.set_mode(session.mode)
    return AvatarLink(driver, view, session.subscribe(driver.handle))
