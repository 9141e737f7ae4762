"""Pads laid in sections weeks or months apart: one pad, measured whole, dated by its first section.

Before, a pad whose two sections were laid three months apart was split by date into two
pads (each half the size, the second dated three months late), and one whose sections were
a month apart was measured on the dates just after its first section (half its area).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sitewatch.core.history import detect_breaks
from sitewatch.objects import ObjectParams, describe
from sitewatch.objects.stages import Section, same_material, staged_pairs
from synthetic import make_stack

B = ("B02", "B03", "B04", "B08", "B11", "B12")
STUBBLE = np.array([0.12, 0.15, 0.19, 0.25, 0.33, 0.27])
CONCRETE = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29])
ASPHALT = np.array([0.07, 0.08, 0.09, 0.11, 0.13, 0.12])
N_Y, N_X = 50, 60
N_T = 40
FIRST = 12


def _staged_pad(
    seed: int, gap_dates: int, second: np.ndarray = CONCRETE
) -> tuple[xr.DataArray, np.ndarray, tuple[int, int], tuple[slice, slice]]:
    """A 40-date series (10-day revisit) of a stubble plain: a concrete pad's first half laid on
    date 12, its second half (of ``second``) ``gap_dates`` later. Returns the stack, the clear
    mask, the pad's size in pixels (rows, columns) and its window."""
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(6, 11)), int(rng.integers(16, 25))
    r0, c0 = int(rng.integers(8, N_Y - rows - 8)), int(rng.integers(8, N_X - cols - 8))
    half = c0 + cols // 2
    frames = []
    for t in range(N_T):
        img = np.broadcast_to(STUBBLE[:, None, None], (6, N_Y, N_X)).copy()
        if t >= FIRST:
            img[:, r0 : r0 + rows, c0:half] = CONCRETE[:, None, None]
        if t >= FIRST + gap_dates:
            img[:, r0 : r0 + rows, half : c0 + cols] = second[:, None, None]
        frames.append(img + rng.normal(0, 0.004, img.shape))
    dates = [str(np.datetime64("2024-03-01") + np.timedelta64(10 * i, "D")) for i in range(N_T)]
    stack = make_stack(np.stack(frames) * 10000, bands=B, dates=dates)
    window = (slice(r0, r0 + rows), slice(c0, c0 + cols))
    return stack, np.ones((N_T, N_Y, N_X), bool), (rows, cols), window


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pad_laid_in_two_sections_three_months_apart_is_one_pad(seed: int) -> None:
    stack, clear, (rows, cols), _ = _staged_pad(seed, gap_dates=9)
    objects = describe(detect_breaks(stack, clear), stack, clear, params=ObjectParams())
    pads = [o for o in objects if o.change_type == "new_pad"]
    assert len(pads) == 1, [(o.change_type, o.area_m2, o.first_index) for o in objects]
    pad = pads[0]
    assert pad.area_m2 == pytest.approx(rows * cols * 100, rel=0.15)
    assert pad.length_m == pytest.approx(cols * 10, rel=0.15)
    assert pad.first_index == FIRST
    assert pad.completed_index is not None and pad.completed_index >= FIRST + 9
    assert any("laid in sections" in r for r in pad.reasons)


def test_without_joining_the_sections_are_two_pads() -> None:
    """The same scene with the joining turned off: what the scan reported before."""
    stack, clear, _, _ = _staged_pad(0, gap_dates=9)
    params = ObjectParams(stage_max_days=0)
    objects = describe(detect_breaks(stack, clear), stack, clear, params=params)
    assert len([o for o in objects if o.change_type == "new_pad"]) == 2


@pytest.mark.parametrize("seed", [3, 4])
def test_a_pad_whose_sections_are_a_month_apart_is_measured_whole(seed: int) -> None:
    """One object from the start (the gap is shorter than ``split_days``): it is measured on
    its surface once complete, not on the dates after its first section."""
    stack, clear, (rows, cols), _ = _staged_pad(seed, gap_dates=4)
    objects = describe(detect_breaks(stack, clear), stack, clear, params=ObjectParams())
    pads = [o for o in objects if o.change_type == "new_pad"]
    assert len(pads) == 1, [(o.change_type, o.area_m2) for o in objects]
    assert pads[0].area_m2 == pytest.approx(rows * cols * 100, rel=0.15)


def test_touching_pads_of_two_materials_stay_two() -> None:
    stack, clear, _, _ = _staged_pad(5, gap_dates=9, second=ASPHALT)
    objects = describe(detect_breaks(stack, clear), stack, clear, params=ObjectParams())
    assert not any(any("laid in sections" in r for r in o.reasons) for o in objects)


def test_same_material_is_relative_to_the_darker_surface() -> None:
    concrete = dict(zip(B, CONCRETE.tolist(), strict=True))
    weathered = {b: v * 0.9 for b, v in concrete.items()}
    assert same_material(concrete, weathered, 0.2)
    assert not same_material(concrete, dict(zip(B, ASPHALT.tolist(), strict=True)), 0.2)
    # a band missing from one is not compared; nothing in common is not the same
    assert same_material({"B04": 0.2, "B12": 0.5}, {"B04": 0.21}, 0.2)
    assert not same_material({"B04": 0.2}, {"B08": 0.2}, 0.2)
    assert not same_material({"B04": 0.2}, {"B04": float("nan")}, 0.2)


def test_staged_pairs_touch_are_close_in_time_and_nearest_first() -> None:
    labels = np.zeros((10, 30), int)
    labels[1:5, 1:6] = 1
    labels[1:5, 6:11] = 2  # touches 1
    labels[5:9, 11:16] = 3  # touches 2 at a corner
    labels[1:5, 20:25] = 4  # apart
    c = {"B04": 0.28, "B08": 0.31}
    sections = [Section(1, 0, c), Section(2, 100, c), Section(3, 60, c), Section(4, 10, c)]
    assert staged_pairs(sections, labels, max_days=130, tolerance=0.2) == [(1, 2), (0, 1)]
    assert staged_pairs(sections, labels, max_days=50, tolerance=0.2) == [(1, 2)]
    dark = Section(3, 60, {"B04": 0.09, "B08": 0.11})
    assert staged_pairs([*sections[:2], dark, sections[3]], labels, max_days=130, tolerance=0.2) == [(0, 1)]
