"""Korean sounds to the OVR-15 visemes: espeak-ng's Korean IPA, and Hangul jamo from text.

Two ways in, one mapping:

- **IPA** (``IPA_VISEMES``): the symbols espeak-ng's ``ko`` voice reports in its phoneme
  events (``ɐ ʌ ɯ q tɕ ph k- ...``). :mod:`speech.visemes` merges them into its table, so
  an espeak Korean timeline is built like an English one.
- **Jamo** (:func:`jamo_visemes`): a Hangul syllable is decomposed arithmetically (Unicode
  puts every syllable at ``0xAC00 + (initial * 21 + medial) * 28 + final``) and each jamo
  is mapped. This is for engines with no phoneme output and for checking the IPA path.

Mouth shapes, by the way Korean is articulated:

=======================  ==========  =====================================================
jamo                     viseme      why
=======================  ==========  =====================================================
ㅁ ㅂ ㅃ ㅍ               PP          lips closed (final ㅁ/ㅂ too)
ㅏ                        aa          open
ㅓ                        aa (0.8)    open-mid; espeak writes it ``ʌ``, which English maps
                                      to ``aa`` too
ㅗ                        O           rounded mid
ㅜ                        U           rounded close
ㅡ                        U (0.6)     close back; unrounded, so a weaker shape
ㅣ                        I           spread
ㅔ ㅐ                     E           (merged in modern Seoul speech)
ㅅ ㅆ                     SS
ㅈ ㅉ ㅊ                  CH          alveolo-palatal affricates
ㄴ                        nn
ㄹ                        DD / nn     a flap between vowels, a lateral ``l`` at the end
ㄷ ㄸ ㅌ                  DD
ㄱ ㄲ ㅋ, final ㅇ         kk          velars (final ㅇ is ``ŋ``)
ㅎ                        kk (0.5)    shaped by its neighbours, like English ``h``
initial ㅇ                (none)      silent placeholder
=======================  ==========  =====================================================

Compound vowels are a glide and a vowel: ㅑ = I then aa, ㅘ = U then aa, ㅢ = U then I...
Final consonants are neutralised (ㅅ ㅆ ㅈ ㅊ ㅌ ㅎ are an unreleased ``t``: DD).
"""

from __future__ import annotations

Unit = tuple[str, float]

# IPA symbol (as espeak-ng's Korean voice names it) -> (viseme, weight). Aspirated forms
# are listed whole so the aspiration does not become a separate (wrong) shape.
IPA_VISEMES: dict[str, tuple[str, float]] = {
    "ɐ": ("aa", 1.0),
    "ʌ": ("aa", 0.8),
    "ɯ": ("U", 0.6),
    "ɰ": ("I", 0.6),
    "q": ("kk", 1.0),
    "kh": ("kk", 1.0),
    "kʰ": ("kk", 1.0),
    "ph": ("PP", 1.0),
    "pʰ": ("PP", 1.0),
    "th": ("DD", 1.0),
    "tʰ": ("DD", 1.0),
    "tɕ": ("CH", 1.0),
    "tɕh": ("CH", 1.0),
    "tɕʰ": ("CH", 1.0),
    "tʃh": ("CH", 1.0),
    "dʑ": ("CH", 1.0),
    "ɕ": ("CH", 1.0),
    "ʑ": ("CH", 1.0),
    "ɲ": ("nn", 1.0),
    "ʎ": ("nn", 1.0),
}

_INITIALS: tuple[tuple[Unit, ...], ...] = (
    (("kk", 1.0),),  # ㄱ
    (("kk", 1.0),),  # ㄲ
    (("nn", 1.0),),  # ㄴ
    (("DD", 1.0),),  # ㄷ
    (("DD", 1.0),),  # ㄸ
    (("DD", 1.0),),  # ㄹ (a flap at the start of a syllable)
    (("PP", 1.0),),  # ㅁ
    (("PP", 1.0),),  # ㅂ
    (("PP", 1.0),),  # ㅃ
    (("SS", 1.0),),  # ㅅ
    (("SS", 1.0),),  # ㅆ
    (),  # ㅇ: silent
    (("CH", 1.0),),  # ㅈ
    (("CH", 1.0),),  # ㅉ
    (("CH", 1.0),),  # ㅊ
    (("kk", 1.0),),  # ㅋ
    (("DD", 1.0),),  # ㅌ
    (("PP", 1.0),),  # ㅍ
    (("kk", 0.5),),  # ㅎ
)

