import datetime as dt

import pytest

from sitewatch.reports.dates import find_dates

PUB = dt.date(2025, 12, 7)


def one(text: str, published: dt.date | None = PUB, context: dt.date | None = None):
    found = find_dates(text, published=published, context=context)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("on September 28, 2025, SOHR released", "2025-09-28", "2025-09-28"),
        ("seen on 20 Apr 2025 by", "2025-04-20", "2025-04-20"),
        ("Dec. 29, 2019, aerial file photo", "2019-12-29", "2019-12-29"),
        ("as of 2025-03-14 the", "2025-03-14", "2025-03-14"),
        ("first observed in early 2025", "2025-01-01", "2025-04-30"),
        ("in late 2017 and early 2018", "2017-09-01", "2018-04-30"),
        ("between January and October 2025", "2025-01-01", "2025-10-31"),
        ("from July 2025 onward", "2025-07-01", "2025-12-07"),
        ("since early 2025", "2025-01-01", "2025-12-07"),
        ("Reports published in May 2025", "2025-05-01", "2025-05-31"),
        ("during summer 2024", "2024-06-01", "2024-08-31"),
        ("in the first half of 2023", "2023-01-01", "2023-06-30"),
        ("in mid-May 2024", "2024-05-11", "2024-05-20"),
        ("from March to June 2024", "2024-03-01", "2024-06-30"),
        ("in Q3 2024", "2024-07-01", "2024-09-30"),
    ],
)
def test_absolute_expressions(text, start, end):
    d = one(text)
    assert (d.start.isoformat() if d.start else None, d.end.isoformat() if d.end else None) == (start, end)


def test_day_month_without_year_takes_publication_year_and_says_so():
    d = one("on 7 May the convoy")
    assert d.start == dt.date(2025, 5, 7)
    assert "2025" in d.note


def test_day_month_after_publication_goes_to_previous_year():
    d = one("on 28 December", published=dt.date(2025, 1, 10))
    assert d.start == dt.date(2024, 12, 28)


@pytest.mark.parametrize(
    ("text", "published", "start", "end"),
    [
        ("convoys entered Iraq on Saturday", dt.date(2025, 4, 20), "2025-04-19", "2025-04-19"),
        ("this year", dt.date(2025, 12, 7), "2025-01-01", "2025-12-07"),
        ("last year", dt.date(2025, 12, 7), "2024-01-01", "2024-12-31"),
        ("yesterday", dt.date(2025, 3, 2), "2025-03-01", "2025-03-01"),
        ("last month", dt.date(2025, 3, 2), "2025-02-01", "2025-02-28"),
        ("two weeks ago", dt.date(2025, 3, 15), "2025-02-26", "2025-03-04"),
    ],
)
def test_relative_expressions(text, published, start, end):
    d = one(text, published)
    assert (d.start.isoformat(), d.end.isoformat()) == (start, end)
    assert d.kind == "relative"


def test_recent_months_is_a_window_before_publication():
    d = one("withdrawals in recent months")
    assert d.end == PUB
    assert dt.date(2025, 5, 1) <= d.start <= dt.date(2025, 7, 1)


def test_days_earlier_counts_from_the_context_date():
    d = one("days earlier, trucks arrived", context=dt.date(2025, 10, 18))
    assert d.end < dt.date(2025, 10, 18)
    assert d.start >= dt.date(2025, 10, 1)


def test_no_anchor_leaves_relative_dates_open():
    d = one("this year", published=None)
    assert d.start is None and d.end is None and d.is_open
    assert "no publication date" in d.note


def test_open_end_without_publication_date():
    d = one("from July 2025 onward", published=None)
    assert d.start == dt.date(2025, 7, 1) and d.end is None
    assert "open" in d.note


def test_reversed_range_is_widened_and_flagged():
    d = one("between October 2025 and March 2025")
    assert d.start == dt.date(2025, 3, 1) and d.end == dt.date(2025, 10, 31)
    assert "ends before it starts" in d.note


def test_may_as_a_verb_is_not_a_month():
    assert find_dates("The base may be expanded.", published=PUB) == []


def test_bare_numbers_are_not_years():
    assert find_dates("about 2000 troops and 1,500 m", published=PUB) == []


def test_weekday_of_a_written_date_is_not_a_second_date():
    found = find_dates("Sunday 7 December 2025 - 10:04", published=PUB)
    assert [d.text for d in found] == ["7 December 2025"]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("late last year", "2024-09-01", "2024-12-31"),
        ("in early this year", "2025-01-01", "2025-04-30"),
        ("during the summer of last year", "2024-06-01", "2024-08-31"),
        ("over the weekend", "2025-12-06", "2025-12-07"),
        ("earlier this month", "2025-12-01", "2025-12-07"),
    ],
)
def test_relative_parts_of_years(text, start, end):
    d = one(text)
    assert (d.start.isoformat(), d.end.isoformat()) == (start, end)
