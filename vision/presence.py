"""Who is there, over time: face identities across frames, presence with hysteresis, and
the main user. Pure Python on timestamps, so every rule is unit-tested without a camera."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the image


class PresenceState(enum.StrEnum):
    ABSENT = "absent"
    ARRIVING = "arriving"  # a face is seen, not yet for long enough to count
    PRESENT = "present"
    LEAVING = "leaving"  # no face any more, not yet for long enough to count


@dataclass(frozen=True, slots=True)
class PresenceChange:
    kind: str  # "arrived" or "left"
    ts: float


class PresenceTracker:
    """absent -> arriving -> (arrived) present -> leaving -> (left) absent.

    A face must be seen for ``arrive_s`` before someone "arrives" (a passing false
    detection does not count) and be missing for ``leave_s`` before they "leave" (a
    blink of the tracker, a turned head or a hand over the face does not count).
    """

    def __init__(self, arrive_s: float = 0.3, leave_s: float = 1.5):
        self.arrive_s = arrive_s
        self.leave_s = leave_s
        self.state = PresenceState.ABSENT
        self._since = 0.0  # when the pending state began

    @property
    def present(self) -> bool:
        return self.state in (PresenceState.PRESENT, PresenceState.LEAVING)

    def update(self, seen: bool, ts: float) -> PresenceChange | None:
        state = self.state
        if state is PresenceState.ABSENT and seen:
            self.state, self._since = PresenceState.ARRIVING, ts
        elif state is PresenceState.ARRIVING and not seen:
            self.state = PresenceState.ABSENT
        elif state is PresenceState.PRESENT and not seen:
            self.state, self._since = PresenceState.LEAVING, ts
        elif state is PresenceState.LEAVING and seen:
            self.state = PresenceState.PRESENT
        if self.state is PresenceState.ARRIVING and ts - self._since >= self.arrive_s:
            self.state = PresenceState.PRESENT
            return PresenceChange("arrived", ts)
        if self.state is PresenceState.LEAVING and ts - self._since >= self.leave_s:
            self.state = PresenceState.ABSENT
            return PresenceChange("left", ts)
        return None

    def reset(self) -> None:
        self.state = PresenceState.ABSENT


def iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


class FaceIdentities:
    """Keeps an id on each face from frame to frame by box overlap (MediaPipe gives none).

    Greedy matching on IoU; a face unmatched for ``forget_s`` is forgotten, so a person who
    steps out and back in later gets a new id (and a fresh neutral baseline)."""

    def __init__(self, min_iou: float = 0.2, forget_s: float = 1.0):
        self.min_iou = min_iou
        self.forget_s = forget_s
        self._tracks: dict[int, tuple[Box, float]] = {}
        self._next_id = 1

    def assign(self, boxes: Sequence[Box], ts: float) -> list[int]:
        self._tracks = {
            tid: (box, seen)
            for tid, (box, seen) in self._tracks.items()
            if ts - seen <= self.forget_s
        }
        pairs = sorted(
            (
                (iou(box, old), index, tid)
                for index, box in enumerate(boxes)
                for tid, (old, _) in self._tracks.items()
            ),
            reverse=True,
        )
        ids: list[int | None] = [None] * len(boxes)
        used: set[int] = set()
        for overlap, index, tid in pairs:
            if overlap < self.min_iou:
                break
            if ids[index] is None and tid not in used:
                ids[index] = tid
                used.add(tid)
        result = []
        for index, box in enumerate(boxes):
            found = ids[index]
            if found is None:
                found, self._next_id = self._next_id, self._next_id + 1
            self._tracks[found] = (box, ts)
            result.append(found)
        return result

    def reset(self) -> None:
        self._tracks.clear()


@dataclass(frozen=True, slots=True)
class Candidate:
    track_id: int
    size: float  # face height as a share of the frame height: nearer is larger
    frontal: float  # 1 = facing the camera, 0 = side-on


class MainUserSelector:
    """The person the avatar talks to: the nearest (largest) and most frontal face.

    The current main user's score is multiplied by ``stickiness`` and a challenger must
    stay ahead for ``switch_after_s`` before the choice changes, so two similar people do
    not make the avatar's gaze flip back and forth."""

    def __init__(self, stickiness: float = 1.3, switch_after_s: float = 0.8):
        self.stickiness = stickiness
        self.switch_after_s = switch_after_s
        self.main: int | None = None
        self._challenger: tuple[int, float] | None = None

    @staticmethod
    def score(candidate: Candidate) -> float:
        return candidate.size * (0.5 + 0.5 * max(0.0, candidate.frontal))

    def select(self, candidates: Sequence[Candidate], ts: float) -> int | None:
        if not candidates:
            self.main, self._challenger = None, None
            return None
        best = max(candidates, key=self.score)
        current = next((c for c in candidates if c.track_id == self.main), None)
        if current is None:
            self.main, self._challenger = best.track_id, None
            return self.main
        if best.track_id == current.track_id or self.score(best) <= (
            self.score(current) * self.stickiness
        ):
            self._challenger = None
            return self.main
        if self._challenger is None or self._challenger[0] != best.track_id:
            self._challenger = (best.track_id, ts)
        if ts - self._challenger[1] >= self.switch_after_s:
            self.main, self._challenger = best.track_id, None
        return self.main

    def reset(self) -> None:
        self.main, self._challenger = None, None
