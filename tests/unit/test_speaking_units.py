"""Fast checks of the speaking slice without a voice or a sound device.

The viseme mapping and timelines, SoundDeviceSink's audio clock driven by a fake PortAudio
stream whose callbacks and clock the test controls, the first-clause cut, word timings and
heard text, the audio-driven viseme estimator, and ``dhuman say`` on bad input (with
espeak-ng, which needs no model and answers in milliseconds).
"""

from __future__ import annotations

import io
import itertools
import json
import wave
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from app.config.settings import Settings
from app.core.types import SpeechChunk, Viseme, WordTiming
from speech import playback, visemes
from speech.heard import Spoken, heard_text
from speech.sentences import SentenceSplitter, split_sentences
from speech.tts import words
from speech.tts.chunks import word_spans

RATE = 1000  # a round rate keeps the arithmetic readable


# ------------------------------------------------------------------ visemes


@pytest.mark.parametrize(
    ("phoneme", "viseme"),
    [
        ("p", "PP"), ("b", "PP"), ("m", "PP"), ("f", "FF"), ("v", "FF"), ("θ", "TH"),
        ("ð", "TH"), ("t", "DD"), ("d", "DD"), ("k", "kk"), ("ɡ", "kk"), ("ŋ", "kk"),
        ("ʃ", "CH"), ("ʒ", "CH"), ("tʃ", "CH"), ("s", "SS"), ("z", "SS"), ("n", "nn"),
        ("l", "nn"), ("ɹ", "RR"), ("ɚ", "RR"), ("ɑ", "aa"), ("æ", "aa"), ("ʌ", "aa"),
        ("ɛ", "E"), ("e", "E"), ("ɪ", "I"), ("i", "I"), ("o", "O"), ("ɔ", "O"),
        ("u", "U"), ("ʊ", "U"), ("w", "U"), (",", "sil"), (".", "sil"), ("^", "sil"),
        ("$", "sil"), ("?", "sil"), ("☃", "sil"),
    ],
)  # fmt: skip
def test_english_phonemes_map_onto_the_ovr_visemes(phoneme: str, viseme: str) -> None:
    name, weight = visemes.viseme_for(phoneme)
    assert name == viseme
    assert name in visemes.VISEMES
    assert 0 < weight <= 1


def test_reduced_sounds_open_the_mouth_less() -> None:
    assert visemes.viseme_for("ə") == ("aa", 0.6)
    assert visemes.viseme_for("h")[1] < 1.0


def test_timeline_gives_modifier_time_to_its_sound_and_merges_repeats() -> None:
    # "^ h ə l ˈ o ʊ ␠ ð ˈ ɛ ɹ , $" as Piper aligns "Hello there,"
    phonemes = ["^", "h", "ə", "l", "ˈ", "o", "ʊ", " ", "ð", "ˈ", "ɛ", "ː", "ɹ", ",", "$"]
    counts = [10, 5, 5, 10, 4, 10, 10, 6, 10, 3, 10, 5, 10, 20, 7]
    line = visemes.timeline(phonemes, counts, RATE)
    assert [v.name for v in line] == ["sil", "kk", "aa", "nn", "O", "U", "TH", "E", "RR", "sil"]
    by_name = {v.name: v for v in line}
    assert by_name["O"].duration == pytest.approx(0.014)  # stress mark lent to the vowel
    # the word gap is the words' transition: half to the sound before, half to the one after
    assert by_name["U"].duration == pytest.approx(0.013)
    assert by_name["TH"].duration == pytest.approx(0.013)
    assert by_name["E"].duration == pytest.approx(0.018)  # stress before, length after
    assert line[-1].duration == pytest.approx(0.027)  # "," and "$" merge into one silence
    assert line[0].start == 0.0
    for before, after in itertools.pairwise(line):
        assert after.start == pytest.approx(before.start + before.duration)
    assert line[-1].start + line[-1].duration == pytest.approx(sum(counts) / RATE)


