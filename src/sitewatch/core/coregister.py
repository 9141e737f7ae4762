"""Sub-pixel co-registration of one image (or a stack) to a reference.

What it offers
--------------
- :class:`Shift` : a measured offset (rows, columns, metres) and how far to trust it.
- :func:`estimate_shift` : phase correlation (``skimage.registration.phase_cross_correlation``
  with upsampling) on gradient-magnitude images, per 256 px tile (the median of the tiles is
  the shift, their spread the quality figure), or over the whole image when it holds fewer
  than three tiles.
- :func:`apply_shift` : move a 2-D array or a ``(..., y, x)`` DataArray by a shift
  (bilinear, NaN-aware).
- :func:`coregister` : align every date of a ``(time, band, y, x)`` stack onto a reference
  image and return the shifted stack with one :class:`Shift` per date.
- :func:`pixel_size_m` : pixel size in metres of an odc-geo GeoBox (also geographic grids).

Convention: a shift ``(dy, dx)`` is what must be *applied* to the moving image to
register it on the reference (the sign convention of ``phase_cross_correlation``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

__all__ = ["Shift", "apply_shift", "coregister", "estimate_shift", "pixel_size_m", "reference_image"]


@dataclass(frozen=True)
class Shift:
    """An estimated offset between a moving image and its reference.

    Parameters
    ----------
    dy, dx : float
        Shift in pixels (rows, columns) to apply to the moving image.
    dy_m, dx_m : float or None
        The same in metres (northing/easting sense: ``dy_m`` positive moves south), when the
        pixel size is known.
    error : float
        ``phase_cross_correlation``'s translation-invariant normalised RMS error (0 =
        perfect match, 1 = no match): the median over the tiles when there are at least
        three, else that of the whole-image estimate.
    tile_spread_px : float or None
        Median absolute deviation (pixels) of the per-tile estimates around the overall
        one; small when the shift is a true, consistent translation.
    n_tiles : int
        Tiles that gave an estimate.
    applied : bool
        Whether the shift was applied to the data.
    """

    dy: float
    dx: float
    dy_m: float | None = None
    dx_m: float | None = None
    error: float = float("nan")
    tile_spread_px: float | None = None
    n_tiles: int = 0
    applied: bool = False

    @property
    def magnitude_px(self) -> float:
        """Length of the shift in pixels."""
        return math.hypot(self.dy, self.dx)

    @property
    def reliable(self) -> bool:
        """True when tiles agree within 0.5 px (or there were too few tiles to say otherwise)."""
        return self.tile_spread_px is None or self.tile_spread_px <= 0.5

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict, rounded for reports."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, float):
                out[k] = round(v, 3) if math.isfinite(v) else None
        out["magnitude_px"] = round(self.magnitude_px, 3)
        return out


def pixel_size_m(geobox: Any) -> tuple[float, float]:
    """Pixel height and width in metres of an odc-geo GeoBox.

    For geographic (degree) grids the size at the grid's centre latitude is returned.

    Parameters
    ----------
    geobox : odc.geo.geobox.GeoBox

    Returns
    -------
    tuple of float
        ``(height_m, width_m)``, positive.
    """
    res_y = abs(float(geobox.resolution.y))
    res_x = abs(float(geobox.resolution.x))
    if geobox.crs is not None and geobox.crs.geographic:
        lat = float(geobox.extent.centroid.coords[0][1])
        # metres per degree on the WGS84 ellipsoid (series expansions, < 1 cm error)
        phi = math.radians(lat)
        m_lat = 111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
        m_lon = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
        return res_y * m_lat, res_x * m_lon
    return res_y, res_x


def _gradient(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image, dtype=np.float32)
    finite = np.isfinite(img)
    complete = bool(finite.all())
    if not complete:
        fill = float(np.nanmedian(img)) if finite.any() else 0.0
        img = np.where(finite, img, fill)
    gy = ndimage.sobel(img, axis=0)
    gx = ndimage.sobel(img, axis=1)
    mag = np.hypot(gx, gy)
    if not complete:
        # gradients at the data edge are artefacts of the fill
        edge = ndimage.binary_dilation(~finite, iterations=2)
        mag[edge] = 0.0
    return mag


@lru_cache(maxsize=8)
def _window(shape: tuple[int, int]) -> np.ndarray:
    from skimage.filters import window

    return np.asarray(window("hann", shape), dtype=np.float32)


def _pcc(ref: np.ndarray, mov: np.ndarray, upsample: int) -> tuple[float, float, float]:
    from skimage.registration import phase_cross_correlation

    win = _window((int(ref.shape[0]), int(ref.shape[1])))
    shift, error, _ = phase_cross_correlation(
        ref * win, mov * win, upsample_factor=upsample, normalization=None
    )
    return float(shift[0]), float(shift[1]), float(error)


def _fast_len_below(n: int) -> int:
    """The largest FFT-friendly length (only factors 2, 3, 5, 7, 11) not above ``n``."""
    from scipy.fft import next_fast_len

    m = n
    while m > 1 and next_fast_len(m) != m:
        m -= 1
    return max(m, 1)


def estimate_shift(
    reference: np.ndarray | xr.DataArray,
    moving: np.ndarray | xr.DataArray,
    *,
    upsample: int = 20,
    tile_px: int = 256,
    use_gradient: bool = True,
    pixel_size: tuple[float, float] | None = None,
) -> Shift:
    """Estimate the sub-pixel translation that registers ``moving`` onto ``reference``.

    Parameters
    ----------
    reference, moving : array-like
        2-D images on the same grid (same shape); NaN marks no data.
    upsample : int
        Upsampling factor of the phase correlation (20 gives 0.05 px steps).
    tile_px : int
        Tile size for the consistency check; images at least two tiles wide in either
        direction are cut into tiles, each estimated alone.
    use_gradient : bool
        Correlate gradient magnitudes instead of raw values (robust to radiometric change
        between the dates).
    pixel_size : tuple of float, optional
        ``(height_m, width_m)`` to express the shift in metres; taken from the DataArray's
        grid when it has one.

    Returns
    -------
    Shift

    Raises
    ------
    DataError
        If the images differ in shape or hold too little valid data.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = ndimage.gaussian_filter(rng.normal(size=(128, 128)), 2)
    >>> mov = ndimage.shift(ref, (1.5, -0.5))
    >>> s = estimate_shift(ref, mov)
    >>> round(s.dy, 1), round(s.dx, 1)
    (-1.5, 0.5)
    """
    from sitewatch.errors import DataError

    if pixel_size is None and isinstance(reference, xr.DataArray):
        try:
            pixel_size = pixel_size_m(reference.odc.geobox)
        except Exception:  # no grid attached: metres stay unknown
            pixel_size = None
    ref = np.asarray(reference, dtype=np.float32)
    mov = np.asarray(moving, dtype=np.float32)
    if ref.ndim != 2 or ref.shape != mov.shape:
        raise DataError(f"co-registration needs two 2-D images of one shape, got {ref.shape} and {mov.shape}")
    both = np.isfinite(ref) & np.isfinite(mov)
    if both.sum() < 32 * 32:
        raise DataError("co-registration needs at least 32 x 32 valid pixels in both images")
    # crop to the common valid area so that the no-data edge does not dominate the correlation
    rows = np.flatnonzero(both.any(axis=1))
    cols = np.flatnonzero(both.any(axis=0))
    sl = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
    ref, mov = ref[sl], mov[sl]
    mask = both[sl]
    ref = np.where(mask, ref, np.nan)
    mov = np.where(mask, mov, np.nan)
    if use_gradient:
        a, b = _gradient(ref), _gradient(mov)
    else:
        a = np.nan_to_num(ref - np.nanmean(ref))
        b = np.nan_to_num(mov - np.nanmean(mov))
    with _single_threaded_blas():
        return _estimate(a, b, mask, upsample=upsample, tile_px=tile_px, pixel_size=pixel_size)


def _single_threaded_blas() -> Any:
    """Context in which BLAS runs on one thread.

    The upsampled DFT of the phase correlation multiplies small matrices: BLAS threads gain
    nothing there, and when the cores are busy with other work they stall each other (ten
    times slower on a loaded two-core machine).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _estimate(
    a: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray,
    *,
    upsample: int,
    tile_px: int,
    pixel_size: tuple[float, float] | None,
) -> Shift:
    tiles: list[tuple[float, float]] = []
    errors: list[float] = []
    h, w = a.shape
    if h >= 2 * tile_px or w >= 2 * tile_px:
        for r0 in range(0, h - tile_px + 1, tile_px):
            for c0 in range(0, w - tile_px + 1, tile_px):
                ta = a[r0 : r0 + tile_px, c0 : c0 + tile_px]
                tb = b[r0 : r0 + tile_px, c0 : c0 + tile_px]
                if mask[r0 : r0 + tile_px, c0 : c0 + tile_px].mean() < 0.8 or ta.std() == 0 or tb.std() == 0:
                    continue
                ty, tx, terr = _pcc(ta, tb, upsample)
                tiles.append((ty, tx))
                errors.append(terr)
    spread = None
    if len(tiles) >= 3:
        arr = np.asarray(tiles)
        med = np.median(arr, axis=0)
        # a tile estimate far from the median is a tile with little texture: trust the median
        dy, dx = float(med[0]), float(med[1])
        spread = float(np.median(np.hypot(arr[:, 0] - dy, arr[:, 1] - dx)))
        error = float(np.median(errors))
    else:
        # too few tiles: the whole image gives the shift, cropped to sizes the FFT factors
        # well (a prime side like 197 makes it ten times slower)
        fh, fw = _fast_len_below(h), _fast_len_below(w)
        r0, c0 = (h - fh) // 2, (w - fw) // 2
        whole = (slice(r0, r0 + fh), slice(c0, c0 + fw))
        dy, dx, error = _pcc(a[whole], b[whole], upsample)
    dy_m = dx_m = None
    if pixel_size is not None:
        dy_m, dx_m = dy * pixel_size[0], dx * pixel_size[1]
    return Shift(
        dy=dy,
        dx=dx,
        dy_m=dy_m,
        dx_m=dx_m,
        error=error,
        tile_spread_px=spread,
        n_tiles=len(tiles),
        applied=False,
    )


