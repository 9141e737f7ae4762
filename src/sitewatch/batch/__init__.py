"""Batch scans: every watched site, each an independent task on ``dask.distributed``.

:func:`scan_all` runs one scan per AOI, in parallel, on an in-process cluster of threads
(the default), a local cluster of processes, an existing cluster (a scheduler address),
or serially; whichever runs them, the files written are the same. One AOI failing (bad
data, a provider error, even its worker process dying) is reported in the summary and the
others finish. Results travel back, typed, to the process that started the run, which
alone writes the run directory (see :mod:`sitewatch.runs`): workers need no shared file
system, a full disk stops the run cleanly, and earlier runs are never touched.

The package is split by job: :mod:`.options` (one frozen :class:`BatchOptions`),
:mod:`.plan` (tasks, tiles, since-last), :mod:`.execute` (the task on a worker, Dask),
:mod:`.write` (the run directory), :mod:`.scratch` (tasks' temporary folders).

Examples
--------
>>> from sitewatch import list_aois
>>> from sitewatch.batch import scan_all
>>> result = scan_all(list_aois(), "local:data/", start="2024-01-01", end="2024-12-31",
...                   out_dir="runs/2024-12-31")  # doctest: +SKIP
>>> print(result.table())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from sitewatch.batch.execute import Progress, connect_scheduler, open_client, outcomes, sitewatch_scan
from sitewatch.batch.options import BatchOptions, ScanFunction, SceneReport, SchedulerKind
from sitewatch.batch.plan import BatchTask, merge_tiles, plan_tasks, split_aoi
from sitewatch.batch.results import CHANGE_TYPES, AOIOutcome, BatchResult, format_summary
from sitewatch.batch.scratch import (
    SAFE_NAME,
    default_scratch_root,
    remove_run_scratch,
    remove_run_scratch_on_worker,
    sweep_scratch,
)
from sitewatch.batch.write import (
    aoi_record,
    dumps,
    extract_claims,
    finished_aois,
    link_reports,
    merged_collection,
    public_sources,
    summary_csv,
    write_outcome,
)
from sitewatch.errors import ConfigError, RunError
from sitewatch.runs import (
    MANIFEST_NAME,
    RUN_FORMAT,
    STATE_NAME,
    AOIState,
    atomic_write_json,
    atomic_write_text,
    find_previous_run,
    lock_run,
    read_manifest,
    read_state,
    versions,
)
from sitewatch.types import AOI, as_date

__all__ = [
    "CHANGE_TYPES",
    "AOIOutcome",
    "BatchOptions",
    "BatchResult",
    "ScanFunction",
    "SceneReport",
    "SchedulerKind",
    "connect_scheduler",
    "default_scratch_root",
    "format_summary",
    "scan_all",
    "sitewatch_scan",
    "split_aoi",
    "sweep_scratch",
]

log = logging.getLogger(__name__)


def _sources(source: str | Mapping[str, str], names: Sequence[str]) -> dict[str, str]:
    if isinstance(source, Mapping):
        missing = [n for n in names if n not in source]
        if missing:
            raise ConfigError(f"no source given for AOI(s) {', '.join(missing)}")
        return {n: str(source[n]) for n in names}
    return dict.fromkeys(names, str(source))


def _checked_aois(aois: Iterable[AOI]) -> list[AOI]:
    aoi_list = sorted(aois, key=lambda a: a.name)
    names = [a.name for a in aoi_list]
    if not aoi_list:
        raise ConfigError("no AOI to scan: the AOI folder is empty")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"AOI names must be unique in a batch; repeated: {', '.join(dupes)}")
    return aoi_list


def _refuse_finished_run(run_dir: Path) -> dict[str, Any]:
    """Refuse a directory holding a finished run; return an interrupted run's manifest (or {})."""
    if not (run_dir / MANIFEST_NAME).exists():
        return {}
    try:
        old = read_manifest(run_dir)
    except ConfigError:
        old = {}
    # Holding the lock, a "running" manifest can only be left by a run that died.
    if old.get("status") not in ("aborted", "running"):
        raise ConfigError(
            f"{run_dir} already holds a run ({old.get('status', 'unknown status')}); "
            "runs are kept intact: choose a new --out-dir"
        )
    return old


