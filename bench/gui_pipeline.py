"""The whole product in the real window on this CPU: rendering, UI stalls, lip-sync.

A real recording is played into the virtual microphone ``--turns`` times; each time the
embedded defaults (Silero, faster-whisper, the offline FAQ, Piper, the sounddevice
speaker) hear it, answer, and the face speaks at ``--size`` pixels. Printed:

- render: frames/s of the face view and its worst paint and worst frame interval;
- UI stall: the longest gap of a 5 ms heartbeat timer on the UI thread, minus 5 ms;
- lip-sync offset on screen: the speaker's output recorded from ``spk.monitor`` and the
  mouth box grabbed from the X screen at ~100 Hz, both stamped with ``time.monotonic()``;
  the lag that best aligns the audio envelope with the mouth opening (positive: the mouth
  is late), per reply and overall;
- the CPU time the host took from this virtual machine during the run (steal): with
  seconds of it, every figure above is worse for reasons outside the app.

The screen grabs run on the UI thread (an X round trip every 10 ms), so they load what
they measure: ``--grab off`` leaves them out and prints render and stall figures of the
app alone (no lip-sync figure). The window is wired as ``dhuman`` wires it: subtitles on
the audio clock, and the start-up objects frozen out of garbage collection.

``DHUMAN_BENCH_DEBUG=1`` lists every UI-thread stall over 30 ms (``=N``: over N ms) with
the session events around it and where its time went (the UI thread running, waiting for
a core, or asleep: the GIL, usually), and samples the UI thread's Python stack while the
heartbeat is late.

Needs the virtual screen and sound devices: ``. scripts/virtual-devices.sh start`` first.
Run from the repository root: ``python bench/gui_pipeline.py [--turns 3] [--size 800]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("PYSIDE6_OPTION_LAZY", "0")  # as app.gui sets it for the app
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from app.config.settings import Settings
from app.core import events as ev
from app.core.events import AvatarMode
from app.core.registry import build_roles
from app.core.session import Session
from app.gui.avatar_setup import install_avatar
from app.gui.face.frame_stats import FrameStats
from app.gui.launch import attach_microphone, pace_captions
from app.gui.main_window import MainWindow
from dialog.persona import load_persona
from tests.support.events import EventLog
from tests.support.monitor import MonitorRecorder, Recording
from tests.support.screen import MouthWatch
from tests.support.speech_clips import load_clips

HEARTBEAT_MS = 5
MAX_LAG_S = 0.3
GRID_S = 0.005


def pump_until(app: QApplication, done: Callable[[], bool], timeout: float) -> bool:
    """Run the Qt event loop, as ``app.exec()`` does, until ``done()`` or ``timeout`` s.

    A blocking event loop checked every 20 ms, not ``processEvents`` in a Python loop: that
    loop never sleeps, so it took a core and the GIL from everything it measured.
    """
    loop = QEventLoop()
    deadline = time.monotonic() + timeout

    def check() -> None:
        if done() or time.monotonic() > deadline:
            loop.quit()

    timer = QTimer(interval=20)
    timer.timeout.connect(check)
    timer.start()
    if not done():
        loop.exec()
    timer.stop()
    return done()


def lipsync_offset(recording: Recording, watch: MouthWatch, start: float, end: float) -> float:
    """The lag (s) maximising the correlation of the audio envelope and the mouth opening."""
    grid = np.arange(start, end, GRID_S)
    # audio envelope: RMS over 20 ms windows, sampled on the grid
    window = int(0.02 * recording.rate)
    power = np.convolve(recording.samples**2, np.ones(window) / window, mode="same")
    envelope = np.interp(grid, recording.times, np.sqrt(power))
    times, opening = watch.openness()
    best, best_lag = -np.inf, 0.0
    for lag in np.arange(-MAX_LAG_S, MAX_LAG_S + 1e-9, GRID_S):
        mouth = np.interp(grid + lag, times, opening)
        a, b = envelope - envelope.mean(), mouth - mouth.mean()
        score = float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))
        if score > best:
            best, best_lag = score, float(lag)
    return best_lag


def stolen_s() -> float:
    """CPU time the hypervisor took from this machine so far (Linux ``/proc/stat``); a
    virtual machine's neighbours slow every figure here, so the bench reports it."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class UiThreadClock:
    """Where the UI thread's time went (Linux schedstat): running, or runnable waiting
    for a core; the rest of a stall it slept, e.g. waiting for the GIL."""

    def __init__(self) -> None:
        self._path = f"/proc/self/task/{threading.get_native_id()}/schedstat"
        self._last = self._read()

    def _read(self) -> tuple[float, float]:
        try:
            with open(self._path) as f:
                ran, waited, _ = f.read().split()
            return int(ran) / 1e6, int(waited) / 1e6
        except OSError:  # not Linux
            return 0.0, 0.0

    def since_last(self) -> tuple[float, float]:
        """(ms running, ms waiting for a core) since the previous call."""
        now = self._read()
        spent = (now[0] - self._last[0], now[1] - self._last[1])
        self._last = now
        return spent


