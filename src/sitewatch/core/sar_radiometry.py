"""Radar radiometry: linear power and dB, and speckle (pure NumPy/SciPy; see :mod:`sitewatch.core.sar`).

Change is measured on ``10 log10`` of linear power, where speckle is additive and a ratio of
powers is a difference. :func:`linear_power` recognises scenes that hold dB (linear power is
never negative) and refuses uncalibrated ones; :func:`lee_filter` is Lee's (1980)
minimum-mean-square-error speckle filter, with the number of looks measured on the scene
itself (:func:`estimate_looks`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

from sitewatch.errors import DataError, DataWarning

__all__ = [
    "band_looks",
    "db_to_power",
    "estimate_looks",
    "filter_speckle",
    "filtered_db",
    "lee_filter",
    "linear_power",
    "power_to_db",
    "scene_names",
]

# Linear backscatter of land is about 1e-4..1 (-40..0 dB); a scene whose median is above this
# is not calibrated backscatter at all (DN or amplitude x 10000).
_MAX_LINEAR_MEDIAN = 10.0
# Values sampled per scene to tell dB from linear power (the median of a strided sample).
_UNIT_SAMPLE = 50_000
_DB = np.float32(10.0 / math.log(10.0))
#: The attribute :func:`linear_power` leaves on a stack it checked (and converted), so that the
#: stages after the provider (the pixel core, every outline) do not check it again.
CHECKED_ATTR = "sitewatch_units"
CHECKED_VALUE = "linear power (checked)"
# The median of the upper half of 7 x 7 local ENL estimates over pure gamma speckle is 1.22 to
# 1.30 times the true number of looks (measured for 1 to 32 looks): the estimate is divided by it.
_ENL_UPPER_HALF_BIAS = 1.22
_ENL_BLOCK_PX = 384
_ENL_SCENES = 8


# --------------------------------------------------------------------------- units


def power_to_db(power: Any) -> Any:
    """``10 log10(power)``; NaN where the power is not positive (no data, or noise removed to zero).

    Parameters
    ----------
    power : numpy.ndarray or xarray.DataArray
        Linear backscatter power.

    Returns
    -------
    numpy.ndarray or xarray.DataArray
        float32 dB, same shape (and coords).

    Examples
    --------
    >>> power_to_db(np.array([1.0, 0.1, 0.0])).tolist()
    [0.0, -10.0, nan]
    """
    if isinstance(power, xr.DataArray):
        out = power.copy(data=power_to_db(power.values))
        out.attrs = {**power.attrs, "units": "dB"}
        return out
    values = np.asarray(power, dtype=np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        db = np.log(values, dtype=np.float32) * _DB
    db[~(values > 0)] = np.nan
    return db


def db_to_power(db: Any) -> Any:
    """Linear power from dB: ``10 ** (db / 10)``.

    Examples
    --------
    >>> db_to_power(np.array([0.0, -10.0])).round(3).tolist()
    [1.0, 0.10000000149011612]
    """
    if isinstance(db, xr.DataArray):
        out = db.copy(data=db_to_power(db.values))
        out.attrs = {**db.attrs, "units": "linear power"}
        return out
    return np.power(np.float32(10.0), np.asarray(db, dtype=np.float32) / np.float32(10.0))


def scene_names(stack: xr.DataArray, idx: Sequence[int]) -> str:
    """The ``scene_id`` (else the date) of time steps ``idx``, the first four and how many more."""
    ids = stack.coords["scene_id"].values if "scene_id" in stack.coords else None
    names = [str(ids[i]) if ids is not None else str(stack.coords["time"].values[i])[:10] for i in idx]
    return ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")


def linear_power(stack: xr.DataArray) -> xr.DataArray:
    """The stack as linear power: scenes holding dB are converted, with a warning naming them.

    Linear power is never negative, so a scene whose median value is negative holds dB;
    a scene whose median is above any land backscatter (10, i.e. +10 dB) is uncalibrated.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` backscatter.

    Returns
    -------
    xarray.DataArray
        The same data (not copied when nothing needed converting), float32, marked with the
        attribute :data:`CHECKED_ATTR` so a second call returns it at once. Arithmetic on
        the stack drops the mark (xarray drops attrs), so derived stacks are checked again.

    Raises
    ------
    DataError
        If a scene holds values far above calibrated backscatter (DN, amplitude x 10000).

    Warns
    -----
    DataWarning
        When scenes held dB and were converted.
    """
    if stack.attrs.get(CHECKED_ATTR) == CHECKED_VALUE and stack.dtype == np.float32:
        return stack  # checked (and converted) once already: the check costs a median per scene
    values = stack.transpose("time", ...).values
    t_n = values.shape[0]
    db_idx, dn_idx, medians = [], [], []
    for t in range(t_n):
        flat = values[t].reshape(-1)
        sample = flat[:: max(1, flat.size // _UNIT_SAMPLE)]
        sample = sample[np.isfinite(sample)]
        if sample.size == 0:
            continue
        median = float(np.median(sample))
        medians.append(median)
        if median < 0:
            db_idx.append(t)
        elif median > _MAX_LINEAR_MEDIAN:
            dn_idx.append(t)
    if dn_idx:
        raise DataError(
            f"radar scenes {scene_names(stack, dn_idx)} hold values far above calibrated backscatter "
            f"(median {max(medians):.3g}): they look like uncalibrated DN or amplitude; calibrate them to "
            "linear sigma0 or gamma0 (e.g. SNAP Calibration, or a Sentinel Hub / RTC source)"
        )
    if not db_idx:
        return _checked(stack if stack.dtype == np.float32 else stack.astype(np.float32))
    warnings.warn(
        f"radar scenes {scene_names(stack, db_idx)} hold dB values (negative median), not linear power; "
        "converted with 10 ** (dB / 10)",
        DataWarning,
        stacklevel=2,
    )
    out = stack.transpose("time", ...).astype(np.float32, copy=True)
    data = out.values
    for t in db_idx:
        data[t] = db_to_power(data[t])
    return _checked(out.transpose(*stack.dims))


def _checked(stack: xr.DataArray) -> xr.DataArray:
    """The stack marked as checked linear power (a shallow copy: the data are shared)."""
    if stack.attrs.get(CHECKED_ATTR) == CHECKED_VALUE:
        return stack
    out = stack.copy(deep=False)
    out.attrs = {**stack.attrs, CHECKED_ATTR: CHECKED_VALUE}
    return out


# --------------------------------------------------------------------------- speckle


def _local_moments(x: np.ndarray, ok: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windowed mean, variance and valid share of ``x`` over its valid pixels (NaN-aware)."""
    w = ok.astype(np.float32)
    xz = np.where(ok, x, np.float32(0))
    share = ndimage.uniform_filter(w, size, mode="nearest")
    s1 = ndimage.uniform_filter(xz, size, mode="nearest")
    s2 = ndimage.uniform_filter(xz * xz, size, mode="nearest")
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / share
        var = np.maximum(s2 / share - mean * mean, np.float32(0))
    return mean, var, share


def estimate_looks(power: np.ndarray, *, window_px: int = 7) -> float:
    """Equivalent number of looks of one speckled image, from its own homogeneous areas.

    In a homogeneous area, intensity speckle with ``L`` looks has mean² / variance = ``L``.
    Local estimates over ``window_px`` windows are lower wherever the ground varies, so the
    estimate is the median of the upper half of the local values (the homogeneous ones),
    clipped to 1..100.

    Parameters
    ----------
    power : numpy.ndarray
        ``(y, x)`` linear power, NaN for no data.
    window_px : int

    Returns
    -------
    float

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> round(estimate_looks(rng.gamma(4.0, 0.25, (200, 200))))
    4
    """
    x = np.asarray(power, dtype=np.float32)
    h, w = x.shape
    # a central block of at most _ENL_BLOCK_PX square is plenty: the number of looks is the product's
    y0, x0 = max(0, (h - _ENL_BLOCK_PX) // 2), max(0, (w - _ENL_BLOCK_PX) // 2)
    x = x[y0 : y0 + _ENL_BLOCK_PX, x0 : x0 + _ENL_BLOCK_PX]
    ok = np.isfinite(x) & (x > 0)
    if ok.sum() < window_px * window_px * 4:
        return 1.0
    mean, var, share = _local_moments(x, ok, window_px)
    sel = (share > 0.99) & (var > 0)
    if not sel.any():
        return 100.0
    enl = (mean[sel] ** 2 / var[sel]).astype(np.float64)
    upper = enl[enl >= np.median(enl)]
    return float(np.clip(np.median(upper) / _ENL_UPPER_HALF_BIAS, 1.0, 100.0))


def lee_filter(power: np.ndarray, *, looks: float, window_px: int = 5) -> np.ndarray:
    """Lee's minimum-mean-square-error speckle filter of one image of linear power.

    With the multiplicative speckle model ``y = x n`` (``E[n] = 1``, ``var n = 1 / looks``),
    each pixel becomes ``m + k (y - m)`` with ``m`` the local mean and ``k`` the share of the
    local variance that is not speckle: homogeneous ground is averaged, edges and point
    targets kept.

    Parameters
    ----------
    power : numpy.ndarray
        ``(y, x)`` linear power, NaN for no data (kept NaN; ignored by the local statistics).
    looks : float
        Equivalent number of looks of the input.
    window_px : int
        Side of the (odd) window.

    Returns
    -------
    numpy.ndarray
        float32, same shape.
    """
    y = np.asarray(power, dtype=np.float32)
    if window_px <= 1:
        return y.copy()
    ok = np.isfinite(y)
    mean, var, _ = _local_moments(y, ok, window_px)
    cv2 = np.float32(1.0 / max(looks, 1e-3))
    var_x = np.maximum((var - mean * mean * cv2) / (1 + cv2), np.float32(0))
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.where(var > 0, var_x / var, np.float32(0))
    out = mean + k * (y - mean)
    out[~ok] = np.nan
    return out.astype(np.float32, copy=False)


def filter_speckle(stack: xr.DataArray, *, window_px: int = 5, looks: float | None = None) -> xr.DataArray:
    """Lee-filter every scene and polarisation of a linear-power stack.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` linear power.
    window_px : int
        Filter window side (1: return a copy unfiltered).
    looks : float, optional
        Equivalent number of looks; by default estimated per band from the data (the median
        over up to eight scenes spread over the series: the number of looks belongs to the
        product, not to the date).

    Returns
    -------
    xarray.DataArray
        Same coords; attrs gain ``looks`` (per band, the value used).
    """
    data = stack.transpose("time", "band", "y", "x").values
    out = np.empty(data.shape, np.float32)
    used = band_looks(data, looks=looks)
    for b, enl in enumerate(used):
        for t in range(data.shape[0]):
            out[t, b] = lee_filter(data[t, b], looks=enl, window_px=window_px)
    result = stack.transpose("time", "band", "y", "x").copy(data=out)
    result.attrs = {**stack.attrs, "looks": used}
    return result


def band_looks(power: np.ndarray, *, looks: float | None = None) -> list[float]:
    """Equivalent number of looks per band of a ``(time, band, y, x)`` array of linear power.

    The median of :func:`estimate_looks` over up to eight scenes spread over the series (the
    number of looks belongs to the product, not to the date); ``looks`` when given.
    """
    t_n, b_n = power.shape[:2]
    sample = np.unique(np.linspace(0, max(t_n - 1, 0), min(t_n, _ENL_SCENES)).round().astype(int))
    if looks is not None:
        return [float(looks)] * b_n
    return [round(float(np.median([estimate_looks(power[t, b]) for t in sample])), 2) for b in range(b_n)]


def filtered_db(
    power: np.ndarray, *, window_px: int = 5, looks: float | None = None
) -> tuple[np.ndarray, list[float]]:
    """Lee-filtered backscatter in dB of a ``(time, band, y, x)`` linear-power array, and the looks used.

    The same values as ``power_to_db(filter_speckle(...))`` written into one array, scene by
    scene, so a large series is never held three times over (power, filtered, dB).
    """
    used = band_looks(power, looks=looks) if window_px > 1 else []
    out = np.empty(power.shape, np.float32)
    for t in range(power.shape[0]):
        for b in range(power.shape[1]):
            layer = (
                lee_filter(power[t, b], looks=used[b], window_px=window_px) if window_px > 1 else power[t, b]
            )
            out[t, b] = power_to_db(layer)
    return out, used
