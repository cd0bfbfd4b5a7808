"""The perception pipeline with a fake camera and a scripted tracker: events, presence,
camera loss, rate limits, the privacy indicator and the off switch."""

from __future__ import annotations

import dataclasses
import itertools
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.config.settings import Settings
from app.core.events import Event, Notice, Priority
from app.core.registry import RoleUnavailable
from app.core.types import VideoFrame
from tests.support.events import EventLog
from vision import events as vev
from vision.camera import Camera, CameraConfig, StatusCallback
from vision.faces import TrackedFace, TrackResult
from vision.geometry import HeadPose
from vision.perception import Perception, PerceptionConfig, build
from vision.presence import PresenceTracker
from vision.sources import CameraError, SourceSpec

SMILE = {"mouthSmileLeft": 0.9, "mouthSmileRight": 0.9}


class Scene:
    """What the fake camera films: plugged in or not, a face or not, smiling or not."""

    def __init__(self) -> None:
        self.plugged = threading.Event()
        self.plugged.set()
        self.face = threading.Event()
        self.smiling = threading.Event()


class SceneCapture:
    def __init__(self, scene: Scene):
        self.scene = scene

    @property
    def fps(self) -> float:
        return 0.0

    def read(self) -> np.ndarray | None:
        time.sleep(1 / 60)
        if not self.scene.plugged.is_set():
            return None
        frame = np.zeros((48, 64, 3), np.uint8)
        frame[0, 0] = 255 if self.scene.face.is_set() else 0
        frame[0, 1] = 255 if self.scene.smiling.is_set() else 0
        return frame

    def rewind(self) -> bool:
        return False

    def release(self) -> None:
        pass


def scene_camera(scene: Scene) -> Callable[[CameraConfig, StatusCallback], Camera]:
    def opener(spec: SourceSpec) -> SceneCapture:
        if not scene.plugged.is_set():
            raise CameraError("unplugged")
        return SceneCapture(scene)

    def make(config: CameraConfig, on_status: StatusCallback) -> Camera:
        cfg = dataclasses.replace(config, retry_initial_s=0.02, retry_max_s=0.05)
        return Camera(cfg, on_status, opener=opener)

    return make


class ScriptedTracker:
    """Reads the scene's flags off the frame; real presence hysteresis, short times."""

    def __init__(self) -> None:
        self.presence = PresenceTracker(arrive_s=0.1, leave_s=0.3)
        self.closed = False

    def _result(self, ts: float, face: bool, smiling: bool) -> TrackResult:
        change = self.presence.update(face, ts)
        main = None
        if face:
            main = TrackedFace(
                track_id=1,
                landmarks=np.zeros((478, 3), np.float32),
                blendshapes=dict(SMILE) if smiling else {"mouthSmileLeft": 0.0},
                head_pose=HeadPose(5.0, -3.0, 1.0),
                box=(0.4, 0.3, 0.6, 0.7),
                gaze=(0.0, 0.0),
                attention=0.9,
                attentive=True,
            )
        return TrackResult(
            ts=ts,
            frame_size=(64, 48),
            faces=(main,) if main else (),
            main=main,
            presence=self.presence.state,
            changes=(change.kind,) if change else (),
        )

    def track(self, frame: VideoFrame) -> TrackResult:
        return self._result(frame.ts, frame.pixels[0, 0, 0] > 0, frame.pixels[0, 1, 0] > 0)

    def idle(self, ts: float) -> TrackResult:
        return self._result(ts, False, False)

    def reset(self) -> None:
        self.presence.reset()

    def close(self) -> None:
        self.closed = True


class HappyCNN:
    def classify(self, rgb: Any, landmarks: Any) -> dict[str, float]:
        return {"happy": 0.8, "neutral": 0.2}


Log = EventLog


def perception(scene: Scene, affect: bool = False, **config: Any) -> Perception:
    cfg = PerceptionConfig(camera=CameraConfig(source="0"), affect_enabled=affect, **config)
    return Perception(
        cfg,
        make_tracker=ScriptedTracker,
        make_expressions=HappyCNN,
        make_camera=scene_camera(scene),
    )


