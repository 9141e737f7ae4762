"""Hills, the sun at Sentinel-2's overpass, and the shading and cast shadows they make.

Sentinel-2 crosses the equator southbound at 10:30 local solar time, so the sun's
elevation and azimuth at a site follow the season: high and to the south-east in June,
low in December (about 30 deg at 36 N), when slopes facing north-west darken and hills
cast long shadows. L2A processors correct part of the shading with a DEM and leave the
rest, and cast shadows stay dark (lit by the blue sky only). The same terrain serves a
later radar writer (incidence, layover).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sitewatch.simulate.fields import smooth_noise

__all__ = ["Sun", "Relief", "draw_dem", "illumination", "sun_at_overpass"]

#: Light left in a cast shadow per band (skylight only: bluer than direct sun).
SHADOW_LIGHT: tuple[float, ...] = (0.42, 0.36, 0.32, 0.24, 0.24, 0.2, 0.2)
_OVERPASS_HOUR = 10.5


@dataclass(frozen=True)
class Sun:
    """The sun's zenith and azimuth (degrees, azimuth clockwise from true north)."""

    zenith_deg: float
    azimuth_deg: float


def sun_at_overpass(day: dt.date, lat: float) -> Sun:
    """The sun at Sentinel-2's 10:30 local-solar-time overpass.

    Examples
    --------
    >>> s = sun_at_overpass(dt.date(2024, 12, 21), 36.7)
    >>> 55 < s.zenith_deg < 65 and 140 < s.azimuth_deg < 160
    True
    """
    doy = day.timetuple().tm_yday
    decl = math.radians(-23.44 * math.cos(2 * math.pi * (doy + 10) / 365.0))
    phi = math.radians(lat)
    h = math.radians((_OVERPASS_HOUR - 12.0) * 15.0)
    cos_z = math.sin(phi) * math.sin(decl) + math.cos(phi) * math.cos(decl) * math.cos(h)
    zen = math.acos(max(-1.0, min(1.0, cos_z)))
    az = math.atan2(-math.sin(h), math.tan(decl) * math.cos(phi) - math.sin(phi) * math.cos(h))
    return Sun(math.degrees(zen), math.degrees(az) % 360.0)


@dataclass(frozen=True)
class Relief:
    """A site's heights and slopes on its grid."""

    dem: np.ndarray  # metres, (H, W)
    slope: np.ndarray  # radians
    aspect: np.ndarray  # radians, direction the slope faces, clockwise from grid north
    res_m: float


def draw_dem(
    rng: np.random.Generator,
    size: int,
    res_m: float,
    *,
    relief_m: float,
    wavelength_m: float,
    flat: np.ndarray | None = None,
) -> Relief:
    """Rolling hills of ``relief_m`` range, levelled where ``flat`` is 1 (runways, pads).

    Parameters
    ----------
    rng : numpy.random.Generator
    size : int
    res_m : float
    relief_m, wavelength_m : float
    flat : numpy.ndarray, optional
        0..1 weight of ground levelled to its mean height (built areas).

    Returns
    -------
    Relief
    """
    sigma = max(1.0, wavelength_m / res_m / 4.0)
    z = smooth_noise(rng, (size, size), sigma) + 0.35 * smooth_noise(rng, (size, size), sigma / 3.0)
    z = (z - z.min()) / max(float(np.ptp(z)), 1e-6) * relief_m
    if flat is not None and flat.any():
        # built ground is graded: level inside, easing back to the hills over about 150 m
        # (a sharp cut would make cliffs whose shadows no real site has)
        w = np.clip(ndimage.gaussian_filter(flat.astype(np.float32), max(3.0, 75.0 / res_m)) * 2.0, 0, 1)
        level = float((z * flat).sum() / max(flat.sum(), 1e-6))
        z = z * (1 - w) + level * w
    dzdy, dzdx = np.gradient(z, res_m)
    north = -dzdy  # rows run south
    slope = np.arctan(np.hypot(dzdx, north))
    aspect = np.arctan2(-dzdx, -north) % (2 * math.pi)
    return Relief(z.astype(np.float32), slope.astype(np.float32), aspect.astype(np.float32), res_m)


def _cast_shadow(terrain: Relief, sun_az_rad: float, elev_rad: float) -> np.ndarray:
    """Pixels whose view of the sun a hill blocks (bool), marching towards the sun."""
    dem = terrain.dem
    size = dem.shape[0]
    tan_e = math.tan(elev_rad)
    reach = float(np.ptp(dem)) / max(tan_e, 1e-3) / terrain.res_m
    steps = int(min(size, math.ceil(reach)))
    shadow = np.zeros(dem.shape, bool)
    if steps < 1:
        return shadow
    dx, dy = math.sin(sun_az_rad), math.cos(sun_az_rad)
    pad = np.pad(dem, steps + 1, mode="edge")
    for t in range(1, steps + 1):
        dc, dr = round(t * dx), -round(t * dy)
        window = pad[steps + 1 + dr : steps + 1 + dr + size, steps + 1 + dc : steps + 1 + dc + size]
        shadow |= window - dem > t * terrain.res_m * tan_e
    return shadow


def illumination(terrain: Relief, sun: Sun, *, north_deg: float, correction: float) -> np.ndarray:
    """Per-band light factor ``(bands, H, W)`` the hills leave after the L2A terrain correction.

    Sunlit slopes keep ``1 - correction`` of their ``cos i / cos z`` departure; pixels in a
    hill's cast shadow (or facing away from the sun) get skylight only (:data:`SHADOW_LIGHT`),
    with a soft edge.
    """
    zen = math.radians(sun.zenith_deg)
    az = math.radians(sun.azimuth_deg + north_deg)
    cos_i = np.cos(zen) * np.cos(terrain.slope) + np.sin(zen) * np.sin(terrain.slope) * np.cos(
        az - terrain.aspect
    )
    ratio = np.clip(cos_i / max(math.cos(zen), 0.05), 0.0, 3.0)
    lit = 1.0 + (1.0 - correction) * (ratio - 1.0)
    dark = _cast_shadow(terrain, az, math.pi / 2 - zen) | (cos_i <= 0.02)
    dark_soft = np.clip(ndimage.gaussian_filter(dark.astype(np.float32), 0.6), 0, 1)
    light = np.asarray(SHADOW_LIGHT, np.float32)[:, None, None]
    out = lit[None] * (1 - dark_soft[None]) + light * dark_soft[None]
    return out.astype(np.float32)


def draw_relief_noise(rng: np.random.Generator, size: int) -> np.ndarray:
    """Small-scale patchiness (0 mean, unit spread) for snow and wet ground."""
    return smooth_noise(rng, (size, size), 2.5)
