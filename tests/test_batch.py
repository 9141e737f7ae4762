from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import socket
import sys
from dataclasses import replace
from pathlib import Path

import cloudpickle
import numpy as np
import pytest

import fake_scan
from fake_scan import box_aoi
from sitewatch import ExecutionOptions, batch, runs
from sitewatch.batch import execute, scan_all, scratch
from sitewatch.errors import ConfigError, NoScenesError, RunError, RunLockedError
from sitewatch.runs import lock_run, read_manifest

# Worker processes import nothing from tests/: ship the fake scan with the task.
cloudpickle.register_pickle_by_value(fake_scan)

SRC = "fake:"


def run(out: Path, aois: list, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("scan_fn", fake_scan.fake_scan)
    kw.setdefault("scheduler", "serial")
    kw.setdefault("start", "2024-01-01")
    kw.setdefault("end", "2024-05-01")
    return scan_all(aois, SRC, out_dir=out, **kw)


def tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_one_failure_is_reported_and_the_others_finish(tmp_path: Path) -> None:
    aois = [box_aoi("alpha"), box_aoi("bad-site", lon=41.0), box_aoi("gamma", lon=42.0)]
    result = run(tmp_path / "r1", aois)
    assert result.status == "partial" and not result.ok
    assert result.failed == ["bad-site"]
    rows = {r["aoi"]: r for r in result.rows}
    assert rows["alpha"]["status"] == "ok"
    assert rows["alpha"]["scenes_used"] == 13 and rows["alpha"]["new_pad"] == 1
    assert rows["alpha"]["runway_change"] == 0 and rows["alpha"]["new"] == 1
    assert "corrupt" in rows["bad-site"]["error"]
    out = tmp_path / "r1"
    assert "DataError" in (out / "aois" / "bad-site" / "error.txt").read_text()
    merged = json.loads((out / "alerts.geojson").read_text())
    assert [f["properties"]["id"] for f in merged["features"]] == ["alpha-pad", "gamma-pad"]
    for feat in merged["features"]:
        assert (out / feat["properties"]["quicklook"]).read_bytes().startswith(b"\x89PNG")
    manifest = read_manifest(out)
    assert manifest["status"] == "partial"
    assert manifest["results"] == {"alpha": "ok", "bad-site": "failed", "gamma": "ok"}
    assert manifest["settings"]["start"] == "2024-01-01" and "numpy" in manifest["versions"]
    assert (out / "summary.csv").read_text().splitlines()[0].startswith("aoi,status,")
    assert "bad-site" in result.table() and "failed" in result.table()


def test_same_files_whichever_scheduler(tmp_path: Path) -> None:
    aois = [box_aoi(f"site-{i}", lon=40 + i) for i in range(3)]
    results = {}
    for sched in ("serial", "threads", "processes"):
        out = tmp_path / sched
        res = run(out, aois, scheduler=sched, workers=2)
        assert res.ok
        results[sched] = {
            k: v
            for k, v in tree(out).items()
            if k.endswith((".geojson", ".png", "state.json")) or k == "summary.json"
        }
    # time and the run's own name differ; everything the scans produced must not
    for sched in ("threads", "processes"):
        assert results[sched].keys() == results["serial"].keys()
        differing = [k for k in results["serial"] if results[sched][k] != results["serial"][k]]
        assert set(differing) <= {"alerts.geojson", "state.json", "summary.json"}
    for name in ("alerts.geojson", "state.json"):
        a = json.loads((tmp_path / "serial" / name).read_text())
        b = json.loads((tmp_path / "processes" / name).read_text())
        if name == "alerts.geojson":
            a["sitewatch"].pop("run"), b["sitewatch"].pop("run")
        else:
            for s in (*a["aois"].values(), *b["aois"].values()):
                s.pop("run")
        assert a == b


def test_since_last_scans_only_new_scenes_and_keeps_earlier_runs(tmp_path: Path) -> None:
    aois = [box_aoi("alpha"), box_aoi("beta", lon=41)]
    first = run(tmp_path / "2024-05-01", aois, end="2024-05-01")
    before = tree(first.run_dir)
    second = run(tmp_path / "2024-08-01", aois, end="2024-08-01", since_last=True)
    assert second.previous_run == first.run_dir
    assert tree(first.run_dir) == before
    row = {r["aoi"]: r for r in second.rows}["alpha"]
    assert row["start"] == "2024-05-01"  # the day after the last scene used, 2024-04-30
    assert row["scenes_used"] == 9 and row["new"] == 1 and row["updated"] == 1
    fc = json.loads((second.run_dir / "aois" / "alpha" / "alerts.geojson").read_text())
    marks = {f["properties"]["id"]: f["properties"]["since_last"] for f in fc["features"]}
    assert marks == {"alpha-pad": "updated", "alpha-runway": "new"}
    state = runs.read_state(second.run_dir)
    assert state["alpha"].last_scene_date == "2024-07-29"
    assert set(state["alpha"].alerts) == {"alpha-pad", "alpha-runway"}
    # nothing new: every AOI is up to date, nothing fails, state carries over
    third = run(tmp_path / "2024-08-05", aois, end="2024-08-05", since_last=True)
    assert {r["status"] for r in third.rows} == {"up_to_date"} and third.ok
    assert runs.read_state(third.run_dir)["alpha"].alerts == state["alpha"].alerts


def test_second_run_on_same_directory_refuses(tmp_path: Path) -> None:
    out = tmp_path / "run"
    with lock_run(out), pytest.raises(RunLockedError, match="in use"):
        run(out, [box_aoi("alpha")])
    run(out, [box_aoi("alpha")])
    with pytest.raises(ConfigError, match="already holds a run"):
        run(out, [box_aoi("alpha")])


@pytest.mark.timeout(60)
def test_unreachable_scheduler_fails_fast_and_clearly(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConfigError, match=f"no Dask scheduler answers at tcp://127.0.0.1:{port}"):
        run(tmp_path / "r", [box_aoi("alpha")], scheduler=f"tcp://127.0.0.1:{port}", connect_timeout_s=2)
    with pytest.raises(ConfigError, match="not a Dask scheduler address"):
        run(tmp_path / "r", [box_aoi("alpha")], scheduler="127.0.0.1:8786")
    assert read_manifest(tmp_path / "r")["status"] == "aborted"


@pytest.mark.timeout(120)
def test_dying_worker_is_retried_or_reported_without_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing may land in the real temporary folder, even with the scratch clean-up broken.
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    scratch = tmp_path / "scratch"
    aois = [box_aoi("alpha"), box_aoi("crash-always", lon=41), box_aoi("crash-once-x", lon=42)]
    marker = tmp_path / "markers"
    marker.mkdir()
    result = run(
        tmp_path / "r",
        aois,
        scheduler="processes",
        workers=1,
        retries=1,
        scratch_dir=scratch,
        scan_options={"marker_dir": str(marker), "probe_dir": str(marker)},
    )
    rows = {r["aoi"]: r for r in result.rows}
    assert rows["alpha"]["status"] == "ok"
    assert rows["crash-once-x"]["status"] == "ok"  # died once, retried on a fresh worker
    assert rows["crash-always"]["status"] == "failed"
    assert "worker" in rows["crash-always"]["error"] and "died" in rows["crash-always"]["error"]
    assert result.status == "partial"
    # At its retry, the folders of the killed workers were gone: only the live worker's is left.
    owners = (marker / "crash-once-x.owners").read_text().split()
    assert len(owners) == 1, owners
    # and the run left no scratch behind, though three of its workers were killed mid-scan
    assert not scratch.exists() or not any(scratch.iterdir())


@pytest.mark.timeout(120)
def test_scratch_of_a_worker_killed_last_goes_at_the_end_of_the_run(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    res = run(
        tmp_path / "r",
        [box_aoi("crash-always")],
        scheduler="processes",
        workers=1,
        retries=0,
        scratch_dir=scratch,
    )
    assert res.failed == ["crash-always"]  # no task came after it to tidy up: the run did
    assert not scratch.exists() or not any(scratch.iterdir())


def test_a_planted_link_is_not_used_as_scratch(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "scratch").symlink_to(elsewhere)
    res = run(tmp_path / "r", [box_aoi("alpha")], scratch_dir=tmp_path / "scratch")
    assert res.failed == ["alpha"] and "is a link" in res.rows[0]["error"]
    assert not any(elsewhere.iterdir())
    assert batch.default_scratch_root().name.startswith("sitewatch-scratch")


def test_progress_bars_count_aois_and_scenes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    res = run(
        tmp_path / "r", [box_aoi("alpha"), box_aoi("bad-x", lon=41), box_aoi("beta", lon=42)], progress=True
    )
    err = capsys.readouterr().err
    assert res.failed == ["bad-x"]
    last = {line.split(":")[0].strip(): line for line in err.replace("\r", "\n").splitlines() if line.strip()}
    assert "3/3" in last["AOIs"]
    assert "26/26" in last["scenes"]  # 13 scenes in each AOI that was scanned; bad-x found none
    run(tmp_path / "q", [box_aoi("alpha")], progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("scheduler", ["threads", "processes"])
def test_scene_counts_travel_from_workers_while_they_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheduler: str
) -> None:
    got: list[tuple[str, str, int]] = []
    real_event = execute.Progress.event

    def spy(self, message):  # type: ignore[no-untyped-def]
        got.append((message["unit"], message["event"], message["scenes"]))
        real_event(self, message)

    monkeypatch.setattr(execute.Progress, "event", spy)
    aois = [box_aoi("alpha"), box_aoi("beta", lon=41), box_aoi("gamma", lon=42)]
    res = run(
        tmp_path / "r", aois, scheduler=scheduler, workers=1, progress=True, scan_options={"sleep_s": 0.4}
    )
    assert res.ok
    # one worker, one AOI after another: the first two reported while the run still went on
    units = {u for u, _, _ in got}
    assert len(units) >= 2, got
    assert set(got) <= {(u, e, 13) for u in ("alpha", "beta", "gamma") for e in ("found", "loaded")}


def _dead_process_stamp() -> str:
    import subprocess

    import psutil

    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    stamp = f"{proc.pid}-{int(psutil.Process(proc.pid).create_time() * 100)}"
    proc.wait()
    return stamp


def test_sweep_scratch_removes_only_dead_processes_folders(tmp_path: Path) -> None:
    host = scratch.host_name()
    dead = tmp_path / "old-run" / host / _dead_process_stamp()
    (dead / "alpha-x1").mkdir(parents=True)
    (dead / "alpha-x1" / "quicklook.png").write_bytes(b"\x89PNG")
    live = tmp_path / "this-run" / host / scratch.process_stamp() / "beta-x2"
    live.mkdir(parents=True)
    # the live process's pid with another start time: a reused pid, so the owner is gone
    reused = tmp_path / "this-run" / host / f"{live.parent.name.split('-')[0]}-12345"
    reused.mkdir()
    elsewhere = tmp_path / "old-run" / "another-host" / _dead_process_stamp()
    elsewhere.mkdir(parents=True)  # another machine's processes are not ours to judge
    foreign = tmp_path / "this-run" / host / "not-a-stamp"
    foreign.mkdir()
    assert batch.sweep_scratch(tmp_path) == 2
    assert not dead.exists() and not reused.exists()
    assert live.is_dir() and elsewhere.is_dir() and foreign.is_dir()
    assert not (tmp_path / "old-run" / host).exists()  # emptied parents go too
    assert batch.sweep_scratch(tmp_path / "missing") == 0


def test_scratch_of_a_run_is_removed_at_its_end(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    seen: list[Path] = []

    def looking(aoi, source, *, start, end, workdir, **kw):  # type: ignore[no-untyped-def]
        seen.append(workdir)
        assert workdir.is_dir() and scratch in workdir.parents
        return fake_scan.fake_scan(aoi, source, start=start, end=end, workdir=workdir)

    res = run(
        tmp_path / "r", [box_aoi("alpha"), box_aoi("beta", lon=41)], scan_fn=looking, scratch_dir=scratch
    )
    assert res.ok and len(seen) == 2 and len(set(seen)) == 2
    assert not any(p.exists() for p in seen)
    assert not scratch.exists() or not any(scratch.iterdir())


def test_existing_cluster_client_is_used_and_left_open(tmp_path: Path) -> None:
    from distributed import Client, LocalCluster

    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster:
        with Client(cluster, set_as_default=False) as client:
            res = run(tmp_path / "r", [box_aoi("alpha"), box_aoi("beta", lon=41)], scheduler=client)
            assert res.ok
            assert client.status == "running"
        res2 = run(tmp_path / "r2", [box_aoi("alpha")], scheduler=cluster.scheduler_address)
        assert res2.ok


@pytest.mark.timeout(60)
def test_a_remote_clusters_workers_are_asked_to_remove_the_runs_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile
    import time

    from distributed import LocalCluster

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the workers' temp folder (same process)

    def leaving(aoi, source, *, start, end, workdir, **kw):  # type: ignore[no-untyped-def]
        (workdir.parent / "left-behind.txt").write_text("as by a task killed before its clean-up")
        return fake_scan.fake_scan(aoi, source, start=start, end=end, workdir=workdir)

    with LocalCluster(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None) as cluster:
        res = run(tmp_path / "r", [box_aoi("alpha")], scan_fn=leaving, scheduler=cluster.scheduler_address)
        assert res.ok
        root = batch.default_scratch_root()
        assert root.parent == tmp_path
        deadline = time.monotonic() + 10
        while any(root.rglob("left-behind.txt")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(root.rglob("*")), list(root.rglob("*"))


def test_disk_full_stops_cleanly_and_keeps_earlier_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    aois = [box_aoi("alpha"), box_aoi("beta", lon=41), box_aoi("gamma", lon=42)]
    first = run(tmp_path / "first", aois)
    before = tree(first.run_dir)
    real_fsync = runs.os.fsync
    calls = {"n": 0}

    def filling_disk(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > 4:  # the manifest and a few files fit; then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(runs.os, "fsync", filling_disk)
    with pytest.raises(RunError, match="disk full"):
        run(tmp_path / "second", aois, since_last=True)
    monkeypatch.setattr(runs.os, "fsync", real_fsync)
    assert tree(first.run_dir) == before
    second = tmp_path / "second"
    assert not list(second.rglob("*.partial"))
    for path in second.rglob("*.json*"):
        json.loads(path.read_text())  # every file there is whole
    # the broken run is never a baseline, and its directory can be used again
    assert runs.find_previous_run(tmp_path / "third") == first.run_dir
    assert run(second, aois).ok


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unique"):
        run(tmp_path / "r", [box_aoi("alpha"), box_aoi("alpha")])
    with pytest.raises(ConfigError, match="after end"):
        run(tmp_path / "r", [box_aoi("alpha")], start="2024-05-01", end="2024-01-01")
    with pytest.raises(ConfigError, match="no AOI"):
        run(tmp_path / "r", [])
    with pytest.raises(ConfigError, match="not one of"):
        run(tmp_path / "r", [box_aoi("alpha")], scheduler=42)


def test_quicklook_outside_workdir_is_dropped(tmp_path: Path) -> None:
    def escaping(aoi, source, *, start, end, workdir, **kw):  # type: ignore[no-untyped-def]
        fc = fake_scan.fake_scan(aoi, source, start=start, end=end, workdir=workdir)
        fc["features"][0]["properties"]["quicklook"] = "../../etc/passwd"
        return fc

    res = scan_all(
        [box_aoi("alpha")],
        SRC,
        start="2024-01-01",
        end="2024-05-01",
        out_dir=tmp_path / "r",
        scan_fn=escaping,
        scheduler="serial",
    )
    fc = json.loads((res.run_dir / "aois" / "alpha" / "alerts.geojson").read_text())
    assert fc["features"][0]["properties"]["quicklook"] is None
    assert execute.safe_relpath("quicklooks/a.png") == "quicklooks/a.png"
    assert dt.date(2024, 1, 1) and sys.version_info >= (3, 10)


def test_reports_are_linked_to_each_aoi(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "wire-alpha.txt").write_text(
        "Daily Test Wire, 20 March 2024\n\n"
        "Bulldozers levelled land at the Alpha base in late February 2024, local sources said. "
        "A new concrete pad of about 150 m by 80 m was built there.\n\n"
        "Forces withdrew from the Alpha base in May 2024, according to residents.\n",
        encoding="utf-8",
    )
    (reports / "index.json").write_text(
        json.dumps(
            {
                "reports": [
                    {"file": "wire-alpha.txt", "publisher": "Daily Test Wire", "published": "2024-03-20"}
                ]
            }
        )
    )
    res = run(
        tmp_path / "r", [box_aoi("alpha"), box_aoi("gamma", lon=42)], end="2024-08-01", reports_dir=reports
    )
    rows = {r["aoi"]: r for r in res.rows}
    assert (
        rows["alpha"]["claims"] == 3
        and rows["alpha"]["supported"] == 2
        and rows["alpha"]["contradicted"] == 1
    )
    assert rows["gamma"]["claims"] == 0
    links = json.loads((res.run_dir / "aois" / "alpha" / "links.json").read_text())
    assert {lk["verdict"] for lk in links["links"]} == {"supported", "contradicted"}
    assert json.loads((res.run_dir / "claims.json").read_text())["claims"]
    fc = json.loads((res.run_dir / "aois" / "alpha" / "alerts.geojson").read_text())
    cited = {f["properties"]["id"]: f["properties"]["claims"] for f in fc["features"]}
    assert len(cited["alpha-pad"]) == 2 and cited["alpha-runway"] == []
    merged = json.loads((res.run_dir / "alerts.geojson").read_text())
    assert any(f["properties"].get("claims") for f in merged["features"])
    with pytest.raises(ConfigError, match="reports folder"):
        run(tmp_path / "r2", [box_aoi("alpha")], reports_dir=tmp_path / "missing")


def test_one_source_per_aoi(tmp_path: Path) -> None:
    aois = [box_aoi("alpha"), box_aoi("gamma", lon=42)]
    res = scan_all(
        aois,
        {"alpha": "local:/a", "gamma": "stac"},
        start="2024-01-01",
        end="2024-05-01",
        out_dir=tmp_path / "r",
        scan_fn=fake_scan.fake_scan,
        scheduler="serial",
    )
    fc = json.loads((res.run_dir / "aois" / "gamma" / "alerts.geojson").read_text())
    assert fc["sitewatch"]["source"] == "stac"
    assert read_manifest(res.run_dir)["settings"]["source"] == {"alpha": "local:/a", "gamma": "stac"}
    with pytest.raises(ConfigError, match="no source given for AOI"):
        scan_all(
            aois,
            {"alpha": "stac"},
            start="2024-01-01",
            end="2024-05-01",
            out_dir=tmp_path / "r2",
            scan_fn=fake_scan.fake_scan,
            scheduler="serial",
        )


@pytest.mark.e2e
def test_default_is_sitewatch_scan_on_a_simulated_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sitewatch.simulate import Pad, simulate_site

    site = simulate_site(
        tmp_path / "sim",
        start="2024-03-01",
        end="2024-09-30",
        size_px=48,
        base=False,
        events=[Pad("pad-1", (0, 0), 150, 80, 30, "2024-06-01")],
        name="sim-tiny",
        seed=2,
    )
    far = box_aoi("far-away", lon=10.0, lat=10.0)
    got: list[dict] = []
    real_event = execute.Progress.event
    monkeypatch.setattr(execute.Progress, "event", lambda self, m: (got.append(dict(m)), real_event(self, m)))
    source = f"local:{site.scenes_dir}"
    res = scan_all(
        [site.aoi, far],
        source,
        start="2024-03-01",
        end="2024-09-30",
        out_dir=tmp_path / "run",
        scheduler="serial",
        progress=True,
    )
    assert res.failed == ["far-away"]
    # the message names the user's source (scene counts come from scan's events, no stand-in provider)
    far_row = next(r for r in res.rows if r["aoi"] == "far-away")
    assert source in far_row["error"] and "counting" not in far_row["error"], far_row["error"]
    res = replace(res, rows=tuple(r for r in res.rows if r["aoi"] != "far-away"), status="complete")
    assert res.ok, res.table()
    settings = read_manifest(res.run_dir)["settings"]
    assert settings["scan_function"] == "sitewatch.batch.execute.sitewatch_scan"
    # big AOIs are one task scanned block by block, not cut into tiles, unless asked
    assert settings["scan_options"]["execution"]["chunk_px"] == ExecutionOptions().chunk_px
    assert settings["tile_px"] is None
    fc = json.loads((res.run_dir / "aois" / "sim-tiny" / "alerts.geojson").read_text())
    assert fc["sitewatch"]["simulated"] is True and fc["sitewatch"]["scenes_used"]
    assert res.rows[0]["scenes_used"] == len(fc["sitewatch"]["scenes_used"])
    assert fc["sitewatch"]["source"] == source
    n = len(fc["sitewatch"]["scenes_used"]) + len(fc["sitewatch"]["scenes_dropped"])
    assert {"unit": "sim-tiny", "event": "found", "scenes": n} in got
    assert {"unit": "sim-tiny", "event": "loaded", "scenes": n} in got
    assert {"unit": "far-away", "event": "found", "scenes": 0} in got
    for feat in fc["features"]:
        ql = feat["properties"]["quicklook"]
        assert ql and (res.run_dir / "aois" / "sim-tiny" / ql).read_bytes().startswith(b"\x89PNG")


@pytest.mark.e2e
@pytest.mark.slow
def test_a_chunked_scan_streams_into_the_task_scratch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from sitewatch.simulate import Pad, simulate_site

    site = simulate_site(
        tmp_path / "sim",
        start="2024-03-01",
        end="2024-05-20",
        size_px=48,
        base=False,
        events=[Pad("pad-1", (0, 0), 150, 80, 30, "2024-04-10")],
        name="sim-chunked",
        seed=3,
    )
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        path = real_mkdtemp(*args, **kwargs)
        made.append(Path(path))
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", recording)
    scratch = tmp_path / "scratch"
    res = scan_all(
        [site.aoi],
        f"local:{site.scenes_dir}",
        start="2024-03-01",
        end="2024-05-20",
        out_dir=tmp_path / "run",
        scheduler="serial",
        execution=ExecutionOptions(chunk_px=32),
        scratch_dir=scratch,
        progress=True,  # scene counts through scan's events, the load still lazy
    )
    assert res.ok, res.table()
    streamed = [p for p in made if p.name.startswith("sitewatch-scan-")]
    assert streamed, made  # the chunked path ran
    assert all(scratch in p.parents for p in streamed)  # inside the task's folder, removed with it
    assert not any(p.exists() for p in made)


def test_scene_counts_come_from_scan_events_and_keep_the_lazy_load(tmp_path: Path) -> None:
    """The default per-AOI scan reports scenes found and loaded through scan's events; errors pass as is."""
    from sitewatch.batch import sitewatch_scan
    from sitewatch.providers.base import get_provider

    provider = get_provider(f"local:{tmp_path}")
    assert provider.reads_blocks  # declared in the protocol: scan reads lazily, block by block
    assert getattr(sitewatch_scan, "accepts_progress", False)
    got: list[tuple[str, int]] = []
    with pytest.raises(NoScenesError, match=str(tmp_path)):  # the provider's own error, the user's source
        sitewatch_scan(
            box_aoi("alpha"),
            f"local:{tmp_path}",
            start=dt.date(2024, 1, 1),
            end=dt.date(2024, 2, 1),
            workdir=tmp_path,
            progress=lambda e, n: got.append((e, n)),
        )
    assert got == []  # the search itself refused: nothing found to report


@pytest.mark.timeout(60)
def test_a_cluster_without_workers_does_not_hang(tmp_path: Path) -> None:
    from distributed import LocalCluster

    with LocalCluster(processes=False, n_workers=0, dashboard_address=None) as cluster:
        res = run(
            tmp_path / "r",
            [box_aoi("alpha"), box_aoi("beta", lon=41)],
            scheduler=cluster.scheduler_address,
            no_workers_timeout_s=1.5,
        )
    assert res.status == "failed"
    assert all("no Dask worker left" in r["error"] for r in res.rows)


def fixed_objects_scan(aoi, source, *, start, end, workdir, objects=(), **kw):  # type: ignore[no-untyped-def]
    """Sees fixed objects (WGS84 WKT) where they meet the AOI, clipped to it, as the real scan would."""
    import shapely.wkt

    from sitewatch.alerts import alert_id

    feats = []
    for wkt in objects:
        geom = shapely.wkt.loads(wkt).intersection(aoi.geometry)
        if geom.is_empty:
            continue
        c = geom.centroid
        aid = alert_id(aoi.name, "new_pad", (c.x, c.y), "2024-03-01")
        (workdir / "quicklooks").mkdir(exist_ok=True)
        (workdir / "quicklooks" / f"{aid}.png").write_bytes(b"\x89PNG fake")
        feats.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom),
                "properties": {
                    "id": aid,
                    "aoi": aoi.name,
                    "change_type": "new_pad",
                    "first_detected": "2024-03-01",
                    "quicklook": f"quicklooks/{aid}.png",
                },
            }
        )
    used = [{"id": "S1", "date": "2024-03-01", "clear_fraction": 1.0, "shift_px": [0, 0]}]
    return {
        "type": "FeatureCollection",
        "features": feats,
        "sitewatch": {"aoi": aoi.name, "scenes_used": used, "scenes_dropped": []},
    }


def test_large_aoi_is_scanned_in_tiles_and_merged_once(tmp_path: Path) -> None:
    import pyproj
    import shapely

    big = box_aoi("big", lon=40.50, lat=36.70, size_deg=0.05)
    tiles = batch.split_aoi(big, tile_px=200, overlap_px=30)
    assert len(tiles) == 9 and tiles[0][0].name == "big--00-00"
    to_wgs = pyproj.Transformer.from_crs(big.utm_crs, "EPSG:4326", always_xy=True)

    def utm_box(x0: float, y0: float, x1: float, y1: float) -> str:
        return shapely.transform(
            shapely.box(x0, y0, x1, y1), lambda xy: np.column_stack(to_wgs.transform(xy[:, 0], xy[:, 1]))
        ).wkt

    core0 = tiles[0][1]
    inside = utm_box(core0[0] + 500, core0[1] + 500, core0[0] + 600, core0[1] + 580)
    straddling = utm_box(core0[2] - 40, core0[1] + 900, core0[2] + 60, core0[1] + 960)  # across the seam
    objects = [inside, straddling]
    kw = {"scan_fn": fixed_objects_scan, "scan_options": {"objects": objects}}
    tiled = run(tmp_path / "tiled", [big], tile_px=200, tile_overlap_px=30, **kw)
    whole = run(tmp_path / "whole", [big], tile_px=None, **kw)
    assert tiled.ok and whole.ok
    fc_t = json.loads((tiled.run_dir / "aois" / "big" / "alerts.geojson").read_text())
    fc_w = json.loads((whole.run_dir / "aois" / "big" / "alerts.geojson").read_text())
    assert len(fc_t["features"]) == 2  # the straddling pad once, from the tile whose core holds it
    assert {f["properties"]["id"] for f in fc_t["features"]} == {
        f["properties"]["id"] for f in fc_w["features"]
    }
    assert {f["properties"]["aoi"] for f in fc_t["features"]} == {"big"}
    assert len(fc_t["sitewatch"]["tiles"]) == 9 and len(fc_t["sitewatch"]["scenes_used"]) == 1
    for f in fc_t["features"]:
        assert (tiled.run_dir / "aois" / "big" / f["properties"]["quicklook"]).is_file()
    assert read_manifest(tiled.run_dir)["settings"]["tiles"]["big"][0] == "big--00-00"
    assert tiled.rows[0]["aoi"] == "big" and tiled.rows[0]["new_pad"] == 2


def test_a_failing_tile_fails_its_aoi_only(tmp_path: Path) -> None:
    def flaky(aoi, source, *, start, end, workdir, **kw):  # type: ignore[no-untyped-def]
        if aoi.name.endswith("--01-01"):
            raise RuntimeError("tile read error")
        return fixed_objects_scan(aoi, source, start=start, end=end, workdir=workdir)

    res = scan_all(
        [box_aoi("big", size_deg=0.05), box_aoi("small", lon=42)],
        SRC,
        start="2024-01-01",
        end="2024-05-01",
        out_dir=tmp_path / "r",
        scan_fn=flaky,
        scheduler="serial",
        tile_px=200,
    )
    rows = {r["aoi"]: r for r in res.rows}
    assert rows["small"]["status"] == "ok" and rows["big"]["status"] == "failed"
    assert "1 of 9 tiles failed: big--01-01: RuntimeError: tile read error" in rows["big"]["error"]
