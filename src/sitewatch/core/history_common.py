"""What the two faces of the per-pixel history share: its settings, the input check, the result's attrs.

The algorithm is described in :mod:`sitewatch.core.history`; the NumPy engine is
:mod:`sitewatch.core.history_engine`, its in-memory face :func:`sitewatch.core.history.detect_breaks`
and its block-by-block face :mod:`sitewatch.core.chunked`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sitewatch.errors import DataError

__all__ = [
    "HISTORY_BANDS",
    "HistoryParams",
    "check_inputs",
    "history_attrs",
    "index_to_time",
    "nan_quantile_sorted",
    "nn_distance",
    "quartile_spread",
    "rms_distance",
    "sorted_in_time",
]

HISTORY_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")


@dataclass(frozen=True)
class HistoryParams:
    """Settings of :func:`sitewatch.core.history.detect_breaks`.

    Parameters
    ----------
    bin_days : int
        Length of a baseline bin in days.
    recent_bins : int
        Bins just before a date used as its recent baseline.
    season_bins : int
        Half-width, in bins, of the same-season window one year earlier.
    min_ref_obs : int
        Fewest clear observations in the reference bins for a date to be scored.
    threshold : float
        Change score (noise units) above which an observation counts as changed.
    confirm_obs : int
        Consecutive clear changed observations needed to confirm a break.
    noise_floor : float
        Noise floor per band in reflectance (0..1) units; the score's unit.
    spread_cap : float
        Largest within-bin spread counted, in noise floors.
    nn_scale : float
        Distance unit against single reference observations, in noise floors.
    normalize : bool
        Remove per-date haze/illumination planes fitted on stable pixels.
    planes_ndvi_tolerance : float
        A date's plane leaves out the stable pixels whose NDVI that day is more than this
        from their own median (growing or cut; :func:`sitewatch.core.planes.fit_planes`).
    despike : bool
        Replace each observation by the median of it and its clear neighbours first
        (more robust to double spikes, slower).
    vegetation_filter : bool
        Do not count breaks that are phenology (greening, harvest, ploughing).
    vegetation_loss : bool
        Also find lasting losses of vegetation
        (:func:`~sitewatch.core.history_gradual.vegetation_loss_index`).
    veg_loss_min_ndvi : float
        NDVI the ground keeps on every clear date before a vegetation loss.
    veg_loss_max_spread : float
        Widest NDVI range (outliers apart) of the green dates before a loss: woods and groves
        are evenly green, a crop greens up and ripens.
    veg_loss_min_drop : float
        Smallest fall of the mean NDVI from before to after a vegetation loss.
    veg_loss_margin : float
        NDVI every clear date after a loss stays below the lowest before (outliers apart).
    veg_loss_min_days : int
        Days green before a loss: longer than a crop's green season (four to six months), so
        a harvest does not qualify; a clearing in the series' first seven months is not found.
    veg_loss_min_after_days : int
        Days a loss must be seen to last before the series ends.
    veg_season : bool
        Also find vegetation green in its season only (a deciduous orchard, an irrigated
        field) that missed its next season (:mod:`sitewatch.core.history_season`).
    veg_season_min_green : int
        Fewest clear dates near the pixel's own peak NDVI that make a green season.
    veg_season_min_days : int
        Shortest span of those green dates (a season, not one flush of green).
    veg_season_min_covered : int
        Fewest green dates whose anniversary, after the loss, was seen bare.
    veg_season_window_days : int
        Days either side of an anniversary that count as the same season.
    veg_season_max_share : float
        Largest share of a tile's seasonally green pixels (their next season seen) that may
        miss it at once: beyond it the year's weather (a drought) is taken, not a clearing.
    veg_season_same_ground : float
        Largest difference, per band and relative to the pixel's own bare dates before the
        loss (its leafless or fallow ground), of the ground after a missed season that is
        still taken for that ground: a cleared orchard shows the soil it stood on, however
        dark, and is not a pad or a road (built-looking after-states further off are left to
        the surface tests).
    gradual : bool
        Also find changes spread over weeks or months
        (:func:`~sitewatch.core.history_gradual.gradual_changes`).
    gradual_obs : int
        Clear observations averaged into a pixel's first and last states.
    pooled_threshold : float
        Score (noise units) from which an observation may start a break when its neighbours
        agree beyond chance (:mod:`sitewatch.core.history_pooled`); at or above
        ``threshold``, or 0, turns the pooled test off.
    pooled_alpha : float
        Largest chance, at the date's own rate of such scores, of the neighbours' agreement.
    pooled_persistence : float
        Smallest share of later clear dates still changed for a break of the pooled test
        to last (as the gradual test asks).
    pooled_claim_px : int
        Fewest per-pixel breaks in one patch of breaks for them to claim it: the faint
        pooled breaks beside them are then their halo or a neighbour's edge, and are dropped.
        Fewer (too few for the object stage's smallest object, four pixels) are the faint
        change's own strongest pixels, and the patch stays the pooled test's.
    settled_ratio : float
        How many times less a pixel's clear dates vary after its break than before it for
        the change to be a new constant surface, not a reversion, when its last dates are back
        near one of its earlier states (a field's cycle ended by a pad or a runway whose tone
        has aged to the soil's).
    settled_min_obs : int
        Fewest clear dates before the break, and after its confirming date, for that test.
    tile_px : int
        Pixels processed at once per worker (memory bound).
    workers : int
        Threads working on tiles side by side; 0 for one per core (at most 4).
    """

    bin_days: int = 30
    recent_bins: int = 3
    season_bins: int = 1
    min_ref_obs: int = 3
    threshold: float = 3.5
    confirm_obs: int = 2
    noise_floor: float = 0.015
    spread_cap: float = 1.5
    nn_scale: float = 1.0
    normalize: bool = True
    planes_ndvi_tolerance: float = 0.1
    despike: bool = False
    vegetation_filter: bool = True
    vegetation_loss: bool = True
    veg_loss_min_ndvi: float = 0.25
    veg_loss_max_spread: float = 0.3
    veg_loss_min_drop: float = 0.15
    veg_loss_margin: float = 0.05
    veg_loss_min_days: int = 210
    veg_loss_min_after_days: int = 30
    veg_season: bool = True
    veg_season_min_green: int = 4
    veg_season_min_days: int = 45
    veg_season_min_covered: int = 3
    veg_season_window_days: int = 20
    veg_season_max_share: float = 0.5
    veg_season_same_ground: float = 0.2
    gradual: bool = True
    gradual_obs: int = 3
    pooled_threshold: float = 2.0
    pooled_alpha: float = 1e-3
    pooled_persistence: float = 0.8
    pooled_claim_px: int = 4
    settled_ratio: float = 3.0
    settled_min_obs: int = 5
    tile_px: int = 16384
    workers: int = 0

    @property
    def pooled_test(self) -> bool:
        """Whether the pooled test runs: its threshold is above 0 and below ``threshold``."""
        return 0 < self.pooled_threshold < self.threshold


def index_to_time(idx: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Dates (datetime64[ns]) of date indices; NaT where the index is negative (none)."""
    out = np.full(idx.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = idx >= 0
    out[ok] = times[idx[ok].astype(np.int64)]
    return out


def history_attrs(p: HistoryParams, n_dates: int) -> dict[str, Any]:
    """The attributes of the history's result: its main settings and the number of dates."""
    return {
        "threshold": p.threshold,
        "confirm_obs": p.confirm_obs,
        "bin_days": p.bin_days,
        "noise_floor": p.noise_floor,
        "n_dates": n_dates,
    }


def check_inputs(
    stack: xr.DataArray, clear_shape: Sequence[int], bands: Sequence[str]
) -> tuple[list[str], np.ndarray]:
    """The bands the history will use and the day numbers of the dates, or why not.

    Raises
    ------
    DataError
        If fewer than three of ``bands`` are present, the clear mask's shape is not the
        stack's ``(time, y, x)`` or the dates are not ascending.
    """
    have = [str(b) for b in stack.coords["band"].values]
    use = [b for b in bands if b in have]
    if len(use) < 3:
        raise DataError(
            f"detect_breaks needs at least three of the bands {', '.join(bands)}; "
            f"the stack has {', '.join(have)}"
        )
    t_n, h, w = stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]
    if tuple(clear_shape) != (t_n, h, w):
        raise DataError(f"clear mask shape {tuple(clear_shape)} does not match the stack ({t_n}, {h}, {w})")
    times = stack.coords["time"].values.astype("datetime64[D]")
    if not np.array_equal(np.argsort(times, kind="stable"), np.arange(t_n)):
        raise DataError("detect_breaks needs the stack in time order; sort it with stack.sortby('time')")
    return use, times.astype(np.int64)


def nan_quantile_sorted(srt: np.ndarray, n: np.ndarray, q: float) -> np.ndarray:
    """Quantile ``q`` along axis 0 of values sorted with NaN last, ``n`` of them not NaN (linear)."""
    pos = q * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    a = np.take_along_axis(srt, lo[None], axis=0)[0]
    b = np.take_along_axis(srt, hi[None], axis=0)[0]
    out: np.ndarray = a + (b - a) * (pos - lo).astype(np.float32)
    return out


def sorted_in_time(x: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x`` sorted along time with the dates not ``ok`` NaN (last), and the count of the others."""
    srt = np.sort(np.where(ok[:, None, :], x, np.float32(np.nan)), axis=0)
    return srt, np.broadcast_to(ok.sum(axis=0)[None], srt.shape[1:])


def quartile_spread(srt: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``(S,)`` RMS over features of each pixel's interquartile range (:func:`sorted_in_time`).

    The quartiles, not the median absolute deviation: a field is in each of its states (crop,
    stubble, soil) for a good part of its dates, and a deviation from the median of such a
    mixture can be near zero; a few dates of fresh concrete ageing do not move them.
    """
    iqr = nan_quantile_sorted(srt, n, 0.75) - nan_quantile_sorted(srt, n, 0.25)
    iqr[n == 0] = np.nan
    out: np.ndarray = np.sqrt(np.mean(iqr * iqr, axis=0))
    return out


def nn_distance(
    xq: np.ndarray,
    x: np.ndarray,
    ok: np.ndarray,
    ref_idx: Sequence[int] | np.ndarray,
    pix: np.ndarray,
    floor: np.float32,
    *,
    max_elems: int = 1 << 21,
) -> np.ndarray:
    """Distance of queries ``xq`` (N, F) at pixels ``pix`` to the nearest reference observation.

    The references are ``x[ref_idx, :, pix]`` where ``ok``; inf where there is none. All
    references at once, in chunks of queries of at most ``max_elems`` values; the minimum is
    taken on the sums of squares and the root once (both are monotone, so the value is the
    same as the smallest root).
    """
    n_q, f_n = xq.shape
    out = np.full(n_q, np.inf, np.float32)
    ref = np.asarray(ref_idx, dtype=np.intp)
    if n_q == 0 or ref.size == 0:
        return out
    step = max(1, max_elems // (ref.size * f_n))
    for s0 in range(0, n_q, step):
        q = slice(s0, min(n_q, s0 + step))
        pq = pix[q][None, :]
        z = xq[q][None] - x[ref[:, None], :, pq]  # (R, n, F)
        z /= floor
        ss = np.einsum("...f,...f->...", z, z)
        ss[~ok[ref[:, None], pq]] = np.inf
        np.fmin.reduce(ss, axis=0, out=out[q], initial=np.inf)
    out *= np.float32(1.0 / f_n)
    np.sqrt(out, out=out)
    return out


def rms_distance(
    x: np.ndarray, mean: np.ndarray, scale: Any, axis: int = -2, *, inverse: bool = False
) -> np.ndarray:
    """RMS over features (``axis``) of ``(x - mean) / scale`` (``* scale`` when ``inverse``)."""
    z = x - mean
    if inverse:
        z *= scale
    else:
        z /= scale
    n_f = x.shape[axis]
    if axis in (-2, x.ndim - 2):
        ss = np.einsum("...fp,...fp->...p", z, z)
    else:
        ss = np.einsum("...f,...f->...", z, z)
    ss *= np.float32(1.0 / n_f)
    out: np.ndarray = np.sqrt(ss, out=ss)
    return out
