"""scan() on the inputs real series bring: partial band sets, snow, wrong offsets, other CRSs.

A simulated site (known truth) is rewritten scene by scene into each kind of input.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import sitewatch
from sitewatch.cli.main import cli
from sitewatch.errors import BandMissingError, DataWarning
from sitewatch.providers.local import write_scene
from sitewatch.simulate import Pad, score_alerts, simulate_site

START, END = "2024-10-01", "2025-02-28"
EVENTS = [Pad("pad", (-150.0, 150.0), 120.0, 80.0, 20.0, "2024-12-20")]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("inputs")
    return simulate_site(out, start=START, end=END, size_px=96, revisit_days=6, seed=5, events=EVENTS)


@pytest.fixture(scope="module")
def full(site):
    return sitewatch.scan(site.aoi, f"local:{site.scenes_dir}", start=START, end=END)


Rewrite = Callable[[int, str, xr.DataArray], "xr.DataArray | None"]


def rewritten(site, folder: Path, change: Rewrite, *, rename: Callable[[str], str] | None = None) -> Path:
    """The site's scenes rewritten one by one (``change`` returns the new one-date stack, None to drop it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for t, path in enumerate(sorted(Path(site.scenes_dir).glob("*.tif"))):
        stack = sitewatch.open_scene(path)
        new = change(t, path.stem, stack)
        if new is not None:
            write_scene(new, folder, name=rename(path.stem) if rename else path.stem)
    return folder


