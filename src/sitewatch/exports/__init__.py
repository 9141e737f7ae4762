"""Exports people open: KMZ/KML for Google Earth, GeoPackage for QGIS, CSV and GeoJSON.

What it offers
--------------
- :func:`read_alerts_source` : a run directory, a scan's output folder or an alerts GeoJSON
  read into an :class:`AlertsSource` (alerts, AOI outlines, claims with verdicts, and the
  folder the quicklook paths are relative to).
- :func:`export_alerts` : write it in one of :data:`EXPORT_FORMATS`, atomically.
- :func:`format_for` : the format a path asks for (its extension), or the one forced.

Examples
--------
>>> from sitewatch.exports import export_alerts
>>> export_alerts("runs/2025-11-30", "alerts.kmz")  # doctest: +SKIP
PosixPath('alerts.kmz')
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sitewatch.export_formats import EXPORT_FORMATS, ExportFormat, format_for
from sitewatch.exports.gpkg import write_gpkg
from sitewatch.exports.kml import write_kml
from sitewatch.exports.source import AlertsSource, ClaimRow, read_alerts_source, replace_from_temp
from sitewatch.exports.table import write_csv
from sitewatch.runs import atomic_write_text

__all__ = [
    "EXPORT_FORMATS",
    "AlertsSource",
    "ClaimRow",
    "ExportFormat",
    "export_alerts",
    "format_for",
    "read_alerts_source",
    "replace_from_temp",
    "write_csv",
    "write_gpkg",
    "write_kml",
]


def export_alerts(
    source: AlertsSource | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    fmt: str | None = None,
) -> Path:
    """Write alerts as KMZ, KML, GeoPackage, CSV or GeoJSON (format from ``out``'s extension).

    Parameters
    ----------
    source : AlertsSource or path-like
        What :func:`read_alerts_source` read (or a path for it to read).
    out : path-like
        The file to write (atomically).
    fmt : str, optional
        Force a format (one of :data:`EXPORT_FORMATS`).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        If the format is unknown.
    """
    src = source if isinstance(source, AlertsSource) else read_alerts_source(source)
    kind = format_for(out, fmt)
    if kind in ("kmz", "kml"):
        return write_kml(src, out, kmz=kind == "kmz")
    if kind == "gpkg":
        return write_gpkg(src, out)
    if kind == "csv":
        return write_csv(src, out)
    text = json.dumps(dict(src.collection), ensure_ascii=False, allow_nan=False) + "\n"
    return atomic_write_text(out, text)
