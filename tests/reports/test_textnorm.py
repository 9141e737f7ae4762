"""Names folded for lookup: the registry finds Arabic aliases whatever letter variants they are written in."""

import pytest

from sitewatch.aoi import find_place, load_aoi
from sitewatch.reports.language import fold_arabic as reexported
from sitewatch.textnorm import fold_arabic, fold_name


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("قصرك", "qasrak"),
        ("قَسْرَك", "qasrak"),
        ("قســرك", "qasrak"),  # tatweel
        ("حقل العُمَر", "al-omar"),
        ("القريه الخضراء", "green-village"),  # ة written ه
        ("كونيكـو", "conoco"),
    ],
)
def test_load_aoi_by_arabic_alias_with_variants(written, name):
    assert load_aoi(written).name == name


@pytest.mark.parametrize(
    ("written", "name"),
    [
        ("الشدّادى", "al-shaddadi"),
        ("شدادي", "al-shaddadi"),
        ("عين الاسد", "ain-al-asad"),
        ("إستراحة الوزير", "istrahat-wazir"),
    ],
)
def test_find_place_by_arabic_alias_with_variants(written, name):
    place = find_place(written)
    assert place is not None and place.name == name


def test_fold_name_keeps_different_names_apart():
    assert fold_name("تل براك") != fold_name("تل بيدر")
    assert fold_name("Tell-Brāk") == fold_name("tell brak")


def test_the_folding_is_one_function_re_exported():
    assert reexported is fold_arabic
