"""The one safety entry point the session uses; it runs in code whatever the persona says.

``screen`` runs on every visitor utterance *before* the model: a crisis routes the turn to
the scripted protocol (and a staff alert), a diagnosis or dosage question to the medical
referral when the persona asks for that guard; everything else goes to the model. ``vet``
runs on every model sentence *before* it is spoken. A persona can add guards (medical
advice) but has no switch that removes the crisis protocol or the output guard, and nothing
a knowledge page or a visitor says reaches this code as an instruction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Literal

from dialog.safety.detector import CrisisDetector, CrisisVerdict
from dialog.safety.guards import MEDICAL_REFERRAL, WATCH, OutputGuard, Vetted, is_medical_question
from dialog.safety.injection import find_injection
from dialog.safety.lexicon import CrisisLexicon
from dialog.safety.protocol import CrisisProtocol, ProtocolReply
from dialog.safety.second_opinion import SecondOpinion
from dialog.safety.semantic import SemanticCrisisCheck

log = logging.getLogger(__name__)

Route = Literal["crisis", "medical", "model"]


@dataclass(frozen=True, slots=True)
class Screening:
    route: Route
    verdict: CrisisVerdict
    reply: ProtocolReply | None = None  # the scripted words for crisis / medical routes
    injection: tuple[str, ...] = field(default=())


class SafetyGuard:
    """Crisis detection, protocol, medical guard and output guard, for one session.

    ``semantic``: the embedding check (default: the shared USE encoder, loaded by
    :meth:`warm`); ``None`` leaves the lexicon alone (tests, machines without the model).
    ``second_opinion``: an async ``(text, language) -> bool | None`` such as
    :class:`~dialog.safety.second_opinion.LlmCrisisCheck`; optional, never required.
    """

    def __init__(
        self,
        *,
        crisis_line_ko: str = "109",
        crisis_line_en: str = "988",
        semantic: SemanticCrisisCheck | None = None,
        second_opinion: SecondOpinion | None = None,
    ) -> None:
        self.detector = CrisisDetector(CrisisLexicon(), semantic, second_opinion)
        self.protocol = CrisisProtocol(crisis_line_ko, crisis_line_en)

    @classmethod
    def default(cls, crisis_line_ko: str = "109", crisis_line_en: str = "988") -> SafetyGuard:
        """Lexicon + the semantic check over the shared multilingual encoder."""
        return cls(
            crisis_line_ko=crisis_line_ko,
            crisis_line_en=crisis_line_en,
            semantic=SemanticCrisisCheck(),
        )

    @property
    def semantic(self) -> SemanticCrisisCheck | None:
        return self.detector.semantic

    def warm(self) -> None:
        """Start loading the encoder in the background (never blocks)."""
        if self.detector.semantic is not None:
            self.detector.semantic.warm()

    @property
    def problem(self) -> str | None:
        semantic = self.detector.semantic
        return semantic.problem if semantic is not None else None

    async def screen(self, text: str, language: str, *, medical_guard: bool) -> Screening:
        verdict = await self.detector.assess(text, language)
        injection = tuple(find_injection(text))
        if injection:
            log.warning("instruction-like visitor text treated as data: %s", injection)
        if verdict.crisis:
            reply = self.protocol.reply(language, verdict.subject, verdict.describe())
            return Screening("crisis", verdict, reply, injection)
        if medical_guard and is_medical_question(text):
            lang = language if language in MEDICAL_REFERRAL else "en"
            referral = ProtocolReply(
                MEDICAL_REFERRAL[lang], lang, "medical question referred", "info"
            )
            return Screening("medical", verdict, referral, injection)
        return Screening("model", verdict, None, injection)

    @property
    def watch(self) -> re.Pattern[str]:
        return WATCH

    def vet(self, sentence: str, language: str, *, medical_guard: bool) -> Vetted:
        return OutputGuard(medical_advice=medical_guard).vet(sentence, language)
