"""What the face tracker sees in one frame: richer than ``FaceObservation``, still plain data."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.types import FaceObservation
from vision.geometry import HeadPose, Points
from vision.presence import PresenceState


@dataclass(frozen=True, slots=True, eq=False)
class TrackedFace:
    track_id: int
    # (478, 3): x, y as fractions of the frame's width/height, z relative depth
    landmarks: Points
    blendshapes: dict[str, float]
    head_pose: HeadPose
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame
    # iris position in the eyes (share of the eye's width; x right, y down; 0 = centred)
    gaze: tuple[float, float]
    attention: float  # 0..1, 1 = looking straight at the screen
    attentive: bool

    @property
    def center(self) -> tuple[float, float]:
        return ((self.box[0] + self.box[2]) / 2, (self.box[1] + self.box[3]) / 2)

    @property
    def size(self) -> float:
        """Face height as a share of the frame height (grows as the person comes closer)."""
        return self.box[3] - self.box[1]

    @property
    def frontal(self) -> float:
        """1 when facing the camera, falling to 0 at 90 degrees of yaw or pitch."""
        import math

        yaw, pitch = math.radians(self.head_pose.yaw), math.radians(self.head_pose.pitch)
        return max(0.0, math.cos(yaw) * math.cos(pitch))

    def top_blendshapes(self, count: int = 5) -> list[tuple[str, float]]:
        return sorted(self.blendshapes.items(), key=lambda item: -item[1])[:count]


@dataclass(frozen=True, slots=True, eq=False)
class TrackResult:
    """One frame: every face seen, the main user among them, presence over time."""

    ts: float
    frame_size: tuple[int, int]  # width, height in pixels
    faces: tuple[TrackedFace, ...] = ()
    main: TrackedFace | None = None
    presence: PresenceState = PresenceState.ABSENT
    # what changed with this frame: "arrived", "left", "main-changed"
    changes: tuple[str, ...] = field(default=())

    def observation(self) -> FaceObservation:
        """The role protocol's view: the main user only."""
        face = self.main
        if face is None:
            return FaceObservation(
                present=self.presence in (PresenceState.PRESENT, PresenceState.LEAVING)
            )
        return FaceObservation(
            present=True,
            blendshapes=dict(face.blendshapes),
            head_pose=face.head_pose.as_tuple(),
            looking_at_screen=face.attentive,
        )
