"""Builds the roles a session needs from the settings.

Engines are named in the settings (``asr.engine: faster-whisper``) and looked up
here as ``module:function`` strings, imported only when chosen: choosing the fake
chat must not load PyTorch. An engine that cannot be built (not installed, model
missing, device absent) does not stop the session: the role is left empty and a
:class:`RoleProblem` says what is missing and how to fix it, so the conversation
goes on degraded and says so.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.config.settings import Settings
from app.core import roles

# role -> engine name -> "module:factory"; each factory takes the Settings
ENGINES: dict[str, dict[str, str]] = {
    "chat": {
        "auto": "app.core.registry:_auto_chat",
        "openai": "app.core.registry:_openai_chat",
        "faq": "dialog.llm.faq_chat:build",
        "fake": "app.core.registry:_fake_chat",
    },
    "asr": {
        "faster-whisper": "speech.asr.faster_whisper_asr:build",
        # an OpenAI-compatible /audio/transcriptions server (speaches, vLLM)
        "remote": "speech.asr.remote_asr:build",
        "fake": "app.core.registry:_fake_asr",
    },
    "vad": {
        "silero": "speech.vad.silero:build",
        "fake": "app.core.registry:_fake_vad",
    },
    "tts": {
        "piper": "speech.tts.piper_tts:build",
        "espeak": "speech.tts.espeak_tts:build",
        "kokoro": "speech.tts.kokoro_tts:build",
        # an OpenAI-compatible /audio/speech server (OpenAI, speaches, Kokoro-FastAPI)
        "remote": "speech.tts.remote_tts:build",
        # Coqui TTS models (VITS, XTTS-v2) through the optional coqui-tts package
        "coqui": "speech.tts.coqui_tts:build",
        # English to Piper (or Kokoro), Korean to espeak-ng
        "auto": "speech.tts.auto_tts:build",
        "fake": "app.core.registry:_fake_tts",
    },
    "sink": {
        "sounddevice": "speech.playback:build",
        "fake": "app.core.registry:_fake_sink",
    },
    "source": {
        "sounddevice": "speech.capture:build",
        "fake": "app.core.registry:_fake_source",
    },
    # the whole seeing pipeline (camera -> face tracking -> affect), off unless enabled
    "camera": {
        "mediapipe": "vision.perception:build",
        "off": "app.core.registry:_no_camera",
    },
}

# where each role's engine name lives in the settings
_ENGINE_SETTING: dict[str, Callable[[Settings], str]] = {
    "chat": lambda s: s.llm.engine,
    "asr": lambda s: s.asr.engine,
    "vad": lambda s: s.vad.engine,
    "tts": lambda s: s.tts.engine,
    "sink": lambda s: s.audio.engine,
    "source": lambda s: s.audio.engine,
    "camera": lambda s: "mediapipe" if s.camera.enabled else "off",
}

_ROLE_TITLE = {
    "chat": "Language model",
    "asr": "Speech recognition",
    "vad": "Voice activity detection",
    "tts": "Speech synthesis",
    "sink": "Audio output",
    "source": "Microphone",
    "camera": "Camera",
}


@dataclass
class RoleProblem:
    role: str
    engine: str
    message: str

    def __str__(self) -> str:
        return f"{_ROLE_TITLE.get(self.role, self.role)} ({self.engine}): {self.message}"


@dataclass
class Roles:
    chat: roles.Chat | None = None
    transcriber: roles.Transcriber | None = None
    vad: roles.VoiceActivity | None = None
    synthesizer: roles.Synthesizer | None = None
    sink: roles.AudioSink | None = None
    source: roles.AudioSource | None = None
    face: roles.FaceTracker | None = None
    affect: roles.AffectEstimator | None = None
    renderer: roles.AvatarRenderer | None = None
    # vision.perception.Perception when the camera is on (typed loosely: the core must
    # not import the vision stack to describe it)
    perception: Any = None
    problems: list[RoleProblem] = field(default_factory=list)


class RoleUnavailable(RuntimeError):
    """Raised by a factory when its engine cannot run here; the message says what to do."""


def _load(target: str) -> Callable[[Settings], Any]:
    module_name, _, attr = target.partition(":")
    factory: Callable[[Settings], Any] = getattr(importlib.import_module(module_name), attr)
    return factory


def build_role(role: str, settings: Settings) -> Any:
    engine = _ENGINE_SETTING[role](settings)
    known = ENGINES[role]
    if engine not in known:
        raise RoleUnavailable(f"unknown engine {engine!r}; choose one of: {', '.join(known)}")
    try:
        factory = _load(known[engine])
    except ImportError as exc:
        missing = exc.name or str(exc)
        raise RoleUnavailable(
            f"not installed in this build ({missing} is missing); "
            f"install it (pip install -e '.[all]') or choose another engine"
        ) from None
    return factory(settings)


def build_roles(
    settings: Settings,
    only: tuple[str, ...] = tuple(ENGINES),
    on_role: Callable[[str, str], None] | None = None,
) -> Roles:
    """Every role in ``only``; ``on_role(role, title)`` is told before each one starts
    (loading a model can take seconds, so a window can say what it is waiting for)."""
    built = Roles()
    attr = {
        "chat": "chat",
        "asr": "transcriber",
        "vad": "vad",
        "tts": "synthesizer",
        "sink": "sink",
        "source": "source",
        "camera": "perception",
    }
    for role in only:
        engine = _ENGINE_SETTING[role](settings)
        if on_role is not None:
            on_role(role, _ROLE_TITLE.get(role, role))
        try:
            setattr(built, attr[role], build_role(role, settings))
        except RoleUnavailable as exc:
            built.problems.append(RoleProblem(role, engine, str(exc)))
        except Exception as exc:  # a broken engine must not take the session down
            built.problems.append(RoleProblem(role, engine, f"failed to start: {exc}"))
    return built


def apply_speaking_rate(built: Roles, settings: Settings, persona_rate: float) -> float:
    """Set the voice's rate to the settings' speed times the persona's (a kiosk guide for
    elderly visitors speaks at 0.85); returns the rate, or 0 when the voice has no control."""
    set_speed = getattr(built.synthesizer, "set_speed", None)
    if set_speed is None:
        return 0.0
    rate = settings.tts.speed * persona_rate
    set_speed(rate)
    return rate


# ------------------------------------------------------------ real factories
def _openai_chat(settings: Settings) -> roles.Chat:
    from dialog.llm.openai_chat import OpenAIChat

    return OpenAIChat(settings.llm)


def _auto_chat(settings: Settings) -> roles.Chat:
    """The configured server -> a local Ollama -> the built-in llama.cpp server, falling
    back to answers from the knowledge base."""
    from dialog.llm.auto_chat import AutoChat
    from dialog.llm.chain_chat import EndpointChain
    from dialog.llm.faq_chat import NOTICE
    from dialog.llm.faq_chat import build as build_faq

    language = settings.general.language
    chain = EndpointChain(settings)
    chain.warm()  # probes (and a built-in server's start) run in the background from now
    return AutoChat(
        chain,
        make_fallback=lambda: build_faq(settings),
        notice=lambda: NOTICE.get(language, NOTICE["en"]),
        retry_after_s=0.0,  # the chain decides when to look for a server again
    )


# ------------------------------------------------------------- fake factories
def _fake_chat(settings: Settings) -> roles.Chat:
    from app.core.fakes import FakeChat

    return FakeChat()


def _fake_asr(settings: Settings) -> roles.Transcriber:
    from app.core.fakes import FakeTranscriber

    return FakeTranscriber()


def _fake_vad(settings: Settings) -> roles.VoiceActivity:
    from app.core.fakes import FakeVoiceActivity

    return FakeVoiceActivity(start_ms=settings.vad.start_ms, stop_ms=settings.vad.stop_ms)


def _fake_tts(settings: Settings) -> roles.Synthesizer:
    from app.core.fakes import FakeSynthesizer

    return FakeSynthesizer()


def _fake_sink(settings: Settings) -> roles.AudioSink:
    from app.core.fakes import FakeAudioSink

    return FakeAudioSink()


def _fake_source(settings: Settings) -> roles.AudioSource:
    import numpy as np

    from app.core.fakes import FakeAudioSource

    return FakeAudioSource(np.zeros(0, dtype=np.float32))


def _no_camera(settings: Settings) -> None:
    return None  # privacy by default: no camera until the operator enables it
