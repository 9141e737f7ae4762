"""Random worlds: every part of a site drawn from a seed within realistic ranges.

:func:`random_world` draws a region (its latitude sets the sun and the snow; its soils,
crops, terrain and weather follow), the site's own copy of every material (brightness and
slope jittered, so no two worlds share exact spectra), a base laid out at any orientation
(runway 20-60 m wide, asphalt or concrete, fresh or aged; a compound of tents, containers,
roofs and vehicles in varying mixes), groves, and the product the scenes come as (full or
partial bands, with or without SCL, with or without the +1000 offset, UTM or another
projected CRS). :func:`random_scenario` adds a scan window of 12 to 24 months and events
placed in that layout, abrupt or gradual. A detector tuned on one seed has to hold on the
next: that is the point.

Examples
--------
>>> w = random_world(3, size_px=96)
>>> w.truth_detail, w.name
('full', 'random-3')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import shapely
import shapely.affinity

from sitewatch.simulate.grid import Grid, grid_frame
from sitewatch.simulate.materials import LIBRARY, SOILS, Material, mix
from sitewatch.simulate.world import (
    Base,
    Climate,
    Compound,
    Farmland,
    Grove,
    Product,
    ProductStyle,
    Runway,
    Terrain,
    World,
    compound_outline,
)

__all__ = ["REGIONS", "Region", "draw_world", "free_rect", "random_world"]


@dataclass(frozen=True)
class Region:
    """A kind of place: where it is, its soils, crops, hills and weather (ranges to draw from)."""

    name: str
    lat: tuple[float, float]
    lon: tuple[float, float]
    soils: tuple[str, ...]
    crops: tuple[str, ...]
    relief_m: tuple[float, float]
    hilly_share: float
    snowfalls: tuple[float, float]
    snow_days: tuple[float, float]
    cloudiness: tuple[float, float]
    groves: tuple[str, ...]


#: Regions a random world is drawn from (with equal chance).
REGIONS: tuple[Region, ...] = (
    Region(
        name="jazira-steppe",
        lat=(34.5, 37.3),
        lon=(38.5, 42.5),
        soils=("red_mediterranean", "brown_steppe", "yellow_gypsic"),
        crops=("winter", "winter", "winter", "summer", "fallow", "fallow"),
        relief_m=(0, 40),
        hilly_share=0.2,
        snowfalls=(0.0, 0.6),
        snow_days=(1, 5),
        cloudiness=(0.8, 1.1),
        groves=("olive", "orchard"),
    ),
    Region(
        name="levant-hills",
        lat=(32.3, 36.5),
        lon=(35.4, 37.0),
        soils=("red_mediterranean", "pale_calcareous", "dark_basalt"),
        crops=("winter", "winter", "summer", "fallow"),
        relief_m=(60, 260),
        hilly_share=0.7,
        snowfalls=(0.2, 1.0),
        snow_days=(2, 8),
        cloudiness=(0.9, 1.2),
        groves=("olive", "olive", "orchard", "pine"),
    ),
    Region(
        name="anatolian-plateau",
        lat=(37.0, 39.5),
        lon=(38.0, 44.5),
        soils=("brown_steppe", "grey_alluvial", "red_mediterranean"),
        crops=("winter", "winter", "winter", "fallow", "fallow"),
        relief_m=(40, 220),
        hilly_share=0.6,
        snowfalls=(1.5, 3.0),
        snow_days=(7, 35),
        cloudiness=(1.0, 1.3),
        groves=("orchard", "pine"),
    ),
    Region(
        name="mesopotamian-plain",
        lat=(31.0, 34.8),
        lon=(42.5, 46.0),
        soils=("grey_alluvial", "yellow_gypsic"),
        crops=("winter", "winter", "summer", "summer", "fallow"),
        relief_m=(0, 15),
        hilly_share=0.0,
        snowfalls=(0.0, 0.0),
        snow_days=(1, 2),
        cloudiness=(0.6, 0.9),
        groves=("orchard",),
    ),
    Region(
        name="libyan-coast",
        lat=(30.5, 32.8),
        lon=(12.0, 21.5),
        soils=("pale_calcareous", "yellow_gypsic", "red_mediterranean"),
        crops=("winter", "winter", "fallow", "fallow", "fallow"),
        relief_m=(0, 60),
        hilly_share=0.2,
        snowfalls=(0.0, 0.0),
        snow_days=(1, 2),
        cloudiness=(0.5, 0.8),
        groves=("olive", "olive"),
    ),
    Region(
        name="pontic-steppe",
        lat=(46.0, 49.0),
        lon=(31.0, 38.0),
        soils=("dark_basalt", "brown_steppe"),
        crops=("winter", "winter", "summer", "fallow"),
        relief_m=(0, 50),
        hilly_share=0.2,
        snowfalls=(2.0, 4.0),
        snow_days=(10, 50),
        cloudiness=(1.2, 1.4),
        groves=("orchard", "pine"),
    ),
)

_SURFACES = (
    "asphalt_aged",
    "asphalt_aged",
    "asphalt",
    "asphalt_fresh",
    "concrete_aged",
    "concrete_aged",
    "concrete_fresh",
)
_STRUCTURES = ("tent_white", "tent_khaki", "container", "vehicle_tan", "roof_bright", "roof_dark")
_BAND_SETS: tuple[tuple[tuple[str, ...], float], ...] = (
    (("B02", "B03", "B04", "B08", "B8A", "B11", "B12"), 0.5),
    (("B02", "B03", "B04", "B08", "B8A", "B11"), 0.14),  # no B12
    (("B02", "B03", "B04", "B08", "B8A", "B12"), 0.08),  # no B11
    (("B02", "B03", "B04", "B8A", "B11", "B12"), 0.1),  # B8A without B08
    (("B02", "B03", "B04", "B08", "B11", "B12"), 0.18),  # the usual 6-band export
)
_STYLES: tuple[tuple[ProductStyle, float], ...] = (
    ("esa", 0.4),
    ("esa_reprocessed", 0.1),
    ("harmonized", 0.3),
    ("tagged", 0.15),
    ("legacy", 0.05),
)


def _pick(rng: np.random.Generator, options: Sequence[tuple[Any, float]]) -> Any:
    weights = np.asarray([w for _, w in options], float)
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


def _jitter(rng: np.random.Generator, m: Material, *, strength: float = 1.0) -> Material:
    """A material's own copy for one world: brighter or darker, its spectrum tilted a little."""
    gain = float(rng.uniform(1 - 0.1 * strength, 1 + 0.1 * strength))
    tilt = float(rng.uniform(-0.06, 0.06) * strength)
    n = len(m.reflectance)
    values = tuple(
        round(max(50.0, v * gain * (1 + tilt * (i - (n - 1) / 2) / ((n - 1) / 2))), 1)
        for i, v in enumerate(m.reflectance)
    )
    return replace(m, reflectance=values)


