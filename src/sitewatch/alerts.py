"""Alerts: typed, dated, measured changes with a stable id, a confidence and its parts.

An :class:`Alert` is what ``sitewatch scan`` reports per object; :func:`alert_feature`
turns it into a GeoJSON Feature with exactly the properties other tools (reports linking,
QGIS) rely on:

``id, aoi, change_type, detail, status, confidence, confidence_parts {magnitude,
persistence, clear_observations, registration}, last_unchanged, first_detected, area_m2,
length_m, width_m, orientation_deg, evidence {indices, dates, scene_ids, ...}, quicklook,
simulated, source (optical | sar), corroboration {sar}``.

Ids are stable across reruns: a hash of the AOI, the type, the centroid rounded to about
10 m and the first-detected date.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry

from sitewatch.objects.classify import ChangeType
from sitewatch.objects.corroborate import SarCorroboration

__all__ = [
    "ALERT_PROPERTIES",
    "Alert",
    "AlertSource",
    "AlertStatus",
    "alert_status",
    "alert_feature",
    "alert_from_feature",
    "alert_id",
    "confidence_from_parts",
    "confidence_parts",
    "quote_final_size",
]

AlertStatus = Literal["candidate", "confirmed"]
#: What found the alert: the optical (Sentinel-2) scan, or Sentinel-1 alone (a cloudy spell).
AlertSource = Literal["optical", "sar"]

#: An alert is confirmed when this share of its clear observations after the break still
#: shows the change, over at least :data:`CONFIRM_MIN_CLEAR_AFTER` of them; else a candidate.
CONFIRM_MIN_PERSISTENCE = 0.6
CONFIRM_MIN_CLEAR_AFTER = 3

#: Evidence keys that are typed fields of :class:`Alert` (written into ``evidence`` in GeoJSON).
TYPED_EVIDENCE: tuple[str, ...] = (
    "onset",
    "completed",
    "fraction_affected",
    "added_length_m",
    "after_earthworks",
    "earthworks_first_detected",
)

#: Properties of every alert Feature, in order.
ALERT_PROPERTIES: tuple[str, ...] = (
    "id",
    "aoi",
    "change_type",
    "detail",
    "status",
    "confidence",
    "confidence_parts",
    "last_unchanged",
    "first_detected",
    "area_m2",
    "length_m",
    "width_m",
    "orientation_deg",
    "evidence",
    "quicklook",
    "simulated",
    "source",
    "corroboration",
)

#: Weights of the confidence parts (sum 1).
CONFIDENCE_WEIGHTS: dict[str, float] = {
    "magnitude": 0.35,
    "persistence": 0.30,
    "clear_observations": 0.20,
    "registration": 0.15,
}


def alert_id(aoi: str, change_type: str, centroid: tuple[float, float], first_detected: dt.date | str) -> str:
    """A stable id: hash of AOI, type, centroid rounded to 1e-4 degrees (about 10 m) and date.

    Parameters
    ----------
    aoi : str
    change_type : str
    centroid : tuple of float
        ``(lon, lat)``.
    first_detected : datetime.date or str

    Returns
    -------
    str
        ``"sw-"`` and 16 hex digits.

    Examples
    --------
    >>> alert_id("qasrak", "new_pad", (40.51234, 36.70111), "2025-02-17")
    'sw-...'  # doctest: +SKIP
    >>> a = alert_id("a", "other", (1.0, 2.0), "2025-01-01")
    >>> a == alert_id("a", "other", (1.00001, 2.0), "2025-01-01")
    True
    """
    lon, lat = centroid
    day = first_detected.isoformat() if isinstance(first_detected, dt.date) else str(first_detected)
    key = f"{aoi}|{change_type}|{lon:.4f}|{lat:.4f}|{day}"
    return "sw-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def confidence_parts(
    *,
    score: float,
    threshold: float,
    persistence: float,
    n_clear_before: float,
    n_clear_after: float,
    shift_px: float,
) -> dict[str, float]:
    """The four parts of an alert's confidence, each 0..1.

    Parameters
    ----------
    score : float
        Mean change score after the break (noise units).
    threshold : float
        The detection threshold in the same units.
    persistence : float
        Share of clear observations after the break that still show the change.
    n_clear_before, n_clear_after : float
        Clear observations before and after the break (object medians).
    shift_px : float
        Residual (or worst corrected) misregistration around the change dates, pixels.

    Returns
    -------
    dict
        ``magnitude``, ``persistence``, ``clear_observations``, ``registration``.
    """
    ratio = score / threshold if threshold > 0 and math.isfinite(score) else 0.0
    magnitude = 0.0 if ratio <= 1 else 1.0 - math.exp(-(ratio - 1.0) / 0.6)
    clear = min(1.0, n_clear_after / 6.0) * min(1.0, n_clear_before / 6.0) ** 0.5
    registration = max(0.0, 1.0 - max(0.0, shift_px - 0.5) / 2.0)
    return {
        "magnitude": round(float(magnitude), 3),
        "persistence": round(float(min(1.0, max(0.0, persistence if math.isfinite(persistence) else 0))), 3),
        "clear_observations": round(float(clear), 3),
        "registration": round(float(registration), 3),
    }


_SIZE_QUOTE = re.compile(r"\b\d[\d,]*(?:\.\d+)? m x \d[\d,]*(?:\.\d+)? m\b")


def quote_final_size(reasons: Sequence[str], length_m: float, width_m: float) -> list[str]:
    """The reasons with every "L m x W m" they quote replaced by the alert's final size.

    A rule quotes the size it saw when it typed the object (from whole pixels); the alert
    states the size measured after unmixing the edge pixels. A reader must find one size.

    Examples
    --------
    >>> quote_final_size(["concrete-like; 203 m x 106 m, rectangularity 0.83"], 190.8, 92.3)
    ['concrete-like; 191 m x 92 m, rectangularity 0.83']
    """
    size = f"{length_m:.0f} m x {width_m:.0f} m"
    return [_SIZE_QUOTE.sub(size, str(r)) for r in reasons]


def alert_status(persistence: float, n_clear_after: float) -> AlertStatus:
    """``confirmed`` when the change persists (see :data:`CONFIRM_MIN_PERSISTENCE`), else ``candidate``."""
    if persistence >= CONFIRM_MIN_PERSISTENCE and n_clear_after >= CONFIRM_MIN_CLEAR_AFTER:
        return "confirmed"
    return "candidate"


def confidence_from_parts(parts: Mapping[str, float]) -> float:
    """Weighted mean of the parts (see :data:`CONFIDENCE_WEIGHTS`), 0..1."""
    total = sum(CONFIDENCE_WEIGHTS[k] * float(parts.get(k, 0.0)) for k in CONFIDENCE_WEIGHTS)
    return round(min(1.0, max(0.0, total)), 3)


@dataclass(frozen=True)
class Alert:
    """One typed, dated and measured change.

    Parameters
    ----------
    id : str
        Stable id (:func:`alert_id`).
    aoi : str
    change_type : ChangeType
        ``new_pad``, ``runway_change``, ``evacuation``, ``earthworks``, ``vegetation_loss`` or ``other``.
    detail : str or None
    status : {"candidate", "confirmed"}
    confidence : float
    confidence_parts : mapping
    last_unchanged, first_detected : datetime.date or None
    area_m2, length_m, width_m, orientation_deg : float
    geometry : shapely geometry
        Outline in WGS84.
    evidence : mapping
        ``indices`` (before/after/delta), ``dates``, ``scene_ids``, ``reasons`` and more.
    quicklook : str or None
        Relative path of the quicklook PNG.
    simulated : bool
        The imagery came from :mod:`sitewatch.simulate`.
    fraction_affected : float or None
        Evacuations: the share of the facility's structures that went (0..1).
    added_length_m : float or None
        Runway extensions: the length added.
    after_earthworks : bool or None
        New pads: levelling came first.
    earthworks_first_detected : datetime.date or None
        New pads laid on earthworks: when the levelling was first seen (``first_detected``
        dates the surface).
    onset, completed : datetime.date or None
        When the change began and when it was complete (the same week for an abrupt one;
        weeks to months apart for removals or works spread over time).
    source : {"optical", "sar"}
        ``"sar"``: a radar-only candidate (a change Sentinel-1 saw while no clear optical
        scene did; see :mod:`sitewatch.pipeline.radar_stage`).
    corroboration_sar : SarCorroboration or None
        The radar evidence over the outline (``corroboration.sar`` in GeoJSON); None when
        the scan had no radar source.

    The typed fields are written into ``evidence`` in GeoJSON (see :data:`TYPED_EVIDENCE`).
    """

    id: str
    aoi: str
    change_type: ChangeType
    detail: str | None
    status: AlertStatus
    confidence: float
    confidence_parts: Mapping[str, float]
    last_unchanged: dt.date | None
    first_detected: dt.date | None
    area_m2: float
    length_m: float
    width_m: float
    orientation_deg: float
    geometry: BaseGeometry
    evidence: Mapping[str, Any] = field(default_factory=dict)
    quicklook: str | None = None
    simulated: bool = False
    fraction_affected: float | None = None
    added_length_m: float | None = None
    after_earthworks: bool | None = None
    earthworks_first_detected: dt.date | None = None
    onset: dt.date | None = None
    completed: dt.date | None = None
    source: AlertSource = "optical"
    corroboration_sar: SarCorroboration | None = None

    def typed_evidence(self) -> dict[str, Any]:
        """The typed fields that are set, keyed as in ``evidence``."""
        values = {k: getattr(self, k) for k in TYPED_EVIDENCE}
        return {k: v for k, v in values.items() if v is not None}

    def with_quicklook(self, path: str | None) -> Alert:
        """A copy with ``quicklook`` set."""
        return replace(self, quicklook=path)

    def properties(self) -> dict[str, Any]:
        """The GeoJSON properties, in :data:`ALERT_PROPERTIES` order."""
        return {
            "id": self.id,
            "aoi": self.aoi,
            "change_type": self.change_type,
            "detail": self.detail,
            "status": self.status,
            "confidence": round(float(self.confidence), 3),
            "confidence_parts": {k: round(float(v), 3) for k, v in self.confidence_parts.items()},
            "last_unchanged": self.last_unchanged.isoformat() if self.last_unchanged else None,
            "first_detected": self.first_detected.isoformat() if self.first_detected else None,
            "area_m2": round(float(self.area_m2), 1),
            "length_m": round(float(self.length_m), 1),
            "width_m": round(float(self.width_m), 1),
            "orientation_deg": round(float(self.orientation_deg), 1),
            "evidence": _clean({**self.evidence, **self.typed_evidence()}),
            "quicklook": self.quicklook,
            "simulated": bool(self.simulated),
            "source": self.source,
            "corroboration": {
                "sar": self.corroboration_sar.as_properties() if self.corroboration_sar is not None else None
            },
        }


def alert_feature(alert: Alert) -> dict[str, Any]:
    """A GeoJSON-like Feature (shapely geometry in WGS84) for :func:`sitewatch.export.write_geojson`.

    Parameters
    ----------
    alert : Alert

    Returns
    -------
    dict
    """
    return {"type": "Feature", "id": alert.id, "geometry": alert.geometry, "properties": alert.properties()}


def _date_or_none(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def alert_from_feature(feature: Mapping[str, Any]) -> Alert:
    """The :class:`Alert` of a GeoJSON Feature in the sitewatch alerts schema (undoes :func:`alert_feature`).

    Missing properties take their defaults (a per-AOI function of :func:`sitewatch.batch.scan_all`
    may write only some); the typed evidence keys (:data:`TYPED_EVIDENCE`) become fields.

    Parameters
    ----------
    feature : mapping
        ``geometry`` as GeoJSON or shapely, ``properties`` as written by :meth:`Alert.properties`.

    Returns
    -------
    Alert
    """
    from shapely.geometry import shape

    props = dict(feature.get("properties") or {})
    geom = feature.get("geometry")
    geometry = geom if isinstance(geom, BaseGeometry) else shape(geom) if geom else None
    evidence = dict(props.get("evidence") or {})
    typed = {k: evidence.pop(k) for k in TYPED_EVIDENCE if k in evidence}
    sar = (props.get("corroboration") or {}).get("sar")
    return Alert(
        id=str(props.get("id") or feature.get("id") or ""),
        aoi=str(props.get("aoi") or ""),
        change_type=props.get("change_type") or "other",
        detail=props.get("detail"),
        status=props.get("status") or "candidate",
        confidence=float(props.get("confidence") or 0.0),
        confidence_parts=dict(props.get("confidence_parts") or {}),
        last_unchanged=_date_or_none(props.get("last_unchanged")),
        first_detected=_date_or_none(props.get("first_detected")),
        area_m2=float(props.get("area_m2") or 0.0),
        length_m=float(props.get("length_m") or 0.0),
        width_m=float(props.get("width_m") or 0.0),
        orientation_deg=float(props.get("orientation_deg") or 0.0),
        geometry=geometry,
        evidence=evidence,
        quicklook=props.get("quicklook"),
        simulated=bool(props.get("simulated", False)),
        fraction_affected=typed.get("fraction_affected"),
        added_length_m=typed.get("added_length_m"),
        after_earthworks=typed.get("after_earthworks"),
        earthworks_first_detected=_date_or_none(typed.get("earthworks_first_detected")),
        onset=_date_or_none(typed.get("onset")),
        completed=_date_or_none(typed.get("completed")),
        source="sar" if props.get("source") == "sar" else "optical",
        corroboration_sar=SarCorroboration.from_properties(sar) if sar else None,
    )


def _clean(value: Any) -> Any:
    """JSON-ready: dates to ISO strings, NaN to None, tuples to lists, floats rounded."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value
