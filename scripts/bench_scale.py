"""How sitewatch scales: one big tile in bounded memory, many AOIs on Dask, and the schedulers side by side.

(a) tile:  the per-pixel history core (``sitewatch.core.history.detect_breaks``) over a whole
           simulated tile x dates x 6 bands, written to disk in chunks first (Zarr, uint16) and
           processed chunk by chunk on Dask, so memory stays bounded whatever the tile size.
           The full Sentinel-2 tile (10980 x 10980 px x 100 dates x 6 bands = 145 GB raw) is
           opt-in with --full; the default is a reduced tile that fits the time budget.
(b) AOIs:  scan_all with 1, 4, 16, 64 small AOIs on the default (threaded) scheduler: the time
           per AOI must stay flat or fall as AOIs are added.
(c) schedulers: the same AOIs serially, on the threaded scheduler and on a 2-worker LocalCluster
           (processes), with a check that all three wrote the same alerts.

Usage:
    python scripts/bench_scale.py                     # reduced: 2048 px x 24 dates, AOIs up to 64
    python scripts/bench_scale.py --full              # 10980 x 10980 x 100: ~100 GB disk, hours
    python scripts/bench_scale.py --tile-px 4096 --dates 50 --parts a
"""

from __future__ import annotations

import argparse
import datetime as dt
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
import shapely
import xarray as xr

from sitewatch import AOI
from sitewatch.batch import scan_all

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


def write_tile(path: Path, *, size_px: int, n_dates: int, chunk_px: int) -> xr.DataArray:
    """Write the simulated tile to a Zarr store block by block (never whole in memory)."""
    import dask.array as da
    from dask import delayed

    blocks = []
    for y0 in range(0, size_px, chunk_px):
        row = []
        for x0 in range(0, size_px, chunk_px):
            h, w = min(chunk_px, size_px - y0), min(chunk_px, size_px - x0)
            block = delayed(simulate_block)(y0, x0, h, w, n_dates)
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
    stack.to_dataset().to_zarr(path, mode="w", compute=True, consolidated=False)
    out = xr.open_zarr(path, consolidated=False)["reflectance"]
    return out.assign_coords(band=out.attrs["bands"].split(","))


def history_block(block: xr.DataArray) -> xr.DataArray:
    """The per-pixel core on one spatial block: first lasting break per pixel (as days since 2024)."""
    from sitewatch.core.history import detect_breaks

    stack = block.astype(np.float32)
    clear = np.ones((stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]), bool)
    ds = detect_breaks(stack, clear)
    first = ds["first_detected"].values
    days = np.where(
        np.isnat(first), -1, (first - np.datetime64("2024-01-01")).astype("timedelta64[D]").astype(int)
    )
    return xr.DataArray(days.astype(np.int32), dims=("y", "x"), coords={"y": block.y, "x": block.x})


def part_a(args: argparse.Namespace, workdir: Path) -> None:
    size, n_dates, chunk = args.tile_px, args.dates, args.chunk_px
    raw_gb = size * size * n_dates * len(BANDS) * 2 / 1e9
    free_gb = shutil.disk_usage(workdir).free / 1e9
    print(
        f"(a) tile {size} x {size} px x {n_dates} dates x {len(BANDS)} bands = {raw_gb:.1f} GB raw uint16, "
        f"chunks {chunk} px; {free_gb:.0f} GB free in {workdir}"
    )
    if raw_gb > 0.9 * free_gb:
        print(
            f"    SKIPPED: the tile needs about {raw_gb:.0f} GB on disk, only {free_gb:.0f} GB free "
            "(use --workdir on a larger disk, or fewer --dates / a smaller --tile-px)"
        )
        return
    import dask

    store = workdir / "tile.zarr"
    with dask.config.set(scheduler="threads", num_workers=args.threads), timed() as w:
        stack = write_tile(store, size_px=size, n_dates=n_dates, chunk_px=chunk)
    on_disk = sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 1e9
    print(f"    write: {w['seconds']:.1f} s, {on_disk:.2f} GB on disk, peak RSS {w['peak_gib']:.2f} GiB")
    with dask.config.set(scheduler="threads", num_workers=args.threads), timed() as c:
        stack = stack.chunk({"time": -1, "band": -1, "y": chunk, "x": chunk})
        template = xr.zeros_like(stack.isel(time=0, band=0, drop=True), dtype=np.int32)
        result = xr.map_blocks(history_block, stack, template=template)
        days = result.compute()
    px = size * size
    changed = int((days.values >= 0).sum())
    print(
        f"    history core: {c['seconds']:.1f} s ({px / c['seconds'] / 1e6:.2f} Mpx/s, "
        f"{c['seconds'] / n_dates * 1e3 / (px / 1e6):.1f} ms per Mpx-date), peak RSS {c['peak_gib']:.2f} GiB "
        f"(the tile is {raw_gb * 2:.1f} GB as float32), {changed} px changed"
    )
    shutil.rmtree(store, ignore_errors=True)


