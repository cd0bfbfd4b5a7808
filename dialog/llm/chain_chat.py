"""The "auto" chain: chat with the first model server that answers.

Order: the configured server (``llm.base_url``, when it is not Ollama's default), a local
Ollama, the built-in llama.cpp server (:mod:`dialog.llm.local_server`, when installed and
``llm.local_model`` names a model). :class:`EndpointChain` is a
:class:`app.core.roles.Chat`; when no step answers it raises a :class:`ChatError` of kind
``"unreachable"`` that lists why each step failed, so :class:`dialog.llm.auto_chat.AutoChat`
(which wraps it) answers from the knowledge base instead and says so once.

Discovery runs in a background thread (:meth:`warm`, or the first turn), never on the
event loop: the probes are short, but starting the built-in server loads a model. A turn
waits for a discovery in progress at most ``wait_s``; if it is still going (a big model
loading) that turn is answered from the knowledge base and the next turns do not wait
again. Each step's failure is logged; the session is told once which server answers
(:meth:`pop_notices`). When the server in use stops answering, the chain forgets it and
looks again at once in the background (a dead built-in server is started again then);
when nothing answered, it looks again at most every ``rediscover_after_s``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path

from app.config.settings import Settings
from app.core.types import ChatMessage
from dialog.llm import ChatError
from dialog.llm.api_key import PLACEHOLDER_API_KEY
from dialog.llm.endpoints import (
    OLLAMA_BASE_URL,
    Endpoint,
    Unavailable,
    configured_step,
    ollama_step,
)
from dialog.llm.local_server import LocalServer, llama_server_missing, resolve_local_model
from dialog.llm.openai_chat import OpenAIChat
from dialog.tools import ToolCall, ToolExchange, ToolSchema

log = logging.getLogger(__name__)

# failures that mean "the server is not there (any more)", not a bad request or key
_AWAY = ("unreachable", "timeout")
Step = Callable[[int], "Endpoint | Unavailable | None"]


class EndpointChain:
    """Implements :class:`app.core.roles.Chat` (with tools) over the first server found."""

    def __init__(
        self,
        settings: Settings,
        *,
        ollama_url: str = OLLAMA_BASE_URL,
        log_path: Path | None = None,
        llama_missing: Callable[[], str | None] = llama_server_missing,
        environ: Mapping[str, str] | None = None,
        wait_s: float | None = None,
        rediscover_after_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``ollama_url``, ``log_path`` (the built-in server's log), ``llama_missing`` and
        ``environ`` (for the API key lookup) can be replaced for tests; ``wait_s`` defaults
        to ``llm.first_token_timeout_s``."""
        self.settings = settings
        self.ollama_url = ollama_url
        self.log_path = log_path
        self._llama_missing = llama_missing
        self._environ = environ
        self.wait_s = settings.llm.first_token_timeout_s if wait_s is None else wait_s
        self.rediscover_after_s = rediscover_after_s
        self._clock = clock
        self._lock = threading.Lock()
        self._generation = 0  # bumped by close(): results of older searches are dropped
        self._discovery: Future[Endpoint | None] | None = None
        self._waited_out: Future[Endpoint | None] | None = None
        self._finished_at = 0.0
        self._failures: list[Unavailable] = []
        self._announced: tuple[str, str] | None = None
        self._pending: list[str] = []
        self._server: LocalServer | None = None
        self._server_choice = ""
        self._chat: OpenAIChat | None = None
        self.endpoint: Endpoint | None = None  # the server in use, once one answered
        self.searches = 0  # discoveries started (for tests)

    def __repr__(self) -> str:
        return f"EndpointChain(endpoint={self.endpoint!r})"

    @property
    def server(self) -> LocalServer | None:
        """The built-in server, once the chain needed it."""
        return self._server

    # ------------------------------------------------------------------ the role
    def warm(self) -> None:
        """Start looking for a server now, in the background (the app's startup)."""
        with self._lock:
            if self._discovery is None:
                self._start_discovery()

    def pop_notices(self) -> list[str]:
        with self._lock:
            notices, self._pending = self._pending, []
        return notices

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        async for item in self._run(lambda chat: chat.stream(messages)):
            if isinstance(item, str):
                yield item

    async def stream_with_tools(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSchema],
        exchanges: Sequence[ToolExchange] = (),
    ) -> AsyncIterator[str | ToolCall]:
        async for item in self._run(
            lambda chat: chat.stream_with_tools(messages, tools, exchanges)
        ):
            yield item

    async def aclose(self) -> None:
        """Stop the built-in server (if the chain started one) and close the HTTP client."""
        await asyncio.to_thread(self.close)
        chat, self._chat = self._chat, None
        if chat is not None:
            await chat.aclose()

    def close(self) -> None:
        """Blocking part of :meth:`aclose`; the chain can be used again afterwards."""
        with self._lock:
            self._generation += 1
            server, self._server = self._server, None
            self._discovery = None
            self._waited_out = None
            self.endpoint = None
        if server is not None:
            server.stop()

    # ------------------------------------------------------------------ a turn
    async def _run(
        self, open_stream: Callable[[OpenAIChat], AsyncIterator[str | ToolCall]]
    ) -> AsyncIterator[str | ToolCall]:
        endpoint = await self._endpoint_now()
        chat = await self._chat_for(endpoint)
        source = open_stream(chat)
        try:
            async for item in source:
                yield item
        except ChatError as exc:
            if exc.kind in _AWAY:
                self._lost(endpoint, exc)
            raise
        finally:
            aclose = getattr(source, "aclose", None)
            if aclose is not None:
                await aclose()  # an early stop closes the HTTP response too

    async def _endpoint_now(self) -> Endpoint:
        future, wait = self._discovery_for_turn()
        if not future.done():
            if wait:
                try:
                    await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), self.wait_s)
                except TimeoutError:
                    with self._lock:
                        self._waited_out = future  # later turns do not wait for it again
            if not future.done():
                raise ChatError(
                    "No language model is ready yet: the search for a model server is still "
                    "going (the built-in one may still be loading its model).",
                    "timeout",
                )
        endpoint = future.result()
        if endpoint is None:
            raise ChatError(self._summary(), "unreachable")
        return endpoint

    def _discovery_for_turn(self) -> tuple[Future[Endpoint | None], bool]:
        """The search this turn depends on, and whether to wait for it."""
        with self._lock:
            future = self._discovery
            if future is None:
                return self._start_discovery(), True
            if not future.done():
                return future, future is not self._waited_out
            if (
                future.result() is None
                and self._clock() - self._finished_at >= self.rediscover_after_s
            ):
                # look again in the background; this turn gets the last answer ("nothing")
                self._start_discovery()
            return future, True

    async def _chat_for(self, endpoint: Endpoint) -> OpenAIChat:
        chat = self._chat
        if chat is not None and (chat.base_url, chat.model) == (endpoint.base_url, endpoint.model):
            return chat
        if chat is not None:
            await chat.aclose()
        llm = self.settings.llm.model_copy(
            update={"base_url": endpoint.base_url, "model": endpoint.model}
        )
        self._chat = OpenAIChat(llm, api_key=endpoint.api_key, environ=self._environ)
        return self._chat

    def _lost(self, endpoint: Endpoint, exc: ChatError) -> None:
        """The server in use failed: look again now, in the background."""
        with self._lock:
            if self.endpoint != endpoint:
                return  # already replaced
            log.warning(
                "%s stopped answering (%s); looking for a server again", endpoint.description, exc
            )
            self.endpoint = None
            self._start_discovery()

    def _summary(self) -> str:
        with self._lock:
            reasons = [f.reason for f in self._failures]
        tried = "; ".join(reasons) if reasons else "no step of the chain applies"
        return f"No language model answers ({tried})."

    # ------------------------------------------------------------------ discovery
    def _start_discovery(self) -> Future[Endpoint | None]:
        """Lock held. A new search in a daemon thread; its future is never cancelled."""
        future: Future[Endpoint | None] = Future()
        future.set_running_or_notify_cancel()  # a waiter's cancellation must not cancel it
        self._discovery = future
        self.searches += 1
        generation = self._generation
        thread = threading.Thread(
            target=self._discover_into,
            args=(future, generation),
            name="dhuman-llm-discovery",
            daemon=True,
        )
        thread.start()
        return future

    def _discover_into(self, future: Future[Endpoint | None], generation: int) -> None:
        try:
            endpoint, failures = self._walk(generation)
        except Exception as exc:  # a bug in a step must not leave the turn waiting
            log.exception("looking for a model server failed")
            endpoint, failures = None, [Unavailable("configured", f"the search failed: {exc}")]
        with self._lock:
            if generation == self._generation:
                self._finished_at = self._clock()
                self._failures = failures
                self.endpoint = endpoint
                if endpoint is not None:
                    self._announce(endpoint, failures)
        future.set_result(endpoint)

    def _walk(self, generation: int) -> tuple[Endpoint | None, list[Unavailable]]:
        steps: list[Step] = [
            lambda _: configured_step(self.settings.llm),
            lambda _: ollama_step(self.settings.llm, base_url=self.ollama_url),
            self._embedded_step,
        ]
        failures: list[Unavailable] = []
        for step in steps:
            outcome = step(generation)
            if outcome is None:
                continue
            if isinstance(outcome, Endpoint):
                log.info("language model: %s", outcome.description)
                return outcome, failures
            log.warning("language model not used: %s", outcome.reason)
            failures.append(outcome)
        return None, failures

    def _announce(self, endpoint: Endpoint, failures: list[Unavailable]) -> None:
        """Lock held: tell the session which server answers, once per server."""
        key = (endpoint.kind, endpoint.model)
        if key == self._announced:
            return
        self._announced = key
        message = f"Language model: {endpoint.description}."
        if failures:
            message += f" Not used: {'; '.join(f.reason for f in failures)}."
        self._pending.append(message)

    def _embedded_step(self, generation: int) -> Endpoint | Unavailable:
        llm = self.settings.llm
        if not llm.local_server:
            return Unavailable(
                "embedded", "the built-in llama.cpp server is off (llm.local_server)"
            )
        missing = self._llama_missing()
        if missing:
            return Unavailable("embedded", f"no built-in llama.cpp server: {missing}")
        choice = llm.local_model.strip()
        if not choice:
            return Unavailable(
                "embedded",
                "no built-in model chosen (set llm.local_model to a GGUF file or a model id "
                "such as smollm2-135m)",
            )
        try:
            server = self._local_server(choice, generation)
            base_url = server.ensure_running()
        except Exception as exc:  # a missing file, a failed download, a crash while loading
            return Unavailable("embedded", f"the built-in llama.cpp server: {exc}")
        return Endpoint(
            "embedded",
            base_url,
            server.alias,
            f"the built-in llama.cpp server with {server.model.name}",
            api_key=PLACEHOLDER_API_KEY,
        )

    def _local_server(self, choice: str, generation: int) -> LocalServer:
        with self._lock:
            if self._server is not None and self._server_choice == choice:
                return self._server
        path = resolve_local_model(choice, self.settings)  # may download: no lock held
        llm = self.settings.llm
        server = LocalServer(
            path, log_path=self.log_path, start_timeout_s=llm.local_start_timeout_s
        )
        with self._lock:
            if generation == self._generation:
                old, self._server, self._server_choice = self._server, server, choice
            else:
                old = server  # closed while resolving: never start it
        if old is not None:
            old.stop()
        if old is server:
            raise RuntimeError("the chat was closed")
        return server
