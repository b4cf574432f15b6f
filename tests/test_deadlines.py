from datetime import date, timedelta
from enum import StrEnum

import pytest

from app import deadlines
from app.deadlines import (
    add_working_days,
    due_on,
    is_overdue,
    is_working_day,
    latest_extension,
    responded_within_deadline,
    working_days_between,
)

# Every expected date below was counted by hand on a calendar; the comment next to each case
# numbers the working days so the count can be checked without running the code.


def test_hertfordshire_worked_example() -> None:
    # Received Tue 2018-05-29, the day after the late-May bank holiday (Mon 28 May).
    # Wed 30 May = 1, Thu 31 = 2, Fri 1 Jun = 3, 4-8 Jun = 4-8, 11-15 = 9-13,
    # 18-22 = 14-18, Mon 25 = 19, Tue 26 Jun = 20. No holiday anywhere in the UK in between.
    assert due_on(date(2018, 5, 29), "FOIA") == date(2018, 6, 26)
    assert due_on(date(2018, 5, 29), "FOISA") == date(2018, 6, 26)


def test_st_andrews_day_stops_both_clocks() -> None:
    # St Andrew's Day Tue 2021-11-30 is a Scottish bank holiday, so FOIA (any part of the UK)
    # skips it as well as FOISA. Received Fri 2021-11-19:
    # 22-26 Nov = 1-5, Mon 29 = 6, Tue 30 skipped, 1-3 Dec = 7-9, 6-10 = 10-14,
    # 13-17 = 15-19, Mon 20 Dec = 20. (Without the skip it would be Fri 17 Dec.)
    assert not is_working_day(date(2021, 11, 30), "FOIA")
    assert not is_working_day(date(2021, 11, 30), "FOISA")
    assert due_on(date(2021, 11, 19), "FOIA") == date(2021, 12, 20)
    assert due_on(date(2021, 11, 19), "FOISA") == date(2021, 12, 20)


def test_second_of_january_stops_both_clocks() -> None:
    # Tue 2024-01-02 is a bank holiday only in Scotland. Received Fri 2023-12-29:
    # Mon 1 Jan (UK-wide) and Tue 2 Jan skipped, 3-5 Jan = 1-3, 8-12 = 4-8, 15-19 = 9-13,
    # 22-26 = 14-18, Mon 29 = 19, Tue 30 Jan = 20.
    assert not is_working_day(date(2024, 1, 2), "FOIA")
    assert due_on(date(2023, 12, 29), "FOIA") == date(2024, 1, 30)
    assert due_on(date(2023, 12, 29), "FOISA") == date(2024, 1, 30)


def test_scottish_and_english_august_holidays_split_the_laws() -> None:
    # 2021: Scotland's summer bank holiday is Mon 2 Aug; England, Wales and NI have Mon 30 Aug.
    # Received Fri 2021-07-30.
    # FOIA skips both: Mon 2 Aug skipped, 3-6 Aug = 1-4, 9-13 = 5-9, 16-20 = 10-14,
    #   23-27 = 15-19, Mon 30 skipped, Tue 31 Aug = 20.
    # FOISA skips only 2 Aug: same count to Fri 27 = 19, then Mon 30 Aug = 20.
    assert is_working_day(date(2021, 8, 30), "FOISA")
    assert not is_working_day(date(2021, 8, 30), "FOIA")
    assert not is_working_day(date(2021, 8, 2), "FOIA")
    assert due_on(date(2021, 7, 30), "FOIA") == date(2021, 8, 31)
    assert due_on(date(2021, 7, 30), "FOISA") == date(2021, 8, 30)


def test_st_patricks_day_is_foia_only() -> None:
    # Thu 2022-03-17 is a bank holiday only in Northern Ireland. Received Fri 2022-03-04.
    # FOIA: 7-11 Mar = 1-5, 14-16 = 6-8, Thu 17 skipped, Fri 18 = 9, 21-25 = 10-14,
    #   28 Mar-1 Apr = 15-19, Mon 4 Apr = 20.
    # FOISA: 7-11 = 1-5, 14-18 = 6-10, 21-25 = 11-15, 28 Mar-1 Apr = 16-20, so Fri 1 Apr.
    assert not is_working_day(date(2022, 3, 17), "FOIA")
    assert is_working_day(date(2022, 3, 17), "FOISA")
    assert due_on(date(2022, 3, 4), "FOIA") == date(2022, 4, 4)
    assert due_on(date(2022, 3, 4), "FOISA") == date(2022, 4, 1)


