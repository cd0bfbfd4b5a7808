"""One small interface per role.

Each role has an embedded default, real alternatives and a fake for unit tests, all
built by :mod:`app.core.registry` from the settings. Blocking roles (ASR, TTS, face)
are called from worker threads by the orchestrator; the chat role is async because
it streams over the network and must be cancellable mid-stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

from app.core.types import (
    Affect,
    ChatMessage,
    FaceObservation,
    FloatArray,
    PlaybackReport,
    SpeechChunk,
    Transcript,
    VideoFrame,
)

AudioCallback = Callable[[FloatArray], None]


@runtime_checkable
class AudioSource(Protocol):
    """Delivers mono float32 frames at ``sample_rate`` to a callback, from its own thread."""

    sample_rate: int

    def start(self, on_frame: AudioCallback) -> None: ...
    def stop(self) -> None: ...


@runtime_checkable
class VoiceActivity(Protocol):
    """Turns frames into speech start/stop decisions."""

    def process(self, frame: FloatArray) -> str | None:
        """Return ``"start"`` or ``"stop"`` when the speaking state changes, else None."""
        ...

    def reset(self) -> None: ...


@runtime_checkable
class Transcriber(Protocol):
    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        """Blocking; called from a worker thread."""
        ...


@runtime_checkable
class Chat(Protocol):
    """An LLM that streams a reply. Cancelling the iteration must stop the request."""

    def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]: ...


@runtime_checkable
class NoticeSource(Protocol):
    """A role that can change how it works mid-session (e.g. a chat that fell back to FAQ
    mode) and says so; the session turns each message into a Notice event."""

    def pop_notices(self) -> list[str]: ...


@runtime_checkable
class Synthesizer(Protocol):
    sample_rate: int

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        """Blocking generator; yields audio as soon as each piece is ready."""
        ...


@runtime_checkable
class AudioSink(Protocol):
    """Plays audio and owns the audio clock."""

    def play(self, chunk: SpeechChunk) -> None:
        """Queue a chunk for playback; returns at once."""
        ...

    def heard_samples(self) -> int:
        """Samples of the current utterance the listener has heard so far."""
        ...

    def wait_done(self, timeout: float | None = None) -> bool:
        """Block until everything queued was heard; False on timeout."""
        ...

    def stop(self) -> PlaybackReport:
        """Stop at once, drop what is queued, report how much was heard; resets the clock."""
        ...


@runtime_checkable
class FaceTracker(Protocol):
    def process(self, frame: VideoFrame) -> FaceObservation: ...


@runtime_checkable
class AffectEstimator(Protocol):
    def estimate(
        self, face: FaceObservation | None, prosody: dict[str, float] | None
    ) -> Affect: ...


@runtime_checkable
class AvatarRenderer(Protocol):
    """Shows a rig state: ARKit-52 blendshape weights by name."""

    def show(self, weights: dict[str, float], mode: str) -> None: ...
