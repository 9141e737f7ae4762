"""Scoring a scan against a simulated site's truth, one site at a time and over many.

:func:`score_alerts` matches alerts to the truth's expected events (overlap either way),
and says per event whether it was found, typed right, how late it was dated (days, and
clear revisits when the truth or the caller gives the dates the event's footprint was
clearly seen), how far off its size was (area for pads, earthworks and vegetation losses,
added length for runway changes, the share of structures removed for evacuations), and per
alert matching nothing whether it was a key type (``new_pad``, ``runway_change``,
``evacuation``) or a stray ``other``, and which distractor (a harvested or ploughed field,
a grove) it lies on. :func:`summarize_scores` pools many sites into per-type figures.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely

from sitewatch.types import WGS84

__all__ = [
    "KEY_TYPES",
    "TypeSummary",
    "clear_dates_from_scl",
    "revisit_error",
    "score_alerts",
    "summarize_scores",
]

#: The change types a user acts on: an alert of one of these matching nothing is a false key alert.
KEY_TYPES: tuple[str, ...] = ("new_pad", "runway_change", "evacuation")
#: Types whose size is an area.
AREA_TYPES: tuple[str, ...] = ("new_pad", "earthworks", "runway_change", "vegetation_loss")
#: Properties (top level or in ``evidence``) an alert may carry its completion date in.
COMPLETION_KEYS: tuple[str, ...] = ("completed", "completion_date", "last_change")


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return dt.date.fromisoformat(str(value)[:10])


def revisit_error(event_date: str, detected: str | None, clear_dates: Sequence[str]) -> int | None:
    """Lateness of ``detected`` in clear revisits (0: the first clear scene on or after the event).

    Negative when detected before the event: minus the clear scenes between detection and event.

    Examples
    --------
    >>> revisit_error("2024-05-03", "2024-05-13", ["2024-05-01", "2024-05-08", "2024-05-13"])
    1
    >>> revisit_error("2024-05-03", "2024-04-30", ["2024-05-01", "2024-05-08"])
    -1
    """
    if detected is None:
        return None
    after = [d for d in clear_dates if d >= event_date]
    if detected < event_date:
        return -sum(1 for d in clear_dates if detected <= d < event_date) or -1
    return sum(1 for d in after if d < detected)


def clear_dates_from_scl(
    scenes_dir: str | Path, truth: Mapping[str, Any], *, clear_share: float = 0.5
) -> dict[str, list[str]]:
    """Per expected truth event, the dates of scenes whose SCL is clear over ``clear_share`` of it.

    For truths without their own clear dates (the original world's ``basic`` truth): clear
    as sitewatch reads the SCL, so thin cloud edges the SCL misses count as clear.
    """
    import rasterio
    from rasterio.features import rasterize
    from shapely.geometry import shape

    from sitewatch.core.masks import CLEAR, scl_classes

    files = sorted(Path(scenes_dir).glob("*.tif"))
    dates = {s["id"]: s["date"] for s in truth.get("sitewatch_simulation", {}).get("scenes", [])}
    out: dict[str, list[str]] = {}
    with rasterio.open(files[0]) as src:
        crs, transform, shp = src.crs, src.transform, (src.height, src.width)
    tr = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
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
            if "SCL" not in src.descriptions:
                continue
            clear = scl_classes(src.read(list(src.descriptions).index("SCL") + 1)) == CLEAR
        day = dates.get(path.stem)
        if day is None:
            continue
        for name, m in feet.items():
            if clear[m].mean() >= clear_share:
                out[name].append(day)
    return out


def _completion_of(props: Mapping[str, Any]) -> dt.date | None:
    evidence = props.get("evidence") or {}
    for key in COMPLETION_KEYS:
        value = props.get(key) or evidence.get(key)
        if value:
            return _date(value)
    return None


def _sizes(rec: dict[str, Any], tp: Mapping[str, Any], ap: Mapping[str, Any]) -> None:
    """Size errors of a found event (in place): area, length, evacuated fraction."""
    kind = tp["change_type"]
    if kind in AREA_TYPES and tp.get("area_m2"):
        rec["area_error"] = round(abs(ap.get("area_m2", 0) - tp["area_m2"]) / tp["area_m2"], 3)
    want_len = tp.get("added_length_m") or tp.get("length_m")
    got_len = (ap.get("evidence") or {}).get("added_length_m") or ap.get("length_m")
    if want_len and got_len and kind != "evacuation":
        rec["length_error"] = round(abs(got_len - want_len) / want_len, 3)
    if kind == "evacuation":
        rec["fraction_affected"] = (ap.get("evidence") or {}).get("fraction_affected")
        rec["fraction_truth"] = tp.get("fraction_affected")
        if rec["fraction_affected"] is not None and rec["fraction_truth"] is not None:
            rec["fraction_error"] = round(abs(rec["fraction_affected"] - rec["fraction_truth"]), 3)
    # the size a user reads for the type: added length for runways, share for evacuations
    if kind == "runway_change":
        rec["size_error"] = rec.get("length_error")
    elif kind == "evacuation":
        rec["size_error"] = rec.get("fraction_error")
    else:
        rec["size_error"] = rec.get("area_error")


def _dating(
    rec: dict[str, Any], tp: Mapping[str, Any], ap: Mapping[str, Any], clear: Sequence[str] | None
) -> None:
    """Dating errors of a found event (in place): days, clear revisits, completion."""
    fd = ap.get("first_detected")
    if fd:
        rec["date_error_days"] = (dt.date.fromisoformat(fd) - dt.date.fromisoformat(tp["date"])).days
        if clear is not None:
            rec["revisits_late"] = revisit_error(tp["date"], str(fd)[:10], clear)
    want_end = _date(tp.get("completion") or tp.get("end"))
    got_end = _completion_of(ap)
    if want_end and got_end:
        rec["completion_error_days"] = (got_end - want_end).days


def score_alerts(
    alerts: Mapping[str, Any],
    truth: Mapping[str, Any],
    *,
    min_overlap: float = 0.2,
    clear_dates: Mapping[str, Sequence[str]] | None = None,
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
    clear_dates : mapping, optional
        Per event name, the dates its footprint was clearly seen (for the lateness in clear
        revisits); by default the truth's own ``clear_dates`` when it has them.

    Returns
    -------
    dict
        ``events``: one record per expected event (found, type_ok, date_error_days,
        revisits_late, completion_error_days, area_error, length_error, fraction_error,
        size_error, alert id); ``false_alerts``: ids and types of alerts matching nothing,
        whether they are key types, the distractor they lie on; ``recall``,
        ``type_accuracy``, ``n_false``, ``n_false_key``, ``n_stray_other``, ``years``,
        ``alerts_by_type``.
    """
    from shapely.geometry import shape

    meta = truth.get("sitewatch_simulation", {})
    crs = meta.get("crs") or "EPSG:3857"
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
            clear = (clear_dates or {}).get(tp.get("name")) if clear_dates else tp.get("clear_dates")
            _dating(rec, tp, ap, clear)
            _sizes(rec, tp, ap)
        events.append(rec)
    false = _false_alerts(feats, used, truth, metric)
    # an alert overlapping an already matched event (the same object split) is not an event found
    n = len(events)
    by_type: dict[str, int] = {}
    for f, _ in feats:
        kind = str(f["properties"].get("change_type"))
        by_type[kind] = by_type.get(kind, 0) + 1
    return {
        "events": events,
        "false_alerts": false,
        "recall": round(sum(e["found"] for e in events) / n, 3) if n else None,
        "type_accuracy": round(sum(bool(e.get("type_ok")) for e in events) / n, 3) if n else None,
        "n_false": len(false),
        "n_false_key": sum(f["key"] for f in false),
        "n_stray_other": sum(f["change_type"] == "other" for f in false),
        "years": _years(meta),
        "alerts_by_type": by_type,
    }


def _years(meta: Mapping[str, Any]) -> float | None:
    d0, d1 = _date(meta.get("start")), _date(meta.get("end"))
    if d0 is None or d1 is None:
        return None
    return round((d1 - d0).days / 365.25, 3)


#: A false alert is put down to a field event within this many days of its first detection.
ATTRIBUTION_DAYS = 60


def _false_alerts(
    feats: Sequence[tuple[Any, Any]], used: set[int], truth: Mapping[str, Any], metric: Any
) -> list[dict[str, Any]]:
    """Alerts matching no expected event, each with the distractor it lies on (if any).

    An alert lying mostly (30 %) on a field is put down to that field's harvest, ploughing,
    burning or greening nearest its first detection (within :data:`ATTRIBUTION_DAYS`), else
    to the field; on a grove, to the grove.
    """
    distractors = [
        (t["properties"], metric(t["geometry"]))
        for t in truth.get("features", [])
        if not t["properties"].get("expected_alert") and t["geometry"]["type"] != "Point"
    ]
    out = []
    for i, (f, g) in enumerate(feats):
        if i in used:
            continue
        p = f["properties"]
        record: dict[str, Any] = {"id": p.get("id"), "change_type": p.get("change_type")}
        record["key"] = p.get("change_type") in KEY_TYPES
        under = [dp for dp, dg in distractors if g.intersection(dg).area / max(g.area, 1e-9) >= 0.3]
        record["on"] = _attribution(under, _date(p.get("first_detected")))
        out.append(record)
    return out


def _attribution(under: Sequence[Mapping[str, Any]], detected: dt.date | None) -> str | None:
    if not under:
        return None
    if any(dp["change_type"] == "grove" for dp in under):
        return "grove"
    if detected is not None:
        dated = []
        for dp in under:
            day = _date(dp.get("date"))
            if day is not None:
                dated.append((abs((day - detected).days), dp))
        if dated:
            gap, nearest = min(dated, key=lambda x: x[0])
            if gap <= ATTRIBUTION_DAYS:
                return str(nearest["change_type"]).replace("field_", "field ")
    return "field"


@dataclass
class TypeSummary:
    """Pooled figures for one change type over many sites."""

    events: int = 0
    found: int = 0
    typed_ok: int = 0
    alerts: int = 0  # alerts given this type
    revisits: list[int] = field(default_factory=list)
    days: list[int] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    completion_days: list[int] = field(default_factory=list)

    @property
    def recall(self) -> float | None:
        """Share of events found (any type)."""
        return self.found / self.events if self.events else None

    @property
    def typing(self) -> float | None:
        """Share of found events given the right type."""
        return self.typed_ok / self.found if self.found else None

    @property
    def precision(self) -> float | None:
        """Share of alerts of this type that are an event of this type."""
        return self.typed_ok / self.alerts if self.alerts else None

    @staticmethod
    def median_max(values: Sequence[float], *, absolute: bool = False) -> tuple[float, float] | None:
        """Median and worst of ``values`` (of their magnitudes with ``absolute``)."""
        if not values:
            return None
        v = [abs(x) for x in values] if absolute else list(values)
        return statistics.median(v), max(v, key=abs)


def summarize_scores(scores: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Pool :func:`score_alerts` results of many sites.

    Returns
    -------
    dict
        ``types``: per expected change type a :class:`TypeSummary`; ``false_key``,
        ``stray_other`` and ``false_total`` counts; ``aoi_years``; ``false_on``: counts of
        false alerts by the distractor they lie on.
    """
    types: dict[str, TypeSummary] = {}
    aoi_years = 0.0
    false_key = stray = total = 0
    on: dict[str, int] = {}
    for s in scores:
        aoi_years += s.get("years") or 0.0
        for e in s["events"]:
            t = types.setdefault(e["change_type"], TypeSummary())
            t.events += 1
            t.found += bool(e["found"])
            t.typed_ok += bool(e.get("type_ok"))
            if e.get("revisits_late") is not None:
                t.revisits.append(e["revisits_late"])
            if e.get("date_error_days") is not None:
                t.days.append(e["date_error_days"])
            if e.get("size_error") is not None:
                t.sizes.append(e["size_error"])
            if e.get("completion_error_days") is not None:
                t.completion_days.append(e["completion_error_days"])
        for kind, n in (s.get("alerts_by_type") or {}).items():
            types.setdefault(kind, TypeSummary()).alerts += n
        for f in s["false_alerts"]:
            total += 1
            false_key += bool(f.get("key"))
            stray += f.get("change_type") == "other"
            where = f.get("on") or "nothing simulated"
            on[where] = on.get(where, 0) + 1
    return {
        "types": types,
        "false_key": false_key,
        "stray_other": stray,
        "false_total": total,
        "aoi_years": aoi_years,
        "false_on": on,
    }
