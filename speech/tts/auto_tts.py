"""The ``auto`` speech engine: the best voice for each sentence's language.

``tts.korean_engine`` can give Korean a real voice (``remote``: an OpenAI-compatible speech
server; ``coqui``: XTTS-v2); espeak-ng stays behind it, so a Korean sentence the chosen
voice fails on is still spoken (formant speech, logged), never lost.

English goes to the neural voice (Piper, or Kokoro when ``tts.voice`` names one), Korean to
espeak-ng (no neural Korean voice can be installed offline); when the neural voice is
missing, espeak-ng speaks English too. Every chunk leaves at one sample rate, the English
voice's, because the sink and the session count one sample axis per turn.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np

from app.config.settings import Settings
from app.core import roles
from app.core.types import SpeechChunk, WordTiming
from speech.normalize import language_of
from speech.sentences import split_sentences
from speech.tts.espeak_tts import EspeakSynthesizer

_LOG = logging.getLogger(__name__)


class AutoSynthesizer:
    def __init__(
        self,
        english: roles.Synthesizer | None,
        korean: EspeakSynthesizer,
        korean_voice: roles.Synthesizer | None = None,
    ) -> None:
        self._english = english if english is not None else korean
        self._korean = korean
        self._korean_voice = korean_voice
        self.sample_rate: int = self._english.sample_rate
        self.language = korean.language

    def set_speed(self, factor: float) -> None:
        for engine in (self._english, self._korean, self._korean_voice):
            set_speed = getattr(engine, "set_speed", None)
            if set_speed is not None:
                set_speed(factor)

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        default = (language or self.language).split("-")[0]
        for sentence in split_sentences(text, first_clause=True):
            lang = language_of(sentence, default)
            if lang == "ko" and self._korean_voice is not None:
                yield from self._korean_with_fallback(sentence)
                continue
            engine: roles.Synthesizer = self._korean if lang == "ko" else self._english
            for chunk in engine.synthesize(sentence, lang):
                yield resample_chunk(chunk, self.sample_rate)

    def _korean_with_fallback(self, sentence: str) -> Iterator[SpeechChunk]:
        assert self._korean_voice is not None
        spoken = False
        try:
            for chunk in self._korean_voice.synthesize(sentence, "ko"):
                spoken = True
                yield resample_chunk(chunk, self.sample_rate)
        except Exception as exc:
            if spoken:  # half a sentence was heard: saying it again would be worse
                raise
            _LOG.warning("the Korean voice failed (%s); espeak-ng speaks this sentence", exc)
            for chunk in self._korean.synthesize(sentence, "ko"):
                yield resample_chunk(chunk, self.sample_rate)


def resample_chunk(chunk: SpeechChunk, rate: int) -> SpeechChunk:
    """The same chunk at ``rate`` (linear interpolation; visemes are in seconds already)."""
    if chunk.sample_rate == rate or len(chunk.samples) == 0:
        return chunk
    ratio = rate / chunk.sample_rate
    count = round(len(chunk.samples) * ratio)
    positions = np.arange(count) / ratio
    samples = np.interp(positions, np.arange(len(chunk.samples)), chunk.samples)
    words = tuple(
        WordTiming(w.word, int(w.start * ratio), min(count, int(w.end * ratio)))
        for w in chunk.words
    )
    return SpeechChunk(samples.astype(np.float32), rate, chunk.visemes, chunk.text, words)


def build(settings: Settings) -> AutoSynthesizer:
    """Registry factory: Kokoro when ``tts.voice`` names a Kokoro voice, else Piper, with
    espeak-ng for Korean; a neural voice that cannot start leaves espeak-ng for both."""
    from speech.tts import espeak_tts

    korean = espeak_tts.build(settings)
    english: roles.Synthesizer | None = None
    voice = settings.tts.voice or ""
    wants_kokoro = voice.startswith("kokoro") or voice[:3] in ("jf_", "jm_", "af_", "am_")
    try:
        if wants_kokoro:
            from speech.tts import kokoro_tts

            english = kokoro_tts.build(settings)
        else:
            from speech.tts import piper_tts

            english = piper_tts.build(settings)
    except Exception as exc:  # the fallback is the point of this engine
        _LOG.warning("neural voice unavailable, espeak-ng speaks English too: %s", exc)
    return AutoSynthesizer(english, korean, _korean_voice(settings))


def _korean_voice(settings: Settings) -> roles.Synthesizer | None:
    """The voice named by ``tts.korean_engine``, or None for espeak-ng alone."""
    choice = settings.tts.korean_engine
    try:
        if choice == "remote":
            from speech.tts import remote_tts

            return remote_tts.build(settings)
        if choice == "coqui":
            from speech.tts import coqui_tts

            return coqui_tts.build(settings)
    except Exception as exc:
        _LOG.warning("Korean voice %r unavailable, espeak-ng speaks Korean: %s", choice, exc)
    return None
