"""Issue 13 items 1 and 2: relative output paths, and reruns that never mix two runs' outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitewatch.cli._batch import fresh_run_dir
from sitewatch.cli.main import cli
from sitewatch.cli.outputs import RECORD_NAME
from sitewatch.simulate import Pad, simulate_site

from .conftest import DEMO_ARGS

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    return simulate_site(
        tmp_path_factory.mktemp("reruns"),
        start="2024-10-01",
        end="2025-01-31",
        size_px=120,
        revisit_days=6,
        seed=3,
        events=[Pad("pad", (-300.0, 350.0), 120.0, 70.0, 30.0, "2024-12-20")],
    )


def _scan(site, *extra: str):
    args = ["scan", "--aoi", str(site.aoi_path), "--source", f"local:{site.scenes_dir}"]
    args += ["--start", "2024-10-01", "--end", "2025-01-31", *extra]
    return CliRunner().invoke(cli, args)


def _quicklooks(alerts: Path) -> list[str]:
    return [f["properties"]["quicklook"] for f in json.loads(alerts.read_text())["features"]]


def test_relative_quicklooks_run_twice(site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the README's command, then the same again into the same folders
        res = _scan(site, "--out", "alerts.geojson", "--quicklooks", "ql/")
        assert res.exit_code == 0, res.output
        assert "Traceback" not in res.output
        paths = _quicklooks(tmp_path / "alerts.geojson")
        assert paths and all(p.startswith("ql/") and (tmp_path / p).is_file() for p in paths)
        assert sorted(p.name for p in (tmp_path / "ql").glob("*.png")) == sorted(Path(p).name for p in paths)
    # alerts in a sub-folder, quicklooks beside it: the paths climb out of the alerts' folder
    res = _scan(site, "--out", "out/alerts.geojson", "--quicklooks", "ql2")
    assert res.exit_code == 0, res.output
    paths = _quicklooks(tmp_path / "out" / "alerts.geojson")
    assert paths and all(p.startswith("../ql2/") and (tmp_path / "out" / p).is_file() for p in paths)


def test_scan_rerun_replaces_its_own_output_and_refuses_another(site, tmp_path: Path) -> None:
    out, ql = tmp_path / "alerts.geojson", tmp_path / "ql"
    first = _scan(site, "--out", str(out), "--quicklooks", str(ql))
    assert first.exit_code == 0, first.output
    n_first = len(list(ql.glob("*.png")))
    assert n_first >= 1
    # the same scan again with a huge minimum area: no alert, and no stale quicklook left
    again = _scan(site, "--out", str(out), "--quicklooks", str(ql), "--min-area-m2", "1e9")
    assert again.exit_code == 0, again.output
    assert _quicklooks(out) == [] and list(ql.glob("*.png")) == []
    # another scan's alerts into the same quicklooks folder: refused in one line, nothing written
    other = _scan(site, "--out", str(tmp_path / "other.geojson"), "--quicklooks", str(ql))
    assert other.exit_code == 1 and "--overwrite" in other.stderr and "Traceback" not in other.output
    assert len(other.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "other.geojson").exists()
    # another date range into the same --out: refused before scanning
    args = ["scan", "--aoi", str(site.aoi_path), "--source", f"local:{site.scenes_dir}"]
    args += ["--start", "2024-11-01", "--end", "2025-01-31", "--out", str(out)]
    moved = CliRunner().invoke(cli, args)
    assert moved.exit_code == 1 and "start 2024-10-01 -> 2024-11-01" in moved.stderr
    replaced = CliRunner().invoke(cli, [*args, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(out.read_text())["sitewatch"]["start"] == "2024-11-01"


def test_demo_with_other_settings_refuses_or_replaces_whole(demo_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "sitewatch-demo"
    shutil.copytree(demo_dir, out)
    n_before = len(list((out / "simulation").rglob("*.tif")))
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), "--size-px", "250", "--revisit-days", "20"])
    assert res.exit_code == 1 and "revisit_days 10 -> 20" in res.stderr and "--overwrite" in res.stderr
    assert len(list((out / "simulation").rglob("*.tif"))) == n_before  # untouched
    res = CliRunner().invoke(
        cli, ["demo", "--out", str(out), "--size-px", "250", "--revisit-days", "20", "--overwrite"]
    )
    assert res.exit_code == 0, res.output
    fc = json.loads((out / "alerts.geojson").read_text())
    used = len(fc["sitewatch"]["scenes_used"]) + len(fc["sitewatch"]["scenes_dropped"])
    truth_dates = len(list((out / "simulation" / "scenes").iterdir()))
    assert used == truth_dates  # only the new simulation's scenes were scanned
    pngs = sorted(p.name for p in (out / "quicklooks").glob("*.png"))
    assert pngs == sorted(Path(f["properties"]["quicklook"]).name for f in fc["features"])
    assert not (out / "alerts.claims.json").exists()  # the first demo's report links are gone
    record = json.loads((out / RECORD_NAME).read_text())
    assert record["settings"]["revisit_days"] == 20


def test_demo_into_a_folder_of_unrecorded_sitewatch_output_refuses(tmp_path: Path) -> None:
    out = tmp_path / "d"
    (out / "quicklooks").mkdir(parents=True)
    (out / "quicklooks" / "sw-old.png").write_bytes(b"x")
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), *DEMO_ARGS])
    assert res.exit_code == 1 and "already holds sitewatch output" in res.stderr


def test_batch_default_run_dir_is_fresh_when_taken(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert fresh_run_dir(runs, "2025-11-30") == runs / "2025-11-30"
    (runs / "2025-11-30").mkdir(parents=True)
    (runs / "2025-11-30" / "manifest.json").write_text(json.dumps({"status": "complete"}))
    assert fresh_run_dir(runs, "2025-11-30") == runs / "2025-11-30.2"
    (runs / "2025-11-30.2").mkdir()
    (runs / "2025-11-30.2" / "manifest.json").write_text(json.dumps({"status": "aborted"}))
    assert fresh_run_dir(runs, "2025-11-30") == runs / "2025-11-30.2"  # resumed, not a third
