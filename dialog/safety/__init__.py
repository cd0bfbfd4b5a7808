"""Safety that no persona, knowledge page or visitor can switch off.

See :mod:`dialog.safety.policy` (the entry point the session uses), ``lexicon`` and
``semantic`` (crisis detection in Korean and English), ``protocol`` (the scripted reply),
``guards`` (output and medical guards) and ``injection`` (text as data).
"""

from dialog.safety.detector import CrisisDetector, CrisisVerdict
from dialog.safety.guards import OutputGuard, Vetted, is_medical_question
from dialog.safety.lexicon import CrisisLexicon
from dialog.safety.policy import SafetyGuard, Screening
from dialog.safety.protocol import CrisisProtocol, ProtocolReply
from dialog.safety.second_opinion import LlmCrisisCheck
from dialog.safety.semantic import SemanticCrisisCheck

__all__ = [
    "CrisisDetector",
    "CrisisLexicon",
    "CrisisProtocol",
    "CrisisVerdict",
    "LlmCrisisCheck",
    "OutputGuard",
    "ProtocolReply",
    "SafetyGuard",
    "Screening",
    "SemanticCrisisCheck",
    "Vetted",
    "is_medical_question",
]
