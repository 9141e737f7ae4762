"""The AOI registry: watched sites as GeoJSON files, and a gazetteer of other places.

Watched sites live in ``aoi/<name>.geojson`` (one Feature each), other places that
reports name in ``aoi/gazetteer.geojson``. Any user GeoJSON file with a Polygon,
MultiPolygon or Point plus ``radius_m`` is an AOI too.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sitewatch.errors import AOIError
from sitewatch.textnorm import fold_name
from sitewatch.types import AOI, WGS84, Place, transform_geometry, utm_crs_for

__all__ = [
    "aoi_dir",
    "MAX_RADIUS_M",
    "check_geometry",
    "check_name",
    "find_place",
    "list_aois",
    "load_aoi",
    "load_gazetteer",
    "list_places",
    "slugify",
]

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CERTAINTIES = ("exact", "approximate", "unknown")
GAZETTEER_FILE = "gazetteer.geojson"


def aoi_dir() -> Path:
    """Return the directory holding the AOI registry.

    ``$SITEWATCH_AOI_DIR`` wins; otherwise the copy installed with the package,
    else the ``aoi/`` folder of the source checkout.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get("SITEWATCH_AOI_DIR")
    if env:
        return Path(env)
    packaged = Path(__file__).with_name("_aoi")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "aoi"


def check_name(name: str, *, what: str = "AOI name") -> str:
    """Return ``name`` if it is safe to use as a file name, else raise.

    Safe names are lower case letters, digits, ``_`` and ``-`` (at most 64),
    so no ``..``, ``/`` or ``\\`` can ever reach a path.

    Parameters
    ----------
    name : str
        The candidate name.
    what : str
        What the name is, for the error message.

    Returns
    -------
    str

    Raises
    ------
    AOIError
        If the name holds anything else.

    Examples
    --------
    >>> check_name("qasrak")
    'qasrak'
    """
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise AOIError(
            f"{what} {name!r} is not allowed: use lower-case letters, digits, '_' and '-' "
            "(no '/', '..' or spaces), at most 64 characters"
        )
    return name


