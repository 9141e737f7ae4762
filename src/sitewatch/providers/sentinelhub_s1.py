"""The ``sentinelhub`` and ``cdse`` radar providers: Sentinel-1 GRD through the Sentinel Hub APIs.

Search runs on the Catalog API over ``DataCollection.SENTINEL1_IW`` (interferometric wide
swath, high resolution; any polarisation scheme, and the orbit direction filter when asked
for), paged with ``next`` tokens; the frames of one pass form one
:class:`~sitewatch.types.Scene`. Pixels come from the Process API with the service doing the
radar processing: calibration to **linear** backscatter (``backCoeff`` ``GAMMA0_TERRAIN``
for gamma0, radiometrically terrain-flattened; ``SIGMA0_ELLIPSOID`` for sigma0), thermal
noise removal, and orthorectification (``orthorectify``) on the Copernicus DEM
(``demInstance``), for VV and VH (``acquisitionMode`` IW, ``polarization`` DV or SV,
``orbitDirection`` of the pass), on the AOI's UTM grid, in tiles of at most 2500 px.

Credentials, endpoints, retries, rate limits and the scrubbing of secrets from logs are the
optical provider's (:class:`~sitewatch.providers.sentinelhub.SentinelHubProvider`, which this
one extends); fetched scenes go through the optical cache
(:mod:`sitewatch.providers.radar_cache`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from sitewatch.errors import ConfigError, DataError, ProviderError
from sitewatch.providers.radar import (
    RADAR_BANDS,
    OrbitDirection,
    RadarInfo,
    check_one_convention,
    parse_product_name,
    radar_scene_id,
    radar_stack,
    relative_orbit_from_absolute,
)
from sitewatch.providers.radar_cache import CachedRadarProvider
from sitewatch.providers.sentinelhub import SentinelHubProvider, split_grid
from sitewatch.types import AOI, Scene

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

__all__ = [
    "BACK_COEFFICIENTS",
    "SentinelHubRadarProvider",
    "cdse_s1_factory",
    "radar_evalscript",
    "sentinelhub_s1_factory",
]

log = logging.getLogger(__name__)

#: The Process API's ``backCoeff`` for each convention.
BACK_COEFFICIENTS: dict[str, str] = {"sigma0": "SIGMA0_ELLIPSOID", "gamma0": "GAMMA0_TERRAIN"}
_PLATFORM_RE = re.compile(r"sentinel-?1([a-d])", re.IGNORECASE)
# Frames of one pass are sensed within minutes; a request's time range spans them with slack.
_PASS_SLACK = dt.timedelta(minutes=10)
_OPTIONS = {
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
    "backscatter",
    "dem_instance",
    "fetch_threads",
}


def radar_evalscript(bands: Sequence[str]) -> str:
    """The evalscript returning ``bands`` as FLOAT32 linear power (output ``bands``) and ``dataMask``.

    Examples
    --------
    >>> "sampleType: \\"FLOAT32\\"" in radar_evalscript(["VV", "VH"])
    True
    """
    unknown = [b for b in bands if b not in RADAR_BANDS]
    if unknown or not bands:
        raise DataError(f"the Sentinel-1 evalscript serves VV and VH, not {', '.join(unknown) or 'nothing'}")
    inputs = ", ".join(f'"{b}"' for b in [*bands, "dataMask"])
    return (
        "//VERSION=3\n"
        "function setup() {\n"
        "  return {\n"
        f'    input: [{{bands: [{inputs}], units: "LINEAR_POWER"}}],\n'
        f'    output: [{{id: "bands", bands: {len(bands)}, sampleType: "FLOAT32"}}, '
        '{id: "mask", bands: 1, sampleType: "UINT8"}],\n'
        '    mosaicking: "SIMPLE"\n'
        "  };\n"
        "}\n"
        "function evaluatePixel(sample) {\n"
        f"  return {{bands: [{', '.join('sample.' + b for b in bands)}], mask: [sample.dataMask]}};\n"
        "}\n"
    )


def _when(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _feature_info(feature: Mapping[str, Any], backscatter: str) -> RadarInfo | None:
    props = feature.get("properties", {})
    product = parse_product_name(str(feature.get("id", "")))
    match = _PLATFORM_RE.search(str(props.get("platform") or ""))
    platform = f"S1{match.group(1).upper()}" if match else (product or {}).get("platform", "S1")
    state = str(props.get("sat:orbit_state") or "").upper()
    if state not in ("ASCENDING", "DESCENDING"):
        return None
    relative = int(props.get("sat:relative_orbit") or 0)
    if not relative and props.get("sat:absolute_orbit"):
        relative = relative_orbit_from_absolute(platform, int(props["sat:absolute_orbit"]))
    if not relative and product:
        relative = relative_orbit_from_absolute(product["platform"], product["absolute_orbit"])
    if not relative:
        return None
    scheme = str(props.get("s1:polarization") or "").upper()
    listed = [str(p).upper() for p in props.get("sar:polarizations") or []]
    pols = tuple(p for p in RADAR_BANDS if p in listed) or (("VV", "VH") if scheme == "DV" else ("VV",))
    return RadarInfo(platform, state, relative, backscatter, pols)  # type: ignore[arg-type]


class SentinelHubRadarProvider(SentinelHubProvider):
    """Sentinel-1 GRD backscatter from a Sentinel Hub deployment (``--sar sentinelhub`` or ``cdse``).

    Parameters
    ----------
    deployment : {"sentinelhub", "cdse"}
    backscatter : {"gamma0", "sigma0"}
        ``gamma0``: terrain-flattened (``GAMMA0_TERRAIN``), the default, comparable across
        slopes; ``sigma0``: on the ellipsoid (``SIGMA0_ELLIPSOID``).
    dem_instance : str
        The DEM the service orthorectifies (and terrain-flattens) with (``COPERNICUS``,
        ``COPERNICUS_30``, ``COPERNICUS_90``, ``MAPZEN``).
    fetch_threads : int
        Passes fetched at the same time by the cache (each costs processing units).
    **options
        Those of :class:`~sitewatch.providers.sentinelhub.SentinelHubProvider`
        (``base_url``, credentials, ``max_tile_px``, retries, ``timeout_s``, ``page_size``).
    """

    def __init__(
        self,
        *,
        deployment: str = "sentinelhub",
        backscatter: Literal["sigma0", "gamma0"] = "gamma0",
        dem_instance: str = "COPERNICUS",
        fetch_threads: int = 2,
        **options: Any,
    ) -> None:
        if backscatter not in BACK_COEFFICIENTS:
            raise ConfigError(f"backscatter must be sigma0 or gamma0, not {backscatter!r}")
        super().__init__(deployment=deployment, **options)
        self.name = f"{deployment}-s1"
        self.backscatter: Literal["sigma0", "gamma0"] = backscatter
        self.dem_instance = dem_instance
        self.fetch_threads = max(1, int(fetch_threads))

    def __repr__(self) -> str:
        return f"SentinelHubRadarProvider({self.name!r}, base_url={self.base_url!r}, {self.backscatter})"

    def _s1_collection(self, *, orbit_direction: str | None = None, polarization: str | None = None) -> Any:
        """``DataCollection.SENTINEL1_IW`` on this deployment, with an orbit and polarisation filter.

        Defined with our base URL: the built-in collection pins services.sentinel-hub.com, which
        would win over ``sh_base_url`` (and miss CDSE or a test server).
        """
        from sentinelhub import DataCollection

        params = {
            "service_url": self.base_url,
            "orbit_direction": orbit_direction or "BOTH",
            "polarization": polarization,
        }
        digest = hashlib.sha1(repr(sorted(params.items())).encode()).hexdigest()[:12]
        return DataCollection.SENTINEL1_IW.define_from(f"SITEWATCH_S1_IW_{digest}", **params)

    def search(  # type: ignore[override]
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        orbit_direction: OrbitDirection | None = None,
    ) -> Iterator[Scene]:
        """Yield one scene per Sentinel-1 IW pass over the AOI, oldest first (Catalog API).

        Raises
        ------
        CredentialsError, RateLimitError, ProviderError
        """
        from sentinelhub import CRS, Geometry, SentinelHubCatalog

        if aoi is None:
            raise ConfigError(f"searching {self.name} needs an AOI (--aoi NAME)")
        config = self._authenticate()
        t0 = start or dt.date(2014, 10, 3)
        t1 = end or dt.datetime.now(dt.timezone.utc).date()
        passes: dict[tuple[str, str, int, str], list[tuple[RadarInfo, dict[str, Any]]]] = defaultdict(list)
        with self._errors("search the Sentinel-1 catalogue"):
            catalog = SentinelHubCatalog(config=config)
            results = catalog.search(
                self._s1_collection(orbit_direction=orbit_direction),
                geometry=Geometry(aoi.geometry, CRS.WGS84),
                time=(f"{t0.isoformat()}T00:00:00Z", f"{t1.isoformat()}T23:59:59Z"),
                fields={
                    "include": [
                        "id",
                        "properties.datetime",
                        "properties.platform",
                        "properties.sat:orbit_state",
                        "properties.sat:absolute_orbit",
                        "properties.sat:relative_orbit",
                        "properties.sar:polarizations",
                        "properties.s1:polarization",
                    ],
                    "exclude": [],
                },
                limit=self.page_size,
            )
            for feature in results:
                info = _feature_info(feature, self.backscatter)
                if info is None:
                    log.info(
                        "skipped Sentinel-1 item %s: no orbit direction or relative orbit", feature.get("id")
                    )
                    continue
                day = _when(feature["properties"]["datetime"]).date().isoformat()
                passes[(info.platform, info.orbit_direction, info.relative_orbit, day)].append(
                    (info, dict(feature))
                )
        scenes = [self._pass_scene(members) for members in passes.values()]
        yield from sorted(scenes, key=lambda s: (s.datetime, s.id))

    def _pass_scene(self, members: Sequence[tuple[RadarInfo, dict[str, Any]]]) -> Scene:
        info = members[0][0]
        times = [_when(f["properties"]["datetime"]) for _, f in members]
        pols = tuple(p for p in RADAR_BANDS if all(p in m[0].polarizations for m in members))
        radar = RadarInfo(info.platform, info.orbit_direction, info.relative_orbit, self.backscatter, pols)
        return Scene(
            id=radar_scene_id(radar, min(times)),
            datetime=min(times),
            bands=pols,
            provider=self.name,
            location=self.source,
            properties={
                **radar.as_properties(),
                "item_ids": sorted(str(f["id"]) for _, f in members),
                "time_from": min(times).isoformat(),
                "time_to": max(times).isoformat(),
            },
        )

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """Fetch one pass's backscatter on a grid from the Process API: float32 ``(band, y, x)`` linear power.

        Raises
        ------
        CredentialsError, RateLimitError, ProviderError
        """
        from sentinelhub import CRS, BBox, MimeType, SentinelHubRequest

        epsg = gbox.crs.epsg if gbox.crs is not None else None
        if epsg is None:
            raise ConfigError(f"{self.name} needs a grid in an EPSG CRS (got {gbox.crs})")
        config = self._authenticate()
        script = radar_evalscript(bands)
        props = scene.properties
        when = scene.datetime.isoformat()
        t_from = _when(str(props.get("time_from", when))) - _PASS_SLACK
        t_to = _when(str(props.get("time_to", when))) + _PASS_SLACK
        collection = self._s1_collection(
            orbit_direction=str(props.get("orbit_direction") or "") or None,
            polarization="DV" if "VH" in scene.bands else "SV",
        )
        input_data = SentinelHubRequest.input_data(
            collection,
            time_interval=(_iso(t_from), _iso(t_to)),
            other_args={
                "processing": {
                    "backCoeff": BACK_COEFFICIENTS[self.backscatter],
                    "orthorectify": True,
                    "demInstance": self.dem_instance,
                    "upsampling": "BILINEAR",
                    "downsampling": "BILINEAR",
                }
            },
        )
        responses = [
            SentinelHubRequest.output_response("bands", MimeType.TIFF),
            SentinelHubRequest.output_response("mask", MimeType.TIFF),
        ]
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
            with self._errors(f"process radar scene {scene.id}"):
                (result,) = request.get_data()
            values, mask = _outputs(result, len(bands))
            block = np.where((mask[0] > 0)[None] & (values > 0), values, np.nan).astype(np.float32)
            out[:, rows, cols] = block
        log.debug("fetched radar scene %s (%d request(s)) from %s", scene.id, len(tiles), self.name)
        return out

    def load(  # type: ignore[override]
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
        from sitewatch.providers.cache import grid_for

        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        check_one_convention(scenes)
        pols = (
            list(polarizations)
            if polarizations is not None
            else [p for p in RADAR_BANDS if all(p in s.bands for s in scenes)]
        )
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        data = np.empty((len(scenes), len(pols), *gbox.shape), np.float32)
        for t, scene in enumerate(scenes):
            data[t] = self.read_scene(scene, pols, gbox)
        return radar_stack(data, gbox, scenes, pols, provider=self.name, source=self.source)


def _outputs(result: Any, n_bands: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``bands`` (band, y, x) and ``mask`` (1, y, x) outputs of a decoded Process API answer."""
    if not isinstance(result, Mapping):
        raise ProviderError(
            "the Process API answered one output; the radar request asks for two (bands, mask)"
        )
    named = {str(k).rsplit(".", 1)[0]: np.asarray(v) for k, v in result.items()}
    if not {"bands", "mask"} <= set(named):
        raise ProviderError(
            f"the Process API answer lacks output(s) {sorted({'bands', 'mask'} - set(named))}"
        )

    def first(arr: np.ndarray, n: int) -> np.ndarray:
        if arr.ndim == 2:
            return arr[np.newaxis]
        return np.moveaxis(arr, -1, 0) if arr.shape[-1] == n else arr

    return first(named["bands"], n_bands).astype(np.float32), first(named["mask"], 1)


