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


PLOUGHED = np.array([900, 1150, 1400, 2200, 2600, 2200], np.float32)  # darker, moister soil


def test_a_crop_grown_and_harvested_after_the_change_is_a_season():
    # a short series: ploughed on date 8 (the change, nothing earlier to compare it with),
    # green from date 14 for 110 days, harvested, stubble to the end
    states = [SOIL] * 8 + [PLOUGHED] * 6 + [CROP] * 12 + [STUBBLE] * (N_T - 26)
    stack, clear, sel = _stack(states)
    reason = crop_season(stack, clear, sel, 8)
    assert reason is not None and "after the change, then bare again" in reason
    # the first green-up of the series taken for the change: the same
    states = [SOIL] * 8 + [CROP] * 12 + [STUBBLE] * (N_T - 20)
    stack, clear, sel = _stack(states)
    assert "after the change" in str(crop_season(stack, clear, sel, 8))
    # a typed change (a pad beside the field in one object) does not read the crop after it
    assert crop_season(stack, clear, sel, 8, typed=True) is None


def test_green_after_the_change_for_longer_than_a_season_or_to_the_end_is_not():
    # green for 280 days after the change, then bare: longer than a crop's season
    states = [SOIL] * 4 + [CROP] * 29 + [STUBBLE] * (N_T - 33)
    stack, clear, sel = _stack(states)
    assert crop_season(stack, clear, sel, 4) is None
    # green from the change to one date before the end: no harvest seen
    states = [SOIL] * 25 + [CROP] * 14 + [STUBBLE]
    stack, clear, sel = _stack(states)
    assert crop_season(stack, clear, sel, 25) is None


def test_green_after_picks_the_pixels_green_after_the_change():
    from sitewatch.objects.phenology import green_after

    states = [SOIL] * 8 + [PLOUGHED] * 4 + [CROP] * 10 + [STUBBLE] * (N_T - 22)
    stack, clear, sel = _stack(states)
    stack.values[8:, :, :, :3] = (SOIL + 2000)[None, :, None, None]  # a bright pad from date 8
    out = green_after(stack, clear, sel, 8)
    assert out[:, 3:].all() and not out[:, :3].any()
    clear[12:22, :, 3:] = False  # the crop's dates clouded over the field: no green seen
    assert not green_after(stack, clear, sel, 8).any()
