"""Each feature of a world is present when drawn: products, snow, gradual events, hills, CRSs, truth."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
from rasterio.features import rasterize
from shapely.geometry import shape

import sitewatch
from sitewatch.simulate import (
    Climate,
    Evacuation,
    Farmland,
    Pad,
    Product,
    Terrain,
    VegetationLoss,
    World,
    random_world,
    simulate_site,
)
from sitewatch.simulate.site import Site
from sitewatch.simulate.surface import surface_reflectance
from sitewatch.simulate.terrain import illumination, sun_at_overpass
from sitewatch.simulate.write import site_grid

FULL = World(truth_detail="full", climate=Climate(sun_shadows=True))


def small(tmp_path: Path, world: World, **kw):
    args = dict(start="2024-03-01", end="2024-05-30", size_px=40, revisit_days=10, seed=2, base=False)
    args.update(kw)
    return simulate_site(tmp_path, world=world, **args)


def read(path: Path) -> tuple[list[str], np.ndarray, dict]:
    with rasterio.open(path) as src:
        return list(src.descriptions), src.read().astype(float), src.tags()


def test_a_world_without_scl_writes_no_scl_and_partial_bands_are_what_was_drawn(tmp_path: Path):
    world = replace(FULL, product=Product(bands=("B02", "B03", "B04", "B8A", "B11", "B12"), scl=False))
    site = small(tmp_path, world)
    scenes = sitewatch.find_scenes(site.scenes_dir)
    assert {s.bands for s in scenes} == {("B02", "B03", "B04", "B8A", "B11", "B12")}
    assert all(s.processing_level == "L2A" for s in scenes)


@pytest.mark.parametrize(
    ("style", "name_part", "offset"),
    [("esa", "_N0400_", -1000.0), ("harmonized", "SIM_S2_L2A_", 0.0), ("tagged", "SIM_S2_L2A_", -1000.0)],
)
def test_offsets_are_declared_as_real_products_declare_them(tmp_path: Path, style, name_part, offset):
    site = small(tmp_path, replace(FULL, product=Product(style=style)), start="2022-03-01", end="2022-05-30")
    scenes = sitewatch.find_scenes(site.scenes_dir)
    assert all(name_part in s.id and s.properties["offsets"]["B02"] == offset for s in scenes)
    bands, raw, _ = read(Path(scenes[0].location))
    refl = raw[: len(bands) - 1]
    if offset:
        assert np.nanmin(refl[refl > 0]) >= 1000  # the +1000 is in the numbers
    # read back through sitewatch, the offset is gone either way: soil reads as soil
    stack = sitewatch.open_series(site.scenes_dir)
    assert 800 < float(np.nanmedian(stack.sel(band="B04").values)) < 3500


def test_esa_names_follow_the_baseline_of_the_date_across_january_2022(tmp_path: Path):
    site = small(tmp_path, replace(FULL, product=Product(style="esa")), start="2021-12-01", end="2022-03-01")
    scenes = sitewatch.find_scenes(site.scenes_dir)
    before = [s for s in scenes if s.datetime.date() < dt.date(2022, 1, 25)]
    after = [s for s in scenes if s.datetime.date() >= dt.date(2022, 1, 25)]
    assert before and after
    assert all("_N0300_" in s.id and s.properties["offsets"]["B02"] == 0 for s in before)
    assert all("_N0400_" in s.id and s.properties["offsets"]["B02"] == -1000 for s in after)


def test_snow_days_have_scl_11_and_snow_spectra(tmp_path: Path):
    world = replace(FULL, climate=Climate(snowfalls_per_winter=6, snow_days=(20, 30), sun_shadows=True))
    site = small(tmp_path, world, start="2023-12-01", end="2024-03-31", revisit_days=5, cloudiness=0.0)
    snowy = 0
    for path in sorted(site.scenes_dir.glob("*.tif")):
        bands, a, _ = read(path)
        scl = a[bands.index("SCL")]
        snow = scl == 11
        if snow.mean() > 0.3:
            snowy += 1
            green, swir = a[bands.index("B03")][snow], a[bands.index("B11")][snow]
            ndsi = (green - swir) / (green + swir)
            # partly snowed pixels mix with the ground; fully snowed ones 60-90 % (old to fresh snow)
            assert np.median(green) > 4000 and np.median(swir) < 2000 and np.median(ndsi) > 0.45
            assert np.percentile(green, 90) > 5500 and np.percentile(ndsi, 90) > 0.65
    assert snowy >= 2
    log = site.truth["sitewatch_simulation"]
    assert log["snowfalls"] and any(s.get("snow_fraction", 0) > 0.3 for s in log["scenes"])


def test_a_staged_pad_and_a_gradual_evacuation_change_over_their_stated_span():
    world = replace(FULL)
    pad = Pad("p", (0.0, 0.0), 180.0, 60.0, 35.0, "2024-04-01", build_days=60, stages=3)
    evac = Evacuation("e", "2024-04-01", "2024-06-30", fraction=0.8)
    grid = site_grid(world, (40.5, 36.7), 120, 10.0)
    from sitewatch.simulate.world import legacy_base

    site = Site(
        grid,
        np.random.default_rng(1),
        world=world,
        base=legacy_base(1200.0, 600.0),
        events=[pad, evac],
        seed=1,
        period=(dt.date(2024, 1, 1), dt.date(2024, 9, 1)),
    )
    footprint = grid.coverage(site.footprints["p"]) > 0.99
    concrete = site.spectra["concrete"][:, 0, 0]

    def laid(day: str) -> float:
        refl = surface_reflectance(site, site.state(dt.date.fromisoformat(day)))
        return float((np.abs(refl[:, footprint] - concrete[:, None]).max(axis=0) < 1).mean())

    assert laid("2024-03-31") == 0
    assert 0.2 < laid("2024-04-02") < 0.45
    assert 0.55 < laid("2024-05-01") < 0.8
    assert laid("2024-05-31") == 1.0
    structures = [layer for layer in site.layers if layer.kind == "structure"]

    def standing(day: str) -> int:
        return sum(layer.active(dt.date.fromisoformat(day)) for layer in structures)

    counts = [standing(d) for d in ("2024-03-31", "2024-05-01", "2024-06-01", "2024-07-01")]
    assert counts[0] == len(structures) and counts[0] > counts[1] > counts[2] > counts[3]
    truth = next(f for f in site.truth if f["properties"]["name"] == "e")["properties"]
    assert counts[3] == truth["structures_total"] - truth["structures_removed"]
    assert (truth["onset"], truth["completion"], truth["gradual"]) == ("2024-04-01", "2024-06-30", True)


def test_truth_geometry_lies_where_the_pixels_changed(tmp_path: Path):
    events = [
        Pad("pad", (-80.0, 60.0), 130.0, 45.0, 28.0, "2024-04-10", material="concrete_fresh"),
        VegetationLoss("grove", (90.0, -80.0), 140.0, 90.0, 70.0, "2024-04-20", kind="pine", canopy=0.8),
    ]
    world = replace(FULL, farmland=Farmland(management=True))
    site = small(
        tmp_path, world, events=events, misregistration_px=0.0, cloudiness=0.0, revisit_days=5, size_px=48
    )
    log = {s["date"]: s for s in site.truth["sitewatch_simulation"]["scenes"]}
    clean = [d for d, s in log.items() if s["cloud_fraction"] == 0 and s["nodata_fraction"] == 0]
    before = [d for d in clean if d < "2024-04-10"][-1]
    after = next(d for d in clean if d > "2024-04-25")
    stack = sitewatch.open_series(site.scenes_dir)
    times = [str(t)[:10] for t in stack.time.values]
    diff = np.abs(stack.isel(time=times.index(after)).values - stack.isel(time=times.index(before)).values)
    changed = np.nanmax(diff[:-1], axis=0) > 900
    gbox = stack.odc.geobox
    tr = pyproj.Transformer.from_crs("EPSG:4326", gbox.crs, always_xy=True)
    polys = [
        shapely.transform(shape(f["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
        for f in site.truth["features"]
        if f["properties"]["expected_alert"]
    ]
    inside = rasterize([p.buffer(-12) for p in polys], out_shape=gbox.shape, transform=gbox.affine).astype(
        bool
    )
    near = rasterize([p.buffer(25) for p in polys], out_shape=gbox.shape, transform=gbox.affine).astype(bool)
    assert changed[inside].mean() > 0.9  # the footprints changed...
    assert changed[~near].mean() < 0.02  # ...and little else did between two spring dates
    kinds = {f["properties"]["change_type"] for f in site.truth["features"]}
    assert {"new_pad", "vegetation_loss", "field_harvest", "field_ploughing"} <= kinds
    fields = [f for f in site.truth["features"] if f["properties"]["change_type"] == "field_harvest"]
    assert all(f["geometry"]["type"] == "Polygon" and not f["properties"]["expected_alert"] for f in fields)
    pad = next(f["properties"] for f in site.truth["features"] if f["properties"]["name"] == "pad")
    assert after in pad["clear_dates"] and before in pad["clear_dates"]


def test_hill_shading_and_cast_shadows_move_with_the_season():
    world = replace(FULL, terrain=Terrain(relief_m=220.0, wavelength_m=700.0, correction=0.4))
    grid = site_grid(world, (36.5, 35.0), 96, 10.0)
    site = Site(grid, np.random.default_rng(3), world=world, base=None, events=[], seed=3)
    assert site.terrain is not None
    summer = illumination(
        site.terrain, sun_at_overpass(dt.date(2024, 6, 21), 35.0), north_deg=0.0, correction=0.4
    )
    winter = illumination(
        site.terrain, sun_at_overpass(dt.date(2024, 12, 21), 35.0), north_deg=0.0, correction=0.4
    )
    assert np.std(winter[3]) > 2 * np.std(summer[3])
    assert (winter[3] < 0.5).mean() > 0.005 and (summer[3] < 0.5).mean() < 0.001  # winter cast shadows
    # the shadows are bluer than the sunlit ground
    dark = winter[3] < 0.5
    assert winter[0][dark].mean() > winter[3][dark].mean()


def test_a_crs_that_is_not_utm_keeps_ground_metres(tmp_path: Path):
    world = replace(FULL, product=Product(crs="EPSG:3857"))
    site = small(
        tmp_path,
        world,
        events=[Pad("pad", (30.0, -20.0), 150.0, 60.0, 33.0, "2024-04-10")],
        center=(40.5, 36.7),
    )
    scene = sitewatch.find_scenes(site.scenes_dir)[0]
    assert scene.crs == "EPSG:3857"
    with rasterio.open(scene.location) as src:
        assert src.res == (10.0, 10.0)  # 10 Web-Mercator units: about 8 m on the ground at 36.7 N
    pad = next(f for f in site.truth["features"] if f["properties"]["name"] == "pad")
    area = abs(pyproj.Geod(ellps="WGS84").geometry_area_perimeter(shape(pad["geometry"]))[0])
    assert area == pytest.approx(150 * 60, rel=0.01)
    assert site.aoi.geometry.within(shapely.box(*scene_bounds_wgs84(scene)))


def scene_bounds_wgs84(scene) -> tuple[float, ...]:
    tr = pyproj.Transformer.from_crs(scene.crs, "EPSG:4326", always_xy=True)
    return tr.transform_bounds(*scene.bounds)


def test_the_world_is_recorded_in_the_truth(tmp_path: Path):
    world = random_world(4, size_px=48)
    site = small(tmp_path, world)
    doc = json.loads(site.truth_path.read_text())
    recorded = doc["sitewatch_simulation"]["world"]
    assert recorded["soil_kind"] == world.soil_kind and recorded["product"]["style"] == world.product.style
    assert recorded["materials"]["soil"] == list(world.materials["soil"].reflectance)
