"""Verdicts that never overstate: each part of a claim judged on its own (hand-built claims and alerts)."""

import pytest
from alert_builders import alert, collection, scenes_every

from sitewatch.reports import Claim, link_claims

START, END = "2024-10-01", "2025-11-30"


def dims(length, width):
    return {
        "kind": "dimensions",
        "value": length * width,
        "unit": "m2",
        "length_m": float(length),
        "width_m": float(width),
        "text": f"{length} by {width} meters",
    }


def claim(quote, quantities=(), *, site="qasrak", start="2025-01-01", end="2025-04-30", works=(), **kw):
    return Claim(
        id=kw.pop("id", "c"),
        source={"file": "t.txt"},
        quote={"start": 0, "end": len(quote), "text": quote},
        site=site,
        site_text=site,
        site_kind="site",
        site_match="exact",
        event=kw.pop("event", "construction"),
        trigger=None,
        when={"start": start, "end": end},
        quantities=tuple(quantities),
        works=tuple(works),
        **kw,
    )


def col(*alerts, aoi="qasrak"):
    return collection(aoi, list(alerts), scenes_every(START, END), start=START, end=END)


CONCRETE = "land was levelled and covered with concrete at two points, about 193 by 94 m and 84 by 60 m"


def test_concrete_with_one_earthworks_alert_is_only_partly_supported():
    # The case: one earthworks alert, 28 % smaller than the larger claimed pad.
    earth = alert("e1", "earthworks", "2025-02-01", "2025-02-11", length_m=139, width_m=68, area_m2=9452)
    (link,) = link_claims([claim(CONCRETE, [dims(193, 94), dims(84, 60)])], col(earth))
    assert link.verdict == "partly_supported"
    fits = {(p["part"], p["claimed"]) for p in link.parts["fits"]}
    unverified = {(p["part"], p["claimed"]) for p in link.parts["unverified"]}
    assert ("type", "levelling") in fits and ("date", "2025-01-01..2025-04-30") in fits
    assert ("type", "surface") in unverified  # bare ground is not concrete
    assert ("size", "193 by 94 meters") in unverified  # 28 % off: fair, not good
    assert ("size", "84 by 60 meters") in unverified  # never checked against a second alert
    assert link.alerts[0]["type_fit"] == "partial"
    assert link.alerts[0]["size_fit"]["label"] == "fair" and link.alerts[0]["size_fit"]["error"] > 0.15
    assert link.strength in ("moderate", "weak")
    assert not link.parts["contradicted"]


def test_two_pads_each_matched_to_its_own_alert_is_supported():
    pads = [
        alert("p1", "new_pad", "2025-02-10", "2025-02-20", length_m=190, width_m=95, area_m2=18050),
        alert("p2", "new_pad", "2025-03-02", "2025-03-12", length_m=85, width_m=58, area_m2=4930),
    ]
    (link,) = link_claims([claim(CONCRETE, [dims(193, 94), dims(84, 60)])], col(*pads))
    assert link.verdict == "supported" and link.strength == "strong"
    matched = {p["claimed"]: p["alert"] for p in link.parts["fits"] if p["part"] == "size"}
    assert matched == {"193 by 94 meters": "p1", "84 by 60 meters": "p2"}


def test_two_sizes_never_share_one_alert():
    pad = alert("p1", "new_pad", "2025-02-10", "2025-02-20", length_m=190, width_m=95, area_m2=18050)
    (link,) = link_claims([claim(CONCRETE, [dims(193, 94), dims(188, 96)])], col(pad))
    assert link.verdict == "partly_supported"
    assert [p["part"] for p in link.parts["unverified"]] == ["size"]
    assert sum(p["part"] == "size" for p in link.parts["fits"]) == 1


@pytest.mark.parametrize(("measured", "fits"), [(100 * 0.86, True), (100 * 0.84, False), (100 * 1.14, True)])
def test_a_good_size_is_within_15_percent_on_every_side(measured, fits):
    pad = alert(
        "p1", "new_pad", "2025-02-10", "2025-02-20", length_m=measured, width_m=50, area_m2=measured * 50
    )
    (link,) = link_claims([claim("a concrete pad of 100 by 50 m", [dims(100, 50)])], col(pad))
    assert (link.verdict == "supported") is fits
    assert link.alerts[0]["size_fit"]["label"] == ("good" if fits else "fair")


