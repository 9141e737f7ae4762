"""Acquisitions: the revisit, clouds and their shadows, haze, the sensor and the SCL layer.

Every acquisition goes through what makes real series hard: a revisit with missed
passes and a longer outage, seasonal illumination, haze (additive, bluer, with a
gradient), sensor noise, sub-pixel misregistration, 20 m bands blurred to their native
resolution, clouds with soft edges and their displaced shadows, an imperfect SCL layer
(thin cloud edges missed, snow classed 11, in some worlds very bright ground taken for
cloud), and now and then an orbit edge with no data.

The original world draws from the main generator in the original order; what it never had
(shadows cast away from the real sun, snow in the SCL, haze scale) comes through
:class:`Extras` and its own generator.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from sitewatch.simulate.fields import smooth_noise
from sitewatch.simulate.materials import BANDS, MATERIALS, TWENTY_M
from sitewatch.simulate.terrain import Sun

__all__ = ["Extras", "Observation", "acquisition_dates", "cloud_cover", "degrade"]

SCL_DARK, SCL_SHADOW, SCL_VEG, SCL_SOIL = 2, 3, 4, 5
SCL_CLOUD_MED, SCL_CLOUD_HIGH, SCL_CIRRUS, SCL_SNOW = 8, 9, 10, 11
#: The truth's idea of a clear pixel: no cloud (not even a thin edge), no cloud shadow,
#: data, no snow. Stricter than the SCL, which misses thin cloud edges.
CLEAR_MAX_ALPHA, CLEAR_MAX_SHADOW, CLEAR_MAX_SNOW = 0.1, 0.2, 0.3


def acquisition_dates(
    rng: np.random.Generator, start: dt.date, end: dt.date, revisit_days: int
) -> list[dt.date]:
    """Nominal passes every ``revisit_days``, some missed, and one longer outage."""
    days = []
    d = start + dt.timedelta(days=int(rng.integers(0, revisit_days)))
    while d <= end:
        days.append(d)
        d += dt.timedelta(days=revisit_days)
    # missed passes and one longer outage (a satellite in safe mode, a processing gap)
    keep = rng.random(len(days)) > 0.12
    if len(days) > 20:
        gap0 = int(rng.integers(len(days) // 4, 3 * len(days) // 4))
        keep[gap0 : gap0 + int(rng.integers(3, 6))] = False
    out = [d for d, k in zip(days, keep, strict=False) if k]
    return out if len(out) >= 2 else days


def cloud_cover(rng: np.random.Generator, day: dt.date, cloudiness: float) -> float:
    """Share of the scene under cloud: mostly clear in summer, often cloudy in winter."""
    winter = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365.0) * 0.5 + 0.5  # 1 in Jan, 0 in Jul
    p_clear = 0.88 - 0.5 * winter * cloudiness
    u = rng.random()
    if u < p_clear:
        return float(rng.uniform(0, 0.02))
    if u < p_clear + 0.6 * (1 - p_clear):
        return float(rng.uniform(0.05, 0.5))
    return float(rng.uniform(0.5, 1.0))


@dataclass(frozen=True)
class Extras:
    """What a world beyond the original asks of an acquisition.

    Attributes
    ----------
    rng : numpy.random.Generator
        Its own generator (the main one keeps the original order of draws).
    sun : Sun
        Clouds cast their shadows away from it.
    north_deg : float
        True north from the grid's north.
    res_m : float
        Pixel size on the ground.
    haze_scale : float
    snow : numpy.ndarray or None
        Share of each pixel under snow (classed 11 where the SCL sees it).
    bright_as_cloud : float
        Chance that the SCL takes very bright ground for cloud on this scene.
    """

    rng: np.random.Generator
    sun: Sun
    north_deg: float
    res_m: float
    haze_scale: float = 1.0
    snow: np.ndarray | None = None
    bright_as_cloud: float = 0.0


@dataclass(frozen=True)
class Observation:
    """What an acquisition hid: cloud opacity, cloud shadow, no data (for the truth)."""

    alpha: np.ndarray
    shadow: np.ndarray
    nodata: np.ndarray

    def clear(self, snow: np.ndarray | None) -> np.ndarray:
        """Pixels the truth counts as clearly seen."""
        ok = (self.alpha < CLEAR_MAX_ALPHA) & (self.shadow < CLEAR_MAX_SHADOW) & ~self.nodata
        if snow is not None:
            ok &= snow < CLEAR_MAX_SNOW
        return ok


def _shadow_shift(rng: np.random.Generator, extras: Extras | None, size: int) -> tuple[int, int]:
    """Rows and columns from a cloud to its shadow (original: a fixed north-east spread)."""
    sdx, sdy = int(rng.integers(6, 16)), int(rng.integers(-12, -3))
    if extras is None:
        return sdy, sdx
    height_m = float(extras.rng.uniform(600.0, 2500.0))
    zen = math.radians(min(extras.sun.zenith_deg, 75.0))
    reach = min(size / 2, height_m * math.tan(zen) / extras.res_m)
    away = math.radians(extras.sun.azimuth_deg + 180.0 + extras.north_deg)
    return -round(reach * math.cos(away)), round(reach * math.sin(away))


def degrade(
    surface: np.ndarray,
    rng: np.random.Generator,
    day: dt.date,
    cover: float,
    *,
    misregistration_px: float,
    extras: Extras | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], Observation]:
    """Atmosphere, clouds, shadows, sensor: reflectance ``(B,H,W)``, SCL, the scene's log and what it hid."""
    nb, h, w = surface.shape
    # misregistration: one sub-pixel shift per scene (and the odd worse one)
    sigma = misregistration_px * (3.0 if rng.random() < 0.08 else 1.0)
    shift = rng.normal(0, sigma, size=2)
    img = np.empty_like(surface)
    for b in range(nb):
        img[b] = ndimage.shift(surface[b], (shift[1], shift[0]), order=1, mode="nearest")
    # illumination (season) and haze: additive, stronger in blue, with a gradient
    doy = day.timetuple().tm_yday
    gain = 1.0 + 0.04 * math.cos(2 * math.pi * (doy - 172) / 365.0)
    # residual aerosol after L2A correction: mostly small, either sign, now and then a hazy day
    haze = float(rng.normal(0.05, 0.2)) + (float(rng.gamma(1.5, 0.5)) if rng.random() < 0.1 else 0.0)
    haze = max(haze, -0.3)
    if extras is not None:
        haze *= extras.haze_scale
    ramp = np.linspace(-1, 1, w, dtype=np.float32)[None, :] * float(rng.uniform(-0.4, 0.4))
    haze_spec = np.asarray([900, 700, 500, 300, 280, 120, 80], np.float32)[:, None, None]
    img = img * gain + haze * haze_spec * (1 + ramp)[None]
    # clouds with soft edges, and their shadows offset away from the sun
    alpha = np.zeros((h, w), np.float32)
    if cover > 0.005:
        field = smooth_noise(rng, (h, w), float(rng.uniform(4, 14)))
        thr = float(np.quantile(field, 1 - cover))
        alpha = np.clip((field - thr) / 0.6, 0, 1).astype(np.float32)
    sdy, sdx = _shadow_shift(rng, extras, h)
    shadow = np.roll(np.roll(alpha, sdy, axis=0), sdx, axis=1)
    shadow[: max(0, sdy), :] = 0
    shadow = np.clip(shadow - alpha, 0, 1)
    img = img * (1 - 0.6 * shadow)[None]
    cloud = np.asarray(MATERIALS["cloud"], np.float32)[:, None, None] * float(rng.uniform(0.75, 1.1))
    img = img * (1 - alpha)[None] + cloud * alpha[None]
    # sensor noise
    img = img + rng.normal(0, 1, img.shape).astype(np.float32) * (35 + 0.015 * img)
    # 20 m bands at their native resolution
    for b, name in enumerate(BANDS):
        if name in TWENTY_M:
            hh, ww = h - h % 2, w - w % 2
            blk = img[b, :hh, :ww].reshape(hh // 2, 2, ww // 2, 2).mean(axis=(1, 3))
            img[b, :hh, :ww] = np.repeat(np.repeat(blk, 2, axis=0), 2, axis=1)
    scl = _scl(img, alpha, shadow, extras)
    if rng.random() < 0.1:  # occasional cirrus over a band of the image
        band_rows = slice(int(rng.integers(0, h // 2)), None)
        thin = np.zeros((h, w), bool)
        thin[band_rows] = True
        img[:, thin] += np.asarray([400, 380, 360, 340, 330, 200, 100], np.float32)[:, None]
        scl[thin & (alpha < 0.25)] = SCL_CIRRUS
    nodata = np.zeros((h, w), bool)
    if rng.random() < 0.05:  # the edge of an orbit: no data beyond a slanted line
        yy, xx = np.mgrid[0:h, 0:w]
        nodata = (xx + 0.3 * yy) > float(rng.uniform(0.4, 0.9)) * w
    img = np.clip(img, 1, 20000)
    img[:, nodata] = np.nan
    scl[nodata] = np.nan
    info = {
        "cloud_fraction": round(float((alpha >= 0.25).mean()), 4),
        "shadow_fraction": round(float((shadow > 0.35).mean()), 4),
        "haze": round(haze, 3),
        "shift_px": [round(float(shift[0]), 3), round(float(-shift[1]), 3)],
        "nodata_fraction": round(float(nodata.mean()), 4),
    }
    if extras is not None and extras.snow is not None:
        info["snow_fraction"] = round(float((extras.snow >= 0.5).mean()), 4)
    return img, scl, info, Observation(alpha, shadow, nodata)


def _scl(img: np.ndarray, alpha: np.ndarray, shadow: np.ndarray, extras: Extras | None) -> np.ndarray:
    """sen2cor-like classes; thin cloud edges (alpha < 0.25) go unflagged."""
    ndvi = (img[3] - img[2]) / np.maximum(img[3] + img[2], 1)
    scl = np.where(ndvi > 0.35, SCL_VEG, SCL_SOIL).astype(np.float32)
    scl[(img[3] < 1600) & (ndvi < 0.3)] = SCL_DARK
    scl[shadow > 0.35] = SCL_SHADOW
    if extras is not None:
        open_sky = (alpha < 0.25) & (shadow <= 0.35)
        if extras.snow is not None:
            # sen2cor classes a pixel snow when most of it is (NDSI and brightness tests)
            scl[open_sky & (extras.snow >= 0.6)] = SCL_SNOW
        if extras.bright_as_cloud > 0 and extras.rng.random() < extras.bright_as_cloud:
            # sen2cor over bright ground: fresh concrete and metal roofs taken for cloud
            scl[open_sky & (img[0] > 2600) & (scl != SCL_SNOW)] = SCL_CLOUD_MED
    scl[(alpha >= 0.25) & (alpha < 0.6)] = SCL_CLOUD_MED
    scl[alpha >= 0.6] = SCL_CLOUD_HIGH
    return scl
