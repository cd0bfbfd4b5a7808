"""PulseAudio helpers for audio tests and benches: modules, the virtual mic, stimuli.

The virtual devices come from ``scripts/virtual-devices.sh``: the app plays to ``spk``;
whatever is played into the sink ``micfeed`` is heard by the app's microphone ``vmic``
(a ``module-remap-source`` over ``micfeed.monitor``). Tests that load modules (an echo
loopback) or unload ``vmic`` undo it in their teardown; run them against a private
server (``XDG_RUNTIME_DIR=/tmp/some-dir . scripts/virtual-devices.sh start``) when others
share the default one.

:class:`MicFeed` plays stimuli into ``micfeed`` from the test process through PortAudio
and notes, on the ``time.monotonic()`` clock, when each one reaches the sink: the same
clock the app's events use, so "speech onset -> detection" is one subtraction.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.types import FloatArray
from tests.support.stalls import sound_server_pid

if TYPE_CHECKING:
    from tests.support.barge_in_replay import BargeInTap
    from tests.support.stalls import HostStalls

MIC_SOURCE = "vmic"
MIC_SINK = "micfeed"


def _pactl(*args: str, timeout: float = 10.0) -> str:
    done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def pulse_problem() -> str | None:
    """Why the virtual devices cannot be used, or None when they can."""
    if shutil.which("pactl") is None:
        return "pactl not found (apt-get install pulseaudio-utils)"
    try:
        info = _pactl("info", timeout=5)
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return f"no PulseAudio server ({exc}): run `. scripts/virtual-devices.sh start` first"
    if f"Default Source: {MIC_SOURCE}" not in info:
        return f"PulseAudio runs but its default source is not the virtual {MIC_SOURCE!r}"
    return None


def restart_sound_server(timeout: float = 10.0) -> None:
    """Start the virtual sound server afresh (only ever the virtual one: see
    :func:`pulse_problem`).

    A server that has carried many streams and loopbacks for a few hours passes the
    loopback's echo on as a comb: copies ~20 ms apart at nearly equal strength
    (cross-correlation peaks at 35, 41 and 61 ms, against a single one at 35 ms from a
    fresh server, the same hour). No room does that; a canceller aligned to one copy
    leaves the others, and the echo tests then measured the rig rather than the gate."""
    problem = pulse_problem()
    if problem is not None:
        raise RuntimeError(problem)
    subprocess.run(["pulseaudio", "--kill"], capture_output=True, timeout=timeout)
    deadline = time.monotonic() + timeout
    while pulse_problem() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    script = Path(__file__).resolve().parents[2] / "scripts" / "virtual-devices.sh"
    # the script is sourced (it exports what it starts); its path goes as an argument
    subprocess.run(
        ["bash", "-c", '. "$0" start', str(script)],
        capture_output=True,
        timeout=timeout,
        check=True,
    )
    problem = pulse_problem()
    if problem is not None:
        raise RuntimeError(f"the virtual sound server did not come back: {problem}")


def load_module(name: str, *args: str) -> int:
    return int(_pactl("load-module", name, *args).strip())


def unload_module(index: int) -> None:
    _pactl("unload-module", str(index))


def modules(name: str) -> list[tuple[int, str]]:
    """(index, arguments) of the loaded modules called ``name``."""
    found = []
    for line in _pactl("list", "short", "modules").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1] == name:
            found.append((int(parts[0]), parts[2] if len(parts) > 2 else ""))
    return found


def source_names() -> list[str]:
    return [line.split("\t")[1] for line in _pactl("list", "short", "sources").splitlines()]


@contextmanager
def echo_loopback(latency_ms: int = 30) -> Iterator[int]:
    """The kiosk's loudspeaker heard by its microphone: ``spk`` played into ``micfeed``."""
    index = load_module(
        "module-loopback", "source=spk.monitor", f"sink={MIC_SINK}", f"latency_msec={latency_ms}"
    )
    try:
        yield index
    finally:
        unload_module(index)


def vmic_module() -> int:
    """The index of the module that provides the virtual microphone."""
    for index, args in modules("module-remap-source"):
        if f"source_name={MIC_SOURCE}" in args:
            return index
    raise RuntimeError(f"no module-remap-source provides {MIC_SOURCE!r}")


