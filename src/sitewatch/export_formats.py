"""The export formats and how a path names one: light, so the command line can offer them quickly.

:mod:`sitewatch.exports` writes them; this module only knows their names and extensions.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from sitewatch.errors import ConfigError

__all__ = ["EXPORT_FORMATS", "ExportFormat", "format_for"]

ExportFormat = Literal["kmz", "kml", "gpkg", "csv", "geojson"]
#: The formats :func:`export_alerts` writes, by file extension.
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("kmz", "kml", "gpkg", "csv", "geojson")
_EXTENSIONS: dict[str, ExportFormat] = {
    ".kmz": "kmz",
    ".kml": "kml",
    ".gpkg": "gpkg",
    ".csv": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> ExportFormat:
    """The export format: ``fmt`` when given, else from the file extension.

    Raises
    ------
    ConfigError
        If neither names one of :data:`EXPORT_FORMATS`.

    Examples
    --------
    >>> format_for("alerts.kmz")
    'kmz'
    >>> format_for("alerts.dat", "csv")
    'csv'
    """
    if fmt:
        if fmt.lower() not in EXPORT_FORMATS:
            raise ConfigError(f"format {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
        return fmt.lower()  # type: ignore[return-value]
    ext = Path(path).suffix.lower()
    if ext not in _EXTENSIONS:
        raise ConfigError(
            f"{path}: cannot tell the format from {ext or 'no extension'!r}; "
            f"use .kmz, .kml, .gpkg, .csv or .geojson, or --format"
        )
    return _EXTENSIONS[ext]
