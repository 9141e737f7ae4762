"""The held-out sets of round 3, scored on (site, event, date), denials, background passages and
page furniture.

``heldout2`` (fourteen short reports) was written before any of the code it measures was
changed; ``heldout3`` (twelve) after the rules were built, and run once before anything was
changed for it. The first measurements are in the README's reports section, with the ones
after. The scoring is strict on dates (two days of slack, so a date attached to the wrong
clause's event is a miss) and the targets are the issue's: 90 % of expected claims in English,
80 % in Arabic, no denied event reported as happening; and no background passage told as a
fresh event, nothing from tickers and teasers.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from sitewatch.reports import Claim
from sitewatch.reports.extract import extract_reports

HELDOUT = Path(__file__).parent / "heldout2"
SLACK = dt.timedelta(days=2)


def _inside(claim: Claim, start: str | None, end: str | None) -> bool:
    """The claim's interval lies inside [start - slack, end + slack] (None: unbounded)."""
    lo, hi = claim.when.get("start"), claim.when.get("end")
    if start and (not lo or dt.date.fromisoformat(lo) < dt.date.fromisoformat(start) - SLACK):
        return False
    return not (end and (not hi or dt.date.fromisoformat(hi) > dt.date.fromisoformat(end) + SLACK))


def _codec(name: str | None) -> str:
    return codecs.lookup(name or "utf-8").name


def _background(claim: Claim) -> bool:
    return bool(getattr(claim, "background", False))


def _found(claim: Claim, exp: dict[str, Any]) -> bool:
    if (claim.site, claim.event) != (exp["site"], exp["event"]) or claim.negated or _background(claim):
        return False
    return _inside(claim, exp["start"], exp["end"])


def _quotes(claim: Claim, text: str) -> bool:
    return text in claim.quote["text"] or any(text in a["text"] for a in claim.also)


def _background_faults(claims: list[Claim], entry: dict[str, Any], published: str) -> list[str]:
    """What a background passage must never give: a fresh claim, or a date taken from publication."""
    faults = []
    for c in claims:
        if not _quotes(c, entry["text"]):
            continue
        if entry["site"] and c.site != entry["site"]:
            continue
        if entry["event"] and c.event != entry["event"]:
            continue
        if not _background(c):
            faults.append(f"fresh claim from background: {c.site} {c.event} {c.when.get('start')}")
        elif c.when.get("end") == published and c.when.get("kind") == "none":
            faults.append(f"background dated by publication: {c.site} {c.event}")
        elif not _inside(c, entry["start"], entry["end"]):
            faults.append(f"background not at its own date: {c.site} {c.event} {c.when}")
    return faults


def measure(folder: Path = HELDOUT) -> dict[str, Any]:
    """Score a held-out set: found / expected per language, and every fault, by report."""
    doc = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    found = {"en": [0, 0], "ar": [0, 0]}
    misses: list[str] = []
    denied: list[str] = []
    background: list[str] = []
    absent: list[str] = []
    encodings: list[str] = []
    for report in doc["reports"]:
        claims, sources = extract_reports(folder / report["file"], published=report["published"])
        name = report["file"]
        if report.get("encoding") and _codec(sources[0]["encoding"]) != _codec(report["encoding"]):
            encodings.append(f"{name}: read as {sources[0]['encoding']}")
        for exp in report["expected"]:
            hit = any(_found(c, exp) for c in claims)
            found[report["language"]][0] += hit
            found[report["language"]][1] += 1
            if not hit:
                misses.append(f"{name}: {exp['site']} {exp['event']} {exp['start']}..{exp['end']}")
        passages = [b["text"] for b in report["background"]]
        for d in report["denied"]:
            denied += [
                f"{name}: {c.quote['text'][:80]}"
                for c in claims
                if (c.site, c.event) == (d["site"], d["event"])
                and not c.negated
                and not any(_quotes(c, p) for p in passages)
            ]
        for b in report["background"]:
            background += [f"{name}: {f}" for f in _background_faults(claims, b, report["published"])]
        for a in report["absent"]:
            absent += [
                f"{name}: {c.site} {c.event}" for c in claims if (c.site, c.event) == (a["site"], a["event"])
            ]
    return {"found": found, "misses": misses, "denied": denied, "background": background, "absent": absent,
            "encodings": encodings}  # fmt: skip


@pytest.fixture(scope="module", params=["heldout2", "heldout3"])
def measured(request) -> dict[str, Any]:
    return measure(Path(__file__).parent / request.param)


def test_share_of_expected_claims_found(measured):
    found = measured["found"]
    en, ar = (found[k][0] / found[k][1] for k in ("en", "ar"))
    assert en >= 0.9 and ar >= 0.8, (found, measured["misses"])


def test_no_denied_event_reported_as_happening(measured):
    assert not measured["denied"]


def test_background_is_never_a_fresh_claim(measured):
    assert not measured["background"]


def test_page_furniture_gives_no_claim(measured):
    assert not measured["absent"]


def test_legacy_encodings_are_read(measured):
    assert not measured["encodings"]


if __name__ == "__main__":  # the README's figures: PYTHONPATH=src python tests/reports/test_heldout2.py [DIR]
    import sys

    where = Path(sys.argv[1]) if len(sys.argv) > 1 else HELDOUT
    print(json.dumps(measure(where), ensure_ascii=False, indent=1))
