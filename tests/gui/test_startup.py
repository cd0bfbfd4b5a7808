"""The startup window: a real model download (local HTTP server) shown with progress."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.config.settings import ModelSettings, Settings
from app.core.registry import RoleProblem, Roles
from app.gui import startup
from app.gui.texts import Texts
from app.models import Catalog, DownloadOptions, ModelManager
from tests.support.http_file_server import FileServer

pytestmark = [pytest.mark.gui, pytest.mark.timeout(60)]

WEIGHTS = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(40_000))  # 1.28 MB


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as running:
        running.add("/voice/weights.bin", WEIGHTS)
        yield running


def manager_for(server: FileServer, tmp_path: Path) -> ModelManager:
    entry = {
        "description": "a voice",
        "files": [
            {
                "name": "weights.bin",
                "size": len(WEIGHTS),
                "sha256": hashlib.sha256(WEIGHTS).hexdigest(),
                "url": server.base_url + "/voice/weights.bin",
            }
        ],
    }
    return ModelManager(
        Settings(models=ModelSettings(allow_download=True)),
        cache_root=tmp_path / "cache",
        catalog=Catalog.from_mapping({"version": 1, "models": {"voice": entry}}),
        download_options=DownloadOptions(timeout_s=10, retries=0, backoff_s=0, chunk_size=16384),
    )


def downloading_build(manager: ModelManager) -> Callable[..., Roles]:
    """Stands in for the registry: one role whose engine downloads its model first."""

    def build(settings: Settings, on_role: Callable[[str, str], None] | None = None) -> Roles:
        if on_role is not None:
            on_role("tts", "Speech synthesis")
        roles = Roles()
        try:
            manager.resolve("voice")
        except Exception as exc:
            roles.problems.append(RoleProblem("tts", "voice", str(exc)))
        return roles

    return build


def test_a_slow_first_start_shows_what_downloads_and_how_far(
    qtbot: QtBot, server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.throttle_bytes_per_s = 1.0e6  # about 1.3 s for the file
    manager = manager_for(server, tmp_path)
    monkeypatch.setattr(startup, "build_roles", downloading_build(manager))
    seen: list[tuple[str, int, bool]] = []

    def look() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, startup.StartupWindow) and widget.isVisible():
                seen.append((widget.stage.text(), widget.bar.value(), widget.bar.maximum() > 0))

    watcher = QTimer(interval=50)
    watcher.timeout.connect(look)
    watcher.start()
    roles = startup.start_roles(Settings(), Texts("en"), "Hana", show_after_ms=100)
    watcher.stop()

    assert roles is not None and roles.problems == []
    assert (manager.folder("voice") / "weights.bin").read_bytes() == WEIGHTS
    downloads = [(text, value) for text, value, sized in seen if sized]
    assert downloads, f"the window never showed a sized download: {seen[:5]}"
    assert all("Downloading voice" in text for text, _ in downloads)
    values = [value for _, value in downloads]
    assert values == sorted(values) and values[0] < values[-1], "the bar must move forward"


def test_quit_during_a_download_stops_it_and_keeps_the_part_for_later(
    qtbot: QtBot, server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.throttle_bytes_per_s = 2.0e5  # slow enough to quit half way
    manager = manager_for(server, tmp_path)
    monkeypatch.setattr(startup, "build_roles", downloading_build(manager))

    def quit_when_shown() -> None:
        for widget in QApplication.topLevelWidgets():
            bar = widget.bar if isinstance(widget, startup.StartupWindow) else None
            if bar is not None and bar.maximum() > 0 and bar.value() > 50:
                widget.quit_button.click()  # type: ignore[attr-defined]
                return
        QTimer.singleShot(50, quit_when_shown)

    QTimer.singleShot(50, quit_when_shown)
    roles = startup.start_roles(Settings(), Texts("ko"), "하나", show_after_ms=0)

    assert roles is None
    part = manager.folder("voice") / "weights.bin.part"
    assert part.exists() and 0 < part.stat().st_size < len(WEIGHTS)
    server.throttle_bytes_per_s = None
    manager.resolve("voice")  # the next start resumes from the part
    assert server.requests[-1].range is not None
    assert (manager.folder("voice") / "weights.bin").read_bytes() == WEIGHTS


def test_a_quick_start_shows_no_window(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[bool] = []
    original_show = startup.StartupWindow.show
    monkeypatch.setattr(
        startup.StartupWindow, "show", lambda self: (shown.append(True), original_show(self))
    )
    monkeypatch.setattr(startup, "build_roles", lambda settings, on_role=None: Roles())
    roles = startup.start_roles(Settings(), Texts("en"), "Hana", show_after_ms=400)
    assert roles is not None
    assert shown == []
