from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.change import (
    ChangeParams,
    detect_changes,
    index_differences,
    land_cover_factor,
    standardized_difference,
    threshold_score,
)
from sitewatch.errors import ConfigError
from synthetic import make_stack

BANDS = ("B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
SOIL = np.array([900, 1100, 1300, 1500, 1700, 1800, 1900, 2000, 2600, 2200], np.float32)
ROOF = np.array([2200, 2300, 2400, 2500, 2500, 2600, 2600, 2600, 2900, 2700], np.float32)
VEG = np.array([300, 600, 350, 1500, 2800, 3200, 3500, 3600, 1800, 900], np.float32)


def _pair(h: int = 100, w: int = 100, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    before = SOIL[:, None, None] * (1 + 0.04 * rng.standard_normal((10, h, w)))
    after = SOIL[:, None, None] * (1 + 0.04 * rng.standard_normal((10, h, w)))
    return before.astype(np.float32), after.astype(np.float32)


def _stacks(before: np.ndarray, after: np.ndarray):
    b = make_stack(before, bands=BANDS).isel(time=0)
    a = make_stack(after, bands=BANDS, dates=("2024-10-01",)).isel(time=0)
    return b, a


def test_finds_a_new_building_and_nothing_else() -> None:
    before, after = _pair()
    after[:, 40:50, 60:75] = ROOF[:, None, None]  # 10 x 15 px = 1.5 ha at 10 m
    after[:, 5, 5] = ROOF  # one pixel: below the minimum mapping unit
    b, a = _stacks(before, after)
    cm = detect_changes(b, a)
    mask = cm.mask.values
    truth = np.zeros_like(mask)
    truth[40:50, 60:75] = True
    tp = (mask & truth).sum()
    assert tp / truth.sum() > 0.9
    assert (mask & ~truth).sum() < 0.1 * truth.sum()
    assert not mask[5, 5]
    assert cm.labels.values.max() == 1
    assert cm.threshold > 0
    assert cm.score.dims == ("y", "x") and "spatial_ref" in cm.score.coords
    assert float(cm.index_diff.sel(index="brightness").values[45, 65]) > 0.05


def test_no_change_gives_no_objects() -> None:
    b, a = _stacks(*_pair())
    cm = detect_changes(b, a)
    assert cm.mask.values.sum() == 0
    assert cm.changed_fraction == 0


def test_greening_is_damped_but_clearing_is_not() -> None:
    before, after = _pair()
    after[:, 10:30, 10:30] = VEG[:, None, None]  # a field greens up
    before[:, 60:80, 60:80] = VEG[:, None, None]  # vegetation cleared for construction
    b, a = _stacks(before, after)
    factor = land_cover_factor(b, a)
    assert factor[20, 20] == pytest.approx(ChangeParams().greening_factor)
    assert factor[70, 70] == 1.0
    cm = detect_changes(b, a, params=ChangeParams(greening_factor=0.0))
    assert not cm.mask.values[10:30, 10:30].any()
    assert cm.mask.values[62:78, 62:78].all()


def test_invalid_pixels_are_never_change() -> None:
    before, after = _pair()
    after[:, 40:50, 60:75] = ROOF[:, None, None]
    valid = np.ones((100, 100), bool)
    valid[:, 55:] = False
    cm = detect_changes(*_stacks(before, after), valid=valid)
    assert not cm.mask.values[:, 55:].any()
    assert not cm.valid.values[:, 55:].any()


def test_sensitivity_and_min_area() -> None:
    before, after = _pair()
    after[:, 20:24, 20:24] = (SOIL * 1.25)[:, None, None]  # faint 4 x 4 change
    b, a = _stacks(before, after)
    weak = detect_changes(b, a, params=ChangeParams(sensitivity=0.3)).mask.values.sum()
    strong = detect_changes(b, a, params=ChangeParams(sensitivity=3.0)).mask.values.sum()
    assert strong > weak
    big_mmu = detect_changes(b, a, params=ChangeParams(sensitivity=3.0, min_area_m2=5000)).mask.values
    assert big_mmu.sum() == 0


def test_threshold_and_standardisation() -> None:
    rng = np.random.default_rng(0)
    assert threshold_score(rng.normal(size=50_000), k_mad=3) == pytest.approx(3.0, abs=0.1)
    assert threshold_score(np.array([np.nan])) == np.inf
    bimodal = np.concatenate([rng.normal(0, 1, 5000), rng.normal(10, 1, 5000)])
    assert 3 < threshold_score(bimodal, method="otsu") < 7
    b, a = _stacks(*_pair())
    z = standardized_difference(b, a)
    assert abs(float(np.median(z.values))) < 0.05
    assert float(np.median(np.abs(z.values))) == pytest.approx(0.6745, abs=0.05)
    d = index_differences(b, a)
    assert "ndvi" in list(d.coords["index"].values)


def test_params_are_checked() -> None:
    with pytest.raises(ConfigError):
        ChangeParams(sensitivity=0)
    with pytest.raises(ConfigError):
        ChangeParams(threshold_method="magic")  # type: ignore[arg-type]


def test_neighbourhood_magnitude_forgives_one_pixel_offsets() -> None:
    from scipy import ndimage

    from sitewatch.core.change import change_vector, neighbourhood_magnitude

    rng = np.random.default_rng(3)
    texture = ndimage.gaussian_filter(rng.standard_normal((60, 60)), 1.5) * 10
    before = (SOIL[:, None, None] * (1 + 0.2 * texture[None])).astype(np.float32)
    after = np.roll(before, 1, axis=2)  # the same ground, one pixel off
    after[:, 20:40, 20:40] = ROOF[:, None, None]  # and a new 20 x 20 px roof
    b, a = _stacks(before, after)
    z = standardized_difference(b, a)
    plain, _ = change_vector(b, a, z)
    near = neighbourhood_magnitude(b, a, z, radius_px=1)
    edge = np.zeros((60, 60), bool)
    edge[5:15, 5:55] = True
    assert float(np.nanmedian(near.values[edge])) < 0.2 * float(np.nanmedian(plain.values[edge]))
    assert float(np.nanmin(near.values[24:36, 24:36])) > 5 * float(np.nanmedian(near.values[edge]))
