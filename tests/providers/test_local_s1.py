"""The local radar reader: Sentinel-1 GeoTIFFs (VV/VH, linear power, orbit tags) as a series."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
import xarray as xr

from sitewatch.core.sar import power_to_db
from sitewatch.errors import ConfigError, DataError, DataWarning, NoOverlapError, NoScenesError
from sitewatch.providers.local import write_scene
from sitewatch.providers.local_s1 import LocalRadarProvider, find_radar_scenes, write_radar_scene
from sitewatch.providers.radar import get_radar_provider, radar_info
from sitewatch.types import AOI
from synthetic import make_stack
from synthetic_s1 import ORBITS, s1_series

# absolute orbits whose relative orbits are 79 and 14 (S1A: (absolute - 73) mod 175 + 1)
ABSOLUTE = {79: 58251, 14: 58186}


def product_name(da: xr.DataArray, t: int) -> str:
    when = dt.datetime.fromisoformat(str(da.time.values[t])[:19])
    stop = when + dt.timedelta(seconds=25)
    rel = int(da.relative_orbit.values[t])
    return f"S1A_IW_GRDH_1SDV_{when:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}_{ABSOLUTE[rel]:06d}_0730C9_1A2B"


def write_series(
    folder: Path, da: xr.DataArray, *, named: str = "product", tags: dict | None = None
) -> list[Path]:
    paths = []
    for t in range(da.sizes["time"]):
        one = da.isel(time=[t])
        name = product_name(da, t) if named == "product" else None
        paths.append(write_radar_scene(one, folder, name=name, tags=tags))
    return paths


def aoi_over(da: xr.DataArray, *, inset_px: int = 8, size_px: int = 32, name: str = "radarsite") -> AOI:
    x0, y0 = float(da.x.values[0]) - 5.0, float(da.y.values[0]) + 5.0
    box = shapely.box(
        x0 + inset_px * 10, y0 - (inset_px + size_px) * 10, x0 + (inset_px + size_px) * 10, y0 - inset_px * 10
    )
    tr = pyproj.Transformer.from_crs("EPSG:32637", "EPSG:4326", always_xy=True)
    geom = shapely.transform(box, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    return AOI(name=name, display_name=name, geometry=geom, point=(geom.centroid.x, geom.centroid.y))


@pytest.fixture(scope="module")
def series() -> xr.DataArray:
    return s1_series(shape=(48, 48), n_per_orbit=6, seed=21)


@pytest.fixture(scope="module")
def series_dir(tmp_path_factory: pytest.TempPathFactory, series: xr.DataArray) -> Path:
    folder = tmp_path_factory.mktemp("s1")
    write_series(folder, series)
    return folder


def test_a_folder_is_a_series_with_its_geometry(series_dir: Path, series: xr.DataArray) -> None:
    scenes = find_radar_scenes(series_dir)
    assert len(scenes) == series.sizes["time"]
    first = radar_info(scenes[0])
    assert (first.platform, first.orbit_direction, first.relative_orbit, first.backscatter) == (
        "S1A",
        "DESCENDING",
        79,
        "gamma0",
    )
    assert scenes[0].bands == ("VV", "VH") and scenes[0].datetime == dt.datetime(
        2023, 1, 3, 3, 0, tzinfo=dt.timezone.utc
    )


def test_load_on_the_aoi_grid_keeps_values_and_coords(series_dir: Path, series: xr.DataArray) -> None:
    aoi = aoi_over(series)
    provider = get_radar_provider(f"local:{series_dir}")
    stack = provider.load(list(provider.search(aoi)), aoi=aoi)
    assert stack.dims == ("time", "band", "y", "x") and list(stack.band.values) == ["VV", "VH"]
    assert stack.attrs["units"] == "linear power" and stack.attrs["source"] == f"local:{series_dir}"
    for coord in ("orbit_direction", "relative_orbit", "platform", "backscatter", "scene_id"):
        assert stack.coords[coord].dims == ("time",)
    assert set(stack.relative_orbit.values.tolist()) == {14, 79}
    window = series.sel(x=stack.x, y=stack.y)
    np.testing.assert_allclose(stack.values, window.values, rtol=1e-6)


def test_reprojected_to_a_coarser_utm_grid_averages_power(series_dir: Path, series: xr.DataArray) -> None:
    aoi = aoi_over(series)
    provider = LocalRadarProvider(str(series_dir))
    coarse = provider.load(list(provider.search(aoi))[:1], aoi=aoi, crs="utm", resolution_m=20.0)
    assert abs(float(coarse.x[1] - coarse.x[0])) == 20.0
    # averaging linear power keeps the scene's mean power (bilinear or dB averaging would not)
    fine = provider.load(list(provider.search(aoi))[:1], aoi=aoi)
    assert float(np.nanmean(coarse.values)) == pytest.approx(float(np.nanmean(fine.values)), rel=0.1)


def test_date_only_names_with_tags(tmp_path: Path, series: xr.DataArray) -> None:
    one = series.isel(time=[0])
    write_radar_scene(one, tmp_path, name="site_2023-01-03_radar")
    (scene,) = find_radar_scenes(tmp_path)
    assert scene.date == dt.date(2023, 1, 3) and radar_info(scene).relative_orbit == 79


def test_missing_tags_come_from_the_product_name_and_the_solar_time(
    tmp_path: Path, series: xr.DataArray
) -> None:
    one = series.isel(time=[1])  # the ascending pass of 8 January, 15:00 UTC
    path = write_radar_scene(one, tmp_path, name=product_name(series, 1))
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(ORBIT_DIRECTION="", RELATIVE_ORBIT="")
    info = radar_info(find_radar_scenes(path)[0])
    assert (info.orbit_direction, info.relative_orbit) == ("ASCENDING", 14)


def test_untold_orbit_is_refused_with_the_tag_to_set(tmp_path: Path, series: xr.DataArray) -> None:
    path = write_radar_scene(series.isel(time=[0]), tmp_path, name="radar_20230103")
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(RELATIVE_ORBIT="")
    with pytest.raises(DataError, match="RELATIVE_ORBIT"):
        find_radar_scenes(tmp_path)


def test_mixed_sigma0_and_gamma0_refused_naming_files(tmp_path: Path, series: xr.DataArray) -> None:
    paths = write_series(tmp_path, series.isel(time=slice(0, 4)))
    with rasterio.open(paths[2], "r+") as dst:
        dst.update_tags(BACKSCATTER="SIGMA0_ELLIPSOID")
    provider = LocalRadarProvider(str(tmp_path))
    with pytest.raises(DataError, match=rf"sigma0: {paths[2]}") as info:
        provider.load(list(provider.search()))
    assert "gamma0: " in str(info.value) and "\n" not in str(info.value)


def test_db_files_detected_converted_and_named(tmp_path: Path, series: xr.DataArray) -> None:
    paths = write_series(tmp_path, series.isel(time=slice(0, 3)))
    one = series.isel(time=[1])
    write_radar_scene(one.copy(data=power_to_db(one.values)), tmp_path, name=paths[1].stem)
    provider = LocalRadarProvider(str(tmp_path))
    with pytest.warns(DataWarning, match=rf"{paths[1].stem}.*dB"):
        stack = provider.load(list(provider.search()))
    np.testing.assert_allclose(stack.values[1], one.values[0], rtol=1e-4)


def test_single_polarisation_files(tmp_path: Path) -> None:
    vv_only = s1_series(shape=(24, 24), n_per_orbit=3, polarizations=("VV",), orbits=ORBITS[:1], seed=22)
    write_series(tmp_path, vv_only)
    provider = LocalRadarProvider(str(tmp_path))
    stack = provider.load(list(provider.search()))
    assert list(stack.band.values) == ["VV"]
    with pytest.raises(Exception, match="no VH band"):
        provider.load(list(provider.search()), polarizations=["VV", "VH"])


def test_no_backscatter_tag_is_said(tmp_path: Path, series: xr.DataArray) -> None:
    write_series(tmp_path, series.isel(time=slice(0, 2)).assign_coords(backscatter=("time", ["", ""])))
    provider = LocalRadarProvider(str(tmp_path))
    with pytest.warns(DataWarning, match="BACKSCATTER tag"):
        provider.load(list(provider.search()))


def test_aoi_outside_the_scenes_is_one_clear_error(series_dir: Path, series: xr.DataArray) -> None:
    far = AOI(name="elsewhere", display_name="elsewhere", geometry=shapely.box(10.0, 50.0, 10.1, 50.1))
    with pytest.raises(NoOverlapError) as info:
        list(LocalRadarProvider(str(series_dir)).search(far))
    text = str(info.value)
    assert "elsewhere (10.0, 50.0, 10.1, 50.1)" in text and "(39.0, 36.1" in text and "\n" not in text


def test_optical_rasters_are_skipped_and_empty_folders_said(tmp_path: Path, series: xr.DataArray) -> None:
    write_scene(make_stack(np.full((6, 8, 8), 1200.0)), tmp_path, name="S2_20230101")
    with pytest.raises(NoScenesError, match="VV and VH"):
        find_radar_scenes(tmp_path)
    write_radar_scene(series.isel(time=[0]), tmp_path)
    assert len(find_radar_scenes(tmp_path)) == 1


def test_registry_names_and_bare_folder(series_dir: Path) -> None:
    assert get_radar_provider(str(series_dir)).name == "local-s1"
    with pytest.raises(ConfigError, match="--sar local:DIR"):
        get_radar_provider("local")
    with pytest.raises(ConfigError, match="unknown radar source"):
        get_radar_provider("nosuch:thing")


def test_orbit_direction_filter(series_dir: Path) -> None:
    found = list(LocalRadarProvider(str(series_dir)).search(orbit_direction="ASCENDING"))
    assert found and all(radar_info(s).orbit_direction == "ASCENDING" for s in found)


def test_written_scene_reads_back_exactly(tmp_path: Path, series: xr.DataArray) -> None:
    path = write_radar_scene(series.isel(time=[3]), tmp_path)
    assert path.name == "S1A_20230120T150000_A014.tif"
    assert not list(tmp_path.glob(".*partial"))
    with rasterio.open(path) as src:
        assert src.descriptions == ("VV", "VH") and src.dtypes[0] == "float32"
        np.testing.assert_array_equal(src.read(), series.isel(time=3).values)


def test_every_radar_source_implements_the_protocol(series_dir: Path, tmp_path: Path) -> None:
    from sitewatch.providers.radar import RadarProvider, radar_provider_names

    assert radar_provider_names() == ["cdse", "earth-search", "local", "sentinelhub", "stac"]
    specs = [f"local:{series_dir}", "earth-search", "stac:https://example.invalid/v1#sentinel-1-rtc", "cdse"]
    for spec in specs:
        for cache in (True, False):
            provider = get_radar_provider(spec, cache_dir=tmp_path, cache=cache)
            assert isinstance(provider, RadarProvider), spec
            assert "secret" not in provider.source.lower()
