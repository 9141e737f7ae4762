"""Issue 13 item 5: ``import sitewatch`` and ``sitewatch --help`` load no heavy library (a behaviour,
not a timing: the times are in scripts/bench_cli.py)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("xarray", "rasterio", "dask", "skimage", "scipy", "pandas", "trafilatura")


def _heavy_after(code: str) -> list[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_sitewatch_imports_no_heavy_library() -> None:
    assert _heavy_after("import sitewatch") == []


def test_cli_help_and_version_import_no_heavy_library() -> None:
    for argv in (["--help"], ["--version"]):
        code = (
            "from sitewatch.cli.main import cli\n"
            f"try:\n    cli.main({argv!r}, standalone_mode=False)\nexcept SystemExit:\n    pass"
        )
        assert _heavy_after(code) == [], argv


def test_every_public_name_resolves_lazily() -> None:
    import sitewatch

    for name in sitewatch.__all__:
        assert getattr(sitewatch, name) is not None, name
    assert set(sitewatch.__all__) <= set(dir(sitewatch))
    assert sitewatch.scan.__module__ == "sitewatch.pipeline.scan"


def test_unknown_name_is_an_attribute_error() -> None:
    import pytest

    import sitewatch

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sitewatch.nope  # noqa: B018
