"""What the radar saw over one outline (a polygon's pixels): the evidence an investigator needs.

Two questions, two pure functions:

- :func:`outline_change` -- *did the backscatter over this outline change around this date?*
  (the optical alert's ``last_unchanged`` .. ``first_detected``). The outline's mean power per
  acquisition (:func:`outline_series`, averaged in linear power, so speckle falls with the
  number of pixels and no filter is needed) is compared, per orbit and polarisation, between
  the acquisitions before the event (the reference windows of
  :func:`sitewatch.core.sar.reference_windows`: the months before and the same season a year
  earlier) and those after it (up to ``after_days``), with the Welch t of the pixel core. It
  also names the radar acquisitions either side, and dates the change by the radar's own
  acquisitions when two consecutive ones confirm it.
- :func:`outline_breaks` -- *which pixels of this outline broke, when, which way?* from the
  per-pixel result of :func:`sitewatch.core.sar.detect_sar_breaks` (radar-only candidates).

Both answer in frozen dataclasses; directions are ``"brighter"``, ``"darker"``, ``"none"``
(and ``"mixed"`` when orbits disagree).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr

from sitewatch.core.sar import (
    POLARIZATIONS,
    OrbitGroup,
    SarParams,
    date_offsets,
    linear_power,
    orbit_groups,
    power_to_db,
    welch_t,
)
from sitewatch.errors import DataError

__all__ = [
    "Direction",
    "OrbitChange",
    "OutlineBreaks",
    "OutlineChange",
    "SCENE_OFFSET_COORD",
    "PolarizationChange",
    "event_windows",
    "outline_breaks",
    "outline_change",
    "outline_series",
    "with_scene_offsets",
]

Direction = Literal["brighter", "darker", "none", "mixed"]
# An acquisition counts for an outline only when this share of its pixels holds data.
_MIN_VALID_SHARE = 0.5
# Pixels around the outline sampled to measure each date's scene-wide offset.
_OFFSET_SAMPLE_PX = 20_000


@dataclass(frozen=True)
class PolarizationChange:
    """One polarisation's change over an outline, seen by one orbit.

    Parameters
    ----------
    polarization : str
    t_stat : float
        Welch t of the mean log backscatter after vs before (positive = brighter); NaN when
        a side has no acquisition.
    delta_db : float
        Mean after minus mean before, dB.
    before_db, after_db : float
        The two means, dB.
    direction : {"brighter", "darker", "none"}
    """

    polarization: str
    t_stat: float
    delta_db: float
    before_db: float
    after_db: float
    direction: Direction


@dataclass(frozen=True)
class OrbitChange:
    """What one orbit (one viewing geometry) saw over an outline around an event.

    Parameters
    ----------
    orbit : str
        Orbit label (``"D079"``).
    relative_orbit : int
    orbit_direction : str
    last_before, first_after : datetime.datetime or None
        The orbit's last acquisition before the event and first one after it (UTC).
    radar_last_unchanged, radar_first_changed : datetime.datetime or None
        The radar's own dating: the first acquisition from which two consecutive ones lie on
        the changed side, and the one before it; None when the radar did not confirm it.
    n_before, n_after : int
        Acquisitions in the before and after windows.
    polarizations : tuple of PolarizationChange
    """

    orbit: str
    relative_orbit: int
    orbit_direction: str
    last_before: dt.datetime | None
    first_after: dt.datetime | None
    radar_last_unchanged: dt.datetime | None
    radar_first_changed: dt.datetime | None
    n_before: int
    n_after: int
    polarizations: tuple[PolarizationChange, ...]

    def change(self, polarization: str) -> PolarizationChange | None:
        """The change of one polarisation, or None when the series lacks it."""
        return next((c for c in self.polarizations if c.polarization == polarization), None)


@dataclass(frozen=True)
class OutlineChange:
    """The radar evidence over an outline around an event, all orbits together.

    Parameters
    ----------
    n_pixels : int
        Pixels in the outline.
    event_start, event_end : datetime.datetime
        The event interval asked about.
    orbits : tuple of OrbitChange
        Orbits with acquisitions on both sides of the event.
    last_before, first_after : datetime.datetime or None
        The radar acquisitions (any orbit) closest to the event on either side.
    notes : tuple of str
        What is missing (orbits without data on one side, a polarisation absent...).
    """

    n_pixels: int
    event_start: dt.datetime
    event_end: dt.datetime
    orbits: tuple[OrbitChange, ...]
    last_before: dt.datetime | None
    first_after: dt.datetime | None
    notes: tuple[str, ...] = ()

    def direction(self, polarization: str) -> Direction:
        """The direction the orbits agree on for one polarisation (``"mixed"`` if they disagree)."""
        seen = {c.direction for o in self.orbits if (c := o.change(polarization)) is not None} - {"none"}
        if not seen:
            return "none"
        return seen.pop() if len(seen) == 1 else "mixed"

    @property
    def has_data(self) -> bool:
        """Whether any orbit saw the outline on both sides of the event."""
        return bool(self.orbits)


@dataclass(frozen=True)
class OutlineBreaks:
    """The per-pixel breaks inside an outline.

    Parameters
    ----------
    n_pixels : int
    share_changed : float
        Share of the outline's pixels with a lasting break (any orbit).
    share_transient : float
        Share with only a change that reverted.
    first_detected, last_unchanged : datetime.datetime or None
        Medians over the changed pixels.
    share_steep, share_layover_shadow : float
        Share of the outline on steep terrain, or in layover or shadow of some orbit.
    t_stat : tuple of (str, float)
        Per polarisation, the median t at the break over the changed pixels.
    direction : tuple of (str, Direction)
        Per polarisation, the direction at least two thirds of the changed pixels agree on.
    """

    n_pixels: int
    share_changed: float
    share_transient: float
    first_detected: dt.datetime | None
    last_unchanged: dt.datetime | None
    share_steep: float
    share_layover_shadow: float
    t_stat: tuple[tuple[str, float], ...]
    direction: tuple[tuple[str, Direction], ...]


def _mask_of(mask: xr.DataArray | np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    m = np.asarray(mask.values if isinstance(mask, xr.DataArray) else mask, dtype=bool)
    if m.shape != shape:
        raise DataError(f"the outline mask has shape {m.shape}; the radar grid is {shape}")
    if not m.any():
        raise DataError("the outline mask selects no pixel of the radar grid")
    return m


def _to_datetime(value: np.datetime64) -> dt.datetime | None:
    if np.isnat(value):
        return None
    seconds = value.astype("datetime64[s]").astype(np.int64)
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc)


def _as_datetime64(when: dt.date | dt.datetime | np.datetime64) -> np.datetime64:
    if isinstance(when, dt.datetime) and when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    out: np.datetime64 = np.datetime64(when).astype("datetime64[ns]")  # type: ignore[call-overload]
    return out


#: The per-date, per-polarisation scene offset (dB) that :func:`with_scene_offsets` attaches.
SCENE_OFFSET_COORD = "scene_offset_db"


def with_scene_offsets(stack: xr.DataArray) -> xr.DataArray:
    """The stack with each date's scene-wide offset (dB) attached, measured once for every outline.

    Measuring the offset (:func:`sitewatch.core.sar.date_offsets`, orbit by orbit) for each
    outline again costs a median over the scene per outline; a scan measures dozens of
    outlines on one stack. Measured here over the whole scene, the outline's own pixels are
    among those of the median, which is robust while changed pixels are fewer than half.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` linear power with the per-time orbit coords.

    Returns
    -------
    xarray.DataArray
        The same stack, ``(time, band, y, x)``, checked as linear power
        (:func:`~sitewatch.core.sar.linear_power`, so no outline checks it again), with a
        ``(time, band)`` coord ``scene_offset_db`` (0 for a band that is not VV or VH), which
        :func:`outline_series` then uses.
    """
    stack = linear_power(stack.transpose("time", "band", "y", "x"))  # checked here, once for every outline
    bands = [str(v) for v in stack.coords["band"].values]
    pols = [b for b in POLARIZATIONS if b in bands]
    offsets = np.zeros((stack.sizes["time"], len(bands)), dtype=np.float32)
    if pols:
        cols = [bands.index(b) for b in pols]
        values = stack.values
        flat = values.reshape(values.shape[0], values.shape[1], -1)
        sample = power_to_db(flat[:, :, :: max(1, flat.shape[2] // _OFFSET_SAMPLE_PX)][:, cols])
        for group in orbit_groups(stack):
            idx = list(group.index)
            offsets[np.ix_(idx, cols)] = date_offsets(sample[idx])
    return stack.assign_coords({SCENE_OFFSET_COORD: (("time", "band"), offsets)})


def outline_series(
    stack: xr.DataArray, mask: xr.DataArray | np.ndarray, *, normalize: bool = True
) -> xr.DataArray:
    """The outline's mean backscatter (dB) per acquisition and polarisation.

    The mean is taken in linear power over the outline's valid pixels; acquisitions holding
    data on less than half of the outline are NaN. With ``normalize``, each date's scene-wide
    offset (rain, frozen ground), measured on the pixels *outside* the outline, orbit by
    orbit (:func:`sitewatch.core.sar.date_offsets`), is removed; a stack from
    :func:`with_scene_offsets` gives its offsets, measured once over the whole scene.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` linear power (VV and/or VH) with the per-time orbit coords.
    mask : xarray.DataArray or numpy.ndarray
        ``(y, x)`` bool, True inside the outline.
    normalize : bool

    Returns
    -------
    xarray.DataArray
        ``(time, polarization)`` dB, with the stack's per-time coords.
    """
    pols = [b for b in POLARIZATIONS if b in [str(v) for v in stack.coords["band"].values]]
    if not pols:
        raise DataError("the radar stack has no VV or VH band")
    m = _mask_of(mask, (stack.sizes["y"], stack.sizes["x"]))
    # checked once (the provider, with_scene_offsets); only the outline's pixels are gathered,
    # the stack is never copied whole per outline
    lin = linear_power(stack.transpose("time", "band", "y", "x"))
    bands = [str(v) for v in lin.coords["band"].values]
    cols = [bands.index(b) for b in pols]
    values = lin.values
    inside = values[:, :, m][:, cols]  # (T, C, N)
    ok = np.isfinite(inside) & (inside > 0)
    n = ok.sum(axis=2)
    total = np.where(ok, inside, 0).sum(axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / n
    mean[n < _MIN_VALID_SHARE * m.sum()] = np.nan
    db = power_to_db(mean)
    has_offsets = SCENE_OFFSET_COORD in stack.coords
    outside_px = np.flatnonzero(~m.reshape(-1))
    if normalize and has_offsets:
        db -= stack.coords[SCENE_OFFSET_COORD].sel(band=pols).transpose("time", "band").values
    elif normalize and outside_px.size > 0:
        step = max(1, outside_px.size // _OFFSET_SAMPLE_PX)
        flat = values.reshape(values.shape[0], values.shape[1], -1)
        around = power_to_db(flat[:, :, outside_px[::step]][:, cols])
        for group in orbit_groups(stack):
            idx = list(group.index)
            db[idx] -= date_offsets(around[idx])
    per_time = {k: v for k, v in stack.coords.items() if v.dims == ("time",)}
    return xr.DataArray(
        db,
        dims=("time", "polarization"),
        coords={**per_time, "polarization": pols},
        name="outline_backscatter",
        attrs={
            "units": "dB",
            "n_pixels": int(m.sum()),
            "normalized": bool(normalize and (has_offsets or outside_px.size > 0)),
        },
    )


def _direction(t: float, delta: float, p: SarParams) -> Direction:
    if not np.isfinite(t) or abs(t) < p.direction_threshold or abs(delta) < p.outline_min_change_db:
        return "none"
    return "brighter" if t > 0 else "darker"


def event_windows(
    days: np.ndarray, start: int, end: int, p: SarParams, after_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Before and after masks over one orbit's acquisition days, around an event.

    Before: the acquisitions in the ``recent_bins x bin_days`` days up to the event's start
    (day ``start``) and those within ``season_bins x bin_days`` days of it a year earlier;
    after: from the event's end (day ``end``) for ``after_days`` days.
    """
    recent, season = p.recent_bins * p.bin_days, p.season_bins * p.bin_days
    recent_win = (days <= start) & (days > start - recent)
    season_win = (np.abs(days - (start - 365)) <= season) & (days <= start - recent)
    after = (days >= end) & (days <= end + after_days)
    return recent_win | season_win, after


