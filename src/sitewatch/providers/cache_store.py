"""The cache's storage: where things live, the manifest, and the scene files themselves.

Layout (one folder per AOI under the cache root)::

    <root>/<aoi>/manifest.json
    <root>/<aoi>/<grid>/<scene id>.tif        one multi-band GeoTIFF per scene

``<grid>`` names the pixel grid (CRS, pixel size and a hash of the exact extent), so
asking for another resolution or CRS fetches onto a new grid and leaves the old one
valid. Each GeoTIFF is in the ``local`` scene format (band descriptions ``B02``...,
``SCL``) and holds the bands fetched so far. Reflectance is stored as uint16 with +1000
(and the ``BOA_ADD_OFFSET=-1000`` tag the local reader honours), so slightly negative L2A
values survive the round trip.

``manifest.json`` records, per grid and scene: the file, its bands, the scene's date and
level, the source it came from (redacted: no credentials), the provider, when it was
fetched and the grid settings; and, per AOI, the scenes the service answered 404/410 for
(``unavailable``: when, the status and the source), which are not asked for again for
:data:`UNAVAILABLE_RETRY_DAYS` days. Files and the manifest are written atomically and
verified (:mod:`sitewatch.fileio`); a cached file that no longer reads is fetched again.

The cache root is ``cache_dir`` if given, else ``$SITEWATCH_CACHE``, else the platform's
user cache directory (``platformdirs.user_cache_dir("sitewatch")``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sitewatch.errors import CacheError, ConfigError, DiskFullError, WriteError
from sitewatch.fileio import atomic_write_json, verify_raster
from sitewatch.providers.base import CATEGORICAL_BANDS
from sitewatch.redact import redact

if TYPE_CHECKING:
    from odc.geo.geobox import GeoBox

    from sitewatch.types import AOI, Scene

__all__ = [
    "MANIFEST",
    "UNAVAILABLE_RETRY_DAYS",
    "aoi_folder",
    "cache_entries",
    "cache_root",
    "cached_file_readable",
    "grid_for",
    "grid_key",
    "grid_record",
    "locked",
    "mark_unavailable",
    "now_iso",
    "read_cached",
    "read_manifest",
    "remove_cache",
    "safe_name",
    "unavailable_ids",
    "write_cached",
    "write_manifest",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
#: A scene answered 404/410 is skipped for this many days, then asked for again (or at once with
#: ``--retry-unavailable``): archives do re-publish reprocessed scenes under the same id.
UNAVAILABLE_RETRY_DAYS = 7
# Stored reflectance = value + 1000, so values down to -1000 (dark L2A pixels) survive uint16.
_STORE_SHIFT = 1000.0
_SAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Return the cache root: ``cache_dir``, else ``$SITEWATCH_CACHE``, else the user cache dir.

    Parameters
    ----------
    cache_dir : path, optional

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> str(cache_root("/tmp/swcache"))
    '/tmp/swcache'
    """
    if cache_dir:
        return Path(cache_dir).expanduser()
    env = os.environ.get("SITEWATCH_CACHE")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("sitewatch"))


def grid_for(
    *,
    aoi: AOI | None = None,
    geobox: GeoBox | None = None,
    crs: str | None = None,
    resolution_m: float = 10.0,
) -> GeoBox:
    """The grid a remote provider loads onto: ``geobox``, else the AOI's bounds in ``crs``.

    The grid is the one :func:`sitewatch.providers.local.target_geobox` builds for
    ``crs="utm"``: the AOI's bounding box in its UTM zone (or in ``crs``), in whole
    ``resolution_m`` pixels snapped to multiples of the pixel size.

    Parameters
    ----------
    aoi : AOI, optional
    geobox : GeoBox, optional
        Wins when given.
    crs : str, optional
        ``"utm"`` (default) or any CRS text.
    resolution_m : float

    Returns
    -------
    odc.geo.geobox.GeoBox

    Raises
    ------
    ConfigError
        If neither an AOI nor a grid is given.
    """
    if geobox is not None:
        return geobox
    if aoi is None:
        raise ConfigError(
            "remote imagery is loaded for an area: pass an AOI (--aoi NAME) or an explicit grid"
        )
    from odc.geo.geobox import GeoBox

    target = aoi.utm_crs if crs is None or crs.lower() == "utm" else crs
    return GeoBox.from_bbox(aoi.geometry_in(target).bounds, target, resolution=resolution_m)


def grid_key(gbox: GeoBox) -> str:
    """A short, stable folder name for a grid: ``<epsg>_<res>m_<hash>``.

    Parameters
    ----------
    gbox : GeoBox

    Returns
    -------
    str
    """
    epsg = gbox.crs.epsg if gbox.crs is not None else None
    res = abs(gbox.resolution.x)
    text = json.dumps([str(gbox.crs), list(gbox.affine)[:6], list(gbox.shape)])
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return f"{epsg or 'crs'}_{res:g}m_{digest}"


