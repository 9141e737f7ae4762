"""Linking against alerts that the simulator and ``sitewatch.pipeline.scan`` produce (known truth)."""

import warnings

import pytest

from sitewatch.reports import Claim, attach_links, link_claims

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    simulate = pytest.importorskip("sitewatch.simulate")
    scan_mod = pytest.importorskip("sitewatch.pipeline.scan")
    tmp = tmp_path_factory.mktemp("sim")
    site = simulate.simulate_site(
        tmp / "sim",
        start="2024-03-01",
        end="2024-09-30",
        size_px=48,
        base=False,
        events=[simulate.Pad("pad-1", (0, 0), 150, 80, 30, "2024-06-01")],
        name="sim-tiny",
        seed=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # partial cover / few clear scenes are not what is tested here
        result = scan_mod.scan(site.aoi, f"local:{site.scenes_dir}", start="2024-03-01", end="2024-09-30")
    return result.to_geojson()


def claim(id_, event, start, end, quantities=()):
    return Claim(
        id=id_,
        source={"file": "sim.txt"},
        quote={"start": 0, "end": 1, "text": "x"},
        site="sim-tiny",
        site_text="the base",
        site_kind="site",
        site_match="exact",
        event=event,
        trigger=None,
        when={"start": start, "end": end},
        quantities=tuple(quantities),
    )


def test_verdicts_against_a_simulated_scan(scanned):
    pad = {
        "kind": "dimensions",
        "value": 12000.0,
        "unit": "m2",
        "length_m": 150.0,
        "width_m": 80.0,
        "text": "150 by 80 meters",
    }
    claims = [
        claim("pad", "construction", "2024-05-15", "2024-06-15", [pad]),
        claim("quiet-april", "construction", "2024-03-25", "2024-04-10"),
        claim("before-imagery", "construction", "2024-02-01", "2024-03-31"),
        claim("landing", "air_activity", "2024-06-01", "2024-06-01"),
    ]
    v = {link.claim_id: link for link in link_claims(claims, scanned)}
    assert v["pad"].verdict == "supported"
    best = v["pad"].alerts[0]
    assert best["change_type"] == "new_pad" and best["size_fit"]["label"] == "good"
    assert v["quiet-april"].verdict == "contradicted"
    assert v["before-imagery"].verdict == "no_clear_imagery"
    assert v["landing"].verdict == "not_visible"

    cited = attach_links(scanned, list(v.values()), claims)
    by_id = {f["properties"]["id"]: f["properties"]["claims"] for f in cited["features"]}
    assert by_id[best["id"]][0]["claim_id"] == "pad"
