"""Benchmark of ``sitewatch scan`` (not a test): accuracy on simulated sites, speed and memory of the core.

Part 1, accuracy on the original world: several simulated sites (different seeds and event
mixes, two years each) are scanned through the public API; per change type it prints
recall, typing and precision, the dating error in days and in clear revisits, size errors,
and false alerts per AOI-year.

Part 2, the per-pixel core on 100 dates x 1000 x 1000 px x 6 bands with 20 % of pixels
clouded per date: wall time and peak memory of ``sitewatch.core.history.break_arrays``
beside a plain NumPy reference run in the same process (``np.nanmedian`` baseline and a
z-score per observation, on the same tiles).

Part 3, ``--random N``: N random worlds (``sitewatch.simulate.random_scenario``, fixed seeds):
soils, surfaces, layouts, strips 20-60 m wide at any orientation, abrupt and gradual events,
12-24 month windows, scenes with and without SCL, with and without the +1000 offset, partial
band sets, snow, hills, CRSs that are not UTM. Per type: recall, typing, precision, dating
(clear revisits late, days), size error (median and worst: area for pads, added length for
runway changes, fraction for evacuations), completion dating, false key alerts and stray
``other`` alerts per AOI-year; sites the scan refuses are listed (their events count as
missed); then the OSCD cities (scripts/bench_compare.py's ``compare_f1``).

    python scripts/bench_scan.py                 # parts 1 and 2
    python scripts/bench_scan.py --sites 2 --size-px 200 --skip-core   # accuracy only, quick
    python scripts/bench_scan.py --skip-core --seed0 100               # other sites
    python scripts/bench_scan.py --skip-accuracy --pixels 1000
    python scripts/bench_scan.py --skip-core --skip-accuracy --random 30 --jobs 2   # the random worlds
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

import sitewatch
from sitewatch import HistoryParams, break_arrays
from sitewatch.simulate import (
    clear_dates_from_scl,
    random_events,
    random_scenario,
    score_alerts,
    simulate_site,
    summarize_scores,
)

GIB = 1024**3


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GIB


def _fmt(pair: tuple[float, float] | None, spec: str) -> str:
    return "-" if pair is None else f"{pair[0]:{spec}}/{pair[1]:{spec}}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


LEGEND = (
    "(recall: found with any type; typed: found with the right type, of all events; typing: of those found;",
    " precision: alerts of the type that are such an event; <=1 rev: found and dated at most one clear",
    " revisit late; revisits, days: median/worst lateness of first_detected after the onset; size err:",
    " area for pads, earthworks and vegetation losses, added length for runway changes, |fraction - truth|",
    " for evacuations; done days: completion dating, when alerts carry one)",
)


def print_table(summary: dict[str, Any], n_sites: int) -> None:
    """Per-type figures pooled over the sites, and false alerts per AOI-year."""
    from sitewatch.simulate import TypeSummary

    print(
        f"{'type':<16}{'events':>7}{'recall':>7}{'typed':>7}{'typing':>7}{'precis':>7}{'alerts':>7}"
        f"{'<=1 rev':>8}{'revisits':>10}{'days':>10}{'size err':>12}{'done days':>11}"
    )
    for kind, t in sorted(summary["types"].items()):
        rv = t.revisits
        within = f"{sum(0 <= x <= 1 for x in rv) / t.found:.2f}" if rv and t.found else "-"
        revisits = _fmt(TypeSummary.median_max(rv), ".0f")
        days = _fmt(TypeSummary.median_max(t.days, absolute=True), ".0f")
        done = _fmt(TypeSummary.median_max(t.completion_days, absolute=True), ".0f")
        typed = _share(t.typed_ok / t.events if t.events else None)
        print(
            f"{kind:<16}{t.events:>7}{_share(t.recall):>7}{typed:>7}{_share(t.typing):>7}"
            f"{_share(t.precision):>7}{t.alerts:>7}{within:>8}{revisits:>10}{days:>10}"
            f"{_fmt(TypeSummary.median_max(t.sizes), '.2f'):>12}{done:>11}"
        )
    years = summary["aoi_years"]
    per = max(years, 1e-9)
    print("\n".join(LEGEND))
    total, key, stray = summary["false_total"], summary["false_key"], summary["stray_other"]
    print(
        f"false alerts: {total} over {n_sites} AOIs x {years / max(n_sites, 1):.1f} years = "
        f"{total / per:.2f} per AOI-year; false key alerts (new_pad/runway_change/evacuation matching "
        f"nothing) {key} = {key / per:.2f} per AOI-year; stray other {stray} = {stray / per:.2f} per AOI-year"
    )
    if summary["false_on"]:
        print("false alerts lie on: " + ", ".join(f"{k} {v}" for k, v in sorted(summary["false_on"].items())))


def print_site_events(score: dict[str, Any]) -> None:
    for e in score["events"]:
        status = (
            "ok"
            if e.get("type_ok")
            else ("WRONG TYPE " + str(e.get("alert_type")) if e["found"] else "MISSED")
        )
        rv = e.get("revisits_late")
        print(
            f"   {e['date']} {e['change_type']:<16} {status:<24} "
            f"date {e.get('date_error_days', '-')!s:>4} d ({'-' if rv is None else rv} clear revisits)  "
            f"area {e.get('area_error', '-')!s:>6}  length {e.get('length_error', '-')!s:>6}"
            + (
                f"  fraction {e.get('fraction_affected')} (truth {e['fraction_truth']})"
                if e.get("fraction_truth") is not None
                else ""
            )
        )
    for fa in score["false_alerts"]:
        print(
            f"   false alert: {fa['change_type']} {fa['id']}" + (f" (on {fa['on']})" if fa.get("on") else "")
        )


def accuracy(n_sites: int, size_px: int, start: str, end: str, workdir: Path, *, seed0: int = 0) -> None:
    print(f"== accuracy: {n_sites} simulated sites, {size_px} x {size_px} px, {start} to {end} ==")
    scores = []
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
        truth = json.loads(site.truth_path.read_text())
        # the original world's truth has no clear dates: read them from the scenes' SCL
        score = score_alerts(
            result.to_geojson(), truth, clear_dates=clear_dates_from_scl(site.scenes_dir, truth)
        )
        scores.append(score)
        print(
            f"site {seed}: {len(site.dates)} scenes, {len(events)} events, {len(result.alerts)} alerts, "
            f"{score['n_false']} false; simulate {t1 - t0:.0f} s, scan {t2 - t1:.0f} s"
        )
        print_site_events(score)
    print()
    summary = summarize_scores(scores)
    print_table(summary, n_sites)
    fr = [
        (e.get("fraction_affected"), e["fraction_truth"])
        for s in scores
        for e in s["events"]
        if e.get("fraction_truth") is not None
    ]
    if fr:
        errs = [abs(a - t) for a, t in fr if a is not None]
        print(
            "evacuation fraction_affected vs truth: "
            + ", ".join(f"{a if a is not None else '-'}/{t}" for a, t in fr)
            + (f"; abs error median {statistics.median(errs):.2f}, max {max(errs):.2f}" if errs else "")
        )
    lengths = [
        e["length_error"]
        for s in scores
        for e in s["events"]
        if e["change_type"] == "new_pad" and "length_error" in e
    ]
    if lengths:
        print(f"pad length error: median {statistics.median(lengths):.2f}, worst {max(lengths):.2f}")
    print()


def random_site(seed: int, size_px: int, workdir: str) -> dict[str, Any]:
    """Simulate, scan and score one random world (in a worker process)."""
    scenario = random_scenario(seed, size_px=size_px)
    w = scenario.world
    folder = Path(workdir) / f"random{seed}"
    out: dict[str, Any] = {
        "seed": seed,
        "region": scenario.region,
        "bands": "".join(b[1:] for b in w.product.bands),
        "scl": w.product.scl,
        "style": w.product.style,
        "crs": w.product.crs if w.product.crs in ("utm", "EPSG:3857") else "lcc",
        "months": scenario.months,
        "relief_m": round(w.terrain.relief_m),
        "snowfalls": round(w.climate.snowfalls_per_winter, 1),
    }
    t0 = time.perf_counter()
    try:
        site = scenario.simulate(folder)
        out["scenes"] = len(site.dates)
        t1 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = sitewatch.scan(
                    site.aoi, f"local:{site.scenes_dir}", start=scenario.start, end=scenario.end
                )
            fc = result.to_geojson()
        except sitewatch.SitewatchError as exc:  # the scan refused the site: a finding, not a crash
            out["failed"] = f"refused: {str(exc).splitlines()[0][:200]}"
            fc = {"features": []}
        except Exception as exc:  # a crash is recorded and the benchmark goes on
            out["failed"] = (
                f"crashed: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
            )
            fc = {"features": []}
        out["scan_s"] = time.perf_counter() - t1
        out["simulate_s"] = t1 - t0
        out["score"] = score_alerts(fc, site.truth)
        out["alerts"] = len(fc["features"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def random_worlds(
    n_sites: int, size_px: int, seed0: int, jobs: int, workdir: Path, *, oscd: Path | None
) -> None:
    print(
        f"== random worlds: {n_sites} sites (seeds {seed0}-{seed0 + n_sites - 1}), {size_px} x {size_px} px, "
        f"{jobs} worker(s); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores =="
    )
    t0 = time.perf_counter()
    seeds = list(range(seed0, seed0 + n_sites))
    if jobs > 1:
        # spawn, not fork: part 1 (OSCD, the core) has started threads by now (BLAS, dask, GDAL), and a
        # forked worker can inherit a lock one of them held and wait on it forever.
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(random_site, seeds, [size_px] * n_sites, [str(workdir)] * n_sites))
    else:
        results = [random_site(s, size_px, str(workdir)) for s in seeds]
    for r in results:
        s = r["score"]
        print(
            f"site {r['seed']} ({r['region']}, B{r['bands']}, {'SCL' if r['scl'] else 'no SCL'}, "
            f"{r['style']}, "
            f"{r['crs']}, {r['months']} months, relief {r['relief_m']} m, snow {r['snowfalls']}/winter): "
            f"{r['scenes']} scenes, {len(s['events'])} events, {r['alerts']} alerts, {s['n_false']} false; "
            f"simulate {r['simulate_s']:.0f} s, scan {r['scan_s']:.0f} s"
            + (f"\n   SCAN {r['failed']}" if r.get("failed") else "")
        )
        print_site_events(s)
    print()
    failed = [r for r in results if r.get("failed")]
    print(
        f"{len(failed)} of {n_sites} sites failed (their events count as missed): "
        + ("; ".join(f"{r['seed']}: {r['failed']}" for r in failed) or "none")
    )
    print_table(summarize_scores([r["score"] for r in results]), n_sites)
    if failed:
        ran = [r for r in results if not r.get("failed")]
        print(f"\n-- the same, on the {len(ran)} sites the scan ran on --")
        print_table(summarize_scores([r["score"] for r in ran]), len(ran))
    wall = time.perf_counter() - t0
    print(f"random worlds: {wall:.0f} s wall for {n_sites} sites; load average now {os.getloadavg()[0]:.1f}")
    if oscd is not None:
        oscd_cities(oscd)
    print()


def oscd_cities(root: Path) -> None:
    if not root.is_dir():
        print(f"OSCD: {root} not found, skipped")
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_compare
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sitewatch.SitewatchWarning)
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # OSCD's label files carry no georeference
        pooled, per_city = bench_compare.compare_f1(root)
    print(
        f"OSCD ({len(per_city)} labelled cities, compare with its defaults): pooled F1 {pooled:.3f}; "
        + ", ".join(f"{c} {f:.2f}" for c, f in per_city.items())
    )


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
    ap.add_argument(
        "--random", type=int, default=0, metavar="N", help="also scan N random worlds (30 for the report)"
    )
    ap.add_argument("--random-seed0", type=int, default=0, help="first random world's seed")
    ap.add_argument("--random-size-px", type=int, default=128, help="side of each random site in pixels")
    ap.add_argument("--jobs", type=int, default=1, help="random worlds simulated and scanned side by side")
    ap.add_argument(
        "--oscd",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "data" / "oscd"),
        help="OSCD folder for the random-world report ('' to skip)",
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
    if args.random:
        with tempfile.TemporaryDirectory() as tmp:
            random_worlds(
                args.random,
                args.random_size_px,
                args.random_seed0,
                args.jobs,
                Path(tmp),
                oscd=Path(args.oscd) if args.oscd else None,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
