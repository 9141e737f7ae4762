"""Spectral indices over a ``(time, band, y, x)`` stack.

What it offers
--------------
- :data:`INDICES` : the indices sitewatch knows, with their formulas.
- :func:`compute_indices` : a ``(time, index, y, x)`` DataArray of the indices the stack's
  bands allow (brightness, NDVI, NDBI, BSI, MNDWI, SWIR ratio, NIR/SWIR ratio).
- :func:`normalized_difference` : the building block, NaN-safe.

Indices chosen for arid and built-up sites: NDBI and BSI separate roofs, concrete and
bare soil from vegetation; the SWIR ratio (B12/B11) separates fresh earthworks and
asphalt from old desert surfaces; brightness catches new pale roofs and cleared ground.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import xarray as xr

__all__ = ["INDICES", "compute_indices", "normalized_difference"]

_EPS = 1e-6


def normalized_difference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(a - b) / (a + b)``, NaN where the sum is (near) zero or either input is NaN.

    Parameters
    ----------
    a, b : numpy.ndarray

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> normalized_difference(np.array([3.0]), np.array([1.0])).tolist()
    [0.5]
    """
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    total = a + b
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (a - b) / total
    out[~(np.abs(total) > _EPS)] = np.nan
    return out


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(a, np.float32) / np.asarray(b, np.float32)
    out[~(np.abs(b) > _EPS)] = np.nan
    return out


def _brightness(get: Callable[[str], np.ndarray], have: set[str]) -> np.ndarray:
    names = [b for b in ("B02", "B03", "B04", "B08", "B11", "B12") if b in have]
    return np.mean([get(b) for b in names], axis=0) / 10000.0


# name -> (required bands, function of a band getter, description)
INDICES: dict[str, tuple[tuple[str, ...], Callable[..., np.ndarray], str]] = {
    "brightness": (
        ("B02", "B04"),
        lambda g, have: _brightness(g, have),
        "mean reflectance of the visible, NIR and SWIR bands present (0..1)",
    ),
    "ndvi": (
        ("B08", "B04"),
        lambda g, have: normalized_difference(g("B08"), g("B04")),
        "(B08-B04)/(B08+B04)",
    ),
    "ndbi": (
        ("B11", "B08"),
        lambda g, have: normalized_difference(g("B11"), g("B08")),
        "(B11-B08)/(B11+B08)",
    ),
    "bsi": (
        ("B11", "B04", "B08", "B02"),
        lambda g, have: normalized_difference(g("B11") + g("B04"), g("B08") + g("B02")),
        "((B11+B04)-(B08+B02))/((B11+B04)+(B08+B02))",
    ),
    "mndwi": (
        ("B03", "B11"),
        lambda g, have: normalized_difference(g("B03"), g("B11")),
        "(B03-B11)/(B03+B11)",
    ),
    "swir_ratio": (("B12", "B11"), lambda g, have: _ratio(g("B12"), g("B11")), "B12/B11"),
    "nir_swir_ratio": (("B08", "B11"), lambda g, have: _ratio(g("B08"), g("B11")), "B08/B11"),
}


def compute_indices(
    stack: xr.DataArray,
    *,
    indices: Sequence[str] | None = None,
) -> xr.DataArray:
    """Compute spectral indices for every date of a stack.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000 (a ``(band, y, x)`` array works too).
    indices : sequence of str, optional
        Names from :data:`INDICES`; by default every index the bands allow.

    Returns
    -------
    xarray.DataArray
        float32 ``(time, index, y, x)`` with an ``index`` coordinate; spatial and time
        coordinates are kept. NaN where an input is NaN.

    Raises
    ------
    BandMissingError
        If an index asked for by name needs a band the stack lacks.
    ConfigError
        If an index name is unknown.

    Examples
    --------
    >>> idx = compute_indices(stack, indices=["ndvi", "ndbi"])  # doctest: +SKIP
    >>> idx.sel(index="ndvi")  # doctest: +SKIP
    """
    from sitewatch.errors import BandMissingError, ConfigError

    squeeze = "time" not in stack.dims
    if squeeze:
        stack = stack.expand_dims("time")
    have = {str(b) for b in stack.coords["band"].values}
    if indices is None:
        names = [n for n, (req, _, _) in INDICES.items() if set(req) <= have]
    else:
        names = list(indices)
        for n in names:
            if n not in INDICES:
                raise ConfigError(f"unknown index {n!r}; known: {', '.join(INDICES)}")
            missing = [b for b in INDICES[n][0] if b not in have]
            if missing:
                raise BandMissingError(f"index {n} needs band(s) {', '.join(missing)}, which the stack lacks")
    cache: dict[str, np.ndarray] = {}

    def get(band: str) -> np.ndarray:
        if band not in cache:
            cache[band] = np.asarray(stack.sel(band=band).values, dtype=np.float32)  # a view when float32
        return cache[band]

    layers = [INDICES[n][1](get, have).astype(np.float32, copy=False) for n in names]
    data = (
        np.stack(layers, axis=1)
        if layers
        else np.empty((stack.sizes["time"], 0, stack.sizes["y"], stack.sizes["x"]), np.float32)
    )
    coords: Mapping[str, xr.DataArray] = {
        str(k): v for k, v in stack.coords.items() if "band" not in v.dims and k != "band"
    }
    out = xr.DataArray(
        data,
        dims=("time", "index", "y", "x"),
        coords={**coords, "index": ("index", names)},
        name="indices",
        attrs={"formulas": "; ".join(f"{n}: {INDICES[n][2]}" for n in names)},
    )
    return out.isel(time=0) if squeeze else out
