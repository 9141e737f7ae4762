"""Pads laid in sections weeks or months apart: one pad, measured whole, dated by its first section.

Before, a pad whose two sections were laid three months apart was split by date into two
pads (each half the size, the second dated three months late), and one whose sections were
a month apart was measured on the dates just after its first section (half its area).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr

from sitewatch.core.history import detect_breaks
from sitewatch.core.surfaces import same_material
from sitewatch.objects import ChangeObject, ObjectParams, describe
from sitewatch.objects.stages import Section, staged_pairs
from synthetic import make_stack

B = ("B02", "B03", "B04", "B08", "B11", "B12")
STUBBLE = np.array([0.12, 0.15, 0.19, 0.25, 0.33, 0.27])
CONCRETE = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29])
ASPHALT = np.array([0.07, 0.08, 0.09, 0.11, 0.13, 0.12])
N_Y, N_X = 50, 60
N_T = 40
FIRST = 12


EARTH = np.array([0.23, 0.27, 0.31, 0.34, 0.43, 0.37])  # levelled, pale subsoil (the simulator's)


@dataclass(frozen=True)
class Part:
    """One section: its share of the pad's length, the date it is laid, its surface and,
    optionally, the date its ground was levelled before."""

    share: float
    laid: int
    surface: tuple[float, ...] = tuple(CONCRETE.tolist())
    levelled: int | None = None


def _staged_pad(seed: int, parts: tuple[Part, ...]) -> tuple[xr.DataArray, np.ndarray, tuple[int, int]]:
    """A 40-date series (10-day revisit) of a stubble plain with a pad laid in ``parts`` along
    its length. Returns the stack, the clear mask and the pad's size in pixels (rows, columns)."""
    rng = np.random.default_rng(seed)
    rows, cols = int(rng.integers(6, 11)), int(rng.integers(18, 27))
    r0, c0 = int(rng.integers(8, N_Y - rows - 8)), int(rng.integers(8, N_X - cols - 8))
    ends = np.round(c0 + cols * np.cumsum([q.share for q in parts])).astype(int)
    starts = np.concatenate([[c0], ends[:-1]])
    frames = []
    for t in range(N_T):
        img = np.broadcast_to(STUBBLE[:, None, None], (6, N_Y, N_X)).copy()
        for q, a, b in zip(parts, starts, ends, strict=True):
            if q.levelled is not None and q.levelled <= t < q.laid:
                img[:, r0 : r0 + rows, a:b] = EARTH[:, None, None]
            if t >= q.laid:
                img[:, r0 : r0 + rows, a:b] = np.asarray(q.surface)[:, None, None]
        frames.append(img + rng.normal(0, 0.004, img.shape))
    dates = [str(np.datetime64("2024-03-01") + np.timedelta64(10 * i, "D")) for i in range(N_T)]
    stack = make_stack(np.stack(frames) * 10000, bands=B, dates=dates)
    return stack, np.ones((N_T, N_Y, N_X), bool), (rows, cols)


def _pads(stack: xr.DataArray, clear: np.ndarray, params: ObjectParams | None = None) -> list[ChangeObject]:
    objects = describe(detect_breaks(stack, clear), stack, clear, params=params or ObjectParams())
    return [o for o in objects if o.change_type == "new_pad"]


HALVES = (Part(0.5, FIRST), Part(0.5, FIRST + 9))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pad_laid_in_two_sections_three_months_apart_is_one_pad(seed: int) -> None:
    stack, clear, (rows, cols) = _staged_pad(seed, HALVES)
    pads = _pads(stack, clear)
    assert len(pads) == 1, [(o.area_m2, o.first_index) for o in pads]
    pad = pads[0]
    assert pad.area_m2 == pytest.approx(rows * cols * 100, rel=0.15)
    assert pad.length_m == pytest.approx(cols * 10, rel=0.15)
    assert pad.first_index == FIRST
    assert pad.completed_index is not None and pad.completed_index >= FIRST + 9
    assert any("laid in 2 sections over 90 days" in r for r in pad.reasons)


def test_without_joining_the_sections_are_two_pads() -> None:
    """The same scene with the joining turned off: what the scan reported before."""
    stack, clear, _ = _staged_pad(0, HALVES)
    assert len(_pads(stack, clear, ObjectParams(stage_max_days=0))) == 2


@pytest.mark.parametrize("seed", [0, 1])
def test_a_small_first_section_is_measured_with_the_rest(seed: int) -> None:
    """A fifth of the pad first: the union's own 30 % date is the second section's, which
    would read the first as ground that was already there."""
    stack, clear, (rows, cols) = _staged_pad(seed, (Part(0.2, FIRST), Part(0.8, FIRST + 9)))
    pads = _pads(stack, clear)
    assert len(pads) == 1, [(o.area_m2, o.first_index) for o in pads]
    assert pads[0].area_m2 == pytest.approx(rows * cols * 100, rel=0.15)
    assert pads[0].first_index == FIRST


@pytest.mark.parametrize("seed", [0, 1])
def test_three_sections_seventy_days_apart_are_one_pad(seed: int) -> None:
    parts = (Part(1 / 3, FIRST), Part(1 / 3, FIRST + 7), Part(1 / 3, FIRST + 14))
    stack, clear, (rows, cols) = _staged_pad(seed, parts)
    pads = _pads(stack, clear)
    assert len(pads) == 1, [(o.area_m2, o.first_index) for o in pads]
    pad = pads[0]
    assert pad.area_m2 == pytest.approx(rows * cols * 100, rel=0.15)
    assert pad.first_index == FIRST
    assert pad.completed_index is not None and pad.completed_index >= FIRST + 14
    assert any("laid in 3 sections over 140 days" in r for r in pad.reasons)