def load_vmic() -> int:
    return load_module(
        "module-remap-source", f"source_name={MIC_SOURCE}", f"master={MIC_SINK}.monitor"
    )


# ----------------------------------------------------------------------- stimuli
@dataclass
class Playback:
    """One stimulus queued on a :class:`MicFeed`; ``onset_time`` is set once it plays."""

    samples: FloatArray
    onset: int = 0  # sample of the stimulus whose arrival is timed (speech onset)
    onset_time: float | None = None
    end_time: float | None = None
    done: threading.Event = field(default_factory=threading.Event)


class MicFeed:
    """A PortAudio output stream into ``micfeed`` that times what it plays.

    PortAudio reaches PulseAudio through ALSA's pulse plugin, which connects to the
    sink named by ``PULSE_SINK`` when the stream opens; the variable is set only for that
    moment, so the app's own streams still go to the default devices.
    """

    def __init__(self, rate: int = 48000, latency: float = 0.03) -> None:
        import sounddevice

        self.rate = rate
        self._queue: deque[Playback] = deque()
        self._lock = threading.Lock()
        self._offset = 0
        saved = os.environ.get("PULSE_SINK")
        os.environ["PULSE_SINK"] = MIC_SINK
        try:
            self._stream: Any = sounddevice.OutputStream(
                samplerate=rate,
                channels=1,
                dtype="float32",
                blocksize=int(rate * 0.01),
                latency=latency,
                callback=self._callback,
            )
            self._stream.start()
        finally:
            if saved is None:
                del os.environ["PULSE_SINK"]
            else:
                os.environ["PULSE_SINK"] = saved

    def play(self, samples: FloatArray, onset: int = 0) -> Playback:
        item = Playback(np.asarray(samples, dtype=np.float32), onset)
        with self._lock:
            self._queue.append(item)
        return item

    def close(self) -> None:
        self._stream.abort(ignore_errors=True)
        self._stream.close(ignore_errors=True)

    def _callback(self, outdata: Any, frames: int, timing: Any, status: Any) -> None:
        out = outdata[:, 0]
        out[:] = 0.0
        dac = timing.outputBufferDacTime
        # the DAC time of this block's first sample, on the monotonic clock
        base = time.monotonic() + (dac - timing.currentTime if timing.currentTime else 0.0)
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                item = self._queue[0]
                start = self._offset
                take = min(frames - filled, len(item.samples) - start)
                out[filled : filled + take] = item.samples[start : start + take]
                if start <= item.onset < start + take:
                    item.onset_time = base + (filled + item.onset - start) / self.rate
                filled += take
                self._offset += take
                if self._offset >= len(item.samples):
                    item.end_time = base + filled / self.rate
                    self._queue.popleft()
                    self._offset = 0
                    item.done.set()


def wait_until(deadline: float) -> None:
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))


@dataclass(frozen=True)
class Phrase:
    """A stretch of real speech with its onset: the first 10 ms louder than -35 dB
    below the clip's loudest 10 ms (a soft consonant counts; room noise does not)."""

    name: str
    samples: FloatArray  # at ``rate``, starting ``lead_s`` before the onset
    rate: int
    onset: int  # sample index of the onset in ``samples``
    end: int = 0  # sample index just after the last 10 ms still within 35 dB of the peak

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    @property
    def own(self) -> FloatArray:
        """The phrase without the lead and tail cut around it (the source's pauses)."""
        return self.samples[self.onset : self.end or len(self.samples)]


