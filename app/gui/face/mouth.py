"""The mouth: lips, teeth, tongue and the folds a smile makes, from the mouth blendshapes.

The mouth is four curves sharing two corners: the upper lip's outer and inner edges and
the lower lip's inner and outer edges. ``mouth_shape`` turns the weights into those few
numbers (a pure function, easy to test); ``paint_mouth`` draws them. Jaw opening parts
the inner edges, funnel and pucker round and narrow them, smile/frown/stretch move each
corner on its own side, roll and press thin the lips, tongueOut brings the tongue
forward between the teeth (the TH viseme).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QLinearGradient, QPainter, QPainterPath, QRadialGradient

from app.gui.face.palette import Palette, alpha, mix, round_pen, soft_spot
from app.gui.face.paths import Pt, clamp01, lerp
from app.gui.face.pose import Projector
from avatar.looks import Look
from avatar.rig import RigState

MOUTH_Y, MOUTH_Z = 0.88, 1.0
HALF_WIDTH = 0.33


@dataclass(frozen=True, slots=True)
class MouthShape:
    """The mouth in its own frame (origin: the closed lips' centre), head units."""

    right: Pt  # the corner on the viewer's left (the avatar's right)
    left: Pt  # the corner on the viewer's right
    top: float  # upper lip's inner edge at the centre
    bottom: float  # lower lip's inner edge at the centre
    raise_right: float  # extra lift of the upper lip on each side (mouthUpperUp)
    raise_left: float
    upper_thick: float
    lower_thick: float
    round: float  # 0 a lens with sharp corners (E), 1 an oval (O)
    smile_right: float
    smile_left: float
    shift: float  # the whole mouth sideways (mouthLeft/Right)
    jaw_shift: float  # the lower lip with the jaw (jawLeft/Right)
    tongue: float

    @property
    def gap(self) -> float:
        return self.bottom - self.top


def mouth_shape(look: Look, state: RigState) -> MouthShape:
    w = state.as_dict()
    open_ = clamp01(w["jawOpen"] - w["mouthClose"])  # ARKit: mouthClose shuts an open jaw
    funnel, pucker = w["mouthFunnel"], w["mouthPucker"]
    puff = w["cheekPuff"]
    rest = look.lips.rest_smile * (1 - max(funnel, pucker))
    corners: dict[str, Pt] = {}
    smiles: dict[str, float] = {}
    for side, tag in ((1.0, "Left"), (-1.0, "Right")):
        smile = clamp01(w[f"mouthSmile{tag}"] + rest * (1 - w[f"mouthFrown{tag}"]))
        frown, stretch = w[f"mouthFrown{tag}"], w[f"mouthStretch{tag}"]
        dimple = w[f"mouthDimple{tag}"]
        width = 1 + 0.26 * stretch + 0.15 * smile + 0.05 * dimple
        width -= 0.42 * pucker + 0.3 * funnel + 0.06 * open_ + 0.08 * puff
        x = side * HALF_WIDTH * look.lips.width * max(0.45, width)
        y = -0.13 * smile + 0.09 * frown + 0.02 * stretch - 0.015 * dimple + 0.1 * open_
        corners[tag], smiles[tag] = (x, y), smile
    up_r, up_l = w["mouthUpperUpRight"], w["mouthUpperUpLeft"]
    down = (w["mouthLowerDownRight"] + w["mouthLowerDownLeft"]) / 2
    press = (w["mouthPressLeft"] + w["mouthPressRight"]) / 2 + 0.5 * puff
    stretch = (w["mouthStretchLeft"] + w["mouthStretchRight"]) / 2
    top = (
        -0.008 - 0.05 * open_ - 0.035 * (up_r + up_l) - 0.025 * funnel - 0.03 * w["mouthShrugUpper"]
    )
    bottom = 0.008 + 0.34 * open_ + 0.08 * down + 0.03 * funnel - 0.03 * w["mouthShrugLower"]
    squeeze = 1 - 0.45 * press - 0.18 * stretch + 0.35 * pucker + 0.2 * funnel
    full = look.lips.fullness
    smile = (smiles["Left"] + smiles["Right"]) / 2
    upper = 0.072 * full * max(0.15, squeeze - 0.6 * w["mouthRollUpper"] - 0.12 * smile)
    lower = 0.1 * full * max(0.15, squeeze - 0.6 * w["mouthRollLower"] + 0.2 * w["mouthShrugLower"])
    return MouthShape(
        right=corners["Right"],
        left=corners["Left"],
        top=top,
        bottom=max(top, bottom),
        raise_right=0.05 * up_r,
        raise_left=0.05 * up_l,
        upper_thick=upper,
        lower_thick=lower,
        round=clamp01(0.2 + 0.9 * funnel + 0.7 * pucker + 0.6 * open_ * (1 - stretch)),
        smile_right=smiles["Right"],
        smile_left=smiles["Left"],
        shift=0.1 * (w["mouthLeft"] - w["mouthRight"]),
        jaw_shift=0.07 * (w["jawLeft"] - w["jawRight"]),
        tongue=w["tongueOut"],
    )


def _edge(path: QPainterPath, corner: Pt, mid: Pt, r: float, lift: float, out: bool) -> None:
    """Half an inner lip edge between a corner and the centre point, either direction."""
    a, cy = corner
    mx, my = mid
    near = (lerp(a * 0.55, a, r), cy + (my - cy) * lerp(0.55, 0.56, r) - lift)
    far = (mx + (a - mx) * lerp(0.45, 0.55, r), my - lift)
    if out:  # corner -> centre
        path.cubicTo(QPointF(*near), QPointF(*far), QPointF(mx, my))
    else:  # centre -> corner
        path.cubicTo(QPointF(*far), QPointF(*near), QPointF(a, cy))


def inner_edges(m: MouthShape) -> tuple[QPainterPath, QPainterPath]:
    """The upper lip's inner edge (right -> left) and the lower's (left -> right).

    They end a little inside the outer corners, so the lips close around an open mouth
    in a rounded commissure instead of meeting in a sharp point.
    """
    inset = 0.93 - 0.05 * clamp01(m.gap / 0.2)
    right = (m.right[0] * inset, m.right[1])
    left = (m.left[0] * inset, m.left[1])
    top = (0.0, m.top)
    bottom = (m.jaw_shift, m.bottom)
    upper = QPainterPath(QPointF(*right))
    _edge(upper, right, top, m.round, m.raise_right, True)
    _edge(upper, left, top, m.round, m.raise_left, False)
    lower = QPainterPath(QPointF(*left))
    _edge(lower, left, bottom, m.round, 0.0, True)
    _edge(lower, right, bottom, m.round, 0.0, False)
    return upper, lower


def paint_mouth(p: QPainter, pal: Palette, proj: Projector, look: Look, state: RigState) -> None:
    m = mouth_shape(look, state)
    x, y = proj.point(m.shift, MOUTH_Y, MOUTH_Z)
    p.save()
    p.translate(x, y)
    p.scale(proj.x_scale(0.0), proj.y_scale)
    p.setPen(Qt.PenStyle.NoPen)
    _paint_folds(p, pal, m)
    upper_in, lower_in = inner_edges(m)
    if m.gap <= 0.02:  # closed lips meet along one line, with no skin between them
        lower_in = upper_in.toReversed()
    # the shadow the lower lip casts on the chin
    soft_spot(
        p,
        pal,
        (m.jaw_shift, m.bottom + m.lower_thick + 0.045),
        0.17,
        alpha(pal.skin_shadow, 0.5),
        0.35,
    )
    soft_spot(p, pal, (0.0, m.top - m.upper_thick - 0.1), 0.055, alpha(pal.skin_shadow, 0.3), 2.0)
    if m.gap > 0.02:
        opening = QPainterPath(upper_in)
        opening.connectPath(lower_in)
        opening.closeSubpath()
        _paint_inside(p, pal, m, opening)
    upper = _upper_lip(m, upper_in)
    lower = _lower_lip(m, lower_in)
    top_fill = QLinearGradient(0, m.top - m.upper_thick, 0, m.top)
    top_fill.setColorAt(0.0, mix(pal.lip_dark, pal.lip, 0.25))
    top_fill.setColorAt(1.0, pal.lip_dark)
    p.fillPath(upper, top_fill)
    gloss = QRadialGradient(QPointF(m.jaw_shift, m.bottom + m.lower_thick * 0.4), 0.3)
    gloss.setColorAt(0.0, pal.lip_light)
    gloss.setColorAt(0.35, pal.lip)
    gloss.setColorAt(1.0, pal.lip_dark)
    p.fillPath(lower, gloss)
    if m.tongue > 0.25:
        # the tip rests on the lower lip, between the teeth (TH)
        t = (m.tongue - 0.25) / 0.75
        p.setBrush(pal.tongue)
        tip_y = m.bottom + 0.005 + 0.02 * t
        p.drawEllipse(QPointF(m.jaw_shift, tip_y), 0.1 + 0.03 * t, 0.025 + 0.03 * t)
    seam = mix(pal.lip_dark, pal.mouth, 0.55)
    closed = clamp01(1 - m.gap / 0.03)
    if closed > 0:
        p.strokePath(upper_in, round_pen(alpha(seam, 0.9 * closed), 0.018))
    pen = round_pen(alpha(seam, 0.55), 0.014)
    for (cx, cy), smile, side in ((m.right, m.smile_right, -1.0), (m.left, m.smile_left, 1.0)):
        tick = QPainterPath(QPointF(cx - side * 0.025, cy + 0.002))
        tick.quadTo(QPointF(cx - side * 0.005, cy), QPointF(cx + side * 0.005, cy - 0.015 * smile))
        p.strokePath(tick, pen)
    p.restore()


def _upper_lip(m: MouthShape, inner: QPainterPath) -> QPainterPath:
    (rx, ry), (lx, ly) = m.right, m.left
    t, th = m.top, m.upper_thick
    outer = QPainterPath(QPointF(rx, ry))
    # the Cupid's bow: two peaks either side of a small dip under the nose
    peak_r = (rx * 0.36, t - th - 0.012 - m.raise_right)
    peak_l = (lx * 0.36, t - th - 0.012 - m.raise_left)
    dip = (0.0, t - th + 0.014 - (m.raise_left + m.raise_right) / 2)
    outer.cubicTo(
        QPointF(rx * 0.85, ry - th * 0.55), QPointF(peak_r[0] * 1.6, peak_r[1]), QPointF(*peak_r)
    )
    outer.quadTo(QPointF(peak_r[0] * 0.3, peak_r[1]), QPointF(*dip))
    outer.quadTo(QPointF(peak_l[0] * 0.3, peak_l[1]), QPointF(*peak_l))
    outer.cubicTo(
        QPointF(peak_l[0] * 1.6, peak_l[1]), QPointF(lx * 0.85, ly - th * 0.55), QPointF(lx, ly)
    )
    outer.connectPath(inner.toReversed())
    outer.closeSubpath()
    return outer


def _lower_lip(m: MouthShape, inner: QPainterPath) -> QPainterPath:
    """``inner`` runs left -> right corner; the outer edge comes back under the lip."""
    (rx, ry), (lx, ly) = m.right, m.left
    bottom = m.bottom + m.lower_thick
    path = QPainterPath(inner)
    path.lineTo(rx, ry)
    path.cubicTo(
        QPointF(rx * 0.9, ry + (bottom - ry) * 0.62),
        QPointF(rx * 0.5 + m.jaw_shift, bottom),
        QPointF(m.jaw_shift, bottom),
    )
    path.cubicTo(
        QPointF(lx * 0.5 + m.jaw_shift, bottom),
        QPointF(lx * 0.9, ly + (bottom - ly) * 0.62),
        QPointF(lx, ly),
    )
    path.closeSubpath()
    return path


def _paint_inside(p: QPainter, pal: Palette, m: MouthShape, opening: QPainterPath) -> None:
    width = (m.left[0] - m.right[0]) / 2
    cavity = QRadialGradient(QPointF(0, m.bottom), max(0.05, width * 1.2))
    cavity.setColorAt(0.0, mix(pal.mouth, pal.tongue, 0.25))
    cavity.setColorAt(1.0, mix(pal.mouth, pal.lash, 0.4))
    p.fillPath(opening, cavity)
    p.save()
    p.setClipPath(opening, Qt.ClipOperation.IntersectClip)
    # teeth sit behind the lips: wide and bright when the mouth stretches, hidden in an O
    depth = 1 - 0.6 * m.round * (1 - 0.5 * m.gap / 0.34)
    teeth = QLinearGradient(0, m.top - 0.03, 0, m.top + 0.08)
    teeth.setColorAt(0.0, mix(pal.teeth, pal.mouth, 0.25))
    teeth.setColorAt(0.45, pal.teeth)
    teeth.setColorAt(1.0, mix(pal.teeth, pal.mouth, 0.2))
    p.setBrush(teeth)
    tw = 0.78 * width * depth
    p.drawRoundedRect(QRectF(-tw, m.top - 0.05, 2 * tw, 0.12 * depth + 0.01), 0.03, 0.03)
    low = m.bottom - (0.02 + 0.05 * clamp01(m.gap / 0.3)) * depth
    p.setBrush(mix(pal.teeth, pal.mouth, 0.15))
    p.drawRoundedRect(QRectF(m.jaw_shift - tw * 0.85, low, 1.7 * tw, 0.1), 0.03, 0.03)
    tongue = QRadialGradient(QPointF(m.jaw_shift, m.bottom - 0.05), width * 0.7)
    tongue.setColorAt(0.0, mix(pal.tongue, pal.lip_light, 0.3))
    tongue.setColorAt(1.0, mix(pal.tongue, pal.mouth, 0.4))
    p.setBrush(tongue)
    rise = lerp(m.bottom - 0.005, (m.top + m.bottom) / 2 + 0.03, m.tongue)
    p.drawEllipse(QPointF(m.jaw_shift, rise + 0.04), width * 0.62, 0.09)
    # the corners of an open mouth fall into shadow
    sides = QLinearGradient(m.right[0], 0, m.left[0], 0)
    sides.setColorAt(0.0, alpha(pal.mouth, 0.8))
    sides.setColorAt(0.3, alpha(pal.mouth, 0.0))
    sides.setColorAt(0.7, alpha(pal.mouth, 0.0))
    sides.setColorAt(1.0, alpha(pal.mouth, 0.8))
    p.fillPath(opening, sides)
    p.restore()


def _paint_folds(p: QPainter, pal: Palette, m: MouthShape) -> None:
    """Nasolabial folds: barely there at rest, deepening as each corner smiles."""
    for (cx, cy), smile, side in ((m.right, m.smile_right, -1.0), (m.left, m.smile_left, 1.0)):
        strength = 0.3 * clamp01((smile - 0.2) / 0.8)
        if strength < 0.02:
            continue
        fold = QPainterPath(QPointF(side * 0.25, -0.24))
        fold.cubicTo(
            QPointF(side * 0.29, -0.16),
            QPointF(cx + side * (0.07 + 0.03 * smile), cy - 0.1),
            QPointF(cx + side * 0.06, cy + 0.02),
        )
        p.strokePath(fold, round_pen(alpha(pal.skin_shadow, strength), 0.035))
