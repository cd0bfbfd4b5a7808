"""Native compute pools that yield the CPU to the face and the window.

On a two-core machine the speech models' worker threads (CTranslate2 for Whisper, ONNX
Runtime for Piper) and the face painter want both cores at the start of every reply, and
the painter then gets its share late: a frame shows 50-90 ms after the one before.

Those worker threads are native: they never hold the GIL while they compute, so making
them yield cannot stall a Python thread behind them (nice-ing the Python threads that
*call* the models did: a low-priority thread holding the GIL held up the UI thread).
Linux gives a new thread its creator's nice value, so a model built on a short-lived
thread that first lowers its own priority gets worker pools at that priority, while the
threads that call it keep theirs. Where nothing else wants the CPU the pools run exactly
as fast as before.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TypeVar

_LOG = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_NICE = 10  # weight 110 against 1024 for the painter and the UI (CFS)
# Linux keeps a nice value per thread; elsewhere PRIO_PROCESS means the whole process
_PER_THREAD_NICE = sys.platform.startswith("linux")


def built_at_low_priority(make: Callable[[], T], nice: int = DEFAULT_NICE) -> T:
    """``make()`` run on a helper thread whose nice value is raised by ``nice`` first.

    Threads that ``make`` starts (a runtime's worker pool) inherit the lower priority.
    Returns what ``make`` returns and raises what it raises. ``nice`` 0, or a platform
    without per-thread priorities, just calls ``make`` here.
    """
    if nice <= 0 or not _PER_THREAD_NICE:
        return make()
    result: list[T] = []
    failure: list[BaseException] = []

    def build() -> None:
        try:
            me = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + nice)
        except OSError as exc:  # a sandbox may refuse; the model still loads
            _LOG.debug("could not lower the model loader's priority: %s", exc)
        try:
            result.append(make())
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    helper = threading.Thread(target=build, name="dhuman-model-loader", daemon=True)
    helper.start()
    helper.join()
    if failure:
        raise failure[0]
    return result[0]
