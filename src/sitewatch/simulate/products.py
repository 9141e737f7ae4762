"""How a simulated scene is named, tagged and offset, as real Sentinel-2 L2A products are.

From processing baseline 04.00 (25 January 2022) ESA's L2A digital numbers carry +1000
(``BOA_ADD_OFFSET = -1000``); the product name holds the baseline (``_N0400_``). Archives
reprocessed as collection 1 (``N0500``) carry it for every date. Harmonised copies (most
cloud catalogues' COGs, Earth Engine's ``S2_SR_HARMONIZED``) remove it and drop the baseline
from the name; some exports keep the offset and say so in a ``BOA_ADD_OFFSET`` tag. Every
scene the simulator writes declares its offset truthfully in one of these ways.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sitewatch.simulate.world import ProductStyle

__all__ = ["ProductName", "product_name"]

_OFFSET_FROM = dt.date(2022, 1, 25)
#: Processing baselines by the date they took over (approximate history of ESA's L2A).
_BASELINES: tuple[tuple[dt.date, str], ...] = (
    (dt.date(2015, 1, 1), "0213"),
    (dt.date(2020, 1, 28), "0214"),
    (dt.date(2021, 3, 30), "0300"),
    (_OFFSET_FROM, "0400"),
    (dt.date(2022, 12, 6), "0509"),
    (dt.date(2024, 1, 10), "0510"),
    (dt.date(2024, 7, 23), "0511"),
)
#: The +1000 of baseline 04.00 and later, in digital numbers.
OFFSET_DN = 1000.0


@dataclass(frozen=True)
class ProductName:
    """A scene's file stem, the tags that go with it and the offset its numbers carry."""

    stem: str
    tags: dict[str, str]
    offset_dn: float
    baseline: str | None


def _baseline_on(day: dt.date) -> str:
    current = _BASELINES[0][1]
    for since, name in _BASELINES:
        if day >= since:
            current = name
    return current


def product_name(style: ProductStyle, when: dt.datetime, *, relative_orbit: int) -> ProductName:
    """The name, tags and offset of a scene acquired at ``when`` in a product ``style``.

    Examples
    --------
    >>> import datetime as dt
    >>> t = dt.datetime(2023, 5, 1, 8, 12, 31)
    >>> product_name("esa", t, relative_orbit=64).stem
    'SIM_S2_MSIL2A_20230501T081231_N0509_R064'
    >>> product_name("esa", t.replace(year=2021), relative_orbit=64).offset_dn
    0.0
    >>> product_name("tagged", t, relative_orbit=64).tags
    {'BOA_ADD_OFFSET': '-1000'}
    """
    stamp = when.strftime("%Y%m%dT%H%M%S")
    if style == "legacy":
        return ProductName(f"SIM_S2_MSIL2A_{stamp}", {}, 0.0, None)
    if style in ("esa", "esa_reprocessed"):
        baseline = "0500" if style == "esa_reprocessed" else _baseline_on(when.date())
        offset = OFFSET_DN if int(baseline[:2]) >= 4 else 0.0
        return ProductName(f"SIM_S2_MSIL2A_{stamp}_N{baseline}_R{relative_orbit:03d}", {}, offset, baseline)
    if style == "tagged":
        return ProductName(f"SIM_S2_L2A_{stamp}", {"BOA_ADD_OFFSET": str(int(-OFFSET_DN))}, OFFSET_DN, None)
    return ProductName(f"SIM_S2_L2A_{stamp}", {}, 0.0, None)
