from pathlib import Path

import pytest

from app.config.settings import Settings, load_settings, save_settings, set_value
from app.config.yaml_source import ConfigError


def test_defaults_load_without_a_file(tmp_path: Path) -> None:
    s = load_settings(tmp_path / "missing.yaml", environ={})
    assert s == Settings()


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("llm:\n  model: qwen\n  temperature: 0.5\n")
    env = {"DHUMAN_LLM__MODEL": "gpt-4o-mini", "DHUMAN_CAMERA__SOURCE": "0", "OTHER": "x"}
    s = load_settings(path, environ=env)
    assert s.llm.model == "gpt-4o-mini"
    assert s.llm.temperature == 0.5
    assert s.camera.source == "0"


def test_bad_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("general:\n  language: en\nllm:\n  model: x\n  temperature: hot\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    problem = err.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), 5, "llm.temperature")
    assert str(problem).startswith(f"{path}:5: llm.temperature:")


def test_unknown_key_and_broken_yaml_are_refused_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("llm:\n  model: x\n  modle: y\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert err.value.problems[0].line == 3
    assert err.value.problems[0].field == "llm.modle"
    path.write_text("llm:\n  model: [x\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, environ={})


def test_set_and_save_round_trip_atomically(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.yaml"
    s = set_value(Settings(), "llm.base_url", "http://127.0.0.1:8000/v1")
    s = set_value(s, "camera.enabled", "true")
    save_settings(s, path)
    assert load_settings(path, environ={}) == s
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".settings-")]
    with pytest.raises(ConfigError, match="no field 'modle'"):
        set_value(s, "llm.modle", "x")
    with pytest.raises(ConfigError, match=r"llm\.temperature"):
        set_value(s, "llm.temperature", "9")
