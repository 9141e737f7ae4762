"""The Sentinel-1 rendering of a simulated site: the same ground, seen by a C-band radar.

:func:`write_radar_scenes` renders :meth:`Site.state <sitewatch.simulate.site.Site.state>` of
every radar acquisition day into backscatter and writes it in the local radar format
(:mod:`sitewatch.providers.local_s1`: GeoTIFF, bands ``VV`` and ``VH`` of linear power,
float32, NaN no data, tags ``ORBIT_DIRECTION``, ``RELATIVE_ORBIT``, ``BACKSCATTER``,
``PLATFORM``, ``SIMULATED=true``; product-like names with ``SIM_`` in front). What it models,
and why each matters to a change detector:

- **two orbits** over the site, one ascending (evening, looking east) and one descending
  (morning, looking west), each with its own incidence angle (one near range, one far), so
  the same ground has a different level per orbit: the core must never compare across
  orbits. Revisit 12 days per orbit (one satellite) or 6 (two);
- **backscatter per material** (:class:`~sitewatch.simulate.materials.RadarResponse`): smooth
  concrete and asphalt dark (specular), soils by roughness (a per-field roughness, ploughing
  and levelled earthworks rougher) and moisture (rain raises the dielectric constant, so
  wet soil is brighter: the whole scene moves at once), crops by canopy (VH rises with the
  volume), groves by their trees. Materials mix in linear power by their pixel shares;
- **double bounce**: structures, containers and vehicles (``double_bounce`` materials) are
  corner reflectors; their return depends on the walls' orientation to the look direction,
  drawn per structure and per orbit and fixed in time (the same building is bright to one
  orbit and less to the other). When they go (an evacuation) the bright return goes;
- **vehicles**: a few bright points parked on built surfaces, different on every date (the
  single-date distractors a detector must not take for change);
- **incidence angle**: distributed targets darken with incidence (about 0.12 dB/deg in VV,
  0.08 in VH), double bounce much less; on hills the local incidence angle of the terrain
  residual after terrain flattening, layover (slopes steeper than the incidence facing the
  radar: bright) and shadow (slopes facing away steeper than the grazing angle: noise);
- **speckle**: multiplicative, gamma-distributed with the stated number of looks (4.4 for
  GRD IW); a thermal noise floor; a small calibration offset per scene; now and then a
  swath edge with no data.

Randomness comes from its own streams (``[seed, 31, ...]``), so adding radar leaves the
optical scenes and the truth of a seed unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sitewatch.simulate.layers import Layer
from sitewatch.simulate.materials import Material, RadarResponse
from sitewatch.simulate.site import Site, SiteState
from sitewatch.types import Scene

__all__ = ["RadarPass", "radar_acquisitions", "radar_passes", "radar_power", "write_radar_scenes"]

STREAM_RADAR = 31
#: Equivalent number of looks of Sentinel-1 IW GRDH (ESA's product definition: 4.4).
GRD_LOOKS = 4.4
#: Thermal noise floor after noise removal, dB (Sentinel-1 IW NESZ is about -22 to -26 dB).
NOISE_FLOOR_DB = -26.0
#: Incidence the material table's backscatter is given at (degrees).
REFERENCE_INCIDENCE_DEG = 37.0
#: dB per degree of incidence for distributed targets (VV, VH) and for double bounce.
INCIDENCE_SLOPE_DB = (0.12, 0.08)
DOUBLE_BOUNCE_INCIDENCE_SLOPE_DB = 0.03
#: Spread (dB) of a structure's double bounce with its walls' orientation to the radar.
ORIENTATION_SPREAD_DB = 3.0
#: Share of the terrain's local-incidence effect a terrain-flattened (gamma0) product keeps.
TERRAIN_RESIDUAL = 0.3
#: Soil moisture: dB brighter per unit of wetness (0..1); ploughing and levelling: rougher.
WET_GAIN_DB = 3.0
PLOUGH_GAIN_DB = 2.0
#: Per-field roughness spread (dB) and the fine texture of soil backscatter (dB per unit texture).
FIELD_ROUGHNESS_DB = 1.0
TEXTURE_GAIN_DB = 4.0
#: Vehicles parked on built surfaces per hectare of them per date.
VEHICLES_PER_HA = 0.15
#: Chance that a scene ends at a swath edge inside the site.
SWATH_EDGE_CHANCE = 0.03
_DEFAULT_GROUND = RadarResponse(-12.0, -19.5)
_TREE = {"olive": "olive", "orchard": "orchard_leaf", "pine": "pine"}


@dataclass(frozen=True)
class RadarPass:
    """One relative orbit over the site.

    Attributes
    ----------
    direction : {"ASCENDING", "DESCENDING"}
    relative_orbit : int
    incidence_deg : float
        Incidence angle at the site.
    look_azimuth_deg : float
        Direction the radar looks, clockwise from true north (right-looking: east when
        ascending, west when descending).
    utc_time : datetime.time
        Time of the pass (about 06:00 local solar time descending, 18:00 ascending).
    first_day : datetime.date
        First acquisition on or after the series start.
    """

    direction: Literal["ASCENDING", "DESCENDING"]
    relative_orbit: int
    incidence_deg: float
    look_azimuth_deg: float
    utc_time: dt.time
    first_day: dt.date

    @property
    def label(self) -> str:
        """``"D079"``, as the radar core labels orbits."""
        return f"{self.direction[:1]}{self.relative_orbit:03d}"


def _utc_time(local_hour: float, lon: float) -> tuple[dt.time, int]:
    """UTC time of day of a pass at ``local_hour`` local solar time, and the day shift."""
    hours = local_hour - lon / 15.0
    shift = math.floor(hours / 24.0)
    hours -= 24.0 * shift
    h, rest = divmod(hours * 3600.0, 3600.0)
    m, s = divmod(rest, 60.0)
    return dt.time(int(h), int(m), int(s)), shift


def radar_passes(seed: int, start: dt.date, lon: float) -> tuple[RadarPass, RadarPass]:
    """The descending and ascending orbits over a site, drawn from ``seed``.

    Examples
    --------
    >>> d, a = radar_passes(0, dt.date(2024, 1, 1), 40.5)
    >>> d.direction, a.direction, d.incidence_deg != a.incidence_deg
    ('DESCENDING', 'ASCENDING', True)
    """
    rng = np.random.default_rng([seed, STREAM_RADAR])
    rel_d = int(rng.integers(1, 176))
    rel_a = int((rel_d + rng.integers(20, 150)) % 175) + 1
    # one orbit sees the site from near range, the other from far range
    near, far = float(rng.uniform(31.0, 36.0)), float(rng.uniform(39.0, 45.0))
    inc_d, inc_a = (near, far) if rng.random() < 0.5 else (far, near)
    off_d, off_a = int(rng.integers(0, 12)), int(rng.integers(0, 12))
    t_d, s_d = _utc_time(6.0 + float(rng.uniform(-0.3, 0.3)), lon)
    t_a, s_a = _utc_time(18.0 + float(rng.uniform(-0.3, 0.3)), lon)
    return (
        RadarPass("DESCENDING", rel_d, inc_d, 282.0, t_d, start + dt.timedelta(days=off_d + s_d)),
        RadarPass("ASCENDING", rel_a, inc_a, 78.0, t_a, start + dt.timedelta(days=off_a + s_a)),
    )


def radar_acquisitions(
    passes: Sequence[RadarPass], start: dt.date, end: dt.date, *, revisit_days: int = 12
) -> list[tuple[dt.datetime, RadarPass, str]]:
    """Every acquisition ``(when, pass, platform)`` in ``[start, end]``, in time order.

    With a 6-day revisit two satellites alternate on each orbit (S1A and S1B until the end of
    2021, S1A and S1C after).
    """
    out = []
    for p in passes:
        day, k = p.first_day, 0
        while day <= end:
            if day >= start:
                second = "S1B" if day.year < 2022 else "S1C"
                platform = second if revisit_days < 12 and k % 2 else "S1A"
                out.append((dt.datetime.combine(day, p.utc_time, tzinfo=dt.timezone.utc), p, platform))
            day += dt.timedelta(days=revisit_days)
            k += 1
    return sorted(out, key=lambda a: a[0])


def _response(materials: dict[str, Material], name: str) -> RadarResponse:
    m = materials.get(name)
    if m is not None and m.radar is not None:
        return m.radar
    soil = materials.get("soil")
    return soil.radar if soil is not None and soil.radar is not None else _DEFAULT_GROUND


def _incidence_db(resp: RadarResponse, incidence_deg: float) -> np.ndarray:
    """``(2, 1, 1)`` dB of a response at an incidence (VV, VH)."""
    d = incidence_deg - REFERENCE_INCIDENCE_DEG
    slopes = (DOUBLE_BOUNCE_INCIDENCE_SLOPE_DB,) * 2 if resp.double_bounce else INCIDENCE_SLOPE_DB
    return np.asarray([resp.vv_db - slopes[0] * d, resp.vh_db - slopes[1] * d], np.float32)[:, None, None]


def _power(db: np.ndarray) -> np.ndarray:
    return np.power(np.float32(10.0), db / np.float32(10.0)).astype(np.float32)


class _Renderer:
    """Backscatter of a site's states for one orbit (the per-orbit draws are made once)."""

    def __init__(self, site: Site, rpass: RadarPass, seed: int) -> None:
        self.site, self.rpass = site, rpass
        self.materials = dict(site.world.materials)
        rng = np.random.default_rng([seed, STREAM_RADAR, rpass.relative_orbit])
        n_f = len(site.fields)
        # a field's roughness (tillage, clods) is the same for both orbits: its own stream
        self.field_rough = np.random.default_rng([seed, STREAM_RADAR, 1]).normal(0, FIELD_ROUGHNESS_DB, n_f)
        self.orientation = {
            id(layer): float(rng.normal(0.0, ORIENTATION_SPREAD_DB))
            for layer in site.layers
            if _response(self.materials, layer.material).double_bounce
        }
        self.terrain_db, self.layover, self.shadow = self._terrain()

    def _terrain(self) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        t = self.site.terrain
        if t is None:
            return None, None, None
        theta = math.radians(self.rpass.incidence_deg)
        look = math.radians(self.rpass.look_azimuth_deg + self.site.grid.north_deg)
        cos_loc = np.cos(theta) * np.cos(t.slope) - np.sin(theta) * np.sin(t.slope) * np.cos(t.aspect - look)
        local = np.degrees(np.arccos(np.clip(cos_loc, -1.0, 1.0)))
        facing = np.cos(t.aspect - look) < 0
        layover = facing & (t.slope > theta)
        shadow = ~facing & (t.slope > math.pi / 2 - theta)
        db = -INCIDENCE_SLOPE_DB[0] * TERRAIN_RESIDUAL * (local - self.rpass.incidence_deg)
        return db.astype(np.float32), layover, shadow

    def _ground(self, state: SiteState) -> np.ndarray:
        """``(2, H, W)`` linear power of the farmland."""
        site, inc = self.site, self.rpass.incidence_deg
        fid = site.field_id
        green = np.asarray([f.green for f in state.fields], np.float32)[fid][None]
        stub = np.asarray([f.stubble for f in state.fields], np.float32)[fid][None]
        char = np.asarray([f.char for f in state.fields], np.float32)[fid][None]
        ploughed = np.asarray([f.ploughed for f in state.fields], np.float32)[fid][None]
        soil = _power(_incidence_db(_response(self.materials, "soil"), inc))
        if site.soil_patches is not None:
            p = site.soil_patches[None]
            soil = (
                soil * (1 - p) + _power(_incidence_db(_response(self.materials, "soil_secondary"), inc)) * p
            )
        stubble = _power(_incidence_db(_response(self.materials, "stubble"), inc))
        charred = _power(_incidence_db(_response(self.materials, "char"), inc))
        bare = soil * (1 - stub - char) + stubble * stub + charred * char
        rough_db = (
            self.field_rough[fid]
            + TEXTURE_GAIN_DB * (site.soil_texture - 1.0)
            + PLOUGH_GAIN_DB * ploughed[0]
            + WET_GAIN_DB * state.wetness
        )
        bare = bare * _power(rough_db.astype(np.float32))[None]
        veg = _power(_incidence_db(_response(self.materials, "vegetation"), inc))
        # a canopy's volume return adds to what still reaches the ground through it
        return bare * (1 - 0.7 * green) + veg * green

    def _layer_power(self, layer: Layer, day: dt.date) -> np.ndarray:
        inc = self.rpass.incidence_deg
        if layer.grove is not None:
            look = layer.grove
            tree = _power(_incidence_db(_response(self.materials, _TREE[look.kind]), inc))
            ground = _power(_incidence_db(_response(self.materials, layer.material), inc))
            return ground * (1 - look.canopy) + tree * look.canopy
        resp = _response(self.materials, layer.material)
        db = _incidence_db(resp, inc)
        laid = layer.weather_from or layer.start
        if layer.weathers_to is not None and laid is not None:
            share = 1.0 - math.exp(-max(0, (day - laid).days) / max(layer.weather_days, 1.0))
            db = db * np.float32(1 - share) + _incidence_db(
                _response(self.materials, layer.weathers_to), inc
            ) * (np.float32(share))
        if resp.double_bounce:
            db = db + np.float32(self.orientation.get(id(layer), 0.0))
        return _power(db)

    def render(self, state: SiteState, rng: np.random.Generator) -> np.ndarray:
        """``(2, H, W)`` mean linear power (before speckle) of one day's state."""
        power = self._ground(state)
        built = np.zeros(power.shape[1:], np.float32)
        for layer, _ in state.layers:
            rows, cols = layer.cover.rows, layer.cover.cols
            if rows.stop <= rows.start or cols.stop <= cols.start:
                continue
            c = layer.cover.share[None]
            power[:, rows, cols] = power[:, rows, cols] * (1 - c) + self._layer_power(layer, state.day) * c
            if layer.kind in ("event", "static"):  # roads, runway, yard, pads: where vehicles park
                built[rows, cols] = np.maximum(built[rows, cols], layer.cover.share)
        if state.snow is not None:
            age = np.float32(state.snow_age)
            inc = self.rpass.incidence_deg
            snow = (
                _power(_incidence_db(_response(self.materials, "snow_fresh"), inc)) * (1 - age)
                + _power(_incidence_db(_response(self.materials, "snow_old"), inc)) * age
            )
            s = state.snow[None]
            power = power * (1 - s) + snow * s
        self._park_vehicles(power, built, rng)
        if self.terrain_db is not None:
            power = power * _power(self.terrain_db)[None]
            power[:, self.layover] *= np.float32(10.0)  # foreshortened slopes fold into few pixels
            power[:, self.shadow] = _power(np.full((2, 1), NOISE_FLOOR_DB, np.float32))
        return power

    def _park_vehicles(self, power: np.ndarray, built: np.ndarray, rng: np.random.Generator) -> None:
        spots = np.flatnonzero(built.reshape(-1) > 0.5)
        if spots.size == 0:
            return
        hectares = spots.size * self.site.grid.res**2 / 1e4
        n = int(rng.poisson(VEHICLES_PER_HA * hectares))
        if n == 0:
            return
        at = rng.choice(spots, size=min(n, spots.size), replace=False)
        vehicle = _power(_incidence_db(_response(self.materials, "vehicle_tan"), self.rpass.incidence_deg))
        flat = power.reshape(2, -1)
        gain = _power(rng.normal(0.0, ORIENTATION_SPREAD_DB, at.size).astype(np.float32))
        # a car is about a fifth of a 10 m pixel
        flat[:, at] = flat[:, at] * 0.8 + vehicle[:, 0] * 0.2 * gain


