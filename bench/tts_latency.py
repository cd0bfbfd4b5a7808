"""Piper speech synthesis: time to first audio and real-time factor.

Time to first audio: from ``synthesize()`` to the first sentence's samples (what a
conversation waits for before the avatar starts speaking). RTF: synthesis seconds per
second of audio for the whole text (below 1 keeps ahead of playback). The voice is loaded
and warmed up first (its load time is printed apart); each case runs ``--runs`` times and
reports the median and the worst.

Run from the repository root: ``python bench/tts_latency.py [--runs 10]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from speech.tts.piper_tts import build

CASES = {
    "12-word sentence": "Hello, I am your guide and I can help you find rooms.",
    "paragraph (5 sentences)": (
        "Welcome to the city museum. The exhibition on the second floor shows paintings "
        "from the early twentieth century. Audio guides are available at the front desk, "
        "in English and in Korean. The cafe on the ground floor is open until six in the "
        "evening. Please ask me if you need directions to any room."
    ),
}


def measure(synthesizer: object, text: str) -> tuple[float, float, float, int]:
    started = time.perf_counter()
    first = None
    audio = 0.0
    sentences = 0
    for chunk in synthesizer.synthesize(text):  # type: ignore[attr-defined]
        if first is None:
            first = time.perf_counter() - started
        audio += chunk.seconds
        sentences += 1
    total = time.perf_counter() - started
    return first or total, total / audio, audio, sentences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    synthesizer = build(Settings())
    print(f"voice load + warm-up: {time.perf_counter() - started:.2f} s")
    for name, text in CASES.items():
        results = [measure(synthesizer, text) for _ in range(args.runs)]
        firsts = [1000 * r[0] for r in results]
        rtfs = [r[1] for r in results]
        audio, sentences = results[0][2], results[0][3]
        print(
            f"{name}: {len(text.split())} words, {sentences} sentence(s), {audio:.2f} s audio | "
            f"first audio median {statistics.median(firsts):.0f} ms (max {max(firsts):.0f}) | "
            f"RTF median {statistics.median(rtfs):.3f} (max {max(rtfs):.3f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
