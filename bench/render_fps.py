"""The 2D face renderer: frames per second and frame times in a real widget.

Shows a ``FaceView`` of ``--size`` pixels on the screen (under Xvfb: ``. scripts/
virtual-devices.sh start`` first) driven by a synthetic talking head: the jaw and lips
move at a syllable rate through different mouth shapes, the eyes blink every few seconds
and glance around, the head sways. After a warm-up it records ``--seconds`` of frames and
prints the frame rate, the interval between frames (what a viewer sees) and the paint
time (the renderer's own work on the UI thread), as p50/p95/worst in ms, plus the CPU time
a frame costs. A second figure paints into an offscreen image as fast as possible: the
renderer alone, without the window system.

Run from the repository root: ``python bench/render_fps.py [--size 800] [--seconds 6]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QElapsedTimer, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from app.gui.face import FacePainter, FaceView
from avatar.looks import bundled_looks, load_look
from avatar.rig import RigState

# (jawOpen, funnel, pucker, stretch, smile) per syllable: a loop of vowels and closures
SYLLABLES = [
    (0.65, 0.0, 0.0, 0.1, 0.0),
    (0.0, 0.0, 0.0, 0.0, 0.0),
    (0.4, 0.0, 0.0, 0.4, 0.2),
    (0.45, 0.55, 0.25, 0.0, 0.0),
    (0.15, 0.0, 0.0, 0.1, 0.0),
    (0.2, 0.35, 0.7, 0.0, 0.0),
]


def synthetic_state(t: float) -> RigState:
    """A talking, blinking, moving face at time ``t`` (seconds), deterministic."""
    rate = 4.5  # syllables a second, ordinary speech
    phase = t * rate
    index = int(phase) % len(SYLLABLES)
    nxt = SYLLABLES[(index + 1) % len(SYLLABLES)]
    cur = SYLLABLES[index]
    k = 0.5 - 0.5 * math.cos(math.pi * (phase % 1.0))
    jaw, funnel, pucker, stretch, smile = (a + (b - a) * k for a, b in zip(cur, nxt, strict=True))
    blink_phase = t % 3.7
    blink = max(0.0, 1.0 - abs(blink_phase - 0.08) / 0.08) if blink_phase < 0.16 else 0.0
    glance = math.sin(t * 0.9) + 0.4 * math.sin(t * 2.3)
    weights = {
        "jawOpen": jaw,
        "mouthFunnel": funnel,
        "mouthPucker": pucker,
        "mouthStretchLeft": stretch,
        "mouthStretchRight": stretch,
        "mouthSmileLeft": smile + 0.1,
        "mouthSmileRight": smile + 0.1,
        "mouthLowerDownLeft": 0.3 * jaw,
        "mouthLowerDownRight": 0.3 * jaw,
        "eyeBlinkLeft": blink,
        "eyeBlinkRight": blink,
        "browInnerUp": 0.2 + 0.2 * math.sin(t * 1.7),
    }
    return RigState(
        head_yaw=6.0 * math.sin(t * 0.6),
        head_pitch=3.0 * math.sin(t * 0.8 + 1.0),
        head_roll=2.5 * math.sin(t * 0.45),
        gaze_x=0.25 * glance,
        gaze_y=0.1 * math.sin(t * 0.7),
        ts=t,
    ).with_weights(weights)


def measure_widget(look: str, size: int, seconds: float, warmup: float) -> dict[str, float]:
    clock = QElapsedTimer()
    clock.start()
    view = FaceView(lambda: synthetic_state(clock.elapsed() / 1000.0), load_look(look))
    view.setFixedSize(size, size)
    view.setWindowTitle("dhuman render bench")
    view.show()
    app = QApplication.instance()
    assert app is not None
    cpu = {"start": 0.0}

    def start_recording() -> None:
        view.stats.reset()
        cpu["start"] = time.process_time()

    QTimer.singleShot(int(warmup * 1000), start_recording)
    QTimer.singleShot(int((warmup + seconds) * 1000), app.quit)
    app.exec()
    summary = view.stats.summary()
    view.close()
    cpu_ms = (time.process_time() - cpu["start"]) * 1000 / max(1, summary.frames)
    return {
        "fps": summary.fps,
        "frames": summary.frames,
        "interval_p50": summary.interval_p50_ms,
        "interval_p95": summary.interval_p95_ms,
        "interval_worst": summary.interval_worst_ms,
        "paint_p50": summary.paint_p50_ms,
        "paint_p95": summary.paint_p95_ms,
        "paint_worst": summary.paint_worst_ms,
        "cpu_per_frame": cpu_ms,
    }


def measure_offscreen(look: str, size: int, frames: int) -> dict[str, float]:
    painter = FacePainter(load_look(look))
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    wall, cpu = [], []
    for i in range(frames + 10):
        state = synthetic_state(i / 60.0)
        w0, c0 = time.perf_counter(), time.thread_time()
        p = QPainter(image)
        painter.paint(p, size, size, state)
        p.end()
        if i >= 10:  # the first frames build the caches
            wall.append((time.perf_counter() - w0) * 1000)
            cpu.append((time.thread_time() - c0) * 1000)
    wall.sort()
    return {
        "fps": 1000.0 / statistics.fmean(wall),
        "p50": wall[len(wall) // 2],
        "p95": wall[int(len(wall) * 0.95)],
        "worst": wall[-1],
        "cpu_p50": sorted(cpu)[len(cpu) // 2],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=800)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--look", action="append", choices=bundled_looks())
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    print(f"platform: {app.platformName()}, {args.size}x{args.size} px")
    print(
        f"{'look':13s} {'where':9s} {'fps':>6s} {'interval p50/p95/worst':>24s}"
        f" {'paint p50/p95/worst':>22s} {'cpu/frame':>10s}"
    )
    for look in args.look or ["guide", "professional"]:
        w = measure_widget(look, args.size, args.seconds, args.warmup)
        print(
            f"{look:13s} {'widget':9s} {w['fps']:6.1f} "
            f"{w['interval_p50']:8.1f}/{w['interval_p95']:5.1f}/{w['interval_worst']:6.1f} ms"
            f" {w['paint_p50']:7.1f}/{w['paint_p95']:5.1f}/{w['paint_worst']:5.1f} ms"
            f" {w['cpu_per_frame']:7.1f} ms"
        )
        o = measure_offscreen(look, args.size, 180)
        print(
            f"{look:13s} {'offscreen':9s} {o['fps']:6.1f} {'':>24s}"
            f" {o['p50']:7.1f}/{o['p95']:5.1f}/{o['worst']:5.1f} ms {o['cpu_p50']:7.1f} ms"
        )


if __name__ == "__main__":
    main()
