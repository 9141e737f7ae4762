"""Benchmark of ``sitewatch scan`` on an independent world (not a test).

The sites come from ``scripts/independent_world.py``, written apart from ``sitewatch.simulate``
(other spectra, layouts, crop calendars, sky and product conventions, no shared code), so
the figures say how the scan does on a world it was not tuned on. Each site is drawn from a
seed, written as an L2A-like series of GeoTIFFs, scanned through the public API exactly as a
user would (``sitewatch.scan(aoi.geojson, "local:scenes", start=, end=)``) and scored here,
with a matcher of its own:

- an event is *found* when an alert overlaps its outline by at least 30 % of the smaller of
  the two; *typed* when one such alert has the event's type;
- *dating*: the alert's ``first_detected`` against the event's onset and completion, in days
  and in clear revisits (dates on which at least 80 % of the outline was clear); "<= 1 rev"
  counts alerts first detected no earlier than the onset and at most one clear revisit after
  the completion;
- *size*: area for pads and vegetation losses, added length for runway changes,
  |fraction - truth| for evacuations;
- alerts matching no event are false: key ones (``new_pad``, ``runway_change``,
  ``evacuation``) and stray ``other`` are given per AOI-year.

    python scripts/bench_independent.py --sites 12 --seed0 0 --jobs 2
    python scripts/bench_independent.py --workdir /tmp/indep   # keeps the sites: the next run only scans
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import shape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import independent_world

import sitewatch

KEY = ("new_pad", "runway_change", "evacuation")
TYPES = ("new_pad", "runway_change", "evacuation", "vegetation_loss")


def _clear_between(clear: list[str], lo: dt.date, hi: dt.date) -> int:
    return sum(1 for d in clear if lo < dt.date.fromisoformat(d) < hi)


def score_site(alerts: list[Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Match alerts (WGS84 geometries) to the truth's events (outlines in its CRS)."""
    to_crs = Transformer.from_crs("EPSG:4326", truth["crs"], always_xy=True).transform
    geoms = [shapely.transform(a.geometry, to_crs, interleaved=False) for a in alerts]
    used: set[int] = set()
    events = []
    for ev in truth["events"]:
        outline = shape(ev["outline"])
        onset, done = dt.date.fromisoformat(ev["onset"]), dt.date.fromisoformat(ev["completion"])
        matches = []
        for i, g in enumerate(geoms):
            inter = g.intersection(outline).area
            if inter >= 0.3 * min(g.area, outline.area):
                matches.append(i)
        used.update(matches)
        row: dict[str, Any] = {"type": ev["change_type"], "onset": ev["onset"], "found": bool(matches)}
        typed = [i for i in matches if alerts[i].change_type == ev["change_type"]]
        row["typed"] = bool(typed)
        row["got"] = sorted({alerts[i].change_type for i in matches})
        best = typed or matches
        if best:
            a = alerts[min(best, key=lambda i: alerts[i].first_detected or dt.date.max)]
            fd = a.first_detected
            if fd is not None:
                row["days_late"] = (fd - done).days
                row["early"] = fd < onset
                row["revisits_late"] = _clear_between(ev["clear_dates"], done, fd) if fd > done else 0
            if ev["change_type"] == "runway_change":
                got = a.added_length_m if a.added_length_m is not None else a.length_m
                row["size_err"] = abs(got - ev["added_length_m"]) / ev["added_length_m"]
            elif ev["change_type"] == "evacuation":
                if a.fraction_affected is not None:
                    row["size_err"] = abs(a.fraction_affected - ev["fraction"])
            else:
                row["size_err"] = abs(a.area_m2 - ev["area_m2"]) / ev["area_m2"]
        events.append(row)
    false = [alerts[i].change_type for i in range(len(alerts)) if i not in used]
    precision = {}
    for t in TYPES:
        of_type = [i for i, a in enumerate(alerts) if a.change_type == t]
        right = [
            i
            for i in of_type
            if any(
                ev["change_type"] == t and _overlaps(geoms[i], shape(ev["outline"])) for ev in truth["events"]
            )
        ]
        precision[t] = (len(right), len(of_type))
    return {"events": events, "false": false, "precision": precision}


def _overlaps(g: Any, outline: Any) -> bool:
    return g.intersection(outline).area >= 0.3 * min(g.area, outline.area)


