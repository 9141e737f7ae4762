"""Vegetation that misses its next green season (sitewatch.core.history_season), on random pixels."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.history import HistoryParams, detect_breaks
from sitewatch.core.history_season import missed_season_index
from synthetic import make_stack

# B02 B03 B04 B08 B11 B12, reflectance 0..1
SOIL = np.array([0.11, 0.15, 0.20, 0.26, 0.36, 0.30], np.float32)
LEAF = np.array([0.04, 0.07, 0.05, 0.40, 0.20, 0.10], np.float32)
RED_NIR = (2, 3)


def _days(rng: np.random.Generator, years: float = 1.8) -> np.ndarray:
    """Clear dates every 5 days with about a third lost to clouds."""
    d = np.arange(0, int(365 * years), 5)
    return d[rng.random(d.size) > 0.35]


def _season(days: np.ndarray, green_from: int, green_to: int) -> np.ndarray:
    """Green share (0..1) of a plant green from day-of-year ``green_from`` to ``green_to``."""
    doy = days % 365
    ramp = np.clip(np.minimum(doy - green_from, green_to - doy) / 20.0, 0, 1)
    return ramp.astype(np.float32)


def _pixels(cover: list[np.ndarray], canopy: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, 6, P)`` from per-pixel green shares, with sensor noise."""
    w = np.stack(cover, axis=-1)[:, None, :] * canopy
    x = SOIL[None, :, None] * (1 - w) + LEAF[None, :, None] * w
    return (x + rng.normal(0, 0.004, x.shape)).astype(np.float32)


@pytest.mark.parametrize("seed", range(4))
def test_an_orchard_felled_in_leaf_or_leafless_is_found_and_a_crop_that_comes_back_is_not(seed):
    rng = np.random.default_rng(seed)
    days = _days(rng)
    leaf_on, leaf_off = int(rng.integers(80, 110)), int(rng.integers(280, 305))
    orchard = _season(days, leaf_on, leaf_off)
    in_leaf = int(rng.integers(180, 250))  # felled in its first summer, two months in leaf or more
    leafless = int(rng.integers(330, 420))  # felled in its first winter
    crop_from = int(rng.integers(20, 60))
    crop = _season(days, crop_from, crop_from + int(rng.integers(90, 130)))
    summer = _season(days, 180, 270)
    rotation = np.where(days < 365, summer, crop)  # summer crop, then a winter one
    cover = [
        orchard * (days < in_leaf),
        orchard * (days < leafless),
        crop,  # sown and harvested every year
        rotation,
        orchard,  # never felled
    ]
    x = _pixels(cover, float(rng.uniform(0.45, 0.7)), rng)
    got = missed_season_index(x, np.ones(x[:, 0].shape, bool), days, RED_NIR, HistoryParams())
    # felled in leaf: dated at the felling (the first clear date after it, or the one after)
    assert days[got[0]] >= in_leaf and days[got[0]] - in_leaf <= 20
    # felled leafless: the change is seen only when the leaves do not come back; it is dated at
    # the first clear date after the last green one (the earliest it can have happened)
    assert got[1] >= 0 and leaf_off - 20 <= days[got[1]] % 365 <= leaf_off + 30
    assert list(got[2:]) == [-1, -1, -1]


def test_a_crop_coming_up_again_as_the_series_ends_is_its_season_back():
    rng = np.random.default_rng(5)
    days = np.arange(0, 400, 5)  # ends early next season, the crop half grown
    crop = _season(days, 30, 150)
    crop[days >= 365] *= 0.5
    x = _pixels([crop], 0.7, rng)
    got = missed_season_index(x, np.ones((days.size, 1), bool), days, RED_NIR, HistoryParams())
    assert got[0] == -1


def test_one_green_date_after_the_loss_is_an_outlier_but_green_in_the_season_is_not():
    rng = np.random.default_rng(6)
    days = np.arange(0, 660, 5)
    orchard = _season(days, 90, 290) * (days < 200)
    x = _pixels([orchard, orchard], 0.6, rng)
    x[days.searchsorted(330), :, 0] = LEAF  # a hazy date reads green, out of season
    x[days.searchsorted(465), :, 1] = LEAF  # ... and in the season a year on: it came back
    got = missed_season_index(x, np.ones((days.size, 2), bool), days, RED_NIR, HistoryParams())
    assert 200 <= days[got[0]] <= 215
    assert got[1] == -1


