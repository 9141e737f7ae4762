import pytest

from sitewatch.reports.quantities import find_quantities


def test_dimensions_in_metres_with_area():
    q = find_quantities("The larger site measures approximately 193 by 94 meters.")[0]
    assert (q.kind, q.length_m, q.width_m, q.value, q.unit, q.qualifier) == (
        "dimensions",
        193.0,
        94.0,
        193.0 * 94.0,
        "m2",
        "approx",
    )


@pytest.mark.parametrize(
    ("text", "kind", "value", "unit"),
    [
        ("Its 1.7-kilometer runway", "length", 1700.0, "m"),
        ("a 1,400 m runway", "length", 1400.0, "m"),
        ("a runway of 2.5 km", "length", 2500.0, "m"),
        ("Covering an area of 1.8 square kilometers", "area", 1.8e6, "m2"),
        ("a 3 km² compound", "area", 3e6, "m2"),
        ("some 12 hectares", "area", 1.2e5, "m2"),
        ("a 300m x 40m apron", "dimensions", 12000.0, "m2"),
        ("a 600 ft strip", "length", 600 * 0.3048, "m"),
    ],
)
def test_lengths_and_areas_are_normalised(text, kind, value, unit):
    q = find_quantities(text)[0]
    assert (q.kind, q.unit) == (kind, unit)
    assert q.value == pytest.approx(value)


def test_runway_length_knows_its_noun():
    assert find_quantities("Its 1.7-kilometer runway")[0].noun == "runway"


@pytest.mark.parametrize(
    ("text", "value", "qualifier", "noun"),
    [
        ("about 50 trucks arrived", 50, "approx", "trucks"),
        ("reducing it to fewer than 1,000 troops", 1000, "lt", "troops"),
        ("under 1,000 US forces", 1000, "lt", "forces"),
        ("lowering troop levels to fewer than 1,000 in the coming months", 1000, "lt", "troop"),
        ("more than 20 armored vehicles", 20, "gt", "armored vehicles"),
        ("dozens of trucks", 24, "approx", "trucks"),
    ],
)
def test_counts_with_qualifiers(text, value, qualifier, noun):
    counts = [q for q in find_quantities(text) if q.kind == "count"]
    assert counts and counts[0].value == value
    assert counts[0].qualifier == qualifier and counts[0].noun == noun


def test_distances_between_places_are_not_sizes():
    qs = find_quantities(
        "roughly 30 kilometers from the center of Hasakah and 160 kilometers (100 miles) west of Baghdad"
    )
    assert [q.kind for q in qs] == ["distance", "distance"]  # the bracketed miles repeat the same distance


def test_years_are_not_counts():
    assert find_quantities("In 2025 convoys arrived") == []
