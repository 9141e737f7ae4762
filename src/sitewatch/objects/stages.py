"""Pads laid in sections: the sections of one build, split apart by their dates, found again.

A pad (an apron, a hardstand, a compound's yard) is often laid in sections over weeks or
months. The object stage splits a connected change whose pixels' dates leave a gap longer
than ``split_days`` (:func:`~sitewatch.objects.group.split_by_date`), so that works of
another year beside a pad are not one object with it; a pad whose sections were laid two or
three months apart is then two or three pads, each measured as a part of it and the later
ones dated late. :func:`staged_pairs` finds the pairs of pads that are sections of one
build: they touch, they were laid within ``max_days`` of each other and their surfaces are
one material now. Whether the union is one pad is for the object stage to judge (it
describes the union as it describes any object).

Examples
--------
>>> import numpy as np
>>> labels = np.zeros((6, 12), int); labels[1:5, 1:6] = 1; labels[1:5, 6:11] = 2
>>> concrete = {"B02": 0.2, "B04": 0.24, "B08": 0.28, "B11": 0.3}
>>> a = Section(1, 0, concrete); b = Section(2, 90, concrete)
>>> staged_pairs([a, b], labels, max_days=130, tolerance=0.2)
[(0, 1)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["Section", "same_material", "staged_pairs"]


@dataclass(frozen=True)
class Section:
    """What the search reads of one pad.

    Attributes
    ----------
    label : int
        Its value in the label raster.
    day : int
        The day it was first seen (any origin, the same for all sections).
    after : mapping of str to float
        Its mean spectrum at the end of the series, per band (reflectance 0..1).
    """

    label: int
    day: int
    after: Mapping[str, float]


def same_material(a: Mapping[str, float], b: Mapping[str, float], tolerance: float) -> bool:
    """Whether two surfaces are one material: every common band within ``tolerance`` of the darker.

    Relative to the darker of the two (with a floor of 0.02, so the darkest bands' noise is not
    read as a difference); bands missing or not finite in either are not compared, and two
    surfaces with no band in common are not the same.

    Examples
    --------
    >>> same_material({"B04": 0.20, "B08": 0.25}, {"B04": 0.22, "B08": 0.26}, 0.2)
    True
    >>> same_material({"B04": 0.20, "B08": 0.25}, {"B04": 0.10, "B08": 0.26}, 0.2)
    False
    """
    common = [k for k in a if k in b and np.isfinite(a[k]) and np.isfinite(b[k])]
    if not common:
        return False
    x = np.array([a[k] for k in common], np.float64)
    y = np.array([b[k] for k in common], np.float64)
    return bool(np.all(np.abs(x - y) <= tolerance * np.maximum(np.minimum(x, y), 0.02)))


def staged_pairs(
    sections: Sequence[Section], labels: np.ndarray, *, max_days: int, tolerance: float
) -> list[tuple[int, int]]:
    """The pairs of pads that may be sections of one build, nearest in time first.

    Parameters
    ----------
    sections : sequence of Section
        The pads.
    labels : numpy.ndarray
        ``(Y, X)`` int label raster holding every section's label.
    max_days : int
        Longest gap between the first dates of two sections of one build.
    tolerance : float
        Of :func:`same_material`, between their surfaces at the end of the series.

    Returns
    -------
    list of tuple of int
        Index pairs ``(i, j)`` into ``sections``, ``i < j``: the two touch (side or corner),
        were first seen at most ``max_days`` apart and are one material.
    """
    out: list[tuple[int, int, int]] = []
    index = {s.label: i for i, s in enumerate(sections)}
    for i, s in enumerate(sections):
        grown = ndimage.binary_dilation(labels == s.label, structure=np.ones((3, 3), bool))
        for lab in np.unique(labels[grown]):
            j = index.get(int(lab), -1)
            if j <= i:
                continue
            gap = abs(sections[j].day - s.day)
            if gap <= max_days and same_material(s.after, sections[j].after, tolerance):
                out.append((gap, i, j))
    return [(i, j) for _, i, j in sorted(out)]
