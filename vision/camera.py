"""A camera reader thread: frames at a fixed rate, the newest one wins, unplugging survives.

The reader keeps pulling frames from the source at the source's pace (a webcam or stream
delivers them in real time; a file is paced at its own frame rate) and publishes at most
``fps`` of them into a one-frame slot. A consumer that is slower than the camera gets the
newest frame and the older ones are counted as dropped: latency never queues up.

When reads fail (camera unplugged, stream server gone, file over) the status goes to
``lost`` once, the source is reopened with a growing back-off, and ``recovered`` is
reported when frames return. Frames are plain :class:`~app.core.types.VideoFrame` values
(RGB uint8, monotonic timestamps): no Qt, and nothing is ever written to disk.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from app.core.types import VideoFrame
from vision.sources import (
    BgrImage,
    CameraError,
    Capture,
    SourceSpec,
    open_capture,
    parse_source,
)

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CameraStatus(enum.StrEnum):
    LIVE = "live"  # the first frames arrived
    LOST = "lost"  # frames stopped coming; being retried
    RECOVERED = "recovered"  # frames came back after a loss
    UNAVAILABLE = "unavailable"  # never opened yet; being retried
    ENDED = "ended"  # a file reached its end and the camera was told to stop there
    STOPPED = "stopped"  # stop() was called


StatusCallback = Callable[[CameraStatus, str], None]
Opener = Callable[[SourceSpec], Capture]


@dataclass(frozen=True, slots=True)
class CameraConfig:
    source: str = "0"
    fps: float = 30.0
    # frames larger than this are scaled down to fit (aspect kept); smaller ones are kept
    width: int = 640
    height: int = 480
    # a file starts over at its end (a demo clip used as a live camera)
    loop: bool = False
    # a file's end stops the camera (ENDED) instead of being retried like an unplugged one
    stop_at_end: bool = False
    retry_initial_s: float = 0.25
    retry_max_s: float = 4.0


@dataclass(frozen=True, slots=True, eq=False)
class CameraFrame(VideoFrame):
    """A frame with its place in the source: the frame number in a file (from 0, per pass),
    or a running count for live sources."""

    index: int = 0


@dataclass(frozen=True, slots=True)
class CameraStats:
    read: int = 0  # frames pulled from the source
    published: int = 0  # frames put in the slot (at most ``fps`` per second)
    dropped: int = 0  # published frames replaced before anyone took them
    taken: int = 0


@dataclass
class _Slot:
    # the newest frame as read (BGR): converted only when someone takes it, so frames
    # dropped by a slow consumer cost no conversion
    frame: tuple[BgrImage, float, int] | None = None
    seq: int = 0
    taken_seq: int = 0
    finished: bool = False
    stats: CameraStats = field(default_factory=CameraStats)


class Camera:
    """One source read by one background thread; :meth:`read` is for a single consumer."""

    def __init__(
        self,
        config: CameraConfig,
        on_status: StatusCallback | None = None,
        *,
        opener: Opener | None = None,
        clock: Clock = time.monotonic,
    ):
        self.config = config
        self.spec = parse_source(config.source)
        self._on_status = on_status
        self._opener: Opener = opener or (
            lambda spec: open_capture(spec, config.width, config.height, config.fps)
        )
        self._clock = clock
        self._cond = threading.Condition()
        self._slot = _Slot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: CameraStatus | None = None
        self._ever_live = False
        self._count = 0

    # ------------------------------------------------------------------ public API

    @property
    def status(self) -> CameraStatus | None:
        return self._status

    @property
    def finished(self) -> bool:
        """True once the reader has ended (stopped, or a file over with ``stop_at_end``)."""
        with self._cond:
            return self._slot.finished

    def stats(self) -> CameraStats:
        with self._cond:
            return self._slot.stats

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the camera was already started")
        self._thread = threading.Thread(target=self._run, name="camera-reader", daemon=True)
        self._thread.start()

    def read(self, timeout: float | None = None) -> CameraFrame | None:
        """The newest frame not returned before; None after ``timeout`` or once finished."""
        deadline = None if timeout is None else self._clock() + timeout
        with self._cond:
            slot = self._slot
            while slot.seq == slot.taken_seq and not slot.finished:
                remaining = None if deadline is None else deadline - self._clock()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if slot.seq == slot.taken_seq or slot.frame is None:
                return None
            slot.taken_seq = slot.seq
            slot.stats = replace(slot.stats, taken=slot.stats.taken + 1)
            image, ts, index = slot.frame
        return CameraFrame(pixels=self._to_rgb(image), ts=ts, index=index)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading and release the source; idempotent. Waits for the reader thread
        (a stream read blocked on a dead server gives up after its read timeout)."""
        self._stop.set()
        with self._cond:
            # stop is final: a frame nobody took is not handed out afterwards
            self._slot.frame = None
            self._slot.taken_seq = self._slot.seq
            self._cond.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # ------------------------------------------------------------------ the reader

    def _run(self) -> None:
        backoff = self.config.retry_initial_s
        try:
            while not self._stop.is_set():
                log.info("opening %s", self.spec.label)
                try:
                    capture = self._opener(self.spec)
                except CameraError as exc:
                    self._report(
                        CameraStatus.LOST if self._ever_live else CameraStatus.UNAVAILABLE, str(exc)
                    )
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, self.config.retry_max_s)
                    continue
                try:
                    outcome, got_frames = self._pump(capture)
                finally:
                    capture.release()
                if outcome == "stopped":
                    break
                if outcome == "ended":
                    self._report(CameraStatus.ENDED, f"{self.spec.label}: end of the video")
                    break
                if got_frames:
                    backoff = self.config.retry_initial_s
                self._report(CameraStatus.LOST, f"{self.spec.label}: no more frames")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.config.retry_max_s)
        except Exception:  # a reader that dies silently would look like a frozen camera
            log.exception("camera reader failed")
            self._report(CameraStatus.LOST, f"{self.spec.label}: the reader failed")
        finally:
            if self._stop.is_set():
                self._report(CameraStatus.STOPPED, "")
            with self._cond:
                self._slot.finished = True
                self._cond.notify_all()

    def _pump(self, capture: Capture) -> tuple[str, bool]:
        """Read until the source fails, ends or we are stopped."""
        is_file = self.spec.kind == "file"
        source_period = 1.0 / capture.fps if is_file and capture.fps > 0 else 0.0
        min_gap = 0.75 / self.config.fps  # tolerate jitter at an equal camera rate
        last_published = -1e9
        started: float | None = None
        position = 0  # frames read in this pass of the source
        got_any = False
        while not self._stop.is_set():
            if source_period and started is not None:
                lateness = self._clock() - (started + position * source_period)
                if lateness < 0:
                    self._stop.wait(-lateness)
                    continue
                if lateness > 0.25:  # the machine stalled: restart the pacing, don't burst
                    started += lateness
            image = capture.read()
            now = self._clock()
            if image is None:
                if is_file and position > 0:
                    if self.config.loop and capture.rewind():
                        started, position = None, 0
                        continue
                    if self.config.stop_at_end:
                        return "ended", got_any
                return "failed", got_any
            if started is None:
                started = now
            if not got_any:
                got_any = True
                self._went_live()
            if now - last_published >= min_gap:
                last_published = now
                index = position if is_file else self._count
                self._publish((image, now, index))
            position += 1
            self._count += 1
            with self._cond:
                self._slot.stats = replace(self._slot.stats, read=self._slot.stats.read + 1)
        return "stopped", got_any

    def _to_rgb(self, image: BgrImage) -> BgrImage:
        import cv2

        height, width = image.shape[:2]
        scale = min(self.config.width / width, self.config.height / height)
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), np.uint8)
        code = cv2.COLOR_GRAY2RGB if image.ndim == 2 else cv2.COLOR_BGR2RGB
        return np.asarray(cv2.cvtColor(image, code), dtype=np.uint8)

    def _publish(self, frame: tuple[BgrImage, float, int]) -> None:
        with self._cond:
            if self._stop.is_set():
                return
            slot = self._slot
            dropped = slot.stats.dropped + (1 if slot.seq > slot.taken_seq else 0)
            slot.frame = frame
            slot.seq += 1
            slot.stats = replace(slot.stats, published=slot.stats.published + 1, dropped=dropped)
            self._cond.notify_all()

    def _went_live(self) -> None:
        if self._ever_live:
            self._report(CameraStatus.RECOVERED, f"{self.spec.label}: frames are back")
        else:
            self._ever_live = True
            self._report(CameraStatus.LIVE, self.spec.label)

    def _report(self, status: CameraStatus, detail: str) -> None:
        """Tell the listener about a change of status, once per change."""
        if status == self._status:
            return
        self._status = status
        if status in (CameraStatus.LOST, CameraStatus.UNAVAILABLE):
            log.warning("camera %s: %s", status.value, detail)
        if self._on_status is None:
            return
        try:
            self._on_status(status, detail)
        except Exception:  # a listener's bug must not stop the camera
            log.exception("camera status listener failed")