def test_st_patricks_day_substitute_is_foia_only() -> None:
    # 17 March 2024 was a Sunday, so NI's holiday moved to Mon 2024-03-18.
    assert not is_working_day(date(2024, 3, 18), "FOIA")
    assert is_working_day(date(2024, 3, 18), "FOISA")


def test_battle_of_the_boyne_is_foia_only() -> None:
    # Wed 2023-07-12 is a bank holiday only in Northern Ireland. Received Fri 2023-06-30.
    # FOIA: 3-7 Jul = 1-5, Mon 10 = 6, Tue 11 = 7, Wed 12 skipped, 13-14 = 8-9,
    #   17-21 = 10-14, 24-28 = 15-19, Mon 31 Jul = 20.
    # FOISA: 3-7 = 1-5, 10-14 = 6-10, 17-21 = 11-15, 24-28 = 16-20, so Fri 28 Jul.
    # (Scotland's summer holiday, Mon 7 Aug 2023, is outside both windows.)
    assert not is_working_day(date(2023, 7, 12), "FOIA")
    assert is_working_day(date(2023, 7, 12), "FOISA")
    assert due_on(date(2023, 6, 30), "FOIA") == date(2023, 7, 31)
    assert due_on(date(2023, 6, 30), "FOISA") == date(2023, 7, 28)


def test_easter() -> None:
    # 2023: Good Friday 7 Apr, Easter Monday 10 Apr, early May bank holiday Mon 1 May.
    # Easter Monday is a bank holiday in England, Wales and NI but not in Scotland.
    # Received Fri 2023-03-31.
    # FOIA: 3-6 Apr = 1-4, Fri 7 and Mon 10 skipped, 11-14 = 5-8, 17-21 = 9-13,
    #   24-28 = 14-18, Mon 1 May skipped, Tue 2 = 19, Wed 3 May = 20.
    # FOISA: 3-6 Apr = 1-4, Fri 7 skipped, Mon 10 = 5, 11-14 = 6-9, 17-21 = 10-14,
    #   24-28 = 15-19, Mon 1 May skipped, Tue 2 May = 20.
    assert not is_working_day(date(2023, 4, 7), "FOIA")
    assert not is_working_day(date(2023, 4, 7), "FOISA")
    assert not is_working_day(date(2023, 4, 10), "FOIA")
    assert is_working_day(date(2023, 4, 10), "FOISA")
    assert due_on(date(2023, 3, 31), "FOIA") == date(2023, 5, 3)
    assert due_on(date(2023, 3, 31), "FOISA") == date(2023, 5, 2)


def test_christmas_and_new_year() -> None:
    # Received Fri 2020-12-18. Christmas Day Fri 25 Dec; Boxing Day Sat 26 is substituted by
    # Mon 28; New Year's Day Fri 1 Jan; Scotland's 2 January is a Saturday, substituted by
    # Mon 4 Jan 2021, which FOIA skips too because it is a bank holiday in part of the UK.
    # Both laws: 21-24 Dec = 1-4, 25 and 28 skipped, 29-31 Dec = 5-7, Fri 1 Jan skipped,
    #   Mon 4 Jan skipped, 5-8 Jan = 8-11, 11-15 = 12-16, 18-21 = 17-20, so Thu 21 Jan.
    for law in ("FOIA", "FOISA"):
        assert not is_working_day(date(2020, 12, 25), law)
        assert not is_working_day(date(2020, 12, 28), law)
        assert not is_working_day(date(2021, 1, 1), law)
        assert not is_working_day(date(2021, 1, 4), law)
        assert due_on(date(2020, 12, 18), law) == date(2021, 1, 21)


