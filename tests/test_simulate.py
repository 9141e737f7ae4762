"""The site simulator: scenes in the local format, truth, determinism, and hard enough."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import sitewatch
from sitewatch.errors import ConfigError
from sitewatch.simulate import (
    Earthworks,
    Evacuation,
    Pad,
    RunwayExtension,
    demo_events,
    random_events,
    score_alerts,
    simulate_site,
)

EVENTS = [
    Pad("pad", (-300.0, 350.0), 120.0, 70.0, 30.0, "2024-12-20"),
    RunwayExtension("rw", 200.0, "2025-01-10"),
    Evacuation("ev", "2024-12-01", "2024-12-25", fraction=0.9),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("sim")
    return simulate_site(
        out, start="2024-10-01", end="2025-02-28", size_px=120, revisit_days=6, seed=3, events=EVENTS
    )


def test_scenes_are_in_the_local_format(site):
    scenes = sitewatch.find_scenes(site.scenes_dir)
    assert len(scenes) == len(site.dates) >= 15
    s = scenes[0]
    assert s.bands == ("B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL")
    assert s.processing_level == "L2A"
    assert "SIM" in s.id
    assert s.crs == site.aoi.utm_crs == "EPSG:32637"
    import rasterio

    with rasterio.open(s.location) as src:
        assert src.tags()["SIMULATED"] == "true"


def test_truth_lists_events_and_phenology(site):
    truth = json.loads(site.truth_path.read_text())
    assert truth["sitewatch_simulation"]["simulated"] is True
    expected = [f["properties"] for f in truth["features"] if f["properties"]["expected_alert"]]
    assert [(p["name"], p["change_type"]) for p in expected] == [
        ("pad", "new_pad"),
        ("rw", "runway_change"),
        ("ev", "evacuation"),
    ]
    pad = expected[0]
    assert pad["area_m2"] == pytest.approx(120 * 70, rel=1e-3)
    assert expected[1]["added_length_m"] == 200
    assert 0 < expected[2]["fraction_affected"] < 1
    kinds = {f["properties"]["change_type"] for f in truth["features"]}
    assert {"field_greening", "field_harvest"} & kinds
    scenes = truth["sitewatch_simulation"]["scenes"]
    assert all({"cloud_fraction", "shift_px", "haze"} <= set(s) for s in scenes)
    aoi = sitewatch.load_aoi(site.aoi_path)
    assert aoi.name == "simsite"


def test_same_seed_same_scene(tmp_path: Path, site):
    again = simulate_site(
        tmp_path, start="2024-10-01", end="2025-02-28", size_px=120, revisit_days=6, seed=3, events=EVENTS
    )
    a = sorted(site.scenes_dir.glob("*.tif"))[3].read_bytes()
    b = sorted(again.scenes_dir.glob("*.tif"))[3].read_bytes()
    assert a == b


def test_the_series_is_hard(site):
    """Clouds, shadows, haze and misregistration defeat a naive detector."""
    stack = sitewatch.open_series(site.scenes_dir)
    refl = stack.sel(band=["B02", "B04", "B08", "B11"]).values
    scl = stack.sel(band="SCL").values
    cloudy = np.isin(scl, [8, 9, 10]).mean(axis=(1, 2))
    assert (cloudy > 0.3).sum() >= 2 and (cloudy < 0.05).sum() >= 5
    assert (scl == 3).any()  # cloud shadows are flagged
    # naive: z-score against the temporal median, any date beyond 3 sigma, ignoring SCL
    med = np.nanmedian(refl, axis=0)
    sd = np.nanstd(refl, axis=0) + 1e-6
    naive = (np.abs(refl - med) / sd > 3).any(axis=(0, 1))
    assert naive.mean() > 0.2  # flags a large share of a site where a few % changed
    truth = json.loads(site.truth_path.read_text())
    shifts = [np.hypot(*s["shift_px"]) for s in truth["sitewatch_simulation"]["scenes"]]
    assert max(shifts) > 0.2


def test_events_need_a_base(tmp_path: Path):
    with pytest.raises(ConfigError):
        simulate_site(
            tmp_path,
            start="2024-01-01",
            end="2024-02-01",
            size_px=32,
            base=False,
            events=[RunwayExtension("r", 100, "2024-01-10")],
        )
    with pytest.raises(ConfigError):
        simulate_site(tmp_path, start="2024-02-01", end="2024-01-01")


def test_event_mixes():
    assert [type(e).__name__ for e in demo_events()] == [
        "Pad",
        "Pad",
        "Earthworks",
        "RunwayExtension",
        "Evacuation",
    ]
    ev = random_events(4, start="2024-01-01", end="2025-12-31", size_px=300)
    assert any(isinstance(e, Pad) for e in ev)
    assert all(str(getattr(e, "date", getattr(e, "start", "2025")))[:4] >= "2024" for e in ev)
    assert Earthworks("e", (0, 0), 10, 10, 0, "2024-01-01").name == "e"


def test_score_alerts_counts_hits_and_false_alerts(site):
    truth = json.loads(site.truth_path.read_text())
    pad = next(f for f in truth["features"] if f["properties"]["name"] == "pad")
    far = {"type": "Polygon", "coordinates": [[[0, 0], [0.001, 0], [0.001, 0.001], [0, 0.001], [0, 0]]]}
    alerts = {
        "features": [
            {
                "geometry": pad["geometry"],
                "properties": {
                    "id": "a",
                    "change_type": "new_pad",
                    "first_detected": "2024-12-24",
                    "area_m2": 8000,
                },
            },
            {"geometry": far, "properties": {"id": "b", "change_type": "other"}},
        ]
    }
    score = score_alerts(alerts, truth)
    found = {e["name"]: e for e in score["events"]}
    assert found["pad"]["found"] and found["pad"]["type_ok"] and found["pad"]["date_error_days"] == 4
    assert not found["rw"]["found"]
    assert score["n_false"] == 1
