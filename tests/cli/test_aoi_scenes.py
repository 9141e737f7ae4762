import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and "sitewatch, version" in result.output


def test_aoi_list_table_and_json():
    result = run("aoi", "list")
    assert result.exit_code == 0
    for name in ("qasrak", "conoco", "al-omar", "green-village"):
        assert name in result.output
    assert "36.706242" in result.output and "40.511955" in result.output
    rows = json.loads(run("aoi", "list", "--json").output)
    by_name = {r["name"]: r for r in rows}
    assert by_name["qasrak"]["location_certainty"] == "exact"
    assert by_name["green-village"]["lat"] is None
    assert by_name["conoco"]["search_radius_m"] == 3000


def test_aoi_show_by_alias_json():
    data = json.loads(run("aoi", "show", "Qasrek", "--json").output)
    assert data["name"] == "qasrak" and data["utm_crs"] == "EPSG:32637"
    assert data["geometry"]["type"] == "Polygon"
    assert any(f["what"] == "runway_length" for f in data["reported"])


def test_aoi_show_prints_quantities_not_python_reprs():
    result = run("aoi", "show", "qasrak")
    assert result.exit_code == 0
    assert "None" not in result.output and "{" not in result.output
    assert "search_radius_m: -" in result.output
    assert "pad: 193 x 94 m (2025-01-01 to 2025-04-30)" in result.output
    assert "convoy (2025-09-28)" in result.output
    assert "base_area: 1,800,000 m2" in result.output


def test_unknown_aoi_is_one_line_and_exit_1():
    result = CliRunner().invoke(cli, ["aoi", "show", "qasrik"])
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "did you mean" in result.stderr and "Traceback" not in result.output + result.stderr


@pytest.mark.filterwarnings("default::sitewatch.errors.DataWarning")
def test_scenes_on_oscd_abudhabi(oscd_dir):
    result = run("scenes", str(oscd_dir / "images" / "abudhabi"))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line[:4].isdigit()]
    assert [line.split()[0] for line in lines] == ["2016-01-20", "2018-03-28"]
    assert all(" 13 " in line for line in lines)
    assert "png" not in result.output.lower()
    result = run("scenes", str(oscd_dir / "images" / "abudhabi"), "--json", "--aoi", "qasrak")
    data = json.loads(result.stdout)
    # data elsewhere than the AOI is said once, with both extents, not left to a column of zeros
    assert re.search(
        r"warning: no scene under .* overlaps AOI 'qasrak' \(lon/lat 40\.4.*54\.5", result.stderr
    )
    assert [d["n_bands"] for d in data] == [13, 13]
    assert [d["aoi_covered"] for d in data] == [0.0, 0.0]


def test_scenes_errors_are_clear(tmp_path):
    result = CliRunner().invoke(cli, ["scenes", str(tmp_path)])
    assert result.exit_code == 1 and "no Sentinel-2 scenes found" in result.stderr
    bad = tmp_path / "S2_20240101.tif"
    bad.write_bytes(b"II*\x00garbage")
    result = CliRunner().invoke(cli, ["scenes", str(tmp_path)])
    assert result.exit_code == 1 and "S2_20240101.tif" in result.stderr and "Traceback" not in result.stderr


def test_scenes_covered_fraction(scene_writer, tmp_path):
    from sitewatch.aoi import load_aoi

    aoi = load_aoi("qasrak")
    cx, cy = aoi.geometry_in(aoi.utm_crs).centroid.coords[0]
    scene_writer(
        np.full((6, 200, 400), 1000, np.float32), dates=["2024-05-01"], origin=(cx - 2000, cy + 2000)
    )
    data = json.loads(run("scenes", str(tmp_path), "--aoi", "qasrak", "--json").output)
    assert 0.4 < data[0]["aoi_covered"] < 0.6  # the scene covers the northern half of the circle


def test_console_script_runs():
    exe = shutil.which("sitewatch") or str(__import__("pathlib").Path(sys.executable).with_name("sitewatch"))
    out = subprocess.run([exe, "aoi", "list"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "qasrak" in out.stdout
    out = subprocess.run(
        [exe, "aoi", "show", "../../etc/passwd"], capture_output=True, text=True, timeout=120
    )
    assert (
        out.returncode == 1 and out.stderr.startswith("sitewatch: error:") and "Traceback" not in out.stderr
    )
