"""Perception: camera -> face tracker -> (opt-in) affect, in its own worker thread.

Everything it finds is reported as typed events (:mod:`vision.events`) through one
callback, always called from the worker thread: camera status, presence, the main user
per frame, affect updates (rate-limited). Frames never leave memory and nothing is
written to disk; :attr:`Perception.indicator` says what the on-screen privacy indicator
must show. The camera is off unless ``settings.camera.enabled``; affect also needs
``settings.camera.affect_enabled`` (or :meth:`Perception.set_affect_enabled`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from app.config.settings import Settings
from app.core.events import Event, Notice
from app.core.types import Affect, VideoFrame
from vision.affect import AffectConfig, AffectFusion
from vision.camera import Camera, CameraConfig, CameraFrame, CameraStatus, StatusCallback
from vision.events import (
    AffectUpdated,
    CameraStatusChanged,
    IndicatorChanged,
    MainUserChanged,
    PresenceChanged,
    UserObserved,
)
from vision.faces import TrackedFace, TrackResult
from vision.geometry import Points

if TYPE_CHECKING:
    from app.models.manager import ModelManager

log = logging.getLogger(__name__)

EventCallback = Callable[[Event], None]


class FrameTracker(Protocol):
    def track(self, frame: VideoFrame) -> TrackResult: ...
    def idle(self, ts: float) -> TrackResult: ...
    def reset(self) -> None: ...
    def close(self) -> None: ...


class Expressions(Protocol):
    def classify(self, rgb: npt.NDArray[np.uint8], landmarks: Points) -> dict[str, float]: ...


CameraFactory = Callable[[CameraConfig, StatusCallback], Camera]


@dataclass(frozen=True, slots=True)
class PerceptionConfig:
    camera: CameraConfig
    enabled: bool = True
    affect_enabled: bool = False
    affect_hz: float = 5.0  # affect events per second at most (label changes go at once)
    # faces this small get little trust in the affect fusion (blendshapes get noisy)
    affect_full_size: float = 0.15


@dataclass(frozen=True, slots=True)
class Indicator:
    """For the GUI's privacy indicator."""

    camera_on: bool = False
    affect_on: bool = False
    camera_status: str = ""


@dataclass(frozen=True, slots=True)
class PerceptionSnapshot:
    frames: int = 0
    fps: float = 0.0
    faces: int = 0
    presence: str = "absent"
    main_user: int = 0
    camera_status: str = ""
    dropped: int = 0  # camera frames replaced before the worker could take them


