"""Perception events, declared like the session's (``app.core.events``): frozen, keyword
only, stamped with the monotonic clock when created.

Control events (camera status, presence, main user, indicator) jump the session's queue;
the per-frame :class:`UserObserved` and the rate-limited :class:`AffectUpdated` are data
events. None of them carries pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.events import ControlEvent, Event
from app.core.types import Affect


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraStatusChanged(ControlEvent):
    """``status`` is a :class:`vision.camera.CameraStatus` value: live, lost, recovered,
    unavailable, ended, stopped. ``detail`` is for a person (what to check)."""

    status: str = ""
    source: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class IndicatorChanged(ControlEvent):
    """What the on-screen privacy indicator must show: the camera is on, affect is on."""

    camera_on: bool = False
    affect_on: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PresenceChanged(ControlEvent):
    """Someone arrived in front of the camera, or the last person left."""

    change: str = ""  # "arrived" or "left"
    present: bool = False
    user_id: int = 0  # the main user on arrival; 0 when nobody
    faces: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class MainUserChanged(ControlEvent):
    """The avatar now addresses another person (nearest and most frontal, sticky)."""

    user_id: int = 0
    previous_id: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class UserObserved(Event):
    """The main user in one frame: for the avatar's gaze (``position``) and mirror mode
    (``blendshapes``, ``head_pose``). Positions are fractions of the frame, x to the right
    and y down, as the camera sees them (not mirrored)."""

    user_id: int = 0
    position: tuple[float, float] = (0.5, 0.5)
    size: float = 0.0  # face height / frame height
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    head_pose: tuple[float, float, float] = (0.0, 0.0, 0.0)  # yaw, pitch, roll in degrees
    gaze: tuple[float, float] = (0.0, 0.0)  # iris offset in the eyes
    attention: float = 0.0
    attentive: bool = False
    blendshapes: tuple[tuple[str, float], ...] = ()
    faces: int = 0
    frame_ts: float = 0.0  # when the camera captured the frame (same clock as ``ts``)
    frame_index: int = 0

    def weights(self) -> dict[str, float]:
        return dict(self.blendshapes)


@dataclass(frozen=True, slots=True, kw_only=True)
class AffectUpdated(Event):
    """A soft estimate for the main user, at most a few times a second (and at once when
    the label changes). Only sent while affect is switched on."""

    affect: Affect = field(default_factory=lambda: Affect(valence=0.0, arousal=0.0))
    user_id: int = 0
    frame_ts: float = 0.0
    frame_index: int = 0
