"""Echo-robust barge-in: did a person start speaking while the avatar talks?

:class:`EchoGate` takes each 16 kHz microphone frame and what the speaker played
(:class:`speech.echo_gate.PlaybackReference`) and returns:

* ``audio``: the microphone minus the predicted echo (NLMS), for transcription;
* ``vad_audio``: the same, silenced wherever the residual is explained by echo, so the
  ordinary voice-activity detector never starts on the avatar's own voice;
* ``barge_in``: True on the frame where a person is judged to have started speaking over
  the avatar: the residual is well above what the echo leaves behind AND Silero calls
  it speech, for ``confirm_windows`` windows in a row. ``bench/barge_in_echo.py`` over a
  30 ms loopback: 0 false starts in minutes of the avatar's speech; a person at the
  avatar's level is heard ~90 ms (p50) after the voice's onset, ~260-390 ms at p95 (the
  Silero confirmation is the slow part; energy alone is faster but starts on the echo).

When the speaker has been silent for longer than the echo path, the gate is
transparent (the frame passes unchanged, nothing is computed). Until the echo path has
been learned (``learn_s`` of the avatar's speech after start-up or a path change), no
barge-in is allowed while the avatar speaks: the echo cannot be told from a person yet.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from app.core.types import FloatArray
from speech.echo_gate import BlockNlms, FrameClock, PlaybackReference, estimate_delay

_LOG = logging.getLogger(__name__)

RATE = 16000
FRAME = 512


class SpeechProbability(Protocol):
    """Silero's streaming interface (:class:`speech.vad.silero.SileroProbabilities`)."""

    def __call__(self, window: FloatArray) -> float: ...
    def reset(self) -> None: ...


@dataclass(frozen=True, slots=True)
class GateParams:
    max_delay_s: float = 0.6  # echo path + capture latency searched for
    lead_s: float = 0.016  # the filter starts this much before the estimated delay
    partitions: int = 2  # filter length: partitions x 32 ms
    learn_s: float = 1.5  # avatar speech needed before barge-in is trusted
    margin: float = 4.0  # band power over the expected leftover echo (6 dB)
    min_level: float = 1e-5  # power a person must reach after suppression (-50 dBFS)
    min_ratio: float = 0.05  # ... and relative to the echo (-13 dB): leftovers stay below
    threshold: float = 0.4  # Silero probability on the suppressed residual (see the bench)
    confirm_windows: int = 2  # voiced windows in a row that make a barge-in
    hold_s: float = 0.2  # adaptation needed after the alignment moved (slip, new delay)
    refresh_s: float = 0.5  # how often the echo delay is re-estimated
    history_s: float = 2.0  # microphone history used for the delay estimate


@dataclass(frozen=True, slots=True)
class GateResult:
    audio: FloatArray
    vad_audio: FloatArray
    echo: bool  # the speaker's sound can be in this frame
    barge_in: bool  # a person started speaking over the avatar on this frame
    voiced: bool  # this frame alone looks like a person over the echo


def _power(x: FloatArray) -> float:
    return float(np.mean(np.square(x, dtype=np.float64))) if len(x) else 0.0


