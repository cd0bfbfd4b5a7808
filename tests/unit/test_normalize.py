"""Text normalisation before synthesis, in English and Korean."""

from __future__ import annotations

import pytest

from speech import number_words as nw
from speech.normalize import language_of, normalize, strip_markup

# ------------------------------------------------------------------ shared steps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[smile] Hello!", "Hello!"),
        ("Hello [laughs softly] there.", "Hello there."),
        ("<laugh> Okay.", "Okay."),
        ("Great 😊👍🏽 news ❤️!", "Great news!"),
        ("**Bold** and `code` and ~~old~~", "Bold and code and old"),
        ("👨‍👩‍👧 family", "family"),
    ],
)
def test_tags_markdown_and_emoji_are_never_spoken(text: str, expected: str) -> None:
    assert normalize(text, "en") == expected


def test_only_emoji_leaves_nothing_to_say() -> None:
    assert normalize("😊🎉", "en") == ""
    assert normalize("[smile]", "ko") == ""


def test_strip_markup_keeps_symbols_that_are_words() -> None:
    assert strip_markup("20% at 5°C for $3 & ₩500") == "20% at 5°C for $3 & ₩500"


@pytest.mark.parametrize(
    ("text", "language"),
    [("안녕하세요", "ko"), ("Hello there", "en"), ("약국은 pharmacy 입니다", "ko"), ("123", "en")],
)
def test_language_of_follows_the_script(text: str, language: str) -> None:
    assert language_of(text, "en") == language


# ------------------------------------------------------------------ number words


@pytest.mark.parametrize(
    ("n", "cardinal", "ordinal"),
    [
        (0, "zero", None),
        (13, "thirteen", "thirteenth"),
        (21, "twenty-one", "twenty-first"),
        (40, "forty", "fortieth"),
        (102, "one hundred two", "one hundred second"),
        (1234, "one thousand two hundred thirty-four", None),
        (2_000_003, "two million three", None),
    ],
)
def test_english_number_words(n: int, cardinal: str, ordinal: str | None) -> None:
    assert nw.en_cardinal(n) == cardinal
    if ordinal:
        assert nw.en_ordinal(n) == ordinal


@pytest.mark.parametrize(
    ("year", "spoken"),
    [(2026, "twenty twenty-six"), (1905, "nineteen oh five"), (2000, "two thousand"),
     (2009, "two thousand nine"), (1900, "nineteen hundred")],
)  # fmt: skip
def test_english_years(year: int, spoken: str) -> None:
    assert nw.en_year(year) == spoken


@pytest.mark.parametrize(
    ("n", "sino", "native"),
    [
        (1, "일", "한"),
        (2, "이", "두"),
        (10, "십", "열"),
        (20, "이십", "스무"),
        (21, "이십일", "스물한"),
        (99, "구십구", "아흔아홉"),
        (100, "백", "백"),
        (1500, "천오백", "천오백"),
        (10000, "만", "만"),
        (15000, "만오천", "만오천"),
        (100_000_000, "일억", "일억"),
    ],
)
def test_korean_sino_and_native_numbers(n: int, sino: str, native: str) -> None:
    assert nw.ko_sino(n) == sino
    assert nw.ko_native(n, counter=True) == native


def test_korean_native_numbers_alone_and_digits() -> None:
    assert nw.ko_native(2) == "둘"
    assert nw.ko_native(4) == "넷"
    assert nw.ko_digits("010") == "공일공"
    assert nw.en_digits("109") == "one zero nine"


