"""The stages of a scan, as public functions that both executors call.

1. :func:`scene_quality`: masks, the clear share of every scene, coverage, dropped scenes;
2. :func:`estimate_shifts` (and :func:`register`, in memory): co-registration onto the
   clearest scene;
3. the per-pixel history: :func:`sitewatch.core.history.detect_breaks`;
4. the objects: :func:`sitewatch.objects.describe`;
5. :func:`alerts_from_objects`: typed, dated alerts with ids and confidence.

The executors (:mod:`~sitewatch.pipeline.in_memory`, :mod:`~sitewatch.pipeline.blocks`)
differ only in how they window the work.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import dask
import numpy as np
import xarray as xr
from rasterio.features import geometry_mask

from sitewatch.alerts import (
    Alert,
    alert_id,
    alert_status,
    confidence_from_parts,
    confidence_parts,
    quote_final_size,
)
from sitewatch.core.bands import SCAN_BANDS, shortfall_evidence, shortfall_factor
from sitewatch.core.coregister import Shift, apply_shift, estimate_shift
from sitewatch.core.masks import CLEAR, SNOW, pixel_classes
from sitewatch.core.normalize import OffsetEvidence, offset_evidence, offset_mismatches
from sitewatch.core.outline import fitted_outline
from sitewatch.errors import DataError, DataWarning
from sitewatch.objects import ChangeObject
from sitewatch.objects.classify import spectral_indices
from sitewatch.objects.measure import to_wgs84
from sitewatch.pipeline.result import ScanResult
from sitewatch.types import AOI

__all__ = [
    "LOAD_BANDS",
    "ScanEvent",
    "SceneQuality",
    "aoi_mask",
    "alerts_from_objects",
    "date_of",
    "emit",
    "estimate_shifts",
    "offset_warning",
    "published_outline",
    "register",
    "scan_bands",
    "scene_quality",
    "scenes_used",
    "too_few_scenes",
]

log = logging.getLogger(__name__)

#: The bands a scan reads when the scenes have them all (SCL too, where there); which of them
#: a series must have is decided by :func:`sitewatch.core.bands.plan_bands`.
LOAD_BANDS: tuple[str, ...] = SCAN_BANDS


def scan_bands(stack: xr.DataArray) -> list[str]:
    """The reflectance bands of :data:`LOAD_BANDS` a loaded stack holds, in that order."""
    have = {str(b) for b in stack.coords["band"].values}
    return [b for b in LOAD_BANDS if b in have]


@dataclass(frozen=True)
class ScanEvent:
    """What a scan tells its ``on_event`` callback.

    Attributes
    ----------
    kind : {"scenes_found", "scenes_loaded", "stage_done"}
    aoi : str
    count : int or None
        Scenes found or loaded.
    stage : str or None
        The stage done (``quality``, ``register``, ``history``, ``objects``, ``alerts``).
    """

    kind: Literal["scenes_found", "scenes_loaded", "stage_done"]
    aoi: str
    count: int | None = None
    stage: str | None = None


EventCallback = Callable[[ScanEvent], None]


def emit(
    on_event: EventCallback | None, kind: Any, aoi: str, *, count: int | None = None, stage: str | None = None
) -> None:
    """Call ``on_event`` (when given) with a :class:`ScanEvent`."""
    if on_event is not None:
        on_event(ScanEvent(kind=kind, aoi=aoi, count=count, stage=stage))


def date_of(t: Any) -> dt.date:
    """The calendar date of a ``datetime64`` (or anything numpy reads as one)."""
    return dt.date.fromisoformat(str(np.datetime_as_string(np.datetime64(t, "D"))))


def aoi_mask(stack: xr.DataArray, aoi: AOI) -> np.ndarray:
    """Pixels of the stack's grid inside the AOI."""
    gbox = stack.odc.geobox
    geom = aoi.geometry_in(str(gbox.crs))
    inside: np.ndarray = geometry_mask([geom], out_shape=gbox.shape, transform=gbox.affine, invert=True)
    return inside


