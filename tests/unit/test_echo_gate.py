"""The echo gate's parts on synthetic signals with exact timing, then the whole gate on
real speech: the avatar's echo never barges in, a person over it does."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from scipy.signal import resample_poly

from speech.echo_gate import (
    BlockNlms,
    FrameClock,
    PlaybackReference,
    StreamClock,
    estimate_delay,
)

RATE = 16000
OUT = 22050  # the speaker's rate (Piper)
T0 = 1000.0


def _noise(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """Noise with a voice's bandwidth (below ~5 kHz): both sides of a resampler keep it."""
    from speech.asr.audio import _lowpass_kernel

    rng = np.random.default_rng(seed)
    white = 0.1 * rng.standard_normal(int(seconds * rate))
    return np.convolve(white, _lowpass_kernel(5000 / rate), mode="same").astype(np.float32)


def _played(signal: np.ndarray, jitter: float = 0.0) -> PlaybackReference:
    """``signal`` at 22.05 kHz written as 256-sample callbacks from T0 on."""
    ref = PlaybackReference(seconds=30)
    rng = np.random.default_rng(1)
    for i in range(0, len(signal), 256):
        ref.write(signal[i : i + 256], T0 + i / OUT + rng.normal(0, jitter), OUT)
    return ref


def _echoed(avatar: np.ndarray) -> np.ndarray:
    """What the microphone hears of the avatar: a 35 ms path, gain 0.8, faint noise."""
    echo = resample_poly(avatar, 320, 441).astype(np.float64) * 0.8
    mic = np.concatenate([np.zeros(560), echo])[: len(echo)]
    noise = 1e-4 * np.random.default_rng(7).standard_normal(len(mic))
    return (mic + noise).astype(np.float32)


def _snr(expected: np.ndarray, got: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(expected**2) / np.mean((expected - got) ** 2)))


def test_reference_reads_what_was_played_at_any_time() -> None:
    played = _noise(3.0, OUT)
    ref = _played(played)
    assert _played(played, jitter=0.001).slips == 0  # callback jitter is not a slip
    good = resample_poly(played, 320, 441).astype(np.float32)
    start = 16000  # one second in, read in 512-sample frames like the gate
    got = np.concatenate([ref.read(T0 + (start + k) / RATE, 512) for k in range(0, 8192, 512)])
    assert _snr(good[start : start + 8192], got) > 25
    assert not np.any(ref.read(T0 - 1.0, 512))  # before anything was played
    assert not np.any(ref.read(T0 + 10.0, 512))  # not played yet


def test_a_slip_starts_a_new_stretch() -> None:
    ref = PlaybackReference(seconds=30)
    first, second = _noise(1.0, OUT, 2), _noise(1.0, OUT, 3)
    for i in range(0, OUT, 256):
        ref.write(first[i : i + 256], T0 + i / OUT, OUT)
    # an underrun: the next samples reached the DAC 50 ms later than the count says
    for i in range(0, OUT, 256):
        ref.write(second[i : i + 256], T0 + 1.05 + i / OUT, OUT)
    assert ref.slips == 1
    assert np.any(ref.read(T0 + 0.5, 512)) and not np.any(ref.read(T0 + 1.01, 256))
    good = resample_poly(second, 320, 441).astype(np.float32)
    assert _snr(good[8000:8512], ref.read(T0 + 1.05 + 0.5, 512)) > 25


def test_a_resumed_stream_starts_a_new_stretch_at_once() -> None:
    """An underrun the stream reports (or a restart) places the next block by its own
    time: found from the timestamps alone, the slip would take six blocks to confirm."""
    ref = PlaybackReference(seconds=30)
    first, second = _noise(1.0, OUT, 2), _noise(0.1, OUT, 3)
    for i in range(0, OUT, 256):
        ref.write(first[i : i + 256], T0 + i / OUT, OUT)
    ref.write(second[:256], T0 + 1.05, OUT, resumed=True)
    assert ref.slips == 1
    good = resample_poly(second[:256], 320, 441).astype(np.float32)
    assert _snr(good[40:150], ref.read(T0 + 1.05 + 40 / RATE, 110)) > 25
    assert not np.any(ref.read(T0 + 1.01, 256))  # the gap before it played nothing


