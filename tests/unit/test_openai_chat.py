"""OpenAIChat with the real ``openai`` client against a real local SSE server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Awaitable, Coroutine, Iterator, Sequence
from typing import Any, TypeVar

import pytest

from app.config.settings import LlmSettings
from app.core.roles import Chat
from app.core.types import ChatMessage
from dialog.llm import ChatError
from dialog.llm.api_key import (
    PLACEHOLDER_API_KEY,
    ApiKeyStoreError,
    keyring_user,
    lookup_api_key,
    resolve_api_key,
    store_api_key,
)
from dialog.llm.openai_chat import OpenAIChat
from tests.support.openai_server import OpenAIServer, split_tokens

pytestmark = pytest.mark.timeout(10)

T = TypeVar("T")
KOREAN = "안녕하세요, 무엇을 도와드릴까요?"
HELLO = [ChatMessage("system", "You are a kind guide."), ChatMessage("user", "Hello!")]


def run(coro: Coroutine[Any, Any, T], timeout: float = 5.0) -> T:
    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def collect(chat: Chat, messages: Sequence[ChatMessage] = HELLO) -> list[str]:
    return [piece async for piece in chat.stream(messages)]


def fail(chat: OpenAIChat, messages: Sequence[ChatMessage] = HELLO) -> ChatError:
    with pytest.raises(ChatError) as info:
        run(collect(chat, messages))
    error = info.value
    assert "Traceback" not in str(error)
    assert chat.base_url in str(error)
    return error


def make_chat(base_url: str, environ: dict[str, str] | None = None, **fields: Any) -> OpenAIChat:
    fields.setdefault("model", "test-model")
    settings = LlmSettings(base_url=base_url, **fields)
    return OpenAIChat(settings, environ={} if environ is None else environ)


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may read or write the developer's real keyring."""
    import keyring

    def refuse(*args: object) -> None:
        raise keyring.errors.NoKeyringError("no keyring in tests")

    monkeypatch.setattr(keyring, "get_password", refuse)
    monkeypatch.setattr(keyring, "set_password", refuse)


@pytest.fixture
def server() -> Iterator[OpenAIServer]:
    with OpenAIServer() as srv:
        yield srv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------- streaming
@pytest.mark.parametrize("text", ["Hello there! How can I help you today?", KOREAN])
def test_reply_streams_in_several_pieces(server: OpenAIServer, text: str) -> None:
    server.reply = text
    pieces = run(collect(make_chat(server.base_url)))
    assert len(pieces) >= 3
    assert "".join(pieces) == text
    assert all(pieces)  # the role-only and finish chunks yield nothing
    assert server.completed == 1


def test_pieces_arrive_as_they_are_sent(server: OpenAIServer) -> None:
    server.reply = "one two three"
    server.token_delay = 0.15

    async def timed() -> list[float]:
        stamps = []
        async for _ in make_chat(server.base_url).stream(HELLO):
            stamps.append(time.monotonic())
        return stamps

    stamps = run(timed())
    assert len(stamps) == 3
    assert stamps[-1] - stamps[0] >= 0.25  # not buffered until the end


def test_messages_model_and_options_reach_the_server(server: OpenAIServer) -> None:
    messages = [*HELLO, ChatMessage("assistant", "Hi!"), ChatMessage("user", "어디 있어요?")]
    chat = make_chat(server.base_url, model="llama3.2", temperature=0.3, max_tokens=55)
    run(collect(chat, messages))
    request = server.last_request
    assert request.path == "/v1/chat/completions"
    assert request.model == "llama3.2"
    assert request.stream is True
    assert request.messages == [{"role": m.role, "content": m.content} for m in messages]
    assert request.body["temperature"] == 0.3
    assert request.body["max_tokens"] == 55


def test_script_chooses_the_reply_from_the_conversation() -> None:
    def echo(messages: list[dict[str, Any]]) -> str:
        return f"You said: {messages[-1]['content']}"

    with OpenAIServer(script=echo) as srv:
        chat = make_chat(srv.base_url)
        assert "".join(run(collect(chat, [ChatMessage("user", "ping")]))) == "You said: ping"


