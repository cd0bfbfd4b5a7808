"""Barge-in through a loudspeaker's echo: the avatar's own voice never cuts it off, a
person talking over it does, quickly.

``module-loopback spk.monitor -> micfeed`` (30 ms) plays everything the avatar says back
into its microphone, like a kiosk loudspeaker. 60 s of the avatar's speech (Piper) alone
must start nothing; then 20 times the avatar starts talking again and a real speech
phrase is played into ``micfeed`` over it (at the avatar's own level): each must start an
utterance (which, like the session, cuts the avatar off) and be delivered as one. Needs
the virtual devices and unloads the loopback it loads; run it on a private PulseAudio
server when others share the default one
(``XDG_RUNTIME_DIR=/tmp/x . scripts/virtual-devices.sh start``).

The detection target in the brief is <= 150 ms at p95; ``bench/barge_in_echo.py``
measures it. Measured here the p50 meets it (~90 ms), the p95 does not (~250-480 ms): the
start is confirmed by Silero on the echo-cancelled signal, and Silero alone, on these
clean phrases with no echo at all, needs ~200 ms at p95 after the P.56 onset (an
energy-only start reaches ~130-180 ms p95 but also starts on the echo). The bounds below
guard what the gate does today (a stricter detector tuned on an offline replay made the
wall clock worse, p50 ~200 ms, and was taken back out).
"""

from __future__ import annotations

import statistics
import sys

import pytest

from tests.support.pulse import BargeInRun, percentile, pulse_problem
from tests.support.speech_clips import load_clips
from tests.support.steal import StealMeter

pytest.importorskip("onnxruntime", reason="pip install faster-whisper (carries Silero)")

pytestmark = [pytest.mark.slow, pytest.mark.audio]

_PROBLEM = pulse_problem()
if _PROBLEM is not None:
    pytest.skip(_PROBLEM, allow_module_level=True)


def _problems(run: BargeInRun) -> list[str]:
    ms = [1000 * x for x in run.p56_latencies]
    checks = [
        (run.quiet_false == 0, "the avatar's own voice started an utterance"),
        (run.trial_false == 0, "something other than the person started an utterance"),
        (run.missed <= 1, f"{run.missed} of 20 phrases over the avatar were not heard"),
        (run.unconfirmed <= 1 and run.utterances >= 19, "barge-ins not kept as utterances"),
        # guards, not the target (the bench measures that): the old and the new code of
        # one day gave p50 91 vs ~200 ms, p95 481 vs 580-1011 ms
        (bool(ms) and statistics.median(ms) <= 200, "p50 over 200 ms"),
        (bool(ms) and percentile(ms, 95) <= 800, "p95 over 800 ms"),
    ]
    return [problem for ok, problem in checks if not ok]


def _summary(run: BargeInRun) -> str:
    ms = [1000 * x for x in run.p56_latencies] or [float("nan")]
    return (
        f"{run.voice}: false barge-ins {run.quiet_false} alone + {run.trial_false} "
        f"between phrases ({run.false_per_minute:.2f}/min); detected {len(run.p56_latencies)}"
        f"/20; P.56 onset -> start p50 {statistics.median(ms):.0f} ms p95 "
        f"{percentile(ms, 95):.0f} ms; underruns {run.underruns}, unconfirmed "
        f"{run.unconfirmed}; speaker buffer {1000 * run.output_latency:.0f} ms"
    )


@pytest.mark.timeout(1200)
def test_own_voice_never_barges_in_and_a_person_does() -> None:
    """A failing run is run again, up to three runs; passing once passes.

    The guard runs on shared virtual machines whose host can take the CPUs away for a
    while, and a run lasts three minutes. Each run measures that (steal, in
    ``/proc/stat``). A run that fails while the host stole more than
    :data:`tests.support.steal.FAIR_SHARE` of the CPU time judges the machine, not the
    gate: the sound server, the loopback echo and the phrases played into the microphone
    break up too (a run here at 12 % steal: 91 underruns, a false start, p95 593 ms; the
    next, at 0.1 %: none, 20/20 heard). Such a run is run again; when every failed run was
    starved like that the verdict is a skip that gives the numbers. A failure on a fair
    host fails: a gate that is really broken fails every run, and the failure lists them.

    Each run starts on a fresh virtual sound server: one that has run for hours echoes
    in 20 ms copies."""
    if not load_clips():
        pytest.skip("speech carrier missing: pip install --no-deps moonshine-voice")
    from tests.support.pulse import run_barge_in

    runs: list[tuple[BargeInRun, list[str], StealMeter]] = []
    for _ in range(3):
        with StealMeter() as steal:
            run = run_barge_in(quiet_s=60.0, trials=20, ser_db=0.0)
        runs.append((run, _problems(run), steal))
        sys.stdout.write(f"\n{_summary(run)}; {steal.describe()}\n")
        if not runs[-1][1]:
            return
    report = "; ".join(
        f"run {n + 1}: {_summary(r)}; {s.describe()}: {p}" for n, (r, p, s) in enumerate(runs)
    )
    if all(not s.fair for _, _, s in runs):
        pytest.skip(f"the host starved every run, no verdict on the gate: {report}")
    raise AssertionError(report)
