"""Eyes and brows, each drawn in its own small frame at its projected place on the head.

The eye opening is the space between an upper and a lower lid curve; blink, squint,
wide and the gaze move those curves, and the iris is clipped to the opening, so a closed
lid really hides the iris. ``Left`` blendshapes are the avatar's left: the eye on the
viewer's right (side = +1).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QLinearGradient, QPainter, QPainterPath, QRadialGradient

from app.gui.face.palette import Palette, alpha, mix, round_pen, soft_spot
from app.gui.face.paths import Pt, clamp01, lerp, smooth
from app.gui.face.pose import Projector
from app.gui.face.sprite import Sprite
from avatar.looks import Look
from avatar.rig import RigState

SIDES = ((1.0, "Left"), (-1.0, "Right"))
EYE_X, EYE_Z, EYE_NORMAL = 0.41, 0.82, 0.42
BROW_Y, BROW_Z = -0.32, 0.93


@dataclass(frozen=True, slots=True)
class EyeShape:
    """One eye in its own frame (origin at the eye's centre, head units)."""

    side: float
    inner: Pt
    outer: Pt
    upper: float  # the upper lid's control height (negative is up)
    lower: float  # the lower lid's control height
    iris: Pt
    blink: float

    @property
    def open(self) -> bool:
        return self.lower - self.upper > 0.012

    def control_points(self) -> tuple[Pt, Pt, Pt, Pt, Pt, Pt]:
        """Upper lid (inner -> outer) then lower lid (outer -> inner) Bézier controls."""
        (xi, yi), (xo, yo) = self.inner, self.outer
        dx = xo - xi
        return (
            (xi + 0.22 * dx, yi + self.upper * 1.3),
            (xi + 0.62 * dx, yo + self.upper * 1.3),
            (xi + 0.72 * dx, yo + self.lower * 1.35),
            (xi + 0.3 * dx, yi + self.lower * 1.3),
            self.inner,
            self.outer,
        )


def eye_shape(look: Look, state: RigState, side: float, tag: str) -> EyeShape:
    size = look.eyes.size
    half, rise, drop = 0.2 * size, 0.1 * size, 0.07 * size
    blink = state[f"eyeBlink{tag}"]
    squint = state[f"eyeSquint{tag}"]
    wide = state[f"eyeWide{tag}"]
    cheek = state[f"cheekSquint{tag}"]
    gx = state.gaze_x + side * (state[f"eyeLookOut{tag}"] - state[f"eyeLookIn{tag}"])
    gy = state.gaze_y + state[f"eyeLookUp{tag}"] - state[f"eyeLookDown{tag}"]
    gx, gy = max(-1.0, min(1.0, gx)), max(-1.0, min(1.0, gy))
    # the upper lid follows the eye down and up a little, as real lids do
    opening = rise * (1 + 0.5 * wide - 0.32 * squint + 0.3 * max(gy, 0) - 0.35 * max(-gy, 0))
    # a closing lid meets a lower lid that rises a little: closed eyes are a gentle arc
    lower = drop * (1 - 0.75 * squint - 0.5 * cheek + 0.25 * wide) * (1 - 0.4 * blink)
    upper = min(lerp(-opening, lower, blink), lower)
    inner = (-side * half, 0.012)
    outer = (side * half, -0.025 - 0.03 * look.eyes.tilt)
    iris = (gx * half * 0.5, -gy * rise * 0.75 + 0.012)
    return EyeShape(side, inner, outer, upper, lower, iris, blink)


def _cubic(p0: Pt, c1: Pt, c2: Pt, p3: Pt, t: float) -> Pt:
    u = 1 - t
    a, b, c, d = u * u * u, 3 * u * u * t, 3 * u * t * t, t * t * t
    return (
        a * p0[0] + b * c1[0] + c * c2[0] + d * p3[0],
        a * p0[1] + b * c1[1] + c * c2[1] + d * p3[1],
    )


def iris_radius(look: Look) -> float:
    return 0.105 * look.eyes.size


def paint_iris(p: QPainter, pal: Palette, radius: float) -> None:
    """Iris, pupil and the window's reflections, centred on the origin (baked once)."""
    g = QRadialGradient(QPointF(0, 0.2 * radius), radius)
    g.setColorAt(0.0, pal.iris_light)
    g.setColorAt(0.55, pal.iris)
    g.setColorAt(0.86, mix(pal.iris, pal.iris_dark, 0.6))
    g.setColorAt(1.0, pal.iris_dark)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(g))
    p.drawEllipse(QRectF(-radius, -radius, 2 * radius, 2 * radius))
    p.setBrush(mix(pal.iris_dark, pal.lash, 0.6))
    p.drawEllipse(QPointF(0, 0), radius * 0.43, radius * 0.43)
    p.setBrush(alpha(pal.sclera.lighter(110), 0.95))
    p.drawEllipse(QPointF(-0.35 * radius, -0.4 * radius), radius * 0.26, radius * 0.24)
    p.setBrush(alpha(pal.sclera.lighter(110), 0.7))
    p.drawEllipse(QPointF(0.38 * radius, 0.36 * radius), radius * 0.11, radius * 0.11)


