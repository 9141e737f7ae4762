"""The batch half of ``sitewatch scan``: ``--all`` and its options, shared with ``cli/scan.py``.

``sitewatch scan --all`` scans every AOI of the registry (or ``--aoi-dir``) with
:func:`sitewatch.batch.scan_all`. The options live here, as a decorator, so that the
single-AOI scan command stays its own module and the batch path can be tested alone:
``cli/scan.py`` adds ``@batch_options`` and hands over to :func:`run_batch` when ``--all``
is given. The module name starts with ``_`` so it is not registered as a command itself.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from sitewatch.cli.options import DefaultFrom, date_type
from sitewatch.errors import ConfigError

if TYPE_CHECKING:
    from sitewatch import ExecutionOptions, ScanParams

# every default comes from BatchOptions (read when needed), never written here
_BATCH = "sitewatch.batch.options:BatchOptions"

__all__ = ["batch_options", "load_scan_function", "run_batch", "scan_all_command"]

F = TypeVar("F", bound=Callable[..., Any])

_BATCH_OPTIONS = [
    click.option(
        "--all", "all_aois", is_flag=True, help="Scan every AOI in the registry (or --aoi-dir), in parallel."
    ),
    click.option(
        "--aoi-dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        default=None,
        help="With --all: the folder of AOI GeoJSON files (default: the registry).",
    ),
    click.option(
        "--out-dir",
        "run_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="With --all: the run directory to write (default: runs/<END>).",
    ),
    click.option(
        "--scheduler",
        metavar="threads|processes|serial|ADDRESS",
        default=None,
        help="With --all: where AOIs run: threads in this process (default), local worker processes, "
        "one after another, or an existing Dask cluster (tcp://host:8786).",
    ),
    click.option(
        "--workers", type=click.IntRange(min=1), default=None, help="Local workers (default: CPUs)."
    ),
    click.option(
        "--reports",
        "reports_dir",
        type=click.Path(file_okay=False, exists=True, path_type=Path),
        default=None,
        help="A folder of text reports: their claims are linked to the alerts (verdicts in each alert).",
    ),
    click.option(
        "--since-last",
        is_flag=True,
        help="With --all: only scenes newer than the previous run beside --out-dir; mark new/updated alerts.",
    ),
    click.option(
        "--retries",
        type=click.IntRange(min=0),
        cls=DefaultFrom,
        default_from=f"{_BATCH}.retries",
        show_default=True,
        help="With --all: tries of an AOI whose worker died.",
    ),
    click.option(
        "--time-limit",
        "timeout_s",
        type=click.FloatRange(min=1),
        cls=DefaultFrom,
        default_from=f"{_BATCH}.timeout_s",
        metavar="SECONDS",
        help="With --all: time limit of the whole run in seconds; unfinished AOIs are reported failed "
        "(was --timeout, which now sets the network timeout).",
    ),
    click.option(
        "--tile-px",
        type=click.IntRange(min=64),
        cls=DefaultFrom,
        default_from=f"{_BATCH}.tile_px",
        help="With --all: cut AOIs larger than this many 10 m pixels a side into overlapping tiles, one "
        "task each (to spread one huge AOI over a cluster; objects longer than the overlap may be cut). "
        "Default: a big AOI is one task, scanned block by block (--chunk-px).",
    ),
    click.option(
        "--scan-function",
        metavar="MODULE:FUNCTION",
        default=None,
        hidden=True,
        help="With --all: a custom per-AOI function (see sitewatch.batch.ScanFunction).",
    ),
]


def batch_options(f: F) -> F:
    """Add the ``--all`` batch options to a click command (``scan``)."""
    for option in reversed(_BATCH_OPTIONS):
        f = option(f)
    return f


def load_scan_function(spec: str) -> Callable[..., Any]:
    """Import ``MODULE:FUNCTION`` and return the function.

    Raises
    ------
    ConfigError
        If it cannot be imported or is not callable.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"--scan-function {spec!r} must read MODULE:FUNCTION")
    try:
        fn = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"--scan-function {spec!r} cannot be imported: {exc}") from None
    if not callable(fn):
        raise ConfigError(f"--scan-function {spec!r} is not a function")
    return fn  # type: ignore[no-any-return]


