"""Where radar backscatter is not the ground's: layover, shadow and steep terrain (pure NumPy/SciPy).

A side-looking radar sees a slope facing it foreshortened and bright, and, when the slope is
steeper than the incidence angle, in **layover** (the top imaged before the foot, several
ground points in one pixel); a slope facing away steeper than the grazing angle lies in
**shadow** (no signal, only noise). Neither is a measurement of the ground, so the radar core
declares no break there.

- **From a DEM** (:func:`terrain_from_dem`): slope and aspect give, per orbit direction, the
  slope toward the sensor (Sentinel-1 looks right: about 78 degrees from north ascending,
  282 degrees descending). Layover where it reaches the swath's nearest incidence angle,
  shadow where the slope away reaches the farthest grazing angle, steep from a slope angle:
  the cautious ends, because a pixel's exact incidence is not known here.
- **From the data** (:func:`terrain_from_data`): a hillside is bright to the orbit direction
  it faces and dark to the other, while flat ground (and a runway, a field or a lake) looks
  alike from both sides. The temporal mean backscatter of each direction, with its scene
  median removed (the two directions see the site at different incidence angles) and
  smoothed over a window larger than a building (buildings' double bounce also depends on the
  side), gives a contrast map: steep where it exceeds ``steep_contrast_db``; layover on the
  bright side and shadow on the dark side where it exceeds ``layover_contrast_db`` *and* that
  side stands half that contrast above (below) its own scene's median. With one orbit direction and no DEM
  nothing can be told, and the result says so.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import ndimage

__all__ = ["LOOK_AZIMUTH_DEG", "TerrainFlags", "terrain_from_data", "terrain_from_dem"]

#: Azimuth (degrees clockwise from north) in which Sentinel-1 looks, per orbit direction: the
#: ground track heads about 348 (ascending) or 192 degrees (descending), the radar looks right.
LOOK_AZIMUTH_DEG: dict[str, float] = {"ASCENDING": 78.0, "DESCENDING": 282.0}
# Layover must be brighter (shadow darker) than the scene's median by this share of the
# contrast between directions: a slope is extreme in its own scene, not only against the other pass.
_EXTREME_SHARE = 0.5


@dataclass(frozen=True)
class TerrainFlags:
    """Geometry flags on a grid.

    Parameters
    ----------
    layover, shadow : mapping of str to numpy.ndarray
        Per orbit label, ``(y, x)`` bool.
    steep : numpy.ndarray
        ``(y, x)`` bool.
    source : {"dem", "data", "none"}
        What the flags come from (``"none"``: nothing could be told).
    note : str
        What could not be flagged, and why (empty when everything was).
    """

    layover: Mapping[str, np.ndarray]
    shadow: Mapping[str, np.ndarray]
    steep: np.ndarray
    source: Literal["dem", "data", "none"]
    note: str = ""


def _none(labels: Mapping[str, str], shape: tuple[int, int], note: str) -> TerrainFlags:
    empty = {label: np.zeros(shape, bool) for label in labels}
    return TerrainFlags(
        layover=empty, shadow=dict(empty), steep=np.zeros(shape, bool), source="none", note=note
    )


def _smooth(x: np.ndarray, size: int) -> np.ndarray:
    """NaN-aware moving mean over ``size`` x ``size`` pixels."""
    ok = np.isfinite(x)
    w = ndimage.uniform_filter(ok.astype(np.float32), size, mode="nearest")
    s = ndimage.uniform_filter(np.where(ok, x, 0).astype(np.float32), size, mode="nearest")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = s / w
    out[w < 0.25] = np.nan
    return out


def _direction_mean(means: Mapping[str, np.ndarray], labels: list[str]) -> np.ndarray:
    """Mean over orbits of one direction of each orbit's temporal mean, its scene median removed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        levelled = [means[label] - np.nanmedian(means[label]) for label in labels]
        return np.nanmean(np.stack(levelled), axis=0)


