"""Spelling-tolerant text for the crisis lexicon: how people type, not how they spell.

People in distress type fast, on phones, in slang. :func:`canonical` rewrites the ways of
writing that the lexicon's patterns would otherwise miss, in general classes rather than
per sentence:

* **English shorthand**: chat contractions (wanna, gonna, dont, im, ``b``/``u`` for
  be/you), internet slang for suicide and self-harm (kms, unalive, sewerslide), and
  digits used as letters (su1c1de);
* **English typos** of the few words the patterns hinge on (suicide, myself, anymore,
  overdose, kill...): one letter missing, extra, wrong or swapped;
* **Korean spacing**: syllables typed one by one with spaces between them (죽 고 싶 다)
  are joined; the patterns already allow any spacing between words;
* **Korean spelling by sound**: the crisis verbs written as pronounced (주거버리고 = 죽어
  버리고, 시퍼 = 싶어, 자쌀 = 자살) and vulgar synonyms of "to die" (뒤지고 싶다).

Idioms stay idioms: nothing here turns "killing me" or 죽겠다 into a pattern.
"""

from __future__ import annotations

import re

from dialog.safety.text import normalize

__all__ = ["canonical"]

# whole-phrase rewrites, applied in order on normalized (lower-case) text
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # slang for killing oneself / suicide
        (r"\bkms\b", "kill myself"),
        (r"\bunaliv(?:e|ing)\s+(?:my\s?self|me)\b", "kill myself"),
        (r"\bunalived?\b", "die"),
        (r"\bsewer\s?slide\b", "suicide"),
        # chat contractions the patterns are not written for
        (r"\bwanna\b", "want to"),
        (r"\bgonna\b", "going to"),
        (r"\bgotta\b", "got to"),
        (r"\b(don|can|won|didn|isn|doesn)t\b", r"\1't"),
        (r"\bim\b", "i'm"),
        (r"\bive\b", "i've"),
        (r"\bb\b(?=\s+(?:alive|here|dead|gone|around)\b)", "be"),
        (r"\bu\b", "you"),
        (r"\bmy\s+self\b", "myself"),
        # Korean written by sound, and vulgar words for "to die"
        (r"주거\s*버리", "죽어 버리"),
        (r"주글", "죽을"),
        (r"죽고\s*십", "죽고 싶"),
        (r"(싶|시)퍼", "싶어"),
        (r"자쌀|쟈살", "자살"),
        (r"뒤지고\s*싶", "죽고 싶"),
        (r"뒤져\s*버리", "죽어 버리"),
    )
)
_LEET = str.maketrans({"1": "i", "!": "i", "3": "e", "0": "o", "4": "a", "@": "a", "$": "s"})
_MIXED_WORD = re.compile(r"\b(?=\w*[a-z])(?=\w*[0-9])[a-z0-9@$!]{4,}\b")
# the words the English patterns hinge on; a one-letter slip of these is corrected
_KEYWORDS = (
    "suicide",
    "suicidal",
    "myself",
    "anymore",
    "overdose",
    "overdosed",
    "overdosing",
    "alive",
    "kill",
)
_TYPO_CANDIDATE = re.compile(r"\b[a-z]{3,11}\b")
# real words one letter away from a keyword: never "corrected"
_REAL_WORDS = frozenset({"alike", "alice", "aline", "alive"})
_SPACED_SYLLABLES = re.compile(r"(?<!\S)[가-힣](?:\s[가-힣])+(?!\S)")


def canonical(text: str) -> str:
    """:func:`dialog.safety.text.normalize` plus the rewrites above."""
    norm = normalize(text)
    norm = _MIXED_WORD.sub(lambda m: m.group(0).translate(_LEET), norm)
    norm = _TYPO_CANDIDATE.sub(lambda m: _correct(m.group(0)), norm)
    for pattern, replacement in _PHRASES:
        norm = pattern.sub(replacement, norm)
    return _SPACED_SYLLABLES.sub(lambda m: m.group(0).replace(" ", ""), norm)


def _correct(word: str) -> str:
    if word in _KEYWORDS or word in _REAL_WORDS:
        return word
    for keyword in _KEYWORDS:
        # short words have too many real neighbours: only a missing letter for them
        if len(keyword) <= 4 and not (
            len(word) == len(keyword) - 1 and keyword.startswith(word[:2])
        ):
            continue
        if word[0] == keyword[0] and _one_edit(word, keyword):
            return keyword
    return word


def _one_edit(a: str, b: str) -> bool:
    """Damerau: one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))