def safe_name(name: str) -> str:
    """A scene id turned into a safe file stem.

    Examples
    --------
    >>> safe_name("S2A/31TCJ 2024")
    'S2A_31TCJ_2024'
    """
    return _SAFE_RE.sub("_", name).strip("._") or "scene"


def now_iso() -> str:
    """The current UTC time, to the second, as ISO text."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def aoi_folder(root: Path, aoi: AOI | str | None) -> Path:
    """The cache folder of an AOI (``_grid`` without one); the name is checked, never trusted.

    Raises
    ------
    AOIError
        If the name could reach outside the cache root (``..``, ``/``...).
    """
    from sitewatch.aoi import check_name

    if aoi is None:
        return root / "_grid"
    return root / check_name(aoi if isinstance(aoi, str) else aoi.name)


def write_manifest(path: Path, data: Any) -> None:
    """Write a manifest atomically; a failure is a :class:`~sitewatch.errors.CacheError`."""
    try:
        atomic_write_json(path, data, indent=1)
    except DiskFullError:
        raise
    except WriteError as exc:
        raise CacheError(
            f"cannot write the cache manifest {path} ({exc}); check the disk and permissions"
        ) from None


def read_manifest(path: Path, aoi_name: str) -> dict[str, Any]:
    """Read an AOI's manifest (an empty one when there is none yet).

    Raises
    ------
    CacheError
        If it is unreadable or of an unknown format.
    """
    if not path.exists():
        return {"version": MANIFEST_VERSION, "aoi": aoi_name, "grids": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CacheError(
            f"cache manifest {path} is unreadable ({exc}); "
            f"remove it with `sitewatch cache rm --aoi {aoi_name}`"
        ) from None
    if not isinstance(data, dict) or data.get("version") != MANIFEST_VERSION:
        raise CacheError(
            f"cache manifest {path} has an unknown format; "
            f"remove it with `sitewatch cache rm --aoi {aoi_name}`"
        )
    data.setdefault("grids", {})
    return data


def mark_unavailable(manifest: dict[str, Any], scene_id: str, *, status: int | None, source: str) -> None:
    """Record that the service answered ``status`` (404/410) for a scene's assets."""
    manifest.setdefault("unavailable", {})[scene_id] = {
        "status": status,
        "since": now_iso(),
        "source": redact(source),
    }


