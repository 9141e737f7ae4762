"""The radar core on synthetic speckled series with known changes (gamma speckle for N looks)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import scipy.stats

from sitewatch.core.sar import (
    SarParams,
    date_offsets,
    db_to_power,
    detect_sar_breaks,
    estimate_looks,
    lee_filter,
    linear_power,
    orbit_groups,
    power_to_db,
    reference_windows,
)
from sitewatch.core.sar_outline import outline_breaks, outline_change, outline_series, with_scene_offsets
from sitewatch.core.sar_terrain import terrain_from_data, terrain_from_dem
from sitewatch.errors import BandMissingError, DataError, DataWarning
from synthetic_s1 import ORBITS, Change, acquisitions_around, box_mask, s1_series

PAD = Change(slice(8, 20), slice(8, 20), "2023-12-01", -6.0, -4.0)  # smooth concrete: darker
EVACUATION = Change(slice(30, 40), slice(30, 42), "2024-02-10", -5.0, -3.0)  # loss of double bounce
ARRIVAL = Change(slice(46, 56), slice(8, 18), "2024-01-05", 5.0, 6.0)  # containers, vehicles: brighter


@pytest.fixture(scope="module")
def changed_series():
    return s1_series(changes=[PAD, EVACUATION, ARRIVAL], seed=1)


@pytest.fixture(scope="module")
def changed_result(changed_series):
    return detect_sar_breaks(changed_series)


def test_db_round_trip_and_zero_power():
    assert np.allclose(db_to_power(power_to_db(np.array([0.5, 0.01, 2.0]))), [0.5, 0.01, 2.0], rtol=1e-5)
    assert np.isnan(power_to_db(np.array([0.0, -1.0]))).all()


def test_db_input_detected_converted_and_named():
    stack = s1_series(n_per_orbit=6, seed=2)
    as_db = stack.copy(data=stack.values.copy())
    as_db.values[3] = power_to_db(stack.values[3])
    with pytest.warns(DataWarning, match=str(stack.scene_id.values[3])):
        fixed = linear_power(as_db)
    np.testing.assert_allclose(fixed.values[3], stack.values[3], rtol=1e-4)
    np.testing.assert_array_equal(fixed.values[2], stack.values[2])


def test_uncalibrated_values_refused():
    stack = s1_series(n_per_orbit=6, seed=2)
    dn = stack.copy(data=stack.values * 40000.0)
    with pytest.raises(DataError, match="uncalibrated DN"):
        linear_power(dn)


@pytest.mark.parametrize("looks", [1.0, 4.4, 10.0])
def test_looks_estimated_from_the_data(looks):
    rng = np.random.default_rng(3)
    speckle = rng.gamma(looks, 1 / looks, (256, 256)).astype(np.float32)
    texture = np.exp(0.3 * np.sin(np.arange(256) / 20.0))[None, :]
    assert estimate_looks(speckle * texture) == pytest.approx(looks, rel=0.2)


def test_lee_filter_smooths_ground_and_keeps_a_point_target():
    rng = np.random.default_rng(4)
    img = (0.05 * rng.gamma(4.4, 1 / 4.4, (64, 64))).astype(np.float32)
    img[32, 32] = 5.0  # a corner reflector, a vehicle
    out = lee_filter(img, looks=4.4, window_px=5)
    assert out[:20, :20].std() < 0.5 * img[:20, :20].std()
    assert out[32, 32] > 0.8 * img[32, 32]
    assert out.mean() == pytest.approx(img.mean(), rel=0.05)


def test_reference_windows_are_the_optical_historys_bins():
    """The radar compares an acquisition with the acquisitions in the optical history's reference bins."""
    rng = np.random.default_rng(5)
    days = np.sort(rng.choice(np.arange(0, 800), 90, replace=False))
    p = SarParams()
    windows = reference_windows(days, params=p)
    bins = (days - days[0]) // p.bin_days
    for k, (r0, r1, s0, s1) in enumerate(windows):
        b = bins[k]
        recent = {i for i in range(days.size) if b - p.recent_bins <= bins[i] < b}
        year_ago = {i for i in range(days.size) if abs(bins[i] - (b - 12)) <= p.season_bins}
        assert set(range(r0, r1)) == recent
        assert set(range(s0, s1)) == {i for i in year_ago if bins[i] < b - p.recent_bins}
        assert k not in set(range(r0, r1)) | set(range(s0, s1))


def test_orbits_grouped_by_relative_orbit(changed_series):
    groups = orbit_groups(changed_series)
    assert [(g.label, g.orbit_direction, len(g.index)) for g in groups] == [
        ("A014", "ASCENDING", 40),
        ("D079", "DESCENDING", 40),
    ]


