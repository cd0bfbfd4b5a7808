"""espeak-ng (English, Korean) and Kokoro through the real audio path, heard back by Whisper.

Each engine's speech is played by the real ``SoundDeviceSink`` to the PulseAudio sink
``spk``, recorded from ``spk.monitor`` with ``parecord --latency-msec=20`` (it drops idle
time otherwise) and transcribed with faster-whisper base. Other programs may play to the
same sink meanwhile, so the check is on the words heard, never on exact silence.

English must come back word for word (a fuzzy match of at least 0.8); Korean espeak-ng is
formant speech, and its character error rate is printed (``pytest -s``) and only bounded
loosely: it is a fallback voice, and the figure is reported, not hidden.

Needs the virtual devices (``. scripts/virtual-devices.sh start`` in the same shell, before
this process imports sounddevice), ``parecord`` and the Whisper base carrier; Kokoro tests
skip unless ``kokoro-onnx`` and its carriers are installed.
"""

from __future__ import annotations

import difflib
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
from speech.normalize import normalize

pytestmark = pytest.mark.slow

ENGLISH = "Welcome to the city museum. The pharmacy is on the first floor."
KOREAN = "안녕하세요. 약국은 삼층에 있습니다."
RATE = 16000


def _pulse_problem() -> str | None:
    if shutil.which("pactl") is None or shutil.which("parecord") is None:
        return "pactl/parecord not found (apt-get install pulseaudio-utils)"
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pactl info failed: {exc}"
    if info.returncode != 0 or "Default Sink: spk" not in info.stdout:
        return "no PulseAudio with the virtual 'spk' sink: . scripts/virtual-devices.sh start"
    return None


def _kokoro_problem() -> str | None:
    try:
        import kokoro_onnx  # noqa: F401

        from app.models.manager import ModelManager

        ModelManager(Settings()).resolve("kokoro-v1.0-int8-ja")
    except Exception as exc:
        return f"Kokoro not available ({exc}); pip install -e '.[kokoro]' and its carriers"
    return None


needs_pulse = pytest.mark.skipif(_pulse_problem() is not None, reason=str(_pulse_problem()))
needs_kokoro = pytest.mark.skipif(_kokoro_problem() is not None, reason=str(_kokoro_problem()))


class Parecord:
    """Records ``spk.monitor`` as 16 kHz mono; ``with`` returns once samples flow."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / "heard.raw"

    def __enter__(self) -> Parecord:
        self._log = (self.path.parent / "parecord.log").open("w")
        self._proc = subprocess.Popen(
            ["parecord", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1",
             "--latency-msec=20", "--device=spk.monitor", str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,  # a file: an unread pipe could fill and stall the recorder
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # ready: the file grows (silence counts too)
            if self.path.exists() and self.path.stat().st_size > RATE // 5:
                return self
            if self._proc.poll() is not None:
                raise AssertionError(f"parecord ended: {self._proc.returncode}")
            time.sleep(0.02)
        raise AssertionError("parecord wrote nothing in 10 s")

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=5)
        self._log.close()

    def samples(self) -> np.ndarray:
        pcm = np.frombuffer(self.path.read_bytes(), dtype="<i2")
        return (pcm.astype(np.float32) / 32768.0).copy()

    def wait_heard(self, speech_s: float, deadline: float) -> None:
        """Until the recording holds about ``speech_s`` of sound since its first sound and
        then 0.3 s of quiet, or ``deadline`` (monotonic) passes."""
        while time.monotonic() < deadline:
            audio = self.samples()
            loud = np.flatnonzero(np.abs(audio) > 1e-3)
            if len(loud):
                heard_s = (len(audio) - loud[0]) / RATE
                quiet_s = (len(audio) - loud[-1]) / RATE
                if heard_s >= speech_s and quiet_s >= 0.3:
                    return
            time.sleep(0.05)


@pytest.fixture(scope="module")
def whisper() -> Any:
    from faster_whisper import WhisperModel

    from app.models.manager import ModelManager

    try:
        folder = ModelManager(Settings()).resolve("whisper-base")
    except Exception as exc:
        pytest.skip(f"whisper base not available: {exc}")
    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)


@pytest.fixture()
def sink() -> Iterator[Any]:
    from speech.playback import build

    built = build(Settings())
    yield built
    built.close()


def speak_and_hear(chunks: list[SpeechChunk], sink: Any, folder: Path) -> np.ndarray:
    rate = chunks[0].sample_rate
    # half a second of silence first lets the stream settle (a loaded machine underruns
    # right after opening), and after, so the last word clears PulseAudio's buffers
    quiet = SpeechChunk(np.zeros(rate // 2, np.float32), rate)
    played = [quiet, *chunks, quiet]
    with Parecord(folder) as recorder:
        started = time.monotonic()
        for chunk in played:
            sink.play(chunk)
        total = sum(c.seconds for c in played)
        assert sink.wait_done(timeout=total + 10)
        # never stop before the audio can have been played in full, whatever the clock says;
        # a new PulseAudio stream can start seconds late, so wait for the sound itself to
        # arrive and end (as long as the speech, plus slack) before stopping the sink
        time.sleep(max(0.0, started + total - time.monotonic()))
        recorder.wait_heard(speech_s=total - 1.0, deadline=started + total + 10)
        sink.stop()
        time.sleep(0.3)  # the tail through PulseAudio's buffers
    return recorder.samples()


def playback_notes(sink: Any) -> str:
    """The sink's underrun and held-block counts, for a failure message."""
    return f"underruns {sink.underruns}, held blocks {sink.held_blocks}"


