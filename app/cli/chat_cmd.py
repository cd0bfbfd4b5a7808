"""``dhuman chat``: a text conversation in the terminal through the real session core."""

from __future__ import annotations

import argparse
import threading
from typing import Any, TextIO

from app.config.settings import Settings
from app.core import events as ev
from app.core.registry import build_roles
from app.core.session import Session
from dialog.persona import Persona

_PROMPT = {"en": "you> ", "ko": "나> "}


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "chat",
        help="talk to the persona in the terminal (text only)",
        description="A text conversation through the configured language model. "
        "Type a line and press Enter; an empty line or Ctrl-D ends it; "
        "Ctrl-C stops a reply.",
    )
    p.add_argument("--base-url", help="OpenAI-compatible endpoint (overrides llm.base_url)")
    p.add_argument("--model", help="model name (overrides llm.model)")
    p.add_argument("--no-greeting", action="store_true", help="start without the greeting")


class _TerminalView:
    """Writes the session's events to the terminal as they happen."""

    def __init__(self, out: TextIO, err: TextIO, name: str) -> None:
        self.out, self.err, self.name = out, err, name
        self.turn_done = threading.Event()
        self._started_reply: set[int] = set()

    def __call__(self, event: ev.Event) -> None:
        if isinstance(event, ev.ReplyChunk):
            self._reply_prefix(event.turn_id)
            self.out.write(event.text)
            self.out.flush()
        elif isinstance(event, ev.ReplySentence) and event.turn_id not in self._started_reply:
            # scripted lines (greeting, fallback) arrive as sentences without chunks
            self._reply_prefix(event.turn_id)
            self.out.write(event.text + " ")
        elif isinstance(event, ev.Notice):
            self.err.write(f"\n[{event.role}] {event.message}\n")
            self.err.flush()
        elif isinstance(event, ev.TurnEnded):
            if event.interrupted:
                self.out.write(" [stopped]")
            self.out.write("\n")
            self.out.flush()
            self.turn_done.set()

    def _reply_prefix(self, turn_id: int) -> None:
        if turn_id not in self._started_reply:
            self._started_reply.add(turn_id)
            self.out.write(f"{self.name}> ")


def run(
    args: argparse.Namespace,
    settings: Settings,
    persona: Persona,
    stdin: TextIO,
    out: TextIO,
    err: TextIO,
) -> int:
    if args.base_url:
        settings.llm.base_url = args.base_url
    if args.model:
        settings.llm.model = args.model
    roles = build_roles(settings, only=("chat",))
    language = settings.general.language
    session = Session(roles, persona, language=language, safety=settings.safety)
    view = _TerminalView(out, err, persona.name.get(language))
    session.subscribe(view)
    session.start(greet=not args.no_greeting)
    try:
        if not args.no_greeting:
            view.turn_done.wait(10)
        while True:
            out.write(_PROMPT.get(language, "you> "))
            out.flush()
            line = stdin.readline()
            if not line or not line.strip():
                break
            view.turn_done.clear()
            session.submit_text(line.strip())
            _wait_for_reply(session, view)
    except KeyboardInterrupt:
        out.write("\n")
    finally:
        session.close()
    return 0


def _wait_for_reply(session: Session, view: _TerminalView) -> None:
    try:
        while not view.turn_done.wait(0.1):
            pass
    except KeyboardInterrupt:
        session.interrupt("user")
        view.turn_done.wait(5)
