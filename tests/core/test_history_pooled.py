"""The spatially pooled break test: faint changes shared by neighbours, not faint noise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sitewatch.core.history import HistoryParams, break_arrays
from sitewatch.core.history_pooled import (
    agreement_tail,
    beside_strong_breaks,
    neighbour_index,
    pooled_agreement,
)

CONCRETE = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29], np.float32)
# pale ground about 0.04 (between two and three noise floors) from concrete in every band
PALE = CONCRETE + np.array([-0.04, -0.04, -0.035, -0.035, 0.045, 0.045], np.float32)
SOIL = np.array([0.11, 0.15, 0.20, 0.26, 0.36, 0.30], np.float32)
DARK_SOIL = SOIL - np.float32(0.035)

H = W = 20
N_T = 40


def scene(
    before: np.ndarray, after: np.ndarray, where: np.ndarray, *, at: int = 20, until: int = N_T, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``N_T`` dates x ``H`` x ``W`` px of ``before``, ``after`` from date ``at`` to ``until`` where asked."""
    rng = np.random.default_rng(seed)
    x = np.empty((N_T, 6, H, W), np.float32)
    x[:] = before[None, :, None, None]
    x[at:until, :, where] = after[None, :, None]
    x += rng.normal(0, 0.006, x.shape).astype(np.float32)
    valid = rng.random((N_T, H * W)) > 0.1
    return x.reshape(N_T, 6, H * W), valid, np.arange(N_T) * 10


