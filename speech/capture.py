"""The microphone: a sounddevice input stream delivering 32 ms mono frames at 16 kHz.

The PortAudio callback only copies each block (16 ms by default: a short block lets a
barge-in be heard sooner) into a queue; a worker thread resamples to 16 kHz (when the
device cannot record at 16 kHz itself), cuts 512-sample frames and calls ``on_frame``.

The same worker watches the stream. When it errors, finishes or stops delivering for
``stall_timeout`` (a vanished device often just stops calling back) it reports ONE error
through ``on_error``, then reopens the device by the configured name (or index, or the
default) with a growing pause between tries (``retry_interval`` doubling up to
``max_retry_interval``) and reports the recovery once through ``on_recover`` when samples
flow again. A freshly opened stream gets ``start_timeout`` to deliver its first block:
PortAudio over PulseAudio sometimes takes about 2 s to start (or never starts, and is
quietly reopened).

With PulseAudio the sound server may also *move* a stream whose source vanished to
another source (its fallback) instead of ending it; PortAudio cannot see that, so the
capture goes on from that fallback until the stream stalls. Name the device (or set
``PULSE_SOURCE``) so a reopen lands on the right microphone.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.roles import AudioCallback
from app.core.types import FloatArray
from speech.audio_devices import device_arg, device_listing, load_sounddevice

_LOG = logging.getLogger(__name__)

TARGET_RATE = 16000
FRAME = 512  # 32 ms at 16 kHz, the window the Silero VAD takes
_QUIET_STARTS = 3  # silent reopens of a stream that never started before reporting
MessageCallback = Callable[[str], None]


class AudioInputUnavailable(RuntimeError):
    """The microphone cannot be opened; the message says what to do."""


def _sounddevice() -> Any:
    return load_sounddevice(AudioInputUnavailable)


def check_input_device(device: str | int | None = None) -> str:
    """The name of the input device that would be used; raises AudioInputUnavailable."""
    sd = _sounddevice()
    wanted = device_arg(device)
    try:
        info = sd.query_devices(wanted, kind="input")
        if int(info["max_input_channels"]) < 1:
            raise ValueError("it has no input channels")
    except Exception as exc:
        what = f"input device {wanted!r}" if wanted is not None else "a default input device"
        raise AudioInputUnavailable(
            f"cannot use {what} ({exc}). Input devices: {device_listing(sd, 'input')}. Connect a "
            "microphone or set audio.input_device (name or index) with `dhuman config set`"
        ) from None
    return str(info["name"])


class StreamResampler:
    """Block-by-block resampling with state carried across blocks (no seams at the edges).

    A windowed-sinc low-pass (when going down) followed by linear interpolation, like
    :func:`speech.asr.audio.resample`, but usable on a live stream.
    """

    def __init__(self, rate_in: int, rate_out: int = TARGET_RATE, taps: int = 63) -> None:
        if rate_in <= 0 or rate_out <= 0:
            raise ValueError(f"sample rates must be positive, got {rate_in} -> {rate_out}")
        self.rate_in = rate_in
        self.rate_out = rate_out
        self._step = rate_in / rate_out
        self._kernel: FloatArray | None = None
        if rate_out < rate_in:
            from speech.asr.audio import _lowpass_kernel

            self._kernel = _lowpass_kernel(0.45 * rate_out / rate_in, taps)
        width = 0 if self._kernel is None else len(self._kernel) - 1
        self._history = np.zeros(width, dtype=np.float32)  # filter state
        self._filtered = np.zeros(0, dtype=np.float32)  # filtered input not yet consumed
        self._pos = 0.0  # next output position, in samples of _filtered

    def process(self, block: FloatArray) -> FloatArray:
        block = np.array(block, dtype=np.float32).reshape(-1)
        if self.rate_in == self.rate_out:
            return block
        if self._kernel is not None:
            joined = np.concatenate([self._history, block])
            filtered = np.convolve(joined, self._kernel, mode="valid").astype(np.float32)
            if len(self._history):
                self._history = joined[len(joined) - len(self._history) :]
        else:
            filtered = block
        data = np.concatenate([self._filtered, filtered])
        # outputs need data[floor(p)] and data[floor(p) + 1]
        last = len(data) - 1
        if last < 1 or self._pos > last - 1:
            self._filtered = data
            return np.zeros(0, dtype=np.float32)
        count = int(np.floor((last - 1 - self._pos) / self._step)) + 1
        positions = self._pos + np.arange(count, dtype=np.float64) * self._step
        out = np.interp(positions, np.arange(len(data), dtype=np.float64), data)
        self._pos = self._pos + count * self._step
        keep = int(np.floor(self._pos))
        self._filtered = data[keep:]
        self._pos -= keep
        result: FloatArray = out.astype(np.float32)
        return result


class SoundDeviceSource:
    """The AudioSource role over a sounddevice InputStream (mono float32).

    ``device`` is a name, an index (also as a string) or None for the default input.
    ``on_frame`` receives 512-sample frames at 16 kHz from the worker thread;
    ``on_error`` and ``on_recover`` receive one message each per loss and recovery.
    """

    sample_rate = TARGET_RATE

    def __init__(
        self,
        device: str | int | None = None,
        *,
        on_error: MessageCallback | None = None,
        on_recover: MessageCallback | None = None,
        retry_interval: float = 1.0,
        max_retry_interval: float = 4.0,
        stall_timeout: float = 1.0,
        start_timeout: float = 3.0,
        latency: float | str = 0.03,
        block_s: float = 0.016,
    ) -> None:
        self._sd = _sounddevice()
        self._device = device_arg(device)
        self.on_error = on_error
        self.on_recover = on_recover
        self._retry_interval = retry_interval
        self._max_retry_interval = max(retry_interval, max_retry_interval)
        self._stall_timeout = stall_timeout
        self._start_timeout = max(stall_timeout, start_timeout)
        self._latency = latency
        self._block_s = block_s
        self._queue: queue.SimpleQueue[tuple[int, FloatArray]] = queue.SimpleQueue()
        self._generation = 0  # stream number; blocks of an old stream are dropped
        self._ended = threading.Event()  # the current stream finished or failed
        self._stream: Any = None
        self._resampler: StreamResampler | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_frame: AudioCallback | None = None
        self.reinitialize_portaudio = False  # resets PortAudio process-wide: opt-in
        self.device_rate = 0
        self.frames_delivered = 0
        self.overflows = 0
        self.errors_reported = 0
        self.recoveries_reported = 0

    # ----------------------------------------------------------------- the role

    def start(self, on_frame: AudioCallback) -> None:
        """Open the device now (AudioInputUnavailable if it can't) and start delivering."""
        if self._thread is not None:
            return
        self._on_frame = on_frame
        self._stop.clear()
        self._open()
        self._thread = threading.Thread(target=self._run, name="dhuman-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5.0)
        self._close()

    # ----------------------------------------------------------------- stream control

    def _choose_rate(self) -> int:
        try:
            self._sd.check_input_settings(
                device=self._device, channels=1, dtype="float32", samplerate=TARGET_RATE
            )
            return TARGET_RATE
        except Exception:
            info = self._sd.query_devices(self._device, kind="input")
            return int(info["default_samplerate"])

    def _open(self) -> None:
        """Open and start a stream; raises AudioInputUnavailable."""
        self._close()
        self._generation += 1
        generation = self._generation
        ended = threading.Event()
        self._ended = ended

        def callback(indata: Any, frames: int, timing: Any, status: Any) -> None:
            if status.input_overflow:
                self.overflows += 1
            self._queue.put((generation, indata[:, 0].copy()))

        try:
            rate = self._choose_rate()
            stream = self._sd.InputStream(
                samplerate=rate,
                device=self._device,
                channels=1,
                dtype="float32",
                # a fixed block size: PortAudio's variable blocks over PulseAudio were
                # seen to start seconds late more often
                blocksize=max(1, round(rate * self._block_s)),
                latency=self._latency,
                callback=callback,
                finished_callback=ended.set,
            )
            stream.start()
        except Exception as exc:
            what = repr(self._device) if self._device is not None else "the default input"
            raise AudioInputUnavailable(
                f"cannot open the microphone {what} ({exc}); check audio.input_device"
            ) from None
        self._stream = stream
        if self._resampler is None or self._resampler.rate_in != rate:
            self._resampler = StreamResampler(rate, TARGET_RATE)
        self.device_rate = rate
        _LOG.info("audio input open: %s Hz (delivering %s Hz)", rate, TARGET_RATE)

    def _reinitialize(self) -> None:
        """Let PortAudio find devices again (a re-plugged device is not seen otherwise).

        This resets PortAudio for the whole process: other open streams (the speaker)
        reopen on their next use.
        """
        try:
            self._sd._terminate()
            self._sd._initialize()
        except Exception:
            _LOG.debug("reinitializing PortAudio failed", exc_info=True)

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort(ignore_errors=True)
                stream.close(ignore_errors=True)
            except Exception:  # a vanished device can fail even here
                _LOG.debug("closing the audio input failed", exc_info=True)

    # ----------------------------------------------------------------- worker

    def _run(self) -> None:
        pending = np.zeros(0, dtype=np.float32)
        last_data = time.monotonic()
        lost = False  # the stream is closed and must be reopened
        down = False  # an error was reported and no recovery yet: one message per outage
        next_try = 0.0
        pause = self._retry_interval  # grows while the device stays away
        got_data = False  # the current stream delivered something
        quiet_starts = 0  # streams in a row that opened but never delivered
        while not self._stop.is_set():
            if lost:
                now = time.monotonic()
                if now < next_try:
                    self._stop.wait(min(0.1, next_try - now))
                    continue
                try:
                    if down and self.reinitialize_portaudio:
                        self._reinitialize()
                    self._open()
                except AudioInputUnavailable as exc:
                    _LOG.debug("microphone still unavailable: %s", exc)
                    next_try = time.monotonic() + pause
                    pause = min(pause * 2, self._max_retry_interval)
                    continue
                lost = False
                got_data = False
                pending = np.zeros(0, dtype=np.float32)
                last_data = time.monotonic()
                continue
            try:
                generation, block = self._queue.get(timeout=0.1)
            except queue.Empty:
                problem = self._stream_problem(last_data, got_data)
                if problem is None:
                    continue
                lost = True
                self._close()
                if not got_data and not down and quiet_starts < _QUIET_STARTS:
                    # PortAudio over PulseAudio sometimes starts a stream that never calls
                    # back; a fresh stream fixes it, nothing the person needs to hear about
                    quiet_starts += 1
                    next_try = 0.0
                    _LOG.info("the audio input did not start; reopening it")
                    continue
                next_try = time.monotonic() + pause
                pause = min(pause * 2, self._max_retry_interval)
                if not down:
                    down = True
                    self._report_error(problem)
                continue
            if generation != self._generation or self._resampler is None:
                continue  # from a stream that was closed
            last_data = time.monotonic()
            got_data = True
            quiet_starts = 0
            if down:  # samples flow again on a reopened stream
                down = False
                pause = self._retry_interval
                self._report_recovery()
            pending = np.concatenate([pending, self._resampler.process(block)])
            while len(pending) >= FRAME:
                frame, pending = pending[:FRAME], pending[FRAME:]
                self._deliver(frame)

    def _stream_problem(self, last_data: float, started: bool) -> str | None:
        stream = self._stream
        what = repr(self._device) if self._device is not None else "the default microphone"
        if stream is None or self._ended.is_set() or not stream.active:
            return f"The microphone ({what}) stopped; trying to reopen it."
        # a new stream may take seconds to start; a running one that pauses has stalled
        limit = self._stall_timeout if started else self._start_timeout
        if time.monotonic() - last_data > limit:
            return (
                f"The microphone ({what}) delivers no sound (disconnected?); trying to reopen it."
            )
        return None

    def _deliver(self, frame: FloatArray) -> None:
        callback = self._on_frame
        if callback is None:
            return
        try:
            callback(frame)
        except Exception:
            _LOG.exception("the audio frame consumer failed")
        self.frames_delivered += 1

    def _report_error(self, message: str) -> None:
        self.errors_reported += 1
        _LOG.warning("%s", message)
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                _LOG.exception("on_error callback failed")

    def _report_recovery(self) -> None:
        self.recoveries_reported += 1
        message = f"The microphone works again ({self.device_rate} Hz)."
        _LOG.warning("%s", message)
        if self.on_recover is not None:
            try:
                self.on_recover(message)
            except Exception:
                _LOG.exception("on_recover callback failed")


def build(settings: Settings) -> SoundDeviceSource:
    """Registry factory: the configured input device, checked now so problems show early."""
    try:
        check_input_device(settings.audio.input_device)
        return SoundDeviceSource(settings.audio.input_device)
    except AudioInputUnavailable as exc:
        raise RoleUnavailable(str(exc)) from None