def paint_eyes(
    p: QPainter, pal: Palette, proj: Projector, look: Look, state: RigState, iris: Sprite
) -> None:
    """``iris`` is ``paint_iris`` baked at the current scale (see ``sprite``)."""
    for side, tag in SIDES:
        shape = eye_shape(look, state, side, tag)
        x, y = proj.point(side * EYE_X * look.eyes.spacing, 0.0, EYE_Z)
        p.save()
        p.translate(x, y)
        p.scale(proj.x_scale(side * EYE_NORMAL), proj.y_scale)
        _paint_eye(p, pal, look, shape, iris)
        p.restore()


def _paint_eye(p: QPainter, pal: Palette, look: Look, eye: EyeShape, iris: Sprite) -> None:
    c1, c2, c3, c4, inner, outer = eye.control_points()
    upper = QPainterPath(QPointF(*inner))
    upper.cubicTo(QPointF(*c1), QPointF(*c2), QPointF(*outer))
    opening = QPainterPath(upper)
    opening.cubicTo(QPointF(*c3), QPointF(*c4), QPointF(*inner))
    shadow = pal.skin_shadow
    p.setPen(Qt.PenStyle.NoPen)
    # the socket: a soft shade under the brow and at the inner corner
    soft_spot(p, pal, (0.0, -0.1), 0.3, alpha(shadow, 0.22), ry=0.5)
    soft_spot(p, pal, (inner[0] * 1.1, 0.0), 0.1, alpha(shadow, 0.28))
    if eye.open:
        white = QLinearGradient(0, -0.14, 0, 0.07)
        white.setColorAt(0.0, mix(pal.sclera, shadow, 0.45))
        white.setColorAt(0.55, pal.sclera)
        white.setColorAt(1.0, mix(pal.sclera, shadow, 0.15))
        p.fillPath(opening, white)
        p.save()
        p.setClipPath(opening, Qt.ClipOperation.IntersectClip)
        iris.draw(p, *eye.iris, clipped=True)
        # the lid and lashes shade the top of the eyeball
        p.strokePath(upper, round_pen(alpha(shadow, 0.35), 0.07))
        p.restore()
        lower = QPainterPath(QPointF(*outer))
        lower.cubicTo(QPointF(*c3), QPointF(*c4), QPointF(*inner))
        p.strokePath(lower, round_pen(alpha(mix(shadow, pal.lash, 0.35), 0.45), 0.014))
    _paint_lid(p, pal, look, eye, upper, (inner, c1, c2, outer))


