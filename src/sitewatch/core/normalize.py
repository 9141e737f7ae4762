"""Relative radiometric normalisation of one date to another on unchanged pixels.

What it offers
--------------
- :class:`Normalization` : per-band gain and offset, the share of pixels judged
  invariant, and the fit before and after (robust RMS difference).
- :func:`normalize` : map the reflectance of ``after`` onto ``before``'s radiometry with an
  iteratively reweighted fit in the spirit of IR-MAD (Canty & Nielsen): each round fits a
  per-band linear map (reduced major axis, symmetric in the two dates) with weights, then
  gives every pixel the chi-square probability of its standardised multi-band difference
  as its new weight, so changed pixels stop steering the fit.

Sun angle, atmosphere and season change whole-scene brightness; after normalisation a
large difference means the ground changed.

- :func:`offset_evidence` and :func:`offset_mismatches` : whether each date's digital
  numbers agree with the +1000 offset its provider says it removed (or did not). Real
  reflectance is never far below zero, so data that lose 1000 DN they never carried show
  pixels far below 0; data that carry it unremoved have no pixel darker than about 1000 DN
  in any band, even in cloud shadow or water, where a series of real scenes always has some.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "OFFSET_CARRIED_FLOOR_DN",
    "OFFSET_CHECK_MIN_PIXELS",
    "OFFSET_MISSING_BELOW_DN",
    "Normalization",
    "OffsetEvidence",
    "normalize",
    "offset_evidence",
    "offset_mismatches",
]

#: Reflectance x 10000 no surface reaches (after over-correction real L2A dips to about -100):
#: darker pixels mean 1000 DN were taken from data that never carried them.
OFFSET_MISSING_BELOW_DN = -300.0
#: Share of a date's pixels that far below zero that says so (real scenes: none).
OFFSET_MISSING_SHARE = 0.002
#: Data carrying the +1000 have nothing darker than this in any band (real reflectance >= 0,
#: a little over-correction apart); a series of real scenes, even of desert, has shadows and
#: water well below it.
OFFSET_CARRIED_FLOOR_DN = 900.0
#: Share of a series' pixels (dates pooled) darker than the floor below which it carries the offset.
OFFSET_CARRIED_SHARE = 1e-4
#: Fewest valid pixels (dates pooled) for the carried-offset test to say anything.
OFFSET_CHECK_MIN_PIXELS = 20_000


@dataclass(frozen=True)
class Normalization:
    """How ``after`` was mapped onto ``before``: ``after_norm = gain * after + offset``.

    Parameters
    ----------
    gains, offsets : mapping of band to float
    invariant_fraction : float
        Share of the fitted pixels whose final chi-square p-value exceeds 0.01 (judged unchanged).
    n_samples : int
        Pixels used in the fit.
    rmse_before, rmse_after : mapping of band to float
        Robust RMS difference (1.4826 MAD, reflectance x 10000) between the dates on the
        invariant pixels, before and after normalisation.
    iterations : int
    """

    gains: Mapping[str, float] = field(default_factory=dict)
    offsets: Mapping[str, float] = field(default_factory=dict)
    invariant_fraction: float = float("nan")
    n_samples: int = 0
    rmse_before: Mapping[str, float] = field(default_factory=dict)
    rmse_after: Mapping[str, float] = field(default_factory=dict)
    iterations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain, rounded dict for reports and GeoJSON foreign members."""

        def r(m: Mapping[str, float], n: int) -> dict[str, float]:
            return {k: round(float(v), n) for k, v in m.items()}

        return {
            "gains": r(self.gains, 4),
            "offsets": r(self.offsets, 1),
            "invariant_fraction": round(self.invariant_fraction, 3),
            "n_samples": self.n_samples,
            "rmse_before": r(self.rmse_before, 1),
            "rmse_after": r(self.rmse_after, 1),
            "iterations": self.iterations,
        }