def slugify(text: str) -> str:
    """Turn free text into a safe machine name (``"Green Village"`` -> ``"green-village"``).

    Examples
    --------
    >>> slugify("Green Village base")
    'green-village-base'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64].strip("-")
    return slug or "aoi"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AOIError(f"AOI file {path} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AOIError(f"AOI file {path} is not valid GeoJSON: {exc}") from None
    except OSError as exc:
        raise AOIError(f"AOI file {path} cannot be read: {exc}") from None


def _single_feature(doc: Any, path: Path) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping) or "type" not in doc:
        raise AOIError(f"AOI file {path} is not GeoJSON (no 'type' member)")
    kind = doc["type"]
    if kind == "FeatureCollection":
        feats = doc.get("features") or []
        if len(feats) != 1:
            raise AOIError(
                f"AOI file {path} holds {len(feats)} features; an AOI file holds exactly one "
                "(split it into one file per site)"
            )
        return _single_feature(feats[0], path)
    if kind == "Feature":
        return doc
    if kind in {"Polygon", "MultiPolygon", "Point"}:
        return {"type": "Feature", "geometry": doc, "properties": {}}
    raise AOIError(f"AOI file {path}: GeoJSON type {kind!r} cannot be an AOI (use a Feature)")


def _circle(lon: float, lat: float, radius_m: float) -> BaseGeometry:
    """A geodesically sensible circle: buffered in UTM, returned in WGS84."""
    utm = utm_crs_for(lon, lat)
    centre = transform_geometry(shapely.Point(lon, lat), WGS84, utm)
    return transform_geometry(centre.buffer(radius_m, quad_segs=32), utm, WGS84)


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def aoi_from_feature(
    feature: Mapping[str, Any], *, path: Path | None = None, default_name: str | None = None
) -> AOI:
    """Build an :class:`~sitewatch.types.AOI` from a GeoJSON Feature mapping.

    Parameters
    ----------
    feature : mapping
        A GeoJSON Feature. Its geometry is a Polygon or MultiPolygon, or a Point
        with ``properties.radius_m``. Optional properties: ``name``, ``display_name``,
        ``aliases``, ``location_certainty``, ``search_radius_m``, ``sources``,
        ``reported``, ``notes``, ``point`` (``[lon, lat]``).
    path : pathlib.Path, optional
        Where the feature was read from (for messages).
    default_name : str, optional
        Name to use when the feature has no ``name`` property.

    Returns
    -------
    AOI

    Raises
    ------
    AOIError
        On a missing or unusable geometry, a bad name or a bad property.
    """
    where = str(path) if path else "AOI feature"
    props = dict(feature.get("properties") or {})
    geom_doc = feature.get("geometry")
    if not geom_doc:
        raise AOIError(f"{where}: the feature has no geometry")
    try:
        geom = shape(geom_doc)
    except Exception as exc:  # shapely raises several types for bad coordinates
        raise AOIError(f"{where}: geometry cannot be read: {exc}") from None
    if geom.is_empty:
        raise AOIError(f"{where}: geometry is empty")
    lon_ok = -180 <= geom.bounds[0] <= geom.bounds[2] <= 180
    lat_ok = -90 <= geom.bounds[1] <= geom.bounds[3] <= 90
    if not (lon_ok and lat_ok):
        raise AOIError(
            f"{where}: coordinates {geom.bounds} are not WGS84 longitude/latitude "
            "(GeoJSON must be in EPSG:4326, longitude first)"
        )

    name = props.get("name") or default_name
    if name is None:
        raise AOIError(f"{where}: the feature has no 'name' property")
    check_name(str(name), what=f"{where}: AOI name")

    point: tuple[float, float] | None = None
    radius = props.get("radius_m")
    if geom.geom_type == "Point":
        if radius is None:
            raise AOIError(f"{where}: a Point AOI needs properties.radius_m (the radius to watch, in metres)")
        point = (geom.x, geom.y)
    elif geom.geom_type not in {"Polygon", "MultiPolygon"}:
        raise AOIError(f"{where}: geometry type {geom.geom_type} cannot be an AOI")
    if "point" in props and props["point"] is not None:
        try:
            lon, lat = (float(v) for v in props["point"])
        except (TypeError, ValueError):
            raise AOIError(f"{where}: properties.point must be [lon, lat]") from None
        point = (lon, lat)

    if radius is not None:
        try:
            radius = float(radius)
        except (TypeError, ValueError):
            raise AOIError(f"{where}: radius_m must be a number of metres, got {radius!r}") from None
        if not (math.isfinite(radius) and 0 < radius <= MAX_RADIUS_M):
            raise AOIError(
                f"{where}: radius_m must be between 0 and {MAX_RADIUS_M:g} m, got {radius:g}; "
                "a bigger area is several sites (one AOI file each) or a polygon"
            )
        if geom.geom_type == "Point":
            geom = _circle(geom.x, geom.y, radius)

    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    geom = check_geometry(geom, where=where)

    certainty = props.get("location_certainty", "exact")
    if certainty not in _CERTAINTIES:
        raise AOIError(f"{where}: location_certainty must be one of {_CERTAINTIES}, got {certainty!r}")
    if certainty == "unknown":
        # An unestablished location has no point, whatever geometry frames the search.
        point = None
    search_radius = props.get("search_radius_m")
    if certainty != "exact" and search_radius is None:
        raise AOIError(f"{where}: location_certainty is {certainty!r} but search_radius_m is missing")

    return AOI(
        name=str(name),
        display_name=str(props.get("display_name") or name),
        geometry=geom,
        point=point,
        aliases=_as_tuple(props.get("aliases")),
        location_certainty=certainty,
        search_radius_m=None if search_radius is None else float(search_radius),
        radius_m=radius,
        sources=_as_tuple(props.get("sources")),
        reported=tuple(props.get("reported") or ()),
        notes=str(props.get("notes") or ""),
        path=str(path) if path else None,
    )


#: Largest ``radius_m`` of a Point AOI: a 60 km circle (11,300 km2) is about one Sentinel-2 tile
#: (110 x 110 km) and stays within one UTM zone's sensible span at mid latitudes.
MAX_RADIUS_M = 60_000.0


def check_geometry(geom: BaseGeometry, *, where: str = "AOI") -> BaseGeometry:
    """Refuse geometries no scan can use: no area, or across the antimeridian.

    Parameters
    ----------
    geom : shapely geometry
        WGS84 longitude/latitude, already made valid.
    where : str
        Names the AOI in messages.

    Returns
    -------
    shapely geometry
        The polygonal part of ``geom`` (stray lines or points left by ``make_valid`` dropped).

    Raises
    ------
    AOIError
        If the polygon has no area (all corners on one line or point), or crosses the
        antimeridian (longitude 180), which a single UTM grid cannot hold: the AOI is
        refused with the advice to split it into one AOI on each side, never split
        silently (the two halves are two sites on two grids).

    Examples
    --------
    >>> check_geometry(shapely.Polygon([(0, 0), (1, 1), (2, 2)]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    sitewatch.errors.AOIError: AOI: the polygon has no area ...
    """
    polygons = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type in {"Polygon", "MultiPolygon"}]
    area = sum(g.area for g in polygons)
    if not polygons or not area > 0:
        raise AOIError(
            f"{where}: the polygon has no area (its corners lie on one line or point); "
            "draw it around the site"
        )
    west, _, east, _ = geom.bounds
    if east - west > 180 or (west <= -179.9 and east >= 179.9):
        raise AOIError(
            f"{where}: the polygon crosses the antimeridian (longitudes {west:g} to {east:g}); "
            "split it at longitude 180 into two AOIs, one on each side"
        )
    if geom.geom_type == "GeometryCollection":
        geom = shapely.unary_union(polygons)
    return geom


def _looks_like_path(text: str) -> bool:
    return text.endswith((".geojson", ".json")) or os.sep in text or "/" in text


def load_aoi(name_or_path: str | os.PathLike[str]) -> AOI:
    """Load a watched site by name, or any AOI GeoJSON file by path.

    Parameters
    ----------
    name_or_path : str or path-like
        A registry name (``"qasrak"``) or alias (``"Qasrek"``), or the path of a
        GeoJSON file holding one Polygon, MultiPolygon or Point + ``radius_m``.

    Returns
    -------
    AOI

    Raises
    ------
    AOIError
        If the name is unknown (close names are suggested), unsafe, or the file is malformed.

    Examples
    --------
    >>> load_aoi("qasrak").utm_crs
    'EPSG:32637'
    """
    text = os.fspath(name_or_path)
    candidate = Path(text)
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(text) or candidate.is_file():
        if not candidate.is_file():
            raise AOIError(f"AOI file {candidate} does not exist")
        feature = _single_feature(_read_json(candidate), candidate)
        return aoi_from_feature(feature, path=candidate, default_name=slugify(candidate.stem))

    registry = {a.name: a for a in list_aois()}
    if text in registry:
        return registry[text]
    # Aliases in Arabic script are found whatever letter variants, diacritics or article they are
    # written with (fold_name); Latin names case-insensitively.
    folded = fold_name(text)
    for aoi in registry.values():
        if folded in (fold_name(n) for n in (aoi.display_name, *aoi.aliases)):
            return aoi
    check_name(text.lower() if _NAME_RE.match(text.lower()) else text)
    names = list(registry) + [n for a in registry.values() for n in a.aliases]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise AOIError(
        f"unknown AOI {text!r}{hint} (known: {', '.join(sorted(registry)) or 'none'}; registry: {aoi_dir()})"
    )


def list_aois(directory: str | os.PathLike[str] | None = None) -> list[AOI]:
    """Return every watched site in the registry, sorted by name.

    Parameters
    ----------
    directory : path-like, optional
        Registry folder; defaults to :func:`aoi_dir`.

    Returns
    -------
    list of AOI
    """
    folder = Path(directory) if directory is not None else aoi_dir()
    if not folder.is_dir():
        raise AOIError(f"AOI registry folder {folder} does not exist (set SITEWATCH_AOI_DIR)")
    aois = []
    for path in sorted(folder.glob("*.geojson")):
        if path.name == GAZETTEER_FILE:
            continue
        feature = _single_feature(_read_json(path), path)
        aoi = aoi_from_feature(feature, path=path, default_name=slugify(path.stem))
        if aoi.name != path.stem:
            raise AOIError(f"AOI file {path} holds name {aoi.name!r}; rename one so they agree")
        aois.append(aoi)
    return aois


def load_gazetteer(directory: str | os.PathLike[str] | None = None) -> list[Place]:
    """Return the gazetteer: places reports name that are not watched (yet).

    Parameters
    ----------
    directory : path-like, optional
        Registry folder; defaults to :func:`aoi_dir`.

    Returns
    -------
    list of Place
    """
    folder = Path(directory) if directory is not None else aoi_dir()
    path = folder / GAZETTEER_FILE
    if not path.exists():
        return []
    doc = _read_json(path)
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise AOIError(f"gazetteer {path} must be a GeoJSON FeatureCollection")
    places = []
    for i, feat in enumerate(doc.get("features") or []):
        props = feat.get("properties") or {}
        name = check_name(str(props.get("name", "")), what=f"gazetteer entry #{i} name")
        geom = feat.get("geometry")
        point = None
        if geom:
            g = shape(geom)
            if g.geom_type != "Point":
                raise AOIError(f"gazetteer {path}: entry {name!r} must have a Point or null geometry")
            point = (g.x, g.y)
        certainty = props.get("location_certainty", "unknown" if point is None else "approximate")
        if certainty not in _CERTAINTIES:
            raise AOIError(f"gazetteer {path}: entry {name!r} has bad location_certainty {certainty!r}")
        places.append(
            Place(
                name=name,
                display_name=str(props.get("display_name") or name),
                aliases=_as_tuple(props.get("aliases")),
                point=point,
                location_certainty=certainty,
                kind="place",
                notes=str(props.get("notes") or ""),
                sources=_as_tuple(props.get("sources")),
            )
        )
    return places


def list_places(directory: str | os.PathLike[str] | None = None) -> list[Place]:
    """Return watched sites (as places) followed by the gazetteer.

    Returns
    -------
    list of Place
    """
    return [a.as_place() for a in list_aois(directory)] + load_gazetteer(directory)


def find_place(text: str, places: Iterable[Place] | None = None) -> Place | None:
    """Find a place by name or alias, case-insensitively, Arabic letter variants folded.

    Arabic aliases match whatever variants they are written with (أ/إ/آ/ا, ة/ه, ى/ي,
    tatweel, diacritics, the article ال-): see :func:`sitewatch.textnorm.fold_name`.

    Parameters
    ----------
    text : str
        A name as written.
    places : iterable of Place, optional
        Where to look; defaults to :func:`list_places`.

    Returns
    -------
    Place or None
    """
    folded = fold_name(text)
    for place in places if places is not None else list_places():
        if folded in (fold_name(n) for n in place.all_names):
            return place
    return None
