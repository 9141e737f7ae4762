"""describe(): the object stage on a small synthetic series, from a per-pixel history to typed objects."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.history import detect_breaks
from sitewatch.objects import ObjectParams, describe, paint_labels

BANDS = ["B02", "B03", "B04", "B08", "B11", "B12"]
STUBBLE = np.array([0.12, 0.15, 0.19, 0.25, 0.33, 0.27])
CONCRETE = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29])


def _series(n_dates: int = 24, size: int = 40, pad=(slice(12, 20), slice(8, 20)), from_t: int = 14):  # type: ignore[no-untyped-def]
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import assign_crs

    rng = np.random.default_rng(0)
    frames = []
    for t in range(n_dates):
        img = np.broadcast_to(STUBBLE[:, None, None], (6, size, size)).copy()
        if t >= from_t:
            img[:, pad[0], pad[1]] = CONCRETE[:, None, None]
        frames.append(img + rng.normal(0, 0.004, img.shape))
    data = np.stack(frames).astype(np.float32) * 10000
    gbox = GeoBox.from_bbox(
        (500000, 4000000, 500000 + 10 * size, 4000000 + 10 * size), "EPSG:32637", resolution=10
    )
    times = np.array([np.datetime64("2024-01-01") + np.timedelta64(12 * i, "D") for i in range(n_dates)])
    stack = xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords={"time": times, "band": BANDS, "y": gbox.coords["y"].values, "x": gbox.coords["x"].values},
    )
    return assign_crs(stack, "EPSG:32637"), np.ones((n_dates, size, size), bool)


def test_a_new_pad_is_one_typed_dated_measured_object():
    stack, clear = _series()
    history = detect_breaks(stack, clear)
    objects = describe(history, stack, clear, params=ObjectParams())
    assert [o.change_type for o in objects] == ["new_pad"]
    pad = objects[0]
    assert pad.first_index == 14 and pad.last_unchanged_index == 13
    assert pad.area_m2 == pytest.approx(96 * 100, rel=0.1)
    assert pad.after_earthworks is False and pad.fraction_affected is None
    assert any("concrete-like" in r for r in pad.reasons)
    labels = paint_labels(objects, clear.shape[1:])
    assert (labels == pad.label).sum() == pad.mask.sum() >= 90


def test_a_pad_is_dated_by_its_own_pixels_not_by_the_vegetation_it_replaced():
    # the field beside the pad missed its next season: the history dates it at its last green
    # date, before the pad; the pad's object, mostly pad, keeps the pad's date
    stack, clear = _series()
    history = detect_breaks(stack, clear)
    rim = np.zeros(clear.shape[1:], bool)
    rim[20:26, 8:20] = True  # six rows below the pad (72 px against its 96)
    for name in ("changed", "vegetation_loss"):
        history[name].values[rim] = True
    history["break_index"].values[rim] = 11
    history["first_detected"].values[rim] = stack.time.values[11]
    history["before"].values[:, rim] = history["before"].values[:, 15:16, 10:11].reshape(-1, 1)
    for name in ("after_early", "after_late"):
        history[name].values[:, rim] = history["before"].values[:, 15:16, 10:11].reshape(-1, 1)
    objects = describe(history, stack, clear, params=ObjectParams())
    pads = [o for o in objects if o.change_type == "new_pad"]
    assert len(pads) == 1 and pads[0].first_index == 14
    labels = paint_labels(objects, clear.shape[1:])
    assert (labels[rim] == pads[0].label).any()  # the rim is in the pad's object, and does not date it


def test_objects_below_the_smallest_area_are_not_described():
    stack, clear = _series(pad=(slice(12, 15), slice(8, 11)))  # 3 x 3 px: 900 m2
    history = detect_breaks(stack, clear)
    assert describe(history, stack, clear, params=ObjectParams(min_area_m2=2000.0)) == []


PLOUGHED = np.array([0.07, 0.09, 0.11, 0.16, 0.22, 0.19])
CROP = np.array([0.04, 0.07, 0.05, 0.40, 0.20, 0.10])


def _field_series(pad: np.ndarray | None = None):  # type: ignore[no-untyped-def]
    """A 30-date series with a 26 x 16 px field ploughed on date 8 (darker soil to the end),
    green from date 12 to 20 and cut, and optionally a concrete ``pad`` laid on date 8; the
    history as a short series gives it: both changed on date 8, the crop unseen.
    Returns the stack, clear, history and the field's mask."""
    stack, clear = _series(n_dates=30, pad=(slice(0, 1), slice(0, 1)), from_t=99)
    field = np.zeros(clear.shape[1:], bool)
    field[4:30, 22:38] = True
    pad = np.zeros_like(field) if pad is None else pad
    rng = np.random.default_rng(1)
    for t in range(30):
        ground = STUBBLE if t < 8 else PLOUGHED if t < 12 else CROP if t < 21 else PLOUGHED
        for where, state in ((field, ground), (pad, CONCRETE if t >= 8 else STUBBLE)):
            noise = rng.normal(0, 0.004, (6, int(where.sum())))
            stack.values[t][:, where] = ((state[:, None] + noise) * 10000).astype(np.float32)
    history = _changed_on_8(stack, clear, field, pad, STUBBLE)
    return stack, clear, history, field


