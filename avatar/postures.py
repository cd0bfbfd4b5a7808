"""The avatar's posture per conversation mode: the face and head it rests in.

An expression (``avatar.expressions``) is added on top of the posture, so a smile while
listening keeps the attentive head tilt. Values are deliberately small; the mode should be
readable at a glance without the face looking posed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from app.core.events import AvatarMode
from avatar.expressions import Expression


@dataclass(frozen=True, slots=True)
class Posture:
    face: Expression
    noise: float  # degrees of idle head drift
    blink_rate: float  # > 1 blinks more often than the resting rate
    head_follows_side: bool = False  # thinking: yaw and roll turn toward the look-away side


def _face(name: str, head: tuple[float, float, float], **weights: float) -> Expression:
    expanded: dict[str, float] = {}
    for key, value in weights.items():
        if key.endswith("_"):  # ``mouthSmile_`` = both sides
            expanded[f"{key[:-1]}Left"] = value
            expanded[f"{key[:-1]}Right"] = value
        else:
            expanded[key] = value
    return Expression(name, MappingProxyType(expanded), head)


POSTURES: Mapping[AvatarMode, Posture] = MappingProxyType(
    {
        # relaxed: a trace of a smile, lids a little lower, the head at ease
        AvatarMode.IDLE: Posture(
            _face("idle", (0.0, -1.0, 0.0), mouthSmile_=0.08, eyeSquint_=0.05),
            noise=1.4,
            blink_rate=1.0,
        ),
        # attentive: eyes open, inner brows lifted a touch, the head tilted to listen
        AvatarMode.LISTENING: Posture(
            _face("listening", (0.0, -1.5, 3.0), browInnerUp=0.1, eyeWide_=0.1, mouthSmile_=0.12),
            noise=0.9,
            blink_rate=0.9,
        ),
        # the visible thinking cue: brows knit and lifted, lips pressed, head turned up and
        # toward the side the eyes look to
        AvatarMode.THINKING: Posture(
            _face(
                "thinking",
                (5.0, 4.0, 4.0),
                browInnerUp=0.45,
                browDown_=0.1,
                mouthPress_=0.3,
                mouthRollLower=0.15,
                eyeSquint_=0.15,
            ),
            noise=0.6,
            blink_rate=1.2,
            head_follows_side=True,
        ),
        AvatarMode.SPEAKING: Posture(
            _face("speaking", (0.0, 0.0, 0.0), mouthSmile_=0.06, browInnerUp=0.05),
            noise=2.2,
            blink_rate=1.15,
        ),
    }
)
