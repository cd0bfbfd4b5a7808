"""The "auto" chat engine: a model server, and FAQ mode when it is away.

A visitor should get an answer even when the language model server is down: if the
server cannot be reached (or does not answer in time) *before any text was spoken*,
the reply comes from the knowledge base instead and the session is told once, so the
screen can say the avatar is answering only from the hospital's information. Once
text has been spoken a failure is re-raised: half a reply cannot be taken back.
While degraded, the server is tried again at most every ``retry_after_s`` seconds.

The registry wraps :class:`dialog.llm.chain_chat.EndpointChain` (configured server ->
Ollama -> built-in llama.cpp server) with ``retry_after_s=0``: the chain itself decides
when to look again, and its own notices (which server answers) come out of
:meth:`AutoChat.pop_notices` first.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence

from app.core.roles import Chat, NoticeSource
from app.core.types import ChatMessage
from dialog.llm import ChatError
from dialog.tools import ToolCall, ToolChat, ToolExchange, ToolSchema

# failures that mean "the server is not there", as opposed to a bad request or bad key
_AWAY = ("unreachable", "timeout")


class AutoChat:
    def __init__(
        self,
        primary: Chat,
        make_fallback: Callable[[], Chat],
        notice: Callable[[], str],
        recovered: str = "The language model is back.",
        retry_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self._make_fallback = make_fallback
        self._fallback: Chat | None = None
        self._notice = notice
        self._recovered = recovered
        self._retry_after = retry_after_s
        self._clock = clock
        self._degraded_since: float | None = None
        self._pending: list[str] = []

    @property
    def degraded(self) -> bool:
        return self._degraded_since is not None

    def pop_notices(self) -> list[str]:
        """What changed since the last call (which server answers, entering or leaving FAQ
        mode), for the session."""
        notices, self._pending = self._pending, []
        if isinstance(self.primary, NoticeSource):
            notices = self.primary.pop_notices() + notices
        return notices

    async def aclose(self) -> None:
        """Release what the primary holds (its HTTP client, a model server it started)."""
        aclose = getattr(self.primary, "aclose", None)
        if aclose is not None:
            await aclose()

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        async for piece in self._run(messages, self.primary.stream(messages)):
            if isinstance(piece, str):
                yield piece

    async def stream_with_tools(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSchema],
        exchanges: Sequence[ToolExchange] = (),
    ) -> AsyncIterator[str | ToolCall]:
        """Tools go to the server when it supports them; FAQ mode answers with text only."""
        primary = self.primary
        source: AsyncIterator[str | ToolCall] = (
            primary.stream_with_tools(messages, tools, exchanges)
            if isinstance(primary, ToolChat)
            else primary.stream(messages)
        )
        async for piece in self._run(messages, source):
            yield piece

    async def _run(
        self, messages: Sequence[ChatMessage], source: AsyncIterator[str | ToolCall]
    ) -> AsyncIterator[str | ToolCall]:
        if self._degraded_since is not None and (
            self._clock() - self._degraded_since < self._retry_after
        ):
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()  # never started: close it so nothing is left pending
            async for text in self._fallback_stream(messages):
                yield text
            return
        spoken = False
        try:
            async for piece in source:
                spoken = True
                yield piece
        except ChatError as exc:
            if spoken or exc.kind not in _AWAY:
                raise
            if self._degraded_since is None:
                self._pending.append(f"{exc} {self._notice()}")
            self._degraded_since = self._clock()
            async for text in self._fallback_stream(messages):
                yield text
            return
        if self._degraded_since is not None:
            self._degraded_since = None
            if self._recovered:
                self._pending.append(self._recovered)

    async def _fallback_stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        if self._fallback is None:
            self._fallback = self._make_fallback()
        async for piece in self._fallback.stream(messages):
            yield piece
