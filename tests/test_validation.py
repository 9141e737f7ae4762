"""Bad input refused before any work (issue 17 items 2 and 9): AOIs, sizes, dates, cache names."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from sitewatch.aoi import MAX_RADIUS_M, aoi_from_feature
from sitewatch.cli.main import cli
from sitewatch.errors import AOIError, ConfigError, TooLargeError
from sitewatch.pipeline.options import DEFAULT_CHUNK_PX
from sitewatch.pipeline.size_guard import MAX_SIDE_PX, SizeEstimate, check_size, estimate_size
from sitewatch.types import AOI


def feature(geometry: dict, **props: object) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": "site", **props}}


def test_zero_area_polygon_is_refused() -> None:
    line = {"type": "Polygon", "coordinates": [[[40, 36], [40.1, 36.1], [40.2, 36.2], [40, 36]]]}
    with pytest.raises(AOIError, match="no area"):
        aoi_from_feature(feature(line))
    point = {"type": "Polygon", "coordinates": [[[40, 36], [40, 36], [40, 36], [40, 36]]]}
    with pytest.raises(AOIError, match="no area"):
        aoi_from_feature(feature(point))


def test_polygon_across_the_antimeridian_is_refused_with_the_split_to_make() -> None:
    ring = [[179.9, -16.9], [-179.9, -16.9], [-179.9, -16.8], [179.9, -16.8], [179.9, -16.9]]
    with pytest.raises(AOIError, match="antimeridian.*split it at longitude 180"):
        aoi_from_feature(feature({"type": "Polygon", "coordinates": [ring]}))
    # RFC 7946's own way of writing it (two parts, one each side) is refused the same way
    east = [[179.9, -16.9], [180, -16.9], [180, -16.8], [179.9, -16.8], [179.9, -16.9]]
    west = [[-180, -16.9], [-179.9, -16.9], [-179.9, -16.8], [-180, -16.8], [-180, -16.9]]
    with pytest.raises(AOIError, match="antimeridian"):
        aoi_from_feature(feature({"type": "MultiPolygon", "coordinates": [[east], [west]]}))
    # near it but on one side: fine
    near = [[179.0, -16.9], [179.5, -16.9], [179.5, -16.8], [179.0, -16.8], [179.0, -16.9]]
    assert aoi_from_feature(feature({"type": "Polygon", "coordinates": [near]})).area_m2 > 0


def test_radius_is_bounded() -> None:
    pt = {"type": "Point", "coordinates": [40.5, 36.7]}
    assert aoi_from_feature(feature(pt, radius_m=MAX_RADIUS_M)).radius_m == MAX_RADIUS_M
    with pytest.raises(AOIError, match="radius_m must be between 0 and 60000 m"):
        aoi_from_feature(feature(pt, radius_m=100_000))


def box_aoi(side_deg: float) -> AOI:
    return AOI(
        name="big", display_name="big", geometry=shapely.box(40, 30, 40 + side_deg, 30 + side_deg), point=None
    )


def test_size_estimate_follows_area_dates_and_bands() -> None:
    est = estimate_size(box_aoi(0.1), n_dates=20, n_bands=8)
    assert 1000 < est.rows < 1200 and 900 < est.cols < 1100
    assert est.stack_bytes == est.rows * est.cols * 20 * 8 * 4
    assert estimate_size(box_aoi(0.1), n_dates=40, n_bands=8).memory_bytes == 2 * est.memory_bytes


def test_country_sized_aoi_is_refused_in_one_line_naming_size_and_remedy() -> None:
    country = estimate_size(box_aoi(5.5), n_dates=42, n_bands=8)  # ~ 330,000 km2
    assert max(country.rows, country.cols) > MAX_SIDE_PX
    with pytest.raises(TooLargeError) as info:
        check_size(
            country, aoi_name="big", chunk_px=DEFAULT_CHUNK_PX, reads_blocks=True, ram_bytes=16 * 2**30
        )
    message = str(info.value)
    assert "\n" not in message and "km2" in message and "px" in message
    assert "--tile-px" in message and "--force" in message and "smaller AOIs" in message
    # --force lets it through (and it goes block by block)
    got = check_size(
        country, aoi_name="big", chunk_px=None, reads_blocks=True, force=True, ram_bytes=16 * 2**30
    )
    assert got == DEFAULT_CHUNK_PX


def test_beyond_half_the_ram_goes_block_by_block_on_its_own() -> None:
    est = SizeEstimate(rows=2000, cols=2000, n_dates=50, n_bands=8, area_km2=400)  # 6.4 GB stack
    assert check_size(est, aoi_name="a", chunk_px=None, reads_blocks=True, ram_bytes=64 * 2**30) is None
    assert (
        check_size(est, aoi_name="a", chunk_px=None, reads_blocks=True, ram_bytes=8 * 2**30)
        == DEFAULT_CHUNK_PX
    )
    assert check_size(est, aoi_name="a", chunk_px=512, reads_blocks=True, ram_bytes=8 * 2**30) == 512
    with pytest.raises(TooLargeError, match="loads whole scenes"):
        check_size(est, aoi_name="a", chunk_px=None, reads_blocks=False, ram_bytes=8 * 2**30)


def test_scan_refuses_a_huge_aoi_before_reading_a_pixel(tmp_path: Path) -> None:
    from sitewatch.simulate import simulate_site

    site = simulate_site(
        tmp_path / "site", start="2024-01-01", end="2024-03-01", size_px=64, revisit_days=10, seed=1
    )
    big = tmp_path / "country.geojson"
    centre = shapely.geometry.shape(json.loads(site.aoi_path.read_text())["geometry"]).centroid
    country = shapely.box(centre.x - 2.75, centre.y - 2.75, centre.x + 2.75, centre.y + 2.75)
    big.write_text(json.dumps(feature(shapely.geometry.mapping(country), name="country")))
    t0 = time.monotonic()
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            "--aoi",
            str(big),
            "--source",
            f"local:{site.scenes_dir}",
            "--start",
            "2024-01-01",
            "--end",
            "2024-03-01",
            "--out",
            str(tmp_path / "a.geojson"),
        ],
    )
    assert result.exit_code == 1, result.output
    # one error line (progress lines of the search before it are not errors), no traceback
    assert "Traceback" not in result.output
    (line,) = [ln for ln in result.output.splitlines() if ln.startswith("sitewatch:") and "warning" not in ln]
    assert line.startswith("sitewatch: error: AOI country covers") and "--force" in line
    assert time.monotonic() - t0 < 30 and not (tmp_path / "a.geojson").exists()


def test_fetch_refuses_start_after_end_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sitewatch.providers.cache as cache

    def no_provider(*a: object, **k: object) -> None:
        raise AssertionError("a provider was opened")

    monkeypatch.setattr("sitewatch.providers.base.get_provider", no_provider)
    aoi = box_aoi(0.01)
    with pytest.raises(ConfigError, match="ends .* before it starts"):
        cache.fetch_series(
            aoi,
            source="earth-search",
            start=__import__("datetime").date(2024, 5, 1),
            end=__import__("datetime").date(2024, 4, 1),
            cache_dir=tmp_path,
        )
    result = CliRunner().invoke(cli, ["fetch", "--aoi", "x", "--start", "2024-05-01", "--end", "2024-04-01"])
    assert result.exit_code == 1 and "before it starts" in result.output
    # ISO text as scan takes it; not a date is one ConfigError, not an AttributeError
    with pytest.raises(ConfigError, match="ends .* before it starts"):
        cache.fetch_series(
            aoi, source="earth-search", start="2024-05-01", end="2024-04-01", cache_dir=tmp_path
        )
    with pytest.raises(ConfigError, match="start"):
        cache.fetch_series(aoi, source="earth-search", start="May 2024", cache_dir=tmp_path)


def test_cache_names_are_checked_like_every_other_name(tmp_path: Path) -> None:
    outside = tmp_path / "x"
    outside.mkdir()
    (outside / "manifest.json").write_text(json.dumps({"version": 1, "grids": {"g": {"scenes": {}}}}))
    root = tmp_path / "cache"
    root.mkdir()
    result = CliRunner().invoke(cli, ["cache", "ls", "--aoi", "../x", "--cache-dir", str(root)])
    assert result.exit_code == 1 and "sitewatch: error:" in result.output and "AOI name" in result.output
    result = CliRunner().invoke(cli, ["cache", "rm", "--aoi", "../x", "--cache-dir", str(root)])
    assert result.exit_code == 1 and outside.exists()