def _robust_sd(x: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def normalize(
    after: xr.DataArray,
    before: xr.DataArray,
    *,
    clear: xr.DataArray | np.ndarray | None = None,
    iterations: int = 5,
    max_samples: int = 50_000,
    seed: int = 0,
    overwrite: bool = False,
) -> tuple[xr.DataArray, Normalization]:
    """Normalise ``after`` to the radiometry of ``before`` on pseudo-invariant pixels.

    Parameters
    ----------
    after, before : xarray.DataArray
        ``(band, y, x)`` or ``(time, band, y, x)`` with one time, on the same grid;
        bands are matched by name (only shared bands are normalised, others pass through).
    clear : array-like, optional
        2-D boolean: pixels allowed in the fit (clear in both dates). By default every
        pixel finite in both.
    iterations : int
        Reweighting rounds (the fit settles in 3 to 5).
    max_samples : int
        At most this many pixels (a fixed random sample) are used to fit.
    seed : int
        Seed of the sample, for reproducible results.
    overwrite : bool
        Normalise ``after``'s float32 data in place instead of in a copy (saves a copy of
        the stack when the caller no longer needs the original).

    Returns
    -------
    tuple
        ``(normalised after, Normalization)``; the DataArray keeps ``after``'s shape and
        coordinates.

    Raises
    ------
    AllCloudyError
        If fewer than 100 pixels are usable for the fit.

    Examples
    --------
    >>> after_n, norm = normalize(after, before)  # doctest: +SKIP
    >>> norm.gains["B04"]  # doctest: +SKIP
    0.93
    """
    from scipy import special

    from sitewatch.errors import AllCloudyError

    a_vals = after.values.reshape(-1, *after.shape[-3:])[0] if after.ndim == 4 else after.values
    b_vals = before.values.reshape(-1, *before.shape[-3:])[0] if before.ndim == 4 else before.values
    a_bands = [str(b) for b in after.coords["band"].values]
    b_bands = [str(b) for b in before.coords["band"].values]
    shared = [b for b in a_bands if b in b_bands and b != "SCL"]
    ia = [a_bands.index(b) for b in shared]
    ib = [b_bands.index(b) for b in shared]
    # (band, pixel) views, no copies: only the sampled pixels are gathered below
    A = a_vals.reshape(a_vals.shape[0], -1)
    B = b_vals.reshape(b_vals.shape[0], -1)
    if clear is not None:
        ok = np.asarray(clear.values if isinstance(clear, xr.DataArray) else clear, bool).ravel().copy()
    else:
        ok = np.ones(A.shape[1], bool)
    for i, j in zip(ia, ib, strict=True):
        ok &= np.isfinite(A[i])
        ok &= np.isfinite(B[j])
    idx = np.flatnonzero(ok)
    if idx.size < 100 or not shared:
        raise AllCloudyError(
            f"only {idx.size} pixels are clear in both dates; too few to normalise the radiometry "
            "(choose dates with less cloud or a larger area)"
        )
    if idx.size > max_samples:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_samples, replace=False))
    As = np.stack([A[i, idx] for i in ia]).astype(np.float64)
    Bs = np.stack([B[j, idx] for j in ib]).astype(np.float64)
    w = np.ones(idx.size)
    gains = np.ones(len(shared))
    offsets = np.zeros(len(shared))
    p = len(shared)
    for _ in range(iterations):
        ws = w / w.sum()
        # weighted sums with einsum's own loops: a BLAS matrix-vector product this small
        # gains nothing from threads, and its threads stall when the cores are busy
        ma, mb = np.einsum("bi,i->b", As, ws), np.einsum("bi,i->b", Bs, ws)
        sa = np.sqrt(np.einsum("bi,i->b", (As - ma[:, None]) ** 2, ws))
        sb = np.sqrt(np.einsum("bi,i->b", (Bs - mb[:, None]) ** 2, ws))
        gains = np.where(sa > 0, sb / np.where(sa > 0, sa, 1), 1.0)
        offsets = mb - gains * ma
        diff = gains[:, None] * As + offsets[:, None] - Bs
        sd = np.sqrt(np.einsum("bi,i->b", diff**2, ws))
        sd[sd == 0] = 1.0
        chi = ((diff / sd[:, None]) ** 2).sum(0)
        w = special.chdtrc(p, chi)  # chi-square survival function
        if w.sum() <= 0:
            w = np.ones(idx.size)
            break
    # unchanged pixels give uniformly distributed p-values; call invariant those not rejected at 1 %
    inv = w > 0.01
    if inv.sum() < 10:
        inv = np.ones(idx.size, bool)
    diff_raw = As[:, inv] - Bs[:, inv]
    diff_norm = gains[:, None] * As[:, inv] + offsets[:, None] - Bs[:, inv]
    if overwrite and after.dtype == np.float32 and after.values.flags.writeable:
        out_vals = after.values
    else:
        out_vals = np.array(after.values, dtype=np.float32)  # one copy
    view = out_vals.reshape(-1, *after.shape[-3:])[0] if after.ndim == 4 else out_vals
    for k, i in enumerate(ia):
        view[i] *= np.float32(gains[k])
        view[i] += np.float32(offsets[k])
    result = after.copy(data=out_vals)
    norm = Normalization(
        gains=dict(zip(shared, map(float, gains), strict=True)),
        offsets=dict(zip(shared, map(float, offsets), strict=True)),
        invariant_fraction=float(inv.mean()),
        n_samples=int(idx.size),
        rmse_before={b: _robust_sd(diff_raw[k]) for k, b in enumerate(shared)},
        rmse_after={b: _robust_sd(diff_norm[k]) for k, b in enumerate(shared)},
        iterations=iterations,
    )
    return result, norm


