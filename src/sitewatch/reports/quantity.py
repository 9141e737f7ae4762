"""The :class:`Quantity` type: an amount found in report text, normalised to SI.

Found by :func:`sitewatch.reports.quantities.find_quantities` (English there, Arabic in
:mod:`~sitewatch.reports.quantities_ar`); the type lives apart so that both readers depend
on it, not on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Qualifier", "Quantity"]

Qualifier = Literal["exact", "approx", "lt", "le", "gt", "ge"]


@dataclass(frozen=True)
class Quantity:
    """A measured or counted amount found in text.

    Parameters
    ----------
    kind : {"length", "distance", "area", "dimensions", "count"}
        What it measures. ``distance`` is a length between places (not a size on the ground).
    value : float
        Metres (length, distance), square metres (area, dimensions: the product), or a count.
    unit : {"m", "m2", "count"}
        Unit of ``value`` after normalisation.
    text : str
        As written.
    offset : int
        Where it starts in the text searched.
    qualifier : {"exact", "approx", "lt", "le", "gt", "ge"}
        "about 50" is ``approx``, "fewer than 1,000" is ``lt``.
    length_m, width_m : float or None
        For ``dimensions``: the longer and the shorter side in metres.
    noun : str or None
        What is measured or counted, where written ("runway", "trucks").
    """

    kind: Literal["length", "distance", "area", "dimensions", "count"]
    value: float
    unit: Literal["m", "m2", "count"]
    text: str
    offset: int
    qualifier: Qualifier = "exact"
    length_m: float | None = None
    width_m: float | None = None
    noun: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "value": round(self.value, 3),
            "unit": self.unit,
            "qualifier": self.qualifier,
            "text": self.text,
            "offset": self.offset,
        }
        if self.kind == "dimensions":
            out["length_m"] = self.length_m
            out["width_m"] = self.width_m
        if self.noun:
            out["noun"] = self.noun
        return out
