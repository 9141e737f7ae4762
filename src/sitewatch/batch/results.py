"""What a batch run returns: one :class:`AOIOutcome` per AOI, and the :class:`BatchResult` of the run."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sitewatch.objects.classify import CHANGE_TYPES
from sitewatch.pipeline.result import ScanResult

__all__ = ["CHANGE_TYPES", "AOIOutcome", "BatchResult", "format_summary"]


@dataclass(frozen=True)
class AOIOutcome:
    """What one AOI's task returned: alerts and their files, or why it failed.

    Parameters
    ----------
    aoi : str
        AOI name.
    status : {"ok", "up_to_date", "failed"}
        ``"up_to_date"`` when ``since_last`` found no new scene.
    result : ScanResult or None
        What the scan found, without its rasters (``None`` when failed or up to date).
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
    result: ScanResult | None = None
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
    resumed : tuple of str
        AOIs an interrupted run on the same directory had finished: kept, not scanned again.
    """

    run_dir: Path
    status: Literal["complete", "partial", "failed"]
    rows: tuple[dict[str, Any], ...]
    previous_run: Path | None = None
    resumed: tuple[str, ...] = ()

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
        "vegloss",
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
