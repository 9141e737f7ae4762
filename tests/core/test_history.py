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


LEVELLED = np.array([0.19, 0.23, 0.28, 0.31, 0.45, 0.40], np.float32)


def pinned_stack() -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, int]]:
    """60 dates x 16 x 16 px of uint16 digital numbers: soil and a seasonal field, a pad on
    each, parked material that goes away, a levelled strip later paved; haze, noise, clouds."""
    rng = np.random.default_rng(42)
    n_t, h, w = 60, 16, 16
    d = np.arange(n_t) * 12
    g = np.clip(np.sin(np.clip(((d % 365) - 30) / 140, 0, 1) * np.pi), 0, 1)
    x = np.empty((n_t, 6, h, w), np.float32)
    x[:] = SOIL[None, :, None, None]
    x[:, :, :, 8:] = (SOIL[None] * (1 - g[:, None]) + GREEN[None] * g[:, None])[:, :, None, None]
    x[30:, :, 2:6, 2:7] = CONCRETE[None, :, None, None]  # pad on bare soil
    x[40:, :, 9:13, 9:12] = CONCRETE[None, :, None, None]  # pad on the field
    x[25:34, :, 12:15, 1:4] = CONCRETE[None, :, None, None]  # parked material, removed
    x[20:, :, 7, :] = LEVELLED[None, :, None]  # earthworks ...
    x[45:, :, 7, :] = CONCRETE[None, :, None]  # ... then paved
    x += (rng.random((n_t, 6, 1, 1)) * 0.02).astype(np.float32)  # haze per date and band
    x += rng.normal(0, 0.004, x.shape).astype(np.float32)
    valid = rng.random((n_t, h, w)) > 0.2
    valid[33, :8] = False
    dn = np.clip(np.rint(x * 10000), 1, 65535).astype(np.uint16)
    return dn.reshape(n_t, 6, h * w), valid.reshape(n_t, h * w), d, (h, w)


# break_arrays outputs on pinned_stack (normalisation, vegetation filter, two tiles), recorded
# before the speed work of issue 4; any change to them must be deliberate
PINNED_BREAK = {
    **{p: 30 for p in (34, 35, 37, 38, 51, 52, 53, 54, 66, 67, 68, 70, 82, 83, 85, 86)},
    **{p: 31 for p in (36, 50, 69, 84)},
    **{p: 45 for p in (114, 115, 119, 120, 121, 122, 123, 125, 126)},
    **{p: 46 for p in (112, 113, 117, 118, 124, 127)},
    116: 22,
    **{p: 40 for p in (153, 154, 155, 169, 185, 186, 201, 203)},
    **{p: 41 for p in (171, 187, 202)},
    170: 42,
    **{p: 25 for p in (194, 210, 211, 225, 226, 227)},
    **{p: 26 for p in (193, 195, 209)},
}
PINNED_TRANSIENT = [193, 194, 195, 209, 210, 211, 225, 226, 227]
PINNED_SECOND = {116: 45, 193: 34, 194: 34, 195: 34, 209: 36, 210: 34, 211: 34, 225: 34, 226: 34, 227: 34}
PINNED_SUMS = {
    "score": 290.57058334350586,
    "magnitude": 285.7000660896301,
    "persistence": 50.45810244977474,
    "before": 81.69881781190634,
    "after_early": 101.17399756610394,
    "after_late": 98.08824766427279,
    "scores": 10860.219457618892,
}


def test_outputs_pinned_on_a_small_stack():
    v, ok, d, shape = pinned_stack()
    # the per-pixel test alone (the pooled test has its own tests, in test_history_pooled.py)
    params = HistoryParams(tile_px=100, pooled_threshold=0)
    out = break_arrays(v, ok, d, shape=shape, params=params, return_scores=True)
    brk = out["break_index"]
    assert {int(i): int(brk[i]) for i in np.flatnonzero(brk >= 0)} == PINNED_BREAK
    assert np.flatnonzero(out["changed"]).tolist() == sorted(set(PINNED_BREAK) - set(PINNED_TRANSIENT))
    assert np.flatnonzero(out["transient"]).tolist() == PINNED_TRANSIENT
    assert not out["vegetation"].any()
    sec = out["second_index"]
    assert {int(i): int(sec[i]) for i in np.flatnonzero(sec >= 0)} == PINNED_SECOND
    lu = out["last_unchanged_index"]
    assert np.all(lu[brk < 0] == -1)
    for i, b in PINNED_BREAK.items():
        # the last clear date before the break
        assert lu[i] < b and ok[lu[i], i] and not ok[lu[i] + 1 : b, i].any()
    assert int(out["n_clear_before"].sum()) == 11146
    assert int(out["n_clear_after"].sum()) == 1080
    for k, total in PINNED_SUMS.items():
        assert float(np.nansum(out[k].astype(np.float64))) == pytest.approx(total, rel=1e-5), k
    assert int(np.isfinite(out["scores"]).sum()) == 11349
    assert int((out["scores"] >= 3.5).sum()) == 474


def test_tiles_and_threads_do_not_change_outputs():
    v, ok, d, shape = pinned_stack()
    runs = [
        break_arrays(v, ok, d, shape=shape, params=HistoryParams(tile_px=t, workers=n))
        for t, n in ((256, 1), (100, 2), (37, 3))
    ]
    for other in runs[1:]:
        for k, a in runs[0].items():
            np.testing.assert_array_equal(a, other[k], err_msg=k)


def test_detect_breaks_reads_the_bands_in_place():
    """Bands picked out of a bigger stack give the same result, without a copy of the stack."""
    import tracemalloc

    v, ok, d, (h, w) = pinned_stack()
    n_t = v.shape[0]
    # 4 x 4 copies side by side (64 x 64 px), so the stack outweighs the fixed costs
    v = np.tile(v.reshape(n_t, 6, h, w), (1, 1, 4, 4)).reshape(n_t, 6, -1)
    ok = np.tile(ok.reshape(n_t, h, w), (1, 4, 4)).reshape(n_t, -1)
    h, w = 4 * h, 4 * w
    bands = ("B01", "B12", "B02", "B03", "B04", "B05", "B08", "B11", "SCL")  # extra bands, shuffled
    order = {"B02": 0, "B03": 1, "B04": 2, "B08": 3, "B11": 4, "B12": 5}
    data = np.full((n_t, len(bands), h, w), 1000, np.float32)
    for j, b in enumerate(bands):
        if b in order:
            data[:, j] = v[:, order[b]].reshape(n_t, h, w)
    dates = [str(np.datetime64("2023-01-01") + np.timedelta64(int(x), "D")) for x in d]
    stack = make_stack(data, dates=dates, bands=bands)
    params = HistoryParams(tile_px=256, workers=1)
    tracemalloc.start()
    try:
        ds = detect_breaks(stack, ok.reshape(n_t, h, w), params=params)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    ref = break_arrays(v.astype(np.float32), ok, d, shape=(h, w), params=params)
    np.testing.assert_array_equal(ds.break_index.values.ravel(), ref["break_index"])
    np.testing.assert_array_equal(ds.changed.values.ravel(), ref["changed"])
    np.testing.assert_array_equal(ds.before.values.reshape(6, -1), ref["before"])
    assert list(ds.band.values) == ["B02", "B03", "B04", "B08", "B11", "B12"]
    assert peak < 0.5 * stack.nbytes  # tiles of the bands used, never the whole stack
