"""Captions paced by the audio clock: words appear when they are heard, not when written."""

from __future__ import annotations

import numpy as np

from app.core import events as ev
from app.core.caption_pacer import CaptionPacer
from app.core.types import WordTiming

RATE = 1000  # one sample a millisecond keeps the arithmetic readable


def audio(turn: int, start_ms: int, length_ms: int, text: str, word_ms: list[int]) -> ev.AudioOut:
    words = tuple(WordTiming(f"w{i}", at, at + 50) for i, at in enumerate(word_ms))
    return ev.AudioOut(
        turn_id=turn,
        samples=np.zeros(length_ms, np.float32),
        sample_rate=RATE,
        start_sample=start_ms,
        text=text,
        words=words,
    )


def test_english_words_appear_as_they_are_heard() -> None:
    pacer = CaptionPacer()
    pacer.handle(ev.TurnStarted(turn_id=1))
    pacer.handle(audio(1, 0, 1000, "Welcome to the museum.", [0, 300, 500, 700]))
    pacer.handle(audio(1, 1000, 600, "How can I help?", [100, 250, 400, 500]))
    assert pacer.visible(1, None) == ""  # audio queued but nothing heard yet
    assert pacer.visible(1, 0.0) == "Welcome"
    assert pacer.visible(1, 0.35) == "Welcome to"
    assert pacer.visible(1, 0.99) == "Welcome to the museum."
    assert pacer.visible(1, 1.26) == "Welcome to the museum. How can"
    assert pacer.visible(1, 5.0) == "Welcome to the museum. How can I help?"


def test_korean_and_normalised_numbers_map_by_share_of_words() -> None:
    pacer = CaptionPacer()
    pacer.handle(ev.TurnStarted(turn_id=2))
    # "3층" is spoken as "삼 층": 4 spoken words for 3 caption words
    pacer.handle(audio(2, 0, 1200, "약국은 3층에 있습니다.", [0, 300, 500, 800]))
    assert pacer.visible(2, 0.1) == "약국은"
    assert pacer.visible(2, 0.35) == "약국은 3층에"  # 2 of 4 spoken -> 2 of 3 shown (rounded up)
    assert pacer.visible(2, 0.85) == "약국은 3층에 있습니다."


def test_without_word_timings_the_share_of_audio_paces_the_words() -> None:
    pacer = CaptionPacer()
    pacer.handle(ev.TurnStarted(turn_id=3))
    pacer.handle(audio(3, 0, 1000, "one two three four", []))
    assert pacer.visible(3, 0.0) == "one"
    assert pacer.visible(3, 0.5) == "one two three"
    assert pacer.visible(3, 1.0) == "one two three four"


def test_a_piece_cut_further_by_the_engine_continues_the_caption() -> None:
    pacer = CaptionPacer()
    pacer.handle(ev.TurnStarted(turn_id=4))
    pacer.handle(audio(4, 0, 500, "Note: the lift is closed.", [0, 200]))
    pacer.handle(audio(4, 500, 500, "", [0, 150, 300]))  # espeak split at the colon
    assert pacer.visible(4, 0.1) == "Note:"
    assert pacer.visible(4, 0.9) == "Note: the lift is closed."


def test_shown_words_are_never_taken_back_and_turns_are_separate() -> None:
    pacer = CaptionPacer()
    pacer.handle(ev.TurnStarted(turn_id=5))
    pacer.handle(audio(5, 0, 1000, "Goodbye and take care.", [0, 250, 500, 750]))
    assert pacer.visible(5, 0.6) == "Goodbye and take"
    assert pacer.visible(5, 0.0) == "Goodbye and take"  # the sink reset its clock at the end
    assert pacer.visible(4, 0.6) == ""  # another turn knows nothing of this one
    assert pacer.has_audio(5) and not pacer.has_audio(6)
    pacer.handle(ev.TurnStarted(turn_id=6))
    assert pacer.visible(6, 0.6) == "" and not pacer.has_audio(6)
