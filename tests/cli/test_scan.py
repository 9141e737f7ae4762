"""``sitewatch scan`` from the command line."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli
from sitewatch.simulate import Pad, simulate_site

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cliscan")
    return simulate_site(
        out,
        start="2024-10-01",
        end="2025-01-31",
        size_px=120,
        revisit_days=6,
        seed=3,
        events=[Pad("pad", (-300.0, 350.0), 120.0, 70.0, 30.0, "2024-12-20")],
    )


def test_scan_writes_alerts_and_quicklooks(site, tmp_path: Path):
    out = tmp_path / "alerts.geojson"
    res = CliRunner().invoke(
        cli,
        [
            "scan",
            "--aoi",
            str(site.aoi_path),
            "--source",
            f"local:{site.scenes_dir}",
            "--start",
            "2024-10-01",
            "--end",
            "2025-01-31",
            "--out",
            str(out),
            "--quicklooks",
            str(tmp_path / "ql"),
        ],
    )
    assert res.exit_code == 0, res.output
    fc = json.loads(out.read_text())
    types = [f["properties"]["change_type"] for f in fc["features"]]
    assert "new_pad" in types
    assert "SIMULATED" in res.output and "new_pad" in res.output
    for f in fc["features"]:
        ql = f["properties"]["quicklook"]
        assert ql.startswith("ql/") and (tmp_path / ql).is_file()


def test_scan_errors_are_one_line(site, tmp_path: Path):
    res = CliRunner().invoke(
        cli,
        [
            "scan",
            "--aoi",
            str(site.aoi_path),
            "--source",
            f"local:{site.scenes_dir}",
            "--start",
            "2030-01-01",
            "--end",
            "2030-02-01",
            "--out",
            str(tmp_path / "a.geojson"),
        ],
    )
    assert res.exit_code == 1
    assert "no scenes" in res.output
    res = CliRunner().invoke(
        cli, ["scan", "--source", f"local:{site.scenes_dir}", "--start", "2024-10-01", "--end", "2024-11-01"]
    )
    assert res.exit_code != 0 and "--aoi" in res.output


def test_all_cloudy_exits_0_with_empty_collection(site, tmp_path: Path):
    truth = json.loads(site.truth_path.read_text())
    cloudy = tmp_path / "cloudy"
    cloudy.mkdir()
    for s in truth["sitewatch_simulation"]["scenes"]:
        if s["cloud_fraction"] > 0.6:
            shutil.copy(site.scenes_dir / f"{s['id']}.tif", cloudy)
    assert list(cloudy.iterdir())
    out = tmp_path / "a.geojson"
    with warnings.catch_warnings():
        # the CLI prints warnings as "sitewatch: warning: ..." lines
        warnings.simplefilter("always")
        res = CliRunner().invoke(
            cli,
            [
                "scan",
                "--aoi",
                str(site.aoi_path),
                "--source",
                f"local:{cloudy}",
                "--start",
                "2024-10-01",
                "--end",
                "2025-01-31",
                "--min-clear-fraction",
                "0.5",
                "--out",
                str(out),
            ],
        )
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["features"] == []
    assert "cloudy" in res.output and "no alerts" in res.output
