"""``scan --sar`` end to end through remote radar sources: a loopback STAC API and Sentinel Hub.

The simulated site's Sentinel-1 scenes (two orbits, speckle, double bounce) are published as
per-polarisation COGs by the loopback servers of ``servers_s1.py``; the CLI scans the optical
scenes with ``--sar stac:URL#sentinel-1-rtc`` (real pystac-client and odc-stac) and
``--sar sentinelhub`` (the real Sentinel Hub client: OAuth2, Catalog, Process API), and the
radar evidence must say what the local radar source says of the same scenes.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from servers_s1 import RadarPass, S1SentinelHubServer, S1StacServer, write_passes
from shapely.geometry import shape

from sitewatch import load_aoi
from sitewatch.cli.main import cli
from sitewatch.providers.radar import get_radar_provider
from sitewatch.simulate import Pad, simulate_site

pytestmark = pytest.mark.e2e

PAD_DAY = "2024-07-20"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return simulate_site(
        tmp_path_factory.mktemp("scan-sar-remote"),
        start="2024-01-01",
        end="2024-10-31",
        events=[Pad("pad", (-150.0, 120.0), 120.0, 60.0, 30.0, PAD_DAY)],
        size_px=80,
        seed=5,
        sar=True,
        revisit_days=10,
    )


@pytest.fixture(scope="module")
def passes(site: Any, tmp_path_factory: pytest.TempPathFactory) -> list[RadarPass]:
    """The simulated radar scenes as product folders of ``vv.tif`` / ``vh.tif`` COGs."""
    radar = get_radar_provider(f"local:{site.radar_dir}")
    aoi = load_aoi(str(site.aoi_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack = radar.load(list(radar.search(aoi)), aoi=aoi, crs="utm")
    return write_passes(tmp_path_factory.mktemp("s1-cogs"), stack)


@pytest.fixture
def stac_server(passes: list[RadarPass]) -> Iterator[S1StacServer]:
    server = S1StacServer()
    server.start()
    for p in passes:
        server.add_pass(p)
    yield server
    server.stop()
    assert not server.errors, server.errors[0]


@pytest.fixture
def sh_server(passes: list[RadarPass], monkeypatch: pytest.MonkeyPatch) -> Iterator[S1SentinelHubServer]:
    server = S1SentinelHubServer()
    server.start()
    for p in passes:
        server.add_pass(p)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # test-only: plain-http token URL
    monkeypatch.setenv("SH_CLIENT_ID", server.client_id)
    monkeypatch.setenv("SH_CLIENT_SECRET", server.client_secret)
    monkeypatch.setenv("SH_BASE_URL", server.url)
    monkeypatch.setenv("SH_TOKEN_URL", server.token_url)
    yield server
    server.stop()
    assert not server.errors, server.errors[0]


def _scan(site: Any, sar: str, out: Path) -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(
            cli,
            [
                "scan",
                "--aoi",
                str(site.aoi_path),
                "--source",
                f"local:{site.scenes_dir}",
                "--start",
                "2024-01-01",
                "--end",
                "2024-10-31",
                "--out",
                str(out),
                "--sar",
                sar,
            ],
        )
    assert res.exit_code == 0, res.output
    collection: dict[str, Any] = json.loads(out.read_text())
    return collection


def _pad_evidence(site: Any, fc: dict[str, Any]) -> dict[str, Any]:
    pad = next(shape(f["geometry"]) for f in site.truth["features"] if f["properties"]["name"] == "pad")
    hits = [
        f["properties"]
        for f in fc["features"]
        if f["properties"]["source"] == "optical" and shape(f["geometry"]).intersects(pad)
    ]
    assert hits, [f["properties"]["change_type"] for f in fc["features"]]
    sar: dict[str, Any] = hits[0]["corroboration"]["sar"]
    return sar


@pytest.fixture(scope="module")
def local_evidence(site: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    fc = _scan(site, f"local:{site.radar_dir}", tmp_path_factory.mktemp("local") / "a.geojson")
    return _pad_evidence(site, fc)


def _same_evidence(remote: dict[str, Any], local: dict[str, Any]) -> None:
    assert remote["verdict"] == local["verdict"] == "consistent"
    assert remote["direction_vv"] == local["direction_vv"] == "darker"
    assert sorted(remote["orbits"]) == sorted(local["orbits"]) and len(remote["orbits"]) == 2
    assert (remote["radar_before"], remote["radar_after"]) == (local["radar_before"], local["radar_after"])
    assert remote["radar_before"] <= PAD_DAY <= remote["radar_after"]
    # the same scenes on the same grid: the change over the outline agrees to a fraction of a dB
    assert abs(remote["delta_vv_db"] - local["delta_vv_db"]) < 0.3


def test_scan_sar_through_a_stac_api(
    site: Any, stac_server: S1StacServer, local_evidence: dict[str, Any], tmp_path: Path
) -> None:
    fc = _scan(site, f"stac:{stac_server.url}#{stac_server.collection}", tmp_path / "a.geojson")
    assert fc["sitewatch"]["sar_source"].startswith("stac:")
    _same_evidence(_pad_evidence(site, fc), local_evidence)
    assert any("/search" in e["path"] for e in stac_server.log), "the STAC API was never searched"


def test_scan_sar_through_sentinel_hub(
    site: Any, sh_server: S1SentinelHubServer, local_evidence: dict[str, Any], tmp_path: Path
) -> None:
    fc = _scan(site, "sentinelhub", tmp_path / "a.geojson")
    _same_evidence(_pad_evidence(site, fc), local_evidence)
    assert sh_server.process_calls, "the Process API was never asked"
