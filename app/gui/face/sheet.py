"""A labelled contact sheet: many faces in one image, to review a look at a glance.

Rows are (look, states); every cell is a close-up of the head so the mouth shapes stay
readable at thumbnail size. Used by the render tests to write ``docs/img``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

from app.gui.face.layout import Layout
from app.gui.face.painter import FacePainter
from app.gui.face.render import render_face
from avatar.rig import RigState

LABEL_WIDTH, CAPTION_HEIGHT, GAP = 150, 26, 8


@dataclass(frozen=True)
class SheetRow:
    title: str
    painter: FacePainter
    cells: Sequence[tuple[str, RigState]]


def close_up(painter: FacePainter, state: RigState, size: int, zoom: float = 1.5) -> QImage:
    """A ``size`` square around the head, drawn at ``zoom`` times the portrait's scale."""
    full = round(size * zoom)
    image = render_face(state, painter, full)
    layout = Layout.fit(full, full)
    cx, cy = layout.origin_x, layout.origin_y - 0.05 * layout.scale
    return image.copy(QRect(round(cx - size / 2), round(cy - size / 2), size, size))


def contact_sheet(rows: Sequence[SheetRow], cell: int = 190, title: str = "") -> QImage:
    columns = max(len(row.cells) for row in rows)
    top = 44 if title else GAP
    row_height = cell + CAPTION_HEIGHT + GAP
    width = LABEL_WIDTH + columns * (cell + GAP) + GAP
    sheet = QImage(width, top + len(rows) * row_height, QImage.Format.Format_RGB32)
    sheet.fill(QColor("#F5F7FA"))
    p = QPainter(sheet)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    font = QFont()
    if title:
        font.setPixelSize(22)
        font.setWeight(QFont.Weight.DemiBold)
        p.setFont(font)
        p.setPen(QColor("#1F2933"))
        p.drawText(QRectF(GAP, 0, width, top), Qt.AlignmentFlag.AlignVCenter, title)
    for r, row in enumerate(rows):
        y = top + r * row_height
        font.setPixelSize(15)
        font.setWeight(QFont.Weight.DemiBold)
        p.setFont(font)
        p.setPen(QColor("#334155"))
        label = QRectF(GAP, y, LABEL_WIDTH - 2 * GAP, cell)
        p.drawText(label, Qt.AlignmentFlag.AlignVCenter | Qt.TextFlag.TextWordWrap, row.title)
        font.setPixelSize(13)
        font.setWeight(QFont.Weight.Normal)
        p.setFont(font)
        for c, (name, state) in enumerate(row.cells):
            x = LABEL_WIDTH + c * (cell + GAP)
            p.drawImage(QPointF(x, y), close_up(row.painter, state, cell))
            p.setPen(QColor("#475569"))
            caption = QRectF(x, y + cell, cell, CAPTION_HEIGHT)
            p.drawText(caption, Qt.AlignmentFlag.AlignCenter, name)
    p.end()
    return sheet
