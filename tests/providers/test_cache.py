"""The on-disk cache in front of a remote provider, with an in-memory provider that counts reads."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from odc.geo.geobox import GeoBox

from sitewatch.errors import CacheError, ConfigError, ProviderError
from sitewatch.providers.base import Provider
from sitewatch.providers.cache import (
    CachedProvider,
    cache_entries,
    cache_root,
    grid_for,
    grid_key,
    remove_cache,
)
from sitewatch.providers.local import target_geobox
from sitewatch.types import AOI, Scene

AOI_ = AOI(
    name="site",
    display_name="Site",
    geometry=shapely.box(40.50, 36.70, 40.52, 36.715),
    point=(40.51, 36.707),
)


def _scene(day: int) -> Scene:
    return Scene(
        id=f"S2X_{day:02d}",
        datetime=dt.datetime(2024, 5, day, 8, 3, tzinfo=dt.timezone.utc),
        bands=("B02", "B03", "B04", "B08", "B8A", "B11", "B12", "SCL"),
        provider="fake",
        location="memory",
        processing_level="L2A",
        cloud_fraction=0.1,
    )


class FakeRemote:
    """A remote provider whose pixels are a function of (scene, band, position)."""

    name = "fake"
    source = "fake:https://example.invalid/api"

    def __init__(self, *, fail_on: str | None = None) -> None:
        self.reads: list[tuple[str, tuple[str, ...], tuple[int, int]]] = []
        self.fail_on = fail_on

    def search(
        self, aoi: Any = None, start: Any = None, end: Any = None, *, max_cloud_fraction: Any = None
    ) -> Iterator[Scene]:
        yield from (_scene(d) for d in (1, 6, 11))

    def read_scene(self, scene: Scene, bands: Sequence[str], gbox: GeoBox) -> np.ndarray:
        if scene.id == self.fail_on:
            raise ProviderError(f"service failed on {scene.id}")
        self.reads.append((scene.id, tuple(bands), gbox.shape))
        h, w = gbox.shape
        yy, xx = np.mgrid[0:h, 0:w]
        out = []
        for band in bands:
            if band == "SCL":
                arr = np.where((yy + xx) % 7 == 0, 9.0, 4.0)
                arr[0, 0] = np.nan
            else:
                arr = int(scene.id[-2:]) * 10 + len(band) + (yy * 3 + xx) % 900 - 40.0
                arr[0, :3] = np.nan
            out.append(arr.astype(np.float32))
        return np.stack(out)


@pytest.fixture
def remote() -> FakeRemote:
    return FakeRemote()


def test_cache_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cache_root(tmp_path / "a") == tmp_path / "a"
    monkeypatch.setenv("SITEWATCH_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    monkeypatch.delenv("SITEWATCH_CACHE")
    assert "sitewatch" in str(cache_root())


def test_grid_matches_local_utm_grid() -> None:
    scene = _scene(1)
    scene = Scene(
        **{
            **scene.__dict__,
            "crs": "EPSG:32637",
            "bounds": (499980.0, 4000000.0, 709800.0, 4100000.0),
            "shape": (10000, 20982),
        }
    )
    assert grid_for(aoi=AOI_, crs="utm") == target_geobox([scene], aoi=AOI_, crs="utm")
    assert grid_for(aoi=AOI_).resolution.x == 10
    with pytest.raises(ConfigError):
        grid_for()


def test_load_caches_and_second_load_reads_nothing(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    assert isinstance(cached, Provider)
    scenes = list(cached.search(AOI_))
    first = cached.load(scenes, aoi=AOI_, bands=["B02", "B11", "SCL"])
    assert len(remote.reads) == 3 and cached.stats.scenes_fetched == 3
    second = cached.load(scenes, aoi=AOI_, bands=["B02", "B11", "SCL"])
    assert len(remote.reads) == 3 and cached.stats.scenes_cached == 3 and cached.stats.scenes_fetched == 0
    np.testing.assert_array_equal(first.values, second.values)
    direct = np.stack([remote.read_scene(s, ["B02", "B11", "SCL"], first.odc.geobox) for s in scenes])
    # Exact to the integer, NaN where the service had no data, negative reflectance kept.
    np.testing.assert_allclose(first.values, np.round(direct), atol=0.5, equal_nan=True)
    assert first.dims == ("time", "band", "y", "x") and first.attrs["provider"] == "fake"
    assert list(first.scene_id.values) == [s.id for s in scenes]


def test_chunked_load_reads_the_cache_block_by_block(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    scenes = list(cached.search(AOI_))
    eager = cached.load(scenes, aoi=AOI_, bands=["B02", "B11", "SCL"])
    lazy = cached.load(scenes, aoi=AOI_, bands=["B02", "B11", "SCL"], chunk_px=7)
    assert lazy.chunks is not None and len(remote.reads) == 3  # nothing fetched twice
    np.testing.assert_array_equal(lazy.values, eager.values)
    assert list(lazy.scene_id.values) == list(eager.scene_id.values)


def test_negative_reflectance_survives(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    stack = cached.load([_scene(1)], aoi=AOI_, bands=["B02"])
    assert np.nanmin(stack.values) < 0


def test_manifest_records_what_where_when_how(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    cached.load([_scene(1)], aoi=AOI_, bands=["B04"], resolution_m=20)
    manifest = json.loads((tmp_path / "site" / "manifest.json").read_text())
    ((key, grid),) = manifest["grids"].items()
    assert key.startswith("32637_20m_")
    assert grid["crs"] == "EPSG:32637" and grid["resolution_m"] == 20 and len(grid["shape"]) == 2
    entry = grid["scenes"]["S2X_01"]
    assert entry["bands"] == ["B04"] and entry["source"] == remote.source and entry["provider"] == "fake"
    assert entry["datetime"].startswith("2024-05-01T08:03") and entry["fetched_at"]
    assert (tmp_path / "site" / key / entry["file"]).exists()


def test_new_band_fetches_only_that_band(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    scenes = list(cached.search(AOI_))
    old = cached.load(scenes, aoi=AOI_, bands=["B02", "SCL"])
    remote.reads.clear()
    new = cached.load(scenes, aoi=AOI_, bands=["B02", "B12", "SCL"])
    assert {r[1] for r in remote.reads} == {("B12",)} and len(remote.reads) == 3
    np.testing.assert_array_equal(new.sel(band=["B02", "SCL"]).values, old.values)
    remote.reads.clear()
    cached.load(scenes, aoi=AOI_, bands=["B12"])
    assert remote.reads == []


def test_new_resolution_uses_a_new_grid_and_keeps_the_old(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    scenes = list(cached.search(AOI_))
    cached.load(scenes, aoi=AOI_, bands=["B02"])
    cached.load(scenes, aoi=AOI_, bands=["B02"], resolution_m=20)
    assert len(remote.reads) == 6 and remote.reads[0][2] != remote.reads[3][2]
    remote.reads.clear()
    cached.load(scenes, aoi=AOI_, bands=["B02"])
    cached.load(scenes, aoi=AOI_, bands=["B02"], resolution_m=20)
    assert remote.reads == []
    assert len(cache_entries(cache_dir=tmp_path)) == 2


def test_interrupted_fill_resumes(tmp_path: Path) -> None:
    failing = FakeRemote(fail_on="S2X_11")
    cached = CachedProvider(failing, cache_dir=tmp_path)
    scenes = list(cached.search(AOI_))
    with pytest.raises(ProviderError):
        cached.load(scenes, aoi=AOI_, bands=["B02"])
    assert [r[0] for r in failing.reads] == ["S2X_01", "S2X_06"]
    # A crash mid-write leaves a temporary file; it is cleaned and never read.
    (key,) = json.loads((tmp_path / "site" / "manifest.json").read_text())["grids"]
    (tmp_path / "site" / key / ".S2X_11.tif.partial").write_bytes(b"half a file")
    failing.fail_on = None
    failing.reads.clear()
    stack = cached.load(scenes, aoi=AOI_, bands=["B02"])
    assert [r[0] for r in failing.reads] == ["S2X_11"]
    assert stack.sizes["time"] == 3 and not list(tmp_path.rglob("*.partial"))


def test_deleted_file_is_fetched_again(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    scenes = list(cached.search(AOI_))
    cached.load(scenes, aoi=AOI_, bands=["B02"])
    victim = next((tmp_path / "site").rglob("S2X_06.tif"))
    victim.unlink()
    remote.reads.clear()
    cached.load(scenes, aoi=AOI_, bands=["B02"])
    assert [r[0] for r in remote.reads] == ["S2X_06"]


def test_corrupt_manifest_is_a_cache_error(remote: FakeRemote, tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "manifest.json").write_text("{not json")
    with pytest.raises(CacheError, match="cache rm --aoi site"):
        CachedProvider(remote, cache_dir=tmp_path).load([_scene(1)], aoi=AOI_, bands=["B02"])


def test_entries_and_remove(remote: FakeRemote, tmp_path: Path) -> None:
    cached = CachedProvider(remote, cache_dir=tmp_path)
    cached.load(list(cached.search(AOI_)), aoi=AOI_, bands=["B02", "SCL"])
    (row,) = cache_entries(aoi_name="site", cache_dir=tmp_path)
    assert row["n_scenes"] == 3 and row["first"] == "2024-05-01" and row["last"] == "2024-05-11"
    assert row["bands"] == "B02,SCL" and row["bytes"] > 0 and row["grid"] == grid_key(grid_for(aoi=AOI_))
    assert remove_cache("site", cache_dir=tmp_path) > 0
    assert cache_entries(cache_dir=tmp_path) == [] and not (tmp_path / "site").exists()
    with pytest.raises(CacheError, match="nothing is cached"):
        remove_cache("site", cache_dir=tmp_path)