@dataclass(frozen=True)
class SceneQuality:
    """The quality stage's answer.

    Attributes
    ----------
    result : ScanResult
        With ``scenes_dropped``, ``coverage`` and ``messages``.
    keep : numpy.ndarray
        ``(T,)`` bool: scenes clear enough.
    frac : numpy.ndarray
        ``(T,)`` clear share of the covered AOI.
    clear_counts : numpy.ndarray
        ``(T,)`` clear pixels.
    clear : xarray.DataArray
        ``(time, y, x)`` clear, with data, inside the AOI (lazy for a dask stack).
    """

    result: ScanResult
    keep: np.ndarray
    frac: np.ndarray
    clear_counts: np.ndarray
    clear: xr.DataArray


def scene_quality(stack: xr.DataArray, result: ScanResult, *, min_clear_fraction: float) -> SceneQuality:
    """Masks and clear share per scene; coverage, dropped scenes, snow, all-cloudy: messages and warnings.

    Works alike on an in-memory and a dask-backed stack (then in one pass over it). The
    offsets the scenes were read with are checked against their data on the way
    (:func:`offset_warning`).

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` as a provider loads it.
    result : ScanResult
        The result so far (its AOI and messages).
    min_clear_fraction : float

    Returns
    -------
    SceneQuality
    """
    inside = aoi_mask(stack, result.aoi)
    inside_da = xr.DataArray(inside, dims=("y", "x"))
    if stack.chunks is not None:
        inside_da = inside_da.chunk(dict(zip(("y", "x"), stack.data.chunks[2:], strict=True)))
    present = scan_bands(stack)
    finite = np.isfinite(stack.sel(band=present))
    has_data = finite.all("band")
    classes = pixel_classes(stack)
    clear = (classes == CLEAR) & has_data & inside_da
    snowy = (classes == SNOW) & has_data & inside_da
    covered, counts, snow_counts, evidence, band_seen = dask.compute(
        (has_data.any("time") & inside_da).sum(),
        clear.sum(("y", "x")),
        snowy.sum(("y", "x")),
        offset_evidence(stack),
        (finite & inside_da).any(("time", "y", "x")),
    )
    counts, snow_frac = np.asarray(counts), np.asarray(snow_counts) / max(1, int(covered))
    empty = [str(b) for b, seen in zip(present, np.asarray(band_seen), strict=True) if not seen]
    if empty:
        # not clouds: the band itself holds nothing (a wrong asset, a failed export, all zeros)
        raise DataError(
            f"band(s) {', '.join(empty)} hold no data over AOI {result.aoi.name} in any of the "
            f"{stack.sizes['time']} scenes; the scan needs them: check the source files or its band mapping"
        )
    frac = counts / max(1, int(covered))
    coverage = float(int(covered) / max(1, int(inside.sum())))
    times = stack.coords["time"].values
    ids = [str(v) for v in stack.coords["scene_id"].values]
    messages: list[str] = list(result.messages)
    offsets = stack.coords["offset_dn"].values if "offset_dn" in stack.coords else np.full(len(ids), np.nan)
    odd_offsets = offset_warning(OffsetEvidence(*map(np.asarray, evidence)), offsets, ids)
    if odd_offsets:
        messages.append(odd_offsets)
        warnings.warn(odd_offsets, DataWarning, stacklevel=4)
    if coverage < 0.99:
        msg = f"the data covers {coverage:.0%} of AOI {result.aoi.name}; scanning the covered part"
        messages.append(msg)
        warnings.warn(msg, DataWarning, stacklevel=4)
    keep = frac >= min_clear_fraction
    # a scene is snow-covered when snow hides more of it than clouds, shadows and gaps do
    snowed = ~keep & (snow_frac > 0.5 * (1.0 - frac))
    dropped = [
        {
            "id": ids[int(i)],
            "date": date_of(times[i]).isoformat(),
            "clear_fraction": round(float(frac[i]), 3),
            "reason": f"clear fraction {frac[i]:.0%} below {min_clear_fraction:.0%} "
            + (f"(snow or ice on {snow_frac[i]:.0%})" if snowed[i] else "(clouds, shadows or no data)"),
        }
        for i in np.nonzero(~keep)[0]
    ]
    if dropped:
        n_snow = int(snowed.sum())
        messages.append(
            f"{len(dropped)} of {len(ids)} scenes dropped as too cloudy"
            + (f" or snow-covered ({n_snow} snow-covered)" if n_snow else "")
        )
    if not keep.any():
        cause = "snow-covered or cloudy" if snowed.any() else "cloudy"
        msg = (
            f"all {len(ids)} scenes of AOI {result.aoi.name} in the range are {cause} (clear fraction below "
            f"{min_clear_fraction:.0%}"
            + (f"; {int(snowed.sum())} under snow or ice" if snowed.any() else "")
            + "); no alerts: widen the range"
            + (" to snow-free months" if snowed.any() else "")
            + " or lower min_clear_fraction"
        )
        messages.append(msg)
        warnings.warn(msg, DataWarning, stacklevel=4)
    result = replace(result, scenes_dropped=dropped, coverage=coverage, messages=messages)
    return SceneQuality(result, keep, frac, counts, clear)


