from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from sitewatch import ChangeParams, compare
from sitewatch.errors import AllCloudyError, DataWarning, NoOverlapError, RegistrationError
from synthetic import make_stack

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
SOIL = np.array([900, 1100, 1300, 1500, 1700, 1800, 1900, 2000, 2600, 2200], np.float32)
ROOF = np.array([2200, 2300, 2400, 2500, 2500, 2600, 2600, 2600, 2900, 2700], np.float32)


def _pair(shift: tuple[float, float] = (0.0, 0.0)):
    rng_t = np.random.default_rng(0)
    texture = ndimage.gaussian_filter(rng_t.standard_normal((120, 120)), 3) * 4
    base = SOIL[:, None, None] * (1 + 0.3 * texture[None])
    before = base * (1 + 0.02 * np.random.default_rng(1).standard_normal((10, 120, 120)))
    after = base * 1.08 + 50  # other sun and atmosphere
    after[:, 50:62, 30:50] = ROOF[:, None, None]  # a new 12 x 20 px building
    after = ndimage.shift(after, (0, *shift), order=1, mode="nearest")
    after *= 1 + 0.02 * np.random.default_rng(2).standard_normal((10, 120, 120))
    b = make_stack(before.astype(np.float32), bands=BANDS, dates=("2020-05-01",))
    a = make_stack(after.astype(np.float32), bands=BANDS, dates=("2023-05-01",))
    return b, a


def test_finds_the_building_through_shift_and_radiometry(tmp_path) -> None:
    b, a = _pair(shift=(1.0, -0.5))
    r = compare(b, a)
    assert r.shift.applied
    assert r.shift.dy == pytest.approx(-1.0, abs=0.15) and r.shift.dx == pytest.approx(0.5, abs=0.15)
    assert r.shift.dy_m == pytest.approx(10 * r.shift.dy)
    assert r.normalization.gains["B04"] == pytest.approx(1 / 1.08, rel=0.03)
    mask = r.mask.values
    assert set(np.unique(mask)) <= {0, 1, 255}
    truth = np.zeros(mask.shape, bool)
    truth[51:61, 30:50] = True  # the building, shifted back onto BEFORE's grid
    assert (mask[truth] == 1).mean() > 0.85
    assert (mask[~ndimage.binary_dilation(truth, iterations=3)] == 1).sum() == 0
    assert len(r.objects) == 1
    obj = r.objects[0]
    assert obj.area_m2 == pytest.approx(12 * 20 * 100, rel=0.3)
    feats = r.features()
    assert 0.5 < feats[0]["properties"]["confidence"] <= 1
    assert feats[0]["properties"]["mean_spectral_change"] > 0
    out = r.write_geojson(tmp_path / "c.geojson")
    fc = json.loads(out.read_text())
    assert fc["sitewatch"]["shift"]["applied"] is True
    assert fc["features"][0]["properties"]["area_m2"] == obj.area_m2
    assert r.write_mask(tmp_path / "m.tif").exists()
    assert r.quicklook(tmp_path / "q.png", before=b, after=a).stat().st_size > 1000


def test_all_nodata_date_is_refused() -> None:
    b, a = _pair()
    a = a.copy(data=np.full(a.shape, np.nan, np.float32))
    with pytest.raises(NoOverlapError, match="no data"):
        compare(b, a)


def test_all_cloudy_date_is_refused() -> None:
    b, a = _pair()
    cloud = np.array([5000, 5000, 5000, 5200, 5200, 5200, 5400, 5400, 4000, 3000], np.float32)
    a = a.copy(data=np.broadcast_to(cloud[None, :, None, None], a.shape).copy())
    with pytest.raises(AllCloudyError, match="clear"):
        compare(b, a)


def test_large_shift_is_refused_with_the_estimate() -> None:
    b, a = _pair()
    a = a.copy(data=np.roll(a.values, 7, axis=2))
    with pytest.raises(RegistrationError, match=r"dy=-\d\.\d\d px"):
        compare(b, a)


def test_missing_band_warns_and_uses_common_bands() -> None:
    b, a = _pair()
    with pytest.warns(DataWarning, match="B05"):
        r = compare(b, a.drop_sel(band="B05"))
    assert r.mask.shape == b.shape[2:]


def test_levels_mixed_warns_and_uint16_works() -> None:
    b, a = _pair()
    a16 = a.copy(data=np.clip(a.values, 1, 65535).astype(np.uint16))
    a16 = a16.assign_coords(processing_level=("time", ["L2A"]))
    b = b.assign_coords(processing_level=("time", ["L1C"]))
    with pytest.warns(DataWarning, match="like with like"):
        r = compare(b, a16)
    assert r.mask.values.max() <= 255 and len(r.objects) >= 1


def test_sensitivity_param() -> None:
    b, a = _pair()
    assert len(compare(b, a, params=ChangeParams(min_area_m2=1e6)).objects) == 0


def test_after_on_another_grid_is_resampled() -> None:
    b, a = _pair()
    # the same AFTER, cut 5 px smaller on the right and bottom (as OSCD's imgs_2 sometimes are)
    smaller = make_stack(
        a.values[0, :, :115, :115], bands=BANDS, dates=("2023-05-01",), origin=(500_000.0, 4_060_000.0)
    )
    r = compare(b, smaller)
    assert r.mask.shape == b.shape[2:]
    assert (r.mask.values[116:, :] == 255).all()
    assert (r.mask.values[52:60, 32:48] == 1).all()


def test_scl_masks_clouds_in_l2a_pairs() -> None:
    b, a = _pair()
    scl_b = np.full((1, 1, 120, 120), 5, np.float32)
    scl_a = scl_b.copy()
    scl_a[0, 0, :30, :] = 9  # cloud, high probability
    b2 = make_stack(
        np.concatenate([b.values, scl_b], axis=1)[0], bands=(*BANDS, "SCL"), dates=("2020-05-01",)
    )
    a2 = make_stack(
        np.concatenate([a.values, scl_a], axis=1)[0], bands=(*BANDS, "SCL"), dates=("2023-05-01",)
    )
    r = compare(b2, a2)
    assert (r.mask.values[:30] == 255).all()
    assert (r.mask.values[52:60, 32:48] == 1).all()
