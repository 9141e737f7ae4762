"""The ``local`` radar provider: Sentinel-1 backscatter GeoTIFFs a user already has on disk.

The format (also in the README, "Radar (Sentinel-1)"):

- **One GeoTIFF per acquisition**, bands described ``VV`` and/or ``VH`` (any case; other
  bands, e.g. an incidence angle, are ignored), **linear power**, float32, no data NaN (or
  the file's nodata value). Files holding dB are recognised from their values, converted and
  warned about.
- **Date** from the name: a product name (``S1A_IW_GRDH_1SDV_20250307T032114_...``), any
  ``YYYYMMDDTHHMMSS``, ``YYYYMMDD`` or ``YYYY-MM-DD``; else the ``TIFFTAG_DATETIME`` tag.
- **Tags** (GDAL metadata, e.g. ``gdal_edit.py -mo ORBIT_DIRECTION=DESCENDING``):
  ``ORBIT_DIRECTION`` (``ASCENDING``/``DESCENDING``), ``RELATIVE_ORBIT`` (1..175),
  ``BACKSCATTER`` (``sigma0`` or ``gamma0``; ``SIGMA0_ELLIPSOID``, ``GAMMA0_TERRAIN`` and
  ``RTC`` are understood), optionally ``PLATFORM`` (``S1A``...).
- **When a tag is missing**: the relative orbit comes from a product name's absolute orbit;
  the direction from the acquisition's local solar time when the name gives the time of day
  (Sentinel-1 passes northward in the evening, southward in the morning); the convention
  from a ``sigma0``/``gamma0``/``rtc`` token in the name. Without them the file is refused
  with the tag to set.

A folder of such files (searched three levels deep) is a series; one series holds one
convention (sigma0 and gamma0 are refused together, naming the files).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
import shapely
import xarray as xr
from odc.geo.geobox import GeoBox

from sitewatch.core.sar import linear_power
from sitewatch.errors import (
    BandMissingError,
    ConfigError,
    DataError,
    DataWarning,
    NoOverlapError,
    NoScenesError,
)
from sitewatch.fileio import atomic_output, verify_raster
from sitewatch.providers.grid import read_bands, target_geobox
from sitewatch.providers.local import date_from_name
from sitewatch.providers.radar import (
    RADAR_BANDS,
    OrbitDirection,
    RadarInfo,
    backscatter_from_text,
    check_one_convention,
    orbit_direction_from_time,
    parse_product_name,
    radar_info,
    radar_stack,
    relative_orbit_from_absolute,
)
from sitewatch.types import AOI, Scene

__all__ = [
    "LocalRadarProvider",
    "find_radar_scenes",
    "load_radar_scenes",
    "local_s1_factory",
    "write_radar_scene",
]

log = logging.getLogger(__name__)

_SUFFIXES = (".tif", ".tiff")
_MAX_DEPTH = 3
_TIME_OF_DAY_RE = re.compile(r"(?<!\d)\d{8}T\d{6}(?!\d)")
_PLATFORM_RE = re.compile(r"(?:sentinel-?|s)1([a-d])", re.IGNORECASE)


def _open(path: Path) -> Any:
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(
            f"{path} cannot be read as a raster ({exc}); it may be truncated: export it again"
        ) from None


def _tag(tags: Mapping[str, str], *names: str) -> str | None:
    upper = {k.upper(): v for k, v in tags.items()}
    for name in names:
        value = upper.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return None


def _direction(value: str | None) -> OrbitDirection | None:
    text = (value or "").strip().upper()
    if text.startswith("ASC"):
        return "ASCENDING"
    if text.startswith("DESC") or text == "DSC":
        return "DESCENDING"
    return None


def _when(path: Path, tags: Mapping[str, str]) -> tuple[dt.datetime | None, bool]:
    """Acquisition time and whether its time of day is known."""
    product = parse_product_name(path.name)
    if product:
        return product["start"], True
    from_name = date_from_name(path.name)
    if from_name is not None:
        return from_name, bool(_TIME_OF_DAY_RE.search(path.name))
    stamp = _tag(tags, "TIFFTAG_DATETIME")
    if stamp:
        try:
            when = dt.datetime.strptime(stamp, "%Y:%m:%d %H:%M:%S").replace(tzinfo=dt.timezone.utc)
            return when, True
        except ValueError:
            pass
    return None, False


def _radar_scene(path: Path) -> Scene | None:
    """A radar scene from one GeoTIFF, or None when no band is described VV or VH."""
    with _open(path) as src:
        descriptions = [(d or "").strip().upper() for d in src.descriptions]
        pols = [d for d in descriptions if d in RADAR_BANDS]
        if not pols:
            return None
        if src.crs is None:
            raise DataError(
                f"{path} has no CRS (it is not georeferenced: radar geometry?); export it terrain-corrected "
                "onto a map grid (e.g. SNAP Terrain-Correction) or assign one with "
                "`rio edit-info --crs EPSG:xxxx`"
            )
        tags = dict(src.tags())
        epsg = src.crs.to_epsg()
        crs, bounds, shape = (
            (f"EPSG:{epsg}" if epsg else src.crs.to_wkt()),
            tuple(src.bounds),
            (src.height, src.width),
        )
    when, time_known = _when(path, tags)
    if when is None:
        raise DataError(
            f"cannot tell the acquisition date of {path}: use the product name or put YYYYMMDD in the file "
            "name, or set the TIFFTAG_DATETIME tag"
        )
    product = parse_product_name(path.name)
    platform_text = product["platform"] if product else (_tag(tags, "PLATFORM", "MISSION") or path.name)
    platform_match = _PLATFORM_RE.search(platform_text)
    platform = f"S1{platform_match.group(1).upper()}" if platform_match else "S1"
    scene = Scene(
        id=path.stem,
        datetime=when,
        bands=tuple(pols),
        provider="local-s1",
        location=str(path),
        crs=crs,
        bounds=bounds,  # type: ignore[arg-type]
        shape=shape,
        assets={pol: f"{path}#{descriptions.index(pol) + 1}" for pol in pols},
    )
    direction = _direction(_tag(tags, "ORBIT_DIRECTION", "PASS", "ORBIT_STATE"))
    if direction is None and time_known:
        footprint = scene.footprint()
        lon = float(shapely.centroid(footprint).x) if footprint is not None else 0.0
        direction = orbit_direction_from_time(when, lon)
    if direction is None:
        raise DataError(
            f"cannot tell the orbit direction of {path}: set its ORBIT_DIRECTION tag to ASCENDING or "
            f"DESCENDING (gdal_edit.py -mo ORBIT_DIRECTION=DESCENDING {path.name})"
        )
    rel_text = _tag(tags, "RELATIVE_ORBIT", "TRACK")
    relative = int(float(rel_text)) if rel_text and re.fullmatch(r"\d+(\.0*)?", rel_text) else 0
    if not relative and product:
        relative = relative_orbit_from_absolute(product["platform"], product["absolute_orbit"])
    if not 1 <= relative <= 175:
        raise DataError(
            f"cannot tell the relative orbit of {path}: set its RELATIVE_ORBIT tag (1..175; "
            f"gdal_edit.py -mo RELATIVE_ORBIT=79 {path.name}) or keep the product name in the file name"
        )
    info = RadarInfo(
        platform=platform,
        orbit_direction=direction,
        relative_orbit=relative,
        backscatter=backscatter_from_text(_tag(tags, "BACKSCATTER", "BACKSCATTER_COEFFICIENT"))
        or backscatter_from_text(path.stem),
        polarizations=tuple(pols),
    )
    return Scene(
        id=scene.id,
        datetime=scene.datetime,
        bands=scene.bands,
        provider=scene.provider,
        location=scene.location,
        crs=scene.crs,
        bounds=scene.bounds,
        shape=scene.shape,
        assets=scene.assets,
        properties={**info.as_properties(), "date_source": "name" if product or time_known else "tags"},
    )


def _scan(folder: Path, depth: int) -> Iterator[Scene]:
    subdirs = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            subdirs.append(entry)
        elif entry.suffix.lower() in _SUFFIXES:
            scene = _radar_scene(entry)
            if scene is not None:
                yield scene
    if depth < _MAX_DEPTH:
        for sub in subdirs:
            yield from _scan(sub, depth + 1)


def find_radar_scenes(path: str | Path) -> list[Scene]:
    """Find every Sentinel-1 scene in a GeoTIFF or a folder, oldest first.

    Parameters
    ----------
    path : str or pathlib.Path
        One GeoTIFF or a folder of them (three levels deep). Rasters without a band
        described VV or VH (optical scenes, DEMs) are skipped.

    Returns
    -------
    list of Scene

    Raises
    ------
    NoScenesError
        If the path does not exist or holds no radar scene.
    DataError
        If a radar file is broken, not georeferenced, or its date, orbit direction or
        relative orbit cannot be told.
    """
    root = Path(path).expanduser()
    if not root.exists():
        raise NoScenesError(f"{root} does not exist")
    if root.is_file():
        scene = _radar_scene(root) if root.suffix.lower() in _SUFFIXES else None
        scenes = [scene] if scene is not None else []
    else:
        scenes = list(_scan(root, 0))
    if not scenes:
        raise NoScenesError(
            f"no Sentinel-1 scenes found in {root}: expected GeoTIFFs whose bands are described VV and VH "
            "(linear backscatter) with ORBIT_DIRECTION and RELATIVE_ORBIT tags"
        )
    return sorted(scenes, key=lambda s: (s.datetime, s.id))


def _wgs84_extent(scenes: Sequence[Scene]) -> tuple[float, ...]:
    union = shapely.union_all([f for s in scenes if (f := s.footprint()) is not None])
    return tuple(round(v, 5) for v in union.bounds)


def _polarizations(scenes: Sequence[Scene], wanted: Sequence[str] | None) -> list[str]:
    if wanted is not None:
        pols = [p.upper() for p in wanted]
        for scene in scenes:
            missing = [p for p in pols if p not in scene.bands]
            if missing:
                raise BandMissingError(
                    f"radar scene {scene.location} has no {', '.join(missing)} band (it has "
                    f"{', '.join(scene.bands)}); ask for the polarisations every scene has"
                )
        return pols
    common = [p for p in RADAR_BANDS if all(p in s.bands for s in scenes)]
    if not common:
        raise BandMissingError("the radar scenes share no polarisation (VV or VH); they cannot be stacked")
    dropped = sorted({p for s in scenes for p in s.bands} - set(common))
    if dropped:
        warnings.warn(
            f"polarisation {', '.join(dropped)} is missing from some radar scenes; loading "
            f"{', '.join(common)} only",
            DataWarning,
            stacklevel=3,
        )
    return common


def load_radar_scenes(
    scenes: Sequence[Scene],
    *,
    aoi: AOI | None = None,
    polarizations: Sequence[str] | None = None,
    geobox: GeoBox | None = None,
    crs: str | None = None,
    resolution_m: float = 10.0,
) -> xr.DataArray:
    """Load local radar scenes as one ``(time, band, y, x)`` linear-power stack.

    Parameters
    ----------
    scenes : sequence of Scene
        From :func:`find_radar_scenes`.
    aoi : AOI, optional
        Load only the window over the AOI.
    polarizations : sequence of str, optional
        Default: those every scene has (VV, VH).
    geobox : GeoBox, optional
        An explicit grid (the optical stack's, to fuse them); wins over ``aoi``/``crs``.
    crs : str, optional
        ``"utm"`` or a CRS to reproject to; by default the first scene's own grid.
    resolution_m : float
        Pixel size when reprojecting (linear power is averaged when coarsened).

    Returns
    -------
    xarray.DataArray
        See :mod:`sitewatch.providers.radar`.

    Raises
    ------
    DataError
        If the scenes mix sigma0 and gamma0 (naming the files).
    NoOverlapError
        If the AOI lies outside the scenes (both extents named).
    """
    if not scenes:
        raise NoScenesError("no radar scenes to load")
    scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
    convention = check_one_convention(scenes)
    pols = _polarizations(scenes, polarizations)
    gbox = (
        geobox if geobox is not None else target_geobox(scenes, aoi=aoi, crs=crs, resolution_m=resolution_m)
    )
    data = np.empty((len(scenes), len(pols), *gbox.shape), np.float32)
    for t, scene in enumerate(scenes):
        data[t] = read_bands(scene, pols, gbox)
    stack = radar_stack(data, gbox, scenes, pols, provider="local-s1")
    if convention is None:
        warnings.warn(
            f"the {len(scenes)} radar scenes state no backscatter convention (BACKSCATTER tag); they are "
            "compared as one convention: tag them sigma0 or gamma0 to be sure",
            DataWarning,
            stacklevel=2,
        )
    return linear_power(stack)


class LocalRadarProvider:
    """Sentinel-1 scenes from a folder on disk (``--sar local:DIR``).

    Parameters
    ----------
    root : str
        The folder (or one GeoTIFF).
    """

    name = "local-s1"

    def __init__(self, root: str | None = None, **options: Any) -> None:
        if not root:
            raise ConfigError("the local radar source needs a folder: --sar local:DIR")
        self.root = Path(root).expanduser()

    def __repr__(self) -> str:
        return f"LocalRadarProvider({str(self.root)!r})"

    @property
    def source(self) -> str:
        """The ``--sar`` text naming this folder."""
        return f"local:{self.root}"

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        orbit_direction: OrbitDirection | None = None,
    ) -> Iterator[Scene]:
        """Yield the radar scenes under the root in the date range over the AOI, oldest first.

        Raises
        ------
        NoOverlapError
            If scenes fall in the date range but none touches the AOI (both extents named).
        """
        in_range = [
            s
            for s in find_radar_scenes(self.root)
            if (start is None or s.date >= start)
            and (end is None or s.date <= end)
            and (orbit_direction is None or radar_info(s).orbit_direction == orbit_direction.upper())
        ]
        if aoi is None:
            yield from in_range
            return
        over = [s for s in in_range if (f := s.footprint()) is None or f.intersects(aoi.geometry)]
        if in_range and not over:
            raise NoOverlapError(
                f"AOI {aoi.name} {tuple(round(v, 5) for v in aoi.bounds)} does not overlap the "
                f"{len(in_range)} "
                f"radar scenes in {self.root} {_wgs84_extent(in_range)} (WGS84 west, south, east, north); "
                "check the AOI or the folder"
            )
        yield from over

    def load(
        self,
        scenes: Sequence[Scene],
        *,
        aoi: AOI | None = None,
        polarizations: Sequence[str] | None = None,
        geobox: GeoBox | None = None,
        crs: str | None = None,
        resolution_m: float = 10.0,
    ) -> xr.DataArray:
        """Load ``scenes`` as a linear-power stack; see :func:`load_radar_scenes`."""
        stack = load_radar_scenes(
            scenes, aoi=aoi, polarizations=polarizations, geobox=geobox, crs=crs, resolution_m=resolution_m
        )
        stack.attrs["source"] = self.source
        return stack


def local_s1_factory(arg: str | None = None, **options: Any) -> LocalRadarProvider:
    """Radar provider for ``--sar local:DIR`` (no cache: the files are already local)."""
    options.pop("cache_dir", None)
    options.pop("cache", None)
    return LocalRadarProvider(arg, **options)


def write_radar_scene(
    stack: xr.DataArray,
    directory: str | Path,
    *,
    name: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Path:
    """Write one date of a radar stack as a GeoTIFF in the local radar format.

    The file is written under a temporary name, checked by reading it back and renamed, so a
    crash never leaves a half-written scene. The per-time coords give the tags.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(band, y, x)`` or ``(time, band, y, x)`` with one time, linear power, on a grid
        readable by ``.odc.geobox``, with ``orbit_direction``, ``relative_orbit``,
        ``backscatter`` and ``platform`` coords (as :func:`~sitewatch.providers.radar.radar_stack`
        gives them).
    directory : str or pathlib.Path
    name : str, optional
        File stem; default ``<platform>_<YYYYMMDDTHHMMSS>_<D079>``.
    tags : mapping, optional
        Further tags.

    Returns
    -------
    pathlib.Path
    """
    if "time" in stack.dims:
        if stack.sizes["time"] != 1:
            raise DataError(f"write_radar_scene writes one date; the stack has {stack.sizes['time']}")
        stack = stack.isel(time=0)

    def coord(key: str, default: Any) -> Any:
        return stack.coords[key].item() if key in stack.coords else default

    when = (
        stack.coords["time"].values.astype("datetime64[s]")
        if "time" in stack.coords
        else np.datetime64("NaT", "s")
    )
    stamp = np.datetime_as_string(when).replace("-", "").replace(":", "") if not np.isnat(when) else "undated"
    direction, relative = str(coord("orbit_direction", "")), int(coord("relative_orbit", 0))
    platform = str(coord("platform", "S1"))
    stem = name or f"{platform}_{stamp}_{direction[:1]}{relative:03d}"
    gbox = stack.odc.geobox
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{stem}.tif"
    bands = [str(b) for b in stack.coords["band"].values]
    all_tags = {
        "ORBIT_DIRECTION": direction,
        "RELATIVE_ORBIT": str(relative),
        "BACKSCATTER": str(coord("backscatter", "")),
        "PLATFORM": platform,
        **(
            {"TIFFTAG_DATETIME": np.datetime_as_string(when).replace("-", ":").replace("T", " ")}
            if stamp != "undated"
            else {}
        ),
        **dict(tags or {}),
    }
    profile = {
        "driver": "GTiff",
        "dtype": "float32",
        "count": len(bands),
        "height": gbox.shape[0],
        "width": gbox.shape[1],
        "crs": gbox.crs.to_wkt(),
        "transform": gbox.affine,
        "nodata": float("nan"),
        "compress": "deflate",
        "predictor": 3,
    }
    values = stack.transpose("band", "y", "x").values.astype(np.float32)
    with atomic_output(target, verify=verify_raster, needed_bytes=values.nbytes) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(values)
            for i, band in enumerate(bands, start=1):
                dst.set_band_description(i, band)
            dst.update_tags(**{k: v for k, v in all_tags.items() if v})
        with rasterio.open(tmp) as check:
            if check.count != len(bands) or (check.height, check.width) != gbox.shape:
                raise DataError(f"writing {target} produced an unreadable file; check the disk")
    return target
