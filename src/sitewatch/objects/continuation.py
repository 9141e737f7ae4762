"""The surface that runs on in line beyond a changed strip: the runway it may extend.

The site's runways are found on a pavement prior cut into uniform regions
(:func:`~sitewatch.objects.context.find_runways`), which aged concrete and dusty asphalt
can still miss. :func:`runway_in_line` reads the early composite beyond each end of a
changed object instead: a uniform surface, unlike the ground the object replaced, that runs
on in line for a runway's length is the runway the object continues, and its spectrum is
the endmember the object is then judged against. :func:`runway_relation` says whether an
object continues a runway found; :func:`runway_corridor` picks out the pixels on a runway's
axis beyond its ends that became like it, so that an extension merged with the field
beside it can be split off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from shapely.geometry.base import BaseGeometry

from sitewatch.core.bands import nir_band
from sitewatch.core.surfaces import DEFAULT_RULES, SurfaceRules
from sitewatch.objects.context import EarlyContext, Runway

__all__ = [
    "CONTINUATION_MIN_M",
    "CONTINUATION_PROBE_M",
    "RUNWAY_MAX_ANGLE_DEG",
    "RUNWAY_MAX_GAP_M",
    "RUNWAY_NEAR_PX",
    "Continuation",
    "runway_corridor",
    "runway_in_line",
    "runway_relation",
]

#: Largest angle (degrees) between a strip and a runway it continues in line.
RUNWAY_MAX_ANGLE_DEG = 12.0
#: A strip continues a runway when it is this many pixels from it, or closer.
RUNWAY_NEAR_PX = 3
#: Longest undetected stretch between a runway's end and a strip in line beyond it, metres.
RUNWAY_MAX_GAP_M = 200.0


#: A strip is read as continuing a runway when the paved surface beyond its end runs at least
#: this far in line (metres; a runway is 400 m or more, so most of it lies beyond).
CONTINUATION_MIN_M = 150.0
#: How far beyond a strip's end the surface in line is read (metres).
CONTINUATION_PROBE_M = 400.0


@dataclass(frozen=True)
class Continuation:
    """The surface that runs on in line beyond one end of an object: a runway it extends.

    Attributes
    ----------
    spectrum : dict
        Median early spectrum of that surface (an endmember: the runway's own material).
    length_m : float
        How far it runs on, uniform, from the object's end (within the AOI).
    axis_deg : float
        The axis it was read along (degrees from the grid's columns).
    """

    spectrum: dict[str, float]
    length_m: float
    axis_deg: float


def _rel_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Relative spectral distance of each column of ``a`` (B, N) from ``b`` (B,)."""
    out: np.ndarray = np.linalg.norm(a - b[:, None], axis=0) / max(float(np.linalg.norm(b)), 1e-6)
    return out


def _axes(rows: np.ndarray, cols: np.ndarray) -> list[np.ndarray]:
    """The object's long axis (unit vector in (row, col)); both axes when it is stubby.

    A short strip measured on mixed pixels can read about as wide as long: either of its
    axes may be the one a runway runs along.
    """
    pts = np.stack([rows, cols], axis=1).astype(np.float64)
    cov = np.cov((pts - pts.mean(axis=0)).T) if len(pts) > 2 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    major, minor = evecs[:, 1], evecs[:, 0]
    stubby = evals[1] < 1.6**2 * max(evals[0], 1e-9)
    return [major, minor] if stubby else [major]


def _along_across(
    shape: tuple[int, ...], rows: np.ndarray, cols: np.ndarray, u: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's position along the unit vector ``u`` (row, col) and across it.

    Measured from the centre of the pixels ``rows, cols``.
    """
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    dy, dx = yy - rows.mean(), xx - cols.mean()
    return dy * u[0] + dx * u[1], dy * -u[1] + dx * u[0]


def runway_in_line(
    early: EarlyContext,
    mask: np.ndarray,
    before: dict[str, float],
    res_m: float,
    ground: dict[str, float] | None = None,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> Continuation | None:
    """The paved strip an object continues in line, read from the site before the change, or None.

    Beyond each end of the object, along its axis, the early composite is read in a band
    as wide as the object's core (six tenths of its width, so its mixed edges are left
    out). The object continues a runway when that band holds one uniform surface from the
    object's end on (each one-pixel step along it, by its median, within 1.5 x the surface's
    own spread, 0.06, or two fifths of the way to the ground the object replaced; one odd
    step allowed) for at least :data:`CONTINUATION_MIN_M` and at least the object's own
    length (an extension is shorter than the runway it extends), and that surface is unlike
    the ground the object replaced (more than twice that tolerance from it).
    Whether the object *became* like it is for the relative typing to say. Nothing here
    needs the site's runways to pass an absolute pavement test (aged concrete and dusty
    asphalt often do not).

    Parameters
    ----------
    early : EarlyContext
    mask : numpy.ndarray
        ``(Y, X)`` bool, the object's pixels.
    before : mapping
        The object's mean spectrum before the change.
    res_m : float
        Pixel size in metres.
    ground : mapping, optional
        The site's bare ground (:func:`site_surfaces`): a surface in line whose shape is the
        ground's (a field beyond a field) is no runway.
    rules : SurfaceRules
        ``paved_max_ndvi``: a green surface in line is no runway.

    Returns
    -------
    Continuation or None
    """
    if not early.bands or mask.sum() < 4:
        return None
    rows, cols = np.nonzero(mask)
    comp = early.composite
    b_vec = np.array([before.get(b, np.nan) for b in early.bands])
    g_vec = None if ground is None else np.array([ground.get(b, np.nan) for b in early.bands])
    names = list(early.bands)
    nir = nir_band(names)
    if "B04" not in names or nir is None:
        return None
    red_nir = (names.index("B04"), names.index(nir))
    best: Continuation | None = None
    for u in _axes(rows, cols):
        along, across = _along_across(mask.shape, rows, cols, u)
        a_obj, b_obj = along[mask], across[mask]
        half_w = max(0.5, 0.3 * (b_obj.max() - b_obj.min() + 1))
        b_mid = float(np.median(b_obj))
        obj_len_px = float(a_obj.max() - a_obj.min() + 1)
        for sign, end in ((1.0, a_obj.max()), (-1.0, -a_obj.min())):
            dist = sign * along - end  # pixels beyond this end
            band = (
                (dist >= 1.0)
                & (dist <= CONTINUATION_PROBE_M / res_m)
                & (np.abs(across - b_mid) <= half_w)
                & ~mask
            )
            found = _uniform_run(comp, band, dist, b_vec, g_vec, rules.paved_max_ndvi, red_nir)
            if found is None:
                continue
            spectrum, run_px, tol = found
            if run_px * res_m < max(CONTINUATION_MIN_M, obj_len_px * res_m):
                continue
            # as wide as the object, or wider (a strip's width read on mixed pixels is up to
            # about 1.6 x + 2 px its true one): a field beyond a wide change is no runway
            beyond = (dist >= 1.0) & (dist <= run_px) & ~mask
            width_px = _strip_width(comp, beyond, across - b_mid, spectrum, tol)
            if 1.6 * width_px + 2 < b_obj.max() - b_obj.min() + 1:
                continue
            if best is None or run_px * res_m > best.length_m:
                axis = float(np.degrees(np.arctan2(u[0], u[1])))
                best = Continuation(
                    {b: float(x) for b, x in zip(early.bands, spectrum, strict=True)}, run_px * res_m, axis
                )
    return best


def _shape_misfit(y: np.ndarray, e: np.ndarray) -> float:
    """Relative misfit of ``y`` by ``e`` at the best gain (their shapes compared, not brightness)."""
    ok = np.isfinite(y) & np.isfinite(e)
    if ok.sum() < 3 or float(e[ok] @ e[ok]) <= 0:
        return float("inf")
    g = float(y[ok] @ e[ok]) / float(e[ok] @ e[ok])
    return float(np.linalg.norm(y[ok] - g * e[ok]) / max(float(np.linalg.norm(y[ok])), 1e-6))


def _strip_width(
    comp: np.ndarray, beyond: np.ndarray, across: np.ndarray, ref: np.ndarray, tol: float
) -> float:
    """Width (px) of the strip like ``ref`` beyond the object: contiguous one-pixel columns about its axis."""
    width = 0.0
    for side in (1, -1):
        k = 0 if side == 1 else -1
        while abs(k) < 60:
            here = beyond & (np.abs(across - k) < 0.5)
            vals = comp[:, here]
            vals = vals[:, np.isfinite(vals).all(axis=0)]
            if vals.shape[1] < 3 or float(_rel_dist(np.median(vals, axis=1)[:, None], ref)[0]) > tol:
                break
            width += 1.0
            k += side
    return width


def _uniform_run(
    comp: np.ndarray,
    band: np.ndarray,
    dist: np.ndarray,
    before: np.ndarray,
    ground: np.ndarray | None,
    max_ndvi: float,
    red_nir: tuple[int, int],
) -> tuple[np.ndarray, float, float] | None:
    """The uniform surface in ``band`` from the object's end on: its median spectrum, run (px), tolerance."""
    if band.sum() < 6:
        return None
    vals = comp[:, band]
    ok = np.isfinite(vals).all(axis=0)
    if ok.sum() < 6:
        return None
    d = dist[band][ok]
    vals = vals[:, ok]
    # the surface right beyond the end (its first 10 px) sets the reference
    near = d <= max(3.0, min(10.0, float(np.quantile(d, 0.5))))
    if near.sum() < 3:
        return None
    ref = np.median(vals[:, near], axis=1)
    spread = float(np.median(_rel_dist(vals[:, near], ref)))
    # each step across the band is judged by its median (the composite's noise averages out);
    # a step is the surface when that median is within 1.5 x its pixels' spread, or 0.06, of it
    tol = max(0.06, 1.5 * spread)
    if not np.isfinite(before).all():
        return None
    d_before = float(_rel_dist(before[:, None], ref)[0])
    if d_before <= 2 * tol:
        return None  # the object replaced ground like that surface: nothing paved runs on
    if ground is not None and _shape_misfit(ref, ground) <= tol:
        return None  # the site's own ground runs on in line, not a runway
    red, nir = ref[red_nir[0]], ref[red_nir[1]]
    if (nir - red) / max(nir + red, 1e-6) >= max_ndvi:
        return None  # green: a field or a grove, never pavement
    # a step nearer that surface than two fifths of the way to the ground replaced is still it
    tol = max(tol, 0.4 * d_before)
    # the run: consecutive one-pixel steps along the axis like it
    steps = np.floor(d).astype(int)
    run, misses = 0, 0
    for s in range(1, int(steps.max()) + 1):
        here = steps == s
        if not here.any():
            break
        dev = float(_rel_dist(np.median(vals[:, here], axis=1)[:, None], ref)[0])
        # one odd step (a marking, a patch, a cloud edge left in the composite) does not end it
        if dev > tol:
            misses += 1
            if misses > 1:
                break
            continue
        run, misses = s, 0
    if run < 3:
        return None
    used = steps <= run
    return np.median(vals[:, used], axis=1), float(run), tol


