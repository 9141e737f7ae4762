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

Later rounds add the accuracy part (radar-only detection and dating on simulated sites).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import ndimage, stats

from sitewatch.core.sar import SarParams, detect_sar_breaks, orbit_groups, power_to_db, reference_windows


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--acquisitions", type=int, default=100)
    parser.add_argument("--size", type=int, default=1000, help="side of the square grid, pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", choices=("core", "plain"), help=argparse.SUPPRESS)
    args = parser.parse_args()
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