def test_textbook_welch_when_every_safeguard_is_off():
    """With no filter, floor, pooling or normalisation, t is scipy's Welch t on the same windows."""
    change = Change(slice(0, 4), slice(0, 4), "2023-09-01", -8.0, -8.0)
    stack = s1_series(shape=(8, 8), orbits=ORBITS[:1], changes=[change], weather_db=0.0, seed=6)
    bare = SarParams(
        filter_px=1,
        variance_pool_px=1,
        floor_test_variance=False,
        variance_floor_share=0.0,
        normalize=False,
        single_threshold=0.0,
    )
    with pytest.warns(DataWarning, match="one orbit direction"):
        ds = detect_sar_breaks(stack, params=bare)
    times = stack.time.values
    days = times.astype("datetime64[D]").astype(np.int64)
    windows = reference_windows(days, params=bare)
    db = power_to_db(stack.values)
    for y, x in [(1, 1), (2, 3)]:
        k = int(np.nonzero(times == ds.orbit_first_detected.values[0, y, x])[0][0])
        r0, r1, s0, s1 = windows[k]
        ref = db[[*range(r0, r1), *range(s0, s1)], 0, y, x]
        test = db[k : k + 2, 0, y, x]
        expected = scipy.stats.ttest_ind(test, ref, equal_var=False).statistic
        assert ds.t_stat.values[0, 0, y, x] == pytest.approx(expected, rel=1e-3)


def test_changes_detected_with_their_direction(changed_result):
    ds = changed_result
    for change, sign in ((PAD, -1), (EVACUATION, -1), (ARRIVAL, 1)):
        inside = ds.changed.values[change.rows, change.cols]
        assert inside.mean() >= 0.9, change
        direction = ds.direction.values[:, :, change.rows, change.cols]  # (orbit, pol, y, x)
        changed_o = ds.orbit_changed.values[:, change.rows, change.cols]
        for c in range(2):
            votes = direction[:, c][changed_o]
            assert (votes == sign).mean() >= 0.9, (change, c)


def test_breaks_dated_between_acquisitions(changed_series, changed_result):
    ds = changed_result
    for change in (PAD, EVACUATION, ARRIVAL):
        before, after = acquisitions_around(changed_series, change.start)
        first = ds.first_detected.values[change.rows, change.cols]
        last = ds.last_unchanged.values[change.rows, change.cols]
        found = ~np.isnat(first)
        # the first acquisition on or after the change (any orbit), the last one before it
        assert (first[found] == after).mean() >= 0.85, change
        assert (last[found] == before).mean() >= 0.7, change
        assert (last[found] < first[found]).all()
        # each orbit dates it between two of its own acquisitions
        for o in range(ds.sizes["orbit"]):
            of = ds.orbit_first_detected.values[o, change.rows, change.cols]
            ol = ds.orbit_last_unchanged.values[o, change.rows, change.cols]
            ok = ~np.isnat(of) & ~np.isnat(ol)
            assert (of[ok] >= np.datetime64(change.start)).mean() >= 0.9
            assert (ol[ok] < np.datetime64(change.start)).mean() >= 0.9


def test_lasting_changes_persist(changed_result):
    ds = changed_result
    rows, cols = PAD.rows, PAD.cols
    persistence = ds.persistence.values[:, rows, cols][ds.orbit_changed.values[:, rows, cols]]
    assert np.nanmedian(persistence) >= 0.8


def test_no_false_breaks_on_stable_speckle():
    """Stated rate: at most 0.2 % of stable pixels break in 16 months of two orbits (measured 0.03-0.06 %)."""
    stack = s1_series(shape=(128, 128), seed=7)
    ds = detect_sar_breaks(stack)
    assert ds.changed.values.mean() <= 0.002
    assert ds.attrs["notes"] == ""


def test_scene_wide_wet_dates_are_not_change():
    stack = s1_series(shape=(48, 48), weather_db=0.0, seed=8)
    wet = stack.copy(data=stack.values.copy())
    # two consecutive acquisitions of each orbit at the end of the series, 3 dB brighter everywhere
    for group in orbit_groups(stack):
        wet.values[list(group.index[-3:-1])] *= 10**0.3
    assert detect_sar_breaks(wet).changed.values.mean() <= 0.005
    noisy = detect_sar_breaks(wet, params=SarParams(normalize=False)).changed.values.mean()
    assert noisy > 0.2  # the scene-wide offset is what the normalisation removes


