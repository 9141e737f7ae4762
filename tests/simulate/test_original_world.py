"""The original world is unchanged: the same arguments write the same scenes and truth as always.

The demo, the tests and the benchmark sets recorded before the simulator became a package
depend on it. The checksum below was computed with the single-module simulator (commit
03711a4) and equals the package's output; it covers every scene's name, tags, band names
and decoded pixel values, and the bytes of ``truth.geojson`` and ``aoi.geojson`` (decoded
pixels rather than file bytes, so a different deflate library cannot break it). If a NumPy
or SciPy upgrade changes the random streams or filters, recompute it with the previous
release of those libraries before trusting a new value.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import rasterio

from sitewatch.simulate import Earthworks, Evacuation, Pad, RunwayExtension, World, simulate_site

ORIGINAL_CHECKSUM = "3e5985523c49a082717ea6e3df103dc4937dd5f44a83a58be773831af9ce6b42"
EVENTS = [
    Pad("pad", (-60.0, 70.0), 90.0, 50.0, 30.0, "2024-11-20", earthworks_days=15),
    RunwayExtension("rw", 80.0, "2024-12-10", earthworks_days=10),
    Evacuation("ev", "2024-11-01", "2024-12-05", fraction=0.7),
    Earthworks("ew", (80.0, -60.0), 60.0, 40.0, 100.0, "2024-12-01"),
]


def site_checksum(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted((root / "scenes").glob("*.tif")):
        with rasterio.open(path) as src:
            h.update(path.name.encode())
            h.update(src.read().tobytes())
            h.update(json.dumps(src.tags(), sort_keys=True).encode())
            h.update(str(src.descriptions).encode())
    h.update((root / "truth.geojson").read_bytes())
    h.update((root / "aoi.geojson").read_bytes())
    return h.hexdigest()


def simulate(root: Path, **kw):
    return simulate_site(
        root,
        start="2024-10-01",
        end="2025-01-15",
        size_px=48,
        revisit_days=6,
        seed=5,
        events=EVENTS,
        runway_length_m=300.0,
        name="hashsite",
        **kw,
    )


def test_default_arguments_write_the_original_files(tmp_path: Path):
    site = simulate(tmp_path)
    assert len(site.dates) == 16
    assert site_checksum(tmp_path) == ORIGINAL_CHECKSUM


def test_an_explicit_default_world_is_the_original(tmp_path: Path):
    simulate(tmp_path, world=World())
    assert site_checksum(tmp_path) == ORIGINAL_CHECKSUM