def test_christmas_on_a_sunday() -> None:
    # 2022: Christmas Day Sun 25, Boxing Day Mon 26, Christmas substitute day Tue 27 Dec.
    # 2023: New Year's Day Sun 1, substitute Mon 2 Jan; Scotland's 2 January moves to Tue 3.
    assert not is_working_day(date(2022, 12, 27), "FOIA")
    assert not is_working_day(date(2022, 12, 27), "FOISA")
    assert not is_working_day(date(2023, 1, 2), "FOISA")
    assert not is_working_day(date(2023, 1, 3), "FOISA")
    assert not is_working_day(date(2023, 1, 3), "FOIA")
    assert is_working_day(date(2023, 1, 4), "FOIA")


def test_one_off_bank_holidays() -> None:
    # Queen's state funeral Mon 2022-09-19, coronation Mon 2023-05-08: UK-wide proclamations.
    for law in ("FOIA", "FOISA"):
        assert not is_working_day(date(2022, 9, 19), law)
        assert not is_working_day(date(2023, 5, 8), law)


def test_ordinary_days() -> None:
    assert is_working_day(date(2018, 6, 26), "FOIA")  # a Tuesday
    assert not is_working_day(date(2018, 6, 23), "FOIA")  # a Saturday
    assert not is_working_day(date(2018, 6, 24), "FOISA")  # a Sunday


def test_receipt_on_a_weekend_counts_from_monday() -> None:
    # Received Sat 2 or Sun 3 June 2018 (or Fri 1 June): day 1 is Mon 4 Jun.
    # 4-8 Jun = 1-5, 11-15 = 6-10, 18-22 = 11-15, 25-29 = 16-20, so Fri 29 Jun.
    for received in (date(2018, 6, 1), date(2018, 6, 2), date(2018, 6, 3)):
        assert due_on(received, "FOIA") == date(2018, 6, 29)


def test_receipt_on_a_bank_holiday_counts_from_the_next_working_day() -> None:
    # Received on the late-May bank holiday, Mon 2018-05-28: day 1 is Tue 29 May.
    # 29 May-1 Jun = 1-4, 4-8 Jun = 5-9, 11-15 = 10-14, 18-22 = 15-19, Mon 25 Jun = 20.
    assert due_on(date(2018, 5, 28), "FOIA") == date(2018, 6, 25)


def test_clarification_restarts_the_clock() -> None:
    # Received Tue 2018-05-29 (due 26 Jun without clarification); clarification received
    # Mon 2018-06-11, so day 1 is Tue 12 Jun: 12-15 Jun = 1-4, 18-22 = 5-9, 25-29 = 10-14,
    # 2-6 Jul = 15-19, Mon 9 Jul = 20.
    received = date(2018, 5, 29)
    assert due_on(received, "FOIA", clarification_received_on=None) == date(2018, 6, 26)
    assert due_on(received, "FOIA", clarification_received_on=date(2018, 6, 11)) == date(2018, 7, 9)
    # Clarification arriving on Sat 9 Jun: day 1 is Mon 11 Jun; 11-15 = 1-5, 18-22 = 6-10,
    # 25-29 = 11-15, 2-6 Jul = 16-20, so Fri 6 Jul.
    assert due_on(received, "FOISA", clarification_received_on=date(2018, 6, 9)) == date(2018, 7, 6)


def test_clarification_on_the_day_of_receipt_changes_nothing() -> None:
    received = date(2018, 5, 29)
    assert due_on(received, "FOIA", clarification_received_on=received) == date(2018, 6, 26)


def test_clarification_before_receipt_is_rejected() -> None:
    with pytest.raises(ValueError, match="clarification"):
        due_on(date(2018, 5, 29), "FOIA", clarification_received_on=date(2018, 5, 28))


def test_latest_extension_foia() -> None:
    # Due Tue 2018-06-26; 20 more working days: 27-29 Jun = 1-3, 2-6 Jul = 4-8,
    # 9-11 = 9-11, Thu 12 Jul skipped (Battle of the Boyne, NI), Fri 13 = 12, 16-20 = 13-17,
    # 23-25 = 18-20, so Wed 25 Jul.
    assert latest_extension(date(2018, 6, 26), "FOIA") == date(2018, 7, 25)


