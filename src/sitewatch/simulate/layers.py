"""Layers: a material covering part of the site, from one day to another.

A site is its farmland plus an ordered stack of layers (roads, the runway, the compound's
yard and structures, groves, the events' surfaces). Each layer holds its share of every
pixel within a window of the grid (anti-aliased, so strips and pads off the pixel grid
mix at their edges as real ones do) and a lifetime. Its spectrum may change with the
date: fresh asphalt and concrete weather towards their aged selves, groves follow the
seasons of their trees.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Cover", "GroveLook", "Layer", "grove_spectrum"]


@dataclass(frozen=True)
class Cover:
    """A layer's share of each pixel of a window of the grid."""

    rows: slice
    cols: slice
    share: np.ndarray  # float32 (rows, cols)

    def full(self, size: int) -> np.ndarray:
        """The share on the whole ``(size, size)`` grid."""
        out = np.zeros((size, size), np.float32)
        out[self.rows, self.cols] = self.share
        return out


@dataclass(frozen=True)
class GroveLook:
    """What a grove's pixels are made of: tree kind, crown cover and the ground between trees."""

    kind: Literal["olive", "orchard", "pine"]
    canopy: float


@dataclass
class Layer:
    """A material over part of the site.

    Attributes
    ----------
    name : str
    cover : Cover
    material : str
        Name in the world's materials.
    start, end : datetime.date or None
        Visible from ``start`` on, gone from ``end`` on.
    kind : str
        ``"static"``, ``"structure"``, ``"event"``, ``"grove"``, ``"cleared"``.
    weathers_to : str or None
        Material the surface weathers into, with time constant ``weather_days``, from
        ``weather_from`` (default ``start``: a staged pad weathers from its first section).
    grove : GroveLook or None
        For groves: the spectrum follows the trees' seasons over ``material`` (the ground).
    cleared_by_snowplough : bool
        Runways and roads are cleared of snow.
    """

    name: str
    cover: Cover
    material: str
    start: dt.date | None = None
    end: dt.date | None = None
    kind: str = "static"
    weathers_to: str | None = None
    weather_days: float = 0.0
    weather_from: dt.date | None = None
    grove: GroveLook | None = None
    cleared_by_snowplough: bool = False

    def active(self, day: dt.date) -> bool:
        """Whether the layer is on the ground on ``day``."""
        if self.start is not None and day < self.start:
            return False
        return not (self.end is not None and day >= self.end)

    def spectrum(self, day: dt.date, spectra: dict[str, np.ndarray]) -> np.ndarray:
        """Float32 ``(bands, 1, 1)`` spectrum on ``day``."""
        if self.grove is not None:
            return grove_spectrum(self.grove, day, spectra, ground=self.material)
        spec = spectra[self.material]
        laid = self.weather_from or self.start
        if self.weathers_to is None or laid is None:
            return spec
        age = (day - laid).days
        share = np.float32(1.0 - math.exp(-max(0, age) / max(self.weather_days, 1.0)))
        return spec * (1 - share) + spectra[self.weathers_to] * share


def _leaf_share(kind: str, doy: int) -> float:
    """Share of full leaf on day of year ``doy`` (deciduous orchards are bare in winter)."""
    if kind != "orchard":
        return 1.0
    # bud burst in late March, full leaf May to September, leaf fall through November
    if doy < 80 or doy >= 335:
        return 0.0
    if doy < 130:
        return (doy - 80) / 50.0
    if doy < 280:
        return 1.0
    return max(0.0, 1.0 - (doy - 280) / 55.0)


def grove_spectrum(
    look: GroveLook, day: dt.date, spectra: dict[str, np.ndarray], *, ground: str
) -> np.ndarray:
    """Crowns over the ground between trees, weeds greening that ground in spring."""
    doy = day.timetuple().tm_yday
    leaf_name = {"olive": "olive", "orchard": "orchard_leaf", "pine": "pine"}[look.kind]
    leaf = look.canopy * _leaf_share(look.kind, doy)
    wood = 0.25 * look.canopy if look.kind == "orchard" else 0.0
    weeds = 0.25 * max(0.0, math.sin(math.pi * (doy - 40) / 100.0)) if 40 <= doy < 140 else 0.0
    soil = max(0.0, 1.0 - leaf - wood)
    under = spectra[ground] * np.float32(1 - weeds) + spectra["vegetation"] * np.float32(weeds)
    out = under * np.float32(soil) + spectra[leaf_name] * np.float32(leaf)
    if wood:
        out = out + spectra["branches"] * np.float32(min(wood, 1.0 - leaf))
    return out
