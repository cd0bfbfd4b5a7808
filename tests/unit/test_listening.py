"""The utterance collector's optional parts with scripted voice activity: the echo gate's
fast start, speculative transcription, the early endpoint and partial captions."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pytest

from app.core.listening import UtteranceCollector, sounds_final
from app.core.types import FloatArray, Transcript
from speech.asr.live import PartialWorker, SpeculativeTranscriber
from tests.support.scripted_vad import ScriptedVad

RATE = 16000
FRAME = 512


@dataclass
class Gated:
    audio: FloatArray
    vad_audio: FloatArray
    barge_in: bool


class ScriptedGate:
    """An echo gate that calls a barge-in on the listed frames."""

    def __init__(self, barge_in_on: set[int]) -> None:
        self.barge_in_on = barge_in_on
        self.k = -1

    def process(self, frame: FloatArray, arrival: float | None = None) -> Gated:
        self.k += 1
        return Gated(frame * 0.5, frame, self.k in self.barge_in_on)


class SlowTranscriber:
    def __init__(self, text: str = "where is radiology.", delay: float = 0.05) -> None:
        self.text, self.delay = text, delay
        self.calls: list[int] = []

    def transcribe(self, audio: FloatArray, sample_rate: int, language: str | None = None):  # type: ignore[no-untyped-def]
        self.calls.append(len(audio))
        time.sleep(self.delay)
        return Transcript(self.text, "en", len(audio) / sample_rate)


def frames(count: int, value: float = 0.1) -> list[FloatArray]:
    return [np.full(FRAME, value, np.float32) for _ in range(count)]


def run(collector: UtteranceCollector, count: int) -> None:
    for frame in frames(count):
        collector.feed(frame)


def test_a_barge_in_starts_at_once_and_the_vad_confirms_it() -> None:
    starts: list[int] = []
    utterances: list[FloatArray] = []
    vad = ScriptedVad([None] * 3 + ["start"] + [None] * 4 + ["stop"])
    collector = UtteranceCollector(
        vad, RATE, lambda: starts.append(vad.i), utterances.append, echo_reference=ScriptedGate({1})
    )
    run(collector, 12)
    assert starts == [1], "started on the gate's barge-in, two frames before the VAD"
    assert len(utterances) == 1 and collector.fast_starts == 1 and collector.dropped == 0
    # the gate's echo-cancelled audio is what is kept (the scripted gate halves it)
    assert np.allclose(utterances[0][-FRAME:], 0.05)


def test_an_unconfirmed_barge_in_is_dropped() -> None:
    utterances: list[FloatArray] = []
    vad = ScriptedVad([None] * 80)
    collector = UtteranceCollector(
        vad,
        RATE,
        lambda: None,
        utterances.append,
        echo_reference=ScriptedGate({2}),
        confirm_s=0.5,
    )
    run(collector, 80)
    assert utterances == [] and collector.dropped == 1 and vad.resets == 1


def test_speculation_at_the_pause_answers_the_final_transcription() -> None:
    inner = SlowTranscriber()
    speculative = SpeculativeTranscriber(inner)
    utterances: list[FloatArray] = []
    # speech, then a pause growing 32 ms per frame, the VAD closes the turn at frame 20
    script: list[str | None] = ["start"] + [None] * 19 + ["stop"]
    silent = [0.0] * 8 + [32.0 * k for k in range(1, 13)] + [0.0]
    collector = UtteranceCollector(
        ScriptedVad(script, silent),
        RATE,
        lambda: None,
        utterances.append,
        speculator=speculative,
        speculate_ms=96,
    )
    run(collector, 21)
    (audio,) = utterances
    assert len(inner.calls) == 1, "one speculation, started during the pause"
    assert inner.calls[0] < len(audio)
    result = speculative.transcribe(audio, RATE)
    assert result.text == "where is radiology." and speculative.reused == 1
    assert len(inner.calls) == 1, "the final did not decode again"
    # any other audio is decoded normally
    speculative.transcribe(np.zeros(RATE, np.float32), RATE)
    assert len(inner.calls) == 2


def test_speech_after_the_pause_discards_the_speculation() -> None:
    inner = SlowTranscriber()
    speculative = SpeculativeTranscriber(inner)
    utterances: list[FloatArray] = []
    silent = [0.0] * 4 + [32.0, 64.0, 96.0, 128.0] + [0.0] * 4 + [0.0]
    script: list[str | None] = ["start"] + [None] * 11 + ["stop"]
    collector = UtteranceCollector(
        ScriptedVad(script, silent), RATE, lambda: None, utterances.append, speculator=speculative
    )
    run(collector, 13)
    assert speculative.discarded == 1
    speculative.transcribe(utterances[0], RATE)
    assert speculative.reused == 0 and len(inner.calls) == 2


@pytest.mark.parametrize(("text", "early"), [("Where is radiology?", True), ("I need,", False)])
def test_the_early_endpoint_needs_a_finished_sentence(text: str, early: bool) -> None:
    speculative = SpeculativeTranscriber(SlowTranscriber(text, delay=0.0))
    done: list[int] = []
    vad = ScriptedVad(["start"] + [None] * 40, [0.0] * 4 + [32.0 * k for k in range(1, 38)])

    def finish(audio: FloatArray) -> None:
        done.append(vad.i)

    collector = UtteranceCollector(
        vad, RATE, lambda: None, finish, speculator=speculative, endpoint_ms=400
    )
    for frame in frames(40):
        collector.feed(frame)
        time.sleep(0.002)  # the background speculation finishes meanwhile
    if early:
        assert done and 4 + 12 <= done[0] <= 4 + 16 and vad.resets == 1  # ~400 ms of pause
    else:
        assert done == [], "a sentence cut at a comma waits for the VAD's own stop"


def test_sounds_final() -> None:
    assert sounds_final("Where is radiology?") and sounds_final("Yes.") and sounds_final("")
    assert not sounds_final("I think that") and not sounds_final("so...")
    assert not sounds_final("It was the best of times,")


def test_partials_arrive_while_speaking_and_never_after() -> None:
    partials: list[str] = []
    got = threading.Event()

    def on_partial(text: str) -> None:
        partials.append(text)
        got.set()

    vad = ScriptedVad(["start"] + [None] * 60 + ["stop"] + [None] * 10)
    collector = UtteranceCollector(
        vad,
        RATE,
        lambda: None,
        lambda audio: None,
        on_partial=on_partial,
        partial_transcriber=SlowTranscriber("where is", delay=0.01),
        partial_interval_s=0.5,
    )
    for k, frame in enumerate(frames(72)):
        collector.feed(frame)
        if k == 40:
            assert got.wait(2.0), "no partial within 1.3 s of speech"
    count = len(partials)
    time.sleep(0.2)
    assert partials[0] == "where is" and len(partials) == count
    collector.close()


def test_partial_worker_keeps_only_the_newest_offer() -> None:
    seen: list[tuple[int, str]] = []
    release = threading.Event()

    class Blocking(SlowTranscriber):
        def transcribe(self, audio, sample_rate, language=None):  # type: ignore[no-untyped-def]
            release.wait(2.0)
            return Transcript(f"{len(audio)}", "en", 0.0)

    worker = PartialWorker(Blocking(), RATE, lambda key, text: seen.append((key, text)))
    worker.offer(1, np.zeros(100, np.float32))
    time.sleep(0.05)  # the first offer is being transcribed
    for n in (200, 300, 400):
        worker.offer(1, np.zeros(n, np.float32))
    release.set()
    deadline = time.monotonic() + 2
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.close()
    assert seen == [(1, "100"), (1, "400")]