def test_latest_extension_foia_skips_holidays() -> None:
    # Due Fri 2021-08-13; 16-20 Aug = 1-5, 23-27 = 6-10, Mon 30 Aug (England) skipped,
    # 31 Aug-3 Sep = 11-14, 6-10 Sep = 15-19, Mon 13 Sep = 20.
    assert latest_extension(date(2021, 8, 13), "FOIA") == date(2021, 9, 13)


def test_no_extension_under_foisa() -> None:
    assert latest_extension(date(2018, 6, 26), "FOISA") is None


def test_add_working_days_small_counts() -> None:
    # From Fri 2018-06-01: the 1st working day after is Mon 4 Jun; 0 leaves the date alone.
    assert add_working_days(date(2018, 6, 1), 1, "FOIA") == date(2018, 6, 4)
    assert add_working_days(date(2018, 6, 1), 0, "FOIA") == date(2018, 6, 1)
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2018, 6, 1), -1, "FOIA")


def test_a_whole_year_of_working_days() -> None:
    # 2019 starts on a Tuesday and has 365 days: 52 full weeks plus one Tuesday = 261 weekdays.
    # Weekday holidays anywhere in the UK (FOIA): Tue 1 Jan, Wed 2 Jan (SCT), Mon 18 Mar (NI,
    # St Patrick's substitute), Fri 19 Apr, Mon 22 Apr (Easter Monday, not SCT), Mon 6 May,
    # Mon 27 May, Fri 12 Jul (NI), Mon 5 Aug (SCT), Mon 26 Aug (not SCT), Mon 2 Dec (SCT,
    # St Andrew's substitute), Wed 25 Dec, Thu 26 Dec = 13, leaving 248.
    # Scotland (FOISA): 1 Jan, 2 Jan, 19 Apr, 6 May, 27 May, 5 Aug, 2 Dec, 25 Dec, 26 Dec = 9,
    # leaving 252.
    assert working_days_between(date(2018, 12, 31), date(2019, 12, 31), "FOIA") == 248
    assert working_days_between(date(2018, 12, 31), date(2019, 12, 31), "FOISA") == 252
    # So the 248th FOIA working day after 31 Dec 2018 is Tue 31 Dec 2019, and the 249th is
    # Fri 3 Jan 2020: Wed 1 Jan is New Year's Day and Thu 2 Jan is Scotland's 2 January.
    assert add_working_days(date(2018, 12, 31), 248, "FOIA") == date(2019, 12, 31)
    assert add_working_days(date(2018, 12, 31), 249, "FOIA") == date(2020, 1, 3)


def test_bisection_matches_a_day_by_day_walk() -> None:
    # Cross-check the cached, bisecting implementation against the plain definition.
    def walk(start: date, count: int, law: str) -> date:
        day = start
        while count:
            day += timedelta(days=1)
            if is_working_day(day, law):
                count -= 1
        return day

    day = date(2017, 11, 1)
    while day < date(2024, 3, 1):
        for law in ("FOIA", "FOISA"):
            assert due_on(day, law) == walk(day, 20, law), (day, law)
        day += timedelta(days=3)


def test_working_days_between() -> None:
    # (Tue 29 May, Tue 26 Jun 2018] holds exactly the 20 days counted in the Hertfordshire case.
    assert working_days_between(date(2018, 5, 29), date(2018, 6, 26), "FOIA") == 20
    # (Fri 1 Jun, Mon 4 Jun] = just Monday; (Fri, Sat] = none.
    assert working_days_between(date(2018, 6, 1), date(2018, 6, 4), "FOIA") == 1
    assert working_days_between(date(2018, 6, 1), date(2018, 6, 2), "FOIA") == 0
    # Empty and reversed ranges.
    assert working_days_between(date(2018, 6, 4), date(2018, 6, 4), "FOIA") == 0
    assert working_days_between(date(2018, 6, 26), date(2018, 5, 29), "FOIA") == 0


