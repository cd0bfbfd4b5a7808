"""The one rig vocabulary: ARKit-52 blendshape weights, head pose and gaze.

MediaPipe produces these names for the user's face, visemes map onto them, expressions
are presets of them and every renderer consumes them, so mirror mode is only routing.
A ``RigState`` is immutable; the animation engine makes a new one per frame (52 floats
are cheap) so the renderer on the UI thread never sees a half-written state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

ARKIT_BLENDSHAPES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft",
    "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight", "eyeLookOutRight", "eyeLookUpRight",
    "eyeSquintRight", "eyeWideRight",
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight",
    "noseSneerLeft", "noseSneerRight",
    "tongueOut",
)  # fmt: skip

INDEX: dict[str, int] = {name: i for i, name in enumerate(ARKIT_BLENDSHAPES)}

FloatVector = npt.NDArray[np.float32]

# head pose limits in degrees: beyond these a 2D face stops looking like a face
HEAD_LIMITS = (35.0, 25.0, 20.0)  # yaw, pitch, roll


def zeros() -> FloatVector:
    return np.zeros(len(ARKIT_BLENDSHAPES), dtype=np.float32)


def vector(weights: Mapping[str, float]) -> FloatVector:
    """Weights by name -> a 52-vector; unknown names (e.g. MediaPipe's ``_neutral``) are
    ignored so a tracker's output can be routed in unchanged."""
    out = zeros()
    for name, value in weights.items():
        i = INDEX.get(name)
        if i is not None:
            out[i] = value
    return out


@dataclass(frozen=True, slots=True)
class RigState:
    """One frame of the avatar: weights in [0, 1], head pose in degrees, gaze in [-1, 1].

    gaze x > 0 looks to the avatar's left (the viewer's right), y > 0 looks up.
    ``ts`` is the time the state is for (audio-clock seconds while speaking).
    """

    weights: FloatVector = field(default_factory=zeros)
    head_yaw: float = 0.0
    head_pitch: float = 0.0
    head_roll: float = 0.0
    gaze_x: float = 0.0
    gaze_y: float = 0.0
    ts: float = 0.0

    def __getitem__(self, name: str) -> float:
        return float(self.weights[INDEX[name]])

    def as_dict(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(ARKIT_BLENDSHAPES, self.weights, strict=True)}

    def with_weights(self, weights: Mapping[str, float]) -> RigState:
        new = self.weights.copy()
        for name, value in weights.items():
            new[INDEX[name]] = value
        return replace(self, weights=new)

    def clamped(self) -> RigState:
        """Every value inside its range; renderers may rely on this."""
        yaw, pitch, roll = HEAD_LIMITS
        return replace(
            self,
            weights=np.clip(np.nan_to_num(self.weights), 0.0, 1.0).astype(np.float32),
            head_yaw=_clip(self.head_yaw, yaw),
            head_pitch=_clip(self.head_pitch, pitch),
            head_roll=_clip(self.head_roll, roll),
            gaze_x=_clip(self.gaze_x, 1.0),
            gaze_y=_clip(self.gaze_y, 1.0),
        )


def _clip(value: float, limit: float) -> float:
    if value != value:  # NaN
        return 0.0
    return max(-limit, min(limit, value))
