"""The spatially pooled break test: a change too faint for one pixel, plain over its neighbours.

The abrupt-break test of :mod:`sitewatch.core.history_tile` asks each pixel on its own for
a score of ``threshold`` noise units. A gravel or concrete pad laid on ground of about its
own colour, and the two to six mixed pixels across a strip 20-60 m wide, move by two or
three units only: no single pixel breaks, though the whole footprint moved together on the
same date. Noise does not do that: a pixel's neighbours agree with it by chance only as
often as the date's own exceedance rate allows. So a pixel whose observation scores at
least ``pooled_threshold`` (below ``threshold``) may start a break when enough of its eight
neighbours score that much on the same date that the agreement is improbable by chance:
the binomial tail of the agreeing count, with the rate of such scores among the tile's
pixels on that date (a hazy date, or a date where the whole scene moved, raises the rate
and needs more agreement), is at most ``pooled_alpha``. The break is then confirmed and
tested for lasting as the per-pixel one is, at ``pooled_threshold``.

Neighbours are looked up among the pixels of the tile being processed (a tile's border
pixels have fewer of them, which only makes the test stricter there).

The pooled test finds whole faint works; it never grows or joins what the per-pixel test
already sees (:func:`beside_strong_breaks`): the mixed pixels around a strong change, and
between two strong changes a few pixels apart, share their neighbours' faint move, so
admitting them would widen a pad by its halo and weld a pad to the earthworks beside it.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__ = [
    "NEIGHBOUR_OFFSETS",
    "agreement_tail",
    "beside_strong_breaks",
    "neighbour_index",
    "pooled_agreement",
]

#: The eight neighbours of a pixel as (row, column) offsets.
NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = (
    (-1, -1),
    (-1, 0),
    (-1, 1),
    (0, -1),
    (0, 1),
    (1, -1),
    (1, 0),
    (1, 1),
)


def neighbour_index(pix: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Positions, within a tile, of each tile pixel's eight neighbours.

    Parameters
    ----------
    pix : numpy.ndarray
        ``(P,)`` flat positions of the tile's pixels in the image (row-major).
    shape : tuple of int
        ``(H, W)`` of the image.

    Returns
    -------
    numpy.ndarray
        ``(8, P)`` int32 positions in ``pix``; -1 where the neighbour is outside the image or
        not in the tile.
    """
    h, w = shape
    pix = np.asarray(pix, dtype=np.int64)
    order = np.argsort(pix, kind="stable")
    spix = pix[order]
    rows, cols = np.divmod(pix, w)
    out = np.full((len(NEIGHBOUR_OFFSETS), pix.size), -1, np.int32)
    if not pix.size:
        return out
    for i, (dy, dx) in enumerate(NEIGHBOUR_OFFSETS):
        rr, cc = rows + dy, cols + dx
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        q = rr * w + cc
        pos = np.minimum(np.searchsorted(spix, q), spix.size - 1)
        hit = inside & (spix[pos] == q)
        out[i] = np.where(hit, order[pos], -1)
    return out


def agreement_tail(rate: np.ndarray, n_max: int = 8) -> np.ndarray:
    """``P(X >= c)`` for ``X ~ Binomial(n, rate_t)``, every date ``t``, ``n`` and ``c`` up to ``n_max``.

    Parameters
    ----------
    rate : numpy.ndarray
        ``(T,)`` chance, per date, that a pixel's score exceeds the pooled threshold.
    n_max : int

    Returns
    -------
    numpy.ndarray
        ``(T, n_max + 1, n_max + 2)`` float64; ``[t, n, c]`` is 0 for ``c > n``.
    """
    q = np.clip(np.asarray(rate, dtype=np.float64), 0.0, 1.0)[:, None, None]
    n = np.arange(n_max + 1)[None, :, None]
    j = np.arange(n_max + 1)[None, None, :]
    comb = np.array([[math.comb(a, b) if b <= a else 0 for b in range(n_max + 1)] for a in range(n_max + 1)])
    with np.errstate(invalid="ignore"):
        pmf = comb[None] * q**j * (1 - q) ** np.maximum(n - j, 0)
    pmf = np.where(j <= n, pmf, 0.0)
    tail = np.zeros((q.shape[0], n_max + 1, n_max + 2))
    tail[:, :, : n_max + 1] = np.flip(np.cumsum(np.flip(pmf, -1), axis=-1), -1)
    return tail


