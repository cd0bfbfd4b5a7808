"""The one typed settings model.

Stored as YAML in the user config dir (``platformdirs``), overridden by environment
variables ``DHUMAN_<SECTION>__<FIELD>`` (e.g. ``DHUMAN_LLM__BASE_URL``), and never
holding secrets: API keys come from the environment or the OS keyring.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.config.yaml_source import ConfigError, ConfigProblem, validate_file

APP_NAME = "dhuman"
ENV_PREFIX = "DHUMAN_"
ENV_CONFIG_DIR = "DHUMAN_CONFIG_DIR"


class Section(BaseModel):
    # "0" from the environment stays the string "0" where a string is wanted
    model_config = ConfigDict(extra="forbid", validate_assignment=True, coerce_numbers_to_str=True)


class GeneralSettings(Section):
    language: Literal["en", "ko"] = "en"
    persona: str = Field("default", description="a bundled persona name or a path to a YAML file")


class LlmSettings(Section):
    # auto: the server below (when it is not Ollama's default address), else a local
    # Ollama, else the built-in llama.cpp server, else answers from the knowledge base
    engine: str = "auto"
    base_url: str = "http://127.0.0.1:11434/v1"
    model: str = "llama3.2"
    # the name of the environment variable holding the key; the OS keyring is asked next
    api_key_env: str = "OPENAI_API_KEY"
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(400, ge=1)
    connect_timeout_s: float = Field(5.0, gt=0)
    first_token_timeout_s: float = Field(20.0, gt=0)
    total_timeout_s: float = Field(90.0, gt=0)
    # auto may start llama-cpp-python's server (the llm-local extra) as a child process
    local_server: bool = True
    # its model: a .gguf path or a model id (smollm2-135m: tests and demos only); empty
    # skips that step, so nobody gets a model they did not choose
    local_model: str = ""
    local_start_timeout_s: float = Field(120.0, gt=0)


class AsrSettings(Section):
    engine: str = "faster-whisper"
    model: str = "whisper-base"
    language: Literal["auto", "en", "ko"] = "auto"
    # utterances up to half this long are decoded in this encoder window instead of
    # Whisper's 30 s (3-6x faster on a CPU; a doubtful result is decoded again in 30 s);
    # 0 turns it off
    encoder_window_s: float = Field(10.0, ge=0, le=30)


class TtsSettings(Section):
    # piper (English), espeak (Korean and English, always there), kokoro, auto (Piper for
    # English, espeak-ng for Korean), fake
    engine: str = "piper"
    voice: str = "en_US-joe-medium"
    # speaking rate as a factor of the voice's own: 0.8 suits elderly visitors
    speed: float = Field(1.0, ge=0.5, le=2.0)
    # engine "auto": who speaks Korean (espeak-ng is always behind the others)
    korean_engine: Literal["espeak", "remote", "coqui"] = "espeak"
    # engine "remote": an OpenAI-compatible POST /audio/speech server. An empty base URL
    # means llm.base_url; an empty key variable means llm.api_key_env (the OS keyring is
    # asked next, under the server's host). The key itself is never stored here.
    remote_base_url: str = ""
    remote_model: str = "tts-1"
    remote_voice: str = "alloy"
    remote_api_key_env: str = ""
    # pcm: raw 16-bit mono at remote_sample_rate (OpenAI sends 24 kHz); wav: any PCM WAV
    remote_format: Literal["pcm", "wav"] = "pcm"
    remote_sample_rate: int = Field(24000, ge=8000, le=48000)
    remote_timeout_s: float = Field(30.0, gt=0)
    # engine "coqui": a catalogue model id (dhuman models list) and, for multi-speaker
    # models such as XTTS-v2, a built-in speaker name (empty: the model's first)
    coqui_model: str = "coqui-vits-en-ljspeech"
    coqui_speaker: str = ""


class VadSettings(Section):
    engine: str = "silero"
    # "elderly" waits longer before deciding a slow speaker has finished
    preset: Literal["default", "elderly"] = "default"
    start_ms: int = Field(200, ge=0)
    # 800 keeps natural pauses inside one turn (WER 0.4 % on the live clips, against 9.6 %
    # at 500); transcription starts at the first pause, so the answer does not wait for it
    stop_ms: int = Field(800, ge=0)


class AudioSettings(Section):
    engine: str = "sounddevice"
    input_device: str | None = None
    output_device: str | None = None
    # hands-free: the avatar finds turns itself; push-to-talk: hold the button to speak
    mic_mode: Literal["hands-free", "push-to-talk", "muted"] = "hands-free"
    # the speaker's buffer: 0 is the device's low latency; more survives a busy machine
    # (fewer underruns) and delays the first word as much
    output_buffer_ms: int = Field(0, ge=0, le=1000)


class CameraSettings(Section):
    # privacy by default: no camera until the operator turns it on for a profile
    enabled: bool = False
    # a device index ("0"), a video file path or a URL (http MJPEG, rtsp)
    source: str = "0"
    fps: float = Field(30.0, gt=0, le=120)
    width: int = Field(640, ge=64)
    height: int = Field(480, ge=48)
    # emotion estimation is a separate opt-in on top of the camera, shown on screen
    affect_enabled: bool = False


class SafetySettings(Section):
    """Crisis lines spoken by the protocol; the protocol itself cannot be switched off."""

    crisis_line_ko: str = "109"
    crisis_line_en: str = "988"


class AvatarSettings(Section):
    renderer: str = "painter"
    look: str = "guide"
    # the mouth is drawn this far ahead on the audio clock, for the time a frame takes to
    # reach the screen (painted three ticks ahead, ~48 ms) and the mouth's own easing;
    # bench/gui_pipeline.py: two ticks ahead, +20/+25 ms late with 30 and +0/+5 ms with
    # 50; three ticks ahead with 66, +5, +5, +0 / +5, -10, -5 ms
    lipsync_lead_ms: int = Field(66, ge=-200, le=200)


class ModelSettings(Section):
    cache_dir: str | None = None
    allow_download: bool = True


class Settings(Section):
    general: GeneralSettings = Field(default_factory=GeneralSettings)  # type: ignore[arg-type]
    llm: LlmSettings = Field(default_factory=LlmSettings)  # type: ignore[arg-type]
    asr: AsrSettings = Field(default_factory=AsrSettings)  # type: ignore[arg-type]
    tts: TtsSettings = Field(default_factory=TtsSettings)  # type: ignore[arg-type]
    vad: VadSettings = Field(default_factory=VadSettings)  # type: ignore[arg-type]
    audio: AudioSettings = Field(default_factory=AudioSettings)  # type: ignore[arg-type]
    camera: CameraSettings = Field(default_factory=CameraSettings)  # type: ignore[arg-type]
    safety: SafetySettings = Field(default_factory=SafetySettings)  # type: ignore[arg-type]
    avatar: AvatarSettings = Field(default_factory=AvatarSettings)  # type: ignore[arg-type]
    models: ModelSettings = Field(default_factory=ModelSettings)  # type: ignore[arg-type]


def config_dir() -> Path:
    override = os.environ.get(ENV_CONFIG_DIR)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def settings_path() -> Path:
    return config_dir() / "settings.yaml"


def cache_dir(settings: Settings | None = None) -> Path:
    if settings is not None and settings.models.cache_dir:
        return Path(settings.models.cache_dir).expanduser()
    override = os.environ.get("DHUMAN_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP_NAME))


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """``DHUMAN_LLM__BASE_URL=x`` -> ``{"llm": {"base_url": "x"}}``; values are YAML scalars."""
    nested: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        node = nested
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = parse_scalar(raw)
    return nested


def parse_scalar(raw: str) -> Any:
    try:
        return yaml.safe_load(raw) if raw.strip() else raw
    except yaml.YAMLError:
        return raw


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from the file (if any) with environment overrides on top."""
    path = path or settings_path()
    overrides = env_overrides(os.environ if environ is None else environ)
    return validate_file(Settings, path, overrides)


