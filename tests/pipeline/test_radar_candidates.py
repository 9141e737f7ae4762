"""Radar-only candidates on synthetic series: small pads found, neighbours of other dates kept apart."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sitewatch.core.sar import detect_sar_breaks
from sitewatch.pipeline.radar_stage import _changes, _revisit_days, _seed_pixels, radar_candidates
from synthetic_s1 import Change, s1_series


def _run(stack):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = detect_sar_breaks(stack)
        return ds, radar_candidates(ds, stack, aoi_name="t", alerts=[], clear=None)[0]


@pytest.fixture(scope="module")
def gravel_pad():
    """A 7 x 7 pad only 2 dB darker in VV and VH (gravel: rough at C-band), on quiet ground."""
    return s1_series(
        shape=(80, 80), changes=[Change(slice(20, 27), slice(40, 47), "2023-09-01", -2.0, -2.0)], seed=3
    )


def test_a_pad_darkening_by_two_db_is_a_candidate_and_nothing_else_is(gravel_pad):
    _, cands = _run(gravel_pad)
    hits = [(a, m) for a, m in cands if m[20:27, 40:47].mean() > 0.3]
    assert len(hits) == 1
    alert = hits[0][0]
    assert alert.change_type == "new_pad" and alert.source == "sar"
    assert (
        alert.first_detected is not None
        and abs((alert.first_detected - np.datetime64("2023-09-01").item()).days) <= 24
    )
    assert len(cands) == 1  # no false candidate on the quiet ground around


def test_touching_changes_of_different_dates_are_two_changes():
    early = Change(slice(10, 30), slice(10, 20), "2023-06-01", -6.0, -6.0)
    late = Change(slice(10, 30), slice(20, 30), "2023-11-01", -6.0, -6.0)
    stack = s1_series(shape=(48, 48), changes=[early, late], seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = detect_sar_breaks(stack)
    labels, _ = _changes(ds, _seed_pixels(ds), _revisit_days(stack))
    a = np.bincount(labels[12:28, 11:19].ravel()).argmax()
    b = np.bincount(labels[12:28, 21:29].ravel()).argmax()
    assert a > 0 and b > 0 and a != b
