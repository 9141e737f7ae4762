# ruff: noqa: F811  (pytest fixtures imported from servers.py are redefined as arguments)
"""The same contract for every provider: local files, a STAC API, Sentinel Hub (loopback servers)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from servers import SyntheticScene, s2_series, sh_server, site_aoi, stac_server  # noqa: F401

from sitewatch.providers import get_provider
from sitewatch.providers.base import Provider
from sitewatch.providers.local import find_scenes, load_scenes

pytestmark = pytest.mark.e2e

BANDS = ["B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"]
PROVIDERS = ["local", "stac", "sentinelhub"]


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest, s2_series: list[SyntheticScene], tmp_path: Path) -> Any:
    if request.param == "local":
        return get_provider(f"local:{s2_series[0].folder.parent}")
    if request.param == "stac":
        server = request.getfixturevalue("stac_server")
        return get_provider(f"stac:{server.url}#sentinel-2-l2a", cache_dir=tmp_path / "cache")
    request.getfixturevalue("sh_server")
    return get_provider("sentinelhub", cache_dir=tmp_path / "cache", retry_sleep_s=0.05)


def _reference(s2_series: list[SyntheticScene], dates: list[dt.date], aoi: Any) -> Any:
    local = [s for s in find_scenes(s2_series[0].folder.parent) if s.date in dates]
    return load_scenes(local, aoi=aoi, bands=BANDS, crs="utm")


def _search(provider: Any, aoi: Any, start: dt.date) -> list[Any]:
    scenes = list(provider.search(aoi, start, dt.date(2024, 5, 31), max_cloud_fraction=0.5))
    if provider.name == "local":
        # Local files carry no cloud metadata, so the cloud filter cannot act on them.
        scenes = [s for s in scenes if s.date != dt.date(2024, 5, 11)]
    return scenes


def test_provider_protocol(provider: Any) -> None:
    assert isinstance(provider, Provider)
    assert provider.name in PROVIDERS


def test_search_dates_aoi_and_cloud_filter(provider: Any, site_aoi: Any) -> None:
    scenes = _search(provider, site_aoi, dt.date(2024, 5, 2))
    assert [s.date.isoformat() for s in scenes] == ["2024-05-06", "2024-05-16"]
    assert all(s.datetime.tzinfo is not None for s in scenes)
    assert all({"B02", "B8A", "SCL"} <= set(s.bands) for s in scenes)


def test_load_matches_the_local_reader(provider: Any, site_aoi: Any, s2_series: list[SyntheticScene]) -> None:
    scenes = _search(provider, site_aoi, dt.date(2024, 5, 1))
    stack = provider.load(scenes, aoi=site_aoi, bands=BANDS, crs="utm")
    ref = _reference(s2_series, [s.date for s in scenes], site_aoi)
    assert stack.dims == ("time", "band", "y", "x")
    assert stack.dtype == np.float32
    assert list(stack.band.values) == BANDS
    assert stack.odc.geobox == ref.odc.geobox
    assert stack.sizes["time"] == 3
    assert list(stack.time.values.astype("datetime64[D]")) == list(ref.time.values.astype("datetime64[D]"))
    assert "scene_id" in stack.coords and "processing_level" in stack.coords
    assert stack.attrs["provider"] == provider.name
    refl = stack.sel(band=BANDS[:-1]).values
    refl_ref = ref.sel(band=BANDS[:-1]).values
    both = np.isfinite(refl) & np.isfinite(refl_ref)
    # No-data agrees except on a rim one pixel wide (resampling at the edge of the no-data corner).
    assert (np.isfinite(refl) != np.isfinite(refl_ref)).mean() < 0.01
    assert both.mean() > 0.9
    # Within resampling tolerance (uint16 rounding on the service and in the cache).
    assert np.abs(refl[both] - refl_ref[both]).max() <= 1.0
    # The +1000 baseline-04 offset is removed exactly once.
    assert 0 < np.nanmedian(refl) < 4000
    scl = stack.sel(band="SCL").values
    scl_ref = ref.sel(band="SCL").values
    ok = np.isfinite(scl) & np.isfinite(scl_ref)
    assert (scl[ok] == scl_ref[ok]).mean() > 0.999


def test_second_load_fetches_nothing(provider: Any, site_aoi: Any, request: pytest.FixtureRequest) -> None:
    if provider.name == "local":
        pytest.skip("the local provider has nothing to fetch")
    server = request.getfixturevalue("stac_server" if provider.name == "stac" else "sh_server")
    scenes = list(
        provider.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 31), max_cloud_fraction=0.5)
    )
    first = provider.load(scenes, aoi=site_aoi, bands=BANDS, crs="utm")
    assert provider.stats.scenes_fetched == 3
    server.reset_counts()
    second = provider.load(scenes, aoi=site_aoi, bands=BANDS, crs="utm")
    assert provider.stats.scenes_fetched == 0 and provider.stats.scenes_cached == 3
    assert server.log == []  # not one request: no catalogue, no pixels
    np.testing.assert_array_equal(first.values, second.values)
