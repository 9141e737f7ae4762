"""A simulated site laid out from its world and events, and its state on any day.

:class:`Site` draws the farmland (Voronoi fields and their calendars, soil texture, roads),
lays the base (runway, compound, structures), the groves, and every scripted event as
layers with lifetimes, then the terrain and the weather. :meth:`Site.state` gives what is on
the ground on one day (:class:`SiteState`): the fields' cover, the layers present with their
spectra, snow, wet soil. The optical writer renders that state to reflectance
(:mod:`sitewatch.simulate.surface`); a radar writer can render the same state.

The order of random draws of the original simulator is kept exactly (fields, texture,
roads, structures, evacuations from one generator); everything the original world did not
have draws from its own generator, so the original world's files stay the same.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import mapping

from sitewatch.errors import ConfigError
from sitewatch.simulate.events import (
    Earthworks,
    Evacuation,
    Pad,
    RunwayExtension,
    VegetationLoss,
    onset_and_completion,
)
from sitewatch.simulate.fields import (
    FieldPlan,
    FieldState,
    add_management,
    field_outlines,
    field_state,
    fields_truth,
    plan_fields,
    smooth_noise,
)
from sitewatch.simulate.grid import Grid
from sitewatch.simulate.layers import Cover, GroveLook, Layer
from sitewatch.simulate.terrain import Relief, draw_dem, draw_relief_noise, sun_at_overpass
from sitewatch.simulate.weather import Weather, plan_weather, snow_cover
from sitewatch.simulate.world import Base, Compound, World, compound_outline
from sitewatch.types import as_date

__all__ = ["Site", "SiteState"]

# Independent random streams for what the original world never drew (see the module doc).
STREAM_SOIL, STREAM_MANAGEMENT, STREAM_TERRAIN, STREAM_WEATHER, STREAM_GROVES = 11, 12, 13, 14, 15
#: Weathering of fresh surfaces: material, what it becomes, time constant in days.
WEATHERING: dict[str, tuple[str, float]] = {
    "asphalt_fresh": ("asphalt_aged", 420.0),
    "concrete_fresh": ("concrete_aged", 300.0),
}


@dataclass(frozen=True)
class SiteState:
    """What is on the ground on one day.

    Attributes
    ----------
    day : datetime.date
    fields : tuple of FieldState
        Per field (index as ``Site.field_id``).
    layers : tuple of (Layer, numpy.ndarray)
        The layers present, bottom to top, with their spectra that day.
    snow : numpy.ndarray or None
        Share of each pixel under snow.
    snow_age : float
        0 for fresh snow to 1 for old.
    wetness : float
        Soil wetness after rain (0..1).
    """

    day: dt.date
    fields: tuple[FieldState, ...]
    layers: tuple[tuple[Layer, np.ndarray], ...]
    snow: np.ndarray | None = None
    snow_age: float = 0.0
    wetness: float = 0.0


class Site:
    """A site on its grid: farmland, base, groves, events, terrain and weather.

    Parameters
    ----------
    grid : Grid
    rng : numpy.random.Generator
        The simulator's main generator (drawn in the original order).
    world : World
    base : Base or None
        The base to lay (already resolved from the world or the original layout).
    events : sequence
    seed : int
        For the independent streams of what the original world did not have.
    period : tuple of datetime.date
        First and last simulated day (for the weather).
    lat : float
        Latitude of the site (the sun's path, where snow melts first).
    """

    def __init__(
        self,
        grid: Grid,
        rng: np.random.Generator,
        *,
        world: World,
        base: Base | None,
        events: Sequence[Any],
        seed: int = 0,
        period: tuple[dt.date, dt.date] | None = None,
        lat: float = 36.7,
    ) -> None:
        self.grid, self.rng, self.world, self.seed, self.lat = grid, rng, world, seed, lat
        self.spectra = {name: m.spectrum()[:, None, None] for name, m in world.materials.items()}
        self.full = world.truth_detail == "full"
        self.layers: list[Layer] = []
        self.truth: list[dict[str, Any]] = []
        self.footprints: dict[str, Any] = {}  # truth name -> local geometry (expected events)
        self.extra_truth: list[dict[str, Any]] = []  # distractors beyond the fields (full truth)
        self._lay_farmland()
        self.runway: dict[str, Any] | None = None
        self.compound: Any = None
        self.structures: list[tuple[Any, Cover]] = []
        if base is not None:
            self._lay_base(base)
        self._lay_groves()
        for ev in events:
            self._add_event(ev)
        self.terrain = self._lay_terrain(events)
        self.weather = self._plan_weather(period)
        self._patches = (
            draw_relief_noise(self._stream(STREAM_WEATHER + 100), grid.size)
            if self.weather.snowfalls
            else None
        )

    def _stream(self, k: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, k])

    def _cover(self, geom: Any) -> Cover:
        got = self.grid.coverage_window(geom)
        if got is None:  # outside the grid: an empty window
            return Cover(slice(0, 0), slice(0, 0), np.zeros((0, 0), np.float32))
        (rows, cols), share = got
        return Cover(rows, cols, share)

    def _add_layer(self, name: str, geom: Any, material: str, **kw: Any) -> Layer:
        cover = self._cover(geom)
        if material in WEATHERING and "weathers_to" not in kw:
            kw["weathers_to"], kw["weather_days"] = WEATHERING[material]
        layer = Layer(name, cover, material, **kw)
        self.layers.append(layer)
        return layer

    # -- farmland
    def _lay_farmland(self) -> None:
        g, rng, farm = self.grid, self.rng, self.world.farmland
        n = g.size
        extent = n * g.res
        # Voronoi fields about 250-400 m across.
        n_fields = max(4, int((extent / farm.field_size_m) ** 2))
        seeds = rng.uniform(-extent / 2, extent / 2, size=(n_fields, 2))
        gx, gy = np.meshgrid(g.xs, g.ys)
        d2 = (gx[..., None] - seeds[:, 0]) ** 2 + (gy[..., None] - seeds[:, 1]) ** 2
        self.field_id = np.argmin(d2, axis=-1).astype(np.int32)
        self.field_seeds = seeds
        self.fields: list[FieldPlan] = plan_fields(rng, n_fields, farm.crops, farm.soil_gain)
        coarse, fine = farm.texture
        self.soil_texture = (
            1.0 + coarse * smooth_noise(rng, (n, n), 3.0) + fine * smooth_noise(rng, (n, n), 0.7)
        )
        if farm.management:
            add_management(self._stream(STREAM_MANAGEMENT), self.fields, burn_share=farm.burn_share)
        self.soil_patches: np.ndarray | None = None
        if farm.secondary_soil is not None and farm.secondary_share > 0:
            z = smooth_noise(self._stream(STREAM_SOIL), (n, n), max(2.0, 60.0 / g.res))
            thr = float(np.quantile(z, 1 - farm.secondary_share))
            self.soil_patches = np.clip((z - thr) / 0.5, 0, 1).astype(np.float32)
        for _ in range(farm.roads):
            ang = float(rng.uniform(0, 180))
            off = (float(rng.uniform(-extent / 3, extent / 3)), float(rng.uniform(-extent / 3, extent / 3)))
            road = g.rect(off, extent * 1.6, float(rng.uniform(7, 12)), ang)
            material = str(rng.choice(list(farm.road_materials)))
            self._add_layer("road", road, material, cleared_by_snowplough=True)

    # -- the base: runway and compound
    def _lay_base(self, base: Base) -> None:
        g = self.grid
        rw = base.runway
        t = math.radians(rw.orientation_deg)
        self.runway = {
            "center": rw.center_m,
            "length": rw.length_m,
            "width": rw.width_m,
            "orient": rw.orientation_deg,
            "dir": (math.sin(t), math.cos(t)),
            "surface": rw.surface,
        }
        strip = g.rect(rw.center_m, rw.length_m, rw.width_m, rw.orientation_deg)
        self._add_layer("runway", strip, rw.surface, cleared_by_snowplough=True)
        self.runway_geom = strip
        if base.compound is not None:
            self._lay_compound(base.compound)

    def _lay_compound(self, c: Compound) -> None:
        """A yard densely filled with rows of structures (drawn in the original order)."""
        rng = self.rng
        (ccx, ccy), cw, ch = c.center_m, c.width_m, c.height_m
        self.compound = compound_outline(c)
        self._add_layer("compound_yard", self.compound, c.yard)
        (w_lo, w_hi), (h_lo, h_hi) = c.structure_size_m
        y = ccy - ch / 2 + 15
        while y < ccy + ch / 2 - 20:
            x = ccx - cw / 2 + 15
            while x < ccx + cw / 2 - 20:
                sw, sh = float(rng.uniform(w_lo, w_hi)), float(rng.uniform(h_lo, h_hi))
                s = self._rotated(shapely.box(x, y, x + sw, y + sh), c)
                u, acc, mat = rng.random(), 0.0, c.structures[-1][0]
                for name, share in c.structures:
                    acc += share
                    if u < acc:
                        mat = name
                        break
                cover = self._cover(s)
                self.structures.append((s, cover))
                self.layers.append(Layer("structure", cover, mat, kind="structure"))
                x += sw + float(rng.uniform(*c.gap_m))
            y += 30 + float(rng.uniform(0, c.row_extra_m))

    @staticmethod
    def _rotated(geom: Any, c: Compound) -> Any:
        if c.orientation_deg == 0.0:
            return geom
        return shapely.affinity.rotate(geom, -c.orientation_deg, origin=c.center_m)

    # -- groves that stand through the series
    def _lay_groves(self) -> None:
        for grove in self.world.groves:
            poly = self.grid.rect(grove.center_m, grove.length_m, grove.width_m, grove.orientation_deg)
            self._add_layer(grove.name, poly, "soil", kind="grove", grove=GroveLook(grove.kind, grove.canopy))
            if self.full:
                self.extra_truth.append(
                    self._feature(poly, "grove", grove.kind, grove.name, None, expected=False)
                )

    # -- events
    def _add_event(self, ev: Any) -> None:
        if isinstance(ev, Pad):
            self._pad(ev)
        elif isinstance(ev, Earthworks):
            self._earthworks(ev)
        elif isinstance(ev, RunwayExtension):
            self._runway_extension(ev)
        elif isinstance(ev, Evacuation):
            self._evacuation(ev)
        elif isinstance(ev, VegetationLoss):
            self._vegetation_loss(ev)
        else:
            raise ConfigError(f"unknown simulated event {ev!r}")

    def _staged(
        self,
        name: str,
        poly: Any,
        material: str,
        day: dt.date,
        *,
        build_days: int,
        stages: int,
        start_m: tuple[float, float],
        toward_deg: float,
        length_m: float,
    ) -> list[Layer]:
        """Lay ``poly`` at once on ``day``, or growing from ``start_m`` toward ``toward_deg``.

        A staged surface is laid in ``stages`` sections, the last ``build_days`` after
        ``day``; each stage is one layer holding everything laid so far (so sections leave
        no seams), and all of it weathers from the first day.
        """
        if build_days <= 0 or stages <= 1:
            return [self._add_layer(name, poly, material, start=day, kind="event")]
        t = math.radians(toward_deg)
        ux, uy = math.sin(t), math.cos(t)
        starts = [day + dt.timedelta(days=round(i * build_days / (stages - 1))) for i in range(stages)]
        out = []
        for i in range(stages):
            reach = length_m * (i + 1) / stages
            centre = (start_m[0] + ux * reach / 2, start_m[1] + uy * reach / 2)
            laid = self.grid.rect(centre, reach + 1e-3, 1e5, toward_deg)
            part = poly if i == stages - 1 else poly.intersection(laid)
            end = starts[i + 1] if i < stages - 1 else None
            layer = self._add_layer(
                f"{name}-stage{i}", part, material, start=starts[i], end=end, kind="event"
            )
            layer.weather_from = starts[0]
            out.append(layer)
        return out

    def _pad(self, ev: Pad) -> None:
        g = self.grid
        poly = g.rect(ev.center_m, ev.length_m, ev.width_m, ev.orientation_deg)
        day = as_date(ev.date)
        ew_start = day - dt.timedelta(days=ev.earthworks_days) if ev.earthworks_days else None
        if ew_start is not None:
            # levelling spills a little beyond the final pad
            self._add_layer(
                ev.name + "-earthworks",
                poly.buffer(5, join_style="mitre"),
                self._earthworks_material(),
                start=ew_start,
                kind="event",
            )
        t = math.radians(ev.orientation_deg)
        ux, uy = math.sin(t), math.cos(t)
        self._staged(
            ev.name,
            poly,
            ev.material,
            day,
            build_days=ev.build_days,
            stages=ev.stages,
            start_m=(ev.center_m[0] - ux * ev.length_m / 2, ev.center_m[1] - uy * ev.length_m / 2),
            toward_deg=ev.orientation_deg,
            length_m=ev.length_m,
        )
        self._record(
            ev,
            poly,
            "new_pad",
            None,
            day,
            area_m2=poly.area,
            length_m=ev.length_m,
            width_m=ev.width_m,
            orientation_deg=ev.orientation_deg % 180,
            earthworks_start=ew_start.isoformat() if ew_start else None,
            **({"material": ev.material} if self.full else {}),
        )

    def _earthworks_material(self) -> str:
        return "earthworks"

    def _earthworks(self, ev: Earthworks) -> None:
        poly = self.grid.rect(ev.center_m, ev.length_m, ev.width_m, ev.orientation_deg)
        day = as_date(ev.date)
        self._add_layer(ev.name, poly, self._earthworks_material(), start=day, kind="event")
        self._record(
            ev,
            poly,
            "earthworks",
            None,
            day,
            area_m2=poly.area,
            length_m=ev.length_m,
            width_m=ev.width_m,
            orientation_deg=ev.orientation_deg % 180,
        )

    def _runway_extension(self, ev: RunwayExtension) -> None:
        if self.runway is None:
            raise ConfigError(f"event {ev.name}: a runway extension needs a site with a base (base=True)")
        r = self.runway
        ux, uy = r["dir"]
        if ev.end == "near":
            ux, uy = -ux, -uy
        half = r["length"] / 2
        c = (
            r["center"][0] + ux * (half + ev.added_length_m / 2),
            r["center"][1] + uy * (half + ev.added_length_m / 2),
        )
        orient = r["orient"] if ev.end == "far" else (r["orient"] + 180.0) % 360.0
        poly = self.grid.rect(c, ev.added_length_m, r["width"], r["orient"])
        day = as_date(ev.date)
        if ev.earthworks_days:
            self._add_layer(
                ev.name + "-earthworks",
                poly.buffer(5, join_style="mitre"),
                self._earthworks_material(),
                start=day - dt.timedelta(days=ev.earthworks_days),
                kind="event",
            )
        material = ev.material or "asphalt"
        laid = self._staged(
            ev.name,
            poly,
            material,
            day,
            build_days=ev.build_days,
            stages=ev.stages,
            start_m=(r["center"][0] + ux * half, r["center"][1] + uy * half),
            toward_deg=orient,
            length_m=ev.added_length_m,
        )
        for layer in laid:
            layer.cleared_by_snowplough = True
        self._record(
            ev,
            poly,
            "runway_change",
            "extension",
            day,
            area_m2=poly.area,
            length_m=ev.added_length_m,
            width_m=r["width"],
            orientation_deg=r["orient"] % 180,
            added_length_m=ev.added_length_m,
            runway_length_before_m=r["length"],
            **({"end": ev.end, "direction_deg": round(orient, 2), "material": material} if self.full else {}),
        )

    def _evacuation(self, ev: Evacuation) -> None:
        if not self.structures:
            raise ConfigError(f"event {ev.name}: an evacuation needs a site with a base (base=True)")
        start, end = as_date(ev.start), as_date(ev.end)
        span = max(1, (end - start).days)
        order = self.rng.permutation(len(self.structures))
        n_go = round(ev.fraction * len(self.structures))
        gone = []
        idx = 0
        removed_layers = []
        for layer in self.layers:
            if layer.kind != "structure":
                continue
            if order[idx] < n_go:
                layer.end = start + dt.timedelta(days=int(self.rng.integers(0, span + 1)))
                gone.append(self.structures[idx][0])
                removed_layers.append(layer)
            idx += 1
        if ev.remains == "slab":
            for layer in removed_layers:
                pos = self.layers.index(layer)
                self.layers.insert(pos, Layer("slab", layer.cover, "concrete_aged", kind="static"))
        removed = shapely.union_all(gone) if gone else shapely.Polygon()
        fraction = n_go / max(1, len(self.structures))
        self._record(
            ev,
            self.compound,
            "evacuation",
            None,
            start,
            end=end.isoformat(),
            area_m2=self.compound.area,
            structures_removed=n_go,
            structures_total=len(self.structures),
            fraction_affected=round(fraction, 3),
            removed_area_m2=round(float(removed.area), 1),
            removed_area_fraction=round(float(removed.area / self.compound.area), 3),
        )

    def _vegetation_loss(self, ev: VegetationLoss) -> None:
        poly = self.grid.rect(ev.center_m, ev.length_m, ev.width_m, ev.orientation_deg)
        day = as_date(ev.date)
        # the ground under the trees, turned over by the felling and the stump pulling
        self._add_layer(ev.name + "-cleared", poly, "soil", kind="cleared")
        look = GroveLook(ev.kind, ev.canopy)
        t = math.radians(ev.orientation_deg)
        ux, uy = math.sin(t), math.cos(t)
        if ev.clear_days <= 0:
            self._add_layer(ev.name, poly, "soil", end=day, kind="grove", grove=look)
        else:
            stages = max(2, min(6, ev.clear_days // 10))
            ends = [day + dt.timedelta(days=round(i * ev.clear_days / (stages - 1))) for i in range(stages)]
            for i in range(stages):
                # what still stands after stage i-1: the far part of the grove
                keep = ev.length_m * (stages - i) / stages
                c = (
                    ev.center_m[0] + ux * (ev.length_m - keep) / 2,
                    ev.center_m[1] + uy * (ev.length_m - keep) / 2,
                )
                part = self.grid.rect(c, keep, ev.width_m, ev.orientation_deg)
                begin = ends[i - 1] if i else None
                self._add_layer(
                    f"{ev.name}-stand{i}", part, "soil", start=begin, end=ends[i], kind="grove", grove=look
                )
        self._record(
            ev,
            poly,
            "vegetation_loss",
            ev.kind,
            day,
            area_m2=poly.area,
            length_m=ev.length_m,
            width_m=ev.width_m,
            orientation_deg=ev.orientation_deg % 180,
            canopy=ev.canopy,
        )

    # -- truth
    def _record(
        self, ev: Any, poly: Any, change_type: str, detail: str | None, day: dt.date, **props: Any
    ) -> None:
        if self.full:
            onset, completion = onset_and_completion(ev)
            props.update(
                onset=onset.isoformat(),
                completion=completion.isoformat(),
                gradual=(completion - onset).days > 10,
            )
        self.truth.append(self._feature(poly, change_type, detail, ev.name, day, expected=True, **props))
        self.footprints[ev.name] = poly

    def _feature(
        self,
        poly: Any,
        change_type: str,
        detail: str | None,
        name: str,
        day: dt.date | None,
        *,
        expected: bool,
        **props: Any,
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
                "date": day.isoformat() if day else None,
                "expected_alert": expected,
                "simulated": True,
                **{k: (round(v, 2) if isinstance(v, float) else v) for k, v in props.items()},
            },
        }

    def fields_truth(self, years: Sequence[int]) -> list[dict[str, Any]]:
        """Truth features of the fields' calendars (centroids, or outlines in a full truth)."""
        g = self.grid
        outlines = field_outlines(g, self.field_seeds) if self.full else None
        # fields are drawn along the grid's axes: turn them to true north for the truth
        return fields_truth(
            g,
            self.fields,
            self.field_id,
            years,
            outlines=outlines,
            to_wgs84=lambda geom: g.to_wgs84(g.from_grid(geom)),
        )

    # -- terrain and weather
    def _lay_terrain(self, events: Sequence[Any]) -> Relief | None:
        spec = self.world.terrain
        if spec.relief_m <= 0:
            return None
        built = [
            layer for layer in self.layers if layer.kind in ("event", "structure") or layer.name == "runway"
        ]
        flat = np.zeros((self.grid.size, self.grid.size), np.float32)
        for layer in built:
            flat[layer.cover.rows, layer.cover.cols] = np.maximum(
                flat[layer.cover.rows, layer.cover.cols], (layer.cover.share > 0).astype(np.float32)
            )
        if self.compound is not None:
            cover = self._cover(self.compound.buffer(30))
            if cover is not None:
                flat[cover.rows, cover.cols] = np.maximum(flat[cover.rows, cover.cols], cover.share)
        return draw_dem(
            self._stream(STREAM_TERRAIN),
            self.grid.size,
            self.grid.res,
            relief_m=spec.relief_m,
            wavelength_m=spec.wavelength_m,
            flat=flat,
        )

    def _plan_weather(self, period: tuple[dt.date, dt.date] | None) -> Weather:
        c = self.world.climate
        if period is None or (c.snowfalls_per_winter <= 0 and c.rain_darkening <= 0):
            return Weather()
        return plan_weather(
            self._stream(STREAM_WEATHER),
            period[0],
            period[1],
            snowfalls_per_winter=c.snowfalls_per_winter,
            snow_days=c.snow_days,
            rain_darkening=c.rain_darkening,
        )

    # -- the state on a day
    def state(self, day: dt.date) -> SiteState:
        """What is on the ground on ``day``."""
        managed = self.world.farmland.management
        fields = tuple(field_state(f, day, managed=managed) for f in self.fields)
        layers = tuple(
            (layer, layer.spectrum(day, self.spectra)) for layer in self.layers if layer.active(day)
        )
        snow, age = None, 0.0
        snowed = self.weather.snow_age(day)
        if snowed is not None and self._patches is not None:
            strength, age = snowed
            height = sun_facing = None
            if self.terrain is not None:
                dem = self.terrain.dem
                height = (dem - dem.min()) / max(float(np.ptp(dem)), 1e-6)
                sun_facing = self._sun_facing(day)
            snow = snow_cover(
                strength,
                age,
                height=height,
                sun_facing=sun_facing,
                patches=self._patches,
                cleared=self._ploughed_share(layers),
            )
        return SiteState(day, fields, layers, snow, age, self.weather.wetness(day))

    def _sun_facing(self, day: dt.date) -> np.ndarray:
        """0..1 exposure of each pixel to the midday-ish sun (snow melts first where high)."""
        assert self.terrain is not None
        sun = sun_at_overpass(day, self.lat)
        zen = math.radians(sun.zenith_deg)
        az = math.radians(sun.azimuth_deg + self.grid.north_deg)
        t = self.terrain
        cos_i = np.cos(zen) * np.cos(t.slope) + np.sin(zen) * np.sin(t.slope) * np.cos(az - t.aspect)
        return np.clip(cos_i, 0.0, 1.0).astype(np.float32)

    def _ploughed_share(self, layers: Sequence[tuple[Layer, np.ndarray]]) -> np.ndarray | None:
        out = None
        for layer, _ in layers:
            if layer.cleared_by_snowplough:
                if out is None:
                    out = np.zeros((self.grid.size, self.grid.size), np.float32)
                c = layer.cover
                out[c.rows, c.cols] = np.maximum(out[c.rows, c.cols], c.share)
        return out
