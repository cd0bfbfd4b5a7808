"""The "auto" chain picks the first server that answers, against real local HTTP servers.

Configured server -> a local Ollama (here: a scripted OpenAI-compatible server standing at
the Ollama address the chain is given) -> the built-in llama.cpp server -> FAQ mode.
The real ``openai`` client talks to the real sockets; the built-in server with a real
model is exercised in tests/integration/test_llm_embedded_server.py.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from app.config.settings import LlmSettings, Settings
from app.core import events as ev
from app.core.fakes import FakeChat
from app.core.registry import Roles
from app.core.session import Session
from app.core.types import ChatMessage
from dialog.llm.auto_chat import AutoChat
from dialog.llm.chain_chat import EndpointChain
from dialog.llm.endpoints import (
    OLLAMA_BASE_URL,
    Endpoint,
    Unavailable,
    configured_step,
    ollama_step,
    pick_model,
    probe_models,
)
from dialog.persona import load_persona
from dialog.tools import ToolCall
from tests.support.events import EventLog
from tests.support.openai_server import OpenAIServer, ToolCallPiece

ASK = [ChatMessage("user", "where is the pharmacy")]
FAQ_ANSWER = "The pharmacy is on the first floor."


def closed_url() -> str:
    """A base URL on a port where nothing listens (connection refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung server)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    sock.close()


def settings(base_url: str = OLLAMA_BASE_URL, **llm: object) -> Settings:
    values = {"base_url": base_url, "model": "llama3.2", "first_token_timeout_s": 5.0, **llm}
    return Settings(llm=LlmSettings.model_validate(values))


def chain(
    config: Settings, ollama_url: str, *, installed: bool = False, **options: object
) -> EndpointChain:
    return EndpointChain(
        config,
        ollama_url=ollama_url,
        llama_missing=lambda: None if installed else "llama-cpp-python is not installed",
        environ={},
        **options,  # type: ignore[arg-type]
    )


def auto(primary: EndpointChain) -> tuple[AutoChat, FakeChat]:
    fallback = FakeChat(FAQ_ANSWER)
    chat = AutoChat(
        primary,
        make_fallback=lambda: fallback,
        notice=lambda: "Answering only from the hospital's information.",
        retry_after_s=0.0,
    )
    return chat, fallback


def ask(chat: AutoChat | EndpointChain, messages: Sequence[ChatMessage] = ASK) -> str:
    async def run() -> str:
        return "".join([p async for p in chat.stream(messages)])

    return asyncio.run(run())


# ------------------------------------------------------------------ the probes and steps
def test_a_probe_lists_the_models_and_tells_refused_from_http_errors() -> None:
    with OpenAIServer(models=["llama3.2:latest", "qwen2.5:3b"]) as server:
        found = probe_models(server.base_url, timeout=1.0)
        assert found.reachable and found.status == 200
        assert found.models == ("llama3.2:latest", "qwen2.5:3b")
        missing_route = probe_models(f"{server.url}/nowhere", timeout=1.0)
        assert missing_route.reachable and missing_route.status == 404
    started = time.monotonic()
    refused = probe_models(closed_url(), timeout=1.0)
    assert not refused.reachable and "refused" in refused.reason
    assert time.monotonic() - started < 1.0


def test_a_probe_of_a_silent_server_gives_up_after_its_timeout(silent_url: str) -> None:
    started = time.monotonic()
    probe = probe_models(silent_url, timeout=0.3)
    assert not probe.reachable and "0.3 s" in probe.reason
    assert time.monotonic() - started < 2.0


def test_the_model_is_matched_as_ollama_spells_it() -> None:
    assert pick_model("llama3.2", ("qwen2.5:3b", "llama3.2:latest")) == "llama3.2:latest"
    assert pick_model("llama3.2:1b", ("llama3.2:latest",)) == "llama3.2:latest"
    assert pick_model("qwen2.5:3b", ("qwen2.5:3b",)) == "qwen2.5:3b"
    assert pick_model("mistral", ("phi3:mini", "gemma2")) == "phi3:mini"


def test_the_configured_step_applies_only_to_an_address_the_user_set() -> None:
    assert configured_step(LlmSettings()) is None  # Ollama's default: the next step's job
    down = closed_url()
    failed = configured_step(LlmSettings(base_url=down))
    assert isinstance(failed, Unavailable) and down in failed.reason
    with OpenAIServer() as server:
        found = configured_step(LlmSettings(base_url=server.base_url, model="m"))
    assert isinstance(found, Endpoint) and found.kind == "configured"
    assert found.model == "m" and found.api_key is None  # the settings' key lookup applies


