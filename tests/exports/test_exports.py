"""Exports people open: KMZ/KML (validated against OGC KML 2.2), GeoPackage and CSV read back with GDAL."""

from __future__ import annotations

import csv
import datetime as dt
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from lxml import etree

from sitewatch.cli.main import cli
from sitewatch.exports import export_alerts, format_for, read_alerts_source
from sitewatch.exports.kml import conform_kml
from sitewatch.runs import atomic_write_json
from sitewatch.simulate import Pad, simulate_site

pyogrio = pytest.importorskip("pyogrio")
pytestmark = pytest.mark.e2e

KML_NS = "{http://www.opengis.net/kml/2.2}"


def kml_schema() -> etree.XMLSchema:
    """The OGC KML 2.2 schema as the pykml package ships it (with its atom and xAL imports, local)."""
    pykml = pytest.importorskip("pykml", reason="pykml ships the OGC KML 2.2 XSD")
    xsd = Path(pykml.__file__).parent / "schemas" / "ogckml22.xsd"
    return etree.XMLSchema(etree.parse(str(xsd)))


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated site with two pads of random size and orientation, scanned through the CLI."""
    rng = np.random.default_rng(14)
    out = tmp_path_factory.mktemp("export")
    pads = [
        Pad(
            f"pad{i}",
            (float(rng.uniform(-350, 350)), float(rng.uniform(-350, 350)) * (1 if i else -1)),
            float(rng.uniform(90, 160)),
            float(rng.uniform(50, 80)),
            float(rng.uniform(0, 180)),
            "2024-12-20",
        )
        for i in range(2)
    ]
    site = simulate_site(
        out / "sim", start="2024-10-01", end="2025-01-31", size_px=120, revisit_days=6, seed=5, events=pads
    )
    res = CliRunner().invoke(
        cli,
        [
            "scan",
            "--aoi",
            str(site.aoi_path),
            "--source",
            f"local:{site.scenes_dir}",
            "--start",
            "2024-10-01",
            "--end",
            "2025-01-31",
            "--out",
            str(out / "alerts.kmz"),
            "--quicklooks",
            str(out / "quicklooks"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "export: " in res.output
    # claims as the reports module writes them beside a collection (claims_document / links_document)
    claims = {
        "sitewatch_claims": "1.0",
        "claims": [
            {
                "id": "c1",
                "site": site.aoi.name,
                "event": "construction",
                "quote": {"text": "New concrete pads were poured"},
                "when": {"text": "late December 2024", "start": "2024-12-15", "end": "2024-12-31"},
                "source": {"publisher": "Test Wire", "url": "https://example.invalid/a"},
            },
            {"id": "c2", "site": site.aoi.name, "event": "withdrawal", "quote": {"text": "They left."}},
        ],
    }
    collection = json.loads((out / "alerts.geojson").read_text())
    first = collection["features"][0]["properties"]["id"]
    links = {
        "links": [
            {"claim_id": "c1", "verdict": "supported", "reason": "pads seen", "alerts": [{"id": first}]}
        ]
    }
    atomic_write_json(out / "alerts.claims.json", claims)
    atomic_write_json(out / "alerts.links.json", links)
    return out


def test_scan_out_kmz_writes_geojson_and_a_valid_kmz(scanned: Path) -> None:
    collection = json.loads((scanned / "alerts.geojson").read_text())
    alerts = collection["features"]
    assert len(alerts) >= 2  # both pads found (their typing is tested elsewhere)
    with zipfile.ZipFile(scanned / "alerts.kmz") as zf:
        names = zf.namelist()
        assert names[0] == "doc.kml"
        doc = etree.fromstring(zf.read("doc.kml"))
    schema = kml_schema()
    assert schema.validate(doc), schema.error_log
    placemarks = doc.findall(f".//{KML_NS}Placemark")
    by_id = {
        p.findtext(f"{KML_NS}ExtendedData/{KML_NS}Data[@name='id']/{KML_NS}value"): p for p in placemarks
    }
    for feat in alerts:
        p = feat["properties"]
        pm = by_id[p["id"]]
        assert pm.findtext(f"{KML_NS}name").endswith(p["first_detected"])
        assert pm.findtext(f"{KML_NS}TimeSpan/{KML_NS}begin") == p["last_unchanged"]
        assert pm.findtext(f"{KML_NS}TimeSpan/{KML_NS}end") == p["first_detected"]
        balloon = pm.findtext(f"{KML_NS}description")
        assert f"files/{p['id']}.png" in balloon and f"files/{p['id']}.png" in names
        assert f"{p['area_m2']:,.0f} m²" in balloon and "SIMULATED" in balloon
        assert f"{p['confidence']:.2f}" in balloon
        style = pm.findtext(f"{KML_NS}styleUrl").lstrip("#")
        assert doc.find(f".//{KML_NS}Style[@id='{style}']") is not None
    # one folder per site, and GDAL reads it back with every alert
    assert len(doc.findall(f"{KML_NS}Document/{KML_NS}Folder")) == 1
    read = pyogrio.raw.read(f"/vsizip/{scanned / 'alerts.kmz'}/doc.kml")
    assert len(read[2]) == len(alerts) + 1  # and the watched area's outline
    names = [p.findtext(f"{KML_NS}name") for p in placemarks]
    assert sum(n.endswith("(watched area)") for n in names) == 1


def test_plain_kml_refers_to_quicklooks_relatively(scanned: Path, tmp_path: Path) -> None:
    out = export_alerts(read_alerts_source(scanned / "alerts.geojson"), tmp_path / "sub" / "a.kml")
    doc = etree.parse(str(out))
    assert kml_schema().validate(doc)
    balloon = doc.find(f".//{KML_NS}Placemark/{KML_NS}description").text
    src = balloon.split("<img src='")[1].split("'")[0]
    assert (out.parent / src).resolve().is_file()


def test_gpkg_has_typed_alerts_aois_and_claims(scanned: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["export", str(scanned / "alerts.geojson"), "--out", str(tmp_path / "a.gpkg")]
    )
    assert res.exit_code == 0, res.output
    assert "2 claims" in res.output
    gpkg = tmp_path / "a.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers["alerts"] == "MultiPolygon" and "claims" in layers
    info = pyogrio.read_info(gpkg, layer="alerts")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["first_detected"] == "OFTDate" and types["last_unchanged"] == "OFTDate"
    assert types["area_m2"] == "OFTReal" and types["simulated"] == "OFTInteger"
    meta, _, geometry, fields = pyogrio.raw.read(gpkg, layer="alerts")
    cols = dict(zip(meta["fields"], fields, strict=True))
    collection = json.loads((scanned / "alerts.geojson").read_text())
    want = {f["properties"]["id"]: f["properties"] for f in collection["features"]}
    assert set(cols["id"]) == set(want)
    for i, aid in enumerate(cols["id"]):
        assert str(cols["first_detected"][i]) == want[aid]["first_detected"]
        assert cols["area_m2"][i] == pytest.approx(want[aid]["area_m2"])
    assert all(g is not None for g in geometry)
    _, _, _, claim_fields = pyogrio.raw.read(gpkg, layer="claims")
    claim_meta = pyogrio.read_info(gpkg, layer="claims")
    claims = dict(zip(claim_meta["fields"], claim_fields, strict=True))
    verdicts = dict(zip(claims["claim_id"], claims["verdict"], strict=True))
    assert verdicts == {"c1": "supported", "c2": "not_assessed"}
    assert str(claims["when_start"][list(claims["claim_id"]).index("c1")]) == "2024-12-15"
    _, _, aoi_geoms, aoi_fields = pyogrio.raw.read(gpkg, layer="aois")
    assert list(aoi_fields[0]) and aoi_fields[2][0] == len(want)
    assert aoi_geoms[0] is not None  # the collection carries the watched outline


def test_csv_rows_match_the_collection(scanned: Path, tmp_path: Path) -> None:
    out = export_alerts(scanned / "alerts.geojson", tmp_path / "a.txt", fmt="csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    collection = json.loads((scanned / "alerts.geojson").read_text())
    assert [r["id"] for r in rows] == [f["properties"]["id"] for f in collection["features"]]
    for r in rows:
        dt.date.fromisoformat(r["first_detected"])
        assert float(r["lat"]) and float(r["lon"])


def test_format_errors_are_one_line(scanned: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["export", str(scanned / "alerts.geojson"), "--out", str(tmp_path / "a.xyz")]
    )
    assert res.exit_code == 1 and "--format" in res.output and "Traceback" not in res.output
    assert format_for("x.GPKG") == "gpkg"
    not_alerts = tmp_path / "x.geojson"
    not_alerts.write_text('{"type": "Feature"}')
    res = CliRunner().invoke(cli, ["export", str(not_alerts), "--out", str(tmp_path / "a.kmz")])
    assert res.exit_code == 1 and "not a GeoJSON FeatureCollection" in res.output
    assert not list(tmp_path.glob(".*partial*"))


def test_conform_kml_fixes_ids_and_order() -> None:
    raw = (
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document id="1"><Style id="2"/>'
        "<name>x</name><Placemark id='3'><styleUrl>#2</styleUrl><name>p</name></Placemark></Document></kml>"
    )
    doc = etree.fromstring(conform_kml(raw).encode())
    assert kml_schema().validate(doc), kml_schema().error_log
    assert doc.find(f".//{KML_NS}styleUrl").text == "#k2"
