"""Render one frame to an image, no widget needed (tests, the contact sheet, thumbnails)."""

from __future__ import annotations

from PySide6.QtGui import QImage, QPainter

from app.gui.face.painter import FacePainter
from avatar.looks import Look
from avatar.rig import RigState


def render_face(
    state: RigState, look: Look | FacePainter, width: int, height: int | None = None
) -> QImage:
    """``state`` drawn with ``look`` into a new ``width`` x ``height`` (square) image.

    Pass a ``FacePainter`` instead of a look to reuse its caches across many frames.
    """
    painter = look if isinstance(look, FacePainter) else FacePainter(look)
    height = width if height is None else height
    image = QImage(width, height, QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(image)
    painter.paint(p, width, height, state)
    p.end()
    return image
