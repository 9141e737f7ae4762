"""Random worlds: deterministic per seed, different between seeds, within realistic ranges."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sitewatch.simulate import (
    BANDS,
    Evacuation,
    Pad,
    RunwayExtension,
    VegetationLoss,
    random_scenario,
    random_world,
    simulate_random_site,
)

SEEDS = range(24)


@pytest.fixture(scope="module")
def scenarios():
    return [random_scenario(s, size_px=128) for s in SEEDS]


def test_the_same_seed_draws_the_same_world_and_scenario():
    assert random_world(5) == random_world(5)
    assert random_scenario(5, size_px=96) == random_scenario(5, size_px=96)
    assert random_world(5) != random_world(6)


def test_worlds_vary_in_everything_a_detector_could_learn(scenarios):
    worlds = [s.world for s in scenarios]
    assert len({w.soil_kind for w in worlds}) >= 4
    assert len({s.region for s in scenarios}) >= 4
    surfaces = {w.base.runway.surface.split("_")[0] for w in worlds if w.base}
    assert surfaces == {"asphalt", "concrete"}
    widths = [w.base.runway.width_m for w in worlds if w.base]
    assert min(widths) >= 20 and max(widths) <= 60 and max(widths) - min(widths) > 20
    # any orientation, not aligned to the pixel grid
    orients = [w.base.runway.orientation_deg % 180 for w in worlds if w.base]
    assert len({int(o // 30) for o in orients}) == 6 and sum(o % 45 > 1 for o in orients) >= len(orients) - 2
    assert {w.product.scl for w in worlds} == {True, False}
    assert len({w.product.bands for w in worlds}) >= 3
    assert any("B12" not in w.product.bands for w in worlds) and any(
        "B08" not in w.product.bands for w in worlds
    )
    assert len({w.product.style for w in worlds}) >= 4
    assert any(w.product.crs != "utm" for w in worlds) and any(w.product.crs == "utm" for w in worlds)
    assert any(w.terrain.relief_m > 80 for w in worlds) and any(
        w.climate.snowfalls_per_winter > 1 for w in worlds
    )
    # each world its own spectra: no two soils alike, asphalt never the library's exact values
    assert len({w.materials["soil"].reflectance for w in worlds}) == len(worlds)
    assert len({w.materials["asphalt_fresh"].reflectance for w in worlds}) == len(worlds)


def test_windows_and_events_are_in_range(scenarios):
    kinds: Counter[str] = Counter()
    gradual = abrupt = 0
    for s in scenarios:
        assert 12 <= s.months <= 24
        for e in s.events:
            kinds[type(e).__name__] += 1
            if isinstance(e, Pad):
                assert 20 <= e.width_m <= 140 and e.length_m >= e.width_m
                assert s.start < e.date < s.end
                gradual += e.build_days > 0
                abrupt += e.build_days == 0
            if isinstance(e, RunwayExtension):
                assert 100 <= e.added_length_m <= 450
            if isinstance(e, Evacuation):
                assert s.start < e.start <= e.end < s.end and 0.5 <= e.fraction <= 1
                span = (e.end - e.start).days
                gradual += span > 10
                abrupt += span <= 10
            if isinstance(e, VegetationLoss):
                assert e.kind in ("olive", "orchard", "pine")
    assert set(kinds) == {"Pad", "RunwayExtension", "Evacuation", "VegetationLoss", "Earthworks"}
    assert gradual >= 5 and abrupt >= 5


def test_a_random_site_is_written_the_same_twice(tmp_path: Path):
    a = simulate_random_site(tmp_path / "a", 7, size_px=48)
    b = simulate_random_site(tmp_path / "b", 7, size_px=48)
    assert a.dates == b.dates
    name = sorted(a.scenes_dir.glob("*.tif"))[5].name
    assert (a.scenes_dir / name).read_bytes() == (b.scenes_dir / name).read_bytes()
    assert a.truth_path.read_text() == b.truth_path.read_text()
    meta = a.truth["sitewatch_simulation"]
    assert meta["truth_detail"] == "full" and meta["world"]["name"] == "random-7"
    assert set(meta["world"]["product"]["bands"]) <= set(BANDS)
