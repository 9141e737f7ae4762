"""One candidate object described: the facts gathered about it, its type, dates and size.

:func:`candidates` cuts a label raster into :class:`Candidate` objects (the labelled groups
big enough to describe); :func:`describe_one` gathers the facts about one (spectra before
and after, shape, the runway and facility around it, when its surface was laid), has
:func:`~sitewatch.objects.classify.classify_object` type it, dates it and measures it
(sub-pixel size, :mod:`~sitewatch.objects.unmix`; structures lost,
:mod:`~sitewatch.objects.evacuation`). :class:`History` holds the per-pixel history's
layers it reads. :func:`~sitewatch.objects.describe.describe` runs it on every candidate,
splits and joins them. Pure: arrays in, frozen :class:`ChangeObject` out.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import xarray as xr
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from sitewatch.core.morphology import vectorize
from sitewatch.core.surfaces import SurfaceRules, built_like, concrete_like, earth_like
from sitewatch.objects.change_object import ChangeObject
from sitewatch.objects.classify import (
    Classification,
    ObjectFacts,
    classify_object,
    classify_vegetation_loss,
    is_asphalt_like,
    is_built_like,
    relative_surface,
)
from sitewatch.objects.context import SiteContext
from sitewatch.objects.continuation import runway_in_line, runway_relation
from sitewatch.objects.dating import evidence_dates, step_date, surface_dates, surface_onset
from sitewatch.objects.evacuation import (
    facility_share,
    structure_loss,
)
from sitewatch.objects.measure import measure_geometry
from sitewatch.objects.unmix import unmixed_size

__all__ = ["Candidate", "History", "candidates", "describe_one"]


@dataclass(frozen=True)
class History:
    """The per-pixel history's layers the object stage reads, in memory."""

    changed: np.ndarray
    break_index: np.ndarray
    completed_index: np.ndarray  # the change complete (the break itself when abrupt)
    vegetation_loss: np.ndarray  # a lasting loss of vegetation
    season_missed: np.ndarray  # of those, a season missed, the ground after judged not built
    second: np.ndarray
    magnitude: np.ndarray
    persistence: np.ndarray
    n_before: np.ndarray
    n_after: np.ndarray
    spectra: Mapping[str, np.ndarray]  # before, after_early, after_late: (B, Y, X)
    visible: np.ndarray  # (3,) indices of B02, B03, B04 in the bands
    bands: tuple[str, ...]

    @classmethod
    def of(cls, history: xr.Dataset) -> History:
        """The layers of a per-pixel history (:func:`~sitewatch.core.history.detect_breaks`)."""
        bands = tuple(str(b) for b in history.coords["band"].values)
        return cls(
            changed=history["changed"].values,
            break_index=history["break_index"].values,
            completed_index=(
                history["completed_index"].values
                if "completed_index" in history
                else history["break_index"].values
            ),
            vegetation_loss=(
                history["vegetation_loss"].values
                if "vegetation_loss" in history
                else np.zeros(history["changed"].shape, bool)
            ),
            season_missed=(
                history["season_missed"].values
                if "season_missed" in history
                else np.zeros(history["changed"].shape, bool)
            ),
            second=history["second_detected"].values,
            magnitude=history["magnitude"].values,
            persistence=history["persistence"].values,
            n_before=history["n_clear_before"].values,
            n_after=history["n_clear_after"].values,
            spectra={v: history[v].values for v in ("before", "after_early", "after_late")},
            visible=np.array([bands.index(b) for b in ("B02", "B03", "B04")]),
            bands=bands,
        )

    def mean_spectrum(self, var: str, sel: np.ndarray) -> dict[str, float]:
        """Per band, the mean of spectrum ``var`` over the pixels ``sel`` (NaN where none)."""
        v = self.spectra[var][:, sel]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return {b: float(np.nanmean(v[i])) for i, b in enumerate(self.bands)}

    def texture(self, var: str, sel: np.ndarray) -> float | None:
        """The spread of the visible brightness of ``var`` over ``sel``; None under four pixels."""
        v = self.spectra[var][self.visible][:, sel].mean(axis=0)
        v = v[np.isfinite(v)]
        return float(np.std(v)) if v.size >= 4 else None


def _material_pixels(hist: History, pix_changed: np.ndarray) -> np.ndarray:
    """Where an object's material is read: its interior (edge pixels mix it with the ground around).

    A 60 m strip is half edge pixels at 10 m: when the interior is too small, the half of
    its pixels that changed most, the purest ones.
    """
    n_changed = int(pix_changed.sum())
    interior = ndimage.binary_erosion(pix_changed)
    spec_px: np.ndarray = interior
    if interior.sum() < max(4, 0.2 * n_changed):
        spec_px = pix_changed & (hist.magnitude >= np.nanmedian(hist.magnitude[pix_changed]))
        if spec_px.sum() < 4:
            spec_px = pix_changed
    return spec_px


