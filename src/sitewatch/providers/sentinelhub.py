"""The ``sentinelhub`` and ``cdse`` providers: Sentinel-2 L2A through the Sentinel Hub APIs.

Search runs on the Catalog API (``SentinelHubCatalog``, paged with ``next``
tokens), with the cloud filter as a CQL2 ``eo:cloud_cover`` condition; tiles of one
UTC day form one :class:`~sitewatch.types.Scene`. Pixels come from the Process API
(``SentinelHubRequest``) with sitewatch's own evalscript: B02 B03 B04 B08 B8A B11 B12
as harmonised DN (reflectance x 10000, the baseline 04.00 offset already removed
by ``harmonizeValues``), SCL and ``dataMask``, on the AOI's 10 m UTM grid. Grids
wider or taller than the service's 2500 px limit are split into tiles and
mosaicked.

Settings are built in code and never saved: credentials from the arguments, else
``SH_CLIENT_ID``/``SH_CLIENT_SECRET``, else an existing sentinelhub config file
(read only); ``SH_BASE_URL`` and ``SH_TOKEN_URL`` point at another deployment.
``cdse`` defaults to the Copernicus Data Space Ecosystem
(``https://sh.dataspace.copernicus.eu``). sitewatch never logs, prints or stores the
client secret; a logging filter also scrubs it (and access tokens) from the DEBUG
output of ``requests-oauthlib``.

Failures: 429 answers wait the service's ``Retry-After`` (milliseconds, as Sentinel
Hub sends it) and are retried up to ``max_rate_limit_retries`` times, then
:class:`~sitewatch.errors.RateLimitError`; 5xx answers and dropped connections are
retried ``max_attempts`` times with growing pauses, then
:class:`~sitewatch.errors.ProviderError`; 401/403 are a
:class:`~sitewatch.errors.CredentialsError`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import re
import warnings
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

import numpy as np

from sitewatch.errors import ConfigError, CredentialsError, DataError, ProviderError, RateLimitError
from sitewatch.providers.base import CATEGORICAL_BANDS, DEFAULT_BANDS
from sitewatch.providers.cache import CachedProvider, grid_for
from sitewatch.providers.network import network_settings
from sitewatch.types import AOI, Scene

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

__all__ = [
    "CDSE_BASE_URL",
    "CDSE_TOKEN_URL",
    "SH_BASE_URL",
    "SH_TOKEN_URL",
    "SentinelHubProvider",
    "cdse_factory",
    "evalscript_for",
    "sentinelhub_factory",
    "split_grid",
]

log = logging.getLogger(__name__)

SH_BASE_URL = "https://services.sentinel-hub.com"
SH_TOKEN_URL = "https://services.sentinel-hub.com/auth/realms/main/protocol/openid-connect/token"
CDSE_BASE_URL = "https://sh.dataspace.copernicus.eu"
CDSE_TOKEN_URL = "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
#: The Process API refuses outputs wider or taller than this many pixels.
MAX_PX = 2500
COLLECTION = "sentinel-2-l2a"
SH_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B11", "B12", "SCL")
# Tiles of one pass are sensed within minutes; a request's time range spans them with slack.
_PASS_SLACK = dt.timedelta(minutes=30)


# --------------------------------------------------------------------------- secrets out of logs


class _SecretFilter(logging.Filter):
    """Scrub client secrets and bearer/access tokens from log records of HTTP and OAuth libraries."""

    _TOKEN_RE = re.compile(r"""(access_token['"]?\s*[:=]\s*['"]?|Bearer\s+)([A-Za-z0-9._~+/=-]{8,})""")

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if secret:
            self.secrets.update({secret, quote_plus(secret), quote(secret, safe="")})

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is not ours to fix
            return True
        cleaned = self._TOKEN_RE.sub(r"\1***", message)
        for secret in sorted(self.secrets, key=len, reverse=True):
            cleaned = cleaned.replace(secret, "***")
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_FILTER = _SecretFilter()
_FILTERED_LOGGERS = (
    "requests_oauthlib",
    "requests_oauthlib.oauth2_session",
    "oauthlib",
    "urllib3.connectionpool",
    "sentinelhub",
    "sentinelhub.download.session",
    "sentinelhub.download.client",
    "sentinelhub.download.sentinelhub_client",
    "sentinelhub.download.handlers",
)


def _guard_secret(secret: str) -> None:
    _FILTER.add(secret)
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# --------------------------------------------------------------------------- evalscript, tiling


def evalscript_for(bands: Sequence[str]) -> tuple[str, list[str], list[str]]:
    """Return the evalscript fetching ``bands`` plus ``dataMask``, and its two outputs' band lists.

    Reflectance bands go to output ``bands`` (UINT16 DN); ``SCL`` and ``dataMask`` go
    to output ``mask`` (UINT8).

    Parameters
    ----------
    bands : sequence of str

    Returns
    -------
    tuple
        ``(evalscript, reflectance_bands, mask_bands)``.

    Examples
    --------
    >>> script, refl, mask = evalscript_for(["B04", "SCL"])
    >>> refl, mask
    (['B04'], ['SCL', 'dataMask'])
    """
    refl = [b for b in bands if b not in CATEGORICAL_BANDS]
    mask = [b for b in bands if b in CATEGORICAL_BANDS and b != "dataMask"] + ["dataMask"]
    inputs = ", ".join(f'"{b}"' for b in [*refl, *mask])
    outputs = []
    returns = []
    if refl:
        outputs.append(f'{{id: "bands", bands: {len(refl)}, sampleType: "UINT16"}}')
        returns.append(f"bands: [{', '.join('sample.' + b for b in refl)}]")
    outputs.append(f'{{id: "mask", bands: {len(mask)}, sampleType: "UINT8"}}')
    returns.append(f"mask: [{', '.join('sample.' + b for b in mask)}]")
    script = (
        "//VERSION=3\n"
        "function setup() {\n"
        "  return {\n"
        f'    input: [{{bands: [{inputs}], units: "DN"}}],\n'
        f"    output: [{', '.join(outputs)}],\n"
        '    mosaicking: "SIMPLE"\n'
        "  };\n"
        "}\n"
        "function evaluatePixel(sample) {\n"
        f"  return {{{', '.join(returns)}}};\n"
        "}\n"
    )
    return script, refl, mask


def split_grid(gbox: GeoBox, *, max_px: int = MAX_PX) -> list[tuple[slice, slice]]:
    """Split a grid into row/column slices of at most ``max_px`` pixels per side.

    Parameters
    ----------
    gbox : GeoBox
    max_px : int

    Returns
    -------
    list of (slice, slice)
        ``gbox[rows, cols]`` is each tile; together they cover the grid exactly once.
    """
    h, w = gbox.shape
    ny = -(-h // max_px)
    nx = -(-w // max_px)
    # Even tiles (not max_px + a sliver) keep requests similar in cost.
    ys = np.linspace(0, h, ny + 1).round().astype(int)
    xs = np.linspace(0, w, nx + 1).round().astype(int)
    return [
        (slice(int(ys[i]), int(ys[i + 1])), slice(int(xs[j]), int(xs[j + 1])))
        for i in range(ny)
        for j in range(nx)
    ]


# --------------------------------------------------------------------------- the provider


def _config_file_credentials() -> tuple[str, str]:
    """Credentials from an existing sentinelhub config file, without creating one."""
    try:
        from sentinelhub import SHConfig

        path = SHConfig.get_config_location()
        if not os.path.exists(path):
            return "", ""
        cfg = SHConfig.load()
        return cfg.sh_client_id, cfg.sh_client_secret
    except Exception:  # an unreadable user config is not worth failing over
        return "", ""


class SentinelHubProvider:
    """Sentinel-2 L2A from a Sentinel Hub deployment (``--source sentinelhub`` or ``cdse``).

    Parameters
    ----------
    base_url : str, optional
        Service root; default ``$SH_BASE_URL`` or the deployment's.
    token_url : str, optional
        OAuth2 token endpoint; default ``$SH_TOKEN_URL`` or the deployment's.
    client_id, client_secret : str, optional
        OAuth2 client credentials; default ``$SH_CLIENT_ID``/``$SH_CLIENT_SECRET``, then
        the sentinelhub config file.
    deployment : {"sentinelhub", "cdse"}
        Which defaults to use, and the provider name.
    max_tile_px : int
        Largest request side in pixels (the service allows 2500).
    max_attempts : int, optional
        Tries for 5xx answers, timeouts and dropped connections (default 3, see
        :mod:`sitewatch.providers.network`).
    retry_sleep_s : float
        First pause between those tries (then x3).
    max_rate_limit_retries : int
        How many 429 answers to wait out per request.
    timeout_s : float, optional
        Read timeout per request, the OAuth token request included (default 120 s: the
        Process API renders before it answers; ``$SITEWATCH_TIMEOUT`` or ``--timeout`` set it).
    page_size : int
        Catalog results per page (pages are followed with ``next`` tokens).
    """

    #: ``load`` reads every scene whole (no lazy block reads).
    reads_blocks = False

    def __init__(
        self,
        *,
        base_url: str | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        deployment: str = "sentinelhub",
        max_tile_px: int = MAX_PX,
        max_attempts: int | None = None,
        retry_sleep_s: float | None = None,
        max_rate_limit_retries: int = 6,
        timeout_s: float | None = None,
        page_size: int = 100,
    ) -> None:
        defaults = {"sentinelhub": (SH_BASE_URL, SH_TOKEN_URL), "cdse": (CDSE_BASE_URL, CDSE_TOKEN_URL)}
        if deployment not in defaults:
            raise ConfigError(f"unknown Sentinel Hub deployment {deployment!r}; use sentinelhub or cdse")
        self.name = deployment
        self.base_url = (base_url or os.environ.get("SH_BASE_URL") or defaults[deployment][0]).rstrip("/")
        self.token_url = token_url or os.environ.get("SH_TOKEN_URL") or defaults[deployment][1]
        cid = client_id or os.environ.get("SH_CLIENT_ID") or ""
        secret = client_secret or os.environ.get("SH_CLIENT_SECRET") or ""
        if not (cid and secret):
            cid, secret = _config_file_credentials()
        self._client_id = cid
        self._secret = secret
        _guard_secret(secret)
        self.max_tile_px = min(int(max_tile_px), MAX_PX)
        self.network = network_settings(
            timeout_s, max_attempts, 2.0 if retry_sleep_s is None else retry_sleep_s
        )
        self.max_attempts = self.network.max_attempts
        self.retry_sleep_s = self.network.retry_sleep_s
        self.max_rate_limit_retries = max(1, int(max_rate_limit_retries))
        # the Process API renders before it answers: the compute timeout, also for the token request
        self.timeout_s = self.network.compute_timeout_s
        self.page_size = int(page_size)
        self._config: Any = None
        self._authenticated = False

    def __repr__(self) -> str:
        # Never the secret; not even the client id.
        return f"SentinelHubProvider({self.name!r}, base_url={self.base_url!r})"

    @property
    def source(self) -> str:
        """The ``--source`` text (service name and URL, no credentials)."""
        return f"{self.name}:{self.base_url}"

    def _sh_config(self) -> Any:
        if not (self._client_id and self._secret):
            raise CredentialsError(
                f"no Sentinel Hub credentials for {self.base_url}: set SH_CLIENT_ID and SH_CLIENT_SECRET "
                "(an OAuth client from your account dashboard)"
            )
        if self._config is None:
            from sentinelhub import SHConfig

            # use_defaults: never read or write the user's config.toml from here.
            self._config = SHConfig(
                use_defaults=True,
                sh_client_id=self._client_id,
                sh_client_secret=self._secret,
                sh_base_url=self.base_url,
                sh_token_url=self.token_url,
                max_download_attempts=self.max_attempts,
                download_sleep_time=self.retry_sleep_s,
                download_timeout_seconds=self.timeout_s,
                max_retries=self.max_rate_limit_retries,
            )
        return self._config

    def _authenticate(self) -> Any:
        """Return the config after starting this provider's own OAuth session (one token request).

        sentinelhub shares sessions process-wide per (client id, base URL). A shared token that
        the service no longer honours (revoked early, or issued by another server that answered
        at the same address) would otherwise be reused until it expires, and every request would
        fail with 401; a provider therefore starts with a token of its own.
        """
        config = self._sh_config()
        if not self._authenticated:
            from sentinelhub import SentinelHubDownloadClient, SentinelHubSession

            with self._errors("authenticate"):
                SentinelHubDownloadClient.cache_session(SentinelHubSession(config=config))
            self._authenticated = True
        return config

    @contextlib.contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        """Turn sentinelhub / oauthlib / requests failures into one-line sitewatch errors."""
        import requests
        from oauthlib.oauth2.rfc6749.errors import InsecureTransportError, OAuth2Error
        from sentinelhub.exceptions import DownloadFailedException, OutOfRequestsException, SHRateLimitWarning

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SHRateLimitWarning)
                yield
        except OutOfRequestsException:
            raise RateLimitError(
                f"{self.name} at {self.base_url} kept answering 429 (too many requests) to {what} after "
                f"{self.max_rate_limit_retries} tries; wait a while or lower the request rate"
            ) from None
        except InsecureTransportError:
            raise ConfigError(
                f"the token URL {self.token_url} is not https; OAuth2 credentials are only sent over https"
            ) from None
        except OAuth2Error as exc:
            raise CredentialsError(
                f"{self.name} at {self.token_url} rejected the client credentials ({exc.error}); "
                "check SH_CLIENT_ID and SH_CLIENT_SECRET"
            ) from None
        except DownloadFailedException as exc:
            cause = exc.request_exception
            status = getattr(getattr(cause, "response", None), "status_code", None)
            if status in (401, 403):
                raise CredentialsError(
                    f"{self.name} at {self.base_url} refused to {what} (HTTP {status}); check SH_CLIENT_ID / "
                    "SH_CLIENT_SECRET and that the account has processing units left"
                ) from None
            if status == 429:
                raise RateLimitError(
                    f"{self.name} at {self.base_url} rate-limited {what} (HTTP 429)"
                ) from None
            detail = f"HTTP {status}" if status else type(cause).__name__ if cause else "no answer"
            raise ProviderError(
                f"{self.name} at {self.base_url} failed to {what} ({detail}) after {self.max_attempts} "
                "attempts; try again later (fetched scenes stay cached)"
            ) from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status == 429:
                raise RateLimitError(
                    f"{self.name} at {self.base_url} rate-limited {what} (HTTP 429); "
                    "wait a while and run again"
                ) from None
            if status in (401, 403):
                raise CredentialsError(
                    f"{self.name} at {self.base_url} refused to {what} (HTTP {status}); check SH_CLIENT_ID / "
                    "SH_CLIENT_SECRET"
                ) from None
            raise ProviderError(f"{self.name} at {self.base_url} failed to {what} (HTTP {status})") from None
        except requests.RequestException as exc:
            raise ProviderError(
                f"{self.name} at {self.base_url} could not be reached to {what} ({type(exc).__name__}); "
                "check the network and SH_BASE_URL"
            ) from None

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        """Yield one scene per acquisition day over the AOI, oldest first (Catalog API).

        Parameters
        ----------
        aoi : AOI
            Required: the catalogue is searched over its geometry.
        start, end : datetime.date, optional
            Inclusive range; default from the start of Sentinel-2 to today.
        max_cloud_fraction : float, optional
            Upper bound of ``eo:cloud_cover`` (0..1), applied by the service.

        Yields
        ------
        Scene

        Raises
        ------
        CredentialsError, RateLimitError, ProviderError
        """
        from sentinelhub import CRS, Geometry, SentinelHubCatalog

        if aoi is None:
            raise ConfigError(f"searching {self.name} needs an AOI (--aoi NAME)")
        config = self._authenticate()
        t0 = start or dt.date(2015, 6, 23)
        t1 = end or dt.datetime.now(dt.timezone.utc).date()
        flt = None
        if max_cloud_fraction is not None:
            flt = f"eo:cloud_cover <= {float(max_cloud_fraction) * 100.0:g}"
        groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
        with self._errors("search the catalogue"):
            catalog = SentinelHubCatalog(config=config)
            results = catalog.search(
                COLLECTION,
                geometry=Geometry(aoi.geometry, CRS.WGS84),
                time=(f"{t0.isoformat()}T00:00:00Z", f"{t1.isoformat()}T23:59:59Z"),
                filter=flt,
                fields={
                    "include": [
                        "id",
                        "geometry",
                        "properties.datetime",
                        "properties.eo:cloud_cover",
                        "properties.proj:epsg",
                        "properties.proj:bbox",
                        "properties.platform",
                    ],
                    "exclude": [],
                },
                limit=self.page_size,
            )
            for feature in results:
                when = _parse_time(feature["properties"]["datetime"])
                if max_cloud_fraction is not None:
                    cloud = feature["properties"].get("eo:cloud_cover")
                    if cloud is not None and float(cloud) > max_cloud_fraction * 100.0:
                        continue
                groups[when.date().isoformat()].append(feature)
        for day in sorted(groups):
            yield self._scene(groups[day])

    def _scene(self, features: Sequence[Mapping[str, Any]]) -> Scene:
        features = sorted(features, key=lambda f: str(f["id"]))
        times = [_parse_time(f["properties"]["datetime"]) for f in features]
        clouds = [
            float(c) / 100 for f in features if (c := f["properties"].get("eo:cloud_cover")) is not None
        ]
        first = features[0]
        epsg = first["properties"].get("proj:epsg")
        bbox = first["properties"].get("proj:bbox")
        scene_id = str(first["id"]) if len(features) == 1 else f"{first['id']}+{len(features) - 1}"
        return Scene(
            id=scene_id,
            datetime=min(times),
            bands=SH_BANDS,
            provider=self.name,
            location=self.source,
            processing_level="L2A",
            cloud_fraction=sum(clouds) / len(clouds) if clouds else None,
            crs=f"EPSG:{epsg}" if epsg else None,
            bounds=tuple(bbox) if bbox else None,  # type: ignore[arg-type]
            shape=None,
            properties={
                "item_ids": [str(f["id"]) for f in features],
                "time_from": min(times).isoformat(),
                "time_to": max(times).isoformat(),
            },
        )

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """Fetch one scene's bands on a grid from the Process API: float32 ``(band, y, x)``.

        Grids above ``max_tile_px`` per side are fetched tile by tile and mosaicked.
        Pixels outside the data (``dataMask`` 0) are NaN.

        Parameters
        ----------
        scene : Scene
            From :meth:`search`.
        bands : sequence of str
        gbox : odc.geo.geobox.GeoBox

        Returns
        -------
        numpy.ndarray

        Raises
        ------
        CredentialsError, RateLimitError, ProviderError
        """
        from sentinelhub import CRS, BBox, MimeType, SentinelHubRequest
        from sentinelhub.api.base_request import InputDataDict

        unknown = [b for b in bands if b not in SH_BANDS]
        if unknown:
            raise DataError(f"{self.name} serves no band {', '.join(unknown)}; it has {', '.join(SH_BANDS)}")
        epsg = gbox.crs.epsg if gbox.crs is not None else None
        if epsg is None:
            raise ConfigError(f"{self.name} needs a grid in an EPSG CRS (got {gbox.crs})")
        config = self._authenticate()
        script, refl, mask = evalscript_for(bands)
        t_from = _parse_time(str(scene.properties.get("time_from", scene.datetime.isoformat()))) - _PASS_SLACK
        t_to = _parse_time(str(scene.properties.get("time_to", scene.datetime.isoformat()))) + _PASS_SLACK
        # Defined with our base URL: DataCollection.SENTINEL2_L2A pins services.sentinel-hub.com,
        # which would win over sh_base_url (and miss CDSE or a test server).
        input_data = InputDataDict(
            {
                "type": COLLECTION,
                "dataFilter": {
                    "timeRange": {"from": _iso(t_from), "to": _iso(t_to)},
                    "mosaickingOrder": "leastCC",
                },
                "processing": {"harmonizeValues": True, "upsampling": "BILINEAR", "downsampling": "BILINEAR"},
            },
            service_url=self.base_url,
        )
        responses = []
        if refl:
            responses.append(SentinelHubRequest.output_response("bands", MimeType.TIFF))
        responses.append(SentinelHubRequest.output_response("mask", MimeType.TIFF))
        out = np.full((len(bands), *gbox.shape), np.nan, dtype=np.float32)
        tiles = split_grid(gbox, max_px=self.max_tile_px)
        for rows, cols in tiles:
            tile = gbox[rows, cols]
            left, bottom, right, top = tile.extent.boundingbox
            request = SentinelHubRequest(
                evalscript=script,
                input_data=[input_data],
                responses=responses,
                bbox=BBox((left, bottom, right, top), crs=CRS(epsg)),
                size=(tile.shape[1], tile.shape[0]),
                config=config,
            )
            with self._errors(f"process scene {scene.id}"):
                (result,) = request.get_data()
            parts = _split_outputs(result, has_refl=bool(refl))
            mask_arr = _bands_first(parts["mask"], len(mask))
            valid = mask_arr[-1] > 0
            values: dict[str, np.ndarray] = {}
            if refl:
                refl_arr = _bands_first(parts["bands"], len(refl)).astype(np.float32)
                values.update({b: refl_arr[i] for i, b in enumerate(refl)})
            values.update({b: mask_arr[i].astype(np.float32) for i, b in enumerate(mask[:-1])})
            for i, band in enumerate(bands):
                block = np.where(valid, values[band], np.nan).astype(np.float32)
                if band == "SCL":
                    block[block == 0] = np.nan
                out[i, rows, cols] = block
        log.debug(
            "fetched scene %s (%d bands, %d request(s)) from %s", scene.id, len(bands), len(tiles), self.name
        )
        return out

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
        """Fetch ``scenes`` as a ``(time, band, y, x)`` stack (uncached; the factories add the cache).

        Returns
        -------
        xarray.DataArray
        """
        from sitewatch.providers.grid import stack_to_dataarray

        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        names = list(bands) if bands is not None else [*DEFAULT_BANDS, "SCL"]
        data = np.full((len(scenes), len(names), *gbox.shape), np.nan, dtype=np.float32)
        for t, scene in enumerate(scenes):
            data[t] = self.read_scene(scene, names, gbox)
        return stack_to_dataarray(data, gbox, scenes, names, provider=self.name, source=self.source)


def _parse_time(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _split_outputs(result: Any, *, has_refl: bool) -> dict[str, np.ndarray]:
    """Name the decoded outputs: a dict from a TAR (several outputs) or one array (one output)."""
    if isinstance(result, Mapping):
        named = {str(k).rsplit(".", 1)[0]: np.asarray(v) for k, v in result.items()}
        missing = {"mask", *(["bands"] if has_refl else [])} - set(named)
        if missing:
            raise ProviderError(f"the Process API answer lacks output(s) {', '.join(sorted(missing))}")
        return named
    return {"mask": np.asarray(result)}


def _bands_first(arr: np.ndarray, n: int) -> np.ndarray:
    """Decoded TIFFs are ``(y, x)`` or ``(y, x, band)``; return ``(band, y, x)``."""
    if arr.ndim == 2:
        return arr[np.newaxis]
    if arr.shape[-1] == n:
        return np.moveaxis(arr, -1, 0)
    return arr


def _provider_options(options: dict[str, Any]) -> dict[str, Any]:
    allowed = {
        "base_url",
        "token_url",
        "client_id",
        "client_secret",
        "max_tile_px",
        "max_attempts",
        "retry_sleep_s",
        "max_rate_limit_retries",
        "timeout_s",
        "page_size",
    }
    unknown = set(options) - allowed
    if unknown:
        raise ConfigError(f"unknown Sentinel Hub option(s): {', '.join(sorted(unknown))}")
    return options


def sentinelhub_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Provider for ``--source sentinelhub[:BASE_URL]`` (cached unless ``cache=False``).

    Parameters
    ----------
    arg : str, optional
        Another service root (else ``$SH_BASE_URL`` or services.sentinel-hub.com).
    cache_dir : path, optional
    cache : bool
    **options
        Passed to :class:`SentinelHubProvider`.

    Returns
    -------
    Provider
    """
    if arg:
        options.setdefault("base_url", arg)
    provider = SentinelHubProvider(deployment="sentinelhub", **_provider_options(options))
    return CachedProvider(provider, cache_dir=cache_dir) if cache else provider


def cdse_factory(arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any) -> Any:
    """Provider for ``--source cdse[:BASE_URL]``: Copernicus Data Space Ecosystem Sentinel Hub."""
    if arg:
        options.setdefault("base_url", arg)
    provider = SentinelHubProvider(deployment="cdse", **_provider_options(options))
    return CachedProvider(provider, cache_dir=cache_dir) if cache else provider
