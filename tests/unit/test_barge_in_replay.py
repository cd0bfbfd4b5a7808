"""A recorded barge-in experiment replays through the real gate and is scored right."""

from __future__ import annotations

import pytest

from speech.barge_in import GateParams
from tests.support.barge_in_replay import BargeInTap, Recording, replay
from tests.unit.test_echo_gate import OUT, RATE, T0, _echoed, _speech, needs_silero


def _recorded(tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """The avatar talks for 24 s over a 35 ms echo path; a person talks over it at 14 s
    and 20 s. Frames arrive 20 ms after they end; the speaker's blocks are written 50 ms
    before their DAC time, as an output callback does."""
    from tests.support.pulse import Phrase, p56_onset

    avatar = _speech("two_cities.wav", OUT)[: OUT * 24]
    person = _speech("clone-test.wav", RATE)
    tap = BargeInTap()
    for i in range(0, len(avatar), 256):
        dac = T0 + i / OUT
        tap.played(dac - 0.05, avatar[i : i + 256], dac, OUT, False)
    mic = _echoed(avatar)
    later = p56_onset(Phrase("clone-test", person, RATE, 0)) / RATE
    for second in (14, 20):
        start = second * RATE
        mic[start : start + len(person)] += person[: len(mic) - start]
        tap.trials.append((T0 + second, T0 + second + len(person) / RATE, later))
    for k in range(len(mic) // 512):
        tap.heard(mic[k * 512 : (k + 1) * 512], T0 + (k + 1) * 512 / RATE + 0.02)
    tap.quiet_end = T0 + 12.0
    path = tmp_path_factory.mktemp("replay") / "run.npz"
    tap.save(path)
    return Recording.load(path)


@needs_silero
def test_a_recording_replays_through_the_gate_and_scores_each_phrase(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    recording = _recorded(tmp_path_factory)
    assert recording.mic.shape[1] == 512 and len(recording.trials) == 2
    score = replay(recording, GateParams())
    assert score.quiet_false == 0 and score.trial_false == 0
    assert score.missed == 0
    # each person heard after their voice began and within 300 ms of it (P.56 onset)
    assert all(0.0 < latency < 0.3 for latency in score.p56_latencies)
    # the same input gives the same decisions: settings can be compared on it
    assert replay(recording, GateParams()).starts == score.starts
    # a gate that wants far more confirmation decides later on the same input
    slow = replay(recording, GateParams(confirm_windows=6))
    assert slow.missed == 0
    assert all(s > f for s, f in zip(slow.p56_latencies, score.p56_latencies, strict=True))


@needs_silero
def test_webrtc_aec3_replays_as_a_peer_on_the_same_recording(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    pytest.importorskip("livekit.rtc", reason="WebRTC's AEC3 comes with livekit (dev extra)")
    recording = _recorded(tmp_path_factory)
    score = replay(recording, GateParams(), peer=True)
    # AEC3 really cancels the avatar's voice while it talks alone (the gate's NLMS: ~9 dB)
    assert score.echo_removed_db is not None and score.echo_removed_db > 15.0
    assert score.quiet_false == 0
    # and both people are heard over the echo, each start inside their phrase
    assert score.missed == 0 and score.trial_false == 0
    assert replay(recording, GateParams()).echo_removed_db is None  # the gate's own run
