"""``dhuman say TEXT``: speak a text with the configured voice, or write it to a WAV file.

Prints the time to first audio (from the call to the first piece's samples) and the
real-time factor (synthesis seconds per second of audio); ``--visemes`` writes the mouth
timeline and the word timings as JSON (times in seconds from the start of the utterance).

``--engine`` picks piper, espeak, kokoro or auto (Piper for English, espeak-ng for Korean);
``--language`` the language to speak (default: the settings'). Text with Hangul given to
the default Piper voice, which speaks English only, goes to the auto engine. Bad input
(empty, only emoji, far too long, an unknown voice or engine) ends with a clear message
and exit status 2 or 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import time
import wave
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable, build_role
from app.core.types import SpeechChunk

MAX_CHARS = 5000  # about six minutes of speech; longer texts belong in a file reader
ENGINES = {
    "piper": "speech.tts.piper_tts:build",
    "espeak": "speech.tts.espeak_tts:build",
    "kokoro": "speech.tts.kokoro_tts:build",
    "auto": "speech.tts.auto_tts:build",
}
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("say", help="speak a text aloud (or write it to a WAV file)")
    parser.add_argument("text", help="what to say")
    parser.add_argument("--voice", help="a voice: en_US-joe-medium, jf_alpha (kokoro), ko (espeak)")
    parser.add_argument(
        "--engine", choices=sorted(ENGINES), help="speech engine (default: settings)"
    )
    # own dest: a subcommand default would overwrite the global --language
    parser.add_argument("--language", dest="say_language", choices=["en", "ko"], help="language")
    parser.add_argument("--speed", type=float, help="speaking rate factor, e.g. 0.8 for slower")
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
    words: list[dict[str, Any]] = []
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
        for w in chunk.words:
            words.append(
                {
                    "word": w.word,
                    "start": round(offset + w.start / chunk.sample_rate, 5),
                    "end": round(offset + w.end / chunk.sample_rate, 5),
                }
            )
        offset += chunk.seconds
    return {
        "sample_rate": sample_rate,
        "seconds": round(offset, 5),
        "visemes": timeline,
        "words": words,
    }


def problem_with(text: str) -> str | None:
    """Why a text cannot be spoken at all, or None."""
    if not text.strip():
        return "nothing to say: the text is empty"
    if len(text) > MAX_CHARS:
        return (
            f"the text is too long ({len(text):,} characters; at most {MAX_CHARS:,}): "
            "split it into parts"
        )
    return None


def _build_synthesizer(settings: Settings) -> Any:
    target = ENGINES.get(settings.tts.engine)
    if target is None:
        return build_role("tts", settings)  # fake and any engine added to the registry
    module, _, name = target.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name)
    except ImportError as exc:
        raise RoleUnavailable(f"not installed in this build ({exc.name or exc})") from None
    return factory(settings)


def _configure(args: argparse.Namespace, settings: Settings, err: TextIO) -> None:
    if args.say_language:
        settings.general.language = args.say_language
    if args.engine:
        settings.tts.engine = args.engine
    if args.voice:
        settings.tts.voice = args.voice
    if settings.tts.engine == "piper" and not args.engine:
        korean = settings.general.language == "ko" or _HANGUL.search(args.text)
        if korean:
            err.write("dhuman say: the Piper voice speaks English only; using the auto engine\n")
            settings.tts.engine = "auto"


def run(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    problem = problem_with(args.text)
    if problem:
        err.write(f"dhuman say: {problem}\n")
        return 2
    _configure(args, settings, err)
    try:
        synthesizer = _build_synthesizer(settings)
        if args.speed:
            set_speed = getattr(synthesizer, "set_speed", None)
            if set_speed is None:
                err.write("dhuman say: this engine has no speed control; --speed ignored\n")
            else:
                set_speed(args.speed)
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
        err.write("dhuman say: nothing to say (no speakable words: only emoji or symbols?)\n")
        return 2
    rate = chunks[0].sample_rate
    audio_seconds = sum(c.seconds for c in chunks)
    if args.out:
        write_wav(args.out, chunks, rate)
        out.write(f"wrote {args.out} ({audio_seconds:.2f} s at {rate} Hz)\n")
    if args.visemes:
        args.visemes.write_text(json.dumps(viseme_json(chunks, rate), indent=1), "utf-8")
        out.write(f"wrote {args.visemes}\n")
    rtf = synth_seconds / audio_seconds if audio_seconds else float("nan")
    name = getattr(synthesizer, "name", settings.tts.engine)
    out.write(
        f"{name}: first audio {1000 * (first_audio or 0.0):.0f} ms, {audio_seconds:.2f} s of "
        f"speech, RTF {rtf:.3f} ({len(chunks)} piece{'s' if len(chunks) != 1 else ''})\n"
    )
    return 0
