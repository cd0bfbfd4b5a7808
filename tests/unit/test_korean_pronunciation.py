"""Korean respelled as pronounced (표준 발음법), for the formant voice."""

from __future__ import annotations

from typing import Any

import pytest

from speech.korean_pronunciation import pronounce


@pytest.mark.parametrize(
    ("written", "said"),
    [
        # nasalisation and tensing: the ending of every formal sentence
        ("있습니다", "읻씀니다"),
        ("반갑습니다", "반갑씀니다"),
        ("감사합니다", "감사함니다"),
        ("국민", "궁민"),
        ("있는", "인는"),
        ("학교", "학꾜"),
        # liaison, double finals, palatalisation
        ("약국은", "약꾸근"),
        ("읽어", "일거"),
        ("없어", "업써"),
        ("앉아", "안자"),
        ("밖에", "바께"),
        ("앞에서", "아페서"),
        ("같이", "가치"),
        ("굳이", "구지"),
        # ㅎ: aspiration, silence before a vowel, ㄴ before ㄴ
        ("좋다", "조타"),
        ("축하", "추카"),
        ("많고", "만코"),
        ("좋아요", "조아요"),
        ("많아", "마나"),
        ("싫어", "시러"),
        ("놓는", "논는"),
        ("않네", "안네"),
        # ㄹ after a consonant, lateralisation
        ("심리", "심니"),
        ("국립", "궁닙"),
        ("신라", "실라"),
        ("칼날", "칼랄"),
        # the seven final sounds at the end of a word
        ("부엌", "부억"),
        ("꽃", "꼳"),
        ("값", "갑"),
        ("닭", "닥"),
        ("삶", "삼"),
        # nothing to change
        ("안녕하세요", "안녕하세요"),
        ("엘리베이터", "엘리베이터"),
    ],
)
def test_a_word_is_respelled_as_it_is_said(written: str, said: str) -> None:
    assert pronounce(written) == said


def test_rules_stay_inside_a_word_and_everything_else_keeps_its_place() -> None:
    text = "약국은 3층에 있습니다. OK? 좋아요!"
    said = pronounce(text)
    assert said == "약꾸근 3층에 읻씀니다. OK? 조아요!"
    assert len(said) == len(text)
    assert [i for i, c in enumerate(text) if not c.isalpha() or c.isascii()] == [
        i for i, c in enumerate(said) if not c.isalpha() or c.isascii()
    ]


def test_text_without_hangul_is_unchanged() -> None:
    assert pronounce("The pharmacy is on the third floor.") == (
        "The pharmacy is on the third floor."
    )
    assert pronounce("") == ""


def test_the_korean_voice_says_the_standard_pronunciation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("espeakng_loader")
    from speech.tts import espeak_lib
    from speech.tts.espeak_tts import EspeakSynthesizer

    heard: list[str] = []
    synthesize = espeak_lib.synthesize

    def listen(said: str, voice: str, **options: Any) -> espeak_lib.Synthesis:
        result = synthesize(said, voice, **options)
        heard.extend(
            e.name.strip("ˈˌ-") for e in result.events if e.kind == espeak_lib.EVENT_PHONEME
        )
        return result

    monkeypatch.setattr(espeak_lib, "synthesize", listen)
    text = "있습니다 국민."
    chunks = list(EspeakSynthesizer("ko").synthesize(text, "ko"))
    # 있습니다 [it̚s͈ɯmnida]: espeak-ng alone says ...ɯpnida; 국민 [kuŋmin], not [kukmin]
    said = [name for name in heard if name]
    vowel = said.index("ɯ")
    assert said[vowel + 1 : vowel + 3] == ["m", "n"]
    assert said[-4:-2] == ["ŋ", "m"]
    # the words keep their spelling: captions and the heard text show what was written
    assert [w.word for c in chunks for w in c.words] == text.split()
