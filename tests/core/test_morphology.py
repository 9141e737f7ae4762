from __future__ import annotations

import numpy as np
import pytest
import shapely
from odc.geo.geobox import GeoBox

from sitewatch.core.morphology import clean_mask, label_changes, segment_mean, superpixels, vectorize


def test_clean_mask_removes_speckle_and_fills_holes() -> None:
    m = np.zeros((20, 20), bool)
    m[5:12, 5:12] = True
    m[8, 8] = False  # a one-pixel hole
    m[0, 19] = True  # speckle
    out = clean_mask(m)
    assert out[8, 8] and not out[0, 19]
    assert out[5:12, 5:12].all()


def test_label_changes_min_pixels_and_connectivity() -> None:
    m = np.zeros((10, 10), bool)
    m[0:3, 0:3] = True  # 9 px
    m[5, 5] = m[6, 6] = True  # diagonal pair
    m[9, 0:4] = True  # 4 px
    labels = label_changes(m, min_pixels=9)
    assert labels.max() == 1 and (labels > 0).sum() == 9
    eight = label_changes(m, min_pixels=2, connectivity=2)
    four = label_changes(m, min_pixels=2, connectivity=1)
    assert eight.max() == 3 and four.max() == 2
    assert eight.dtype == np.int32


def test_superpixels_and_segment_mean() -> None:
    img = np.zeros((20, 20), np.float32)
    img[:, 10:] = 10
    seg = superpixels(img, scale=10, min_size=5)
    assert seg[0, 0] != seg[0, 19]
    values = np.arange(400, dtype=np.float32).reshape(20, 20)
    values[0, 0] = np.nan
    mean = segment_mean(values, seg)
    assert np.isnan(mean[0, 0])
    same = seg == seg[5, 5]
    assert mean[5, 5] == pytest.approx(np.nanmean(values[same]), rel=1e-5)
    assert len(np.unique(mean[same & np.isfinite(values)])) == 1


def test_vectorize_gives_georeferenced_polygons() -> None:
    gbox = GeoBox.from_bbox((500_000, 4_000_000, 500_100, 4_000_100), "EPSG:32637", resolution=10)
    labels = np.zeros((10, 10), np.int32)
    labels[2:5, 2:6] = 1
    labels[7:9, 7:9] = 2
    labels[0, 0] = 2  # a second piece of label 2
    out = dict(vectorize(labels, gbox))
    assert set(out) == {1, 2}
    assert out[1].area == pytest.approx(12 * 100)
    assert out[1].bounds == (500_020.0, 4_000_050.0, 500_060.0, 4_000_080.0)
    assert isinstance(out[2], shapely.MultiPolygon) and out[2].area == pytest.approx(500)


def test_vectorize_simplifies_without_losing_area() -> None:
    gbox = GeoBox.from_bbox((0, 0, 400, 400), "EPSG:32637", resolution=10)
    yy, xx = np.mgrid[:40, :40]
    disc = ((yy - 20) ** 2 + (xx - 20) ** 2 <= 150).astype(np.int32)
    raw = dict(vectorize(disc, gbox, simplify_px=0))[1]
    simple = dict(vectorize(disc, gbox, simplify_px=0.5))[1]
    assert len(simple.exterior.coords) < len(raw.exterior.coords)
    assert abs(simple.area - raw.area) / raw.area <= 0.02
    assert simple.is_valid
