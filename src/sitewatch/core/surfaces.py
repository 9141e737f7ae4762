"""What a surface looks like: concrete, asphalt, earth, built, soil, as vectorised tests on spectra.

Every caller that asks "is this concrete?" asks here: the typing of a changed object
(:mod:`sitewatch.objects.classify`), the map of what stood on the site before
(:mod:`sitewatch.objects.context`) and the per-pixel history's test for ploughed or harvested
fields (:mod:`sitewatch.core.history`). Their thresholds are named once, with their unit,
in :class:`SurfaceRules`.

A *spectrum* is a mapping of band name (``B02``, ``B03``, ``B04``, ``B08``, ``B11``,
``B12``) to reflectance 0..1: plain floats (one object's mean spectrum) or arrays of one
shape (a composite, a tile of pixels). Every test returns a boolean array of that shape
(0-d for floats; wrap it in ``bool()``). NaN reflectance fails every test.

The tests are absolute: they hold on the arid sites the project was tuned on. They are
meant as priors; judging a surface against the site's own surfaces is for the object stage.

Examples
--------
>>> concrete = {"B02": .24, "B03": .26, "B04": .28, "B08": .31, "B11": .33, "B12": .29}
>>> bool(concrete_like(concrete)), bool(earth_like(concrete))
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sitewatch.core.indices import normalized_difference

__all__ = [
    "DEFAULT_RULES",
    "SURFACE_BANDS",
    "SurfaceRules",
    "asphalt_like",
    "built_like",
    "built_up_like",
    "concrete_like",
    "earth_like",
    "paved_prior",
    "same_material",
    "soil_like",
    "structure_like",
    "surface_indices",
]

#: The bands the surface tests read (the scan loads them all).
SURFACE_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")

Spectrum = Mapping[str, Any]


@dataclass(frozen=True)
class SurfaceRules:
    """Thresholds of the surface tests (reflectance 0..1, indices and band ratios unitless).

    Attributes
    ----------
    vegetated_min_ndvi : float
        Green vegetation from here: never built, never bare.
    concrete_max_ndvi, concrete_min_blue, concrete_max_red_blue, concrete_max_swir_nir : float
        Concrete, cement, pale gravel: bright (B02), flat visible spectrum (B04/B02),
        SWIR not above NIR (B11/B08).
    asphalt_max_reflectance, asphalt_max_ndvi, asphalt_max_spread : float
        Asphalt, bitumen: dark in every band, and flat (max - min) from visible to SWIR.
    earth_max_ndvi, earth_min_blue, earth_min_swir_nir, earth_max_red_blue : float
        Levelled ground, exposed subsoil, fill: bright, SWIR above NIR.
    roof_min_brightness, roof_max_red_blue : float
        Bright flat roofs and tents (mean visible reflectance, B04/B02).
    pale_min_brightness, pale_max_red_blue : float
        Built-up area before a change: pale flat surfaces (looser than a roof: a
        composite of a facility mixes its roofs, yards and tracks).
    bright_ground_max_red_blue : float
        Built-up area before a change: bright ground (B02 at least ``concrete_min_blue``,
        not green) that is not red soil.
    dark_max_blue, dark_max_red_blue : float
        Dark flat surfaces that are not asphalt (vehicles, containers, shade nets):
        B02 below ``dark_max_blue``, every band below ``asphalt_max_reflectance``.
    soil_max_ndvi, soil_min_red_blue, soil_max_blue : float
        Natural bare ground or stubble (a ploughed or harvested field): not green,
        reddish (red well above blue), not bright, SWIR above NIR.
    paved_max_reflectance, paved_max_ratio, paved_max_ndvi : float
        Weak prior of dark pavement in a composite (aged asphalt whose SWIR rises): every
        band below ``paved_max_reflectance`` and the brightest band at most
        ``paved_max_ratio`` x the darkest (soils rise two- to fourfold into the SWIR).
    pavement_prior_concrete, pavement_prior_asphalt : tuple of float
        Prior endmembers (reflectance in B02, B03, B04, B08, B11, B12) for the relative
        typing when the site has no runway of its own: aged concrete and aged asphalt
        (their shape matters, their brightness is fitted).
    relative_margin : float
        The relative typing decides only when its best endmember fits at least this much
        better (relative residual) than the best of the other kind; else the absolute tests decide.
    relative_min_cover : float
        Least share of the material in an object's mean spectrum for it to be typed by it
        (a 2-pixel strip is about half edge).
    relative_max_residual : float
        Largest relative residual of an accepted fit (beyond, no endmember explains it).
    site_ground_rms : float
        RMS distance over bands within which a pixel of the early composite is the site's
        own ground, whatever the absolute built-up test says (about the spread of bare
        fields' composites around their median; ``objects.context.built_not_ground``).
    same_material : float
        Largest difference per band, relative to the darker, between two surfaces of one
        material (:func:`same_material`): a pad's sections laid months apart, weathered
        alike, are; the levelled ground a pad was laid on is not its concrete.
    """

    vegetated_min_ndvi: float = 0.3
    concrete_max_ndvi: float = 0.2
    concrete_min_blue: float = 0.15
    concrete_max_red_blue: float = 1.3
    concrete_max_swir_nir: float = 1.15
    asphalt_max_reflectance: float = 0.2
    asphalt_max_ndvi: float = 0.25
    asphalt_max_spread: float = 0.09
    earth_max_ndvi: float = 0.2
    earth_min_blue: float = 0.17
    earth_min_swir_nir: float = 1.15
    earth_max_red_blue: float = 1.45
    roof_min_brightness: float = 0.28
    roof_max_red_blue: float = 1.25
    pale_min_brightness: float = 0.2
    pale_max_red_blue: float = 1.3
    bright_ground_max_red_blue: float = 1.45
    dark_max_blue: float = 0.13
    dark_max_red_blue: float = 1.3
    soil_max_ndvi: float = 0.35
    soil_min_red_blue: float = 1.38
    soil_max_blue: float = 0.205
    paved_max_reflectance: float = 0.24
    paved_max_ratio: float = 2.0
    paved_max_ndvi: float = 0.25
    pavement_prior_concrete: tuple[float, ...] = (0.18, 0.20, 0.22, 0.25, 0.28, 0.25)
    pavement_prior_asphalt: tuple[float, ...] = (0.11, 0.125, 0.14, 0.165, 0.20, 0.19)
    relative_margin: float = 0.01
    relative_min_cover: float = 0.3
    relative_max_residual: float = 0.08
    site_ground_rms: float = 0.02
    same_material: float = 0.2


DEFAULT_RULES = SurfaceRules()


def _band(s: Spectrum, band: str) -> np.ndarray:
    v = s.get(band)
    return np.asarray(np.nan if v is None else v)


def _nd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    shape = np.broadcast_shapes(np.shape(a), np.shape(b))
    return normalized_difference(np.atleast_1d(a), np.atleast_1d(b)).reshape(shape)


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a / b``, NaN where ``b`` is not positive (no reflectance to compare with)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = np.where(b > 0, a / np.where(b > 0, b, 1), np.nan)
    return out


def surface_indices(s: Spectrum) -> dict[str, np.ndarray]:
    """NDVI, NDBI, BSI, visible brightness and the band ratios the tests read.

    Parameters
    ----------
    s : mapping of band name to reflectance (floats or arrays of one shape)

    Returns
    -------
    dict
        ``ndvi``, ``ndbi``, ``bsi``, ``brightness`` (mean of B02, B03, B04), ``swir_nir``
        (B11/B08), ``red_blue`` (B04/B02), arrays of the spectrum's shape. The normalised
        differences are float32 (:func:`~sitewatch.core.indices.normalized_difference`).

    Examples
    --------
    >>> s = {"B02": .1, "B03": .15, "B04": .2, "B08": .3, "B11": .35, "B12": .3}
    >>> round(float(surface_indices(s)["ndvi"]), 2)
    0.2
    """
    b02, b03, b04, b08, b11 = (_band(s, b) for b in ("B02", "B03", "B04", "B08", "B11"))
    return {
        "ndvi": _nd(b08, b04),
        "ndbi": _nd(b11, b08),
        "bsi": _nd(b11 + b04, b08 + b02),
        "brightness": (b02 + b03 + b04) / 3,
        "swir_nir": _ratio(b11, b08),
        "red_blue": _ratio(b04, b02),
    }


def _extremes(s: Spectrum) -> tuple[np.ndarray, np.ndarray]:
    vals = [_band(s, b) for b in SURFACE_BANDS if b in s]
    if not vals:
        nan = np.full(np.shape(_band(s, "B02")), np.nan)
        return nan, nan
    return np.fmax.reduce(vals), np.fmin.reduce(vals)


def concrete_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """Bright, flat, not vegetated, SWIR no higher than NIR (concrete, cement, pale gravel)."""
    i = surface_indices(s)
    r = rules
    out: np.ndarray = (
        (i["ndvi"] < r.concrete_max_ndvi)
        & (_band(s, "B02") >= r.concrete_min_blue)
        & (i["red_blue"] < r.concrete_max_red_blue)
        & (i["swir_nir"] < r.concrete_max_swir_nir)
    )
    return out


def asphalt_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """Dark and flat from visible to SWIR (asphalt, bitumen)."""
    hi, lo = _extremes(s)
    ndvi = surface_indices(s)["ndvi"]
    out: np.ndarray = (
        (hi < rules.asphalt_max_reflectance)
        & (ndvi < rules.asphalt_max_ndvi)
        & ((hi - lo) < rules.asphalt_max_spread)
    )
    return out


def paved_prior(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """Weak prior of pavement in a composite: asphalt, concrete, or dark flat aged asphalt.

    Used to find the site's own runways; an object's surface is then judged against them
    (:mod:`sitewatch.objects.classify`), not against this prior.
    """
    hi, lo = _extremes(s)
    ndvi = surface_indices(s)["ndvi"]
    with np.errstate(invalid="ignore", divide="ignore"):
        flat_dark = (hi < rules.paved_max_reflectance) & (lo > 0) & (hi <= rules.paved_max_ratio * lo)
    out: np.ndarray = (ndvi < rules.paved_max_ndvi) & flat_dark
    return out | asphalt_like(s, rules) | concrete_like(s, rules)


def earth_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """Bright bare ground with SWIR above NIR: levelled, exposed subsoil or fill."""
    i = surface_indices(s)
    r = rules
    out: np.ndarray = (
        (i["ndvi"] < r.earth_max_ndvi)
        & (_band(s, "B02") >= r.earth_min_blue)
        & (i["swir_nir"] >= r.earth_min_swir_nir)
        & (i["red_blue"] < r.earth_max_red_blue)
    )
    return out


def _roof_like(i: Mapping[str, np.ndarray], rules: SurfaceRules) -> np.ndarray:
    out: np.ndarray = (i["brightness"] > rules.roof_min_brightness) & (
        i["red_blue"] < rules.roof_max_red_blue
    )
    return out


def built_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """An object's surface is built: concrete, asphalt, roofs or earthworks; never vegetation or soil."""
    i = surface_indices(s)
    out: np.ndarray = (i["ndvi"] < rules.vegetated_min_ndvi) & (
        concrete_like(s, rules) | asphalt_like(s, rules) | earth_like(s, rules) | _roof_like(i, rules)
    )
    return out


def built_up_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """A pixel of a composite before the change belongs to built-up area.

    Looser than :func:`built_like`, because a facility's pixels mix its surfaces: asphalt,
    pale flat surfaces, bright ground that is not red soil, concrete (whatever its NDVI
    below the vegetation limit), dark flat surfaces; never vegetation.
    """
    i = surface_indices(s)
    r = rules
    hi, _ = _extremes(s)
    blue = _band(s, "B02")
    out: np.ndarray = (i["ndvi"] < r.vegetated_min_ndvi) & (
        asphalt_like(s, r)
        | ((i["brightness"] > r.pale_min_brightness) & (i["red_blue"] < r.pale_max_red_blue))
        | (
            (blue >= r.concrete_min_blue)
            & (i["red_blue"] < r.bright_ground_max_red_blue)
            & (i["ndvi"] < r.concrete_max_ndvi)
        )
        | (
            (blue >= r.concrete_min_blue)
            & (i["swir_nir"] < r.concrete_max_swir_nir)
            & (i["red_blue"] < r.concrete_max_red_blue)
        )
        | (
            (blue < r.dark_max_blue)
            & (i["red_blue"] < r.dark_max_red_blue)
            & (hi < r.asphalt_max_reflectance)
        )
    )
    return out


def structure_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """Structures that an evacuation removes: bright flat roofs and tents, dark vehicles and containers.

    Dark flat surfaces count unless they are asphalt (a road or apron is not removed).
    """
    i = surface_indices(s)
    r = rules
    hi, _ = _extremes(s)
    dark = (hi < r.asphalt_max_reflectance) & (i["red_blue"] < r.dark_max_red_blue) & ~asphalt_like(s, r)
    out: np.ndarray = (i["ndvi"] < r.vegetated_min_ndvi) & (_roof_like(i, r) | dark)
    return out


def soil_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> np.ndarray:
    """Natural bare ground or stubble: not green, reddish (red well above blue), not bright, SWIR above NIR.

    Bands that are missing from ``s`` are not tested (the history may run without blue or SWIR).
    """
    r = rules
    # only the two tests it needs: the history calls it on every tile of pixels
    out: np.ndarray = _nd(_band(s, "B08"), _band(s, "B04")) < r.soil_max_ndvi
    if "B02" in s:
        blue = _band(s, "B02")
        out = out & (_ratio(_band(s, "B04"), blue) > r.soil_min_red_blue) & (blue < r.soil_max_blue)
    if "B11" in s:
        out = out & (_band(s, "B11") > _band(s, "B08"))
    return out


def same_material(a: Mapping[str, float], b: Mapping[str, float], tolerance: float) -> bool:
    """Whether two surfaces are one material: every common band within ``tolerance`` of the darker.

    Relative to the darker of the two (with a floor of 0.02, so the darkest bands' noise is not
    read as a difference); bands missing or not finite in either are not compared, and two
    surfaces with no band in common are not the same.

    Examples
    --------
    >>> same_material({"B04": 0.20, "B08": 0.25}, {"B04": 0.22, "B08": 0.26}, 0.2)
    True
    >>> same_material({"B04": 0.20, "B08": 0.25}, {"B04": 0.10, "B08": 0.26}, 0.2)
    False
    """
    common = [k for k in a if k in b and np.isfinite(a[k]) and np.isfinite(b[k])]
    if not common:
        return False
    x = np.array([a[k] for k in common], np.float64)
    y = np.array([b[k] for k in common], np.float64)
    return bool(np.all(np.abs(x - y) <= tolerance * np.maximum(np.minimum(x, y), 0.02)))
