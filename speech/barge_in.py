"""Echo-robust barge-in: did a person start speaking while the avatar talks?

:class:`EchoGate` takes each 16 kHz microphone frame and what the speaker played
(:class:`speech.echo_gate.PlaybackReference`) and returns:

* ``audio``: the microphone minus the predicted echo (NLMS), for transcription;
* ``vad_audio``: the same, silenced wherever the residual is explained by echo, so the
  ordinary voice-activity detector never starts on the avatar's own voice;
* ``barge_in``: True on the frame where a person is judged to have started speaking over
  the avatar: the residual passed the suppression AND Silero calls it speech, for
  ``confirm_windows`` windows in a row; the louder the residual is over the echo
  estimate, the less Silero must say, and a frame far over it (or one Silero is sure
  of) confirms alone (:meth:`EchoGate._evidence`).

Measured in audio time (``bench/barge_in_offline.py``: a real loopback recording replayed
with real phrases mixed in at known samples, 48 trials at the avatar's level): onset ->
barge-in p50 49 ms, p95 128 ms, 0 false barge-ins in 206 s of the avatar alone (the
previous rule, two windows at Silero 0.4: p50 70, p95 215 ms, 2 false).

The canceller's state is watched (recent ERLE on echo-only frames). Small timeline
corrections (a few ms of clock drift the reference or the frame clock catch up with) move
the alignment with them instead of making the filter learn again; while the canceller is
lost anyway (a real underrun), only a voice well above the whole echo counts.

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
    # Prior: a person talking over the avatar is loud next to what the echo leaves behind
    # (the canceller's leftovers stayed below +1 dB over the echo estimate in
    # bench/barge_in_offline.py), and Silero is slow to believe a soft or fricative onset.
    # So the louder the residual is over the echo estimate, the less Silero must say:
    strong_db: float = 3.0  # over this (and ``strong_level``) a frame is "strong" ...
    strong_level: float = 1e-4  # ... (-40 dBFS: not room noise in the avatar's pauses)
    strong_threshold: float = 0.15  # ... and needs only this Silero probability
    energy_db: float = 15.0  # a strong frame this far over needs none (fricatives)
    # one window confirms on its own (counts twice) when strong and this far over ...
    single_db: float = 6.0
    single_threshold: float = 0.25
    # ... or when Silero is sure and the residual is not far below the echo estimate
    # (the leftovers' Silero probability stayed below 0.6 in the bench)
    sure_threshold: float = 0.7
    sure_db: float = -6.0
    # the canceller must have been removing echo lately (echo-only frames' microphone over
    # residual power, ~22 dB when it works): right after a timeline slip it is not, and
    # then the echo itself passes for a person unless a voice is well above all of it
    min_erle_db: float = 10.0
    lost_drop_db: float = 6.0  # ... or this far below its usual ERLE, whichever is lower
    lost_db: float = 6.0
    hold_s: float = 0.2  # adaptation needed after the alignment moved (slip, new delay)
    drift_s: float = 0.004  # timeline moves up to this are clock corrections, not gaps
    drift_after_s: float = 5.0  # ... after a stretch of playback at least this long
    settle_s: float = 0.1  # adaptation needed after such a correction
    refresh_s: float = 0.5  # how often the echo delay is re-estimated
    history_s: float = 2.0  # microphone history used for the delay estimate


@dataclass(frozen=True, slots=True)
class GateResult:
    audio: FloatArray
    vad_audio: FloatArray
    echo: bool  # the speaker's sound can be in this frame
    barge_in: bool  # a person started speaking over the avatar on this frame
    voiced: bool  # this frame alone looks like a person over the echo
    over_echo_db: float = -120.0  # the suppressed residual's power over the echo estimate


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
        self._run = 0  # evidence in a row (voiced frames; a very strong one counts twice)
        self._erle = [0.0, 0.0]  # recent echo-only microphone and residual power (decaying)
        self._gain = [0.0, 0.0]  # echo-only microphone and reference power (decaying)
        self._ref_powers: deque[float] = deque(maxlen=p.partitions + 1)  # the filter's reach
        self._active = False  # echo was present on the previous frame
        self._lost = False  # the canceller was lost on the previous echo frame
        self._usual_erle = 0.0  # its long-run ERLE (dB) while it worked
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
        slips = (self.reference.slips, self._frames.moves)
        if slips != self._slips:  # the speaker or microphone timeline moved (before reading)
            self._timeline_moved(slips)
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
        if now >= self._next_estimate and now >= self._quiet_after:
            self._next_estimate = now + p.refresh_s
            self._update_delay()
        self._ref_powers.append(_power(ref))
        estimate = self._filter.predict(ref)
        residual = (frame - estimate).astype(np.float32)
        kept, spectra = self._suppress(residual, estimate)
        echo_power = _power(estimate)
        kept_power = _power(kept)
        loud = kept_power > max(p.min_level, p.min_ratio * echo_power)
        # a residual that still looks like the echo estimate is a mis-learned path (volume
        # changed), not a person: keep learning from it
        explained = loud and _correlation(residual, estimate) > 0.5
        # the canceller lost the path (a slip it has not caught up with): its estimate is
        # wrong too, so a person is judged against the echo the path gain predicts, and
        # only a voice well above all of it counts
        # lost: far below what this canceller usually achieves (rooms and timing differ:
        # 10-25 dB were seen through the same loopback), or below nothing useful
        lost = self.erle_db < min(p.min_erle_db, self._usual_erle - p.lost_drop_db)
        if lost != self._lost:
            self._lost = lost
            _LOG.debug("echo canceller %s (ERLE %.0f dB)", "lost" if lost else "back", self.erle_db)
        over = 10 * float(np.log10(max(kept_power, 1e-12) / max(echo_power, 1e-12)))
        if lost:
            over = self._over_whole_echo(kept_power)
        person = loud and not explained and (not lost or over >= p.lost_db)
        if not person:  # learning from a lost path's echo is the only way back
            self._filter.adapt(residual)
            self._learned += FRAME / RATE
            self._track_erle(frame, residual)
            if not lost:  # a lost path's leftovers are not what the gate should expect
                self._track_leftover(*spectra)
        if person:  # a person over the echo spoils the delay estimate for a while
            self._quiet_after = now + p.history_s
        vad_audio = kept if person else np.zeros_like(kept)
        # Silero runs on every echo frame (its state needs a continuous stream) but only
        # ever hears what the suppression let through
        prob = self._probability(vad_audio) if self._probability is not None else 1.0
        self.probability = prob
        weight = self._evidence(over, kept_power, prob, lost) if person else 0
        voiced = weight > 0
        before = self._run
        self._run = self._run + weight if voiced else 0
        barge_in = before < p.confirm_windows <= self._run
        if barge_in:
            _LOG.info(
                "barge-in over the echo: kept %.1f dB re echo, Silero %.2f, ERLE %.0f dB, "
                "delay %.1f ms, learned %.1f s, slips %s",
                over,
                prob,
                self.erle_db,
                1e3 * (self.delay or 0.0),
                self._learned,
                self._slips,
            )
        return GateResult(residual, vad_audio, True, barge_in, voiced, over)

    def _evidence(self, over: float, power: float, prob: float, lost: bool) -> int:
        """How much a frame that passed the suppression says "a person": 0 (not voiced),
        1 (one window of ``confirm_windows``) or 2 (enough on its own)."""
        p = self.params
        strong = not lost and over >= p.strong_db and power >= p.strong_level
        if strong and over >= p.energy_db:
            needed = 0.0
        else:
            needed = p.strong_threshold if strong else p.threshold
        if prob < needed:
            return 0
        single = (strong and over >= p.single_db and prob >= p.single_threshold) or (
            not lost and prob >= p.sure_threshold and over >= p.sure_db
        )
        return 2 if single else 1

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

    @property
    def erle_db(self) -> float:
        """How much echo the canceller removed lately (dB), on echo-only frames."""
        mic, residual = self._erle
        return 10 * float(np.log10(max(mic, 1e-12) / max(residual, 1e-12))) if mic > 0 else 0.0

    def _over_whole_echo(self, power: float) -> float:
        """``power`` over the echo expected from the reference and the path's gain (dB)."""
        mic, reference = self._gain
        whole = mic / reference * max(self._ref_powers) if reference > 0 else 0.0
        return 10 * float(np.log10(max(power, 1e-12) / whole)) if whole > 0 else -120.0

    def _track_erle(self, frame: FloatArray, residual: FloatArray) -> None:
        mic = _power(frame)
        if mic < self.params.min_level:  # the avatar's pauses say nothing about the canceller
            return
        # ~5 frames of memory: a slip shows within a few frames, recovery as fast
        self._erle = [0.8 * self._erle[0] + mic, 0.8 * self._erle[1] + _power(residual)]
        if not self._lost:  # the echo's level for a lost canceller, and its usual ERLE
            reach = max(self._ref_powers, default=0.0)
            self._gain = [0.95 * self._gain[0] + mic, 0.95 * self._gain[1] + reach]
            self._usual_erle += 0.02 * (self.erle_db - self._usual_erle)

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

    def _timeline_moved(self, slips: tuple[int, int]) -> None:
        """The reference or the frame clock re-placed its samples on the clock.

        A small move (a few ms) is the clock correcting drift it had let build up: the
        sound did not move, only its timestamps, and the filter had followed the drift
        sample by sample. Moving the alignment by the same amount keeps the learned path
        valid (holding instead left the canceller lost for ~1.5 s after every such move,
        every ~20 s on a busy machine, and its echo then passed for a person). A large
        move is a real gap (an underrun, a restart): the sound moved with its timestamps,
        the alignment stays and the filter gets a hold to adapt.
        """
        shift = 0.0
        drift = True
        if slips[0] != self._slips[0]:
            shift -= self.reference.last_slip_s
            # a young stretch was only placed from its first blocks' timestamps: its
            # correction is where the sound really was, not drift
            drift = self.reference.last_slip_after_s >= self.params.drift_after_s
        if slips[1] != self._slips[1]:  # the frame clock moves only for drift
            shift += self._frames.last_move_s
        self._slips = slips
        if self.delay is not None and drift and abs(shift) <= self.params.drift_s:
            self.delay += shift
            # the frames around the move were filtered with the old placement: a moment
            # of adaptation before a barge-in is trusted again
            self._hold(self.params.settle_s)
        else:
            self._hold()

    def _hold(self, seconds: float | None = None) -> None:
        """The alignment moved: no barge-in until the filter has adapted a little."""
        hold = self.params.hold_s if seconds is None else seconds
        self._learned = min(self._learned, self.params.learn_s - hold)


# bands of the 257 bins of a 512-point spectrum: narrow where voices are, wide above
_EDGES = np.array([0, 4, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 257])
_WIDTHS = np.diff(_EDGES)


def _bands(power: np.ndarray) -> np.ndarray:
    summed: np.ndarray = np.add.reduceat(power, _EDGES[:-1])
    return summed / _WIDTHS


def _correlation(a: FloatArray, b: FloatArray) -> float:
    den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
    return abs(float(np.dot(a, b))) / den if den > 0 else 0.0
