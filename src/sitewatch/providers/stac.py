"""The ``stac`` provider: Sentinel-2 L2A from any STAC API, read as cloud-optimised GeoTIFFs.

Search runs through ``pystac-client`` (POST or GET, following ``next`` links), with
the cloud filter (``eo:cloud_cover``) sent in the query where the API supports the
query or filter extension, and applied again to the returned items, so no pixel of
a cloudy scene is ever read. Loading runs through ``odc-stac``: only the assets of
the bands asked for are opened, and of each only the window under the AOI is read
(GDAL issues HTTP Range requests against the COGs).

Items of the same collection acquired on the same UTC day (neighbouring MGRS tiles
of one pass) form one :class:`~sitewatch.types.Scene`; they are mosaicked on load.

Asset names are mapped to band names: Earth Search v1's ``blue``, ``green``, ``red``,
``nir``, ``nir08``, ``swir16``, ``swir22``, ``scl`` (and the other common names), the
band name itself (``B02``), or CDSE-style ``B02_10m``. Reflectance is returned
x 10000 with the L2A offset removed: ``raster:bands`` ``scale``/``offset`` of the
asset where given (Earth Search v1 describes the +1000 of processing baseline 04.00
there), else -1000 when the item's ``s2:processing_baseline`` is 04.00 or later.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely

from sitewatch.errors import (
    BandMissingError,
    ConfigError,
    CredentialsError,
    DataError,
    ProviderError,
    RateLimitError,
    UnavailableError,
)
from sitewatch.providers.base import CATEGORICAL_BANDS, DEFAULT_BANDS
from sitewatch.providers.cache import CachedProvider, grid_for
from sitewatch.providers.network import (
    GONE_STATUSES,
    http_status_in,
    network_settings,
    quiet_read_logs,
    threaded_reads,
)
from sitewatch.redact import redact
from sitewatch.types import AOI, Scene

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

__all__ = [
    "EARTH_SEARCH_URL",
    "CDSE_STAC_URL",
    "StacProvider",
    "asset_for_band",
    "band_offset",
    "cdse_stac_factory",
    "earth_search_factory",
    "stac_factory",
]

log = logging.getLogger(__name__)

#: Element 84's public Earth Search v1 (no account needed).
EARTH_SEARCH_URL = "https://earth-search.aws.element84.com/v1"
#: The Copernicus Data Space Ecosystem STAC API (assets on S3 need CDSE S3 keys in AWS_* variables).
CDSE_STAC_URL = "https://stac.dataspace.copernicus.eu/v1"
DEFAULT_COLLECTION = "sentinel-2-l2a"

#: Common asset names (Earth Search v1, STAC eo common names) for each Sentinel-2 band.
ASSET_ALIASES: dict[str, tuple[str, ...]] = {
    "B01": ("coastal",),
    "B02": ("blue",),
    "B03": ("green",),
    "B04": ("red",),
    "B05": ("rededge1",),
    "B06": ("rededge2",),
    "B07": ("rededge3",),
    "B08": ("nir",),
    "B8A": ("nir08", "rededge4"),
    "B09": ("nir09",),
    "B10": ("cirrus",),
    "B11": ("swir16",),
    "B12": ("swir22",),
    "SCL": ("scl",),
}
_RES_SUFFIX = ("_10m", "_20m", "_60m")
_PB04 = 4.0
_FAILED_URLS: set[str] = set()
_PB04_OFFSET_DN = -1000.0


def asset_for_band(assets: Mapping[str, Any], band: str) -> str | None:
    """Return the key of the asset holding ``band`` in a STAC item's assets, or None.

    Parameters
    ----------
    assets : mapping
        The item's ``assets`` (keys to asset dicts or ``pystac.Asset``).
    band : str
        A Sentinel-2 band name (``"B02"``, ``"B8A"``, ``"SCL"``).

    Returns
    -------
    str or None

    Examples
    --------
    >>> asset_for_band({"blue": {}, "red": {}}, "B04")
    'red'
    >>> asset_for_band({"B8A_20m": {}}, "B8A")
    'B8A_20m'
    """
    candidates = [
        *ASSET_ALIASES.get(band, ()),
        band,
        band.lower(),
        *(band + s for s in _RES_SUFFIX),
        *(band.lower() + s for s in _RES_SUFFIX),
    ]
    for key in candidates:
        if key in assets:
            return key
    # Last resort: an asset whose eo:bands names the band.
    for key, asset in assets.items():
        extra = asset if isinstance(asset, Mapping) else getattr(asset, "extra_fields", {})
        for eo_band in extra.get("eo:bands", []) or []:
            if str(eo_band.get("name", "")).upper() == band:
                return str(key)
    return None


def _baseline(properties: Mapping[str, Any]) -> float | None:
    for key in ("s2:processing_baseline", "processing:version", "processing_baseline"):
        value = properties.get(key)
        if value is None:
            continue
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return None


def band_offset(item: Mapping[str, Any], asset_key: str, band: str) -> tuple[float, float]:
    """Return ``(scale, offset_dn)`` turning an asset's stored values into reflectance x 10000.

    ``value_x10000 = stored * scale + offset_dn``. The asset's ``raster:bands``
    ``scale``/``offset`` win (they describe reflectance 0..1, so they are multiplied by
    10000); without them, items of processing baseline 04.00 or later lose the 1000 DN
    offset ESA adds; categorical bands (``SCL``) are never changed.

    Parameters
    ----------
    item : mapping
        The STAC item as a dict.
    asset_key : str
    band : str

    Returns
    -------
    tuple of float

    Examples
    --------
    >>> item = {"properties": {}, "assets": {"red": {"raster:bands": [{"scale": 0.0001, "offset": -0.1}]}}}
    >>> band_offset(item, "red", "B04")
    (1.0, -1000.0)
    """
    if band in CATEGORICAL_BANDS:
        return 1.0, 0.0
    asset = item.get("assets", {}).get(asset_key, {})
    raster_bands = asset.get("raster:bands") or asset.get("bands") or []
    if raster_bands and isinstance(raster_bands[0], Mapping):
        info = raster_bands[0]
        scale = info.get("scale", info.get("raster:scale"))
        offset = info.get("offset", info.get("raster:offset"))
        if scale is not None or offset is not None:
            s = float(scale if scale is not None else 1.0)
            o = float(offset if offset is not None else 0.0)
            # raster:bands maps stored values to reflectance 0..1; sitewatch keeps x 10000.
            if s < 0.01:
                return round(s * 10000.0, 9), round(o * 10000.0, 6)
            return s, o
    props = item.get("properties", {})
    if props.get("earthsearch:boa_offset_applied") is True:
        # Earth Search v0-style: the offset was already taken out of the pixels.
        return 1.0, 0.0
    baseline = _baseline(props)
    if baseline is not None and baseline >= _PB04:
        return 1.0, _PB04_OFFSET_DN
    return 1.0, 0.0


def _asset_nodata(item: Mapping[str, Any], key: str) -> float | None:
    asset = item.get("assets", {}).get(key, {})
    for info in asset.get("raster:bands") or asset.get("bands") or []:
        if isinstance(info, Mapping) and info.get("nodata") is not None:
            return float(info["nodata"])
    # Sentinel-2 COGs use 0 for no data in every band (SCL class 0 is NO_DATA).
    return 0.0


def _item_datetime(item: Mapping[str, Any]) -> dt.datetime:
    props = item.get("properties", {})
    text = props.get("datetime") or props.get("start_datetime")
    if not text:
        raise DataError(f"STAC item {item.get('id')} has no datetime; it cannot be placed in a time series")
    when = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _item_grid(item: Mapping[str, Any], band: str) -> tuple[str | None, tuple | None, tuple | None]:
    props = item.get("properties", {})
    asset = item.get("assets", {}).get(asset_for_band(item.get("assets", {}), band) or "", {})
    code = asset.get("proj:code") or props.get("proj:code")
    epsg = asset.get("proj:epsg") or props.get("proj:epsg")
    crs = code or (f"EPSG:{epsg}" if epsg else None)
    shape = asset.get("proj:shape") or props.get("proj:shape")
    bbox = asset.get("proj:bbox") or props.get("proj:bbox")
    transform = asset.get("proj:transform") or props.get("proj:transform")
    if bbox is None and transform is not None and shape is not None:
        a, _, c, _, e, f = transform[:6]
        h, w = shape
        bbox = (c, f + e * h, c + a * w, f)
    return crs, (tuple(bbox) if bbox else None), (tuple(shape) if shape else None)


def _scene_from_items(items: Sequence[Mapping[str, Any]], *, collection: str, source: str) -> Scene:
    items = sorted(items, key=lambda i: str(i["id"]))
    first = items[0]
    bands = tuple(
        b
        for b in (*DEFAULT_BANDS, "SCL", "B01", "B05", "B06", "B07", "B09")
        if all(asset_for_band(i.get("assets", {}), b) for i in items)
    )
    clouds = [i["properties"].get("eo:cloud_cover") for i in items]
    clouds_known = [float(c) / 100.0 for c in clouds if c is not None]
    crs, bounds, shape = _item_grid(first, "B02")
    scene_id = str(first["id"]) if len(items) == 1 else f"{first['id']}+{len(items) - 1}"
    level = "L2A" if "l2a" in collection.lower() or "SCL" in bands else "L1C"
    return Scene(
        id=scene_id,
        datetime=min(_item_datetime(i) for i in items),
        bands=bands,
        provider="stac",
        location=source,
        processing_level=level,  # type: ignore[arg-type]
        cloud_fraction=(sum(clouds_known) / len(clouds_known)) if clouds_known else None,
        crs=crs,
        bounds=bounds,  # type: ignore[arg-type]
        shape=shape,  # type: ignore[arg-type]
        assets={b: str(asset_for_band(first.get("assets", {}), b)) for b in bands},
        properties={
            "collection": collection,
            "item_ids": [str(i["id"]) for i in items],
            "items": [dict(i) for i in items],
            "tiles": sorted(
                {
                    str(i["properties"].get("s2:mgrs_tile") or i["properties"].get("grid:code", ""))
                    for i in items
                }
                - {""}
            ),
            "processing_baseline": _baseline(first.get("properties", {})),
        },
    )


class StacProvider:
    """Sentinel-2 scenes from a STAC API (``--source stac:URL#COLLECTION``, ``earth-search``).

    Parameters
    ----------
    url : str
        The STAC API root (``https://earth-search.aws.element84.com/v1``).
    collection : str
        The collection id (``sentinel-2-l2a``).
    method : {"POST", "GET"}
        HTTP method for ``/search``.
    page_size : int
        Items per page (``limit``); pages are followed through ``next`` links.
    headers : mapping, optional
        Extra HTTP headers for the API (an API key...). Never logged.
    timeout_s : float, optional
        Read timeout of catalogue and COG requests (default: see
        :mod:`sitewatch.providers.network`, 30 s or ``$SITEWATCH_TIMEOUT``).
    read_threads : int
        Assets of one scene read at the same time (odc-stac's thread pool).
    fetch_threads : int
        Scenes fetched at the same time by the cache.
    max_attempts : int, optional
        Tries in all of a request answered 429 or 5xx, dropped or timed out (``Retry-After``
        is honoured); default 3.
    retry_sleep_s : float, optional
        Back-off factor between those retries.
    name : str
        The provider name recorded in stacks and the cache.
    """

    #: ``load`` reads every scene whole (no lazy block reads).
    reads_blocks = False

    def __init__(
        self,
        url: str,
        collection: str = DEFAULT_COLLECTION,
        *,
        method: Literal["POST", "GET"] = "POST",
        page_size: int = 100,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
        read_threads: int = 4,
        fetch_threads: int = 4,
        max_attempts: int | None = None,
        retry_sleep_s: float | None = None,
        name: str = "stac",
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"STAC API URL {redact(url)!r} must start with http:// or https://")
        self.url = url.rstrip("/")
        self.collection = collection
        self.method = method.upper()
        self.page_size = page_size
        self.headers = dict(headers or {})
        self.network = network_settings(timeout_s, max_attempts, retry_sleep_s)
        self.timeout_s = self.network.read_timeout_s
        self.read_threads = max(1, int(read_threads))
        self.fetch_threads = max(1, int(fetch_threads))
        self.max_attempts = self.network.max_attempts
        self.retry_sleep_s = self.network.retry_sleep_s
        self.name = name
        self._client: Any = None

    @property
    def source(self) -> str:
        """The ``--source`` text naming this provider (no credentials)."""
        return f"stac:{redact(self.url)}#{self.collection}"

    def __repr__(self) -> str:
        return f"StacProvider({redact(self.url)!r}, {self.collection!r})"

    def _open(self) -> Any:
        if self._client is None:
            import pystac_client
            from pystac_client.exceptions import APIError
            from pystac_client.stac_api_io import StacApiIO

            # Busy APIs answer 429 (with Retry-After) or 502/503/504, stuck ones nothing: wait and
            # retry a bounded number of times, POST searches included, before one clear error.
            timeout = self.network.requests_timeout()
            stac_io = StacApiIO(
                headers=self.headers or None, timeout=timeout, max_retries=self.network.urllib3_retry()
            )
            try:
                # Client.open hands its own `timeout` to the StacApiIO, None by default, which would
                # wipe the one set above (requests then waits forever on a silent server).
                self._client = pystac_client.Client.open(self.url, stac_io=stac_io, timeout=timeout)
                self._client._stac_io.timeout = timeout
            except APIError as exc:
                raise self._api_error(exc, "open the catalogue") from None
            except Exception as exc:  # requests / JSON errors
                raise ProviderError(
                    f"cannot reach the STAC API at {redact(self.url)} ({type(exc).__name__}: {exc}); "
                    "check the URL and your network"
                ) from None
        return self._client

    def _api_error(self, exc: Exception, what: str) -> ProviderError:
        status = getattr(exc, "status_code", None)
        text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        if status == 429:
            return RateLimitError(
                f"the STAC API at {redact(self.url)} kept answering 429 (too many requests) to {what}; "
                "wait a while and run again (fetched scenes stay cached)"
            )
        if status in (401, 403):
            return CredentialsError(
                f"the STAC API at {redact(self.url)} refused to {what} (HTTP {status}); "
                "it needs credentials: pass headers or use another source"
            )
        if status is None:
            return ProviderError(
                f"cannot reach the STAC API at {redact(self.url)} to {what} (no HTTP answer: "
                "connection refused, reset or timed out); check the URL and your network"
            )
        return ProviderError(
            f"the STAC API at {redact(self.url)} failed to {what} (HTTP {status}: {text}); try again later"
        )

    def read_error(self, scene: Scene, exc: Exception, *, kind: str = "scene") -> ProviderError:
        """The one-line error of a failed asset read: unavailable (404/410) or a fault to retry."""
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        status = http_status_in(str(exc))
        if status in GONE_STATUSES:
            return UnavailableError(
                f"{kind} {scene.id} is no longer available from {redact(self.url)} (HTTP {status} on its "
                "assets); it is skipped",
                scene_id=scene.id,
                status=status,
            )
        return ProviderError(
            f"cannot read {kind} {scene.id} from {redact(self.url)} ({type(exc).__name__}: {redact(text)}); "
            "the next run resumes where this one stopped (fetched scenes stay cached)"
        )

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        """Yield one scene per acquisition day over the AOI, oldest first.

        Parameters
        ----------
        aoi : AOI, optional
            Without one, the whole collection is searched (slow on real catalogues).
        start, end : datetime.date, optional
            Inclusive date range.
        max_cloud_fraction : float, optional
            Drop items whose ``eo:cloud_cover`` exceeds this (0..1); sent to the API.

        Yields
        ------
        Scene
        """
        from pystac_client import ConformanceClasses
        from pystac_client.exceptions import APIError

        client = self._open()
        kwargs: dict[str, Any] = {
            "collections": [self.collection],
            "method": self.method,
            "limit": self.page_size,
        }
        if aoi is not None:
            kwargs["intersects"] = shapely.geometry.mapping(aoi.geometry)
        if start is not None or end is not None:
            lo = f"{start.isoformat()}T00:00:00Z" if start else ".."
            hi = f"{end.isoformat()}T23:59:59.999999Z" if end else ".."
            kwargs["datetime"] = f"{lo}/{hi}"
        if max_cloud_fraction is not None:
            pct = float(max_cloud_fraction) * 100.0
            if client.conforms_to(ConformanceClasses.QUERY):
                kwargs["query"] = {"eo:cloud_cover": {"lte": pct}}
            elif client.conforms_to(ConformanceClasses.FILTER):
                kwargs["filter"] = {"op": "<=", "args": [{"property": "eo:cloud_cover"}, pct]}
                kwargs["filter_lang"] = "cql2-json"
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        n_items = 0
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # pystac-client's own DoesNotConformTo etc.: handled above
                search = client.search(**kwargs)
                for page in search.pages_as_dicts():
                    for item in page.get("features", []):
                        n_items += 1
                        cloud = item.get("properties", {}).get("eo:cloud_cover")
                        too_cloudy = max_cloud_fraction is not None and cloud is not None
                        if too_cloudy and float(cloud) > max_cloud_fraction * 100.0:  # type: ignore[operator]
                            continue
                        when = _item_datetime(item)
                        day = when.date()
                        if (start is not None and day < start) or (end is not None and day > end):
                            continue
                        key = (day.isoformat(), str(item.get("properties", {}).get("platform", "")))
                        groups[key].append(item)
        except APIError as exc:
            raise self._api_error(exc, "search") from None
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(
                f"STAC search at {redact(self.url)} failed ({type(exc).__name__}: {exc}); try again later"
            ) from None
        scenes = [
            _scene_from_items(items, collection=self.collection, source=self.source)
            for items in groups.values()
        ]
        log.info("STAC search: %d items, %d scenes in %s", n_items, len(scenes), self.collection)
        yield from sorted(scenes, key=lambda s: (s.datetime, s.id))

    def load(
        self,
        scenes: Sequence[Scene],
        *,
        aoi: AOI | None = None,
        bands: Sequence[str] | None = None,
        geobox: GeoBox | None = None,
        crs: str | None = None,
        resolution_m: float = 10.0,
    ) -> xr.DataArray:
        """Read ``scenes`` from their COG assets onto the AOI grid, as a ``(time, band, y, x)`` stack.

        Parameters are those of :meth:`sitewatch.providers.base.Provider.load`;
        without ``geobox``, the grid is the AOI's bounds in ``crs`` (``"utm"`` by default).

        Returns
        -------
        xarray.DataArray

        Raises
        ------
        BandMissingError
            If a scene has no asset for a band asked for.
        ProviderError
            If an asset cannot be read over the network.
        """
        from sitewatch.providers.grid import stack_to_dataarray

        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        names = (
            list(bands) if bands is not None else [b for b in (*DEFAULT_BANDS, "SCL") if b in scenes[0].bands]
        )
        data = np.full((len(scenes), len(names), *gbox.shape), np.nan, dtype=np.float32)
        for t, scene in enumerate(scenes):
            data[t] = self.read_scene(scene, names, gbox)
        return stack_to_dataarray(data, gbox, scenes, names, provider=self.name, source=self.source)

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """Read the bands of one scene onto a grid: float32 ``(band, y, x)``, NaN for no data.

        Only the assets of ``bands`` are opened, and only the window under ``gbox``
        is read (HTTP Range requests on COGs).

        Parameters
        ----------
        scene : Scene
            From :meth:`search`.
        bands : sequence of str
        gbox : odc.geo.geobox.GeoBox

        Returns
        -------
        numpy.ndarray
        """
        import odc.stac
        import pystac

        items_json = scene.properties.get("items") or []
        if not items_json:
            raise DataError(f"scene {scene.id} carries no STAC items; search it with the stac provider")
        items = [pystac.Item.from_dict(dict(i)) for i in items_json]
        keys: dict[str, str] = {}
        for band in bands:
            per_item = {asset_for_band(i.get("assets", {}), band) for i in items_json}
            if None in per_item or len(per_item) != 1:
                raise BandMissingError(
                    f"scene {scene.id} has no asset for band {band} (assets: "
                    f"{', '.join(sorted(items_json[0].get('assets', {})))}); ask for bands it has"
                )
            keys[band] = str(per_item.pop())
        resampling = {keys[b]: ("nearest" if b in CATEGORICAL_BANDS else "bilinear") for b in bands}
        try:
            gdal_opts: dict[str, Any] = {
                **self.network.gdal_options(),
                # Neighbouring COG blocks of a window in one request instead of several.
                "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
            }
            if _FAILED_URLS:
                # GDAL remembers a failed URL for the life of the process; a retry in the same
                # process (a notebook, a second fetch) must not be answered from that memory.
                gdal_opts["CPL_VSIL_CURL_NON_CACHED"] = ":".join(
                    f"/vsicurl/{u}" for u in sorted(_FAILED_URLS)
                )
            odc.stac.configure_rio(cloud_defaults=True, **gdal_opts)
            quiet_read_logs()
            with threaded_reads():
                ds = odc.stac.load(
                    items,
                    bands=[keys[b] for b in bands],
                    geobox=gbox,
                    groupby="solar_day",
                    resampling=resampling,
                    chunks=None,
                    pool=self.read_threads if self.read_threads > 1 else None,
                    fail_on_error=True,
                )
        except Exception as exc:
            _FAILED_URLS.update(
                str(i["assets"][keys[b]]["href"])
                for i in items_json
                for b in bands
                if keys[b] in i.get("assets", {})
            )
            raise self.read_error(scene, exc) from None
        out = np.full((len(bands), *gbox.shape), np.nan, dtype=np.float32)
        for b, band in enumerate(bands):
            var = ds[keys[band]]
            nodata = var.attrs.get("nodata", _asset_nodata(items_json[0], keys[band]))
            values = var.values.astype(np.float32)
            if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
                values[var.values == nodata] = np.nan
            if values.ndim == 3:
                # Several passes on one UTC day: keep the first valid pixel.
                first = values[0].copy()
                for extra in values[1:]:
                    hole = np.isnan(first)
                    first[hole] = extra[hole]
                values = first
            scale, offset = band_offset(items_json[0], keys[band], band)
            if band not in CATEGORICAL_BANDS:
                values = values * np.float32(scale) + np.float32(offset)
            out[b] = values
        log.debug("read scene %s (%d bands) from %s", scene.id, len(bands), redact(self.url))
        return out


def _parse_spec(arg: str | None) -> tuple[str, str]:
    if not arg:
        # A bare `stac` is the keyless default: Earth Search v1.
        return EARTH_SEARCH_URL, DEFAULT_COLLECTION
    url, _, collection = arg.partition("#")
    if not url and collection:
        return EARTH_SEARCH_URL, collection
    if not re.match(r"^https?://", url):
        raise ConfigError(f"STAC API URL {redact(url)!r} must start with http:// or https://")
    return url, collection or DEFAULT_COLLECTION


def _wrap(provider: StacProvider, cache_dir: Any, cache: bool) -> Any:
    return CachedProvider(provider, cache_dir=cache_dir) if cache else provider


def stac_factory(arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any) -> Any:
    """Provider for ``--source stac:URL#COLLECTION`` (cached unless ``cache=False``).

    Parameters
    ----------
    arg : str, optional
        ``URL`` or ``URL#COLLECTION`` (default collection ``sentinel-2-l2a``); without
        it, Earth Search v1.
    cache_dir : path, optional
        Cache root; see :func:`sitewatch.providers.cache.cache_root`.
    cache : bool
        Wrap the provider in the on-disk cache.
    **options
        Passed to :class:`StacProvider` (``method``, ``page_size``, ``headers``...).

    Returns
    -------
    Provider
    """
    url, collection = _parse_spec(arg)
    return _wrap(StacProvider(url, collection, **options), cache_dir, cache)


def earth_search_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Provider for ``--source earth-search[:COLLECTION]``: Element 84's public Earth Search v1."""
    return _wrap(
        StacProvider(EARTH_SEARCH_URL, arg or DEFAULT_COLLECTION, name="earth-search", **options),
        cache_dir,
        cache,
    )


def cdse_stac_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Provider for ``--source cdse-stac[:COLLECTION]``: the Copernicus Data Space STAC API.

    Its assets live on the CDSE S3 store (``s3://eodata/...``): reading them needs
    CDSE S3 keys in ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` and
    ``AWS_S3_ENDPOINT=eodata.dataspace.copernicus.eu``.
    """
    return _wrap(
        StacProvider(CDSE_STAC_URL, arg or DEFAULT_COLLECTION, name="cdse-stac", **options), cache_dir, cache
    )
