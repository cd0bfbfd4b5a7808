"""End of speech -> final transcript, through the real audio path and a real Session.

Real speech phrases (cut from the moonshine-voice clips at their pauses) are played into
``micfeed`` one at a time; the app side is the real :class:`SoundDeviceSource` on
``vmic`` feeding a :class:`Session` (fake chat, no voice) with real Silero VAD and real
faster-whisper. Latency = the ``FinalTranscript`` event's time - the true end of the
phrase's speech (its last 10 ms within 35 dB of the clip's peak) as it reached
``micfeed``: one ``time.monotonic()`` clock on both sides (PortAudio DAC time of the
stimulus, converted). Also shown: the VAD's decision (``UserStoppedSpeaking``) and how
many finals a speculative transcription answered, and where the time goes: every decode
is timed (``TimedTranscriber``), so each utterance shows when its last speculation
started and how long it decoded, against the VAD's stop.

``--structure`` measures the same path offline, in AUDIO time (independent of the
machine's load): each phrase, padded with silence, through Silero + the collector; it
reports speech end -> the surviving speculation's start and -> the VAD's stop in samples,
the speculations thrown away by a resumed voice, and the decode time of the surviving
speculation (wall time of one decode with nothing else running in this process).

The session is wired the way the listening report recommends: its collector is built
with ``speculator=`` (and ``endpoint_ms=`` when given); until ``Session`` does this
itself the bench swaps the collector in. Run on a private PulseAudio server::

    XDG_RUNTIME_DIR=/tmp/dhuman-xdg-bench . scripts/virtual-devices.sh start
    python bench/listen_latency.py [--models whisper-base whisper-tiny.en] [--stop-ms 400]
        [--no-speculation] [--endpoint-ms 400 --stop-ms 1200] [--utterances 24]
        [--session-wiring] [--structure] [--speculative-beam 1] [--language auto]
        [--window 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from app.core import events as ev
from app.core.fakes import FakeChat
from app.core.listening import UtteranceCollector
from app.core.registry import Roles
from app.core.session import Session
from app.core.types import FloatArray, Transcript
from dialog.persona import load_persona
from speech.asr.faster_whisper_asr import WhisperOptions, load_transcriber
from speech.asr.live import SpeculativeTranscriber
from tests.support.pulse import MicFeed, clip_phrases, percentile, pulse_problem


class Events:
    def __init__(self) -> None:
        self.finals: list[ev.FinalTranscript] = []
        self.stops: list[ev.UserStoppedSpeaking] = []
        self.changed = threading.Event()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.FinalTranscript):
            self.finals.append(event)
            self.changed.set()
        elif isinstance(event, ev.UserStoppedSpeaking):
            self.stops.append(event)


class TimedTranscriber:
    """Times every decode of the wrapped transcriber: (start, end, audio seconds, kind)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[float, float, float, str]] = []
        self._lock = threading.Lock()

    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        return self._timed("final", self.inner.transcribe, audio, sample_rate, language)

    def transcribe_partial(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        return self._timed("partial", self.inner.transcribe_partial, audio, sample_rate, language)

    def transcribe_speculative(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        call = self.inner.transcribe_speculative
        return self._timed("final", call, audio, sample_rate, language)

    def _timed(self, kind: str, call: Any, audio: FloatArray, rate: int, lang: Any) -> Transcript:
        began = time.monotonic()
        result: Transcript = call(audio, rate, lang)
        with self._lock:
            self.calls.append((began, time.monotonic(), len(audio) / rate, kind))
        return result


def run_model(model: str, args: argparse.Namespace) -> None:
    from speech.capture import SoundDeviceSource
    from speech.vad.silero import build as build_vad

    settings = Settings()
    settings.vad.stop_ms = args.stop_ms
    options = WhisperOptions(speculative_beam=args.speculative_beam, encoder_window_s=args.window)
    # "auto" (the app's default) detects the language in each decode; tiny.en is English only
    language = args.language if model != "whisper-tiny.en" else "en"
    whisper = load_transcriber(settings, model, language, options)
    phrases = clip_phrases(48000)
    whisper.transcribe(phrases[0].samples[::3], 16000)  # warm-up
    timed = TimedTranscriber(whisper)
    transcriber: Any = timed if args.no_speculation else SpeculativeTranscriber(timed)
    vad = build_vad(settings)
    session = Session(
        Roles(chat=FakeChat("Okay."), transcriber=transcriber, vad=vad),
        load_persona("default"),
        partials=args.session_wiring,
    )
    if not args.session_wiring:  # speculation without partial captions competing for the CPU
        session._collector = UtteranceCollector(
            vad,
            16000,
            session._vad_started,
            session._vad_utterance,
            speculator=None if args.no_speculation else transcriber,
            endpoint_ms=args.endpoint_ms,
            speculate_ms=args.speculate_ms,
        )
    events = Events()
    session.subscribe(events)
    session.start()
    source = SoundDeviceSource()
    source.start(session.feed_audio)
    feed = MicFeed()
    rows: list[tuple[float, float, float, float, int]] = []
    try:
        time.sleep(1.5)
        for k in range(args.utterances):
            phrase = phrases[k % len(phrases)]
            finals_before, stops_before = len(events.finals), len(events.stops)
            calls_before = len(timed.calls)
            events.changed.clear()
            item = feed.play(phrase.samples, phrase.onset)
            item.done.wait(10)
            deadline = time.monotonic() + 10
            while len(events.finals) == finals_before and time.monotonic() < deadline:
                events.changed.wait(0.1)
            time.sleep(0.8)  # a late second utterance (a split phrase) shows up here
            assert item.onset_time is not None
            speech_end = item.onset_time + (phrase.end - phrase.onset) / phrase.rate
            finals = events.finals[finals_before:]
            stops = events.stops[stops_before:]
            if not finals:
                print(f"  {phrase.name}: no transcript")
                continue
            final_at = finals[-1].ts
            # the decode that produced the final: the last one that ended before it
            decodes = [c for c in timed.calls[calls_before:] if c[3] == "final"]
            answering = [c for c in decodes if c[1] <= final_at + 0.005]
            began, ended = answering[-1][:2] if answering else (final_at, final_at)
            rows.append(
                (
                    final_at - speech_end,
                    stops[-1].ts - speech_end if stops else 0.0,
                    began - speech_end,
                    ended - began,
                    len(decodes),
                )
            )
            text = " | ".join(f.text for f in finals)
            print(
                f"  final {1000 * rows[-1][0]:5.0f} ms  VAD stop {1000 * rows[-1][1]:4.0f}  "
                f"its decode {1000 * rows[-1][2]:4.0f} + {1000 * rows[-1][3]:3.0f} ms  "
                f"decodes {rows[-1][4]}  ({len(finals)} final) {text}"
            )
            time.sleep(args.gap_s)
    finally:
        source.stop()
        feed.close()
        session.close()

    def p(column: int) -> str:
        ms = [1000 * r[column] for r in rows]
        return f"p50 {statistics.median(ms):.0f} p95 {percentile(ms, 95):.0f} ms"

    reused = getattr(transcriber, "reused", 0)
    total = sum(r[4] for r in rows)
    print(
        f"{model}: {len(rows)} utterances; end of speech -> final transcript {p(0)}; "
        f"-> VAD stop {p(1)}; -> start of the answering decode {p(2)}, which took {p(3)}; "
        f"speculation answered {reused}; {total} decodes in all"
    )


class _Immediate:
    """A speculator that decodes at once (offline: the audio arrives faster than real
    time, so a real background speculation would always be late)."""

    def __init__(self, transcriber: object) -> None:
        self.inner = SpeculativeTranscriber(transcriber)  # type: ignore[arg-type]

    def speculate(self, audio: object, sample_rate: int) -> object:
        spec = self.inner.speculate(audio, sample_rate)  # type: ignore[arg-type]
        spec.future.result()
        return spec

    def discard(self, speculation: object) -> None:
        self.inner.discard(speculation)  # type: ignore[arg-type]

    def confirm(self, speculation: object, final_audio: object) -> None:
        self.inner.confirm(speculation, final_audio)  # type: ignore[arg-type]


class _Probe:
    """A speculator that notes where (in samples) each speculation starts and decodes it
    at once, timing the decode; ``final`` is the speculation the turn confirmed."""

    def __init__(self, transcriber: Any, position: Any) -> None:
        self.transcriber = transcriber
        self.position = position
        self.made: list[tuple[int, float]] = []  # (sample, decode seconds)
        self.discarded = 0
        self.final: tuple[int, float] | None = None

    def speculate(self, audio: FloatArray, sample_rate: int) -> tuple[int, float]:
        began = time.perf_counter()
        call = getattr(self.transcriber, "transcribe_speculative", self.transcriber.transcribe)
        call(audio, sample_rate)
        made = (self.position(), time.perf_counter() - began)
        self.made.append(made)
        return made

    def discard(self, speculation: Any) -> None:
        self.discarded += 1

    def confirm(self, speculation: Any, final_audio: FloatArray) -> None:
        self.final = speculation


def _structure_one(
    phrase: Any, whisper: Any, args: argparse.Namespace
) -> tuple[float, float, float, int, float] | None:
    """One phrase through Silero + the collector: (speculation start, VAD stop) in ms of
    audio after the speech end, the decode's wall ms, thrown-away speculations and their ms."""
    import numpy as np

    from speech.vad.silero import SileroVoiceActivity, VadParams

    lead = 16000
    padded = np.concatenate(
        [np.zeros(lead, np.float32), phrase.samples, np.zeros(3 * 16000, np.float32)]
    )
    fed = [0]
    stops: list[int] = []
    probe = _Probe(whisper, lambda: fed[0])
    collector = UtteranceCollector(
        SileroVoiceActivity(VadParams(stop_ms=args.stop_ms)),
        16000,
        lambda: None,
        lambda audio: stops.append(fed[0]),
        speculator=probe,
        speculate_ms=args.speculate_ms,
    )
    for i in range(0, len(padded) - 511, 512):
        fed[0] = i + 512
        collector.feed(padded[i : i + 512])
        if stops:
            break
    end = lead + phrase.end
    if not stops or probe.final is None:
        return None
    spec, decode = probe.final
    wasted = [d for made in probe.made if made != probe.final for d in [made[1]]]
    return (spec - end) / 16, (stops[0] - end) / 16, 1000 * decode, len(wasted), 1000 * sum(wasted)


def structure(model: str, args: argparse.Namespace) -> None:
    """Offline: where the end-of-speech -> final latency goes, in audio time."""
    options = WhisperOptions(speculative_beam=args.speculative_beam, encoder_window_s=args.window)
    whisper = load_transcriber(Settings(), model, "en", options)
    phrases = clip_phrases(16000)
    whisper.transcribe(phrases[0].samples, 16000)  # warm-up
    rows = []
    for k in range(args.utterances):
        phrase = phrases[k % len(phrases)]
        row = _structure_one(phrase, whisper, args)
        if row is None:
            print(f"  {phrase.name}: no utterance / no speculation")
        else:
            rows.append(row)
    cols = list(zip(*rows, strict=True))

    def p(values: Any) -> str:
        v = list(values)
        return f"p50 {statistics.median(v):4.0f} p95 {percentile(v, 95):4.0f}"

    predicted = [max(r[1], r[0] + r[2]) for r in rows]
    print(
        f"{model}, stop_ms {args.stop_ms}, speculate after {args.speculate_ms:g} ms, "
        f"{len(rows)} phrases (ms):\n"
        f"  audio time: speech end -> the answering speculation starts {p(cols[0])}\n"
        f"  audio time: speech end -> VAD stop                         {p(cols[1])}\n"
        f"  wall time:  that speculation's decode                      {p(cols[2])}\n"
        f"  thrown-away speculations per phrase {statistics.mean(cols[3]):.2f} "
        f"(their decodes {p(cols[4])})\n"
        f"  => final if decoding overlaps the wait: max(stop, start + decode) {p(predicted)}"
    )


def wer_sweep(model: str) -> None:
    """Offline: each whole clip through Silero + the collector at several endpoints;
    the transcripts of its utterances joined, scored against the reference."""
    import numpy as np

    from speech.asr.audio import read_wav, resample
    from speech.vad.silero import SileroVoiceActivity, VadParams
    from tests.support.speech_clips import load_clips, wer

    whisper = load_transcriber(Settings(), model, "en")
    clips = [(c, resample(*read_wav(c.path))) for c in load_clips()]
    configs: list[tuple[str, int, float | None]] = [
        ("stop 400", 400, None),
        ("stop 500", 500, None),
        ("stop 800", 800, None),
        ("stop 1200", 1200, None),
        ("stop 1200 + endpoint 400 at '.?!'", 1200, 400.0),
    ]
    print(f"{model}: WER (independent clips) / all clips, utterances, per config")
    for label, stop_ms, endpoint in configs:
        scores, independent, parts = [], [], 0
        for clip, audio in clips:
            padded = np.concatenate(
                [np.zeros(16000, np.float32), audio, np.zeros(32000, np.float32)]
            )
            utterances: list[np.ndarray] = []
            speculator = _Immediate(whisper) if endpoint else None
            collector = UtteranceCollector(
                SileroVoiceActivity(VadParams(stop_ms=stop_ms)),
                16000,
                lambda: None,
                utterances.append,
                speculator=speculator,  # type: ignore[arg-type]
                endpoint_ms=endpoint,
            )
            for i in range(0, len(padded) - 511, 512):
                collector.feed(padded[i : i + 512])
            text = " ".join(whisper.transcribe(u, 16000).text for u in utterances)
            score = wer(clip.text, text)
            scores.append(score)
            if clip.independent:
                independent.append(score)
            parts += len(utterances)
        print(
            f"  {label:36} WER {100 * np.mean(independent):5.1f} % / {100 * np.mean(scores):5.1f} %"
            f"  utterances {parts}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", default=["whisper-base", "whisper-tiny.en"])
    parser.add_argument("--language", choices=["en", "ko", "auto"], default="en")
    # asr.encoder_window_s (0: Whisper's 30 s window for every utterance)
    parser.add_argument("--window", type=float, default=Settings().asr.encoder_window_s)
    parser.add_argument("--utterances", type=int, default=24)
    parser.add_argument("--stop-ms", type=int, default=400)
    parser.add_argument("--endpoint-ms", type=float, default=None)
    parser.add_argument("--no-speculation", action="store_true")
    parser.add_argument("--speculate-ms", type=float, default=32.0, help="pause before it")
    parser.add_argument("--gap-s", type=float, default=1.0)
    parser.add_argument(
        "--session-wiring", action="store_true", help="the session's own collector (partials on)"
    )
    parser.add_argument("--structure", action="store_true", help="offline, in audio time")
    parser.add_argument(
        "--speculative-beam", type=int, default=None, help="beam of the pass at the pause"
    )
    parser.add_argument("--wer", action="store_true", help="offline endpoint/WER sweep only")
    args = parser.parse_args()
    if args.wer:
        for model in args.models:
            wer_sweep(model)
        return 0
    if args.structure:
        for model in args.models:
            structure(model, args)
        return 0
    problem = pulse_problem()
    if problem:
        print(problem)
        return 2
    print(
        f"stop_ms {args.stop_ms}, endpoint_ms {args.endpoint_ms}, speculation "
        f"{'off' if args.no_speculation else f'after {args.speculate_ms:g} ms of pause'}"
    )
    for model in args.models:
        run_model(model, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