def _checked(options: dict[str, Any]) -> dict[str, Any]:
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ConfigError(f"unknown Sentinel Hub radar option(s): {', '.join(sorted(unknown))}")
    return options


def sentinelhub_s1_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Radar provider for ``--sar sentinelhub[:BASE_URL]`` (cached unless ``cache=False``).

    Parameters
    ----------
    arg : str, optional
        Another service root (else ``$SH_BASE_URL`` or services.sentinel-hub.com).
    cache_dir : path, optional
    cache : bool
    **options
        Passed to :class:`SentinelHubRadarProvider` (``backscatter``, ``dem_instance``...).

    Returns
    -------
    RadarProvider
    """
    if arg:
        options.setdefault("base_url", arg)
    provider = SentinelHubRadarProvider(deployment="sentinelhub", **_checked(options))
    return CachedRadarProvider(provider, cache_dir=cache_dir) if cache else provider


def cdse_s1_factory(
    arg: str | None = None, *, cache_dir: Any = None, cache: bool = True, **options: Any
) -> Any:
    """Radar provider for ``--sar cdse[:BASE_URL]``: Copernicus Data Space Ecosystem Sentinel Hub."""
    if arg:
        options.setdefault("base_url", arg)
    provider = SentinelHubRadarProvider(deployment="cdse", **_checked(options))
    return CachedRadarProvider(provider, cache_dir=cache_dir) if cache else provider
