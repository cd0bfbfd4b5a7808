"""The signal side of echo-robust listening: what the speaker played, and how to remove it.

A kiosk with a loudspeaker hears its own voice through the microphone. Three pieces let
the listener subtract that echo before deciding that a person spoke:

* :class:`PlaybackReference`: a ring of the samples the speaker played, with the time
  each one reached the DAC (written cheaply from the output callback).
* :class:`FrameClock` and :func:`estimate_delay`: when each microphone frame was heard,
  and how long the echo takes from the DAC to the microphone (found by GCC-PHAT
  cross-correlation, so no device timestamp needs to be exact).
* :class:`BlockNlms`: a partitioned-block frequency-domain NLMS filter that learns the
  echo path (gain, delay spread, colouring) and predicts the echo from the reference.

All times are ``time.monotonic()`` seconds; all microphone audio is 16 kHz float32.
:mod:`speech.barge_in` combines them into decisions.
"""

from __future__ import annotations

import functools
import statistics
import threading
from collections import deque

import numpy as np

from app.core.types import FloatArray

_SHIFT_S = 0.002  # a lasting timestamp error this large: the stream was delayed (underrun)
_SHIFT_BLOCKS = 6  # blocks that must agree on a shift (isolated timestamp spikes are noise)
_SETTLE_BLOCKS = 32  # blocks averaged to place a new stretch on the clock
_SEGMENTS = 64  # stretches remembered (each underrun or restart starts one)


