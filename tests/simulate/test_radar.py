"""The simulator's Sentinel-1 writer: readable scenes, the physics that matter, the same optical files."""

from __future__ import annotations

import datetime as dt
import itertools
import warnings

import numpy as np
import pytest
import rasterio
from odc.geo.geom import Geometry
from odc.geo.xr import rasterize
from shapely.geometry import shape

from sitewatch.core.sar_outline import outline_change
from sitewatch.providers.radar import get_radar_provider
from sitewatch.simulate import Evacuation, Pad, simulate_site
from sitewatch.simulate.radar import radar_acquisitions, radar_passes

EVENTS = [
    Pad("pad", (-150.0, 120.0), 120.0, 60.0, 30.0, "2024-08-01"),
    Evacuation("ev", "2024-08-10", "2024-09-05", fraction=0.8),
]


@pytest.fixture(scope="module")
def sar_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("simsar")
    return simulate_site(
        root,
        start="2024-01-01",
        end="2024-12-31",
        events=EVENTS,
        size_px=96,
        seed=3,
        sar=True,
        revisit_days=10,
    )


def _mask(site, name, stack):
    feat = next(f for f in site.truth["features"] if f["properties"]["name"] == name)
    return np.asarray(
        rasterize(Geometry(shape(feat["geometry"]), "EPSG:4326"), stack.odc.geobox).values, bool
    )


def test_radar_scenes_are_readable_with_both_orbits(sar_site):
    radar = get_radar_provider(f"local:{sar_site.radar_dir}")
    scenes = list(radar.search(sar_site.aoi))
    log = sar_site.truth["sitewatch_simulation"]["radar"]
    assert len(scenes) == len(log["scenes"]) > 50
    assert {s.properties["orbit_direction"] for s in scenes} == {"ASCENDING", "DESCENDING"}
    assert all(s.id.startswith("SIM_S1A_IW_GRDH_1SDV_") for s in scenes)
    assert {s.properties["backscatter"] for s in scenes} == {"gamma0"}
    # 12-day revisit per orbit
    per_orbit: dict[int, list[dt.datetime]] = {}
    for s in scenes:
        per_orbit.setdefault(s.properties["relative_orbit"], []).append(s.datetime)
    assert len(per_orbit) == 2
    for times in per_orbit.values():
        assert {(b - a).days for a, b in itertools.pairwise(times)} == {12}


def test_radar_physics(sar_site):
    radar = get_radar_provider(f"local:{sar_site.radar_dir}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack = radar.load(list(radar.search(sar_site.aoi)), aoi=sar_site.aoi)
    vv = stack.sel(band="VV").values
    # speckle: on one pixel of a stable date pair the power ratio of gamma(L) variables has
    # variance 2/L (+ the small terms); far from the 0 of a noiseless simulation
    d = stack.coords["orbit_direction"].values
    asc = np.nonzero(d == "ASCENDING")[0]
    ratio = vv[asc[1]] / vv[asc[2]]
    assert 0.2 < np.nanvar(np.log(ratio)) < 2.0
    # the two orbits see the same ground at different levels (incidence angles)
    lvl = {k: float(np.nanmedian(10 * np.log10(vv[d == k]))) for k in ("ASCENDING", "DESCENDING")}
    assert abs(lvl["ASCENDING"] - lvl["DESCENDING"]) > 0.3
    # the pad goes darker and the evacuated compound loses its double bounce
    for name in ("pad", "ev"):
        ev = outline_change(
            stack, _mask(sar_site, name, stack), event_start="2024-07-25", event_end="2024-09-10"
        )
        assert ev.direction("VV") == "darker", name
    compound = _mask(sar_site, "ev", stack)
    before = 10 * np.log10(np.nanmean(vv[:5][:, compound]))
    ground = 10 * np.log10(np.nanmean(vv[:5][:, ~compound]))
    assert before > ground + 3  # structures are bright


def test_optical_scenes_unchanged_by_sar(sar_site, tmp_path):
    plain = simulate_site(
        tmp_path, start="2024-01-01", end="2024-12-31", events=EVENTS, size_px=96, seed=3, revisit_days=10
    )
    assert plain.radar_dir is None
    truth = dict(sar_site.truth["sitewatch_simulation"])
    truth.pop("radar")
    assert truth == plain.truth["sitewatch_simulation"]
    names = sorted(p.name for p in (plain.directory / "scenes").glob("*.tif"))
    assert names == sorted(p.name for p in (sar_site.directory / "scenes").glob("*.tif"))
    for name in names[::7]:
        with (
            rasterio.open(plain.directory / "scenes" / name) as a,
            rasterio.open(sar_site.scenes_dir / name) as b,
        ):
            assert np.array_equal(a.read(), b.read())


def test_six_day_revisit_alternates_two_satellites():
    passes = radar_passes(1, dt.date(2023, 1, 1), 40.0)
    acq = radar_acquisitions(passes, dt.date(2023, 1, 1), dt.date(2023, 3, 1), revisit_days=6)
    assert {p for _, _, p in acq} == {"S1A", "S1C"}
    assert passes[0].incidence_deg != passes[1].incidence_deg
