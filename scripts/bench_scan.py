"""Benchmark of ``sitewatch scan`` (not a test): accuracy on simulated sites, speed and memory of the core.

Part 1, accuracy: several simulated sites (different seeds and event mixes, two years each)
are scanned through the public API; per change type it prints recall, type accuracy and
precision, the dating error in days, area and length errors, and false alerts per AOI-year.

Part 2, the per-pixel core on 100 dates x 1000 x 1000 px x 6 bands with 20 % of pixels
clouded per date: wall time and peak memory of ``sitewatch.core.history.break_arrays``
beside a plain NumPy reference run in the same process (``np.nanmedian`` baseline and a
z-score per observation, on the same tiles).

    python scripts/bench_scan.py                 # both parts
    python scripts/bench_scan.py --sites 2 --size-px 200 --skip-core   # accuracy only, quick
    python scripts/bench_scan.py --skip-core --seed0 100               # other sites
    python scripts/bench_scan.py --skip-accuracy --pixels 1000
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

import sitewatch
from sitewatch import HistoryParams, break_arrays, random_events, score_alerts, simulate_site

CLEAR_SHARE = 0.5  # a scene is clear over an event when at least this share of its footprint is clear

GIB = 1024**3


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def clear_dates_over(scenes_dir: Path, truth: dict) -> dict[str, list[str]]:
    """Per truth event (by name), the dates of scenes clear over at least half its footprint.

    Clear comes from the simulated scenes' own SCL (the same classes sitewatch treats as
    clear), independent of what the scan kept or dropped.
    """
    import pyproj
    import rasterio
    import shapely
    from rasterio.features import rasterize
    from shapely.geometry import shape

    from sitewatch import CLEAR, scl_classes

    files = sorted(scenes_dir.glob("*.tif"))
    out: dict[str, list[str]] = {}
    with rasterio.open(files[0]) as src:
        crs, transform, shp = src.crs, src.transform, (src.height, src.width)
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    feet = {}
    for f in truth["features"]:
        p = f["properties"]
        if not p.get("expected_alert"):
            continue
        g = shapely.transform(
            shape(f["geometry"]), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1]))
        )
        m = rasterize([g], out_shape=shp, transform=transform, all_touched=False).astype(bool)
        if not m.any():
            m = rasterize([g], out_shape=shp, transform=transform, all_touched=True).astype(bool)
        feet[p["name"]] = m
        out[p["name"]] = []
    for path in files:
        with rasterio.open(path) as src:
            band = list(src.descriptions).index("SCL") + 1
            clear = scl_classes(src.read(band)) == CLEAR
        day = path.stem.split("_")[-1][:8]
        day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
        for name, m in feet.items():
            if clear[m].mean() >= CLEAR_SHARE:
                out[name].append(day)
    return out


def revisit_error(event_date: str, detected: str | None, clear_dates: list[str]) -> int | None:
    """Error of ``detected`` in clear revisits: 0 = the first clear scene on/after the event,
    1 = the next clear one, ...; negative when detected before the event."""
    if detected is None:
        return None
    after = [d for d in clear_dates if d >= event_date]
    if detected < event_date:
        return -sum(1 for d in clear_dates if detected <= d < event_date) or -1
    return sum(1 for d in after if d < detected)


def accuracy(n_sites: int, size_px: int, start: str, end: str, workdir: Path, *, seed0: int = 0) -> None:
    per_type: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    false_total = 0
    years = (np.datetime64(end) - np.datetime64(start)).astype(int) / 365.25
    print(f"== accuracy: {n_sites} simulated sites, {size_px} x {size_px} px, {start} to {end} ==")
    for seed in range(seed0, seed0 + n_sites):
        events = random_events(seed, start=start, end=end, size_px=size_px)
        t0 = time.perf_counter()
        site = simulate_site(
            workdir / f"site{seed}", start=start, end=end, size_px=size_px, seed=seed, events=events
        )
        t1 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sitewatch.scan(site.aoi, f"local:{site.scenes_dir}", start=start, end=end)
        t2 = time.perf_counter()
        fc = result.to_geojson()
        truth = json.loads(site.truth_path.read_text())
        score = score_alerts(fc, truth)
        clear_by_event = clear_dates_over(site.scenes_dir, truth)
        first_by_id = {f["properties"]["id"]: f["properties"].get("first_detected") for f in fc["features"]}
        false_total += score["n_false"]
        print(
            f"site {seed}: {len(site.dates)} scenes, {len(events)} events, {len(result.alerts)} alerts, "
            f"{score['n_false']} false; simulate {t1 - t0:.0f} s, scan {t2 - t1:.0f} s"
        )
        for e in score["events"]:
            d = per_type[e["change_type"]]
            d["found"].append(e["found"])
            d["type_ok"].append(bool(e.get("type_ok")))
            if "date_error_days" in e:
                d["date"].append(e["date_error_days"])
            rv = None
            if e["found"]:
                rv = revisit_error(e["date"], first_by_id.get(e.get("alert_id")), clear_by_event[e["name"]])
                if rv is not None:
                    d["revisit"].append(rv)
            if e.get("fraction_truth") is not None:
                d["fraction"].append((e.get("fraction_affected"), e["fraction_truth"]))
            if "area_error" in e:
                d["area"].append(e["area_error"])
            if "length_error" in e:
                d["length"].append(e["length_error"])
            status = (
                "ok"
                if e.get("type_ok")
                else ("WRONG TYPE " + str(e.get("alert_type")) if e["found"] else "MISSED")
            )
            print(
                f"   {e['date']} {e['change_type']:<14} {status:<22} "
                f"date {e.get('date_error_days', '-')!s:>4} d ({'-' if rv is None else rv} clear revisits)  "
                f"area {e.get('area_error', '-')!s:>6}  length {e.get('length_error', '-')!s:>6}"
                + (
                    f"  fraction {e.get('fraction_affected')} (truth {e['fraction_truth']})"
                    if e.get("fraction_truth") is not None
                    else ""
                )
            )
        for fa in score["false_alerts"]:
            print(f"   false alert: {fa['change_type']} {fa['id']}")
    print()
    print(
        f"{'type':<15}{'events':>7}{'recall':>8}{'typed ok':>9}{'date err d (median/max)':>25}"
        f"{'area err (med/max)':>20}{'length err (med/max)':>22}{'<=1 clear revisit':>19}"
        f"{'revisits (med/max)':>20}"
    )
    for t, d in sorted(per_type.items()):
        n = len(d["found"])

        def mm(v: list) -> str:
            return f"{statistics.median(v):.2f}/{max(v):.2f}" if v else "-"

        dates = [abs(x) for x in d["date"]]
        rv = d["revisit"]
        within = f"{sum(0 <= x <= 1 for x in rv) / n:.2f}" if rv else "-"
        rmm = f"{statistics.median(rv):.0f}/{max(rv)}" if rv else "-"
        print(
            f"{t:<15}{n:>7}{sum(d['found']) / n:>8.2f}{sum(d['type_ok']) / n:>9.2f}"
            f"{(f'{statistics.median(dates):.0f}/{max(dates):.0f}' if dates else '-'):>25}"
            f"{mm(d['area']):>20}{mm(d['length']):>22}"
            f"{within:>19}{rmm:>20}"
        )
    fr = [(a, t) for d in per_type.values() for a, t in d["fraction"]]
    if fr:
        errs = [abs(a - t) for a, t in fr if a is not None]
        print(
            "evacuation fraction_affected vs truth: "
            + ", ".join(f"{a if a is not None else '-'}/{t}" for a, t in fr)
            + (f"; abs error median {statistics.median(errs):.2f}, max {max(errs):.2f}" if errs else "")
        )
    print(
        f"false alerts: {false_total} over {n_sites} AOIs x {years:.1f} years = "
        f"{false_total / max(n_sites * years, 1e-9):.2f} per AOI-year"
    )
    print()


def synthetic_core_input(
    t_n: int, side: int, f_n: int, cloud_fraction: float, seed: int = 0, *, dtype: type = np.uint16
):
    """A seasonal, noisy stack with steps, and cloud blobs over ``cloud_fraction`` of pixels per date.

    Values are Sentinel-2 L2A digital numbers (reflectance x 10000) as ``uint16``, the way
    the data comes, built date by date so no float copy of the whole stack ever exists;
    ``dtype=np.float32`` gives the same values as floats (twice the memory).
    """
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    p_n = side * side
    base = np.array([0.11, 0.15, 0.20, 0.26, 0.36, 0.30], np.float32)[:f_n]
    green = np.array([0.03, 0.065, 0.04, 0.42, 0.22, 0.10], np.float32)[:f_n]
    field = (
        ndimage.zoom(rng.random((side // 50 + 1, side // 50 + 1)), 50, order=0)[:side, :side] > 0.5
    ).ravel()
    values = np.empty((t_n, f_n, p_n), dtype)
    days = np.arange(t_n) * 7
    step_px = rng.choice(p_n, size=p_n // 50, replace=False)
    step_t = rng.integers(t_n // 3, t_n - 5, size=step_px.size)
    valid = np.empty((t_n, p_n), bool)
    small = max(8, side // 16)
    day_vals = np.empty((f_n, p_n), np.float32)
    for t in range(t_n):
        g = max(0.0, np.sin(2 * np.pi * (days[t] % 365) / 365.0))
        day_vals[:] = base[:, None]
        day_vals[:, field] = (base * (1 - g) + green * g)[:, None]
        day_vals += rng.standard_normal((f_n, p_n), dtype=np.float32) * np.float32(0.005)
        day_vals[:, step_px[step_t <= t]] += np.float32(0.12)
        day_vals *= np.float32(10000)
        np.rint(day_vals, out=day_vals)
        np.clip(day_vals, 1, 65535, out=day_vals)
        values[t] = day_vals
        blob = ndimage.zoom(rng.random((small, small)).astype(np.float32), side / small, order=1)[
            :side, :side
        ]
        valid[t] = (blob > np.quantile(blob, cloud_fraction)).ravel()
    return values, valid, days


def reference(values: np.ndarray, valid: np.ndarray, tile_px: int, *, fast_median: bool = False) -> None:
    """The plain NumPy way: temporal nanmedian baseline per pixel and band, z-score per observation.

    Per tile as the core: the digital numbers are converted to float32 (NaN needs a float;
    z-scores need no scaling to reflectance), clouds set to NaN, then ``np.nanmedian`` and
    ``np.nanstd`` over time and the z-score of every observation. ``fast_median``: the
    median from one ``np.sort`` (NaN last) and the middle of the clear values instead of
    ``np.nanmedian`` (which goes through masked arrays), to show how much of the
    reference's time is that function.
    """
    p_n = values.shape[2]
    for s0 in range(0, p_n, tile_px):
        sl = slice(s0, min(p_n, s0 + tile_px))
        x = values[:, :, sl].astype(np.float32)
        x[~np.broadcast_to(valid[:, None, sl], x.shape)] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if fast_median:
                srt = np.sort(x, axis=0)
                n = x.shape[0] - np.count_nonzero(np.isnan(x), axis=0)
                lo = np.take_along_axis(srt, (np.maximum(n - 1, 0) // 2)[None], axis=0)[0]
                hi = np.take_along_axis(srt, np.minimum(n // 2, x.shape[0] - 1)[None], axis=0)[0]
                med = np.where(n > 0, (lo + hi) / 2, np.nan)
            else:
                med = np.nanmedian(x, axis=0)
            sd = np.nanstd(x, axis=0)
        z = np.abs(x - med) / (sd + 1e-6)
        _ = (z > 3).all(axis=1)


def traced_peak_gib(fn, *args, **kwargs) -> float:
    """Peak of the memory ``fn`` allocates above what exists before (tracemalloc; NumPy
    buffers are traced), in GiB."""
    import tracemalloc

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn(*args, **kwargs)
        return (tracemalloc.get_traced_memory()[1] - base) / GIB
    finally:
        tracemalloc.stop()


def core(
    t_n: int, side: int, f_n: int, cloud_fraction: float, *, dtype: type = np.uint16, repeat: int = 3
) -> None:
    import os

    print(
        f"== per-pixel core: {t_n} dates x {side} x {side} px x {f_n} bands, {cloud_fraction:.0%} clouded, "
        f"{np.dtype(dtype).name} input; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores =="
    )
    values, valid, days = synthetic_core_input(t_n, side, f_n, cloud_fraction, dtype=dtype)
    rss_input = peak_rss_gib()
    print(
        f"input {values.nbytes / GIB:.2f} GiB {values.dtype.name} + {valid.nbytes / GIB:.2f} GiB mask; "
        f"process peak so far {rss_input:.2f} GiB"
    )
    params = HistoryParams()
    # the first run also pays for page faults of fresh buffers: it measures memory, the others time
    own = traced_peak_gib(break_arrays, values, valid, days, shape=(side, side), params=params)
    times = []
    cpu = []
    n_changed = 0
    for _ in range(max(1, repeat)):
        t0, c0 = time.perf_counter(), time.process_time()
        out = break_arrays(values, valid, days, shape=(side, side), params=params)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        n_changed = int(out["changed"].sum())
        del out
    t_core = statistics.median(times)
    peak_core = peak_rss_gib()
    print(
        f"core:      {t_core:8.2f} s   (median of {', '.join(f'{t:.2f}' for t in times)} s; "
        "one thread per core)   "
        f"changed pixels {n_changed}"
    )
    print(
        f"core memory: own peak {own:.2f} GiB above the input (tracemalloc); "
        f"process peak {peak_core:.2f} GiB "
        f"(RSS, includes the input and its generation)"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    break_arrays(values, valid, days, shape=(side, side), params=HistoryParams(workers=1))
    t_one, c_one = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"core, one thread: {t_one:5.2f} s   CPU time: {c_one:.2f} s one thread, "
        f"{statistics.median(cpu):.2f} s with threads"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    reference(values, valid, params.tile_px)
    t_ref, c_ref = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"reference: {t_ref:8.2f} s   (np.nanmedian baseline + z-score, same tiles, same process, one thread;"
        f" CPU {c_ref:.2f} s)"
    )
    t0 = time.perf_counter()
    reference(values, valid, params.tile_px, fast_median=True)
    t_fast = time.perf_counter() - t0
    print(
        f"(the same reference with a sort-based median instead of np.nanmedian: {t_fast:.2f} s, "
        f"{t_fast / t_core:.1f} x the core's time; not the issue's reference)"
    )
    print(
        f"speed-up:  {t_ref / t_core:8.1f} x   (target >= 5 x; one thread each: {t_ref / t_one:.1f} x; "
        f"CPU time, one thread each: {c_ref / c_one:.1f} x)   "
        f"process peak {peak_core:.2f} GiB (target < 3 GiB); load average now {os.getloadavg()[0]:.1f}"
    )
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=6)
    ap.add_argument("--size-px", type=int, default=220)
    ap.add_argument("--start", default="2024-01-01")
    ap.add_argument("--end", default="2025-12-31")
    ap.add_argument("--dates", type=int, default=100)
    ap.add_argument("--pixels", type=int, default=1000, help="side of the core benchmark square")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument(
        "--float32",
        action="store_true",
        help="core benchmark on a float32 stack instead of uint16 digital numbers",
    )
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of the core (the median is quoted)")
    ap.add_argument("--skip-core", action="store_true")
    ap.add_argument(
        "--seed0", type=int, default=0, help="first site seed (try others to avoid tuning on one sample)"
    )
    args = ap.parse_args(argv)
    if not args.skip_core:
        core(
            args.dates,
            args.pixels,
            6,
            0.2,
            dtype=np.float32 if args.float32 else np.uint16,
            repeat=args.repeat,
        )
    if not args.skip_accuracy:
        with tempfile.TemporaryDirectory() as tmp:
            accuracy(args.sites, args.size_px, args.start, args.end, Path(tmp), seed0=args.seed0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
