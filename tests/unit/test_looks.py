import subprocess
import sys
from pathlib import Path

import pytest

from app.config.yaml_source import ConfigError
from avatar.looks import DEFAULT_LOOK, Look, bundled_looks, load_look, looks_dir

GUIDE = Path(__file__).parents[2] / "assets/looks/guide.yaml"


def test_every_bundled_look_loads_under_its_own_name() -> None:
    names = bundled_looks()
    assert {"guide", "professional"} <= set(names)
    assert DEFAULT_LOOK in names
    for name in names:
        look = load_look(name)
        assert isinstance(look, Look)
        assert look.id == name
    assert len({load_look(n).hair.style for n in names}) >= 2  # the looks really differ


def test_a_look_loads_from_a_path_too(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(GUIDE.read_text().replace("id: guide", "id: mine"))
    assert load_look(str(path)).id == "mine"


def test_the_bundled_personas_name_looks_that_exist() -> None:
    personas = Path(__file__).parents[2] / "assets/personas"
    for persona in personas.glob("*.yaml"):
        for line in persona.read_text().splitlines():
            if line.startswith("look:"):
                assert line.split(":", 1)[1].strip() in bundled_looks(), persona.name


def _broken(tmp_path: Path, old: str, new: str) -> tuple[ConfigError, int]:
    good = GUIDE.read_text()
    assert old in good
    path = tmp_path / "broken.yaml"
    path.write_text(good.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_look(str(path))
    return err.value, good.splitlines().index(old) + 1


def test_a_bad_colour_names_file_line_and_field(tmp_path: Path) -> None:
    error, line = _broken(tmp_path, '  iris: "#6B4430"', '  iris: "brownish"')
    problem = error.problems[0]
    assert problem.field == "eyes.iris"
    assert problem.line == line
    assert str(problem).startswith(f"{tmp_path / 'broken.yaml'}:{line}: eyes.iris:")


def test_proportions_out_of_bounds_are_refused(tmp_path: Path) -> None:
    error, line = _broken(tmp_path, "  volume: 1.05", "  volume: 3")
    assert error.problems[0].field == "hair.volume"
    assert error.problems[0].line == line


def test_unknown_keys_and_styles_are_refused(tmp_path: Path) -> None:
    error, _ = _broken(tmp_path, "  style: bob", "  style: mohawk")
    assert error.problems[0].field == "hair.style"
    error, _ = _broken(tmp_path, "  fringe: 0.55", "  fringe: 0.55\n  frnge: 0.3")
    assert error.problems[0].field == "hair.frnge"


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    error, _ = _broken(tmp_path, "schema: 1", "schema: 2")
    assert "unsupported schema version 2" in str(error)


def test_unknown_look_name_lists_the_bundled_ones() -> None:
    with pytest.raises(ConfigError, match=r"bundled: .*guide"):
        load_look("nobody")
    assert looks_dir().name == "looks"


def test_looks_are_data_without_qt() -> None:
    code = (
        "import sys; from avatar.looks import load_look; load_look('guide'); "
        "assert not [m for m in sys.modules if m.startswith('PySide6')]"
    )
    root = Path(__file__).parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