def unavailable_ids(
    manifest: Mapping[str, Any], source: str, *, now: dt.datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Scenes of ``source`` recorded unavailable less than :data:`UNAVAILABLE_RETRY_DAYS` ago.

    Examples
    --------
    >>> m = {"unavailable": {"a": {"status": 404, "since": "2024-05-01T00:00:00+00:00", "source": "s"}}}
    >>> list(unavailable_ids(m, "s", now=dt.datetime(2024, 5, 3, tzinfo=dt.timezone.utc)))
    ['a']
    >>> unavailable_ids(m, "s", now=dt.datetime(2024, 6, 3, tzinfo=dt.timezone.utc))
    {}
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    limit = dt.timedelta(days=UNAVAILABLE_RETRY_DAYS)
    out = {}
    for scene_id, record in (manifest.get("unavailable") or {}).items():
        if record.get("source") != redact(source):
            continue
        try:
            since = dt.datetime.fromisoformat(str(record.get("since")))
        except ValueError:
            continue
        if now - since < limit:
            out[scene_id] = dict(record)
    return out


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the AOI folder (POSIX), so two fetches do not interleave manifests."""
    folder.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def grid_record(gbox: GeoBox) -> dict[str, Any]:
    """The manifest record of a grid (its settings and, as it fills, its scenes)."""
    return {
        "crs": str(gbox.crs),
        "resolution_m": abs(gbox.resolution.x),
        "shape": list(gbox.shape),
        "transform": list(gbox.affine)[:6],
        "bounds": list(gbox.extent.boundingbox),
        "scenes": {},
    }


def write_cached(
    data: np.ndarray, bands: Sequence[str], gbox: GeoBox, scene: Scene, folder: Path, file_name: str
) -> Path:
    """Write one scene's bands (reflectance x 10000) as a cache GeoTIFF, atomically and verified."""
    from sitewatch.providers.grid import stack_to_dataarray
    from sitewatch.providers.local import write_scene

    stored = data.astype(np.float32).copy()
    for i, band in enumerate(bands):
        if band not in CATEGORICAL_BANDS:
            stored[i] += np.float32(_STORE_SHIFT)
            # NaN stays NaN (0 on disk); a shifted value of 0 would read back as no data.
            stored[i] = np.where(np.isfinite(stored[i]), np.maximum(stored[i], 1.0), np.nan)
    da = stack_to_dataarray(stored[np.newaxis], gbox, [scene], list(bands), provider="cache")
    try:
        path = write_scene(
            da,
            folder,
            name=Path(file_name).stem,
            processing_level=scene.processing_level,
            tags={"BOA_ADD_OFFSET": str(-_STORE_SHIFT), "SITEWATCH_SCENE_ID": scene.id},
        )
    except DiskFullError:
        raise
    except (OSError, WriteError) as exc:
        raise CacheError(f"cannot write {folder / file_name} ({exc}); check the disk space") from None
    return path


def cached_file_readable(path: Path) -> bool:
    """True when a cached scene file exists and reads to its last block (else it is fetched again)."""
    if not path.exists():
        return False
    try:
        verify_raster(path)
    except OSError as exc:
        log.warning("cached scene %s is unreadable (%s); fetching it again", path, exc)
        return False
    return True


def read_cached(path: Path, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
    """Read bands of a cache GeoTIFF onto ``gbox`` (or a block of it): float32, NaN for no data."""
    import rasterio

    from sitewatch.providers.grid import grid_window

    try:
        with rasterio.open(path) as src:
            names = [str(d or "") for d in src.descriptions]
            window = grid_window(src, gbox)
            if window is not None and all(b in names for b in bands):
                # The same grid as asked, or a block of it: a plain read, no resampling at all.
                offset = float(src.tags().get("BOA_ADD_OFFSET", 0.0))
                out = src.read([names.index(b) + 1 for b in bands], window=window).astype(np.float32)
                for i, band in enumerate(bands):
                    layer = out[i]
                    layer[layer == 0] = np.nan
                    if band not in CATEGORICAL_BANDS:
                        layer += np.float32(offset)
                return out
    except rasterio.errors.RasterioError as exc:
        raise CacheError(
            f"cached scene {path} is unreadable ({exc}); remove it with `sitewatch cache rm`"
        ) from None
    from sitewatch.providers.local import find_scenes, read_band

    (local,) = find_scenes(path)
    return np.stack([read_band(local, band, gbox) for band in bands])


def cache_entries(
    *, aoi_name: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """List what the cache holds: one record per AOI and grid.

    Parameters
    ----------
    aoi_name : str, optional
        Only this AOI.
    cache_dir : path, optional

    Returns
    -------
    list of dict
        Keys ``aoi``, ``grid``, ``crs``, ``resolution_m``, ``shape``, ``n_scenes``,
        ``first``, ``last``, ``bands``, ``sources``, ``bytes``, ``path``.
    """
    root = cache_root(cache_dir)
    if not root.is_dir():
        return []
    rows = []
    folders = [aoi_folder(root, aoi_name)] if aoi_name else sorted(p for p in root.iterdir() if p.is_dir())
    for folder in folders:
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            continue
        manifest = read_manifest(manifest_path, folder.name)
        for key, grid in sorted(manifest["grids"].items()):
            entries: Mapping[str, Any] = grid.get("scenes", {})
            dates = sorted(str(e["datetime"])[:10] for e in entries.values())
            size = (
                sum(f.stat().st_size for f in (folder / key).glob("*.tif")) if (folder / key).is_dir() else 0
            )
            rows.append(
                {
                    "aoi": folder.name,
                    "grid": key,
                    "crs": grid.get("crs"),
                    "resolution_m": grid.get("resolution_m"),
                    "shape": "x".join(str(v) for v in grid.get("shape", [])),
                    "n_scenes": len(entries),
                    "first": dates[0] if dates else "",
                    "last": dates[-1] if dates else "",
                    "bands": ",".join(sorted({b for e in entries.values() for b in e["bands"]})),
                    "sources": ",".join(sorted({redact(e["source"]) for e in entries.values()})),
                    "bytes": size,
                    "path": str(folder / key),
                }
            )
    return rows


def remove_cache(aoi_name: str, *, cache_dir: str | os.PathLike[str] | None = None) -> int:
    """Delete everything cached for an AOI; return the number of bytes freed.

    Parameters
    ----------
    aoi_name : str
    cache_dir : path, optional

    Returns
    -------
    int

    Raises
    ------
    CacheError
        If nothing is cached for the AOI.
    """
    folder = aoi_folder(cache_root(cache_dir), aoi_name)
    if not folder.is_dir():
        raise CacheError(f"nothing is cached for AOI {aoi_name} under {folder.parent}")
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    with locked(folder):
        for child in folder.iterdir():
            if child.name == ".lock":
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    return size
