"""The settings of a batch run, in one frozen object (the CLI reads its defaults here)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sitewatch.errors import ConfigError
from sitewatch.pipeline.options import ExecutionOptions, ScanParams

__all__ = ["BatchOptions", "ScanFunction", "SceneReport", "SchedulerKind"]

#: The per-AOI work: ``fn(aoi, source, *, start, end, workdir, **options)`` returns a
#: :class:`~sitewatch.pipeline.result.ScanResult` (without its rasters) or an alerts GeoJSON
#: FeatureCollection in the sitewatch alerts schema, whose ``quicklook`` properties are paths
#: relative to ``workdir``, where the function wrote them. A function that sets the attribute
#: ``accepts_progress = True`` is also given ``progress``, a :data:`SceneReport`.
ScanFunction = Callable[..., Any]

#: ``report(event, n_scenes)`` with event ``"found"`` (the search is done) or ``"loaded"``.
SceneReport = Callable[[str, int], None]

SchedulerKind = Literal["threads", "processes", "serial"]


@dataclass(frozen=True)
class BatchOptions:
    """How :func:`sitewatch.batch.scan_all` runs (every field has its one default here).

    Attributes
    ----------
    params : ScanParams
        Science settings of the default per-AOI scan.
    execution : ExecutionOptions
        Execution settings of the default per-AOI scan (``chunk_px``: big AOIs are one task
        scanned block by block; ``scratch_dir`` is each task's own folder).
    cache_dir : str or None
        Imagery cache of the default per-AOI scan.
    scheduler : {"threads", "processes", "serial"}, str, distributed.Client or None
        ``None``/``"threads"``: an in-process cluster of threads (default); ``"processes"``:
        a local cluster of worker processes; ``"serial"``: no Dask, one AOI after another;
        an address such as ``"tcp://host:8786"``: an existing cluster; or a ``Client``.
    since_last : bool or path-like
        Start each AOI from the day after the last scene the previous run used, and mark
        alerts new/updated against it. ``True`` takes the latest finished run beside the run
        directory; a path names that run.
    reports_dir : path-like or None
        Folder of text reports: their claims are extracted and linked to each AOI's alerts.
    lookback_days : int
        With ``since_last``: how far before the first new scene the scan still reads, as the
        baseline the new scenes are judged against (served from the provider's cache).
    scan_fn : callable or None
        The per-AOI function (see :data:`ScanFunction`); default sitewatch's own scan.
    scan_options : mapping
        Extra keyword options for a custom ``scan_fn`` (must be picklable).
    workers : int or None
        Worker threads or processes of a local cluster (default: one per CPU).
    retries : int
        How many times an AOI whose worker died is tried before it is reported failed.
    connect_timeout_s : float
        How long a scheduler address may take to answer.
    no_workers_timeout_s : float
        Give up on the remaining AOIs when a cluster has had no worker for this long.
    timeout_s : float or None
        Time limit of the whole run; AOIs not done by then are reported failed.
    inner_scheduler : {"sync", "threads"}
        Dask scheduler inside one AOI's scan (``"sync"`` keeps memory bounded when many
        AOIs run at once; ``"threads"`` suits one very large AOI).
    tile_px : int or None
        AOIs wider or taller than this many 10 m pixels are cut into overlapping tiles scanned
        as separate tasks (see :func:`~sitewatch.batch.plan.split_aoi`); an object longer than
        the overlap may then be reported in pieces. None never cuts.
    tile_overlap_px : int
        Overlap between tiles, in pixels.
    progress : bool
        Show progress bars on stderr: AOIs (tiles) done, and scenes scanned across them.
    scratch_dir : path-like or None
        Where tasks keep their temporary files, one folder per run, removed at its end.
        Default: :func:`~sitewatch.batch.scratch.default_scratch_root` (on a remote cluster,
        each worker's own temporary folder).
    quicklook_format : {"png", "pdf", "svg"}
        Format of the default scan's quicklooks.
    timelapse : bool
        The default scan also writes a time-lapse GIF per alert beside its quicklook.
    sar : str or None
        A Sentinel-1 source for every AOI's scan (``scan --all --sar SOURCE``; see
        :func:`sitewatch.scan`).
    """

    params: ScanParams = field(default_factory=ScanParams)
    execution: ExecutionOptions = field(default_factory=ExecutionOptions)
    cache_dir: str | None = None
    scheduler: SchedulerKind | str | Any | None = None
    since_last: bool | str | os.PathLike[str] = False
    reports_dir: str | os.PathLike[str] | None = None
    lookback_days: int = 365
    scan_fn: ScanFunction | None = None
    scan_options: Mapping[str, Any] = field(default_factory=dict)
    workers: int | None = None
    retries: int = 2
    connect_timeout_s: float = 5.0
    no_workers_timeout_s: float = 60.0
    timeout_s: float | None = None
    inner_scheduler: Literal["sync", "threads"] = "sync"
    tile_px: int | None = None
    tile_overlap_px: int = 100
    progress: bool = False
    scratch_dir: str | os.PathLike[str] | None = None
    quicklook_format: Literal["png", "pdf", "svg"] = "png"
    timelapse: bool = False
    sar: str | None = None

    def __post_init__(self) -> None:
        if self.retries < 0 or self.lookback_days < 0:
            raise ConfigError("retries and lookback_days must be 0 or more")

    @property
    def local(self) -> bool:
        """The AOIs run on this machine (threads, processes or serially)."""
        return self.scheduler is None or self.scheduler in ("threads", "processes", "serial")

    def task_options(self) -> dict[str, Any]:
        """The keyword options every AOI's scan function is called with."""
        if self.scan_fn is not None:
            return dict(self.scan_options)
        out: dict[str, Any] = {"params": self.params, "execution": self.execution}
        if self.timelapse or self.quicklook_format != "png":
            out.update(timelapse=self.timelapse, quicklook_format=self.quicklook_format)
        if self.cache_dir is not None:
            out["cache_dir"] = self.cache_dir
        if self.sar is not None:
            out["sar"] = self.sar
        return out
