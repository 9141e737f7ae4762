"""Synthetic Sentinel-1 series with known changes, importable as ``from synthetic_s1 import s1_series``.

The world is randomised but physical enough to fail a naive detector: a spatially textured
ground, a level per orbit (each sees the site at its own incidence angle), a scene-wide
offset per date (rain, dew: a seasonal swing and random wet dates), gamma-distributed
speckle for the stated number of looks, and changes (boxes brighter or darker by known dB
from a known date, optionally reverting).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from affine import Affine
from odc.geo.geobox import GeoBox
from scipy import ndimage

from sitewatch.providers.radar import RadarInfo, radar_scene_id, radar_stack
from sitewatch.types import Scene


@dataclass(frozen=True)
class Change:
    """A box whose backscatter changes by ``db_vv``/``db_vh`` from ``start`` (until ``end``)."""

    rows: slice
    cols: slice
    start: str
    db_vv: float
    db_vh: float
    end: str | None = None


@dataclass(frozen=True)
class Orbit:
    direction: str
    relative: int
    offset_days: int
    level_db: float
    hour: int


ORBITS = (Orbit("DESCENDING", 79, 0, 0.0, 3), Orbit("ASCENDING", 14, 5, -1.5, 15))


def s1_series(
    *,
    shape: tuple[int, int] = (64, 64),
    start: str = "2023-01-03",
    n_per_orbit: int = 40,
    revisit_days: int = 12,
    orbits: Sequence[Orbit] = ORBITS,
    looks: float = 4.4,
    changes: Sequence[Change] = (),
    weather_db: float = 0.7,
    polarizations: Sequence[str] = ("VV", "VH"),
    backscatter: str = "gamma0",
    seed: int = 0,
    crs: str = "EPSG:32637",
    origin: tuple[float, float] = (500_000.0, 4_000_000.0),
) -> xr.DataArray:
    """A ``(time, band, y, x)`` linear-power radar stack in the sitewatch radar conventions."""
    rng = np.random.default_rng(seed)
    h, w = shape
    field = ndimage.gaussian_filter(rng.standard_normal(shape), 3)
    field = field / field.std()
    base_vv = -12.0 + 3.0 * np.clip(field, -2, 2) + 0.5 * rng.standard_normal(shape)
    base_vh = base_vv - 7.0 + 0.5 * rng.standard_normal(shape)
    t0 = dt.datetime.fromisoformat(start).replace(tzinfo=dt.timezone.utc)
    acquisitions = sorted(
        (t0 + dt.timedelta(days=o.offset_days + k * revisit_days, hours=o.hour), o)
        for o in orbits
        for k in range(n_per_orbit)
    )
    data = np.empty((len(acquisitions), len(polarizations), h, w), np.float32)
    scenes = []
    for t, (when, orbit) in enumerate(acquisitions):
        day = (when - t0).days
        weather = weather_db * rng.standard_normal() + 1.0 * np.sin(2 * np.pi * day / 365.25)
        vv = base_vv + orbit.level_db + weather
        vh = base_vh + orbit.level_db + weather
        for c in changes:
            on = when >= dt.datetime.fromisoformat(c.start).replace(tzinfo=dt.timezone.utc)
            if c.end is not None:
                on &= when < dt.datetime.fromisoformat(c.end).replace(tzinfo=dt.timezone.utc)
            if on:
                vv = vv.copy()
                vh = vh.copy()
                vv[c.rows, c.cols] += c.db_vv
                vh[c.rows, c.cols] += c.db_vh
        layers = {"VV": vv, "VH": vh}
        for b, pol in enumerate(polarizations):
            data[t, b] = 10 ** (layers[pol] / 10) * rng.gamma(looks, 1 / looks, shape)
        info = RadarInfo("S1A", orbit.direction, orbit.relative, backscatter, tuple(polarizations))  # type: ignore[arg-type]
        scenes.append(
            Scene(
                id=radar_scene_id(info, when),
                datetime=when,
                bands=tuple(polarizations),
                provider="synthetic",
                location="memory",
                properties=info.as_properties(),
            )
        )
    x0, y0 = origin
    gbox = GeoBox((h, w), Affine(10.0, 0.0, x0, 0.0, -10.0, y0), crs)
    return radar_stack(data, gbox, scenes, list(polarizations), provider="synthetic")


def box_mask(shape: tuple[int, int], rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros(shape, bool)
    mask[rows, cols] = True
    return mask


def acquisitions_around(stack: xr.DataArray, when: str) -> tuple[np.datetime64, np.datetime64]:
    """The last acquisition before ``when`` and the first on or after it (any orbit)."""
    times = stack.coords["time"].values
    moment = np.datetime64(when, "ns")
    return times[times < moment].max(), times[times >= moment].min()
