"""Vision with the real models on real face photos made into videos (no camera needed).

Faces: ``skimage.data.astronaut()`` (a broad smile), Grace Hopper from matplotlib's sample
data (closed mouth, barely smiling), a synthetically neutralised astronaut, and skimage's
LFW subset (100 faces / 100 non-faces). See tests/support/face_videos.py for what each
edit does and does not change. Figures are printed (``pytest -s``) for docs/vision.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.config.settings import Settings
from app.core.types import VideoFrame
from tests.support import face_videos as fv
from tests.support.events import EventLog

pytestmark = pytest.mark.slow

cv2 = pytest.importorskip("cv2")
pytest.importorskip("mediapipe")
REPO = Path(__file__).resolve().parents[2]
FPS = fv.FPS


@pytest.fixture(scope="module")
def models() -> Any:
    from app.models.manager import ModelManager

    manager = ModelManager(Settings())
    try:
        manager.file("face-landmarker")
    except Exception as exc:
        pytest.skip(f"face landmarker not available: {exc}")
    return manager


@pytest.fixture(scope="module")
def astronaut() -> tuple[np.ndarray, np.ndarray]:
    image = fv.astronaut()
    return image, fv.landmarks(image)


@pytest.fixture(scope="module")
def hopper() -> tuple[np.ndarray, np.ndarray]:
    image = fv.grace_hopper()
    if image is None:
        pytest.skip("matplotlib's sample photo is not installed")
    return image, fv.landmarks(image)


def scene(
    face: tuple[np.ndarray, np.ndarray],
    center: tuple[float, float] = (0.5, 0.42),
    height: float = 0.45,
) -> fv.Placement:
    image, marks = face
    return fv.Placement(image, fv.face_box(marks), center, height)


def report(text: str) -> None:
    """Figures for docs/vision.md (shown with ``pytest -s``)."""
    print(text)  # noqa: T201


def tracker(models: Any, **config: Any) -> Any:
    from vision.face_tracker import MediaPipeFaceTracker, TrackerConfig

    return MediaPipeFaceTracker.from_models(models, TrackerConfig(**config))


class Log(EventLog):
    """Real models start slowly: a longer default wait."""

    def wait(self, test: Callable[[], bool], timeout: float = 20.0) -> None:
        super().wait(test, timeout)


def run_affect(models: Any, frames: list[np.ndarray]) -> Iterator[tuple[float, Any, Any]]:
    """Tracker + CNN + fusion over every frame, with frame timestamps k / FPS."""
    from vision.affect import AffectFusion
    from vision.expression_cnn import ExpressionCNN

    track, cnn, fusion = tracker(models), ExpressionCNN.from_models(models), AffectFusion()
    try:
        for k, rgb in enumerate(frames):
            ts = k / FPS
            result = track.track(VideoFrame(pixels=rgb, ts=ts))
            main = result.main
            if main is None:
                yield ts, result, fusion.update(ts)
                continue
            probs = cnn.classify(rgb, main.landmarks)
            quality = main.frontal * min(1.0, main.size / 0.15)
            yield ts, result, fusion.update(ts, main.blendshapes, probs, quality=quality)
    finally:
        track.close()


# ------------------------------------------------------------------------ presence
def test_presence_arrives_and_leaves_in_a_video(
    tmp_path: Path, models: Any, astronaut: Any
) -> None:
    from vision import events as vev
    from vision.camera import CameraConfig
    from vision.perception import create

    face = fv.compose([scene(astronaut)])
    frames = [fv.background()] * 30 + fv.sway(face, 60) + [fv.background()] * 75
    path = fv.write_video(tmp_path / "visit.mp4", frames)
    log = Log()
    perception = create(
        CameraConfig(source=str(path), stop_at_end=True), affect_enabled=False, models=models
    )
    perception.start(log)
    try:
        assert perception.wait(timeout=30)
    finally:
        perception.stop()
    changes = log.of(vev.PresenceChanged)
    assert [c.change for c in changes] == ["arrived", "left"]
    seen = log.of(vev.UserObserved)
    first, last = seen[0], seen[-1]
    # found as soon as it appears (a busy machine may skip a few frames: the newest wins)
    assert 30 <= first.frame_index <= 37
    assert 82 <= last.frame_index <= 89  # and nothing is seen in the empty room
    arrived, left = changes
    report(
        f"\narrival after {arrived.ts - first.frame_ts:.2f} s, leave after "
        f"{left.ts - last.frame_ts:.2f} s of absence"
    )
    assert 0.25 <= arrived.ts - first.frame_ts <= 0.8
    assert 1.4 <= left.ts - last.frame_ts <= 2.5
    assert arrived.user_id == first.user_id
    assert [e.status for e in log.of(vev.CameraStatusChanged)][:2] == ["live", "ended"]


# ------------------------------------------------------------------- main user
def test_the_main_user_is_the_nearest_face_and_does_not_flip(
    models: Any, astronaut: Any, hopper: Any
) -> None:
    def two(a_height: float, h_height: float) -> np.ndarray:
        return fv.compose(
            [scene(astronaut, (0.28, 0.45), a_height), scene(hopper, (0.72, 0.45), h_height)]
        )

    near_astronaut = fv.sway(two(0.42, 0.28), 45)
    similar = [two(0.36, 0.38) if k % 10 < 5 else two(0.38, 0.36) for k in range(60)]
    near_hopper = fv.sway(two(0.28, 0.46), 60)
    track = tracker(models)
    picks, switches = [], []
    try:
        for k, rgb in enumerate(near_astronaut + similar + near_hopper):
            result = track.track(VideoFrame(pixels=rgb, ts=k / FPS))
            assert len(result.faces) == 2, k
            left = min(result.faces, key=lambda f: f.center[0]).track_id
            picks.append("astronaut" if result.main.track_id == left else "hopper")
            if "main-changed" in result.changes:
                switches.append(k)
    finally:
        track.close()
    assert set(picks[5:45]) == {"astronaut"}
    assert set(picks[45:105]) == {"astronaut"}  # similar sizes: the first stays (sticky)
    assert picks[-1] == "hopper" and len(switches) == 1
    delay = (switches[0] - 105) / FPS
    report(f"\nmain user switched {delay:.2f} s after the other person came nearer")
    assert 0.7 <= delay <= 1.2


# ---------------------------------------------------------------------- attention
def test_attention_frontal_versus_turned_away(models: Any, astronaut: Any) -> None:
    image, marks = astronaut
    turned = fv.turn_face(image, marks, 30, depth_gain=3.0)
    track = tracker(models)
    try:
        front = track.track(VideoFrame(pixels=image, ts=0.0)).faces[0]
        track.reset()
        away = track.track(VideoFrame(pixels=turned, ts=10.0)).faces[0]
    finally:
        track.close()
    report(
        f"\nfrontal: pose {front.head_pose}, attention {front.attention:.2f}; "
        f"turned: pose {away.head_pose}, attention {away.attention:.2f}"
    )
    assert front.attentive and front.attention > 0.6
    assert abs(front.head_pose.yaw) < 5
    assert away.head_pose.yaw > 20  # turned toward the image's right: positive yaw
    assert not away.attentive


# ------------------------------------------------------------------------- affect
def mean_valence(models: Any, still: np.ndarray, seconds: float = 3.0) -> tuple[float, str]:
    runs = list(run_affect(models, fv.sway(still, round(seconds * FPS))))
    last = [affect for ts, _, affect in runs if ts >= seconds - 1.0]
    return float(np.mean([a.valence for a in last])), last[-1].label


def test_a_smile_raises_valence(models: Any, astronaut: Any, hopper: Any) -> None:
    image, marks = astronaut
    neutralised = (fv.neutralise_smile(image, marks), marks)
    smiling, smiling_label = mean_valence(models, fv.compose([scene(astronaut)]))
    plain, plain_label = mean_valence(models, fv.compose([scene(hopper)]))
    edited, edited_label = mean_valence(models, fv.compose([scene(neutralised)]))
    report(
        f"\nvalence: astronaut (smile) {smiling:+.2f} {smiling_label}; "
        f"Grace Hopper (closed mouth) {plain:+.2f} {plain_label}; "
        f"astronaut neutralised {edited:+.2f} {edited_label}"
    )
    assert smiling > 0.4 and smiling_label == "happy"
    assert smiling > plain + 0.3 and plain_label == "neutral"
    assert smiling > edited + 0.2


def test_neutral_to_smile_moves_the_label_within_300_ms(models: Any, astronaut: Any) -> None:
    image, marks = astronaut
    neutral = fv.compose([scene((fv.neutralise_smile(image, marks), marks))])
    smile = fv.compose([scene(astronaut)])
    onset = 90
    frames = fv.sway(neutral, onset) + fv.sway(smile, 45)
    runs = list(run_affect(models, frames))
    before = {affect.label for ts, _, affect in runs[60:onset]}
    flip = next(ts for ts, _, affect in runs[onset:] if affect.label == "happy")
    lag = flip - onset / FPS
    report(f"\nlabel before the smile: {before}; 'happy' {lag * 1000:.0f} ms after the onset")
    assert before == {"neutral"}
    assert lag <= 0.3


def test_the_pipeline_follows_a_smile_in_frame_time(
    tmp_path: Path, models: Any, astronaut: Any
) -> None:
    """The same clip through camera -> tracker -> affect in real time: the lag is measured
    on the file's own frame numbers (media time), whatever the machine's load."""
    from vision import events as vev
    from vision.camera import CameraConfig
    from vision.perception import create

    image, marks = astronaut
    neutral = fv.compose([scene((fv.neutralise_smile(image, marks), marks))])
    onset = 90
    frames = fv.sway(neutral, onset) + fv.sway(fv.compose([scene(astronaut)]), 45)
    path = fv.write_video(tmp_path / "smile.avi", frames)
    log = Log()
    perception = create(
        CameraConfig(source=str(path), stop_at_end=True), affect_enabled=True, models=models
    )
    perception.start(log)
    try:
        assert perception.wait(timeout=30)
    finally:
        perception.stop()
    updates = log.of(vev.AffectUpdated)
    flip = next(u for u in updates if u.frame_index >= onset and u.affect.label == "happy")
    lag = (flip.frame_index - onset) / FPS
    seen = log.of(vev.UserObserved)
    processed = sum(1 for s in seen if s.frame_index >= onset)
    latency = sorted(u.ts - u.frame_ts for u in updates)
    report(
        f"\npipeline: 'happy' {lag * 1000:.0f} ms of media time after the onset; "
        f"{processed}/45 smile frames processed; capture->affect event "
        f"p50 {1000 * latency[len(latency) // 2]:.0f} ms"
    )
    assert all(u.affect.label == "neutral" for u in updates if 60 <= u.frame_index < onset)
    assert lag <= 0.3


# ----------------------------------------------------------- camera lost / recovered
def test_a_file_that_ends_is_lost_and_recovers(tmp_path: Path, models: Any, astronaut: Any) -> None:
    from vision import events as vev
    from vision.camera import CameraConfig
    from vision.perception import create

    path = fv.write_video(tmp_path / "short.mp4", fv.sway(fv.compose([scene(astronaut)]), 20))
    log = Log()
    camera = CameraConfig(source=str(path), retry_initial_s=0.3)
    perception = create(camera, affect_enabled=False, models=models)
    perception.start(log)
    try:
        log.wait(lambda: "recovered" in [e.status for e in log.of(vev.CameraStatusChanged)])
        count = len(log.of(vev.UserObserved))
        log.wait(lambda: len(log.of(vev.UserObserved)) > count + 5)  # frames flow again
        assert perception.running
    finally:
        perception.stop()
    statuses = [e.status for e in log.of(vev.CameraStatusChanged)]
    assert statuses[:3] == ["live", "lost", "recovered"]


def test_a_stream_that_stops_is_lost_and_recovers_when_it_returns(
    models: Any, astronaut: Any
) -> None:
    from tests.support.mjpeg_server import MjpegServer
    from vision import events as vev
    from vision.camera import CameraConfig
    from vision.perception import create

    def statuses() -> list[str]:
        return [e.status for e in log.of(vev.CameraStatusChanged)]

    server = MjpegServer(fv.sway(fv.compose([scene(astronaut)]), 30)).start()
    log = Log()
    camera = CameraConfig(source=server.url, retry_initial_s=0.2, retry_max_s=1.0)
    perception = create(camera, affect_enabled=True, models=models)
    perception.start(log)
    try:
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 1)
        server.stop()  # the network camera goes away
        log.wait(lambda: "lost" in statuses())
        lost_at = time.monotonic()
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 2)  # nobody seen: left
        assert perception.running
        server.start()  # same port: the camera is back
        log.wait(lambda: "recovered" in statuses())
        recovered_at = time.monotonic()
        log.wait(lambda: len(log.of(vev.PresenceChanged)) == 3)
    finally:
        perception.stop()
        server.stop()
    report(f"\nstream down for {recovered_at - lost_at:.1f} s; statuses {statuses()}")
    assert statuses() == ["live", "lost", "recovered", "stopped"]
    assert [e.change for e in log.of(vev.PresenceChanged)] == ["arrived", "left", "arrived"]


# --------------------------------------------------------------- labelled photos
def test_face_presence_on_labelled_lfw_images(models: Any) -> None:
    """skimage's LFW subset: 100 faces and 100 non-faces (labels from the dataset)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    faces, others = fv.lfw_subset()
    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(models.file("face-landmarker"))),
        running_mode=vision.RunningMode.IMAGE,
        num_faces=1,
    )
    with vision.FaceLandmarker.create_from_options(options) as landmarker:

        def found(rgb: np.ndarray) -> bool:
            image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
            return bool(landmarker.detect(image).face_landmarks)

        hits = sum(found(f) for f in faces)
        false_alarms = sum(found(o) for o in others)
    report(f"\nLFW subset: {hits}/100 faces found, {false_alarms}/100 non-faces taken for faces")
    assert hits >= 95 and false_alarms <= 2


