"""A runway extension whose first metres went undetected still continues the runway."""

from __future__ import annotations

import numpy as np
import pytest
from odc.geo.geobox import GeoBox

from sitewatch.core.morphology import vectorize
from sitewatch.objects.context import find_runways
from sitewatch.objects.continuation import runway_relation
from sitewatch.objects.measure import measure_geometry

# the module, not the function `sitewatch.objects.describe` the package exports

N = 80
GBOX = GeoBox.from_bbox((500000, 4000000, 500000 + 10 * N, 4000000 + 10 * N), "EPSG:32636", resolution=10)


@pytest.fixture(scope="module")
def runways():
    paved = np.zeros((N, N), bool)
    paved[10:13, 5:50] = True  # a 450 m x 30 m runway along the rows
    found = find_runways(paved, GBOX)
    assert len(found) == 1
    return found


def relation(runways, rows: slice, cols: slice) -> tuple[bool, float, float | None]:
    m = np.zeros((N, N), bool)
    m[rows, cols] = True
    geom = next(g for _, g in vectorize(m.astype(np.int32), GBOX))
    return runway_relation(runways, m, geom, measure_geometry(geom), 10.0)


def test_touching_the_end_continues_the_runway(runways):
    adjacent, overlap, length = relation(runways, slice(10, 13), slice(50, 65))
    assert adjacent and overlap == 0.0 and length == pytest.approx(runways[0].length_m)


def test_beyond_a_gap_shorter_than_itself_continues_the_runway(runways):
    # 150 m of strip, 50 m beyond the runway's end (its first section not detected)
    assert relation(runways, slice(10, 13), slice(55, 70))[0]


def test_beyond_a_gap_longer_than_itself_or_off_the_axis_does_not(runways):
    assert not relation(runways, slice(10, 13), slice(70, 76))[0]  # 60 m strip, 200 m away
    assert not relation(runways, slice(20, 23), slice(55, 70))[0]  # parallel, 70 m off the axis