class StreamClock:
    """``time.monotonic()`` for a time on an audio stream's own clock, free of callback lateness.

    PortAudio stamps each callback (``currentTime``, ``outputBufferDacTime``) on the
    stream's clock before any Python runs. Reading ``time.monotonic()`` inside the
    callback instead adds however long the callback waited for the interpreter (a garbage
    collection, a busy thread: tens of ms on a loaded machine), and an echo canceller needs
    the reference placed to a fraction of a millisecond. Each callback gives one reading
    of ``monotonic now - stream now``: the clocks' offset plus that wait. The least
    reading of the last ``window_s`` is the offset: a late callback cannot move it, and a
    change of either clock (the wall clock set, a reopened stream) is followed within the
    window.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        self._window = window_s
        # (monotonic time, offset) with offsets increasing: the front is the window's least
        self._readings: deque[tuple[float, float]] = deque()

    def reset(self) -> None:
        """Forget the offset (a new stream may run on another clock)."""
        self._readings.clear()

    def monotonic(self, stream_time: float, stream_now: float, now: float) -> float:
        """``stream_time`` on the monotonic clock, given both clocks read now (the stream's
        by PortAudio for this callback, ``now`` by the callback itself)."""
        offset = now - stream_now
        readings = self._readings
        while readings and readings[-1][1] >= offset:
            readings.pop()
        readings.append((now, offset))
        while readings[0][0] < now - self._window:
            readings.popleft()
        return stream_time + readings[0][1]


class PlaybackReference:
    """What the speaker played and when: a ring of output samples with a DAC clock.

    :meth:`write` is called from the output callback with every block (silence too) and
    the DAC time of its first sample. The samples go to a ring; the times go to a list
    of *stretches*: runs of samples that played back to back, each placed on the clock
    once (the average of its first blocks' timestamps) and then left alone, because
    per-callback timestamps jitter by milliseconds and an echo canceller needs the
    reference aligned to a fraction of a sample. A new stretch begins when several
    blocks in a row agree that the stream slipped (an underrun, a restart, drift).
    :meth:`read` returns what was at the DAC over any span of time, at the reader's
    rate, zeros where nothing was played (gaps, or older than the ring).
    """

    def __init__(self, seconds: float = 8.0) -> None:
        self._seconds = seconds
        self._lock = threading.Lock()
        self.rate = 0
        self._ring = np.zeros(0, dtype=np.float32)
        self._written = 0  # samples ever written (ring position = written % size)
        # stretches: (first sample, DAC time of that sample)
        self._segments: deque[tuple[int, float]] = deque(maxlen=_SEGMENTS)
        self._blocks = 0  # blocks placed in the newest stretch
        self._recent: deque[tuple[int, float]] = deque(maxlen=_SHIFT_BLOCKS)  # (sample, error)
        self.slips = 0  # stretches begun after the first (underruns, restarts)
        self._placed = 0.0  # where the newest stretch was first placed
        self._settle: list[float] = []  # its blocks' timestamp errors against that

    def write(
        self, block: FloatArray, dac_time: float, rate: int, *, resumed: bool = False
    ) -> None:
        """Record one output block (mono) that reaches the DAC at ``dac_time``.

        ``resumed``: the stream did not play on from the block before (an underrun, a
        restarted stream), so this block starts a new stretch at once; a slip found from
        the timestamps alone takes several blocks to confirm, while the echo of the
        misplaced ones already reaches the microphone."""
        count = len(block)
        with self._lock:
            if rate != self.rate:
                self.rate = rate
                self._ring = np.zeros(int(self._seconds * rate), dtype=np.float32)
                self._written = 0
                self._segments.clear()
            size = len(self._ring)
            if count == 0 or size == 0:
                return
            if resumed and self._segments:
                self._start_stretch(self._written, dac_time, slip=True)
            else:
                self._place(dac_time)
            start = self._written % size
            first = min(count, size - start)
            self._ring[start : start + first] = block[:first]
            if first < count:
                self._ring[: count - first] = block[first:]
            self._written += count

    def _place(self, dac_time: float) -> None:
        """Put the block starting at sample ``_written`` on the clock (lock held)."""
        if not self._segments:
            self._start_stretch(self._written, dac_time, slip=False)
            return
        first, origin = self._segments[-1]
        error = dac_time - (origin + (self._written - first) / self.rate)
        if self._blocks < _SETTLE_BLOCKS:  # still placing the stretch: median of errors
            self._settle.append(error + (origin - self._placed))
            # statistics, not numpy: np.median imports numpy.ma on first use (numpy 2.x),
            # tens of ms with the GIL held inside the audio callback at the reply's start
            self._segments[-1] = (first, self._placed + statistics.median(self._settle))
            self._blocks += 1
            return
        self._recent.append((self._written, error))
        errors = [e for _, e in self._recent]
        if len(errors) < _SHIFT_BLOCKS or min(abs(e) for e in errors) < _SHIFT_S:
            return
        if max(errors) - min(errors) > _SHIFT_S or (errors[0] > 0) != (errors[-1] > 0):
            return  # jitter, not a lasting slip
        # the stream slipped at the oldest of these blocks: a new stretch from there
        begin = self._recent[0][0]
        self._start_stretch(begin, origin + (begin - first) / self.rate + errors[0], slip=True)

    def _start_stretch(self, first: int, origin: float, *, slip: bool) -> None:
        """A new stretch from sample ``first``, tentatively at ``origin`` (lock held);
        ``slip``: it follows another (an underrun, a restart), not the very first."""
        self._segments.append((first, origin))
        self._placed = origin  # the first estimate; settling adds the median error to it
        self._settle = [0.0]
        self._blocks = 1  # placed by its first block so far
        self._recent.clear()
        if slip:
            self.slips += 1

    def read(
        self, start: float, count: int, rate: int = 16000, *, precise: bool = True
    ) -> FloatArray:
        """``count`` samples at ``rate`` of what reached the DAC from time ``start`` on.

        ``precise`` interpolates band-limited (what an echo canceller needs); otherwise
        linearly, which is cheaper and good enough to find a delay.
        """
        out = np.zeros(count, dtype=np.float32)
        with self._lock:
            if self.rate == 0 or not self._segments or count <= 0:
                return out
            src_rate, size, written = self.rate, len(self._ring), self._written
            segments = list(self._segments)
            oldest = written - size
            pieces = []
            end = start + count / rate
            for i, (first, origin) in enumerate(segments):
                last = segments[i + 1][0] if i + 1 < len(segments) else written
                if last <= max(first, oldest) or origin + (last - first) / src_rate <= start:
                    continue
                if origin >= end:
                    break
                lo_pos = int(np.floor((start - origin) * src_rate)) + first - _HALF
                hi_pos = int(np.ceil((end - origin) * src_rate)) + first + _HALF + 1
                lo, hi = max(lo_pos, first, oldest), min(hi_pos, last)
                if hi <= lo:
                    continue
                span = np.zeros(hi_pos - lo_pos, dtype=np.float32)
                span[lo - lo_pos : hi - lo_pos] = self._ring[np.arange(lo, hi) % size]
                pieces.append((first, last, origin, lo_pos, span))
        times = start + np.arange(count, dtype=np.float64) / rate
        table = _kernels(src_rate, rate) if precise else None
        # later stretches win where they overlap an earlier one (its tail never played)
        for first, last, origin, lo_pos, span in pieces:
            position = (times - origin) * src_rate + first
            inside = (position >= first) & (position < last)
            if not np.any(inside):
                continue
            local = position[inside] - lo_pos
            if table is None:
                grid = np.arange(len(span), dtype=np.float64)
                out[inside] = np.interp(local, grid, span)
            else:
                out[inside] = _sinc_interpolate(span, local, table)
        return out


_HALF = 16  # half-width of the interpolation kernel, in source samples
_PHASES = 256  # fractional positions tabulated (1/256 sample: far below what NLMS sees)


@functools.lru_cache(maxsize=8)
def _kernels(src_rate: int, rate: int) -> FloatArray:
    """Windowed-sinc taps for each tabulated fractional position: (phases + 1, 2 * half)."""
    cutoff = 0.48 * min(1.0, rate / src_rate)  # a little below the lower Nyquist
    frac = np.arange(_PHASES + 1, dtype=np.float64)[:, None] / _PHASES
    distance = frac - np.arange(-_HALF + 1, _HALF + 1)[None, :]
    window = 0.5 + 0.5 * np.cos(np.pi * np.clip(distance / _HALF, -1.0, 1.0))
    kernel = 2 * cutoff * np.sinc(2 * cutoff * distance) * window
    table: FloatArray = (kernel / kernel.sum(axis=1, keepdims=True)).astype(np.float32)
    return table


def _sinc_interpolate(signal: FloatArray, positions: np.ndarray, table: FloatArray) -> FloatArray:
    """Band-limited values of ``signal`` at fractional ``positions``.

    One step does the anti-alias low-pass and the fractional delay; linear
    interpolation instead would low-pass by an amount that changes with the fraction,
    and an echo canceller cannot learn a path that changes every frame.
    """
    base = np.floor(positions)
    phase = np.rint((positions - base) * _PHASES).astype(np.int64)
    index = base.astype(np.int64)[:, None] + np.arange(-_HALF + 1, _HALF + 1)[None, :]
    np.clip(index, 0, len(signal) - 1, out=index)  # the span is padded: edges never matter
    result: FloatArray = np.einsum("ij,ij->i", signal[index], table[phase]).astype(np.float32)
    return result


class FrameClock:
    """When each delivered microphone frame was heard, from arrival times alone.

    Capture delivers frames in bursts, late by a varying amount; the sample count does
    not jitter. Frame ``k`` is placed at ``origin + k * frame_s``. During the first
    ``settle_s`` the origin follows the earliest arrival seen (the least-delayed
    delivery); after that it stays put, because every move shifts the microphone against
    the speaker's reference and an echo canceller must learn the path again. It moves
    only when ``confirm`` frames in a row arrive more than ``step_s`` earlier than it
    allows (the clocks drift), and restarts after a gap longer than ``restart_s`` (a
    reopened device). The constant error left (the capture latency) is what the echo
    delay estimate absorbs.
    """

    def __init__(
        self,
        rate: int = 16000,
        *,
        settle_s: float = 1.0,
        step_s: float = 0.002,
        confirm: int = 3,
        restart_s: float = 0.3,
    ) -> None:
        self.rate = rate
        self._settle = int(settle_s * rate)
        self._step_s = step_s
        self._confirm = confirm
        self._restart_s = restart_s
        self._origin: float | None = None
        self._samples = 0  # samples delivered since the origin
        self._early: list[float] = []  # recent candidates earlier than the origin allows
        self.moves = 0  # origin changes after settling (each costs the echo filter)

    def stamp(self, samples: int, arrival: float) -> float:
        """The time of the first sample of a frame of ``samples`` that arrived now."""
        first = arrival - samples / self.rate  # its first sample, if delivery were instant
        if self._origin is not None:
            candidate = first - self._samples / self.rate
            if candidate - self._origin > self._restart_s:
                self._origin = None  # frames went missing (device reopened): count again
            elif self._samples < self._settle:
                self._origin = min(self._origin, candidate)
            elif candidate < self._origin - self._step_s:
                self._early.append(candidate)
                if len(self._early) >= self._confirm:
                    self._origin = max(self._early)
                    self._early.clear()
                    self.moves += 1
            else:
                self._early.clear()
        if self._origin is None:
            self._origin, self._samples = first, 0
            self._early.clear()
        stamp = self._origin + self._samples / self.rate
        self._samples += samples
        return stamp


def estimate_delay(
    mic: FloatArray, reference: FloatArray, max_lag: int
) -> tuple[int, float] | None:
    """(lag, confidence) where ``mic[n] ~ reference[n + max_lag - lag]``, by GCC-PHAT.

    ``reference`` starts ``max_lag`` samples before ``mic`` and is ``max_lag`` longer, so
    lags 0..max_lag are echo delays. Confidence is the peak over the mean absolute
    correlation (a clear echo gives > 10). None when either signal is silent.
    """
    if not (np.any(mic) and np.any(reference)):
        return None
    n = 1 << int(np.ceil(np.log2(len(mic) + len(reference))))
    spec = np.fft.rfft(reference, n) * np.conj(np.fft.rfft(mic, n))
    spec /= np.abs(spec) + 1e-12
    corr = np.fft.irfft(spec, n)[: max_lag + 1]  # corr[j]: mic aligned with reference[j:]
    magnitude = np.abs(corr)
    best = int(np.argmax(magnitude))
    confidence = float(magnitude[best] / (np.mean(magnitude) + 1e-12))
    return max_lag - best, confidence


class BlockNlms:
    """Partitioned-block frequency-domain NLMS (overlap-save), ``block * partitions`` taps.

    ``process(reference_block, mic_block)`` predicts the echo in ``mic_block`` from the
    reference and returns (echo estimate, residual); ``adapt=False`` freezes learning
    (while a person talks over the echo, learning would cancel them).
    """

    def __init__(self, block: int = 512, partitions: int = 2, step: float = 0.4) -> None:
        self.block = block
        self.partitions = partitions
        self.step = step
        self.reset()

    def reset(self) -> None:
        bins = self.block + 1
        self._weights = np.zeros((self.partitions, bins), dtype=np.complex128)
        self._spectra = np.zeros((self.partitions, bins), dtype=np.complex128)
        self._last = np.zeros(self.block, dtype=np.float64)
        self._power = np.full(bins, 1e-6)
        self.updates = 0

    def clear_history(self) -> None:
        """Forget past reference blocks (the speaker was silent); keep the learned path."""
        self._spectra[:] = 0
        self._last[:] = 0

    def predict(self, reference: FloatArray) -> FloatArray:
        """The echo expected in the microphone block that matches this reference block."""
        n = self.block
        if len(reference) != n:
            raise ValueError(f"blocks of {n} samples expected, got {len(reference)}")
        window = np.concatenate([self._last, reference])
        self._last = np.asarray(reference, dtype=np.float64)
        spectrum = np.fft.rfft(window)
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = spectrum
        # per-bin input power, smoothed; a sudden onset after silence must not take a
        # giant step (at most twice the nominal one), a steady one keeps NLMS fast
        now = np.abs(spectrum) ** 2
        self._power = np.maximum(0.7 * self._power + 0.3 * now, 0.5 * now)
        estimate = np.fft.irfft(np.sum(self._weights * self._spectra, axis=0))[n:]
        return estimate.astype(np.float32)

    def adapt(self, residual: FloatArray) -> None:
        """Learn from the last :meth:`predict`'s error (microphone minus estimate)."""
        n = self.block
        err = np.fft.rfft(np.concatenate([np.zeros(n), residual]))
        # regularized: quiet bins (and a quiet reference) must not take giant steps
        norm = self.partitions * (self._power + 0.01 * float(np.mean(self._power))) + 1e-6
        gradient = np.conj(self._spectra) * (err / norm)
        # the constraint keeps each partition a causal filter of ``block`` taps
        taps = np.fft.irfft(gradient, axis=1)[:, :n]
        padded = np.concatenate([taps, np.zeros_like(taps)], axis=1)
        self._weights += self.step * np.fft.rfft(padded, axis=1)
        self.updates += 1

    def process(
        self, reference: FloatArray, mic: FloatArray, adapt: bool = True
    ) -> tuple[FloatArray, FloatArray]:
        """Predict, subtract, and (unless ``adapt`` is False) learn: (estimate, residual)."""
        estimate = self.predict(reference)
        residual = (np.asarray(mic, dtype=np.float32) - estimate).astype(np.float32)
        if adapt:
            self.adapt(residual)
        return estimate, residual