class Perception:
    def __init__(
        self,
        config: PerceptionConfig,
        *,
        make_tracker: Callable[[], FrameTracker],
        make_expressions: Callable[[], Expressions] | None = None,
        affect_config: AffectConfig | None = None,
        make_camera: CameraFactory | None = None,
        problems: Sequence[str] = (),
    ):
        self.config = config
        self.problems = list(problems)
        self._make_tracker = make_tracker
        self._make_expressions = make_expressions
        self._make_camera: CameraFactory = make_camera or (lambda cfg, cb: Camera(cfg, cb))
        self._affect = AffectFusion(affect_config)
        self._affect_on = config.enabled and config.affect_enabled
        self._lock = threading.Lock()
        self._statuses: queue.SimpleQueue[tuple[CameraStatus, str]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._camera: Camera | None = None
        self._tracker: FrameTracker | None = None
        self._expressions: Expressions | None = None
        self._expressions_failed = False
        self._on_event: EventCallback = lambda event: None
        self._prosody: dict[str, float] | None = None
        self._snapshot = PerceptionSnapshot()
        self._camera_status = ""
        self._last_affect: tuple[str, float] | None = None  # label, ts of the last event

    # ------------------------------------------------------------------ public API

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def indicator(self) -> Indicator:
        on = self.running
        return Indicator(on, on and self._affect_on, self._camera_status)

    def snapshot(self) -> PerceptionSnapshot:
        with self._lock:
            return self._snapshot

    def start(self, on_event: EventCallback) -> None:
        """Open the camera and start the worker; returns at once. Does nothing but report
        the indicator when the camera is off in the settings. Raises if the tracker cannot
        be built (model missing, MediaPipe absent)."""
        if self._thread is not None:
            raise RuntimeError("perception was already started")
        self._on_event = on_event
        if not self.config.enabled:
            self._emit(IndicatorChanged(camera_on=False, affect_on=False))
            return
        self._tracker = self._make_tracker()
        for problem in self.problems:
            self._emit(Notice(role="vision", message=problem))
        self._camera = self._make_camera(self.config.camera, self._camera_said)
        self._camera.start()
        self._thread = threading.Thread(target=self._run, name="perception", daemon=True)
        self._thread.start()
        self._emit(IndicatorChanged(camera_on=True, affect_on=self._affect_on))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker and release the camera; idempotent. The last events (camera
        stopped, indicator off) are sent from the calling thread; none come after."""
        self._stop.set()
        if self._camera is not None:
            self._camera.stop(timeout)
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            self._relay_statuses()  # the camera's last word ("stopped") came after the worker
        if self._tracker is not None and not (thread is not None and thread.is_alive()):
            self._tracker.close()  # only once the worker no longer uses it
            self._tracker = None
        if thread is not None:
            self._thread = None
            self._emit(IndicatorChanged(camera_on=False, affect_on=False))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the worker to end by itself (a file source over); False on timeout."""
        thread = self._thread
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def set_prosody(self, prosody: dict[str, float] | None) -> None:
        """The last utterance's prosody (``speech.prosody``); thread-safe."""
        with self._lock:
            self._prosody = dict(prosody) if prosody else None

    def set_affect_enabled(self, enabled: bool) -> None:
        """The user's opt-in switch; thread-safe. Turning it off forgets the baselines."""
        enabled = enabled and self.config.enabled
        with self._lock:
            changed = enabled != self._affect_on
            self._affect_on = enabled
        if changed and self.running:
            self._emit(IndicatorChanged(camera_on=True, affect_on=enabled))

    # ------------------------------------------------------------------ the worker

    def _camera_said(self, status: CameraStatus, detail: str) -> None:
        self._statuses.put((status, detail))  # camera thread -> worker thread

    def _run(self) -> None:
        camera, tracker = self._camera, self._tracker
        assert camera is not None and tracker is not None
        started, frames = time.monotonic(), 0
        affect_was_on = self._affect_on
        try:
            while not self._stop.is_set():
                self._relay_statuses()
                frame = camera.read(timeout=0.1)
                if affect_was_on and not self._affect_on:
                    self._affect.reset()
                affect_was_on = self._affect_on
                if frame is None:
                    if camera.finished:
                        break
                    if self._camera_status in (CameraStatus.LOST, CameraStatus.UNAVAILABLE):
                        self._report(tracker.idle(time.monotonic()), None)
                    continue
                result = tracker.track(frame)
                frames += 1
                self._report(result, frame)
                elapsed = time.monotonic() - started
                with self._lock:
                    self._snapshot = replace(
                        self._snapshot,
                        frames=frames,
                        fps=frames / elapsed if elapsed > 0 else 0.0,
                        dropped=camera.stats().dropped,
                    )
        except Exception as exc:  # the session must hear about it, not lose the camera silently
            log.exception("perception worker failed")
            camera.stop()  # nobody looks at the frames any more: the camera must not stay on
            self._emit(Notice(role="vision", message=f"camera processing stopped: {exc}"))
        finally:
            self._relay_statuses()

    def _relay_statuses(self) -> None:
        while True:
            try:
                status, detail = self._statuses.get_nowait()
            except queue.Empty:
                return
            self._camera_status = status.value
            with self._lock:
                self._snapshot = replace(self._snapshot, camera_status=status.value)
            self._emit(
                CameraStatusChanged(
                    status=status.value, source=self.config.camera.source, detail=detail
                )
            )

    def _report(self, result: TrackResult, frame: CameraFrame | None) -> None:
        main = result.main
        for change in result.changes:
            if change in ("main-changed", "left"):
                self._forget_person()
            if change == "main-changed" and main is not None:
                previous = self._snapshot.main_user
                self._emit(MainUserChanged(user_id=main.track_id, previous_id=previous))
            elif change in ("arrived", "left"):
                self._emit(
                    PresenceChanged(
                        change=change,
                        present=change == "arrived",
                        user_id=main.track_id if main is not None else 0,
                        faces=len(result.faces),
                    )
                )
        with self._lock:
            self._snapshot = replace(
                self._snapshot,
                faces=len(result.faces),
                presence=result.presence.value,
                main_user=main.track_id if main is not None else 0,
            )
        if main is None or frame is None:
            return
        self._emit(_observed(main, result, frame))
        if self._affect_on:
            self._affect_step(main, frame)

    def _forget_person(self) -> None:
        """Another person (or nobody): another resting face, another voice."""
        self._affect.reset()
        with self._lock:
            self._prosody = None

    def _affect_step(self, main: TrackedFace, frame: CameraFrame) -> None:
        expressions = None
        classifier = self._classifier()
        if classifier is not None:
            expressions = classifier.classify(frame.pixels, main.landmarks)
        with self._lock:
            prosody = self._prosody
        quality = main.frontal * min(1.0, main.size / self.config.affect_full_size)
        affect = self._affect.update(
            frame.ts, main.blendshapes, expressions, prosody=prosody, quality=quality
        )
        if self._due(affect, frame.ts):
            self._emit(
                AffectUpdated(
                    affect=affect,
                    user_id=main.track_id,
                    frame_ts=frame.ts,
                    frame_index=frame.index,
                )
            )

    def _due(self, affect: Affect, ts: float) -> bool:
        last = self._last_affect
        if last is None or last[0] != affect.label or ts - last[1] >= 1.0 / self.config.affect_hz:
            self._last_affect = (affect.label, ts)
            return True
        return False

    def _classifier(self) -> Expressions | None:
        """The CNN, built on first use (affect may be switched on mid-session)."""
        if self._expressions is None and not self._expressions_failed:
            if self._make_expressions is None:
                self._expressions_failed = True
                return None
            try:
                self._expressions = self._make_expressions()
            except Exception as exc:
                self._expressions_failed = True
                self._emit(
                    Notice(
                        role="vision",
                        message=f"the expression model is not available ({exc}); "
                        "affect uses face movements only",
                    )
                )
        return self._expressions

    def _emit(self, event: Event) -> None:
        try:
            self._on_event(event)
        except Exception:  # a listener's bug must not stop perception
            log.exception("perception listener failed on %s", type(event).__name__)


def _observed(face: TrackedFace, result: TrackResult, frame: CameraFrame) -> UserObserved:
    return UserObserved(
        user_id=face.track_id,
        position=face.center,
        size=face.size,
        box=face.box,
        head_pose=face.head_pose.as_tuple(),
        gaze=face.gaze,
        attention=face.attention,
        attentive=face.attentive,
        blendshapes=tuple(sorted(face.blendshapes.items())),
        faces=len(result.faces),
        frame_ts=frame.ts,
        frame_index=frame.index,
    )


# ---------------------------------------------------------------- the factories
def build(settings: Settings, models: ModelManager | None = None) -> Perception:
    """Registry factory: a Perception from ``settings.camera`` (off unless enabled). Raises
    RoleUnavailable when the camera is on but cannot work here (library or model missing,
    empty source)."""
    from app.core.registry import RoleUnavailable
    from vision.sources import CameraError, parse_source

    cam = settings.camera
    try:
        spec = parse_source(cam.source)
    except CameraError as exc:
        raise RoleUnavailable(str(exc)) from None
    camera = CameraConfig(
        source=cam.source,
        fps=cam.fps,
        width=cam.width,
        height=cam.height,
        loop=spec.kind == "file",  # a demo clip used as the camera plays on
    )
    if not cam.enabled:
        return Perception(PerceptionConfig(camera=camera, enabled=False), make_tracker=_off)
    return create(camera, affect_enabled=cam.affect_enabled, settings=settings, models=models)


def create(
    camera: CameraConfig,
    *,
    affect_enabled: bool,
    settings: Settings | None = None,
    models: ModelManager | None = None,
) -> Perception:
    """A Perception on the given camera with the real models (MediaPipe, FER CNN)."""
    from app.core.registry import RoleUnavailable

    for module, package in (("cv2", "opencv-python-headless"), ("mediapipe", "mediapipe")):
        try:
            __import__(module)
        except ImportError:
            raise RoleUnavailable(f"{package} is not installed; pip install {package}") from None
    from app.models.manager import ModelManager
    from vision.expression_cnn import ExpressionCNN
    from vision.face_tracker import MODEL_ID, MediaPipeFaceTracker

    manager = models or ModelManager(settings)
    try:
        landmarker = manager.file(MODEL_ID)
    except Exception as exc:
        raise RoleUnavailable(
            f"the face model is not available ({exc}); run `dhuman models pull {MODEL_ID}`"
        ) from None
    return Perception(
        PerceptionConfig(camera=camera, enabled=True, affect_enabled=affect_enabled),
        make_tracker=lambda: MediaPipeFaceTracker(landmarker),
        make_expressions=lambda: ExpressionCNN.from_models(manager),
    )


def _off() -> FrameTracker:
    raise RuntimeError("the camera is off (camera.enabled: false)")
