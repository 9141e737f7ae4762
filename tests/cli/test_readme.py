"""Issue 13 item 7: the README's shell and Python examples run as written, against the demo's output.

The code blocks are read from README.md. A block preceded by ``<!-- readme-test: skip: why -->``
is not run (set-up, listings, examples that need your own data or the network: the README says
what to replace). The working folder holds the demo's output as ``sitewatch-demo/`` (the session's
one demo run) and ``../shared`` as beside a clone.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner

from sitewatch.cli.main import cli

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
SHARED = README.parent.parent / "shared"
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b[^>]*-->\s*$")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def readme_blocks() -> list[tuple[int, str, str]]:
    """``(line, language, code)`` of every README code block not marked to skip."""
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        if SKIP.search(before):
            continue
        blocks.append((text[: match.start()].count("\n") + 1, match.group(1), match.group(2)))
    return blocks


def test_every_unmarked_block_is_runnable_shell_or_python() -> None:
    blocks = readme_blocks()
    assert any(lang == "python" for _, lang, _ in blocks) and any(lang == "" for _, lang, _ in blocks)
    for line, lang, code in blocks:
        assert lang in ("", "python", "sh", "bash"), f"README line {line}: block language {lang!r}"
        if lang != "python":
            for cmd in code.splitlines():
                assert not cmd.strip() or cmd.startswith("sitewatch "), (
                    f"README line {line}: {cmd!r} is not a sitewatch command; mark the block "
                    "<!-- readme-test: skip: why --> if it cannot run as written"
                )


@pytest.fixture
def workdir(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "sitewatch-demo").symlink_to(demo_dir, target_is_directory=True)
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    monkeypatch.chdir(clone)
    return clone


def test_readme_examples_run(workdir: Path) -> None:
    namespace: dict[str, object] = {}
    ran = 0
    for line, lang, code in readme_blocks():
        if "../shared" in code and not SHARED.is_dir():
            continue  # the samples beside the clone are absent here
        if lang == "python":
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, f"README.md:{line}", "exec"), namespace)
            ran += 1
            continue
        for cmd in filter(None, (c.strip() for c in code.splitlines())):
            args = shlex.split(cmd, comments=True)[1:]  # as a shell reads it: "# ..." is a comment
            if args[:1] == ["demo"] and "--out" not in args and len(args) == 1:
                assert (workdir / "sitewatch-demo" / "alerts.geojson").is_file()  # the session's demo
                continue
            res = CliRunner().invoke(cli, args)
            assert res.exit_code == 0, f"README line {line}: {cmd}\n{res.output}"
            assert "Traceback" not in res.output
            ran += 1
    assert ran >= 5
    assert os.path.isfile("alerts.geojson") and os.path.isdir("ql")  # the main job's scan wrote them
