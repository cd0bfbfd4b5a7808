"""Lip-sync: an OVR-15 viseme timeline -> ARKit-52 mouth weights at an audio time.

Each viseme has a blendshape pose. A viseme does not switch on and off: its influence is an
envelope that rises over ``attack`` seconds centred on its (anticipated) onset and falls
over ``release`` seconds centred on its end, both smoothstep, so neighbouring shapes
overlap and blend (coarticulation). The blend is a dominance-weighted average
(Cohen & Massaro's idea): a sound whose shape the lips *must* reach, a bilabial closure or
lip rounding, outweighs its neighbours, and where all envelopes are small the mouth falls
back to rest.

- Anticipation: lips get ready before the sound is heard. ``PP FF U O CH`` lead their
  onset by 30-50 ms; only the rise moves earlier, the release stays at the sound's end.
- Bilabials close: ``PP`` has a high dominance and additionally damps the opening
  channels (jaw, lip raisers) by its share, so ``aa-PP-aa`` shuts the lips at the ``PP``
  centre even when it is short.
- ``Viseme.weight`` scales the pose (a reduced schwa opens the jaw less).
- A query finds the visemes near ``t`` by binary search: O(log n + k) for the k shapes
  whose envelopes reach ``t``, never a scan of the whole utterance.

Timelines are appendable (sentences arrive one by one, already offset on the turn's audio
axis) and clearable (an interruption). ``LipSync`` itself is not thread-safe; the
animation engine guards it with its lock.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from app.core.types import Viseme
from avatar.rig import INDEX, vector

Vector = npt.NDArray[np.float64]

SILENCE = "sil"


def _both(name: str, value: float) -> dict[str, float]:
    return {f"{name}Left": value, f"{name}Right": value}


def _pose(*parts: Mapping[str, float]) -> Mapping[str, float]:
    out: dict[str, float] = {}
    for part in parts:
        out.update(part)
    return MappingProxyType(out)


# OVR-15 viseme -> ARKit mouth pose at full weight. The values suit both renderers: the
# 2D painter reads jawOpen / mouthClose / funnel / pucker / stretch, a glTF head uses all.
VISEME_POSES: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "sil": _pose(),
        # p b m: lips pressed together, jaw closed
        "PP": _pose(
            {"jawOpen": 0.0, "mouthClose": 0.6, "mouthRollLower": 0.25, "mouthRollUpper": 0.15},
            _both("mouthPress", 0.5),
        ),
        # f v: lower lip tucked under the upper teeth
        "FF": _pose(
            {"jawOpen": 0.1, "mouthRollLower": 0.55, "mouthClose": 0.1},
            _both("mouthUpperUp", 0.2),
            _both("mouthPress", 0.1),
        ),
        # th: tongue between the teeth
        "TH": _pose(
            {"jawOpen": 0.18, "tongueOut": 0.45},
            _both("mouthUpperUp", 0.1),
            _both("mouthLowerDown", 0.15),
            _both("mouthStretch", 0.1),
        ),
        "DD": _pose(
            {"jawOpen": 0.2},
            _both("mouthStretch", 0.15),
            _both("mouthLowerDown", 0.15),
            _both("mouthUpperUp", 0.1),
        ),
        "kk": _pose(
            {"jawOpen": 0.25},
            _both("mouthStretch", 0.2),
            _both("mouthLowerDown", 0.1),
            _both("mouthUpperUp", 0.05),
        ),
        # tʃ dʒ ʃ ʒ: lips pushed forward and flared
        "CH": _pose(
            {"jawOpen": 0.15, "mouthFunnel": 0.5, "mouthPucker": 0.3, "mouthShrugUpper": 0.1},
            _both("mouthUpperUp", 0.3),
            _both("mouthLowerDown", 0.3),
        ),
        "SS": _pose(
            {"jawOpen": 0.08},
            _both("mouthStretch", 0.35),
            _both("mouthSmile", 0.15),
            _both("mouthUpperUp", 0.2),
            _both("mouthLowerDown", 0.2),
        ),
        "nn": _pose(
            {"jawOpen": 0.15, "mouthClose": 0.05},
            _both("mouthStretch", 0.1),
            _both("mouthUpperUp", 0.1),
            _both("mouthLowerDown", 0.1),
        ),
        "RR": _pose(
            {"jawOpen": 0.15, "mouthFunnel": 0.35, "mouthPucker": 0.2},
            _both("mouthUpperUp", 0.1),
        ),
        "aa": _pose(
            {"jawOpen": 0.7},
            _both("mouthLowerDown", 0.3),
            _both("mouthUpperUp", 0.1),
            _both("mouthStretch", 0.1),
        ),
        "E": _pose(
            {"jawOpen": 0.4},
            _both("mouthStretch", 0.35),
            _both("mouthSmile", 0.2),
            _both("mouthLowerDown", 0.25),
            _both("mouthUpperUp", 0.15),
        ),
        "I": _pose(
            {"jawOpen": 0.22},
            _both("mouthStretch", 0.45),
            _both("mouthSmile", 0.3),
            _both("mouthUpperUp", 0.15),
            _both("mouthLowerDown", 0.15),
        ),
        "O": _pose(
            {"jawOpen": 0.45, "mouthFunnel": 0.55, "mouthPucker": 0.25},
            _both("mouthLowerDown", 0.1),
        ),
        "U": _pose({"jawOpen": 0.18, "mouthPucker": 0.7, "mouthFunnel": 0.35}),
    }
)

# seconds the lip shape leads the sound: the lips close/round before the sound is heard
LEAD: Mapping[str, float] = MappingProxyType(
    {"PP": 0.045, "FF": 0.04, "U": 0.05, "O": 0.04, "CH": 0.03, "RR": 0.02}
)
DEFAULT_LEAD = 0.01

# how strongly a shape holds against its neighbours in the blend
DOMINANCE: Mapping[str, float] = MappingProxyType(
    {"PP": 5.0, "FF": 2.5, "TH": 1.5, "CH": 1.5, "U": 1.3, "O": 1.3, "sil": 0.7}
)

# the channels a bilabial closure has to shut
OPENERS: tuple[int, ...] = tuple(
    INDEX[name]
    for name in (
        "jawOpen",
        "mouthFunnel",
        "tongueOut",
        "mouthLowerDownLeft",
        "mouthLowerDownRight",
        "mouthUpperUpLeft",
        "mouthUpperUpRight",
    )
)

_OPENER_INDEX = np.array(OPENERS, dtype=np.intp)

# the channels lip-sync owns while speech is active; the engine fades the expression's
# values of these out by the speech activity so a surprised face cannot hold the jaw open
# through a ``PP``
ARTICULATION: tuple[int, ...] = tuple(
    INDEX[name]
    for name in (
        "jawOpen",
        "jawForward",
        "mouthClose",
        "mouthFunnel",
        "mouthPucker",
        "mouthRollLower",
        "mouthRollUpper",
        "mouthPressLeft",
        "mouthPressRight",
        "mouthLowerDownLeft",
        "mouthLowerDownRight",
        "mouthUpperUpLeft",
        "mouthUpperUpRight",
        "mouthShrugLower",
        "mouthShrugUpper",
        "tongueOut",
    )
)


@dataclass(frozen=True, slots=True)
class _Shape:
    pose: Vector
    lead: float
    dominance: float
    bilabial: bool
    silent: bool


def _shape(name: str) -> _Shape:
    return _Shape(
        pose=vector(VISEME_POSES[name]).astype(np.float64),
        lead=LEAD.get(name, 0.0 if name == SILENCE else DEFAULT_LEAD),
        dominance=DOMINANCE.get(name, 1.0),
        bilabial=name == "PP",
        silent=name == SILENCE,
    )


class Mouth(NamedTuple):
    """The mouth at one instant: 52 weights, how much speech is shaping it, lip closure."""

    weights: Vector
    activity: float  # 0 at rest or in silence, 1 while speech shapes fully own the mouth
    closure: float  # the bilabial share: 1 at the centre of a clear p/b/m


def _smoothstep(x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x * x * (3.0 - 2.0 * x)


class LipSync:
    """An appendable viseme timeline answering "which mouth at audio time t"."""

    def __init__(self, *, attack: float = 0.06, release: float = 0.08) -> None:
        if attack <= 0.0 or release <= 0.0:
            raise ValueError("attack and release must be positive")
        self.attack = attack
        self.release = release
        self._shapes = {name: _shape(name) for name in VISEME_POSES}
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._weights: list[float] = []
        self._kinds: list[_Shape] = []
        # how far an envelope reaches outside its viseme, for the binary search window
        self._reach_before = max(s.lead for s in self._shapes.values()) + attack / 2.0
        self._reach_after = release / 2.0

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def end(self) -> float:
        """Audio time after which the mouth is at rest again (0 when empty)."""
        return self._ends[-1] + self._reach_after if self._ends else 0.0

    def clear(self) -> None:
        self._starts.clear()
        self._ends.clear()
        self._weights.clear()
        self._kinds.clear()

    def add(self, visemes: Iterable[Viseme]) -> None:
        """Append visemes (seconds on the audio clock). A viseme starting before the
        timeline's end replaces what it overlaps, so the newest timeline wins and the
        entries stay sorted and disjoint (which the binary search relies on)."""
        for v in sorted(visemes, key=lambda v: v.start):
            if v.duration <= 0.0 or not math.isfinite(v.start + v.duration):
                continue
            shape = self._shapes.get(v.name, self._shapes[SILENCE])
            while self._starts and self._starts[-1] >= v.start:
                self._pop()
            if self._ends and self._ends[-1] > v.start:
                self._ends[-1] = v.start
            self._starts.append(v.start)
            self._ends.append(v.start + v.duration)
            self._weights.append(min(1.0, max(0.0, v.weight)))
            self._kinds.append(shape)

    def _pop(self) -> None:
        self._starts.pop()
        self._ends.pop()
        self._weights.pop()
        self._kinds.pop()

    def at(self, t: float) -> Mouth:
        """The mouth at audio time ``t``; rest (zeros) outside the timeline."""
        out: Vector = np.zeros(len(INDEX))
        if not self._starts or not math.isfinite(t):
            return Mouth(out, 0.0, 0.0)
        half_attack = self.attack / 2.0
        half_release = self.release / 2.0
        total = 0.0  # sum of dominance * envelope
        speech = 0.0
        bilabial = 0.0
        # candidates start no later than t + reach_before and end after t - reach_after;
        # entries are disjoint, so ends grow with starts and the scan stops early
        i = bisect.bisect_right(self._starts, t + self._reach_before) - 1
        earliest_end = t - self._reach_after
        while i >= 0 and self._ends[i] > earliest_end:
            shape = self._kinds[i]
            onset = self._starts[i] - shape.lead
            rise = _smoothstep((t - onset + half_attack) / self.attack)
            fall = _smoothstep((self._ends[i] + half_release - t) / self.release)
            envelope = rise * fall
            if envelope > 0.0:
                strength = shape.dominance * envelope
                total += strength
                if not shape.silent:
                    out += (strength * self._weights[i]) * shape.pose
                    speech += strength
                if shape.bilabial:
                    bilabial += strength * self._weights[i]
            i -= 1
        if total <= 0.0:
            return Mouth(out, 0.0, 0.0)
        norm = max(1.0, total)
        if norm != 1.0:
            out /= norm
        closure = bilabial / norm
        if closure > 0.0:
            out[_OPENER_INDEX] *= 1.0 - closure
        return Mouth(out, min(1.0, speech / norm), closure)
