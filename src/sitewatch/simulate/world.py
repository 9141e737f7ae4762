"""What a simulated world is made of, apart from its scripted events.

A :class:`World` says which soils, surfaces and layout the site has, what its terrain and
weather do, and what kind of product the scenes are written as (bands, SCL, the +1000
offset, the CRS). The default ``World()`` is the simulator's original world: red
Mediterranean farmland on flat ground, an aged-asphalt runway and a compound of bright
roofs and dark vehicles laid out from the site's size, full bands with SCL, no offset, the
UTM grid; with it :func:`~sitewatch.simulate.simulate_site` writes exactly the files it
always wrote. :func:`~sitewatch.simulate.random_world` draws every part of it at random
within realistic ranges.

All lengths are metres, positions are ``(east, north)`` offsets from the site centre.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sitewatch.simulate.materials import LIBRARY, Material

__all__ = [
    "Base",
    "Climate",
    "Compound",
    "Farmland",
    "Grove",
    "Product",
    "ProductStyle",
    "Runway",
    "Terrain",
    "World",
    "compound_outline",
    "legacy_base",
]

ProductStyle = Literal["legacy", "esa", "esa_reprocessed", "harmonized", "tagged"]


@dataclass(frozen=True)
class Runway:
    """An existing runway.

    Attributes
    ----------
    center_m : tuple of float
    length_m, width_m : float
    orientation_deg : float
        Direction of the runway's far end, degrees clockwise from north; a
        :class:`~sitewatch.simulate.RunwayExtension` at ``end="far"`` grows that way.
    surface : str
        Material name (``"asphalt"``, ``"asphalt_aged"``, ``"concrete_aged"``...).
    """

    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    surface: str = "asphalt"


@dataclass(frozen=True)
class Compound:
    """A fenced yard filled with rows of structures (roofs, tents, containers, vehicles).

    Attributes
    ----------
    center_m : tuple of float
    width_m, height_m : float
        Sides of the yard before rotation (width along east at 0 deg).
    orientation_deg : float
        Rotation of the yard, degrees clockwise.
    yard : str
        Material of the ground between structures.
    structures : tuple of (str, float)
        Materials of the structures and their shares (summing to 1).
    structure_size_m : tuple of (float, float)
        Ranges of a structure's two sides ``((w_lo, w_hi), (h_lo, h_hi))``.
    gap_m : tuple of float
        Range of the gap between structures in a row.
    row_extra_m : float
        Rows are ``30 + uniform(0, row_extra_m)`` m apart.
    """

    center_m: tuple[float, float]
    width_m: float
    height_m: float
    orientation_deg: float = 0.0
    yard: str = "gravel"
    structures: tuple[tuple[str, float], ...] = (("roof_bright", 0.65), ("roof_dark", 0.35))
    structure_size_m: tuple[tuple[float, float], tuple[float, float]] = ((20.0, 45.0), (12.0, 25.0))
    gap_m: tuple[float, float] = (8.0, 15.0)
    row_extra_m: float = 8.0


def compound_outline(c: Compound) -> Any:
    """The compound's yard as a polygon in local metres."""
    import shapely
    import shapely.affinity

    (x, y), w, h = c.center_m, c.width_m, c.height_m
    box = shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
    if c.orientation_deg == 0.0:
        return box
    return shapely.affinity.rotate(box, -c.orientation_deg, origin=c.center_m)


@dataclass(frozen=True)
class Base:
    """A runway and, optionally, a compound beside it."""

    runway: Runway
    compound: Compound | None = None


def legacy_base(extent_m: float, runway_length_m: float) -> Base:
    """The original simulator's base, laid out from the site's width.

    Parameters
    ----------
    extent_m : float
        Width of the site.
    runway_length_m : float
        Wanted runway length (capped to 70 % of the width).

    Returns
    -------
    Base
    """
    length = min(runway_length_m, extent_m * 0.7)
    center = (-0.12 * extent_m, -0.12 * extent_m)
    cw, ch = min(420.0, extent_m * 0.3), min(300.0, extent_m * 0.22)
    ccx, ccy = center[0] + 0.05 * extent_m, center[1] - 0.22 * extent_m
    return Base(Runway(center, length, 45.0, 60.0, "asphalt"), Compound((ccx, ccy), cw, ch))


@dataclass(frozen=True)
class Grove:
    """A lasting grove or orchard (a :class:`~sitewatch.simulate.VegetationLoss` may clear one).

    Attributes
    ----------
    name : str
    center_m : tuple of float
    length_m, width_m, orientation_deg : float
    kind : {"olive", "orchard", "pine"}
        Evergreen olive (grey-green, sparse), deciduous orchard (bare from November
        to March), or dense evergreen pine.
    canopy : float
        Share of the ground the crowns cover in leaf.
    """

    name: str
    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    kind: Literal["olive", "orchard", "pine"] = "olive"
    canopy: float = 0.45


