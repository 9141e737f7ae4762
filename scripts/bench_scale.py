"""How sitewatch scales: one big tile in bounded memory, many AOIs on Dask, and the schedulers side by side.

(a) tile:  the per-pixel history core (``sitewatch.core.history.detect_breaks``) over a whole
           simulated tile x dates x 6 bands, written to disk in chunks first (Zarr, uint16) and
           processed chunk by chunk on Dask, so memory stays bounded whatever the tile size.
           The full Sentinel-2 tile (10980 x 10980 px x 100 dates x 6 bands = 145 GB raw) is
           opt-in with --full; the default is a reduced tile that fits the time budget.
(b) AOIs:  scan_all with 1, 4, 16, 64 small AOIs on the default (threaded) scheduler, each AOI
           a real sitewatch scan (the default per-AOI function) of a simulated site on disk
           (64 x 64 px, a year of scenes; 8 distinct sites simulated once before timing, AOI k
           scans site k mod 8): the time per AOI must stay flat or fall as AOIs are added.
(c) schedulers: the same 16 AOIs serially, on the threaded scheduler and on a 2-worker
           LocalCluster (processes), with a check that all three wrote the same alerts.
(d) one big AOI, the whole scan (opt-in: --parts d): a simulated site of --site-px pixels a side
           (a pad and a runway extension) scanned in memory and block by block (chunk_px), each
           in its own process: time, peak memory and whether the alerts are the same.

Usage:
    python scripts/bench_scale.py                     # reduced: 2048 px x 24 dates, AOIs up to 64
    python scripts/bench_scale.py --full              # 10980 x 10980 x 100: ~37 GB disk, 1-2 h
    python scripts/bench_scale.py --tile-px 4096 --dates 50 --parts a
    python scripts/bench_scale.py --parts d --site-px 1024 --chunk-px 256
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import xarray as xr

from sitewatch import AOI, scan_all

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
# Reflectance x 10000 of field, bare soil and concrete, bands as BANDS.
FIELD = np.array([400, 700, 500, 3800, 2300, 1200], np.float32)
SOIL = np.array([1100, 1500, 2000, 2600, 3600, 3000], np.float32)
CONCRETE = np.array([2400, 2600, 2800, 3100, 3300, 2900], np.float32)


# ------------------------------------------------------------------------------------ measuring


class PeakRSS:
    """Peak resident memory of this process and its children, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        me = psutil.Process()
        total = me.memory_info().rss
        for child in me.children(recursive=True):
            with suppress(psutil.Error):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            self._stop.wait(0.05)

    def __enter__(self) -> PeakRSS:
        self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    with PeakRSS() as mem:
        yield out
    out["seconds"] = time.perf_counter() - t0
    out["peak_gib"] = mem.peak / 2**30


# ------------------------------------------------------------------------------------ simulation


def dates(n: int) -> np.ndarray:
    start = np.datetime64("2024-01-01")
    return start + np.arange(n) * np.timedelta64(5, "D")


