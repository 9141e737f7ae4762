"""The analyst's page and the Markdown timeline show partly supported verdicts with their parts."""

from pathlib import Path

from alert_builders import alert, collection, scenes_every

import fake_scan
from fake_scan import box_aoi
from sitewatch.batch import scan_all
from sitewatch.brief import write_brief
from sitewatch.reports import Claim, brief_markdown, link_claims, links_document
from sitewatch.runs import atomic_write_json


def _claim() -> Claim:
    quote = "land was levelled and covered with concrete, about 193 by 94 m"
    return Claim(
        id="c1",
        source={"file": "r.txt", "publisher": "Test"},
        quote={"start": 0, "end": 10, "text": quote},
        site="alpha",
        site_text="Alpha",
        site_kind="site",
        site_match="exact",
        event="construction",
        trigger="levelled",
        when={"start": "2024-02-01", "end": "2024-03-15"},
        quantities=(
            {
                "kind": "dimensions",
                "value": 18142.0,
                "unit": "m2",
                "length_m": 193.0,
                "width_m": 94.0,
                "text": "193 by 94 m",
            },
        ),
    )


def test_partly_supported_in_the_markdown_and_the_page(tmp_path: Path) -> None:
    scenes = scenes_every("2024-01-01", "2024-08-01")
    col = collection(
        "alpha",
        [alert("alpha-earth", "earthworks", "2024-02-10", "2024-02-20", area_m2=9000, aoi="alpha")],
        scenes,
        start="2024-01-01",
        end="2024-08-01",
    )
    links = link_claims([_claim()], col, places=[])
    assert links[0].verdict == "partly_supported"
    md = brief_markdown([_claim()], links, col)
    assert "partly supported (moderate)" in md or "partly supported (weak)" in md
    assert "unverified: type surface" in md and "fits: type levelling" in md

    out = tmp_path / "run"
    scan_all(
        [box_aoi("alpha")],
        "fake:",
        start="2024-01-01",
        end="2024-08-01",
        out_dir=out,
        scan_fn=fake_scan.fake_scan,
        scheduler="serial",
    )
    atomic_write_json(out / "aois" / "alpha" / "links.json", links_document(links, [_claim()]))
    page = write_brief(out).read_text(encoding="utf-8")
    assert "partly supported" in page and "#8FC9A8" in page
    assert "<b>unverified</b>: type surface" in page and "<b>fits</b>" in page
