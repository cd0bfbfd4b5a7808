"""Affect fusion on synthetic cues: direction, baselines, smoothing lag, softness, voice."""

from __future__ import annotations

from typing import Any

import pytest

from app.core.roles import AffectEstimator
from app.core.types import Affect, FaceObservation
from vision.affect import AffectConfig, AffectFusion, label_probabilities
from vision.baseline import NeutralBaseline
from vision.cues import FACE_CAPS, voice_features

FRAME = 1 / 30
REST = {"mouthSmileLeft": 0.02, "mouthSmileRight": 0.03, "browDownLeft": 0.1, "browDownRight": 0.1}
SMILE = {**REST, "mouthSmileLeft": 0.85, "mouthSmileRight": 0.9, "cheekSquintLeft": 0.4}
FROWN = {**REST, "mouthFrownLeft": 0.6, "mouthFrownRight": 0.6, "browDownLeft": 0.6,
         "browDownRight": 0.6}  # fmt: skip


def feed(
    fusion: AffectFusion, shapes: dict[str, float], seconds: float, start: float, **kw: Any
) -> list[tuple[float, Affect]]:
    """One update per frame for ``seconds``; the (ts, affect) of each."""
    out = []
    for k in range(round(seconds / FRAME)):
        ts = start + k * FRAME
        out.append((ts, fusion.update(ts, shapes, **kw)))
    return out


def test_it_is_an_affect_estimator() -> None:
    assert isinstance(AffectFusion(), AffectEstimator)


def test_a_smile_raises_valence_and_a_frown_lowers_it() -> None:
    fusion = AffectFusion()
    feed(fusion, REST, 2.5, 0.0)
    at_rest = fusion.current
    smiling = feed(fusion, SMILE, 1.0, 2.5)[-1][1]
    assert abs(at_rest.valence) < 0.1 and at_rest.label == "neutral"
    assert smiling.valence > 0.4 and smiling.label == "happy"
    frowning = feed(fusion, FROWN, 1.0, 3.5)[-1][1]
    assert frowning.valence < -0.3


def test_a_resting_face_is_the_baseline_but_a_held_smile_is_not() -> None:
    grumpy = {**REST, "mouthFrownLeft": 0.25, "mouthFrownRight": 0.25}
    fusion = AffectFusion()
    assert abs(feed(fusion, grumpy, 3.0, 0.0)[-1][1].valence) < 0.1
    # someone smiling from the first frame: the cap keeps the smile an expression
    fusion = AffectFusion()
    held = feed(fusion, SMILE, 3.0, 0.0)[-1][1]
    assert held.valence > 0.4 and held.label == "happy"


def test_the_baseline_is_forgotten_when_the_person_leaves() -> None:
    grumpy = {**REST, "mouthFrownLeft": 0.3, "mouthFrownRight": 0.3}
    fusion = AffectFusion()
    feed(fusion, REST, 2.5, 0.0)
    assert feed(fusion, grumpy, 1.0, 2.5)[-1][1].valence < -0.15
    fusion.reset()  # they left; someone with a downturned resting mouth arrives
    assert fusion.current.label == "neutral" and fusion.current.confidence == 0
    assert abs(feed(fusion, grumpy, 3.0, 10.0)[-1][1].valence) < 0.1


def test_the_label_follows_a_smile_within_300_ms() -> None:
    fusion = AffectFusion()
    feed(fusion, REST, 3.0, 0.0)
    onset = 3.0
    flips = [ts for ts, a in feed(fusion, SMILE, 1.0, onset) if a.label == "happy"]
    assert flips and flips[0] - onset <= 0.3
    assert flips[0] - onset >= FRAME  # smoothed: not decided by the first frame alone


def test_a_single_frame_glitch_does_not_change_the_label() -> None:
    fusion = AffectFusion()
    feed(fusion, REST, 3.0, 0.0)
    fusion.update(3.0, SMILE)
    labels = [a.label for _, a in feed(fusion, REST, 0.5, 3.0 + FRAME)]
    assert set(labels) == {"neutral"}


def test_the_estimate_is_soft_and_keeps_its_evidence() -> None:
    fusion = AffectFusion()
    feed(fusion, REST, 2.5, 0.0)
    affect = feed(fusion, SMILE, 2.0, 2.5, expressions={"happy": 0.9, "neutral": 0.1})[-1][1]
    assert 0.3 < affect.confidence <= 0.9
    text = " ".join(affect.evidence)
    assert "smile" in text and "expression CNN: happy" in text and "label odds" in text
    assert -1 <= affect.valence <= 1 and -1 <= affect.arousal <= 1


