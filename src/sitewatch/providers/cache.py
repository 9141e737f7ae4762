"""An incremental on-disk cache in front of any remote provider.

Layout (one folder per AOI under the cache root)::

    <root>/<aoi>/manifest.json
    <root>/<aoi>/<grid>/<scene id>.tif        one multi-band GeoTIFF per scene

``<grid>`` names the pixel grid (CRS, pixel size and a hash of the exact extent),
so asking for another resolution or CRS fetches onto a new grid and leaves the
old one valid. Each GeoTIFF is in the ``local`` scene format (band descriptions
``B02``..., ``SCL``) and holds the bands fetched so far; asking for more bands
fetches only the missing ones and rewrites the file with the union. Reflectance is
stored as uint16 with +1000 (and the ``BOA_ADD_OFFSET=-1000`` tag the local reader
honours), so slightly negative L2A values survive the round trip.

``manifest.json`` records, per grid and scene: the file, its bands, the scene's
date and level, the source it came from (URL without credentials), the provider,
when it was fetched and the grid settings. Files and the manifest are written to
a temporary name and renamed, and the manifest is updated after every scene, so an
interrupted fetch leaves only whole scenes behind and the next run resumes.

The cache root is ``cache_dir`` if given, else ``$SITEWATCH_CACHE``, else the
platform's user cache directory (``platformdirs.user_cache_dir("sitewatch")``).
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
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sitewatch.errors import (
    CacheError,
    ConfigError,
    CredentialsError,
    NoScenesError,
    ProviderError,
    ProviderWarning,
    RateLimitError,
)
from sitewatch.providers.base import CATEGORICAL_BANDS, DEFAULT_BANDS

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

    from sitewatch.types import AOI, Scene

__all__ = [
    "CachedProvider",
    "FetchReport",
    "FetchStats",
    "fetch_series",
    "SceneReader",
    "cache_entries",
    "cache_root",
    "grid_for",
    "grid_key",
    "remove_cache",
]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
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


def _safe(name: str) -> str:
    return _SAFE_RE.sub("_", name).strip("._") or "scene"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def _atomic_write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise CacheError(
            f"cannot write the cache manifest {path} ({exc}); check the disk and permissions"
        ) from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_manifest(path: Path, aoi_name: str) -> dict[str, Any]:
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


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
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


class SceneReader(Protocol):
    """What a remote provider offers the cache: read one scene's bands onto a grid."""

    name: str

    @property
    def source(self) -> str:
        """The ``--source`` text of the provider, without credentials."""
        ...

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        """Yield scenes, oldest first."""
        ...

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """Return float32 ``(band, y, x)`` reflectance x 10000, NaN for no data."""
        ...


@dataclass
class FetchStats:
    """What the last :meth:`CachedProvider.fill` or ``load`` did."""

    scenes_fetched: int = 0
    scenes_cached: int = 0
    bands_fetched: int = 0
    fetched_ids: list[str] = field(default_factory=list)


