# ruff: noqa: F811  (pytest fixtures imported from servers.py are redefined as arguments)
"""The Sentinel Hub / CDSE provider against a loopback server speaking OAuth2, Catalog and Process APIs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from odc.geo.geobox import GeoBox
from servers import SentinelHubServer, s2_series, sh_server, site_aoi  # noqa: F401

from sitewatch.errors import ConfigError, CredentialsError, ProviderError, RateLimitError
from sitewatch.providers import get_provider
from sitewatch.providers.sentinelhub import (
    CDSE_BASE_URL,
    CDSE_TOKEN_URL,
    SentinelHubProvider,
    evalscript_for,
    split_grid,
)

MAY = (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
FAST = {"retry_sleep_s": 0.05, "max_attempts": 3, "max_rate_limit_retries": 3}


def _provider(**kw: Any) -> SentinelHubProvider:
    return get_provider("sentinelhub", cache=False, **{**FAST, **kw})  # type: ignore[return-value]


def test_evalscript_outputs() -> None:
    script, refl, mask = evalscript_for(["B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"])
    assert refl == ["B02", "B03", "B04", "B08", "B8A", "B11", "B12"] and mask == ["SCL", "dataMask"]
    assert script.startswith("//VERSION=3")
    assert '"B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL", "dataMask"' in script
    assert 'id: "bands", bands: 7, sampleType: "UINT16"' in script
    assert "mask: [sample.SCL, sample.dataMask]" in script
    only_scl, refl, _ = evalscript_for(["SCL"])
    assert refl == [] and 'id: "bands"' not in only_scl


def test_split_grid_covers_exactly_once() -> None:
    gbox = GeoBox.from_bbox((0, 0, 61_230, 30_000), "EPSG:32637", resolution=10)
    tiles = split_grid(gbox, max_px=2500)
    cover = np.zeros(gbox.shape, int)
    for rows, cols in tiles:
        cover[rows, cols] += 1
        assert rows.stop - rows.start <= 2500 and cols.stop - cols.start <= 2500
    assert (cover == 1).all() and len(tiles) == 2 * 3


def test_endpoints_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SH_BASE_URL", raising=False)
    monkeypatch.delenv("SH_TOKEN_URL", raising=False)
    cdse = get_provider("cdse", cache=False)
    assert (cdse.base_url, cdse.token_url) == (CDSE_BASE_URL, CDSE_TOKEN_URL)  # type: ignore[attr-defined]
    monkeypatch.setenv("SH_BASE_URL", "https://sh.example.invalid")
    monkeypatch.setenv("SH_TOKEN_URL", "https://id.example.invalid/token")
    p = get_provider("sentinelhub", cache=False)
    assert (p.base_url, p.token_url) == ("https://sh.example.invalid", "https://id.example.invalid/token")  # type: ignore[attr-defined]
    with pytest.raises(ConfigError):
        get_provider("sentinelhub", cache=False, bogus=1)


def test_no_credentials_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, site_aoi: Any) -> None:
    monkeypatch.delenv("SH_CLIENT_ID", raising=False)
    monkeypatch.delenv("SH_CLIENT_SECRET", raising=False)
    with pytest.raises(CredentialsError, match="SH_CLIENT_ID") as info:
        list(get_provider("sentinelhub", cache=False).search(site_aoi, *MAY))
    assert "\n" not in str(info.value)


@pytest.mark.e2e
def test_catalog_search_pages_and_filters_clouds(sh_server: SentinelHubServer, site_aoi: Any) -> None:
    scenes = list(_provider(page_size=1).search(site_aoi, *MAY, max_cloud_fraction=0.5))
    assert [s.date.day for s in scenes] == [1, 6, 16]
    searches = [json.loads(r["body"]) for r in sh_server.requests("/catalog/1.0.0/search")]
    assert len(searches) == 3 and [s.get("next") for s in searches] == [None, 1, 2]
    assert "eo:cloud_cover <= 50" in searches[0]["filter"] and searches[0]["collections"] == [
        "sentinel-2-l2a"
    ]
    assert scenes[0].provider == "sentinelhub" and scenes[0].crs == "EPSG:32637"


@pytest.mark.e2e
def test_process_tar_and_single_tiff(sh_server: SentinelHubServer, site_aoi: Any) -> None:
    p = _provider()
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    both = p.load(scenes, aoi=site_aoi, bands=["B04", "SCL"])  # two outputs: TAR
    scl = p.load(scenes, aoi=site_aoi, bands=["SCL"])  # one output: a GeoTIFF
    np.testing.assert_array_equal(both.sel(band="SCL").values, scl.sel(band="SCL").values)
    requests = [json.loads(r["body"]) for r in sh_server.requests("/api/v1/process")]
    accepts = [
        {k.lower(): v for k, v in r["headers"].items()}["accept"] for r in sh_server.requests("/process")
    ]
    assert accepts == ["application/x-tar", "image/tiff"]
    first = requests[0]
    assert first["input"]["bounds"]["properties"]["crs"].endswith("32637")
    assert first["output"]["width"] == 200 and first["output"]["height"] == 200
    assert first["input"]["data"][0]["processing"]["harmonizeValues"] is True


@pytest.mark.e2e
def test_large_grids_are_split_and_mosaicked(sh_server: SentinelHubServer, site_aoi: Any) -> None:
    scenes = list(_provider().search(site_aoi, dt.date(2024, 5, 6), dt.date(2024, 5, 6)))
    whole = _provider().load(scenes, aoi=site_aoi, bands=["B03", "B11", "SCL"])
    n_before = len(sh_server.process_calls)
    tiled = _provider(max_tile_px=70).load(scenes, aoi=site_aoi, bands=["B03", "B11", "SCL"])
    calls = sh_server.process_calls[n_before:]
    assert len(calls) == 9 and max(max(c["size"]) for c in calls) <= 70
    np.testing.assert_allclose(tiled.values, whole.values, atol=1.0, equal_nan=True)


@pytest.mark.e2e
def test_429_waits_retry_after_then_succeeds(sh_server: SentinelHubServer, site_aoi: Any) -> None:
    p = _provider()
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    sh_server.fail(
        "/api/v1/process", "429", times=2, retry_after="1000"
    )  # milliseconds, as Sentinel Hub sends
    stack = p.load(scenes, aoi=site_aoi, bands=["B04"])
    process = sh_server.requests("/api/v1/process")
    assert [r.get("failed") for r in process] == ["429", "429", None]
    assert np.isfinite(stack.values).all()


@pytest.mark.e2e
def test_429_forever_is_a_rate_limit_error(sh_server: SentinelHubServer, site_aoi: Any) -> None:
    p = _provider(max_rate_limit_retries=2)
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    sh_server.fail("/api/v1/process", "429", times=100, retry_after="100")
    with pytest.raises(RateLimitError, match="429"):
        p.load(scenes, aoi=site_aoi, bands=["B04"])
    assert len(sh_server.requests("/api/v1/process")) == 2


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["500", "503", "drop"])
def test_server_errors_and_drops_are_retried(sh_server: SentinelHubServer, site_aoi: Any, kind: str) -> None:
    p = _provider()
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    sh_server.fail("/api/v1/process", kind, times=2)
    stack = p.load(scenes, aoi=site_aoi, bands=["B04"])
    assert [r.get("failed") for r in sh_server.requests("/api/v1/process")] == [kind, kind, None]
    assert np.isfinite(stack.values).all()


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["500", "drop"])
def test_persistent_failures_are_reported(sh_server: SentinelHubServer, site_aoi: Any, kind: str) -> None:
    p = _provider()
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    sh_server.fail("/api/v1/process", kind, times=100)
    with pytest.raises(ProviderError, match="after 3 attempts") as info:
        p.load(scenes, aoi=site_aoi, bands=["B04"])
    assert not isinstance(info.value, (CredentialsError, RateLimitError))
    assert len(sh_server.requests("/api/v1/process")) == 3


@pytest.mark.e2e
def test_wrong_secret_is_a_credentials_error(
    sh_server: SentinelHubServer,
    site_aoi: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SH_CLIENT_SECRET", "not-the-secret")
    monkeypatch.setenv("SH_CLIENT_ID", "someone-else")
    with pytest.raises(CredentialsError, match="rejected the client credentials") as info:
        list(_provider().search(site_aoi, *MAY))
    assert "\n" not in str(info.value) and "not-the-secret" not in str(info.value)


@pytest.mark.e2e
@pytest.mark.parametrize("status", ["401", "403"])
def test_refused_processing_is_a_credentials_error(
    sh_server: SentinelHubServer, site_aoi: Any, status: str
) -> None:
    p = _provider()
    scenes = list(p.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 1)))
    sh_server.fail("/api/v1/process", status)
    with pytest.raises(CredentialsError, match=f"HTTP {status}") as info:
        p.load(scenes, aoi=site_aoi, bands=["B04"])
    assert "\n" not in str(info.value)


@pytest.mark.e2e
def test_secret_never_logged_cached_or_saved(
    sh_server: SentinelHubServer,
    site_aoi: Any,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from urllib.parse import quote_plus

    from sentinelhub import SHConfig

    secret = sh_server.client_secret
    caplog.set_level(logging.DEBUG)
    p = get_provider("sentinelhub", cache_dir=tmp_path / "cache", **FAST)
    scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    sh_server.fail("/api/v1/process", "500", times=1)
    p.load(scenes, aoi=site_aoi, bands=["B04", "SCL"])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Request body was" in text  # requests-oauthlib did log the token request...
    assert secret not in text and quote_plus(secret) not in text  # ...without the secret
    assert sh_server.tokens and not any(token in text for token in sh_server.tokens)  # nor the access token
    assert secret not in repr(p) and secret not in repr(p.inner)  # type: ignore[attr-defined]
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret.encode() not in data and quote_plus(secret).encode() not in data, path
    assert not os.path.exists(SHConfig.get_config_location())  # the user's sentinelhub config is untouched


@pytest.mark.e2e
def test_cdse_deployment_through_env(sh_server: SentinelHubServer, site_aoi: Any, tmp_path: Path) -> None:
    p = get_provider("cdse", cache_dir=tmp_path, **FAST)
    scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    stack = p.load(scenes, aoi=site_aoi, bands=["B8A"])
    assert stack.attrs["provider"] == "cdse" and stack.sizes["time"] == 3
    manifest = json.loads((tmp_path / site_aoi.name / "manifest.json").read_text())
    (grid,) = manifest["grids"].values()
    assert {e["source"] for e in grid["scenes"].values()} == {f"cdse:{sh_server.url}"}


@pytest.mark.e2e
def test_interrupted_fetch_resumes(sh_server: SentinelHubServer, site_aoi: Any, tmp_path: Path) -> None:
    p = get_provider("sentinelhub", cache_dir=tmp_path, **FAST)
    scenes = list(p.search(site_aoi, *MAY, max_cloud_fraction=0.5))
    sh_server.fail("/api/v1/process", "500", times=3, after=1)  # the second scene fails all 3 attempts
    with pytest.raises(ProviderError, match="after 3 attempts"):
        p.load(scenes, aoi=site_aoi, bands=["B04", "SCL"])
    assert p.stats.fetched_ids == [scenes[0].id]  # type: ignore[attr-defined]
    n_calls = len(sh_server.process_calls)
    stack = p.load(scenes, aoi=site_aoi, bands=["B04", "SCL"])
    assert p.stats.fetched_ids == [scenes[1].id, scenes[2].id]  # type: ignore[attr-defined]
    assert len(sh_server.process_calls) == n_calls + 2
    assert stack.sizes["time"] == 3


def test_a_new_provider_does_not_reuse_a_revoked_shared_token(
    sh_server: SentinelHubServer, site_aoi: Any
) -> None:
    # sentinelhub shares OAuth sessions process-wide per (client id, base URL): a token the
    # service revoked (or that another server at the same address issued) must not be reused.
    first = get_provider("sentinelhub", cache=False, **FAST)
    assert list(first.search(site_aoi, *MAY))
    sh_server.tokens.clear()
    second = get_provider("sentinelhub", cache=False, **FAST)
    assert list(second.search(site_aoi, *MAY))
