"""A field's cycle ended by a built surface whose tone ages back near the field's: a lasting change.

The per-pixel history calls a break reverted when its last clear dates are back near one of the
pixel's states before. A runway or a pad laid on a field is bright when fresh and ages towards
the soil's tone; what tells it from a field back in its cycle is the pixel itself: it varied
before (crop, stubble, soil) and is one constant surface after.
"""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.history import HistoryParams, break_arrays

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
BARE = np.array([0.17, 0.20, 0.24, 0.28, 0.34, 0.30], np.float32)
CROP = np.array([0.04, 0.07, 0.05, 0.40, 0.20, 0.10], np.float32)
FRESH = np.array([0.30, 0.32, 0.33, 0.35, 0.36, 0.32], np.float32)
# aged concrete: within the break threshold of the bare field (RMS 2.3 noise floors), but its
# blue a third above the soil's
AGED = BARE + np.array([0.05, 0.04, 0.01, 0.0, -0.04, -0.04], np.float32)
N_T, H, W = 44, 12, 12


def _scene(seed: int, after: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A field cycling (crop and bare soil); on a block, fresh concrete for 3 dates from date 22.

    Then ``after`` on the block, or (None) the field's cycle again.
    """
    rng = np.random.default_rng(seed)
    x = np.empty((N_T, 6, H, W), np.float32)
    season = np.zeros(N_T, bool)
    start = int(rng.integers(0, 4))
    # the field's states: green and bare by turns, two dates each (its recent baseline always
    # holds both, so only the concrete makes a break)
    season[start::4] = season[start + 1 :: 4] = True
    x[:] = BARE[None, :, None, None]
    x[season] = CROP[None, :, None, None]
    block = np.zeros((H, W), bool)
    r0, c0 = (int(v) for v in rng.integers(1, 5, 2))
    block[r0 : r0 + 6, c0 : c0 + 6] = True
    x[22:25, :, block] = FRESH[None, :, None]
    if after is not None:
        x[25:, :, block] = after[None, :, None]
    x += rng.normal(0, 0.004, x.shape).astype(np.float32)
    valid = rng.random((N_T, H * W)) > 0.1
    return x.reshape(N_T, 6, H * W), valid, np.arange(N_T) * 10, block.ravel()


def _run(x: np.ndarray, valid: np.ndarray, d: np.ndarray, **kw: float) -> dict[str, np.ndarray]:
    return break_arrays(x, valid, d, shape=(H, W), params=HistoryParams(**kw), band_names=BANDS)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_surface_aged_near_the_fields_tone_is_a_lasting_change(seed: int) -> None:
    x, valid, d, block = _scene(seed, AGED)
    out = _run(x, valid, d)
    assert out["changed"][block].mean() > 0.8
    assert np.median(out["break_index"][block]) == 22
    assert not out["changed"][~block].any()
    # without the settled test (main's history) the same pixels read as reverted
    off = _run(x, valid, d, settled_ratio=1e9)
    assert off["transient"][block].mean() > 0.8 and off["changed"][block].mean() < 0.2


@pytest.mark.parametrize("seed", [3, 4])
def test_a_field_back_in_its_cycle_after_a_bright_spell_is_still_reverted(seed: int) -> None:
    """Three bright dates (a cover, a flood of light), then the field's own cycle again."""
    x, valid, d, block = _scene(seed, None)
    out = _run(x, valid, d)
    assert out["changed"][block].mean() < 0.2
    assert out["transient"][block].mean() > 0.8
