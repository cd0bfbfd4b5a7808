"""The head's skin: outline (jaw drops with jawOpen, cheeks puff), ears, nose, cheeks.

Drawn every frame in head units under the head's roll transform; the outline's points
carry a depth so a turned head keeps its silhouette while the chin swings with the face.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QRadialGradient

from app.gui.face.palette import Palette, alpha, mix, round_pen, soft_spot
from app.gui.face.paths import Pt, smooth
from app.gui.face.pose import Projector
from app.gui.face.sprite import Sprite
from avatar.looks import Look
from avatar.rig import RigState

JAW_DROP = 0.3  # how far the chin travels at jawOpen=1 (head units)
NOSE_TIP_Y = 0.5


def outline_points(
    look: Look, proj: Projector, jaw: float = 0.0, puff: float = 0.0, jaw_x: float = 0.0
) -> list[Pt]:
    """The face's closed outline, clockwise from the crown, projected."""
    w, fl = look.face.width, look.face.length
    j, c = look.face.jaw, look.face.chin
    drop = JAW_DROP * jaw
    right = [  # (u, v, depth) from the crown down the viewer's right side to the chin
        (0.64 * w, -1.36 * fl, 0.0),
        (0.97 * w, -0.62, 0.0),
        (1.0 * w + 0.03 * puff, 0.1, 0.05),
        (0.93 * w - 0.04 * (1 - j) + 0.09 * puff, 0.6 * fl + 0.2 * drop, 0.25),
        (0.64 * w + 0.2 * j + 0.05 * puff, (1.0 + 0.07 * j) * fl + 0.55 * drop, 0.5),
        (0.3 * w * (1 - 0.35 * c) + 0.04 + 0.06 * j, 1.34 * fl + 0.92 * drop, 0.82),
    ]
    pts: list[Pt] = [proj.outline(0.0, -1.58 * fl, 0.0)]
    pts += [proj.outline(u + jaw_x * d, v, d) for u, v, d in right]
    pts.append(proj.outline(jaw_x, 1.45 * fl + drop, 0.95))
    pts += [proj.outline(-u + jaw_x * d, v, d) for u, v, d in reversed(right)]
    return pts


def side_path(look: Look) -> QPainterPath:
    """The side of the head behind a turning face: the resting outline down to the jaw
    angles, closed above the chin (the chin always turns with the face)."""
    pts = outline_points(look, Projector.from_degrees(0.0, 0.0))
    # outline_points: crown, six on the right, chin, six on the left; drop chin and its sides
    fl = look.face.length
    right, left = pts[1:6], pts[9:14]
    return smooth([pts[0], *right, (0.3, 1.18 * fl), (-0.3, 1.18 * fl), *left], closed=True)


def face_path(look: Look, proj: Projector, state: RigState) -> QPainterPath:
    puff = state["cheekPuff"]
    jaw_x = 0.07 * (state["jawLeft"] - state["jawRight"])
    return smooth(outline_points(look, proj, state["jawOpen"], puff, jaw_x), closed=True)


def skin_brush(pal: Palette) -> QBrush:
    """Light from the upper left: a lit forehead and cheekbone, the form turning into
    shadow at the jaw and the far side."""
    g = QRadialGradient(QPointF(-0.3, -0.5), 2.35, QPointF(-0.35, -0.6))
    g.setColorAt(0.0, pal.skin_light)
    g.setColorAt(0.45, pal.skin)
    g.setColorAt(0.78, mix(pal.skin, pal.skin_shadow, 0.45))
    g.setColorAt(1.0, pal.skin_shadow)
    return QBrush(g)


def paint_side(p: QPainter, rest: QPainterPath, brush: QBrush, pal: Palette) -> None:
    """The side of the head behind a turning face (``rest``: :func:`side_path`), in the
    same skin a little shaded. It never changes shape, so the painter bakes it once per
    scale into a sprite."""
    p.setPen(Qt.PenStyle.NoPen)
    p.fillPath(rest, brush)
    p.fillPath(rest, alpha(pal.skin_shadow, 0.12))


def paint_face(
    p: QPainter,
    face: QPainterPath,
    side: Sprite,
    brush: QBrush,
    pal: Palette,
    proj: Projector,
    jaw: float,
) -> None:
    """``face`` is this frame's outline, ``side`` the baked :func:`paint_side`."""
    p.setPen(Qt.PenStyle.NoPen)
    if abs(proj.sin_yaw) > 0.05:
        # as the face turns, the near jaw swings inwards and the side of the head behind
        # it becomes the silhouette
        side.draw(p)
    p.fillPath(face, brush)
    chin = proj.point(0.0, 1.22 + JAW_DROP * jaw, 0.95)
    soft_spot(p, pal, chin, 0.28, alpha(pal.skin_light, 0.35))
    brow_ridge = proj.point(-0.2, -0.85, 0.9)
    soft_spot(p, pal, brow_ridge, 0.55, alpha(pal.skin_light, 0.3))


