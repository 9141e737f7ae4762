from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.indices import compute_indices, normalized_difference
from sitewatch.errors import BandMissingError, ConfigError
from synthetic import make_stack

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")


def test_values_match_formulas() -> None:
    vals = np.array([500, 800, 600, 3000, 2000, 1500], np.float32)
    stack = make_stack(np.broadcast_to(vals[:, None, None], (6, 4, 5)).copy(), bands=BANDS)
    idx = compute_indices(stack)
    assert idx.dims == ("time", "index", "y", "x")
    got = {str(k): float(idx.sel(index=k).values[0, 0, 0]) for k in idx.coords["index"].values}
    b02, b03, b04, b08, b11, b12 = vals
    assert got["ndvi"] == pytest.approx((b08 - b04) / (b08 + b04))
    assert got["ndbi"] == pytest.approx((b11 - b08) / (b11 + b08))
    assert got["bsi"] == pytest.approx(((b11 + b04) - (b08 + b02)) / ((b11 + b04) + (b08 + b02)))
    assert got["mndwi"] == pytest.approx((b03 - b11) / (b03 + b11))
    assert got["swir_ratio"] == pytest.approx(b12 / b11)
    assert got["brightness"] == pytest.approx(vals.mean() / 10000)
    assert "spatial_ref" in idx.coords


def test_nan_and_zero_sum() -> None:
    out = normalized_difference(np.array([0.0, np.nan, 1.0]), np.array([0.0, 1.0, 1.0]))
    assert np.isnan(out[0]) and np.isnan(out[1]) and out[2] == 0


def test_only_possible_indices_by_default_and_errors() -> None:
    stack = make_stack(np.ones((3, 2, 2), np.float32), bands=("B02", "B04", "B08"))
    names = list(compute_indices(stack).coords["index"].values)
    assert "ndvi" in names and "ndbi" not in names
    with pytest.raises(BandMissingError, match="B11"):
        compute_indices(stack, indices=["ndbi"])
    with pytest.raises(ConfigError):
        compute_indices(stack, indices=["nope"])


def test_single_date_without_time() -> None:
    stack = make_stack(np.ones((6, 2, 2), np.float32), bands=BANDS).isel(time=0)
    assert compute_indices(stack).dims == ("index", "y", "x")
