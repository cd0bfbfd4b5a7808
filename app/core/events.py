"""Typed session events.

Every event carries a monotonic timestamp taken when it was created, so a turn's
latency timeline can be rebuilt from the events alone. Events come in two
priorities (the idea is Pipecat's frames):

* ``CONTROL`` events (interrupt, user started speaking, state changes, errors) jump
  the queue and survive an interruption;
* ``DATA`` events (text chunks, audio, visemes) keep their order and are dropped
  when the turn they belong to is interrupted.
"""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from app.core.types import Viseme, WordTiming


class Priority(enum.IntEnum):
    CONTROL = 0
    DATA = 1


class AvatarMode(enum.StrEnum):
    IDLE = "idle"
    LISTENING = "listening"
    THINKING = "thinking"
    SPEAKING = "speaking"


def now() -> float:
    """The session clock: monotonic seconds, shared by every event."""
    return time.monotonic()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    priority: ClassVar[Priority] = Priority.DATA
    ts: float = field(default_factory=now)
    turn_id: int = 0


# ---------------------------------------------------------------- control events
@dataclass(frozen=True, slots=True, kw_only=True)
class ControlEvent(Event):
    priority: ClassVar[Priority] = Priority.CONTROL


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionStarted(ControlEvent):
    persona: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded(ControlEvent):
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UserStartedSpeaking(ControlEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class UserStoppedSpeaking(ControlEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class Interrupted(ControlEvent):
    """The current turn was cut off; ``heard_text`` is what the user actually heard."""

    heard_text: str = ""
    heard_seconds: float = 0.0
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeChanged(ControlEvent):
    mode: AvatarMode = AvatarMode.IDLE


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnStarted(ControlEvent):
    user_text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnEnded(ControlEvent):
    reply_text: str = ""
    interrupted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(ControlEvent):
    """Something the person running the session should know (a degraded part, an error).

    ``role`` names the part that failed (``chat``, ``asr``...), ``message`` says what
    happened and what to do, in words for a person, never a traceback.
    """

    role: str = ""
    message: str = ""
    severity: str = "warning"


# ------------------------------------------------------------------- data events
@dataclass(frozen=True, slots=True, kw_only=True)
class PartialTranscript(Event):
    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalTranscript(Event):
    text: str = ""
    language: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyChunk(Event):
    """A piece of the streamed reply as the model wrote it."""

    text: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplySentence(Event):
    """A whole sentence/clause of the reply, ready to be spoken and captioned."""

    text: str = ""
    index: int = 0


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class AudioOut(Event):
    """Synthesized audio handed to the sink; ``start_sample`` is its place in the turn.

    ``text`` is the caption piece this audio speaks ("" when it continues the previous
    piece) and ``words`` where its spoken words fall (samples from this chunk's start):
    the captions reveal the reply as it is heard, on the audio clock.
    """

    samples: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, np.float32))
    sample_rate: int = 16000
    start_sample: int = 0
    sentence_index: int = 0
    text: str = ""
    words: tuple[WordTiming, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class VisemesOut(Event):
    """The viseme timeline for one spoken sentence, in seconds of turn audio."""

    visemes: tuple[Viseme, ...] = ()
    sentence_index: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class AvatarFrame(Event):
    """The rig state the renderer should show (ARKit-52 weights by name)."""

    weights: tuple[tuple[str, float], ...] = ()
    mode: AvatarMode = AvatarMode.IDLE


# ------------------------------------------------------------ safety, tools, presence
@dataclass(frozen=True, slots=True, kw_only=True)
class StaffAlert(ControlEvent):
    """Staff should come: a crisis was detected or the visitor asked for a person.

    Control priority: an alert must never be dropped by an interruption. ``severity`` is
    ``"urgent"`` (the visitor may be at risk), ``"high"`` (someone they mention may be) or
    ``"info"`` (a plain request). ``reason`` names the check or the request, never the
    visitor's own words (they stay out of alert logs).
    """

    reason: str = ""
    severity: str = "high"
    kind: str = "crisis"  # crisis | request


@dataclass(frozen=True, slots=True, kw_only=True)
class SafetyAction(ControlEvent):
    """The safety layer acted on this turn (for the operator's log and tests).

    ``kind``: ``crisis-protocol``, ``medical-referral``, ``output-guard`` (a model sentence
    was replaced or dropped) or ``injection`` (instruction-like text treated as data).
    """

    kind: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEndRequested(ControlEvent):
    """The model (``end_session`` tool) or the visitor asked to end; the app decides."""

    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ShowInfo(ControlEvent):
    """Show one of the persona's info cards. Control priority: a card the visitor is
    reading stays up when they interrupt the speech that introduced it."""

    card: str = ""
    title: str = ""
    body: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitorPresence(ControlEvent):
    """A visitor arrived (greeted) or left (memory wiped, back to idle)."""

    present: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpressionCue(Event):
    """An expression tag from the reply (``smile``, ``nod``...), for the avatar.

    Data priority: it belongs at its place in the reply (``sentence_index``: the sentence
    it precedes or sits in), so it keeps its order with the sentences, and the cues of an
    interrupted turn are dropped with its audio; a smile after the visitor cut in would be
    out of place.
    """

    tag: str = ""
    intensity: float = 1.0
    sentence_index: int = 0
