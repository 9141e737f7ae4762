"""The slow side of the per-pixel history: lasting vegetation loss and gradual change.

The abrupt-break test of :mod:`sitewatch.core.history_engine` compares each date with the
months just before it, so a change spread over weeks (a compound emptied tent by tent, a
grove felled row by row) is never far from its own recent past, and a clearing is never a
break at all (green to soil is what a harvest looks like). Two pixel-wise tests on the
whole trajectory add what it cannot see:

- **Lasting vegetation loss** (:func:`vegetation_loss_index`): a pixel green on every clear
  date for at least ``veg_loss_min_days``, and evenly so (its NDVI within
  ``veg_loss_max_spread``: a grove or a wood; a crop greens up from bare ground and ripens,
  so a field's green-up and harvest does not qualify), then below that level on every later clear date to
  the end of the series (no green-up again: a harvest, a leaf-off or a winter shadow come
  back), with redder ground after (exposed soil; a shadow darkens the red). Outliers are
  tolerated once each way (the second-smallest before, the second-largest after).
- **Gradual change** (:func:`gradual_changes`): on pixels with no abrupt break whose first
  and last clear states differ and whose first state is built (roofs, tents, vehicles,
  pavement; on natural ground a slow drift is a field's), a CUSUM of the
  noise-normalised departure from the first state: ``g_t = max(0, g_{t-1} + d_t - k)``
  with ``k`` half the threshold, alarming at ``2 x threshold``. The change must last (most
  later dates still far from the first state), must not be a pure darkening of natural
  ground (the season's hill shading and cast shadows: the illumination model the series
  itself gives) and, where the series reaches back a year, must not be a state the pixel
  already had in the same season then (compare like seasons). The onset is the last date
  whose departure from the first state is below the sum's allowance ``k``, the completion
  the first date from which every clear date is within ``k`` of the last state.

Both work on a few candidate pixels picked by cheap running statistics, so the history's
cost and memory barely move.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from sitewatch.core.history_common import HistoryParams

__all__ = ["clear_ends", "gradual_changes", "vegetation_loss_index"]


def _ndvi_rows(x: np.ndarray, red_nir: tuple[int, int], t: int | slice) -> np.ndarray:
    r, n = x[t, red_nir[0]], x[t, red_nir[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = (n - r) / (n + r)
    return out


def vegetation_loss_index(
    x: np.ndarray,
    valid: np.ndarray,
    days: np.ndarray,
    red_nir: tuple[int, int],
    p: HistoryParams,
    *,
    ends: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Per pixel, the first clear date of a lasting loss of vegetation; -1 for none.

    Parameters
    ----------
    x : numpy.ndarray
        ``(T, F, P)`` reflectance 0..1 (NaN or anything where not valid).
    valid : numpy.ndarray
        ``(T, P)`` bool.
    days : numpy.ndarray
        ``(T,)`` day numbers.
    red_nir : tuple of int
        Feature positions of B04 and B08.
    p : HistoryParams
        ``veg_loss_min_ndvi``, ``veg_loss_max_spread``, ``veg_loss_min_drop``,
        ``veg_loss_margin``, ``veg_loss_min_days``, ``veg_loss_min_after_days``.
    ends : tuple of numpy.ndarray, optional
        :func:`clear_ends` of ``valid`` with at least three per end, when the caller has them.

    Returns
    -------
    numpy.ndarray
        ``(P,)`` int32 date index.
    """
    t_n, _, p_n = x.shape
    out = np.full(p_n, -1, np.int32)
    if t_n < 6 or not p.vegetation_loss:
        return out
    # cheap candidates: green on its first three clear dates (read where they are, from
    # ``ends``), then, on those only, green at least twice and the last three clear dates
    # well below that
    first, last_idx = ends if ends is not None else clear_ends(valid, 3)
    nd_first = _ndvi_rows(_gather(x, first[:3]), red_nir, slice(None))
    first_lo = np.min(np.where(first[:3] >= 0, nd_first, np.inf), axis=0)  # a NaN NDVI stays NaN
    with np.errstate(invalid="ignore"):
        pre = np.nonzero(first_lo >= p.veg_loss_min_ndvi)[0]
    if not pre.size:
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # fewer than three clear: NaN ignored
        last = np.nanmax(_ndvi_rows(_gather(x, last_idx[:3, pre], pre), red_nir, slice(None)), axis=0)
    red, nir = x[:, red_nir[0], :][:, pre], x[:, red_nir[1], :][:, pre]  # two bands, not the stack
    with np.errstate(invalid="ignore", divide="ignore"):
        nd_pre = np.where(valid[:, pre], (nir - red) / (nir + red), -np.inf)
    top1 = np.full(pre.size, -np.inf, np.float32)
    top2 = np.full(pre.size, -np.inf, np.float32)
    for nd in nd_pre.astype(np.float32, copy=False):
        top2 = np.maximum(top2, np.minimum(top1, nd))
        top1 = np.maximum(top1, nd)
    with np.errstate(invalid="ignore"):
        cand = pre[(top2 >= p.veg_loss_min_ndvi + p.veg_loss_min_drop) & (last <= top2 - p.veg_loss_min_drop)]
    if not cand.size:
        return out
    vc = valid[:, cand]
    nd = np.where(vc, _ndvi_rows(x[:, :, cand], red_nir, slice(None)), np.nan).astype(np.float32)
    red = np.where(vc, x[:, red_nir[0], cand], np.nan).astype(np.float32)
    c_n = cand.size
    # backwards: second-largest NDVI, mean NDVI and red, count, of the clear dates from t on
    post_top2 = np.empty((t_n, c_n), np.float32)
    post_nd = np.empty((t_n, c_n), np.float32)
    post_red = np.empty((t_n, c_n), np.float32)
    post_n = np.empty((t_n, c_n), np.int32)
    m1 = np.full(c_n, -np.inf, np.float32)
    m2 = np.full(c_n, -np.inf, np.float32)
    s_nd = np.zeros(c_n, np.float32)
    s_red = np.zeros(c_n, np.float32)
    n = np.zeros(c_n, np.int32)
    for t in range(t_n - 1, -1, -1):
        v = vc[t]
        cur = np.where(v, nd[t], -np.inf)
        m2 = np.maximum(m2, np.minimum(m1, cur))
        m1 = np.maximum(m1, cur)
        s_nd += np.where(v, nd[t], 0)
        s_red += np.where(v, red[t], 0)
        n += v
        # with one clear date after t the largest is the only one: use it
        post_top2[t] = np.where(n >= 2, m2, m1)
        post_nd[t] = s_nd / np.maximum(n, 1)
        post_red[t] = s_red / np.maximum(n, 1)
        post_n[t] = n
    last_day = np.full(c_n, days[-1], np.int64)
    has_any = vc.any(axis=0)
    last_idx = t_n - 1 - np.argmax(vc[::-1], axis=0)
    last_day = np.where(has_any, days[last_idx], last_day)
    # forwards: second-smallest NDVI, means, count and first day of the clear dates before t
    lo1 = np.full(c_n, np.inf, np.float32)
    lo2 = np.full(c_n, np.inf, np.float32)
    hi1 = np.full(c_n, -np.inf, np.float32)
    hi2 = np.full(c_n, -np.inf, np.float32)
    s_nd[:] = 0
    s_red[:] = 0
    n[:] = 0
    first_day = np.full(c_n, -1, np.int64)
    found = np.full(c_n, -1, np.int32)
    for t in range(t_n):
        v = vc[t]
        if t > 0:
            pre_lo = np.where(n >= 2, lo2, lo1)
            pre_hi = np.where(n >= 2, hi2, hi1)
            pre_nd = s_nd / np.maximum(n, 1)
            pre_red = s_red / np.maximum(n, 1)
            ok = (
                v
                & (found < 0)
                & (n >= 4)
                & (post_n[t] >= 3)
                & (days[t] - first_day >= p.veg_loss_min_days)
                & (last_day - days[t] >= p.veg_loss_min_after_days)
                & (pre_lo >= p.veg_loss_min_ndvi)
                & (pre_hi - pre_lo <= p.veg_loss_max_spread)
                & (nd[t] <= pre_lo - p.veg_loss_margin)
                & (post_top2[t] <= pre_lo - p.veg_loss_margin)
                & (pre_nd - post_nd[t] >= p.veg_loss_min_drop)
                & (post_red[t] > pre_red)
            )
            found[ok] = t
        cur = np.where(v, nd[t], np.inf)
        lo2 = np.minimum(lo2, np.maximum(lo1, cur))
        lo1 = np.minimum(lo1, cur)
        cur = np.where(v, nd[t], -np.inf)
        hi2 = np.maximum(hi2, np.minimum(hi1, cur))
        hi1 = np.maximum(hi1, cur)
        s_nd += np.where(v, nd[t], 0)
        s_red += np.where(v, red[t], 0)
        n += v
        first_day = np.where((first_day < 0) & v, days[t], first_day)
    out[cand] = found
    return out


