"""Background passages and dates across clauses: the past told as context, each event its own date."""

from __future__ import annotations

import json

import pytest

from sitewatch.reports import Claim, claims_document, extract_claims
from sitewatch.reports.schema import load_claims


def claims_of(tmp_path, text: str, published: str = "2025-06-12") -> list[Claim]:
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    return extract_claims(path, published=published)


def of(claims, site, event):
    return [c for c in claims if (c.site, c.event) == (site, event)]


# -- background ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "site", "event", "start"),
    [
        (
            "The Conoco base was first built in 2017 by coalition engineers.",
            "conoco",
            "construction",
            "2017-01-01",
        ),
        ("U.S. forces previously withdrew from Hemo in 2019.", "hemo", "withdrawal", "2019-01-01"),
        (
            "In 2021 the Qasrak airstrip had been extended by 300 metres.",
            "qasrak",
            "construction",
            "2021-01-01",
        ),
        ("وكانت القوات الأمريكية قد انسحبت من قاعدة هيمو عام 2019.", "hemo", "withdrawal", "2019-01-01"),
        ("وسبق أن تعرضت قاعدة حقل العمر لقصف صاروخي في آذار 2023.", "al-omar", "attack", "2023-03-01"),
    ],
)
def test_background_keeps_its_own_date(tmp_path, text, site, event, start):
    (c,) = of(claims_of(tmp_path, text), site, event)
    assert c.background and c.when["start"] == start
    assert "background" in c.when["note"]


@pytest.mark.parametrize(
    "text",
    [
        "The Hemo base had previously been used as a training centre.",
        "وكان التحالف قد نقل في وقت سابق معدات من حقل العمر إلى رميلان.",
        "Coalition engineers had earlier levelled ground at Qasrak.",
    ],
)
def test_background_without_a_date_gives_no_claim(tmp_path, text):
    # Never dated by the publication date: with no date of its own there is nothing to check.
    assert not [c for c in claims_of(tmp_path, text) if c.event != "other"]


@pytest.mark.parametrize(
    ("text", "site", "event"),
    [
        # Reported speech shifts a plain past back: news, not history.
        ("A spokesman denied that any troops had left Qasrak on Sunday.", "qasrak", "withdrawal"),
        ("Residents said a convoy had arrived at Hemo on Monday.", "hemo", "arrival"),
        # A date of the news period: told in sequence.
        ("Troops had left the Conoco base on Tuesday before the convoy was spotted.", "conoco", "withdrawal"),
        # "first spotted" is news; "for the first time" too.
        ("Bulldozers were first spotted at Tal Baydar on 2 June.", "tal-baydar", "construction"),
        # "since early June": ongoing work, not a standing state.
        ("Since early June, crews have been levelling ground at Qasrak.", "qasrak", "construction"),
        # "earlier this month" is a date, not a mark of the past.
        ("وانسحبت القوات من قاعدة هيمو في وقت سابق من الشهر الجاري.", "hemo", "withdrawal"),
    ],
)
def test_news_is_not_background(tmp_path, text, site, event):
    found = of(claims_of(tmp_path, text), site, event)
    assert found and not any(c.background for c in found)


def test_standing_presence_since_a_year_is_background(tmp_path):
    claims = claims_of(tmp_path, "Since 2016, the al-Omar field has hosted U.S. troops.")
    assert claims and all(c.background for c in of(claims, "al-omar", "presence"))


def test_a_relative_clause_of_the_past_leaves_the_news_alone(tmp_path):
    claims = claims_of(
        tmp_path,
        "The Hemo base, which U.S. forces had previously used as a depot since 2018, received "
        "a convoy of 20 trucks on 3 June.",
    )
    (arrival,) = [c for c in of(claims, "hemo", "arrival") if not c.background]
    assert arrival.when["start"] == "2025-06-03"
    assert not [c for c in claims if not c.background and (c.when.get("start") or "").startswith("2018")]


def test_but_turns_back_to_the_news(tmp_path):
    claims = claims_of(
        tmp_path, "Qasrak had been abandoned in 2019, but on 5 June a convoy arrived at the base."
    )
    (arrival,) = of(claims, "qasrak", "arrival")
    assert not arrival.background and arrival.when["start"] == "2025-06-05"
    assert all(c.background for c in of(claims, "qasrak", "withdrawal"))


def test_a_background_date_is_no_date_for_the_next_sentence(tmp_path):
    claims = claims_of(
        tmp_path,
        "The Rmelan airfield had first been built in 2016. Coalition engineers were levelling ground there, "
        "residents said.",
    )
    fresh = [c for c in of(claims, "rmelan", "construction") if not c.background]
    assert fresh and all(c.when["start"] is None and c.when["end"] == "2025-06-12" for c in fresh)


def test_a_denial_that_is_a_complement_denies_what_follows_not_the_sentence_before(tmp_path):
    claims = claims_of(
        tmp_path,
        "A convoy arrived at Hemo on 10 June. A coalition spokesman denied that any troops had left Qasrak.",
    )
    (arrival,) = of(claims, "hemo", "arrival")
    assert not arrival.negated
    assert all(c.negated for c in of(claims, "qasrak", "withdrawal"))


