"""The in-memory executor: every stage on the whole AOI at once (AOIs that fit in memory)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import xarray as xr

from sitewatch.core.history import detect_breaks
from sitewatch.objects import describe, paint_labels
from sitewatch.pipeline.options import ScanParams
from sitewatch.pipeline.result import ScanResult
from sitewatch.pipeline.stages import (
    EventCallback,
    alerts_from_objects,
    emit,
    estimate_shifts,
    register,
    scan_bands,
    scene_quality,
    scenes_used,
    too_few_scenes,
)

__all__ = ["run_in_memory"]


def run_in_memory(
    stack: xr.DataArray,
    result: ScanResult,
    params: ScanParams,
    *,
    on_event: EventCallback | None = None,
) -> ScanResult:
    """Quality, registration, history, objects and alerts on an in-memory stack.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` in memory, time ascending.
    result : ScanResult
        The result so far (AOI, source, dates).
    params : ScanParams
    on_event : callable, optional
        Told when each stage is done (:class:`~sitewatch.pipeline.stages.ScanEvent`).

    Returns
    -------
    ScanResult
    """
    name = result.aoi.name
    quality = scene_quality(stack, result, min_clear_fraction=params.min_clear_fraction)
    result, keep, frac = quality.result, quality.keep, quality.frac
    emit(on_event, "stage_done", name, stage="quality")
    if not keep.any():
        return result
    times = stack.coords["time"].values
    ids = [str(v) for v in stack.coords["scene_id"].values]
    idx = np.nonzero(keep)[0]
    stack_k = stack.sel(band=scan_bands(stack)).isel(time=idx)
    clear_k = quality.clear.values[idx]
    # co-register every scene to the clearest one
    shifts = estimate_shifts(
        stack_k.sel(band="B08").values, clear_k, int(np.argmax(frac[idx])), [ids[i] for i in idx]
    )
    stack_k, clear_out = register(stack_k, clear_k, shifts)
    clear_da = xr.DataArray(clear_out, dims=("time", "y", "x"), coords={"time": stack_k.coords["time"]})
    used = scenes_used(shifts, frac[idx], [ids[i] for i in idx], times[idx])
    result = replace(result, scenes_used=used, stack=stack_k, clear=clear_da)
    emit(on_event, "stage_done", name, stage="register")
    refused = too_few_scenes(result, len(idx))
    if refused is not None:
        return refused
    history = detect_breaks(stack_k, clear_out, params=params.history)
    result = replace(result, history=history)
    emit(on_event, "stage_done", name, stage="history")
    objects = describe(history, stack_k, clear_out, params=params.objects)
    emit(on_event, "stage_done", name, stage="objects")
    found = alerts_from_objects(
        objects,
        aoi=result.aoi,
        crs=stack_k.odc.geobox.crs,
        times=stack_k.coords["time"].values,
        scene_ids=[str(v) for v in stack_k.coords["scene_id"].values],
        shifts_px={u["date"]: math.hypot(*u["shift_px"]) for u in result.scenes_used},
        clear_share=clear_out.mean(axis=(1, 2)),
        threshold=params.history.threshold,
        simulated=result.simulated,
        bands_missing=stack.attrs.get("bands_missing", ()),
        band_stand_ins=stack.attrs.get("band_stand_ins"),
    )
    labels = paint_labels([o for _, o in found], clear_out.shape[1:])
    emit(on_event, "stage_done", name, stage="alerts")
    return replace(
        result,
        alerts=[a for a, _ in found],
        alert_labels=tuple(o.label for _, o in found),
        labels=xr.DataArray(
            labels,
            dims=("y", "x"),
            coords={k: v for k, v in stack_k.coords.items() if set(v.dims) <= {"y", "x"}},
        ),
    )
