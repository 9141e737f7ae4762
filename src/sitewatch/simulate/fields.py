"""Farmland: Voronoi fields, their crop calendars, ploughing and stubble burning.

Fields are winter crops (sown in autumn, green from late winter, harvested late May to
June), irrigated summer crops (sown in May, green July to September, harvested in
October) or fallow. In the original world the stubble left by a harvest fades back to
soil over 120 days. A managed world (``Farmland.management``) does what farmers do: the
stubble of some fields is burnt a few weeks after the harvest (dark char that fades over
weeks), and every cropped field is ploughed on its own date before sowing (darker, rougher
soil that pales again over a couple of months). Harvests, burning and ploughing change a
field's spectrum abruptly and lastingly within a short series: they are the distractors a
detector must not report, and the full truth marks them ``expected_alert: false``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from sitewatch.simulate.grid import Grid

__all__ = ["FieldPlan", "FieldState", "field_state", "plan_fields", "smooth_noise"]

#: How ploughed soil darkens (rough clods shade each other and hold moisture; SWIR most).
PLOUGH_DARKENING: tuple[float, ...] = (0.8, 0.8, 0.8, 0.79, 0.79, 0.75, 0.75)


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    """Gaussian-smoothed white noise, zero mean and unit spread (wrapping at the edges)."""
    from scipy import ndimage

    z = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma, mode="wrap")
    return (z - z.mean()) / (z.std() + 1e-9)


@dataclass
class FieldPlan:
    """One field's calendar (days of year) and soil brightness."""

    kind: str  # winter, summer, fallow
    soil_gain: float
    sow_doy: int
    green_days: int
    harvest_doy: int
    peak: float
    burn_after_days: int | None = None  # days after the harvest the stubble is burnt
    plough_after_days: int | None = None  # days after the harvest the field is ploughed


def plan_fields(
    rng: np.random.Generator, n_fields: int, crops: Sequence[str], soil_gain: tuple[float, float]
) -> list[FieldPlan]:
    """Draw each field's kind and calendar (in the original simulator's order of draws)."""
    out = []
    for _ in range(n_fields):
        kind = rng.choice(list(crops))
        out.append(
            FieldPlan(
                kind=str(kind),
                soil_gain=float(rng.uniform(*soil_gain)),
                sow_doy=int(rng.integers(300, 345)) if kind == "winter" else int(rng.integers(125, 150)),
                green_days=int(rng.integers(120, 150)),
                harvest_doy=int(rng.integers(140, 170)),
                peak=float(rng.uniform(0.55, 0.95)),
            )
        )
    return out


def add_management(rng: np.random.Generator, plans: Sequence[FieldPlan], *, burn_share: float) -> None:
    """Give cropped fields a ploughing date and some of them a stubble burning (in place)."""
    for f in plans:
        if f.kind == "fallow":
            continue
        if f.kind == "winter":
            to_sow = (f.sow_doy - f.harvest_doy) % 365
            if rng.random() < burn_share:
                f.burn_after_days = int(rng.integers(5, 40))
        else:
            to_sow = 365 - f.green_days  # the summer field is ploughed before next May's sowing
        lo = (f.burn_after_days or 0) + 20
        f.plough_after_days = int(rng.integers(min(lo, to_sow - 15), max(lo + 1, to_sow - 10)))


@dataclass(frozen=True)
class FieldState:
    """Shares of a field's ground on one day (green canopy, stubble, char) and its ploughing."""

    green: float
    stubble: float
    char: float = 0.0
    ploughed: float = 0.0


def _winter(f: FieldPlan, doy: int) -> tuple[float, float, int]:
    """Green canopy, stubble, days since harvest (or -1 before it) of a winter field."""
    since_sow = (doy - f.sow_doy) % 365
    to_harvest = (f.harvest_doy - f.sow_doy) % 365
    if since_sow >= to_harvest:
        return 0.0, 1.0, since_sow - to_harvest
    ramp = since_sow / max(1, to_harvest)
    green = f.peak * float(np.clip((ramp - 0.25) / 0.45, 0, 1))
    senesce = float(np.clip((ramp - 0.85) / 0.15, 0, 1))
    return green * (1 - 0.7 * senesce), 0.6 * senesce, -1


