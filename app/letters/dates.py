"""Dates as letters print them: `26th June 2018`, `26/06/2018`, `16/02/26`, `June 26, 2018`,
`2018-06-26`, and `29th May` with the year taken from the letter. Day-first, as in the UK."""

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"

DATE_PATTERNS = (
    # 26th June 2018, 26 of June, 2018, Monday 26 June 2018
    re.compile(_WEEKDAY + _DAY + r"\s+(?:of\s+)?" + _MONTH + r",?\s+" + _YEAR + r"\b", re.I),
    # June 26, 2018
    re.compile(_WEEKDAY + _MONTH + r"\s+" + _DAY + r",?\s+" + _YEAR + r"\b", re.I),
    # 2018-06-26
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]?\d)-(?P<day>[0-3]?\d)\b"),
    # 26/06/2018, 26.06.18, 26-06-2018
    re.compile(
        r"(?<![\d/.])(?P<day>[0-3]?\d)(?P<sep>[/.\-])(?P<month>[01]?\d)(?P=sep)"
        r"(?P<year>(?:19|20)?\d\d)(?![\d/])"
    ),
)
# 29th May, May 29th: no year printed.
YEARLESS_PATTERNS = (
    re.compile(_WEEKDAY + _DAY + r"\s+(?:of\s+)?" + _MONTH + r"\b(?!,?\s+(?:19|20)\d\d)", re.I),
    re.compile(
        _WEEKDAY + _MONTH + r"\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?!,?\s+(?:19|20)?\d\d)",
        re.I,
    ),
)


@dataclass(frozen=True, slots=True)
class Found:
    on: date | None  # None: no year printed, to be taken from the letter
    month: int
    day: int
    start: int
    end: int


def _month(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    return MONTHS.get(value.lower().rstrip("."))


def _year(value: str) -> int:
    number = int(value)
    return 2000 + number if number < 100 else number


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str) -> list[Found]:
    """Every date in `text`, in order of appearance; yearless ones carry `on=None`."""
    found: list[Found] = []
    # Which characters a date found already holds: one look a match, however many dates.
    taken = bytearray(len(text))

    def free(start: int, end: int) -> bool:
        return taken.find(1, start, end) == -1

    def take(start: int, end: int) -> None:
        taken[start:end] = b"\x01" * (end - start)

    for pattern in DATE_PATTERNS:
        for match in pattern.finditer(text):
            month = _month(match["month"])
            if month is None or not free(match.start(), match.end()):
                continue
            on = _make(_year(match["year"]), month, int(match["day"]))
            if on is not None:
                found.append(Found(on, month, on.day, match.start(), match.end()))
                take(match.start(), match.end())
    for pattern in YEARLESS_PATTERNS:
        for match in pattern.finditer(text):
            month = _month(match["month"])
            day = int(match["day"])
            if month is None or not free(match.start(), match.end()):
                continue
            if _make(2000, month, day) is None:  # 2000 is a leap year: 29 February passes
                continue
            # "may" is also a verb: "you may 12 ..." is not a date; require a capital.
            if match["month"].lower() == "may" and not match["month"][0].isupper():
                continue
            found.append(Found(None, month, day, match.start(), match.end()))
            take(match.start(), match.end())
    found.sort(key=lambda f: f.start)
    return found


def with_year(found: Found, letter_date: date | None, fallback_year: int | None) -> date | None:
    """A yearless date placed in the letter's year, or the year before when that would put it
    after the letter (a request of 20 December answered on 10 January)."""
    if found.on is not None:
        return found.on
    year = letter_date.year if letter_date else fallback_year
    if year is None:
        return None
    on = _make(year, found.month, found.day)
    if on is None:
        on = _make(year, found.month, 28)
    if on is not None and letter_date is not None and on > letter_date:
        on = _make(year - 1, found.month, min(found.day, 28 if found.month == 2 else found.day))
    return on
