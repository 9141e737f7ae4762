"""Materials of a simulated world: Sentinel-2 L2A spectra and, for a future radar writer, backscatter.

Reflectances are surface reflectance x 10000 in the simulator's bands (:data:`BANDS`). They
follow published Sentinel-2 L2A and field-spectrometer values for semi-arid farmland and
construction:

- soils: red Mediterranean (terra rossa: red above green, SWIR1 highest), pale calcareous
  (bright, a carbonate dip at 2.2 um so B12 < B11), grey alluvial, dark basalt, yellow
  gypsiferous steppe, brown steppe;
- asphalt: fresh 4-7 % and almost flat, ageing to 10-20 % rising into the SWIR as the
  binder oxidises and the aggregate shows (the Santa Barbara road library, Herold 2004);
- concrete: fresh 27-36 % with the carbonate dip in B12, darker and dustier with age;
- crop canopy: red 3-4 %, NIR 40-45 %, SWIR1 ~20 %, SWIR2 ~10 %; straw stubble bright
  with a cellulose dip in B12; burnt stubble dark with SWIR above NIR (NBR < 0);
- snow: 85-90 % in the visible, 75-80 % in the NIR, 5-10 % in B11 and less in B12
  (NDSI ~0.8; old or wet snow 60-65 % visible, ~4 % SWIR).

Each :class:`Material` may carry a :class:`RadarResponse` (C-band sigma0 in dB at about 35-40 deg
incidence, VV and VH, and whether it forms a double bounce with the ground) so that a Sentinel-1
writer can later render the same per-date site state (issue 16); the optical writer ignores it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "BANDS",
    "LIBRARY",
    "MATERIALS",
    "SOILS",
    "TWENTY_M",
    "Material",
    "RadarResponse",
    "mix",
]

#: Bands the simulator writes, in file order (SCL last).
BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")
#: Bands written at their native 20 m resolution (2 x 2 blocks of the 10 m grid).
TWENTY_M: tuple[str, ...] = ("B8A", "B11", "B12")

# The original simulator's table, kept exactly: the default world renders with it, so its
# scenes stay bit-identical.
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


@dataclass(frozen=True)
class RadarResponse:
    """C-band backscatter of a material (for a Sentinel-1 writer; unused by the optical one).

    Attributes
    ----------
    vv_db, vh_db : float
        sigma0 in dB at about 35-40 deg incidence.
    double_bounce : bool
        Upright walls over flat ground (buildings, containers, vehicles) return the pulse
        as a corner reflector: very bright, and gone when the structure goes.
    """

    vv_db: float
    vh_db: float
    double_bounce: bool = False


@dataclass(frozen=True)
class Material:
    """A surface material: its reflectance in :data:`BANDS` and its radar response.

    Attributes
    ----------
    name : str
    reflectance : tuple of float
        Surface reflectance x 10000, one value per band of :data:`BANDS`.
    radar : RadarResponse or None
    """

    name: str
    reflectance: tuple[float, ...]
    radar: RadarResponse | None = None

    def spectrum(self) -> np.ndarray:
        """The reflectance as float32 ``(bands,)``."""
        return np.asarray(self.reflectance, np.float32)


def mix(a: Sequence[float], b: Sequence[float], share_b: float) -> tuple[float, ...]:
    """Linear mixture of two spectra, ``share_b`` of ``b``.

    Examples
    --------
    >>> mix((0.0, 100.0), (100.0, 0.0), 0.25)
    (25.0, 75.0)
    """
    return tuple(round((1 - share_b) * x + share_b * y, 1) for x, y in zip(a, b, strict=True))


_R = RadarResponse
#: Soils a random world draws from (its own jittered copy), by kind.
SOILS: dict[str, Material] = {
    "red_mediterranean": Material("soil", MATERIALS["soil"], _R(-12.0, -19.5)),
    "pale_calcareous": Material("soil", (1900, 2300, 2700, 3100, 3300, 4000, 3300), _R(-12.5, -20.0)),
    "grey_alluvial": Material("soil", (900, 1150, 1350, 1900, 2100, 2700, 2200), _R(-11.0, -18.5)),
    "dark_basalt": Material("soil", (600, 700, 800, 1050, 1150, 1400, 1300), _R(-10.0, -17.0)),
    "yellow_gypsic": Material("soil", (1500, 2000, 2600, 3100, 3300, 4200, 3700), _R(-13.0, -21.0)),
    "brown_steppe": Material("soil", (800, 1050, 1350, 1900, 2100, 2900, 2500), _R(-12.0, -19.0)),
}

#: Every named material of the simulator; a world may replace any of them with its own copy.
LIBRARY: dict[str, Material] = {
    # the original names keep the original spectra
    "soil": SOILS["red_mediterranean"],
    "stubble": Material("stubble", MATERIALS["stubble"], _R(-13.0, -20.0)),
    "vegetation": Material("vegetation", MATERIALS["vegetation"], _R(-10.5, -16.5)),
    "concrete": Material("concrete", MATERIALS["concrete"], _R(-16.0, -24.0)),
    "asphalt": Material("asphalt", MATERIALS["asphalt"], _R(-19.0, -26.0)),
    "gravel": Material("gravel", MATERIALS["gravel"], _R(-13.5, -21.5)),
    "earthworks": Material("earthworks", MATERIALS["earthworks"], _R(-11.5, -19.0)),
    "roof_bright": Material("roof_bright", MATERIALS["roof_bright"], _R(2.0, -8.0, double_bounce=True)),
    "roof_dark": Material("roof_dark", MATERIALS["roof_dark"], _R(4.0, -6.0, double_bounce=True)),
    "cloud": Material("cloud", MATERIALS["cloud"]),
    # surfaces, fresh and aged
    "asphalt_fresh": Material("asphalt_fresh", (450, 500, 550, 650, 680, 800, 780), _R(-20.0, -27.0)),
    "asphalt_aged": Material("asphalt_aged", (1100, 1250, 1400, 1650, 1700, 2000, 1900), _R(-18.0, -25.5)),
    "concrete_fresh": Material(
        "concrete_fresh", (2700, 2900, 3100, 3350, 3400, 3600, 3100), _R(-16.5, -24.5)
    ),
    "concrete_aged": Material("concrete_aged", (1800, 2000, 2200, 2500, 2550, 2800, 2500), _R(-15.0, -23.0)),
    # what structures are made of
    "tent_white": Material("tent_white", (4500, 4700, 4800, 5000, 5000, 4200, 3300), _R(-4.0, -13.0, True)),
    "tent_khaki": Material("tent_khaki", (1300, 1500, 1600, 2600, 2700, 3000, 2500), _R(-5.0, -13.0, True)),
    "container": Material("container", (1800, 1900, 2000, 2300, 2350, 2500, 2300), _R(3.0, -7.0, True)),
    "vehicle_tan": Material("vehicle_tan", (2000, 2300, 2600, 2900, 3000, 3300, 3000), _R(5.0, -5.0, True)),
    # vegetation that is not a crop
    "olive": Material("olive", (350, 600, 450, 2700, 2900, 1700, 850), _R(-8.5, -14.5)),
    "orchard_leaf": Material("orchard_leaf", (300, 600, 380, 3600, 3800, 2000, 950), _R(-8.0, -14.0)),
    "pine": Material("pine", (250, 450, 280, 2300, 2500, 1150, 500), _R(-7.5, -13.0)),
    "branches": Material("branches", (700, 900, 1100, 1700, 1900, 2500, 2000), _R(-10.0, -16.0)),
    # field management and weather
    "straw": Material("straw", (1300, 1700, 2100, 2700, 2900, 3500, 2600), _R(-13.5, -21.0)),
    "char": Material("char", (500, 550, 600, 850, 950, 1400, 1450), _R(-12.5, -20.0)),
    "snow_fresh": Material("snow_fresh", (8900, 8800, 8600, 8000, 7500, 900, 700), _R(-13.0, -21.0)),
    "snow_old": Material("snow_old", (6500, 6400, 6200, 5600, 5200, 450, 380), _R(-18.0, -25.0)),
    "pale_subsoil": Material("pale_subsoil", (2300, 2700, 3100, 3400, 3500, 4300, 3700), _R(-11.5, -19.0)),
    "crushed_rock": Material("crushed_rock", (1800, 2000, 2200, 2500, 2600, 3000, 2700), _R(-13.5, -21.5)),
}


def spectra_of(materials: Mapping[str, Material]) -> dict[str, np.ndarray]:
    """Float32 spectra ``(bands, 1, 1)`` by name, ready to broadcast over a site."""
    return {name: m.spectrum()[:, None, None] for name, m in materials.items()}
