"""Builders for alerts FeatureCollections in the schema of ``sitewatch scan`` (issue 4), with known dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any


def scenes_every(
    start: str, end: str, *, every_days: int = 10, clear: float = 0.95, cloudy: Iterable[tuple[str, str]] = ()
) -> list[dict[str, Any]]:
    """Scenes every ``every_days``; those inside a ``cloudy`` (start, end) range get clear_fraction 0.05."""
    d0, d1 = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    spans = [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in cloudy]
    out = []
    day = d0
    while day <= d1:
        frac = 0.05 if any(a <= day <= b for a, b in spans) else clear
        out.append(
            {"id": f"S2_{day:%Y%m%d}", "date": day.isoformat(), "clear_fraction": frac, "shift_px": 0.1}
        )
        day += dt.timedelta(days=every_days)
    return out


def alert(
    id: str,
    change_type: str,
    last_unchanged: str | None,
    first_detected: str,
    *,
    status: str = "confirmed",
    confidence: float = 0.85,
    area_m2: float | None = None,
    length_m: float | None = None,
    width_m: float | None = None,
    aoi: str = "qasrak",
) -> dict[str, Any]:
    props = {
        "id": id,
        "aoi": aoi,
        "change_type": change_type,
        "detail": "",
        "status": status,
        "confidence": confidence,
        "confidence_parts": {"magnitude": confidence},
        "last_unchanged": last_unchanged,
        "first_detected": first_detected,
        "area_m2": area_m2,
        "length_m": length_m,
        "width_m": width_m,
        "orientation_deg": 30.0,
        "evidence": {"indices": ["NDBI"], "dates": [last_unchanged, first_detected], "scene_ids": []},
        "quicklook": None,
        "simulated": True,
    }
    geom = {
        "type": "Polygon",
        "coordinates": [[[40.51, 36.70], [40.512, 36.70], [40.512, 36.702], [40.51, 36.70]]],
    }
    return {"type": "Feature", "geometry": geom, "properties": props}


def collection(
    aoi: str,
    alerts: Sequence[dict[str, Any]],
    scenes: Sequence[dict[str, Any]],
    *,
    start: str,
    end: str,
) -> dict[str, Any]:
    used = [s for s in scenes if s["clear_fraction"] >= 0.3]
    dropped = [
        {"id": s["id"], "date": s["date"], "clear_fraction": s["clear_fraction"], "reason": "cloudy"}
        for s in scenes
        if s["clear_fraction"] < 0.3
    ]
    # Cloudy scenes are kept in scenes_used too (with their low clear fraction) so the linker's own
    # threshold decides; this is what a scan that keeps partly clear scenes writes.
    return {
        "type": "FeatureCollection",
        "features": [dict(a, properties=dict(a["properties"], aoi=aoi)) for a in alerts],
        "sitewatch": {
            "version": "1",
            "aoi": aoi,
            "source": "hand-made test collection",
            "simulated": True,
            "start": start,
            "end": end,
            "scenes_used": list(scenes) if dropped else used,
            "scenes_dropped": dropped,
        },
    }