def without(*bands: str) -> Rewrite:
    def change(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        return stack.sel(band=[b for b in map(str, stack.coords["band"].values) if b not in bands])

    return change


def cli_args(site, folder: Path) -> list[str]:
    source = f"local:{folder}"
    return ["scan", "--aoi", str(site.aoi_path), "--source", source, "--start", START, "--end", END]


def scan_quietly(folder: Path, site) -> tuple[sitewatch.ScanResult, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = sitewatch.scan(site.aoi, f"local:{folder}", start=START, end=END)
    return result, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def test_the_full_site_finds_its_pad(site, full):
    score = score_alerts(full.to_geojson(), site.truth)
    assert score["events"][0]["found"], full.alerts
    assert not any(m.startswith("bands:") for m in full.messages)
    assert all("bands_missing" not in a.evidence and "bands" not in a.confidence_parts for a in full.alerts)


def test_a_series_without_b12_is_scanned_and_says_so(site, full, tmp_path: Path):
    folder = rewritten(site, tmp_path / "nob12", without("B12", "B8A"))
    result, _ = scan_quietly(folder, site)
    assert [m for m in result.messages if m.startswith("bands:")] == [
        "bands: no B12 (typing without it, confidence lowered)"
    ]
    score = score_alerts(result.to_geojson(), site.truth)
    assert score["events"][0]["found"], result.alerts
    assert result.alerts and all(a.evidence["bands_missing"] == ["B12"] for a in result.alerts)
    assert all(a.confidence_parts["bands"] == 0.9 for a in result.alerts)
    # the same object with all bands is more confident
    best = max(result.alerts, key=lambda a: a.area_m2)
    twin = max(full.alerts, key=lambda a: a.area_m2)
    assert best.confidence < twin.confidence


def test_b8a_stands_in_for_a_missing_b08(site, tmp_path: Path):
    folder = rewritten(site, tmp_path / "b8a", without("B08"))
    result, _ = scan_quietly(folder, site)
    assert "bands: B08 read from B8A (20 m)" in result.messages
    assert score_alerts(result.to_geojson(), site.truth)["events"][0]["found"]
    assert all(a.evidence["band_stand_ins"] == {"B08": "B8A"} for a in result.alerts)


def test_no_swir_at_all_is_one_clear_error_through_the_cli(site, tmp_path: Path):
    folder = rewritten(site, tmp_path / "noswir", without("B11", "B12"))
    with pytest.raises(BandMissingError, match=r"no B11 or B12 \(bands there: B02, B03, B04, B08, B8A\)"):
        sitewatch.scan(site.aoi, f"local:{folder}", start=START, end=END)
    res = CliRunner().invoke(cli, cli_args(site, folder))
    assert res.exit_code != 0, res.output
    assert "Traceback" not in res.output and "B11 or B12" in res.output and "needs" in res.output, res.output


def test_a_scene_lacking_a_needed_band_is_left_out_by_name(site, tmp_path: Path):
    stems = sorted(p.stem for p in Path(site.scenes_dir).glob("*.tif"))
    odd = stems[3]

    def change(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        return without("B04")(t, stem, stack) if stem == odd else stack

    result, caught = scan_quietly(rewritten(site, tmp_path / "nob04", change), site)
    assert any(odd in m and "B04" in m and "left out" in m for m in caught)
    assert odd not in {u["id"] for u in result.scenes_used} | {d["id"] for d in result.scenes_dropped}
    assert score_alerts(result.to_geojson(), site.truth)["events"][0]["found"]


def test_bands_changing_between_dates_use_the_common_ones(site, tmp_path: Path):
    stems = sorted(p.stem for p in Path(site.scenes_dir).glob("*.tif"))
    late = set(stems[len(stems) // 2 :])

    def change(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        return without("B12")(t, stem, stack) if stem in late else stack

    result, caught = scan_quietly(rewritten(site, tmp_path / "mixed", change), site)
    share = f"({len(late)} of {len(stems)})"
    assert any("band B12 is missing from scene" in m and share in m for m in caught)
    assert "bands: no B12 (typing without it, confidence lowered)" in result.messages
    assert len(result.scenes_used) + len(result.scenes_dropped) == len(stems)


def test_snow_is_never_clear_and_an_all_snow_series_is_empty(site, tmp_path: Path):
    def snowed(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        out = stack.copy()
        out.loc[{"band": "SCL"}] = 11.0
        return out

    folder = rewritten(site, tmp_path / "snow", snowed)
    result, caught = scan_quietly(folder, site)
    assert result.alerts == [] and result.scenes_used == []
    assert any("snow" in m for m in caught)
    assert all("snow or ice" in d["reason"] for d in result.scenes_dropped)
    out = tmp_path / "snow.geojson"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the CLI says it on stderr and in the summary
        res = CliRunner().invoke(cli, [*cli_args(site, folder), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert json.loads(out.read_text())["features"] == [] and "snow" in res.output


def test_snow_the_scl_missed_is_caught_by_its_spectrum(site, tmp_path: Path):
    """Fresh snow painted over every scene's pixels (SCL left as it was) is not taken as ground."""
    snow = np.array([8900, 8800, 8600, 8000, 7500, 900, 700], np.float32)  # B02 B03 B04 B08 B8A B11 B12

    def change(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        out = stack.copy()
        names = [str(b) for b in stack.coords["band"].values if str(b) != "SCL"]
        out.loc[{"band": names}] = snow[: len(names), None, None]
        return out

    result, _ = scan_quietly(rewritten(site, tmp_path / "snowspectra", change), site)
    assert result.scenes_used == [] and result.alerts == []


def test_a_name_that_says_plus_1000_on_data_without_it_is_warned_once(site, full, tmp_path: Path):
    """Harmonised data (no offset) renamed as an ESA N0511 product: the offset is removed and warned about."""
    stems = sorted(p.stem for p in Path(site.scenes_dir).glob("*.tif"))
    wrong = set(stems[:4])
    folder = rewritten(
        site,
        tmp_path / "offset",
        lambda t, stem, stack: stack,
        rename=lambda stem: f"{stem}_N0511_R064" if stem in wrong else stem,
    )
    _, caught = scan_quietly(folder, site)
    offsets = [m for m in caught if m.startswith("offsets:")]
    assert len(offsets) == 1
    named = [s for s in stems if f"{s}_N0511_R064" in offsets[0]]
    assert len(named) >= 3 and set(named) <= wrong, offsets  # a cloudy scene may show no dark ground
    assert "said to carry the +1000" in offsets[0] and "BOA_ADD_OFFSET=0" in offsets[0]
    _, caught_full = scan_quietly(Path(site.scenes_dir), site)
    assert not any(m.startswith("offsets:") for m in caught_full)


def test_data_carrying_the_offset_unsaid_are_warned(site, tmp_path: Path):
    def carried(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        out = stack.copy()
        names = [str(b) for b in stack.coords["band"].values if str(b) != "SCL"]
        out.loc[{"band": names}] = out.sel(band=names) + 1000.0
        return out

    _, caught = scan_quietly(rewritten(site, tmp_path / "carried", carried), site)
    assert any(m.startswith("offsets:") and "read without an offset" in m for m in caught)


def test_a_crs_that_is_not_utm_is_reprojected_and_said(site, tmp_path: Path):
    def mercator(t: int, stem: str, stack: xr.DataArray) -> xr.DataArray:
        out = stack.isel(time=0).odc.reproject("EPSG:3857", resolution=10.0, resampling="nearest")
        out = out.rename({d: {"latitude": "y", "longitude": "x"}.get(str(d), str(d)) for d in out.dims})
        return out.expand_dims(time=stack.coords["time"].values)

    result, _ = scan_quietly(rewritten(site, tmp_path / "merc", mercator), site)
    notes = [m for m in result.messages if "not UTM" in m]
    assert len(notes) == 1 and "EPSG:3857" in notes[0] and "reprojected to EPSG:326" in notes[0]
    assert score_alerts(result.to_geojson(), site.truth)["events"][0]["found"]


def test_block_by_block_scans_a_partial_set_as_in_memory(site, tmp_path: Path):
    folder = rewritten(site, tmp_path / "b8a_nob12", without("B08", "B12"))
    whole, _ = scan_quietly(folder, site)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        blocks = sitewatch.scan(
            site.aoi,
            f"local:{folder}",
            start=START,
            end=END,
            execution=sitewatch.ExecutionOptions(chunk_px=48),
        )
    assert blocks.messages == whole.messages
    assert (
        "bands: B08 read from B8A (20 m); no B12 (typing without it, confidence lowered)" in blocks.messages
    )
    assert [a.change_type for a in blocks.alerts] == [a.change_type for a in whole.alerts]
    assert all(a.confidence_parts["bands"] == round(0.95 * 0.9, 3) for a in blocks.alerts)
