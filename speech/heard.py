"""What the listener heard of a reply, to the word, when speech was cut off.

The session keeps one entry per sentence it handed to the synthesizer: the sentence text,
where its audio starts on the turn's sample axis, how many samples it produced and, from
engines that give them, the word timings of its chunks moved onto that axis
(:meth:`Spoken.add`). When the sink is stopped it reports how many samples were heard;
:func:`heard_text` turns that into words:

- a sentence heard to its end counts whole, in its original text ("Call 109.");
- in the sentence that was cut, a word counts once at least half of it was heard (a
  listener recognises a word from its first half; "the mus-" is not "museum") and the
  words are the spoken ones ("one zero nine": numbers were read out as words);
- without word timings (an engine that gives none) the cut sentence is estimated from its
  share of samples, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.core.types import SpeechChunk, WordTiming
from speech.tts.words import shift


class SpokenLike(Protocol):
    text: str
    start_sample: int
    samples: int


@dataclass
class Spoken:
    """One sentence of a turn; ``words`` are on the turn's sample axis."""

    text: str
    start_sample: int
    samples: int = 0
    words: list[WordTiming] = field(default_factory=list)

    def add(self, chunk: SpeechChunk, cursor: int) -> None:
        """Record a chunk of this sentence that plays from turn sample ``cursor``."""
        self.samples += len(chunk.samples)
        self.words += shift(chunk.words, cursor)


def heard_text(spoken: Sequence[SpokenLike], heard_samples: int) -> str:
    """The words the listener heard, given the samples heard since the turn began."""
    parts: list[str] = []
    for entry in spoken:
        if entry.samples == 0 or heard_samples <= entry.start_sample:
            break
        if heard_samples >= entry.start_sample + entry.samples:
            parts.append(entry.text)
            continue
        words: Sequence[WordTiming] = getattr(entry, "words", ())
        if words:
            parts += [w.word for w in words if heard_samples >= (w.start + w.end + 1) // 2]
        else:
            share = (heard_samples - entry.start_sample) / entry.samples
            text_words = entry.text.split()
            parts += text_words[: int(len(text_words) * share + 1e-9)]
        break
    return " ".join(part for part in parts if part)
