"""Settings and vocabulary of the radar core (see :mod:`sitewatch.core.sar`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sitewatch.errors import DataError

__all__ = ["BACKSCATTER_CONVENTIONS", "ORBIT_DIRECTIONS", "POLARIZATIONS", "Backscatter", "SarParams"]

POLARIZATIONS: tuple[str, ...] = ("VV", "VH")
#: Backscatter conventions a series may hold (one per series: they differ by the terrain's slope).
BACKSCATTER_CONVENTIONS: tuple[str, ...] = ("sigma0", "gamma0")
#: Orbit directions as the per-time ``orbit_direction`` coordinate spells them.
ORBIT_DIRECTIONS: tuple[str, ...] = ("ASCENDING", "DESCENDING")

Backscatter = Literal["sigma0", "gamma0"]


@dataclass(frozen=True)
class SarParams:
    """Settings of :func:`detect_sar_breaks` (and the outline summaries).

    The reference-window settings have the names and defaults of
    :class:`sitewatch.core.history.HistoryParams`, so radar and optical references cover the
    same months; a pipeline running both should pass the same values.

    Parameters
    ----------
    bin_days : int
        Length of the optical history's baseline bin, in days.
    recent_bins : int
        Bins (of ``bin_days``) just before a date in its reference window.
    season_bins : int
        Half-width, in bins, of the same-season window one year earlier.
    min_ref_obs : int
        Fewest reference acquisitions (same orbit) for a date to be tested.
    confirm_obs : int
        Consecutive acquisitions of one orbit in the test window (the confirmation).
    threshold : float
        ``|t|`` of the test window needed for a break (on at least one polarisation).
    single_threshold : float
        Each acquisition of the window must lie this many reference standard deviations on
        the changed side.
    direction_threshold : float
        ``|t|`` from which a polarisation's change counts as brighter or darker.
    min_change_db : float
        Smallest change of mean backscatter (dB) counted as a break: a significant but tiny
        change (soil moisture on a stable pixel) is not a structure appearing or leaving.
    floor_test_variance : bool
        Floor the test window's variance at the reference's (two acquisitions cannot estimate a
        variance; without it, two equal values give an infinite t).
    variance_floor_share : float
        Floor of every variance, as a share of the orbit's median reference variance (0: none).
    variance_pool_px : int
        Side of the neighbourhood whose mean reference variance floors each pixel's own (1: the
        pixel's own estimate alone).
    filter_px : int
        Side of the Lee speckle filter's window in pixels (1: no filtering).
    looks : float, optional
        Equivalent number of looks of the input; by default estimated per scene from the data.
    terrain_window_px : int
        Side of the window (pixels) over which orbit-direction contrasts are smoothed when
        flagging terrain from the data (larger than a building, smaller than a hillside).
    layover_contrast_db : float
        Contrast between orbit directions (dB, scene median removed) beyond which the brighter
        side is flagged layover and the darker side shadow (when also extreme in the scene).
    steep_contrast_db : float
        Contrast between orbit directions (dB) beyond which the terrain is flagged steep.
    steep_slope_deg : float
        DEM slope (degrees) from which terrain is steep.
    incidence_deg : tuple of float
        Nearest and farthest incidence angles of the swath (Sentinel-1 IW: 29.1 to 46.0),
        used with a DEM: layover is judged at the nearest, shadow at the farthest (the cautious
        ends).
    outline_min_change_db : float
        Smallest change of an outline's mean backscatter called brighter or darker (soil
        moisture and crops move a field's mean by about a dB).
    outline_after_days : int
        Length of the after window of an outline's change, from the event's end (days).
    normalize : bool
        Remove each date's scene-wide offset first (soil moisture, frozen ground; see
        :func:`date_offsets`).
    tile_px : int
        Pixels processed at once (memory bound).
    """

    bin_days: int = 30
    recent_bins: int = 3
    season_bins: int = 1
    min_ref_obs: int = 4
    confirm_obs: int = 2
    threshold: float = 5.0
    single_threshold: float = 1.5
    direction_threshold: float = 2.0
    min_change_db: float = 1.5
    floor_test_variance: bool = True
    variance_floor_share: float = 0.5
    variance_pool_px: int = 5
    filter_px: int = 5
    looks: float | None = None
    terrain_window_px: int = 9
    layover_contrast_db: float = 6.0
    steep_contrast_db: float = 3.0
    steep_slope_deg: float = 15.0
    incidence_deg: tuple[float, float] = (29.1, 46.0)
    outline_min_change_db: float = 1.0
    outline_after_days: int = 60
    normalize: bool = True
    tile_px: int = 65_536

    def __post_init__(self) -> None:
        if self.confirm_obs < 1 or self.min_ref_obs < 2:
            raise DataError(
                f"SarParams needs confirm_obs >= 1 and min_ref_obs >= 2 "
                f"(got {self.confirm_obs}, {self.min_ref_obs})"
            )
        if self.filter_px < 1 or self.filter_px % 2 == 0:
            raise DataError(
                f"SarParams.filter_px must be a positive odd number of pixels, not {self.filter_px}"
            )
