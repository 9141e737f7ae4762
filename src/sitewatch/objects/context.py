"""What was on the site before a change: the early composite, runways, built-up area, facilities.

The object stage types a change against what stood there before it (a strip that
continues an existing runway is an extension, a drop in built-up area is an evacuation).
:func:`site_context` reads that from the early part of the series, each pixel only
before its own break, so a change never hides the ground it replaced.

Examples
--------
>>> import numpy as np, xarray as xr
>>> stack = xr.DataArray(np.full((3, 6, 8, 8), 2500.0, np.float32), dims=("time", "band", "y", "x"),
...     coords={"band": ["B02", "B03", "B04", "B08", "B11", "B12"]})
>>> context = early_context(stack, np.ones((3, 8, 8), bool), np.full((8, 8), -1))
>>> bool(context.built[2:6, 2:6].all())
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from sitewatch.core.morphology import label_changes, vectorize
from sitewatch.core.surfaces import DEFAULT_RULES, SurfaceRules, asphalt_like, built_up_like, structure_like
from sitewatch.objects.measure import measure_geometry

__all__ = [
    "EarlyContext",
    "Runway",
    "SiteContext",
    "early_context",
    "find_runways",
    "late_composite",
    "site_context",
]

#: The shortest strip taken for a runway, and its least length / width.
RUNWAY_MIN_LENGTH_M = 400.0
RUNWAY_MIN_ASPECT = 8.0


@dataclass(frozen=True)
class EarlyContext:
    """Per-pixel masks of what stood on the site before any change.

    Attributes
    ----------
    composite : numpy.ndarray
        ``(B, Y, X)`` reflectance 0..1: median of the early clear observations, each pixel
        only before its own break.
    asphalt, built, roofs : numpy.ndarray
        ``(Y, X)`` bool: asphalt, built-up area (closed over small gaps) and the structures in
        it (roofs, tents, vehicles, containers).
    """

    composite: np.ndarray
    asphalt: np.ndarray
    built: np.ndarray
    roofs: np.ndarray


@dataclass(frozen=True)
class Runway:
    """An elongated asphalt strip present before the change (grid CRS, metres)."""

    label: int
    geometry: BaseGeometry
    mask: np.ndarray
    length_m: float
    width_m: float
    orientation_deg: float


@dataclass(frozen=True)
class SiteContext:
    """:class:`EarlyContext`, the runways in it, and its facilities.

    Attributes
    ----------
    early : EarlyContext
    runways : tuple of Runway
    facilities : numpy.ndarray
        ``(Y, X)`` int labels of built-up areas without the roads and tracks that link them.
    """

    early: EarlyContext
    runways: tuple[Runway, ...]
    facilities: np.ndarray


def early_context(
    stack: xr.DataArray,
    clear: np.ndarray,
    break_index: np.ndarray,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> EarlyContext:
    """What was on the ground before: an early clear composite, asphalt, built-up area, structures.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory, time ascending.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    break_index : numpy.ndarray
        ``(y, x)`` date index of each pixel's break, negative where none.
    rules : SurfaceRules

    Returns
    -------
    EarlyContext
    """
    t_n = stack.sizes["time"]
    # the early part of the series, each pixel only before its own break
    n_early = min(t_n, max(6, t_n // 3))
    vals = stack.values[:n_early].astype(np.float32) * 1e-4
    usable = clear[:n_early] & (
        (break_index < 0)[None] | (np.arange(n_early)[:, None, None] < break_index[None])
    )
    vals[~np.broadcast_to(usable[:, None], vals.shape)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        comp = np.nanmedian(vals, axis=0)  # (B, Y, X)
    names = [str(b) for b in stack.coords["band"].values]
    spec = {b: comp[i] for i, b in enumerate(names)}
    asphalt = asphalt_like(spec, rules)
    built = built_up_like(spec, rules)
    roofs = structure_like(spec, rules)
    vis = (spec["B02"] + spec["B03"] + spec["B04"]) / 3
    built = ndimage.binary_closing(built, iterations=2) & np.isfinite(vis)
    return EarlyContext(composite=comp, asphalt=asphalt, built=built, roofs=roofs & built)


def find_runways(asphalt: np.ndarray, gbox: Any) -> tuple[Runway, ...]:
    """Elongated asphalt strips (length >= 400 m, length >= 8 x width).

    Parameters
    ----------
    asphalt : numpy.ndarray
        ``(Y, X)`` bool.
    gbox : odc.geo.geobox.GeoBox
        The grid (metric CRS).

    Returns
    -------
    tuple of Runway
    """
    res_m = abs(float(gbox.resolution.x))
    labels = np.asarray(label_changes(asphalt, min_pixels=max(9, int(RUNWAY_MIN_LENGTH_M * 15 / res_m**2))))
    out = []
    for lab, geom in vectorize(labels.astype(np.int32), gbox, simplify_px=0.5):
        m = measure_geometry(geom)
        if m["length_m"] >= RUNWAY_MIN_LENGTH_M and m["length_m"] >= RUNWAY_MIN_ASPECT * max(m["width_m"], 1):
            out.append(
                Runway(
                    label=lab,
                    geometry=geom,
                    mask=labels == lab,
                    length_m=m["length_m"],
                    width_m=m["width_m"],
                    orientation_deg=m["orientation_deg"],
                )
            )
    return tuple(out)


def site_context(
    stack: xr.DataArray,
    clear: np.ndarray,
    break_index: np.ndarray,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> SiteContext:
    """The site before the change: :func:`early_context`, its runways and its facilities.

    Parameters
    ----------
    stack, clear, break_index, rules
        As :func:`early_context`; ``stack`` carries its grid (``stack.odc.geobox``).

    Returns
    -------
    SiteContext
    """
    early = early_context(stack, clear, break_index, rules=rules)
    runways = find_runways(early.asphalt, stack.odc.geobox)
    # facilities: built-up areas without the roads and tracks that link them
    facilities, _ = ndimage.label(
        ndimage.binary_opening(early.built, structure=np.ones((3, 3)), iterations=2)
    )
    return SiteContext(early=early, runways=runways, facilities=facilities)


def late_composite(stack: xr.DataArray, clear: np.ndarray, n_obs: int = 6, *, from_t: int = 0) -> np.ndarray:
    """Per pixel, the median of its last ``n_obs`` clear observations from date ``from_t`` on.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    n_obs : int
    from_t : int

    Returns
    -------
    numpy.ndarray
        Reflectance ``(B, Y, X)``; NaN where a pixel has no clear observation from ``from_t``.
    """
    t_n = stack.sizes["time"]
    # the most recent clear observations: count clear dates from the end
    clear = clear.copy()
    clear[:from_t] = False
    from_end = np.cumsum(clear[::-1], axis=0)[::-1]
    use = clear & (from_end <= n_obs)
    first = int(np.argmax(use.any(axis=(1, 2)))) if use.any() else t_n
    vals = stack.values[first:].astype(np.float32) * np.float32(1e-4)
    vals[~np.broadcast_to(use[first:, None], vals.shape)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.nanmedian(vals, axis=0)
    return out
