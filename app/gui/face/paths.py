"""Small path builders: smooth curves through points, in head units."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF
from PySide6.QtGui import QPainterPath

Pt = tuple[float, float]


def smooth(points: Sequence[Pt], closed: bool = False, tension: float = 1.0) -> QPainterPath:
    """A Catmull-Rom spline through ``points`` as cubic Béziers: designers place points
    on the outline and the curve passes through every one of them."""
    path = QPainterPath()
    n = len(points)
    if n == 0:
        return path
    path.moveTo(*points[0])
    if n == 1:
        return path
    k = tension / 6.0
    segments = n if closed else n - 1
    for i in range(segments):
        p0 = points[(i - 1) % n] if (closed or i > 0) else points[0]
        p1 = points[i]
        p2 = points[(i + 1) % n]
        p3 = points[(i + 2) % n] if (closed or i + 2 < n) else p2
        path.cubicTo(
            QPointF(p1[0] + (p2[0] - p0[0]) * k, p1[1] + (p2[1] - p0[1]) * k),
            QPointF(p2[0] - (p3[0] - p1[0]) * k, p2[1] - (p3[1] - p1[1]) * k),
            QPointF(*p2),
        )
    if closed:
        path.closeSubpath()
    return path


def mirrored(points: Sequence[Pt]) -> list[Pt]:
    """Right-half outline points (top to bottom) -> the full outline, left half mirrored."""
    return [*points, *((-x, y) for x, y in reversed(points) if x != 0.0)]


def lerp(a: float, b: float, t: float) -> float:
    return a + (b - a) * t


def clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x
