import dataclasses
import json

import pytest
from alert_builders import alert, collection, scenes_every

from sitewatch.errors import DataError, ReportError
from sitewatch.reports import (
    attach_links,
    brief_markdown,
    claims_document,
    extract_claims,
    link_claims,
    links_document,
    load_alerts,
    load_claims,
)

pytestmark = pytest.mark.e2e  # claims come from the shared real reports

START, END = "2024-10-01", "2025-11-30"


@pytest.fixture(scope="module")
def claims(shared_dir):
    return extract_claims(shared_dir / "reports")


@pytest.fixture(scope="module")
def collections():
    clear = scenes_every(START, END)
    qasrak = collection(
        "qasrak",
        [
            alert(
                "qasrak-pad-1", "new_pad", "2025-02-10", "2025-02-20", length_m=190, width_m=95, area_m2=18050
            ),
            alert(
                "qasrak-pad-2", "new_pad", "2025-03-02", "2025-03-12", length_m=85, width_m=58, area_m2=4930
            ),
            alert(
                "qasrak-earth-1",
                "earthworks",
                "2025-08-01",
                "2025-08-11",
                area_m2=30000,
                status="candidate",
                confidence=0.55,
            ),
            alert("qasrak-other-1", "other", "2025-09-20", "2025-09-30", area_m2=900),
        ],
        clear,
        start=START,
        end=END,
    )
    conoco = collection("conoco", [], clear, start=START, end=END)
    al_omar = collection(
        "al-omar", [], scenes_every(START, END, cloudy=[("2025-08-15", "2025-11-30")]), start=START, end=END
    )
    green = collection(
        "green-village",
        [alert("gv-evac-1", "evacuation", "2025-05-11", "2025-05-21", area_m2=40000, aoi="green-village")],
        clear,
        start=START,
        end=END,
    )
    return [qasrak, conoco, al_omar, green]


@pytest.fixture(scope="module")
def links(claims, collections):
    return {link.claim_id: link for link in link_claims(claims, collections)}


def find(claims, **kw):
    out = [
        c
        for c in claims
        if all((c.when.get(k) if k in ("start", "end") else getattr(c, k)) == v for k, v in kw.items())
    ]
    assert out, kw
    return out


def test_pads_supported_with_size_match(claims, links):
    pad = next(
        c
        for c in find(claims, site="qasrak", event="construction")
        if any(q["kind"] == "dimensions" for q in c.quantities)
    )
    link = links[pad.id]
    assert link.verdict == "supported"
    ids = [a["id"] for a in link.alerts]
    assert set(ids) == {"qasrak-pad-1", "qasrak-pad-2"}
    for a in link.alerts:
        assert a["size_fit"]["label"] == "good" and a["date_fit"] == "inside" and a["type_fit"] == "exact"
    assert link.strength == "strong"


def test_expansion_from_july_supported_by_candidate_earthworks(claims, links):
    (c,) = find(claims, site="qasrak", event="construction", start="2025-07-01")
    link = links[c.id]
    assert link.verdict == "supported"
    assert [a["id"] for a in link.alerts] == ["qasrak-earth-1"]
    assert link.strength in ("moderate", "weak")  # a candidate, not confirmed


@pytest.mark.parametrize("event", ["arrival", "air_activity"])
def test_convoys_and_landings_are_not_visible(claims, links, event):
    for c in find(claims, site="qasrak", event=event):
        assert links[c.id].verdict == "not_visible"
        assert "10 m" in links[c.id].reason


def test_withdrawal_without_alert_under_clear_skies_is_contradicted(claims, links):
    (c,) = find(claims, site="conoco", event="withdrawal", start="2025-01-01", end="2025-10-31")
    link = links[c.id]
    assert link.verdict == "contradicted"
    assert link.imagery["clear_before"] >= 1 and link.imagery["clear_after"] >= 2
    assert link.imagery["first_clear_after"] >= "2025-10-16"


def test_withdrawal_with_cloudy_months_after_is_no_clear_imagery(claims, links):
    (c,) = find(claims, site="al-omar", event="withdrawal", start="2025-01-01", end="2025-10-31")
    link = links[c.id]
    assert link.verdict == "no_clear_imagery"
    assert link.imagery["clear_after"] == 0
    assert "after" in link.reason


def test_withdrawal_with_evacuation_alert_at_an_unlocated_site_is_partly_supported(claims, links):
    (c,) = find(claims, site="green-village", event="withdrawal", start="2025-01-01", end="2025-10-31")
    link = links[c.id]
    assert link.alerts[0]["id"] == "gv-evac-1"
    # Green Village has no established point: an evacuation in its 8 km search area is not surely it.
    assert link.verdict == "partly_supported"
    assert [p["part"] for p in link.parts["unverified"]] == ["place"]
    assert {p["part"] for p in link.parts["fits"]} == {"type", "date"}


def test_claim_before_the_imagery_has_no_clear_imagery(claims, links):
    (c,) = find(claims, site="qasrak", event="construction", start="2017-09-01")
    assert links[c.id].verdict == "no_clear_imagery"
    assert "outside the imagery" in links[c.id].reason


