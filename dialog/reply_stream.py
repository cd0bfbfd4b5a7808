"""From raw model pieces to what the session may show and say.

:class:`ReplyShaper` chains the tag parser (tags out, cues kept), the sentence splitter
and the output guard, and decides which caption text may be shown while the model is still
writing:

* pieces are released as captions as they come, up to the last whole word;
* once the sentence being written contains a word the guard watches (doctor, 의사, a
  number for a dose...), the rest of that sentence is held until it is complete and vetted;
  a replaced sentence is then shown as its replacement, so a claim like "I'm your
  therapist" is never on screen, even for a moment;
* complete sentences are always vetted before they are spoken.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dialog.reply_tags import Cue, ReplyTagParser
from dialog.safety.guards import Vetted
from speech.sentences import SentenceSplitter

_ENDED = re.compile(r"[.!?…。！？][\"'”’)\]]*\s*$")


@dataclass(slots=True)
class Shaped:
    chunks: list[str] = field(default_factory=list)  # caption text to show now
    sentences: list[Vetted] = field(default_factory=list)  # complete, vetted (may be '')
    cues: list[tuple[Cue, int]] = field(default_factory=list)  # cue, sentence index
    guarded: list[Vetted] = field(default_factory=list)  # replaced or dropped by the guard


class ReplyShaper:
    def __init__(
        self,
        allowed_tags: Iterable[str],
        vet: Callable[[str], Vetted],
        watch: re.Pattern[str],
    ) -> None:
        self.tags = ReplyTagParser(allowed_tags)
        self._vet = vet
        self._watch = watch
        self._splitter = SentenceSplitter()
        self._pending = ""  # the sentence being written, as streamed
        self._released = 0  # how much of it is already shown
        self._holding = False
        self.index = 0  # sentences given out so far (non-empty ones)
        self.replaced: list[Vetted] = []

    def feed(self, piece: str) -> Shaped:
        shaped = Shaped()
        for part in self.tags.feed(piece).parts:
            self._part(part, shaped)
        self._release(shaped, final=False)
        return shaped

    def flush(self) -> Shaped:
        shaped = Shaped()
        for part in self.tags.flush().parts:
            self._part(part, shaped)
        self._sentences(self._splitter.flush(), shaped)
        self._release(shaped, final=True)
        return shaped

    # ---------------------------------------------------------------- internals
    def _part(self, part: str | Cue, shaped: Shaped) -> None:
        if isinstance(part, Cue):
            # "open. [nod]It closes": the sentence is not cut yet (no space seen after the
            # period), but the cue belongs to the next one
            ended = _ENDED.search(self._pending) is not None
            shaped.cues.append((part, self.index + (1 if ended else 0)))
            return
        self._pending += part
        self._sentences(self._splitter.feed(part), shaped)

    def _sentences(self, found: list[str], shaped: Shaped) -> None:
        for sentence in found:
            pending = self._pending
            lead = len(pending) - len(pending.lstrip())
            end = lead + len(sentence)
            if pending[lead:end] != sentence:  # defensive: the splitter normalised it
                at = pending.find(sentence)
                end = at + len(sentence) if at >= 0 else len(pending)
            vetted = self._vet(sentence)
            if vetted.replaced:
                self.replaced.append(vetted)
                shaped.guarded.append(vetted)
                if vetted.text:
                    space = " " if self._released > lead or self.index else ""
                    shaped.chunks.append(space + vetted.text)
            elif self._released < end:
                shaped.chunks.append(pending[self._released : end])
            if vetted.text:
                shaped.sentences.append(vetted)
                self.index += 1
            self._pending = pending[end:]
            self._released = max(0, self._released - end)
            self._holding = False

    def _release(self, shaped: Shaped, final: bool) -> None:
        pending = self._pending
        if self._holding:
            return
        limit = len(pending) if final else max(pending.rfind(" "), pending.rfind("\n")) + 1
        match = self._watch.search(pending)
        if match is not None:
            word_start = max(pending.rfind(" ", 0, match.start()), -1) + 1
            limit = min(limit, word_start)
            self._holding = True
        if limit > self._released:
            shaped.chunks.append(pending[self._released : limit])
            self._released = limit
