"""Hands-free, push-to-talk and mute over a fake source and a real Session of fakes."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from app.core import events as ev
from app.core.fakes import (
    FakeAudioSink,
    FakeAudioSource,
    FakeChat,
    FakeSynthesizer,
    FakeTranscriber,
    FakeVoiceActivity,
)
from app.core.microphone import MicMode, Microphone
from app.core.registry import Roles
from app.core.session import Session
from dialog.persona import load_persona
from tests.support.events import EventLog

RATE = 16000


class RecordingTranscriber(FakeTranscriber):
    """Keeps the audio it was given, to check what push-to-talk sent."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.heard: list[np.ndarray] = []

    def transcribe(self, audio: np.ndarray, sample_rate: int, language: str | None = None):  # type: ignore[no-untyped-def]
        self.heard.append(audio)
        return super().transcribe(audio, sample_rate, language)


def speech_then_silence(speech_s: float = 0.6, silence_s: float = 1.0) -> np.ndarray:
    t = np.arange(int(speech_s * RATE)) / RATE
    voiced = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    return np.concatenate([voiced, np.zeros(int(silence_s * RATE), np.float32)])


def make_session(transcript: str = "where is radiology") -> tuple[Session, EventLog]:
    roles = Roles(
        chat=FakeChat(),
        transcriber=RecordingTranscriber(transcript),
        vad=FakeVoiceActivity(start_ms=64, stop_ms=300),
        synthesizer=FakeSynthesizer(),
        sink=FakeAudioSink(),
    )
    session = Session(roles, load_persona("default"))
    log = EventLog()
    session.subscribe(log)
    session.start()
    return session, log


@pytest.fixture
def session_log() -> Iterator[tuple[Session, EventLog]]:
    session, log = make_session()
    yield session, log
    session.close()


def test_hands_free_sends_frames_to_the_turn_detector(
    session_log: tuple[Session, EventLog],
) -> None:
    session, log = session_log
    source = FakeAudioSource(speech_then_silence(), realtime=False)
    mic = Microphone(source, session)
    mic.start()
    final = log.wait_for(ev.FinalTranscript, timeout=5)
    assert final.text == "where is radiology"
    mic.stop()


def test_muted_hears_nothing(session_log: tuple[Session, EventLog]) -> None:
    session, log = session_log
    source = FakeAudioSource(speech_then_silence(), realtime=False)
    mic = Microphone(source, session, MicMode.MUTED)
    mic.start()
    assert source.finished.wait(5)
    session.submit_text("marker")  # proves the session ran past the audio
    log.wait_for(ev.TurnEnded, timeout=5)
    assert log.of(ev.UserStartedSpeaking) == []
    assert log.of(ev.FinalTranscript) == []
    mic.stop()


def test_push_to_talk_holds_until_release_and_press_cuts_the_avatar_off(
    session_log: tuple[Session, EventLog],
) -> None:
    session, log = session_log
    # an endless quiet stream: in push-to-talk only the button decides the turn
    source = FakeAudioSource(np.full(RATE * 30, 0.01, np.float32), realtime=True)
    mic = Microphone(source, session, MicMode.PUSH_TO_TALK)
    mic.start()
    session.say("A long announcement that the visitor will cut off.")
    log.wait_for(ev.AudioOut, timeout=5)
    mic.press()
    interrupted = log.wait_for(ev.Interrupted, timeout=5)
    assert interrupted.reason == "push-to-talk"
    assert mic.holding
    time.sleep(0.3)
    turn_id = mic.release()
    assert turn_id is not None and not mic.holding
    final = log.wait_for(ev.FinalTranscript, timeout=5)
    assert final.turn_id == turn_id
    transcriber = session.roles.transcriber
    assert isinstance(transcriber, RecordingTranscriber)
    heard = transcriber.heard[-1]
    assert 0.2 * RATE <= len(heard) <= 1.5 * RATE, "only what was held is transcribed"
    assert mic.release() is None, "a second release sends nothing"
    mic.stop()


def test_switching_mode_drops_a_half_held_utterance(session_log: tuple[Session, EventLog]) -> None:
    session, log = session_log
    source = FakeAudioSource(np.full(RATE * 5, 0.01, np.float32), realtime=True)
    mic = Microphone(source, session, MicMode.PUSH_TO_TALK)
    mic.start()
    mic.press()
    time.sleep(0.2)
    assert mic.holding
    mic.set_mode(MicMode.MUTED)
    assert not mic.holding
    assert mic.release() is None
    assert log.of(ev.FinalTranscript) == []
    mic.stop()
