"""Incremental sentence splitting of a streamed reply, for English and Korean.

Speech should start on the first clause, not the whole reply, so the splitter
releases a sentence as soon as its end is certain: terminal punctuation followed
by whitespace (or the end of the stream). A long run without an end is released
at a clause boundary (comma) so the first audio is never held back by a run-on.
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


class SentenceSplitter:
    def __init__(self, clause_after_chars: int = 80) -> None:
        self._buffer = ""
        self._clause_after = clause_after_chars

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the sentences that are now complete."""
        self._buffer += text
        out: list[str] = []
        while True:
            cut = self._sentence_end()
            if cut is None and len(self._buffer) > self._clause_after:
                cut = self._clause_end()
            if cut is None:
                return out
            sentence, self._buffer = self._buffer[:cut].strip(), self._buffer[cut:].lstrip()
            if sentence:
                out.append(sentence)

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []

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


def split_sentences(text: str) -> list[str]:
    splitter = SentenceSplitter(clause_after_chars=10_000)
    return splitter.feed(text) + splitter.flush()