def _resumable(
    run_dir: Path, old: Mapping[str, Any], names: Sequence[str], settings: Mapping[str, Any]
) -> dict[str, tuple[dict[str, Any], dict[str, Any], AOIState]]:
    """The AOIs an interrupted run of the same scan (source, dates, options) finished: kept as they are."""
    before = old.get("settings") or {}
    same = ("source", "start", "end", "since_last", "scan_function", "scan_options", "tile_px")
    if not old or any(_jsonable(before.get(k)) != _jsonable(settings.get(k)) for k in same):
        return {}
    kept = finished_aois(run_dir, names)
    if kept:
        log.info(
            "resuming the interrupted run in %s: %d of %d AOIs finished and kept",
            run_dir,
            len(kept),
            len(names),
        )
    return kept


def _previous(
    run_dir: Path, since_last: Any, names: Sequence[str], source: Any
) -> tuple[Path | None, dict[str, AOIState]]:
    if not since_last:
        return None, {}
    previous_run = (
        find_previous_run(run_dir, aois=names, source=source) if since_last is True else Path(since_last)
    )
    if previous_run is None:
        log.warning(
            "--since-last: no finished run of the same %d AOI(s) and source beside %s; "
            "scanning the whole range",
            len(names),
            run_dir,
        )
        return None, {}
    log.info("--since-last: starting from run %s", previous_run)
    return previous_run, read_state(previous_run)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _manifest(
    run_dir: Path,
    opts: BatchOptions,
    *,
    sources: Mapping[str, str],
    start: dt.date,
    end: dt.date,
    previous_run: Path | None,
    by_parent: Mapping[str, Sequence[BatchTask]],
    aois: Sequence[AOI],
) -> dict[str, Any]:
    fn = opts.scan_fn or sitewatch_scan
    settings = {
        "source": public_sources(sources),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "since_last": bool(opts.since_last),
        "lookback_days": opts.lookback_days,
        "previous_run": str(previous_run) if previous_run else None,
        "reports_dir": str(opts.reports_dir) if opts.reports_dir else None,
        "scheduler": (opts.scheduler or "threads")
        if isinstance(opts.scheduler, str) or opts.scheduler is None
        else "client",
        "workers": opts.workers,
        "retries": opts.retries,
        "inner_scheduler": opts.inner_scheduler,
        "tile_px": opts.tile_px,
        "tile_overlap_px": opts.tile_overlap_px,
        "tiles": {n: [t.aoi.name for t in ts] for n, ts in by_parent.items() if ts[0].parent},
        "scan_function": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}",
        # the run's science and execution settings, and a custom function's own options
        "scan_options": {
            "params": _jsonable(opts.params),
            "execution": _jsonable(opts.execution),
            **{k: _jsonable(v) for k, v in opts.task_options().items() if not k.startswith("_")},
        },
    }
    return {
        "sitewatch_run": RUN_FORMAT,
        "run_id": run_dir.resolve().name,
        "status": "running",
        "created": _now(),
        "finished": None,
        "settings": settings,
        "versions": versions(),
        "aois": [aoi_record(a) for a in aois],
    }


def _finish(
    run_dir: Path,
    manifest: dict[str, Any],
    rows: Mapping[str, dict[str, Any]],
    collections: Mapping[str, dict[str, Any]],
    states: Mapping[str, AOIState],
    names: Sequence[str],
    t0: float,
) -> tuple[Literal["complete", "partial", "failed"], list[dict[str, Any]]]:
    """Write the run's merged alerts, summaries, state and final manifest."""
    ordered = [rows[n] for n in names]
    n_failed = sum(r["status"] == "failed" for r in ordered)
    status: Literal["complete", "partial", "failed"] = (
        "complete" if n_failed == 0 else ("failed" if n_failed == len(ordered) else "partial")
    )
    settings = manifest["settings"]
    meta = {
        "version": manifest["versions"].get("sitewatch"),
        "run": manifest["run_id"],
        "source": settings["source"],
        "start": settings["start"],
        "end": settings["end"],
        "aois": list(names),
        "since_last": settings["since_last"],
    }
    atomic_write_text(run_dir / "alerts.geojson", dumps(merged_collection(collections, meta)))
    atomic_write_json(run_dir / "summary.json", ordered)
    atomic_write_text(run_dir / "summary.csv", summary_csv(ordered))
    atomic_write_json(
        run_dir / STATE_NAME,
        {"sitewatch_state": 1, "aois": {n: s.to_json() for n, s in sorted(states.items())}},
    )
    manifest.update(
        status=status,
        finished=_now(),
        seconds=round(time.perf_counter() - t0, 2),
        results={r["aoi"]: r["status"] for r in ordered},
    )
    atomic_write_json(run_dir / MANIFEST_NAME, manifest)
    return status, ordered


