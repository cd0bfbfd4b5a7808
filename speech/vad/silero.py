"""Voice activity with Silero VAD v6 (ONNX, bundled inside faster-whisper) and a 4-state turn.

Silero gives a speech probability per 32 ms window (512 samples at 16 kHz, with the 64
samples before it as context, and an LSTM state carried from window to window). A small
state machine turns those probabilities into decisions, like Pipecat's VAD analyzer:

    quiet --voiced--> starting --voiced for start_ms--> speaking  (emits "start")
      ^                  |                                 |
      +----not voiced----+                              silent
      |                                                    v
      +----------silent for stop_ms (emits "stop")---- stopping --voiced--> speaking

"Voiced" uses two thresholds (hysteresis): entering speech needs ``threshold``; once
speaking, only a probability below ``neg_threshold`` counts as silence, so soft word
endings do not chop an utterance.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray

SAMPLE_RATE = 16000
WINDOW = 512  # 32 ms at 16 kHz: the only window the v6 model takes
CONTEXT = 64  # samples of the previous window prepended to each input
MODEL_FILE = "silero_vad_v6.onnx"


class VadState(Enum):
    QUIET = "quiet"
    STARTING = "starting"
    SPEAKING = "speaking"
    STOPPING = "stopping"


@dataclass(frozen=True, slots=True)
class VadParams:
    start_ms: int = 200
    stop_ms: int = 800
    threshold: float = 0.5
    neg_threshold: float = 0.35


# "elderly": slower speech with longer pauses between words and phrases; wait longer
# before deciding the turn is over, and accept softer onsets
PRESETS: dict[str, VadParams] = {
    "default": VadParams(),
    "elderly": VadParams(start_ms=250, stop_ms=1200, threshold=0.45, neg_threshold=0.3),
}


def bundled_model_path() -> Path:
    """The Silero ONNX file inside the installed faster-whisper, found without importing it."""
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        raise RoleUnavailable(
            "faster-whisper is not installed (it carries the Silero VAD model); "
            "install it (pip install faster-whisper) or choose vad.engine: fake"
        )
    for location in spec.submodule_search_locations:
        path = Path(location) / "assets" / MODEL_FILE
        if path.is_file():
            return path
    raise RoleUnavailable(
        f"the installed faster-whisper has no assets/{MODEL_FILE}; "
        "reinstall it (pip install --force-reinstall faster-whisper)"
    )


class SileroProbabilities:
    """Streaming Silero v6: one speech probability per 512-sample window at 16 kHz."""

    def __init__(self, model_path: str | Path | None = None) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        path = Path(model_path) if model_path is not None else bundled_model_path()
        self._session: Any = onnxruntime.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        names = {i.name for i in self._session.get_inputs()}
        if names != {"input", "h", "c"}:
            raise RoleUnavailable(f"{path.name} has unexpected inputs {sorted(names)}")
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)

    def __call__(self, window: FloatArray) -> float:
        """Probability that this 512-sample window is speech; advances the state."""
        if window.shape != (WINDOW,):
            raise ValueError(f"a window is {WINDOW} samples, got {window.shape}")
        batch = np.concatenate([self._context, window])[np.newaxis, :].astype(np.float32)
        prob, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        self._context = window[-CONTEXT:].copy()
        return float(np.asarray(prob).reshape(-1)[0])


class SileroVoiceActivity:
    """A :class:`app.core.roles.VoiceActivity`: frames of any length at 16 kHz in,
    ``"start"``/``"stop"`` out. Samples that do not fill a window wait for the next frame.
    """

    def __init__(
        self,
        params: VadParams | None = None,
        sample_rate: int = SAMPLE_RATE,
        model: SileroProbabilities | None = None,
    ) -> None:
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"Silero VAD v6 takes {SAMPLE_RATE} Hz audio, got {sample_rate}")
        self.params = params if params is not None else VadParams()
        self.sample_rate = sample_rate
        self._model = model if model is not None else SileroProbabilities()
        window_ms = 1000.0 * WINDOW / SAMPLE_RATE
        self._start_windows = max(1, round(self.params.start_ms / window_ms))
        self._stop_windows = max(1, round(self.params.stop_ms / window_ms))
        self.reset()

    def reset(self) -> None:
        self.state = VadState.QUIET
        self.probability = 0.0
        self.position = 0  # samples analysed since reset (decisions happen at window ends)
        self._run = 0
        self._pending = np.zeros(0, dtype=np.float32)
        self._model.reset()

    @property
    def silent_ms(self) -> float:
        """How long the current pause has lasted while the turn is still open (STOPPING);
        0 otherwise. Lets the listener start transcribing before the turn is closed."""
        if self.state is not VadState.STOPPING:
            return 0.0
        return self._run * 1000.0 * WINDOW / SAMPLE_RATE

    def process(self, frame: FloatArray) -> str | None:
        """The first state change this frame causes, if any.

        After a change the rest of the frame stays buffered and is analysed on the next
        call, so a long frame never hides a ``start`` behind a ``stop``.
        """
        self._pending = np.concatenate([self._pending, np.asarray(frame, dtype=np.float32)])
        return self._drain(stop_at_change=True)

    def process_all(self, frame: FloatArray) -> list[tuple[str, int]]:
        """Every change this frame causes, with the sample position where it was decided."""
        self._pending = np.concatenate([self._pending, np.asarray(frame, dtype=np.float32)])
        changes: list[tuple[str, int]] = []
        while (decision := self._drain(stop_at_change=True)) is not None:
            changes.append((decision, self.position))
        return changes

    def _drain(self, stop_at_change: bool) -> str | None:
        used = 0
        decision: str | None = None
        while self._pending.size - used >= WINDOW:
            window = self._pending[used : used + WINDOW]
            used += WINDOW
            self.position += WINDOW
            self.probability = self._model(window)
            decision = self._step(self.probability)
            if decision is not None and stop_at_change:
                break
        self._pending = self._pending[used:]
        return decision

    def _step(self, prob: float) -> str | None:
        p = self.params
        state = self.state
        if state in (VadState.QUIET, VadState.STARTING):
            if prob < p.threshold:
                self.state, self._run = VadState.QUIET, 0
                return None
            self._run = self._run + 1 if state is VadState.STARTING else 1
            if self._run >= self._start_windows:
                self.state, self._run = VadState.SPEAKING, 0
                return "start"
            self.state = VadState.STARTING
            return None
        # SPEAKING or STOPPING
        if prob >= p.neg_threshold:
            self.state, self._run = VadState.SPEAKING, 0
            return None
        self._run = self._run + 1 if state is VadState.STOPPING else 1
        if self._run >= self._stop_windows:
            self.state, self._run = VadState.QUIET, 0
            return "stop"
        self.state = VadState.STOPPING
        return None


def params_for(settings: Settings) -> VadParams:
    """The settings' start/stop times on top of the chosen preset (``vad.preset`` if the
    settings have it). A preset never shortens the user's own, longer stop time."""
    preset_name = settings.vad.preset
    if preset_name not in PRESETS:
        raise RoleUnavailable(
            f"unknown VAD preset {preset_name!r}; choose one of: {', '.join(PRESETS)}"
        )
    preset = PRESETS[preset_name]
    if preset_name == "default":
        return replace(preset, start_ms=settings.vad.start_ms, stop_ms=settings.vad.stop_ms)
    return replace(
        preset,
        start_ms=max(preset.start_ms, settings.vad.start_ms),
        stop_ms=max(preset.stop_ms, settings.vad.stop_ms),
    )


def build(settings: Settings) -> SileroVoiceActivity:
    """Registry factory for ``vad.engine: silero``."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise RoleUnavailable(
            "onnxruntime is not installed; install faster-whisper (it depends on it) "
            "or choose vad.engine: fake"
        ) from None
    return SileroVoiceActivity(params_for(settings))