def clear_ends(valid: np.ndarray, n_obs: int) -> tuple[np.ndarray, np.ndarray]:
    """Date indices of the first and of the last ``n_obs`` clear observations per pixel.

    Parameters
    ----------
    valid : numpy.ndarray
        ``(T, P)`` bool.
    n_obs : int
        How many at each end.

    Returns
    -------
    tuple of numpy.ndarray
        ``(n_obs, P)`` int32 each: the first ones in time order and the last ones from the
        latest back; -1 where a pixel has fewer clear dates.

    Notes
    -----
    Both slow tests start from a pixel's first and last few clear states, so they are found
    once, as indices: walking in from each end stops as soon as every pixel has its
    ``n_obs`` (a few dates where clouds are few), and nothing of the ``(T, F, P)`` stack is
    touched here.
    """
    t_n, p_n = valid.shape
    first = np.full((n_obs, p_n), -1, np.int32)
    last = np.full((n_obs, p_n), -1, np.int32)
    for idx, order in ((first, range(t_n)), (last, range(t_n - 1, -1, -1))):
        n = np.zeros(p_n, np.int32)
        for t in order:
            take = np.nonzero(valid[t] & (n < n_obs))[0]
            idx[n[take], take] = t
            n[take] += 1
            if take.size and n.min() >= n_obs:
                break
    return first, last