def _materials(rng: np.random.Generator, soil_kind: str, secondary: str | None) -> dict[str, Material]:
    mats = {name: _jitter(rng, m) for name, m in LIBRARY.items()}
    soil = _jitter(rng, SOILS[soil_kind], strength=1.3)
    mats["soil"] = soil
    if secondary is not None:
        mats["soil_secondary"] = _jitter(rng, SOILS[secondary], strength=1.3)
    # what the local ground gives: straw over this soil, levelled subsoil, crushed local rock
    mats["stubble"] = replace(
        soil, name="stubble", reflectance=mix(soil.reflectance, mats["straw"].reflectance, 0.55)
    )
    brighter = tuple(v * 1.2 for v in soil.reflectance)
    mats["earthworks"] = replace(
        soil,
        name="earthworks",
        reflectance=mix(brighter, mats["pale_subsoil"].reflectance, float(rng.uniform(0.3, 0.6))),
    )
    mats["gravel"] = replace(
        mats["gravel"],
        reflectance=mix(mats["crushed_rock"].reflectance, soil.reflectance, float(rng.uniform(0.2, 0.5))),
    )
    return mats


@dataclass(frozen=True)
class _Frame:
    """The usable square of a site in ground metres, and its CRS."""

    crs: str
    center: tuple[float, float]
    half_m: float  # everything is laid out within [-half_m, half_m]^2


def _frame(rng: np.random.Generator, region: Region, size_px: int, resolution_m: float) -> _Frame:
    lat = float(rng.uniform(*region.lat))
    lon = float(rng.uniform(*region.lon))
    u = rng.random()
    if u < 0.7:
        crs = "utm"
        k, north = 1.0, 0.0
    else:
        # Earth Engine exports come in Web Mercator; national grids are often Lambert conformal
        lon_0 = lon + float(rng.uniform(-3, 3))
        crs = (
            "EPSG:3857"
            if u < 0.85
            else f"+proj=lcc +lat_0={lat:.0f} +lon_0={lon_0:.2f} +lat_1={lat - 2:.0f} +lat_2={lat + 2:.0f} "
            "+x_0=500000 +y_0=300000 +datum=WGS84 +units=m +no_defs"
        )
        k, north = grid_frame(crs, lon, lat)
    t = math.radians(north)
    half = 0.46 * size_px * resolution_m * k / (abs(math.cos(t)) + abs(math.sin(t)))
    return _Frame(crs, (lon, lat), half - 30.0)