class EchoGate:
    """Reference-gated speech detection for one microphone (not thread-safe: one feeder)."""

    def __init__(
        self,
        reference: PlaybackReference,
        *,
        params: GateParams | None = None,
        probability: SpeechProbability | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reference = reference
        self.params = params if params is not None else GateParams()
        self._probability = probability
        self._now = clock
        self._frames = FrameClock(RATE)
        p = self.params
        self._filter = BlockNlms(FRAME, p.partitions)
        self._history: deque[tuple[float, FloatArray]] = deque()
        self._history_frames = int(p.history_s * RATE / FRAME)
        self._sounding: deque[bool] = deque(maxlen=p.partitions)  # reference blocks not silent
        self.delay: float | None = None  # echo delay (s) relative to the frame clock
        self._pending: float | None = None  # a new delay waiting for confirmation
        self._slips = (0, 0)  # reference slips and frame-clock moves seen so far
        self._quiet_after = 0.0  # no delay estimates before this (a person was heard)
        self._next_estimate = 0.0
        self._learned = 0.0  # seconds of echo the filter has adapted on
        self._leftover = np.ones(len(_WIDTHS))  # residual/echo power per band, echo only
        self._run = 0  # voiced frames in a row
        self._active = False  # echo was present on the previous frame
        self.probability = 0.0  # Silero's last value on the residual
        self.frames_with_echo = 0

    @property
    def learned(self) -> bool:
        return self.delay is not None and self._learned >= self.params.learn_s

    def process(self, frame: FloatArray, arrival: float | None = None) -> GateResult:
        """One microphone frame (512 samples at 16 kHz); ``arrival`` defaults to now."""
        frame = np.asarray(frame, dtype=np.float32)
        now = self._now() if arrival is None else arrival
        start = self._frames.stamp(len(frame), now)
        self._remember(start, frame)
        p = self.params
        delay = self.delay if self.delay is not None else p.max_delay_s / 2
        # the reference block the filter pairs with this frame; the filter keeps older ones
        ref = self.reference.read(start - (delay - p.lead_s), FRAME, RATE)
        if self.delay is None:
            # the echo may come back any time within max_delay_s: until the delay is
            # known, all of that counts (else the first words would pass ungated)
            span = int(p.max_delay_s * RATE) + FRAME
            recent = self.reference.read(start - p.max_delay_s, span, RATE, precise=False)
            self._sounding.append(bool(np.any(np.abs(recent) > 1e-6)))
        else:
            self._sounding.append(bool(np.any(np.abs(ref) > 1e-6)))
        if len(frame) != FRAME or not any(self._sounding):  # nothing within the filter's reach
            if self._active:  # the speaker went quiet: keep the path, drop the old reference
                self._active = False
                self._run = 0
                self._filter.clear_history()
            return GateResult(frame, frame, False, False, False)
        if not self._active and self._probability is not None:
            self._probability.reset()  # a new stretch of the avatar's speech
        self._active = True
        self.frames_with_echo += 1
        slips = (self.reference.slips, self._frames.moves)
        if slips != self._slips:  # the speaker or microphone timeline moved
            self._slips = slips
            self._hold()
        if now >= self._next_estimate and now >= self._quiet_after:
            self._next_estimate = now + p.refresh_s
            self._update_delay()
        estimate = self._filter.predict(ref)
        residual = (frame - estimate).astype(np.float32)
        kept, spectra = self._suppress(residual, estimate)
        echo_power = _power(estimate)
        kept_power = _power(kept)
        loud = kept_power > max(p.min_level, p.min_ratio * echo_power)
        # a residual that still looks like the echo estimate is a mis-learned path (volume
        # changed), not a person: keep learning from it
        explained = loud and _correlation(residual, estimate) > 0.5
        if self.delay is None:
            pass  # nothing to pair the microphone with yet: learning would only diverge
        elif not loud or explained:
            self._filter.adapt(residual)
            self._learned += FRAME / RATE
            self._track_leftover(*spectra)
        person = loud and not explained
        if person:  # a person over the echo spoils the delay estimate for a while
            self._quiet_after = now + p.history_s
        vad_audio = kept if person else np.zeros_like(kept)
        # Silero runs on every echo frame (its state needs a continuous stream) but only
        # ever hears what the suppression let through
        prob = self._probability(vad_audio) if self._probability is not None else 1.0
        self.probability = prob
        voiced = person and prob >= p.threshold
        self._run = self._run + 1 if voiced else 0
        barge_in = self._run == p.confirm_windows
        if barge_in:
            _LOG.info(
                "barge-in over the echo: kept %.1f dB re echo, Silero %.2f, delay %.1f ms, "
                "learned %.1f s, slips %s",
                10 * np.log10(kept_power / max(echo_power, 1e-12)),
                prob,
                1e3 * (self.delay or 0.0),
                self._learned,
                self._slips,
            )
        return GateResult(residual, vad_audio, True, barge_in, voiced)

    def _suppress(
        self, residual: FloatArray, estimate: FloatArray
    ) -> tuple[FloatArray, tuple[np.ndarray, np.ndarray]]:
        """The residual with every band the leftover echo can explain silenced.

        Per band: what the echo leaves after the filter is ``leftover x echo estimate``
        (learned on echo-only frames); a band passes only where the residual exceeds
        ``margin`` times that. Misalignment and resampling leave most echo at high
        frequencies, while a voice's energy is low: bands keep the gate sensitive there.
        """
        res_spec = np.fft.rfft(residual)
        res_bands = _bands(np.abs(res_spec) ** 2)
        echo_bands = _bands(np.abs(np.fft.rfft(estimate)) ** 2)
        if not self.learned:
            return np.zeros_like(residual), (res_bands, echo_bands)
        expected = self.params.margin * self._leftover * echo_bands
        gains = np.clip(1.0 - expected / np.maximum(res_bands, 1e-12), 0.0, 1.0)
        kept = np.fft.irfft(res_spec * np.repeat(gains, _WIDTHS), len(residual))
        return kept.astype(np.float32), (res_bands, echo_bands)

    def _track_leftover(self, res_bands: np.ndarray, echo_bands: np.ndarray) -> None:
        """Per band, an upper estimate of residual/echo power on echo-only frames (log
        domain: up fast, down slowly), so one lucky frame does not make the gate trusting."""
        heard = echo_bands > 1e-9 * FRAME
        if not np.any(heard):
            return
        ratio = np.log(np.maximum(res_bands[heard] / echo_bands[heard], 1e-6))
        now = np.log(self._leftover[heard])
        rate = np.where(ratio > now, 0.3, 0.05)
        self._leftover[heard] = np.exp(now + rate * (ratio - now))

    # ------------------------------------------------------------ internals
    def _remember(self, start: float, frame: FloatArray) -> None:
        self._history.append((start, frame))
        while len(self._history) > self._history_frames:
            self._history.popleft()

    def _update_delay(self) -> None:
        """Re-estimate the echo delay; move the alignment only on a confirmed change.

        The filter's taps describe the path relative to the alignment, so after a real
        change they stay valid when the alignment follows it; a noisy estimate must not
        move it (hence two agreeing estimates).
        """
        if len(self._history) < self._history_frames // 2:
            return
        p = self.params
        first = self._history[0][0]
        mic = np.concatenate([f for _, f in self._history])
        max_lag = int(p.max_delay_s * RATE)
        ref = self.reference.read(first - p.max_delay_s, len(mic) + max_lag, RATE, precise=False)
        found = estimate_delay(mic, ref, max_lag)
        if found is None or found[1] < 8.0:
            return
        delay = found[0] / RATE
        # the filter reaches ``lead_s`` either side of the alignment and follows small
        # changes itself; moving the alignment costs a hold, so only large moves count
        if self.delay is not None and abs(delay - self.delay) <= p.lead_s / 2:
            self._pending = None
            return
        if self.delay is not None and (self._pending is None or abs(delay - self._pending) > 0.001):
            self._pending = delay  # wait for a second estimate to agree
            return
        _LOG.info("echo delay %.1f ms (confidence %.0f)", delay * 1e3, found[1])
        if self.delay is None or abs(delay - self.delay) > p.lead_s:
            self._filter.reset()  # the path left the filter's reach: learn it again
            self._learned = 0.0
            self._leftover[:] = 1.0
        else:
            self._hold()
        self.delay = delay
        self._pending = None

    def _hold(self) -> None:
        """The alignment moved: no barge-in until the filter has adapted a little."""
        self._learned = min(self._learned, self.params.learn_s - self.params.hold_s)


# bands of the 257 bins of a 512-point spectrum: narrow where voices are, wide above
_EDGES = np.array([0, 4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 257])
_WIDTHS = np.diff(_EDGES)


def _bands(power: np.ndarray) -> np.ndarray:
    summed: np.ndarray = np.add.reduceat(power, _EDGES[:-1])
    return summed / _WIDTHS


def _correlation(a: FloatArray, b: FloatArray) -> float:
    den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return abs(float(np.dot(a, b))) / den if den > 0 else 0.0
