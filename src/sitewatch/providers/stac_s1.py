"""The ``stac`` and ``earth-search`` radar providers: Sentinel-1 from STAC catalogues.

Search runs through the optical :class:`~sitewatch.providers.stac.StacProvider` (pystac-client,
paging, retries, timeouts, credentials kept out of logs); its items are regrouped into one
:class:`~sitewatch.types.Scene` per **pass**: same platform, orbit direction and relative orbit
on one UTC day (the consecutive frames of one pass, mosaicked on load). The geometry comes
from the item properties ``sat:orbit_state``, ``sat:relative_orbit`` (else
``sat:absolute_orbit`` or the product id), ``platform`` and ``sar:polarizations``; only IW
acquisitions are kept (EW and SM have other resolutions and noise).

Two kinds of collections:

- **Analysis-ready backscatter** (the ``sentinel-1-rtc`` style: Planetary Computer RTC, OPERA
  RTC, Terrascope sigma0...): ``vv``/``vh`` (or ``VV``/``VH``) assets holding linear power on
  a map grid are read with odc-stac onto the AOI's grid, only the window under it (HTTP
  Range requests); linear power is averaged when the grid is coarser than the asset. The
  convention is gamma0 for RTC collections (``rtc`` in the collection, ``sar:product_type``
  ``RTC``), sigma0 where the collection or the items say so, else the ``backscatter``
  option.
- **GRD** (Earth Search's ``sentinel-1-grd``: ``vv``/``vh`` plus ``schema-calibration-*``
  assets): the pixels are uncalibrated amplitude in radar geometry (ground control points, no
  map grid) in a requester-pays bucket. Search works (the acquisitions and their orbits);
  loading is refused with what to use instead, because odc-stac cannot put such pixels on a
  map and calibrating them needs the calibration tables and a DEM-aware geocoding.

Fetched scenes go through the optical cache (see :mod:`sitewatch.providers.radar_cache`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sitewatch.errors import BandMissingError, ConfigError, DataError
from sitewatch.providers.network import quiet_read_logs, threaded_reads
from sitewatch.providers.radar import (
    RADAR_BANDS,
    OrbitDirection,
    RadarInfo,
    backscatter_from_text,
    check_one_convention,
    orbit_direction_from_time,
    parse_product_name,
    radar_scene_id,
    radar_stack,
    relative_orbit_from_absolute,
)
from sitewatch.providers.radar_cache import CachedRadarProvider
from sitewatch.providers.stac import EARTH_SEARCH_URL, StacProvider
from sitewatch.types import AOI, Scene

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

__all__ = [
    "DEFAULT_S1_COLLECTION",
    "StacRadarProvider",
    "asset_for_polarization",
    "earth_search_s1_factory",
    "radar_info_from_item",
    "stac_s1_factory",
]

log = logging.getLogger(__name__)

#: Earth Search's Sentinel-1 collection.
DEFAULT_S1_COLLECTION = "sentinel-1-grd"
_PLATFORM_RE = re.compile(r"sentinel-?1([a-d])", re.IGNORECASE)
# Several frames of one pass are sensed within minutes; passes of one orbit are days apart.
_PASS_SLACK = dt.timedelta(minutes=30)


def asset_for_polarization(assets: Mapping[str, Any], polarization: str) -> str | None:
    """The key of the asset holding one polarisation, or None.

    Examples
    --------
    >>> asset_for_polarization({"vv": {}, "vh": {}, "thumbnail": {}}, "VH")
    'vh'
    >>> asset_for_polarization({"VV": {}}, "vv")
    'VV'
    """
    pol = polarization.upper()
    for key in (pol.lower(), pol, f"{pol.lower()}-cog", f"{pol}_gamma0", f"{pol.lower()}_gamma0"):
        if key in assets:
            return key
    for key, asset in assets.items():
        extra = asset if isinstance(asset, Mapping) else getattr(asset, "extra_fields", {})
        pols = [str(p).upper() for p in extra.get("sar:polarizations", []) or []]
        if pols == [pol] and "data" in (extra.get("roles") or ["data"]):
            return str(key)
    return None


def _is_grd(item: Mapping[str, Any]) -> bool:
    assets = item.get("assets", {})
    return any(str(k).startswith("schema-calibration") for k in assets)


def radar_info_from_item(
    item: Mapping[str, Any], *, collection: str, backscatter: Literal["sigma0", "gamma0"] | None = None
) -> RadarInfo | None:
    """The geometry and convention of a Sentinel-1 STAC item, or None when it is not IW.

    Parameters
    ----------
    item : mapping
        The STAC item as a dict.
    collection : str
    backscatter : {"sigma0", "gamma0"}, optional
        The convention, when the catalogue does not say it.

    Returns
    -------
    RadarInfo or None

    Raises
    ------
    DataError
        If the item's orbit cannot be told.
    """
    props = item.get("properties", {})
    mode = str(props.get("sar:instrument_mode") or "IW").upper()
    if mode != "IW":
        return None
    item_id = str(item.get("id", ""))
    product = parse_product_name(item_id)
    platform_match = _PLATFORM_RE.search(str(props.get("platform") or ""))
    platform = (
        f"S1{platform_match.group(1).upper()}" if platform_match else (product or {}).get("platform", "S1")
    )
    state = str(props.get("sat:orbit_state") or "").upper()
    if state not in ("ASCENDING", "DESCENDING"):
        when = _item_time(item)
        bbox = item.get("bbox") or [0.0, 0.0, 0.0, 0.0]
        state = orbit_direction_from_time(when, (float(bbox[0]) + float(bbox[2])) / 2.0)
    relative = int(props.get("sat:relative_orbit") or 0)
    if not relative and props.get("sat:absolute_orbit"):
        relative = relative_orbit_from_absolute(platform, int(props["sat:absolute_orbit"]))
    if not relative and product:
        relative = relative_orbit_from_absolute(product["platform"], product["absolute_orbit"])
    if not relative:
        raise DataError(
            f"STAC item {item_id} names no relative orbit (sat:relative_orbit); it cannot be grouped"
        )
    pols = [str(p).upper() for p in props.get("sar:polarizations") or RADAR_BANDS]
    pols = [p for p in RADAR_BANDS if p in pols and asset_for_polarization(item.get("assets", {}), p)]
    convention = (
        backscatter
        or backscatter_from_text(
            props.get("sar:product_type") if props.get("sar:product_type") != "GRD" else None
        )
        or backscatter_from_text(collection)
        or backscatter_from_text(props.get("s1:backscatter") or props.get("backscatter"))
    )
    return RadarInfo(
        platform=platform,
        orbit_direction=state,  # type: ignore[arg-type]
        relative_orbit=relative,
        backscatter=convention,
        polarizations=tuple(pols),
    )


def _item_time(item: Mapping[str, Any]) -> dt.datetime:
    props = item.get("properties", {})
    text = props.get("datetime") or props.get("start_datetime")
    if not text:
        raise DataError(f"STAC item {item.get('id')} has no datetime")
    when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _item_grid(
    item: Mapping[str, Any], key: str
) -> tuple[str | None, tuple | None, tuple | None, float | None]:
    props = item.get("properties", {})
    asset = item.get("assets", {}).get(key, {})
    code = asset.get("proj:code") or props.get("proj:code")
    epsg = asset.get("proj:epsg") or props.get("proj:epsg")
    crs = code or (f"EPSG:{epsg}" if epsg else None)
    shape = asset.get("proj:shape") or props.get("proj:shape")
    transform = asset.get("proj:transform") or props.get("proj:transform")
    bbox = asset.get("proj:bbox") or props.get("proj:bbox")
    res = abs(float(transform[0])) if transform else None
    if bbox is None and transform is not None and shape is not None:
        a, _, c, _, e, f = transform[:6]
        bbox = (c, f + e * shape[0], c + a * shape[1], f)
    return crs, (tuple(bbox) if bbox else None), (tuple(shape) if shape else None), res


class StacRadarProvider:
    """Sentinel-1 passes from a STAC API (``--sar stac:URL#COLLECTION``, ``--sar earth-search``).

    Parameters
    ----------
    url : str
        The STAC API root.
    collection : str
        ``sentinel-1-grd`` (Earth Search), ``sentinel-1-rtc``...
    backscatter : {"sigma0", "gamma0"}, optional
        The convention of the collection's pixels when neither it nor its items say it.
    name : str
        Provider name (stacks, cache).
    fetch_threads : int
        Passes fetched at the same time by the cache.
    read_threads : int
        Assets of one pass read at the same time.
    timeout_s : float, optional
        Read timeout of catalogue and pixel requests (see :mod:`sitewatch.providers.network`).
    **options
        Passed to :class:`~sitewatch.providers.stac.StacProvider` (``method``,
        ``page_size``, ``headers``, ``max_attempts``, ``retry_sleep_s``).
    """

    def __init__(
        self,
        url: str,
        collection: str = DEFAULT_S1_COLLECTION,
        *,
        backscatter: Literal["sigma0", "gamma0"] | None = None,
        name: str = "stac-s1",
        fetch_threads: int = 4,
        read_threads: int = 4,
        timeout_s: float | None = None,
        **options: Any,
    ) -> None:
        if backscatter is not None and backscatter not in ("sigma0", "gamma0"):
            raise ConfigError(f"backscatter must be sigma0 or gamma0, not {backscatter!r}")
        self.catalog = StacProvider(
            url,
            collection,
            name=name,
            timeout_s=timeout_s,
            read_threads=read_threads,
            fetch_threads=fetch_threads,
            **options,
        )
        self.collection = collection
        # the collection's convention, also what offline (cached) scenes are taken to be
        self.backscatter = backscatter or backscatter_from_text(collection)
        self.name = name
        self.fetch_threads = max(1, int(fetch_threads))
        self.read_threads = max(1, int(read_threads))
        self.timeout_s = self.catalog.timeout_s

    def __repr__(self) -> str:
        return f"StacRadarProvider({self.catalog!r})"

    @property
    def source(self) -> str:
        """The ``--sar`` text naming the catalogue and collection (no credentials)."""
        return self.catalog.source

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        orbit_direction: OrbitDirection | None = None,
    ) -> Iterator[Scene]:
        """Yield one scene per Sentinel-1 pass over the AOI, oldest first.

        Raises
        ------
        ProviderError, CredentialsError, RateLimitError
            As the catalogue search fails.
        """
        passes: dict[tuple[str, str, int, str], list[tuple[RadarInfo, dict[str, Any]]]] = defaultdict(list)
        skipped = 0
        for day_scene in self.catalog.search(aoi, start, end):
            for item in day_scene.properties.get("items") or []:
                info = radar_info_from_item(item, collection=self.collection, backscatter=self.backscatter)
                if info is None or not info.polarizations:
                    skipped += 1
                    continue
                if orbit_direction is not None and info.orbit_direction != orbit_direction.upper():
                    continue
                day = _item_time(item).date().isoformat()
                passes[(info.platform, info.orbit_direction, info.relative_orbit, day)].append(
                    (info, dict(item))
                )
        if skipped:
            log.info("STAC radar search: %d items skipped (not IW, or no VV/VH asset)", skipped)
        scenes = [self._scene(members) for members in passes.values()]
        yield from sorted(scenes, key=lambda s: (s.datetime, s.id))

    def _scene(self, members: Sequence[tuple[RadarInfo, dict[str, Any]]]) -> Scene:
        members = sorted(members, key=lambda m: str(m[1]["id"]))
        info = members[0][0]
        pols = tuple(p for p in RADAR_BANDS if all(p in m[0].polarizations for m in members))
        items = [m[1] for m in members]
        when = min(_item_time(i) for i in items)
        key = asset_for_polarization(items[0].get("assets", {}), pols[0]) if pols else None
        crs, bounds, shape, res = _item_grid(items[0], key or "")
        radar = RadarInfo(info.platform, info.orbit_direction, info.relative_orbit, info.backscatter, pols)
        return Scene(
            id=radar_scene_id(radar, when),
            datetime=when,
            bands=pols,
            provider=self.name,
            location=self.source,
            crs=crs,
            bounds=bounds if len(items) == 1 else None,  # type: ignore[arg-type]
            shape=shape if len(items) == 1 else None,  # type: ignore[arg-type]
            properties={
                **radar.as_properties(),
                "collection": self.collection,
                "kind": "grd" if any(_is_grd(i) for i in items) else "backscatter",
                "item_ids": [str(i["id"]) for i in items],
                "items": items,
                "resolution_m": res,
            },
        )

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """Read one pass's polarisations onto a grid: float32 ``(band, y, x)`` linear power.

        Raises
        ------
        DataError
            For GRD collections (uncalibrated, radar geometry), or a pass without items.
        BandMissingError
            If an item has no asset for a polarisation asked for.
        ProviderError
            If the assets cannot be read.
        """
        import odc.stac
        import pystac

        items_json = scene.properties.get("items") or []
        if not items_json:
            raise DataError(f"radar scene {scene.id} carries no STAC items; search it with this provider")
        if scene.properties.get("kind") == "grd":
            raise DataError(
                f"{self.collection} items ({items_json[0].get('id')}) hold uncalibrated GRD amplitude in "
                "radar geometry (no map grid, requester-pays bucket), not backscatter on a grid; use "
                "--sar cdse or --sar sentinelhub (calibrated and orthorectified by the service), an RTC "
                "collection (--sar stac:URL#sentinel-1-rtc) or local terrain-corrected GeoTIFFs"
            )
        keys: dict[str, str] = {}
        for band in bands:
            found = {asset_for_polarization(i.get("assets", {}), band) for i in items_json}
            if None in found or len(found) != 1:
                raise BandMissingError(
                    f"radar scene {scene.id} has no {band} asset in every item; ask for {scene.bands}"
                )
            keys[band] = str(found.pop())
        native = scene.properties.get("resolution_m")
        coarser = native is not None and abs(gbox.resolution.x) >= 1.5 * float(native)
        resampling = "average" if coarser else "bilinear"  # averaging linear power is multilooking
        items = [pystac.Item.from_dict(dict(i)) for i in items_json]
        try:
            quiet_read_logs()
            gdal_opts: dict[str, Any] = {
                **self.catalog.network.gdal_options(),
                "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
            }
            odc.stac.configure_rio(cloud_defaults=True, **gdal_opts)
            with threaded_reads():
                ds = odc.stac.load(
                    items,
                    bands=[keys[b] for b in bands],
                    geobox=gbox,
                    groupby="solar_day",
                    resampling=resampling,
                    dtype="float32",
                    chunks=None,
                    pool=self.read_threads if self.read_threads > 1 else None,
                    fail_on_error=True,
                )
        except Exception as exc:
            raise self.catalog.read_error(scene, exc, kind="radar scene") from None
        out = np.full((len(bands), *gbox.shape), np.nan, dtype=np.float32)
        for b, band in enumerate(bands):
            var = ds[keys[band]]
            values = var.values.astype(np.float32)
            nodata = var.attrs.get("nodata")
            if nodata is not None and np.isfinite(nodata):
                values[values == np.float32(nodata)] = np.nan
            values[~(values > 0)] = np.nan  # zero power: border noise removed, no data
            if values.ndim == 3:
                first = values[0].copy()
                for extra in values[1:]:
                    first = np.where(np.isnan(first), extra, first)
                values = first
            out[b] = values
        return out

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
        """Fetch ``scenes`` as a linear-power stack (uncached; the factories add the cache)."""
        from sitewatch.core.sar import linear_power
        from sitewatch.providers.cache import grid_for

        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        check_one_convention(scenes)
        pols = (
            list(polarizations)
            if polarizations is not None
            else [p for p in RADAR_BANDS if all(p in s.bands for s in scenes)]
        )
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        data = (
            np.stack([self.read_scene(s, pols, gbox) for s in scenes])
            if scenes
            else np.empty((0, len(pols), *gbox.shape), np.float32)
        )
        return linear_power(radar_stack(data, gbox, scenes, pols, provider=self.name, source=self.source))


def _parse(arg: str | None) -> tuple[str, str]:
    if not arg:
        return EARTH_SEARCH_URL, DEFAULT_S1_COLLECTION
    url, _, collection = arg.partition("#")
    if not url and collection:
        return EARTH_SEARCH_URL, collection
    if not re.match(r"^https?://", url):
        raise ConfigError(
            f"STAC API URL {url!r} must start with http:// or https:// (--sar stac:URL#COLLECTION)"
        )
    return url, collection or DEFAULT_S1_COLLECTION


def stac_s1_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Radar provider for ``--sar stac:URL#COLLECTION`` (cached unless ``cache=False``).

    Parameters
    ----------
    arg : str, optional
        ``URL`` or ``URL#COLLECTION``; without it, Earth Search's ``sentinel-1-grd``.
    cache_dir : path, optional
    cache : bool
    **options
        Passed to :class:`StacRadarProvider` (``backscatter``, ``headers``...).

    Returns
    -------
    RadarProvider
    """
    url, collection = _parse(arg)
    provider = StacRadarProvider(url, collection, **options)
    return CachedRadarProvider(provider, cache_dir=cache_dir) if cache else provider


def earth_search_s1_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Radar provider for ``--sar earth-search[:COLLECTION]`` (Element 84's Earth Search v1)."""
    provider = StacRadarProvider(
        EARTH_SEARCH_URL, arg or DEFAULT_S1_COLLECTION, name="earth-search-s1", **options
    )
    return CachedRadarProvider(provider, cache_dir=cache_dir) if cache else provider
