"""Per-pixel history and break detection over a whole time series (pure, vectorised NumPy).

The question per pixel: did the ground change for good, and when? The answer must survive
crop phenology, missed clouds and shadows, haze and slow drift, so the core works like this:

1. **Radiometric normalisation** (optional): per date and band, a plane (offset + east/north
   gradient) fitted on pseudo-invariant pixels (the most temporally stable ones) is removed,
   which takes out haze and illumination differences between dates.
2. **Robust baseline that knows the seasons**: time is cut into bins (30 days by default);
   each bin's clear observations give a mean state and a (capped) spread per band, after
   dropping the observations far from their own bin's state (thin clouds and shadows the
   mask missed). A date is compared with its reference: the bins just before it (slow drift)
   and the same season one year earlier (fields greening and being harvested look like last
   year). The change score is the distance, in noise units, first to the latest reference
   state and, where that is far, to the *nearest single* reference observation: a pad on a
   field is far from every field state; a harvest is close to last year's stubble.
3. **Phenology is not change**: an observation that is green or natural soil-like ground, at
   a pixel whose reference is natural ground too, cannot start a break (greening, harvest,
   ploughing); concrete, asphalt, bright levelled earth and roofs can.
4. **Confirmation**: a date is a break only when it and the next clear observation(s) are both
   far from the reference of the break date (``confirm_obs``, 2 by default, as OPERA
   DIST-ALERT and GFW alerts do), so one bright date (a missed cloud edge) is never a change.
   The first confirmed break per pixel gives ``first_detected`` (first clear date showing the
   change) and ``last_unchanged`` (the clear date before). ``despike=True`` also replaces each
   observation by the median of it and its clear neighbours first.
5. **Afterwards**: every later observation is scored against the frozen pre-break reference:
   ``persistence`` is the share still changed; when the last clear observations are back to
   the old state the break is ``transient`` (reverted, e.g. parked material or flooding).
   A second confirmed break away from the first new state (earthworks, then concrete) gives
   ``second_detected``. Breaks whose before/after spectra are phenology are flagged
   ``vegetation`` and not counted as changes.

The scoring is sparse: a date is checked against further reference states only where the
first state is already far, so the cost is a few passes over the stack, processed in
spatial tiles to bound memory.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sitewatch.core.surfaces import DEFAULT_RULES, soil_like
from sitewatch.errors import DataError

__all__ = [
    "HISTORY_BANDS",
    "HistoryParams",
    "break_arrays",
    "detect_breaks",
    "fit_planes",
    "plane_sample_step",
]

#: Bands the history core reads by default (10 m and 20 m, visible to SWIR).
HISTORY_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")


@dataclass(frozen=True)
class HistoryParams:
    """Settings of :func:`detect_breaks`.

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
    despike : bool
        Replace each observation by the median of it and its clear neighbours first
        (more robust to double spikes, slower).
    vegetation_filter : bool
        Do not count breaks that are phenology (greening, harvest, ploughing).
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
    despike: bool = False
    vegetation_filter: bool = True
    tile_px: int = 16384
    workers: int = 0


# --------------------------------------------------------------------------- small helpers


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