# ----------------------------------------------------------------------- the CLI
def test_look_prints_presence_attention_and_affect(tmp_path: Path, astronaut: Any) -> None:
    frames = [fv.background()] * 10 + fv.sway(fv.compose([scene(astronaut)]), 50)
    path = fv.write_video(tmp_path / "look.mp4", frames)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHUMAN_")}
    env |= {"DHUMAN_CONFIG_DIR": str(tmp_path / "cfg"), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "look", str(path), "--every", "0.3"],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "-- camera live" in out and "-- arrived: user #1" in out
    assert "looking at the screen" in out and "mouthSmile" in out and "affect: happy?" in out
    assert "-- camera ended" in out and "frames in" in out


# ------------------------------------------------------------------ cv2 and Qt 6
_QT_CHILD = r"""
import json, os, sys
qt_vars = lambda: {k: v for k, v in os.environ.items() if k.startswith("QT_")}
before = qt_vars()
import cv2, mediapipe
after_cv2 = qt_vars()
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel("cv2 " + cv2.__version__ + " then Qt")
label.resize(240, 60)
label.show()
for _ in range(20):
    app.processEvents()
image = label.grab().toImage()
print(json.dumps({
    "before": before, "after_cv2": after_cv2, "platform": app.platformName(),
    "visible": label.isVisible(), "exposed": label.windowHandle().isExposed(),
    "size": [image.width(), image.height()],
    "cv2_qt_dir": os.path.isdir(os.path.join(os.path.dirname(cv2.__file__), "qt")),
    "cv2_has_gui": "QT" in cv2.getBuildInformation().split("GUI:")[1].split("\n")[0].upper(),
}))
"""


@pytest.mark.gui
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (Xvfb)")
def test_importing_cv2_first_still_gives_a_working_qt6_window() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    result = subprocess.run(
        [sys.executable, "-c", _QT_CHILD], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["after_cv2"] == report["before"] == {}  # no QT_* variable rewritten
    assert report["platform"] == "xcb"
    assert report["visible"] and report["exposed"]
    assert report["size"] == [240, 60]
    assert not report["cv2_qt_dir"] and not report["cv2_has_gui"]  # headless OpenCV
