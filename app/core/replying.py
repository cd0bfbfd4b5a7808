"""One turn's reply, from the visitor's words to vetted sentences for the speaker.

Safety runs here in code, around the model, for every persona: the utterance is screened
first (a crisis routes the turn to the scripted protocol and a ``StaffAlert``; a medical
question to a referral; the model is not asked), the model's reply streams through
:class:`dialog.reply_stream.ReplyShaper` (expression tags become cues, never words) and
each sentence is vetted before it is captioned or spoken. Tool calls run between model
rounds. A failing model leaves a ``Notice`` and the persona's fallback line.

Runs on the session's event loop; every step is an event through ``emit``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from app.core import events as ev
from app.core.registry import Roles
from app.core.roles import NoticeSource
from app.core.types import ChatMessage
from dialog.persona import Persona
from dialog.reply_stream import ReplyShaper, Shaped
from dialog.safety import SafetyGuard, Screening
from dialog.tools import ToolBox, ToolCall, ToolChat, ToolExchange

log = logging.getLogger(__name__)
Emit = Callable[[ev.Event], None]
# the turn's messages for the model: (user text, language, tools offered)
PromptBuilder = Callable[[str, str, bool], Awaitable[list[ChatMessage]]]
MAX_TOOL_ROUNDS = 2  # model -> tools -> model -> tools -> model, then it must answer


class ReplyWriter:
    """Writes each turn's reply; one per session (it remembers a crisis across turns)."""

    def __init__(
        self,
        roles: Roles,
        persona: Persona,
        guard: SafetyGuard,
        tools: ToolBox,
        emit: Emit,
        prompt: PromptBuilder,
    ) -> None:
        self._roles = roles
        self.persona = persona
        self.guard = guard
        self.tools = tools
        self._emit = emit
        self._prompt = prompt
        self.crisis_active = False  # the crisis protocol ran: later prompts follow it up
        self._safety_noticed = False
        self._ending = False  # the end_session tool was called this turn

    async def answer(
        self, turn_id: int, user_text: str, language: str, sentences: asyncio.Queue[str | None]
    ) -> list[str]:
        """Screen first: a crisis or a medical question never reaches the model."""
        screening = await self.guard.screen(
            user_text, language, medical_guard=self.persona.medical_guard
        )
        self._safety_notice(turn_id)
        if screening.injection:
            detail = f"instruction-like text treated as data: {'; '.join(screening.injection)}"
            self._emit(ev.SafetyAction(turn_id=turn_id, kind="injection", detail=detail))
        if screening.route == "model":
            return await self._think(turn_id, user_text, language, sentences)
        return await self._scripted_route(turn_id, screening, sentences)

    async def _scripted_route(
        self, turn_id: int, screening: Screening, sentences: asyncio.Queue[str | None]
    ) -> list[str]:
        reply = screening.reply
        assert reply is not None
        if screening.route == "crisis":
            self.crisis_active = True
            verdict = screening.verdict
            detail = f"{verdict.source} ({', '.join(verdict.rules) or 'meaning'})"
            self._emit(ev.SafetyAction(turn_id=turn_id, kind="crisis-protocol", detail=detail))
            self._emit(
                ev.StaffAlert(turn_id=turn_id, reason=reply.alert_reason, severity=reply.severity)
            )
            if "concerned" in self.persona.expressions:  # a calm, caring face, not a smile
                self._emit(ev.ExpressionCue(turn_id=turn_id, tag="concerned", intensity=0.6))
        else:
            self._emit(
                ev.SafetyAction(turn_id=turn_id, kind="medical-referral", detail=reply.alert_reason)
            )
        found = _sentences_of(reply.text)
        await self.queue_sentences(turn_id, found, sentences, 0)
        return [reply.text]

    def _safety_notice(self, turn_id: int) -> None:
        problem = self.guard.problem
        if problem and not self._safety_noticed:
            self._safety_noticed = True
            self._emit(ev.Notice(role="safety", turn_id=turn_id, message=problem))

    async def _think(
        self, turn_id: int, user_text: str, language: str, sentences: asyncio.Queue[str | None]
    ) -> list[str]:
        """Stream the reply (and its tool calls); hand each vetted sentence to the speaker."""
        medical = self.persona.medical_guard
        shaper = ReplyShaper(
            self.persona.expressions,
            lambda text: self.guard.vet(text, language, medical_guard=medical),
            self.guard.watch,
        )
        said: list[str] = []
        chat = self._roles.chat
        count = 0
        self._ending = False
        try:
            if chat is None:
                raise RuntimeError("No language model is configured (see `dhuman doctor`).")
            tool_chat = chat if self.tools and isinstance(chat, ToolChat) else None
            messages = await self._prompt(user_text, language, tool_chat is not None)
            exchanges: list[ToolExchange] = []
            for round_ in range(MAX_TOOL_ROUNDS + 1):
                calls: list[ToolCall] = []
                text_before = len(said)
                stream: AsyncIterator[str | ToolCall] = (
                    tool_chat.stream_with_tools(messages, self.tools.schemas(), exchanges)
                    if tool_chat is not None
                    else _text_only(chat.stream(messages))
                )
                async for item in stream:
                    if isinstance(item, ToolCall):
                        calls.append(item)
                    elif item:
                        shaped = shaper.feed(item)
                        count = await self._deliver(turn_id, shaped, sentences, count, said)
                if not calls:
                    break
                if round_ == MAX_TOOL_ROUNDS:
                    log.warning("the model kept calling tools; %d calls ignored", len(calls))
                    break
                results, go_on = self._run_tools(turn_id, calls, language)
                round_text = " ".join(said[text_before:])
                exchanges.append(ToolExchange(round_text, tuple(calls), tuple(results)))
                if not go_on:
                    break
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._chat_notices(turn_id)
            # the session goes on: say so, speak a short fallback line, keep listening
            log.warning("chat failed: %s", exc)
            self._emit(ev.Notice(role="chat", turn_id=turn_id, message=str(exc)))
            shaper.flush()
            if said:
                return said  # half a reply was spoken; do not add a fallback on top
            fallback = self.persona.fallback.get(language)
            await self.queue_sentences(turn_id, [fallback], sentences, count)
            return []
        self._chat_notices(turn_id)
        count = await self._deliver(turn_id, shaper.flush(), sentences, count, said)
        if self._ending and not said:
            farewell = self.persona.farewell.get(language)
            await self.queue_sentences(turn_id, [farewell], sentences, count)
            said.append(farewell)
        self._ending = False
        return said

    def _run_tools(
        self, turn_id: int, calls: list[ToolCall], language: str
    ) -> tuple[list[str], bool]:
        """Execute the calls; returns their results and whether the model should go on."""
        results: list[str] = []
        go_on = False
        for call in calls:
            outcome = self.tools.execute(call, turn_id, language)
            if not outcome.ok:
                self._emit(
                    ev.Notice(
                        role="tools",
                        turn_id=turn_id,
                        message=f"The model called a tool wrongly: {outcome.result}",
                        severity="info",
                    )
                )
            for event in outcome.events:
                self._emit(event)
            self._ending = self._ending or outcome.ends_session
            go_on = go_on or outcome.continue_reply
            results.append(outcome.result)
        return results, go_on

    async def _deliver(
        self,
        turn_id: int,
        shaped: Shaped,
        sentences: asyncio.Queue[str | None],
        count: int,
        said: list[str],
    ) -> int:
        for chunk in shaped.chunks:
            if chunk:
                self._emit(ev.ReplyChunk(turn_id=turn_id, text=chunk))
        for cue, index in shaped.cues:
            self._emit(
                ev.ExpressionCue(
                    turn_id=turn_id, tag=cue.tag, intensity=cue.intensity, sentence_index=index
                )
            )
        for vetted in shaped.guarded:
            self._emit(
                ev.SafetyAction(turn_id=turn_id, kind="output-guard", detail=str(vetted.reason))
            )
        said.extend(v.text for v in shaped.sentences)
        return await self.queue_sentences(
            turn_id, [v.text for v in shaped.sentences], sentences, count
        )

    def _chat_notices(self, turn_id: int) -> None:
        if isinstance(self._roles.chat, NoticeSource):
            for message in self._roles.chat.pop_notices():
                self._emit(ev.Notice(role="chat", turn_id=turn_id, message=message))

    async def queue_sentences(
        self, turn_id: int, found: list[str], sentences: asyncio.Queue[str | None], count: int
    ) -> int:
        for text in found:
            self._emit(ev.ReplySentence(turn_id=turn_id, text=text, index=count))
            await sentences.put(text)
            count += 1
        return count


async def _text_only(stream: AsyncIterator[str]) -> AsyncIterator[str | ToolCall]:
    async for piece in stream:
        yield piece


def _sentences_of(text: str) -> list[str]:
    from speech.sentences import split_sentences

    return split_sentences(text) or [text]
