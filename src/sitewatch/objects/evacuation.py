"""Evacuations: how much of a facility's structures went, and the bits of it that split off.

Removing structures (roofs, tents, vehicles, containers) from a facility bares its yard.
:func:`structure_loss` measures the share of the structure signal lost;
:func:`absorb_into_evacuations` folds bits of the facility split off the evacuation
(bare yard read as earthworks, other change, or a second small evacuation) back into it;
:func:`facility_evacuations` adds (and dates) the evacuations seen over a whole facility
(:mod:`~sitewatch.objects.facility_loss`).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import xarray as xr
from rasterio.features import geometry_mask
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from sitewatch.core.morphology import vectorize
from sitewatch.objects.change_object import ChangeObject
from sitewatch.objects.context import SiteContext, composite_spectrum, late_composite
from sitewatch.objects.dating import evidence_dates
from sitewatch.objects.facility_loss import FacilityLoss, FacilityRules, facility_losses, textured_regions
from sitewatch.objects.measure import measure_geometry

__all__ = [
    "StructureLoss",
    "absorb_into_evacuations",
    "facility_evacuation",
    "facility_evacuations",
    "facility_share",
    "structure_loss",
]

#: Types that name the surface an object became: structures removed under one are not an evacuation.
SURFACE_TYPES: tuple[str, ...] = ("new_pad", "runway_change", "vegetation_loss")
#: Types whose objects inside an evacuated facility, dated within its removals, are part of it
#: (a "vegetation" loss there is green-looking gear taken away, camouflage nets, blue containers
#: and tarps that read green by NDVI, or the facility's gardens given up with it).
ABSORBED_TYPES: tuple[str, ...] = ("earthworks", "other", "evacuation", "vegetation_loss")


@dataclass(frozen=True)
class StructureLoss:
    """What an evacuation removed.

    Attributes
    ----------
    fraction_affected : float or None
        Share of the facility's structure signal lost (0..1); None when too few structure
        pixels changed to measure it.
    fraction_affected_pixels : float or None
        Share of the structure pixels that changed.
    structure_area_before_m2 : float
        Area of the structures before.
    changed_area_m2 : float
        Area of the changed pixels of the object.
    """

    fraction_affected: float | None
    fraction_affected_pixels: float | None
    structure_area_before_m2: float
    changed_area_m2: float


def facility_share(area_m2: float, facility_area_m2: float | None) -> float | None:
    """The object's share of its facility's area (the fraction affected when structures cannot be measured).

    Examples
    --------
    >>> facility_share(2000.0, 4000.0)
    0.5
    """
    if not facility_area_m2:
        return None
    return round(min(1.0, area_m2 / facility_area_m2), 3)


def structure_loss(
    stack: xr.DataArray,
    clear: np.ndarray,
    *,
    context: SiteContext,
    facility: int,
    mask: np.ndarray,
    changed: np.ndarray,
    geometry: BaseGeometry,
    break_index: np.ndarray,
) -> StructureLoss:
    """The share of the facility's structures (roofs, vehicles, containers) that went.

    Each structure pixel's spectral distance from the bare yard they leave behind, before
    (the early composite) and at the end of the series (the late composite); the fraction
    is the structure signal lost over the signal there was, summed over the facility
    (mixed edge pixels count by how much structure they held).

    Parameters
    ----------
    stack, clear
        As :func:`sitewatch.objects.describe`.
    context : SiteContext
    facility : int
        The facility's label in ``context.facilities`` (0: the object itself).
    mask, changed : numpy.ndarray
        ``(Y, X)`` bool: the object, and its changed pixels.
    geometry : shapely geometry
        The object's outline (grid CRS).
    break_index : numpy.ndarray
        Date index of each changed pixel's break (the removals).

    Returns
    -------
    StructureLoss
    """
    gbox = stack.odc.geobox
    res_m = abs(float(gbox.resolution.x))
    t_n = stack.sizes["time"]
    fac = (context.facilities == facility) if facility else mask
    hull = geometry_mask([geometry.convex_hull], out_shape=mask.shape, transform=gbox.affine, invert=True)
    near = ndimage.binary_dilation(hull | mask, iterations=3)
    struct = fac & ndimage.binary_dilation(context.early.roofs) & near
    # the end state: only dates after the removals (the series may end soon after)
    t_end = min(int(np.quantile(break_index, 0.95, method="lower")) + 1, t_n - 2)
    late_comp = late_composite(stack, clear, from_t=max(0, t_end))
    comp = context.early.composite
    gone = changed & struct
    fraction = fraction_px = None
    if struct.sum() >= 4 and gone.sum() >= 4:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            yard = np.nanmedian(late_comp[:, gone], axis=1)
            s_b = np.sqrt(np.nansum((comp[:, struct] - yard[:, None]) ** 2, axis=0))
            s_a = np.sqrt(np.nansum((late_comp[:, struct] - yard[:, None]) ** 2, axis=0))
        ok_px = np.isfinite(s_b) & np.isfinite(s_a)
        lost = float(np.sum(s_b[ok_px] - np.minimum(s_a[ok_px], s_b[ok_px])))
        total = float(np.sum(s_b[ok_px]))
        if total > 0:
            fraction = round(min(1.0, max(0.0, lost / total)), 3)
        fraction_px = round(float(gone.sum() / struct.sum()), 3)
    return StructureLoss(
        fraction_affected=fraction,
        fraction_affected_pixels=fraction_px,
        structure_area_before_m2=round(float(struct.sum() * res_m**2), 1),
        changed_area_m2=round(int(changed.sum()) * res_m**2, 1),
    )


def facility_evacuation(
    loss: FacilityLoss,
    labels: np.ndarray,
    stack: xr.DataArray,
    clear: np.ndarray,
    context: SiteContext,
    *,
    facilities: np.ndarray,
    min_area_m2: float,
) -> ChangeObject | None:
    """The evacuation object of a facility whose structures the facility-wide test saw go.

    Its outline covers the removed structures (closed over the yard between them, within
    the facility); dates, fraction and the confidence's parts are the test's
    (:func:`sitewatch.objects.facility_loss.facility_losses`).

    Parameters
    ----------
    loss : FacilityLoss
    labels : numpy.ndarray
        ``(Y, X)`` int labels of the objects: the new object takes the next label, painted
        where no other object is (in place).
    stack, clear
        As :func:`sitewatch.objects.describe`.
    context : SiteContext
    facilities : numpy.ndarray
        ``(Y, X)`` int labels the test ran on (the site context's facilities, or the
        textured yards beyond them).
    min_area_m2 : float
        Smallest object reported.

    Returns
    -------
    ChangeObject or None
        None when the removed structures cover less than ``min_area_m2``.
    """
    gbox = stack.odc.geobox
    res_m = abs(float(gbox.resolution.x))
    facility = facilities == loss.facility
    if int(loss.removed.sum()) * res_m**2 < min_area_m2:
        return None
    mask = ndimage.binary_closing(loss.removed, iterations=2) & facility | loss.removed
    pieces = [g for _, g in vectorize(mask.astype(np.int32), gbox, simplify_px=0.5)]
    if not pieces:
        return None
    geom = shapely.union_all(pieces)
    meas = measure_geometry(geom)
    label = int(labels.max()) + 1
    labels[mask & (labels == 0)] = label
    times = stack.coords["time"].values.astype("datetime64[D]")
    t_n = len(times)
    bands = tuple(str(b) for b in stack.coords["band"].values)
    late = late_composite(stack, clear, from_t=min(loss.completed_index + 1, t_n - 2))
    removed_at = loss.removal_index[loss.removed]
    obj_clear = clear[:, mask].mean(axis=1)
    lu, ev_t = evidence_dates(obj_clear, loss.first_index)
    lu = lu if lu is not None else loss.last_unchanged_index
    spread = float((times[loss.completed_index] - times[loss.onset_index]) / np.timedelta64(1, "D"))
    n_struct = int(loss.structures.sum())
    reasons = (
        f"{int(loss.removed.sum())} of the facility's {n_struct} structure pixels lost their contrast "
        f"against its own yard ({loss.fraction:.0%} of the structure signal), "
        f"{times[loss.onset_index]} to {times[loss.completed_index]}: structures removed",
        f"seen over the whole facility: the share of its structures standing fell by {loss.drop:.0%} "
        f"and stayed down (z = {loss.z:.1f} against the series' own scatter)",
        *((f"removals spread over {spread:.0f} days",) if spread > 10 else ()),
    )
    facility_area = round(float(facility.sum() * res_m**2), 1)
    return ChangeObject(
        label=label,
        box=(0, 0, 0, 0),
        mask=np.zeros((0, 0), bool),
        geometry=geom,
        change_type="evacuation",
        detail=None,
        reasons=reasons,
        first_index=loss.first_index,
        last_unchanged_index=lu,
        evidence_indices=ev_t,
        removals=(int(removed_at.min()), int(removed_at.max())),
        area_m2=meas["area_m2"],
        length_m=meas["length_m"],
        width_m=meas["width_m"],
        orientation_deg=meas["orientation_deg"],
        rectangularity=meas["rectangularity"],
        n_pixels=int(loss.removed.sum()),
        date_spread_days=spread,
        before=composite_spectrum(context.early.composite, loss.removed, bands) or {},
        after=composite_spectrum(late, loss.removed, bands) or {},
        n_clear_before=loss.n_clear_before,
        n_clear_after=loss.n_clear_after,
        persistence=loss.persistence,
        magnitude=loss.magnitude,
        facility_overlap=1.0,
        runway_overlap=0.0,
        runway_adjacent=False,
        facility=loss.facility,
        fraction_affected=loss.fraction,
        fraction_affected_pixels=loss.removed_share,
        structure_area_before_m2=round(n_struct * res_m**2, 1),
        changed_area_m2=round(int(loss.removed.sum()) * res_m**2, 1),
        facility_area_m2=facility_area,
        onset_index=loss.onset_index,
        completed_index=loss.completed_index,
    )


def absorb_into_evacuations(
    objects: Sequence[ChangeObject],
    labels: np.ndarray,
    days: np.ndarray,
    margin_days: int,
    *,
    gbox: Any = None,
) -> list[ChangeObject]:
    """Fold bits of an evacuated facility back into its evacuation.

    An ``earthworks``, ``other``, ``vegetation_loss`` or ``evacuation`` object mostly inside the same facility
    as a (larger) evacuation, dated within that evacuation's removals (+- ``margin_days``),
    is part of it: its label joins the evacuation's (``labels`` is changed in place) and it
    is listed in the evacuation's ``absorbed``. With the grid ``gbox``, the evacuation's
    outline (a MultiPolygon when the pieces do not touch), area, length, width and
    orientation are those of every piece its label now holds.

    Parameters
    ----------
    objects : sequence of ChangeObject
    labels : numpy.ndarray
        ``(Y, X)`` int labels of the objects.
    days : numpy.ndarray
        ``(T,)`` datetime64[D]: the date of each index.
    margin_days : int
    gbox : odc.geo.geobox.GeoBox, optional

    Returns
    -------
    list of ChangeObject
        The objects left, evacuations with their pieces.
    """
    evac: dict[int, int] = {}  # facility -> its largest evacuation
    for i, o in enumerate(objects):
        bigger = o.facility not in evac or o.area_m2 > objects[evac[o.facility]].area_m2
        if o.change_type == "evacuation" and o.facility > 0 and bigger:
            evac[o.facility] = i
    if not evac:
        return list(objects)
    margin = np.timedelta64(margin_days, "D")
    keep: list[int] = []
    absorbed: dict[int, list[ChangeObject]] = {}
    for i, o in enumerate(objects):
        j = evac.get(o.facility) if o.facility else None
        if j is not None and j != i and o.change_type in ABSORBED_TYPES:
            ev = objects[j]
            lo, hi = days[ev.removals[0]], days[ev.removals[1]]
            if lo - margin <= days[o.first_index] <= hi + margin:
                labels[labels == o.label] = ev.label
                absorbed.setdefault(j, []).append(o)
                continue
        keep.append(i)
    out = []
    for i in keep:
        o = objects[i]
        if i in absorbed:
            # the evacuation is complete when its last absorbed piece is
            ends = [p.completed_index for p in (o, *absorbed[i]) if p.completed_index is not None]
            o = dataclasses.replace(
                o, absorbed=tuple(absorbed[i]), completed_index=max(ends) if ends else None
            )
            if gbox is not None:
                pieces = [
                    g for _, g in vectorize((labels == o.label).astype(np.int32), gbox, simplify_px=0.5)
                ]
                if pieces:
                    geom = shapely.union_all(pieces)
                    meas = measure_geometry(geom)
                    o = dataclasses.replace(
                        o,
                        geometry=geom,
                        area_m2=meas["area_m2"],
                        length_m=meas["length_m"],
                        width_m=meas["width_m"],
                        orientation_deg=meas["orientation_deg"],
                    )
        out.append(o)
    return out


def facility_evacuations(
    objects: list[ChangeObject],
    labels: np.ndarray,
    stack: xr.DataArray,
    clear: np.ndarray,
    context: SiteContext,
    *,
    rules: FacilityRules,
    min_area_m2: float,
) -> list[ChangeObject]:
    """Evacuations seen over a whole facility where no object of it was typed one.

    ``labels`` grows in place; objects mostly inside a yard found by its texture take that
    yard's facility label (in place in ``objects``).

    Structures removed one by one over weeks, each a few mixed pixels, often stay below the
    per-pixel test; pooled over the facility they do not. The other objects of that facility
    dated within its removals are then folded into it, as for any evacuation.
    """
    evacuated = {o.facility for o in objects if o.change_type == "evacuation" and o.facility}
    # a pad, runway or cleared grove laid where structures stood is that surface, not an evacuation:
    # the per-pixel objects whose material was typed keep their pixels
    typed = np.isin(labels, [o.label for o in objects if o.change_type in SURFACE_TYPES])
    times = stack.coords["time"].values.astype("datetime64[D]")
    days = (times - times[0]).astype(np.int64)
    bands = [str(b) for b in stack.coords["band"].values]
    out: list[ChangeObject] = []
    # a yard beside or across an evacuation already described is that evacuation
    taken = ndimage.binary_dilation(
        np.isin(labels, [o.label for o in objects if o.change_type == "evacuation"]), iterations=2
    )
    lost = np.zeros(labels.shape, bool)  # the regions whose loss was found
    for in_yards in (False, True):
        if not in_yards:
            regions = context.facilities
        else:
            # then yards of structures found by their texture (labelled after the facilities, so
            # that a label names one region): those the built-up test missed, and those inside a
            # facility tested without a loss. Bright calcareous or gypsum ground passes the
            # built-up test, and a facility can be a whole plain in which a compound's removals
            # are too small a share to be seen; its own yard shows them.
            yards = textured_regions(context.early.composite, bands, exclude=lost | taken, rules=rules)
            regions = np.where(yards > 0, yards + int(context.facilities.max()), 0)
        for loss in facility_losses(stack.values, clear, regions, days, bands=bands, rules=rules):
            lost |= regions == loss.facility
            if loss.facility in evacuated and not in_yards:
                px_m2 = abs(float(stack.odc.geobox.resolution.x)) ** 2
                objects[:] = [
                    _measured_by(o, loss, px_m2, clear[:, labels == o.label].mean(axis=1), times)
                    if o.change_type == "evacuation" and o.facility == loss.facility
                    else o
                    for o in objects
                ]
                continue
            if typed[loss.removed].mean() >= 0.5 or taken[loss.removed].any():
                continue
            obj = facility_evacuation(
                loss, labels, stack, clear, context, facilities=regions, min_area_m2=min_area_m2
            )
            if obj is not None:
                out.append(obj)
                taken |= ndimage.binary_dilation(regions == loss.facility, iterations=2)
                if in_yards:
                    # the objects mostly in a yard belong to its facility, to be folded in
                    yard = regions == loss.facility
                    objects[:] = [_in_yard(o, labels, yard, loss.facility) for o in objects]
    return out


def _measured_by(
    obj: ChangeObject, loss: FacilityLoss, px_m2: float, obj_clear: np.ndarray, times: np.ndarray
) -> ChangeObject:
    """An evacuation of the facility dated (and, where it could not be, measured) by the whole facility.

    The object's date is a quantile of its pixels' breaks, which a few pixels that changed
    early can pull months back; the facility-wide test dates each structure's removal. Its
    share of structures lost is measured on the pixels the absolute structure test found,
    sometimes too few (then the share of the facility's area stood in): the facility-wide
    share replaces that stand-in.
    """
    lu, ev_t = evidence_dates(obj_clear, loss.first_index)
    # the object's own share stays where its structures could be measured (as before); where
    # too few of its pixels held structures, the facility's share replaces the area share
    dated = dataclasses.replace(
        obj,
        first_index=loss.first_index,
        onset_index=loss.onset_index,
        completed_index=loss.completed_index,
        last_unchanged_index=lu,
        evidence_indices=ev_t,
        reasons=(
            *obj.reasons,
            f"over the whole facility {loss.fraction:.0%} of the structure signal went, "
            f"{int(loss.removed.sum())} structure pixels from "
            f"{times[loss.onset_index]} to {times[loss.completed_index]} (z = {loss.z:.1f})",
        ),
    )
    if obj.fraction_affected_pixels is not None:
        return dated
    return dataclasses.replace(
        dated,
        fraction_affected=loss.fraction,
        fraction_affected_pixels=loss.removed_share,
        structure_area_before_m2=round(float(loss.structures.sum()) * px_m2, 1),
    )


def _in_yard(obj: ChangeObject, labels: np.ndarray, yard: np.ndarray, facility: int) -> ChangeObject:
    if obj.facility or yard[labels == obj.label].mean() < 0.5:
        return obj
    return dataclasses.replace(obj, facility=facility)