def _orbit_change(
    db: np.ndarray,
    times: np.ndarray,
    group: OrbitGroup,
    pols: Sequence[str],
    start: int,
    end: int,
    p: SarParams,
) -> OrbitChange | None:
    idx = np.asarray(group.index)
    x = db[idx]  # (T_o, C)
    t_o = times[idx]
    days = t_o.astype("datetime64[D]").astype(np.int64)
    usable = np.isfinite(x).all(axis=1)
    before, after = event_windows(days, start, end, p, p.outline_after_days)
    before &= usable
    after &= usable
    if before.sum() < 2 or not after.any():
        return None
    changes = []
    for c, pol in enumerate(pols):
        xb, xa = x[before, c], x[after, c]
        mb, ma = float(xb.mean()), float(xa.mean())
        vb = float(xb.var(ddof=1))
        va = float(xa.var(ddof=1)) if xa.size > 1 else 0.0
        if p.floor_test_variance:
            va = max(va, vb)
        t = float(
            welch_t(
                np.array(mb), np.array(vb), np.array(xb.size), np.array(ma), np.array(va), np.array(xa.size)
            )
        )
        changes.append(PolarizationChange(pol, t, ma - mb, mb, ma, _direction(t, ma - mb, p)))
    last_unchanged, first_changed = _radar_dating(x, t_o, usable, before, days, start, changes, p)
    before_t, after_t = t_o[before & (days <= start)], t_o[after]
    return OrbitChange(
        orbit=group.label,
        relative_orbit=group.relative_orbit,
        orbit_direction=group.orbit_direction,
        last_before=_to_datetime(before_t.max()) if before_t.size else None,
        first_after=_to_datetime(after_t.min()),
        radar_last_unchanged=last_unchanged,
        radar_first_changed=first_changed,
        n_before=int(before.sum()),
        n_after=int(after.sum()),
        polarizations=tuple(changes),
    )


