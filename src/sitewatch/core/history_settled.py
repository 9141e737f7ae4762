"""A break back near one of the pixel's states before that is a new surface, not a reversion.

The per-pixel history calls a break reverted when its last clear dates are back near one of
the pixel's reference states before it (:mod:`sitewatch.core.history_tile`). A field has many
such states (crop, stubble, soil), and fresh concrete or asphalt laid on it ages within months to
a tone near one of them. The pixel itself tells the two apart: it varied before and is one
constant built surface after, which is not its own bare ground of before.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sitewatch.core.history_common import HistoryParams, nan_quantile_sorted, quartile_spread, sorted_in_time
from sitewatch.core.history_season import same_ground
from sitewatch.core.history_spectra import ndvi
from sitewatch.core.surfaces import DEFAULT_RULES

__all__ = ["settled"]


def settled(
    xs: np.ndarray,
    vs: np.ndarray,
    ks: np.ndarray,
    k2: np.ndarray,
    p: HistoryParams,
    built: Callable[[np.ndarray], np.ndarray],
    red_nir: tuple[int, int] | None,
) -> np.ndarray:
    """Pixels whose dates after the break vary far less than before it: a new built surface.

    Relative to the pixel itself: the spread (interquartile range) of its clear dates
    after the confirming one, against that of its dates before the break, each over at least
    ``p.settled_min_obs`` dates, and the median of the dates after built (``built``) and,
    band by band, not the pixel's own bare ground of before (``veg_season_same_ground``; dark
    soil passes the absolute asphalt test). A field's cycle varies before and after alike, and
    a field left bare after its harvest is its own soil; a pad or a runway laid on it is a
    new built surface whatever its tone.
    """
    tt = np.arange(xs.shape[0])[:, None]
    pre = vs & (tt < ks[None])
    post = vs & (tt > np.maximum(k2, ks)[None])
    enough = (pre.sum(axis=0) >= p.settled_min_obs) & (post.sum(axis=0) >= p.settled_min_obs)
    out = np.zeros(ks.shape, bool)
    if enough.any():
        e = np.nonzero(enough)[0]
        # one sort along time each (NaN last) instead of np.nanpercentile, several times faster
        srt_pre, n_pre = sorted_in_time(xs[:, :, e], pre[:, e])
        srt_post, n_post = sorted_in_time(xs[:, :, e], post[:, e])
        s_pre, s_post = quartile_spread(srt_pre, n_pre), quartile_spread(srt_post, n_post)
        quiet = s_pre >= p.settled_ratio * np.maximum(s_post, np.float32(0.5 * p.noise_floor))
        state = nan_quantile_sorted(srt_post, n_post, 0.5)
        out[e] = quiet & built(state)
        q = np.nonzero(out[e])[0]
        if red_nir is not None and q.size:
            xq = xs[:, :, e[q]]
            green = ndvi(np.moveaxis(xq, 1, 0), red_nir) >= DEFAULT_RULES.vegetated_min_ndvi
            srt_bare, n_bare = sorted_in_time(xq, pre[:, e[q]] & ~green)
            then = nan_quantile_sorted(srt_bare, n_bare, 0.5)
            then[n_bare == 0] = np.nan  # no bare date before: no ground of its own to be back to
            out[e[q]] = ~same_ground(state[:, q], then, p.veg_season_same_ground)
    return out