def test_background_survives_the_claims_file(tmp_path):
    claims = claims_of(tmp_path, "U.S. forces previously withdrew from Hemo in 2019.")
    path = tmp_path / "claims.json"
    path.write_text(json.dumps(claims_document(claims)), encoding="utf-8")
    (back,) = [c for c in load_claims(path) if c.event == "withdrawal"]
    assert back.background and json.loads(path.read_text())["sitewatch_claims"] == "1.3"


# -- dates across clauses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Forces withdrew from Hemo on 3 June, and on 9 June began building new shelters at Tal Baydar.",
            {("hemo", "withdrawal"): "2025-06-03", ("tal-baydar", "construction"): "2025-06-09"},
        ),
        (
            "A column left al-Omar on 2 June and arrived at Conoco on 5 June.",
            {("al-omar", "withdrawal"): "2025-06-02", ("conoco", "arrival"): "2025-06-05"},
        ),
        (
            "انسحبت القوات من قاعدة هيمو في 3 حزيران، وبدأت في 9 حزيران أعمال بناء في قاعدة تل بيدر.",
            {("hemo", "withdrawal"): "2025-06-03", ("tal-baydar", "construction"): "2025-06-09"},
        ),
        (
            "غادر رتل قاعدة حقل العمر في 2 حزيران ووصل إلى حقل كونيكو في 5 حزيران.",
            {("al-omar", "withdrawal"): "2025-06-02", ("conoco", "arrival"): "2025-06-05"},
        ),
    ],
)
def test_each_clause_its_own_date(tmp_path, text, expected):
    claims = claims_of(tmp_path, text)
    got = {(c.site, c.event): c.when["start"] for c in claims if (c.site, c.event) in expected}
    assert got == expected
    # No place takes the other clause's event.
    assert not [c for c in claims if c.site and (c.site, c.event) not in expected and c.event != "other"]


def test_a_list_of_places_is_one_clause(tmp_path):
    claims = claims_of(tmp_path, "Trucks and armoured vehicles arrived at Hemo and Tal Baydar on 4 June.")
    assert {(c.site, c.when["start"]) for c in claims if c.event == "arrival"} == {
        ("hemo", "2025-06-04"),
        ("tal-baydar", "2025-06-04"),
    }


@pytest.mark.parametrize(
    "text",
    [
        "Officials said on Tuesday that a convoy arrived at Hemo.",
        "وقال مسؤول محلي يوم الثلاثاء إن رتلاً وصل إلى قاعدة هيمو.",
    ],
)
def test_the_day_of_saying_dates_no_event(tmp_path, text):
    (c,) = of(claims_of(tmp_path, text), "hemo", "arrival")
    assert c.when["start"] is None and c.when["end"] == "2025-06-12"


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("14.05.2025", "2025-05-14"),
        ("14/05/2025", "2025-05-14"),
        ("05/14/2025", "2025-05-14"),
        ("3.4.2025", "2025-04-03"),
    ],
)
def test_numeric_dates_day_first(tmp_path, written, day):
    (c,) = of(claims_of(tmp_path, f"A convoy arrived at Hemo on {written}."), "hemo", "arrival")
    assert c.when["start"] == day


def test_a_hedged_past_perfect_is_news(tmp_path):
    # "had reportedly left": doubted news, not history; it keeps its claim (hedged).
    claims = claims_of(tmp_path, "Troops had reportedly left Qasrak, residents said.")
    (c,) = of(claims, "qasrak", "withdrawal")
    assert c.hedged and not c.background


@pytest.mark.parametrize(
    "text",
    [
        "ويعود إنشاء قاعدة عين الأسد إلى ثمانينيات القرن الماضي.",
        "يُذكر أن قاعدة حقل العمر أُنشئت عام 2017.",
        "يشار إلى أن قاعدة هيمو وُسعت عام 2020.",
    ],
)
def test_arabic_marks_of_the_past(tmp_path, text):
    # "dates back to", "it is noted that": context, never news of the publication date.
    assert all(c.background for c in claims_of(tmp_path, text))


def test_a_place_in_a_passage_of_the_past_is_no_claim(tmp_path):
    claims = claims_of(
        tmp_path, "The coalition first deployed to Conoco in 2017, after the capture of the field."
    )
    assert claims and all(c.background for c in claims)


def test_days_later_counts_from_the_date_told_before_it(tmp_path):
    claims = claims_of(
        tmp_path,
        "غادر رتل قاعدة عين الأسد فجر السبت 2 آب متجهاً إلى الحدود، ووصل إلى قاعدة التنف بعد يومين.",
        published="2025-08-05",
    )
    (arrival,) = of(claims, "al-tanf", "arrival")
    assert arrival.when["start"] == "2025-08-04"
    claims = claims_of(tmp_path, "A convoy left Hemo on 2 June and reached Tal Baydar three days later.")
    (arrival,) = of(claims, "tal-baydar", "arrival")
    assert arrival.when["start"] == "2025-06-05"


def test_a_hardstand_was_laid(tmp_path):
    claims = claims_of(tmp_path, "A new hardstand of about 150 x 90 m was laid at Qasrak on 4 June.")
    (c,) = of(claims, "qasrak", "construction")
    assert c.when["start"] == "2025-06-04" and c.quantities


def test_had_earlier_with_a_date_of_the_news_is_news(tmp_path):
    claims = claims_of(tmp_path, "Troops had earlier left the Conoco base on Monday.")
    (c,) = of(claims, "conoco", "withdrawal")
    assert not c.background and c.when["start"] == "2025-06-09"
