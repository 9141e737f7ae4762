import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from sitewatch.aoi import load_aoi
from sitewatch.errors import (
    BandMissingError,
    ConfigError,
    DataError,
    DataWarning,
    NoOverlapError,
    NoScenesError,
)
from sitewatch.providers import get_provider
from sitewatch.providers.local import (
    LocalProvider,
    aoi_coverage,
    date_from_name,
    find_scenes,
    load_scenes,
    open_scene,
    open_series,
)

CRS = "EPSG:32637"
X0, Y0 = 500_000.0, 4_060_000.0


def write_band(
    path: Path,
    data: np.ndarray,
    *,
    res: float = 10.0,
    crs: str | None = CRS,
    x0: float = X0,
    y0: float = Y0,
    nodata=None,
    tags=None,
) -> Path:
    profile = {
        "driver": "GTiff",
        "dtype": data.dtype.name,
        "count": 1,
        "height": data.shape[0],
        "width": data.shape[1],
        "transform": from_origin(x0, y0, res, res),
    }
    if crs:
        profile["crs"] = crs
    if nodata is not None:
        profile["nodata"] = nodata
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data, 1)
        if tags:
            dst.update_tags(**tags)
    return path


def band_folder(
    folder: Path,
    stem: str,
    *,
    size: int = 40,
    value: int = 1000,
    crs: str | None = CRS,
    tags=None,
    bands=("B02", "B03", "B04", "B08", "B11", "B12"),
    x0: float = X0,
    y0: float = Y0,
) -> Path:
    for i, band in enumerate(bands):
        res = 20 if band in {"B11", "B12", "B8A", "B05", "SCL"} else 10
        n = size * 10 // res
        arr = np.full((n, n), value + 10 * i, dtype=np.uint16)
        write_band(folder / f"{stem}_{band}.tif", arr, res=res, crs=crs, x0=x0, y0=y0, tags=tags)
    return folder


# --- dates -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("T40QBM_20180328T065919_B02.tif", dt.datetime(2018, 3, 28, 6, 59, 19)),
        ("S2B_MSIL2A_20240105T080311_N0510_R035_T37SEA_20240105T100254", dt.datetime(2024, 1, 5, 8, 3, 11)),
        ("scene_2024-05-01.tif", dt.datetime(2024, 5, 1)),
        ("qasrak_20250214.tif", dt.datetime(2025, 2, 14)),
        ("no-date-here.tif", None),
        ("bad_20241341.tif", None),
    ],
)
def test_date_from_name(name, expected):
    got = date_from_name(name)
    assert (got.replace(tzinfo=None) if got else None) == expected


# --- reading synthetic scenes ----------------------------------------------------------------------


def test_multiband_roundtrip(scene_writer):
    data = np.arange(6 * 30 * 30, dtype=np.float32).reshape(6, 30, 30) % 5000 + 100
    path = scene_writer(data, dates=["2024-05-01T08:00:00"])
    [scene] = find_scenes(path)
    assert scene.date == dt.date(2024, 5, 1)
    assert scene.bands == ("B02", "B03", "B04", "B08", "B11", "B12")
    stack = open_scene(path)
    assert stack.dims == ("time", "band", "y", "x")
    assert stack.dtype == np.float32
    np.testing.assert_allclose(stack.values[0], data)
    assert stack.odc.crs.epsg == 32637
    assert list(stack.band.values) == ["B02", "B03", "B04", "B08", "B11", "B12"]
    assert not list(path.parent.glob(".*partial"))


def test_band_folder_resamples_20m_to_10m(tmp_path):
    band_folder(tmp_path / "S2A_20240501", "T37SEA_20240501T080000", size=40)
    stack = open_scene(tmp_path / "S2A_20240501")
    assert stack.sizes["y"] == stack.sizes["x"] == 40
    assert set(stack.band.values) == {"B02", "B03", "B04", "B08", "B11", "B12"}
    # Uniform 20 m bands stay uniform on the 10 m grid.
    np.testing.assert_allclose(stack.sel(band="B11").values, 1040)