def run_site(seed: int, workdir: str, size_px: int, keep: bool = False) -> dict[str, Any]:
    """Draw, write, scan and score one site (in a worker process)."""
    folder = Path(workdir) / f"independent{seed}_{size_px}"
    plan = independent_world.draw_site(seed, size_px=size_px)
    t0 = time.perf_counter()
    done = folder / "truth.json"
    if done.is_file() and keep:  # written by an earlier run into the same --workdir: the same seed's site
        truth = json.loads(done.read_text())
    else:
        shutil.rmtree(folder, ignore_errors=True)
        truth = independent_world.write_site(plan, folder)  # truth.json is written last
    t1 = time.perf_counter()
    out: dict[str, Any] = {"seed": seed, "notes": plan.notes, "scl": plan.scl, "write_s": t1 - t0}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = sitewatch.scan(
                str(folder / "aoi.geojson"), f"local:{folder / 'scenes'}", start=plan.start, end=plan.end
            )
        alerts = list(result.alerts)
    except sitewatch.SitewatchError as exc:
        out["failed"] = str(exc).splitlines()[0][:200]
        alerts = []
    out["scan_s"] = time.perf_counter() - t1
    out["years"] = (plan.end - plan.start).days / 365.25
    out["score"] = score_site(alerts, truth)
    out["alerts"] = [(a.change_type, str(a.first_detected), round(a.area_m2)) for a in alerts]
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _median_worst(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f}/{max(xs):.2f}" if xs else "-"


def summarize(results: list[dict[str, Any]]) -> None:
    """Print the per-type table and the false alerts per AOI-year."""
    print(
        f"{'type':<16} {'events':>6} {'recall':>6} {'typed':>6} {'precis':>6} {'<=1 rev':>7} "
        f"{'days late':>10} {'size err':>10}"
    )
    years = sum(r["years"] for r in results)
    for t in TYPES:
        rows = [e for r in results for e in r["score"]["events"] if e["type"] == t]
        if not rows:
            continue
        n = len(rows)
        found = sum(e["found"] for e in rows)
        typed = sum(e["typed"] for e in rows)
        right, of_type = (sum(r["score"]["precision"][t][k] for r in results) for k in (0, 1))
        dated = [e for e in rows if "days_late" in e]
        in_time = sum(1 for e in dated if not e["early"] and e["revisits_late"] <= 1)
        late = [e["days_late"] for e in dated]
        sizes = [e["size_err"] for e in rows if "size_err" in e]
        print(
            f"{t:<16} {n:>6} {found / n:>6.2f} {typed / n:>6.2f} "
            f"{(right / of_type if of_type else float('nan')):>6.2f} {in_time / n:>7.2f} "
            f"{(f'{statistics.median(late):.0f}/{max(late)}' if late else '-'):>10} "
            f"{_median_worst(sizes):>10}"
        )
    false = [f for r in results for f in r["score"]["false"]]
    key = sum(1 for f in false if f in KEY)
    other = sum(1 for f in false if f == "other")
    print(
        f"false alerts {len(false)} over {years:.1f} AOI-years = {len(false) / years:.2f} per AOI-year; "
        f"false key alerts {key} = {key / years:.2f}; stray other {other} = {other / years:.2f} per AOI-year"
    )
    print("false alerts by type: " + ", ".join(f"{t} {false.count(t)}" for t in sorted(set(false))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=12)
    ap.add_argument("--seed0", type=int, default=0)
    ap.add_argument("--size-px", type=int, default=160)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument(
        "--workdir",
        default=None,
        help="where the sites are written and kept, to be scanned again by later runs without writing them "
        "anew (a temporary folder, removed at the end, by default)",
    )
    ap.add_argument("--quiet", action="store_true", help="only the table, not each site's events")
    args = ap.parse_args(argv)
    keep = args.workdir is not None
    workdir = args.workdir or tempfile.mkdtemp(prefix="sitewatch-independent-")
    seeds = list(range(args.seed0, args.seed0 + args.sites))
    print(
        f"== independent world: {args.sites} sites (seeds {seeds[0]}-{seeds[-1]}), {args.size_px} px, "
        f"sitewatch {sitewatch.__version__} from {Path(sitewatch.__file__).parent}; "
        f"load {os.getloadavg()[0]:.1f} =="
    )
    t0 = time.perf_counter()
    if args.jobs > 1:
        import multiprocessing

        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(
                pool.map(
                    run_site, seeds, [workdir] * len(seeds), [args.size_px] * len(seeds), [keep] * len(seeds)
                )
            )
    else:
        results = [run_site(s, workdir, args.size_px, keep) for s in seeds]
    for r in results:
        if args.quiet:
            continue
        print(
            f"site {r['seed']} ({', '.join(r['notes'])}, {'SCL' if r['scl'] else 'no SCL'}): "
            f"write {r['write_s']:.0f} s, scan {r['scan_s']:.0f} s"
            + (f"; REFUSED {r['failed']}" if r.get("failed") else "")
        )
        for e in r["score"]["events"]:
            status = "ok" if e["typed"] else (f"WRONG TYPE {e['got']}" if e["found"] else "MISSED")
            print(
                f"   {e['onset']} {e['type']:<16} {status:<36} late {e.get('days_late', '-')} d"
                f" ({e.get('revisits_late', '-')} clear revisits{', EARLY' if e.get('early') else ''})"
                f"  size err {round(e['size_err'], 2) if 'size_err' in e else '-'}"
            )
        if r["score"]["false"]:
            print("   false: " + ", ".join(r["score"]["false"]))
    print()
    summarize(results)
    print(f"{time.perf_counter() - t0:.0f} s wall; load {os.getloadavg()[0]:.1f}")
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