def _paint_lid(
    p: QPainter,
    pal: Palette,
    look: Look,
    eye: EyeShape,
    upper: QPainterPath,
    curve: tuple[Pt, Pt, Pt, Pt],
) -> None:
    side, lashes = eye.side, look.eyes.lashes
    inner, outer = eye.inner, eye.outer
    # the crease above the lid: it rises as the eye widens and fades as the lid closes
    crease_h = min(eye.upper, 0.0) * 1.3 - 0.07 * look.eyes.size
    crease = QPainterPath(QPointF(inner[0] * 0.8, inner[1] - 0.04))
    crease.cubicTo(
        QPointF(inner[0] * 0.4, crease_h),
        QPointF(outer[0] * 0.5, crease_h),
        QPointF(outer[0] * 1.02, outer[1] - 0.05),
    )
    p.strokePath(crease, round_pen(alpha(pal.skin_shadow, 0.55 * (1 - 0.6 * eye.blink)), 0.014))
    line = round_pen(pal.lash, (0.016 + 0.012 * lashes) * look.eyes.size)
    p.strokePath(upper, line)
    if lashes < 0.3:  # fine lashes: the lid line alone
        return
    # the lash mass: a band thickening along the outer part of the lid into a small wing,
    # above the line while open, hanging below it once the lid has closed
    down = clamp01((eye.blink - 0.35) / 0.5)
    lift = lerp(-1.0, 0.7, down)
    thick = 0.034 * lashes * look.eyes.size
    ts = [0.45 + 0.55 * i / 6 for i in range(7)]
    edge = [_cubic(*curve, t) for t in ts]
    wing = (outer[0] + side * thick * 1.5 * (1 - 0.5 * down), outer[1] + lift * thick * 1.1)
    mass = QPainterPath(QPointF(*edge[0]))
    for x, y in edge[1:]:
        mass.lineTo(x, y)
    mass.lineTo(*wing)
    for t, (x, y) in reversed(list(zip(ts, edge, strict=True))):
        grow = ((t - 0.45) / 0.55) ** 1.5
        mass.lineTo(x + side * thick * 0.3 * grow, y + lift * thick * grow)
    mass.closeSubpath()
    p.fillPath(mass, pal.lash)


def paint_brows(p: QPainter, pal: Palette, proj: Projector, look: Look, state: RigState) -> None:
    b = look.brows
    inner_up = state["browInnerUp"]
    for side, tag in SIDES:
        down = state[f"browDown{tag}"]
        outer_up = state[f"browOuterUp{tag}"]
        squint = state[f"eyeSquint{tag}"]
        lower = 0.085 * down + 0.02 * squint
        # inner and outer raised together lift the whole arch (surprise); the inner part
        # alone tilts the brow into worry, the outer alone lifts the tail
        both = min(inner_up, outer_up)
        worry, tail = inner_up - both, outer_up - both
        in_y = -0.005 - 0.13 * both - 0.2 * worry + lower
        mid_y = -0.05 - 0.045 * b.arch - 0.15 * both - 0.035 * worry - 0.07 * tail + 0.8 * lower
        out_y = 0.035 - 0.1 * both + 0.035 * worry - 0.1 * tail + 0.3 * lower
        in_x = -side * (0.19 - 0.035 * down)
        out_x = side * 0.24 * b.length
        mid_x = side * 0.07
        t = 0.05 * b.thickness
        shape = smooth(
            [
                (in_x, in_y - t * 0.55),
                (mid_x, mid_y - t * 0.5),
                (out_x, out_y),
                (mid_x + side * 0.03, mid_y + t * 0.42),
                (in_x + side * 0.005, in_y + t * 0.5),
            ],
            closed=True,
            tension=0.85,
        )
        fill = QLinearGradient(in_x, 0, out_x, 0)
        fill.setColorAt(0.0, alpha(pal.brow, 0.7))
        fill.setColorAt(0.35, pal.brow)
        fill.setColorAt(1.0, alpha(pal.brow, 0.85))
        x, y = proj.point(side * 0.43 * look.eyes.spacing, BROW_Y, BROW_Z)
        p.save()
        p.translate(x, y)
        p.scale(proj.x_scale(side * 0.45), proj.y_scale)
        p.fillPath(shape, fill)
        if down > 0.2:
            # a worried or thinking frown folds the skin between the brows
            fold = QPainterPath(QPointF(in_x - side * 0.05, in_y + 0.02))
            fold.quadTo(QPointF(in_x - side * 0.07, in_y + 0.1), QPointF(in_x - side * 0.06, 0.18))
            p.strokePath(fold, round_pen(alpha(pal.skin_shadow, 0.5 * (down - 0.2)), 0.014))
        p.restore()
