"""Measure objects: size, shape and orientation in metres, and per-object statistics.

What it offers
--------------
- :func:`measure_geometry` : area, perimeter, length and width of the minimum rotated
  rectangle, orientation of the long side (degrees clockwise from north, 0..180) and
  rectangularity (area / rectangle area), for a polygon already in a metric CRS.
- :func:`to_metric` / :func:`to_wgs84` : reproject a shapely geometry (areas are always
  measured in the UTM zone of the object, never in degrees).
- :func:`measure_objects` : from a label raster and its GeoBox to a list of
  :class:`MeasuredObject` (WGS84 geometry + measurements + mean of any per-pixel layers).

A :class:`MeasuredObject` turns into a GeoJSON-ready feature with :meth:`MeasuredObject.to_feature`,
which :func:`sitewatch.export.write_geojson` accepts as is.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import pyproj
import shapely
import xarray as xr
from shapely.geometry.base import BaseGeometry

from sitewatch.core.morphology import vectorize
from sitewatch.types import WGS84, transform_geometry, utm_crs_for

__all__ = ["MeasuredObject", "measure_geometry", "measure_objects", "metric_crs_for", "to_metric", "to_wgs84"]


def to_wgs84(geom: BaseGeometry, crs: Any) -> BaseGeometry:
    """Reproject ``geom`` from ``crs`` to WGS84 (lon, lat).

    Parameters
    ----------
    geom : shapely geometry
    crs : str or pyproj.CRS or odc CRS

    Returns
    -------
    shapely geometry
    """
    return transform_geometry(geom, _crs(crs), WGS84)


def to_metric(geom: BaseGeometry, crs: Any, *, metric_crs: str | None = None) -> tuple[BaseGeometry, str]:
    """Reproject ``geom`` to a metric CRS: itself when projected, else its UTM zone.

    Parameters
    ----------
    geom : shapely geometry
    crs : str or pyproj.CRS or odc CRS
        The CRS ``geom`` is in.
    metric_crs : str, optional
        Force the target CRS (e.g. one UTM zone for all objects of a scene).

    Returns
    -------
    tuple
        ``(geometry in metres, CRS string)``.
    """
    target = metric_crs or metric_crs_for(geom, crs)
    return transform_geometry(geom, crs, target), target


def _crs(crs: Any) -> Any:
    # odc-geo CRS objects carry a WKT; pyproj reads strings and its own objects
    return crs.to_wkt() if hasattr(crs, "to_wkt") and not isinstance(crs, pyproj.CRS) else crs


def _crs_text(crs: Any) -> str:
    c = _crs(crs)
    return c.to_wkt() if isinstance(c, pyproj.CRS) else str(c)


def metric_crs_for(geom: BaseGeometry, crs: Any) -> str:
    """The CRS to measure ``geom`` in: ``crs`` itself when projected in metres, else the UTM zone.

    Parameters
    ----------
    geom : shapely geometry
        In ``crs``; its centroid picks the UTM zone.
    crs : str or CRS

    Returns
    -------
    str
    """
    epsg = getattr(crs, "epsg", None)  # odc-geo CRS: the EPSG code is known without a look-up
    if epsg and getattr(crs, "projected", False) and tuple(getattr(crs, "units", ())) == ("metre", "metre"):
        return f"EPSG:{epsg}"
    own = _projected_metric_crs(_crs_text(crs))
    if own is not None:
        return own
    centre = transform_geometry(geom, _crs(crs), WGS84).centroid
    return utm_crs_for(centre.x, centre.y)


@lru_cache(maxsize=64)
def _projected_metric_crs(crs_text: str) -> str | None:
    # the EPSG look-up is slow (tens of ms): once per CRS
    c = pyproj.CRS.from_user_input(crs_text)
    if c.is_projected and c.axis_info[0].unit_name in ("metre", "meter"):
        code = c.to_epsg()
        return f"EPSG:{code}" if code else c.to_wkt()
    return None


def measure_geometry(geom: BaseGeometry) -> dict[str, float]:
    """Size and shape of a polygon in a metric CRS.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        Coordinates in metres.

    Returns
    -------
    dict
        ``area_m2``, ``perimeter_m``, ``length_m`` and ``width_m`` (long and short sides
        of the minimum rotated rectangle), ``orientation_deg`` (long side, clockwise from
        north, 0 <= angle < 180), ``rectangularity`` (area / rectangle area, 1 = a
        rectangle), ``compactness`` (4 pi area / perimeter^2, 1 = a disc).

    Examples
    --------
    >>> m = measure_geometry(shapely.box(0, 0, 100, 20))
    >>> m["length_m"], m["width_m"], m["orientation_deg"], m["rectangularity"]
    (100.0, 20.0, 90.0, 1.0)
    """
    area = float(geom.area)
    perimeter = float(geom.length)
    rect = shapely.minimum_rotated_rectangle(geom)
    length = width = 0.0
    orientation = 0.0
    if isinstance(rect, shapely.Polygon) and not rect.is_empty:
        xy = np.asarray(rect.exterior.coords)[:4]
        e1, e2 = xy[1] - xy[0], xy[2] - xy[1]
        l1, l2 = float(np.hypot(*e1)), float(np.hypot(*e2))
        long_edge = e1 if l1 >= l2 else e2
        length, width = max(l1, l2), min(l1, l2)
        orientation = math.degrees(math.atan2(long_edge[0], long_edge[1])) % 180.0
        if orientation >= 179.95:
            orientation = 0.0
    rect_area = length * width
    return {
        "area_m2": round(area, 2),
        "perimeter_m": round(perimeter, 2),
        "length_m": round(length, 2),
        "width_m": round(width, 2),
        "orientation_deg": round(orientation, 1),
        "rectangularity": round(area / rect_area, 3) if rect_area > 0 else 0.0,
        "compactness": round(4 * math.pi * area / perimeter**2, 3) if perimeter > 0 else 0.0,
    }


@dataclass(frozen=True)
class MeasuredObject:
    """One object found in a label raster, measured.

    Parameters
    ----------
    label : int
        Its value in the label raster.
    geometry : shapely geometry
        Outline in WGS84 (lon, lat).
    n_pixels : int
        Pixels in the object.
    measures : mapping
        Output of :func:`measure_geometry` (metres, degrees).
    stats : mapping
        Mean of each per-pixel layer given to :func:`measure_objects` over the object.
    metric_crs : str
        The CRS the measurements were made in.
    """

    label: int
    geometry: BaseGeometry
    n_pixels: int
    measures: Mapping[str, float] = field(default_factory=dict)
    stats: Mapping[str, float] = field(default_factory=dict)
    metric_crs: str = ""

    @property
    def area_m2(self) -> float:
        """Area in square metres."""
        return float(self.measures.get("area_m2", 0.0))

    @property
    def centroid(self) -> tuple[float, float]:
        """``(lon, lat)`` of a point inside the object."""
        p = self.geometry.representative_point()
        return (round(p.x, 7), round(p.y, 7))

    def to_feature(self, **extra: Any) -> dict[str, Any]:
        """A GeoJSON-like feature (shapely geometry, WGS84) for :func:`sitewatch.export.write_geojson`.

        Parameters
        ----------
        **extra
            More properties (they win over the measured ones of the same name).

        Returns
        -------
        dict
        """
        props: dict[str, Any] = {"label": self.label, "n_pixels": self.n_pixels}
        props.update(self.measures)
        props.update({k: (round(v, 4) if math.isfinite(v) else None) for k, v in self.stats.items()})
        lon, lat = self.centroid
        props.update({"centroid_lon": lon, "centroid_lat": lat})
        props.update(extra)
        return {"type": "Feature", "geometry": self.geometry, "properties": props}


def measure_objects(
    labels: np.ndarray | xr.DataArray,
    geobox: Any = None,
    *,
    values: Mapping[str, np.ndarray | xr.DataArray] | None = None,
    simplify_px: float = 0.5,
) -> list[MeasuredObject]:
    """Vectorise and measure every object of a label raster.

    Parameters
    ----------
    labels : numpy.ndarray or xarray.DataArray
        2-D int labels, 0 = background (from :func:`sitewatch.core.morphology.label_changes`).
    geobox : odc.geo.geobox.GeoBox, optional
        The grid; taken from ``labels.odc.geobox`` for a DataArray.
    values : mapping of str to 2-D array, optional
        Per-pixel layers (change magnitude, confidence, index differences...) whose
        NaN-ignoring mean over each object goes into :attr:`MeasuredObject.stats`.
    simplify_px : float
        Outline simplification tolerance (pixels); see :func:`vectorize`.

    Returns
    -------
    list of MeasuredObject
        In label order.

    Examples
    --------
    >>> objs = measure_objects(labels, geobox, values={"magnitude": mag})  # doctest: +SKIP
    >>> objs[0].measures["area_m2"]  # doctest: +SKIP
    """
    if geobox is None:
        if not isinstance(labels, xr.DataArray):
            raise TypeError("measure_objects needs a geobox for a plain array of labels")
        geobox = labels.odc.geobox
    arr = np.asarray(labels.values if isinstance(labels, xr.DataArray) else labels).astype(np.int64)
    n = int(arr.max()) if arr.size else 0
    if n == 0:
        return []
    # statistics over the labelled pixels only (objects are a small share of a scene)
    inside = np.flatnonzero(arr.ravel())
    lab = arr.ravel()[inside]
    counts = np.bincount(lab, minlength=n + 1)
    means: dict[str, np.ndarray] = {}
    for name, layer in (values or {}).items():
        v = np.asarray(layer.values if isinstance(layer, xr.DataArray) else layer).ravel()[inside]
        v = v.astype(np.float64)
        ok = np.isfinite(v)
        s = np.bincount(lab, weights=np.where(ok, v, 0.0), minlength=n + 1)
        c = np.bincount(lab, weights=ok.astype(np.float64), minlength=n + 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            means[name] = s / c
    crs = _crs_text(geobox.crs)
    # one metric CRS for the whole grid: the UTM zone of its centre (or the grid's own CRS)
    metric_crs = metric_crs_for(shapely.box(*geobox.extent.boundingbox), geobox.crs)
    pieces = list(vectorize(arr.astype(np.int32), geobox, simplify_px=simplify_px))
    geoms = np.empty(len(pieces), dtype=object)
    geoms[:] = [g for _, g in pieces]
    # all outlines reprojected in one call each (shapely.transform takes arrays)
    metric = transform_geometry(geoms, crs, metric_crs)
    wgs = transform_geometry(geoms, crs, WGS84)
    return [
        MeasuredObject(
            label=label,
            geometry=wgs[i],
            n_pixels=int(counts[label]),
            measures=measure_geometry(metric[i]),
            stats={k: float(v[label]) for k, v in means.items()},
            metric_crs=metric_crs,
        )
        for i, (label, _) in enumerate(pieces)
    ]