def apply_shift(data: np.ndarray | xr.DataArray, shift: Shift | Sequence[float]) -> Any:
    """Translate an image (or every 2-D slice of a DataArray) by a sub-pixel shift.

    Bilinear interpolation; pixels whose source falls outside the image or on no data
    become NaN.

    Parameters
    ----------
    data : numpy.ndarray or xarray.DataArray
        ``(..., y, x)``.
    shift : Shift or (dy, dx)

    Returns
    -------
    Same type as ``data``, float32.

    Examples
    --------
    >>> apply_shift(np.arange(16.0).reshape(4, 4), (0, 1))[1].tolist()
    [nan, 4.0, 5.0, 6.0]
    """
    dy, dx = (shift.dy, shift.dx) if isinstance(shift, Shift) else (float(shift[0]), float(shift[1]))
    values = np.asarray(data.values if isinstance(data, xr.DataArray) else data, dtype=np.float32)
    out = np.empty_like(values)
    flat_in = values.reshape(-1, *values.shape[-2:])
    flat_out = out.reshape(-1, *values.shape[-2:])
    for img, dst in zip(flat_in, flat_out, strict=True):
        nan = ~np.isfinite(img)
        _bilinear_shift(np.where(nan, np.float32(0.0), img), dy, dx, out=dst)
        if nan.any():
            bad = _bilinear_shift(nan.astype(np.float32), dy, dx)
            dst[~(bad <= 0.01)] = np.nan
    if isinstance(data, xr.DataArray):
        return data.copy(data=out)
    return out


