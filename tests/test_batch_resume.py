"""An interrupted batch run resumes only what it did not finish (issue 17 item 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import fake_scan
from fake_scan import box_aoi
from sitewatch.batch import scan_all
from sitewatch.brief import NOT_SCANNED, build_brief, read_run
from sitewatch.runs import read_manifest

AOIS = ["alpha", "beta", "gamma", "delta"]
SCANNED: list[str] = []
FINISHED: list[str] = []  # the AOIs the interrupted run finished


INTERRUPT_AT: list[int] = []  # set: Ctrl-C when this many AOIs are done


def counting_scan(aoi: Any, source: str, **kw: Any) -> Any:
    if INTERRUPT_AT and len(SCANNED) == INTERRUPT_AT[0]:
        raise KeyboardInterrupt  # Ctrl-C while the next AOI is being scanned
    SCANNED.append(aoi.name)
    return fake_scan.fake_scan(aoi, source, **kw)


def run(out: Path, fn: Any) -> Any:
    aois = [box_aoi(n, lon=40 + i) for i, n in enumerate(AOIS)]
    return scan_all(
        aois, "fake:", out_dir=out, scan_fn=fn, scheduler="serial", start="2024-01-01", end="2024-05-01"
    )


@pytest.fixture
def interrupted(tmp_path: Path) -> Path:
    SCANNED.clear()
    out = tmp_path / "run"
    INTERRUPT_AT[:] = [2]
    try:
        with pytest.raises(KeyboardInterrupt):
            run(out, counting_scan)
    finally:
        INTERRUPT_AT.clear()
    assert len(SCANNED) == 2
    FINISHED[:] = sorted(SCANNED)
    return out


def test_resume_scans_only_the_unfinished_aois_and_keeps_the_rest(interrupted: Path) -> None:
    first = FINISHED[0]
    kept_before = (interrupted / "aois" / first / "alerts.geojson").read_bytes()
    SCANNED.clear()
    result = run(interrupted, counting_scan)
    assert sorted(SCANNED) == sorted(set(AOIS) - set(FINISHED))
    assert result.resumed == tuple(FINISHED) and result.ok
    assert (interrupted / "aois" / first / "alerts.geojson").read_bytes() == kept_before
    merged = json.loads((interrupted / "alerts.geojson").read_text())
    assert {f["properties"]["aoi"] for f in merged["features"]} == set(AOIS)
    assert read_manifest(interrupted)["status"] == "complete"
    assert sorted(r["aoi"] for r in result.rows) == sorted(AOIS) and all(r["alerts"] > 0 for r in result.rows)


def test_brief_of_an_interrupted_run_marks_unscanned_sites(interrupted: Path) -> None:
    manifest = read_manifest(interrupted)
    assert manifest["status"] == "aborted" and manifest["finished"]  # when it stopped, not "finished"
    view = read_run(interrupted)
    status = {s.name: s.status for s in view.sites}
    unfinished = sorted(set(AOIS) - set(FINISHED))
    assert [n for n in AOIS if status[n] == NOT_SCANNED] == [n for n in AOIS if n in unfinished]
    page = build_brief(interrupted)
    assert "Not scanned (run interrupted)" in page and "run interrupted" in page
    assert "run aborted, finished" not in page
    section = page[page.index(f"id='site-{unfinished[0]}'") :]
    assert "No alert." not in section[: section.index("</section>")]


def test_cli_says_how_many_it_resumes(
    interrupted: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sitewatch.cli._batch as cli_batch
    from sitewatch.cli.main import cli

    folder = tmp_path / "aoi"
    folder.mkdir()
    for i, name in enumerate(AOIS):
        aoi = box_aoi(name, lon=40 + i)
        feat = {"type": "Feature", "geometry": aoi.geometry.__geo_interface__, "properties": {"name": name}}
        (folder / f"{name}.geojson").write_text(json.dumps(feat))
    monkeypatch.setattr(cli_batch, "load_scan_function", lambda spec: counting_scan)
    SCANNED.clear()
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            "--all",
            "--aoi-dir",
            str(folder),
            "--source",
            "fake:",
            "--start",
            "2024-01-01",
            "--end",
            "2024-05-01",
            "--out-dir",
            str(interrupted),
            "--scheduler",
            "serial",
            "--scan-function",
            "x:y",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "kept 2 finished AOI(s), scanned 2" in result.output
    assert sorted(SCANNED) == sorted(set(AOIS) - set(FINISHED))


@pytest.mark.e2e
def test_ctrl_c_with_worker_processes_ends_in_one_line(tmp_path: Path) -> None:
    import os
    import select
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "aoi"
    folder.mkdir()
    for i, name in enumerate(AOIS):
        feat = {"type": "Feature", "geometry": box_aoi(name, lon=40 + i).geometry.__geo_interface__}
        feat["properties"] = {"name": name}
        (folder / f"{name}.geojson").write_text(json.dumps(feat))
    tests = str(Path(__file__).resolve().parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.environ.get("PYTHONPATH", ""), tests]))
    env["SITEWATCH_PROGRESS"] = "1"  # the bars on a pipe: they say when the workers have started
    args = ["scan", "--all", "--aoi-dir", str(folder), "--source", "fake:", "--start", "2024-01-01"]
    args += ["--end", "2024-05-01", "--out-dir", str(tmp_path / "run"), "--scheduler", "processes"]
    args += ["--workers", "2", "--scan-function", "slow_scan:slow"]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from sitewatch.cli.main import main; main()", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    seen = b""
    deadline = time.monotonic() + 240
    try:
        while b"AOIs:" not in seen and time.monotonic() < deadline:  # the bars start once workers answer
            ready, _, _ = select.select([proc.stderr], [], [], 1.0)
            if ready:
                seen += os.read(proc.stderr.fileno(), 4096)  # type: ignore[union-attr]
        assert b"AOIs:" in seen, f"the run never got its workers going: {seen.decode()[-2000:]}"
        time.sleep(2)
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
        _, rest = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = (seen + rest).decode()
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if ln.strip()]
    lines = [
        ln
        for ln in lines
        if "aoi/s" not in ln
        and "scene/s" not in ln
        and "Port 8787" not in ln
        and "already have a cluster" not in ln
        and "Hosting the HTTP server" not in ln
    ]
    assert proc.returncode == 130
    assert lines == ["sitewatch: interrupted"], err[-3000:]


def test_ctrl_c_while_the_commands_load_ends_in_one_line() -> None:
    import subprocess
    import sys

    # the interrupt lands while the command modules are imported, as a Ctrl-C pressed right away
    code = (
        "import importlib, os, signal\n"
        "real = importlib.import_module\n"
        "def interrupted(name, *args):\n"
        "    if name.endswith('.scan'):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args)\n"
        "importlib.import_module = interrupted\n"
        "from sitewatch.cli.main import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stderr) == (130, "sitewatch: interrupted\n"), done.stderr[-2000:]


@pytest.mark.e2e
def test_quiet_run_with_worker_processes_and_a_dead_worker_prints_one_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    # a real process: dask's nanny and worker processes log on their own stderr (a killed worker
    # gives "Restarting worker", "Worker process ... was killed"); -q shows our one error line only
    folder = tmp_path / "aoi"
    folder.mkdir()
    for i, name in enumerate(["alpha", "crash-d", "gamma"]):
        feat = {"type": "Feature", "geometry": box_aoi(name, lon=40 + i).geometry.__geo_interface__}
        feat["properties"] = {"name": name}
        (folder / f"{name}.geojson").write_text(json.dumps(feat))
    tests = str(Path(__file__).resolve().parent)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.environ.get("PYTHONPATH", ""), tests]))
    args = ["-q", "scan", "--all", "--aoi-dir", str(folder), "--source", "fake:", "--start", "2024-01-01"]
    args += ["--end", "2024-05-01", "--out-dir", str(tmp_path / "run"), "--scheduler", "processes"]
    args += ["--workers", "2", "--scan-function", "fake_scan:fake_scan"]
    done = subprocess.run(
        [sys.executable, "-c", "from sitewatch.cli.main import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == ["sitewatch: error: 1 of 3 AOIs failed: crash-d"], done.stderr[-3000:]
    assert "died" in done.stdout  # the table says what happened to it
