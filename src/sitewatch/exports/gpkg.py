"""GeoPackage export (GDAL through pyogrio): ``alerts``, ``aois`` and ``claims`` layers.

Columns are typed for QGIS: dates are GeoPackage DATE fields (the time controller can use
``last_unchanged``/``first_detected``), measurements REAL, flags BOOLEAN, unknowns NULL.
Geometries are WGS84 (EPSG:4326); alert outlines are written as MultiPolygon so one layer
holds single- and multi-part objects alike.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from sitewatch.errors import ConfigError
from sitewatch.exports.source import AlertsSource, replace_from_temp
from sitewatch.exports.table import ALERT_COLUMNS, alert_record

__all__ = ["CLAIM_COLUMNS", "write_gpkg"]

#: Columns of the ``claims`` layer and their types.
CLAIM_COLUMNS: dict[str, str] = {
    "claim_id": "str",
    "site": "str",
    "event": "str",
    "verdict": "str",
    "reason": "str",
    "quote": "str",
    "publisher": "str",
    "url": "str",
    "when_text": "str",
    "when_start": "date",
    "when_end": "date",
    "alert_ids": "str",
}
_WGS84 = "EPSG:4326"


def _pyogrio() -> Any:
    try:
        import pyogrio.raw
    except ImportError:
        raise ConfigError("GeoPackage export needs pyogrio: pip install pyogrio") from None
    return pyogrio.raw


def _column(values: Sequence[Any], kind: str) -> tuple[np.ndarray, np.ndarray | None]:
    """A typed array and its null mask (None when nothing is null)."""
    missing = np.array([v is None for v in values], dtype=bool)
    if kind == "date":
        arr = np.array(
            [np.datetime64(v.isoformat() if isinstance(v, dt.date) else v, "D") for v in values]
            if len(values)
            else [],
            dtype="datetime64[D]",
        )
        return arr, None  # NaT is null for GDAL
    if kind == "float":
        arr = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        return arr, None  # NaN is written as null
    if kind == "int":
        arr = np.array([0 if v is None else int(v) for v in values], dtype=np.int64)
    elif kind == "bool":
        arr = np.array([bool(v) for v in values], dtype=bool)
    else:
        arr = np.array(["" if v is None else str(v) for v in values], dtype=object)
    return arr, (missing if missing.any() else None)


def _write_layer(
    path: Path,
    layer: str,
    records: Sequence[Mapping[str, Any]],
    columns: Mapping[str, str],
    geometries: Sequence[Any],
    geometry_type: str,
    *,
    append: bool,
) -> None:
    raw = _pyogrio()
    arrays, masks = [], []
    for name, kind in columns.items():
        arr, mask = _column([r.get(name) for r in records], kind)
        arrays.append(arr)
        masks.append(mask)
    wkb = np.array([None if g is None else shapely.to_wkb(g) for g in geometries], dtype=object)
    raw.write(
        str(path),
        wkb,
        arrays,
        list(columns),
        field_mask=masks,
        layer=layer,
        driver="GPKG",
        geometry_type=geometry_type,
        crs=_WGS84,
        append=append,
    )


def _multi(geom: Any) -> Any:
    if geom is None or geom.is_empty:
        return None
    return shapely.MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def write_gpkg(source: AlertsSource, out: str | os.PathLike[str]) -> Path:
    """Write the alerts, their AOIs and (when reports were linked) the claims as a GeoPackage.

    Layers: ``alerts`` (MultiPolygon, the columns of
    :data:`~sitewatch.exports.table.ALERT_COLUMNS`), ``aois`` (the watched outlines with
    ``name``, ``display_name`` and ``alerts``, the count), and ``claims`` (Point at the
    site's centre, the columns of :data:`CLAIM_COLUMNS`) when there are claims.

    Parameters
    ----------
    source : AlertsSource
    out : path-like
        Written atomically.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        If pyogrio is not installed.
    """
    _pyogrio()
    records = [alert_record(a, source) for a in source.alerts]
    counts: dict[str, int] = {}
    for a in source.alerts:
        counts[a.aoi] = counts.get(a.aoi, 0) + 1
    aoi_names = sorted(set(source.aois) | set(counts))
    aoi_geoms = {n: shape(g) for n in aoi_names if (g := (source.aois.get(n) or {}).get("geometry"))}
    aoi_records = [
        {"name": n, "display_name": source.display_name(n), "alerts": counts.get(n, 0)} for n in aoi_names
    ]
    claim_records = []
    for c in source.claims:
        rec = {k: getattr(c, k) for k in CLAIM_COLUMNS if k != "alert_ids"}
        rec["alert_ids"] = ",".join(c.alert_ids)
        for key in ("when_start", "when_end"):
            rec[key] = dt.date.fromisoformat(rec[key]) if rec[key] else None
        claim_records.append(rec)

    def write(tmp: Path) -> None:
        _write_layer(
            tmp,
            "alerts",
            records,
            ALERT_COLUMNS,
            [_multi(a.geometry) for a in source.alerts],
            "MultiPolygon",
            append=False,
        )
        _write_layer(
            tmp,
            "aois",
            aoi_records,
            {"name": "str", "display_name": "str", "alerts": "int"},
            [_multi(aoi_geoms.get(n)) for n in aoi_names],
            "MultiPolygon",
            append=True,
        )
        if claim_records:
            points = [
                aoi_geoms[c["site"]].representative_point() if c["site"] in aoi_geoms else None
                for c in claim_records
            ]
            _write_layer(tmp, "claims", claim_records, CLAIM_COLUMNS, points, "Point", append=True)

    return replace_from_temp(out, write)
