"""Scans of AOIs bigger than memory: per-pixel stages on dask blocks, objects per window.

:func:`sitewatch.scan` with ``chunk_px`` comes here. The stack is read lazily block by
block (the provider's chunked reads); then

1. **quality**: nodata, cloud and shadow masks per block (:func:`~sitewatch.core.masks.clear_mask`
   overlaps blocks by the masks' reach) and the clear share per scene, in one pass;
2. **co-registration**: shifts estimated on a central window of the AOI (at most
   ``registration_px`` square: a scene's misregistration is one translation) and applied
   block by block with a few pixels of overlap;
3. **per-pixel history**: :func:`~sitewatch.core.history.detect_breaks` on the dask stack,
   streamed to a Zarr store in a scratch folder (one pass, memory bounded by the blocks);
4. **objects**: the changed pixels are grouped over the *whole* AOI first (so an object
   is never cut by a block edge, however long), then each group is typed and measured in
   a window around it (``window_margin_px`` of context, enough for the runway or facility
   it extends), by the same object stage as an in-memory scan. Windows of nearby groups
   are merged up to ``max_window_px``.

Memory is bounded by the blocks and the windows, not by the AOI: a whole Sentinel-2 tile
can be scanned on a laptop. Only 2-D rasters (the changed mask and the labels) are held
for the whole AOI.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sitewatch.core.history import HistoryParams, detect_breaks
from sitewatch.pipeline.scan import (
    LOAD_BANDS,
    ScanResult,
    _estimate_shifts,
    _objects,
    _scene_quality,
    _scenes_used,
    _too_few_scenes,
)

log = logging.getLogger(__name__)

__all__ = ["scan_chunked"]

#: Overlap of blocks when scenes are shifted (shifts are refused above 3 px; bilinear needs one more).
_SHIFT_OVERLAP_PX = 4
#: Changed pixels this close belong to one group (the object stage joins gaps up to ~4 px).
_JOIN_PX = 6


def _shift_lazily(data: Any, shifts: Sequence[Any], *, spatial_axes: tuple[int, int]) -> Any:
    """Apply per-date shifts to a dask array chunked one date per block, with overlapping blocks."""
    import dask.array as da

    from sitewatch.core.coregister import apply_shift

    depth = {spatial_axes[0]: _SHIFT_OVERLAP_PX, spatial_axes[1]: _SHIFT_OVERLAP_PX}
    small = min(min(c) for c in (data.chunks[a] for a in spatial_axes))
    if small < _SHIFT_OVERLAP_PX:
        data = data.rechunk({a: max(_SHIFT_OVERLAP_PX, max(data.chunks[a])) for a in spatial_axes})
    grown = da.overlap.overlap(data, depth=depth, boundary="none")

    def shift_block(block: np.ndarray, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        assert block_info is not None
        s = shifts[block_info[0]["chunk-location"][0]]
        if s is None or s.magnitude_px < 0.1:
            return block
        out: np.ndarray = apply_shift(block, s)
        return out

    moved = grown.map_blocks(shift_block, dtype=np.float32)
    return da.overlap.trim_internal(moved, depth, boundary="none")


def _windows(
    changed: np.ndarray, *, margin_px: int, max_window_px: int
) -> tuple[np.ndarray, list[tuple[slice, slice, list[int]]]]:
    """Groups of changed pixels over the whole AOI and the windows to process them in.

    Returns the group labels ``(Y, X)`` and, per window, its row and column slices and the
    groups it owns (each group is owned by exactly one window).
    """
    from scipy import ndimage

    grown = ndimage.binary_dilation(changed, iterations=_JOIN_PX) if changed.any() else changed
    groups, _n = ndimage.label(grown, structure=np.ones((3, 3), bool))
    h, w = changed.shape
    boxes: list[list[int]] = []  # y0, y1, x0, x1 with margin, then the groups
    owners: list[list[int]] = []
    for gid, sl in enumerate(ndimage.find_objects(groups), start=1):
        if sl is None:
            continue
        y0, y1 = max(0, sl[0].start - margin_px), min(h, sl[0].stop + margin_px)
        x0, x1 = max(0, sl[1].start - margin_px), min(w, sl[1].stop + margin_px)
        for k, (by0, by1, bx0, bx1) in enumerate(boxes):
            uy0, uy1, ux0, ux1 = min(by0, y0), max(by1, y1), min(bx0, x0), max(bx1, x1)
            overlaps = y0 < by1 and by0 < y1 and x0 < bx1 and bx0 < x1
            if overlaps and uy1 - uy0 <= max_window_px and ux1 - ux0 <= max_window_px:
                boxes[k] = [uy0, uy1, ux0, ux1]
                owners[k].append(gid)
                break
        else:
            boxes.append([y0, y1, x0, x1])
            owners.append([gid])
    return groups, [(slice(b[0], b[1]), slice(b[2], b[3]), own) for b, own in zip(boxes, owners, strict=True)]


def scan_chunked(
    stack: xr.DataArray,
    result: ScanResult,
    p: HistoryParams,
    min_clear_fraction: float,
    min_area_m2: float,
    split_days: int,
    quicklooks_dir: str | Path | None,
    *,
    scratch_dir: str | Path | None = None,
    registration_px: int = 1024,
    window_margin_px: int = 200,
    max_window_px: int = 640,
) -> ScanResult:
    """The scan of :func:`sitewatch.scan` on a dask-backed stack, block by block.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` dask-backed, time ascending (e.g. a provider's ``load`` with
        ``chunk_px``).
    result : ScanResult
        The result so far (AOI, source, dates).
    p, min_clear_fraction, min_area_m2, split_days, quicklooks_dir
        As :func:`sitewatch.scan`.
    scratch_dir : str or path, optional
        Where the per-pixel results are streamed (a Zarr store in a new temporary folder,
        removed when the result is garbage-collected); default: the system's temp folder.
    registration_px : int
        Side of the central window the shifts are estimated on.
    window_margin_px : int
        Context around each group of changed pixels for typing (runways and facilities
        it extends, the ground around it).
    max_window_px : int
        Windows of nearby groups are merged up to this size.

    Returns
    -------
    ScanResult
        ``stack``, ``clear`` and ``history`` are dask-backed (read on demand);
        ``labels`` is in memory.
    """
    from dataclasses import replace

    import dask

    # the caller's scheduler (a batch task sets its own), else threads
    with dask.config.set(scheduler=dask.config.get("scheduler", None) or "threads"):
        stack = stack.chunk({"time": 1, "band": -1})
        result, keep, frac, clear_n, clear = _scene_quality(
            stack, result, min_clear_fraction=min_clear_fraction
        )
        # the share of the whole grid clear per date (the in-memory scan's clear_fraction_at_detection)
        clear_share_t = clear_n / clear.sizes["y"] / clear.sizes["x"]
        if not keep.any():
            return result
        times = stack.coords["time"].values
        ids = [str(v) for v in stack.coords["scene_id"].values]
        idx = np.nonzero(keep)[0]
        stack_k = stack.sel(band=list(LOAD_BANDS)).isel(time=idx)
        clear_k = clear.isel(time=idx)
        # co-registration on a central window
        h, w = stack.sizes["y"], stack.sizes["x"]
        side_y, side_x = min(h, registration_px), min(w, registration_px)
        ys = slice((h - side_y) // 2, (h - side_y) // 2 + side_y)
        xs = slice((w - side_x) // 2, (w - side_x) // 2 + side_x)
        ref_band, ref_clear = dask.compute(stack_k.sel(band="B08").data[:, ys, xs], clear_k.data[:, ys, xs])
        shifts = _estimate_shifts(ref_band, ref_clear, int(np.argmax(frac[idx])), [ids[i] for i in idx])
        del ref_band, ref_clear
        data = _shift_lazily(stack_k.data, shifts, spatial_axes=(2, 3))
        moved = _shift_lazily(clear_k.data.astype(np.float32), shifts, spatial_axes=(1, 2))
        clear_data = moved > 0.99  # NaN (moved in from outside) compares False
        stack_k = stack_k.copy(data=data)
        clear_da = xr.DataArray(clear_data, dims=("time", "y", "x"), coords={"time": stack_k.coords["time"]})
        used = _scenes_used(shifts, frac[idx], [ids[i] for i in idx], times[idx])
        result = replace(result, scenes_used=used, stack=stack_k, clear=clear_da)
        refused = _too_few_scenes(result, len(idx))
        if refused is not None:
            return refused

        # per-pixel history, streamed to a scratch Zarr store
        folder = Path(tempfile.mkdtemp(prefix="sitewatch-scan-", dir=scratch_dir))
        store = folder / "history.zarr"
        lazy = detect_breaks(stack_k, clear_da, params=p)
        bands = [str(b) for b in lazy.coords["band"].values]
        spatial = [str(k) for k, v in lazy.coords.items() if set(v.dims) <= {"y", "x"} and v.dims]
        # string band names have no stable Zarr v3 type: kept aside, put back on opening
        lazy.drop_vars(["band", *spatial]).to_zarr(store, mode="w", consolidated=False)
        log.info("per-pixel history of AOI %s written to %s", result.aoi.name, store)
        history = xr.open_zarr(store, consolidated=False).assign_coords(
            {"band": bands, **{k: lazy.coords[k] for k in spatial}}
        )
        for k, v in lazy.coords.items():
            if not v.dims and k not in history.coords:
                history = history.assign_coords({k: v})
        weakref.finalize(history, shutil.rmtree, folder, True)
        result = replace(result, history=history)

        # objects: groups over the whole AOI, each typed and measured in a window around it
        changed = history["changed"].values
        groups, windows = _windows(changed, margin_px=window_margin_px, max_window_px=max_window_px)
        labels = np.zeros(changed.shape, np.int32)
        found: list[tuple[Any, int]] = []
        for ysl, xsl, own in windows:
            sub_stack = stack_k.isel(y=ysl, x=xsl).compute()
            sub_clear = clear_da.isel(y=ysl, x=xsl).values
            sub_history = history.isel(y=ysl, x=xsl).compute()
            mine = np.isin(groups[ysl, xsl], own)
            sub_history["changed"] = sub_history["changed"] & mine
            sub = _objects(
                replace(result, stack=sub_stack, clear=None, history=sub_history),
                sub_history,
                sub_stack,
                sub_clear,
                p,
                min_area_m2,
                split_days,
                None,
            )
            assert sub.labels is not None
            window_labels = sub.labels.values
            for alert, lab in zip(sub.alerts, sub.alert_labels, strict=True):
                new = len(found) + 1
                paste = (window_labels == lab) & (labels[ysl, xsl] == 0)
                labels[ysl, xsl][paste] = new
                first = alert.first_detected
                ti = (
                    int(np.searchsorted(times.astype("datetime64[D]"), np.datetime64(first, "D")))
                    if first
                    else 0
                )
                evidence = dict(alert.evidence)
                if "clear_fraction_at_detection" in evidence and ti < len(clear_share_t):
                    evidence["clear_fraction_at_detection"] = round(float(clear_share_t[ti]), 3)
                found.append((replace(alert, evidence=evidence), new))
        found.sort(key=lambda al: (al[0].first_detected or dt.date.min, al[0].id))
        labels_da = xr.DataArray(
            labels,
            dims=("y", "x"),
            coords={k: v for k, v in stack_k.coords.items() if set(v.dims) <= {"y", "x"}},
        )
        out = replace(
            result,
            alerts=[a for a, _ in found],
            alert_labels=tuple(lab for _, lab in found),
            labels=labels_da,
        )
        if quicklooks_dir is not None:
            out = out.with_quicklooks(quicklooks_dir)
        return out