def offset_warning(evidence: OffsetEvidence, offset_dn: np.ndarray, ids: Sequence[str]) -> str | None:
    """One line naming the scenes whose data disagree with the offset they were read with, or None.

    Parameters
    ----------
    evidence : OffsetEvidence
        From :func:`sitewatch.core.normalize.offset_evidence`.
    offset_dn : numpy.ndarray
        ``(T,)`` the offset each scene was read with (the stack's ``offset_dn``; NaN: unknown).
    ids : sequence of str
        ``(T,)`` scene ids (file names for local scenes).

    Returns
    -------
    str or None
    """
    not_carried, carried = offset_mismatches(evidence, offset_dn)
    parts = []

    def named(idx: Sequence[int]) -> str:
        shown = ", ".join(ids[i] for i in idx[:3])
        return shown + (f" and {len(idx) - 3} more" if len(idx) > 3 else "")

    if not_carried:
        share = max(float(evidence.below_zero[i]) / max(1.0, float(evidence.valid[i])) for i in not_carried)
        parts.append(
            f"{len(not_carried)} scene(s) said to carry the +1000 offset of baseline 04.00 (name or "
            f"BOA_ADD_OFFSET) are darker than real ground once it is removed (up to {share:.1%} of pixels "
            f"below -0.03 reflectance): {named(not_carried)}; if they were harmonised, tag them "
            "BOA_ADD_OFFSET=0"
        )
    if carried:
        parts.append(
            f"{len(carried)} scene(s) read without an offset have no pixel darker than 0.09 reflectance in "
            f"any band, not even in shadow or water, as data still carrying the +1000 offset: "
            f"{named(carried)}; if so, tag them BOA_ADD_OFFSET=-1000"
        )
    return "offsets: " + "; ".join(parts) if parts else None


def estimate_shifts(
    reference_band: np.ndarray, clear: np.ndarray, ref_i: int, ids: Sequence[str]
) -> list[Any]:
    """Per scene, the :class:`~sitewatch.core.coregister.Shift` onto scene ``ref_i`` (None: leave it).

    ``reference_band`` is ``(T, Y, X)`` NIR, ``clear`` its clear mask. Shifts above 3 px are
    refused (kept unshifted) and a scene that cannot be registered is kept unshifted.
    """
    reference = np.where(clear[ref_i], reference_band[ref_i], np.nan)
    out: list[Any] = []
    for j in range(len(reference_band)):
        shift = None
        if j != ref_i:
            moving = np.where(clear[j], reference_band[j], np.nan)
            try:
                s = estimate_shift(reference, moving)
                if math.isfinite(s.dx) and math.isfinite(s.dy) and s.magnitude_px <= 3.0:
                    shift = s
            except Exception as exc:  # a scene that cannot be registered is kept unshifted
                log.info("scene %s not co-registered: %s", ids[j], exc)
        out.append(shift)
    return out


def scenes_used(
    shifts: Sequence[Any], frac: np.ndarray, ids: Sequence[str], times: np.ndarray
) -> list[dict[str, Any]]:
    """The ``scenes_used`` records: id, date, clear fraction and the shift applied."""
    return [
        {
            "id": ids[j],
            "date": date_of(times[j]).isoformat(),
            "clear_fraction": round(float(frac[j]), 3),
            "shift_px": [0.0, 0.0] if s is None else [round(float(s.dx), 3), round(float(s.dy), 3)],
        }
        for j, s in enumerate(shifts)
    ]


