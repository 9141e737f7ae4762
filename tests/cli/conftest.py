"""Fixtures of the command-line tests: one small demo per test session, shared read-only."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

SHARED_REPORTS = Path(__file__).resolve().parents[2].parent / "shared" / "reports"

#: The demo the README examples and the rerun tests start from (small and quick).
DEMO_ARGS = ["--size-px", "250", "--revisit-days", "10"]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``sitewatch demo`` run once into a temporary folder (with the bundled reports when present)."""
    from sitewatch.cli.main import cli

    out = tmp_path_factory.mktemp("demo-session") / "sitewatch-demo"
    extra = ["--reports", str(SHARED_REPORTS)] if SHARED_REPORTS.is_dir() else []
    res = CliRunner().invoke(cli, ["demo", "--out", str(out), *DEMO_ARGS, *extra])
    assert res.exit_code == 0, res.output
    return out