def test_working_days_between_across_new_year_and_laws() -> None:
    # The Christmas 2020 case: (18 Dec 2020, 21 Jan 2021] is 20 working days for both laws.
    assert working_days_between(date(2020, 12, 18), date(2021, 1, 21), "FOIA") == 20
    assert working_days_between(date(2020, 12, 18), date(2021, 1, 21), "FOISA") == 20
    # The Easter 2023 case: (31 Mar, 2 May] loses Easter Monday under FOIA only.
    assert working_days_between(date(2023, 3, 31), date(2023, 5, 2), "FOISA") == 20
    assert working_days_between(date(2023, 3, 31), date(2023, 5, 2), "FOIA") == 19


def test_responded_within_deadline() -> None:
    due = date(2018, 6, 26)
    assert responded_within_deadline(None, due, None) is None
    assert responded_within_deadline(None, due, date(2018, 7, 25)) is None
    assert responded_within_deadline(date(2018, 6, 1), due, None) is True
    assert responded_within_deadline(due, due, None) is True  # on the day is in time
    assert responded_within_deadline(date(2018, 6, 27), due, None) is False


def test_responded_within_deadline_uses_the_extension() -> None:
    due, extended = date(2018, 6, 26), date(2018, 7, 25)
    assert responded_within_deadline(date(2018, 6, 27), due, extended) is True
    assert responded_within_deadline(extended, due, extended) is True
    assert responded_within_deadline(date(2018, 7, 26), due, extended) is False


def test_is_overdue() -> None:
    due = date(2018, 6, 26)
    assert is_overdue(False, due, None, today=date(2018, 6, 26)) is False  # due today
    assert is_overdue(False, due, None, today=date(2018, 6, 27)) is True
    # Answered requests are never overdue, however late the answer was.
    assert is_overdue(True, due, None, today=date(2019, 1, 1)) is False


def test_is_overdue_uses_the_extension() -> None:
    due, extended = date(2018, 6, 26), date(2018, 7, 25)
    assert is_overdue(False, due, extended, today=date(2018, 6, 27)) is False
    assert is_overdue(False, due, extended, today=date(2018, 7, 25)) is False
    assert is_overdue(False, due, extended, today=date(2018, 7, 26)) is True


def test_unknown_law_is_rejected() -> None:
    day = date(2018, 6, 2)  # a Saturday: the answer would not need the law, it still must fail
    with pytest.raises(ValueError, match="unknown law"):
        is_working_day(day, "EIR")
    with pytest.raises(ValueError, match="unknown law"):
        add_working_days(day, 0, "foia")
    with pytest.raises(ValueError, match="unknown law"):
        due_on(day, "")
    with pytest.raises(ValueError, match="unknown law"):
        latest_extension(day, "EIR")
    with pytest.raises(ValueError, match="unknown law"):
        working_days_between(day, day, "EIR")


class _Law(StrEnum):
    # Stands in for app.models.Law, which may not exist when this test runs.
    FOIA = "FOIA"
    FOISA = "FOISA"


def test_str_enum_law_values_are_accepted() -> None:
    assert due_on(date(2021, 7, 30), _Law.FOIA) == date(2021, 8, 31)
    assert due_on(date(2021, 7, 30), _Law.FOISA) == date(2021, 8, 30)
    assert latest_extension(date(2018, 6, 26), _Law.FOISA) is None


def test_prepare_builds_the_working_days_of_the_years_around_this_one_for_both_laws() -> None:
    deadlines._working_ordinals.cache_clear()
    deadlines.prepare()
    this_year = date.today().year
    years = [this_year - 10, this_year - 3, this_year, this_year + 1]
    assert deadlines._working_ordinals.cache_info().currsize == 2 * len(deadlines.PREPARED_YEARS)
    hits = deadlines._working_ordinals.cache_info().hits
    for year in years:
        deadlines.add_working_days(date(year, 3, 2), 1, "FOIA")
        deadlines.add_working_days(date(year, 3, 2), 1, "FOISA")
    assert deadlines._working_ordinals.cache_info().hits == hits + 2 * len(years)