def simulate_block(y0: int, x0: int, h: int, w: int, n_dates: int, seed: int = 0) -> np.ndarray:
    """One spatial block of the simulated tile, ``(time, band, y, x)`` uint16; the same for any chunking."""
    yy, xx = np.mgrid[y0 : y0 + h, x0 : x0 + w]
    # Fields of 64 px with their own phenology phase; pads of 24 px appear at a date set by their cell.
    cell = (yy // 64) * 1000 + (xx // 64)
    phase = ((cell * 2654435761) % 997) / 997.0
    pad_cell = (yy // 24) * 7919 + (xx // 24)
    is_pad = ((pad_cell * 40503) % 211) == 0
    pad_date = ((pad_cell * 7) % max(n_dates - 6, 1)) + 3
    t = np.arange(n_dates, dtype=np.float32)[:, None, None]
    green = 0.5 + 0.5 * np.sin(2 * np.pi * (t / 73.0 + phase[None]))  # a year of 5-day revisits
    base = SOIL[None, :, None, None] + (FIELD - SOIL)[None, :, None, None] * green[:, None]
    built = is_pad[None] & (t >= pad_date[None])
    out = np.where(built[:, None], CONCRETE[None, :, None, None], base)
    rng = np.random.default_rng([seed, y0, x0])
    out = out + rng.normal(0, 60, out.shape).astype(np.float32)
    return np.clip(out, 1, 65535).astype(np.uint16)


def simulate_tile_block(y0: int, x0: int, h: int, w: int, n_dates: int, seed: int = 0) -> np.ndarray:
    """One spatial block of the simulated tile for (a), ``(time, band, y, x)`` uint16, 0 = cloud (no data).

    The same values for any chunking (every pattern is a function of tile position and date).
    Fields of 64 px with their own phenology phase, pads of 24 px built on dates set by their
    cell, 20 % of each date under clouds (32 px cells picked per date, stored as 0 like a
    masked L2A product), and sensor noise of +-24 DN in steps of 8 DN (sd ~16 DN, about
    0.0016 reflectance: realistic, and it keeps the tile ~3.5x compressible so the full tile
    fits on an ordinary disk).
    """
    yy, xx = np.mgrid[y0 : y0 + h, x0 : x0 + w]
    cell = (yy // 64) * 1000 + (xx // 64)
    phase = (((cell * 2654435761) % 997) / 997.0).astype(np.float32)
    pad_cell = (yy // 24) * 7919 + (xx // 24)
    is_pad = ((pad_cell * 40503) % 211) == 0
    pad_date = ((pad_cell * 7) % max(n_dates - 6, 1)) + 3
    cloud_cell = ((yy // 32) * 104729 + (xx // 32)).astype(np.int64)
    out = np.empty((n_dates, len(BANDS), h, w), np.uint16)
    rng = np.random.default_rng([seed, y0, x0])
    for t in range(n_dates):
        green = 0.5 + 0.5 * np.sin(np.float32(2 * np.pi) * (np.float32(t / 73.0) + phase))
        base = SOIL[:, None, None] + (FIELD - SOIL)[:, None, None] * green[None]
        built = is_pad & (t >= pad_date)
        base[:, built] = CONCRETE[:, None]
        base += rng.integers(-3, 4, base.shape, dtype=np.int8).astype(np.float32) * np.float32(8)
        cloudy = ((cloud_cell * 2246822519 + t * 3266489917) % 100) < 20
        base[:, cloudy] = 0
        out[t] = np.clip(base, 0, 65535)
    return out


def write_tile(path: Path, *, size_px: int, n_dates: int, chunk_px: int) -> xr.DataArray:
    """Write the simulated tile to a Zarr store block by block (never whole in memory); open it lazily."""
    import dask.array as da
    from dask import delayed
    from zarr.codecs import BloscCodec

    blocks = []
    for y0 in range(0, size_px, chunk_px):
        row = []
        for x0 in range(0, size_px, chunk_px):
            h, w = min(chunk_px, size_px - y0), min(chunk_px, size_px - x0)
            block = delayed(simulate_tile_block)(y0, x0, h, w, n_dates)
            row.append(da.from_delayed(block, shape=(n_dates, len(BANDS), h, w), dtype=np.uint16))
        blocks.append(row)
    arr = da.block(blocks)
    res = 10.0
    x = 300_000 + res * (np.arange(size_px) + 0.5)
    y = 4_100_000 - res * (np.arange(size_px) + 0.5)
    stack = xr.DataArray(
        arr,
        dims=("time", "band", "y", "x"),
        coords={"time": dates(n_dates), "band": list(BANDS), "y": y, "x": x},
        name="reflectance",
    )
    # Band names go in an attribute: Zarr v3 has no stable string dtype for the coordinate.
    stack = stack.drop_vars("band").assign_attrs(bands=",".join(BANDS))
    codec = BloscCodec(cname="zstd", clevel=1, shuffle="bitshuffle")
    stack.to_dataset().to_zarr(
        path, mode="w", compute=True, consolidated=False, encoding={"reflectance": {"compressors": [codec]}}
    )
    out = xr.open_zarr(path, consolidated=False, chunks={})["reflectance"]
    return out.assign_coords(band=out.attrs["bands"].split(","))


def part_a(args: argparse.Namespace, workdir: Path) -> None:
    """The per-pixel core through its dask face (sitewatch.core.history.detect_breaks on a lazy stack)."""
    import dask

    from sitewatch import detect_breaks

    size, n_dates, chunk = args.tile_px, args.dates, args.chunk_px
    raw_gb = size * size * n_dates * len(BANDS) * 2 / 1e9
    need_gb = raw_gb / 3.0 + 2  # measured ~3.5x compression of the simulated tile, plus the outputs
    free_gb = shutil.disk_usage(workdir).free / 1e9
    print(
        f"(a) tile {size} x {size} px x {n_dates} dates x {len(BANDS)} bands = {raw_gb:.1f} GB raw uint16, "
        f"chunks {chunk} px, {args.threads} threads; {free_gb:.0f} GB free in {workdir}"
    )
    if need_gb > 0.9 * free_gb:
        print(
            f"    SKIPPED: the tile needs about {need_gb:.0f} GB on disk, only {free_gb:.0f} GB free "
            "(use --workdir on a larger disk, or fewer --dates / a smaller --tile-px)"
        )
        return
    store = workdir / "tile.zarr"
    with dask.config.set(scheduler="threads", num_workers=args.threads), timed() as w:
        stack = write_tile(store, size_px=size, n_dates=n_dates, chunk_px=chunk)
    on_disk = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 1e9
    print(
        f"    simulate + write: {w['seconds']:.1f} s, {on_disk:.1f} GB on disk "
        f"({raw_gb / on_disk:.1f}x compressed), peak RSS {w['peak_gib']:.2f} GiB"
    )
    out_store = workdir / "history.zarr"
    with dask.config.set(scheduler="threads", num_workers=args.threads), timed() as c:
        clear = (stack > 0).all("band")  # clouds are stored as 0
        history = detect_breaks(stack, clear)  # lazy: dask-backed stack in, dask-backed Dataset out
        history = history.drop_vars("band").assign_attrs(bands=",".join(BANDS))
        history.to_zarr(out_store, mode="w", consolidated=False)
    px = size * size
    changed = xr.open_zarr(out_store, consolidated=False)["changed"]
    n_changed = int(changed.sum().compute())
    # truth: the pads of simulate_tile_block
    yy = np.arange(size)[:, None] // 24
    xx = np.arange(size)[None, :] // 24
    n_pad_px = int(((((yy * 7919 + xx) * 40503) % 211) == 0).sum())
    out_gb = sum(p.stat().st_size for p in out_store.rglob("*") if p.is_file()) / 1e9
    print(
        f"    history core (read, planes, per-pixel core, write {out_gb:.1f} GB of results): "
        f"{c['seconds']:.1f} s ({c['seconds'] / n_dates * 1e3 / (px / 1e6):.2f} ms per Mpx-date), "
        f"peak RSS {c['peak_gib']:.2f} GiB (the tile is {raw_gb * 2:.0f} GB as float32; "
        f"limit 24 GiB); changed {n_changed} px, pads hold {n_pad_px} px"
    )
    shutil.rmtree(store, ignore_errors=True)
    shutil.rmtree(out_store, ignore_errors=True)


def history_block(block: xr.DataArray) -> xr.DataArray:
    """The per-pixel core on one spatial block: first lasting break per pixel (as days since 2024)."""
    from sitewatch import detect_breaks

    stack = block.astype(np.float32)
    clear = np.ones((stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]), bool)
    ds = detect_breaks(stack, clear)
    first = ds["first_detected"].values
    days = np.where(
        np.isnat(first), -1, (first - np.datetime64("2024-01-01")).astype("timedelta64[D]").astype(int)
    )
    return xr.DataArray(days.astype(np.int32), dims=("y", "x"), coords={"y": block.y, "x": block.x})


# ------------------------------------------------------------------------------------ AOIs (b, c)

#: The year of scenes every simulated site holds (5-day revisits, passes dropped, winter clouds).
AOI_START, AOI_END = "2024-01-01", "2024-12-31"


def simulate_sites(n_sites: int, workdir: Path, *, size_px: int) -> list[tuple[AOI, str]]:
    """Simulate ``n_sites`` distinct small sites on disk, each a year of scenes: (AOI, local source).

    Sites differ in place (and so UTM grid), fields, clouds, and what is built when: a pad on
    every site, earthworks on every other one.
    """
    from sitewatch import Earthworks, Pad, simulate_site

    half_m = size_px * 10.0 / 2
    sites = []
    for i in range(n_sites):
        events: list[Any] = [
            Pad(
                f"pad-{i}",
                (-0.35 * half_m + 9.0 * i, 0.25 * half_m - 7.0 * i),
                110.0 + 12.0 * i,
                60.0 + 4.0 * i,
                (23.0 * i) % 180,
                f"2024-{4 + i % 6:02d}-{5 + (3 * i) % 20:02d}",
            )
        ]
        if i % 2:
            events.append(
                Earthworks(
                    f"earthworks-{i}", (0.45 * half_m, -0.45 * half_m), 90.0, 60.0, 10.0 * i, "2024-07-20"
                )
            )
        site = simulate_site(
            workdir / "sites" / f"s{i:02d}",
            name=f"site-{i:02d}",
            center=(38.0 + 0.7 * i, 35.5 + 0.4 * (i % 4)),
            start=AOI_START,
            end=AOI_END,
            size_px=size_px,
            base=False,
            events=events,
            seed=100 + i,
        )
        sites.append((site.aoi, f"local:{site.scenes_dir}"))
    return sites


def batch_aois(n: int, sites: list[tuple[AOI, str]], *, offset: int = 0) -> tuple[list[AOI], dict[str, str]]:
    """``n`` AOIs over the simulated sites in turn: AOI ``k`` is site ``k mod len(sites)``, named apart.

    Each AOI's geometry is its site's, so the site's folder serves as its source (``scan_all``
    takes one source per AOI name); the scans are real and independent, the files shared.
    """
    from dataclasses import replace

    chosen, sources = [], {}
    for k in range(offset, offset + n):
        site_aoi, source = sites[k % len(sites)]
        aoi = replace(site_aoi, name=f"aoi-{k:03d}", display_name=f"AOI {k} ({site_aoi.name})", path=None)
        chosen.append(aoi)
        sources[aoi.name] = source
    return chosen, sources


_PREPARED: dict[str, Any] = {}


def prepare_aois(args: argparse.Namespace, workdir: Path) -> list[tuple[AOI, str]]:
    """Simulate the sites and warm up, once for (b) and (c) and before any timing."""
    if "sites" in _PREPARED:
        return _PREPARED["sites"]
    t0 = time.perf_counter()
    sites = simulate_sites(args.aoi_sites, workdir, size_px=args.aoi_px)
    sim_s = time.perf_counter() - t0
    # Imports and first-call costs are not per-AOI costs; the warm-up AOI is not one of those measured.
    aois, sources = batch_aois(1, sites, offset=999)
    t0 = time.perf_counter()
    warm = scan_all(
        aois, sources, start=AOI_START, end=AOI_END, out_dir=workdir / "warmup", scheduler="serial"
    )
    warm_s = time.perf_counter() - t0
    row = warm.rows[0]
    print(
        f"    sites: {args.aoi_sites} simulated, {args.aoi_px} x {args.aoi_px} px (10 m), "
        f"{AOI_START} to {AOI_END}, "
        f"{row['scenes_used'] + row['scenes_dropped']} scenes each ({row['scenes_used']} used by the scan), "
        f"simulated in {sim_s:.1f} s; AOI k scans site k mod {args.aoi_sites} with sitewatch.scan; "
        f"warm-up scan {warm_s:.1f} s"
    )
    _PREPARED["sites"] = sites
    return sites


def load() -> str:
    """The machine's 1-minute load average (other work on it skews every figure)."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "n/a"


def run_batch(
    aois: list[AOI], sources: dict[str, str], scheduler: str, out: Path, *, workers: int
) -> dict[str, Any]:
    """One timed ``scan_all`` (the default per-AOI scan); fails loudly if any AOI failed.

    ``cpu_s`` is this process's CPU time (all its threads; not that of worker processes):
    unlike wall time, it hardly moves when other jobs share the machine.
    """
    cpu0 = time.process_time()
    with timed() as t:
        result = scan_all(
            aois, sources, start=AOI_START, end=AOI_END, out_dir=out, scheduler=scheduler, workers=workers
        )
    t["cpu_s"] = time.process_time() - cpu0
    if not result.ok:
        raise SystemExit(f"the benchmark batch failed ({', '.join(result.failed)}):\n{result.table()}")
    t["alerts"] = sum(r["alerts"] for r in result.rows)
    task_s = [r["seconds"] for r in result.rows]
    t["task_mean_s"], t["task_max_s"] = sum(task_s) / len(task_s), max(task_s)
    t["scenes"] = sum(r["scenes_used"] + r["scenes_dropped"] for r in result.rows)
    return t


def part_b(args: argparse.Namespace, workdir: Path) -> None:
    print(
        f"(b) AOIs: scan_all on the threaded scheduler ({args.threads} threads), {args.aoi_counts} AOIs; "
        f"load {load()}"
    )
    sites = prepare_aois(args, workdir)
    base_wall = base_cpu = None
    ratios = []
    for n in args.aoi_counts:
        if n == 1:
            # The baseline is one AOI: the median of three, on three different sites.
            runs = [
                run_batch(
                    *batch_aois(1, sites, offset=k), "threads", workdir / f"b-1-{k}", workers=args.threads
                )
                for k in range(3)
            ]
            t = sorted(runs, key=lambda r: r["seconds"])[1]
            t["cpu_s"] = sorted(r["cpu_s"] for r in runs)[1]
        else:
            aois, sources = batch_aois(n, sites)
            t = run_batch(aois, sources, "threads", workdir / f"b-{n}", workers=args.threads)
        wall, cpu = t["seconds"] / n, t["cpu_s"] / n
        base_wall, base_cpu = base_wall or wall, base_cpu or cpu
        ratios.append((wall / base_wall, cpu / base_cpu))
        print(
            f"    {n:3d} AOIs: {t['seconds']:7.2f} s total, per AOI {wall:6.3f} s wall "
            f"({wall / base_wall:4.2f} x the 1-AOI time) and {cpu:6.3f} s CPU ({cpu / base_cpu:4.2f} x), "
            f"{t['scenes']} scenes, "
            f"{t['alerts']} alerts, peak RSS {t['peak_gib']:.2f} GiB, load {load()}"
        )
    print(
        f"    time per AOI flat or falling (within 10 %; {1 / args.threads:.2f} x wall would be a perfect "
        f"split on {args.threads} threads): wall {all(w <= 1.1 for w, _ in ratios)}, "
        f"CPU {all(c <= 1.1 for _, c in ratios)}"
    )


def alerts_digest(run: Path) -> tuple[str, int]:
    """Digest of the merged alerts (the run's own name taken out) and how many there are."""
    fc = json.loads((run / "alerts.geojson").read_text())
    fc["sitewatch"].pop("run", None)
    return hashlib.sha256(json.dumps(fc, sort_keys=True).encode()).hexdigest()[:12], len(fc["features"])


def part_c(args: argparse.Namespace, workdir: Path) -> None:
    n = args.compare_aois
    print(
        f"(c) {n} AOIs: serial vs threaded ({args.threads} threads in this process) vs a LocalCluster "
        "of 2 worker processes, same AOIs"
    )
    sites = prepare_aois(args, workdir)
    aois, sources = batch_aois(n, sites)
    rows = []
    for sched, workers in (("serial", 1), ("threads", args.threads), ("processes", 2)):
        out = workdir / f"c-{sched}"
        t = run_batch(aois, sources, sched, out, workers=workers)
        rows.append((sched, t, *alerts_digest(out)))
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.submit(sum, [1, 2]).result()
    startup = time.perf_counter() - t0
    serial = rows[0][1]["seconds"]
    for sched, t, digest, n_alerts in rows:
        print(
            f"    {sched:10s} {t['seconds']:7.2f} s  ({serial / t['seconds']:4.2f} x serial)  "
            f"peak RSS {t['peak_gib']:.2f} GiB  CPU in this process {t['cpu_s']:6.1f} s  "
            f"{n_alerts} alerts, sha256 {digest}  "
            f"(one AOI's task: {t['task_mean_s']:.2f} s mean, {t['task_max_s']:.2f} s max)"
        )
    print(
        f"    (starting and stopping a 2-process LocalCluster alone takes {startup:.1f} s here; "
        f"processes without it: {rows[2][1]['seconds'] - startup:.2f} s)"
    )
    print(f"    same alerts from all three: {len({r[2] for r in rows}) == 1}; load {load()}")


_SCAN_ONE = """
import json, sys, time, warnings
import sitewatch
chunk = None if sys.argv[2] == "none" else int(sys.argv[2])
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    r = sitewatch.scan(
        sys.argv[1] + "/aoi.geojson",
        "local:" + sys.argv[1] + "/scenes",
        execution=sitewatch.ExecutionOptions(chunk_px=chunk),
    )
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec
hwm_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({
    "seconds": time.perf_counter() - t0,
    "peak_gib": hwm_kb / 2**20,
    "alerts": [[a.id, a.change_type, a.detail, round(a.area_m2), round(a.length_m)] for a in r.alerts],
}))
"""


def part_d(args: argparse.Namespace, workdir: Path) -> None:
    """The whole scan of one big simulated AOI, in memory and block by block, each in its own process."""
    import subprocess
    import sys

    from sitewatch import Pad, RunwayExtension, simulate_site

    size = args.site_px
    site_dir = workdir / f"site{size}"
    with timed() as sim:
        site = simulate_site(
            site_dir,
            start="2024-06-01",
            end="2025-06-30",
            size_px=size,
            revisit_days=5,
            seed=11,
            events=[
                Pad("pad", (-0.45 * size * 10, 0.35 * size * 10), 190.0, 95.0, 25.0, "2024-12-10"),
                RunwayExtension("rw", 300.0, "2025-01-20"),
            ],
        )
    n_scenes = len(list(site.scenes_dir.glob("*.tif")))
    print(
        f"(d) one AOI of {size} x {size} px, {n_scenes} scenes (simulated in {sim['seconds']:.0f} s); "
        f"the whole scan in memory vs block by block ({args.chunk_px} px), each in its own process"
    )
    runs = {}
    for chunk in ("none", str(args.chunk_px)):
        done = subprocess.run(
            [sys.executable, "-c", _SCAN_ONE, str(site_dir), chunk],
            capture_output=True,
            text=True,
            check=True,
        )
        runs[chunk] = json.loads(done.stdout.strip().splitlines()[-1])
        label = "in memory" if chunk == "none" else f"blocks of {chunk} px"
        print(
            f"    {label:18s} {runs[chunk]['seconds']:7.1f} s, peak RSS {runs[chunk]['peak_gib']:5.2f} GiB, "
            f"alerts {[(a[1], a[2], a[3], a[4]) for a in runs[chunk]['alerts']]}"
        )
    mem = runs[str(args.chunk_px)]["peak_gib"] / runs["none"]["peak_gib"]
    slow = runs[str(args.chunk_px)]["seconds"] / runs["none"]["seconds"]
    same = [a[:2] for a in runs["none"]["alerts"]] == [a[:2] for a in runs[str(args.chunk_px)]["alerts"]]
    print(
        f"    block by block: {mem:.2f}x the memory, {slow:.2f}x the time; same alerts (ids, types): {same}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="abc", help="which parts to run (a, b, c, d)")
    ap.add_argument("--site-px", type=int, default=768, help="(d) side of the big simulated AOI, pixels")
    ap.add_argument("--full", action="store_true", help="(a) on the full 10980 x 10980 px x 100 dates tile")
    ap.add_argument("--tile-px", type=int, default=2048)
    ap.add_argument("--dates", type=int, default=24)
    ap.add_argument("--chunk-px", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--aoi-px", type=int, default=64, help="(b, c) side of each simulated site, pixels")
    ap.add_argument("--aoi-sites", type=int, default=8, help="(b, c) distinct simulated sites")
    ap.add_argument("--aoi-counts", type=lambda s: [int(v) for v in s.split(",")], default=[1, 4, 16, 64])
    ap.add_argument("--compare-aois", type=int, default=16, help="(c) AOIs per scheduler")
    ap.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    if args.full:
        args.tile_px, args.dates = 10980, 100
    print(
        f"sitewatch bench_scale on {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    )
    scratch = Path(tempfile.mkdtemp(prefix="sitewatch-bench-", dir=args.workdir))
    parts: dict[str, Callable[[argparse.Namespace, Path], None]] = {
        "a": part_a,
        "b": part_b,
        "c": part_c,
        "d": part_d,
    }
    try:
        for key in args.parts:
            parts[key](args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
