"""The one home of the command line's logging, warnings and progress display.

Levels, as users of rasterio's ``rio`` and of dask expect:

=========  ======================================  =====================================
option     sitewatch's own lines                   third-party lines (rasterio, GDAL,
                                                   urllib3, dask, Python warnings)
=========  ======================================  =====================================
``-q``     errors only; no progress, no warnings   none
(none)     warnings; progress on a terminal        none
``-v``     + INFO: what was read, dropped, found,  none
           written
``-vv``    + DEBUG                                 none
``-vvv``   + DEBUG                                 all of them, at DEBUG
=========  ======================================  =====================================

Third-party records go through the same handler demoted to DEBUG (an HTTP library's
``Retrying ...`` warning is chatter, not news: the one error line that follows says what
failed). Python warnings of sitewatch (:class:`~sitewatch.errors.SitewatchWarning`) print as
``sitewatch: warning: ...``; warnings raised in libraries are logged at DEBUG like their
other lines. GDAL's own stderr output (``_tiffWriteProc ...``) is silenced below ``-vvv``.

Progress (:func:`scan_progress`, :func:`count_progress`) is a tqdm bar on stderr when
stderr is a terminal; when it is not (a log file, a pipe), the same events are plain lines
(``  qasrak: history (52 scenes)``, ``  [3/10] 2024-05-03 S2B_...``) without escape codes;
``-q`` hides both.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

__all__ = [
    "OUR_LOGGER",
    "PROGRESS_ENV",
    "count_progress",
    "progress_enabled",
    "scan_progress",
    "setup_logging",
    "verbosity",
]

#: The logger every sitewatch module logs under (``logging.getLogger(__name__)``).
OUR_LOGGER = "sitewatch"

log = logging.getLogger("sitewatch.cli")

#: The steps of a scan as its ``on_event`` callback reports them, in order.
SCAN_STEPS: tuple[tuple[str, str], ...] = (
    ("scenes_found", "searched"),
    ("scenes_loaded", "loaded"),
    ("quality", "masked"),
    ("register", "registered"),
    ("history", "history"),
    ("objects", "objects"),
    ("alerts", "alerts"),
)

_BAR_OPEN = 0  # open progress bars: log lines go through tqdm.write meanwhile


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current ``sys.stderr`` (click's test runner swaps it), above open bars."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        if _BAR_OPEN:
            from tqdm import tqdm

            try:
                tqdm.write(self.format(record), file=sys.stderr)
            except Exception:  # pragma: no cover - logging must never raise
                self.handleError(record)
            return
        super().emit(record)


class _LevelFilter(logging.Filter):
    """Ours at their own level; everyone else's demoted to DEBUG and shown only at ``-vvv``."""

    def __init__(self, ours: int, third_party: bool) -> None:
        super().__init__()
        self.ours = ours
        self.third_party = third_party

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == OUR_LOGGER or record.name.startswith(OUR_LOGGER + "."):
            return record.levelno >= self.ours
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.third_party


def verbosity(ctx: click.Context | None = None) -> tuple[int, bool]:
    """``(verbose count, quiet)`` of the running command (0, False outside a command)."""
    ctx = ctx or click.get_current_context(silent=True)
    obj = (ctx.find_root().obj if ctx is not None else None) or {}
    return int(obj.get("verbose") or 0), bool(obj.get("quiet"))


def setup_logging(verbose: int, quiet: bool) -> None:
    """Configure logging, warnings and GDAL's stderr for ``-q`` / ``-v`` / ``-vv`` / ``-vvv``.

    Parameters
    ----------
    verbose : int
        How many ``-v`` were given.
    quiet : bool
        ``-q``: errors only.
    """
    ours = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    third_party = verbose >= 3 and not quiet
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_LevelFilter(ours, third_party))
    root.addHandler(handler)
    # libraries skip building DEBUG records nobody will see (rasterio's are thousands)
    root.setLevel(logging.DEBUG if third_party else logging.WARNING)
    logging.getLogger(OUR_LOGGER).setLevel(ours)
    if not third_party:
        # GDAL writes some messages straight to stderr (outside rasterio's handler)
        os.environ["CPL_LOG"] = os.devnull
    elif os.environ.get("CPL_LOG") == os.devnull:
        del os.environ["CPL_LOG"]
    warnings.showwarning = _show_warning
    if quiet:
        warnings.simplefilter("ignore")


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    from sitewatch.errors import SitewatchWarning
    from sitewatch.redact import redact

    if issubclass(category, SitewatchWarning):
        if logging.getLogger(OUR_LOGGER).isEnabledFor(logging.WARNING):
            text = f"sitewatch: warning: {redact(message)}"
            if _BAR_OPEN:
                from tqdm import tqdm

                tqdm.write(text, file=sys.stderr)
            else:
                click.echo(text, err=True)
        return
    # a library's warning: one of its log lines, at DEBUG
    logging.getLogger("py.warnings").debug("%s:%s: %s: %s", filename, lineno, category.__name__, message)


