from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.masks import (
    CLEAR,
    CLOUD,
    NODATA,
    SHADOW,
    SNOW,
    clear_mask,
    cloud_probability,
    pixel_classes,
    scl_classes,
    valid_fraction,
)
from sitewatch.errors import BandMissingError
from synthetic import make_stack

BANDS6 = ("B02", "B03", "B04", "B08", "B11", "B12")


def _land(h: int = 64, w: int = 64) -> np.ndarray:
    # vegetated land: blue 0.04, green 0.07, red 0.05, NIR 0.30, SWIR 0.18 / 0.10
    base = np.array([400, 700, 500, 3000, 1800, 1000], np.float32)
    rng = np.random.default_rng(1)
    return base[:, None, None] * (1 + 0.05 * rng.standard_normal((6, h, w))).astype(np.float32)


def test_scl_table() -> None:
    codes = scl_classes(np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, np.nan, 99]))
    assert codes.tolist() == [0, 0, 1, 3, 1, 1, 1, 1, 2, 2, 2, SNOW, 0, 0]  # 11 snow/ice: never clear


def test_scl_used_when_present() -> None:
    data = np.concatenate([_land(), np.full((1, 64, 64), 4, np.float32)])
    data[-1, :10] = 9
    data[-1, 10:20] = 3
    stack = make_stack(data, bands=(*BANDS6, "SCL"))
    classes = pixel_classes(stack)
    assert classes.attrs["method"] == "scl"
    assert (classes.values[0, :10] == CLOUD).all()
    assert (classes.values[0, 10:20] == SHADOW).all()
    assert (classes.values[0, 20:] == CLEAR).all()


def test_rules_find_cloud_shadow_and_nodata() -> None:
    data = _land()
    data[:, 5:20, 5:20] = np.array([4000, 4000, 4000, 4500, 3500, 2500], np.float32)[:, None, None]  # cloud
    data[:, 30:40, 30:40] *= 0.25  # shadow: everything dark
    data[:, 60:, :] = np.nan  # no data
    stack = make_stack(data, bands=BANDS6)
    classes = pixel_classes(stack, buffer_px=0, average_px=0).values[0]
    assert (classes[5:20, 5:20] == CLOUD).all()
    assert (classes[31:39, 31:39] == SHADOW).all()
    assert (classes[60:] == NODATA).all()
    assert (classes[45:58, 45:58] == CLEAR).all()
    clear = clear_mask(stack, buffer_px=0, average_px=0)
    assert clear.dims == ("time", "y", "x")
    frac = float(valid_fraction(clear)[0])
    assert frac == pytest.approx(classes.__eq__(CLEAR).mean())


def test_large_cloud_kept_small_bright_roof_not_cloud() -> None:
    data = _land(128, 128)
    white = np.array([4000, 4000, 4000, 4500, 3500, 2500], np.float32)[:, None, None]
    data[:, :, :70] = white  # a cloud bank over half the scene
    data[:, 100:106, 100:110] = white  # a bright new roof, 6 x 10 px
    classes = pixel_classes(make_stack(data, bands=BANDS6)).values[0]
    assert (classes[:, :60] == CLOUD).all()
    assert (classes[100:106, 100:110] != CLOUD).all()


def test_dark_city_is_not_shadow_without_clouds() -> None:
    stack = make_stack(_land() * 0.4, bands=BANDS6)  # dark everywhere, no cloud
    assert (pixel_classes(stack).values == CLEAR).all()


@pytest.mark.e2e
def test_s2cloudless_on_real_sample(shared_dir) -> None:
    d = np.load(shared_dir / "data" / "cloudmask" / "s2cloudless_input_arrays.npz")
    img = d["s2_im"][0, :256, :256]
    bands = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")
    stack = make_stack(np.moveaxis(img, -1, 0) * 10000, bands=bands)
    prob = cloud_probability(stack)
    assert prob.dims == ("time", "y", "x")
    classes = pixel_classes(stack, buffer_px=0)
    assert classes.attrs["method"] == "s2cloudless"
    ref = d["cl_mask"][0, :256, :256].astype(bool)
    pred = classes.values[0] == CLOUD
    agreement = (pred == ref).mean()
    assert agreement > 0.85


def test_s2cloudless_needs_its_bands() -> None:
    with pytest.raises(BandMissingError, match="B01"):
        cloud_probability(make_stack(_land(), bands=BANDS6))


def test_shadows_from_reference_catches_far_shadow_over_bright_ground() -> None:
    from sitewatch.core.masks import shadows_from_reference

    ground = np.array([1200, 1500, 1800, 2500, 3000, 2600], np.float32)[:, None, None]
    ref = np.broadcast_to(ground, (6, 200, 200)).copy()
    now = ref.copy()
    now[:, :40, :40] = np.array([4000, 4000, 4000, 4500, 3500, 2500], np.float32)[:, None, None]  # cloud
    now[:, 150:170, 150:170] *= 0.3  # its shadow, far away (about 150 px)
    now[:, 100:110, 10:20] *= 1.5  # ground that brightened: not a shadow
    stack = make_stack(now, bands=BANDS6)
    classes = pixel_classes(stack, buffer_px=0, average_px=0)
    assert (classes.values[0, 150:170, 150:170] == CLEAR).all()  # too far for the darkness rule
    out = shadows_from_reference(classes, stack, make_stack(ref, bands=BANDS6))
    assert (out.values[0, 150:170, 150:170] == SHADOW).all()
    assert (out.values[0, 100:110, 10:20] == CLEAR).all()
    assert (out.values[0, :40, :40] == CLOUD).all()


@pytest.mark.parametrize("with_scl", [True, False])
def test_pixel_classes_of_a_dask_stack_equal_the_in_memory_ones(with_scl):
    """Blocks overlap by the masks' reach: a chunked stack gives the in-memory classes."""
    from sitewatch.core.masks import pixel_classes

    rng = np.random.default_rng(4)
    bands = ["B02", "B03", "B04", "B08", "B11", "B12"] + (["SCL"] if with_scl else [])
    data = np.empty((3, len(bands), 96, 96), np.float32)
    soil = np.array([1100, 1500, 2000, 2600, 3600, 3000], np.float32)
    data[:, :6] = soil[None, :, None, None] + rng.normal(0, 30, (3, 6, 96, 96))
    data[1, :6, 20:50, 30:70] = 6500  # a cloud across block edges
    data[1, :6, 55:70, 40:80] *= 0.35  # its shadow
    data[2, :6, 80:, 80:] = np.nan
    if with_scl:
        data[:, 6] = 4
        data[1, 6, 20:50, 30:70] = 9
    stack = make_stack(data, bands=bands, dates=["2024-01-01", "2024-01-11", "2024-01-21"])
    eager = pixel_classes(stack, shadow_search_px=20, average_px=4)
    lazy = pixel_classes(stack.chunk({"y": 40, "x": 40}), shadow_search_px=20, average_px=4)
    assert lazy.chunks is not None
    np.testing.assert_array_equal(lazy.values, eager.values)
    assert lazy.attrs["method"] == eager.attrs["method"]
    assert (eager.values[1] != 1).sum() > 500  # the cloud is flagged at all
