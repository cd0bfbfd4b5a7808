"""The built-in server's process care: start, readiness, log, restart, budget, stop.

The child here is a small stand-in program that takes llama_cpp.server's command line and
answers ``GET /v1/models`` (or crashes, or hangs, as its model file's name says), so the
supervision is tested in a second; the real llama.cpp server is started by
tests/integration/test_llm_embedded_server.py.
"""

from __future__ import annotations

import os
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from app.config.settings import Settings
from dialog.llm.local_server import (
    LocalServer,
    LocalServerError,
    llama_server_missing,
    resolve_local_model,
)

STAND_IN = textwrap.dedent(
    """\
    import http.server, json, sys, time
    args = sys.argv[sys.argv.index("--model"):]
    model = args[1]
    port = int(args[args.index("--port") + 1])
    print("stand-in loading", model, flush=True)
    if "crash" in model:
        print("error: failed to load model (bad magic)", file=sys.stderr, flush=True)
        sys.exit(3)
    if "hang" in model:
        time.sleep(600)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"object": "list", "data": [{"id": "stand-in"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)


@pytest.fixture
def python(tmp_path: Path) -> str:
    """An 'interpreter' that runs the stand-in with llama_cpp.server's arguments."""
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    wrapper = tmp_path / "python"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{script}" "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def model(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.gguf"
    path.write_bytes(b"GGUF")
    return path


def answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=1) as response:
            return int(response.status) == 200
    except OSError:
        return False


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still has a pid: reaped means gone
    return Path(f"/proc/{pid}/status").read_text().find("zombie") >= 0


def test_starts_answers_logs_and_stops(tmp_path: Path, python: str) -> None:
    log = tmp_path / "logs" / "llama-server.log"
    server = LocalServer(model(tmp_path, "good"), log_path=log, python=python)
    base_url = server.ensure_running()
    try:
        assert server.running and answers(base_url) and server.alias == "good"
        assert server.ensure_running() == base_url  # already up: the same server
        text = log.read_text()
        assert "starting:" in text and "--model_alias good" in text
        assert "stand-in loading" in text
    finally:
        pid = server.pid
        server.stop()
    assert pid is not None and gone(pid) and not answers(base_url)
    with pytest.raises(LocalServerError, match="stopped"):
        server.ensure_running()


def test_a_dead_server_is_started_again_on_the_next_call(tmp_path: Path, python: str) -> None:
    server = LocalServer(model(tmp_path, "good"), log_path=tmp_path / "s.log", python=python)
    try:
        server.ensure_running()
        pid = server.pid
        assert pid is not None
        os.kill(pid, 9)
        deadline = time.monotonic() + 5
        while server.running:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        again = server.ensure_running()
        assert answers(again) and server.pid != pid and server.restarts == 1
    finally:
        server.stop()


def test_a_crash_while_loading_is_reported_with_the_log(tmp_path: Path, python: str) -> None:
    log = tmp_path / "s.log"
    server = LocalServer(model(tmp_path, "crash"), log_path=log, python=python, max_restarts=1)
    with pytest.raises(LocalServerError) as failure:
        server.ensure_running()
    message = str(failure.value)
    assert "exited with code 3" in message and "bad magic" in message and str(log) in message
    with pytest.raises(LocalServerError, match="exited"):
        server.ensure_running()  # the one restart allowed
    with pytest.raises(LocalServerError, match="keeps stopping"):
        server.ensure_running()  # then it gives up instead of spinning
    server.stop()


def test_stop_breaks_a_start_that_is_still_waiting(tmp_path: Path, python: str) -> None:
    server = LocalServer(model(tmp_path, "hang"), log_path=tmp_path / "s.log", python=python)
    errors: list[BaseException] = []

    def start() -> None:
        try:
            server.ensure_running()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=start)
    thread.start()
    deadline = time.monotonic() + 5
    while server.pid is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    pid = server.pid
    started = time.monotonic()
    server.stop()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 3
    assert errors and "stopped" in str(errors[0])
    assert gone(pid)


def test_a_start_that_never_answers_times_out(tmp_path: Path, python: str) -> None:
    server = LocalServer(
        model(tmp_path, "hang"), log_path=tmp_path / "s.log", python=python, start_timeout_s=0.5
    )
    with pytest.raises(LocalServerError, match=r"did not answer within 0\.5 s"):
        server.ensure_running()
    assert server.pid is None  # the hung child was not left behind
    server.stop()


def test_the_model_setting_takes_a_path_or_a_catalog_id(tmp_path: Path) -> None:
    path = model(tmp_path, "mine")
    assert resolve_local_model(str(path), Settings()) == path
    with pytest.raises(LocalServerError, match="does not exist"):
        resolve_local_model(str(tmp_path / "other.gguf"), Settings())
    with pytest.raises(Exception, match="unknown model"):
        resolve_local_model("no-such-model", Settings())


def test_the_installed_server_is_found_without_importing_it() -> None:
    before = set(sys.modules)
    reason = llama_server_missing()
    assert "llama_cpp" not in set(sys.modules) - before
    try:
        import importlib.util

        installed = importlib.util.find_spec("llama_cpp") is not None
    except ImportError:
        installed = False
    assert (reason is None) == installed or "needs" in str(reason)