_A: Unit = ("aa", 1.0)
_EO: Unit = ("aa", 0.8)
_O: Unit = ("O", 1.0)
_U: Unit = ("U", 1.0)
_EU: Unit = ("U", 0.6)
_I: Unit = ("I", 1.0)
_E: Unit = ("E", 1.0)
_Y: Unit = ("I", 0.7)  # glides: weaker shapes on the way to the vowel
_W: Unit = ("U", 0.7)

_MEDIALS: tuple[tuple[Unit, ...], ...] = (
    (_A,),  # ㅏ
    (_E,),  # ㅐ
    (_Y, _A),  # ㅑ
    (_Y, _E),  # ㅒ
    (_EO,),  # ㅓ
    (_E,),  # ㅔ
    (_Y, _EO),  # ㅕ
    (_Y, _E),  # ㅖ
    (_O,),  # ㅗ
    (_W, _A),  # ㅘ
    (_W, _E),  # ㅙ
    (_W, _E),  # ㅚ (spoken [we])
    (_Y, _O),  # ㅛ
    (_U,),  # ㅜ
    (_W, _EO),  # ㅝ
    (_W, _E),  # ㅞ
    (_W, _I),  # ㅟ
    (_Y, _U),  # ㅠ
    (_EU,),  # ㅡ
    (_EU, _I),  # ㅢ
    (_I,),  # ㅣ
)

_K: Unit = ("kk", 1.0)
_N: Unit = ("nn", 1.0)
_T: Unit = ("DD", 1.0)
_L: Unit = ("nn", 1.0)
_M: Unit = ("PP", 1.0)
_P: Unit = ("PP", 1.0)
# index 0 is "no final"; the rest follow Unicode's order (ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ...)
_FINALS: tuple[tuple[Unit, ...], ...] = (
    (),
    (_K,),  # ㄱ
    (_K,),  # ㄲ
    (_K,),  # ㄳ
    (_N,),  # ㄴ
    (_N,),  # ㄵ
    (_N,),  # ㄶ
    (_T,),  # ㄷ
    (_L,),  # ㄹ
    (_K,),  # ㄺ (read [k])
    (_M,),  # ㄻ (read [m])
    (_L,),  # ㄼ (read [l])
    (_L,),  # ㄽ
    (_L,),  # ㄾ
    (_P,),  # ㄿ (read [p])
    (_L,),  # ㅀ
    (_M,),  # ㅁ
    (_P,),  # ㅂ
    (_P,),  # ㅄ
    (_T,),  # ㅅ
    (_T,),  # ㅆ
    (("kk", 1.0),),  # ㅇ (ŋ)
    (_T,),  # ㅈ
    (_T,),  # ㅊ
    (_K,),  # ㅋ
    (_T,),  # ㅌ
    (_P,),  # ㅍ
    (_T,),  # ㅎ
)

_FIRST, _LAST = 0xAC00, 0xD7A3
_PER_INITIAL, _PER_MEDIAL = 21 * 28, 28


def is_hangul_syllable(char: str) -> bool:
    return len(char) == 1 and _FIRST <= ord(char) <= _LAST


def decompose(syllable: str) -> tuple[int, int, int]:
    """(initial, medial, final) indexes of a precomposed Hangul syllable (final 0 = none)."""
    if not is_hangul_syllable(syllable):
        raise ValueError(f"{syllable!r} is not a Hangul syllable")
    code = ord(syllable) - _FIRST
    return code // _PER_INITIAL, (code % _PER_INITIAL) // _PER_MEDIAL, code % _PER_MEDIAL


def syllable_visemes(syllable: str) -> list[Unit]:
    """The mouth shapes of one syllable, in order: initial, vowel (with glide), final."""
    initial, medial, final = decompose(syllable)
    return [*_INITIALS[initial], *_MEDIALS[medial], *_FINALS[final]]


def jamo_visemes(text: str) -> list[Unit]:
    """Viseme units for Hangul text; spaces and punctuation become ``sil``, and anything
    that is not Hangul (Latin letters, digits) is skipped: normalise the text first."""
    units: list[Unit] = []
    for char in text:
        if is_hangul_syllable(char):
            units += syllable_visemes(char)
        elif not char.isalnum() and (not units or units[-1][0] != "sil"):
            units.append(("sil", 1.0))
    return units
