"""English phonemes (espeak-ng IPA, as Piper produces them) to visemes, and timelines.

The viseme set is the 15 of the Oculus/OVR lip-sync model, small enough to animate well
and widely documented::

    sil  silence, pauses, punctuation          PP  p b m          FF  f v
    TH   θ ð                                   DD  t d ɾ ʔ        kk  k ɡ ŋ h x
    CH   tʃ dʒ ʃ ʒ                             SS  s z            nn  n l ɫ
    RR   ɹ r ɚ ɝ ɜ                             aa  ɑ a æ ʌ ɐ ə
    E    ɛ e                                   I   ɪ i j ᵻ        O   o ɔ ɒ
    U    u ʊ w

Decisions worth knowing:

- espeak-ng writes diphthongs and affricates as several symbols (``o ʊ``, ``d ʒ``) and Piper
  aligns each symbol separately, so a diphthong becomes two visemes in a row. That is the
  right motion for a mouth (``O`` then ``U``); espeak-ng's phoneme events name a diphthong
  as one phoneme (``ˈaɪ``), which :func:`units` splits the same way, halving its time.
- Modifier symbols carry no mouth shape of their own: a stress mark (``ˈ ˌ``) lends its time
  to the sound that follows it, a length mark (``ː``) to the sound before it. A word gap
  (space) is the transition between two words: its first half extends the sound before
  it, its second half the sound after it (co-articulation: the mouth does not close
  between words); punctuation, Piper's begin/end markers (``^ $``) and anything unknown
  are ``sil``.
- ``ɜ`` (NURSE, "first") is ``RR``: the American voices say it r-coloured.
- Weights: 1.0 for full shapes; the schwa ``ə`` (weakly articulated) gets 0.6 and ``h``
  (shaped by its neighbours) 0.5, so the mouth does not over-open on reduced sounds.

Later work maps these visemes onto the ARKit-52 blendshapes the renderers consume.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

from app.core.types import Viseme
from speech.korean_visemes import IPA_VISEMES as _KOREAN_IPA

VISEMES: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "I", "O", "U",
)  # fmt: skip

SILENCE = "sil"

# IPA symbol -> (viseme, weight)
_TABLE: dict[str, tuple[str, float]] = {}


def _add(viseme: str, symbols: str, weight: float = 1.0) -> None:
    for symbol in symbols.split():
        _TABLE[symbol] = (viseme, weight)


_add("PP", "p b m")
_add("FF", "f v")
_add("TH", "θ ð")
_add("DD", "t d ɾ ʔ")
_add("kk", "k ɡ g ŋ x")
_add("kk", "h", 0.5)
_add("CH", "tʃ dʒ ʃ ʒ ʧ ʤ")
_add("SS", "s z")
_add("nn", "n l ɫ n̩ l̩")
# ɜ is the NURSE vowel ("first", "third"): the voices here are American (Piper en_US,
# espeak-ng en-us), which write it ɜː but say it r-coloured, [ɝ] (CMU's ER), so it takes
# the r shape; a British voice's plain [ɜː] (neutral lips) loses little by it.
_add("RR", "ɹ r ɚ ɝ ɜ ɐ̃")
_add("aa", "ɑ a æ ʌ ɐ ɑ̃")
_add("aa", "ə", 0.6)
_add("E", "ɛ e")
_add("I", "ɪ i j ᵻ")
_add("O", "o ɔ ɒ")
_add("U", "u ʊ w")
# Diphthongs (aɪ aʊ eɪ oʊ ɔɪ, the centring iə, r-coloured ʊɹ) are deliberately *not*
# listed: the mouth glides between two shapes, so units() splits espeak-ng's one-phoneme
# names into their two symbols, as Piper's alignments already do (``e``, ``ɪ``).
# Korean (espeak-ng's ``ko`` voice): symbols English does not use, see korean_visemes
for _symbol, _shape in _KOREAN_IPA.items():
    _TABLE.setdefault(_symbol, _shape)
_LONGEST = max(len(symbol) for symbol in _TABLE)

# modifiers: no shape of their own
STRESS = frozenset("ˈˌ")
# length and secondary articulations (palatalised ``iʲ``, aspirated ``pʰ``): no shape of
# their own, their time goes to the sound before them
LENGTH = frozenset("ːˑʲʰʷ˞")
WORD_GAP = frozenset(" ")


def viseme_for(phoneme: str) -> tuple[str, float]:
    """The viseme (and weight) for one espeak IPA phoneme; unknown symbols are silence."""
    found = _TABLE.get(phoneme)
    if found is None and len(phoneme) > 1:
        # a combining mark or tie bar we do not list: judge by the base symbol
        found = _TABLE.get(phoneme[0])
    return found if found is not None else (SILENCE, 1.0)


def units(phoneme: str) -> list[tuple[str, float]]:
    """The visemes of one espeak phoneme *name*, which may hold several symbols.

    espeak-ng's phoneme events name whole phonemes with their marks (``ˈəʊ``, ``k-``,
    ``tɕh``): stress, length, release and combining marks are dropped, and the rest is
    matched longest-first (``tʃ`` before ``t``), so a diphthong gives two shapes. A name
    with nothing known in it (a pause ``""``, a language switch ``(en)``) is silence.
    """
    if phoneme in _TABLE:
        return [_TABLE[phoneme]]
    if phoneme.startswith("("):
        return [(SILENCE, 1.0)]
    symbols = "".join(
        c
        for c in phoneme
        if c not in STRESS and c not in LENGTH and c not in "-'_|" and not unicodedata.combining(c)
    )
    found: list[tuple[str, float]] = []
    index = 0
    while index < len(symbols):
        for size in range(min(_LONGEST, len(symbols) - index), 0, -1):
            shape = _TABLE.get(symbols[index : index + size])
            if shape is not None:
                found.append(shape)
                index += size
                break
        else:
            index += 1  # an unknown symbol inside a name: skip it, keep the rest
    return found or [(SILENCE, 1.0)]


def timeline(
    phonemes: Sequence[str], samples: Sequence[int], sample_rate: int
) -> tuple[Viseme, ...]:
    """Visemes covering exactly ``sum(samples)`` samples, one per run of equal shapes.

    ``phonemes[i]`` is heard for ``samples[i]`` samples, in order (Piper's alignments).
    Times are seconds from the first sample; the last viseme ends at the audio's end.
    """
    if len(phonemes) != len(samples):
        raise ValueError(f"{len(phonemes)} phonemes but {len(samples)} durations")
    # first pass: give modifier time to the sound it belongs to
    held: list[tuple[str, float, int]] = []  # (viseme, weight, samples)
    pending = 0  # stress-mark time waiting for the next sound
    for phoneme, count in zip(phonemes, samples, strict=True):
        count = int(count)
        if phoneme in STRESS:
            pending += count
            continue
        if phoneme in WORD_GAP and held:
            # the gap between two words is their transition: measured on Piper's audio, its
            # first half sounds like the sound before it and its second half like the one
            # after it (MFCC distance, bench/viseme_accuracy.py), so the mouth holds the one
            # and then moves to the other, never closing between words
            half = count // 2
            name, weight, before = held[-1]
            held[-1] = (name, weight, before + half + pending)
            pending = count - half
            continue
        if phoneme in LENGTH or phoneme in WORD_GAP:
            if held:
                name, weight, before = held[-1]
                held[-1] = (name, weight, before + count + pending)
                pending = 0
            else:
                held.append((SILENCE, 1.0, count + pending))
                pending = 0
            continue
        count += pending
        pending = 0
        shapes = [viseme_for(phoneme)] if len(phoneme) == 1 else units(phoneme)
        # a multi-symbol name (a diphthong) shares its time evenly between its shapes
        for index, (name, weight) in enumerate(shapes):
            share = count * (index + 1) // len(shapes) - count * index // len(shapes)
            held.append((name, weight, share))
    if pending:
        held.append((SILENCE, 1.0, pending))
    return _to_visemes(_merge(held), sample_rate)


def _merge(units: Iterable[tuple[str, float, int]]) -> list[tuple[str, float, int]]:
    merged: list[tuple[str, float, int]] = []
    for name, weight, count in units:
        if count <= 0:
            continue
        if merged and merged[-1][0] == name:
            last_name, last_weight, last_count = merged[-1]
            merged[-1] = (last_name, max(last_weight, weight), last_count + count)
        else:
            merged.append((name, weight, count))
    return merged


def _to_visemes(units: Sequence[tuple[str, float, int]], sample_rate: int) -> tuple[Viseme, ...]:
    out: list[Viseme] = []
    position = 0
    for name, weight, count in units:
        out.append(Viseme(name, position / sample_rate, count / sample_rate, weight))
        position += count
    return tuple(out)


def uniform_timeline(
    phonemes: Sequence[str], total_samples: int, sample_rate: int
) -> tuple[Viseme, ...]:
    """A fallback when no alignments exist: spread the phonemes evenly over the audio."""
    if not phonemes or total_samples <= 0:
        return (Viseme(SILENCE, 0.0, total_samples / sample_rate),) if total_samples > 0 else ()
    n = len(phonemes)
    bounds = [total_samples * i // n for i in range(n + 1)]
    return timeline(phonemes, [bounds[i + 1] - bounds[i] for i in range(n)], sample_rate)