def test_is_a_chat_role_and_survives_several_event_loops(server: OpenAIServer) -> None:
    chat = make_chat(server.base_url)
    assert isinstance(chat, Chat)
    first = run(collect(chat))
    second = run(collect(chat))  # a new loop: the client must not reuse the old one's sockets
    assert first == second
    run(chat.aclose())


def test_a_server_that_ignores_stream_true_still_works() -> None:
    with OpenAIServer(reply=KOREAN, ignore_stream=True) as srv:
        assert "".join(run(collect(make_chat(srv.base_url)))) == KOREAN


# ---------------------------------------------------------------------- api keys
def test_api_key_from_the_environment_reaches_the_authorization_header() -> None:
    with OpenAIServer(require_key="sk-test-123") as srv:
        chat = make_chat(srv.base_url, {"MY_LLM_KEY": "sk-test-123"}, api_key_env="MY_LLM_KEY")
        assert run(collect(chat))
        assert srv.last_request.authorization == "Bearer sk-test-123"
        assert chat.has_api_key


def test_without_a_key_a_placeholder_is_sent(server: OpenAIServer) -> None:
    chat = make_chat(server.base_url)
    assert run(collect(chat))
    assert server.last_request.authorization == f"Bearer {PLACEHOLDER_API_KEY}"
    assert not chat.has_api_key


def test_keyring_is_asked_when_the_environment_has_no_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import keyring

    asked: list[tuple[str, str]] = []

    def fake_get(service: str, user: str) -> str:
        asked.append((service, user))
        return "sk-from-keyring"

    monkeypatch.setattr(keyring, "get_password", fake_get)
    with OpenAIServer(require_key="sk-from-keyring") as srv:
        assert run(collect(make_chat(srv.base_url)))
    assert asked == [("dhuman", "127.0.0.1")]
    # the environment wins over the keyring
    settings = LlmSettings(base_url="https://api.openai.com/v1")
    assert resolve_api_key(settings, {"OPENAI_API_KEY": "sk-env"}) == "sk-env"
    assert resolve_api_key(settings, {}) == "sk-from-keyring"
    assert asked[-1] == ("dhuman", "api.openai.com")


@pytest.mark.parametrize("failure", [RuntimeError("dbus is gone"), OSError("locked"), None, 42])
def test_a_failing_keyring_does_not_crash(monkeypatch: pytest.MonkeyPatch, failure: Any) -> None:
    import keyring

    def broken(service: str, user: str) -> Any:
        if isinstance(failure, Exception):
            raise failure
        return failure

    monkeypatch.setattr(keyring, "get_password", broken)
    settings = LlmSettings()
    assert resolve_api_key(settings, {}) is None
    assert lookup_api_key(settings, {"OPENAI_API_KEY": "  "}) == (None, None)
    assert make_chat("http://127.0.0.1:1/v1").has_api_key is False


def test_the_fail_keyring_backend_does_not_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's own "no backend" Keyring, as on a headless CI box, behind the real API."""
    import keyring
    from keyring.backends import fail

    monkeypatch.undo()  # the real keyring.get_password / set_password again
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert resolve_api_key(LlmSettings(base_url="https://api.openai.com/v1"), {}) is None
        with pytest.raises(ApiKeyStoreError):
            store_api_key("https://api.openai.com/v1", "sk-x")
    finally:
        keyring.set_keyring(previous)


def test_store_api_key_explains_a_missing_keyring() -> None:
    with pytest.raises(ApiKeyStoreError, match="OPENAI_API_KEY"):
        store_api_key("https://api.openai.com/v1", "sk-x")
    assert keyring_user("https://api.openai.com/v1") == "api.openai.com"
    assert keyring_user("not a url") == "llm"


# ---------------------------------------------------------------------- failures
def test_connection_refused_is_unreachable_with_the_url_and_what_to_do() -> None:
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    started = time.monotonic()
    error = fail(make_chat(base_url))
    assert error.kind == "unreachable"
    assert base_url in error.message
    assert "ollama serve" in error.message
    assert "llm.base_url" in error.message
    assert time.monotonic() - started < 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="relies on Linux SYN drops")
