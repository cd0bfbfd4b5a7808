"""Audio helpers of the ASR role (numpy only) and its error mapping."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from speech.asr.audio import read_wav, resample, to_mono_float32


def _tone(freq: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_resample_keeps_a_tone_and_the_length() -> None:
    out = resample(_tone(440, 48000), 48000, 16000)
    assert out.dtype == np.float32 and len(out) == 16000
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins


def test_resample_removes_what_the_new_rate_cannot_hold() -> None:
    out = resample(_tone(12000, 48000), 48000, 16000)  # above 8 kHz Nyquist: would alias
    assert float(np.sqrt(np.mean(out[200:-200] ** 2))) < 0.02


def test_resample_up_and_identity() -> None:
    tone = _tone(300, 16000)
    assert resample(tone, 16000, 16000) is not None
    np.testing.assert_array_equal(resample(tone, 16000, 16000), tone)
    assert len(resample(tone, 16000, 22050)) == 22050


def test_mono_from_int16_stereo() -> None:
    stereo = np.array([[16384, -16384], [32767, 32767]], dtype=np.int16)
    np.testing.assert_allclose(
        to_mono_float32(stereo.astype(np.float32) / 32768), [0, 1], atol=1e-4
    )


@pytest.mark.parametrize("width", [2, 3])
def test_read_wav(tmp_path: Path, width: int) -> None:
    ints = np.array([0, 1 << (8 * width - 2), -(1 << (8 * width - 2))], dtype=np.int64)
    raw = b"".join(int(v).to_bytes(width, "little", signed=True) for v in ints for _ in range(2))
    path = tmp_path / "x.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(width)
        w.setframerate(22050)
        w.writeframes(raw)
    audio, rate = read_wav(path)
    assert rate == 22050
    np.testing.assert_allclose(audio, [0.0, 0.5, -0.5], atol=1e-6)


def test_missing_model_becomes_role_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("faster_whisper")
    from app.config.settings import Settings
    from app.core.registry import RoleUnavailable
    from app.models import ModelManager, ModelNotAvailable
    from speech.asr import faster_whisper_asr

    def missing(self: ModelManager, model_id: str, *a: object, **k: object) -> Path:
        raise ModelNotAvailable("whisper-base is not on this machine; run: dhuman models pull")

    monkeypatch.setattr(ModelManager, "resolve", missing)
    with pytest.raises(RoleUnavailable, match="dhuman models pull"):
        faster_whisper_asr.build(Settings())


def test_unreadable_model_folder_becomes_role_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("faster_whisper")
    from app.config.settings import Settings
    from app.core.registry import RoleUnavailable
    from app.models import ModelManager
    from speech.asr import faster_whisper_asr

    (tmp_path / "model.bin").write_bytes(b"not a model")
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.setattr(ModelManager, "resolve", lambda self, model_id, *a, **k: tmp_path)
    with pytest.raises(RoleUnavailable, match="models pull --force"):
        faster_whisper_asr.build(Settings())


def test_hallucination_loops_are_collapsed_but_natural_repeats_kept() -> None:
    from speech.asr.faster_whisper_asr import collapse_repetitions

    assert collapse_repetitions(" ".join(["쪼는"] * 60)) == "쪼는 쪼는"
    looped = "I said " + "thank you " * 12 + "very much"
    assert collapse_repetitions(looped) == "I said thank you thank you very much"
    assert collapse_repetitions("no, no, I mean the pharmacy") == "no, no, I mean the pharmacy"
    assert collapse_repetitions("저는 서울에 살고 있습니다.") == "저는 서울에 살고 있습니다."
    assert collapse_repetitions("") == ""
