"""The remote transcriber against a tiny local OpenAI-compatible server (multipart in,
JSON out), including the ways a server fails."""

from __future__ import annotations

import email.parser
import email.policy
import io
import json
import time
import wave
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import numpy as np
import pytest

pytest.importorskip("openai")

from speech.asr.remote_asr import RemoteAsrError, RemoteTranscriber
from tests.support.background_http import BackgroundHttpServer


class Handler(BaseHTTPRequestHandler):
    """POST /v1/audio/transcriptions: answers what it received, or the scripted failure."""

    mode: ClassVar[str] = "ok"
    seen: ClassVar[list[dict[str, object]]] = []

    def log_message(self, format: str, *args: object) -> None:  # quiet test output
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = self.rfile.read(length)
        if self.mode == "slow":
            time.sleep(2.0)
        if self.path != "/v1/audio/transcriptions" or self.mode == "missing":
            self._reply(404, {"error": {"message": "model not found"}})
            return
        if self.mode == "denied":
            self._reply(401, {"error": {"message": "bad key"}})
            return
        if self.mode == "broken":
            self._reply(500, {"error": {"message": "the GPU fell over"}})
            return
        fields = _multipart(self.headers.get("content-type", ""), body)
        with wave.open(io.BytesIO(fields["file"]), "rb") as wav:
            info = {
                "rate": wav.getframerate(),
                "width": wav.getsampwidth(),
                "frames": wav.getnframes(),
            }
        Handler.seen.append(
            {"model": fields["model"].decode(), "language": fields.get("language"), **info}
        )
        self._reply(200, {"text": " where is radiology? ", "language": "english"})

    def _reply(self, status: int, payload: dict[str, object]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    head = f"content-type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(payload, bytes)
        fields[name] = payload
    return fields


@pytest.fixture
def server() -> Iterator[str]:
    Handler.mode, Handler.seen = "ok", []
    with BackgroundHttpServer(Handler) as httpd:
        yield f"{httpd.origin}/v1"


def _speech(seconds: float = 1.0, rate: int = 48000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_uploads_a_16k_wav_and_reads_the_text(server: str) -> None:
    asr = RemoteTranscriber(server, "Systran/faster-whisper-small", language="en")
    result = asr.transcribe(_speech(1.0, 48000), 48000)
    assert result.text == "where is radiology?"
    assert result.language == "english" and result.audio_seconds == pytest.approx(1.0)
    (seen,) = Handler.seen
    assert seen["model"] == "Systran/faster-whisper-small"
    assert seen["language"] == b"en"
    assert seen["rate"] == 16000 and seen["width"] == 2
    assert seen["frames"] == pytest.approx(16000, abs=2)


def test_auto_language_is_left_to_the_server(server: str) -> None:
    asr = RemoteTranscriber(server, "whisper-1", language="auto")
    asr.transcribe(_speech(0.5, 16000), 16000)
    assert Handler.seen[0]["language"] is None


def test_empty_audio_needs_no_request(server: str) -> None:
    asr = RemoteTranscriber(server, "whisper-1")
    assert asr.transcribe(np.zeros(0, np.float32), 16000).text == ""
    assert Handler.seen == []


@pytest.mark.parametrize(
    ("mode", "words"),
    [
        ("missing", "no model 'whisper-1'"),
        ("denied", "refused the API key"),
        ("broken", "HTTP 500"),
    ],
)
def test_server_errors_are_explained(server: str, mode: str, words: str) -> None:
    Handler.mode = mode
    asr = RemoteTranscriber(server, "whisper-1")
    with pytest.raises(RemoteAsrError, match=words):
        asr.transcribe(_speech(), 48000)


def test_a_slow_server_times_out(server: str) -> None:
    Handler.mode = "slow"
    asr = RemoteTranscriber(server, "whisper-1", timeout_s=0.5)
    started = time.monotonic()
    with pytest.raises(RemoteAsrError, match=r"did not answer within 0.5 s"):
        asr.transcribe(_speech(), 48000)
    assert time.monotonic() - started < 1.8


def test_no_server_is_unreachable() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    asr = RemoteTranscriber(f"http://127.0.0.1:{port}/v1", "whisper-1", connect_timeout_s=1.0)
    with pytest.raises(RemoteAsrError, match="Cannot reach the speech server"):
        asr.transcribe(_speech(), 48000)
