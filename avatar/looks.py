"""Avatar looks: how the face is drawn (skin, hair, eyes, clothes, proportions), as data.

A look is a YAML file under ``assets/looks`` validated by a versioned schema; a broken
file is refused with ``file:line: field: message`` like a persona. The renderer reads
only these numbers and colours, so a new look needs no code. Proportions are factors
around 1.0 (the designed default face) and are bounded so no file can draw a monster.
No Qt here: colours stay ``#RRGGBB`` strings and the GUI turns them into brushes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.config.yaml_source import ConfigError, ConfigProblem, load_yaml, problems_from_validation
from app.paths import assets_dir

SCHEMA_VERSION = 1
DEFAULT_LOOK = "guide"

Color = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="#RRGGBB")]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Skin(_Part):
    base: Color
    shadow: Color = Field(description="form shadow at the face's edges, under nose and jaw")
    highlight: Color = Field(description="light on forehead, nose bridge and cheekbones")
    blush: Color = "#E07A6A"
    blush_strength: Unit = 0.3
    stubble: Unit = Field(0.0, description="a shaved beard's shadow on jaw and upper lip")


class Hair(_Part):
    style: Literal["short", "bob", "long", "bun"]
    color: Color
    highlight: Color = Field(description="the sheen band and light strands")
    volume: float = Field(1.0, ge=0.85, le=1.2)
    length: Unit = Field(0.5, description="how far bob/long hair falls (0 jaw, 1 chest)")
    part: float = Field(-0.35, ge=-1.0, le=1.0, description="parting: -1 viewer's left, 1 right")
    fringe: Unit = Field(0.4, description="how far the front hair sweeps over the forehead")


class Eyes(_Part):
    iris: Color
    sclera: Color = "#FBF7F2"
    lash: Color = "#231815"
    size: float = Field(1.0, ge=0.85, le=1.2)
    spacing: float = Field(1.0, ge=0.9, le=1.1)
    tilt: float = Field(0.0, ge=-1.0, le=1.0, description="outer corners up (+) or down (-)")
    lashes: Unit = Field(0.5, description="0 none (fine line), 1 long, dark lashes")


class Brows(_Part):
    color: Color
    thickness: float = Field(1.0, ge=0.7, le=1.5)
    arch: Unit = 0.5
    length: float = Field(1.0, ge=0.85, le=1.15)


class Lips(_Part):
    color: Color
    fullness: float = Field(1.0, ge=0.7, le=1.35)
    width: float = Field(1.0, ge=0.85, le=1.15)
    rest_smile: Unit = Field(0.1, description="a resting hint of a smile, added to every frame")


class FaceShape(_Part):
    width: float = Field(1.0, ge=0.9, le=1.1)
    length: float = Field(1.0, ge=0.9, le=1.1)
    jaw: Unit = Field(0.4, description="0 soft and round, 1 square")
    chin: Unit = Field(0.5, description="0 broad, 1 pointed")
    nose: float = Field(1.0, ge=0.8, le=1.25)


class Clothing(_Part):
    style: Literal["polo", "blazer", "sweater"]
    color: Color
    accent: Color = Field(description="collar, shirt or trim colour")
    badge: bool = Field(False, description="a name badge on the chest (a guide on duty)")


class Background(_Part):
    top: Color
    bottom: Color
    glow: Color = "#FFFFFF"
    glow_strength: Unit = 0.35


class Look(_Part):
    """Everything the 2D renderer needs to draw one character."""

    schema_version: int = Field(alias="schema")
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(min_length=1)
    skin: Skin
    hair: Hair
    eyes: Eyes
    brows: Brows
    lips: Lips
    face: FaceShape = Field(default_factory=FaceShape)
    clothing: Clothing
    background: Background

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value != SCHEMA_VERSION:
            raise ValueError(
                f"unsupported schema version {value}; this dhuman reads {SCHEMA_VERSION}"
            )
        return value


def looks_dir() -> Path:
    return assets_dir() / "looks"


def bundled_looks() -> list[str]:
    return sorted(p.stem for p in looks_dir().glob("*.yaml"))


def load_look(name_or_path: str) -> Look:
    """A bundled look by name (``guide``) or a YAML file by path; ``ConfigError`` if wrong."""
    path = Path(name_or_path).expanduser()
    if path.suffix not in (".yaml", ".yml"):
        path = looks_dir() / f"{name_or_path}.yaml"
        if not path.exists():
            known = ", ".join(bundled_looks()) or "none"
            problem = f"no bundled look {name_or_path!r} (bundled: {known}); or give a .yaml path"
            raise ConfigError([ConfigProblem(str(path), None, "", problem)])
    data, lines = load_yaml(path)
    try:
        return Look.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, str(path), lines)) from None
