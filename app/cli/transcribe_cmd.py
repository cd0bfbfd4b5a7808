"""``dhuman transcribe FILE``: run the configured speech recognizer on a sound file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, TextIO

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray

LANGUAGES = ("auto", "en", "ko")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "transcribe",
        help="transcribe a WAV (or FLAC) file with the speech recognizer",
        description="Prints the transcript, the language and the real-time factor "
        "(processing seconds per second of audio; below 1 is faster than real time).",
    )
    p.add_argument(
        "file", metavar="FILE", help="a .wav file (or .flac when soundfile is installed)"
    )
    p.add_argument("--model", help="model id, e.g. whisper-base or whisper-tiny.en (asr.model)")
    p.add_argument("--language", choices=LANGUAGES, help="language, or auto to detect it")
    p.add_argument(
        "--beam-size", type=int, default=None, help="decoding beam (default 2; 1 is fastest)"
    )


def read_audio(path: Path) -> tuple[FloatArray, int]:
    """WAV through the stdlib; other formats through soundfile when it is installed."""
    from speech.asr.audio import read_wav, to_mono_float32

    if path.suffix.lower() == ".wav":
        return read_wav(path)
    try:
        import soundfile
    except ImportError:
        raise ValueError(
            f"{path.name}: only .wav files can be read here (install soundfile for others)"
        ) from None
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=False)
    return to_mono_float32(data), int(rate)


def run(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    path = Path(args.file)
    if not path.is_file():
        err.write(f"dhuman transcribe: no such file: {path}\n")
        return 2
    try:
        audio, rate = read_audio(path)
    except Exception as exc:  # wave.Error, EOFError, soundfile's errors: no common base
        err.write(f"dhuman transcribe: cannot read {path}: {exc}\n")
        return 2
    try:
        from speech.asr.faster_whisper_asr import WhisperOptions, load_transcriber
    except ImportError as exc:
        err.write(
            f"dhuman transcribe: speech recognition is not installed ({exc.name} is missing); "
            "install it with: pip install faster-whisper\n"
        )
        return 3
    options = WhisperOptions(beam_size=args.beam_size) if args.beam_size else None
    model_id = args.model or settings.asr.model
    try:
        transcriber = load_transcriber(settings, model_id, args.language, options)
    except RoleUnavailable as exc:
        err.write(f"dhuman transcribe: {exc}\n")
        return 3
    result = transcriber.transcribe_timed(audio, rate)
    transcript = result.transcript
    out.write(f"{transcript.text}\n")
    out.write(
        f"language: {transcript.language or '?'}"
        f" (p={result.language_probability:.2f})"
        f"  model: {model_id}  audio: {transcript.audio_seconds:.2f} s"
        f"  time: {result.seconds:.2f} s  RTF: {result.rtf:.3f}\n"
    )
    out.flush()
    return 0
