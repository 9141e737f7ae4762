"""The facility-wide test for removed structures, on random synthetic facilities with known truth.

Each world draws its own structures (sizes, materials, positions off the pixel grid, so most
of their pixels are mixed), its removal dates, its clouds and its haze from a seed.
"""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.objects.facility_loss import FacilityRules, facility_losses, ramp_fit, textured_regions

BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]
GRAVEL = np.array([0.17, 0.20, 0.23, 0.27, 0.32, 0.28])
STUBBLE = np.array([0.12, 0.15, 0.19, 0.25, 0.33, 0.27])
STRUCTURES = {
    "roof_bright": np.array([0.34, 0.35, 0.36, 0.37, 0.38, 0.35]),
    "roof_dark": np.array([0.09, 0.10, 0.11, 0.13, 0.16, 0.14]),
    "tent_khaki": np.array([0.13, 0.15, 0.16, 0.26, 0.30, 0.25]),
    "vehicle_tan": np.array([0.20, 0.23, 0.26, 0.29, 0.33, 0.30]),
}
SIZE, FAC = 48, (slice(9, 39), slice(9, 39))


def _coverage(rng: np.random.Generator) -> list[np.ndarray]:
    """Structures 15-40 m x 10-25 m at metre positions in the facility: each one's cover per pixel."""
    out = []
    fine = np.zeros((SIZE * 10, SIZE * 10), np.float32)
    y = FAC[0].start * 10 + 10
    while y < FAC[0].stop * 10 - 35:
        x = FAC[1].start * 10 + 10
        h = int(rng.integers(10, 26))
        while x < FAC[1].stop * 10 - 45:
            w = int(rng.integers(15, 41))
            fine[:] = 0
            fine[y : y + h, x : x + w] = 1
            out.append(fine.reshape(SIZE, 10, SIZE, 10).mean(axis=(1, 3)))
            x += w + int(rng.integers(8, 25))
        y += h + int(rng.integers(12, 25))
    return out


def _world(
    seed: int,
    *,
    removed_share: float = 0.7,
    start_day: int = 200,
    span_days: int = 90,
    come_back_days: int | None = None,
    seasonal_yard: float = 0.0,
    n_dates: int = 90,
    noise: float = 0.006,
    kinds_from: tuple[str, ...] = tuple(STRUCTURES),
    yard: np.ndarray = GRAVEL,
    ground: np.ndarray = STUBBLE,
):
    """A facility's series: (T, B, Y, X) reflectance x 10000, clear, day numbers, truth."""
    rng = np.random.default_rng(seed)
    covers = _coverage(rng)
    names = list(kinds_from)
    kinds = [names[int(rng.integers(len(names)))] for _ in covers]
    gone = rng.random(len(covers)) < removed_share
    removal = np.where(gone, start_day + rng.integers(0, span_days + 1, len(covers)), 10**6)
    days = np.arange(n_dates) * 6.0
    data = np.empty((n_dates, 6, SIZE, SIZE), np.float32)
    for t, day in enumerate(days):
        season = np.sin(2 * np.pi * day / 365.0)
        img = np.broadcast_to((ground * (1 + 0.08 * season))[:, None, None], (6, SIZE, SIZE)).copy()
        img[:, FAC[0], FAC[1]] = (yard * (1 + seasonal_yard * season))[:, None, None]
        for cover, kind, t_gone in zip(covers, kinds, removal, strict=True):
            back = come_back_days is not None and day >= t_gone + come_back_days
            if day < t_gone or back:
                img = img * (1 - cover) + STRUCTURES[kind][:, None, None] * cover
        haze = rng.uniform(0, 0.04) * np.array([1.0, 0.8, 0.6, 0.4, 0.2, 0.1])
        data[t] = (img + haze[:, None, None] + rng.normal(0, noise, img.shape)) * 10000
    signal = [c.sum() * np.abs(STRUCTURES[k] - yard).mean() for c, k in zip(covers, kinds, strict=True)]
    clear = np.broadcast_to((rng.random(n_dates) < 0.75)[:, None, None], (n_dates, SIZE, SIZE)).copy()
    truth = {
        # the share of the structure signal removed: each structure's cover by its contrast to the yard
        "fraction": float(sum(w * g for w, g in zip(signal, gone, strict=True)) / sum(signal)),
        "first_day": float(removal[gone].min()) if gone.any() else None,
        "last_day": float(removal[gone].max()) if gone.any() else None,
    }
    return data, clear, days, truth


