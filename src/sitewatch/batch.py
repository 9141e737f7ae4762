"""Batch scans: every watched site, each an independent task on ``dask.distributed``.

:func:`scan_all` runs one scan per AOI, in parallel, on an in-process cluster of threads
(the default), a local cluster of processes, an existing cluster (a scheduler address),
or serially; whichever runs them, the files written are the same. One AOI failing (bad
data, a provider error, even its worker process dying) is reported in the summary and the
others finish. Results travel back to the process that started the run, which alone writes
the run directory (see :mod:`sitewatch.runs`): workers need no shared file system, a full
disk stops the run cleanly, and earlier runs are never touched.

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
import csv
import datetime as dt
import hashlib
import inspect
import io
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import numpy as np

from sitewatch.errors import ConfigError, NoScenesError, RunError, SitewatchError
from sitewatch.runs import (
    MANIFEST_NAME,
    RUN_FORMAT,
    STATE_NAME,
    AOIState,
    alert_fingerprint,
    atomic_write_bytes,
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
    "BatchResult",
    "SceneReport",
    "ScanFunction",
    "connect_scheduler",
    "default_scratch_root",
    "scan_all",
    "sitewatch_scan",
    "split_aoi",
    "sweep_scratch",
]

log = logging.getLogger(__name__)

#: Alert types, in the order the summary lists them.
CHANGE_TYPES: tuple[str, ...] = ("new_pad", "runway_change", "evacuation", "earthworks", "other")
#: Block side (10 m pixels) of the default scan for AOIs bigger than that: read and scanned block by block.
DEFAULT_CHUNK_PX = 2048

#: The per-AOI work: ``fn(aoi, source, *, start, end, workdir, **options)`` returns an alerts
#: GeoJSON FeatureCollection (the sitewatch alerts schema) whose ``quicklook`` properties are
#: paths relative to ``workdir``, where the function wrote them.
ScanFunction = Callable[..., Mapping[str, Any]]

SchedulerKind = Literal["threads", "processes", "serial"]

_SCHEMES = ("tcp://", "tls://", "ucx://", "inproc://", "ws://", "wss://")


@dataclass(frozen=True)
class AOIOutcome:
    """What one AOI's task returned: alerts and their files, or why it failed.

    Parameters
    ----------
    aoi : str
        AOI name.
    status : {"ok", "up_to_date", "failed"}
        ``"up_to_date"`` when ``since_last`` found no new scene.
    alerts : mapping or None
        The alerts FeatureCollection (``None`` when failed or up to date).
    files : mapping of str to bytes
        Files the scan wrote (quicklooks), by path relative to the AOI's folder.
    error : str or None
        One line saying what went wrong.
    error_type : str or None
        The exception class name.
    detail : str or None
        The traceback, for ``error.txt``.
    seconds : float
        Wall time of the scan.
    start : str
        ISO date the scan started from (later than asked with ``since_last``).
    """

    aoi: str
    status: Literal["ok", "up_to_date", "failed"]
    alerts: Mapping[str, Any] | None = None
    files: Mapping[str, bytes] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    detail: str | None = None
    seconds: float = 0.0
    start: str = ""


@dataclass(frozen=True)
class BatchResult:
    """The outcome of :func:`scan_all`.

    Parameters
    ----------
    run_dir : pathlib.Path
        Where everything was written.
    status : {"complete", "partial", "failed"}
        ``"partial"`` when some AOIs failed, ``"failed"`` when all did.
    rows : tuple of dict
        The summary, one row per AOI (see :meth:`table`).
    previous_run : pathlib.Path or None
        The run ``since_last`` started from.
    """

    run_dir: Path
    status: Literal["complete", "partial", "failed"]
    rows: tuple[dict[str, Any], ...]
    previous_run: Path | None = None

    @property
    def ok(self) -> bool:
        """True when no AOI failed."""
        return self.status == "complete"

    @property
    def failed(self) -> list[str]:
        """Names of the AOIs that failed."""
        return [r["aoi"] for r in self.rows if r["status"] == "failed"]

    def table(self) -> str:
        """Return the summary as an aligned plain-text table."""
        return format_summary(self.rows)


# ---------------------------------------------------------------------------------------------
# the task that runs on a worker


@dataclass(frozen=True)
class _Task:
    aoi: AOI
    source: str
    start: dt.date
    end: dt.date
    fn: ScanFunction
    options: Mapping[str, Any]
    inner_scheduler: str
    new_from: dt.date | None = None  # since-last: scenes from this day on are new
    parent: str = ""  # the AOI a tile belongs to ("" when the task is a whole AOI)
    core: tuple[float, float, float, float] | None = None  # a tile's own part, UTM, no overlap
    run_token: str = "run"  # names this run's scratch folders
    scratch_root: str | None = None  # None: the worker's own temp folder
    progress_topic: str | None = None  # Dask event topic scene counts go to (None: no reports)

    @property
    def reported_start(self) -> dt.date:
        return self.new_from or self.start


#: ``report(event, n_scenes)`` with event ``"found"`` (the search is done) or ``"loaded"``.
SceneReport = Callable[[str, int], None]


def _worker_reporter(topic: str, unit: str) -> SceneReport:
    """Send scene counts from a task on a Dask worker to the client, as scheduler events."""

    def report(event: str, n_scenes: int) -> None:
        try:
            from distributed import get_worker

            get_worker().log_event(topic, {"unit": unit, "event": event, "scenes": int(n_scenes)})
        except Exception as exc:  # progress is a nicety: it never fails a scan
            log.debug("scene progress of %s not reported: %s", unit, exc)

    return report


def _run_task(task: _Task, report: Callable[[Mapping[str, Any]], None] | None = None) -> AOIOutcome:
    """Scan one AOI; every error becomes a failed outcome so one AOI never stops the others.

    ``report`` receives scene-count events in-process (serial runs); on a Dask worker they go
    to ``task.progress_topic`` instead.
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
        scene_report: SceneReport | None = None
        if report is not None:
            scene_report = lambda event, n: report({"unit": name, "event": event, "scenes": n})  # noqa: E731
        elif task.progress_topic:
            scene_report = _worker_reporter(task.progress_topic, name)
        if scene_report is not None and _names_parameter(task.fn, "progress"):
            options["progress"] = scene_report
        root = Path(task.scratch_root) if task.scratch_root else default_scratch_root()
        # A worker killed mid-scan leaves its folder behind: whoever comes next on this
        # machine (the retry, usually) removes the folders of processes that are gone.
        _own_root(root)
        sweep_scratch(root)
        with _scratch_folder(root, task.run_token, name) as workdir:
            fc = task.fn(task.aoi, task.source, start=task.start, end=task.end, workdir=workdir, **options)
            fc = dict(fc)
            files = _collect_files(fc, workdir)
        new_scenes = [d for d in _scene_dates(fc) if d >= task.reported_start.isoformat()]
        if task.new_from is not None and not new_scenes:
            return AOIOutcome(
                name, "up_to_date", seconds=time.perf_counter() - t0, start=task.reported_start.isoformat()
            )
        return AOIOutcome(
            name,
            "ok",
            alerts=fc,
            files=files,
            seconds=time.perf_counter() - t0,
            start=task.reported_start.isoformat(),
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


def _scene_dates(fc: Mapping[str, Any] | None) -> list[str]:
    used = ((fc or {}).get("sitewatch") or {}).get("scenes_used") or []
    return [str(s.get("date"))[:10] for s in used if isinstance(s, Mapping) and s.get("date")]


def _failed(name: str, exc: BaseException, t0: float, start: dt.date) -> AOIOutcome:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not isinstance(exc, SitewatchError):
        message = f"{type(exc).__name__}: {message}"
    return AOIOutcome(
        name,
        "failed",
        error=message,
        error_type=type(exc).__name__,
        detail="".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
        seconds=time.perf_counter() - t0,
        start=start.isoformat(),
    )


def _safe_relpath(value: str) -> str | None:
    p = PurePosixPath(str(value).replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    return str(p)


def _collect_files(fc: Mapping[str, Any], workdir: Path) -> dict[str, bytes]:
    """Read back the quicklooks an alerts collection points at, so they travel with the result."""
    files: dict[str, bytes] = {}
    for feat in fc.get("features") or []:
        rel = (feat.get("properties") or {}).get("quicklook")
        if not rel:
            continue
        safe = _safe_relpath(rel)
        path = workdir / safe if safe else Path(rel)
        if safe is None or not path.is_file():
            # A quicklook outside the work folder or missing: keep the alert, drop the picture.
            feat["properties"]["quicklook"] = None
            continue
        files[safe] = path.read_bytes()
    return files


# ---------------------------------------------------------------------------------------------
# scratch folders: <root>/<run token>/<host>/<pid>-<process start>/<unit>-XXXXXXXX
#
# A task's folder names the process that owns it, so a folder left by a worker that was killed
# mid-scan is recognised by the next task on the same machine (the retry, usually) and removed;
# at the end of the run the run's whole folder goes.

#: Folder name of the scratch root inside the system's temporary folder.
SCRATCH_DIRNAME = "sitewatch-scratch"

_SAFE = re.compile(r"[^A-Za-z0-9._-]")


def default_scratch_root() -> Path:
    """Return where batch tasks keep temporary files by default: ``<temp>/sitewatch-scratch-<uid>``.

    Returns
    -------
    pathlib.Path
        Under :func:`tempfile.gettempdir` (``TMPDIR``) of the calling process, one per user
        (a shared temporary folder is not a place to share).
    """
    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    return Path(tempfile.gettempdir()) / f"{SCRATCH_DIRNAME}{user}"


def _own_root(root: Path) -> None:
    """Make the scratch root (private) or check that it is a folder of ours, not a planted link."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = root.lstat()
    if root.is_symlink() or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        raise ConfigError(
            f"scratch folder {root} is a link or belongs to another user; "
            "remove it or give scan_all another scratch_dir"
        )


def _host() -> str:
    import socket

    return _SAFE.sub("_", socket.gethostname()) or "host"


def _process_stamp() -> str:
    import psutil

    me = psutil.Process()
    return f"{me.pid}-{int(me.create_time() * 100)}"


def _owner_alive(stamp: str) -> bool:
    """Tell whether the process a scratch folder is named after still runs (unknown names: yes)."""
    import psutil

    m = re.fullmatch(r"(\d+)-(\d+)", stamp)
    if m is None:
        return True  # not a folder this module made: leave it
    try:
        started = int(psutil.Process(int(m[1])).create_time() * 100)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # cannot tell (another user's process): keep
    return abs(started - int(m[2])) <= 2  # a different start time: the pid was reused


def sweep_scratch(root: str | os.PathLike[str] | None = None) -> int:
    """Remove the scratch folders of batch processes on this machine that no longer run.

    Every batch task calls this before it starts, so a worker killed mid-scan (crash, out of
    memory) does not leave its files behind once the next task runs on the machine; call it
    yourself to tidy up after runs that were killed as a whole.

    Parameters
    ----------
    root : path-like, optional
        The scratch root (default :func:`default_scratch_root`).

    Returns
    -------
    int
        How many dead processes' folders were removed.

    Examples
    --------
    >>> sweep_scratch()  # doctest: +SKIP
    0
    """
    import glob

    base = Path(root) if root is not None else default_scratch_root()
    if not base.is_dir() or base.is_symlink():
        return 0  # a link is not ours to clean through
    removed = 0
    for owner in sorted(base.glob(f"*/{glob.escape(_host())}/*")):
        if not owner.is_dir() or _owner_alive(owner.name):
            continue
        shutil.rmtree(owner, ignore_errors=True)
        if not owner.exists():
            removed += 1
            log.info("removed the scratch folder %s of a process that is gone", owner)
        for parent in (owner.parent, owner.parent.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty
    return removed


@contextlib.contextmanager
def _scratch_folder(root: Path, token: str, unit: str) -> Iterator[Path]:
    """A fresh folder for one task, removed afterwards (with its parents once empty)."""
    _own_root(root)
    owner = root / _SAFE.sub("_", token) / _host() / _process_stamp()
    prefix = _SAFE.sub("_", unit)[:64] + "-"
    for attempt in range(5):
        try:
            owner.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=owner))
            break
        except FileNotFoundError:  # another task tidied an empty parent away meanwhile
            if attempt == 4:
                raise
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in (owner, owner.parent, owner.parent.parent):
            try:
                parent.rmdir()
            except OSError:  # not empty: other tasks still use it
                break


def _remove_run_scratch(root: str | None, token: str) -> None:
    """Remove one run's scratch folders (on the machine this runs on)."""
    base = Path(root) if root else default_scratch_root()
    shutil.rmtree(base / _SAFE.sub("_", token), ignore_errors=True)


async def _remove_run_scratch_on_worker(root: str | None, token: str) -> None:
    """:func:`_remove_run_scratch` on a Dask worker, off its event loop."""
    import asyncio

    await asyncio.to_thread(_remove_run_scratch, root, token)


# ---------------------------------------------------------------------------------------------
# the default per-AOI function: sitewatch's own scan


def sitewatch_scan(
    aoi: AOI,
    source: str,
    *,
    start: dt.date,
    end: dt.date,
    workdir: Path,
    progress: SceneReport | None = None,
    **options: Any,
) -> Mapping[str, Any]:
    """Scan one AOI with :func:`sitewatch.pipeline.scan.scan` and return its alerts collection.

    This is the per-AOI function :func:`scan_all` runs by default.

    Parameters
    ----------
    aoi : AOI
    source : str
        Provider name (``"local:DIR"``, ``"stac"``, ``"sentinelhub"``...).
    start, end : datetime.date
    workdir : pathlib.Path
        Where quicklooks are written; the returned collection points at them relatively.
    progress : callable, optional
        Called as ``progress("found", n)`` once the provider's search found ``n`` scenes and
        ``progress("loaded", n)`` once they are loaded (the batch's scenes bar).
    **options
        Passed on to ``scan`` (``scratch_dir`` defaults to ``workdir``).

    Returns
    -------
    dict
        The alerts FeatureCollection.
    """
    import json

    from sitewatch.pipeline.scan import scan

    # A chunked scan streams its per-pixel results to disk: into the task's own folder, so
    # they go with it, also when the worker is killed mid-scan (see sweep_scratch).
    options.setdefault("scratch_dir", workdir)
    if progress is None:
        result = scan(aoi, source, start=start, end=end, **options)
    else:
        with _counted_source(source, progress) as counted:
            try:
                result = scan(aoi, counted, start=start, end=end, **options)
            except SitewatchError as exc:
                # Messages name the source the user gave, not the counting stand-in.
                exc.args = tuple(a.replace(counted, source) if isinstance(a, str) else a for a in exc.args)
                raise
        result = replace(result, source=source)
    # ScanResult.write puts alerts.geojson and quicklooks/ (paths relative to the folder) in workdir.
    path = result.write(workdir, quicklooks=True)
    data: Mapping[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


# Scene counts come from the provider itself: scan() gets a source name that resolves to the
# real provider wrapped in one that reports what its search found and its load loaded.
_COUNTING = "_sitewatch-batch-counting"
_COUNTED: dict[str, tuple[str, SceneReport]] = {}
_COUNTED_LOCK = threading.Lock()


class _CountingProvider:
    """A provider that tells a :data:`SceneReport` how many scenes it found and loaded.

    ``search`` and ``load`` keep the wrapped provider's signatures (``scan`` reads them, e.g.
    whether ``load`` takes ``chunk_px`` to read lazily).
    """

    def __init__(self, inner: Any, report: SceneReport) -> None:
        import functools

        self._inner = inner

        @functools.wraps(inner.search)
        def search(*args: Any, **kwargs: Any) -> Iterator[Any]:
            scenes = list(inner.search(*args, **kwargs))
            report("found", len(scenes))
            return iter(scenes)

        @functools.wraps(inner.load)
        def load(scenes: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
            scenes = list(scenes)
            stack = inner.load(scenes, *args, **kwargs)
            report("loaded", len(scenes))
            return stack

        self.search = search
        self.load = load

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _counting_factory(arg: str | None, **options: Any) -> Any:
    from sitewatch.providers.base import get_provider

    with _COUNTED_LOCK:
        source, report = _COUNTED[str(arg)]
    return _CountingProvider(get_provider(source, **options), report)


@contextlib.contextmanager
def _counted_source(source: str, report: SceneReport) -> Iterator[str]:
    from sitewatch.providers.base import provider_names, register_provider

    token = os.urandom(8).hex()
    with _COUNTED_LOCK:
        if _COUNTING not in provider_names():
            register_provider(_COUNTING, _counting_factory)
        _COUNTED[token] = (source, report)
    try:
        yield f"{_COUNTING}:{token}"
    finally:
        with _COUNTED_LOCK:
            _COUNTED.pop(token, None)


# ---------------------------------------------------------------------------------------------
# schedulers


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
    """Keep a local cluster's INFO chatter (start, stop, every client) off the user's terminal."""
    logger = logging.getLogger("distributed")
    old = logger.level
    if logger.getEffectiveLevel() < logging.WARNING:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(old)


@contextlib.contextmanager
def _client(scheduler: Any, *, workers: int | None, retries: int, connect_timeout_s: float) -> Iterator[Any]:
    """Yield a distributed Client for ``scheduler`` (None for serial runs) and close what it opened."""
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
        with (
            _quiet_distributed(),
            dask.config.set(settings),
            LocalCluster(
                processes=processes,
                n_workers=n if processes else 1,
                threads_per_worker=1 if processes else n,
                dashboard_address=None,
            ) as cluster,
            Client(cluster, set_as_default=False) as client,
        ):
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


def _outcomes(
    tasks: Sequence[_Task],
    client: Any,
    *,
    no_workers_timeout_s: float,
    timeout_s: float | None,
    on_event: Callable[[Mapping[str, Any]], None] | None = None,
) -> Iterator[AOIOutcome]:
    """Yield outcomes as tasks finish; infrastructure failures become failed outcomes, never hangs.

    ``on_event`` receives the tasks' scene-count events, always in the calling thread.
    """
    if client is None:
        for task in tasks:
            yield _run_task(task, report=on_event)
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
        client.submit(_run_task, task, key=f"sitewatch-scan-{task.aoi.name}-{token}", pure=False): task
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


def _infrastructure_failure(task: _Task, fut: Any) -> AOIOutcome:
    try:
        exc = fut.exception(timeout=5)
    except Exception as inner:  # a cancelled future has no exception to give
        exc = inner
    if type(exc).__name__ == "KilledWorker":
        exc = RuntimeError("the worker scanning this AOI died (crashed or ran out of memory) on every try")
    return _failed(task.aoi.name, exc, time.perf_counter(), task.reported_start)


# ---------------------------------------------------------------------------------------------
# writing the run


def _public_source(source: str) -> str:
    # A source string could carry credentials in a URL; the manifest never keeps them.
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", source)


def _public_sources(sources: Mapping[str, str]) -> str | dict[str, str]:
    distinct = set(sources.values())
    if len(distinct) == 1:
        return _public_source(distinct.pop())
    return {name: _public_source(src) for name, src in sorted(sources.items())}


def _aoi_record(aoi: AOI) -> dict[str, Any]:
    import shapely.geometry

    rec: dict[str, Any] = {
        "name": aoi.name,
        "display_name": aoi.display_name,
        "path": aoi.path,
        "point": list(aoi.point) if aoi.point else None,
        "location_certainty": aoi.location_certainty,
        "geometry": shapely.geometry.mapping(aoi.geometry),
    }
    if aoi.path and Path(aoi.path).is_file():
        rec["sha256"] = hashlib.sha256(Path(aoi.path).read_bytes()).hexdigest()
    else:
        rec["geometry_wkt_sha256"] = hashlib.sha256(aoi.geometry.wkt.encode()).hexdigest()
    return rec


def _scenes_info(fc: Mapping[str, Any] | None) -> tuple[list[Mapping[str, Any]], list[Any]]:
    meta = (fc or {}).get("sitewatch") or {}
    return list(meta.get("scenes_used") or []), list(meta.get("scenes_dropped") or [])


def _last_scene_date(fc: Mapping[str, Any] | None) -> str | None:
    dates = [str(s.get("date"))[:10] for s in _scenes_info(fc)[0] if isinstance(s, Mapping) and s.get("date")]
    return max(dates) if dates else None


def _annotate(
    fc: Mapping[str, Any], previous: AOIState | None, aoi_name: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Mark each alert new/updated/seen against the previous run; return the copy and the lists."""
    out = dict(fc)
    features = []
    new: list[str] = []
    updated: list[str] = []
    for feat in fc.get("features") or []:
        feat = dict(feat)
        props = dict(feat.get("properties") or {})
        aid = str(props.get("id") or feat.get("id") or "")
        if previous is None or aid not in previous.alerts:
            props["since_last"] = "new"
            new.append(aid)
        elif dict(previous.alerts[aid]) != alert_fingerprint(props):
            props["since_last"] = "updated"
            updated.append(aid)
        else:
            props["since_last"] = "seen"
        props.setdefault("aoi", aoi_name)
        feat["properties"] = props
        features.append(feat)
    features.sort(key=lambda f: str(f["properties"].get("id") or ""))
    out["features"] = features
    return out, new, updated


def _counts(fc: Mapping[str, Any] | None) -> dict[str, int]:
    counts = dict.fromkeys(CHANGE_TYPES, 0)
    for feat in (fc or {}).get("features") or []:
        kind = (feat.get("properties") or {}).get("change_type")
        counts[kind if kind in counts else "other"] += 1
    return counts


def _dumps(data: Any) -> str:
    import json

    return json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False, sort_keys=False) + "\n"


def _write_outcome(
    run_dir: Path, outcome: AOIOutcome, previous: AOIState | None, since_last: bool
) -> tuple[dict[str, Any], dict[str, Any] | None, AOIState | None]:
    """Write one AOI's files; return its summary row, its annotated alerts and its new state."""
    folder = run_dir / "aois" / outcome.aoi
    row: dict[str, Any] = {
        "aoi": outcome.aoi,
        "status": outcome.status,
        "start": outcome.start,
        "scenes_used": 0,
        "scenes_dropped": 0,
        **dict.fromkeys(CHANGE_TYPES, 0),
        "alerts": 0,
        "new": 0,
        "updated": 0,
        "seconds": round(outcome.seconds, 2),
        "error": outcome.error or "",
    }
    if outcome.status == "failed":
        atomic_write_text(folder / "error.txt", (outcome.detail or outcome.error or "") + "\n")
        return row, None, previous
    if outcome.status == "up_to_date" or outcome.alerts is None:
        row["error"] = ""
        return row, None, previous
    fc, new, updated = _annotate(outcome.alerts, previous if since_last else None, outcome.aoi)
    for rel, data in sorted(outcome.files.items()):
        atomic_write_bytes(folder / rel, data)
    atomic_write_text(folder / "alerts.geojson", _dumps(fc))
    used, dropped = _scenes_info(fc)
    # Since-last runs count the new scenes only (the baseline before them was counted before).
    used = [u for u in used if str(u.get("date"))[:10] >= outcome.start]
    dropped = [d for d in dropped if not isinstance(d, Mapping) or str(d.get("date"))[:10] >= outcome.start]
    row.update(_counts(fc))
    row.update(
        scenes_used=len(used),
        scenes_dropped=len(dropped),
        alerts=len(fc["features"]),
        new=len(new),
        updated=len(updated),
    )
    fingerprints = dict(previous.alerts) if (previous and since_last) else {}
    for feat in fc["features"]:
        props = feat["properties"]
        fingerprints[str(props.get("id") or feat.get("id"))] = alert_fingerprint(props)
    last = _last_scene_date(fc) or (previous.last_scene_date if previous else None)
    if previous and previous.last_scene_date and last and previous.last_scene_date > last:
        last = previous.last_scene_date
    return row, fc, AOIState(outcome.aoi, last, fingerprints, run_dir.name)


def _merged(
    run_dir: Path, collections: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any]
) -> dict[str, Any]:
    features = []
    for name in sorted(collections):
        for feat in collections[name].get("features") or []:
            feat = dict(feat)
            props = dict(feat["properties"])
            if props.get("quicklook"):
                props["quicklook"] = f"aois/{name}/{props['quicklook']}"
            feat["properties"] = props
            features.append(feat)
    return {"type": "FeatureCollection", "sitewatch": dict(meta), "features": features}


def format_summary(rows: Iterable[Mapping[str, Any]]) -> str:
    """Return summary rows as an aligned plain-text table.

    Parameters
    ----------
    rows : iterable of mapping
        Rows as in :attr:`BatchResult.rows`.

    Returns
    -------
    str
    """
    columns = [
        "aoi",
        "status",
        "scenes_used",
        "scenes_dropped",
        *CHANGE_TYPES,
        "new",
        "updated",
        "seconds",
        "error",
    ]
    heads = [
        "AOI",
        "status",
        "scenes",
        "dropped",
        "pads",
        "runway",
        "evac",
        "earthw",
        "other",
        "new",
        "upd",
        "time_s",
        "error",
    ]
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _summary_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def _names_parameter(fn: Callable[..., Any], name: str) -> bool:
    """Tell whether ``fn`` names a keyword ``name`` (``**kwargs`` alone might pass it on: no)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    param = params.get(name)
    return param is not None and param.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )


# ---------------------------------------------------------------------------------------------
# tiles: large AOIs in pieces of bounded size


def split_aoi(
    aoi: AOI, *, tile_px: int, overlap_px: int = 100, resolution_m: float = 10.0
) -> list[tuple[AOI, tuple[float, float, float, float]]]:
    """Cut a large AOI into overlapping tiles of at most ``tile_px`` pixels a side (plus overlap).

    Each tile is scanned as its own task, so the memory one scan needs is bounded whatever the
    AOI's size; an alert is kept from the tile whose *core* (the tile without its overlap) holds
    its representative point, so objects smaller than the overlap are reported exactly once.

    Parameters
    ----------
    aoi : AOI
    tile_px : int
        Side of a tile's core in pixels.
    overlap_px : int
        Margin added on every side of a core; objects up to about this size that straddle a
        core boundary are seen whole by one tile.
    resolution_m : float
        Pixel size of the analysis grid.

    Returns
    -------
    list of (AOI, tuple)
        Tile AOIs (named ``<aoi>--<row>-<col>``) with their core boxes in ``aoi.utm_crs``;
        a single ``(aoi, bounds)`` when the AOI fits one tile.

    Examples
    --------
    >>> tiles = split_aoi(big_aoi, tile_px=1024)  # doctest: +SKIP
    """
    import math

    import pyproj
    import shapely
    from shapely.geometry import box

    crs = aoi.utm_crs
    geom = aoi.geometry_in(crs)
    minx, miny, maxx, maxy = geom.bounds
    size = tile_px * resolution_m
    nx, ny = max(1, math.ceil((maxx - minx) / size)), max(1, math.ceil((maxy - miny) / size))
    if nx * ny == 1:
        return [(aoi, (minx, miny, maxx, maxy))]
    back = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    margin = overlap_px * resolution_m
    tiles = []
    for r in range(ny):
        for c in range(nx):
            core = (minx + c * size, maxy - (r + 1) * size, minx + (c + 1) * size, maxy - r * size)
            if geom.intersection(box(*core)).is_empty:
                continue
            part = geom.intersection(box(*core).buffer(margin, join_style="mitre"))
            wgs = shapely.transform(part, lambda xy: np.column_stack(back.transform(xy[:, 0], xy[:, 1])))
            name = f"{aoi.name[:56]}--{r:02d}-{c:02d}"
            tile = replace(
                aoi,
                name=name,
                display_name=f"{aoi.display_name} ({r},{c})",
                geometry=wgs,
                point=None,
                path=None,
            )
            tiles.append((tile, core))
    return tiles


def _merge_tiles(parent: AOI, tasks: Sequence[_Task], outcomes: Mapping[str, AOIOutcome]) -> AOIOutcome:
    """One AOI's outcome from its tiles' outcomes: alerts deduplicated by core, scenes united."""
    import pyproj
    import shapely
    from shapely.geometry import box, shape

    parts = [outcomes[t.aoi.name] for t in tasks]
    start = parts[0].start
    seconds = sum(p.seconds for p in parts)
    failed = [p for p in parts if p.status == "failed"]
    if failed:
        return AOIOutcome(
            parent.name,
            "failed",
            error=f"{len(failed)} of {len(parts)} tiles failed: "
            + "; ".join(f"{p.aoi}: {p.error}" for p in failed),
            error_type=failed[0].error_type,
            detail="\n\n".join(f"--- {p.aoi}\n{p.detail}" for p in failed),
            seconds=seconds,
            start=start,
        )
    if all(p.status == "up_to_date" for p in parts):
        return AOIOutcome(parent.name, "up_to_date", seconds=seconds, start=start)
    from sitewatch.alerts import alert_id

    fwd = pyproj.Transformer.from_crs("EPSG:4326", parent.utm_crs, always_xy=True)
    features: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    used: dict[str, Any] = {}
    dropped: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for task, part in zip(tasks, parts, strict=True):
        if part.alerts is None:
            continue
        meta = meta or dict(part.alerts.get("sitewatch") or {})
        tile_meta = part.alerts.get("sitewatch") or {}
        for sc in tile_meta.get("scenes_used") or []:
            used.setdefault(str(sc.get("id")), sc)
        for sc in tile_meta.get("scenes_dropped") or []:
            dropped.setdefault(str(sc.get("id") if isinstance(sc, Mapping) else sc), sc)
        core = box(*task.core) if task.core else None
        for feat in part.alerts.get("features") or []:
            geom = shape(feat["geometry"]) if feat.get("geometry") else None
            if geom is None or geom.is_empty:
                continue
            point = geom.representative_point()
            x, y = fwd.transform(point.x, point.y)
            if core is not None and not core.covers(shapely.Point(x, y)):
                continue  # the neighbouring tile whose core holds it reports it
            props = dict(feat.get("properties") or {})
            props["aoi"] = parent.name
            if props.get("change_type") and props.get("first_detected"):
                c = geom.centroid
                props["id"] = alert_id(parent.name, props["change_type"], (c.x, c.y), props["first_detected"])
            ql = props.get("quicklook")
            if ql and ql in part.files:
                target = ql if ql not in files else f"{task.aoi.name}/{ql}"
                files[target] = part.files[ql]
                props["quicklook"] = target
            features.append({**feat, "id": props.get("id", feat.get("id")), "properties": props})
    meta.update(
        aoi=parent.name,
        tiles=[t.aoi.name for t in tasks],
        scenes_used=sorted(used.values(), key=lambda sc: (str(sc.get("date")), str(sc.get("id")))),
        scenes_dropped=list(dropped.values()),
    )
    fc = {"type": "FeatureCollection", "sitewatch": meta, "features": features}
    return AOIOutcome(parent.name, "ok", alerts=fc, files=files, seconds=seconds, start=start)


# ---------------------------------------------------------------------------------------------
# the entry point


def scan_all(
    aois: Iterable[AOI],
    source: str | Mapping[str, str],
    *,
    start: dt.date | str,
    end: dt.date | str,
    out_dir: str | os.PathLike[str],
    scheduler: SchedulerKind | str | Any | None = None,
    since_last: bool | str | os.PathLike[str] = False,
    reports_dir: str | os.PathLike[str] | None = None,
    lookback_days: int = 365,
    scan_fn: ScanFunction | None = None,
    scan_options: Mapping[str, Any] | None = None,
    workers: int | None = None,
    retries: int = 2,
    connect_timeout_s: float = 5.0,
    no_workers_timeout_s: float = 60.0,
    timeout_s: float | None = None,
    inner_scheduler: Literal["sync", "threads"] = "sync",
    tile_px: int | None = None,
    tile_overlap_px: int = 100,
    progress: bool = False,
    scratch_dir: str | os.PathLike[str] | None = None,
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
    scheduler : {"threads", "processes", "serial"}, str, distributed.Client or None
        ``None``/``"threads"``: an in-process cluster of threads (default); ``"processes"``:
        a local cluster of worker processes; ``"serial"``: no Dask, one AOI after another;
        an address such as ``"tcp://host:8786"``: an existing cluster; or a ``Client``.
    since_last : bool or path-like
        Start each AOI from the day after the last scene the previous run used, and mark
        alerts new/updated against it. ``True`` takes the latest finished run beside
        ``out_dir``; a path names that run.
    reports_dir : path-like, optional
        Folder of text reports: their claims are extracted and linked to each AOI's alerts.
    lookback_days : int
        With ``since_last``: how far before the first new scene the scan still reads, as the
        baseline the new scenes are judged against (served from the provider's cache).
        Scenes counted, and alerts marked, are those from the first new day on.
    scan_fn : callable, optional
        The per-AOI function (see :data:`ScanFunction`); default sitewatch's own scan.
    scan_options : mapping, optional
        Extra keyword options for ``scan_fn`` (must be picklable).
    workers : int, optional
        Worker threads or processes of a local cluster (default: one per CPU).
    retries : int
        How many times an AOI whose worker died is tried before it is reported failed.
    connect_timeout_s : float
        How long a scheduler address may take to answer.
    no_workers_timeout_s : float
        Give up on the remaining AOIs when a cluster has had no worker for this long.
    timeout_s : float, optional
        Time limit of the whole run; AOIs not done by then are reported failed.
    inner_scheduler : {"sync", "threads"}
        Dask scheduler inside one AOI's scan (``"sync"`` keeps memory bounded when many
        AOIs run at once; ``"threads"`` suits one very large AOI).
    tile_px : int or None
        AOIs wider or taller than this many 10 m pixels are cut into overlapping tiles scanned as
        separate tasks (see :func:`split_aoi`), to spread one huge AOI over a cluster's machines;
        an object longer than the overlap may then be reported in pieces. None (the default)
        never cuts: a big AOI is one task, scanned block by block (the default scan's
        ``chunk_px``, 2048 unless ``scan_options`` says otherwise), so its memory is bounded
        and its objects are whole.
    tile_overlap_px : int
        Overlap between tiles, in pixels.
    progress : bool
        Show progress bars on stderr: AOIs (tiles) done, and scenes scanned across them (the
        total grows as each task's search reports what it found; the count advances as scenes
        are loaded). A ``scan_fn`` that accepts a ``progress`` keyword is given a
        :data:`SceneReport` to call; one that does not is counted when its result arrives.
    scratch_dir : path-like, optional
        Where tasks keep their temporary files (quicklooks before they travel back), in one
        folder per run, removed at its end. Default: :func:`default_scratch_root` (on a remote
        cluster, each worker's own temporary folder). A task also removes folders left by
        worker processes that died on its machine (see :func:`sweep_scratch`).

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
    import dask

    t0 = time.perf_counter()
    aoi_list = sorted(aois, key=lambda a: a.name)
    names = [a.name for a in aoi_list]
    if not aoi_list:
        raise ConfigError("no AOI to scan: the AOI folder is empty")
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"AOI names must be unique in a batch; repeated: {', '.join(dupes)}")
    start_d, end_d = as_date(start, what="start"), as_date(end, what="end")
    if start_d > end_d:
        raise ConfigError(f"start {start_d} is after end {end_d}")
    if retries < 0 or lookback_days < 0:
        raise ConfigError("retries and lookback_days must be 0 or more")
    if isinstance(source, Mapping):
        missing = [n for n in names if n not in source]
        if missing:
            raise ConfigError(f"no source given for AOI(s) {', '.join(missing)}")
        sources = {n: str(source[n]) for n in names}
    else:
        sources = dict.fromkeys(names, str(source))
    run_dir = Path(out_dir)
    local = scheduler is None or scheduler in ("threads", "processes", "serial")
    remote = not local
    # Local workers share this process's temporary folder; remote ones use their own.
    scratch_root = (
        str(scratch_dir) if scratch_dir is not None else (str(default_scratch_root()) if local else None)
    )
    token = f"{_SAFE.sub('_', run_dir.resolve().name)[:40]}-{os.urandom(6).hex()}"
    topic = f"sitewatch-progress-{token}" if progress else None
    fn = scan_fn or sitewatch_scan
    options = dict(scan_options or {})
    if scan_fn is None:
        # the default scan reads and scans big AOIs block by block (memory bounded)
        options.setdefault("chunk_px", DEFAULT_CHUNK_PX)

    with lock_run(run_dir):
        if (run_dir / MANIFEST_NAME).exists():
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
        previous_run: Path | None = None
        previous: dict[str, AOIState] = {}
        if since_last:
            previous_run = find_previous_run(run_dir) if since_last is True else Path(since_last)
            if previous_run is not None:
                previous = read_state(previous_run)
            else:
                log.warning("--since-last: no finished run beside %s; scanning the whole range", run_dir)

        claims = None if reports_dir is None else _extract_claims(Path(reports_dir), aoi_list)
        tasks = []
        for aoi in aoi_list:
            task_start, new_from = start_d, None
            state = previous.get(aoi.name)
            if state and state.last_scene_date:
                new_from = max(start_d, dt.date.fromisoformat(state.last_scene_date) + dt.timedelta(days=1))
                # The history core judges new scenes against the months before them; the
                # provider's cache serves those again without fetching them.
                task_start = max(start_d, new_from - dt.timedelta(days=lookback_days))
            pieces = split_aoi(aoi, tile_px=tile_px, overlap_px=tile_overlap_px) if tile_px else [(aoi, None)]
            for piece, core in pieces:
                tiled = len(pieces) > 1
                tasks.append(
                    _Task(
                        piece,
                        sources[aoi.name],
                        task_start,
                        end_d,
                        fn,
                        options,
                        inner_scheduler,
                        new_from,
                        parent=aoi.name if tiled else "",
                        core=core if tiled else None,
                        run_token=token,
                        scratch_root=scratch_root,
                        progress_topic=topic,
                    )
                )
        by_parent: dict[str, list[_Task]] = {}
        for t in tasks:
            by_parent.setdefault(t.parent or t.aoi.name, []).append(t)
        parent_aoi = {a.name: a for a in aoi_list}
        arrived: dict[str, dict[str, AOIOutcome]] = {}

        def whole(outcome: AOIOutcome, task_parent: str) -> AOIOutcome | None:
            """The AOI's outcome once all its tiles have arrived (at once for an untiled AOI)."""
            if not task_parent:
                return outcome
            got = arrived.setdefault(task_parent, {})
            got[outcome.aoi] = outcome
            if len(got) < len(by_parent[task_parent]):
                return None
            return _merge_tiles(parent_aoi[task_parent], by_parent[task_parent], got)

        unit_parent = {t.aoi.name: t.parent for t in tasks}
        up_to_date = [t for t in tasks if t.reported_start > t.end]

        manifest: dict[str, Any] = {
            "sitewatch_run": RUN_FORMAT,
            "run_id": run_dir.resolve().name,
            "status": "running",
            "created": _now(),
            "finished": None,
            "settings": {
                "source": _public_sources(sources),
                "start": start_d.isoformat(),
                "end": end_d.isoformat(),
                "since_last": bool(since_last),
                "lookback_days": lookback_days,
                "previous_run": str(previous_run) if previous_run else None,
                "reports_dir": str(reports_dir) if reports_dir else None,
                "scheduler": (scheduler or "threads")
                if isinstance(scheduler, str) or scheduler is None
                else "client",
                "workers": workers,
                "retries": retries,
                "inner_scheduler": inner_scheduler,
                "tile_px": tile_px,
                "tile_overlap_px": tile_overlap_px,
                "tiles": {n: [t.aoi.name for t in ts] for n, ts in by_parent.items() if ts[0].parent},
                "scan_function": f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}",
                "scan_options": {k: v for k, v in options.items() if not k.startswith("_")},
            },
            "versions": versions(),
            "aois": [_aoi_record(a) for a in aoi_list],
        }
        atomic_write_json(run_dir / MANIFEST_NAME, manifest)

        rows: dict[str, dict[str, Any]] = {}
        collections: dict[str, dict[str, Any]] = {}
        states: dict[str, AOIState] = dict(previous)
        try:
            for name in sorted({t.parent or t.aoi.name for t in up_to_date}):
                start_iso = by_parent[name][0].reported_start.isoformat()
                current = AOIOutcome(name, "up_to_date", start=start_iso)
                rows[name] = _write_outcome(run_dir, current, previous.get(name), True)[0]
            todo = [t for t in tasks if t.reported_start <= t.end]
            with (
                contextlib.ExitStack() as stack,
                dask.config.set(scheduler=inner_scheduler),
                _client(
                    scheduler if todo else "serial",
                    workers=workers,
                    retries=retries,
                    connect_timeout_s=connect_timeout_s,
                ) as client,
            ):
                # The bars start once the cluster answers, and close on any way out.
                bars = stack.enter_context(_Progress(len(tasks), enabled=progress, initial=len(up_to_date)))
                try:
                    for unit in _outcomes(
                        todo,
                        client,
                        no_workers_timeout_s=no_workers_timeout_s,
                        timeout_s=timeout_s,
                        on_event=bars.event if progress else None,
                    ):
                        bars.done(unit)
                        outcome = whole(unit, unit_parent[unit.aoi])
                        if outcome is None:
                            continue
                        row, fc, state = _write_outcome(
                            run_dir, outcome, previous.get(outcome.aoi), bool(since_last)
                        )
                        rows[outcome.aoi] = row
                        if fc is not None:
                            collections[outcome.aoi] = fc
                        if state is not None:
                            states[outcome.aoi] = state
                finally:
                    # The run's scratch folders go however it ends, a killed worker's too
                    # (local workers share this machine; a remote cluster's are asked).
                    _clean_scratch(client if remote else None, scratch_root, token)

            if claims is not None:
                _link_reports(run_dir, claims, collections, rows)

            ordered = [rows[n] for n in names]
            n_failed = sum(r["status"] == "failed" for r in ordered)
            status: Literal["complete", "partial", "failed"] = (
                "complete" if n_failed == 0 else ("failed" if n_failed == len(ordered) else "partial")
            )
            meta = {
                "version": manifest["versions"].get("sitewatch"),
                "run": manifest["run_id"],
                "source": _public_sources(sources),
                "start": start_d.isoformat(),
                "end": end_d.isoformat(),
                "aois": names,
                "since_last": bool(since_last),
            }
            atomic_write_text(run_dir / "alerts.geojson", _dumps(_merged(run_dir, collections, meta)))
            atomic_write_json(run_dir / "summary.json", ordered)
            atomic_write_text(run_dir / "summary.csv", _summary_csv(ordered))
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
        except BaseException as exc:
            manifest.update(status="aborted", finished=_now(), reason=f"{type(exc).__name__}: {exc}")
            with contextlib.suppress(RunError):
                atomic_write_json(run_dir / MANIFEST_NAME, manifest)
            raise
    return BatchResult(run_dir, status, tuple(ordered), previous_run)


def _clean_scratch(client: Any, root: str | None, token: str) -> None:
    """Remove this run's scratch folders here and, for a remote cluster, on its workers."""
    if client is not None:
        with contextlib.suppress(Exception):
            # fire and forget (a coroutine: Dask runs those without waiting): never waits on a sick worker
            client.run(_remove_run_scratch_on_worker, root, token, wait=False)
    if root is not None:
        _remove_run_scratch(root, token)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class _Progress:
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

    def __enter__(self) -> _Progress:
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
        if outcome.status == "ok":
            used, dropped = _scenes_info(outcome.alerts)
            n = len(used) + len(dropped)
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


def _extract_claims(reports_dir: Path, aois: Sequence[AOI]) -> list[Any]:
    """Read the reports once, before any scan, so a bad reports folder fails the run at once."""
    from sitewatch.reports import extract_claims_for

    if not reports_dir.exists():
        raise ConfigError(f"reports folder {reports_dir} does not exist")
    return extract_claims_for(reports_dir, aois)


def _link_reports(
    run_dir: Path,
    claims: Sequence[Any],
    collections: dict[str, dict[str, Any]],
    rows: Mapping[str, dict[str, Any]],
) -> None:
    """Link the claims about each scanned AOI to its alerts; write claims, links, cited alerts."""
    from sitewatch.reports import attach_links, claims_document, link_claims, links_document

    atomic_write_json(run_dir / "claims.json", claims_document(claims))
    names = set(rows)
    about = [c for c in claims if c.site in names]
    links = link_claims(about, [collections[n] for n in sorted(collections)]) if about else []
    atomic_write_json(run_dir / "links.json", links_document(links, about))
    for name in sorted(names):
        own = [lk for lk in links if lk.site == name]
        rows[name]["claims"] = len(own)
        rows[name]["supported"] = sum(lk.verdict == "supported" for lk in own)
        rows[name]["contradicted"] = sum(lk.verdict == "contradicted" for lk in own)
        if not own and name not in collections:
            continue
        atomic_write_json(run_dir / "aois" / name / "links.json", links_document(own, about))
        if name in collections:
            cited = attach_links(collections[name], own, about)
            collections[name] = cited
            atomic_write_text(run_dir / "aois" / name / "alerts.geojson", _dumps(cited))
