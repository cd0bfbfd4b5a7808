"""``dhuman look SOURCE``: what the camera sees, live, in the terminal.

Presence, the main user's attention and head pose, their strongest face movements
(blendshapes) and the affect estimate, for a device index, a video file or a stream URL.
Nothing is recorded: frames stay in memory.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import time
from typing import Any, TextIO

from app.config.settings import Settings
from app.core.events import Event, Notice
from app.core.registry import RoleUnavailable


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "look",
        help="watch a camera, video file or stream: presence, attention, expressions",
        description="Prints who is in front of the camera, whether the main user looks at "
        "the screen, their strongest face movements and the affect estimate (a soft guess "
        "from facial movements, not a reading of feelings). Nothing is recorded.",
    )
    p.add_argument(
        "source",
        metavar="SOURCE",
        nargs="?",
        help="camera index (0), video file or URL (http MJPEG, rtsp); default camera.source",
    )
    p.add_argument("--frames", type=int, help="stop after about N processed frames")
    p.add_argument("--seconds", type=float, help="stop after N seconds")
    p.add_argument("--loop", action="store_true", help="play a video file over and over")
    p.add_argument("--no-affect", action="store_true", help="do not estimate affect")
    p.add_argument(
        "--every", type=float, default=0.5, help="seconds between status lines (default 0.5)"
    )


def run(args: argparse.Namespace, settings: Settings, out: TextIO, err: TextIO) -> int:
    from vision.camera import CameraConfig
    from vision.sources import CameraError, parse_source

    source = str(args.source if args.source is not None else settings.camera.source)
    try:
        spec = parse_source(source)
        _probe(source, settings)
    except CameraError as exc:
        err.write(f"dhuman look: {exc}\n")
        return 2
    except ImportError as exc:
        err.write(f"dhuman look: OpenCV is not installed ({exc.name} is missing)\n")
        return 3
    camera = CameraConfig(
        source=source,
        fps=settings.camera.fps,
        width=settings.camera.width,
        height=settings.camera.height,
        loop=args.loop,
        stop_at_end=spec.kind == "file" and not args.loop,
    )
    try:
        from vision.perception import create

        perception = create(camera, affect_enabled=not args.no_affect, settings=settings)
    except RoleUnavailable as exc:
        err.write(f"dhuman look: {exc}\n")
        return 3
    return _watch(perception, args, out)


def _probe(source: str, settings: Settings) -> None:
    """Open the source and read one frame, so a bad source fails now and clearly."""
    from vision.sources import CameraError, open_capture, parse_source

    spec = parse_source(source)
    cam = settings.camera
    capture = open_capture(spec, cam.width, cam.height, cam.fps)
    try:
        if capture.read() is None:
            raise CameraError(f"{spec.label} opened but gave no frame")
    finally:
        capture.release()


class _Printer:
    """Prints changes as they come and keeps the latest user/affect for the status line."""

    def __init__(self, out: TextIO):
        self.out = out
        self.user: Any | None = None
        self.affect: Any | None = None

    def handle(self, event: Event) -> None:
        from vision import events as vev

        out = self.out
        if isinstance(event, vev.UserObserved):
            self.user = event
        elif isinstance(event, vev.AffectUpdated):
            self.affect = event
        elif isinstance(event, vev.CameraStatusChanged) and event.status != "stopped":
            detail = f" ({event.detail})" if event.detail else ""
            out.write(f"-- camera {event.status}{detail}\n")
        elif isinstance(event, vev.PresenceChanged):
            who = f": user #{event.user_id}" if event.change == "arrived" else ""
            out.write(f"-- {event.change}{who}\n")
            if event.change == "left":
                self.user, self.affect = None, None
        elif isinstance(event, vev.MainUserChanged):
            out.write(f"-- main user now #{event.user_id} (was #{event.previous_id})\n")
            self.affect = None
        elif isinstance(event, Notice):
            out.write(f"-- note: {event.message}\n")

    def line(self, elapsed: float, snap: Any) -> None:
        # no face since the last line: no estimate to show either
        affect = self.affect if self.user is not None else None
        self.out.write(status_line(elapsed, snap, self.user, affect) + "\n")
        self.out.flush()
        self.user = None


def _watch(perception: Any, args: argparse.Namespace, out: TextIO) -> int:
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()
    printer = _Printer(out)
    perception.start(events.put)
    started = time.monotonic()
    next_line = started + args.every
    try:
        while perception.running:
            now = time.monotonic()
            if args.frames is not None and perception.snapshot().frames >= args.frames:
                break
            if args.seconds is not None and now - started >= args.seconds:
                break
            with contextlib.suppress(queue.Empty):
                printer.handle(events.get(timeout=0.05))
            if now >= next_line:
                next_line = now + args.every
                printer.line(now - started, perception.snapshot())
    except KeyboardInterrupt:
        pass
    finally:
        perception.stop()
    while not events.empty():  # what came last (the end of a file) is still told
        printer.handle(events.get())
    snap = perception.snapshot()
    seconds = time.monotonic() - started
    out.write(
        f"{snap.frames} frames in {seconds:.1f} s ({snap.fps:.1f} frames/s processed), "
        f"{snap.dropped} camera frames dropped\n"
    )
    return 0


def status_line(elapsed: float, snap: Any, user: Any | None, affect: Any | None) -> str:
    """One line: presence, the main user's attention/pose/top movements, affect."""
    parts = [f"[{elapsed:6.1f}s] frame {snap.frames:5d}  faces {snap.faces}  {snap.presence}"]
    if user is not None:
        yaw, pitch, roll = user.head_pose
        looking = "looking at the screen" if user.attentive else "looking away"
        parts.append(
            f"user #{user.user_id} {looking} ({user.attention:.2f})"
            f"  yaw {yaw:+.0f} pitch {pitch:+.0f} roll {roll:+.0f}"
        )
        top = sorted(user.blendshapes, key=lambda item: -item[1])[:4]
        parts.append(", ".join(f"{name} {value:.2f}" for name, value in top))
    if affect is not None:
        a = affect.affect
        parts.append(
            f"affect: {a.label}? {a.confidence:.0%} (valence {a.valence:+.2f}, "
            f"arousal {a.arousal:+.2f})"
        )
    return "  |  ".join(parts)