def terrain_from_data(
    means_db: Mapping[str, np.ndarray],
    directions: Mapping[str, str],
    *,
    window_px: int = 9,
    layover_contrast_db: float = 6.0,
    steep_contrast_db: float = 3.0,
) -> TerrainFlags:
    """Flag layover, shadow and steep terrain from the contrast between orbit directions.

    Parameters
    ----------
    means_db : mapping of str to numpy.ndarray
        Per orbit label, the ``(y, x)`` temporal mean backscatter (dB, co-polarised).
    directions : mapping of str to str
        Per orbit label, ``"ASCENDING"`` or ``"DESCENDING"`` (``""`` when unknown).
    window_px : int
        Smoothing window side.
    layover_contrast_db, steep_contrast_db : float

    Returns
    -------
    TerrainFlags
        ``source="none"`` (all False) when one direction is missing.

    Examples
    --------
    >>> flat = np.full((40, 40), -12.0)
    >>> hill = flat.copy(); hill[10:30, 10:20] += 9.0   # bright to the ascending pass only
    >>> dark = flat.copy(); dark[10:30, 10:20] -= 9.0
    >>> flags = terrain_from_data({"A": hill, "D": dark}, {"A": "ASCENDING", "D": "DESCENDING"})
    >>> bool(flags.layover["A"][20, 15]), bool(flags.shadow["D"][20, 15]), bool(flags.steep[2, 2])
    (True, True, False)
    """
    shape = next(iter(means_db.values())).shape
    asc = [k for k in means_db if directions.get(k) == "ASCENDING"]
    desc = [k for k in means_db if directions.get(k) == "DESCENDING"]
    if not asc or not desc:
        return _none(
            directions,
            shape,
            "layover, shadow and steep terrain not flagged: they need both orbit directions or a DEM",
        )
    a = _smooth(_direction_mean(means_db, asc), window_px)
    d = _smooth(_direction_mean(means_db, desc), window_px)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        contrast = a - d
        contrast -= np.nanmedian(contrast)
        # the bright side must also stand out of its own scene, the dark side sink below it
        margin = _EXTREME_SHARE * layover_contrast_db
        a_mid, d_mid = np.nanmedian(a), np.nanmedian(d)
        a_hi, a_lo, d_hi, d_lo = a_mid + margin, a_mid - margin, d_mid + margin, d_mid - margin
    c = np.nan_to_num(contrast, nan=0.0)
    a0, d0 = np.nan_to_num(a, nan=np.nanmedian(a)), np.nan_to_num(d, nan=np.nanmedian(d))
    asc_layover = (c >= layover_contrast_db) & (a0 >= a_hi)
    asc_shadow = (c <= -layover_contrast_db) & (a0 <= a_lo)
    desc_layover = (c <= -layover_contrast_db) & (d0 >= d_hi)
    desc_shadow = (c >= layover_contrast_db) & (d0 <= d_lo)
    layover: dict[str, np.ndarray] = {}
    shadow: dict[str, np.ndarray] = {}
    for label in directions:
        if label in asc:
            layover[label], shadow[label] = asc_layover, asc_shadow
        elif label in desc:
            layover[label], shadow[label] = desc_layover, desc_shadow
        else:
            layover[label], shadow[label] = np.zeros(shape, bool), np.zeros(shape, bool)
    return TerrainFlags(layover=layover, shadow=shadow, steep=np.abs(c) >= steep_contrast_db, source="data")


def terrain_from_dem(
    dem_m: np.ndarray,
    pixel_m: tuple[float, float],
    directions: Mapping[str, str],
    *,
    steep_slope_deg: float = 15.0,
    incidence_deg: tuple[float, float] = (29.1, 46.0),
) -> TerrainFlags:
    """Flag layover, shadow and steep terrain from terrain heights on a north-up grid.

    Parameters
    ----------
    dem_m : numpy.ndarray
        ``(y, x)`` heights in metres (NaN unknown), rows from north to south.
    pixel_m : tuple of float
        ``(dy, dx)`` pixel size in metres.
    directions : mapping of str to str
        Per orbit label, ``"ASCENDING"`` or ``"DESCENDING"``.
    steep_slope_deg : float
    incidence_deg : tuple of float
        Nearest and farthest incidence angle of the swath.

    Returns
    -------
    TerrainFlags

    Examples
    --------
    >>> x = np.arange(50) * 10.0
    >>> ramp = np.tile(-x * 0.8, (20, 1))   # falls 0.8 m per metre eastward: faces east, ~39 degrees
    >>> f = terrain_from_dem(ramp, (10.0, 10.0), {"A": "ASCENDING", "D": "DESCENDING"})
    >>> bool(f.layover["D"][10, 25]), bool(f.layover["A"][10, 25]), bool(f.steep[10, 25])
    (True, False, True)
    """
    z = np.asarray(dem_m, dtype=np.float64)
    dy, dx = pixel_m
    rise_south, rise_east = np.gradient(z, dy, dx)
    rise_north = -rise_south
    slope = np.degrees(np.arctan(np.hypot(rise_east, rise_north)))
    known = np.isfinite(slope)
    near, far = incidence_deg
    layover: dict[str, np.ndarray] = {}
    shadow: dict[str, np.ndarray] = {}
    unknown = []
    for label, direction in directions.items():
        azimuth = LOOK_AZIMUTH_DEG.get(str(direction).upper())
        if azimuth is None:
            unknown.append(label)
            layover[label] = np.zeros(z.shape, bool)
            shadow[label] = np.zeros(z.shape, bool)
            continue
        look_e, look_n = math.sin(math.radians(azimuth)), math.cos(math.radians(azimuth))
        # a slope faces the sensor where the ground rises along the look direction (its foot is
        # nearer the sensor than its top)
        toward = np.degrees(np.arctan(rise_east * look_e + rise_north * look_n))
        layover[label] = known & (toward >= near)
        shadow[label] = known & (-toward >= 90.0 - far)
    note = (
        f"layover and shadow not flagged for orbits of unknown direction: {', '.join(unknown)}"
        if unknown
        else ""
    )
    return TerrainFlags(
        layover=layover, shadow=shadow, steep=known & (slope >= steep_slope_deg), source="dem", note=note
    )