def speech_phrases(
    audio: FloatArray,
    rate: int,
    name: str,
    *,
    min_s: float = 0.6,
    max_s: float = 4.0,
    gap_s: float = 0.15,
    lead_s: float = 0.15,
) -> list[Phrase]:
    """Cut a recording at its pauses (``gap_s`` quieter than -25 dB re its peak) into
    phrases; each onset is then moved back over frames still above -35 dB. A phrase keeps
    up to ``lead_s`` of the pause before and after it, but never the phrase next to it:
    a lead holding the end of the phrase before is a voice that starts before the onset."""
    hop = rate // 100
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float64), axis=1))
    loud = rms > rms.max() * 10 ** (-25 / 20)
    audible = rms > rms.max() * 10 ** (-35 / 20)
    runs: list[list[int]] = []
    for i in np.flatnonzero(loud):
        if runs and i - runs[-1][1] <= gap_s * 100:
            runs[-1][1] = int(i)
        else:
            runs.append([int(i), int(i)])
    spans = []
    for first, last in runs:
        while first > 0 and audible[first - 1]:
            first -= 1
        while last + 1 < len(audible) and audible[last + 1]:
            last += 1
        spans.append((first * hop, (last + 1) * hop))
    phrases = []
    lead = int(lead_s * rate)
    for index, (start, end) in enumerate(spans):
        if not min_s <= (end - start) / rate <= max_s:
            continue
        # a neighbour's reach ends the lead and the tail, never the phrase itself (two
        # spans can overlap where the frames between their loud parts stay audible)
        before = spans[index - 1][1] if index else 0
        after = spans[index + 1][0] if index + 1 < len(spans) else len(audio)
        begin = min(start, max(0, before, start - lead))
        tail = max(end, min(len(audio), after, end + lead))
        phrases.append(Phrase(name, audio[begin:tail].copy(), rate, start - begin, end - begin))
    return phrases


