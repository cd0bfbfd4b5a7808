"""``dhuman listen``: live captions from the microphone in the terminal.

The same listening path as a conversation (capture -> Silero turn detection ->
faster-whisper), without the avatar: partial captions overwrite one line while the
person speaks (on a terminal), each finished utterance is printed as a line of its own.
Stops after ``--seconds`` or on Ctrl-C. With no usable microphone it says which input
devices exist and how to choose one, and exits with status 3.
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TextIO

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray

LANGUAGES = ("auto", "en", "ko")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "listen",
        help="live captions from the microphone (speech recognition test)",
        description="Transcribes what the microphone hears, utterance by utterance, "
        "with interim captions while you speak. Ctrl-C stops.",
    )
    p.add_argument("--device", help="input device name or index (default: audio.input_device)")
    p.add_argument("--language", choices=LANGUAGES, help="language, or auto to detect it")
    p.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
    p.add_argument("--model", help="speech model id, e.g. whisper-tiny.en (asr.model)")
    p.add_argument("--no-partials", action="store_true", help="only print finished utterances")


class Captions:
    """Writes partial captions over one line (terminals only) and finals as lines."""

    def __init__(self, out: TextIO, partials: bool) -> None:
        self._out = out
        self._partials = partials and bool(getattr(out, "isatty", lambda: False)())
        self._lock = threading.Lock()
        self._open = False  # a partial line is on screen
        self.finals: list[str] = []

    def partial(self, text: str) -> None:
        if not self._partials:
            return
        with self._lock:
            self._out.write(f"\r\x1b[K… {text}")
            self._out.flush()
            self._open = True

    def final(self, text: str, seconds: float) -> None:
        with self._lock:
            if self._open:
                self._out.write("\r\x1b[K")
                self._open = False
            if text:
                self.finals.append(text)
                self._out.write(f"{text}  ({seconds:.1f} s)\n")
                self._out.flush()


def run(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    from speech.capture import AudioInputUnavailable, SoundDeviceSource, check_input_device

    device = args.device if args.device is not None else settings.audio.input_device
    try:
        name = check_input_device(device)
    except AudioInputUnavailable as exc:
        err.write(f"dhuman listen: {exc}\n")
        return 3
    try:
        from speech.asr.faster_whisper_asr import load_transcriber
        from speech.vad.silero import build as build_vad
    except ImportError as exc:
        err.write(
            f"dhuman listen: speech recognition is not installed ({exc.name} is missing); "
            "install it with: pip install faster-whisper\n"
        )
        return 3
    try:
        transcriber = load_transcriber(settings, args.model, args.language)
        vad = build_vad(settings)
    except RoleUnavailable as exc:
        err.write(f"dhuman listen: {exc}\n")
        return 3
    err.write(f"Listening on {name} with {transcriber.name}; Ctrl-C stops.\n")
    return _listen(args, transcriber, vad, SoundDeviceSource(device), out, err)


def _listen(
    args: argparse.Namespace,
    transcriber: Any,
    vad: Any,
    source: Any,
    out: TextIO,
    err: TextIO,
) -> int:
    from app.core.listening import UtteranceCollector
    from speech.asr.live import SpeculativeTranscriber

    captions = Captions(out, partials=not args.no_partials)
    speculative = SpeculativeTranscriber(transcriber)
    finals = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dhuman-listen")

    def finish(audio: FloatArray) -> None:
        def work() -> None:
            try:
                text = speculative.transcribe(audio, source.sample_rate, None).text
            except Exception as exc:  # keep listening; say what went wrong
                err.write(f"dhuman listen: could not transcribe: {exc}\n")
                return
            captions.final(text.strip(), len(audio) / source.sample_rate)

        finals.submit(work)

    collector = UtteranceCollector(
        vad,
        source.sample_rate,
        lambda: None,
        finish,
        speculator=speculative,
        on_partial=captions.partial,
        partial_transcriber=None if args.no_partials else transcriber,
    )
    source.on_error = lambda message: err.write(f"dhuman listen: {message}\n")
    source.on_recover = lambda message: err.write(f"dhuman listen: {message}\n")
    try:
        source.start(collector.feed)
    except Exception as exc:  # AudioInputUnavailable: the device went away since the check
        err.write(f"dhuman listen: {exc}\n")
        return 3
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        source.stop()
        collector.close()
        finals.shutdown(wait=True)
        speculative.close()
    return 0
