"""A radar series' viewing geometries, reference windows, date offsets and the Welch t (pure NumPy).

See :mod:`sitewatch.core.sar` for how the radar core uses them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sitewatch.core.baseline import reference_index_windows
from sitewatch.core.sar_params import SarParams

__all__ = ["OrbitGroup", "date_offsets", "orbit_groups", "reference_windows", "time_coord", "welch_t"]


@dataclass(frozen=True)
class OrbitGroup:
    """Acquisitions of one viewing geometry: one relative orbit (or one direction when unknown).

    Parameters
    ----------
    label : str
        ``"D079"`` (direction initial and relative orbit), ``"D"`` when only the direction is
        known, ``"all"`` when neither is.
    relative_orbit : int
        0 when unknown.
    orbit_direction : str
        ``"ASCENDING"``, ``"DESCENDING"`` or ``""`` when unknown.
    index : tuple of int
        Positions of the acquisitions in the stack's time axis, in time order.
    """

    label: str
    relative_orbit: int
    orbit_direction: str
    index: tuple[int, ...]


def time_coord(stack: xr.DataArray, name: str) -> np.ndarray | None:
    """The values of a per-time coordinate of a stack, or None when it has none by that name."""
    if name in stack.coords and stack.coords[name].dims == ("time",):
        return np.asarray(stack.coords[name].values)
    return None


def orbit_groups(stack: xr.DataArray) -> list[OrbitGroup]:
    """Group a stack's acquisitions by viewing geometry (relative orbit, else orbit direction).

    Parameters
    ----------
    stack : xarray.DataArray
        With per-time coords ``relative_orbit`` (int, 0 or negative when unknown) and/or
        ``orbit_direction``.

    Returns
    -------
    list of OrbitGroup
        Sorted by label.
    """
    t_n = stack.sizes["time"]
    rel = time_coord(stack, "relative_orbit")
    direction = time_coord(stack, "orbit_direction")
    rel_v = np.zeros(t_n, np.int64) if rel is None else np.asarray(rel, dtype=np.int64)
    dir_v = (
        np.array([""] * t_n, dtype=object)
        if direction is None
        else np.array([str(d).upper() for d in direction], dtype=object)
    )
    groups: dict[tuple[int, str], list[int]] = {}
    for t in range(t_n):
        r = int(rel_v[t]) if rel_v[t] > 0 else 0
        groups.setdefault((r, str(dir_v[t])), []).append(t)
    out = []
    for (r, d), idx in groups.items():
        label = f"{d[:1]}{r:03d}" if r and d else (f"R{r:03d}" if r else (d[:1] if d else "all"))
        order = sorted(idx, key=lambda i: stack.coords["time"].values[i])
        out.append(OrbitGroup(label=label, relative_orbit=r, orbit_direction=d, index=tuple(order)))
    return sorted(out, key=lambda g: g.label)


def reference_windows(days: np.ndarray, *, params: SarParams | None = None) -> np.ndarray:
    """Reference windows of each acquisition of one orbit, as index ranges into ``days``.

    The optical history's choice (:func:`sitewatch.core.baseline.reference_index_windows`,
    the one place it is made): with the series cut into bins of ``bin_days`` from its first
    acquisition, an acquisition is compared with those of the ``recent_bins`` bins before its
    own and of the bins within ``season_bins`` of the same bin a year earlier (before the
    recent ones), of the same orbit.

    Parameters
    ----------
    days : numpy.ndarray
        Acquisition days (integers, ascending) of one orbit.
    params : SarParams, optional

    Returns
    -------
    numpy.ndarray
        ``(len(days), 4)`` int: ``recent_start, recent_stop, season_start, season_stop``
        (half-open ranges; empty when start == stop).

    Examples
    --------
    >>> days = np.arange(0, 400, 12)
    >>> reference_windows(days)[-1].tolist()  # day 396 (bin 13): bins 10..12 and 0..1
    [25, 33, 0, 8]
    """
    p = params or SarParams()
    return reference_index_windows(
        days, bin_days=p.bin_days, recent_bins=p.recent_bins, season_bins=p.season_bins
    )


# --------------------------------------------------------------------------- the statistic


def welch_t(
    mean_a: np.ndarray,
    var_a: np.ndarray,
    n_a: np.ndarray,
    mean_b: np.ndarray,
    var_b: np.ndarray,
    n_b: np.ndarray,
) -> np.ndarray:
    """Welch's t of sample ``b`` against sample ``a`` from their means, variances and sizes.

    ``(mean_b - mean_a) / sqrt(var_a / n_a + var_b / n_b)``; NaN where either sample is empty
    or both variances are zero.

    Examples
    --------
    >>> float(welch_t(np.array(0.0), np.array(1.0), np.array(10), np.array(2.0), np.array(1.0), np.array(2)))
    2.581988897471611
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(var_a / n_a + var_b / n_b)
        t = (mean_b - mean_a) / se
    return np.where((n_a > 0) & (n_b > 0) & (se > 0), t, np.nan)


def date_offsets(db: np.ndarray, *, sample_px: int = 50_000) -> np.ndarray:
    """Scene-wide backscatter offset of each date (dB), relative to the series' own level.

    Rain, dew or frozen ground move the backscatter of a whole scene at once; a structure
    moves only its own pixels. Per date and polarisation, the offset is the median over the
    scene of each pixel's departure from its own temporal median: robust as long as fewer
    than half of the pixels change on a date.

    Parameters
    ----------
    db : numpy.ndarray
        ``(time, polarization, pixels)`` log backscatter (dB) of one orbit, NaN missing.
    sample_px : int
        Pixels sampled (evenly) for the medians.

    Returns
    -------
    numpy.ndarray
        ``(time, polarization)`` offsets, 0 where a date has no data.

    Examples
    --------
    >>> x = np.zeros((3, 1, 100)); x[1] += 2.5; x[2, 0, :10] += 8.0
    >>> date_offsets(x)[:, 0].tolist()
    [0.0, 2.5, 0.0]
    """
    sample = db[:, :, :: max(1, db.shape[2] // sample_px)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels and dates
        level = np.nanmedian(sample, axis=0)
        offsets = np.nanmedian(sample - level[None], axis=2)
    return np.nan_to_num(offsets, nan=0.0).astype(np.float32)