def too_few_scenes(result: ScanResult, n_keep: int) -> ScanResult | None:
    """The result to return when fewer than three clear scenes remain (nothing can be confirmed)."""
    if n_keep >= 3:
        return None
    msg = (
        f"only {n_keep} clear scene(s) of AOI {result.aoi.name} in the range; at least three are needed "
        "to confirm a change (a baseline and two observations after it): nothing is confirmed"
    )
    warnings.warn(msg, DataWarning, stacklevel=4)
    return replace(result, messages=[*result.messages, msg])


def register(
    stack: xr.DataArray, clear: np.ndarray, shifts: Sequence[Shift | None]
) -> tuple[xr.DataArray, np.ndarray]:
    """Apply the shifts to an in-memory stack and its clear mask (a pixel moved in from outside is not clear).

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` in memory.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    shifts : sequence of Shift or None
        One per date (:func:`estimate_shifts`).

    Returns
    -------
    tuple
        The shifted stack and clear mask.
    """
    data = stack.values.copy()
    clear_out = clear.copy()
    for j, s in enumerate(shifts):
        if s is not None and s.magnitude_px >= 0.1:
            data[j] = apply_shift(data[j], s)
            moved = apply_shift(clear[j].astype(np.float32), s)
            clear_out[j] = np.nan_to_num(moved, nan=0.0) > 0.99
    return stack.copy(data=data), clear_out


def _evidence(
    obj: ChangeObject, times: np.ndarray, scene_ids: Sequence[str], clear_share: float
) -> dict[str, Any]:
    ib, ia = spectral_indices(obj.before), spectral_indices(obj.after)
    measured = {
        "fraction_affected_pixels": obj.fraction_affected_pixels,
        "structure_area_before_m2": obj.structure_area_before_m2,
        "changed_area_m2": obj.changed_area_m2,
        "facility_area_m2": obj.facility_area_m2,
        "runway_length_before_m": obj.runway_length_before_m,
        "runway_length_after_m": obj.runway_length_after_m,
        "grown_from_after_state_px": obj.grown_from_after_state_px or None,
    }
    return {
        "indices": {
            "before": {k: round(v, 4) for k, v in ib.items()},
            "after": {k: round(v, 4) for k, v in ia.items()},
            "delta": {k: round(ia[k] - ib[k], 4) for k in ib},
        },
        "dates": [date_of(times[t]).isoformat() for t in obj.evidence_indices],
        "scene_ids": [str(scene_ids[t]) for t in obj.evidence_indices],
        "reasons": quote_final_size(obj.reasons, obj.length_m, obj.width_m),
        "n_pixels": obj.n_pixels,
        "rectangularity": obj.rectangularity,
        "date_spread_days": round(obj.date_spread_days, 1),
        "clear_observations_before": obj.n_clear_before,
        "clear_observations_after": obj.n_clear_after,
        "clear_fraction_at_detection": round(float(clear_share), 3),
        "context": {
            "built_up_before_overlap": round(obj.facility_overlap, 3),
            "runway_overlap": round(obj.runway_overlap, 3),
            "runway_adjacent": bool(obj.runway_adjacent),
        },
        **{k: v for k, v in measured.items() if v is not None},
    }


def published_outline(obj: ChangeObject) -> Any:
    """The object's outline fitted to its measured area (:func:`sitewatch.core.outline.fitted_outline`)."""
    # the grid's pixel size, from the object itself: its pixel outline covers n_pixels whole pixels
    pixel_size = math.sqrt(obj.geometry.area / obj.n_pixels) if obj.n_pixels else 10.0
    return fitted_outline(
        obj.geometry,
        area_m2=obj.area_m2,
        length_m=obj.length_m,
        width_m=obj.width_m,
        orientation_deg=obj.orientation_deg,
        pixel_size_m=pixel_size,
    )


def _alert_id(obj: ChangeObject, aoi: str, crs: Any, times: np.ndarray) -> str:
    c = to_wgs84(obj.geometry, crs).representative_point()
    return alert_id(aoi, obj.change_type, (c.x, c.y), date_of(times[obj.first_index]))


