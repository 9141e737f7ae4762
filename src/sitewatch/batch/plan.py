"""Planning a batch run: one task per AOI (or per tile of a large AOI), since-last start dates.

Also the other end of tiling: :func:`merge_tiles` puts a tiled AOI's outcomes back
together, alerts kept once (by the tile whose core holds them) and re-identified.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from sitewatch.alerts import Alert, alert_id
from sitewatch.batch.options import BatchOptions, ScanFunction
from sitewatch.batch.results import AOIOutcome
from sitewatch.runs import AOIState
from sitewatch.types import AOI

__all__ = ["BatchTask", "merge_tiles", "plan_tasks", "split_aoi"]


@dataclass(frozen=True)
class BatchTask:
    """One task of a run: an AOI (or a tile of one) to scan, and how."""

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
        """The first day the task reports on (later than ``start`` with since-last)."""
        return self.new_from or self.start


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


def plan_tasks(
    aois: Sequence[AOI],
    sources: Mapping[str, str],
    *,
    start: dt.date,
    end: dt.date,
    previous: Mapping[str, AOIState],
    options: BatchOptions,
    fn: ScanFunction,
    run_token: str,
    scratch_root: str | None,
    progress_topic: str | None,
) -> list[BatchTask]:
    """The tasks of a run: one per AOI, or per tile with ``options.tile_px``.

    With a previous run's state, each AOI starts the day after its last scene then, reading
    ``options.lookback_days`` before it as the baseline.

    Parameters
    ----------
    aois : sequence of AOI
    sources : mapping
        AOI name -> source.
    start, end : datetime.date
    previous : mapping
        AOI name -> its state in the previous run (empty without since-last).
    options : BatchOptions
    fn : callable
        The per-AOI function.
    run_token, scratch_root, progress_topic
        As :class:`BatchTask`.

    Returns
    -------
    list of BatchTask
    """
    task_options = options.task_options()
    tasks = []
    for aoi in aois:
        task_start, new_from = start, None
        state = previous.get(aoi.name)
        if state and state.last_scene_date:
            new_from = max(start, dt.date.fromisoformat(state.last_scene_date) + dt.timedelta(days=1))
            # The history core judges new scenes against the months before them; the
            # provider's cache serves those again without fetching them.
            task_start = max(start, new_from - dt.timedelta(days=options.lookback_days))
        pieces: list[tuple[AOI, Any]] = (
            list(split_aoi(aoi, tile_px=options.tile_px, overlap_px=options.tile_overlap_px))
            if options.tile_px
            else [(aoi, None)]
        )
        tiled = len(pieces) > 1
        for piece, core in pieces:
            tasks.append(
                BatchTask(
                    piece,
                    sources[aoi.name],
                    task_start,
                    end,
                    fn,
                    task_options,
                    options.inner_scheduler,
                    new_from,
                    parent=aoi.name if tiled else "",
                    core=core if tiled else None,
                    run_token=run_token,
                    scratch_root=scratch_root,
                    progress_topic=progress_topic,
                )
            )
    return tasks


def merge_tiles(parent: AOI, tasks: Sequence[BatchTask], outcomes: Mapping[str, AOIOutcome]) -> AOIOutcome:
    """One AOI's outcome from its tiles' outcomes: alerts deduplicated by core, scenes united.

    Parameters
    ----------
    parent : AOI
    tasks : sequence of BatchTask
        Its tiles.
    outcomes : mapping
        Tile name -> outcome.

    Returns
    -------
    AOIOutcome
    """
    import pyproj
    import shapely
    from shapely.geometry import box

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
    fwd = pyproj.Transformer.from_crs("EPSG:4326", parent.utm_crs, always_xy=True)
    alerts: list[Alert] = []
    files: dict[str, bytes] = {}
    used: dict[str, Any] = {}
    dropped: dict[str, Any] = {}
    base = None
    for task, part in zip(tasks, parts, strict=True):
        if part.result is None:
            continue
        base = base or part.result
        for sc in part.result.scenes_used:
            used.setdefault(str(sc.get("id")), sc)
        for sc in part.result.scenes_dropped:
            dropped.setdefault(str(sc.get("id") if isinstance(sc, Mapping) else sc), sc)
        core = box(*task.core) if task.core else None
        for alert in part.result.alerts:
            geom = alert.geometry
            if geom is None or geom.is_empty:
                continue
            point = geom.representative_point()
            x, y = fwd.transform(point.x, point.y)
            if core is not None and not core.covers(shapely.Point(x, y)):
                continue  # the neighbouring tile whose core holds it reports it
            new_id = alert.id
            if alert.change_type and alert.first_detected:
                c = geom.centroid
                new_id = alert_id(parent.name, alert.change_type, (c.x, c.y), alert.first_detected)
            ql = alert.quicklook
            if ql and ql in part.files:
                target = ql if ql not in files else f"{task.aoi.name}/{ql}"
                files[target] = part.files[ql]
                ql = target
            alerts.append(dataclasses.replace(alert, aoi=parent.name, id=new_id, quicklook=ql))
    assert base is not None
    merged = replace(
        base,
        aoi=parent,
        alerts=alerts,
        scenes_used=sorted(used.values(), key=lambda sc: (str(sc.get("date")), str(sc.get("id")))),
        scenes_dropped=list(dropped.values()),
        extra_metadata={**base.extra_metadata, "tiles": [t.aoi.name for t in tasks]},
    )
    return AOIOutcome(parent.name, "ok", result=merged, files=files, seconds=seconds, start=start)
