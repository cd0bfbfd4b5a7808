"""Barge-in over the avatar's own echo: false barge-ins per minute and detection latency.

A kiosk loudspeaker is simulated with ``module-loopback spk.monitor -> micfeed`` (30 ms):
everything the avatar plays is heard again by its microphone ``vmic``. The avatar (the
real :class:`SoundDeviceSink`, speaking Piper TTS; real clips if Piper is missing) talks
for ``--quiet-s`` seconds alone (every start is a false barge-in), then keeps talking
while real speech phrases (the moonshine-voice clips, other voices) are played into
``micfeed`` over it, ``--trials`` times, at ``--ser-db`` (the person's active speech
level over the avatar's); like the session, each start cuts the avatar off and the next
trial begins a new turn. The listener is the real :class:`SoundDeviceSource` +
:class:`UtteranceCollector` (Silero VAD, default settings) with the echo gate.

Latency is measured on one clock: the phrase's speech onset as it reaches ``micfeed``
(PortAudio DAC time, converted to ``time.monotonic()``) -> the collector's ``on_start``.
Two onsets: "first audible" (the first 10 ms within 35 dB of the clip's loudest) and
ITU-T P.56 (within 15.9 dB of the phrase's active level). Loads and unloads the loopback
itself, so run it on a private PulseAudio server::

    XDG_RUNTIME_DIR=/tmp/dhuman-xdg-bench . scripts/virtual-devices.sh start
    python bench/barge_in_echo.py [--trials 24] [--quiet-s 60] [--ser-db 0] [--no-gate]
        [--busy-thread 30] [--stalls 30,150 --stall-gap 0.5,2]

``--busy-thread MS`` adds a loaded app's interpreter: a Python thread that holds it in
bursts of MS milliseconds with 5 ms rests, so the audio callbacks and the capture worker
run late and the speaker underruns (robustness, not a latency figure). ``--stalls LO,HI``
freezes this process and the sound server together for LO-HI ms every ``--stall-gap``
seconds, as a busy virtual host does (:class:`tests.support.stalls.HostStalls`).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.pulse import percentile, pulse_problem, run_barge_in
from tests.support.stalls import HostStalls


def _span(text: str) -> tuple[float, float]:
    low, high = (float(x) for x in text.split(","))
    return low, high


def busy_interpreter(burst_ms: float, stop: threading.Event) -> None:
    """Hold the interpreter in bursts (pure-Python work) until ``stop`` is set."""
    while not stop.is_set():
        end = time.perf_counter() + burst_ms / 1000
        total = 0
        while time.perf_counter() < end:
            total += sum(i * i for i in range(200))
        time.sleep(0.005)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=24)
    parser.add_argument("--quiet-s", type=float, default=60.0, help="avatar alone, seconds")
    parser.add_argument("--no-gate", action="store_true", help="the plain VAD (baseline)")
    parser.add_argument("--ser-db", type=float, default=0.0, help="person over avatar, dB")
    parser.add_argument("--busy-thread", type=float, default=0.0, metavar="MS")
    parser.add_argument("--stalls", type=_span, default=None, metavar="LO,HI", help="ms")
    parser.add_argument(
        "--output-buffer-ms", type=float, default=0.0, help="fixed speaker buffer (0: adapts)"
    )
    parser.add_argument("--stall-gap", type=_span, default=(0.5, 2.0), metavar="LO,HI")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each barge-in")
    args = parser.parse_args()
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(relativeCreated)7.0f %(message)s")
    problem = pulse_problem()
    if problem:
        print(problem)
        return 2
    stop = threading.Event()
    if args.busy_thread > 0:
        threading.Thread(
            target=busy_interpreter, args=(args.busy_thread, stop), daemon=True
        ).start()
    pause, gap = args.stalls, args.stall_gap
    try:
        run = run_barge_in(
            quiet_s=args.quiet_s,
            trials=args.trials,
            ser_db=args.ser_db,
            gate=not args.no_gate,
            sink_latency=args.output_buffer_ms / 1000 if args.output_buffer_ms else "low",
            stall=(lambda pids: HostStalls(pids, pause_ms=pause, gap_s=gap)) if pause else None,
        )
    finally:
        stop.set()
    print(f"avatar voice: {run.voice}; echo: module-loopback 30 ms, gain 1")
    print(f"echo gate: {'off (plain VAD)' if args.no_gate else 'on'}")
    if args.busy_thread > 0:
        print(f"a busy Python thread holds the interpreter {args.busy_thread:.0f} ms at a time")
    if run.stalls:
        print(
            f"host stalls: {run.stalls} of {pause[0]:.0f}-{pause[1]:.0f} ms every "
            f"{gap[0]:g}-{gap[1]:g} s ({100 * run.stalled_share:.1f} % of the time frozen)"
        )
    print(f"the person's speech over the avatar's echo: {args.ser_db:+.1f} dB (active RMS)")
    print(f"avatar alone {run.quiet_s:.0f} s: {run.quiet_false} false barge-ins")
    print(f"during the trials: {run.trial_false} false barge-ins (outside any phrase)")
    print(f"false barge-ins per minute of avatar speech: {run.false_per_minute:.2f}")
    print(f"trials {args.trials}: detected {len(run.latencies)}, missed {run.missed}")
    for name, values in (("first audible", run.latencies), ("P.56", run.p56_latencies)):
        if values:
            ms = [1000 * v for v in values]
            print(
                f"detection latency from the {name} onset, ms: p50 "
                f"{statistics.median(ms):.0f}  p95 {percentile(ms, 95):.0f}  "
                f"(all: {' '.join(f'{x:.0f}' for x in sorted(ms))})"
            )
    print(
        f"starts by the echo gate {run.fast_starts}, unconfirmed by the VAD (dropped) "
        f"{run.unconfirmed}; utterances delivered {run.utterances}"
    )
    print(
        f"capture overflows {run.overflows}, sink underruns {run.underruns}; speaker "
        f"buffer at the end {1000 * run.output_latency:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
