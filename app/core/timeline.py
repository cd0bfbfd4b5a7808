"""A turn's latency timeline, rebuilt from event timestamps alone."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from app.core import events as ev

# the milestones of a spoken turn, in the order a person experiences them
MILESTONES = ("user_stopped", "final_transcript", "first_token", "first_audio", "first_viseme")

_FIRST_OF: dict[type[ev.Event], str] = {
    ev.UserStoppedSpeaking: "user_stopped",
    ev.FinalTranscript: "final_transcript",
    ev.ReplyChunk: "first_token",
    ev.AudioOut: "first_audio",
    ev.VisemesOut: "first_viseme",
}


@dataclass
class TurnTimeline:
    turn_id: int
    marks: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False
    ended: bool = False

    def since_start(self) -> dict[str, float]:
        """Milliseconds from the first recorded milestone to each later one."""
        if not self.marks:
            return {}
        origin = min(self.marks.values())
        return {name: (ts - origin) * 1000.0 for name, ts in self.marks.items()}

    def gap_ms(self, start: str, end: str) -> float | None:
        if start in self.marks and end in self.marks:
            return (self.marks[end] - self.marks[start]) * 1000.0
        return None

    def is_complete(self) -> bool:
        return all(name in self.marks for name in MILESTONES)

    def describe(self) -> str:
        rel = self.since_start()
        parts = [f"{name} +{rel[name]:.0f} ms" for name in MILESTONES if name in rel]
        return f"turn {self.turn_id}: " + ", ".join(parts)


class TimelineRecorder:
    """A session listener that keeps the first timestamp of each milestone per turn."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._turns: dict[int, TurnTimeline] = {}

    def __call__(self, event: ev.Event) -> None:
        name = _FIRST_OF.get(type(event))
        with self._lock:
            if name is not None:
                timeline = self._turns.setdefault(event.turn_id, TurnTimeline(event.turn_id))
                timeline.marks.setdefault(name, event.ts)
            elif isinstance(event, ev.TurnEnded | ev.Interrupted):
                timeline = self._turns.setdefault(event.turn_id, TurnTimeline(event.turn_id))
                timeline.ended = True
                timeline.interrupted = timeline.interrupted or isinstance(event, ev.Interrupted)

    def get(self, turn_id: int) -> TurnTimeline | None:
        with self._lock:
            return self._turns.get(turn_id)

    def all(self) -> list[TurnTimeline]:
        with self._lock:
            return [self._turns[k] for k in sorted(self._turns)]
