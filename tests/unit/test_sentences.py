from speech.sentences import SentenceSplitter, split_sentences


def test_streamed_english_releases_each_sentence_as_soon_as_it_ends() -> None:
    s = SentenceSplitter()
    assert s.feed("The pharmacy is on ") == []
    assert s.feed("the first floor. It") == ["The pharmacy is on the first floor."]
    assert s.feed(" opens at 9 a.m.") == []
    assert s.flush() == ["It opens at 9 a.m."]


def test_abbreviations_and_numbering_do_not_end_sentences() -> None:
    assert split_sentences("Dr. Kim is in room 3. Please wait.") == [
        "Dr. Kim is in room 3.",
        "Please wait.",
    ]


def test_korean_sentences_split_on_their_endings() -> None:
    text = "안녕하세요. 약국은 1층에 있습니다! 더 궁금한 점이 있으신가요?"
    assert split_sentences(text) == [
        "안녕하세요.",
        "약국은 1층에 있습니다!",
        "더 궁금한 점이 있으신가요?",
    ]


def test_a_long_run_on_is_cut_at_a_clause_so_speech_can_start() -> None:
    s = SentenceSplitter(clause_after_chars=40)
    out = s.feed("When you arrive at the main entrance of the hospital, turn left and ")
    assert out == ["When you arrive at the main entrance of the hospital,"]
