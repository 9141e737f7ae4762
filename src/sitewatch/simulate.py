"""A Sentinel-2 site simulator: scenes with known truth, for tests, the demo and benchmarks.

It is a test instrument and says so in every output: scene files carry the tag
``SIMULATED=true`` and ``SIM`` in their names, ``truth.geojson`` and ``aoi.geojson``
carry ``"simulated": true``.

A simulated site is a square of farmland in the AOI's UTM zone: Voronoi fields with
winter-crop or irrigated-summer phenology (sowing, greening, harvest) and fallow land,
soil texture, roads, and optionally a base (an asphalt runway and a compound densely
filled with structures). Scripted :class:`Pad`, :class:`RunwayExtension`,
:class:`Evacuation` and :class:`Earthworks` events change it on given dates.

Every acquisition then goes through what makes real series hard: a 5-day revisit with
missed passes and a longer outage, seasonal illumination, haze (additive, bluer, with a
gradient), sensor noise, sub-pixel misregistration, 20 m bands blurred to their native
resolution, clouds with soft edges and their displaced shadows, an imperfect SCL layer
(thin cloud edges missed), and now and then an orbit edge with no data.

Examples
--------
>>> from sitewatch.simulate import simulate_site, Pad
>>> site = simulate_site("sim/", start="2024-01-01", end="2024-12-31",
...                      events=[Pad("pad-1", (200, 100), 120, 60, 30, "2024-06-01")])  # doctest: +SKIP
>>> site.truth_path.name  # doctest: +SKIP
'truth.geojson'
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
from scipy import ndimage
from shapely.geometry import mapping

from sitewatch.errors import ConfigError
from sitewatch.types import AOI, WGS84, Scene, as_date, utm_crs_for

__all__ = [
    "BANDS",
    "Earthworks",
    "Evacuation",
    "Pad",
    "RunwayExtension",
    "SimulatedSite",
    "demo_events",
    "random_events",
    "score_alerts",
    "simulate_site",
]

#: Bands the simulator writes, in file order (SCL last).
BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")
_TWENTY_M = ("B8A", "B11", "B12")

# Surface reflectance x 10000 per material, bands as in BANDS. Values follow published
# Sentinel-2 L2A spectra of semi-arid farmland, construction and roofing materials.
MATERIALS: dict[str, tuple[float, ...]] = {
    "soil": (1100, 1500, 2000, 2600, 2800, 3600, 3000),  # reddish-brown calcareous soil
    "stubble": (1250, 1650, 2150, 2750, 2950, 3800, 3150),  # dry harvested straw over soil
    "vegetation": (300, 650, 400, 4200, 4300, 2200, 1000),  # green crop canopy
    "concrete": (2400, 2600, 2800, 3100, 3150, 3300, 2900),
    "asphalt": (700, 800, 900, 1100, 1150, 1300, 1200),
    "gravel": (1700, 2000, 2300, 2700, 2800, 3200, 2800),
    "earthworks": (2300, 2700, 3100, 3400, 3500, 4300, 3700),  # levelled, exposed pale subsoil
    "roof_bright": (3400, 3500, 3600, 3700, 3700, 3800, 3500),  # metal roofs, tents
    "roof_dark": (900, 1000, 1100, 1300, 1350, 1600, 1400),  # vehicles, dark containers
    "cloud": (6200, 6100, 6000, 6300, 6300, 4600, 3300),
}
_SCL_DARK, _SCL_SHADOW, _SCL_VEG, _SCL_SOIL = 2, 3, 4, 5
_SCL_CLOUD_MED, _SCL_CLOUD_HIGH, _SCL_CIRRUS = 8, 9, 10


@dataclass(frozen=True)
class Pad:
    """A concrete (or gravel) pad built on ``date``, optionally after earthworks.

    Parameters
    ----------
    name : str
        Identifier in the truth file.
    center_m : tuple of float
        ``(east, north)`` offset of the pad centre from the site centre, metres.
    length_m, width_m : float
        Sides of the rectangle.
    orientation_deg : float
        Direction of the long side, degrees clockwise from north.
    date : str or datetime.date
        First day the finished pad is on the ground.
    earthworks_days : int
        Days of levelling (bare, bright subsoil) before ``date``; 0 for none.
    material : str
        ``"concrete"`` or ``"gravel"``.
    """

    name: str
    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    date: str | dt.date
    earthworks_days: int = 0
    material: str = "concrete"


@dataclass(frozen=True)
class RunwayExtension:
    """The site's runway lengthened by ``added_length_m`` at its far (north-east) end on ``date``."""

    name: str
    added_length_m: float
    date: str | dt.date
    earthworks_days: int = 0


