"""The window builds Qt's Python types when it starts, not the first time a caption comes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_PROBE = """
import sys
import app.gui  # sets how PySide loads, before PySide itself
from PySide6.QtWidgets import QApplication, QScrollArea

app = QApplication([])
area = QScrollArea()
made = []

def watch(frame, event, arg):
    if event == "call" and frame.f_code.co_filename.endswith("enum.py"):
        made.append(frame.f_code.co_name)

sys.setprofile(watch)
area.viewport().width()  # what the captions do with their first line
area.style()
sys.setprofile(None)
print(len(made))
"""


@pytest.mark.parametrize("lazy", [None, "1"], ids=["app default", "lazy PySide"])
def test_first_use_of_a_qt_class_builds_no_python_enums_mid_conversation(
    lazy: str | None,
) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PYSIDE6_OPTION_LAZY", None)
    if lazy is not None:
        env["PYSIDE6_OPTION_LAZY"] = lazy
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=env, check=True
    )
    enum_calls = int(out.stdout.split()[-1])
    if lazy is None:
        assert enum_calls == 0  # built at import, while the app starts
    else:
        assert enum_calls > 50  # the stall this setting removes (~20-50 ms of the UI thread)
