"""A field's season is not a lasting change: recognising green-up and harvest from an object's own trajectory.

The per-pixel history compares each date with the months before it and the same season a
year earlier; in a short series there is no such year, and a harvest, a ploughing or a
stubble fire that the spectral phenology test does not recognise (bright stubble, dark char)
becomes a lasting change that fits no rule. The object's own trajectory says what it is:
its median NDVI on the dates clear over most of it shows a crop's season, green-up from bare
ground then the harvest, or green again after the change (the next season), or a crop grown
and harvested after the change (a ploughing, or the first green-up of a short series, has
nothing before it to be compared with; what follows it says it was a field). Greenness is
judged against the object's own bare state (bright soils have an NDVI of 0.3), not one
absolute level. Only changes that fit no type are judged this way: a pad, a runway or an
evacuation on a former field keep their type.
"""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from sitewatch.core.bands import nir_band

__all__ = ["crop_season", "green_after"]

#: Rise of NDVI above the object's own bare state that counts as green.
GREEN_RISE = 0.2
#: Longest green run of a crop's season, in days (woods and groves stay green longer).
MAX_SEASON_DAYS = 240
#: A harvest follows the green run within this many days.
HARVEST_WITHIN_DAYS = 120
#: Green again at least this long after the change: the next season, not the same one.
REGREEN_AFTER_DAYS = 30


def _red_nir(stack: xr.DataArray) -> tuple[int, int] | None:
    """Band indices of B04 and the NIR (B08, else its stand-in B8A), or None when either is missing."""
    names = [str(b) for b in stack.coords["band"].values]
    nir = nir_band(names)
    if "B04" not in names or nir is None:
        return None
    return names.index("B04"), names.index(nir)


