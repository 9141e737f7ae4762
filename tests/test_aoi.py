import json
import math
from pathlib import Path

import pytest
import shapely

from sitewatch.aoi import check_name, find_place, list_aois, list_places, load_aoi, load_gazetteer, slugify
from sitewatch.errors import AOIError


def test_registry_holds_the_four_watched_sites():
    names = [a.name for a in list_aois()]
    assert names == ["al-omar", "conoco", "green-village", "qasrak"]


def test_qasrak_is_exact_and_fits_base_and_runway_with_margin():
    aoi = load_aoi("qasrak")
    assert aoi.location_certainty == "exact"
    assert aoi.point == pytest.approx((40.511955, 36.706242))
    assert aoi.utm_crs == "EPSG:32637"
    assert aoi.area_m2 > 3 * 1.8e6  # the 1.8 km2 base, with room around it
    # A 1.7 km runway centred anywhere within 500 m of the point, in any orientation, fits inside.
    geom = aoi.geometry_in(aoi.utm_crs)
    cx, cy = aoi.geometry_in(aoi.utm_crs).centroid.coords[0]
    for angle in range(0, 180, 15):
        dx, dy = 850 * math.cos(math.radians(angle)), 850 * math.sin(math.radians(angle))
        for ox, oy in [(0, 0), (300, 300), (-300, 300)]:
            runway = shapely.LineString([(cx + ox - dx, cy + oy - dy), (cx + ox + dx, cy + oy + dy)]).buffer(
                40
            )
            assert geom.contains(runway)


def test_reported_facts_are_structured():
    aoi = load_aoi("qasrak")
    pads = [f["value"] for f in aoi.reported if f["what"] == "pad"]
    assert {"length_m": 193, "width_m": 94} in pads and {"length_m": 84, "width_m": 60} in pads
    runway = next(f for f in aoi.reported if f["what"] == "runway_length")
    assert runway["value"] == 1700 and runway["unit"] == "m"
    assert all(f["source"] for f in aoi.reported)


def test_uncertain_sites_carry_their_uncertainty():
    conoco, omar, green = load_aoi("conoco"), load_aoi("al-omar"), load_aoi("green-village")
    assert conoco.location_certainty == omar.location_certainty == "approximate"
    assert conoco.search_radius_m and omar.search_radius_m
    assert green.location_certainty == "unknown"
    assert green.point is None  # no established point, whatever frames the search
    assert "not established" in green.notes.lower() or "no established" in green.notes.lower()
    # Green Village's area covers the al-Omar field facilities.
    assert green.geometry.contains(omar.geometry)


@pytest.mark.parametrize("alias", ["Qasrek", "qasrok", "KASRAK", "Qasraq", "Jabal Ghol"])
def test_aliases_resolve(alias):
    assert load_aoi(alias).name == "qasrak"


def test_unknown_name_suggests_close_names():
    with pytest.raises(AOIError, match="did you mean.*qasrak"):
        load_aoi("qasrik")


@pytest.mark.parametrize("bad", ["..", "../qasrak", "a/b", "..\\x", "Qasrak base/../../etc", ""])
def test_unsafe_names_are_refused(bad):
    with pytest.raises(AOIError):
        load_aoi(bad)


def test_check_name_rejects_traversal_and_accepts_slugs():
    assert check_name("al-omar") == "al-omar"
    for bad in ["..", "a/b", "a\\b", "A B", "x" * 65, "-x"]:
        with pytest.raises(AOIError):
            check_name(bad)
    assert slugify("Green Village base") == "green-village-base"
    assert slugify("../../etc/passwd") == "etc-passwd"


def _write(tmp_path: Path, doc, name="site.geojson") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def test_user_polygon_file(tmp_path):
    poly = {
        "type": "Polygon",
        "coordinates": [[[40.0, 35.0], [40.01, 35.0], [40.01, 35.01], [40.0, 35.01], [40.0, 35.0]]],
    }
    aoi = load_aoi(_write(tmp_path, {"type": "Feature", "geometry": poly, "properties": {"name": "my-site"}}))
    assert aoi.name == "my-site" and aoi.utm_crs == "EPSG:32637"
    assert 0.9e6 < aoi.area_m2 < 1.3e6


def test_user_point_with_radius_and_southern_hemisphere(tmp_path):
    doc = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [18.4, -33.9]},
        "properties": {"radius_m": 500},
    }
    aoi = load_aoi(str(_write(tmp_path, doc, "cape-town.geojson")))
    assert aoi.name == "cape-town"
    assert aoi.utm_crs == "EPSG:32734"
    assert aoi.area_m2 == pytest.approx(math.pi * 500**2, rel=0.01)


def test_bare_geometry_and_single_feature_collection(tmp_path):
    poly = {"type": "Polygon", "coordinates": [[[1, 1], [1.01, 1], [1.01, 1.01], [1, 1]]]}
    assert load_aoi(_write(tmp_path, poly, "bare.geojson")).name == "bare"
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": poly, "properties": {}}]}
    assert load_aoi(_write(tmp_path, fc, "fc.geojson")).name == "fc"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{not json", "not valid GeoJSON"),
        ("", "not valid GeoJSON"),
        ({"foo": 1}, "no 'type'"),
        (
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [40, 35]}, "properties": {}},
            "radius_m",
        ),
        (
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[40, 35], [41, 36]]}},
            "LineString",
        ),
        ({"type": "Feature", "geometry": None}, "no geometry"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [500000, 4000000]},
                "properties": {"radius_m": 10},
            },
            "not WGS84",
        ),
        ({"type": "FeatureCollection", "features": []}, "exactly one"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [40, 35]},
                "properties": {"radius_m": "wide"},
            },
            "radius_m",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [40, 35]},
                "properties": {"radius_m": 100, "name": "../../evil"},
            },
            "not allowed",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [40, 35]},
                "properties": {"radius_m": 100, "location_certainty": "approximate"},
            },
            "search_radius_m",
        ),
    ],
)
def test_malformed_aoi_files_get_clear_errors(tmp_path, doc, message):
    path = _write(tmp_path, doc)
    with pytest.raises(AOIError, match=message) as info:
        load_aoi(path)
    assert str(path) in str(info.value)


def test_missing_file_is_an_aoi_error(tmp_path):
    with pytest.raises(AOIError, match="does not exist"):
        load_aoi(tmp_path / "nope.geojson")


def test_gazetteer_places():
    places = {p.name: p for p in load_gazetteer()}
    assert places["ain-al-asad"].point == pytest.approx((42.4333, 33.8))
    assert places["al-shaddadi"].point is None and places["al-shaddadi"].location_certainty == "unknown"
    assert find_place("al-Waleed").name == "al-walid-crossing"
    assert find_place("Qasrek").kind == "site"
    assert find_place("Atlantis") is None
    names = [p.name for p in list_places()]
    assert len(names) == len(set(names))


def test_registry_folder_can_be_overridden(tmp_path, monkeypatch):
    doc = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [10, 50]},
        "properties": {"name": "elsewhere", "radius_m": 100},
    }
    _write(tmp_path, doc, "elsewhere.geojson")
    monkeypatch.setenv("SITEWATCH_AOI_DIR", str(tmp_path))
    assert [a.name for a in list_aois()] == ["elsewhere"]
    assert load_gazetteer() == []


def test_registry_file_name_must_match_its_name(tmp_path):
    doc = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [10, 50]},
        "properties": {"name": "other", "radius_m": 100},
    }
    _write(tmp_path, doc, "elsewhere.geojson")
    with pytest.raises(AOIError, match="rename"):
        list_aois(tmp_path)
