"""When a pad levelled first is surfaced: the object's own step, not a threshold crossing."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sitewatch.objects.dating import step_date, surface_onset
from synthetic import make_stack

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
EARTH = np.array([0.20, 0.24, 0.28, 0.31, 0.42, 0.36])  # levelled: SWIR/NIR 1.35
# concrete whose SWIR/NIR sits at the concrete/earth limit (1.15): it crosses it date to date
CONCRETE = np.array([0.24, 0.27, 0.29, 0.31, 0.355, 0.30])
LAID = 8


def levelled_then_surfaced(seed: int, n_dates: int = 30):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    data = np.empty((n_dates, len(BANDS), 6, 6), np.float32)
    for t in range(n_dates):
        state = EARTH if t < LAID else CONCRETE
        data[t] = (state[:, None, None] + rng.normal(0, 0.004, (len(BANDS), 1, 1))) * 1e4
        data[t, 4] += rng.normal(0, 0.012) * 1e4  # the SWIR of a fresh surface wanders most
    days = [(dt.date(2024, 1, 1) + dt.timedelta(days=5 * t)).isoformat() for t in range(n_dates)]
    stack = make_stack(data, bands=BANDS, dates=days)
    return stack, np.ones((n_dates, 6, 6), bool), np.ones((6, 6), bool)


@pytest.mark.parametrize("seed", range(4))
def test_a_surface_at_the_concrete_limit_is_dated_when_laid(seed):
    stack, clear, sel = levelled_then_surfaced(seed)
    assert surface_onset(stack, clear, sel, 0) == LAID


@pytest.mark.parametrize("seed", range(4))
def test_the_step_is_found_before_a_late_crossing(seed):
    stack, clear, sel = levelled_then_surfaced(seed)
    # a pixel-by-pixel second break where the SWIR crossed its threshold late, on date 16
    assert step_date(stack, clear, sel, 0, 16) == LAID
    assert step_date(stack, clear, sel, 3, 16) == LAID
    # never after the date given, never on the first date
    assert 1 <= step_date(stack, clear, sel, 0, 5) <= 5


def test_with_no_clear_date_before_it_the_step_is_the_date_given():
    stack, clear, sel = levelled_then_surfaced(0)
    clear[:16] = False
    assert step_date(stack, clear, sel, 0, 16) == 16


def test_the_step_is_never_after_the_date_given_when_that_date_is_not_clear():
    stack, clear, sel = levelled_then_surfaced(0)
    clear[LAID : LAID + 6] = False  # the surface laid under clouds; the next clear date is 14
    assert step_date(stack, clear, sel, 0, LAID + 1) <= LAID + 1


def test_a_band_missing_on_one_date_leaves_that_date_out_not_the_step():
    stack, clear, sel = levelled_then_surfaced(1)
    stack.values[3, 4, 0, 0] = np.nan
    assert step_date(stack, clear, sel, 0, 16) == LAID
    assert surface_onset(stack, clear, sel, 0) == LAID


def test_dates_before_the_levelling_are_not_the_state_before():
    stack, clear, sel = levelled_then_surfaced(2)
    field = np.array([0.05, 0.08, 0.06, 0.35, 0.22, 0.12]) * 1e4  # green, before the works
    stack.values[:3] = field[None, :, None, None]
    assert step_date(stack, clear, sel, 0, 16) == LAID
