"""The short encoder window's own logic: the padding and the checks that send a windowed
pass back to Whisper's 30 s window (the real model's side: tests/integration/test_asr_real)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("faster_whisper", reason="pip install faster-whisper")
from faster_whisper.feature_extractor import FeatureExtractor

from speech.asr.faster_whisper_asr import (
    COMPRESSION_LIMIT,
    LOGPROB_LIMIT,
    FasterWhisperTranscriber,
    WhisperOptions,
    _looks_wrong,
)


def segment(text: str, ratio: float = 1.2, logprob: float = -0.2) -> SimpleNamespace:
    return SimpleNamespace(text=text, compression_ratio=ratio, avg_logprob=logprob)


def in_window(samples: np.ndarray, window: float = 10.0) -> np.ndarray | None:
    owner = SimpleNamespace(options=WhisperOptions(encoder_window_s=window))
    return FasterWhisperTranscriber._in_window(owner, samples)  # type: ignore[arg-type]


def test_a_short_utterance_is_padded_with_silence_to_exactly_the_window() -> None:
    speech = np.random.default_rng(1).normal(0, 0.1, 16000 * 3).astype(np.float32)
    padded = in_window(speech)
    assert padded is not None and padded.dtype == np.float32
    assert np.array_equal(padded[: speech.size], speech)
    assert not padded[speech.size :].any()  # silence, not repeated or stretched speech
    # faster-whisper's own feature extractor then makes exactly 10 s of frames: the
    # encoder is cut there and sees no zero features appended after the silence
    assert FeatureExtractor()(padded).shape[-1] == 1000
    assert in_window(speech, 16.0) is not None
    assert FeatureExtractor()(in_window(speech, 16.0)).shape[-1] == 1600


def test_over_half_the_window_or_the_window_off_is_left_to_30_s() -> None:
    assert in_window(np.zeros(16000 * 5, np.float32)) is not None
    assert in_window(np.zeros(16000 * 5 + 1, np.float32)) is None
    assert in_window(np.zeros(16000, np.float32), 0.0) is None
    assert in_window(np.zeros(16000, np.float32), 30.0) is None


@pytest.mark.parametrize(
    ("segments", "text"),
    [
        ([], ""),  # nothing heard in the window: the 30 s pass decides
        ([segment("It was the age of wisdom.", ratio=COMPRESSION_LIMIT + 0.1)], "x"),
        ([segment("Where is the pharmacy?", logprob=LOGPROB_LIMIT - 0.1)], "x"),
        (
            [segment("")],
            "It was the best of times. It was the age of wisdom. It was the age of wisdom.",
        ),
        ([segment("")], "약국이 어디예요? 약국이 어디예요?"),
    ],
)
def test_doubtful_windowed_passes_are_decoded_again(
    segments: list[SimpleNamespace], text: str
) -> None:
    assert _looks_wrong(segments, text)


@pytest.mark.parametrize(
    "text",
    [
        "Where is the pharmacy?",
        "Help. Help me, please.",  # a word said twice is not a sentence said twice
        "It was the best of times. It was the worst of times.",
        "약국이 어디예요? 몇 시에 열어요?",
    ],
)
def test_plausible_windowed_passes_stand(text: str) -> None:
    assert not _looks_wrong([segment(text)], text)


def test_detection_in_the_window_puts_the_best_allowed_language_first() -> None:
    ranked = [("cy", 0.52), ("en", 0.45), ("mi", 0.01), ("ko", 0.005)]
    model = SimpleNamespace(detect_language=lambda audio: ("cy", 0.52, ranked))
    owner = SimpleNamespace(_model=model, options=WhisperOptions())
    probs = FasterWhisperTranscriber._detect(owner, np.zeros(16000, np.float32))  # type: ignore[arg-type]
    assert probs[0] == ("en", 0.45) and sorted(probs) == sorted(ranked)
    anything = SimpleNamespace(_model=model, options=WhisperOptions(languages=()))
    silence = np.zeros(16000, np.float32)
    unrestricted = FasterWhisperTranscriber._detect(anything, silence)  # type: ignore[arg-type]
    assert unrestricted[0] == ("cy", 0.52)
