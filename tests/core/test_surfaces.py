"""The surface tests: one vectorised module, the same answer for one spectrum and for arrays of them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sitewatch.core.surfaces import (
    SurfaceRules,
    asphalt_like,
    built_like,
    built_up_like,
    concrete_like,
    earth_like,
    soil_like,
    structure_like,
    surface_indices,
)

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
CONCRETE = dict(zip(BANDS, (0.24, 0.26, 0.28, 0.31, 0.33, 0.29), strict=True))
ASPHALT = dict(zip(BANDS, (0.07, 0.08, 0.09, 0.11, 0.12, 0.11), strict=True))
EARTH = dict(zip(BANDS, (0.23, 0.27, 0.31, 0.34, 0.43, 0.37), strict=True))
FIELD = dict(zip(BANDS, (0.04, 0.07, 0.05, 0.35, 0.20, 0.10), strict=True))
STUBBLE = dict(zip(BANDS, (0.12, 0.15, 0.19, 0.25, 0.33, 0.27), strict=True))
TESTS = (concrete_like, asphalt_like, earth_like, built_like, built_up_like, structure_like, soil_like)


@pytest.mark.parametrize(
    ("spectrum", "expected"),
    [
        (CONCRETE, {"concrete_like", "built_like", "built_up_like"}),
        (ASPHALT, {"asphalt_like", "built_like", "built_up_like"}),
        (EARTH, {"earth_like", "built_like", "built_up_like"}),
        (FIELD, set()),
        (STUBBLE, {"soil_like"}),
    ],
)
def test_each_surface_reads_as_itself(spectrum, expected):
    got = {t.__name__ for t in TESTS if bool(t(spectrum))}
    assert got == expected


def test_arrays_give_the_answer_of_each_spectrum():
    """A composite is tested pixel by pixel with the same thresholds as one object's mean spectrum."""
    spectra = [CONCRETE, ASPHALT, EARTH, FIELD, STUBBLE]
    stacked = {b: np.array([s[b] for s in spectra], np.float32) for b in BANDS}
    for test in TESTS:
        assert test(stacked).tolist() == [bool(test(s)) for s in spectra], test.__name__


def test_thresholds_come_from_the_rules():
    strict = dataclasses.replace(SurfaceRules(), concrete_min_blue=0.3)
    assert bool(concrete_like(CONCRETE)) and not bool(concrete_like(CONCRETE, strict))


def test_missing_bands_and_nan_fail_every_test():
    nan = dict.fromkeys(BANDS, float("nan"))
    assert not any(bool(t(nan)) for t in TESTS)
    no_swir = {b: v for b, v in STUBBLE.items() if b not in ("B11", "B12")}
    assert bool(soil_like(no_swir))  # the history may run without SWIR: that test is skipped
    assert np.isnan(surface_indices(no_swir)["swir_nir"])
