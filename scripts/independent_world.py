"""An independent world for measuring ``sitewatch scan`` (not a test, not part of the package).

Written apart from :mod:`sitewatch.simulate` and sharing none of its code, conventions or
spectra, so that a detector tuned on that simulator gains nothing here. It draws a site in the
Jazira (north-east Syria) from a seed and writes a Sentinel-2 L2A-like series as real products
come: one multi-band GeoTIFF per acquisition (``B02 B03 B04 B08 B11 B12`` and, on most sites,
``SCL``), uint16 digital numbers carrying the +1000 offset of processing baseline 05.xx
(``_N0511_`` in the name), every 5 days, on the UTM grid of the place.

How the world is drawn (ranges, not values tuned to the scan):

- **Ground**: one of three soils (calcareous, red-brown Mediterranean, grey alluvial) with its
  own jitter, darker when wet after winter rain; wheat and barley parcels (sown in November,
  green by March, yellow in May, harvested late May to June, stubble, ploughed in autumn), some
  fallow, some irrigated summer cotton; dirt tracks.
- **Facilities**: an existing runway 1.0-1.5 km long and 25-45 m wide at any orientation, of
  aged asphalt or concrete, with a concrete apron; a compound of 250-600 m on a gravel yard with
  metal roofs, white tents, coloured containers and dark vehicles.
- **Events**, each at a random date after a year-round baseline: a new pad (concrete or
  asphalt, 50-220 m a side, laid at once or graded first and surfaced weeks later), a runway
  extension (150-450 m, in line, of the runway's own material, laid at once or in stages), the
  compound evacuated (every structure and vehicle leaves on its own day over 1-120 days,
  leaving the yard), and on some sites an orchard felled (``vegetation_loss``).
- **Sensor and sky**: geometry is drawn on a 2 m grid and averaged to 10 m, so strips and
  edges are mixed pixels; per-date haze and gain, sensor noise, fresh surfaces weathering over
  months; clouds (more in winter) with their shadows, which SCL marks imperfectly (thin edges
  missed).

``draw_site(seed)`` returns the plan; ``write_site(plan, folder)`` writes ``scenes/``,
``aoi.geojson`` and ``truth.json`` (event outlines in the grid's CRS, onset, completion, area,
added length, fraction).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import shapely
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_points
from scipy import ndimage
from shapely import affinity
from shapely.geometry import Polygon, box, mapping

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
SUB = 5  # 2 m drawing grid inside each 10 m pixel
RES = 10.0

# Reflectance spectra (B02 B03 B04 B08 B11 B12), from the ranges of public spectral libraries
# (USGS splib07, ECOSTRESS); each site jitters its own copy.
SOILS = {
    "calcareous": (0.15, 0.20, 0.25, 0.30, 0.39, 0.34),
    "red-brown": (0.08, 0.11, 0.17, 0.23, 0.34, 0.30),
    "grey alluvial": (0.10, 0.12, 0.14, 0.18, 0.26, 0.23),
}
SPECTRA = {
    "canopy": (0.03, 0.07, 0.04, 0.42, 0.22, 0.11),
    "senescent": (0.11, 0.15, 0.19, 0.27, 0.37, 0.30),
    "stubble": (0.14, 0.18, 0.22, 0.28, 0.39, 0.32),
    "orchard": (0.03, 0.06, 0.04, 0.33, 0.18, 0.09),
    "asphalt aged": (0.08, 0.09, 0.10, 0.12, 0.15, 0.14),
    "asphalt fresh": (0.04, 0.045, 0.05, 0.06, 0.07, 0.065),
    "concrete aged": (0.19, 0.22, 0.24, 0.27, 0.30, 0.27),
    "concrete fresh": (0.26, 0.29, 0.31, 0.34, 0.36, 0.32),
    "gravel": (0.17, 0.21, 0.25, 0.29, 0.35, 0.31),
    "metal roof": (0.27, 0.28, 0.29, 0.30, 0.27, 0.24),
    "tent": (0.38, 0.41, 0.42, 0.44, 0.36, 0.28),
    "container red": (0.09, 0.07, 0.18, 0.27, 0.25, 0.20),
    "container blue": (0.14, 0.12, 0.08, 0.22, 0.18, 0.14),
    "vehicle": (0.05, 0.05, 0.06, 0.08, 0.07, 0.06),
    "track": (0.18, 0.22, 0.27, 0.31, 0.38, 0.33),
}
CLOUD = np.array((0.45, 0.45, 0.46, 0.48, 0.38, 0.30))


@dataclass
class Shape:
    """A surface painted from ``date`` on (None: from the start) with one material."""

    geom: Polygon
    material: str
    date: dt.date | None = None
    fresh: str | None = None  # the material's fresh look, weathering to ``material`` over months
    field_id: int | None = None


@dataclass
class Event:
    change_type: str
    outline: Polygon
    onset: dt.date
    completion: dt.date
    area_m2: float
    added_length_m: float | None = None
    fraction: float | None = None
    detail: str = ""


@dataclass
class SitePlan:
    seed: int
    name: str
    crs: str
    origin: tuple[float, float]
    size_px: int
    start: dt.date
    end: dt.date
    soil: np.ndarray
    spectra: dict[str, np.ndarray]
    shapes: list[Shape]
    fields: list[dict[str, Any]]
    events: list[Event]
    scl: bool
    cloudiness: float
    notes: list[str] = field(default_factory=list)


def _rect(cx: float, cy: float, length: float, width: float, angle: float) -> Polygon:
    return affinity.rotate(
        box(cx - length / 2, cy - width / 2, cx + length / 2, cy + width / 2), angle, (cx, cy)
    )


def _day(start: dt.date, rng: np.random.Generator, lo: int, hi: int) -> dt.date:
    return start + dt.timedelta(days=int(rng.integers(lo, hi)))


def draw_site(seed: int, size_px: int = 160) -> SitePlan:
    """Draw one independent site from ``seed`` (layout, materials, events, sky)."""
    rng = np.random.default_rng(10_000 + seed)
    lon, lat = float(rng.uniform(39.6, 41.9)), float(rng.uniform(35.9, 37.1))
    crs = "EPSG:32637"
    xs, ys = warp_points("EPSG:4326", crs, [lon], [lat])
    side = size_px * RES
    x0, y0 = round(xs[0] - side / 2, -1), round(ys[0] + side / 2, -1)
    months = int(rng.integers(14, 25))
    start = dt.date(int(rng.choice([2023, 2024])), int(rng.integers(1, 7)), 1)
    end = start + dt.timedelta(days=int(months * 30.4))
    soil_name = str(rng.choice(list(SOILS)))
    soil = np.array(SOILS[soil_name]) * rng.uniform(0.92, 1.08) * rng.uniform(0.97, 1.03, 6)
    spectra = {
        k: np.array(v) * rng.uniform(0.93, 1.07) * rng.uniform(0.97, 1.03, 6) for k, v in SPECTRA.items()
    }
    shapes: list[Shape] = []
    events: list[Event] = []
    # coordinates below are metres from the grid's upper-left corner, y down
    frame = box(0, 0, side, side).buffer(-40, join_style="mitre")
    angle = float(rng.uniform(0, 180))
    rad = np.deg2rad(angle)
    along, across = np.array([np.cos(rad), np.sin(rad)]), np.array([-np.sin(rad), np.cos(rad)])
    centre = np.array([side / 2, side / 2])
    paving = "asphalt" if rng.random() < 0.5 else "concrete"
    rw_len, rw_wid = float(rng.uniform(1000, 1600)), float(rng.uniform(25, 45))
    ext_len = float(rng.uniform(150, 450))
    sign = 1 if rng.random() < 0.5 else -1
    # the extension ends inside the grid; the runway may run off it (the AOI cuts it, as real ones do)
    reach = (side / 2 - 80) / max(abs(np.cos(rad)), abs(np.sin(rad)))
    t_end = reach - ext_len - float(rng.uniform(0, 120))
    rw_mid = centre + sign * along * (t_end - rw_len / 2)
    runway = _rect(*rw_mid, rw_len, rw_wid, angle)
    t_seen = (t_end + max(t_end - rw_len, -reach)) / 2  # the middle of the part in view
    seen = centre + sign * along * t_seen
    fields = _draw_fields(rng, side, start, end)
    for f in fields:
        shapes.append(Shape(f["geom"], "field", field_id=f["id"]))
    for _ in range(int(rng.integers(2, 5))):  # dirt tracks
        tx, ty = side * rng.uniform(0.1, 0.9), side * rng.uniform(0.1, 0.9)
        shapes.append(
            Shape(
                _rect(
                    tx,
                    ty,
                    float(rng.uniform(400, 1400)),
                    float(rng.uniform(4, 8)),
                    float(rng.uniform(0, 180)),
                ),
                "track",
            )
        )
    shapes.append(Shape(runway, f"{paving} aged"))
    ext = _rect(*(centre + sign * along * (t_end + ext_len / 2)), ext_len, rw_wid, angle)
    taken = [runway.buffer(40), ext.buffer(60)]
    apron = _place(
        rng,
        lambda: _rect(
            *(seen + across * rng.choice([-1, 1]) * (rw_wid / 2 + 90) + along * rng.uniform(-250, 250)),
            float(rng.uniform(150, 300)),
            140,
            angle,
        ),
        frame,
        taken,
    )
    if apron is not None:
        shapes.append(Shape(apron, "concrete aged"))
        taken.append(apron.buffer(40))
    cw, ch = float(rng.uniform(250, 600)), float(rng.uniform(200, 450))
    compound = _place(
        rng,
        lambda: _rect(
            *(seen + across * rng.choice([-1, 1]) * rng.uniform(200, 500) + along * rng.uniform(-300, 300)),
            cw,
            ch,
            angle,
        ),
        frame,
        taken,
    )
    structures: list[Shape] = []
    if compound is not None:
        shapes.append(Shape(compound, "gravel"))
        taken.append(compound.buffer(40))
        comp_c = np.array(compound.centroid.coords[0])
        structures = _draw_structures(rng, comp_c, cw, ch, angle)
        shapes.extend(structures)
    base_day, last_day = 200, (end - start).days - 50
    # 1. new pad on open ground near the facilities
    pad_mat = "concrete" if rng.random() < 0.6 else "asphalt"
    pl, pw = float(rng.uniform(50, 220)), float(rng.uniform(50, 160))
    pad_angle = angle + float(rng.uniform(-20, 20))
    pad = _place(
        rng,
        lambda: _rect(
            *(seen + across * rng.choice([-1, 1]) * rng.uniform(150, 600) + along * rng.uniform(-500, 500)),
            pl,
            pw,
            pad_angle,
        ),
        frame,
        taken,
    )
    if pad is None:
        pad = _place(
            rng, lambda: _rect(*rng.uniform(150, side - 150, 2), pl, pw, pad_angle), frame, taken, tries=500
        )
    assert pad is not None, "no room for the pad"
    taken.append(pad.buffer(40))
    pad_done = _day(start, rng, base_day, last_day)
    onset = pad_done
    if rng.random() < 0.4:  # graded first, surfaced weeks later
        onset = pad_done - dt.timedelta(days=int(rng.integers(15, 60)))
        shapes.append(Shape(pad, "track", date=onset))
    shapes.append(Shape(pad, f"{pad_mat} aged", date=pad_done, fresh=f"{pad_mat} fresh"))
    events.append(Event("new_pad", pad, onset, pad_done, pad.area, detail=pad_mat))
    # 2. runway extension, in line, the runway's own material
    stages = 1 if rng.random() < 0.5 else int(rng.integers(2, 5))
    ext_start = _day(start, rng, base_day, last_day - 60)
    gap = int(rng.integers(7, 25))
    for k in range(stages):
        seg = ext_len / stages
        mid = centre + sign * along * (t_end + seg * (k + 0.5))
        shapes.append(
            Shape(
                _rect(*mid, seg + 1, rw_wid, angle),
                f"{paving} aged",
                date=ext_start + dt.timedelta(days=k * gap),
                fresh=f"{paving} fresh",
            )
        )
    events.append(
        Event(
            "runway_change",
            ext,
            ext_start,
            ext_start + dt.timedelta(days=(stages - 1) * gap),
            ext.area,
            added_length_m=ext_len,
            detail=paving,
        )
    )
    # 3. the compound evacuated, each structure on its own day
    ev_start = _day(start, rng, base_day, last_day - 40)
    spread = int(rng.choice([1, 10, 40, 80, 120]))
    leaving = [s for s in structures if rng.random() < 0.9]
    days = []
    for s in leaving:
        d = ev_start + dt.timedelta(days=int(rng.integers(0, spread)))
        days.append(d)
        shapes.append(Shape(s.geom, "gravel", date=d))
    if compound is not None and leaving:
        fraction = len(leaving) / len(structures)
        events.append(
            Event(
                "evacuation",
                compound,
                ev_start,
                max(days),
                compound.area,
                fraction=fraction,
                detail=f"over {spread} d",
            )
        )
    # 4. sometimes an orchard felled
    if rng.random() < 0.5:
        size = rng.uniform(90, 200, 2)
        tilt = float(rng.uniform(0, 90))
        orchard = _place(rng, lambda: _rect(*rng.uniform(100, side - 100, 2), *size, tilt), frame, taken)
        if orchard is not None:
            shapes.append(Shape(orchard, "orchard"))
            felled = _day(start, rng, base_day, last_day)
            shapes.append(Shape(orchard, "stubble", date=felled))
            events.append(Event("vegetation_loss", orchard, felled, felled, orchard.area))
    events = [e for e in events if frame.contains(e.outline)]
    return SitePlan(
        seed=seed,
        name=f"independent{seed}",
        crs=crs,
        origin=(x0, y0),
        size_px=size_px,
        start=start,
        end=end,
        soil=soil,
        spectra=spectra,
        shapes=shapes,
        fields=fields,
        events=events,
        scl=bool(rng.random() < 0.75),
        cloudiness=float(rng.uniform(0.2, 0.5)),
        notes=[
            f"soil {soil_name}",
            f"runway {paving} {rw_wid:.0f} m",
            f"pad {pad_mat} {pl:.0f}x{pw:.0f} m",
            f"extension {ext_len:.0f} m in {stages}",
            f"evacuation over {spread} d",
        ],
    )


def _place(
    rng: np.random.Generator, draw: Any, frame: Polygon, taken: list[Polygon], tries: int = 200
) -> Polygon | None:
    """The first drawn polygon inside ``frame`` that overlaps nothing in ``taken``."""
    for _ in range(tries):
        g = draw()
        if frame.contains(g) and not any(g.intersects(t) for t in taken):
            return g
    return None


def _draw_fields(rng: np.random.Generator, side: float, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Parcels on a rotated grid, each with its own crop calendar."""
    out: list[dict[str, Any]] = []
    angle = float(rng.uniform(0, 90))
    step_x, step_y = float(rng.uniform(120, 260)), float(rng.uniform(120, 260))
    n = int(side * 1.5 / min(step_x, step_y)) + 2
    for i in range(-n, n):
        for j in range(-n, n):
            c = np.array([side / 2 + i * step_x, side / 2 + j * step_y])
            poly = affinity.rotate(
                box(c[0], c[1], c[0] + step_x - 6, c[1] + step_y - 6), angle, (side / 2, side / 2)
            )
            if not poly.intersects(box(0, 0, side, side)):
                continue
            r = rng.random()
            crop = "fallow" if r < 0.2 else ("cotton" if r < 0.3 else "wheat")
            out.append(
                {
                    "id": len(out),
                    "geom": poly,
                    "crop": crop,
                    "jitter": int(rng.integers(-12, 13)),
                    "peak": float(rng.uniform(0.6, 0.95)),
                }
            )
    return out


