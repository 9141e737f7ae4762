"""Radar (Sentinel-1) per-pixel change over a backscatter time series (pure NumPy/SciPy).

The question per pixel is the optical history's: did the ground change for good, and when?
Radar answers it through clouds, but with its own noise (speckle) and its own geometry (every
relative orbit sees the ground from one side, at one incidence angle), so the core works like
this:

1. **Units**: input is linear backscatter power (sigma0 or gamma0, never mixed). A scene whose
   values are dB (its median is negative, which linear power cannot be) is converted with a
   :class:`~sitewatch.errors.DataWarning`; one whose median is far above any land backscatter
   (uncalibrated DN) is refused. Change is measured on ``10 log10`` of the power, where speckle
   is additive and a ratio of powers is a difference.
2. **Speckle**: a Lee (1980) minimum-mean-square-error filter per scene, with the number of
   looks estimated from the scene itself (the homogeneous areas' mean² / variance). A
   *spatial* filter is chosen over the multi-temporal (Quegan-Yu) one on purpose: the
   multi-temporal filter rebuilds every date from the ratio images of all the others, so a
   change leaks into the reference dates and the dates are no longer independent samples,
   which is what the t-test below assumes. Lee keeps point targets (vehicles, containers,
   corner reflectors) and edges at full resolution and averages only homogeneous ground.
3. **One geometry at a time**: acquisitions are grouped by relative orbit (else by orbit
   direction); only acquisitions of one group are ever compared, so incidence-angle and
   look-direction differences are never read as change. Within an orbit, each date's
   scene-wide offset (rain, dew, frozen ground move a whole scene at once; a structure moves
   its own pixels) is removed first: the median departure of the scene's pixels from their
   own temporal median.
4. **Reference windows as the optical history chooses them** (see :mod:`sitewatch.core.history`):
   the acquisitions in the ``recent_bins x bin_days`` days before a date (slow drift, soil
   moisture) and those within ``season_bins x bin_days`` days of the same date a year
   earlier (crops and seasonal wetness look like last year), of the same orbit.
5. **Change statistic**: for each acquisition ``k`` the test window is ``k`` and the next
   ``confirm_obs - 1`` acquisitions of the orbit; per polarisation (VV, VH) a Welch
   t-statistic compares the window's mean log backscatter with the reference's. Two
   acquisitions cannot estimate a variance, so by default the window's variance is floored at
   the reference's own, and every variance at a share of the orbit's median reference
   variance (both switchable; with both off the statistic is the textbook Welch t).
6. **Confirmation and dating**: a break is the first ``k`` where, for at least one
   polarisation, ``|t| >= threshold``, the mean change is at least ``min_change_db`` and *each*
   acquisition of the window lies on the changed side by ``single_threshold`` reference
   standard deviations. It is dated between the last acquisition before ``k``
   (``last_unchanged``) and ``k`` (``first_detected``), both of the same orbit. The direction
   of change per polarisation is brighter (+1), darker (-1) or none (0, ``|t|`` below
   ``direction_threshold``). A candidate whose last two acquisitions are back nearer the old
   state than the new one is ``transient`` (parked vehicles, a flood: as the optical history's
   transient), and the scan goes on for a lasting break (the end of a transient, a return to
   the state before it, is not one). ``persistence`` is the share of the later acquisitions
   still nearer the changed state.
7. **Geometry flags**: layover and shadow (per orbit) and steep terrain are flagged from a DEM
   when given, else from the data (a hillside is bright to the orbit direction it faces and
   dark to the other; see :mod:`sitewatch.core.sar_terrain`). No break is declared in an
   orbit's layover or shadow.

Results of all orbits are combined: ``changed`` anywhere, the earliest ``first_detected`` and
the latest ``last_unchanged`` before it. :mod:`sitewatch.core.sar_outline` summarises a
polygon's pixels for an investigator.

The scoring is a few passes over the stack with running (prefix) sums per orbit, in bands of
rows, so the cost grows with the number of acquisitions, not with the window sizes; the
confirmation runs only on the pixels whose window statistic passes.

Modules: :mod:`~sitewatch.core.sar_params` (settings), :mod:`~sitewatch.core.sar_radiometry`
(units, speckle), :mod:`~sitewatch.core.sar_series` (orbits, windows, date offsets, Welch t),
:mod:`~sitewatch.core.sar_terrain` (layover, shadow, steep), this module (the breaks), and
:mod:`~sitewatch.core.sar_outline` (an outline's evidence). Everything public is importable
from here.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import xarray as xr
from scipy import ndimage

from sitewatch.core.sar_params import (
    BACKSCATTER_CONVENTIONS,
    ORBIT_DIRECTIONS,
    POLARIZATIONS,
    Backscatter,
    SarParams,
)
from sitewatch.core.sar_radiometry import (
    db_to_power,
    estimate_looks,
    filter_speckle,
    filtered_db,
    lee_filter,
    linear_power,
    power_to_db,
    scene_names,
)
from sitewatch.core.sar_series import (
    OrbitGroup,
    date_offsets,
    orbit_groups,
    reference_windows,
    time_coord,
    welch_t,
)
from sitewatch.core.sar_terrain import TerrainFlags, terrain_from_data, terrain_from_dem
from sitewatch.errors import BandMissingError, DataError, DataWarning

__all__ = [
    "BACKSCATTER_CONVENTIONS",
    "ORBIT_DIRECTIONS",
    "POLARIZATIONS",
    "Backscatter",
    "OrbitGroup",
    "SarParams",
    "date_offsets",
    "db_to_power",
    "detect_sar_breaks",
    "estimate_looks",
    "filter_speckle",
    "lee_filter",
    "linear_power",
    "orbit_groups",
    "power_to_db",
    "reference_windows",
    "welch_t",
]


# --------------------------------------------------------------------------- the scan over dates


def _window_sums(c: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Sum over the two reference ranges ``w = (r0, r1, s0, s1)`` from prefix sums ``c`` (T+1, ...)."""
    r0, r1, s0, s1 = (int(v) for v in w)
    return (c[r1] - c[r0]) + (c[s1] - c[s0])


