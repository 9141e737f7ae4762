# ruff: noqa: F811  (pytest fixtures imported from servers.py are redefined as arguments)
"""The STAC provider against a loopback STAC API serving COGs with Range requests."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from servers import EARTH_SEARCH_NAMES, StacServer, SyntheticScene, s2_series, site_aoi, stac_server  # noqa: F401

from sitewatch.errors import BandMissingError, ConfigError, CredentialsError, ProviderError
from sitewatch.providers import get_provider
from sitewatch.providers.cache import CachedProvider
from sitewatch.providers.stac import StacProvider, asset_for_band, band_offset

MAY = (dt.date(2024, 5, 1), dt.date(2024, 5, 31))


def test_asset_names_map_to_bands() -> None:
    earth_search = {
        k: {} for k in ("blue", "green", "red", "nir", "nir08", "swir16", "swir22", "scl", "visual")
    }
    assert [asset_for_band(earth_search, b) for b in ("B02", "B08", "B8A", "B11", "B12", "SCL")] == [
        "blue",
        "nir",
        "nir08",
        "swir16",
        "swir22",
        "scl",
    ]
    assert asset_for_band({"B02_10m": {}, "SCL_20m": {}}, "SCL") == "SCL_20m"
    assert asset_for_band({"B8A": {}}, "B8A") == "B8A"
    assert asset_for_band({"x": {"eo:bands": [{"name": "B11"}]}}, "B11") == "x"
    assert asset_for_band({"red": {}}, "B05") is None


@pytest.mark.parametrize(
    ("props", "raster", "band", "expected"),
    [
        ({}, {"scale": 0.0001, "offset": -0.1}, "B04", (1.0, -1000.0)),
        ({}, {"scale": 0.0001, "offset": 0.0}, "B04", (1.0, 0.0)),
        ({"s2:processing_baseline": "04.00"}, {}, "B04", (1.0, -1000.0)),
        ({"s2:processing_baseline": "03.01"}, {}, "B04", (1.0, 0.0)),
        ({"s2:processing_baseline": "05.00", "earthsearch:boa_offset_applied": True}, {}, "B04", (1.0, 0.0)),
        ({"s2:processing_baseline": "05.00"}, {"scale": 0.0001, "offset": -0.1}, "SCL", (1.0, 0.0)),
    ],
)
def test_l2a_offset(props: dict, raster: dict, band: str, expected: tuple) -> None:
    item = {"properties": props, "assets": {"a": {"raster:bands": [raster] if raster else []}}}
    assert band_offset(item, "a", band) == expected


def test_spec_parsing() -> None:
    p = get_provider("stac:https://example.invalid/v1#my-coll", cache=False)
    assert isinstance(p, StacProvider) and p.collection == "my-coll" and p.url == "https://example.invalid/v1"
    assert get_provider("stac:https://example.invalid/v1", cache=False).collection == "sentinel-2-l2a"
    es = get_provider("earth-search")
    assert isinstance(es, CachedProvider) and es.inner.url.startswith("https://earth-search")  # type: ignore[attr-defined]
    assert get_provider("cdse-stac", cache=False).url.startswith("https://stac.dataspace")  # type: ignore[attr-defined]
    assert get_provider("stac", cache=False).url == "https://earth-search.aws.element84.com/v1"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError):
        get_provider("stac:ftp://x")
    # Credentials in a URL never reach what is recorded or printed.
    p = get_provider("stac:https://user:pw@example.invalid/v1", cache=False)
    assert "pw" not in p.source and "pw" not in repr(p)


@pytest.mark.e2e
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_search_pages_through_next_links(stac_server: StacServer, site_aoi: Any, method: str) -> None:
    p = get_provider(f"stac:{stac_server.url}#sentinel-2-l2a", cache=False, method=method, page_size=1)
    scenes = list(p.search(site_aoi, *MAY))
    assert [s.date.day for s in scenes] == [1, 6, 11, 16]
    searches = stac_server.requests(r"/v1/search")
    assert len(searches) == 4 and {r["method"] for r in searches} == {method}
    if method == "GET":
        assert "token=1" in searches[1]["path"]
    else:
        assert json.loads(searches[1]["body"])["token"] == "1"
    first = scenes[0]
    assert first.provider == "stac" and first.processing_level == "L2A"
    assert first.crs == "EPSG:32637" and first.cloud_fraction == pytest.approx(0.03)
    assert first.assets["B02"] == "blue" and first.properties["tiles"] == ["37SBA"]


@pytest.mark.e2e
def test_cloud_filter_goes_in_the_query_and_no_pixel_is_read(
    stac_server: StacServer,
    site_aoi: Any,
    tmp_path: Path,
) -> None:
    p = get_provider(f"stac:{stac_server.url}#sentinel-2-l2a", cache_dir=tmp_path)
    scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    body = json.loads(stac_server.requests(r"/v1/search")[0]["body"])
    assert body["query"] == {"eo:cloud_cover": {"lte": 50.0}}
    assert body["datetime"].startswith("2024-05-01T00:00:00") and "intersects" in body
    assert stac_server.requests("/files/") == []  # searching reads no pixel
    p.load(scenes, aoi=site_aoi, bands=["B04"])
    assert not stac_server.requests("20240511")  # the cloudy scene is never opened


@pytest.mark.e2e
def test_api_without_query_extension_is_filtered_client_side(
    s2_series: list[SyntheticScene],
    site_aoi: Any,
) -> None:
    server = StacServer(conform_query=False).start()
    try:
        for scene in s2_series:
            server.add_scene(scene)
        p = get_provider(f"stac:{server.url}", cache=False)
        scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
        assert [s.date.day for s in scenes] == [1, 6, 16]
        assert "query" not in json.loads(server.requests("/v1/search")[0]["body"])
    finally:
        server.stop()


@pytest.mark.e2e
def test_windowed_reads_only_the_needed_bands(stac_server: StacServer, site_aoi: Any, tmp_path: Path) -> None:
    p = get_provider(f"stac:{stac_server.url}", cache=False)
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    stac_server.reset_counts()
    stack = p.load(scenes, aoi=site_aoi, bands=["B04", "SCL"])
    assert stack.shape == (1, 2, 200, 200)
    files = {r["path"].rsplit("/", 1)[1] for r in stac_server.requests("/files/")}
    assert files == {f"{scenes[0].id}_B04.tif", f"{scenes[0].id}_SCL.tif"}
    ranged = [r for r in stac_server.requests("/files/") if r["method"] == "GET"]
    assert ranged and all(r["range"] for r in ranged)  # HTTP Range requests only
    whole = sum(
        p_.stat().st_size
        for b, p_ in s2_series_files(stac_server, scenes[0].id).items()
        if b in ("B04", "SCL")
    )
    assert stac_server.file_bytes_served < whole


def s2_series_files(server: StacServer, scene_id: str) -> dict[str, Path]:
    return {p.stem.rsplit("_", 1)[1]: p for url, p in server.files.items() if f"/{scene_id}/" in url}


@pytest.mark.e2e
def test_missing_band_is_reported(stac_server: StacServer, site_aoi: Any) -> None:
    p = get_provider(f"stac:{stac_server.url}", cache=False)
    scenes = list(p.search(site_aoi, *MAY))
    with pytest.raises(BandMissingError, match="B05"):
        p.load(scenes[:1], aoi=site_aoi, bands=["B05"])


@pytest.mark.e2e
def test_refused_search_is_a_credentials_error(stac_server: StacServer, site_aoi: Any) -> None:
    stac_server.fail(r"/v1/search", "401")
    p = get_provider(f"stac:{stac_server.url}", cache=False)
    with pytest.raises(CredentialsError, match="HTTP 401"):
        list(p.search(site_aoi, *MAY))


@pytest.mark.e2e
def test_unreachable_api_is_a_provider_error(site_aoi: Any) -> None:
    p = get_provider("stac:http://127.0.0.1:9/v1", cache=False, timeout_s=2, retry_sleep_s=0.01)
    with pytest.raises(ProviderError, match="cannot reach"):
        list(p.search(site_aoi, *MAY))


@pytest.mark.e2e
@pytest.mark.parametrize("threads", [1, 4])
def test_interrupted_fetch_resumes(
    stac_server: StacServer, site_aoi: Any, tmp_path: Path, threads: int
) -> None:
    p = get_provider(f"stac:{stac_server.url}", cache_dir=tmp_path, fetch_threads=threads)
    scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    broken = scenes[1].id
    # A server error (a 404 is a scene gone for good, skipped: see test_unavailable_scene_*).
    stac_server.fail(rf"/files/{broken}/", "500", times=1000)
    with pytest.raises(ProviderError, match=broken):
        p.load(scenes, aoi=site_aoi, bands=["B04", "B11"])
    manifest = json.loads((tmp_path / site_aoi.name / "manifest.json").read_text())
    (grid,) = manifest["grids"].values()
    kept = set(grid["scenes"])
    assert scenes[0].id in kept and broken not in kept  # finished scenes are kept, the broken one not
    if threads == 1:
        assert kept == {scenes[0].id}  # one at a time: the run stopped at the failure
    assert not list(tmp_path.rglob("*.partial"))
    stac_server.failures.clear()
    stac_server.reset_counts()
    stack = p.load(scenes, aoi=site_aoi, bands=["B04", "B11"])
    assert set(p.stats.fetched_ids) == {s.id for s in scenes} - kept
    assert all(not stac_server.requests(f"/files/{k}/") for k in kept)
    assert np.isfinite(stack.values).mean() > 0.9


@pytest.mark.e2e
def test_cdse_asset_names_and_offset_from_the_baseline(
    s2_series: list[SyntheticScene], site_aoi: Any, tmp_path: Path
) -> None:
    from sitewatch.providers.local import find_scenes, load_scenes

    server = StacServer().start()
    try:
        cdse_names = {
            b: f"{b}_{'10m' if b in ('B02', 'B03', 'B04', 'B08') else '20m'}" for b in EARTH_SEARCH_NAMES
        }
        # No raster:bands scale/offset: the +1000 must come off because the baseline is 05.10.
        server.add_scene(s2_series[0], names=cdse_names, raster_offsets=False)
        p = get_provider(f"stac:{server.url}", cache_dir=tmp_path)
        (scene,) = p.search(site_aoi, *MAY)
        assert scene.assets["B8A"] == "B8A_20m"
        stack = p.load([scene], aoi=site_aoi, bands=["B03", "B12", "SCL"])
        ref = load_scenes(
            find_scenes(s2_series[0].folder), aoi=site_aoi, bands=["B03", "B12", "SCL"], crs="utm"
        )
        np.testing.assert_allclose(stack.values, ref.values, atol=1.0, equal_nan=True)
    finally:
        server.stop()


@pytest.mark.e2e
def test_tiles_of_one_day_are_one_scene(tmp_path: Path) -> None:
    from servers import make_scene

    west = make_scene(tmp_path, "2024-06-01", seed=5, tile="37SBA", shape10=(300, 300))
    east = make_scene(
        tmp_path / "e",
        "2024-06-01",
        seed=6,
        tile="37SCA",
        shape10=(300, 300),
        origin=(502_980.0, 4_065_000.0),
    )
    server = StacServer().start()
    try:
        server.add_scene(west)
        server.add_scene(east, alias="S2B_37SCA_20240601_0_L2A")
        # A 2 x 1.5 km box straddling the tile edge at x = 502980.
        import pyproj
        import shapely

        from sitewatch.types import AOI

        to_wgs84 = pyproj.Transformer.from_crs("EPSG:32637", "EPSG:4326", always_xy=True)
        box = shapely.segmentize(shapely.box(502_000, 4_063_000, 504_000, 4_064_500), 100.0)
        geom = shapely.transform(box, lambda xy: np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])))
        aoi = AOI(name="edge", display_name="edge", geometry=geom)
        p = get_provider(f"stac:{server.url}", cache=False)
        (scene,) = p.search(aoi, dt.date(2024, 6, 1), dt.date(2024, 6, 1))
        assert scene.id.endswith("+1") and len(scene.properties["item_ids"]) == 2
        stack = p.load([scene], aoi=aoi, bands=["B04"])
        assert stack.sizes["time"] == 1 and np.isfinite(stack.values).all()
    finally:
        server.stop()


@pytest.mark.e2e
def test_rescan_works_offline_from_the_cache(
    s2_series: list[SyntheticScene], site_aoi: Any, tmp_path: Path
) -> None:
    from sitewatch.errors import ProviderWarning

    server = StacServer().start()
    for scene in s2_series:
        server.add_scene(scene)
    p = get_provider(f"stac:{server.url}", cache_dir=tmp_path, retry_sleep_s=0.01)
    scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    online = p.load(scenes, aoi=site_aoi, bands=["B04", "SCL"])
    server.stop()
    with pytest.warns(ProviderWarning, match="working offline with the 3 scene"):
        offline_scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    assert [s.id for s in offline_scenes] == [s.id for s in scenes]
    offline = p.load(offline_scenes, aoi=site_aoi, bands=["B04", "SCL"])
    np.testing.assert_array_equal(offline.values, online.values)
    with pytest.warns(ProviderWarning):
        again = list(p.search(site_aoi, dt.date(2024, 5, 10), dt.date(2024, 5, 31)))
    assert [s.date.day for s in again] == [16]
    # Nothing cached for another AOI: the network error itself is reported.
    other = get_provider(f"stac:{server.url}", cache_dir=tmp_path / "empty", retry_sleep_s=0.01)
    with pytest.raises(ProviderError):
        list(other.search(site_aoi, *MAY))


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["429", "503", "drop"])
def test_busy_catalogue_is_retried(stac_server: StacServer, site_aoi: Any, kind: str) -> None:
    stac_server.fail(r"/v1/search", kind, times=2, retry_after="1" if kind == "429" else None)
    p = get_provider(f"stac:{stac_server.url}", cache=False, retry_sleep_s=0.05)
    assert len(list(p.search(site_aoi, *MAY))) == 4
    assert [r.get("failed") for r in stac_server.requests("/v1/search")] == [kind, kind, None]


@pytest.mark.e2e
def test_catalogue_rate_limit_is_reported(stac_server: StacServer, site_aoi: Any) -> None:
    from sitewatch.errors import RateLimitError

    stac_server.fail(r"/v1/search", "429", times=100, retry_after="0")
    # max_attempts counts every try (it counted retries before: 2 meant 3 requests)
    p = get_provider(f"stac:{stac_server.url}", cache=False, max_attempts=3, retry_sleep_s=0.01)
    with pytest.raises(RateLimitError, match="429"):
        list(p.search(site_aoi, *MAY))
    assert len(stac_server.requests("/v1/search")) == 3
