"""End of speech -> final transcript, through the real audio path and a real Session.

Real speech phrases (cut from the moonshine-voice clips at their pauses) are played into
``micfeed`` one at a time; the app side is the real :class:`SoundDeviceSource` on
``vmic`` feeding a :class:`Session` (fake chat, no voice) with real Silero VAD and real
faster-whisper. Latency = the ``FinalTranscript`` event's time - the true end of the
phrase's speech (its last 10 ms within 35 dB of the clip's peak) as it reached
``micfeed``: one ``time.monotonic()`` clock on both sides (PortAudio DAC time of the
stimulus, converted). Also shown: the VAD's decision (``UserStoppedSpeaking``) and how
many finals a speculative transcription answered.

The session is wired the way the listening report recommends: its collector is built
with ``speculator=`` (and ``endpoint_ms=`` when given); until ``Session`` does this
itself the bench swaps the collector in. Run on a private PulseAudio server::

    XDG_RUNTIME_DIR=/tmp/dhuman-xdg-bench . scripts/virtual-devices.sh start
    python bench/listen_latency.py [--models whisper-base whisper-tiny.en] [--stop-ms 400]
        [--no-speculation] [--endpoint-ms 400 --stop-ms 1200] [--utterances 24]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import Settings
from app.core import events as ev
from app.core.fakes import FakeChat
from app.core.listening import UtteranceCollector
from app.core.registry import Roles
from app.core.session import Session
from dialog.persona import load_persona
from speech.asr.faster_whisper_asr import load_transcriber
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


def run_model(model: str, args: argparse.Namespace) -> None:
    from speech.capture import SoundDeviceSource
    from speech.vad.silero import build as build_vad

    settings = Settings()
    settings.vad.stop_ms = args.stop_ms
    whisper = load_transcriber(settings, model, "en")
    phrases = clip_phrases(48000)
    whisper.transcribe(phrases[0].samples[::3], 16000)  # warm-up
    transcriber = whisper if args.no_speculation else SpeculativeTranscriber(whisper)
    vad = build_vad(settings)
    session = Session(
        Roles(chat=FakeChat("Okay."), transcriber=transcriber, vad=vad), load_persona("default")
    )
    session._collector = UtteranceCollector(  # the recommended wiring (see the docstring)
        vad,
        16000,
        session._vad_started,
        session._vad_utterance,
        speculator=None if args.no_speculation else transcriber,  # type: ignore[arg-type]
        endpoint_ms=args.endpoint_ms,
        speculate_ms=args.speculate_ms,
    )
    events = Events()
    session.subscribe(events)
    session.start()
    source = SoundDeviceSource()
    source.start(session.feed_audio)
    feed = MicFeed()
    rows = []
    try:
        time.sleep(1.5)
        for k in range(args.utterances):
            phrase = phrases[k % len(phrases)]
            finals_before, stops_before = len(events.finals), len(events.stops)
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
            rows.append((finals[-1].ts - speech_end, stops[-1].ts - speech_end if stops else 0.0))
            text = " | ".join(f.text for f in finals)
            print(f"  {1000 * rows[-1][0]:5.0f} ms  ({len(finals)} final) {text}")
            time.sleep(args.gap_s)
    finally:
        source.stop()
        feed.close()
        session.close()
    latency = [1000 * r[0] for r in rows]
    decided = [1000 * r[1] for r in rows]
    reused = getattr(transcriber, "reused", 0)
    print(
        f"{model}: {len(rows)} utterances; end of speech -> final transcript p50 "
        f"{statistics.median(latency):.0f} ms p95 {percentile(latency, 95):.0f} ms; -> VAD "
        f"stop p50 {statistics.median(decided):.0f} ms; speculation answered {reused}"
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
    parser.add_argument("--utterances", type=int, default=24)
    parser.add_argument("--stop-ms", type=int, default=400)
    parser.add_argument("--endpoint-ms", type=float, default=None)
    parser.add_argument("--no-speculation", action="store_true")
    parser.add_argument("--speculate-ms", type=float, default=32.0, help="pause before it")
    parser.add_argument("--gap-s", type=float, default=1.0)
    parser.add_argument("--wer", action="store_true", help="offline endpoint/WER sweep only")
    args = parser.parse_args()
    if args.wer:
        for model in args.models:
            wer_sweep(model)
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
