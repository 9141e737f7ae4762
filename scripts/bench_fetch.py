"""Benchmark: fetch and cache a 2-year Sentinel-2 series for a 5 x 5 km AOI from the loopback STAC API.

Prints, side by side:
- time to search, fetch and cache the series (cold cache), and the rerun time;
- bytes the server sent for pixels vs the bytes of the AOI window (uncompressed) and vs
  the whole COGs the items point to (windowed reads must not pull whole tiles);
- HTTP requests for pixels on the rerun (must be 0: no pixel I/O).

Usage: python scripts/bench_fetch.py [--tile-px 3000] [--days 730] [--revisit 5] [--aoi-km 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "providers"))

import numpy as np  # noqa: E402
import pyproj  # noqa: E402
import shapely  # noqa: E402
from servers import StacServer, make_scene  # noqa: E402

from sitewatch import AOI, cache_entries, fetch_series  # noqa: E402

BANDS = ["B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile-px", type=int, default=3000, help="10 m pixels per side of each COG tile")
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--revisit", type=int, default=5, help="days between acquisitions")
    parser.add_argument("--aoi-km", type=float, default=5.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_fetch_"))
    t0 = time.perf_counter()
    tile = make_scene(work / "tiles", "2024-01-01", seed=3, shape10=(args.tile_px, args.tile_px))
    cog_bytes = {b: p.stat().st_size for b, p in tile.files.items()}
    print(f"wrote one {args.tile_px}x{args.tile_px} px tile of COGs in {time.perf_counter() - t0:.1f} s")

    server = StacServer().start()
    start = dt.date(2023, 1, 1)
    for day in range(0, args.days, args.revisit):
        when = dt.datetime.combine(start + dt.timedelta(days=day), dt.time(8, 3, 11), tzinfo=dt.timezone.utc)
        server.add_scene(tile, alias=f"S2B_37SBA_{when:%Y%m%d}_0_L2A", when=when, cloud_cover=10.0)

    # A 5 x 5 km AOI in the middle of the tile.
    left, bottom, right, top = tile.bounds
    cx, cy = (left + right) / 2, (bottom + top) / 2
    half = args.aoi_km * 500.0
    box = shapely.box(cx - half, cy - half, cx + half, cy + half)
    to_wgs84 = pyproj.Transformer.from_crs(tile.crs, "EPSG:4326", always_xy=True)
    geom = shapely.transform(box, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))
    aoi = AOI(name="bench", display_name="bench", geometry=geom, point=(geom.centroid.x, geom.centroid.y))

    cache = work / "cache"
    source = f"stac:{server.url}#sentinel-2-l2a"
    period = {"start": start, "end": start + dt.timedelta(days=args.days - 1)}

    t0 = time.perf_counter()
    report = fetch_series(aoi, source=source, bands=BANDS, cache_dir=cache, **period)
    cold_s = time.perf_counter() - t0
    served = server.file_bytes_served
    pixel_requests = len(server.requests("/files/"))

    (row,) = cache_entries(aoi_name="bench", cache_dir=cache)
    h, w = (int(v) for v in row["shape"].split("x"))
    # Uncompressed bytes of the AOI window at native resolution, per scene.
    window = sum(
        (h * w if b in ("B02", "B03", "B04", "B08") else (h // 2) * (w // 2)) * 2 for b in BANDS[:-1]
    )
    window += (h // 2) * (w // 2)  # SCL, uint8 at 20 m
    window_total = window * report.n_found
    whole_total = sum(cog_bytes.values()) * report.n_found

    server.reset_counts()
    t0 = time.perf_counter()
    again = fetch_series(aoi, source=source, bands=BANDS, cache_dir=cache, **period)
    warm_s = time.perf_counter() - t0

    print(f"series: {report.n_found} scenes over {args.days} days, AOI {args.aoi_km:g} x {args.aoi_km:g} km ")
    print(
        f"({h}x{w} px at 10 m), {len(BANDS)} bands, tiles {args.tile_px} px, "
        f"cache {row['bytes'] / 1e6:.1f} MB"
    )
    print()
    print(f"{'':38}{'cold (fetch+cache)':>20}{'rerun':>12}")
    print(f"{'wall time (s)':38}{cold_s:>20.2f}{warm_s:>12.2f}")
    print(f"{'scenes fetched':38}{report.scenes_fetched:>20}{again.scenes_fetched:>12}")
    print(f"{'pixel HTTP requests':38}{pixel_requests:>20}{len(server.requests('/files/')):>12}")
    print(f"{'pixel bytes served (MB)':38}{served / 1e6:>20.1f}{server.file_bytes_served / 1e6:>12.1f}")
    print(f"{'AOI window bytes, uncompressed (MB)':38}{window_total / 1e6:>20.1f}")
    print(f"{'whole COGs of those items (MB)':38}{whole_total / 1e6:>20.1f}")
    print()
    print(f"served / AOI window    = {served / window_total:.2f}")
    print(f"served / whole COGs    = {served / whole_total:.3f}")
    print(f"rerun / cold wall time = {warm_s / cold_s:.3f}")
    print(f"cold seconds per scene = {cold_s / report.n_found:.3f}")
    server.stop()


if __name__ == "__main__":
    main()
