"""One brightness stretch per site, so before, after and every time-lapse frame compare.

A per-image 2-98 % stretch makes each picture look its best and makes two pictures
incomparable: bare earth reads orange before and brown after because the after image holds
a bright new pad. :func:`site_stretch` fixes one linear stretch from the site's own clear
composites (the median of the clear observations of the first and the last third of the
series, over the whole AOI): the same numbers map to the same colour on every panel.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["RGB_BANDS", "Stretch", "clear_composite", "site_stretch", "true_colour"]

#: Red, green and blue bands of a Sentinel-2 true-colour image.
RGB_BANDS: tuple[str, str, str] = ("B04", "B03", "B02")


@dataclass(frozen=True)
class Stretch:
    """A linear stretch ``(value - lo) / (hi - lo)`` shared by the three colour bands (hues stay true).

    Attributes
    ----------
    lo, hi : float
        In the stack's units (reflectance x 10000).
    gamma : float
        Applied after the linear stretch (1 = none); below 1 lifts the dark ground.
    """

    lo: float
    hi: float
    gamma: float = 0.85

    def apply(self, img: np.ndarray) -> np.ndarray:
        """Stretch an image to 0..1 (NaN shown black)."""
        span = self.hi - self.lo if self.hi > self.lo else 1.0
        out = np.clip((np.asarray(img, dtype=np.float64) - self.lo) / span, 0, 1)
        return np.nan_to_num(out**self.gamma, nan=0.0)


def _rgb_values(stack: xr.DataArray, bands: tuple[str, str, str]) -> np.ndarray:
    return np.stack([stack.sel(band=b).values for b in _pick(stack, bands)], axis=-1).astype(np.float32)


def true_colour(
    image: xr.DataArray, stretch: Stretch, *, bands: tuple[str, str, str] = RGB_BANDS
) -> np.ndarray:
    """A ``(band, y, x)`` image as ``(y, x, 3)`` true colour in 0..1 on ``stretch``."""
    if "time" in image.dims:
        image = image.isel(time=0)
    return stretch.apply(_rgb_values(image, bands))


def clear_composite(
    stack: xr.DataArray,
    clear: xr.DataArray | np.ndarray,
    times: slice | np.ndarray,
    *,
    bands: tuple[str, str, str] = RGB_BANDS,
) -> np.ndarray:
    """Median of the clear observations of ``times`` (indices), ``(y, x, 3)`` in stack units.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)``.
    clear : array-like
        ``(time, y, x)`` bool.
    times : slice or array of int
        The dates to compose.

    Returns
    -------
    numpy.ndarray
        NaN where no date was clear.
    """
    sub = stack.isel(time=times)
    vals = np.stack([sub.sel(band=b).values for b in _pick(stack, bands)], axis=-1).astype(np.float32)
    ok = np.asarray(clear.values if isinstance(clear, xr.DataArray) else clear)[times]
    vals[~ok] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a pixel never clear stays NaN
        return np.nanmedian(vals, axis=0)


def _pick(stack: xr.DataArray, bands: tuple[str, str, str]) -> list[str]:
    have = [str(b) for b in stack.coords["band"].values]
    return [b if b in have else have[0] for b in bands]


def site_stretch(
    stack: xr.DataArray,
    clear: xr.DataArray | np.ndarray,
    *,
    percentiles: tuple[float, float] = (1.0, 99.0),
    bands: tuple[str, str, str] = RGB_BANDS,
) -> Stretch:
    """The site's stretch: percentiles of its before and after clear composites, all bands together.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)``.
    clear : array-like
        ``(time, y, x)`` bool.
    percentiles : tuple of float
        Low and high percentiles mapped to black and white.

    Returns
    -------
    Stretch
    """
    n = int(stack.sizes["time"])
    third = max(1, n // 3)
    before = clear_composite(stack, clear, slice(0, third), bands=bands)
    after = clear_composite(stack, clear, slice(max(0, n - third), n), bands=bands)
    vals = np.concatenate([before.ravel(), after.ravel()])
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        return Stretch(0.0, 3000.0)
    lo, hi = np.percentile(vals, percentiles)
    return Stretch(float(lo), float(hi))
