"""Expression tags in streamed replies: split across pieces, unknown ones dropped, never spoken."""

from __future__ import annotations

import pytest

from dialog.reply_stream import ReplyShaper
from dialog.reply_tags import Cue, ReplyTagParser, strip_tags
from dialog.safety.guards import WATCH, OutputGuard

ALLOWED = ["smile", "nod", "concerned"]


def run(pieces: list[str], allowed: list[str] = ALLOWED) -> tuple[str, list[Cue], list[str]]:
    parser = ReplyTagParser(allowed)
    text, cues = "", []
    for piece in pieces:
        parsed = parser.feed(piece)
        text += parsed.text
        cues += parsed.cues
    last = parser.flush()
    return text + last.text, cues + list(last.cues), parser.dropped


def test_a_tag_split_across_pieces_is_still_a_tag() -> None:
    text, cues, _ = run(["[smi", "le] Hello ", "there."])
    assert text == "Hello there."
    assert cues == [Cue("smile")]


@pytest.mark.parametrize(
    "pieces",
    [
        ["Hello [nod] there."],
        ["Hello [n", "od] there."],
        ["Hello [", "nod", "]", " there."],
        ["Hello", " [nod]", " there."],
    ],
)
def test_one_space_survives_wherever_the_tag_was_cut(pieces: list[str]) -> None:
    assert run(pieces)[0] == "Hello there."


def test_intensity_and_case() -> None:
    text, cues, _ = run(["[Concerned:0.4]I'm sorry to hear that. [smile: 2]"])
    assert text == "I'm sorry to hear that."
    assert cues == [Cue("concerned", 0.4), Cue("smile", 1.0)]


def test_unknown_tags_are_dropped_and_recorded() -> None:
    text, cues, dropped = run(["Sure [wink]. [laugh]Of course."])
    assert text == "Sure. Of course."
    assert cues == [] and dropped == ["wink", "laugh"]


@pytest.mark.parametrize("text", ["Room [B2] is left.", "See note [1].", "Use [a b] here."])
def test_brackets_that_are_not_tags_stay_text(text: str) -> None:
    assert run([text])[0] == text


def test_korean_text_and_an_open_bracket_at_the_end() -> None:
    text, cues, _ = run(["안녕하세요 [smi", "le] 반가워요. ["])
    assert text == "안녕하세요 반가워요. ["
    assert cues == [Cue("smile")]
    assert strip_tags("[nod]네, 알겠습니다.", ALLOWED).text == "네, 알겠습니다."


def test_the_shaper_keeps_tags_out_of_captions_and_sentences() -> None:
    guard = OutputGuard()
    shaper = ReplyShaper(ALLOWED, lambda s: guard.vet(s, "en"), WATCH)
    pieces = ["[smi", "le] The cafe ", "is open. [no", "d]It closes", " at six."]
    chunks, sentences, cues = [], [], []
    for piece in pieces:
        shaped = shaper.feed(piece)
        chunks += shaped.chunks
        sentences += [v.text for v in shaped.sentences]
        cues += shaped.cues
    final = shaper.flush()
    chunks += final.chunks
    sentences += [v.text for v in final.sentences]
    assert "".join(chunks) == "The cafe is open. It closes at six."
    assert not any("[" in c for c in chunks)
    assert sentences == ["The cafe is open.", "It closes at six."]
    assert [(c.tag, i) for c, i in cues] == [("smile", 0), ("nod", 1)]


def test_the_shaper_never_shows_a_clinician_claim_even_mid_stream() -> None:
    guard = OutputGuard()
    shaper = ReplyShaper(ALLOWED, lambda s: guard.vet(s, "en"), WATCH)
    shown = ""
    for piece in ["Well, ", "I am your ", "ther", "apist and ", "I can help. ", "Bye."]:
        shown += "".join(shaper.feed(piece).chunks)
        assert "therapist and" not in shown
    shown += "".join(shaper.flush().chunks)
    assert "not a doctor or a therapist" in shown
    assert [v.reason for v in shaper.replaced] == ["clinician-claim"]
