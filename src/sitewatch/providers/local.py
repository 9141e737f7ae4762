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
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import rasterio
import rasterio.errors
import xarray as xr
from odc.geo.geobox import GeoBox

from sitewatch.errors import (
    BandMissingError,
    ConfigError,
    DataError,
    DataWarning,
    NoScenesError,
)
from sitewatch.fileio import atomic_output, verify_raster
from sitewatch.providers.base import ALL_BANDS, BAND_RESOLUTION_M, CATEGORICAL_BANDS
from sitewatch.providers.grid import (
    aoi_coverage,
    grid_window,
    lazy_stack,
    open_raster,
    read_band,
    read_bands,
    report_outside,
    stack_to_dataarray,
    target_geobox,
)
from sitewatch.providers.offsets import baseline_from, declared_offset
from sitewatch.types import AOI, WGS84, Scene

__all__ = [
    "LocalProvider",
    "aoi_coverage",
    "date_from_name",
    "find_scenes",
    "grid_window",
    "lazy_stack",
    "load_scenes",
    "open_scene",
    "open_series",
    "read_band",
    "stack_to_dataarray",
    "target_geobox",
    "write_scene",
]

log = logging.getLogger(__name__)

RASTER_SUFFIXES = (".tif", ".tiff", ".jp2")
_BAND_TOKEN = r"B0[1-9]|B1[0-2]|B8A|SCL"
_BAND_FILE_RE = re.compile(rf"^(?P<stem>.*?)[_.-](?P<band>{_BAND_TOKEN})(?:_(?:10|20|60)m)?$", re.IGNORECASE)
_S2_DATETIME_RE = re.compile(r"(?<!\d)(\d{8})T(\d{6})(?!\d)")
_ISO_DATE_RE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_COMPACT_DATE_RE = re.compile(r"(?<!\d)(\d{8})(?!\d)")
_MAX_DEPTH = 3


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


def _crs_text(crs: Any) -> str:
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt()


def _grid_info(
    path: Path, what: str
) -> tuple[str, tuple[float, float, float, float], tuple[int, int], dict[str, str]]:
    with open_raster(path) as src:
        if src.crs is None:
            raise DataError(
                f"{what}: {path} has no CRS (it is not georeferenced); sitewatch needs georeferenced "
                "imagery: assign one with `rio edit-info --crs EPSG:xxxx` or re-export it"
            )
        tags = dict(src.tags())
        return _crs_text(src.crs), tuple(src.bounds), (src.height, src.width), tags  # type: ignore[return-value]


_GRANULE_BAND_RE = re.compile(r"(?:^|/)T\d{2}[A-Z]{3}_\d{8}T\d{6}_(?:B\d[\dA]|TCI|AOT|WVP|SCL)(_\d{2}M)?\.")


def _level_from(text: str, tags: Mapping[str, str], bands: Sequence[str]) -> str | None:
    upper = text.upper()
    tag = str(tags.get("PROCESSING_LEVEL", "")).upper()
    for candidate in (tag, upper):
        if "L2A" in candidate or "LEVEL-2A" in candidate:
            return "L2A"
        if "L1C" in candidate or "LEVEL-1C" in candidate:
            return "L1C"
    if "SCL" in bands:
        return "L2A"
    # ESA's granule file names: L2A bands carry their resolution (T40QBM_..._B02_10m.jp2),
    # L1C bands do not (T40QBM_..._B02.jp2)
    granule = _GRANULE_BAND_RE.search(upper)
    if granule:
        return "L2A" if granule.group(1) else "L1C"
    return None


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
    with open_raster(path) as src:
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
        baseline = baseline_from(path.name, tags)
        band_offsets = {}
        for i, band in enumerate(bands, start=1):
            btags = src.tags(i)
            merged = {**tags, **{k: v for k, v in btags.items()}}
            band_offsets[band] = (
                0.0 if band in CATEGORICAL_BANDS else declared_offset(merged, level, baseline)
            )
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
    baseline = baseline_from(f"{folder.name}/{ref.name}", tags)
    offset = declared_offset(tags, level, baseline)
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
        outside, n_in_range = [], 0
        for scene in find_scenes(self.root):
            if (start is not None and scene.date < start) or (end is not None and scene.date > end):
                continue
            n_in_range += 1
            footprint = scene.footprint() if aoi is not None else None
            if aoi is not None and footprint is not None and not footprint.intersects(aoi.geometry):
                outside.append(scene.id)
                continue
            if max_cloud_fraction is not None and (scene.cloud_fraction or 0.0) > max_cloud_fraction:
                continue
            yield scene
        if aoi is not None:
            report_outside(outside, aoi, n_in_range)

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
    # read back before the rename: GDAL can close a file a full disk cut short without a word
    with (
        atomic_output(target, verify=verify_raster, needed_bytes=data.nbytes) as tmp,
        rasterio.open(tmp, "w", **profile) as dst,
    ):
        dst.write(data)
        for i, band in enumerate(bands, start=1):
            dst.set_band_description(i, band)
        if all_tags:
            dst.update_tags(**all_tags)
    return target
