"""Writing a simulated site: scenes in the local format, ``truth.geojson`` and ``aoi.geojson``.

It is a test instrument and says so in every output: scene files carry the tag
``SIMULATED=true`` and ``SIM`` in their names, ``truth.geojson`` and ``aoi.geojson``
carry ``"simulated": true``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from shapely.geometry import mapping

from sitewatch.errors import ConfigError
from sitewatch.fileio import atomic_write_text
from sitewatch.simulate.events import event_record
from sitewatch.simulate.grid import Grid, grid_frame
from sitewatch.simulate.materials import BANDS
from sitewatch.simulate.products import product_name
from sitewatch.simulate.radar import write_radar_scenes
from sitewatch.simulate.sensor import Extras, Observation, acquisition_dates, cloud_cover, degrade
from sitewatch.simulate.site import Site
from sitewatch.simulate.surface import surface_reflectance
from sitewatch.simulate.terrain import sun_at_overpass
from sitewatch.simulate.world import Climate, World, legacy_base
from sitewatch.types import AOI, WGS84, Scene, as_date, utm_crs_for

__all__ = ["SimulatedSite", "simulate_site", "site_grid"]

STREAM_SCENE = 21
#: A footprint is clear on a date when at least this share of it is clearly seen.
CLEAR_SHARE = 0.5


@dataclass(frozen=True)
class SimulatedSite:
    """What :func:`simulate_site` wrote.

    Attributes
    ----------
    directory : pathlib.Path
        The output folder.
    scenes_dir : pathlib.Path
        Scenes in the local format (``--source local:<scenes_dir>``).
    truth_path : pathlib.Path
        ``truth.geojson``: scripted events and field phenology with dates.
    aoi_path : pathlib.Path
        ``aoi.geojson``: the simulated area as an AOI file.
    aoi : AOI
    dates : tuple of datetime.date
        Acquisition dates written.
    events : tuple
        The scripted events.
    seed : int
    truth : dict
        The truth document as written.
    world : World or None
        The world simulated (None: the original one).
    radar_dir : pathlib.Path or None
        Sentinel-1 scenes of the same site (``--sar local:<radar_dir>``), with ``sar=True``.
    """

    directory: Path
    scenes_dir: Path
    truth_path: Path
    aoi_path: Path
    aoi: AOI
    dates: tuple[dt.date, ...]
    events: tuple[Any, ...]
    seed: int
    truth: dict[str, Any] = field(compare=False, repr=False, default_factory=dict)
    world: World | None = field(compare=False, repr=False, default=None)
    radar_dir: Path | None = None


def _default_aoi(center: tuple[float, float], extent_m: float, name: str) -> AOI:
    lon, lat = center
    crs = utm_crs_for(lon, lat)
    fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    inv = pyproj.Transformer.from_crs(crs, WGS84, always_xy=True)
    x, y = fwd.transform(lon, lat)
    square = shapely.box(x - extent_m / 2, y - extent_m / 2, x + extent_m / 2, y + extent_m / 2)
    geom = shapely.transform(
        shapely.segmentize(square, extent_m / 8),
        lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])),
    )
    return _aoi(geom, center, name)


def _grid_aoi(grid: Grid, center: tuple[float, float], name: str) -> AOI:
    """A north-up square well inside a grid whose axes may not point north."""
    t = math.radians(grid.north_deg)
    half = 0.48 * grid.extent_m / (abs(math.cos(t)) + abs(math.sin(t)))
    # around the grid's middle (snapped to whole pixels), not the requested centre
    mid = grid.from_grid(shapely.Point((grid.xs[0] + grid.xs[-1]) / 2, (grid.ys[0] + grid.ys[-1]) / 2))
    square = shapely.box(mid.x - half, mid.y - half, mid.x + half, mid.y + half)
    return _aoi(grid.to_wgs84(shapely.segmentize(square, half / 4)), center, name)


def _aoi(geom: Any, center: tuple[float, float], name: str) -> AOI:
    return AOI(
        name=name,
        display_name=f"{name} (simulated)",
        geometry=shapely.geometry.polygon.orient(geom),
        point=center,
        notes="SIMULATED site written by sitewatch.simulate; not a real place observation.",
    )


def site_grid(world: World, center: tuple[float, float], size_px: int, resolution_m: float) -> Grid:
    """The pixel grid a world's scenes are written on (its CRS, ground scale and north)."""
    if world.product.crs == "utm":
        # the simulator takes UTM metres as ground metres and UTM north as north
        crs = utm_crs_for(*center)
        k, north = 1.0, 0.0
    else:
        crs = world.product.crs
        k, north = grid_frame(crs, *center)
    fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    cx, cy = fwd.transform(*center)
    return Grid(size_px, resolution_m, (cx, cy), crs, metres_per_unit=k, north_deg=north)