def _facility_of(context: SiteContext, m: np.ndarray, res_m: float) -> tuple[int, float, float | None]:
    """The facility the object mostly lies in, the share of it in built-up area, and the facility's area."""
    fac_ids = context.facilities[m & (context.facilities > 0)]
    overlap = float((m & context.early.built).sum() / m.sum())
    main, area = 0, None
    if fac_ids.size:
        main = int(np.bincount(fac_ids).argmax())
        area = float((context.facilities == main).sum() * res_m**2) if main else None
    return main, overlap, area


@dataclass(frozen=True)
class Candidate:
    """One labelled group of changed pixels, with what the facts and the dating need."""

    label: int
    mask: np.ndarray
    changed: np.ndarray
    geometry: BaseGeometry
    measures: Mapping[str, float]
    breaks: np.ndarray  # date index of each changed pixel's break
    k_obj: int  # when 30 % of its changed pixels had shown the change
    spec_px: np.ndarray
    obj_clear: np.ndarray  # (T,) its clear share per date


def _facts(
    cand: Candidate,
    hist: History,
    context: SiteContext,
    stack: xr.DataArray,
    clear: np.ndarray,
    rules: SurfaceRules,
) -> tuple[ObjectFacts, int, int | None]:
    """What the rules read about one object, its facility, and when its surface was laid (or None)."""
    res_m = abs(float(stack.odc.geobox.resolution.x))
    times = stack.coords["time"].values
    k = cand.breaks
    spread = float(
        (times[int(np.quantile(k, 0.9, method="lower"))] - times[int(np.quantile(k, 0.1, method="lower"))])
        / np.timedelta64(1, "D")
    )
    has_second = bool(np.mean(~np.isnat(hist.second[cand.changed])) >= 0.5)
    before = hist.mean_spectrum("before", cand.spec_px)
    early = hist.mean_spectrum("after_early", cand.spec_px)
    late = hist.mean_spectrum("after_late", cand.spec_px)
    meas = cand.measures
    rw_adj, rw_overlap, rw_len = runway_relation(context.runways, cand.mask, cand.geometry, meas, res_m)
    rw_adj = rw_adj and rw_overlap < 0.5 and (is_asphalt_like(late) or not is_built_like(before))
    surfaces = context.surfaces
    if not rw_adj and rw_overlap < 0.5 and bool(built_like(late, rules)):
        # the site's runways are found by an absolute pavement prior that aged concrete and
        # dusty asphalt can miss: read the surface in line beyond the object's ends instead;
        # the relative typing then judges the object against that runway's own material
        cont = runway_in_line(
            context.early, cand.changed, before, res_m, context.surfaces.get("ground"), rules=rules
        )
        if cont is not None:
            rw_adj = True  # its full length is not known (the AOI may cut it): not reported
            surfaces = {**context.surfaces, "runway": cont.spectrum}
    probed = surfaces is not context.surfaces
    fac_main, fac_overlap, fac_area = _facility_of(context, cand.mask, res_m)
    # levelling seen first, the surface laid later: the object turns concrete-like (its
    # interior, on clear dates) after an earth-like date. Not when its first new state is
    # concrete already: that was the surface, and a pad whose spectrum sits near the
    # concrete/earth boundary crosses it from date to date without a second stage. Read only
    # where it can matter.
    pad_t = None
    if (
        bool(concrete_like(late, rules))
        and not bool(concrete_like(early, rules))
        and not (has_second and bool(earth_like(early, rules)))
    ):
        onset = surface_onset(stack, clear, cand.spec_px, cand.k_obj, rules=rules)
        pad_t = onset if onset is not None and onset > cand.k_obj else None
    facts = ObjectFacts(
        area_m2=meas["area_m2"],
        length_m=meas["length_m"],
        width_m=meas["width_m"],
        orientation_deg=meas["orientation_deg"],
        rectangularity=meas["rectangularity"],
        before=before,
        after_early=early,
        after_late=late,
        date_spread_days=spread,
        has_second_change=has_second,
        runway_adjacent=rw_adj,
        runway_overlap=rw_overlap,
        runway_length_m=rw_len,
        facility_overlap=fac_overlap,
        facility_area_m2=fac_area,
        texture_before=hist.texture("before", cand.changed),
        texture_after=hist.texture("after_late", cand.changed),
        surface_after_levelling=pad_t is not None,
        site_surfaces=surfaces,
        spectra_mixed=not bool(ndimage.binary_erosion(cand.changed)[cand.spec_px].any()),
        structure_share_before=float(context.early.roofs[cand.changed].mean()),
    )
    if probed and not _became_like_runway(facts, rules):
        facts = dataclasses.replace(facts, runway_adjacent=False, site_surfaces=context.surfaces)
    return facts, fac_main, pad_t


