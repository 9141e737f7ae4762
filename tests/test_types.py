import numpy as np
import pytest

from sitewatch.types import _utm_crs_from_database, utm_crs_for, utm_zone_number


def test_zone_arithmetic_agrees_with_the_pyproj_database_in_the_regular_grid():
    rng = np.random.default_rng(3)
    checked = 0
    for lon, lat in zip(rng.uniform(-180, 180, 48), rng.uniform(-79.9, 83.9, 48), strict=True):
        x = (lon + 180) / 6
        irregular = (56 <= lat < 64 and 3 <= lon < 12) or (lat >= 72 and 0 <= lon < 42)
        if irregular or abs(x - round(x)) < 1e-3:
            continue  # the database lists both zones on an edge and knows no exception
        assert utm_crs_for(float(lon), float(lat)) == _utm_crs_from_database(float(lon), float(lat)), (
            lon,
            lat,
        )
        checked += 1
    assert checked > 36  # each database query takes a fraction of a second: a sample, not a sweep


@pytest.mark.parametrize(
    ("lon", "lat", "expected"),
    [
        (40.511955, 36.706242, "EPSG:32637"),  # Qasrak
        (18.4, -33.9, "EPSG:32734"),  # southern hemisphere
        (5.3, 60.4, "EPSG:32632"),  # Bergen: the widened zone 32V
        (2.0, 60.4, "EPSG:32631"),
        (15.0, 78.2, "EPSG:32633"),  # Svalbard
        (8.0, 78.2, "EPSG:32631"),
        (180.0, 10.0, "EPSG:32601"),
    ],
)
def test_utm_crs_for_known_places_including_the_exceptions(lon, lat, expected):
    assert utm_crs_for(lon, lat) == expected


def test_polar_caps_have_no_utm_zone():
    assert utm_zone_number(10.0, 85.0) is None and utm_zone_number(10.0, -81.0) is None