def _radar_dating(
    x: np.ndarray,
    times: np.ndarray,
    usable: np.ndarray,
    before: np.ndarray,
    days: np.ndarray,
    start: int,
    changes: Sequence[PolarizationChange],
    p: SarParams,
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first pair of consecutive acquisitions after ``start`` on the changed side, as the pixel core."""
    moved = [(c, ch) for c, ch in enumerate(changes) if ch.direction in ("brighter", "darker")]
    if not moved:
        return None, None
    c, ch = max(moved, key=lambda item: abs(item[1].t_stat))
    ref = x[before, c]
    sd = float(np.sqrt(ref.var(ddof=1) * (1 + 1 / ref.size)))
    side = 1.0 if ch.direction == "brighter" else -1.0
    cand = np.nonzero(usable & (days > start))[0]
    if sd <= 0 or cand.size < p.confirm_obs:
        return None, None
    z = (x[cand, c] - ch.before_db) * side / sd
    on_side = (z >= p.single_threshold) & ((x[cand, c] - ch.before_db) * side >= p.outline_min_change_db)
    for i in range(cand.size - p.confirm_obs + 1):
        if on_side[i : i + p.confirm_obs].all():
            prior = np.nonzero(usable & (np.arange(x.shape[0]) < cand[i]))[0]
            last = _to_datetime(times[prior[-1]]) if prior.size else None
            return last, _to_datetime(times[cand[i]])
    return None, None


def outline_change(
    stack: xr.DataArray,
    mask: xr.DataArray | np.ndarray,
    *,
    event_start: dt.date | dt.datetime,
    event_end: dt.date | dt.datetime | None = None,
    params: SarParams | None = None,
) -> OutlineChange:
    """Whether, and how, the radar backscatter over an outline changed across an event interval.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` linear power with per-time ``orbit_direction``,
        ``relative_orbit`` coords.
    mask : xarray.DataArray or numpy.ndarray
        ``(y, x)`` bool outline on the stack's grid.
    event_start : datetime.date or datetime.datetime
        The last date known unchanged (an optical alert's ``last_unchanged``).
    event_end : datetime.date or datetime.datetime, optional
        The first date known changed (``first_detected``); default ``event_start``.
    params : SarParams, optional
        Windows, thresholds and ``outline_after_days`` (how long after the event the after
        window runs).

    Returns
    -------
    OutlineChange
        ``has_data`` is False when no orbit has acquisitions on both sides.

    Examples
    --------
    >>> ev = outline_change(stack, pad_mask, event_start=dt.date(2024, 1, 10))  # doctest: +SKIP
    >>> ev.direction("VV"), ev.last_before, ev.first_after  # doctest: +SKIP
    """
    p = params or SarParams()
    series = outline_series(stack, mask, normalize=p.normalize)
    start64 = _as_datetime64(event_start)
    end64 = _as_datetime64(event_end if event_end is not None else event_start)
    if end64 < start64:
        raise DataError(f"the event ends ({event_end}) before it starts ({event_start})")
    start = int(start64.astype("datetime64[D]").astype(np.int64))
    end = int(end64.astype("datetime64[D]").astype(np.int64))
    times = series.coords["time"].values.astype("datetime64[ns]")
    pols = [str(v) for v in series.coords["polarization"].values]
    orbits, notes = [], []
    for group in orbit_groups(stack):
        found = _orbit_change(series.values, times, group, pols, start, end, p)
        if found is None:
            notes.append(f"orbit {group.label}: no acquisitions on both sides of the event")
        else:
            orbits.append(found)
    if len(pols) == 1:
        notes.append(f"single polarisation: only {pols[0]}")
    befores = [o.last_before for o in orbits if o.last_before is not None]
    afters = [o.first_after for o in orbits if o.first_after is not None]
    return OutlineChange(
        n_pixels=int(series.attrs["n_pixels"]),
        event_start=_to_datetime(start64) or dt.datetime.min,
        event_end=_to_datetime(end64) or dt.datetime.min,
        orbits=tuple(orbits),
        last_before=max(befores) if befores else None,
        first_after=min(afters) if afters else None,
        notes=tuple(notes),
    )


def _median_time(values: np.ndarray) -> dt.datetime | None:
    v = values[~np.isnat(values)]
    if v.size == 0:
        return None
    ns = np.sort(v.astype("datetime64[ns]").astype(np.int64))
    return _to_datetime(np.datetime64(int(ns[(ns.size - 1) // 2]), "ns"))


def outline_breaks(result: xr.Dataset, mask: xr.DataArray | np.ndarray) -> OutlineBreaks:
    """Summarise the per-pixel radar breaks inside an outline.

    Parameters
    ----------
    result : xarray.Dataset
        From :func:`sitewatch.core.sar.detect_sar_breaks`.
    mask : xarray.DataArray or numpy.ndarray
        ``(y, x)`` bool outline on the result's grid.

    Returns
    -------
    OutlineBreaks
    """
    m = _mask_of(mask, (result.sizes["y"], result.sizes["x"]))
    changed = result["changed"].values[m]
    n = int(m.sum())
    transient = result["transient"].values[:, m].any(axis=0) & ~changed
    geometry = (result["layover"].values | result["shadow"].values)[:, m].any(axis=0)
    pols = [str(v) for v in result.coords["polarization"].values]
    t_by_pol, dir_by_pol = [], []
    # per pixel, the orbit that broke first speaks for it
    first_o = result["orbit_first_detected"].values[:, m]
    never = np.datetime64("2200-01-01", "ns")
    which = np.argmin(np.where(np.isnat(first_o), never, first_o), axis=0)
    cols = np.arange(n)
    for c, pol in enumerate(pols):
        t_px = result["t_stat"].values[:, c][:, m][which, cols]
        t_changed = t_px[changed & np.isfinite(t_px)]
        t_by_pol.append((pol, float(np.median(t_changed)) if t_changed.size else float("nan")))
        d_px = result["direction"].values[:, c][:, m][which, cols][changed]
        direction: Direction = "none"
        if d_px.size:
            if (d_px > 0).mean() >= 2 / 3:
                direction = "brighter"
            elif (d_px < 0).mean() >= 2 / 3:
                direction = "darker"
            elif (d_px != 0).any():
                direction = "mixed"
        dir_by_pol.append((pol, direction))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return OutlineBreaks(
            n_pixels=n,
            share_changed=float(changed.mean()),
            share_transient=float(transient.mean()),
            first_detected=_median_time(result["first_detected"].values[m][changed]),
            last_unchanged=_median_time(result["last_unchanged"].values[m][changed]),
            share_steep=float(result["steep"].values[m].mean()),
            share_layover_shadow=float(geometry.mean()),
            t_stat=tuple(t_by_pol),
            direction=tuple(dir_by_pol),
        )
