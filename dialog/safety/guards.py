"""Guards on what the avatar says, and the medical-question guard on what it is asked.

* **Clinician claims** (always on): a model sentence saying it is a doctor, nurse,
  therapist... ("I'm your therapist", 저는 의사입니다) or that it diagnoses or prescribes
  is replaced by a plain line saying the avatar is an AI and not a clinician.
* **Medical advice** (a persona opt-in, on for the hospital guide): doses ("take 2 tablets",
  500mg씩 드세요) and diagnoses ("you probably have diabetes") in model output are replaced
  by a referral; diagnosis and dosage *questions* are answered with the referral before the
  model is asked.
* **Labelling the visitor** (always on): "you look sad", 화나 보이세요 is dropped; affect is
  soft context, never something said about a person.

``WATCH`` lists the words that can start any of these; the session holds back the streamed
captions of a sentence that contains one until the whole sentence has been checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dialog.safety.text import normalize

Reason = Literal["clinician-claim", "medical-advice", "labels-visitor"]

_ROLES_EN = (
    r"(?:licensed\s+|qualified\s+|trained\s+|real\s+|medical\s+)?(?:doctor|physician|nurse|"
    r"therapist|psychotherapist|psychiatrist|psychologist|counsel+or|clinician|pharmacist|"
    r"surgeon|medical\s+professional|gp)"
)
_ROLES_KO = (
    r"(?:의사|간호사|치료사|상담사|심리\s*상담사|상담\s*선생님|정신과\s*의사|전문의|약사|"
    r"임상\s*심리사|의료진)"
)
_CLAIM = re.compile(
    rf"\b(?:i'?m|i\s+am|i\s+work\s+as)\s+(?:a|an|your)\s+{_ROLES_EN}\b"
    rf"|\b(?:as|speaking\s+as)\s+your\s+{_ROLES_EN}\b"
    r"|\bi\s+(?:can|will|could|would\s+like\s+to)\s+(?:diagnose|prescribe)\b|\bi\s+diagnose\b"
    r"|\bmy\s+(?:medical\s+)?(?:diagnosis|prescription)\s+(?:is|for\s+you)\b"
    rf"|(?:저는|제가|나는|내가)\s*(?:\S+\s+)?{_ROLES_KO}(?:입니다|이에요|예요|야|라서|로서|니까|이니까|이고|인데)"
    r"|진단(?:해\s*드릴게요|해\s*드리겠|하자면|해\s*보면|\s*결과는)|처방(?:해\s*드릴게요|해\s*드리겠)"
)
_DOSE_UNITS = r"(?:mg|mcg|milligrams?|ml|pills?|tablets?|capsules?|units?|drops?|puffs?)"
_MEDICAL_ADVICE = re.compile(
    rf"\b(?:take|taking|use|using|give|increase|reduce)\s+(?:up\s+to\s+|about\s+)?\d+(?:\.\d+)?\s*{_DOSE_UNITS}\b"
    rf"|\b\d+(?:\.\d+)?\s*{_DOSE_UNITS}\s+(?:every|a\s+day|per\s+day|twice|three\s+times|daily)\b"
    r"|\b(?:you\s+(?:probably\s+|likely\s+|definitely\s+|might\s+|may\s+)?have|it\s+(?:sounds|looks)\s+like\s+you\s+have"
    r"|(?:this|it)\s+is\s+(?:probably|likely|definitely))\s+(?:a\s+|an\s+)?(?:cancer|diabetes|an\s+infection|infection|"
    r"a\s+stroke|stroke|heart\s+attack|flu|covid|pneumonia|fracture|migraine|depression|an\s+ulcer|ulcer)\b"
    r"|\b(?:you\s+can|it'?s\s+(?:safe|fine|okay|ok)\s+to)\s+(?:stop|skip|double)\s+(?:taking\s+)?(?:your|the)\b"
    r"|\d+(?:\.\d+)?\s*(?:mg|밀리그램|알|정|캡슐|단위|ml)\s*(?:씩\s*)?(?:드세요|드시면|드셔|복용|먹으|드시|투여)"
    r"|(?:암|당뇨|감염|뇌졸중|폐렴|골절|우울증|위궤양)(?:인\s*것\s*같|일\s*가능성이|입니다|이에요|이네요|일\s*거예요)"
    r"|(?:약을?|복용을?)\s*(?:끊으셔도|중단하셔도|줄이셔도|늘리셔도)\s*(?:돼|됩니다|괜찮)"
)
_LABEL = re.compile(
    r"\byou\s+(?:look|seem|sound|appear)\s+(?:so\s+|very\s+|really\s+|quite\s+|a\s+bit\s+|a\s+little\s+|kind\s+of\s+)?"
    r"(?:sad|angry|upset|depressed|anxious|scared|afraid|nervous|stressed|worried|unhappy|"
    r"miserable|tense|frustrated|annoyed|mad|distressed|down|lonely)\b"
    r"|(?:슬퍼|화나|화가\s*나|우울해|불안해|무서워|짜증나|긴장돼|긴장해|속상해|걱정스러워|외로워|힘들어)\s*(?:보이|보여)"
)
WATCH = re.compile(
    r"doctor|physician|nurse|therap|psychiatr|psycholog|counsel|clinician|pharmacist|surgeon|"
    r"diagnos|prescri|\bgp\b|\d|you\s+(?:look|seem|sound|appear|probably|likely|may|might|can|have)|"
    r"it\s+(?:sounds|looks)|(?:this|it)\s+is\s+(?:probably|likely|definitely)|safe\s+to|"
    r"의사|간호사|치료사|상담|전문의|약사|의료진|진단|처방|보이|보여|암|당뇨|감염|뇌졸중|폐렴|골절|"
    r"우울증|위궤양|끊으셔도|중단하셔도|줄이셔도|늘리셔도",
    re.IGNORECASE,
)

SAFE_LINES: dict[Reason, dict[str, str]] = {
    "clinician-claim": {
        "en": "I'm an AI assistant, not a doctor or a therapist; staff can connect you with one.",
        "ko": "저는 의사나 상담사가 아닌 AI 안내원이에요. 필요하시면 직원이 연결해 드릴게요.",
    },
    "medical-advice": {
        "en": "For medicines and diagnoses, please ask your doctor or the pharmacist.",
        "ko": "약이나 진단에 관해서는 담당 의사나 약사에게 꼭 여쭤 보세요.",
    },
    "labels-visitor": {"en": "", "ko": ""},  # dropped: nothing is said in its place
}

MEDICAL_REFERRAL = {
    "en": (
        "I can't give medical advice about diagnoses or medicines. "
        "Please ask your doctor or the pharmacist. "
        "A staff member at the front desk can help you reach them."
    ),
    "ko": (
        "진단이나 약 복용에 대해서는 제가 안내해 드릴 수 없어요. "
        "담당 의사나 약사에게 꼭 여쭤 보세요. "
        "안내 데스크 직원이 연결을 도와드릴 거예요."
    ),
}

_MEDICINE_EN = (
    r"(?:pills?|tablets?|mg|milligrams?|painkillers?|medicine|medication|meds|drugs?|insulin|"
    r"aspirin|ibuprofen|paracetamol|acetaminophen|tylenol|antibiotics?|warfarin|dose|dosage)"
)
_DISEASE_EN = (
    r"(?:cancer|diabetes|covid|flu|infection|infected|disease|stroke|heart\s+attack|fracture|"
    r"broken|tumou?r|pneumonia|ulcer|dementia|serious|dangerous|normal|malignant)"
)
_MEDICAL_QUESTION = re.compile(
    rf"\b(?:how\s+(?:much|many)|what\s+(?:dose|dosage|amount))\b[^?]{{0,50}}\b{_MEDICINE_EN}\b"
    rf"|\b(?:double|increase|reduce|lower|skip|stop|stop\s+taking|quit|halve)\s+(?:taking\s+)?(?:my\s+|the\s+)?(?:\w+\s+){{0,3}}{_MEDICINE_EN}\b"
    rf"|\b(?:safe|ok|okay|fine|alright)\s+to\s+(?:take|mix|combine)\b"
    rf"|\bdo\s+i\s+have\s+(?!to\b)(?:\w+\s+){{0,2}}{_DISEASE_EN}\b"
    rf"|\b(?:is|could)\s+(?:this|it|that)\s+(?:\w+\s+){{0,5}}(?:be\s+)?{_DISEASE_EN}\b"
    r"|\b(?:can|could|would|will)\s+you\s+diagnose\b|\bdiagnose\s+(?:me|my|this)\b"
    r"|\bwhat'?s\s+wrong\s+with\s+(?:me|my)\b|\bwhat\s+(?:disease|illness|condition)\s+do\s+i\s+have\b"
    r"|몇\s*(?:알|정|mg|밀리|캡슐|방울)|얼마나\s*(?:먹|복용|투여|맞)|복용량|투약량|(?:약|인슐린)\S*\s*용량"
    r"|(?:약|혈압약|당뇨약|인슐린|진통제|수면제|항생제|두통약|감기약)\S*\s*(?:을|를)?\s*(?:끊어도|그만\s*먹어도|안\s*먹어도|줄여도|늘려도|두\s*배)"
    r"|같이\s*(?:먹어도|복용해도)|함께\s*(?:먹어도|복용해도)"
    r"|무슨\s*병|(?:암|당뇨|뇌졸중|골절|염증|폐렴|치매)(?:인가요|일까요|인지|이에요\?|예요\?|인\s*것\s*같나요)"
    r"|진단(?:해\s*주|을\s*해\s*주|해\s*줄\s*수)|어디가\s*아픈\s*건지"
)


@dataclass(frozen=True, slots=True)
class Vetted:
    """A sentence after the output guard: ``text`` is what may be said ('' = say nothing)."""

    text: str
    reason: Reason | None = None

    @property
    def replaced(self) -> bool:
        return self.reason is not None


class OutputGuard:
    def __init__(self, medical_advice: bool = False) -> None:
        self.medical_advice = medical_advice

    def vet(self, sentence: str, language: str) -> Vetted:
        norm = normalize(sentence)
        lang = language if language in ("en", "ko") else "en"
        reason: Reason | None = None
        if _CLAIM.search(norm):
            reason = "clinician-claim"
        elif self.medical_advice and _MEDICAL_ADVICE.search(norm):
            reason = "medical-advice"
        elif _LABEL.search(norm):
            reason = "labels-visitor"
        if reason is None:
            return Vetted(sentence)
        return Vetted(SAFE_LINES[reason][lang], reason)


def is_medical_question(text: str) -> bool:
    """A diagnosis or dosage question (which the hospital guide refers to staff)."""
    return bool(_MEDICAL_QUESTION.search(normalize(text)))
