"""Lip-sync: viseme timelines drive the mouth at the right audio times."""

from __future__ import annotations

import itertools
import random
import time

import pytest

from app.core.types import Viseme
from avatar.lipsync import VISEME_POSES, LipSync
from avatar.rig import ARKIT_BLENDSHAPES, INDEX
from speech.visemes import VISEMES


def _jaw(lips: LipSync, t: float) -> float:
    return float(lips.at(t).weights[INDEX["jawOpen"]])


def _lip(lips: LipSync, t: float, name: str) -> float:
    return float(lips.at(t).weights[INDEX[name]])


def _aa_pp_aa(pp: float = 0.06) -> LipSync:
    lips = LipSync()
    lips.add(
        [
            Viseme("sil", 0.0, 0.2),
            Viseme("aa", 0.2, 0.15),
            Viseme("PP", 0.35, pp),
            Viseme("aa", 0.35 + pp, 0.15),
            Viseme("sil", 0.5 + pp, 0.4),
        ]
    )
    return lips


def test_every_ovr_viseme_has_a_pose_of_rig_names_in_range() -> None:
    assert set(VISEME_POSES) == set(VISEMES)
    for pose in VISEME_POSES.values():
        assert set(pose) <= set(ARKIT_BLENDSHAPES)
        assert all(0.0 <= v <= 1.0 for v in pose.values())
    # shapes that must be distinguishable on a face really are
    assert VISEME_POSES["aa"]["jawOpen"] >= 0.6
    assert VISEME_POSES["TH"]["tongueOut"] > 0.3
    assert VISEME_POSES["U"]["mouthPucker"] > VISEME_POSES["aa"].get("mouthPucker", 0.0) + 0.5


def test_jaw_is_open_during_aa_and_closed_in_silence() -> None:
    lips = _aa_pp_aa()
    assert _jaw(lips, 0.05) == 0.0  # leading silence
    assert _jaw(lips, 0.27) > 0.6  # middle of the first aa
    assert _jaw(lips, 0.49) > 0.6  # middle of the second aa
    assert _jaw(lips, 0.85) == 0.0  # trailing silence
    assert _jaw(lips, 5.0) == 0.0  # past the timeline
    assert lips.at(-1.0).activity == 0.0


@pytest.mark.parametrize("pp", [0.04, 0.06, 0.1])
def test_bilabial_closes_the_lips_between_open_vowels(pp: float) -> None:
    lips = _aa_pp_aa(pp)
    centre = 0.35 + pp / 2
    mouth = lips.at(centre)
    assert mouth.weights[INDEX["jawOpen"]] < 0.08
    assert mouth.weights[INDEX["mouthClose"]] > 0.4
    assert mouth.weights[INDEX["mouthPressLeft"]] > 0.3
    assert mouth.closure > 0.8


def test_lip_shapes_anticipate_their_sound() -> None:
    lips = _aa_pp_aa(0.08)
    # 30 ms before the p is heard the lips are already mostly shut...
    assert lips.at(0.35 - 0.03).closure > 0.5
    # ...while a jaw-only sound is not anticipated that early
    vowels = LipSync()
    vowels.add([Viseme("sil", 0.0, 0.3), Viseme("aa", 0.3, 0.2), Viseme("sil", 0.5, 0.3)])
    assert _jaw(vowels, 0.3 - 0.03) < 0.2
    # rounding for U leads too
    rounded = LipSync()
    rounded.add([Viseme("sil", 0.0, 0.3), Viseme("U", 0.3, 0.2), Viseme("sil", 0.5, 0.3)])
    assert _lip(rounded, 0.3 - 0.02, "mouthPucker") > 0.35


def test_transitions_overlap_instead_of_switching() -> None:
    lips = LipSync()
    lips.add([Viseme("aa", 0.0, 0.2), Viseme("E", 0.2, 0.2)])
    # at the boundary both shapes contribute: jaw between E's 0.4 and aa's 0.7
    assert 0.45 < _jaw(lips, 0.2) < 0.65
    # the change is spread over tens of ms: no step larger than 0.1 per 5 ms
    samples = [_jaw(lips, 0.1 + i * 0.005) for i in range(41)]
    assert max(abs(b - a) for a, b in itertools.pairwise(samples)) < 0.1


def test_viseme_weight_scales_the_pose() -> None:
    full, reduced = LipSync(), LipSync()
    full.add([Viseme("aa", 0.0, 0.3)])
    reduced.add([Viseme("aa", 0.0, 0.3, weight=0.5)])
    assert _jaw(reduced, 0.15) == pytest.approx(_jaw(full, 0.15) * 0.5, rel=1e-6)


def test_sentences_append_with_offsets_and_clear_empties() -> None:
    lips = LipSync()
    lips.add([Viseme("sil", 0.0, 0.1), Viseme("aa", 0.1, 0.2)])
    lips.add([Viseme("O", 1.0 + 0.1, 0.2)])  # the second sentence, offset on the turn clock
    assert len(lips) == 3
    assert _jaw(lips, 0.2) > 0.6
    assert _jaw(lips, 0.7) == 0.0  # the gap between sentences rests
    assert _lip(lips, 1.2, "mouthFunnel") > 0.4
    assert lips.end > 1.3
    lips.clear()
    assert len(lips) == 0 and lips.end == 0.0
    assert _jaw(lips, 0.2) == 0.0


def test_an_overlapping_timeline_replaces_what_it_overlaps() -> None:
    lips = LipSync()
    lips.add([Viseme("aa", 0.0, 0.5), Viseme("aa", 0.5, 0.5)])
    lips.add([Viseme("U", 0.3, 0.2)])
    assert len(lips) == 2  # the first aa cut at 0.3, the second dropped
    assert _lip(lips, 0.4, "mouthPucker") > 0.5
    assert _jaw(lips, 0.8) == 0.0


def test_unknown_and_degenerate_visemes_are_harmless() -> None:
    lips = LipSync()
    lips.add([Viseme("zz", 0.0, 0.2), Viseme("aa", 0.2, 0.0), Viseme("aa", 0.3, -1.0)])
    assert _jaw(lips, 0.1) == 0.0
    assert lips.at(float("nan")).activity == 0.0


def _median_query_seconds(lips: LipSync, end: float) -> float:
    rng = random.Random(1)
    times = [rng.uniform(0.0, end) for _ in range(2000)]
    best = []
    for _ in range(3):
        start = time.perf_counter()
        for t in times:
            lips.at(t)
        best.append(time.perf_counter() - start)
    return min(best) / len(times)


def _random_timeline(n: int) -> tuple[LipSync, float]:
    rng = random.Random(0)
    lips, position, items = LipSync(), 0.0, []
    for _ in range(n):
        duration = rng.uniform(0.03, 0.15)
        items.append(Viseme(rng.choice(VISEMES), position, duration))
        position += duration
    lips.add(items)
    return lips, position


def test_query_cost_does_not_grow_with_the_timeline() -> None:
    short, short_end = _random_timeline(50)
    long, long_end = _random_timeline(50_000)
    # a scan over 50k visemes would be ~1000x slower; binary search stays within noise
    assert _median_query_seconds(long, long_end) < 3.0 * _median_query_seconds(short, short_end)
    assert _median_query_seconds(long, long_end) < 200e-6