def test_construction_of_concrete_is_never_supported_by_earthworks_alone():
    earth = alert("e1", "earthworks", "2025-02-01", "2025-02-11", area_m2=20000)
    for quote in ("a concrete pad was poured", "the apron was paved", "new asphalt runway"):
        (link,) = link_claims([claim(quote)], col(earth))
        assert link.verdict == "partly_supported", quote
    (levelled,) = link_claims([claim("bulldozers levelled the ground")], col(earth))
    assert levelled.verdict == "supported"


def test_works_recorded_on_the_claim_win_over_the_quote():
    earth = alert("e1", "earthworks", "2025-02-01", "2025-02-11", area_m2=20000)
    (link,) = link_claims([claim("صب أرضيات إسمنتية", works=("surface",), language="ar")], col(earth))
    assert link.verdict == "partly_supported"
    assert link.parts["unverified"][0]["claimed"] == "surface"


@pytest.mark.parametrize(
    ("status", "confidence", "first", "strength"),
    [
        ("confirmed", 0.85, "2025-02-20", "strong"),
        ("candidate", 0.85, "2025-02-20", "moderate"),
        ("confirmed", 0.3, "2025-02-20", "weak"),
        ("confirmed", 0.85, "2025-05-10", "moderate"),  # only within the 15-day tolerance
    ],
)
def test_strength_is_derived_from_the_alert_and_the_date_fit(status, confidence, first, strength):
    last = "2025-02-10" if first < "2025-05-01" else "2025-05-05"
    pad = alert("p1", "new_pad", last, first, status=status, confidence=confidence, area_m2=5000)
    (link,) = link_claims([claim("a new pad was built")], col(pad))
    assert link.verdict == "supported" and link.strength == strength


def test_partly_supported_is_never_strong():
    pad = alert("p1", "new_pad", "2025-02-10", "2025-02-20", length_m=150, width_m=90, area_m2=13500)
    (link,) = link_claims([claim("a pad of 100 by 50 m", [dims(100, 50)])], col(pad))
    assert link.verdict == "partly_supported" and link.strength == "moderate"
    (more_open,) = link_claims(
        [
            claim(
                "pads of 100 by 50 m, 60 by 40 m and 30 by 30 m", [dims(100, 50), dims(60, 40), dims(30, 30)]
            )
        ],
        col(pad),
    )
    assert more_open.verdict == "partly_supported" and more_open.strength == "weak"


def test_undated_claim_without_publication_date_leaves_the_date_unverified():
    pad = alert("p1", "new_pad", "2025-02-10", "2025-02-20", area_m2=5000)
    (link,) = link_claims([claim("a new pad was built", start=None, end=None)], col(pad))
    assert link.verdict == "partly_supported"
    assert [p["part"] for p in link.parts["unverified"]] == ["date"]


def test_absence_and_denial_parts():
    quiet = col()
    (absent,) = link_claims([claim("a new pad was built")], quiet)
    assert absent.verdict == "contradicted" and absent.parts["contradicted"][0]["part"] == "event"
    pad = alert("p1", "new_pad", "2025-02-10", "2025-02-20", area_m2=5000)
    (denied,) = link_claims([claim("no pad was built", negated=True)], col(pad))
    assert denied.verdict == "contradicted" and denied.parts["contradicted"][0]["alert"] == "p1"
    assert denied.strength == "strong"


def test_ambiguous_place_is_not_assessed_and_names_the_candidates():
    c = Claim(
        id="a",
        source={},
        quote={"start": 0, "end": 1, "text": "x"},
        site=None,
        site_text="Tal Brak",
        site_kind=None,
        site_match="ambiguous",
        event="construction",
        trigger=None,
        candidates=("tell-brak", "tal-baydar"),
    )
    (link,) = link_claims([c], col())
    assert link.verdict == "not_assessed" and "tell-brak, tal-baydar" in link.reason
