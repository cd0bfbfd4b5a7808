"""Tools: schemas from the persona, validated arguments, events, clear errors."""

from __future__ import annotations

import json

import pytest

from app.core import events as ev
from dialog.persona import load_persona
from dialog.tools import ToolBox, ToolCall


@pytest.fixture
def box() -> ToolBox:
    return ToolBox(load_persona("default"))


def test_schemas_follow_the_persona(box: ToolBox) -> None:
    names = [s["function"]["name"] for s in box.schemas()]
    assert names == ["call_staff", "show_info", "end_session"]
    show = next(s for s in box.schemas() if s["function"]["name"] == "show_info")
    card = show["function"]["parameters"]["properties"]["card"]
    assert card["enum"] == ["floor-map", "opening-hours", "parking"]
    assert ToolBox(load_persona("counselor")).names == ["call_staff", "end_session"]
    json.dumps(box.schemas())  # plain JSON for the API


def test_show_info_emits_the_card_in_the_visitors_language(box: ToolBox) -> None:
    outcome = box.execute(ToolCall("c1", "show_info", '{"card": "parking"}'), 7, "ko")
    assert outcome.ok and outcome.continue_reply
    (event,) = outcome.events
    assert isinstance(event, ev.ShowInfo) and event.turn_id == 7
    assert event.card == "parking" and event.title == "주차 안내" and "지하" in event.body
    assert event.priority is ev.Priority.CONTROL


def test_call_staff_and_end_session(box: ToolBox) -> None:
    staff = box.execute(ToolCall("c", "call_staff", '{"reason": "wants a wheelchair"}'), 1, "en")
    (alert,) = staff.events
    assert isinstance(alert, ev.StaffAlert)
    assert alert.kind == "request" and alert.severity == "info"
    assert alert.reason == "wants a wheelchair"
    end = box.execute(ToolCall("e", "end_session", ""), 1, "en")
    assert end.ends_session and not end.continue_reply
    assert isinstance(end.events[0], ev.SessionEndRequested)


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("show_info", '{"card": "moon-map"}', "no card 'moon-map'; the cards are: floor-map"),
        ("show_info", "{}", "card: Field required"),
        ("call_staff", '{"reason": ""}', "reason: String should have at least 1 character"),
        ("call_staff", '{"reason": "x", "urgent": true}', "urgent: Extra inputs"),
        ("call_staff", "not json", "invalid arguments for call_staff"),
        ("call_staff", "[1, 2]", "must be a JSON object"),
        ("launch", "{}", "unknown tool 'launch'"),
    ],
)
def test_bad_calls_are_refused_with_a_clear_message(
    box: ToolBox, name: str, arguments: str, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = box.execute(ToolCall("x", name, arguments), 1, "en")
    assert not outcome.ok and outcome.events == ()
    assert outcome.result.startswith("error: ") and message in outcome.result
    assert message in caplog.text


def test_a_tool_the_persona_did_not_enable_is_refused() -> None:
    box = ToolBox(load_persona("counselor"))
    outcome = box.execute(ToolCall("x", "show_info", '{"card": "parking"}'), 1, "en")
    assert not outcome.ok and "unknown tool" in outcome.result
