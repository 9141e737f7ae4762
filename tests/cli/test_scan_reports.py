"""``sitewatch scan --aoi ... --reports DIR``: extract, link and cite in one go (single site)."""

import json

import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli
from sitewatch.simulate import Pad, simulate_site

pytestmark = pytest.mark.e2e

REPORT = """Satellite pictures show new work at the Tiny Test base

Published 2024-10-02.

Between May and June 2024, engineers levelled the ground at the Tiny Test base and laid a concrete
pad measuring about 150 by 80 meters.
A transport aircraft reportedly landed at the Tiny Test base on June 3, 2024.
"""


REPORT_AR = """أعمال إنشاءات في قاعدة الاختبار الصغيرة

نُشر في 2024-10-03.

بين أيار وحزيران 2024، قامت الجرافات بأعمال تسوية الأرض في قاعدة الاختبار الصغيرة وصبّ أرضية إسمنتية
بأبعاد تقارب 150 × 80 متراً.
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sim")
    sim = simulate_site(
        tmp / "sim",
        start="2024-03-01",
        end="2024-09-30",
        size_px=48,
        base=False,
        events=[Pad("pad-1", (0, 0), 150, 80, 30, "2024-06-01")],
        name="tiny-test",
        seed=2,
    )
    aoi_doc = json.loads(sim.aoi_path.read_text())
    aoi_file = tmp / "tiny-test.geojson"
    aoi_doc["properties"].update(
        name="tiny-test", display_name="Tiny Test base", aliases=["Tiny Test base", "قاعدة الاختبار الصغيرة"]
    )
    aoi_file.write_text(json.dumps(aoi_doc))
    reports = tmp / "reports"
    reports.mkdir()
    (reports / "tiny-test-2024-10-02.txt").write_text(REPORT)
    (reports / "ar-2024-10-03.txt").write_text(REPORT_AR, encoding="utf-8")
    return sim, aoi_file, reports


def test_scan_with_reports_cites_claims_in_alerts(site, tmp_path):
    sim, aoi_file, reports = site
    out = tmp_path / "alerts.geojson"
    args = [
        "scan",
        "--aoi",
        str(aoi_file),
        "--source",
        f"local:{sim.scenes_dir}",
        "--start",
        "2024-03-01",
        "--end",
        "2024-09-30",
        "--out",
        str(out),
        "--reports",
        str(reports),
    ]
    result = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    alerts = json.loads(out.read_text())
    pads = [f for f in alerts["features"] if f["properties"]["change_type"] == "new_pad"]
    assert pads, alerts["features"]
    cited = pads[0]["properties"]["claims"]
    english = [c for c in cited if c["event"] == "construction" and c["source"] == "tiny-test-2024-10-02.txt"]
    assert [c["verdict"] for c in english] == ["supported"]
    links = json.loads((tmp_path / "alerts.links.json").read_text())
    verdicts = {
        link["event"]: link["verdict"]
        for link in links["links"]
        if link["claim"]["source"]["file"].startswith("tiny")
    }
    assert verdicts["construction"] == "supported"
    assert verdicts["air_activity"] == "not_visible"
    claims = json.loads((tmp_path / "alerts.claims.json").read_text())
    assert all(c["site"] == "tiny-test" for c in claims["claims"])
    # The Arabic report's claim is linked and cited like the English one.
    (arabic,) = [c for c in claims["claims"] if c["language"] == "ar" and c["event"] == "construction"
                 and c["quantities"]]  # fmt: skip
    assert set(arabic["works"]) == {"surface", "levelling"}
    assert [q["length_m"] for q in arabic["quantities"] if q["kind"] == "dimensions"] == [150.0]
    ar_link = next(lk for lk in links["links"] if lk["claim_id"] == arabic["id"])
    assert ar_link["verdict"] in ("supported", "partly_supported") and ar_link["alerts"]


def test_missing_reports_folder_fails_before_scanning(site, tmp_path):
    sim, aoi_file, _ = site
    result = CliRunner().invoke(
        cli,
        [
            "scan",
            "--aoi",
            str(aoi_file),
            "--source",
            f"local:{sim.scenes_dir}",
            "--start",
            "2024-03-01",
            "--end",
            "2024-09-30",
            "--out",
            str(tmp_path / "a.geojson"),
            "--reports",
            str(tmp_path / "nope"),
        ],
    )
    assert result.exit_code == 2  # a usage error, caught by the option itself before any work
    assert "--reports" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "a.geojson").exists()