def test_transient_change_is_not_a_break():
    parked = Change(slice(10, 22), slice(10, 22), "2023-08-01", 7.0, 7.0, end="2023-10-15")
    ds = detect_sar_breaks(s1_series(shape=(40, 40), changes=[parked], seed=9))
    inside = (parked.rows, parked.cols)
    assert ds.changed.values[inside].mean() <= 0.05
    assert ds.transient.values[:, parked.rows, parked.cols].any(axis=0).mean() >= 0.9


def test_one_orbit_direction_and_one_polarisation_work_and_say_so():
    stack = s1_series(orbits=ORBITS[:1], polarizations=("VV",), changes=[PAD], seed=10)
    with pytest.warns(DataWarning) as record:
        ds = detect_sar_breaks(stack)
    text = " ".join(str(w.message) for w in record)
    assert "one orbit direction only (DESCENDING)" in text and "only VV" in text
    assert list(ds.polarization.values) == ["VV"] and list(ds.orbit.values) == ["D079"]
    assert ds.changed.values[PAD.rows, PAD.cols].mean() >= 0.85
    assert "layover, shadow and steep terrain not flagged" in ds.attrs["notes"]


def test_mixed_sigma0_and_gamma0_refused_naming_scenes():
    a = s1_series(n_per_orbit=8, backscatter="gamma0", seed=11)
    b = s1_series(n_per_orbit=8, backscatter="sigma0", seed=11, start="2023-06-01")
    mixed = __import__("xarray").concat([a, b], dim="time")
    with pytest.raises(DataError, match=r"sigma0: .*S1A_2023060.*gamma0|gamma0: .*; sigma0: S1A_"):
        detect_sar_breaks(mixed)


def test_no_vv_or_vh_is_refused():
    stack = s1_series(n_per_orbit=8, seed=12).assign_coords(band=["HH", "HV"])
    with pytest.raises(BandMissingError, match="no VV or VH"):
        detect_sar_breaks(stack)


def test_too_short_a_series_says_how_many_are_needed():
    with pytest.raises(DataError, match="acquisitions a test needs"):
        detect_sar_breaks(s1_series(n_per_orbit=4, seed=13))


def test_date_offsets_are_robust_to_a_local_change():
    x = np.zeros((4, 1, 1000), np.float32)
    x[2] += 2.0
    x[3, 0, :300] += 10.0  # 30 % of the scene changed
    assert date_offsets(x)[:, 0].tolist() == pytest.approx([0.0, 0.0, 2.0, 0.0], abs=1e-6)


# --------------------------------------------------------------------------- terrain


def test_terrain_from_a_dem_flags_the_slopes_facing_each_sensor():
    x = np.arange(60) * 10.0
    ridge = np.tile(np.maximum(0.0, 250.0 - np.abs(x - 300.0)) * 1.0, (30, 1))  # 45 degree flanks
    flags = terrain_from_dem(ridge, (10.0, 10.0), {"A": "ASCENDING", "D": "DESCENDING"})
    west_flank, east_flank = (15, 15), (15, 45)
    # ascending looks east: the west flank faces it (layover), the east flank is in its shadow
    assert flags.layover["A"][west_flank] and flags.shadow["A"][east_flank]
    assert flags.layover["D"][east_flank] and flags.shadow["D"][west_flank]
    assert flags.steep[west_flank] and not flags.steep[15, 2]
    assert flags.source == "dem"


def test_terrain_from_data_needs_both_directions():
    flat = np.full((30, 30), -11.0)
    flags = terrain_from_data({"D": flat}, {"D": "DESCENDING"})
    assert flags.source == "none" and not flags.layover["D"].any() and "both orbit directions" in flags.note


def test_no_break_declared_in_layover():
    stack = s1_series(
        shape=(48, 48), changes=[Change(slice(4, 20), slice(34, 46), "2024-01-01", -6, -6)], seed=14
    )
    # the ascending pass sees the hill bright, the descending one dark: layover and shadow
    asc = stack.orbit_direction.values == "ASCENDING"
    boosted = stack.copy(data=stack.values.copy())
    boosted.values[np.ix_(asc, [0, 1], range(0, 24), range(30, 48))] *= 10**1.0
    boosted.values[np.ix_(~asc, [0, 1], range(0, 24), range(30, 48))] *= 10**-0.9
    ds = detect_sar_breaks(boosted)
    a = list(ds.orbit.values).index("A014")
    d = list(ds.orbit.values).index("D079")
    core = (slice(6, 18), slice(36, 44))
    assert ds.layover.values[a][core].mean() > 0.9 and ds.shadow.values[d][core].mean() > 0.9
    assert not ds.changed.values[core].any()
    assert ds.steep.values[core].all() and not ds.steep.values[30:, :20].any()


# --------------------------------------------------------------------------- outlines


