"""English rules of :mod:`speech.normalize`: numbers, times, dates, money, units, abbreviations.

Order matters: the specific patterns (phone numbers, dates, times, money, units) run before
the general number rule, so "3:30" is a time and never "three : thirty".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from speech.number_words import en_cardinal, en_digits, en_ordinal, en_year

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_MONTH_INDEX = {name.lower(): i for i, name in enumerate(_MONTHS)} | {
    name[:3].lower(): i for i, name in enumerate(_MONTHS)
}

# a 3-4 digit number near one of these words is a phone number: "call 109", "119 hotline"
PHONE_WORDS = (
    "call|calls|calling|dial|phone|telephone|number|hotline|helpline|line|text|tel|fax|"
    "emergency|crisis|contact|reach|ambulance|police|fire"
)
_PHONE_CONTEXT = re.compile(rf"\b({PHONE_WORDS})\b", re.IGNORECASE)
_PHONE_DASHED = re.compile(r"(?<![\d.\-])\d{2,4}(?:-\d{3,4}){1,2}\b(?![.:\-]\d)")
_PHONE_INTERNATIONAL = re.compile(r"\+\d{1,3}(?:[ -]?\(?\d{1,4}\)?){2,4}\b")
_PHONE_GROUPED = re.compile(r"\(\d{2,4}\)\s?\d{3,4}[- ]\d{4}\b")
_LEADING_ZERO = re.compile(r"(?<![\w.,])0\d{2,}\b(?![.,]\d)")
_SHORT_NUMBER = re.compile(r"(?<![\w.,$€£₩])\d{3,4}\b(?![.,:]\d)")

_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_US_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_MONTH_DAY = re.compile(
    r"\b(" + "|".join(sorted(_MONTH_INDEX, key=len, reverse=True)) + r")\.?\s+(\d{1,2})"
    r"(?:st|nd|rd|th)?\b(,?\s+(\d{4})\b)?",
    re.IGNORECASE,
)
_TIME = re.compile(
    r"\b(\d{1,2}):(\d{2})(?::\d{2})?\s*(a\.?m\.?|p\.?m\.?)?(?!\w)(?!:\d)|"
    r"\b(\d{1,2})\s*(a\.?m\.?|p\.?m\.?)(?!\w)",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"([$€£¥₩])\s?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?(\s?(?:million|billion|thousand))?"
)
_WON = re.compile(r"(\d{1,3}(?:,\d{3})+|\d+)\s?(?:won|KRW|원)\b", re.IGNORECASE)
_PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)\s?%")
_UNIT_WORDS = {
    "mg": ("milligram", "milligrams"),
    "g": ("gram", "grams"),
    "kg": ("kilogram", "kilograms"),
    "ml": ("milliliter", "milliliters"),
    "l": ("liter", "liters"),
    "mm": ("millimeter", "millimeters"),
    "cm": ("centimeter", "centimeters"),
    "m": ("meter", "meters"),
    "km": ("kilometer", "kilometers"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "mph": ("mile per hour", "miles per hour"),
    "°c": ("degree Celsius", "degrees Celsius"),
    "°f": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "sec": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
    "kb": ("kilobyte", "kilobytes"),
    "mb": ("megabyte", "megabytes"),
    "gb": ("gigabyte", "gigabytes"),
}
_UNIT = re.compile(
    r"(-?\d+(?:\.\d+)?)\s?("
    + "|".join(re.escape(u) for u in sorted(_UNIT_WORDS, key=len, reverse=True))
    + r")(?![\w/])",
    re.IGNORECASE,
)
_BASEMENT = re.compile(r"\bB(\d{1,2})\b(?:\s*(floor|level))?", re.IGNORECASE)
_FLOOR = re.compile(r"\b(\d{1,2})F\b")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.IGNORECASE)
_RANGE = re.compile(r"\b(\d+)\s?[-–~]\s?(\d+)\b")
_DECIMAL = re.compile(r"(?<![\d.])(-?)(\d+)\.(\d+)(?![\d.])")
_NUMBER = re.compile(r"(?<![\w.])(-?)(\d{1,3}(?:,\d{3})+|\d+)(?![\d])")
_NUMBER_SIGN = re.compile(r"#\s?(\d+)")

_SYMBOL_WORDS = {"+": " plus ", "=": " equals ", "&": " and "}
_SYMBOLS = re.compile(r"(?<=\s)([+=&])(?=\s)")

_ABBREVIATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), spoken)
    for pattern, spoken, flags in (
        (r"\be\.g\.(?=\W|$)", "for example", re.IGNORECASE),
        (r"\bi\.e\.(?=\W|$)", "that is", re.IGNORECASE),
        (r"\betc\.(?=\W|$)", "et cetera", re.IGNORECASE),
        (r"\bvs\.?(?=\s)", "versus", re.IGNORECASE),
        (r"\bapprox\.(?=\W|$)", "approximately", re.IGNORECASE),
        (r"\bDr\.(?=\s)", "Doctor", 0),
        (r"\bMr\.(?=\s)", "Mister", 0),
        (r"\bMrs\.(?=\s)", "Missus", 0),
        (r"\bMs\.(?=\s)", "Miz", 0),
        (r"\bProf\.(?=\s)", "Professor", 0),
        (r"\b([A-Z][a-z]+) St\.?(?=\W|$)", r"\1 Street", 0),
        (r"\bSt\.(?=\s+[A-Z])", "Saint", 0),
        (r"\b([A-Z][a-z]+) Ave\.?(?=\W|$)", r"\1 Avenue", 0),
        (r"\b([A-Z][a-z]+) Rd\.?(?=\W|$)", r"\1 Road", 0),
        (r"\bRm\.?\s(?=\d)", "room ", 0),
        (r"\bext\.\s?(?=\d)", "extension ", re.IGNORECASE),
        (r"\bNo\.\s?(?=\d)", "number ", 0),
        (r"\bDept\.(?=\W|$)", "Department", 0),
        (r"\bhosp\.(?=\W|$)", "hospital", re.IGNORECASE),
        (r"\bASAP\b", "as soon as possible", 0),
        (r"\bFAQ\b", "F A Q", 0),
        (r"(?<=\w)@(?=\w)", " at ", 0),
    )
)


def _number(raw: str) -> int:
    return int(raw.replace(",", ""))


def _plural(value: str, words: tuple[str, str]) -> str:
    return words[0] if value in ("1", "-1", "1.0") else words[1]


def _spell(raw: str) -> str:
    """A number as written ("1,250", "3.5", "-2") as words."""
    sign = "minus " if raw.startswith("-") else ""
    raw = raw.lstrip("-")
    whole, _, fraction = raw.partition(".")
    words = en_cardinal(_number(whole))
    if fraction:
        words += " point " + en_digits(fraction)
    return sign + words


def _phone_numbers(text: str) -> str:
    text = _PHONE_INTERNATIONAL.sub(lambda m: _digits_with_pauses(m.group(0)), text)
    text = _PHONE_GROUPED.sub(lambda m: _digits_with_pauses(m.group(0)), text)
    text = _PHONE_DASHED.sub(_dashed, text)
    text = _LEADING_ZERO.sub(lambda m: en_digits(m.group(0)), text)

    def short(match: re.Match[str]) -> str:
        before = " ".join(text[max(0, match.start() - 40) : match.start()].split()[-3:])
        after = text[match.end() : match.end() + 20]
        near_before = _PHONE_CONTEXT.search(before) is not None
        near = near_before or _PHONE_CONTEXT.search(after) is not None
        # "in 1998, call us" is a year: a year-like number needs the phone word before it
        if not near or (1100 <= int(match.group(0)) <= 2099 and not near_before):
            return match.group(0)
        return en_digits(match.group(0))

    return _SHORT_NUMBER.sub(short, text)


def _dashed(match: re.Match[str]) -> str:
    groups = match.group(0).split("-")
    # two groups are a number only as 3-4 digits then 4 ("1577-0199", "555-1234"), and a
    # pair of years ("2025-2026") is a range
    if len(groups) == 2:
        if len(groups[0]) < 3 or len(groups[1]) != 4:
            return match.group(0)
        if all(1100 <= int(g) <= 2099 for g in groups):
            return match.group(0)
    return _digits_with_pauses(match.group(0))


def _digits_with_pauses(raw: str) -> str:
    groups = [g for g in re.split(r"[^\d]+", raw) if g]
    prefix = "plus " if raw.lstrip().startswith("+") else ""
    # a comma between groups makes every engine pause as a person reading a number does
    return prefix + ", ".join(en_digits(g) for g in groups)


def _date(year: int, month: int, day: int) -> str:
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return f"{en_cardinal(year)} {en_cardinal(month)} {en_cardinal(day)}"
    return f"{_MONTHS[month - 1]} {en_ordinal(day)}, {en_year(year)}"


def _month_day(match: re.Match[str]) -> str:
    month = _MONTHS[_MONTH_INDEX[match.group(1).lower()]]
    day = int(match.group(2))
    if not 1 <= day <= 31:
        return match.group(0)
    year = f", {en_year(int(match.group(4)))}" if match.group(4) else ""
    return f"{month} {en_ordinal(day)}{year}"


def _time(match: re.Match[str]) -> str:
    if match.group(4) is not None:  # "9am", "5 p.m."
        hour, minute, period = int(match.group(4)), 0, match.group(5)
        if not 1 <= hour <= 12:
            return match.group(0)
        return f"{en_cardinal(hour)} {_period(period)}{_full_stop(match)}"
    hour, minute, period = int(match.group(1)), int(match.group(2)), match.group(3)
    if hour > 23 or minute > 59:
        return match.group(0)
    if period is None and hour > 12:  # 18:00 is said "six P M"
        hour, period = hour - 12, "pm"
    if minute == 0:
        spoken = f"{en_cardinal(hour)} o'clock" if not period else en_cardinal(hour)
        if hour == 0:
            spoken = "midnight" if not period else "twelve"
    elif minute < 10:
        spoken = f"{en_cardinal(hour)} oh {en_cardinal(minute)}"
    else:
        spoken = f"{en_cardinal(hour)} {en_cardinal(minute)}"
    return f"{spoken} {_period(period)}{_full_stop(match)}" if period else spoken


def _period(raw: str) -> str:
    return "A M" if raw.lower().startswith("a") else "P M"


def _full_stop(match: re.Match[str]) -> str:
    """ "5 p.m." ending a sentence carries the sentence's full stop too: keep it."""
    rest = match.string[match.end() :]
    if match.group(0).endswith(".") and (not rest.strip() or re.match(r"\s+[A-Z]", rest)):
        return "."
    return ""


