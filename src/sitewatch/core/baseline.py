"""Reference (baseline) windows: the one place where "what is a date compared with?" is decided.

The optical history (:mod:`sitewatch.core.history`) and the radar core
(:mod:`sitewatch.core.sar`) both ask, per date, whether the ground is still what it was. They
answer against the same months, chosen here:

- dates are cut into bins of ``bin_days`` days counted from the series' first date;
- a date in bin ``b`` is compared with the ``recent_bins`` bins just before its own (slow drift,
  soil moisture) and with the bins within ``season_bins`` of the same bin a year earlier
  (``round(365.25 / bin_days)`` bins back: crops and seasonal wetness look like last year),
  those a year ago only where they lie before the recent ones.

Its own bin is never in a date's reference: a change that starts inside a bin would otherwise
leak into the reference of its own later dates.

The optical history scores bins (:func:`reference_bins`); the radar compares single
acquisitions of one orbit, whose references are then two ranges of consecutive acquisitions
(:func:`reference_index_windows`), which prefix sums can add up.
"""

from __future__ import annotations

import numpy as np

__all__ = ["date_bins", "reference_bins", "reference_index_windows", "year_bins"]

_DAYS_PER_YEAR = 365.25


def year_bins(bin_days: int) -> int:
    """Bins of ``bin_days`` days in a year (the distance back to the same season)."""
    return round(_DAYS_PER_YEAR / bin_days)


def date_bins(days: np.ndarray, bin_days: int) -> np.ndarray:
    """The bin of each day, counted from the first: ``(days - days[0]) // bin_days``.

    Parameters
    ----------
    days : numpy.ndarray
        Day numbers (integers, any origin), ascending.
    bin_days : int

    Returns
    -------
    numpy.ndarray
        int64 bins, from 0.
    """
    d = np.asarray(days, dtype=np.int64)
    return ((d - d[0]) // bin_days).astype(np.int64) if d.size else d


def reference_bins(b: int, *, recent: int, season: int, year: int) -> list[int]:
    """The bins a date of bin ``b`` is compared with (ascending, never ``b`` itself).

    Parameters
    ----------
    b : int
        The date's bin.
    recent : int
        Bins just before ``b`` (``recent_bins``).
    season : int
        Half-width, in bins, of the same-season window a year earlier (``season_bins``).
    year : int
        Bins in a year (:func:`year_bins`).

    Returns
    -------
    list of int

    Examples
    --------
    >>> reference_bins(14, recent=3, season=1, year=12)
    [1, 2, 3, 11, 12, 13]
    >>> reference_bins(4, recent=3, season=1, year=12)  # no year before it yet
    [1, 2, 3]
    """
    refs = list(range(max(0, b - recent), b))
    s0 = b - year
    refs += [r for r in range(s0 - season, s0 + season + 1) if 0 <= r < max(0, b - recent)]
    return sorted(set(refs))


def reference_index_windows(
    days: np.ndarray,
    *,
    bin_days: int,
    recent_bins: int,
    season_bins: int,
) -> np.ndarray:
    """Each acquisition's reference window, as two ranges of positions into ``days``.

    The acquisitions whose bin (:func:`date_bins`) is among :func:`reference_bins` of the
    acquisition's own bin: the recent bins and last year's season are each a run of
    consecutive acquisitions, so they are returned as half-open index ranges.

    Parameters
    ----------
    days : numpy.ndarray
        Acquisition days (integers, ascending) of one series (one radar orbit).
    bin_days, recent_bins, season_bins : int
        As :class:`sitewatch.core.history.HistoryParams`.

    Returns
    -------
    numpy.ndarray
        ``(len(days), 4)`` int64: ``recent_start, recent_stop, season_start, season_stop``
        (empty ranges have start == stop).

    Examples
    --------
    >>> days = np.arange(0, 400, 12)  # bins of 30 days: day 396 is in bin 13
    >>> reference_index_windows(days, bin_days=30, recent_bins=3, season_bins=1)[-1].tolist()
    [25, 33, 0, 8]
    """
    bins = date_bins(days, bin_days)
    year = year_bins(bin_days)
    # the recent bins [b - recent, b) and last year's [b - year - season, b - year + season],
    # cut where the recent ones begin, exactly as reference_bins lists them
    r_lo = np.maximum(bins - recent_bins, 0)
    s_lo = np.maximum(bins - year - season_bins, 0)
    s_hi = np.maximum(np.minimum(bins - year + season_bins + 1, r_lo), s_lo)
    r0 = np.searchsorted(bins, r_lo, side="left")
    r1 = np.searchsorted(bins, bins, side="left")
    s0 = np.searchsorted(bins, s_lo, side="left")
    s1 = np.searchsorted(bins, s_hi, side="left")
    return np.stack([r0, r1, s0, s1], axis=1).astype(np.int64)
