"""Fast checks of the speaking slice without a voice or a sound device.

The viseme mapping and timelines, and SoundDeviceSink's audio clock driven by a fake
PortAudio stream whose callbacks and clock the test controls.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from app.core.types import SpeechChunk
from speech import playback, visemes

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
    assert by_name["U"].duration == pytest.approx(0.016)  # the word gap extends it
    assert by_name["E"].duration == pytest.approx(0.018)  # stress before, length after
    assert line[-1].duration == pytest.approx(0.027)  # "," and "$" merge into one silence
    assert line[0].start == 0.0
    for before, after in itertools.pairwise(line):
        assert after.start == pytest.approx(before.start + before.duration)
    assert line[-1].start + line[-1].duration == pytest.approx(sum(counts) / RATE)


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

    latency = 0.02

    def __init__(self, **kwargs: Any) -> None:
        self.callback = kwargs["callback"]
        self.blocksize = kwargs["blocksize"]
        self.samplerate = kwargs["samplerate"]
        self.time = 100.0
        self.aborted = 0

    def start(self) -> None: ...

    def abort(self, ignore_errors: bool = True) -> None:
        self.aborted += 1

    def close(self, ignore_errors: bool = True) -> None: ...

    def pull(self, dac_delay: float = 0.02) -> np.ndarray:
        """One callback at the current time; its buffer reaches the speaker after dac_delay."""
        out = np.full((self.blocksize, 1), np.nan, dtype=np.float32)
        timing = SimpleNamespace(outputBufferDacTime=self.time + dac_delay, currentTime=self.time)
        self.callback(out, self.blocksize, timing, SimpleNamespace(output_underflow=False))
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
