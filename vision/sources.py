"""Camera sources: a device index, a video file or a stream URL, opened through OpenCV.

The reader in :mod:`vision.camera` talks to a small :class:`Capture` protocol rather than
to ``cv2.VideoCapture`` directly, so unit tests can unplug a fake camera on cue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

SourceKind = Literal["device", "file", "url"]
BgrImage = npt.NDArray[np.uint8]

# a stream that stops sending must fail a read instead of blocking the reader forever
_OPEN_TIMEOUT_MS = 4000
_READ_TIMEOUT_MS = 2000


class CameraError(RuntimeError):
    """A source that cannot be opened; the message says what to check, for a person."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    target: int | str

    @property
    def label(self) -> str:
        return f"camera {self.target}" if self.kind == "device" else str(self.target)


def parse_source(source: str | int) -> SourceSpec:
    """``"0"`` (or 0) is a device index, ``scheme://...`` a URL, anything else a file path."""
    if isinstance(source, int):
        return SourceSpec("device", source)
    text = source.strip()
    if not text:
        raise CameraError("the camera source is empty; give a device index, a file or a URL")
    if text.isdigit():
        return SourceSpec("device", int(text))
    if "://" in text:
        return SourceSpec("url", text)
    return SourceSpec("file", str(Path(text).expanduser()))


class Capture(Protocol):
    """One opened source. ``read`` returns a BGR frame, or None when no frame came."""

    @property
    def fps(self) -> float:
        """The source's own frame rate when it declares one (files), else 0."""
        ...

    def read(self) -> BgrImage | None: ...
    def rewind(self) -> bool: ...
    def release(self) -> None: ...


class OpenCvCapture:
    """``cv2.VideoCapture`` behind the :class:`Capture` protocol."""

    def __init__(self, capture: Any, fps: float):
        self._capture = capture
        self._fps = fps

    @property
    def fps(self) -> float:
        return self._fps

    def read(self) -> BgrImage | None:
        ok, frame = self._capture.read()
        if not ok or frame is None:
            return None
        image: BgrImage = frame
        return image

    def rewind(self) -> bool:
        import cv2

        return bool(self._capture.set(cv2.CAP_PROP_POS_FRAMES, 0))

    def release(self) -> None:
        self._capture.release()


def _quiet_opencv() -> None:
    """OpenCV logs a warning line on stderr for every failed open; a camera that is being
    retried every few seconds would flood the terminal. Errors are reported by us instead."""
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET, read at first use
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def open_capture(spec: SourceSpec, width: int, height: int, fps: float) -> Capture:
    """Open a source or raise :class:`CameraError` with a message for a person."""
    _quiet_opencv()
    import cv2

    if spec.kind == "file":
        path = Path(str(spec.target))
        if not path.is_file():
            raise CameraError(f"no such video file: {path}")
        capture = cv2.VideoCapture(str(path))
    elif spec.kind == "url":
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            _OPEN_TIMEOUT_MS,
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            _READ_TIMEOUT_MS,
        ]
        capture = cv2.VideoCapture(str(spec.target), cv2.CAP_FFMPEG, params)
    else:
        capture = cv2.VideoCapture(int(spec.target))
        if capture.isOpened():
            # a webcam keeps a queue of frames; one slot keeps what we read current
            capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            capture.set(cv2.CAP_PROP_FPS, fps)
    if not capture.isOpened():
        capture.release()
        raise CameraError(_open_failure(spec))
    declared = float(capture.get(cv2.CAP_PROP_FPS) or 0.0) if spec.kind == "file" else 0.0
    return OpenCvCapture(capture, declared if 1.0 <= declared <= 240.0 else 0.0)


def _open_failure(spec: SourceSpec) -> str:
    if spec.kind == "device":
        return (
            f"cannot open camera device {spec.target}: is a camera plugged in "
            f"(/dev/video{spec.target} on Linux) and free, and may this user use it?"
        )
    if spec.kind == "url":
        return f"cannot open the stream {spec.target}: is the server up and the URL right?"
    return f"cannot decode the video file {spec.target}: is it a video OpenCV can read?"
