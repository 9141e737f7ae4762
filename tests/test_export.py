from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import shapely
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import xr_coords

from sitewatch.errors import ConfigError
from sitewatch.export import feature_collection, validate_feature_collection, write_geojson, write_mask


def test_utm_polygon_to_rfc7946(tmp_path) -> None:
    # clockwise exterior with a counter-clockwise hole, in UTM 37N
    outer = shapely.Polygon(
        [(500_000, 4_000_000), (500_000, 4_000_300), (500_300, 4_000_300), (500_300, 4_000_000)]
    )
    hole = [(500_100, 4_000_100), (500_200, 4_000_100), (500_200, 4_000_200), (500_100, 4_000_200)]
    poly = shapely.Polygon(outer.exterior.coords, [hole])
    feats = [
        {
            "id": "a",
            "geometry": poly,
            "properties": {"area_m2": np.float32(80_000.0), "n": np.int64(3), "bad": float("nan")},
        }
    ]
    path = write_geojson(tmp_path / "out.geojson", feats, crs="EPSG:32637", foreign={"sitewatch": {"run": 1}})
    fc = json.loads(path.read_text())
    assert validate_feature_collection(fc) == []
    assert fc["sitewatch"] == {"run": 1}
    f = fc["features"][0]
    assert f["id"] == "a"
    assert f["properties"] == {"area_m2": 80_000.0, "n": 3, "bad": None}
    ring = np.asarray(f["geometry"]["coordinates"][0])
    assert 38.9 < ring[:, 0].mean() < 39.1 and 36.1 < ring[:, 1].mean() < 36.2
    # at most 7 decimals
    assert all(len(repr(float(v)).split(".")[-1]) <= 7 for v in ring.ravel())
    assert len(fc["bbox"]) == 4
    assert not list(tmp_path.glob("*.partial"))


def test_validator_catches_problems() -> None:
    cw = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    fc = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": cw, "properties": {}}]}
    assert any("clockwise" in p for p in validate_feature_collection(fc))
    fixed = feature_collection([{"geometry": cw, "properties": {}}])
    assert validate_feature_collection(fixed) == []
    with pytest.raises(ConfigError):
        feature_collection([], foreign={"features": 1})


def test_write_mask_roundtrip(tmp_path) -> None:
    gbox = GeoBox.from_bbox((500_000, 4_000_000, 500_050, 4_000_030), "EPSG:32637", resolution=10)
    coords = {str(k): v for k, v in xr_coords(gbox, crs_coord_name="spatial_ref").items()}
    data = np.array([[0, 1, 255, 0, 1]] * 3, np.uint8)
    mask = xr.DataArray(data, dims=("y", "x"), coords=coords, attrs={"description": "1 change"})
    path = write_mask(tmp_path / "m.tif", mask)
    with rasterio.open(path) as src:
        assert src.read(1).tolist() == data.tolist()
        assert src.nodata == 255 and src.crs.to_epsg() == 32637
        assert src.transform == gbox.affine