@dataclass(frozen=True)
class Evacuation:
    """Structures of the site's compound removed one by one between ``start`` and ``end``.

    ``fraction`` is the share of structures that go.
    """

    name: str
    start: str | dt.date
    end: str | dt.date
    fraction: float = 0.9


@dataclass(frozen=True)
class Earthworks:
    """Ground levelled and cleared from ``date`` on (no pad follows)."""

    name: str
    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    date: str | dt.date


Event = Pad | RunwayExtension | Evacuation | Earthworks


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


# ----------------------------------------------------------------------------- geometry


class _Grid:
    """Local metric frame: x east, y north, metres from the site centre; row 0 at the top."""

    def __init__(self, size_px: int, resolution_m: float, center_utm: tuple[float, float], crs: str) -> None:
        self.size = size_px
        self.res = resolution_m
        self.crs = crs
        half = size_px * resolution_m / 2
        # Snap the grid to whole pixels in UTM so files look like real tiles.
        self.x0 = math.floor((center_utm[0] - half) / resolution_m) * resolution_m
        self.y1 = math.floor((center_utm[1] + half) / resolution_m) * resolution_m
        self.cx, self.cy = center_utm
        idx = (np.arange(size_px) + 0.5) * resolution_m
        self.xs = self.x0 + idx - self.cx  # local east of pixel centres
        self.ys = self.y1 - idx - self.cy  # local north of pixel centres

    def rect(self, center: tuple[float, float], length: float, width: float, orient_deg: float) -> Any:
        """A rotated rectangle in local metres, long side along ``orient_deg`` from north."""
        t = math.radians(orient_deg)
        ux, uy = math.sin(t), math.cos(t)  # along
        vx, vy = math.cos(t), -math.sin(t)  # across
        hl, hw = length / 2, width / 2
        cx, cy = center
        pts = [
            (cx + sa * hl * ux + sb * hw * vx, cy + sa * hl * uy + sb * hw * vy)
            for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        return shapely.Polygon(pts)

    def coverage(self, geom: Any, supersample: int = 4) -> np.ndarray:
        """Fraction of each pixel covered by ``geom`` (anti-aliased), float32 ``(size, size)``."""
        out = np.zeros((self.size, self.size), np.float32)
        if geom.is_empty:
            return out
        minx, miny, maxx, maxy = geom.bounds
        c0 = max(0, int((minx - self.xs[0]) / self.res))
        c1 = min(self.size, int((maxx - self.xs[0]) / self.res) + 2)
        r0 = max(0, int((self.ys[0] - maxy) / self.res))
        r1 = min(self.size, int((self.ys[0] - miny) / self.res) + 2)
        if c1 <= c0 or r1 <= r0:
            return out
        s = supersample
        sub = (np.arange(s) + 0.5) / s - 0.5
        xs = (self.xs[c0:c1, None] + sub[None, :] * self.res).ravel()
        ys = (self.ys[r0:r1, None] - sub[None, :] * self.res).ravel()
        gx, gy = np.meshgrid(xs, ys)
        inside = shapely.contains_xy(geom, gx, gy).reshape(r1 - r0, s, c1 - c0, s)
        out[r0:r1, c0:c1] = inside.mean(axis=(1, 3))
        return out

    def to_wgs84(self, geom: Any) -> Any:
        tr = pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True)

        def f(xy: np.ndarray) -> np.ndarray:
            lon, lat = tr.transform(xy[:, 0] + self.cx, xy[:, 1] + self.cy)
            return np.column_stack([lon, lat])

        return shapely.transform(geom, f)


# ----------------------------------------------------------------------------- the site


@dataclass
class _Layer:
    name: str
    cover: np.ndarray  # (H, W) fraction
    material: str | np.ndarray  # material name or (B, H, W) spectrum
    start: dt.date | None = None  # visible from
    end: dt.date | None = None  # gone from
    kind: str = "static"


@dataclass
class _Field:
    kind: str  # winter, summer, fallow
    soil_gain: float
    sow_doy: int
    green_days: int
    harvest_doy: int
    peak: float


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float) -> np.ndarray:
    z = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma, mode="wrap")
    return (z - z.mean()) / (z.std() + 1e-9)


