import pytest

from sitewatch.aoi import list_places
from sitewatch.reports.places import PlaceMatcher, fold


@pytest.fixture(scope="module")
def matcher():
    return PlaceMatcher(list_places())


@pytest.mark.parametrize(
    ("text", "site", "how"),
    [
        ("at Qasrek", "qasrak", "exact"),
        ("the Qasrok base", "qasrak", "exact"),
        ("toward Qasruk airfield", "qasrak", "fuzzy"),  # a spelling no alias lists
        ("from the Omar oil field", "al-omar", "exact"),
        ("al‑Omar", "al-omar", "exact"),  # non-breaking hyphen
        ("at Koniko", "conoco", "exact"),
        ("near Tell Baydar", "tal-baydar", "fuzzy"),
        ("Ayn al Asad air base", "ain-al-asad", "exact"),
        ("to Shadadi", "al-shaddadi", "exact"),
    ],
)
def test_spellings_resolve(matcher, text, site, how):
    found = matcher.find(text)
    assert found, text
    assert found[0].place is not None and found[0].place.name == site
    assert found[0].how == how


def test_unknown_facility_is_kept_unresolved(matcher):
    found = matcher.find("Trucks reached the Kharab Ishk base on Monday.")
    assert [(m.text, m.place, m.how) for m in found] == [("Kharab Ishk base", None, "unknown")]


@pytest.mark.parametrize(
    "text", ["Deir Ezzor countryside", "Hasakah province", "in Damascus", "the Turkish border"]
)
def test_regions_and_towns_are_not_forced_onto_sites(matcher, text):
    assert [m for m in matcher.find(text) if m.place is not None] == []


def test_similar_but_different_names_stay_apart(matcher):
    # "Qasr" alone and "Omari" are not close enough to be read as Qasrak / al-Omar.
    assert all(m.place is None for m in matcher.find("Qasr Ibn Wardan palace and the Omari mosque"))


def test_fold():
    assert fold("Al‑Waleed") == "al waleed"


@pytest.mark.parametrize(
    "text",
    [
        "Al Asadiya village",
        "the Omani minister",
        "Green Valley Mall",
        "Tal Afar",
        "Omar Khayyam",
        "Tel Aviv",
        "Shaddad Mountains",
        "Tanfield Road",
        "Conroe, Texas",
        "Hemel Hempstead",
    ],
)
def test_look_alike_names_are_not_matched(matcher, text):
    assert [m for m in matcher.find(text) if m.place is not None] == []


def test_names_do_not_run_across_lines(matcher):
    assert matcher.find("see Fig. O\n    base layer") == []
