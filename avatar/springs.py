"""Critically damped springs: eased motion toward a moving target without overshoot.

A critically damped spring is the smoothest way to chase a target that can change at any
frame: velocity is continuous (no visible snap when the target moves), it never overshoots
(no wobbling brows) and the exact solution below is stable for any frame time, so a frame
that comes late only moves the value further along the same curve.

For a unit step the fastest the value moves is ``omega / e`` per second, which is what
bounds the per-frame change of eased channels (see ``max_speed``).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]


def max_speed(omega: float, step: float) -> float:
    """The largest rate (units per second) a spring reaches after a target jump of ``step``."""
    return abs(step) * omega / math.e


class VectorSpring:
    """Many independent critically damped springs sharing one stiffness ``omega`` (rad/s)."""

    __slots__ = ("omega", "value", "velocity")

    def __init__(self, size: int, omega: float) -> None:
        self.omega = omega
        self.value: Vector = np.zeros(size)
        self.velocity: Vector = np.zeros(size)

    def step(self, target: Vector, dt: float) -> Vector:
        """Advance ``dt`` seconds toward ``target``; returns the (shared) value array."""
        if dt <= 0.0:
            return self.value
        w = self.omega
        decay = math.exp(-w * dt)
        offset = self.value - target
        temp = (self.velocity + w * offset) * dt
        self.velocity = (self.velocity - w * temp) * decay
        self.value = target + (offset + temp) * decay
        return self.value

    def snap(self, value: Vector) -> None:
        """Jump to ``value`` at rest (used when an outside source, the mirror, took over)."""
        self.value = np.array(value, dtype=np.float64)
        self.velocity = np.zeros_like(self.value)


class ScalarSpring:
    """One critically damped spring; cheaper than a one-element vector for head angles."""

    __slots__ = ("omega", "value", "velocity")

    def __init__(self, omega: float, value: float = 0.0) -> None:
        self.omega = omega
        self.value = value
        self.velocity = 0.0

    def step(self, target: float, dt: float) -> float:
        if dt <= 0.0:
            return self.value
        w = self.omega
        decay = math.exp(-w * dt)
        offset = self.value - target
        temp = (self.velocity + w * offset) * dt
        self.velocity = (self.velocity - w * temp) * decay
        self.value = target + (offset + temp) * decay
        return self.value

    def snap(self, value: float) -> None:
        self.value = value
        self.velocity = 0.0
