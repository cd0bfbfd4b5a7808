"""Tools the model may call (OpenAI function calling): call staff, end the session, show a card.

The model sees a JSON schema per tool the persona enables; a call it makes is validated
with pydantic (a ``show_info`` card must be one of the persona's cards) and executed by
turning it into session events. A bad call is not executed: the error goes back to the
model as the tool's result (so it can correct itself or just answer) and to the log.

A chat engine that supports tools implements :class:`ToolChat`: ``stream_with_tools``
yields text pieces and, at the end of a model turn, the complete :class:`ToolCall` objects
(their arguments arrive in fragments and are accumulated by the engine).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core import events as ev
from app.core.types import ChatMessage
from dialog.persona import Persona

log = logging.getLogger(__name__)

ToolSchema = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # the JSON text as the model wrote it


@dataclass(frozen=True, slots=True)
class ToolExchange:
    """One model turn that called tools, and what the tools answered; sent back verbatim."""

    text: str
    calls: tuple[ToolCall, ...]
    results: tuple[str, ...]  # one per call, same order


@runtime_checkable
class ToolChat(Protocol):
    def stream_with_tools(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSchema],
        exchanges: Sequence[ToolExchange] = (),
    ) -> AsyncIterator[str | ToolCall]: ...


# ------------------------------------------------------------------ arguments
class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CallStaffArgs(_Args):
    reason: str = Field(min_length=1, max_length=200, description="why staff are needed")


class EndSessionArgs(_Args):
    reason: str = Field("", max_length=200)


class ShowInfoArgs(_Args):
    card: str = Field(min_length=1, description="the id of one of the info cards")

    @field_validator("card")
    @classmethod
    def _known(cls, value: str, info: Any) -> str:
        cards: Sequence[str] = (info.context or {}).get("cards", ())
        if value not in cards:
            known = ", ".join(cards) or "none"
            raise ValueError(f"no card {value!r}; the cards are: {known}")
        return value


_DESCRIPTIONS: dict[str, tuple[type[_Args], str]] = {
    "call_staff": (
        CallStaffArgs,
        "Ask a human staff member to come to the visitor (they want a person, need help you "
        "cannot give, or seem unwell). Say that you did it.",
    ),
    "end_session": (
        EndSessionArgs,
        "End the conversation when the visitor says goodbye or asks to stop.",
    ),
    "show_info": (
        ShowInfoArgs,
        "Show an information card on the screen (a map, opening hours...). Mention it briefly.",
    ),
}


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    call: ToolCall
    ok: bool
    result: str  # what the model is told
    events: tuple[ev.Event, ...] = ()
    continue_reply: bool = True  # ask the model to go on after this call
    ends_session: bool = False


class ToolBox:
    """The persona's enabled tools: their schemas and their execution."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        self.names = list(persona.tools)

    def __bool__(self) -> bool:
        return bool(self.names)

    def schemas(self) -> list[ToolSchema]:
        out: list[ToolSchema] = []
        for name in self.names:
            model, description = _DESCRIPTIONS[name]
            parameters = model.model_json_schema()
            parameters.pop("title", None)
            if name == "show_info":
                parameters["properties"]["card"]["enum"] = sorted(self.persona.cards)
            out.append(
                {
                    "type": "function",
                    "function": {
                        "name": name,
                        "description": description,
                        "parameters": parameters,
                    },
                }
            )
        return out

    def execute(self, call: ToolCall, turn_id: int, language: str) -> ToolOutcome:
        if call.name not in self.names:
            return self._refuse(call, f"unknown tool {call.name!r}; tools: {', '.join(self.names)}")
        model, _ = _DESCRIPTIONS[call.name]
        try:
            raw = json.loads(call.arguments or "{}")
            if not isinstance(raw, dict):
                raise ValueError("the arguments must be a JSON object")
            args = model.model_validate(raw, context={"cards": sorted(self.persona.cards)})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            return self._refuse(call, f"invalid arguments for {call.name}: {problems}")
        except ValueError as exc:
            return self._refuse(call, f"invalid arguments for {call.name}: {exc}")
        if isinstance(args, CallStaffArgs):
            alert = ev.StaffAlert(
                turn_id=turn_id, reason=args.reason, severity="info", kind="request"
            )
            return ToolOutcome(call, True, "Staff were asked to come.", (alert,))
        if isinstance(args, ShowInfoArgs):
            card = self.persona.cards[args.card]
            shown = ev.ShowInfo(
                turn_id=turn_id,
                card=args.card,
                title=card.title.get(language),
                body=card.body.get(language),
            )
            return ToolOutcome(call, True, f"The card {args.card!r} is on the screen.", (shown,))
        assert isinstance(args, EndSessionArgs)
        end = ev.SessionEndRequested(turn_id=turn_id, reason=args.reason or "the model ended it")
        return ToolOutcome(call, True, "The session will end.", (end,), False, True)

    @staticmethod
    def _refuse(call: ToolCall, message: str) -> ToolOutcome:
        log.warning("tool call refused: %s", message)
        return ToolOutcome(call, False, f"error: {message}")
