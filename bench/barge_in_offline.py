"""Barge-in over the echo in AUDIO time: record the loopback once, replay it deterministically.

``bench/barge_in_echo.py`` measures on the wall clock, which a loaded machine inflates
(the capture thread falls behind and a decision waits for CPU). This bench separates the
two: the detector's delay is counted in microphone samples, so it is the same on a busy
or an idle machine.

1. **record** (real devices): the avatar (the real :class:`SoundDeviceSink`, Piper) talks
   through ``module-loopback spk.monitor -> micfeed`` (30 ms), first ``--quiet-s`` alone,
   then ``--turns`` short turns (a new turn every ``turn_s``, like the session after each
   barge-in). Logged: every reference block the sink wrote (write time, DAC time,
   samples) and every 16 kHz microphone frame with its arrival time. Nothing else is
   playing: the person is added in step 2. The recording (~30 MB) goes to a temporary
   folder, never into the repository.
2. **replay** (offline, deterministic): real speech phrases (moonshine-voice clips) are
   added to the recorded microphone at known samples, ``--lead-s`` into each turn, at
   ``--ser-db`` over the echo's active level (``micfeed`` sums its inputs, so adding them
   here is what playing them there does, minus its timing jitter). Reference blocks and
   frames go to a fresh :class:`EchoGate` and the real :class:`UtteranceCollector`
   (Silero VAD) in the order they happened, with the recorded arrival times. A start
   inside a phrase is a detection, measured from the phrase's onset to the end of the
   frame that decided (what the capture thread could know at the earliest); any other
   start is a false barge-in. The recording is also replayed with no person at all.

    XDG_RUNTIME_DIR=/tmp/dhuman-xdg-bench . scripts/virtual-devices.sh start
    python bench/barge_in_offline.py [--recording DIR] [--keep] [--ser-db 0 -5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.core.listening import UtteranceCollector
from app.core.types import FloatArray
from speech.barge_in import FRAME, RATE, EchoGate, GateParams, GateResult
from speech.echo_gate import PlaybackReference
from tests.support.pulse import Phrase, active_rms, p56_onset, percentile

# --------------------------------------------------------------------- the recording


@dataclass
class Recording:
    """What the microphone heard and what the speaker played, with their times."""

    mic: FloatArray  # 16 kHz, whole frames
    arrivals: np.ndarray  # time.monotonic() at which each FRAME-sample frame was delivered
    ref_blocks: FloatArray  # the sink's blocks, back to back
    ref_lengths: np.ndarray  # samples per block
    ref_dac: np.ndarray  # DAC time of each block's first sample
    ref_written: np.ndarray  # time.monotonic() at which each block was written
    ref_rate: int
    quiet_frames: int  # frames of the avatar talking alone (before the turns)
    turn_starts: np.ndarray  # microphone sample where each turn's echo begins

    def save(self, folder: Path) -> Path:
        path = folder / "barge_in_recording.npz"
        np.savez(
            path,
            mic=self.mic,
            arrivals=self.arrivals,
            ref_blocks=self.ref_blocks,
            ref_lengths=self.ref_lengths,
            ref_dac=self.ref_dac,
            ref_written=self.ref_written,
            ref_rate=self.ref_rate,
            quiet_frames=self.quiet_frames,
            turn_starts=self.turn_starts,
        )
        return path

    @classmethod
    def load(cls, folder: Path) -> Recording:
        data = np.load(folder / "barge_in_recording.npz")
        return cls(
            mic=data["mic"],
            arrivals=data["arrivals"],
            ref_blocks=data["ref_blocks"],
            ref_lengths=data["ref_lengths"],
            ref_dac=data["ref_dac"],
            ref_written=data["ref_written"],
            ref_rate=int(data["ref_rate"]),
            quiet_frames=int(data["quiet_frames"]),
            turn_starts=data["turn_starts"],
        )

    def events(self, mic: FloatArray | None = None) -> Iterator[tuple[str, int, float]]:
        """("ref", block, DAC time) and ("mic", frame, arrival) in the order they happened."""
        signal = self.mic if mic is None else mic
        frames = len(signal) // FRAME
        r, m = 0, 0
        while m < frames:
            if r < len(self.ref_written) and self.ref_written[r] <= self.arrivals[m]:
                yield "ref", r, float(self.ref_dac[r])
                r += 1
            else:
                yield "mic", m, float(self.arrivals[m])
                m += 1


class _ReferenceTap:
    """Stands in for the sink's :class:`PlaybackReference`: logs each block, passes it on."""

    def __init__(self, inner: PlaybackReference) -> None:
        self.inner = inner
        self.log: list[tuple[float, float, FloatArray]] = []
        self.rate = 0

    def write(self, block: FloatArray, dac_time: float, rate: int) -> None:
        self.log.append((time.monotonic(), dac_time, np.array(block, dtype=np.float32)))
        self.rate = rate
        self.inner.write(block, dac_time, rate)