def load_file_settings(path: Path | None = None) -> Settings:
    """Only what the file says: the base that ``config set`` edits and saves back."""
    return validate_file(Settings, path or settings_path())


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write atomically: a crash mid-write leaves the old file, never half a file."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(settings.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".settings-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def set_value(settings: Settings, dotted: str, raw: str) -> Settings:
    """Return a copy of ``settings`` with ``section.field`` set from a string, validated."""
    parts = dotted.split(".")
    if len(parts) != 2:
        raise ConfigError(
            [ConfigProblem("(command line)", None, dotted, "use section.field, e.g. llm.model")]
        )
    section_name, field_name = parts
    data = settings.model_dump()
    if section_name not in data:
        known = ", ".join(data)
        raise ConfigError(
            [
                ConfigProblem(
                    "(command line)", None, dotted, f"no section {section_name!r}; known: {known}"
                )
            ]
        )
    if field_name not in data[section_name]:
        known = ", ".join(data[section_name])
        msg = f"no field {field_name!r} in {section_name}; known: {known}"
        raise ConfigError([ConfigProblem("(command line)", None, dotted, msg)])
    value = None if raw.lower() in ("null", "none", "") else parse_scalar(raw)
    data[section_name][field_name] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = [ConfigProblem("(command line)", None, dotted, e["msg"]) for e in exc.errors()]
        raise ConfigError(problems) from None