def _in_line(rw: Runway, geom: BaseGeometry, width_m: float, res_m: float) -> bool:
    """The object lies on the runway's axis beyond its end, and is about as wide (an extension).

    A taxiway or apron beside the runway is parallel and near too, but off its axis.
    """
    t = math.radians(rw.orientation_deg)
    axis = np.array([math.sin(t), math.cos(t)])  # orientation: degrees from north, clockwise
    c_rw, c_obj = rw.geometry.centroid, geom.centroid
    d = np.array([c_obj.x - c_rw.x, c_obj.y - c_rw.y])
    along, across = float(d @ axis), float(abs(d @ np.array([axis[1], -axis[0]])))
    beyond_end = abs(along) >= 0.4 * rw.length_m
    on_axis = across <= 0.5 * rw.width_m + 2 * res_m
    # the strip's width is measured on mixed edge pixels: up to about 2 pixels wider
    similar_width = width_m <= 1.6 * rw.width_m + 2 * res_m
    return beyond_end and on_axis and similar_width


def runway_relation(
    runways: tuple[Runway, ...],
    m: np.ndarray,
    geom: BaseGeometry,
    measures: Mapping[str, float],
    res_m: float,
) -> tuple[bool, float, float | None]:
    """Whether the object continues a runway in line, its overlap with runways, and that runway's length.

    Parameters
    ----------
    runways : tuple of Runway
        The site's runways before the change (:func:`~sitewatch.objects.context.find_runways`).
    m : numpy.ndarray
        ``(Y, X)`` bool, the object's pixels.
    geom : shapely geometry
        The object's outline (grid CRS, metres).
    measures : mapping
        Its ``length_m``, ``width_m`` and ``orientation_deg``
        (:func:`~sitewatch.objects.measure.measure_geometry`).
    res_m : float
        Pixel size in metres.

    Returns
    -------
    tuple
        ``(adjacent, overlap, runway_length_m)``: the object continues a runway in line (near
        its end, aligned, on its axis, about as wide, mostly off it), the largest share of the
        object on one runway, and the length of the runway it continues (None when none).
    """
    adjacent, overlap_max, length = False, 0.0, None
    for rw in runways:
        overlap = float((rw.mask & m).sum() / m.sum())
        gap_m = float(rw.geometry.distance(geom))
        near = gap_m <= RUNWAY_NEAR_PX * res_m
        dang = abs((measures["orientation_deg"] - rw.orientation_deg + 90) % 180 - 90)
        overlap_max = max(overlap_max, overlap)
        in_line = _in_line(rw, geom, measures["width_m"], res_m)
        # a short strip's outline orientation is uncertain by about atan(width / length)
        # (a 140 m x 60 m pixel outline may read 0 deg on a 16 deg runway); in line with the
        # runway's axis it is still its continuation
        obj_len = max(measures["length_m"], 1.0)
        max_angle = max(RUNWAY_MAX_ANGLE_DEG, math.degrees(math.atan(measures["width_m"] / obj_len)))
        # the first metres of an extension, mixed with the runway's blurred end, can stay
        # undetected: a strip on the axis, as wide, beyond a gap no longer than itself
        # (and at most RUNWAY_MAX_GAP_M) still continues the runway
        near = near or (in_line and gap_m <= min(measures["length_m"], RUNWAY_MAX_GAP_M))
        if near and dang <= max_angle and overlap < 0.5 and in_line:
            adjacent, length = True, float(rw.length_m)
    return adjacent, overlap_max, length


