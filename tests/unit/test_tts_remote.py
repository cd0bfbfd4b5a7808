"""The remote synthesizer through the real ``openai`` client against a real local HTTP
server that speaks with this repository's real espeak-ng (and, slow, Piper) voice and
streams PCM or WAV in pieces; then every way such a server fails."""

from __future__ import annotations

import socket

import numpy as np
import pytest

pytest.importorskip("openai")

from app.config.settings import Settings
from app.core.registry import build_role
from speech.tts.remote_tts import RemoteSynthesizer, RemoteTtsError, decode_wav
from tests.support.speech_server import SpeechServer, wav_header


@pytest.fixture(scope="module")
def server() -> SpeechServer:
    with SpeechServer(piece_bytes=2048) as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(server: SpeechServer) -> None:
    server.status, server.garbage, server.hang, server.require_key = None, None, 0.0, None
    server.requests.clear()


def _synth(server: SpeechServer, **kwargs: object) -> RemoteSynthesizer:
    return RemoteSynthesizer(server.base_url, "tts-1", "alloy", timeout_s=5.0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["pcm", "wav"])
def test_chunks_carry_the_servers_real_audio(server: SpeechServer, fmt: str) -> None:
    text = "Hello, I am your guide and I can help you find rooms. The cafe is on floor 3."
    chunks = list(_synth(server, response_format=fmt).synthesize(text, "en"))

    # the first clause is spoken alone, then whole sentences, each normalised
    assert [r.input for r in server.requests] == [
        "Hello, I am your guide",
        "and I can help you find rooms.",
        "The cafe is on floor three.",
    ]
    assert [r.body["response_format"] for r in server.requests] == [fmt] * 3
    assert [c.text for c in chunks] == [
        "Hello, I am your guide",
        "and I can help you find rooms.",
        "The cafe is on floor 3.",
    ]
    for chunk, request in zip(chunks, server.requests, strict=True):
        assert request.pieces > 3  # it really came as a stream of pieces
        assert chunk.sample_rate == request.rate
        # sample for sample what the real voice produced (after the 16-bit encoding)
        np.testing.assert_array_equal(chunk.samples, request.audio)
        assert 0.5 < chunk.seconds < 5.0
        assert np.max(np.abs(chunk.samples)) > 0.05  # speech, not silence
        # visemes cover the audio, and the mouth moves
        assert sum(v.duration for v in chunk.visemes) == pytest.approx(chunk.seconds, abs=0.02)
        assert len({v.name for v in chunk.visemes} - {"sil"}) >= 2
        # every spoken word has a span inside the audio
        spoken = request.input.replace(",", "").replace(".", "").split()
        assert [w.word.strip(",.") for w in chunk.words] == spoken
        assert all(0 <= w.start < w.end <= len(chunk.samples) for w in chunk.words)
    assert chunks[0].sample_rate == (24000 if fmt == "pcm" else server.voice.sample_rate)


def test_korean_is_normalised_as_korean_and_options_reach_the_server(
    server: SpeechServer,
) -> None:
    synth = RemoteSynthesizer(
        server.base_url, "kokoro", "af_sky", api_key="sk-test", speed=0.8, timeout_s=5.0
    )
    chunks = list(synth.synthesize("약국은 3층에 있습니다.", "en"))
    assert len(chunks) == 1
    request = server.requests[0]
    assert request.input == "약국은 삼층에 있습니다."
    assert request.body["model"] == "kokoro"
    assert request.body["voice"] == "af_sky"
    assert request.body["speed"] == pytest.approx(0.8)
    assert request.authorization == "Bearer sk-test"
    np.testing.assert_array_equal(chunks[0].samples, request.audio)


def test_nothing_speakable_sends_nothing(server: SpeechServer) -> None:
    assert list(_synth(server).synthesize("🙂 🙂")) == []
    assert server.requests == []


