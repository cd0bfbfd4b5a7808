"""Facial expression presets (ARKit-52 weights) and the reply tags that choose them.

An expression is a full-intensity pose plus a small head bias (a sad face also lowers the
head, a happy one lifts it); the engine scales it by an intensity in [0, 1] and eases into
it. The language model marks its replies with short ASCII tags such as ``[smile]`` or
``[nod]``; ``action_for_tag`` turns one tag into an expression, a gesture, or both
(``laugh`` is a happy face and a little head bob). Tags are language-neutral, so a Korean
reply uses the same ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from avatar.gestures import GESTURE_NAMES
from avatar.rig import FloatVector, vector


def _both(name: str, value: float) -> dict[str, float]:
    """A symmetric pair: ``mouthSmile`` -> ``mouthSmileLeft`` and ``mouthSmileRight``."""
    return {f"{name}Left": value, f"{name}Right": value}


@dataclass(frozen=True, slots=True)
class Expression:
    """A full-intensity face; head bias in degrees (yaw, pitch > 0 chin up, roll)."""

    name: str
    weights: Mapping[str, float]
    head: tuple[float, float, float] = (0.0, 0.0, 0.0)
    gaze_y: float = 0.0  # a sad face looks a little down

    def vector(self, intensity: float = 1.0) -> FloatVector:
        """The weights as a rig vector scaled by ``intensity`` (clipped to [0, 1])."""
        scale = min(1.0, max(0.0, intensity))
        return (vector(self.weights) * np.float32(scale)).astype(np.float32)


def _expression(
    name: str,
    *parts: dict[str, float],
    head: tuple[float, float, float] = (0.0, 0.0, 0.0),
    gaze_y: float = 0.0,
) -> Expression:
    weights: dict[str, float] = {}
    for part in parts:
        weights.update(part)
    return Expression(name, MappingProxyType(weights), head, gaze_y)


EXPRESSIONS: Mapping[str, Expression] = MappingProxyType(
    {
        e.name: e
        for e in (
            _expression("neutral"),
            # a Duchenne smile: the cheeks and the eyes take part, not only the mouth corners
            _expression(
                "happy",
                _both("mouthSmile", 0.75),
                _both("cheekSquint", 0.45),
                _both("eyeSquint", 0.3),
                _both("mouthDimple", 0.2),
                _both("browOuterUp", 0.1),
                head=(0.0, 1.5, 2.0),
            ),
            # empathic concern: inner brows up, a soft closed mouth, head tilted toward them
            _expression(
                "concerned",
                {"browInnerUp": 0.6},
                _both("browDown", 0.12),
                _both("mouthFrown", 0.25),
                _both("mouthPress", 0.15),
                _both("eyeSquint", 0.1),
                head=(0.0, -2.0, -4.0),
            ),
            _expression(
                "thinking",
                {"browInnerUp": 0.35, "mouthRollLower": 0.2, "mouthLeft": 0.15},
                _both("browDown", 0.2),
                _both("mouthPress", 0.3),
                _both("eyeSquint", 0.2),
                head=(0.0, 3.0, 3.0),
            ),
            _expression(
                "surprised",
                {"browInnerUp": 0.8, "jawOpen": 0.25, "mouthFunnel": 0.15},
                _both("browOuterUp", 0.8),
                _both("eyeWide", 0.7),
                head=(0.0, 2.0, 0.0),
            ),
            _expression(
                "sad",
                {"browInnerUp": 0.7, "mouthShrugLower": 0.3},
                _both("mouthFrown", 0.6),
                _both("mouthPress", 0.1),
                _both("eyeSquint", 0.1),
                head=(0.0, -4.0, 0.0),
                gaze_y=-0.15,
            ),
            # attentive listening: open eyes, a hint of a smile, the head tilted to listen
            _expression(
                "listening",
                {"browInnerUp": 0.15},
                _both("eyeWide", 0.15),
                _both("mouthSmile", 0.15),
                head=(0.0, -1.0, 3.0),
            ),
        )
    }
)

ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "smile": "happy",
        "joy": "happy",
        "empathic": "concerned",
        "empathy": "concerned",
        "worried": "concerned",
        "think": "thinking",
        "surprise": "surprised",
        "attentive": "listening",
    }
)

GESTURES: frozenset[str] = frozenset(GESTURE_NAMES)


def expression(name: str) -> Expression:
    """A preset by name or alias (case-insensitive); ``KeyError`` names the known ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    found = EXPRESSIONS.get(key)
    if found is None:
        raise KeyError(f"unknown expression {name!r}; known: {', '.join(sorted(EXPRESSIONS))}")
    return found


@dataclass(frozen=True, slots=True)
class TagAction:
    """What one reply tag asks of the avatar: an expression, a gesture, or both."""

    expression: str | None = None
    intensity: float = 0.0
    gesture: str | None = None


_TAGS: Mapping[str, TagAction] = MappingProxyType(
    {
        "neutral": TagAction("neutral", 1.0),
        "smile": TagAction("happy", 0.55),
        "happy": TagAction("happy", 0.85),
        "joy": TagAction("happy", 0.85),
        "laugh": TagAction("happy", 1.0, "laugh"),
        "concerned": TagAction("concerned", 0.8),
        "worried": TagAction("concerned", 0.8),
        "empathy": TagAction("concerned", 0.6),
        "empathic": TagAction("concerned", 0.6),
        "sympathy": TagAction("concerned", 0.6),
        "thinking": TagAction("thinking", 0.8),
        "think": TagAction("thinking", 0.8),
        "hmm": TagAction("thinking", 0.6),
        "surprised": TagAction("surprised", 0.8),
        "surprise": TagAction("surprised", 0.8),
        "wow": TagAction("surprised", 1.0),
        "sad": TagAction("sad", 0.7),
        "listening": TagAction("listening", 0.8),
        "attentive": TagAction("listening", 0.8),
        "nod": TagAction(gesture="nod"),
        "yes": TagAction(gesture="nod"),
        "shake": TagAction(gesture="shake"),
        "no": TagAction(gesture="shake"),
        "tilt": TagAction(gesture="tilt"),
        "curious": TagAction(gesture="tilt"),
    }
)


def action_for_tag(tag: str) -> TagAction | None:
    """The action for a reply tag such as ``smile`` or ``[Nod]``; ``None`` when unknown.

    Brackets, surrounding spaces and case are ignored so the caller may pass the tag as the
    model wrote it.
    """
    key = tag.strip().strip("[]<>()*").strip().lower()
    return _TAGS.get(key)


def known_tags() -> tuple[str, ...]:
    """Every tag ``action_for_tag`` understands (for the persona prompt)."""
    return tuple(sorted(_TAGS))
