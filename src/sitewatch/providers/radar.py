"""The radar (Sentinel-1) provider interface, its registry and the radar scene metadata.

A radar provider *searches* acquisitions for an AOI and a time range (an iterator of
:class:`~sitewatch.types.Scene`, metadata only) and *loads* chosen ones as one stack, an
``xarray.DataArray`` with dims ``(time, band, y, x)``:

- values: float32 **linear** backscatter power (sigma0 or gamma0, one convention per stack),
  NaN where there is no data; bands ``VV`` and/or ``VH``;
- coords: ``time``, ``band``, ``y``/``x``, ``spatial_ref`` as the optical stacks
  (:mod:`sitewatch.providers.base`), and per time ``scene_id``, ``orbit_direction``
  (``ASCENDING``/``DESCENDING``), ``relative_orbit`` (int, 0 when unknown), ``platform``
  (``S1A``...), ``backscatter`` (``sigma0``/``gamma0``);
- attrs: ``provider``, ``source``, ``units`` (``"linear power"``).

Each radar scene carries its geometry in ``Scene.properties`` under the keys of
:class:`RadarInfo` (read back with :func:`radar_info`). Radar sources are picked by name with
:func:`get_radar_provider` (``--sar local:DIR``, ``--sar earth-search:sentinel-1-grd``,
``--sar cdse``); the registry is separate from the optical one because the same names
(``local``, ``earth-search``) mean other readers.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np

from sitewatch.errors import ConfigError, DataError

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

    from sitewatch.types import AOI, Scene

__all__ = [
    "RADAR_BANDS",
    "RadarInfo",
    "RadarProvider",
    "backscatter_from_text",
    "check_one_convention",
    "get_radar_provider",
    "info_from_scene_id",
    "orbit_direction_from_time",
    "parse_product_name",
    "radar_info",
    "radar_provider_names",
    "radar_scene_id",
    "radar_stack",
    "register_radar_provider",
    "relative_orbit_from_absolute",
]

#: Polarisation bands of a radar stack, in order.
RADAR_BANDS: tuple[str, ...] = ("VV", "VH")
OrbitDirection = Literal["ASCENDING", "DESCENDING"]

# S1A_IW_GRDH_1SDV_20250307T032114_20250307T032139_058194_0730C9_1A2B (and SLC, RTC variants)
_PRODUCT_RE = re.compile(
    r"(?P<platform>S1[A-D])_(?P<mode>[A-Z0-9]{2})_\w{4}_\w{4}_(?P<start>\d{8}T\d{6})_\d{8}T\d{6}_(?P<orbit>\d{6})"
)
_SCENE_ID_RE = re.compile(r"^(?P<platform>S1[A-D]?)_(?P<start>\d{8}T\d{6})_(?P<dir>[AD])(?P<rel>\d{3})$")
# Relative orbit = (absolute - offset) mod 175 + 1, per platform (as MintPy's orbit.py has it).
_ORBIT_OFFSET = {"S1A": 73, "S1B": 27, "S1C": 172}


@dataclass(frozen=True)
class RadarInfo:
    """The viewing geometry and radiometry of one radar acquisition.

    Parameters
    ----------
    platform : str
        ``"S1A"``, ``"S1B"``, ``"S1C"`` (``"S1"`` when unknown).
    orbit_direction : {"ASCENDING", "DESCENDING"}
    relative_orbit : int
        1..175; 0 when unknown.
    backscatter : {"sigma0", "gamma0"} or None
        None when the source does not say.
    polarizations : tuple of str
        Polarisations the acquisition holds (``("VV", "VH")``).
    """

    platform: str
    orbit_direction: OrbitDirection
    relative_orbit: int
    backscatter: Literal["sigma0", "gamma0"] | None
    polarizations: tuple[str, ...] = RADAR_BANDS

    def as_properties(self) -> dict[str, Any]:
        """The ``Scene.properties`` entries that carry this information."""
        return {
            "platform": self.platform,
            "orbit_direction": self.orbit_direction,
            "relative_orbit": self.relative_orbit,
            "backscatter": self.backscatter,
            "polarizations": list(self.polarizations),
        }

    @property
    def orbit_label(self) -> str:
        """``"D079"``: direction initial and relative orbit, as the radar core labels orbits."""
        return f"{self.orbit_direction[:1]}{self.relative_orbit:03d}"


def radar_info(scene: Scene) -> RadarInfo:
    """The :class:`RadarInfo` a radar scene carries in its properties.

    Raises
    ------
    DataError
        If the scene carries no orbit direction (it is not a radar scene).
    """
    props = scene.properties
    direction = str(props.get("orbit_direction") or "").upper()
    if direction not in ("ASCENDING", "DESCENDING"):
        raise DataError(f"scene {scene.id} carries no orbit direction: it is not a radar scene")
    return RadarInfo(
        platform=str(props.get("platform") or "S1"),
        orbit_direction=direction,  # type: ignore[arg-type]
        relative_orbit=int(props.get("relative_orbit") or 0),
        backscatter=backscatter_from_text(props.get("backscatter")),
        polarizations=tuple(props.get("polarizations") or scene.bands),
    )


def backscatter_from_text(text: Any) -> Literal["sigma0", "gamma0"] | None:
    """The convention a tag, property or name gives, or None.

    Examples
    --------
    >>> [backscatter_from_text(t) for t in ("SIGMA0_ELLIPSOID", "gamma0_terrain", "RTC")]
    ['sigma0', 'gamma0', 'gamma0']
    >>> backscatter_from_text("beta0") is None
    True
    """
    if text is None:
        return None
    value = str(text).strip().lower()
    if re.search(r"sigma[_ -]?0|sigma[_ -]?nought|sig0", value):
        return "sigma0"
    if re.search(r"gamma[_ -]?0|gamma[_ -]?nought|gam0|(?<![a-z])rtc(?![a-z])", value):
        return "gamma0"
    return None


def relative_orbit_from_absolute(platform: str, absolute_orbit: int) -> int:
    """The relative orbit (1..175) of an absolute orbit number; 0 for an unknown platform.

    Examples
    --------
    >>> relative_orbit_from_absolute("S1A", 58194)
    22
    """
    offset = _ORBIT_OFFSET.get(platform.upper())
    return 0 if offset is None else (int(absolute_orbit) - offset) % 175 + 1


def orbit_direction_from_time(when: dt.datetime, lon: float) -> OrbitDirection:
    """Pass direction from the local solar time of a Sentinel-1 acquisition.

    Sentinel-1 flies a dawn-dusk sun-synchronous orbit: it crosses the equator northward at
    18:00 local solar time and southward at 06:00, so afternoon and evening passes are
    ascending, night and morning passes descending (true away from the poles).

    Examples
    --------
    >>> orbit_direction_from_time(dt.datetime(2025, 3, 7, 3, 21, tzinfo=dt.timezone.utc), 40.9)
    'DESCENDING'
    """
    utc = when.astimezone(dt.timezone.utc) if when.tzinfo else when
    hour = (utc.hour + utc.minute / 60.0 + lon / 15.0) % 24.0
    return "ASCENDING" if hour >= 12.0 else "DESCENDING"


def parse_product_name(name: str) -> dict[str, Any] | None:
    """Platform, mode, start time and absolute orbit of a Sentinel-1 product name, or None.

    Examples
    --------
    >>> info = parse_product_name("S1A_IW_GRDH_1SDV_20250307T032114_20250307T032139_058194_0730C9_1A2B.tif")
    >>> info["platform"], info["absolute_orbit"], info["start"].isoformat()
    ('S1A', 58194, '2025-03-07T03:21:14+00:00')
    """
    m = _PRODUCT_RE.search(name)
    if not m:
        return None
    start = dt.datetime.strptime(m["start"], "%Y%m%dT%H%M%S").replace(tzinfo=dt.timezone.utc)
    return {"platform": m["platform"], "mode": m["mode"], "start": start, "absolute_orbit": int(m["orbit"])}


def radar_scene_id(info: RadarInfo, when: dt.datetime) -> str:
    """A radar scene id that names its acquisition and geometry: ``S1A_20250307T032114_D079``.

    Remote providers use it, so the cache (which keeps only ids and dates) can give the
    geometry back when working offline (:func:`info_from_scene_id`).
    """
    stamp = when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
    return f"{info.platform}_{stamp}_{info.orbit_label}"


def info_from_scene_id(scene_id: str, backscatter: Literal["sigma0", "gamma0"] | None) -> RadarInfo | None:
    """The geometry a :func:`radar_scene_id` names, or None for another kind of id."""
    m = _SCENE_ID_RE.match(scene_id)
    if not m:
        return None
    return RadarInfo(
        platform=m["platform"],
        orbit_direction="ASCENDING" if m["dir"] == "A" else "DESCENDING",
        relative_orbit=int(m["rel"]),
        backscatter=backscatter,
    )


def check_one_convention(scenes: Sequence[Scene]) -> Literal["sigma0", "gamma0"] | None:
    """The one backscatter convention of a set of radar scenes, or why they cannot be stacked.

    Raises
    ------
    DataError
        If some scenes are sigma0 and others gamma0, or some say and others do not; the
        message names the scenes (their files, for local scenes) of each kind.
    """
    kinds: dict[str, list[str]] = {}
    for scene in scenes:
        kind = backscatter_from_text(scene.properties.get("backscatter")) or "unstated"
        kinds.setdefault(kind, []).append(scene.location if scene.provider.startswith("local") else scene.id)
    if len(kinds) <= 1:
        found = next(iter(kinds), None)
        return None if found in (None, "unstated") else found  # type: ignore[return-value]

    def listing(names: list[str]) -> str:
        return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")

    detail = "; ".join(f"{kind}: {listing(names)}" for kind, names in sorted(kinds.items()))
    raise DataError(
        f"radar scenes mix backscatter conventions ({detail}); sigma0 and gamma0 differ by the terrain's "
        "slope and cannot be compared in one series: load one convention (tag the files BACKSCATTER=sigma0 "
        "or gamma0)"
    )


def radar_stack(
    data: np.ndarray,
    gbox: GeoBox,
    scenes: Sequence[Scene],
    bands: Sequence[str],
    *,
    provider: str,
    source: str | None = None,
) -> xr.DataArray:
    """Wrap a ``(time, band, y, x)`` linear-power array in the radar stack conventions.

    Parameters
    ----------
    data : numpy.ndarray
    gbox : GeoBox
    scenes : sequence of Scene
        Radar scenes (see :func:`radar_info`), one per time step, in order.
    bands : sequence of str
    provider, source : str

    Returns
    -------
    xarray.DataArray
    """
    from sitewatch.providers.grid import stack_to_dataarray

    infos = [radar_info(s) for s in scenes]
    da = stack_to_dataarray(data, gbox, scenes, bands, provider=provider, source=source)
    da = da.assign_coords(
        orbit_direction=("time", [i.orbit_direction for i in infos]),
        relative_orbit=("time", np.array([i.relative_orbit for i in infos], dtype=np.int64)),
        platform=("time", [i.platform for i in infos]),
        backscatter=("time", [i.backscatter or "" for i in infos]),
    )
    da = da.drop_vars("processing_level")
    da.name = "backscatter"
    da.attrs["units"] = "linear power"
    return da


@runtime_checkable
class RadarProvider(Protocol):
    """What every radar source implements."""

    name: str

    @property
    def source(self) -> str:
        """The ``--sar`` text naming the source, without credentials."""
        ...

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        orbit_direction: OrbitDirection | None = None,
    ) -> Iterator[Scene]:
        """Yield radar acquisitions over ``aoi`` from ``start`` to ``end`` (inclusive), oldest first."""
        ...

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
        """Load ``scenes`` as one ``(time, band, y, x)`` linear-power stack on a common grid."""
        ...


RadarFactory = Callable[..., RadarProvider]

# Imported only when asked for: their dependencies can be heavy.
_BUILTIN: dict[str, str] = {
    "local": "sitewatch.providers.local_s1:local_s1_factory",
    "stac": "sitewatch.providers.stac_s1:stac_s1_factory",
    "earth-search": "sitewatch.providers.stac_s1:earth_search_s1_factory",
    "sentinelhub": "sitewatch.providers.sentinelhub_s1:sentinelhub_s1_factory",
    "cdse": "sitewatch.providers.sentinelhub_s1:cdse_s1_factory",
}
_REGISTERED: dict[str, RadarFactory] = {}


def register_radar_provider(name: str, factory: RadarFactory) -> None:
    """Register a radar provider factory under ``name`` (third-party sources, tests).

    Parameters
    ----------
    name : str
        The name used in ``--sar NAME[:ARG]``.
    factory : callable
        Called as ``factory(arg, **options)``; returns a :class:`RadarProvider`.
    """
    _REGISTERED[name] = factory


def radar_provider_names() -> list[str]:
    """Names of every radar source :func:`get_radar_provider` knows."""
    return sorted({*_BUILTIN, *_REGISTERED})


def get_radar_provider(spec: str, **options: Any) -> RadarProvider:
    """Return the radar provider a ``--sar`` value names.

    Parameters
    ----------
    spec : str
        ``NAME`` or ``NAME:ARG`` (``"local:/data/s1"``, ``"earth-search:sentinel-1-grd"``,
        ``"cdse"``); a bare existing directory is read as ``local:DIR``.
    **options
        Passed to the factory (cache dir, credentials, backscatter...).

    Returns
    -------
    RadarProvider

    Raises
    ------
    ConfigError
        If the name is unknown.

    Examples
    --------
    >>> get_radar_provider("local:.").name
    'local-s1'
    """
    name, sep, arg = spec.partition(":")
    if name not in _BUILTIN and name not in _REGISTERED:
        from pathlib import Path

        if Path(spec).is_dir():
            name, arg, sep = "local", spec, ":"
    if name in _REGISTERED:
        factory = _REGISTERED[name]
    elif name in _BUILTIN:
        module_name, _, attr = _BUILTIN[name].partition(":")
        factory = getattr(importlib.import_module(module_name), attr)
    else:
        raise ConfigError(
            f"unknown radar source {name!r}; choose one of: {', '.join(radar_provider_names())} "
            "(for example --sar local:DIR)"
        )
    return factory(arg if sep else None, **options)
