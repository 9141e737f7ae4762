"""A small, real per-AOI scan function for batch and brief tests (no imagery, fully deterministic).

It stands in for ``sitewatch.pipeline.scan.scan`` behind ``scan_all(scan_fn=...)``: scenes every
10 days from 2024-01-01, a pad that appears on 2024-03-01 in every AOI, a runway change on
2024-06-15, confidence that grows with the number of scenes after the change, and a PNG
quicklook per alert written into ``workdir``. AOI names steer failures:
``bad-*`` raises a DataError, ``crash-*`` kills its worker process, ``crash-once-*`` kills it
only on the first try (a marker file in ``options['marker_dir']`` remembers). It reports its
scenes to ``progress`` as the real scan does; ``options['sleep_s']`` makes it slower;
``options['probe_dir']`` gets, per AOI, the names of the scratch folders beside its own.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from sitewatch.errors import DataError, NoScenesError
from sitewatch.types import AOI

EPOCH = dt.date(2024, 1, 1)
EVENTS = (
    ("pad", "new_pad", dt.date(2024, 3, 1), (0.2, 0.2, 0.45, 0.4)),
    ("runway", "runway_change", dt.date(2024, 6, 15), (0.55, 0.6, 0.9, 0.7)),
)


def scene_dates(start: dt.date, end: dt.date) -> list[dt.date]:
    days = range(0, (end - EPOCH).days + 1, 10)
    return [EPOCH + dt.timedelta(days=d) for d in days if start <= EPOCH + dt.timedelta(days=d) <= end]


def _png(seed: int) -> bytes:
    import matplotlib.image

    rng = np.random.default_rng(seed)
    img = (rng.random((24, 32, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    matplotlib.image.imsave(buf, img, format="png")
    return buf.getvalue()


def fake_scan(
    aoi: AOI,
    source: str,
    *,
    start: dt.date,
    end: dt.date,
    workdir: Path,
    progress: Any = None,
    **options: Any,
) -> dict[str, Any]:
    name = aoi.name
    if options.get("probe_dir"):
        # the process folders of this run on this machine, as this task starts
        owners = sorted(p.name for p in workdir.parent.parent.iterdir())
        (Path(options["probe_dir"]) / f"{name}.owners").write_text("\n".join(owners))
    if name.startswith("bad"):
        raise DataError(f"scenes of {name} are corrupt (simulated failure)")
    if name.startswith("crash-once"):
        marker = Path(options["marker_dir"]) / f"{name}.tried"
        if not marker.exists():
            marker.write_text("1")
            os._exit(13)
    elif name.startswith("crash"):
        os._exit(13)
    dates = scene_dates(start, end)
    if progress is not None:
        progress("found", len(dates))
    if not dates:
        raise NoScenesError(f"no scene of {name} between {start} and {end}")
    if progress is not None:
        progress("loaded", len(dates))
    if options.get("sleep_s"):
        import time

        time.sleep(float(options["sleep_s"]))
    w, s, e, n = aoi.geometry.bounds
    features = []
    for slug, kind, when, (x0, y0, x1, y1) in EVENTS:
        after = [d for d in dates if d >= when]
        before = [d for d in dates if d < when]
        if not after:
            continue
        aid = f"{name}-{slug}"
        rel = f"quicklooks/{aid}.png"
        (workdir / "quicklooks").mkdir(exist_ok=True)
        (workdir / rel).write_bytes(_png(len(aid)))
        geom = shapely.box(w + x0 * (e - w), s + y0 * (n - s), w + x1 * (e - w), s + y1 * (n - s))
        conf = round(min(0.99, 0.5 + 0.002 * (after[-1] - when).days), 2)
        features.append(
            {
                "type": "Feature",
                "id": aid,
                "geometry": shapely.geometry.mapping(geom),
                "properties": {
                    "id": aid,
                    "aoi": name,
                    "change_type": kind,
                    "detail": f"simulated {kind}",
                    "status": "confirmed" if len(after) >= 3 else "candidate",
                    "confidence": conf,
                    "confidence_parts": {"persistence": conf},
                    "last_unchanged": before[-1].isoformat() if before else None,
                    "first_detected": after[0].isoformat(),
                    "area_m2": 12000.0,
                    "length_m": 150.0,
                    "width_m": 80.0,
                    "orientation_deg": 30.0,
                    "evidence": {"note": f"{len(after)} scenes after the change"},
                    "quicklook": rel,
                    "simulated": True,
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "sitewatch": {
            "version": "test",
            "aoi": name,
            "source": source,
            "simulated": True,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "scenes_used": [
                {"id": f"S{d:%Y%m%d}", "date": d.isoformat(), "clear_fraction": 0.9, "shift_px": [0.0, 0.0]}
                for d in dates
            ],
            "scenes_dropped": [],
        },
        "features": features,
    }


def box_aoi(name: str, lon: float = 40.5, lat: float = 36.7, size_deg: float = 0.01) -> AOI:
    return AOI(
        name=name,
        display_name=name.replace("-", " ").title(),
        geometry=shapely.box(lon, lat, lon + size_deg, lat + size_deg),
        point=(lon + size_deg / 2, lat + size_deg / 2),
    )


fake_scan.accepts_progress = True  # type: ignore[attr-defined]
