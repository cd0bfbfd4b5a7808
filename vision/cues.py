"""Affect cues: face movements (blendshapes), the expression CNN, and the voice.

Each cue turns its evidence into a valence/arousal point in [-1, 1] with a weight for
each axis (how much it may say) and a few words of evidence. The weights encode how far
each cue can be trusted, which is not very far: facial movements are weak, culture- and
person-dependent indicators of what someone feels (see docs/vision.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from vision.baseline import NeutralBaseline

# (left, right) blendshape pairs averaged into one feature; single names stand alone
_FACE_FEATURES: dict[str, tuple[str, ...]] = {
    "smile": ("mouthSmileLeft", "mouthSmileRight"),
    "frown": ("mouthFrownLeft", "mouthFrownRight"),
    "browDown": ("browDownLeft", "browDownRight"),
    "browInnerUp": ("browInnerUp",),
    "browOuterUp": ("browOuterUpLeft", "browOuterUpRight"),
    "noseSneer": ("noseSneerLeft", "noseSneerRight"),
    "eyeWide": ("eyeWideLeft", "eyeWideRight"),
    "eyeBlink": ("eyeBlinkLeft", "eyeBlinkRight"),
    "cheekSquint": ("cheekSquintLeft", "cheekSquintRight"),
    "jawOpen": ("jawOpen",),
    "mouthPress": ("mouthPressLeft", "mouthPressRight"),
    "mouthStretch": ("mouthStretchLeft", "mouthStretchRight"),
}

# the most a feature may rest at: beyond this it is an expression, not a resting face
FACE_CAPS = {
    "smile": 0.25,
    "frown": 0.3,
    "browDown": 0.35,
    "browInnerUp": 0.3,
    "browOuterUp": 0.3,
    "noseSneer": 0.25,
    "eyeWide": 0.3,
    "eyeBlink": 0.5,
    "cheekSquint": 0.35,
    "jawOpen": 0.2,
    "mouthPress": 0.4,
    "mouthStretch": 0.3,
}

# where each CNN class sits on the circumplex (valence, arousal), after Russell (1980)
_CLASS_POINTS = {
    "angry": (-0.6, 0.6),
    "disgust": (-0.6, 0.3),
    "fear": (-0.6, 0.7),
    "happy": (0.8, 0.4),
    "sad": (-0.6, -0.4),
    "surprise": (0.2, 0.8),
    "neutral": (0.0, -0.1),
}
# a class may rest at most this probable (a resting face the CNN calls 60% angry rests at
# 60% angry; one it calls 99% happy is probably smiling)
EXPRESSION_CAPS = {label: 0.5 for label in _CLASS_POINTS if label != "neutral"}

# how far each cue may be trusted, per axis (face movements > CNN > voice)
FACE_WEIGHT = (0.6, 0.5)
EXPRESSION_WEIGHT = (0.35, 0.3)
VOICE_WEIGHT = (0.0, 0.35)  # prosody says little about valence


@dataclass(frozen=True, slots=True)
class Cue:
    name: str
    valence: float
    arousal: float
    valence_weight: float
    arousal_weight: float
    evidence: tuple[str, ...] = ()


def _clip(value: float) -> float:
    return max(-1.0, min(1.0, value))


def face_features(blendshapes: Mapping[str, float]) -> dict[str, float]:
    features = {}
    for feature, names in _FACE_FEATURES.items():
        values = [blendshapes[n] for n in names if n in blendshapes]
        if values:
            features[feature] = sum(values) / len(values)
    return features


def face_cue(delta: Mapping[str, float], quality: float, maturity: float) -> Cue:
    """Blendshapes relative to the resting face. ``quality`` (0..1) drops for small or
    turned faces, whose blendshapes are unreliable; an unlearnt baseline halves trust."""
    up = {name: max(0.0, delta.get(name, 0.0)) for name in _FACE_FEATURES}
    smile = up["smile"]
    smiling = min(1.0, 3.0 * smile)
    terms_v = {
        "smile": 1.3 * smile,
        "cheekSquint": 0.3 * up["cheekSquint"] * smiling,
        "frown": -1.1 * up["frown"],
        "browDown": -0.8 * up["browDown"],
        "browInnerUp": -0.6 * up["browInnerUp"] * (1.0 - smiling),
        "noseSneer": -1.0 * up["noseSneer"],
        "mouthPress": -0.4 * up["mouthPress"],
        "mouthStretch": -0.3 * up["mouthStretch"],
    }
    terms_a = {
        "eyeWide": 0.9 * up["eyeWide"],
        "jawOpen": 0.6 * up["jawOpen"],
        "browOuterUp": 0.5 * up["browOuterUp"],
        "browInnerUp": 0.3 * up["browInnerUp"],
        "browDown": 0.3 * up["browDown"],
        "smile": 0.3 * smile,
        "mouthStretch": 0.3 * up["mouthStretch"],
        "eyeBlink": -0.3 * up["eyeBlink"],
    }
    trust = quality * (0.5 + 0.5 * maturity)
    strongest = sorted(up.items(), key=lambda item: -item[1])[:3]
    moved = ", ".join(f"{name} +{value:.2f}" for name, value in strongest if value >= 0.05)
    evidence = (f"face: {moved or 'at rest'} (vs. resting face)",)
    return Cue(
        "face",
        _clip(sum(terms_v.values())),
        _clip(sum(terms_a.values())),
        FACE_WEIGHT[0] * trust,
        FACE_WEIGHT[1] * trust,
        evidence,
    )


def expression_cue(probs: Mapping[str, float], baseline: NeutralBaseline, quality: float) -> Cue:
    """The CNN's class probabilities relative to this person's resting probabilities."""
    valence = arousal = 0.0
    for label, (v, a) in _CLASS_POINTS.items():
        change = probs.get(label, 0.0) - baseline.value(label, probs.get(label, 0.0))
        valence += change * v
        arousal += change * a
    top = max(probs, key=lambda label: probs[label]) if probs else "neutral"
    peak = probs.get(top, 0.0)
    trust = quality * (0.5 + 0.5 * baseline.maturity) * (0.5 + 0.5 * peak)
    evidence = (f"expression CNN: {top} {peak:.2f} (resting {baseline.value(top, peak):.2f})",)
    return Cue(
        "expression",
        _clip(valence),
        _clip(arousal),
        EXPRESSION_WEIGHT[0] * trust,
        EXPRESSION_WEIGHT[1] * trust,
        evidence,
    )


def _energy_db(prosody: Mapping[str, float]) -> float | None:
    if "energy_db" in prosody:
        return prosody["energy_db"]
    energy = prosody.get("energy")
    if energy is None:
        return None
    # an RMS level in (0, 1] or already decibels
    return 20.0 * math.log10(max(energy, 1e-6)) if 0 < energy <= 1 else energy


def _pitch_spread(prosody: Mapping[str, float]) -> float | None:
    if "pitch_std" in prosody:
        return prosody["pitch_std"]
    if "pitch_var" in prosody:
        return math.sqrt(max(0.0, prosody["pitch_var"]))
    return None


def voice_features(prosody: Mapping[str, float]) -> dict[str, float]:
    """The prosody dict's known keys in common units (missing keys are left out)."""
    features = {}
    for name, value in (
        ("speech_rate", prosody.get("speech_rate")),
        ("pitch_mean", prosody.get("pitch_mean")),
        ("pitch_spread", _pitch_spread(prosody)),
        ("energy_db", _energy_db(prosody)),
    ):
        if value is not None and math.isfinite(value):
            features[name] = float(value)
    return features


def voice_cue(features: Mapping[str, float], resting: Mapping[str, float]) -> Cue | None:
    """Arousal from an utterance relative to this person's earlier ones (None until there
    is an earlier one: absolute pitch or loudness says more about voice and microphone)."""
    terms = {}
    for name, scale in (("speech_rate", 2.0), ("pitch_spread", 1.5), ("pitch_mean", 4.0)):
        now, before = features.get(name), resting.get(name)
        if now is not None and before is not None and now > 0 and before > 0:
            terms[name] = 0.35 * math.tanh(scale * math.log(now / before))
    if "energy_db" in features and "energy_db" in resting:
        terms["energy"] = 0.35 * math.tanh((features["energy_db"] - resting["energy_db"]) / 6.0)
    if not terms:
        return None
    parts = ", ".join(f"{name} {value:+.2f}" for name, value in terms.items())
    return Cue(
        "voice",
        0.0,
        _clip(sum(terms.values())),
        VOICE_WEIGHT[0],
        VOICE_WEIGHT[1],
        (f"voice: {parts} (arousal vs. earlier utterances)",),
    )
