"""What reports say of military sites, in four outlets' styles: movements, works, flights, attacks."""

import pytest

from sitewatch.reports.extract import extract_text_claims
from sitewatch.reports.text import ReportText


def claims_of(text, published="2025-03-10"):
    report = ReportText(
        text=text,
        path="r.txt",
        encoding="utf-8",
        kind="text",
        truncated=False,
        title=None,
        meta={"file": "r.txt", "published": published},
    )
    return extract_text_claims(report)


def told(claims):
    return {(c.site, c.event, c.when.get("start")) for c in claims if not c.negated}


WIRE = (
    "DEIR EZ-ZOR, Syria, March 10 (Wire) - The last U.S. soldiers left al-Omar on Sunday, two officials "
    "said. A convoy left the Conoco base on Saturday, heading to Iraq.\n\n"
    "U.S. forces handed over the Green Village base to the SDF on March 5, the officials added."
)
MONITOR = (
    "Our correspondent in Hasakah reported that a convoy of 40 trucks arrived at Qasrak base on Monday. "
    "Two cargo planes landed at Qasrak on March 4.\n\n"
    "Fresh troops were flown into al-Shaddadi on March 6. Tankers rolled into Rmelan on March 7."
)
THINK_TANK = (
    "Imagery from 2 March 2025 shows that engineers erected new prefabricated buildings at Qasrak. "
    "A new helipad was also visible at Qasrak on 2 March 2025.\n\n"
    "Workers paved a new apron at al-Shaddadi in February 2025, and the coalition expanded the airstrip "
    "at Rmelan in January 2025."
)
STATEMENT = (
    "Statement of the Media Office.\n\n"
    "The Conoco base came under mortar fire on March 8. A drone strike hit al-Omar on March 9, and rockets "
    "were fired at the Green Village base on March 9.\n\nHasakah, 10/03/2025"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            WIRE,
            {
                ("al-omar", "withdrawal", "2025-03-09"),
                ("conoco", "withdrawal", "2025-03-08"),
                ("green-village", "withdrawal", "2025-03-05"),
            },
        ),
        (
            MONITOR,
            {
                ("qasrak", "arrival", "2025-03-10"),
                ("qasrak", "air_activity", "2025-03-04"),
                ("al-shaddadi", "arrival", "2025-03-06"),
                ("rmelan", "arrival", "2025-03-07"),
            },
        ),
        (
            THINK_TANK,
            {
                ("qasrak", "construction", "2025-03-02"),
                ("al-shaddadi", "construction", "2025-02-01"),
                ("rmelan", "construction", "2025-01-01"),
            },
        ),
        (
            STATEMENT,
            {
                ("conoco", "attack", "2025-03-08"),
                ("al-omar", "attack", "2025-03-09"),
                ("green-village", "attack", "2025-03-09"),
            },
        ),
    ],
    ids=["wire", "local-monitor", "think-tank", "government-statement"],
)
def test_event_kinds_in_four_outlets_styles(text, expected):
    claims = claims_of(text)
    assert expected <= told(claims), told(claims)
    # a convoy that left a place withdrew from it; it did not arrive there
    assert not {(s, e) for s, e, _ in told(claims)} & {("conoco", "arrival"), ("al-omar", "arrival")}


def test_one_claim_per_statement_retold_in_headline_and_summary():
    text = (
        "U.S. forces pull out of Conoco\n\n"
        "U.S. forces pulled out of Conoco on March 8, residents said. Trucks carried equipment away.\n\n"
        "In summary, the coalition pulled out of Conoco on March 8."
    )
    withdrawals = [c for c in claims_of(text) if (c.site, c.event) == ("conoco", "withdrawal")]
    dated = [c for c in withdrawals if c.when["start"] == "2025-03-08"]
    assert len(dated) == 1 and dated[0].also and "summary" in dated[0].also[0]["text"]


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("A convoy arrived in the Deir ez-Zor countryside on 3 March.", "the Deir ez-Zor countryside"),
        ("Drone strikes hit positions in eastern Syria on 3 March.", "eastern Syria"),
        ("US forces built a new base in rural al-Hasakah on 3 March.", "rural al-Hasakah"),
        ("وصل رتل أمريكي إلى ريف دير الزور الشرقي في 3 آذار.", "ريف دير الزور الشرقي"),
    ],
)
def test_a_region_is_never_one_site(text, region):
    (c,) = claims_of(text)
    assert (c.site, c.site_kind, c.site_match, c.site_text) == (None, "region", "region", region)


def test_a_region_after_a_site_is_not_that_site():
    text = "Qasrak base lies in northern Hasakah province. On 3 March a convoy arrived in the province."
    assert not [c for c in claims_of(text) if c.site == "qasrak" and c.event == "arrival"]


def test_a_region_told_with_its_site_gives_the_site_claim_only():
    text = (
        "US forces begin building new base in rural Hasakah\n\n"
        "On 3 February, US forces began building a new base in rural al-Hasakah. They chose the village "
        "of Tell Brak."
    )
    claims = claims_of(text, published="2025-02-07")
    assert [(c.site, c.site_match) for c in claims if c.event == "construction"] == [
        ("tell-brak", "adjacent_sentence")
    ]
