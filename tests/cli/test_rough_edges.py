"""Issue 13 items 3, 6 and 8: --since-last's choice, scan --all dates, demo --reports, rough edges."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from sitewatch.cli.main import cli
from sitewatch.runs import LOCK_NAME, find_previous_run

pytestmark = pytest.mark.e2e


def _run(folder: Path, *, finished: str, aois: list[str], source: str = "local:x", status="complete"):
    folder.mkdir(parents=True)
    manifest = {
        "sitewatch_run": 1,
        "run_id": folder.name,
        "status": status,
        "finished": finished,
        "settings": {"source": source},
        "aois": [{"name": a} for a in aois],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "state.json").write_text(json.dumps({"sitewatch_state": 1, "aois": {}}))


def test_since_last_takes_the_latest_run_of_the_same_aois_and_source(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _run(runs / "a-full", finished="2025-11-01T00:00:00", aois=["alpha", "gamma"])
    _run(runs / "b-other-registry", finished="2025-11-20T00:00:00", aois=["zeta"])
    _run(runs / "c-other-source", finished="2025-11-21T00:00:00", aois=["alpha", "gamma"], source="stac")
    _run(runs / "d-aborted", finished="2025-11-22T00:00:00", aois=["alpha", "gamma"], status="aborted")
    new = runs / "new"
    assert find_previous_run(new, aois=["alpha", "gamma"], source="local:x") == runs / "a-full"
    assert find_previous_run(new, aois=["zeta"], source="local:x") == runs / "b-other-registry"
    assert find_previous_run(new, aois=["alpha", "omega"], source="local:x") is None
    assert find_previous_run(new) == runs / "c-other-source"  # without a filter: the latest finished


def _write_aoi(folder: Path, name: str, lon: float) -> None:
    feature = {
        "type": "Feature",
        "properties": {"name": name, "display_name": name.title()},
        "geometry": shapely.geometry.mapping(shapely.box(lon, 36.7, lon + 0.01, 36.71)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.geojson").write_text(json.dumps(feature))


def _scan_all(aoi_dir: Path, *extra: str):
    args = ["scan", "--all", "--scan-function", "fake_scan:fake_scan", "--aoi-dir", str(aoi_dir)]
    args += ["--source", "fake:", "--scheduler", "serial", *extra]
    return CliRunner().invoke(cli, args)


def test_scan_all_dates_optional_lock_removed_and_since_last_says_which_run(tmp_path: Path) -> None:
    aois = tmp_path / "aoi"
    _write_aoi(aois, "alpha", 40.5)
    other = tmp_path / "aoi-other"
    _write_aoi(other, "zeta", 42.5)
    runs = tmp_path / "runs"
    first = _scan_all(aois, "--end", "2024-05-01", "--out-dir", str(runs / "r1"))
    assert first.exit_code == 0, first.output
    manifest = json.loads((runs / "r1" / "manifest.json").read_text())
    assert manifest["settings"]["start"] == "2023-05-02"  # a year before --end by default
    assert not (runs / "r1" / LOCK_NAME).exists()  # a finished run holds no lock file
    # a later run of another registry beside it must not become the baseline
    zeta = _scan_all(other, "--end", "2024-05-01", "--out-dir", str(runs / "r2"))
    assert zeta.exit_code == 0, zeta.output
    again = _scan_all(aois, "--end", "2024-06-01", "--since-last", "--out-dir", str(runs / "r3"))
    assert again.exit_code == 0, again.output
    assert f"since-last: started from run {runs / 'r1'}" in again.stderr
    assert json.loads((runs / "r3" / "manifest.json").read_text())["settings"]["previous_run"] == str(
        runs / "r1"
    )


def test_no_overlap_names_both_extents(tmp_path: Path) -> None:
    from sitewatch.simulate import simulate_site

    site = simulate_site(
        tmp_path / "sim",
        start="2024-10-01",
        end="2024-11-15",
        size_px=100,
        revisit_days=10,
        seed=1,
        events=[],
    )
    far = tmp_path / "far.geojson"
    far.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {"name": "far"},
                "geometry": shapely.geometry.mapping(shapely.box(10.0, 50.0, 10.01, 50.01)),
            }
        )
    )
    res = CliRunner().invoke(
        cli,
        [
            *("scan", "--aoi", str(far), "--source", f"local:{site.scenes_dir}"),
            *("--start", "2024-10-01", "--end", "2024-11-15", "--out", str(tmp_path / "a.geojson")),
        ],
    )
    assert res.exit_code == 1
    (line,) = [x for x in res.stderr.splitlines() if x.startswith("sitewatch: error:")]
    assert "widen the range" not in line and "Traceback" not in res.output
    assert "10.0000, 50.0000" in line  # the AOI's bounds
    lon, _lat = site.aoi.point if site.aoi.point else site.aoi.geometry.centroid.coords[0]
    assert f"{int(lon)}." in line.split("cover lon/lat")[1]  # and the data's


def test_scenes_level_from_granule_file_names(scene_writer, tmp_path: Path) -> None:
    import rasterio

    scene_writer(np.full((6, 20, 20), 1000, np.float32), dates=["2024-05-01"])
    (src,) = [p for p in tmp_path.rglob("*.tif")]
    with rasterio.open(src) as ds:
        profile, data = ds.profile | {"count": 1}, ds.read(1)
    for level, suffix, folder in (("L1C", "", "l1c"), ("L2A", "_10m", "l2a")):
        (tmp_path / folder).mkdir()
        for band in ("B02", "B03", "B04", "B08"):
            with rasterio.open(
                tmp_path / folder / f"T40QBM_20180328T065919_{band}{suffix}.tif", "w", **profile
            ) as dst:
                dst.write(data, 1)
        rows = json.loads(CliRunner().invoke(cli, ["scenes", str(tmp_path / folder), "--json"]).stdout)
        assert [r["level"] for r in rows] == [level]


def test_output_geojson_follows_the_umask(tmp_path: Path) -> None:
    from sitewatch.export import write_geojson

    old = os.umask(0o022)
    try:
        feature = {"geometry": shapely.box(0, 0, 1, 1), "properties": {}}
        path = write_geojson(tmp_path / "a.geojson", [feature])
        assert path.stat().st_mode & 0o777 == 0o644
        os.umask(0o077)
        path = write_geojson(tmp_path / "b.geojson", [])
        assert path.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_demo_reports_link_the_bundled_reports_to_the_simulated_site(demo_dir: Path) -> None:
    from .conftest import SHARED_REPORTS

    if not SHARED_REPORTS.is_dir():
        pytest.skip("../shared/reports is absent")
    fc = json.loads((demo_dir / "alerts.geojson").read_text())
    assert fc["sitewatch"]["simulated"] is True and fc["sitewatch"]["aoi"] == "qasrak"
    links = json.loads((demo_dir / "alerts.links.json").read_text())
    verdicts = [link["verdict"] for link in links["links"]]
    assert verdicts and "supported" in verdicts  # the Qasrak claims apply to the simulated site
    assert "SIMULATED" in (demo_dir / "summary.txt").read_text()