def test_stream_clock_ignores_late_callbacks_and_follows_a_changed_clock() -> None:
    """The stream's clock read by PortAudio, the monotonic one by a callback that may
    have waited for the interpreter: the mapping must not move with that wait."""
    clock = StreamClock(window_s=2.0)
    rng = np.random.default_rng(4)
    offset = 5000.0
    mapped = []
    for k in range(400):  # 4.6 s of 11.6 ms callbacks, most a little late, some 40 ms
        stream_now = 10.0 + k * 256 / OUT
        late = 0.04 if k % 37 == 5 else abs(rng.normal(0, 0.0005))
        mapped.append(clock.monotonic(stream_now + 0.03, stream_now, stream_now + offset + late))
    errors = np.array(mapped[20:]) - (10.03 + offset + np.arange(20, 400) * 256 / OUT)
    assert np.max(np.abs(errors)) < 0.0002
    # the stream clock steps back 1 s (a wall clock set): followed within the window
    for k in range(400, 700):
        stream_now = 9.0 + k * 256 / OUT
        got = clock.monotonic(stream_now, stream_now, stream_now + offset + 1.0)
    assert abs(got - (stream_now + offset + 1.0)) < 0.0002


def test_frame_clock_ignores_delivery_jitter_and_restarts_after_a_gap() -> None:
    clock = FrameClock(RATE)
    rng = np.random.default_rng(4)
    stamps = []
    for k in range(200):  # frames heard at T0 + k * 32 ms, delivered 20..60 ms late
        stamps.append(clock.stamp(512, T0 + (k + 1) * 0.032 + 0.02 + rng.uniform(0, 0.04)))
    steps = np.diff(stamps[40:])
    assert np.allclose(steps, 0.032)  # after settling: exactly one frame apart
    # placed by the quickest delivery in the first second, within a few ms of 20 ms
    assert 0.02 <= stamps[40] - (T0 + 40 * 0.032) < 0.026
    later = clock.stamp(512, T0 + 20.0)  # the device was reopened
    assert later == pytest.approx(T0 + 20.0 - 0.032)


def test_delay_is_found() -> None:
    reference = _noise(2.0, RATE, 5)
    delay = 560  # 35 ms
    mic = (0.7 * reference[1600 - delay : 1600 - delay + 16000]).astype(np.float32)
    found = estimate_delay(mic, reference[:17600], 1600)
    assert found is not None and found[0] == delay and found[1] > 10
    assert estimate_delay(np.zeros(16000, np.float32), reference[:17600], 1600) is None


