"""Typing rules: each fires on its case and explains itself."""

from __future__ import annotations

import pytest

from sitewatch.objects.classify import (
    ObjectFacts,
    classify_object,
    is_asphalt_like,
    is_built_like,
    is_concrete_like,
    is_earth_like,
    spectral_indices,
)
from sitewatch.objects.evacuation import facility_share

B = ("B02", "B03", "B04", "B08", "B11", "B12")


def spec(*values: float) -> dict[str, float]:
    return dict(zip(B, values, strict=True))


SOIL = spec(0.11, 0.15, 0.20, 0.26, 0.36, 0.30)
GREEN = spec(0.03, 0.065, 0.04, 0.42, 0.22, 0.10)
CONCRETE = spec(0.24, 0.26, 0.28, 0.31, 0.33, 0.29)
ASPHALT = spec(0.07, 0.08, 0.09, 0.11, 0.13, 0.12)
EARTH = spec(0.23, 0.27, 0.31, 0.34, 0.43, 0.37)
ROOFS = spec(0.30, 0.31, 0.32, 0.34, 0.35, 0.32)
GRAVEL = spec(0.17, 0.20, 0.23, 0.27, 0.32, 0.28)


def facts(**kw: object) -> ObjectFacts:
    base = dict(
        area_m2=18000.0,
        length_m=193.0,
        width_m=94.0,
        orientation_deg=75.0,
        rectangularity=0.95,
        before=SOIL,
        after_early=CONCRETE,
        after_late=CONCRETE,
    )
    base.update(kw)
    return ObjectFacts(**base)  # type: ignore[arg-type]


def test_surface_tests():
    assert is_concrete_like(CONCRETE) and not is_concrete_like(SOIL) and not is_concrete_like(EARTH)
    assert is_asphalt_like(ASPHALT) and not is_asphalt_like(SOIL)
    assert is_earth_like(EARTH) and not is_earth_like(SOIL) and not is_earth_like(CONCRETE)
    assert is_built_like(ROOFS) and not is_built_like(GREEN) and not is_built_like(SOIL)
    assert spectral_indices(GREEN)["ndvi"] > 0.8


def test_new_pad():
    c = classify_object(facts())
    assert c.change_type == "new_pad"
    assert c.detail is None
    assert "concrete-like" in c.reasons[0]


def test_pad_after_earthworks_is_linked():
    c = classify_object(facts(after_early=EARTH, has_second_change=True, before=GREEN))
    assert c.change_type == "new_pad"
    assert c.detail == "after earthworks"
    assert c.extra["after_earthworks"] is True


def test_too_small_or_too_elongated_is_not_a_pad():
    assert classify_object(facts(area_m2=300.0, length_m=20, width_m=15)).change_type != "new_pad"
    assert classify_object(facts(length_m=300, width_m=30, rectangularity=0.9)).change_type != "new_pad"


def test_runway_extension_reports_added_length():
    c = classify_object(
        facts(
            area_m2=13500.0,
            length_m=300.0,
            width_m=45.0,
            after_early=ASPHALT,
            after_late=ASPHALT,
            runway_adjacent=True,
            runway_length_m=1700.0,
        )
    )
    assert (c.change_type, c.detail) == ("runway_change", "extension")
    assert c.extra["added_length_m"] == pytest.approx(300.0)
    assert c.extra["runway_length_after_m"] == pytest.approx(2000.0)


def test_a_protruding_pixel_does_not_make_an_extension_too_wide_for_a_strip():
    # a 300 m x 55 m extension whose bounding rectangle mixed corner pixels widened to 110 m
    strip = dict(length_m=300.0, width_m=110.0, after_early=ASPHALT, after_late=ASPHALT, runway_adjacent=True)
    c = classify_object(facts(area_m2=16500.0, rectangularity=0.5, **strip))
    assert (c.change_type, c.detail) == ("runway_change", "extension")
    # a block that wide all along is no strip
    wide = classify_object(facts(area_m2=32700.0, rectangularity=0.99, **strip))
    assert wide.change_type != "runway_change"


def test_new_runway_and_resurfacing():
    new = classify_object(
        facts(area_m2=72000.0, length_m=1600.0, width_m=45.0, after_early=ASPHALT, after_late=ASPHALT)
    )
    assert (new.change_type, new.detail) == ("runway_change", "new")
    resurf = classify_object(
        facts(
            area_m2=20000.0,
            length_m=450.0,
            width_m=45.0,
            before=ASPHALT,
            after_late=CONCRETE,
            runway_overlap=0.9,
        )
    )
    assert (resurf.change_type, resurf.detail) == ("runway_change", "resurfacing")


def test_evacuation_with_fraction():
    c = classify_object(
        facts(
            area_m2=60000.0,
            before=ROOFS,
            after_early=GRAVEL,
            after_late=GRAVEL,
            facility_overlap=0.9,
            facility_area_m2=120000.0,
            date_spread_days=40,
        )
    )
    assert c.change_type == "evacuation"
    # without a measured structure loss, the fraction affected is the object's share of its facility
    assert facility_share(60000.0, c.extra["facility_area_m2"]) == pytest.approx(0.5)
    assert any("40 days" in r for r in c.reasons)


def test_earthworks_and_other():
    assert classify_object(facts(after_early=EARTH, after_late=EARTH)).change_type == "earthworks"
    other = classify_object(facts(before=CONCRETE, after_early=GREEN, after_late=GREEN))
    assert other.change_type == "other"
    assert other.reasons
