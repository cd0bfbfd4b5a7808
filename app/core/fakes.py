"""Test fakes, one per role: fast, deterministic, and honest about what they are.

They behave like the real roles where the session depends on it (real-time audio
clock, cancellable streaming, blocking synthesis) so that orchestration tests mean
something, but they load no model and touch no device. Never a production default.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence

import numpy as np

from app.core.roles import AudioCallback
from app.core.types import (
    Affect,
    ChatMessage,
    FaceObservation,
    FloatArray,
    PlaybackReport,
    SpeechChunk,
    Transcript,
    VideoFrame,
    Viseme,
)


class FakeChat:
    """Streams a scripted reply word by word; can fail or stall like a real server."""

    def __init__(
        self,
        reply: str
        | Callable[[Sequence[ChatMessage]], str] = "Hello there. How can I help you today?",
        *,
        first_token_delay: float = 0.0,
        token_delay: float = 0.0,
        error: Exception | None = None,
    ) -> None:
        self.reply = reply
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.error = error
        self.requests: list[list[ChatMessage]] = []
        self.cancelled = threading.Event()

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        self.requests.append(list(messages))
        try:
            await asyncio.sleep(self.first_token_delay)
            if self.error is not None:
                raise self.error
            text = self.reply(messages) if callable(self.reply) else self.reply
            words = text.split(" ")
            for index, word in enumerate(words):
                yield word if index == 0 else " " + word
                await asyncio.sleep(self.token_delay)
        except (asyncio.CancelledError, GeneratorExit):
            self.cancelled.set()
            raise


class FakeToolChat(FakeChat):
    """A FakeChat that also speaks the tools protocol (``stream_with_tools``).

    ``rounds``: what each successive request answers, a list of text pieces and tool
    calls (any object with ``id``, ``name``, ``arguments``, e.g. ``dialog.tools.ToolCall``);
    after the last round it answers ``reply`` like a FakeChat. ``tool_requests`` records
    (messages, tools, exchanges) per request.
    """

    def __init__(
        self,
        rounds: Sequence[Sequence[object]] = (),
        reply: str = "All done.",
        **kwargs: float,
    ) -> None:
        super().__init__(reply, **kwargs)  # type: ignore[arg-type]
        self.rounds = [list(r) for r in rounds]
        self.tool_requests: list[tuple[list[ChatMessage], list[object], list[object]]] = []

    async def stream_with_tools(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[object],
        exchanges: Sequence[object] = (),
    ) -> AsyncIterator[object]:
        self.tool_requests.append((list(messages), list(tools), list(exchanges)))
        if not self.rounds:
            async for piece in self.stream(messages):
                yield piece
            return
        self.requests.append(list(messages))
        for item in self.rounds.pop(0):
            await asyncio.sleep(self.token_delay)
            yield item


class FakeTranscriber:
    def __init__(self, text: str = "hello", language: str = "en", delay: float = 0.0) -> None:
        self.text, self.language, self.delay = text, language, delay
        self.calls = 0

    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        self.calls += 1
        time.sleep(self.delay)
        return Transcript(self.text, language or self.language, len(audio) / float(sample_rate))


class FakeVoiceActivity:
    """An energy gate with start/stop hold times: enough for synthetic test signals."""

    def __init__(
        self,
        sample_rate: int = 16000,
        threshold: float = 0.02,
        start_ms: int = 60,
        stop_ms: int = 200,
    ) -> None:
        self.sample_rate = sample_rate
        self.threshold = threshold
        self.start_samples = sample_rate * start_ms // 1000
        self.stop_samples = sample_rate * stop_ms // 1000
        self.reset()

    def reset(self) -> None:
        self.speaking = False
        self._run = 0

    def process(self, frame: FloatArray) -> str | None:
        loud = float(np.sqrt(np.mean(np.square(frame)))) > self.threshold if len(frame) else False
        if loud != self.speaking:
            self._run += len(frame)
            needed = self.start_samples if loud else self.stop_samples
            if self._run >= needed:
                self.speaking, self._run = loud, 0
                return "start" if loud else "stop"
        else:
            self._run = 0
        return None


def _mouth_for(word: str) -> str:
    vowels = [c for c in word.lower() if c in "aeiou"]
    return (
        {"a": "aa", "e": "E", "i": "I", "o": "O", "u": "U"}.get(vowels[0], "aa") if vowels else "PP"
    )


class FakeSynthesizer:
    """A tone per word with a matching viseme timeline, produced in real blocks."""

    def __init__(
        self, sample_rate: int = 16000, seconds_per_word: float = 0.25, delay: float = 0.0
    ) -> None:
        self.sample_rate = sample_rate
        self.seconds_per_word = seconds_per_word
        self.delay = delay
        self.spoken: list[str] = []

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        time.sleep(self.delay)
        self.spoken.append(text)
        words = text.split() or [""]
        n = int(self.seconds_per_word * self.sample_rate)
        t = np.arange(n, dtype=np.float32) / self.sample_rate
        visemes = []
        blocks = []
        for index, word in enumerate(words):
            blocks.append((0.2 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32))
            visemes.append(
                Viseme(_mouth_for(word), index * self.seconds_per_word, self.seconds_per_word)
            )
        yield SpeechChunk(np.concatenate(blocks), self.sample_rate, tuple(visemes), text)


class FakeAudioSink:
    """Plays nothing but keeps a real-time clock, so "heard" advances like a speaker's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued = 0
        self._sample_rate = 16000
        self._started: float | None = None
        self.played: list[SpeechChunk] = []

    def play(self, chunk: SpeechChunk) -> None:
        with self._lock:
            self._sample_rate = chunk.sample_rate
            if self._started is None or self._heard_locked() >= self._queued:
                # the speaker was idle: the clock restarts where the queue ended
                self._started = time.monotonic() - self._queued / self._sample_rate
            self._queued += len(chunk.samples)
            self.played.append(chunk)

    def _heard_locked(self) -> int:
        if self._started is None:
            return 0
        elapsed = int((time.monotonic() - self._started) * self._sample_rate)
        return min(elapsed, self._queued)

    def heard_samples(self) -> int:
        with self._lock:
            return self._heard_locked()

    def wait_done(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                left = self._queued - self._heard_locked()
                rate = self._sample_rate
            if left <= 0:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(min(left / rate, 0.01))

    def stop(self) -> PlaybackReport:
        with self._lock:
            heard = self._heard_locked()
            interrupted = heard < self._queued
            report = PlaybackReport(heard, self._sample_rate, interrupted)
            self._queued, self._started = 0, None
            return report


class FakeAudioSource:
    """Feeds a prepared signal in real-time frames from its own thread, like a microphone."""

    def __init__(
        self,
        signal: FloatArray,
        sample_rate: int = 16000,
        frame_ms: int = 32,
        realtime: bool = True,
    ) -> None:
        self.sample_rate = sample_rate
        self.signal = signal
        self.frame = sample_rate * frame_ms // 1000
        self.realtime = realtime
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()

    def start(self, on_frame: AudioCallback) -> None:
        def run() -> None:
            for offset in range(0, len(self.signal), self.frame):
                if self._stop.is_set():
                    break
                on_frame(self.signal[offset : offset + self.frame])
                if self.realtime:
                    time.sleep(self.frame / self.sample_rate)
            self.finished.set()

        self._thread = threading.Thread(target=run, name="fake-mic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


class FakeFaceTracker:
    def __init__(self, present: bool = True, smile: float = 0.0) -> None:
        self.present, self.smile = present, smile

    def process(self, frame: VideoFrame) -> FaceObservation:
        shapes = (
            {"mouthSmileLeft": self.smile, "mouthSmileRight": self.smile} if self.present else {}
        )
        return FaceObservation(self.present, shapes, looking_at_screen=self.present)


class FakeAffectEstimator:
    def estimate(self, face: FaceObservation | None, prosody: dict[str, float] | None) -> Affect:
        if face is None or not face.present:
            return Affect(0.0, 0.0, "unknown", 0.0)
        smile = (
            face.blendshapes.get("mouthSmileLeft", 0.0)
            + face.blendshapes.get("mouthSmileRight", 0.0)
        ) / 2
        return Affect(smile, 0.0, "happy" if smile > 0.5 else "neutral", 0.3, ("smile",))


class FakeAvatarRenderer:
    def __init__(self) -> None:
        self.frames: list[tuple[dict[str, float], str]] = []

    def show(self, weights: dict[str, float], mode: str) -> None:
        self.frames.append((dict(weights), mode))
