"""Word timings for a chunk: which samples each spoken word covers.

Engines know where *their* words fall (Piper: the word gaps in its phoneme alignments;
espeak-ng: word events). The words themselves come from the text that was spoken, so the
two are matched here: one span per word when the counts agree (the usual case, since the
text is normalised first), else each word gets a share of the speech in proportion to its
length, which keeps "what was heard" within a word or two.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.core.types import WordTiming

_WORD = re.compile(r"[^\s]+")


def spoken_words(text: str) -> list[str]:
    """The words of a text as a listener counts them (tokens with a letter or digit)."""
    return [w for w in _WORD.findall(text) if any(c.isalnum() for c in w)]


def align(
    words: Sequence[str],
    spans: Sequence[tuple[int, int]],
    sizes: tuple[Sequence[int], Sequence[int]] | None = None,
) -> tuple[WordTiming, ...]:
    """``spans`` (start, end sample) of the words an engine heard, matched to ``words``.

    Engines join words (espeak-ng says "on the" and "I am" as one word) or split them;
    then runs of neighbours are grouped so that each group's share of the words' sizes
    best matches its span's share, and a group of words shares its span by length.
    ``sizes`` gives (per word, per span) sizes in the same unit, e.g. phoneme counts;
    without it letters are weighed against time.
    """
    if not words or not spans:
        return ()
    if len(words) == len(spans):
        return tuple(WordTiming(w, s, e) for w, (s, e) in zip(words, spans, strict=True))
    if sizes is not None and len(sizes[0]) == len(words) and len(sizes[1]) == len(spans):
        letters = [max(1, n) for n in sizes[0]]
        times = [max(1, n) for n in sizes[1]]
    else:
        letters = [len(w) + 1 for w in words]
        times = [max(1, e - s) for s, e in spans]
    out: list[WordTiming] = []
    if len(words) > len(spans):
        for (first, last), (start, end) in zip(_groups(letters, times), spans, strict=True):
            out += proportional(words[first:last], start, end)
    else:
        for word, (first, last) in zip(words, _groups(times, letters), strict=True):
            out.append(WordTiming(word, spans[first][0], spans[last - 1][1]))
    return tuple(out)


def _groups(many: Sequence[int], few: Sequence[int]) -> list[tuple[int, int]]:
    """Cut ``many`` into ``len(few)`` runs whose size shares best match ``few``'s shares
    (least squares, by dynamic programming); returns [first, last) of each run."""
    n, k = len(many), len(few)
    total_many, total_few = float(sum(many)), float(sum(few))
    prefix = [0]
    for size in many:
        prefix.append(prefix[-1] + size)
    inf = float("inf")
    # cost[j][i]: the first i items in j runs; back[j][i]: where run j started
    cost = [[inf] * (n + 1) for _ in range(k + 1)]
    back = [[0] * (n + 1) for _ in range(k + 1)]
    cost[0][0] = 0.0
    for j in range(1, k + 1):
        target = few[j - 1] / total_few
        for i in range(j, n - (k - j) + 1):
            for start in range(j - 1, i):
                if cost[j - 1][start] == inf:
                    continue
                share = (prefix[i] - prefix[start]) / total_many
                value = cost[j - 1][start] + (share - target) ** 2
                if value < cost[j][i]:
                    cost[j][i], back[j][i] = value, start
    runs: list[tuple[int, int]] = []
    end = n
    for j in range(k, 0, -1):
        start = back[j][end]
        runs.append((start, end))
        end = start
    return runs[::-1]


def proportional(words: Sequence[str], start: int, end: int) -> tuple[WordTiming, ...]:
    """Spread ``words`` over ``[start, end)`` by their lengths (plus one for the gap)."""
    if not words or end <= start:
        return ()
    weights = [len(w) + 1 for w in words]
    total = sum(weights)
    out: list[WordTiming] = []
    done = 0
    for word, weight in zip(words, weights, strict=True):
        first = start + (end - start) * done // total
        done += weight
        out.append(WordTiming(word, first, start + (end - start) * done // total))
    return tuple(out)


def shift(words: Sequence[WordTiming], offset: int) -> tuple[WordTiming, ...]:
    return tuple(WordTiming(w.word, w.start + offset, w.end + offset) for w in words)
