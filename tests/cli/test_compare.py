from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from click.testing import CliRunner

from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e


def test_compare_real_oscd_city(oscd_dir, tmp_path) -> None:
    city = oscd_dir / "images" / "paris"
    mask_path, out, png = tmp_path / "change.tif", tmp_path / "changes.geojson", tmp_path / "q.png"
    result = CliRunner().invoke(
        cli,
        [
            "compare",
            str(city / "imgs_1"),
            str(city / "imgs_2"),
            "--mask-out",
            str(mask_path),
            "--out",
            str(out),
            "--quicklook",
            str(png),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "shift: dy=" in result.output and "objects" in result.output
    b02 = next((city / "imgs_1").glob("*_B02.tif"))
    with rasterio.open(mask_path) as m, rasterio.open(b02) as ref:
        assert (m.width, m.height) == (ref.width, ref.height)
        assert m.transform.almost_equals(ref.transform)
        assert m.crs == ref.crs and m.dtypes[0] == "uint8" and m.nodata == 255
        values = m.read(1)
    assert set(np.unique(values)) <= {0, 1, 255}
    assert 0.001 < (values == 1).mean() < 0.2
    with rasterio.open(oscd_dir / "labels" / "paris" / "paris-cm.tif") as lab:
        truth = lab.read(1) == 2
    pred = values == 1
    # far better than chance on a city whose changes are 0.3 % of the pixels
    assert (pred & truth).sum() / pred.sum() > 5 * truth.mean()
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection" and fc["features"]
    props = fc["features"][0]["properties"]
    for key in ("area_m2", "length_m", "width_m", "orientation_deg", "mean_spectral_change", "confidence"):
        assert key in props
    lon, lat = fc["features"][0]["geometry"]["coordinates"][0][0]
    assert 2.2 < lon < 2.5 and 48.7 < lat < 49.0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_compare_json_and_bad_input(scene_writer, tmp_path) -> None:
    bands = ("B02", "B03", "B04", "B08", "B11", "B12")
    rng = np.random.default_rng(0)
    data = (1000 + 200 * rng.random((6, 64, 64))).astype(np.float32)
    before = scene_writer(data, name="S2_20200101", bands=bands, dates=("2020-01-01",))
    after = scene_writer(
        data * 1.02, name="S2_20210101", bands=bands, dates=("2021-01-01",), directory=tmp_path / "b"
    )
    runner = CliRunner()
    ok = runner.invoke(
        cli, ["compare", str(before), str(after), "--json", "--threshold", "otsu"], catch_exceptions=False
    )
    assert ok.exit_code == 0, ok.output
    summary = json.loads(ok.output)
    assert summary["n_objects"] == 0 and "shift" in summary
    assert summary["params"]["threshold_method"] == "otsu"
    far = scene_writer(
        data,
        name="S2_20220101",
        bands=bands,
        dates=("2022-01-01",),
        directory=tmp_path / "c",
        origin=(700_000.0, 4_060_000.0),
    )
    bad = runner.invoke(cli, ["compare", str(before), str(far), "--out", str(tmp_path / "x.geojson")])
    assert bad.exit_code == 1
    assert "overlap" in bad.output.lower() or "no data" in bad.output.lower()
    assert not (tmp_path / "x.geojson").exists()


@pytest.mark.parametrize("dropped", ["B02", "B04"])
def test_compare_l1c_with_a_visible_band_missing_names_the_date_scene_and_band(
    oscd_dir, tmp_path, dropped
) -> None:
    """Real L1C (no SCL) with B02 or B04 gone from AFTER: one line naming it, no KeyError traceback."""
    city = oscd_dir / "images" / "beihai"
    after = tmp_path / "imgs_2"
    after.mkdir()
    for f in (city / "imgs_2").iterdir():
        if not f.stem.endswith(f"_{dropped}"):
            (after / f.name).symlink_to(f)
    res = CliRunner().invoke(
        cli, ["compare", str(city / "imgs_1"), str(after), "--out", str(tmp_path / "c.geojson")]
    )
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and "KeyError" not in res.output
    line = [ln for ln in res.output.splitlines() if "AFTER" in ln]
    assert line and f"no {dropped}" in line[0] and "B02, B03, B04, B08 (or B8A) and B11 or B12" in line[0], (
        res.output
    )
    assert not (tmp_path / "c.geojson").exists()
