"""Crisis detection: the lexicon, then the semantic check, then an optional second opinion.

The order encodes how far each is trusted:

1. a lexicon pattern that is not negated or explained away is a crisis, whatever else says;
2. an explicit negation or informational context found by the lexicon is trusted over the
   semantic check (sentence encoders ignore negation);
3. otherwise the semantic check decides; in its grey zone the second opinion (an LLM, when
   one is wired) may raise the alarm, never lower it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Literal

from dialog.safety.lexicon import CrisisLexicon, LexiconResult, Subject
from dialog.safety.second_opinion import SecondOpinion
from dialog.safety.semantic import SemanticCrisisCheck, SemanticScore

log = logging.getLogger(__name__)

Source = Literal["lexicon", "semantic", "second-opinion", "none"]


@dataclass(frozen=True, slots=True)
class CrisisVerdict:
    crisis: bool
    subject: Subject = "self"
    source: Source = "none"
    rules: tuple[str, ...] = ()
    semantic: SemanticScore | None = None
    seconds: float = 0.0

    def describe(self) -> str:
        """For staff and logs: which check fired, never the visitor's words."""
        who = "the visitor" if self.subject == "self" else "someone the visitor mentioned"
        if self.source == "lexicon":
            how = f"crisis language ({', '.join(sorted(set(self.rules)))})"
        elif self.source == "semantic" and self.semantic is not None:
            how = f"crisis meaning (similarity {self.semantic.similarity:.2f})"
        else:
            how = "crisis meaning (model second opinion)"
        return f"{how}: {who} may be at risk of self-harm"


class CrisisDetector:
    def __init__(
        self,
        lexicon: CrisisLexicon | None = None,
        semantic: SemanticCrisisCheck | None = None,
        second_opinion: SecondOpinion | None = None,
    ) -> None:
        self.lexicon = lexicon or CrisisLexicon()
        self.semantic = semantic
        self.second_opinion = second_opinion

    def check(self, text: str) -> CrisisVerdict:
        """Lexicon and semantic check (blocking: a few milliseconds with the encoder)."""
        started = time.perf_counter()
        lexical = self.lexicon.check(text)
        verdict = self._decide(text, lexical)
        return _timed(verdict, started)

    async def assess(self, text: str, language: str) -> CrisisVerdict:
        """:meth:`check` off the event loop, then the second opinion in the grey zone."""
        started = time.perf_counter()
        verdict = await asyncio.to_thread(self.check, text)
        score = verdict.semantic
        if (
            not verdict.crisis
            and self.second_opinion is not None
            and score is not None
            and score.grey
            and await self.second_opinion(text, language) is True
        ):
            verdict = CrisisVerdict(True, "self", "second-opinion", (), score)
        return _timed(verdict, started)

    def _semantic_score(self, text: str) -> SemanticScore | None:
        if self.semantic is None:
            return None
        try:
            return self.semantic.score(text)
        except Exception as exc:  # the lexicon has already run; a broken encoder is no score
            log.warning("semantic crisis check failed: %s", exc)
            return None

    def _decide(self, text: str, lexical: LexiconResult) -> CrisisVerdict:
        rules = tuple(h.rule for h in lexical.active)
        if lexical.crisis:
            return CrisisVerdict(True, lexical.subject, "lexicon", rules)
        score = self._semantic_score(text)
        if lexical.suppressed_only:
            return CrisisVerdict(False, semantic=score)
        if score is not None and score.crisis:
            return CrisisVerdict(True, "self", "semantic", (), score)
        return CrisisVerdict(False, semantic=score)


def _timed(verdict: CrisisVerdict, started: float) -> CrisisVerdict:
    return CrisisVerdict(
        verdict.crisis,
        verdict.subject,
        verdict.source,
        verdict.rules,
        verdict.semantic,
        time.perf_counter() - started,
    )