@pytest.mark.parametrize(
    ("name", "shapes"),
    [
        ("ˈaɪ", ["aa", "I"]), ("aʊ", ["aa", "U"]), ("ˈeɪ", ["E", "I"]), ("ˌoʊ", ["O", "U"]),
        ("ɔɪ", ["O", "I"]), ("ˈiə", ["I", "aa"]), ("ʊɹ", ["U", "RR"]), ("ˈɑːɹ", ["aa", "RR"]),
    ],
)  # fmt: skip
def test_espeak_diphthongs_glide_between_two_shapes(name: str, shapes: list[str]) -> None:
    # espeak-ng names a diphthong as one phoneme; Piper aligns its two symbols apart
    assert [shape for shape, _ in visemes.units(name)] == shapes
    line = visemes.timeline([name], [20], RATE)
    assert [v.name for v in line] == shapes
    assert [v.duration for v in line] == pytest.approx([0.01, 0.01])


def test_the_nurse_vowel_is_r_coloured() -> None:
    # "first" is f ˈɜː s t in the American voices, said [ɝ] (CMU: F ER1 S T)
    assert visemes.viseme_for("ɜ")[0] == "RR"
    assert visemes.units("ˈɜː") == [("RR", 1.0)]


def test_a_word_gap_is_shared_by_the_words_it_joins() -> None:
    line = visemes.timeline(["m", " ", "t"], [10, 7, 10], RATE)
    assert [(v.name, round(v.duration * RATE)) for v in line] == [("PP", 13), ("DD", 14)]
    # at the start of an utterance there is no sound before it: the next one takes it all
    line = visemes.timeline([" ", "t"], [6, 10], RATE)
    assert [(v.name, round(v.duration * RATE)) for v in line] == [("sil", 6), ("DD", 10)]


def test_timeline_rejects_mismatched_lengths_and_uniform_fallback_covers_audio() -> None:
    with pytest.raises(ValueError):
        visemes.timeline(["a"], [1, 2], RATE)
    line = visemes.uniform_timeline(["h", "ə", "l", "o"], 1001, RATE)
    assert [v.name for v in line] == ["kk", "aa", "nn", "O"]
    assert line[-1].start + line[-1].duration == pytest.approx(1.001)
    assert visemes.uniform_timeline([], 0, RATE) == ()


# ------------------------------------------------------------------ the audio clock


class FakeStream:
    """Stands in for sounddevice.OutputStream; the test runs callbacks and moves time."""

    def __init__(self, **kwargs: Any) -> None:
        asked = kwargs.get("latency")
        self.latency = asked if isinstance(asked, float) else 0.02  # "low" through Pulse
        self.callback = kwargs["callback"]
        self.blocksize = kwargs["blocksize"]
        self.samplerate = kwargs["samplerate"]
        self.time = 100.0
        self.aborted = 0
        self.closed = False

    def start(self) -> None: ...

    def abort(self, ignore_errors: bool = True) -> None:
        self.aborted += 1

    def close(self, ignore_errors: bool = True) -> None:
        self.closed = True

    def pull(self, dac_delay: float = 0.02, underflow: bool = False) -> np.ndarray:
        """One callback at the current time; its buffer reaches the speaker after dac_delay."""
        out = np.full((self.blocksize, 1), np.nan, dtype=np.float32)
        timing = SimpleNamespace(outputBufferDacTime=self.time + dac_delay, currentTime=self.time)
        self.callback(out, self.blocksize, timing, SimpleNamespace(output_underflow=underflow))
        return out[:, 0]


@pytest.fixture()
def sink(monkeypatch: pytest.MonkeyPatch) -> tuple[playback.SoundDeviceSink, list[FakeStream]]:
    streams: list[FakeStream] = []

    def make(**kwargs: Any) -> FakeStream:
        streams.append(FakeStream(**kwargs))
        return streams[-1]

    monkeypatch.setattr(playback, "_sounddevice", lambda: SimpleNamespace(OutputStream=make))
    return playback.SoundDeviceSink(blocksize=100), streams


def chunk(n: int, value: float = 0.5) -> SpeechChunk:
    return SpeechChunk(np.full(n, value, dtype=np.float32), RATE)


def test_clock_follows_the_dac_time_and_counts_only_speech(sink: Any) -> None:
    audio, streams = sink
    audio.play(chunk(250))
    stream = streams[0]
    assert audio.heard_samples() == 0
    first = stream.pull()  # samples 0-99 reach the speaker at t=100.02
    np.testing.assert_array_equal(first, 0.5)
    stream.time += 0.01
    assert audio.heard_samples() == 0  # still in flight
    stream.time += 0.015  # 5 ms past the DAC time of the first buffer
    assert audio.heard_samples() == 5
    stream.pull()  # samples 100-199, heard from t=100.045
    stream.time += 0.1
    third = stream.pull()  # the last 50 samples, then zeros
    np.testing.assert_array_equal(third[:50], 0.5)
    np.testing.assert_array_equal(third[50:], 0.0)
    assert audio.heard_samples() == 180  # 80 ms into the 2nd buffer; the 3rd is in flight
    stream.time += 0.03
    assert audio.heard_samples() == 210  # 10 ms into the 3rd
    stream.time += 0.05
    assert audio.heard_samples() == 250  # clamped: the zeros after the speech do not count
    assert audio.wait_done(timeout=0.1)


