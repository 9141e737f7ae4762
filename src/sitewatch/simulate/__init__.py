"""A Sentinel-2 site simulator: scenes with known truth, for tests, the demo and benchmarks.

It is a test instrument and says so in every output: scene files carry the tag
``SIMULATED=true`` and ``SIM`` in their names, ``truth.geojson`` and ``aoi.geojson``
carry ``"simulated": true``.

A simulated site is a square of farmland: Voronoi fields with winter-crop or
irrigated-summer phenology (sowing, greening, harvest) and fallow land, soil texture,
roads, and optionally a base (a runway and a compound densely filled with structures).
Scripted :class:`Pad`, :class:`RunwayExtension`, :class:`Evacuation`, :class:`Earthworks`
and :class:`VegetationLoss` events change it, abruptly or over weeks.

Every acquisition then goes through what makes real series hard: a revisit with missed
passes and a longer outage, seasonal illumination, haze, sensor noise, sub-pixel
misregistration, 20 m bands blurred to their native resolution, clouds with soft edges
and their displaced shadows, an imperfect SCL layer, and now and then an orbit edge
with no data.

The package is split by job: :mod:`~sitewatch.simulate.world` (what a world is made of),
:mod:`~sitewatch.simulate.materials`, :mod:`~sitewatch.simulate.events`,
:mod:`~sitewatch.simulate.site` (layout and per-date state), :mod:`~sitewatch.simulate.fields`,
:mod:`~sitewatch.simulate.terrain`, :mod:`~sitewatch.simulate.weather`,
:mod:`~sitewatch.simulate.surface` (optical rendering), :mod:`~sitewatch.simulate.sensor`
(atmosphere, clouds, SCL), :mod:`~sitewatch.simulate.products` (names and offsets),
:mod:`~sitewatch.simulate.write`, :mod:`~sitewatch.simulate.scenarios` (the original world's
demo and benchmark mixes), :mod:`~sitewatch.simulate.random_world` and
:mod:`~sitewatch.simulate.random_site` (worlds, windows and events drawn from a seed) and
:mod:`~sitewatch.simulate.score`.

The per-date :class:`~sitewatch.simulate.site.SiteState` does not depend on the sensor: the
optical writer renders it to reflectance, and a radar writer can render the same state with
each material's :class:`RadarResponse`, the structures' double bounce and the terrain.

Examples
--------
>>> from sitewatch.simulate import simulate_site, Pad
>>> site = simulate_site("sim/", start="2024-01-01", end="2024-12-31",
...                      events=[Pad("pad-1", (200, 100), 120, 60, 30, "2024-06-01")])  # doctest: +SKIP
>>> site.truth_path.name  # doctest: +SKIP
'truth.geojson'
"""

from sitewatch.simulate.events import Earthworks, Evacuation, Event, Pad, RunwayExtension, VegetationLoss
from sitewatch.simulate.materials import BANDS, LIBRARY, MATERIALS, Material, RadarResponse
from sitewatch.simulate.random_site import Scenario, random_scenario, simulate_random_site
from sitewatch.simulate.random_world import REGIONS, Region, random_world
from sitewatch.simulate.scenarios import demo_events, random_events
from sitewatch.simulate.score import TypeSummary, clear_dates_from_scl, score_alerts, summarize_scores
from sitewatch.simulate.world import (
    Base,
    Climate,
    Compound,
    Farmland,
    Grove,
    Product,
    Runway,
    Terrain,
    World,
)
from sitewatch.simulate.write import SimulatedSite, simulate_site

__all__ = [
    "BANDS",
    "LIBRARY",
    "MATERIALS",
    "Base",
    "Climate",
    "Compound",
    "Earthworks",
    "Evacuation",
    "Event",
    "Farmland",
    "Grove",
    "Material",
    "Pad",
    "Product",
    "REGIONS",
    "Region",
    "RadarResponse",
    "Runway",
    "RunwayExtension",
    "Scenario",
    "SimulatedSite",
    "Terrain",
    "TypeSummary",
    "VegetationLoss",
    "World",
    "clear_dates_from_scl",
    "demo_events",
    "random_events",
    "random_scenario",
    "random_world",
    "score_alerts",
    "simulate_random_site",
    "simulate_site",
    "summarize_scores",
]
