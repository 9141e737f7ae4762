"""Scoring a scan against a simulated site's truth."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyproj
import shapely

from sitewatch.types import WGS84

__all__ = ["score_alerts"]


def score_alerts(
    alerts: Mapping[str, Any], truth: Mapping[str, Any], *, min_overlap: float = 0.2
) -> dict[str, Any]:
    """Compare an alerts FeatureCollection with a simulator's ``truth.geojson``.

    A truth event is found when an alert covers at least ``min_overlap`` of it (or it
    covers that share of the alert). Alerts matching no event are false alerts.

    Parameters
    ----------
    alerts : mapping
        The alerts FeatureCollection (as written by ``sitewatch scan``).
    truth : mapping
        The truth FeatureCollection (as written by :func:`simulate_site`).
    min_overlap : float

    Returns
    -------
    dict
        ``events``: one record per expected event (found, type_ok, date_error_days,
        area_error, length_error, alert id); ``false_alerts``: ids and types of alerts
        matching nothing; ``recall``, ``type_accuracy``, ``n_false``.
    """
    from shapely.geometry import shape

    crs = truth.get("sitewatch_simulation", {}).get("crs") or "EPSG:3857"
    tr = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)

    def metric(geom_doc: Any) -> Any:
        g = shape(geom_doc)
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    feats = [(f, metric(f["geometry"])) for f in alerts.get("features", []) if f.get("geometry")]
    used: set[int] = set()
    events = []
    for t in truth.get("features", []):
        tp = t["properties"]
        if not tp.get("expected_alert"):
            continue
        tg = metric(t["geometry"])
        best, best_ov = None, 0.0
        for i, (_f, g) in enumerate(feats):
            inter = g.intersection(tg).area
            ov = max(inter / max(tg.area, 1e-9), inter / max(g.area, 1e-9))
            if ov > best_ov:
                best, best_ov = i, ov
        rec: dict[str, Any] = {
            "name": tp.get("name"),
            "change_type": tp["change_type"],
            "date": tp["date"],
            "found": best is not None and best_ov >= min_overlap,
        }
        if rec["found"] and best is not None:
            used.add(best)
            ap = feats[best][0]["properties"]
            rec["alert_id"] = ap.get("id")
            rec["alert_type"] = ap.get("change_type")
            rec["type_ok"] = ap.get("change_type") == tp["change_type"]
            fd = ap.get("first_detected")
            if fd:
                rec["date_error_days"] = (dt.date.fromisoformat(fd) - dt.date.fromisoformat(tp["date"])).days
            if tp["change_type"] in ("new_pad", "earthworks", "runway_change") and tp.get("area_m2"):
                rec["area_error"] = round(abs(ap.get("area_m2", 0) - tp["area_m2"]) / tp["area_m2"], 3)
            want_len = tp.get("added_length_m") or tp.get("length_m")
            got_len = (ap.get("evidence") or {}).get("added_length_m") or ap.get("length_m")
            if want_len and got_len and tp["change_type"] != "evacuation":
                rec["length_error"] = round(abs(got_len - want_len) / want_len, 3)
            if tp["change_type"] == "evacuation":
                rec["fraction_affected"] = (ap.get("evidence") or {}).get("fraction_affected")
                rec["fraction_truth"] = tp.get("fraction_affected")
        events.append(rec)
    false = [
        {"id": f["properties"].get("id"), "change_type": f["properties"].get("change_type")}
        for i, (f, _) in enumerate(feats)
        if i not in used
    ]
    # an alert overlapping an already matched event (the same object split) is not an event found
    n = len(events)
    return {
        "events": events,
        "false_alerts": false,
        "recall": round(sum(e["found"] for e in events) / n, 3) if n else None,
        "type_accuracy": round(sum(bool(e.get("type_ok")) for e in events) / n, 3) if n else None,
        "n_false": len(false),
    }
