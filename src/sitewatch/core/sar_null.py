"""How unusual is an outline's radar change for *this* site? The scene's own null distribution.

A fixed cut-off on an outline's Welch t (:func:`sitewatch.core.sar_outline.outline_change`)
means different things on different ground: over a site of bare, stable desert a t of 5 is
rare; over irrigated fields, where ploughing and watering move whole fields between two
acquisitions, it is common. The question a radar-only candidate must answer is whether its
outline changed more than outlines *of the same shape, at the same dates, elsewhere on the
same site* did.

:func:`outline_significance` answers it by moving the outline over the ground around it (a
window of :attr:`NullParams.context_px` pixels each side): the mean log backscatter over the
outline at every position and date is one FFT correlation per date and polarisation, and the
Welch t between the outline's before and after windows (those of
:func:`~sitewatch.core.sar_outline.event_windows`) is then computed at every position at once.
The outline's own t is scored against that null as a robust z (median and MAD of the null
positions, so the outline itself and the few other changes barely move them). Per orbit the
polarisations are pooled (VV and VH see one change, so their mean z); the orbits, independent
acquisitions, are pooled as Stouffer's sum / sqrt(n).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import signal

from sitewatch.core.sar import POLARIZATIONS, SarParams, date_offsets, linear_power, orbit_groups, power_to_db
from sitewatch.core.sar_outline import SCENE_OFFSET_COORD, event_windows
from sitewatch.errors import DataError

__all__ = ["NullParams", "OrbitSignificance", "OutlineSignificance", "outline_significance"]

# the MAD of a normal sample times this is its standard deviation
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class NullParams:
    """Settings of :func:`outline_significance`.

    Attributes
    ----------
    context_px : int
        Pixels of ground on each side of the outline's bounding box over which it is moved (the
        site around it: big enough for hundreds of positions, small enough to stay local); at
        least twice the outline's own size.
    min_positions : int
        Fewest positions the null needs; with fewer the significance is unknown (NaN).
    """

    context_px: int = 48
    min_positions: int = 50


@dataclass(frozen=True)
class OrbitSignificance:
    """One orbit's change over the outline against the same outline moved around the site.

    Parameters
    ----------
    orbit : str
    t_stat : tuple of (str, float)
        Per polarisation, the outline's Welch t (after vs before, on the mean dB).
    z : tuple of (str, float)
        Per polarisation, that t as a robust z against the null positions.
    delta_db : tuple of (str, float)
        Per polarisation, the outline's mean change (dB).
    pooled_z : float
        The polarisations' mean z.
    """

    orbit: str
    t_stat: tuple[tuple[str, float], ...]
    z: tuple[tuple[str, float], ...]
    delta_db: tuple[tuple[str, float], ...]
    pooled_z: float


@dataclass(frozen=True)
class OutlineSignificance:
    """All orbits together.

    Parameters
    ----------
    orbits : tuple of OrbitSignificance
        Orbits with acquisitions on both sides of the event and enough null positions.
    z : float
        Stouffer's pooled z over the orbits (NaN when no orbit could be scored).
    n_positions : int
        Null positions used (the smallest over the orbits).
    """

    orbits: tuple[OrbitSignificance, ...]
    z: float
    n_positions: int

    @property
    def agree(self) -> bool:
        """No orbit contradicts the pooled direction (its pooled z has the same sign or is near 0)."""
        return bool(self.orbits) and all(o.pooled_z * np.sign(self.z) > -1.0 for o in self.orbits)


def _crop(mask: np.ndarray, margin: int) -> tuple[slice, slice, np.ndarray, tuple[int, int]]:
    """The window around the mask's box, the mask's kernel and its top-left corner in the window."""
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    h, w = mask.shape
    # a large outline needs room for positions that do not all overlap it
    margin = max(margin, 2 * max(y1 - y0, x1 - x0))
    wy = slice(max(0, y0 - margin), min(h, y1 + margin))
    wx = slice(max(0, x0 - margin), min(w, x1 + margin))
    kernel = mask[y0:y1, x0:x1].astype(np.float32)
    return wy, wx, kernel / kernel.sum(), (y0 - wy.start, x0 - wx.start)


def _outline_means(db: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Mean of ``db`` (..., H, W) over the kernel's footprint at every position where it fits."""
    # a correlation is a convolution with the flipped kernel; "valid": only whole footprints
    return signal.fftconvolve(db, kernel[::-1, ::-1][None, None], mode="valid", axes=(-2, -1))


def _robust_z(value: float, null: np.ndarray) -> float:
    null = null[np.isfinite(null)]
    med = float(np.median(null))
    scale = _MAD_TO_SD * float(np.median(np.abs(null - med)))
    return (value - med) / scale if scale > 0 else float("nan")


