"""Speech synthesis on a server: the OpenAI-compatible ``POST /v1/audio/speech``.

Works with OpenAI itself and with self-hosted servers that speak the same API (speaches,
Kokoro-FastAPI, openedai-speech, LocalAI...): the way to a neural Korean voice when none
can be installed locally. Each sentence (the first one cut at a clause, as for the local
engines) is normalised for its language and sent as one request through the ``openai``
client's streaming response; the body is read as it arrives and decoded when the clause
is complete, so the first clause plays while the rest is still being synthesized.

Formats: ``pcm`` (raw 16-bit little-endian mono at a known rate: OpenAI sends 24 kHz) or
``wav`` (any 16-bit or float PCM WAV; the streamed kind whose size fields are left at 0
or 0xFFFFFFFF is accepted). The server gives no timings, so visemes and word timings come
from the audio, as for Kokoro (:mod:`speech.audio_visemes`).

Every failure is a :class:`RemoteTtsError` whose message says what happened and what to
check (address, model, voice, key, format), never a traceback; the session turns it into
a notice and the reply is still shown as text.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import SpeechChunk
from speech.normalize import language_of, normalize
from speech.sentences import split_sentences
from speech.server_errors import ServerHints, clip, explain
from speech.tts.chunks import chunk_from_audio

_LOG = logging.getLogger(__name__)

AudioFormat = Literal["pcm", "wav"]
# one clause is a few seconds; anything near this is a server gone wrong (10 min at 48 kHz)
MAX_BYTES = 64 * 1024 * 1024
_READ_SIZE = 16 * 1024
# bodies that are clearly not the audio asked for: containers the decoder cannot read
_FOREIGN = {b"ID3": "MP3", b"OggS": "Ogg", b"fLaC": "FLAC", b"\xff\xfb": "MP3", b"\xff\xf3": "MP3"}


class RemoteTtsError(RuntimeError):
    """The speech server could not speak a sentence; the message is for a person."""


class RemoteSynthesizer:
    """The ``Synthesizer`` role over an OpenAI-compatible speech server; thread-safe (the
    ``openai`` client is), so no lock is held across a request.

    ``timeout_s`` bounds each request (connect, then every read); ``connect_timeout_s``
    fails fast when the server is down.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        voice: str,
        *,
        api_key: str | None = None,
        response_format: AudioFormat = "pcm",
        sample_rate: int = 24000,
        speed: float = 1.0,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        import openai

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.voice = voice
        self.response_format: AudioFormat = response_format
        # for pcm the rate is agreed in advance; a WAV names its own
        self.sample_rate = sample_rate
        self.timeout_s = timeout_s
        self.name = f"remote-{model}-{voice}"
        self.speed = 1.0
        self.set_speed(speed)
        self._openai: Any = openai
        # local servers need no key, but the SDK insists on a non-empty one
        self._client: Any = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(timeout_s, connect=connect_timeout_s),
            max_retries=0,  # a visitor is waiting: fail and say so rather than retry
        )

    def set_speed(self, factor: float) -> None:
        self.speed = max(0.25, min(4.0, factor))  # the range the OpenAI API accepts

    def close(self) -> None:
        self._client.close()

    def synthesize(self, text: str, language: str | None = None) -> Iterator[SpeechChunk]:
        """Blocking generator: one chunk per clause, each yielded when its audio is in."""
        default = (language or "en").split("-")[0]
        for sentence in split_sentences(text, first_clause=True):
            spoken = normalize(sentence, language_of(sentence, default))
            if not any(c.isalnum() for c in spoken):
                continue
            samples, rate = self._fetch(spoken)
            if len(samples) == 0:
                raise RemoteTtsError(
                    f"The speech server at {self.base_url} sent no audio for "
                    f"{clip(spoken, 60)!r}: check tts.remote_model and tts.remote_voice"
                )
            yield chunk_from_audio(samples, rate, spoken, sentence)

    # ------------------------------------------------------------------ internals

    def _fetch(self, spoken: str) -> tuple[np.ndarray, int]:
        extra: dict[str, Any] = {} if self.speed == 1.0 else {"speed": self.speed}
        body = bytearray()
        try:
            with self._client.audio.speech.with_streaming_response.create(
                model=self.model,
                voice=self.voice,
                input=spoken,
                response_format=self.response_format,
                **extra,
            ) as response:
                content_type = str(response.headers.get("content-type", "")).lower()
                if content_type.startswith(("text/", "application/json")):
                    raise RemoteTtsError(
                        f"The speech server at {self.base_url} answered {content_type} "
                        f"instead of audio: {clip(response.read().decode('utf-8', 'replace'))}"
                        " - is the address an OpenAI-compatible /v1 endpoint?"
                    )
                for piece in response.iter_bytes(_READ_SIZE):
                    body += piece
                    if len(body) > MAX_BYTES:
                        raise RemoteTtsError(
                            f"The speech server at {self.base_url} sent over "
                            f"{MAX_BYTES // 2**20} MB for one sentence; giving up"
                        )
        except RemoteTtsError:
            raise
        except Exception as exc:
            raise self._explain(exc) from None
        return self._decode(bytes(body))

    def _decode(self, body: bytes) -> tuple[np.ndarray, int]:
        where = f"The speech server at {self.base_url}"
        for magic, kind in _FOREIGN.items():
            if body.startswith(magic):
                raise RemoteTtsError(
                    f"{where} sent {kind} audio, not {self.response_format}: it ignored "
                    "response_format; set tts.remote_format to the other value or check "
                    "the server's options"
                )
        if body.startswith(b"RIFF"):  # some servers wrap "pcm" in a WAV header anyway
            try:
                return decode_wav(body)
            except ValueError as exc:
                raise RemoteTtsError(
                    f"{where} sent a WAV file that cannot be read: {exc}"
                ) from None
        if self.response_format == "wav":
            raise RemoteTtsError(
                f"{where} was asked for WAV but sent something else "
                f"({len(body)} bytes starting {body[:8]!r}); check tts.remote_format"
            )
        if len(body) % 2:
            raise RemoteTtsError(
                f"{where} sent {len(body)} bytes of PCM, an odd count for 16-bit samples: "
                "the audio is damaged or not raw PCM (try tts.remote_format: wav)"
            )
        pcm = np.frombuffer(body, dtype="<i2").astype(np.float32) / 32768.0
        return pcm, self.sample_rate

    def _explain(self, exc: Exception) -> RemoteTtsError:
        hints = ServerHints(
            action="Speech synthesis",
            endpoint="/audio/speech",
            slow="it may be overloaded (tts.remote_timeout_s sets the limit)",
            unreachable="check that it is running and that tts.remote_base_url (or "
            "llm.base_url) is right",
            key="put it in the environment variable named by tts.remote_api_key_env (or "
            "llm.api_key_env) or in the OS keyring",
            model="check tts.remote_model and the address",
            rejected=f"check tts.remote_voice ({self.voice!r}) and tts.remote_format",
        )
        message = explain(exc, self._openai, self.base_url, self.model, self.timeout_s, hints)
        return RemoteTtsError(message)


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and the rate of a PCM WAV, also a streamed one whose size
    fields were never filled in (0 or 0xFFFFFFFF): the data then runs to the end."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("no RIFF/WAVE header")
    offset = 12
    fmt: tuple[int, int, int, int] | None = None
    while offset + 8 <= len(data):
        chunk_id = data[offset : offset + 4]
        (size,) = struct.unpack_from("<I", data, offset + 4)
        body = offset + 8
        if chunk_id == b"fmt ":
            if size < 16 or body + 16 > len(data):
                raise ValueError("the fmt chunk is cut short")
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            fmt = (tag, channels, rate, bits)
        elif chunk_id == b"data":
            if fmt is None:
                raise ValueError("the data chunk comes before the fmt chunk")
            end = len(data) if size in (0, 0xFFFFFFFF) else min(len(data), body + size)
            return _samples(data[body:end], *fmt)
        offset = body + size + (size & 1)
    raise ValueError("no data chunk")


