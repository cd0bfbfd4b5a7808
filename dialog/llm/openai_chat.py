"""The chat role over the official ``openai`` SDK, for any OpenAI-compatible server.

Ollama, vLLM, llama.cpp's server, LM Studio and OpenAI itself all speak
``POST {base_url}/chat/completions`` with Server-Sent Events; this class streams the
reply's text pieces as they arrive and turns every failure into one :class:`ChatError`
whose message tells a person what to do.

Timeouts (from :class:`~app.config.settings.LlmSettings`):

* ``connect_timeout_s``: establishing the TCP/TLS connection;
* ``first_token_timeout_s``: from sending the request to the first piece of reply (a
  server that accepts the request and then says nothing);
* ``idle_timeout_s`` (defaults to the first-token timeout): the longest silence between
  two pieces once the reply has begun;
* ``total_timeout_s``: the whole reply.

Cancelling the consuming task, or closing the generator (``aclose()``, or leaving an
``async with contextlib.aclosing(chat.stream(...))`` block), closes the HTTP response at
once, so the server sees the disconnect and stops generating. Consumers that may stop
early without cancelling should use ``contextlib.aclosing``.

Retries: the SDK's own are off (``max_retries=0``); :meth:`OpenAIChat._open` retries a
refused or reset connection, HTTP 5xx and 429 up to ``retries`` times with exponential
backoff and jitter (``Retry-After`` is honoured up to the cap), always within the
first-token deadline. It never retries once the reply has begun: half a spoken reply
cannot be taken back. A timeout is not retried either (the deadline is already spent).

Tools: :meth:`OpenAIChat.stream_with_tools` sends OpenAI ``tools`` and yields, besides the
text pieces, one :class:`~dialog.tools.ToolCall` per call the model made, assembled from
the streamed ``tool_calls`` deltas (id and name first, the arguments in fragments).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI, AsyncStream
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from app.config.settings import LlmSettings
from app.core.types import ChatMessage
from dialog.llm import ChatError
from dialog.llm.api_key import PLACEHOLDER_API_KEY, keyring_user, lookup_api_key
from dialog.tools import ToolCall, ToolExchange, ToolSchema

log = logging.getLogger(__name__)

_SNIPPET = 200
_BACKOFF_CAP_S = 4.0


class OpenAIChat:
    """Implements :class:`app.core.roles.Chat` against an OpenAI-compatible server.

    ``api_key`` overrides the lookup (env var named by ``settings.api_key_env``, then the
    OS keyring); ``environ`` replaces ``os.environ`` for that lookup (tests).
    """

    def __init__(
        self,
        settings: LlmSettings,
        *,
        api_key: str | None = None,
        environ: Mapping[str, str] | None = None,
        idle_timeout_s: float | None = None,
        retries: int = 2,
        backoff_s: float = 0.25,
        rng: random.Random | None = None,
        tool_choice: str | dict[str, Any] = "auto",
    ) -> None:
        """``tool_choice`` applies to the first request of a turn (follow-ups after tool
        results are always ``"auto"``): a ``{"type": "function", "function": {"name": ...}}``
        forces one tool, for servers that cannot stream an automatic choice (llama-cpp-python's
        ``chatml-function-calling``)."""
        self.base_url = settings.base_url.strip().rstrip("/")
        self.model = settings.model
        self.temperature = settings.temperature
        self.max_tokens = settings.max_tokens
        self.connect_timeout_s = settings.connect_timeout_s
        self.first_token_timeout_s = settings.first_token_timeout_s
        self.total_timeout_s = settings.total_timeout_s
        self.idle_timeout_s = idle_timeout_s or settings.first_token_timeout_s
        self._api_key_env = settings.api_key_env
        if api_key:
            self._key_source: str | None = "the api_key argument"
        else:
            api_key, self._key_source = lookup_api_key(settings, environ)
        self._api_key = api_key or PLACEHOLDER_API_KEY
        self._client: AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self._rng = rng or random.Random()
        self.attempts = 0  # requests sent, retries included (for tests and benches)
        self.tool_choice = tool_choice

    def __repr__(self) -> str:
        return f"OpenAIChat(base_url={self.base_url!r}, model={self.model!r})"

    @property
    def has_api_key(self) -> bool:
        return self._key_source is not None

    # ------------------------------------------------------------------ the role
    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncGenerator[str, None]:
        """Yield the reply's text pieces as they arrive; raise :class:`ChatError` on failure."""
        async for item in self._stream(messages, None, ()):
            if isinstance(item, str):
                yield item

    async def stream_with_tools(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSchema],
        exchanges: Sequence[ToolExchange] = (),
    ) -> AsyncGenerator[str | ToolCall, None]:
        """Text pieces as they arrive, then the tool calls the model made (complete)."""
        async for item in self._stream(messages, tools or None, exchanges):
            yield item

    async def _stream(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSchema] | None,
        exchanges: Sequence[ToolExchange],
    ) -> AsyncGenerator[str | ToolCall, None]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        total_deadline = start + self.total_timeout_s
        first_deadline = min(start + self.first_token_timeout_s, total_deadline)
        sdk_stream: AsyncStream[ChatCompletionChunk] | None = None
        talking = False  # has the model said anything yet?
        try:
            try:
                async with asyncio.timeout_at(first_deadline):
                    sdk_stream = await self._open(messages, tools, exchanges)
                    fallback = await self._check_content_type(sdk_stream)
            except TimeoutError:
                raise self._deadline_error(first_deadline, total_deadline, talking) from None
            if fallback is not None:
                if not fallback:
                    raise ChatError(
                        f"The server at {self.base_url} sent an empty reply. "
                        f"{self._check_url_advice()}",
                        "bad_response",
                    )
                yield fallback
                return
            chunks = 0
            calls = _ToolCallAssembler()
            said = False
            while True:
                if talking:
                    deadline = min(loop.time() + self.idle_timeout_s, total_deadline)
                else:
                    deadline = first_deadline
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await sdk_stream.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise self._deadline_error(deadline, total_deadline, talking) from None
                chunks += 1
                text, said_something = _delta(chunk)
                talking = talking or said_something
                calls.add(chunk)
                if text:
                    said = True
                    yield text
            if chunks == 0:
                raise ChatError(
                    f"The server at {self.base_url} ended the reply without sending any data. "
                    f"{self._check_url_advice()}",
                    "bad_response",
                )
            finished = calls.finish()
            if not said and not finished and not talking:
                raise ChatError(
                    f"The server at {self.base_url} sent an empty reply (no text, no tool "
                    f"call). {self._check_url_advice()}",
                    "bad_response",
                )
            for call in finished:
                yield call
        except ChatError:
            raise
        except openai.OpenAIError as exc:
            raise self._map_sdk_error(exc, talking) from exc
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            # json.JSONDecodeError, UnicodeDecodeError, pydantic errors, odd shapes
            raise self._bad_response(exc) from exc
        except httpx2.HTTPError as exc:  # should be wrapped by the SDK; just in case
            raise self._map_sdk_error(exc, talking) from exc
        finally:
            if sdk_stream is not None:
                await _close_quietly(sdk_stream)

    async def aclose(self) -> None:
        """Close the HTTP client (its pooled connections). Safe to call more than once."""
        client, self._client, self._client_loop = self._client, None, None
        if client is not None:
            try:
                await client.close()
            except Exception as exc:  # closing is best effort
                log.debug("closing the OpenAI client failed: %s", exc)

    # ------------------------------------------------------------------ internals
    async def _open(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSchema] | None = None,
        exchanges: Sequence[ToolExchange] = (),
    ) -> AsyncStream[ChatCompletionChunk]:
        """Send the request and wait for the response headers, retrying what may pass.

        Only here, before the caller has seen any text, may a request be repeated.
        """
        client = self._client_for_running_loop()
        params: list[Any] = [_to_param(m) for m in messages]
        for exchange in exchanges:
            params.extend(_exchange_params(exchange))
        choice = "auto" if exchanges else self.tool_choice
        extra: dict[str, Any] = {"tools": list(tools), "tool_choice": choice} if tools else {}
        attempt = 0
        while True:
            self.attempts += 1
            try:
                opened: AsyncStream[ChatCompletionChunk] = await client.chat.completions.create(
                    model=self.model,
                    messages=params,
                    stream=True,
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                    **extra,
                )
                return opened
            except openai.APIError as exc:
                if attempt >= self.retries or not _retryable(exc):
                    raise
                delay = self._backoff(attempt, exc)
                log.info(
                    "chat request failed (%s); retry %d/%d in %.2f s",
                    _clip(str(exc), 80),
                    attempt + 1,
                    self.retries,
                    delay,
                )
                attempt += 1
                await asyncio.sleep(delay)

    def _backoff(self, attempt: int, exc: openai.APIError) -> float:
        """Exponential (base * 2^n) with up to 50 % jitter; a server's Retry-After wins."""
        delay = float(self.backoff_s * (2**attempt) * (1.0 + 0.5 * self._rng.random()))
        if isinstance(exc, openai.APIStatusError):
            after = exc.response.headers.get("retry-after")
            with contextlib.suppress(ValueError):
                delay = max(delay, float(str(after))) if after else delay
        return min(delay, _BACKOFF_CAP_S)

    def _client_for_running_loop(self) -> AsyncOpenAI:
        # an httpx client's connections belong to the event loop that opened them
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=openai.Timeout(self.total_timeout_s, connect=self.connect_timeout_s),
                max_retries=0,
            )
            self._client_loop = loop
        return self._client

    async def _check_content_type(self, sdk_stream: AsyncStream[ChatCompletionChunk]) -> str | None:
        """None when the response is an event stream; else the text of a non-streamed reply.

        Some proxies ignore ``stream: true`` and answer one JSON completion: accept that.
        Anything else (an HTML page, plain text) is a :class:`ChatError` bad_response.
        """
        response = sdk_stream.response
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type or content_type == "text/event-stream":
            return None
        body = await response.aread()
        if content_type.endswith("json"):
            data = json.loads(body)
            if isinstance(data, dict) and isinstance(data.get("error"), dict):
                message = str(data["error"].get("message") or "no details")
                raise ChatError(
                    f"The language model at {self.base_url} reported an error: {_clip(message)}",
                    "http",
                    status=response.status_code,
                )
            try:
                content = data["choices"][0]["message"]["content"]
            except (KeyError, IndexError, TypeError):
                content = None
            if isinstance(content, str):
                return content
        snippet = _clip(body.decode("utf-8", "replace").strip())
        raise ChatError(
            f"The server at {self.base_url} did not answer like an OpenAI-compatible API "
            f"(it sent {content_type or 'no content type'}: {snippet!r}). "
            f"{self._check_url_advice()}",
            "bad_response",
            status=response.status_code,
        )

    # ------------------------------------------------------------------ error mapping
    def _map_sdk_error(self, exc: Exception, talking: bool) -> ChatError:
        url = self.base_url
        if isinstance(exc, openai.APIResponseValidationError):
            return self._bad_response(exc)
        if isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException):
            if _caused_by(exc, httpx2.ConnectTimeout):
                return ChatError(
                    f"Cannot reach the language model at {url}: no connection within "
                    f"{_seconds(self.connect_timeout_s)}. Check that the server is running "
                    "and the address is right, or point dhuman elsewhere: "
                    "`dhuman config set llm.base_url URL`.",
                    "unreachable",
                )
            return ChatError(
                f"The language model at {url} did not answer within "
                f"{_seconds(self.total_timeout_s)}. Try again; if it is slow, raise "
                "`dhuman config set llm.total_timeout_s SECONDS`.",
                "timeout",
            )
        if isinstance(exc, openai.APIConnectionError | httpx2.TransportError):
            if talking:
                return ChatError(
                    f"The connection to the language model at {url} broke in the middle of "
                    f"the reply ({_reason(exc)}). Check that the server is still running and "
                    "try again.",
                    "unreachable",
                )
            return ChatError(
                f"Cannot reach the language model at {url} ({_reason(exc)}). Start your "
                "server (Ollama: `ollama serve`) or point dhuman elsewhere: "
                "`dhuman config set llm.base_url URL`.",
                "unreachable",
            )
        if isinstance(exc, openai.APIStatusError):
            return self._status_error(exc)
        if isinstance(exc, openai.APIError):
            return ChatError(
                f"The language model at {url} reported an error: {_clip(exc.message)}",
                "http",
            )
        return self._bad_response(exc)

    def _status_error(self, exc: openai.APIStatusError) -> ChatError:
        url, status = self.base_url, exc.status_code
        detail = _clip(_server_message(exc))
        if status in (401, 403):
            if self._key_source is None:
                where = (
                    f"No API key was found: put it in the environment variable "
                    f"{self._api_key_env or 'OPENAI_API_KEY'} or in the OS keyring (service "
                    f"'dhuman', user {keyring_user(url)!r}); keys never go in the config file."
                )
            else:
                where = (
                    f"The key came from the {self._key_source}; check that it is valid for "
                    "this server and has access to the model."
                )
            verb = "refused the API key" if status == 401 else "does not allow this request"
            return ChatError(
                f"The language model at {url} {verb} (HTTP {status}: {detail}). {where}",
                "auth",
                status=status,
            )
        if status == 404:
            advice = (
                f"Check the model name (`dhuman config set llm.model NAME`; Ollama: "
                f"`ollama pull {self.model}`) and the address (it usually ends in /v1)."
            )
        elif status == 429:
            advice = "The server is rate-limiting or out of quota; wait a little and try again."
        elif status >= 500:
            advice = "The server failed; look at its log, then try again."
        else:
            advice = "Check the llm settings in the file `dhuman config path` prints."
        return ChatError(
            f"The language model at {url} answered HTTP {status} for model {self.model!r}: "
            f"{detail}. {advice}",
            "http",
            status=status,
        )

    def _deadline_error(self, deadline: float, total_deadline: float, talking: bool) -> ChatError:
        url = self.base_url
        if deadline >= total_deadline:
            return ChatError(
                f"The reply from the language model at {url} took longer than "
                f"{_seconds(self.total_timeout_s)} in all, so it was stopped. Ask for a "
                "shorter answer or raise `dhuman config set llm.total_timeout_s SECONDS`.",
                "timeout",
            )
        if talking:
            return ChatError(
                f"The language model at {url} went silent for {_seconds(self.idle_timeout_s)} "
                "in the middle of its reply. The server may be overloaded; try again.",
                "timeout",
            )
        return ChatError(
            f"The language model at {url} accepted the request but sent nothing for "
            f"{_seconds(self.first_token_timeout_s)}. It may still be loading the model "
            f"{self.model!r} or be overloaded; try again, or allow more time: "
            "`dhuman config set llm.first_token_timeout_s SECONDS`.",
            "timeout",
        )

    def _bad_response(self, exc: BaseException) -> ChatError:
        return ChatError(
            f"The server at {self.base_url} sent a reply dhuman cannot read "
            f"({type(exc).__name__}: {_clip(str(exc))}). {self._check_url_advice()}",
            "bad_response",
        )

    def _check_url_advice(self) -> str:
        return (
            "Check that llm.base_url points at an OpenAI-compatible API (it usually ends in "
            "/v1, e.g. http://127.0.0.1:11434/v1 for Ollama): "
            "`dhuman config set llm.base_url URL`."
        )