#: Environment variable forcing the progress bars on (``1``) or off (``0``) whatever stderr is.
PROGRESS_ENV = "SITEWATCH_PROGRESS"


def progress_enabled(ctx: click.Context | None = None) -> bool:
    """A progress bar is shown: stderr is a terminal (or ``SITEWATCH_PROGRESS=1``) and no ``-q``."""
    _, quiet = verbosity(ctx)
    if quiet:
        return False
    forced = os.environ.get(PROGRESS_ENV, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def _bar(total: int | None, desc: str, unit: str) -> Iterator[Any]:
    global _BAR_OPEN
    from tqdm import tqdm

    # a few slow steps: every one is drawn (mininterval 0), the bar is cleared at the end
    bar = tqdm(
        total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, dynamic_ncols=True, mininterval=0
    )
    _BAR_OPEN += 1
    try:
        yield bar
    finally:
        _BAR_OPEN -= 1
        bar.close()


@contextmanager
def scan_progress(aoi: str, ctx: click.Context | None = None) -> Iterator[Callable[[Any], None]]:
    """A scan's ``on_event`` callback: a bar over its steps, or INFO lines without a terminal.

    Parameters
    ----------
    aoi : str
        The AOI's name (the bar's label).
    ctx : click.Context, optional
        The command's context (for ``-q``).

    Yields
    ------
    callable
        Pass it as ``scan(..., on_event=...)``.
    """
    steps = {key: label for key, label in SCAN_STEPS}
    counts: dict[str, int] = {}

    def describe(event: Any) -> str:
        key = event.stage if event.kind == "stage_done" else event.kind
        label = steps.get(key, str(key))
        if event.count is not None:
            counts["scenes"] = int(event.count)
            return f"{label}: {event.count} scene(s)"
        return f"{label}" + (f" ({counts['scenes']} scenes)" if "scenes" in counts else "")

    if not progress_enabled(ctx):
        quiet = verbosity(ctx)[1]

        def plain_event(event: Any) -> None:
            if not quiet:
                click.echo(f"  {event.aoi}: {describe(event)}", err=True)

        yield plain_event
        return
    with _bar(len(SCAN_STEPS), aoi, "step") as bar:

        def show(event: Any) -> None:
            log.info("%s: %s", event.aoi, describe(event))
            bar.set_postfix_str(describe(event), refresh=False)  # e.g. "history (52 scenes)"
            bar.update(1)

        yield show


def _item_text(item: Any) -> str:
    if item is None:
        return ""
    date, name = getattr(item, "date", None), getattr(item, "id", None)
    return f"{date} {name}" if date is not None and name is not None else str(item)


@contextmanager
def count_progress(desc: str, unit: str, ctx: click.Context | None = None) -> Iterator[Callable[..., None]]:
    """A ``progress(done, total, item)`` callback: a bar, or INFO lines without a terminal.

    Parameters
    ----------
    desc, unit : str
        The bar's label and unit (``"fetch"``, ``"scene"``).
    ctx : click.Context, optional
        The command's context (for ``-q``).

    Yields
    ------
    callable
        Called as ``progress(done, total, item)``.
    """
    if not progress_enabled(ctx):
        quiet = verbosity(ctx)[1]

        def plain_count(done: int, total: int, item: Any = None) -> None:
            if not quiet:
                click.echo(f"  [{done}/{total}] {_item_text(item)}", err=True)

        yield plain_count
        return
    with _bar(None, desc, unit) as bar:

        def show(done: int, total: int, item: Any = None) -> None:
            bar.total = total
            bar.n = done
            if item is not None:
                bar.set_postfix_str(str(getattr(item, "id", item)), refresh=False)
            bar.refresh()
            log.debug("%s: %d/%d %s", desc, done, total, item if item is not None else "")

        yield show