def test_date_from_tiff_tag(tmp_path):
    band_folder(tmp_path / "scene", "tile", tags={"TIFFTAG_DATETIME": "2023:07:14 08:10:00"})
    [scene] = find_scenes(tmp_path)
    assert scene.date == dt.date(2023, 7, 14)


def test_missing_date_is_a_clear_error(tmp_path):
    band_folder(tmp_path / "scene", "tile")
    with pytest.raises(DataError, match="acquisition date"):
        find_scenes(tmp_path)


def test_several_dates_in_one_folder_are_grouped(tmp_path):
    band_folder(tmp_path, "T37SEA_20240501T080000")
    band_folder(tmp_path, "T37SEA_20240511T080000", value=2000)
    scenes = find_scenes(tmp_path)
    assert [s.date.isoformat() for s in scenes] == ["2024-05-01", "2024-05-11"]
    stack = LocalProvider(str(tmp_path)).load(scenes)
    assert stack.sizes["time"] == 2
    assert stack.sel(band="B02").values[1].mean() == pytest.approx(2000)


@pytest.mark.parametrize(
    ("tags", "name", "expected"),
    [
        ({"BOA_ADD_OFFSET": "-1000"}, "T37SEA_20240501T080000", 0),
        ({"PROCESSING_LEVEL": "L2A", "PROCESSING_BASELINE": "05.10"}, "T37SEA_20240501T080000", 0),
        ({}, "S2B_MSIL2A_20240501T080000_N0510_R035_T37SEA", 0),
        ({}, "S2B_MSIL2A_20210501T080000_N0300_R035_T37SEA", 1000),
        ({"PROCESSING_LEVEL": "L2A"}, "T37SEA_20240501T080000", 1000),
    ],
)
def test_l2a_offset_applied_when_metadata_says_so(tmp_path, tags, name, expected):
    band_folder(tmp_path / "s", name, value=1000, tags=tags, bands=("B02", "B03", "B04", "B08", "SCL"))
    stack = open_scene(tmp_path / "s")
    assert float(np.nanmean(stack.sel(band="B02").values)) == pytest.approx(expected)
    # SCL is a class band: never offset.
    assert float(np.nanmean(stack.sel(band="SCL").values)) == pytest.approx(1040)
    assert stack.processing_level.values[0] == "L2A"


def test_nodata_becomes_nan(tmp_path):
    arr = np.full((20, 20), 500, dtype=np.uint16)
    arr[:5] = 0
    for band in ("B02", "B03", "B04"):
        write_band(tmp_path / "s" / f"x_20240501_{band}.tif", arr)
    stack = open_scene(tmp_path / "s")
    assert np.isnan(stack.values[0, :, :5]).all()
    assert not np.isnan(stack.values[0, :, 5:]).any()


def test_aoi_window_only(tmp_path):
    # A 4 x 4 km scene around Qasrak; the AOI (2 km radius) needs its 400 x 400 px window only.
    aoi = load_aoi("qasrak")
    cx, cy = aoi.geometry_in(CRS).centroid.coords[0]
    x0, y0 = round(cx - 3000, -1), round(cy + 3000, -1)
    band_folder(tmp_path / "s", "T37SEA_20240501T080000", size=600, x0=x0, y0=y0)
    stack = open_scene(tmp_path / "s", aoi=aoi)
    assert 400 <= stack.sizes["x"] <= 402 and 400 <= stack.sizes["y"] <= 402
    [scene] = find_scenes(tmp_path)
    assert aoi_coverage(aoi, scene.footprint()) == pytest.approx(1.0)


def test_aoi_outside_the_data_names_both_extents(tmp_path):
    band_folder(tmp_path / "s", "T37SEA_20240501T080000", x0=200_000, y0=1_000_000)
    with pytest.raises(NoOverlapError) as info:
        open_scene(tmp_path / "s", aoi=load_aoi("qasrak"))
    message = str(info.value)
    assert "qasrak" in message and "40.48" in message and "T37SEA_20240501T080000" in message