# ---------------------------------------------------------------------- helpers
def _retryable(exc: openai.APIError) -> bool:
    """Refused/reset connections, 5xx and 429; never a timeout, a bad key or a bad request."""
    if isinstance(exc, openai.APITimeoutError):
        return False
    if isinstance(exc, openai.APIConnectionError):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


class _ToolCallAssembler:
    """Accumulates streamed ``tool_calls`` deltas by index into complete calls."""

    def __init__(self) -> None:
        self._parts: dict[int, list[str]] = {}  # index -> [id, name, arguments]

    def add(self, chunk: ChatCompletionChunk) -> None:
        choices = chunk.choices
        if not choices or choices[0].delta is None or not choices[0].delta.tool_calls:
            return
        for delta in choices[0].delta.tool_calls:
            part = self._parts.setdefault(delta.index, ["", "", ""])
            if delta.id:
                part[0] = delta.id
            function = delta.function
            if function is not None:
                # the name is set, not appended: OpenAI sends it once, but llama-cpp-python
                # repeats it in every delta of the call
                if function.name:
                    part[1] = function.name
                if function.arguments:
                    part[2] += function.arguments

    def finish(self) -> list[ToolCall]:
        calls = []
        for index in sorted(self._parts):
            call_id, name, arguments = self._parts[index]
            if name:
                calls.append(ToolCall(call_id or f"call_{index}", name, arguments))
        return calls