def _phenology(f: _Field, day: dt.date) -> tuple[float, float]:
    """Green-canopy fraction and stubble fraction of a field on ``day``."""
    if f.kind == "fallow":
        return 0.0, 0.0
    doy = day.timetuple().tm_yday
    if f.kind == "winter":
        # sown in autumn, green from late winter, peak in April, harvested late May-June
        since_sow = (doy - f.sow_doy) % 365
        to_harvest = (f.harvest_doy - f.sow_doy) % 365
        if since_sow >= to_harvest:
            # after harvest: stubble, ploughed away by sowing time
            after = since_sow - to_harvest
            return 0.0, max(0.0, 1.0 - after / 120.0)
        ramp = since_sow / max(1, to_harvest)
        green = f.peak * float(np.clip((ramp - 0.25) / 0.45, 0, 1))
        senesce = float(np.clip((ramp - 0.85) / 0.15, 0, 1))
        return green * (1 - 0.7 * senesce), 0.6 * senesce
    # irrigated summer crop: sown May, green Jul-Sep, harvested October
    since_sow = (doy - f.sow_doy) % 365
    if since_sow > f.green_days:
        return 0.0, max(0.0, 0.8 - (since_sow - f.green_days) / 90.0)
    ramp = since_sow / f.green_days
    return f.peak * float(np.sin(math.pi * min(ramp, 1.0)) ** 0.7), 0.0