def loudness(audio: np.ndarray) -> str:
    """The recording's level per 100 ms, for a failure message."""
    blocks = [audio[i : i + RATE // 10] for i in range(0, len(audio), RATE // 10)]
    return " ".join(f"{float(np.sqrt(np.mean(b**2))):.2f}" for b in blocks if len(b))


def transcribe(whisper: Any, audio: np.ndarray, language: str) -> str:
    # no_speech_threshold=None: formant speech must not be dropped as "no speech"
    segments, _ = whisper.transcribe(
        audio, language=language, beam_size=5, no_speech_threshold=None
    )
    return " ".join(s.text for s in segments).strip()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def cer(heard: str, said: str) -> float:
    """Character error rate, spaces and punctuation ignored (Levenshtein / reference)."""
    a = [c for c in heard if c.isalnum()]
    b = [c for c in said if c.isalnum()]
    row = list(range(len(a) + 1))
    for j, cb in enumerate(b, 1):
        prev, row[0] = row[0], j
        for i, ca in enumerate(a, 1):
            prev, row[i] = row[i], min(row[i] + 1, row[i - 1] + 1, prev + (ca != cb))
    return row[len(a)] / max(1, len(b))


def assert_timelines_cover(chunks: list[SpeechChunk]) -> None:
    for chunk in chunks:
        end = chunk.visemes[-1].start + chunk.visemes[-1].duration
        assert end == pytest.approx(chunk.seconds, abs=1e-6)
        assert chunk.words and all(0 <= w.start < w.end <= len(chunk.samples) for w in chunk.words)


# ------------------------------------------------------------------ espeak-ng


@pytest.mark.audio
@needs_pulse
def test_espeak_english_is_heard_word_for_word(sink: Any, whisper: Any, tmp_path: Path) -> None:
    from speech.tts.espeak_tts import EspeakSynthesizer

    chunks = list(EspeakSynthesizer("en").synthesize(ENGLISH, "en"))
    assert_timelines_cover(chunks)
    recording = speak_and_hear(chunks, sink, tmp_path)
    heard = transcribe(whisper, recording, "en")
    said = normalize(ENGLISH, "en")
    ratio = difflib.SequenceMatcher(None, words_of(heard), words_of(said)).ratio()
    print(f"\nespeak en heard: {heard!r} (word match {ratio:.2f})")  # noqa: T201
    assert ratio >= 0.8, f"{heard!r}; {playback_notes(sink)}; level: {loudness(recording)}"


@pytest.mark.audio
@needs_pulse
def test_espeak_korean_is_heard_and_its_cer_reported(
    sink: Any, whisper: Any, tmp_path: Path
) -> None:
    from speech.tts.espeak_tts import EspeakSynthesizer

    synthesizer = EspeakSynthesizer("ko")
    synthesizer.set_speed(0.8)  # slower speech is clearer, as for elderly visitors
    chunks = list(synthesizer.synthesize(KOREAN, "ko"))
    assert_timelines_cover(chunks)
    recording = speak_and_hear(chunks, sink, tmp_path)
    heard = transcribe(whisper, recording, "ko")
    error = cer(heard, normalize(KOREAN, "ko"))
    print(f"\nespeak ko heard: {heard!r} (CER {error:.2f})")  # noqa: T201
    assert re.search(r"[\uac00-\ud7a3]", heard), (
        f"{heard!r}; {playback_notes(sink)}; level: {loudness(recording)}"
    )
    assert error < 0.9  # formant Korean: poor but not noise


# ------------------------------------------------------------------ Kokoro


@pytest.fixture(scope="module")
def kokoro() -> Any:
    problem = _kokoro_problem()
    if problem:
        pytest.skip(problem)
    from speech.tts.kokoro_tts import build

    return build(Settings())


@needs_kokoro
def test_kokoro_chunks_carry_estimated_visemes_and_words(kokoro: Any) -> None:
    chunks = list(kokoro.synthesize("Hello, I am your guide and I can help you find rooms."))
    assert [c.text for c in chunks] == ["Hello, I am your guide", "and I can help you find rooms."]
    assert all(c.sample_rate == 24000 for c in chunks)
    assert_timelines_cover(chunks)
    names = {v.name for c in chunks for v in c.visemes}
    assert len(names - {"sil"}) >= 5  # a real estimate moves through many shapes
    assert list(kokoro.synthesize("안녕하세요")) == []  # no Korean voice: skipped, no crash


@pytest.mark.audio
@needs_pulse
@needs_kokoro
def test_kokoro_english_is_heard_word_for_word(
    kokoro: Any, sink: Any, whisper: Any, tmp_path: Path
) -> None:
    chunks = list(kokoro.synthesize(ENGLISH, "en"))
    recording = speak_and_hear(chunks, sink, tmp_path)
    heard = transcribe(whisper, recording, "en")
    ratio = difflib.SequenceMatcher(
        None, words_of(heard), words_of(normalize(ENGLISH, "en"))
    ).ratio()
    print(f"\nkokoro heard: {heard!r} (word match {ratio:.2f})")  # noqa: T201
    assert ratio >= 0.8, f"{heard!r}; {playback_notes(sink)}; level: {loudness(recording)}"
