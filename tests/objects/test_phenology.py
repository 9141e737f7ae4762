"""A field's season is not a lasting change: the object's own trajectory says so."""

from __future__ import annotations

import numpy as np

from sitewatch.objects.phenology import crop_season
from synthetic import make_stack

# B02 B03 B04 B08 B11 B12 (x 10000): bright soil (NDVI ~0.3), a green crop, stubble, asphalt
SOIL = np.array([1500, 1900, 2300, 4000, 4300, 3600], np.float32)
CROP = np.array([500, 900, 700, 4500, 2400, 1300], np.float32)
STUBBLE = np.array([1600, 2000, 2400, 3000, 3900, 3200], np.float32)
N_T = 40


def _stack(states: list[np.ndarray]) -> tuple[object, np.ndarray, np.ndarray]:
    data = np.stack(states)[:, :, None, None] * np.ones((1, 1, 6, 6), np.float32)
    rng = np.random.default_rng(0)
    data = data + rng.normal(0, 40, data.shape).astype(np.float32)
    dates = [str(np.datetime64("2024-01-01") + np.timedelta64(10 * i, "D")) for i in range(len(states))]
    clear = np.ones((len(states), 6, 6), bool)
    return make_stack(data, dates=dates), clear, np.ones((6, 6), bool)


def test_green_up_then_harvest_is_a_season():
    # bare for 50 days, green for 120, harvested on date 17, stubble to the end
    states = [SOIL] * 5 + [CROP] * 12 + [STUBBLE] * (N_T - 17)
    stack, clear, sel = _stack(states)
    reason = crop_season(stack, clear, sel, 17)
    assert reason is not None and "crop's season" in reason


def test_green_again_after_is_the_next_season():
    states = [CROP] * 10 + [STUBBLE] * 20 + [CROP] * 10  # the series starts green: no green-up seen
    stack, clear, sel = _stack(states)
    assert "next season" in str(crop_season(stack, clear, sel, 10))


def test_works_on_a_field_and_a_long_green_record_are_not_seasons():
    states = [SOIL] * 5 + [CROP] * 12 + [STUBBLE] * (N_T - 17)
    stack, clear, sel = _stack(states)
    # the same trajectory with built ground after (a strip laid after the harvest) keeps its alert
    assert crop_season(stack, clear, sel, 17, after_built=True) is None
    # never green before, green after (a yard overgrown): not a field's season
    stack, clear, sel = _stack([STUBBLE] * 20 + [CROP] * 20)
    assert crop_season(stack, clear, sel, 5) is None
    # green for 300 days, then bare to the end: no crop's season (a wood or a grove)
    states = [SOIL] * 2 + [CROP] * 30 + [STUBBLE] * 8
    stack, clear, sel = _stack(states)
    assert crop_season(stack, clear, sel, 32) is None