def test_scenes_on_different_grids_and_crs_are_aligned(tmp_path):
    band_folder(tmp_path / "a", "T37SEA_20240501T080000", size=60)
    # Same ground, half a pixel off and in another CRS (UTM 38N's neighbour zone).
    band_folder(tmp_path / "b", "T37SEA_20240511T080000", size=60, x0=X0 + 5, value=1000)
    stack = open_series(tmp_path)
    assert stack.sizes["time"] == 2
    assert stack.shape[2:] == (60, 60)
    import pyproj

    to_wgs = pyproj.Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    west, _south, east, north = to_wgs.transform_bounds(X0 - 200, Y0 - 800, X0 + 800, Y0 + 200)
    with rasterio.open(tmp_path / "a" / "T37SEA_20240501T080000_B02.tif") as src:
        arr = src.read(1)
    res = (east - west) / 100
    write_band(tmp_path / "c" / "geo_20240521_B02.tif", arr, res=res, crs="EPSG:4326", x0=west, y0=north)
    for b in ("B03", "B04", "B08", "B11", "B12"):
        write_band(tmp_path / "c" / f"geo_20240521_{b}.tif", arr, res=res, crs="EPSG:4326", x0=west, y0=north)
    stack = open_series(tmp_path)
    assert stack.sizes["time"] == 3 and stack.shape[2:] == (60, 60)
    assert np.nanmean(stack.values[2, 0]) == pytest.approx(1000, rel=0.01)


def test_reproject_to_utm_grid(tmp_path):
    aoi = load_aoi("qasrak")
    cx, cy = aoi.geometry_in(CRS).centroid.coords[0]
    band_folder(
        tmp_path / "s", "T37SEA_20240501T080000", size=500, x0=round(cx - 2500, -1), y0=round(cy + 2500, -1)
    )
    stack = open_scene(tmp_path / "s", aoi=aoi, crs="utm", resolution_m=20)
    assert stack.odc.crs.epsg == 32637
    assert abs(stack.odc.geobox.resolution.x) == 20


# --- bad input -------------------------------------------------------------------------------------


def test_truncated_geotiff_is_named(tmp_path, scene_writer):
    path = scene_writer(np.full((6, 40, 40), 900, np.float32), dates=["2024-05-01"])
    data = path.read_bytes()
    bad = tmp_path / "broken" / "S2_20240502.tif"
    bad.parent.mkdir()
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(DataError, match="S2_20240502.tif"):
        find_scenes(bad.parent) and open_scene(bad)


def test_not_a_raster_is_named(tmp_path):
    (tmp_path / "S2_20240501.tif").write_text("this is not a GeoTIFF")
    with pytest.raises(DataError, match="cannot be read as a raster"):
        find_scenes(tmp_path)


def test_no_crs_is_refused(tmp_path):
    band_folder(tmp_path / "s", "T37SEA_20240501T080000", crs=None)
    with pytest.raises(DataError, match="no CRS"):
        find_scenes(tmp_path)


def test_band_missing(tmp_path):
    band_folder(tmp_path / "a", "T_20240501", bands=("B02", "B03", "B04", "B08"))
    band_folder(tmp_path / "b", "T_20240511", bands=("B02", "B03", "B04"))
    with pytest.raises(BandMissingError, match="T_20240511.*B08"):
        open_series(tmp_path, bands=["B02", "B08"])
    with pytest.warns(DataWarning, match="B08"):
        stack = open_series(tmp_path)
    assert list(stack.band.values) == ["B02", "B03", "B04"]


def test_empty_and_missing_folders(tmp_path):
    (tmp_path / "preview.png").write_bytes(b"\x89PNG\r\n")
    with pytest.raises(NoScenesError, match="no Sentinel-2 scenes"):
        find_scenes(tmp_path)
    with pytest.raises(NoScenesError, match="does not exist"):
        find_scenes(tmp_path / "nope")


def test_unlabelled_raster_is_skipped_with_warning(tmp_path):
    band_folder(tmp_path, "T_20240501")
    write_band(tmp_path / "mask.tif", np.zeros((10, 10), np.uint8))
    with pytest.warns(DataWarning, match="mask.tif"):
        assert len(find_scenes(tmp_path)) == 1


