"""A small OpenAI-compatible chat server for tests, on 127.0.0.1 with a free port.

It is a real HTTP server (stdlib ``ThreadingHTTPServer`` in a background thread), so the
real ``openai`` client, ``httpx2`` and sockets are exercised end to end::

    from tests.support.openai_server import OpenAIServer

    with OpenAIServer(reply="Hello there, how can I help?") as server:
        settings = LlmSettings(base_url=server.base_url, model="test-model")
        ...  # talk to it with OpenAIChat(settings) or any OpenAI client
        assert server.requests[-1].messages[-1]["content"] == "hi"
        assert server.wait_disconnect(1.0)  # after cancelling a stream mid-reply

Endpoints
    ``POST /v1/chat/completions`` with ``"stream": true`` answers Server-Sent Events:
    one ``data: {chat.completion.chunk}`` per piece (the first carries only the role, the
    last only ``finish_reason: "stop"``) and a final ``data: [DONE]``; without ``stream``
    it answers one ``chat.completion`` JSON object. ``GET /v1/models`` lists ``models``.
    Every response carries ``Connection: close``.

Knobs: constructor keywords, also plain attributes you may change between requests
    ``reply``              the text to answer: a ``str`` (split into word-sized pieces by
                           :func:`split_tokens`) or a sequence of pieces sent as they are.
    ``script``             ``(messages) -> str | Sequence[str | ToolCallPiece]``: chooses
                           the reply from the conversation (a list of ``{"role", "content"}``
                           dicts, tool messages included); wins over ``reply``.
    ``ToolCallPiece``      a piece that is a tool call: sent as ``tool_calls`` deltas (id
                           and name in the first, the arguments split in ``fragments``
                           parts), and the reply then finishes with ``"tool_calls"``. Mix
                           it with text pieces in ``reply`` or a script's answer.
    ``fail_first``         with ``status``: only the first N chat requests fail (then the
                           reply is sent), to test retries.
    ``drop_first``         close the first N chat requests' sockets before any response
                           (a reset connection), to test retries.
    ``header_delay``       seconds to wait before sending the status line and headers.
    ``first_token_delay``  seconds between the headers and the first piece.
    ``token_delay``        seconds between pieces.
    ``hang``               send 200 and the SSE headers, then never send a byte (until the
                           client goes away or the server stops).
    ``status``             answer every chat request with this HTTP status (401, 429, 500,
                           ...) and an OpenAI-style ``{"error": {...}}`` body;
                           ``error_message`` sets its message.
    ``garbage``            ``"sse"``: 200 event stream whose data is not JSON; ``"html"``:
                           200 ``text/html`` page; ``"json"``: 200 JSON of the wrong shape.
    ``drop_after``         close the socket abruptly after this many content pieces.
    ``stream_error``       after the pieces, send ``data: {"error": {"message": ...}}``
                           (as Ollama and vLLM do when generation fails) and end the stream.
    ``ignore_stream``      answer one ``chat.completion`` JSON even when asked to stream.
    ``require_key``        answer 401 unless ``Authorization: Bearer <require_key>``.
    ``models``             model ids listed by ``GET /v1/models``.

Records
    ``requests``           every request received, as :class:`RecordedRequest` (method,
                           path, lower-cased headers, parsed JSON body; ``messages``,
                           ``model``, ``stream`` and ``authorization`` shortcuts).
    ``disconnects``        how many responses the client abandoned mid-stream (seen as a
                           closed socket, ``BrokenPipeError`` or ``ConnectionResetError``);
                           ``wait_disconnect(timeout)`` waits for the first one.
    ``completed``          how many streamed replies were sent to the end (``[DONE]``).
    ``last_request``, ``chat_requests`` and ``reset()`` (forget the records) help too.

Addresses: ``base_url`` (``http://127.0.0.1:PORT/v1``, for OpenAI clients), ``url``, ``port``.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal

Garbage = Literal["sse", "html", "json"]
ReplyScript = Callable[[list[dict[str, Any]]], "str | Sequence[str | ToolCallPiece]"]

_TOKEN = re.compile(r"\s*\S+|\s+")
_POLL_S = 0.02


def split_tokens(text: str) -> list[str]:
    """Split text into word-sized pieces that join back to exactly ``text``.

    >>> split_tokens("Hello there.")
    ['Hello', ' there.']
    """
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class ToolCallPiece:
    """A scripted tool call; ``arguments`` is sent verbatim (it need not be valid JSON)."""

    name: str
    arguments: str = "{}"
    id: str = ""
    fragments: int = 3
    # repeat the id and name in every delta, as llama-cpp-python's server does
    repeat_name: bool = False


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    received_at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("messages"), list):
            return list(self.body["messages"])
        return []

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream")) if isinstance(self.body, dict) else False

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def tools(self) -> list[dict[str, Any]]:
        if isinstance(self.body, dict) and isinstance(self.body.get("tools"), list):
            return list(self.body["tools"])
        return []


class _ClientGone(Exception):
    """The client closed the connection."""


class _Stopping(Exception):
    """The server is shutting down; not the client's doing."""