def test_a_whole_place_missing_its_season_at_once_is_the_weather_not_a_clearing():
    rng = np.random.default_rng(7)
    days = np.arange(0, 600, 5)
    drought = [_season(days, 30 + int(rng.integers(0, 20)), 150) * (days < 365) for _ in range(300)]
    fields = [_season(days, 30 + int(rng.integers(0, 20)), 150) for _ in range(100)]
    x = _pixels(drought + fields, 0.7, rng)
    valid = np.ones(x[:, 0].shape, bool)
    assert (missed_season_index(x, valid, days, RED_NIR, HistoryParams()) == -1).all()
    # the same pixels with most of the place green again: the few that missed it are losses
    x2 = _pixels(drought[:20] + fields * 3, 0.7, rng)
    got = missed_season_index(x2, np.ones(x2[:, 0].shape, bool), days, RED_NIR, HistoryParams())
    assert (got[:20] >= 0).all() and (got[20:] == -1).all()


def test_short_series_and_the_switch_turn_it_off():
    rng = np.random.default_rng(8)
    days = np.arange(0, 300, 5)  # no anniversary seen at all
    x = _pixels([_season(days, 90, 290) * (days < 200)], 0.6, rng)
    valid = np.ones((days.size, 1), bool)
    assert missed_season_index(x, valid, days, RED_NIR, HistoryParams())[0] == -1
    days = np.arange(0, 660, 5)
    x = _pixels([_season(days, 90, 290) * (days < 200)], 0.6, rng)
    valid = np.ones((days.size, 1), bool)
    assert missed_season_index(x, valid, days, RED_NIR, HistoryParams())[0] >= 0
    assert missed_season_index(x, valid, days, RED_NIR, HistoryParams(veg_season=False))[0] == -1


def test_detect_breaks_reports_an_orchard_felled_leafless_as_a_vegetation_loss():
    rng = np.random.default_rng(9)
    days = np.arange(0, 640, 5)
    n_t, size = days.size, 24
    dates = [str(np.datetime64("2023-01-01") + np.timedelta64(int(d), "D")) for d in days]
    season = _season(days, 95, 290)
    data = np.broadcast_to(SOIL[None, :, None, None], (n_t, 6, size, size)).copy()
    felled = season * (days < 380)  # felled in January of the second year, leafless
    for rows, cover in ((slice(2, 10), felled), (slice(14, 22), season)):  # and one left standing
        w = (cover * 0.6)[:, None, None, None]
        data[:, :, rows, 4:20] = SOIL[None, :, None, None] * (1 - w) + LEAF[None, :, None, None] * w
    data = (data + rng.normal(0, 0.004, data.shape)) * 10000
    clear = rng.random((n_t, size, size)) > 0.2
    stack = make_stack(data.astype(np.float32), dates=dates)
    ds = detect_breaks(stack, clear)
    cut = ds.isel(y=slice(3, 9), x=slice(5, 19))
    assert float(cut["vegetation_loss"].mean()) >= 0.9 and float(cut["changed"].mean()) >= 0.9
    first = cut["first_detected"].values[cut["vegetation_loss"].values]
    assert (first >= np.datetime64(dates[days.searchsorted(260)])).all()
    assert (first <= np.datetime64(dates[days.searchsorted(380)])).all()
    assert not bool(ds["vegetation_loss"].isel(y=slice(13, 23)).any())
    off = detect_breaks(stack, clear, params=HistoryParams(veg_season=False))
    assert not bool(off["vegetation_loss"].isel(y=slice(3, 9), x=slice(5, 19)).any())


def test_ground_built_after_is_left_to_the_surface_tests():
    rng = np.random.default_rng(10)
    days = np.arange(0, 660, 5)
    orchard = _season(days, 90, 290) * (days < 330)
    x = _pixels([orchard, orchard], 0.6, rng)
    concrete = np.array([0.26, 0.28, 0.30, 0.32, 0.36, 0.33], np.float32)
    x[days >= 360, :, 1] = concrete  # the second one paved in its first winter

    def built(s: np.ndarray) -> np.ndarray:
        out: np.ndarray = (s[:3].mean(axis=0) > 0.24) & (s[2] / s[0] < 1.25)
        return out

    valid = np.ones((days.size, 2), bool)
    got = missed_season_index(x, valid, days, RED_NIR, HistoryParams(), built=built)
    assert got[0] >= 0 and got[1] == -1
    assert (missed_season_index(x, valid, days, RED_NIR, HistoryParams()) >= 0).all()