def test_a_gap_between_sentences_does_not_advance_the_clock(sink: Any) -> None:
    audio, streams = sink
    audio.play(chunk(100))
    stream = streams[0]
    stream.pull()
    for _ in range(5):  # the synthesizer is late: silence goes out
        stream.time += 0.1
        stream.pull()
    assert audio.heard_samples() == 100
    audio.play(chunk(100, 0.25))
    stream.time += 0.1
    np.testing.assert_array_equal(stream.pull(), 0.25)
    stream.time += 0.03  # 10 ms into the second sentence
    assert audio.heard_samples() == 110
    assert not audio.wait_done(timeout=0.01)


def test_stop_drops_the_queue_reports_heard_and_resets(sink: Any) -> None:
    audio, streams = sink
    audio.play(chunk(1000))
    stream = streams[0]
    stream.pull()
    stream.time += 0.05  # 30 ms heard
    report = audio.stop()
    assert (report.heard_samples, report.sample_rate, report.interrupted) == (30, RATE, True)
    assert stream.aborted == 1  # what PortAudio still held is discarded
    assert audio.heard_samples() == 0
    np.testing.assert_array_equal(stream.pull(), 0.0)
    audio.play(chunk(100))
    stream.time += 0.1
    stream.pull()  # heard from t + 0.02 on
    stream.time += 0.12
    assert audio.heard_samples() == 100  # the new utterance counts from zero
    finished = audio.stop()
    assert (finished.heard_samples, finished.interrupted) == (100, False)
    assert stream.aborted == 1  # nothing to cut off: no abort


def test_an_underrun_spin_keeps_the_speech_queued_until_real_time_catches_up(
    sink: Any,
) -> None:
    audio, streams = sink
    audio.play(chunk(1000))
    stream = streams[0]
    np.testing.assert_array_equal(stream.pull(), 0.5)
    # PortAudio recovering from underruns: callbacks come far faster than real time
    for _ in range(20):
        stream.time += 0.001
        np.testing.assert_array_equal(stream.pull(underflow=True), 0.0)
    for _ in range(20):  # no flag, but still ahead of the clock beyond the buffer's slack
        stream.pull()
    # slack: 4 blocks + 20 ms of latency; 20 ms passed, 100 samples were out already
    assert audio.held_blocks == 40 - 3
    stream.time += 1.0  # real time again: the rest of the speech plays, none of it lost
    played = [stream.pull() for _ in range(6)]
    assert sum(int(np.count_nonzero(block == 0.5)) for block in played) == 600
    stream.time += 0.2  # (the fake gives all six buffers one DAC time)
    assert audio.heard_samples() == 1000


