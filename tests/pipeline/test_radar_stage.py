"""``scan --sar``: every alert corroborated by Sentinel-1, and radar-only candidates under a closed sky.

End to end through the CLI on a simulated site with its own radar scenes (the simulator's
Sentinel-1 writer: two orbits, speckle, double bounce...).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from shapely.geometry import shape

from sitewatch.cli.main import cli
from sitewatch.simulate import Evacuation, Pad, simulate_site

PAD_DAY = "2024-07-20"
EVENTS = [
    Pad("pad", (-150.0, 120.0), 120.0, 60.0, 30.0, PAD_DAY),
    Evacuation("ev", "2024-08-10", "2024-09-05", fraction=0.8),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("radar-stage")
    return simulate_site(
        root,
        start="2024-01-01",
        end="2024-12-31",
        events=EVENTS,
        size_px=96,
        seed=5,
        sar=True,
        revisit_days=10,
    )


def _footprint(site, name):
    return next(shape(f["geometry"]) for f in site.truth["features"] if f["properties"]["name"] == name)


def _scan(site, scenes: Path, out: Path, end: str) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(
            cli,
            [
                "scan",
                "--aoi",
                str(site.aoi_path),
                "--source",
                f"local:{scenes}",
                "--start",
                "2024-01-01",
                "--end",
                end,
                "--out",
                str(out),
                "--sar",
                f"local:{site.radar_dir}",
            ],
        )
    assert res.exit_code == 0, res.output
    assert "radar" in res.output
    return json.loads(out.read_text())


def test_every_alert_corroborated(site, tmp_path):
    fc = _scan(site, site.scenes_dir, tmp_path / "alerts.geojson", "2024-12-31")
    feats = fc["features"]
    assert feats
    for f in feats:
        sar = f["properties"]["corroboration"]["sar"]
        assert sar["verdict"] in ("consistent", "inconsistent", "no_radar_data")
        assert sar["rule"] and f["properties"]["source"] in ("optical", "sar")
    found = {}
    for name in ("pad", "ev"):
        geom = _footprint(site, name)
        hits = [
            f
            for f in feats
            if shape(f["geometry"]).intersects(geom) and f["properties"]["source"] == "optical"
        ]
        assert hits, name
        found[name] = hits[0]["properties"]["corroboration"]["sar"]
    assert found["pad"]["verdict"] == "consistent" and found["pad"]["direction_vv"] == "darker"
    assert found["ev"]["verdict"] == "consistent"
    assert found["pad"]["radar_before"] <= PAD_DAY <= found["pad"]["radar_after"]


def test_radar_only_candidate_when_the_sky_is_closed(site, tmp_path):
    # every optical scene from the pad's day on is cloudy: they are gone, the scan ends 50 days later
    cloudy_from = dt.date.fromisoformat(PAD_DAY)
    clear_dir = tmp_path / "scenes"
    clear_dir.mkdir()
    for p in site.scenes_dir.glob("*.tif"):
        day = dt.datetime.strptime(p.name.split("_")[3][:8], "%Y%m%d").date()
        if day < cloudy_from:
            shutil.copy(p, clear_dir / p.name)
    fc = _scan(site, clear_dir, tmp_path / "alerts.geojson", "2024-09-08")
    pad = _footprint(site, "pad")
    radar_only = [f for f in fc["features"] if f["properties"]["source"] == "sar"]
    hits = [f for f in radar_only if shape(f["geometry"]).intersects(pad)]
    assert hits, [f["properties"]["change_type"] for f in radar_only]
    p = hits[0]["properties"]
    assert p["status"] == "candidate" and p["change_type"] in ("new_pad", "other")
    day = dt.date.fromisoformat(p["first_detected"])
    assert abs((day - cloudy_from).days) <= 24  # two same-orbit revisits
    # the candidate stays off the clear-sky scan: there the optical alert carries the radar
    assert len(radar_only) <= 3


def test_one_orbit_works_and_says_so(site, tmp_path):
    one = tmp_path / "s1-desc"
    one.mkdir()
    for p in site.radar_dir.glob("*.tif"):
        if int(p.name.split("_")[5][9:11]) < 12:  # the morning (descending) passes at 40.5 E
            shutil.copy(p, one / p.name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(
            cli,
            [
                "scan",
                "--aoi",
                str(site.aoi_path),
                "--source",
                f"local:{site.scenes_dir}",
                "--start",
                "2024-01-01",
                "--end",
                "2024-12-31",
                "--out",
                str(tmp_path / "a.geojson"),
                "--sar",
                f"local:{one}",
            ],
        )
    assert res.exit_code == 0, res.output
    assert "one orbit direction only" in res.output
    fc = json.loads((tmp_path / "a.geojson").read_text())
    assert all(
        f["properties"]["corroboration"]["sar"]["orbits"]
        for f in fc["features"]
        if f["properties"]["source"] == "optical"
    )


def test_batch_passes_the_radar_source(site, tmp_path):
    aois = tmp_path / "aois"
    aois.mkdir()
    shutil.copy(site.aoi_path, aois / "simsite.geojson")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(
            cli,
            [
                "scan",
                "--all",
                "--aoi-dir",
                str(aois),
                "--scheduler",
                "serial",
                "--source",
                f"local:{site.scenes_dir}",
                "--start",
                "2024-01-01",
                "--end",
                "2024-12-31",
                "--out-dir",
                str(tmp_path / "run"),
                "--sar",
                f"local:{site.radar_dir}",
            ],
        )
    assert res.exit_code == 0, res.output
    written = list((tmp_path / "run").rglob("*.geojson"))
    feats = [
        f
        for p in written
        for f in json.loads(p.read_text()).get("features", [])
        if "corroboration" in f.get("properties", {})
    ]
    assert feats and all(f["properties"]["corroboration"]["sar"] for f in feats)


def test_quicklook_has_the_radar_series_of_every_alert(site, tmp_path):
    from sitewatch import load_aoi, scan
    from sitewatch.pipeline.imagery import radar_series

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = scan(
            load_aoi(str(site.aoi_path)),
            f"local:{site.scenes_dir}",
            start="2024-01-01",
            end="2024-12-31",
            sar=f"local:{site.radar_dir}",
        )
    assert result.alerts and set(result.radar_series) == {a.id for a in result.alerts}
    pad = _footprint(site, "pad")
    alert = next(a for a in result.alerts if a.source == "optical" and a.geometry.intersects(pad))
    panel = radar_series(result, alert)
    assert panel is not None and sorted(set(panel.orbits)) == sorted(alert.corroboration_sar.orbits)
    assert set(panel.db) == {"VV", "VH"} and len(panel.times) == len(panel.orbits)
    assert dict((label, day) for label, day in panel.marks)["first detected"] == alert.first_detected
    # the pad's outline is darker after its first detection than before, in each orbit, as plotted
    days = panel.times.astype("datetime64[D]")
    for orbit in set(panel.orbits):
        on = np.asarray(panel.orbits) == orbit
        before = on & (days < np.datetime64(alert.last_unchanged or alert.first_detected))
        after = on & (days >= np.datetime64(alert.first_detected))
        assert np.nanmean(panel.db["VV"][after]) < np.nanmean(panel.db["VV"][before]) - 1.0
    pictures = result.with_quicklooks(tmp_path / "ql", quicklook_format="svg")
    svg = (tmp_path / "ql" / f"{alert.id}.svg").read_text()
    assert "Sentinel-1 over the outline" in svg and pictures.alerts
    assert f"first detected {alert.first_detected}" in svg