def _draw_structures(
    rng: np.random.Generator, c: np.ndarray, w: float, h: float, angle: float
) -> list[Shape]:
    out: list[Shape] = []
    n = int(rng.integers(15, 50))
    kinds = ["metal roof", "tent", "container red", "container blue"]
    weights = rng.dirichlet(np.ones(4))
    for _ in range(n):
        kind = str(rng.choice(kinds, p=weights))
        sx, sy = (
            (float(rng.uniform(10, 35)), float(rng.uniform(8, 20)))
            if kind != "container red"
            else (12.0, 2.5)
        )
        px, py = rng.uniform(-0.42, 0.42) * w, rng.uniform(-0.42, 0.42) * h
        ctr = c + np.array([px, py])
        out.append(Shape(_rect(*ctr, sx, sy, angle + float(rng.choice([0, 90]))), kind))
    for _ in range(int(rng.integers(10, 60))):  # vehicles, in rows
        ctr = c + np.array([rng.uniform(-0.45, 0.45) * w, rng.uniform(-0.45, 0.45) * h])
        out.append(Shape(_rect(*ctr, 6, 2.5, angle + float(rng.uniform(-10, 10))), "vehicle"))
    rotated = [Shape(affinity.rotate(s.geom, angle, tuple(c)), s.material) for s in out]
    return rotated


