"""Per-pixel history and break detection on small synthetic series."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.history import HistoryParams, break_arrays, detect_breaks
from sitewatch.errors import DataError
from synthetic import make_stack

SOIL = np.array([0.11, 0.15, 0.20, 0.26, 0.36, 0.30], np.float32)
CONCRETE = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29], np.float32)
GREEN = np.array([0.03, 0.065, 0.04, 0.42, 0.22, 0.10], np.float32)


def series(n_t: int = 24, n_p: int = 4, *, seed: int = 0, noise: float = 0.004) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.repeat(SOIL[None, :, None], n_t, axis=0).repeat(n_p, axis=2)
    return (x + rng.normal(0, noise, x.shape)).astype(np.float32)


def days(n_t: int, step: int = 10) -> np.ndarray:
    return np.arange(n_t) * step


def test_persistent_step_is_confirmed_and_dated():
    x = series()
    x[12:, :, 0] = CONCRETE
    valid = np.ones((24, 4), bool)
    out = break_arrays(x, valid, days(24), params=HistoryParams(normalize=False))
    assert out["changed"][0]
    assert out["break_index"][0] == 12
    assert out["last_unchanged_index"][0] == 11
    assert not out["changed"][1:].any()
    assert out["persistence"][0] == pytest.approx(1.0)
    np.testing.assert_allclose(out["after_late"][:, 0], CONCRETE, atol=0.02)
    np.testing.assert_allclose(out["before"][:, 0], SOIL, atol=0.02)


def test_single_bright_date_is_not_a_change():
    x = series()
    x[12, :, 0] = CONCRETE  # one missed cloud edge
    out = break_arrays(x, np.ones((24, 4), bool), days(24), params=HistoryParams(normalize=False))
    assert not out["changed"].any()
    assert out["break_index"][0] == -1


def test_cloudy_date_skipped_for_dating():
    x = series()
    x[12:, :, 0] = CONCRETE
    valid = np.ones((24, 4), bool)
    valid[12, 0] = False  # the first date after the change is cloudy
    valid[11, 0] = False
    out = break_arrays(x, valid, days(24), params=HistoryParams(normalize=False))
    assert out["break_index"][0] == 13
    assert out["last_unchanged_index"][0] == 10


def test_change_that_reverts_is_transient():
    x = series(30)
    x[12:20, :, 0] = CONCRETE  # material parked for two months, then removed
    out = break_arrays(x, np.ones((30, 4), bool), days(30), params=HistoryParams(normalize=False))
    assert out["break_index"][0] == 12
    assert out["transient"][0]
    assert not out["changed"][0]


def test_three_observations_needed_when_asked():
    x = series()
    x[21:23, :, 0] = CONCRETE  # only two changed observations, then back
    p2 = HistoryParams(normalize=False)
    p3 = HistoryParams(normalize=False, confirm_obs=3)
    assert break_arrays(x, np.ones((24, 4), bool), days(24), params=p2)["break_index"][0] == 21
    assert break_arrays(x, np.ones((24, 4), bool), days(24), params=p3)["break_index"][0] == -1


def test_greening_and_harvest_are_not_changes():
    # two years of a winter crop: green from February, harvested in June
    n_t = 72
    d = days(n_t)
    doy = d % 365
    green = np.clip(np.sin(np.clip((doy - 30) / 140, 0, 1) * np.pi), 0, 1)
    x = np.empty((n_t, 6, 2), np.float32)
    for t in range(n_t):
        x[t, :, :] = (SOIL * (1 - green[t]) + GREEN * green[t])[:, None]
    x += np.random.default_rng(1).normal(0, 0.004, x.shape).astype(np.float32)
    out = break_arrays(x, np.ones((n_t, 2), bool), d, params=HistoryParams(normalize=False))
    assert not out["changed"].any()


def test_pad_on_a_seasonal_field_is_found():
    n_t = 72
    d = days(n_t)
    doy = d % 365
    green = np.clip(np.sin(np.clip((doy - 30) / 140, 0, 1) * np.pi), 0, 1)
    x = np.empty((n_t, 6, 2), np.float32)
    for t in range(n_t):
        x[t] = (SOIL * (1 - green[t]) + GREEN * green[t])[:, None]
    x[50:, :, 1] = CONCRETE[:, None][:, 0][:, None].T
    out = break_arrays(x, np.ones((n_t, 2), bool), d, params=HistoryParams(normalize=False))
    assert not out["changed"][0]
    assert out["changed"][1]
    assert out["break_index"][1] == 50


def test_integer_input_is_scaled():
    x = (series() * 10000).astype(np.uint16)
    x[12:, :, 0] = (CONCRETE * 10000).astype(np.uint16)
    out = break_arrays(x, np.ones((24, 4), bool), days(24), params=HistoryParams(normalize=False))
    assert out["break_index"][0] == 12


def test_shapes_checked():
    with pytest.raises(DataError):
        break_arrays(np.zeros((5, 6, 4), np.float32), np.ones((5, 3), bool), days(5))


def test_detect_breaks_on_a_stack():
    n_t, h, w = 16, 12, 12
    rng = np.random.default_rng(3)
    data = np.broadcast_to(SOIL[None, :, None, None] * 10000, (n_t, 6, h, w)).copy()
    data += rng.normal(0, 40, data.shape)
    data[9:, :, 3:7, 3:8] = CONCRETE[None, :, None, None] * 10000
    dates = [str(np.datetime64("2024-01-05") + np.timedelta64(10 * i, "D")) for i in range(n_t)]
    stack = make_stack(data.astype(np.float32), dates=dates)
    clear = np.ones((n_t, h, w), bool)
    clear[9, :6] = False  # a cloud over part of the pad on the first date after
    ds = detect_breaks(stack, clear, return_scores=True)
    assert int(ds.changed.sum()) == 20
    assert str(ds.first_detected.values[4, 4])[:10] == dates[10]  # clouded on dates[9]
    assert str(ds.first_detected.values[6, 5])[:10] == dates[9]
    assert str(ds.last_unchanged.values[6, 5])[:10] == dates[8]
    assert np.isnat(ds.first_detected.values[0, 0])
    assert ds.score_t.shape == (n_t, h, w)
    assert ds.attrs["confirm_obs"] == 2
    assert ds.odc.geobox == stack.odc.geobox


def test_detect_breaks_refuses_unsorted_or_short_stacks():
    data = np.ones((3, 6, 4, 4), np.float32) * 1000
    stack = make_stack(data, dates=["2024-01-03", "2024-01-01", "2024-01-02"])
    with pytest.raises(DataError):
        detect_breaks(stack, np.ones((3, 4, 4), bool))
    few = make_stack(
        np.ones((3, 2, 4, 4), np.float32),
        bands=("B02", "B03"),
        dates=["2024-01-01", "2024-01-02", "2024-01-03"],
    )
    with pytest.raises(DataError):
        detect_breaks(few, np.ones((3, 4, 4), bool))
