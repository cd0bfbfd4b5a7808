"""Speech recognition on a server: the OpenAI-compatible ``/v1/audio/transcriptions``.

Works with OpenAI itself and with self-hosted servers that speak the same API
(speaches / faster-whisper-server, vLLM serving Whisper, LocalAI...). The utterance is
sent as a 16 kHz 16-bit WAV in a multipart upload; the JSON answer's ``text`` (and
``language`` when the server gives it) becomes the transcript.

Every failure is a :class:`RemoteAsrError` whose message says what happened and what to
check (address, model name, key, timeout), never a traceback; the session turns it into
a notice and the person can type instead.
"""

from __future__ import annotations

import io
import wave
from typing import Any

import numpy as np

from app.config.settings import Settings
from app.core.registry import RoleUnavailable
from app.core.types import FloatArray, Transcript
from speech.asr.audio import WHISPER_RATE, resample, to_mono_float32
from speech.server_errors import ServerHints, explain


class RemoteAsrError(RuntimeError):
    """The speech server could not transcribe; the message is for a person."""


def wav_bytes(audio: FloatArray, sample_rate: int) -> bytes:
    """Mono 16 kHz 16-bit PCM WAV of ``audio`` (the smallest upload Whisper loses nothing on)."""
    samples = resample(to_mono_float32(audio), sample_rate, WHISPER_RATE)
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(WHISPER_RATE)
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


class RemoteTranscriber:
    """A :class:`app.core.roles.Transcriber` over an OpenAI-compatible server.

    ``language`` None (or "auto") lets the server detect it. ``timeout_s`` bounds the
    whole request; ``connect_timeout_s`` fails fast when the server is down.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        language: str | None = None,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 5.0,
    ) -> None:
        import openai

        self.base_url = base_url.rstrip("/")
        self.model = model
        self.language = None if language in (None, "", "auto") else language
        self.timeout_s = timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._openai: Any = openai
        # local servers need no key, but the SDK insists on a non-empty one
        self._client: Any = openai.OpenAI(
            base_url=self.base_url,
            api_key=api_key or "not-needed",
            timeout=openai.Timeout(timeout_s, connect=connect_timeout_s),
            max_retries=0,  # a person is waiting: fail and say so rather than retry
        )

    def transcribe(
        self, audio: FloatArray, sample_rate: int, language: str | None = None
    ) -> Transcript:
        seconds = len(audio) / sample_rate if sample_rate > 0 else 0.0
        wanted = language if language not in (None, "", "auto") else self.language
        if seconds == 0.0:
            return Transcript("", wanted or "", 0.0)
        extra: dict[str, Any] = {"language": wanted} if wanted else {}
        try:
            result = self._client.audio.transcriptions.create(
                model=self.model,
                file=("utterance.wav", wav_bytes(audio, sample_rate), "audio/wav"),
                response_format="json",
                **extra,
            )
        except Exception as exc:
            raise self._explain(exc) from None
        text = result if isinstance(result, str) else getattr(result, "text", None)
        if not isinstance(text, str):
            raise RemoteAsrError(
                f"The speech server at {self.base_url} answered without a transcript text"
            )
        found = getattr(result, "language", None)
        return Transcript(text.strip(), str(found or wanted or ""), seconds)

    def close(self) -> None:
        self._client.close()

    def _explain(self, exc: Exception) -> RemoteAsrError:
        return RemoteAsrError(
            explain(exc, self._openai, self.base_url, self.model, self.timeout_s, _HINTS)
        )


_HINTS = ServerHints(
    action="Transcription",
    endpoint="/audio/transcriptions",
    slow="it may be overloaded, or the timeout too short for its model",
    unreachable="check that it is running and the address is right",
    key="set it in the environment variable named by llm.api_key_env",
    model="check asr.model and the address",
)


def build(settings: Settings) -> RemoteTranscriber:
    """Registry factory for ``asr.engine: remote``.

    The server is ``asr.base_url`` when the settings have it, else ``llm.base_url`` (one
    OpenAI-compatible server often serves both); the key comes like the chat's.
    """
    try:
        import openai  # noqa: F401
    except ImportError:
        raise RoleUnavailable("the openai package is not installed: pip install openai") from None
    from dialog.llm.api_key import resolve_api_key

    base_url = str(getattr(settings.asr, "base_url", None) or settings.llm.base_url)
    return RemoteTranscriber(
        base_url,
        settings.asr.model,
        api_key=resolve_api_key(settings.llm),
        language=settings.asr.language,
        timeout_s=float(getattr(settings.asr, "timeout_s", 30.0)),
        connect_timeout_s=settings.llm.connect_timeout_s,
    )
