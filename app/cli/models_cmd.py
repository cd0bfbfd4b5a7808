"""``dhuman models list|pull|verify``: see and fetch the model files.

``app/cli/main.py`` registers this with :func:`add_parser` and calls :func:`run` when
``args.command == "models"``. Exit codes: 0 ok, 1 a model problem (refused, not available,
download failed), 2 usage (unknown id, bad settings), 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from app.config.settings import load_settings
from app.config.yaml_source import ConfigError
from app.models.errors import DownloadCancelled, ModelError, UnknownModel
from app.models.manager import ModelManager
from app.models.status import FileState, ModelState, ModelStatus

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
_MB = 1_000_000
_CANCEL_GRACE_S = 5.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "models",
        help="list, fetch and verify the model files",
        description="Models are found in the cache, then in installed offline packages, "
        "then downloaded from the official hub with a pinned sha256.",
    )
    commands = parser.add_subparsers(dest="models_command", metavar="{list,pull,verify}")
    commands.required = True
    commands.add_parser("list", help="every model in the catalog and where it is")
    pull = commands.add_parser("pull", help="fetch a model now (resumes a partial download)")
    pull.add_argument("model_id", metavar="ID", help="a model id from `dhuman models list`")
    pull.add_argument(
        "--force", action="store_true", help="drop the cached copy and fetch it again"
    )
    verify = commands.add_parser("verify", help="hash the model files again")
    verify.add_argument("model_id", metavar="ID", nargs="?", help="one model (default: all)")


def run(args: argparse.Namespace, out: TextIO, *, manager: ModelManager | None = None) -> int:
    try:
        manager = manager if manager is not None else ModelManager(load_settings())
    except ConfigError as exc:
        out.write(f"dhuman models: the settings are wrong:\n{exc}\n")
        return EXIT_USAGE
    command = args.models_command
    try:
        if command == "list":
            return _list(manager, out)
        if command == "pull":
            return _pull(manager, args.model_id, bool(args.force), out)
        if command == "verify":
            return _verify(manager, args.model_id, out)
    except UnknownModel as exc:
        out.write(f"dhuman models: {exc}\n")
        return EXIT_USAGE
    except ModelError as exc:
        out.write(f"dhuman models: {exc}\n")
        return EXIT_PROBLEM
    out.write(f"dhuman models: unknown command {command!r}\n")
    return EXIT_USAGE


# ---------------------------------------------------------------------------- list


def _megabytes(size: int | None) -> str:
    return "?" if size is None else f"{size / _MB:,.1f} MB"


def _where(status: ModelStatus) -> str:
    if status.path is not None:
        return str(status.path)
    if status.detail:
        return status.detail
    if status.state is ModelState.MISSING:
        ways = []
        if status.carrier_install:
            ways.append(status.carrier_install)
        if status.downloadable:
            ways.append(f"dhuman models pull {status.model_id}")
        return " or ".join(ways) if ways else "no source"
    return ""


def _list(manager: ModelManager, out: TextIO) -> int:
    statuses = manager.list()
    width = max([len(s.model_id) for s in statuses] + [2])
    out.write(f"{'ID':<{width}}  {'STATE':<8}  {'SIZE':>9}  WHERE\n")
    for status in statuses:
        flag = " (unpinned)" if status.unpinned else ""
        size = _megabytes(status.total_bytes)
        out.write(
            f"{status.model_id:<{width}}  {status.state.value:<8}  {size:>9}  "
            f"{_where(status)}{flag}\n"
        )
    return EXIT_OK


# ---------------------------------------------------------------------------- pull


class ProgressLine:
    """Download progress: one rewritten line on a terminal, occasional plain lines otherwise
    (logs and CI output should not fill up with carriage returns)."""

    def __init__(
        self,
        out: TextIO,
        label: str,
        *,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 0.1,
        plain_every_s: float = 5.0,
    ):
        self.out = out
        self.label = label
        self.tty = tty
        self.clock = clock
        self.every_s = every_s
        self.plain_every_s = plain_every_s
        self._lock = threading.Lock()
        self._start: float | None = None
        self._baseline = 0
        self._last_shown = -1e9
        self._last_tenth = -1
        self._line_open = False
        self._width = 0

    def __call__(self, done: int, total: int | None) -> None:
        with self._lock:
            now = self.clock()
            if self._start is None:
                self._start, self._baseline = now, done
                if done and not self.tty:
                    self.out.write(f"{self.label}: resuming at {done / _MB:,.1f} MB\n")
            finished = total is not None and done >= total
            if self.tty:
                if finished or now - self._last_shown >= self.every_s:
                    self._show_tty(done, total, now)
                return
            tenth = int(10 * done / total) if total else -1
            if finished or tenth > self._last_tenth or now - self._last_shown >= self.plain_every_s:
                self._last_tenth = max(self._last_tenth, tenth)
                self._last_shown = now
                self.out.write(self._text(done, total, now) + "\n")
                self.out.flush()

    def _rate(self, done: int, now: float) -> float:
        elapsed = now - (self._start or now)
        return (done - self._baseline) / elapsed / _MB if elapsed > 0 else 0.0

    def _text(self, done: int, total: int | None, now: float) -> str:
        rate = f"{self._rate(done, now):5.1f} MB/s"
        if total:
            percent = 100.0 * done / total
            return f"{self.label}: {percent:5.1f}%  {done / _MB:,.1f}/{total / _MB:,.1f} MB  {rate}"
        return f"{self.label}: {done / _MB:,.1f} MB  {rate}"

    def _show_tty(self, done: int, total: int | None, now: float) -> None:
        text = self._text(done, total, now)
        # pad over the tail of a longer previous line
        self.out.write("\r" + text.ljust(self._width))
        self.out.flush()
        self._width = max(self._width, len(text))
        self._last_shown = now
        self._line_open = True

    def finish(self) -> None:
        with self._lock:
            if self._line_open:
                self.out.write("\n")
                self.out.flush()
                self._line_open = False


def _is_tty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _pull(manager: ModelManager, model_id: str, force: bool, out: TextIO) -> int:
    spec = manager.spec(model_id)
    cancel = threading.Event()
    progress = ProgressLine(out, spec.id, tty=_is_tty(out))
    result: dict[str, Path] = {}
    failure: list[BaseException] = []

    finished = threading.Event()

    def work() -> None:
        try:
            result["path"] = manager.pull(spec.id, progress, cancel, force=force)
        except BaseException as exc:  # handed to the main thread, which reports it
            failure.append(exc)
        finally:
            finished.set()

    # The download runs in a worker so that Ctrl-C reaches the main thread promptly. We wait
    # on an Event, not Thread.join: on Python 3.11 a KeyboardInterrupt inside join() can mark
    # the thread as finished while it still runs.
    threading.Thread(target=work, name=f"models-pull-{spec.id}", daemon=True).start()
    try:
        while not finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        cancel.set()
        # a stalled connection only notices the cancel when its read times out; do not
        # keep the user waiting for that (bytes already written stay valid for a resume)
        finished.wait(_CANCEL_GRACE_S)
    progress.finish()
    if cancel.is_set() and not finished.is_set():
        failure.append(DownloadCancelled("cancelled while waiting for the server"))
    if failure:
        if isinstance(failure[0], DownloadCancelled) or cancel.is_set():
            out.write(
                f"cancelled: {spec.id}. What was downloaded is kept; "
                f"`dhuman models pull {spec.id}` resumes the download.\n"
            )
            return EXIT_CANCELLED
        raise failure[0]
    out.write(f"ready: {spec.id} -> {result['path']}\n")
    return EXIT_OK


# ---------------------------------------------------------------------------- verify


def _verify(manager: ModelManager, model_id: str | None, out: TextIO) -> int:
    ids = [manager.spec(model_id).id] if model_id else manager.catalog.ids()
    failed = 0
    for one in ids:
        status = manager.verify(one)
        note = " (unpinned: checked by size only)" if status.unpinned else ""
        out.write(f"{status.model_id}: {status.state.value}{note}\n")
        for file in status.files:
            if file.state in (FileState.CORRUPT, FileState.PARTIAL) or (
                model_id and file.state is FileState.MISSING
            ):
                detail = f": {file.detail}" if file.detail else ""
                out.write(f"  {file.name}: {file.state.value}{detail}\n")
        if status.state is ModelState.CORRUPT or (model_id and not status.available):
            failed += 1
            if status.state is not ModelState.CORRUPT:
                out.write(f"  get it with: {_where(status)}\n")
    return EXIT_PROBLEM if failed else EXIT_OK
