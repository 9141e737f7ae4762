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


def evidence_dates(obj_clear: np.ndarray, first_t: int) -> tuple[int | None, tuple[int, ...]]:
    """The last date clear over most of the object before ``first_t``, and the dates that show the change.

    Parameters
    ----------
    obj_clear : numpy.ndarray
        ``(T,)`` the object's clear share on each date.
    first_t : int
        The date it is first seen.

    Returns
    -------
    tuple
        The last unchanged date index (None when none is clear before) and the evidence dates:
        it, ``first_t`` and the next two clear ones.

    Examples
    --------
    >>> evidence_dates(np.array([1.0, 0.2, 1.0, 1.0, 0.0, 1.0, 1.0]), 3)
    (2, (2, 3, 5, 6))
    """
    before_t = [t for t in range(first_t) if obj_clear[t] >= 0.5]
    lu = before_t[-1] if before_t else None
    ev_t = [t for t in ([lu] if lu is not None else []) + [first_t] if t is not None]
    ev_t += [t for t in range(first_t + 1, len(obj_clear)) if obj_clear[t] >= 0.5][:2]
    return lu, tuple(ev_t)
