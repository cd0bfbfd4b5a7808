"""espeak-ng speech synthesis: Korean and English, always available, with exact timings.

Formant speech: robotic, but it needs no model file, starts in milliseconds and speaks
Korean, for which no neural voice can be installed offline (see docs/speech.md). It is
the fallback when a neural voice is missing and the Korean voice of the ``auto`` engine.

Each sentence (the first one cut at a clause, :mod:`speech.sentences`) is normalised for
its language (:mod:`speech.normalize`) and synthesized in one call; espeak-ng's phoneme
events (IPA names, start samples) become the viseme timeline and its word events the word
timings. The voice follows the text: Hangul goes to the Korean voice whatever the session
language, Latin-only text to the English one, so mixed replies are spoken, not spelled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk, WordTiming
from speech import visemes
from speech.normalize import language_of, normalize
from speech.sentences import split_sentences
from speech.tts import espeak_lib
from speech.tts import words as word_timing

_LOG = logging.getLogger(__name__)

# language -> espeak-ng voice
VOICES = {"en": "en-us", "ko": "ko"}
SLOW_RATE = 130  # words per minute: clear speech for elderly listeners (espeak's normal: 175)


class EspeakSynthesizer:
    """The ``Synthesizer`` role backed by espeak-ng; thread-safe."""

    def __init__(
        self,
        language: str = "en",
        *,
        voice: str | None = None,
        rate: int = espeak_lib.DEFAULT_RATE,
        pitch: int = 50,
    ) -> None:
        """``voice`` forces one espeak voice for every text (e.g. ``en-gb``); by default
        the voice follows each sentence's language. ``rate`` is in words per minute."""
        self.language = language.split("-")[0]
        self.sample_rate: int = espeak_lib.sample_rate()
        self.rate = rate
        self.pitch = pitch
        self._forced_voice = voice
        self.name = f"espeak-{voice}" if voice else "espeak-ng"
        self.cancel = threading.Event()  # set to stop a long synthesis early
        if voice is not None:
            espeak_lib.synthesize("", voice)  # raises EspeakError for an unknown voice

    def set_speed(self, factor: float) -> None:
        """Speaking rate relative to espeak's normal 175 words per minute (0.75: slow)."""
        rate = round(espeak_lib.DEFAULT_RATE * factor)
        self.rate = max(espeak_lib.MIN_RATE, min(espeak_lib.MAX_RATE, rate))

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        """Blocking generator: one chunk per sentence (the first may be a clause)."""
        default = (language or self.language).split("-")[0]
        for sentence in split_sentences(text, first_clause=True):
            lang = language_of(sentence, default)
            spoken = normalize(sentence, lang)
            if not any(c.isalnum() for c in spoken):
                continue
            voice = self._forced_voice or VOICES.get(lang, lang)
            result = espeak_lib.synthesize(
                spoken, voice, rate=self.rate, pitch=self.pitch, cancel=self.cancel
            )
            if len(result.samples) == 0:
                continue
            yield chunk_from(result, spoken, sentence)


def chunk_from(result: espeak_lib.Synthesis, spoken: str, label: str) -> SpeechChunk:
    """Audio, visemes (from phoneme events) and words (from word events) of one call."""
    samples = result.samples.astype(np.float32) / 32768.0
    total = len(samples)
    phonemes = [e for e in result.events if e.kind == espeak_lib.EVENT_PHONEME]
    names, counts = phoneme_durations(phonemes, total)
    timeline = visemes.timeline(names, counts, result.sample_rate)
    words = word_timings(result.events, spoken, total)
    return SpeechChunk(samples, result.sample_rate, timeline, label, words)


def phoneme_durations(
    phonemes: Sequence[espeak_lib.Event], total: int
) -> tuple[list[str], list[int]]:
    """Each phoneme lasts until the next one starts; leading audio is silence."""
    names: list[str] = []
    counts: list[int] = []
    starts = [min(max(0, e.sample), total) for e in phonemes]
    if not phonemes or starts[0] > 0:
        names.append("")
        counts.append(starts[0] if phonemes else total)
    for index, event in enumerate(phonemes):
        end = starts[index + 1] if index + 1 < len(phonemes) else total
        names.append(event.name)
        counts.append(max(0, end - starts[index]))
    return names, counts


def word_timings(
    events: Sequence[espeak_lib.Event], spoken: str, total: int
) -> tuple[WordTiming, ...]:
    """Word timings from word events.

    espeak-ng sometimes joins words into one event ("I am", "세시에 만나요"), so an event
    covers the text up to the next event's character position, and when that holds
    several words they share its time by length. An event's time ends with its last
    sounding phoneme, so a pause after a comma belongs to no word.
    """
    words = [e for e in events if e.kind == espeak_lib.EVENT_WORD]
    phonemes = [e for e in events if e.kind == espeak_lib.EVENT_PHONEME]
    out: list[WordTiming] = []
    for index, event in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        limit = following.sample if following is not None else total
        # positions are 1-based, in characters of the text given to espeak
        text = spoken[event.position - 1 : following.position - 1 if following else None]
        out += word_timing.proportional(
            word_timing.spoken_words(text),
            event.sample,
            _sounding_end(phonemes, event.sample, limit),
        )
    if not out and total:
        return word_timing.proportional(word_timing.spoken_words(spoken), 0, total)
    return tuple(out)


def _sounding_end(phonemes: Sequence[espeak_lib.Event], start: int, limit: int) -> int:
    end = start
    for index, phoneme in enumerate(phonemes):
        if start <= phoneme.sample < limit and phoneme.name.strip():
            after = phonemes[index + 1].sample if index + 1 < len(phonemes) else limit
            end = min(max(after, phoneme.sample), limit)
    return max(end, min(start + 1, limit))


def build(settings: Settings) -> EspeakSynthesizer:
    """Registry factory: espeak-ng in the session language.

    ``settings.tts.voice`` is used only when it names an espeak voice (``espeak-en-gb`` or
    a plain espeak name such as ``ko``); ``settings.tts.rate`` (words per minute) when the
    settings have it.
    """
    try:
        espeak_lib.paths()
    except ImportError:
        raise RoleUnavailable(
            "espeakng-loader is not installed; pip install 'espeakng-loader==0.2.4'"
        ) from None
    voice = settings.tts.voice.removeprefix("espeak-") if settings.tts.voice else ""
    # a Piper or Kokoro voice name (en_US-joe-medium, jf_alpha) is another engine's: ignored
    forced = voice if voice and "_" not in voice else None
    if forced is not None and not _is_espeak_voice(forced):
        raise RoleUnavailable(
            f"espeak-ng has no voice {forced!r}; try en-us, en-gb or ko (or leave it unset "
            "to follow the language)"
        )
    try:
        synthesizer = EspeakSynthesizer(
            settings.general.language, voice=forced, rate=espeak_lib.DEFAULT_RATE
        )
    except espeak_lib.EspeakError as exc:
        raise RoleUnavailable(f"espeak-ng could not start: {exc}") from None
    synthesizer.set_speed(settings.tts.speed)
    return synthesizer


def _is_espeak_voice(name: str) -> bool:
    try:
        espeak_lib.synthesize("", name)
    except espeak_lib.EspeakError:
        return False
    return True