class _Site:
    def __init__(
        self,
        grid: _Grid,
        rng: np.random.Generator,
        *,
        base: bool,
        runway_length_m: float,
        events: Sequence[Any],
    ) -> None:
        self.grid = grid
        self.rng = rng
        n = grid.size
        # Voronoi fields about 250-400 m across.
        extent = n * grid.res
        n_fields = max(4, int((extent / 320.0) ** 2))
        seeds = rng.uniform(-extent / 2, extent / 2, size=(n_fields, 2))
        gx, gy = np.meshgrid(grid.xs, grid.ys)
        d2 = (gx[..., None] - seeds[:, 0]) ** 2 + (gy[..., None] - seeds[:, 1]) ** 2
        self.field_id = np.argmin(d2, axis=-1).astype(np.int32)
        self.fields: list[_Field] = []
        for _ in range(n_fields):
            kind = rng.choice(["winter", "winter", "winter", "summer", "fallow", "fallow"])
            self.fields.append(
                _Field(
                    kind=str(kind),
                    soil_gain=float(rng.uniform(0.85, 1.12)),
                    sow_doy=int(rng.integers(300, 345)) if kind == "winter" else int(rng.integers(125, 150)),
                    green_days=int(rng.integers(120, 150)),
                    harvest_doy=int(rng.integers(140, 170)),
                    peak=float(rng.uniform(0.55, 0.95)),
                )
            )
        self.soil_texture = (
            1.0 + 0.05 * _smooth_noise(rng, (n, n), 3.0) + 0.03 * _smooth_noise(rng, (n, n), 0.7)
        )
        self.layers: list[_Layer] = []
        self.truth: list[dict[str, Any]] = []
        # Two straight roads.
        for _ in range(2):
            ang = float(rng.uniform(0, 180))
            off = (float(rng.uniform(-extent / 3, extent / 3)), float(rng.uniform(-extent / 3, extent / 3)))
            road = grid.rect(off, extent * 1.6, float(rng.uniform(7, 12)), ang)
            self.layers.append(_Layer("road", grid.coverage(road), str(rng.choice(["asphalt", "gravel"]))))
        self.runway: dict[str, Any] | None = None
        self.compound: Any = None
        self.structures: list[tuple[Any, np.ndarray]] = []
        if base:
            self._build_base(runway_length_m)
        for ev in events:
            self._add_event(ev)

    # -- the base: runway and compound
    def _build_base(self, runway_length_m: float) -> None:
        g, rng = self.grid, self.rng
        extent = g.size * g.res
        length = min(runway_length_m, extent * 0.7)
        orient = 60.0
        center = (-0.12 * extent, -0.12 * extent)
        t = math.radians(orient)
        self.runway = {
            "center": center,
            "length": length,
            "width": 45.0,
            "orient": orient,
            "dir": (math.sin(t), math.cos(t)),
        }
        strip = g.rect(center, length, 45.0, orient)
        self.layers.append(_Layer("runway", g.coverage(strip), "asphalt"))
        # Compound: gravel yard densely filled with rows of structures, south-east of the runway.
        cw, ch = min(420.0, extent * 0.3), min(300.0, extent * 0.22)
        ccx, ccy = center[0] + 0.05 * extent, center[1] - 0.22 * extent
        self.compound = shapely.box(ccx - cw / 2, ccy - ch / 2, ccx + cw / 2, ccy + ch / 2)
        self.layers.append(_Layer("compound_yard", g.coverage(self.compound), "gravel"))
        y = ccy - ch / 2 + 15
        while y < ccy + ch / 2 - 20:
            x = ccx - cw / 2 + 15
            while x < ccx + cw / 2 - 20:
                sw, sh = float(rng.uniform(20, 45)), float(rng.uniform(12, 25))
                s = shapely.box(x, y, x + sw, y + sh)
                mat = "roof_bright" if rng.random() < 0.65 else "roof_dark"
                cov = g.coverage(s)
                self.structures.append((s, cov))
                self.layers.append(_Layer("structure", cov, mat, kind="structure"))
                x += sw + float(rng.uniform(8, 15))
            y += 30 + float(rng.uniform(0, 8))

    def _add_event(self, ev: Any) -> None:
        g = self.grid
        if isinstance(ev, Pad):
            poly = g.rect(ev.center_m, ev.length_m, ev.width_m, ev.orientation_deg)
            cov = g.coverage(poly)
            day = as_date(ev.date)
            ew_start = day - dt.timedelta(days=ev.earthworks_days) if ev.earthworks_days else None
            if ew_start is not None:
                # levelling spills a little beyond the final pad
                ew = g.coverage(poly.buffer(5, join_style="mitre"))
                self.layers.append(
                    _Layer(ev.name + "-earthworks", ew, "earthworks", start=ew_start, kind="event")
                )
            self.layers.append(_Layer(ev.name, cov, ev.material, start=day, kind="event"))
            self.truth.append(
                self._truth(
                    poly,
                    "new_pad",
                    None,
                    ev.name,
                    day,
                    area_m2=poly.area,
                    length_m=ev.length_m,
                    width_m=ev.width_m,
                    orientation_deg=ev.orientation_deg % 180,
                    earthworks_start=ew_start.isoformat() if ew_start else None,
                )
            )
        elif isinstance(ev, Earthworks):
            poly = g.rect(ev.center_m, ev.length_m, ev.width_m, ev.orientation_deg)
            day = as_date(ev.date)
            self.layers.append(_Layer(ev.name, g.coverage(poly), "earthworks", start=day, kind="event"))
            self.truth.append(
                self._truth(
                    poly,
                    "earthworks",
                    None,
                    ev.name,
                    day,
                    area_m2=poly.area,
                    length_m=ev.length_m,
                    width_m=ev.width_m,
                    orientation_deg=ev.orientation_deg % 180,
                )
            )
        elif isinstance(ev, RunwayExtension):
            if self.runway is None:
                raise ConfigError(f"event {ev.name}: a runway extension needs a site with a base (base=True)")
            r = self.runway
            ux, uy = r["dir"]
            half = r["length"] / 2
            c = (
                r["center"][0] + ux * (half + ev.added_length_m / 2),
                r["center"][1] + uy * (half + ev.added_length_m / 2),
            )
            poly = g.rect(c, ev.added_length_m, r["width"], r["orient"])
            day = as_date(ev.date)
            if ev.earthworks_days:
                ew = g.coverage(poly.buffer(5, join_style="mitre"))
                self.layers.append(
                    _Layer(
                        ev.name + "-earthworks",
                        ew,
                        "earthworks",
                        start=day - dt.timedelta(days=ev.earthworks_days),
                        kind="event",
                    )
                )
            self.layers.append(_Layer(ev.name, g.coverage(poly), "asphalt", start=day, kind="event"))
            self.truth.append(
                self._truth(
                    poly,
                    "runway_change",
                    "extension",
                    ev.name,
                    day,
                    area_m2=poly.area,
                    length_m=ev.added_length_m,
                    width_m=r["width"],
                    orientation_deg=r["orient"] % 180,
                    added_length_m=ev.added_length_m,
                    runway_length_before_m=r["length"],
                )
            )
        elif isinstance(ev, Evacuation):
            if not self.structures:
                raise ConfigError(f"event {ev.name}: an evacuation needs a site with a base (base=True)")
            start, end = as_date(ev.start), as_date(ev.end)
            span = max(1, (end - start).days)
            order = self.rng.permutation(len(self.structures))
            n_go = round(ev.fraction * len(self.structures))
            gone = []
            idx = 0
            for layer in self.layers:
                if layer.kind != "structure":
                    continue
                if order[idx] < n_go:
                    layer.end = start + dt.timedelta(days=int(self.rng.integers(0, span + 1)))
                    gone.append(self.structures[idx][0])
                idx += 1
            removed = shapely.union_all(gone) if gone else shapely.Polygon()
            fraction = n_go / max(1, len(self.structures))
            self.truth.append(
                self._truth(
                    self.compound,
                    "evacuation",
                    None,
                    ev.name,
                    start,
                    end=end.isoformat(),
                    area_m2=self.compound.area,
                    structures_removed=n_go,
                    structures_total=len(self.structures),
                    fraction_affected=round(fraction, 3),
                    removed_area_m2=round(float(removed.area), 1),
                    removed_area_fraction=round(float(removed.area / self.compound.area), 3),
                )
            )
        else:
            raise ConfigError(f"unknown simulated event {ev!r}")

    def _truth(
        self, poly: Any, change_type: str, detail: str | None, name: str, day: dt.date, **props: Any
    ) -> dict[str, Any]:
        geom = (
            shapely.orient_polygons(self.grid.to_wgs84(poly))
            if hasattr(shapely, "orient_polygons")
            else shapely.geometry.polygon.orient(self.grid.to_wgs84(poly))
        )
        return {
            "type": "Feature",
            "geometry": mapping(geom),
            "properties": {
                "name": name,
                "change_type": change_type,
                "detail": detail,
                "date": day.isoformat(),
                "expected_alert": True,
                "simulated": True,
                **{k: (round(v, 2) if isinstance(v, float) else v) for k, v in props.items()},
            },
        }

    # -- rendering
    def surface(self, day: dt.date) -> np.ndarray:
        """Surface reflectance ``(B, H, W)`` on ``day`` (no atmosphere, no sensor)."""
        soil = np.asarray(MATERIALS["soil"], np.float32)[:, None, None]
        stubble = np.asarray(MATERIALS["stubble"], np.float32)[:, None, None]
        veg = np.asarray(MATERIALS["vegetation"], np.float32)[:, None, None]
        green = np.zeros(len(self.fields), np.float32)
        stub = np.zeros(len(self.fields), np.float32)
        gain = np.zeros(len(self.fields), np.float32)
        for i, f in enumerate(self.fields):
            green[i], stub[i] = _phenology(f, day)
            gain[i] = f.soil_gain
        gmap = green[self.field_id][None]
        smap = stub[self.field_id][None]
        ground = (soil * (1 - smap) + stubble * smap) * (gain[self.field_id] * self.soil_texture)[None]
        refl = ground * (1 - gmap) + veg * gmap
        for layer in self.layers:
            if layer.start is not None and day < layer.start:
                continue
            if layer.end is not None and day >= layer.end:
                continue
            spec = np.asarray(MATERIALS[str(layer.material)], np.float32)[:, None, None]
            c = layer.cover[None]
            refl = refl * (1 - c) + spec * c
        return refl

    def fields_truth(self, years: Sequence[int]) -> list[dict[str, Any]]:
        out = []
        g = self.grid
        for i, f in enumerate(self.fields):
            if f.kind == "fallow":
                continue
            mask = self.field_id == i
            if mask.sum() < 4:
                continue
            area = float(mask.sum() * g.res**2)
            rows, cols = np.nonzero(mask)
            pt = shapely.Point(float(g.xs[cols].mean()), float(g.ys[rows].mean()))
            for y in years:
                if f.kind == "winter":
                    harvest = dt.date(y, 1, 1) + dt.timedelta(days=f.harvest_doy - 1)
                    green_from = harvest - dt.timedelta(days=int(0.75 * ((f.harvest_doy - f.sow_doy) % 365)))
                else:
                    green_from = dt.date(y, 1, 1) + dt.timedelta(days=f.sow_doy - 1 + 10)
                    harvest = dt.date(y, 1, 1) + dt.timedelta(days=f.sow_doy - 1 + f.green_days)
                for what, day in (("greening", green_from), ("harvest", harvest)):
                    out.append(
                        {
                            "type": "Feature",
                            "geometry": mapping(g.to_wgs84(pt)),
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


# ----------------------------------------------------------------------------- acquisitions


def _acquisition_dates(
    rng: np.random.Generator, start: dt.date, end: dt.date, revisit_days: int
) -> list[dt.date]:
    days = []
    d = start + dt.timedelta(days=int(rng.integers(0, revisit_days)))
    while d <= end:
        days.append(d)
        d += dt.timedelta(days=revisit_days)
    # missed passes and one longer outage (a satellite in safe mode, a processing gap)
    keep = rng.random(len(days)) > 0.12
    if len(days) > 20:
        gap0 = int(rng.integers(len(days) // 4, 3 * len(days) // 4))
        keep[gap0 : gap0 + int(rng.integers(3, 6))] = False
    out = [d for d, k in zip(days, keep, strict=False) if k]
    return out if len(out) >= 2 else days


def _cloud_cover(rng: np.random.Generator, day: dt.date, cloudiness: float) -> float:
    winter = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.0) * 0.5 + 0.5  # 1 in Jan, 0 in Jul
    p_clear = 0.88 - 0.5 * winter * cloudiness
    u = rng.random()
    if u < p_clear:
        return float(rng.uniform(0, 0.02))
    if u < p_clear + 0.6 * (1 - p_clear):
        return float(rng.uniform(0.05, 0.5))
    return float(rng.uniform(0.5, 1.0))


def _degrade(
    surface: np.ndarray, rng: np.random.Generator, day: dt.date, cover: float, *, misregistration_px: float
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Atmosphere, clouds, shadows, sensor: return reflectance ``(B,H,W)``, SCL and the scene's truth."""
    nb, h, w = surface.shape
    # misregistration: one sub-pixel shift per scene (and the odd worse one)
    sigma = misregistration_px * (3.0 if rng.random() < 0.08 else 1.0)
    shift = rng.normal(0, sigma, size=2)
    img = np.empty_like(surface)
    for b in range(nb):
        img[b] = ndimage.shift(surface[b], (shift[1], shift[0]), order=1, mode="nearest")
    # illumination (season) and haze: additive, stronger in blue, with a gradient
    doy = day.timetuple().tm_yday
    gain = 1.0 + 0.04 * math.cos(2 * math.pi * (doy - 172) / 365.0)
    # residual aerosol after L2A correction: mostly small, either sign, now and then a hazy day
    haze = float(rng.normal(0.05, 0.2)) + (float(rng.gamma(1.5, 0.5)) if rng.random() < 0.1 else 0.0)
    haze = max(haze, -0.3)
    ramp = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * float(rng.uniform(-0.4, 0.4))
    haze_spec = np.asarray([900, 700, 500, 300, 280, 120, 80], np.float32)[:, None, None]
    img = img * gain + haze * haze_spec * (1 + ramp)[None]
    # clouds with soft edges, and their shadows offset along the sun azimuth
    alpha = np.zeros((h, w), np.float32)
    if cover > 0.005:
        field = _smooth_noise(rng, (h, w), float(rng.uniform(4, 14)))
        thr = float(np.quantile(field, 1 - cover))
        alpha = np.clip((field - thr) / 0.6, 0, 1).astype(np.float32)
    sdx, sdy = int(rng.integers(6, 16)), int(rng.integers(-12, -3))
    shadow = np.roll(np.roll(alpha, sdy, axis=0), sdx, axis=1)
    shadow[: max(0, sdy), :] = 0
    shadow = np.clip(shadow - alpha, 0, 1)
    img = img * (1 - 0.6 * shadow)[None]
    cloud = np.asarray(MATERIALS["cloud"], np.float32)[:, None, None] * float(rng.uniform(0.75, 1.1))
    img = img * (1 - alpha)[None] + cloud * alpha[None]
    # sensor noise
    img = img + rng.normal(0, 1, img.shape).astype(np.float32) * (35 + 0.015 * img)
    # 20 m bands at their native resolution
    for b, name in enumerate(BANDS):
        if name in _TWENTY_M:
            hh, ww = h - h % 2, w - w % 2
            blk = img[b, :hh, :ww].reshape(hh // 2, 2, ww // 2, 2).mean(axis=(1, 3))
            img[b, :hh, :ww] = np.repeat(np.repeat(blk, 2, axis=0), 2, axis=1)
    # SCL: sen2cor-like classes; thin cloud edges (alpha < 0.25) go unflagged
    ndvi = (img[3] - img[2]) / np.maximum(img[3] + img[2], 1)
    scl = np.where(ndvi > 0.35, _SCL_VEG, _SCL_SOIL).astype(np.float32)
    scl[(img[3] < 1600) & (ndvi < 0.3)] = _SCL_DARK
    scl[shadow > 0.35] = _SCL_SHADOW
    scl[(alpha >= 0.25) & (alpha < 0.6)] = _SCL_CLOUD_MED
    scl[alpha >= 0.6] = _SCL_CLOUD_HIGH
    if rng.random() < 0.1:  # occasional cirrus over a band of the image
        band_rows = slice(int(rng.integers(0, h // 2)), None)
        thin = np.zeros((h, w), bool)
        thin[band_rows] = True
        img[:, thin] += np.asarray([400, 380, 360, 340, 330, 200, 100], np.float32)[:, None]
        scl[thin & (alpha < 0.25)] = _SCL_CIRRUS
    nodata = np.zeros((h, w), bool)
    if rng.random() < 0.05:  # the edge of an orbit: no data beyond a slanted line
        yy, xx = np.mgrid[0:h, 0:w]
        nodata = (xx + 0.3 * yy) > float(rng.uniform(0.4, 0.9)) * w
    img = np.clip(img, 1, 20000)
    img[:, nodata] = np.nan
    scl[nodata] = np.nan
    info = {
        "cloud_fraction": round(float((alpha >= 0.25).mean()), 4),
        "shadow_fraction": round(float((shadow > 0.35).mean()), 4),
        "haze": round(haze, 3),
        "shift_px": [round(float(shift[0]), 3), round(float(-shift[1]), 3)],
        "nodata_fraction": round(float(nodata.mean()), 4),
    }
    return img, scl, info


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
    return AOI(
        name=name,
        display_name=f"{name} (simulated)",
        geometry=shapely.geometry.polygon.orient(geom),
        point=(lon, lat),
        notes="SIMULATED site written by sitewatch.simulate; not a real place observation.",
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
) -> SimulatedSite:
    """Simulate a site and write its Sentinel-2 L2A scenes, ``truth.geojson`` and ``aoi.geojson``.

    Parameters
    ----------
    directory : str or path
        Output folder; scenes go to ``<directory>/scenes``.
    start, end : str or datetime.date
        First and last acquisition day.
    events : sequence of Pad, RunwayExtension, Evacuation, Earthworks
        Scripted changes.
    center : tuple of float
        ``(lon, lat)`` of the site centre; sets the UTM zone of the grid.
    size_px : int
        Width and height of the square grid in pixels.
    resolution_m : float
        Pixel size in metres.
    base : bool
        Draw a runway and a compound (needed by RunwayExtension and Evacuation).
    runway_length_m : float
        Length of the existing runway (capped to 70 % of the site width).
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

    Returns
    -------
    SimulatedSite

    Raises
    ------
    ConfigError
        If the dates are not in order or an event does not fit the site.
    """
    from odc.geo.geobox import GeoBox

    from sitewatch.providers.grid import stack_to_dataarray
    from sitewatch.providers.local import write_scene

    d0, d1 = as_date(start), as_date(end)
    if d1 <= d0:
        raise ConfigError(f"simulate_site: end {d1} must come after start {d0}")
    if size_px < 16:
        raise ConfigError(f"simulate_site: size_px={size_px} is too small; use at least 16")
    rng = np.random.default_rng(seed)
    crs = utm_crs_for(*center)
    fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    cx, cy = fwd.transform(*center)
    grid = _Grid(size_px, resolution_m, (cx, cy), crs)
    site = _Site(grid, rng, base=base, runway_length_m=runway_length_m, events=events)
    out = Path(directory)
    scenes_dir = out / "scenes"
    scenes_dir.mkdir(parents=True, exist_ok=True)
    gbox = GeoBox.from_bbox(
        (grid.x0, grid.y1 - size_px * resolution_m, grid.x0 + size_px * resolution_m, grid.y1),
        crs,
        resolution=resolution_m,
    )
    dates = _acquisition_dates(rng, d0, d1, revisit_days)
    scene_log = []
    for day in dates:
        when = dt.datetime.combine(day, dt.time(8, 12, 31), tzinfo=dt.timezone.utc)
        stamp = when.strftime("%Y%m%dT%H%M%S")
        cover = _cloud_cover(rng, day, cloudiness)
        refl, scl, info = _degrade(site.surface(day), rng, day, cover, misregistration_px=misregistration_px)
        data = np.concatenate([refl, scl[None]], axis=0)[None].astype(np.float32)
        scene = Scene(
            id=f"SIM_S2_MSIL2A_{stamp}",
            datetime=when,
            bands=(*BANDS, "SCL"),
            provider="simulated",
            location="memory",
        )
        stack = stack_to_dataarray(data, gbox, [scene], [*BANDS, "SCL"], provider="simulated")
        write_scene(
            stack,
            scenes_dir,
            name=scene.id,
            processing_level="L2A",
            tags={"SIMULATED": "true", "SITEWATCH_SIMULATOR_SEED": str(seed)},
        )
        scene_log.append({"id": scene.id, "date": day.isoformat(), **info})
    aoi = _default_aoi(center, size_px * resolution_m * 0.96, name)
    aoi_doc = {
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
    aoi_path = out / "aoi.geojson"
    _write_json(aoi_path, aoi_doc)
    features = list(site.truth)
    features += site.fields_truth(range(d0.year, d1.year + 1))
    truth = {
        "type": "FeatureCollection",
        "features": features,
        "sitewatch_simulation": {
            "simulated": True,
            "seed": seed,
            "aoi": name,
            "crs": crs,
            "start": d0.isoformat(),
            "end": d1.isoformat(),
            "size_px": size_px,
            "resolution_m": resolution_m,
            "events": [{"type": type(e).__name__, **_jsonable(asdict(e))} for e in events],
            "scenes": scene_log,
        },
    }
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
    )


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items()}


def _write_json(path: Path, doc: Any) -> None:
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    tmp.replace(path)


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
    """A random but plausible mix of events for a site (for benchmarks).

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
    grid = _Grid(size_px, resolution_m, (0.0, 0.0), "EPSG:3857")
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


def score_alerts(
    alerts: Mapping[str, Any], truth: Mapping[str, Any], *, min_overlap: float = 0.2
) -> dict[str, Any]:
    """Compare an alerts FeatureCollection with a simulator's ``truth.geojson``.

    A truth event is found when an alert covers at least ``min_overlap`` of it (or it
    covers that share of the alert). Alerts matching no event are false alerts.

    Parameters
    ----------
    alerts : mapping
        The alerts FeatureCollection (as written by ``sitewatch scan``).
    truth : mapping
        The truth FeatureCollection (as written by :func:`simulate_site`).
    min_overlap : float

    Returns
    -------
    dict
        ``events``: one record per expected event (found, type_ok, date_error_days,
        area_error, length_error, alert id); ``false_alerts``: ids and types of alerts
        matching nothing; ``recall``, ``type_accuracy``, ``n_false``.
    """
    from shapely.geometry import shape

    crs = truth.get("sitewatch_simulation", {}).get("crs") or "EPSG:3857"
    tr = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)

    def metric(geom_doc: Any) -> Any:
        g = shape(geom_doc)
        return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))

    feats = [(f, metric(f["geometry"])) for f in alerts.get("features", []) if f.get("geometry")]
    used: set[int] = set()
    events = []
    for t in truth.get("features", []):
        tp = t["properties"]
        if not tp.get("expected_alert"):
            continue
        tg = metric(t["geometry"])
        best, best_ov = None, 0.0
        for i, (_f, g) in enumerate(feats):
            inter = g.intersection(tg).area
            ov = max(inter / max(tg.area, 1e-9), inter / max(g.area, 1e-9))
            if ov > best_ov:
                best, best_ov = i, ov
        rec: dict[str, Any] = {
            "name": tp.get("name"),
            "change_type": tp["change_type"],
            "date": tp["date"],
            "found": best is not None and best_ov >= min_overlap,
        }
        if rec["found"] and best is not None:
            used.add(best)
            ap = feats[best][0]["properties"]
            rec["alert_id"] = ap.get("id")
            rec["alert_type"] = ap.get("change_type")
            rec["type_ok"] = ap.get("change_type") == tp["change_type"]
            fd = ap.get("first_detected")
            if fd:
                rec["date_error_days"] = (dt.date.fromisoformat(fd) - dt.date.fromisoformat(tp["date"])).days
            if tp["change_type"] in ("new_pad", "earthworks", "runway_change") and tp.get("area_m2"):
                rec["area_error"] = round(abs(ap.get("area_m2", 0) - tp["area_m2"]) / tp["area_m2"], 3)
            want_len = tp.get("added_length_m") or tp.get("length_m")
            got_len = (ap.get("evidence") or {}).get("added_length_m") or ap.get("length_m")
            if want_len and got_len and tp["change_type"] != "evacuation":
                rec["length_error"] = round(abs(got_len - want_len) / want_len, 3)
            if tp["change_type"] == "evacuation":
                rec["fraction_affected"] = (ap.get("evidence") or {}).get("fraction_affected")
                rec["fraction_truth"] = tp.get("fraction_affected")
        events.append(rec)
    false = [
        {"id": f["properties"].get("id"), "change_type": f["properties"].get("change_type")}
        for i, (f, _) in enumerate(feats)
        if i not in used
    ]
    # an alert overlapping an already matched event (the same object split) is not an event found
    n = len(events)
    return {
        "events": events,
        "false_alerts": false,
        "recall": round(sum(e["found"] for e in events) / n, 3) if n else None,
        "type_accuracy": round(sum(bool(e.get("type_ok")) for e in events) / n, 3) if n else None,
        "n_false": len(false),
    }
