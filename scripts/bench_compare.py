"""Benchmark `sitewatch.compare` on the labelled OSCD cities, beside two reference detectors.

Prints per-city and pooled F1 / precision / recall of the class "change" for
  - sitewatch compare (default ChangeParams, no training on the labels),
  - CVA: change-vector magnitude of the raw differences + Otsu threshold,
  - ZMAG: robust per-band z-score magnitude, threshold median + 3 MAD,
plus time per city (compare alone, and with loading), peak memory, and the cloud-mask
scores on ../shared/data/cloudmask.

Usage: python scripts/bench_compare.py [--shared ../shared] [--cities paris,nantes]
Pixels compare marks 255 (no valid data) count as "no change". Columns: t_cmp = wall
seconds of compare (after loading), cpu = its CPU seconds, t_all = with loading both dates.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr

import sitewatch
from sitewatch import CLEAR, CLOUD, SHADOW, pixel_classes

CITIES = ["abudhabi", "beihai", "bordeaux", "cupertino", "hongkong", "nantes", "paris"]
REF_BANDS = ["B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12"]


def scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f, p, r


def counts(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    return np.array([(pred & truth).sum(), (pred & ~truth).sum(), (~pred & truth).sum()], dtype=np.int64)


def cva_otsu(before: xr.DataArray, after: xr.DataArray) -> np.ndarray:
    from skimage.filters import threshold_otsu

    d = after.sel(band=REF_BANDS).values[0].astype(np.float64) - before.sel(band=REF_BANDS).values[0]
    mag = np.sqrt(np.nansum(d**2, axis=0))
    return mag > threshold_otsu(mag[np.isfinite(mag)])


def zmag(before: xr.DataArray, after: xr.DataArray) -> np.ndarray:
    d = after.sel(band=REF_BANDS).values[0].astype(np.float64) - before.sel(band=REF_BANDS).values[0]
    z = []
    for x in d:
        med = np.nanmedian(x)
        z.append((x - med) / (1.4826 * np.nanmedian(np.abs(x - med))))
    mag = np.sqrt(np.nanmean(np.square(z), axis=0))
    med = np.nanmedian(mag)
    return mag > med + 3 * 1.4826 * np.nanmedian(np.abs(mag - med))


def cloudmask_scores(shared: Path) -> None:
    from sitewatch import Scene, stack_to_dataarray

    folder = shared / "data" / "cloudmask"
    print("\nCloud masks vs reference masks (../shared/data/cloudmask)")

    def as_stack(img: np.ndarray, bands: list[str]) -> xr.DataArray:
        import datetime as dt

        from odc.geo.geobox import GeoBox

        h, w = img.shape[:2]
        gbox = GeoBox.from_bbox((0, 0, w * 10, h * 10), "EPSG:32633", resolution=10)
        scene = Scene(
            id="x",
            datetime=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc),
            bands=(),
            provider="x",
            location="x",
        )
        data = np.moveaxis(img, -1, 0)[None].astype(np.float32) * 10000
        return stack_to_dataarray(data, gbox, [scene], bands, provider="bench")

    # ukis-csmask: reference classes 0 = cloud shadow, 1 = water, 2 = snow, 3 = clear land, 4 = cloud
    # (their own test maps 0 -> shadow, 4 -> cloud, 1..3 -> clear; class spectra agree).
    d = np.load(folder / "ukis-csmask_sentinel2.npz")
    stack = as_stack(d["img"], ["B02", "B03", "B04", "B08", "B11", "B12"])
    ref = d["msk"][..., 0]
    ref_cloud, ref_shadow = ref == 4, ref == 0
    t0 = time.perf_counter()
    cls = pixel_classes(stack, method="rules").values[0]
    dt_s = time.perf_counter() - t0
    for name, pred, truth in (
        ("cloud", cls == CLOUD, ref_cloud),
        ("shadow", cls == SHADOW, ref_shadow),
        ("cloud+shadow", cls != CLEAR, ref_cloud | ref_shadow),
    ):
        f, p, r = scores(*counts(pred, truth))
        print(f"  ukis-csmask (6 bands, spectral rules) {name:13s} F1={f:.3f} P={p:.3f} R={r:.3f}")
    acc = ((cls != CLEAR) == (ref_cloud | ref_shadow)).mean()
    print(f"  ukis-csmask overall accuracy invalid/clear = {acc:.3f}  ({dt_s:.2f} s, 512x512)")

    d2 = np.load(folder / "s2cloudless_input_arrays.npz")
    all13 = ["B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12"]
    stack = as_stack(d2["s2_im"][0], all13)
    ref_mask = d2["cl_mask"][0].astype(bool)
    for method in ("s2cloudless", "rules"):
        t0 = time.perf_counter()
        cls = pixel_classes(stack, method=method, buffer_px=0).values[0]
        dt_s = time.perf_counter() - t0
        f, p, r = scores(*counts(cls == CLOUD, ref_mask))
        print(
            f"  s2cloudless sample (13 bands, {method:11s}) cloud F1={f:.3f} P={p:.3f} R={r:.3f}"
            f"  ({dt_s:.2f} s, 856x512; reference = s2cloudless's own full-resolution mask)"
        )


def coregistration_pair(shared: Path) -> None:
    from rasterio.windows import from_bounds

    from sitewatch import estimate_shift

    folder = shared / "data" / "coregistration"
    ref_path = next(folder.glob("ref_*.jp2"))
    tgt_path = next(folder.glob("tgt_*.jp2"))
    with rasterio.open(ref_path) as r, rasterio.open(tgt_path) as t:
        left = max(r.bounds.left, t.bounds.left)
        right = min(r.bounds.right, t.bounds.right)
        bottom = max(r.bounds.bottom, t.bounds.bottom)
        top = min(r.bounds.top, t.bounds.top)
        box = (left, bottom, right, top)
        ref = r.read(1, window=from_bounds(*box, r.transform)).astype(np.float32)
        tgt = t.read(1, window=from_bounds(*box, t.transform)).astype(np.float32)
    n = min(ref.shape[0], tgt.shape[0]), min(ref.shape[1], tgt.shape[1])
    ref, tgt = ref[: n[0], : n[1]], tgt[: n[0], : n[1]]
    ref[ref == 0] = np.nan
    tgt[tgt == 0] = np.nan
    t0 = time.perf_counter()
    s = estimate_shift(ref, tgt, pixel_size=(10.0, 10.0))
    print(
        f"\nCo-registration of the real pair ../shared/data/coregistration ({n[0]}x{n[1]} px overlap): "
        f"dy={s.dy:+.2f} px, dx={s.dx:+.2f} px ({s.dy_m:+.1f} m, {s.dx_m:+.1f} m), tile spread "
        f"{s.tile_spread_px:.2f} px over {s.n_tiles} tiles ({time.perf_counter() - t0:.1f} s)"
    )


def _rss_mib() -> float:
    """Current resident memory of this process in MiB (Linux), NaN elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def city_truth(root: Path, city: str) -> np.ndarray:
    """The labelled change (True) of an OSCD city."""
    with rasterio.open(root / "labels" / city / f"{city}-cm.tif") as src:
        return src.read(1) == 2


