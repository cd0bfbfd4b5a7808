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
    FakeToolChat,
    FakeTranscriber,
    FakeVoiceActivity,
)
from app.core.registry import Roles
from app.core.session import Session
from app.core.timeline import MILESTONES
from app.core.types import Affect
from dialog.persona import load_persona
from dialog.safety import SafetyGuard
from dialog.tools import ToolCall
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


# ------------------------------------------------------------ the mind: safety, tags, tools


def mind_session(
    log: EventLog, chat: object, persona: str = "default", **kwargs: object
) -> Session:
    """Text only, lexicon-only safety (no encoder load), no knowledge unless given."""
    kwargs.setdefault("guard", SafetyGuard())
    kwargs.setdefault("knowledge", None)
    session = Session(Roles(chat=chat), load_persona(persona), **kwargs)  # type: ignore[arg-type]
    session.subscribe(log)
    session.start()
    return session


def system_of(chat: FakeChat, index: int = -1) -> str:
    replies = [m for m in chat.requests if not m[0].content.startswith("Summarise")]
    return replies[index][0].content


def test_reply_tags_become_cues_and_never_reach_speech_or_captions(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("[smile] The cafe is on the first floor. [nod]It opens at [wink] seven.")
    session = make_session(log, chat)
    running.append(session)
    turn = session.submit_text("is there a cafe?")
    ended = log.wait_for(ev.TurnEnded, turn)
    assert ended.reply_text == "The cafe is on the first floor. It opens at seven."
    texts = [e.text for e in log.of(ev.ReplyChunk, turn) + log.of(ev.ReplySentence, turn)]
    assert texts and not any("[" in t or "]" in t for t in texts)
    synth = session.roles.synthesizer
    assert isinstance(synth, FakeSynthesizer) and not any("[" in s for s in synth.spoken)
    cues = [(c.tag, c.sentence_index) for c in log.of(ev.ExpressionCue, turn)]
    assert cues == [("smile", 0), ("nod", 1)]  # wink is not in Hana's expressions
    assert ev.ExpressionCue.priority is ev.Priority.DATA
    assert "[smile]" in system_of(chat)  # the allowed tags are offered to the model


@pytest.mark.parametrize(
    ("text", "line", "language"),
    [("요즘 너무 힘들어서 죽고 싶어요", "109", "ko"), ("I just want to end it all", "988", "en")],
)
def test_a_crisis_is_answered_by_the_protocol_not_the_model(
    log: EventLog, running: list[Session], text: str, line: str, language: str
) -> None:
    chat = FakeChat("Model words.")
    session = mind_session(log, chat)
    running.append(session)
    turn = session.submit_text(text)
    ended = log.wait_for(ev.TurnEnded, turn)
    alert = log.wait_for(ev.StaffAlert, turn)
    assert line in ended.reply_text and "Model words" not in ended.reply_text
    assert alert.severity == "urgent" and alert.priority is ev.Priority.CONTROL
    assert log.of(ev.SafetyAction, turn)[0].kind == "crisis-protocol"
    assert chat.requests == []
    # the next turn goes to the model, which is told to stay gentle and repeat the line
    log.wait_for(ev.TurnEnded, session.submit_text("thank you" if language == "en" else "고마워요"))
    assert line in system_of(chat) and "staff have been called" in system_of(chat)


def test_a_staff_alert_survives_an_interrupt(log: EventLog, running: list[Session]) -> None:
    session = make_session(log, FakeChat("x"), synthesizer=FakeSynthesizer(RATE, 0.2))
    running.append(session)
    turn = session.submit_text("I want to kill myself")
    log.wait_for(ev.AudioOut, turn)
    session.interrupt("user")
    log.wait_for(ev.Interrupted, turn)
    assert log.of(ev.StaffAlert, turn)


def test_the_hospital_guide_refers_medical_questions(log: EventLog, running: list[Session]) -> None:
    chat = FakeChat("Take two.")
    session = mind_session(log, chat)
    running.append(session)
    ended = log.wait_for(ev.TurnEnded, session.submit_text("진통제 하루에 얼마나 먹어도 돼요?"))
    assert "약사" in ended.reply_text and chat.requests == []
    assert not log.of(ev.StaffAlert)


def test_a_clinician_claim_is_replaced_before_it_is_shown_or_spoken(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("Hello. As your doctor, I say rest. You look sad. The lift is on the left.")
    session = make_session(log, chat)
    running.append(session)
    session.guard = SafetyGuard()
    turn = session.submit_text("hello")
    ended = log.wait_for(ev.TurnEnded, turn)
    shown = "".join(e.text for e in log.of(ev.ReplyChunk, turn))
    assert "doctor, I say" not in shown and "doctor, I say" not in ended.reply_text
    assert "not a doctor" in ended.reply_text and "The lift is on the left." in ended.reply_text
    assert "sad" not in ended.reply_text and "sad" not in shown
    details = [a.detail for a in log.of(ev.SafetyAction, turn)]
    assert details == ["clinician-claim", "labels-visitor"]


def test_tools_run_and_the_reply_continues(log: EventLog, running: list[Session]) -> None:
    chat = FakeToolChat(
        rounds=[
            ["Here is the map. ", ToolCall("c1", "show_info", '{"card": "floor-map"}')],
            ["The pharmacy is outside."],
        ]
    )
    session = mind_session(log, chat)
    running.append(session)
    turn = session.submit_text("where is everything?")
    ended = log.wait_for(ev.TurnEnded, turn)
    shown = log.wait_for(ev.ShowInfo, turn)
    assert shown.card == "floor-map" and "2F" in shown.body
    assert ended.reply_text == "Here is the map. The pharmacy is outside."
    (_, tools, exchanges) = chat.tool_requests[1]
    assert [t["function"]["name"] for t in tools] == ["call_staff", "show_info", "end_session"]  # type: ignore[index]
    assert exchanges[0].results == ("The card 'floor-map' is on the screen.",)  # type: ignore[attr-defined]


def test_a_bad_tool_call_goes_back_to_the_model_as_an_error(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeToolChat(
        rounds=[[ToolCall("c1", "show_info", '{"card": "moon"}')], ["Sorry, I have no such map."]]
    )
    session = mind_session(log, chat)
    running.append(session)
    turn = session.submit_text("show me the moon map")
    assert log.wait_for(ev.TurnEnded, turn).reply_text == "Sorry, I have no such map."
    assert not log.of(ev.ShowInfo, turn)
    assert "no card 'moon'" in log.wait_for(ev.Notice, turn).message
    result = chat.tool_requests[1][2][0].results[0]  # type: ignore[attr-defined]
    assert result.startswith("error: ") and "floor-map" in result


def test_end_session_says_goodbye_and_asks_the_app_to_end(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeToolChat(rounds=[[ToolCall("c1", "end_session", "{}")]])
    session = mind_session(log, chat, language="ko")
    running.append(session)
    turn = session.submit_text("이제 갈게요, 안녕히 계세요")
    ended = log.wait_for(ev.TurnEnded, turn)
    assert log.wait_for(ev.SessionEndRequested, turn)
    assert ended.reply_text == session.persona.farewell.get("ko")
    assert len(chat.tool_requests) == 1  # no continuation after end_session


def test_a_korean_visitor_gets_a_korean_reply_instruction(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("네.")
    session = mind_session(log, chat, language="en")
    running.append(session)
    log.wait_for(ev.TurnEnded, session.submit_text("화장실이 어디예요?"))
    assert "reply in Korean" in system_of(chat)
    assert system_of(chat).startswith("당신은 새봄종합병원")
    log.wait_for(ev.TurnEnded, session.submit_text("Where is the toilet?"))
    assert "reply in English" in system_of(chat)


def test_affect_is_soft_context_only_when_the_persona_allows_it(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("I understand.")
    session = mind_session(log, chat)
    running.append(session)
    session.set_user_affect(Affect(-0.7, 0.6, "angry", 0.8, ("brow",)))
    log.wait_for(ev.TurnEnded, session.submit_text("this is taking forever"))
    system = system_of(chat)
    assert "Soft context, possibly wrong: the visitor may be tense or upset" in system
    assert "never name or guess" in system and "angry" not in system
    session.set_user_affect(Affect(-0.7, 0.6, "angry", 0.1))  # too unsure to use
    log.wait_for(ev.TurnEnded, session.submit_text("still waiting"))
    assert "Soft context" not in system_of(chat)
    other, other_log = FakeChat("Hmm."), EventLog()
    customer = mind_session(other_log, other, persona="sales-customer")
    running.append(customer)
    customer.set_user_affect(Affect(-0.7, 0.6, "angry", 0.9))
    other_log.wait_for(ev.TurnEnded, customer.submit_text("our price is fair"))
    assert "Soft context" not in system_of(other)


def test_visitor_left_wipes_memory_and_goes_idle_arrived_greets(
    log: EventLog, running: list[Session]
) -> None:
    chat = FakeChat("Sure.")
    session = mind_session(log, chat, history_turns=1, llm_summary=False)
    running.append(session)
    log.wait_for(ev.TurnEnded, session.submit_text("my name is Kim"))
    log.wait_for(ev.TurnEnded, session.submit_text("where is the lift?"))
    assert session.memory.summary and len(session.history()) == 2
    log.wait_for(ev.TurnEnded, session.submit_text("and the toilet?"))
    assert "my name is Kim" in system_of(chat)  # older turns live on in the summary
    session.set_user_affect(Affect(-0.8, 0.1, "sad", 0.9))
    session.visitor_left()
    left = log.wait_for(ev.VisitorPresence)
    assert not left.present
    deadline = time.monotonic() + 2
    while session.mode is not ev.AvatarMode.IDLE and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.mode is ev.AvatarMode.IDLE
    assert session.history() == [] and session.memory.summary == ""
    session.visitor_arrived()
    greeting = log.wait_for(ev.TurnEnded, timeout=5)
    for _ in range(100):
        greetings = [e for e in log.of(ev.TurnEnded) if "AI" in e.reply_text]
        if greetings:
            break
        time.sleep(0.02)
    assert greetings and "Hana" in greetings[-1].reply_text, greeting
    log.wait_for(ev.TurnEnded, session.submit_text("hello again"))
    assert "Kim" not in system_of(chat) and "Soft context" not in system_of(chat)


def test_knowledge_passages_are_quoted_with_citations(
    log: EventLog, running: list[Session]
) -> None:
    from dialog.knowledge import KnowledgeBase
    from dialog.retrieval import Retriever

    retriever = Retriever(KnowledgeBase.from_folder(embedder=None), top_k=2)
    chat = FakeChat("Basement levels 2 and 3.")
    session = mind_session(log, chat, knowledge=retriever)
    running.append(session)
    log.wait_for(ev.TurnEnded, session.submit_text("Where can I park my car?"))
    system = system_of(chat)
    assert '<passage source="faq.en.md#parking' in system and "basement levels 2" in system
    assert "only from the reference passages" in system and "do not know" in system
    log.wait_for(ev.TurnEnded, session.submit_text("주차장은 어디에 있나요?"))
    assert '<passage source="faq.ko.md#parking' in system_of(chat)


def test_a_real_openai_stream_with_tool_deltas_through_the_session(
    log: EventLog, running: list[Session]
) -> None:
    from app.config.settings import LlmSettings
    from dialog.llm.openai_chat import OpenAIChat
    from tests.support.openai_server import OpenAIServer, ToolCallPiece

    def script(messages: list[dict[str, object]]) -> list[object]:
        if messages[-1]["role"] == "tool":
            return ["[nod] The card ", "is on ", "the screen."]
        return ["[smi", "le] Let me show you. ", ToolCallPiece("show_info", '{"card": "parking"}')]

    with OpenAIServer(script=script) as server:  # type: ignore[arg-type]
        chat = OpenAIChat(LlmSettings(base_url=server.base_url, model="m"), environ={})
        session = mind_session(log, chat)
        running.append(session)
        turn = session.submit_text("where do I park?")
        ended = log.wait_for(ev.TurnEnded, turn)
        assert ended.reply_text == "Let me show you. The card is on the screen."
        assert log.wait_for(ev.ShowInfo, turn).card == "parking"
        assert [c.tag for c in log.of(ev.ExpressionCue, turn)] == ["smile", "nod"]
        assert len(server.chat_requests) == 2 and server.chat_requests[0].tools


def test_the_model_summarises_turns_that_leave_the_window(
    log: EventLog, running: list[Session]
) -> None:
    def reply(messages: object) -> str:
        first = messages[0].content  # type: ignore[index]
        if first.startswith("Summarise"):
            return "The visitor, Mr Kim, asked where the lift is."
        return "Sure."

    chat = FakeChat(reply)
    session = mind_session(log, chat, history_turns=1)
    running.append(session)
    log.wait_for(ev.TurnEnded, session.submit_text("I'm Mr Kim. Where is the lift?"))
    log.wait_for(ev.TurnEnded, session.submit_text("and the toilet?"))
    deadline = time.monotonic() + 3
    while "Mr Kim, asked" not in session.memory.summary and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.memory.summary == "The visitor, Mr Kim, asked where the lift is."
    log.wait_for(ev.TurnEnded, session.submit_text("thanks"))
    assert "<summary>The visitor, Mr Kim, asked where the lift is.</summary>" in system_of(chat)
    summary_request = next(m for m in chat.requests if m[0].content.startswith("Summarise"))
    assert "<conversation>" in summary_request[1].content


class WordTimedSynthesizer(FakeSynthesizer):
    """Like an engine with alignments: each word 0.25 s, with its word timing."""

    def synthesize(self, text: str, language: str | None = None):  # type: ignore[no-untyped-def]
        from app.core.types import SpeechChunk, WordTiming

        words = text.split()
        n = int(0.25 * self.sample_rate)
        samples = np.full(n * len(words), 0.1, np.float32)
        timings = tuple(WordTiming(w, i * n, (i + 1) * n) for i, w in enumerate(words))
        yield SpeechChunk(samples, self.sample_rate, (), text, timings)


def test_an_interrupt_keeps_the_reply_heard_to_the_word(
    log: EventLog, running: list[Session]
) -> None:
    reply = "Radiology is on the second floor past the lifts."
    session = make_session(log, FakeChat(reply), synthesizer=WordTimedSynthesizer(RATE))
    running.append(session)
    session.submit_text("Where is radiology?")
    log.wait_for(ev.AudioOut, timeout=5)
    time.sleep(0.9)
    session.interrupt("barge-in")
    cut = log.wait_for(ev.Interrupted, timeout=5)
    # a word counts once half of it was heard: exactly the words whose middle has passed
    expected = [w for i, w in enumerate(reply.split()) if (i + 0.5) * 0.25 <= cut.heard_seconds]
    assert 2 <= len(expected) < len(reply.split())
    assert cut.heard_text.split() == expected
    assert session.history()[-1].content.startswith(" ".join(expected))
