"""The original world's scripted scenarios: the demo's Qasrak events and the benchmark's random mixes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import shapely

from sitewatch.simulate.events import Earthworks, Evacuation, Pad, RunwayExtension
from sitewatch.simulate.grid import Grid
from sitewatch.types import as_date

__all__ = ["demo_events", "random_events"]


def demo_events(size_m: float = 3000.0) -> list[Any]:
    """The reported Qasrak events, as simulator events (the demo's scenario).

    Two pads in the eastern sector first seen in early 2025 (about 193 m x 94 m and
    84 m x 60 m, the larger after a few weeks of levelling), earthworks of the expansion
    from July 2025, a 300 m runway extension in August 2025, and the compound evacuated in
    autumn 2025 (as at the sites US forces left in 2025).

    Parameters
    ----------
    size_m : float
        Width of the simulated square; positions scale with it (3000 m is the reference).

    Returns
    -------
    list
    """
    k = size_m / 3000.0
    return [
        Pad("pad-193x94", (950.0 * k, 500.0 * k), 193.0, 94.0, 75.0, "2025-02-12", earthworks_days=35),
        Pad("pad-84x60", (1000.0 * k, -250.0 * k), 84.0, 60.0, 165.0, "2025-03-20"),
        Earthworks("expansion-jul-2025", (450.0 * k, 900.0 * k), 260.0, 140.0, 20.0, "2025-07-15"),
        RunwayExtension("runway-extension-300m", 300.0, "2025-08-20"),
        Evacuation("compound-evacuation", "2025-09-10", "2025-10-25", fraction=0.85),
    ]


def random_events(
    seed: int, *, start: str | dt.date, end: str | dt.date, size_px: int, resolution_m: float = 10.0
) -> list[Any]:
    """A random but plausible mix of events for a site of the original world (for benchmarks).

    The positions avoid the original layout's base; for random worlds use
    :func:`~sitewatch.simulate.random_scenario`, which places events in its own layout.

    Parameters
    ----------
    seed : int
    start, end : str or datetime.date
        The simulated period; events fall in its second half, after a year of history when there is one.
    size_px : int
    resolution_m : float

    Returns
    -------
    list
    """
    rng = np.random.default_rng(seed + 10_000)
    d0, d1 = as_date(start), as_date(end)
    span = (d1 - d0).days
    lo = d0 + dt.timedelta(days=min(365, span // 2))

    def day() -> dt.date:
        return lo + dt.timedelta(days=int(rng.integers(0, max(1, (d1 - lo).days - 60))))

    extent = size_px * resolution_m
    events: list[Any] = []
    # keep pads clear of the base (runway, its possible extension, the compound) and of each other
    grid = Grid(size_px, resolution_m, (0.0, 0.0), "EPSG:3857")
    rw_len = min(1700.0, extent * 0.7)
    c = (-0.12 * extent, -0.12 * extent)
    busy = [
        grid.rect(c, rw_len + 2 * 450.0, 45.0, 60.0).buffer(80.0),
        shapely.box(
            c[0] + 0.05 * extent - 0.15 * extent,
            c[1] - 0.22 * extent - 0.11 * extent,
            c[0] + 0.05 * extent + 0.15 * extent,
            c[1] - 0.22 * extent + 0.11 * extent,
        ).buffer(60.0),
    ]
    for i in range(int(rng.integers(1, 4))):
        for _ in range(100):
            length = float(rng.uniform(50, 220))
            width = float(rng.uniform(40, min(length, 120)))
            centre = (float(rng.uniform(-0.4, 0.4)) * extent, float(rng.uniform(-0.4, 0.4)) * extent)
            orient = float(rng.uniform(0, 180))
            poly = grid.rect(centre, length, width, orient)
            if not any(poly.buffer(60.0).intersects(b) for b in busy):
                break
        busy.append(poly)
        events.append(
            Pad(f"pad-{i}", centre, length, width, orient, day(), earthworks_days=int(rng.choice([0, 0, 30])))
        )
    if rng.random() < 0.7:
        events.append(RunwayExtension("runway-ext", float(rng.uniform(200, 400)), day()))
    if rng.random() < 0.7:
        s = day()
        events.append(
            Evacuation(
                "evacuation",
                s,
                s + dt.timedelta(days=int(rng.integers(20, 60))),
                fraction=float(rng.uniform(0.6, 1.0)),
            )
        )
    return events
