"""The chat (LLM) role: streamed replies from an OpenAI-compatible server.

``ChatError`` lives here so callers can catch it without importing the ``openai`` SDK
(about a second to import); ``OpenAIChat`` is imported lazily on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

ChatErrorKind = Literal["unreachable", "timeout", "auth", "http", "bad_response"]

if TYPE_CHECKING:
    from dialog.llm.openai_chat import OpenAIChat

__all__ = ["ChatError", "ChatErrorKind", "OpenAIChat"]


class ChatError(Exception):
    """Every failure of a chat stream, with a message for a person that says what to do.

    ``kind`` lets code react without parsing the message:

    * ``"unreachable"``: nothing answers at the base URL (refused, DNS, connect timeout,
      connection broken mid-reply);
    * ``"timeout"``: it answered too slowly (first token, a stall mid-reply, the total);
    * ``"auth"``: the key is missing, wrong or not allowed (HTTP 401/403);
    * ``"http"``: any other HTTP error status, or an error reported inside the stream;
    * ``"bad_response"``: not an OpenAI-compatible answer (HTML, non-JSON events, ...).

    ``status`` is the HTTP status when there was one.
    """

    def __init__(self, message: str, kind: ChatErrorKind, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.kind: ChatErrorKind = kind
        self.status = status

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"ChatError({self.message!r}, kind={self.kind!r})"


def __getattr__(name: str) -> Any:
    if name == "OpenAIChat":
        from dialog.llm.openai_chat import OpenAIChat

        return OpenAIChat
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
