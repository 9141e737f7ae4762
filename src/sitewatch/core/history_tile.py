"""One tile of the per-pixel history: the steps of the NumPy engine, each on ``(T, F, P)`` arrays.

:func:`tile_history` runs them in order for :func:`sitewatch.core.history_engine.break_arrays`
(which cuts the image into tiles, converts each to float32 and runs the tiles on threads):
per-bin clear states (:func:`_bin_states`), the score of every observation against its
baseline (:func:`_observation_scores`), the first confirmed break (:func:`_first_confirmed`),
the slow changes (:mod:`sitewatch.core.history_gradual`), what each changed pixel was
and became (:func:`_break_states`) and, last, vegetation that missed its next season
(:mod:`sitewatch.core.history_season`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sitewatch.core.history_common import HistoryParams, nn_distance, rms_distance
from sitewatch.core.history_gradual import clear_ends, gradual_changes, vegetation_loss_index
from sitewatch.core.history_pooled import pooled_agreement
from sitewatch.core.history_season import missed_season_index
from sitewatch.core.history_settled import settled
from sitewatch.core.history_spectra import built_of, ndvi, vegetation_driven
from sitewatch.core.history_spectra import natural as natural_ground
from sitewatch.core.surfaces import DEFAULT_RULES

__all__ = ["tile_history"]


def _prev_next(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the previous and next valid observation per (t, p); -1 where none."""
    t_n, p_n = valid.shape
    prev = np.full((t_n, p_n), -1, np.int32)
    nxt = np.full((t_n, p_n), -1, np.int32)
    for t in range(1, t_n):
        prev[t] = np.where(valid[t - 1], t - 1, prev[t - 1])
    for t in range(t_n - 2, -1, -1):
        nxt[t] = np.where(valid[t + 1], t + 1, nxt[t + 1])
    return prev, nxt


