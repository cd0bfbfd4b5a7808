"""The speech onsets the barge-in benches measure latency from."""

from __future__ import annotations

import numpy as np

from tests.support.pulse import Phrase, p56_onset, speech_phrases

RATE = 16000


def _tone(seconds: float, db: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (10 ** (db / 20) * np.sqrt(2) * np.sin(2 * np.pi * 200 * t)).astype(np.float32)


def _silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.float32)


def test_the_p56_onset_is_where_the_voice_reaches_its_level_not_the_soft_start() -> None:
    # 100 ms at -50 dB (a soft beginning, 30 dB under the voice), then the voice at -20 dB
    samples = np.concatenate([_silence(0.15), _tone(0.1, -50), _tone(1.0, -20), _silence(0.15)])
    phrase = Phrase("soft", samples, RATE, onset=int(0.15 * RATE), end=int(1.25 * RATE))
    assert p56_onset(phrase) == int(0.25 * RATE)


def test_the_p56_onset_and_level_are_the_phrase_own() -> None:
    # a loud sound in the lead (before the phrase's onset) is not where the phrase starts
    samples = np.concatenate([_tone(0.1, -6), _silence(0.05), _tone(1.0, -26), _silence(0.1)])
    phrase = Phrase("led", samples, RATE, onset=int(0.15 * RATE), end=int(1.15 * RATE))
    assert p56_onset(phrase) == phrase.onset


def test_a_phrase_lead_never_holds_the_phrase_before() -> None:
    # two phrases 100 ms apart, cut with a 200 ms lead: it stops where the first one ends
    first, second = _tone(0.8, -20), _tone(0.8, -26)
    recording = np.concatenate([_silence(0.5), first, _silence(0.1), second, _silence(0.5)])
    phrases = speech_phrases(recording, RATE, "two", gap_s=0.05, lead_s=0.2)
    assert len(phrases) == 2
    earlier, later = phrases
    assert earlier.onset == int(0.2 * RATE)  # a full lead where the recording is quiet
    assert later.onset == int(0.1 * RATE)  # only the pause between the two
    assert np.abs(later.samples[: later.onset]).max() < 1e-6
    assert np.abs(earlier.samples[earlier.end :]).max() < 1e-6  # the tail, likewise
    assert p56_onset(later) == later.onset


def test_a_phrase_is_never_cut_short_by_a_neighbour_it_touches() -> None:
    # two loud stretches joined by a soft one (audible, not loud): both phrases reach
    # over it, so each one's span overlaps the other's
    first, bridge, second = _tone(0.8, -20), _tone(0.2, -50), _tone(0.8, -22)
    recording = np.concatenate([_silence(0.5), first, bridge, second, _silence(0.5)])
    phrases = speech_phrases(recording, RATE, "joined", gap_s=0.05, lead_s=0.2)
    assert len(phrases) == 2
    for phrase in phrases:
        assert 0 <= phrase.onset < phrase.end <= len(phrase.samples)
        assert len(phrase.own) == phrase.end - phrase.onset
    assert phrases[0].end - phrases[0].onset >= int(0.8 * RATE)  # all of the first voice