def _changed_on_8(stack, clear, field, pad, before):  # type: ignore[no-untyped-def]
    """The history of a short series as it gives a field and a pad: both changed on date 8.

    The field ploughed after, the pad concrete, both ``before`` before.
    """
    history = detect_breaks(stack, clear)
    both = field | pad
    history["changed"].values[both] = True
    history["break_index"].values[both] = 8
    history["first_detected"].values[both] = stack.time.values[8]
    history["last_unchanged"].values[both] = stack.time.values[7]
    history["before"].values[:, both] = before[:, None]
    for name in ("after_early", "after_late"):
        history[name].values[:, field] = PLOUGHED[:, None]
        history[name].values[:, pad] = CONCRETE[:, None]
    return history


def test_a_ploughing_followed_by_a_crop_and_its_harvest_is_no_alert():
    # a short series: a field ploughed, then a crop grown and cut; a pad apart from it
    pad = np.zeros((40, 40), bool)
    pad[12:20, 4:16] = True
    stack, clear, history, _ = _field_series(pad)
    objects = describe(history, stack, clear, params=ObjectParams())
    assert [o.change_type for o in objects] == ["new_pad"]
    assert objects[0].area_m2 == pytest.approx(96 * 100, rel=0.1)


def test_a_pad_laid_beside_a_field_at_its_ploughing_is_kept_when_the_field_goes():
    # one object: a 12 x 12 px pad and the field it touches, both changed on date 8; the
    # object's median shows the field's crop grown and cut after it, so the field is its
    # season; the pad, never green after, is described on its own
    pad = np.zeros((40, 40), bool)
    pad[10:22, 10:22] = True
    stack, clear, history, field = _field_series(pad)
    objects = describe(history, stack, clear, params=ObjectParams())
    assert [o.change_type for o in objects] == ["new_pad"]
    assert objects[0].first_index == 8
    assert objects[0].area_m2 == pytest.approx(144 * 100, rel=0.1)
    labels = paint_labels(objects, clear.shape[1:])
    assert not (labels[field] > 0).any()


def test_a_field_harvested_on_dark_soil_that_passes_for_asphalt_is_its_season_not_an_alert():
    import xarray as xr
    from odc.geo.geobox import GeoBox
    from odc.geo.xr import assign_crs

    # a dark soil the absolute asphalt test calls built, and a summer crop cut on it
    dark = np.array([0.08, 0.091, 0.097, 0.134, 0.156, 0.141])
    leaf = np.array([0.04, 0.07, 0.05, 0.40, 0.20, 0.10])
    size, n = 40, 36
    field = np.zeros((size, size), bool)
    field[10:24, 8:28] = True
    times = np.array([np.datetime64("2024-02-01") + np.timedelta64(10 * i, "D") for i in range(n)])
    doy = (times - np.datetime64("2024-01-01")).astype(int)
    green = np.clip(np.minimum(doy - 130, 230 - doy) / 20.0, 0, 1) * 0.7
    rng = np.random.default_rng(3)
    frames = []
    for t in range(n):
        img = np.broadcast_to(dark[:, None, None], (6, size, size)).copy()
        img[:, field] = (dark * (1 - green[t]) + leaf * green[t])[:, None]
        frames.append(img + rng.normal(0, 0.003, img.shape))
    gbox = GeoBox.from_bbox(
        (500000, 4000000, 500000 + 10 * size, 4000000 + 10 * size), "EPSG:32637", resolution=10
    )
    stack = assign_crs(
        xr.DataArray(
            np.stack(frames).astype(np.float32) * 10000,
            dims=("time", "band", "y", "x"),
            coords={"time": times, "band": BANDS, "y": gbox.coords["y"].values, "x": gbox.coords["x"].values},
        ),
        "EPSG:32637",
    )
    clear = np.ones((n, size, size), bool)
    history = detect_breaks(stack, clear)
    # the harvest taken for a lasting change (as the history does where the soil rules fail)
    k = int(np.argmax(doy > 232))
    for name, value in (
        ("changed", True),
        ("break_index", k),
        ("completed_index", k),
        ("first_detected", times[k]),
    ):
        history[name].values[field] = value
    history["persistence"].values[field] = 1.0
    history["magnitude"].values[field] = 6.0
    for name, spectrum in (("before", 0.3 * dark + 0.7 * leaf), ("after_early", dark), ("after_late", dark)):
        history[name].values[:, field] = spectrum[:, None]
    # green from May to August after bare ground, then bare: the crop's season, whatever the
    # rules call the soil it was cut to
    assert describe(history, stack, clear, params=ObjectParams()) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pad_near_the_concrete_earth_boundary_is_dated_when_it_was_laid(seed: int) -> None:
    """A pad whose SWIR/NIR sits near the concrete limit (1.15) crosses it from date to date.

    Its first new state is concrete: it was laid then. Those crossings are no levelling
    followed by a surface, and do not re-date it to a later concrete pair (main did).
    """
    rng = np.random.default_rng(seed)
    stack, clear = _series()
    pad = (slice(12, 20), slice(8, 20))
    ratio = np.full(stack.sizes["time"], 1.12)
    # a run of earth-like dates (SWIR/NIR 1.17-1.20) somewhere after the first three
    start = int(rng.integers(17, 20))
    ratio[start : start + int(rng.integers(2, 4))] = rng.uniform(1.17, 1.2)
    data = stack.values
    for t in range(14, stack.sizes["time"]):
        data[t, 4, pad[0], pad[1]] = data[t, 3, pad[0], pad[1]] * ratio[t]
    history = detect_breaks(stack, clear)
    objects = describe(history, stack, clear, params=ObjectParams())
    assert [o.change_type for o in objects] == ["new_pad"]
    assert objects[0].first_index == 14
    assert objects[0].after_earthworks is False


