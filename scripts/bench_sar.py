"""Benchmark of the radar core (not a test): time and memory beside a plain NumPy/SciPy t-test.

Part 1 (this round): per 100 acquisitions of 1000 x 1000 px (two relative orbits, VV and VH),
the radar core (:func:`sitewatch.core.sar.detect_sar_breaks`: Lee filter, date offsets,
per-orbit Welch t with confirmation, dating, terrain flags) is timed beside a plain t-test
over the **same reference and test windows** (``scipy.stats.ttest_ind(equal_var=False)`` on
10 log10 of the unfiltered power, then the first date with ``|t| >= threshold``). Each runs
in its own process on the same seeded series; its peak memory is the process's peak resident
set (VmHWM, reset once the series is built) minus what the series itself takes. Printed as
ratios core / plain.

Usage::

    python scripts/bench_sar.py                      # 100 acquisitions of 1000 x 1000 px
    python scripts/bench_sar.py --acquisitions 40 --size 256   # a quick look

Part 2 (``--accuracy N``): N random simulated sites (seeds 0..N-1, or ``--first-seed F``:
F..F+N-1; ``simulate_random_site(...,
sar=True)``), each scanned with its own radar (``scan(..., sar="local:...")``):

- the share of pads, runway changes and evacuations whose optical alert is ``consistent``;
- radar alone: per such event, every optical scene from its onset to 60 days after is made
  cloudy (the optical series stops seeing at the onset, the scan ends 60 days later) and the
  radar stage runs with the optical alerts found before it: the share found by a radar-only
  candidate (targets: >= 80 % of evacuations, >= 60 % of pads), and the dating error of those
  candidates (days outside the event's onset..completion; target within two same-orbit
  revisits, 24 days);
- false radar candidates per AOI-year: every radar-only candidate of a radar-only run over the
  whole series with no optical alert and no clear optical scene at all (a sky closed all
  year, the harshest case) that matches no scripted event.

Usage::

    python scripts/bench_sar.py --accuracy 10 --workdir /tmp/bench-sar
    python scripts/bench_sar.py --accuracy 12 --first-seed 100 --workdir /tmp/bench-sar  # held out
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage, stats
from shapely.geometry import shape

from sitewatch import load_aoi, scan
from sitewatch.core.sar import SarParams, detect_sar_breaks, orbit_groups, power_to_db, reference_windows
from sitewatch.errors import BandMissingError, DataError
from sitewatch.pipeline.radar_stage import radar_candidates
from sitewatch.providers.radar import get_radar_provider
from sitewatch.simulate import simulate_random_site

KEY_TYPES = ("new_pad", "runway_change", "evacuation")


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(f"{field}:"))


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def make_series(n: int, size: int, seed: int) -> xr.DataArray:
    """A seeded series of two interleaved relative orbits (12-day revisit each), speckle of 4.4 looks."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.standard_normal((size, size)).astype(np.float32), 3)
    base = (-12.0 + 3.0 * np.clip(field / field.std(), -2, 2)).astype(np.float32)
    start = np.datetime64("2023-01-03T03:00", "ns")
    times, directions, orbits = [], [], []
    for k in range(n):
        asc = k % 2 == 1
        times.append(
            start
            + np.timedelta64(12 * (k // 2) + (5 if asc else 0), "D")
            + np.timedelta64(12 if asc else 0, "h")
        )
        directions.append("ASCENDING" if asc else "DESCENDING")
        orbits.append(14 if asc else 79)
    data = np.empty((n, 2, size, size), np.float32)
    box = slice(size // 4, size // 4 + size // 10)
    for t in range(n):
        level = base - (1.5 if directions[t] == "ASCENDING" else 0.0) + 0.7 * rng.standard_normal()
        for b, offset in enumerate((0.0, -7.0)):
            db = level + offset
            if t >= n // 2:
                db = db.copy()
                db[box, box] -= 6.0  # a pad laid half-way through the series
            speckle = rng.gamma(4.4, 1 / 4.4, (size, size)).astype(np.float32)
            data[t, b] = np.power(np.float32(10), db / np.float32(10)) * speckle
    return xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords={
            "time": np.array(times, dtype="datetime64[ns]"),
            "band": ["VV", "VH"],
            "y": 4_000_000.0 - 10.0 * np.arange(size) - 5.0,
            "x": 500_000.0 + 10.0 * np.arange(size) + 5.0,
            "orbit_direction": ("time", directions),
            "relative_orbit": ("time", np.array(orbits)),
            "backscatter": ("time", ["gamma0"] * n),
        },
    )


def plain_ttest(stack: xr.DataArray, p: SarParams) -> np.ndarray:
    """First date per pixel and orbit where scipy's Welch t of the two-acquisition window passes."""
    db = power_to_db(stack.values)
    days = stack.coords["time"].values.astype("datetime64[D]").astype(np.int64)
    out = []
    for group in orbit_groups(stack):
        idx = np.asarray(group.index)
        x = db[idx]
        first = np.full(x.shape[2:], -1, np.int32)
        for k, (r0, r1, s0, s1) in enumerate(reference_windows(days[idx], params=p)):
            ref = [*range(r0, r1), *range(s0, s1)]
            if len(ref) < p.min_ref_obs or k + p.confirm_obs > len(idx):
                continue
            t = stats.ttest_ind(x[k : k + p.confirm_obs], x[ref], axis=0, equal_var=False).statistic
            hit = (np.abs(t) >= p.threshold).any(axis=0) & (first < 0)
            first[hit] = k
        out.append(first)
    return np.stack(out)


def child(method: str, n: int, size: int, seed: int) -> None:
    warnings.simplefilter("ignore")
    stack = make_series(n, size, seed)
    before_kb = _status_kb("VmRSS")
    reset = _reset_peak()
    t0 = time.perf_counter()
    if method == "core":
        ds = detect_sar_breaks(stack)
        changed = float(ds.changed.values.mean())
    else:
        changed = float((plain_ttest(stack, SarParams()) >= 0).any(axis=0).mean())
    seconds = time.perf_counter() - t0
    peak_kb = _status_kb("VmHWM")
    print(
        json.dumps(
            {
                "method": method,
                "seconds": seconds,
                "extra_gib": (peak_kb - before_kb) / 2**20 if reset else float("nan"),
                "series_gib": stack.nbytes / 2**30,
                "changed_share": changed,
            }
        )
    )


def _overlaps(a: Any, b: Any, share: float = 0.25) -> bool:
    inter = a.intersection(b).area
    return inter > 0 and inter >= share * min(a.area, b.area)


def _events(truth: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for f in truth["features"]:
        p = f["properties"]
        if p.get("expected_alert") and p["change_type"] in KEY_TYPES:
            onset = dt.date.fromisoformat(p.get("onset") or p["date"])
            done = dt.date.fromisoformat(p.get("completion") or p.get("end") or p["date"])
            out.append({"type": p["change_type"], "geom": shape(f["geometry"]), "onset": onset, "done": done})
    return out


def _dating_error(day: dt.date, ev: dict[str, Any]) -> int:
    if ev["onset"] <= day <= ev["done"]:
        return 0
    return min(abs((day - ev["onset"]).days), abs((day - ev["done"]).days))


def accuracy(n_sites: int, workdir: Path, first_seed: int = 0) -> None:
    """Part 2: consistency, radar-alone detection and dating, false radar candidates."""
    consistent: dict[str, list[bool]] = {t: [] for t in KEY_TYPES}
    alone: dict[str, list[bool]] = {t: [] for t in KEY_TYPES}
    errors: list[int] = []
    false_candidates, years = 0, 0.0
    scan_false = refused = 0
    scan_years = 0.0
    seeds = range(first_seed, first_seed + n_sites)
    for seed in seeds:
        root = workdir / f"site-{seed:02d}"
        if not (root / "s1").exists():
            simulate_random_site(root, seed, sar=True)
        truth = json.loads((root / "truth.geojson").read_text())
        aoi = load_aoi(str(root / "aoi.geojson"))
        radar = get_radar_provider(f"local:{root / 's1'}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                result = scan(aoi, f"local:{root / 'scenes'}", sar=f"local:{root / 's1'}")
            except BandMissingError as err:
                # some random worlds' products lack a band the optical scan needs: it refuses them,
                # and radar is all there is (the closed-sky measures still apply)
                print(f"  site {seed}: optical scan refused ({err}); radar only", flush=True)
                refused += 1
                result = None
            geobox = result.stack.odc.geobox if result is not None and result.stack is not None else None
            scenes = list(radar.search(aoi))
            stack = (
                radar.load(scenes, aoi=aoi, geobox=geobox)
                if geobox is not None
                else radar.load(scenes, aoi=aoi, crs="utm")
            )
        events = _events(truth)
        alerts = result.alerts if result is not None else []
        optical = [a for a in alerts if a.source == "optical"]
        scan_false += sum(
            1
            for a in alerts
            if a.source == "sar" and not any(_overlaps(a.geometry, e["geom"]) for e in events)
        )
        for ev in events:
            hit = [a for a in optical if _overlaps(a.geometry, ev["geom"])]
            if hit:
                c = hit[0].corroboration_sar
                consistent[ev["type"]].append(c is not None and c.verdict == "consistent")
            # the sky closes from the onset for 60 days: the radar stage alone
            cut = np.datetime64(ev["onset"] + dt.timedelta(days=60), "ns")
            onset = np.datetime64(ev["onset"], "ns")
            sub = stack.isel(time=np.nonzero(stack.coords["time"].values <= cut)[0])
            clear = (
                result.clear.isel(time=np.nonzero(result.clear.coords["time"].values < onset)[0])
                if result is not None and result.clear is not None
                else None
            )
            before = [a for a in optical if a.first_detected and a.first_detected < ev["onset"]]
            found = False
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    ds = detect_sar_breaks(sub)
                except DataError:
                    ds = None
                if ds is not None:
                    cands, _ = radar_candidates(ds, sub, aoi_name=aoi.name, alerts=before, clear=clear)
                    mine = [a for a, _ in cands if _overlaps(a.geometry, ev["geom"])]
                    if mine:
                        found = True
                        errors.append(
                            min(_dating_error(a.first_detected, ev) for a in mine if a.first_detected)
                        )
            alone[ev["type"]].append(found)
        # a sky closed all year: radar alone over the whole series
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = detect_sar_breaks(stack)
            cands, _ = radar_candidates(ds, stack, aoi_name=aoi.name, alerts=[], clear=None)
        false_candidates += sum(
            1 for a, _ in cands if not any(_overlaps(a.geometry, e["geom"]) for e in events)
        )
        t = stack.coords["time"].values
        span = float((t[-1] - t[0]) / np.timedelta64(1, "D")) / 365.25
        years += span
        scan_years += span if result is not None else 0.0
        print(
            f"  site {seed}: {len(events)} events, {len(cands)} radar-only candidates (closed sky)",
            flush=True,
        )

    def share(v: list[bool]) -> str:
        return f"{sum(v)}/{len(v)} = {sum(v) / len(v):.2f}" if v else "n/a"

    print(
        f"radar accuracy on {n_sites} random simulated sites (seeds {seeds[0]}..{seeds[-1]}; "
        f"{refused} refused by the optical scan for a missing band: radar-only measures there)"
    )
    for t in KEY_TYPES:
        print(
            f"  {t:14} optical alert consistent {share(consistent[t]):>14}  radar alone {share(alone[t]):>14}"
        )
    if errors:
        e = np.asarray(errors)
        print(
            f"  dating error of radar-only candidates: median {np.median(e):.0f} d, 90th pct "
            f"{np.percentile(e, 90):.0f} d, within 24 d (two same-orbit revisits) {np.mean(e <= 24):.2f}"
        )
    print(
        f"  false radar-only candidates per AOI-year: closed sky all year {false_candidates / years:.2f} "
        f"({false_candidates} in {years:.1f} AOI-years); "
        f"in the clear-sky scans {scan_false / max(scan_years, 1e-9):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acquisitions", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000, help="side of the square grid, pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=("core", "plain"), help=argparse.SUPPRESS)
    parser.add_argument("--accuracy", type=int, metavar="N", help="part 2 on N random simulated sites")
    parser.add_argument("--workdir", type=Path, default=Path("bench-sar-sites"), help="where the sites go")
    parser.add_argument(
        "--first-seed", type=int, default=0, help="part 2: seeds FIRST..FIRST+N-1 (a range not tuned on)"
    )
    args = parser.parse_args()
    if args.accuracy:
        accuracy(args.accuracy, args.workdir, args.first_seed)
        return
    if args.child:
        child(args.child, args.acquisitions, args.size, args.seed)
        return
    results = {}
    for method in ("core", "plain"):
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", method, *sys.argv[1:]],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        results[method] = json.loads(done.stdout.strip().splitlines()[-1])
    n, size = args.acquisitions, args.size
    per100 = 100.0 / n
    print(f"radar core vs plain Welch t-test, {n} acquisitions of {size} x {size} px, VV+VH, 2 orbits")
    print(f"  series in memory: {results['core']['series_gib']:.2f} GiB")
    print(f"  {'':8} {'s':>9} {'s / 100 acq':>12} {'extra GiB':>10} {'changed':>9}")
    for method in ("core", "plain"):
        r = results[method]
        print(
            f"  {method:8} {r['seconds']:9.1f} {r['seconds'] * per100:12.1f} {r['extra_gib']:10.2f}"
            f" {100 * r['changed_share']:8.2f}%"
        )
    c, p = results["core"], results["plain"]
    time_ratio, memory_ratio = c["seconds"] / p["seconds"], c["extra_gib"] / p["extra_gib"]
    print(f"  ratio core / plain: time {time_ratio:.2f}x, extra memory {memory_ratio:.2f}x")
    print(
        "  (changed: share of pixels with a break; the pad is 1 % of the grid, so the rest is false alarms)"
    )


if __name__ == "__main__":
    main()