def test_series_date_range_and_provider_registry(tmp_path):
    for day in ("20240501", "20240601", "20240701"):
        band_folder(tmp_path, f"T_{day}")
    provider = get_provider(f"local:{tmp_path}")
    got = [s.date.isoformat() for s in provider.search(None, dt.date(2024, 5, 15), dt.date(2024, 7, 1))]
    assert got == ["2024-06-01", "2024-07-01"]
    assert get_provider(str(tmp_path)).name == "local"
    with pytest.raises(ConfigError, match="local:DIR"):
        get_provider("local")
    with pytest.raises(ConfigError, match="unknown imagery source"):
        get_provider("nosuchsource:x")
    with pytest.raises(NoScenesError):
        open_series(tmp_path, start=dt.date(2030, 1, 1))


# --- real OSCD samples -----------------------------------------------------------------------------


def test_oscd_abudhabi_two_scenes(oscd_dir):
    scenes = find_scenes(oscd_dir / "images" / "abudhabi")
    assert [s.date.isoformat() for s in scenes] == ["2016-01-20", "2018-03-28"]
    assert all(len(s.bands) == 13 for s in scenes)
    stack = load_scenes(scenes)
    assert stack.shape == (2, 13, 799, 785)
    assert not np.isnan(stack.values).any()
    # Reflectance x 10000: plausible desert values in every band but the cirrus band B10.
    means = np.nanmean(stack.values, axis=(2, 3))
    assert ((means[:, [1, 2, 3, 7, 11]] > 1000) & (means[:, [1, 2, 3, 7, 11]] < 6000)).all()


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
def test_oscd_hongkong_second_date_on_another_grid_is_aligned(oscd_dir):
    city = oscd_dir / "images" / "hongkong"
    before = open_scene(city / "imgs_1")
    after = open_scene(city / "imgs_2", geobox=before.odc.geobox)
    assert after.shape[2:] == before.shape[2:]
    with rasterio.open(oscd_dir / "labels" / "hongkong" / "hongkong-cm.tif") as src:
        assert (src.height, src.width) == before.shape[2:]


def test_oscd_all_cities_readable(oscd_dir):
    for city in sorted((oscd_dir / "images").iterdir()):
        scenes = find_scenes(city)
        assert len(scenes) == 2, city.name
        assert scenes[0].datetime < scenes[1].datetime
        dates = (city / "dates.txt").read_text().split()
        assert scenes[0].date.strftime("%Y%m%d") == dates[1] and scenes[1].date.strftime("%Y%m%d") == dates[3]


def test_old_oper_tile_names_are_dated_by_orbit_not_processing_time(oscd_dir):
    # Cupertino's first tile is named ..._20161023T053304_A001254_... but was sensed on 2015-09-18.
    [first, _] = find_scenes(oscd_dir / "images" / "cupertino")
    assert first.date == dt.date(2015, 9, 18)
    assert first.properties["date_source"] == "orbit"


def test_oscd_footprint_matches_city_geojson(oscd_dir):
    city = oscd_dir / "images" / "abudhabi"
    [first, _] = find_scenes(city)
    geo = json.loads((city / "abudhabi.geojson").read_text())
    import shapely

    poly = shapely.geometry.shape(geo["features"][0]["geometry"])
    assert first.footprint().symmetric_difference(poly).area < 0.01 * poly.area


def test_oscd_hongkong_lazy_blocks_equal_the_eager_stack(oscd_dir):
    """chunk_px loads lazily, block by block, and gives the same values (both dates, warped grid too)."""
    import warnings

    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        scenes = find_scenes(oscd_dir / "images" / "hongkong")
        eager = load_scenes(scenes, bands=["B02", "B08", "B11"])
        lazy = load_scenes(scenes, bands=["B02", "B08", "B11"], chunk_px=200)
        assert lazy.chunks is not None and lazy.data.chunksize[2:] == (200, 200)
        assert lazy.odc.geobox == eager.odc.geobox
        assert list(lazy.coords["scene_id"].values) == list(eager.coords["scene_id"].values)
        # the same pixels; GDAL's warper rounds a window's bilinear weights to float32 alike to 1e-7
        np.testing.assert_allclose(lazy.values, eager.values, rtol=1e-6)
        np.testing.assert_array_equal(np.isnan(lazy.values), np.isnan(eager.values))
    with pytest.raises(ConfigError, match="chunk_px"):
        load_scenes(scenes, chunk_px=0)