def test_a_faint_pad_beside_a_field_that_missed_its_season_is_kept():
    from sitewatch.core.history import break_arrays

    concrete = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29], np.float32)
    pale = concrete + np.array([-0.04, -0.04, -0.035, -0.035, 0.045, 0.045], np.float32)
    rng = np.random.default_rng(11)
    h = w = 20
    days = np.arange(0, 640, 10)
    n_t = days.size
    x = np.broadcast_to(pale[None, :, None, None], (n_t, 6, h, w)).copy()
    pad = np.zeros((h, w), bool)
    pad[5:11, 4:12] = True  # laid faintly (a pooled break only) on day 400
    x[np.ix_(days >= 400, np.arange(6), np.arange(h), np.arange(w))] = np.where(
        pad[None, None], concrete[None, :, None, None], x[days >= 400]
    )
    field = np.zeros((h, w), bool)
    field[11:17, 2:18] = True  # green in its first summer, abandoned after
    g = (_season(days, 120, 270) * (days < 365) * 0.6)[:, None, None]
    x[:, :, field] = SOIL[None, :, None] * (1 - g) + LEAF[None, :, None] * g
    x += rng.normal(0, 0.006, x.shape).astype(np.float32)
    valid = rng.random((n_t, h * w)) > 0.1

    def run(**kw: object) -> dict[str, np.ndarray]:
        return break_arrays(
            x.reshape(n_t, 6, h * w),
            valid,
            days,
            shape=(h, w),
            params=HistoryParams(**kw),  # type: ignore[arg-type]
            band_names=("B02", "B03", "B04", "B08", "B11", "B12"),
        )

    out = run()
    assert out["vegetation_loss"][field.ravel()].mean() > 0.8
    assert out["changed"][pad.ravel()].mean() > 0.5
    # without the field's test the pad is there too: the field does not take it away
    assert run(veg_season=False)["changed"][pad.ravel()].mean() > 0.5


# a dark basalt soil: flat and dark enough for the absolute asphalt test of the surface rules
DARK_SOIL = np.array([0.06, 0.07, 0.08, 0.105, 0.14, 0.13], np.float32)
BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")


@pytest.mark.parametrize("seed", range(3))
def test_an_orchard_cleared_to_dark_soil_is_found_and_a_pad_laid_on_a_field_is_not(seed):
    from sitewatch.core.history_spectra import built_of

    rng = np.random.default_rng(20 + seed)
    days = _days(rng)
    built = built_of(BANDS)
    assert built(DARK_SOIL[:, None])[0]  # the rules alone call this soil built
    felled = int(rng.integers(180, 250))
    orchard = _season(days, int(rng.integers(80, 110)), int(rng.integers(280, 305)))
    crop = _season(days, 30, 150) * (days < 365)  # its second season never sown: a pad on it
    w = np.stack([orchard * (days < felled), crop], axis=-1)[:, None, :] * float(rng.uniform(0.4, 0.6))
    x = DARK_SOIL[None, :, None] * (1 - w) + LEAF[None, :, None] * w
    concrete = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29], np.float32)
    x[days >= 200, :, 1] = concrete  # laid soon after the harvest
    x = (x + rng.normal(0, 0.003, x.shape)).astype(np.float32)
    valid = np.ones((days.size, 2), bool)
    got = missed_season_index(x, valid, days, RED_NIR, HistoryParams(), built=built)
    # the cleared orchard's ground is the soil it stood on, leafless: not a pad
    assert got[0] >= 0 and 0 <= days[got[0]] - felled <= 20
    # the concrete is no ground the field had: left to the surface tests
    assert got[1] == -1
    # a tolerance of nothing leaves every built-looking ground to them
    strict = missed_season_index(
        x, valid, days, RED_NIR, HistoryParams(veg_season_same_ground=0.0), built=built
    )
    assert strict[0] == -1


def test_a_cleared_orchard_on_dark_soil_is_a_vegetation_loss_not_a_faint_change_to_built_ground():
    from sitewatch.core.history import break_arrays

    rng = np.random.default_rng(30)
    h = w = 20
    days = np.arange(0, 640, 5)
    n_t = days.size
    x = np.broadcast_to(DARK_SOIL[None, :, None, None], (n_t, 6, h, w)).copy()
    block = np.zeros((h, w), bool)
    block[4:14, 3:15] = True  # an orchard, cleared on day 220 of its first summer
    g = (_season(days, 95, 290) * (days < 220) * 0.5)[:, None, None]
    x[:, :, block] = DARK_SOIL[None, :, None] * (1 - g) + LEAF[None, :, None] * g
    x += rng.normal(0, 0.002, x.shape).astype(np.float32)
    valid = rng.random((n_t, h * w)) > 0.3
    out = break_arrays(
        x.reshape(n_t, 6, h * w), valid, days, shape=(h, w), params=HistoryParams(), band_names=BANDS
    )
    # most of it (the object stage types by the majority; the rest are breaks the abrupt test
    # found at the clearing), where the rules alone took the soil for asphalt: none
    assert out["vegetation_loss"][block.ravel()].mean() > 0.6
    assert not out["changed"][~block.ravel()].any()