class StallWatch:
    """Debug aid: while the UI thread's heartbeat is overdue, sample what it is running."""

    def __init__(self, last: list[float], overdue_s: float = 0.03) -> None:
        self._last = last
        self._overdue = overdue_s
        self._main = threading.main_thread().ident
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stall-watch", daemon=True)
        self.samples: list[tuple[float, float, str]] = []

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            late = time.monotonic() - self._last[0]
            if late < self._overdue:
                continue
            frame = sys._current_frames().get(self._main or 0)
            stack = "".join(traceback.format_stack(frame, limit=6)) if frame else "?"
            self.samples.append((self._last[0], late, stack))

    def report(self) -> None:
        by_stall: dict[float, list[tuple[float, str]]] = {}
        for began, late, stack in self.samples:
            by_stall.setdefault(began, []).append((late, stack))
        for began, seen in by_stall.items():
            print(f"--- heartbeat overdue from {began:.3f}, up to {1000 * seen[-1][0]:.0f} ms")
            for late, stack in seen[:: max(1, len(seen) // 4)]:
                print(f"  at {1000 * late:.0f} ms:\n{stack}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--size", type=int, default=800)
    parser.add_argument("--clip", default="clone-test.wav")
    parser.add_argument("--lead-ms", type=int, default=None, help="override avatar.lipsync_lead_ms")
    parser.add_argument("--grab", choices=["on", "off"], default="on", help="mouth screen grabs")
    args = parser.parse_args()
    clip = next((c for c in load_clips() if c.name == args.clip), None)
    if clip is None:
        print("the moonshine-voice speech carrier is not installed", file=sys.stderr)
        return 2
    os.environ.setdefault("DHUMAN_CONFIG_DIR", tempfile.mkdtemp(prefix="dhuman-bench-"))
    app = QApplication(sys.argv[:1])
    settings = Settings()
    settings.llm.base_url = "http://127.0.0.1:9/v1"  # no model server: the FAQ answers
    if args.lead_ms is not None:
        settings.avatar.lipsync_lead_ms = args.lead_ms
    roles = build_roles(settings)
    persona = load_persona("default")
    session = Session(roles, persona)
    log = EventLog()
    session.subscribe(log)
    window = MainWindow(session, persona, "en")
    link = install_avatar(window, session, roles, settings)
    assert link is not None
    pace_captions(window, roles, link)
    link.view.setMinimumSize(args.size, args.size)
    window.resize(args.size + 560, args.size + 200)
    window.show()
    session.start()
    mic = attach_microphone(window, roles, settings)
    if mic is None:
        print("no microphone: start the virtual devices first", file=sys.stderr)
        return 2
    gc.freeze()  # as run_gui does once the window is up

    gaps: list[float] = []
    last = [time.monotonic()]

    stalls: list[tuple[float, float, tuple[float, float]]] = []

    debug_ms = float(os.environ.get("DHUMAN_BENCH_DEBUG") or 0)
    debug = debug_ms > 0
    stall_s = (debug_ms if debug_ms > 1 else 30) / 1000  # "1": the default, 30 ms
    # /proc reads on the UI thread every beat: only when asked for, not in measured runs
    ui_thread = UiThreadClock() if debug else None

    def beat() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        spent = ui_thread.since_last() if ui_thread is not None else (0.0, 0.0)
        if now - last[0] > stall_s:
            stalls.append((last[0], now, spent))
        last[0] = now

    heartbeat = QTimer(interval=HEARTBEAT_MS)
    heartbeat.timeout.connect(beat)
    watchdog = StallWatch(last, stall_s) if debug else None
    watch = MouthWatch(link.view, keep_shots=0)
    grabber = QTimer(interval=10)
    grabber.timeout.connect(watch.grab)
    offsets: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        with MonitorRecorder(Path(folder)) as recorder:
            pump_until(app, lambda: False, 1.0)  # settle
            # every frame of the run counts, not just the view's rolling window
            link.view.stats = FrameStats(history=1_000_000)
            if watchdog is not None:
                watchdog.start()
            last[0] = time.monotonic()
            stolen = stolen_s()
            heartbeat.start()
            if args.grab == "on":
                grabber.start()
            for turn in range(args.turns):
                ended = len(log.of(ev.TurnEnded))
                player = subprocess.Popen(["paplay", "--device=micfeed", str(clip.path)])
                finished = pump_until(
                    app,
                    lambda ended=ended: (
                        len(log.of(ev.TurnEnded)) > ended and window.mode is AvatarMode.LISTENING
                    ),
                    timeout=120,
                )
                player.wait(30)
                if not finished:
                    print(f"turn {turn + 1}: no reply within 120 s", file=sys.stderr)
                pump_until(app, lambda: False, 1.5)  # the mouth at rest between turns
            grabber.stop()
            heartbeat.stop()
            if watchdog is not None:
                watchdog.stop()
            summary = link.view.stats.summary()
            stolen = stolen_s() - stolen
        recording = recorder.recording
    assert recording is not None
    spoken = 0
    for ended_event in log.of(ev.TurnEnded):
        outs = [e for e in log.of(ev.AudioOut) if e.turn_id == ended_event.turn_id]
        spoken += bool(outs)
        if outs and not ended_event.interrupted and args.grab == "on":
            offsets.append(lipsync_offset(recording, watch, outs[0].ts, ended_event.ts))
    mic.stop()
    link.close()
    session.close()

    if debug:
        for a, b, (ran, waited) in stalls:
            near = [type(e).__name__ for e in log.events if a - 0.05 <= e.ts <= b]
            blocked = 1000 * (b - a) - ran - waited
            print(
                f"stall {1000 * (b - a):.0f} ms: during {near}; the UI thread ran {ran:.0f} ms, "
                f"waited {waited:.0f} ms for a core, was blocked {blocked:.0f} ms (the GIL?)"
            )
        if watchdog is not None:
            watchdog.report()
    load = os.getloadavg()[0]
    print(
        f"machine: {os.cpu_count()} cores, load average {load:.1f}, "
        f"{stolen:.1f} s of CPU taken by the host during the run"
    )
    print(f"turns: {args.turns}, replies with audio: {spoken}")
    print(f"lip-sync lead: {settings.avatar.lipsync_lead_ms} ms")
    print(
        f"render {args.size}x{args.size}: {summary.fps:.1f} frames/s, "
        f"paint p50 {summary.paint_p50_ms:.1f} ms, p95 {summary.paint_p95_ms:.1f} ms, "
        f"worst {summary.paint_worst_ms:.1f} ms; frame interval p95 "
        f"{summary.interval_p95_ms:.1f} ms, worst {summary.interval_worst_ms:.1f} ms"
    )
    stall = max(gaps) * 1000 - HEARTBEAT_MS if gaps else float("nan")
    over = sum(1000 * gap - HEARTBEAT_MS > 10 for gap in gaps)
    print(
        f"longest UI-thread stall: {stall:.1f} ms (heartbeat every {HEARTBEAT_MS} ms); "
        f"{over} stalls over 10 ms"
    )
    if offsets:
        shown = ", ".join(f"{o * 1000:+.0f}" for o in offsets)
        median = statistics.median(offsets) * 1000
        print(f"lip-sync offset on screen (mouth minus audio): {shown} ms; median {median:+.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
