"""The held-out reports: written before the Arabic and cross-sentence rules, never tuned on at first.

First measurement (before looking at any miss): English 6 of 8 expected (site, event, date) claims
(75 %), Arabic 13 of 13 (100 %), no denied event reported as happening (the Green Village
"drawdown ... proved false" was hedged, not yet negated). The three general gaps the misses showed
were then closed ("cleared areas", a season with no year, "imagery from 18 July" is a day not an
open range, "proved false" as a denial), so these reports are no longer unseen: the figures below
guard against regressions, they do not measure generalisation.
"""

import datetime as dt
import json
from pathlib import Path

import pytest

from sitewatch.reports import extract_claims

HELDOUT = Path(__file__).parent / "heldout"
SLACK = dt.timedelta(days=7)


def _found(claim, exp):
    if (claim.site, claim.event) != (exp["site"], exp["event"]) or claim.negated:
        return False
    start, end = claim.when.get("start"), claim.when.get("end")
    if exp["start"] and (
        not start or dt.date.fromisoformat(start) < dt.date.fromisoformat(exp["start"]) - SLACK
    ):
        return False
    return not (
        exp["end"] and (not end or dt.date.fromisoformat(end) > dt.date.fromisoformat(exp["end"]) + SLACK)
    )


@pytest.fixture(scope="module")
def measured():
    doc = json.loads((HELDOUT / "expected.json").read_text(encoding="utf-8"))
    found = {"en": [0, 0], "ar": [0, 0]}
    denied_as_happening = []
    for report in doc["reports"]:
        claims = extract_claims(HELDOUT / report["file"], published=report["published"])
        for exp in report["expected"]:
            found[report["language"]][0] += any(_found(c, exp) for c in claims)
            found[report["language"]][1] += 1
        for d in report["denied"]:
            denied_as_happening += [
                c for c in claims if (c.site, c.event) == (d["site"], d["event"]) and not c.negated
            ]
    return found, denied_as_happening


def test_share_of_expected_claims_found(measured):
    found, _ = measured
    en, ar = (found[k][0] / found[k][1] for k in ("en", "ar"))
    assert en >= 0.9 and ar >= 0.8, found


def test_no_denied_event_reported_as_happening(measured):
    _, denied = measured
    assert not denied, [c.quote["text"] for c in denied]
