"""Verdicts on hand-built claims (no shared data needed)."""

import pytest
from alert_builders import alert, collection, scenes_every

from sitewatch.reports import Claim, link_claims

START, END = "2024-01-01", "2024-12-31"


def claim(id_, site, event, start, end, quantities=(), negated=False):
    return Claim(
        id=id_,
        source={"file": "t.txt"},
        quote={"start": 0, "end": 1, "text": "x"},
        site=site,
        site_text=site,
        site_kind="site",
        site_match="exact",
        event=event,
        trigger=None,
        negated=negated,
        hedged=False,
        when={"start": start, "end": end},
        quantities=tuple(quantities),
    )


@pytest.fixture
def col():
    return collection(
        "qasrak",
        [
            alert("p1", "new_pad", "2024-05-03", "2024-05-13", length_m=120, width_m=60, area_m2=7200),
            alert("r1", "runway_change", "2024-08-01", "2024-08-11", length_m=400, width_m=45, area_m2=18000),
        ],
        scenes_every(START, END, cloudy=[("2024-10-01", "2024-12-31")]),
        start=START,
        end=END,
    )


def test_four_verdicts(col):
    pad = {
        "kind": "dimensions",
        "value": 7000.0,
        "unit": "m2",
        "length_m": 115.0,
        "width_m": 61.0,
        "text": "115 by 61 m",
    }
    runway = {"kind": "length", "value": 1700.0, "unit": "m", "noun": "runway", "text": "1.7-kilometer"}
    claims = [
        claim("sup", "qasrak", "construction", "2024-05-01", "2024-05-31", [pad]),
        claim("con", "qasrak", "construction", "2024-02-01", "2024-03-15"),
        claim("vis", "qasrak", "arrival", "2024-02-01", "2024-02-01"),
        claim("ncl", "qasrak", "construction", "2024-10-10", "2024-11-20"),
        claim("run", "qasrak", "construction", "2024-07-01", "2024-08-31", [runway]),
    ]
    v = {link.claim_id: link for link in link_claims(claims, col)}
    assert v["sup"].verdict == "supported" and [a["id"] for a in v["sup"].alerts] == ["p1"]
    assert v["sup"].alerts[0]["size_fit"]["label"] == "good"
    assert v["con"].verdict == "contradicted"
    assert v["vis"].verdict == "not_visible"
    assert v["ncl"].verdict == "no_clear_imagery"
    # the runway change fits the type and the date, but 400 m is not the claimed 1.7 km
    assert v["run"].verdict == "partly_supported" and v["run"].alerts[0]["type_fit"] == "exact"
    (size,) = v["run"].parts["unverified"]
    assert size["part"] == "size" and "r1" in size["seen"] and "400 x 45 m" in size["seen"]
    assert {p["part"] for p in v["run"].parts["fits"]} == {"place", "type", "date"}


def test_size_mismatch_is_reported_not_hidden(col):
    big = {
        "kind": "dimensions",
        "value": 250000.0,
        "unit": "m2",
        "length_m": 500.0,
        "width_m": 500.0,
        "text": "500 by 500 m",
    }
    (link,) = link_claims([claim("big", "qasrak", "construction", "2024-05-01", "2024-05-31", [big])], col)
    assert link.verdict == "partly_supported"  # a pad at the time, but not one of that size
    assert "size_fit" not in link.alerts[0]  # a factor of four is another object: not matched
    assert [p["claimed"] for p in link.parts["unverified"]] == ["500 by 500 m"]
    assert link.strength != "strong"


def test_denied_construction_with_quiet_imagery_is_supported(col):
    (link,) = link_claims(
        [claim("d", "qasrak", "construction", "2024-02-01", "2024-03-15", negated=True)], col
    )
    assert link.verdict == "supported" and "as the text says" in link.reason


def test_withdrawal_needs_an_evacuation_not_a_pad(col):
    (link,) = link_claims([claim("w", "qasrak", "withdrawal", "2024-05-01", "2024-05-31")], col)
    assert link.verdict == "contradicted"
    assert [a["id"] for a in link.related] == ["p1"]  # the pad is shown as a near miss of another type


def test_attack_is_supported_by_damage_but_never_contradicted(col):
    (quiet,) = link_claims([claim("a", "qasrak", "attack", "2024-02-01", "2024-02-10")], col)
    assert quiet.verdict == "not_visible" and "strike damage" in quiet.reason
    scarred = collection(
        "qasrak",
        [alert("burn", "other", "2024-02-01", "2024-02-11", area_m2=5000)],
        scenes_every(START, END),
        start=START,
        end=END,
    )
    (hit,) = link_claims([claim("b", "qasrak", "attack", "2024-02-01", "2024-02-10")], scarred)
    assert hit.verdict == "supported" and hit.alerts[0]["id"] == "burn"


def test_a_plan_is_looked_for_until_the_imagery_ends(col):
    import dataclasses

    plan = dataclasses.replace(
        claim("plan", "qasrak", "construction", "2024-03-01", "2024-03-31"), planned=True, hedged=True
    )
    (link,) = link_claims([plan], col)
    assert link.verdict == "supported"  # the pad of May carried the March plan out
    assert "a plan" in link.interval["note"]
    (done,) = link_claims([dataclasses.replace(plan, planned=False)], col)
    assert done.verdict == "contradicted"
