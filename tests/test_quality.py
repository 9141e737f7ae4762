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
    """The core never imports providers, the CLI, pipelines or network clients."""
    forbidden = (
        "sitewatch.providers",
        "sitewatch.cli",
        "sitewatch.pipeline",
        "sentinelhub",
        "pystac_client",
        "requests",
        "odc.stac",
        "rasterio",
    )
    for folder in ("core", "objects"):
        for path in (REPO / "src" / "sitewatch" / folder).rglob("*.py"):
            text = path.read_text()
            for name in forbidden:
                assert f"import {name}" not in text and f"from {name}" not in text, f"{path} imports {name}"
