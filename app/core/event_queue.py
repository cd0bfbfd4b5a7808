"""A two-priority event queue: control first, data in order, data droppable per turn."""

from __future__ import annotations

from collections import deque

from app.core.events import Event, Priority


class PriorityEventQueue:
    """Not thread-safe on purpose: only the session's loop thread touches it."""

    def __init__(self) -> None:
        self._control: deque[Event] = deque()
        self._data: deque[Event] = deque()

    def put(self, event: Event) -> None:
        if event.priority is Priority.CONTROL:
            self._control.append(event)
        else:
            self._data.append(event)

    def pop(self) -> Event | None:
        if self._control:
            return self._control.popleft()
        if self._data:
            return self._data.popleft()
        return None

    def drop_data(self, turn_id: int) -> int:
        """Drop the queued data events of an interrupted turn; control events stay."""
        kept = deque(e for e in self._data if e.turn_id != turn_id)
        dropped = len(self._data) - len(kept)
        self._data = kept
        return dropped

    def __len__(self) -> int:
        return len(self._control) + len(self._data)
