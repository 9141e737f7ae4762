"""The per-pixel history core on dask-backed stacks: block by block, memory bounded by the block.

:func:`sitewatch.core.history.detect_breaks` hands a dask-backed stack here. The core is
per pixel except for one global step, the haze/illumination planes of the radiometric
normalisation, so the work is done in two passes:

1. the planes are fitted once on a regular sub-sample of the whole image
   (:func:`~sitewatch.core.planes.plane_sample_step`, the same sample the in-memory path
   uses), which costs one strided read of the stack;
2. every spatial block (all dates, all bands) then runs the NumPy engine
   (:func:`~sitewatch.core.history_engine.break_arrays`) with those planes and its pixels' global
   positions, through :func:`dask.array.map_blocks`.

So the result does not depend on the chunking, and equals the in-memory result for the
same data. Nothing is computed until the caller asks (``.compute()``, ``.to_zarr()``...);
compute the whole Dataset at once (``ds.compute()`` or ``ds.to_zarr``), as computing its
variables one by one repeats the work per variable.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from sitewatch.core.history_common import HistoryParams, check_inputs, history_attrs, index_to_time
from sitewatch.core.history_engine import break_arrays
from sitewatch.core.planes import fit_planes, plane_sample_step

__all__ = ["DEFAULT_BLOCK_PX", "detect_breaks_chunked"]

#: Block side used when the stack is not chunked in space (a 512 x 512 x 100 dates x 6 bands
#: block is 315 MB as uint16, 630 MB as float32).
DEFAULT_BLOCK_PX = 512

_BOOL = ("changed", "transient", "vegetation", "vegetation_loss", "season_missed", "gradual")
_INT = (
    "break_index",
    "last_unchanged_index",
    "second_index",
    "completed_index",
    "n_clear_before",
    "n_clear_after",
)
_FLOAT = ("score", "magnitude", "persistence")
_PER_BAND = ("before", "after_early", "after_late")


def _layers(f_n: int, t_n: int, return_scores: bool) -> list[tuple[str, int]]:
    out = [(k, 1) for k in (*_BOOL, *_INT, *_FLOAT)] + [(k, f_n) for k in _PER_BAND]
    if return_scores:
        out.append(("scores", t_n))
    return out


def _scale_of(sample: np.ndarray, dtype: np.dtype) -> float:
    """Factor to reflectance 0..1: integers and values above 50 are reflectance x 10000."""
    if dtype.kind in "iu":
        return 1e-4
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        top = np.nanmax(sample) if sample.size else np.nan
    return 1e-4 if np.isfinite(top) and top > 50 else 1.0


def detect_breaks_chunked(
    stack: xr.DataArray,
    clear: xr.DataArray | np.ndarray,
    *,
    bands: Sequence[str],
    params: HistoryParams | None = None,
    return_scores: bool = False,
) -> xr.Dataset:
    """:func:`~sitewatch.core.history.detect_breaks` for a dask-backed stack, lazily.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000 (float, or integer DN), time ascending,
        dask-backed (or in memory: it is then cut into blocks of :data:`DEFAULT_BLOCK_PX`).
        Spatial chunks are kept; time and band are merged into one chunk each.
    clear : xarray.DataArray or numpy.ndarray
        ``(time, y, x)`` bool, True where clear.
    bands : sequence of str
        Bands to use (those present, at least three).
    params : HistoryParams, optional
    return_scores : bool
        Add the per-date score ``score_t`` (as big as one band of the stack).

    Returns
    -------
    xarray.Dataset
        The variables of :func:`~sitewatch.core.history.detect_breaks`, dask-backed with the
        stack's spatial chunks.

    Raises
    ------
    DataError
        If fewer than three bands are present, shapes do not match or time is not ascending.
    """
    import dask.array as da

    p = params or HistoryParams()
    use, days = check_inputs(stack, np.shape(clear), bands)
    t_n, h, w = stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]

    sel = stack.sel(band=use)
    values = (
        sel.data
        if isinstance(sel.data, da.Array)
        else da.from_array(sel.data, chunks=(-1, -1, DEFAULT_BLOCK_PX, DEFAULT_BLOCK_PX))
    )
    ychunks, xchunks = values.chunks[2], values.chunks[3]
    values = values.rechunk((-1, -1, ychunks, xchunks))
    clear_data = clear.data if isinstance(clear, xr.DataArray) else clear
    valid = (
        clear_data.astype(bool).rechunk((-1, ychunks, xchunks))
        if isinstance(clear_data, da.Array)
        else da.from_array(np.asarray(clear_data, bool), chunks=(-1, ychunks, xchunks))
    )

    # pass 1: the normalisation planes, on a strided sample of the whole image
    step = plane_sample_step((h, w))
    sample, sample_valid = da.compute(values[:, :, ::step, ::step], valid[:, ::step, ::step])
    scale = _scale_of(sample, values.dtype)
    pos = {b: i for i, b in enumerate(use)}
    red_nir = (pos["B04"], pos["B08"]) if "B04" in pos and "B08" in pos else None
    coef = None
    if p.normalize and t_n >= 3:
        coef = fit_planes(
            np.asarray(sample),
            np.asarray(sample_valid),
            (h, w),
            step,
            scale=scale,
            red_nir=red_nir,
            ndvi_tolerance=p.planes_ndvi_tolerance,
        )
    del sample, sample_valid
    layers = _layers(len(use), t_n, return_scores)
    k_n = sum(n for _, n in layers)
    block_params = HistoryParams(**{**p.__dict__, "workers": 1})  # dask runs the blocks side by side

    def run_block(block: np.ndarray, ok: np.ndarray, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        (y0, y1), (x0, x1) = block_info[0]["array-location"][2:] if block_info else ((0, h), (0, w))
        bh, bw = y1 - y0, x1 - x0
        rows, cols = np.mgrid[y0:y1, x0:x1]
        x = block.reshape(t_n, len(use), bh * bw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = break_arrays(
                x,
                ok.reshape(t_n, bh * bw),
                days,
                shape=(h, w),
                params=block_params,
                red_nir=red_nir,
                blue=pos.get("B02"),
                swir=pos.get("B11"),
                band_names=use,
                return_scores=return_scores,
                plane_coef=coef,
                pixel_index=(rows * w + cols).ravel(),
                value_scale=scale,
            )
        out = np.empty((k_n, bh, bw), np.float32)
        i = 0
        for name, n in layers:
            out[i : i + n] = res[name].reshape(n, bh, bw)
            i += n
        return out[None]

    packed = da.map_blocks(
        run_block,
        values,
        valid[:, None],
        dtype=np.float32,
        chunks=((1,), (k_n,), ychunks, xchunks),
        name="sitewatch-history",
    )[0]

    tvals = stack.coords["time"].values.astype("datetime64[ns]")

    def to_time(idx: np.ndarray) -> np.ndarray:
        return index_to_time(idx, tvals)

    yx = ("y", "x")
    variables: dict[str, Any] = {}
    i = 0
    for name, n in layers:
        part = packed[i : i + n]
        i += n
        if name in _BOOL:
            variables[name] = (yx, part[0] > 0.5)
        elif name in _INT:
            variables[name] = (yx, part[0].astype(np.int32))
        elif name in _FLOAT:
            variables[name] = (yx, part[0])
        elif name == "scores":
            variables["score_t"] = (("time", "y", "x"), part)
        else:
            variables[name] = (("band", "y", "x"), part)
    idx_names = {
        "break_index": "first_detected",
        "last_unchanged_index": "last_unchanged",
        "second_index": "second_detected",
        "completed_index": "completed",
    }
    for src, dst in idx_names.items():
        variables[dst] = (yx, variables[src][1].map_blocks(to_time, dtype="datetime64[ns]"))
    del variables["last_unchanged_index"], variables["second_index"]
    order = [
        "changed", "transient", "vegetation", "vegetation_loss", "season_missed", "gradual", "first_detected",
        "last_unchanged", "second_detected", "completed", "break_index", "completed_index", "score",
        "magnitude", "persistence", "n_clear_before", "n_clear_after",
        "before", "after_early", "after_late",
    ]  # fmt: skip
    if return_scores:
        order.append("score_t")
    spatial = {str(k): v for k, v in stack.coords.items() if set(v.dims) <= {"y", "x"}}
    coords: dict[str, Any] = {**spatial, "band": ("band", use)}
    if return_scores:
        coords["time"] = stack.coords["time"]
    return xr.Dataset(
        {k: variables[k] for k in order},
        coords=coords,
        attrs=history_attrs(p, t_n),
    )