def _inside(poly: Any, half: float) -> bool:
    return bool(shapely.box(-half, -half, half, half).contains(poly))


def _lay_base(
    rng: np.random.Generator, frame: _Frame, mats: dict[str, Material]
) -> tuple[Base | None, list[Any]]:
    """A runway with room to grow at both ends, and a compound beside it (or no base)."""
    grid = Grid(8, 10.0, (0.0, 0.0), "EPSG:3857")  # only for its rectangles
    half = frame.half_m
    if rng.random() < 0.12:
        return None, []
    for _ in range(200):
        length = float(rng.uniform(0.45, 0.75) * 2 * half)
        width = float(rng.uniform(20, 60))
        orient = float(rng.uniform(0, 360))
        room = float(min(450.0, 0.35 * length))
        centre = (float(rng.uniform(-0.4, 0.4) * half), float(rng.uniform(-0.4, 0.4) * half))
        reach = grid.rect(centre, length + 2 * room, width, orient)
        if _inside(reach, half):
            break
    else:
        return None, []
    surface = str(rng.choice(_SURFACES))
    runway = Runway(centre, length, width, orient, surface)
    busy = [reach.buffer(60.0)]
    compound = _lay_compound(rng, grid, runway, half, busy)
    if compound is not None:
        busy.append(compound_outline(compound).buffer(60.0))
    return Base(runway, compound), busy


def _lay_compound(
    rng: np.random.Generator, grid: Grid, runway: Runway, half: float, busy: list[Any]
) -> Compound | None:
    if rng.random() < 0.15 or half < 300:
        return None
    t = math.radians(runway.orientation_deg)
    across = (math.cos(t), -math.sin(t))
    for _ in range(200):
        w = float(rng.uniform(150, min(420, 0.55 * half)))
        h = float(rng.uniform(110, min(320, 0.45 * half)))
        side = 1 if rng.random() < 0.5 else -1
        off = side * float(rng.uniform(runway.width_m / 2 + h / 2 + 60, runway.width_m / 2 + h / 2 + 300))
        along = float(rng.uniform(-0.35, 0.35) * runway.length_m)
        c = (
            runway.center_m[0] + across[0] * off + math.sin(t) * along,
            runway.center_m[1] + across[1] * off + math.cos(t) * along,
        )
        orient = (
            runway.orientation_deg + (0.0 if rng.random() < 0.6 else float(rng.uniform(-30, 30)))
        ) % 90.0
        poly = compound_outline(Compound(c, w, h, orient))
        if _inside(poly.buffer(20), half) and not any(poly.intersects(b) for b in busy):
            break
    else:
        return None
    kinds = list(rng.choice(_STRUCTURES, size=int(rng.integers(2, 5)), replace=False))
    shares = rng.dirichlet(np.ones(len(kinds)))
    small = rng.random() < 0.4  # tents and containers, smaller and denser than hangars and barracks
    size = ((10.0, 24.0), (7.0, 14.0)) if small else ((20.0, 48.0), (12.0, 26.0))
    return Compound(
        c,
        w,
        h,
        orient,
        yard="gravel",
        structures=tuple((str(k), float(s)) for k, s in zip(kinds, shares, strict=True)),
        structure_size_m=size,
        gap_m=(4.0, 9.0) if small else (8.0, 16.0),
        row_extra_m=float(rng.uniform(2, 12)),
    )


def free_rect(
    rng: np.random.Generator,
    busy: list[Any],
    half: float,
    *,
    length: tuple[float, float],
    width: tuple[float, float],
) -> tuple[tuple[float, float], float, float, float] | None:
    """A rectangle of the given size ranges clear of ``busy`` (which it joins), or None.

    Returns ``(centre, length, width, orientation)``, within ``[-half, half]`` square metres.
    """
    grid = Grid(8, 10.0, (0.0, 0.0), "EPSG:3857")
    for _ in range(300):
        lng = float(rng.uniform(*length))
        wid = float(rng.uniform(width[0], min(width[1], lng)))
        c = (float(rng.uniform(-half, half)), float(rng.uniform(-half, half)))
        orient = float(rng.uniform(0, 180))
        poly = grid.rect(c, lng, wid, orient)
        if _inside(poly, half) and not any(poly.buffer(50.0).intersects(b) for b in busy):
            busy.append(poly.buffer(10.0))
            return c, lng, wid, orient
    return None