#: How far beyond a runway's end its corridor reaches (metres): an extension is rarely longer
#: than half the runway it extends, and the corridor only picks out which changed pixels of
#: an object lie on the runway's axis.
CORRIDOR_REACH_M = 400.0
#: The corridor's half-width beyond the runway's own (pixels): the runway's width is read on
#: its mixed edge pixels, and an extension's own mixed edges lie a pixel or two further out.
CORRIDOR_MARGIN_PX = 2.0
#: The runway's own half-width is this quantile of its pixels' distances from its axis (the
#: largest would let one stray pixel of the region widen the corridor).
CORRIDOR_WIDTH_QUANTILE = 0.95


def runway_corridor(
    runways: tuple[Runway, ...],
    bands: tuple[str, ...],
    before: np.ndarray,
    after: np.ndarray,
    *,
    res_m: float,
    grounds: tuple[Mapping[str, float], ...] = (),
) -> np.ndarray:
    """The pixels on a runway's axis beyond its ends that became like it.

    The axis band is as wide as the runway plus :data:`CORRIDOR_MARGIN_PX` each side and
    reaches :data:`CORRIDOR_REACH_M` outwards from each end. A pixel in it is taken when its
    spectrum after the change is nearer (Euclidean distance over the bands the runway's
    spectrum has) the runway's own (:attr:`Runway.spectrum`) than its spectrum before was, and
    than each of the site's bare grounds: a field ploughed from pale stubble to a dark soil
    comes nearer a dark runway too, but it is nearer still to the soil. (Fresh asphalt laid on
    a dark soil is nearer that soil than the aged runway it extends: such an extension is not
    split off. Comparing spectral shapes instead, in which fresh and aged asphalt agree, cost a
    pad on the benchmark's tuning worlds.) An extension laid
    beside a field harvested or ploughed at about the same time is one changed object with it,
    whose outline is neither the strip's length nor its axis; these pixels are the part of such
    an object that may continue the runway.

    Parameters
    ----------
    runways : tuple of Runway
    bands : tuple of str
        Band names of ``before`` and ``after``.
    before, after : numpy.ndarray
        ``(band, Y, X)`` reflectance 0..1 of each pixel before and after its change.
    res_m : float
        Pixel size in metres.
    grounds : tuple of mapping
        The site's bare grounds (``ground``, ``soil`` of :attr:`SiteContext.surfaces`).

    Returns
    -------
    numpy.ndarray
        ``(Y, X)`` bool.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> m = np.zeros((20, 40), bool); m[8:11, 2:22] = True
    >>> rw = Runway(1, box(0, 0, 1, 1), m, 200.0, 30.0, 90.0, {"B04": 0.15, "B08": 0.18})
    >>> before = np.stack([np.full((20, 40), 0.1), np.full((20, 40), 0.3)])
    >>> after = before.copy(); after[:, 8:11, 22:30] = np.array([0.14, 0.19])[:, None, None]
    >>> c = runway_corridor((rw,), ("B04", "B08"), before, after, res_m=10.0)
    >>> bool(c[9, 25]), bool(c[9, 35]), bool(c[9, 12])
    (True, False, False)
    """
    shape = before.shape[1:]
    out = np.zeros(shape, bool)
    if not runways:
        return out
    for rw in runways:
        rows, cols = np.nonzero(rw.mask)
        spectrum = {b: v for b, v in (rw.spectrum or {}).items() if np.isfinite(v)}
        idx = [i for i, b in enumerate(bands) if b in spectrum]
        if rows.size < 3 or len(idx) < 2:
            continue
        along, across = _along_across(shape, rows, cols, _axes(rows, cols)[0])
        across = np.abs(across)
        a_rw = along[rw.mask]
        half_w = float(np.quantile(across[rw.mask], CORRIDOR_WIDTH_QUANTILE)) + CORRIDOR_MARGIN_PX
        reach = CORRIDOR_REACH_M / res_m
        beyond = ((along > a_rw.max()) & (along <= a_rw.max() + reach)) | (
            (along < a_rw.min()) & (along >= a_rw.min() - reach)
        )
        on_axis = beyond & (across <= half_w) & ~rw.mask
        ref = np.array([spectrum[bands[i]] for i in idx])[:, None]
        a, b = after[idx][:, on_axis], before[idx][:, on_axis]
        with np.errstate(invalid="ignore"):
            d_ref = np.linalg.norm(a - ref, axis=0)
            like = d_ref < np.linalg.norm(b - ref, axis=0)
            for g in grounds:
                if all(bands[i] in g for i in idx):
                    like &= d_ref < np.linalg.norm(a - np.array([g[bands[i]] for i in idx])[:, None], axis=0)
        out[on_axis] |= like
    return out
