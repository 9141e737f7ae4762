"""When an object's surface is laid: a pad levelled first and concreted later is dated by its concrete."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sitewatch.core.surfaces import DEFAULT_RULES, SurfaceRules, concrete_like, earth_like

__all__ = ["surface_onset"]


def surface_onset(
    stack: xr.DataArray,
    clear: np.ndarray,
    sel: np.ndarray,
    start_t: int,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> int | None:
    """When an object's surface is laid: the first of two consecutive concrete-like dates.

    From ``start_t`` on, the object's median spectrum on each date clear over most of it;
    only after at least one earth-like (levelled) date, else None.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    sel : numpy.ndarray
        ``(y, x)`` bool: the object's interior.
    start_t : int
        The first date index looked at.
    rules : SurfaceRules

    Returns
    -------
    int or None
        The date index the surface is laid.
    """
    names = [str(b) for b in stack.coords["band"].values]
    seen_earth = False
    prev: int | None = None
    for t in range(start_t, stack.sizes["time"]):
        ok = clear[t] & sel
        if ok.sum() < max(3, 0.5 * sel.sum()):
            continue
        v = stack.values[t][:, ok].astype(np.float32) * np.float32(1e-4)
        spec = dict(zip(names, np.median(v, axis=1).tolist(), strict=True))
        if bool(concrete_like(spec, rules)):
            if prev is not None and seen_earth:
                return prev
            prev = t
        else:
            prev = None
            seen_earth = seen_earth or bool(earth_like(spec, rules))
    return None
