"""Text normalisation shared by the safety checks (no Qt, no model)."""

from __future__ import annotations

import re

from dialog.knowledge import detect_language

__all__ = ["clauses", "detect_language", "normalize"]

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"'})
_SPACES = re.compile(r"\s+")
_CLAUSE_BREAK = re.compile(r"[.!?;,\n…。！？]+|\bbut\b|\bso\b")


def normalize(text: str) -> str:
    """Lower-case, straight apostrophes, single spaces: what every pattern is written for."""
    return _SPACES.sub(" ", text.translate(_QUOTES).lower()).strip()


def clauses(text: str) -> list[str]:
    """Rough clause split: negation and subject checks never look across a clause."""
    return [part.strip() for part in _CLAUSE_BREAK.split(text) if part.strip()]
