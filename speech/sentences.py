"""Incremental sentence splitting of a streamed reply, for English and Korean.

Speech should start on the first clause, not the whole reply, so the splitter
releases a sentence as soon as its end is certain: terminal punctuation followed
by whitespace (or the end of the stream). A long run without an end is released
at a clause boundary (comma) so the first audio is never held back by a run-on.

**The first piece of a reply** may be cut earlier, at its first clause boundary, once the
clause is long enough to sound whole (``first_clause_chars``: about four English words or
eight Hangul syllables): a comma, semicolon or colon; before a conjunction ("and", "but",
"because"...; 그리고, 하지만, 그래서...); or after a Korean connective ending (...고,
...지만, ...는데, ...니까, ...어서). A synthesizer then speaks "Hello, I am your guide"
while the rest is synthesized, which halves the time to first audio for a long opening
sentence. When the whole sentence is already known and the rest would be a scrap, it is
not cut. Later pieces are cut at sentence ends only (and the run-on rule above).
"""

from __future__ import annotations

import re

# . ! ? … and their full-width forms; Korean sentences end with the same marks
_END = re.compile(r"([.!?…。！？]+[\"'”’)\]]*)(\s+)")
_CLAUSE = re.compile(r"([,;:，、]+)(\s+)")
# "Dr. Kim", "e.g. this": a period after these does not end a sentence
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "approx", "dept"}
)


_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_FIRST_CLAUSE_MARK = re.compile(r"[,;:，、]+(?=\s+\S)")
_CONJUNCTION = re.compile(
    r"\s+(?=(?:and|but|because|so|although|though|while|which|where|then|"
    r"그리고|하지만|그런데|그래서|그러나|그러면|그러니까|또는|또한)\s+\S)",
    re.IGNORECASE,
)
_KOREAN_WORD_END = re.compile(r"[\uac00-\ud7a3]+(?=\s+\S)")
# connective endings after which Korean speakers pause; nouns that merely end in 고 are
# excluded (최고 "best", 광고 "advert", ...)
_CONNECTIVES = ("고", "지만", "는데", "은데", "니까", "어서", "아서", "해서", "면서", "으며")
_NOT_CONNECTIVE = frozenset(
    {"최고", "광고", "참고", "창고", "사고", "신고", "경고", "재고", "원고", "보고", "고"}
)


class SentenceSplitter:
    def __init__(self, clause_after_chars: int = 80, first_clause_chars: int | None = 20) -> None:
        """``first_clause_chars`` None: never cut the first piece early (English count;
        Korean uses 40 % of it since Hangul packs a syllable into each character)."""
        self._buffer = ""
        self._clause_after = clause_after_chars
        self._first_clause = first_clause_chars
        self._released = False

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the sentences that are now complete."""
        self._buffer += text
        out: list[str] = []
        while True:
            cut = self._first_clause_end()
            if cut is None:
                cut = self._sentence_end()
            if cut is None and len(self._buffer) > self._clause_after:
                cut = self._clause_end()
            if cut is None:
                return out
            self._release(cut, out)

    def flush(self) -> list[str]:
        out: list[str] = []
        cut = self._first_clause_end(final=True)
        if cut is not None:
            self._release(cut, out)
        rest, self._buffer = self._buffer.strip(), ""
        return [*out, rest] if rest else out

    def _release(self, cut: int, out: list[str]) -> None:
        sentence, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:].lstrip()
        if sentence:
            out.append(sentence)
            self._released = True

    def _first_clause_end(self, final: bool = False) -> int | None:
        """Where the reply's first piece may end early, or None."""
        if self._released or self._first_clause is None:
            return None
        text = self._buffer
        korean = bool(_HANGUL.search(text[:40]))
        least = max(4, self._first_clause * 2 // 5) if korean else self._first_clause
        end = self._sentence_end()
        if end is None and final:
            end = len(text.rstrip())
        for cut in _clause_cuts(text):
            if end is not None and cut >= end:
                return None
            if len(text[:cut].strip()) < least:
                continue
            # a known sentence end close behind would leave a scrap: keep the sentence
            if end is not None and len(text[cut:end].strip()) < least:
                return None
            return cut
        return None

    def _sentence_end(self) -> int | None:
        for match in _END.finditer(self._buffer):
            before = self._buffer[: match.start()].split()
            last_word = before[-1].lower().rstrip(".") if before else ""
            if match.group(1) == "." and last_word in _ABBREVIATIONS:
                continue
            if match.group(1) == "." and len(before) == 1 and last_word.isdigit():
                continue  # "1. first step": a list number, not a sentence
            return match.end(1)
        return None

    def _clause_end(self) -> int | None:
        match = _CLAUSE.search(self._buffer, 20)
        return match.end(1) if match else None


def _clause_cuts(text: str) -> list[int]:
    """Candidate ends of a first clause, in order: after a mark, before a conjunction,
    after a Korean connective ending."""
    cuts = [m.end() for m in _FIRST_CLAUSE_MARK.finditer(text)]
    cuts += [m.start() for m in _CONJUNCTION.finditer(text)]
    for match in _KOREAN_WORD_END.finditer(text):
        word = match.group(0)
        if word not in _NOT_CONNECTIVE and word.endswith(_CONNECTIVES) and len(word) >= 2:
            cuts.append(match.end())
    return sorted(set(cuts))


def split_sentences(text: str, *, first_clause: bool = False) -> list[str]:
    """Whole text -> sentences; ``first_clause`` also cuts the first one at a clause."""
    splitter = SentenceSplitter(
        clause_after_chars=10_000, first_clause_chars=20 if first_clause else None
    )
    return splitter.feed(text) + splitter.flush()