def statuses(log: Log) -> list[str]:
    return [e.status for e in log.of(vev.CameraStatusChanged)]


def test_presence_and_per_frame_events() -> None:
    scene, log = Scene(), Log()
    p = perception(scene)
    p.start(log)
    try:
        assert p.indicator.camera_on and not p.indicator.affect_on
        scene.face.set()
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 1)
        log.wait(lambda: len(log.of(vev.UserObserved)) >= 5)
        scene.face.clear()
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 2)
    finally:
        p.stop()
    arrived, left = log.of(vev.PresenceChanged)
    assert (arrived.change, arrived.present, arrived.user_id) == ("arrived", True, 1)
    assert (left.change, left.present) == ("left", False)
    seen = log.of(vev.UserObserved)[-1]
    assert seen.position == pytest.approx((0.5, 0.5)) and seen.size == pytest.approx(0.4)
    assert seen.head_pose == (5.0, -3.0, 1.0) and seen.attentive
    assert seen.weights() == {"mouthSmileLeft": 0.0}
    assert seen.frame_ts <= seen.ts
    assert not log.of(vev.AffectUpdated)  # affect is off
    assert statuses(log) == ["live", "stopped"]
    indicators = log.of(vev.IndicatorChanged)
    assert [i.camera_on for i in indicators] == [True, False]
    assert not p.running and not p.indicator.camera_on


def test_affect_events_are_rate_limited_and_follow_the_label() -> None:
    scene, log = Scene(), Log()
    p = perception(scene, affect=True, affect_hz=4.0)
    scene.face.set()
    p.start(log)
    try:
        assert p.indicator.affect_on
        time.sleep(2.6)  # learn the resting face
        scene.smiling.set()
        log.wait(lambda: any(e.affect.label == "happy" for e in log.of(vev.AffectUpdated)))
        time.sleep(0.5)
    finally:
        p.stop()
    updates = log.of(vev.AffectUpdated)
    frames = log.of(vev.UserObserved)
    assert len(frames) > 2 * len(updates)  # fewer affect events than frames
    gaps = [b.frame_ts - a.frame_ts for a, b in itertools.pairwise(updates)]
    label_changes = sum(a.affect.label != b.affect.label for a, b in itertools.pairwise(updates))
    assert sum(g < 0.2 for g in gaps) <= label_changes
    assert any("expression CNN: happy" in " ".join(u.affect.evidence) for u in updates)


def test_camera_loss_is_reported_and_survived() -> None:
    scene, log = Scene(), Log()
    p = perception(scene)
    scene.face.set()
    p.start(log)
    try:
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 1)
        scene.plugged.clear()
        log.wait(lambda: "lost" in statuses(log))
        # nobody can be seen any more: the user leaves after the hysteresis
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 2)
        assert p.running
        time.sleep(0.2)
        scene.plugged.set()
        log.wait(lambda: "recovered" in statuses(log))
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 3)  # back again
    finally:
        p.stop()
    assert statuses(log) == ["live", "lost", "recovered", "stopped"]
    assert [e.change for e in log.of(vev.PresenceChanged)] == ["arrived", "left", "arrived"]


def test_a_broken_listener_does_not_stop_perception() -> None:
    scene, calls = Scene(), []

    def bad(event: Event) -> None:
        calls.append(event)
        raise RuntimeError("listener bug")

    p = perception(scene)
    scene.face.set()
    p.start(bad)
    time.sleep(0.6)
    assert p.running
    p.stop()
    assert sum(isinstance(e, vev.UserObserved) for e in calls) > 5


def test_affect_can_be_switched_on_and_off_mid_session() -> None:
    scene, log = Scene(), Log()
    p = perception(scene)
    scene.face.set()
    p.start(log)
    try:
        time.sleep(0.3)
        assert not log.of(vev.AffectUpdated)
        p.set_affect_enabled(True)
        log.wait(lambda: len(log.of(vev.AffectUpdated)) >= 1)
        p.set_affect_enabled(False)
        count = len(log.of(vev.AffectUpdated))
        time.sleep(0.4)
        assert len(log.of(vev.AffectUpdated)) <= count + 1
    finally:
        p.stop()
    flags = [(i.camera_on, i.affect_on) for i in log.of(vev.IndicatorChanged)]
    assert flags == [(True, False), (True, True), (True, False), (False, False)]


