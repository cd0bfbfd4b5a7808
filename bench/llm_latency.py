"""Time to first token and to the first speakable sentence with a real local model server.

The server is the one the "auto" chain starts itself: llama-cpp-python's OpenAI-compatible
server as a child process (``dialog.llm.local_server``), here with the packaged
SmolLM2-135M (a demo-sized model: its speed, not its answers, is the point). The same
questions go to it two ways in one run:

* **bare**: the ``openai`` client alone (``OpenAIChat.stream``), the peer; the first
  sentence is cut from the stream with the session's own ``SentenceSplitter``;
* **through the session**: ``Session.submit_text`` with the real client, so the safety
  screen, knowledge retrieval, prompt building, tag parsing and caption vetting are in the
  path: the first ``ReplyChunk`` and the first ``ReplySentence`` (what the voice starts on).

Printed: p50/p95 per measure and the session/bare ratios. The machine's load average is
printed too: figures on a shared machine are upper bounds.
Run from the repository root: ``python bench/llm_latency.py [--turns 12]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import LlmSettings, Settings
from app.core import events as ev
from app.core.registry import Roles
from app.core.session import Session
from app.core.types import ChatMessage
from dialog.llm.local_server import LocalServer, llama_server_missing, resolve_local_model
from dialog.llm.openai_chat import OpenAIChat
from dialog.persona import load_persona
from speech.sentences import SentenceSplitter
from tests.support.events import EventLog

QUESTIONS = [
    "Where is the pharmacy?",
    "When are visiting hours?",
    "How do I get to the parking lot?",
    "Can you tell me where reception is?",
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def bare_turn(chat: OpenAIChat, question: str) -> tuple[float, float]:
    """(first token, first sentence) in ms from the request."""
    splitter = SentenceSplitter()
    start = time.perf_counter()
    first: float | None = None
    sentence: float | None = None
    async for piece in chat.stream([ChatMessage("user", question)]):
        now = (time.perf_counter() - start) * 1000
        first = now if first is None else first
        if sentence is None and splitter.feed(piece):
            sentence = now
    if sentence is None and splitter.flush():
        sentence = (time.perf_counter() - start) * 1000
    nothing = float("nan")  # no text came: no figure
    return (nothing if first is None else first), (nothing if sentence is None else sentence)


def line(label: str, values: list[float]) -> str:
    return f"  {label:<34} p50 {pct(values, 50):7.1f} ms  p95 {pct(values, 95):7.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--model", default="smollm2-135m", help="a model id or a .gguf path")
    args = parser.parse_args()
    missing = llama_server_missing()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    settings = Settings()
    server = LocalServer(resolve_local_model(args.model, settings))
    started = time.perf_counter()
    base_url = server.ensure_running()
    print(
        f"llama.cpp server with {server.model.name}: ready in {time.perf_counter() - started:.1f} s"
    )
    try:
        llm = LlmSettings(base_url=base_url, model=server.alias, max_tokens=60, temperature=0.0)
        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(args.turns)]

        bare = OpenAIChat(llm)

        async def run_bare() -> list[tuple[float, float]]:
            await bare_turn(bare, "hello")  # warm: the first request builds the cache
            return [await bare_turn(bare, q) for q in questions]

        bare_runs = asyncio.run(run_bare())

        log = EventLog()
        session = Session(Roles(chat=OpenAIChat(llm)), load_persona("default"))
        session.subscribe(log)
        session.start(greet=False)
        # steady state: the sentence encoder (crisis check, knowledge) loads once at start
        if session.guard.semantic is not None:
            session.guard.semantic.wait_ready(300)
        if session.retriever is not None:
            session.retriever.knowledge.build()
        log.wait_for(ev.TurnEnded, session.submit_text("hello"), timeout=60)
        first_token: list[float] = []
        first_sentence: list[float] = []
        for question in questions:
            sent = time.monotonic()
            turn = session.submit_text(question)
            log.wait_for(ev.TurnEnded, turn, timeout=60)
            chunks = [e for e in log.of(ev.ReplyChunk) if e.turn_id == turn]
            sentences = [e for e in log.of(ev.ReplySentence) if e.turn_id == turn]
            if chunks:
                first_token.append((chunks[0].ts - sent) * 1000)
            if sentences:
                first_sentence.append((sentences[0].ts - sent) * 1000)
        session.close()
    finally:
        server.stop()

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{args.turns} turns, max_tokens 60, temperature 0")
    print(line("bare client: first token", [r[0] for r in bare_runs]))
    print(line("bare client: first sentence", [r[1] for r in bare_runs]))
    if first_token and first_sentence:
        print(line("through the session: first token", first_token))
        print(line("through the session: first sentence", first_sentence))
        token_ratio = statistics.median(first_token) / statistics.median(r[0] for r in bare_runs)
        sentence_ratio = statistics.median(first_sentence) / statistics.median(
            r[1] for r in bare_runs
        )
        print(
            f"  ratio session/bare (p50): first token {token_ratio:.2f}, "
            f"first sentence {sentence_ratio:.2f}"
        )
    else:
        print("  the session produced no reply text (see the log)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
