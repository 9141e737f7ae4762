from __future__ import annotations

import errno
import multiprocessing
import os
from pathlib import Path

import pytest

from sitewatch import runs
from sitewatch.errors import ConfigError, RunError, RunLockedError
from sitewatch.runs import (
    AOIState,
    alert_fingerprint,
    atomic_write_bytes,
    atomic_write_json,
    find_previous_run,
    lock_run,
    read_manifest,
    read_state,
)


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, {"a": 2})
    assert target.read_text() == '{\n  "a": 2\n}\n'
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_disk_full_leaves_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.bin"
    atomic_write_bytes(target, b"old")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(runs.os, "fsync", full)
    with pytest.raises(RunError, match="disk full"):
        atomic_write_bytes(target, b"new content")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_lock_refuses_second_holder_in_same_process(tmp_path: Path) -> None:
    with (
        lock_run(tmp_path / "run"),
        pytest.raises(RunLockedError, match="in use by another run"),
        lock_run(tmp_path / "run"),
    ):
        pass
    with lock_run(tmp_path / "run"):  # released on exit
        pass


def _hold(
    path: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event
) -> None:
    with lock_run(path):
        ready.set()
        done.wait(20)


def test_lock_refuses_across_processes_and_dies_with_holder(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path / "run"), ready, done))
    proc.start()
    try:
        assert ready.wait(30)
        with pytest.raises(RunLockedError, match=f"pid {proc.pid}"), lock_run(tmp_path / "run"):
            pass
    finally:
        proc.kill()  # a crashed holder must not leave a stale lock
        proc.join(10)
    with lock_run(tmp_path / "run"):
        pass


def _run(parent: Path, name: str, status: str, finished: str, state: bool = True) -> Path:
    run = parent / name
    atomic_write_json(run / "manifest.json", {"sitewatch_run": 1, "status": status, "finished": finished})
    if state:
        atomic_write_json(
            run / "state.json", {"sitewatch_state": 1, "aois": {"x": {"last_scene_date": "2024-01-01"}}}
        )
    return run


def test_find_previous_run_skips_aborted_and_unfinished(tmp_path: Path) -> None:
    _run(tmp_path, "r1", "complete", "2024-01-01T00:00:00+00:00")
    r2 = _run(tmp_path, "r2", "partial", "2024-02-01T00:00:00+00:00")
    _run(tmp_path, "r3", "aborted", "2024-03-01T00:00:00+00:00")
    _run(tmp_path, "r4", "complete", "2024-04-01T00:00:00+00:00", state=False)
    (tmp_path / "junk").mkdir()
    assert find_previous_run(tmp_path / "new") == r2
    assert find_previous_run(tmp_path / "r2") == tmp_path / "r1"
    assert find_previous_run(tmp_path / "nowhere" / "new") is None
    assert read_state(r2)["x"] == AOIState("x", "2024-01-01", {}, "")


def test_read_manifest_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="manifest.json does not exist"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{nope")
    with pytest.raises(ConfigError, match="cannot be read as JSON"):
        read_manifest(tmp_path)


def test_fingerprint_ignores_noise_but_sees_status() -> None:
    a = alert_fingerprint({"status": "new", "confidence": 0.801, "area_m2": 1001.0, "change_type": "new_pad"})
    b = alert_fingerprint({"status": "new", "confidence": 0.799, "area_m2": 999.0, "change_type": "new_pad"})
    c = alert_fingerprint(
        {"status": "confirmed", "confidence": 0.8, "area_m2": 1000.0, "change_type": "new_pad"}
    )
    assert a == b != c


def test_versions_name_the_stack() -> None:
    v = runs.versions()
    assert {"python", "sitewatch", "numpy", "dask", "distributed"} <= set(v)
    assert os.sep not in v["numpy"]