def test_nlms_learns_an_echo_path() -> None:
    x = _noise(4.0, RATE, 6)
    path = np.zeros(300)
    path[256], path[270] = 0.8, -0.2
    d = np.convolve(x, path)[: len(x)].astype(np.float32)
    nlms = BlockNlms(512, 2)
    erle = []
    for k in range(len(x) // 512):
        _, residual = nlms.process(x[k * 512 : (k + 1) * 512], d[k * 512 : (k + 1) * 512])
        erle.append(10 * np.log10(np.mean(d[k * 512 : (k + 1) * 512] ** 2) / np.mean(residual**2)))
    assert np.mean(erle[-30:]) > 30


# ------------------------------------------------------------------ the whole gate
needs_silero = pytest.mark.skipif(
    importlib.util.find_spec("onnxruntime") is None
    or importlib.util.find_spec("faster_whisper") is None,
    reason="needs faster-whisper (it carries the Silero model) and onnxruntime",
)


def _speech(name: str, rate: int) -> np.ndarray:
    from speech.asr.audio import read_wav, resample
    from tests.support.speech_clips import carrier_assets

    assets = carrier_assets()
    if assets is None:
        pytest.skip("real speech carrier missing: pip install --no-deps moonshine-voice")
    audio, clip_rate = read_wav(assets / name)
    return resample(audio, clip_rate, rate)


@needs_silero
def test_the_avatars_echo_never_barges_in_and_a_person_does() -> None:
    from speech.barge_in import EchoGate
    from speech.vad.silero import SileroProbabilities

    avatar = _speech("two_cities.wav", OUT)[: OUT * 30]
    person = _speech("clone-test.wav", RATE)
    ref = _played(avatar, jitter=0.001)
    mic = _echoed(avatar)
    onsets = [16 * RATE, 22 * RATE]  # the person talks over the avatar twice
    for onset in onsets:
        mic[onset : onset + len(person)] += person[: len(mic) - onset]
    gate = EchoGate(ref, probability=SileroProbabilities())
    barge_ins = []
    heard_early = False  # did any of the avatar's first words reach the VAD?
    for k in range(len(mic) // 512):
        arrival = T0 + (k + 1) * 512 / RATE + 0.02  # delivered 20 ms after the frame
        result = gate.process(mic[k * 512 : (k + 1) * 512], arrival)
        heard_early |= k * 512 < 2 * RATE and bool(np.any(result.vad_audio))
        if result.barge_in:
            barge_ins.append(k * 512 / RATE)
    assert not heard_early, "the echo passed before its path was learned"
    assert gate.delay == pytest.approx(0.035 + 0.02, abs=0.002)
    from tests.support.pulse import Phrase, p56_onset

    lead = p56_onset(Phrase("clone-test", person, RATE, 0))  # the voice starts (0.47 s)
    onsets = [o + lead for o in onsets]
    talking = [((o - lead) / RATE, (o - lead + len(person)) / RATE + 0.3) for o in onsets]
    hits = [t for t in barge_ins if any(a < t < b for a, b in talking)]
    assert sorted(set(barge_ins) - set(hits)) == [], "the echo barged in"
    # heard within 300 ms of the voice's onset (ITU-T P.56 activity)
    assert all(any(o / RATE - 0.1 < t < o / RATE + 0.3 for t in hits) for o in onsets)


def test_the_gate_is_transparent_while_the_speaker_is_silent() -> None:
    from speech.barge_in import EchoGate

    gate = EchoGate(PlaybackReference())
    frame = _noise(0.032, RATE, 8)
    result = gate.process(frame, T0)
    assert result.audio is frame or np.array_equal(result.audio, frame)
    assert np.array_equal(result.vad_audio, frame)
    assert not result.echo and not result.barge_in


def test_the_output_callback_path_imports_nothing_new() -> None:
    """``write`` runs inside the audio callback, holding the GIL: a first-use import there
    (np.median pulls in numpy.ma) stalled the window and the microphone for tens of ms
    at the start of every session's first reply."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from speech.echo_gate import PlaybackReference\n"
        "ref = PlaybackReference()\n"
        "before = set(sys.modules)\n"
        "for i in range(40):\n"
        "    ref.write(np.zeros(256, np.float32), 1.0 + i * 256 / 22050, 22050)\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_before_the_echo_is_found_the_microphone_passes_unchanged() -> None:
    """Until the delay is known the filter has nothing to pair the microphone with:
    learning then diverged, and the "echo-free" audio handed to speech recognition was
    up to 60 dB louder than the microphone."""
    from speech.barge_in import EchoGate

    avatar = _noise(3.0, OUT, 9)
    mic = _echoed(avatar)
    gate = EchoGate(_played(avatar))
    for k in range(int(0.4 * RATE) // 512):  # too little echo yet to find its delay
        frame = mic[k * 512 : (k + 1) * 512]
        result = gate.process(frame, T0 + (k + 1) * 512 / RATE + 0.02)
        assert gate.delay is None
        assert np.array_equal(result.audio, frame)
