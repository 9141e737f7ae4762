"""Print-grade quicklooks and time-lapses: one stretch, every colour in the legend, credit, formats."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import shapely
import xarray as xr

from sitewatch.plots import (
    QuicklookPanels,
    RadarSeries,
    alert_quicklook,
    imagery_credit,
    site_stretch,
    true_colour,
)
from sitewatch.plots.timelapse import TimelapseFrame, write_timelapse


def panels(*, simulated: bool, unclear: bool) -> QuicklookPanels:
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 1, (40, 40, 3))
    changed = np.zeros((40, 40), bool)
    changed[15:25, 12:28] = True
    return QuicklookPanels(
        before=img,
        after=img[::-1],
        changed=changed,
        unclear=np.pad(np.ones((2, 40), bool), ((0, 38), (0, 0))) if unclear else np.zeros((40, 40), bool),
        extent=(500_000.0, 500_400.0, 4_000_000.0, 4_000_400.0),
        outline=shapely.box(500_120, 4_000_150, 500_280, 4_000_250),
        context=img,
        context_extent=(499_000.0, 501_000.0, 3_999_000.0, 4_001_000.0),
        aoi_outline=shapely.box(499_100, 3_999_100, 500_900, 4_000_900),
        crs_label="WGS 84 / UTM zone 37N",
        north_deg=-1.2,
        before_date=dt.date(2024, 12, 1),
        after_date=dt.date(2025, 2, 3),
        title="site: new pad, 2025-01-20",
        caption="New pad, measured 160 m x 100 m, 16,000 m²; images of 2024-12-01 and 2025-02-03.",
        simulated=simulated,
        years="2024-2025",
    )


def test_svg_has_legend_credit_caption_and_utm_ticks(tmp_path: Path) -> None:
    svg = alert_quicklook(tmp_path / "q.svg", panels(simulated=False, unclear=True)).read_text()
    for text in (
        "Contains modified Copernicus Sentinel data 2024-2025",
        "alert outline (published)",
        "changed pixels of the object",
        "not clear on the after date",
        "extent of the three panels",
        "watched area (AOI)",
        "before: 2024-12-01",
        "after: 2025-02-03",
        "160 m x 100 m",
        "WGS 84 / UTM zone 37N",
        "500,200",  # an easting tick
    ):
        assert text in svg, text
    assert "SIMULATED" not in svg
    assert not list(tmp_path.glob(".*partial*"))


def test_simulated_says_so_and_no_legend_for_colours_not_drawn(tmp_path: Path) -> None:
    svg = alert_quicklook(tmp_path / "q.svg", panels(simulated=True, unclear=False)).read_text()
    assert svg.count("SIMULATED") >= 4  # title, three panels, credit
    assert "Copernicus Sentinel data 20" not in svg
    assert "not clear on the after date" not in svg


def test_png_is_200_dpi_and_pdf_is_a_pdf(tmp_path: Path) -> None:
    from PIL import Image

    png = alert_quicklook(tmp_path / "q.png", panels(simulated=False, unclear=False))
    with Image.open(png) as im:
        assert round(im.info["dpi"][0]) == 200 and im.width >= 2400
    pdf = alert_quicklook(tmp_path / "q.pdf", panels(simulated=False, unclear=False))
    assert pdf.read_bytes().startswith(b"%PDF")


def test_one_stretch_maps_equal_values_to_equal_colours() -> None:
    rng = np.random.default_rng(3)
    t, b, h, w = 9, 3, 20, 20
    data = rng.uniform(500, 2500, (t, b, h, w)).astype(np.float32)
    data[-1, :, :5, :5] = 9000  # a bright new roof in the last image
    stack = xr.DataArray(data, dims=("time", "band", "y", "x"), coords={"band": ["B04", "B03", "B02"]})
    clear = np.ones((t, h, w), bool)
    stretch = site_stretch(stack, clear)
    before, after = true_colour(stack.isel(time=0), stretch), true_colour(stack.isel(time=-1), stretch)
    same = np.isclose(data[0], data[-1]).all(axis=0)
    data[-1, :, 10, 10] = data[0, :, 10, 10]
    after = true_colour(
        xr.DataArray(data[-1], dims=("band", "y", "x"), coords={"band": ["B04", "B03", "B02"]}), stretch
    )
    np.testing.assert_allclose(before[10, 10], after[10, 10])
    assert not same.all()
    # per-image percentiles would have darkened the whole after image; one stretch does not
    assert abs(before[5:, 5:].mean() - after[5:, 5:].mean()) < 0.05


def test_credit_line() -> None:
    assert imagery_credit("2025", simulated=False) == "Contains modified Copernicus Sentinel data 2025"
    assert "SIMULATED" in imagery_credit("2025", simulated=True)


def test_timelapse_frames_dated_and_outlined(tmp_path: Path) -> None:
    import imageio.v3 as iio

    days = [dt.date(2025, 1, 1) + dt.timedelta(days=10 * i) for i in range(5)]
    frames = [
        TimelapseFrame(np.full((30, 30, 3), 0.2 + 0.1 * i), d, "after" if i >= 3 else "before")
        for i, d in enumerate(days)
    ]
    ring = np.array([[5, 5], [20, 5], [20, 20], [5, 20], [5, 5]], float)
    gif = write_timelapse(
        tmp_path / "a.gif", frames, outline_px=[ring], title="new pad", simulated=True, pixel_m=10
    )
    got = iio.imread(gif, index=None)
    assert got.shape[0] == 5 and got.shape[1] >= 400
    # the outline is drawn (cyan-ish pixels where the ring runs), and frames differ by date label and content
    scale = got.shape[1] // 30
    assert got[0, 5 * scale + 5 * scale // 2 : 20 * scale, 5 * scale, 2].max() > 200
    assert not np.array_equal(got[0], got[1])
    meta = iio.immeta(gif, index=None)
    assert meta.get("loop") == 0


def test_radar_panel_per_orbit_with_the_alert_dates(tmp_path: Path) -> None:
    times = np.array(
        [np.datetime64("2024-11-01") + np.timedelta64(6 * k, "D") for k in range(20)], dtype="datetime64[ns]"
    )
    orbits = tuple("D079" if k % 2 == 0 else "A014" for k in range(20))
    vv = np.where(np.arange(20) < 12, -11.0, -15.5)
    vv[3] = np.nan  # an acquisition without data over the outline is left out, not drawn at 0
    radar = RadarSeries(
        times=times,
        orbits=orbits,
        db={"VV": vv, "VH": vv - 7.0},
        marks=(("last unchanged", dt.date(2025, 1, 8)), ("first detected", dt.date(2025, 1, 20))),
        note="scene-wide date offsets removed",
    )
    p = dataclasses.replace(panels(simulated=False, unclear=False), radar=radar)
    svg = alert_quicklook(tmp_path / "q.svg", p).read_text()
    for text in (
        "Sentinel-1 over the outline",
        "scene-wide date offsets removed",
        "VV orbit A014",
        "VH orbit D079",
        "last unchanged 2025-01-08",
        "first detected 2025-01-20",
        "backscatter (dB)",
    ):
        assert text in svg, text
    plain = alert_quicklook(tmp_path / "p.svg", panels(simulated=False, unclear=False)).read_text()
    assert "Sentinel-1 over the outline" not in plain
    # a series with no data over the outline draws no empty panel
    empty = dataclasses.replace(p, radar=dataclasses.replace(radar, db={"VV": np.full(20, np.nan)}))
    assert "Sentinel-1 over the outline" not in alert_quicklook(tmp_path / "e.svg", empty).read_text()
