"""The shared reference windows (core.baseline): one choice for the optical history and the radar."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.baseline import date_bins, reference_bins, reference_index_windows, year_bins


def test_reference_bins_are_the_recent_bins_and_last_years_season():
    assert reference_bins(14, recent=3, season=1, year=12) == [1, 2, 3, 11, 12, 13]
    # last year's season is cut where the recent bins begin, and never reaches bin 0's left
    assert reference_bins(13, recent=3, season=1, year=12) == [0, 1, 2, 10, 11, 12]
    assert reference_bins(2, recent=3, season=1, year=12) == [0, 1]
    assert reference_bins(0, recent=3, season=1, year=12) == []


@pytest.mark.parametrize("seed", range(6))
def test_index_windows_select_exactly_the_reference_bins(seed):
    """Per acquisition, the two index ranges hold the acquisitions whose bins reference_bins lists."""
    rng = np.random.default_rng(seed)
    days = np.sort(rng.choice(900, int(rng.integers(2, 90)), replace=False))
    bin_days, recent, season = int(rng.integers(5, 40)), int(rng.integers(0, 5)), int(rng.integers(0, 3))
    bins = date_bins(days, bin_days)
    windows = reference_index_windows(days, bin_days=bin_days, recent_bins=recent, season_bins=season)
    for k, (r0, r1, s0, s1) in enumerate(windows):
        chosen = set(reference_bins(int(bins[k]), recent=recent, season=season, year=year_bins(bin_days)))
        got = [*range(r0, r1), *range(s0, s1)]
        assert len(got) == len(set(got))
        assert sorted(got) == [i for i in range(days.size) if bins[i] in chosen]


def test_history_engine_takes_its_bins_from_the_shared_choice(monkeypatch):
    """The optical engine asks core.baseline for its reference bins (one decision, two users)."""
    from sitewatch.core import history_engine

    asked: list[int] = []

    def spy(b: int, **kw: int) -> list[int]:
        asked.append(b)
        return reference_bins(b, **kw)

    monkeypatch.setattr(history_engine, "reference_bins", spy)
    rng = np.random.default_rng(0)
    days = np.arange(0, 400, 10)
    values = rng.random((days.size, 6, 16)).astype(np.float32) * 0.3
    history_engine.break_arrays(values, np.ones((days.size, 16), bool), days)
    assert asked == list(range(int(days[-1] // 30) + 1))
