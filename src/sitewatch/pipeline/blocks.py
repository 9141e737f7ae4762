"""The block-by-block executor: AOIs bigger than memory, per-pixel stages on dask blocks, objects per window.

:func:`sitewatch.scan` comes here for AOIs larger than ``ExecutionOptions.chunk_px``. The stack is
read lazily block by block (the provider's chunked reads); then

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
   it extends), by the same object stage as an in-memory scan
   (:func:`sitewatch.objects.describe`, then :func:`~sitewatch.pipeline.stages.alerts_from_objects`).
   Windows of nearby groups are merged up to ``max_window_px``.

Memory is bounded by the blocks and the windows, not by the AOI: a whole Sentinel-2 tile
can be scanned on a laptop. Only 2-D rasters (the changed mask and the labels) are held
for the whole AOI.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dask
import numpy as np
import xarray as xr

from sitewatch.core.coregister import Shift, apply_shift
from sitewatch.core.history import detect_breaks
from sitewatch.objects import ChangeObject, describe
from sitewatch.pipeline.options import ExecutionOptions, ScanParams
from sitewatch.pipeline.result import ScanResult
from sitewatch.pipeline.stages import (
    EventCallback,
    alerts_from_objects,
    emit,
    estimate_shifts,
    scan_bands,
    scene_quality,
    scenes_used,
    too_few_scenes,
)

log = logging.getLogger(__name__)

__all__ = ["ObjectWindow", "object_windows", "run_in_blocks", "shift_lazily"]

#: Overlap of blocks when scenes are shifted (shifts are refused above 3 px; bilinear needs one more).
SHIFT_OVERLAP_PX = 4
#: Changed pixels this close belong to one group (the object stage joins gaps up to ~4 px).
JOIN_PX = 6


def shift_lazily(data: Any, shifts: Sequence[Shift | None], *, spatial_axes: tuple[int, int]) -> Any:
    """Apply per-date shifts to a dask array chunked one date per block, with overlapping blocks.

    Parameters
    ----------
    data : dask.array.Array
        One date per block along axis 0.
    shifts : sequence of Shift or None
        One per date.
    spatial_axes : tuple of int
        The row and column axes.

    Returns
    -------
    dask.array.Array
    """
    import dask.array as da

    depth = {spatial_axes[0]: SHIFT_OVERLAP_PX, spatial_axes[1]: SHIFT_OVERLAP_PX}
    small = min(min(c) for c in (data.chunks[a] for a in spatial_axes))
    if small < SHIFT_OVERLAP_PX:
        data = data.rechunk({a: max(SHIFT_OVERLAP_PX, max(data.chunks[a])) for a in spatial_axes})
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


@dataclass(frozen=True)
class ObjectWindow:
    """A window of the grid where the object stage runs, and the groups of changed pixels it owns."""

    rows: slice
    cols: slice
    groups: tuple[int, ...]


def object_windows(
    changed: np.ndarray, *, margin_px: int, max_window_px: int
) -> tuple[np.ndarray, list[ObjectWindow]]:
    """Groups of changed pixels over the whole AOI and the windows to process them in.

    Parameters
    ----------
    changed : numpy.ndarray
        ``(Y, X)`` bool.
    margin_px : int
        Context around each group.
    max_window_px : int
        Windows of nearby groups are merged up to this size.

    Returns
    -------
    tuple
        The group labels ``(Y, X)`` and the windows (each group is owned by exactly one window).
    """
    from scipy import ndimage

    grown = ndimage.binary_dilation(changed, iterations=JOIN_PX) if changed.any() else changed
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
    windows = [
        ObjectWindow(slice(b[0], b[1]), slice(b[2], b[3]), tuple(own))
        for b, own in zip(boxes, owners, strict=True)
    ]
    return groups, windows


def _register_lazily(
    stack_k: xr.DataArray, clear_k: xr.DataArray, frac: np.ndarray, ids: Sequence[str], registration_px: int
) -> tuple[xr.DataArray, xr.DataArray, list[Shift | None]]:
    """Shifts estimated on a central window (a scene's misregistration is one translation), applied lazily."""
    h, w = stack_k.sizes["y"], stack_k.sizes["x"]
    side_y, side_x = min(h, registration_px), min(w, registration_px)
    ys = slice((h - side_y) // 2, (h - side_y) // 2 + side_y)
    xs = slice((w - side_x) // 2, (w - side_x) // 2 + side_x)
    ref_band, ref_clear = dask.compute(stack_k.sel(band="B08").data[:, ys, xs], clear_k.data[:, ys, xs])
    shifts = estimate_shifts(ref_band, ref_clear, int(np.argmax(frac)), ids)
    del ref_band, ref_clear
    data = shift_lazily(stack_k.data, shifts, spatial_axes=(2, 3))
    moved = shift_lazily(clear_k.data.astype(np.float32), shifts, spatial_axes=(1, 2))
    clear_data = moved > 0.99  # NaN (moved in from outside) compares False
    stack_k = stack_k.copy(data=data)
    clear_da = xr.DataArray(clear_data, dims=("time", "y", "x"), coords={"time": stack_k.coords["time"]})
    return stack_k, clear_da, shifts


def _stream_history(
    stack_k: xr.DataArray,
    clear_da: xr.DataArray,
    params: ScanParams,
    scratch_dir: str | Path | None,
    aoi: str,
) -> xr.Dataset:
    """The per-pixel history on dask blocks, streamed to a scratch Zarr store (removed with the result)."""
    folder = Path(tempfile.mkdtemp(prefix="sitewatch-scan-", dir=scratch_dir))
    store = folder / "history.zarr"
    lazy = detect_breaks(stack_k, clear_da, params=params.history)
    bands = [str(b) for b in lazy.coords["band"].values]
    spatial = [str(k) for k, v in lazy.coords.items() if set(v.dims) <= {"y", "x"} and v.dims]
    # string band names have no stable Zarr v3 type: kept aside, put back on opening
    lazy.drop_vars(["band", *spatial]).to_zarr(store, mode="w", consolidated=False)
    log.info("per-pixel history of AOI %s written to %s", aoi, store)
    history = xr.open_zarr(store, consolidated=False).assign_coords(
        {"band": bands, **{k: lazy.coords[k] for k in spatial}}
    )
    for k, v in lazy.coords.items():
        if not v.dims and k not in history.coords:
            history = history.assign_coords({k: v})
    weakref.finalize(history, shutil.rmtree, folder, True)
    return history


def _objects_by_window(
    history: xr.Dataset,
    stack_k: xr.DataArray,
    clear_da: xr.DataArray,
    params: ScanParams,
    execution: ExecutionOptions,
) -> list[tuple[ChangeObject, int, int]]:
    """Every object with its window's row and column: groups over the whole AOI, described per window."""
    changed = history["changed"].values
    groups, windows = object_windows(
        changed, margin_px=execution.window_margin_px, max_window_px=execution.max_window_px
    )
    found: list[tuple[ChangeObject, int, int]] = []
    # windows overlap by their margins: an evacuation seen over a whole facility (not a group
    # of one window) is seen by each window that holds the facility; the first one keeps it
    evacuated = np.zeros(changed.shape, bool)
    for win in windows:
        sub_stack = stack_k.isel(y=win.rows, x=win.cols).compute()
        sub_clear = clear_da.isel(y=win.rows, x=win.cols).values
        sub_history = history.isel(y=win.rows, x=win.cols).compute()
        mine = np.isin(groups[win.rows, win.cols], win.groups)
        sub_history["changed"] = sub_history["changed"] & mine
        r, c = int(win.rows.start), int(win.cols.start)
        for obj in describe(sub_history, sub_stack, sub_clear, params=params.objects):
            if obj.change_type == "evacuation":
                r0, r1, c0, c1 = obj.box
                seen = evacuated[r + r0 : r + r1, c + c0 : c + c1]
                if obj.mask.any() and seen[obj.mask].mean() >= 0.5:
                    continue
                seen[obj.mask] = True
            found.append((obj, r, c))
    return found


def run_in_blocks(
    stack: xr.DataArray,
    result: ScanResult,
    params: ScanParams,
    execution: ExecutionOptions,
    *,
    on_event: EventCallback | None = None,
) -> ScanResult:
    """The scan of :func:`sitewatch.scan` on a dask-backed stack, block by block.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` dask-backed, time ascending (e.g. a provider's lazy ``load``).
    result : ScanResult
        The result so far (AOI, source, dates).
    params : ScanParams
    execution : ExecutionOptions
        ``scratch_dir`` (where the per-pixel results are streamed: a Zarr store in a new
        temporary folder, removed when the result is garbage-collected), and the window sizes.
    on_event : callable, optional
        Told when each stage is done.

    Returns
    -------
    ScanResult
        ``stack``, ``clear`` and ``history`` are dask-backed (read on demand);
        ``labels`` is in memory.
    """
    import math

    name = result.aoi.name
    # the caller's scheduler (a batch task sets its own), else threads
    with dask.config.set(scheduler=dask.config.get("scheduler", None) or "threads"):
        stack = stack.chunk({"time": 1, "band": -1})
        quality = scene_quality(stack, result, min_clear_fraction=params.min_clear_fraction)
        result, keep, frac, clear = quality.result, quality.keep, quality.frac, quality.clear
        emit(on_event, "stage_done", name, stage="quality")
        if not keep.any():
            return result
        times = stack.coords["time"].values
        ids = [str(v) for v in stack.coords["scene_id"].values]
        idx = np.nonzero(keep)[0]
        stack_k, clear_da, shifts = _register_lazily(
            stack.sel(band=scan_bands(stack)).isel(time=idx),
            clear.isel(time=idx),
            frac[idx],
            [ids[i] for i in idx],
            execution.registration_px,
        )
        used = scenes_used(shifts, frac[idx], [ids[i] for i in idx], times[idx])
        result = replace(result, scenes_used=used, stack=stack_k, clear=clear_da)
        emit(on_event, "stage_done", name, stage="register")
        refused = too_few_scenes(result, len(idx))
        if refused is not None:
            return refused
        history = _stream_history(stack_k, clear_da, params, execution.scratch_dir, name)
        result = replace(result, history=history)
        emit(on_event, "stage_done", name, stage="history")
        placed = _objects_by_window(history, stack_k, clear_da, params, execution)
        emit(on_event, "stage_done", name, stage="objects")
        # the share of the whole grid clear per date (before registration: one pass over the stack)
        share_all = quality.clear_counts / clear.sizes["y"] / clear.sizes["x"]
        days_all = times.astype("datetime64[D]")
        kept_days = times[idx].astype("datetime64[D]")
        found = alerts_from_objects(
            [o for o, _, _ in placed],
            aoi=result.aoi,
            crs=stack_k.odc.geobox.crs,
            times=stack_k.coords["time"].values,
            scene_ids=[str(v) for v in stack_k.coords["scene_id"].values],
            shifts_px={u["date"]: math.hypot(*u["shift_px"]) for u in result.scenes_used},
            clear_share=share_all[np.searchsorted(days_all, kept_days)],
            threshold=params.history.threshold,
            simulated=result.simulated,
            bands_missing=stack.attrs.get("bands_missing", ()),
            band_stand_ins=stack.attrs.get("band_stand_ins"),
        )
        # pasted in the order the windows found them; a pixel claimed twice stays with the first
        number = {id(o): n for n, (o, _, _) in enumerate(placed, start=1)}
        labels = np.zeros(history["changed"].shape, np.int32)
        for obj, r, c in placed:
            r0, r1, c0, c1 = obj.box
            window = labels[r + r0 : r + r1, c + c0 : c + c1]
            window[obj.mask & (window == 0)] = number[id(obj)]
        emit(on_event, "stage_done", name, stage="alerts")
        return replace(
            result,
            alerts=[a for a, _ in found],
            alert_labels=tuple(number[id(o)] for _, o in found),
            labels=xr.DataArray(
                labels,
                dims=("y", "x"),
                coords={k: v for k, v in stack_k.coords.items() if set(v.dims) <= {"y", "x"}},
            ),
        )
