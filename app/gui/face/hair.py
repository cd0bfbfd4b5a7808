"""Hair as two static layers per look: the mass behind the head and the front over it.

Styles are a few designed shapes bent by the look's numbers (volume, length, parting,
fringe); the paths are built once per look in head units. Texture is a sheen band and a
few strands that follow the hair's flow. Both layers are baked into sprites per size, so
a frame only blits them (the hair is the largest area in the picture).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QPointF
from PySide6.QtGui import (
    QBrush,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QRadialGradient,
    Qt,
    QTransform,
)

from app.gui.face.palette import Palette, alpha, mix, round_pen
from app.gui.face.paths import Pt, smooth
from app.gui.face.sprite import Sprite, bake
from avatar.looks import Hair, Look

# how far each layer slides when the head turns (head units per unit of sin(yaw)):
# the back of the head moves against the face, the front with it
BACK_DEPTH, FRONT_DEPTH = -0.3, 0.5


@dataclass(frozen=True)
class HairShapes:
    back: QPainterPath
    front: QPainterPath
    shadow: QPainterPath  # the front hair's shadow on the forehead and cheeks
    sheen: QPainterPath  # the centre line of the highlight band
    strands_dark: QPainterPath
    strands_light: QPainterPath
    back_brush: QBrush
    front_brush: QBrush


def build_hair(look: Look, pal: Palette, face: QPainterPath) -> HairShapes:
    """``face`` is the neutral face outline: the hair's shadow falls only on skin."""
    h = look.hair
    back = _back(h, look.face.width)
    front, flow, hairline = _front(h, look.face.width)
    front = _boolean(front, _locks(hairline, h, 0.45 * h.part), "united")
    shadow = _boolean(
        _boolean(front.translated(0.02, 0.07), front, "subtracted"), face, "intersected"
    )
    sheen_line = smooth([(-1.0 * h.volume, -0.75), (-0.55, -1.45), (0.3, -1.62), (0.95, -1.1)])
    dark, light = QPainterPath(), QPainterPath()
    for i, line in enumerate(flow):
        (dark if i % 2 == 0 else light).addPath(_stroke(smooth(line), 0.022 + 0.02 * (i % 2)))
    return HairShapes(
        back=back,
        front=front,
        shadow=shadow,
        sheen=sheen_line,
        strands_dark=_boolean(dark, front, "intersected"),
        strands_light=_boolean(light, front, "intersected"),
        back_brush=_brush(pal, dark_bias=0.35),
        front_brush=_brush(pal, dark_bias=0.0),
    )


def bake_layers(shapes: HairShapes, pal: Palette, scale: float, ratio: float) -> HairSprites:
    """Both hair layers as images at ``scale`` pixels per head unit."""
    return HairSprites(
        back=bake(shapes.back.boundingRect(), scale, ratio, lambda p: _paint_back(p, shapes)),
        front=bake(
            shapes.front.boundingRect().united(shapes.shadow.boundingRect()),
            scale,
            ratio,
            lambda p: _paint_front(p, shapes, pal),
        ),
    )


@dataclass(frozen=True)
class HairSprites:
    back: Sprite
    front: Sprite

    def paint_back(self, p: QPainter, sin_yaw: float) -> None:
        self.back.draw(p, BACK_DEPTH * sin_yaw)

    def paint_front(self, p: QPainter, sin_yaw: float) -> None:
        self.front.draw(p, FRONT_DEPTH * sin_yaw)


def _paint_back(p: QPainter, shapes: HairShapes) -> None:
    p.fillPath(shapes.back, shapes.back_brush)


def _paint_front(p: QPainter, shapes: HairShapes, pal: Palette) -> None:
    p.fillPath(shapes.shadow, alpha(pal.skin_shadow, 0.55))
    p.fillPath(shapes.front, shapes.front_brush)
    p.fillPath(shapes.strands_dark, alpha(pal.hair_dark, 0.3))
    p.fillPath(shapes.strands_light, alpha(pal.hair_light, 0.14))
    # many nested strokes at low alpha make one soft-edged highlight (baked once)
    p.save()
    p.setClipPath(shapes.front)
    p.setBrush(Qt.BrushStyle.NoBrush)
    for i in range(12):
        p.setPen(round_pen(alpha(pal.hair_light, 0.028), 0.4 * (1 - i / 12)))
        p.drawPath(shapes.sheen)
    p.restore()


