"""The band requirement: one decision for scan and compare (core/bands.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.core.bands import SCAN_BANDS, STAND_INS, as_scan_bands, nir_band, plan_bands, plan_series
from sitewatch.errors import BandMissingError
from synthetic import make_stack

FULL = ["B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"]


def test_a_full_set_is_complete_and_loads_the_six_bands_and_scl() -> None:
    plan = plan_bands(FULL)
    assert plan.complete and plan.bands == SCAN_BANDS and plan.load == (*SCAN_BANDS, "SCL")
    assert plan.note() is None and plan.evidence() == {} and plan.confidence_factor() == 1.0


@pytest.mark.parametrize(
    ("have", "bands", "missing", "stand_ins"),
    [
        (["B02", "B03", "B04", "B08", "B11"], ("B02", "B03", "B04", "B08", "B11"), ("B12",), {}),
        (["B02", "B03", "B04", "B08", "B12"], ("B02", "B03", "B04", "B08", "B12"), ("B11",), {}),
        (["B02", "B03", "B04", "B8A", "B11", "B12"], SCAN_BANDS, (), {"B08": "B8A"}),
    ],
)
def test_partial_sets_are_planned_with_what_they_lack(have, bands, missing, stand_ins) -> None:
    plan = plan_bands(have)
    assert plan.bands == bands and plan.missing == missing and dict(plan.stand_ins) == stand_ins
    assert not plan.complete and 0.5 < plan.confidence_factor() < 1.0
    note = plan.note()
    assert note is not None and note.startswith("bands: ")
    assert all(b in note for b in (*missing, *stand_ins))


@pytest.mark.parametrize(
    ("names", "nir"),
    [
        (["B02", "B03", "B04", "B08", "B11"], "B08"),
        (["B02", "B03", "B04", "B8A", "B11"], "B8A"),
        (["B04", "B8A", "B08", "SCL"], "B08"),
        (["B02", "B03", "B04", "B11", "B12", "SCL"], None),
        ([], None),
    ],
    ids=["b08", "only-b8a", "both", "neither", "empty"],
)
def test_nir_band_is_b08_else_its_stand_in_else_none(names, nir) -> None:
    assert nir_band(names) == nir
    assert nir_band(np.array(names, dtype=str)) == nir  # a stack's band coordinate
    assert nir_band(iter(names)) == nir  # any iterable, read once
    assert nir in (None, "B08", STAND_INS["B08"])


def test_without_b11_confidence_drops_more_than_without_b12() -> None:
    no_b11 = plan_bands(["B02", "B03", "B04", "B08", "B12"]).confidence_factor()
    no_b12 = plan_bands(["B02", "B03", "B04", "B08", "B11"]).confidence_factor()
    assert no_b11 < no_b12 < 1.0


@pytest.mark.parametrize(
    ("have", "needed"),
    [
        (["B02", "B03", "B04", "B08", "SCL"], "B11 or B12"),
        (["B03", "B04", "B08", "B11"], "B02"),
        (["B02", "B03", "B04", "B11", "B12"], "B08 (or B8A)"),
    ],
)
def test_what_cannot_be_scanned_is_one_line_naming_what_is_there_and_needed(have, needed) -> None:
    with pytest.raises(BandMissingError) as err:
        plan_bands(have, what="scene X")
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("scene X: no ") and needed in msg.split("(bands there")[0]
    assert ", ".join(sorted(b for b in have if b != "SCL")) in msg
    assert "B02, B03, B04, B08 (or B8A) and B11 or B12" in msg


def test_a_series_uses_common_bands_and_names_the_scenes_that_lack_one() -> None:
    series = plan_series({"a": FULL, "b": FULL, "c": [b for b in FULL if b != "B12"]})
    assert series.keep == ("a", "b", "c") and series.plan.missing == ("B12",)
    assert series.warnings == (
        "band B12 is missing from scene c (1 of 3); the scan uses the bands all scenes share",
    )


def test_a_scene_without_a_needed_band_is_left_out_by_name() -> None:
    series = plan_series({"a": FULL, "b": [b for b in FULL if b != "B04"], "c": FULL})
    assert series.keep == ("a", "c") and series.plan.complete
    assert list(series.skipped) == ["b"] and "B04" in series.skipped["b"]
    assert any(w.startswith("scene b lacks B04") for w in series.warnings)


def test_a_series_mostly_short_of_a_band_is_refused_naming_a_scene() -> None:
    short = [b for b in FULL if b != "B02"]
    with pytest.raises(BandMissingError, match="2 of 3 scenes lack .*scene b lacks B02"):
        plan_series({"a": FULL, "b": short, "c": short})


def test_a_stand_in_is_renamed_in_the_stack_and_the_plan_travels_in_attrs() -> None:
    plan = plan_bands(["B02", "B03", "B04", "B8A", "B11"])
    stack = make_stack(np.ones((5, 4, 4), np.float32), bands=plan.load)
    out = as_scan_bands(stack, plan)
    assert list(out.coords["band"].values) == ["B02", "B03", "B04", "B08", "B11"]
    assert out.attrs["bands_missing"] == ("B12",) and out.attrs["band_stand_ins"] == {"B08": "B8A"}
    assert np.shares_memory(out.values, stack.values)