def test_connect_timeout_is_unreachable() -> None:
    # a listening socket whose accept queue is full drops new SYNs: connect() hangs
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        chat = make_chat(f"http://127.0.0.1:{port}/v1", connect_timeout_s=0.2)
        started = time.monotonic()
        error = fail(chat)
        if error.kind == "timeout":
            pytest.skip("this kernel accepted the connection; no connect timeout to see")
        assert error.kind == "unreachable"
        assert "0.2 s" in error.message
        assert time.monotonic() - started < 1.5
    finally:
        for sock in (*fillers, listener):
            sock.close()


def test_hang_after_headers_is_a_first_token_timeout_and_the_server_sees_the_hangup() -> None:
    with OpenAIServer(hang=True) as srv:
        started = time.monotonic()
        error = fail(make_chat(srv.base_url, first_token_timeout_s=0.3))
        elapsed = time.monotonic() - started
        assert error.kind == "timeout"
        assert "sent nothing for 0.3 s" in error.message
        assert "llm.first_token_timeout_s" in error.message
        assert elapsed < 1.2
        assert srv.wait_disconnect(1.0)


def test_late_headers_are_a_first_token_timeout() -> None:
    with OpenAIServer(header_delay=3.0) as srv:
        started = time.monotonic()
        error = fail(make_chat(srv.base_url, first_token_timeout_s=0.3))
        assert error.kind == "timeout"
        assert time.monotonic() - started < 1.2


def test_a_stall_mid_reply_is_an_idle_timeout() -> None:
    with OpenAIServer(reply="one two three", token_delay=3.0) as srv:
        chat = make_chat(srv.base_url, first_token_timeout_s=0.3)
        pieces: list[str] = []

        async def consume() -> None:
            async for piece in chat.stream(HELLO):
                pieces.append(piece)

        with pytest.raises(ChatError) as info:
            run(consume())
        assert info.value.kind == "timeout"
        assert "went silent" in info.value.message
        assert pieces == ["one"]


def test_a_reply_longer_than_the_total_timeout_is_stopped() -> None:
    with OpenAIServer(reply="a b c d e f g h i j", token_delay=0.1) as srv:
        started = time.monotonic()
        error = fail(make_chat(srv.base_url, total_timeout_s=0.45))
        assert error.kind == "timeout"
        assert "llm.total_timeout_s" in error.message
        assert time.monotonic() - started < 1.2
        assert srv.wait_disconnect(1.0)


@pytest.mark.parametrize(("status", "kind"), [(401, "auth"), (403, "auth")])
def test_refused_keys_are_auth_errors_naming_where_the_key_goes(status: int, kind: str) -> None:
    with OpenAIServer(status=status, error_message="Incorrect API key provided") as srv:
        error = fail(make_chat(srv.base_url))
        assert error.kind == kind
        assert error.status == status
        assert "OPENAI_API_KEY" in error.message
        assert "keyring" in error.message
        assert "Incorrect API key provided" in error.message


def test_a_wrong_key_from_the_environment_says_where_it_came_from() -> None:
    with OpenAIServer(require_key="right") as srv:
        error = fail(make_chat(srv.base_url, {"OPENAI_API_KEY": "wrong"}))
        assert error.kind == "auth"
        assert "environment variable OPENAI_API_KEY" in error.message


@pytest.mark.parametrize(
    ("status", "hint"),
    [(500, "log"), (502, "log"), (404, "ollama pull test-model"), (429, "wait"), (400, "config")],
)
def test_other_statuses_are_http_errors(status: int, hint: str) -> None:
    with OpenAIServer(status=status) as srv:
        error = fail(make_chat(srv.base_url))
        assert error.kind == "http"
        assert error.status == status
        assert f"HTTP {status}" in error.message
        assert hint in error.message


def test_an_error_inside_the_stream_is_an_http_error() -> None:
    with OpenAIServer(reply="Half a", stream_error="CUDA out of memory") as srv:
        error = fail(make_chat(srv.base_url))
        assert error.kind == "http"
        assert "CUDA out of memory" in error.message


@pytest.mark.parametrize("garbage", ["sse", "html", "json"])
def test_garbage_is_a_bad_response(garbage: Any) -> None:
    with OpenAIServer(garbage=garbage) as srv:
        error = fail(make_chat(srv.base_url))
        assert error.kind == "bad_response"
        assert "/v1" in error.message


def test_a_connection_cut_mid_reply_is_reported(server: OpenAIServer) -> None:
    server.reply = "one two three four"
    server.drop_after = 2
    error = fail(make_chat(server.base_url))
    assert error.kind == "unreachable"
    assert "middle of the reply" in error.message


