"""The flat record of an alert every tabular export shares, and the CSV writer.

:func:`alert_record` is the one place an :class:`~sitewatch.alerts.Alert` becomes columns:
the GeoPackage's ``alerts`` layer, the CSV and the KML balloon all read it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from pathlib import Path
from typing import Any

from sitewatch.alerts import Alert
from sitewatch.exports.source import AlertsSource
from sitewatch.runs import atomic_write_text

__all__ = ["ALERT_COLUMNS", "alert_record", "timelapse_path", "write_csv"]

#: Columns of an alert record, in order, with their type (``date`` columns hold datetime.date).
ALERT_COLUMNS: dict[str, str] = {
    "id": "str",
    "aoi": "str",
    "site": "str",
    "change_type": "str",
    "detail": "str",
    "status": "str",
    "confidence": "float",
    "magnitude": "float",
    "persistence": "float",
    "clear_observations": "float",
    "registration": "float",
    "last_unchanged": "date",
    "first_detected": "date",
    "earthworks_first_detected": "date",
    "area_m2": "float",
    "length_m": "float",
    "width_m": "float",
    "orientation_deg": "float",
    "fraction_affected": "float",
    "added_length_m": "float",
    "after_earthworks": "bool",
    "lon": "float",
    "lat": "float",
    "reasons": "str",
    "quicklook": "str",
    "timelapse": "str",
    "simulated": "bool",
}


def alert_record(alert: Alert, source: AlertsSource) -> dict[str, Any]:
    """The alert as one flat record with the keys of :data:`ALERT_COLUMNS` (None when unknown).

    Parameters
    ----------
    alert : Alert
    source : AlertsSource
        For the site's display name.

    Returns
    -------
    dict
    """
    centre = alert.geometry.representative_point() if alert.geometry is not None else None
    parts = alert.confidence_parts
    reasons = alert.evidence.get("reasons") or []
    return {
        "id": alert.id,
        "aoi": alert.aoi,
        "site": source.display_name(alert.aoi),
        "change_type": alert.change_type,
        "detail": alert.detail,
        "status": alert.status,
        "confidence": alert.confidence,
        **{k: parts.get(k) for k in ("magnitude", "persistence", "clear_observations", "registration")},
        "last_unchanged": alert.last_unchanged,
        "first_detected": alert.first_detected,
        "earthworks_first_detected": alert.earthworks_first_detected,
        "area_m2": alert.area_m2,
        "length_m": alert.length_m,
        "width_m": alert.width_m,
        "orientation_deg": alert.orientation_deg,
        "fraction_affected": alert.fraction_affected,
        "added_length_m": alert.added_length_m,
        "after_earthworks": alert.after_earthworks,
        "lon": round(centre.x, 7) if centre is not None else None,
        "lat": round(centre.y, 7) if centre is not None else None,
        "reasons": "; ".join(str(r) for r in reasons),
        "quicklook": alert.quicklook,
        "timelapse": timelapse_path(alert, source),
        "simulated": alert.simulated,
    }


def timelapse_path(alert: Alert, source: AlertsSource) -> str | None:
    """The alert's time-lapse (the GIF beside its quicklook, as the collection names paths), if written."""
    if not alert.quicklook:
        return None
    rel = str(Path(alert.quicklook).with_suffix(".gif").as_posix())
    return rel if source.file(rel) is not None else None


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def write_csv(source: AlertsSource, out: str | os.PathLike[str]) -> Path:
    """Write one row per alert (the columns of :data:`ALERT_COLUMNS`, dates as ISO text), atomically.

    Parameters
    ----------
    source : AlertsSource
    out : path-like

    Returns
    -------
    pathlib.Path
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(ALERT_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for alert in source.alerts:
        writer.writerow({k: _cell(v) for k, v in alert_record(alert, source).items()})
    return atomic_write_text(out, buf.getvalue())
