"""Watch the avatar's mouth on the real (X) screen, stamped on the monotonic clock."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QWidget

# the mouth sits in the lower middle of the painted face: a generous box around it,
# as fractions of the face view (x, y, width, height)
MOUTH_BOX = (0.36, 0.46, 0.28, 0.2)


@dataclass
class MouthWatch:
    """Screen grabs of a face view's mouth box; call :meth:`grab` from a Qt timer."""

    view: QWidget
    stamps: list[float] = field(default_factory=list)
    levels: list[float] = field(default_factory=list)
    shots: list[QImage] = field(default_factory=list)
    keep_shots: int = 400

    def grab(self) -> None:
        view = self.view
        corner = view.mapToGlobal(view.rect().topLeft())
        w, h = view.width(), view.height()
        fx, fy, fw, fh = MOUTH_BOX
        box = (corner.x() + int(w * fx), corner.y() + int(h * fy), int(w * fw), int(h * fh))
        screen = QGuiApplication.primaryScreen()
        image = screen.grabWindow(0, *box).toImage().convertToFormat(QImage.Format.Format_RGB32)
        pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), -1, 4)
        self.stamps.append(time.monotonic())
        self.levels.append(float(pixels[..., :3].mean()))
        if len(self.shots) < self.keep_shots:
            self.shots.append(image)

    def level_change_between(self, start: float, end: float) -> float:
        """How much the mouth box changed frame to frame in a time window (mean |delta|)."""
        stamps, levels = np.array(self.stamps), np.array(self.levels)
        inside = levels[(stamps >= start) & (stamps <= end)]
        return float(np.abs(np.diff(inside)).mean()) if len(inside) > 2 else 0.0

    def openness(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, how far the box is from its resting look): an open mouth darkens it."""
        levels = np.array(self.levels)
        rest = float(np.median(levels[-20:])) if len(levels) >= 20 else float(levels.max())
        return np.array(self.stamps), np.abs(rest - levels)