def _brush(pal: Palette, dark_bias: float) -> QBrush:
    g = QRadialGradient(QPointF(-0.35, -1.3), 3.2, QPointF(-0.4, -1.5))
    g.setColorAt(0.0, mix(pal.hair_light, pal.hair_dark, dark_bias))
    g.setColorAt(0.35, mix(pal.hair, pal.hair_dark, dark_bias))
    g.setColorAt(1.0, pal.hair_dark)
    return QBrush(g)


def _boolean(a: QPainterPath, b: QPainterPath, op: str) -> QPainterPath:
    """Qt flattens curves to lines before path arithmetic, with a tolerance fit for
    pixels; in head units (about 1) that would turn the hair into polygons, so the
    arithmetic runs 200x larger and the result is scaled back."""
    up, down = QTransform.fromScale(200, 200), QTransform.fromScale(1 / 200, 1 / 200)
    result: QPainterPath = getattr(up.map(a), op)(up.map(b))
    return down.map(result)


def _stroke(path: QPainterPath, width: float) -> QPainterPath:
    stroker = QPainterPathStroker()
    stroker.setWidth(width)
    stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
    return stroker.createStroke(path)


def _back(h: Hair, w: float) -> QPainterPath:
    v = h.volume
    if h.style == "short":
        return smooth([(0, -1.78 * v), (1.06 * v * w, -0.8), (0.97 * w, -0.1), (0, 0.2),
                       (-0.97 * w, -0.1), (-1.06 * v * w, -0.8)], closed=True)  # fmt: skip
    if h.style == "bun":
        path = smooth([(0, -1.76 * v), (1.08 * v * w, -0.8), (1.0 * w, 0.0), (0, 0.3),
                       (-1.0 * w, 0.0), (-1.08 * v * w, -0.8)], closed=True)  # fmt: skip
        path.addEllipse(QPointF(0.0, -1.85 * v), 0.52, 0.46)
        return path.simplified()
    bottom = 0.75 + 0.6 * h.length if h.style == "bob" else 2.3 + 1.6 * h.length
    flare = 1.25 if h.style == "bob" else 1.36
    right: list[Pt] = [
        (0.0, -1.86 * v),
        (0.62 * v * w, -1.76 * v),
        (1.08 * v * w, -1.3 * v),
        (1.24 * v * w, -0.45),
        (flare * v * w, 0.35 * bottom),
        (flare * 0.93 * v * w, bottom - 0.1),
        (0.88 * w, bottom + 0.04),
        (0.0, bottom - 0.05),
    ]
    return smooth([*right, *((-x, y) for x, y in reversed(right[1:-1]))], closed=True)