def _pooled(var: np.ndarray, rows: int, size: int) -> np.ndarray:
    """Mean of the finite variances ``var`` (C, rows * W) over ``size`` x ``size`` neighbourhoods."""
    c_n = var.shape[0]
    v = var.reshape(c_n, rows, -1)
    ok = np.isfinite(v)
    win = (1, size, size)
    share = ndimage.uniform_filter(ok.astype(np.float32), win, mode="nearest")
    total = ndimage.uniform_filter(np.where(ok, v, 0).astype(np.float32), win, mode="nearest")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = total / share
    return out.reshape(c_n, -1)


def _last_two(valid: np.ndarray) -> np.ndarray:
    """Indices of the last and second-to-last valid acquisitions per pixel of ``valid`` (T, P); -1 none."""
    t_n = valid.shape[0]
    rev = valid[::-1]
    last = np.where(valid.any(axis=0), t_n - 1 - np.argmax(rev, axis=0), -1)
    before_last = valid & (np.arange(t_n)[:, None] < last[None])
    second = np.where(before_last.any(axis=0), t_n - 1 - np.argmax(before_last[::-1], axis=0), -1)
    return np.stack([last, second]).astype(np.int64)


@dataclass
class _TileState:
    """What one tile has found so far (arrays over its pixels; mutated while scanning the dates)."""

    brk: np.ndarray
    last_unchanged: np.ndarray
    trigger: np.ndarray
    transient: np.ndarray
    t_stat: np.ndarray
    delta_db: np.ndarray
    ref_mean: np.ndarray
    ref_sd: np.ndarray
    n_ref: np.ndarray

    @classmethod
    def empty(cls, c_n: int, p_n: int) -> _TileState:
        def nan() -> np.ndarray:
            return np.full((c_n, p_n), np.nan, np.float32)

        return cls(
            brk=np.full(p_n, -1, np.int32),
            last_unchanged=np.full(p_n, -1, np.int32),
            trigger=np.zeros(p_n, np.int8),
            transient=np.zeros(p_n, bool),
            t_stat=nan(),
            delta_db=nan(),
            ref_mean=nan(),
            ref_sd=nan(),
            n_ref=np.zeros(p_n, np.int32),
        )


