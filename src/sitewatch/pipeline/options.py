"""The settings of a scan, each with one home: science apart from execution.

:class:`ScanParams` holds what changes the answer (the per-pixel history, the object
stage, which scenes count); :class:`ExecutionOptions` how the work is done (block size,
scratch space). The CLI and batch read their defaults from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sitewatch.core.history import HistoryParams
from sitewatch.errors import ConfigError
from sitewatch.objects import ObjectParams

__all__ = ["ExecutionOptions", "ScanParams"]


@dataclass(frozen=True)
class ScanParams:
    """Science settings of :func:`sitewatch.scan`.

    Attributes
    ----------
    history : HistoryParams
        Baseline, threshold and confirmation settings of the per-pixel core.
    objects : ObjectParams
        Smallest object, date split, surface rules.
    min_clear_fraction : float
        Scenes whose clear share of the covered AOI is below this are dropped (and listed).
    max_cloud_fraction : float or None
        Scene-level cloud filter passed to the provider's search.
    resolution_m : float
        Grid size of the analysis (UTM), metres.
    """

    history: HistoryParams = field(default_factory=HistoryParams)
    objects: ObjectParams = field(default_factory=ObjectParams)
    min_clear_fraction: float = 0.25
    max_cloud_fraction: float | None = None
    resolution_m: float = 10.0


#: Block side of a block-by-block scan when none is given (512 to 2048 suit most machines).
DEFAULT_CHUNK_PX = 2048


@dataclass(frozen=True)
class ExecutionOptions:
    """How a scan runs: in memory or block by block, and where its scratch goes.

    Attributes
    ----------
    chunk_px : int or None
        AOIs larger than this many pixels a side are scanned block by block, for AOIs
        bigger than memory (up to whole Sentinel-2 tiles): the stack is read lazily in
        ``chunk_px`` square blocks (where the provider can; else loaded and then cut), the
        per-pixel stages run on dask blocks and the objects in windows around each group
        of changed pixels, grouped over the whole AOI first (smaller AOIs: in memory, the
        same result). None: always in memory.
    scratch_dir : str or pathlib.Path or None
        Where a block-by-block scan streams its per-pixel results (a temporary folder).
    registration_px : int
        Block by block: side of the central window the shifts are estimated on.
    window_margin_px : int
        Block by block: context around each group of changed pixels for typing.
    max_window_px : int
        Block by block: windows of nearby groups are merged up to this size.
    force : bool
        Scan an AOI beyond the size guard's hard limit (see
        :mod:`sitewatch.pipeline.size_guard`) anyway.
    """

    chunk_px: int | None = DEFAULT_CHUNK_PX
    scratch_dir: str | Path | None = None
    registration_px: int = 1024
    window_margin_px: int = 200
    max_window_px: int = 640
    force: bool = False

    def __post_init__(self) -> None:
        if self.chunk_px is not None and self.chunk_px < 16:
            raise ConfigError(
                f"chunk_px must be at least 16 pixels (got {self.chunk_px}); 512 to 2048 suit most machines"
            )
