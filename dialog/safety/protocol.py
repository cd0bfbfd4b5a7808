"""The scripted crisis protocol: what is said instead of a model reply, and the staff alert.

The words are fixed here in code, not in persona files or knowledge, so no persona,
knowledge page or visitor can change or remove them. Sentences are short and calm so they
synthesize and caption well; the crisis line comes from the settings (109 in Korea).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dialog.safety.lexicon import Subject

Severity = Literal["info", "high", "urgent"]

_SELF = {
    "en": (
        "I'm really sorry you're feeling this way, and I'm glad you told me. "
        "You don't have to go through this alone. "
        "I have asked a staff member to come and be with you now. "
        "You can also call the crisis line at {line}, any time of day or night. "
        "If you are in danger right now, please tell the staff at the front desk."
    ),
    "ko": (
        "그렇게 힘든 마음을 말씀해 주셔서 고맙습니다. "
        "혼자 견디지 않으셔도 괜찮아요. "
        "지금 직원에게 곁으로 와 달라고 요청했어요. "
        "언제든 자살예방 상담전화 {line}번으로 전화하시면 밤낮없이 이야기를 들어 드립니다. "
        "지금 위험한 상황이라면 안내 데스크 직원에게 바로 말씀해 주세요."
    ),
}
_OTHER = {
    "en": (
        "Thank you for telling me; that sounds very worrying. "
        "I have asked a staff member to come and help you now. "
        "If they may be in danger right now, please stay with them if you can. "
        "The crisis line at {line} can tell you what to do, any time of day or night."
    ),
    "ko": (
        "말씀해 주셔서 고맙습니다. 많이 걱정되시겠어요. "
        "지금 직원에게 와서 도와 달라고 요청했어요. "
        "그분이 지금 위험할 수 있다면 가능한 한 곁에 있어 주세요. "
        "자살예방 상담전화 {line}번에서 밤낮없이 어떻게 하면 좋을지 알려 드립니다."
    ),
}


@dataclass(frozen=True, slots=True)
class ProtocolReply:
    text: str
    language: str
    alert_reason: str
    severity: Severity


class CrisisProtocol:
    def __init__(self, crisis_line_ko: str = "109", crisis_line_en: str = "988") -> None:
        self.lines = {"ko": crisis_line_ko, "en": crisis_line_en}

    def line(self, language: str) -> str:
        return self.lines.get(language, self.lines["en"])

    def reply(self, language: str, subject: Subject, reason: str) -> ProtocolReply:
        lang = language if language in _SELF else "en"
        script = (_SELF if subject == "self" else _OTHER)[lang]
        severity: Severity = "urgent" if subject == "self" else "high"
        return ProtocolReply(script.format(line=self.line(lang)), lang, reason, severity)

    def follow_up_instruction(self, language: str) -> str:
        """System text for the turns after a crisis: the model stays gentle and on the line."""
        return (
            "Earlier in this conversation the visitor said something that suggests a risk of "
            "self-harm; staff have been called. Stay calm, warm and brief. Do not leave the "
            "topic abruptly, do not argue, do not give advice about methods or medicines. "
            "Remind them gently that staff are coming and that the crisis line "
            f"{self.line(language)} is open day and night."
        )
