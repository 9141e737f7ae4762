"""Frozen dataclasses shared across sitewatch: areas of interest, places and scenes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Literal

import numpy as np
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import ConfigError

__all__ = [
    "AOI",
    "LocationCertainty",
    "Place",
    "ProcessingLevel",
    "Scene",
    "as_date",
    "check_date_order",
    "transform_geometry",
    "utm_crs_for",
]

LocationCertainty = Literal["exact", "approximate", "unknown"]
ProcessingLevel = Literal["L1C", "L2A"]

WGS84 = "EPSG:4326"


def utm_crs_for(lon: float, lat: float) -> str:
    """Return the WGS 84 / UTM CRS (``"EPSG:326xx"`` or ``"EPSG:327xx"``) holding a point.

    Parameters
    ----------
    lon, lat : float
        Longitude and latitude in degrees (WGS84).

    Returns
    -------
    str
        An ``"EPSG:<code>"`` string.

    Examples
    --------
    >>> utm_crs_for(40.51, 36.70)
    'EPSG:32637'
    """
    zone = utm_zone_number(lon, lat)
    if zone is None:
        return _utm_crs_from_database(lon, lat)
    return f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"


def utm_zone_number(lon: float, lat: float) -> int | None:
    """The UTM zone number of a point, with the standard exceptions of Norway and Svalbard.

    UTM covers 80 S to 84 N; outside it (the polar caps) this returns None. The pyproj
    database lists every zone whose area of use touches a point and knows none of the
    exceptions, and a look-up costs tens of milliseconds, so the zone is computed here.

    Parameters
    ----------
    lon, lat : float
        Degrees (WGS84).

    Returns
    -------
    int or None

    Examples
    --------
    >>> utm_zone_number(40.51, 36.70), utm_zone_number(5.3, 60.4), utm_zone_number(15.0, 78.2)
    (37, 32, 33)
    """
    if not -80.0 <= lat < 84.0:
        return None
    if 56.0 <= lat < 64.0 and 3.0 <= lon < 12.0:
        return 32  # zone 32V is widened over south-west Norway
    if lat >= 72.0 and 0.0 <= lon < 42.0:
        # Svalbard: zones 32X, 34X and 36X are not used; their neighbours are widened.
        return 31 if lon < 9.0 else 33 if lon < 21.0 else 35 if lon < 33.0 else 37
    return int((lon + 180.0) // 6.0) % 60 + 1


def _utm_crs_from_database(lon: float, lat: float) -> str:
    infos = pyproj.database.query_utm_crs_info(
        datum_name="WGS 84",
        area_of_interest=pyproj.aoi.AreaOfInterest(lon, lat, lon, lat),
    )
    # pyproj can list more than one zone on a boundary; the one whose code is
    # 326xx/327xx and whose central meridian is nearest is the conventional pick.
    wgs84_zones = [i for i in infos if i.code[:3] in {"326", "327"}]
    if not wgs84_zones:
        raise ValueError(f"no UTM zone found for lon={lon}, lat={lat}")

    def meridian_distance(info: pyproj.database.CRSInfo) -> float:
        zone = int(info.code[3:])
        return abs(((lon + 180.0) % 360.0) - ((zone - 1) * 6 + 3))

    best = min(wgs84_zones, key=meridian_distance)
    return f"EPSG:{best.code}"


def as_date(value: str | dt.date, *, what: str = "date") -> dt.date:
    """Return a calendar date from a date, a datetime or ISO text (``YYYY-MM-DD``, time allowed).

    Parameters
    ----------
    value : str, datetime.date or datetime.datetime
    what : str
        What the value is, for the error message (``"--start"``...).

    Returns
    -------
    datetime.date

    Raises
    ------
    ConfigError
        If ``value`` is not a date.

    Examples
    --------
    >>> as_date("2025-05-24T08:03:11Z")
    datetime.date(2025, 5, 24)
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10] if len(text) > 10 and text[10] in "T " else text)
    except ValueError:
        raise ConfigError(f"{what} {value!r} is not a date in YYYY-MM-DD form") from None


