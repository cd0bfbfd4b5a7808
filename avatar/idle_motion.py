"""The small involuntary motions that make a face look alive: blinks, drift, breathing.

All randomness comes from a ``random.Random`` the engine seeds, so a run is repeatable.
Times are seconds on the engine's wall clock.
"""

from __future__ import annotations

import math
import random


def smoothstep(x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x * x * (3.0 - 2.0 * x)


class SmoothNoise:
    """Band-limited noise in about [-1, 1]: a sum of slow sines with random phases.

    Incommensurate frequencies never line up into a visible period, and a sum of sines is
    smooth at every derivative, so a head driven by it drifts and never jitters.
    """

    __slots__ = ("_terms",)

    def __init__(self, rng: random.Random, frequencies: tuple[float, ...]) -> None:
        amplitude = 1.0 / math.sqrt(len(frequencies))
        self._terms = tuple(
            (
                2.0 * math.pi * f * rng.uniform(0.85, 1.15),
                rng.uniform(0.0, 2.0 * math.pi),
                amplitude,
            )
            for f in frequencies
        )

    def __call__(self, t: float) -> float:
        return sum(a * math.sin(w * t + p) for w, p, a in self._terms)


class BlinkScheduler:
    """Natural blinks: a random 2-6 s gap (most near 3 s), sometimes a double blink.

    A blink is ~160 ms: the lid closes fast (60 ms), rests shut briefly and opens more
    slowly, as real lids do. ``trigger`` asks for a blink now (a large gaze shift); it is
    ignored while one is running or shortly after one, so blinks never stutter.
    """

    CLOSE = 0.06
    HOLD = 0.015
    OPEN = 0.085
    DURATION = CLOSE + HOLD + OPEN
    MIN_GAP = 2.0
    MAX_GAP = 6.0
    DOUBLE_CHANCE = 0.12
    DOUBLE_GAP = 0.26  # from the start of the first blink to the start of the second
    REFRACTORY = 0.8  # no triggered blink this soon after the last one began

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._start = -math.inf  # start of the current/last blink
        self._next: float | None = None  # when the next blink begins
        self.count = 0

    def _gap(self, rate: float) -> float:
        # a skewed draw inside [MIN_GAP, MAX_GAP]: mean ~3.5 s, i.e. ~17 blinks a minute
        gap = self.MIN_GAP + (self.MAX_GAP - self.MIN_GAP) * self._rng.betavariate(2.0, 3.5)
        return min(self.MAX_GAP, max(self.MIN_GAP, gap / max(rate, 1e-3)))

    def trigger(self, now: float) -> bool:
        if now - self._start < self.REFRACTORY:
            return False
        self._begin(now, rate=1.0)
        return True

    def _begin(self, now: float, rate: float) -> None:
        second_of_double = now - self._start < self.DOUBLE_GAP + 0.05
        self._start = now
        self.count += 1
        if not second_of_double and self._rng.random() < self.DOUBLE_CHANCE:
            self._next = now + self.DOUBLE_GAP
        else:
            self._next = now + self._gap(rate)

    def value(self, now: float, rate: float = 1.0) -> float:
        """Lid closure in [0, 1] at ``now``; ``rate`` > 1 blinks more often."""
        if self._next is None:
            # the first blink comes soon but not at once, so a new window looks alive
            self._next = now + self._rng.uniform(0.5, 2.5)
        if now >= self._next:
            self._begin(now, rate)
        u = now - self._start
        if u < 0.0 or u >= self.DURATION:
            return 0.0
        if u < self.CLOSE:
            return smoothstep(u / self.CLOSE)
        if u < self.CLOSE + self.HOLD:
            return 1.0
        return 1.0 - smoothstep((u - self.CLOSE - self.HOLD) / self.OPEN)


class Breathing:
    """A slow breath cycle (~4 s, a little irregular) as a value in [-1, 1].

    There is no chest in an ARKit rig, so the engine shows breath as a slight head rise.
    """

    __slots__ = ("_noise", "_phase")

    def __init__(self, rng: random.Random) -> None:
        self._noise = SmoothNoise(rng, (0.05, 0.11))
        self._phase = rng.uniform(0.0, 2.0 * math.pi)

    def __call__(self, t: float) -> float:
        # a breath is ~4 s; irregularity comes from a slowly wandering phase, not from a
        # wandering frequency (which would jump the phase as t grows)
        return math.sin(2.0 * math.pi * 0.25 * t + self._phase + 0.6 * self._noise(t))
