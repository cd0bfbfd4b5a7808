"""Collect a session's events in tests and wait for the ones that matter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from app.core import events as ev

E = TypeVar("E", bound=ev.Event)


class EventLog:
    def __init__(self) -> None:
        self.events: list[ev.Event] = []
        self._cond = threading.Condition()

    def __call__(self, event: ev.Event) -> None:
        with self._cond:
            self.events.append(event)
            self._cond.notify_all()

    def of(self, kind: type[E], turn_id: int | None = None) -> list[E]:
        with self._cond:
            return [
                e
                for e in self.events
                if isinstance(e, kind) and (turn_id is None or e.turn_id == turn_id)
            ]

    def wait_for(self, kind: type[E], turn_id: int | None = None, timeout: float = 5.0) -> E:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [
                    e
                    for e in self.events
                    if isinstance(e, kind) and (turn_id is None or e.turn_id == turn_id)
                ]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    names = [type(e).__name__ for e in self.events]
                    raise AssertionError(f"no {kind.__name__} within {timeout}s; saw {names}")
                self._cond.wait(left)

    def wait(self, test: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``test()`` holds (it may call :meth:`of`: the lock is re-entrant)."""
        with self._cond:
            assert self._cond.wait_for(test, timeout), [type(e).__name__ for e in self.events]