def active_rms(x: FloatArray, rate: int) -> float:
    """RMS over the 10 ms frames within 35 dB of the loudest (speech, not its pauses)."""
    hop = rate // 100
    frames = x[: len(x) // hop * hop].reshape(-1, hop).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return float(np.sqrt(np.mean(rms[rms > rms.max() * 10 ** (-35 / 20)] ** 2)))


def p56_onset(phrase: Phrase) -> int:
    """The onset as ITU-T P.56 counts activity: the first 10 ms within 15.9 dB of the
    phrase's active speech level, at or after ``phrase.onset`` (later on soft beginnings).

    Only the phrase itself counts, level and onset: the lead cut before it is the source's
    pause, which can hold the end of the phrase before or a breath (searched from the
    lead's start, 5 of the 39 clip phrases had their "onset" there, up to 150 ms early)."""
    hop = phrase.rate // 100
    own = phrase.own
    rms = np.sqrt(np.mean(own[: len(own) // hop * hop].reshape(-1, hop).astype(np.float64) ** 2, 1))
    level = active_rms(own, phrase.rate)
    return phrase.onset + int(np.flatnonzero(rms > level * 10 ** (-15.9 / 20))[0] * hop)


# ------------------------------------------------------------- barge-in experiment
KIOSK_LINES = (
    "Welcome to the hospital. I can help you find your way, check in for an appointment, "
    "or answer questions about visiting hours. The radiology department is on the second "
    "floor, next to the blood test center. Please take the elevator on your left and "
    "follow the blue signs. If you have an appointment today, you can check in at any of "
    "the kiosks in the main hall, or I can do it for you now. Visiting hours are from ten "
    "in the morning to eight in the evening, every day of the week. The cafeteria on the "
    "ground floor is open until seven. Parking for patients is in the building behind the "
    "emergency entrance, and the first two hours are free. "
)


def avatar_speech(seconds: float) -> tuple[FloatArray, int, str]:
    """Piper speaking kiosk lines (repeated) for ``seconds``, or real clips without Piper."""
    from app.config.settings import Settings
    from speech.asr.audio import read_wav, resample
    from tests.support.speech_clips import load_clips

    try:
        from speech.tts.piper_tts import build

        tts = build(Settings())
        pieces: list[FloatArray] = []
        total = 0.0
        while total < seconds:
            for chunk in tts.synthesize(KIOSK_LINES):
                pieces.append(chunk.samples)
                total += len(chunk.samples) / tts.sample_rate
        return np.concatenate(pieces), tts.sample_rate, "Piper en_US-joe-medium"
    except Exception:  # the voice is not installed: real recordings instead
        clips = [read_wav(c.path) for c in load_clips()]
        audio = np.concatenate([resample(a, r, 22050) for a, r in clips])
        reps = int(np.ceil(seconds * 22050 / len(audio)))
        return np.tile(audio, reps), 22050, "speech clips"


def clip_phrases(rate: int = 48000) -> list[Phrase]:
    """Phrases cut from the real speech clips (moonshine-voice carrier)."""
    from speech.asr.audio import read_wav, resample
    from tests.support.speech_clips import load_clips

    phrases: list[Phrase] = []
    for clip in load_clips():
        audio, clip_rate = read_wav(clip.path)
        phrases += speech_phrases(resample(audio, clip_rate, rate), rate, clip.name)
    return phrases


@dataclass
class BargeInRun:
    """What one echo barge-in experiment measured (times in seconds)."""

    voice: str
    quiet_s: float
    quiet_false: int  # starts while the avatar talked alone
    trial_false: int  # starts during the trials that match no phrase
    avatar_minutes: float  # avatar speech without a person talking over it
    latencies: list[float]  # speech onset (first audible) -> on_start, per detected trial
    p56_latencies: list[float]  # the same from the P.56 onset
    missed: int
    utterances: int  # utterances delivered (starts the VAD confirmed)
    fast_starts: int
    unconfirmed: int
    overflows: int
    underruns: int
    output_latency: float = 0.0  # the speaker's buffer at the end (it may have grown)
    stalls: int = 0  # host stalls injected (``stall``), and their share of the run
    stalled_share: float = 0.0

    @property
    def false_per_minute(self) -> float:
        return (self.quiet_false + self.trial_false) / max(self.avatar_minutes, 1e-9)


def run_barge_in(
    *,
    quiet_s: float = 60.0,
    trials: int = 24,
    ser_db: float = 0.0,
    gate: bool = True,
    spacing_s: float = 3.5,
    lead_s: float = 1.0,
    interrupt: bool = True,
    tap: BargeInTap | None = None,
    stall: Callable[[list[int]], HostStalls] | None = None,
    sink_latency: float | str = "low",
) -> BargeInRun:
    """The avatar talks through a 30 ms echo loopback: alone for ``quiet_s``, then
    ``trials`` times: it starts talking again and after ``lead_s`` a real phrase is
    played into ``micfeed`` over it at ``ser_db`` (the person's active speech level over
    the avatar's). Like the session, every start cuts the avatar off (``sink.stop()``).
    The listener is the real capture + collector (Silero VAD, default settings) with the
    echo gate on the sink's reference.

    ``interrupt=False`` keeps the avatar talking over a detected phrase; ``tap`` records
    the listener's inputs for :func:`tests.support.barge_in_replay.replay`; ``stall``
    makes the :class:`~tests.support.stalls.HostStalls` that freeze this process and the
    sound server while the avatar talks (given their pids). Runs on a fresh virtual sound
    server (:func:`restart_sound_server`). ``sink_latency``: the speaker's buffer (seconds
    fixes it; "low" starts small and grows after underruns, as the app does)."""
    from app.core.listening import UtteranceCollector
    from app.core.types import SpeechChunk
    from speech.capture import SoundDeviceSource
    from speech.playback import SoundDeviceSink
    from speech.vad.silero import SileroVoiceActivity

    phrases = clip_phrases(48000)
    if not phrases:
        raise RuntimeError("no speech clips: pip install --no-deps moonshine-voice")
    avatar, avatar_rate, voice = avatar_speech(quiet_s + trials * (spacing_s + 2) + 5.0)
    restart_sound_server()
    starts: list[float] = []
    heard: list[float] = []
    sink = SoundDeviceSink(latency=sink_latency)

    def started() -> None:
        starts.append(time.monotonic())
        if interrupt:
            # the session interrupts the turn: the speaker stops (not on the capture thread)
            threading.Thread(target=sink.stop, daemon=True).start()

    collector = UtteranceCollector(
        SileroVoiceActivity(),
        16000,
        started,
        lambda audio: heard.append(time.monotonic()),
        echo_reference=sink.reference if gate else None,
    )
    feed_listener = collector.feed
    if tap is not None:
        write = sink.reference.write

        def recorded_write(
            block: FloatArray, dac_time: float, rate: int, *, resumed: bool = False
        ) -> None:
            tap.played(time.monotonic(), block, dac_time, rate, resumed)
            write(block, dac_time, rate, resumed=resumed)

        def recorded_feed(frame: FloatArray) -> None:
            tap.heard(frame, time.monotonic())
            collector.feed(frame)

        sink.reference.write = recorded_write  # type: ignore[method-assign]
        feed_listener = recorded_feed
    source = SoundDeviceSource()
    target = active_rms(avatar, avatar_rate) * 10 ** (ser_db / 20)
    played: list[tuple[Phrase, Playback]] = []
    cursor = 0

    def talk(seconds: float) -> None:
        nonlocal cursor
        sink.stop()  # a new turn: whatever was left is dropped
        end = min(len(avatar), cursor + int(seconds * avatar_rate))
        for i in range(cursor, end, avatar_rate):  # 1 s pieces, as synthesis hands them
            sink.play(SpeechChunk(avatar[i : min(i + avatar_rate, end)], avatar_rate))
        cursor = end

    final_latency = 0.0
    with echo_loopback(30), ExitStack() as stack:
        feed = MicFeed()
        try:
            source.start(feed_listener)
            time.sleep(1.0)
            stalls = None
            if stall is not None:
                stalls = stack.enter_context(stall([os.getpid(), sound_server_pid()]))
            began = time.monotonic()
            talk(quiet_s + 1.0)
            wait_until(began + quiet_s)
            quiet_false = len(starts)
            if tap is not None:
                tap.quiet_end = time.monotonic()
            for k in range(trials):
                phrase = phrases[k % len(phrases)]
                gain = target / active_rms(phrase.own, phrase.rate)
                talk(spacing_s + 2.0)
                time.sleep(lead_s)
                item = feed.play(phrase.samples * gain, phrase.onset)
                item.done.wait(10)
                time.sleep(max(0.3, spacing_s - phrase.seconds))
                played.append((phrase, item))
            sink.stop()
            final_latency = sink.output_latency
            if stalls is not None:
                stack.close()  # the run's last utterance is delivered on a running machine
            time.sleep(0.5)
        finally:
            source.stop()
            feed.close()
            sink.close()
    spans: list[tuple[float, float]] = []
    laters: list[float] = []  # the P.56 onset after the first audible one, per phrase
    for phrase, item in played:
        onset, end = item.onset_time, item.end_time
        assert onset is not None and end is not None
        spans.append((onset, end))
        laters.append((p56_onset(phrase) - phrase.onset) / phrase.rate)
        if tap is not None:
            tap.trials.append((onset, end, laters[-1]))
    delays, claimed = phrase_starts(starts, spans)
    latencies = [d for d in delays if d is not None]
    p56 = [d - later for d, later in zip(delays, laters, strict=True) if d is not None]
    return BargeInRun(
        voice=voice,
        quiet_s=quiet_s,
        quiet_false=quiet_false,
        trial_false=len(starts) - quiet_false - claimed,
        avatar_minutes=(quiet_s + trials * lead_s) / 60,  # the avatar alone, talking
        utterances=len(heard),
        latencies=latencies,
        p56_latencies=p56,
        missed=delays.count(None),
        fast_starts=collector.fast_starts,
        unconfirmed=collector.dropped,
        overflows=source.overflows,
        underruns=sink.underruns,
        output_latency=final_latency,
        stalls=stalls.report.stalls if stalls is not None else 0,
        stalled_share=stalls.report.share if stalls is not None else 0.0,
    )


def phrase_starts(
    starts: list[float], spans: list[tuple[float, float]]
) -> tuple[list[float | None], int]:
    """Per phrase (onset, end): how long after its onset the first start fell within it
    (from 0.2 s before the onset to 0.3 s after its end), None when none did; and how many
    starts fell within some phrase (the rest are false barge-ins)."""
    delays: list[float | None] = []
    claimed: set[int] = set()
    for onset, end in spans:
        hits = [i for i, t in enumerate(starts) if onset - 0.2 <= t <= end + 0.3]
        claimed.update(hits)
        delays.append(starts[hits[0]] - onset if hits else None)
    return delays, len(claimed)


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (no interpolation: with 20 trials p95 is the 19th)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(np.ceil(q / 100 * len(ordered))) - 1))]
