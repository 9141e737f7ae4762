from __future__ import annotations

import webbrowser
from pathlib import Path

import pytest
from click.testing import CliRunner

import fake_scan
from fake_scan import box_aoi
from sitewatch.batch import scan_all
from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    scan_all(
        [box_aoi("alpha")],
        "fake:",
        start="2024-01-01",
        end="2024-05-01",
        out_dir=out,
        scan_fn=fake_scan.fake_scan,
        scheduler="serial",
    )
    return out


def test_brief_writes_page_and_prints_its_path(run_dir: Path) -> None:
    res = CliRunner().invoke(cli, ["brief", "--run", str(run_dir)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(run_dir / "brief.html")
    assert "alpha-pad" in (run_dir / "brief.html").read_text(encoding="utf-8")


def test_brief_out_and_open(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    monkeypatch.setattr(webbrowser, "open", lambda url: opened.append(url) or True)
    target = tmp_path / "elsewhere" / "page.html"
    res = CliRunner().invoke(cli, ["brief", "--run", str(run_dir), "--out", str(target), "--open"])
    assert res.exit_code == 0, res.output
    assert target.is_file() and opened == [target.resolve().as_uri()]


def test_brief_on_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    res = CliRunner().invoke(cli, ["brief", "--run", str(tmp_path)])
    assert res.exit_code == 1
    assert "manifest.json does not exist" in res.output and "Traceback" not in res.output