def _gather(x: np.ndarray, idx: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
    """``x[idx[j, i], :, cols[i]]`` as ``(J, F, N)`` for x ``(T, F, P)``; NaN where ``idx < 0``.

    ``cols`` defaults to every pixel (``idx`` is then ``(J, P)``).
    """
    if cols is None:
        cols = np.arange(idx.shape[1])
    out = x[np.maximum(idx, 0), :, cols[None]]  # (J, N, F)
    out = np.moveaxis(out, -1, 1).astype(np.float32, copy=False)
    out[np.broadcast_to((idx < 0)[:, None, :], out.shape)] = np.nan
    return out


def _first_last_states(
    x: np.ndarray, ends: tuple[np.ndarray, np.ndarray], n_obs: int
) -> tuple[np.ndarray, np.ndarray]:
    """Median of the first and of the last ``n_obs`` clear observations per pixel, ``(F, P)`` each.

    The median, so one snowy or hazy date among them does not make the state; NaN for a
    pixel with fewer than ``n_obs`` clear dates (the NaN of a missing one propagates).
    """
    start, end = (np.median(_gather(x, idx[:n_obs]), axis=0) for idx in ends)
    return start.astype(np.float32, copy=False), end.astype(np.float32, copy=False)


def _rms(z: np.ndarray, floor: float) -> np.ndarray:
    """RMS over axis -2 (features) of ``z / floor`` (NaN where not clear)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.sqrt(np.nanmean((z / np.float32(floor)) ** 2, axis=-2))
    return out


def _darkening(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The end state is the start state in less light: every band darker, the blue least.

    Shade and cast shadows scale every band down, less so in the blue (lit by the sky), so
    the band ratios lie within a narrow range and do not rise towards the SWIR (features in
    wavelength order); a new surface changes the spectrum's shape (roofs removed to gravel
    darken the visible most).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = end / start
        logr = np.log(np.clip(ratio, 1e-3, None))
    darker = np.all(ratio < 0.95, axis=0) & np.all(ratio > 0.1, axis=0)
    out: np.ndarray = darker & (np.ptp(logr, axis=0) < 0.8) & (ratio[0] >= ratio[-1])
    return out


def gradual_changes(
    x: np.ndarray,
    valid: np.ndarray,
    days: np.ndarray,
    skip: np.ndarray,
    built: Callable[[np.ndarray], np.ndarray],
    vegetated: Callable[[np.ndarray], np.ndarray],
    p: HistoryParams,
    *,
    ends: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Lasting changes spread over weeks or months, found by a CUSUM of the departure from the first state.

    Parameters
    ----------
    x : numpy.ndarray
        ``(T, F, P)`` reflectance 0..1 (anything where not valid).
    valid : numpy.ndarray
        ``(T, P)`` bool.
    days : numpy.ndarray
        ``(T,)`` day numbers.
    skip : numpy.ndarray
        ``(P,)`` bool: pixels already explained (an abrupt break, a vegetation loss).
    built : callable
        ``(F, N) -> (N,)`` bool: built ground (roofs, pavement, concrete, levelled earth); only
        pixels built at first are followed.
    vegetated : callable
        ``(F, N) -> (N,)`` bool: green vegetation. A green first or last state is left to
        the vegetation tests (a crop's season is gradual too; a clearing is a vegetation loss).
    p : HistoryParams
        ``threshold``, ``noise_floor``, ``gradual``, ``gradual_obs``.
    ends : tuple of numpy.ndarray, optional
        :func:`clear_ends` of ``valid`` with at least ``gradual_obs`` per end, when the
        caller has them.

    Returns
    -------
    dict of numpy.ndarray
        ``(P,)`` int32 date indices, -1 for none: ``alarm`` (the CUSUM crosses its limit:
        first detected), ``onset`` (the last clear date within ``k`` of the first state) and
        ``completed`` (the first clear date from which every clear date is within ``k`` of the
        last state);
        ``persistence`` and ``magnitude`` (share of clear dates after the alarm still changed,
        their mean departure in noise units) and ``start`` ``(F, P)``, the first state.
    """
    t_n, f_n, p_n = x.shape
    out = {k: np.full(p_n, -1, np.int32) for k in ("alarm", "onset", "completed")}
    out["persistence"] = np.full(p_n, np.nan, np.float32)
    out["magnitude"] = np.full(p_n, np.nan, np.float32)
    out["start"] = np.full((f_n, p_n), np.nan, np.float32)
    g_obs = p.gradual_obs
    if not p.gradual or t_n < 3 * g_obs:
        return out
    thr, floor = p.threshold, p.noise_floor
    start, end = _first_last_states(x, ends if ends is not None else clear_ends(valid, g_obs), g_obs)
    with np.errstate(invalid="ignore"):
        far = _rms(end - start, floor) >= 1.5 * thr
    far &= ~skip & np.isfinite(start).all(axis=0) & np.isfinite(end).all(axis=0)
    cand = np.nonzero(far)[0]
    if cand.size:
        s, e = start[:, cand], end[:, cand]
        # only ground built at first (roofs, tents, vehicles, pavement): on natural ground a
        # slow drift is a field's or the season's (stubble, char and wet soil included), and
        # works laid there are abrupt per pixel (the abrupt test finds them)
        keep = built(s) & ~vegetated(s) & ~vegetated(e) & ~_darkening(s, e)
        cand = cand[keep]
    if not cand.size:
        return out
    xc = x[:, :, cand]
    vc = valid[:, cand]
    d_start = _rms(xc - start[None, :, cand], floor)  # (T, C)
    d_end = _rms(xc - end[None, :, cand], floor)
    d_start[~vc] = np.nan
    d_end[~vc] = np.nan
    c_n = cand.size
    # the CUSUM of the departure from the first state; the alarm is its first crossing
    g = np.zeros(c_n, np.float32)
    alarm = np.full(c_n, -1, np.int32)
    onset = np.full(c_n, -1, np.int32)
    still_start = np.full(c_n, -1, np.int32)  # the last clear date within thr of the first state
    seen = np.zeros(c_n, np.int32)
    for t in range(t_n):
        v = vc[t]
        dt_ = np.where(v, d_start[t], 0)
        seen += v
        # the sum starts once the first state is made (its own dates cannot raise an alarm)
        v = v & (seen > g_obs)
        g = np.where(v, np.maximum(0, g + dt_ - 0.5 * thr), g)
        # the onset: the last date whose departure the sum does not count (below its allowance)
        still_start = np.where(vc[t] & (dt_ < 0.5 * thr) & (alarm < 0), t, still_start)
        hit = v & (alarm < 0) & (g >= 2 * thr)
        alarm[hit] = t
        onset[hit] = still_start[hit]
    # lasting: most clear dates after the alarm still far from the first state
    tt = np.arange(t_n)[:, None]
    after = vc & (tt >= alarm[None]) & (alarm >= 0)[None]
    n_after = after.sum(axis=0)
    with np.errstate(invalid="ignore"):
        persist = (after & (d_start >= thr)).sum(axis=0) / np.maximum(n_after, 1)
    ok = (alarm >= 0) & (onset >= 0) & (n_after >= g_obs) & (persist >= 0.8)
    # completion: the first clear date from which every later clear date is like the last state
    near_end = np.where(vc, d_end < 0.5 * thr, True)
    suffix_ok = np.flip(np.logical_and.accumulate(np.flip(near_end, 0), axis=0), 0)
    first_complete = np.argmax(suffix_ok & vc, axis=0)
    completed = np.where((suffix_ok & vc).any(axis=0), first_complete, -1).astype(np.int32)
    # compare like seasons: a state the pixel already had a year before is the season's
    season = _seen_a_year_before(d_end, vc, days, onset, thr)
    ok &= ~season
    sel = cand[ok]
    out["alarm"][sel] = alarm[ok]
    out["onset"][sel] = onset[ok]
    out["completed"][sel] = np.maximum(completed[ok], alarm[ok])
    out["persistence"][sel] = persist[ok]
    with np.errstate(invalid="ignore"):
        far_after = after & (d_start >= thr)
        mag = np.where(far_after, d_start, 0).sum(axis=0) / np.maximum(far_after.sum(axis=0), 1)
    out["magnitude"][sel] = mag[ok]
    out["start"][:, sel] = start[:, sel]
    return out


def _seen_a_year_before(
    d_end: np.ndarray, vc: np.ndarray, days: np.ndarray, onset: np.ndarray, thr: float, *, window: int = 45
) -> np.ndarray:
    """Pixels whose last state was already seen, before the onset, in the same season a year before."""
    t_n = d_end.shape[0]
    has_valid = vc.any(axis=0)
    last_idx = t_n - 1 - np.argmax(vc[::-1], axis=0)
    target = days[last_idx] - 365
    near = (np.abs(days[:, None] - target[None]) <= window) & (np.arange(t_n)[:, None] <= onset[None])
    with np.errstate(invalid="ignore"):
        like = near & vc & (d_end < thr)
    out: np.ndarray = like.any(axis=0) & has_valid
    return out