def _facility() -> np.ndarray:
    labels = np.zeros((SIZE, SIZE), np.int32)
    labels[FAC] = 1
    return labels


def _clear_days(days: np.ndarray, clear: np.ndarray) -> np.ndarray:
    return days[clear.mean(axis=(1, 2)) >= 0.7]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_structures_removed_over_weeks_are_found_measured_and_dated(seed: int) -> None:
    data, clear, days, truth = _world(seed, removed_share=0.7, span_days=90)
    (loss,) = facility_losses(data, clear, _facility(), days)
    assert loss.facility == 1
    # the share of the structure signal lost, against the share of the structures' cover removed
    assert loss.fraction == pytest.approx(truth["fraction"], abs=0.15)
    seen = _clear_days(days, clear)
    # first removals: within two clear revisits of the first real one; completion: of the last
    first_ok = seen[seen >= truth["first_day"]][:3]
    assert first_ok[0] <= days[loss.first_index] <= first_ok[-1] + 30
    last_after = seen[seen >= truth["last_day"]][:3]
    assert days[loss.completed_index] <= last_after[-1]
    assert days[loss.completed_index] >= truth["first_day"] + 0.5 * (truth["last_day"] - truth["first_day"])
    assert loss.removed.sum() >= 0.5 * loss.structures.sum() * truth["fraction"]
    assert not (loss.removed & ~loss.structures).any()


@pytest.mark.parametrize("seed", [4, 5])
def test_an_abrupt_evacuation_is_dated_to_its_days(seed: int) -> None:
    data, clear, days, truth = _world(seed, removed_share=0.9, span_days=6)
    (loss,) = facility_losses(data, clear, _facility(), days)
    seen = _clear_days(days, clear)
    first_seen = seen[seen >= truth["first_day"]][0]
    assert first_seen <= days[loss.first_index] <= seen[seen >= truth["last_day"]][1]


@pytest.mark.parametrize("seed", [6, 7])
def test_a_facility_whose_structures_stay_is_not_evacuated(seed: int) -> None:
    # its yard greens and browns with the season, its haze and clouds come and go
    data, clear, days, _ = _world(seed, removed_share=0.0, seasonal_yard=0.15)
    assert facility_losses(data, clear, _facility(), days) == []


@pytest.mark.parametrize("seed", [8, 9])
def test_vehicles_that_come_back_are_not_an_evacuation(seed: int) -> None:
    data, clear, days, _ = _world(seed, removed_share=0.8, span_days=10, come_back_days=60)
    assert facility_losses(data, clear, _facility(), days) == []


def test_a_few_structures_removed_are_below_the_test() -> None:
    data, clear, days, _ = _world(10, removed_share=0.08, span_days=30)
    assert facility_losses(data, clear, _facility(), days) == []


def test_a_uniform_facility_has_no_structures_to_lose() -> None:
    data, clear, days, _ = _world(11, removed_share=0.0)
    # no structure at all: the yard alone, with its noise and haze
    data[:, :, FAC[0], FAC[1]] = GRAVEL[None, :, None, None] * 10000 + np.random.default_rng(0).normal(
        0, 60, data[:, :, FAC[0], FAC[1]].shape
    )
    assert facility_losses(data, clear, _facility(), days) == []


def test_the_rules_are_the_tests_thresholds() -> None:
    data, clear, days, _ = _world(1, removed_share=0.7)
    assert facility_losses(data, clear, _facility(), days, rules=FacilityRules(min_drop=0.99)) == []


def test_ramp_fit_finds_a_step_and_its_significance() -> None:
    rng = np.random.default_rng(0)
    days = np.arange(60) * 10.0
    s = np.where(days < 300, 1.0, 0.5) + rng.normal(0, 0.03, days.size)
    fit = ramp_fit(days, s)
    assert fit is not None
    assert days[fit.start] <= 300 <= days[fit.end] <= 310
    assert fit.before == pytest.approx(1.0, abs=0.03) and fit.after == pytest.approx(0.5, abs=0.03)
    assert fit.z > 20
    flat = ramp_fit(days, 1.0 + rng.normal(0, 0.03, days.size))
    assert flat is not None and abs(flat.z) < 6


