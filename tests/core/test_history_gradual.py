"""The slow side of the per-pixel history: lasting vegetation loss and gradual change."""

from __future__ import annotations

import numpy as np

from sitewatch.core.history import HistoryParams, detect_breaks
from sitewatch.core.history_gradual import gradual_changes, vegetation_loss_index
from synthetic import make_stack

# B02 B03 B04 B08 B11 B12, reflectance 0..1
SOIL = np.array([0.11, 0.15, 0.20, 0.26, 0.36, 0.30], np.float32)
GROVE = np.array([0.04, 0.07, 0.05, 0.38, 0.20, 0.10], np.float32)
ROOF = np.array([0.30, 0.32, 0.34, 0.36, 0.38, 0.34], np.float32)
GRAVEL = np.array([0.16, 0.18, 0.21, 0.25, 0.31, 0.28], np.float32)
#: light left in a cast shadow per band (sky only: bluer)
SKYLIGHT = np.array([0.42, 0.36, 0.32, 0.24, 0.2, 0.2], np.float32)
RED_NIR = (2, 3)
DAYS = np.arange(60) * 10  # 600 days, a clear date every 10


def _series(states: list[np.ndarray], noise: float = 0.004, seed: int = 0) -> np.ndarray:
    """``(T, F, P)`` from one ``(T, F)`` trajectory per pixel, with sensor noise."""
    rng = np.random.default_rng(seed)
    x = np.stack(states, axis=-1).astype(np.float32)
    return x + rng.normal(0, noise, x.shape).astype(np.float32)


def _mix(a: np.ndarray, b: np.ndarray, w: np.ndarray) -> np.ndarray:
    return a[None] * (1 - w[:, None]) + b[None] * w[:, None]


def _step(t0: int, n: int = 60) -> np.ndarray:
    return (np.arange(n) >= t0).astype(np.float32)


def test_clearing_is_a_vegetation_loss_and_a_harvest_is_not():
    crop = (np.sin(2 * np.pi * (DAYS - 60) / 365) > 0.3).astype(np.float32)  # green ~4 months a year
    pixels = [
        _mix(GROVE, SOIL, _step(30)),  # grove felled on day 300, bare to the end
        _mix(SOIL, GROVE, crop),  # a crop: green-up and harvest, every year
        _mix(GROVE, SOIL, _step(9)),  # green for the first 90 days only (a crop's season)
        _mix(GROVE, SOIL, _step(30) * (np.arange(60) < 45)),  # bare for five months, then green again
        GROVE[None] * np.where(_step(30) > 0, 0.5, 1.0)[:, None],  # a shadow: darker, not redder
    ]
    x = _series(pixels)
    valid = np.ones((60, len(pixels)), bool)
    valid[31, 0] = False  # a cloudy date does not move the loss off the first clear one after
    got = vegetation_loss_index(x, valid, DAYS, RED_NIR, HistoryParams())
    assert got[0] == 30
    assert list(got[1:]) == [-1, -1, -1, -1]


def test_vegetation_loss_tolerates_one_outlier_each_way():
    x = _series([_mix(GROVE, SOIL, _step(30))])
    x[12, :, 0] = SOIL  # one missed cloud shadow or haze date in the green years
    x[50, :, 0] = GROVE  # one odd green-looking date after
    got = vegetation_loss_index(x, np.ones((60, 1), bool), DAYS, RED_NIR, HistoryParams())
    assert got[0] == 30


def _built(s: np.ndarray) -> np.ndarray:
    """Roof-like: bright and not reddish."""
    out: np.ndarray = (s[:3].mean(axis=0) > 0.28) & (s[2] / s[0] < 1.25)
    return out


def _vegetated(s: np.ndarray) -> np.ndarray:
    out: np.ndarray = (s[3] - s[2]) / (s[3] + s[2]) > 0.3
    return out


def test_gradual_removal_is_found_with_onset_and_completion():
    ramp = np.clip((np.arange(60) - 20) / 8.0, 0, 1)  # roofs to gravel from date 20 to 28 (80 days)
    pixels = [
        _mix(ROOF, GRAVEL, ramp),
        ROOF[None].repeat(60, axis=0),  # nothing happens
        SOIL[None] * np.linspace(1.0, 0.6, 60)[:, None],  # natural ground slowly shaded
        _mix(ROOF, ROOF * SKYLIGHT, np.linspace(0, 1, 60)),  # a roof slowly into a hill's winter shadow
    ]
    x = _series(pixels)
    valid = np.ones((60, 4), bool)
    got = gradual_changes(x, valid, DAYS, np.zeros(4, bool), _built, _vegetated, HistoryParams())
    assert 20 <= got["alarm"][0] <= 26
    assert 18 <= got["onset"][0] <= 22
    assert 27 <= got["completed"][0] <= 29
    assert got["persistence"][0] >= 0.8
    assert list(got["alarm"][1:]) == [-1, -1, -1]


def test_gradual_skips_pixels_explained_and_states_seen_a_year_before():
    ramp = np.clip((np.arange(60) - 40) / 8.0, 0, 1)
    back = np.clip((np.arange(60) - 5) / 3.0, 0, 1) * (np.arange(60) < 10)  # gravel a year before, once
    x = _series([_mix(ROOF, GRAVEL, np.maximum(ramp, back)), _mix(ROOF, GRAVEL, ramp)])
    valid = np.ones((60, 2), bool)
    skip = np.array([False, True])
    got = gradual_changes(x, valid, DAYS, skip, _built, _vegetated, HistoryParams())
    assert got["alarm"][1] == -1  # an abrupt break already explains it
    # day 590's state was already seen around day 225 (before the onset): the season's, not a change
    assert got["alarm"][0] == -1


def test_detect_breaks_reports_gradual_removal_and_clearing():
    n_t, size = 60, 24
    dates = [str(np.datetime64("2023-01-01") + np.timedelta64(int(d), "D")) for d in DAYS]
    data = np.broadcast_to(SOIL[None, :, None, None], (n_t, 6, size, size)).copy()
    ramp = np.clip((np.arange(n_t) - 20) / 8.0, 0, 1)
    data[:, :, 2:10, 2:10] = _mix(ROOF, GRAVEL, ramp)[:, :, None, None]
    data[:, :, 14:22, 12:22] = _mix(GROVE, SOIL, _step(30))[:, :, None, None]
    rng = np.random.default_rng(1)
    data = (data + rng.normal(0, 0.004, data.shape)) * 10000
    clear = rng.random((n_t, size, size)) > 0.1
    ds = detect_breaks(make_stack(data.astype(np.float32), dates=dates), clear)
    compound = ds.isel(y=slice(3, 9), x=slice(3, 9))
    assert bool(compound["changed"].all())
    # the abrupt test takes a few pixels when one step happens to be large; most are gradual
    slow = compound["gradual"].values
    assert slow.mean() >= 0.7
    onset, done = compound["last_unchanged"].values[slow], compound["completed"].values[slow]
    first = compound["first_detected"].values[slow]
    assert (onset < first).all() and (first <= done).all()
    assert np.median(done - onset) >= np.timedelta64(50, "D")  # the removals' span, not one revisit
    grove = ds.isel(y=slice(15, 21), x=slice(13, 21))
    assert bool(grove["changed"].all()) and bool(grove["vegetation_loss"].all())
    assert (grove["first_detected"].values >= np.datetime64(dates[30])).all()
    assert (grove["first_detected"].values <= np.datetime64(dates[33])).all()
    assert not bool(ds["changed"].isel(y=slice(0, 24), x=slice(12, 24)).isel(y=slice(0, 12)).any())
