"""Issue 13 item 4 and issue 17 item 10: levels, third-party noise, progress on terminals only."""

from __future__ import annotations

import io
import logging
import warnings

import click
import pytest

from sitewatch.cli.logs import scan_progress, setup_logging
from sitewatch.errors import DataWarning
from sitewatch.pipeline.stages import ScanEvent


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    showwarning, filters = warnings.showwarning, list(warnings.filters)
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("sitewatch").setLevel(logging.NOTSET)
    warnings.showwarning = showwarning
    warnings.filters[:] = filters


def _emit_all() -> None:
    logging.getLogger("sitewatch.pipeline.scan").info("ours-info")
    logging.getLogger("sitewatch.pipeline.scan").debug("ours-debug")
    logging.getLogger("sitewatch.pipeline.scan").error("ours-error")
    logging.getLogger("urllib3.connectionpool").warning("Retrying (Retry(total=2)) after connection broken")
    logging.getLogger("rasterio._env").debug("GDAL chatter")
    logging.getLogger("distributed.worker").warning("dask worker warning")
    logging.getLogger("rasterio._err").error("_tiffWriteProc:No space left on device")


@pytest.mark.parametrize(
    ("verbose", "quiet", "shown", "hidden"),
    [
        (0, True, ["ours-error"], ["ours-info", "Retrying", "dask worker", "_tiffWriteProc"]),
        (0, False, ["ours-error"], ["ours-info", "Retrying", "GDAL chatter", "dask worker"]),
        (1, False, ["ours-info", "ours-error"], ["ours-debug", "Retrying", "GDAL chatter", "_tiffWriteProc"]),
        (2, False, ["ours-info", "ours-debug"], ["Retrying", "GDAL chatter", "dask worker"]),
        (3, False, ["ours-debug", "DEBUG urllib3.connectionpool: Retrying", "GDAL chatter"], []),
    ],
)
def test_levels(verbose: int, quiet: bool, shown: list[str], hidden: list[str], capsys) -> None:
    setup_logging(verbose, quiet)
    _emit_all()
    err = capsys.readouterr().err
    for text in shown:
        assert text in err, (text, err)
    for text in hidden:
        assert text not in err, (text, err)
    if verbose == 3:
        # third-party lines go through our logging, demoted to DEBUG
        assert "WARNING urllib3" not in err and "DEBUG distributed.worker: dask worker" in err


def test_warnings_ours_shown_libraries_only_at_debug(capsys) -> None:
    setup_logging(0, False)
    warnings.simplefilter("always")  # the test suite turns warnings into errors
    warnings.warn("the data covers 40 % of AOI x", DataWarning, stacklevel=1)
    warnings.warn("Dataset has no geotransform", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    assert "sitewatch: warning: the data covers 40 % of AOI x" in err
    assert "geotransform" not in err
    setup_logging(3, False)
    warnings.simplefilter("always")
    warnings.warn("Dataset has no geotransform", UserWarning, stacklevel=1)
    assert "DEBUG py.warnings" in capsys.readouterr().err
    setup_logging(0, True)
    warnings.warn("the data covers 40 % of AOI x", DataWarning, stacklevel=1)
    assert capsys.readouterr().err == ""


EVENTS = [
    ScanEvent("scenes_found", "site", count=12),
    ScanEvent("scenes_loaded", "site", count=12),
    *(
        ScanEvent("stage_done", "site", stage=s)
        for s in ("quality", "register", "history", "objects", "alerts")
    ),
]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run_progress(monkeypatch: pytest.MonkeyPatch, stream: io.StringIO, *, quiet: bool) -> str:
    monkeypatch.delenv("SITEWATCH_PROGRESS", raising=False)
    monkeypatch.setattr("sys.stderr", stream)
    ctx = click.Context(click.Command("x"), obj={"quiet": quiet, "verbose": 0})
    with ctx, scan_progress("site", ctx) as on_event:
        for event in EVENTS:
            on_event(event)
    return stream.getvalue()


def test_progress_is_a_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _run_progress(monkeypatch, _Terminal(), quiet=False)
    assert "\r" in text and "7/7" in text and "history" in text


def test_progress_is_plain_lines_without_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _run_progress(monkeypatch, io.StringIO(), quiet=False)
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == len(EVENTS)
    assert lines[0].strip() == "site: searched: 12 scene(s)" and "objects (12 scenes)" in lines[5]


def test_progress_hidden_with_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run_progress(monkeypatch, _Terminal(), quiet=True) == ""
    assert _run_progress(monkeypatch, io.StringIO(), quiet=True) == ""