def _nn_distance(
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


def _reference_bins(b: int, *, recent: int, season: int, year_bins: int, n_bins: int) -> list[int]:
    refs = list(range(max(0, b - recent), b))
    s0 = b - year_bins
    refs += [r for r in range(s0 - season, s0 + season + 1) if 0 <= r < max(0, b - recent)]
    return sorted(set(refs))


def _distance(
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


def _nanmedian0(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=0)`` for float arrays, the same values, 15x faster.

    One sort along time (NaN sort last), then the mean of the middle pair of the clear
    values (``np.nanmedian`` goes through masked arrays and an argsort); NaN where none.
    """
    srt = np.sort(a, axis=0)
    n = a.shape[0] - np.count_nonzero(np.isnan(a), axis=0)
    lo = np.take_along_axis(srt, (np.maximum(n - 1, 0) // 2)[None], axis=0)[0]
    hi = np.take_along_axis(srt, np.minimum(n // 2, max(0, a.shape[0] - 1))[None], axis=0)[0]
    out: np.ndarray = lo + hi
    np.true_divide(out, 2.0, out=out, casting="unsafe")
    out[n == 0] = np.nan
    return out


def plane_sample_step(shape: tuple[int, int], *, max_samples: int = 120_000) -> int:
    """Pixel step of the regular sub-sample the normalisation planes are fitted on.

    Every 8th pixel each way, coarser for big images so the sample stays below
    ``max_samples`` pixels (a whole Sentinel-2 tile is sampled every 32nd pixel).
    """
    h, w = shape
    return max(8, math.ceil(math.sqrt(h * w / max_samples)))


def fit_planes(
    sample: np.ndarray, valid: np.ndarray, shape: tuple[int, int], step: int, *, scale: float = 1.0
) -> np.ndarray:
    """Per-date, per-band haze/illumination planes ``(T, F, 3)`` from a regular sub-sample.

    Parameters
    ----------
    sample : numpy.ndarray
        ``(T, F, Hs, Ws)`` values at rows and columns ``0, step, 2*step...`` of the image.
    valid : numpy.ndarray
        ``(T, Hs, Ws)`` bool, True for clear observations.
    shape : tuple of int
        ``(H, W)`` of the whole image (the planes' coordinates run over it).
    step : int
        Sampling step (see :func:`plane_sample_step`).
    scale : float
        Factor to reflectance 0..1.

    Returns
    -------
    numpy.ndarray
        ``(T, F, 3)`` offset, east and north gradient per date and band, fitted by least
        squares on pseudo-invariant pixels (the 30 % with the smallest temporal spread)
        against their temporal median; zeros where too few pixels are clear.
    """
    t, f, hs, ws = sample.shape
    h, w = shape
    rows, cols = np.mgrid[0 : hs * step : step, 0 : ws * step : step]
    sidx = (rows * w + cols).ravel()
    xs = np.multiply(sample, np.float32(scale), dtype=np.float32).reshape(t, f, hs * ws)
    vs = np.asarray(valid, bool).reshape(t, hs * ws) & np.isfinite(xs).all(axis=1)
    np.copyto(xs, np.float32(np.nan), where=~vs[:, None, :])
    enough = vs.sum(axis=0) >= max(3, t // 4)
    if enough.sum() < 20:
        return np.zeros((t, f, 3), np.float32)
    xs, sidx, vs = xs[:, :, enough], sidx[enough], vs[:, enough]
    med = _nanmedian0(xs)  # (F, S) on a small sample
    spread = _nanmedian0(np.abs(xs - med)).mean(axis=0)
    stable = spread <= np.quantile(spread, 0.3)
    xs, sidx, med, vs = xs[:, :, stable], sidx[stable], med[:, stable], vs[:, stable]
    ry = (sidx // w) / max(1, h - 1) - 0.5
    rx = (sidx % w) / max(1, w - 1) - 0.5
    design = np.column_stack([np.ones_like(rx), rx, ry])
    coef = np.zeros((t, f, 3), np.float32)
    for ti in range(t):
        ok = vs[ti]
        if ok.sum() < 20:
            continue
        a_ok = design[ok]
        d_ok = xs[ti][:, ok] - med[:, ok]  # (F, n), every band at once
        for fi in range(f):
            d = d_ok[fi]
            good = np.isfinite(d)
            n_good = np.count_nonzero(good)
            if n_good < 20:
                continue
            a = a_ok
            if n_good < d.size:
                a, d = a[good], d[good]
            sol, *_ = np.linalg.lstsq(a, d, rcond=None)
            resid = d - a @ sol
            keep = np.abs(resid) <= 2.5 * (np.median(np.abs(resid)) * 1.4826 + 1e-6)
            if keep.sum() >= 20:
                sol, *_ = np.linalg.lstsq(a[keep], d[keep], rcond=None)
            coef[ti, fi] = sol
    return coef


def _subtract_plane(x: np.ndarray, coef: np.ndarray, pix: np.ndarray, shape: tuple[int, int]) -> None:
    """``x -= plane`` in place, date by date (no (T, F, P) temporary)."""
    h, w = shape
    ry = ((pix // w) / max(1, h - 1) - 0.5).astype(np.float32)
    rx = ((pix % w) / max(1, w - 1) - 0.5).astype(np.float32)
    c = coef.astype(np.float32)
    plane = np.empty(x.shape[1:], np.float32)
    part = np.empty(x.shape[1:], np.float32)
    for t in range(x.shape[0]):
        # x[t] -= c0 + c1 * rx + c2 * ry, in that order, in two reused buffers
        np.multiply(c[t, :, 1:2], rx[None], out=plane)
        np.add(c[t, :, 0:1], plane, out=plane)
        np.multiply(c[t, :, 2:3], ry[None], out=part)
        plane += part
        x[t] -= plane


# --------------------------------------------------------------------------- the core


_OUT_FLOAT = ("score", "magnitude", "persistence")
_OUT_INT = ("break_index", "last_unchanged_index", "second_index", "n_clear_before", "n_clear_after")


def break_arrays(
    values: np.ndarray,
    valid: np.ndarray,
    days: Sequence[int] | np.ndarray,
    *,
    shape: tuple[int, int] | None = None,
    params: HistoryParams | None = None,
    red_nir: tuple[int, int] | None = (2, 3),
    blue: int | None = 0,
    swir: int | None = 4,
    return_scores: bool = False,
    plane_coef: np.ndarray | None = None,
    pixel_index: np.ndarray | None = None,
    value_scale: float | None = None,
) -> dict[str, np.ndarray]:
    """Break detection on plain arrays: the NumPy engine under :func:`detect_breaks`.

    Parameters
    ----------
    values : numpy.ndarray
        ``(T, F, P)`` reflectance 0..1 (or x 10000 as integers, scaled here), time ascending.
        Any dtype: only one tile of pixels at a time is converted to float32, so a uint16
        stack (Sentinel-2 L2A digital numbers) is never copied whole; it is the lightest input.
    valid : numpy.ndarray
        ``(T, P)`` bool, True for clear observations.
    days : array of int
        Day numbers of the T dates (any origin), ascending.
    shape : tuple of int, optional
        ``(H, W)`` with ``H * W == P`` for the normalisation planes; without it no
        normalisation is done.
    params : HistoryParams, optional
    red_nir, blue, swir : int or None
        Feature positions of red/NIR, blue and SWIR-1 for the vegetation filter.
    return_scores : bool
        Also return the ``(T, P)`` change score of every observation against its baseline.
    plane_coef : numpy.ndarray, optional
        ``(T, F, 3)`` normalisation planes fitted beforehand (:func:`fit_planes`), for
        pixels that are one block of a bigger image; needs ``shape`` (of the whole image).
    pixel_index : numpy.ndarray, optional
        ``(P,)`` flat positions of the pixels in the ``shape`` image (default: all of it,
        in order); with ``plane_coef`` for blocks.
    value_scale : float, optional
        Factor from ``values`` to reflectance 0..1 (by default 1e-4 for integers and for
        floats above 50, else 1); set it for blocks so every block scales alike.

    Returns
    -------
    dict of numpy.ndarray
        Per pixel ``(P,)``: ``break_index``, ``last_unchanged_index``, ``second_index``
        (-1 for none), ``changed``, ``transient``, ``vegetation`` (bool), ``score``,
        ``magnitude``, ``persistence``, ``n_clear_before``, ``n_clear_after``; per feature
        ``(F, P)``: ``before``, ``after_early``, ``after_late``; optionally ``scores``.
    """
    return _break_arrays(
        values,
        valid,
        days,
        None,
        shape=shape,
        params=params,
        red_nir=red_nir,
        blue=blue,
        swir=swir,
        return_scores=return_scores,
        plane_coef=plane_coef,
        pixel_index=pixel_index,
        value_scale=value_scale,
    )


def _break_arrays(
    values: np.ndarray,
    valid: np.ndarray,
    days: Sequence[int] | np.ndarray,
    features: np.ndarray | None,
    *,
    shape: tuple[int, int] | None,
    params: HistoryParams | None,
    red_nir: tuple[int, int] | None,
    blue: int | None,
    swir: int | None,
    return_scores: bool,
    plane_coef: np.ndarray | None,
    pixel_index: np.ndarray | None,
    value_scale: float | None,
) -> dict[str, np.ndarray]:
    """:func:`break_arrays` on the ``features`` positions of ``values`` axis 1 (all when None).

    Only one tile of pixels at a time is converted to float32 (and only the features used),
    so neither an integer stack nor a stack with more bands is ever copied whole.
    """
    p = params or HistoryParams()
    if values.ndim != 3 or valid.shape != (values.shape[0], values.shape[2]):
        raise DataError(
            f"break_arrays needs values (T, F, P) and valid (T, P); got {values.shape} and {valid.shape}"
        )
    valid = np.asarray(valid, dtype=bool)  # no copy when it is bool already
    days = np.asarray(days, dtype=np.int64)
    t_n, _, p_n = values.shape
    feat = np.arange(values.shape[1]) if features is None else np.asarray(features, dtype=np.intp)
    f_n = feat.size
    all_features = features is None or np.array_equal(feat, np.arange(values.shape[1]))

    def take(block: np.ndarray) -> np.ndarray:
        return block if all_features else block[:, feat]

    scale_in = (
        np.float32(value_scale)
        if value_scale is not None
        else np.float32(1e-4)
        if values.dtype.kind in "iu" or np.nanmax(take(values[:, :, :: max(1, p_n // 997)])) > 50
        else np.float32(1)
    )
    bins = ((days - days[0]) // p.bin_days).astype(np.int64)
    n_bins = int(bins[-1]) + 1 if t_n else 0
    year_bins = round(365.25 / p.bin_days)
    refs = [
        _reference_bins(b, recent=p.recent_bins, season=p.season_bins, year_bins=year_bins, n_bins=n_bins)
        for b in range(n_bins)
    ]
    coef = None
    if pixel_index is not None and (shape is None or len(pixel_index) != p_n):
        raise DataError(
            f"pixel_index needs shape and {p_n} positions; got {None if shape is None else len(pixel_index)}"
        )
    if plane_coef is not None:
        if shape is None or plane_coef.shape != (t_n, f_n, 3):
            raise DataError(f"plane_coef must be ({t_n}, {f_n}, 3) with shape given; got {plane_coef.shape}")
        coef = plane_coef if p.normalize else None
    elif p.normalize and shape is not None and shape[0] * shape[1] == p_n and t_n >= 3:
        step = plane_sample_step(shape)
        sample = take(values.reshape(t_n, values.shape[1], *shape)[:, :, ::step, ::step])
        valid_s = valid.reshape(t_n, *shape)[:, ::step, ::step]
        coef = fit_planes(sample, valid_s, shape, step, scale=float(scale_in))
    out: dict[str, np.ndarray] = {
        "break_index": np.full(p_n, -1, np.int32),
        "last_unchanged_index": np.full(p_n, -1, np.int32),
        "second_index": np.full(p_n, -1, np.int32),
        "n_clear_before": np.zeros(p_n, np.int32),
        "n_clear_after": np.zeros(p_n, np.int32),
        "changed": np.zeros(p_n, bool),
        "transient": np.zeros(p_n, bool),
        "vegetation": np.zeros(p_n, bool),
        "score": np.full(p_n, np.nan, np.float32),
        "magnitude": np.full(p_n, np.nan, np.float32),
        "persistence": np.full(p_n, np.nan, np.float32),
        "before": np.full((f_n, p_n), np.nan, np.float32),
        "after_early": np.full((f_n, p_n), np.nan, np.float32),
        "after_late": np.full((f_n, p_n), np.nan, np.float32),
    }
    if return_scores:
        out["scores"] = np.full((t_n, p_n), np.nan, np.float32)

    def run(s0: int) -> None:
        sl = slice(s0, min(p_n, s0 + p.tile_px))
        pix = np.arange(sl.start, sl.stop) if pixel_index is None else pixel_index[sl]
        # the tile's values as float32 reflectance in one pass (the cast is exact for integers)
        x = np.multiply(take(values[:, :, sl]), scale_in, dtype=np.float32)
        may_have_nan = values.dtype.kind not in "iub"
        if coef is not None and shape is not None:
            _subtract_plane(x, coef, pix, shape)
        res = _tile(
            x,
            valid[:, sl],
            bins,
            refs,
            n_bins,
            p,
            red_nir,
            blue,
            swir,
            return_scores,
            check_finite=may_have_nan,
        )
        for k, v in res.items():
            out[k][..., sl] = v

    starts0 = list(range(0, p_n, p.tile_px))
    workers = p.workers or min(4, os.cpu_count() or 1)
    if workers <= 1 or len(starts0) <= 1:
        for s0 in starts0:
            run(s0)
    else:
        # NumPy releases the GIL in its array loops: tiles run side by side on the cores
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for fut in [pool.submit(run, s0) for s0 in starts0]:
                fut.result()
    return out


def _tile(
    x: np.ndarray,
    valid: np.ndarray,
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
) -> dict[str, np.ndarray]:
    t_n, f_n, p_n = x.shape
    # integer input (and its planes) is finite everywhere: no check needed
    valid = valid & np.isfinite(np.einsum("tfp->tp", x)) if check_finite else valid
    cloudy = ~valid[:, None, :]
    prev, nxt = _prev_next(valid)
    if p.despike:
        # median of previous, current and next clear observation
        np.copyto(x, np.float32(np.nan), where=cloudy)
        x = _median3(_take_t(x, prev), x, _take_t(x, nxt))
    # per-bin clear-state mean, spread and count; then again without the observations far
    # from their own bin's state (thin clouds and shadows the mask missed), which would
    # otherwise serve as reference states.
    # Bin by bin, while its dates are in cache, on values zeroed where not clear (the sums
    # need no masking; the outlier test of those is moot: they are not references anyway);
    # NaN afterwards, for the rest. Empty bins are NaN states.
    np.copyto(x, np.float32(0), where=cloudy)
    starts = np.searchsorted(bins, np.arange(n_bins))
    s1 = np.zeros((n_bins, f_n, p_n), np.float32)
    s2 = np.zeros((n_bins, f_n, p_n), np.float32)
    cnt = np.zeros((n_bins, p_n), np.int32)
    bmean = np.empty((n_bins, f_n, p_n), np.float32)
    bscale = np.empty((n_bins, f_n, p_n), np.float32)
    binv = np.empty((n_bins, f_n, p_n), np.float32)
    ref_ok = valid.copy()
    for bb in range(n_bins):
        tsl = slice(starts[bb], starts[bb + 1] if bb + 1 < n_bins else t_n)
        if tsl.start == tsl.stop:
            bmean[bb] = bscale[bb] = binv[bb] = np.nan
            continue
        wb = valid[tsl]
        xz = x[tsl]
        xz.sum(axis=0, out=s1[bb])
        np.einsum("tfp,tfp->fp", xz, xz, out=s2[bb])
        wb.sum(axis=0, out=cnt[bb])
        m1, sc1 = _bin_stats(s1[bb][None], s2[bb][None], cnt[bb][None], p)
        bmean[bb] = m1[0]
        bscale[bb] = sc1[0]
        np.reciprocal(sc1[0], out=binv[bb])
        ref_ok[tsl] &= _distance(xz, bmean[bb][None], binv[bb][None], inverse=True) < p.threshold
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
        bscale[ub, :, up] = sc2[:, :, 0]
        binv[ub, :, up] = np.reciprocal(sc2[:, :, 0])
    del s1, s2
    ref_count = np.zeros((n_bins, p_n), np.int32)
    for b in range(n_bins):
        for r in refs[b]:
            ref_count[b] += cnt[r]
    # reference observations of each bin: the clear (despiked) dates of its reference bins
    ref_t = [np.nonzero(np.isin(bins, refs[bb]))[0] for bb in range(n_bins)]
    floor = np.float32(p.nn_scale * p.noise_floor)
    natural_ref: np.ndarray | None = None
    if p.vegetation_filter and red_nir is not None:
        # phenology is not change: an observation that is green or soil-like, at a pixel whose
        # reference states are natural ground too, cannot start a break
        nat_bin = _natural(np.moveaxis(bmean, 1, 0), red_nir, blue, swir)  # (n_bins, P)
        natural_ref = np.zeros((n_bins, p_n), bool)
        for bb in range(n_bins):
            for r in refs[bb]:
                natural_ref[bb] |= nat_bin[r] & (cnt[r] > 0)
    # score of every observation against its own baseline: first the state of the bin just
    # before (cheap, settles most pixels), then the nearest single reference observation.
    # Observations whose score cannot matter skip the second step: too few reference
    # observations (no score), and, unless the scores are returned, phenology (never a break)
    skip_natural = natural_ref is not None and not return_scores
    score = np.full((t_n, p_n), np.inf, np.float32)
    thr = p.threshold
    for bb in range(n_bins):
        tsl = slice(starts[bb], starts[bb + 1] if bb + 1 < n_bins else t_n)
        if tsl.start == tsl.stop or not refs[bb]:
            continue
        xb = x[tsl]
        r0 = refs[bb][-1]
        d = _distance(xb, bmean[r0][None], binv[r0][None], inverse=True)
        d[np.isnan(d)] = np.inf
        score[tsl] = d
        ti, pi = np.nonzero((d >= thr) & valid[tsl] & (ref_count[bb] >= p.min_ref_obs)[None])
        if skip_natural and ti.size:
            keep = ~(_natural(xb[ti, :, pi].T, red_nir, blue, swir) & natural_ref[bb, pi])  # type: ignore[arg-type,index]
            ti, pi = ti[keep], pi[keep]
        if ti.size:
            cur = score[tsl]
            cur[ti, pi] = np.minimum(
                cur[ti, pi], _nn_distance(xb[ti, :, pi], x, ref_ok, ref_t[bb], pi, floor)
            )
    bad = ~valid | (ref_count[bins] < p.min_ref_obs)
    score[bad] = np.nan
    score[np.isinf(score)] = np.nan
    ti, pi = np.nonzero(score >= thr)  # flagged observations, time ascending
    if natural_ref is not None:
        nat = _natural(x[ti, :, pi].T, red_nir, blue, swir) & natural_ref[bins[ti], pi]  # type: ignore[arg-type]
        ti, pi = ti[~nat], pi[~nat]
    # confirmation: the next confirm_obs-1 clear observations also far from the break date's references
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
            dmin[m] = _nn_distance(xn[m], x, ref_ok, ref_t[j], pi[m], floor)
        ok &= dmin >= thr
        if natural_ref is not None:
            ok &= ~(_natural(xn.T, red_nir, blue, swir) & natural_ref[bins[ti], pi])  # type: ignore[arg-type]
        cur_t = nt
    # the first confirmed date per pixel: np.nonzero lists time ascending, so a pixel's first
    # entry among the confirmed ones is its earliest
    k = np.full(p_n, -1, np.int32)
    k_pix, k_first = np.unique(pi[ok], return_index=True)
    k[k_pix] = ti[ok][k_first]
    has = k >= 0
    res: dict[str, np.ndarray] = {
        "break_index": k,
        "last_unchanged_index": np.where(has, prev[np.maximum(k, 0), np.arange(p_n)], -1).astype(np.int32),
        "n_clear_before": _count_before(valid, np.where(has, k, t_n)),
    }
    if return_scores:
        res["scores"] = score
    sel = np.nonzero(has)[0]
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
    if sel.size:
        ks = k[sel]
        xs = x[:, :, sel]  # (T, F, S), only pixels with a break
        vs = valid[:, sel]
        kb = bins[ks]
        # frozen pre-break states of each pixel: its clear reference observations (those of
        # its break date's bin), listed per pixel in time order and walked slot by slot, all
        # pixels at once; the distance of every observation to the nearest of them
        in_ref = np.zeros((n_bins, t_n), bool)
        for j in np.unique(kb):
            in_ref[j, ref_t[j]] = True
        rmask = in_ref[kb].T & ref_ok[:, sel]  # (T, S)
        n_ref = rmask.sum(axis=0)
        slots = np.argsort(~rmask, axis=0, kind="stable")[: int(n_ref.max())]
        cols = np.arange(sel.size)
        ss_min = np.full((t_n, sel.size), np.inf, np.float32)
        ref_sum = np.zeros((f_n, sel.size), np.float32)
        for i, ri in enumerate(slots):
            xr = xs[ri, :, cols].T  # (F, S)
            xr[:, n_ref <= i] = np.nan
            z = xs - xr[None]
            z /= floor
            np.fmin(ss_min, np.einsum("tfp,tfp->tp", z, z), out=ss_min)
            ref_sum += np.where(n_ref > i, xr, np.float32(0))
        ss_min *= np.float32(1.0 / f_n)
        dpost = np.sqrt(ss_min, out=ss_min)
        # the pre-break state: mean of the clear reference observations
        with np.errstate(invalid="ignore", divide="ignore"):
            before[:, sel] = (ref_sum.astype(np.float64) / n_ref).astype(np.float32)
        tt = np.arange(t_n)[:, None]
        after = (tt >= ks[None]) & vs
        still = after & (dpost >= thr)
        n_aft = after.sum(axis=0)
        n_after[sel] = n_aft
        persistence[sel] = still.sum(axis=0) / np.maximum(n_aft, 1)
        with np.errstate(invalid="ignore"):
            magnitude[sel] = np.where(still, dpost, 0).sum(axis=0) / np.maximum(still.sum(axis=0), 1)
        brk_score[sel] = score[ks, sel]
        # the confirming pair, and the last two clear observations
        k2 = nxt[ks, sel]
        e1 = xs[ks, :, np.arange(sel.size)]
        e2 = xs[np.maximum(k2, 0), :, np.arange(sel.size)]
        after_early[:, sel] = np.nanmean(np.stack([e1, e2]), axis=0).T
        last = np.where(vs.any(axis=0), t_n - 1 - np.argmax(vs[::-1], axis=0), -1)
        last2 = prev[np.maximum(last, 0), sel]
        l1 = xs[np.maximum(last, 0), :, np.arange(sel.size)]
        l2 = xs[np.maximum(last2, 0), :, np.arange(sel.size)]
        after_late[:, sel] = np.nanmean(np.stack([l1, l2]), axis=0).T
        reverted = (
            (last > k2)
            & (last2 > k2)
            & (dpost[np.maximum(last, 0), np.arange(sel.size)] < thr)
            & (dpost[np.maximum(last2, 0), np.arange(sel.size)] < thr)
        )
        # second break: away from the first new state (earthworks, then a pad)
        state = after_early[:, sel]  # (F, S)
        d2 = _distance(xs, state[None], np.float32(p.noise_floor))
        far = (d2 >= 0.8 * thr) & vs & (tt > np.maximum(k2, ks)[None])
        far_next = np.zeros_like(far)
        nx = nxt[:, sel]
        rows, cols = np.nonzero(far)
        nrows = nx[rows, cols]
        good = nrows >= 0
        far_next[rows[good], cols[good]] = far[nrows[good], cols[good]]
        sec = far & far_next
        has2 = sec.any(axis=0)
        second[sel] = np.where(has2, np.argmax(sec, axis=0), -1)
        transient[sel] = reverted
        if p.vegetation_filter and red_nir is not None:
            veg[sel] = _vegetation_driven(
                before[:, sel], after_late[:, sel], after_early[:, sel], red_nir, blue, swir
            )
        changed[sel] = ~transient[sel] & ~veg[sel]
    res.update(
        second_index=second,
        changed=changed,
        transient=transient & ~veg,
        vegetation=veg,
        score=brk_score,
        magnitude=magnitude,
        persistence=persistence,
        n_clear_after=n_after,
        before=before,
        after_early=after_early,
        after_late=after_late,
    )
    return res


def _ndvi(s: np.ndarray, red_nir: tuple[int, int]) -> np.ndarray:
    r, n = s[red_nir[0]], s[red_nir[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = (n - r) / (n + r)
    return out


def _soil_like(s: np.ndarray, red_nir: tuple[int, int], blue: int | None, swir: int | None) -> np.ndarray:
    """Natural bare ground or stubble (:func:`sitewatch.core.surfaces.soil_like`), features on axis 0."""
    spectrum = {"B04": s[red_nir[0]], "B08": s[red_nir[1]]}
    if blue is not None:
        spectrum["B02"] = s[blue]
    if swir is not None:
        spectrum["B11"] = s[swir]
    return soil_like(spectrum)


def _natural(s: np.ndarray, red_nir: tuple[int, int], blue: int | None, swir: int | None) -> np.ndarray:
    """Green vegetation or natural soil-like ground, for spectra with features on axis 0."""
    out: np.ndarray = (_ndvi(s, red_nir) > DEFAULT_RULES.vegetated_min_ndvi) | _soil_like(
        s, red_nir, blue, swir
    )
    return out


def _vegetation_driven(
    before: np.ndarray,
    after: np.ndarray,
    early: np.ndarray,
    red_nir: tuple[int, int],
    blue: int | None,
    swir: int | None,
) -> np.ndarray:
    nb, na, ne = _ndvi(before, red_nir), _ndvi(after, red_nir), _ndvi(early, red_nir)
    greening = (ne - nb > 0.15) & (ne > 0.3)
    soil_b = _soil_like(before, red_nir, blue, swir)
    soil_e = _soil_like(early, red_nir, blue, swir)
    browning = (nb > 0.3) & soil_e
    ploughing = soil_b & soil_e
    regreen = (na - nb > 0.15) & (na > 0.3)
    out: np.ndarray = greening | browning | ploughing | (regreen & soil_e)
    return out


# --------------------------------------------------------------------------- xarray face


def index_to_time(idx: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Dates (datetime64[ns]) of date indices; NaT where the index is negative (none)."""
    out = np.full(idx.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = idx >= 0
    out[ok] = times[idx[ok].astype(np.int64)]
    return out


def history_attrs(p: HistoryParams, n_dates: int) -> dict[str, Any]:
    """The attributes of :func:`detect_breaks`' result: its main settings and the number of dates."""
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
    """The bands :func:`detect_breaks` will use and the day numbers of the dates, or why not.

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


def detect_breaks(
    stack: xr.DataArray,
    clear: xr.DataArray | np.ndarray,
    *,
    bands: Sequence[str] = HISTORY_BANDS,
    params: HistoryParams | None = None,
    return_scores: bool = False,
) -> xr.Dataset:
    """Find, per pixel, the first lasting change in a time series and date it.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, time ascending (see
        :mod:`sitewatch.providers.base`); co-registered beforehand.
    clear : xarray.DataArray or numpy.ndarray
        ``(time, y, x)`` bool, True where the pixel is clear (see
        :func:`sitewatch.core.masks.clear_mask`).
    bands : sequence of str
        Bands to use (those present are used, at least three).
    params : HistoryParams, optional
        Baseline, threshold and confirmation settings.
    return_scores : bool
        Add the per-date change score ``score_t`` ``(time, y, x)``.

    Returns
    -------
    xarray.Dataset
        On the stack's grid: ``changed``, ``transient``, ``vegetation`` (bool);
        ``first_detected``, ``last_unchanged``, ``second_detected`` (datetime64, NaT for
        none); ``score`` (at the break), ``magnitude`` (mean score after it),
        ``persistence`` (share of later clear observations still changed),
        ``n_clear_before``, ``n_clear_after``; per band ``before``, ``after_early`` (the
        confirming observations), ``after_late`` (the last two) in reflectance 0..1.
        Attrs hold the parameters.

    Raises
    ------
    DataError
        If the stack has fewer than three of the bands, or shapes do not match.

    Examples
    --------
    >>> ds = detect_breaks(stack, clear_mask(stack))  # doctest: +SKIP
    >>> ds.changed.sum().item()  # doctest: +SKIP
    """
    p = params or HistoryParams()
    if stack.chunks is not None or (isinstance(clear, xr.DataArray) and clear.chunks is not None):
        # dask-backed: block by block, so memory stays bounded whatever the size
        from sitewatch.core.chunked import detect_breaks_chunked

        return detect_breaks_chunked(stack, clear, bands=bands, params=p, return_scores=return_scores)
    use, days = check_inputs(stack, np.shape(clear), bands)
    have = [str(b) for b in stack.coords["band"].values]
    t_n, h, w = stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]
    clear_v = np.asarray(clear.values if isinstance(clear, xr.DataArray) else clear, dtype=bool)
    # the stack's own array (a view, whatever its dtype): the bands used are picked tile by
    # tile, so no copy of the whole stack is made
    data = np.reshape(stack.transpose("time", "band", "y", "x").values, (t_n, len(have), h * w))
    pos = {b: i for i, b in enumerate(use)}
    red_nir = (pos["B04"], pos["B08"]) if "B04" in pos and "B08" in pos else None
    res = _break_arrays(
        data,
        clear_v.reshape(t_n, h * w),
        days,
        np.array([have.index(b) for b in use]),
        shape=(h, w),
        params=p,
        red_nir=red_nir,
        blue=pos.get("B02"),
        swir=pos.get("B11"),
        return_scores=return_scores,
        plane_coef=None,
        pixel_index=None,
        value_scale=None,
    )
    tvals = stack.coords["time"].values.astype("datetime64[ns]")

    def when(idx: np.ndarray) -> np.ndarray:
        return index_to_time(idx, tvals).reshape(h, w)

    spatial = {k: v for k, v in stack.coords.items() if set(v.dims) <= {"y", "x"}}
    yx = ("y", "x")
    ds = xr.Dataset(
        {
            "changed": (yx, res["changed"].reshape(h, w)),
            "transient": (yx, res["transient"].reshape(h, w)),
            "vegetation": (yx, res["vegetation"].reshape(h, w)),
            "first_detected": (yx, when(res["break_index"])),
            "last_unchanged": (yx, when(res["last_unchanged_index"])),
            "second_detected": (yx, when(res["second_index"])),
            "break_index": (yx, res["break_index"].reshape(h, w)),
            "score": (yx, res["score"].reshape(h, w)),
            "magnitude": (yx, res["magnitude"].reshape(h, w)),
            "persistence": (yx, res["persistence"].reshape(h, w)),
            "n_clear_before": (yx, res["n_clear_before"].reshape(h, w)),
            "n_clear_after": (yx, res["n_clear_after"].reshape(h, w)),
            "before": (("band", "y", "x"), res["before"].reshape(len(use), h, w)),
            "after_early": (("band", "y", "x"), res["after_early"].reshape(len(use), h, w)),
            "after_late": (("band", "y", "x"), res["after_late"].reshape(len(use), h, w)),
        },
        coords={**spatial, "band": ("band", use)},
        attrs=history_attrs(p, t_n),
    )
    if return_scores:
        ds["score_t"] = (("time", "y", "x"), res["scores"].reshape(t_n, h, w))
        ds = ds.assign_coords(time=stack.coords["time"])
    return ds
