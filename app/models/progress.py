"""Download progress for code that resolves models deep inside an engine factory.

Engine factories take only the settings, yet the window that starts them must show a
progress bar while a first run downloads hundreds of megabytes. ``reporting(callback)``
scopes a reporter to the current thread's context (a ContextVar, so two threads building
roles at once never see each other's reporter), and the model manager uses it whenever
its caller passed no ``progress`` of its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar

# (model id, bytes done, bytes in all or None when unknown)
DownloadReporter = Callable[[str, int, int | None], None]

_reporter: ContextVar[DownloadReporter | None] = ContextVar(
    "dhuman_download_reporter", default=None
)
_cancel: ContextVar[threading.Event | None] = ContextVar("dhuman_download_cancel", default=None)


@contextlib.contextmanager
def reporting(callback: DownloadReporter, cancel: threading.Event | None = None) -> Iterator[None]:
    """Report every model download started in this context to ``callback``; setting
    ``cancel`` stops them (the partial file is kept for a resume)."""
    token = _reporter.set(callback)
    cancel_token = _cancel.set(cancel)
    try:
        yield
    finally:
        _cancel.reset(cancel_token)
        _reporter.reset(token)


def scoped_cancel() -> threading.Event | None:
    return _cancel.get()


def scoped_progress(model_id: str) -> Callable[[int, int | None], None] | None:
    """The context's reporter bound to one model, or None when nobody is listening."""
    callback = _reporter.get()
    if callback is None:
        return None
    return lambda done, total: callback(model_id, done, total)
