"""Grouping changed pixels into objects: joined, split by date, distinct works kept apart.

An object is a connected area of changed pixels (gaps bridged, wider ones inside the
built-up area that was there before, where an evacuation removes structures one by one),
whose pixels changed at about the same time. :func:`group_changes` is the whole step;
:func:`join_changes`, :func:`split_by_date` and :func:`separate_distinct` its parts.

Examples
--------
>>> import numpy as np
>>> changed = np.zeros((12, 12), bool); changed[2:6, 2:6] = changed[2:6, 7:11] = True
>>> days = np.where(changed, 0, -1); days[:, 7:] = np.where(changed[:, 7:], 200, -1)
>>> labels = group_changes(changed, days, np.zeros_like(changed), min_pixels=4, split_days=60)
>>> int(labels.max())
2
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import ndimage

from sitewatch.core.morphology import label_changes

__all__ = ["group_changes", "join_changes", "separate_distinct", "split_by_date", "split_off"]


def join_changes(changed: np.ndarray, built: np.ndarray) -> np.ndarray:
    """Join the scattered changed pixels of one object.

    Gaps of about two pixels are bridged everywhere; inside built-up area that was there
    before (``built``), where an evacuation removes structures one by one, about four.

    Parameters
    ----------
    changed, built : numpy.ndarray
        ``(Y, X)`` bool.

    Returns
    -------
    numpy.ndarray
        ``(Y, X)`` bool, a superset of ``changed``.
    """
    joined = ndimage.binary_closing(changed, structure=np.ones((3, 3)), iterations=2)
    in_built = changed & ndimage.binary_dilation(built, iterations=2)
    joined |= ndimage.binary_closing(in_built, structure=np.ones((3, 3)), iterations=4) & built
    out: np.ndarray = ndimage.binary_opening(joined, structure=np.ones((2, 2))) | changed
    return out


def split_by_date(labels: np.ndarray, days: np.ndarray, split_days: int, min_pixels: int) -> np.ndarray:
    """Split each labelled area where its pixels' dates leave a gap longer than ``split_days``.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(Y, X)`` int labels, 0 = background.
    days : numpy.ndarray
        ``(Y, X)`` int: each changed pixel's break, days from the first date; -1 where none.
    split_days : int
    min_pixels : int
        Groups of dates smaller than this join the nearest big group in time.

    Returns
    -------
    numpy.ndarray
        New labels, consecutive from 1.
    """
    out = np.zeros_like(labels)
    nxt = 1
    for lab in range(1, int(labels.max()) + 1):
        m = labels == lab
        if not m.any():
            continue
        d = days[m]
        ok = d >= 0
        uniq = np.unique(d[ok])
        groups = [uniq[:1]] if uniq.size else []
        for a, b in itertools.pairwise(uniq):
            if b - a > split_days:
                groups.append(np.array([b]))
            else:
                groups[-1] = np.append(groups[-1], b)
        if len(groups) <= 1:
            out[m] = nxt
            nxt += 1
            continue
        sizes = [np.isin(d, g).sum() for g in groups]
        big = [g for g, s in zip(groups, sizes, strict=True) if s >= min_pixels]
        if len(big) <= 1:
            out[m] = nxt
            nxt += 1
            continue
        # pixels of small groups (and closing fill) join the nearest big group in time
        centers = np.array([np.median(g) for g in big])
        assign = np.argmin(np.abs(d[:, None] - centers[None, :]), axis=1)
        if (~ok).any():
            assign[~ok] = int(np.argmax([np.isin(d, g).sum() for g in big]))
        vals = np.zeros(d.shape, labels.dtype)
        for gi in range(len(big)):
            vals[assign == gi] = nxt + gi
        out[m] = vals
        nxt += len(big)
    return out


def _nearest_seed(seeds: np.ndarray) -> np.ndarray:
    """``(Y, X)``: at every pixel, the value of the nearest non-zero pixel of ``seeds``."""
    _, (iy, ix) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    out: np.ndarray = seeds[iy, ix]
    return out


def separate_distinct(
    labels: np.ndarray,
    changed: np.ndarray,
    days: np.ndarray,
    built: np.ndarray,
    min_pixels: int,
    *,
    min_gap_days: int = 10,
) -> np.ndarray:
    """Undo bridges the gap-closing made between distinct works on open ground.

    The closing that joins scattered changed pixels (structures removed one by one) also
    bridges two separate works a few pixels apart, such as a pad built beside earthworks
    of a few weeks before. Within one label, connected groups of changed pixels outside
    the built-up area, each at least ``min_pixels``, whose dates do not overlap (10-90 %
    ranges disjoint, medians more than ``min_gap_days`` apart) become objects of their own;
    bridge pixels join the nearest group.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(Y, X)`` int labels.
    changed, built : numpy.ndarray
        ``(Y, X)`` bool.
    days : numpy.ndarray
        As :func:`split_by_date`.
    min_pixels, min_gap_days : int

    Returns
    -------
    numpy.ndarray
        Labels, new objects numbered after the existing ones.
    """
    out = labels.copy()
    nxt = int(labels.max()) + 1
    for lab in range(1, int(labels.max()) + 1):
        m = labels == lab
        if not m.any():
            continue
        comp, n = ndimage.label(m & changed, structure=np.ones((3, 3)))
        if n < 2:
            continue
        groups = []
        for c in range(1, n + 1):
            g = comp == c
            if g.sum() < min_pixels or (g & built).sum() > 0.5 * g.sum():
                continue
            d = days[g]
            d = d[d >= 0]
            if d.size:
                groups.append((c, np.quantile(d, 0.1), np.median(d), np.quantile(d, 0.9)))
        if len(groups) < 2:
            continue
        groups.sort(key=lambda g: g[2])
        # chain groups of similar dates; a new object starts where the dates clearly part
        clusters: list[list[int]] = [[groups[0][0]]]
        hi = groups[0][3]
        med = groups[0][2]
        for c, q10, q50, q90 in groups[1:]:
            if q10 > hi and q50 - med > min_gap_days:
                clusters.append([c])
            else:
                clusters[-1].append(c)
            hi, med = max(hi, q90), q50
        if len(clusters) < 2:
            continue
        seeds = np.zeros(m.shape, np.int32)
        for i, cl in enumerate(clusters):
            seeds[np.isin(comp, cl)] = i + 1
        # every pixel of the label goes to the nearest cluster
        nearest = _nearest_seed(seeds)
        for i in range(2, len(clusters) + 1):
            out[m & (nearest == i)] = nxt
            nxt += 1
    return out


def group_changes(
    changed: np.ndarray,
    days: np.ndarray,
    built: np.ndarray,
    *,
    min_pixels: int,
    split_days: int,
) -> np.ndarray:
    """Changed pixels to object labels: joined, labelled, split by date, distinct works separated.

    Parameters
    ----------
    changed, built : numpy.ndarray
        ``(Y, X)`` bool: the confirmed changes, and the built-up area before them.
    days : numpy.ndarray
        ``(Y, X)`` int: each changed pixel's break, days from the first date; -1 where none.
    min_pixels : int
        Smallest object (and smallest group of dates) in pixels.
    split_days : int
        Pixels of one area whose dates are further apart than this become separate objects.

    Returns
    -------
    numpy.ndarray
        ``(Y, X)`` int labels, 0 = background.
    """
    labels0 = np.asarray(label_changes(join_changes(changed, built), min_pixels=min_pixels))
    labels = split_by_date(labels0, days, split_days, min_pixels)
    return separate_distinct(labels, changed, days, built, min_pixels)


def split_off(
    mask: np.ndarray, changed: np.ndarray, part: np.ndarray, min_pixels: int, *, solid: bool = False
) -> tuple[np.ndarray, np.ndarray] | None:
    """An object's pixels split into one change (``part``) and the change beside it, or None.

    Two changes of about the same time that touch become one object that fits no type: a
    clearing and works laid beside it, a pad and the field it was laid on. The per-pixel
    history tells them apart (``part``: the lasting losses of vegetation, or the pixels that
    became built). The split is made when ``part`` holds a connected group of at least
    ``min_pixels`` (with ``solid``, also with an interior: a pixel whose eight neighbours are
    all of it) and there are at least ``min_pixels`` other changed pixels. The part is those
    groups and the object's pixels next to them (gaps and holes nearer to them than to the
    rest); every other pixel of the object stays with the rest, so the part's outline is its
    change's, not a tail of unchanged pixels reaching across the object.

    Parameters
    ----------
    mask, changed, part : numpy.ndarray
        ``(Y, X)`` bool: the object, the changed pixels, the pixels of the change split off.
    min_pixels : int
        Smallest part, in pixels.
    solid : bool
        Split off only groups with an interior: where ``part`` is a per-pixel surface test
        that a few noisy pixels pass along an edge (a clearing's loss, found pixel by pixel
        with gaps, is not asked for one).

    Returns
    -------
    tuple of numpy.ndarray or None
        ``(part_of_it, rest)``, bool masks that share no pixel and cover ``mask``.
    """
    lost = mask & changed & part
    rest = mask & changed & ~part
    if int(rest.sum()) < min_pixels or int(lost.sum()) < min_pixels:
        return None
    comp, _ = ndimage.label(lost, structure=np.ones((3, 3)))
    sizes = np.bincount(comp.ravel())
    # the groups and the other changed pixels are the seeds; scattered pixels of the kind
    # (noise, or the rest's own mixed pixels) go to the nearer, as the unchanged ones do
    keep = sizes >= min_pixels
    if solid:
        inner = ndimage.binary_erosion(lost, structure=np.ones((3, 3), bool))
        keep &= np.bincount(comp[inner], minlength=sizes.size) > 0
    keep[0] = False
    if not keep.any():
        return None
    groups = keep[comp]
    nearer = _nearest_seed(np.where(groups, 1, np.where(rest, 2, 0)).astype(np.int32)) == 1
    grown = ndimage.binary_dilation(mask & changed & nearer, structure=np.ones((3, 3), bool))
    own = mask & nearer & ndimage.binary_fill_holes(grown)
    return own, mask & ~own