def _became_like_runway(facts: ObjectFacts, rules: SurfaceRules) -> bool:
    """The object became like the runway read in line, more clearly than like any unpaved surface of the site.

    A runway found only by reading the surface in line needs the object's own material to
    say "runway": the runway's fit must beat the site's ground and built-up area by the
    relative margin (a ploughed field beyond a dark runway's end fits its built-up area as well).
    """
    rel = relative_surface(facts, rules)
    rw = [f for f in rel.fits if f.name == "runway"]
    unpaved = [f for f in rel.fits if f.name in ("ground", "soil", "built")]
    return (
        rel.like_runway
        and bool(rw)
        and all(rw[0].residual + rules.relative_margin <= f.residual for f in unpaved)
    )


def _first_index(
    cand: Candidate,
    cls: Classification,
    hist: History,
    stack: xr.DataArray,
    clear: np.ndarray,
    surface_t: int | None,
    rules: SurfaceRules,
) -> tuple[int, int | None]:
    """The date an object is first seen, and (a pad laid on earthworks) when the levelling was."""
    times = stack.coords["time"].values
    k = cand.breaks
    if cls.change_type == "evacuation":
        # removals spread over weeks: the evacuation starts with the first ones seen
        return int(np.quantile(k, 0.05, method="lower")), None
    if cls.change_type != "new_pad" or not cls.extra.get("after_earthworks"):
        return cand.k_obj, None
    if cls.extra.get("levelled_seen_as") == "second change":
        sec = hist.second[cand.changed]
        sec_days = sec[~np.isnat(sec)]
        if not sec_days.size:
            return cand.k_obj, None
        sec_date = np.sort(sec_days)[int(0.3 * (sec_days.size - 1))]
        sec_t = int(np.searchsorted(times, sec_date))
        # per pixel, the second break is where each crosses its own threshold; the object's
        # own step between its levelling and that date is when the surface was laid
        return step_date(stack, clear, cand.spec_px, cand.k_obj, sec_t, rules=rules), cand.k_obj
    # levelling seen first, the surface laid later: date the pad by its surface
    assert surface_t is not None
    return surface_t, cand.k_obj


def candidates(
    labels: np.ndarray, hist: History, clear: np.ndarray, gbox: Any, *, min_px: int, min_area_m2: float
) -> list[Candidate]:
    """The labelled groups big enough to describe, in the order they are vectorised."""
    out = []
    for lab, geom in vectorize(labels.astype(np.int32), gbox, simplify_px=0.5):
        m = labels == lab
        pix_changed = m & hist.changed
        if int(pix_changed.sum()) < min_px:
            continue
        meas = measure_geometry(geom)
        if meas["area_m2"] < min_area_m2:
            continue
        k = hist.break_index[pix_changed]
        # an object mostly of another change (a pad laid on a field after its harvest) is dated
        # by its own pixels, not by the last green date of the vegetation it replaced
        loss = hist.vegetation_loss[pix_changed]
        k_own = k[~loss] if 0 < loss.sum() < 0.5 * loss.size else k
        out.append(
            Candidate(
                label=lab,
                mask=m,
                changed=pix_changed,
                geometry=geom,
                measures=meas,
                breaks=k,
                k_obj=int(np.quantile(k_own, 0.3, method="lower")),
                spec_px=_material_pixels(hist, pix_changed),
                obj_clear=clear[:, m].mean(axis=1),
            )
        )
    return out


def _sized(
    cand: Candidate,
    cls: Classification,
    first_t: int,
    earthworks_t: int | None,
    completed_t: int,
    labels: np.ndarray,
    stack: xr.DataArray,
    clear: np.ndarray,
) -> tuple[dict[str, Any], BaseGeometry]:
    """The object's final size (sub-pixel where it can be unmixed) and outline; ``labels`` grows in place."""
    meas: dict[str, Any] = {
        k: cand.measures[k] for k in ("area_m2", "length_m", "width_m", "orientation_deg")
    }
    geom = cand.geometry
    extra = cls.extra
    if "added_length_m" in extra:
        meas["added_length_m"] = extra["added_length_m"]
        meas["runway_length_before_m"] = extra.get("runway_length_before_m")
        meas["runway_length_after_m"] = extra.get("runway_length_after_m")
    gbox = stack.odc.geobox
    # after earthworks, "before" is the levelled ground, not the field under it
    um = unmixed_size(
        stack, clear, cand.mask, first_t, gbox, before_from=earthworks_t or 0, after_from=completed_t
    )
    if um is None:
        return meas, geom
    meas.update(
        area_m2=um.area_m2, length_m=um.length_m, width_m=um.width_m, orientation_deg=um.orientation_deg
    )
    if um.grown_px:
        # the outline covers what was measured: pixels of the after-state footprint that
        # belong to no other object join this one
        add = um.footprint & (labels == 0)
        if add.any():
            labels[add] = cand.label
            m = labels == cand.label
            geom = shapely.union_all([g for _, g in vectorize(m.astype(np.int32), gbox, simplify_px=0.5)])
        meas["grown_from_after_state_px"] = um.grown_px
    if "added_length_m" in extra:
        meas["added_length_m"] = round(um.length_m, 1)
        if extra.get("runway_length_before_m"):
            meas["runway_length_after_m"] = round(extra["runway_length_before_m"] + um.length_m, 1)
    return meas, geom


