"""Structures removed from a facility, seen over the whole facility rather than pixel by pixel.

An evacuation takes roofs, tents, vehicles and containers away one by one over days to
months. Each of them is two to four mixed pixels whose own change is often below the
per-pixel test's threshold, and a removal spread over weeks is absorbed by a pixel's recent
baseline. Pooled over the facility the signal is plain: the structures' contrast against
the facility's own bare yard, measured on each date relative to that date's yard (so haze,
season and illumination cancel), falls and stays down.

:func:`facility_losses` reads, for each facility of the site context:

1. its yard (the pixels least unlike the facility's per-date median early on) and its
   structures (the pixels whose early contrast against the yard stands well above the
   yard's own scatter, a threshold relative to the facility itself);
2. the share of its structures still standing on each date (contrast above half the early one);
3. a level-ramp-level fit of that series (the removals spread over the ramp), its drop and
   the drop's significance against the fit's own residual scatter;
4. per structure pixel, the date its contrast fell and stayed below half (onset, first
   removals, completion).

Pure: arrays in, frozen :class:`FacilityLoss` out.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sitewatch.core.bands import nir_band
from sitewatch.core.indices import normalized_difference

__all__ = ["FacilityLoss", "FacilityRules", "facility_losses", "ramp_fit", "textured_regions"]


@dataclass(frozen=True)
class FacilityRules:
    """Settings of the facility-wide test for removed structures.

    Attributes
    ----------
    early_share : float
        Share of the facility's clear dates (at least ``min_dates`` + 2) its early state is
        read on: short, so that an evacuation early in the series is not in it.
    min_dates : int
        Fewest clear dates on each side of the removals.
    yard_quantile : float
        The facility's calmest pixels (this quantile of their early contrast) are its yard.
    structure_scatter : float
        A structure's early contrast is at least this many times the yard's own scatter ...
    min_contrast : float
        ... and at least this (mean absolute reflectance difference to the yard), a weak
        floor so that a uniform facility has no structures.
    min_structure_px : int
        Fewest structure pixels a facility needs to be tested.
    min_drop : float
        Least share of the structures' contrast lost.
    min_z : float
        Least significance of the drop (level difference over the fit's residual scatter).
    max_ramp_days : int
        Longest spread of removals fitted (about four months and a margin).
    removed_share : float
        A structure pixel is removed when its contrast stays below this share of its early one.
    min_clear_share : float
        A date counts when at least this share of the structures is clear.
    min_persistence : float
        Least mean share of a removed pixel's clear dates after its removal that stay removed
        (structures taken away do not come back; a field's season does).
    min_magnitude : float
        Least mean drop of a removed pixel's contrast in units of its own early scatter (two:
        clearly more than its noise).
    green_ndvi, green_share : float
        A pixel green (NDVI at least ``green_ndvi``) on at least ``green_share`` of its clear
        dates is vegetation, never a structure: a field or a garden inside the built-up area
        that is harvested or dries out is not an evacuation.
    texture_ratio : float
        :func:`textured_regions`: a pixel whose early spectrum differs from its neighbours'
        median by this many times the scene's median difference is part of a yard of
        structures (relative to the scene, not an absolute built-up test).
    """

    early_share: float = 0.12
    min_dates: int = 4
    yard_quantile: float = 0.3
    structure_scatter: float = 3.0
    min_contrast: float = 0.008
    min_structure_px: int = 12
    min_drop: float = 0.25
    min_z: float = 8.0
    max_ramp_days: int = 150
    removed_share: float = 0.5
    min_clear_share: float = 0.7
    min_persistence: float = 0.85
    min_magnitude: float = 2.0
    green_ndvi: float = 0.35
    green_share: float = 0.1
    texture_ratio: float = 3.0


DEFAULT_FACILITY_RULES = FacilityRules()


@dataclass(frozen=True)
class RampFit:
    """A level-ramp-level fit of a series: ``before`` up to ``start``, ``after`` from ``end``.

    ``start`` and ``end`` index the fitted series; ``z`` is the level difference over its
    standard error (residual scatter, robust); ``inliers`` marks the points kept.
    """

    before: float
    after: float
    start: int
    end: int
    z: float
    inliers: np.ndarray


@dataclass(frozen=True)
class FacilityLoss:
    """Structures removed from one facility.

    Attributes
    ----------
    facility : int
        Its label in the site context's facilities.
    structures, removed : numpy.ndarray
        ``(Y, X)`` bool: the structure pixels before, and those whose contrast went.
    removal_index : numpy.ndarray
        ``(Y, X)`` int: the date index each removed pixel's contrast fell (-1 elsewhere).
    onset_index, first_index, completed_index : int
        Dates of the earliest tenth (onset, and the first removals seen) and of nine tenths
        of the removed pixels.
    last_unchanged_index : int or None
        The fit's last date before the removals.
    fraction : float
        Share of the structures' contrast lost (0..1).
    drop, z : float
        The fitted drop of the share of structures standing (share of its early level) and
        its significance.
    persistence : float
        Mean share of each removed pixel's clear dates after its removal that stay removed.
    magnitude : float
        Mean drop of a removed pixel's contrast in units of its own early scatter.
    n_clear_before, n_clear_after : float
        Median clear dates of a removed pixel before and after its removal.
    """

    facility: int
    structures: np.ndarray
    removed: np.ndarray
    removal_index: np.ndarray
    onset_index: int
    first_index: int
    completed_index: int
    last_unchanged_index: int | None
    fraction: float
    drop: float
    z: float
    persistence: float
    magnitude: float
    n_clear_before: float
    n_clear_after: float

    @property
    def removed_share(self) -> float:
        """Share of the structure pixels removed (0..1)."""
        return round(float(self.removed.sum() / max(int(self.structures.sum()), 1)), 3)


def _robust_sigma(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    if x.size < 2:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def _fit_once(
    days: np.ndarray, s: np.ndarray, use: np.ndarray, min_dates: int, max_ramp_days: int
) -> tuple[float, float, int, int, float] | None:
    """Least squares over every (start, end) with ``min_dates`` inliers on each side."""
    n = days.size
    best: tuple[float, float, int, int, float] | None = None
    cum = np.cumsum(use)
    for i1 in range(n):
        if cum[i1] < min_dates:
            continue
        i2 = np.arange(i1 + 1, n)
        i2 = i2[(days[i2] - days[i1] <= max_ramp_days) & (cum[-1] - cum[i2] + use[i2] >= min_dates)]
        if not i2.size:
            continue
        # weight of the "before" level at each point, for each candidate end (rows)
        span = np.maximum(days[i2] - days[i1], 1e-9)[:, None]
        w = np.clip((days[i2][:, None] - days[None, :]) / span, 0.0, 1.0)
        w[:, : i1 + 1] = 1.0
        w = np.where(np.arange(n)[None, :] >= i2[:, None], 0.0, w)
        u = np.where(use, 1.0, 0.0)[None, :]
        sw, sv = (u * w).sum(1), (u * (1 - w)).sum(1)
        sww, svv, swv = (u * w * w).sum(1), (u * (1 - w) ** 2).sum(1), (u * w * (1 - w)).sum(1)
        sy_w, sy_v = (u * w * s).sum(1), (u * (1 - w) * s).sum(1)
        det = sww * svv - swv**2
        ok = (det > 1e-12) & (sw > 0) & (sv > 0)
        if not ok.any():
            continue
        a = np.where(ok, (sy_w * svv - sy_v * swv) / np.where(ok, det, 1), np.nan)
        b = np.where(ok, (sy_v * sww - sy_w * swv) / np.where(ok, det, 1), np.nan)
        resid = s[None, :] - (a[:, None] * w + b[:, None] * (1 - w))
        sse = np.where(ok, (u * resid**2).sum(1), np.inf)
        k = int(np.argmin(sse))
        if np.isfinite(sse[k]) and (best is None or sse[k] < best[4]):
            best = (float(a[k]), float(b[k]), i1, int(i2[k]), float(sse[k]))
    return best


def ramp_fit(
    days: np.ndarray, s: np.ndarray, *, min_dates: int = 4, max_ramp_days: int = 150
) -> RampFit | None:
    """Fit a level, a linear ramp and a second level to ``s`` (least squares, one outlier pass).

    Parameters
    ----------
    days : numpy.ndarray
        ``(N,)`` day numbers, ascending.
    s : numpy.ndarray
        ``(N,)`` values (finite).
    min_dates : int
        Fewest points on each level.
    max_ramp_days : int
        Longest ramp.

    Returns
    -------
    RampFit or None
        None when the series is too short.

    Examples
    --------
    >>> days = np.arange(0, 200, 10.0)
    >>> s = np.where(days < 80, 1.0, np.where(days > 120, 0.4, 1.0 - 0.6 * (days - 80) / 40))
    >>> fit = ramp_fit(days, s + 0.01 * np.sin(days))
    >>> round(fit.before, 1), round(fit.after, 1), int(days[fit.start]), int(days[fit.end])
    (1.0, 0.4, 80, 120)
    """
    days = np.asarray(days, float)
    s = np.asarray(s, float)
    use = np.ones(s.size, bool)
    first = _fit_once(days, s, use, min_dates, max_ramp_days)
    if first is None:
        return None
    a, b, i1, i2, _ = first
    for _ in range(2):
        model = _model(days, a, b, i1, i2)
        resid = s - model
        sigma = _robust_sigma(resid[use])
        if not np.isfinite(sigma) or sigma <= 0:
            break
        # only the levels have outliers (a cloud edge, a hazy date): the ramp's points are
        # the removals themselves, a curve the straight ramp follows only roughly
        in_ramp = (np.arange(s.size) > i1) & (np.arange(s.size) < i2)
        # and a point within a tenth of the step of its level is no outlier, however
        # small the scatter (a clean series has almost none)
        keep = (np.abs(resid) <= max(3.5 * sigma, 0.1 * abs(a - b))) | in_ramp
        if keep.all() or keep.sum() < 2 * min_dates:
            break
        refit = _fit_once(days, s, keep, min_dates, max_ramp_days)
        if refit is None:
            break
        use = keep
        a, b, i1, i2, _ = refit
    resid = (s - _model(days, a, b, i1, i2))[use]
    sigma = max(_robust_sigma(resid), float(np.std(resid)) * 0.5, 1e-6)
    n_a = int((use & (np.arange(s.size) <= i1)).sum())
    n_b = int((use & (np.arange(s.size) >= i2)).sum())
    z = (a - b) / (sigma * np.sqrt(1 / max(n_a, 1) + 1 / max(n_b, 1)))
    return RampFit(before=a, after=b, start=i1, end=i2, z=float(z), inliers=use)


def _model(days: np.ndarray, a: float, b: float, i1: int, i2: int) -> np.ndarray:
    span = max(days[i2] - days[i1], 1e-9)
    w = np.clip((days[i2] - days) / span, 0.0, 1.0)
    w[: i1 + 1] = 1.0
    w[i2:] = 0.0
    return a * w + b * (1 - w)


def _contrast(vals: np.ndarray, clr: np.ndarray, yard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per date and pixel, the mean absolute difference to that date's yard; and the yard spectrum.

    A difference, not a ratio: haze adds path radiance to every pixel alike, which cancels
    in a difference but compresses a ratio.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(np.where(clr[:, None, :] & yard[None, None, :], vals, np.nan), axis=2)
        c = np.nanmean(np.abs(vals - ref[:, :, None]), axis=1)
    return np.where(clr, c, np.nan), ref


def _removal_dates(
    c: np.ndarray, c0: np.ndarray, ok_t: np.ndarray, share: float, window: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel, when its contrast fell below ``share`` of ``c0`` and stayed there.

    The first date within ``window`` (date indices) below on two successive clear dates and
    mostly after (-1 if none), the share of its clear dates after that stay below, and its
    clear dates before and after.
    """
    from_t, to_t = window
    n = c.shape[1]
    low = c <= share * c0[None, :]
    seen = np.isfinite(c) & ok_t[:, None]
    idx = np.full(n, -1)
    pers = np.zeros(n)
    n_b = np.zeros(n)
    n_a = np.zeros(n)
    for p in range(n):
        ts = np.nonzero(seen[:, p])[0]
        lo = low[ts, p]
        for j in range(len(ts) - 1):
            if ts[j] > to_t:
                break
            if ts[j] < from_t or not (lo[j] and lo[j + 1]):
                continue
            after = lo[j:]
            if after.mean() >= 0.6:
                idx[p] = ts[j]
                pers[p] = after.mean()
                n_b[p], n_a[p] = j, len(ts) - j
                break
    return idx, pers, n_b, n_a


def _one_facility(
    vals: np.ndarray, clr: np.ndarray, days: np.ndarray, interior: np.ndarray, rules: FacilityRules
) -> dict[str, object] | None:
    """The test on one facility's pixels: ``vals`` (T, B, N) reflectance, ``clr`` (T, N)."""
    t_n = vals.shape[0]
    share_clear = clr.mean(axis=1)
    dates_ok = share_clear >= rules.min_clear_share
    ok_idx = np.nonzero(dates_ok)[0]
    if ok_idx.size < 2 * rules.min_dates + 1:
        return None
    n_early = max(rules.min_dates + 2, int(rules.early_share * ok_idx.size))
    early_t = ok_idx[:n_early]
    yard = np.ones(vals.shape[2], bool)
    for _ in range(3):  # the facility's median first, then its calmest pixels
        c, _ = _contrast(vals, clr, yard)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            c0 = np.nanmedian(c[early_t], axis=0)
        if not np.isfinite(c0).any():
            return None
        yard = c0 <= np.nanquantile(c0, rules.yard_quantile)
    scatter = float(np.nanmedian(c0[yard]))
    structures = interior & (c0 >= max(rules.min_contrast, rules.structure_scatter * scatter))
    if int(structures.sum()) < rules.min_structure_px:
        return None
    cs, c0s = c[:, structures], c0[structures]
    clear_s = np.isfinite(cs).mean(axis=1) >= rules.min_clear_share
    t_use = np.nonzero(clear_s)[0]
    if t_use.size < 2 * rules.min_dates + 1:
        return None
    # the share of the structures still standing (contrast above half the early one): a
    # count, so that a hazy date that dims every contrast a little, or a few pixels that
    # misregister, move it far less than a sum of contrasts
    seen_s = np.isfinite(cs[t_use])
    standing = (cs[t_use] >= rules.removed_share * c0s[None, :]) & seen_s
    pooled = standing.sum(axis=1) / seen_s.sum(axis=1)
    fit = ramp_fit(days[t_use], pooled, min_dates=rules.min_dates, max_ramp_days=rules.max_ramp_days)
    if fit is None or fit.before <= 0:
        return None
    drop = (fit.before - fit.after) / fit.before
    tail = pooled[-rules.min_dates :]
    lasting = float(np.median(tail)) <= fit.before - 0.5 * (fit.before - fit.after)
    if not (drop >= rules.min_drop and fit.z >= rules.min_z and lasting):
        return None
    # each structure pixel's own removal, from a little before the fitted ramp
    window = (
        int(t_use[max(0, fit.start - rules.min_dates)]),
        int(t_use[min(t_use.size - 1, fit.end + rules.min_dates)]),
    )
    idx, pers, n_b, n_a = _removal_dates(cs, c0s, clear_s, rules.removed_share, window)
    gone = idx >= 0
    if gone.sum() < rules.min_structure_px:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        late = np.nanmedian(cs[t_use[fit.end :]], axis=0)
        early_sd = np.nanstd(cs[early_t], axis=0)
    ok = np.isfinite(late)
    # the structure signal is the contrast above the yard's own scatter (what a pixel with
    # nothing on it shows): a removed structure's pixel falls to that floor, not to zero
    signal = np.clip(c0s[ok] - scatter, 0.0, None)
    lost = float(np.sum(np.clip(c0s[ok] - late[ok], 0.0, signal)))
    fraction = lost / float(signal.sum()) if signal.sum() > 0 else drop
    q = idx[gone]
    # the earliest tenth, not the very first: a mixed pixel can dip on two dates by chance
    onset = int(np.quantile(q, 0.1, method="lower"))
    persistence = float(np.mean(pers[gone]))
    mag = (c0s[gone] - np.nan_to_num(late[gone], nan=0.0)) / np.maximum(early_sd[gone], 1e-3)
    if persistence < rules.min_persistence or float(np.mean(mag)) < rules.min_magnitude:
        return None
    removal_index = np.full(vals.shape[2], -1)
    where = np.nonzero(structures)[0]
    removal_index[where[gone]] = q
    return {
        "structures": structures,
        "removal_index": removal_index,
        "onset_index": onset,
        "first_index": onset,
        "completed_index": int(np.quantile(q, 0.9, method="lower")),
        "last_unchanged_index": int(t_use[fit.start]) if fit.start < t_n else None,
        "fraction": round(min(1.0, max(0.0, fraction)), 3),
        "drop": round(float(drop), 3),
        "z": round(float(fit.z), 1),
        "persistence": persistence,
        "magnitude": float(np.mean(mag)),
        "n_clear_before": float(np.median(n_b[gone])),
        "n_clear_after": float(np.median(n_a[gone])),
    }


def _ndvi(values: np.ndarray, bands: Sequence[str], axis: int) -> np.ndarray | None:
    """NDVI of ``values`` whose ``axis`` runs over ``bands`` (B8A stands in for B08); None without them."""
    names = list(bands)
    nir = nir_band(names)
    if "B04" not in names or nir is None:
        return None
    return normalized_difference(
        np.take(values, names.index(nir), axis=axis), np.take(values, names.index("B04"), axis=axis)
    )


def _green(vals: np.ndarray, clr: np.ndarray, bands: Sequence[str], rules: FacilityRules) -> np.ndarray:
    """Pixels green on a share of their clear dates (``vals`` (T, B, N)); none without red and NIR."""
    ndvi = _ndvi(vals, bands, axis=1)
    if ndvi is None:
        return np.zeros(vals.shape[2], bool)
    green = (ndvi >= rules.green_ndvi) & clr
    return green.sum(axis=0) >= rules.green_share * np.maximum(clr.sum(axis=0), 1)


def facility_losses(
    stack: np.ndarray,
    clear: np.ndarray,
    facilities: np.ndarray,
    days: np.ndarray,
    *,
    bands: Sequence[str] = (),
    rules: FacilityRules = DEFAULT_FACILITY_RULES,
) -> list[FacilityLoss]:
    """The facilities whose structures were removed, with what went and when.

    Parameters
    ----------
    stack : numpy.ndarray
        ``(T, B, Y, X)`` reflectance x 10000 (co-registered), time ascending.
    clear : numpy.ndarray
        ``(T, Y, X)`` bool.
    facilities : numpy.ndarray
        ``(Y, X)`` int labels (0: none), e.g. :attr:`SiteContext.facilities`.
    days : numpy.ndarray
        ``(T,)`` day numbers of the dates.
    bands : sequence of str
        Band names of ``stack`` (B04 and B08 or B8A tell vegetation from structures).
    rules : FacilityRules

    Returns
    -------
    list of FacilityLoss
        One per facility that passed the test, by label.
    """
    out = []
    days = np.asarray(days, float)
    for lab, sl in enumerate(ndimage.find_objects(facilities), start=1):
        if sl is None:
            continue
        fac = facilities[sl] == lab
        if int(fac.sum()) < rules.min_structure_px * 2:
            continue
        vals = stack[:, :, sl[0], sl[1]][:, :, fac].astype(np.float32) * 1e-4
        clr = clear[:, sl[0], sl[1]][:, fac]
        interior = ndimage.binary_erosion(fac)[fac] & ~_green(vals, clr, bands, rules)
        found = _one_facility(vals, clr, days, interior, rules)
        if found is None:
            continue
        structures = np.zeros(facilities.shape, bool)
        removal_index = np.full(facilities.shape, -1)
        structures[sl][fac] = found.pop("structures")  # type: ignore[index]
        removal_index[sl][fac] = found.pop("removal_index")  # type: ignore[index]
        out.append(
            FacilityLoss(
                facility=lab,
                structures=structures,
                removed=removal_index >= 0,
                removal_index=removal_index,
                **found,  # type: ignore[arg-type]
            )
        )
    return out


def textured_regions(
    composite: np.ndarray,
    bands: Sequence[str],
    *,
    exclude: np.ndarray | None = None,
    rules: FacilityRules = DEFAULT_FACILITY_RULES,
) -> np.ndarray:
    """Yards of structures found by their texture, where the built-up test saw none.

    A compound of roofs, tents and vehicles on a yard is a patchwork at 10 m: each pixel
    differs from its neighbours far more than a field's or a plain's do. Pixels that differ
    from their 3 x 3 neighbourhood's median by ``rules.texture_ratio`` times the scene's
    median difference and are not green, closed over the yard between structures and opened
    to drop field edges and tracks, are candidate facilities for :func:`facility_losses`.

    Parameters
    ----------
    composite : numpy.ndarray
        ``(B, Y, X)`` reflectance of the early clear composite.
    bands : sequence of str
        Its band names.
    exclude : numpy.ndarray, optional
        ``(Y, X)`` bool: regions mostly inside it are left out (the facilities already tested).
    rules : FacilityRules

    Returns
    -------
    numpy.ndarray
        ``(Y, X)`` int labels (0: none).
    """
    filled = np.nan_to_num(composite, nan=0.0)
    med = np.stack([ndimage.median_filter(b, size=3) for b in filled])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        diff = np.nanmean(np.abs(composite - med), axis=0)
        scale = float(np.nanmedian(diff))
    if not np.isfinite(scale) or scale <= 0:
        return np.zeros(composite.shape[1:], np.int32)
    textured = np.nan_to_num(diff, nan=0.0) > rules.texture_ratio * scale
    ndvi = _ndvi(composite, bands, axis=0)
    if ndvi is not None:
        textured &= ~(ndvi >= rules.green_ndvi)
    region = ndimage.binary_opening(ndimage.binary_closing(textured, iterations=2), iterations=2)
    labels, n = ndimage.label(region)
    if exclude is not None and n:
        inside = ndimage.mean(exclude, labels, np.arange(1, n + 1))
        labels[np.isin(labels, np.nonzero(np.asarray(inside) >= 0.5)[0] + 1)] = 0
    return labels.astype(np.int32)
