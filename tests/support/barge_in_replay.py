"""Record a barge-in experiment once, replay it through the echo gate many times.

The live bench (``bench/barge_in_echo.py``) takes minutes of real time per run and its
figures move with the machine's load, so comparing gate settings live is slow and noisy.
A :class:`BargeInTap` records what the listener was given during one live run: every
microphone frame with its arrival time, every block the speaker played with its DAC
time, and each phrase's onset. :func:`replay` feeds the same inputs, in the same order of
arrival, to a fresh :class:`speech.barge_in.EchoGate` with any :class:`GateParams` and
the real Silero model, and scores it like the live bench (start times are the arrival
times of the deciding frames; the live figures add the few milliseconds of processing).

Record with the avatar *not* interrupted (``interrupt=False``): it goes on talking over
each phrase, so the echo is there for any decision time a replayed setting makes.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.core.listening import GateOutput
from app.core.types import FloatArray
from speech.barge_in import GateParams
from tests.support.pulse import phrase_starts


@dataclass
class BargeInTap:
    """Collects the listener's inputs during a live run (thread-safe)."""

    mic: list[tuple[float, FloatArray]] = field(default_factory=list)
    # written, DAC time, rate, block, resumed (the stream did not play on from the last)
    speaker: list[tuple[float, float, int, FloatArray, bool]] = field(default_factory=list)
    trials: list[tuple[float, float, float]] = field(default_factory=list)  # onset, end, p56
    quiet_end: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def heard(self, frame: FloatArray, arrival: float) -> None:
        with self._lock:
            self.mic.append((arrival, np.array(frame, dtype=np.float32)))

    def played(
        self, written: float, block: FloatArray, dac_time: float, rate: int, resumed: bool
    ) -> None:
        with self._lock:
            block = np.array(block, dtype=np.float32)
            self.speaker.append((written, dac_time, rate, block, resumed))

    def save(self, path: Path) -> None:
        with self._lock:
            mic, speaker = list(self.mic), list(self.speaker)
        lengths = np.array([len(b) for *_, b, _ in speaker], dtype=np.int64)
        np.savez_compressed(
            path,
            mic_times=np.array([t for t, _ in mic]),
            mic=np.stack([f for _, f in mic]),
            speaker_times=np.array([[w, d, r, s] for w, d, r, _, s in speaker], dtype=np.float64),
            speaker_lengths=lengths,
            speaker=np.concatenate([b for *_, b, _ in speaker]) if speaker else np.zeros(0),
            trials=np.array(self.trials, dtype=np.float64).reshape(-1, 3),
            quiet_end=np.array(self.quiet_end),
        )


@dataclass(frozen=True)
class Recording:
    mic_times: np.ndarray
    mic: np.ndarray  # frames x 512
    speaker: list[tuple[float, float, int, FloatArray, bool]]  # as BargeInTap.speaker
    trials: np.ndarray  # onset, end, P.56 delay after the onset (s), per phrase
    quiet_end: float  # the avatar talked alone until then

    @classmethod
    def load(cls, path: Path) -> Recording:
        data = np.load(path)
        ends = np.cumsum(data["speaker_lengths"])
        blocks = np.split(data["speaker"], ends[:-1]) if len(ends) else []
        times = data["speaker_times"]
        if times.shape[1:] == (3,):  # recorded before streams reported resuming
            times = np.hstack([times, np.zeros((len(times), 1))])
        speaker = [
            (float(w), float(d), int(r), b, bool(s))
            for (w, d, r, s), b in zip(times, blocks, strict=True)
        ]
        return cls(
            data["mic_times"], data["mic"], speaker, data["trials"], float(data["quiet_end"])
        )


@dataclass
class ReplayScore:
    quiet_false: int
    trial_false: int
    p56_latencies: list[float]
    missed: int
    starts: list[float]
    echo_removed_db: float | None = None  # the peer's echo reduction, avatar alone


def replay(recording: Recording, params: GateParams, *, peer: bool = False) -> ReplayScore:
    """The recording through a fresh gate with ``params`` (and the default Silero VAD
    behind it, as the session has): every start, scored like the live bench.

    ``peer``: WebRTC's AEC3 and Silero (:mod:`tests.support.webrtc_peer`) in the gate's
    place, with the gate's Silero rule from ``params``; ``echo_removed_db`` is then its
    echo reduction while the avatar talked alone."""
    from app.core.listening import UtteranceCollector
    from speech.barge_in import EchoGate
    from speech.echo_gate import PlaybackReference
    from speech.vad.silero import SileroProbabilities, SileroVoiceActivity
    from tests.support.webrtc_peer import WebRtcBargeIn

    reference = PlaybackReference()
    clock = [0.0]
    gate: EchoGate | WebRtcBargeIn = (
        WebRtcBargeIn(reference, params)
        if peer
        else EchoGate(
            reference, params=params, probability=SileroProbabilities(), clock=lambda: clock[0]
        )
    )

    class RecordedArrivals:
        """The gate, given each frame's recorded arrival instead of the replay's clock."""

        def process(self, frame: FloatArray, arrival: float | None = None) -> GateOutput:
            return gate.process(frame, clock[0])

    starts: list[float] = []
    collector = UtteranceCollector(
        SileroVoiceActivity(),
        16000,
        lambda: starts.append(clock[0]),
        lambda audio: None,
        echo_reference=RecordedArrivals(),
    )
    played = 0
    for arrival, frame in zip(recording.mic_times, recording.mic, strict=True):
        while played < len(recording.speaker) and recording.speaker[played][0] <= arrival:
            _, dac, rate, block, resumed = recording.speaker[played]
            reference.write(block, dac, rate, resumed=resumed)
            played += 1
        clock[0] = float(arrival)
        if isinstance(gate, WebRtcBargeIn):
            gate.counting = clock[0] < recording.quiet_end
        collector.feed(frame)
    quiet_false = sum(1 for t in starts if t < recording.quiet_end)
    spans = [(float(onset), float(end)) for onset, end, _ in recording.trials]
    delays, claimed = phrase_starts(starts, spans)
    later = recording.trials[:, 2]
    latencies = [d - float(x) for d, x in zip(delays, later, strict=True) if d is not None]
    trial_false = len(starts) - quiet_false - claimed
    removed = gate.echo_removed_db if isinstance(gate, WebRtcBargeIn) else None
    return ReplayScore(quiet_false, trial_false, latencies, delays.count(None), starts, removed)