def describe_one(
    cand: Candidate,
    hist: History,
    context: SiteContext,
    labels: np.ndarray,
    stack: xr.DataArray,
    clear: np.ndarray,
    rules: SurfaceRules,
) -> tuple[ChangeObject, bool]:
    """The candidate described, and whether its ground after is built.

    Built: by the surface rules, and not, unmixed against the site's surfaces, its own soil
    (dark soil passes the absolute asphalt test; a field harvested on it is still a field).
    Judged once here, for the vegetation-loss rule and for the crop-season check.
    """
    facts, fac_main, surface_t = _facts(cand, hist, context, stack, clear, rules)
    built_after = bool(built_like(facts.after_late, rules)) and (
        relative_surface(facts, rules).verdict != "ground"
    )
    loss_share = float(hist.vegetation_loss[cand.changed].mean())
    # at least half of its loss found by the season test, which judged each pixel's ground
    season_judged = float(hist.season_missed[cand.changed].mean()) >= 0.5 * loss_share
    cls = classify_vegetation_loss(
        facts, loss_share, ground_judged=season_judged or not built_after
    ) or classify_object(facts)
    first_t, earthworks_t = _first_index(cand, cls, hist, stack, clear, surface_t, rules)
    pix = cand.changed
    completed_t = max(first_t, int(np.quantile(hist.completed_index[pix], 0.9, method="lower")))
    if earthworks_t is not None:
        # levelled as a whole, surfaced in sections: complete when (nine tenths of) it was laid
        laid = surface_dates(stack, clear, cand.spec_px, earthworks_t, stack.sizes["time"] - 1, rules=rules)
        if (laid >= 0).any():
            completed_t = max(completed_t, int(np.quantile(laid[laid >= 0], 0.9, method="lower")))
    typed: dict[str, Any] = {}
    if cls.change_type == "evacuation":
        loss = structure_loss(
            stack,
            clear,
            context=context,
            facility=fac_main,
            mask=cand.mask,
            changed=cand.changed,
            geometry=cand.geometry,
            break_index=cand.breaks,
        )
        fraction = loss.fraction_affected
        if fraction is None:
            fraction = facility_share(facts.area_m2, facts.facility_area_m2)
        typed = {
            **dataclasses.asdict(loss),
            "fraction_affected": fraction,
            "facility_area_m2": cls.extra.get("facility_area_m2"),
        }
        meas: dict[str, Any] = {
            k: cand.measures[k] for k in ("area_m2", "length_m", "width_m", "orientation_deg")
        }
        geom = cand.geometry
    else:
        meas, geom = _sized(cand, cls, first_t, earthworks_t, completed_t, labels, stack, clear)
    if cls.change_type == "new_pad":
        typed["after_earthworks"] = bool(cls.extra.get("after_earthworks"))
    lu, ev_t = evidence_dates(cand.obj_clear, first_t)
    obj = ChangeObject(
        label=cand.label,
        box=(0, 0, 0, 0),
        mask=np.zeros((0, 0), bool),
        geometry=geom,
        change_type=cls.change_type,
        detail=cls.detail,
        reasons=cls.reasons,
        first_index=first_t,
        last_unchanged_index=lu,
        evidence_indices=ev_t,
        removals=(int(cand.breaks.min()), int(cand.breaks.max())),
        rectangularity=cand.measures["rectangularity"],
        n_pixels=int(pix.sum()),
        date_spread_days=facts.date_spread_days,
        before=facts.before,
        after=facts.after_late,
        n_clear_before=float(np.median(hist.n_before[pix])),
        n_clear_after=float(np.median(hist.n_after[pix])),
        persistence=float(np.nanmean(hist.persistence[pix])),
        magnitude=float(np.nanmean(hist.magnitude[pix])),
        facility_overlap=facts.facility_overlap,
        runway_overlap=facts.runway_overlap,
        runway_adjacent=facts.runway_adjacent,
        facility=fac_main if facts.facility_overlap >= 0.5 else 0,
        earthworks_first_index=earthworks_t,
        onset_index=int(np.quantile(cand.breaks, 0.1, method="lower")),
        completed_index=completed_t,
        **meas,
        **typed,
    )
    return obj, built_after
