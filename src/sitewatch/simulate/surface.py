"""The optical rendering of a site's state: surface reflectance before atmosphere and sensor.

Farmland first (soil with its texture and brightness per field, stubble, char, ploughing,
wetness, crop canopy), then every layer present that day over it by its pixel shares,
then snow, then the hills' light (what the L2A terrain correction leaves, cast shadows).
The original world goes through exactly the arithmetic the first simulator used.
"""

from __future__ import annotations

import numpy as np

from sitewatch.simulate.fields import PLOUGH_DARKENING
from sitewatch.simulate.site import Site, SiteState
from sitewatch.simulate.terrain import Sun, illumination
from sitewatch.simulate.weather import WET_SHAPE

__all__ = ["surface_reflectance"]


def _ground(site: Site, state: SiteState) -> np.ndarray:
    """Reflectance ``(bands, H, W)`` of the farmland (soil, stubble, char, crops)."""
    spectra = site.spectra
    soil = spectra["soil"]
    stubble = spectra["stubble"]
    veg = spectra["vegetation"]
    n_f = len(site.fields)
    green = np.zeros(n_f, np.float32)
    stub = np.zeros(n_f, np.float32)
    gain = np.zeros(n_f, np.float32)
    for i, (plan, now) in enumerate(zip(site.fields, state.fields, strict=True)):
        green[i], stub[i] = now.green, now.stubble
        gain[i] = plan.soil_gain
    fid = site.field_id
    gmap = green[fid][None]
    smap = stub[fid][None]
    if site.soil_patches is not None:
        p = site.soil_patches[None]
        soil = soil * (1 - p) + spectra["soil_secondary"] * p
    brightness = (gain[fid] * site.soil_texture)[None]
    if site.world.farmland.management:
        char = np.asarray([s.char for s in state.fields], np.float32)[fid][None]
        ploughed = np.asarray([s.ploughed for s in state.fields], np.float32)[fid][None]
        ground = (soil * (1 - smap - char) + stubble * smap + spectra["char"] * char) * brightness
        dark = 1 - np.asarray(PLOUGH_DARKENING, np.float32)[:, None, None]
        ground = ground * (1 - ploughed * dark)
    else:
        ground = (soil * (1 - smap) + stubble * smap) * brightness
    if state.wetness > 0:
        ground = ground * (1 - np.float32(state.wetness) * np.asarray(WET_SHAPE, np.float32)[:, None, None])
    return ground * (1 - gmap) + veg * gmap


def surface_reflectance(site: Site, state: SiteState, *, sun: Sun | None = None) -> np.ndarray:
    """Surface reflectance x 10000 ``(bands, H, W)`` float32 of ``state``.

    Parameters
    ----------
    site : Site
    state : SiteState
    sun : Sun, optional
        The sun at the acquisition; with hills, their light and cast shadows.

    Returns
    -------
    numpy.ndarray
    """
    refl = _ground(site, state)
    for layer, spec in state.layers:
        rows, cols = layer.cover.rows, layer.cover.cols
        if rows.stop <= rows.start or cols.stop <= cols.start:
            continue
        c = layer.cover.share[None]
        refl[:, rows, cols] = refl[:, rows, cols] * (1 - c) + spec * c
    if state.snow is not None:
        spectra = site.spectra
        age = np.float32(state.snow_age)
        snow_spec = spectra["snow_fresh"] * (1 - age) + spectra["snow_old"] * age
        s = state.snow[None]
        refl = refl * (1 - s) + snow_spec * s
    if site.terrain is not None and sun is not None:
        refl = refl * illumination(
            site.terrain, sun, north_deg=site.grid.north_deg, correction=site.world.terrain.correction
        )
    return refl
