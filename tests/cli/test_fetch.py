# ruff: noqa: F811  (pytest fixtures imported from servers.py are redefined as arguments)
"""``sitewatch fetch`` and ``sitewatch cache`` against the loopback STAC and Sentinel Hub servers."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))
from servers import (
    SentinelHubServer,
    StacServer,
    s2_series,  # noqa: F401
    sh_server,  # noqa: F401
    site_aoi,  # noqa: F401
    stac_server,  # noqa: F401
    write_aoi_file,
)

from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def registry(site_aoi: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "aoi"
    write_aoi_file(folder, site_aoi)
    monkeypatch.setenv("SITEWATCH_AOI_DIR", str(folder))
    return folder


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_fetch_then_refetch_then_ls_and_rm(stac_server: StacServer, registry: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "cache")
    args = ["fetch", "--aoi", "testsite", "--source", f"stac:{stac_server.url}#sentinel-2-l2a"]
    args += ["--start", "2024-05-01", "--end", "2024-05-31", "--max-cloud", "0.5", "--cache-dir", cache]
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert "3 scene(s)" in first.output and "fetched 3, already cached 0" in first.output
    assert "[1/3] 2024-05-" in first.output and "[3/3] 2024-05-" in first.output  # one line per scene
    stac_server.reset_counts()
    again = run(*args, "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert report["scenes_fetched"] == 0 and report["scenes_cached"] == 3
    assert stac_server.requests("/files/") == []  # no pixel I/O on a rerun
    listing = run("cache", "ls", "--cache-dir", cache, "--json")
    (row,) = json.loads(listing.output)
    assert row["aoi"] == "testsite" and row["n_scenes"] == 3 and row["first"] == "2024-05-01"
    assert row["sources"] == f"stac:{stac_server.url}#sentinel-2-l2a"
    table = run("cache", "ls", "--cache-dir", cache)
    assert "testsite" in table.output and "B02,B03,B04,B08,B11,B12,B8A,SCL" in table.output
    removed = run("cache", "rm", "--aoi", "testsite", "--cache-dir", cache)
    assert removed.exit_code == 0 and "removed the cache of testsite" in removed.output
    assert "nothing cached" in run("cache", "ls", "--cache-dir", cache).output


def test_cache_dir_from_env(
    stac_server: StacServer, registry: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITEWATCH_CACHE", str(tmp_path / "envcache"))
    result = run(
        "fetch",
        "--aoi",
        "testsite",
        "--source",
        f"stac:{stac_server.url}",
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-01",
        "--bands",
        "B04,SCL",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "envcache" / "testsite" / "manifest.json").exists()


def test_errors_are_one_line(stac_server: StacServer, registry: Path, tmp_path: Path) -> None:
    stac_server.fail("/v1/search", "403")
    result = CliRunner().invoke(
        cli,
        ["fetch", "--aoi", "testsite", "--source", f"stac:{stac_server.url}", "--cache-dir", str(tmp_path)],
    )
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "HTTP 403" in result.output
    nothing = CliRunner().invoke(
        cli,
        [
            "fetch",
            "--aoi",
            "testsite",
            "--source",
            f"stac:{stac_server.url}",
            "--start",
            "2020-01-01",
            "--end",
            "2020-02-01",
            "--cache-dir",
            str(tmp_path),
        ],
    )
    assert nothing.exit_code == 1 and "holds no scene" in nothing.output
    local = CliRunner().invoke(cli, ["fetch", "--aoi", "testsite", "--source", f"local:{tmp_path}"])
    assert local.exit_code == 1 and "not a remote source" in local.output
    rm = CliRunner().invoke(cli, ["cache", "rm", "--aoi", "testsite", "--cache-dir", str(tmp_path / "none")])
    assert rm.exit_code == 1 and "nothing is cached" in rm.output


def test_fetch_from_sentinelhub_never_prints_the_secret(
    sh_server: SentinelHubServer, registry: Path, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "-vv",
            "fetch",
            "--aoi",
            "testsite",
            "--source",
            "sentinelhub",
            "--start",
            "2024-05-01",
            "--end",
            "2024-05-31",
            "--cache-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "fetched 4" in result.output
    assert sh_server.client_secret not in result.output
    bad = CliRunner().invoke(
        cli,
        ["fetch", "--aoi", "testsite", "--source", "sentinelhub", "--cache-dir", str(tmp_path)],
        env={"SH_CLIENT_ID": "intruder", "SH_CLIENT_SECRET": "wrong-secret"},
    )
    assert bad.exit_code == 1 and "rejected the client credentials" in bad.output
    assert "wrong-secret" not in bad.output


def test_scan_through_the_stac_source_then_rescan_fetches_nothing(
    stac_server: StacServer, registry: Path, tmp_path: Path
) -> None:
    scan_module = pytest.importorskip("sitewatch.pipeline.scan")
    source = f"stac:{stac_server.url}#sentinel-2-l2a"
    kwargs = {"start": "2024-05-01", "end": "2024-05-31", "cache_dir": tmp_path / "cache"}
    first = scan_module.scan("testsite", source, **kwargs)
    assert [s["date"] for s in first.scenes_used] == ["2024-05-01", "2024-05-06", "2024-05-11", "2024-05-16"]
    assert stac_server.requests("/files/")
    stac_server.reset_counts()
    second = scan_module.scan("testsite", source, **kwargs)
    assert stac_server.requests("/files/") == []  # no pixel I/O: every scene came from the cache
    assert all(r["path"].startswith("/v1") for r in stac_server.log)  # only the catalogue was asked
    assert second.scenes_used == first.scenes_used


def test_cli_scan_with_a_stac_source_and_a_rescan_fetches_nothing(
    stac_server: StacServer, registry: Path, tmp_path: Path
) -> None:
    pytest.importorskip("sitewatch.cli.scan")
    args = ["scan", "--aoi", "testsite", "--source", f"stac:{stac_server.url}#sentinel-2-l2a"]
    args += ["--start", "2024-05-01", "--end", "2024-05-31", "--cache-dir", str(tmp_path / "cache")]
    first = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a1.geojson")])
    assert first.exit_code == 0, first.output
    assert "4 scenes used" in first.output and stac_server.requests("/files/")
    stac_server.reset_counts()
    second = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "a2.geojson")])
    assert second.exit_code == 0, second.output
    assert stac_server.requests("/files/") == []  # the rescan reads every pixel from the cache
    a1 = json.loads((tmp_path / "a1.geojson").read_text())
    a2 = json.loads((tmp_path / "a2.geojson").read_text())
    assert a1["features"] == a2["features"]


def test_cli_scan_with_sentinelhub(sh_server: SentinelHubServer, registry: Path, tmp_path: Path) -> None:
    pytest.importorskip("sitewatch.cli.scan")
    args = [
        "scan",
        "--aoi",
        "testsite",
        "--source",
        "sentinelhub",
        "--start",
        "2024-05-01",
        "--end",
        "2024-05-31",
    ]
    args += ["--cache-dir", str(tmp_path / "cache"), "--out", str(tmp_path / "alerts.geojson")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "4 scenes used" in result.output and len(sh_server.process_calls) == 4
    assert sh_server.client_secret not in result.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and len(sh_server.process_calls) == 4  # nothing fetched the second time
