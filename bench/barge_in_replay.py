"""Echo gate settings compared on one recorded barge-in experiment.

``record``: one live run of ``bench/barge_in_echo.py``'s experiment (the avatar's Piper
voice through a 30 ms ``module-loopback`` echo, real phrases over it), with the avatar
left talking over every phrase, saving what the listener was given (microphone frames
and arrival times, the speaker's blocks and DAC times, the phrases' onsets).

``replay``: that recording through a fresh echo gate per setting (``--set name=value``
for any :class:`speech.barge_in.GateParams` field, several ``--set`` per setting, settings
separated by ``--vs``), printing for each the false barge-ins and the P.56 onset ->
start latency (p50/p95), so settings are compared on identical input. ``--webrtc``
adds a peer on the same input: WebRTC's AEC3 (``pip install livekit``) with Silero on its
output (:mod:`tests.support.webrtc_peer`), and the ratio of the latencies. The live bench
remains the measure of record: replayed starts are the deciding frames' arrival times,
a few milliseconds before the live ``on_start``, and a recording is one draw of the
capture path's timing (session 4: a detector better on a replay was worse live).

``floor``: the speech detector alone, on the same phrases with no echo, no capture path
and no gate: Silero's windows from the P.56 onset until 1 or 2 in a row reach the gate's
threshold. What no echo handling can beat while Silero confirms a barge-in.

    XDG_RUNTIME_DIR=/tmp/dhuman-xdg-bench . scripts/virtual-devices.sh start
    python bench/barge_in_replay.py record /tmp/barge.npz [--trials 40] [--quiet-s 60]
    python bench/barge_in_replay.py replay /tmp/barge.npz --set confirm_windows=1 --vs
    python bench/barge_in_replay.py replay /tmp/barge.npz --webrtc
    python bench/barge_in_replay.py floor
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from speech.barge_in import GateParams
from tests.support.barge_in_replay import BargeInTap, Recording, ReplayScore, replay
from tests.support.pulse import percentile, pulse_problem, run_barge_in
from tests.support.webrtc_peer import webrtc_problem


def settings(words: list[str]) -> list[GateParams]:
    """``--set a=1 --set b=2 --vs --set a=3`` -> two parameter sets (the first: defaults
    plus a and b)."""
    groups: list[dict[str, float]] = [{}]
    fields = {f.name: f.type for f in dataclasses.fields(GateParams)}
    it = iter(words)
    for word in it:
        if word == "--vs":
            groups.append({})
        elif word == "--set":
            name, _, value = next(it).partition("=")
            if name not in fields:
                raise SystemExit(f"no gate parameter {name!r}; there are {sorted(fields)}")
            groups[-1][name] = int(value) if fields[name] in (int, "int") else float(value)
        else:
            raise SystemExit(f"unexpected {word!r}")
    return [GateParams(**g) for g in groups]  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--trials", type=int, default=40)
    rec.add_argument("--quiet-s", type=float, default=60.0)
    rec.add_argument("--ser-db", type=float, default=0.0)
    rep = sub.add_parser("replay")
    rep.add_argument("recording", type=Path)
    rep.add_argument(
        "--webrtc", action="store_true", help="also WebRTC's AEC3 (pip install livekit)"
    )
    sub.add_parser("floor")
    args, rest = parser.parse_known_args()
    if args.command == "floor":
        return floor()
    if args.command == "record":
        problem = pulse_problem()
        if problem:
            print(problem)
            return 2
        tap = BargeInTap()
        run = run_barge_in(
            quiet_s=args.quiet_s,
            trials=args.trials,
            ser_db=args.ser_db,
            interrupt=False,
            tap=tap,
        )
        tap.save(args.out)
        print(f"saved {len(tap.mic)} microphone frames, {len(tap.trials)} phrases")
        print(
            f"live: {run.quiet_false} false alone, detected {len(run.p56_latencies)}, "
            f"speaker underruns {run.underruns}"
        )
        return 0
    recording = Recording.load(args.recording)
    runs: list[tuple[str, ReplayScore]] = []
    for params in settings(rest):
        changed = {
            f.name: getattr(params, f.name)
            for f in dataclasses.fields(GateParams)
            if getattr(params, f.name) != f.default
        }
        runs.append((str(changed or "defaults"), replay(recording, params)))
    if args.webrtc:
        problem = webrtc_problem()
        if problem:
            print(problem)
            return 2
        runs.append(("WebRTC AEC3 + Silero", replay(recording, GateParams(), peer=True)))
    for name, score in runs:
        print(f"{name}: {describe(score, len(recording.trials))}")
    if args.webrtc and len(runs) > 1:
        ours, peer = runs[0][1].p56_latencies, runs[-1][1].p56_latencies
        if ours and peer:
            print(
                f"{runs[0][0]} against AEC3: p50 "
                f"{statistics.median(ours) / statistics.median(peer):.2f}x, p95 "
                f"{percentile(ours, 95) / percentile(peer, 95):.2f}x its latency"
            )
    return 0


def describe(score: ReplayScore, trials: int) -> str:
    lat = [1000 * x for x in score.p56_latencies]
    figures = (
        f"p50 {statistics.median(lat):.0f} ms, p95 {percentile(lat, 95):.0f} ms, "
        f"max {max(lat):.0f} ms"
        if lat
        else "none detected"
    )
    removed = (
        f"; echo removed {score.echo_removed_db:.1f} dB"
        if score.echo_removed_db is not None
        else ""
    )
    return (
        f"false alone {score.quiet_false}, false in trials {score.trial_false}, "
        f"detected {len(lat)}/{trials}, {figures}{removed}"
    )


def floor() -> int:
    """Silero's own onset latency on the clean phrases (printed per confirmation rule)."""
    import numpy as np

    from speech.vad.silero import WINDOW, SileroProbabilities
    from tests.support.pulse import clip_phrases, p56_onset

    phrases = clip_phrases(16000)
    if not phrases:
        print("no speech clips: pip install --no-deps moonshine-voice")
        return 2
    silero = SileroProbabilities()
    threshold = GateParams().threshold
    for windows in (1, 2):
        latencies = []
        for phrase in phrases:
            # half a second of silence first, as Silero hears between turns
            audio = np.concatenate([np.zeros(8000, np.float32), phrase.samples])
            onset = 8000 + p56_onset(phrase)
            silero.reset()
            run = 0
            for k in range(len(audio) // WINDOW):
                run = run + 1 if silero(audio[k * WINDOW : (k + 1) * WINDOW]) >= threshold else 0
                if run == windows:  # decided at the end of this window
                    latencies.append(1000 * ((k + 1) * WINDOW - onset) / 16000)
                    break
        print(
            f"Silero >= {threshold} for {windows} window(s) in a row, {len(phrases)} clean "
            f"phrases: detected {len(latencies)}, P.56 onset -> decision p50 "
            f"{statistics.median(latencies):.0f} ms, p95 {percentile(latencies, 95):.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
