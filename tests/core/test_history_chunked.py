"""The per-pixel core on dask-backed stacks equals the in-memory core, whatever the chunking."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from sitewatch.core.history import HistoryParams, detect_breaks
from synthetic import make_stack

SOIL = np.array([1100, 1500, 2000, 2600, 3600, 3000], np.float32)
CONCRETE = np.array([2400, 2600, 2800, 3100, 3300, 2900], np.float32)
FIELD = np.array([400, 700, 500, 3800, 2300, 1200], np.float32)


def scene_series(n_t: int = 30, size: int = 40, seed: int = 3) -> tuple[xr.DataArray, np.ndarray]:
    """Soil and fields with haze gradients, clouds, and two pads built on different dates."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_t)[:, None, None, None]
    green = 0.5 + 0.5 * np.sin(2 * np.pi * t / 36.0)
    base = np.broadcast_to(SOIL[None, :, None, None], (n_t, 6, size, size)).copy()
    field = np.zeros((size, size), bool)
    field[:, size // 2 :] = True
    base[:, :, field] = (SOIL[None, :, None] + (FIELD - SOIL)[None, :, None] * green[:, :, :, 0])[..., :1]
    base[10:, :, 5:12, 4:14] = CONCRETE[None, :, None, None]
    base[18:, :, 25:33, 24:36] = CONCRETE[None, :, None, None]
    yy, xx = np.mgrid[0:size, 0:size] / size
    haze = rng.normal(0, 80, (n_t, 1, 1, 1)) * (1 + yy + 0.5 * xx)[None, None]
    data = (base + haze + rng.normal(0, 40, base.shape)).astype(np.float32)
    clear = rng.random((n_t, size, size)) > 0.15
    dates = [str(np.datetime64("2024-01-01") + np.timedelta64(10 * i, "D")) for i in range(n_t)]
    return make_stack(data, dates=dates), clear


@pytest.mark.parametrize("chunk", [13, 40])
def test_chunked_equals_in_memory(chunk):
    stack, clear = scene_series()
    eager = detect_breaks(stack, clear)
    lazy = detect_breaks(
        stack.chunk({"y": chunk, "x": chunk}),
        xr.DataArray(clear, dims=("time", "y", "x")).chunk({"y": chunk, "x": chunk}),
    )
    assert lazy["changed"].chunks is not None  # lazy until asked
    got = lazy.compute()
    assert int(eager["changed"].sum()) > 100  # the pads are found at all
    for name in eager.data_vars:
        if eager[name].dtype.kind == "f":  # float32 sums taken over other block sizes round alike to 1e-6
            np.testing.assert_allclose(got[name].values, eager[name].values, rtol=1e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(got[name].values, eager[name].values, err_msg=name)
    assert got["first_detected"].dtype == eager["first_detected"].dtype


def test_chunked_integer_stack_and_numpy_mask():
    stack, clear = scene_series(seed=5)
    dn = stack.astype(np.uint16).chunk({"y": 16, "x": 16})
    got = detect_breaks(dn, clear, params=HistoryParams(normalize=False)).compute()
    eager = detect_breaks(
        stack.astype(np.uint16).astype(np.float32), clear, params=HistoryParams(normalize=False)
    )
    np.testing.assert_array_equal(got["break_index"].values, eager["break_index"].values)
    assert got["changed"].values[5:12, 4:14].mean() > 0.9
    assert not got["changed"].values[0:4, 0:4].any()


def test_chunked_scores_and_errors():
    stack, clear = scene_series(n_t=12, size=20)
    ds = detect_breaks(stack.chunk({"y": 10, "x": 10}), clear, return_scores=True)
    assert ds["score_t"].shape == (12, 20, 20)
    from sitewatch.errors import DataError

    with pytest.raises(DataError, match="clear mask shape"):
        detect_breaks(stack.chunk({"y": 10}), clear[:, :5])
    with pytest.raises(DataError, match="time order"):
        detect_breaks(stack.isel(time=slice(None, None, -1)).chunk({"y": 10}), clear)
