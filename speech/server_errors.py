"""What an ``openai`` client error from a speech server means, in words a person can act on.

The remote transcriber and the remote synthesizer talk to the same kind of server and
fail in the same ways (down, slow, wrong key, wrong model, bad request); only what to
check differs, so each passes its own :class:`ServerHints` and gets one sentence back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ServerHints:
    """What to check, per failure, for one kind of request (each a clause after ';')."""

    action: str  # what was asked, for any other failure: "Speech synthesis"
    endpoint: str  # the path, as a person would look for it: "/audio/speech"
    slow: str  # timed out
    unreachable: str  # no connection
    key: str  # 401 / 403
    model: str  # 404
    rejected: str | None = None  # 400; None: reported like any other status


def explain(
    exc: Exception, openai: Any, url: str, model: str, timeout_s: float, hints: ServerHints
) -> str:
    """One sentence for ``exc``, raised by the ``openai`` module given while asking the
    server at ``url`` for ``model``."""
    where = f"The speech server at {url}"
    if isinstance(exc, openai.APITimeoutError):
        return f"{where} did not answer within {timeout_s:g} s; {hints.slow}"
    if isinstance(exc, openai.APIConnectionError):
        return f"Cannot reach the speech server at {url}: {hints.unreachable}"
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"{where} refused the API key: {hints.key}"
    if isinstance(exc, openai.NotFoundError):
        return f"{where} has no model {model!r} or no {hints.endpoint} endpoint: {hints.model}"
    if hints.rejected and isinstance(exc, openai.BadRequestError):
        return f"{where} rejected the request ({clip(str(exc.message))}): {hints.rejected}"
    if isinstance(exc, openai.APIStatusError):
        return f"{where} answered HTTP {exc.status_code}: {clip(str(exc.message))}"
    return f"{hints.action} at {url} failed: {clip(str(exc))}"


def clip(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters (a server's error page can be long)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
