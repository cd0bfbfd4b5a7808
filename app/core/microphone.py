"""Who may speak when: hands-free, push-to-talk, or muted, over one audio source.

Hands-free sends every frame to the session, whose voice-activity detector finds the
turns. Push-to-talk suits a noisy lobby: nothing is heard until the visitor holds the
button, pressing it cuts the avatar off (they want the floor), and releasing it hands
the whole utterance to the session at once. Muted drops frames at the door, so nothing
is buffered or transcribed while the operator has the microphone off.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from typing import Protocol

import numpy as np

from app.core.roles import AudioSource
from app.core.types import FloatArray

MessageCallback = Callable[[str], None]


class MicMode(enum.StrEnum):
    HANDS_FREE = "hands-free"
    PUSH_TO_TALK = "push-to-talk"
    MUTED = "muted"


class SessionInput(Protocol):
    """The part of the Session the microphone needs (kept small for tests)."""

    def feed_audio(self, frame: FloatArray) -> None: ...
    def hear_utterance(self, audio: FloatArray) -> int: ...
    def interrupt(self, reason: str = "user") -> None: ...


class Microphone:
    """``Microphone(source, session)``; ``start()`` opens the device, ``set_mode`` switches.

    Thread-safe: the source calls ``_on_frame`` from its capture thread; the GUI calls
    ``set_mode``/``press``/``release`` from the UI thread.
    """

    # push-to-talk holds at most this long: a stuck button must not eat memory
    MAX_HOLD_S = 60.0

    def __init__(
        self,
        source: AudioSource,
        session: SessionInput,
        mode: MicMode = MicMode.HANDS_FREE,
    ) -> None:
        self.source = source
        self.session = session
        self._mode = mode
        self._lock = threading.Lock()
        self._held: list[FloatArray] | None = None
        self._held_samples = 0
        self._running = False

    @property
    def mode(self) -> MicMode:
        return self._mode

    @property
    def holding(self) -> bool:
        return self._held is not None

    def start(self) -> None:
        """Open the device; raises the source's error (e.g. no microphone) for the caller."""
        if not self._running:
            self.source.start(self._on_frame)
            self._running = True

    def stop(self) -> None:
        if self._running:
            self.source.stop()
            self._running = False

    def set_mode(self, mode: MicMode) -> None:
        with self._lock:
            self._mode = mode
            self._held = None  # a half-held utterance is dropped, never sent by surprise
            self._held_samples = 0

    def press(self) -> None:
        """Push-to-talk pressed: the visitor takes the floor (the avatar stops)."""
        with self._lock:
            if self._mode is not MicMode.PUSH_TO_TALK:
                return
            self._held, self._held_samples = [], 0
        self.session.interrupt("push-to-talk")

    def release(self) -> int | None:
        """Push-to-talk released: the held utterance becomes a turn; returns its turn id."""
        with self._lock:
            held, self._held = self._held, None
            self._held_samples = 0
        if not held:
            return None
        return self.session.hear_utterance(np.concatenate(held).astype(np.float32))

    def _on_frame(self, frame: FloatArray) -> None:
        with self._lock:
            mode = self._mode
            if mode is MicMode.PUSH_TO_TALK:
                limit = self.MAX_HOLD_S * self.source.sample_rate
                if self._held is not None and self._held_samples < limit:
                    self._held.append(frame.copy())
                    self._held_samples += len(frame)
                return
        if mode is MicMode.HANDS_FREE:
            self.session.feed_audio(frame)
