"""The designed 2D face: a QPainter renderer for ``RigState`` in a data-driven look.

``FaceView`` is the widget; ``render_face`` draws one frame into an image; ``FacePainter``
is the reusable painter both use.
"""

from app.gui.face.face_view import FaceView
from app.gui.face.frame_stats import FrameStats, FrameSummary
from app.gui.face.painter import FacePainter
from app.gui.face.render import render_face

__all__ = ["FacePainter", "FaceView", "FrameStats", "FrameSummary", "render_face"]
