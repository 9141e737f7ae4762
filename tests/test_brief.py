from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import fake_scan
from fake_scan import box_aoi
from sitewatch.batch import scan_all
from sitewatch.brief import TYPE_COLOURS, build_brief, read_run, timeline_svg, write_brief
from sitewatch.errors import ConfigError
from sitewatch.runs import atomic_write_json

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "2024-08-01"
    aois = [box_aoi("alpha"), box_aoi("bad-site", lon=41.0), box_aoi("gamma", lon=42.0)]
    scan_all(
        aois,
        "fake:",
        start="2024-01-01",
        end="2024-08-01",
        out_dir=out,
        scan_fn=fake_scan.fake_scan,
        scheduler="serial",
    )
    # Verdicts as the reports module writes them (links_document), for the timeline and the claims table.
    links = {
        "sitewatch_links": "1.0",
        "summary": {"supported": 1, "contradicted": 1},
        "links": [
            {
                "claim_id": "c1",
                "site": "alpha",
                "event": "construction",
                "verdict": "supported",
                "reason": "a new pad appeared between 2024-02-20 and 2024-03-01",
                "negated": False,
                "hedged": False,
                "alerts": [{"id": "alpha-pad"}],
                "related": [],
                "interval": {},
                "imagery": {},
                "claim": {
                    "quote": "Bulldozers levelled land at <Alpha> </script><b>x</b>",
                    "site_text": "Alpha",
                    "when": {"start": "2024-02-01", "end": "2024-03-15"},
                    "source": {"file": "r1.txt", "publisher": "Daily Test", "published": "2024-03-20"},
                },
            },
            {
                "claim_id": "c2",
                "site": "alpha",
                "event": "withdrawal",
                "verdict": "contradicted",
                "reason": "no evacuation seen although 5 clear scenes before and after",
                "negated": False,
                "hedged": True,
                "alerts": [],
                "related": [],
                "interval": {},
                "imagery": {},
                "claim": {
                    "quote": "Forces reportedly left.",
                    "site_text": "Alpha",
                    "when": {"start": "2024-05-01", "end": "2024-05-31"},
                    "source": {"file": "r2.txt", "publisher": "Other Wire", "published": "2024-06-01"},
                },
            },
        ],
    }
    atomic_write_json(out / "aois" / "alpha" / "links.json", links)
    return out


def test_page_is_self_contained_and_complete(run_dir: Path) -> None:
    page = write_brief(run_dir).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # offline: no CDN, no remote script, style, image or font
    assert not re.search(r"""<(script|img|link|iframe|source)\b[^>]*\b(src|href)=['"]?(https?:)?//""", page)
    assert "unpkg.com" not in page and "<link" not in page
    assert "L.map(" in page and 't.version="1.9.4"' in page
    assert "images/layers.png" not in page  # Leaflet's images are inlined
    for aid in ("alpha-pad", "alpha-runway", "gamma-pad"):
        assert f"data-alert='{aid}'" in page
    assert page.count("data:image/png;base64,") >= 4
    assert "bad-site" in page and "corrupt" in page
    assert "SIMULATED IMAGERY" in page
    # untrusted report text cannot break out of the page
    assert "</script><b>x</b>" not in page
    assert "&lt;Alpha&gt;" in page
    assert page.count("<svg") >= 2 and "contradicted" in page


def test_read_run_collects_sites(run_dir: Path) -> None:
    view = read_run(run_dir)
    assert [s.name for s in view.sites] == ["alpha", "bad-site", "gamma"]
    alpha, bad, _ = view.sites
    assert alpha.status == "ok" and set(alpha.quicklooks) == {"alpha-pad", "alpha-runway"}
    assert alpha.geometry and alpha.geometry["type"] == "Polygon"
    assert bad.status == "failed" and "corrupt" in bad.error and bad.features == []
    assert len(alpha.links) == 2 and view.simulated


def test_timeline_shows_detections_and_claims(run_dir: Path) -> None:
    alpha = read_run(run_dir).sites[0]
    svg = timeline_svg(alpha)
    # rows read by type and date, claims by event, publisher and when (issue 14), not by hash id
    assert svg.startswith("<svg") and re.search(r"new pad, 2024-0\d-\d\d", svg)
    assert "construction claim, Daily Test, 2024-02-01 to 2024-03-15" in svg
    assert "alpha-pad" not in svg
    assert TYPE_COLOURS["new_pad"].lower() in svg.lower()
    assert "#009e73" in svg.lower() and "#c0392b" in svg.lower()  # supported and contradicted


