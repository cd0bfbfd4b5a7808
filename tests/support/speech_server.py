"""A small OpenAI-compatible speech server for tests, on 127.0.0.1 with a free port.

``POST /v1/audio/speech`` speaks the request's ``input`` with a REAL synthesizer of this
repository (espeak-ng by default, or any object with ``synthesize(text)``, e.g. Piper)
and answers ``pcm`` (16-bit mono at ``pcm_rate``, resampled from the voice's rate, as
OpenAI sends 24 kHz) or ``wav`` (a streamed WAV whose size fields are 0xFFFFFFFF, as
real streaming servers send), with chunked transfer encoding in ``piece_bytes`` pieces
so the client really reads a stream::

    with SpeechServer() as server:
        synth = RemoteSynthesizer(server.base_url, "tts-1", "alloy")
        chunks = list(synth.synthesize("Hello there."))
        assert server.requests[0].input == "Hello there."
        sent = server.requests[0].audio  # the float samples it encoded, for comparison

Knobs (attributes, may be changed between requests): ``status`` (answer this HTTP status
with an OpenAI-style error body), ``garbage`` (``"html"``: a 200 text/html page,
``"mp3"``: 200 audio/mpeg bytes, ``"odd"``: PCM with one byte too many, ``"wav-bad"``: a
RIFF header with a broken format, ``"empty"``: 200 with no body), ``hang`` (send nothing
for this many seconds), ``require_key`` (401 unless ``Bearer <key>``).
"""

from __future__ import annotations

import json
import struct
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

import numpy as np

from speech.asr.audio import resample
from tests.support.background_http import BackgroundHttpServer


class _Voice(Protocol):
    sample_rate: int

    def synthesize(self, text: str, language: str | None = None) -> Any: ...


@dataclass
class SpeechRequest:
    body: dict[str, Any]
    authorization: str | None
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    rate: int = 0
    pieces: int = 0

    @property
    def input(self) -> str:
        return str(self.body.get("input", ""))


def wav_header(rate: int, streamed: bool = True) -> bytes:
    """A 16-bit mono WAV header; streamed: the sizes are unknown (0xFFFFFFFF)."""
    size = 0xFFFFFFFF if streamed else 36
    return (
        b"RIFF"
        + struct.pack("<I", size)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF if streamed else 0)
    )


class SpeechServer(BackgroundHttpServer):
    def __init__(
        self, voice: _Voice | None = None, *, pcm_rate: int = 24000, piece_bytes: int = 4096
    ) -> None:
        if voice is None:
            from speech.tts.espeak_tts import EspeakSynthesizer

            voice = EspeakSynthesizer("en")
        self.voice = voice
        self.pcm_rate = pcm_rate
        self.piece_bytes = piece_bytes
        self.status: int | None = None
        self.garbage: str | None = None
        self.hang = 0.0
        self.require_key: str | None = None
        self.requests: list[SpeechRequest] = []
        super().__init__(self._handler_class())

    @property
    def base_url(self) -> str:
        return self.origin + "/v1"

    def speak(self, text: str) -> tuple[np.ndarray, int]:
        """The real voice's audio for ``text``: every chunk joined, at the voice's rate."""
        chunks = list(self.voice.synthesize(text))
        if not chunks:
            return np.zeros(0, dtype=np.float32), self.voice.sample_rate
        audio = np.concatenate([c.samples for c in chunks]).astype(np.float32)
        return audio, int(chunks[0].sample_rate)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # chunked transfer: the body is a real stream

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {}
                request = SpeechRequest(body, self.headers.get("authorization"))
                server.requests.append(request)
                if server.hang:
                    time.sleep(server.hang)
                if server.require_key and request.authorization != f"Bearer {server.require_key}":
                    self._error(401, "Incorrect API key provided")
                elif self.path != "/v1/audio/speech":
                    self._error(404, f"no route {self.path}")
                elif server.status is not None:
                    self._error(server.status, f"scripted failure {server.status}")
                elif server.garbage is not None:
                    self._garbage(server.garbage)
                else:
                    self._speak(request)

            def _speak(self, request: SpeechRequest) -> None:
                audio, rate = server.speak(request.input)
                fmt = request.body.get("response_format", "mp3")
                if fmt == "pcm":
                    audio = (
                        resample(audio, rate, server.pcm_rate) if rate != server.pcm_rate else audio
                    )
                    rate = server.pcm_rate
                elif fmt != "wav":
                    self._error(400, f"this test server speaks pcm and wav, not {fmt}")
                    return
                pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
                # what the client must get back, after the same 16-bit rounding
                request.audio = pcm.astype(np.float32) / 32768.0
                request.rate = rate
                data = pcm.tobytes()
                if fmt == "wav":
                    data = wav_header(rate) + data
                ctype = "audio/wav" if fmt == "wav" else "audio/pcm"
                request.pieces = self._stream(200, ctype, data)

            def _garbage(self, kind: str) -> None:
                if kind == "html":
                    self._stream(200, "text/html", b"<html><body>It works!</body></html>")
                elif kind == "mp3":
                    self._stream(200, "audio/mpeg", b"ID3\x04\x00\x00" + bytes(600))
                elif kind == "odd":
                    self._stream(200, "audio/pcm", bytes(1001))
                elif kind == "wav-bad":
                    header = bytearray(wav_header(24000))
                    header[20:22] = struct.pack("<H", 85)  # format tag 85: MPEG layer 3
                    self._stream(200, "audio/wav", bytes(header) + bytes(400))
                elif kind == "empty":
                    self._stream(200, "audio/pcm", b"")
                else:
                    raise ValueError(kind)

            def _error(self, status: int, message: str) -> None:
                payload = json.dumps(
                    {"error": {"message": message, "type": "invalid_request_error"}}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, status: int, ctype: str, data: bytes) -> int:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                pieces = 0
                try:
                    for offset in range(0, len(data), server.piece_bytes):
                        piece = data[offset : offset + server.piece_bytes]
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        self.wfile.flush()
                        pieces += 1
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: nothing to clean up
                return pieces

        return Handler
