"""The camera reader: sources, pacing, newest-frame-wins, unplug/replug, clean stop.

Live sources are fakes that can be unplugged on cue; files are real tiny videos written
with OpenCV (no model involved)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from vision.camera import Camera, CameraConfig, CameraFrame, CameraStatus
from vision.sources import CameraError, SourceSpec, open_capture, parse_source

cv2 = pytest.importorskip("cv2")


class FakeCapture:
    """A live camera delivering a frame every ``period`` s while its ``plug`` is in."""

    def __init__(
        self, plug: threading.Event, period: float = 0.005, size: tuple[int, int] = (64, 48)
    ):
        self.plug = plug
        self.period = period
        self.size = size
        self.count = 0

    @property
    def fps(self) -> float:
        return 0.0

    def read(self) -> np.ndarray | None:
        time.sleep(self.period)
        if not self.plug.is_set():
            return None
        self.count += 1
        frame = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        frame[..., 0] = self.count % 256  # blue channel in BGR
        return frame

    def rewind(self) -> bool:
        return False

    def release(self) -> None:
        pass


class Statuses:
    def __init__(self) -> None:
        self.seen: list[CameraStatus] = []
        self.changed = threading.Condition()

    def __call__(self, status: CameraStatus, detail: str) -> None:
        with self.changed:
            self.seen.append(status)
            self.changed.notify_all()

    def wait_for(self, status: CameraStatus, timeout: float = 3.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: status in self.seen, timeout), self.seen


def fake_camera(plug: threading.Event, statuses: Statuses, **config: object) -> Camera:
    def opener(spec: SourceSpec) -> FakeCapture:
        if not plug.is_set():
            raise CameraError("no device")
        return FakeCapture(plug)

    cfg = CameraConfig(source="0", retry_initial_s=0.01, retry_max_s=0.05, **config)  # type: ignore[arg-type]
    return Camera(cfg, statuses, opener=opener)


def test_sources_are_told_apart() -> None:
    assert parse_source("0") == SourceSpec("device", 0)
    assert parse_source(2) == SourceSpec("device", 2)
    assert parse_source("http://127.0.0.1:8080/x.mjpg").kind == "url"
    assert parse_source("rtsp://cam/stream").kind == "url"
    assert parse_source("clip.mp4") == SourceSpec("file", "clip.mp4")
    with pytest.raises(CameraError):
        parse_source("  ")


def test_bad_sources_fail_with_a_message_for_a_person(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="no such video file"):
        open_capture(parse_source(str(tmp_path / "missing.mp4")), 640, 480, 30)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(CameraError, match="cannot decode"):
        open_capture(parse_source(str(junk)), 640, 480, 30)
    with pytest.raises(CameraError, match="cannot open camera device 57"):
        open_capture(parse_source("57"), 640, 480, 30)


def test_live_frames_are_rgb_and_the_newest_wins() -> None:
    plug, statuses = threading.Event(), Statuses()
    plug.set()
    camera = fake_camera(plug, statuses, fps=100.0)
    camera.start()
    try:
        first = camera.read(timeout=2)
        assert first is not None
        assert first.pixels.shape == (48, 64, 3)
        assert first.pixels[0, 0, 2] == first.pixels[0, 0].max()  # blue moved to the end
        time.sleep(0.2)  # a slow consumer: the camera went on without it
        later = camera.read(timeout=1)
        assert later is not None and later.index > first.index + 5
        assert later.ts > first.ts
        stats = camera.stats()
        assert stats.dropped >= 5 and stats.taken == 2
    finally:
        camera.stop()
    assert statuses.seen == [CameraStatus.LIVE, CameraStatus.STOPPED]


def test_publishing_is_capped_at_the_configured_rate() -> None:
    plug, statuses = threading.Event(), Statuses()
    plug.set()
    camera = fake_camera(plug, statuses, fps=20.0)  # the fake delivers ~200 frames/s
    camera.start()
    time.sleep(1.0)
    camera.stop()
    stats = camera.stats()
    assert stats.read > 60
    assert 14 <= stats.published <= 27


def test_unplug_reports_lost_once_and_recovers() -> None:
    plug, statuses = threading.Event(), Statuses()
    plug.set()
    camera = fake_camera(plug, statuses)
    camera.start()
    try:
        statuses.wait_for(CameraStatus.LIVE)
        plug.clear()
        statuses.wait_for(CameraStatus.LOST)
        time.sleep(0.3)  # several failed reopen attempts
        assert camera.read(timeout=0.05) is None or camera.read(timeout=0.05) is None
        plug.set()
        statuses.wait_for(CameraStatus.RECOVERED)
        assert camera.read(timeout=1) is not None
    finally:
        camera.stop()
    assert statuses.seen == [
        CameraStatus.LIVE,
        CameraStatus.LOST,
        CameraStatus.RECOVERED,
        CameraStatus.STOPPED,
    ]


def test_a_camera_absent_at_start_is_waited_for() -> None:
    plug, statuses = threading.Event(), Statuses()
    camera = fake_camera(plug, statuses)
    camera.start()
    try:
        statuses.wait_for(CameraStatus.UNAVAILABLE)
        time.sleep(0.2)
        plug.set()
        statuses.wait_for(CameraStatus.LIVE)
    finally:
        camera.stop()
    assert statuses.seen == [CameraStatus.UNAVAILABLE, CameraStatus.LIVE, CameraStatus.STOPPED]


def test_stop_is_prompt_and_final() -> None:
    plug, statuses = threading.Event(), Statuses()
    plug.set()
    camera = fake_camera(plug, statuses)
    camera.start()
    statuses.wait_for(CameraStatus.LIVE)
    started = time.monotonic()
    camera.stop()
    assert time.monotonic() - started < 1.0
    assert camera.finished
    assert camera.read(timeout=0.01) is None
    camera.stop()  # idempotent


def _video(path: Path, frames: int, fps: float = 30.0, size: tuple[int, int] = (160, 120)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, size)
    for k in range(frames):
        frame = np.full((size[1], size[0], 3), (k * 8) % 256, np.uint8)
        writer.write(frame)
    writer.release()
    return path


def test_a_file_is_paced_at_its_frame_rate_and_can_end(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.avi", 15, fps=30.0)
    statuses = Statuses()
    camera = Camera(CameraConfig(source=str(path), stop_at_end=True), statuses)
    started = time.monotonic()
    camera.start()
    indices = []
    while (frame := camera.read(timeout=2)) is not None:
        indices.append(frame.index)
    took = time.monotonic() - started
    assert camera.finished
    assert 0.4 <= took <= 2.0  # 15 frames at 30 fps: half a second, not a decode burst
    assert indices[0] == 0 and indices[-1] == 14
    assert statuses.seen == [CameraStatus.LIVE, CameraStatus.ENDED]


def test_a_file_that_ends_is_lost_then_comes_back(tmp_path: Path) -> None:
    path = _video(tmp_path / "clip.avi", 6, fps=30.0)
    statuses = Statuses()
    camera = Camera(CameraConfig(source=str(path), retry_initial_s=0.05), statuses)
    camera.start()
    try:
        statuses.wait_for(CameraStatus.RECOVERED)
    finally:
        camera.stop()
    assert statuses.seen[:3] == [CameraStatus.LIVE, CameraStatus.LOST, CameraStatus.RECOVERED]


def test_a_looping_file_plays_on_and_large_frames_are_scaled(tmp_path: Path) -> None:
    path = _video(tmp_path / "big.avi", 5, fps=60.0, size=(1280, 960))
    statuses = Statuses()
    camera = Camera(CameraConfig(source=str(path), loop=True, fps=60.0), statuses)
    camera.start()
    seen: list[CameraFrame] = []
    try:
        deadline = time.monotonic() + 3
        while len(seen) < 12 and time.monotonic() < deadline:
            frame = camera.read(timeout=1)
            if frame is not None:
                seen.append(frame)
    finally:
        camera.stop()
    assert len(seen) >= 12
    assert seen[0].pixels.shape == (480, 640, 3)
    assert any(b.index < a.index for a, b in itertools.pairwise(seen))  # wrapped
    assert CameraStatus.LOST not in statuses.seen
