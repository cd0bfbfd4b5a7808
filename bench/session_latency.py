"""How much latency the session core itself adds to a turn.

1. Fakes with no delays: every millisecond between milestones is the core's own cost
   (event dispatch, sentence splitting, thread hand-offs).
2. The real ``openai`` client through the session against a local OpenAI-compatible
   SSE server, compared in the same run with the bare client (the peer): the ratio is
   what the session adds to time-to-first-token.
3. What "the mind" adds before the model is asked: the safety screen (lexicon alone, then
   lexicon + semantic check) and the knowledge passages for the prompt, per turn.

Run from the repository root: ``python bench/session_latency.py [--turns 40]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config.settings import LlmSettings
from app.core import events as ev
from app.core.fakes import FakeAudioSink, FakeChat, FakeSynthesizer, FakeTranscriber
from app.core.registry import Roles
from app.core.session import Session
from app.core.types import ChatMessage
from dialog.llm.openai_chat import OpenAIChat
from dialog.persona import load_persona
from dialog.retrieval import Retriever
from dialog.safety import SafetyGuard, SemanticCrisisCheck
from tests.support.events import EventLog
from tests.support.openai_server import OpenAIServer

REPLY = "The pharmacy is on the first floor. It opens at nine in the morning."


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def core_overhead(turns: int) -> None:
    log = EventLog()
    roles = Roles(
        chat=FakeChat(REPLY),
        transcriber=FakeTranscriber("where is the pharmacy"),
        synthesizer=FakeSynthesizer(16000, seconds_per_word=0.001),
        sink=FakeAudioSink(),
    )
    session = Session(roles, load_persona("default"))
    session.subscribe(log)
    session.start()
    gaps: dict[str, list[float]] = {}
    pairs = [
        ("user_stopped", "final_transcript"),
        ("final_transcript", "first_token"),
        ("first_token", "first_audio"),
        ("first_audio", "first_viseme"),
        ("user_stopped", "first_audio"),
    ]
    for _ in range(turns):
        turn = session.hear_utterance(np.zeros(16000, np.float32))
        log.wait_for(ev.TurnEnded, turn, timeout=10)
        timeline = session.timelines.get(turn)
        assert timeline is not None and timeline.is_complete()
        for a, b in pairs:
            gaps.setdefault(f"{a} -> {b}", []).append(timeline.gap_ms(a, b) or 0.0)
    session.close()
    print(f"\n[1] session core overhead with instant fakes, {turns} turns (ms)")
    for name, values in gaps.items():
        print(f"  {name:<36} p50 {pct(values, 50):6.2f}   p95 {pct(values, 95):6.2f}")


async def bare_first_token(chat: OpenAIChat) -> float:
    start = time.perf_counter()
    stream = chat.stream([ChatMessage("user", "where is the pharmacy")])
    async for _ in stream:
        first = time.perf_counter() - start
        async for _ in stream:
            pass
        return first * 1000
    return float("nan")


def real_client(turns: int) -> None:
    with OpenAIServer(reply=REPLY, first_token_delay=0.02, token_delay=0.002) as server:
        settings = LlmSettings(base_url=server.base_url, model="test-model")

        bare = OpenAIChat(settings)

        async def run_bare() -> list[float]:
            return [await bare_first_token(bare) for _ in range(turns)]

        bare_ms = asyncio.run(run_bare())

        log = EventLog()
        session = Session(Roles(chat=OpenAIChat(settings)), load_persona("default"))
        session.subscribe(log)
        session.start()
        # steady state: the sentence encoder (crisis check, knowledge) loads once at start
        if session.guard.semantic is not None:
            session.guard.semantic.wait_ready(300)
        if session.retriever is not None:
            session.retriever.knowledge.build()
        for _ in range(3):
            log.wait_for(ev.TurnEnded, session.submit_text("hello"), timeout=30)
        through: list[float] = []
        for _ in range(turns):
            started = time.monotonic()
            turn = session.submit_text("where is the pharmacy")
            first = log.wait_for(ev.ReplyChunk, turn, timeout=10)
            log.wait_for(ev.TurnEnded, turn, timeout=10)
            through.append((first.ts - started) * 1000)
        session.close()
    print(f"\n[2] time to first token, local SSE server (20 ms server delay), {turns} turns")
    print(
        f"  bare openai client      p50 {pct(bare_ms, 50):6.1f} ms  p95 {pct(bare_ms, 95):6.1f} ms"
    )
    print(
        f"  through the session     p50 {pct(through, 50):6.1f} ms  p95 {pct(through, 95):6.1f} ms"
    )
    ratio = statistics.median(through) / statistics.median(bare_ms)
    print(f"  ratio session/bare (p50) {ratio:.2f}")


def mind_overhead(turns: int) -> None:
    """Text turn -> first ReplyChunk with an instant fake model, per safety/knowledge set-up."""
    questions = ["where is the pharmacy", "주차장은 어디에 있나요?", "I feel a bit lost today"]
    semantic = SemanticCrisisCheck()
    semantic.wait_ready(300)
    retriever = Retriever.for_persona(load_persona("default"))
    if retriever is not None:
        retriever.knowledge.build()
    setups = [
        ("lexicon only, no knowledge", SafetyGuard(), None),
        ("lexicon + semantic, no knowledge", SafetyGuard(semantic=semantic), None),
        ("lexicon + semantic + knowledge", SafetyGuard(semantic=semantic), retriever),
    ]
    print(f"\n[3] the mind before the model, {turns} text turns, instant fake model (ms)")
    for name, guard, knowledge in setups:
        log = EventLog()
        session = Session(
            Roles(chat=FakeChat(REPLY)),
            load_persona("default"),
            guard=guard,
            knowledge=knowledge,
            llm_summary=False,
        )
        session.subscribe(log)
        session.start()
        gaps: list[float] = []
        for i in range(turns):
            started = time.monotonic()
            turn = session.submit_text(questions[i % len(questions)])
            first = log.wait_for(ev.ReplyChunk, turn, timeout=30)
            log.wait_for(ev.TurnEnded, turn, timeout=30)
            gaps.append((first.ts - started) * 1000)
        session.close()
        print(f"  {name:<34} p50 {pct(gaps, 50):7.2f}   p95 {pct(gaps, 95):7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=40)
    args = parser.parse_args()
    core_overhead(args.turns)
    real_client(args.turns)
    mind_overhead(args.turns)


if __name__ == "__main__":
    main()
