"""Persona files: who the avatar is, in YAML with a versioned schema.

Schema 2 (current) describes identity, languages, voice per language, the avatar's look,
speaking style, prompt parts, allowed expression tags, knowledge sources, safety additions,
affect context, tools and info cards, and the fixed lines (greeting, AI disclosure,
fallback, farewell). Schema 1 files (a single ``system_prompt``) still load.

A broken file is refused with an error naming file, line and field; the app then keeps the
built-in default persona and says so rather than starting a stranger. Safety is not a
persona's to remove: ``safety.crisis_protocol: false`` is an error, and the crisis protocol
and output guard run in code whatever a persona says (see :mod:`dialog.safety`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from app.config.yaml_source import ConfigError, ConfigProblem, load_yaml, problems_from_validation
from app.paths import assets_dir

SCHEMA_VERSION = 2
SUPPORTED_SCHEMAS = (1, 2)
Language = Literal["en", "ko"]
Look = Literal["guide", "professional"]
ToolName = Literal["call_staff", "end_session", "show_info"]
_ID = r"^[a-z0-9][a-z0-9_-]*$"


class Localized(BaseModel):
    """Text per language; English is required so every persona has a fallback."""

    model_config = ConfigDict(extra="forbid")
    en: str
    ko: str | None = None

    def get(self, language: str) -> str:
        return (self.ko if language == "ko" else None) or self.en


class SpeakingStyle(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rate: float = Field(
        1.0, gt=0.3, le=2.0, description="1.0 is normal; elderly visitors like 0.85"
    )
    captions: bool = True
    max_sentences: int = Field(3, ge=1, le=12, description="a soft cap asked of the model")


class PromptParts(BaseModel):
    """The persona's own prompt; the safety and format rules are added in code."""

    model_config = ConfigDict(extra="forbid")
    identity: Localized
    style: Localized | None = None
    rules: Localized | None = None

    def text(self, language: str) -> str:
        parts = (self.identity, self.style, self.rules)
        return "\n".join(p.get(language).strip() for p in parts if p is not None)


class KnowledgeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sources: list[str] = Field(
        default_factory=list, description="folders under assets/knowledge/, or paths"
    )
    restrict_to_knowledge: bool = False
    top_k: int = Field(3, ge=1, le=8)
    min_score: float | None = Field(None, description="default: the FAQ mode's thresholds")


class SafetyPolicy(BaseModel):
    """Additions to the built-in safety; nothing here can remove it."""

    model_config = ConfigDict(extra="forbid")
    crisis_protocol: bool = True
    medical_advice_guard: bool = False
    rules: Localized | None = None

    @field_validator("crisis_protocol")
    @classmethod
    def _always_on(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "the crisis protocol cannot be turned off by a persona; remove this line"
            )
        return value


class AffectPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = False
    min_confidence: float = Field(0.4, ge=0.0, le=1.0)