def test_outline_change_names_direction_and_dates(changed_series):
    mask = box_mask((64, 64), PAD.rows, PAD.cols)
    ev = outline_change(
        changed_series, mask, event_start=dt.date(2023, 11, 20), event_end=dt.date(2023, 12, 10)
    )
    assert ev.has_data and len(ev.orbits) == 2 and ev.n_pixels == 144
    assert ev.direction("VV") == "darker" and ev.direction("VH") == "darker"
    before, _ = acquisitions_around(changed_series, "2023-11-20")
    assert np.datetime64(ev.last_before.replace(tzinfo=None)) == before
    for orbit in ev.orbits:
        vv = orbit.change("VV")
        assert vv is not None and vv.t_stat < -5 and vv.delta_db == pytest.approx(-6.0, abs=1.0)
        # the radar's own dating brackets the true date with two acquisitions of the orbit
        assert orbit.radar_last_unchanged < dt.datetime(2023, 12, 1, tzinfo=dt.timezone.utc)
        assert orbit.radar_first_changed >= dt.datetime(2023, 12, 1, tzinfo=dt.timezone.utc)
        assert (orbit.radar_first_changed - orbit.radar_last_unchanged).days <= 12


def test_outline_change_says_none_on_stable_ground(changed_series):
    mask = box_mask((64, 64), slice(20, 28), slice(50, 60))
    ev = outline_change(changed_series, mask, event_start=dt.date(2023, 11, 20))
    assert ev.direction("VV") == "none" and ev.direction("VH") == "none"
    assert all(o.radar_first_changed is None for o in ev.orbits)


def test_outline_change_without_radar_after_the_event(changed_series):
    mask = box_mask((64, 64), PAD.rows, PAD.cols)
    ev = outline_change(changed_series, mask, event_start=dt.date(2026, 1, 1))
    assert not ev.has_data and ev.first_after is None and ev.notes


def test_outline_series_is_the_mean_power(changed_series):
    mask = box_mask((64, 64), ARRIVAL.rows, ARRIVAL.cols)
    series = outline_series(changed_series, mask, normalize=False)
    expected = power_to_db(changed_series.values[:, 0][:, mask].mean(axis=1))
    np.testing.assert_allclose(series.sel(polarization="VV").values, expected, rtol=1e-5)
    assert series.coords["orbit_direction"].size == changed_series.sizes["time"]


def test_scene_offsets_measured_once_remove_a_wet_date_as_per_outline(changed_series):
    wet = changed_series.copy()
    wet[5] = wet[5] * 10 ** (2.0 / 10)  # a whole scene 2 dB brighter (rain)
    mask = box_mask((64, 64), ARRIVAL.rows, ARRIVAL.cols)
    per_outline = outline_series(wet, mask)
    once = with_scene_offsets(wet)
    np.testing.assert_allclose(outline_series(once, mask).values, per_outline.values, atol=0.1)
    raw = outline_series(wet, mask, normalize=False)
    assert float(raw.sel(polarization="VV")[5] - outline_series(once, mask).sel(polarization="VV")[5]) > 1.5
    assert once.coords["scene_offset_db"].dims == ("time", "band")


def test_outline_breaks_summary(changed_result):
    mask = box_mask((64, 64), ARRIVAL.rows, ARRIVAL.cols)
    s = outline_breaks(changed_result, mask)
    assert s.n_pixels == 100 and s.share_changed >= 0.9
    assert dict(s.direction) == {"VV": "brighter", "VH": "brighter"}
    assert dict(s.t_stat)["VH"] > 5
    assert s.first_detected.date() >= dt.date(2024, 1, 5) and s.last_unchanged.date() < dt.date(2024, 1, 5)


def test_outline_mask_must_fit(changed_series):
    with pytest.raises(DataError, match="shape"):
        outline_series(changed_series, np.ones((3, 3), bool))


def test_linear_power_is_checked_once_and_outlines_read_it_unchanged(changed_series, monkeypatch):
    """A stack checked by linear_power (the provider, with_scene_offsets) is not scanned again per outline."""
    from sitewatch.core import sar_radiometry
    from sitewatch.core.sar_outline import outline_series, with_scene_offsets

    stack = with_scene_offsets(changed_series)
    mask = np.zeros((stack.sizes["y"], stack.sizes["x"]), bool)
    mask[:3, :3] = True
    expected = outline_series(changed_series, mask, normalize=False)

    def no_second_check(*args, **kwargs):
        raise AssertionError("the per-scene unit check ran again on a checked stack")

    monkeypatch.setattr(sar_radiometry.np, "median", no_second_check)
    again = outline_series(stack, mask, normalize=False)
    np.testing.assert_array_equal(again.values, expected.values)