def record(quiet_s: float, turns: int, turn_s: float, pause_s: float) -> Recording:
    """Play the avatar through the real loopback and log both sides (see the docstring)."""
    from app.core.types import SpeechChunk
    from speech.capture import SoundDeviceSource
    from speech.playback import SoundDeviceSink
    from tests.support.pulse import avatar_speech, echo_loopback, wait_until

    avatar, rate, _ = avatar_speech(quiet_s + turns * turn_s + 5.0)
    sink = SoundDeviceSink()
    tap = _ReferenceTap(sink.reference)
    sink.reference = tap  # type: ignore[assignment]
    frames: list[tuple[float, FloatArray]] = []
    lock = threading.Lock()

    def heard(frame: FloatArray) -> None:
        with lock:
            frames.append((time.monotonic(), np.array(frame, dtype=np.float32)))

    cursor = 0
    talk_times: list[float] = []

    def talk(seconds: float) -> None:
        nonlocal cursor
        sink.stop()
        talk_times.append(time.monotonic())
        end = min(len(avatar), cursor + int(seconds * rate))
        for i in range(cursor, end, rate):  # 1 s pieces, as synthesis hands them
            sink.play(SpeechChunk(avatar[i : min(i + rate, end)], rate))
        cursor = end

    source = SoundDeviceSource()
    with echo_loopback(30):
        try:
            source.start(heard)
            time.sleep(1.0)
            began = time.monotonic()
            talk(quiet_s)
            wait_until(began + quiet_s + pause_s)
            for _ in range(turns):
                began = time.monotonic()
                talk(turn_s)
                wait_until(began + turn_s + pause_s)
            sink.stop()
            time.sleep(0.5)
        finally:
            source.stop()
            sink.close()
    with lock:
        arrivals = np.array([t for t, _ in frames])
        mic = np.concatenate([f for _, f in frames])
    blocks = [b for _, _, b in tap.log]
    written = np.array([w for w, _, _ in tap.log])
    dac = np.array([d for _, d, _ in tap.log])
    # each turn's echo begins when its first sound reached the DAC (+ the loop), mapped to
    # the microphone frame delivered then; the trials only need it to a frame or two
    starts = []
    for talked in talk_times:
        sounding = [i for i, b in enumerate(blocks) if written[i] >= talked and np.any(b)]
        first_dac = dac[sounding[0]] if sounding else talked
        frame = int(np.searchsorted(arrivals, first_dac + 0.03 + FRAME / RATE))
        starts.append(frame * FRAME)
    return Recording(
        mic=mic,
        arrivals=arrivals,
        ref_blocks=np.concatenate(blocks),
        ref_lengths=np.array([len(b) for b in blocks]),
        ref_dac=dac,
        ref_written=written,
        ref_rate=tap.rate,
        quiet_frames=int(starts[1] // FRAME) if len(starts) > 1 else len(arrivals),
        turn_starts=np.array(starts[1:]),
    )


# ------------------------------------------------------------------------ the replay


@dataclass(frozen=True)
class Trial:
    name: str
    onset: int  # microphone sample of the first audible 10 ms
    p56: int  # microphone sample of the P.56 onset
    end: int  # microphone sample after the last audible 10 ms


@dataclass
class Replay:
    """Starts (sample at the end of the deciding frame) and what they were."""

    starts: list[int]
    trials: list[Trial]
    latencies: list[float] = field(default_factory=list)  # first audible -> start, s
    p56_latencies: list[float] = field(default_factory=list)
    missed: int = 0
    false_starts: list[int] = field(default_factory=list)
    avatar_seconds: float = 0.0  # echo without a person over it
    seconds: float = 0.0  # replay CPU time


def mix_trials(
    recording: Recording,
    phrases: list[Phrase],
    ser_db: float,
    lead_s: float,
    first: int = 0,
) -> tuple[FloatArray, list[Trial]]:
    """The microphone with phrase ``first + k`` starting ``lead_s`` into turn ``k`` (plus a
    random part of a frame: the onset must not always fall at the same point of a frame)."""
    mic = recording.mic.copy()
    rng = np.random.default_rng(first)
    echo_level = active_rms(recording.mic[: recording.quiet_frames * FRAME], RATE)
    trials = []
    for k, turn in enumerate(recording.turn_starts):
        phrase = phrases[(first + k) % len(phrases)]
        gain = echo_level * 10 ** (ser_db / 20) / active_rms(phrase.samples, phrase.rate)
        at = int(turn) + int(lead_s * RATE) + int(rng.integers(FRAME)) - phrase.onset
        if at < 0 or at + len(phrase.samples) > len(mic):
            continue
        mic[at : at + len(phrase.samples)] += gain * phrase.samples
        trials.append(Trial(phrase.name, at + phrase.onset, at + _p56(phrase), at + phrase.end))
    return mic, trials


def _p56(phrase: Phrase) -> int:
    """The P.56 onset counted from the first audible one on (a phrase's lead-in may hold
    the tail of the words before it, which must not count as its onset)."""
    tail = Phrase(phrase.name, phrase.samples[phrase.onset :], phrase.rate, 0)
    return phrase.onset + p56_onset(tail)


class _RecordedGate:
    """The real gate, handed the recorded arrival time instead of the replay's clock."""

    def __init__(self, gate: EchoGate) -> None:
        self.gate = gate
        self.arrival = 0.0
        self.results: list[GateResult] = []

    def process(self, frame: FloatArray, arrival: float | None = None) -> GateResult:
        result = self.gate.process(frame, self.arrival)
        self.results.append(result)
        return result


def replay(
    recording: Recording,
    mic: FloatArray,
    trials: list[Trial],
    params: GateParams | None = None,
    make_probability: Callable[[], Any] | None = None,
    make_vad: Callable[[], Any] | None = None,
) -> Replay:
    """Feed the recording through a fresh gate and collector; score the starts."""
    if make_probability is None or make_vad is None:
        from speech.vad.silero import SileroProbabilities, SileroVoiceActivity

        make_probability = make_probability or SileroProbabilities
        make_vad = make_vad or SileroVoiceActivity
    reference = PlaybackReference()
    gate = _RecordedGate(EchoGate(reference, params=params, probability=make_probability()))
    position = 0
    starts: list[int] = []
    collector = UtteranceCollector(
        make_vad(), RATE, lambda: starts.append(position), lambda audio: None, echo_reference=gate
    )
    offsets = np.concatenate([[0], np.cumsum(recording.ref_lengths)])
    began = time.process_time()
    for kind, index, when in recording.events(mic):
        if kind == "ref":
            block = recording.ref_blocks[offsets[index] : offsets[index + 1]]
            reference.write(block, when, recording.ref_rate)
        else:
            gate.arrival = when
            position = (index + 1) * FRAME  # what the capture thread has heard by now
            collector.feed(mic[index * FRAME : position])
    out = Replay(starts, trials, seconds=time.process_time() - began)
    windows = [(t.onset - int(0.2 * RATE), t.end + int(0.3 * RATE)) for t in trials]
    claimed: set[int] = set()
    for trial, (lo, hi) in zip(trials, windows, strict=True):
        hits = [s for s in starts if lo <= s <= hi]
        if not hits:
            out.missed += 1
            continue
        claimed.update(hits)
        out.latencies.append((hits[0] - trial.onset) / RATE)
        out.p56_latencies.append((hits[0] - trial.p56) / RATE)
    out.false_starts = [s for s in starts if s not in claimed]
    busy = sum(hi - lo for lo, hi in windows)
    out.avatar_seconds = (gate.gate.frames_with_echo * FRAME - busy) / RATE
    return out


# ---------------------------------------------------------------------------- main


def _summary(name: str, values: list[float]) -> str:
    if not values:
        return f"{name}: none"
    ms = [1000 * v for v in values]
    return (
        f"{name}: p50 {statistics.median(ms):.0f} ms  p95 {percentile(ms, 95):.0f} ms  "
        f"max {max(ms):.0f} ms"
    )


def main() -> int:
    from tests.support.pulse import clip_phrases, pulse_problem

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recording", type=Path, help="replay this folder, record nothing")
    parser.add_argument("--keep", action="store_true", help="print and keep the temp folder")
    parser.add_argument("--quiet-s", type=float, default=60.0)
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--turn-s", type=float, default=6.0)
    parser.add_argument("--lead-s", type=float, default=1.0, help="avatar alone in each turn")
    parser.add_argument("--ser-db", type=float, nargs="+", default=[0.0])
    parser.add_argument("--rounds", type=int, default=2, help="phrase sets per level")
    parser.add_argument("-v", "--verbose", action="store_true", help="every start")
    args = parser.parse_args()
    folder = args.recording
    if folder is None:
        problem = pulse_problem()
        if problem:
            print(problem)
            return 2
        folder = Path(tempfile.mkdtemp(prefix="dhuman-barge-in-"))
        rec = record(args.quiet_s, args.turns, args.turn_s, pause_s=0.5)
        rec.save(folder)
        if args.keep:
            print(f"recording kept in {folder}")
    else:
        rec = Recording.load(folder)
    seconds = len(rec.mic) / RATE
    print(
        f"recording: {seconds:.0f} s of microphone, {rec.quiet_frames * FRAME / RATE:.0f} s of "
        f"the avatar alone, then {len(rec.turn_starts)} turns; reference at {rec.ref_rate} Hz"
    )
    alone = replay(rec, rec.mic, [])
    print(
        f"no person: {len(alone.false_starts)} false barge-ins in {alone.avatar_seconds:.0f} s "
        f"of echo (replay {alone.seconds:.1f} s CPU)"
    )
    phrases = clip_phrases(RATE)
    for ser in args.ser_db:
        runs = []
        for r in range(args.rounds):
            mic, trials = mix_trials(rec, phrases, ser, args.lead_s, first=r * len(rec.turn_starts))
            runs.append(replay(rec, mic, trials))
        first = [x for run in runs for x in run.latencies]
        p56 = [x for run in runs for x in run.p56_latencies]
        false = sum(len(run.false_starts) for run in runs)
        echo_s = sum(run.avatar_seconds for run in runs)
        missed = sum(run.missed for run in runs)
        print(f"person at {ser:+.0f} dB over the echo, {len(first) + missed} trials:")
        print(
            f"  detected {len(first)}, missed {missed}; false barge-ins {false} in {echo_s:.0f} s"
        )
        print("  " + _summary("first audible onset -> start", first))
        print("  " + _summary("P.56 onset -> start", p56))
        if args.verbose:
            for run in runs:
                print("  starts (s):", " ".join(f"{s / RATE:.2f}" for s in run.starts))
                print("  onsets (s):", " ".join(f"{t.onset / RATE:.2f}" for t in run.trials))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
