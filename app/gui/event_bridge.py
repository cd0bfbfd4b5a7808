"""Carries session events from the session thread to the Qt (UI) thread.

The session calls its listeners on its own asyncio thread; widgets may only be
touched on the UI thread. The bridge's listener does nothing but emit a signal,
and every slot is connected with ``Qt.QueuedConnection``, so slots always run
later, in the UI thread's event loop, in the order the session emitted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal

from app.core import events as ev
from app.core.session import Session


class EventBridge(QObject):
    """``bridge.attach(session)``, then ``bridge.connect_slot(handler)``: handler gets events."""

    received = Signal(object)  # an app.core.events.Event, delivered on the UI thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = None
        self._attached = threading.Event()
        attached = self._attached
        self.destroyed.connect(lambda *_: attached.clear())

    def attach(self, session: Session) -> None:
        """Start receiving ``session``'s events (one session at a time)."""
        self.detach()
        attached = self._attached
        emit = self.received.emit

        def listener(event: ev.Event) -> None:  # runs on the session thread
            if attached.is_set():
                emit(event)

        attached.set()
        self._unsubscribe = session.subscribe(listener)

    def detach(self) -> None:
        """Stop receiving events; safe to call twice and before ``attach``."""
        self._attached.clear()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    @property
    def attached(self) -> bool:
        return self._attached.is_set()

    def connect_slot(self, slot: Callable[[ev.Event], None]) -> None:
        """Connect ``slot`` so that it runs on the UI thread, queued, never in the emitter."""
        self.received.connect(slot, Qt.ConnectionType.QueuedConnection)

    def publish(self, event: ev.Event) -> None:
        """Emit an event as if the session had (any thread); handy for tests and tools."""
        self.received.emit(event)
