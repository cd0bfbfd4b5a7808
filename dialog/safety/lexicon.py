"""Crisis language in Korean and English: hand-written patterns, always on, no model.

The patterns follow the warning signs in suicide-prevention guides (a wish to die or to
disappear, self-harm, a plan or the means, hopelessness, feeling a burden, goodbyes) and
are written for the way people actually say them: Korean stems with any ending and with
or without spaces (죽고 싶어요 / 죽고싶다), English contractions and lower case.

Three things keep ordinary talk from raising an alarm:

* **idioms are not patterns**: 배고파 죽겠어, "this traffic is killing me", "dying to
  know" contain no pattern at all (죽겠 / killing me / dying are never matched alone);
* **negation** in the same clause: "I would never kill myself", 죽고 싶은 건 아니에요;
* for the bare nouns (suicide, self-harm, 자살, 극단적 선택, 자해), an **informational
  context** (prevention centre, hotline, news, statistics) or a **third person's past**
  ("my friend committed suicide", 친구가 극단적 선택을 해서) makes it not a crisis.

Someone *else* at risk now ("my son says he wants to kill himself", 아들이 자살하겠다고
해요) is a crisis too, with ``subject="other"`` so the protocol can say the right thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from dialog.safety.text import normalize

Subject = Literal["self", "other"]
Kind = Literal["phrase", "noun"]


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    language: str
    subject: Subject
    kind: Kind
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class LexiconHit:
    rule: str
    language: str
    subject: Subject
    start: int
    end: int
    # why this hit does not count ("negated", "informational", "third-party past"), or None
    suppressed: str | None = None


@dataclass(frozen=True, slots=True)
class LexiconResult:
    hits: tuple[LexiconHit, ...] = ()

    @property
    def active(self) -> tuple[LexiconHit, ...]:
        return tuple(h for h in self.hits if h.suppressed is None)

    @property
    def crisis(self) -> bool:
        return bool(self.active)

    @property
    def subject(self) -> Subject:
        """``self`` wins: a person at risk themselves needs the self protocol."""
        subjects = {h.subject for h in self.active}
        return "self" if "self" in subjects or not subjects else "other"

    @property
    def suppressed_only(self) -> bool:
        """Crisis words were there but each was explained away (negation, information...)."""
        return bool(self.hits) and not self.active


def _r(rule_id: str, language: str, pattern: str, subject: Subject = "self") -> _Rule:
    return _Rule(rule_id, language, subject, "phrase", re.compile(pattern))


def _noun(rule_id: str, language: str, pattern: str) -> _Rule:
    return _Rule(rule_id, language, "self", "noun", re.compile(pattern))


_SELF_EN = r"(?:my\s?self)"
_RELATIONS_EN = (
    r"son|daughter|friend|husband|wife|mom|mum|mother|dad|father|brother|sister|partner|"
    r"boyfriend|girlfriend|kid|child|grandson|granddaughter|grandfather|grandmother|grandpa|"
    r"grandma|uncle|aunt|cousin|nephew|niece|neighbou?r|colleague|coworker|classmate|teacher|"
    r"student|patient|relative|roommate"
)
_THIRD_EN = (
    r"(?:\b(?:he|she|they|him|her|his|their|someone|somebody)\b"
    rf"|\b(?:my|our|a|her|his|their)\s+(?:\w+\s+)?(?:{_RELATIONS_EN})s?\b)"
)

_RULES: tuple[_Rule, ...] = (
    # ------------------------------------------------------------- English, someone else
    _r(
        "en.other.intent",
        "en",
        _THIRD_EN + r"[^.?!]{0,40}?\b(?:wants?|wanted|is\s+going|was\s+going|plans?|planning|"
        r"threaten(?:s|ed|ing)?|tried|is\s+trying|keeps?\s+saying\s+(?:he|she|they)\s+wants?)\s+"
        r"to\s+(?:kill\s+(?:him|her|them)sel(?:f|ves)|end\s+(?:his|her|their)\s+(?:own\s+)?life|"
        r"die|commit\s+suicide|hurt\s+(?:him|her|them)sel(?:f|ves))\b",
        "other",
    ),
    # ------------------------------------------------------------- English, oneself
    _r(
        "en.harm-self",
        "en",
        rf"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|burn|burning|starve|starving)\s+{_SELF_EN}\b",
    ),
    _r("en.end-life", "en", r"\b(?:end|ending|take|taking)\s+(?:my\s+(?:own\s+)?life|it\s+all)\b"),
    _r(
        "en.want-die",
        "en",
        r"\b(?:want|wanna|wanted|wish|wishing|going|planning|ready|trying|tempted)\s+(?:to\s+)?die\b",
    ),
    _r("en.want-die", "en", r"\bwould\s+(?:rather|sooner)\s+be\s+dead\b"),
    _r(
        "en.not-live",
        "en",
        r"\b(?:don'?t|do\s+not|no\s+longer|never)\s+(?:really\s+|even\s+)?want\s+to\s+"
        r"(?:live|be\s+alive|be\s+here|exist|wake\s+up|go\s+on|keep\s+going)\b",
    ),
    _r(
        "en.not-live",
        "en",
        r"\bnot\s+sure\s+(?:if\s+|whether\s+)?i\s+(?:still\s+)?want\s+to\s+"
        r"(?:live|be\s+alive|be\s+here|exist|go\s+on|keep\s+going)\b",
    ),
    _r("en.wish-dead", "en", r"\bwish\s+i\s+(?:was|were|had\s+been)\s+(?:dead|never\s+born)\b"),
    _r("en.wish-dead", "en", r"\bwish\s+i\s+(?:could\s+)?(?:disappear|vanish|not\s+exist)\b"),
    _r("en.burden", "en", r"\bbetter\s+off\s+(?:dead|without\s+me)\b"),
    _r("en.burden", "en", r"\b(?:i'?m|i\s+am)\s+(?:just\s+)?a\s+burden\s+(?:to|on|for)\b"),
    _r(
        "en.hopeless",
        "en",
        r"\bno\s+(?:reason|point|purpose)\s+(?:for\s+me\s+)?(?:to|in)\s+(?:keep\s+|keeping\s+)?"
        r"(?:live|living|go(?:ing)?\s+on|be(?:ing)?\s+alive|stay(?:ing)?\s+alive)\b",
    ),
    _r(
        "en.hopeless",
        "en",
        r"\b(?:what'?s|what\s+is)\s+the\s+point\s+(?:of|in)\s+(?:living|life|going\s+on|being\s+alive|staying\s+alive)\b",
    ),
    _r("en.hopeless", "en", r"\bnothing\s+(?:left\s+)?to\s+live\s+for\b|\bnot\s+worth\s+living\b"),
    _r(
        "en.hopeless",
        "en",
        r"\b(?:done|finished|tired)\s+(?:with|of)\s+(?:life|living|being\s+alive)\b",
    ),
    _r("en.hopeless", "en", r"\bcan'?t\s+(?:go\s+on|keep\s+going)\b"),
    _r(
        "en.sleep-forever",
        "en",
        r"\b(?:sleep|fall\s+asleep|go\s+to\s+sleep)\s+and\s+never\s+wake\s+up\b",
    ),
    _r(
        "en.sleep-forever",
        "en",
        r"\b(?:hope\s+i|to)\s+(?:not|never|don'?t)\s+wake\s+up\b(?!\s+(?:my|the|him|her|them|anyone))",
    ),
    _r(
        "en.goodbye",
        "en",
        r"\b(?:say(?:ing)?|said)\s+goodbye\s+(?:for\s+good|forever|to\s+everyone)\b|\bgoodbye\s+(?:for\s+good|forever)\b",
    ),
    _r("en.goodbye", "en", r"\b(?:suicide|goodbye|farewell)\s+(?:note|letter)s?\b"),
    _r(
        "en.goodbye",
        "en",
        r"\bgiving\s+away\s+(?:all\s+)?my\s+(?:things|stuff|belongings|possessions)\b",
    ),
    _r(
        "en.goodbye",
        "en",
        r"\bwon'?t\s+be\s+(?:around|here|alive)\s+(?:much\s+longer|for\s+long|anymore|tomorrow|after\s+tonight)\b",
    ),
    _r(
        "en.means",
        "en",
        r"\b(?:jump|jumping|throw\s+myself)\s+(?:off|from|in\s+front\s+of)\s+(?:a|the|my)?\s*(?:\w+\s+)?(?:bridge|roof|rooftop|building|train|balcony|cliff|window|tower)\b",
    ),
    _r(
        "en.means",
        "en",
        r"\b(?:saving|saved|stockpiling|hoarding|collecting)\s+(?:up\s+)?(?:my\s+)?(?:sleeping\s+)?(?:pills|tablets|medication|meds)\b",
    ),
    _r(
        "en.means",
        "en",
        r"\bhow\s+many\b[^.?!]{0,40}\b(?:pills|tablets)\b[^.?!]{0,40}\b(?:die|dead|kill|fatal|lethal|not\s+wake\s+up|never\s+wake\s+up)\b",
    ),
    _r("en.means", "en", r"\blethal\s+dose\b|\bhang(?:ing)?\s+myself\b"),
    _noun("en.suicide", "en", r"\bsuicid(?:e|al)\b"),
    _noun("en.self-harm", "en", r"\bself[-\s]?harm(?:ing)?\b"),
    _noun("en.overdose", "en", r"\b(?:overdos(?:e|ed|ing))\b"),
    # ------------------------------------------------------------- Korean, someone else
    _r(
        "ko.other.intent",
        "ko",
        r"(?:친구|아들|딸|남편|아내|엄마|아빠|어머니|아버지|동생|언니|누나|형|오빠|할머니|할아버지|"
        r"손자|손녀|애|아이|그|그녀|그 사람|환자)\S*\s.{0,30}?"
        r"(?:죽고\s*싶다고|자살\s*하겠다고|자살\s*한다고|자살\s*할\s*거라고|목숨을?\s*끊겠다고|"
        r"극단적(?:인)?\s*선택을?\s*하겠다고|죽어\s*버리겠다고|뛰어\s*내리겠다고|사라지고\s*싶다고)",
        "other",
    ),
    # ------------------------------------------------------------- Korean, oneself
    _r(
        "ko.want-die",
        "ko",
        r"죽고\s*싶|죽어\s*버리고\s*싶|죽어\s*버릴까|죽어\s*버리겠|죽었으면\s*좋겠",
    ),
    _r(
        "ko.want-die",
        "ko",
        r"죽을\s*생각|죽으려고|죽으려\s*고|죽는\s*게\s*(?:나아|낫|편하)|죽어야\s*(?:겠|할까|하나)",
    ),
    _r(
        "ko.end-life",
        "ko",
        r"목숨을?\s*(?:끊|버리)|삶을\s*(?:끝내|포기하)|인생을\s*끝내|모든\s*걸\s*끝내고\s*싶|다\s*끝내\s*버리고\s*싶",
    ),
    _r(
        "ko.not-live",
        "ko",
        r"살기\s*(?:가\s*)?싫|살고\s*싶지\s*(?:가\s*)?않|그만\s*살고\s*싶|더\s*(?:이상|는)\s*살\s*(?:수가?\s*없|이유|자신이?\s*없)",
    ),
    _r(
        "ko.hopeless",
        "ko",
        r"살아야\s*(?:할|하는)\s*이유(?:를|가)?\s*(?:모르|없)|살\s*이유가\s*없|사는\s*게\s*(?:아무\s*)?(?:의미|희망)(?:가|도)?\s*없|살아서\s*뭐\s*해|살\s*가치가\s*없",
    ),
    _r(
        "ko.disappear",
        "ko",
        r"(?:사라지|없어지|사라져\s*버리)고\s*싶|세상을\s*떠나고\s*싶|이\s*세상에\s*없었으면",
    ),
    _r(
        "ko.sleep-forever",
        "ko",
        r"영원히\s*(?:잠들|눈을?\s*감)고\s*싶|잠들어서\s*(?:다시는\s*)?깨지\s*않|깨어나지\s*않았으면",
    ),
    _r("ko.burden", "ko", r"(?:제가|내가|나)\s*없으면\S*\s.{0,20}?(?:편할|나을|행복할|좋을)"),
    _r("ko.burden", "ko", r"(?:제가|내가)\s*죽어도\s*(?:아무도|누구도|상관|모를)"),
    _r("ko.burden", "ko", r"태어나지\s*(?:말았어야|않았으면|말걸)"),
    _r(
        "ko.means",
        "ko",
        r"(?:옥상|다리|한강|아파트|창문|건물|베란다)\S*\s*(?:에서\s*)?뛰어\s*내리|뛰어\s*내리고\s*싶",
    ),
    _r("ko.means", "ko", r"손목을?\s*(?:긋|그었|그어|그을)"),
    _r(
        "ko.means",
        "ko",
        r"수면제를?\s*(?:모아|모으|모았)|약을?\s*(?:한꺼번에|한\s*번에|왕창|잔뜩|몽땅)\s*(?:다\s*)?(?:먹|삼키)",
    ),
    _r("ko.goodbye", "ko", r"유서(?!\s*깊)"),
    _noun("ko.suicide", "ko", r"자살"),
    _noun("ko.suicide", "ko", r"극단적(?:인)?\s*선택"),
    _noun("ko.self-harm", "ko", r"자해"),
)

# -------------------------------------------------------------------- suppressors
_NEGATION_EN = re.compile(
    r"\b(?:not|never|no|wouldn'?t|won'?t|don'?t|didn'?t|isn'?t|ain'?t|nor)\b|n't\b"
)
_NEGATION_KO = re.compile(
    r"^\S{0,4}\s*(?:지\s*(?:는\s*)?않|진\s*않|(?:건|것은|게|것도)\s*아니|"
    r"(?:생각|마음|계획|일|적)(?:은|도|이)?\s*(?:전혀\s*|절대\s*)?없)"
)
_INFORMATIONAL = re.compile(
    r"\b(?:prevention|preventing|hotline|helpline|lifeline|cent(?:er|re)|department|dept|"
    r"hours|leaflet|brochure|statistics|stats|report|research|study|article|news|documentary|"
    r"movie|film|book|novel|class|course|training|awareness|support\s+group|program(?:me)?|"
    r"campaign|rates?)\b"
    r"|예방|센터|상담\s*전화|전화번호|뉴스|기사|보도|통계|교육|보고서|캠페인|방지|영화|드라마|다큐"
)
_THIRD_PAST_EN = re.compile(
    _THIRD_EN + r"[^.?!]{0,40}?\b(?:committed|died\s+(?:by|of|from)|lost\s+\w+\s+to|"
    r"attempted|took\s+(?:his|her|their)\s+own\s+life)\b"
)
_THIRD_KO = re.compile(
    r"(?:친구|아들|딸|남편|아내|엄마|아빠|어머니|아버지|동생|언니|누나|형|오빠|이웃|동료|가족|"
    r"선배|후배|배우|가수|연예인|사람|그|그녀)\S*(?:가|이|께서|는|은)\s"
)
_PAST_KO = re.compile(r"^\S{0,3}\s*(?:을|를)?\s*(?:했|해서|한\s|하셨|했던|했다)")


class CrisisLexicon:
    """``check(text)`` -> :class:`LexiconResult`; pure, fast (well under a millisecond)."""

    def __init__(self, rules: tuple[_Rule, ...] = _RULES) -> None:
        self.rules = rules

    def check(self, text: str) -> LexiconResult:
        norm = normalize(text)
        hits: list[LexiconHit] = []
        taken: list[tuple[int, int]] = []
        for rule in self.rules:
            for match in rule.pattern.finditer(norm):
                start, end = match.span()
                if any(start < e and s < end for s, e in taken):
                    continue  # an earlier (more specific) rule already covers these words
                taken.append((start, end))
                why = self._suppressed(rule, norm, start, end)
                hits.append(LexiconHit(rule.id, rule.language, rule.subject, start, end, why))
        return LexiconResult(tuple(hits))

    # ----------------------------------------------------------------- suppression
    @staticmethod
    def _clause_before(norm: str, start: int) -> str:
        before = norm[:start]
        cut = max(before.rfind(c) for c in ".!?;,\n")
        return before[cut + 1 :]

    def _suppressed(self, rule: _Rule, norm: str, start: int, end: int) -> str | None:
        before = self._clause_before(norm, start)
        if rule.language == "en":
            # "I would never kill myself": a negation among the last three words before
            last_words = " ".join(before.split()[-3:])
            if _NEGATION_EN.search(last_words):
                return "negated"
        elif _NEGATION_KO.match(norm[end : end + 16]):
            return "negated"
        if rule.kind != "noun":
            return None
        sentence = _sentence_around(norm, start, end)
        if _INFORMATIONAL.search(sentence) and not _first_person_intent(sentence):
            return "informational"
        if rule.language == "en" and _THIRD_PAST_EN.search(sentence):
            return "third-party past"
        if (
            rule.language == "ko"
            and _THIRD_KO.search(norm[:start])
            and _PAST_KO.match(norm[end : end + 12])
        ):
            return "third-party past"
        return None


_FIRST_PERSON_INTENT = re.compile(
    r"\b(?:i'?m|i\s+am|i\s+feel|i'?ve\s+been|i\s+keep)\s+(?:feeling\s+|so\s+|really\s+)?suicidal"
    r"|\b(?:i'?m|i\s+am|i'?ve\s+been|i\s+keep)\s+(?:thinking|planning)\s+(?:about|of)\s+suicide"
    r"|\bi\s+(?:want|wanna|plan|am\s+going)\s+to\s+(?:commit\s+suicide|kill\s+myself|die)"
    r"|자살\s*(?:하고\s*싶|할까|하려|생각이\s*(?:들|나))"
)


def _first_person_intent(sentence: str) -> bool:
    """'I feel suicidal, where is the prevention centre?' stays a crisis."""
    return bool(_FIRST_PERSON_INTENT.search(sentence))


def _sentence_around(norm: str, start: int, end: int) -> str:
    left = max(norm.rfind(c, 0, start) for c in ".!?\n") + 1
    rights = [i for i in (norm.find(c, end) for c in ".!?\n") if i >= 0]
    return norm[left : min(rights) if rights else len(norm)]