def _take_t(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``x[idx[t, p], :, p]`` for x of shape (T, F, P) and idx (T', P); NaN where idx < 0."""
    safe = np.where(idx < 0, 0, idx)
    out = np.take_along_axis(x, safe[:, None, :], axis=0)
    out[np.broadcast_to((idx < 0)[:, None, :], out.shape)] = np.nan
    return out


def _median3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    lo = np.fmin(a, c)
    hi = np.fmax(a, c)
    out = np.fmax(lo, np.fmin(hi, b))
    # where a neighbour is missing, keep the observation itself
    miss = np.isnan(a) | np.isnan(c)
    out[miss] = b[miss]
    return out


def _count_before(valid: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Clear observations strictly before index ``k`` per pixel (row by row: no (T, P) temporary)."""
    out = np.zeros(valid.shape[1], np.int32)
    for t in range(valid.shape[0]):
        out += valid[t] & (t < k)
    return out


def _bin_stats(
    s1: np.ndarray, s2: np.ndarray, cnt: np.ndarray, p: HistoryParams
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and scale (noise floor and capped spread) per bin from sums; NaN for empty bins."""
    inv_n = np.full(cnt.shape, np.nan, np.float32)
    np.divide(np.float32(1), cnt, out=inv_n, where=cnt > 0)
    inv_n = inv_n[:, None, :]
    bmean = s1 * inv_n
    bvar = s2 * inv_n
    bvar -= bmean * bmean
    # a bin's own spread widens its state (fields move within a month) but is capped, so a
    # bin spoilt by a missed cloud cannot swallow every later observation
    np.clip(bvar, 0, np.float32((p.spread_cap * p.noise_floor) ** 2), out=bvar)
    bvar += np.float32(p.noise_floor**2)
    bscale = np.sqrt(bvar, out=bvar)
    return bmean, bscale


# --------------------------------------------------------------------------- the core


def tile_history(
    x: np.ndarray,
    valid: np.ndarray,
    days: np.ndarray,
    bins: np.ndarray,
    refs: list[list[int]],
    n_bins: int,
    p: HistoryParams,
    red_nir: tuple[int, int] | None,
    blue: int | None,
    swir: int | None,
    return_scores: bool,
    *,
    check_finite: bool = True,
    band_names: Sequence[str] | None = None,
    neighbours: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The history of one tile of pixels, step by step (see :mod:`sitewatch.core.history`).

    Parameters
    ----------
    x : numpy.ndarray
        ``(T, F, P)`` float32 reflectance of the tile (normalised; modified in place).
    valid : numpy.ndarray
        ``(T, P)`` bool, clear observations.
    days, bins : numpy.ndarray
        ``(T,)`` day numbers and bin of each date.
    refs : list of list of int
        Reference bins of every bin.
    n_bins : int
    p : HistoryParams
    red_nir, blue, swir : int or None
        Feature positions for the vegetation filter.
    return_scores : bool
        Also return the ``(T, P)`` scores.
    check_finite : bool
        Take non-finite values out of ``valid`` (not needed for integer input).
    band_names : sequence of str, optional
        Feature names, for the gradual-change search.
    neighbours : numpy.ndarray, optional
        ``(8, P)`` positions of each pixel's neighbours in the tile
        (:func:`~sitewatch.core.history_pooled.neighbour_index`), for the pooled test;
        without them it is not run.

    Returns
    -------
    dict of numpy.ndarray
        The per-pixel outputs of :func:`~sitewatch.core.history_engine.break_arrays` for the tile.
    """
    p_n = x.shape[2]
    # integer input (and its planes) is finite everywhere: no check needed
    valid = valid & np.isfinite(np.einsum("tfp->tp", x)) if check_finite else valid
    prev, nxt = _prev_next(valid)
    if p.despike:
        # median of previous, current and next clear observation
        np.copyto(x, np.float32(np.nan), where=~valid[:, None, :])
        x = _median3(_take_t(x, prev), x, _take_t(x, nxt))
    starts = np.searchsorted(bins, np.arange(n_bins))
    cnt, bmean, binv, ref_ok = _bin_states(x, valid, bins, starts, n_bins, p)
    ref_count = np.zeros((n_bins, p_n), np.int32)
    for b in range(n_bins):
        for r in refs[b]:
            ref_count[b] += cnt[r]
    # reference observations of each bin: the clear (despiked) dates of its reference bins
    ref_t = [np.nonzero(np.isin(bins, refs[bb]))[0] for bb in range(n_bins)]
    spectra = _Spectra(red_nir, blue, swir) if p.vegetation_filter and red_nir is not None else None
    natural_ref: np.ndarray | None = None
    if spectra is not None:
        # phenology is not change: an observation that is green or soil-like, at a pixel whose
        # reference states are natural ground too, cannot start a break
        nat_bin = spectra.natural(np.moveaxis(bmean, 1, 0))  # (n_bins, P)
        natural_ref = np.zeros((n_bins, p_n), bool)
        for bb in range(n_bins):
            for r in refs[bb]:
                natural_ref[bb] |= nat_bin[r] & (cnt[r] > 0)
    refs_of = _References(refs, ref_t, ref_ok, natural_ref, np.float32(p.nn_scale * p.noise_floor))
    pooled_on = neighbours is not None and p.pooled_test
    thr_low = p.pooled_threshold if pooled_on else p.threshold
    score = _observation_scores(
        x, valid, bins, starts, ref_count, bmean, binv, refs_of, spectra, p, return_scores, nn_from=thr_low
    )
    k = _first_confirmed(x, score, nxt, bins, refs_of, spectra, p)
    slow = _slow_changes(x, valid, days, k, p, red_nir, band_names)
    k = slow["break_index"]
    pooled = np.zeros(p_n, bool)
    if pooled_on and neighbours is not None:
        # a change too faint for one pixel, shared by its neighbours on the same date, to
        # built ground: coherent faint changes of natural ground are what fields do (a
        # parcel ploughed or sown as one), so only works are believed at that strength
        k_pool = _first_confirmed(
            x,
            score,
            nxt,
            bins,
            refs_of,
            spectra,
            p,
            thr=thr_low,
            neighbours=neighbours,
            becomes=built_of(band_names),
        )
        # where neither the abrupt nor the slow tests found anything
        pooled = (k_pool >= 0) & (k < 0)
        k = np.where(pooled, k_pool, k).astype(np.int32)
    res = _dates_of(k, slow, prev, valid)
    res["pooled"] = pooled
    if return_scores:
        res["scores"] = score
    thr_px = np.where(pooled, np.float32(thr_low), np.float32(p.threshold))
    built = built_of(band_names)
    res.update(
        _break_states(x, valid, k, prev, nxt, score, bins, n_bins, refs_of, spectra, slow, p, thr_px, built)
    )
    # vegetation green in its season only (leafless in winter, a field's crop) that missed its
    # next season: the very last resort, where no test found a change (a break its green-up
    # made is phenology; a pad or works laid on a field after its harvest are the other tests',
    # dated by them, not by the last green date)
    season_k = (
        missed_season_index(x, valid, days, red_nir, p, built=built_of(band_names))
        if red_nir is not None
        else np.full(p_n, -1, np.int32)
    )
    # (gradual pixels are changed already); a faint change pooled was believed only as works,
    # which the season test, judging the ground against the pixel's own of before, ruled out
    redo = (season_k >= 0) & (~res["changed"] | pooled)
    res["season_missed"] = redo
    res["pooled"] = pooled & ~redo
    if redo.any():
        k_s = np.where(redo, season_k, -1).astype(np.int32)
        slow_s = {**slow, "vegetation_loss": redo, "gradual": np.zeros(p_n, bool)}
        thr_s = np.where(redo, np.float32(p.threshold), thr_px)  # not a faint pooled change now
        states = _break_states(
            x, valid, k_s, prev, nxt, score, bins, n_bins, refs_of, spectra, slow_s, p, thr_s, built
        )
        states.update(_dates_of(k_s, slow_s, prev, valid))
        for key, val in states.items():
            res[key][..., redo] = val[..., redo]
        res["vegetation_loss"] = slow["vegetation_loss"] | redo
    return res


def _dates_of(
    k: np.ndarray, slow: dict[str, np.ndarray], prev: np.ndarray, valid: np.ndarray
) -> dict[str, np.ndarray]:
    """The date indices of each pixel's change (break, last unchanged, completed) and its slow flags."""
    t_n, p_n = valid.shape
    has = k >= 0
    last_unchanged = np.where(has, prev[np.maximum(k, 0), np.arange(p_n)], -1).astype(np.int32)
    gradual = slow["gradual"]
    last_unchanged[gradual] = slow["onset"][gradual]
    return {
        "break_index": k,
        "last_unchanged_index": last_unchanged,
        "completed_index": np.where(gradual, slow["completed"], k).astype(np.int32),
        "vegetation_loss": slow["vegetation_loss"],
        "gradual": gradual,
        "n_clear_before": _count_before(valid, np.where(has, k, t_n)),
    }


@dataclass(frozen=True)
class _Spectra:
    """Where red/NIR, blue and SWIR-1 are among the features, for the natural-ground tests."""

    red_nir: tuple[int, int]
    blue: int | None
    swir: int | None

    def natural(self, s: np.ndarray) -> np.ndarray:
        return natural_ground(s, self.red_nir, self.blue, self.swir)

    def as_args(self) -> tuple[tuple[int, int], int | None, int | None]:
        return self.red_nir, self.blue, self.swir


@dataclass(frozen=True)
class _References:
    """What a tile's observations are compared with: per bin its reference bins and dates.

    ``ok`` marks the clear observations that may serve as references (not far from their
    own bin's state), ``natural`` the (bin, pixel) whose references are natural ground
    (None without the vegetation filter), ``floor`` the noise unit of the distances.
    """

    bins: list[list[int]]
    dates: list[np.ndarray]
    ok: np.ndarray
    natural: np.ndarray | None
    floor: np.float32


def _bin_states(
    x: np.ndarray, valid: np.ndarray, bins: np.ndarray, starts: np.ndarray, n_bins: int, p: HistoryParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin clear-state count, mean and inverse scale, and the observations fit to be references.

    The statistics are made twice: the second time without the observations far from their
    own bin's state (thin clouds and shadows the mask missed), which would otherwise serve as
    reference states. Bin by bin, while its dates are in cache, on values zeroed where not
    clear (the sums need no masking; the outlier test of those is moot: they are not
    references anyway); ``x`` is NaN where not clear afterwards. Empty bins are NaN states.
    """
    t_n, f_n, p_n = x.shape
    cloudy = ~valid[:, None, :]
    np.copyto(x, np.float32(0), where=cloudy)
    s1 = np.zeros((n_bins, f_n, p_n), np.float32)
    s2 = np.zeros((n_bins, f_n, p_n), np.float32)
    cnt = np.zeros((n_bins, p_n), np.int32)
    bmean = np.empty((n_bins, f_n, p_n), np.float32)
    binv = np.empty((n_bins, f_n, p_n), np.float32)
    ref_ok = valid.copy()
    for bb in range(n_bins):
        tsl = slice(starts[bb], starts[bb + 1] if bb + 1 < n_bins else t_n)
        if tsl.start == tsl.stop:
            bmean[bb] = binv[bb] = np.nan
            continue
        xz = x[tsl]
        xz.sum(axis=0, out=s1[bb])
        np.einsum("tfp,tfp->fp", xz, xz, out=s2[bb])
        valid[tsl].sum(axis=0, out=cnt[bb])
        m1, sc1 = _bin_stats(s1[bb][None], s2[bb][None], cnt[bb][None], p)
        bmean[bb] = m1[0]
        np.reciprocal(sc1[0], out=binv[bb])
        ref_ok[tsl] &= rms_distance(xz, bmean[bb][None], binv[bb][None], inverse=True) < p.threshold
    np.copyto(x, np.float32(np.nan), where=cloudy)
    # the outliers are few: take them out of the sums instead of summing again
    oi, op = np.nonzero(valid & ~ref_ok)
    if oi.size:
        xo = x[oi, :, op]  # (N, F)
        ob = bins[oi]
        for f in range(f_n):
            np.subtract.at(s1[:, f, :], (ob, op), xo[:, f])
            np.subtract.at(s2[:, f, :], (ob, op), xo[:, f] * xo[:, f])
        np.subtract.at(cnt, (ob, op), 1)
        # only the (bin, pixel) states that lost an observation change
        ub, up = np.unique(np.stack([ob, op]), axis=1)
        m2, sc2 = _bin_stats(s1[ub, :, up][:, :, None], s2[ub, :, up][:, :, None], cnt[ub, up][:, None], p)
        bmean[ub, :, up] = m2[:, :, 0]
        binv[ub, :, up] = np.reciprocal(sc2[:, :, 0])
    return cnt, bmean, binv, ref_ok


def _observation_scores(
    x: np.ndarray,
    valid: np.ndarray,
    bins: np.ndarray,
    starts: np.ndarray,
    ref_count: np.ndarray,
    bmean: np.ndarray,
    binv: np.ndarray,
    refs: _References,
    spectra: _Spectra | None,
    p: HistoryParams,
    return_scores: bool,
    *,
    nn_from: float,
) -> np.ndarray:
    """``(T, P)`` score of every observation against its own baseline; NaN where there is none.

    First the state of the bin just before (cheap, settles most pixels), then, where that
    is at least ``nn_from`` (the lowest threshold a break may start from), the nearest
    single reference observation. Observations whose score cannot matter skip the second
    step: too few reference observations (no score), and, unless the scores are returned,
    phenology (never a break).
    """
    t_n, _, p_n = x.shape
    n_bins = len(refs.bins)
    skip_natural = refs.natural is not None and spectra is not None and not return_scores
    score = np.full((t_n, p_n), np.inf, np.float32)
    for bb in range(n_bins):
        tsl = slice(starts[bb], starts[bb + 1] if bb + 1 < n_bins else t_n)
        if tsl.start == tsl.stop or not refs.bins[bb]:
            continue
        xb = x[tsl]
        r0 = refs.bins[bb][-1]
        d = rms_distance(xb, bmean[r0][None], binv[r0][None], inverse=True)
        d[np.isnan(d)] = np.inf
        score[tsl] = d
        ti, pi = np.nonzero((d >= nn_from) & valid[tsl] & (ref_count[bb] >= p.min_ref_obs)[None])
        if skip_natural and ti.size:
            keep = ~(spectra.natural(xb[ti, :, pi].T) & refs.natural[bb, pi])  # type: ignore[union-attr,index]
            ti, pi = ti[keep], pi[keep]
        if ti.size:
            cur = score[tsl]
            cur[ti, pi] = np.minimum(
                cur[ti, pi], nn_distance(xb[ti, :, pi], x, refs.ok, refs.dates[bb], pi, refs.floor)
            )
    bad = ~valid | (ref_count[bins] < p.min_ref_obs)
    score[bad] = np.nan
    score[np.isinf(score)] = np.nan
    return score


def _first_confirmed(
    x: np.ndarray,
    score: np.ndarray,
    nxt: np.ndarray,
    bins: np.ndarray,
    refs: _References,
    spectra: _Spectra | None,
    p: HistoryParams,
    *,
    thr: float | None = None,
    neighbours: np.ndarray | None = None,
    becomes: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Per pixel the first flagged date whose next ``confirm_obs - 1`` clear dates are far too; -1 for none.

    "Far" is at least ``thr`` (default ``p.threshold``) from the break date's references,
    and not natural ground at a pixel whose references are natural (phenology). With
    ``neighbours``, the pooled test: a flagged date also needs its neighbours' agreement
    beyond chance (:func:`~sitewatch.core.history_pooled.pooled_agreement`).
    """
    p_n = x.shape[2]
    thr = p.threshold if thr is None else thr
    flag = score >= thr
    natural = refs.natural if spectra is not None else None
    ti, pi = np.nonzero(flag)  # flagged observations, time ascending
    if natural is not None:
        nat = spectra.natural(x[ti, :, pi].T) & natural[bins[ti], pi]  # type: ignore[union-attr]
        ti, pi = ti[~nat], pi[~nat]
        if neighbours is not None:
            flag[:] = False
            flag[ti, pi] = True
    if neighbours is not None:
        agree = pooled_agreement(flag, np.isfinite(score), ti, pi, neighbours, p.pooled_alpha)
        ti, pi = ti[agree], pi[agree]
    if becomes is not None:
        kind = becomes(x[ti, :, pi].T)
        ti, pi = ti[kind], pi[kind]
    cur_t = ti.copy()
    ok = np.ones(ti.shape, bool)
    for _ in range(p.confirm_obs - 1):
        nt = nxt[cur_t, pi]
        ok &= nt >= 0
        nt = np.where(nt < 0, 0, nt)
        xn = x[nt, :, pi]
        dmin = np.full(ti.shape, np.inf, np.float32)
        bt = bins[ti]
        for j in np.unique(bt):
            m = np.nonzero(bt == j)[0]
            dmin[m] = nn_distance(xn[m], x, refs.ok, refs.dates[j], pi[m], refs.floor)
        ok &= dmin >= thr
        if natural is not None:
            ok &= ~(spectra.natural(xn.T) & natural[bins[ti], pi])  # type: ignore[union-attr]
        if becomes is not None:
            ok &= becomes(xn.T)
        cur_t = nt
    # np.nonzero lists time ascending, so a pixel's first entry among the confirmed ones is
    # its earliest
    k = np.full(p_n, -1, np.int32)
    k_pix, k_first = np.unique(pi[ok], return_index=True)
    k[k_pix] = ti[ok][k_first]
    return k


def _break_states(
    x: np.ndarray,
    valid: np.ndarray,
    k: np.ndarray,
    prev: np.ndarray,
    nxt: np.ndarray,
    score: np.ndarray,
    bins: np.ndarray,
    n_bins: int,
    refs: _References,
    spectra: _Spectra | None,
    slow: dict[str, np.ndarray],
    p: HistoryParams,
    thr_px: np.ndarray,
    built: Callable[[np.ndarray], np.ndarray],
) -> dict[str, np.ndarray]:
    """What each pixel with a break was before and became, and whether the change lasted.

    Per pixel: ``second_index``, ``changed``, ``transient``, ``vegetation``, ``score``,
    ``magnitude``, ``persistence``, ``n_clear_after``; per feature: ``before``,
    ``after_early``, ``after_late``. Only pixels with a break are worked on; "still
    changed" is at least ``thr_px`` (the threshold the pixel's break was found at); ``built``
    tells a new surface that settled (:func:`~sitewatch.core.history_settled.settled`) from a reversion.
    """
    t_n, f_n, p_n = x.shape
    gradual = slow["gradual"]
    second = np.full(p_n, -1, np.int32)
    changed = np.zeros(p_n, bool)
    transient = np.zeros(p_n, bool)
    veg = np.zeros(p_n, bool)
    brk_score = np.full(p_n, np.nan, np.float32)
    magnitude = np.full(p_n, np.nan, np.float32)
    persistence = np.full(p_n, np.nan, np.float32)
    n_after = np.zeros(p_n, np.int32)
    before = np.full((f_n, p_n), np.nan, np.float32)
    after_early = np.full((f_n, p_n), np.nan, np.float32)
    after_late = np.full((f_n, p_n), np.nan, np.float32)
    sel = np.nonzero(k >= 0)[0]
    if sel.size:
        ks = k[sel]
        xs = x[:, :, sel]  # (T, F, S), only pixels with a break
        vs = valid[:, sel]
        dpost, before[:, sel] = _frozen_reference_distance(xs, ks, bins, n_bins, refs, sel)
        tt = np.arange(t_n)[:, None]
        after = (tt >= ks[None]) & vs
        thr_s = thr_px[sel][None]
        still = after & (dpost >= thr_s)
        n_aft = after.sum(axis=0)
        n_after[sel] = n_aft
        persistence[sel] = still.sum(axis=0) / np.maximum(n_aft, 1)
        with np.errstate(invalid="ignore"):
            magnitude[sel] = np.where(still, dpost, 0).sum(axis=0) / np.maximum(still.sum(axis=0), 1)
        brk_score[sel] = score[ks, sel]
        # the confirming pair, and the last two clear observations
        cols = np.arange(sel.size)
        k2 = nxt[ks, sel]
        e1 = xs[ks, :, cols]
        e2 = xs[np.maximum(k2, 0), :, cols]
        after_early[:, sel] = np.nanmean(np.stack([e1, e2]), axis=0).T
        last = np.where(vs.any(axis=0), t_n - 1 - np.argmax(vs[::-1], axis=0), -1)
        last2 = prev[np.maximum(last, 0), sel]
        l1 = xs[np.maximum(last, 0), :, cols]
        l2 = xs[np.maximum(last2, 0), :, cols]
        after_late[:, sel] = np.nanmean(np.stack([l1, l2]), axis=0).T
        reverted = (
            (last > k2)
            & (last2 > k2)
            & (dpost[np.maximum(last, 0), cols] < thr_s[0])
            & (dpost[np.maximum(last2, 0), cols] < thr_s[0])
        )
        second[sel] = _second_break(xs, vs, after_early[:, sel], ks, k2, nxt[:, sel], p)
        # back near one of its states before, but settled: a varied ground (a field's cycle)
        # become one constant surface (a pad, a runway laid on it, aged to the soil's tone)
        back = np.nonzero(reverted)[0]
        if back.size:
            reverted[back] &= ~settled(
                xs[:, :, back],
                vs[:, back],
                ks[back],
                k2[back],
                p,
                built,
                None if spectra is None else spectra.red_nir,
            )
        transient[sel] = reverted
        if spectra is not None:
            veg[sel] = vegetation_driven(
                before[:, sel], after_late[:, sel], after_early[:, sel], *spectra.as_args()
            )
        changed[sel] = ~transient[sel] & ~veg[sel]
        # a faint change found by the pooled test must last: most later clear dates still
        # away from every pre-break state (a field's state comes back within its season)
        faint = thr_px[sel] < p.threshold
        changed[sel] &= ~(faint & (persistence[sel] < p.pooled_persistence))
        # the slow changes were tested for lasting on the whole trajectory already
        slow_px = slow["vegetation_loss"] | gradual
        changed |= slow_px
        transient &= ~slow_px
        veg &= ~slow_px
        persistence[gradual] = slow["persistence"][gradual]
        magnitude[gradual] = slow["magnitude"][gradual]
        before[:, gradual] = slow["start"][:, gradual]
    return {
        "second_index": second,
        "changed": changed,
        "transient": transient & ~veg,
        "vegetation": veg,
        "score": brk_score,
        "magnitude": magnitude,
        "persistence": persistence,
        "n_clear_after": n_after,
        "before": before,
        "after_early": after_early,
        "after_late": after_late,
    }


def _frozen_reference_distance(
    xs: np.ndarray, ks: np.ndarray, bins: np.ndarray, n_bins: int, refs: _References, sel: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every observation to the nearest frozen pre-break state, and that state's mean.

    The frozen pre-break states of each pixel are its clear reference observations (those
    of its break date's bin), listed per pixel in time order and walked slot by slot, all
    pixels at once. Returns ``(T, S)`` distances and the ``(F, S)`` mean of the references.
    """
    t_n, f_n, s_n = xs.shape
    kb = bins[ks]
    in_ref = np.zeros((n_bins, t_n), bool)
    for j in np.unique(kb):
        in_ref[j, refs.dates[j]] = True
    rmask = in_ref[kb].T & refs.ok[:, sel]  # (T, S)
    n_ref = rmask.sum(axis=0)
    slots = np.argsort(~rmask, axis=0, kind="stable")[: int(n_ref.max())]
    cols = np.arange(s_n)
    ss_min = np.full((t_n, s_n), np.inf, np.float32)
    ref_sum = np.zeros((f_n, s_n), np.float32)
    for i, ri in enumerate(slots):
        xr = xs[ri, :, cols].T  # (F, S)
        xr[:, n_ref <= i] = np.nan
        z = xs - xr[None]
        z /= refs.floor
        np.fmin(ss_min, np.einsum("tfp,tfp->tp", z, z), out=ss_min)
        ref_sum += np.where(n_ref > i, xr, np.float32(0))
    ss_min *= np.float32(1.0 / f_n)
    dpost = np.sqrt(ss_min, out=ss_min)
    # the pre-break state: mean of the clear reference observations
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (ref_sum.astype(np.float64) / n_ref).astype(np.float32)
    return dpost, mean


def _second_break(
    xs: np.ndarray,
    vs: np.ndarray,
    state: np.ndarray,
    ks: np.ndarray,
    k2: np.ndarray,
    nx: np.ndarray,
    p: HistoryParams,
) -> np.ndarray:
    """Per pixel the first of two consecutive clear dates away from the first new state; -1 for none.

    Earthworks, then a pad: ``state`` ``(F, S)`` is the state just after the first break.
    """
    thr = p.threshold
    tt = np.arange(xs.shape[0])[:, None]
    d2 = rms_distance(xs, state[None], np.float32(p.noise_floor))
    far = (d2 >= 0.8 * thr) & vs & (tt > np.maximum(k2, ks)[None])
    far_next = np.zeros_like(far)
    rows, cols = np.nonzero(far)
    nrows = nx[rows, cols]
    good = nrows >= 0
    far_next[rows[good], cols[good]] = far[nrows[good], cols[good]]
    sec = far & far_next
    out: np.ndarray = np.where(sec.any(axis=0), np.argmax(sec, axis=0), -1)
    return out


def _slow_changes(
    x: np.ndarray,
    valid: np.ndarray,
    days: np.ndarray,
    k: np.ndarray,
    p: HistoryParams,
    red_nir: tuple[int, int] | None,
    band_names: Sequence[str] | None,
) -> dict[str, np.ndarray]:
    """Lasting vegetation losses and gradual changes at pixels with no abrupt break.

    See :mod:`sitewatch.core.history_gradual`; ``break_index`` is ``k`` with theirs added.
    """
    p_n = x.shape[2]
    # both tests start from each pixel's first and last few clear dates: found once
    ends = clear_ends(valid, max(3, p.gradual_obs))
    vloss = (
        vegetation_loss_index(x, valid, days, red_nir, p, ends=ends)
        if red_nir is not None
        else np.full(p_n, -1, np.int32)
    )
    # a clearing is never an abrupt break (green to soil is phenology there); where the
    # abrupt test found one, it dates the change
    k = np.where(k >= 0, k, vloss).astype(np.int32)

    built = built_of(band_names)

    def vegetated(s: np.ndarray) -> np.ndarray:
        if red_nir is None:
            return np.zeros(s.shape[1], bool)
        out: np.ndarray = ndvi(s, red_nir) > DEFAULT_RULES.vegetated_min_ndvi
        return out

    gr = gradual_changes(x, valid, days, k >= 0, built, vegetated, p, ends=ends)
    gradual = gr["alarm"] >= 0
    k = np.where(gradual, gr["alarm"], k).astype(np.int32)
    return {
        "break_index": k,
        "vegetation_loss": vloss >= 0,
        "gradual": gradual,
        "onset": gr["onset"],
        "completed": gr["completed"],
        "persistence": gr["persistence"],
        "magnitude": gr["magnitude"],
        "start": gr["start"],
    }
