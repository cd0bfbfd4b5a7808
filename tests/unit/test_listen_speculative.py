"""The speculative pass at the first pause: its own decoding options, and no interim caption
queued ahead of it."""

from __future__ import annotations

import threading
import time

import numpy as np

from app.core.listening import UtteranceCollector
from app.core.types import FloatArray, Transcript
from speech.asr.live import SpeculativeTranscriber
from tests.support.scripted_vad import ScriptedVad

RATE = 16000
FRAME = 512


class Engine:
    """Records which entry point decoded what."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        self.calls.append("final")
        return Transcript("final", "en", len(audio) / sample_rate)

    def transcribe_speculative(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        self.calls.append("speculative")
        return Transcript("speculative", "en", len(audio) / sample_rate)


def test_the_speculation_decodes_with_the_engines_speculative_options() -> None:
    engine = Engine()
    speculative = SpeculativeTranscriber(engine)  # type: ignore[arg-type]
    audio = np.zeros(RATE, np.float32)
    guess = speculative.speculate(audio, RATE)
    final = np.concatenate([audio, np.zeros(FRAME, np.float32)])
    speculative.confirm(guess, final)
    assert speculative.transcribe(final, RATE).text == "speculative"
    assert engine.calls == ["speculative"], "the final reused it: one decode"
    speculative.close()


def test_speculative_options_fall_back_to_the_plain_transcription() -> None:
    class Plain:
        def transcribe(
            self, audio: FloatArray, sample_rate: int, language: str | None = None
        ) -> Transcript:
            return Transcript("plain", "en", 1.0)

    speculative = SpeculativeTranscriber(Plain())  # type: ignore[arg-type]
    guess = speculative.speculate(np.zeros(RATE, np.float32), RATE)
    assert guess.future.result().text == "plain"
    speculative.close()


def test_a_pause_withdraws_the_caption_not_yet_begun() -> None:
    """Captions and the speculation share one model: a caption still waiting when the
    pause comes would make the final transcript wait for it."""
    busy = threading.Event()
    release = threading.Event()
    captions: list[int] = []

    class SlowCaptions:
        def transcribe(
            self, audio: FloatArray, sample_rate: int, language: str | None = None
        ) -> Transcript:
            busy.set()
            release.wait(5)  # the first caption is still decoding ...
            captions.append(len(audio))
            return Transcript("caption", "en", len(audio) / sample_rate)

    speculated: list[int] = []

    class Speculator:
        def speculate(self, audio: FloatArray, sample_rate: int) -> object:
            speculated.append(len(audio))
            return object()

        def discard(self, speculation: object) -> None:
            pass

        def confirm(self, speculation: object, final_audio: FloatArray) -> None:
            pass

    # one second of speech (a caption), another second (a second caption offered while
    # the first still decodes), then a pause
    frames = 5 * RATE // (2 * FRAME)  # 2.5 s
    script: list[str | None] = ["start"] + [None] * (frames + 3)
    silent = [0.0] * frames + [32.0, 64.0, 96.0]
    collector = UtteranceCollector(
        ScriptedVad(script, silent),
        RATE,
        lambda: None,
        lambda audio: None,
        speculator=Speculator(),
        on_partial=lambda text: None,
        partial_transcriber=SlowCaptions(),  # type: ignore[arg-type]
        partial_interval_s=1.0,
    )
    for k in range(frames + 3):
        collector.feed(np.full(FRAME, 0.1, np.float32))
        if k == RATE // FRAME + 1:
            assert busy.wait(5)
    assert speculated, "the pause started the speculation"
    release.set()
    deadline = time.monotonic() + 5
    while not captions and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # long enough for a queued caption to start and finish
    collector.close()
    assert len(captions) == 1, "the caption offered before the pause was never decoded"