def _as_stack(data: np.ndarray, days: np.ndarray):  # type: ignore[no-untyped-def]
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import assign_crs

    gbox = GeoBox.from_bbox(
        (500000, 4000000, 500000 + 10 * SIZE, 4000000 + 10 * SIZE), "EPSG:32637", resolution=10
    )
    times = np.datetime64("2024-01-01") + days.astype("timedelta64[D]")
    stack = xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords={"time": times, "band": BANDS, "y": gbox.coords["y"].values, "x": gbox.coords["x"].values},
    )
    return assign_crs(stack, "EPSG:32637")


@pytest.mark.parametrize("seed", [12, 13])
def test_describe_reports_an_evacuation_the_per_pixel_history_misses(seed: int) -> None:
    from sitewatch.core.history import detect_breaks
    from sitewatch.objects import ObjectParams, describe

    # noisy pixels (misregistration, sensor noise), low-contrast vehicles and tents
    data, clear, days, truth = _world(
        seed,
        removed_share=0.8,
        span_days=100,
        noise=0.02,
        kinds_from=("tent_khaki", "vehicle_tan", "roof_dark"),
    )
    stack = _as_stack(data, days)
    history = detect_breaks(stack, clear)
    off = ObjectParams(facility=FacilityRules(min_z=1e9))
    assert [o for o in describe(history, stack, clear, params=off) if o.change_type == "evacuation"] == []
    (ev,) = [o for o in describe(history, stack, clear) if o.change_type == "evacuation"]
    assert ev.facility > 0 and ev.fraction_affected == pytest.approx(truth["fraction"], abs=0.15)
    assert truth["first_day"] - 12 <= days[ev.first_index] <= truth["first_day"] + 40
    assert days[ev.completed_index] <= truth["last_day"] + 30
    assert any("whole facility" in r for r in ev.reasons)
    assert ev.changed_area_m2 is not None and 4000 <= ev.changed_area_m2 <= ev.area_m2


@pytest.mark.parametrize("seed", [20, 21])
def test_a_pad_laid_over_structures_is_a_pad_not_an_evacuation(seed: int) -> None:
    from sitewatch.core.history import detect_breaks
    from sitewatch.objects import describe

    concrete = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29])
    data, clear, days, _ = _world(seed, removed_share=0.0)
    rng = np.random.default_rng(seed)
    rows, cols = slice(9, 39), slice(9, 24)  # half the compound, its structures under the slab
    for t in np.nonzero(days >= 200)[0]:
        data[t, :, rows, cols] = (concrete[:, None, None] + rng.normal(0, 0.006, (6, 30, 15))) * 10000
    stack = _as_stack(data, days)
    objects = describe(detect_breaks(stack, clear), stack, clear)
    assert [o.change_type for o in objects] == ["new_pad"]


@pytest.mark.parametrize("seed", [22, 23])
def test_a_yard_the_built_up_test_misses_is_found_by_its_texture(seed: int) -> None:
    from sitewatch.core.history import detect_breaks
    from sitewatch.objects import describe
    from sitewatch.objects.context import site_context
    from sitewatch.objects.facility_loss import textured_regions

    red_earth = np.array([0.09, 0.12, 0.18, 0.24, 0.34, 0.29])  # a red soil yard, not built-up-like
    pasture = np.array([0.05, 0.08, 0.07, 0.30, 0.22, 0.13])
    data, clear, days, truth = _world(
        seed,
        removed_share=0.8,
        span_days=60,
        yard=red_earth,
        ground=pasture,
        noise=0.02,
        kinds_from=("tent_khaki", "vehicle_tan", "roof_dark"),
    )
    stack = _as_stack(data, days)
    history = detect_breaks(stack, clear)
    context = site_context(stack, clear, history["break_index"].values)
    yards = textured_regions(context.early.composite, BANDS, exclude=context.facilities > 0)
    # the yard is found by its texture (relative to the scene), mostly inside the compound
    inside = np.zeros((SIZE, SIZE), bool)
    inside[FAC] = True
    assert (context.facilities[FAC] > 0).mean() < 0.5
    assert (yards > 0).sum() >= 200 and ((yards > 0) & inside).sum() >= 0.9 * (yards > 0).sum()
    (ev,) = [o for o in describe(history, stack, clear) if o.change_type == "evacuation"]
    assert ev.fraction_affected == pytest.approx(truth["fraction"], abs=0.15)
    seen = _clear_days(days, clear)
    assert days[ev.first_index] <= seen[seen >= truth["first_day"]][2]


