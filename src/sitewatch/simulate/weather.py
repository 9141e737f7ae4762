"""Weather on the ground: snow covers that come and melt, and soil darkened by winter rain.

A snowfall (December to February, as many per winter as the climate says) covers the site
for days to two weeks: most on high ground, least on sun-facing slopes, runways and roads
ploughed clear; the cover thins and grows patchy as it melts and ages from fresh (bright,
NDSI ~0.8) to old snow. The day it falls is overcast. Winter rain wets the soil for a few
days (darker, SWIR most). Both are lasting-looking changes within a few dates that a
detector must not report.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Snowfall", "Weather", "plan_weather"]

#: How wet soil darkens per band at full wetness (relative; SWIR most, water absorbs there).
WET_SHAPE: tuple[float, ...] = (0.55, 0.55, 0.6, 0.65, 0.65, 1.0, 1.0)


@dataclass(frozen=True)
class Snowfall:
    """One snow cover: the day it fell, how long it lasts, how complete it is at first."""

    day: dt.date
    days: int
    depth: float  # 0..1: initial cover of open flat ground


@dataclass(frozen=True)
class Weather:
    """A site's snowfalls and rain days over the simulated period."""

    snowfalls: tuple[Snowfall, ...] = ()
    rain_days: tuple[dt.date, ...] = ()
    rain_darkening: float = 0.0

    def snowing(self, day: dt.date) -> bool:
        """Whether snow falls on ``day`` (an overcast day)."""
        return any(s.day == day for s in self.snowfalls)

    def snow_age(self, day: dt.date) -> tuple[float, float] | None:
        """``(strength, age share)`` of the snow cover on ``day`` (None without snow)."""
        best: tuple[float, float] | None = None
        for s in self.snowfalls:
            age = (day - s.day).days
            if 0 <= age < s.days:
                share = age / s.days
                strength = s.depth * (1 - share) ** 0.6
                if best is None or strength > best[0]:
                    best = (strength, share)
        return best

    def wetness(self, day: dt.date) -> float:
        """Soil wetness 0..1 on ``day`` (drying over about three days after rain)."""
        w = 0.0
        for r in self.rain_days:
            age = (day - r).days
            if 0 <= age < 15:
                w = max(w, math.exp(-age / 3.0))
        return w * self.rain_darkening


def plan_weather(
    rng: np.random.Generator,
    start: dt.date,
    end: dt.date,
    *,
    snowfalls_per_winter: float,
    snow_days: tuple[float, float],
    rain_darkening: float,
) -> Weather:
    """Draw snowfalls (Poisson per winter, December to February) and winter rain days."""
    falls: list[Snowfall] = []
    rains: list[dt.date] = []
    for year in range(start.year - 1, end.year + 1):
        winter0 = dt.date(year, 12, 1)
        if snowfalls_per_winter > 0:
            for _ in range(int(rng.poisson(snowfalls_per_winter))):
                day = winter0 + dt.timedelta(days=int(rng.integers(0, 90)))
                falls.append(Snowfall(day, int(rng.uniform(*snow_days)), float(rng.uniform(0.6, 1.0))))
        if rain_darkening > 0:
            # about four rainy days a month from November to March
            first = dt.date(year, 11, 1)
            for _ in range(int(rng.poisson(20))):
                rains.append(first + dt.timedelta(days=int(rng.integers(0, 150))))
    return Weather(tuple(sorted(falls, key=lambda s: s.day)), tuple(sorted(rains)), rain_darkening)


def snow_cover(
    strength: float,
    age_share: float,
    *,
    height: np.ndarray | None,
    sun_facing: np.ndarray | None,
    patches: np.ndarray,
    cleared: np.ndarray | None,
) -> np.ndarray:
    """Share of each pixel under snow, ``(H, W)`` float32.

    ``height`` (0..1 over the site) keeps snow on high ground; ``sun_facing`` (cos of the
    incidence, 0..1) melts it first on slopes facing the sun; ``patches`` (unit noise)
    makes the melt patchy; ``cleared`` (0..1) is ploughed ground.
    """
    level = strength * 1.25 + 0.18 * patches * (0.4 + age_share)
    if height is not None:
        level = level + 0.35 * (height - 0.5)
    if sun_facing is not None:
        level = level - 0.45 * age_share * (sun_facing - 0.5)
    cover = np.clip(level, 0.0, 1.0)
    if cleared is not None:
        cover = cover * (1 - 0.9 * cleared)
    return cover.astype(np.float32)
