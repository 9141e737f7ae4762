from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.normalize import normalize
from sitewatch.errors import AllCloudyError
from synthetic import make_stack

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")


def _scene(seed: int = 0, h: int = 80, w: int = 80) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = np.array([500, 800, 700, 2500, 2200, 1500], np.float32)[:, None, None]
    return (base * (1 + 0.3 * rng.random((6, h, w)))).astype(np.float32)


def test_recovers_gain_and_offset_despite_changes() -> None:
    before = _scene()
    gains = np.array([0.8, 0.9, 1.1, 1.2, 0.95, 1.05], np.float32)[:, None, None]
    offsets = np.array([100, -50, 30, 0, 200, -100], np.float32)[:, None, None]
    after = gains * before + offsets
    after[:, :20, :20] = 9000  # a changed block (10 % of pixels) must not steer the fit
    b = make_stack(before, bands=BANDS)
    a = make_stack(after, bands=BANDS, dates=("2024-09-01",))
    out, norm = normalize(a, b)
    np.testing.assert_allclose(out.values[0, :, 20:, 20:], before[:, 20:, 20:], rtol=1e-3, atol=1.0)
    assert norm.gains["B02"] == pytest.approx(1 / 0.8, rel=1e-3)
    assert 0.8 < norm.invariant_fraction < 0.95
    assert norm.rmse_after["B02"] < norm.rmse_before["B02"]
    assert out.dims == a.dims and out.coords["time"].values[0] == a.coords["time"].values[0]
    assert set(norm.to_dict()) >= {"gains", "offsets", "invariant_fraction"}


def test_clear_mask_restricts_the_fit() -> None:
    before = _scene()
    after = before * 2
    after[:, :40] = before[:, :40] * 3  # a different relation in the cloudy half
    clear = np.zeros(before.shape[1:], bool)
    clear[40:] = True
    _, norm = normalize(make_stack(after, bands=BANDS), make_stack(before, bands=BANDS), clear=clear)
    assert norm.gains["B08"] == pytest.approx(0.5, rel=1e-3)


def test_too_few_clear_pixels() -> None:
    s = make_stack(_scene(), bands=BANDS)
    with pytest.raises(AllCloudyError):
        normalize(s, s, clear=np.zeros((80, 80), bool))


def _evidence(stack):
    from sitewatch.core.normalize import OffsetEvidence, offset_evidence

    return OffsetEvidence(*(np.asarray(x) for x in offset_evidence(stack)))


@pytest.fixture(scope="module")
def real_pairs(oscd_dir):
    """Real L1C scenes (2016-2018, no offset in their numbers): green cities and bright deserts."""
    import warnings

    from sitewatch.providers.local import open_scene

    bands = ["B02", "B03", "B04", "B08", "B11", "B12"]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for city in ("paris", "cupertino", "abudhabi", "dubai", "lasvegas"):
            out[city] = [
                open_scene(oscd_dir / "images" / city / d, bands=bands) for d in ("imgs_1", "imgs_2")
            ]
    return out


def test_real_scenes_read_as_they_are_agree_with_no_offset(real_pairs) -> None:
    from sitewatch.core.normalize import offset_mismatches

    for city, (a, b) in real_pairs.items():
        for stack in (a, b):
            assert offset_mismatches(_evidence(stack), np.array([0.0])) == ([], []), city


def test_real_scenes_with_1000_wrongly_removed_are_found_where_they_have_dark_ground(real_pairs) -> None:
    """A reader that takes the +1000 off numbers that never carried it: dark ground goes far below zero."""
    from sitewatch.core.normalize import offset_mismatches

    for city in ("paris", "cupertino"):
        for stack in real_pairs[city]:
            assert offset_mismatches(_evidence(stack - 1000.0), np.array([-1000.0]))[0] == [0], city


def test_real_scenes_still_carrying_the_offset_are_found_and_deserts_are_not(real_pairs) -> None:
    """Numbers still carrying +1000, read as if they did not: no pixel dark enough for real ground."""
    from sitewatch.core.normalize import offset_mismatches

    for city, pair in real_pairs.items():
        carried = [s + 1000.0 for s in pair]
        ev = [_evidence(s) for s in carried]
        pooled = type(ev[0])(
            *(np.concatenate([getattr(e, f) for e in ev]) for f in ("valid", "below_zero", "below_floor"))
        )
        assert offset_mismatches(pooled, np.zeros(2))[1] == [0, 1], city
        # the desert as it is (bright sand, TOA haze) is not mistaken for it
        plain = [_evidence(s) for s in pair]
        pooled = type(ev[0])(
            *(np.concatenate([getattr(e, f) for e in plain]) for f in ("valid", "below_zero", "below_floor"))
        )
        assert offset_mismatches(pooled, np.zeros(2))[1] == [], city


def test_unknown_offsets_are_not_judged() -> None:
    from sitewatch.core.normalize import OffsetEvidence, offset_mismatches

    ev = OffsetEvidence(np.array([10**6]), np.array([10**6]), np.array([0]))
    assert offset_mismatches(ev, np.array([np.nan])) == ([], [])
