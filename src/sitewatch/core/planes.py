"""The haze/illumination planes of the per-pixel history's radiometric normalisation.

Per date and band, a plane (offset + east/north gradient) fitted on pseudo-invariant pixels
(the most temporally stable ones of a regular sub-sample) is removed from every pixel, which
takes out haze and illumination differences between dates (step 1 of
:mod:`sitewatch.core.history`). The one global step of the history: the block-by-block face
fits the planes once on the whole image and hands them to every block.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["fit_planes", "plane_sample_step", "subtract_plane"]


def _nanmedian0(a: np.ndarray) -> np.ndarray:
    """``np.nanmedian(a, axis=0)`` for float arrays, the same values, 15x faster.

    One sort along time (NaN sort last), then the mean of the middle pair of the clear
    values (``np.nanmedian`` goes through masked arrays and an argsort); NaN where none.
    """
    srt = np.sort(a, axis=0)
    n = a.shape[0] - np.count_nonzero(np.isnan(a), axis=0)
    lo = np.take_along_axis(srt, (np.maximum(n - 1, 0) // 2)[None], axis=0)[0]
    hi = np.take_along_axis(srt, np.minimum(n // 2, max(0, a.shape[0] - 1))[None], axis=0)[0]
    out: np.ndarray = lo + hi
    np.true_divide(out, 2.0, out=out, casting="unsafe")
    out[n == 0] = np.nan
    return out


def _ndvi_near_own_median(
    xs: np.ndarray, red_nir: tuple[int, int], tolerance: float, valid: np.ndarray
) -> np.ndarray:
    """``(T, S)`` True where a pixel's NDVI is within ``tolerance`` of its own median.

    A date keeps all its pixels when fewer than 20 (or a hundredth of them) would pass
    (see :func:`fit_planes`).
    """
    red, nir = xs[:, red_nir[0]], xs[:, red_nir[1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)
    near = np.abs(ndvi - _nanmedian0(ndvi)[None]) <= tolerance
    # at least 20 pixels, and a hundredth of the stable set on a big image: a tile's plane
    # is not fitted on a few leftovers of tens of thousands
    too_few = np.count_nonzero(near & valid, axis=1) < max(20, 0.01 * xs.shape[2])
    near[too_few] = True
    return near


def plane_sample_step(shape: tuple[int, int], *, max_samples: int = 120_000) -> int:
    """Pixel step of the regular sub-sample the normalisation planes are fitted on.

    Every 8th pixel each way, coarser for big images so the sample stays below
    ``max_samples`` pixels (a whole Sentinel-2 tile is sampled every 32nd pixel).
    """
    h, w = shape
    return max(8, math.ceil(math.sqrt(h * w / max_samples)))


def fit_planes(
    sample: np.ndarray,
    valid: np.ndarray,
    shape: tuple[int, int],
    step: int,
    *,
    scale: float = 1.0,
    red_nir: tuple[int, int] | None = None,
    ndvi_tolerance: float = 0.1,
) -> np.ndarray:
    """Per-date, per-band haze/illumination planes ``(T, F, 3)`` from a regular sub-sample.

    Parameters
    ----------
    sample : numpy.ndarray
        ``(T, F, Hs, Ws)`` values at rows and columns ``0, step, 2*step...`` of the image.
    valid : numpy.ndarray
        ``(T, Hs, Ws)`` bool, True for clear observations.
    shape : tuple of int
        ``(H, W)`` of the whole image (the planes' coordinates run over it).
    step : int
        Sampling step (see :func:`plane_sample_step`).
    scale : float
        Factor to reflectance 0..1.
    red_nir : tuple of int, optional
        Feature positions of red and NIR. With them, a date's plane leaves out the
        pseudo-invariant pixels whose NDVI on that date is more than ``ndvi_tolerance``
        from their own median NDVI.
    ndvi_tolerance : float
        See ``red_nir``.

    Returns
    -------
    numpy.ndarray
        ``(T, F, 3)`` offset, east and north gradient per date and band, fitted by least
        squares on pseudo-invariant pixels against their temporal median; zeros where too
        few pixels are clear.

    Notes
    -----
    Pseudo-invariant pixels are the 30 % whose median absolute departure from their own
    temporal median (mean over bands) is smallest. A field or a hillside that is green for
    a third of the year has a small median departure too, and on a farmed or grassy site
    such pixels make most of that set: their common spring green-up was fitted as a NIR
    offset of +0.13 to +0.16 and taken off every pixel, so a concrete pad's NIR read 0.03.

    Hence the date-by-date NDVI test. Haze moves a pixel's NDVI little (an additive 0.05 in
    red moves bare soil's NDVI by about 0.04), growth and harvest move it by 0.2 to 0.5: a
    date's plane is fitted on the pseudo-invariant pixels not growing or cut on that date,
    which haze alone moves. Leaving such pixels out for good instead (every pixel green on
    a tenth of its dates) left only bare fields, whose own ploughing and wetting then made
    the planes. Where fewer than 20 pixels (or a hundredth of the set) pass on a date, it
    keeps them all.
    """
    t, f, hs, ws = sample.shape
    h, w = shape
    rows, cols = np.mgrid[0 : hs * step : step, 0 : ws * step : step]
    sidx = (rows * w + cols).ravel()
    xs = np.multiply(sample, np.float32(scale), dtype=np.float32).reshape(t, f, hs * ws)
    vs = np.asarray(valid, bool).reshape(t, hs * ws) & np.isfinite(xs).all(axis=1)
    np.copyto(xs, np.float32(np.nan), where=~vs[:, None, :])
    enough = vs.sum(axis=0) >= max(3, t // 4)
    if enough.sum() < 20:
        return np.zeros((t, f, 3), np.float32)
    xs, sidx, vs = xs[:, :, enough], sidx[enough], vs[:, enough]
    med = _nanmedian0(xs)  # (F, S) on a small sample
    spread = _nanmedian0(np.abs(xs - med)).mean(axis=0)
    stable = spread <= np.quantile(spread, 0.3)
    xs, sidx, med, vs = xs[:, :, stable], sidx[stable], med[:, stable], vs[:, stable]
    if red_nir is not None:
        vs = vs & _ndvi_near_own_median(xs, red_nir, ndvi_tolerance, vs)
    ry = (sidx // w) / max(1, h - 1) - 0.5
    rx = (sidx % w) / max(1, w - 1) - 0.5
    design = np.column_stack([np.ones_like(rx), rx, ry])
    coef = np.zeros((t, f, 3), np.float32)
    for ti in range(t):
        ok = vs[ti]
        if ok.sum() < 20:
            continue
        a_ok = design[ok]
        d_ok = xs[ti][:, ok] - med[:, ok]  # (F, n), every band at once
        for fi in range(f):
            d = d_ok[fi]
            good = np.isfinite(d)
            n_good = np.count_nonzero(good)
            if n_good < 20:
                continue
            a = a_ok
            if n_good < d.size:
                a, d = a[good], d[good]
            sol, *_ = np.linalg.lstsq(a, d, rcond=None)
            resid = d - a @ sol
            keep = np.abs(resid) <= 2.5 * (np.median(np.abs(resid)) * 1.4826 + 1e-6)
            if keep.sum() >= 20:
                sol, *_ = np.linalg.lstsq(a[keep], d[keep], rcond=None)
            coef[ti, fi] = sol
    return coef


def subtract_plane(x: np.ndarray, coef: np.ndarray, pix: np.ndarray, shape: tuple[int, int]) -> None:
    """``x -= plane`` in place, date by date (no (T, F, P) temporary)."""
    h, w = shape
    ry = ((pix // w) / max(1, h - 1) - 0.5).astype(np.float32)
    rx = ((pix % w) / max(1, w - 1) - 0.5).astype(np.float32)
    c = coef.astype(np.float32)
    plane = np.empty(x.shape[1:], np.float32)
    part = np.empty(x.shape[1:], np.float32)
    for t in range(x.shape[0]):
        # x[t] -= c0 + c1 * rx + c2 * ry, in that order, in two reused buffers
        np.multiply(c[t, :, 1:2], rx[None], out=plane)
        np.add(c[t, :, 0:1], plane, out=plane)
        np.multiply(c[t, :, 2:3], ry[None], out=part)
        plane += part
        x[t] -= plane
