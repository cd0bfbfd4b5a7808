"""Face geometry from MediaPipe's outputs: head pose, eye gaze, box, attention. numpy only.

Conventions: the user's own head, as the rig (``avatar.mirror``) takes it:
* yaw > 0: the user turns to their own left (toward the right edge of the unmirrored image);
* pitch > 0: the chin lifts;
* roll > 0: the head tilts toward the user's own left shoulder (clockwise in the image).
All angles in degrees; 0, 0, 0 is a face looking straight into the camera.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Points = npt.NDArray[np.float32]  # (N, 3): x, y as fractions of the image, z relative

# MediaPipe face mesh indices: eye corners and iris centres (subject's right eye first,
# which lies on the image's left in an unmirrored frame)
_EYES = ((33, 133, 468), (362, 263, 473))
# eyeball radius / eye opening width (~12 mm / ~30 mm): an iris displaced by this share of
# the eye's width has turned by 90 degrees
_IRIS_LEVER = 0.4


@dataclass(frozen=True, slots=True)
class HeadPose:
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.yaw, self.pitch, self.roll)


def head_pose(matrix: npt.NDArray[np.float64] | npt.NDArray[np.float32]) -> HeadPose:
    """Yaw/pitch/roll from MediaPipe's facial transformation matrix (4x4, canonical face ->
    camera space; camera space is OpenGL-like: x right, y up, z toward the viewer)."""
    rotation = np.asarray(matrix, dtype=np.float64)[:3, :3]
    # columns: the face's own x (toward the user's left), up and forward axes in camera space
    forward = rotation[:, 2]
    face_x = rotation[:, 0]
    yaw = math.degrees(math.atan2(forward[0], forward[2]))
    pitch = math.degrees(math.atan2(forward[1], math.hypot(forward[0], forward[2])))
    # the face's x axis points to the user's left; it dips when they tilt that way
    roll = math.degrees(math.atan2(-face_x[1], face_x[0]))
    return HeadPose(yaw, pitch, roll)


def bounding_box(points: Points) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 as fractions of the image (may reach past 0..1 at the edges)."""
    x0, y0 = points[:, 0].min(), points[:, 1].min()
    x1, y1 = points[:, 0].max(), points[:, 1].max()
    return (float(x0), float(y0), float(x1), float(y1))


def iris_offset(points: Points, aspect: float) -> tuple[float, float]:
    """Where the irises sit in the eyes, as a share of the eye's width: (0, 0) is centred,
    x > 0 toward the image's right, y > 0 downward. ``aspect`` is width / height of the
    frame (landmarks are fractions of each side). Needs the 478-point mesh with irises."""
    if len(points) < 478:
        return (0.0, 0.0)
    xy = points[:, :2].astype(np.float64) * np.array([aspect, 1.0])
    offsets = []
    for corner_a, corner_b, iris in _EYES:
        a, b, centre = xy[corner_a], xy[corner_b], xy[iris]
        axis = b - a
        width = float(np.hypot(*axis))
        if width < 1e-6:
            continue
        unit = axis / width
        normal = np.array([-unit[1], unit[0]])  # image-down when the eye is level
        rel = centre - (a + b) / 2
        offsets.append((float(rel @ unit) / width, float(rel @ normal) / width))
    if not offsets:
        return (0.0, 0.0)
    mean = np.mean(np.array(offsets), axis=0)
    return (float(mean[0]), float(mean[1]))


def eye_rotation(offset: tuple[float, float]) -> tuple[float, float]:
    """Iris offset -> eye-in-head rotation (yaw, pitch) in degrees, same signs as the pose."""
    yaw = math.degrees(math.asin(max(-1.0, min(1.0, offset[0] / _IRIS_LEVER))))
    pitch = -math.degrees(math.asin(max(-1.0, min(1.0, offset[1] / _IRIS_LEVER))))
    return yaw, pitch


@dataclass(frozen=True, slots=True)
class AttentionThresholds:
    """When a face counts as looking at the screen. ``pitch_offset`` is where the screen
    is seen from the camera: negative when the camera sits above the screen (people look
    slightly down at it)."""

    max_yaw: float = 25.0
    max_pitch: float = 20.0
    pitch_offset: float = 0.0
    # the eyes count at this share of their rotation: iris landmarks are noisy
    eye_weight: float = 0.7
    # eyes this closed (blendshape eyeBlink) give no gaze: trust the head alone
    closed_eyes: float = 0.55


def attention(
    pose: HeadPose,
    offset: tuple[float, float],
    eyes_closed: float,
    thresholds: AttentionThresholds,
) -> tuple[float, bool]:
    """A score in [0, 1] (1 = gaze straight at the screen) and whether it is within the
    thresholds: head pose plus the eyes' rotation in the head."""
    eye_yaw, eye_pitch = eye_rotation(offset) if eyes_closed < thresholds.closed_eyes else (0, 0)
    gaze_yaw = pose.yaw + thresholds.eye_weight * eye_yaw
    gaze_pitch = pose.pitch + thresholds.eye_weight * eye_pitch - thresholds.pitch_offset
    distance = math.hypot(gaze_yaw / thresholds.max_yaw, gaze_pitch / thresholds.max_pitch)
    return max(0.0, min(1.0, 1.0 - 0.5 * distance)), distance <= 1.0
