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

from dialog.safety.canonical import canonical

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
        _THIRD_EN + r"[^.?!]{0,40}?(?:\b(?:wants?|wanted|is\s+going|was\s+going|are\s+going|"
        r"plans?|planning|threaten(?:s|ed|ing)?|tried|is\s+trying|keeps?\s+saying\s+(?:he|she|they)"
        r"\s+wants?)|'(?:s|re)\s+(?:going|planning|trying))\s+"
        r"to\s+(?:kill\s+(?:him|her|them)sel(?:f|ves)|(?:end|take)\s+(?:his|her|their)\s+"
        r"(?:own\s+)?li(?:f|v)es?|die|commit\s+suicide|hurt\s+(?:him|her|them)sel(?:f|ves))\b",
        "other",
    ),
    _r(
        "en.other.means",
        "en",
        _THIRD_EN + r"[^.?!]{0,40}?\b(?:swallowed|took|has\s+taken|overdosed\s+on)\s+"
        r"(?:a\s+(?:whole\s+)?|an\s+entire\s+|all\s+(?:of\s+)?(?:his|her|their|the)\s+|the\s+whole\s+)"
        r"(?:bottle|pack|packet|box|handful|strip|jar)s?\s+of\s+(?:\w+\s+)?"
        r"(?:pills|tablets|meds|medication|medicine|painkillers)\b",
        "other",
    ),
    # ------------------------------------------------------------- English, oneself
    _r(
        "en.harm-self",
        "en",
        rf"\b(?:kill|killing|hurt|hurting|harm|harming|cut|cutting|burn|burning|starve|starving)\s+{_SELF_EN}\b",
    ),
    _r("en.end-life", "en", r"\b(?:end|ending|take|taking)\s+(?:my\s+(?:own\s+)?life|it\s+all)\b"),
    # euphemisms made final: "ending things permanently", "checking out for good"
    _r(
        "en.end-life",
        "en",
        r"\b(?:end|ending|finish|finishing)\s+(?:it|things|everything)\b(?!\s+with)[^.?!]{0,20}?"
        r"(?:\bfor\s+good\b|\bpermanently\b|\bforever\b|\bonce\s+and\s+for\s+all\b)"
        r"|\b(?:thinking|thought|think)\s+(?:of|about)\s+ending\s+(?:it|things|everything)\b(?!\s+with)"
        r"|\bcheck(?:ing)?\s+out\s+(?:for\s+good|permanently|forever|of\s+(?:life|this\s+world))"
        r"|\bwant\s+out\s+(?:for\s+good|forever|of\s+(?:life|this\s+world))",
    ),
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
    _r(
        "en.burden",
        "en",
        r"\b(?:nobody|no\s+one|no-one)\s+(?:would|will|'d)\s+(?:even\s+)?(?:notice|miss\s+me|care)"
        r"[^.?!]{0,30}?\b(?:gone|dead|died|disappeared)\b"
        r"|\b(?:if|when|once)\s+i\s+(?:was|were|am|'m)\s+(?:gone|dead)\s+(?:for\s+good|forever)\b"
        r"|\b(?:favou?r|better|easier|relief)\b[^.?!]{0,30}?\b(?:by|if\s+i\s+(?:was|were|stopped))\s+"
        r"(?:not\s+existing|not\s+being\s+(?:here|around|alive)|gone|dead|existing)\b",
    ),
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
    _r(
        "en.means",
        "en",
        r"\b(?:if\s+i|i\s+(?:could|might|should|will|'ll|want\s+to)|(?:thinking|thought)\s+(?:of|about))"
        r"\s+(?:just\s+)?(?:step|stepping|walk|walking|jump|jumping|throw(?:ing)?\s+myself|lie|lying)"
        r"\s+(?:out\s+)?(?:in\s+front\s+of|under|onto)\s+(?:a|the)\s+(?:\w+\s+)?"
        r"(?:train|bus|truck|lorry|subway|traffic)\b",
    ),
    _r(
        "en.means",
        "en",
        r"\b(?:roof|rooftop|bridge|ledge|balcony|cliff|overpass)\b[^.?!]{0,50}?\b(?:jump|jumping)\b"
        r"|\b(?:rope|noose)\b[^.?!]{0,50}?\b(?:ready|tonight|tree|beam|which|going\s+through)\b"
        r"|\b(?:bought|got|have|buying)\s+(?:a\s+|the\s+)?(?:rope|noose)\b",
    ),
    _r(
        "en.means",
        "en",
        r"\b(?:painless|easiest|easy|quickest|quick|fastest|surest|best)\s+(?:way|ways|method|methods)\s+"
        r"to\s+(?:die|kill\s+myself|end\s+(?:it|my\s+life))\b"
        r"|\b(?:search|searching|google|googling|look(?:ing)?\s+up|research(?:ing)?)\b[^.?!]{0,30}?"
        r"\b(?:ways?|how)\s+to\s+(?:die|kill\s+myself|end\s+my\s+life)\b"
        r"|\bhow\s+(?:do\s+i|can\s+i|to)\s+(?:kill\s+myself|end\s+my\s+life|commit\s+suicide)\b",
    ),
    _r(
        "en.harm-self",
        "en",
        r"\b(?:cut|cutting|burn|burning|carve|carving|slash|slashing|scratch|scratching)\s+(?:into\s+)?"
        r"my\s+(?:arms?|wrists?|thighs?|legs?|skin|stomach)\b[^.?!]{0,40}?"
        r"\b(?:razor|blade|cigarettes?|lighter|knife|on\s+purpose|when\s+(?:i|it)|to\s+feel|again)\b",
    ),
    _r(
        "en.means",
        "en",
        r"\b(?:swallow(?:ing)?|down(?:ing)?)\s+(?:every|all\s+(?:of\s+)?(?:the|my))\s+(?:\w+\s+)?"
        r"(?:pills?|tablets?|meds|painkillers)\b"
        r"|\b(?:take|taking)\s+(?:every\s+(?:single\s+)?(?:pill|tablet)|all\s+(?:of\s+)?(?:the|my)\s+"
        r"(?:\w+\s+)?(?:pills|tablets|meds)\s+at\s+once)\b"
        r"|\bi\s+(?:just\s+)?(?:swallowed|took|'ve\s+taken|have\s+taken)\s+(?:a\s+(?:whole\s+)?|"
        r"an\s+entire\s+|all\s+(?:of\s+)?(?:my|the)\s+|the\s+whole\s+)(?:bottle|pack|packet|box|"
        r"handful|strip|jar)s?\s+of\s+(?:\w+\s+)?(?:pills|tablets|meds|medication|painkillers)\b",
    ),
    # wishing for a lethal outcome: "would this stop my heart? I want it to"
    _r(
        "en.means",
        "en",
        r"\b(?:kill\s+me|stop\s+my\s+heart|make\s+my\s+heart\s+stop|be\s+(?:fatal|lethal|deadly))\b"
        r"[^.!]{0,10}?[?.!]?\s*(?:i\s+(?:want|hope|wish)\s+(?:it|that|so)\b|good\b)",
    ),
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
        "ko.disappear",
        "ko",
        r"(?:세상에서|영영|영원히)\s*(?:\S+\s+)?(?:사라지|없어지)(?:는|고|려|ㄹ)",
    ),
    _r(
        "ko.sleep-forever",
        "ko",
        r"영원히\s*(?:잠들|눈을?\s*감)고\s*싶|잠들어서\s*(?:다시는\s*)?깨지\s*않|깨어나지\s*않았으면",
    ),
    _r(
        "ko.sleep-forever",
        "ko",
        r"눈을?\s*(?:안|못)\s*떴으면|눈을?\s*뜨지\s*(?:않았|말았)으면|다시는\s*눈을?\s*뜨고\s*싶지\s*않"
        r"|(?:안|못)\s*깼으면|깨지\s*않았으면",
    ),
    _r(
        "ko.burden",
        "ko",
        r"(?:제가|내가|나|저)\s*(?:없으면|떠나면|사라지면|없어지면|죽으면)\S*\s.{0,20}?"
        r"(?:편할|나을|행복할|좋을|홀가분)",
    ),
    _r("ko.burden", "ko", r"(?:없어지|사라지|죽)는\s*(?:게|것이|편이)\s*(?:나아|낫|편하|편해|좋)"),
    _r("ko.burden", "ko", r"(?:제가|내가)\s*죽어도\s*(?:아무도|누구도|상관|모를)"),
    _r("ko.burden", "ko", r"태어나지\s*(?:말았어야|않았으면|말걸)"),
    _r(
        "ko.means",
        "ko",
        r"(?:옥상|다리|한강|아파트|창문|건물|베란다)\S*\s*(?:에서\s*)?뛰어\s*내리|뛰어\s*내리고\s*싶",
    ),
    _r("ko.means", "ko", r"손목을?\s*(?:긋|그었|그어|그을)"),
    # cutting oneself: "긋다" on a body part
    _r(
        "ko.means",
        "ko",
        r"(?:팔|허벅지|다리|몸|살|손등|배)(?:을|를|에|에다)?\s*(?:자꾸\s*|계속\s*|또\s*|매일\s*)?"
        r"(?:긋|그어|그었|그을|그으)",
    ),
    _r("ko.means", "ko", r"뛰어\s*내(?:릴까|리려|릴래|릴\s*거|리겠|렸으면)"),
    _r("ko.means", "ko", r"목을?\s*(?:매|맬|맸|매달)"),
    # charcoal burning (번개탄/연탄), unless it is for a barbecue or heating
    _r(
        "ko.means",
        "ko",
        r"^(?!.*(?:고기|캠핑|바비큐|바베큐|구워|구이|숯불|난방|보일러)).*?"
        r"(?:번개탄|연탄)\S*\s*(?:을|를)?\s*(?:사\s*(?:놨|뒀|놓았|두었)|샀|피우|피워|피웠|준비)",
    ),
    # the Han river's water temperature is a known search before a jump
    _r(
        "ko.means",
        "ko",
        r"한강\S*\s*(?:물\s*)?(?:온도|수온)|한강(?:에|으로)?\s*(?:들어가\s*(?:보려|려|고\s*싶)|뛰어들)",
    ),
    _r("ko.means", "ko", r"(?:죽는|죽을\s*수\s*있는|자살하는|고통\s*없이\s*죽는)\s*방법"),
    _r(
        "ko.means",
        "ko",
        r"수면제를?\s*(?:모아|모으|모았)|약을?\s*(?:한꺼번에|한\s*번에|왕창|잔뜩|몽땅)\s*(?:다\s*)?(?:먹|삼키)",
    ),
    _r(
        "ko.means",
        "ko",
        r"(?:약|수면제|알약|진통제|수면\s*유도제)\S*.{0,40}?(?:한꺼번에|한\s*번에|왕창|잔뜩|몽땅|"
        r"한\s*움큼|한\s*주먹|통째로)\s*(?:다\s*)?(?:먹|삼키|삼켰|털어\s*넣)"
        r"|수면제\S*\s*(?:여러|몇|두|세|열)\s*(?:통|병|봉지)",
    ),
    _r("ko.goodbye", "ko", r"유서(?!\s*깊)"),
    _r(
        "ko.goodbye",
        "ko",
        r"마지막\s*(?:편지|메시지|문자)(?:를|도)?\s*(?:다\s*)?(?:써|남기|남겨|보냈|보내)"
        r"|^(?!.*(?:내일|이따|나중에|다음에|봐요|보자|회의|퇴근)).*?"
        r"(?:미안|용서|고마웠|사랑했)\S*[^.?!]{0,15}?먼저\s*(?:갈게|가요|갑니다|떠날게|떠나요)",
    ),
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
    # the phrase itself denied: "죽을 생각은 없어요", "자해 같은 건 안 해요"
    r"|^(?:은|는|도|이|가)?\s*(?:전혀\s*|절대\s*)?(?:없|아니)"
    r"|^\s*(?:(?:같은|그런)\s*(?:건|거|것은|것도|짓은?)\s*)?(?:전혀\s*|절대\s*)?"
    r"(?:안\s*(?:해|합니|할\s*거|할게)|하지\s*(?:는\s*)?않|할\s*생각(?:은|도)?\s*없)"
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
        norm = canonical(text)  # slang, typos and odd spacing rewritten (canonical.py)
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