class OpenAIServer:
    """See the module docstring for the knobs and the records."""

    def __init__(
        self,
        reply: str | Sequence[str | ToolCallPiece] = "Hello! How can I help you today?",
        *,
        script: ReplyScript | None = None,
        header_delay: float = 0.0,
        first_token_delay: float = 0.0,
        token_delay: float = 0.0,
        hang: bool = False,
        status: int | None = None,
        error_message: str | None = None,
        garbage: Garbage | None = None,
        drop_after: int | None = None,
        stream_error: str | None = None,
        ignore_stream: bool = False,
        require_key: str | None = None,
        models: Sequence[str] = ("test-model",),
        fail_first: int | None = None,
        drop_first: int = 0,
    ) -> None:
        self.reply: str | Sequence[str | ToolCallPiece] = reply
        self.fail_first = fail_first
        self.drop_first = drop_first
        self.script = script
        self.header_delay = header_delay
        self.first_token_delay = first_token_delay
        self.token_delay = token_delay
        self.hang = hang
        self.status = status
        self.error_message = error_message
        self.garbage = garbage
        self.drop_after = drop_after
        self.stream_error = stream_error
        self.ignore_stream = ignore_stream
        self.require_key = require_key
        self.models = list(models)

        self.requests: list[RecordedRequest] = []
        self.disconnects = 0
        self.completed = 0
        self._disconnected = threading.Event()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> OpenAIServer:
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.owner = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="openai-test-server",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OpenAIServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running; use `with OpenAIServer() as server:`")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The root, e.g. ``http://127.0.0.1:43121``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What OpenAI clients want as ``base_url``, e.g. ``http://127.0.0.1:43121/v1``."""
        return f"{self.url}/v1"

    # ------------------------------------------------------------------ records
    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self.requests:
                raise AssertionError("the server has received no request")
            return self.requests[-1]

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.rstrip("/").endswith("/chat/completions")]

    def wait_disconnect(self, timeout: float = 2.0) -> bool:
        """True once the client abandoned a streamed response; False after ``timeout``."""
        return self._disconnected.wait(timeout)

    def reset(self) -> None:
        """Forget the records (the knobs stay)."""
        with self._lock:
            self.requests.clear()
            self.disconnects = 0
            self.completed = 0
            self._disconnected.clear()

    # ------------------------------------------------------------------ for the handler
    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _record_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1
        self._disconnected.set()

    def _record_completed(self) -> None:
        with self._lock:
            self.completed += 1

    def _pieces(self, messages: list[dict[str, Any]]) -> list[str | ToolCallPiece]:
        reply = self.script(messages) if self.script is not None else self.reply
        if isinstance(reply, str):
            return list(split_tokens(reply))
        return [p if isinstance(p, ToolCallPiece) else str(p) for p in reply]

    def _chat_number(self) -> int:
        """1 for the first chat request received, 2 for the next..."""
        return len(self.chat_requests)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: OpenAIServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    # ------------------------------------------------------------------ routing
    def do_GET(self) -> None:
        owner = self.server.owner
        owner._record(RecordedRequest("GET", self.path, self._headers()))
        if self.path.rstrip("/") == "/v1/models":
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in owner.models
            ]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error(404, f"no route for GET {self.path}", "not_found")

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        owner._record(RecordedRequest("POST", self.path, self._headers(), body))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_error(404, f"no route for POST {self.path}", "not_found")
            return
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._send_error(400, "the body must be JSON with a 'messages' list", "invalid_request")
            return
        try:
            self._chat(owner, body)
        except _ClientGone:
            owner._record_disconnect()
            self.close_connection = True
        except _Stopping:
            self.close_connection = True

    # ------------------------------------------------------------------ chat
    def _chat(self, owner: OpenAIServer, body: dict[str, Any]) -> None:
        self._sleep(owner.header_delay)
        if owner.require_key is not None and (
            self.headers.get("Authorization") != f"Bearer {owner.require_key}"
        ):
            self._send_error(401, "Incorrect API key provided.", "invalid_api_key")
            return
        number = owner._chat_number()
        if number <= owner.drop_first:
            self._drop()
            return
        failing = owner.fail_first is None or number <= owner.fail_first
        if owner.status is not None and owner.status >= 400 and failing:
            message = owner.error_message or f"scripted failure with HTTP {owner.status}"
            self._send_error(owner.status, message, "scripted_error")
            return
        if owner.garbage is not None:
            self._send_garbage(owner.garbage)
            return
        stream = bool(body.get("stream")) and not owner.ignore_stream
        model = str(body.get("model") or "test-model")
        if owner.hang:
            self._start_sse()
            while True:
                self._sleep(1.0)
        try:
            pieces = owner._pieces(body["messages"])
        except Exception as exc:  # a broken test script: say so instead of hanging up
            self._send_error(500, f"the test server's script failed: {exc!r}", "script_error")
            return
        if not stream:
            self._sleep(owner.first_token_delay + owner.token_delay * max(len(pieces) - 1, 0))
            text = "".join(p for p in pieces if isinstance(p, str))
            self._send_json(200, _completion(model, text))
            return
        self._start_sse()
        self._send_event(_chunk(model, {"role": "assistant", "content": ""}))
        self._sleep(owner.first_token_delay)
        calls = 0
        for index, piece in enumerate(pieces):
            if owner.drop_after is not None and index >= owner.drop_after:
                self._drop()
                return
            if index:
                self._sleep(owner.token_delay)
            if isinstance(piece, ToolCallPiece):
                for delta in _tool_call_deltas(piece, calls):
                    self._send_event(_chunk(model, delta))
                calls += 1
            else:
                self._send_event(_chunk(model, {"content": piece}))
        if owner.stream_error is not None:
            error = {"message": owner.stream_error, "type": "server_error", "code": None}
            self._send_event({"error": error})
        else:
            finish = "tool_calls" if calls else "stop"
            self._send_event(_chunk(model, {}, finish_reason=finish))
        self._write_chunk(b"data: [DONE]\n\n")
        self._write(b"0\r\n\r\n")
        if owner.stream_error is None:
            owner._record_completed()

    def _send_garbage(self, kind: Garbage) -> None:
        if kind == "sse":
            self._start_sse()
            self._write_chunk(b"data: this is not json {{{\n\n")
            self._write_chunk(b"data: [DONE]\n\n")
            self._write(b"0\r\n\r\n")
        elif kind == "html":
            page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
            self._send_bytes(200, "text/html; charset=utf-8", page)
        else:
            self._send_json(200, {"unexpected": "shape"})

    # ------------------------------------------------------------------ wire helpers
    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _start_sse(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.close_connection = True
        self._end_headers()

    def _send_event(self, obj: dict[str, Any]) -> None:
        data = json.dumps(obj, ensure_ascii=False)
        self._write_chunk(f"data: {data}\n\n".encode())

    def _write_chunk(self, data: bytes) -> None:
        self._write(f"{len(data):X}\r\n".encode("ascii") + data + b"\r\n")

    def _send_json(self, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj, ensure_ascii=False).encode()
        self._send_bytes(status, "application/json", data)

    def _send_error(self, status: int, message: str, code: str) -> None:
        kind = "invalid_request_error" if status < 500 else "server_error"
        error = {"message": message, "type": kind, "param": None, "code": code}
        self._send_json(status, {"error": error})

    def _send_bytes(self, status: int, content_type: str, data: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.close_connection = True
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _end_headers(self) -> None:
        try:
            self.end_headers()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise _ClientGone from exc

    def _write(self, data: bytes) -> None:
        if self._peer_closed():
            raise _ClientGone
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError) as exc:
            raise _ClientGone from exc

    def _drop(self) -> None:
        """Cut the connection without finishing the chunked body."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _sleep(self, seconds: float) -> None:
        """Wait, but notice at once when the client hangs up or the server stops."""
        deadline = time.monotonic() + max(seconds, 0.0)
        while True:
            if self._peer_closed(wait=min(_POLL_S, max(deadline - time.monotonic(), 0.0))):
                raise _ClientGone
            if self.server.owner._stopping.is_set():
                raise _Stopping
            if time.monotonic() >= deadline:
                return

    def _peer_closed(self, wait: float = 0.0) -> bool:
        """True when the client closed its end (readable with nothing to read)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], wait)
            if not readable:
                return False
            if self.connection.recv(1, socket.MSG_PEEK) == b"":
                return True
            time.sleep(wait)  # the client sent more bytes; nothing to do with them
            return False
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return True
        except (OSError, ValueError):
            return True


def _tool_call_deltas(piece: ToolCallPiece, index: int) -> list[dict[str, Any]]:
    """A tool call as a streaming server sends it: id and name, then argument fragments."""
    arguments = piece.arguments
    size = max(1, -(-len(arguments) // max(1, piece.fragments)))
    parts = [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]
    first = {
        "index": index,
        "id": piece.id or f"call_{index}",
        "type": "function",
        "function": {"name": piece.name, "arguments": ""},
    }
    deltas: list[dict[str, Any]] = [{"tool_calls": [first]}]
    for part in parts:
        call: dict[str, Any] = {"index": index, "function": {"arguments": part}}
        if piece.repeat_name:
            call = {**first, "function": {"name": piece.name, "arguments": part}}
        deltas.append({"tool_calls": [call]})
    return deltas


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }
