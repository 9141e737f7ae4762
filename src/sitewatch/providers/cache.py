"""An incremental on-disk cache in front of any remote provider.

:class:`CachedProvider` wraps a remote provider (STAC, Sentinel Hub): ``search`` asks the
service (or, offline, the manifest), ``load`` reads every scene already cached on the
grid with the bands from disk and fetches only the rest. The storage (layout, manifest,
scene files) is :mod:`sitewatch.providers.cache_store`.

A fill records each scene in the manifest as soon as its file is written (atomically and
verified), so an interrupted fetch leaves only whole scenes and the next run resumes. A
scene whose assets the service answers 404/410 for is skipped with one warning naming it,
recorded as unavailable and not asked for again for
:data:`~sitewatch.providers.cache_store.UNAVAILABLE_RETRY_DAYS` days (or until
``retry_unavailable=True``); the other scenes go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from sitewatch.errors import (
    ConfigError,
    CredentialsError,
    NoScenesError,
    ProviderError,
    ProviderWarning,
    RateLimitError,
    UnavailableError,
)
from sitewatch.providers.base import DEFAULT_BANDS
from sitewatch.providers.cache_store import (
    MANIFEST,
    aoi_folder,
    cache_entries,
    cache_root,
    cached_file_readable,
    grid_for,
    grid_key,
    grid_record,
    locked,
    mark_unavailable,
    now_iso,
    read_cached,
    read_manifest,
    remove_cache,
    safe_name,
    unavailable_ids,
    write_cached,
    write_manifest,
)
from sitewatch.providers.network import threaded_reads
from sitewatch.types import as_date, check_date_order

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

    from sitewatch.types import AOI, Scene

__all__ = [
    "CachedProvider",
    "FetchReport",
    "FetchStats",
    "SceneReader",
    "cache_entries",
    "cache_root",
    "fetch_series",
    "grid_for",
    "grid_key",
    "remove_cache",
]

log = logging.getLogger(__name__)

_Todo = tuple["Scene", list[str], list[str], "Path | None"]


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
    scenes_unavailable: int = 0
    fetched_ids: list[str] = field(default_factory=list)
    unavailable_ids: list[str] = field(default_factory=list)


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
    retry_unavailable : bool
        Ask again for scenes recorded unavailable (404/410) less than 7 days ago.
    """

    #: ``load`` reads the cached scenes lazily, block by block, with ``chunk_px``.
    reads_blocks = True

    def __init__(
        self,
        inner: SceneReader,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        retry_unavailable: bool = False,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.root = cache_root(cache_dir)
        self.retry_unavailable = retry_unavailable
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
        manifest = read_manifest(folder / MANIFEST, folder.name)
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
        return aoi_folder(self.root, aoi)

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
        interrupted fill resumes on the next call. A scene the service answers 404/410 for
        is skipped with a :class:`~sitewatch.errors.ProviderWarning` naming it, and recorded
        as unavailable (see :class:`CachedProvider`).

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
        CacheError, DiskFullError
            If the cache cannot be written.
        """
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        names = self._bands(scenes, bands)
        folder = self._aoi_dir(aoi)
        stats = self.stats = FetchStats()  # visible as it grows, also when a fetch fails
        with locked(folder):
            fill = _Fill(self, folder, gbox, stats, progress)
            todo = fill.plan(scenes, names)
            fill.run(todo)
            write_manifest(folder / MANIFEST, fill.manifest)
        self.stats = stats
        log.info(
            "cache %s: %d scene(s) fetched, %d already cached, %d unavailable",
            folder,
            stats.scenes_fetched,
            stats.scenes_cached,
            stats.scenes_unavailable,
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
            Without the scenes the service no longer has (404/410; warned about by :meth:`fill`).
        """
        from sitewatch.providers.grid import lazy_stack, stack_to_dataarray

        if not scenes:
            raise NoScenesError(f"no scenes to load from {self.source}")
        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        names = self._bands(scenes, bands)
        stats = self.fill(scenes, aoi=aoi, bands=names, geobox=gbox)
        if stats.unavailable_ids:
            gone = set(stats.unavailable_ids)
            scenes = [s for s in scenes if s.id not in gone]
            if not scenes:
                raise NoScenesError(
                    f"every scene from {self.source} is unavailable (HTTP 404/410); "
                    "try other dates, or --retry-unavailable later"
                )
        folder = self._aoi_dir(aoi)
        key = grid_key(gbox)
        grid = read_manifest(folder / MANIFEST, folder.name)["grids"][key]
        if chunk_px is not None:
            paths = [folder / key / grid["scenes"][scene.id]["file"] for scene in scenes]
            return lazy_stack(
                lambda t, window: read_cached(paths[t], names, window),
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
            data[t] = read_cached(folder / key / entry["file"], names, gbox)
        return stack_to_dataarray(data, gbox, scenes, names, provider=self.name, source=self.source)

    @staticmethod
    def _bands(scenes: Sequence[Scene], bands: Sequence[str] | None) -> list[str]:
        if bands is not None:
            return [str(b) for b in bands]
        common = set(scenes[0].bands).intersection(*(s.bands for s in scenes[1:])) if scenes else set()
        return [b for b in (*DEFAULT_BANDS, "SCL") if b in common]


class _Fill:
    """One fill of the cache for a grid: what to fetch, fetching it, recording it."""

    def __init__(
        self,
        provider: CachedProvider,
        folder: Path,
        gbox: GeoBox,
        stats: FetchStats,
        progress: Callable[[int, int, Scene], None] | None,
    ) -> None:
        self.provider, self.folder, self.gbox, self.stats = provider, folder, gbox, stats
        self.progress = progress
        self.key = grid_key(gbox)
        self.manifest = read_manifest(folder / MANIFEST, folder.name)
        self.grid = self.manifest["grids"].setdefault(self.key, grid_record(gbox))
        self.n_todo = 0

    def plan(self, scenes: Sequence[Scene], names: Sequence[str]) -> list[_Todo]:
        """The scenes (and their bands) to fetch; counts the cached and the known-unavailable ones."""
        grid_dir = self.folder / self.key
        for partial in grid_dir.glob(".*.partial*") if grid_dir.is_dir() else []:
            partial.unlink()  # left by an interrupted run
        source = self.provider.source
        gone = {} if self.provider.retry_unavailable else unavailable_ids(self.manifest, source)
        todo: list[_Todo] = []
        skipped = []
        for scene in sorted(scenes, key=lambda s: (s.datetime, s.id)):
            if scene.id in gone:
                skipped.append(scene.id)
                continue
            entry = self.grid["scenes"].get(scene.id)
            path = grid_dir / entry["file"] if entry else None
            readable = path is not None and cached_file_readable(path)
            have = list(entry["bands"]) if entry and readable else []
            missing = [b for b in names if b not in have]
            if missing:
                todo.append((scene, have, missing, path))
            else:
                self.stats.scenes_cached += 1
        if skipped:
            self.stats.scenes_unavailable += len(skipped)
            self.stats.unavailable_ids += skipped
            warnings.warn(
                f"{len(skipped)} scene(s) skipped: {source} answered 404/410 for them less than "
                f"7 days ago ({', '.join(skipped[:5])}{'...' if len(skipped) > 5 else ''}); "
                "--retry-unavailable asks again",
                ProviderWarning,
                stacklevel=4,
            )
        self.n_todo = len(todo)
        return todo

    def fetch(self, item: _Todo) -> np.ndarray:
        """Read one scene's missing bands from the service."""
        scene, _, missing, _ = item
        log.info("fetching scene %s (%s) from %s", scene.id, ", ".join(missing), self.provider.source)
        return self.provider.inner.read_scene(scene, missing, self.gbox)

    def store(self, item: _Todo, fresh: np.ndarray) -> None:
        """Write a fetched scene (with the bands it had) and record it in the manifest."""
        scene, have, missing, path = item
        data, data_bands = fresh, list(missing)
        if have and path is not None:
            data = np.concatenate([read_cached(path, have, self.gbox), fresh], axis=0)
            data_bands = [*have, *missing]
        file_name = f"{safe_name(scene.id)}.tif"
        write_cached(data, data_bands, self.gbox, scene, self.folder / self.key, file_name)
        self.grid["scenes"][scene.id] = {
            "file": file_name,
            "bands": data_bands,
            "datetime": scene.datetime.isoformat(),
            "processing_level": scene.processing_level,
            "cloud_fraction": scene.cloud_fraction,
            "source": self.provider.source,
            "provider": self.provider.name,
            "fetched_at": now_iso(),
        }
        (self.manifest.get("unavailable") or {}).pop(scene.id, None)
        self._save()
        self.stats.scenes_fetched += 1
        self.stats.bands_fetched += len(missing)
        self.stats.fetched_ids.append(scene.id)
        if self.progress is not None:
            self.progress(self.stats.scenes_fetched, self.n_todo, scene)

    def gone(self, item: _Todo, exc: UnavailableError, *, warn: bool = True) -> None:
        """Record a scene the service no longer has, warn once naming it (now or later), go on."""
        scene = item[0]
        mark_unavailable(self.manifest, scene.id, status=exc.status, source=self.provider.source)
        self._save()
        self.stats.scenes_unavailable += 1
        self.stats.unavailable_ids.append(scene.id)
        if warn:
            self.warn_gone(exc)

    @staticmethod
    def warn_gone(exc: UnavailableError) -> None:
        """The one warning naming a scene the service no longer has."""
        warnings.warn(
            f"{exc}; recorded as unavailable for 7 days (--retry-unavailable asks again)",
            ProviderWarning,
            stacklevel=5,
        )

    def _save(self) -> None:
        self.manifest["updated_at"] = now_iso()
        # After every scene, so an interruption keeps everything finished so far.
        write_manifest(self.folder / MANIFEST, self.manifest)

    def run(self, todo: list[_Todo]) -> None:
        """Fetch and store every item: one at a time, or reads in threads and writes here in turn."""
        threads = max(1, int(getattr(self.provider.inner, "fetch_threads", 1)))
        if threads == 1 or len(todo) < 2:
            for item in todo:
                try:
                    fresh = self.fetch(item)
                except UnavailableError as exc:
                    self.gone(item, exc)
                    continue
                self.store(item, fresh)
            return
        # Scenes are read concurrently (network latency dominates); files and the manifest are
        # written here, one at a time, in the order the reads finish.
        from concurrent.futures import ThreadPoolExecutor, as_completed

        failure: BaseException | None = None
        gone: list[UnavailableError] = []
        # the warning filters are only sure again after the pool: warn about gone scenes then
        with (
            threaded_reads(),
            ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sitewatch-fetch") as pool,
        ):
            futures = {pool.submit(self.fetch, item): item for item in todo}
            for future in as_completed(futures):
                try:
                    fresh = future.result()
                except UnavailableError as exc:
                    self.gone(futures[future], exc, warn=False)
                    gone.append(exc)
                    continue
                except BaseException as exc:
                    if failure is None:
                        failure = exc
                        for other in futures:
                            other.cancel()
                    continue
                self.store(futures[future], fresh)
        for gone_exc in gone:
            self.warn_gone(gone_exc)
        if failure is not None:
            raise failure


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
    scenes_unavailable: int = 0


def fetch_series(
    aoi: AOI,
    *,
    source: str = "earth-search",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    max_cloud_fraction: float | None = None,
    bands: Sequence[str] | None = None,
    crs: str = "utm",
    resolution_m: float = 10.0,
    cache_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int, int, Scene], None] | None = None,
    retry_unavailable: bool = False,
    **options: Any,
) -> FetchReport:
    """Fill the cache with an AOI's time series from a remote source, fetching only what is missing.

    Parameters
    ----------
    aoi : AOI
    source : str
        A remote ``--source`` (``earth-search``, ``stac:URL#COLLECTION``, ``sentinelhub``, ``cdse``).
    start, end : datetime.date or str, optional
        Inclusive (ISO text like ``"2024-05-01"`` as in `scan`); default the year up to today.
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
    retry_unavailable : bool
        Ask again for scenes recorded unavailable (404/410) in the last 7 days.
    **options
        Passed to the provider factory.

    Returns
    -------
    FetchReport

    Raises
    ------
    ConfigError
        If the source is not a remote (cached) one, or ``end`` is before ``start``.
    NoScenesError
        If the catalogue holds no scene for the AOI and dates.
    """
    from sitewatch.providers.base import get_provider
    from sitewatch.redact import redact

    start = as_date(start, what="start") if start is not None else None
    end = as_date(end, what="end") if end is not None else None
    check_date_order(start, end, what="the fetch range")
    end = end or dt.datetime.now(dt.timezone.utc).date()
    start = start or end - dt.timedelta(days=365)
    check_date_order(start, end, what="the fetch range")
    provider = get_provider(source, cache_dir=cache_dir, **options)
    if not isinstance(provider, CachedProvider):
        raise ConfigError(
            f"{redact(source)!r} is not a remote source; only remote imagery is fetched into the cache"
        )
    provider.retry_unavailable = retry_unavailable
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
        scenes_unavailable=stats.scenes_unavailable,
    )
