"""Pre-rendered layers: paint a static part once at the current scale, blit it per frame.

A hair mass is a large antialiased area with gradients and texture; filling it costs
milliseconds a frame, blitting a ready image costs a tenth of that, even rotated with
the head. A sprite is baked at the on-screen pixel scale, so at rest it is pixel-exact.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QImage, QPainter


@dataclass(frozen=True)
class Sprite:
    image: QImage
    origin: QPointF  # the image's top-left corner, head units
    scale: float  # pixels per head unit it was baked at

    def draw(self, p: QPainter, dx: float = 0.0, dy: float = 0.0, *, clipped: bool = False) -> None:
        """Draw under the painter's head-unit transform, shifted by ``dx, dy`` head units.

        ``clipped``: a clip path was just set. Qt rasterises a clip path at its first use
        with the antialiasing of that moment, so the blit must keep it on or the clip's
        edge comes out jagged for everything drawn under it.
        """
        p.save()
        # the image's border is transparent (see ``bake``), so its edges need no
        # antialiasing: without it a rotated blit (the head's roll) costs half as much
        p.setRenderHint(QPainter.RenderHint.Antialiasing, clipped)
        p.translate(self.origin.x() + dx, self.origin.y() + dy)
        p.scale(1 / self.scale, 1 / self.scale)
        p.drawImage(QPointF(0, 0), self.image)
        p.restore()


def bake(bounds: QRectF, scale: float, ratio: float, paint: Callable[[QPainter], None]) -> Sprite:
    """Paint ``paint`` (in head units) into an image covering ``bounds`` with a pixel of
    transparent border all round."""
    left = (math.floor(bounds.left() * scale) - 1) / scale
    top = (math.floor(bounds.top() * scale) - 1) / scale
    width = math.ceil((bounds.right() - left) * scale) + 2
    height = math.ceil((bounds.bottom() - top) * scale) + 2
    image = QImage(
        max(1, round(width * ratio)),
        max(1, round(height * ratio)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(ratio)
    image.fill(0)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.scale(scale, scale)
    p.translate(-left, -top)
    paint(p)
    p.end()
    return Sprite(image, QPointF(left, top), scale)
