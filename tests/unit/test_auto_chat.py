"""The auto chat engine falls back to FAQ answers only when the server is away."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.core import events as ev
from app.core.fakes import FakeChat
from app.core.registry import Roles
from app.core.session import Session
from app.core.types import ChatMessage
from dialog.llm import ChatError
from dialog.llm.auto_chat import AutoChat
from dialog.persona import load_persona
from tests.support.events import EventLog

ASK = [ChatMessage("user", "where is the pharmacy")]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def collect(chat: AutoChat, messages: Sequence[ChatMessage] = ASK) -> str:
    async def run() -> str:
        return "".join([piece async for piece in chat.stream(messages)])

    return asyncio.run(run())


def make(primary: FakeChat, clock: Clock | None = None) -> tuple[AutoChat, FakeChat]:
    fallback = FakeChat("The pharmacy is on the first floor.")
    chat = AutoChat(
        primary,
        make_fallback=lambda: fallback,
        notice=lambda: "Answering only from the hospital's information.",
        retry_after_s=30,
        clock=clock or Clock(),
    )
    return chat, fallback


def test_unreachable_server_falls_back_and_says_so_once() -> None:
    down = ChatError("Cannot reach http://127.0.0.1:9/v1.", "unreachable")
    clock = Clock()
    primary = FakeChat(error=down)
    chat, fallback = make(primary, clock)
    assert collect(chat) == "The pharmacy is on the first floor."
    notices = chat.pop_notices()
    assert len(notices) == 1 and "Cannot reach" in notices[0] and "hospital" in notices[0]
    # within the retry window the server is not asked again, and nothing new is said
    clock.now += 5
    assert collect(chat) == "The pharmacy is on the first floor."
    assert len(primary.requests) == 1 and chat.pop_notices() == []
    # after the window the server is tried again; when it answers, that is said too
    clock.now += 60
    primary.error = None
    primary.reply = "Back online."
    assert collect(chat) == "Back online."
    assert not chat.degraded and chat.pop_notices() == ["The language model is back."]
    assert len(fallback.requests) == 2


def test_a_bad_key_is_not_hidden_behind_faq_mode() -> None:
    chat, _ = make(FakeChat(error=ChatError("The server refused the API key.", "auth")))
    with pytest.raises(ChatError, match="API key"):
        collect(chat)
    assert not chat.degraded


def test_a_failure_after_speaking_is_raised_not_patched() -> None:
    class Breaks(FakeChat):
        async def stream(self, messages: Sequence[ChatMessage]):  # type: ignore[no-untyped-def,override]
            yield "The pharmacy"
            raise ChatError("connection dropped", "unreachable")

    chat, fallback = make(Breaks())
    with pytest.raises(ChatError):
        collect(chat)
    assert fallback.requests == []


def test_session_turns_the_fallback_into_one_notice_and_an_answer() -> None:
    log = EventLog()
    chat, _ = make(FakeChat(error=ChatError("Cannot reach the server.", "unreachable")))
    session = Session(Roles(chat=chat), load_persona("default"))
    session.subscribe(log)
    session.start()
    try:
        first = session.submit_text("pharmacy?")
        assert log.wait_for(ev.TurnEnded, first).reply_text == "The pharmacy is on the first floor."
        second = session.submit_text("and again?")
        log.wait_for(ev.TurnEnded, second)
        notices = log.of(ev.Notice)
        assert len(notices) == 1 and notices[0].role == "chat"
        # no persona fallback line was spoken on top of the answer
        spoken = [e.text for e in log.of(ev.ReplySentence, first)]
        assert spoken == ["The pharmacy is on the first floor."]
    finally:
        session.close()


def test_tools_pass_through_to_the_server_and_faq_mode_answers_with_text() -> None:
    from app.core.fakes import FakeToolChat
    from dialog.tools import ToolCall

    call = ToolCall("c1", "call_staff", '{"reason": "wheelchair"}')
    primary = FakeToolChat(rounds=[["One moment. ", call]])
    chat, fallback = make(primary)

    async def items() -> list[object]:
        return [i async for i in chat.stream_with_tools(ASK, [{"type": "function"}])]

    assert asyncio.run(items()) == ["One moment. ", call]
    assert primary.tool_requests[0][1] == [{"type": "function"}]
    primary.error = ChatError("Cannot reach the server.", "unreachable")
    primary.rounds = []
    assert "".join(map(str, asyncio.run(items()))) == "The pharmacy is on the first floor."
    assert chat.degraded and fallback.requests