def _running_sums(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Valid mask, centred values and their running sums (with a leading zero row) along time."""
    t_n, c_n, p_n = x.shape
    ok = np.isfinite(x)
    cnt = ok.sum(axis=0)
    # centred on each pixel's own mean, so float32 running sums keep their precision
    centre = (np.where(ok, x, 0).sum(axis=0) / np.maximum(cnt, 1)).astype(np.float32)
    xc = np.where(ok, x - centre, np.float32(0)).astype(np.float32)
    c1 = np.zeros((t_n + 1, c_n, p_n), np.float32)
    c2 = np.zeros((t_n + 1, c_n, p_n), np.float32)
    cn = np.zeros((t_n + 1, c_n, p_n), np.float32)
    np.cumsum(xc, axis=0, out=c1[1:])
    np.cumsum(xc * xc, axis=0, out=c2[1:])
    np.cumsum(ok, axis=0, out=cn[1:])
    return ok, xc, c1, c2, cn


def _tile_breaks(
    x: np.ndarray,
    windows: np.ndarray,
    floor: np.ndarray,
    exclude: np.ndarray,
    p: SarParams,
    rows: int,
) -> dict[str, np.ndarray]:
    """Breaks of one band of ``rows`` full-width rows of one orbit.

    ``x`` is (T, C, rows * W) dB (NaN missing), ``floor`` the (C,) variance floors. Every
    date costs a few passes over the tile; the confirmation and the revert check run only
    on the few pixels whose window statistic passes.
    """
    t_n, c_n, p_n = x.shape
    m = p.confirm_obs
    ok, xc, c1, c2, cn = _running_sums(x)
    floor_b = floor[:, None].astype(np.float32)
    st = _TileState.empty(c_n, p_n)
    last_valid = np.full(p_n, -1, np.int32)
    last_two = _last_two(np.asarray(ok.any(axis=1)))
    eligible = ~exclude
    for k in range(t_n - m + 1):
        w = windows[k]
        n_r = _window_sums(cn, w)
        mean_r = _window_sums(c1, w) / n_r
        var_r = (_window_sums(c2, w) - n_r * mean_r * mean_r) / (n_r - 1)
        if p.variance_pool_px > 1:
            # the pixel's own estimate from a dozen acquisitions is noisy: the neighbourhood's
            # (same ground, same speckle) is steadier, and the larger of the two is kept
            var_r = np.fmax(var_r, _pooled(np.where(n_r >= 2, var_r, np.nan), rows, p.variance_pool_px))
        var_r = np.maximum(var_r, floor_b)
        n_w = cn[k + m] - cn[k]
        mean_w = (c1[k + m] - c1[k]) / n_w
        var_w = (c2[k + m] - c2[k] - n_w * mean_w * mean_w) / (n_w - 1) if m > 1 else np.zeros_like(mean_w)
        var_w = np.maximum(var_w, var_r if p.floor_test_variance else floor_b)
        t = (mean_w - mean_r) / np.sqrt(var_r / n_r + var_w / n_w)
        delta = mean_w - mean_r
        passing = (np.abs(t) >= p.threshold) & (np.abs(delta) >= p.min_change_db)
        passing &= (n_r >= p.min_ref_obs) & (n_w == m)
        cols = np.nonzero(passing.any(axis=0) & (st.brk < 0) & eligible)[0]
        if cols.size:
            _accept(st, cols, k, passing, t, delta, mean_r, var_r, n_r, xc, last_valid, last_two, p)
        last_valid = np.where(ok[k].any(axis=0), k, last_valid).astype(np.int32)
    n_after, persistence = _persistence(st, ok, xc, p)
    return {
        "transient": st.transient & (st.brk < 0),
        "break_index": st.brk,
        "last_unchanged_index": st.last_unchanged,
        "trigger": st.trigger,
        "t_stat": st.t_stat,
        "delta_db": st.delta_db,
        "n_reference": st.n_ref,
        "n_after": n_after,
        "persistence": persistence,
    }


def _accept(
    st: _TileState,
    cols: np.ndarray,
    k: int,
    passing: np.ndarray,
    t: np.ndarray,
    delta: np.ndarray,
    mean_r: np.ndarray,
    var_r: np.ndarray,
    n_r: np.ndarray,
    xc: np.ndarray,
    last_valid: np.ndarray,
    last_two: np.ndarray,
    p: SarParams,
) -> None:
    """Confirm the candidate breaks at date ``k`` in pixels ``cols`` and record the lasting ones."""
    m = p.confirm_obs
    t_c, d_c, mr_c = t[:, cols], delta[:, cols], mean_r[:, cols]
    sd_c = np.sqrt(var_r[:, cols] * (1 + 1 / n_r[:, cols]))
    side = np.sign(t_c)
    # each acquisition of the window on the changed side, not only their mean
    confirm = passing[:, cols].copy()
    for j in range(k, k + m):
        z = (xc[j][:, cols] - mr_c) / sd_c
        confirm &= (np.sign(z) == side) & (np.abs(z) >= p.single_threshold)
    hit = confirm.any(axis=0)
    if not hit.any():
        return
    cols, confirm = cols[hit], confirm[:, hit]
    t_c, d_c, mr_c, sd_c, side = t_c[:, hit], d_c[:, hit], mr_c[:, hit], sd_c[:, hit], side[:, hit]
    trig = np.argmax(np.where(confirm, np.abs(t_c), -1.0), axis=0)
    back = _reverted(xc, last_two[:, cols], k + m, cols, trig, mr_c, d_c)
    returning = _returning(st, xc, k, cols, trig, p)
    # the state before a pixel's first transient is kept: the transient's end is a return to it
    first_time = back & ~st.transient[cols]
    st.ref_mean[:, cols[first_time]] = mr_c[:, first_time]
    st.ref_sd[:, cols[first_time]] = sd_c[:, first_time]
    st.transient[cols[back]] = True
    keep = ~back & ~returning
    cols = cols[keep]
    st.brk[cols] = k
    st.last_unchanged[cols] = last_valid[cols]
    st.trigger[cols] = trig[keep].astype(np.int8)
    st.t_stat[:, cols] = t_c[:, keep]
    st.delta_db[:, cols] = d_c[:, keep]
    st.ref_mean[:, cols] = mr_c[:, keep]
    st.ref_sd[:, cols] = sd_c[:, keep]
    st.n_ref[cols] = n_r[:, cols].min(axis=0)


def _returning(
    st: _TileState, xc: np.ndarray, k: int, cols: np.ndarray, trig: np.ndarray, p: SarParams
) -> np.ndarray:
    """Candidates after a transient whose window is back at the state before it (its end, not a break)."""
    out = np.zeros(cols.size, bool)
    was = st.transient[cols]
    if not was.any():
        return out
    idx = np.nonzero(was)[0]
    c, px = trig[idx], cols[idx]
    near = np.ones(idx.size, bool)
    for j in range(k, k + p.confirm_obs):
        z = (xc[j, c, px] - st.ref_mean[c, px]) / st.ref_sd[c, px]
        near &= np.abs(z) < p.single_threshold
    out[idx] = near
    return out


def _reverted(
    xc: np.ndarray,
    last_two: np.ndarray,
    after: int,
    cols: np.ndarray,
    trig: np.ndarray,
    mean_r: np.ndarray,
    delta: np.ndarray,
) -> np.ndarray:
    """Which candidates' last two acquisitions (both after index ``after``) are back to the reference.

    As the optical history's ``transient``: parked vehicles, a flood, a harvest leave and come
    back; a structure built or removed stays. An acquisition is back when it is nearer the old
    state than the new one (below half the change). Without two later acquisitions nothing can
    be told. ``last_two``, ``trig``, ``mean_r`` and ``delta`` are those of the pixels ``cols``.
    """
    back = last_two[1] >= after
    idx = np.arange(cols.size)
    for j in (last_two[0], last_two[1]):
        back &= ~_still_changed(xc[np.maximum(j, 0), trig, cols], mean_r[trig, idx], delta[trig, idx])
    return back


def _still_changed(x: np.ndarray, ref_mean: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Observations nearer the changed state (``ref_mean + delta``) than the old one."""
    return (x - ref_mean) * np.sign(delta) >= 0.5 * np.abs(delta)


def _persistence(
    st: _TileState, ok: np.ndarray, xc: np.ndarray, p: SarParams
) -> tuple[np.ndarray, np.ndarray]:
    """Acquisitions after each break's window, and the share still nearer the changed state."""
    t_n, _, p_n = xc.shape
    found = np.nonzero(st.brk >= 0)[0]
    n_after = np.zeros(p_n, np.int32)
    persistence = np.full(p_n, np.nan, np.float32)
    if found.size == 0:
        return n_after, persistence
    trig = st.trigger[found].astype(np.intp)
    start = st.brk[found] + p.confirm_obs
    mr, delta = st.ref_mean[trig, found], st.delta_db[trig, found]
    later = (np.arange(t_n)[:, None] >= start[None]) & ok[:, trig, found]
    still = later & _still_changed(xc[:, trig, found], mr[None], delta[None])
    n = later.sum(axis=0)
    n_after[found] = n
    persistence[found] = np.where(n > 0, still.sum(axis=0) / np.maximum(n, 1), np.nan)
    return n_after, persistence


def _median_reference_variance(x: np.ndarray, windows: np.ndarray, p: SarParams) -> np.ndarray:
    """Median reference variance per polarisation of an orbit, on a pixel sample (the floor's unit)."""
    t_n, c_n, p_n = x.shape
    sample = x[:, :, :: max(1, p_n // 20_000)]
    out = np.full(c_n, np.nan, np.float32)
    per_c: list[list[np.ndarray]] = [[] for _ in range(c_n)]
    for k in range(t_n):
        r0, r1, s0, s1 = (int(v) for v in windows[k])
        idx = [*range(r0, r1), *range(s0, s1)]
        if len(idx) < p.min_ref_obs:
            continue
        ref = sample[idx]
        n = np.isfinite(ref).sum(axis=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            var = np.nanvar(ref, axis=0, ddof=1)
        for c in range(c_n):
            v = var[c][n[c] >= p.min_ref_obs]
            if v.size:
                per_c[c].append(v)
    for c in range(c_n):
        if per_c[c]:
            out[c] = np.median(np.concatenate(per_c[c]))
    return out


# --------------------------------------------------------------------------- the xarray face


def _check_stack(stack: xr.DataArray) -> tuple[list[str], list[str], str]:
    """Polarisations to use, notes on what the series lacks, and its backscatter convention."""
    missing = {"time", "band", "y", "x"} - set(stack.dims)
    if missing:
        raise DataError(f"a radar stack needs dims (time, band, y, x); it lacks {', '.join(sorted(missing))}")
    have = [str(b) for b in stack.coords["band"].values]
    pols = [b for b in POLARIZATIONS if b in have]
    if not pols:
        raise BandMissingError(
            f"the radar stack has no VV or VH band (it has {', '.join(have)}); "
            "load Sentinel-1 VV/VH backscatter"
        )
    times = stack.coords["time"].values
    if not np.array_equal(np.argsort(times, kind="stable"), np.arange(times.size)):
        raise DataError("detect_sar_breaks needs the stack in time order; sort it with stack.sortby('time')")
    conventions = time_coord(stack, "backscatter")
    kinds: dict[str, list[int]] = {}
    for t, kind in enumerate(conventions if conventions is not None else []):
        kinds.setdefault(str(kind), []).append(t)
    known = {k: v for k, v in kinds.items() if k}
    if len(known) > 1:
        listing = "; ".join(f"{k}: {scene_names(stack, v)}" for k, v in sorted(known.items()))
        raise DataError(
            f"the radar series mixes backscatter conventions ({listing}); sigma0 and gamma0 differ by the "
            "terrain's slope and cannot be compared: load one convention only"
        )
    notes = []
    if len(pols) == 1:
        notes.append(f"single polarisation: only {pols[0]} (no {'VH' if pols[0] == 'VV' else 'VV'} evidence)")
    directions = time_coord(stack, "orbit_direction")
    seen = sorted({str(d).upper() for d in directions} - {""}) if directions is not None else []
    if len(seen) == 1:
        notes.append(
            f"one orbit direction only ({seen[0]}): each change is seen from one side, and layover or shadow "
            "cannot be told from the data (give a DEM to flag them)"
        )
    elif not seen:
        notes.append("orbit directions unknown: layover or shadow cannot be told from the data")
    return pols, notes, next(iter(known), "")


def _when(index: np.ndarray, times: np.ndarray) -> np.ndarray:
    out = np.full(index.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = index >= 0
    out[ok] = times[index[ok]]
    return out


def _orbit_result(
    db: np.ndarray, group: OrbitGroup, days: np.ndarray, exclude: np.ndarray, p: SarParams
) -> dict[str, np.ndarray]:
    """Breaks of one orbit over the whole grid, in tiles; indices are positions in ``group.index``."""
    idx = np.asarray(group.index)
    t_n, c_n, h, w = idx.size, db.shape[1], db.shape[2], db.shape[3]
    x = db[idx].reshape(t_n, c_n, -1)
    if p.normalize:
        x -= date_offsets(x)[:, :, None]  # x is this orbit's own copy
    windows = reference_windows(days[idx], params=p)
    floor = np.nan_to_num(_median_reference_variance(x, windows, p) * p.variance_floor_share, nan=0.0)
    # tiles are bands of whole rows, read with a halo of rows for the pooled variance
    band = max(1, p.tile_px // max(w, 1))
    halo = p.variance_pool_px // 2
    parts: list[dict[str, np.ndarray]] = []
    for r0 in range(0, h, band):
        r1 = min(h, r0 + band)
        h0, h1 = max(0, r0 - halo), min(h, r1 + halo)
        with np.errstate(divide="ignore", invalid="ignore"):  # empty windows give NaN, never a break
            res = _tile_breaks(x[:, :, h0 * w : h1 * w], windows, floor, exclude[h0 * w : h1 * w], p, h1 - h0)
        keep = slice((r0 - h0) * w, (r1 - h0) * w)
        parts.append({k: v[..., keep] for k, v in res.items()})
    return {k: np.concatenate([part[k] for part in parts], axis=-1) for k in parts[0]}


def detect_sar_breaks(
    stack: xr.DataArray,
    *,
    params: SarParams | None = None,
    dem: xr.DataArray | np.ndarray | None = None,
) -> xr.Dataset:
    """Find, per pixel, the first lasting radar change of a Sentinel-1 series and date it.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` linear backscatter power (bands ``VV`` and/or ``VH``), time
        ascending, on one grid, with per-time coords ``orbit_direction``, ``relative_orbit``
        and ``backscatter`` (see :mod:`sitewatch.providers.radar`). Scenes in dB are
        converted (with a warning).
    params : SarParams, optional
    dem : xarray.DataArray or numpy.ndarray, optional
        Terrain heights (metres) on the stack's grid; flags layover, shadow and steep terrain
        from the slopes instead of from the data.

    Returns
    -------
    xarray.Dataset
        On the stack's grid, with dims ``orbit`` (the viewing geometries) and
        ``polarization``:

        - combined over orbits: ``changed`` (bool), ``first_detected`` (earliest
          first changed acquisition), ``last_unchanged`` (latest unchanged acquisition
          before it), ``n_orbits_changed``, ``steep`` (bool);
        - per orbit: ``orbit_changed``, ``orbit_first_detected``, ``orbit_last_unchanged``,
          ``persistence`` (share of later acquisitions still changed), ``n_reference``,
          ``n_after``, ``layover``, ``shadow``;
        - per orbit and polarisation, at the break: ``t_stat`` (Welch t, positive =
          brighter), ``delta_db`` (window mean minus reference mean), ``direction``
          (+1 brighter, -1 darker, 0 none).

        Coords ``relative_orbit``, ``orbit_direction``, ``n_acquisitions`` per orbit. Attrs:
        the parameters, ``backscatter``, ``looks`` and ``notes`` (what the series lacks).

    Raises
    ------
    BandMissingError
        If the stack has neither VV nor VH.
    DataError
        If the series mixes sigma0 and gamma0 (naming the scenes), is not in time order,
        holds uncalibrated values, or has no orbit with enough acquisitions.

    Warns
    -----
    DataWarning
        With one orbit direction or one polarisation only (the result says what it lacks),
        when orbits with too few acquisitions are skipped, or when dB input was converted.

    Examples
    --------
    >>> ds = detect_sar_breaks(radar_stack)  # doctest: +SKIP
    >>> ds.changed.sum().item(), ds.attrs["notes"]  # doctest: +SKIP
    """
    p = params or SarParams()
    pols, notes, convention = _check_stack(stack)
    have = [str(b) for b in stack.coords["band"].values]
    chosen = stack if have == pols else stack.sel(band=pols)
    lin = linear_power(chosen.transpose("time", "band", "y", "x"))
    db, looks = filtered_db(lin.values, window_px=p.filter_px, looks=p.looks)
    t_n, _, h, w = db.shape
    times = stack.coords["time"].values.astype("datetime64[ns]")
    days = times.astype("datetime64[D]").astype(np.int64)
    need = p.min_ref_obs + p.confirm_obs
    all_groups = orbit_groups(stack)
    groups = [g for g in all_groups if len(g.index) >= need]
    skipped = [f"{g.label} ({len(g.index)})" for g in all_groups if len(g.index) < need]
    if not groups:
        raise DataError(
            f"no orbit of the radar series has the {need} acquisitions a test needs "
            f"(acquisitions per orbit: {', '.join(skipped)}); load a longer series"
        )
    if skipped:
        notes.append(f"orbits with fewer than {need} acquisitions skipped: {', '.join(skipped)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels have no mean
        means = {g.label: np.nanmean(db[list(g.index), 0], axis=0) for g in groups}
    if dem is not None:
        terrain: TerrainFlags = terrain_from_dem(
            np.asarray(dem.values if isinstance(dem, xr.DataArray) else dem, dtype=np.float64),
            _pixel_size_m(stack),
            {g.label: g.orbit_direction for g in groups},
            steep_slope_deg=p.steep_slope_deg,
            incidence_deg=p.incidence_deg,
        )
    else:
        terrain = terrain_from_data(
            means,
            {g.label: g.orbit_direction for g in groups},
            window_px=p.terrain_window_px,
            layover_contrast_db=p.layover_contrast_db,
            steep_contrast_db=p.steep_contrast_db,
        )
    if terrain.note:
        notes.append(terrain.note)
    results = []
    for g in groups:
        exclude = (terrain.layover[g.label] | terrain.shadow[g.label]).reshape(-1)
        results.append(_orbit_result(db, g, days, exclude, p))
    ds = _assemble(stack, groups, results, terrain, pols, times, p, (h, w))
    ds.attrs.update(
        {
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(p).items() if v is not None},
            "backscatter": convention,
            "looks": looks,
            "notes": "; ".join(notes),
            "n_dates": int(t_n),
        }
    )
    if notes:
        warnings.warn(f"radar change: {'; '.join(notes)}", DataWarning, stacklevel=2)
    return ds


def _pixel_size_m(stack: xr.DataArray) -> tuple[float, float]:
    ys, xs = stack.coords["y"].values, stack.coords["x"].values
    dy = float(abs(ys[1] - ys[0])) if ys.size > 1 else 10.0
    dx = float(abs(xs[1] - xs[0])) if xs.size > 1 else 10.0
    if dx < 0.01:
        raise DataError(
            "slopes from a DEM need a projected grid in metres; the stack's grid is geographic: load it with "
            "crs='utm'"
        )
    return dy, dx


def _assemble(
    stack: xr.DataArray,
    groups: Sequence[OrbitGroup],
    results: Sequence[dict[str, np.ndarray]],
    terrain: TerrainFlags,
    pols: Sequence[str],
    times: np.ndarray,
    p: SarParams,
    shape: tuple[int, int],
) -> xr.Dataset:
    h, w = shape
    o_n, c_n = len(groups), len(pols)
    first = np.stack(
        [
            _when(np.where(r["break_index"] >= 0, np.asarray(g.index)[r["break_index"]], -1), times)
            for g, r in zip(groups, results, strict=True)
        ]
    )
    last = np.stack(
        [
            _when(
                np.where(r["last_unchanged_index"] >= 0, np.asarray(g.index)[r["last_unchanged_index"]], -1),
                times,
            )
            for g, r in zip(groups, results, strict=True)
        ]
    )
    changed_o = np.stack([r["break_index"] >= 0 for r in results])
    t_stat = np.stack([r["t_stat"] for r in results])
    delta = np.stack([r["delta_db"] for r in results])
    direction = np.where(
        np.abs(np.nan_to_num(t_stat)) >= p.direction_threshold, np.sign(np.nan_to_num(t_stat)), 0
    ).astype(np.int8)
    never, long_ago = np.datetime64("2200-01-01", "ns"), np.datetime64("1900-01-01", "ns")
    any_changed = changed_o.any(axis=0)
    earliest = np.where(changed_o, first, never).min(axis=0)
    earliest = np.where(any_changed, earliest, np.datetime64("NaT"))
    # the tightest interval: the latest unchanged acquisition of any changed orbit before the earliest change
    usable = changed_o & ~np.isnat(last) & (last < np.where(any_changed, earliest, never)[None])
    latest_before = np.where(usable, last, long_ago).max(axis=0)
    latest_before = np.where(usable.any(axis=0), latest_before, np.datetime64("NaT"))
    yx, oyx, opyx = ("y", "x"), ("orbit", "y", "x"), ("orbit", "polarization", "y", "x")
    spatial = {k: v for k, v in stack.coords.items() if set(v.dims) <= {"y", "x"}}
    return xr.Dataset(
        {
            "changed": (yx, any_changed.reshape(h, w)),
            "first_detected": (yx, earliest.reshape(h, w).astype("datetime64[ns]")),
            "last_unchanged": (yx, latest_before.reshape(h, w).astype("datetime64[ns]")),
            "n_orbits_changed": (yx, changed_o.sum(axis=0).astype(np.int16).reshape(h, w)),
            "steep": (yx, terrain.steep),
            "orbit_changed": (oyx, changed_o.reshape(o_n, h, w)),
            "transient": (oyx, np.stack([r["transient"] for r in results]).reshape(o_n, h, w)),
            "orbit_first_detected": (oyx, first.reshape(o_n, h, w)),
            "orbit_last_unchanged": (oyx, last.reshape(o_n, h, w)),
            "persistence": (oyx, np.stack([r["persistence"] for r in results]).reshape(o_n, h, w)),
            "n_reference": (oyx, np.stack([r["n_reference"] for r in results]).reshape(o_n, h, w)),
            "n_after": (oyx, np.stack([r["n_after"] for r in results]).reshape(o_n, h, w)),
            "layover": (oyx, np.stack([terrain.layover[g.label] for g in groups])),
            "shadow": (oyx, np.stack([terrain.shadow[g.label] for g in groups])),
            "t_stat": (opyx, t_stat.reshape(o_n, c_n, h, w)),
            "delta_db": (opyx, delta.reshape(o_n, c_n, h, w)),
            "direction": (opyx, direction.reshape(o_n, c_n, h, w)),
        },
        coords={
            **spatial,
            "orbit": ("orbit", [g.label for g in groups]),
            "relative_orbit": ("orbit", [g.relative_orbit for g in groups]),
            "orbit_direction": ("orbit", [g.orbit_direction for g in groups]),
            "n_acquisitions": ("orbit", [len(g.index) for g in groups]),
            "polarization": ("polarization", list(pols)),
        },
    )
