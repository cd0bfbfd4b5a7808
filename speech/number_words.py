"""Numbers as words: English cardinals, ordinals and years; Korean Sino and native numbers.

Pure functions on ints (and digit strings), used by :mod:`speech.normalize`.
"""

from __future__ import annotations

_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _en_below_thousand(n: int) -> str:
    words: list[str] = []
    if n >= 100:
        words += [_EN_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        tens, ones = divmod(n, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    elif n or not words:
        words.append(_EN_ONES[n])
    return " ".join(words)


def en_cardinal(n: int) -> str:
    """1234 -> 'one thousand two hundred thirty-four'; negatives say 'minus'."""
    if n < 0:
        return "minus " + en_cardinal(-n)
    if n < 1000:
        return _en_below_thousand(n)
    words: list[str] = []
    for scale, name in _EN_SCALES:
        if n >= scale:
            words += [en_cardinal(n // scale), name]
            n %= scale
    if n:
        words.append(_en_below_thousand(n))
    return " ".join(words)


def en_ordinal(n: int) -> str:
    """21 -> 'twenty-first', 100 -> 'one hundredth'."""
    words = en_cardinal(n)
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    head, last = words[:cut], words[cut:]
    if last in _EN_ORDINAL_WORDS:
        last = _EN_ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + last


def en_year(n: int) -> str:
    """2026 -> 'twenty twenty-six', 1905 -> 'nineteen oh five', 2005 -> 'two thousand five'."""
    if not 1100 <= n <= 2099 or 2000 <= n <= 2009:
        return en_cardinal(n)
    high, low = divmod(n, 100)
    if low == 0:
        return f"{en_cardinal(high)} hundred"
    if low < 10:
        return f"{en_cardinal(high)} oh {_EN_ONES[low]}"
    return f"{en_cardinal(high)} {en_cardinal(low)}"


def en_digits(digits: str) -> str:
    """'109' -> 'one zero nine' (phone numbers, codes)."""
    return " ".join(_EN_DIGITS[int(d)] for d in digits if d.isdigit())


# ------------------------------------------------------------------ Korean

_KO_DIGITS = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
_KO_PHONE_DIGITS = [
    "공",
    "일",
    "이",
    "삼",
    "사",
    "오",
    "육",
    "칠",
    "팔",
    "구",
]  # zero is 공 in phone numbers
_KO_SMALL_UNITS = ((1000, "천"), (100, "백"), (10, "십"))
_KO_BIG_UNITS = ((10**12, "조"), (10**8, "억"), (10**4, "만"))


def _ko_below_10000(n: int) -> str:
    out = ""
    for value, name in _KO_SMALL_UNITS:
        digit, n = divmod(n, value)
        if digit:
            # 일 is dropped before 십, 백, 천: 십, 백오, 천이백
            out += ("" if digit == 1 else _KO_DIGITS[digit]) + name
    if n:
        out += _KO_DIGITS[n]
    return out


def ko_sino(n: int) -> str:
    """Sino-Korean: 3 -> 삼, 1234 -> 천이백삼십사, 10000 -> 만, 0 -> 영."""
    if n < 0:
        return "마이너스 " + ko_sino(-n)
    if n == 0:
        return _KO_DIGITS[0]
    out = ""
    for value, name in _KO_BIG_UNITS:
        group, n = divmod(n, value)
        if group:
            # 만 alone is said without 일 (만, 만 오천); 억 and 조 keep it (일억)
            out += ("" if group == 1 and name == "만" else ko_sino(group)) + name
    return out + (_ko_below_10000(n) if n else "")


_KO_NATIVE_ONES = ["_", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉"]
_KO_NATIVE_COUNTER_ONES = ["_", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉"]
_KO_NATIVE_TENS = ["_", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔"]


def ko_native(n: int, *, counter: bool = False) -> str:
    """Native Korean (1-99): 2 -> 둘, or before a counter (``counter=True``) 두: 두 시, 스무
    살. Outside 1-99 natives are not used; Sino-Korean is returned instead."""
    if not 1 <= n <= 99:
        return ko_sino(n)
    tens, ones = divmod(n, 10)
    if counter and n == 20:
        return "스무"
    head = _KO_NATIVE_TENS[tens] if tens else ""
    if not ones:
        return head
    tail = (_KO_NATIVE_COUNTER_ONES if counter else _KO_NATIVE_ONES)[ones]
    return head + tail


def ko_digits(digits: str) -> str:
    """'119' -> '일일구', '010' -> '공일공' (phone numbers, codes)."""
    return "".join(_KO_PHONE_DIGITS[int(d)] for d in digits if d.isdigit())


def ko_decimal_digits(digits: str) -> str:
    """The part after the point, digit by digit: '05' -> '영오'."""
    return "".join(_KO_DIGITS[int(d)] for d in digits if d.isdigit())
