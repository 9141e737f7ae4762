"""The site's own null for an outline's radar change (core.sar_null)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sitewatch.core.sar_null import outline_significance
from sitewatch.errors import DataError
from synthetic_s1 import Change, s1_series

PAD = (slice(30, 36), slice(30, 36))


def _mask(shape: tuple[int, int], rows: slice, cols: slice) -> np.ndarray:
    m = np.zeros(shape, bool)
    m[rows, cols] = True
    return m


@pytest.fixture(scope="module")
def pad_series():
    """A 6 x 6 pad 2 dB darker (as gravel or a small concrete pad) from 2023-09-01, nothing else."""
    return s1_series(shape=(96, 96), changes=[Change(*PAD, "2023-09-01", -2.0, -2.0)], seed=11)


def test_a_small_darkening_stands_out_from_the_quiet_site(pad_series):
    sig = outline_significance(
        pad_series, _mask((96, 96), *PAD), event_start=dt.date(2023, 8, 25), event_end=dt.date(2023, 9, 1)
    )
    assert sig.z < -5 and sig.agree
    assert {o.orbit for o in sig.orbits} == {"A014", "D079"}
    assert sig.n_positions > 1000


def test_the_same_outline_on_unchanged_ground_does_not(pad_series):
    sig = outline_significance(
        pad_series,
        _mask((96, 96), slice(60, 66), slice(60, 66)),
        event_start=dt.date(2023, 8, 25),
        event_end=dt.date(2023, 9, 1),
    )
    assert abs(sig.z) < 3


def test_a_change_shared_by_the_whole_site_is_not_unusual():
    """Half the site darkens at once (a harvest over the fields around): the outline inside it is common."""
    half = Change(slice(0, 96), slice(0, 48), "2023-09-01", -2.0, -2.0)
    stack = s1_series(shape=(96, 96), changes=[half], seed=12)
    sig = outline_significance(
        stack,
        _mask((96, 96), slice(40, 46), slice(10, 16)),
        event_start=dt.date(2023, 8, 25),
        event_end=dt.date(2023, 9, 1),
    )
    assert abs(sig.z) < 5


def test_an_empty_outline_is_refused(pad_series):
    with pytest.raises(DataError, match="no pixel"):
        outline_significance(
            pad_series,
            np.zeros((96, 96), bool),
            event_start=dt.date(2023, 8, 25),
            event_end=dt.date(2023, 9, 1),
        )
