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
5. **Pooled over neighbours** (last resort, :mod:`sitewatch.core.history_pooled`): a pixel
   with no break from steps 4 or the slow tests may break at ``pooled_threshold`` (below
   ``threshold``) when enough of its eight neighbours score that much on the same date that
   chance cannot explain it (binomial tail at the date's own rate of such scores), the
   flagged and confirming observations are built ground, and the change lasts
   (``pooled_persistence``): a gravel or concrete pad on ground of about its colour, the
   mixed pixels of a narrow strip.
6. **Afterwards**: every later observation is scored against the frozen pre-break reference:
   ``persistence`` is the share still changed; when the last clear observations are back to
   the old state the break is ``transient`` (reverted, e.g. parked material or flooding).
   A second confirmed break away from the first new state (earthworks, then concrete) gives
   ``second_detected``. Breaks whose before/after spectra are phenology are flagged
   ``vegetation`` and not counted as changes.
7. **Vegetation that missed its next season** (the very last resort,
   :mod:`sitewatch.core.history_season`): where nothing above found a change (or only
   phenology), a pixel green in its season that was seen bare through the same season a year
   on, and never green again, lost its vegetation (``vegetation_loss``), dated at the first
   clear date after its last green one.

The scoring is sparse: a date is checked against further reference states only where the
first state is already far, so the cost is a few passes over the stack, processed in
spatial tiles to bound memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from sitewatch.core.chunked import detect_breaks_chunked
from sitewatch.core.history_common import (
    HISTORY_BANDS,
    HistoryParams,
    check_inputs,
    history_attrs,
    index_to_time,
)
from sitewatch.core.history_engine import break_arrays
from sitewatch.core.planes import fit_planes, plane_sample_step

__all__ = [
    "HISTORY_BANDS",
    "HistoryParams",
    "break_arrays",
    "detect_breaks",
    "fit_planes",
    "plane_sample_step",
]


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
        On the stack's grid: ``changed``, ``transient``, ``vegetation`` (bool; phenology),
        ``vegetation_loss`` (a lasting loss of vegetation), ``season_missed`` (of those, the
        vegetation green in its season that missed the next one, its ground after judged
        against its own bare ground of before; :mod:`sitewatch.core.history_season`),
        ``gradual`` (a change spread over
        weeks, found by its cumulative departure; see :mod:`sitewatch.core.history_gradual`);
        ``first_detected``, ``last_unchanged``, ``second_detected``, ``completed`` (the
        change complete: the break itself when abrupt) (datetime64, NaT for none);
        ``break_index`` and ``completed_index`` (date indices, -1 for none); ``score`` (at
        the break), ``magnitude`` (mean score after it),
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
    res = break_arrays(
        data,
        clear_v.reshape(t_n, h * w),
        days,
        features=np.array([have.index(b) for b in use]),
        shape=(h, w),
        params=p,
        red_nir=red_nir,
        blue=pos.get("B02"),
        swir=pos.get("B11"),
        band_names=use,
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
            "vegetation_loss": (yx, res["vegetation_loss"].reshape(h, w)),
            "season_missed": (yx, res["season_missed"].reshape(h, w)),
            "gradual": (yx, res["gradual"].reshape(h, w)),
            "first_detected": (yx, when(res["break_index"])),
            "last_unchanged": (yx, when(res["last_unchanged_index"])),
            "second_detected": (yx, when(res["second_index"])),
            "completed": (yx, when(res["completed_index"])),
            "break_index": (yx, res["break_index"].reshape(h, w)),
            "completed_index": (yx, res["completed_index"].reshape(h, w)),
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