def city_pair(root: Path, city: str) -> tuple[xr.DataArray, xr.DataArray]:
    """The two dates of an OSCD city, the second on the first's grid."""
    before = sitewatch.open_scene(root / "images" / city / "imgs_1")
    after = sitewatch.open_scene(root / "images" / city / "imgs_2", geobox=before.odc.geobox)
    return before, after


def compare_f1(root: Path, cities: list[str] | None = None) -> tuple[float, dict[str, float]]:
    """Pooled and per-city F1 of ``sitewatch.compare`` with its defaults (bench_scan reports it)."""
    total = np.zeros(3, np.int64)
    per_city = {}
    for city in cities or CITIES:
        before, after = city_pair(root, city)
        c = counts(sitewatch.compare(before, after).mask.values == 1, city_truth(root, city))
        total += c
        per_city[city] = scores(*c)[0]
    return scores(*total)[0], per_city


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--cities", default=",".join(CITIES))
    args = ap.parse_args()
    shared = Path(args.shared)
    root = shared / "data" / "oscd"
    warnings.simplefilter("ignore", sitewatch.SitewatchWarning)
    totals = {k: np.zeros(3, np.int64) for k in ("compare", "cva_otsu", "zmag")}
    print(f"sitewatch {sitewatch.__version__}: compare vs references on OSCD ({root})")
    print(
        f"{'city':10s} {'size':>9s} | {'compare F1/P/R':>17s} | {'CVA+Otsu F1/P/R':>17s} | "
        f"{'z-MAD F1/P/R':>17s} | {'t_cmp':>6s} {'cpu':>6s} {'t_all':>6s} | shift px (dy,dx)"
    )
    times: list[tuple[float, float, int, float]] = []
    base_rss = float("nan")
    for city in args.cities.split(","):
        truth = city_truth(root, city)
        t0 = time.perf_counter()
        before, after = city_pair(root, city)
        if not times:
            # one-time costs (imports, LightGBM model load) are paid on a small crop, untimed
            crop = {"y": slice(0, 256), "x": slice(0, 256)}
            sitewatch.compare(before.isel(crop), after.isel(crop))
            base_rss = _rss_mib()
        t1 = time.perf_counter()
        c1 = time.process_time()
        result = sitewatch.compare(before, after)
        t2 = time.perf_counter()
        cpu = time.process_time() - c1
        times.append((t2 - t1, t2 - t0, truth.size, cpu))
        pred = result.mask.values == 1
        row = []
        for name, p in (
            ("compare", pred),
            ("cva_otsu", cva_otsu(before, after)),
            ("zmag", zmag(before, after)),
        ):
            c = counts(p, truth)
            totals[name] += c
            f, pr, rc = scores(*c)
            row.append(f"{f:.3f}/{pr:.2f}/{rc:.2f}")
        h, w = truth.shape
        print(
            f"{city:10s} {h:4d}x{w:<4d} | {row[0]:>17s} | {row[1]:>17s} | {row[2]:>17s} | "
            f"{t2 - t1:6.2f} {cpu:6.2f} {t2 - t0:6.2f} | ({result.shift.dy:+.2f},{result.shift.dx:+.2f})"
        )
    pooled = [scores(*totals[k]) for k in ("compare", "cva_otsu", "zmag")]
    print(
        "{:10s} {:9s} | {:>17s} | {:>17s} | {:>17s}".format(
            "POOLED", "", *(f"{f:.3f}/{p:.2f}/{r:.2f}" for f, p, r in pooled)
        )
    )
    mpx = sum(t[2] for t in times) / 1e6
    print(
        f"\ncompare time: {sum(t[0] for t in times):.2f} s for {mpx:.2f} Mpx "
        f"({sum(t[0] for t in times) / mpx:.2f} s per 1000x1000 px; target < 2 s); "
        f"with loading {sum(t[1] for t in times) / mpx:.2f} s per Mpx; CPU time of compare "
        f"{sum(t[3] for t in times) / mpx:.2f} s per Mpx (all threads; wall time suffers when other jobs "
        f"share the {os.cpu_count()} cores, load average now {os.getloadavg()[0]:.1f})"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak memory: {rss:.0f} MiB max RSS of the whole benchmark process (largest city run, "
        f"13 bands, both dates and the reference detectors held); {base_rss:.0f} MiB resident after "
        "imports and the warm-up, so compare itself peaks at about the difference"
    )
    print(f"F1 ratio compare / best reference = {pooled[0][0] / max(pooled[1][0], pooled[2][0]):.2f}")
    cloudmask_scores(shared)
    coregistration_pair(shared)


if __name__ == "__main__":
    main()