def _exchange_params(exchange: ToolExchange) -> list[Any]:
    """The assistant's tool calls and the tools' answers, as OpenAI messages."""
    # no "content" key when the model said nothing: some servers (llama-cpp-python) refuse
    # a null content, and OpenAI accepts its absence
    assistant: dict[str, Any] = {
        "role": "assistant",
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments or "{}"},
            }
            for call in exchange.calls
        ],
    }
    if exchange.text:
        assistant["content"] = exchange.text
    answers = [
        {"role": "tool", "tool_call_id": call.id, "content": result}
        for call, result in zip(exchange.calls, exchange.results, strict=True)
    ]
    return [assistant, *answers]


def _to_param(message: ChatMessage) -> ChatCompletionMessageParam:
    if message.role == "system":
        return {"role": "system", "content": message.content}
    if message.role == "assistant":
        return {"role": "assistant", "content": message.content}
    return {"role": "user", "content": message.content}


def _delta(chunk: ChatCompletionChunk) -> tuple[str, bool]:
    """(text to show, whether the model said anything at all, reasoning included)."""
    choices = chunk.choices
    if not isinstance(choices, list):
        raise TypeError(f"a stream chunk without a 'choices' list: {_clip(repr(chunk))}")
    if not choices:
        return "", False  # e.g. a usage-only chunk
    delta = choices[0].delta
    if delta is None:
        return "", False
    content = delta.content
    text = content if isinstance(content, str) else ""
    extra: dict[str, Any] = delta.model_extra or {}
    reasoning = extra.get("reasoning_content") or extra.get("reasoning")
    said = bool(text) or bool(reasoning) or bool(delta.tool_calls) or bool(delta.refusal)
    return text, said