# ------------------------------------------------------------------------------------ AOIs


def bench_aoi_scan(
    aoi: AOI, source: str, *, start: dt.date, end: dt.date, workdir: Path, **options: Any
) -> dict:
    """A per-AOI scan for the benchmark: simulate the AOI's stack, run the history core, report breaks."""
    size, n_dates = int(options.get("size_px", 96)), int(options.get("n_dates", 36))
    seed = int(hashlib.sha1(aoi.name.encode()).hexdigest()[:6], 16)
    block = simulate_block(seed % 5000, seed % 7000, size, size, n_dates)
    stack = xr.DataArray(
        block, dims=("time", "band", "y", "x"), coords={"time": dates(n_dates), "band": list(BANDS)}
    )
    days = history_block(stack).values
    w, s, e, n = aoi.geometry.bounds
    feats = []
    if (days >= 0).any():
        ys, xs = np.nonzero(days >= 0)
        geom = shapely.box(
            w + (e - w) * xs.min() / size,
            n - (n - s) * (ys.max() + 1) / size,
            w + (e - w) * (xs.max() + 1) / size,
            n - (n - s) * ys.min() / size,
        )
        first = (np.datetime64("2024-01-01") + int(np.median(days[days >= 0]))).astype(str)
        feats.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom),
                "properties": {
                    "id": f"{aoi.name}-1",
                    "aoi": aoi.name,
                    "change_type": "new_pad",
                    "first_detected": first,
                    "area_m2": float((days >= 0).sum() * 100),
                    "confidence": 0.9,
                    "status": "new",
                    "simulated": True,
                },
            }
        )
    used = [
        {"id": f"S{i}", "date": str(d), "clear_fraction": 1.0, "shift_px": [0, 0]}
        for i, d in enumerate(dates(n_dates).astype("datetime64[D]"))
    ]
    return {
        "type": "FeatureCollection",
        "features": feats,
        "sitewatch": {"aoi": aoi.name, "simulated": True, "scenes_used": used, "scenes_dropped": []},
    }


def aois(n: int) -> list[AOI]:
    return [
        AOI(
            name=f"aoi-{i:03d}",
            display_name=f"AOI {i}",
            geometry=shapely.box(40 + i * 0.02, 36, 40.01 + i * 0.02, 36.01),
        )
        for i in range(n)
    ]


_SIM_SITES: dict[int, tuple[AOI, str]] = {}


