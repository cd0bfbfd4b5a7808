"""``tts.engine: auto`` with a real Korean voice behind a speech server, espeak-ng behind it.

The server is a real local ``/v1/audio/speech`` endpoint (tests/support/speech_server.py)
speaking with espeak-ng's Korean voice, reached through the real ``openai`` client.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest

from app.config.settings import Settings
from app.core.registry import build_role
from speech.tts.espeak_tts import EspeakSynthesizer
from tests.support.speech_server import SpeechServer

HANGUL = re.compile(r"[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def server() -> Iterator[SpeechServer]:
    with SpeechServer(EspeakSynthesizer("ko")) as running:
        yield running


def auto_with_remote_korean(server: SpeechServer) -> object:
    settings = Settings()
    settings.tts.engine = "auto"
    settings.tts.korean_engine = "remote"
    settings.tts.remote_base_url = server.base_url
    settings.tts.remote_timeout_s = 5.0
    return build_role("tts", settings)


def test_korean_sentences_go_to_the_chosen_voice_and_english_does_not(
    server: SpeechServer,
) -> None:
    server.status = None
    server.requests.clear()
    synth = auto_with_remote_korean(server)
    chunks = list(synth.synthesize("Welcome. 약국은 3층에 있습니다.", "en"))  # type: ignore[attr-defined]
    sent = [request.input for request in server.requests]
    assert len(sent) == 1 and HANGUL.search(sent[0]) and "Welcome" not in sent[0]
    assert "삼" in sent[0]  # normalised as Korean before it was sent ("3층" -> "삼층")
    assert len(chunks) == 2 and all(c.sample_rate == chunks[0].sample_rate for c in chunks)
    assert chunks[1].seconds > 0.5


def test_a_failing_korean_voice_leaves_espeak_speaking_the_sentence(
    server: SpeechServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.status = 500
    server.requests.clear()
    synth = auto_with_remote_korean(server)
    with caplog.at_level(logging.WARNING):
        chunks = list(synth.synthesize("안녕하세요.", "ko"))  # type: ignore[attr-defined]
    server.status = None
    assert server.requests, "the chosen voice was tried first"
    assert chunks and chunks[0].seconds > 0.3 and chunks[0].visemes  # espeak-ng spoke it
    assert "espeak-ng speaks this sentence" in caplog.text
