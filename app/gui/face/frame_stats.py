"""Frame timing for the face view: how long painting took and how often frames came.

Two rolling windows: paint time (the painter's work, on whichever thread paints) and the
interval between consecutive frames shown (what a viewer sees as smoothness). No Qt, so
benches and tests can read it directly.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FrameSummary:
    frames: int
    fps: float
    paint_p50_ms: float
    paint_p95_ms: float
    paint_worst_ms: float
    interval_p50_ms: float
    interval_p95_ms: float
    interval_worst_ms: float


class FrameStats:
    """The last ``history`` frames; the newest frame's interval starts at the previous one."""

    def __init__(self, history: int = 240) -> None:
        self.paint_ms: deque[float] = deque(maxlen=history)
        self.interval_ms: deque[float] = deque(maxlen=history)
        self._last_start: float | None = None
        self.frames = 0

    def begin(self) -> float:
        """A frame starts painting here, now (its interval ends now)."""
        return self._mark()

    def end(self, started: float) -> None:
        self.paint_ms.append((time.perf_counter() - started) * 1000.0)
        self.frames += 1

    def shown(self, paint_ms: float) -> None:
        """A frame painted elsewhere (``paint_ms`` of work, on another thread) is shown now."""
        self._mark()
        self.paint_ms.append(paint_ms)
        self.frames += 1

    def _mark(self) -> float:
        now = time.perf_counter()
        if self._last_start is not None:
            self.interval_ms.append((now - self._last_start) * 1000.0)
        self._last_start = now
        return now

    def reset(self) -> None:
        self.paint_ms.clear()
        self.interval_ms.clear()
        self._last_start = None
        self.frames = 0

    def fps(self) -> float:
        if not self.interval_ms:
            return 0.0
        return 1000.0 / statistics.fmean(self.interval_ms)

    def summary(self) -> FrameSummary:
        return FrameSummary(
            frames=self.frames,
            fps=self.fps(),
            paint_p50_ms=_percentile(self.paint_ms, 50),
            paint_p95_ms=_percentile(self.paint_ms, 95),
            paint_worst_ms=max(self.paint_ms, default=0.0),
            interval_p50_ms=_percentile(self.interval_ms, 50),
            interval_p95_ms=_percentile(self.interval_ms, 95),
            interval_worst_ms=max(self.interval_ms, default=0.0),
        )


def _percentile(values: deque[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