_CURRENCY = {"$": ("dollar", "dollars"), "€": ("euro", "euros"), "£": ("pound", "pounds"),
             "¥": ("yen", "yen"), "₩": ("won", "won")}  # fmt: skip
_CENTS = {"$": ("cent", "cents"), "€": ("cent", "cents"), "£": ("penny", "pence")}


def _money(match: re.Match[str]) -> str:
    symbol, whole, cents, scale = match.groups()
    names = _CURRENCY[symbol]
    if scale:  # "$2 million": the scale word goes before the currency
        return f"{en_cardinal(_number(whole))} {scale.strip()} {names[1]}"
    spoken = f"{en_cardinal(_number(whole))} {_plural(whole.replace(',', ''), names)}"
    if cents and int(cents) and symbol in _CENTS:
        value = int(cents.ljust(2, "0"))
        spoken += f" and {en_cardinal(value)} {_plural(str(value), _CENTS[symbol])}"
    return spoken


def _unit(match: re.Match[str]) -> str:
    value, unit = match.group(1), match.group(2).lower()
    if unit == "m" and match.group(2) == "M":
        return match.group(0)  # "5M" is five million, not meters; leave it to the numbers
    return f"{_spell(value)} {_plural(value, _UNIT_WORDS[unit])}"


def _number_word(match: re.Match[str]) -> str:
    sign, raw = match.groups()
    value = _number(raw)
    # a bare four-digit number between 1100 and 2099 is most often a year
    if not sign and "," not in raw and 1100 <= value <= 2099:
        return en_year(value)
    return ("minus " if sign else "") + en_cardinal(value)


