"""The code stays ruff-clean and mypy-clean: checked as part of the test command."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(exe).exists():
        pytest.skip(f"{name} is not installed (pip install -e '.[dev]')")
    return exe


def test_ruff_lint():
    out = subprocess.run(
        [_tool("ruff"), "check", "src", "tests", "scripts"], cwd=REPO, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_ruff_format():
    out = subprocess.run(
        [_tool("ruff"), "format", "--check", "src", "tests", "scripts"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy():
    out = subprocess.run([_tool("mypy")], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_core_imports_no_io_layers():
    """The core never imports providers, the CLI, pipelines or network clients, and opens no files.

    ``rasterio.features`` (vectorising arrays) is pure and allowed; ``rasterio.open`` is I/O and is not.
    """
    forbidden_imports = (
        "sitewatch.providers",
        "sitewatch.cli",
        "sitewatch.pipeline",
        "sitewatch.batch",
        "sentinelhub",
        "pystac_client",
        "requests",
        "urllib",
        "odc.stac",
        "http",
    )
    forbidden_calls = ("rasterio.open(", "open(", "to_netcdf(", "to_zarr(", ".write_text(", ".write_bytes(")
    for folder in ("core", "objects"):
        for path in (REPO / "src" / "sitewatch" / folder).rglob("*.py"):
            text = path.read_text()
            for name in forbidden_imports:
                assert f"import {name}" not in text and f"from {name}" not in text, f"{path} imports {name}"
            code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
            for call in forbidden_calls:
                assert f" {call}" not in code and f"({call}" not in code and f"={call}" not in code, (
                    f"{path} calls {call} (I/O belongs in providers/, export or pipeline)"
                )