def fresh_run_dir(parent: Path, name: str) -> Path:
    """``parent/name``, or ``parent/name.2``, ``.3``... when a finished run already holds it.

    The default run directory of ``scan --all`` (``runs/<END>``): rerunning the same command
    writes a fresh run beside the first instead of refusing; an interrupted run's folder
    (status running or aborted) is taken again, so the run resumes there.
    """
    import json

    from sitewatch.runs import MANIFEST_NAME

    candidate, n = parent / name, 1
    while (candidate / MANIFEST_NAME).is_file():
        try:
            status = json.loads((candidate / MANIFEST_NAME).read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError, AttributeError):
            status = None
        if status in ("running", "aborted"):
            break
        n += 1
        candidate = parent / f"{name}.{n}"
    return candidate


def run_batch(
    ctx: click.Context,
    *,
    source: str,
    start: dt.date,
    end: dt.date,
    aoi_dir: Path | None = None,
    run_dir: Path | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    since_last: bool = False,
    reports_dir: Path | None = None,
    retries: int = 2,
    timeout_s: float | None = None,
    tile_px: int | None = None,
    scan_function: str | None = None,
    params: ScanParams | None = None,
    execution: ExecutionOptions | None = None,
    cache_dir: str | None = None,
    quicklook_format: Literal["png", "pdf", "svg"] = "png",
    timelapse: bool = False,
    sar: str | None = None,
) -> None:
    """Run ``scan --all``: scan every AOI, print the summary, exit 1 if any AOI failed.

    Parameters
    ----------
    ctx : click.Context
        The command's context (for ``-q`` and the exit code).
    source, start, end
        As for a single scan.
    aoi_dir, run_dir, scheduler, workers, since_last, reports_dir, retries, timeout_s, tile_px, scan_function
        The batch options (see :func:`batch_options` and :func:`sitewatch.batch.scan_all`).
    params, execution, cache_dir, quicklook_format, timelapse, sar
        Settings of the single-AOI scan passed on to every AOI.
    """
    from dataclasses import replace

    from sitewatch import BatchOptions, list_aois, scan_all
    from sitewatch.cli.logs import progress_enabled

    defaults = BatchOptions()

    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    aois = list_aois(aoi_dir)
    out = run_dir if run_dir is not None else fresh_run_dir(Path("runs"), end.isoformat())
    fn = load_scan_function(scan_function) if scan_function else None
    options = replace(
        defaults,
        params=params or defaults.params,
        execution=execution or defaults.execution,
        cache_dir=cache_dir,
        scheduler=scheduler,
        since_last=since_last,
        reports_dir=reports_dir,
        scan_fn=fn,
        workers=workers,
        retries=retries,
        timeout_s=timeout_s,
        tile_px=tile_px,
        progress=progress_enabled(ctx),  # bars on a terminal only: no escape codes in log files
        quicklook_format=quicklook_format,
        timelapse=timelapse,
        sar=sar,
    )
    result = scan_all(aois, source, start=start, end=end, out_dir=out, options=options)
    if result.resumed and not quiet:
        click.echo(
            f"resumed the interrupted run in {result.run_dir}: kept {len(result.resumed)} finished AOI(s), "
            f"scanned {len(result.rows) - len(result.resumed)}",
            err=True,
        )
    click.echo(result.table())
    if since_last and not quiet:
        used = result.previous_run
        click.echo(
            f"since-last: started from run {used}"
            if used
            else "since-last: no earlier run of these sites and source; scanned the whole range",
            err=True,
        )
    if not quiet:
        click.echo(
            f"run written to {result.run_dir}; open it with: sitewatch brief --run {result.run_dir}", err=True
        )
    if not result.ok:
        failed = result.failed
        click.echo(
            f"sitewatch: error: {len(failed)} of {len(result.rows)} AOIs failed: {', '.join(failed)}",
            err=True,
        )
        ctx.exit(1)


@click.command(name="scan-all", hidden=True)
@click.option(
    "--source", default="stac", show_default=True, help="Imagery provider (local:DIR, stac, sentinelhub...)."
)
@click.option("--start", type=date_type, required=True, help="First date, YYYY-MM-DD.")
@click.option(
    "--end", type=date_type, default=lambda: dt.date.today().isoformat(), help="Last date (default today)."
)
@batch_options
@click.pass_context
def scan_all_command(ctx: click.Context, all_aois: bool, **options: Any) -> None:
    """The batch path of ``sitewatch scan --all`` on its own (used by tests and until scan carries it)."""
    if not all_aois:
        raise click.UsageError("scan-all needs --all")
    run_batch(ctx, **options)
