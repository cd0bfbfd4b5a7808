"""Visemes estimated from the audio itself, for voices that report no timings (Coqui,
remote voices; Kokoro when its timed model copy cannot be made).

Per 10 ms frame the spectrum's shape is summarised as MFCCs (which track the formants, and
so the mouth: an open ``aa`` and a spread ``I`` differ most in F1/F2) with their slopes, and
a small network scores each frame against every viseme (:class:`Classifier`, learned from
the phoneme-aligned speech of several voices: :mod:`speech.audio_visemes_train` makes
``viseme_classifier.json`` next to this file). Not loudness alone: loudness only decides
silence and how wide the mouth opens.

Details that matter:

- audio is resampled to 16 kHz first, so any engine's rate works;
- MFCCs are mean-normalised per utterance (a different microphone or voice colour shifts
  them all alike) and the network was trained with the filterbank warped by 0.85-1.3
  (vocal-tract-length augmentation), so a female or child voice is not judged by a male
  voice's formants;
- each frame also sees the cepstra 20 and 40 ms either side, since consonants are
  recognised by their transitions more than by one steady spectrum;
- frames 40 dB below the utterance's loudest are silence, and the labels are smoothed
  with a 70 ms majority filter: a mouth does not change shape every 10 ms.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from app.core.types import Viseme

CLASSIFIER = Path(__file__).with_name("viseme_classifier.json")
RATE = 16000
HOP = 160  # 10 ms
WINDOW = 400  # 25 ms
FFT = 512
MELS = 26
CEPSTRA = 13
SILENCE_DB = 40.0
SMOOTH_FRAMES = 7
CONTEXT = (-4, -2, 0, 2, 4)  # frames of cepstra stacked around each frame

Array = npt.NDArray[np.float64]


def resample(samples: npt.NDArray[np.floating], rate: int, target: int = RATE) -> Array:
    """Linear-interpolation resampling: enough for spectral envelopes below 8 kHz."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if rate == target or len(x) == 0:
        return x
    n = int(len(x) * target / rate)
    resampled: Array = np.interp(np.arange(n) * rate / target, np.arange(len(x)), x)
    return resampled


@functools.cache
def _filterbank(warp: float) -> Array:
    """Triangular mel filters; ``warp`` scales the frequency axis (formant shift)."""

    def mel(hz: Array) -> Array:
        return np.asarray(2595.0 * np.log10(1.0 + hz / 700.0), dtype=np.float64)

    def hz(m: Array) -> Array:
        return np.asarray(700.0 * (10.0 ** (m / 2595.0) - 1.0), dtype=np.float64)

    edges = hz(np.linspace(mel(np.array(80.0)), mel(np.array(7600.0)), MELS + 2))
    edges = np.minimum(edges * warp, RATE / 2 - 1)
    bins = np.fft.rfftfreq(FFT, 1.0 / RATE)
    bank = np.zeros((MELS, len(bins)))
    for i in range(MELS):
        low, centre, high = edges[i], edges[i + 1], edges[i + 2]
        rising = (bins - low) / max(centre - low, 1e-6)
        falling = (high - bins) / max(high - centre, 1e-6)
        bank[i] = np.clip(np.minimum(rising, falling), 0.0, None)
    return bank


@functools.cache
def _dct() -> Array:
    n = np.arange(MELS)
    k = np.arange(CEPSTRA)[:, None]
    basis: Array = np.cos(np.pi * k * (2 * n + 1) / (2 * MELS)) * np.sqrt(2.0 / MELS)
    basis[0] /= np.sqrt(2.0)
    return basis


def frame_count(samples: int, rate: int) -> int:
    return max(0, int(samples * RATE / rate)) // HOP


