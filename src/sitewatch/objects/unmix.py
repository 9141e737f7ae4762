"""Sub-pixel size of a changed object: each pixel's covered fraction, by linear unmixing.

Edge pixels only partly covered by a pad change only partly; projecting each pixel's
before-to-after change on the object's core change gives its covered fraction, whose
sum is the area. Length and width come from the footprint of pixels at least half
covered, scaled to that area. :func:`unmixed_size` is the entry point;
:func:`after_state_footprint` completes an object from the ground that became its material.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import xarray as xr
from scipy import ndimage
from scipy.optimize import nnls

from sitewatch.core.morphology import vectorize
from sitewatch.objects.measure import measure_geometry

__all__ = ["EndmemberFit", "UnmixedSize", "after_state_footprint", "fit_endmembers", "unmixed_size"]


@dataclass(frozen=True)
class UnmixedSize:
    """An object's sub-pixel size (metres, degrees) and the footprint it was measured on.

    Attributes
    ----------
    area_m2, length_m, width_m, orientation_deg : float
    footprint : numpy.ndarray
        ``(Y, X)`` bool on the whole grid: the object with the pixels grown onto it.
    grown_px : int
        Pixels added from the after-state surface (see :func:`after_state_footprint`).
    """

    area_m2: float
    length_m: float
    width_m: float
    orientation_deg: float
    footprint: np.ndarray
    grown_px: int


@dataclass(frozen=True)
class EndmemberFit:
    """How well one endmember, mixed with the ground the object replaced, explains its spectrum.

    Attributes
    ----------
    name : str
    cover : float
        Share of the object covered by the material (1 - the ground's weight, 0..1).
    gain : float
        Brightness of the fitted material relative to the endmember (surfaces age and dust).
    residual : float
        Norm of the misfit divided by the norm of the spectrum.
    """

    name: str
    cover: float
    gain: float
    residual: float


def fit_endmembers(
    spectrum: Mapping[str, float],
    ground: Mapping[str, float] | None,
    endmembers: Mapping[str, Mapping[str, float]],
    *,
    beside: Mapping[str, float] | None = None,
    beside_for: tuple[str, ...] = (),
) -> list[EndmemberFit]:
    """Linear unmixing of one mean spectrum against each candidate endmember and the old ground.

    ``spectrum ~ a * endmember + b * ground`` (non-negative least squares over the bands all
    three know): a strip 2-6 pixels wide is all mixed pixels, so its mean spectrum is its
    material diluted by what was there before; the endmember that explains it best, and how
    much of it there is, say what the strip became. ``a`` is free (brightness varies with age
    and dust), so an endmember's shape is what is compared.

    Parameters
    ----------
    spectrum : mapping of band name to reflectance
        The object's mean spectrum after the change.
    ground : mapping or None
        Its mean spectrum before (None: the endmember alone).
    endmembers : mapping of name to spectrum
    beside : mapping, optional
        The bare ground beside the object after the change. A strip two to six pixels wide
        mixes its material also with what lies beside it then, which need not be what it
        replaced (a field harvested or ploughed next to a new runway end): the endmembers
        named in ``beside_for`` are unmixed against both.
    beside_for : tuple of str

    Returns
    -------
    list of EndmemberFit
        Best fit first.

    Examples
    --------
    >>> soil = {"B02": .1, "B04": .2, "B08": .26, "B11": .36}
    >>> pave = {"B02": .12, "B04": .14, "B08": .16, "B11": .19}
    >>> mixed = {b: .5 * soil[b] + .5 * pave[b] for b in soil}
    >>> fits = fit_endmembers(mixed, soil, {"pavement": pave, "soil": soil})
    >>> fits[0].name, round(fits[0].cover, 2)
    ('pavement', 0.5)
    """
    out = []
    for name, em in endmembers.items():
        bands = [
            b
            for b in spectrum
            if b in em
            and math.isfinite(float(spectrum[b]))
            and math.isfinite(float(em[b]))
            and (ground is None or (b in ground and math.isfinite(float(ground[b]))))
        ]
        partners = [g for g in (ground, beside if name in beside_for else None) if g is not None]
        bands = [b for b in bands if all(b in g and math.isfinite(float(g[b])) for g in partners)]
        if len(bands) < 3:
            continue
        y = np.array([float(spectrum[b]) for b in bands])
        cols = [np.array([float(em[b]) for b in bands])]
        cols += [np.array([float(g[b]) for b in bands]) for g in partners]
        a = np.stack(cols, axis=1)
        coef, res = nnls(a, y)
        norm = float(np.linalg.norm(y))
        if norm <= 0:
            continue
        # the grounds keep their own brightness: their weights are the uncovered share
        cover = float(np.clip(1.0 - coef[1:].sum(), 0.0, 1.0)) if partners else 1.0
        gain = float(coef[0]) / cover if cover > 0 else 0.0
        out.append(EndmemberFit(name, float(cover), gain, float(res) / norm))
    return sorted(out, key=lambda f: f.residual)


@dataclass(frozen=True)
class _Window:
    """Composites of one object's window: the ground before, after and (after earthworks) between."""

    before: np.ndarray
    after: np.ndarray
    levelled: np.ndarray | None
    ok: np.ndarray


def _window_composites(sub: np.ndarray, first_t: int, before_from: int, after_from: int, t_n: int) -> _Window:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # before: the ground before the object (before the levelling, when there was one)
        end_b = before_from if 0 < before_from < first_t else first_t
        before = np.nanmean(sub[max(0, end_b - 4) : end_b], axis=0)
        # after: once the object is whole (a pad laid in sections is whole at its last one)
        start_a = min(max(first_t, after_from), t_n - 1)
        after = np.nanmean(sub[start_a : min(t_n, start_a + 6)], axis=0)
        levelled = np.nanmean(sub[end_b + 1 : first_t], axis=0) if end_b < first_t - 1 else None
    ok = np.isfinite(before).all(axis=0) & np.isfinite(after).all(axis=0)
    return _Window(before, after, levelled, ok)


def _background_change(d: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """The change of the nearby background (``bg``) over the same dates, smoothed and filled in."""
    d_bg = np.zeros_like(d)
    if bg.sum() >= 8:
        wgt = ndimage.gaussian_filter(bg.astype(np.float32), 2.0)
        for b in range(d.shape[0]):
            d_bg[b] = ndimage.gaussian_filter(np.where(bg, d[b], 0.0), 2.0) / np.maximum(wgt, 1e-6)
        known = wgt > 0.05
        if not known.all():
            _, (iy, ix) = ndimage.distance_transform_edt(~known, return_indices=True)
            d_bg = d_bg[:, iy, ix]
    return d_bg


def _levelled_material(win: _Window, core: np.ndarray, bg: np.ndarray) -> np.ndarray | None:
    """The levelled ground's spectrum carried over to the "after" dates (a pad laid on earthworks)."""
    if win.levelled is None:
        return None
    levelled = win.levelled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a band the levelled core never saw: NaN
        earth = np.nanmean(np.where(core, levelled, np.nan).reshape(levelled.shape[0], -1), axis=1)
    # The levelled ground is seen on the dates between the levelling and the surface,
    # the object on the "after" dates (other haze and illumination): carry the
    # spectrum over by the background's typical change between those dates, else the
    # margin's mismatch projects onto the material and counts as pad.
    d_lev = win.after - levelled
    seen = bg & np.isfinite(d_lev).all(axis=0)
    if seen.sum() >= 8:
        earth = earth + np.median(d_lev[:, seen], axis=1)
    return earth if bool(np.isfinite(earth).all()) else None


def _cover_fractions(
    win: _Window, msub: np.ndarray, core: np.ndarray, ring_px: int
) -> tuple[np.ndarray, np.ndarray, bool] | None:
    """Per pixel the covered fraction (clipped 0..1), its raw value; whether two materials were unmixed."""
    ok = win.ok
    region_sub = ndimage.binary_dilation(msub, iterations=ring_px)
    d = np.nan_to_num(win.after - win.before)
    before = np.nan_to_num(win.before)
    # Linear unmixing per pixel: after = f * material + (1 - f) * (what the pixel would have
    # become without the object). The latter is the pixel's own "before" plus the change of
    # the nearby background over the same dates (fields green up or are harvested meanwhile),
    # so that a changing field around a pad is not counted as part of it.
    bg = ok & ~ndimage.binary_dilation(msub, iterations=ring_px + 1)
    d_bg = _background_change(d, bg)
    pure = core
    if win.levelled is not None:
        # After earthworks the material is told from the levelled ground around it mostly by
        # the 20 m SWIR bands, whose 2 x 2 blocks (and the scenes' residual misregistration)
        # reach a pixel beyond the 10 m outline: read the material at least 2 px inside, so
        # that the levelled margin does not leak into it (a material pulled toward the
        # levelled ground makes the margin read as part of the pad).
        deep = ndimage.binary_erosion(msub, iterations=2) & ok
        if deep.sum() >= 3:
            pure = deep
    after = win.after
    material = np.nanmean(np.where(pure, after, np.nan).reshape(after.shape[0], -1), axis=1)
    if not np.isfinite(material).all():
        return None
    expect = before + d_bg  # (B, h, w): the pixel without the object
    contrast = material[:, None, None] - expect
    norm = np.einsum("bhw,bhw->hw", contrast, contrast)
    if not np.isfinite(norm[core]).all() or float(np.median(norm[core])) <= 0:
        return None
    y = d - d_bg
    frac = np.einsum("bhw,bhw->hw", y, contrast) / np.maximum(norm, 1e-9)
    earth = _levelled_material(win, core, bg)
    if earth is not None:
        # levelling spills beyond the pad: a second material, the levelled ground, so that
        # after = f * material + g * levelled + (1 - f - g) * expected (least squares)
        c2 = earth[:, None, None] - expect
        aa, bb = norm, np.einsum("bhw,bhw->hw", c2, c2)
        ab = np.einsum("bhw,bhw->hw", contrast, c2)
        ay, by = np.einsum("bhw,bhw->hw", contrast, y), np.einsum("bhw,bhw->hw", c2, y)
        det = aa * bb - ab * ab
        solvable = det > 1e-6 * np.maximum(aa * bb, 1e-12)
        frac = np.where(solvable, (ay * bb - by * ab) / np.where(solvable, det, 1.0), frac)
    raw = np.nan_to_num(frac)
    frac = np.clip(raw, 0, 1)
    # where the ground already looked like the material (the old runway a strip extends),
    # the fraction is undefined: the object did not change those pixels
    # (judged on the pixel's own before state: the background's change, added to it, would
    # make an old apron that did not follow the harvest around it read as new material)
    was = np.einsum("bhw,bhw->hw", material[:, None, None] - before, material[:, None, None] - before)
    undefined = ~ok | (norm < 0.1 * float(np.median(norm[core]))) | (was < 0.1 * float(np.median(was[core])))
    frac[undefined] = 0
    raw = np.where(undefined, 0.0, raw)
    frac[~region_sub] = 0
    frac[frac < 0.15] = 0
    # outside the detected object only clear partial cover counts (fields change around pads)
    frac[(frac < 0.3) & ~msub] = 0
    return frac, raw, earth is not None


def _size(
    frac: np.ndarray, raw: np.ndarray, footprint: np.ndarray, two_materials: bool, gbox: Any
) -> tuple[float, float, float, float] | None:
    """Area, length, width and orientation of the covered footprint (``gbox``: its window's grid)."""
    res = abs(float(gbox.resolution.x))
    geoms = list(vectorize(footprint.astype(np.int32), gbox, simplify_px=0.5))
    if not geoms:
        return None
    m = measure_geometry(shapely.union_all([g for _, g in geoms]))
    compact = m["width_m"] > 0 and m["length_m"] / m["width_m"] < 3
    ring = ndimage.binary_dilation(footprint) & ~footprint
    if compact and not two_materials:
        # The edge ring of a pad holds its partly covered pixels: thresholding their
        # fractions (as noise protection) drops the small shares and under-counts every
        # pad by a few percent. Between the pad and one ground (no levelled spill) the
        # fraction is unbiased, so the ring counts its signed fractions: noise cancels
        # out instead of being cut to one side.
        area = float((frac[footprint].sum() + np.clip(raw[ring], -1, 1).sum()) * res**2)
    else:
        area = float(frac[footprint | ring].sum() * res**2)
    if compact:
        # Pads are rectangles, and the half-covered footprint is the pad grown or shrunk by
        # about the same margin on every side (blur, misregistration, a levelled spill): that
        # keeps length - width, not length / width (scaling the footprint to the area made
        # narrow pads too short and too wide). The rectangle with the footprint's
        # length - width and the unmixed area.
        dlw = m["length_m"] - m["width_m"]
        length_m = (dlw + math.sqrt(dlw * dlw + 4 * area)) / 2
        width_m = area / length_m if length_m > 0 else 0.0
    else:
        # strips: the pixel outline's length, scaled to the area of the outline
        k = math.sqrt(area / m["area_m2"]) if m["area_m2"] > 0 else 1.0
        length_m, width_m = m["length_m"] * k, m["width_m"] * k
    return area, length_m, width_m, m["orientation_deg"]


def unmixed_size(
    stack: xr.DataArray,
    clear: np.ndarray,
    mask: np.ndarray,
    first_t: int,
    gbox: Any,
    *,
    ring_px: int = 2,
    before_from: int = 0,
    after_from: int = 0,
    grow_px: int = 8,
) -> UnmixedSize | None:
    """Sub-pixel size of an object: each pixel's share of the object's change vector.

    The object is first completed from its after-state surface: neighbours (up to
    ``grow_px`` away, connected to it) whose ground became the object's material (after
    state within the material's own spread, before state far from it) belong to it even
    where the per-pixel history scored their change weakly (a noisy or hazy reference
    season makes the same step fewer noise units).

    A pad laid on earlier earthworks (``before_from``: the date the levelling was first
    seen) is unmixed against two materials, its own and the levelled ground that spills
    beyond it: the levelled spectrum is read on the object between the two dates and
    carried over to the "after" dates by the background's change, and the pad's material
    is read at least 2 px inside the object (the 20 m bands that tell the two apart
    straddle its edge).

    The object's after-state is read from ``after_from`` (its completion) when that is later
    than ``first_t``: a pad laid in sections over months is measured whole, not as its first
    section.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    mask : numpy.ndarray
        ``(y, x)`` bool: the object.
    first_t : int
        Date index from which the object is there.
    gbox : odc.geo.geobox.GeoBox
        The grid of ``stack``.
    ring_px : int
        Width of the ring of background around the object whose change is its surroundings'.
    before_from : int
        The date levelling was first seen (0: none): the ground before is read before it.
    after_from : int
        The date the object was complete: its after-state is read from the later of it and
        ``first_t`` (a pad laid in sections is whole at its last).
    grow_px : int
        How far the object may grow into neighbours whose ground became its material.

    Returns
    -------
    UnmixedSize or None
        None when the object cannot be unmixed (no clear composite, no contrast).
    """
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    # a margin of background around the object (grown as far as it may grow), to learn how
    # the surroundings changed meanwhile
    pad_px = max(0, grow_px) + 2 * ring_px + 4
    h, w = mask.shape
    r0, r1 = max(0, rows.min() - pad_px), min(h, rows.max() + 1 + pad_px)
    c0, c1 = max(0, cols.min() - pad_px), min(w, cols.max() + 1 + pad_px)
    sub = stack.values[:, :, r0:r1, c0:c1].astype(np.float32) * np.float32(1e-4)
    cl = clear[:, r0:r1, c0:c1]
    sub[~np.broadcast_to(cl[:, None], sub.shape)] = np.nan
    win = _window_composites(sub, first_t, before_from, after_from, stack.sizes["time"])
    msub = mask[r0:r1, c0:c1]
    core = ndimage.binary_erosion(msub)
    if core.sum() < 3:
        core = msub
    grown_px = 0
    if grow_px > 0:
        msub = after_state_footprint(win.before, win.after, win.ok, msub, core, grow_px)
        grown_px = int(msub.sum() - mask[r0:r1, c0:c1].sum())
        if grown_px:
            core = ndimage.binary_erosion(msub)
            if core.sum() < 3:
                core = msub
    fractions = _cover_fractions(win, msub, core, ring_px)
    if fractions is None:
        return None
    frac, raw, two_materials = fractions
    footprint = frac >= 0.5
    lab, _ = ndimage.label(footprint)
    keep = np.unique(lab[msub & footprint])
    footprint = np.isin(lab, keep[keep > 0])
    if footprint.sum() < 3:
        return None
    size = _size(frac, raw, footprint, two_materials, gbox[r0:r1, c0:c1])
    if size is None:
        return None
    area, length_m, width_m, orientation = size
    full = np.zeros(mask.shape, bool)
    full[r0:r1, c0:c1] = msub
    return UnmixedSize(
        area_m2=round(area, 1),
        length_m=round(length_m, 1),
        width_m=round(width_m, 1),
        orientation_deg=orientation,
        footprint=full,
        grown_px=grown_px,
    )


def after_state_footprint(
    before: np.ndarray,
    after: np.ndarray,
    ok: np.ndarray,
    msub: np.ndarray,
    core: np.ndarray,
    grow_px: int,
    *,
    min_tol: float = 0.03,
) -> np.ndarray:
    """The object grown over neighbours whose ground became the object's material.

    ``before``/``after`` are ``(B, h, w)`` reflectance composites (NaN where unknown),
    ``core`` the object's interior. A neighbour joins when its after state is as close to
    the material (the core's median after state) as the core's own pixels are (90th
    percentile, at least ``min_tol``), its before state was at least three times further,
    and it is connected to the object within ``grow_px`` pixels.

    Parameters
    ----------
    before, after : numpy.ndarray
        ``(B, h, w)`` reflectance.
    ok : numpy.ndarray
        ``(h, w)`` bool: both composites known.
    msub, core : numpy.ndarray
        ``(h, w)`` bool: the object and its interior.
    grow_px : int
    min_tol : float

    Returns
    -------
    numpy.ndarray
        ``(h, w)`` bool: the object, grown.
    """
    sel = core & ok
    if sel.sum() < 3:
        return msub
    material = np.median(after[:, sel], axis=1)
    with np.errstate(invalid="ignore"):
        d_after = np.sqrt(np.sum((after - material[:, None, None]) ** 2, axis=0))
        d_before = np.sqrt(np.sum((before - material[:, None, None]) ** 2, axis=0))
    tol = max(min_tol, float(np.quantile(d_after[sel], 0.9)))
    # the material must stand out from what was there before, else nothing tells them apart
    if float(np.median(d_before[sel])) < 3 * tol:
        return msub
    like = ok & (d_after <= tol) & (d_before >= 3 * tol)
    within = ndimage.binary_dilation(msub, iterations=grow_px)
    grown: np.ndarray = ndimage.binary_propagation(msub, mask=msub | (like & within))
    return grown
