from pathlib import Path

import pytest

from app.config.yaml_source import ConfigError
from dialog.persona import bundled_personas, load_persona


def test_default_persona_is_bilingual() -> None:
    p = load_persona("default")
    assert "default" in bundled_personas()
    assert p.languages == ["en", "ko"]
    assert "AI" in p.disclosure.get("en") and "AI" in p.disclosure.get("ko")
    assert p.greeting.get("ko") != p.greeting.get("en")


def test_broken_persona_names_file_line_and_field(tmp_path: Path) -> None:
    good = (Path(__file__).parents[2] / "assets/personas/default.yaml").read_text()
    path = tmp_path / "guide.yaml"
    path.write_text(good.replace("rate: 0.9", "rate: fast"))
    with pytest.raises(ConfigError) as err:
        load_persona(str(path))
    problem = err.value.problems[0]
    assert problem.field == "style.rate"
    assert problem.line == good.splitlines().index("  rate: 0.9") + 1


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    good = (Path(__file__).parents[2] / "assets/personas/default.yaml").read_text()
    path = tmp_path / "future.yaml"
    path.write_text(good.replace("schema: 1", "schema: 7"))
    with pytest.raises(ConfigError, match="unsupported schema version 7"):
        load_persona(str(path))


def test_unknown_persona_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ConfigError, match="bundled: default"):
        load_persona("nobody")