def features(
    samples: npt.NDArray[np.floating], rate: int, warp: float = 1.0
) -> tuple[Array, Array]:
    """(features per frame, loudness in dB relative to the loudest frame)."""
    x = resample(samples, rate)
    count = len(x) // HOP
    if count == 0:
        return np.zeros((0, (len(CONTEXT) + 1) * (CEPSTRA - 1) + 1)), np.zeros(0)
    padded = np.concatenate([np.zeros(WINDOW // 2), x, np.zeros(WINDOW)])
    index = np.arange(WINDOW)[None, :] + HOP * np.arange(count)[:, None]
    frames = padded[index] * np.hanning(WINDOW)
    power = np.abs(np.fft.rfft(frames, FFT)) ** 2
    log_mel = np.log(power @ _filterbank(warp).T + 1e-10)
    cepstra = log_mel @ _dct().T
    energy = 10.0 * np.log10(np.sum(power, axis=1) + 1e-10)
    loudness = energy - float(np.max(energy))
    shape = cepstra[:, 1:]
    voiced = loudness > -SILENCE_DB
    centre = shape[voiced].mean(axis=0) if np.any(voiced) else shape.mean(axis=0)
    shape = shape - centre
    slope = np.gradient(shape, axis=0) if count > 1 else np.zeros_like(shape)
    level = np.clip(loudness, -SILENCE_DB, 0.0)[:, None] / SILENCE_DB
    # the neighbourhood (±20 and ±40 ms): a consonant is told by the transition around it
    edge = np.pad(shape, ((CONTEXT[-1], CONTEXT[-1]), (0, 0)), mode="edge")
    around = [edge[CONTEXT[-1] + k : CONTEXT[-1] + k + count] for k in CONTEXT]
    return np.hstack([*around, slope, level]), loudness


@dataclass(frozen=True)
class Classifier:
    """A one-hidden-layer network: standardised features -> ReLU -> one score per viseme.

    Learned by :mod:`speech.audio_visemes_train` from several voices' phoneme-aligned
    speech. It replaced nearest-of-8-templates per viseme, learned from one voice: on the
    bench's held-out voices that classifier found 22 % (Kokoro) and 36 % (espeak-ng) of
    frames, this one 46 % and 41 % (docs/benchmarks.md).
    """

    mean: Array
    scale: Array
    hidden_weights: Array  # (features, hidden)
    hidden_bias: Array
    output_weights: Array  # (hidden, visemes)
    output_bias: Array
    labels: tuple[str, ...]  # the viseme of each output

    @classmethod
    def load(cls, path: Path = CLASSIFIER) -> Classifier:
        data = json.loads(path.read_text("utf-8"))

        def array(name: str) -> Array:
            return np.asarray(data[name], dtype=np.float64)

        return cls(
            array("mean"),
            array("scale"),
            array("hidden_weights"),
            array("hidden_bias"),
            array("output_weights"),
            array("output_bias"),
            tuple(data["labels"]),
        )

    def classify(self, feats: Array) -> list[str]:
        """The best-scoring viseme for each frame."""
        if len(feats) == 0:
            return []
        z = (feats - self.mean) / self.scale
        hidden = np.maximum(z @ self.hidden_weights + self.hidden_bias, 0.0)
        scores = hidden @ self.output_weights + self.output_bias
        return [self.labels[i] for i in np.argmax(scores, axis=1)]


@functools.cache
def default_classifier() -> Classifier:
    return Classifier.load()


def smooth(labels: Sequence[str], width: int = SMOOTH_FRAMES) -> list[str]:
    """Majority vote in a centred window; ties keep the frame's own label."""
    half = width // 2
    out: list[str] = []
    for i, own in enumerate(labels):
        window = labels[max(0, i - half) : i + half + 1]
        best = max(set(window), key=lambda name: (window.count(name), name == own))
        out.append(best)
    return out


def frame_visemes(
    samples: npt.NDArray[np.floating], rate: int, classifier: Classifier | None = None
) -> tuple[list[str], Array]:
    """One viseme per 10 ms frame, and each frame's loudness (dB below the loudest)."""
    feats, loudness = features(samples, rate)
    labels = (classifier or default_classifier()).classify(feats)
    labels = [
        "sil" if loud <= -SILENCE_DB else name for name, loud in zip(labels, loudness, strict=True)
    ]
    return smooth(labels), loudness


def estimate(
    samples: npt.NDArray[np.floating], rate: int, classifier: Classifier | None = None
) -> tuple[Viseme, ...]:
    """A viseme timeline covering the audio exactly, from the audio alone."""
    total = len(samples)
    if total == 0:
        return ()
    labels, loudness = frame_visemes(samples, rate, classifier)
    if not labels:
        return (Viseme("sil", 0.0, total / rate),)
    frame_seconds = HOP / RATE
    out: list[Viseme] = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            begin = start * frame_seconds
            end = total / rate if i == len(labels) else i * frame_seconds
            # louder speech opens the mouth wider: weight 0.5 at -30 dB .. 1.0 at the peak
            level = float(np.mean(loudness[start:i]))
            weight = (
                1.0 if labels[start] == "sil" else round(float(np.clip(1 + level / 60, 0.5, 1)), 3)
            )
            out.append(Viseme(labels[start], begin, end - begin, weight))
            start = i
    return tuple(out)


def labels_at_frames(timeline: Sequence[Viseme], count: int) -> list[str]:
    """The viseme shown at the centre of each 10 ms frame (``sil`` past the end)."""
    frame_seconds = HOP / RATE
    out: list[str] = []
    index = 0
    for frame in range(count):
        t = (frame + 0.5) * frame_seconds
        while index < len(timeline) and timeline[index].start + timeline[index].duration <= t:
            index += 1
        out.append(timeline[index].name if index < len(timeline) else "sil")
    return out