def check_date_order(start: dt.date | None, end: dt.date | None, *, what: str = "the date range") -> None:
    """Refuse a range that ends before it starts, before any request is sent.

    Parameters
    ----------
    start, end : datetime.date, optional
    what : str
        Names the range in the message.

    Raises
    ------
    ConfigError
        If both are given and ``end < start``.

    Examples
    --------
    >>> check_date_order(dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    """
    if start is not None and end is not None and end < start:
        raise ConfigError(f"{what} ends ({end}) before it starts ({start}); swap --start and --end")


@dataclass(frozen=True)
class Place:
    """A named place that reports may mention: a watched site or a gazetteer entry.

    Parameters
    ----------
    name : str
        Machine name (lower case, ``[a-z0-9_-]``), safe to use as a file name.
    display_name : str
        Name for people.
    aliases : tuple of str
        Other spellings and names seen in reports.
    point : tuple of float or None
        ``(lon, lat)`` in WGS84, or None where no location is established.
    location_certainty : {"exact", "approximate", "unknown"}
        How sure the point is.
    kind : {"site", "place"}
        ``"site"`` for a watched AOI, ``"place"`` for a gazetteer entry.
    notes : str
        What is known, in words.
    sources : tuple of str
        Where the facts come from.
    """

    name: str
    display_name: str
    aliases: tuple[str, ...] = ()
    point: tuple[float, float] | None = None
    location_certainty: LocationCertainty = "unknown"
    kind: Literal["site", "place"] = "place"
    notes: str = ""
    sources: tuple[str, ...] = ()

    @property
    def all_names(self) -> tuple[str, ...]:
        """Display name, machine name and aliases, without duplicates, in that order."""
        seen: dict[str, None] = {}
        for n in (self.display_name, self.name, *self.aliases):
            seen.setdefault(n, None)
        return tuple(seen)


@dataclass(frozen=True)
class AOI:
    """An area of interest: a watched site with the area to scan around it.

    Parameters
    ----------
    name : str
        Machine name, safe as a file name (``qasrak``).
    display_name : str
        Name for people (``Qasrak base``).
    geometry : shapely geometry
        The area to watch, a Polygon or MultiPolygon in WGS84 (lon, lat).
    point : tuple of float or None
        The reference point ``(lon, lat)`` in WGS84, where one is known.
    aliases : tuple of str
        Other spellings seen in reports.
    location_certainty : {"exact", "approximate", "unknown"}
        How sure the location is. Where it is not ``"exact"``, ``search_radius_m``
        says how far from the point the facility may lie, and ``geometry`` covers it.
    search_radius_m : float or None
        Uncertainty radius around ``point`` in metres, where the location is not exact.
    radius_m : float or None
        Radius of the watched circle in metres, where the AOI was given as point + radius.
    sources : tuple of str
        Where the facts come from.
    reported : tuple of mapping
        Reported facts as structured records (``what``, ``value``, ``unit``, ``when``, ``source``).
    notes : str
        Free text: why the area is drawn as it is.
    path : str or None
        The GeoJSON file the AOI was read from.
    """

    name: str
    display_name: str
    geometry: BaseGeometry
    point: tuple[float, float] | None = None
    aliases: tuple[str, ...] = ()
    location_certainty: LocationCertainty = "exact"
    search_radius_m: float | None = None
    radius_m: float | None = None
    sources: tuple[str, ...] = ()
    reported: tuple[Mapping[str, Any], ...] = ()
    notes: str = ""
    path: str | None = field(default=None, compare=False)

    @cached_property
    def centroid(self) -> tuple[float, float]:
        """``(lon, lat)`` of the reference point, or of the area's centroid when there is none."""
        if self.point is not None:
            return self.point
        c = self.geometry.centroid
        return (c.x, c.y)

    @cached_property
    def utm_crs(self) -> str:
        """The WGS 84 / UTM CRS of the AOI, as ``"EPSG:326xx"`` (north) or ``"EPSG:327xx"``."""
        return utm_crs_for(*self.centroid)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(west, south, east, north)`` in WGS84 degrees."""
        return tuple(self.geometry.bounds)  # type: ignore[return-value]

    def geometry_in(self, crs: str | pyproj.CRS) -> BaseGeometry:
        """Return the AOI geometry transformed to another CRS.

        Parameters
        ----------
        crs : str or pyproj.CRS
            Target CRS, e.g. ``aoi.utm_crs``.

        Returns
        -------
        shapely geometry
        """
        return transform_geometry(self.geometry, WGS84, crs)

    @property
    def area_m2(self) -> float:
        """Area of the watched geometry in square metres (in the AOI's UTM CRS)."""
        return float(self.geometry_in(self.utm_crs).area)

    def as_place(self) -> Place:
        """Return the AOI as a :class:`Place` of kind ``"site"``."""
        return Place(
            name=self.name,
            display_name=self.display_name,
            aliases=self.aliases,
            point=self.point,
            location_certainty=self.location_certainty,
            kind="site",
            notes=self.notes,
            sources=self.sources,
        )


def _crs_key(crs: Any) -> str:
    # odc-geo and pyproj CRS objects both give WKT; text (EPSG:xxxx, WKT) is used as is
    return str(crs.to_wkt()) if hasattr(crs, "to_wkt") else str(crs)


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> pyproj.Transformer | None:
    # building a transformer is slow (milliseconds); the same few CRS pairs recur all run long
    s, d = pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst)
    if s == d:
        return None
    return pyproj.Transformer.from_crs(s, d, always_xy=True)


