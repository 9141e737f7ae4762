"""``sitewatch demo``: offline, simulated, and it finds the reported events."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e


def test_demo_runs_offline_and_finds_the_events(tmp_path: Path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), "--size-px", "250", "--revisit-days", "10"])
    assert res.exit_code == 0, res.output
    assert (out / "alerts.geojson").is_file() and (out / "summary.txt").is_file()
    assert "SIMULATED" in (out / "summary.txt").read_text()
    fc = json.loads((out / "alerts.geojson").read_text())
    assert fc["sitewatch"]["simulated"] is True
    check = json.loads((out / "check.json").read_text())
    pads = [e for e in check["events"] if e["change_type"] == "new_pad"]
    assert len(pads) == 2 and all(e["found"] and e["type_ok"] for e in pads)
    assert check["recall"] >= 0.8
    assert list((out / "quicklooks").glob("*.png"))
    # issue 14: a time-lapse per alert, and the brief with the site's imagery
    assert len(list((out / "quicklooks").glob("*.gif"))) == len(fc["features"])
    page = (out / "brief.html").read_text(encoding="utf-8")
    assert "imagery-" in page and '"after": {"uri": "data:image/png;base64,' in page
    assert len(re.findall(r'"sw-[0-9a-f]+": "data:image/gif;base64,', page)) == len(fc["features"])
    assert str(out / "alerts.geojson") in res.output
    # issue 16: the demo simulates Sentinel-1 beside the optical scenes and scans both
    assert list((out / "simulation" / "s1").glob("*.tif"))
    assert fc["sitewatch"]["sar_source"].startswith("local:")
    verdicts = {f["properties"]["corroboration"]["sar"]["verdict"] for f in fc["features"]}
    assert verdicts <= {"consistent", "inconsistent", "no_radar_data"} and "consistent" in verdicts


def test_demo_without_radar_writes_no_radar_scene(tmp_path: Path):
    out = tmp_path / "demo"
    args = [
        "demo",
        "--out",
        str(out),
        "--size-px",
        "250",
        "--revisit-days",
        "20",
        "--no-sar",
        "--no-timelapse",
    ]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert not (out / "simulation" / "s1").exists()
    fc = json.loads((out / "alerts.geojson").read_text())
    assert "sar_source" not in fc["sitewatch"] or fc["sitewatch"]["sar_source"] is None
