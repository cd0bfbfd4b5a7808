"""What the camera notices, passed on: the visitor's presence and affect to the session,
their face to the avatar, the indicator and camera status to whoever shows them.

Perception calls back on its own worker thread; every target here is thread-safe (the
session's inputs post to its loop, the avatar driver's inputs are locked, the GUI bridge
re-posts to the UI thread), so the link itself holds no lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from app.core import events as ev
from app.core.types import Affect
from vision import events as vev

log = logging.getLogger(__name__)
Listener = Callable[[ev.Event], None]


class PerceptionSource(Protocol):
    def start(self, on_event: Listener) -> None: ...
    def stop(self, timeout: float = 5.0) -> None: ...
    def set_prosody(self, prosody: dict[str, float] | None) -> None: ...


class VisitSession(Protocol):
    def visitor_arrived(self, greet: bool = True) -> None: ...
    def visitor_left(self) -> None: ...
    def set_user_affect(self, affect: Affect | None) -> None: ...


class PerceptionLink:
    """``PerceptionLink(perception, session, listeners)``; ``start()`` / ``stop()``.

    ``greet_on_arrival``: a kiosk wakes and greets when someone walks up; a counselling
    session (started by a person) does not greet again each time the face is re-found.
    """

    def __init__(
        self,
        perception: PerceptionSource,
        session: VisitSession,
        listeners: Sequence[Listener] = (),
        *,
        greet_on_arrival: bool = True,
    ) -> None:
        self.perception = perception
        self.session = session
        self.listeners = list(listeners)
        self.greet_on_arrival = greet_on_arrival

    def start(self) -> None:
        self.perception.start(self._on_event)

    def stop(self) -> None:
        self.perception.stop()

    def _on_event(self, event: ev.Event) -> None:
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("perception listener failed on %s", type(event).__name__)
        if isinstance(event, vev.PresenceChanged):
            if event.present:
                self.session.visitor_arrived(greet=self.greet_on_arrival)
            else:
                # the visitor walked away: forget them (kiosk privacy), back to idle
                self.session.set_user_affect(None)
                self.session.visitor_left()
        elif isinstance(event, vev.AffectUpdated):
            self.session.set_user_affect(event.affect)