def alerts_from_objects(
    objects: Sequence[ChangeObject],
    *,
    aoi: AOI,
    crs: Any,
    times: np.ndarray,
    scene_ids: Sequence[str],
    shifts_px: Mapping[str, float],
    clear_share: np.ndarray,
    threshold: float,
    simulated: bool,
    bands_missing: Sequence[str] = (),
    band_stand_ins: Mapping[str, str] | None = None,
) -> list[tuple[Alert, ChangeObject]]:
    """The alerts of described objects, sorted by first-detected date and id.

    Parameters
    ----------
    objects : sequence of ChangeObject
        From :func:`sitewatch.objects.describe` (date indices into ``times``).
    aoi : AOI
    crs : CRS
        The objects' grid CRS.
    times : numpy.ndarray
        ``(T,)`` datetime64 of the stack the objects were described on.
    scene_ids : sequence of str
        ``(T,)`` the scenes of those dates.
    shifts_px : mapping
        ISO date -> registration shift applied that day (pixels).
    clear_share : numpy.ndarray
        ``(T,)`` share of the whole grid clear on each date.
    threshold : float
        The history's detection threshold (noise units).
    simulated : bool
    bands_missing, band_stand_ins : optional
        What the scenes lacked of the full band set and what stood in (the stack's attrs,
        :func:`sitewatch.core.bands.as_scan_bands`): said in every alert's evidence, and the
        confidence lowered by :func:`~sitewatch.core.bands.shortfall_factor` (every typing
        rule reads the SWIR and NIR bands), with the factor as the ``bands`` part.

    Returns
    -------
    list of (Alert, ChangeObject)
    """
    stand_ins = dict(band_stand_ins or {})
    band_factor = shortfall_factor(bands_missing, stand_ins)
    band_notes = shortfall_evidence(bands_missing, stand_ins)
    out = []
    for obj in objects:
        first_t = obj.first_index
        around = [
            date_of(times[t]).isoformat() for t in range(max(0, first_t - 2), min(len(times), first_t + 3))
        ]
        shift = max([shifts_px.get(d, 0.0) for d in around] or [0.0])
        parts = confidence_parts(
            score=obj.magnitude,
            threshold=threshold,
            persistence=obj.persistence,
            n_clear_before=obj.n_clear_before,
            n_clear_after=obj.n_clear_after,
            shift_px=shift,
        )
        evidence = {**_evidence(obj, times, scene_ids, clear_share[first_t]), **band_notes}
        confidence = confidence_from_parts(parts)
        if band_factor < 1.0:
            parts = {**parts, "bands": band_factor}
            confidence = round(confidence * band_factor, 3)
        if obj.absorbed:
            evidence["absorbed"] = [_alert_id(o, aoi.name, crs, times) for o in obj.absorbed]
        lu = obj.last_unchanged_index
        ew = obj.earthworks_first_index
        alert = Alert(
            id=_alert_id(obj, aoi.name, crs, times),
            aoi=aoi.name,
            change_type=obj.change_type,
            detail=obj.detail,
            status=alert_status(obj.persistence, obj.n_clear_after),
            confidence=confidence,
            confidence_parts=parts,
            last_unchanged=date_of(times[lu]) if lu is not None else None,
            first_detected=date_of(times[first_t]),
            area_m2=obj.area_m2,
            length_m=obj.length_m,
            width_m=obj.width_m,
            orientation_deg=obj.orientation_deg,
            geometry=to_wgs84(published_outline(obj), crs),
            evidence=evidence,
            simulated=simulated,
            fraction_affected=obj.fraction_affected,
            added_length_m=obj.added_length_m,
            after_earthworks=obj.after_earthworks,
            earthworks_first_detected=date_of(times[ew]) if ew is not None else None,
            onset=date_of(times[obj.onset_index]) if obj.onset_index is not None else None,
            completed=date_of(times[obj.completed_index]) if obj.completed_index is not None else None,
        )
        out.append((alert, obj))
    out.sort(key=lambda ao: (ao[0].first_detected or dt.date.min, ao[0].id))
    return out
