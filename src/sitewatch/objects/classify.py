"""Typing changed objects with explainable rules: new pad, runway change, evacuation, earthworks, other.

Each rule reads a few plain facts about an object (its spectra before and after, its
shape, where it sits relative to the runway and the built-up area that were there before)
and says why it fired, so an analyst can check every alert by eye.

The surface tests work on reflectance 0..1 spectra keyed by band name (``B02``, ``B04``,
``B08``, ``B11``...):

- *concrete-like*: bright, flat visible spectrum, SWIR not above NIR (concrete, fresh
  cement, pale gravel);
- *asphalt-like*: dark and flat across the visible, NIR and SWIR (asphalt, bitumen);
- *earth-like*: bright bare ground whose SWIR rises above NIR (levelled, exposed subsoil);
- *built-like*: any of those or bright roofs, without vegetation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sitewatch.core.surfaces import (
    DEFAULT_RULES,
    SurfaceRules,
    asphalt_like,
    built_like,
    concrete_like,
    earth_like,
    surface_indices,
)
from sitewatch.objects.unmix import EndmemberFit, fit_endmembers

__all__ = [
    "CHANGE_TYPES",
    "ChangeType",
    "Classification",
    "ObjectFacts",
    "RelativeSurface",
    "classify_object",
    "is_asphalt_like",
    "is_built_like",
    "is_concrete_like",
    "is_earth_like",
    "relative_surface",
    "spectral_indices",
]

ChangeType = Literal["new_pad", "runway_change", "evacuation", "earthworks", "vegetation_loss", "other"]
CHANGE_TYPES: tuple[str, ...] = (
    "new_pad",
    "runway_change",
    "evacuation",
    "earthworks",
    "vegetation_loss",
    "other",
)

Spectrum = Mapping[str, float]


def _g(s: Spectrum, band: str) -> float:
    v = s.get(band, math.nan)
    return float(v) if v is not None else math.nan


def spectral_indices(s: Spectrum) -> dict[str, float]:
    """NDVI, NDBI, BSI and visible brightness of a spectrum (reflectance 0..1), as floats.

    Parameters
    ----------
    s : mapping of band name to reflectance

    Returns
    -------
    dict
        ``ndvi``, ``ndbi``, ``bsi``, ``brightness``, ``swir_nir`` (B11/B08), ``red_blue`` (B04/B02);
        see :func:`sitewatch.core.surfaces.surface_indices`.

    Examples
    --------
    >>> s = {"B02": .1, "B03": .15, "B04": .2, "B08": .3, "B11": .35, "B12": .3}
    >>> round(spectral_indices(s)["ndvi"], 2)
    0.2
    """
    return {k: float(v) for k, v in surface_indices(s).items()}


def is_concrete_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> bool:
    """Bright, flat, not vegetated, SWIR no higher than NIR (concrete, cement, pale gravel)."""
    return bool(concrete_like(s, rules))


def is_asphalt_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> bool:
    """Dark and flat from visible to SWIR (asphalt, bitumen)."""
    return bool(asphalt_like(s, rules))


def is_earth_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> bool:
    """Bright bare ground with SWIR above NIR: levelled, exposed subsoil or fill."""
    return bool(earth_like(s, rules))


def is_built_like(s: Spectrum, rules: SurfaceRules = DEFAULT_RULES) -> bool:
    """Concrete, asphalt, roofs or earthworks; never vegetation or natural soil."""
    return bool(built_like(s, rules))


@dataclass(frozen=True)
class ObjectFacts:
    """What the rules read about one changed object.

    Parameters
    ----------
    area_m2, length_m, width_m, orientation_deg, rectangularity : float
        From the minimum rotated rectangle (see :func:`sitewatch.objects.measure.measure_geometry`).
    before, after_early, after_late : mapping
        Mean spectra (reflectance 0..1) before the change, on the confirming dates, and at
        the end of the series.
    date_spread_days : float
        Days between the 10th and 90th percentile of the pixels' first-detected dates
        (a pad appears at once; an evacuation spreads over weeks).
    has_second_change : bool
        Most pixels changed a second time (earthworks, then concrete).
    runway_adjacent : bool
        The object touches the end of a runway that was there before and is aligned with it.
    runway_overlap : float
        Fraction of the object on that runway.
    runway_length_m : float or None
        Length of the existing runway it touches.
    facility_overlap : float
        Fraction of the object inside built-up area that was there before.
    facility_area_m2 : float or None
        Area of that built-up area.
    texture_before, texture_after : float or None
        Spatial standard deviation of visible brightness over the object before and after
        (structures, vehicles and equipment make a site "busy"; cleared ground is smooth).
    surface_after_levelling : bool
        The object's interior turned earth-like (levelled) on clear dates before it turned
        concrete-like (see :func:`sitewatch.objects.dating.surface_onset`).
    site_surfaces : mapping of name to spectrum
        The site's own surfaces before the change (``ground``, ``built``, ``runway``; see
        :func:`sitewatch.objects.context.site_surfaces`): endmembers of the relative typing.
    spectra_mixed : bool
        The spectra were read on mixed pixels (a strip with no pure interior), so the
        material may cover as little as :attr:`SurfaceRules.relative_min_cover` of them.
    structure_share_before : float or None
        Share of the object's pixels that held structures before the change (roof-, tent- or
        vehicle-like in the early composite, :attr:`~sitewatch.objects.context.EarlyContext.roofs`);
        None: not known.
    """

    area_m2: float
    length_m: float
    width_m: float
    orientation_deg: float
    rectangularity: float
    before: Spectrum
    after_early: Spectrum
    after_late: Spectrum
    date_spread_days: float = 0.0
    has_second_change: bool = False
    runway_adjacent: bool = False
    runway_overlap: float = 0.0
    runway_length_m: float | None = None
    facility_overlap: float = 0.0
    facility_area_m2: float | None = None
    texture_before: float | None = None
    texture_after: float | None = None
    surface_after_levelling: bool = False
    site_surfaces: Mapping[str, Spectrum] = field(default_factory=dict)
    spectra_mixed: bool = False
    structure_share_before: float | None = None


@dataclass(frozen=True)
class Classification:
    """The type given to an object and why.

    Attributes
    ----------
    change_type : ChangeType
        One of :data:`CHANGE_TYPES`.
    detail : str or None
        ``new``/``extension``/``resurfacing`` for runway changes; free words otherwise.
    reasons : tuple of str
        The facts that made the rule fire, in words.
    extra : mapping
        What the rule read that the object keeps: ``facility_area_m2`` (evacuation),
        ``added_length_m`` and the runway's length before and after (extension, from the
        object's outline; the object stage refines them by its sub-pixel size),
        ``after_earthworks`` and ``levelled_seen_as`` (``"second change"`` or
        ``"surface onset"``) for a new pad.
    """

    change_type: ChangeType
    detail: str | None
    reasons: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)


def _paved(s: Spectrum) -> bool:
    return is_asphalt_like(s) or is_concrete_like(s)


#: Least share of an object's pixels that held structures before for it to be an evacuation
#: (a few stray roof-like pixels on a yard or a field are noise, not a facility's structures).
EVACUATION_MIN_STRUCTURES = 0.05

#: Endmembers whose fit says "paved", and those that say "bare ground".
_PAVED_ENDMEMBERS = ("runway", "concrete", "asphalt")
_GROUND_ENDMEMBERS = ("ground", "soil")


@dataclass(frozen=True)
class RelativeSurface:
    """What an object became, judged against the site's own surfaces and prior endmembers.

    Attributes
    ----------
    verdict : str or None
        ``"paved"``, ``"ground"`` (bare ground like the site's own soil) or None (undecided:
        the absolute tests decide).
    like_runway : bool
        The best paved endmember is the site's runway (an extension becomes like it).
    best : EndmemberFit or None
    fits : tuple of EndmemberFit
        Every fit, best first.
    """

    verdict: str | None
    like_runway: bool
    best: EndmemberFit | None
    fits: tuple[EndmemberFit, ...] = ()

    def closest(self) -> tuple[str, ...]:
        """The best fit in words, decided or not (none without a fit)."""
        if self.best is None:
            return ()
        return (
            f"closest surface of the site: {self.best.name} "
            f"({self.best.cover:.0%}, misfit {self.best.residual:.3f}"
            + "".join(f"; {f.name} {f.residual:.3f}" for f in self.fits[1:3])
            + ")",
        )

    def reasons(self) -> tuple[str, ...]:
        """The decision in words (none when undecided)."""
        if self.verdict is None or self.best is None:
            return ()
        others = ", ".join(f"{f.name} {f.residual:.3f}" for f in self.fits[1:3])
        return (
            f"unmixed against the site's surfaces: {self.best.cover:.0%} {self.best.name} "
            f"(misfit {self.best.residual:.3f}; next {others})",
        )


def relative_surface(facts: ObjectFacts, rules: SurfaceRules = DEFAULT_RULES) -> RelativeSurface:
    """Judge what an object became against the site's own surfaces, by linear unmixing.

    The object's late spectrum is unmixed as ``a * endmember + b * before`` for each
    endmember (:func:`sitewatch.objects.unmix.fit_endmembers`): the site's runway, its bare
    ground and built-up area (:attr:`ObjectFacts.site_surfaces`), and the prior pavements of
    :class:`SurfaceRules`. The object is ``paved`` when a paved endmember fits best by at
    least ``relative_margin`` over the site's ground and covers enough of it (a strip read on
    mixed pixels at least ``relative_min_cover``, an object with a pure interior 0.7); it is
    ``ground`` when the site's own ground fits best by that margin; else undecided.

    Parameters
    ----------
    facts : ObjectFacts
    rules : SurfaceRules

    Returns
    -------
    RelativeSurface
    """
    ems: dict[str, Spectrum] = {
        k: v for k, v in facts.site_surfaces.items() if k in ("runway", "ground", "soil", "built")
    }
    bands = ("B02", "B03", "B04", "B08", "B11", "B12")
    ems["concrete"] = dict(zip(bands, rules.pavement_prior_concrete, strict=True))
    ems["asphalt"] = dict(zip(bands, rules.pavement_prior_asphalt, strict=True))
    late = {b: v for b, v in facts.after_late.items() if math.isfinite(v)}
    before = {b: v for b, v in facts.before.items() if math.isfinite(v)} or None
    min_cover = rules.relative_min_cover if facts.spectra_mixed else 0.7
    judged = _judge(tuple(fit_endmembers(late, before, ems)), "ground" in ems, min_cover, rules)
    beside = facts.site_surfaces.get("soil") or facts.site_surfaces.get("ground")
    if judged.verdict == "paved" or not facts.runway_adjacent or beside is None:
        return judged
    # a strip continuing a runway mixes its material, on its edge pixels, also with the bare
    # ground beside it after the change, which need not be what it replaced (a field
    # harvested next to the new end): read against both, it is the runway's continuation
    # when it then fits the runway's own material
    fits = tuple(fit_endmembers(late, before, ems, beside=beside, beside_for=_PAVED_ENDMEMBERS))
    with_beside = _judge(fits, "ground" in ems, rules.relative_min_cover, rules)
    return with_beside if with_beside.verdict == "paved" and with_beside.like_runway else judged


def _judge(
    fits: tuple[EndmemberFit, ...], has_ground: bool, min_cover: float, rules: SurfaceRules
) -> RelativeSurface:
    """The verdict of :func:`relative_surface` from its fits (best first)."""
    if not fits or not has_ground:
        return RelativeSurface(None, False, fits[0] if fits else None, fits)
    paved = [f for f in fits if f.name in _PAVED_ENDMEMBERS]
    # the site's ground before the change and over the whole series (ploughed, pale again)
    ground = [f for f in fits if f.name in _GROUND_ENDMEMBERS]
    best = fits[0]
    if best.residual > rules.relative_max_residual:
        return RelativeSurface(None, False, best, fits)
    fits_paved = bool(paved) and paved[0] is best and best.cover >= min_cover
    if fits_paved and ground and best.residual + rules.relative_margin <= ground[0].residual:
        # like the runway when its fit is as good as the best pavement's (the priors are
        # only shapes; the runway is the site's own)
        rw = [f for f in paved if f.name == "runway" and f.cover >= min_cover]
        like_rw = bool(rw) and rw[0].residual <= best.residual + rules.relative_margin
        return RelativeSurface("paved", like_rw, best, fits)
    if ground and ground[0] is best and paved and best.residual + rules.relative_margin <= paved[0].residual:
        return RelativeSurface("ground", False, best, fits)
    return RelativeSurface(None, False, best, fits)


def classify_object(
    facts: ObjectFacts,
    *,
    pad_area_m2: tuple[float, float] = (800.0, 100_000.0),
    pad_max_aspect: float = 4.0,
    pad_min_rectangularity: float = 0.6,
    runway_width_m: tuple[float, float] = (15.0, 80.0),
    runway_min_length_m: float = 400.0,
    runway_min_aspect: float = 8.0,
) -> Classification:
    """Type a changed object with explainable rules.

    Rules, in order:

    1. **evacuation**: at least half the object lies in built-up area that was there
       before, at least :data:`EVACUATION_MIN_STRUCTURES` of its pixels held structures
       (roofs, tents, vehicles; not levelled earth or a bare yard), the built-up signal drops
       (roofs, vehicles, equipment gone), and it does not become pavement (how much went is measured by
       :func:`sitewatch.objects.evacuation.structure_loss`, not typed).
    2. **runway_change**: a paved strip (asphalt or concrete after) that is elongated:
       ``extension`` when it continues an existing runway in line (``added_length_m`` =
       its length), ``resurfacing`` when it lies on one, ``new`` when it is long and
       narrow on its own (length >= 400 m, length >= 8 x width, width 15-80 m).
    3. **new_pad**: becomes concrete-like, compact (length <= 4 x width; any aspect when the
       site's surfaces say it became pavement, it is shorter than a runway and wider than a
       road), rectangular, from about 30 m x 30 m to 10 ha; ``after_earthworks`` when levelling came first
       (most pixels changed twice, earth-like on the confirming dates, or the surface
       was laid after a levelled date).
    4. **earthworks**: becomes bright bare ground (levelling, clearing, berms).
    5. **other**: anything else that changed for good (never dropped).

    Parameters
    ----------
    facts : ObjectFacts
    pad_area_m2 : tuple of float
        Smallest and largest pad area.
    pad_max_aspect : float
        Largest length/width of a pad.
    pad_min_rectangularity : float
        Smallest area / rectangle area of a pad.
    runway_width_m : tuple of float
        Width range of a runway.
    runway_min_length_m : float
        Shortest new runway.
    runway_min_aspect : float
        Smallest length/width of a new runway.

    Returns
    -------
    Classification

    Examples
    --------
    >>> concrete = {"B02": .24, "B03": .26, "B04": .28, "B08": .31, "B11": .33, "B12": .29}
    >>> soil = {"B02": .11, "B03": .15, "B04": .2, "B08": .26, "B11": .36, "B12": .3}
    >>> f = ObjectFacts(18000, 190, 95, 75, 0.95, soil, concrete, concrete)
    >>> classify_object(f).change_type
    'new_pad'
    """
    f = facts
    aspect = f.length_m / f.width_m if f.width_m > 0 else math.inf
    ib, ia = spectral_indices(f.before), spectral_indices(f.after_late)
    reasons: list[str] = []
    late, early = f.after_late, f.after_early
    rel = relative_surface(f)
    # the site's own surfaces decide where they can; the absolute tests are the prior
    paved_late = rel.verdict == "paved" or (rel.verdict is None and _paved(late))
    concrete_late = rel.verdict == "paved" or (rel.verdict is None and is_concrete_like(late))

    # 1. evacuation: structures removed. Built-up ground with (almost) no structure on it
    # before (levelled earth, a bright yard, pale stubble taken for built-up area) had
    # nothing to evacuate: what changed there is typed below (a pad on earthworks...)
    no_structures = (
        f.structure_share_before is not None and f.structure_share_before < EVACUATION_MIN_STRUCTURES
    )
    if f.facility_overlap >= 0.5 and not is_concrete_like(late) and not no_structures:
        smoother = (
            f.texture_before is not None
            and f.texture_after is not None
            and f.texture_after < 0.7 * f.texture_before
        )
        built_drop = is_built_like(f.before) and (
            not is_built_like(late) or abs(ia["brightness"] - ib["brightness"]) > 0.03 or smoother
        )
        if built_drop:
            reasons.append(
                f"{f.facility_overlap:.0%} of the object lies in a built-up area present before; "
                f"brightness {ib['brightness']:.3f} -> {ia['brightness']:.3f}, NDBI {ib['ndbi']:.2f} -> "
                f"{ia['ndbi']:.2f}: structures removed"
            )
            if f.texture_before is not None and f.texture_after is not None:
                reasons.append(f"texture (brightness spread) {f.texture_before:.3f} -> {f.texture_after:.3f}")
            if f.date_spread_days > 10:
                reasons.append(f"removals spread over {f.date_spread_days:.0f} days")
            return Classification(
                "evacuation",
                None,
                tuple(reasons),
                {"facility_area_m2": f.facility_area_m2},
            )

    # 2. runway change
    w_lo, w_hi = runway_width_m
    # the strip's mean width (area over length): one protruding mixed pixel widens the
    # bounding rectangle of a 200 m strip by 10 m or more, not the strip
    mean_width = min(f.width_m, f.area_m2 / max(f.length_m, 1.0))
    if paved_late and w_lo <= f.width_m and mean_width <= w_hi * 1.25:
        if f.runway_overlap >= 0.5:
            reasons.append(f"{f.runway_overlap:.0%} on the existing runway, surface changed: resurfaced")
            return Classification("runway_change", "resurfacing", (*reasons, *rel.reasons()), {})
        # a short extension measured on mixed edge pixels looks stubby: when it became like
        # the runway it continues in line, its shape need not say "strip" as loudly
        min_aspect = 1.5 if rel.like_runway else 2.5
        if f.runway_adjacent and aspect >= min_aspect and (rel.like_runway or rel.verdict is None):
            reasons.append(
                f"paved strip {f.length_m:.0f} m x {f.width_m:.0f} m continuing the existing runway in line"
            )
            ext: dict[str, Any] = {"added_length_m": round(f.length_m, 1)}
            if f.runway_length_m:
                ext["runway_length_before_m"] = round(f.runway_length_m, 1)
                ext["runway_length_after_m"] = round(f.runway_length_m + f.length_m, 1)
            return Classification("runway_change", "extension", (*reasons, *rel.reasons()), ext)
        if f.length_m >= runway_min_length_m and aspect >= runway_min_aspect and f.width_m <= w_hi:
            reasons.append(
                f"new paved strip {f.length_m:.0f} m x {f.width_m:.0f} m (length/width {aspect:.0f})"
            )
            return Classification("runway_change", "new", (*reasons, *rel.reasons()), {})

    # 3. new pad
    a_lo, a_hi = pad_area_m2
    # a small pad's pixel outline is ragged (a 4-pixel-wide pad loses a third of its
    # rectangle to the staircase): when the site's surfaces say it became pavement, the shape
    # only has to rule out odd shapes
    min_rect = pad_min_rectangularity * (0.75 if rel.verdict == "paved" else 1.0)
    # hard standing is also laid as strips (20-60 m wide, several times as long): a paved
    # rectangle too short for a runway that continues none is a pad whatever its aspect,
    # as long as it is wider than a road
    strip_pad = rel.verdict == "paved" and f.length_m < runway_min_length_m and f.width_m >= w_lo
    compact = (aspect <= pad_max_aspect or strip_pad) and f.rectangularity >= min_rect
    if concrete_late and a_lo <= f.area_m2 <= a_hi and compact:
        reasons.append(
            f"becomes concrete-like (brightness {ib['brightness']:.3f} -> {ia['brightness']:.3f}, "
            f"B04/B02 {ia['red_blue']:.2f}, B11/B08 {ia['swir_nir']:.2f}); "
            f"{f.length_m:.0f} m x {f.width_m:.0f} m, rectangularity {f.rectangularity:.2f}"
        )
        reasons.extend(rel.reasons())
        twice = bool(f.has_second_change and is_earth_like(early))
        after_ew = twice or f.surface_after_levelling
        extra: dict[str, Any] = {"after_earthworks": after_ew}
        if after_ew:
            reasons.append("levelled (bare bright earth) before the concrete")
            extra["levelled_seen_as"] = "second change" if twice else "surface onset"
        return Classification("new_pad", "after earthworks" if after_ew else None, tuple(reasons), extra)

    # 4. earthworks
    if is_earth_like(late) or (is_earth_like(early) and not is_built_like(f.before)):
        reasons.append(
            f"becomes bright bare ground (B02 {_g(late, 'B02'):.3f}, B11/B08 {ia['swir_nir']:.2f}, "
            f"NDVI {ia['ndvi']:.2f}): levelling or clearing"
        )
        reasons.extend(rel.closest())
        return Classification("earthworks", None, tuple(reasons), {})

    reasons.append(
        f"lasting change that fits no rule: NDVI {ib['ndvi']:.2f} -> {ia['ndvi']:.2f}, "
        f"brightness {ib['brightness']:.3f} -> {ia['brightness']:.3f}, {f.length_m:.0f} m x {f.width_m:.0f} m"
    )
    reasons.extend(rel.closest())
    return Classification("other", None, tuple(reasons), {})


def classify_vegetation_loss(
    facts: ObjectFacts, loss_share: float, *, min_share: float = 0.5, ground_judged: bool = False
) -> Classification | None:
    """``vegetation_loss`` for an object most of whose pixels lost their vegetation for good, else None.

    The per-pixel history tells a lasting loss (green through every season seen, or in its
    season and not the same season a year on, then bare to the end: a clearing, a felling)
    from a harvest (:mod:`sitewatch.core.history_gradual`, :mod:`sitewatch.core.history_season`);
    this rule takes it unless the ground after is built (concrete, asphalt, roofs, levelled
    earth: a pad, a runway or earthworks on a grove are typed by :func:`classify_object`) and
    not, unmixed against the site's surfaces (:func:`relative_surface`), its own bare ground.

    Parameters
    ----------
    facts : ObjectFacts
    loss_share : float
        Share of the object's changed pixels the history marks as a lasting vegetation loss.
    min_share : float
        Smallest share for the type.
    ground_judged : bool
        The ground after was judged not built already: by the season test, pixel by pixel
        against its own bare ground of before (``season_missed``), or by the caller with the
        same rules as here. That decision stands; the ground is not judged again.

    Returns
    -------
    Classification or None
    """
    late = facts.after_late
    if loss_share < min_share:
        return None
    # built after, by the rules and not like the site's own bare ground (dark soil passes the
    # absolute asphalt test: a cleared orchard on it is still the ground it stood on)
    if not ground_judged and is_built_like(late) and relative_surface(facts).verdict != "ground":
        return None
    ib, ia = spectral_indices(facts.before), spectral_indices(late)
    reason = (
        f"{loss_share:.0%} of its pixels green before (all year, or in their season) and bare on every "
        f"clear date after (NDVI {ib['ndvi']:.2f} -> {ia['ndvi']:.2f}), no green-up since, nor in the "
        "same season a year on where seen: vegetation cleared"
    )
    return Classification("vegetation_loss", None, (reason,), {})
