"""Head pose from transformation matrices, iris offsets and attention thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vision.geometry import (
    AttentionThresholds,
    HeadPose,
    attention,
    bounding_box,
    eye_rotation,
    head_pose,
    iris_offset,
)


def rotation(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """A face pose in MediaPipe's camera space (x right, y up, z toward the viewer):
    yaw turns the face's forward axis toward +x, pitch toward +y, roll dips its x axis."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    turn = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    lift = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    tilt = np.array([[math.cos(r), math.sin(r), 0], [-math.sin(r), math.cos(r), 0], [0, 0, 1]])
    matrix = np.eye(4)
    matrix[:3, :3] = turn @ lift @ tilt
    matrix[:3, 3] = (0, 0, -60)
    return matrix


@pytest.mark.parametrize(
    "pose",
    [(0, 0, 0), (30, 0, 0), (-30, 0, 0), (0, 20, 0), (0, -20, 0), (0, 0, 15), (20, -10, 5)],
)
def test_head_pose_round_trips(pose: tuple[float, float, float]) -> None:
    got = head_pose(rotation(*pose))
    assert got.as_tuple() == pytest.approx(pose, abs=0.5)


def test_head_pose_signs_follow_the_rig_convention() -> None:
    # forward axis pointing to +x (image right = the user's own left): yaw > 0
    assert head_pose(rotation(yaw=25)).yaw > 20
    # forward axis pointing up: chin up, pitch > 0
    assert head_pose(rotation(pitch=15)).pitch > 10
    # the face's x axis (toward the user's left) dipping: tilt to their left, roll > 0
    assert head_pose(rotation(roll=10)).roll > 5


def mesh_with_irises(shift: float) -> np.ndarray:
    points = np.zeros((478, 3), np.float32)
    for a, b, iris, cx in ((33, 133, 468, 0.4), (362, 263, 473, 0.6)):
        points[a] = (cx - 0.05, 0.5, 0)
        points[b] = (cx + 0.05, 0.5, 0)
        points[iris] = (cx + shift * 0.1, 0.5, 0)
    points[0] = (0.3, 0.3, 0)
    points[1] = (0.7, 0.8, 0)
    return points


def test_iris_offset_and_eye_rotation() -> None:
    assert iris_offset(mesh_with_irises(0.0), 1.0) == pytest.approx((0.0, 0.0), abs=1e-6)
    right = iris_offset(mesh_with_irises(0.2), 1.0)
    assert right[0] == pytest.approx(0.2, abs=1e-5)
    yaw, pitch = eye_rotation(right)
    assert yaw == pytest.approx(math.degrees(math.asin(0.5)), abs=0.1) and pitch == 0
    assert iris_offset(np.zeros((468, 3), np.float32), 1.0) == (0.0, 0.0)  # no irises


def test_bounding_box() -> None:
    assert bounding_box(mesh_with_irises(0)) == pytest.approx((0.0, 0.0, 0.7, 0.8))


def test_attention_combines_head_and_eyes() -> None:
    limits = AttentionThresholds(max_yaw=25, max_pitch=20)
    score, looking = attention(HeadPose(0, 0, 0), (0.0, 0.0), 0.0, limits)
    assert looking and score == 1.0
    assert not attention(HeadPose(40, 0, 0), (0.0, 0.0), 0.0, limits)[1]
    assert not attention(HeadPose(0, -30, 0), (0.0, 0.0), 0.0, limits)[1]
    # head turned 30 degrees to one side, eyes turned back toward the screen
    eyes_back = (-0.4 * math.sin(math.radians(35)), 0.0)
    assert attention(HeadPose(30, 0, 0), eyes_back, 0.0, limits)[1]
    # ...but closed eyes give no gaze: the head alone decides
    assert not attention(HeadPose(30, 0, 0), eyes_back, 0.9, limits)[1]
    # a camera above the screen: people look slightly down at the screen
    above = AttentionThresholds(max_pitch=10, pitch_offset=-15)
    assert attention(HeadPose(0, -15, 0), (0.0, 0.0), 0.0, above)[1]
    assert not attention(HeadPose(0, 0, 0), (0.0, 0.0), 0.0, above)[1]
