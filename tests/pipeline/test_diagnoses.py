"""Diagnoses that name the real cause (issue 17 item 8): empty bands, scenes off the AOI, a short scene."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import rasterio

import sitewatch
from sitewatch import compare
from sitewatch.errors import DataError, DataWarning, NoOverlapError
from sitewatch.simulate import simulate_site
from synthetic import make_stack

BANDS = ("B02", "B03", "B04", "B08", "B8A", "B11", "B12")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    return simulate_site(
        tmp_path_factory.mktemp("diag"),
        start="2024-10-01",
        end="2024-12-31",
        size_px=64,
        revisit_days=10,
        seed=5,
    )


def copy_scenes(site, folder: Path) -> list[Path]:  # type: ignore[no-untyped-def]
    folder.mkdir()
    return [Path(shutil.copy(p, folder)) for p in sorted(site.scenes_dir.glob("*.tif"))]


def zero_band(path: Path, band: str) -> None:
    with rasterio.open(path, "r+") as dst:
        index = list(dst.descriptions).index(band) + 1
        dst.write(np.zeros((dst.height, dst.width), dst.dtypes[index - 1]), index)


def drop_band(path: Path, band: str) -> None:
    with rasterio.open(path) as src:
        keep = [i for i, d in enumerate(src.descriptions, start=1) if d != band]
        profile, data, tags = src.profile, src.read(keep), src.tags()
        names = [src.descriptions[i - 1] for i in keep]
    profile.update(count=len(keep))
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for i, name in enumerate(names, start=1):
            dst.set_band_description(i, name)
        dst.update_tags(**tags)


def test_a_band_empty_in_every_scene_is_named_not_called_cloudy(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for path in copy_scenes(site, tmp_path / "s"):
        zero_band(path, "B11")
    with pytest.raises(DataError, match=r"band\(s\) B11 hold no data .* in any of the"):
        sitewatch.scan(site.aoi, f"local:{tmp_path / 's'}", start="2024-10-01", end="2024-12-31")


def test_a_scene_short_of_a_band_is_named(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = copy_scenes(site, tmp_path / "s")
    drop_band(paths[2], "B12")
    # one scene short of a band is not the whole series: the scan goes on with the bands all
    # scenes share, and the warning names the scene at fault
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sitewatch.scan(site.aoi, f"local:{tmp_path / 's'}", start="2024-10-01", end="2024-12-31")
    named = [
        str(w.message) for w in caught if issubclass(w.category, DataWarning) and "B12" in str(w.message)
    ]
    assert len(named) == 1 and paths[2].stem.split(".")[0] in named[0] and f"1 of {len(paths)}" in named[0], (
        named
    )
    assert any("B12" in m for m in result.messages)


def test_scenes_whose_grid_misses_the_aoi_are_counted(site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "s"
    copy_scenes(site, folder)
    far = simulate_site(
        tmp_path / "far",
        start="2024-10-01",
        end="2024-12-31",
        size_px=32,
        revisit_days=30,
        seed=6,
        center=(20.0, 10.0),
        name="far",
    )
    n_far = 0
    for p in far.scenes_dir.glob("*.tif"):
        shutil.copy(p, folder / f"far_{p.name}")
        n_far += 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sitewatch.scan(site.aoi, f"local:{folder}", start="2024-10-01", end="2024-12-31")
    said = [
        str(w.message)
        for w in caught
        if issubclass(w.category, DataWarning) and "do not cover" in str(w.message)
    ]
    assert len(said) == 1 and said[0].startswith(f"{n_far} of ")


def test_compare_names_a_band_empty_in_both_dates() -> None:
    rng = np.random.default_rng(0)
    before = (1500 + 100 * rng.standard_normal((len(BANDS), 60, 60))).astype(np.float32)
    after = before * 1.02
    i = BANDS.index("B11")
    before[i] = np.nan  # a zero band reads as no data (nodata=0)
    after[i] = np.nan
    b = make_stack(before, bands=BANDS, dates=("2020-05-01",))
    a = make_stack(after, bands=BANDS, dates=("2023-05-01",))
    with pytest.raises(DataError, match=r"band\(s\) B11 hold no data in BEFORE .* nor AFTER") as info:
        compare(b, a)
    assert not isinstance(info.value, NoOverlapError)