def pooled_agreement(
    flagged: np.ndarray,
    scored: np.ndarray,
    ti: np.ndarray,
    pi: np.ndarray,
    neighbours: np.ndarray,
    alpha: float,
) -> np.ndarray:
    """Which flagged observations are backed by their neighbours beyond chance.

    Parameters
    ----------
    flagged : numpy.ndarray
        ``(T, P)`` bool: observations scoring at least the pooled threshold (phenology
        excluded).
    scored : numpy.ndarray
        ``(T, P)`` bool: observations with a score (clear, with a baseline).
    ti, pi : numpy.ndarray
        ``(N,)`` date and pixel of the observations to test.
    neighbours : numpy.ndarray
        ``(8, P)`` from :func:`neighbour_index`.
    alpha : float
        Largest chance of the agreement under the date's own rate.

    Returns
    -------
    numpy.ndarray
        ``(N,)`` bool.
    """
    if not ti.size:
        return np.zeros(0, bool)
    n_scored = scored.sum(axis=1)
    rate = flagged.sum(axis=1) / np.maximum(n_scored, 1)
    tail = agreement_tail(rate, neighbours.shape[0])
    nb = neighbours[:, pi]  # (8, N)
    has = nb >= 0
    nbs = np.maximum(nb, 0)
    agree = (flagged[ti[None], nbs] & has).sum(axis=0)
    seen = (scored[ti[None], nbs] & has).sum(axis=0)
    out: np.ndarray = (agree > 0) & (tail[ti, seen, agree] <= alpha)
    return out


def beside_strong_breaks(
    pooled: np.ndarray,
    strong: np.ndarray,
    pix: np.ndarray | None,
    shape: tuple[int, int],
    *,
    min_claim: int = 1,
) -> np.ndarray:
    """Pooled breaks in one 8-connected patch with at least ``min_claim`` breaks of the per-pixel test.

    Parameters
    ----------
    pooled : numpy.ndarray
        ``(P,)`` bool: pixels whose break came from the pooled test.
    strong : numpy.ndarray
        ``(P,)`` bool: pixels with a break of the per-pixel or slow tests (of any kind:
        a field's edge is as much its field's as a pad's halo is its pad's).
    pix : numpy.ndarray or None
        ``(P,)`` flat image positions of the pixels (row-major); None when the pixels are the
        whole image in order.
    shape : tuple of int
        ``(H, W)`` of the image.
    min_claim : int
        Fewest per-pixel breaks in a patch that claim it; a patch with fewer is the faint
        change's, and its pooled breaks are kept.

    Returns
    -------
    numpy.ndarray
        ``(P,)`` bool: the pooled breaks to drop.
    """
    pooled = np.asarray(pooled, bool)
    out = np.zeros(pooled.shape, bool)
    if not pooled.any() or not np.any(strong):
        return out
    w = shape[1]
    if pix is None:
        rows, cols = np.divmod(np.arange(pooled.size), w)
    else:
        rows, cols = np.divmod(np.asarray(pix, np.int64), w)
    # only the bounding box of the pixels given (a chunk of a large image)
    r0, c0 = int(rows.min()), int(cols.min())
    box = (int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1)
    rr, cc = rows - r0, cols - c0
    any_break = np.zeros(box, bool)
    any_break[rr, cc] = pooled | strong
    labels, _ = ndimage.label(any_break, structure=np.ones((3, 3), bool))
    lab = labels[rr, cc]
    n_strong = np.bincount(lab[np.asarray(strong, bool) & (lab > 0)], minlength=int(labels.max()) + 1)
    claimed = n_strong >= max(1, min_claim)
    claimed[0] = False
    out[:] = pooled & claimed[lab]
    return out
