"""Korean rules of :mod:`speech.normalize`.

Korean reads numbers two ways: Sino-Korean (일, 이, 삼) for dates, minutes, money, floors,
measures and "번" (number 3 -> 삼번), and native Korean (한, 두, 세) before counters of
things, people and hours: 2시 -> 두시, 3개 -> 세 개, 20살 -> 스무살. Natives exist up to 99,
so 100개 is 백개, and hours use them up to 12 only (13시 -> 십삼시).

Phone-like numbers are read digit by digit with 공 for zero (119 -> 일일구,
010-1234-5678 -> 공일공 일이삼사 오육칠팔), like English.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from speech.normalize_en import expand_abbreviations
from speech.number_words import ko_decimal_digits, ko_digits, ko_native, ko_sino

# counters read with native numbers; longer names first so 시간 is not read as 시
NATIVE_COUNTERS = (
    *("시간", "번째", "마리", "사람", "그릇", "송이", "켤레", "군데", "가지"),
    *("시", "개", "명", "살", "잔", "권", "달", "곳", "병", "장", "대", "벌", "통"),
)
_HOUR_COUNTERS = frozenset({"시"})  # natives only for 1-12 here

_PHONE_WORDS = (
    "전화|번호|상담|핫라인|긴급|응급|구급|경찰|소방|신고|문의|콜센터|연락|call|hotline|tel"
)
_PHONE_CONTEXT = re.compile(_PHONE_WORDS, re.IGNORECASE)
_PHONE_DASHED = re.compile(r"(?<![\d.\-])\d{2,4}(?:-\d{3,4}){1,2}(?!\d)(?![.:\-]\d)")
_PHONE_INTERNATIONAL = re.compile(r"\+\d{1,3}(?:[ -]?\d{1,4}){2,4}(?!\d)")
_LEADING_ZERO = re.compile(r"(?<![\d.,])0\d{2,}(?!\d)(?![.,]\d)")
_SHORT_NUMBER = re.compile(r"(?<![\d.,$€£₩])\d{3,4}(?!\d)(?![.,:]\d)")

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)")
_YEAR_MONTH_DAY = re.compile(r"(?<!\d)(\d{4})\s?년|(?<!\d)(\d{1,2})\s?월|(?<!\d)(\d{1,2})\s?일")
_TIME = re.compile(
    r"(?<!\d)(?:(오전|오후)\s?)?(\d{1,2}):(\d{2})(?::\d{2})?"
    r"(?:\s?(AM|PM|am|pm|A\.M\.|P\.M\.))?"
)
_MONEY = re.compile(
    r"([$€£¥₩])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?|(\d{1,3}(?:,\d{3})+|\d+)\s?원"
)
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s?%")
_UNIT_WORDS = {
    "mg": "밀리그램",
    "g": "그램",
    "kg": "킬로그램",
    "ml": "밀리리터",
    "l": "리터",
    "mm": "밀리미터",
    "cm": "센티미터",
    "m": "미터",
    "km": "킬로미터",
    "km/h": "킬로미터",
    "°c": "도",
    "℃": "도",
    "°": "도",
    "min": "분",
    "kb": "킬로바이트",
    "mb": "메가바이트",
    "gb": "기가바이트",
}
_UNIT = re.compile(
    r"(-?\d+(?:\.\d+)?)\s?("
    + "|".join(re.escape(u) for u in sorted(_UNIT_WORDS, key=len, reverse=True))
    + r")(?![A-Za-z/])",
    re.IGNORECASE,
)
_BASEMENT = re.compile(r"(?<![A-Za-z])B(\d{1,2})(\s?층)?")
_BASEMENT_WORD = re.compile(r"지하\s?(\d{1,2})\s?층")
_COUNTER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})*)(\s?)(" + "|".join(NATIVE_COUNTERS) + ")")
_RANGE = re.compile(r"(?<![\d.])(\d+)\s?[~\-–]\s?(\d+)(?![\d.])")
_DECIMAL = re.compile(r"(?<![\d.])(-?)(\d+)\.(\d+)(?![\d.])")
_NUMBER = re.compile(r"(?<![\d.])(-?)(\d{1,3}(?:,\d{3})+|\d+)(?!\d)")
_SYMBOL_WORDS = {"+": " 더하기 ", "=": " 는 ", "&": " 앤 "}
_SYMBOLS = re.compile(r"(?<=\s)([+=&])(?=\s)")
_MONTH_NAMES = {6: "유", 10: "시"}  # the two months said without a final consonant


def _number(raw: str) -> int:
    return int(raw.replace(",", ""))


def _sino_decimal(raw: str) -> str:
    sign = "마이너스 " if raw.startswith("-") else ""
    whole, _, fraction = raw.lstrip("-").partition(".")
    spoken = ko_sino(_number(whole))
    return sign + (f"{spoken} 점 {ko_decimal_digits(fraction)}" if fraction else spoken)


def _month(month: int) -> str:
    return _MONTH_NAMES.get(month, ko_sino(month)) + "월"


def _date(match: re.Match[str]) -> str:
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return match.group(0)
    return f"{ko_sino(year)}년 {_month(month)} {ko_sino(day)}일"


def _date_part(match: re.Match[str]) -> str:
    year, month, day = match.groups()
    if year is not None:
        return f"{ko_sino(int(year))}년"
    if month is not None:
        return _month(int(month)) if 1 <= int(month) <= 12 else f"{ko_sino(int(month))}월"
    return f"{ko_sino(int(day))}일"


def _time(match: re.Match[str]) -> str:
    period, hour_raw, minute_raw, suffix = match.groups()
    hour, minute = int(hour_raw), int(minute_raw)
    if hour > 23 or minute > 59:
        return match.group(0)
    if suffix:
        period = "오전" if suffix.lower().startswith("a") else "오후"
    elif period is None and hour > 12:
        period, hour = "오후", hour - 12
    if period is not None and hour > 12:
        hour -= 12
    spoken = f"{ko_native(hour, counter=True)}시" if 1 <= hour <= 12 else f"{ko_sino(hour)}시"
    if minute:
        spoken += f" {ko_sino(minute)}분"
    return f"{period} {spoken}" if period else spoken


_CURRENCY = {"$": "달러", "€": "유로", "£": "파운드", "¥": "엔", "₩": "원"}
_CENTS = {"$": "센트", "€": "센트", "£": "펜스"}


def _money(match: re.Match[str]) -> str:
    symbol, whole, cents, won = match.groups()
    if won is not None:
        return f"{ko_sino(_number(won))}원"
    gap = "" if symbol == "₩" else " "  # 원 is written onto the number, like 5,000원
    spoken = f"{ko_sino(_number(whole))}{gap}{_CURRENCY[symbol]}"
    if cents and int(cents) and symbol in _CENTS:
        spoken += f" {ko_sino(int(cents.ljust(2, '0')))} {_CENTS[symbol]}"
    return spoken


def _counter(match: re.Match[str]) -> str:
    raw, space, counter = match.groups()
    value = _number(raw)
    limit = 12 if counter in _HOUR_COUNTERS else 99
    if 1 <= value <= limit:
        return f"{ko_native(value, counter=True)}{space}{counter}"
    return f"{ko_sino(value)}{space}{counter}"


def _phone_numbers(text: str) -> str:
    text = _PHONE_INTERNATIONAL.sub(lambda m: _digit_groups(m.group(0)), text)
    text = _PHONE_DASHED.sub(_dashed, text)
    text = _LEADING_ZERO.sub(lambda m: ko_digits(m.group(0)), text)

    def short(match: re.Match[str]) -> str:
        near = text[max(0, match.start() - 12) : match.end() + 12]
        if _PHONE_CONTEXT.search(near) is None or text[match.end() :].startswith("년"):
            return match.group(0)
        return ko_digits(match.group(0))

    return _SHORT_NUMBER.sub(short, text)


def _dashed(match: re.Match[str]) -> str:
    groups = match.group(0).split("-")
    if len(groups) == 2 and (len(groups[0]) < 3 or len(groups[1]) != 4):
        return match.group(0)
    if len(groups) == 2 and all(1100 <= int(g) <= 2099 for g in groups):
        return match.group(0)  # a range of years
    return _digit_groups(match.group(0))


def _digit_groups(raw: str) -> str:
    groups = [g for g in re.split(r"[^\d]+", raw) if g]
    prefix = "플러스 " if raw.startswith("+") else ""
    return prefix + ", ".join(ko_digits(g) for g in groups)


Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

_DATES_AND_TIMES: tuple[Rule, ...] = (
    (_ISO_DATE, _date),
    (_TIME, _time),
)

_RULES: tuple[Rule, ...] = (
    (_YEAR_MONTH_DAY, _date_part),
    (_MONEY, _money),
    (_PERCENT, lambda m: f"{_sino_decimal(m.group(1))} 퍼센트"),
    (_UNIT, lambda m: f"{_sino_decimal(m.group(1))} {_UNIT_WORDS[m.group(2).lower()]}"),
    (_BASEMENT, lambda m: f"지하 {ko_sino(int(m.group(1)))}층"),
    (_BASEMENT_WORD, lambda m: f"지하 {ko_sino(int(m.group(1)))}층"),
    (_RANGE, lambda m: f"{m.group(1)}에서 {m.group(2)}"),
    (_COUNTER, _counter),
    (_DECIMAL, lambda m: _sino_decimal(f"{m.group(1)}{m.group(2)}.{m.group(3)}")),
    (_NUMBER, lambda m: ("마이너스 " if m.group(1) else "") + ko_sino(_number(m.group(2)))),
)


def normalize(text: str) -> str:
    text = expand_abbreviations(text)  # English words inside Korean text ("Dr. Kim")
    text = _SYMBOLS.sub(lambda m: _SYMBOL_WORDS[m.group(1)], text)
    for rule, replacement in _DATES_AND_TIMES:
        text = rule.sub(replacement, text)
    text = _phone_numbers(text)
    for rule, replacement in _RULES:
        text = rule.sub(replacement, text)
    return text
