"""Audio output through PortAudio (``sounddevice``), and the audio clock.

:class:`SoundDeviceSink` is the ``AudioSink`` role. A callback-driven ``OutputStream``
(float32 mono, small blocks) pulls samples from a queue of numpy arrays. For every
callback it notes when that buffer reaches the speaker (``outputBufferDacTime``) and which
samples of the utterance it holds, in a small preallocated ring. "Which sample is being
heard now" is then::

    heard = real samples written before the newest buffer already at the speaker
            + (stream time now - that buffer's DAC time) * rate        (clamped to it)

so the clock is exact between callbacks and counts only speech, never the zeros played
while the queue is empty. Every block played (silence included) is also copied, with its
DAC time on the ``time.monotonic()`` clock, into ``reference`` (a
:class:`speech.echo_gate.PlaybackReference`): the microphone side subtracts it to tell
the avatar's own voice, heard back through the room, from a person speaking.

Speech is never handed out faster than real time. At start-up under load, PortAudio's
ALSA path into PulseAudio can spin through underrun recovery, calling back many times a
buffer's worth while the server plays nothing: a whole sentence would vanish in a fraction
of a second while the clock said it was heard. The callback therefore plays zeros (and
keeps the speech queued) when the buffer it fills follows an underrun, or when it is
asked for more than the stream's own clock says can have been played (plus the buffer).

``stop()`` drops the queue, aborts the stream (PortAudio then discards what it had
buffered) and restarts it, so the speaker is silent within about one buffer.
``sounddevice`` is imported only when a sink is built: PortAudio lists its devices on
import, so it must come after the sound server is up.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray, PlaybackReport, SpeechChunk
from speech.audio_devices import device_arg, device_listing, load_sounddevice
from speech.echo_gate import PlaybackReference, StreamClock

_LOG = logging.getLogger(__name__)

_RING = 128  # callbacks remembered: covers > 1 s of output latency at 256-sample blocks


class AudioOutputUnavailable(RoleUnavailable):
    """No usable output device (none present, or the configured one cannot be opened)."""


def _sounddevice() -> Any:
    return load_sounddevice(AudioOutputUnavailable)


def check_output_device(device: str | None = None, sample_rate: int = 22050) -> str:
    """The name of the output device that would be used; raises AudioOutputUnavailable."""
    sd = _sounddevice()
    wanted = device_arg(device)
    try:
        info = sd.query_devices(wanted, kind="output")
        sd.check_output_settings(device=wanted, channels=1, dtype="float32", samplerate=sample_rate)
    except Exception as exc:
        listing = device_listing(sd, "output")
        what = f"output device {wanted!r}" if wanted is not None else "a default output device"
        raise AudioOutputUnavailable(
            f"cannot use {what} ({exc}). Output devices: {listing}. Connect speakers or "
            "set audio.output_device (name or index) with `dhuman config set`"
        ) from None
    return str(info["name"])


class SoundDeviceSink:
    """Plays mono float32 speech and knows which sample is being heard right now.

    The stream opens at the first chunk's sample rate and keeps running (playing silence
    when idle) so the next utterance starts without the device's start-up latency; a chunk
    at another rate is resampled. ``close()`` releases the device.
    """

    def __init__(
        self,
        device: str | None = None,
        *,
        blocksize: int = 256,
        latency: float | str = "low",
    ) -> None:
        self._sd = _sounddevice()
        self._device = device_arg(device)
        self._blocksize = blocksize
        self._latency = latency
        self._stream: Any = None
        self.sample_rate = 0
        self._lock = threading.Lock()
        self._queue: collections.deque[FloatArray] = collections.deque()
        self._offset = 0  # read position in the queue's head array
        self._queued = 0  # samples of the current utterance handed to play()
        self._written = 0  # samples of the current utterance handed to PortAudio
        # ring of callbacks: DAC time, utterance samples before the buffer, speech in it
        self._dac = np.zeros(_RING, dtype=np.float64)
        self._before = np.zeros(_RING, dtype=np.int64)
        self._real = np.zeros(_RING, dtype=np.int64)
        self._count = 0  # callbacks recorded since the clock was reset
        self._floor = 0  # heard never goes backwards within an utterance
        self.underruns = 0
        self.held_blocks = 0  # callbacks answered with zeros to keep speech from a spin
        self._pace = _Pacer()
        self.last_stop_seconds = 0.0
        # what reached the speaker, for echo-robust listening (the sink outlives streams)
        self.reference = PlaybackReference()
        self._stream_clock = StreamClock()
        self._resumed = False  # the next block follows a restart: a new stretch

    # ----------------------------------------------------------------- stream control

    def _open(self, sample_rate: int) -> None:
        """Open and start the stream at ``sample_rate``; the caller holds no lock."""
        self._stream_clock.reset()  # before any callback of the new stream can run
        self._resumed = True
        try:
            stream = self._sd.OutputStream(
                samplerate=sample_rate,
                blocksize=self._blocksize,
                device=self._device,
                channels=1,
                dtype="float32",
                latency=self._latency,
                callback=self._callback,
            )
            stream.start()
        except Exception as exc:
            raise AudioOutputUnavailable(
                f"cannot open the audio output ({exc}); check audio.output_device"
            ) from None
        self._stream = stream
        self.sample_rate = sample_rate
        _LOG.info("audio output open: %s Hz, latency %.1f ms", sample_rate, stream.latency * 1e3)

    def close(self) -> None:
        """Stop playing and release the device; the next play() opens it again."""
        self.stop()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close(ignore_errors=True)

    @property
    def output_latency(self) -> float:
        """Seconds from a callback to the speaker, as PortAudio reports it (0 if closed)."""
        return float(self._stream.latency) if self._stream is not None else 0.0

    # ----------------------------------------------------------------- the role

    def play(self, chunk: SpeechChunk) -> None:
        samples = np.ascontiguousarray(chunk.samples, dtype=np.float32).reshape(-1)
        if self._stream is None:
            self._open(chunk.sample_rate)
        elif chunk.sample_rate != self.sample_rate:
            samples = _resample(samples, chunk.sample_rate, self.sample_rate)
        if not len(samples):
            return
        with self._lock:
            self._queue.append(samples)
            self._queued += len(samples)

    def heard_samples(self) -> int:
        stream = self._stream
        if stream is None:
            return 0
        now = stream.time
        with self._lock:
            return self._heard_locked(now)

    def queued_samples(self) -> int:
        """Samples of the current utterance handed to play() so far (at the stream rate)."""
        with self._lock:
            return self._queued

    def wait_done(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            stream = self._stream
            if stream is None:
                return True
            now = stream.time
            with self._lock:
                left = self._queued - self._heard_locked(now)
            if left <= 0:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(min(max(left / self.sample_rate, 0.001), 0.01))

    def stop(self) -> PlaybackReport:
        started = time.perf_counter()
        stream = self._stream
        if stream is None:
            return PlaybackReport(0, self.sample_rate, False)
        now = stream.time
        with self._lock:
            heard = self._heard_locked(now)
            interrupted = heard < self._queued
            # the callback now finds nothing to play; PortAudio's own buffer is next
            self._reset_locked()
        if interrupted:
            # abort discards the samples PortAudio/the server still hold; restart at once
            # so the next utterance finds a running stream
            try:
                stream.abort(ignore_errors=True)
                self._resumed = True
                stream.start()
            except Exception:  # a vanished device: reopen on the next play()
                _LOG.exception("restarting the audio output failed")
                self._stream = None
        self.last_stop_seconds = time.perf_counter() - started
        return PlaybackReport(heard, self.sample_rate, interrupted)

    # ----------------------------------------------------------------- internals

    def _reset_locked(self) -> None:
        self._queue.clear()
        self._offset = self._queued = self._written = 0
        self._count = self._floor = 0
        self._pace.reset()

    def _heard_locked(self, now: float) -> int:
        heard = 0
        rate = self.sample_rate
        for back in range(min(self._count, _RING)):
            slot = (self._count - 1 - back) % _RING
            dac = self._dac[slot]
            if dac <= now:
                into = round((now - dac) * rate)
                heard = int(self._before[slot]) + min(max(into, 0), int(self._real[slot]))
                break
        heard = min(max(heard, self._floor), self._written)
        self._floor = heard
        return heard

    def _callback(self, outdata: Any, frames: int, timing: Any, status: Any) -> None:
        underflow = bool(status.output_underflow)
        if underflow:
            self.underruns += 1
        out = outdata[:, 0]
        dac = timing.outputBufferDacTime or (timing.currentTime + self.output_latency)
        filled = 0
        with self._lock:
            before = self._written
            queue = self._queue
            slack = 4 * frames + round(self.output_latency * self.sample_rate)
            playing = self._pace.allow(
                timing.currentTime, frames, self.sample_rate, slack, underflow
            )
            if queue and not playing:
                self.held_blocks += 1
            while playing and filled < frames and queue:
                head = queue[0]
                take = min(frames - filled, len(head) - self._offset)
                out[filled : filled + take] = head[self._offset : self._offset + take]
                filled += take
                self._offset += take
                if self._offset >= len(head):
                    queue.popleft()
                    self._offset = 0
            self._written = before + filled
            if filled or self._count:
                slot = self._count % _RING
                self._dac[slot] = dac
                self._before[slot] = before
                self._real[slot] = filled
                self._count += 1
        if filled < frames:
            out[filled:] = 0.0
        # on the monotonic clock (the microphone side stamps its frames with it), mapped
        # from the stream's own clock: this callback may have run late
        now = time.monotonic()
        if timing.currentTime:
            mono = self._stream_clock.monotonic(dac, timing.currentTime, now)
        else:  # a host API without a stream clock
            mono = now + self.output_latency
        resumed, self._resumed = underflow or self._resumed, False
        self.reference.write(out, mono, self.sample_rate, resumed=resumed)


class _Pacer:
    """Lets a callback play only at the pace of the stream clock (plus ``slack`` samples).

    Callbacks that follow an underrun are refused too: while PortAudio spins through
    recovery they come many times faster than real time and their audio is thrown away.
    A stalled callback thread banks no extra allowance: the catch-up is capped by ``slack``.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self._origin: float | None = None
        self._sent = 0.0

    def allow(self, now: float, frames: int, rate: int, slack: int, underflow: bool) -> bool:
        if underflow:
            return False
        if not now:  # a host API without a stream clock: nothing to pace by
            return True
        if self._origin is None:
            self._origin = now
        due = (now - self._origin) * rate
        self._sent = max(self._sent, due - slack)
        if self._sent + frames > due + slack:
            return False
        self._sent += frames
        return True


def _resample(samples: FloatArray, source: int, target: int) -> FloatArray:
    """Linear resampling; good enough for speech at a changed rate (rare: one voice per run)."""
    n = round(len(samples) * target / source)
    positions = np.arange(n, dtype=np.float64) * (source / target)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def build(settings: Settings) -> SoundDeviceSink:
    """Registry factory: the configured output device, checked now so problems show early."""
    audio = settings.audio
    check_output_device(audio.output_device)
    fixed = audio.output_buffer_ms
    return SoundDeviceSink(audio.output_device, latency=fixed / 1000 if fixed else "low")
