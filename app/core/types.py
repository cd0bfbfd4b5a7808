"""Plain value types shared by the roles. No Qt, no engine libraries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
ChatRole = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: ChatRole
    content: str


@dataclass(frozen=True, slots=True)
class Transcript:
    text: str
    language: str = ""
    # seconds of audio the transcript covers; lets benches compute real-time factors
    audio_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Viseme:
    """One mouth shape held from ``start`` for ``duration`` seconds of the utterance."""

    name: str
    start: float
    duration: float
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class WordTiming:
    """One spoken word, heard from sample ``start`` up to (not including) ``end``.

    Samples count from the first sample of the chunk that carries the word.
    """

    word: str
    start: int
    end: int


@dataclass(frozen=True, slots=True, eq=False)
class SpeechChunk:
    """A piece of synthesized speech with the visemes that fall inside it.

    Viseme times are relative to the first sample of this chunk. ``words`` (optional: only
    engines that know where words fall give them) lets "what was heard" end on a word.
    """

    samples: FloatArray
    sample_rate: int
    visemes: tuple[Viseme, ...] = ()
    text: str = ""
    words: tuple[WordTiming, ...] = ()

    @property
    def seconds(self) -> float:
        return len(self.samples) / float(self.sample_rate)


@dataclass(frozen=True, slots=True)
class PlaybackReport:
    """What the listener actually heard when playback ended or was stopped."""

    heard_samples: int
    sample_rate: int
    interrupted: bool

    @property
    def heard_seconds(self) -> float:
        return self.heard_samples / float(self.sample_rate) if self.sample_rate else 0.0


@dataclass(frozen=True, slots=True, eq=False)
class VideoFrame:
    """A camera frame, independent of Qt and OpenCV: RGB, uint8, HxWx3."""

    pixels: npt.NDArray[np.uint8]
    ts: float


@dataclass(frozen=True, slots=True)
class FaceObservation:
    present: bool
    blendshapes: dict[str, float] = field(default_factory=dict)
    # yaw, pitch, roll in degrees
    head_pose: tuple[float, float, float] = (0.0, 0.0, 0.0)
    looking_at_screen: bool = False


@dataclass(frozen=True, slots=True)
class Affect:
    """A soft estimate, never a verdict: valence/arousal in [-1, 1] with confidence."""

    valence: float
    arousal: float
    label: str = "neutral"
    confidence: float = 0.0
    evidence: tuple[str, ...] = ()
