"""Offline FAQ mode: a :class:`app.core.roles.Chat` that answers only from the knowledge base.

Used when no language model is reachable. It takes the last user message, searches the
hospital's knowledge base (:mod:`dialog.knowledge`) and streams back the best entry's answer
in the user's language (Hangul -> Korean), or a plain refusal that sends the visitor to the
front desk when nothing matches well enough. ``notice`` is the sentence the integrator shows
so that people know the avatar is in FAQ mode.

The knowledge base is built on the first question (loading the sentence encoder takes about
a second), in a worker thread so the session's event loop keeps running.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from app.config.settings import Settings
from app.core.types import ChatMessage
from dialog.knowledge import (
    Hit,
    KnowledgeBase,
    SearchMode,
    detect_language,
    shared_usem_embedder,
)

NOTICE = {
    "en": "The language model is not available: answering only from the hospital's information.",
    "ko": "언어 모델을 사용할 수 없습니다. 병원 안내 정보로만 답변합니다.",
}
REFUSAL = {
    "en": (
        "I can only answer questions about the hospital right now; "
        "please ask a staff member at the front desk."
    ),
    "ko": (
        "지금은 병원 이용에 관한 질문에만 답할 수 있습니다. 1층 안내 데스크 직원에게 문의해 주세요."
    ),
}
# Below these scores the best entry is not trusted (see dialog.knowledge.KnowledgeBase.search).
# Measured on tests/data/faq_questions.json: with embeddings, off-topic questions scored at
# most 0.27 and 55 of 60 hospital questions 0.30 or more. BM25 cannot tell off-topic apart
# well (an off-topic question scored 3.3, many right answers about 2), so its threshold only
# refuses questions that share (almost) no word with any entry.
THRESHOLDS: dict[SearchMode, float] = {"embeddings": 0.28, "bm25": 1.5}
_VISITOR = re.compile(r"<visitor>(.*)</visitor>", re.DOTALL)


class FaqChat:
    """Implements :class:`app.core.roles.Chat` over a :class:`KnowledgeBase`."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        *,
        language: str = "en",
        thresholds: dict[SearchMode, float] | None = None,
        chunk_chars: int = 0,
    ) -> None:
        """``language``: used when a message shows no language (digits only, empty).

        ``chunk_chars`` > 0 streams the answer in pieces of about that many characters
        (word boundaries), like a model would; 0 sends it as one piece.
        """
        self.knowledge = knowledge
        self.language = language
        self.thresholds = dict(THRESHOLDS if thresholds is None else thresholds)
        self.chunk_chars = chunk_chars
        self.last_hit: Hit | None = None

    @property
    def notice(self) -> str:
        """Says plainly that the avatar answers only from the hospital's information."""
        return NOTICE.get(self.language, NOTICE["en"])

    def notice_in(self, language: str) -> str:
        return NOTICE.get(language, NOTICE["en"])

    def answer(self, question: str) -> str:
        """The reply for one question (blocking; builds the knowledge base if needed)."""
        language = detect_language(question, self.language)
        hits = self.knowledge.search(question, k=1, language=language)
        mode = self.knowledge.mode
        if not hits or hits[0].score < self.thresholds.get(mode, 0.0):
            self.last_hit = None
            return REFUSAL.get(language, REFUSAL["en"])
        self.last_hit = hits[0]
        return hits[0].entry.answer

    async def stream(self, messages: Sequence[ChatMessage]) -> AsyncIterator[str]:
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        quoted = _VISITOR.search(question)  # words the session quoted as data
        if quoted:
            question = quoted.group(1)
        reply = await asyncio.to_thread(self.answer, question)
        for piece in _pieces(reply, self.chunk_chars):
            yield piece


def _pieces(text: str, size: int) -> list[str]:
    if size <= 0 or len(text) <= size:
        return [text]
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and len(candidate) > size:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    return pieces


def build(settings: Settings, folder: Path | None = None) -> FaqChat:
    """The registry factory: the bundled knowledge base, fallback language from settings."""
    knowledge = KnowledgeBase.from_folder(folder, embedder=shared_usem_embedder)
    return FaqChat(knowledge, language=settings.general.language)
