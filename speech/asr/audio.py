"""Small audio helpers for the speech roles: WAV reading and resampling, numpy only."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from app.core.types import FloatArray

WHISPER_RATE = 16000


def to_mono_float32(audio: np.ndarray) -> FloatArray:
    """Any 1-D or (samples, channels) array -> contiguous float32 mono."""
    data = np.asarray(audio)
    if data.ndim == 2:
        data = data.mean(axis=1)
    elif data.ndim != 1:
        raise ValueError(f"audio must be 1-D or (samples, channels), got shape {data.shape}")
    if data.dtype == np.int16:
        return (data.astype(np.float32) / 32768.0).astype(np.float32)
    return np.ascontiguousarray(data, dtype=np.float32)


def _lowpass_kernel(cutoff: float, taps: int = 63) -> FloatArray:
    """A Hann-windowed sinc low-pass; ``cutoff`` is a fraction of the input rate (0-0.5)."""
    n = np.arange(taps, dtype=np.float64) - (taps - 1) / 2.0
    kernel = 2.0 * cutoff * np.sinc(2.0 * cutoff * n) * np.hanning(taps)
    normalized: FloatArray = (kernel / kernel.sum()).astype(np.float32)
    return normalized


def resample(audio: FloatArray, rate_in: int, rate_out: int = WHISPER_RATE) -> FloatArray:
    """Resample a whole utterance; anti-aliased when going down (48 kHz -> 16 kHz).

    Windowed-sinc low-pass at 0.45 of the output rate, then linear interpolation. Good
    enough for speech recognition (Whisper itself works on a 16 kHz, 80-band log-mel).
    """
    if rate_in <= 0 or rate_out <= 0:
        raise ValueError(f"sample rates must be positive, got {rate_in} -> {rate_out}")
    samples = to_mono_float32(audio)
    if rate_in == rate_out or samples.size == 0:
        return samples
    if rate_out < rate_in:
        kernel = _lowpass_kernel(0.45 * rate_out / rate_in)
        samples = np.convolve(samples, kernel, mode="same").astype(np.float32)
    count = round(samples.size * rate_out / rate_in)
    positions = np.arange(count, dtype=np.float64) * (rate_in / rate_out)
    grid = np.arange(samples.size, dtype=np.float64)
    return np.interp(positions, grid, samples).astype(np.float32)


def read_wav(path: str | Path) -> tuple[FloatArray, int]:
    """A PCM WAV file (8/16/24/32-bit, any channels) -> (float32 mono, sample rate)."""
    with wave.open(str(path), "rb") as wav:
        width = wav.getsampwidth()
        channels = wav.getnchannels()
        rate = wav.getframerate()
        raw = wav.readframes(wav.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        ints = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        data = ints.astype(np.float32) / float(1 << 23)
    elif width == 4:
        data = np.frombuffer(raw, dtype="<i4").astype(np.float32) / float(1 << 31)
    else:
        raise ValueError(f"{path}: unsupported sample width of {width} bytes")
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return np.ascontiguousarray(data, dtype=np.float32), rate
