"""Korean sounds to OVR visemes: Hangul jamo, espeak-ng's Korean IPA, and a real timeline."""

from __future__ import annotations

import itertools

import pytest

from speech import korean_visemes as kv
from speech import visemes


def names(units: list[tuple[str, float]]) -> list[str]:
    return [name for name, _ in units]


@pytest.mark.parametrize(
    ("syllable", "expected"),
    [
        ("마", ["PP", "aa"]),  # ㅁ lips closed, ㅏ open
        ("바", ["PP", "aa"]),
        ("파", ["PP", "aa"]),
        ("오", ["O"]),  # initial ㅇ is silent
        ("우", ["U"]),
        ("으", ["U"]),
        ("이", ["I"]),
        ("에", ["E"]),
        ("애", ["E"]),
        ("어", ["aa"]),
        ("사", ["SS", "aa"]),
        ("싸", ["SS", "aa"]),
        ("자", ["CH", "aa"]),
        ("차", ["CH", "aa"]),
        ("나", ["nn", "aa"]),
        ("라", ["DD", "aa"]),  # ㄹ at the start is a flap
        ("알", ["aa", "nn"]),  # and a lateral at the end
        ("가", ["kk", "aa"]),
        ("앙", ["aa", "kk"]),  # final ㅇ is ŋ
        ("밥", ["PP", "aa", "PP"]),
        ("옷", ["O", "DD"]),  # final ㅅ is an unreleased t
        ("값", ["kk", "aa", "PP"]),
        ("야", ["I", "aa"]),  # glide then vowel
        ("와", ["U", "aa"]),
        ("위", ["U", "I"]),
        ("의", ["U", "I"]),
        ("하", ["kk", "aa"]),
    ],
)
def test_hangul_syllables_map_to_mouth_shapes(syllable: str, expected: list[str]) -> None:
    assert names(kv.syllable_visemes(syllable)) == expected


def test_weak_sounds_have_lighter_weights() -> None:
    weights = dict(kv.syllable_visemes("하"))
    assert weights["kk"] == 0.5  # ㅎ is shaped by its neighbours
    assert kv.syllable_visemes("으")[0][1] < 1.0  # ㅡ is unrounded: a weaker U
    assert kv.syllable_visemes("야")[0][1] < 1.0  # a glide is weaker than its vowel


def test_decompose_and_text_with_spaces_and_latin() -> None:
    assert kv.decompose("한") == (18, 0, 4)
    with pytest.raises(ValueError):
        kv.decompose("A")
    units = names(kv.jamo_visemes("안녕, OK 바다"))
    assert units == ["aa", "nn", "nn", "I", "aa", "kk", "sil", "PP", "aa", "DD", "aa"]


@pytest.mark.parametrize(
    ("phoneme", "viseme"),
    [
        ("ɐ", "aa"), ("ʌ", "aa"), ("ɯ", "U"), ("o", "O"), ("u", "U"), ("i", "I"), ("e", "E"),
        ("ɛ", "E"), ("q", "kk"), ("k-", "kk"), ("ph", "PP"), ("p", "PP"), ("m", "PP"),
        ("th", "DD"), ("t-", "DD"), ("tɕ", "CH"), ("tɕh", "CH"), ("tʃh", "CH"), ("s-", "SS"),
        ("n", "nn"), ("ɫ", "nn"), ("ɾ", "DD"), ("ŋ", "kk"), ("ˈɐ", "aa"), ("ˌo", "O"),
    ],
)  # fmt: skip
def test_espeak_korean_ipa_maps_to_visemes(phoneme: str, viseme: str) -> None:
    assert visemes.units(phoneme)[0][0] == viseme


def test_multi_symbol_names_split_and_markers_are_silence() -> None:
    assert names(visemes.units("ˈəʊ")) == ["aa", "U"]  # a diphthong: two shapes
    assert names(visemes.units("(en)")) == ["sil"]  # espeak's language switch
    assert names(visemes.units("")) == ["sil"]  # a pause


def test_a_diphthong_shares_its_time_between_its_shapes() -> None:
    line = visemes.timeline(["", "ˈəʊ", "m"], [10, 20, 10], 1000)
    assert [v.name for v in line] == ["sil", "aa", "U", "PP"]
    assert [round(v.duration * 1000) for v in line] == [10, 10, 10, 10]


def test_espeak_korean_timeline_agrees_with_the_jamo_mapping() -> None:
    """The IPA path (espeak-ng phoneme events) and the jamo path give the same shapes."""
    pytest.importorskip("espeakng_loader")
    from speech.tts.espeak_tts import EspeakSynthesizer

    synthesizer = EspeakSynthesizer("ko")
    (chunk,) = list(synthesizer.synthesize("바다 마음", "ko"))
    spoken = [v.name for v in chunk.visemes if v.name != "sil"]
    jamo = [
        k
        for k, _ in itertools.groupby(n for n in names(kv.jamo_visemes("바다 마음")) if n != "sil")
    ]
    assert spoken[:4] == ["PP", "aa", "DD", "aa"]
    assert "PP" in spoken[4:] and "U" in spoken[4:]
    assert jamo[:4] == spoken[:4]
    assert chunk.visemes[-1].start + chunk.visemes[-1].duration == pytest.approx(chunk.seconds)
