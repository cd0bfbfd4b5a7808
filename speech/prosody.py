"""How a turn was spoken: speech rate, pitch, loudness and pauses, numpy only.

:func:`prosody` summarizes one utterance (mono float32, any rate) into a flat
``dict[str, float]`` for the affect role and the timeline:

* ``speech_rate`` (syllables per second over the whole turn) and ``articulation_rate``
  (per second of speaking, pauses excluded): syllable nuclei counted as in de Jong &
  Wempe (2009): loudness peaks that stand out from the dips around them and are voiced.
  ``word_rate`` (words per second) is added when the transcript is given.
* ``pitch_mean_hz``, ``pitch_std_hz``, ``pitch_range_hz`` (5th to 95th percentile) and
  ``voiced_ratio``, from F0 per 10 ms by YIN (de Cheveigne & Kawahara, 2002; voiced
  where its normalized difference dips under 0.3, tolerant enough for room recordings).
* ``energy_mean_db``, ``energy_std_db``: loudness of the speaking frames, dBFS.
* ``pause_ratio``: the share of the turn (first to last speech) spent in pauses of at
  least ``min_pause_s``.

Silence or an empty input gives zeros (and ``duration_s``), never an error.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from app.core.types import FloatArray
from speech.asr.audio import resample

HOP_S = 0.01  # one analysis frame every 10 ms
_RATE = 16000
_SPEECH_DB = 30.0  # frames within this of the loudest are speech (the rest: pause, noise)
_DIP_DB = 2.0  # a syllable's loudness peak must rise this far above the dip before it


def prosody(
    audio: FloatArray,
    sample_rate: int,
    transcript: str | None = None,
    *,
    min_pause_s: float = 0.15,
) -> dict[str, float]:
    """The prosodic summary of one utterance (see the module docstring for the keys)."""
    duration = len(audio) / sample_rate if sample_rate > 0 else 0.0
    if sample_rate > _RATE:  # voices need no more: 3x less work at 48 kHz
        audio = resample(np.asarray(audio, dtype=np.float32), sample_rate, _RATE)
        sample_rate = _RATE
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = max(1, round(sample_rate * HOP_S))
    result = dict.fromkeys(
        (
            "speech_rate",
            "articulation_rate",
            "pitch_mean_hz",
            "pitch_std_hz",
            "pitch_range_hz",
            "voiced_ratio",
            "energy_mean_db",
            "energy_std_db",
            "pause_ratio",
        ),
        0.0,
    )
    result["duration_s"] = duration
    if transcript is not None:
        result["word_rate"] = 0.0
    level = _frame_db(x, hop, round(sample_rate * 0.03))
    if level.size == 0 or level.max() < -70.0:
        return result
    speaking = level > level.max() - _SPEECH_DB
    first, last = np.flatnonzero(speaking)[[0, -1]]
    span = speaking[first : last + 1]
    turn_s = len(span) * HOP_S
    pauses = _runs(~span)
    paused = sum(n for n in pauses if n * HOP_S >= min_pause_s) * HOP_S
    f0 = pitch_track(x, sample_rate)[: len(level)]
    voiced = f0 > 0
    nuclei = _syllable_nuclei(level, voiced[: len(level)] if len(voiced) else voiced)
    spoken_s = max(turn_s - paused, HOP_S)
    result.update(
        speech_rate=nuclei / turn_s,
        articulation_rate=nuclei / spoken_s,
        energy_mean_db=float(np.mean(level[speaking])),
        energy_std_db=float(np.std(level[speaking])),
        pause_ratio=paused / turn_s,
        voiced_ratio=float(np.mean(voiced[first : last + 1])) if len(voiced) > last else 0.0,
    )
    heard = f0[voiced]
    if heard.size:
        low, high = np.percentile(heard, [5, 95])
        result.update(
            pitch_mean_hz=float(np.mean(heard)),
            pitch_std_hz=float(np.std(heard)),
            pitch_range_hz=float(high - low),
        )
    if transcript is not None:
        result["word_rate"] = len(transcript.split()) / turn_s
    return result


def pitch_track(
    audio: np.ndarray,
    sample_rate: int,
    *,
    fmin: float = 60.0,
    fmax: float = 400.0,
    threshold: float = 0.3,
) -> FloatArray:
    """F0 in Hz every 10 ms by YIN; 0 where unvoiced (or too quiet to tell)."""
    x = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = max(1, round(sample_rate * HOP_S))
    max_lag = int(sample_rate / fmin) + 1
    min_lag = max(2, int(sample_rate / fmax))
    window = max(max_lag, int(sample_rate * 0.025))
    count = len(x) // hop
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    padded = np.concatenate([x, np.zeros(window + max_lag + hop)])
    frames = sliding_window_view(padded, window + max_lag)[: count * hop : hop]
    # difference function d(tau) = E0 + E(tau) - 2 r(tau), all frames at once
    size = 1 << int(np.ceil(np.log2(2 * (window + max_lag))))
    spec = np.fft.rfft(frames, size, axis=1)
    head = np.fft.rfft(frames[:, :window], size, axis=1)
    cross = np.fft.irfft(spec * np.conj(head), size, axis=1)[:, : max_lag + 1]
    squares = np.concatenate([np.zeros((count, 1)), np.cumsum(frames**2, axis=1)], axis=1)
    lags = np.arange(max_lag + 1)
    energy = squares[:, lags + window] - squares[:, lags]
    diff = np.maximum(energy[:, :1] + energy - 2 * cross, 0.0)
    # cumulative mean normalized difference
    running = np.cumsum(diff[:, 1:], axis=1) / np.arange(1, max_lag + 1)
    cmnd = np.ones_like(diff)
    cmnd[:, 1:] = diff[:, 1:] / np.maximum(running, 1e-12)
    # the first dip under the threshold, at its local minimum
    inner = cmnd[:, min_lag:max_lag]
    below = inner < threshold
    minimum = np.ones_like(below)
    minimum[:, :-1] = inner[:, :-1] <= inner[:, 1:]
    candidates = below & minimum
    found = candidates.any(axis=1)
    tau = np.argmax(candidates, axis=1) + min_lag
    # parabolic interpolation around tau for sub-sample precision
    rows = np.arange(count)
    left = cmnd[rows, np.clip(tau - 1, 0, max_lag)]
    mid = cmnd[rows, tau]
    right = cmnd[rows, np.clip(tau + 1, 0, max_lag)]
    bend = left - 2 * mid + right
    shift = np.where(np.abs(bend) > 1e-12, 0.5 * (left - right) / np.where(bend == 0, 1, bend), 0)
    exact = tau + np.clip(shift, -1, 1)
    loud = energy[:, 0] / window > 1e-6  # below -60 dBFS: nothing to measure
    f0 = np.where(found & loud, sample_rate / exact, 0.0)
    return f0.astype(np.float32)


def _frame_db(x: np.ndarray, hop: int, width: int) -> np.ndarray:
    """Loudness (dBFS) of a ``width`` window every ``hop`` samples."""
    count = len(x) // hop
    if count == 0:
        return np.zeros(0)
    padded = np.concatenate([x, np.zeros(width)])
    frames = sliding_window_view(padded, width)[: count * hop : hop]
    power = np.mean(frames**2, axis=1)
    level: np.ndarray = 10 * np.log10(power + 1e-10)
    return level


def _runs(mask: np.ndarray) -> list[int]:
    """Lengths of the runs of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [int(b - a) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _syllable_nuclei(level: np.ndarray, voiced: np.ndarray) -> int:
    """Voiced loudness peaks that stand ``_DIP_DB`` above the dip since the last one."""
    smooth = np.convolve(level, np.ones(5) / 5, mode="same")  # 50 ms
    floor = smooth.max() - 25.0
    count = 0
    dip = np.inf
    candidate: int | None = None
    for i in range(1, len(smooth) - 1):
        value = smooth[i]
        if candidate is not None and value < smooth[candidate] - _DIP_DB:
            count += 1  # the candidate peak was followed by a real dip
            candidate, dip = None, value
        dip = min(dip, value)
        is_peak = smooth[i - 1] < value >= smooth[i + 1]
        near = voiced[max(0, i - 3) : i + 4]  # voicing within 30 ms of the peak
        stands_out = is_peak and value > floor and value - dip >= _DIP_DB and near.any()
        if stands_out and (candidate is None or value > smooth[candidate]):
            candidate = i
    return count + (1 if candidate is not None else 0)