def paint_stubble(p: QPainter, pal: Palette, proj: Projector, look: Look, jaw: float) -> None:
    """A shaved beard: the hair colour faintly in the skin of the jaw, chin and upper lip."""
    strength = look.skin.stubble
    if strength <= 0:
        return
    tint = mix(pal.hair, pal.skin_shadow, 0.35)
    drop = JAW_DROP * jaw
    for u, v, z, radius, ry, a in (
        (0.0, 1.22 + drop, 0.95, 0.42, 0.55, 0.5),
        (-0.55, 0.98 + 0.6 * drop, 0.6, 0.36, 0.9, 0.4),
        (0.55, 0.98 + 0.6 * drop, 0.6, 0.36, 0.9, 0.4),
        (0.0, 0.72, 1.05, 0.26, 0.38, 0.45),
    ):
        soft_spot(p, pal, proj.point(u, v, z), radius, alpha(tint, strength * a), ry)


def paint_cheeks(p: QPainter, pal: Palette, proj: Projector, look: Look, state: RigState) -> None:
    base = look.skin.blush_strength
    for side, tag in ((1.0, "Left"), (-1.0, "Right")):
        squint = state[f"cheekSquint{tag}"]
        smile = state[f"mouthSmile{tag}"]
        strength = base * (0.75 + 0.5 * squint + 0.35 * smile) + 0.08 * state["cheekPuff"]
        centre = proj.point(side * 0.58, 0.42 - 0.07 * squint - 0.04 * smile, 0.85)
        soft_spot(p, pal, centre, 0.36 + 0.05 * squint, alpha(pal.blush, strength), ry=0.8)
        # the cheekbone catches light when it lifts in a smile
        lift = proj.point(side * 0.55, 0.22 - 0.07 * squint, 0.88)
        soft_spot(
            p, pal, lift, 0.22, alpha(pal.skin_light, 0.15 + 0.3 * max(squint, smile)), ry=0.6
        )


def paint_ears(p: QPainter, pal: Palette, proj: Projector, look: Look) -> None:
    outline = smooth(
        [(-0.05, -0.3), (0.1, -0.34), (0.18, -0.16), (0.15, 0.1), (0.1, 0.29), (0.0, 0.36)],
        tension=0.9,
    )
    outline.lineTo(-0.08, 0.28)
    outline.closeSubpath()
    inner = smooth([(0.02, -0.2), (0.1, -0.16), (0.1, 0.07), (0.03, 0.2)])
    ear = QRadialGradient(QPointF(0.04, 0.0), 0.35)
    ear.setColorAt(0.0, mix(pal.skin, pal.blush, 0.15))
    ear.setColorAt(1.0, mix(pal.skin, pal.skin_shadow, 0.6))
    for side in (-1.0, 1.0):
        x, y = proj.point(side * 0.97 * look.face.width, 0.2, -0.1)
        sx = max(0.35, min(1.6, 1.0 - side * proj.sin_yaw * 1.5))
        p.save()
        p.translate(x, y)
        p.scale(side * sx, 1.0)
        p.fillPath(outline, ear)
        p.strokePath(inner, round_pen(alpha(pal.skin_shadow, 0.8), 0.035))
        p.restore()


def paint_nose(p: QPainter, pal: Palette, proj: Projector, look: Look, state: RigState) -> None:
    n = look.face.nose
    tip_z = 1.0 + 0.22 * n
    ink = mix(pal.skin_shadow, QColor("#2A1410"), 0.35)
    bridge = proj.point(0.0, -0.1, 1.0)
    tip = proj.point(0.0, NOSE_TIP_Y, tip_z)
    # the shaded side of the bridge (light comes from the upper left)
    shade = QPainterPath(QPointF(bridge[0] + 0.06, bridge[1] + 0.2))
    shade.quadTo(QPointF(tip[0] + 0.1, tip[1] - 0.2), QPointF(tip[0] + 0.1 * n, tip[1] - 0.03))
    p.strokePath(shade, round_pen(alpha(pal.skin_shadow, 0.16), 0.1 * n))
    soft_spot(p, pal, (tip[0], tip[1] + 0.09), 0.15 * n, alpha(pal.skin_shadow, 0.45), ry=0.4)
    soft_spot(p, pal, (tip[0] - 0.03, tip[1] - 0.035), 0.08 * n, alpha(pal.skin_light, 0.7))
    soft_spot(
        p, pal, (bridge[0] - 0.035, bridge[1] + 0.3), 0.09, alpha(pal.skin_light, 0.25), ry=2.2
    )
    wing_pen = round_pen(alpha(ink, 0.22), 0.016)
    for side, tag in ((1.0, "Left"), (-1.0, "Right")):
        lift = 0.05 * state[f"noseSneer{tag}"]
        nx, ny = proj.point(side * 0.085 * n, NOSE_TIP_Y + 0.07 - lift, tip_z - 0.12)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(alpha(ink, 0.42))
        p.save()
        p.translate(nx, ny)
        p.rotate(side * 15.0)
        p.drawEllipse(QPointF(0, 0), 0.032 * n, 0.014 * n)
        p.restore()
        # the wing of the nostril: a soft shade and a faint crease above it
        wx, wy = proj.point(side * 0.13 * n, NOSE_TIP_Y + 0.02 - lift, tip_z - 0.3)
        soft_spot(p, pal, (wx, wy), 0.07 * n, alpha(pal.skin_shadow, 0.35))
        wing = QPainterPath(QPointF(wx - side * 0.01, wy - 0.05))
        wing.quadTo(QPointF(wx + side * 0.03, wy - 0.02), QPointF(wx + side * 0.02, wy + 0.03))
        p.strokePath(wing, wing_pen)