# ---------------------------------------------------------------------- cancellation
def _wait_disconnect(server: OpenAIServer, timeout: float) -> Awaitable[bool]:
    return asyncio.to_thread(server.wait_disconnect, timeout)


def test_cancelling_the_consumer_closes_the_request() -> None:
    with OpenAIServer(reply="one two three four five six", token_delay=0.2) as srv:
        chat = make_chat(srv.base_url)

        async def scenario() -> tuple[list[str], bool, float]:
            pieces: list[str] = []
            first = asyncio.Event()

            async def consume() -> None:
                async for piece in chat.stream(HELLO):
                    pieces.append(piece)
                    first.set()

            task = asyncio.create_task(consume())
            await first.wait()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            started = time.monotonic()
            seen = await _wait_disconnect(srv, 1.0)
            return pieces, seen, time.monotonic() - started

        pieces, seen, waited = run(scenario())
        assert pieces == ["one"]
        assert seen, "the server never saw the client hang up"
        assert waited < 0.5
        assert srv.completed == 0


def test_closing_the_generator_early_closes_the_request() -> None:
    with OpenAIServer(reply="one two three four five six", token_delay=0.2) as srv:
        chat = make_chat(srv.base_url)

        async def scenario() -> tuple[str, bool]:
            async with contextlib.aclosing(chat.stream(HELLO)) as pieces:
                first = await anext(pieces)
            return first, await _wait_disconnect(srv, 1.0)

        assert run(scenario()) == ("one", True)
        assert srv.completed == 0


# ---------------------------------------------------------------------- the test server
def test_the_test_server_speaks_plain_openai_too() -> None:
    import openai

    async def scenario(base_url: str) -> tuple[list[str], str | None]:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0) as client:
            models = await client.models.list()
            completion = await client.chat.completions.create(
                model="test-model", messages=[{"role": "user", "content": "hi"}]
            )
        return [m.id for m in models.data], completion.choices[0].message.content

    with OpenAIServer(reply=KOREAN, models=("a", "b")) as srv:
        ids, content = run(scenario(srv.base_url))
        assert ids == ["a", "b"]
        assert content == KOREAN
        assert [r.path for r in srv.requests] == ["/v1/models", "/v1/chat/completions"]
        assert srv.last_request.stream is False


def test_split_tokens_round_trips() -> None:
    for text in ["", "  a  b ", KOREAN, "line\nbreak\n"]:
        assert "".join(split_tokens(text)) == text
    assert split_tokens(KOREAN) == ["안녕하세요,", " 무엇을", " 도와드릴까요?"]


# ---------------------------------------------------------------------- retries
def quick_chat(base_url: str, **kwargs: Any) -> OpenAIChat:
    chat = make_chat(base_url)
    chat.backoff_s = 0.02
    for key, value in kwargs.items():
        setattr(chat, key, value)
    return chat


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_before_any_text_are_retried(status: int) -> None:
    with OpenAIServer(reply="Back again.", status=status, fail_first=2) as srv:
        chat = quick_chat(srv.base_url)
        assert "".join(run(collect(chat))) == "Back again."
        assert chat.attempts == 3 and len(srv.chat_requests) == 3


def test_a_reset_connection_is_retried() -> None:
    with OpenAIServer(reply="Hello.", drop_first=1) as srv:
        chat = quick_chat(srv.base_url)
        assert "".join(run(collect(chat))) == "Hello."
        assert chat.attempts == 2


def test_retries_give_up_with_the_last_error() -> None:
    with OpenAIServer(status=502) as srv:
        chat = quick_chat(srv.base_url, retries=2)
        error = fail(chat)
        assert error.kind == "http" and error.status == 502
        assert chat.attempts == 3


@pytest.mark.parametrize("status", [400, 401, 404])
def test_client_errors_are_not_retried(status: int) -> None:
    with OpenAIServer(status=status) as srv:
        chat = quick_chat(srv.base_url)
        fail(chat)
        assert chat.attempts == 1