def test_registry_builds_it_with_the_key_from_the_named_variable(
    server: SpeechServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DHUMAN_TEST_TTS_KEY", "sk-from-env")
    server.require_key = "sk-from-env"
    settings = Settings()
    settings.tts.engine = "remote"
    settings.tts.remote_base_url = server.base_url
    settings.tts.remote_api_key_env = "DHUMAN_TEST_TTS_KEY"
    settings.tts.remote_voice = "nova"
    synth = build_role("tts", settings)
    assert isinstance(synth, RemoteSynthesizer)
    chunks = list(synth.synthesize("Good morning."))
    assert server.requests[0].authorization == "Bearer sk-from-env"
    assert server.requests[0].body["voice"] == "nova"
    assert chunks and chunks[0].seconds > 0.3


# ------------------------------------------------------------------- failures


def _fails(synth: RemoteSynthesizer, *expected: str) -> str:
    with pytest.raises(RemoteTtsError) as caught:
        list(synth.synthesize("Hello there."))
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    assert "Traceback" not in message
    return message


def test_server_down() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    synth = RemoteSynthesizer(f"http://127.0.0.1:{port}/v1", "tts-1", "alloy")
    _fails(synth, "Cannot reach the speech server", f"127.0.0.1:{port}", "tts.remote_base_url")


@pytest.mark.parametrize(
    ("status", "hint"),
    [
        (401, "tts.remote_api_key_env"),
        (403, "refused the API key"),
        (404, "tts.remote_model"),
        (400, "tts.remote_voice"),
        (422, "HTTP 422"),
        (500, "HTTP 500"),
    ],
)
def test_http_errors_say_what_to_check(server: SpeechServer, status: int, hint: str) -> None:
    server.status = status
    _fails(_synth(server), hint)


def test_wrong_key(server: SpeechServer) -> None:
    server.require_key = "right"
    _fails(_synth(server, api_key="wrong"), "refused the API key")


@pytest.mark.parametrize(
    ("garbage", "fmt", "hint"),
    [
        ("html", "pcm", "text/html instead of audio"),
        ("mp3", "pcm", "sent MP3 audio"),
        ("mp3", "wav", "sent MP3 audio"),
        ("odd", "pcm", "odd count"),
        ("odd", "wav", "asked for WAV but sent something else"),
        ("wav-bad", "wav", "unsupported encoding"),
        ("empty", "pcm", "sent no audio"),
    ],
)
def test_garbage_audio_is_refused(server: SpeechServer, garbage: str, fmt: str, hint: str) -> None:
    server.garbage = garbage
    _fails(_synth(server, response_format=fmt), hint)


def test_a_silent_server_times_out(server: SpeechServer) -> None:
    server.hang = 2.0
    synth = RemoteSynthesizer(server.base_url, "tts-1", "alloy", timeout_s=0.5)
    _fails(synth, "did not answer within 0.5 s", "tts.remote_timeout_s")


def test_decode_wav_reads_sized_and_streamed_files() -> None:
    pcm = (np.sin(np.arange(800) / 5) * 20000).astype("<i2")
    streamed = wav_header(16000) + pcm.tobytes()
    sized = bytearray(wav_header(16000, streamed=False) + pcm.tobytes())
    sized[40:44] = len(pcm.tobytes()).to_bytes(4, "little")
    for data in (streamed, bytes(sized) + b"LIST junk after the data"):
        samples, rate = decode_wav(data)
        assert rate == 16000
        np.testing.assert_array_equal(samples, pcm.astype(np.float32) / 32768.0)
    with pytest.raises(ValueError, match="no RIFF"):
        decode_wav(b"not a wav at all")


@pytest.mark.slow
def test_piper_behind_the_server_comes_back_intact() -> None:
    """The neural voice (Piper joe) behind the server: the audio the client yields is the
    voice's own, and long enough for the words."""
    from app.models.manager import ModelManager
    from speech.tts.piper_tts import PiperSynthesizer, voice_files

    try:
        folder = ModelManager(Settings()).resolve("piper-en_US-joe-medium")
    except Exception as exc:
        pytest.skip(f"the Piper voice is not installed here: {exc}")
    voice = PiperSynthesizer(*voice_files(folder, "en_US-joe-medium"))
    with SpeechServer(voice) as piper_server:
        synth = RemoteSynthesizer(piper_server.base_url, "tts-1", "joe", timeout_s=30.0)
        chunks = list(synth.synthesize("The pharmacy is on the third floor.", "en"))
        request = piper_server.requests[0]
    assert len(chunks) == 1
    np.testing.assert_array_equal(chunks[0].samples, request.audio)
    assert 1.2 < chunks[0].seconds < 5.0
    assert request.pieces > 10
