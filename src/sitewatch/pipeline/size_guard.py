"""The size guard: before any pixel is read, does this scan fit the machine.

The scan estimates the memory an in-memory scan of the AOI needs from its size on the
grid, the number of dates and of bands:

    bytes = dates x bands x rows x cols x 4 (float32) x WORKING_SET_FACTOR

(:data:`WORKING_SET_FACTOR` = 2.5 covers the masks, indices and per-pixel history the
in-memory scan holds beside the stack). Then:

- up to :data:`MEMORY_SHARE` (half) of the machine's RAM: as asked;
- beyond it, an in-memory scan switches to block by block on its own (``chunk_px``
  :data:`~sitewatch.pipeline.options.DEFAULT_CHUNK_PX`), and says so at ``-v``; a source
  that cannot read by blocks (an uncached remote one) is refused instead;
- beyond :data:`MAX_SIDE_PX` pixels a side (120 km at 10 m, a little more than one
  Sentinel-2 tile, the most a block-by-block scan is built for: it still groups changed
  pixels over the whole AOI), the scan is refused in one line naming the size and what to
  do, unless ``force=True`` (``--force``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from sitewatch.errors import TooLargeError
from sitewatch.pipeline.options import DEFAULT_CHUNK_PX
from sitewatch.types import AOI

__all__ = [
    "MAX_SIDE_PX",
    "MEMORY_SHARE",
    "WORKING_SET_FACTOR",
    "SizeEstimate",
    "check_size",
    "estimate_size",
    "machine_ram_bytes",
]

log = logging.getLogger(__name__)

#: Largest AOI side (pixels) a scan accepts without ``--force``: 12,000 px = 120 km at 10 m.
MAX_SIDE_PX = 12_000
#: Share of the machine's RAM an in-memory scan may plan to use before going block by block.
MEMORY_SHARE = 0.5
#: Bytes held per stack byte by an in-memory scan (masks, indices, history beside the stack).
WORKING_SET_FACTOR = 2.5


@dataclass(frozen=True)
class SizeEstimate:
    """What a scan of an AOI will hold: grid size and the estimated in-memory bytes."""

    rows: int
    cols: int
    n_dates: int
    n_bands: int
    area_km2: float

    @property
    def stack_bytes(self) -> int:
        """Bytes of the float32 ``(time, band, y, x)`` stack alone."""
        return self.rows * self.cols * self.n_dates * self.n_bands * 4

    @property
    def memory_bytes(self) -> int:
        """Estimated peak bytes of an in-memory scan."""
        return int(self.stack_bytes * WORKING_SET_FACTOR)

    def describe(self) -> str:
        """``"339,762 km2 (58,310 x 58,290 px at 10 m, 42 dates, 8 bands: ~2.6 TB in memory)"``."""
        return (
            f"{self.area_km2:,.0f} km2 ({self.rows:,} x {self.cols:,} px, {self.n_dates} dates, "
            f"{self.n_bands} bands: ~{_human(self.memory_bytes)} in memory)"
        )


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def machine_ram_bytes() -> int | None:
    """Physical memory of this machine, or None where the platform does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def estimate_size(aoi: AOI, *, n_dates: int, n_bands: int, resolution_m: float = 10.0) -> SizeEstimate:
    """The grid an AOI covers (its UTM bounding box at ``resolution_m``) and what a scan holds.

    Examples
    --------
    >>> import shapely
    >>> aoi = AOI(name="x", display_name="x", geometry=shapely.box(40.0, 36.0, 40.1, 36.1), point=None)
    >>> est = estimate_size(aoi, n_dates=10, n_bands=8)
    >>> (est.rows, est.cols, round(est.area_km2))
    (1119, 913, 100)
    """
    west, south, east, north = aoi.geometry_in(aoi.utm_crs).bounds
    rows = max(1, round((north - south) / resolution_m))
    cols = max(1, round((east - west) / resolution_m))
    return SizeEstimate(rows, cols, n_dates, n_bands, aoi.area_m2 / 1e6)


def check_size(
    estimate: SizeEstimate,
    *,
    aoi_name: str,
    chunk_px: int | None,
    reads_blocks: bool,
    force: bool = False,
    ram_bytes: int | None = None,
) -> int | None:
    """Refuse a scan too large to run, or pick block by block for one too large for memory.

    Parameters
    ----------
    estimate : SizeEstimate
    aoi_name : str
    chunk_px : int or None
        The block side asked for (None: in memory).
    reads_blocks : bool
        Whether the provider reads lazily by blocks.
    force : bool
        Scan beyond :data:`MAX_SIDE_PX` anyway.
    ram_bytes : int, optional
        The machine's RAM (default :func:`machine_ram_bytes`).

    Returns
    -------
    int or None
        The ``chunk_px`` to scan with.

    Raises
    ------
    TooLargeError
        Beyond the hard limit (without ``force``), or when an uncached source would have to
        load more than fits.
    """
    side = max(estimate.rows, estimate.cols)
    if side > MAX_SIDE_PX and not force:
        raise TooLargeError(
            f"AOI {aoi_name} covers {estimate.describe()}, beyond the {MAX_SIDE_PX:,} px a side a scan "
            "handles; split it into smaller AOIs (or scan --all --tile-px 4096), or pass --force"
        )
    ram = ram_bytes if ram_bytes is not None else machine_ram_bytes()
    budget = None if ram is None else ram * MEMORY_SHARE
    if budget is None or estimate.memory_bytes <= budget:
        return chunk_px
    if not reads_blocks and estimate.stack_bytes > budget and not force:
        raise TooLargeError(
            f"AOI {aoi_name} covers {estimate.describe()}, more than half of this machine's "
            f"{_human(ram or 0)} RAM, and the source loads whole scenes; use its cache (the default), "
            "fewer dates, smaller AOIs, or pass --force"
        )
    if chunk_px is None:
        log.info(
            "AOI %s needs %s, more than half of the %s RAM: scanning block by block (%d px blocks)",
            aoi_name,
            _human(estimate.memory_bytes),
            _human(ram or 0),
            DEFAULT_CHUNK_PX,
        )
        return DEFAULT_CHUNK_PX
    return chunk_px
