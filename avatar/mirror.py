"""Mirror / puppet mode: the user's tracked face (MediaPipe blendshapes + head pose) -> rig.

MediaPipe's face landmarker already speaks ARKit-52 (plus a ``_neutral`` score that is not
a shape, and without ``tongueOut``), so the mapping is routing: unknown names are dropped,
missing ones are 0, values are clipped.

Left and right, decided: **the avatar behaves like a mirror** (``swap_sides=True``, the
default). Input names are anatomical, ARKit's convention ("Left" = the user's own left).
The avatar faces the user, so its right side is on the user's left; a mirror image moves
the side nearest the user's moving side. When the user winks their left eye, the avatar
winks its *right* eye, and when the user turns their head to their left the avatar turns
to its right. That is what people expect when they see themselves copied on a screen
(every selfie preview is mirrored). ``swap_sides=False`` makes an anatomical copy instead
(the avatar's left eye for the user's left eye), which looks reversed to the user but is
right when the avatar is driven for a third person. If a tracker turns out to name sides
by image position rather than anatomy, flip this flag; nothing else changes.

Eye direction: MediaPipe's eyeLook* weights become the rig's ``gaze_x/gaze_y`` and are then
set to 0, as in the engine's own output (one carrier for where the eyes look).

Head pose input: degrees in the rig's convention for the *user's* head (yaw > 0 turns to
their own left, pitch > 0 lifts the chin, roll > 0 tilts toward their own left shoulder).
Mirroring negates yaw and roll; pitch is the same either way.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from avatar.rig import ARKIT_BLENDSHAPES, INDEX, RigState, vector


def _other_side(name: str) -> str:
    if name.endswith("Left"):
        return name[: -len("Left")] + "Right"
    if name.endswith("Right"):
        return name[: -len("Right")] + "Left"
    return name


# SWAP[i] is the index whose value lands on shape i when the sides are exchanged
SWAP: npt.NDArray[np.intp] = np.array(
    [INDEX[_other_side(name)] for name in ARKIT_BLENDSHAPES], dtype=np.intp
)
SWAP.flags.writeable = False

_L = {k: INDEX[k] for k in ARKIT_BLENDSHAPES if k.startswith("eyeLook")}
_LOOK = np.array(sorted(_L.values()), dtype=np.intp)


def gaze_from_weights(weights: npt.NDArray[np.float32]) -> tuple[float, float]:
    """Rig gaze (x > 0 to the avatar's left, y > 0 up) from the eyeLook* weights.

    Looking to one's left turns the left eye outward and the right eye inward (ARKit's
    eyeLookOutLeft / eyeLookInRight).
    """
    w = weights
    x = (
        w[_L["eyeLookOutLeft"]]
        + w[_L["eyeLookInRight"]]
        - w[_L["eyeLookInLeft"]]
        - w[_L["eyeLookOutRight"]]
    ) / 2.0
    y = (
        w[_L["eyeLookUpLeft"]]
        + w[_L["eyeLookUpRight"]]
        - w[_L["eyeLookDownLeft"]]
        - w[_L["eyeLookDownRight"]]
    ) / 2.0
    return (float(x), float(y))


class MirrorMapper:
    """Maps one tracked face onto a rig state; cheap (tens of microseconds), stateless."""

    def __init__(
        self, *, swap_sides: bool = True, gains: Mapping[str, float] | None = None
    ) -> None:
        """``gains`` multiplies shapes a tracker under-reports (MediaPipe's eyeWide and
        noseSneer rarely pass 0.05, for example); applied before the side swap."""
        self.swap_sides = swap_sides
        self._gains = vector(gains) if gains else None
        if self._gains is not None:
            # shapes without an explicit gain keep theirs at 1
            named = np.zeros(len(ARKIT_BLENDSHAPES), dtype=bool)
            for name in gains or {}:
                if name in INDEX:
                    named[INDEX[name]] = True
            self._gains[~named] = 1.0

    def map(
        self,
        blendshapes: Mapping[str, float],
        head_pose: tuple[float, float, float] = (0.0, 0.0, 0.0),
        ts: float = 0.0,
    ) -> RigState:
        weights = vector(blendshapes)
        if self._gains is not None:
            weights *= self._gains
        yaw, pitch, roll = (float(v) for v in head_pose)
        if self.swap_sides:
            weights = weights[SWAP]
            yaw, roll = -yaw, -roll
        gaze_x, gaze_y = gaze_from_weights(weights)
        # the direction now lives in gaze_x/gaze_y; the painter adds eyeLook* to the gaze,
        # so keeping both would turn the eyes twice as far
        weights[_LOOK] = 0.0
        return RigState(
            weights=weights,
            head_yaw=yaw,
            head_pitch=pitch,
            head_roll=roll,
            gaze_x=gaze_x,
            gaze_y=gaze_y,
            ts=ts,
        ).clamped()
