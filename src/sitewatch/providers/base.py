"""The provider interface and registry: every source of imagery implements :class:`Provider`.

A provider *searches* scenes for an AOI and a time range (an iterator of
:class:`~sitewatch.types.Scene`, metadata only) and *loads* chosen scenes as one
stack, an ``xarray.DataArray`` with dims ``(time, band, y, x)``:

- values: float32 surface or top-of-atmosphere reflectance x 10000 (any L2A
  offset already removed), NaN where there is no data; ``SCL`` (where present)
  as float class codes with NaN for no data;
- coords: ``time`` (datetime64, UTC, naive), ``band`` (``"B02"``...), ``y``/``x``
  (pixel centres in the grid CRS), ``spatial_ref`` (CRS, read by ``.odc`` and ``.rio``),
  and per-time ``scene_id``, ``processing_level``, ``offset_dn`` (what was added to the stored
  numbers, e.g. -1000; NaN when the provider does not say: :mod:`sitewatch.providers.offsets`);
- attrs: ``provider`` (name) and ``source`` (what the user gave).

Providers are picked by name with :func:`get_provider`.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sitewatch.errors import ConfigError

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

    from sitewatch.types import AOI, Scene

__all__ = ["Provider", "get_provider", "provider_names", "register_provider"]

#: Reflectance bands sitewatch uses by default, at 10 and 20 m.
DEFAULT_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")
#: Every Sentinel-2 MSI band, in the conventional order.
ALL_BANDS: tuple[str, ...] = (
    "B01",
    "B02",
    "B03",
    "B04",
    "B05",
    "B06",
    "B07",
    "B08",
    "B8A",
    "B09",
    "B10",
    "B11",
    "B12",
)
#: Native pixel size in metres of each band.
BAND_RESOLUTION_M: dict[str, int] = {
    "B01": 60,
    "B02": 10,
    "B03": 10,
    "B04": 10,
    "B05": 20,
    "B06": 20,
    "B07": 20,
    "B08": 10,
    "B8A": 20,
    "B09": 60,
    "B10": 60,
    "B11": 20,
    "B12": 20,
    "SCL": 20,
}
#: Bands holding class codes, resampled with nearest neighbour and never offset.
CATEGORICAL_BANDS: frozenset[str] = frozenset({"SCL", "dataMask", "CLM"})


@runtime_checkable
class Provider(Protocol):
    """What every imagery source implements.

    Attributes
    ----------
    name : str
        The provider's name (as in ``--source NAME``).
    reads_blocks : bool
        ``load`` accepts ``chunk_px`` and then returns a dask-backed stack whose
        ``chunk_px`` square blocks are read only when computed (a scan of an AOI bigger
        than memory reads it block by block); False: ``load`` reads every scene whole.
    """

    name: str
    reads_blocks: bool

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        """Yield scenes intersecting ``aoi`` acquired from ``start`` to ``end`` (inclusive), oldest first."""
        ...

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
        """Load ``scenes`` as one ``(time, band, y, x)`` stack on a common grid."""
        ...


ProviderFactory = Callable[..., Provider]

# Built-in providers are imported only when asked for: their dependencies can be heavy.
_BUILTIN: dict[str, str] = {
    "local": "sitewatch.providers.local:LocalProvider",
    "stac": "sitewatch.providers.stac:stac_factory",
    "earth-search": "sitewatch.providers.stac:earth_search_factory",
    "cdse-stac": "sitewatch.providers.stac:cdse_stac_factory",
    "sentinelhub": "sitewatch.providers.sentinelhub:sentinelhub_factory",
    "cdse": "sitewatch.providers.sentinelhub:cdse_factory",
}
_REGISTERED: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory) -> None:
    """Register a provider factory under ``name`` (third-party providers, tests).

    Parameters
    ----------
    name : str
        The name used in ``--source NAME[:ARG]``.
    factory : callable
        Called as ``factory(arg, **options)`` where ``arg`` is the text after ``:``
        (or None) and returns a :class:`Provider`.
    """
    _REGISTERED[name] = factory


def provider_names() -> list[str]:
    """Names of every provider that :func:`get_provider` knows."""
    return sorted({*_BUILTIN, *_REGISTERED})


def _factory(name: str) -> ProviderFactory:
    if name in _REGISTERED:
        return _REGISTERED[name]
    target = _BUILTIN.get(name)
    if target is None:
        raise ConfigError(
            f"unknown imagery source {name!r}; choose one of: {', '.join(provider_names())} "
            "(for example local:DIR)"
        )
    module_name, _, attr = target.partition(":")
    factory: ProviderFactory = getattr(importlib.import_module(module_name), attr)
    return factory


def get_provider(spec: str, **options: Any) -> Provider:
    """Return the provider a ``--source`` value names.

    Parameters
    ----------
    spec : str
        ``NAME`` or ``NAME:ARG``, e.g. ``"local:/data/scenes"``. A bare existing
        directory is read as ``local:DIR``.
    **options
        Passed to the provider factory (cache dir, credentials config...).

    Returns
    -------
    Provider

    Raises
    ------
    ConfigError
        If the name is unknown or the argument is missing.

    Examples
    --------
    >>> get_provider("local:.").name
    'local'
    """
    name, sep, arg = spec.partition(":")
    if name not in _BUILTIN and name not in _REGISTERED:
        from pathlib import Path

        if Path(spec).is_dir():
            name, arg, sep = "local", spec, ":"
    return _factory(name)(arg if sep else None, **options)
