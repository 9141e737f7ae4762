"""Remote radar scenes through the same on-disk cache as the optical ones.

:class:`~sitewatch.providers.cache.CachedProvider` stores reflectance x 10000 as uint16
(+1000, so values down to -1000 survive) and keeps, per scene, only its id, date and bands.
Linear backscatter (1e-4..1) would not survive that, so until the cache stores float bands
(see the note in the radar README section) radar bands go through it **as centi-dB**:
``stored = (10 log10(power) + 60) x 100``, i.e. -60..+500 dB in 0.01 dB steps, far finer
than speckle and lossless for the change statistics (they work in dB). Values below -60 dB
(no signal) are stored as -60 dB.

Offline, the cache gives back scenes without their radar properties; remote radar providers
name their scenes with :func:`~sitewatch.providers.radar.radar_scene_id`, from which the
geometry is read back (:func:`~sitewatch.providers.radar.info_from_scene_id`).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np

from sitewatch.core.sar import db_to_power, power_to_db
from sitewatch.errors import NoScenesError
from sitewatch.providers.cache import CachedProvider, grid_for
from sitewatch.providers.radar import RADAR_BANDS, OrbitDirection, info_from_scene_id, radar_info, radar_stack

if TYPE_CHECKING:
    import xarray as xr
    from odc.geo.geobox import GeoBox

    from sitewatch.types import AOI, Scene

__all__ = ["CachedRadarProvider", "RadarSceneReader", "decode_db", "encode_db"]

# centi-dB offset: -60 dB is stored as 0, and the cache's own +1000 keeps it off its no-data 0
_DB_OFFSET = 60.0
_DB_SCALE = 100.0
_DB_MAX = 500.0


def encode_db(power: np.ndarray) -> np.ndarray:
    """Linear power as the cache's stored values (centi-dB above -60 dB); NaN stays NaN.

    Examples
    --------
    >>> encode_db(np.array([1.0, 0.01, np.nan], np.float32)).tolist()
    [6000.0, 4000.0, nan]
    """
    db = power_to_db(power)
    return np.where(
        np.isfinite(db), (np.clip(db, -_DB_OFFSET, _DB_MAX) + _DB_OFFSET) * _DB_SCALE, np.nan
    ).astype(np.float32)


def decode_db(stored: np.ndarray) -> np.ndarray:
    """Linear power from the cache's stored values (the inverse of :func:`encode_db`)."""
    values = np.asarray(stored, dtype=np.float32)
    out: np.ndarray = db_to_power(values / np.float32(_DB_SCALE) - np.float32(_DB_OFFSET))
    out[~np.isfinite(values)] = np.nan
    return out


class RadarSceneReader(Protocol):
    """What a remote radar provider offers the cache: search, and read one scene onto a grid."""

    name: str
    fetch_threads: int

    @property
    def backscatter(self) -> Literal["sigma0", "gamma0"] | None:
        """The convention of the source's pixels (what offline scenes are taken to be)."""
        ...

    @property
    def source(self) -> str:
        """The ``--sar`` text, without credentials."""
        ...

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        orbit_direction: OrbitDirection | None = None,
    ) -> Iterator[Scene]:
        """Yield radar scenes, oldest first."""
        ...

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        """Return float32 ``(band, y, x)`` linear power, NaN for no data."""
        ...


class _Encoded:
    """The radar reader as the cache sees it: the same scenes, values in centi-dB."""

    def __init__(self, inner: RadarSceneReader) -> None:
        self.inner = inner
        self.name = inner.name
        self.fetch_threads = inner.fetch_threads

    @property
    def source(self) -> str:
        return self.inner.source

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        max_cloud_fraction: float | None = None,
    ) -> Iterator[Scene]:
        return self.inner.search(aoi, start, end)

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        return encode_db(self.inner.read_scene(scene, bands, gbox))


class CachedRadarProvider:
    """A remote radar provider behind the on-disk cache; itself a radar provider.

    Parameters
    ----------
    inner : RadarSceneReader
    cache_dir : path, optional
        The cache root (see :func:`sitewatch.providers.cache.cache_root`).
    """

    def __init__(self, inner: RadarSceneReader, *, cache_dir: str | os.PathLike[str] | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.cache = CachedProvider(_Encoded(inner), cache_dir=cache_dir)

    def __repr__(self) -> str:
        return f"CachedRadarProvider({self.inner!r})"

    @property
    def source(self) -> str:
        """The inner provider's ``--sar`` text."""
        return self.inner.source

    def search(
        self,
        aoi: AOI | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        *,
        orbit_direction: OrbitDirection | None = None,
    ) -> Iterator[Scene]:
        """Yield the service's radar scenes; offline, the cached ones (with a warning).

        Cached scenes get their geometry back from their ids; those whose id does not name
        it are left out.
        """
        from sitewatch.types import Scene

        for scene in self.cache.search(aoi, start, end):
            if scene.properties.get("cached"):
                info = info_from_scene_id(scene.id, self.inner.backscatter)
                if info is None:
                    continue
                scene = Scene(
                    id=scene.id,
                    datetime=scene.datetime,
                    bands=scene.bands,
                    provider=scene.provider,
                    location=scene.location,
                    properties={
                        **scene.properties,
                        **info.as_properties(),
                        "polarizations": list(scene.bands),
                    },
                )
            if orbit_direction is None or radar_info(scene).orbit_direction == orbit_direction.upper():
                yield scene

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
        """Load ``scenes`` as a linear-power stack, fetching only what the cache lacks.

        Parameters are those of :class:`~sitewatch.providers.radar.RadarProvider`; without
        ``geobox`` the grid is the AOI's bounds in its UTM zone.
        """
        if not scenes:
            raise NoScenesError(f"no radar scenes to load from {self.source}")
        scenes = sorted(scenes, key=lambda s: (s.datetime, s.id))
        pols = list(polarizations) if polarizations is not None else _common_polarizations(scenes)
        gbox = grid_for(aoi=aoi, geobox=geobox, crs=crs, resolution_m=resolution_m)
        stored = self.cache.load(scenes, aoi=aoi, bands=pols, geobox=gbox)
        return radar_stack(
            decode_db(stored.values), gbox, scenes, pols, provider=self.name, source=self.source
        )


def _common_polarizations(scenes: Sequence[Scene]) -> list[str]:
    return [p for p in RADAR_BANDS if all(p in s.bands for s in scenes)] or [RADAR_BANDS[0]]