class CachedProvider:
    """A remote provider behind the on-disk cache; itself a :class:`~sitewatch.providers.base.Provider`.

    ``search`` asks the service; ``load`` reads every scene already cached on the
    requested grid with the requested bands from disk and fetches only the rest.

    Parameters
    ----------
    inner : SceneReader
        The remote provider (STAC, Sentinel Hub).
    cache_dir : path, optional
        The cache root; see :func:`cache_root`.
    """

    #: ``load`` reads the cached scenes lazily, block by block, with ``chunk_px``.
    reads_blocks = True

    def __init__(self, inner: SceneReader, *, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.root = cache_root(cache_dir)
        self.stats = FetchStats()

    def __repr__(self) -> str:
        return f"CachedProvider({self.inner!r}, cache_dir={str(self.root)!r})"

    @property
    def source(self) -> str:
        """The inner provider's ``--source`` text."""
        return self.inner.source

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        """Yield the scenes the service has (metadata only), oldest first.

        When the service cannot be reached (a :class:`~sitewatch.errors.ProviderError`
        other than refused credentials or rate limiting), the scenes already cached for
        the AOI in the date range are yielded instead, with a
        :class:`~sitewatch.errors.ProviderWarning`: a rescan works offline.
        """
        try:
            scenes = list(self.inner.search(aoi, start, end, max_cloud_fraction=max_cloud_fraction))
        except (CredentialsError, RateLimitError):
            raise
        except ProviderError as exc:
            cached = self.cached_scenes(aoi, start, end, max_cloud_fraction=max_cloud_fraction)
            if not cached:
                raise
            warnings.warn(
                f"{exc} -- working offline with the {len(cached)} scene(s) cached for "
                f"{aoi.name if aoi else 'this grid'}",
                ProviderWarning,
                stacklevel=2,
            )
            scenes = cached
        yield from scenes

    def cached_scenes(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> list[Scene]:
        """The scenes the cache holds for an AOI (any grid) in a date range, from the manifest.

        Parameters
        ----------
        aoi : AOI, optional
        start, end : datetime.date, optional
        max_cloud_fraction : float, optional

        Returns
        -------
        list of Scene
            Oldest first; ``bands`` are those cached on every grid holding the scene.
        """
        from sitewatch.types import Scene

        folder = self._aoi_dir(aoi)
        if not (folder / MANIFEST).exists():
            return []
        manifest = _read_manifest(folder / MANIFEST, folder.name)
        found: dict[str, dict[str, Any]] = {}
        bands: dict[str, set[str]] = {}
        for grid in manifest["grids"].values():
            for scene_id, entry in grid.get("scenes", {}).items():
                if entry.get("source") != self.source:
                    continue
                found.setdefault(scene_id, entry)
                bands[scene_id] = bands.get(scene_id, set(entry["bands"])) & set(entry["bands"])
        scenes = []
        for scene_id, entry in found.items():
            when = dt.datetime.fromisoformat(entry["datetime"])
            cloud = entry.get("cloud_fraction")
            if (start and when.date() < start) or (end and when.date() > end):
                continue
            if max_cloud_fraction is not None and cloud is not None and cloud > max_cloud_fraction:
                continue
            scenes.append(
                Scene(
                    id=scene_id,
                    datetime=when,
                    bands=tuple(b for b in entry["bands"] if b in bands[scene_id]),
                    provider=self.name,
                    location=self.source,
                    processing_level=entry.get("processing_level"),
                    cloud_fraction=cloud,
                    properties={"cached": True},
                )
            )
        return sorted(scenes, key=lambda sc: (sc.datetime, sc.id))

    def _aoi_dir(self, aoi: AOI | None) -> Path:
        from sitewatch.aoi import check_name

        name = check_name(aoi.name) if aoi is not None else "_grid"
        return self.root / name

    def fill(
        self,
        scenes: Sequence[Scene],
        *,
        aoi: AOI | None = None,
        bands: Sequence[str] | None = None,
        geobox: GeoBox | None = None,
        crs: str | None = None,
        resolution_m: float = 10.0,
        progress: Callable[[int, int, Scene], None] | None = None,
    ) -> FetchStats:
        """Make sure every scene is cached on the grid with the bands; fetch only what is missing.

        Each scene is recorded in the manifest as soon as its file is written, so an
        interrupted fill resumes on the next call.

        Parameters
        ----------
        scenes : sequence of Scene
        aoi, bands, geobox, crs, resolution_m
            As for :meth:`load`.
        progress : callable, optional
            Called as ``progress(done, to_fetch, scene)`` after each fetched scene.

        Returns
        -------
        FetchStats

        Raises
        ------
        ProviderError
            If the service fails; scenes fetched before the failure stay cached.
        CacheError
            If the cache cannot be written.
        """
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        names = self._bands(scenes, bands)
        folder = self._aoi_dir(aoi)
        key = grid_key(gbox)
        stats = self.stats = FetchStats()  # visible as it grows, also when a fetch fails
        with _locked(folder):
            manifest = _read_manifest(folder / MANIFEST, folder.name)
            grid = manifest["grids"].setdefault(key, self._grid_record(gbox))
            for partial in (folder / key).glob(".*.partial") if (folder / key).is_dir() else []:
                partial.unlink()  # left by an interrupted run
            todo: list[tuple[Scene, list[str], list[str], Path | None]] = []
            for scene in sorted(scenes, key=lambda s: (s.datetime, s.id)):
                entry = grid["scenes"].get(scene.id)
                path = folder / key / entry["file"] if entry else None
                have = list(entry["bands"]) if entry and path is not None and path.exists() else []
                missing = [b for b in names if b not in have]
                if missing:
                    todo.append((scene, have, missing, path))
                else:
                    stats.scenes_cached += 1

            def store(
                scene: Scene, have: list[str], missing: list[str], path: Path | None, fresh: np.ndarray
            ) -> None:
                data, data_bands = fresh, list(missing)
                if have and path is not None:
                    data = np.concatenate([self._read_cached(path, have, gbox), fresh], axis=0)
                    data_bands = [*have, *missing]
                file_name = f"{_safe(scene.id)}.tif"
                self._write(data, data_bands, gbox, scene, folder / key, file_name)
                grid["scenes"][scene.id] = {
                    "file": file_name,
                    "bands": data_bands,
                    "datetime": scene.datetime.isoformat(),
                    "processing_level": scene.processing_level,
                    "cloud_fraction": scene.cloud_fraction,
                    "source": self.source,
                    "provider": self.name,
                    "fetched_at": _now(),
                }
                manifest["updated_at"] = _now()
                # After every scene, so an interruption keeps everything finished so far.
                _atomic_write_json(folder / MANIFEST, manifest)
                stats.scenes_fetched += 1
                stats.bands_fetched += len(missing)
                stats.fetched_ids.append(scene.id)
                if progress is not None:
                    progress(stats.scenes_fetched, len(todo), scene)

            def fetch(item: tuple[Scene, list[str], list[str], Path | None]) -> np.ndarray:
                log.info("fetching scene %s (%s) from %s", item[0].id, ", ".join(item[2]), self.source)
                return self.inner.read_scene(item[0], item[2], gbox)

            threads = max(1, int(getattr(self.inner, "fetch_threads", 1)))
            if threads == 1 or len(todo) < 2:
                for item in todo:
                    store(*item, fetch(item))
            else:
                # Scenes are read concurrently (network latency dominates); files and the manifest
                # are written here, one at a time, in the order the reads finish.
                from concurrent.futures import ThreadPoolExecutor, as_completed

                failure: BaseException | None = None
                with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sitewatch-fetch") as pool:
                    futures = {pool.submit(fetch, item): item for item in todo}
                    for future in as_completed(futures):
                        try:
                            fresh = future.result()
                        except BaseException as exc:
                            if failure is None:
                                failure = exc
                                for other in futures:
                                    other.cancel()
                            continue
                        store(*futures[future], fresh)
                if failure is not None:
                    raise failure
            _atomic_write_json(folder / MANIFEST, manifest)
        self.stats = stats
        log.info(
            "cache %s: %d scene(s) fetched, %d already cached",
            folder,
            stats.scenes_fetched,
            stats.scenes_cached,
        )
        return stats

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
        """Load ``scenes`` as a ``(time, band, y, x)`` stack, fetching only what the cache lacks.

        Parameters
        ----------
        scenes : sequence of Scene
            From :meth:`search`.
        aoi : AOI, optional
            The area (names the cache folder and, without ``geobox``, the grid).
        bands : sequence of str, optional
            Default: B02 B03 B04 B08 B8A B11 B12 and SCL, where the scenes have them.
        geobox : GeoBox, optional
        crs : str, optional
            ``"utm"`` (default) or any CRS.
        resolution_m : float
        chunk_px : int, optional
            Fill the cache, then return a dask-backed stack read from it block by block
            (see :func:`sitewatch.providers.local.lazy_stack`).

        Returns
        -------
        xarray.DataArray
        """
        from sitewatch.providers.grid import lazy_stack, stack_to_dataarray

        if not scenes:
            raise NoScenesError(f"no scenes to load from {self.source}")
        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        names = self._bands(scenes, bands)
        self.fill(scenes, aoi=aoi, bands=names, geobox=gbox)
        folder = self._aoi_dir(aoi)
        key = grid_key(gbox)
        grid = _read_manifest(folder / MANIFEST, folder.name)["grids"][key]
        if chunk_px is not None:
            paths = [folder / key / grid["scenes"][scene.id]["file"] for scene in scenes]
            return lazy_stack(
                lambda t, window: self._read_cached(paths[t], names, window),
                gbox,
                scenes,
                names,
                chunk_px=chunk_px,
                provider=self.name,
                source=self.source,
            )
        data = np.full((len(scenes), len(names), *gbox.shape), np.nan, dtype=np.float32)
        for t, scene in enumerate(scenes):
            entry = grid["scenes"][scene.id]
            data[t] = self._read_cached(folder / key / entry["file"], names, gbox)
        return stack_to_dataarray(data, gbox, scenes, names, provider=self.name, source=self.source)

    @staticmethod
    def _bands(scenes: Sequence[Scene], bands: Sequence[str] | None) -> list[str]:
        if bands is not None:
            return [str(b) for b in bands]
        common = set(scenes[0].bands).intersection(*(s.bands for s in scenes[1:])) if scenes else set()
        return [b for b in (*DEFAULT_BANDS, "SCL") if b in common]

    @staticmethod
    def _grid_record(gbox: GeoBox) -> dict[str, Any]:
        return {
            "crs": str(gbox.crs),
            "resolution_m": abs(gbox.resolution.x),
            "shape": list(gbox.shape),
            "transform": list(gbox.affine)[:6],
            "bounds": list(gbox.extent.boundingbox),
            "scenes": {},
        }

    @staticmethod
    def _write(
        data: np.ndarray, bands: Sequence[str], gbox: GeoBox, scene: Scene, folder: Path, file_name: str
    ) -> None:
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
            write_scene(
                da,
                folder,
                name=Path(file_name).stem,
                processing_level=scene.processing_level,
                tags={"BOA_ADD_OFFSET": str(-_STORE_SHIFT), "SITEWATCH_SCENE_ID": scene.id},
            )
        except OSError as exc:
            raise CacheError(f"cannot write {folder / file_name} ({exc}); check the disk space") from None

    @staticmethod
    def _read_cached(path: Path, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
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


@dataclass(frozen=True)
class FetchReport:
    """What :func:`fetch_series` did: scenes found, fetched and already cached, and where."""

    aoi: str
    source: str
    n_found: int
    scenes_fetched: int
    scenes_cached: int
    grid: str
    path: Path


def fetch_series(
    aoi: AOI,
    *,
    source: str = "earth-search",
    start: dt.date | None = None,
    end: dt.date | None = None,
    max_cloud_fraction: float | None = None,
    bands: Sequence[str] | None = None,
    crs: str = "utm",
    resolution_m: float = 10.0,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int, Scene], None] | None = None,
    **options: Any,
) -> FetchReport:
    """Fill the cache with an AOI's time series from a remote source, fetching only what is missing.

    Parameters
    ----------
    aoi : AOI
    source : str
        A remote ``--source`` (``earth-search``, ``stac:URL#COLLECTION``, ``sentinelhub``, ``cdse``).
    start, end : datetime.date, optional
        Inclusive; default the year up to today.
    max_cloud_fraction : float, optional
        Skip scenes whose catalogue cloud cover exceeds this (0..1).
    bands : sequence of str, optional
        Default B02 B03 B04 B08 B8A B11 B12 SCL.
    crs : str
        ``"utm"`` or any CRS.
    resolution_m : float
    cache_dir : path, optional
    progress : callable, optional
        Called as ``progress(done, to_fetch, scene)`` after each fetched scene.
    **options
        Passed to the provider factory.

    Returns
    -------
    FetchReport

    Raises
    ------
    ConfigError
        If the source is not a remote (cached) one.
    NoScenesError
        If the catalogue holds no scene for the AOI and dates.
    """
    from sitewatch.providers.base import get_provider

    provider = get_provider(source, cache_dir=cache_dir, **options)
    if not isinstance(provider, CachedProvider):
        raise ConfigError(f"{source!r} is not a remote source; only remote imagery is fetched into the cache")
    end = end or dt.datetime.now(dt.timezone.utc).date()
    start = start or end - dt.timedelta(days=365)
    scenes = list(provider.search(aoi, start, end, max_cloud_fraction=max_cloud_fraction))
    if not scenes:
        raise NoScenesError(
            f"{provider.source} holds no scene over {aoi.name} from {start} to {end}"
            + (f" with at most {max_cloud_fraction:.0%} cloud" if max_cloud_fraction is not None else "")
        )
    gbox = grid_for(aoi=aoi, crs=crs, resolution_m=resolution_m)
    stats = provider.fill(scenes, aoi=aoi, bands=bands, geobox=gbox, progress=progress)
    key = grid_key(gbox)
    return FetchReport(
        aoi=aoi.name,
        source=provider.source,
        n_found=len(scenes),
        scenes_fetched=stats.scenes_fetched,
        scenes_cached=stats.scenes_cached,
        grid=key,
        path=provider.root / aoi.name / key,
    )


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
    folders = [root / aoi_name] if aoi_name else sorted(p for p in root.iterdir() if p.is_dir())
    for folder in folders:
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            continue
        manifest = _read_manifest(manifest_path, folder.name)
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
                    "sources": ",".join(sorted({str(e["source"]) for e in entries.values()})),
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
    from sitewatch.aoi import check_name

    folder = cache_root(cache_dir) / check_name(aoi_name)
    if not folder.is_dir():
        raise CacheError(f"nothing is cached for AOI {aoi_name} under {folder.parent}")
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    with _locked(folder):
        for child in folder.iterdir():
            if child.name == ".lock":
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    shutil.rmtree(folder, ignore_errors=True)
    return size