class _Assembler:
    """Puts a tiled AOI back together once all its tiles have arrived (at once for an untiled AOI)."""

    def __init__(self, tasks: Sequence[BatchTask], aois: Sequence[AOI]) -> None:
        self.by_parent: dict[str, list[BatchTask]] = {}
        for t in tasks:
            self.by_parent.setdefault(t.parent or t.aoi.name, []).append(t)
        self.parent_aoi = {a.name: a for a in aois}
        self.unit_parent = {t.aoi.name: t.parent for t in tasks}
        self.arrived: dict[str, dict[str, AOIOutcome]] = {}

    def whole(self, outcome: AOIOutcome) -> AOIOutcome | None:
        parent = self.unit_parent[outcome.aoi]
        if not parent:
            return outcome
        got = self.arrived.setdefault(parent, {})
        got[outcome.aoi] = outcome
        if len(got) < len(self.by_parent[parent]):
            return None
        return merge_tiles(self.parent_aoi[parent], self.by_parent[parent], got)


def scan_all(
    aois: Iterable[AOI],
    source: str | Mapping[str, str],
    *,
    start: dt.date | str,
    end: dt.date | str,
    out_dir: str | os.PathLike[str],
    options: BatchOptions | None = None,
    **overrides: Any,
) -> BatchResult:
    """Scan many AOIs in parallel on Dask and write one run directory.

    Parameters
    ----------
    aois : iterable of AOI
        The sites to scan (e.g. :func:`sitewatch.list_aois`); names must be unique.
    source : str or mapping of str to str
        Imagery provider (``"local:DIR"``, ``"stac"``, ``"sentinelhub"``...), passed to the scan;
        or one per AOI name (AOIs it does not name are refused).
    start, end : datetime.date or str
        Time range (``YYYY-MM-DD``).
    out_dir : path-like
        The run directory. It must not hold a finished run; a second run on it while one
        writes refuses (:class:`~sitewatch.errors.RunLockedError`).
    options : BatchOptions, optional
        How the run goes (scheduler, since-last, reports, tiles, retries, the scan's own
        settings...); see :class:`BatchOptions`, where every default lives.
    **overrides
        Fields of :class:`BatchOptions` to change (``scheduler="serial"``, ``progress=True``...).

    Returns
    -------
    BatchResult

    Raises
    ------
    ConfigError
        Bad dates, duplicate AOI names, an unusable scheduler, a finished run in ``out_dir``.
    RunLockedError
        Another run is writing ``out_dir``.
    RunError
        The run directory cannot be written (disk full...): the run stops, what was written
        stays complete, the manifest says ``"aborted"`` where it still can.

    Examples
    --------
    >>> result = scan_all(list_aois(), "stac", start="2025-01-01", end="2025-11-30",
    ...                   out_dir="runs/2025-11-30", since_last=True)  # doctest: +SKIP
    >>> result.failed  # doctest: +SKIP
    []
    """
    try:
        opts = dataclasses.replace(options or BatchOptions(), **overrides)
    except TypeError as exc:
        raise ConfigError(f"scan_all: {exc}; see sitewatch.batch.BatchOptions for the options") from None
    t0 = time.perf_counter()
    aoi_list = _checked_aois(aois)
    names = [a.name for a in aoi_list]
    start_d, end_d = as_date(start, what="start"), as_date(end, what="end")
    if start_d > end_d:
        raise ConfigError(f"start {start_d} is after end {end_d}")
    sources = _sources(source, names)
    run_dir = Path(out_dir)
    # Local workers share this process's temporary folder; remote ones use their own.
    scratch_root = (
        str(opts.scratch_dir)
        if opts.scratch_dir is not None
        else (str(default_scratch_root()) if opts.local else None)
    )
    token = f"{SAFE_NAME.sub('_', run_dir.resolve().name)[:40]}-{os.urandom(6).hex()}"
    with lock_run(run_dir):
        interrupted = _refuse_finished_run(run_dir)
        previous_run, previous = _previous(run_dir, opts.since_last, names, public_sources(sources))
        claims = None if opts.reports_dir is None else extract_claims(Path(opts.reports_dir), aoi_list)
        tasks = plan_tasks(
            aoi_list,
            sources,
            start=start_d,
            end=end_d,
            previous=previous,
            options=opts,
            fn=opts.scan_fn or sitewatch_scan,
            run_token=token,
            scratch_root=scratch_root,
            progress_topic=f"sitewatch-progress-{token}" if opts.progress else None,
        )
        assembler = _Assembler(tasks, aoi_list)
        manifest = _manifest(
            run_dir,
            opts,
            sources=sources,
            start=start_d,
            end=end_d,
            previous_run=previous_run,
            by_parent=assembler.by_parent,
            aois=aoi_list,
        )
        kept = _resumable(run_dir, interrupted, names, manifest["settings"])
        atomic_write_json(run_dir / MANIFEST_NAME, manifest)
        try:
            todo = [t for t in tasks if (t.parent or t.aoi.name) not in kept]
            rows, collections, states = _execute(
                run_dir, todo, assembler, previous, opts, scratch_root, token
            )
            for name, (row, fc, state) in kept.items():
                rows[name], collections[name], states[name] = row, fc, state
            if claims is not None:
                link_reports(run_dir, claims, collections, rows)
            status, ordered = _finish(run_dir, manifest, rows, collections, states, names, t0)
        except BaseException as exc:
            manifest.update(status="aborted", finished=_now(), reason=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(RunError):
                atomic_write_json(run_dir / MANIFEST_NAME, manifest)
            raise
    return BatchResult(run_dir, status, tuple(ordered), previous_run, resumed=tuple(sorted(kept)))


def _execute(
    run_dir: Path,
    tasks: Sequence[BatchTask],
    assembler: _Assembler,
    previous: Mapping[str, AOIState],
    opts: BatchOptions,
    scratch_root: str | None,
    token: str,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[str, AOIState]]:
    """Run the tasks and write each AOI as its outcome arrives; return the rows, collections and states."""
    import dask

    rows: dict[str, dict[str, Any]] = {}
    collections: dict[str, dict[str, Any]] = {}
    states: dict[str, AOIState] = dict(previous)
    up_to_date = [t for t in tasks if t.reported_start > t.end]
    for name in sorted({t.parent or t.aoi.name for t in up_to_date}):
        start_iso = assembler.by_parent[name][0].reported_start.isoformat()
        current = AOIOutcome(name, "up_to_date", start=start_iso)
        rows[name] = write_outcome(run_dir, current, previous.get(name), True)[0]
    todo = [t for t in tasks if t.reported_start <= t.end]
    with (
        contextlib.ExitStack() as stack,
        dask.config.set(scheduler=opts.inner_scheduler),
        open_client(
            opts.scheduler if todo else "serial",
            workers=opts.workers,
            retries=opts.retries,
            connect_timeout_s=opts.connect_timeout_s,
        ) as client,
    ):
        # The bars start once the cluster answers, and close on any way out.
        bars = stack.enter_context(Progress(len(tasks), enabled=opts.progress, initial=len(up_to_date)))
        try:
            for unit in outcomes(
                todo,
                client,
                no_workers_timeout_s=opts.no_workers_timeout_s,
                timeout_s=opts.timeout_s,
                on_event=bars.event if opts.progress else None,
            ):
                bars.done(unit)
                outcome = assembler.whole(unit)
                if outcome is None:
                    continue
                row, fc, state = write_outcome(
                    run_dir, outcome, previous.get(outcome.aoi), bool(opts.since_last)
                )
                rows[outcome.aoi] = row
                if fc is not None:
                    collections[outcome.aoi] = fc
                if state is not None:
                    states[outcome.aoi] = state
        finally:
            # The run's scratch folders go however it ends, a killed worker's too
            # (local workers share this machine; a remote cluster's are asked).
            _clean_scratch(client if not opts.local else None, scratch_root, token)
    return rows, collections, states


def _clean_scratch(client: Any, root: str | None, token: str) -> None:
    """Remove this run's scratch folders here and, for a remote cluster, on its workers."""
    if client is not None:
        with contextlib.suppress(Exception):
            # fire and forget (a coroutine: Dask runs those without waiting): never waits on a sick worker
            client.run(remove_run_scratch_on_worker, root, token, wait=False)
    if root is not None:
        remove_run_scratch(root, token)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