def test_turned_or_small_faces_are_trusted_less() -> None:
    good, poor = AffectFusion(), AffectFusion()
    feed(good, REST, 2.5, 0.0)
    feed(poor, REST, 2.5, 0.0, quality=0.2)
    a = feed(good, SMILE, 1.0, 2.5)[-1][1]
    b = feed(poor, SMILE, 1.0, 2.5, quality=0.2)[-1][1]
    assert b.confidence < a.confidence


def test_the_cnn_is_measured_against_the_persons_resting_output() -> None:
    # a resting face the CNN reads as fairly "angry": that is this person's neutral
    resting_angry = {"angry": 0.45, "neutral": 0.45, "sad": 0.1}
    fusion = AffectFusion()
    still = feed(fusion, REST, 3.0, 0.0, expressions=resting_angry)[-1][1]
    assert abs(still.valence) < 0.1
    happier = feed(fusion, REST, 1.0, 3.0, expressions={"happy": 0.9, "neutral": 0.1})[-1][1]
    assert happier.valence > 0.15


def test_voice_moves_arousal_only_relative_to_earlier_utterances() -> None:
    calm = {"speech_rate": 3.5, "pitch_mean": 180.0, "pitch_std": 20.0, "energy": 0.05}
    excited = {"speech_rate": 5.5, "pitch_mean": 230.0, "pitch_std": 45.0, "energy": 0.2}
    fusion = AffectFusion()
    feed(fusion, REST, 2.5, 0.0, prosody=calm)
    first = fusion.current
    assert not any(e.startswith("voice") for e in first.evidence)  # nothing to compare yet
    after = feed(fusion, REST, 1.0, 2.5, prosody=excited)[-1][1]
    assert after.arousal > first.arousal + 0.1
    assert abs(after.valence) < 0.1
    assert any(e.startswith("voice") for e in after.evidence)
    # held for voice_hold_s, then forgotten
    fusion2 = AffectFusion(AffectConfig(voice_hold_s=0.5))
    fusion2.hear(calm, 0.0)
    fusion2.hear(excited, 0.1)
    assert any(e.startswith("voice") for e in fusion2.update(0.2).evidence)
    assert not any(e.startswith("voice") for e in fusion2.update(1.0).evidence)


def test_voice_features_accept_rms_or_decibels_and_variance() -> None:
    assert voice_features({"energy": 0.1})["energy_db"] == pytest.approx(-20.0)
    assert voice_features({"energy_db": -30.0})["energy_db"] == -30.0
    assert voice_features({"pitch_var": 400.0})["pitch_spread"] == pytest.approx(20.0)
    assert voice_features({"unknown": 1.0}) == {}


def test_the_protocol_entry_point_uses_blendshapes_and_head_pose() -> None:
    clock = iter(k * FRAME for k in range(1000))
    fusion = AffectFusion(clock=lambda: next(clock))
    for _ in range(80):
        fusion.estimate(FaceObservation(present=True, blendshapes=REST), None)
    for _ in range(30):
        affect = fusion.estimate(FaceObservation(present=True, blendshapes=SMILE), None)
    assert affect.label == "happy"
    for _ in range(150):
        affect = fusion.estimate(None, None)
    assert affect.label == "neutral" and affect.confidence < 0.1


def test_baseline_learns_a_low_percentile_with_caps() -> None:
    baseline = NeutralBaseline(learn_s=1.0, caps=FACE_CAPS)
    for k in range(40):
        baseline.observe({"smile": 0.9, "frown": 0.1 if k % 4 else 0.5}, k * FRAME)
    assert baseline.ready and baseline.maturity == 1.0
    assert baseline.value("smile") == FACE_CAPS["smile"]
    assert baseline.value("frown") == pytest.approx(0.1)
    baseline.observe({"smile": 0.0}, 5.0)  # frozen after learning
    assert baseline.value("smile") == FACE_CAPS["smile"]


def test_label_probabilities_are_a_distribution() -> None:
    probs = label_probabilities(0.6, 0.3)
    assert sum(probs.values()) == pytest.approx(1.0)
    assert max(probs, key=lambda k: probs[k]) == "happy"
    assert max(label_probabilities(0, 0).items(), key=lambda kv: kv[1])[0] == "neutral"
