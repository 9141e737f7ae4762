"""The ``local`` provider: Sentinel-2 scenes a user already has on disk.

A scene is either

(a) a multi-band GeoTIFF whose band descriptions name the bands (``B02``, ``B03``, ...,
    optionally ``SCL``; other bands are allowed and ignored unless asked for), or
(b) a folder of single-band GeoTIFF or JPEG2000 files whose names end in the band
    (``..._B02.tif``, ``..._B8A.jp2``, ``..._SCL_20m.jp2``); files of several dates
    may share a folder, they are grouped by name.

The acquisition date comes from the name (a Sentinel-2 ``YYYYMMDDTHHMMSS`` token,
``YYYY-MM-DD`` or ``YYYYMMDD``), else from the ``TIFFTAG_DATETIME`` tag. A directory
holding such scenes (at any depth up to three) is a time series.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
import rasterio.errors
import shapely
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from sitewatch.errors import (
    BandMissingError,
    ConfigError,
    DataError,
    DataWarning,
    NoOverlapError,
    NoScenesError,
)
from sitewatch.providers.base import ALL_BANDS, BAND_RESOLUTION_M, CATEGORICAL_BANDS
from sitewatch.types import AOI, WGS84, Scene, transform_geometry, utm_crs_for

__all__ = [
    "LocalProvider",
    "aoi_coverage",
    "date_from_name",
    "find_scenes",
    "load_scenes",
    "open_scene",
    "open_series",
    "target_geobox",
]

log = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2")
_BAND_TOKEN = r"B0[1-9]|B1[0-2]|B8A|SCL"
_BAND_FILE_RE = re.compile(rf"^(?P<stem>.*?)[_.-](?P<band>{_BAND_TOKEN})(?:_(?:10|20|60)m)?$", re.IGNORECASE)
_S2_DATETIME_RE = re.compile(r"(?<!\d)(\d{8})T(\d{6})(?!\d)")
_ISO_DATE_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_COMPACT_DATE_RE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_BASELINE_RE = re.compile(r"_N(\d{2})(\d{2})_")
_MAX_DEPTH = 3
# Sentinel-2 products from processing baseline 04.00 (25 Jan 2022) on carry +1000 in every
# reflectance DN; ESA names the correction BOA_ADD_OFFSET (L2A) and RADIO_ADD_OFFSET (L1C).
_BASELINE_WITH_OFFSET = 4.0
_PB04_OFFSET = -1000.0


def date_from_name(text: str) -> dt.datetime | None:
    """Return the acquisition time a file or folder name holds, or None.

    Recognises a Sentinel-2 ``YYYYMMDDTHHMMSS`` token (the first one: the sensing
    time in product names), then ``YYYY-MM-DD``, then a lone ``YYYYMMDD``.

    Parameters
    ----------
    text : str
        A file or folder name.

    Returns
    -------
    datetime.datetime or None
        Timezone-aware (UTC).

    Examples
    --------
    >>> date_from_name("T40QBM_20180328T065919_B02.tif")
    datetime.datetime(2018, 3, 28, 6, 59, 19, tzinfo=datetime.timezone.utc)
    >>> date_from_name("scene_2024-05-01.tif").date()
    datetime.date(2024, 5, 1)
    """
    for regex, fmt in (
        (_S2_DATETIME_RE, "%Y%m%d%H%M%S"),
        (_ISO_DATE_RE, "%Y%m%d"),
        (_COMPACT_DATE_RE, "%Y%m%d"),
    ):
        for match in regex.finditer(text):
            try:
                return dt.datetime.strptime("".join(match.groups()), fmt).replace(tzinfo=dt.timezone.utc)
            except ValueError:
                continue
    return None


_OPER_TILE_RE = re.compile(r"^S2A_OPER_MSI_L1C_TL_\w{4}_\d{8}T\d{6}_A(\d{6})_T\d{2}[A-Z]{3}")
# Sentinel-2A: launched 2015-06-23 01:52 UTC; 143 orbits every 10 days; descending node at 10:30
# local solar time. Old "OPER" tile names (before December 2016) hold the *processing* time and the
# absolute orbit, not the sensing time; orbit + local solar time give the sensing date exactly.
_S2A_EPOCH = dt.datetime(2015, 6, 23, 1, 52, tzinfo=dt.timezone.utc)
_S2_ORBIT_PERIOD = dt.timedelta(days=10) / 143
_S2_LOCAL_SOLAR_HOUR = 10.5


def sensing_time_from_orbit(absolute_orbit: int, lon: float) -> dt.datetime:
    """Sentinel-2A sensing time from its absolute orbit number and the scene longitude.

    The orbit number pins the time to within one orbit (about 100 minutes); the
    10:30 local solar time of the descending node then fixes the day and hour.

    Parameters
    ----------
    absolute_orbit : int
        The ``A0xxxxx`` number of an S2A product or tile name.
    lon : float
        Longitude of the scene centre, degrees.

    Returns
    -------
    datetime.datetime
        Approximate sensing time (UTC); the date is exact.

    Examples
    --------
    >>> sensing_time_from_orbit(1254, -122.0).date()  # OSCD Cupertino, sensed 2015-09-18
    datetime.date(2015, 9, 18)
    """
    estimate = _S2A_EPOCH + (absolute_orbit - 0.5) * _S2_ORBIT_PERIOD
    utc_hour = (_S2_LOCAL_SOLAR_HOUR - lon / 15.0) % 24
    candidates = [
        dt.datetime.combine(estimate.date() + dt.timedelta(days=k), dt.time(), dt.timezone.utc)
        + dt.timedelta(hours=utc_hour)
        for k in (-1, 0, 1)
    ]
    return min(candidates, key=lambda c: abs(c - estimate))


def _date_from_tags(tags: Mapping[str, str]) -> dt.datetime | None:
    value = tags.get("TIFFTAG_DATETIME")
    if not value:
        return None
    try:
        return dt.datetime.strptime(value.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def _open(path: Path | str) -> Any:
    """Open a raster or raise a DataError that names the file."""
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(
            f"{path} cannot be read as a raster ({exc}); it may be truncated or not a "
            "GeoTIFF/JPEG2000: download or export it again"
        ) from None


def _crs_text(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _grid_info(
    path: Path, what: str
) -> tuple[str, tuple[float, float, float, float], tuple[int, int], dict[str, str]]:
    with _open(path) as src:
        if src.crs is None:
            raise DataError(
                f"{what}: {path} has no CRS (it is not georeferenced); sitewatch needs georeferenced "
                "imagery: assign one with `rio edit-info --crs EPSG:xxxx` or re-export it"
            )
        tags = dict(src.tags())
        return _crs_text(src.crs), tuple(src.bounds), (src.height, src.width), tags  # type: ignore[return-value]


def _level_from(text: str, tags: Mapping[str, str], bands: Sequence[str]) -> str | None:
    upper = text.upper()
    tag = str(tags.get("PROCESSING_LEVEL", "")).upper()
    for candidate in (tag, upper):
        if "L2A" in candidate or "LEVEL-2A" in candidate:
            return "L2A"
        if "L1C" in candidate or "LEVEL-1C" in candidate:
            return "L1C"
    return "L2A" if "SCL" in bands else None


def _baseline_from(text: str, tags: Mapping[str, str]) -> float | None:
    tag = tags.get("PROCESSING_BASELINE")
    if tag:
        try:
            return float(tag)
        except ValueError:
            pass
    match = _BASELINE_RE.search(text)
    if match:
        return int(match.group(1)) + int(match.group(2)) / 100
    return None


def _offset_from(tags: Mapping[str, str], level: str | None, baseline: float | None) -> float:
    for key in ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET"):
        value = tags.get(key)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                pass
    if level is not None and baseline is not None and baseline >= _BASELINE_WITH_OFFSET:
        return _PB04_OFFSET
    return 0.0


def _centre_lon(crs: str, bounds: Sequence[float]) -> float:
    x, y = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    if pyproj.CRS.from_user_input(crs).is_geographic:
        return float(x)
    lon, _ = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True).transform(x, y)
    return float(lon)


def _finest_band(bands: Sequence[str]) -> str:
    return min(bands, key=lambda b: (BAND_RESOLUTION_M.get(b, 10), b))


def _multiband_scene(path: Path) -> Scene | None:
    """A scene from one multi-band file, or None when its bands are not named as Sentinel-2 bands."""
    with _open(path) as src:
        descriptions = [d.strip() if d else "" for d in src.descriptions]
        if not any(re.fullmatch(_BAND_TOKEN, d, re.IGNORECASE) for d in descriptions):
            return None
        if src.crs is None:
            raise DataError(
                f"{path} has no CRS (it is not georeferenced); assign one with "
                "`rio edit-info --crs EPSG:xxxx` or re-export it"
            )
        tags = dict(src.tags())
        when = date_from_name(path.name) or _date_from_tags(tags)
        if when is None:
            raise DataError(
                f"cannot tell the acquisition date of {path}: put it in the file name "
                "(YYYYMMDD or YYYY-MM-DD) or set the TIFFTAG_DATETIME tag"
            )
        bands = tuple(d.upper() if re.fullmatch(_BAND_TOKEN, d, re.I) else d for d in descriptions)
        level = _level_from(path.name, tags, bands)
        baseline = _baseline_from(path.name, tags)
        band_offsets = {}
        for i, band in enumerate(bands, start=1):
            btags = src.tags(i)
            merged = {**tags, **{k: v for k, v in btags.items()}}
            band_offsets[band] = 0.0 if band in CATEGORICAL_BANDS else _offset_from(merged, level, baseline)
        return Scene(
            id=path.stem,
            datetime=when,
            bands=bands,
            provider="local",
            location=str(path),
            processing_level=level,  # type: ignore[arg-type]
            crs=_crs_text(src.crs),
            bounds=tuple(src.bounds),  # type: ignore[arg-type]
            shape=(src.height, src.width),
            assets={b: f"{path}#{i}" for i, b in enumerate(bands, start=1)},
            properties={"offsets": band_offsets, "processing_baseline": baseline, "layout": "multiband"},
        )


def _band_folder_scene(stem: str, files: Mapping[str, Path], folder: Path) -> Scene:
    bands = tuple(sorted(files, key=lambda b: ALL_BANDS.index(b) if b in ALL_BANDS else 99))
    ref = files[_finest_band(bands)]
    crs, bounds, shape, tags = _grid_info(ref, f"scene {stem or folder.name}")
    when = date_from_name(stem) or date_from_name(folder.name) or _date_from_tags(tags)
    oper = _OPER_TILE_RE.match(stem)
    date_source = "name"
    if oper:
        lon = _centre_lon(crs, bounds)
        when = sensing_time_from_orbit(int(oper.group(1)), lon)
        date_source = "orbit"
    if when is None:
        raise DataError(
            f"cannot tell the acquisition date of the scene in {folder} ({ref.name}): put YYYYMMDD "
            "or YYYY-MM-DD in the file or folder name, or set TIFFTAG_DATETIME"
        )
    level = _level_from(f"{folder.name}/{ref.name}", tags, bands)
    baseline = _baseline_from(f"{folder.name}/{ref.name}", tags)
    offset = _offset_from(tags, level, baseline)
    scene_id = stem or folder.name
    return Scene(
        id=scene_id,
        datetime=when,
        bands=bands,
        provider="local",
        location=str(folder),
        processing_level=level,  # type: ignore[arg-type]
        crs=crs,
        bounds=bounds,
        shape=shape,
        assets={b: str(p) for b, p in files.items()},
        properties={
            "offsets": {b: (0.0 if b in CATEGORICAL_BANDS else offset) for b in bands},
            "processing_baseline": baseline,
            "layout": "band-files",
            "date_source": date_source,
        },
    )


def _scan_dir(folder: Path, depth: int) -> Iterator[Scene]:
    groups: dict[str, dict[str, Path]] = defaultdict(dict)
    subdirs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            subdirs.append(entry)
            continue
        if entry.suffix.lower() not in RASTER_SUFFIXES:
            continue
        match = _BAND_FILE_RE.match(entry.stem)
        if match:
            groups[match["stem"]][match["band"].upper()] = entry
            continue
        scene = _multiband_scene(entry)
        if scene is None:
            warnings.warn(
                f"{entry} is a raster but its band descriptions name no Sentinel-2 band; skipped "
                "(set descriptions B02, B03, ... to read it)",
                DataWarning,
                stacklevel=3,
            )
            continue
        yield scene
    for stem, files in groups.items():
        yield _band_folder_scene(stem, files, folder)
    if depth < _MAX_DEPTH:
        for sub in subdirs:
            yield from _scan_dir(sub, depth + 1)


def find_scenes(path: str | Path) -> list[Scene]:
    """Find every scene in a file or directory, oldest first.

    Parameters
    ----------
    path : str or pathlib.Path
        A multi-band GeoTIFF, a folder of per-band files, or a folder of either
        (searched three levels deep). Files that are not rasters (PNG previews,
        text) are ignored.

    Returns
    -------
    list of Scene

    Raises
    ------
    NoScenesError
        If the path does not exist or holds no scene.
    DataError
        If a raster is broken, has no CRS, or has no date.
    """
    root = Path(path)
    if not root.exists():
        raise NoScenesError(f"{root} does not exist")
    if root.is_file():
        scene = _multiband_scene(root) if root.suffix.lower() in RASTER_SUFFIXES else None
        if scene is None:
            raise NoScenesError(
                f"{root} is not a Sentinel-2 scene: expected a GeoTIFF whose band descriptions "
                "are B02, B03, ... (or a folder of *_B02.tif files)"
            )
        return [scene]
    scenes = sorted(_scan_dir(root, 0), key=lambda s: (s.datetime, s.id))
    if not scenes:
        raise NoScenesError(
            f"no Sentinel-2 scenes found in {root}: expected multi-band GeoTIFFs with band "
            "descriptions (B02, B03, ...) or folders of per-band files named *_B02.tif / *_B02.jp2"
        )
    return scenes


def aoi_coverage(aoi: AOI, footprint: shapely.Geometry | None) -> float:
    """Fraction (0..1) of the AOI's area inside a WGS84 footprint.

    Parameters
    ----------
    aoi : AOI
    footprint : shapely geometry or None
        WGS84 footprint, e.g. ``scene.footprint()``; None counts as no coverage.

    Returns
    -------
    float
    """
    if footprint is None:
        return 0.0
    area = aoi.geometry_in(aoi.utm_crs)
    if area.area == 0:
        return 0.0
    covered = transform_geometry(footprint, WGS84, aoi.utm_crs).intersection(area)
    return float(min(1.0, covered.area / area.area))


def _wgs84_bounds(bounds: Sequence[float], crs: Any) -> tuple[float, ...]:
    if pyproj.CRS.from_user_input(crs) == pyproj.CRS.from_user_input(WGS84):
        return tuple(round(v, 6) for v in bounds)
    tr = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    left, bottom, right, top = bounds
    return tuple(round(v, 6) for v in tr.transform_bounds(left, bottom, right, top))


def target_geobox(
    scenes: Sequence[Scene],
    *,
    aoi: AOI | None = None,
    crs: str | None = None,
    resolution_m: float = 10.0,
) -> GeoBox:
    """The grid a stack of ``scenes`` is loaded onto.

    Without ``crs``: the finest-band grid of the first scene, cropped to the AOI.
    With ``crs`` (``"utm"`` for the AOI's UTM zone, or any CRS text): a grid of
    ``resolution_m`` pixels in that CRS, snapped to whole multiples of the pixel
    size, over the AOI (or over all scenes when there is no AOI).

    Parameters
    ----------
    scenes : sequence of Scene
    aoi : AOI, optional
    crs : str, optional
    resolution_m : float
        Pixel size in CRS units when ``crs`` is given (metres for UTM).

    Returns
    -------
    odc.geo.geobox.GeoBox

    Raises
    ------
    NoOverlapError
        If the AOI lies outside the data; the message gives both extents.
    """
    if not scenes:
        raise NoScenesError("no scenes to load")
    first = scenes[0]
    if first.crs is None or first.bounds is None or first.shape is None:
        raise DataError(f"scene {first.id} carries no grid (CRS, bounds, shape)")
    if crs is not None:
        if crs.lower() == "utm":
            lon, lat = aoi.centroid if aoi else shapely.centroid(first.footprint()).coords[0]  # type: ignore[arg-type]
            crs = utm_crs_for(lon, lat)
        if aoi is not None:
            bbox = aoi.geometry_in(crs).bounds
        else:
            footprints = [s.footprint() for s in scenes]
            union = shapely.union_all([f for f in footprints if f is not None])
            tr = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
            bbox = tr.transform_bounds(*union.bounds)
        gbox = GeoBox.from_bbox(bbox, crs, resolution=resolution_m)
        if aoi is not None:
            _check_overlap(scenes, aoi)
        return gbox

    height, width = first.shape
    left, bottom, right, top = first.bounds
    affine = rasterio.transform.from_bounds(left, bottom, right, top, width, height)
    gbox = GeoBox((height, width), affine, first.crs)
    if aoi is None:
        return gbox
    aoi_native = aoi.geometry_in(first.crs)
    window = rasterio.windows.from_bounds(*aoi_native.bounds, transform=affine)
    row0 = max(0, math.floor(window.row_off))
    col0 = max(0, math.floor(window.col_off))
    row1 = min(height, math.ceil(window.row_off + window.height))
    col1 = min(width, math.ceil(window.col_off + window.width))
    if row1 <= row0 or col1 <= col0:
        _check_overlap(scenes, aoi)  # raises with both extents when nothing overlaps
        raise NoOverlapError(
            f"AOI {aoi.name} {tuple(round(v, 6) for v in aoi.bounds)} lies outside the grid of scene "
            f"{first.id} {_wgs84_bounds(first.bounds, first.crs)} (WGS84 west, south, east, north)"
        )
    return gbox[row0:row1, col0:col1]


def _check_overlap(scenes: Sequence[Scene], aoi: AOI) -> None:
    footprints = [s.footprint() for s in scenes]
    if any(f is not None and f.intersects(aoi.geometry) for f in footprints):
        return
    extents = "; ".join(f"{s.id} {_wgs84_bounds(s.bounds, s.crs)}" for s in scenes[:3] if s.bounds and s.crs)
    raise NoOverlapError(
        f"AOI {aoi.name} {tuple(round(v, 6) for v in aoi.bounds)} does not overlap the data: {extents}"
        f"{' ...' if len(scenes) > 3 else ''} (WGS84 west, south, east, north); check the AOI or the folder"
    )


def _choose_bands(scenes: Sequence[Scene], bands: Sequence[str] | None) -> list[str]:
    if bands is not None:
        wanted = [b.upper() if re.fullmatch(_BAND_TOKEN, b, re.I) else b for b in bands]
        for scene in scenes:
            missing = [b for b in wanted if b not in scene.bands]
            if missing:
                raise BandMissingError(
                    f"scene {scene.id} ({scene.location}) has no band {', '.join(missing)}; it has "
                    f"{', '.join(scene.bands)}: ask for bands it has or add the missing files"
                )
        return wanted
    common = set(scenes[0].bands).intersection(*(s.bands for s in scenes[1:]))
    every = set().union(*(s.bands for s in scenes))
    order = [*ALL_BANDS, "SCL"]
    chosen = [b for b in order if b in common]
    dropped = sorted(b for b in every - common if b in order)
    if dropped:
        warnings.warn(
            f"bands {', '.join(dropped)} are missing from some scenes; loading the {len(chosen)} "
            f"bands all scenes share ({', '.join(chosen)})",
            DataWarning,
            stacklevel=3,
        )
    if not chosen:
        raise BandMissingError("the scenes share no Sentinel-2 band; they cannot be stacked")
    return chosen


def _resampling_for(band: str, target_res_m: float) -> Resampling:
    if band in CATEGORICAL_BANDS:
        return Resampling.nearest
    if BAND_RESOLUTION_M.get(band, 10) < 0.75 * target_res_m:
        return Resampling.average
    return Resampling.bilinear


def _target_res_m(gbox: GeoBox) -> float:
    res = abs(gbox.resolution.x)
    return res * 111_320.0 if gbox.crs is not None and gbox.crs.geographic else res


def grid_window(src: Any, gbox: GeoBox, *, inside_only: bool = True) -> Window | None:
    """The window of an open raster that is exactly ``gbox``: same CRS and pixel grid, else None.

    Parameters
    ----------
    src : rasterio.io.DatasetReader
    gbox : GeoBox
    inside_only : bool
        Only windows inside the raster (else ones reaching past its edges too, for a
        boundless read).

    Returns
    -------
    rasterio.windows.Window or None
    """
    a, t = gbox.affine, src.transform
    if src.crs is None or gbox.crs is None or a.b != 0 or a.d != 0 or t.b != 0 or t.d != 0:
        return None
    if not (math.isclose(a.a, t.a, rel_tol=1e-9) and math.isclose(a.e, t.e, rel_tol=1e-9)):
        return None
    epsg = gbox.crs.epsg
    if epsg is None or src.crs.to_epsg() != epsg:
        return None
    col, row = ~t * (a.c, a.f)
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    col, row = round(col), round(row)
    height, width = gbox.shape
    if inside_only and (col < 0 or row < 0 or col + width > src.width or row + height > src.height):
        return None
    return Window(col, row, width, height)


def read_band(scene: Scene, band: str, gbox: GeoBox) -> np.ndarray:
    """Read one band of a local scene onto a grid, as float32 with NaN for no data.

    Only the part of the file under the grid is read; 20 m and 60 m bands are
    resampled (bilinear) and other CRSs reprojected on the fly. Offsets recorded
    in ``scene.properties["offsets"]`` are applied.

    Parameters
    ----------
    scene : Scene
    band : str
    gbox : odc.geo.geobox.GeoBox

    Returns
    -------
    numpy.ndarray
        Shape ``gbox.shape``.
    """
    out: np.ndarray = read_bands(scene, [band], gbox)[0]
    return out


def read_bands(scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
    """Read bands of a local scene onto a grid, ``(band, y, x)`` float32 with NaN for no data.

    As :func:`read_band`, opening each file once: bands stored in one file on the grid's own
    pixel grid are read together in one windowed read (no resampling needed), which is
    much cheaper than band by band when a stack is read in many small blocks.
    """
    out = np.empty((len(bands), *gbox.shape), np.float32)
    by_file: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for i, band in enumerate(bands):
        path, _, index = scene.assets[band].partition("#")
        by_file[path].append((i, int(index) if index else 1, band))
    offsets = scene.properties.get("offsets", {})
    for path, members in by_file.items():
        with _open(path) as src:
            if src.crs is None:
                raise DataError(f"{path} has no CRS (it is not georeferenced)")
            src_nodata = src.nodata if src.nodata is not None else 0
            try:
                window = grid_window(src, gbox, inside_only=False)
                if window is not None:
                    # the file's own pixel grid: a plain windowed read, as the warper would give
                    outside = (
                        window.col_off < 0
                        or window.row_off < 0
                        or window.col_off + window.width > src.width
                        or window.row_off + window.height > src.height
                    )
                    raw = src.read(
                        [bidx for _, bidx, _ in members],
                        window=window,
                        boundless=outside,
                        fill_value=src_nodata,
                    )
                    for k, (i, _, _) in enumerate(members):
                        layer = out[i]
                        layer[...] = raw[k]
                        layer[raw[k] == src_nodata] = np.nan
                else:
                    for i, bidx, band in members:
                        out[i] = _warped(src, bidx, band, gbox, src_nodata)
            except rasterio.errors.RasterioError as exc:
                names = ", ".join(b for _, _, b in members)
                raise DataError(f"{path} (band {names} of scene {scene.id}) cannot be read: {exc}") from None
        for i, _, band in members:
            offset = float(offsets.get(band, 0.0))
            if offset:
                out[i] += np.float32(offset)
    return out


def _warped(src: Any, bidx: int, band: str, gbox: GeoBox, src_nodata: float) -> np.ndarray:
    """One band warped onto ``gbox`` (resampled or reprojected)."""
    height, width = gbox.shape
    with WarpedVRT(
        src,
        crs=str(gbox.crs.to_wkt()) if gbox.crs is not None else src.crs,
        transform=gbox.affine,
        width=width,
        height=height,
        resampling=_resampling_for(band, _target_res_m(gbox)),
        src_nodata=src_nodata,
        nodata=np.nan,
        dtype="float32",
    ) as vrt:
        data: np.ndarray = vrt.read(bidx)
    return data


def load_scenes(
    scenes: Sequence[Scene],
    *,
    aoi: AOI | None = None,
    bands: Sequence[str] | None = None,
    geobox: GeoBox | None = None,
    crs: str | None = None,
    resolution_m: float = 10.0,
    chunk_px: int | None = None,
) -> xr.DataArray:
    """Load local scenes as one ``(time, band, y, x)`` stack on a common grid.

    Parameters
    ----------
    scenes : sequence of Scene
        From :func:`find_scenes`; loaded in time order.
    aoi : AOI, optional
        Load only the window holding the AOI.
    bands : sequence of str, optional
        Bands to load; by default those every scene has.
    geobox : GeoBox, optional
        An explicit target grid; wins over ``aoi``/``crs``.
    crs : str, optional
        ``"utm"`` (the AOI's zone) or a CRS to reproject to; by default the first
        scene's own grid.
    resolution_m : float
        Pixel size when reprojecting.
    chunk_px : int, optional
        Load lazily: a dask-backed stack whose blocks (one date, all bands,
        ``chunk_px`` x ``chunk_px`` pixels) are read from the files only when computed,
        so a stack bigger than memory can be processed block by block.

    Returns
    -------
    xarray.DataArray
        float32 reflectance x 10000, NaN for no data; see :mod:`sitewatch.providers.base`.

    Raises
    ------
    BandMissingError, NoOverlapError, DataError
    """
    scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
    gbox = (
        geobox if geobox is not None else target_geobox(scenes, aoi=aoi, crs=crs, resolution_m=resolution_m)
    )
    names = _choose_bands(scenes, bands)
    if chunk_px is not None:

        def read_window(t: int, window: GeoBox) -> np.ndarray:
            return read_bands(scenes[t], names, window)

        return lazy_stack(read_window, gbox, scenes, names, chunk_px=chunk_px, provider="local")
    data = np.full((len(scenes), len(names), *gbox.shape), np.nan, dtype=np.float32)
    for t, scene in enumerate(scenes):
        data[t] = read_bands(scene, names, gbox)
        log.debug("loaded scene %s (%d bands)", scene.id, len(names))
    return stack_to_dataarray(data, gbox, scenes, names, provider="local")


def lazy_stack(
    read_window: Callable[[int, GeoBox], np.ndarray],
    gbox: GeoBox,
    scenes: Sequence[Scene],
    bands: Sequence[str],
    *,
    chunk_px: int,
    provider: str,
    source: str | None = None,
) -> xr.DataArray:
    """A dask-backed stack read block by block on demand: chunked reads for any provider.

    Parameters
    ----------
    read_window : callable
        ``read_window(t, window_geobox)`` returns the ``(band, y, x)`` float32 block of
        scene ``t`` on ``window_geobox`` (a slice of ``gbox``).
    gbox : GeoBox
    scenes : sequence of Scene
        One per time step, in order.
    bands : sequence of str
    chunk_px : int
        Block side in pixels (one date and all bands per block).
    provider, source : str

    Returns
    -------
    xarray.DataArray
        As :func:`stack_to_dataarray`, with dask chunks ``(1, bands, chunk_px, chunk_px)``.
    """
    import dask.array as da
    from dask.array.core import normalize_chunks

    if chunk_px < 1:
        raise ConfigError(f"chunk_px must be a positive number of pixels, not {chunk_px}")
    height, width = gbox.shape
    ychunks, xchunks = normalize_chunks((chunk_px, chunk_px), (height, width))

    def block(block_info: dict[Any, Any] | None = None) -> np.ndarray:
        assert block_info is not None
        (t0, t1), _, (y0, y1), (x0, x1) = block_info[None]["array-location"]
        window = gbox[y0:y1, x0:x1]
        return np.stack([read_window(t, window).astype(np.float32, copy=False) for t in range(t0, t1)])

    data = da.map_blocks(
        block,
        dtype=np.float32,
        chunks=((1,) * len(scenes), (len(bands),), ychunks, xchunks),
        meta=np.empty((0, 0, 0, 0), np.float32),
        name=f"sitewatch-read-{provider}",
    )
    return stack_to_dataarray(data, gbox, scenes, bands, provider=provider, source=source)


def stack_to_dataarray(
    data: np.ndarray,
    gbox: GeoBox,
    scenes: Sequence[Scene],
    bands: Sequence[str],
    *,
    provider: str,
    source: str | None = None,
) -> xr.DataArray:
    """Wrap a ``(time, band, y, x)`` array in the sitewatch stack conventions.

    Parameters
    ----------
    data : numpy.ndarray
    gbox : GeoBox
    scenes : sequence of Scene
        One per time step, in order.
    bands : sequence of str
    provider : str
    source : str, optional

    Returns
    -------
    xarray.DataArray
    """
    coords: dict[str, Any] = {}
    # odc-geo names geographic axes latitude/longitude; sitewatch stacks always use y/x.
    for key, coord in xr_coords(gbox, crs_coord_name="spatial_ref").items():
        name = {"latitude": "y", "longitude": "x"}.get(str(key), str(key))
        coords[name] = (
            coord.rename({d: {"latitude": "y", "longitude": "x"}.get(str(d), d) for d in coord.dims})
            if coord.dims
            else coord
        )
    times = np.array(
        [s.datetime.astimezone(dt.timezone.utc).replace(tzinfo=None) for s in scenes], dtype="datetime64[ns]"
    )
    coords["time"] = ("time", times)
    coords["band"] = ("band", list(bands))
    coords["scene_id"] = ("time", [s.id for s in scenes])
    coords["processing_level"] = ("time", [s.processing_level or "" for s in scenes])
    return xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords=coords,
        name="reflectance",
        attrs={"provider": provider, "source": source or provider, "units": "reflectance x 10000"},
    )


def open_scene(
    path: str | Path,
    *,
    aoi: AOI | None = None,
    bands: Sequence[str] | None = None,
    geobox: GeoBox | None = None,
    crs: str | None = None,
    resolution_m: float = 10.0,
) -> xr.DataArray:
    """Load one scene (a multi-band GeoTIFF or a per-band folder) as a stack of one date.

    Parameters are those of :func:`load_scenes`.

    Returns
    -------
    xarray.DataArray
        Dims ``(time, band, y, x)`` with ``time`` of length 1.

    Raises
    ------
    DataError
        If ``path`` holds no scene or more than one date.

    Examples
    --------
    >>> stack = open_scene("imgs_1")  # doctest: +SKIP
    >>> stack.sizes["time"]  # doctest: +SKIP
    1
    """
    scenes = find_scenes(path)
    if len(scenes) != 1:
        raise DataError(
            f"{path} holds {len(scenes)} scenes ({', '.join(s.id for s in scenes[:4])}); "
            "point at one scene, or use open_series for a time series"
        )
    return load_scenes(scenes, aoi=aoi, bands=bands, geobox=geobox, crs=crs, resolution_m=resolution_m)


def open_series(
    path: str | Path,
    *,
    aoi: AOI | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    bands: Sequence[str] | None = None,
    crs: str | None = None,
    resolution_m: float = 10.0,
) -> xr.DataArray:
    """Load every scene under ``path`` (optionally within dates and over an AOI) as one stack.

    Returns
    -------
    xarray.DataArray

    Raises
    ------
    NoScenesError
        If no scene falls in the range or over the AOI.
    """
    provider = LocalProvider(str(path))
    scenes = list(provider.search(aoi, start, end))
    if not scenes:
        raise NoScenesError(
            f"no scenes in {path} between {start or 'the first'} and {end or 'the last'} date"
        )
    return provider.load(scenes, aoi=aoi, bands=bands, crs=crs, resolution_m=resolution_m)


class LocalProvider:
    """Scenes from a directory on disk (``--source local:DIR``).

    Parameters
    ----------
    root : str
        The directory (or single scene) to read.
    """

    name = "local"
    #: ``load`` reads lazily, block by block, with ``chunk_px``.
    reads_blocks = True

    def __init__(self, root: str | None = None, **options: Any) -> None:
        if not root:
            raise ConfigError("the local source needs a directory: --source local:DIR")
        self.root = Path(root).expanduser()

    def __repr__(self) -> str:
        return f"LocalProvider({str(self.root)!r})"

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        """Yield the scenes under the root in the date range that touch the AOI, oldest first."""
        for scene in find_scenes(self.root):
            if start is not None and scene.date < start:
                continue
            if end is not None and scene.date > end:
                continue
            if aoi is not None:
                footprint = scene.footprint()
                if footprint is not None and not footprint.intersects(aoi.geometry):
                    continue
            cloud = scene.cloud_fraction
            if max_cloud_fraction is not None and cloud is not None and cloud > max_cloud_fraction:
                continue
            yield scene

    def load(
        self,
        scenes: Sequence[Scene],
        *,
        aoi: AOI | None = None,
        bands: Sequence[str] | None = None,
        geobox: GeoBox | None = None,
        crs: str | None = None,
        resolution_m: float = 10.0,
        chunk_px: int | None = None,
    ) -> xr.DataArray:
        """Load ``scenes`` as a stack; see :func:`load_scenes` (``chunk_px``: lazily, block by block)."""
        da = load_scenes(
            scenes, aoi=aoi, bands=bands, geobox=geobox, crs=crs, resolution_m=resolution_m, chunk_px=chunk_px
        )
        da.attrs["source"] = f"local:{self.root}"
        return da


def write_scene(
    stack: xr.DataArray,
    directory: str | Path,
    *,
    name: str | None = None,
    processing_level: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write one date of a stack as a multi-band GeoTIFF in the local scene format.

    The file is written to a temporary name and renamed, so a crash never leaves a
    half-written scene. Reflectance bands are written as uint16 (0 = no data), so
    the file reads back as the same float32 stack (to the nearest integer).

    Parameters
    ----------
    stack : xarray.DataArray
        Dims ``(band, y, x)``, or ``(time, band, y, x)`` with one time, on a grid
        readable by ``.odc.geobox``; a ``time`` coordinate gives the date.
    directory : str or pathlib.Path
        Folder to write into (created if needed).
    name : str, optional
        File stem; by default ``S2_<YYYYMMDDTHHMMSS>`` from the time coordinate.
    processing_level : str, optional
        Written as the ``PROCESSING_LEVEL`` tag (``"L1C"``/``"L2A"``).
    tags : mapping, optional
        Further dataset tags.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if "time" in stack.dims:
        if stack.sizes["time"] != 1:
            raise DataError(f"write_scene writes one date; the stack has {stack.sizes['time']}")
        stack = stack.isel(time=0)
    when = stack.coords["time"].values if "time" in stack.coords else None
    stamp = None
    if when is not None:
        stamp = np.datetime_as_string(np.datetime64(when, "s")).replace("-", "").replace(":", "")
    stem = name or f"S2_{stamp or 'undated'}"
    gbox = stack.odc.geobox
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.tif"
    tmp = folder / f".{stem}.tif.partial"
    bands = [str(b) for b in stack.coords["band"].values]
    values = np.nan_to_num(stack.values.astype(np.float64), nan=0.0)
    data = np.clip(np.rint(values), 0, 65535).astype(np.uint16)
    profile = {
        "driver": "GTiff",
        "dtype": "uint16",
        "count": len(bands),
        "height": gbox.shape[0],
        "width": gbox.shape[1],
        "crs": gbox.crs.to_wkt(),
        "transform": gbox.affine,
        "nodata": 0,
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if gbox.shape[0] < 256 or gbox.shape[1] < 256:
        profile.update(tiled=False)
        profile.pop("blockxsize")
        profile.pop("blockysize")
    all_tags = dict(tags or {})
    if processing_level:
        all_tags["PROCESSING_LEVEL"] = processing_level
    if stamp:
        all_tags["TIFFTAG_DATETIME"] = (
            np.datetime_as_string(np.datetime64(when, "s")).replace("-", ":").replace("T", " ")
        )
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            for i, band in enumerate(bands, start=1):
                dst.set_band_description(i, band)
            if all_tags:
                dst.update_tags(**all_tags)
        tmp.replace(target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target
