"""Turns microphone frames into utterances with the voice-activity role.

Runs in the caller's thread (the capture thread): voice activity on a 32 ms frame
is cheap, and the expensive part (transcription) is handed to the session.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

import numpy as np

from app.core.roles import VoiceActivity
from app.core.types import FloatArray


class UtteranceCollector:
    """Collects the audio of one utterance between the VAD's ``start`` and ``stop``.

    A little audio from before the start decision is kept (``preroll``), because
    the VAD decides a few frames after the first syllable began.
    """

    def __init__(
        self,
        vad: VoiceActivity,
        sample_rate: int,
        on_start: Callable[[], None],
        on_utterance: Callable[[FloatArray], None],
        preroll_s: float = 0.5,
        max_utterance_s: float = 30.0,
    ) -> None:
        self._vad = vad
        self._rate = sample_rate
        self._on_start = on_start
        self._on_utterance = on_utterance
        self._preroll: deque[FloatArray] = deque()
        self._preroll_samples = int(preroll_s * sample_rate)
        self._max_samples = int(max_utterance_s * sample_rate)
        self._frames: list[FloatArray] = []
        self._collected = 0
        self._speaking = False
        self._lock = threading.Lock()

    def feed(self, frame: FloatArray) -> None:
        with self._lock:
            decision = self._vad.process(frame)
            if decision == "start" and not self._speaking:
                self._speaking = True
                self._frames = list(self._preroll)
                self._collected = sum(len(f) for f in self._frames)
                self._preroll.clear()
                start = True
            else:
                start = False
            finished: FloatArray | None = None
            if self._speaking:
                self._frames.append(frame)
                self._collected += len(frame)
                if decision == "stop" or self._collected >= self._max_samples:
                    finished = np.concatenate(self._frames).astype(np.float32, copy=False)
                    self._frames, self._collected, self._speaking = [], 0, False
                    if decision != "stop":
                        self._vad.reset()
            else:
                self._remember(frame)
        # callbacks outside the lock: they may post to other threads
        if start:
            self._on_start()
        if finished is not None:
            self._on_utterance(finished)

    def _remember(self, frame: FloatArray) -> None:
        self._preroll.append(frame)
        total = sum(len(f) for f in self._preroll)
        while self._preroll and total - len(self._preroll[0]) >= self._preroll_samples:
            total -= len(self._preroll.popleft())
