from __future__ import annotations

import numpy as np
import pytest
import shapely
from odc.geo.geobox import GeoBox

from sitewatch.objects.measure import measure_geometry, measure_objects, to_metric


def test_rectangle_measures() -> None:
    m = measure_geometry(shapely.box(0, 0, 100, 20))
    assert m["area_m2"] == 2000
    assert (m["length_m"], m["width_m"]) == (100, 20)
    assert m["orientation_deg"] == 90.0  # long side runs east-west
    assert m["rectangularity"] == 1.0
    tall = measure_geometry(shapely.box(0, 0, 20, 100))
    assert tall["orientation_deg"] == 0.0


def test_rotated_rectangle_orientation() -> None:
    rect = shapely.affinity.rotate(shapely.box(0, 0, 200, 50), -30, origin=(0, 0))  # clockwise 30 deg
    m = measure_geometry(rect)
    assert m["length_m"] == pytest.approx(200, abs=0.1)
    assert m["width_m"] == pytest.approx(50, abs=0.1)
    assert m["orientation_deg"] == pytest.approx(120.0, abs=0.5)
    l_shape = shapely.union_all([shapely.box(0, 0, 100, 20), shapely.box(0, 0, 20, 100)])
    assert measure_geometry(l_shape)["rectangularity"] < 0.5


def test_objects_on_a_utm_grid() -> None:
    gbox = GeoBox.from_bbox((500_000, 4_000_000, 501_000, 4_001_000), "EPSG:32637", resolution=10)
    labels = np.zeros((100, 100), np.int32)
    labels[10:20, 30:60] = 1  # 300 x 100 m
    mag = np.zeros((100, 100), np.float32)
    mag[10:20, 30:60] = 4.0
    mag[10, 30] = np.nan
    objs = measure_objects(labels, gbox, values={"magnitude": mag})
    assert len(objs) == 1
    o = objs[0]
    assert o.area_m2 == pytest.approx(30_000, rel=1e-6)
    assert o.measures["length_m"] == pytest.approx(300)
    assert o.stats["magnitude"] == pytest.approx(4.0)
    assert o.metric_crs.endswith("32637")
    lon, lat = o.centroid
    assert 38 < lon < 40 and 36 < lat < 37  # zone 37N, northing 4000 km
    feat = o.to_feature(confidence=0.9)
    assert feat["properties"]["confidence"] == 0.9 and feat["properties"]["area_m2"] == o.area_m2


def test_degree_grid_is_measured_in_metres() -> None:
    # a 0.001 deg grid at 48.85 N (Paris): an object 10 x 10 cells is about 1112 m x 732 m
    gbox = GeoBox.from_bbox((2.30, 48.80, 2.40, 48.90), "EPSG:4326", resolution=0.001)
    labels = np.zeros(gbox.shape, np.int32)
    labels[40:50, 40:50] = 1
    (o,) = measure_objects(labels, gbox)
    assert o.metric_crs == "EPSG:32631"
    assert o.measures["length_m"] == pytest.approx(1112, rel=0.01)
    assert o.measures["width_m"] == pytest.approx(732, rel=0.01)
    assert o.area_m2 == pytest.approx(1112 * 732, rel=0.02)
    metric, crs = to_metric(shapely.box(2.3, 48.8, 2.301, 48.801), "EPSG:4326")
    assert crs == "EPSG:32631" and metric.area == pytest.approx(111.2 * 73.3, rel=0.02)


def test_no_objects() -> None:
    gbox = GeoBox.from_bbox((0, 0, 100, 100), "EPSG:32637", resolution=10)
    assert measure_objects(np.zeros((10, 10), np.int32), gbox) == []
