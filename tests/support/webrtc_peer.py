"""WebRTC's echo canceller (AEC3) as a peer for the echo gate in the barge-in replay.

The issue asks for a maintained library where one fits. WebRTC's audio processing
module (AEC3, the canceller in every browser) is on PyPI inside LiveKit's real-time SDK
(``pip install livekit``: Apache-2.0, a prebuilt ``liblivekit_ffi``), as
:class:`livekit.rtc.AudioProcessingModule`: 10 ms int16 frames, the far end through
``process_reverse_stream`` and the microphone through ``process_stream``.

:class:`WebRtcBargeIn` pairs each 10 ms of microphone with what the speaker played at
the same moment (the same :class:`speech.echo_gate.PlaybackReference` and
:class:`speech.echo_gate.FrameClock` the gate uses, so both get identical timing) and
lets AEC3 find the delay and cancel. Silero then hears AEC3's output with the gate's own
rule (``threshold``, ``confirm_windows`` in a row), so the replay compares the echo
handling alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.core.types import FloatArray
from speech.barge_in import GateParams
from speech.echo_gate import FrameClock, PlaybackReference

RATE = 16000
TEN_MS = RATE // 100


@dataclass(frozen=True, slots=True)
class PeerResult:
    audio: FloatArray
    vad_audio: FloatArray
    barge_in: bool


def webrtc_problem() -> str | None:
    """Why the peer cannot run here, or None."""
    try:
        from livekit import rtc  # noqa: F401
    except ImportError:
        return "WebRTC's AEC3 is not installed: pip install livekit"
    return None


def _frame(samples: FloatArray) -> Any:
    from livekit import rtc

    pcm = np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)
    return rtc.AudioFrame(bytearray(pcm.tobytes()), RATE, 1, len(pcm))


class WebRtcBargeIn:
    """AEC3 then Silero, in the shape of :class:`speech.barge_in.EchoGate` for the
    utterance collector (``process(frame, arrival)``)."""

    def __init__(self, reference: PlaybackReference, params: GateParams | None = None) -> None:
        from livekit import rtc

        from speech.vad.silero import SileroProbabilities

        self.reference = reference
        self.params = params or GateParams()
        # the gate's setup: echo handling only (no noise suppression or gain control,
        # which would change what Silero hears for reasons other than the echo)
        self._apm = rtc.AudioProcessingModule(echo_cancellation=True, high_pass_filter=True)
        self._clock = FrameClock(RATE)
        self._probability = SileroProbabilities()
        self._pending = np.zeros(0, np.float32)  # microphone not yet in a 10 ms frame
        self._cleaned = np.zeros(0, np.float32)  # AEC3 output not yet in a Silero window
        self._run = 0
        self.counting = True  # add to the echo figures below (the avatar talking alone)
        self.energy_in = 0.0  # microphone energy while the speaker sounded
        self.energy_out = 0.0  # ... and what AEC3 left of it

    def process(self, frame: FloatArray, arrival: float | None = None) -> PeerResult:
        assert arrival is not None, "the replay gives every frame's arrival"
        frame = np.asarray(frame, dtype=np.float32)
        start = self._clock.stamp(len(frame), arrival)
        t = start - len(self._pending) / RATE  # the time of the first sample still pending
        self._pending = np.concatenate([self._pending, frame])
        while len(self._pending) >= TEN_MS:
            mic, self._pending = self._pending[:TEN_MS], self._pending[TEN_MS:]
            far = self.reference.read(t, TEN_MS, RATE) if self.reference.rate else None
            self._apm.process_reverse_stream(_frame(far if far is not None else np.zeros_like(mic)))
            near = _frame(mic)
            self._apm.process_stream(near)  # cancels in place
            out = np.frombuffer(bytes(near.data), dtype=np.int16).astype(np.float32) / 32767.0
            self._cleaned = np.concatenate([self._cleaned, out])
            if self.counting and far is not None and np.any(far):
                self.energy_in += float(np.dot(mic, mic))
                self.energy_out += float(np.dot(out, out))
            t += TEN_MS / RATE
        # Silero's 32 ms windows lag the 10 ms frames by at most one window
        cleaned, self._cleaned = self._cleaned[: len(frame)], self._cleaned[len(frame) :]
        if len(cleaned) < len(frame):
            cleaned = np.concatenate([np.zeros(len(frame) - len(cleaned), np.float32), cleaned])
        voiced = self._probability(cleaned) >= self.params.threshold
        self._run = self._run + 1 if voiced else 0
        return PeerResult(cleaned, cleaned, self._run == self.params.confirm_windows)

    @property
    def echo_removed_db(self) -> float:
        """Echo return loss enhancement over the counted frames (dB)."""
        return float(10 * np.log10(max(self.energy_in, 1e-12) / max(self.energy_out, 1e-12)))