@dataclass(frozen=True)
class Farmland:
    """The fields, roads and soil around the site.

    Attributes
    ----------
    field_size_m : float
        Typical width of a Voronoi field.
    crops : tuple of str
        Field kinds drawn with equal chance (``"winter"``, ``"summer"``, ``"fallow"``).
    soil_gain : tuple of float
        Range of a field's soil brightness factor.
    texture : tuple of float
        Amplitudes of the coarse and fine soil texture.
    secondary_soil : str or None
        A second soil showing in patches (a pale calcareous crest in red soil).
    secondary_share : float
        Share of the site the second soil covers.
    management : bool
        Fields are ploughed after the harvest on their own date (a darkening, then a slow
        return) and a share of them has its stubble burnt; both are marked as
        distractors in the truth. Off in the original world (stubble fades in 120 days).
    burn_share : float
        Share of harvested winter fields whose stubble is burnt.
    roads : int
    road_materials : tuple of str
    """

    field_size_m: float = 320.0
    crops: tuple[str, ...] = ("winter", "winter", "winter", "summer", "fallow", "fallow")
    soil_gain: tuple[float, float] = (0.85, 1.12)
    texture: tuple[float, float] = (0.05, 0.03)
    secondary_soil: str | None = None
    secondary_share: float = 0.0
    management: bool = False
    burn_share: float = 0.0
    roads: int = 2
    road_materials: tuple[str, ...] = ("asphalt", "gravel")


@dataclass(frozen=True)
class Terrain:
    """Hills: relief and how much of their shading the L2A terrain correction leaves.

    Attributes
    ----------
    relief_m : float
        Height range of the hills (0: flat).
    wavelength_m : float
        Typical distance between hill tops.
    correction : float
        Share of the illumination effect (cos i / cos z) removed by the processor's
        terrain correction; 1 removes it all, 0 none. Cast shadows always remain.
    """

    relief_m: float = 0.0
    wavelength_m: float = 800.0
    correction: float = 0.6


@dataclass(frozen=True)
class Climate:
    """Weather beyond clouds.

    Attributes
    ----------
    snowfalls_per_winter : float
        Expected number of snowfalls between December and February (0: never snows).
    snow_days : tuple of float
        Range of how long a snow cover lasts.
    rain_darkening : float
        How much wet soil darkens after winter rain (0..0.3; SWIR darkens most).
    haze : float
        Scale of the residual aerosol after correction.
    sun_shadows : bool
        Clouds cast their shadows away from the sun at the overpass, as far as their
        height and the sun's elevation say; off in the original world, whose shadows fall
        a fixed 60-200 m to the north-east.
    """

    snowfalls_per_winter: float = 0.0
    snow_days: tuple[float, float] = (3.0, 14.0)
    rain_darkening: float = 0.0
    haze: float = 1.0
    sun_shadows: bool = False


@dataclass(frozen=True)
class Product:
    """How the scenes are written.

    Attributes
    ----------
    bands : tuple of str
        Reflectance bands written, a subset of :data:`~sitewatch.simulate.BANDS`.
    scl : bool
        Write the scene classification layer.
    style : {"legacy", "esa", "esa_reprocessed", "harmonized", "tagged"}
        Names and offsets as real products carry them: ``"legacy"`` the original
        ``SIM_S2_MSIL2A_<time>`` with no offset; ``"esa"`` product names with the
        processing baseline of the date (``N0300`` and older before 25 January 2022,
        no offset; ``N0400`` and later from then on, digital numbers +1000);
        ``"esa_reprocessed"`` every date as the reprocessed collection ``N0500``
        (+1000); ``"harmonized"`` no baseline in the name, offset removed;
        ``"tagged"`` no baseline in the name, +1000 declared by a
        ``BOA_ADD_OFFSET=-1000`` tag.
    crs : str
        ``"utm"`` for the AOI's UTM zone, else any projected CRS (``"EPSG:3857"``, a
        PROJ string).
    bright_as_cloud : float
        Chance per scene that the SCL marks very bright ground (roofs, fresh concrete)
        as medium-probability cloud, as sen2cor does over bright deserts.
    sensing_utc : str
        Sensing time of every scene, ``HH:MM:SS`` UTC (Sentinel-2 passes at about 10:30
        local solar time: 08:12 UTC at the original world's 40.5 E).
    """

    bands: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")
    scl: bool = True
    style: ProductStyle = "legacy"
    crs: str = "utm"
    bright_as_cloud: float = 0.0
    sensing_utc: str = "08:12:31"


@dataclass(frozen=True)
class World:
    """Everything about a simulated site except its scripted events.

    Attributes
    ----------
    materials : mapping of str to Material
        The world's own copy of every material it uses (:data:`~sitewatch.simulate.LIBRARY`
        by default); random worlds jitter them so no two worlds share exact spectra.
    soil_kind : str
        Name of the soil (for the truth; the spectrum is ``materials["soil"]``).
    farmland : Farmland
    base : Base or None
        The base's layout; None lays out the original one from the site's size (when
        ``simulate_site(base=True)``).
    groves : tuple of Grove
    terrain : Terrain
    climate : Climate
    product : Product
    truth_detail : {"basic", "full"}
        ``"basic"``: the original truth (events, field phenology at the fields' centroids).
        ``"full"``: also each event's onset, completion and the dates its footprint was
        clear, field outlines, ploughing and burning, and the world itself.
    name : str
        A label for the world (``"original"``, ``"random-<seed>"``).
    """

    materials: Mapping[str, Material] = field(default_factory=lambda: dict(LIBRARY), hash=False)
    soil_kind: str = "red_mediterranean"
    farmland: Farmland = field(default_factory=Farmland)
    base: Base | None = None
    groves: tuple[Grove, ...] = ()
    terrain: Terrain = field(default_factory=Terrain)
    climate: Climate = field(default_factory=Climate)
    product: Product = field(default_factory=Product)
    truth_detail: Literal["basic", "full"] = "basic"
    name: str = "original"

    def describe(self) -> dict[str, Any]:
        """The world as JSON-ready values (for the truth file)."""
        from dataclasses import asdict

        doc = asdict(self)
        doc["materials"] = {k: list(m.reflectance) for k, m in self.materials.items()}
        return doc