def transform_geometry(geom: Any, src_crs: Any, dst_crs: Any) -> Any:
    """Reproject shapely geometries (one, or an array of them) from one CRS to another.

    Parameters
    ----------
    geom : shapely geometry or array of geometries
        Coordinates ``(x, y)``, longitude first in geographic CRSs.
    src_crs, dst_crs : str, pyproj.CRS or odc-geo CRS

    Returns
    -------
    shapely geometry or array of geometries
        ``geom`` itself when the two CRSs are the same.

    Examples
    --------
    >>> round(transform_geometry(shapely.Point(39.0, 0.0), "EPSG:4326", "EPSG:32637").x)
    500000
    """
    tr = _transformer(_crs_key(src_crs), _crs_key(dst_crs))
    if tr is None:
        return geom
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


@dataclass(frozen=True)
class Scene:
    """One acquisition that a provider found: metadata only, no pixels.

    Parameters
    ----------
    id : str
        Identifier, unique within the provider (a file stem, a STAC item id...).
    datetime : datetime.datetime
        Acquisition time (UTC, timezone-aware).
    bands : tuple of str
        Band names available (``"B02"``, ``"B8A"``, ``"SCL"``...).
    provider : str
        Name of the provider that found it (``"local"``, ``"stac"``...).
    location : str
        Where the pixels are: a path or a URL.
    processing_level : {"L1C", "L2A"} or None
        Processing level where known.
    cloud_fraction : float or None
        Scene-level cloud fraction 0..1 from metadata, where known.
    crs : str or None
        Native CRS of the finest band, e.g. ``"EPSG:32637"`` (WKT where it has no code).
    bounds : tuple of float or None
        ``(left, bottom, right, top)`` of the finest band, in ``crs``.
    shape : tuple of int or None
        ``(height, width)`` of the finest band in pixels.
    assets : mapping
        Band name to file path or URL (provider-specific).
    properties : mapping
        Other provider metadata (tile id, processing baseline, offsets...).
    """

    id: str
    datetime: dt.datetime
    bands: tuple[str, ...]
    provider: str
    location: str
    processing_level: ProcessingLevel | None = None
    cloud_fraction: float | None = None
    crs: str | None = None
    bounds: tuple[float, float, float, float] | None = None
    shape: tuple[int, int] | None = None
    assets: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, Any] = field(default_factory=dict)

    @property
    def date(self) -> dt.date:
        """Acquisition date (UTC)."""
        return self.datetime.date()

    def footprint(self) -> BaseGeometry | None:
        """Footprint of the finest band as a WGS84 polygon, or None when unknown."""
        if self.bounds is None or self.crs is None:
            return None
        poly = shapely.box(*self.bounds)
        if _transformer(_crs_key(self.crs), WGS84) is None:
            return poly
        # densified first: straight edges in one CRS are curves in another
        dense = shapely.segmentize(poly, max_segment_length=max(poly.length / 64, 1e-9))
        return transform_geometry(dense, self.crs, WGS84)
