"""When an object's surface is laid: a pad levelled first and concreted later is dated by its concrete."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

from sitewatch.core.surfaces import DEFAULT_RULES, SurfaceRules, concrete_like, earth_like

__all__ = ["step_date", "surface_dates", "surface_onset"]


def surface_onset(
    stack: xr.DataArray,
    clear: np.ndarray,
    sel: np.ndarray,
    start_t: int,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> int | None:
    """When an object's surface is laid on ground it levelled first.

    From ``start_t`` on, the object's median spectrum on each date clear over most of it.
    Only when it is earth-like (levelled) on some date and concrete-like on two consecutive
    dates after it (else None). The date is then the object's own step between the two:
    the split of its dates from the first earth-like one on, up to the first of those two
    concrete-like ones, where the mean spectrum after differs most from the mean before
    (weighted ``sqrt(n1 n2 / (n1 + n2))``, the usual change-point statistic). The
    concrete test alone dates a pad whose SWIR/NIR sits near its limit by the date it
    crosses it, weeks to months after the concrete was laid.

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
    dates, spectra = _object_spectra(stack, clear, sel, start_t)
    first_earth: int | None = None  # positions in dates
    prev: int | None = None
    for i, med in enumerate(spectra):
        spec = dict(zip(names, med.tolist(), strict=True))
        if bool(concrete_like(spec, rules)):
            if prev is not None and first_earth is not None:
                # the step, on the rest of the series as the state after; or earlier, when a
                # good part of it was laid first (sections: the median turns at the half)
                t_step = dates[first_earth + _step(spectra[first_earth:], prev - first_earth)]
                laid = surface_dates(stack, clear, sel, dates[first_earth], t_step, rules=rules)
                laid[laid < 0] = t_step
                return min(t_step, int(np.quantile(laid, SECTIONS_LAID_SHARE, method="lower")))
            prev = i
        else:
            prev = None
            if first_earth is None and bool(earth_like(spec, rules)):
                first_earth = i
    return None


#: Share of an object's pixels whose surface was laid by the date a pad laid in sections is
#: first seen (the object stage's own convention for the date of a change).
SECTIONS_LAID_SHARE = 0.3


def surface_dates(
    stack: xr.DataArray,
    clear: np.ndarray,
    sel: np.ndarray,
    from_t: int,
    to_t: int,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> np.ndarray:
    """Per pixel of ``sel``, the date its surface was laid, from ``from_t`` up to ``to_t``; -1 if not.

    The first clear date the pixel is concrete-like that its next clear date confirms: a pad
    laid in sections on ground levelled as a whole is laid pixel by pixel.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    sel : numpy.ndarray
        ``(y, x)`` bool: the pixels (the object's interior).
    from_t, to_t : int
        Date indices: the first and the last date looked at.
    rules : SurfaceRules
        What is concrete-like.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` int64 date indices, in the order of ``np.nonzero(sel)``.
    """
    names = [str(b) for b in stack.coords["band"].values]
    rows, cols = np.nonzero(sel)
    laid = np.full(rows.size, -1, np.int64)
    pending = np.zeros(rows.size, bool)  # concrete-like on the pixel's last clear date
    last_clear = np.full(rows.size, from_t, np.int64)
    for t in range(from_t, to_t + 1):
        ok = clear[t, rows, cols]
        x = stack.values[t][:, rows, cols].astype(np.float32) * np.float32(1e-4)
        with np.errstate(invalid="ignore"):
            now = np.asarray(concrete_like(dict(zip(names, x, strict=True)), rules), bool) & ok
        confirmed = now & pending & (laid < 0)
        laid[confirmed] = last_clear[confirmed]  # the first of the two dates
        pending = np.where(ok, now, pending)
        last_clear[ok] = t
    return laid


def _object_spectra(
    stack: xr.DataArray, clear: np.ndarray, sel: np.ndarray, from_t: int
) -> tuple[list[int], np.ndarray]:
    """The dates from ``from_t`` on clear over most of ``sel``, and its median spectrum on each."""
    dates: list[int] = []
    spectra: list[np.ndarray] = []
    for t in range(from_t, stack.sizes["time"]):
        ok = clear[t] & sel
        if ok.sum() < max(3, 0.5 * sel.sum()):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(stack.values[t][:, ok].astype(np.float32) * np.float32(1e-4), axis=1)
        if np.isfinite(med).all():  # a band with no value on the date says nothing of the step
            dates.append(t)
            spectra.append(med)
    return dates, np.asarray(spectra, np.float32).reshape(len(dates), stack.sizes["band"])


def step_date(
    stack: xr.DataArray,
    clear: np.ndarray,
    sel: np.ndarray,
    first_t: int,
    last_t: int,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> int:
    """The date after ``first_t`` and not after ``last_t`` where a levelled object's spectrum steps most.

    The object's median spectrum on each date from ``first_t`` on that is clear over most of
    it (to the series' end: the state after is read on all of it), from its first
    earth-like (levelled) date when it has one before ``last_t``: the dates before it are
    the ground before the works. The split where the mean after differs most from the mean
    before (see :func:`surface_onset`).

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    sel : numpy.ndarray
        ``(y, x)`` bool: the object's interior.
    first_t, last_t : int
        Date indices: the first date looked at, the latest the step may be.
    rules : SurfaceRules
        What is earth-like.

    Returns
    -------
    int
        The date index of the step; ``last_t`` when no clear date before it shows the state
        before or none up to it the state after.

    Examples
    --------
    >>> import xarray as xr
    >>> earth, concrete = [2000, 2400, 2800, 3100, 4200, 3600], [2400, 2700, 2900, 3100, 3550, 3000]
    >>> data = np.tile(np.array([earth] * 4 + [concrete] * 6, np.float32)[:, :, None, None], (1, 1, 2, 2))
    >>> bands = ["B02", "B03", "B04", "B08", "B11", "B12"]
    >>> stack = xr.DataArray(data, dims=("time", "band", "y", "x"), coords={"band": bands})
    >>> step_date(stack, np.ones((10, 2, 2), bool), np.ones((2, 2), bool), 0, 8)
    4
    """
    names = [str(b) for b in stack.coords["band"].values]
    dates, spectra = _object_spectra(stack, clear, sel, first_t)
    up_to = [i for i, t in enumerate(dates) if t <= last_t]
    earth = [i for i in up_to if bool(earth_like(dict(zip(names, spectra[i].tolist(), strict=True)), rules))]
    start = earth[0] if earth else 0
    last = (up_to[-1] if up_to else -1) - start  # the latest split: the last date up to last_t
    if last < 1:
        return last_t
    return dates[start + _step(spectra[start:], last)]


def _step(spectra: np.ndarray, last: int) -> int:
    """Position ``k`` in ``1..last`` where ``spectra[k:]`` differs most from ``spectra[:k]``.

    By the distance of the two means, weighted ``sqrt(n1 n2 / (n1 + n2))``: the split that
    leaves the least squared spread within the two (a median before would stay put while
    the split walks into the state after, so the weight alone would push it late).
    """
    n = len(spectra)
    best, best_k = -1.0, last
    for k in range(1, last + 1):
        gap = float(np.linalg.norm(spectra[k:].mean(axis=0) - spectra[:k].mean(axis=0)))
        score = gap * np.sqrt(k * (n - k) / n)
        if score > best:
            best, best_k = score, k
    return best_k


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
