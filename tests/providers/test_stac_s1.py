# ruff: noqa: F811  (pytest fixtures imported from servers_s1.py are redefined as arguments)
"""The STAC radar provider on a loopback STAC API serving Sentinel-1 COGs (real pystac-client, odc-stac)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from servers_s1 import (  # noqa: F401
    S1_CHANGE,
    RadarPass,
    S1StacServer,
    s1_aoi,
    s1_passes,
    s1_stac_server,
    s1_stack,
)

from sitewatch.core.sar import detect_sar_breaks
from sitewatch.errors import DataError, ProviderError, ProviderWarning
from sitewatch.providers.cache import grid_for
from sitewatch.providers.radar import get_radar_provider, radar_info
from sitewatch.providers.radar_cache import CachedRadarProvider, decode_db, encode_db
from sitewatch.providers.stac_s1 import StacRadarProvider, asset_for_polarization, radar_info_from_item
from sitewatch.types import AOI

WHOLE = (dt.date(2023, 7, 1), dt.date(2023, 12, 31))


def _provider(server: S1StacServer, tmp_path: Path, **kw: object) -> CachedRadarProvider:
    return get_radar_provider(f"stac:{server.url}#{server.collection}", cache_dir=tmp_path / "cache", **kw)  # type: ignore[return-value]


def _expected(stack: xr.DataArray, aoi: AOI) -> xr.DataArray:
    gbox = grid_for(aoi=aoi)
    xs, ys = gbox.coordinates["x"].values, gbox.coordinates["y"].values
    return stack.sel(x=xs, y=ys)


def test_asset_names_and_item_geometry() -> None:
    assert asset_for_polarization({"vv": {}, "vh": {}}, "VV") == "vv"
    assert asset_for_polarization({"VH": {}}, "vh") == "VH"
    assert asset_for_polarization({"x": {"sar:polarizations": ["VH"], "roles": ["data"]}}, "VH") == "x"
    item = {
        "id": "S1A_IW_GRDH_1SDV_20250307T032114_20250307T032139_058194_0730C9_1A2B",
        "properties": {"datetime": "2025-03-07T03:21:14Z", "sar:polarizations": ["VV", "VH"]},
        "assets": {"vv": {}, "vh": {}},
        "bbox": [40.5, 36.0, 41.5, 37.0],
    }
    info = radar_info_from_item(item, collection="sentinel-1-rtc")
    assert info is not None
    # no sat:* properties: the relative orbit from the product id, the direction from the solar time
    assert (info.platform, info.orbit_direction, info.relative_orbit, info.backscatter) == (
        "S1A",
        "DESCENDING",
        22,
        "gamma0",
    )
    ew = {**item, "properties": {**item["properties"], "sar:instrument_mode": "EW"}}
    assert radar_info_from_item(ew, collection="sentinel-1-grd") is None


def test_cache_codec_round_trip() -> None:
    power = np.array([1e-4, 0.012, 0.5, 3.0, np.nan, 0.0], np.float32)
    back = decode_db(np.rint(encode_db(power)))
    np.testing.assert_allclose(back[:4], power[:4], rtol=0.0024)  # 0.01 dB steps
    assert np.isnan(back[4:]).all()


@pytest.mark.e2e
def test_search_groups_passes_with_their_orbits(
    s1_stac_server: S1StacServer, s1_aoi: AOI, s1_passes: list[RadarPass], tmp_path: Path
) -> None:
    scenes = list(_provider(s1_stac_server, tmp_path).search(s1_aoi, *WHOLE))
    assert len(scenes) == len(s1_passes)
    first = radar_info(scenes[0])
    assert (first.orbit_direction, first.relative_orbit, first.backscatter) == ("DESCENDING", 79, "gamma0")
    assert scenes[0].id == "S1A_20230701T030000_D079"
    asc = list(_provider(s1_stac_server, tmp_path).search(s1_aoi, *WHOLE, orbit_direction="ASCENDING"))
    assert asc and all(radar_info(s).orbit_direction == "ASCENDING" for s in asc)


@pytest.mark.e2e
def test_frames_of_one_pass_are_one_scene(
    s1_stac_server: S1StacServer, s1_aoi: AOI, s1_passes: list[RadarPass]
) -> None:
    frame = s1_stac_server.add_pass(s1_passes[0])
    frame["id"] = s1_passes[0].id.replace("0730C9", "0730CA")  # the next frame of the same pass
    provider = StacRadarProvider(s1_stac_server.url, s1_stac_server.collection)
    scenes = list(provider.search(s1_aoi, *WHOLE))
    assert len(scenes) == len(s1_passes)
    assert len(scenes[0].properties["item_ids"]) == 2


@pytest.mark.e2e
def test_load_reads_linear_power_on_the_aoi_grid(
    s1_stac_server: S1StacServer, s1_aoi: AOI, s1_stack: xr.DataArray, tmp_path: Path
) -> None:
    provider = StacRadarProvider(s1_stac_server.url, s1_stac_server.collection, name="stac-s1")
    scenes = list(provider.search(s1_aoi, *WHOLE))[:3]
    stack = provider.load(scenes, aoi=s1_aoi)
    assert stack.dims == ("time", "band", "y", "x") and list(stack.band.values) == ["VV", "VH"]
    assert list(stack.orbit_direction.values) == ["DESCENDING", "ASCENDING", "DESCENDING"]
    expected = _expected(s1_stack.isel(time=slice(0, 3)), s1_aoi)
    np.testing.assert_allclose(stack.values, expected.values, rtol=1e-5)
    # only the window under the AOI is read: far fewer bytes than the files
    assert s1_stac_server.file_bytes_served < sum(p.stat().st_size for p in s1_stac_server.files.values())


@pytest.mark.e2e
def test_cached_second_load_reads_no_pixels(
    s1_stac_server: S1StacServer, s1_aoi: AOI, s1_stack: xr.DataArray, tmp_path: Path
) -> None:
    provider = _provider(s1_stac_server, tmp_path)
    scenes = list(provider.search(s1_aoi, *WHOLE))[:4]
    first = provider.load(scenes, aoi=s1_aoi)
    s1_stac_server.reset_counts()
    again = provider.load(scenes, aoi=s1_aoi)
    assert s1_stac_server.file_bytes_served == 0
    np.testing.assert_allclose(again.values, first.values, rtol=0.0024)
    np.testing.assert_allclose(
        first.values, _expected(s1_stack.isel(time=slice(0, 4)), s1_aoi).values, rtol=0.0024
    )
    assert again.attrs["units"] == "linear power" and set(again.relative_orbit.values.tolist()) == {14, 79}


@pytest.mark.e2e
def test_offline_rescan_comes_from_the_cache(
    s1_stac_server: S1StacServer, s1_aoi: AOI, tmp_path: Path
) -> None:
    provider = _provider(s1_stac_server, tmp_path)
    scenes = list(provider.search(s1_aoi, *WHOLE))[:3]
    provider.load(scenes, aoi=s1_aoi)
    s1_stac_server.fail("/search", "drop", times=100)
    offline = _provider(s1_stac_server, tmp_path, max_attempts=0)
    with pytest.warns(ProviderWarning, match="working offline"):
        cached = list(offline.search(s1_aoi, *WHOLE))
    assert [s.id for s in cached] == [s.id for s in scenes]
    assert radar_info(cached[0]).relative_orbit == 79 and radar_info(cached[1]).orbit_direction == "ASCENDING"
    stack = offline.load(cached, aoi=s1_aoi)
    assert stack.sizes["time"] == 3 and list(stack.backscatter.values) == ["gamma0"] * 3


@pytest.mark.e2e
def test_detects_the_pad_from_the_catalogue(
    s1_stac_server: S1StacServer, s1_aoi: AOI, s1_stack: xr.DataArray, tmp_path: Path
) -> None:
    provider = _provider(s1_stac_server, tmp_path)
    stack = provider.load(list(provider.search(s1_aoi, *WHOLE)), aoi=s1_aoi)
    ds = detect_sar_breaks(stack)
    full = _expected(s1_stack, s1_aoi)
    rows = (full.y.values <= s1_stack.y.values[S1_CHANGE.rows.start]) & (
        full.y.values > s1_stack.y.values[S1_CHANGE.rows.stop - 1] - 10
    )
    cols = (full.x.values >= s1_stack.x.values[S1_CHANGE.cols.start]) & (
        full.x.values < s1_stack.x.values[S1_CHANGE.cols.stop - 1] + 10
    )
    inside = ds.changed.values[np.ix_(rows, cols)]
    assert inside.size > 100 and inside.mean() >= 0.8
    assert ds.changed.values.mean() < inside.mean() / 2


@pytest.mark.e2e
def test_grd_collection_searches_but_refuses_to_load(
    s1_passes: list[RadarPass], s1_aoi: AOI, tmp_path: Path
) -> None:
    server = S1StacServer(collection="sentinel-1-grd")
    server.start()
    try:
        for p in s1_passes[:3]:
            server.add_pass(p, grd=True)
        provider = StacRadarProvider(server.url, "sentinel-1-grd")
        scenes = list(provider.search(s1_aoi, *WHOLE))
        assert len(scenes) == 3 and scenes[0].properties["kind"] == "grd"
        with pytest.raises(DataError, match="uncalibrated GRD amplitude in radar geometry") as info:
            provider.load(scenes, aoi=s1_aoi)
        assert "--sar cdse" in str(info.value) and "\n" not in str(info.value)
    finally:
        server.stop()


@pytest.mark.e2e
def test_unreadable_assets_are_one_clear_error(
    s1_stac_server: S1StacServer, s1_aoi: AOI, tmp_path: Path
) -> None:
    provider = StacRadarProvider(
        s1_stac_server.url, s1_stac_server.collection, max_attempts=1, retry_sleep_s=0.05
    )
    scenes = list(provider.search(s1_aoi, *WHOLE))[:1]
    s1_stac_server.fail("/files/", "500", times=1000)
    with pytest.raises(ProviderError, match="cannot read radar scene S1A_20230701T030000_D079") as info:
        provider.load(scenes, aoi=s1_aoi)
    assert "\n" not in str(info.value)


def test_earth_search_defaults() -> None:
    provider = get_radar_provider("earth-search", cache=False)
    assert isinstance(provider, StacRadarProvider)
    assert provider.collection == "sentinel-1-grd" and provider.name == "earth-search-s1"
    assert provider.source == "stac:https://earth-search.aws.element84.com/v1#sentinel-1-grd"
