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
from typing import Any, TypeVar

import click

from sitewatch import BatchOptions, ExecutionOptions, ScanParams
from sitewatch.cli.options import date_type
from sitewatch.errors import ConfigError

# every default comes from BatchOptions, never written here
_BATCH = BatchOptions()

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
        default=_BATCH.retries,
        show_default=True,
        help="With --all: tries of an AOI whose worker died.",
    ),
    click.option(
        "--timeout",
        "timeout_s",
        type=click.FloatRange(min=1),
        default=_BATCH.timeout_s,
        help="With --all: time limit of the whole run in seconds; unfinished AOIs are reported failed.",
    ),
    click.option(
        "--tile-px",
        type=click.IntRange(min=64),
        default=_BATCH.tile_px,
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
    params, execution, cache_dir, sar
        Settings of the single-AOI scan passed on to every AOI.
    """
    from dataclasses import replace

    from sitewatch import list_aois, scan_all

    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    aois = list_aois(aoi_dir)
    out = run_dir if run_dir is not None else Path("runs") / end.isoformat()
    fn = load_scan_function(scan_function) if scan_function else None
    options = replace(
        _BATCH,
        params=params or _BATCH.params,
        execution=execution or _BATCH.execution,
        cache_dir=cache_dir,
        scheduler=scheduler,
        since_last=since_last,
        reports_dir=reports_dir,
        scan_fn=fn,
        workers=workers,
        retries=retries,
        timeout_s=timeout_s,
        tile_px=tile_px,
        progress=not quiet,
        sar=sar,
    )
    result = scan_all(aois, source, start=start, end=end, out_dir=out, options=options)
    click.echo(result.table())
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
