"""The look's colours as Qt colours, plus the few derived tints the painter needs.

Built once per look (``Palette.of``), so painting a frame never parses a colour string.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QRadialGradient

from avatar.looks import Look


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` of the way to ``b`` (alpha included)."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
        a.alphaF() + (b.alphaF() - a.alphaF()) * t,
    )


def alpha(color: QColor, a: float) -> QColor:
    out = QColor(color)
    out.setAlphaF(max(0.0, min(1.0, a)))
    return out


@dataclass(frozen=True)
class Palette:
    skin: QColor
    skin_shadow: QColor
    skin_light: QColor
    blush: QColor
    hair: QColor
    hair_light: QColor
    hair_dark: QColor
    iris: QColor
    iris_light: QColor
    iris_dark: QColor
    sclera: QColor
    lash: QColor
    brow: QColor
    lip: QColor
    lip_dark: QColor
    lip_light: QColor
    mouth: QColor
    teeth: QColor
    tongue: QColor
    cloth: QColor
    cloth_dark: QColor
    cloth_light: QColor
    accent: QColor
    bg_top: QColor
    bg_bottom: QColor
    glow: QColor
    # falloff images per colour for ``soft_spot``: a look uses a handful, made on first use
    _falloffs: dict[int, QImage] = field(default_factory=dict, compare=False, repr=False)

    def falloff(self, color: QColor) -> QImage:
        rgb = color.rgb()
        image = self._falloffs.get(rgb)
        if image is None:
            image = self._falloffs[rgb] = _falloff(rgb)
        return image

    @classmethod
    def of(cls, look: Look) -> Palette:
        skin = QColor(look.skin.base)
        shadow = QColor(look.skin.shadow)
        hair = QColor(look.hair.color)
        iris = QColor(look.eyes.iris)
        lip = QColor(look.lips.color)
        cloth = QColor(look.clothing.color)
        ink = QColor("#1A0F0C")
        return cls(
            skin=skin,
            skin_shadow=shadow,
            skin_light=QColor(look.skin.highlight),
            blush=QColor(look.skin.blush),
            hair=hair,
            hair_light=QColor(look.hair.highlight),
            hair_dark=mix(hair, ink, 0.45),
            iris=iris,
            iris_light=mix(iris, QColor("#E8D3A0"), 0.35),
            iris_dark=mix(iris, ink, 0.6),
            sclera=QColor(look.eyes.sclera),
            lash=QColor(look.eyes.lash),
            brow=QColor(look.brows.color),
            lip=lip,
            lip_dark=mix(lip, mix(shadow, ink, 0.3), 0.38),
            lip_light=mix(lip, QColor("#FFFFFF"), 0.3),
            # a mouth's inside is the lip colour in deep shade, never flat black
            mouth=mix(mix(lip, ink, 0.72), QColor("#3A0C10"), 0.3),
            teeth=QColor("#F1ECE4"),
            tongue=mix(lip, QColor("#E07B7B"), 0.5),
            cloth=cloth,
            cloth_dark=mix(cloth, ink, 0.35),
            cloth_light=mix(cloth, QColor("#FFFFFF"), 0.18),
            accent=QColor(look.clothing.accent),
            bg_top=QColor(look.background.top),
            bg_bottom=QColor(look.background.bottom),
            glow=alpha(QColor(look.background.glow), look.background.glow_strength),
        )


def round_pen(color: QColor, width: float) -> QPen:
    """A pen with round ends and joins: strokes that read as drawn, not cut."""
    pen = QPen(color, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def soft_spot(
    p: QPainter,
    pal: Palette,
    centre: tuple[float, float],
    radius: float,
    color: QColor,
    ry: float = 1.0,
) -> None:
    """A soft round tint fading to nothing: shading without hard edges.

    Drawn as a scaled image of a radial falloff rather than a gradient-filled ellipse:
    the same picture at a tenth of the cost, which matters at a dozen spots a frame.
    """
    p.save()
    p.setOpacity(p.opacity() * color.alphaF())
    # the falloff is transparent at its edge: no antialiasing needed there, at half the cost
    p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    target = QRectF(centre[0] - radius, centre[1] - radius * ry, 2 * radius, 2 * radius * ry)
    p.drawImage(target, pal.falloff(color))
    p.restore()


def _falloff(rgb: int) -> QImage:
    """A radial falloff from ``rgb`` (opaque) in the centre to transparent at the edge."""
    size = 96
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    color = QColor.fromRgb(rgb)
    g = QRadialGradient(QPointF(size / 2, size / 2), size / 2)
    g.setColorAt(0.0, color)
    g.setColorAt(1.0, alpha(color, 0.0))
    p = QPainter(image)
    p.fillRect(QRectF(0, 0, size, size), g)
    p.end()
    return image
