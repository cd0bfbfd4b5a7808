"""Where the figure sits in a widget of any size: head units -> pixels.

Everything is drawn in head units (see ``pose``), so the face is resolution-independent;
this is the one place that decides the scale. The portrait shows from just above the
hair to the upper chest and stays centred in wide or tall widgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QTransform

# the framed portrait in head units: hair top with a margin .. upper chest, and its width
TOP, BOTTOM, HALF_WIDTH = -2.2, 3.5, 2.9
# the head turns and tilts around the top of the neck
PIVOT = (0.0, 1.35)


@dataclass(frozen=True, slots=True)
class Layout:
    width: float
    height: float
    scale: float  # pixels per head unit
    origin_x: float
    origin_y: float

    @classmethod
    def fit(cls, width: float, height: float) -> Layout:
        scale = max(1e-3, min(width / (2 * HALF_WIDTH), height / (BOTTOM - TOP)))
        # centre the framed portrait vertically, then let the chest run off the bottom
        origin_y = height / 2 - (TOP + BOTTOM) / 2 * scale
        return cls(width, height, scale, width / 2, origin_y)

    def transform(self) -> QTransform:
        """Head units -> pixels, for the neutral (unturned) head."""
        return QTransform(self.scale, 0, 0, self.scale, self.origin_x, self.origin_y)

    def head_transform(self, roll: float) -> QTransform:
        """Head units -> pixels with the head tilted ``roll`` degrees about the neck."""
        t = self.transform()
        t.translate(*PIVOT)
        t.rotate(roll)
        t.translate(-PIVOT[0], -PIVOT[1])
        return t