def random_world(seed: int, *, size_px: int = 160, resolution_m: float = 10.0) -> World:
    """A world drawn from ``seed`` (the same seed, the same world).

    Parameters
    ----------
    seed : int
    size_px : int
        Width of the site in pixels (the layout fits it).
    resolution_m : float
        Pixel size in CRS units.

    Returns
    -------
    World
        With ``truth_detail="full"``.
    """
    return draw_world(seed, size_px, resolution_m)[0]


def _sensing_utc(lon: float, rng: np.random.Generator) -> str:
    """10:30 local solar time in UTC, give or take the few minutes along the swath."""
    seconds = int((10.5 - lon / 15.0) * 3600 + rng.uniform(-600, 600)) % 86400
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def draw_world(seed: int, size_px: int, resolution_m: float) -> tuple[World, Region, _Frame, list[Any]]:
    """The world of ``seed``, its region, its usable frame and the shapes already laid out.

    Each aspect draws from its own stream, so a world's product, weather or spectra do not
    change when the site's size changes its layout.
    """
    place, spectra, layout, land, sensor = (np.random.default_rng([seed, 1, k]) for k in range(5))
    region = REGIONS[int(place.integers(len(REGIONS)))]
    frame = _frame(place, region, size_px, resolution_m)
    soil_kind = str(spectra.choice(region.soils))
    secondary = None
    if spectra.random() < 0.4:
        secondary = str(spectra.choice([s for s in SOILS if s != soil_kind]))
    mats = _materials(spectra, soil_kind, secondary)
    base, busy = _lay_base(layout, frame, mats)
    groves = []
    for i in range(int(layout.integers(0, 3))):
        spot = free_rect(layout, busy, frame.half_m, length=(80, 260), width=(60, 180))
        if spot is not None:
            c, lng, wid, orient = spot
            kind = str(layout.choice(region.groves))
            canopy = float(layout.uniform(0.6, 0.85) if kind == "pine" else layout.uniform(0.3, 0.6))
            groves.append(Grove(f"grove-{i}", c, lng, wid, orient, kind, canopy))  # type: ignore[arg-type]
    hilly = land.random() < region.hilly_share
    relief = (
        float(land.uniform(*region.relief_m))
        if hilly
        else float(land.uniform(0, min(15.0, region.relief_m[1])))
    )
    world = World(
        materials=mats,
        soil_kind=soil_kind,
        farmland=Farmland(
            field_size_m=float(land.uniform(200, 450)),
            crops=region.crops,
            soil_gain=(float(land.uniform(0.8, 0.92)), float(land.uniform(1.06, 1.2))),
            texture=(float(land.uniform(0.03, 0.08)), float(land.uniform(0.02, 0.05))),
            secondary_soil="soil_secondary" if secondary else None,
            secondary_share=float(land.uniform(0.1, 0.4)) if secondary else 0.0,
            management=True,
            burn_share=float(land.uniform(0.0, 0.35)),
            roads=int(land.integers(1, 4)),
            road_materials=("asphalt_aged", "gravel", "gravel"),
        ),
        base=base,
        groves=tuple(groves),
        terrain=Terrain(
            relief_m=relief,
            wavelength_m=float(land.uniform(400, 1500)),
            correction=float(land.uniform(0.3, 0.9)),
        ),
        climate=Climate(
            snowfalls_per_winter=float(land.uniform(*region.snowfalls)),
            snow_days=(float(region.snow_days[0]), float(land.uniform(*region.snow_days))),
            rain_darkening=float(land.uniform(0.0, 0.25)),
            haze=float(land.uniform(0.6, 1.6)),
            sun_shadows=True,
        ),
        product=Product(
            bands=_pick(sensor, _BAND_SETS),
            scl=bool(sensor.random() < 0.7),
            style=_pick(sensor, _STYLES),
            crs=frame.crs,
            bright_as_cloud=float(sensor.uniform(0.05, 0.3)) if sensor.random() < 0.4 else 0.0,
            sensing_utc=_sensing_utc(frame.center[0], sensor),
        ),
        truth_detail="full",
        name=f"random-{seed}",
    )
    return world, region, frame, busy
