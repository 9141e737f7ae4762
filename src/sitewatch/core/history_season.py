"""Vegetation that misses its next green season: a lasting loss judged against the pixel's own year.

:func:`~sitewatch.core.history_gradual.vegetation_loss_index` finds a clearing of ground that
was green on every clear date for months (a wood, an evergreen grove). Most vegetation is not:
a deciduous orchard is bare from November to March, an irrigated field or a riparian strip is
green in its season only, and a summer composite is how an investigator sees that it has gone.
This test compares each pixel with itself a year on:

- it was **green in a season**: at least ``veg_season_min_green`` clear dates within
  ``veg_loss_min_drop`` of its own peak NDVI (second-largest: one bright outlier is not a
  season) and that much above its own low (second-lowest monthly mean: a sparse orchard's
  leafless months are not its season), spanning ``veg_season_min_days`` or more, with a peak
  of at least ``veg_loss_min_ndvi``;
- from some date on it is **not green again** (one outlier tolerated), its mean NDVI has
  fallen by ``veg_loss_min_drop`` from its green dates' and its ground is redder (exposed soil;
  a shadow or water darkens the red);
- and the **same season a year later was seen and stayed bare**: at least
  ``veg_season_min_covered`` of its green dates have clear dates after the loss within
  ``veg_season_window_days`` of their anniversary, on as many distinct dates, and no date in
  those windows is back above the pixel's low by half ``veg_loss_min_drop`` (a crop just coming
  up as the series ends is its season back). A crop
  harvested and sown again, or a field rotated to another crop, greens again; a harvest near
  the series' end has no anniversary seen and is not judged. A field whose last green season
  was bare the year before (rotated to another crop) is still cropped, and not judged either.

Ground that is built after (a pad or a road laid on a field after its harvest) is left to the
tests that see surfaces; what is found here is bare or natural ground where vegetation was.
Whether ground is built is judged against the pixel itself as well as against the surface
rules: dark soil passes the absolute asphalt test, so a cleared orchard whose ground after is,
band by band within ``veg_season_same_ground``, its own leafless or fallow ground before is
reported here whatever the rules call that ground.

Relative to the place, too: when more than ``veg_season_max_share`` of a tile's vegetated
pixels (peak at least ``veg_loss_min_ndvi``) miss their season at once, that is the year's
weather (a drought), not a clearing, and none is reported.

The loss is dated at the first clear date after the last green one: for a tree felled while in
leaf that is the felling; for one felled leafless it is the leaf-fall before (the earliest the
change can have happened). Candidates are the pixels green at some time, not on their last
clear date, with some green date whose anniversary was seen and stayed bare (from running
counts), so the cost stays a few row passes over the tile and the full test runs on few pixels.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from sitewatch.core.baseline import date_bins
from sitewatch.core.history_common import HistoryParams
from sitewatch.core.history_spectra import ndvi

__all__ = ["missed_season_index", "same_ground"]

#: A year, in days: the anniversary of a green date.
_YEAR_DAYS = 365
#: The months whose means give a pixel's low NDVI.
_MONTH_DAYS = 30
#: Fewest seasonally green pixels in a tile before the share missing their season is judged.
_MIN_POOL = 200


def _ndvi(x: np.ndarray, valid: np.ndarray, red_nir: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """``(T, P)`` float32 NDVI, -inf where not clear or not finite, and where it is."""
    nd = ndvi(np.moveaxis(x, 1, 0), red_nir).astype(np.float32, copy=False)
    ok = valid & np.isfinite(nd)
    np.copyto(nd, np.float32(-np.inf), where=~ok)
    return nd, ok


def _running_count(flags: np.ndarray) -> np.ndarray:
    """``(T + 1, C)``: how many of ``flags[:t]`` are set, per column.

    A row loop: many times faster than ``np.cumsum`` along the first axis of a (T, C) array.
    """
    t_n, c_n = flags.shape
    out = np.zeros((t_n + 1, c_n), np.int16 if t_n < 2**15 else np.int32)
    for t in range(t_n):
        np.add(out[t], flags[t], out=out[t + 1])
    return out


def _levels(nd: np.ndarray, valid: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of a (T, C) NDVI array (-inf where not clear), its peak and its low.

    The peak is the second-largest clear value (one bright outlier is not a season); the low
    the second-lowest monthly mean (a month averages its haze and shadow outliers away, and one
    odd month is passed over). Row loops only: no sort of the (T, C) array.
    """
    t_n, c_n = nd.shape
    top1 = np.full(c_n, -np.inf, np.float32)
    top2 = np.full(c_n, -np.inf, np.float32)
    month = date_bins(days, _MONTH_DAYS)
    sums = np.zeros((int(month[-1]) + 1, c_n), np.float32)
    counts = np.zeros(sums.shape, np.int16 if t_n < 2**15 else np.int32)
    for t in range(t_n):
        cur = nd[t]  # -inf where not clear
        np.maximum(top2, np.minimum(top1, cur), out=top2)
        np.maximum(top1, cur, out=top1)
        np.add(sums[month[t]], cur, out=sums[month[t]], where=valid[t])
        counts[month[t]] += valid[t]
    low1 = np.full(c_n, np.inf, np.float32)
    low2 = np.full(c_n, np.inf, np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        for m in range(sums.shape[0]):
            cur = np.where(counts[m] > 0, sums[m] / counts[m], np.inf).astype(np.float32)
            np.minimum(low2, np.maximum(low1, cur), out=low2)
            np.minimum(low1, cur, out=low1)
    low = np.where(np.isfinite(low2), low2, low1)
    peak = np.where(np.isfinite(top2), top2, np.nan).astype(np.float32)
    return peak, np.where(np.isfinite(low), low, np.nan).astype(np.float32)


def _window_counts(flags: np.ndarray, lo: np.ndarray, hi: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per date s and column c, how many ``flags[u, c]`` with ``max(lo[s], start[c]) <= u < hi[s]``."""
    t_n, c_n = flags.shape
    csum = _running_count(flags)
    out = np.zeros((t_n, c_n), np.int32)
    cols = np.arange(c_n)
    for s in range(t_n):
        if hi[s] <= lo[s]:
            continue
        low = np.minimum(np.maximum(lo[s], start), hi[s])
        out[s] = csum[hi[s]] - csum[low, cols]
    return out


def _spread(marks: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """(T, C) bool: date u lies in the window ``[lo[s], hi[s])`` of some marked date s of its column."""
    t_n, c_n = marks.shape
    diff = np.zeros((t_n + 1, c_n), np.int32)
    for s in range(t_n):
        if hi[s] > lo[s]:
            diff[lo[s]] += marks[s]
            diff[hi[s]] -= marks[s]
    out: np.ndarray = np.cumsum(diff[:t_n], axis=0) > 0
    return out


def _green_season(nd: np.ndarray, peak: np.ndarray, low: np.ndarray, p: HistoryParams) -> np.ndarray:
    """Each (date, pixel) in its green season.

    Near its own peak and well above its own low, so a sparse orchard's leafless months are not
    its season.
    """
    with np.errstate(invalid="ignore"):
        out: np.ndarray = nd >= np.maximum(peak - p.veg_loss_min_drop, low + p.veg_loss_min_drop)
    return out


def _misses_somewhere(
    green: np.ndarray, again: np.ndarray, valid: np.ndarray, days: np.ndarray, p: HistoryParams
) -> np.ndarray:
    """A cheap necessary condition per pixel, from running sums only.

    Enough green dates whose anniversary was seen and was green on no date, whatever the loss
    date.
    """
    lo, hi = _year_windows(days, _YEAR_DAYS, p.veg_season_window_days)
    c_again = _running_count(again)
    c_seen = _running_count(valid)
    count = np.zeros(green.shape[1], np.int16)
    for s in range(green.shape[0]):
        if hi[s] > lo[s]:
            missed = green[s] & (c_seen[hi[s]] > c_seen[lo[s]]) & (c_again[hi[s]] == c_again[lo[s]])
            count += missed
    out: np.ndarray = count >= p.veg_season_min_covered
    return out


def _loss_start(green: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The first clear date not green after the second-to-last green one; T where none.

    The last green date may be an outlier (haze read as green), so the loss may start before it.
    """
    t_n = green.shape[0]
    t_idx = np.arange(t_n)[:, None]
    counts = _running_count(green)
    from_end = counts[-1] - counts[:-1]  # green dates at or after each date
    second_last = green & (from_end == 2)
    last_green = np.argmax(second_last, axis=0)
    bare_after = v & ~green & (t_idx > last_green)
    out: np.ndarray = np.where(
        second_last.any(axis=0) & bare_after.any(axis=0), np.argmax(bare_after, axis=0), t_n
    )
    return out


def _mean_over(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per column, the mean of ``values`` (finite, 0 elsewhere) where ``mask``; 0 where none."""
    out: np.ndarray = (values * mask).sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
    return out


def _year_windows(days: np.ndarray, shift: int, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Date index range ``[lo, hi)`` of the dates within ``half`` days of each date + ``shift``."""
    lo = np.searchsorted(days, days + shift - half, side="left")
    hi = np.searchsorted(days, days + shift + half, side="right")
    return lo, hi


def _median_state(xs: np.ndarray, dates: np.ndarray) -> np.ndarray:
    """``(F, N)``: per pixel of ``(T, F, N)`` spectra, the median over its ``(T, N)`` dates (NaN: none)."""
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # All-NaN columns: no such date
        out: np.ndarray = np.nanmedian(np.where(dates[:, None, :], xs, np.nan), axis=0)
    return out


def same_ground(now: np.ndarray, then: np.ndarray, tolerance: float) -> np.ndarray:
    """Per pixel of ``(F, N)`` states, whether its ground now is its own bare ground then, band by band.

    Relative to the ground then, with a floor of 0.02 reflectance so the darkest bands' noise
    is not read as a change. A pixel with no bare date before (evergreen: NaN) has no such
    ground.
    """
    with np.errstate(invalid="ignore"):
        diff = np.abs(now - then) / np.maximum(then, 0.02)
        out: np.ndarray = np.all(diff <= tolerance, axis=0)  # NaN compares False
    return out


def _season_missed(
    green: np.ndarray, again: np.ndarray, v: np.ndarray, start: np.ndarray, days: np.ndarray, p: HistoryParams
) -> np.ndarray:
    """Whether the green season before ``start`` was seen bare a year on (and was not new then).

    A green date's season is missed when its anniversary was seen after the loss and was green
    on no date at all (a window straddling the loss may hold the season's last green); at least
    ``veg_season_min_covered`` such dates, seen on as many distinct dates (one date at the very
    start of next season's window is not the season seen). The one green date tolerated after
    the loss may not be the season coming back. And a field rotated to another crop is still
    cropped: its last green season is new, bare the year before (an orchard's second summer was
    green in its first).
    """
    t_n, c_n = green.shape
    before = np.arange(t_n)[:, None] < start
    green_before = green & before
    anywhere = np.zeros(c_n, np.int64)
    lo, hi = _year_windows(days, _YEAR_DAYS, p.veg_season_window_days)
    seen_later = _window_counts(v, lo, hi, start) > 0
    green_then = _window_counts(again, lo, hi, anywhere) > 0
    missed = green_before & seen_later & ~green_then
    seen_dates = (_spread(missed, lo, hi) & v & ~before).sum(axis=0)
    regreened = (green_before & (_window_counts(again, lo, hi, start) > 0)).any(axis=0)
    lo_b, hi_b = _year_windows(days, -_YEAR_DAYS, p.veg_season_window_days)
    seen_year_before = _window_counts(v, lo_b, hi_b, anywhere) > 0
    green_year_before = _window_counts(again, lo_b, hi_b, anywhere) > 0
    rotated = (green_before & seen_year_before & ~green_year_before).sum(axis=0) >= 2
    out: np.ndarray = (
        (missed.sum(axis=0) >= p.veg_season_min_covered)
        & (seen_dates >= p.veg_season_min_covered)
        & ~regreened
        & ~rotated
    )
    return out


def missed_season_index(
    x: np.ndarray,
    valid: np.ndarray,
    days: np.ndarray,
    red_nir: tuple[int, int],
    p: HistoryParams,
    *,
    built: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Per pixel, the first clear date of vegetation that missed its next season; -1 for none.

    Parameters
    ----------
    x : numpy.ndarray
        ``(T, F, P)`` reflectance 0..1 (anything where not valid).
    valid : numpy.ndarray
        ``(T, P)`` bool.
    days : numpy.ndarray
        ``(T,)`` day numbers, ascending.
    red_nir : tuple of int
        Feature positions of B04 and B08.
    p : HistoryParams
        ``veg_loss_min_ndvi``, ``veg_loss_min_drop``, ``veg_loss_min_after_days``,
        ``veg_season_min_green``, ``veg_season_min_days``, ``veg_season_min_covered``,
        ``veg_season_window_days``, ``veg_season_max_share``, ``veg_season_same_ground``.
    built : callable, optional
        ``(F, N) -> (N,)`` built ground (:func:`~sitewatch.core.history_spectra.built_of`):
        a pixel built after is not reported here, unless its ground after is its own bare
        ground of before (``veg_season_same_ground``).

    Returns
    -------
    numpy.ndarray
        ``(P,)`` int32 date index.
    """
    t_n, _, p_n = x.shape
    out = np.full(p_n, -1, np.int32)
    days = np.asarray(days, np.int64)
    if (
        not p.vegetation_loss
        or not p.veg_season
        or t_n < 2 * p.veg_season_min_green
        or days[-1] - days[0] < _YEAR_DAYS - p.veg_season_window_days
    ):
        return out
    nd_all, ok = _ndvi(x, valid, red_nir)
    peak_all, low_all = _levels(nd_all, ok, days)
    with np.errstate(invalid="ignore"):
        vegetated = peak_all >= p.veg_loss_min_ndvi
    green_all = _green_season(nd_all, peak_all, low_all, p) & vegetated
    # green again is judged more loosely than the season was: half the smallest loss above the
    # pixel's own low (a crop just coming up next year, at the series' end, is its season back;
    # a season inflated by one hazy date does not raise the bar)
    with np.errstate(invalid="ignore"):
        again_all = ok & (nd_all >= low_all + 0.5 * p.veg_loss_min_drop)
    # cheap candidates: green at some time, not on their last clear date, and some green date
    # whose anniversary was seen and stayed bare (a crop that comes back every year has none)
    last_green = np.zeros(p_n, bool)
    for t in range(t_n):
        np.copyto(last_green, green_all[t], where=ok[t])
    cand = np.nonzero(vegetated & ~last_green & _misses_somewhere(green_all, again_all, ok, days, p))[0]
    if not cand.size:
        return out
    nd, v = nd_all[:, cand], ok[:, cand]
    green, again = green_all[:, cand], again_all[:, cand]
    start = _loss_start(green, v)
    before = np.arange(t_n)[:, None] < start
    green_before = green & before
    after = v & ~before
    n_green, n_after = green_before.sum(axis=0), after.sum(axis=0)
    # the season itself: enough green dates, spread over weeks (not one flush)
    first_green = np.argmax(green, axis=0)
    last_green_before = t_n - 1 - np.argmax(green_before[::-1], axis=0)
    span = days[last_green_before] - days[first_green]
    last_clear = t_n - 1 - np.argmax(v[::-1], axis=0)
    nd_f = np.where(v, nd, 0)
    red = np.where(v, x[:, red_nir[0], :][:, cand], 0)
    drop = _mean_over(nd_f, green_before) - _mean_over(nd_f, after)
    redder = _mean_over(red, after) > _mean_over(red, green_before)
    lost = (
        (start < t_n)
        & (n_green >= p.veg_season_min_green)
        & (span >= p.veg_season_min_days)
        & (n_after >= 3)
        & (days[last_clear] - days[np.minimum(start, t_n - 1)] >= p.veg_loss_min_after_days)
        & (drop >= p.veg_loss_min_drop)
        & redder
    )
    sel = np.nonzero(lost)[0]
    if sel.size:
        lost[sel] = _season_missed(green[:, sel], again[:, sel], v[:, sel], start[sel], days, p)
    if built is not None and lost.any():
        # a pad or a road laid after the harvest is the surface tests' (and dated by them); but
        # ground that looks built and is the pixel's own bare ground of before (the soil a
        # cleared orchard stood on, on a site whose soil is dark) is what the loss left. The
        # ground is what the pixel ended as, its last few clear dates: a pad laid months after
        # the harvest is what the field became, not the mean of the bare months and the pad
        sel = np.nonzero(lost)[0]
        xs, after_s = x[:, :, cand[sel]], after[:, sel]
        late = after_s & (np.cumsum(after_s[::-1], axis=0)[::-1] <= max(3, p.gradual_obs))
        state = _median_state(xs, late)
        looks_built = built(state)
        if looks_built.any():
            bare_before = v[:, sel] & before[:, sel] & ~again[:, sel]
            own = same_ground(state, _median_state(xs, bare_before), p.veg_season_same_ground)
            lost[sel] &= ~looks_built | own
    # the place's own year: most of its vegetation missing the season at once is the weather
    pool = int(vegetated.sum())
    if pool >= _MIN_POOL and lost.sum() > p.veg_season_max_share * pool:
        return out
    out[cand[lost]] = start[lost]
    return out
