"""Mirror / puppet mode: the user's tracked face drives the avatar."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from avatar.animation import MIRROR_STALE, AnimationEngine
from avatar.gaze import eye_look_weights
from avatar.mirror import MirrorMapper, gaze_from_weights
from avatar.rig import ARKIT_BLENDSHAPES, vector

FRAME = 1.0 / 60.0


def _mediapipe_face(**weights: float) -> dict[str, float]:
    """Shaped like MediaPipe's output: every ARKit name but tongueOut, plus _neutral."""
    shapes = {name: 0.0 for name in ARKIT_BLENDSHAPES if name != "tongueOut"}
    shapes["_neutral"] = 0.9
    shapes.update(weights)
    return shapes


def test_mapping_drops_neutral_and_keeps_missing_shapes_at_zero() -> None:
    state = MirrorMapper(swap_sides=False).map(_mediapipe_face(jawOpen=0.4, browInnerUp=1.7))
    assert state["jawOpen"] == pytest.approx(0.4)
    assert state["browInnerUp"] == 1.0  # clipped
    assert state["tongueOut"] == 0.0
    assert len(state.weights) == len(ARKIT_BLENDSHAPES)


def test_mirror_swaps_sides_and_head_turns() -> None:
    face = _mediapipe_face(eyeBlinkLeft=0.9, mouthSmileLeft=0.5, eyeLookOutLeft=0.6)
    mirrored = MirrorMapper().map(face, (10.0, 5.0, -4.0))
    # the user winks their left eye: the mirror image winks its right
    assert mirrored["eyeBlinkRight"] == pytest.approx(0.9)
    assert mirrored["eyeBlinkLeft"] == 0.0
    assert mirrored["mouthSmileRight"] == pytest.approx(0.5)
    assert (mirrored.head_yaw, mirrored.head_pitch, mirrored.head_roll) == (-10.0, 5.0, 4.0)
    # the user looks to their left; the mirror image looks to its right (gaze x < 0), and
    # the direction is carried by the gaze alone
    assert mirrored.gaze_x < -0.2
    assert mirrored["eyeLookOutLeft"] == mirrored["eyeLookOutRight"] == 0.0
    anatomical = MirrorMapper(swap_sides=False).map(face, (10.0, 5.0, -4.0))
    assert anatomical["eyeBlinkLeft"] == pytest.approx(0.9)
    assert anatomical.head_yaw == 10.0
    assert anatomical.gaze_x > 0.2


def test_gaze_from_eye_weights() -> None:
    up_left = vector({"eyeLookOutLeft": 0.5, "eyeLookInRight": 0.5, "eyeLookUpLeft": 0.4,
                      "eyeLookUpRight": 0.4})  # fmt: skip
    assert gaze_from_weights(up_left) == pytest.approx((0.5, 0.4))


def test_eye_look_weights_round_trip_through_the_gaze() -> None:
    for gaze in [(0.5, 0.4), (-0.3, -0.2), (0.0, 0.0)]:
        weights = vector(eye_look_weights(*gaze))
        assert gaze_from_weights(weights) == pytest.approx(gaze)


def test_gains_boost_under_reported_shapes_only() -> None:
    mapper = MirrorMapper(swap_sides=False, gains={"eyeWideLeft": 4.0})
    state = mapper.map(_mediapipe_face(eyeWideLeft=0.1, jawOpen=0.3))
    assert state["eyeWideLeft"] == pytest.approx(0.4)
    assert state["jawOpen"] == pytest.approx(0.3)


def test_engine_copies_the_users_face_within_one_frame() -> None:
    now = [0.0]
    engine = AnimationEngine(seed=1, clock=lambda: now[0])
    engine.set_mode("speaking")
    for i in range(30):
        engine.state_at(i * FRAME)
    engine.set_mirror(True)
    face = _mediapipe_face(jawOpen=0.6, mouthSmileLeft=0.7, browInnerUp=0.3, eyeBlinkRight=1.0)
    now[0] = 30 * FRAME
    engine.mirror_blendshapes(face, (12.0, -6.0, 3.0))
    state = engine.state_at(31 * FRAME)
    expected = MirrorMapper().map(face, (12.0, -6.0, 3.0))
    assert np.array_equal(state.weights, expected.weights)
    assert (state.head_yaw, state.head_pitch, state.head_roll) == (-12.0, -6.0, -3.0)
    # a new tracked frame shows on the very next rendered frame, no easing lag
    engine.mirror_blendshapes(_mediapipe_face(jawOpen=0.1), (0.0, 0.0, 0.0))
    assert engine.state_at(32 * FRAME)["jawOpen"] == pytest.approx(0.1)


def test_mirror_lets_go_smoothly_when_the_face_is_lost_or_mirror_ends() -> None:
    now = [0.0]
    engine = AnimationEngine(seed=1, clock=lambda: now[0])
    engine.set_mirror(True)
    engine.mirror_blendshapes(_mediapipe_face(mouthSmileLeft=1.0, mouthSmileRight=1.0))
    assert engine.state_at(0.0)["mouthSmileLeft"] == 1.0
    # no tracked face for longer than MIRROR_STALE: the engine animates again, easing from
    # the user's last face rather than snapping to neutral
    frames = [engine.state_at(i * FRAME) for i in range(1, 120)]
    smiles = [f["mouthSmileLeft"] for f in frames]
    stale = round(MIRROR_STALE / FRAME)
    assert smiles[: stale - 1] == [1.0] * (stale - 1)
    assert smiles[stale + 1] > 0.9
    assert smiles[-1] < 0.2
    assert max(abs(b - a) for a, b in itertools.pairwise(smiles)) < 0.07
    # ignored while mirror mode is off
    engine.set_mirror(False)
    now[0] = 3.0
    engine.mirror_blendshapes(_mediapipe_face(jawOpen=1.0))
    assert engine.state_at(3.0)["jawOpen"] < 0.1