def test_nothing_is_retried_once_text_was_streamed() -> None:
    with OpenAIServer(reply="one two three four", drop_after=2) as srv:
        chat = quick_chat(srv.base_url)
        assert fail(chat).kind == "unreachable"
        assert chat.attempts == 1 and len(srv.chat_requests) == 1


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    import random

    chat = OpenAIChat(LlmSettings(), environ={}, backoff_s=0.25, rng=random.Random(1))
    error = openai_error(503)
    delays = [chat._backoff(n, error) for n in range(6)]
    assert 0.25 <= delays[0] <= 0.375 and 0.5 <= delays[1] <= 0.75
    assert delays == sorted(delays) and max(delays) == 4.0


def openai_error(status: int) -> Any:
    import httpx2
    import openai

    request = httpx2.Request("POST", "http://x/v1/chat/completions")
    response = httpx2.Response(status, request=request)
    return openai.APIStatusError("failed", response=response, body=None)


@pytest.mark.parametrize("reply", ["", []])
def test_an_empty_reply_is_a_bad_response(reply: Any) -> None:
    with OpenAIServer(reply=reply) as srv:
        assert fail(make_chat(srv.base_url)).kind == "bad_response"


# ---------------------------------------------------------------------- tools
def test_tool_call_deltas_are_assembled_and_sent_back() -> None:
    from dialog.llm.openai_chat import _exchange_params
    from dialog.tools import ToolCall, ToolExchange
    from tests.support.openai_server import ToolCallPiece

    tools = [{"type": "function", "function": {"name": "show_info", "parameters": {}}}]
    card = ToolCallPiece("show_info", '{"card": "parking"}', id="call_a", fragments=4)
    staff = ToolCallPiece("call_staff", '{"reason": "lost"}', fragments=2)
    with OpenAIServer(reply=["Let me ", "show you.", card, staff]) as srv:
        chat = make_chat(srv.base_url)

        async def items() -> list[Any]:
            return [i async for i in chat.stream_with_tools(HELLO, tools)]

        got = run(items())
        assert got[:2] == ["Let me ", "show you."]
        assert got[2:] == [
            ToolCall("call_a", "show_info", '{"card": "parking"}'),
            ToolCall("call_1", "call_staff", '{"reason": "lost"}'),
        ]
        assert srv.last_request.tools == tools
        assert srv.last_request.body["tool_choice"] == "auto"
        # the follow-up request carries the calls and the tools' answers
        srv.reply = "It's on the screen."
        exchange = ToolExchange("Let me show you.", tuple(got[2:]), ("shown", "called"))

        async def follow() -> str:
            pieces = [i async for i in chat.stream_with_tools(HELLO, tools, [exchange])]
            return "".join(p for p in pieces if isinstance(p, str))

        assert run(follow()) == "It's on the screen."
        sent = srv.last_request.messages
        assert sent[-3]["role"] == "assistant" and sent[-3]["content"] == "Let me show you."
        assert "content" not in _exchange_params(ToolExchange("", exchange.calls, ("a", "b")))[0]
        assert [c["id"] for c in sent[-3]["tool_calls"]] == ["call_a", "call_1"]
        assert sent[-2] == {"role": "tool", "tool_call_id": "call_a", "content": "shown"}
        assert sent[-1] == {"role": "tool", "tool_call_id": "call_1", "content": "called"}


def test_a_tool_call_alone_is_not_an_empty_reply() -> None:
    from tests.support.openai_server import ToolCallPiece

    with OpenAIServer(reply=[ToolCallPiece("end_session", "{}")]) as srv:
        chat = make_chat(srv.base_url)

        async def items() -> list[Any]:
            return [i async for i in chat.stream_with_tools(HELLO, [])]

        (call,) = run(items())
        assert call.name == "end_session"
        # the plain text stream of the same reply yields nothing, and is not an error
        assert run(collect(chat)) == []


def test_a_name_repeated_in_every_delta_is_not_doubled() -> None:
    """llama-cpp-python's server repeats the function name in each delta."""
    from tests.support.openai_server import ToolCallPiece

    piece = ToolCallPiece("show_info", '{"card": "parking"}', fragments=5, repeat_name=True)
    with OpenAIServer(reply=[piece]) as srv:
        chat = make_chat(srv.base_url)

        async def items() -> list[Any]:
            return [i async for i in chat.stream_with_tools(HELLO, [])]

        (call,) = run(items())
        assert call.name == "show_info" and call.arguments == '{"card": "parking"}'
