"""A voice-activity role that says what a test scripted, frame by frame."""

from __future__ import annotations

from app.core.types import FloatArray


class ScriptedVad:
    """Returns scripted decisions per frame; ``silent_ms`` like the Silero role's."""

    def __init__(self, script: list[str | None], silent: list[float] | None = None) -> None:
        self.script = script
        self.silent = silent or [0.0] * len(script)
        self.i = -1
        self.resets = 0

    @property
    def silent_ms(self) -> float:
        return self.silent[self.i] if 0 <= self.i < len(self.silent) else 0.0

    def process(self, frame: FloatArray) -> str | None:
        self.i += 1
        return self.script[self.i] if self.i < len(self.script) else None

    def reset(self) -> None:
        self.resets += 1
