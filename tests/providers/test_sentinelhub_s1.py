# ruff: noqa: F811  (pytest fixtures imported from servers_s1.py are redefined as arguments)
"""The Sentinel Hub / CDSE radar provider on a loopback OAuth2, Catalog and Process API (real client)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
from servers_s1 import (  # noqa: F401
    RadarPass,
    S1SentinelHubServer,
    s1_aoi,
    s1_passes,
    s1_sh_server,
    s1_stack,
)

from sitewatch.errors import ConfigError, CredentialsError, ProviderError
from sitewatch.providers.cache import grid_for
from sitewatch.providers.radar import get_radar_provider, radar_info
from sitewatch.providers.sentinelhub_s1 import SentinelHubRadarProvider, radar_evalscript
from sitewatch.types import AOI

WHOLE = (dt.date(2023, 7, 1), dt.date(2023, 12, 31))
FAST = {"retry_sleep_s": 0.05, "max_attempts": 2, "max_rate_limit_retries": 2}


def _provider(**kw: Any) -> SentinelHubRadarProvider:
    return get_radar_provider("sentinelhub", cache=False, **{**FAST, **kw})  # type: ignore[return-value]


def _expected(stack: xr.DataArray, aoi: AOI) -> xr.DataArray:
    gbox = grid_for(aoi=aoi)
    return stack.sel(x=gbox.coordinates["x"].values, y=gbox.coordinates["y"].values)


def test_evalscript_asks_linear_power_and_the_mask() -> None:
    script = radar_evalscript(["VV", "VH"])
    assert 'bands: ["VV", "VH", "dataMask"], units: "LINEAR_POWER"' in script
    assert "bands: [sample.VV, sample.VH], mask: [sample.dataMask]" in script
    with pytest.raises(Exception, match="serves VV and VH"):
        radar_evalscript(["HH"])


def test_options_checked() -> None:
    with pytest.raises(ConfigError, match="unknown Sentinel Hub radar option"):
        get_radar_provider("cdse", cache=False, bogus=1)
    with pytest.raises(ConfigError, match="sigma0 or gamma0"):
        get_radar_provider("cdse", cache=False, backscatter="beta0")
    assert get_radar_provider("cdse", cache=False).name == "cdse-s1"  # type: ignore[attr-defined]


def test_no_credentials_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, s1_aoi: AOI) -> None:
    monkeypatch.delenv("SH_CLIENT_ID", raising=False)
    monkeypatch.delenv("SH_CLIENT_SECRET", raising=False)
    with pytest.raises(CredentialsError, match="SH_CLIENT_ID") as info:
        list(_provider().search(s1_aoi, *WHOLE))
    assert "\n" not in str(info.value)


@pytest.mark.e2e
def test_catalog_search_pages_and_groups_passes(
    s1_sh_server: S1SentinelHubServer, s1_aoi: AOI, s1_passes: list[RadarPass]
) -> None:
    scenes = list(_provider(page_size=3).search(s1_aoi, *WHOLE))
    assert len(scenes) == len(s1_passes)
    assert len(s1_sh_server.requests("/catalog/")) >= len(s1_passes) // 3
    first, second = radar_info(scenes[0]), radar_info(scenes[1])
    assert (first.orbit_direction, first.relative_orbit, first.backscatter) == ("DESCENDING", 79, "gamma0")
    assert (second.orbit_direction, second.relative_orbit) == ("ASCENDING", 14)
    body = json.loads(s1_sh_server.requests("/catalog/")[0]["body"])
    assert body["collections"] == ["sentinel-1-grd"] and "sar:instrument_mode='IW'" in body["filter"]


@pytest.mark.e2e
def test_orbit_direction_filter_is_sent_to_the_catalogue(
    s1_sh_server: S1SentinelHubServer, s1_aoi: AOI
) -> None:
    scenes = list(_provider().search(s1_aoi, *WHOLE, orbit_direction="ASCENDING"))
    assert scenes and all(radar_info(s).orbit_direction == "ASCENDING" for s in scenes)
    body = json.loads(s1_sh_server.requests("/catalog/")[-1]["body"])
    assert "sat:orbit_state='ascending'" in body["filter"]


@pytest.mark.e2e
def test_process_asks_calibrated_orthorectified_backscatter(
    s1_sh_server: S1SentinelHubServer, s1_aoi: AOI, s1_stack: xr.DataArray
) -> None:
    provider = _provider()
    scenes = list(provider.search(s1_aoi, *WHOLE))[:2]
    stack = provider.load(scenes, aoi=s1_aoi)
    call = s1_sh_server.process_calls[0]
    assert call["processing"]["backCoeff"] == "GAMMA0_TERRAIN" and call["processing"]["orthorectify"] is True
    assert call["processing"]["demInstance"] == "COPERNICUS"
    assert call["filter"]["acquisitionMode"] == "IW" and call["filter"]["polarization"] == "DV"
    assert call["filter"]["orbitDirection"] == "DESCENDING" and call["bands"] == ["VV", "VH"]
    assert s1_sh_server.process_calls[1]["filter"]["orbitDirection"] == "ASCENDING"
    assert list(stack.backscatter.values) == ["gamma0", "gamma0"]
    np.testing.assert_allclose(
        stack.values, _expected(s1_stack.isel(time=slice(0, 2)), s1_aoi).values, rtol=1e-5
    )


@pytest.mark.e2e
def test_sigma0_and_tiles(s1_sh_server: S1SentinelHubServer, s1_aoi: AOI, s1_stack: xr.DataArray) -> None:
    provider = _provider(backscatter="sigma0", max_tile_px=16)
    scenes = list(provider.search(s1_aoi, *WHOLE))[:1]
    stack = provider.load(scenes, aoi=s1_aoi)
    assert len(s1_sh_server.process_calls) > 1  # the AOI grid is split into 16 px tiles
    assert {c["processing"]["backCoeff"] for c in s1_sh_server.process_calls} == {"SIGMA0_ELLIPSOID"}
    assert list(stack.backscatter.values) == ["sigma0"]
    np.testing.assert_allclose(stack.values, _expected(s1_stack.isel(time=[0]), s1_aoi).values, rtol=1e-5)


@pytest.mark.e2e
def test_cached_fetch_is_not_repeated(s1_sh_server: S1SentinelHubServer, s1_aoi: AOI, tmp_path: Path) -> None:
    provider = get_radar_provider("cdse", cache_dir=tmp_path / "cache", **FAST)
    scenes = list(provider.search(s1_aoi, *WHOLE))[:3]
    first = provider.load(scenes, aoi=s1_aoi)
    calls = len(s1_sh_server.process_calls)
    again = provider.load(scenes, aoi=s1_aoi)
    assert len(s1_sh_server.process_calls) == calls == 3
    np.testing.assert_allclose(again.values, first.values, rtol=0.0024)
    assert provider.source.startswith("cdse-s1:http://127.0.0.1")


@pytest.mark.e2e
def test_wrong_secret_and_failing_service_are_one_line(
    s1_sh_server: S1SentinelHubServer, s1_aoi: AOI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SH_CLIENT_SECRET", "wrong")
    with pytest.raises(CredentialsError) as info:
        list(_provider().search(s1_aoi, *WHOLE))
    assert "wrong" not in str(info.value)
    monkeypatch.setenv("SH_CLIENT_SECRET", s1_sh_server.client_secret)
    provider = _provider()
    scenes = list(provider.search(s1_aoi, *WHOLE))[:1]
    s1_sh_server.fail("/api/v1/process", "500", times=10)
    with pytest.raises(ProviderError, match="process radar scene") as info2:
        provider.load(scenes, aoi=s1_aoi)
    assert "\n" not in str(info2.value)