def _object_ndvi(
    stack: xr.DataArray, clear: np.ndarray, sel: np.ndarray, bands: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Date indices clear over most of ``sel`` and the object's median NDVI on each."""
    i_red, i_nir = bands
    vals = stack.values
    idx, ndvi = [], []
    need = max(3, 0.5 * int(sel.sum()))
    for t in range(stack.sizes["time"]):
        ok = clear[t] & sel
        if ok.sum() < need:
            continue
        red = vals[t, i_red][ok].astype(np.float32)
        n = vals[t, i_nir][ok].astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            idx.append(t)
            ndvi.append(float(np.nanmedian((n - red) / (n + red))))
    return np.asarray(idx, np.int64), np.asarray(ndvi, np.float32)


def crop_season(
    stack: xr.DataArray,
    clear: np.ndarray,
    sel: np.ndarray,
    first_t: int,
    *,
    after_built: bool = False,
    typed: bool = False,
) -> str | None:
    """Why an object's change is a field's season (a reason for ``evidence``), or None.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory, with B04 and B08 (or B8A).
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    sel : numpy.ndarray
        ``(y, x)`` bool: the object's pixels.
    first_t : int
        The date index the change was first seen.
    after_built : bool
        The ground after the change is built-like (asphalt, concrete, roofs, levelled earth):
        a season seen before it then says nothing (works are laid on fields after a harvest);
        only green again after does.
    typed : bool
        The change has a type (a pad, a runway change, earthworks): a crop grown after it is
        not read (the object may hold a field beside the works); only green again after is.

    Returns
    -------
    str or None
        A crop's season when the object was green before the change and either green again
        at least :data:`REGREEN_AFTER_DAYS` after it (the next season) or green, after bare
        ground, in a run of at most :data:`MAX_SEASON_DAYS` that ended within
        :data:`HARVEST_WITHIN_DAYS` before the change (green-up and harvest seen), or, for a
        change without a type, when a crop was grown and harvested after it (a ploughing or the
        first green-up of a short series; :func:`_season_after`); else None.

    Examples
    --------
    >>> crop_season(stack, clear, mask, 40)  # doctest: +SKIP
    'green from 2024-02-13 to 2024-05-23 after bare ground, then bare: a crop's season'
    """
    bands = _red_nir(stack)
    if bands is None:
        return None
    idx, ndvi = _object_ndvi(stack, clear, sel, bands)
    if idx.size < 6:
        return None
    days = stack.coords["time"].values[idx].astype("datetime64[D]")
    bare_level = float(np.quantile(ndvi, 0.1))
    green = ndvi >= max(0.3, bare_level + GREEN_RISE)
    t0 = stack.coords["time"].values[first_t].astype("datetime64[D]")
    if not typed:
        grown = _season_after(days, green, idx >= first_t)
        if grown is not None:
            return grown
    before = np.nonzero((idx < first_t) & green)[0]
    if before.size < 2:
        return None  # never green before: not a field's season (a yard, a roof, a road)
    later = green & (days >= t0 + np.timedelta64(REGREEN_AFTER_DAYS, "D"))
    if later.sum() >= 2:
        return f"green again from {days[later][0]}: a crop's next season, not a lasting change"
    if after_built:
        return None
    end = before[-1]
    if (t0 - days[end]).astype(int) > HARVEST_WITHIN_DAYS:
        return None
    start = _run_end(green, end, -1)  # the green run that ends there
    bare_before = start > 0 and not green[:start].all()
    span = int((days[end] - days[start]).astype(int))
    if bare_before and span <= MAX_SEASON_DAYS:
        return f"green from {days[start]} to {days[end]} after bare ground, then bare: a crop's season"
    return None


def _run_end(green: np.ndarray, j0: int, step: int) -> int:
    """The far end of the green run through ``j0`` walking by ``step`` (one odd date inside allowed)."""
    far, j = j0, j0 + step
    while 0 <= j < green.size and (green[j] or (0 <= j + step < green.size and green[j + step])):
        far = j if green[j] else far
        j += step
    return far


def _season_after(days: np.ndarray, green: np.ndarray, after: np.ndarray) -> str | None:
    """A crop grown and harvested after the change (its first green run, then bare), or None.

    A ploughing or the first green-up of a short series is a change with nothing to compare
    it with; what follows says it was a field: green for at most :data:`MAX_SEASON_DAYS`
    (at least two dates, one odd date inside the run allowed), then bare again on at least
    two dates. Ground that stays green (a new grove, a lawn) or stays bare is not this.
    """
    run = np.nonzero(after & green)[0]
    if run.size < 2:
        return None
    start = int(run[0])
    end = _run_end(green, start, 1)
    bare_after = int((~green[end + 1 :]).sum())
    span = int((days[end] - days[start]).astype(int))
    if end == start or bare_after < 2 or span > MAX_SEASON_DAYS:
        return None
    return f"green from {days[start]} to {days[end]} after the change, then bare again: a crop's season"


def green_after(stack: xr.DataArray, clear: np.ndarray, sel: np.ndarray, first_t: int) -> np.ndarray:
    """The pixels of ``sel`` green on at least two clear dates from ``first_t`` on, ``(y, x)`` bool.

    Green as :func:`crop_season` judges an object, pixel by pixel: :data:`GREEN_RISE` above
    the pixel's own bare state (its 10th percentile over clear dates) and at least 0.3. An
    object that joins a field to works laid beside it at the same time (a pad, levelled
    ground) shows the field's season in its median; these are the field's pixels, the rest
    never greened after the change.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, with B04 and B08 (or B8A).
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    sel : numpy.ndarray
        ``(y, x)`` bool.
    first_t : int
        The date index the change was first seen.

    Returns
    -------
    numpy.ndarray
    """
    out = np.zeros(sel.shape, bool)
    bands = _red_nir(stack)
    if bands is None or not sel.any():
        return out
    rows, cols = np.nonzero(sel)
    vals = stack.values
    red = vals[:, bands[0]][:, rows, cols].astype(np.float32)
    n = vals[:, bands[1]][:, rows, cols].astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pixel never clear has no bare state
        ndvi = np.where(clear[:, rows, cols], (n - red) / (n + red), np.nan)
        bare = np.nanquantile(ndvi, 0.1, axis=0)
        green = ndvi[first_t:] >= np.maximum(0.3, bare + GREEN_RISE)
    out[rows, cols] = green.sum(axis=0) >= 2
    return out
