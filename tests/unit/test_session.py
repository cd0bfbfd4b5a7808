"""The headless session with fakes: full turn timeline, interruption, degraded roles."""

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
from app.core.registry import Roles
from app.core.session import Session
from app.core.timeline import MILESTONES
from dialog.persona import load_persona
from tests.support.events import EventLog

RATE = 16000


def speech_then_silence(speech_s: float = 0.6, silence_s: float = 0.6) -> np.ndarray:
    t = np.arange(int(speech_s * RATE)) / RATE
    burst = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    quiet = np.zeros(int(silence_s * RATE))
    return np.concatenate([quiet[: RATE // 5], burst, quiet]).astype(np.float32)


@pytest.fixture
def log() -> EventLog:
    return EventLog()


def make_session(log: EventLog, chat: FakeChat, **roles: object) -> Session:
    built = Roles(
        chat=chat,
        transcriber=roles.get("transcriber", FakeTranscriber("where is the pharmacy")),  # type: ignore[arg-type]
        vad=roles.get("vad", FakeVoiceActivity(RATE, start_ms=60, stop_ms=200)),  # type: ignore[arg-type]
        synthesizer=roles.get("synthesizer", FakeSynthesizer(RATE, seconds_per_word=0.05)),  # type: ignore[arg-type]
        sink=roles.get("sink", FakeAudioSink()),  # type: ignore[arg-type]
    )
    session = Session(built, load_persona("default"), language="en")
    session.subscribe(log)
    session.start()
    return session


@pytest.fixture
def running() -> Iterator[list[Session]]:
    sessions: list[Session] = []
    yield sessions
    for s in sessions:
        s.close()


def test_spoken_turn_yields_the_full_timeline_in_order(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("The pharmacy is on the first floor. It opens at nine.", first_token_delay=0.05)
    session = make_session(log, chat)
    running.append(session)
    source = FakeAudioSource(speech_then_silence(), RATE)
    source.start(session.feed_audio)

    ended = log.wait_for(ev.TurnEnded, timeout=10)
    source.stop()
    assert not ended.interrupted
    assert ended.reply_text == "The pharmacy is on the first floor. It opens at nine."
    assert log.wait_for(ev.UserStartedSpeaking).ts < log.of(ev.UserStoppedSpeaking)[0].ts

    timeline = session.timelines.get(ended.turn_id)
    assert timeline is not None and timeline.is_complete(), timeline
    stamps = [timeline.marks[name] for name in MILESTONES]
    assert stamps == sorted(stamps), timeline.describe()
    # the fake model waits 50 ms before its first token: the timeline must show it
    gap = timeline.gap_ms("final_transcript", "first_token")
    assert gap is not None and gap >= 45
    # both sentences were spoken, in order, and the transcript reached the model
    sentences = [e.text for e in log.of(ev.ReplySentence, ended.turn_id)]
    assert sentences == ["The pharmacy is on the first floor.", "It opens at nine."]
    assert chat.requests[0][-1].content == "where is the pharmacy"
    assert chat.requests[0][0].role == "system"


def test_modes_follow_the_turn(log: EventLog, running: list[Session]) -> None:
    session = make_session(log, FakeChat("Hello."))
    running.append(session)
    turn = session.submit_text("hi")
    log.wait_for(ev.TurnEnded, turn)
    modes = [e.mode for e in log.of(ev.ModeChanged)]
    assert modes == [
        ev.AvatarMode.LISTENING,
        ev.AvatarMode.THINKING,
        ev.AvatarMode.SPEAKING,
        ev.AvatarMode.LISTENING,
    ]


def test_interrupt_cancels_reply_and_speech_and_keeps_only_what_was_heard(
    log: EventLog, running: list[Session]
) -> None:
    words = " ".join(f"word{i}" for i in range(200))
    chat = FakeChat(f"First sentence here. {words}.", token_delay=0.01)
    sink = FakeAudioSink()
    synth = FakeSynthesizer(RATE, seconds_per_word=0.1)
    session = make_session(log, chat, sink=sink, synthesizer=synth)
    running.append(session)
    turn = session.submit_text("tell me everything")
    log.wait_for(ev.AudioOut, turn)
    time.sleep(0.25)  # about two and a half words of the first sentence are heard
    session.interrupt("barge-in")

    interrupted = log.wait_for(ev.Interrupted, turn)
    ended = log.wait_for(ev.TurnEnded, turn)
    assert ended.interrupted and interrupted.reason == "barge-in"
    assert chat.cancelled.wait(2), "the model stream was not cancelled"
    assert 0.15 < interrupted.heard_seconds < 0.6
    assert interrupted.heard_text.startswith("First")
    assert "word150" not in interrupted.heard_text
    # nothing more is spoken or streamed for that turn after the interrupt
    count_audio = len(log.of(ev.AudioOut, turn))
    count_chunks = len(log.of(ev.ReplyChunk, turn))
    time.sleep(0.3)
    assert len(log.of(ev.AudioOut, turn)) == count_audio
    assert len(log.of(ev.ReplyChunk, turn)) == count_chunks
    assert sink.heard_samples() == 0  # the clock was reset by stop()
    # memory keeps only what the user heard
    assistant = session.history()[-1]
    assert assistant.role == "assistant"
    assert assistant.content.startswith(interrupted.heard_text)
    assert "word199" not in assistant.content


def test_barge_in_by_voice_interrupts_a_speaking_avatar(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("This is a long answer " * 30, token_delay=0.005)
    session = make_session(log, chat, synthesizer=FakeSynthesizer(RATE, seconds_per_word=0.1))
    running.append(session)
    turn = session.submit_text("hello")
    log.wait_for(ev.AudioOut, turn)
    source = FakeAudioSource(speech_then_silence(), RATE)
    source.start(session.feed_audio)
    interrupted = log.wait_for(ev.Interrupted, turn)
    source.stop()
    assert interrupted.reason == "barge-in"
    assert log.of(ev.UserStartedSpeaking)[0].ts <= interrupted.ts


def test_unreachable_model_gives_a_notice_and_a_fallback_line(
    log: EventLog, running: list[Session]
) -> None:
    message = "Cannot reach the language model at http://127.0.0.1:9/v1."
    session = make_session(log, FakeChat(error=ConnectionError(message)))
    running.append(session)
    turn = session.submit_text("hello?")
    notice = log.wait_for(ev.Notice, turn)
    ended = log.wait_for(ev.TurnEnded, turn)
    assert notice.role == "chat" and "Cannot reach" in notice.message
    spoken = [e.text for e in log.of(ev.ReplySentence, turn)]
    assert spoken == [session.persona.fallback.get("en")]
    assert not ended.interrupted
    # the session goes on: the next turn still runs
    session.roles.chat = FakeChat("I'm back.")
    again = session.submit_text("hello again")
    assert log.wait_for(ev.TurnEnded, again).reply_text == "I'm back."


def test_text_only_session_without_speech_roles_still_converses(log: EventLog) -> None:
    session = Session(Roles(chat=FakeChat("Plain text reply.")), load_persona("default"))
    session.subscribe(log)
    session.start()
    try:
        turn = session.submit_text("hi")
        assert log.wait_for(ev.TurnEnded, turn).reply_text == "Plain text reply."
        assert log.of(ev.ReplySentence, turn)[0].text == "Plain text reply."
        assert not log.of(ev.AudioOut)
    finally:
        session.close()


def test_missing_transcriber_is_reported_not_fatal(log: EventLog) -> None:
    session = Session(Roles(chat=FakeChat("ok")), load_persona("default"))
    session.subscribe(log)
    session.start()
    try:
        turn = session.hear_utterance(np.zeros(RATE, np.float32))
        assert "unavailable" in log.wait_for(ev.Notice, turn).message
    finally:
        session.close()


def test_greeting_discloses_ai_in_korean(log: EventLog) -> None:
    session = Session(Roles(), load_persona("default"), language="ko")
    session.subscribe(log)
    session.start(greet=True)
    try:
        ended = log.wait_for(ev.TurnEnded)
        assert "AI" in ended.reply_text and "하나" in ended.reply_text
    finally:
        session.close()


def test_close_wipes_the_conversation(log: EventLog) -> None:
    session = Session(Roles(chat=FakeChat("Sure.")), load_persona("default"))
    session.subscribe(log)
    session.start()
    log.wait_for(ev.TurnEnded, session.submit_text("remember me"))
    assert len(session.history()) == 2
    session.close()
    assert session.history() == []
    assert log.of(ev.SessionEnded)


def test_core_never_imports_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys; import app.core.session, app.core.registry, app.config.settings,"
        " dialog.persona, app.core.fakes; assert 'PySide6' not in sys.modules, 'Qt leaked'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
