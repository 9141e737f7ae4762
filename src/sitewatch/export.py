"""Write results: RFC 7946 GeoJSON and single-band GeoTIFF masks.

What it offers
--------------
- :func:`feature_collection` : features (shapely or GeoJSON geometries, any CRS) to an
  RFC 7946 FeatureCollection dict: WGS84 lon/lat, right-hand (counter-clockwise) outer
  rings, coordinates rounded to 1e-7 degrees (about 1 cm), optional foreign members.
- :func:`write_geojson` : the same, written atomically (temporary file + rename).
- :func:`validate_feature_collection` : the checks the writer guarantees, as a function
  (usable in tests and on files written by others).
- :func:`write_mask` : a uint8 ``(y, x)`` DataArray to a GeoTIFF on its own grid, atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import xarray as xr
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from sitewatch.fileio import atomic_output, atomic_write_text, verify_raster
from sitewatch.types import transform_geometry

__all__ = ["feature_collection", "validate_feature_collection", "write_geojson", "write_mask"]

_RESERVED = {"type", "features", "bbox", "geometry", "properties", "coordinates", "geometries"}


def _to_geometry(geom: Any) -> BaseGeometry:
    if isinstance(geom, BaseGeometry):
        return geom
    return shape(geom)


def _orient(geom: BaseGeometry) -> BaseGeometry:
    if hasattr(shapely, "orient_polygons"):
        return shapely.orient_polygons(geom, exterior_cw=False)
    from shapely.geometry.polygon import orient

    if isinstance(geom, shapely.Polygon):
        return orient(geom, 1.0)
    if isinstance(geom, shapely.MultiPolygon):
        return shapely.MultiPolygon([orient(p, 1.0) for p in geom.geoms])
    return geom


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def feature_collection(
    features: Iterable[Mapping[str, Any]],
    *,
    crs: Any = "EPSG:4326",
    foreign: Mapping[str, Any] | None = None,
    precision: int = 7,
) -> dict[str, Any]:
    """Build an RFC 7946 FeatureCollection from features in any CRS.

    Parameters
    ----------
    features : iterable of mapping
        Each with ``geometry`` (shapely geometry or GeoJSON mapping, in ``crs``) and
        ``properties`` (JSON-able; numpy scalars and NaN are converted, NaN to null);
        an ``id`` is kept.
    crs : str or CRS
        CRS of the input geometries; output is always WGS84 lon/lat.
    foreign : mapping, optional
        Foreign members for the collection (e.g. ``{"sitewatch": {...}}``); names
        reserved by GeoJSON are refused.
    precision : int
        Decimal places of the coordinates (7 = about 1 cm).

    Returns
    -------
    dict
        With a ``bbox`` of all features.

    Raises
    ------
    ConfigError
        If a foreign member uses a reserved name.
    """
    from sitewatch.errors import ConfigError

    out_features = []
    bounds: list[tuple[float, float, float, float]] = []
    for feat in features:
        geom_in = feat.get("geometry")
        geometry = None
        if geom_in is not None:
            geom = _orient(transform_geometry(_to_geometry(geom_in), crs, "EPSG:4326"))
            geom = shapely.set_precision(geom, 10.0**-precision) if precision is not None else geom
            geom = _orient(geom)  # set_precision may reorder rings
            if not geom.is_empty:
                bounds.append(geom.bounds)
                geometry = _round(mapping(geom), precision)
        item: dict[str, Any] = {"type": "Feature"}
        if "id" in feat:
            item["id"] = _jsonable(feat["id"])
        item["geometry"] = geometry
        item["properties"] = _jsonable(dict(feat.get("properties") or {}))
        out_features.append(item)
    fc: dict[str, Any] = {"type": "FeatureCollection"}
    if bounds:
        b = np.asarray(bounds)
        fc["bbox"] = [round(float(v), precision) for v in (*b[:, :2].min(0), *b[:, 2:].max(0))]
    for key, value in (foreign or {}).items():
        if key in _RESERVED:
            raise ConfigError(f"{key!r} is a GeoJSON member name and cannot be a foreign member")
        fc[key] = _jsonable(value)
    fc["features"] = out_features
    return fc


def _round(obj: Any, precision: int) -> Any:
    if isinstance(obj, float):
        return round(obj, precision)
    if isinstance(obj, (list, tuple)):
        return [_round(v, precision) for v in obj]
    if isinstance(obj, Mapping):
        return {k: _round(v, precision) for k, v in obj.items()}
    return obj


def _signed_area(ring: list[list[float]]) -> float:
    xy = np.asarray(ring, dtype=np.float64)
    x, y = xy[:, 0], xy[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]))


def validate_feature_collection(fc: Mapping[str, Any]) -> list[str]:
    """Return the RFC 7946 problems of a FeatureCollection (empty when it is fine).

    Checks: the type, each feature's type and properties, lon/lat ranges, closed
    rings of at least four positions, counter-clockwise exteriors and clockwise holes.

    Parameters
    ----------
    fc : mapping

    Returns
    -------
    list of str
    """
    problems: list[str] = []
    if fc.get("type") != "FeatureCollection":
        return ["type is not FeatureCollection"]
    for i, feat in enumerate(fc.get("features", [])):
        if feat.get("type") != "Feature":
            problems.append(f"feature {i}: type is not Feature")
        if "properties" not in feat:
            problems.append(f"feature {i}: no properties member")
        geom = feat.get("geometry")
        if geom is None:
            continue
        polys: list[Any] = []
        if geom["type"] == "Polygon":
            polys = [geom["coordinates"]]
        elif geom["type"] == "MultiPolygon":
            polys = list(geom["coordinates"])
        for rings in polys:
            for j, ring in enumerate(rings):
                if len(ring) < 4 or ring[0] != ring[-1]:
                    problems.append(f"feature {i}: ring {j} is not closed or too short")
                    continue
                xy = np.asarray(ring)
                if (np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any():
                    problems.append(f"feature {i}: coordinates outside lon/lat range")
                area = _signed_area(ring)
                if j == 0 and area < 0:
                    problems.append(f"feature {i}: exterior ring is clockwise")
                if j > 0 and area > 0:
                    problems.append(f"feature {i}: hole {j} is counter-clockwise")
    return problems


def write_geojson(
    path: str | Path,
    features: Iterable[Mapping[str, Any]],
    *,
    crs: Any = "EPSG:4326",
    foreign: Mapping[str, Any] | None = None,
    precision: int = 7,
) -> Path:
    """Write features as an RFC 7946 GeoJSON FeatureCollection, atomically.

    Parameters
    ----------
    path : str or pathlib.Path
    features : iterable of mapping
        See :func:`feature_collection`; e.g. ``[o.to_feature() for o in objects]``.
    crs : str or CRS
        CRS of the input geometries (output is WGS84).
    foreign : mapping, optional
        Foreign members of the collection (run parameters, provenance...).
    precision : int
        Coordinate decimals.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> feats = [{"geometry": shapely.box(0, 0, 1, 1), "properties": {}}]
    >>> write_geojson("out.geojson", feats)  # doctest: +SKIP
    """
    fc = feature_collection(features, crs=crs, foreign=foreign, precision=precision)
    target = Path(path)
    atomic_write_text(target, json.dumps(fc, ensure_ascii=False, allow_nan=False) + "\n")
    return target


def write_mask(path: str | Path, mask: xr.DataArray, *, nodata: int | None = 255) -> Path:
    """Write a 2-D uint8 DataArray as a single-band GeoTIFF on its own grid, atomically.

    Parameters
    ----------
    path : str or pathlib.Path
    mask : xarray.DataArray
        ``(y, x)`` uint8 on an odc-geo grid (``mask.odc.geobox``).
    nodata : int or None
        Value recorded as no data.

    Returns
    -------
    pathlib.Path
    """
    import rasterio

    gbox = mask.odc.geobox
    data = np.asarray(mask.values).astype(np.uint8)
    target = Path(path)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "dtype": "uint8",
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "crs": gbox.crs.to_wkt(),
        "transform": gbox.affine,
        "compress": "deflate",
    }
    if nodata is not None:
        profile["nodata"] = nodata
    # GDAL can close a file the full disk cut short without a word: read it back before the rename
    with (
        atomic_output(target, verify=verify_raster, needed_bytes=data.size) as tmp,
        rasterio.open(tmp, "w", **profile) as dst,
    ):
        dst.write(data, 1)
        desc = mask.attrs.get("description")
        if desc:
            dst.set_band_description(1, str(desc))
        tags = {k: str(v) for k, v in mask.attrs.items() if isinstance(v, (str, int, float))}
        if tags:
            dst.update_tags(**tags)
    return target