def _needs_extras(world: World, site: Site) -> bool:
    return (
        world.climate != Climate()
        or world.product.bright_as_cloud > 0
        or site.terrain is not None
        or bool(site.weather.snowfalls)
    )


def simulate_site(
    directory: str | os.PathLike[str],
    *,
    start: str | dt.date = "2024-01-01",
    end: str | dt.date = "2025-12-31",
    events: Sequence[Any] = (),
    center: tuple[float, float] = (40.511955, 36.706242),
    size_px: int = 200,
    resolution_m: float = 10.0,
    base: bool = True,
    runway_length_m: float = 1700.0,
    revisit_days: int = 5,
    cloudiness: float = 1.0,
    misregistration_px: float = 0.25,
    seed: int = 0,
    name: str = "simsite",
    world: World | None = None,
    sar: bool = False,
    sar_revisit_days: int = 12,
) -> SimulatedSite:
    """Simulate a site and write its Sentinel-2 L2A scenes, ``truth.geojson`` and ``aoi.geojson``.

    Parameters
    ----------
    directory : str or path
        Output folder; scenes go to ``<directory>/scenes``.
    start, end : str or datetime.date
        First and last acquisition day.
    events : sequence of Pad, RunwayExtension, Evacuation, Earthworks, VegetationLoss
        Scripted changes.
    center : tuple of float
        ``(lon, lat)`` of the site centre; sets the UTM zone of the grid.
    size_px : int
        Width and height of the square grid in pixels.
    resolution_m : float
        Pixel size in metres (in CRS units for a CRS that is not UTM).
    base : bool
        Draw a runway and a compound (needed by RunwayExtension and Evacuation): the
        world's base, or the original layout.
    runway_length_m : float
        Length of the original layout's runway (capped to 70 % of the site width).
    revisit_days : int
        Nominal revisit; passes are then dropped at random and by one outage.
    cloudiness : float
        0 for clear winters, 1 for the usual winter clouds.
    misregistration_px : float
        Standard deviation of the per-scene shift in pixels.
    seed : int
        Random seed; the same seed writes the same files.
    name : str
        Machine name of the simulated AOI.
    world : World, optional
        Soils, surfaces, layout, terrain, weather and product (see
        :func:`~sitewatch.simulate.random_world`); by default the original world, whose
        files are the same as they always were.
    sar : bool
        Also write Sentinel-1 scenes of the same site to ``<directory>/s1``
        (:mod:`sitewatch.simulate.radar`); the optical scenes stay the same.
    sar_revisit_days : {12, 6}
        Radar revisit per orbit (one or two satellites).

    Returns
    -------
    SimulatedSite

    Raises
    ------
    ConfigError
        If the dates are not in order or an event does not fit the site.
    """
    d0, d1 = as_date(start), as_date(end)
    if d1 <= d0:
        raise ConfigError(f"simulate_site: end {d1} must come after start {d0}")
    if size_px < 16:
        raise ConfigError(f"simulate_site: size_px={size_px} is too small; use at least 16")
    the_world = world or World()
    unknown = [b for b in the_world.product.bands if b not in BANDS]
    if unknown or not the_world.product.bands:
        raise ConfigError(f"simulate_site: the world's bands {the_world.product.bands} must be among {BANDS}")
    rng = np.random.default_rng(seed)
    grid = site_grid(the_world, center, size_px, resolution_m)
    layout = None
    if base:
        layout = the_world.base or legacy_base(size_px * grid.res, runway_length_m)
    site = Site(
        grid, rng, world=the_world, base=layout, events=events, seed=seed, period=(d0, d1), lat=center[1]
    )
    out = Path(directory)
    scenes_dir = out / "scenes"
    scenes_dir.mkdir(parents=True, exist_ok=True)
    dates = acquisition_dates(rng, d0, d1, revisit_days)
    scene_log, clear = _write_scenes(
        site, dates, rng, scenes_dir, seed=seed, cloudiness=cloudiness, misregistration_px=misregistration_px
    )
    aoi = (
        _default_aoi(center, size_px * resolution_m * 0.96, name)
        if grid.metres_per_unit == 1.0 and grid.north_deg == 0.0
        else _grid_aoi(grid, center, name)
    )
    aoi_path = out / "aoi.geojson"
    _write_json(aoi_path, _aoi_doc(aoi, name, center))
    truth = _truth_doc(site, events, scene_log, clear, seed=seed, name=name, period=(d0, d1))
    radar_dir = None
    if sar:
        if sar_revisit_days not in (6, 12):
            raise ConfigError(
                f"simulate_site: sar_revisit_days={sar_revisit_days}; Sentinel-1 revisits in 6 or 12"
            )
        radar_dir = out / "s1"
        truth["sitewatch_simulation"]["radar"] = write_radar_scenes(
            site, radar_dir, start=d0, end=d1, lon=center[0], seed=seed, revisit_days=sar_revisit_days
        )
    truth_path = out / "truth.geojson"
    _write_json(truth_path, truth)
    return SimulatedSite(
        directory=out,
        scenes_dir=scenes_dir,
        truth_path=truth_path,
        aoi_path=aoi_path,
        aoi=aoi,
        dates=tuple(dates),
        events=tuple(events),
        seed=seed,
        truth=truth,
        world=world,
        radar_dir=radar_dir,
    )