def test_prosody_reaches_the_affect_evidence() -> None:
    scene, log = Scene(), Log()
    p = perception(scene, affect=True)
    scene.face.set()
    p.start(log)
    try:
        p.set_prosody({"speech_rate": 3.0, "energy": 0.05})
        time.sleep(0.2)
        p.set_prosody({"speech_rate": 5.0, "energy": 0.3})
        log.wait(
            lambda: any("voice:" in " ".join(u.affect.evidence) for u in log.of(vev.AffectUpdated))
        )
    finally:
        p.stop()


def test_off_unless_enabled_in_the_settings() -> None:
    settings = Settings()
    assert not settings.camera.enabled
    p = build(settings)
    log = Log()
    p.start(log)
    assert not p.running and p.indicator == type(p.indicator)(False, False, "")
    assert [type(e) for e in log.events] == [vev.IndicatorChanged]
    p.stop()
    settings.camera.enabled = True
    settings.camera.source = " "
    with pytest.raises(RoleUnavailable, match="empty"):
        build(settings)


def test_a_missing_expression_model_degrades_to_face_movements() -> None:
    scene, log = Scene(), Log()

    def broken() -> HappyCNN:
        raise FileNotFoundError("fer-emotion")

    cfg = PerceptionConfig(camera=CameraConfig(source="0"), affect_enabled=True)
    p = Perception(cfg, make_tracker=ScriptedTracker, make_expressions=broken,
                   make_camera=scene_camera(scene))  # fmt: skip
    scene.face.set()
    p.start(log)
    try:
        log.wait(lambda: len(log.of(vev.AffectUpdated)) >= 2)
    finally:
        p.stop()
    assert any("face movements only" in n.message for n in log.of(Notice))


def test_events_are_frozen_typed_and_prioritised() -> None:
    for kind in (vev.CameraStatusChanged, vev.PresenceChanged, vev.MainUserChanged,
                 vev.IndicatorChanged):  # fmt: skip
        assert kind.priority is Priority.CONTROL
    for data_kind in (vev.UserObserved, vev.AffectUpdated):
        assert data_kind.priority is Priority.DATA
    event = vev.PresenceChanged(change="arrived", present=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.change = "left"  # type: ignore[misc]


def test_the_vision_package_writes_nothing_and_never_imports_qt() -> None:
    """Privacy by construction: no image or file writing anywhere in vision/."""
    root = Path(__file__).resolve().parents[2] / "vision"
    forbidden = re.compile(r"imwrite|VideoWriter|\.save\(|open\([^)]*['\"][wa]|write_bytes|PySide6")
    offenders = [
        f"{path.name}: {line.strip()}"
        for path in root.glob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if forbidden.search(line)
    ]
    assert offenders == []


def test_the_engines_are_imported_only_when_used() -> None:
    """The core starts without OpenCV, MediaPipe or LiteRT installed."""
    import subprocess
    import sys

    code = (
        "import sys, vision.perception, vision.face_tracker, vision.expression_cnn, "
        "vision.affect, vision.camera, vision.events, app.cli.look_cmd\n"
        "print([m for m in ('cv2', 'mediapipe', 'ai_edge_litert', 'PySide6') "
        "if m in sys.modules])"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_failing_tracker_turns_the_camera_off_and_says_so() -> None:
    class Broken(ScriptedTracker):
        def track(self, frame: VideoFrame) -> TrackResult:
            raise RuntimeError("graph error")

    scene, log = Scene(), Log()
    cfg = PerceptionConfig(camera=CameraConfig(source="0"))
    p = Perception(cfg, make_tracker=Broken, make_camera=scene_camera(scene))
    p.start(log)
    log.wait(lambda: bool(log.of(Notice)))
    assert p.wait(timeout=3)
    assert not p.indicator.camera_on
    assert "graph error" in log.of(Notice)[0].message
    p.stop()
    assert "stopped" in statuses(log)  # the camera was released