def radar_power(site: Site, rpass: RadarPass, day: dt.date, *, seed: int = 0) -> np.ndarray:
    """``(2, H, W)`` mean linear power (VV, VH) of a site on one day, seen by one orbit, without speckle.

    Parameters
    ----------
    site : Site
    rpass : RadarPass
    day : datetime.date
    seed : int

    Returns
    -------
    numpy.ndarray
    """
    rng = np.random.default_rng([seed, STREAM_RADAR, 2, day.toordinal()])
    return _Renderer(site, rpass, seed).render(site.state(day), rng)


def _product_stem(when: dt.datetime, platform: str, relative_orbit: int, serial: int) -> str:
    """A Sentinel-1 GRD product name (prefixed ``SIM_``) whose absolute orbit gives ``relative_orbit``."""
    from sitewatch.providers.radar import relative_orbit_from_absolute

    # absolute orbits advance by 175 every 12 days; start from about the right one
    approx = 1 + int((when.date() - dt.date(2014, 4, 3)).days * 175 / 12)
    absolute = next(
        a for a in range(approx, approx + 175) if relative_orbit_from_absolute(platform, a) == relative_orbit
    )
    stop = when + dt.timedelta(seconds=25)
    return (
        f"SIM_{platform}_IW_GRDH_1SDV_{when:%Y%m%dT%H%M%S}_{stop:%Y%m%dT%H%M%S}_"
        f"{absolute:06d}_{serial % 0xFFFFFF:06X}_{(serial * 7919) % 0xFFFF:04X}"
    )


