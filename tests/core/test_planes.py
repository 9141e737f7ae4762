"""The normalisation planes: haze is taken off, a site's common green-up is not."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.planes import fit_planes

BANDS = ("B02", "B03", "B04", "B08", "B11")
HAZE_SPECTRUM = np.array([0.09, 0.07, 0.05, 0.03, 0.012])  # additive, bluer, per unit of haze
SOIL = np.array([0.12, 0.16, 0.2, 0.26, 0.32])
GRASS_GREEN = np.array([0.05, 0.08, 0.05, 0.38, 0.22])


def greening_site(seed: int, grass_share: float = 0.25, n_t: int = 24):
    """A site, a quarter of it grass that greens together for a quarter of the year, the rest bare.

    Returns the ``(T, F, H, W)`` sample, its validity, the shape and the true haze offset
    ``(T, F)`` of every date. The grass varies less from date to date than the bare
    ground the rest of the year, so by median departure it is the "most stable" part.
    """
    rng = np.random.default_rng(seed)
    h = w = 32
    grass = rng.random((h, w)) < grass_share
    green = np.zeros(n_t)
    spring = int(rng.integers(2, n_t - 8))
    green[spring : spring + n_t // 4] = rng.uniform(0.8, 1.0, n_t // 4)
    haze = rng.normal(0.0, 0.15, n_t)
    x = np.empty((n_t, len(BANDS), h, w), np.float32)
    for t in range(n_t):
        ground = SOIL[:, None, None] + rng.normal(0, 0.02, (len(BANDS), h, w))
        cover = SOIL + green[t] * (GRASS_GREEN - SOIL)
        field = cover[:, None, None] + rng.normal(0, 0.003, (len(BANDS), h, w))
        x[t] = np.where(grass[None], field, ground) + haze[t] * HAZE_SPECTRUM[:, None, None]
    want = (haze - np.median(haze))[:, None] * HAZE_SPECTRUM[None]
    return x, np.ones((n_t, h, w), bool), (h, w), want, green > 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_common_green_up_is_not_taken_for_haze(seed):
    x, ok, shape, want, greening = greening_site(seed)
    coef = fit_planes(x, ok, shape, 1, red_nir=(2, 3))
    nir_error = np.abs(coef[greening, 3, 0] - want[greening, 3])
    assert nir_error.max() < 0.02
    # without the red and NIR positions, the green-up is fitted as a NIR offset (the fault)
    blind = fit_planes(x, ok, shape, 1)
    assert np.abs(blind[greening, 3, 0] - want[greening, 3]).max() > 0.08


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_haze_is_still_taken_off_every_band(seed):
    x, ok, shape, want, _ = greening_site(seed)
    coef = fit_planes(x, ok, shape, 1, red_nir=(2, 3))
    assert np.abs(coef[:, :, 0] - want).max() < 0.02
    assert np.abs(coef[:, :, 1:]).max() < 0.05  # no gradient was put in (noise of a few pixels)


def test_a_site_green_everywhere_keeps_every_pixel_on_its_green_dates():
    x, ok, shape, _, greening = greening_site(3, grass_share=1.0)
    coef = fit_planes(x, ok, shape, 1, red_nir=(2, 3))
    assert np.isfinite(coef).all()
    # nothing but grass: the date falls back to all its pixels, as without the test
    np.testing.assert_allclose(coef[greening], fit_planes(x, ok, shape, 1)[greening], atol=1e-6)
