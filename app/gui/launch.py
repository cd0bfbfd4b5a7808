"""Start the desktop app: roles, session, main window, Qt event loop, clean shutdown."""

from __future__ import annotations

import gc
import logging
import signal
import sys
from collections.abc import Callable

from PySide6.QtCore import QByteArray, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.config.settings import Settings, load_file_settings, save_settings
from app.config.yaml_source import ConfigError
from app.core import events as ev
from app.core.microphone import MicMode, Microphone
from app.core.perception_link import PerceptionLink
from app.core.registry import Roles, apply_speaking_rate
from app.core.session import Session
from app.gui.avatar_setup import AvatarLink, install_avatar
from app.gui.main_window import MainWindow
from app.gui.startup import start_roles
from app.gui.texts import Texts
from dialog.persona import Persona, load_persona

log = logging.getLogger(__name__)

GEOMETRY_KEY = "main_window/geometry"


def window_settings() -> QSettings:
    """Where the window remembers its geometry; nothing else is stored through Qt."""
    return QSettings("dhuman", "dhuman")


def restore_geometry(window: MainWindow, store: QSettings | None = None) -> bool:
    """Put the window back where it was; False when there is nothing (valid) to restore."""
    value = (store or window_settings()).value(GEOMETRY_KEY)
    if isinstance(value, QByteArray | bytes) and window.restoreGeometry(QByteArray(value)):
        return True
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    frame.moveCenter(screen.center())
    window.move(frame.topLeft())
    return False


def save_geometry(window: MainWindow, store: QSettings | None = None) -> None:
    store = store or window_settings()
    store.setValue(GEOMETRY_KEY, window.saveGeometry())
    store.sync()


def _persona_for(settings: Settings) -> tuple[Persona, str | None]:
    """The configured persona, or the built-in one and the reason it had to be used."""
    try:
        return load_persona(settings.general.persona), None
    except ConfigError as exc:
        log.warning("persona not loaded, using the built-in default: %s", exc)
        return load_persona("default"), str(exc)


def _quit_on_ctrl_c(app: QApplication) -> Callable[[], None]:
    """Ctrl+C in the terminal closes the app cleanly; returns how to undo that."""
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    except ValueError:  # not the main thread (embedded use): leave signals alone
        return lambda: None
    # Python runs signal handlers only between bytecodes; wake it up now and then
    ticker = QTimer(app)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)

    def undo() -> None:
        ticker.stop()
        ticker.deleteLater()
        signal.signal(signal.SIGINT, previous)

    return undo


def remember_mic_mode(mode: MicMode) -> None:
    """Keep the visitor's microphone choice for the next start (the file only, never the
    environment overrides of this run)."""
    try:
        stored = load_file_settings()
        stored.audio.mic_mode = mode.value
        save_settings(stored)
    except (ConfigError, OSError) as exc:
        log.warning("could not remember the microphone mode: %s", exc)


def attach_microphone(window: MainWindow, roles: Roles, settings: Settings) -> Microphone | None:
    """Start the microphone in the chosen mode; problems become notices, never a crash."""
    source = roles.source
    if source is None:
        window.mic_controls.set_unavailable(None)  # the role problem is already a notice
        return None
    publish = window.bridge.publish
    # the capture thread reports a lost or returning device; show it like a session notice
    if hasattr(source, "on_error"):
        source.on_error = lambda message: publish(ev.Notice(role="source", message=message))
    if hasattr(source, "on_recover"):
        source.on_recover = lambda message: publish(
            ev.Notice(role="source", message=message, severity="info")
        )
    mic = Microphone(source, window.session, MicMode(settings.audio.mic_mode))
    try:
        mic.start()
    except Exception as exc:
        log.warning("microphone did not start: %s", exc)
        window.mic_controls.set_unavailable(str(exc))
        window.show_notice("source", str(exc))
        return None
    window.mic_controls.attach(mic)
    window.mic_controls.on_mode = remember_mic_mode
    return mic


def link_perception(
    window: MainWindow, session: Session, roles: Roles, avatar: AvatarLink | None
) -> PerceptionLink | None:
    """Camera events to the session (presence, affect), the face (gaze) and the window
    (privacy indicator, camera status); None when the camera is off."""
    if roles.perception is None:
        return None
    listeners = [window.bridge.publish]
    if avatar is not None:
        listeners.append(avatar.driver.handle)
    return PerceptionLink(roles.perception, session, listeners)


def pace_captions(window: MainWindow, roles: Roles, avatar: AvatarLink | None) -> None:
    """Subtitles follow the voice: the avatar's lines show as they are heard."""
    sink = roles.sink
    if sink is None or roles.synthesizer is None:
        return  # text-only: replies show as they are written
    if avatar is not None:
        window.captions.set_audio_clock(avatar.driver.audio_time)
        return

    def heard_seconds() -> float | None:
        rate = getattr(sink, "sample_rate", 0)
        return sink.heard_samples() / rate if rate else None

    window.captions.set_audio_clock(heard_seconds)


def run_gui(settings: Settings, persona: Persona | None = None, roles: Roles | None = None) -> int:
    """Run the desktop app until its window closes; returns the Qt exit code."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("dhuman")
    app.setOrganizationName("dhuman")
    persona_problem = None
    if persona is None:
        persona, persona_problem = _persona_for(settings)
    language = settings.general.language
    if roles is None:
        roles = start_roles(settings, Texts(language), persona.name.get(language))
        if roles is None:
            return 0  # the visitor quit while models were loading
    apply_speaking_rate(roles, settings, persona.style.rate)
    session = Session(roles, persona, language=language, safety=settings.safety)
    window = MainWindow(session, persona, language)
    if persona_problem:
        fallback = window.texts("notice.persona_fallback")
        window.show_notice("persona", f"{persona_problem}\n{fallback}")
    restore_geometry(window)
    undo_ctrl_c = _quit_on_ctrl_c(app)
    mic: Microphone | None = None
    avatar: AvatarLink | None = install_avatar(window, session, roles, settings)
    pace_captions(window, roles, avatar)
    seeing = link_perception(window, session, roles, avatar)
    try:
        # with a camera the avatar greets whoever walks up; without one, at once
        session.start(greet=seeing is None)
        if seeing is not None:
            seeing.start()
        mic = attach_microphone(window, roles, settings)
        window.show()
        window.raise_()
        window.activateWindow()
        # the models, modules and widgets made so far live as long as the app: leave them
        # out of later full garbage collections, each of which would otherwise hold every
        # thread (the UI's included) for 25-50 ms walking ~120k objects
        gc.freeze()
        return app.exec()
    finally:
        if seeing is not None:
            seeing.stop()
        if mic is not None:
            mic.stop()
        if avatar is not None:
            avatar.close()
        undo_ctrl_c()
        save_geometry(window)
        window.bridge.detach()
        session.close()
        window.deleteLater()