def test_timeline_spans_the_imagery_and_claims_outside_are_edge_arrows(run_dir: Path) -> None:
    alpha = read_run(run_dir).sites[0]
    old = dict(alpha.links[0])
    old["claim"] = {**old["claim"], "when": {"start": "2017-05-01", "end": "2017-05-31", "text": "May 2017"}}
    dup = [old] * 3
    from dataclasses import replace

    svg = timeline_svg(replace(alpha, links=(*alpha.links, *dup)))
    assert "construction claim, Daily Test, May 2017 (x3)" in svg  # one row for three like claims
    assert "2017-05-01 to 2017-05-31" in svg  # the arrow's date
    years = set(re.findall(r">(20\d\d)<", svg))
    assert "2024" in years and "2017" not in years  # the axis stays on the imagery (2024)


def test_quicklook_path_cannot_leave_the_run(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret")
    fc_path = copy / "aois" / "alpha" / "alerts.geojson"
    fc = json.loads(fc_path.read_text())
    fc["features"][0]["properties"]["quicklook"] = "../../../secret.png"
    fc_path.write_text(json.dumps(fc))
    view = read_run(copy)
    assert "alpha-pad" not in view.sites[0].quicklooks
    assert "alpha-runway" in view.sites[0].quicklooks


def test_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        build_brief(tmp_path / "nope")
    with pytest.raises(ConfigError, match="manifest.json"):
        build_brief(tmp_path)


def test_tiles_are_opt_in(run_dir: Path) -> None:
    assert '"tiles": null' in build_brief(run_dir)
    page = build_brief(run_dir, tiles="https://tiles.example/{z}/{x}/{y}.png", tiles_attribution="Example")
    assert "https://tiles.example/{z}/{x}/{y}.png" in page


@pytest.mark.e2e
@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install chromium)")
def test_page_in_a_real_browser(run_dir: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    page_path = write_brief(run_dir)
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
    ]
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems: list[str] = []
            requests: list[str] = []
            page.on(
                "console",
                lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            page.wait_for_selector("#map-alpha .leaflet-overlay-pane path", timeout=10_000)
            # the map shows the AOI outline and one polygon per alert, in the type's colour
            strokes = page.eval_on_selector_all(
                "#map-alpha .leaflet-overlay-pane path", "els => els.map(e => e.getAttribute('stroke'))"
            )
            assert len(strokes) == 3
            assert TYPE_COLOURS["new_pad"] in strokes and TYPE_COLOURS["runway_change"] in strokes
            assert page.locator("#map-gamma .leaflet-overlay-pane path").count() == 3
            # clicking an alert shows its quicklook
            assert page.locator("#detail-alpha").is_hidden()
            page.click("#alerts-alpha li.alert[data-alert='alpha-runway']")
            img = page.locator("#detail-alpha img.quicklook")
            img.wait_for(state="visible", timeout=5_000)
            assert page.evaluate("document.querySelector('#detail-alpha img.quicklook').naturalWidth") > 0
            assert "alpha-runway" in page.locator("#detail-alpha h4").inner_text()
            assert "selected" in (page.locator("li[data-alert='alpha-runway']").get_attribute("class") or "")
            # and a click on the polygon selects it too
            page.click("#alerts-alpha li.alert[data-alert='alpha-pad']")
            assert "alpha-pad" in page.locator("#detail-alpha h4").inner_text()
            assert problems == []
            assert [u for u in requests if not u.startswith(("data:", "file:"))] == []
        finally:
            browser.close()


SAR = {
    "verdict": "consistent",
    "rule": "a smooth concrete/asphalt/gravel pad is darker than the ground it replaced",
    "direction_vv": "darker",
    "direction_vh": "darker",
    "t_vv": -9.4,
    "t_vh": -7.31,
    "delta_vv_db": -4.31,
    "delta_vh_db": -3.5,
    "radar_before": "2024-02-18",
    "radar_after": "2024-03-02",
    "radar_last_unchanged": None,
    "radar_first_changed": None,
    "orbits": ["A014", "D079"],
    "notes": ["the radar saw the change 12 days before the optical scan"],
}


def test_radar_evidence_per_alert(run_dir: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    path = run / "aois" / "alpha" / "alerts.geojson"
    fc = json.loads(path.read_text())
    assert fc["features"]
    fc["features"][0]["properties"]["corroboration"] = {"sar": SAR}
    path.write_text(json.dumps(fc))
    page = build_brief(run)
    line = "consistent: VV darker -4.3 dB (t -9.4), VH darker -3.5 dB (t -7.3); radar 2024-02-18 → 2024-03-02"
    assert line + "; orbits A014, D079" in page  # in the alert list, beside the measurements
    assert page.count("class='radar'") == 1  # only the alert with radar evidence
    data = json.loads(re.search(r"<script id='sitewatch-data'[^>]*>(.*?)</script>", page, re.S).group(1))
    assert list(data["sites"]["alpha"]["radar"].values()) == [line + "; orbits A014, D079"]
    assert "radar (Sentinel-1)" in page  # the detail pane's row (brief.js)


def test_no_radar_evidence_without_sar(run_dir: Path) -> None:
    page = build_brief(run_dir)
    assert "class='radar'" not in page
