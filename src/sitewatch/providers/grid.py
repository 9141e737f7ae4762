"""The grid and stack helpers every provider shares: the analysis grid, windowed and warped reads, stacks.

- :func:`target_geobox`: the common grid of a series over an AOI (UTM at 10 m by default);
- :func:`grid_window`, :func:`read_band`, :func:`read_bands`: a raster read (windowed, or
  warped when its grid differs) onto that grid;
- :func:`stack_to_dataarray`, :func:`lazy_stack`: arrays wrapped in the sitewatch stack
  conventions (see :mod:`sitewatch.providers.base`), in memory or read block by block.

The local provider, the cache, the STAC and Sentinel Hub providers and the simulator use them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Sequence
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

from sitewatch.errors import ConfigError, DataError, NoOverlapError, NoScenesError
from sitewatch.providers.base import BAND_RESOLUTION_M, CATEGORICAL_BANDS
from sitewatch.providers.offsets import declared_offset_dn
from sitewatch.types import AOI, WGS84, Scene, transform_geometry, utm_crs_for

__all__ = [
    "aoi_coverage",
    "report_outside",
    "grid_window",
    "lazy_stack",
    "open_raster",
    "read_band",
    "read_bands",
    "stack_to_dataarray",
    "target_geobox",
]

log = logging.getLogger(__name__)


def open_raster(path: Path | str) -> Any:
    """Open a raster with rasterio, or raise a DataError that names the file.

    Raises
    ------
    DataError
        If the file cannot be read as a raster.
    """
    try:
        return rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise DataError(
            f"{path} cannot be read as a raster ({exc}); it may be truncated or not a "
            "GeoTIFF/JPEG2000: download or export it again"
        ) from None


def report_outside(outside: Sequence[str], aoi: AOI, n_in_range: int) -> None:
    """Say how many scenes of the date range were left out because their grid misses the AOI.

    A warning with the count at the default verbosity; the scene ids at ``-v`` (INFO).
    """
    if not outside or len(outside) >= n_in_range:
        return  # none inside: the scan's "no scenes" error says it
    import warnings

    from sitewatch.errors import DataWarning

    warnings.warn(
        f"{len(outside)} of {n_in_range} scenes in the date range do not cover AOI {aoi.name} (their grid "
        "lies outside it) and were left out; -v lists them",
        DataWarning,
        stacklevel=3,
    )
    log.info("scenes outside AOI %s: %s", aoi.name, ", ".join(outside))


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
        with open_raster(path) as src:
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
    # what the reader added to the digital numbers (the -1000 of baseline 04.00), NaN when the
    # provider does not say: the scan checks the data agree (sitewatch.core.normalize.offset_evidence)
    coords["offset_dn"] = ("time", np.array([declared_offset_dn(s) for s in scenes], np.float64))
    return xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords=coords,
        name="reflectance",
        attrs={"provider": provider, "source": source or provider, "units": "reflectance x 10000"},
    )