def crop_spectrum(plan: SitePlan, f: dict[str, Any], day: dt.date, soil: np.ndarray) -> np.ndarray:
    """A parcel's reflectance on ``day`` from its crop calendar."""
    sp = plan.spectra
    doy = (day.timetuple().tm_yday + f["jitter"]) % 365
    if f["crop"] == "fallow":
        return soil
    if f["crop"] == "cotton":  # irrigated summer crop: green June-September
        green = np.clip(np.interp(doy, [130, 180, 240, 275, 290], [0, 0.6, f["peak"], 0.5, 0]), 0, 1)
        return green * sp["canopy"] + (1 - green) * soil
    # winter cereal: sown mid-November, green March-April, yellow in May, harvested ~day 150-170
    green = float(np.interp(doy, [0, 40, 75, 110, 130, 150], [0.2, 0.35, 0.7, f["peak"], 0.5, 0.1]))
    if doy >= 320:
        green = float(np.interp(doy, [320, 365], [0.0, 0.2]))
    if 150 <= doy < 320:
        green = 0.0
    yellow = float(np.interp(doy, [110, 135, 160], [0, 0.6, 0]))
    if 160 <= doy < 290:  # stubble until autumn ploughing
        return 0.7 * sp["stubble"] + 0.3 * soil
    return green * sp["canopy"] + yellow * sp["senescent"] + max(0.0, 1 - green - yellow) * soil


