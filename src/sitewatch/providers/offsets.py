"""The +1000 of Sentinel-2 processing baseline 04.00: what a scene declares, decided in one place.

From processing baseline 04.00 (25 January 2022) on, ESA's L1C and L2A digital numbers
carry +1000 (``RADIO_ADD_OFFSET``/``BOA_ADD_OFFSET = -1000`` in the metadata); product
names hold the baseline (``..._N0511_...``). Harmonised copies (most cloud catalogues'
COGs, Earth Engine's ``S2_SR_HARMONIZED``) remove it and drop the baseline from the name.
A scene's offset is, in this order:

1. a ``BOA_ADD_OFFSET`` or ``RADIO_ADD_OFFSET`` tag (the band's own tag first);
2. the baseline (a ``PROCESSING_BASELINE`` tag, else ``_Nxxyy_`` in the name): 04.00 or
   later carries the offset, when the processing level is known (an L1C or L2A product);
3. else none.

What was decided is kept in ``Scene.properties["offsets"]`` (band -> DN added on reading),
and :func:`declared_offset_dn` reads it back for the check that the data agree
(:func:`sitewatch.core.normalize.offset_evidence`).

Examples
--------
>>> baseline_from("S2B_MSIL2A_20240812T081609_N0511_R121_T37SCA", {})
5.11
>>> declared_offset({}, "L2A", 5.11)
-1000.0
>>> declared_offset({"BOA_ADD_OFFSET": "0"}, "L2A", 5.11)
0.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from sitewatch.providers.base import CATEGORICAL_BANDS
from sitewatch.types import Scene

__all__ = ["BASELINE_WITH_OFFSET", "PB04_OFFSET_DN", "baseline_from", "declared_offset", "declared_offset_dn"]

#: The first processing baseline whose digital numbers carry the offset.
BASELINE_WITH_OFFSET = 4.0
#: What is added to those digital numbers to get reflectance x 10000.
PB04_OFFSET_DN = -1000.0
_BASELINE_RE = re.compile(r"_N(\d{2})(\d{2})(?=[_.]|$)")
_OFFSET_TAGS = ("BOA_ADD_OFFSET", "RADIO_ADD_OFFSET")


def baseline_from(text: str, tags: Mapping[str, str]) -> float | None:
    """The processing baseline a ``PROCESSING_BASELINE`` tag or a product name (``_N0511_``) gives.

    Parameters
    ----------
    text : str
        A file or folder name (or both, joined).
    tags : mapping
        The raster's tags.

    Returns
    -------
    float or None
        ``5.11`` for ``N0511``; None when neither says.
    """
    tag = tags.get("PROCESSING_BASELINE")
    if tag:
        try:
            return float(tag)
        except ValueError:
            pass
    match = _BASELINE_RE.search(text)
    if match:
        return int(match.group(1)) + int(match.group(2)) / 100
    return None


def declared_offset(tags: Mapping[str, str], level: str | None, baseline: float | None) -> float:
    """The DN to add to a band's stored values (``-1000.0`` or ``0.0``, or what a tag says).

    Parameters
    ----------
    tags : mapping
        The band's tags over the dataset's (an offset tag wins).
    level : str or None
        ``"L1C"``/``"L2A"`` when known.
    baseline : float or None
        From :func:`baseline_from`.

    Returns
    -------
    float
    """
    for key in _OFFSET_TAGS:
        value = tags.get(key)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                pass
    if level is not None and baseline is not None and baseline >= BASELINE_WITH_OFFSET:
        return PB04_OFFSET_DN
    return 0.0


def declared_offset_dn(scene: Scene) -> float:
    """The offset (DN, e.g. ``-1000.0``) a scene's reflectance bands are read with; NaN when unknown.

    Providers that record it (``properties["offsets"]``, as the local provider does) say it;
    for others the data are taken as they come and nothing is checked.
    """
    offsets = scene.properties.get("offsets")
    if not isinstance(offsets, Mapping):
        return math.nan
    values = [float(v) for b, v in offsets.items() if b not in CATEGORICAL_BANDS]
    if not values:
        return math.nan
    return min(values, key=abs) if len(set(values)) > 1 else values[0]
