"""The avatar's subtitles, paced by the audio clock: words appear as they are heard.

The reply's text is known seconds before it is spoken (the model writes faster than the
voice talks). Showing it at once makes the caption run ahead of the voice, which is hard
to follow for the elderly visitors a kiosk serves. The pacer keeps, per turn, the pieces
of speech handed to the speaker (their caption text, where they start and end on the
turn's audio axis, and where their words start) and answers "what should the caption
show when this many seconds have been heard".

Engines split and normalise text ("3rd" is spoken "third"), so spoken words and caption
words do not match one to one: a piece shows the same share of its caption words as of its
spoken words heard (or, without word timings, of its audio played). What was shown is
never taken back within a turn: a clock reset at the turn's end cannot blank the caption.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.core import events as ev


@dataclass
class _Piece:
    words: list[str]  # the caption's words
    start: float  # seconds of turn audio
    end: float
    word_starts: list[float] = field(default_factory=list)  # the spoken words'

    def shown_words(self, heard: float) -> int:
        """How many of this piece's caption words are due at ``heard`` seconds."""
        words = len(self.words)
        if heard >= self.end:
            return words
        if heard < self.start or not words:
            return 0
        if self.word_starts:
            spoken = sum(1 for start in self.word_starts if start <= heard)
            return min(words, math.ceil(spoken * words / len(self.word_starts)))
        share = (heard - self.start) / max(self.end - self.start, 1e-6)
        return min(words, int(share * words) + 1)  # a word shows as it starts


class CaptionPacer:
    """Feed it the session's events (any order of turns); ask :meth:`visible` per frame."""

    def __init__(self) -> None:
        self._turn = -1
        self._pieces: list[_Piece] = []
        self._shown = ""

    def handle(self, event: ev.Event) -> None:
        if isinstance(event, ev.TurnStarted):
            self._reset(event.turn_id)
        elif isinstance(event, ev.AudioOut) and event.sample_rate > 0:
            if event.turn_id != self._turn:
                self._reset(event.turn_id)
            self._add(event)

    def has_audio(self, turn_id: int) -> bool:
        return turn_id == self._turn and bool(self._pieces)

    def visible(self, turn_id: int, heard_seconds: float | None) -> str:
        """The caption for ``turn_id`` after ``heard_seconds`` of its speech were heard."""
        if turn_id != self._turn:
            return ""
        if heard_seconds is not None:
            parts: list[str] = []
            for piece in self._pieces:
                count = piece.shown_words(heard_seconds)
                parts.extend(piece.words[:count])
                if count < len(piece.words):
                    break
            text = " ".join(parts)
            if len(text) > len(self._shown):
                self._shown = text
        return self._shown

    # ------------------------------------------------------------------ internals
    def _reset(self, turn_id: int) -> None:
        self._turn, self._pieces, self._shown = turn_id, [], ""

    def _add(self, event: ev.AudioOut) -> None:
        rate = float(event.sample_rate)
        start = event.start_sample / rate
        end = start + len(event.samples) / rate
        starts = [start + word.start / rate for word in event.words]
        if event.text.strip() or not self._pieces:
            self._pieces.append(_Piece(event.text.split(), start, end, starts))
        else:  # the engine cut the piece further: its audio and words continue it
            piece = self._pieces[-1]
            piece.end = max(piece.end, end)
            piece.word_starts.extend(starts)
