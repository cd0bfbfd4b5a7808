"""Models built at low priority: their worker threads yield the CPU, their callers do not."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from speech.compute_priority import built_at_low_priority

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class _Pool:
    """Stands in for a runtime that starts its worker threads when it is built."""

    def __init__(self) -> None:
        self.worker_nice: list[int] = []
        ready = threading.Event()

        def work() -> None:
            self.worker_nice.append(_nice())
            ready.set()

        self.thread = threading.Thread(target=work)
        self.thread.start()
        ready.wait(5)
        self.builder_nice = _nice()


@linux_only
def test_threads_a_model_starts_inherit_the_lower_priority_the_caller_keeps_its_own() -> None:
    mine = _nice()
    pool = built_at_low_priority(_Pool, nice=5)
    pool.thread.join(5)
    expected = min(mine + 5, 19)
    assert pool.builder_nice == expected
    assert pool.worker_nice == [expected]
    assert _nice() == mine  # the calling thread (the UI, a speech worker) is untouched
    # and a thread started afterwards by the caller is at the caller's priority
    later: list[int] = []
    thread = threading.Thread(target=lambda: later.append(_nice()))
    thread.start()
    thread.join(5)
    assert later == [mine]


def test_nice_zero_builds_on_the_calling_thread() -> None:
    built_on: list[int] = []
    built_at_low_priority(lambda: built_on.append(threading.get_ident()), nice=0)
    assert built_on == [threading.get_ident()]


def test_what_the_build_raises_reaches_the_caller() -> None:
    def broken() -> None:
        raise RuntimeError("unable to open file 'model.bin'")

    with pytest.raises(RuntimeError, match=r"model\.bin"):
        built_at_low_priority(broken)


@linux_only
def test_the_real_voice_runs_its_pool_below_the_app() -> None:
    """A real Piper voice (ONNX Runtime): its pool threads run at the lower priority."""
    import onnxruntime  # noqa: F401  (importing it starts threads of its own, idle ones)

    from app.config.settings import Settings
    from speech.tts import piper_tts

    before = {int(t) for t in os.listdir("/proc/self/task")}
    voice = piper_tts.build(Settings())
    list(voice.synthesize("Hello."))
    added = {int(t) for t in os.listdir("/proc/self/task")} - before
    nices = {os.getpriority(os.PRIO_PROCESS, t) for t in added}
    assert added and nices == {min(_nice() + 10, 19)}
