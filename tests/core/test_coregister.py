from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sitewatch.core.coregister import Shift, apply_shift, coregister, estimate_shift, pixel_size_m
from sitewatch.errors import DataError, RegistrationError
from synthetic import make_stack


def _texture(h: int = 256, w: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (1000 + 300 * ndimage.gaussian_filter(rng.standard_normal((h, w)), 2.0)).astype(np.float32)


@pytest.mark.parametrize("true", [(0.0, 0.0), (1.3, -0.7), (-2.25, 0.4), (0.1, 0.05)])
def test_synthetic_shift_within_a_tenth_of_a_pixel(true: tuple[float, float]) -> None:
    ref = _texture(300, 300)
    moving = ndimage.shift(ref, true, order=3, mode="reflect")
    s = estimate_shift(ref[20:-20, 20:-20], moving[20:-20, 20:-20], pixel_size=(10.0, 10.0))
    # the shift that registers moving onto ref undoes the applied one
    assert s.dy == pytest.approx(-true[0], abs=0.1)
    assert s.dx == pytest.approx(-true[1], abs=0.1)
    assert s.dy_m == pytest.approx(10 * s.dy)


def test_radiometric_change_does_not_fool_it() -> None:
    ref = _texture()
    moving = 0.6 * ndimage.shift(ref, (1.0, 0.5), order=3, mode="reflect") + 200
    s = estimate_shift(ref, moving)
    assert (s.dy, s.dx) == (pytest.approx(-1.0, abs=0.1), pytest.approx(-0.5, abs=0.1))


def test_tiles_agree_on_a_large_image() -> None:
    ref = _texture(600, 600)
    s = estimate_shift(ref, ndimage.shift(ref, (0.5, 0.5), order=3, mode="reflect"), tile_px=200)
    assert s.n_tiles >= 4
    assert s.tile_spread_px is not None and s.tile_spread_px < 0.2
    assert s.reliable


def test_apply_shift_roundtrip_and_nan() -> None:
    ref = _texture(64, 64)
    moved = apply_shift(ref, (0, 2))
    assert np.isnan(moved[:, :2]).all()
    np.testing.assert_allclose(moved[:, 2:], ref[:, :-2], rtol=1e-5)
    img = ref.copy()
    img[10, 10] = np.nan
    out = apply_shift(img, Shift(dy=1.0, dx=0.0))
    assert np.isnan(out[11, 10])


def test_coregister_stack_and_refusal() -> None:
    ref = _texture(128, 128)
    moving = ndimage.shift(ref, (1.0, -1.0), order=3, mode="reflect")
    stack = make_stack(np.stack([moving, moving * 1.1])[None], bands=("B04", "B08"))
    out, shifts = coregister(stack, ref)
    assert shifts[0].applied
    assert shifts[0].dy == pytest.approx(-1.0, abs=0.1)
    inner = out.sel(band="B08").values[0, 5:-5, 5:-5]
    assert np.nanmean(np.abs(inner - 1.1 * ref[5:-5, 5:-5])) < 10
    far = make_stack(np.stack([np.roll(ref, 6, axis=0)] * 2)[None], bands=("B04", "B08"))
    with pytest.raises(RegistrationError, match="px"):
        coregister(far, ref, max_shift_px=3)


def test_bad_inputs() -> None:
    with pytest.raises(DataError):
        estimate_shift(np.zeros((10, 10)), np.zeros((12, 10)))
    with pytest.raises(DataError):
        estimate_shift(np.full((64, 64), np.nan), np.zeros((64, 64)))


def test_pixel_size_of_geographic_grid() -> None:
    from odc.geo.geobox import GeoBox

    g = GeoBox.from_bbox((2.3, 48.8, 2.4, 48.9), "EPSG:4326", resolution=0.0001)
    h, w = pixel_size_m(g)
    assert h == pytest.approx(11.1, abs=0.1)
    assert w == pytest.approx(7.3, abs=0.1)


@pytest.mark.e2e
def test_real_misregistered_pair(shared_dir) -> None:
    import rasterio
    from rasterio.windows import from_bounds

    folder = shared_dir / "data" / "coregistration"
    ref_path = next(folder.glob("ref_*.jp2"))
    tgt_path = next(folder.glob("tgt_*.jp2"))
    with rasterio.open(ref_path) as r, rasterio.open(tgt_path) as t:
        # a 1000 x 1000 px (10 km) window inside the overlap, read from both on the same grid
        left = max(r.bounds.left, t.bounds.left) + 2000
        top = min(r.bounds.top, t.bounds.top) - 2000
        box = (left, top - 10000, left + 10000, top)
        ref = r.read(1, window=from_bounds(*box, r.transform)).astype(np.float32)
        tgt = t.read(1, window=from_bounds(*box, t.transform)).astype(np.float32)
    s = estimate_shift(ref, tgt, pixel_size=(10.0, 10.0))
    print(
        f"real pair shift: dy={s.dy:.2f} px dx={s.dx:.2f} px ({s.dy_m:.1f} m, {s.dx_m:.1f} m), "
        f"tile spread {s.tile_spread_px}"
    )
    assert 0.5 <= s.magnitude_px <= 3.0
    assert s.reliable
    assert s.to_dict()["magnitude_px"] == pytest.approx(s.magnitude_px, abs=1e-3)

    # applying the shift makes the two images agree better
    def err(a: np.ndarray, b: np.ndarray) -> float:
        ok = np.isfinite(a) & np.isfinite(b)
        return float(np.corrcoef(a[ok], b[ok])[0, 1])

    assert err(ref, apply_shift(tgt, s)) > err(ref, tgt)


def test_apply_shift_matches_scipy_bilinear_shift() -> None:
    from scipy import ndimage

    from sitewatch.core.coregister import apply_shift

    rng = np.random.default_rng(11)
    for _ in range(40):
        image = rng.normal(1000, 200, (37, 41)).astype(np.float32)
        dy, dx = rng.uniform(-3, 3, 2)
        ours = np.asarray(apply_shift(image, (dy, dx)))
        ref = ndimage.shift(image.astype(np.float64), (dy, dx), order=1, mode="constant", cval=np.nan)
        assert np.array_equal(np.isnan(ours), np.isnan(ref)), (dy, dx)
        ok = ~np.isnan(ref)
        np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-5, atol=1e-2)