def test_the_echo_reference_is_placed_by_the_stream_clock_not_the_late_callback(
    sink: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under load every callback runs 5-30 ms after PortAudio stamped it; placing the
    reference by ``time.monotonic()`` in the callback put the avatar's voice that much
    late, and the echo it left uncancelled looked like a person."""
    audio, streams = sink
    offset = 500.0  # the monotonic clock minus the stream's
    rng = np.random.default_rng(3)
    late = iter(0.0001 if k % 20 == 7 else rng.uniform(0.005, 0.03) for k in range(10_000))
    stream_now = [0.0]
    monkeypatch.setattr(playback.time, "monotonic", lambda: stream_now[0] + offset + next(late))
    audio.play(chunk(3000))
    stream = streams[0]
    for _ in range(30):
        stream_now[0] = stream.time
        stream.pull()
        stream.time += 0.1
    # speech reached the DAC at stream time 100.02: read the start of it on the monotonic
    # clock (linear interpolation: the 1 kHz test rate blurs less than a millisecond)
    heard = audio.reference.read(100.02 + offset - 0.05, 1600, 16000, precise=False)
    first = int(np.flatnonzero(heard)[0])
    assert abs((first - 800) / 16) <= 1.5  # ms from where it was played
    assert audio.reference.slips == 0

    audio.stop()  # interrupted: the stream restarts, its next block is a new stretch
    stream_now[0] = stream.time
    stream.pull()
    assert audio.reference.slips == 1
    stream.time += 0.1
    stream_now[0] = stream.time
    stream.pull(underflow=True)  # an underrun the stream reports: the same, at once
    assert audio.reference.slips == 2


def test_chunks_at_another_rate_are_resampled(sink: Any) -> None:
    audio, _streams = sink
    audio.play(chunk(100))
    audio.play(SpeechChunk(np.zeros(200, np.float32), RATE * 2))
    assert audio.queued_samples() == 200


def test_no_output_device_is_a_clear_role_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("No output device matching 'nope'")

    fake = SimpleNamespace(
        query_devices=lambda *a, **k: refuse() if a or k else [], check_output_settings=refuse
    )
    monkeypatch.setattr(playback, "_sounddevice", lambda: fake)
    with pytest.raises(playback.AudioOutputUnavailable, match=r"audio\.output_device") as info:
        playback.check_output_device("nope")
    assert "none found" in str(info.value)
    from app.core.registry import RoleUnavailable

    assert isinstance(info.value, RoleUnavailable)


# ------------------------------------------------------------------ first clause


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        (
            "Hello, I am your guide and I can help you find rooms.",
            ["Hello, I am your guide", "and I can help you find rooms."],
        ),
        (
            "The pharmacy is on the first floor, next to the main entrance. It opens at nine.",
            [
                "The pharmacy is on the first floor,",
                "next to the main entrance.",
                "It opens at nine.",
            ],
        ),
        ("Yes, sure.", ["Yes, sure."]),  # too short to cut
        ("I like bread and butter.", ["I like bread and butter."]),  # the rest would be a scrap
        (
            "약국은 일층에 있고 화장실은 지하에 있습니다. 감사합니다.",
            ["약국은 일층에 있고", "화장실은 지하에 있습니다.", "감사합니다."],
        ),
        (
            "오늘은 날씨가 좋지만 내일은 비가 옵니다.",
            ["오늘은 날씨가 좋지만", "내일은 비가 옵니다."],
        ),
        (
            "진료는 아홉시에 시작합니다. 그리고 점심시간은 열두시부터 한시까지입니다.",
            ["진료는 아홉시에 시작합니다.", "그리고 점심시간은 열두시부터 한시까지입니다."],
        ),
        ("이 제품은 최고 품질입니다.", ["이 제품은 최고 품질입니다."]),  # 최고 is a noun
    ],
)
def test_only_the_first_piece_may_end_at_a_clause(text: str, pieces: list[str]) -> None:
    assert split_sentences(text, first_clause=True) == pieces
    assert split_sentences(text) == [p for p in split_sentences(text)]  # default unchanged


def test_streamed_reply_releases_its_first_clause_before_the_sentence_ends() -> None:
    splitter = SentenceSplitter()
    released: list[str] = []
    reply = "Hello, I am your guide and I can help you find rooms. Thanks."
    for word in reply.split(" "):
        released += splitter.feed(word + " ")
        if released:
            break
    assert released == ["Hello, I am your guide"]  # before "rooms." has even arrived
    assert splitter.feed("") == []
    korean = SentenceSplitter()
    assert korean.feed("오늘은 날씨가 좋지만 내") == ["오늘은 날씨가 좋지만"]
    assert korean.feed("일은 비가 옵니다. 우산을") == ["내일은 비가 옵니다."]


def test_splitter_can_be_told_not_to_cut_the_first_clause() -> None:
    splitter = SentenceSplitter(first_clause_chars=None)
    assert splitter.feed("Hello, I am your guide and I can ") == []


# ------------------------------------------------------------------ words and heard text


def test_word_spans_from_piper_alignments() -> None:
    phonemes = ["^", "h", "ə", "l", "o", ",", " ", "a", "ɪ", " ", "ɡ", "a", "ɪ", "d", "$"]
    counts = [5, 1, 1, 1, 1, 4, 2, 1, 1, 2, 1, 1, 1, 1, 5]
    assert word_spans(phonemes, counts) == [(5, 9), (15, 17), (19, 23)]


def test_words_align_one_to_one_or_by_length() -> None:
    exact = words.align(["hello,", "I", "guide"], [(5, 9), (15, 17), (19, 23)])
    assert [(w.word, w.start, w.end) for w in exact] == [
        ("hello,", 5, 9), ("I", 15, 17), ("guide", 19, 23),
    ]  # fmt: skip
    merged = words.align(["I", "am", "here"], [(0, 100), (100, 200)])  # espeak joined I+am
    assert [w.word for w in merged] == ["I", "am", "here"]
    assert merged[0].start == 0 and merged[-1].end == 200
    assert all(a.end == b.start for a, b in itertools.pairwise(merged))
    assert words.spoken_words("Hi — there , you!") == ["Hi", "there", "you!"]


def _entry(text: str, start: int, timings: list[tuple[str, int, int]]) -> Spoken:
    chunk = SpeechChunk(
        np.zeros(timings[-1][2] + 10, np.float32),
        RATE,
        (),
        text,
        tuple(WordTiming(w, s, e) for w, s, e in timings),
    )
    entry = Spoken(text, start)
    entry.add(chunk, start)
    return entry


def test_heard_text_ends_on_the_last_word_heard_at_least_half() -> None:
    first = _entry("Call 109.", 0, [("Call", 0, 100), ("one", 100, 200), ("zero", 200, 300),
                                     ("nine.", 300, 400)])  # fmt: skip
    second = _entry("It is free.", 410, [("It", 0, 50), ("is", 60, 100), ("free.", 120, 300)])
    spoken = [first, second]
    assert heard_text(spoken, 0) == ""
    assert heard_text(spoken, 49) == ""  # less than half of "Call"
    assert heard_text(spoken, 50) == "Call"
    assert heard_text(spoken, 260) == "Call one zero"
    assert heard_text(spoken, 410) == "Call 109."  # a whole sentence keeps its own text
    assert heard_text(spoken, 410 + 80) == "Call 109. It is"
    assert heard_text(spoken, 10_000) == "Call 109. It is free."


def test_heard_text_without_word_timings_uses_the_share_of_samples() -> None:
    plain = SimpleNamespace(text="one two three four", start_sample=0, samples=400)
    assert heard_text([plain], 200) == "one two"


# ------------------------------------------------------------------ espeak events -> chunk


def test_espeak_events_give_visemes_and_words_covering_the_audio() -> None:
    from speech.tts import espeak_lib
    from speech.tts.espeak_tts import chunk_from

    ev = espeak_lib.Event
    events = (
        ev(espeak_lib.EVENT_WORD, 0, "", 1, 1),
        ev(espeak_lib.EVENT_PHONEME, 10, "aɪ"),
        ev(espeak_lib.EVENT_PHONEME, 40, "ɐ"),
        ev(espeak_lib.EVENT_PHONEME, 60, "m"),
        ev(espeak_lib.EVENT_WORD, 80, "", 6, 4),
        ev(espeak_lib.EVENT_PHONEME, 80, "h"),
        ev(espeak_lib.EVENT_PHONEME, 90, "ˈɪɹ"),
        ev(espeak_lib.EVENT_PHONEME, 130, ""),
    )
    result = espeak_lib.Synthesis(np.zeros(200, np.int16), RATE, events)
    chunk = chunk_from(result, "I am here.", "I am here.")
    # "aɪ" glides aa -> I before "ɐ" opens the mouth again
    names = [v.name for v in chunk.visemes]
    assert names == ["sil", "aa", "I", "aa", "PP", "kk", "I", "RR", "sil"]
    assert chunk.visemes[-1].start + chunk.visemes[-1].duration == pytest.approx(0.2)
    # "I am" came as one word event: its time is shared; "here." ends at its last sound
    assert [(w.word, w.start, w.end) for w in chunk.words] == [
        ("I", 0, 32), ("am", 32, 80), ("here.", 80, 130),
    ]  # fmt: skip


# ------------------------------------------------------------------ audio-driven visemes


def test_audio_estimator_covers_the_audio_and_finds_silence() -> None:
    from speech import audio_visemes

    rate = 16000
    t = np.arange(rate) / rate
    voiced = (0.3 * np.sin(2 * np.pi * 150 * t) * (1 + np.sin(2 * np.pi * 700 * t))).astype(
        np.float32
    )
    audio = np.concatenate(
        [np.zeros(rate // 2, np.float32), voiced, np.zeros(rate // 2, np.float32)]
    )
    line = audio_visemes.estimate(audio, rate)
    assert line[0].name == "sil" and line[-1].name == "sil"
    assert line[-1].start + line[-1].duration == pytest.approx(len(audio) / rate)
    assert any(v.name != "sil" for v in line)
    assert all(0.5 <= v.weight <= 1.0 for v in line)
    assert audio_visemes.estimate(np.zeros(0, np.float32), rate) == ()
    assert audio_visemes.smooth(["a", "b", "a", "a", "c", "a", "a"], 3) == ["a"] * 7


def test_resampled_chunk_keeps_words_and_visemes_in_place() -> None:
    from speech.tts.auto_tts import resample_chunk

    chunk = SpeechChunk(
        np.ones(22050, np.float32),
        22050,
        (Viseme("aa", 0.0, 1.0),),
        "x",
        (WordTiming("x", 0, 22050),),
    )
    moved = resample_chunk(chunk, 24000)
    assert moved.sample_rate == 24000 and len(moved.samples) == 24000
    assert moved.words[0].end == 24000 and moved.visemes == chunk.visemes
    assert resample_chunk(chunk, 22050) is chunk


# ------------------------------------------------------------------ dhuman say: bad input


def _say(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    from app.cli import say_cmd
    from app.cli.main import build_parser

    args = build_parser().parse_args(["say", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = say_cmd.run(args, Settings(), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["", "--engine", "espeak"], 2, "empty"),
        (["   ", "--engine", "espeak"], 2, "empty"),
        (["x" * 10_000, "--engine", "espeak"], 2, "too long (10,000 characters"),
        (["😊🎉", "--engine", "espeak"], 2, "nothing to say"),
        (["Hello", "--engine", "espeak", "--voice", "zz-nope"], 1, "no voice 'zz-nope'"),
        (["Hello", "--engine", "piper", "--voice", "no-such-voice"], 1, "not available"),
    ],
)
def test_say_refuses_bad_input_with_a_clear_message(
    tmp_path: Path, argv: list[str], code: int, message: str
) -> None:
    pytest.importorskip("espeakng_loader")
    result, _, err = _say(tmp_path, *argv, "--out", str(tmp_path / "x.wav"))
    assert result == code
    assert err.startswith("dhuman say: ") and message in err
    assert "Traceback" not in err


def test_say_speaks_emoji_and_mixed_korean_english_to_a_file(tmp_path: Path) -> None:
    pytest.importorskip("espeakng_loader")
    wav, marks = tmp_path / "x.wav", tmp_path / "x.json"
    code, out, err = _say(
        tmp_path, "안녕하세요 😊 Dr. Kim, 약국은 3층에 있어요. See you at 3:30 PM!",
        "--engine", "espeak", "--speed", "0.8", "--out", str(wav), "--visemes", str(marks),
    )  # fmt: skip
    assert code == 0, err
    assert "first audio" in out and "RTF" in out
    data = json.loads(marks.read_text("utf-8"))
    spoken = [w["word"] for w in data["words"]]
    assert "삼층에" in spoken and "Doctor" in spoken and "thirty" in spoken
    assert data["visemes"][-1]["start"] + data["visemes"][-1]["duration"] == pytest.approx(
        data["seconds"], abs=1e-3
    )
    with wave.open(str(wav)) as handle:
        assert handle.getframerate() == 22050
        assert handle.getnframes() / 22050 == pytest.approx(data["seconds"], abs=1e-3)


def test_say_sends_korean_for_the_english_only_voice_to_the_auto_engine() -> None:
    from app.cli import say_cmd
    from app.cli.main import build_parser

    settings = Settings()
    err = io.StringIO()
    say_cmd._configure(build_parser().parse_args(["say", "안녕하세요"]), settings, err)
    assert settings.tts.engine == "auto" and "English only" in err.getvalue()
    settings = Settings()
    say_cmd._configure(
        build_parser().parse_args(["say", "Hello", "--language", "en"]), settings, err
    )
    assert settings.tts.engine == "piper"


# ------------------------------------------------------------------ the buffer


def test_the_speaker_buffer_is_low_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[dict[str, Any]] = []
    monkeypatch.setattr(playback, "check_output_device", lambda device: "spk")
    monkeypatch.setattr(
        playback, "_sounddevice", lambda: SimpleNamespace(OutputStream=lambda **k: made.append(k))
    )
    settings = Settings()
    assert playback.build(settings)._latency == "low"
    settings.audio.output_buffer_ms = 80
    assert playback.build(settings)._latency == pytest.approx(0.08)