def outline_significance(
    stack: xr.DataArray,
    mask: np.ndarray,
    *,
    event_start: dt.date | dt.datetime,
    event_end: dt.date | dt.datetime,
    params: SarParams | None = None,
    null: NullParams | None = None,
) -> OutlineSignificance:
    """The outline's radar change as a robust z against the same outline moved over the site around it.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` linear power with the per-time orbit coords. With
        ``params.normalize`` each date's scene offset is removed first: the one
        :func:`~sitewatch.core.sar_outline.with_scene_offsets` attached, else one measured on
        the window of ground used.
    mask : numpy.ndarray
        ``(y, x)`` bool outline.
    event_start, event_end : datetime.date or datetime.datetime
        The event interval: before and after windows as
        :func:`~sitewatch.core.sar_outline.outline_change` takes them.
    params : SarParams, optional
        Windows and the variance floor of the test window.
    null : NullParams, optional

    Returns
    -------
    OutlineSignificance

    Raises
    ------
    DataError
        If the mask selects no pixel or the stack has no VV or VH band.
    """
    p, q = params or SarParams(), null or NullParams()
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        raise DataError("the outline mask selects no pixel of the radar grid")
    lin = linear_power(stack.transpose("time", "band", "y", "x"))
    bands = [str(b) for b in lin.coords["band"].values]
    pols = [b for b in POLARIZATIONS if b in bands]
    if not pols:
        raise DataError("the radar stack has no VV or VH band")
    wy, wx, kernel, (oy, ox) = _crop(m, q.context_px)
    db = power_to_db(lin.values[:, [bands.index(b) for b in pols], wy, wx])
    groups = orbit_groups(lin)
    if p.normalize and SCENE_OFFSET_COORD in lin.coords:
        db -= lin.coords[SCENE_OFFSET_COORD].sel(band=pols).values[:, :, None, None]
    elif p.normalize:
        # each date's offset (rain, frozen ground) measured on this same ground, orbit by orbit
        for group in groups:
            idx = list(group.index)
            db[idx] -= date_offsets(db[idx].reshape(len(idx), len(pols), -1))[:, :, None, None]
    # missing pixels take their image's median: a hole must not read as a change
    with np.errstate(invalid="ignore"):
        fill = np.nanmedian(db.reshape(db.shape[0], db.shape[1], -1), axis=2)
    db = np.where(np.isfinite(db), db, np.nan_to_num(fill)[:, :, None, None])
    means = _outline_means(db, kernel)  # (T, C, positions y, positions x)
    n_pos = int(means.shape[2] * means.shape[3])
    start = int(np.datetime64(_naive(event_start), "D").astype(np.int64))
    end = int(np.datetime64(_naive(event_end), "D").astype(np.int64))
    times = lin.coords["time"].values.astype("datetime64[D]").astype(np.int64)
    orbits = []
    for group in groups if n_pos >= q.min_positions else []:
        pos = np.asarray(group.index)
        before, after = event_windows(times[pos], start, end, p, p.outline_after_days)
        if before.sum() < 2 or not after.any():
            continue
        xb, xa = means[pos[before]], means[pos[after]]
        mb, ma = xb.mean(axis=0), xa.mean(axis=0)
        vb = xb.var(axis=0, ddof=1)
        va = xa.var(axis=0, ddof=1) if xa.shape[0] > 1 else np.zeros_like(vb)
        if p.floor_test_variance:
            va = np.maximum(va, vb)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (ma - mb) / np.sqrt(vb / xb.shape[0] + va / xa.shape[0])  # (C, py, px)
        ts, zs, ds = [], [], []
        for c, pol in enumerate(pols):
            own = float(t[c, oy, ox])
            ts.append((pol, own))
            zs.append((pol, _robust_z(own, t[c].reshape(-1))))
            ds.append((pol, float(ma[c, oy, ox] - mb[c, oy, ox])))
        z_values = [z for _, z in zs if np.isfinite(z)]
        pooled = float(np.mean(z_values)) if z_values else float("nan")
        orbits.append(OrbitSignificance(group.label, tuple(ts), tuple(zs), tuple(ds), pooled))
    scored = [o.pooled_z for o in orbits if np.isfinite(o.pooled_z)]
    z = float(np.sum(scored) / np.sqrt(len(scored))) if scored else float("nan")
    return OutlineSignificance(orbits=tuple(orbits), z=z, n_positions=n_pos)


def _naive(when: dt.date | dt.datetime) -> dt.date | dt.datetime:
    if isinstance(when, dt.datetime) and when.tzinfo is not None:
        return when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when