def test_the_ollama_step_needs_a_pulled_model() -> None:
    with OpenAIServer(models=[]) as server:
        empty = ollama_step(LlmSettings(), base_url=server.base_url)
        assert isinstance(empty, Unavailable) and "ollama pull llama3.2" in empty.reason
        server.models = ["qwen2.5:3b", "llama3.2:latest"]
        found = ollama_step(LlmSettings(), base_url=server.base_url)
    assert isinstance(found, Endpoint) and found.model == "llama3.2:latest"
    assert found.api_key == "not-needed"  # never send the user's cloud key to a local port


# ------------------------------------------------------------------ the chain's choice
def test_a_configured_server_that_answers_is_used_and_announced_once() -> None:
    with OpenAIServer(reply="From the configured server.") as configured, OpenAIServer() as ollama:
        primary = chain(settings(configured.base_url, model="test-model"), ollama.base_url)
        chat, fallback = auto(primary)
        assert ask(chat) == "From the configured server."
        assert ask(chat) == "From the configured server."
        assert [r.model for r in configured.chat_requests] == ["test-model", "test-model"]
        assert ollama.requests == []  # never even probed
        notices = chat.pop_notices()
        assert len(notices) == 1 and configured.base_url in notices[0]
        assert fallback.requests == [] and primary.searches == 1


def test_the_configured_server_away_then_ollama_answers() -> None:
    down = closed_url()
    with OpenAIServer(reply="From Ollama.", models=["llama3.2:latest"]) as ollama:
        chat, fallback = auto(chain(settings(down), ollama.base_url))
        assert ask(chat) == "From Ollama."
        assert ollama.chat_requests[-1].model == "llama3.2:latest"
        assert ollama.chat_requests[-1].authorization == "Bearer not-needed"
        (notice,) = chat.pop_notices()
        assert notice.startswith("Language model: Ollama at") and down in notice
        assert fallback.requests == []


def test_the_default_address_goes_straight_to_ollama() -> None:
    with OpenAIServer(reply="Hi from Ollama.", models=["llama3.2"]) as ollama:
        chat, _ = auto(chain(settings(), ollama.base_url))
        assert ask(chat) == "Hi from Ollama."
        (notice,) = chat.pop_notices()
        assert "Not used" not in notice  # the configured step did not apply


def test_nothing_answers_faq_mode_says_why_each_step_failed_once() -> None:
    down, no_ollama = closed_url(), closed_url()
    primary = chain(settings(down), no_ollama)
    chat, _ = auto(primary)
    assert ask(chat) == FAQ_ANSWER
    (notice,) = chat.pop_notices()
    assert down in notice and no_ollama in notice
    assert "llama-cpp-python is not installed" in notice
    assert "hospital's information" in notice
    assert ask(chat) == FAQ_ANSWER and chat.pop_notices() == []
    assert primary.searches == 1  # within rediscover_after_s nothing is probed again


