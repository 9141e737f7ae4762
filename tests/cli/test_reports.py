import json

import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e


def _scenes(start_month: int, end_month: int, year: int = 2025) -> list[dict]:
    return [
        {
            "id": f"S2_{year}{m:02d}{d:02d}",
            "date": f"{year}-{m:02d}-{d:02d}",
            "clear_fraction": 0.9,
            "shift_px": 0.1,
        }
        for m in range(start_month, end_month + 1)
        for d in (5, 15, 25)
    ]


def _alerts(aoi: str, features: list[dict]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": features,
        "sitewatch": {
            "version": "1",
            "aoi": aoi,
            "source": "test",
            "simulated": True,
            "start": "2024-10-01",
            "end": "2025-12-31",
            "scenes_used": [
                *_scenes(1, 12),
                {"id": "S2_20241005", "date": "2024-10-05", "clear_fraction": 0.9, "shift_px": 0.0},
                {"id": "S2_20241115", "date": "2024-11-15", "clear_fraction": 0.9, "shift_px": 0.0},
                {"id": "S2_20241215", "date": "2024-12-15", "clear_fraction": 0.9, "shift_px": 0.0},
            ],
            "scenes_dropped": [],
        },
    }


def _pad(id_: str, last: str, first: str) -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [40.51, 36.70]},
        "properties": {
            "id": id_,
            "aoi": "qasrak",
            "change_type": "new_pad",
            "detail": "",
            "status": "confirmed",
            "confidence": 0.9,
            "confidence_parts": {},
            "last_unchanged": last,
            "first_detected": first,
            "area_m2": 18000.0,
            "length_m": 195.0,
            "width_m": 92.0,
            "orientation_deg": 10.0,
            "evidence": {"indices": [], "dates": [], "scene_ids": []},
            "quicklook": None,
            "simulated": True,
        },
    }


def test_extract_then_link_with_markdown(shared_dir, tmp_path):
    runner = CliRunner()
    claims = tmp_path / "claims.json"
    res = runner.invoke(cli, ["reports", "extract", str(shared_dir / "reports"), "--out", str(claims)])
    assert res.exit_code == 0, res.output
    doc = json.loads(claims.read_text())
    assert doc["sitewatch_claims"] and len(doc["claims"]) > 10

    qasrak = tmp_path / "qasrak.geojson"
    qasrak.write_text(json.dumps(_alerts("qasrak", [_pad("qasrak-0001", "2025-02-05", "2025-02-15")])))
    conoco = tmp_path / "conoco.geojson"
    conoco.write_text(json.dumps(_alerts("conoco", [])))
    links, md = tmp_path / "links.json", tmp_path / "brief.md"
    res = runner.invoke(
        cli,
        [
            "reports",
            "link",
            "--claims",
            str(claims),
            "--alerts",
            str(qasrak),
            "--alerts",
            str(conoco),
            "--out",
            str(links),
            "--markdown",
            str(md),
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(links.read_text())
    assert out["summary"]["supported"] >= 1 and out["summary"]["contradicted"] >= 1
    assert out["summary"]["not_visible"] >= 1
    text = md.read_text()
    assert "## qasrak" in text and "qasrak-0001" in text and "## conoco" in text


def test_extract_to_stdout_with_published(tmp_path):
    report = tmp_path / "r.txt"
    report.write_text("Engineers levelled a 150 by 90 m area at the Qasrak base on Saturday.")
    res = CliRunner().invoke(cli, ["reports", "extract", str(report), "--published", "2025-04-20"])
    assert res.exit_code == 0, res.output
    (claim,) = json.loads(res.output)["claims"]
    assert claim["site"] == "qasrak" and claim["event"] == "construction"
    assert claim["when"]["start"] == "2025-04-19"


def test_bad_inputs_are_one_line_errors(tmp_path):
    runner = CliRunner()
    binary = tmp_path / "x.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    res = runner.invoke(cli, ["reports", "extract", str(binary)])
    assert res.exit_code == 1 and "binary" in res.output and "Traceback" not in res.output
    bad = tmp_path / "claims.json"
    bad.write_text('{"claims": 3}')
    alerts = tmp_path / "a.geojson"
    alerts.write_text(json.dumps(_alerts("qasrak", [])))
    res = runner.invoke(cli, ["reports", "link", "--claims", str(bad), "--alerts", str(alerts)])
    assert res.exit_code == 1 and "not a sitewatch claims file" in res.output
    res = runner.invoke(cli, ["reports", "extract", str(tmp_path / "missing.txt")])
    assert res.exit_code == 1 and "does not exist" in res.output


def _claims_file(tmp_path, site="qasrak"):
    report = tmp_path / "r.txt"
    report.write_text("Engineers laid a concrete pad at the Qasrak base on 15 February 2025.")
    claims = tmp_path / "claims.json"
    res = CliRunner().invoke(
        cli, ["reports", "extract", str(report), "--published", "2025-03-01", "--out", str(claims)]
    )
    assert res.exit_code == 0, res.output
    return claims


def _compare_geojson(path, lon=40.512, lat=36.706):
    d = 0.001
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    feat = {
        "type": "Feature",
        "id": "change-1",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "label": 1,
            "area_m2": 5000.0,
            "confidence": 0.8,
            "before": "2025-02-05",
            "after": "2025-02-25",
        },
    }
    meta = {
        "before": {"id": "a", "date": "2025-02-05"},
        "after": {"id": "b", "date": "2025-02-25"},
        "clear_fraction": [0.9, 0.9],
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feat], "sitewatch": meta}))
    return path


def test_link_accepts_a_compare_result(tmp_path):
    claims = _claims_file(tmp_path)
    changes = _compare_geojson(tmp_path / "changes.geojson")
    res = CliRunner().invoke(cli, ["reports", "link", "--claims", str(claims), "--alerts", str(changes)])
    assert res.exit_code == 0, res.output
    assert "its changes lie in qasrak" in res.stderr
    (link,) = json.loads(res.stdout)["links"]
    assert link["verdict"] == "partly_supported" and link["site"] == "qasrak"
    elsewhere = _compare_geojson(tmp_path / "paris.geojson", lon=2.35, lat=48.85)
    res = CliRunner().invoke(cli, ["reports", "link", "--claims", str(claims), "--alerts", str(elsewhere)])
    assert res.exit_code == 1 and "--aoi" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(
        cli, ["-q", "reports", "link", "--claims", str(claims), "--alerts", str(elsewhere), "--aoi", "Qasrek"]
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["links"][0]["verdict"] == "partly_supported" and not res.stderr


def test_link_accepts_a_runs_merged_alerts(tmp_path):
    claims = _claims_file(tmp_path)
    site = _alerts("qasrak", [_pad("qasrak-0001", "2025-02-05", "2025-02-15")])
    (tmp_path / "run" / "aois" / "qasrak").mkdir(parents=True)
    (tmp_path / "run" / "aois" / "qasrak" / "alerts.geojson").write_text(json.dumps(site))
    merged = {
        "type": "FeatureCollection",
        "features": site["features"],
        "sitewatch": {"run": "r", "start": "2024-10-01", "end": "2025-12-31", "aois": ["qasrak"]},
    }
    (tmp_path / "run" / "alerts.geojson").write_text(json.dumps(merged))
    res = CliRunner().invoke(
        cli,
        ["reports", "link", "--claims", str(claims), "--alerts", str(tmp_path / "run" / "alerts.geojson")],
    )
    assert res.exit_code == 0, res.output
    (link,) = json.loads(res.stdout)["links"]
    assert link["verdict"] == "supported" and link["alerts"][0]["id"] == "qasrak-0001"
