"""The surface tests the per-pixel history applies to spectra with features on axis 0.

Phenology (green vegetation, natural soil-like ground, a break that is a crop's season)
and built ground, on top of :mod:`sitewatch.core.surfaces`, for
:mod:`sitewatch.core.history_tile`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sitewatch.core.surfaces import DEFAULT_RULES, built_like, soil_like

__all__ = ["built_of", "natural", "ndvi", "soil_like_of", "vegetation_driven"]


def built_of(band_names: Sequence[str] | None) -> Callable[[np.ndarray], np.ndarray]:
    """``(F, N) -> (N,)``: built ground (:func:`~sitewatch.core.surfaces.built_like`).

    Nothing is built without band names (the surface tests need to know the bands).
    """

    def built(s: np.ndarray) -> np.ndarray:
        if band_names is None:
            return np.zeros(s.shape[1], bool)
        out: np.ndarray = built_like({b: s[i] for i, b in enumerate(band_names)})
        return out

    return built


def ndvi(s: np.ndarray, red_nir: tuple[int, int]) -> np.ndarray:
    """NDVI of spectra with features on axis 0."""
    r, n = s[red_nir[0]], s[red_nir[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = (n - r) / (n + r)
    return out


def soil_like_of(s: np.ndarray, red_nir: tuple[int, int], blue: int | None, swir: int | None) -> np.ndarray:
    """Natural bare ground or stubble (:func:`sitewatch.core.surfaces.soil_like`), features on axis 0."""
    spectrum = {"B04": s[red_nir[0]], "B08": s[red_nir[1]]}
    if blue is not None:
        spectrum["B02"] = s[blue]
    if swir is not None:
        spectrum["B11"] = s[swir]
    return soil_like(spectrum)


def natural(s: np.ndarray, red_nir: tuple[int, int], blue: int | None, swir: int | None) -> np.ndarray:
    """Green vegetation or natural soil-like ground, for spectra with features on axis 0."""
    out: np.ndarray = (ndvi(s, red_nir) > DEFAULT_RULES.vegetated_min_ndvi) | soil_like_of(
        s, red_nir, blue, swir
    )
    return out


def vegetation_driven(
    before: np.ndarray,
    after: np.ndarray,
    early: np.ndarray,
    red_nir: tuple[int, int],
    blue: int | None,
    swir: int | None,
) -> np.ndarray:
    """A break whose before/after spectra are phenology: greening, browning, ploughing, green again."""
    nb, na, ne = ndvi(before, red_nir), ndvi(after, red_nir), ndvi(early, red_nir)
    greening = (ne - nb > 0.15) & (ne > 0.3)
    soil_b = soil_like_of(before, red_nir, blue, swir)
    soil_e = soil_like_of(early, red_nir, blue, swir)
    browning = (nb > 0.3) & soil_e
    ploughing = soil_b & soil_e
    regreen = (na - nb > 0.15) & (na > 0.3)
    out: np.ndarray = greening | browning | ploughing | (regreen & soil_e)
    return out