def test_the_built_in_step_is_reached_and_its_failure_is_reported(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.gguf"
    config = settings(closed_url(), local_model=str(missing))
    chat, _ = auto(chain(config, closed_url(), installed=True, log_path=tmp_path / "llama.log"))
    assert ask(chat) == FAQ_ANSWER
    (notice,) = chat.pop_notices()
    assert f"the model file {missing} does not exist" in notice
    off, _ = auto(chain(settings(closed_url(), local_server=False), closed_url(), installed=True))
    assert ask(off) == FAQ_ANSWER
    assert "off (llm.local_server)" in off.pop_notices()[0]
    unchosen, _ = auto(chain(settings(closed_url()), closed_url(), installed=True))
    assert ask(unchosen) == FAQ_ANSWER
    assert "set llm.local_model" in unchosen.pop_notices()[0]


def test_a_server_that_appears_later_is_found_after_the_interval() -> None:
    class Clock:
        now = 0.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    with OpenAIServer(reply="Now I am here.", models=[]) as ollama:
        primary = chain(settings(), ollama.base_url, rediscover_after_s=30.0, clock=clock)
        chat, _ = auto(primary)
        assert ask(chat) == FAQ_ANSWER
        assert "ollama pull" in chat.pop_notices()[0]
        ollama.models = ["llama3.2"]  # the user pulled a model
        clock.now = 10.0
        assert ask(chat) == FAQ_ANSWER and primary.searches == 1
        clock.now = 31.0
        assert ask(chat) == FAQ_ANSWER  # this turn starts the search in the background...
        deadline = time.monotonic() + 5
        while ask(chat) != "Now I am here.":  # ...and a following turn finds Ollama
            assert time.monotonic() < deadline
        notices = chat.pop_notices()
        assert any(n.startswith("Language model: Ollama") for n in notices)
        assert "The language model is back." in notices


def test_when_the_server_in_use_goes_away_the_chain_moves_on() -> None:
    with OpenAIServer(reply="From Ollama.", models=["llama3.2"]) as ollama:
        configured = OpenAIServer(reply="From the configured server.").start()
        primary = chain(settings(configured.base_url), ollama.base_url)
        chat, _ = auto(primary)
        assert ask(chat) == "From the configured server."
        configured.stop()
        assert ask(chat) == FAQ_ANSWER  # this turn: the knowledge base answers
        deadline = time.monotonic() + 5
        while ask(chat) != "From Ollama.":  # the search ran again in the background
            assert time.monotonic() < deadline
        notices = chat.pop_notices()
        assert notices[0].startswith("Language model: the configured server")
        assert any("hospital's information" in n for n in notices)
        assert any(n.startswith("Language model: Ollama") for n in notices)
        assert primary.endpoint is not None and primary.endpoint.kind == "ollama"


def test_a_slow_search_does_not_hold_the_turn(silent_url: str) -> None:
    """The configured address swallows the probe; the turn waits only ``wait_s`` and is
    answered from the knowledge base; a later turn gets Ollama without waiting again."""
    with OpenAIServer(reply="From Ollama.", models=["llama3.2"]) as ollama:
        config = settings(silent_url, connect_timeout_s=1.0)
        primary = chain(config, ollama.base_url, wait_s=0.2)
        primary.warm()
        chat, _ = auto(primary)
        started = time.monotonic()
        assert ask(chat) == FAQ_ANSWER
        assert time.monotonic() - started < 0.8
        assert "still going" in chat.pop_notices()[0]
        started = time.monotonic()
        assert ask(chat) == FAQ_ANSWER  # the same search: no second wait
        assert time.monotonic() - started < 0.1
        deadline = time.monotonic() + 5
        while ask(chat) != "From Ollama.":
            assert time.monotonic() < deadline
        assert primary.searches == 1


def test_tool_calls_pass_through_the_chain() -> None:
    piece = ToolCallPiece("call_staff", '{"reason": "wheelchair"}', id="c1")
    with OpenAIServer(reply=["One moment. ", piece], models=["llama3.2"]) as ollama:
        chat, _ = auto(chain(settings(), ollama.base_url))

        async def items() -> list[object]:
            schema = {"type": "function", "function": {"name": "call_staff", "parameters": {}}}
            return [i async for i in chat.stream_with_tools(ASK, [schema])]

        got = asyncio.run(items())
        assert got[0] == "One moment. "
        assert got[1] == ToolCall("c1", "call_staff", '{"reason": "wheelchair"}')
        assert ollama.chat_requests[0].tools[0]["function"]["name"] == "call_staff"


def test_a_turn_cancelled_while_waiting_does_not_cancel_the_search(silent_url: str) -> None:
    with OpenAIServer(reply="From Ollama.", models=["llama3.2"]) as ollama:
        primary = chain(settings(silent_url, connect_timeout_s=0.5), ollama.base_url, wait_s=5.0)

        async def cancelled_turn() -> None:
            task = asyncio.ensure_future(ask_async(primary))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(cancelled_turn())
        assert ask(primary) == "From Ollama." and primary.searches == 1


async def ask_async(chat: EndpointChain) -> str:
    return "".join([p async for p in chat.stream(ASK)])


def test_through_a_session_one_notice_names_the_server() -> None:
    with OpenAIServer(reply="The pharmacy is by the main entrance.", models=["x"]) as ollama:
        primary = chain(settings(closed_url()), ollama.base_url)
        chat, _ = auto(primary)
        log = EventLog()
        session = Session(Roles(chat=chat), load_persona("default"), knowledge=None)
        session.subscribe(log)
        session.start()
        try:
            first = session.submit_text("Where is the pharmacy?")
            ended = log.wait_for(ev.TurnEnded, first, timeout=10)
            assert ended.reply_text == "The pharmacy is by the main entrance."
            second = session.submit_text("Thanks. And the cafe?")
            log.wait_for(ev.TurnEnded, second, timeout=10)
            notices = [n.message for n in log.of(ev.Notice) if n.role == "chat"]
            assert len(notices) == 1 and notices[0].startswith("Language model: Ollama")
        finally:
            session.close()
        # closing the session released the chat's client; a later use still works
        assert threading.active_count() >= 1 and ask(primary).startswith("The pharmacy")
