"""The built-in model server: llama-cpp-python's OpenAI-compatible server as a child process.

The "auto" chat engine uses it when no configured server and no Ollama answer, and
``llama_cpp`` is installed (the optional extra ``llm-local``). The app owns the process:

* :meth:`LocalServer.ensure_running` starts ``python -m llama_cpp.server`` on 127.0.0.1
  with a free port and blocks until ``GET /v1/models`` answers (callers run it in a worker
  thread; loading a model takes seconds);
* its output goes to a log file under the app's data folder (:func:`default_log_path`),
  kept across restarts so a crash can be read afterwards;
* a process that died is started again on the next call, at most ``max_restarts`` times
  in ``restart_window_s`` (a model that crashes at once must not spin forever);
* :meth:`LocalServer.stop` terminates it; every server still running when Python exits is
  stopped too (``atexit``), so the app never leaves a model server behind.

``llama_cpp`` is never imported in the app's process: loading its native library costs
time and memory, and a build for the wrong CPU dies with SIGILL. It is only looked up.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

import platformdirs

from app.config.settings import APP_NAME, Settings

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'dhuman[llm-local]'"
_LOG_LIMIT = 5_000_000  # bytes; the log is rotated once to .1 above this
_POLL_S = 0.25
_TAIL = 1500


class LocalServerError(RuntimeError):
    """The built-in server cannot run; the message says why (with the log's last lines)."""


def llama_server_missing() -> str | None:
    """Why the built-in server cannot run here, or None when llama-cpp-python[server] is
    installed. Looks the packages up without importing them."""
    spec = importlib.util.find_spec("llama_cpp")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        return f"llama-cpp-python is not installed ({INSTALL_HINT})"
    if not any((Path(folder) / "server" / "__main__.py").exists() for folder in locations):
        return f"llama-cpp-python has no server module ({INSTALL_HINT})"
    for module in ("uvicorn", "fastapi", "sse_starlette"):
        if importlib.util.find_spec(module) is None:
            return f"the llama.cpp server needs {module} ({INSTALL_HINT})"
    return None


def resolve_local_model(choice: str, settings: Settings) -> Path:
    """``llm.local_model`` as a GGUF file: a path, or a model id the model manager knows
    (``smollm2-135m``: from the cache, an installed carrier package or the hub)."""
    choice = choice.strip()
    path = Path(choice).expanduser()
    if path.suffix.lower() == ".gguf" or os.sep in choice:
        if not path.is_file():
            raise LocalServerError(f"the model file {path} does not exist (llm.local_model)")
        return path
    from app.models.manager import ModelManager

    found = ModelManager(settings).file(choice)
    if found.suffix.lower() != ".gguf":
        raise LocalServerError(f"the model {choice!r} is not a GGUF file ({found.name})")
    return found


def data_dir() -> Path:
    """The app's data folder (``DHUMAN_DATA_DIR`` moves it)."""
    override = os.environ.get("DHUMAN_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME))


def default_log_path() -> Path:
    return data_dir() / "logs" / "llama-server.log"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalServer:
    """One llama.cpp server process for one GGUF model; thread-safe."""

    def __init__(
        self,
        model: Path,
        *,
        log_path: Path | None = None,
        n_ctx: int = 4096,
        start_timeout_s: float = 120.0,
        max_restarts: int = 3,
        restart_window_s: float = 600.0,
        extra_args: Sequence[str] = (),
        python: str = sys.executable,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = Path(model)
        self.alias = self.model.stem  # the model name the server answers to
        self.log_path = log_path or default_log_path()
        self.n_ctx = n_ctx
        self.start_timeout_s = start_timeout_s
        self.max_restarts = max_restarts
        self.restart_window_s = restart_window_s
        self.extra_args = tuple(extra_args)
        self.python = python
        self._clock = clock
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._port = 0
        self._ready = False
        self._stopped = threading.Event()
        self._starts: list[float] = []  # when each (re)start happened
        self.restarts = 0
        with _LIVE_LOCK:
            _LIVE.add(self)

    def __repr__(self) -> str:
        return f"LocalServer(model={self.model.name!r}, port={self._port or None})"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def pid(self) -> int | None:
        process = self._process
        return process.pid if process is not None else None

    @property
    def running(self) -> bool:
        process = self._process
        return self._ready and process is not None and process.poll() is None

    def ensure_running(self) -> str:
        """Start the server (or start it again if it died) and wait until it answers;
        returns its base URL. Blocks for as long as the model takes to load."""
        with self._lock:
            if self._stopped.is_set():
                raise LocalServerError("the built-in model server was stopped")
            process = self._process
            if process is not None and process.poll() is None and self._ready:
                return self.base_url
            if process is not None:
                code = process.poll()
                if code is None:  # alive but never became ready: start afresh
                    _terminate(process, 5.0)
                    code = process.returncode
                log.warning(
                    "the built-in model server (pid %s) exited with code %s; starting it "
                    "again (log: %s)",
                    process.pid,
                    code,
                    self.log_path,
                )
                self.restarts += 1
            self._check_restart_budget()
            self._spawn()
            try:
                self._wait_ready()
            except BaseException:
                self._kill_current()
                raise
            return self.base_url

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate the server (kill it after ``timeout``); it will not start again."""
        self._stopped.set()  # also breaks a readiness wait in another thread
        with self._lock:
            self._kill_current(timeout)
        with _LIVE_LOCK:
            _LIVE.discard(self)

    # ------------------------------------------------------------------ internals
    def _check_restart_budget(self) -> None:
        now = self._clock()
        self._starts = [t for t in self._starts if now - t < self.restart_window_s]
        if len(self._starts) > self.max_restarts:
            raise LocalServerError(
                f"the built-in model server keeps stopping ({len(self._starts)} starts in "
                f"{self.restart_window_s:g} s); see its log: {self.log_path}"
                f"{_tail(self.log_path)}"
            )
        self._starts.append(now)

    def _command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--model_alias",
            self.alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(self._port),
            "--n_ctx",
            str(self.n_ctx),
            *self.extra_args,
        ]

    def _spawn(self) -> None:
        self._port = free_port()
        self._ready = False
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(self.log_path)
        with self.log_path.open("ab") as out:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            out.write(f"\n=== {stamp} starting: {' '.join(self._command())}\n".encode())
            out.flush()
            self._process = subprocess.Popen(
                self._command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        log.info(
            "started the built-in model server (pid %s, %s, port %d; log: %s)",
            self._process.pid,
            self.model.name,
            self._port,
            self.log_path,
        )

    def _wait_ready(self) -> None:
        process = self._process
        assert process is not None
        deadline = self._clock() + self.start_timeout_s
        url = f"{self.base_url}/models"
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while True:
            if self._stopped.is_set():
                raise LocalServerError("the built-in model server was stopped while starting")
            code = process.poll()
            if code is not None:
                raise LocalServerError(
                    f"the built-in model server exited with code {code} while loading "
                    f"{self.model.name}; log: {self.log_path}{_tail(self.log_path)}"
                )
            try:
                with opener.open(url, timeout=2) as response:
                    if response.status == 200:
                        self._ready = True
                        return
            except (urllib.error.URLError, OSError):
                pass  # not listening yet
            if self._clock() > deadline:
                raise LocalServerError(
                    f"the built-in model server did not answer within "
                    f"{self.start_timeout_s:g} s (llm.local_start_timeout_s); log: "
                    f"{self.log_path}{_tail(self.log_path)}"
                )
            self._stopped.wait(_POLL_S)

    def _kill_current(self, timeout: float = 5.0) -> None:
        process, self._process = self._process, None
        self._ready = False
        if process is not None:
            _terminate(process, timeout)
            log.info("stopped the built-in model server (pid %s)", process.pid)


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def _rotate(path: Path) -> None:
    try:
        if path.stat().st_size > _LOG_LIMIT:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - _TAIL))
            text = handle.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f"\n{text}" if text else ""


# every server not yet stopped (held strongly: a forgotten server must still be found at
# exit); Python's exit stops them, whoever forgot to
_LIVE: set[LocalServer] = set()
_LIVE_LOCK = threading.Lock()


@atexit.register
def _stop_all() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE)
    for server in servers:
        try:
            server.stop(timeout=3.0)
        except Exception as exc:  # exiting anyway; say what was left behind
            log.warning("could not stop %r at exit: %s", server, exc)