def write_radar_scenes(
    site: Site,
    directory: Path,
    *,
    start: dt.date,
    end: dt.date,
    lon: float,
    seed: int = 0,
    revisit_days: int = 12,
    looks: float = GRD_LOOKS,
) -> dict[str, Any]:
    """Render and write the Sentinel-1 scenes of a simulated site; return the log for the truth.

    Parameters
    ----------
    site : Site
        The site the optical scenes were rendered from (same layers, events, weather).
    directory : pathlib.Path
        Output folder (``--sar local:<directory>``).
    start, end : datetime.date
    lon : float
        Longitude of the site (the passes' UTC times).
    seed : int
    revisit_days : {6, 12}
        Per orbit.
    looks : float
        Equivalent number of looks of the speckle.

    Returns
    -------
    dict
        ``directory``, ``revisit_days``, ``looks``, ``backscatter``, ``orbits`` (label,
        direction, incidence) and ``scenes`` (id, date, orbit).
    """
    from odc.geo.geobox import GeoBox

    from sitewatch.providers.local_s1 import write_radar_scene
    from sitewatch.providers.radar import RadarInfo, radar_scene_id, radar_stack

    grid = site.grid
    gbox = GeoBox.from_bbox(grid.bounds_crs, grid.crs, resolution=grid.res_crs)
    passes = radar_passes(seed, start, lon)
    renderers = {p.label: _Renderer(site, p, seed) for p in passes}
    directory.mkdir(parents=True, exist_ok=True)
    log = []
    for serial, (when, rpass, platform) in enumerate(
        radar_acquisitions(passes, start, end, revisit_days=revisit_days)
    ):
        day = when.date()
        rng = np.random.default_rng([seed, STREAM_RADAR, 3, day.toordinal(), rpass.relative_orbit])
        mean = renderers[rpass.label].render(site.state(day), rng)
        noise = _power(np.float32(NOISE_FLOOR_DB)) * rng.exponential(1.0, mean.shape).astype(np.float32)
        calibration = _power(np.float32(rng.normal(0.0, 0.2)))
        speckle = rng.gamma(looks, 1.0 / looks, mean.shape).astype(np.float32)
        data = (mean * speckle + noise) * calibration
        if rng.random() < SWATH_EDGE_CHANCE:
            cut = int(rng.integers(grid.size // 4, 3 * grid.size // 4))
            data[:, :, cut:] = np.nan
        info = RadarInfo(platform, rpass.direction, rpass.relative_orbit, "gamma0")
        scene = Scene(
            id=radar_scene_id(info, when),
            datetime=when,
            bands=("VV", "VH"),
            provider="simulated",
            location="memory",
            properties=info.as_properties(),
        )
        stack = radar_stack(data[None].astype(np.float32), gbox, [scene], ["VV", "VH"], provider="simulated")
        stem = _product_stem(when, platform, rpass.relative_orbit, serial + seed * 1000)
        write_radar_scene(
            stack, directory, name=stem, tags={"SIMULATED": "true", "SITEWATCH_SIMULATOR_SEED": str(seed)}
        )
        log.append({"id": stem, "date": day.isoformat(), "orbit": rpass.label})
    return {
        "directory": directory.name,
        "revisit_days": revisit_days,
        "looks": looks,
        "backscatter": "gamma0",
        "orbits": [
            {"orbit": p.label, "direction": p.direction, "incidence_deg": round(p.incidence_deg, 2)}
            for p in passes
        ],
        "scenes": log,
    }
