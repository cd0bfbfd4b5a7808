"""The Qt client: the only package that imports Qt.

PySide builds a Qt class's Python type (and its enums) the first time Python meets it.
Mid-conversation that meant 20-50 ms of the UI thread, with the GIL held, the first time
a caption arrived (``QStyle``'s and ``QAbstractScrollArea``'s enums): the face froze for
that long. Building them all when PySide is imported costs ~60 ms once, at start-up.
This must run before the first PySide import; a caller's own setting wins.
"""

from __future__ import annotations

import os

os.environ.setdefault("PYSIDE6_OPTION_LAZY", "0")