def test_places_without_alerts_are_not_assessed(claims, links):
    for c in find(claims, site="ain-al-asad"):
        assert links[c.id].verdict == "not_assessed"


def test_denial_flips_the_meaning(claims, collections):
    base = next(
        c
        for c in find(claims, site="qasrak", event="construction")
        if any(q["kind"] == "dimensions" for q in c.quantities)
    )
    denied = dataclasses.replace(base, id="denied", negated=True)
    (link,) = link_claims([denied], collections)
    assert link.verdict == "contradicted" and link.alerts
    quiet = dataclasses.replace(
        denied, id="quiet", when={"start": "2025-05-01", "end": "2025-06-30"}, quantities=()
    )
    (link,) = link_claims([quiet], collections)
    assert link.verdict == "supported"  # clear imagery shows no construction, as the text says


def test_tiny_claimed_object_is_not_visible(claims, collections):
    base = find(claims, site="conoco", event="withdrawal")[0]
    tiny = dataclasses.replace(
        base,
        id="tiny",
        event="construction",
        quantities=(
            {
                "kind": "dimensions",
                "value": 80.0,
                "unit": "m2",
                "length_m": 10.0,
                "width_m": 8.0,
                "text": "10 by 8 meters",
            },
        ),
    )
    (link,) = link_claims([tiny], collections)
    assert link.verdict == "not_visible" and "10 by 8 meters" in link.reason


def test_unknown_place_is_not_assessed(claims, collections):
    unknown = dataclasses.replace(claims[0], id="u", site=None, site_text="Kharab Ishk base")
    (link,) = link_claims([unknown], collections)
    assert link.verdict == "not_assessed" and "Kharab Ishk" in link.reason


def test_tolerance_decides_near_misses(claims, collections):
    base = find(claims, site="conoco", event="withdrawal")[0]
    claim = dataclasses.replace(
        base,
        id="q",
        site="qasrak",
        event="construction",
        quantities=(),
        when={"start": "2025-03-20", "end": "2025-03-31"},
    )
    assert link_claims([claim], collections, tolerance_days=15)[0].verdict == "supported"
    assert link_claims([claim], collections, tolerance_days=0)[0].verdict == "contradicted"


def test_attach_links_puts_claims_on_alerts(claims, collections):
    links = link_claims(claims, collections)
    doc = attach_links(collections[0], links, claims)
    props = {f["properties"]["id"]: f["properties"] for f in doc["features"]}
    assert props["qasrak-pad-1"]["claims"] and props["qasrak-pad-1"]["claims"][0]["verdict"] == "supported"
    assert props["qasrak-other-1"]["claims"] == []
    assert "claims" not in collections[0]["features"][0]["properties"]  # the input is not changed


def test_markdown_brief_timeline(claims, collections):
    links = link_claims(claims, collections)
    md = brief_markdown(claims, links, collections)
    assert "## qasrak" in md and "## conoco" in md
    assert "| date | reports say | imagery shows | verdict |" in md
    assert "**contradicted**" in md and "not visible at 10 m" in md and "no clear imagery" in md
    assert "`qasrak-other-1`" in md  # a detection no claim speaks of still shows on the timeline
    assert "Simulated imagery" in md
    assert "ain-al-asad" in md  # listed among places without alerts


def test_links_document_summary(claims, collections):
    doc = links_document(link_claims(claims, collections), claims)
    assert set(doc["summary"]) >= {"supported", "contradicted", "not_visible", "no_clear_imagery"}
    assert all("quote" in d["claim"] for d in doc["links"])
    json.dumps(doc)


def test_bad_claims_files_are_refused(tmp_path, claims):
    bad_json = tmp_path / "a.json"
    bad_json.write_text("{not json")
    with pytest.raises(ReportError, match="not valid JSON"):
        load_claims(bad_json)
    wrong = tmp_path / "b.json"
    wrong.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(ReportError, match="not a sitewatch claims file"):
        load_claims(wrong)
    doc = claims_document(claims)
    doc["claims"][0]["event"] = "party"
    bad_event = tmp_path / "c.json"
    bad_event.write_text(json.dumps(doc))
    with pytest.raises(ReportError, match="claims/0/event"):
        load_claims(bad_event)
    doc = claims_document(claims)
    doc["claims"][0]["when"] = {"start": "2025-05-01", "end": "2025-01-01"}
    reversed_ = tmp_path / "d.json"
    reversed_.write_text(json.dumps(doc))
    with pytest.raises(ReportError, match="before it starts"):
        load_claims(reversed_)
    with pytest.raises(ReportError, match="does not exist"):
        load_claims(tmp_path / "none.json")


def test_bad_alerts_are_refused(tmp_path, claims):
    path = tmp_path / "alerts.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}))
    with pytest.raises(DataError, match="sitewatch"):
        load_alerts(path)
    with pytest.raises(DataError, match="lacks"):
        link_claims(
            claims,
            {
                "type": "FeatureCollection",
                "sitewatch": {"aoi": "qasrak"},
                "features": [{"type": "Feature", "properties": {"id": "x"}}],
            },
        )
