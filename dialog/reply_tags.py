"""Inline expression tags in a streamed reply: ``[smile]``, ``[nod]``, ``[concerned:0.6]``.

The model is asked to mark expressions inline; :class:`ReplyTagParser` takes the stream
piece by piece (a tag may be split across pieces: ``"[smi"`` + ``"le] Hello"``), returns the
text without tags (for speech and captions) and the tags as :class:`Cue` objects. Tags not
in the persona's allowed set are dropped silently: never spoken, never shown. Brackets that
are not a tag ("Room [B2]", "[1]") stay text. An optional intensity follows a colon, 0..1.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_TAG = re.compile(r"\[\s*([a-z][a-z_-]{0,23})\s*(?::\s*(\d*\.?\d+)\s*)?\]", re.IGNORECASE)
# the longest text a tag can span; an open bracket held longer than this is just text
_MAX_TAG = 34
_PUNCT = re.compile(r"[.,!?;:…。，、)\]]")
_TAG_CHARS = re.compile(r"^\[\s*[a-z_-]*\s*(?::\s*[\d.]*\s*)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Cue:
    tag: str
    intensity: float = 1.0


@dataclass(frozen=True, slots=True)
class Parsed:
    """Text and cues in the order they came (a cue belongs where it stood in the text)."""

    parts: tuple[str | Cue, ...] = ()

    @property
    def text(self) -> str:
        return "".join(p for p in self.parts if isinstance(p, str))

    @property
    def cues(self) -> tuple[Cue, ...]:
        return tuple(p for p in self.parts if isinstance(p, Cue))


class ReplyTagParser:
    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(t.lower() for t in allowed)
        self._held = ""  # an open bracket that may still become a tag
        # trailing whitespace is held until the next text shows whether a tag removed in
        # between leaves "Hello  there" (one space kept) or "Hello ." (space dropped)
        self._space = ""
        self._after_tag = False
        self._started = False
        self.dropped: list[str] = []  # unknown tags, for the log

    def feed(self, piece: str) -> Parsed:
        text = self._held + piece
        self._held = ""
        out: list[str | Cue] = []
        i = 0
        while i < len(text):
            start = text.find("[", i)
            if start < 0:
                self._emit(out, text[i:])
                break
            self._emit(out, text[i:start])
            match = _TAG.match(text, start)
            if match is not None:
                self._take(match, out)
                i = match.end()
                continue
            rest = text[start:]
            if len(rest) < _MAX_TAG and _TAG_CHARS.match(rest):
                self._held = rest  # may complete with the next piece
                break
            self._emit(out, "[")
            i = start + 1
        return Parsed(tuple(out))

    def flush(self) -> Parsed:
        held, self._held = self._held, ""
        out: list[str | Cue] = []
        self._emit(out, held)
        if self._space and not self._after_tag:
            out.append(self._space)
        self._space = ""
        return Parsed(tuple(out))

    def _take(self, match: re.Match[str], out: list[str | Cue]) -> None:
        tag = match.group(1).lower()
        if tag in self.allowed:
            out.append(Cue(tag, _intensity(match.group(2))))
        else:
            self.dropped.append(tag)
        self._after_tag = True

    def _emit(self, out: list[str | Cue], text: str) -> None:
        if not text:
            return
        body = text.rstrip()
        trailing = text[len(body) :]
        if not body:  # only whitespace: one run of it is kept, later
            self._space = self._space or trailing
            return
        if self._after_tag:
            # "Hello [smile] there": keep one space; "Hello [smile]." or "[nod] Hi": none
            lead = len(body) - len(body.lstrip())
            body = body.lstrip()
            space = self._space or (" " if lead else "")
            if not self._started or _PUNCT.match(body):
                space = ""
            body = space + body
        else:
            body = self._space + body
        out.append(body)
        self._space = trailing
        self._after_tag = False
        self._started = True


def _intensity(raw: str | None) -> float:
    if raw is None:
        return 1.0
    try:
        return min(1.0, max(0.0, float(raw)))
    except ValueError:
        return 1.0


def strip_tags(text: str, allowed: Iterable[str] = ()) -> Parsed:
    """The whole-text form (scripted lines, history): tags removed, allowed ones returned."""
    parser = ReplyTagParser(allowed)
    return Parsed(parser.feed(text).parts + parser.flush().parts)
