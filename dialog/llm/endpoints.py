"""Finding a model server for the "auto" chat engine: probes and the first two steps.

The auto chain tries, in order: the server the user configured (``llm.base_url`` when it
is not Ollama's default), a local Ollama, the built-in llama.cpp server
(:mod:`dialog.llm.local_server`), and finally FAQ mode. This module holds the pieces that
only talk HTTP: :func:`probe_models` (``GET {base_url}/models`` with a short timeout) and
the two steps built on it. Each step returns an :class:`Endpoint` to chat with, an
:class:`Unavailable` that says why not (for the log and the notice), or None when it does
not apply. Everything here blocks; the chain runs it in a worker thread.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from app.config.settings import LlmSettings

OLLAMA_BASE_URL = "http://127.0.0.1:11434/v1"
# Ollama answers /v1/models in a few ms when it runs; a refused port fails at once, so
# this only bounds a host that swallows packets
OLLAMA_PROBE_TIMEOUT_S = 1.0
# a remote server's TLS handshake and model list can take a few seconds
CONFIGURED_PROBE_TIMEOUT_S = 5.0

EndpointKind = Literal["configured", "ollama", "embedded"]
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_MAX_BODY = 1_000_000


@dataclass(frozen=True)
class Endpoint:
    """An OpenAI-compatible server that answered, and the model to ask for."""

    kind: EndpointKind
    base_url: str
    model: str
    description: str  # for a person: "Ollama at http://... (model llama3.2)"
    # None: look the key up as the settings say (env, keyring); local servers need none
    api_key: str | None = None


@dataclass(frozen=True)
class Unavailable:
    """A step of the chain that could not answer, and why (words for a person)."""

    step: EndpointKind
    reason: str


@dataclass(frozen=True)
class Probe:
    """What ``GET {base_url}/models`` said: ``reachable`` is True for any HTTP answer."""

    reachable: bool
    status: int | None = None
    models: tuple[str, ...] = ()
    reason: str = ""


def same_url(a: str, b: str) -> bool:
    return a.strip().rstrip("/").lower() == b.strip().rstrip("/").lower()


def probe_models(base_url: str, *, timeout: float, api_key: str | None = None) -> Probe:
    """Ask the server for its model list; never raises.

    Any HTTP status counts as reachable (a 401 means "wrong key", a 404 "no such route":
    the server is there and chatting with it will say what is wrong); a refused, reset or
    silent connection is not.
    """
    url = base_url.strip().rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        with _opener(url).open(request, timeout=timeout) as response:
            status = int(response.status)
            body = response.read(_MAX_BODY)
    except urllib.error.HTTPError as exc:
        return Probe(True, exc.code, (), f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return Probe(False, reason=_reason(exc, timeout))
    return Probe(True, status, _model_ids(body))


def configured_step(
    settings: LlmSettings, *, timeout: float = CONFIGURED_PROBE_TIMEOUT_S
) -> Endpoint | Unavailable | None:
    """The server in ``llm.base_url``; None when that is only Ollama's default address."""
    base_url = settings.base_url.strip().rstrip("/")
    if not base_url or same_url(base_url, OLLAMA_BASE_URL):
        return None
    from dialog.llm.api_key import resolve_api_key

    probe = probe_models(
        base_url,
        timeout=min(timeout, settings.connect_timeout_s),
        api_key=resolve_api_key(settings),
    )
    if not probe.reachable:
        return Unavailable("configured", f"the configured server at {base_url}: {probe.reason}")
    return Endpoint(
        "configured",
        base_url,
        settings.model,
        f"the configured server at {base_url} (model {settings.model})",
    )


def ollama_step(
    settings: LlmSettings,
    *,
    base_url: str = OLLAMA_BASE_URL,
    timeout: float = OLLAMA_PROBE_TIMEOUT_S,
) -> Endpoint | Unavailable:
    """A local Ollama, with ``llm.model`` if it has it, else the first model it lists."""
    from dialog.llm.api_key import PLACEHOLDER_API_KEY

    probe = probe_models(base_url, timeout=timeout)
    if not probe.reachable:
        return Unavailable("ollama", f"no Ollama at {base_url} ({probe.reason})")
    if probe.status != 200:
        return Unavailable("ollama", f"the server at {base_url} answered HTTP {probe.status}")
    if not probe.models:
        return Unavailable(
            "ollama",
            f"Ollama at {base_url} has no model yet: `ollama pull {settings.model}`",
        )
    model = pick_model(settings.model, probe.models)
    return Endpoint(
        "ollama",
        base_url,
        model,
        f"Ollama at {base_url} (model {model})",
        api_key=PLACEHOLDER_API_KEY,
    )


def pick_model(wanted: str, listed: tuple[str, ...]) -> str:
    """``wanted`` as the server spells it (Ollama lists ``llama3.2:latest`` for
    ``llama3.2``); the first listed model when it has no such one."""
    wanted = wanted.strip()
    for name in listed:
        if name == wanted or name == f"{wanted}:latest":
            return name
    base = wanted.split(":")[0]
    for name in listed:
        if name.split(":")[0] == base:
            return name
    return listed[0]


def _model_ids(body: bytes) -> tuple[str, ...]:
    try:
        data = json.loads(body)
    except ValueError:
        return ()
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return ()
    return tuple(str(i["id"]) for i in items if isinstance(i, dict) and i.get("id"))


def _opener(url: str) -> urllib.request.OpenerDirector:
    # a proxy from the environment must not catch probes of this machine's own ports
    if (urlsplit(url).hostname or "") in _LOOPBACK:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _reason(exc: BaseException, timeout: float) -> str:
    cause = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(cause, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(cause, OSError) and cause.strerror:
        return str(cause.strerror).lower()
    return str(cause) or type(cause).__name__
