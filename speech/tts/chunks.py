"""Speech chunks with their visemes and word timings, from what an engine can tell.

Two sources, best first:

- **phoneme alignments** (Piper, Kokoro with its duration output): the IPA symbols the
  engine spoke and how many samples each one lasted. The viseme timeline and the word
  spans follow from them exactly (:func:`chunk_from_alignment`);
- **the audio alone** (Coqui, remote voices): visemes estimated from the sound and the
  words spread over its voiced part by their length (:func:`chunk_from_audio`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from app.core.types import SpeechChunk, WordTiming
from speech import audio_visemes, visemes
from speech.tts import words as word_timing

# symbols that separate words in an engine's phoneme string: the word gap, pauses added
# between phonemes, punctuation, Piper's begin/end marks
WORD_BREAKS = frozenset(" ^$_,.!?;:—–-…\"'()«»¿¡")
PAUSE = "_"  # a silence with no phoneme of its own (trimmed or inserted audio)


def word_phonemes(phonemes: Sequence[str]) -> list[list[str]]:
    """The sounding phonemes of each word (stress and length marks left out)."""
    groups: list[list[str]] = [[]]
    for phoneme in phonemes:
        if phoneme in WORD_BREAKS:
            if groups[-1]:
                groups.append([])
        elif phoneme not in visemes.STRESS and phoneme not in visemes.LENGTH:
            groups[-1].append(phoneme)
    return [g for g in groups if g]


def word_spans(phonemes: Sequence[str], counts: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) samples of each run of phonemes between word breaks."""
    spans: list[tuple[int, int]] = []
    position = 0
    start: int | None = None
    for phoneme, count in zip(phonemes, counts, strict=True):
        if phoneme in WORD_BREAKS:
            if start is not None:
                spans.append((start, position))
                start = None
        elif start is None:
            start = position
        position += count
    if start is not None:
        spans.append((start, position))
    return spans


def chunk_from_alignment(
    samples: np.ndarray,
    rate: int,
    phonemes: Sequence[str],
    counts: Sequence[int],
    text: str,
    words: Sequence[str],
    phonemize: Callable[[str], Sequence[str]],
) -> SpeechChunk:
    """A chunk whose visemes and words come from the engine's phoneme alignment.

    ``phonemes[i]`` lasted ``counts[i]`` samples; the counts are made to cover the audio
    exactly (a difference goes to the last phoneme). ``words`` are the spoken words the
    chunk holds; ``phonemize(word)`` gives a word's phonemes, used only when the engine
    joined or split words ("on the" as one) so they must be matched by phoneme counts.
    """
    counts = [int(c) for c in counts]
    drift = len(samples) - sum(counts)
    if drift and counts:
        counts[-1] = max(0, counts[-1] + drift)
    timeline = visemes.timeline(list(phonemes), counts, rate)
    spans = word_spans(phonemes, counts)
    sizes = [len(g) for g in word_phonemes(phonemes)]
    timed: tuple[WordTiming, ...] = word_timing.align(words, spans)
    if len(words) != len(spans) and len(sizes) == len(spans):
        own = [sum(len(g) for g in word_phonemes(phonemize(w))) for w in words]
        timed = word_timing.align(words, spans, (own, sizes))
    return SpeechChunk(samples.astype(np.float32, copy=False), rate, timeline, text, timed)


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
