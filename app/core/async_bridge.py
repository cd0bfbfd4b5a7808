"""Run a blocking generator (TTS, ASR partials) in a worker thread, consumed asynchronously."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_DONE = object()


async def iterate_in_thread(make_iter: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
    """Yield the items of ``make_iter()`` as the worker thread produces them.

    Cancelling the consumer sets a flag the worker checks between items, so an
    interrupted synthesis stops after the piece it is working on, not at the end.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = threading.Event()

    def put(item: object) -> None:
        # the loop may already be closed if the session ended mid-synthesis
        if not loop.is_closed():
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def work() -> None:
        try:
            for item in make_iter():
                if stop.is_set():
                    return
                put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)
        finally:
            put(_DONE)

    worker = threading.Thread(target=work, name="role-worker", daemon=True)
    worker.start()
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
