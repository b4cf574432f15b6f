from bisect import bisect_right
from datetime import date
from functools import lru_cache

import holidays

RESPONSE_WORKING_DAYS = 20
MAX_EXTENSION_WORKING_DAYS = 20

# FOIA s10(6) excludes a bank holiday "in any part of the United Kingdom", so a Scottish-only or
# NI-only holiday stops the clock for an English force; FOISA s73 only knows Scotland's.
_SUBDIVISIONS: dict[str, tuple[str, ...]] = {
    "FOIA": ("ENG", "NIR", "SCT", "WLS"),
    "FOISA": ("SCT",),
}


# What each law's working days skip, as a force's `holiday_calendar` names it.
HOLIDAY_CALENDARS = {"FOIA": "united-kingdom", "FOISA": "scotland"}


def _subdivisions(law: str) -> tuple[str, ...]:
    try:
        return _SUBDIVISIONS[law]
    except KeyError:
        raise ValueError(f"unknown law {law!r}: expected 'FOIA' or 'FOISA'") from None


# Bounded because the years come from user input; 256 covers both laws over any real range.
@lru_cache(maxsize=256)
def _non_working_days(law: str, year: int) -> frozenset[date]:
    days: set[date] = set()
    for subdiv in _subdivisions(law):
        # A pinned language keeps the get_named lookup below independent of the library default.
        calendar = holidays.country_holidays("GB", subdiv=subdiv, years=year, language="en_GB")
        days.update(calendar)
        if law == "FOIA":
            # In England, Wales and NI Good Friday is a common-law holiday, not a bank holiday,
            # which is why s10(6) names it separately; pick it out by name so that rule is
            # visible here rather than implicit in the library's list.
            days.update(calendar.get_named("Good Friday", lookup="exact"))
    # Both Acts name Christmas Day itself, whatever substitute days the bank holiday rules add.
    days.add(date(year, 12, 25))
    return frozenset(days)


@lru_cache(maxsize=256)
def _working_ordinals(law: str, year: int) -> tuple[int, ...]:
    # Sorted ordinals let add_working_days and working_days_between bisect rather than walk
    # day by day: due_on runs once per imported request, possibly millions of times.
    closed = _non_working_days(law, year)
    days = (
        date.fromordinal(n)
        for n in range(date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal() + 1)
    )
    return tuple(day.toordinal() for day in days if day.weekday() < 5 and day not in closed)


# Years whose working days a server builds as it starts: requests received over the last
# decade, as an import of a force's past log brings them, and next year's deadlines.
PREPARED_YEARS = range(-10, 2)


def prepare() -> None:
    """Build the working days of the years around this one for both laws now, not in the
    first publication: the holidays library imports every country's calendar on its first use
    (88 ms here alone, several hundred under load), and each further year costs about 1 ms."""
    this_year = date.today().year
    for law in _SUBDIVISIONS:
        for offset in PREPARED_YEARS:
            _working_ordinals(law, this_year + offset)


def is_working_day(day: date, law: str) -> bool:
    closed = _non_working_days(law, day.year)
    return day.weekday() < 5 and day not in closed


def add_working_days(start: date, count: int, law: str) -> date:
    if count < 0:
        raise ValueError(f"count must not be negative, got {count}")
    _subdivisions(law)
    if count == 0:
        return start
    year = start.year
    ordinals = _working_ordinals(law, year)
    index = bisect_right(ordinals, start.toordinal()) + count - 1
    while index >= len(ordinals):
        index -= len(ordinals)
        year += 1
        ordinals = _working_ordinals(law, year)
    return date.fromordinal(ordinals[index])


def due_on(received_on: date, law: str, *, clarification_received_on: date | None = None) -> date:
    start = received_on
    if clarification_received_on is not None:
        if clarification_received_on < received_on:
            raise ValueError(
                f"clarification received {clarification_received_on} before the request "
                f"({received_on})"
            )
        start = clarification_received_on
    return add_working_days(start, RESPONSE_WORKING_DAYS, law)


def latest_extension(due: date, law: str) -> date | None:
    _subdivisions(law)
    if law == "FOISA":
        # FOISA has no public interest extension: any extended_due_on is invalid.
        return None
    return add_working_days(due, MAX_EXTENSION_WORKING_DAYS, law)


def working_days_between(start: date, end: date, law: str) -> int:
    _subdivisions(law)
    if end <= start:
        return 0
    # Working days in (start, end] = those from 1 January of start's year to end, less those
    # up to and including start.
    full_years = sum(len(_working_ordinals(law, year)) for year in range(start.year, end.year))
    through_end = bisect_right(_working_ordinals(law, end.year), end.toordinal())
    through_start = bisect_right(_working_ordinals(law, start.year), start.toordinal())
    return full_years + through_end - through_start


def responded_within_deadline(
    first_initial_response_on: date | None, due: date, extended_due: date | None
) -> bool | None:
    if first_initial_response_on is None:
        return None
    deadline = extended_due if extended_due is not None else due
    return first_initial_response_on <= deadline


def is_overdue(answered: bool, due: date, extended_due: date | None, today: date) -> bool:
    if answered:
        return False
    deadline = extended_due if extended_due is not None else due
    return today > deadline