def _bilinear_shift(img: np.ndarray, dy: float, dx: float, *, out: np.ndarray | None = None) -> np.ndarray:
    """``scipy.ndimage.shift(img, (dy, dx), order=1, mode="constant", cval=nan)`` in float32.

    A translation samples every pixel at the same fractional offset, so bilinear
    interpolation is four shifted slices with four fixed weights: several times faster
    than the general resampler, and the same values (to float32 rounding). Pixels whose
    source lies outside the image are NaN.
    """
    h, w = img.shape
    if out is None:
        out = np.empty((h, w), np.float32)
    out.fill(np.nan)
    # output (y, x) reads input (y - dy, x - dx) = (y + iy + fy, x + ix + fx)
    iy, ix = math.floor(-dy), math.floor(-dx)
    fy, fx = np.float32(-dy - iy), np.float32(-dx - ix)
    # output rows whose source row lies within [0, h - 1] (likewise columns)
    y0, y1 = max(0, math.ceil(dy)), min(h, math.floor(h - 1 + dy) + 1)
    x0, x1 = max(0, math.ceil(dx)), min(w, math.floor(w - 1 + dx) + 1)
    if y1 <= y0 or x1 <= x0:
        return out
    ry, rx = slice(y0 + iy, y1 + iy), slice(x0 + ix, x1 + ix)
    # the second row/column only counts when its weight is not zero (it may lie past the edge)
    ry2 = slice(y0 + iy + 1, y1 + iy + 1) if fy > 0 else ry
    rx2 = slice(x0 + ix + 1, x1 + ix + 1) if fx > 0 else rx
    dst = out[y0:y1, x0:x1]
    np.multiply(img[ry, rx], (1 - fy) * (1 - fx), out=dst)
    dst += img[ry, rx2] * ((1 - fy) * fx)
    dst += img[ry2, rx] * (fy * (1 - fx))
    dst += img[ry2, rx2] * (fy * fx)
    return out


