"""Published outlines: their own (geodesic) area matches the measured area; shapes stay themselves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod
from shapely.geometry import shape

from sitewatch.alerts import quote_final_size
from sitewatch.cli.main import cli
from sitewatch.core.outline import OutlineRules, fitted_outline, smooth_rings
from sitewatch.simulate import Pad, simulate_site

GEOD = Geod(ellps="WGS84")


def pixel_rectangle(length: float, width: float, angle_deg: float, res: float = 10.0) -> shapely.Polygon:
    """The union of the res-sized pixels whose centres fall in a rotated rectangle (a vectorised pad)."""
    rect = shapely.affinity.rotate(
        shapely.box(-length / 2, -width / 2, length / 2, width / 2), 90 - angle_deg
    )
    half = max(length, width)
    xs = np.arange(-half, half + res, res)
    cells = [
        shapely.box(x - res / 2, y - res / 2, x + res / 2, y + res / 2)
        for x in xs
        for y in xs
        if rect.contains(shapely.Point(x, y))
    ]
    return shapely.union_all(cells)


@pytest.mark.parametrize("seed", range(6))
def test_rectangle_for_compact_pads_has_the_measured_area_and_orientation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    width, angle = rng.uniform(40, 90), rng.uniform(0, 180)
    length = width * rng.uniform(1.0, 3.5)  # compact: within OutlineRules.max_aspect
    stair = pixel_rectangle(length, width, angle)
    out = fitted_outline(
        stair,
        area_m2=length * width,
        length_m=length,
        width_m=width,
        orientation_deg=angle,
        pixel_size_m=10.0,
    )
    assert len(out.exterior.coords) == 5  # a rectangle
    assert out.area == pytest.approx(length * width, rel=1e-6)
    assert abs(stair.area - length * width) / (length * width) > 0.0  # the staircase did not match
    long_edge = max(
        (np.subtract(out.exterior.coords[i + 1], out.exterior.coords[i]) for i in range(4)),
        key=lambda e: math.hypot(*e),
    )
    got = math.degrees(math.atan2(long_edge[0], long_edge[1])) % 180
    assert abs((got - angle + 90) % 180 - 90) < 0.5
    assert out.intersection(stair).area / stair.area > 0.85


def test_strip_keeps_its_shape_and_is_offset_to_the_area() -> None:
    strip = pixel_rectangle(300, 60, 60)
    target = strip.area * 1.15
    out = fitted_outline(
        strip, area_m2=target, length_m=300, width_m=60, orientation_deg=60, pixel_size_m=10.0
    )
    assert len(out.exterior.coords) > 5  # not a rectangle: aspect 5 is a strip
    assert out.area == pytest.approx(target, rel=0.01)
    assert out.buffer(1e-6).contains(smooth_rings(strip))


def test_offset_is_bounded_so_a_wrong_measurement_is_not_papered_over() -> None:
    blob = shapely.Point(0, 0).buffer(100).union(shapely.box(0, -20, 300, 20))
    kw = {"length_m": 400.0, "width_m": 200.0, "orientation_deg": 90.0, "pixel_size_m": 10.0}
    out = fitted_outline(blob, area_m2=blob.area * 3, **kw)
    assert blob.area < out.area < blob.area * 1.5  # moved by one pixel at most
    same = fitted_outline(blob, area_m2=blob.area * 3, **kw, rules=OutlineRules(max_offset_px=0.0))
    assert same.area == pytest.approx(smooth_rings(blob).area)


def test_unknown_area_keeps_the_outline() -> None:
    sq = shapely.box(0, 0, 10, 10)
    assert (
        fitted_outline(sq, area_m2=float("nan"), length_m=10, width_m=10, orientation_deg=0, pixel_size_m=1.0)
        is sq
    )


def test_reasons_quote_the_final_size() -> None:
    reasons = [
        "concrete-like; 203 m x 106 m, rectangularity 0.83",
        "levelled first",
        "strip 1,203.5 m x 61 m",
    ]
    assert quote_final_size(reasons, 190.8, 92.3) == [
        "concrete-like; 191 m x 92 m, rectangularity 0.83",
        "levelled first",
        "strip 191 m x 92 m",
    ]


@pytest.mark.e2e
def test_scanned_pads_geodesic_area_within_10_percent(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    pads = [
        Pad(
            f"pad{i}",
            (float(x), float(y)),
            float(rng.uniform(80, 170)),
            float(rng.uniform(50, 80)),
            float(rng.uniform(0, 180)),
            "2024-12-20",
        )
        for i, (x, y) in enumerate([(-250.0, 250.0), (250.0, -200.0)])
    ]
    site = simulate_site(
        tmp_path / "sim",
        start="2024-10-01",
        end="2025-01-31",
        size_px=120,
        revisit_days=6,
        seed=9,
        events=pads,
    )
    out = tmp_path / "alerts.geojson"
    args = ["scan", "--aoi", str(site.aoi_path), "--source", f"local:{site.scenes_dir}"]
    res = CliRunner().invoke(cli, [*args, "--start", "2024-10-01", "--end", "2025-01-31", "--out", str(out)])
    assert res.exit_code == 0, res.output
    truth = [
        shape(f["geometry"])
        for f in json.loads(site.truth_path.read_text())["features"]
        if f["properties"]["name"].startswith("pad")
    ]
    matched = 0
    for f in json.loads(out.read_text())["features"]:
        p, geom = f["properties"], shape(f["geometry"])
        if not any(geom.intersects(t) for t in truth):
            continue
        matched += 1
        geodesic = abs(GEOD.geometry_area_perimeter(geom)[0])
        assert geodesic == pytest.approx(p["area_m2"], rel=0.10), p["id"]
        size = f"{p['length_m']:.0f} m x {p['width_m']:.0f} m"
        quoted = [r for r in p["evidence"]["reasons"] if " m x " in r]
        assert all(size in r for r in quoted), (size, quoted)
    assert matched == 2
