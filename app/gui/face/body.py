"""The static part of the portrait: background, neck, shoulders and clothes.

None of it moves with the rig (the head turns about the top of the neck and the jaw and
hair cover the join), so ``FacePainter`` paints it once per size and look into two
images: the wall behind everything, and the body, which goes in front of the hair's
back layer (long hair falls behind the shoulders).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QRadialGradient,
)

from app.gui.face.layout import Layout
from app.gui.face.palette import Palette, alpha, mix
from app.gui.face.paths import mirrored, smooth
from avatar.looks import Look

_TORSO = [
    (0.0, 2.42), (0.32, 2.25), (0.6, 1.98), (1.5, 2.3), (2.4, 2.6), (2.95, 3.2), (3.2, 4.6),
    (3.35, 8.0), (0.0, 8.0),
]  # fmt: skip
_NECK = [(0.0, 0.4), (0.5, 0.5), (0.49, 1.5), (0.56, 2.0), (0.8, 2.3), (0.0, 2.6)]


# the body image only needs the rows from the top of the neck down (head units)
BODY_TOP = 0.3
NECK_LIFT = -0.14


def paint_body(p: QPainter, layout: Layout, look: Look, pal: Palette) -> None:
    p.save()
    p.setTransform(layout.transform(), True)
    # clothes are designed for a neck base at y=2.0; the look's neck length moves them
    p.translate(0.0, NECK_LIFT)
    p.setPen(Qt.PenStyle.NoPen)
    style = look.clothing.style
    if style == "polo":
        _collar_back(p, pal)
    _neck(p, pal, 1.0 + 0.22 * look.face.jaw)
    torso = smooth(mirrored(_TORSO), closed=True, tension=0.9)
    _fill_cloth(p, torso, pal)
    if style == "polo":
        _polo(p, pal)
    elif style == "blazer":
        _blazer(p, pal)
    else:
        _sweater(p, pal)
    if look.clothing.badge:
        _badge(p, pal)
    p.restore()


def paint_background(p: QPainter, layout: Layout, pal: Palette) -> None:
    rect = QRectF(0, 0, layout.width, layout.height)
    base = QLinearGradient(0, 0, 0, layout.height)
    base.setColorAt(0.0, pal.bg_top)
    base.setColorAt(1.0, pal.bg_bottom)
    p.fillRect(rect, base)
    # a soft light behind the head separates the figure from the wall
    s = layout.scale
    centre = QPointF(layout.origin_x, layout.origin_y - 0.2 * s)
    glow = QRadialGradient(centre, 3.6 * s)
    glow.setColorAt(0.0, pal.glow)
    glow.setColorAt(1.0, alpha(pal.glow, 0.0))
    p.fillRect(rect, glow)
    vignette = QRadialGradient(centre, max(layout.width, layout.height) * 0.85)
    vignette.setColorAt(0.55, QColor(0, 0, 0, 0))
    vignette.setColorAt(1.0, QColor(20, 30, 40, 40))
    p.fillRect(rect, vignette)


def _neck(p: QPainter, pal: Palette, width: float) -> None:
    neck = smooth(mirrored([(x * width, y) for x, y in _NECK]), closed=True, tension=0.8)
    _paint_skin(p, pal, neck)


def _paint_skin(p: QPainter, pal: Palette, shape: QPainterPath) -> None:
    """Neck skin in ``shape``: the neck itself or an open collar, shaded alike so they
    meet without a seam."""
    p.fillPath(shape, _neck_shade(pal))
    p.save()
    p.setClipPath(shape)
    # the jaw's cast shadow, and the neck's roundness at its sides
    under_jaw = QRadialGradient(QPointF(0, 1.3), 0.8)
    under_jaw.setColorAt(0.0, alpha(mix(pal.skin_shadow, QColor("#000000"), 0.25), 0.6))
    under_jaw.setColorAt(1.0, alpha(pal.skin_shadow, 0.0))
    p.fillRect(QRectF(-1, 0.4, 2, 1.8), under_jaw)
    sides = QLinearGradient(-0.6, 0, 0.6, 0)
    sides.setColorAt(0.0, alpha(pal.skin_shadow, 0.55))
    sides.setColorAt(0.3, alpha(pal.skin_shadow, 0.0))
    sides.setColorAt(0.7, alpha(pal.skin_shadow, 0.0))
    sides.setColorAt(1.0, alpha(pal.skin_shadow, 0.7))
    p.fillRect(QRectF(-0.7, 0.4, 1.4, 2.8), sides)
    p.restore()


def _neck_shade(pal: Palette) -> QLinearGradient:
    """Skin darkening up towards the jaw; shared by the neck and any open collar so the
    two meet without a seam."""
    shade = QLinearGradient(0, 1.0, 0, 2.3)
    shade.setColorAt(0.0, mix(pal.skin_shadow, pal.skin, 0.2))
    shade.setColorAt(0.45, mix(pal.skin_shadow, pal.skin, 0.55))
    shade.setColorAt(1.0, pal.skin)
    return shade


def _fill_cloth(p: QPainter, torso: QPainterPath, pal: Palette) -> None:
    fill = QLinearGradient(0, 2.0, 0, 5.5)
    fill.setColorAt(0.0, pal.cloth_light)
    fill.setColorAt(0.35, pal.cloth)
    fill.setColorAt(1.0, pal.cloth_dark)
    p.fillPath(torso, fill)
    p.save()
    p.setClipPath(torso)
    # the shoulders round away from the light; the head shades the chest below the neck
    for x, strength in ((-3.0, 0.35), (3.0, 0.5)):
        side = QRadialGradient(QPointF(x, 4.2), 1.6)
        side.setColorAt(0.0, alpha(pal.cloth_dark, strength))
        side.setColorAt(1.0, alpha(pal.cloth_dark, 0.0))
        p.fillRect(QRectF(x - 1.6, 2.0, 3.2, 4.5), side)
    chest = QRadialGradient(QPointF(0, 2.2), 1.2)
    chest.setColorAt(0.0, alpha(pal.cloth_dark, 0.45))
    chest.setColorAt(1.0, alpha(pal.cloth_dark, 0.0))
    p.fillRect(QRectF(-1.3, 1.5, 2.6, 2.0), chest)
    p.restore()


def _collar_back(p: QPainter, pal: Palette) -> None:
    # the collar stands up behind the neck, its inside in shade
    band = smooth([(-0.74, 2.2), (-0.6, 1.8), (0.0, 1.72), (0.6, 1.8), (0.74, 2.2)])
    band.closeSubpath()
    p.fillPath(band, mix(pal.accent, pal.cloth_dark, 0.6))


def _polo(p: QPainter, pal: Palette) -> None:
    opening = smooth([(-0.56, 2.0), (-0.2, 2.35), (0.0, 2.78), (0.2, 2.35), (0.56, 2.0)])
    opening.closeSubpath()
    _paint_skin(p, pal, opening)
    placket = QPainterPath()
    placket.addRoundedRect(QRectF(-0.1, 2.6, 0.2, 1.05), 0.04, 0.04)
    p.fillPath(placket, pal.cloth)
    p.strokePath(placket, QPen(alpha(pal.cloth_dark, 0.7), 0.018))
    for y in (2.95, 3.35):
        p.setBrush(pal.accent)
        p.drawEllipse(QPointF(0, y), 0.04, 0.04)
    for side in (-1.0, 1.0):
        wing = smooth(
            [(side * 0.52, 1.9), (side * 0.95, 2.28), (side * 0.42, 2.92), (side * 0.07, 2.74)],
            closed=True,
            tension=0.55,
        )
        grad = QLinearGradient(0, 1.9, 0, 2.9)
        grad.setColorAt(0.0, mix(pal.accent, pal.cloth_dark, 0.12))
        grad.setColorAt(1.0, pal.accent)
        p.fillPath(wing.translated(side * 0.03, 0.05), alpha(pal.cloth_dark, 0.35))
        p.fillPath(wing, grad)
        p.strokePath(wing, QPen(alpha(mix(pal.accent, pal.cloth_dark, 0.5), 0.8), 0.014))


def _blazer(p: QPainter, pal: Palette) -> None:
    shirt = QPainterPath()
    shirt.moveTo(-0.66, 1.98)
    shirt.quadTo(0.0, 2.7, 0.66, 1.98)
    shirt.lineTo(0.06, 4.3)
    shirt.lineTo(-0.06, 4.3)
    shirt.closeSubpath()
    grad = QLinearGradient(0, 2.0, 0, 4.2)
    grad.setColorAt(0.0, mix(pal.accent, QColor("#8A96A8"), 0.25))
    grad.setColorAt(0.3, pal.accent)
    grad.setColorAt(1.0, mix(pal.accent, QColor("#8A96A8"), 0.3))
    p.fillPath(shirt, grad)
    edge = QPen(alpha(QColor("#6B7689"), 0.6), 0.014)
    for side in (-1.0, 1.0):
        collar = smooth(
            [(side * 0.5, 1.85), (side * 0.74, 2.3), (side * 0.36, 2.85), (side * 0.03, 2.62)],
            closed=True,
            tension=0.5,
        )
        p.fillPath(collar.translated(side * 0.02, 0.05), QColor(60, 70, 90, 70))
        p.fillPath(collar, pal.accent)
        p.strokePath(collar, edge)
        lapel = QPainterPath()
        lapel.moveTo(side * 0.6, 2.02)
        lapel.cubicTo(side * 0.85, 2.35, side * 0.95, 2.5, side * 1.08, 2.62)
        lapel.lineTo(side * 0.86, 2.86)
        lapel.lineTo(side * 0.98, 3.0)
        lapel.cubicTo(side * 0.7, 3.4, side * 0.3, 3.95, side * 0.1, 4.35)
        lapel.cubicTo(side * 0.3, 3.6, side * 0.45, 2.9, side * 0.6, 2.02)
        lapel.closeSubpath()
        p.fillPath(lapel.translated(side * 0.03, 0.04), alpha(pal.cloth_dark, 0.6))
        lapel_fill = QLinearGradient(side * 0.2, 2.0, side * 1.0, 3.4)
        lapel_fill.setColorAt(0.0, pal.cloth_light)
        lapel_fill.setColorAt(1.0, pal.cloth)
        p.fillPath(lapel, lapel_fill)
        p.strokePath(lapel, QPen(alpha(pal.cloth_dark, 0.9), 0.014))
    p.setBrush(pal.cloth_dark)
    p.drawEllipse(QPointF(0.0, 4.55), 0.06, 0.06)


def _sweater(p: QPainter, pal: Palette) -> None:
    band = QPainterPath()
    band.moveTo(-0.6, 1.98)
    band.cubicTo(-0.45, 2.42, 0.45, 2.42, 0.6, 1.98)
    band.lineTo(0.78, 2.02)
    band.cubicTo(0.6, 2.66, -0.6, 2.66, -0.78, 2.02)
    band.closeSubpath()
    inner = QPainterPath()
    inner.moveTo(-0.6, 1.98)
    inner.cubicTo(-0.45, 2.42, 0.45, 2.42, 0.6, 1.98)
    inner.lineTo(0.0, 1.9)
    inner.closeSubpath()
    _paint_skin(p, pal, inner)
    grad = QLinearGradient(0, 2.0, 0, 2.6)
    grad.setColorAt(0.0, pal.accent)
    grad.setColorAt(1.0, mix(pal.accent, pal.cloth, 0.45))
    p.fillPath(band, grad)
    # knit ribs: fine vertical ticks catch the eye as texture, not as lines
    rib = QPen(alpha(pal.cloth_dark, 0.22), 0.012)
    p.setPen(rib)
    for i in range(-9, 10):
        x = i * 0.075
        top = 2.1 + 0.28 * (1 - (x / 0.62) ** 2) if abs(x) < 0.62 else 2.02
        p.drawLine(QPointF(x, top + 0.02), QPointF(x * 1.06, top + 0.17))
    p.setPen(Qt.PenStyle.NoPen)


def _badge(p: QPainter, pal: Palette) -> None:
    card = QRectF(0.95, 3.15, 0.82, 0.5)
    shadow = QPainterPath()
    shadow.addRoundedRect(card.translated(0.025, 0.035), 0.06, 0.06)
    p.fillPath(shadow, QColor(0, 0, 0, 55))
    body = QPainterPath()
    body.addRoundedRect(card, 0.06, 0.06)
    p.fillPath(body, QColor("#FDFEFE"))
    stripe = QPainterPath()
    stripe.addRoundedRect(QRectF(card.left(), card.top(), card.width(), 0.12), 0.06, 0.06)
    stripe.addRect(QRectF(card.left(), card.top() + 0.06, card.width(), 0.06))
    p.fillPath(stripe, pal.cloth_dark)
    # a small cross for "hospital", then two grey lines that read as a name
    p.setBrush(QBrush(mix(pal.cloth, QColor("#0B7A5A"), 0.4)))
    cx, cy = card.left() + 0.17, card.top() + 0.3
    p.drawRect(QRectF(cx - 0.03, cy - 0.09, 0.06, 0.18))
    p.drawRect(QRectF(cx - 0.09, cy - 0.03, 0.18, 0.06))
    p.setBrush(QColor("#9AA5B1"))
    p.drawRoundedRect(QRectF(cx + 0.14, cy - 0.07, 0.42, 0.05), 0.02, 0.02)
    p.setBrush(QColor("#C5CDD6"))
    p.drawRoundedRect(QRectF(cx + 0.14, cy + 0.03, 0.3, 0.045), 0.02, 0.02)
    p.setBrush(QColor("#B8C0C8"))
    p.drawRoundedRect(QRectF(card.center().x() - 0.08, card.top() - 0.07, 0.16, 0.09), 0.02, 0.02)
