"""MediaPipe Face Landmarker (tasks API, VIDEO mode): faces, pose, attention, presence.

Per face: 478 landmarks (with irises), 52 ARKit-style blendshapes, head pose from the
facial transformation matrix, box and size, eye gaze and attention. Across frames: ids by
box overlap, the presence state machine and the main user (see :mod:`vision.presence`).
Blocking and single-threaded: call it from one worker thread.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.config.settings import Settings
from app.core.types import FaceObservation, VideoFrame
from vision.faces import TrackedFace, TrackResult
from vision.geometry import (
    AttentionThresholds,
    HeadPose,
    attention,
    bounding_box,
    head_pose,
    iris_offset,
)
from vision.presence import (
    Candidate,
    FaceIdentities,
    MainUserSelector,
    PresenceTracker,
    iou,
)

if TYPE_CHECKING:
    from app.models.manager import ModelManager

log = logging.getLogger(__name__)

MODEL_ID = "face-landmarker"


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    num_faces: int = 3
    min_detection: float = 0.5
    min_presence: float = 0.5
    min_tracking: float = 0.5
    # faces shorter than this share of the frame height are passers-by in the background
    min_face_size: float = 0.06
    arrive_s: float = 0.3
    leave_s: float = 1.5
    stickiness: float = 1.3
    switch_after_s: float = 0.8
    attention: AttentionThresholds = field(default_factory=AttentionThresholds)


class MediaPipeFaceTracker:
    """Implements the ``FaceTracker`` role (``process``) and the richer :meth:`track`."""

    def __init__(self, model_path: Path, config: TrackerConfig | None = None):
        from mediapipe.tasks.python import BaseOptions, vision

        self.config = config or TrackerConfig()
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model_path)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=max(3, self.config.num_faces),
            min_face_detection_confidence=self.config.min_detection,
            min_face_presence_confidence=self.config.min_presence,
            min_tracking_confidence=self.config.min_tracking,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._landmarker: Any = vision.FaceLandmarker.create_from_options(options)
        self._last_ms = -1
        self._identities = FaceIdentities(forget_s=self.config.leave_s)
        self._presence = PresenceTracker(self.config.arrive_s, self.config.leave_s)
        self._selector = MainUserSelector(self.config.stickiness, self.config.switch_after_s)
        self._last_main: int | None = None

    @classmethod
    def from_models(
        cls, models: ModelManager, config: TrackerConfig | None = None
    ) -> MediaPipeFaceTracker:
        return cls(models.file(MODEL_ID), config)

    # ------------------------------------------------------------------ public API

    def process(self, frame: VideoFrame) -> FaceObservation:
        return self.track(frame).observation()

    def track(self, frame: VideoFrame) -> TrackResult:
        height, width = frame.pixels.shape[:2]
        return self._decide(self.detect(frame), frame.ts, (width, height))

    def idle(self, ts: float) -> TrackResult:
        """No frame to look at (the camera is lost): time passes and nobody is seen, so
        the user eventually leaves instead of being stuck present."""
        return self._decide([], ts, (0, 0))

    def detect(self, frame: VideoFrame) -> list[TrackedFace]:
        """The faces in one frame, with ids carried over from the previous frames."""
        import mediapipe as mp

        pixels = np.ascontiguousarray(frame.pixels)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=pixels)
        # VIDEO mode needs strictly increasing milliseconds
        stamp = max(round(frame.ts * 1000.0), self._last_ms + 1)
        self._last_ms = stamp
        result = self._landmarker.detect_for_video(image, stamp)
        height, width = pixels.shape[:2]
        aspect = width / float(height)
        raw = []
        for index, marks in enumerate(result.face_landmarks):
            points = np.array([(p.x, p.y, p.z) for p in marks], dtype=np.float32)
            shapes = {
                c.category_name: float(c.score)
                for c in (result.face_blendshapes[index] if result.face_blendshapes else [])
                if c.category_name != "_neutral"
            }
            matrices = result.facial_transformation_matrixes
            pose = head_pose(np.asarray(matrices[index])) if matrices else HeadPose()
            raw.append((points, shapes, pose))
        raw = _without_duplicates(raw)
        ids = self._identities.assign([bounding_box(p) for p, _, _ in raw], frame.ts)
        return [
            self._face(track_id, points, shapes, pose, aspect)
            for track_id, (points, shapes, pose) in zip(ids, raw, strict=True)
        ]

    def reset(self) -> None:
        """Forget everyone (a new session); the next face arrives afresh."""
        self._identities.reset()
        self._presence.reset()
        self._selector.reset()
        self._last_main = None

    def close(self) -> None:
        self._landmarker.close()

    # ------------------------------------------------------------------ internals

    def _decide(
        self, faces: list[TrackedFace], ts: float, frame_size: tuple[int, int]
    ) -> TrackResult:
        """Presence, main user and what changed, from the faces of one moment."""
        big = [face for face in faces if face.size >= self.config.min_face_size]
        changes: list[str] = []
        change = self._presence.update(bool(big), ts)
        if change is not None:
            changes.append(change.kind)
        candidates = [Candidate(f.track_id, f.size, f.frontal) for f in big]
        main_id = self._selector.select(candidates, ts)
        if main_id is not None and main_id != self._last_main:
            if self._last_main is not None:
                changes.append("main-changed")
            self._last_main = main_id
        if change is not None and change.kind == "left":
            self._last_main = None
        return TrackResult(
            ts=ts,
            frame_size=frame_size,
            faces=tuple(faces),
            main=next((face for face in big if face.track_id == main_id), None),
            presence=self._presence.state,
            changes=tuple(changes),
        )

    def _face(
        self,
        track_id: int,
        points: np.ndarray[Any, np.dtype[np.float32]],
        shapes: dict[str, float],
        pose: HeadPose,
        aspect: float,
    ) -> TrackedFace:
        gaze = iris_offset(points, aspect)
        closed = min(shapes.get("eyeBlinkLeft", 0.0), shapes.get("eyeBlinkRight", 0.0))
        score, attentive = attention(pose, gaze, closed, self.config.attention)
        return TrackedFace(
            track_id=track_id,
            landmarks=points,
            blendshapes=shapes,
            head_pose=pose,
            box=bounding_box(points),
            gaze=gaze,
            attention=score,
            attentive=attentive,
        )


def _without_duplicates(
    raw: list[tuple[np.ndarray[Any, np.dtype[np.float32]], dict[str, float], HeadPose]],
) -> list[tuple[np.ndarray[Any, np.dtype[np.float32]], dict[str, float], HeadPose]]:
    """One face per person: in VIDEO mode a face that jumps (a cut, a fast move) can be
    reported twice for a frame, once from its tracked region and once newly detected."""
    kept: list[tuple[np.ndarray[Any, np.dtype[np.float32]], dict[str, float], HeadPose]] = []
    for item in raw:
        box = bounding_box(item[0])
        if all(iou(box, bounding_box(other[0])) < 0.5 for other in kept):
            kept.append(item)
    return kept


def build(settings: Settings) -> MediaPipeFaceTracker:
    """Registry factory for the ``face`` role."""
    from app.core.registry import RoleUnavailable
    from app.models.manager import ModelManager

    try:
        import mediapipe  # noqa: F401
    except ImportError:
        raise RoleUnavailable(
            "mediapipe is not installed; pip install 'mediapipe==1.2.2'"
        ) from None
    try:
        return MediaPipeFaceTracker.from_models(ModelManager(settings))
    except Exception as exc:
        raise RoleUnavailable(
            f"the face landmarker model is not available ({exc}); "
            f"run `dhuman models pull {MODEL_ID}`"
        ) from None
