"""The object stage: from a per-pixel history to described, typed, dated objects.

:func:`describe` is the one entry point. It reads what stood on the site before
(:mod:`~sitewatch.objects.context`), groups the changed pixels into objects
(:mod:`~sitewatch.objects.group`), describes each one
(:func:`~sitewatch.objects.candidate.describe_one`: its facts, type, dates and size),
splits off the parts an object hides (a clearing beside works, works beside a field's
season, an extension beside a ploughed field), joins the sections of a pad laid in stages
(:mod:`~sitewatch.objects.stages`) and folds the bits of an evacuated facility into its
evacuation. Pure: arrays in, frozen :class:`ChangeObject` out, in the grid's CRS.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sitewatch.core.surfaces import DEFAULT_RULES, SurfaceRules, built_like
from sitewatch.objects.candidate import Candidate, History, candidates, describe_one
from sitewatch.objects.change_object import ChangeObject, paint_labels
from sitewatch.objects.context import SiteContext, site_context
from sitewatch.objects.continuation import runway_corridor
from sitewatch.objects.dating import evidence_dates
from sitewatch.objects.evacuation import (
    absorb_into_evacuations,
    facility_evacuations,
)
from sitewatch.objects.facility_loss import DEFAULT_FACILITY_RULES, FacilityRules
from sitewatch.objects.group import group_changes, split_off
from sitewatch.objects.phenology import crop_season, green_after
from sitewatch.objects.stages import Section, staged_pairs

__all__ = ["ChangeObject", "ObjectParams", "describe", "paint_labels"]


@dataclass(frozen=True)
class ObjectParams:
    """Settings of the object stage.

    Attributes
    ----------
    min_area_m2 : float
        Smallest object reported (about 30 m x 30 m by default).
    split_days : int
        Changed pixels of one connected area whose dates are further apart than this
        become separate objects; also the margin of an evacuation's removals within which
        the bits of its facility are folded into it.
    surfaces : SurfaceRules
        Thresholds of the surface tests.
    facility : FacilityRules
        Settings of the facility-wide test for removed structures (evacuations the
        per-pixel history does not see).
    stage_max_days : int
        Longest gap between the first dates of two touching pads of one material that may be
        sections of one pad laid in stages (:mod:`~sitewatch.objects.stages`; one material:
        ``SurfaceRules.same_material``); they are joined when their union is typed a pad too.
        0 turns the joining off.
    """

    min_area_m2: float = 800.0
    split_days: int = 60
    stage_max_days: int = 130
    surfaces: SurfaceRules = DEFAULT_RULES
    facility: FacilityRules = DEFAULT_FACILITY_RULES


def _with_mask(obj: ChangeObject, labels: np.ndarray) -> ChangeObject:
    rows, cols = np.nonzero(labels == obj.label)
    if not rows.size:
        return obj
    r0, r1, c0, c1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    return dataclasses.replace(obj, box=(r0, r1, c0, c1), mask=labels[r0:r1, c0:c1] == obj.label)


def describe(
    history: xr.Dataset,
    stack: xr.DataArray,
    clear: np.ndarray,
    *,
    params: ObjectParams | None = None,
) -> list[ChangeObject]:
    """Group, type, date and measure the changed objects of a per-pixel history.

    Parameters
    ----------
    history : xarray.Dataset
        From :func:`sitewatch.core.history.detect_breaks`, in memory.
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, co-registered, in memory, with its grid
        (``stack.odc.geobox``, a metric CRS).
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    params : ObjectParams, optional

    Returns
    -------
    list of ChangeObject
        In the order they were found (the caller sorts them). Objects folded into an
        evacuation are listed in its ``absorbed``, not on their own.
    """
    p = params or ObjectParams()
    gbox = stack.odc.geobox
    res_m = abs(float(gbox.resolution.x))
    min_px = max(4, math.ceil(p.min_area_m2 / res_m**2 * 0.7))
    hist = History.of(history)
    context = site_context(stack, clear, hist.break_index, rules=p.surfaces)
    times = stack.coords["time"].values
    labels = _grouped(hist, context, times, p, min_px)
    # the changed pixels that became built (by the surface rules on their last clear dates)
    # where the site was not built before (the mixed edge of a runway stays built)
    became_built = (
        hist.changed
        & ~context.built_before
        & built_like({b: hist.spectra["after_late"][i] for i, b in enumerate(hist.bands)}, p.surfaces)
    )
    stage = _Stage(hist, context, stack, clear, p, min_px)
    corridor = runway_corridor(
        context.runways,
        tuple(hist.bands),
        hist.spectra["before"],
        hist.spectra["after_late"],
        res_m=res_m,
        grounds=tuple(context.surfaces[k] for k in ("ground", "soil") if k in context.surfaces),
    )
    objects = []
    queue = candidates(labels, hist, clear, gbox, min_px=min_px, min_area_m2=p.min_area_m2)
    split: set[int] = set()
    on_axis: set[int] = set()  # split off a runway's axis, or the rest of such a split
    while queue:
        cand = queue.pop(0)
        obj, built_after = describe_one(cand, hist, context, labels, stack, clear, p.surfaces)
        # a change that fits no type on a field whose own trajectory shows a crop's season
        # (green-up and harvest, or green again after) is the season, not a lasting change
        # (any type: a pad, a runway or levelled ground never greens again like a crop; only
        # the season's "green again" clause is read for them, the ground after being built)
        seasonal = obj.change_type not in ("evacuation", "vegetation_loss") and crop_season(
            stack,
            clear,
            cand.mask,
            obj.first_index,
            after_built=obj.change_type != "other" or built_after,
            typed=obj.change_type != "other",
        )
        parts = None
        if obj.change_type == "other" and cand.label not in split:
            # a clearing beside works of about the same time, or works and the field beside
            # them (a season's too: a pad laid in a field it is one object with): each part is
            # described on its own (a season's losses go whole with it)
            if not seasonal:
                parts = split_off(cand.mask, cand.changed, hist.vegetation_loss, min_px)
            if parts is None:
                parts = split_off(
                    cand.mask, cand.changed, became_built & ~hist.vegetation_loss, min_px, solid=True
                )
        if parts is not None:
            # kept only when it explains: a part gets a type (two untyped halves of a field
            # are one stray alert made two)
            done = _split(cand, parts, labels, _is_typed, stage=stage)
            if done is not None:
                split.update((cand.label, done[1]))
                queue[:0] = done[0]
                continue
        if cand.label not in on_axis and obj.change_type in ON_AXIS_SPLIT and corridor.any():
            # an extension laid beside a field ploughed or harvested at about the same time is
            # one object with it, whose outline is neither the strip's length nor its axis: the
            # part on a runway's axis beyond its end is described on its own, and kept when it
            # is then typed an extension
            rw_parts = split_off(cand.mask, cand.changed, corridor, min_px, solid=True)
            done = None
            if rw_parts is not None:
                done = _split(cand, rw_parts, labels, _is_extension, stage=stage, own=True)
            if done is not None:
                on_axis.update((cand.label, done[1]))
                queue[:0] = done[0]
                continue
        if seasonal:
            rest = None if cand.label in split else _beside_the_season(cand, obj, stack, clear, min_px)
            labels[labels == cand.label] = 0
            if rest is not None:
                # the field goes; what never greened after the change is described on its own
                labels[rest] = cand.label
                split.add(cand.label)
                only = np.where(rest, labels, 0)
                queue[:0] = candidates(only, hist, clear, gbox, min_px=min_px, min_area_m2=p.min_area_m2)
            continue
        objects.append(obj)
    if p.stage_max_days > 0:
        objects = _join_stages(objects, labels, stage)
    objects += facility_evacuations(
        objects, labels, stack, clear, context, rules=p.facility, min_area_m2=p.min_area_m2
    )
    objects = absorb_into_evacuations(objects, labels, times.astype("datetime64[D]"), p.split_days, gbox=gbox)
    return [_with_mask(o, labels) for o in objects]


def _grouped(
    hist: History, context: SiteContext, times: np.ndarray, p: ObjectParams, min_px: int
) -> np.ndarray:
    """The changed pixels grouped into labelled objects (:func:`~sitewatch.objects.group.group_changes`)."""
    day0 = times[0].astype("datetime64[D]")
    days = np.where(
        hist.changed,
        (times[np.maximum(hist.break_index, 0)].astype("datetime64[D]") - day0).astype(int),
        -1,
    )
    out: np.ndarray = group_changes(
        hist.changed, days, context.early.built, min_pixels=min_px, split_days=p.split_days
    )
    return out


#: The types whose object may hide a runway extension merged with the field beside it (an
#: evacuation or a vegetation loss is described whole).
ON_AXIS_SPLIT = ("other", "new_pad", "earthworks")


@dataclass(frozen=True)
class _Stage:
    """What describing a candidate reads, beside the candidate and the labels."""

    hist: History
    context: SiteContext
    stack: xr.DataArray
    clear: np.ndarray
    params: ObjectParams
    min_px: int


def _is_typed(obj: ChangeObject) -> bool:
    return obj.change_type != "other"


def _is_extension(obj: ChangeObject) -> bool:
    return obj.change_type == "runway_change" and obj.detail == "extension"


def _split(
    cand: Candidate,
    parts: tuple[np.ndarray, np.ndarray],
    labels: np.ndarray,
    explains: Callable[[ChangeObject], bool],
    *,
    stage: _Stage,
    own: bool = False,
) -> tuple[list[Candidate], int] | None:
    """The object split into ``parts`` (relabelled in ``labels``) when a piece then ``explains``.

    ``explains`` is asked of the split-off part as described (``own``) or of any piece.
    Returns the pieces and the new label of the rest; or None, with ``labels`` as it was
    (describing a piece may grow its label in place).
    """
    s = stage
    saved = labels.copy()
    new = int(labels.max()) + 1
    labels[parts[1]] = new
    only = np.where(cand.mask, labels, 0)
    pieces = candidates(
        only, s.hist, s.clear, s.stack.odc.geobox, min_px=s.min_px, min_area_m2=s.params.min_area_m2
    )
    judged = [c for c in pieces if c.label == cand.label] if own else pieces
    if any(
        explains(describe_one(c, s.hist, s.context, labels, s.stack, s.clear, s.params.surfaces)[0])
        for c in judged
    ):
        return pieces, new
    labels[:] = saved
    return None


def _join_stages(objects: list[ChangeObject], labels: np.ndarray, stage: _Stage) -> list[ChangeObject]:
    """Pads that are sections of one pad laid months apart, joined when their union is one pad.

    Nearest in time first, a pad joined from sections again with the next (its gap to it
    counted from its nearest section); a pair whose union is not one pad stays two (and
    ``labels`` as it was).
    """
    days = stage.stack.coords["time"].values.astype("datetime64[D]").astype(np.int64)
    # per label: the days its first and last sections were seen, and how many it has
    spans = {o.label: (int(days[o.first_index]),) * 2 + (1,) for o in objects if o.change_type == "new_pad"}
    tried: set[tuple[int, int, int, int]] = set()
    while True:
        pads = [o for o in objects if o.change_type == "new_pad"]
        sections = [Section(o.label, spans[o.label][0], spans[o.label][1], o.after) for o in pads]
        found = staged_pairs(
            sections,
            labels,
            max_days=stage.params.stage_max_days,
            tolerance=stage.params.surfaces.same_material,
        )
        # a pair is tried again once either pad has grown by another join
        keys = [(pads[i].label, pads[j].label, pads[i].n_pixels, pads[j].n_pixels) for i, j in found]
        todo = [(pads[i], pads[j], k) for (i, j), k in zip(found, keys, strict=True) if k not in tried]
        if not todo:
            return objects
        a, b, key = todo[0]
        tried.add(key)
        span = (min(spans[a.label][0], spans[b.label][0]), max(spans[a.label][1], spans[b.label][1]))
        n_sections = spans[a.label][2] + spans[b.label][2]
        joined = _joined(a, b, labels, stage, f"laid in {n_sections} sections over {span[1] - span[0]} days")
        if joined is not None:
            spans[a.label] = (*span, n_sections)
            objects = [joined if o is a else o for o in objects if o is not b]


#: Least area of two sections' union, as a share of its outline's: below, describing it as one
#: lost a section (a section read as another's levelling, or its ground as it was after the first).
JOIN_MIN_AREA_SHARE = 0.8


def _joined(
    a: ChangeObject, b: ChangeObject, labels: np.ndarray, stage: _Stage, laid: str
) -> ChangeObject | None:
    """The union of two sections described as one object from the first; None unless one pad."""
    s = stage
    saved = labels.copy()
    labels[labels == b.label] = a.label
    only = np.where(labels == a.label, labels, 0)
    cands = candidates(
        only, s.hist, s.clear, s.stack.odc.geobox, min_px=s.min_px, min_area_m2=s.params.min_area_m2
    )
    obj = None
    if len(cands) == 1:
        # described from its first section's first change on (the union's own 30 % date may
        # be the second section's: the first would then be read as the ground before it)
        start = min(
            x.earthworks_first_index if x.earthworks_first_index is not None else x.first_index
            for x in (a, b)
        )
        cand = dataclasses.replace(cands[0], k_obj=min(cands[0].k_obj, start))
        obj, _ = describe_one(cand, s.hist, s.context, labels, s.stack, s.clear, s.params.surfaces)
    if (
        obj is None
        or obj.change_type != "new_pad"
        # against its own outline: describing it as one lost a section (read as the ground
        # before, or as another's levelling)
        or obj.area_m2 < JOIN_MIN_AREA_SHARE * cands[0].measures["area_m2"]
        # one section laid on ground as it was: the other's levelling is not the union's
        or (obj.after_earthworks and not (a.after_earthworks and b.after_earthworks))
    ):
        labels[:] = saved
        return None
    # dated by its first section's surface; levelled first when a section was, before that
    first = min(a.first_index, b.first_index)
    levelled = [
        x.earthworks_first_index
        for x in (a, b, obj)
        if x.earthworks_first_index is not None and x.earthworks_first_index < first
    ]
    lu, ev_t = evidence_dates(cands[0].obj_clear, first)
    onsets = [i for i in (a.onset_index, b.onset_index, obj.onset_index) if i is not None]
    ends = [i for i in (a.completed_index, b.completed_index, obj.completed_index) if i is not None]
    after_ew = bool(levelled)
    return dataclasses.replace(
        obj,
        first_index=first,
        last_unchanged_index=lu,
        evidence_indices=ev_t,
        earthworks_first_index=min(levelled) if levelled else None,
        after_earthworks=after_ew,
        detail="after earthworks" if after_ew else None,
        onset_index=min([*onsets, first]),
        completed_index=max(ends) if ends else None,
        reasons=(*obj.reasons, f"{laid}: one pad"),
    )


#: A season's object is split when the pixels that never greened after its change are at
#: least this share of it (and enough for an object): works laid beside a field at its harvest.
SPLIT_MIN_SHARE = 0.2


def _beside_the_season(
    cand: Candidate, obj: ChangeObject, stack: xr.DataArray, clear: np.ndarray, min_px: int
) -> np.ndarray | None:
    """The changed pixels of a seasonal object that never greened after its change, or None.

    Only for an object without a type (a typed one's season is read from "green again" only,
    and kept whole). Made for a season seen after the change: a field grown and cut beside a
    pad laid at the same time, one object whose median is the field's. Whatever clause found
    the season, the split is by greenness after the change; a field harvested before its
    change stays in the rest, which is described once more by the same tests (not split again).
    """
    if obj.change_type != "other":
        return None
    greened = green_after(stack, clear, cand.mask, obj.first_index)
    rest = cand.changed & ~greened
    if not greened.any() or rest.sum() < max(min_px, SPLIT_MIN_SHARE * cand.mask.sum()):
        return None
    return rest
