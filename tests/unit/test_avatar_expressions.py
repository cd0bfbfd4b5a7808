"""Expression presets and the reply tags that choose them."""

from __future__ import annotations

import numpy as np
import pytest

from avatar.expressions import EXPRESSIONS, GESTURES, action_for_tag, expression, known_tags
from avatar.postures import POSTURES
from avatar.rig import ARKIT_BLENDSHAPES, INDEX

REQUIRED = {"neutral", "happy", "concerned", "thinking", "surprised", "sad", "listening"}


def test_required_presets_exist_and_use_rig_names_in_range() -> None:
    assert set(EXPRESSIONS) >= REQUIRED
    for preset in [*EXPRESSIONS.values(), *(p.face for p in POSTURES.values())]:
        assert set(preset.weights) <= set(ARKIT_BLENDSHAPES), preset.name
        assert all(0.0 <= v <= 1.0 for v in preset.weights.values()), preset.name
        assert all(abs(a) <= 10.0 for a in preset.head), preset.name


def test_presets_are_distinct_faces() -> None:
    vectors = {name: e.vector() for name, e in EXPRESSIONS.items() if name != "neutral"}
    names = sorted(vectors)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert np.abs(vectors[a] - vectors[b]).max() > 0.2, (a, b)
    assert not EXPRESSIONS["neutral"].vector().any()
    assert vectors["happy"][INDEX["mouthSmileLeft"]] > 0.5
    assert vectors["sad"][INDEX["mouthFrownLeft"]] > 0.4
    assert vectors["surprised"][INDEX["eyeWideLeft"]] > 0.5


def test_intensity_scales_and_is_clipped() -> None:
    happy = expression("happy")
    assert happy.vector(0.5) == pytest.approx(happy.vector(1.0) * 0.5)
    assert np.array_equal(happy.vector(3.0), happy.vector(1.0))
    assert not happy.vector(-1.0).any()


def test_aliases_resolve_and_unknown_names_fail() -> None:
    assert expression("Smile").name == "happy"
    assert expression("empathic").name == "concerned"
    with pytest.raises(KeyError, match="unknown expression"):
        expression("smug")


@pytest.mark.parametrize(
    ("tag", "face", "gesture"),
    [
        ("smile", "happy", None),
        ("[Happy]", "happy", None),
        ("concerned", "concerned", None),
        ("empathy", "concerned", None),
        ("thinking", "thinking", None),
        ("surprised", "surprised", None),
        ("sad", "sad", None),
        ("nod", None, "nod"),
        (" shake ", None, "shake"),
        ("laugh", "happy", "laugh"),
    ],
)
def test_reply_tags_map_to_expressions_and_gestures(
    tag: str, face: str | None, gesture: str | None
) -> None:
    action = action_for_tag(tag)
    assert action is not None
    assert action.expression == face
    assert action.gesture == gesture
    if face is not None:
        assert 0.0 < action.intensity <= 1.0


@pytest.mark.parametrize("tag", ["wave", "", "[]", "미소", "smile now"])
def test_unknown_tags_map_to_none(tag: str) -> None:
    assert action_for_tag(tag) is None


def test_every_known_tag_resolves_to_real_presets_and_gestures() -> None:
    for tag in known_tags():
        action = action_for_tag(tag)
        assert action is not None
        if action.expression is not None:
            expression(action.expression)
        if action.gesture is not None:
            assert action.gesture in GESTURES
