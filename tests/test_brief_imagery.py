"""A real scan's evidence end to end: quicklooks and time-lapses on disk, the brief with imagery."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from sitewatch.brief import read_run, write_brief
from sitewatch.cli.main import cli
from sitewatch.simulate import Pad, simulate_site

pytestmark = pytest.mark.e2e
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def scan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated site with one pad of random size, scanned with quicklooks and time-lapses."""
    rng = np.random.default_rng(21)
    out = tmp_path_factory.mktemp("evidence")
    pad = Pad(
        "pad",
        (float(rng.uniform(-200, 200)), float(rng.uniform(-200, 200))),
        float(rng.uniform(100, 160)),
        float(rng.uniform(50, 80)),
        float(rng.uniform(0, 180)),
        "2024-12-20",
    )
    site = simulate_site(
        out / "sim", start="2024-10-01", end="2025-02-28", size_px=120, revisit_days=6, seed=8, events=[pad]
    )
    args = ["scan", "--aoi", str(site.aoi_path), "--source", f"local:{site.scenes_dir}"]
    res = CliRunner().invoke(
        cli,
        [
            *args,
            "--start",
            "2024-10-01",
            "--end",
            "2025-02-28",
            "--out",
            str(out / "alerts.geojson"),
            "--timelapse",
        ],
    )
    assert res.exit_code == 0, res.output
    return out


def test_quicklooks_timelapses_and_composites_are_written(scan_dir: Path) -> None:
    fc = json.loads((scan_dir / "alerts.geojson").read_text())
    assert fc["features"]
    for feat in fc["features"]:
        ql = scan_dir / feat["properties"]["quicklook"]
        with Image.open(ql) as im:
            assert round(im.info["dpi"][0]) == 200
        with Image.open(ql.with_suffix(".gif")) as gif:
            assert gif.n_frames >= 3  # every clear date around the change
            first = np.asarray(gif.convert("RGB"))
            gif.seek(gif.n_frames - 1)
            last = np.asarray(gif.convert("RGB"))
            assert not np.array_equal(first, last)
    doc = json.loads((scan_dir / "imagery" / "imagery.json").read_text())
    (s, w), (n, e) = doc["layers"]["after"]["bounds"]
    lon, lat = json.loads((scan_dir / "alerts.geojson").read_text())["bbox"][:2]
    assert w < lon < e and s < lat < n and doc["simulated"] is True


def test_brief_of_a_scan_folder_embeds_imagery_and_timelapses(scan_dir: Path) -> None:
    view = read_run(scan_dir)
    site = view.sites[0]
    assert set(site.imagery) == {"before", "after"} and site.imagery["after"]["uri"].startswith(
        "data:image/png"
    )
    assert set(site.timelapses) == set(site.quicklooks) and view.simulated
    page = write_brief(scan_dir).read_text(encoding="utf-8")
    assert "data:image/gif;base64," in page and "id='lightbox'" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium)")
def test_brief_imagery_in_a_real_browser(scan_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    page_path = write_brief(scan_dir)
    shots = tmp_path_factory.mktemp("screenshots")
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            problems: list[str] = []
            requests: list[str] = []
            page.on(
                "console",
                lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_selector(".leaflet-imagery-pane img.imagery-after", timeout=10_000)
            # the after composite is on by default, loaded, under the alert polygons
            assert page.evaluate("document.querySelector('img.imagery-after').naturalWidth") > 0
            assert page.locator(".leaflet-overlay-pane path").count() >= 1
            page.screenshot(path=str(shots / "brief-map-after.png"))
            # the layer switch swaps to the before composite
            page.locator(".leaflet-control-layers-base label", has_text="before").click()
            page.wait_for_selector("img.imagery-before", timeout=5_000)
            assert page.locator("img.imagery-after").count() == 0
            # the opacity slider fades the imagery
            page.locator(".opacity-control input").fill("40")
            opacity = page.evaluate("getComputedStyle(document.querySelector('img.imagery-before')).opacity")
            assert float(opacity) == pytest.approx(0.4)
            # clicking an alert polygon opens its quicklook and time-lapse full size
            assert page.locator("#lightbox").is_hidden()
            page.locator(".leaflet-overlay-pane path.leaflet-interactive").last.click(force=True)
            page.wait_for_selector("#lightbox img.timelapse", state="visible", timeout=5_000)
            for kind in ("quicklook", "timelapse"):
                assert page.evaluate(f"document.querySelector('#lightbox img.{kind}').naturalWidth") > 0
            page.screenshot(path=str(shots / "brief-lightbox.png"))
            page.keyboard.press("Escape")
            assert page.locator("#lightbox").is_hidden()
            assert problems == []
            assert [u for u in requests if not u.startswith(("data:", "file:"))] == []
        finally:
            browser.close()
    for name in ("brief-map-after.png", "brief-lightbox.png"):
        assert (shots / name).stat().st_size > 10_000
    print(f"screenshots: {shots}")


def test_batch_run_carries_timelapses_and_imagery_to_brief_and_exports(
    scan_dir: Path, tmp_path: Path
) -> None:
    from sitewatch import load_aoi, scan_all
    from sitewatch.exports import export_alerts

    pyogrio = pytest.importorskip("pyogrio")
    aoi = load_aoi(str(scan_dir / "sim" / "aoi.geojson"))
    run = tmp_path / "run"
    scan_all(
        [aoi],
        f"local:{scan_dir / 'sim' / 'scenes'}",
        start="2024-10-01",
        end="2025-02-28",
        out_dir=run,
        scheduler="serial",
        timelapse=True,
    )
    folder = run / "aois" / aoi.name
    assert list((folder / "quicklooks").glob("*.gif")) and (folder / "imagery" / "imagery.json").is_file()
    site = read_run(run).sites[0]
    assert set(site.imagery) == {"before", "after"} and site.timelapses
    gpkg = export_alerts(run, tmp_path / "run.gpkg")
    _, _, geoms, fields = pyogrio.raw.read(gpkg, layer="aois")
    assert list(fields[0]) == [aoi.name] and geoms[0] is not None  # the run's manifest has the outline
