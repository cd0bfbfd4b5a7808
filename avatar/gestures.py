"""Head gestures as smooth curves of time: nod, shake, tilt, laugh.

Each curve starts and ends at zero with zero velocity (every term is a product of sines that
vanish at both ends), so a gesture blends onto whatever the head is doing without a snap.
Angles in degrees: yaw > 0 turns to the avatar's left, pitch > 0 lifts the chin, roll > 0
tilts the head toward the avatar's left shoulder.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

GESTURE_NAMES: tuple[str, ...] = ("nod", "shake", "tilt", "laugh")

DURATION: Mapping[str, float] = MappingProxyType(
    {"nod": 0.8, "shake": 1.0, "tilt": 1.6, "laugh": 1.0}
)


@dataclass(frozen=True, slots=True)
class Gesture:
    name: str
    start: float
    amplitude: float = 1.0  # 1 is a clear conversational gesture; a backchannel nod is ~0.6

    @property
    def duration(self) -> float:
        return DURATION[self.name]

    def done(self, now: float) -> bool:
        return now - self.start >= self.duration

    def offset(self, now: float) -> tuple[float, float, float]:
        """(yaw, pitch, roll) in degrees at ``now``; zeros outside the gesture."""
        d = self.duration
        u = (now - self.start) / d
        if u <= 0.0 or u >= 1.0:
            return (0.0, 0.0, 0.0)
        a = self.amplitude
        if self.name == "nod":
            # two dips, the second smaller, as people nod
            return (0.0, -6.0 * a * math.sin(2.0 * math.pi * u) ** 2 * (1.0 - 0.4 * u), 0.0)
        if self.name == "shake":
            # one and a half swings side to side under a bell window
            return (7.0 * a * math.sin(3.0 * math.pi * u) * math.sin(math.pi * u), 0.0, 0.0)
        if self.name == "tilt":
            return (0.0, 1.0 * a * math.sin(math.pi * u) ** 2, 6.0 * a * math.sin(math.pi * u) ** 2)
        # laugh: the chin lifts and bobs a few times
        window = math.sin(math.pi * u) ** 2
        bobs = math.sin(2.0 * math.pi * 4.0 * u * d) * math.sin(math.pi * u)
        return (0.0, a * (3.0 * window + 1.5 * bobs), 1.5 * a * window)
