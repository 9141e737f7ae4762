"""``sitewatch scan --chunk-px``: a big AOI block by block from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli
from sitewatch.simulate import Pad, simulate_site

pytestmark = pytest.mark.e2e


def test_scan_block_by_block_equals_the_whole_scan(tmp_path: Path):
    site = simulate_site(
        tmp_path / "site",
        start="2024-10-01",
        end="2025-01-31",
        size_px=96,
        revisit_days=6,
        seed=5,
        events=[Pad("pad", (-150.0, 120.0), 150.0, 80.0, 20.0, "2024-12-10")],
    )
    outs = {}
    for chunk in ("32", "2048"):  # 32: nine blocks, the pad across their edges; 2048: one block, in memory
        out = tmp_path / f"alerts-{chunk}.geojson"
        res = CliRunner().invoke(
            cli,
            [
                "scan", "--aoi", str(site.aoi_path), "--source", f"local:{site.scenes_dir}",
                "--start", "2024-10-01", "--end", "2025-01-31", "--out", str(out), "--chunk-px", chunk,
                "--quicklooks", str(tmp_path / f"ql-{chunk}"),
            ],
        )  # fmt: skip
        assert res.exit_code == 0, res.output
        outs[chunk] = json.loads(out.read_text())
    feats = {
        k: [(f["properties"]["id"], f["properties"]["change_type"]) for f in v["features"]]
        for k, v in outs.items()
    }
    assert feats["32"] == feats["2048"] and ("new_pad" in {t for _, t in feats["32"]})
    pad = next(f["properties"] for f in outs["32"]["features"] if f["properties"]["change_type"] == "new_pad")
    assert pad["area_m2"] == pytest.approx(150 * 80, rel=0.15)
    assert (tmp_path / pad["quicklook"]).is_file()
