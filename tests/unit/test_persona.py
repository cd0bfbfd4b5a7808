"""Persona files: schema 2 (and 1 still loading), precise errors, safety not switchable."""

from pathlib import Path

import pytest

from app.config.yaml_source import ConfigError
from dialog.persona import SCHEMA_VERSION, bundled_personas, load_persona

ROOT = Path(__file__).parents[2]
DEFAULT = (ROOT / "assets/personas/default.yaml").read_text()

V1 = """\
schema: 1
id: old
name: {en: Max, ko: 맥스}
languages: [en, ko]
look: guide
style: {rate: 0.9}
system_prompt:
  en: You are Max, a guide.
  ko: 당신은 안내원 맥스입니다.
greeting: {en: Hi, ko: 안녕하세요}
disclosure: {en: I am an AI., ko: 저는 AI입니다.}
"""


def write(tmp_path: Path, text: str, name: str = "p.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(needle))


def test_default_persona_is_bilingual_schema_2_with_the_hospital_parts() -> None:
    p = load_persona("default")
    assert p.schema_version == SCHEMA_VERSION == 2
    assert p.languages == ["en", "ko"]
    assert "AI" in p.disclosure.get("en") and "AI" in p.disclosure.get("ko")
    assert p.greeting.get("ko") != p.greeting.get("en")
    assert p.look == "guide" and p.style.rate < 1.0  # slow for elderly visitors
    assert p.knowledge.sources == ["saebom-hospital"] and p.knowledge.restrict_to_knowledge
    assert p.medical_guard and p.safety.crisis_protocol
    assert {"smile", "nod", "concerned"} <= set(p.expressions)
    assert set(p.tools) == {"call_staff", "show_info", "end_session"}
    assert p.card("floor-map") is not None and "2층" in p.cards["floor-map"].body.get("ko")
    assert "Hana" in p.system_message("en") and "하나" in p.system_message("ko")


def test_bundled_counselor_and_sales_customer() -> None:
    assert {"default", "counselor", "sales-customer"} <= set(bundled_personas())
    counselor = load_persona("counselor")
    assert counselor.look == "professional" and counselor.medical_guard
    assert "never diagnose" in counselor.system_message("en").lower()
    assert "진단" in counselor.system_message("ko")
    assert "not a therapist" in counselor.disclosure.get("en")
    customer = load_persona("sales-customer")
    assert "objections" in customer.cards and "role-play" in customer.system_message("en")
    assert "AI" in customer.disclosure.get("en")


def test_schema_1_files_still_load(tmp_path: Path) -> None:
    p = load_persona(write(tmp_path, V1))
    assert p.schema_version == 1
    assert p.system_message("ko") == "당신은 안내원 맥스입니다."
    assert p.tools == [] and p.expressions == [] and not p.medical_guard
    assert p.safety.crisis_protocol  # built in for every schema


def test_schema_2_fields_in_a_schema_1_file_are_named(tmp_path: Path) -> None:
    text = V1 + "tools: [call_staff]\n"
    with pytest.raises(ConfigError) as err:
        load_persona(write(tmp_path, text))
    problem = err.value.problems[0]
    assert problem.field == "tools" and "schema: 2" in problem.message
    assert problem.line == line_of(text, "tools:")


def test_broken_persona_names_file_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, DEFAULT.replace("rate: 0.9", "rate: fast"), "guide.yaml")
    with pytest.raises(ConfigError) as err:
        load_persona(path)
    problem = err.value.problems[0]
    assert problem.field == "style.rate"
    assert problem.line == line_of(DEFAULT, "  rate: 0.9")
    assert str(problem).startswith(f"{path}:{problem.line}: style.rate: ")


def test_the_crisis_protocol_cannot_be_turned_off(tmp_path: Path) -> None:
    text = DEFAULT.replace("  medical_advice_guard: true", "  crisis_protocol: false")
    with pytest.raises(ConfigError) as err:
        load_persona(write(tmp_path, text))
    problem = err.value.problems[0]
    assert problem.field == "safety.crisis_protocol"
    assert "cannot be turned off" in problem.message
    assert problem.line == line_of(text, "  crisis_protocol: false")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("look: guide", "look: pirate", "look"),
        ("expressions: [smile,", "expressions: [Big Grin,", "expressions"),
        ("tools: [call_staff,", "tools: [launch_rockets,", "tools.0"),
        ("  top_k: 3", "  top_k: 99", "knowledge.top_k"),
    ],
)
def test_field_errors_in_schema_2(tmp_path: Path, old: str, new: str, field: str) -> None:
    assert old in DEFAULT
    with pytest.raises(ConfigError) as err:
        load_persona(write(tmp_path, DEFAULT.replace(old, new)))
    assert err.value.problems[0].field == field


def test_show_info_needs_cards(tmp_path: Path) -> None:
    cut = DEFAULT.index("cards:")
    end = DEFAULT.index("greeting:")
    with pytest.raises(ConfigError, match="show_info needs at least one card"):
        load_persona(write(tmp_path, DEFAULT[:cut] + DEFAULT[end:]))


def test_schema_2_needs_its_prompt(tmp_path: Path) -> None:
    text = DEFAULT.replace("prompt:\n  identity:", "prompt_parts:\n  identity:")
    with pytest.raises(ConfigError) as err:
        load_persona(write(tmp_path, text))
    fields = {p.field for p in err.value.problems}
    assert "prompt" in fields


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unsupported schema version 7"):
        load_persona(write(tmp_path, DEFAULT.replace("schema: 2", "schema: 7"), "future.yaml"))


def test_unknown_persona_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ConfigError, match=r"bundled: .*default"):
        load_persona("nobody")
