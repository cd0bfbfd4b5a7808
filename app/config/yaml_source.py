"""YAML files validated by pydantic models, with errors that name file, line and field.

PyYAML's composer keeps a line mark on every node; we walk the node tree once to
map each key path to its line, so a pydantic error location such as
``("llm", "timeout_s")`` can be reported as ``settings.yaml:7: llm.timeout_s: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(ValueError):
    """A configuration or persona file is wrong; ``problems`` says exactly where."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _line_map(node: yaml.Node, path: KeyPath, out: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            out[child] = key_node.start_mark.line + 1
            _line_map(value_node, child, out)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            out[child] = item.start_mark.line + 1
            _line_map(item, child, out)


def load_yaml(path: Path) -> tuple[dict[str, Any], dict[KeyPath, int]]:
    """Read a YAML mapping and the line of every key path in it."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(name, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [ConfigProblem(name, None, "", f"cannot read the file ({exc})")]
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = f"not valid YAML: {exc.problem or exc}"
        raise ConfigError([ConfigProblem(name, line, "", problem)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(name, None, "", f"not valid YAML: {exc}")]) from None
    if data is None or node is None:
        return {}, {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(name, 1, "", "the file must hold a mapping (key: value)")])
    lines: dict[KeyPath, int] = {(): 1}
    _line_map(node, (), lines)
    return data, lines


def problems_from_validation(
    exc: ValidationError, file: str, lines: dict[KeyPath, int]
) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc: KeyPath = tuple(err["loc"])
        # the nearest enclosing key that exists in the file carries the line
        line = None
        for cut in range(len(loc), -1, -1):
            if loc[:cut] in lines:
                line = lines[loc[:cut]]
                break
        field = ".".join(str(part) for part in loc)
        problems.append(ConfigProblem(file, line, field, err["msg"]))
    return problems


def validate_file(model: type[M], path: Path, overrides: dict[str, Any] | None = None) -> M:
    """Load ``path`` into ``model``; ``overrides`` (already nested) win over the file."""
    data, lines = load_yaml(path) if path.exists() else ({}, {})
    if overrides:
        data = deep_merge(data, overrides)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(problems_from_validation(exc, str(path), lines)) from None


def deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