def _write_scenes(
    site: Site,
    dates: Sequence[dt.date],
    rng: np.random.Generator,
    scenes_dir: Path,
    *,
    seed: int,
    cloudiness: float,
    misregistration_px: float,
) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """Render, degrade and write every date; return the scene log and each event's clear dates."""
    from odc.geo.geobox import GeoBox

    from sitewatch.providers.grid import stack_to_dataarray
    from sitewatch.providers.local import write_scene

    world, grid = site.world, site.grid
    product = world.product
    gbox = GeoBox.from_bbox(grid.bounds_crs, grid.crs, resolution=grid.res_crs)
    band_index = [BANDS.index(b) for b in product.bands]
    file_bands = [*product.bands, *(["SCL"] if product.scl else [])]
    extras_on = _needs_extras(world, site)
    orbit = int(np.random.default_rng([seed, STREAM_SCENE]).integers(1, 144))
    masks = _footprint_masks(site) if site.full else {}
    clear: dict[str, list[str]] = {name: [] for name in masks}
    log = []
    sensing = dt.time.fromisoformat(product.sensing_utc)
    for day in dates:
        when = dt.datetime.combine(day, sensing, tzinfo=dt.timezone.utc)
        cover = cloud_cover(rng, day, cloudiness)
        state = site.state(day)
        extras = None
        if extras_on:
            xr = np.random.default_rng([seed, STREAM_SCENE, day.toordinal()])
            if site.weather.snowing(day):
                cover = max(cover, float(xr.uniform(0.85, 1.0)))  # it snows under an overcast sky
            extras = Extras(
                rng=xr,
                sun=sun_at_overpass(day, site.lat),
                north_deg=grid.north_deg,
                res_m=grid.res,
                haze_scale=world.climate.haze,
                snow=state.snow,
                bright_as_cloud=product.bright_as_cloud,
            )
        surface = surface_reflectance(site, state, sun=extras.sun if extras else None)
        refl, scl, info, seen = degrade(
            surface, rng, day, cover, misregistration_px=misregistration_px, extras=extras
        )
        pname = product_name(product.style, when, relative_orbit=orbit)
        data = refl if band_index == list(range(len(BANDS))) else refl[band_index]
        if pname.offset_dn:
            data = data + np.float32(pname.offset_dn)
        if product.scl:
            data = np.concatenate([data, scl[None]], axis=0)
        scene = Scene(
            id=pname.stem, datetime=when, bands=tuple(file_bands), provider="simulated", location="memory"
        )
        stack = stack_to_dataarray(
            data[None].astype(np.float32), gbox, [scene], file_bands, provider="simulated"
        )
        tags = {"SIMULATED": "true", "SITEWATCH_SIMULATOR_SEED": str(seed), **pname.tags}
        if world.name != "original":
            tags["SITEWATCH_SIMULATOR_WORLD"] = world.name
        write_scene(stack, scenes_dir, name=pname.stem, processing_level="L2A", tags=tags)
        entry = {"id": pname.stem, "date": day.isoformat(), **info}
        if site.full:
            entry.update(offset_dn=pname.offset_dn, baseline=pname.baseline)
            _note_clear(clear, masks, seen, state.snow, day)
        log.append(entry)
    return log, clear