@pytest.mark.parametrize("seed", [3, 4])
def test_a_pad_whose_sections_are_a_month_apart_is_measured_whole(seed: int) -> None:
    """One object from the start (the gap is shorter than ``split_days``): it is measured on
    its surface once complete, not on the dates after its first section."""
    stack, clear, (rows, cols) = _staged_pad(seed, (Part(0.5, FIRST), Part(0.5, FIRST + 4)))
    pads = _pads(stack, clear)
    assert len(pads) == 1, [(o.area_m2, o.first_index) for o in pads]
    assert pads[0].area_m2 == pytest.approx(rows * cols * 100, rel=0.15)


def test_touching_pads_of_two_materials_stay_two() -> None:
    stack, clear, _ = _staged_pad(5, (Part(0.5, FIRST), Part(0.5, FIRST + 9, tuple(ASPHALT.tolist()))))
    pads = _pads(stack, clear)
    assert len(pads) == 2, [(o.area_m2, o.first_index, o.after) for o in pads]
    assert not any(any("sections" in r for r in o.reasons) for o in pads)


def test_a_section_laid_on_earthworks_beside_a_plain_one_keeps_its_area_and_dates() -> None:
    """Joined or not, the pads cover the whole pad, and no pad says it was levelled after it
    was first seen."""
    parts = (Part(0.5, FIRST), Part(0.5, FIRST + 11, levelled=FIRST + 7))
    stack, clear, (rows, cols) = _staged_pad(6, parts)
    pads = _pads(stack, clear)
    assert sum(o.area_m2 for o in pads) == pytest.approx(rows * cols * 100, rel=0.15)
    assert min(o.first_index for o in pads) == FIRST
    for o in pads:
        assert o.earthworks_first_index is None or o.earthworks_first_index < o.first_index


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
    sections = [Section(1, 0, 0, c), Section(2, 100, 100, c), Section(3, 60, 60, c), Section(4, 10, 10, c)]
    assert staged_pairs(sections, labels, max_days=130, tolerance=0.2) == [(1, 2), (0, 1)]
    assert staged_pairs(sections, labels, max_days=50, tolerance=0.2) == [(1, 2)]
    dark = Section(3, 60, 60, {"B04": 0.09, "B08": 0.11})
    assert staged_pairs([*sections[:2], dark, sections[3]], labels, max_days=130, tolerance=0.2) == [(0, 1)]


def test_a_pad_joined_from_sections_counts_its_gap_from_its_nearest_section() -> None:
    labels = np.zeros((6, 20), int)
    labels[1:5, 1:9] = 1
    labels[1:5, 9:14] = 2
    c = {"B04": 0.28, "B08": 0.31}
    joined, third = Section(1, 0, 70, c), Section(2, 140, 140, c)
    assert staged_pairs([joined, third], labels, max_days=100, tolerance=0.2) == [(0, 1)]
    assert staged_pairs([Section(1, 0, 0, c), third], labels, max_days=100, tolerance=0.2) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ground_levelled_as_a_whole_and_surfaced_in_sections_is_dated_by_its_first(seed: int) -> None:
    """One object from the levelling on (its pixels all broke then); its median spectrum turns
    concrete only with the second, larger section, months after the first was laid."""
    parts = (Part(0.4, FIRST, levelled=FIRST - 4), Part(0.6, FIRST + 9, levelled=FIRST - 4))
    stack, clear, (rows, cols) = _staged_pad(seed, parts)
    pads = _pads(stack, clear)
    assert len(pads) == 1, [(o.area_m2, o.first_index) for o in pads]
    pad = pads[0]
    assert pad.after_earthworks and pad.earthworks_first_index == FIRST - 4
    assert FIRST <= pad.first_index <= FIRST + 1
    assert pad.completed_index is not None and pad.completed_index >= FIRST + 9
    assert pad.area_m2 == pytest.approx(rows * cols * 100, rel=0.15)


def test_surface_dates_are_each_pixels_first_confirmed_concrete_date() -> None:
    from sitewatch.objects.dating import surface_dates

    earth, concrete = EARTH * 10000, CONCRETE * 10000
    data = np.zeros((8, 6, 1, 3), np.float32)
    data[:] = earth[None, :, None, None]
    data[2:, :, 0, 0] = concrete  # laid on date 2
    data[5:, :, 0, 1] = concrete  # laid on date 5
    data[6, :, 0, 2] = concrete  # one concrete-looking date: not confirmed
    clear = np.ones((8, 1, 3), bool)
    clear[3, 0, 0] = False  # a cloudy date between the two that confirm it
    stack = make_stack(data, bands=B, dates=[f"2024-05-{d:02d}" for d in range(1, 9)])
    got = surface_dates(stack, clear, np.ones((1, 3), bool), 0, 7)
    assert got.tolist() == [2, 5, -1]


def test_a_first_section_levelled_first_dates_the_joined_pad_by_its_surface() -> None:
    stack, clear, (rows, cols) = _staged_pad(0, (Part(0.5, FIRST + 4, levelled=FIRST), Part(0.5, FIRST + 13)))
    pads = _pads(stack, clear)
    assert sum(o.area_m2 for o in pads) == pytest.approx(rows * cols * 100, rel=0.15)
    first = min(pads, key=lambda o: o.first_index)
    assert FIRST + 4 <= first.first_index <= FIRST + 5
    assert first.after_earthworks and first.earthworks_first_index == FIRST
