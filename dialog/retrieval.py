"""Knowledge passages for the prompt: the persona's sources searched for each question.

Sources are folders of ``faq.<lang>.md`` files (see :mod:`dialog.knowledge`), named in the
persona (``knowledge.sources``) either as a folder under ``assets/knowledge/`` or as a
path. The search never waits for the sentence encoder: while it loads, BM25 answers.
Passages below the score threshold are left out (the FAQ mode's thresholds unless the
persona sets ``min_score``).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from app.paths import assets_dir
from dialog.knowledge import Entry, Hit, KnowledgeBase, load_entries, shared_usem_embedder
from dialog.llm.faq_chat import THRESHOLDS
from dialog.persona import Persona

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retrieved:
    hits: tuple[Hit, ...]
    searched: bool  # False when the persona has no knowledge (nothing to say about it)


class Retriever:
    def __init__(self, knowledge: KnowledgeBase, top_k: int = 3, min_score: float | None = None):
        self.knowledge = knowledge
        self.top_k = top_k
        self.min_score = min_score
        self.problem: str | None = None

    @classmethod
    def for_persona(cls, persona: Persona) -> Retriever | None:
        """The persona's sources as one knowledge base; None when it names none."""
        config = persona.knowledge
        if not config.sources:
            return None
        entries: list[Entry] = []
        problems: list[str] = []
        for source in config.sources:
            folder = Path(source).expanduser()
            if not folder.is_absolute():
                folder = assets_dir() / "knowledge" / source
            try:
                entries += load_entries(folder)
            except (OSError, ValueError) as exc:
                problems.append(f"knowledge source {source!r} not loaded: {exc}")
        if not entries:
            retriever = None
        else:
            knowledge = KnowledgeBase(entries, embedder=shared_usem_embedder)
            retriever = cls(knowledge, config.top_k, config.min_score)
        for problem in problems:
            log.warning("%s", problem)
        if retriever is not None and problems:
            retriever.problem = "; ".join(problems)
        return retriever

    def warm(self) -> None:
        self.knowledge.warm()

    def search(self, text: str, language: str) -> tuple[Hit, ...]:
        hits = self.knowledge.search(text, k=self.top_k, language=language, block=False)
        mode = self.knowledge.last_mode
        bar = self.min_score if self.min_score is not None else THRESHOLDS.get(mode, 0.0)
        return tuple(h for h in hits if h.score >= bar)

    async def retrieve(self, text: str, language: str) -> Retrieved:
        try:
            hits = await asyncio.to_thread(self.search, text, language)
        except Exception as exc:  # a broken index must not break the turn
            log.warning("knowledge search failed: %s", exc)
            hits = ()
        return Retrieved(hits, True)