def test_a_plain_scene_has_no_textured_yards() -> None:
    rng = np.random.default_rng(0)
    composite = STUBBLE[:, None, None] + rng.normal(0, 0.004, (6, SIZE, SIZE))
    assert (textured_regions(composite, BANDS) == 0).all()


@pytest.mark.parametrize("seed", [24, 25])
def test_an_evacuation_the_per_pixel_history_sees_is_dated_by_its_facility(seed: int) -> None:
    from sitewatch.core.history import detect_breaks
    from sitewatch.objects import describe

    # clean pixels, contrasted structures: the per-pixel history sees the removals itself
    pasture = np.array([0.05, 0.08, 0.07, 0.30, 0.22, 0.13])
    data, clear, days, truth = _world(seed, removed_share=0.75, span_days=40, ground=pasture)
    stack = _as_stack(data, days)
    evacuations = [
        o for o in describe(detect_breaks(stack, clear), stack, clear) if o.change_type == "evacuation"
    ]
    assert evacuations, "the per-pixel history finds it"
    ev = max(evacuations, key=lambda o: o.area_m2)
    assert any("over the whole facility" in r for r in ev.reasons)
    assert ev.fraction_affected == pytest.approx(truth["fraction"], abs=0.15)
    seen = _clear_days(days, clear)
    assert seen[seen >= truth["first_day"]][0] <= days[ev.first_index] <= seen[seen >= truth["first_day"]][2]


PALE_PLAIN = np.array(
    [0.19, 0.23, 0.27, 0.31, 0.40, 0.33]
)  # calcareous ground: built-up to the absolute test
PLAIN_SIZE = 112


def _compound_in_a_pale_plain(seed: int):  # type: ignore[no-untyped-def]
    """The compound of :func:`_world` amid a plain of pale fields (16 x 16 px, each its own shade)."""
    data, clear, days, truth = _world(
        seed,
        removed_share=0.8,
        span_days=60,
        ground=PALE_PLAIN,
        noise=0.02,
        kinds_from=("tent_khaki", "vehicle_tan", "roof_dark"),
    )
    rng = np.random.default_rng(seed + 100)
    shades = np.kron(1 + rng.uniform(-0.12, 0.12, (PLAIN_SIZE // 16, PLAIN_SIZE // 16)), np.ones((16, 16)))
    big = (PALE_PLAIN[None, :, None, None] * shades[None, None]) + rng.normal(
        0, 0.02, (data.shape[0], 6, PLAIN_SIZE, PLAIN_SIZE)
    )
    big = (big * 10000).astype(np.float32)
    o = (PLAIN_SIZE - SIZE) // 2
    big[:, :, o : o + SIZE, o : o + SIZE] = data
    plain_clear = np.broadcast_to(clear[:, :1, :1], (data.shape[0], PLAIN_SIZE, PLAIN_SIZE)).copy()
    return big, plain_clear, days, truth


def test_a_compound_in_a_plain_taken_for_built_up_is_tested_on_its_own_yard() -> None:
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import assign_crs

    from sitewatch.core.history import detect_breaks
    from sitewatch.objects import describe
    from sitewatch.objects.context import site_context

    data, clear, days, truth = _compound_in_a_pale_plain(31)
    gbox = GeoBox.from_bbox(
        (500000, 4000000, 500000 + 10 * PLAIN_SIZE, 4000000 + 10 * PLAIN_SIZE), "EPSG:32637", resolution=10
    )
    stack = assign_crs(
        xr.DataArray(
            data,
            dims=("time", "band", "y", "x"),
            coords={
                "time": np.datetime64("2024-01-01") + days.astype("timedelta64[D]"),
                "band": BANDS,
                "y": gbox.coords["y"].values,
                "x": gbox.coords["x"].values,
            },
        ),
        "EPSG:32637",
    )
    history = detect_breaks(stack, clear)
    context = site_context(stack, clear, history["break_index"].values)
    # the built-up test takes the whole plain for one facility, the compound a fifth of it
    assert context.facilities.max() == 1 and (context.facilities > 0).mean() > 0.9
    (ev,) = [o for o in describe(history, stack, clear) if o.change_type == "evacuation"]
    assert ev.fraction_affected == pytest.approx(truth["fraction"], abs=0.15)
    assert truth["first_day"] <= days[ev.first_index] <= truth["last_day"]