def simulated_sites(n: int, workdir: Path) -> tuple[list[AOI], dict[str, str]]:
    """``n`` tiny simulated sites on disk (made once, reused): AOIs and their local sources."""
    from sitewatch.simulate import Pad, simulate_site

    for i in range(n):
        if i not in _SIM_SITES:
            site = simulate_site(
                workdir / "sites" / f"s{i:03d}",
                name=f"sim-{i:03d}",
                center=(40.0 + 0.05 * (i % 10), 36.0 + 0.05 * (i // 10)),
                start="2024-03-01",
                end="2024-09-30",
                size_px=40,
                base=False,
                events=[Pad(f"pad-{i}", (0.0, 0.0), 120, 60, 15 * i % 180, "2024-06-10")],
                seed=i,
            )
            _SIM_SITES[i] = (site.aoi, f"local:{site.scenes_dir}")
    chosen = [_SIM_SITES[i] for i in range(n)]
    return [a for a, _ in chosen], {a.name: src for a, src in chosen}


def run_batch(
    n: int, scheduler: str, workdir: Path, args: argparse.Namespace, tag: str, offset: int = 0
) -> tuple[float, Path]:
    out = workdir / f"{tag}-{scheduler}-{n}"
    if args.real:
        the_aois, sources = simulated_sites(n + offset, workdir)
        the_aois = the_aois[offset:]
        sources = {a.name: sources[a.name] for a in the_aois}
        t0 = time.perf_counter()
        scan_all(
            the_aois,
            sources,
            start="2024-03-01",
            end="2024-09-30",
            out_dir=out,
            scheduler=scheduler,
            workers=args.threads,
        )
        return time.perf_counter() - t0, out
    t0 = time.perf_counter()
    scan_all(
        aois(n + offset)[offset:],
        "simulated",
        start="2024-01-01",
        end="2024-12-31",
        out_dir=out,
        scan_fn=bench_aoi_scan,
        scheduler=scheduler,
        workers=args.threads,
        scan_options={"size_px": args.aoi_px, "n_dates": args.aoi_dates},
    )
    return time.perf_counter() - t0, out


def part_b(args: argparse.Namespace, workdir: Path) -> None:
    what = (
        "sitewatch scan on simulated 40 x 40 px sites, Mar-Sep 2024 (local files)"
        if args.real
        else f"the history core on {args.aoi_px} x {args.aoi_px} px x {args.aoi_dates} dates in memory"
    )
    print(f"(b) AOIs: {what}; threaded scheduler, {args.threads} threads")
    if args.real:
        simulated_sites(max(args.aoi_counts) + 1, workdir)  # simulation time is not scan time
    # Imports and first-call costs are not per-AOI costs; the warm-up AOI is not one of those measured
    # (its files would be in the OS cache).
    run_batch(1, "threads", workdir, args, "warmup", offset=max(args.aoi_counts))
    base = None
    for n in args.aoi_counts:
        secs, _ = run_batch(n, "threads", workdir, args, "b")
        per = secs / n
        base = base or per
        print(
            f"    {n:3d} AOIs: {secs:6.2f} s total, {per:6.3f} s per AOI ({per / base:4.2f} x the 1-AOI time)"
        )


def alerts_digest(run: Path) -> str:
    fc = json.loads((run / "alerts.geojson").read_text())
    fc["sitewatch"].pop("run", None)
    return hashlib.sha256(json.dumps(fc, sort_keys=True).encode()).hexdigest()[:12]


def part_c(args: argparse.Namespace, workdir: Path) -> None:
    n = args.compare_aois
    print(f"(c) {n} AOIs: serial vs threaded ({args.threads} threads) vs LocalCluster (2 worker processes)")
    rows = []
    for sched in ("serial", "threads", "processes"):
        secs, out = run_batch(n, sched, workdir, args, "c")
        rows.append((sched, secs, alerts_digest(out)))
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with (
        LocalCluster(processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        client.submit(sum, [1, 2]).result()
    startup = time.perf_counter() - t0
    serial = rows[0][1]
    for sched, secs, digest in rows:
        print(f"    {sched:10s} {secs:6.2f} s  ({serial / secs:4.2f} x serial)  alerts sha256 {digest}")
    print(
        f"    (starting and stopping a 2-process LocalCluster alone takes {startup:.1f} s here; "
        f"processes without it: {rows[2][1] - startup:.2f} s)"
    )
    print(f"    same alerts from all three: {len({r[2] for r in rows}) == 1}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parts", default="abc", help="which parts to run (a, b, c)")
    ap.add_argument("--full", action="store_true", help="(a) on the full 10980 x 10980 px x 100 dates tile")
    ap.add_argument("--tile-px", type=int, default=2048)
    ap.add_argument("--dates", type=int, default=24)
    ap.add_argument("--chunk-px", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--aoi-px", type=int, default=96)
    ap.add_argument("--aoi-dates", type=int, default=36)
    ap.add_argument("--aoi-counts", type=lambda s: [int(v) for v in s.split(",")], default=[1, 4, 16, 64])
    ap.add_argument("--compare-aois", type=int, default=16)
    ap.add_argument(
        "--real",
        action="store_true",
        help="(b, c) sitewatch's own scan on tiny simulated sites on disk, not the in-memory core",
    )
    ap.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temporary one)")
    args = ap.parse_args()
    if args.full:
        args.tile_px, args.dates = 10980, 100
    print(
        f"sitewatch bench_scale on {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    )
    scratch = Path(tempfile.mkdtemp(prefix="sitewatch-bench-", dir=args.workdir))
    parts: dict[str, Callable[[argparse.Namespace, Path], None]] = {"a": part_a, "b": part_b, "c": part_c}
    try:
        for key in args.parts:
            parts[key](args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
