"""Atomic, verified writes and full disks (issue 17 item 4), on a real tiny tmpfs where we may mount one."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from odc.geo.geobox import GeoBox
from odc.geo.xr import wrap_xr

from sitewatch import fileio
from sitewatch.cli.main import cli
from sitewatch.errors import DiskFullError
from sitewatch.export import write_mask

sys.path.insert(0, str(Path(__file__).resolve().parent / "providers"))
from test_cache import AOI_, FakeRemote

from sitewatch.providers.cache import CachedProvider

REPORT = Path(__file__).resolve().parents[2] / "shared" / "reports" / "iswnews-2025-12-07-qasrak.txt"


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 kB tmpfs (we need root to mount one; elsewhere the patched-fsync tests still run)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave_bytes: int) -> None:
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    (disk / "filler").write_bytes(b"\0" * max(0, free - leave_bytes))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name != "filler")


def noisy_mask(side: int) -> xr.DataArray:
    gbox = GeoBox.from_bbox(
        (500000, 4000000, 500000 + 10 * side, 4000000 + 10 * side), "EPSG:32637", resolution=10
    )
    rng = np.random.default_rng(0)
    return wrap_xr(rng.integers(0, 255, gbox.shape, dtype=np.uint8), gbox)


def test_patched_fsync_full_disk_leaves_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "a.json"
    fileio.atomic_write_json(target, {"v": 1})

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full)
    with pytest.raises(DiskFullError, match=r"^disk full writing .*a\.json: free \d+ MB and run again$"):
        fileio.atomic_write_json(target, {"v": 2})
    assert json.loads(target.read_text()) == {"v": 1}
    assert leftovers(tmp_path) == ["a.json"]


def test_raster_on_a_full_disk_is_one_error_and_nothing_left(tiny_disk: Path) -> None:
    target = tiny_disk / "mask.tif"
    with pytest.raises(DiskFullError, match="disk full writing .*mask.tif: free"):
        write_mask(target, noisy_mask(1000))  # 1 MB of noise: cannot fit in 512 kB
    assert leftovers(tiny_disk) == []
    write_mask(target, noisy_mask(100))  # a small one still fits, whole
    fileio.verify_raster(target)


def test_truncated_raster_is_caught_before_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "mask.tif"

    def cut_short(path: Path) -> None:
        fileio.verify_raster(path)

    write_mask(tmp_path / "whole.tif", noisy_mask(300))
    data = (tmp_path / "whole.tif").read_bytes()
    with (
        pytest.raises(OSError, match="does not read back"),
        fileio.atomic_output(target, verify=cut_short) as tmp,
    ):
        tmp.write_bytes(data[: len(data) // 2])
    assert not target.exists() and leftovers(tmp_path) == ["whole.tif"]


def test_reports_extract_on_a_full_disk_is_one_line(tiny_disk: Path) -> None:
    fill(tiny_disk, 0)
    out = tiny_disk / "claims.json"
    result = CliRunner().invoke(cli, ["reports", "extract", str(REPORT), "--out", str(out)])
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines == [f"sitewatch: error: disk full writing {out}: free 1 MB and run again"], result.output
    assert leftovers(tiny_disk) == []


def test_cache_fill_on_a_full_disk_keeps_only_whole_scenes(tiny_disk: Path) -> None:
    remote = FakeRemote()
    cached = CachedProvider(remote, cache_dir=tiny_disk / "cache")
    scenes = list(cached.search(AOI_))
    cached.load(scenes[:1], aoi=AOI_, bands=["B02"])
    fill(tiny_disk, 20_000)
    with pytest.raises(DiskFullError, match="disk full writing"):
        cached.load(scenes, aoi=AOI_, bands=["B02", "B03", "B04", "B08", "B11", "B12", "SCL"])
    tifs = list((tiny_disk / "cache").rglob("*.tif"))
    for tif in tifs:
        fileio.verify_raster(tif)  # nothing truncated at a final name
    assert not [p for p in (tiny_disk / "cache").rglob("*partial*")]
    manifest = json.loads((tiny_disk / "cache" / "site" / "manifest.json").read_text())
    assert manifest["grids"]  # the manifest is whole JSON
    (tiny_disk / "filler").unlink()
    stack = cached.load(scenes, aoi=AOI_, bands=["B02", "SCL"])
    assert stack.sizes["time"] == 3


def test_unreadable_cached_file_is_fetched_again(tmp_path: Path) -> None:
    remote = FakeRemote()
    cached = CachedProvider(remote, cache_dir=tmp_path)
    scenes = list(cached.search(AOI_))
    cached.load(scenes, aoi=AOI_, bands=["B02", "B11"])
    (victim,) = [p for p in tmp_path.rglob("*.tif") if scenes[1].id in p.name]
    victim.write_bytes(victim.read_bytes()[:600])  # cut short, as a full disk used to leave it
    again = cached.load(scenes, aoi=AOI_, bands=["B02", "B11"])
    assert cached.stats.fetched_ids == [scenes[1].id] and cached.stats.scenes_cached == 2
    assert np.isfinite(again.values).mean() > 0.9


def test_quiet_compare_on_a_full_disk_prints_one_line_not_libtiffs(tiny_disk: Path, oscd_dir: Path) -> None:
    # a real process: libtiff prints "_tiffSeekProc: No space left on device." per block on the C
    # stderr, which no CliRunner sees
    city = oscd_dir / "images" / "paris"
    fill(tiny_disk, 2000)
    mask = tiny_disk / "mask.tif"
    args = ["-q", "compare", str(city / "imgs_1"), str(city / "imgs_2"), "--mask-out", str(mask)]
    done = subprocess.run(
        [sys.executable, "-c", "from sitewatch.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"sitewatch: error: disk full writing {mask}: free 1 MB and run again"
    ]
    assert leftovers(tiny_disk) == []


def test_other_stderr_text_during_a_raster_write_is_kept(capfd: pytest.CaptureFixture[str]) -> None:
    with fileio.c_stderr_to_log(), fileio.c_stderr_to_log():
        os.write(2, b"_tiffWriteProc: No space left on device.\n")
        os.write(2, b"another thread's line\n")
    assert capfd.readouterr().err == "another thread's line\n"