# ------------------------------------------------------------------ English


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I have 3 rooms.", "I have three rooms."),
        ("It costs 1,250 won.", "It costs one thousand two hundred fifty won."),
        ("Take 2.5 tablets.", "Take two point five tablets."),
        ("the 21st floor", "the twenty-first floor"),
        ("Open 9am to 5:30 PM.", "Open nine A M to five thirty P M."),
        ("At 10:05.", "At ten oh five."),
        ("We close at 18:00.", "We close at six P M."),
        ("Come at 3:00.", "Come at three o'clock."),
        ("On 2026-11-21.", "On November twenty-first, twenty twenty-six."),
        ("On 11/21/2026.", "On November twenty-first, twenty twenty-six."),
        ("By Nov 3rd.", "By November third."),
        ("It is $12.50.", "It is twelve dollars and fifty cents."),
        ("A $1 coin.", "A one dollar coin."),
        ("It is €3.", "It is three euros."),
        ("Take 500mg daily.", "Take five hundred milligrams daily."),
        ("It is 3.5 km away.", "It is three point five kilometers away."),
        ("Only 1 km.", "Only one kilometer."),
        ("20% off", "twenty percent off"),
        ("It is -3°C.", "It is minus three degrees Celsius."),
        ("In 1998 we opened.", "In nineteen ninety-eight we opened."),
        ("3-5 days", "three to five days"),
        ("Go to B1 floor.", "Go to basement one floor."),
        ("Restrooms on 3F.", "Restrooms on third floor."),
        ("Room #5", "Room number five"),
        ("Dr. Kim, e.g. today.", "Doctor Kim, for example today."),
        ("Main St. is near.", "Main Street is near."),
        ("St. Mary hospital", "Saint Mary hospital"),
        ("Mr. Lee vs. Ms. Park", "Mister Lee versus Miz Park"),
        ("Call ext. 42.", "Call extension forty-two."),
        ("2 + 2 = 4", "two plus two equals four"),
    ],
)
def test_english_normalisation(text: str, expected: str) -> None:
    assert normalize(text, "en") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call 109 now.", "Call one zero nine now."),
        ("The crisis line is 1393.", "The crisis line is one three nine three."),
        ("Dial 119 for an ambulance.", "Dial one one nine for an ambulance."),
        ("Phone 010-1234-5678.", "Phone zero one zero, one two three four, five six seven eight."),
        ("Call 1577-0199.", "Call one five seven seven, zero one nine nine."),
        ("+82 2 1234 5678", "plus eight two, two, one two three four, five six seven eight"),
        ("Code 007.", "Code zero zero seven."),
        ("We have 109 beds.", "We have one hundred nine beds."),
        ("From 2024-2025.", "From twenty twenty-four to twenty twenty-five."),
    ],
)  # fmt: skip
def test_english_phone_numbers_are_read_digit_by_digit(text: str, expected: str) -> None:
    assert normalize(text, "en") == expected


# ------------------------------------------------------------------ Korean


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("약국은 3층에 있습니다.", "약국은 삼층에 있습니다."),
        ("2시에 만나요.", "두시에 만나요."),
        ("오후 3시 30분", "오후 세시 삼십분"),
        ("13시에 출발", "십삼시에 출발"),
        ("24시간 운영", "스물네시간 운영"),
        ("3:30 PM에 봐요.", "오후 세시 삼십분에 봐요."),
        ("18:30까지", "오후 여섯시 삼십분까지"),
        ("9:00부터", "아홉시부터"),
        ("2026-11-21", "이천이십육년 십일월 이십일일"),
        ("11월 21일", "십일월 이십일일"),
        ("6월 10일", "유월 십일"),
        ("10월 3일", "시월 삼일"),
        ("2026년", "이천이십육년"),
        ("사과 3개", "사과 세개"),
        ("학생 20명", "학생 스무명"),
        ("21살", "스물한살"),
        ("100개", "백개"),
        ("1번 출구", "일번 출구"),
        ("2번째 방", "두번째 방"),
        ("5,000원", "오천원"),
        ("₩12,000", "만이천원"),
        ("$12.50", "십이 달러 오십 센트"),
        ("500mg", "오백 밀리그램"),
        ("3.5km", "삼 점 오 킬로미터"),
        ("20% 할인", "이십 퍼센트 할인"),
        ("B1층 화장실", "지하 일층 화장실"),
        ("지하 2층", "지하 이층"),
        ("3~5개", "삼에서 다섯개"),
        ("Dr. Kim 선생님", "Doctor Kim 선생님"),
        ("1 더하기", "일 더하기"),
    ],
)
def test_korean_normalisation(text: str, expected: str) -> None:
    assert normalize(text, "ko") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("109에 전화하세요.", "일공구에 전화하세요."),
        ("응급 상황은 119", "응급 상황은 일일구"),
        ("휴대폰 010-1234-5678", "휴대폰 공일공, 일이삼사, 오육칠팔"),
        ("대표번호 1577-0199.", "대표번호 일오칠칠, 공일구구."),
        ("방은 109호입니다.", "방은 백구호입니다."),
    ],
)
def test_korean_phone_numbers_are_read_digit_by_digit(text: str, expected: str) -> None:
    assert normalize(text, "ko") == expected


def test_mixed_korean_english_keeps_both() -> None:
    out = normalize("오늘 3시에 Dr. Kim과 meeting이 있어요 😊", "ko")
    assert out == "오늘 세시에 Doctor Kim과 meeting이 있어요"
