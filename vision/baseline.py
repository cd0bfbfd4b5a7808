"""A person's neutral face, learned over their first seconds in front of the camera.

Faces differ at rest: some mouths turn down, some brows sit low, and the expression CNN
reads some resting faces as "sad" or "angry". Affect cues are therefore measured against
this person's own resting values, learned while they are present and forgotten when they
leave (a new person gets a new baseline).

The resting value of a feature is a low percentile of what was seen (robust to a smile
during learning), capped at ``caps[name]``: a 0.9 smile held from the first second is not
a resting face, so it must not become the baseline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


class NeutralBaseline:
    def __init__(
        self,
        learn_s: float = 2.0,
        percentile: float = 30.0,
        caps: Mapping[str, float] | None = None,
        max_samples: int = 120,
    ):
        self.learn_s = learn_s
        self.percentile = percentile
        self.caps = dict(caps or {})
        self.max_samples = max_samples
        self._started: float | None = None
        self._samples: dict[str, list[float]] = {}
        self._values: dict[str, float] = {}
        self._frozen = False
        self._elapsed = 0.0

    @property
    def maturity(self) -> float:
        """0 with no samples, 1 once the learning window is over."""
        if self._frozen or self.learn_s <= 0:
            return 1.0
        return min(1.0, self._elapsed / self.learn_s)

    @property
    def ready(self) -> bool:
        return self._frozen

    def observe(self, features: Mapping[str, float], ts: float) -> None:
        """Add one frame's features while learning; ignored once learnt."""
        if self._frozen:
            return
        if self._started is None:
            self._started = ts
        self._elapsed = ts - self._started
        for name, value in features.items():
            samples = self._samples.setdefault(name, [])
            if len(samples) < self.max_samples:
                samples.append(float(value))
        self._values = {name: self._resting(name, s) for name, s in self._samples.items()}
        if self._elapsed >= self.learn_s:
            self._frozen = True

    def value(self, name: str, default: float = 0.0) -> float:
        return self._values.get(name, min(default, self.caps.get(name, default)))

    def delta(self, features: Mapping[str, float]) -> dict[str, float]:
        """Each feature minus its resting value."""
        return {name: value - self.value(name) for name, value in features.items()}

    def reset(self) -> None:
        self._started = None
        self._elapsed = 0.0
        self._samples.clear()
        self._values.clear()
        self._frozen = False

    def _resting(self, name: str, samples: list[float]) -> float:
        resting = float(np.percentile(samples, self.percentile))
        cap = self.caps.get(name)
        return min(resting, cap) if cap is not None else resting
