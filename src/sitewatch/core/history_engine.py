"""The NumPy engine of the per-pixel history: break detection on plain ``(T, F, P)`` arrays.

The algorithm is described in :mod:`sitewatch.core.history`, whose ``detect_breaks`` (in memory)
and :mod:`sitewatch.core.chunked` (block by block) both run :func:`break_arrays`. This module
cuts the pixels into tiles, converts each to float32 (normalised) and runs
:func:`sitewatch.core.history_tile.tile_history` on them, side by side on threads.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from sitewatch.core.baseline import date_bins, reference_bins, year_bins
from sitewatch.core.history_common import HistoryParams
from sitewatch.core.history_pooled import beside_strong_breaks, neighbour_index
from sitewatch.core.history_tile import tile_history
from sitewatch.core.planes import fit_planes, plane_sample_step, subtract_plane
from sitewatch.errors import DataError

__all__ = ["break_arrays"]


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
    features: np.ndarray | None = None,
    band_names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Break detection on plain arrays: the NumPy engine under :func:`~sitewatch.core.history.detect_breaks`.

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
    features : numpy.ndarray, optional
        Positions on ``values`` axis 1 of the features to use (default all): only those are
        converted, tile by tile, so a stack with more bands is never copied whole.
    band_names : sequence of str, optional
        Names of the features used (``B02``...), for the surface tests of the gradual-change
        search (which follows built ground only); without them it is not run.

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
        features,
        shape=shape,
        params=params,
        red_nir=red_nir,
        blue=blue,
        swir=swir,
        return_scores=return_scores,
        plane_coef=plane_coef,
        pixel_index=pixel_index,
        value_scale=value_scale,
        band_names=band_names,
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
    band_names: Sequence[str] | None = None,
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
    bins = date_bins(days, p.bin_days)
    n_bins = int(bins[-1]) + 1 if t_n else 0
    year = year_bins(p.bin_days)
    refs = [reference_bins(b, recent=p.recent_bins, season=p.season_bins, year=year) for b in range(n_bins)]
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
        coef = fit_planes(
            sample,
            valid_s,
            shape,
            step,
            scale=float(scale_in),
            red_nir=red_nir,
            ndvi_tolerance=p.planes_ndvi_tolerance,
        )
    out: dict[str, np.ndarray] = {
        "break_index": np.full(p_n, -1, np.int32),
        "last_unchanged_index": np.full(p_n, -1, np.int32),
        "completed_index": np.full(p_n, -1, np.int32),
        "vegetation_loss": np.zeros(p_n, bool),
        "gradual": np.zeros(p_n, bool),
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
    out["pooled"] = np.zeros(p_n, bool)
    out["season_missed"] = np.zeros(p_n, bool)
    unbroken = {
        k: v[..., :1].copy() for k, v in out.items() if k not in ("scores", "pooled", "season_missed")
    }

    # the pooled test looks at each pixel's neighbours: where they are in the tile
    pooled = shape is not None and p.pooled_test
    if pooled and pixel_index is None and shape is not None and shape[0] * shape[1] != p_n:
        pooled = False  # pixels of unknown places: no neighbours

    def run(s0: int) -> None:
        sl = slice(s0, min(p_n, s0 + p.tile_px))
        pix = np.arange(sl.start, sl.stop) if pixel_index is None else pixel_index[sl]
        # the tile's values as float32 reflectance in one pass (the cast is exact for integers)
        x = np.multiply(take(values[:, :, sl]), scale_in, dtype=np.float32)
        may_have_nan = values.dtype.kind not in "iub"
        if coef is not None and shape is not None:
            subtract_plane(x, coef, pix, shape)
        res = tile_history(
            x,
            valid[:, sl],
            days,
            bins,
            refs,
            n_bins,
            p,
            red_nir,
            blue,
            swir,
            return_scores,
            check_finite=may_have_nan,
            band_names=band_names,
            neighbours=neighbour_index(pix, shape) if pooled and shape is not None else None,
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
    pooled_px = out.pop("pooled")
    # a vegetation that missed its season is no strong break: a pad laid on a field after its
    # harvest is pooled, and its field's unpaved rest beside it must not drop it
    season_px = out["season_missed"]
    if pooled and shape is not None:
        strong = (out["break_index"] >= 0) & ~pooled_px & ~season_px
        drop = beside_strong_breaks(pooled_px, strong, pixel_index, shape, min_claim=p.pooled_claim_px)
        for k, v in unbroken.items():
            out[k][..., drop] = v
    return out