async def _close_quietly(sdk_stream: AsyncStream[ChatCompletionChunk]) -> None:
    """Close the response so the server sees the disconnect; never raise from a finally."""
    try:
        await sdk_stream.close()
    except Exception as exc:
        log.debug("closing the chat stream failed: %s", exc)
    # the SDK's own generator would otherwise linger until garbage collection
    inner = getattr(sdk_stream, "_iterator", None)
    aclose = getattr(inner, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception as exc:
            log.debug("closing the SDK stream iterator failed: %s", exc)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    """The most specific cause, for a person: 'connection refused', 'name not known'..."""
    seen: BaseException | None = exc
    text = ""
    for _ in range(10):
        if seen is None:
            break
        if isinstance(seen, OSError) and (seen.errno or seen.strerror):
            # asyncio says "Connect call failed (...)"; the errno's own text reads better
            code = seen.errno
            return (os.strerror(code) if code and code > 0 else str(seen.strerror)).lower()
        if str(seen) and not isinstance(seen, openai.APIConnectionError):
            text = str(seen)
        seen = seen.__cause__ or seen.__context__
    text = text or str(exc) or type(exc).__name__
    return _clip(text.rstrip(".")).lower() if "errno" not in text.lower() else _clip(text)


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, str) and message:
            return message
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
        if isinstance(error, str) and error:
            return error
    if isinstance(body, str) and body.strip():
        return body.strip()
    return exc.response.reason_phrase or "no details"


def _clip(text: str, limit: int = _SNIPPET) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:g} s"
