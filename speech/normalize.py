"""Text normalisation before synthesis: what a voice should *say* for what a reply *shows*.

``normalize(text, language)`` runs the steps every language shares, then the language's
own rules (:mod:`speech.normalize_en`, :mod:`speech.normalize_ko`):

1. expression tags for the avatar (``[smile]``, ``<laugh>``) are removed, never spoken;
2. markdown marks (``**bold**``, ``# heading``, backticks) are dropped, keeping the words;
3. emoji and pictographs are removed (a name such as "smiling face" read aloud in the
   middle of a sentence is noise to a visitor), with their joiners and variation selectors;
4. numbers, times, dates, currency, units and abbreviations become words, per language:
   phone-like numbers (dashed groups, a leading 0, or a 3-4 digit number next to "call",
   "hotline", "전화"...) are read digit by digit, other numbers as quantities.

The result is plain text for any engine (espeak-ng, Piper and Kokoro all phonemize with
espeak-ng, which reads what is left well).
"""

from __future__ import annotations

import re
import unicodedata

from speech import normalize_en, normalize_ko

_TAG = re.compile(r"\[[^\[\]\n]{1,40}\]|</?[A-Za-z][A-Za-z0-9_ =\"'-]{0,40}/?>")
_MARKDOWN = re.compile(r"(\*{1,3}|_{2,3}|`+|^#{1,6}\s+|^\s*[-*+]\s+(?=\S)|~~)", re.MULTILINE)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_SPACE_BEFORE_MARK = re.compile(r"\s+([,.!?;:])")

# symbols that are words (°, %, currency) are handled by the language rules first
_KEEP_SYMBOLS = frozenset("°%$€£¥₩&@+=#*/×÷")


def strip_markup(text: str) -> str:
    """Remove avatar tags, markdown marks and emoji; keep every word."""
    text = _TAG.sub(" ", text)
    text = _MARKDOWN.sub("", text)
    return "".join(" " if _is_pictograph(c) else c for c in text)


def _is_pictograph(char: str) -> bool:
    if char in _KEEP_SYMBOLS:
        return False
    code = ord(char)
    if code in (0x200D, 0x20E3) or 0xFE00 <= code <= 0xFE0F or 0x1F3FB <= code <= 0x1F3FF:
        return True  # zero-width joiner, keycap, variation selectors, skin tones
    if 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF or 0x2B00 <= code <= 0x2BFF:
        return True  # emoji, dingbats, arrows and stars blocks
    return unicodedata.category(char) == "So"


def language_of(text: str, default: str = "en") -> str:
    """'ko' when Hangul makes up at least a third of the letters, 'en' when only Latin
    letters appear, else ``default``: lets a Korean sentence reach the Korean voice even
    when the session language is English, and the other way round."""
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    if hangul and hangul * 3 >= hangul + latin:
        return "ko"
    if latin and not hangul:
        return "en"
    return default


def normalize(text: str, language: str = "en") -> str:
    """Speakable text in ``language`` ('en' or 'ko'; others get the shared steps only)."""
    text = strip_markup(text)
    lang = language.split("-")[0].lower()
    if lang == "ko":
        text = normalize_ko.normalize(text)
    elif lang == "en":
        text = normalize_en.normalize(text)
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_MARK.sub(r"\1", text)
    return text.strip()