Rule = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]

# before phone numbers: a date's dashes and a time's colon are not a phone number's
_DATES_AND_TIMES: tuple[Rule, ...] = (
    (_ISO_DATE, lambda m: _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))),
    (_US_DATE, lambda m: _date(int(m.group(3)), int(m.group(1)), int(m.group(2)))),
    (_MONTH_DAY, _month_day),
    (_TIME, _time),
)

_RULES: tuple[Rule, ...] = (
    (_MONEY, _money),
    (_WON, lambda m: f"{en_cardinal(_number(m.group(1)))} won"),
    (_PERCENT, lambda m: f"{_spell(m.group(1))} percent"),
    (_UNIT, _unit),
    (
        _BASEMENT,
        lambda m: (
            f"basement {en_cardinal(int(m.group(1)))}" + (f" {m.group(2)}" if m.group(2) else "")
        ),
    ),
    (_FLOOR, lambda m: f"{en_ordinal(int(m.group(1)))} floor"),
    (_ORDINAL, lambda m: en_ordinal(int(m.group(1)))),
    (_NUMBER_SIGN, lambda m: f"number {en_cardinal(int(m.group(1)))}"),
    (_RANGE, lambda m: f"{m.group(1)} to {m.group(2)}"),
    (_DECIMAL, lambda m: ("minus " if m.group(1) else "") + _spell(f"{m.group(2)}.{m.group(3)}")),
    (_NUMBER, _number_word),
)


def expand_abbreviations(text: str) -> str:
    for pattern, spoken in _ABBREVIATIONS:
        text = pattern.sub(spoken, text)
    return text


def normalize(text: str) -> str:
    text = expand_abbreviations(text)
    text = _SYMBOLS.sub(lambda m: _SYMBOL_WORDS[m.group(1)], text)
    for rule, replacement in _DATES_AND_TIMES:
        text = rule.sub(replacement, text)
    text = _phone_numbers(text)
    for rule, replacement in _RULES:
        text = rule.sub(replacement, text)
    return text