def _samples(raw: bytes, tag: int, channels: int, rate: int, bits: int) -> tuple[np.ndarray, int]:
    if channels < 1 or not 8000 <= rate <= 192000:
        raise ValueError(f"implausible format: {channels} channels at {rate} Hz")
    if tag in (1, 0xFFFE) and bits == 16:
        usable = len(raw) - len(raw) % (2 * channels)
        audio = np.frombuffer(raw[:usable], dtype="<i2").astype(np.float32) / 32768.0
    elif tag == 3 and bits == 32:
        usable = len(raw) - len(raw) % (4 * channels)
        audio = np.frombuffer(raw[:usable], dtype="<f4").astype(np.float32)
    else:
        raise ValueError(f"unsupported encoding (format {tag}, {bits} bits)")
    if not np.all(np.isfinite(audio)):
        raise ValueError("the samples are not finite numbers")
    return audio.reshape(-1, channels).mean(axis=1).astype(np.float32), rate


def build(settings: Settings) -> RemoteSynthesizer:
    """Registry factory for ``tts.engine: remote``; the key is looked up like the chat's,
    in the variable named by ``tts.remote_api_key_env`` (else ``llm.api_key_env``), then
    the OS keyring under the server's host."""
    try:
        import openai  # noqa: F401
    except ImportError:
        raise RoleUnavailable("the openai package is not installed: pip install openai") from None
    from dialog.llm.api_key import resolve_api_key

    tts, llm = settings.tts, settings.llm
    base_url = tts.remote_base_url.strip() or llm.base_url
    key_env = tts.remote_api_key_env.strip() or llm.api_key_env
    key_settings = llm.model_copy(update={"base_url": base_url, "api_key_env": key_env})
    return RemoteSynthesizer(
        base_url,
        tts.remote_model,
        tts.remote_voice,
        api_key=resolve_api_key(key_settings),
        response_format=tts.remote_format,
        sample_rate=tts.remote_sample_rate,
        speed=tts.speed,
        timeout_s=tts.remote_timeout_s,
        connect_timeout_s=llm.connect_timeout_s,
    )
