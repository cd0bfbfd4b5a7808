"""Persona files: who the avatar is, in YAML with a versioned schema.

A broken file is refused with an error naming file, line and field; the app then
keeps the built-in default persona and says so rather than starting a stranger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.config.yaml_source import ConfigError, ConfigProblem, load_yaml, problems_from_validation
from app.paths import assets_dir

SCHEMA_VERSION = 1
Language = Literal["en", "ko"]


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


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = Field(alias="schema")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: Localized
    languages: list[Language] = Field(min_length=1)
    voice: dict[Language, str] = Field(default_factory=dict)
    look: str = "guide"
    style: SpeakingStyle = Field(default_factory=SpeakingStyle)  # type: ignore[arg-type]
    system_prompt: Localized
    greeting: Localized
    disclosure: Localized
    fallback: Localized = Field(
        default_factory=lambda: Localized(
            en="Sorry, I can't answer that right now. Please ask a staff member.",
            ko="죄송합니다. 지금은 답변을 드릴 수 없어요. 직원에게 문의해 주세요.",
        )
    )

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(
                f"unsupported schema version {value}; this dhuman reads {SCHEMA_VERSION}"
            )
        return value

    def system_message(self, language: str) -> str:
        return self.system_prompt.get(language)


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
        return Persona.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, str(path), lines)) from None
