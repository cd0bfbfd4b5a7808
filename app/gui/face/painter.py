"""``FacePainter``: one look, painted for any ``RigState`` at any size.

Per frame it only draws what moves. The background and the body (neck and clothes) are
painted once per size into two images; hair outlines, brushes and the palette are built
once per look. Drawing order is back to front: background, back hair, body, ears, face,
cheeks, mouth, nose, eyes, brows, front hair. The head's roll is one painter rotation
about the neck; yaw and pitch move each feature by its depth (see ``pose``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QImage, QPainter

from app.gui.face import eyes, hair, head, mouth
from app.gui.face.body import BODY_TOP, paint_background, paint_body
from app.gui.face.layout import Layout
from app.gui.face.palette import Palette
from app.gui.face.pose import Projector
from app.gui.face.sprite import Sprite, bake
from avatar.looks import Look
from avatar.rig import HEAD_LIMITS, RigState


@dataclass(frozen=True)
class _Sprites:
    key: tuple[float, float]
    hair: hair.HairSprites
    iris: Sprite
    side: Sprite  # the side of the head behind a turning face


@dataclass(frozen=True)
class _Backdrop:
    key: tuple[int, int, float]
    wall: QImage
    body: QImage
    body_top: float  # where the body image goes, in pixels from the top


class FacePainter:
    """Paints one look; not thread-safe (use one per thread, e.g. one per widget)."""

    def __init__(self, look: Look) -> None:
        self._backdrop: _Backdrop | None = None
        self._sprites: _Sprites | None = None
        self.set_look(look)

    @property
    def look(self) -> Look:
        return self._look

    def set_look(self, look: Look) -> None:
        self._look = look
        self._palette = Palette.of(look)
        rest = head.face_path(look, Projector.from_degrees(0.0, 0.0), RigState())
        self._hair = hair.build_hair(look, self._palette, rest)
        self._head_side = head.side_path(look)
        self._skin = head.skin_brush(self._palette)
        self._backdrop = None
        self._sprites = None

    def paint(self, p: QPainter, width: int, height: int, state: RigState) -> None:
        """Draw the portrait filling ``width`` x ``height`` device-independent pixels."""
        state = state.clamped()  # a renderer must survive any input: NaN, 7.0, -40 degrees
        layout = Layout.fit(width, height)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        ratio = p.device().devicePixelRatioF()
        backdrop = self._backdrop_for(layout, ratio)
        sprites = self._sprites_for(layout, ratio)
        p.drawImage(QPointF(0, 0), backdrop.wall)
        look, pal = self._look, self._palette
        proj = Projector.from_degrees(state.head_yaw, state.head_pitch)
        head_transform = layout.head_transform(state.head_roll)
        p.save()
        p.setTransform(head_transform, True)
        p.setPen(Qt.PenStyle.NoPen)
        sprites.hair.paint_back(p, proj.sin_yaw)
        p.restore()
        p.drawImage(QPointF(0, backdrop.body_top), backdrop.body)
        p.save()
        p.setTransform(head_transform, True)
        p.setPen(Qt.PenStyle.NoPen)
        if look.hair.style in ("short", "bun"):
            head.paint_ears(p, pal, proj, look)
        face = head.face_path(look, proj, state)
        head.paint_face(p, face, sprites.side, self._skin, pal, proj, state["jawOpen"])
        head.paint_stubble(p, pal, proj, look, state["jawOpen"])
        head.paint_cheeks(p, pal, proj, look, state)
        mouth.paint_mouth(p, pal, proj, look, state)
        head.paint_nose(p, pal, proj, look, state)
        eyes.paint_eyes(p, pal, proj, look, state, sprites.iris)
        eyes.paint_brows(p, pal, proj, look, state)
        sprites.hair.paint_front(p, proj.sin_yaw)
        p.restore()

    def moving_rect(self, width: int, height: int) -> QRect:
        """The pixels a frame can change (the head at any pose, jaw and expression).

        A view repaints only these; the wall and body around them stay as they were.
        """
        layout = Layout.fit(width, height)
        head_units = self._hair.back.boundingRect().united(self._hair.front.boundingRect())
        head_units = head_units.united(QRectF(-1.3, -1.9, 2.6, 3.5 + head.JAW_DROP))
        head_units = head_units.adjusted(-0.35, -0.1, 0.35, 0.1)  # a turned head's parallax
        rect = QRectF()
        limit = HEAD_LIMITS[2]
        for roll in (-limit, -limit / 2, 0.0, limit / 2, limit):
            rect = rect.united(layout.head_transform(roll).mapRect(head_units))
        return rect.toAlignedRect().adjusted(-2, -2, 2, 2).intersected(QRect(0, 0, width, height))

    def _sprites_for(self, layout: Layout, ratio: float) -> _Sprites:
        key = (round(layout.scale, 3), ratio)
        if self._sprites is None or self._sprites.key != key:
            scale, pal, side = layout.scale, self._palette, self._head_side
            r = eyes.iris_radius(self._look)
            self._sprites = _Sprites(
                key,
                hair.bake_layers(self._hair, pal, scale, ratio),
                bake(
                    QRectF(-r, -r, 2 * r, 2 * r), scale, ratio, lambda p: eyes.paint_iris(p, pal, r)
                ),
                bake(
                    side.boundingRect(),
                    scale,
                    ratio,
                    lambda p: head.paint_side(p, side, self._skin, pal),
                ),
            )
        return self._sprites

    def _backdrop_for(self, layout: Layout, ratio: float) -> _Backdrop:
        key = (round(layout.width), round(layout.height), ratio)
        if self._backdrop is None or self._backdrop.key != key:
            wall = _image(layout.width, layout.height, ratio)
            with _painting(wall) as p:
                paint_background(p, layout, self._palette)
            # opaque: blitted every frame as a plain copy, not a blend (~0.4 ms at 800 px)
            wall = wall.convertToFormat(QImage.Format.Format_RGB32)
            top = float(max(0, int(layout.origin_y + BODY_TOP * layout.scale)))
            body = _image(layout.width, layout.height - top, ratio)
            body.fill(0)
            with _painting(body) as p:
                p.translate(0, -top)
                paint_body(p, layout, self._look, self._palette)
            self._backdrop = _Backdrop(key, wall, body, top)
        return self._backdrop


def _image(width: float, height: float, ratio: float) -> QImage:
    image = QImage(
        max(1, round(width * ratio)),
        max(1, round(height * ratio)),
        QImage.Format.Format_ARGB32_Premultiplied,
    )
    image.setDevicePixelRatio(ratio)
    return image


@contextmanager
def _painting(image: QImage) -> Iterator[QPainter]:
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    try:
        yield p
    finally:
        p.end()
