"""Baked sprites are blitted without antialiasing (half the cost of a rolled head's
frame); that must not change the picture."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath
from PySide6.QtWidgets import QApplication

from app.gui.face.sprite import Sprite, bake

SCALE = 120.0  # pixels per head unit


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    view = np.frombuffer(image.constBits(), np.uint8)
    return view.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 4].astype(int)


def _blob() -> Sprite:
    """An antialiased ellipse that fills its bounds edge to edge."""
    bounds = QRectF(-0.6, -0.8, 1.2, 1.6)
    path = QPainterPath()
    path.addEllipse(bounds)

    def paint(p: QPainter) -> None:
        p.setPen(Qt.PenStyle.NoPen)
        p.fillPath(path, QColor(180, 90, 60))

    return bake(bounds, SCALE, 1.0, paint)


def _drawn(sprite: Sprite, roll: float, *, antialiased: bool | None = None) -> QImage:
    """The sprite drawn on a plain canvas under a head transform rolled by ``roll``."""
    canvas = QImage(400, 400, QImage.Format.Format_ARGB32_Premultiplied)
    canvas.fill(QColor(240, 240, 235))
    p = QPainter(canvas)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    p.translate(200.3, 190.7)
    p.rotate(roll)
    p.scale(SCALE, SCALE)
    if antialiased is None:
        sprite.draw(p)
    else:  # the old way: the image's edges antialiased like any shape
        p.translate(sprite.origin)
        p.scale(1 / sprite.scale, 1 / sprite.scale)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, antialiased)
        p.drawImage(QPointF(0, 0), sprite.image)
    p.end()
    return canvas


def test_a_baked_sprite_has_a_transparent_border(qapp: QApplication) -> None:
    pixels = _pixels(_blob().image)
    alpha = pixels[:, 3::4]
    assert alpha[1:-1, 1:-1].max() == 255  # the shape is there ...
    edge = np.concatenate([alpha[0], alpha[-1], alpha[:, 0], alpha[:, -1]])
    assert edge.max() == 0  # ... and nothing touches the image's edge


@pytest.mark.parametrize("roll", [0.0, 2.5, -7.0])
def test_a_sprite_drawn_without_antialiasing_looks_the_same(
    qapp: QApplication, roll: float
) -> None:
    sprite = _blob()
    fast = _pixels(_drawn(sprite, roll))
    careful = _pixels(_drawn(sprite, roll, antialiased=True))
    assert np.abs(fast - careful).max() <= 2  # rounding only
    # and the check can fail: a sprite whose edge is cut shows it
    cut = Sprite(sprite.image.copy(1, 1, sprite.image.width() - 2, 60), sprite.origin, SCALE)
    assert np.abs(_pixels(_drawn(cut, roll)) - careful).max() > 50
