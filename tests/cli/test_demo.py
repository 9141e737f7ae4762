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
