"""Executing a batch run on Dask: the task on a worker, the clients, the outcomes as they finish.

Every task runs :func:`run_task` (sitewatch's own scan by default, :func:`sitewatch_scan`);
an AOI's error becomes a failed outcome, a dead worker is retried, a cluster without
workers or a run past its time limit never hangs. Scene counts travel from the workers to
the progress bars as Dask events.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import math
import os
import re
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from sitewatch.batch.options import SceneReport
from sitewatch.batch.plan import BatchTask
from sitewatch.batch.results import AOIOutcome
from sitewatch.batch.scratch import default_scratch_root, own_root, scratch_folder, sweep_scratch
from sitewatch.errors import ConfigError, NoScenesError, SitewatchError
from sitewatch.pipeline.options import ExecutionOptions, ScanParams
from sitewatch.pipeline.result import ScanResult
from sitewatch.pipeline.scan import scan
from sitewatch.pipeline.stages import ScanEvent
from sitewatch.plots import QuicklookFormat
from sitewatch.redact import redact
from sitewatch.types import AOI

__all__ = [
    "Progress",
    "connect_scheduler",
    "open_client",
    "outcomes",
    "run_task",
    "safe_relpath",
    "sitewatch_scan",
]

log = logging.getLogger(__name__)

_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


def sitewatch_scan(
    aoi: AOI,
    source: str,
    *,
    start: dt.date,
    end: dt.date,
    workdir: Path,
    progress: SceneReport | None = None,
    params: ScanParams | None = None,
    execution: ExecutionOptions | None = None,
    cache_dir: str | None = None,
    quicklook_format: QuicklookFormat = "png",
    timelapse: bool = False,
    sar: str | None = None,
) -> ScanResult:
    """Scan one AOI with :func:`sitewatch.scan`: the per-AOI function a batch runs by default.

    Parameters
    ----------
    aoi : AOI
    source : str
        Provider name (``"local:DIR"``, ``"stac"``, ``"sentinelhub"``...).
    start, end : datetime.date
    workdir : pathlib.Path
        Where quicklooks are written (``quicklooks/``, the alerts point at them relatively)
        and, by default, the scan's scratch.
    progress : callable, optional
        Called as ``progress("found", n)`` once the provider's search found ``n`` scenes and
        ``progress("loaded", n)`` once they are loaded (the batch's scenes bar).
    params : ScanParams, optional
    execution : ExecutionOptions, optional
        ``scratch_dir`` defaults to ``workdir``.
    cache_dir : str, optional
        Imagery cache.
    quicklook_format : {"png", "pdf", "svg"}
    timelapse : bool
        Also a time-lapse GIF per alert (see :meth:`ScanResult.with_quicklooks`).
    sar : str, optional
        A Sentinel-1 source (radar corroboration and radar-only candidates).

    Returns
    -------
    ScanResult
        Without its rasters (it travels back to the process that writes the run).
    """
    ex = execution or ExecutionOptions()
    if ex.scratch_dir is None:
        # A block-by-block scan streams its per-pixel results to disk: into the task's own
        # folder, so they go with it, also when the worker is killed mid-scan.
        ex = replace(ex, scratch_dir=workdir)

    def on_event(event: ScanEvent) -> None:
        if progress is not None and event.kind in ("scenes_found", "scenes_loaded"):
            progress("found" if event.kind == "scenes_found" else "loaded", int(event.count or 0))

    result = scan(
        aoi,
        source,
        start=start,
        end=end,
        params=params,
        execution=ex,
        cache_dir=cache_dir,
        on_event=on_event,
        sar=sar,
    )
    if result.alerts:
        result = result.with_quicklooks(
            workdir / "quicklooks",
            relative_to=workdir,
            quicklook_format=quicklook_format,
            timelapse=timelapse,
        )
    return result.without_rasters()


#: sitewatch_scan reports scene counts (see :data:`~sitewatch.batch.options.ScanFunction`).
sitewatch_scan.accepts_progress = True  # type: ignore[attr-defined]


def _worker_reporter(topic: str, unit: str) -> SceneReport:
    """Send scene counts from a task on a Dask worker to the client, as scheduler events."""

    def report(event: str, n_scenes: int) -> None:
        try:
            from distributed import get_worker

            get_worker().log_event(topic, {"unit": unit, "event": event, "scenes": int(n_scenes)})
        except Exception as exc:  # progress is a nicety: it never fails a scan
            log.debug("scene progress of %s not reported: %s", unit, exc)

    return report


def _collect_files(result: ScanResult, workdir: Path) -> tuple[ScanResult, dict[str, bytes]]:
    """Read the quicklooks the alerts point at, so they travel with the result (unsafe, missing: dropped)."""
    files: dict[str, bytes] = {}
    alerts = []
    for alert in result.alerts:
        rel = alert.quicklook
        if rel:
            safe = safe_relpath(rel)
            path = workdir / safe if safe else Path(rel)
            if safe is None or not path.is_file():
                # A quicklook outside the work folder or missing: keep the alert, drop the picture.
                alert = alert.with_quicklook(None)
            else:
                files[safe] = path.read_bytes()
                gif = path.with_suffix(".gif")  # its time-lapse, when one was written
                if gif.is_file():
                    files[str(Path(safe).with_suffix(".gif").as_posix())] = gif.read_bytes()
        alerts.append(alert)
    # the site's before/after composites, for the brief's map layers
    for picture in sorted((workdir / "imagery").glob("*")) if (workdir / "imagery").is_dir() else []:
        if picture.is_file() and not picture.name.startswith("."):
            files[f"imagery/{picture.name}"] = picture.read_bytes()
    return replace(result, alerts=alerts), files


def _scene_report(task: BatchTask, report: Callable[[Mapping[str, Any]], None] | None) -> SceneReport | None:
    name = task.aoi.name
    if report is not None:
        return lambda event, n: report({"unit": name, "event": event, "scenes": n})
    if task.progress_topic:
        return _worker_reporter(task.progress_topic, name)
    return None


def run_task(task: BatchTask, report: Callable[[Mapping[str, Any]], None] | None = None) -> AOIOutcome:
    """Scan one AOI; every error becomes a failed outcome so one AOI never stops the others.

    Parameters
    ----------
    task : BatchTask
    report : callable, optional
        Receives scene-count events in-process (serial runs); on a Dask worker they go to
        ``task.progress_topic`` instead.

    Returns
    -------
    AOIOutcome
    """
    t0 = time.perf_counter()
    name = task.aoi.name
    try:
        import dask

        if dask.config.get("scheduler", None) != task.inner_scheduler:
            # A worker process of a cluster: set it for the process, not per task, because
            # dask.config.set is process-wide and tasks on threads would undo each other.
            dask.config.set(scheduler=task.inner_scheduler)
        options = dict(task.options)
        scene_report = _scene_report(task, report)
        if scene_report is not None and getattr(task.fn, "accepts_progress", False):
            options["progress"] = scene_report
        root = Path(task.scratch_root) if task.scratch_root else default_scratch_root()
        # A worker killed mid-scan leaves its folder behind: whoever comes next on this
        # machine (the retry, usually) removes the folders of processes that are gone.
        own_root(root)
        sweep_scratch(root)
        with scratch_folder(root, task.run_token, name) as workdir:
            got = task.fn(task.aoi, task.source, start=task.start, end=task.end, workdir=workdir, **options)
            result = got if isinstance(got, ScanResult) else ScanResult.from_geojson(got, task.aoi)
            result, files = _collect_files(result, workdir)
        since = task.reported_start.isoformat()
        new_scenes = [d for d in _scene_dates(result) if d >= since]
        if task.new_from is not None and not new_scenes:
            return AOIOutcome(name, "up_to_date", seconds=time.perf_counter() - t0, start=since)
        return AOIOutcome(
            name, "ok", result=result, files=files, seconds=time.perf_counter() - t0, start=since
        )
    except NoScenesError as exc:
        if task.new_from is not None:
            return AOIOutcome(
                name,
                "up_to_date",
                seconds=time.perf_counter() - t0,
                start=task.reported_start.isoformat(),
                error=str(exc),
            )
        return _failed(name, exc, t0, task.reported_start)
    except Exception as exc:
        return _failed(name, exc, t0, task.reported_start)


def _scene_dates(result: ScanResult) -> list[str]:
    return [str(s.get("date"))[:10] for s in result.scenes_used if isinstance(s, Mapping) and s.get("date")]


def _failed(name: str, exc: BaseException, t0: float, start: dt.date) -> AOIOutcome:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, SitewatchError):
        message = f"{type(exc).__name__}: {message}"
    return AOIOutcome(
        name,
        "failed",
        error=redact(message),
        error_type=type(exc).__name__,
        detail=redact("".join(traceback.format_exception(type(exc), exc, exc.__traceback__))),
        seconds=time.perf_counter() - t0,
        start=start.isoformat(),
    )


def safe_relpath(value: str) -> str | None:
    """``value`` as a relative POSIX path inside a folder, or None when it would leave it."""
    p = PurePosixPath(str(value).replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    return str(p)


def connect_scheduler(address: str, *, timeout_s: float = 5.0) -> Any:
    """Connect to an existing Dask cluster and return a ``distributed.Client``.

    Parameters
    ----------
    address : str
        Scheduler address, e.g. ``"tcp://10.0.0.5:8786"``.
    timeout_s : float
        How long to wait for the scheduler to answer.

    Returns
    -------
    distributed.Client

    Raises
    ------
    ConfigError
        If the address is malformed or no scheduler answers there within ``timeout_s``.

    Examples
    --------
    >>> client = connect_scheduler("tcp://127.0.0.1:8786")  # doctest: +SKIP
    """
    from distributed import Client

    if not isinstance(address, str) or not address.startswith(_SCHEMES) or not re.search(r"://.+", address):
        raise ConfigError(
            f"scheduler address {address!r} is not a Dask scheduler address (like tcp://host:8786)"
        )
    try:
        return Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(
            f"no Dask scheduler answers at {address} within {timeout_s:g} s ({type(exc).__name__}); "
            "check the address and that the scheduler runs, or leave out --scheduler to run locally"
        ) from None


@contextlib.contextmanager
def _quiet_distributed() -> Iterator[None]:
    """Keep a local cluster's INFO chatter (start, stop, every client) off the user's terminal.

    The nanny's "worker process still alive, killing" at the end of an interrupted run too.
    """
    # a worker's own warnings (a task cancelled when its neighbour died) are not the user's news
    loggers = {
        "distributed": logging.WARNING,
        "distributed.nanny": logging.ERROR,
        "distributed.worker": logging.ERROR,
    }
    old = {name: logging.getLogger(name).level for name in loggers}
    for name, level in loggers.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < level:
            logger.setLevel(level)
    try:
        yield
    finally:
        for name, level in old.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables while worker processes start (they read their settings from it)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def _ctrl_c_ignored(processes: bool) -> Iterator[None]:
    """Ignore Ctrl-C while local worker processes start, so that only this process hears it later.

    A terminal's Ctrl-C goes to the whole process group: each worker would print its own
    KeyboardInterrupt traceback. An ignored SIGINT survives the start of a new interpreter
    (Python installs its handler only when the signal is not ignored), so the workers (and
    the nannies that restart them) keep ignoring it; this process gets its handler back as
    soon as they are up, stops the run in one line and closes the cluster, which ends them.
    """
    import signal
    import threading

    if not processes or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def open_client(
    scheduler: Any, *, workers: int | None, retries: int, connect_timeout_s: float
) -> Iterator[Any]:
    """Yield a distributed Client for ``scheduler`` (None for serial runs) and close what it opened.

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        As :attr:`BatchOptions.scheduler`.
    workers, retries, connect_timeout_s
        As :class:`BatchOptions`.

    Yields
    ------
    distributed.Client or None
    """
    import dask

    if scheduler in (None, "threads", "processes"):
        from distributed import Client, LocalCluster

        n = workers or os.cpu_count() or 1
        processes = scheduler == "processes"
        # allowed-failures: how often a task may take its worker down before it is reported;
        # worker-saturation 1: a worker holds only the AOIs it runs, so a crash takes no bystander.
        settings = {
            "distributed.scheduler.allowed-failures": retries,
            "distributed.scheduler.worker-saturation": 1.0,
        }
        # a worker's own log lines (a task cancelled by Ctrl-C, a slow shutdown) are not the user's news
        quiet_workers = {"DASK_LOGGING__DISTRIBUTED": "critical"}
        # the workers' settings stay in the environment while the cluster lives: a nanny that
        # restarts a dead worker starts the new one with them too
        with _quiet_distributed(), dask.config.set(settings), _environ(quiet_workers if processes else {}):
            with _ctrl_c_ignored(processes):
                cluster = LocalCluster(
                    processes=processes,
                    n_workers=n if processes else 1,
                    threads_per_worker=1 if processes else n,
                    dashboard_address=None,
                )
            with cluster, Client(cluster, set_as_default=False) as client:
                yield client
        return
    if scheduler == "serial":
        yield None
        return
    if isinstance(scheduler, str):
        client = connect_scheduler(scheduler, timeout_s=connect_timeout_s)
        try:
            yield client
        finally:
            client.close()
        return
    if hasattr(scheduler, "submit") and hasattr(scheduler, "scheduler_info"):
        yield scheduler  # the caller's Client: theirs to close
        return
    raise ConfigError(
        f"scheduler {scheduler!r} is not one of 'threads', 'processes', 'serial', an address or a Client"
    )


def outcomes(
    tasks: Sequence[BatchTask],
    client: Any,
    *,
    no_workers_timeout_s: float,
    timeout_s: float | None,
    on_event: Callable[[Mapping[str, Any]], None] | None = None,
) -> Iterator[AOIOutcome]:
    """Yield outcomes as tasks finish; infrastructure failures become failed outcomes, never hangs.

    Parameters
    ----------
    tasks : sequence of BatchTask
    client : distributed.Client or None
        None: the tasks run one after another in this process.
    no_workers_timeout_s, timeout_s : float
        As :class:`BatchOptions`.
    on_event : callable, optional
        Receives the tasks' scene-count events, always in the calling thread.

    Yields
    ------
    AOIOutcome
    """
    if client is None:
        for task in tasks:
            yield run_task(task, report=on_event)
        return
    import queue

    events: queue.SimpleQueue[Mapping[str, Any]] = queue.SimpleQueue()
    topic = tasks[0].progress_topic if tasks else None
    if on_event is not None and topic:
        # Handlers run on the client's event loop; the events are handed over to this thread.
        client.subscribe_topic(topic, lambda event: events.put(event[1]))

    def drain() -> None:
        while on_event is not None:
            try:
                on_event(events.get_nowait())
            except queue.Empty:
                return

    token = hashlib.sha1(os.urandom(8)).hexdigest()[:8]
    futures = {
        client.submit(run_task, task, key=f"sitewatch-scan-{task.aoi.name}-{token}", pure=False): task
        for task in tasks
    }
    pending = set(futures)
    t_start = time.monotonic()
    no_workers_since: float | None = None
    last_worker_check = -math.inf
    try:
        while pending:
            drain()
            done = sorted((f for f in pending if f.done()), key=lambda f: futures[f].aoi.name)
            if not done:
                time.sleep(0.1)
            for fut in done:
                pending.discard(fut)
                task = futures[fut]
                if fut.status == "finished":
                    yield fut.result()
                else:
                    yield _infrastructure_failure(task, fut)
            if not pending:
                break
            now = time.monotonic()
            if timeout_s is not None and now - t_start > timeout_s:
                for fut in sorted(pending, key=lambda f: futures[f].aoi.name):
                    yield _failed(
                        futures[fut].aoi.name,
                        TimeoutError(f"not finished after the run's time limit of {timeout_s:g} s"),
                        t_start,
                        futures[fut].reported_start,
                    )
                return
            if now - last_worker_check < 1.0:
                continue  # asking the scheduler is an RPC: once a second is enough
            last_worker_check = now
            n_workers = len(client.scheduler_info().get("workers", {}))
            if n_workers == 0:
                no_workers_since = no_workers_since or now
                if now - no_workers_since > no_workers_timeout_s:
                    for fut in sorted(pending, key=lambda f: futures[f].aoi.name):
                        yield _failed(
                            futures[fut].aoi.name,
                            RuntimeError(f"no Dask worker left for {no_workers_timeout_s:g} s"),
                            t_start,
                            futures[fut].start,
                        )
                    return
            else:
                no_workers_since = None
    finally:
        for fut in pending:
            fut.cancel()
        if on_event is not None and topic:
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(topic)


def _infrastructure_failure(task: BatchTask, fut: Any) -> AOIOutcome:
    try:
        exc = fut.exception(timeout=5)
    except Exception as inner:  # a cancelled future has no exception to give
        exc = inner
    if type(exc).__name__ == "KilledWorker":
        exc = RuntimeError("the worker scanning this AOI died (crashed or ran out of memory) on every try")
    return _failed(task.aoi.name, exc, time.perf_counter(), task.reported_start)


class Progress:
    """Two bars on stderr: AOIs (tiles) done, and scenes scanned across them.

    The scenes bar's total grows as tasks report what their search found; it advances as
    they report scenes loaded, and settles on each AOI's own count when its result arrives
    (a scan function that reports nothing is counted then). A failed AOI's unscanned scenes
    leave the total.
    """

    def __init__(self, total: int, *, enabled: bool, initial: int) -> None:
        self.enabled = enabled
        self.found: dict[str, int] = {}
        self.loaded: dict[str, int] = {}
        self.finished: set[str] = set()
        if not enabled:
            return
        from tqdm.auto import tqdm

        self.units = tqdm(total=total, initial=initial, desc="AOIs", unit="aoi", position=0, leave=True)
        self.scenes = tqdm(total=None, desc="scenes", unit="scene", position=1, leave=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.scenes.close()
            self.units.close()

    def _refresh_scenes(self) -> None:
        if not self.enabled:
            return
        self.scenes.total = sum(self.found.values())
        self.scenes.n = sum(self.loaded.values())
        self.scenes.refresh()

    def event(self, message: Mapping[str, Any]) -> None:
        """A task's scene count: ``{"unit", "event": "found" | "loaded", "scenes"}``."""
        unit, kind = str(message.get("unit")), message.get("event")
        if unit in self.finished:
            return  # late news of a task whose result is in
        n = int(message.get("scenes") or 0)
        if kind == "found":
            self.found[unit] = n
            self.loaded[unit] = 0
        elif kind == "loaded":
            self.loaded[unit] = n
            self.found[unit] = max(n, self.found.get(unit, 0))
        self._refresh_scenes()

    def done(self, outcome: AOIOutcome) -> None:
        """A task's result arrived."""
        self.finished.add(outcome.aoi)
        if outcome.status == "ok" and outcome.result is not None:
            n = len(outcome.result.scenes_used) + len(outcome.result.scenes_dropped)
            self.found[outcome.aoi] = self.loaded[outcome.aoi] = n
        else:
            self.found[outcome.aoi] = self.loaded.get(outcome.aoi, 0)
        self._refresh_scenes()
        if self.enabled:
            self.units.set_postfix_str(f"{outcome.aoi}: {outcome.status}", refresh=False)
            self.units.update(1)

    @property
    def scenes_scanned(self) -> int:
        """Scenes counted so far."""
        return sum(self.loaded.values())