SCORCHED = np.array([0.08, 0.09, 0.10, 0.12, 0.26, 0.22])  # dark, SWIR high: neither soil nor built


def _pad_beside_a_change(seed: int):  # type: ignore[no-untyped-def]
    """A concrete pad and, touching it, ground that changed the same day into no known surface."""
    rng = np.random.default_rng(seed)
    stack, clear = _series(pad=(slice(0, 0), slice(0, 0)))
    r0, c0 = int(rng.integers(4, 10)), int(rng.integers(3, 8))
    h, w = int(rng.integers(7, 10)), int(rng.integers(8, 12))
    data = stack.values
    pad = (slice(r0, r0 + h), slice(c0, c0 + w))
    side = (slice(r0 - 2, r0 + h + 12), slice(c0 + w, c0 + w + 14))
    data[14:, :, side[0], side[1]] = SCORCHED[None, :, None, None] * 10000
    data[14:, :, pad[0], pad[1]] = CONCRETE[None, :, None, None] * 10000
    data[14:] += rng.normal(0, 40, data[14:].shape).astype(np.float32)
    return stack, clear, h * w


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pad_touching_another_change_of_its_day_is_split_off_and_typed(seed: int) -> None:
    """The pixels that became built are a pad of their own; the rest is described on its own.

    On main the two were one object that fitted no type.
    """
    stack, clear, pad_px = _pad_beside_a_change(seed)
    history = detect_breaks(stack, clear)
    objects = describe(history, stack, clear, params=ObjectParams())
    pads = [o for o in objects if o.change_type == "new_pad"]
    assert len(pads) == 1
    assert pads[0].area_m2 == pytest.approx(pad_px * 100, rel=0.2)
    assert pads[0].first_index == 14
    assert all(o.change_type == "other" for o in objects if o is not pads[0])


def test_a_pad_laid_in_a_field_at_its_harvest_is_kept_when_the_field_goes_as_its_season():
    """One object: a field green, then harvested on date 8, and a pad laid in it that day.

    The object's own trajectory is a crop's season (green-up, then harvest), and the field
    never greens after, so nothing is split by greenness: on main the pad went with the field.
    The pixels that became built are split off first and make the pad.
    """
    stack, clear = _series(n_dates=30, pad=(slice(0, 1), slice(0, 1)), from_t=99)
    field = np.zeros(clear.shape[1:], bool)
    field[4:30, 14:38] = True
    pad = np.zeros_like(field)
    pad[10:20, 18:28] = True
    field &= ~pad
    rng = np.random.default_rng(2)
    for t in range(30):
        ground = STUBBLE if t < 2 else CROP if t < 8 else PLOUGHED
        for where, state in ((field, ground), (pad, CONCRETE if t >= 8 else ground)):
            noise = rng.normal(0, 0.004, (6, int(where.sum())))
            stack.values[t][:, where] = ((state[:, None] + noise) * 10000).astype(np.float32)
    history = _changed_on_8(stack, clear, field, pad, CROP)
    objects = describe(history, stack, clear, params=ObjectParams())
    assert [o.change_type for o in objects] == ["new_pad"]
    assert objects[0].first_index == 8
    assert objects[0].area_m2 == pytest.approx(100 * 100, rel=0.15)
    labels = paint_labels(objects, clear.shape[1:])
    assert not (labels[field] > 0).any()