def _soil_today(plan: SitePlan, day: dt.date, rng: np.random.Generator) -> np.ndarray:
    """The soil's reflectance: darker after winter rain (a wet spell on some winter dates)."""
    if day.month in (11, 12, 1, 2, 3) and rng.random() < 0.35:
        return plan.soil * rng.uniform(0.72, 0.9)
    return plan.soil


def _aged(plan: SitePlan, s: Shape, day: dt.date) -> np.ndarray:
    sp = plan.spectra
    if s.fresh is None or s.date is None:
        return sp[s.material]
    age = (day - s.date).days
    w = float(np.exp(-age / 120.0))  # fresh surfaces weather over a few months
    return w * sp[s.fresh] + (1 - w) * sp[s.material]


class Renderer:
    """Draws the site on its 2 m grid once, then any date's 10 m reflectance."""

    def __init__(self, plan: SitePlan) -> None:
        from rasterio.features import rasterize

        self.plan = plan
        n = plan.size_px * SUB
        self.n = n
        local = rasterio.Affine(RES / SUB, 0, 0, 0, RES / SUB, 0)  # metres from the corner, y down
        self.static = np.zeros((n, n), np.int32)  # 0 = bare soil; shape k is label k + 1
        self.dated: list[tuple[int, tuple[slice, slice], np.ndarray]] = []
        for k, s in enumerate(plan.shapes):
            m = rasterize([(s.geom, 1)], out_shape=(n, n), transform=local, dtype="uint8").astype(bool)
            if s.date is None:
                self.static[m] = k + 1
            elif m.any():
                ys, xs = np.nonzero(m)
                win = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
                self.dated.append((k, win, m[win]))
        rng = np.random.default_rng(plan.seed)
        fine = rng.lognormal(0, 0.05, (n, n))
        coarse = ndimage.zoom(
            rng.lognormal(0, 0.04, (plan.size_px // 8, plan.size_px // 8)), 8 * SUB, order=1
        )
        self.texture = (fine * coarse[:n, :n]).astype(np.float32)

    def labels(self, day: dt.date) -> np.ndarray:
        """Shape labels on the 2 m grid on ``day``: what was there from the start, then in order
        every dated surface laid or structure removed by then."""
        lab = self.static.copy()
        for k, win, m in self.dated:
            s = self.plan.shapes[k]
            if s.date is not None and s.date <= day:
                lab[win][m] = k + 1
        return lab

    def reflectance(self, day: dt.date, rng: np.random.Generator) -> np.ndarray:
        """(6, y, x) ground reflectance at 10 m on ``day`` (no sky)."""
        soil = _soil_today(self.plan, day, rng)
        lut = np.empty((len(self.plan.shapes) + 1, 6))
        lut[0] = soil
        fields = {f["id"]: f for f in self.plan.fields}
        for k, s in enumerate(self.plan.shapes):
            if s.field_id is not None:
                lut[k + 1] = crop_spectrum(self.plan, fields[s.field_id], day, soil)
            elif s.material == "track":
                lut[k + 1] = 0.5 * self.plan.spectra["track"] + 0.5 * soil * 1.1
            else:
                lut[k + 1] = _aged(self.plan, s, day)
        fine = lut.astype(np.float32)[self.labels(day)] * self.texture[..., None]
        p = self.plan.size_px
        return fine.reshape(p, SUB, p, SUB, 6).mean(axis=(1, 3)).transpose(2, 0, 1)


def sky(
    plan: SitePlan, ground: np.ndarray, day: dt.date, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Haze, gain, clouds and shadows over ``ground``; returns (reflectance, SCL, clear)."""
    p = plan.size_px
    winter = day.month in (11, 12, 1, 2, 3, 4)
    haze = rng.uniform(0, 0.015) * np.array([1, 0.7, 0.5, 0.3, 0.1, 0.05])
    gain = rng.normal(1, 0.015, 6)
    out = ground * gain[:, None, None] + haze[:, None, None]
    alpha = np.zeros((p, p))
    shadow = np.zeros((p, p))
    if rng.random() < plan.cloudiness * (1.6 if winter else 0.45):
        cover = rng.uniform(0.05, 1.0)
        noise = ndimage.gaussian_filter(rng.normal(size=(p + 80, p + 80)), rng.uniform(6, 18))
        noise = (noise - noise.mean()) / noise.std()
        thr = np.quantile(noise, 1 - cover)
        big = np.clip((noise - thr) / 0.6, 0, 1)
        alpha = big[40 : 40 + p, 40 : 40 + p]
        dy, dx = int(rng.integers(10, 35)), int(rng.integers(-30, -8))
        shadow = big[40 + dy : 40 + dy + p, 40 + dx : 40 + dx + p] * (1 - alpha)
        out = out * (1 - 0.65 * shadow)[None] * (1 - alpha)[None] + alpha[None] * CLOUD[:, None, None]
    out = out + rng.normal(0, 0.004, out.shape)
    ndvi = (out[3] - out[2]) / np.maximum(out[3] + out[2], 1e-6)
    scl = np.where(ndvi > 0.3, 4, 5).astype(np.uint8)
    scl[shadow > 0.4] = 3
    scl[alpha > 0.35] = 8  # thin cloud edges (alpha 0.05-0.35) go unflagged, as in real SCL
    scl[alpha > 0.7] = 9
    clear = (alpha < 0.05) & (shadow < 0.05)
    return out, scl, clear


def write_site(plan: SitePlan, folder: Path) -> dict[str, Any]:
    """Write the series, the AOI and the truth of ``plan`` under ``folder``; returns the truth."""
    scenes = folder / "scenes"
    scenes.mkdir(parents=True, exist_ok=True)
    x0, y0 = plan.origin
    geo = from_origin(x0, y0, RES, RES)

    def to_crs(g: Polygon) -> Polygon:  # metres from the corner, y down -> the grid's CRS
        return shapely.transform(g, lambda xy: np.column_stack([x0 + xy[:, 0], y0 - xy[:, 1]]))

    renderer = Renderer(plan)
    rng = np.random.default_rng(plan.seed + 1)
    masks = {i: _outline_mask(to_crs(e.outline), geo, plan.size_px) for i, e in enumerate(plan.events)}
    clear_days: dict[int, list[str]] = {i: [] for i in masks}
    day = plan.start + dt.timedelta(days=int(rng.integers(0, 5)))
    while day <= plan.end:
        refl, scl, clear = sky(plan, renderer.reflectance(day, rng), day, rng)
        for i, m in masks.items():
            if clear[m].mean() >= 0.8:
                clear_days[i].append(day.isoformat())
        dn = np.clip(np.round(refl * 10000) + 1000, 1, 65535).astype(np.uint16)
        name = f"S2B_MSIL2A_{day:%Y%m%d}T083559_N0511_R064_T37SEA_{day:%Y%m%d}T104512.tif"
        layers = [*dn, scl] if plan.scl else list(dn)
        desc = [*BANDS, "SCL"] if plan.scl else list(BANDS)
        tmp = scenes / (name + ".part")
        with rasterio.open(
            tmp,
            "w",
            driver="GTiff",
            width=plan.size_px,
            height=plan.size_px,
            count=len(layers),
            dtype="uint16",
            crs=plan.crs,
            transform=geo,
            nodata=0,
            compress="deflate",
        ) as dst:
            for b, (arr, d) in enumerate(zip(layers, desc, strict=True), start=1):
                dst.write(arr.astype(np.uint16), b)
                dst.set_band_description(b, d)
        tmp.replace(scenes / name)
        day += dt.timedelta(days=5)
    frame = to_crs(box(0, 0, plan.size_px * RES, plan.size_px * RES).buffer(-60, join_style="mitre"))
    lon, lat = warp_points(plan.crs, "EPSG:4326", *map(list, frame.exterior.xy))
    aoi = {
        "type": "Feature",
        "geometry": mapping(Polygon(zip(lon, lat, strict=True))),
        "properties": {"name": plan.name},
    }
    (folder / "aoi.geojson").write_text(json.dumps(aoi))
    truth = {
        "seed": plan.seed,
        "crs": plan.crs,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "scl": plan.scl,
        "notes": plan.notes,
        "events": [
            {
                "change_type": e.change_type,
                "outline": mapping(to_crs(e.outline)),
                "onset": e.onset.isoformat(),
                "completion": e.completion.isoformat(),
                "area_m2": e.area_m2,
                "added_length_m": e.added_length_m,
                "fraction": e.fraction,
                "detail": e.detail,
                "clear_dates": clear_days[i],
            }
            for i, e in enumerate(plan.events)
        ],
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=1))
    return truth


def _outline_mask(geom: Polygon, geo: rasterio.Affine, size: int) -> np.ndarray:
    from rasterio.features import rasterize

    m = rasterize([(geom, 1)], out_shape=(size, size), transform=geo, dtype="uint8").astype(bool)
    return m if m.any() else np.ones((size, size), bool)
