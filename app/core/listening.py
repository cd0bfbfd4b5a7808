"""Turns microphone frames into utterances with the voice-activity role.

Runs in the caller's thread (the capture thread): voice activity on a 32 ms frame is
cheap, and the expensive parts (transcription, partial captions) run in other threads.

Optional parts, all off by default (then the collector is the plain VAD cutter):

* ``echo_reference``: what the speaker played (``SoundDeviceSink.reference``). Frames
  pass an echo gate first (:mod:`speech.barge_in`): the avatar's own voice coming back
  through the room is subtracted and can never start an utterance, and a person talking
  over the avatar starts one within ~100 ms (faster than the VAD's ``start_ms``) so the
  session can cut the avatar off. Such a fast start must be confirmed by the VAD within
  ``confirm_s`` or the utterance is dropped.
* ``speculator`` (:class:`speech.asr.live.SpeculativeTranscriber`): when the VAD reports
  a pause of ``speculate_ms`` the audio so far is transcribed in the background; when the
  turn closes without more speech the session's transcription reuses that work (the
  decoding hides behind the ``stop_ms`` wait: ``bench/listen_latency.py``; a partial
  caption still waiting then is withdrawn, as it would hold the shared model). With
  ``endpoint_ms`` the turn also closes early, after that much silence, when the
  speculative transcript ends a sentence ("." "?" "!"). Off by default: Whisper ends
  almost any phrase it is given with a period, so this behaves like a short ``stop_ms``
  (same split utterances and WER in the bench); it needs a better completion signal.
* ``on_partial`` + ``partial_transcriber``: interim captions about every
  ``partial_interval_s`` of new speech, from a worker thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from app.core.roles import Transcriber, VoiceActivity
from app.core.types import FloatArray

_LOG = logging.getLogger(__name__)
_FINAL_MARKS = (".", "?", "!", "。", "？", "！")


class GateOutput(Protocol):
    @property
    def audio(self) -> FloatArray: ...  # the frame minus the predicted echo
    @property
    def vad_audio(self) -> FloatArray: ...  # silenced where only echo was heard
    @property
    def barge_in(self) -> bool: ...  # a person started speaking over the avatar


class EchoGateLike(Protocol):
    def process(self, frame: FloatArray, arrival: float | None = None) -> GateOutput: ...


class SpeculationLike(Protocol):
    def done(self) -> bool: ...
    def text(self) -> str | None: ...


class SpeculatorLike(Protocol):
    def speculate(self, audio: FloatArray, sample_rate: int) -> Any: ...
    def discard(self, speculation: Any) -> None: ...
    def confirm(self, speculation: Any, final_audio: FloatArray) -> None: ...


def sounds_final(text: str) -> bool:
    """Whether a transcript reads as a finished sentence (Whisper punctuates: a pause
    inside a sentence mostly ends in "," or nothing, a trailing-off one in "...")."""
    text = text.strip()
    return not text or (text.endswith(_FINAL_MARKS) and not text.endswith(".."))


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
        *,
        echo_reference: Any = None,
        confirm_s: float = 1.0,
        speculator: SpeculatorLike | None = None,
        speculate_ms: float = 32.0,
        endpoint_ms: float | None = None,
        on_partial: Callable[[str], None] | None = None,
        partial_transcriber: Transcriber | None = None,
        partial_interval_s: float = 1.0,
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
        self._gate = _make_gate(echo_reference, sample_rate)
        self._confirm_samples = int(confirm_s * sample_rate)
        self._confirmed = True  # the VAD itself said "start" for this utterance
        self._begun = 0  # samples collected (the preroll) when the utterance began
        self._speculator = speculator
        self._speculate_ms = speculate_ms
        self._endpoint_ms = endpoint_ms
        self._speculation: Any = None
        self._on_partial = on_partial
        self._partial_samples = int(partial_interval_s * sample_rate)
        self._offered = 0  # samples collected when partial audio was last offered
        self._utterance = 0  # id of the current utterance (partials of old ones are dropped)
        self._partials: Any = None
        if on_partial is not None and partial_transcriber is not None:
            from speech.asr.live import PartialWorker

            self._partials = PartialWorker(partial_transcriber, sample_rate, self._partial_text)
        self.fast_starts = 0  # utterances started by the echo gate (barge-in over the avatar)
        self.dropped = 0  # fast starts the VAD never confirmed

    def feed(self, frame: FloatArray) -> None:
        arrival = time.monotonic()
        with self._lock:
            if self._gate is not None:
                gated = self._gate.process(frame, arrival)
                audio, heard, barge_in = gated.audio, gated.vad_audio, gated.barge_in
            else:
                audio, heard, barge_in = frame, frame, False
            decision = self._vad.process(heard)
            start = False
            if not self._speaking and (decision == "start" or barge_in):
                start = True
                self._begin(confirmed=decision == "start")
            elif self._speaking and decision == "start":
                self._confirmed = True
            finished: FloatArray | None = None
            if self._speaking:
                self._frames.append(audio)
                self._collected += len(audio)
                finished = self._advance(decision)
            else:
                self._remember(audio)
        # callbacks outside the lock: they may post to other threads
        if start:
            self._on_start()
        if finished is not None:
            self._on_utterance(finished)

    def close(self) -> None:
        """Stop the partial-caption worker (if any)."""
        if self._partials is not None:
            self._partials.close()

    # ------------------------------------------------------------ internals
    def _begin(self, confirmed: bool) -> None:
        self._speaking = True
        self._confirmed = confirmed
        if not confirmed:
            self.fast_starts += 1
        self._utterance += 1
        self._frames = list(self._preroll)
        self._collected = sum(len(f) for f in self._frames)
        self._offered = self._begun = self._collected  # the preroll is not waiting time
        self._preroll.clear()
        self._speculation = None

    def _advance(self, decision: str | None) -> FloatArray | None:
        """Speculation, partials and the end of the turn, once the frame is stored."""
        if not self._confirmed and self._collected - self._begun >= self._confirm_samples:
            # the echo gate's start was never confirmed by the VAD: not a person after all
            self.dropped += 1
            self._end()
            self._vad.reset()
            return None
        if decision == "stop":
            return self._finish()
        if self._collected >= self._max_samples:
            self._vad.reset()
            return self._finish()
        silent = getattr(self._vad, "silent_ms", None)
        if not isinstance(silent, (int, float)):
            silent = 0.0
        self._speculate(float(silent))
        if self._endpoint_reached(float(silent)):
            self._vad.reset()
            return self._finish()
        grown = self._collected - self._offered >= self._partial_samples
        if silent == 0 and self._partials is not None and grown:
            self._offered = self._collected
            self._partials.offer(self._utterance, np.concatenate(self._frames))
        return None

    def _speculate(self, silent: float) -> None:
        if self._speculator is None or not self._confirmed:
            return
        if silent == 0.0:
            if self._speculation is not None:  # the person went on speaking
                self._speculator.discard(self._speculation)
                self._speculation = None
            return
        if self._speculation is None and silent >= self._speculate_ms:
            if self._partials is not None:  # a caption not yet begun must not delay it
                self._partials.withdraw()
            audio = np.concatenate(self._frames).astype(np.float32, copy=False)
            self._speculation = self._speculator.speculate(audio, self._rate)

    def _endpoint_reached(self, silent: float) -> bool:
        if self._endpoint_ms is None or self._speculation is None or silent < self._endpoint_ms:
            return False
        text = self._speculation.text() if self._speculation.done() else None
        return text is not None and sounds_final(text)

    def _finish(self) -> FloatArray:
        finished = np.concatenate(self._frames).astype(np.float32, copy=False)
        if self._speculation is not None and self._speculator is not None:
            self._speculator.confirm(self._speculation, finished)
        self._end()
        return finished

    def _end(self) -> None:
        self._frames, self._collected, self._speaking = [], 0, False
        self._speculation = None
        self._utterance += 1  # partials still running belong to no utterance now
        if self._partials is not None:
            self._partials.withdraw()

    def _partial_text(self, key: int, text: str) -> None:
        with self._lock:
            current = self._speaking and key == self._utterance
        if current and self._on_partial is not None:
            self._on_partial(text)

    def _remember(self, frame: FloatArray) -> None:
        self._preroll.append(frame)
        total = sum(len(f) for f in self._preroll)
        while self._preroll and total - len(self._preroll[0]) >= self._preroll_samples:
            total -= len(self._preroll.popleft())


def _make_gate(echo_reference: Any, sample_rate: int) -> EchoGateLike | None:
    """An echo gate over the speaker's reference (or the gate itself when given one)."""
    if echo_reference is None:
        return None
    if callable(getattr(echo_reference, "process", None)):
        gate: EchoGateLike = echo_reference
        return gate
    if sample_rate != 16000:
        raise ValueError(f"the echo gate works on 16 kHz frames, not {sample_rate} Hz")
    from speech.barge_in import EchoGate

    probability: Any = None
    try:
        from speech.vad.silero import SileroProbabilities

        probability = SileroProbabilities()
    except Exception as exc:  # no onnxruntime/model: energy alone decides (more false starts)
        _LOG.warning("echo gate without Silero (%s): barge-in on energy alone", exc)
    built: EchoGateLike = EchoGate(echo_reference, probability=probability)
    return built
