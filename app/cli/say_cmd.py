"""``dhuman say TEXT``: speak a text with the configured voice, or write it to a WAV file.

Prints the time to first audio (from the call to the first sentence's samples) and the
real-time factor (synthesis seconds per second of audio); ``--visemes`` writes the mouth
timeline as JSON (times in seconds from the start of the whole utterance).
"""

from __future__ import annotations

import argparse
import json
import time
import wave
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable, build_role
from app.core.types import SpeechChunk


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("say", help="speak a text aloud (or write it to a WAV file)")
    parser.add_argument("text", help="what to say")
    parser.add_argument("--voice", help="a voice name, e.g. en_US-joe-medium")
    parser.add_argument("--out", type=Path, help="write a WAV file instead of playing")
    parser.add_argument("--visemes", type=Path, help="write the viseme timeline as JSON")


def write_wav(path: Path, chunks: list[SpeechChunk], sample_rate: int) -> None:
    audio = np.concatenate([c.samples for c in chunks]) if chunks else np.zeros(0, np.float32)
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())


def viseme_json(chunks: list[SpeechChunk], sample_rate: int) -> dict[str, Any]:
    offset = 0.0
    timeline: list[dict[str, Any]] = []
    for chunk in chunks:
        for v in chunk.visemes:
            timeline.append(
                {
                    "viseme": v.name,
                    "start": round(offset + v.start, 5),
                    "duration": round(v.duration, 5),
                    "weight": v.weight,
                }
            )
        offset += chunk.seconds
    return {"sample_rate": sample_rate, "seconds": round(offset, 5), "visemes": timeline}


def run(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    if args.voice:
        settings.tts.voice = args.voice
    try:
        synthesizer = build_role("tts", settings)
        sink = None if args.out else build_role("sink", settings)
    except RoleUnavailable as exc:
        err.write(f"dhuman say: {exc}\n")
        return 1

    chunks: list[SpeechChunk] = []
    started = time.perf_counter()
    first_audio: float | None = None
    try:
        for chunk in synthesizer.synthesize(args.text, settings.general.language):
            if first_audio is None:
                first_audio = time.perf_counter() - started
            chunks.append(chunk)
            if sink is not None:
                sink.play(chunk)
        synth_seconds = time.perf_counter() - started
        if sink is not None:
            sink.wait_done(timeout=sum(c.seconds for c in chunks) + 5.0)
    except KeyboardInterrupt:
        if sink is not None:
            report = sink.stop()
            err.write(f"stopped after {report.heard_seconds:.2f} s\n")
        return 130
    finally:
        if sink is not None:
            close = getattr(sink, "close", None)
            if close is not None:
                close()

    if not chunks:
        err.write("dhuman say: nothing to say\n")
        return 1
    rate = chunks[0].sample_rate
    audio_seconds = sum(c.seconds for c in chunks)
    if args.out:
        write_wav(args.out, chunks, rate)
        out.write(f"wrote {args.out} ({audio_seconds:.2f} s at {rate} Hz)\n")
    if args.visemes:
        args.visemes.write_text(json.dumps(viseme_json(chunks, rate), indent=1), "utf-8")
        out.write(f"wrote {args.visemes}\n")
    rtf = synth_seconds / audio_seconds if audio_seconds else float("nan")
    out.write(
        f"first audio {1000 * (first_audio or 0.0):.0f} ms, {audio_seconds:.2f} s of speech, "
        f"RTF {rtf:.3f} ({len(chunks)} sentence{'s' if len(chunks) != 1 else ''})\n"
    )
    return 0