def _front(h: Hair, w: float) -> tuple[QPainterPath, list[list[Pt]], list[Pt]]:
    """The front hair outline, a few flow lines (strands) across it, and the hairline
    points along the forehead where locks break up the edge."""
    v, part, fringe = h.volume, h.part, h.fringe
    px = 0.45 * part
    # the side the hair sweeps towards (away from the parting) gets the long fringe
    s = 1.0 if part <= 0 else -1.0
    top = -1.84 * v if h.style in ("bob", "long") else -1.8 * v
    if h.style in ("short", "bun"):
        crown: list[Pt] = [
            (-s * 0.99 * w, -0.1), (-s * 1.07 * v * w, -0.85), (-s * 0.75 * v, -1.6 * v),
            (px, top), (s * 0.78 * v, -1.58 * v), (s * 1.07 * v * w, -0.85), (s * 0.99 * w, -0.1),
        ]  # fmt: skip
        line: list[Pt] = [
            (s * 0.95 * w, -0.12), (s * 0.9 * w, -0.62), (s * 0.62, -0.95 + 0.2 * fringe),
            (s * 0.15, -1.1 + 0.35 * fringe), (px - s * 0.1, -1.18 + 0.15 * fringe),
            (-s * 0.55, -1.08), (-s * 0.88 * w, -0.72), (-s * 0.95 * w, -0.12),
        ]  # fmt: skip
        flow = [
            [(px, top + 0.1), (s * 0.5, -1.35), (s * 0.95, -0.8)],
            [(px + s * 0.1, top + 0.15), (s * 0.3, -1.25 + 0.3 * fringe), (s * 0.7, -0.95)],
            [(px - s * 0.1, top + 0.1), (-s * 0.55, -1.35), (-s * 0.98, -0.7)],
            [(px + s * 0.25, top + 0.12), (s * 0.75, -1.3), (s * 1.05, -0.5)],
        ]
        return smooth([*crown, *line], closed=True, tension=0.95), flow, line[1:6]
    if h.style == "long":
        return _long_front(h, w, px, s, top)
    length = 0.72 + 0.6 * h.length
    flare = 1.24 * v * w
    crown = [
        (-s * 0.88 * w, length + 0.06), (-s * flare * 0.93, length - 0.08),
        (-s * flare, 0.3 * length), (-s * 1.2 * v * w, -0.5), (-s * 1.05 * v, -1.3 * v),
        (-s * 0.6 * v, -1.75 * v), (px, top), (s * 0.62 * v, -1.74 * v), (s * 1.06 * v, -1.3 * v),
        (s * 1.22 * v * w, -0.5),
        (s * flare, 0.3 * length), (s * flare * 0.93, length - 0.08), (s * 0.88 * w, length + 0.06),
    ]  # fmt: skip
    line = [
        (s * 0.82 * w, length - 0.12), (s * 0.92 * w, 0.25), (s * 0.88 * w, -0.38),
        *_fringe(px, s, fringe),
        (-s * 0.45, -1.0), (-s * 0.85 * w, -0.5),
        (-s * 0.9 * w, 0.25), (-s * 0.82 * w, length - 0.12),
    ]  # fmt: skip
    flow = [
        [(px, top + 0.08), (s * 0.35, -1.2), (s * 0.85, -0.6), (s * 1.05, 0.4)],
        [(px + s * 0.12, top + 0.12), (s * 0.25, -1.0), (s * 0.62, -0.6)],
        [(px - s * 0.08, top + 0.08), (-s * 0.6, -1.3), (-s * 1.08, -0.3), (-s * 1.1, 0.6)],
        [(px + s * 0.3, top + 0.15), (s * 0.75, -1.2), (s * 1.15, -0.2), (s * 1.12, 0.8)],
        [(-s * 1.0, -0.2), (-s * 1.12, 0.4), (-s * 1.08, length - 0.2)],
    ]
    return smooth([*crown, *line], closed=True, tension=0.95), flow, line[2:7]


def _locks(hairline: list[Pt], h: Hair, part: float) -> QPainterPath:
    """Slender locks crossing the hairline in the hair's flow: a soft, broken edge reads
    as hair, a clean curve reads as a helmet."""
    edge = smooth(hairline)
    locks = QPainterPath()
    long_hair = h.style in ("bob", "long")
    count = 11 if long_hair else 9
    for i in range(count):
        t = (i + 0.5) / count
        x, y = edge.pointAtPercent(t).toTuple()
        ax, ay = edge.pointAtPercent(max(0.0, t - 0.02)).toTuple()
        bx, by = edge.pointAtPercent(min(1.0, t + 0.02)).toTuple()
        tx, ty = bx - ax, by - ay
        norm = math.hypot(tx, ty) or 1.0
        tx, ty = tx / norm, ty / norm
        if tx * (x - part) < 0:  # hair flows away from the parting
            tx, ty = -tx, -ty
        nx, ny = (-ty, tx) if -ty * 0 + tx * 1 > 0 else (ty, -tx)  # the normal down the face
        if ny < 0:
            nx, ny = -nx, -ny
        uneven = 0.7 + 0.6 * ((i * 7) % 5) / 4  # hair is never regular
        size = (0.14 + 0.1 * h.fringe if long_hair else 0.09) * uneven
        dx, dy = tx * 0.8 + nx * 0.45, ty * 0.8 + ny * 0.45
        start = (x - dx * size * 0.6, y - dy * size * 0.6)
        tip = (x + dx * size * 0.5, y + dy * size * 0.5)
        width = 0.028 if long_hair else 0.022
        lock = QPainterPath(QPointF(start[0] - nx * width, start[1] - ny * width))
        lock.quadTo(QPointF(x + nx * width * 0.3, y + ny * width * 0.3), QPointF(*tip))
        lock.quadTo(
            QPointF(x - nx * width, y - ny * width),
            QPointF(start[0] + nx * width, start[1] + ny * width),
        )
        lock.closeSubpath()
        locks.addPath(lock)
    return locks