def _footprint_masks(site: Site) -> dict[str, np.ndarray]:
    """Pixels at least half inside each expected event's footprint."""
    out = {}
    for name, geom in site.footprints.items():
        cov = site.grid.coverage(geom)
        mask = cov >= 0.5
        out[name] = mask if mask.any() else cov > 0
    return out


def _note_clear(
    clear: dict[str, list[str]],
    masks: dict[str, np.ndarray],
    seen: Observation,
    snow: np.ndarray | None,
    day: dt.date,
) -> None:
    ok = seen.clear(snow)
    for name, mask in masks.items():
        if mask.any() and ok[mask].mean() >= CLEAR_SHARE:
            clear[name].append(day.isoformat())


def _aoi_doc(aoi: AOI, name: str, center: tuple[float, float]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": mapping(aoi.geometry),
        "properties": {
            "name": name,
            "display_name": aoi.display_name,
            "point": list(center),
            "location_certainty": "exact",
            "notes": aoi.notes,
            "simulated": True,
        },
    }


def _truth_doc(
    site: Site,
    events: Sequence[Any],
    scene_log: list[dict[str, Any]],
    clear: dict[str, list[str]],
    *,
    seed: int,
    name: str,
    period: tuple[dt.date, dt.date],
) -> dict[str, Any]:
    d0, d1 = period
    features = list(site.truth)
    if site.full:
        for f in features:
            f["properties"]["clear_dates"] = clear.get(f["properties"]["name"], [])
        features += site.extra_truth
    features += site.fields_truth(range(d0.year, d1.year + 1))
    meta: dict[str, Any] = {
        "simulated": True,
        "seed": seed,
        "aoi": name,
        "crs": site.grid.crs,
        "start": d0.isoformat(),
        "end": d1.isoformat(),
        "size_px": site.grid.size,
        "resolution_m": site.grid.res_crs,
        "events": [event_record(e, basic=not site.full) for e in events],
        "scenes": scene_log,
    }
    if site.full:
        meta.update(
            truth_detail="full",
            ground_pixel_m=round(site.grid.res, 3),
            grid_north_deg=round(site.grid.north_deg, 4),
            world=site.world.describe(),
            snowfalls=[
                {"date": s.day.isoformat(), "days": s.days, "depth": round(s.depth, 2)}
                for s in site.weather.snowfalls
            ],
        )
    return {"type": "FeatureCollection", "features": features, "sitewatch_simulation": meta}


def _write_json(path: Path, doc: Any) -> None:
    atomic_write_text(path, json.dumps(doc, indent=1))