def block(r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[r0:r1, c0:c1] = True
    return m


def run(x: np.ndarray, valid: np.ndarray, d: np.ndarray, **kw: float) -> dict[str, np.ndarray]:
    return break_arrays(
        x,
        valid,
        d,
        shape=(H, W),
        params=HistoryParams(**kw),
        band_names=("B02", "B03", "B04", "B08", "B11", "B12"),
    )


def test_faint_pad_breaks_only_with_the_pooled_test():
    pad = block(5, 11, 4, 12)
    x, valid, d = scene(PALE, CONCRETE, pad)
    alone = run(x, valid, d, pooled_threshold=0)
    assert alone["changed"][pad.ravel()].mean() < 0.2  # too faint for one pixel
    out = run(x, valid, d)
    assert out["changed"][pad.ravel()].mean() > 0.5  # enough for the object (gaps are closed)
    assert not out["changed"][~pad.ravel()].any()
    brk = out["break_index"][pad.ravel() & out["changed"]]
    # dated at the change or its first confirming clear date
    assert np.median(brk) == 20 and brk.min() >= 20 and brk.max() <= 22


def test_faint_strip_two_pixels_wide_breaks():
    strip = block(3, 17, 9, 11)
    x, valid, d = scene(PALE, CONCRETE, strip, seed=1)
    out = run(x, valid, d)
    assert out["changed"][strip.ravel()].mean() > 0.7
    assert not out["changed"][~strip.ravel()].any()


def test_scattered_faint_pixels_are_not_pooled():
    # the same faint step at isolated pixels: no neighbour agrees
    spots = np.zeros((H, W), bool)
    spots[2::5, 2::5] = True
    x, valid, d = scene(PALE, CONCRETE, spots, seed=2)
    out = run(x, valid, d)
    assert not out["changed"].any()


def test_faint_change_that_goes_away_does_not_last():
    pad = block(5, 11, 4, 12)
    x, valid, d = scene(PALE, CONCRETE, pad, until=27, seed=3)
    out = run(x, valid, d)
    assert out["changed"][pad.ravel()].mean() < 0.2


def test_faint_coherent_change_of_natural_ground_is_not_pooled():
    # a parcel darkened as one (wet or ploughed soil): coherent, faint, not works
    parcel = block(4, 14, 4, 14)
    x, valid, d = scene(SOIL, DARK_SOIL, parcel, seed=4)
    out = run(x, valid, d)
    assert out["changed"][parcel.ravel()].mean() < 0.2


def test_agreement_tail_is_the_binomial_tail():
    rate = np.array([0.0, 0.01, 0.2, 0.9])
    tail = agreement_tail(rate)
    for t, q in enumerate(rate):
        for n in range(9):
            for c in range(n + 1):
                assert tail[t, n, c] == pytest.approx(stats.binom.sf(c - 1, n, q), abs=1e-12)
            assert tail[t, n, n + 1] == 0


def test_neighbours_within_the_tile_only():
    # a 3 x 4 image; the tile is its second row and the first pixel of the third
    pix = np.array([4, 5, 6, 7, 8])
    nb = neighbour_index(pix, (3, 4))
    # pixel 5 (row 1, col 1): in the tile are 4, 6 (same row) and 8 (row 2, col 0)
    assert sorted(int(pix[i]) for i in nb[:, 1] if i >= 0) == [4, 6, 8]
    # pixel 4 (row 1, col 0) has no left neighbours
    assert sorted(int(pix[i]) for i in nb[:, 0] if i >= 0) == [5, 8]


def test_agreement_needs_more_neighbours_on_a_date_where_many_pixels_move():
    # pixel 11 of a 10 x 10 image and three of its eight neighbours flagged on both dates
    nb = neighbour_index(np.arange(100), (10, 10))
    flagged = np.zeros((2, 100), bool)
    flagged[:, [11, 0, 1, 2]] = True
    flagged[1, 40:] = True  # date 1: most of the scene moved (haze), agreement is cheap
    scored = np.ones((2, 100), bool)
    ok = pooled_agreement(flagged, scored, np.array([0, 1]), np.array([11, 11]), nb, 1e-2)
    assert ok.tolist() == [True, False]


def test_pooled_breaks_never_grow_or_join_a_strong_change():
    """A faint halo round a strong pad stays out of it; a faint pad apart is still found."""
    strong = block(4, 9, 3, 8)
    halo = block(2, 11, 1, 10) & ~strong
    apart = block(13, 19, 12, 19)
    x, valid, d = scene(PALE, CONCRETE, halo | apart, seed=3)
    x = x.reshape(N_T, 6, H, W)
    x[:20, :, strong] = SOIL[None, :, None]
    x[20:, :, strong] = CONCRETE[None, :, None]
    x[:, :, strong] += np.random.default_rng(4).normal(0, 0.006, x[:, :, strong].shape).astype(np.float32)
    out = run(x.reshape(N_T, 6, H * W), valid, d)
    assert out["changed"][strong.ravel()].mean() > 0.9
    assert not out["changed"][halo.ravel()].any()
    assert (out["break_index"][halo.ravel()] < 0).all()  # no break at all, not a hidden one
    assert out["changed"][apart.ravel()].mean() > 0.25  # found (the objects stage closes the gaps)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_faint_pad_with_a_few_strong_pixels_stays_the_pooled_tests(seed: int) -> None:
    """A faint pad whose strongest pixels pass the per-pixel test is still found whole.

    Those pixels are too few to be an object: they do not claim the patch, as a strong pad
    claims its halo. Main dropped every pooled pixel of the pad beside them.
    """
    rng = np.random.default_rng(seed)
    r0, c0 = (int(v) for v in rng.integers(2, 10, 2))
    pad = block(r0, r0 + 7, c0, c0 + 8)
    x, valid, d = scene(PALE, CONCRETE, pad, seed=seed)
    x = x.reshape(N_T, 6, H, W)
    peaks = np.zeros((H, W), bool)
    rows, cols = np.nonzero(pad)
    pick = rng.choice(rows.size, 2, replace=False)
    peaks[rows[pick], cols[pick]] = True
    # the two peaks change further (clearly over the per-pixel threshold), on the same date
    x[20:, :, peaks] += np.array([0.06, 0.06, 0.05, 0.05, -0.06, -0.06], np.float32)[None, :, None]
    valid[20:22, peaks.ravel()] = True
    out = run(x.reshape(N_T, 6, H * W), valid, d)
    assert out["changed"][peaks.ravel()].all()
    assert out["changed"][pad.ravel()].mean() > 0.4  # enough for the object (gaps are closed)
    assert not out["changed"][~pad.ravel()].any()
    # with the claim of a single strong pixel (main's rule), the pad is lost
    lost = run(x.reshape(N_T, 6, H * W), valid, d, pooled_claim_px=1)
    assert lost["changed"][pad.ravel() & ~peaks.ravel()].mean() < 0.2


def test_beside_strong_breaks_needs_enough_strong_breaks_to_claim():
    pooled = np.zeros((6, 8), bool)
    strong = np.zeros((6, 8), bool)
    pooled[1:4, 1:5] = True
    strong[2, 2] = strong[2, 3] = True
    pooled[strong] = False
    drop = beside_strong_breaks(pooled.ravel(), strong.ravel(), None, (6, 8), min_claim=3)
    assert not drop.any()
    strong[3, 3] = True
    pooled[3, 3] = False
    drop = beside_strong_breaks(pooled.ravel(), strong.ravel(), None, (6, 8), min_claim=3)
    np.testing.assert_array_equal(drop, pooled.ravel())


def test_beside_strong_breaks_joins_through_pooled_pixels_only():
    pooled = np.zeros((6, 8), bool)
    strong = np.zeros((6, 8), bool)
    strong[1, 1] = True
    pooled[1, 2] = pooled[2, 3] = True  # a diagonal chain from the strong pixel
    pooled[4, 6] = pooled[5, 7] = True  # a patch of its own
    drop = beside_strong_breaks(pooled.ravel(), strong.ravel(), None, (6, 8))
    assert drop.reshape(6, 8)[1, 2] and drop.reshape(6, 8)[2, 3]
    assert not drop.reshape(6, 8)[4, 6] and not drop.reshape(6, 8)[5, 7]
    assert not drop[strong.ravel()].any()
    # the same pixels given as a chunk of a larger image, by their global positions
    rows, cols = np.nonzero(np.ones((6, 8), bool))
    pix = (rows + 10) * 50 + (cols + 20)
    chunk = beside_strong_breaks(pooled.ravel(), strong.ravel(), pix, (40, 50))
    np.testing.assert_array_equal(chunk, drop)