def field_state(f: FieldPlan, day: dt.date, *, managed: bool) -> FieldState:
    """What covers a field on ``day``.

    Unmanaged (the original world): stubble fades back to soil over 120 days after the
    harvest of a winter crop, over 90 days (from 0.8) after a summer crop.
    """
    if f.kind == "fallow":
        return FieldState(0.0, 0.0)
    doy = day.timetuple().tm_yday
    if f.kind == "winter":
        green, stubble, after = _winter(f, doy)
        if after < 0:
            return FieldState(green, stubble)
        if not managed:
            # after harvest: stubble, ploughed away by sowing time
            return FieldState(0.0, max(0.0, 1.0 - after / 120.0))
        return _managed_after_harvest(f, after, stubble_start=1.0)
    # irrigated summer crop: sown May, green Jul-Sep, harvested October
    since_sow = (doy - f.sow_doy) % 365
    if since_sow > f.green_days:
        after = since_sow - f.green_days
        if not managed:
            return FieldState(0.0, max(0.0, 0.8 - after / 90.0))
        return _managed_after_harvest(f, after, stubble_start=0.8)
    ramp = since_sow / f.green_days
    return FieldState(f.peak * float(np.sin(math.pi * min(ramp, 1.0)) ** 0.7), 0.0)


def _managed_after_harvest(f: FieldPlan, after: float, *, stubble_start: float) -> FieldState:
    # grazing thins the stubble slowly; burning replaces it by char that the wind and the
    # first rains carry off over weeks; ploughing turns everything under
    plough = f.plough_after_days
    if plough is not None and after >= plough:
        since = after - plough
        return FieldState(0.0, 0.0, 0.0, 0.35 + 0.65 * math.exp(-since / 45.0))
    burn = f.burn_after_days
    if burn is not None and after >= burn:
        return FieldState(0.0, 0.0, 0.85 * math.exp(-(after - burn) / 50.0))
    return FieldState(0.0, stubble_start * max(0.25, 1.0 - after / 240.0))


def field_outlines(grid: Grid, seeds: np.ndarray) -> list[Any]:
    """Each field's Voronoi cell (in field order), clipped to the site, in local metres."""
    half = grid.extent_m / 2
    box = shapely.box(-half * 1.2, -half * 1.2, half * 1.2, half * 1.2)
    cells = list(shapely.voronoi_polygons(shapely.MultiPoint(seeds), extend_to=box).geoms)
    site = shapely.box(
        grid.xs[0] - grid.res / 2,
        grid.ys[-1] - grid.res / 2,
        grid.xs[-1] + grid.res / 2,
        grid.ys[0] + grid.res / 2,
    )
    out: list[Any] = [shapely.Polygon()] * len(seeds)
    tree = shapely.STRtree(cells)
    for i, (x, y) in enumerate(seeds):
        for j in tree.query(shapely.Point(x, y), predicate="within"):
            out[i] = cells[int(j)].intersection(site)
    return out


def fields_truth(
    grid: Grid,
    plans: Sequence[FieldPlan],
    field_id: np.ndarray,
    years: Sequence[int],
    *,
    outlines: Sequence[Any] | None = None,
    to_wgs84: Any = None,
) -> list[dict[str, Any]]:
    """Truth features of the fields' calendar events (never expected as alerts).

    With ``outlines`` each feature carries its field's polygon and the ploughing and
    burning dates are listed too; without, the original centroid points.
    """
    out = []
    g = grid
    to_geo = to_wgs84 or g.to_wgs84
    for i, f in enumerate(plans):
        if f.kind == "fallow":
            continue
        mask = field_id == i
        if mask.sum() < 4:
            continue
        area = float(mask.sum() * g.res**2)
        if outlines is None:
            rows, cols = np.nonzero(mask)
            geom = mapping(to_geo(shapely.Point(float(g.xs[cols].mean()), float(g.ys[rows].mean()))))
        else:
            geom = mapping(to_geo(outlines[i]))
        for y in years:
            for what, day in _calendar(f, y, full=outlines is not None):
                out.append(
                    {
                        "type": "Feature",
                        "geometry": geom,
                        "properties": {
                            "name": f"field-{i}-{what}-{y}",
                            "change_type": f"field_{what}",
                            "detail": f.kind,
                            "date": day.isoformat(),
                            "expected_alert": False,
                            "area_m2": area,
                            "simulated": True,
                        },
                    }
                )
    return out


def _calendar(f: FieldPlan, year: int, *, full: bool) -> list[tuple[str, dt.date]]:
    jan1 = dt.date(year, 1, 1)
    if f.kind == "winter":
        harvest = jan1 + dt.timedelta(days=f.harvest_doy - 1)
        green_from = harvest - dt.timedelta(days=int(0.75 * ((f.harvest_doy - f.sow_doy) % 365)))
    else:
        green_from = jan1 + dt.timedelta(days=f.sow_doy - 1 + 10)
        harvest = jan1 + dt.timedelta(days=f.sow_doy - 1 + f.green_days)
    events = [("greening", green_from), ("harvest", harvest)]
    if full:
        if f.burn_after_days is not None:
            events.append(("burning", harvest + dt.timedelta(days=f.burn_after_days)))
        if f.plough_after_days is not None:
            events.append(("ploughing", harvest + dt.timedelta(days=f.plough_after_days)))
    return events