class InfoCard(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Localized
    body: Localized


_V2_ONLY = ("prompt", "expressions", "knowledge", "safety", "affect", "tools", "cards", "farewell")


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: int = Field(alias="schema")
    id: str = Field(pattern=_ID)
    name: Localized
    languages: list[Language] = Field(min_length=1)
    voice: dict[Language, str] = Field(default_factory=dict)
    look: Look = "guide"
    style: SpeakingStyle = Field(default_factory=SpeakingStyle)  # type: ignore[arg-type]
    system_prompt: Localized | None = Field(None, validate_default=True)
    prompt: PromptParts | None = Field(None, validate_default=True)
    expressions: list[str] = Field(default_factory=list)
    knowledge: KnowledgeConfig = Field(default_factory=KnowledgeConfig)  # type: ignore[arg-type]
    safety: SafetyPolicy = Field(default_factory=SafetyPolicy)  # type: ignore[arg-type]
    affect: AffectPolicy = Field(default_factory=AffectPolicy)  # type: ignore[arg-type]
    tools: list[ToolName] = Field(default_factory=list)
    cards: dict[str, InfoCard] = Field(default_factory=dict)
    greeting: Localized
    disclosure: Localized
    fallback: Localized = Field(
        default_factory=lambda: Localized(
            en="Sorry, I can't answer that right now. Please ask a staff member.",
            ko="죄송합니다. 지금은 답변을 드릴 수 없어요. 직원에게 문의해 주세요.",
        )
    )
    farewell: Localized = Field(
        default_factory=lambda: Localized(
            en="Thank you for visiting. Take care.", ko="찾아 주셔서 고맙습니다. 안녕히 가세요."
        )
    )

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value not in SUPPORTED_SCHEMAS:
            raise ValueError(
                f"unsupported schema version {value}; this dhuman reads "
                f"{', '.join(map(str, SUPPORTED_SCHEMAS))}"
            )
        return value

    @field_validator("system_prompt")
    @classmethod
    def _v1_prompt(cls, value: Localized | None, info: ValidationInfo) -> Localized | None:
        schema = info.data.get("schema_version")
        if schema == 1 and value is None:
            raise ValueError("Field required (schema 1 personas need a system_prompt)")
        if schema == 2 and value is not None:
            raise ValueError("schema 2 uses prompt: {identity, style, rules} instead")
        return value

    @field_validator("prompt")
    @classmethod
    def _v2_prompt(cls, value: PromptParts | None, info: ValidationInfo) -> PromptParts | None:
        if info.data.get("schema_version") == 2 and value is None:
            raise ValueError("Field required (schema 2 personas need prompt.identity)")
        return value

    @field_validator("expressions")
    @classmethod
    def _tag_names(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not tag or not tag.replace("_", "").replace("-", "").isalpha() or tag != tag.lower():
                raise ValueError(f"{tag!r}: expression tags are lower-case words like smile, nod")
        return value

    @field_validator("cards")
    @classmethod
    def _card_ids(cls, value: dict[str, InfoCard]) -> dict[str, InfoCard]:
        for key in value:
            if not re.match(_ID, key):
                raise ValueError(f"{key!r}: card ids are lower-case, digits, - and _")
        return value

    @field_validator("tools")
    @classmethod
    def _unique_tools(cls, value: list[ToolName]) -> list[ToolName]:
        return list(dict.fromkeys(value))

    # ------------------------------------------------------------------- reading
    @property
    def medical_guard(self) -> bool:
        return self.safety.medical_advice_guard

    def system_message(self, language: str) -> str:
        """The persona's own words (identity, style, its rules); code adds the rest."""
        if self.prompt is not None:
            text = self.prompt.text(language)
        else:
            assert self.system_prompt is not None
            text = self.system_prompt.get(language)
        if self.safety.rules is not None:
            text = f"{text}\n{self.safety.rules.get(language).strip()}"
        return text

    def card(self, card_id: str) -> InfoCard | None:
        return self.cards.get(card_id)


def personas_dir() -> Path:
    return assets_dir() / "personas"


def bundled_personas() -> list[str]:
    return sorted(p.stem for p in personas_dir().glob("*.yaml"))


def load_persona(name_or_path: str) -> Persona:
    """A bundled persona by name (``default``) or a YAML file by path."""
    path = Path(name_or_path).expanduser()
    if path.suffix not in (".yaml", ".yml"):
        path = personas_dir() / f"{name_or_path}.yaml"
        if not path.exists():
            known = ", ".join(bundled_personas()) or "none"
            problem = (
                f"no bundled persona {name_or_path!r} (bundled: {known}); or give a .yaml path"
            )
            raise ConfigError([ConfigProblem(str(path), None, "", problem)])
    data, lines = load_yaml(path)
    try:
        persona = Persona.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, str(path), lines)) from None
    problems = _cross_checks(persona, data, str(path), lines)
    if problems:
        raise ConfigError(problems)
    return persona


def _cross_checks(
    persona: Persona, data: dict[str, Any], file: str, lines: dict[tuple[str | int, ...], int]
) -> list[ConfigProblem]:
    """Rules that span fields, reported at the line of the field at fault."""
    problems: list[ConfigProblem] = []

    def add(path: tuple[str | int, ...], message: str) -> None:
        line = lines.get(path) or lines.get(path[:1]) or lines.get(())
        problems.append(ConfigProblem(file, line, ".".join(map(str, path)), message))

    if persona.schema_version == 1:
        for key in _V2_ONLY:
            if key in data:
                add((key,), "needs schema: 2 (this file says schema: 1)")
    if "show_info" in persona.tools and not persona.cards:
        add(("tools",), "show_info needs at least one card under cards:")
    return problems
