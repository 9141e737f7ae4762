"""Typing relative to the site: mixed strips, aged surfaces, and the site's own ground, by linear unmixing."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from odc.geo.geobox import GeoBox

from sitewatch.core.surfaces import DEFAULT_RULES, asphalt_like, concrete_like, earth_like, paved_prior
from sitewatch.objects.classify import ObjectFacts, classify_object, relative_surface
from sitewatch.objects.context import EarlyContext, find_runways, site_surfaces
from sitewatch.objects.continuation import runway_in_line
from sitewatch.objects.unmix import fit_endmembers

B = ("B02", "B03", "B04", "B08", "B11", "B12")


def spec(*values: float) -> dict[str, float]:
    return dict(zip(B, values, strict=True))


def mix(a: dict[str, float], b: dict[str, float], f: float) -> dict[str, float]:
    return {k: f * a[k] + (1 - f) * b[k] for k in a}


# a red soil, aged asphalt whose SWIR rises (fails the absolute asphalt test), aged concrete
# whose SWIR/NIR sits above the absolute concrete limit, and levelled ground of that soil
SOIL = spec(0.11, 0.15, 0.20, 0.26, 0.36, 0.30)
AGED_ASPHALT = spec(0.12, 0.135, 0.15, 0.175, 0.215, 0.205)
AGED_CONCRETE = spec(0.18, 0.20, 0.225, 0.25, 0.295, 0.26)
EARTHWORKS = spec(0.20, 0.245, 0.30, 0.35, 0.47, 0.40)
SITE = {"ground": SOIL, "runway": AGED_ASPHALT}


def facts(**kw: object) -> ObjectFacts:
    base = dict(
        area_m2=9600.0,
        length_m=300.0,
        width_m=32.0,
        orientation_deg=75.0,
        rectangularity=0.9,
        before=SOIL,
        after_early=AGED_ASPHALT,
        after_late=AGED_ASPHALT,
        site_surfaces=SITE,
    )
    base.update(kw)
    return ObjectFacts(**base)  # type: ignore[arg-type]


def test_fit_endmembers_recovers_the_cover_of_a_mixed_strip():
    for cover in (0.35, 0.6, 0.9):
        mixed = mix(AGED_ASPHALT, SOIL, cover)
        fits = fit_endmembers(mixed, SOIL, {"runway": AGED_ASPHALT, "concrete": AGED_CONCRETE})
        assert fits[0].name == "runway"
        assert fits[0].cover == pytest.approx(cover, abs=0.02)
        assert fits[0].residual < 1e-6


def test_fit_endmembers_uses_the_bands_all_spectra_know():
    no_b12 = {k: v for k, v in mix(AGED_ASPHALT, SOIL, 0.5).items() if k != "B12"}
    fits = fit_endmembers(no_b12, SOIL, {"runway": AGED_ASPHALT})
    assert fits[0].cover == pytest.approx(0.5, abs=0.02)


def test_the_absolute_tests_fail_on_these_surfaces():
    # what the relative typing is for: none of them passes its absolute test when mixed
    strip = mix(AGED_ASPHALT, SOIL, 0.55)
    assert not bool(asphalt_like(strip)) and not bool(asphalt_like(AGED_ASPHALT))
    assert not bool(concrete_like(AGED_CONCRETE)) and bool(paved_prior(AGED_ASPHALT))


def test_a_mixed_strip_continuing_the_runway_is_an_extension():
    strip = mix(AGED_ASPHALT, SOIL, 0.55)  # 32 m wide: every pixel mixed
    f = facts(
        after_early=strip, after_late=strip, spectra_mixed=True, runway_adjacent=True, runway_length_m=1500.0
    )
    rel = relative_surface(f)
    assert rel.verdict == "paved" and rel.like_runway
    c = classify_object(f)
    assert (c.change_type, c.detail) == ("runway_change", "extension")
    assert c.extra["added_length_m"] == pytest.approx(300.0)
    assert any("runway" in r and "unmixed" in r for r in c.reasons)


def test_a_concrete_extension_of_a_concrete_runway():
    site = {"ground": SOIL, "runway": AGED_CONCRETE}
    strip = mix(AGED_CONCRETE, SOIL, 0.5)
    f = facts(
        after_early=strip, after_late=strip, site_surfaces=site, spectra_mixed=True, runway_adjacent=True
    )
    assert relative_surface(f).like_runway
    assert classify_object(f).detail == "extension"


GREEN_FIELD = spec(0.05, 0.09, 0.07, 0.38, 0.25, 0.14)


@pytest.mark.parametrize("cover", [0.35, 0.45, 0.5])
def test_a_strip_laid_in_a_field_harvested_beside_it_is_an_extension(cover: float) -> None:
    # the strip replaced a green field; after the change its edge pixels hold the field's bare
    # soil beside it, not the green it replaced: read against both, it is the runway's material
    strip = mix(AGED_ASPHALT, SOIL, cover)
    site = {**SITE, "soil": SOIL}
    f = facts(
        before=GREEN_FIELD, after_early=strip, after_late=strip, site_surfaces=site, runway_adjacent=True
    )
    assert relative_surface(f).like_runway
    assert (classify_object(f).change_type, classify_object(f).detail) == ("runway_change", "extension")
    # not beside a runway, the same spectrum is not read against the ground beside it
    alone = relative_surface(
        facts(before=GREEN_FIELD, after_early=strip, after_late=strip, site_surfaces=site)
    )
    assert alone.verdict != "paved"


def test_bare_soil_beside_a_runway_end_stays_soil() -> None:
    site = {**SITE, "soil": SOIL}
    dark_soil = {k: 0.8 * v for k, v in SOIL.items()}  # ploughed
    f = facts(
        before=GREEN_FIELD,
        after_early=dark_soil,
        after_late=dark_soil,
        site_surfaces=site,
        runway_adjacent=True,
    )
    assert relative_surface(f).verdict != "paved"
    assert classify_object(f).change_type != "runway_change"


def test_a_strip_that_stays_like_the_ground_is_not_paved():
    ew = mix(EARTHWORKS, SOIL, 0.6)
    f = facts(after_early=ew, after_late=ew, spectra_mixed=True, runway_adjacent=True)
    assert relative_surface(f).verdict != "paved"
    assert classify_object(f).change_type != "runway_change"


def test_an_aged_concrete_pad_is_a_pad_not_earthworks():
    f = facts(
        area_m2=18000.0, length_m=190.0, width_m=95.0, after_early=AGED_CONCRETE, after_late=AGED_CONCRETE
    )
    assert classify_object(f).change_type == "new_pad"


def test_levelled_ground_of_the_site_is_earthworks_not_a_pad():
    pale = spec(0.19, 0.23, 0.27, 0.31, 0.40, 0.33)  # pale calcareous ground
    subsoil = spec(0.23, 0.27, 0.31, 0.34, 0.43, 0.37)
    # the same ground, levelled: brighter, mixed with the subsoil it exposes
    levelled = mix({k: 1.2 * v for k, v in pale.items()}, subsoil, 0.5)
    f = facts(
        area_m2=18000.0,
        length_m=190.0,
        width_m=95.0,
        before=spec(0.05, 0.08, 0.06, 0.35, 0.2, 0.1),
        after_early=levelled,
        after_late=levelled,
        site_surfaces={"ground": pale},
    )
    assert relative_surface(f).verdict == "ground"
    assert classify_object(f).change_type != "new_pad"


def test_without_the_sites_ground_the_absolute_tests_decide():
    f = facts(site_surfaces={})
    assert relative_surface(f).verdict is None


def _grid(n: int = 80) -> GeoBox:
    return GeoBox.from_bbox((500000, 4000000, 500000 + 10 * n, 4000000 + 10 * n), "EPSG:32636", resolution=10)


def _early(comp: np.ndarray) -> EarlyContext:
    spec_ = {b: comp[i] for i, b in enumerate(B)}
    paved = paved_prior(spec_, DEFAULT_RULES)
    zero = np.zeros(comp.shape[1:], bool)
    return EarlyContext(
        composite=comp, asphalt=asphalt_like(spec_), built=zero, roofs=zero, paved=paved, bands=B
    )


def test_runways_of_aged_asphalt_or_concrete_are_found_with_their_spectra_and_roads_are_not():
    n = 80
    for surface in (AGED_ASPHALT, spec(0.27, 0.29, 0.31, 0.335, 0.36, 0.31)):
        comp = np.empty((6, n, n), np.float32)
        comp[:] = np.array([SOIL[b] for b in B], np.float32)[:, None, None]
        comp[:, 30:34, 5:75] = np.array([surface[b] for b in B], np.float32)[:, None, None]  # 700 m x 40 m
        comp[:, 60, 5:75] = np.array([AGED_ASPHALT[b] for b in B], np.float32)[:, None]  # a 10 m road
        early = _early(comp)
        assert not bool(earth_like(surface))
        runways = find_runways(early.paved, _grid(n), early)
        assert len(runways) == 1
        rw = runways[0]
        assert rw.length_m == pytest.approx(700, rel=0.05)
        assert rw.spectrum is not None and rw.spectrum["B08"] == pytest.approx(surface["B08"], abs=1e-3)
        surfaces = site_surfaces(early, runways)
        assert surfaces["runway"]["B11"] == pytest.approx(surface["B11"], abs=1e-3)
        assert surfaces["ground"]["B11"] == pytest.approx(SOIL["B11"], abs=1e-3)


# concrete aged and dusty past the absolute concrete test (SWIR/NIR 1.18) and too bright for the
# dark-pavement prior: the site's runway of it is not found by find_runways
DUSTY_CONCRETE = spec(0.19, 0.21, 0.23, 0.255, 0.30, 0.265)
GREEN = spec(0.04, 0.07, 0.05, 0.40, 0.22, 0.11)


def _site_with_runway(surface: dict[str, float], n: int = 90) -> tuple[np.ndarray, np.ndarray]:
    """A soil site with a 45 m wide strip of ``surface`` along rows 40-44, cols 5-60, and a
    change (what an extension would be) on its axis just beyond its end, cols 62-78."""
    comp = np.empty((6, n, n), np.float32)
    comp[:] = np.array([SOIL[b] for b in B], np.float32)[:, None, None]
    comp[:, 40:45, 5:61] = np.array([surface[b] for b in B], np.float32)[:, None, None]
    mask = np.zeros((n, n), bool)
    mask[40:45, 62:79] = True
    return comp, mask


def test_a_runway_the_pavement_prior_misses_is_read_in_line_beyond_a_strip():
    comp, mask = _site_with_runway(DUSTY_CONCRETE)
    early = _early(comp)
    assert not find_runways(early.paved, _grid(90), early)  # the prior misses it
    cont = runway_in_line(early, mask, SOIL, 10.0, SOIL)
    assert cont is not None
    assert cont.spectrum["B11"] == pytest.approx(DUSTY_CONCRETE["B11"], abs=1e-3)
    assert cont.length_m >= 400  # read up to CONTINUATION_PROBE_M
    # the strip became like it: an extension
    f = facts(
        length_m=170.0,
        width_m=50.0,
        after_early=DUSTY_CONCRETE,
        after_late=DUSTY_CONCRETE,
        runway_adjacent=True,
        site_surfaces={"ground": SOIL, "runway": cont.spectrum},
    )
    assert (classify_object(f).change_type, classify_object(f).detail) == ("runway_change", "extension")


def test_no_runway_in_line_on_ground_green_fields_or_a_narrow_track():
    comp, mask = _site_with_runway(SOIL)  # the ground runs on: nothing paved
    assert runway_in_line(_early(comp), mask, GREEN, 10.0, SOIL) is None
    comp, mask = _site_with_runway(GREEN)  # a green field in line is no runway
    assert runway_in_line(_early(comp), mask, SOIL, 10.0, SOIL) is None
    comp, mask = _site_with_runway(DUSTY_CONCRETE)
    comp[:] = np.array([SOIL[b] for b in B], np.float32)[:, None, None]
    comp[:, 42, 5:61] = np.array([DUSTY_CONCRETE[b] for b in B], np.float32)[:, None]  # a 10 m track
    assert runway_in_line(_early(comp), mask, SOIL, 10.0, SOIL) is None
    # a runway shorter than the change itself is not what it extends
    comp, mask = _site_with_runway(DUSTY_CONCRETE)
    comp[:, 40:45, 5:50] = np.array([SOIL[b] for b in B], np.float32)[:, None, None]
    assert runway_in_line(_early(comp), mask, SOIL, 10.0, SOIL) is None


def test_a_paved_strip_too_short_for_a_runway_is_a_pad_whatever_its_aspect():
    f = facts(length_m=240.0, width_m=30.0, after_early=AGED_CONCRETE, after_late=AGED_CONCRETE)
    assert relative_surface(f).verdict == "paved"
    assert classify_object(f).change_type == "new_pad"
    # a road-wide strip is not
    assert classify_object(facts(length_m=240.0, width_m=12.0)).change_type != "new_pad"


def test_levelled_earth_with_no_structure_paved_over_is_a_pad_not_an_evacuation():
    kw = dict(
        area_m2=8000.0,
        length_m=100.0,
        width_m=90.0,
        before=spec(0.23, 0.27, 0.31, 0.34, 0.43, 0.37),  # levelled pale subsoil
        after_early=AGED_ASPHALT,
        after_late=AGED_ASPHALT,
        facility_overlap=1.0,
    )
    assert classify_object(facts(**kw, structure_share_before=0.0)).change_type == "new_pad"
    # with structures on it before, their removal is an evacuation
    assert classify_object(facts(**kw, structure_share_before=0.3)).change_type == "evacuation"


def test_a_ploughed_field_is_the_sites_soil_not_dark_pavement():
    # the early composite's ground is stubble; over the series the fields are also bare soil
    stubble = spec(0.125, 0.165, 0.215, 0.275, 0.38, 0.315)
    dark_soil = spec(0.07, 0.085, 0.10, 0.13, 0.19, 0.17)
    ploughed = {b: dark_soil[b] * (0.8 if b in ("B02", "B03", "B04", "B08") else 0.75) for b in B}
    f = facts(
        area_m2=5000.0,
        length_m=100.0,
        width_m=50.0,
        before=stubble,
        after_early=ploughed,
        after_late=ploughed,
        site_surfaces={"ground": stubble},
    )
    with_soil = facts(**{**f.__dict__, "site_surfaces": {"ground": stubble, "soil": dark_soil}})
    rel = relative_surface(with_soil)
    assert rel.best is not None and rel.best.name == "soil" and rel.verdict != "paved"
    assert classify_object(with_soil).change_type != "new_pad"


def test_an_orchard_cleared_to_dark_soil_that_passes_for_asphalt_is_a_vegetation_loss():
    from sitewatch.core.surfaces import built_like
    from sitewatch.objects.classify import classify_vegetation_loss

    # a dark basalt soil: flat and dark enough for the absolute asphalt test
    dark_soil = spec(0.06, 0.07, 0.08, 0.105, 0.14, 0.13)
    assert bool(built_like(dark_soil))
    orchard = mix(spec(0.04, 0.07, 0.05, 0.40, 0.20, 0.10), dark_soil, 0.5)
    site = {"ground": dark_soil, "runway": AGED_ASPHALT}
    cleared = facts(
        area_m2=6000.0, length_m=100.0, width_m=60.0, before=orchard, after_early=dark_soil,
        after_late=dark_soil, site_surfaces=site,
    )  # fmt: skip
    got = classify_vegetation_loss(cleared, 0.9)
    assert got is not None and got.change_type == "vegetation_loss"
    # on a site whose own ground is paler, the object's means cannot tell that soil from
    # asphalt; the season test judged each pixel against its own bare ground, and that stands
    pale_site = {"ground": SOIL, "runway": AGED_ASPHALT}
    on_pale = dataclasses.replace(cleared, site_surfaces=pale_site)
    assert classify_vegetation_loss(on_pale, 0.9) is None
    judged = classify_vegetation_loss(on_pale, 0.9, ground_judged=True)
    assert judged is not None and judged.change_type == "vegetation_loss"
    # concrete laid where the orchard was is a pad, whatever the history says of the trees
    paved = facts(before=orchard, after_early=AGED_CONCRETE, after_late=AGED_CONCRETE, site_surfaces=site)
    assert classify_vegetation_loss(paved, 0.9) is None


def test_a_site_whose_soil_passes_for_asphalt_still_has_its_ground():
    # a dark soil the pavement prior takes for asphalt everywhere; a real runway on it
    dark_soil = spec(0.08, 0.091, 0.097, 0.134, 0.156, 0.141)
    assert bool(asphalt_like(dark_soil))
    n = 80
    comp = np.empty((6, n, n), np.float32)
    comp[:] = np.array([dark_soil[b] for b in B], np.float32)[:, None, None]
    concrete = spec(0.27, 0.29, 0.31, 0.335, 0.36, 0.31)
    comp[:, 30:34, 5:75] = np.array([concrete[b] for b in B], np.float32)[:, None, None]
    early = _early(comp)
    surfaces = site_surfaces(early, ())
    # most of its bare area is that soil: the site's ground, not pavement
    assert surfaces["ground"]["B08"] == pytest.approx(dark_soil["B08"], abs=0.01)
    assert surfaces["ground"]["B11"] == pytest.approx(dark_soil["B11"], abs=0.01)


def test_the_sites_own_dark_soil_is_not_its_built_up_area_and_its_roofs_are():
    from sitewatch.core.surfaces import built_up_like
    from sitewatch.objects.context import built_not_ground

    rng = np.random.default_rng(0)
    dark = np.array([0.08, 0.091, 0.097, 0.134, 0.156, 0.141], np.float32)  # passes for built
    roof = np.array([0.21, 0.23, 0.25, 0.27, 0.30, 0.27], np.float32)
    comp = dark[:, None, None] + rng.normal(0, 0.004, (6, 40, 40)).astype(np.float32)
    comp[:, 5:15, 5:15] = roof[:, None, None]
    spec_ = {b: comp[i] for i, b in enumerate(B)}
    built = built_up_like(spec_)
    assert built.mean() > 0.9  # the absolute test: nearly the whole site is built
    early = EarlyContext(composite=comp, asphalt=built, built=built, roofs=built, bands=B)
    out = built_not_ground(early, site_surfaces(early, ()))
    assert out[5:15, 5:15].all()
    assert out.sum() == 100
    # without a ground of the site to compare with, the absolute test stands
    np.testing.assert_array_equal(built_not_ground(early, {}), built)
