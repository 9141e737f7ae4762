from __future__ import annotations

import json
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from sitewatch.cli._batch import load_scan_function, scan_all_command
from sitewatch.errors import ConfigError

pytestmark = pytest.mark.e2e


def _write_aoi(folder: Path, name: str, lon: float) -> None:
    feature = {
        "type": "Feature",
        "properties": {"name": name, "display_name": name.title()},
        "geometry": shapely.geometry.mapping(shapely.box(lon, 36.7, lon + 0.01, 36.71)),
    }
    (folder / f"{name}.geojson").write_text(json.dumps(feature))


@pytest.fixture
def aoi_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "aoi"
    folder.mkdir()
    _write_aoi(folder, "alpha", 40.5)
    _write_aoi(folder, "gamma", 41.5)
    return folder


def invoke(*args: str) -> object:
    return CliRunner().invoke(scan_all_command, ["--all", "--scan-function", "fake_scan:fake_scan", *args])


def test_scan_all_writes_run_and_prints_summary(aoi_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "runs" / "r1"
    res = invoke(
        "--aoi-dir",
        str(aoi_dir),
        "--out-dir",
        str(out),
        "--start",
        "2024-01-01",
        "--end",
        "2024-05-01",
        "--scheduler",
        "serial",
    )
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    lines = res.stdout.splitlines()  # type: ignore[attr-defined]
    assert lines[0].split()[:3] == ["AOI", "status", "scenes"]
    assert lines[1].split()[:3] == ["alpha", "ok", "13"]
    assert (out / "alerts.geojson").is_file() and (out / "manifest.json").is_file()
    # next week: only new scenes, alerts marked against the previous run
    res = invoke(
        "--aoi-dir",
        str(aoi_dir),
        "--out-dir",
        str(tmp_path / "runs" / "r2"),
        "--start",
        "2024-01-01",
        "--end",
        "2024-08-01",
        "--since-last",
        "--scheduler",
        "threads",
        "--workers",
        "2",
    )
    assert res.exit_code == 0, res.output  # type: ignore[attr-defined]
    summary = json.loads((tmp_path / "runs" / "r2" / "summary.json").read_text())
    assert [(r["aoi"], r["new"], r["updated"]) for r in summary] == [("alpha", 1, 1), ("gamma", 1, 1)]


def test_a_failed_aoi_means_exit_1_after_the_summary(aoi_dir: Path, tmp_path: Path) -> None:
    _write_aoi(aoi_dir, "bad-site", 42.5)
    res = invoke(
        "--aoi-dir",
        str(aoi_dir),
        "--out-dir",
        str(tmp_path / "r"),
        "--start",
        "2024-01-01",
        "--end",
        "2024-05-01",
        "--scheduler",
        "serial",
    )
    assert res.exit_code == 1
    assert "bad-site" in res.stdout and "failed" in res.stdout  # type: ignore[attr-defined]
    assert "1 of 3 AOIs failed: bad-site" in res.stderr  # type: ignore[attr-defined]


def test_unreachable_scheduler_is_one_clear_line(aoi_dir: Path, tmp_path: Path) -> None:
    import click

    from sitewatch.cli.main import SitewatchGroup

    group = click.Group(cls=SitewatchGroup) if False else SitewatchGroup()
    group.add_command(scan_all_command)
    res = CliRunner().invoke(
        group,
        [
            "scan-all",
            "--all",
            "--scan-function",
            "fake_scan:fake_scan",
            "--aoi-dir",
            str(aoi_dir),
            "--out-dir",
            str(tmp_path / "r"),
            "--start",
            "2024-01-01",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert res.exit_code == 1
    assert res.stderr.startswith("sitewatch: error: no Dask scheduler answers at tcp://127.0.0.1:9")
    assert "Traceback" not in res.output


def test_load_scan_function_errors() -> None:
    with pytest.raises(ConfigError, match="MODULE:FUNCTION"):
        load_scan_function("nocolon")
    with pytest.raises(ConfigError, match="cannot be imported"):
        load_scan_function("no_such_module_xyz:f")


def test_sitewatch_scan_all_is_the_same_path(aoi_dir: Path, tmp_path: Path) -> None:
    from sitewatch.cli.main import cli

    scan = cli.commands.get("scan")
    if scan is None or "all_aois" not in {p.name for p in scan.params}:
        pytest.skip("`sitewatch scan` does not carry the batch options yet")
    out = tmp_path / "run"
    res = CliRunner().invoke(
        cli,
        [
            "-q",
            "scan",
            "--all",
            "--scan-function",
            "fake_scan:fake_scan",
            "--aoi-dir",
            str(aoi_dir),
            "--source",
            "fake:",
            "--start",
            "2024-01-01",
            "--end",
            "2024-05-01",
            "--out-dir",
            str(out),
            "--scheduler",
            "serial",
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.stderr == ""  # -q: no progress bar, no cluster chatter
    assert [line.split()[0] for line in res.stdout.splitlines()] == ["AOI", "alpha", "gamma"]
    assert (
        json.loads((out / "manifest.json").read_text())["settings"]["scan_options"]["params"]["objects"][
            "min_area_m2"
        ]
        == 800.0
    )


def test_progress_bars_on_stderr_unless_quiet(
    aoi_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitewatch.cli.main import cli

    # the bars are for terminals (issue 13: no escape codes in logs); the test runner's stderr
    # is not one, so the bars are forced on here as on a terminal
    monkeypatch.setenv("SITEWATCH_PROGRESS", "1")

    def scan_all(*extra: str, out: str) -> object:
        return CliRunner().invoke(
            cli,
            [
                *extra,
                "scan",
                "--all",
                "--scan-function",
                "fake_scan:fake_scan",
                "--aoi-dir",
                str(aoi_dir),
                "--source",
                "fake:",
                "--start",
                "2024-01-01",
                "--end",
                "2024-05-01",
                "--out-dir",
                str(tmp_path / out),
                "--scheduler",
                "threads",
                "--workers",
                "2",
            ],
        )

    loud = scan_all(out="loud")
    assert loud.exit_code == 0, loud.output  # type: ignore[attr-defined]
    bars = loud.stderr.replace("\r", "\n")  # type: ignore[attr-defined]
    assert "AOIs: 100%" in bars and "2/2" in bars
    assert "scenes: 100%" in bars and "26/26" in bars  # 13 scenes in each of the two AOIs
    assert "AOIs" not in loud.stdout and "scenes:" not in loud.stdout  # type: ignore[attr-defined]
    monkeypatch.delenv("SITEWATCH_PROGRESS")
    logged = scan_all(out="logged")  # stderr not a terminal: no bar, no escape codes
    assert logged.exit_code == 0, logged.output  # type: ignore[attr-defined]
    assert "\r" not in logged.stderr and "\x1b" not in logged.stderr  # type: ignore[attr-defined]
    assert "AOIs:" not in logged.stderr  # type: ignore[attr-defined]
    quiet = scan_all("-q", out="quiet")
    assert quiet.exit_code == 0, quiet.output  # type: ignore[attr-defined]
    assert quiet.stderr == ""  # type: ignore[attr-defined]
    assert quiet.stdout.splitlines()[0].split()[:2] == ["AOI", "status"]  # type: ignore[attr-defined]
