"""Opt-in affect: fuses face movements, the expression CNN and the voice into a smoothed,
soft estimate of valence and arousal. Never a verdict: a label comes with a confidence
that stays well below 1 and with the evidence behind it.

* Face and CNN cues are measured against the person's own resting face (learned over their
  first ``learn_s`` seconds; :meth:`AffectFusion.reset` when they leave or someone else
  becomes the main user).
* Voice cues (speech rate, pitch, energy from ``speech.prosody``) move arousal only and are
  held for ``voice_hold_s`` after the utterance they describe.
* Valence and arousal are smoothed with time constants of a few hundred milliseconds, so a
  smile shows in the label within ~0.3 s while single-frame glitches do not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.config.settings import Settings
from app.core.types import Affect, FaceObservation
from vision.baseline import NeutralBaseline
from vision.cues import (
    EXPRESSION_CAPS,
    FACE_CAPS,
    Cue,
    expression_cue,
    face_cue,
    face_features,
    voice_cue,
    voice_features,
)

# label prototypes on the valence/arousal plane; "neutral" is the origin
PROTOTYPES = {
    "neutral": (0.0, 0.0),
    "happy": (0.6, 0.3),
    "surprised": (0.15, 0.75),
    "tense": (-0.5, 0.5),
    "sad": (-0.5, -0.35),
}
_SPREAD = 0.25  # width of each label's region
_MAX_CONFIDENCE = 0.9  # a face is never proof of a feeling


@dataclass(frozen=True, slots=True)
class AffectConfig:
    learn_s: float = 2.0
    valence_tau_s: float = 0.2
    arousal_tau_s: float = 0.35
    # with no cue at all, the estimate relaxes to neutral at this pace
    idle_tau_s: float = 1.5
    voice_hold_s: float = 6.0
    # a new label must beat the current one by this much probability (no flicker)
    label_margin: float = 0.05


def label_probabilities(valence: float, arousal: float) -> dict[str, float]:
    scores = {
        label: math.exp(-((valence - v) ** 2 + (arousal - a) ** 2) / (2 * _SPREAD**2))
        for label, (v, a) in PROTOTYPES.items()
    }
    total = sum(scores.values()) or 1.0
    return {label: score / total for label, score in scores.items()}


class AffectFusion:
    """Implements the ``AffectEstimator`` role (``estimate``) and the richer :meth:`update`.
    Not thread-safe: feed it from one thread."""

    def __init__(
        self, config: AffectConfig | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self.config = config or AffectConfig()
        self._clock = clock
        self._face_baseline = NeutralBaseline(self.config.learn_s, caps=FACE_CAPS)
        self._cnn_baseline = NeutralBaseline(self.config.learn_s, caps=EXPRESSION_CAPS)
        self._voice_history: list[dict[str, float]] = []
        self._voice: tuple[Cue, float] | None = None
        self._last_prosody: dict[str, float] | None = None
        self.reset()

    # ------------------------------------------------------------------ public API

    @property
    def current(self) -> Affect:
        return self._affect

    def reset(self) -> None:
        """Forget the person: baselines, voice history and the smoothed state."""
        self._face_baseline.reset()
        self._cnn_baseline.reset()
        self._voice_history.clear()
        self._voice = None
        self._last_prosody = None
        self._valence = self._arousal = self._confidence = 0.0
        self._label = "neutral"
        self._last_ts: float | None = None
        self._affect = Affect(valence=0.0, arousal=0.0, evidence=("no evidence yet",))

    def hear(self, prosody: Mapping[str, float] | None, ts: float) -> None:
        """One utterance's prosody: compared with this person's earlier utterances."""
        if prosody is None:
            return
        snapshot = dict(prosody)
        if snapshot == self._last_prosody:
            return  # the same utterance handed in again
        self._last_prosody = snapshot
        features = voice_features(snapshot)
        if not features:
            return
        resting = self._voice_resting()
        cue = voice_cue(features, resting) if resting else None
        self._voice = (cue, ts) if cue is not None else None
        self._voice_history = [*self._voice_history, features][-20:]

    def update(
        self,
        ts: float,
        blendshapes: Mapping[str, float] | None = None,
        expressions: Mapping[str, float] | None = None,
        prosody: Mapping[str, float] | None = None,
        quality: float = 1.0,
    ) -> Affect:
        """One frame's evidence (any part may be missing) -> the smoothed estimate."""
        self.hear(prosody, ts)
        cues: list[Cue] = []
        notes: list[str] = []
        if blendshapes:
            features = face_features(blendshapes)
            self._face_baseline.observe(features, ts)
            delta = self._face_baseline.delta(features)
            cues.append(face_cue(delta, quality, self._face_baseline.maturity))
            notes.append(self._baseline_note())
        if expressions:
            self._cnn_baseline.observe(expressions, ts)
            cues.append(expression_cue(expressions, self._cnn_baseline, quality))
        if self._voice is not None:
            cue, heard = self._voice
            if ts - heard <= self.config.voice_hold_s:
                cues.append(cue)
            else:
                self._voice = None
        return self._fuse(cues, notes, ts)

    def estimate(self, face: FaceObservation | None, prosody: dict[str, float] | None) -> Affect:
        """The role protocol: blendshapes and voice only (the CNN needs pixels)."""
        ts = self._clock()
        if face is None or not face.present or not face.blendshapes:
            return self.update(ts, prosody=prosody)
        yaw, pitch, _ = face.head_pose
        quality = max(0.0, math.cos(math.radians(yaw)) * math.cos(math.radians(pitch)))
        return self.update(ts, face.blendshapes, prosody=prosody, quality=quality)

    # ------------------------------------------------------------------ internals

    def _voice_resting(self) -> dict[str, float]:
        if not self._voice_history:
            return {}
        names = {name for features in self._voice_history for name in features}
        resting = {}
        for name in names:
            values = sorted(f[name] for f in self._voice_history if name in f)
            resting[name] = values[len(values) // 2]
        return resting

    def _baseline_note(self) -> str:
        if self._face_baseline.ready:
            return f"resting face learnt over {self.config.learn_s:.1f} s"
        return f"learning the resting face ({self._face_baseline.maturity:.0%})"

    def _fuse(self, cues: list[Cue], notes: list[str], ts: float) -> Affect:
        first = self._last_ts is None
        dt = 0.0 if self._last_ts is None else max(0.0, ts - self._last_ts)
        self._last_ts = ts
        weight_v = sum(c.valence_weight for c in cues)
        weight_a = sum(c.arousal_weight for c in cues)
        target_v = sum(c.valence * c.valence_weight for c in cues) / weight_v if weight_v else 0.0
        target_a = sum(c.arousal * c.arousal_weight for c in cues) / weight_a if weight_a else 0.0
        strength = min(1.0, max(weight_v, weight_a) / 0.6)
        tau_v = self.config.valence_tau_s if weight_v else self.config.idle_tau_s
        tau_a = self.config.arousal_tau_s if weight_a else self.config.idle_tau_s
        # the first sample moves halfway, so a single frame cannot decide alone
        step_v = 0.5 if first else _alpha(dt, tau_v)
        step_a = 0.5 if first else _alpha(dt, tau_a)
        self._valence += step_v * (target_v - self._valence)
        self._arousal += step_a * (target_a - self._arousal)
        self._confidence += step_a * (strength - self._confidence)
        probs = label_probabilities(self._valence, self._arousal)
        best = max(probs, key=lambda label: probs[label])
        if probs[best] > probs.get(self._label, 0.0) + self.config.label_margin:
            self._label = best
        confidence = min(_MAX_CONFIDENCE, probs[self._label] * self._confidence)
        ranked = sorted(probs.items(), key=lambda item: -item[1])[:3]
        evidence = [e for c in cues for e in c.evidence] + notes
        evidence.append("label odds: " + ", ".join(f"{k} {v:.2f}" for k, v in ranked))
        if not cues:
            evidence.append("no face or voice evidence: relaxing to neutral")
        self._affect = Affect(
            valence=round(self._valence, 4),
            arousal=round(self._arousal, 4),
            label=self._label,
            confidence=round(confidence, 4),
            evidence=tuple(evidence),
        )
        return self._affect


def _alpha(dt: float, tau: float) -> float:
    """The share of the way to the target an exponential smoother moves in ``dt``."""
    return 1.0 - math.exp(-dt / tau) if dt > 0 else 0.0


def build(settings: Settings) -> AffectFusion:
    """Registry factory for the ``affect`` role (blendshapes + voice)."""
    from app.core.registry import RoleUnavailable

    if not settings.camera.affect_enabled:
        raise RoleUnavailable("affect estimation is off (camera.affect_enabled: false)")
    return AffectFusion()