def _fringe(px: float, s: float, fringe: float) -> list[Pt]:
    """The hairline from the sweep side's temple over the forehead to the parting."""
    if fringe > 0.3:  # a fuller fringe: the sweep reaches down towards the brow
        return [
            (s * 0.6, -0.55 - 0.1 * (fringe - 0.3)),
            (s * 0.12, -0.72 - 0.1 * (1 - fringe)),
            (px - s * 0.08, -1.2 + 0.1 * fringe),
        ]
    return [
        (s * 0.6, -0.62 + 0.1 * fringe),
        (s * 0.15, -0.88 + 0.05 * fringe),
        (px - s * 0.08, -1.2 + 0.1 * fringe),
    ]


def _long_front(
    h: Hair, w: float, px: float, s: float, top: float
) -> tuple[QPainterPath, list[list[Pt]], list[Pt]]:
    """Long hair: face-framing lengths that fall over the shoulders onto the chest."""
    v, tip = h.volume, 2.1 + 1.1 * h.length
    crown = [
        (-s * 1.18, tip), (-s * 1.45 * v, tip - 0.55), (-s * 1.4 * v, 1.6),
        (-s * 1.26 * v, 0.6), (-s * 1.2 * v * w, -0.5), (-s * 1.05 * v, -1.3 * v),
        (-s * 0.6 * v, -1.75 * v), (px, top), (s * 0.62 * v, -1.74 * v), (s * 1.06 * v, -1.3 * v),
        (s * 1.22 * v * w, -0.5), (s * 1.3 * v, 0.6), (s * 1.45 * v, 1.6),
        (s * 1.48 * v, tip - 0.5), (s * 1.22, tip + 0.05),
    ]  # fmt: skip
    line = [
        (s * 1.0, tip - 0.35), (s * 0.84, 1.95), (s * 0.72, 1.35), (s * 0.9 * w, 0.6),
        (s * 0.92 * w, 0.0), (s * 0.87 * w, -0.4), *_fringe(px, s, h.fringe),
        (-s * 0.45, -1.0), (-s * 0.85 * w, -0.5), (-s * 0.9 * w, 0.2), (-s * 0.88 * w, 0.7),
        (-s * 0.7, 1.35), (-s * 0.84, 1.95), (-s * 0.98, tip - 0.35),
    ]  # fmt: skip
    flow = [
        [(px, top + 0.08), (s * 0.45, -1.25), (s * 1.05, -0.4), (s * 1.15, 0.8), (s * 1.3, 2.3)],
        [(px + s * 0.12, top + 0.12), (s * 0.3, -1.0), (s * 0.65, -0.62)],
        [(px - s * 0.08, top + 0.08), (-s * 0.6, -1.3), (-s * 1.08, -0.3), (-s * 1.2, 1.2)],
        [(px + s * 0.3, top + 0.15), (s * 0.8, -1.2), (s * 1.18, 0.0), (s * 1.32, 1.5)],
        [(-s * 1.02, 0.2), (-s * 1.1, 1.2), (-s * 1.25, tip - 0.3)],
        [(s * 1.0, 0.9), (s * 1.1, 1.8), (s * 1.2, tip - 0.2)],
    ]
    return smooth([*crown, *line], closed=True, tension=0.95), flow, line[5:10]
