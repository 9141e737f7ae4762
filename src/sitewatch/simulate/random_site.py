"""Random scenarios: a random world, a scan window of 12 to 24 months and events placed in it.

Events are what the detector must find, drawn in the world's own layout:

- pads (1-3): compact or strip-like (20-60 m wide), at any orientation, fresh concrete,
  gravel or fresh asphalt, at once, after weeks of earthworks, or laid in stages over
  weeks to four months;
- a runway extension (150-450 m, at either end, fresh surface of the runway's kind that
  weathers towards it), at once or in stages;
- an evacuation of the compound, abrupt (days) or gradual (3 weeks to 4 months), leaving
  the yard or the slabs;
- a vegetation loss (a grove or orchard felled, at once or over weeks);
- earthworks that lead to nothing.

Onsets fall at least two months into the window and completions a month before its end,
so a short window often has no same-season reference a year before an event.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from sitewatch.simulate.events import Earthworks, Evacuation, Pad, RunwayExtension, VegetationLoss
from sitewatch.simulate.random_world import Region, draw_world, free_rect
from sitewatch.simulate.world import World
from sitewatch.simulate.write import SimulatedSite, simulate_site

__all__ = ["Scenario", "random_scenario", "simulate_random_site"]

_FIRST_DAY, _LAST_START = dt.date(2019, 1, 1), dt.date(2024, 6, 30)


@dataclass(frozen=True)
class Scenario:
    """Everything :func:`simulate_site` needs for one random site.

    Attributes
    ----------
    seed : int
    world : World
    region : str
    events : tuple
    start, end : datetime.date
    center : tuple of float
    size_px : int
    resolution_m : float
    revisit_days : int
    cloudiness : float
    misregistration_px : float
    name : str
    """

    seed: int
    world: World
    region: str
    events: tuple[Any, ...]
    start: dt.date
    end: dt.date
    center: tuple[float, float]
    size_px: int
    resolution_m: float
    revisit_days: int
    cloudiness: float
    misregistration_px: float
    name: str

    @property
    def months(self) -> int:
        """Length of the scan window in whole months."""
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month

    def simulate(self, directory: str | os.PathLike[str], *, sar: bool = False) -> SimulatedSite:
        """Write the site (see :func:`~sitewatch.simulate.simulate_site`; ``sar``: radar scenes too)."""
        return simulate_site(
            directory,
            start=self.start,
            end=self.end,
            events=self.events,
            center=self.center,
            size_px=self.size_px,
            resolution_m=self.resolution_m,
            base=self.world.base is not None,
            revisit_days=self.revisit_days,
            cloudiness=self.cloudiness,
            misregistration_px=self.misregistration_px,
            seed=self.seed,
            name=self.name,
            world=self.world,
            sar=sar,
        )


def random_scenario(seed: int, *, size_px: int = 160, resolution_m: float = 10.0) -> Scenario:
    """A random world, window and events, all drawn from ``seed``.

    Parameters
    ----------
    seed : int
    size_px : int
        Width of the site in pixels (160 px: 1.6 km at 10 m).
    resolution_m : float

    Returns
    -------
    Scenario
    """
    world, region, frame, busy = draw_world(seed, size_px, resolution_m)
    rng = np.random.default_rng([seed, 2])
    first = _FIRST_DAY + dt.timedelta(days=int(rng.integers(0, (_LAST_START - _FIRST_DAY).days)))
    months = int(rng.integers(12, 25))
    year, month = divmod(first.month - 1 + months, 12)
    end = dt.date(first.year + year, month + 1, min(first.day, 28))
    events = _draw_events(rng, world, region, busy, frame.half_m, first, end)
    return Scenario(
        seed=seed,
        world=world,
        region=region.name,
        events=tuple(events),
        start=first,
        end=end,
        center=frame.center,
        size_px=size_px,
        resolution_m=resolution_m,
        revisit_days=5 if rng.random() < 0.7 else 10,
        cloudiness=float(rng.uniform(*region.cloudiness)),
        misregistration_px=float(rng.uniform(0.15, 0.45)),
        name=f"random-{seed:03d}",
    )


def simulate_random_site(
    directory: str | os.PathLike[str],
    seed: int,
    *,
    size_px: int = 160,
    resolution_m: float = 10.0,
    sar: bool = False,
) -> SimulatedSite:
    """Draw :func:`random_scenario` from ``seed`` and write it.

    Examples
    --------
    >>> site = simulate_random_site("sim-random/", 7, size_px=120)  # doctest: +SKIP
    >>> site.truth["sitewatch_simulation"]["truth_detail"]  # doctest: +SKIP
    'full'
    """
    return random_scenario(seed, size_px=size_px, resolution_m=resolution_m).simulate(directory, sar=sar)


def _draw_events(
    rng: np.random.Generator,
    world: World,
    region: Region,
    busy: list[Any],
    half: float,
    start: dt.date,
    end: dt.date,
) -> list[Any]:
    def onset(span_days: int = 0) -> dt.date:
        lo = start + dt.timedelta(days=60)
        hi = end - dt.timedelta(days=30 + span_days)
        days = max(0, (hi - lo).days)
        return lo + dt.timedelta(days=int(rng.integers(0, days + 1)))

    def gradual(lo: int, hi: int, share: float) -> int:
        return int(rng.integers(lo, hi + 1)) if rng.random() < share else 0

    events: list[Any] = []
    for i in range(int(rng.integers(1, 4))):
        strip = rng.random() < 0.25
        spot = free_rect(
            rng, busy, half, length=(100, 300) if strip else (40, 250), width=(20, 60) if strip else (30, 140)
        )
        if spot is None:
            continue
        c, length, width, orient = spot
        build = gradual(20, 120, 0.3)
        material = str(
            rng.choice(["concrete_fresh", "concrete_fresh", "concrete", "gravel", "asphalt_fresh"])
        )
        events.append(
            Pad(
                f"pad-{i}",
                c,
                round(length, 1),
                round(width, 1),
                round(orient, 1),
                onset(build),
                earthworks_days=gradual(10, 60, 0.4),
                material=material,
                build_days=build,
                stages=int(rng.integers(2, 6)),
            )
        )
    base = world.base
    if base is not None and rng.random() < 0.65:
        rw = base.runway
        room = min(450.0, 0.35 * rw.length_m)
        build = gradual(20, 90, 0.3)
        events.append(
            RunwayExtension(
                "runway-ext",
                round(float(rng.uniform(min(150.0, room), room)), 1),
                onset(build),
                earthworks_days=gradual(10, 40, 0.4),
                end="far" if rng.random() < 0.5 else "near",
                material="concrete_fresh" if rw.surface.startswith("concrete") else "asphalt_fresh",
                build_days=build,
                stages=int(rng.integers(2, 5)),
            )
        )
    if base is not None and base.compound is not None and rng.random() < 0.6:
        span = int(rng.integers(20, 121)) if rng.random() < 0.6 else int(rng.integers(2, 11))
        first = onset(span)
        events.append(
            Evacuation(
                "evacuation",
                first,
                first + dt.timedelta(days=span),
                fraction=round(float(rng.uniform(0.5, 1.0)), 2),
                remains="slab" if rng.random() < 0.3 else "yard",
            )
        )
    if rng.random() < 0.45:
        spot = free_rect(rng, busy, half, length=(80, 300), width=(60, 200))
        if spot is not None:
            c, length, width, orient = spot
            kind = str(rng.choice(region.groves))
            clear = gradual(10, 60, 0.5)
            canopy = float(rng.uniform(0.6, 0.85) if kind == "pine" else rng.uniform(0.3, 0.6))
            events.append(
                VegetationLoss(
                    "vegetation-loss",
                    c,
                    round(length, 1),
                    round(width, 1),
                    round(orient, 1),
                    onset(clear),
                    clear_days=clear,
                    kind=kind,  # type: ignore[arg-type]
                    canopy=round(canopy, 2),
                )
            )
    if rng.random() < 0.25:
        spot = free_rect(rng, busy, half, length=(60, 200), width=(40, 120))
        if spot is not None:
            c, length, width, orient = spot
            events.append(
                Earthworks("earthworks", c, round(length, 1), round(width, 1), round(orient, 1), onset())
            )
    return events
