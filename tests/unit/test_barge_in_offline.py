"""The echo gate's decision rules and the offline barge-in replay, on synthetic signals with
exact timing and a scripted Silero (fast, deterministic): a loud voice over the echo is
confirmed in one window, a soft one needs two, a lost canceller never lets the echo pass
for a person, a clock correction does not make the canceller learn again, and the replay
measures detection delays in samples."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.types import FloatArray
from bench.barge_in_offline import Recording, mix_trials, replay
from speech.barge_in import FRAME, RATE, EchoGate, GateParams
from speech.echo_gate import PlaybackReference
from tests.support.pulse import Phrase

T0 = 1000.0
DELAY = 560  # 35 ms echo path


def _noise(seconds: float, seed: int, level: float = 0.1) -> FloatArray:
    """Noise with a voice's bandwidth (below ~5 kHz)."""
    from speech.asr.audio import _lowpass_kernel

    white = level * np.random.default_rng(seed).standard_normal(int(seconds * RATE))
    return np.convolve(white, _lowpass_kernel(5000 / RATE), mode="same").astype(np.float32)


class Scripted:
    """Silero stand-in: a fixed probability whenever it hears anything, 0 for silence."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, window: FloatArray) -> float:
        return self.value if np.any(window) else 0.0

    def reset(self) -> None:
        pass


def _echo_world(seconds: float = 6.0) -> tuple[PlaybackReference, FloatArray]:
    """The speaker plays noise from T0 (written like a 256-sample callback); the microphone
    hears it 35 ms later at 0.8, with a little room noise."""
    played = _noise(seconds, 1)
    ref = PlaybackReference(seconds=30)
    for i in range(0, len(played), 256):
        ref.write(played[i : i + 256], T0 + i / RATE, RATE)
    mic = np.concatenate([np.zeros(DELAY, np.float32), 0.8 * played])[: len(played)]
    mic += (1e-4 * np.random.default_rng(2).standard_normal(len(mic))).astype(np.float32)
    return ref, mic


def _run(gate: EchoGate, mic: FloatArray) -> list[int]:
    """Frames (indices) on which the gate called a barge-in."""
    hits = []
    for k in range(len(mic) // FRAME):
        arrival = T0 + (k + 1) * FRAME / RATE + 0.02  # delivered 20 ms after the frame
        if gate.process(mic[k * FRAME : (k + 1) * FRAME], arrival).barge_in:
            hits.append(k)
    return hits


@pytest.mark.parametrize(("level", "frames"), [(0.3, 1), (0.03, 2)])
def test_a_voice_far_over_the_echo_is_confirmed_in_one_window(level: float, frames: int) -> None:
    ref, mic = _echo_world()
    onset = 4 * RATE  # a frame boundary: frame 125
    mic[onset : onset + RATE] += _noise(1.0, 3, level)
    gate = EchoGate(ref, probability=Scripted(0.5))
    hits = _run(gate, mic)
    assert gate.erle_db > 15, "the canceller works on this echo"
    # 10 dB over the echo: the first frame decides; 10 dB under it: two windows
    assert hits == [onset // FRAME + frames - 1]


def test_strong_frames_need_less_of_silero() -> None:
    ref, mic = _echo_world()
    onset = 4 * RATE
    mic[onset : onset + RATE] += _noise(1.0, 3, 0.3)
    assert _run(EchoGate(ref, probability=Scripted(0.3)), mic) == [onset // FRAME]
    # a soft voice with the same doubtful Silero is not enough
    ref, mic = _echo_world()
    mic[onset : onset + RATE] += _noise(1.0, 3, 0.03)
    assert _run(EchoGate(ref, probability=Scripted(0.3)), mic) == []


def test_the_echo_alone_never_barges_in_even_if_silero_says_speech() -> None:
    ref, mic = _echo_world()
    assert _run(EchoGate(ref, probability=Scripted(0.99)), mic) == []


def test_a_lost_canceller_lets_no_echo_through_and_recovers() -> None:
    ref, mic = _echo_world(8.0)
    # at 4 s the room changes: the echo comes back inverted, the learned path is wrong
    mic[4 * RATE :] *= -1.0
    gate = EchoGate(ref, probability=Scripted(0.99))
    lost = []
    hits = []
    for k in range(len(mic) // FRAME):
        result = gate.process(mic[k * FRAME : (k + 1) * FRAME], T0 + (k + 1) * FRAME / RATE)
        hits += [k] if result.barge_in else []
        lost.append(gate.erle_db < gate.params.min_erle_db)
    assert hits == [], "the mis-cancelled echo passed for a person"
    assert any(lost[4 * RATE // FRAME :]), "the gate noticed the canceller was lost"
    assert gate.erle_db > 15, "it learned the new path from the echo it could not place"


def _corrected(params: GateParams) -> tuple[PlaybackReference, list[float | None], list[float]]:
    """The echo world with a 2.5 ms timestamp correction after 6 s of playback: (reference,
    the gate's alignment and ERLE per frame)."""
    played = _noise(9.0, 1)
    ref = PlaybackReference(seconds=30)
    mic = np.concatenate([np.zeros(DELAY, np.float32), 0.8 * played])[: len(played)]
    gate = EchoGate(ref, params=params, probability=Scripted(0.99))
    delays, erle = [], []
    written = 0
    for k in range(len(mic) // FRAME):
        while written < min(len(played), (k + 4) * FRAME):  # the speaker runs ahead
            # from 6 s on, the DAC timestamps say 2.5 ms later than before: a drift
            # correction (the samples themselves still play back to back)
            shift = 0.0025 if written >= 6 * RATE else 0.0
            ref.write(played[written : written + 256], T0 + written / RATE + shift, RATE)
            written += 256
        gate.process(mic[k * FRAME : (k + 1) * FRAME], T0 + (k + 1) * FRAME / RATE)
        delays.append(gate.delay)
        erle.append(gate.erle_db)
    return ref, delays, erle


def test_a_clock_correction_moves_the_alignment_instead_of_relearning() -> None:
    ref, delays, erle = _corrected(GateParams())
    assert ref.slips == 1 and ref.last_slip_s == pytest.approx(0.0025, abs=2e-4)
    before = delays[100]
    assert before is not None
    assert delays[-1] == pytest.approx(before - 0.0025, abs=2e-4)
    lost = sum(e < GateParams().min_erle_db for e in erle[100:])
    # treated as a real gap instead (the alignment stays), the filter must learn again
    _, held, relearned = _corrected(GateParams(drift_s=0.0))
    assert held[-1] == delays[100]
    assert lost < sum(e < GateParams().min_erle_db for e in relearned[100:]) / 2
    assert min(erle[-50:]) > 30
    # a stretch only seconds old was placed from its first timestamps: its correction is
    # where the sound really was, and the alignment stays
    _, young, _ = _corrected(GateParams(drift_after_s=8.0))
    assert young[-1] == delays[100]


# ------------------------------------------------------------------ the offline replay
def _recording() -> Recording:
    _, mic = _echo_world(8.0)
    played = _noise(8.0, 1)
    blocks = [played[i : i + 256] for i in range(0, len(played), 256)]
    frames = len(mic) // FRAME
    return Recording(
        mic=mic[: frames * FRAME],
        arrivals=T0 + (np.arange(frames) + 1) * FRAME / RATE + 0.02,
        ref_blocks=np.concatenate(blocks),
        ref_lengths=np.array([len(b) for b in blocks]),
        ref_dac=T0 + np.arange(len(blocks)) * 256 / RATE,
        ref_written=T0 + np.arange(len(blocks)) * 256 / RATE - 0.05,  # written ahead
        ref_rate=RATE,
        quiet_frames=frames // 2,
        turn_starts=np.array([5 * RATE]),
    )


class SilentVad:
    def __init__(self) -> None:
        self.silent_ms = 0.0

    def process(self, frame: FloatArray) -> str | None:
        return None

    def reset(self) -> None:
        pass


def test_events_come_in_the_order_they_happened() -> None:
    rec = _recording()
    kinds = list(rec.events())
    mics = [k for k in kinds if k[0] == "mic"]
    assert len(mics) == len(rec.arrivals)
    times = [t if kind == "mic" else rec.ref_written[i] for kind, i, t in kinds]
    assert times == sorted(times)


def test_replay_measures_the_delay_in_samples() -> None:
    rec = _recording()
    voice = _noise(1.0, 3, 0.3)
    samples = np.concatenate([np.zeros(800, np.float32), voice])
    phrase = Phrase("voice", samples, RATE, 800, 800 + RATE)
    mic, trials = mix_trials(rec, [phrase], ser_db=10.0, lead_s=1.0)
    (trial,) = trials
    assert 6 * RATE <= trial.onset < 6 * RATE + FRAME  # 1 s into the turn, within a frame
    assert np.any(mic[trial.onset : trial.onset + 100] != rec.mic[trial.onset : trial.onset + 100])
    out = replay(rec, mic, trials, make_probability=lambda: Scripted(0.5), make_vad=SilentVad)
    assert out.missed == 0 and out.false_starts == []
    # decided at the end of the first frame the voice reached
    end_of_frame = (trial.onset // FRAME + 1) * FRAME
    assert out.latencies == [pytest.approx((end_of_frame - trial.onset) / RATE)]
    alone = replay(rec, rec.mic, [], make_probability=lambda: Scripted(0.5), make_vad=SilentVad)
    assert alone.starts == [] and alone.avatar_seconds > 5
