# ruff: noqa: F811  (pytest fixtures imported from servers.py are redefined as arguments)
"""Faults thrown at the CLI (issue 17): silent servers, dead assets, credentials in URLs, full disks."""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "providers"))
from servers import (
    StacServer,
    s2_series,  # noqa: F401
    site_aoi,  # noqa: F401
    stac_server,  # noqa: F401
    write_aoi_file,
)

from sitewatch.cli.main import cli
from sitewatch.errors import ProviderError, SitewatchWarning
from sitewatch.providers.network import TIMEOUT_ENV
from sitewatch.providers.stac import StacProvider

pytestmark = pytest.mark.e2e
MAY = ("--start", "2024-05-01", "--end", "2024-05-31")


@pytest.fixture
def registry(site_aoi: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "aoi"
    write_aoi_file(folder, site_aoi)
    monkeypatch.setenv("SITEWATCH_AOI_DIR", str(folder))
    # `--timeout` travels in the environment: restore it after each test
    monkeypatch.setenv(TIMEOUT_ENV, "30")
    return folder


@pytest.fixture(autouse=True)
def shown_warnings() -> Any:
    # the CLI prints warnings as "sitewatch: warning: ..." lines (pytest would raise them)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # libraries' notices, hidden in a plain run
        warnings.simplefilter("always", SitewatchWarning)
        yield


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def error_lines(output: str) -> list[str]:
    """The lines a user reads: not progress, and not library deprecation notices (pytest shows
    those; a plain run hides DeprecationWarning)."""
    return [
        line
        for line in output.splitlines()
        if line.strip() and not line.startswith("  [") and "is deprecated" not in line
    ]


def finishes_within(seconds: float, fn: Any) -> Any:
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not end in time."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    t0 = time.monotonic()
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"still running after {seconds:g} s (a hang)"
    box["seconds"] = time.monotonic() - t0
    return box


# --------------------------------------------------------------------------- item 1: timeouts


def test_silent_catalogue_ends_in_one_error_within_the_timeout(
    stac_server: StacServer, site_aoi: Any
) -> None:
    stac_server.fail(r".*", "stall", times=1000)
    provider = StacProvider(stac_server.url, timeout_s=1, max_attempts=1)
    box = finishes_within(30, lambda: list(provider.search(site_aoi)))
    assert isinstance(box.get("error"), ProviderError), box
    assert f"127.0.0.1:{stac_server.port}" in str(box["error"])
    assert box["seconds"] < 10


def test_fetch_from_a_silent_server_is_one_line_naming_it(stac_server: StacServer, registry: Path) -> None:
    stac_server.fail(r".*", "stall", times=1000)
    source = f"stac:{stac_server.url}#sentinel-2-l2a"
    box = finishes_within(
        60, lambda: run("fetch", "--aoi", "testsite", "--source", source, *MAY, "--timeout", "1")
    )
    result = box["value"]
    assert result.exit_code == 1
    (line,) = error_lines(result.output)
    assert line.startswith("sitewatch: error:") and f"127.0.0.1:{stac_server.port}" in line
    # 3 tries of 1 s and their pauses (1 s, 2 s): documented as attempts x (timeout + pause)
    assert box["seconds"] < 20


def test_silent_cog_server_ends_in_one_line(stac_server: StacServer, registry: Path, tmp_path: Path) -> None:
    stac_server.fail(r"/files/", "stall", times=100000)
    source = f"stac:{stac_server.url}#sentinel-2-l2a"
    args = ["fetch", "--aoi", "testsite", "--source", source, *MAY, "--timeout", "1"]
    box = finishes_within(120, lambda: run(*args, "--cache-dir", str(tmp_path / "c"), "--bands", "B04"))
    result = box["value"]
    assert result.exit_code == 1
    lines = error_lines(result.output)
    assert len(lines) == 1 and "cannot read scene" in lines[0], result.output


# ------------------------------------------------------------------ items 5 and 10: dead assets, noise


def test_missing_asset_skips_the_scene_once_and_the_rest_goes_on(
    stac_server: StacServer, registry: Path, tmp_path: Path
) -> None:
    cache = str(tmp_path / "cache")
    gone = stac_server.items[1]["id"]
    stac_server.fail(rf"/files/{gone}/", "404", times=100000)
    args = ["fetch", "--aoi", "testsite", "--source", f"stac:{stac_server.url}", *MAY, "--cache-dir", cache]
    first = run(*args, "--bands", "B04,B11")
    assert first.exit_code == 0, first.output
    assert "fetched 3, already cached 0, unavailable 1" in first.output
    warned = [ln for ln in error_lines(first.output) if "warning" in ln]
    # exactly one warning naming the scene: the reading threads no longer leave the warning
    # filters at "ignore everything" (it was not shown about one run in three)
    assert len(warned) == 1 and gone in warned[0] and "404" in warned[0], first.output
    assert "resumes" not in first.output
    manifest = json.loads((tmp_path / "cache" / "testsite" / "manifest.json").read_text())
    assert manifest["unavailable"][gone]["status"] == 404
    stac_server.reset_counts()
    again = run(*args, "--bands", "B04,B11")
    assert again.exit_code == 0 and "already cached 3, unavailable 1" in again.output
    assert not stac_server.requests(f"/files/{gone}/")  # not asked again within 7 days
    stac_server.failures.clear()
    retried = run(*args, "--bands", "B04,B11", "--retry-unavailable")
    assert retried.exit_code == 0 and "fetched 1, already cached 3" in retried.output
    assert (
        gone not in json.loads((tmp_path / "cache" / "testsite" / "manifest.json").read_text())["unavailable"]
    )


def test_cog_answering_500_is_one_line(stac_server: StacServer, registry: Path, tmp_path: Path) -> None:
    stac_server.fail(r"/files/", "500", times=100000)
    args = ["fetch", "--aoi", "testsite", "--source", f"stac:{stac_server.url}", *MAY]
    result = run(*args, "--cache-dir", str(tmp_path / "c"), "--timeout", "5")
    assert result.exit_code == 1
    (line,) = error_lines(result.output)
    assert "HTTP response code: 500" in line and "resumes" in line


# --------------------------------------------------------------------------- item 3: credentials


def secret_source(server: StacServer) -> str:
    return f"stac:http://alice:SECRET-pw@127.0.0.1:{server.port}/v1?token=TOKEN-xyz#sentinel-2-l2a"


def test_credentials_never_reach_fetch_outputs(
    stac_server: StacServer, registry: Path, tmp_path: Path
) -> None:
    import os
    import subprocess

    cache = tmp_path / "cache"
    # a real process, so the -vvv log lines go through the CLI's own handlers (third-party ones too)
    args = ["-vvv", "fetch", "--aoi", "testsite", "--source", secret_source(stac_server), *MAY]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from sitewatch.cli.main import main; main()",
            *args,
            "--cache-dir",
            str(cache),
            "--bands",
            "B04",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    sent = [r["headers"].get("Authorization", "") for r in stac_server.requests("")]
    assert any(a.startswith("Basic ") for a in sent)  # the credentials were used, just never shown
    listing = run("cache", "ls", "--cache-dir", str(cache), "--json")
    texts = {
        "stdout": done.stdout,
        "logs": done.stderr,
        "manifest": (cache / "testsite" / "manifest.json").read_text(),
        "cache ls": listing.output,
    }
    assert "Headers:" in done.stderr and "DEBUG" in done.stderr  # the debug log did run
    for where, text in texts.items():
        assert "SECRET-pw" not in text and "TOKEN-xyz" not in text, where
        assert "YWxpY2U6U0VDUkVULXB3" not in text, where  # base64 of alice:SECRET-pw
    assert "token=REDACTED" in texts["manifest"]


def test_credentials_never_reach_scan_outputs(
    stac_server: StacServer, registry: Path, tmp_path: Path
) -> None:
    out = tmp_path / "alerts.geojson"
    result = run(
        "scan",
        "--aoi",
        "testsite",
        "--source",
        secret_source(stac_server),
        *MAY,
        "--cache-dir",
        str(tmp_path / "c"),
        "--out",
        str(out),
    )
    assert out.exists(), result.output
    text = out.read_text()
    for where, content in {"stdout": result.output, "alerts": text}.items():
        assert "SECRET-pw" not in content and "TOKEN-xyz" not in content, where
    assert json.loads(text)["sitewatch"]["source"].startswith(f"stac:http://127.0.0.1:{stac_server.port}/v1")


def test_credentials_never_reach_run_files_or_the_brief(
    stac_server: StacServer, registry: Path, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"
    args = ["scan", "--all", "--aoi-dir", str(registry), "--source", secret_source(stac_server), *MAY]
    args += ["--cache-dir", str(tmp_path / "c"), "--out-dir", str(run_dir), "--scheduler", "serial"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    brief = run("brief", "--run", str(run_dir))
    assert brief.exit_code == 0, brief.output
    texts = {"scan stdout": result.output, "brief stdout": brief.output}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        texts[str(path.relative_to(run_dir))] = path.read_bytes().decode("utf-8", "replace")
    assert "brief.html" in texts and any(k.endswith(".geojson") for k in texts), sorted(texts)
    for where, text in texts.items():
        assert "SECRET-pw" not in text and "TOKEN-xyz" not in text and "alice" not in text, where
    assert any("token=REDACTED" in t for t in texts.values())  # the source is there, redacted


def test_credentials_never_reach_what_a_notebook_shows(
    stac_server: StacServer, site_aoi: Any, tmp_path: Path
) -> None:
    import sitewatch

    source = secret_source(stac_server)
    provider = sitewatch.get_provider(source, cache_dir=tmp_path / "c")
    report = sitewatch.fetch_series(
        site_aoi,
        source=source,
        start=dt.date(2024, 5, 1),
        end=dt.date(2024, 5, 31),
        bands=["B04"],
        cache_dir=tmp_path / "c",
    )
    scenes = list(provider.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 31)))
    stack = provider.load(scenes, aoi=site_aoi, bands=["B04"])
    result = sitewatch.scan(site_aoi, source, start="2024-05-01", end="2024-05-31", cache_dir=tmp_path / "c")
    shown = {
        "provider": f"{provider!r} {provider} {provider.source}",
        "fetch report": repr(report),
        "stack": f"{stack!r} {stack.attrs}",
        "scan result": repr(result),
        "scan geojson": json.dumps(result.to_geojson()),
        "cache entries": repr(sitewatch.cache_entries(cache_dir=tmp_path / "c")),
    }
    for where, text in shown.items():
        assert "SECRET-pw" not in text and "TOKEN-xyz" not in text and "alice" not in text, where
    assert "token=REDACTED" in shown["scan geojson"]


# --------------------------------------------------------------------------- item 4: a full disk


def test_scan_on_a_full_disk_is_one_line_and_leaves_nothing_partial(demo_dir: Path, tmp_path: Path) -> None:
    import os
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], check=False
    ).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        (disk / "filler").write_bytes(b"\0" * (free - 3000))
        sim = demo_dir / "simulation"
        out = disk / "alerts.geojson"
        args = ["-q", "scan", "--aoi", str(sim / "aoi.geojson"), "--source", f"local:{sim / 'scenes'}"]
        args += ["--start", "2024-04-01", "--end", "2025-11-30", "--out", str(out)]
        done = subprocess.run(
            [sys.executable, "-c", "from sitewatch.cli.main import main; main()", *args],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 1
        (line,) = done.stderr.splitlines()
        assert line.startswith(f"sitewatch: error: disk full writing {disk}/") and "free 1 MB" in line, line
        files = [p for p in disk.rglob("*") if p.is_file() and p.name != "filler"]
        assert not [p for p in files if "partial" in p.name]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
