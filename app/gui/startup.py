"""Starting the roles without freezing the screen: a small progress window.

Building the roles loads Whisper and the voice, and on a first run downloads them
(hundreds of MB). That happens in a worker thread; this window appears only if it takes
longer than a moment, says which part is starting and how far a download has got, and
offers Quit (the partial download is kept and resumes next time).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.config.settings import Settings
from app.core.registry import Roles, build_roles
from app.gui.style import STYLE
from app.gui.texts import Texts
from app.models.progress import reporting

_MB = 1024 * 1024


class StartupWindow(QWidget):
    """What is starting, and a progress bar while a model downloads."""

    quit_requested = Signal()

    def __init__(self, texts: Texts, persona_name: str) -> None:
        super().__init__()
        self.texts = texts
        self.setWindowTitle(texts("startup.title", name=persona_name))
        self.setStyleSheet(STYLE)
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        title = QLabel(texts("startup.title", name=persona_name))
        title.setObjectName("cardTitle")
        self.stage = QLabel("")
        self.stage.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # busy until a download says how big it is
        self.bar.setTextVisible(True)
        note = QLabel(texts("startup.note"))
        note.setWordWrap(True)
        self.quit_button = QPushButton(texts("startup.quit"))
        self.quit_button.setToolTip(texts("startup.quit.tooltip"))
        self.quit_button.clicked.connect(self.quit_requested.emit)
        for widget in (title, self.stage, self.bar, note):
            layout.addWidget(widget)
        layout.addWidget(self.quit_button, 0, Qt.AlignmentFlag.AlignRight)

    def show_role(self, role: str) -> None:
        self.stage.setText(self.texts("startup.role", what=self.texts.role(role)))
        self.bar.setRange(0, 0)

    def show_download(self, model: str, done: int, total: int | None) -> None:
        if total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
            done_mb, total_mb = f"{done / _MB:.0f}", f"{total / _MB:.0f}"
            text = self.texts("startup.download", model=model, done=done_mb, total=total_mb)
        else:
            self.bar.setRange(0, 0)
            text = self.texts("startup.download_unknown", model=model, done=f"{done / _MB:.0f}")
        self.stage.setText(text)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.quit_requested.emit()
        super().closeEvent(event)


class _Relay(QObject):
    """Worker-thread callbacks re-emitted as signals, delivered on the UI thread."""

    role = Signal(str)
    download = Signal(str, int, object)
    finished = Signal(object)


def start_roles(
    settings: Settings, texts: Texts, persona_name: str, *, show_after_ms: int = 400
) -> Roles | None:
    """The roles, built in a worker while the UI stays live; None when the user quit."""
    relay = _Relay()
    cancel = threading.Event()
    result: list[Roles] = []
    loop = QEventLoop()
    window = StartupWindow(texts, persona_name)
    relay.role.connect(window.show_role, Qt.ConnectionType.QueuedConnection)
    relay.download.connect(window.show_download, Qt.ConnectionType.QueuedConnection)

    def finished(roles: object) -> None:
        assert isinstance(roles, Roles)
        result.append(roles)
        loop.quit()

    def quit_now() -> None:
        cancel.set()  # a running download stops; its partial file stays for a resume
        loop.quit()

    relay.finished.connect(finished, Qt.ConnectionType.QueuedConnection)
    window.quit_requested.connect(quit_now)

    def work() -> None:
        with reporting(lambda model, done, total: relay.download.emit(model, done, total), cancel):
            roles = build_roles(settings, on_role=lambda role, _title: relay.role.emit(role))
        relay.finished.emit(roles)

    worker = threading.Thread(target=work, name="dhuman-start-roles", daemon=True)
    worker.start()
    # a quick start shows no window at all: a flash of a dialog is worse than nothing
    reveal = QTimer(singleShot=True, interval=show_after_ms)
    reveal.timeout.connect(window.show)
    reveal.start()
    loop.exec()
    reveal.stop()
    window.hide()
    window.deleteLater()
    if cancel.is_set():
        return None
    return result[0] if result else None