@dataclass(frozen=True)
class OffsetEvidence:
    """Per date, how dark the darkest band of each pixel is (counts of pixels).

    Attributes
    ----------
    valid : numpy.ndarray
        ``(T,)`` pixels with every reflectance band finite.
    below_zero : numpy.ndarray
        ``(T,)`` of those whose darkest band is below :data:`OFFSET_MISSING_BELOW_DN`.
    below_floor : numpy.ndarray
        ``(T,)`` of those whose darkest band is below :data:`OFFSET_CARRIED_FLOOR_DN`.
    """

    valid: np.ndarray
    below_zero: np.ndarray
    below_floor: np.ndarray


def offset_evidence(stack: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """The counts of :class:`OffsetEvidence`, as (lazy, for a dask stack) ``(time,)`` arrays.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000 as read (the declared offset removed).

    Returns
    -------
    tuple of xarray.DataArray
        ``valid``, ``below_zero``, ``below_floor``; wrap the computed values in
        :class:`OffsetEvidence`.
    """
    spectral = [str(b) for b in stack.coords["band"].values if str(b) != "SCL"]
    # every other pixel of every other row (views: no copy of the stack), band by band
    sample = stack.isel(y=slice(None, None, 2), x=slice(None, None, 2))
    darkest = sample.sel(band=spectral[0], drop=True)
    for band in spectral[1:]:
        darkest = np.minimum(darkest, sample.sel(band=band, drop=True))  # NaN wins: a pixel missing a band
    valid = np.isfinite(darkest)
    return (
        valid.sum(("y", "x")),
        (darkest < OFFSET_MISSING_BELOW_DN).sum(("y", "x")),
        (darkest < OFFSET_CARRIED_FLOOR_DN).sum(("y", "x")),
    )


def offset_mismatches(evidence: OffsetEvidence, offset_dn: np.ndarray) -> tuple[list[int], list[int]]:
    """Dates whose data disagree with the offset they were read with.

    Parameters
    ----------
    evidence : OffsetEvidence
    offset_dn : numpy.ndarray
        ``(T,)`` DN added on reading (``-1000`` for a scene said to carry the offset, ``0``
        for one said not to, NaN when unknown: not checked).

    Returns
    -------
    tuple of list of int
        ``(said_offset_but_not_carried, carried_but_not_said)``: date indices. The second
        is a series test (the dates read without an offset, pooled): all of them or none.

    Examples
    --------
    >>> n = 10**6
    >>> ev = OffsetEvidence(np.array([n, n]), np.array([n // 2, 0]), np.array([n, n // 3]))
    >>> offset_mismatches(ev, np.array([-1000.0, -1000.0]))
    ([0], [])
    """
    valid = np.asarray(evidence.valid, np.float64)
    offset = np.asarray(offset_dn, np.float64)
    said = np.isfinite(offset) & (offset <= -500)
    share_below_zero = np.asarray(evidence.below_zero) / np.maximum(valid, 1)
    not_carried = [int(t) for t in np.flatnonzero(said & (share_below_zero > OFFSET_MISSING_SHARE))]
    unsaid = np.isfinite(offset) & (np.abs(offset) < 1)
    pooled = float(valid[unsaid].sum())
    carried: list[int] = []
    if pooled >= OFFSET_CHECK_MIN_PIXELS:
        share_dark = float(np.asarray(evidence.below_floor)[unsaid].sum()) / pooled
        if share_dark < OFFSET_CARRIED_SHARE:
            carried = [int(t) for t in np.flatnonzero(unsaid & (valid > 0))]
    return not_carried, carried