def reference_image(stack: xr.DataArray, *, bands: Sequence[str] = ("B08", "B04", "B03")) -> xr.DataArray:
    """The single band used to co-register a stack: the first of ``bands`` it holds.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` or ``(band, y, x)``.
    bands : sequence of str
        Preference order; NIR has the most texture over land.

    Returns
    -------
    xarray.DataArray
        ``(time, y, x)`` or ``(y, x)``.
    """
    have = [str(b) for b in stack.coords["band"].values]
    for b in bands:
        if b in have:
            return stack.sel(band=b)
    return stack.sel(band=have[0])


def coregister(
    stack: xr.DataArray,
    reference: xr.DataArray | np.ndarray,
    *,
    band: str | None = None,
    upsample: int = 20,
    min_shift_px: float = 0.05,
    max_shift_px: float = 3.0,
) -> tuple[xr.DataArray, list[Shift]]:
    """Co-register every date of a stack onto a reference image.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` on the reference's grid.
    reference : xarray.DataArray or numpy.ndarray
        2-D reference image (e.g. ``reference_image(before).isel(time=0)``).
    band : str, optional
        Band of ``stack`` to correlate; by default as :func:`reference_image` picks.
    upsample : int
        Phase-correlation upsampling factor.
    min_shift_px : float
        Shifts shorter than this are reported but not applied (resampling blurs).
    max_shift_px : float
        Longer shifts are not applied: the images are refused by the caller (or flagged).

    Returns
    -------
    tuple
        ``(shifted stack, [Shift per date])``; ``Shift.applied`` says what was done.

    Raises
    ------
    RegistrationError
        If a date's estimated shift exceeds ``max_shift_px`` (the message gives it).
    """
    from sitewatch.errors import RegistrationError

    moving_all = stack.sel(band=band) if band else reference_image(stack)
    try:
        size = pixel_size_m(stack.odc.geobox)
    except Exception:
        size = None
    shifts: list[Shift] = []
    out = stack.copy()
    for t in range(stack.sizes["time"]):
        s = estimate_shift(reference, moving_all.isel(time=t).values, upsample=upsample, pixel_size=size)
        if s.magnitude_px > max_shift_px:
            metres = f" ({s.dy_m:.1f} m, {s.dx_m:.1f} m)" if s.dy_m is not None and s.dx_m is not None else ""
            raise RegistrationError(
                f"date {t} is offset by dy={s.dy:.2f} px, dx={s.dx:.2f} px{metres} from the reference, more "
                f"than the {max_shift_px} px that can be trusted; check that both images cover the same place"
            )
        if s.magnitude_px >= min_shift_px:
            out[t] = apply_shift(stack.isel(time=t), s)
            s = Shift(**{**asdict(s), "applied": True})
        shifts.append(s)
    return out, shifts
