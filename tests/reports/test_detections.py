"""Detections from every command that writes them: a scan, a batch run's merged file, a comparison."""

import json

import pytest
from alert_builders import alert, collection, scenes_every

from sitewatch.errors import DataError
from sitewatch.reports import Claim, link_claims, load_alerts

START, END = "2024-10-01", "2025-11-30"


def claim(site, event="construction", start="2025-02-01", end="2025-02-28", id_="c"):
    return Claim(
        id=id_,
        source={"file": "t.txt"},
        quote={"start": 0, "end": 1, "text": "a new pad was built"},
        site=site,
        site_text=site,
        site_kind="site",
        site_match="exact",
        event=event,
        trigger=None,
        when={"start": start, "end": end},
    )


def compare_doc(features):
    """What `sitewatch compare --out` writes: untyped changes, no AOI, before/after scenes."""
    return {
        "type": "FeatureCollection",
        "features": features,
        "sitewatch": {
            "before": {"id": "S2_20250205", "date": "2025-02-05"},
            "after": {"id": "S2_20250225", "date": "2025-02-25"},
            "n_objects": len(features),
            "clear_fraction": [0.97, 0.95],
        },
    }


def change(lon, lat, id_="change-1", **props):
    d = 0.001
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    return {
        "type": "Feature",
        "id": id_,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "label": 1,
            "area_m2": 5000.0,
            "length_m": 100.0,
            "width_m": 50.0,
            "confidence": 0.8,
            "before": "2025-02-05",
            "after": "2025-02-25",
            **props,
        },
    }


def test_compare_result_is_linked_to_the_site_its_changes_lie_in(tmp_path):
    path = tmp_path / "changes.geojson"
    path.write_text(json.dumps(compare_doc([change(40.512, 36.706)])))  # at Qasrak
    doc = load_alerts(path)
    assert doc["sitewatch"]["aoi"] == "qasrak" and doc["sitewatch"]["aoi_from"] == "footprint"
    (link,) = link_claims([claim("qasrak")], doc)
    # A change at the claimed time and place, but a comparison does not say what was built.
    assert link.verdict == "partly_supported"
    assert link.alerts[0]["type_fit"] == "untyped"
    (typ,) = [p for p in link.parts["unverified"] if p["part"] == "type"]
    assert "does not type" in typ["seen"]
    assert link.strength in ("moderate", "weak")


def test_compare_result_with_a_named_site(tmp_path):
    path = tmp_path / "changes.geojson"
    path.write_text(json.dumps(compare_doc([change(2.35, 48.85)])))  # Paris: no registered site
    with pytest.raises(DataError, match="--aoi"):
        load_alerts(path)
    doc = load_alerts(path, aoi="conoco")
    assert doc["sitewatch"]["aoi_from"] == "option"
    assert link_claims([claim("conoco")], doc)[0].verdict == "partly_supported"
    empty = tmp_path / "none.geojson"
    empty.write_text(json.dumps(compare_doc([])))
    with pytest.raises(DataError, match="no change to place it by"):
        load_alerts(empty)
    # with no change at all, one clear scene after is not enough to rule a claim out
    (quiet,) = link_claims([claim("conoco")], load_alerts(empty, aoi="conoco"))
    assert quiet.verdict == "no_clear_imagery"


def test_a_comparison_in_memory_needs_its_site():
    with pytest.raises(DataError, match="names no site"):
        link_claims([claim("qasrak")], compare_doc([change(40.512, 36.706)]))


def _run_dir(tmp_path):
    """A batch run directory as `scan --all` writes it: per-site files and the merged file."""
    scenes = scenes_every(START, END)
    q = collection(
        "qasrak",
        [alert("q-pad", "new_pad", "2025-02-10", "2025-02-20", area_m2=5000)],
        scenes,
        start=START,
        end=END,
    )
    c = collection("conoco", [], scenes, start=START, end=END)
    for name, doc in (("qasrak", q), ("conoco", c)):
        (tmp_path / "aois" / name).mkdir(parents=True)
        (tmp_path / "aois" / name / "alerts.geojson").write_text(json.dumps(doc))
    merged = {
        "type": "FeatureCollection",
        "features": q["features"] + c["features"],
        "sitewatch": {"run": "r1", "start": START, "end": END, "aois": ["conoco", "qasrak"]},
    }
    (tmp_path / "alerts.geojson").write_text(json.dumps(merged))
    return tmp_path, q, c


def test_batch_runs_merged_alerts_link_like_the_sites_own_files(tmp_path):
    run, q, c = _run_dir(tmp_path)
    claims = [claim("qasrak", id_="q"), claim("conoco", event="withdrawal", id_="w")]
    merged = link_claims(claims, load_alerts(run / "alerts.geojson"))
    own = link_claims(claims, [q, c])
    assert [(lk.verdict, lk.strength) for lk in merged] == [(lk.verdict, lk.strength) for lk in own]
    assert [lk.verdict for lk in merged] == ["supported", "contradicted"]


def test_merged_alerts_away_from_their_run_cannot_rule_claims_out(tmp_path):
    run, _, _ = _run_dir(tmp_path)
    alone = tmp_path / "copy"
    alone.mkdir()
    (alone / "alerts.geojson").write_text((run / "alerts.geojson").read_text())
    links = link_claims(
        [claim("qasrak", id_="q"), claim("conoco", event="withdrawal", id_="w")],
        load_alerts(alone / "alerts.geojson"),
    )
    assert links[0].verdict == "supported"
    assert links[1].verdict == "no_clear_imagery" and "scenes unknown" in links[1].reason
